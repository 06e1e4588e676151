/* series.c - alignment, aggregation, gap filling, interval labels and scalers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

static const char *agg_names[] = { "mean", "last", "min", "max", "sum", "count", NULL };
static const char *fill_names[] = { "nan", "ffill", "linear", "zero", NULL };
static const char *scale_names[] = { "none", "zscore", "robust", "minmax", NULL };

static int
lookup(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int aiops_agg_parse(const char *s) { return lookup(agg_names, s); }
const char *aiops_agg_name(int a) { return a >= 0 && a <= AIOPS_AGG_COUNT ? agg_names[a] : "?"; }
int aiops_fill_parse(const char *s) { return lookup(fill_names, s); }
const char *aiops_fill_name(int f) { return f >= 0 && f <= AIOPS_FILL_ZERO ? fill_names[f] : "?"; }
int aiops_scale_parse(const char *s) { return lookup(scale_names, s); }
const char *aiops_scale_name(int k) { return k >= 0 && k <= AIOPS_SCALE_MINMAX ? scale_names[k] : "?"; }

/* ---- aligner ------------------------------------------------------------ */

int
aiops_aligner_init(struct aiops_aligner *a, size_t ncols, int has_ts, int64_t step_ms,
    int agg, struct aiops_sink *next, struct aiops_error *e)
{
	memset(a, 0, sizeof(*a));
	a->next = next;
	a->ncols = ncols;
	a->has_ts = has_ts;
	a->step = step_ms;
	a->agg = agg;
	a->label = -1;
	a->acc = aiops_calloc(ncols, sizeof(double));
	a->out = aiops_calloc(ncols, sizeof(double));
	a->n = aiops_calloc(ncols, sizeof(int64_t));
	if (a->acc == NULL || a->out == NULL || a->n == NULL) {
		aiops_aligner_release(a);
		return nomem(e);
	}
	return AIOPS_OK;
}

static int
emit(struct aiops_aligner *a, int64_t ts, int empty, struct aiops_error *e)
{
	for (size_t j = 0; j < a->ncols; j++) {
		int64_t n = empty ? 0 : a->n[j];
		double v;

		if (a->agg == AIOPS_AGG_COUNT)
			v = (double)n;
		else if (n == 0)
			v = NAN;
		else if (a->agg == AIOPS_AGG_MEAN)
			v = a->acc[j] / (double)n;
		else
			v = a->acc[j];
		a->out[j] = v;
	}
	a->emitted++;
	return a->next->row(a->next, ts, a->out, empty ? -1 : a->label, e);
}

static void
reset(struct aiops_aligner *a)
{
	memset(a->n, 0, a->ncols * sizeof(int64_t));
	a->label = -1;
}

static int64_t
bucket(const struct aiops_aligner *a, int64_t ts)
{
	int64_t q;

	if (a->step <= 0)
		return ts;
	ts -= a->origin;
	q = ts / a->step;
	if (ts % a->step != 0 && ts < 0)
		q--;
	return a->origin + q * a->step;
}

int
aiops_aligner_begin(struct aiops_aligner *a, int64_t ts, struct aiops_error *e)
{
	int64_t b = bucket(a, ts);
	int r;

	if (!a->has_ts || !a->open) {
		a->cur = b;
		a->open = 1;
		reset(a);
		return AIOPS_OK;
	}
	if (b == a->cur)
		return AIOPS_OK;
	if (b < a->cur)
		return aiops_error_set(e, AIOPS_ERR_DATA, "timestamp out of order");
	if (a->step > 0 && (b - a->cur) / a->step - 1 > AIOPS_MAX_GAP_BUCKETS)
		return aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "gap of %lld steps before this row; is --step right?",
		    (long long)((b - a->cur) / a->step - 1));
	if ((r = emit(a, a->cur, 0, e)) != AIOPS_OK)
		return r;
	if (a->step > 0)
		for (int64_t t = a->cur + a->step; t < b; t += a->step)
			if ((r = emit(a, t, 1, e)) != AIOPS_OK)
				return r;
	a->cur = b;
	reset(a);
	return AIOPS_OK;
}

int
aiops_aligner_end(struct aiops_aligner *a, int label, struct aiops_error *e)
{
	if (label > a->label)
		a->label = label;
	if (!a->has_ts) {
		a->open = 0;
		return emit(a, 0, 0, e);
	}
	return AIOPS_OK;
}

int
aiops_aligner_flush(struct aiops_aligner *a, struct aiops_error *e)
{
	if (!a->open)
		return AIOPS_OK;
	a->open = 0;
	return emit(a, a->cur, 0, e);
}

