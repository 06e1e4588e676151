/* model.c - models: parameters, fitted arrays, and the model file (aiops-model(5)). */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "model.h"
#include "parse.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

double
aiops_param(const struct aiops_params *p, const char *name, double def)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->v[i];
	return def;
}

int
aiops_param_has(const struct aiops_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return 1;
	return 0;
}

int
aiops_param_whole(const struct aiops_params *p, const char *family, const char *name,
    double def, double lo, double hi, const char *what, double *out, struct aiops_error *e)
{
	double v = aiops_param(p, name, def);

	if (!(v >= lo && v <= hi) || v != floor(v))
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: %s=%g must be a whole number%s from %.0f to %.0f",
		    family, name, v, what, lo, hi);
	*out = v;
	return AIOPS_OK;
}

int
aiops_param_set(struct aiops_params *p, const char *name, double v)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0) {
			p->v[i] = v;
			return AIOPS_OK;
		}
	if (p->n == AIOPS_MAX_PARAMS || strlen(name) >= sizeof(p->name[0]))
		return AIOPS_ERR_LIMIT;
	snprintf(p->name[p->n], sizeof(p->name[0]), "%s", name);
	p->v[p->n++] = v;
	return AIOPS_OK;
}

int
aiops_params_format(const struct aiops_params *p, char *out, size_t outsz)
{
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n && k < outsz; i++) {
		char v[40];

		/* the shortest text that reads back as the same number: 0.3, not 0.2999... */
		aiops_format_double(p->v[i], 0, v, sizeof(v));
		k += (size_t)snprintf(out + k, outsz - k, "%s%s=%s", i ? "," : "", p->name[i], v);
	}
	return (int)(k < outsz ? k : outsz - 1);
}

int
aiops_model_init(struct aiops_model *m, const struct aiops_family *f,
    const struct aiops_params *p, char *const *names, size_t d)
{
	memset(m, 0, sizeof(*m));
	m->family = f;
	if (p)
		m->params = *p;
	m->threshold = INFINITY;
	m->ncols = d;
	if ((m->meta = json_object()) == NULL ||
	    (m->names = aiops_calloc(d ? d : 1, sizeof(char *))) == NULL)
		goto fail;
	for (size_t j = 0; j < d; j++)
		if ((m->names[j] = aiops_strdup(names[j])) == NULL)
			goto fail;
	return AIOPS_OK;
fail:
	aiops_model_release(m);
	return AIOPS_ERR_NOMEM;
}

void
aiops_model_release(struct aiops_model *m)
{
	if (m->names)
		for (size_t j = 0; j < m->ncols; j++)
			aiops_free(m->names[j]);
	aiops_free(m->names);
	for (size_t i = 0; i < m->narr; i++) {
		aiops_free(m->arr[i].name);
		aiops_free(m->arr[i].v);
	}
	aiops_free(m->arr);
	json_decref(m->meta);
	memset(m, 0, sizeof(*m));
}

int
aiops_model_put(struct aiops_model *m, const char *name, size_t rows, size_t cols,
    const double *v)
{
	struct aiops_array *a = NULL;
	double *copy;

	if (cols != 0 && rows > SIZE_MAX / sizeof(double) / cols)
		return AIOPS_ERR_NOMEM;
	if ((copy = aiops_malloc(rows * cols * sizeof(double))) == NULL)
		return AIOPS_ERR_NOMEM;
	if (rows != 0 && cols != 0)
		memcpy(copy, v, rows * cols * sizeof(double));
	for (size_t i = 0; i < m->narr; i++)
		if (strcmp(m->arr[i].name, name) == 0)
			a = &m->arr[i];
	if (a == NULL) {
		struct aiops_array *na = aiops_reallocarray(m->arr, m->narr + 1, sizeof(*na));
		char *nm = aiops_strdup(name);
		if (na == NULL || nm == NULL) {
			if (na)
				m->arr = na;
			aiops_free(nm);
			aiops_free(copy);
			return AIOPS_ERR_NOMEM;
		}
		m->arr = na;
		a = &m->arr[m->narr++];
		a->name = nm;
		a->v = NULL;
	}
	aiops_free(a->v);
	a->v = copy;
	a->rows = rows;
	a->cols = cols;
	return AIOPS_OK;
}

const struct aiops_array *
aiops_model_get(const struct aiops_model *m, const char *name)
{
	for (size_t i = 0; i < m->narr; i++)
		if (strcmp(m->arr[i].name, name) == 0)
			return &m->arr[i];
	return NULL;
}