void
aiops_aligner_release(struct aiops_aligner *a)
{
	aiops_free(a->acc);
	aiops_free(a->out);
	aiops_free(a->n);
	a->acc = a->out = NULL;
	a->n = NULL;
}

/* ---- gap filler --------------------------------------------------------- */

struct filler {
	struct aiops_sink sink;
	struct aiops_sink *next;
	size_t ncols;
	int policy;
	long max_gap;
	/* queued rows: absolute numbers base .. base+qn-1 at q index qh.. */
	double *qv;
	int64_t *qts;
	int *qlab;
	size_t qh, qn, qcap;
	int64_t base;
	double *last;       /* last valid value per column */
	int64_t *last_at;   /* its row number, -1 none */
	int64_t *run;       /* first row of the open missing run, -1 none */
};

static double *
qrow(struct filler *f, int64_t k)
{
	return f->qv + (f->qh + (size_t)(k - f->base)) * f->ncols;
}

static void
fill_run(struct filler *f, size_t j, int64_t from, int64_t to, int have_right, double right)
{
	for (int64_t i = from; i < to; i++) {
		double *c = &qrow(f, i)[j];
		switch (f->policy) {
		case AIOPS_FILL_FFILL:
			if (f->last_at[j] >= 0)
				*c = f->last[j];
			break;
		case AIOPS_FILL_LINEAR:
			if (f->last_at[j] >= 0 && have_right)
				*c = f->last[j] + (right - f->last[j]) *
				    (double)(i - f->last_at[j]) / (double)(to - f->last_at[j]);
			break;
		case AIOPS_FILL_ZERO:
			*c = 0;
			break;
		}
	}
}

static int
filler_emit_ready(struct filler *f, int all, struct aiops_error *e)
{
	int64_t newest = f->base + (int64_t)f->qn - 1;

	while (f->qn > 0) {
		if (!all && f->policy != AIOPS_FILL_NAN) {
			int wait = 0;
			for (size_t j = 0; j < f->ncols && !wait; j++) {
				int64_t r = f->run[j];
				if (r >= 0 && r <= f->base &&
				    (f->max_gap == 0 || newest - r + 1 <= f->max_gap))
					wait = 1;
			}
			if (wait)
				break;
		}
		{
			int r = f->next->row(f->next, f->qts[f->qh], qrow(f, f->base),
			    f->qlab[f->qh], e);
			if (r != AIOPS_OK)
				return r;
		}
		f->qh++;
		f->qn--;
		f->base++;
	}
	if (f->qn == 0)
		f->qh = 0;
	return AIOPS_OK;
}

static int
filler_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct filler *f = (struct filler *)s;
	int64_t k;

	if (f->qh + f->qn == f->qcap) {
		if (f->qh > 0) {
			memmove(f->qv, f->qv + f->qh * f->ncols, f->qn * f->ncols * sizeof(double));
			memmove(f->qts, f->qts + f->qh, f->qn * sizeof(int64_t));
			memmove(f->qlab, f->qlab + f->qh, f->qn * sizeof(int));
			f->qh = 0;
		} else {
			size_t n = f->qcap * 2;
			double *qv = aiops_reallocarray(f->qv, n, f->ncols * sizeof(double));
			int64_t *qts;
			int *ql;
			if (qv == NULL)
				return nomem(e);
			f->qv = qv;
			if ((qts = aiops_reallocarray(f->qts, n, sizeof(int64_t))) == NULL)
				return nomem(e);
			f->qts = qts;
			if ((ql = aiops_reallocarray(f->qlab, n, sizeof(int))) == NULL)
				return nomem(e);
			f->qlab = ql;
			f->qcap = n;
		}
	}
	k = f->base + (int64_t)f->qn;
	f->qn++;
	memcpy(qrow(f, k), v, f->ncols * sizeof(double));
	f->qts[f->qh + f->qn - 1] = ts;
	f->qlab[f->qh + f->qn - 1] = label;
	for (size_t j = 0; j < f->ncols; j++) {
		if (isnan(v[j])) {
			if (f->run[j] < 0)
				f->run[j] = k;
			continue;
		}
		if (f->run[j] >= 0) {
			int64_t len = k - f->run[j];
			if (f->policy != AIOPS_FILL_NAN && (f->max_gap == 0 || len <= f->max_gap) &&
			    f->run[j] >= f->base)
				fill_run(f, j, f->run[j], k, 1, v[j]);
			f->run[j] = -1;
		}
		f->last[j] = v[j];
		f->last_at[j] = k;
	}
	return filler_emit_ready(f, 0, e);
}