int
aiops_model_fit(struct aiops_model *m, const double *x, size_t n, struct aiops_error *e)
{
	const struct aiops_family *f = m->family;
	size_t need = f->min_rows(&m->params, m->ncols);
	double w = aiops_param(&m->params, "smooth", 1);

	if (!(w >= 1 && w <= 1000000 && w == floor(w)))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "smooth=%g: expected a whole number of rows from 1 to 1000000", w);

	if (n < need)
		return aiops_error_set(e, AIOPS_ERR_DATA, "%s needs at least %zu rows, got %zu",
		    f->name, need, n);
	return f->fit(m, x, n, m->ncols, e);
}

int
aiops_model_score(const struct aiops_model *m, const double *x, size_t n, double *out,
    double *contrib, struct aiops_error *e)
{
	int r = m->family->score(m, x, n, m->ncols, out, contrib, e);

	return r != AIOPS_OK ? r : aiops_model_smooth(m, out, n, e);
}

int
aiops_model_smooth(const struct aiops_model *m, double *out, size_t n, struct aiops_error *e)
{
	double w = aiops_param(&m->params, "smooth", 1), sum = 0;
	size_t k, cnt = 0;

	if (w <= 1)
		return AIOPS_OK;
	/* a loaded model's parameters are a file's: (size_t)w must be defined */
	if (!(w <= 1e6))
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "smooth=%g: expected a whole number of rows from 1 to 1000000", w);
	/*
	 * smooth=w: each score becomes the mean of the last w raw scores (fewer
	 * at the start; NaN ones left out). Anomalies are segments, and a
	 * short trailing mean steadies a score without looking ahead.
	 */
	k = (size_t)w;
	{
		double *raw = aiops_malloc((n ? n : 1) * sizeof(double));
		if (raw == NULL)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		memcpy(raw, out, n * sizeof(double));
		for (size_t i = 0; i < n; i++) {
			if (!isnan(raw[i])) {
				sum += raw[i];
				cnt++;
			}
			if (i >= k && !isnan(raw[i - k])) {
				sum -= raw[i - k];
				cnt--;
			}
			out[i] = cnt ? sum / (double)cnt : NAN;
		}
		aiops_free(raw);
	}
	return AIOPS_OK;
}

/* ---- the file ------------------------------------------------------------
 * magic(8) u16 version, u16 0, u32 meta_len, u32 narrays,
 * meta JSON, narrays x { u16 name_len, name, u64 rows, u64 cols, f64[rows*cols] },
 * "END\0", u32 CRC-32 of every byte before it.
 */

static json_t *
model_json(const struct aiops_model *m)
{
	json_t *o = json_deep_copy(m->meta), *p = json_object(), *c = json_array();

	if (!o || !p || !c)
		goto fail;
	for (size_t i = 0; i < m->params.n; i++)
		if (json_object_set_new(p, m->params.name[i], json_real(m->params.v[i])))
			goto fail;
	for (size_t j = 0; j < m->ncols; j++)
		if (json_array_append_new(c, json_string(m->names[j])))
			goto fail;
	{
		/* json_object_set_new() takes its value even when it fails: call all four */
		int bad = json_object_set_new(o, "family", json_string(m->family->name));
		bad |= json_object_set_new(o, "kind", json_string(m->family->kind));
		bad |= json_object_set_new(o, "params", p);
		bad |= json_object_set_new(o, "columns", c);
		p = c = NULL;
		if (bad)
			goto fail;
	}
	if (isfinite(m->threshold) &&
	    json_object_set_new(o, "threshold_value", json_real(m->threshold)))
		goto fail;
	return o;
fail:
	json_decref(o);
	json_decref(p);
	json_decref(c);
	return NULL;
}

int
aiops_model_write(const struct aiops_model *m, struct aiops_out *out, struct aiops_error *e)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	unsigned char h[20], t[8];
	json_t *o = model_json(m);
	char *js = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	uint32_t crc;
	int r = AIOPS_OK;

	json_decref(o);
	if (js == NULL)
		return nomem(e);
	memcpy(h, AIOPS_MODEL_MAGIC, 8);
	aiops_put_u16(h + 8, AIOPS_MODEL_VERSION);
	aiops_put_u16(h + 10, 0);
	aiops_put_u32(h + 12, (uint32_t)strlen(js));
	aiops_put_u32(h + 16, (uint32_t)m->narr);
	r |= aiops_buf_add(&b, h, 20);
	r |= aiops_buf_addstr(&b, js);
	aiops_free(js);
	for (size_t i = 0; i < m->narr && r == AIOPS_OK; i++) {
		const struct aiops_array *a = &m->arr[i];
		unsigned char s[18];
		size_t nl = strlen(a->name);
		aiops_put_u16(s, (uint16_t)nl);
		r |= aiops_buf_add(&b, s, 2);
		r |= aiops_buf_add(&b, a->name, nl);
		aiops_put_u64(s, a->rows);
		aiops_put_u64(s + 8, a->cols);
		r |= aiops_buf_add(&b, s, 16);
		for (size_t k = 0; k < a->rows * a->cols && r == AIOPS_OK; k++) {
			uint64_t u;
			unsigned char d8[8];
			memcpy(&u, &a->v[k], 8);
			aiops_put_u64(d8, u);
			r |= aiops_buf_add(&b, d8, 8);
		}
	}
	if (r != AIOPS_OK) {
		aiops_buf_release(&b);
		return nomem(e);
	}
	memcpy(t, "END\0", 4);
	crc = (uint32_t)crc32(0, (const Bytef *)b.buf, (uInt)b.len);
	crc = (uint32_t)crc32(crc, t, 4);
	aiops_put_u32(t + 4, crc);
	r = aiops_out_write(out, b.buf, b.len, e);
	aiops_buf_release(&b);
	if (r == AIOPS_OK)
		r = aiops_out_write(out, t, 8, e);
	return r;
}

static int
parse_model(struct aiops_model *m, const unsigned char *p, size_t n, const char *path,
    struct aiops_error *e)
{
	const unsigned char *q, *end = p + n;
	uint32_t narr;
	json_t *o = NULL, *cols, *params, *k;
	const struct aiops_family *f;
	const char *fam, *key;
	int r;

	if ((r = aiops_model_frame(p, n, path, &o, &narr, &q, e)) != AIOPS_OK)
		return r;
	fam = json_string_value(json_object_get(o, "family"));
	if (fam == NULL || (f = aiops_family_find(fam)) == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: unknown model family \"%s\"", path,
		    fam ? fam : "");
		goto out;
	}
	cols = json_object_get(o, "columns");
	params = json_object_get(o, "params");
	if (!json_is_array(cols) || json_array_size(cols) == 0 || !json_is_object(params)) {
		r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: metadata lacks columns or params", path);
		goto out;
	}
	{
		size_t d = json_array_size(cols);
		char **names = aiops_calloc(d, sizeof(char *));
		struct aiops_params pr = { 0 };
		if (names == NULL) {
			r = nomem(e);
			goto out;
		}
		for (size_t j = 0; j < d; j++)
			names[j] = (char *)json_string_value(json_array_get(cols, j));
		json_object_foreach(params, key, k)
			aiops_param_set(&pr, key, json_number_value(k));
		for (size_t j = 0; j < d; j++)
			if (names[j] == NULL) {
				aiops_free(names);
				r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: column %zu has no name", path, j + 1);
				goto out;
			}
		r = aiops_model_init(m, f, &pr, names, d);
		aiops_free(names);
		if (r != AIOPS_OK) {
			r = nomem(e);
			goto out;
		}
	}
	if (json_is_number(json_object_get(o, "threshold_value")))
		m->threshold = json_number_value(json_object_get(o, "threshold_value"));
	json_object_del(o, "family");
	json_object_del(o, "kind");
	json_object_del(o, "params");
	json_object_del(o, "columns");
	json_object_del(o, "threshold_value");
	json_decref(m->meta);
	m->meta = o;
	o = NULL;
	for (uint32_t i = 0; i < narr; i++) {
		uint16_t nl;
		uint64_t rows, ncl;
		char name[65536];
		double *v;
		if ((size_t)(end - 8 - q) < 2 || (nl = aiops_get_u16(q), (size_t)(end - 8 - q) < 18u + nl)) {
			r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: array %u truncated", path, i + 1);
			goto out;
		}
		memcpy(name, q + 2, nl);
		name[nl] = '\0';
		q += 2 + nl;
		rows = aiops_get_u64(q);
		ncl = aiops_get_u64(q + 8);
		q += 16;
		if (ncl != 0 && rows > (uint64_t)(end - 8 - q) / 8 / ncl) {
			r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: array \"%s\" truncated", path, name);
			goto out;
		}
		if ((v = aiops_malloc(rows * ncl * 8 + 8)) == NULL) {
			r = nomem(e);
			goto out;
		}
		for (uint64_t j = 0; j < rows * ncl; j++) {
			uint64_t u = aiops_get_u64(q + 8 * j);
			memcpy(&v[j], &u, 8);
		}
		q += rows * ncl * 8;
		r = aiops_model_put(m, name, rows, ncl, v);
		aiops_free(v);
		if (r != AIOPS_OK) {
			r = nomem(e);
			goto out;
		}
	}
	if (q != end - 8) {
		r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: unexpected bytes before the end marker", path);
		goto out;
	}
	r = AIOPS_OK;
out:
	json_decref(o);
	if (r != AIOPS_OK && m->family)
		aiops_model_release(m);
	return r;
}

int
aiops_model_load(struct aiops_model *m, const char *path, struct aiops_error *e)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = aiops_model_read_file(path, &b, e)) != AIOPS_OK)
		return r;
	r = parse_model(m, (const unsigned char *)(b.buf ? b.buf : ""), b.len, path, e);
	aiops_buf_release(&b);
	return r;
}