static int
filler_finish(struct aiops_sink *s, struct aiops_error *e)
{
	struct filler *f = (struct filler *)s;
	int64_t end = f->base + (int64_t)f->qn;
	int r;

	for (size_t j = 0; j < f->ncols; j++) {
		int64_t st = f->run[j];
		if (st < 0 || st < f->base || f->policy == AIOPS_FILL_LINEAR)
			continue;
		if (f->max_gap == 0 || end - st <= f->max_gap)
			fill_run(f, j, st, end, 0, 0);
	}
	if ((r = filler_emit_ready(f, 1, e)) != AIOPS_OK)
		return r;
	return f->next->finish(f->next, e);
}

static void
filler_free(struct aiops_sink *s)
{
	struct filler *f = (struct filler *)s;

	if (f == NULL)
		return;
	aiops_free(f->qv);
	aiops_free(f->qts);
	aiops_free(f->qlab);
	aiops_free(f->last);
	aiops_free(f->last_at);
	aiops_free(f->run);
	aiops_free(f);
}

int
aiops_sink_filler(struct aiops_sink **sp, size_t ncols, int policy, long max_gap,
    struct aiops_sink *next, struct aiops_error *e)
{
	struct filler *f = aiops_calloc(1, sizeof(*f));

	*sp = NULL;
	if (f == NULL)
		return nomem(e);
	f->sink.row = filler_row;
	f->sink.finish = filler_finish;
	f->sink.free = filler_free;
	f->next = next;
	f->ncols = ncols;
	f->policy = policy;
	f->max_gap = max_gap;
	f->qcap = 64;
	f->qv = aiops_calloc(f->qcap * ncols, sizeof(double));
	f->qts = aiops_calloc(f->qcap, sizeof(int64_t));
	f->qlab = aiops_calloc(f->qcap, sizeof(int));
	f->last = aiops_calloc(ncols, sizeof(double));
	f->last_at = aiops_calloc(ncols, sizeof(int64_t));
	f->run = aiops_calloc(ncols, sizeof(int64_t));
	if (!f->qv || !f->qts || !f->qlab || !f->last || !f->last_at || !f->run) {
		filler_free(&f->sink);
		return nomem(e);
	}
	for (size_t j = 0; j < ncols; j++)
		f->last_at[j] = f->run[j] = -1;
	*sp = &f->sink;
	return AIOPS_OK;
}

/* ---- interval labels ---------------------------------------------------- */

static int
cmp_iv(const void *a, const void *b)
{
	const struct aiops_interval *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

int
aiops_ivset_init(struct aiops_ivset *s, const struct aiops_interval *iv, size_t n)
{
	s->n = n;
	s->iv = aiops_calloc(n ? n : 1, sizeof(*iv));
	s->maxhi = aiops_calloc(n ? n : 1, sizeof(int64_t));
	if (s->iv == NULL || s->maxhi == NULL) {
		aiops_ivset_release(s);
		return AIOPS_ERR_NOMEM;
	}
	if (n) {
		memcpy(s->iv, iv, n * sizeof(*iv));
		qsort(s->iv, n, sizeof(*iv), cmp_iv);
	}
	for (size_t i = 0; i < n; i++)
		s->maxhi[i] = i == 0 || s->iv[i].hi > s->maxhi[i - 1] ? s->iv[i].hi : s->maxhi[i - 1];
	return AIOPS_OK;
}

int
aiops_ivset_contains(const struct aiops_ivset *s, int64_t t, int hi_incl)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {   /* first interval with lo > t */
		size_t mid = lo + (hi - lo) / 2;
		if (s->iv[mid].lo <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	return hi_incl ? s->maxhi[lo - 1] >= t : s->maxhi[lo - 1] > t;
}

void
aiops_ivset_release(struct aiops_ivset *s)
{
	aiops_free(s->iv);
	aiops_free(s->maxhi);
	s->iv = NULL;
	s->maxhi = NULL;
	s->n = 0;
}

struct ivsink {
	struct aiops_sink sink;
	struct aiops_sink *next;
	struct aiops_ivset set;
	int by_time;
	int64_t rowno;
};

static int
iv_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct ivsink *k = (struct ivsink *)s;
	int in = aiops_ivset_contains(&k->set, k->by_time ? ts : k->rowno, k->by_time);

	k->rowno++;
	return k->next->row(k->next, ts, v, (label == 1 || in) ? 1 : 0, e);
}

static int
iv_finish(struct aiops_sink *s, struct aiops_error *e)
{
	struct ivsink *k = (struct ivsink *)s;

	return k->next->finish(k->next, e);
}

static void
iv_free(struct aiops_sink *s)
{
	struct ivsink *k = (struct ivsink *)s;

	if (k == NULL)
		return;
	aiops_ivset_release(&k->set);
	aiops_free(k);
}

int
aiops_sink_intervals(struct aiops_sink **sp, const struct aiops_interval *iv, size_t n,
    int by_time, struct aiops_sink *next, struct aiops_error *e)
{
	struct ivsink *k = aiops_calloc(1, sizeof(*k));

	*sp = NULL;
	if (k == NULL || aiops_ivset_init(&k->set, iv, n) != AIOPS_OK) {
		aiops_free(k);
		return nomem(e);
	}
	k->sink.row = iv_row;
	k->sink.finish = iv_finish;
	k->sink.free = iv_free;
	k->next = next;
	k->by_time = by_time;
	*sp = &k->sink;
	return AIOPS_OK;
}

/* ---- scalers ------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
quantile_sorted(const double *v, size_t n, double q)
{
	double h = (double)(n - 1) * q, fl = floor(h);
	size_t i = (size_t)fl;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - fl) * (v[i + 1] - v[i]);
}

int
aiops_scaler_fit(const struct aiops_tensor *t, size_t nrows, int kind, double *center,
    double *scale, struct aiops_error *e)
{
	size_t nc = t->info.ncols;
	double *tmp = NULL;

	if (kind == AIOPS_SCALE_ROBUST && (tmp = aiops_calloc(nrows ? nrows : 1, sizeof(double))) == NULL)
		return nomem(e);
	for (size_t j = 0; j < nc; j++) {
		double c = 0, s = 1, lo = INFINITY, hi = -INFINITY, sum = 0, ss = 0;
		size_t m = 0;

		for (size_t i = 0; i < nrows; i++) {
			double v = t->x[i * nc + j];
			if (!isfinite(v))
				continue;
			if (kind == AIOPS_SCALE_ROBUST)
				tmp[m] = v;
			sum += v;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			m++;
		}
		if (m > 0) {
			switch (kind) {
			case AIOPS_SCALE_ZSCORE:
				c = sum / (double)m;
				for (size_t i = 0; i < nrows; i++) {
					double v = t->x[i * nc + j];
					if (isfinite(v))
						ss += (v - c) * (v - c);
				}
				s = sqrt(ss / (double)m);
				break;
			case AIOPS_SCALE_ROBUST:
				qsort(tmp, m, sizeof(double), cmp_double);
				c = quantile_sorted(tmp, m, 0.5);
				s = quantile_sorted(tmp, m, 0.75) - quantile_sorted(tmp, m, 0.25);
				break;
			case AIOPS_SCALE_MINMAX:
				c = lo;
				s = hi - lo;
				break;
			default:
				c = 0;
				s = 1;
			}
		}
		if (!(s > 0) || !isfinite(s))
			s = 1;
		center[j] = c;
		scale[j] = s;
	}
	aiops_free(tmp);
	return AIOPS_OK;
}

void
aiops_scaler_apply(struct aiops_tensor *t, const double *center, const double *scale)
{
	size_t nc = t->info.ncols;

	for (size_t i = 0; i < t->nrows; i++)
		for (size_t j = 0; j < nc; j++)
			t->x[i * nc + j] = (t->x[i * nc + j] - center[j]) / scale[j];
}

int
aiops_scaler_to_meta(json_t *meta, int kind, const double *center, const double *scale,
    char *const *names, size_t ncols)
{
	json_t *o = json_object(), *c = json_array(), *s = json_array(), *n = json_array();

	if (!o || !c || !s || !n)
		goto fail;
	for (size_t j = 0; j < ncols; j++)
		if (json_array_append_new(c, json_real(center[j])) ||
		    json_array_append_new(s, json_real(scale[j])) ||
		    json_array_append_new(n, json_string(names[j])))
			goto fail;
	{
		/* json_object_set_new() takes its value even when it fails: call all four */
		int bad = json_object_set_new(o, "kind", json_string(aiops_scale_name(kind)));
		bad |= json_object_set_new(o, "columns", n);
		bad |= json_object_set_new(o, "center", c);
		bad |= json_object_set_new(o, "scale", s);
		n = c = s = NULL;
		if (bad)
			goto fail;
	}
	return json_object_set_new(meta, "scaler", o) ? AIOPS_ERR_NOMEM : AIOPS_OK;
fail:
	json_decref(o);
	json_decref(c);
	json_decref(s);
	json_decref(n);
	return AIOPS_ERR_NOMEM;
}

int
aiops_scaler_from_meta(const struct aiops_tensor_info *ti, char *const *names, size_t n,
    int *kind, double *center, double *scale, struct aiops_error *e)
{
	json_t *sc = json_object_get(ti->meta, "scaler");
	json_t *cols, *c, *s;
	size_t m;

	if (!json_is_object(sc))
		return aiops_error_set(e, AIOPS_ERR_NOTFOUND, "has no fitted scaler");
	*kind = aiops_scale_parse(json_string_value(json_object_get(sc, "kind")) ?
	    json_string_value(json_object_get(sc, "kind")) : "");
	cols = json_object_get(sc, "columns");
	c = json_object_get(sc, "center");
	s = json_object_get(sc, "scale");
	if (*kind < 0 || !json_is_array(c) || !json_is_array(s) ||
	    json_array_size(c) != json_array_size(s))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "scaler metadata is malformed");
	m = json_array_size(c);
	for (size_t j = 0; j < n; j++) {
		size_t k = m;
		if (json_is_array(cols)) {
			for (k = 0; k < json_array_size(cols); k++) {
				const char *nm = json_string_value(json_array_get(cols, k));
				if (nm && strcmp(nm, names[j]) == 0)
					break;
			}
		} else if (j < m) {
			k = j;
		}
		if (k >= m)
			return aiops_error_set(e, AIOPS_ERR_NOTFOUND,
			    "scaler has no column \"%s\"", names[j]);
		center[j] = json_number_value(json_array_get(c, k));
		scale[j] = json_number_value(json_array_get(s, k));
		if (!(scale[j] > 0) || !isfinite(scale[j]) || !isfinite(center[j]))
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "scaler for column \"%s\" is not finite and positive", names[j]);
	}
	return AIOPS_OK;
}

/* ---- pivot -------------------------------------------------------------- */

int
aiops_pivot_init(struct aiops_pivot *p)
{
	memset(p, 0, sizeof(*p));
	return (p->dict = json_object()) ? AIOPS_OK : AIOPS_ERR_NOMEM;
}

int
aiops_pivot_add(struct aiops_pivot *p, const char *name, int64_t ts, double v)
{
	json_t *ix = json_object_get(p->dict, name);
	size_t col;

	if (ix != NULL) {
		col = (size_t)json_integer_value(ix);
	} else {
		if (p->ncols >= AIOPS_TENSOR_MAX_COLS)
			return AIOPS_ERR_LIMIT;
		if (p->ncols == p->namecap) {
			size_t n = p->namecap ? p->namecap * 2 : 64;
			char **nn = aiops_reallocarray(p->names, n, sizeof(char *));
			if (nn == NULL)
				return AIOPS_ERR_NOMEM;
			p->names = nn;
			p->namecap = n;
		}
		if ((p->names[p->ncols] = aiops_strdup(name)) == NULL)
			return AIOPS_ERR_NOMEM;
		if (json_object_set_new(p->dict, name, json_integer((json_int_t)p->ncols))) {
			aiops_free(p->names[p->ncols]);
			return AIOPS_ERR_NOMEM;
		}
		col = p->ncols++;
	}
	if (p->n == p->cap) {
		size_t n = p->cap ? p->cap * 2 : 1024;
		struct aiops_sample *ns = aiops_reallocarray(p->s, n, sizeof(*ns));
		if (ns == NULL)
			return AIOPS_ERR_NOMEM;
		p->s = ns;
		p->cap = n;
	}
	p->s[p->n].ts = ts;
	p->s[p->n].seq = p->n;
	p->s[p->n].col = (uint32_t)col;
	p->s[p->n].v = v;
	p->n++;
	return AIOPS_OK;
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct aiops_sample *x = a, *y = b;

	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void
aiops_pivot_sort(struct aiops_pivot *p)
{
	if (p->n > 1)
		qsort(p->s, p->n, sizeof(*p->s), cmp_sample);
}

void
aiops_pivot_release(struct aiops_pivot *p)
{
	for (size_t i = 0; i < p->ncols; i++)
		aiops_free(p->names[i]);
	aiops_free(p->names);
	aiops_free(p->s);
	json_decref(p->dict);
	memset(p, 0, sizeof(*p));
}
