/*
 * ingest.c - the aiops-ingest pipeline: read (wide CSV, long CSV, tensor,
 * Prometheus) -> map columns -> align -> fill gaps -> label -> [buffer:
 * drop constant, split, scale] -> write.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "csv.h"
#include "ingest.h"
#include "logs.h"
#include "model.h"
#include "parse.h"
#include "source.h"
#include "tensor.h"
#include "traces.h"

/*
 * A parsing thread's scratch for the wide CSV fast path: the field ends of
 * a line, and the values and success bits of aiops_parse_fields().
 */
struct fscratch {
	uint32_t *fend;
	double *num;
	uint8_t *ok;
};

static int
fscratch_init(struct fscratch *fs, size_t nf)
{
	if (nf < 1)
		nf = 1;
	fs->fend = aiops_calloc(nf, sizeof(uint32_t));
	fs->num = aiops_calloc(nf, sizeof(double));
	fs->ok = aiops_calloc((nf + 7) / 8, 1);
	return fs->fend && fs->num && fs->ok ? 0 : -1;
}

static void
fscratch_free(struct fscratch *fs)
{
	aiops_free(fs->fend);
	aiops_free(fs->num);
	aiops_free(fs->ok);
	memset(fs, 0, sizeof(*fs));
}

/*
 * With -j 2, wide CSV lines go in batches: a second thread reads the next
 * batch while this one delivers the batch before, then both parse the one
 * between.
 */
#define BATCH_BYTES (1u << 20)
#define BATCH_VALS (1u << 18)       /* values per batch, at most */
struct batch {
	char *text;                 /* the lines, each NUL-terminated */
	size_t len, cap;
	size_t n, max;              /* rows */
	size_t *off;                /* row i at text + off[i] */
	uint32_t *rlen;
	long *line;
	int64_t *ts;
	unsigned char *ok;          /* parsed; 0: the careful way */
	double *vals;               /* n x nout */
	struct fscratch fs;         /* the parsing thread's */
	atomic_size_t next;         /* the first row not yet taken for parsing */
};
#define BATCH_TAKE 64               /* rows taken for parsing at once */

struct run {
	const struct aiops_ingest_opts *o;
	struct aiops_ingest_stats *st;
	struct aiops_error *e;
	int kind;                   /* K_WIDE, K_LONG, K_TENSOR, K_PROM */
	/* input columns */
	size_t nin;
	char **in_names;
	int has_ts, in_labels;
	/* wide CSV layout of the first part */
	size_t nfields;
	char **raw_names;           /* header fields, NULL when headerless */
	long ts_idx, lab_idx;
	size_t *feat_idx;
	int has_header;
	/* column mapping */
	long *map;
	size_t nout;
	char **out_names;
	/* labels */
	unsigned char *rowlab;
	size_t nrowlab;
	int have_rowlab;
	struct aiops_interval *iv;
	size_t niv;
	int have_iv;
	struct aiops_ivset ivset;
	char *labname;
	int64_t prev_ts;            /* order check */
	long prev_line;
	uint64_t prev_row;
	int have_prev;
	/* chain */
	int ready, buffered;
	struct aiops_aligner al;
	struct aiops_sink *filler, *ivs, *affine, *stats, *final;
	struct aiops_sink *head;    /* where the aligner sends rows */
	struct aiops_tensor_info oinfo;
	struct aiops_out out;
	int out_open;
	struct aiops_tensor buf;    /* buffered rows */
	struct aiops_tensor pre;    /* --sort: rows before alignment, label+1 in y */
	double *vals;
	struct fscratch fs;         /* the wide CSV fast path's, on this thread */
	int simd;                   /* aiops_fields_simd(): 0 none */
	int direct;                 /* fields are [timestamp,] then output columns 1:1 */
	struct batch *bat;          /* -j 2: three batches of lines in turn */
	struct aiops_csv cv;        /* -j 2: a batch line taken the careful way */
	struct aiops_helper *parser; /* -j 2: the parsing thread (NULL: none, parse here) */
	double *center, *scale;     /* --scaler-from */
	int scale_kind;
	uint64_t rowidx;
	json_t *inherit;            /* metadata of a tensor input, borrowed */
	int64_t origin;             /* of the --step grid */
	struct aiops_ingest_opts eo;  /* logs, traces, join: o with their defaults */
	struct aiops_logs_out lo;     /* logs: the outputs committed after the tensor */
};

enum { K_WIDE, K_LONG, K_TENSOR, K_PROM, K_EVENTS };

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

void
aiops_ingest_opts_init(struct aiops_ingest_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = -1;
	o->dtype = AIOPS_F64;
	o->header = -1;
	o->agg = -1;
	o->fill = AIOPS_FILL_NAN;
	o->log_sim = 0.5;
	o->log_depth = 4;
}

void
aiops_ingest_stats_release(struct aiops_ingest_stats *st)
{
	aiops_buf_release(&st->constant);
}

int
aiops_format_from_name(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (n >= 4 && strcmp(path + n - 4, ".csv") == 0)
		return AIOPS_FMT_CSV;
	if (n >= 4 && strcmp(path + n - 4, ".npy") == 0)
		return AIOPS_FMT_NPY;
	return AIOPS_FMT_TENSOR;
}

static void
free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		aiops_free(v[i]);
	aiops_free(v);
}

/* ---- stats and affine sinks -------------------------------------------- */

struct stats_sink {
	struct aiops_sink sink;
	struct aiops_sink *next;
	struct run *R;
	size_t nc;
	double *lo, *hi;            /* from +inf and -inf: lo > hi when all were NaN */
};

/* Column j is constant: one value, or none but NaN. */
static int
stats_constant(const struct stats_sink *k, size_t j)
{
	return !(k->lo[j] < k->hi[j]);
}

static int
stats_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct stats_sink *k = (struct stats_sink *)s;
	double *restrict lo = k->lo, *restrict hi = k->hi;
	const double *restrict x = v;
	size_t nc = k->nc, j = 0;

	/* without branches: a NaN moves neither bound (minpd and maxpd give the second) */
#ifdef __SSE2__
	for (; j + 2 <= nc; j += 2) {
		__m128d xv = _mm_loadu_pd(x + j);
		_mm_storeu_pd(lo + j, _mm_min_pd(xv, _mm_loadu_pd(lo + j)));
		_mm_storeu_pd(hi + j, _mm_max_pd(xv, _mm_loadu_pd(hi + j)));
	}
#endif
	for (; j < nc; j++) {
		lo[j] = x[j] < lo[j] ? x[j] : lo[j];
		hi[j] = x[j] > hi[j] ? x[j] : hi[j];
	}
	k->R->st->rows_out++;
	return k->next->row(k->next, ts, v, label, e);
}

static int
stats_finish(struct aiops_sink *s, struct aiops_error *e)
{
	struct stats_sink *k = (struct stats_sink *)s;
	struct aiops_ingest_stats *st = k->R->st;

	aiops_buf_reset(&st->constant);
	st->nconstant = 0;
	for (size_t j = 0; j < k->nc; j++)
		if (stats_constant(k, j)) {
			/* the names for a message: the first 4 KiB of them */
			if (st->constant.len > 4096) {
				st->nconstant++;
				continue;
			}
			if ((st->nconstant++ && aiops_buf_addstr(&st->constant, ", ")) ||
			    aiops_buf_addstr(&st->constant, st->constant.len > 4096 ? "..." :
			    k->R->out_names[j]))
				return nomem(e);
		}
	return k->next->finish(k->next, e);
}

static void
stats_free(struct aiops_sink *s)
{
	struct stats_sink *k = (struct stats_sink *)s;

	if (k == NULL)
		return;
	aiops_free(k->lo);
	aiops_free(k->hi);
	aiops_free(k);
}

static int
stats_new(struct aiops_sink **sp, struct run *R, struct aiops_sink *next)
{
	struct stats_sink *k = aiops_calloc(1, sizeof(*k));

	if (k == NULL)
		return nomem(R->e);
	k->sink.row = stats_row;
	k->sink.finish = stats_finish;
	k->sink.free = stats_free;
	k->next = next;
	k->R = R;
	k->nc = R->nout;
	k->lo = aiops_calloc(R->nout, sizeof(double));
	k->hi = aiops_calloc(R->nout, sizeof(double));
	if (!k->lo || !k->hi) {
		stats_free(&k->sink);
		return nomem(R->e);
	}
	for (size_t j = 0; j < k->nc; j++) {
		k->lo[j] = INFINITY;
		k->hi[j] = -INFINITY;
	}
	*sp = &k->sink;
	return AIOPS_OK;
}

struct affine_sink {
	struct aiops_sink sink;
	struct aiops_sink *next;
	const double *c, *s;
	double *tmp;
	size_t nc;
};

static int
affine_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct affine_sink *k = (struct affine_sink *)s;

	for (size_t j = 0; j < k->nc; j++)
		k->tmp[j] = (v[j] - k->c[j]) / k->s[j];
	return k->next->row(k->next, ts, k->tmp, label, e);
}

static int
affine_finish(struct aiops_sink *s, struct aiops_error *e)
{
	return ((struct affine_sink *)s)->next->finish(((struct affine_sink *)s)->next, e);
}

static void
affine_free(struct aiops_sink *s)
{
	if (s == NULL)
		return;
	aiops_free(((struct affine_sink *)s)->tmp);
	aiops_free(s);
}

static int
affine_new(struct aiops_sink **sp, struct run *R, struct aiops_sink *next)
{
	struct affine_sink *k = aiops_calloc(1, sizeof(*k));

	if (k == NULL || (k->tmp = aiops_calloc(R->nout, sizeof(double))) == NULL) {
		aiops_free(k);
		return nomem(R->e);
	}
	k->sink.row = affine_row;
	k->sink.finish = affine_finish;
	k->sink.free = affine_free;
	k->next = next;
	k->c = R->center;
	k->s = R->scale;
	k->nc = R->nout;
	*sp = &k->sink;
	return AIOPS_OK;
}

/* ---- column mapping ------------------------------------------------------ */

/* Find a column by name or 1-based number among names[0..n). */
static long
find_col(char *const *names, size_t n, const char *want, size_t wlen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == wlen && strncmp(names[i], want, wlen) == 0)
			return (long)i;
	{
		int64_t k;
		if (aiops_parse_i64(want, wlen, &k) == 0 && k >= 1 && (uint64_t)k <= n)
			return (long)(k - 1);
	}
	return -1;
}

static int
col_error(struct run *R, const char *opt, const char *s, size_t n)
{
	return aiops_error_set(R->e, AIOPS_ERR_NOTFOUND, "%s: no column \"%.*s\"", opt, (int)n, s);
}

static int
cmp_name_ref(const void *a, const void *b)
{
	char *const *x = *(char *const *const *)a, *const *y = *(char *const *const *)b;
	int c = strcmp(*x, *y);

	return c ? c : (x > y) - (x < y);
}

/*
 * The first name (by position) that an earlier one already has, or n when
 * they are all distinct; in n log n, for headers of a million columns.
 * *err is set when memory runs out.
 */
static size_t
first_duplicate(char *const *names, size_t n, int *err)
{
	char *const **ref;
	size_t first = n;

	*err = 0;
	if (n < 2)
		return n;
	if ((ref = aiops_calloc(n, sizeof(*ref))) == NULL) {
		*err = 1;
		return n;
	}
	for (size_t i = 0; i < n; i++)
		ref[i] = &names[i];
	qsort(ref, n, sizeof(*ref), cmp_name_ref);
	for (size_t k = 1; k < n; k++)
		if (strcmp(*ref[k - 1], *ref[k]) == 0 && (size_t)(ref[k] - names) < first &&
		    (k < 2 || strcmp(*ref[k - 2], *ref[k]) != 0))
			first = (size_t)(ref[k] - names);
	aiops_free(ref);
	return first;
}

/* Two output columns of one name are an error. */
static int
unique_names(struct run *R)
{
	int err;
	size_t k = first_duplicate(R->out_names, R->nout, &err);

	if (err)
		return nomem(R->e);
	if (k < R->nout)
		return aiops_error_set(R->e, AIOPS_ERR_USAGE, "two output columns are named \"%s\"",
		    R->out_names[k]);
	return AIOPS_OK;
}

static int
setup_mapping(struct run *R)
{
	const struct aiops_ingest_opts *o = R->o;
	const char *p;
	size_t n = R->nin;

	if ((R->map = aiops_calloc(n ? n : 1, sizeof(long))) == NULL)
		return nomem(R->e);
	for (size_t j = 0; j < n; j++)
		R->map[j] = o->select ? -1 : 0;
	if (o->select) {
		size_t k = 0;
		for (p = o->select; *p; ) {
			size_t len = strcspn(p, ",");
			long c = find_col(R->in_names, n, p, len);
			if (c < 0)
				return col_error(R, "--select", p, len);
			if (R->map[c] >= 0)
				return aiops_error_set(R->e, AIOPS_ERR_USAGE,
				    "--select: column \"%s\" named twice", R->in_names[c]);
			R->map[c] = (long)k++;
			p += len + (p[len] == ',');
		}
	}
	if (o->drop)
		for (p = o->drop; *p; ) {
			size_t len = strcspn(p, ",");
			long c = find_col(R->in_names, n, p, len);
			if (c < 0)
				return col_error(R, "--drop", p, len);
			R->map[c] = -2;
			p += len + (p[len] == ',');
		}
	/* number the kept columns: selection order, else input order */
	R->nout = 0;
	if (o->select) {
		long maxk = -1;
		for (size_t j = 0; j < n; j++)
			if (R->map[j] > maxk)
				maxk = R->map[j];
		/* renumber densely, keeping the selection order, after drops */
		for (long k = 0; k <= maxk; k++)
			for (size_t j = 0; j < n; j++)
				if (R->map[j] == k)
					R->map[j] = -1000 - (long)R->nout++;
		for (size_t j = 0; j < n; j++)
			R->map[j] = R->map[j] <= -1000 ? -(R->map[j] + 1000) : -1;
	} else {
		for (size_t j = 0; j < n; j++)
			R->map[j] = R->map[j] == 0 ? (long)R->nout++ : -1;
	}
	if (R->nout == 0)
		return aiops_error_set(R->e, AIOPS_ERR_USAGE, "no columns left to write");
	if ((R->out_names = aiops_calloc(R->nout, sizeof(char *))) == NULL)
		return nomem(R->e);
	for (size_t j = 0; j < n; j++)
		if (R->map[j] >= 0 && (R->out_names[R->map[j]] = aiops_strdup(R->in_names[j])) == NULL)
			return nomem(R->e);
	if (o->rename)
		for (p = o->rename; *p; ) {
			size_t len = strcspn(p, ","), ol;
			const char *eq = memchr(p, '=', len);
			long c;
			if (eq == NULL || eq == p || eq == p + len - 1)
				return aiops_error_set(R->e, AIOPS_ERR_USAGE,
				    "--rename: expected old=new, got \"%.*s\"", (int)len, p);
			ol = (size_t)(eq - p);
			c = find_col(R->out_names, R->nout, p, ol);
			if (c < 0)
				return col_error(R, "--rename", p, ol);
			aiops_free(R->out_names[c]);
			if ((R->out_names[c] = aiops_strndup(eq + 1, len - ol - 1)) == NULL)
				return nomem(R->e);
			p += len + (p[len] == ',');
		}
	return unique_names(R);
}

/* ---- labels file ---------------------------------------------------------- */

static int
is_row_range(const char *s, size_t n, int64_t *lo, int64_t *hi)
{
	const char *d = memchr(s, '-', n), *end = s + n, *colon = memchr(s, ':', n);

	if (colon)
		end = colon;
	if (d == NULL || d == s || d > end)
		return 0;
	return aiops_parse_i64(s, (size_t)(d - s), lo) == 0 &&
	    aiops_parse_i64(d + 1, (size_t)(end - d - 1), hi) == 0;
}

static int
load_labels(struct run *R)
{
	struct aiops_src *src = NULL;
	struct aiops_csv c;
	size_t cap = 0, icap = 0;
	int r, mode = 0;  /* 1 per row, 2 intervals */
	const char *name;
	char sb[64];

	if ((r = aiops_src_open(&src, R->o->labels_file, R->e)) != AIOPS_OK)
		return r;
	if ((r = aiops_csv_init(&c, src, R->e)) != AIOPS_OK) {
		aiops_src_close(src);
		return r;
	}
	name = aiops_src_name(src);
	if ((R->labname = aiops_strdup(name)) == NULL) {
		r = nomem(R->e);
		goto out;
	}
	while ((r = aiops_csv_next(&c, R->e)) == 1) {
		struct aiops_csv_field *f = c.f;
		int64_t lo, hi;
		double v;

		if (mode == 0)
			mode = c.nf >= 2 || is_row_range(f[0].p, f[0].len, &lo, &hi) ? 2 : 1;
		if (mode == 1) {
			if (c.nf != 1 || aiops_parse_double(f[0].p, f[0].len, &v) != 0 ||
			    (v != 0 && v != 1)) {
				r = aiops_error_set(R->e, AIOPS_ERR_DATA,
				    "%s:%ld:%ld: expected 0 or 1, got \"%s\"", name, c.line, f[0].col,
				    aiops_excerpt(f[0].p, f[0].len, 40, sb, sizeof(sb)));
				goto out;
			}
			if (R->nrowlab == cap) {
				size_t n = cap ? cap * 2 : 4096;
				unsigned char *p = aiops_realloc(R->rowlab, n);
				if (p == NULL) {
					r = nomem(R->e);
					goto out;
				}
				R->rowlab = p;
				cap = n;
			}
			R->rowlab[R->nrowlab++] = (unsigned char)v;
			continue;
		}
		if (R->niv == icap) {
			size_t n = icap ? icap * 2 : 256;
			struct aiops_interval *p = aiops_reallocarray(R->iv, n, sizeof(*p));
			if (p == NULL) {
				r = nomem(R->e);
				goto out;
			}
			R->iv = p;
			icap = n;
		}
		if (is_row_range(f[0].p, f[0].len, &lo, &hi)) {
			/* with timestamps, start-end are epoch times like any other */
			if (R->has_ts) {
				const char *d = memchr(f[0].p, '-', f[0].len);
				const char *colon = memchr(f[0].p, ':', f[0].len);
				size_t n1 = (size_t)(d - f[0].p);
				size_t n2 = (size_t)((colon ? colon : f[0].p + f[0].len) - d - 1);
				if (aiops_parse_time(f[0].p, n1, R->o->time_unit, &lo) != 0 ||
				    aiops_parse_time(d + 1, n2, R->o->time_unit, &hi) != 0) {
					r = aiops_error_set(R->e, AIOPS_ERR_DATA,
					    "%s:%ld: expected start-end times, got \"%s\"", name, c.line,
					    aiops_excerpt(f[0].p, f[0].len, 40, sb, sizeof(sb)));
					goto out;
				}
			}
		} else if (c.nf < 2 ||
		    (R->has_ts ? aiops_parse_time(f[0].p, f[0].len, R->o->time_unit, &lo) != 0 ||
		     aiops_parse_time(f[1].p, f[1].len, R->o->time_unit, &hi) != 0 :
		     aiops_parse_i64(f[0].p, f[0].len, &lo) != 0 ||
		     aiops_parse_i64(f[1].p, f[1].len, &hi) != 0)) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s:%ld: expected an interval start,end (%s), got \"%s\"", name, c.line,
			    R->has_ts ? "timestamps" : "row numbers",
			    aiops_excerpt(f[0].p, f[0].len, 40, sb, sizeof(sb)));
			goto out;
		}
		if (hi < lo) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld: interval ends before it starts",
			    name, c.line);
			goto out;
		}
		R->iv[R->niv].lo = lo;
		R->iv[R->niv].hi = hi;
		R->niv++;
	}
	if (r < 0)
		goto out;
	R->have_rowlab = mode == 1;
	R->have_iv = mode == 2;
	if (R->have_iv && aiops_ivset_init(&R->ivset, R->iv, R->niv) != AIOPS_OK) {
		r = nomem(R->e);
		goto out;
	}
	if (mode == 0) {
		r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: no labels", name);
		goto out;
	}
	r = AIOPS_OK;
out:
	aiops_csv_release(&c);
	aiops_src_close(src);
	return r;
}

/* ---- the chain --------------------------------------------------------- */

static int
add_meta(struct run *R)
{
	const struct aiops_ingest_opts *o = R->o;
	json_t *m = R->oinfo.meta, *src = json_array();
	int bad = src == NULL;

	for (size_t i = 0; i < o->ninputs && !bad; i++)
		bad |= json_array_append_new(src, json_string(o->inputs[i])) != 0;
	if (R->inherit) {
		/* keep what a tensor input knew (its scaler...) unless replaced below */
		const char *k;
		json_t *v;
		json_object_foreach(R->inherit, k, v) {
			if (strcmp(k, "constant") == 0 || strcmp(k, "split") == 0 ||
			    (strcmp(k, "scaler") == 0 && (o->select || o->drop || o->rename)))
				continue;
			bad |= json_object_set(m, k, v) != 0;
		}
	}
	bad |= json_object_set_new(m, "source", src) != 0;
	bad |= json_object_set_new(m, "tool", json_string("aiops-ingest " AIOPS_VERSION)) != 0;
	if (o->step_ms > 0)
		bad |= json_object_set_new(m, "step_ms", json_integer(o->step_ms)) != 0;
	if (R->has_ts)
		bad |= json_object_set_new(m, "agg", json_string(aiops_agg_name(R->al.agg))) != 0;
	bad |= json_object_set_new(m, "fill", json_string(aiops_fill_name(o->fill))) != 0;
	if (o->prom_query)
		bad |= json_object_set_new(m, "query", json_string(o->prom_query)) != 0;
	if (o->kind != AIOPS_KIND_METRICS || json_object_get(m, "modality") == NULL)
		bad |= json_object_set_new(m, "modality", json_string(o->kind == AIOPS_KIND_LOGS ?
		    "logs" : o->kind == AIOPS_KIND_TRACES ? "traces" : o->kind == AIOPS_KIND_JOIN ?
		    "joined" : "metrics")) != 0;
	if (o->kind == AIOPS_KIND_LOGS && o->templates)
		bad |= json_object_set_new(m, "templates", json_string(o->templates)) != 0;
	return bad ? nomem(R->e) : AIOPS_OK;
}

static int
load_scaler_from(struct run *R)
{
	struct aiops_src *src;
	struct aiops_treader tr;
	unsigned char m[8];
	ssize_t k;
	int r;

	R->center = aiops_calloc(R->nout, sizeof(double));
	R->scale = aiops_calloc(R->nout, sizeof(double));
	if (R->center == NULL || R->scale == NULL)
		return nomem(R->e);
	if ((r = aiops_src_open(&src, R->o->scaler_from, R->e)) != AIOPS_OK)
		return r;
	if ((k = aiops_src_peek(src, m, sizeof(m), R->e)) < 0) {
		aiops_src_close(src);
		return (int)k;
	}
	if (!aiops_is_tensor_magic(m, (size_t)k) &&
	    !(k == 8 && memcmp(m, AIOPS_MODEL_MAGIC, 8) == 0)) {
		aiops_src_close(src);
		return aiops_error_set(R->e, AIOPS_ERR_FORMAT,
		    "%s: not an aiops tensor (bad magic)", R->o->scaler_from);
	}
	if (!aiops_is_tensor_magic(m, (size_t)k)) {
		/* a model: the scaler of the data it was trained on, in its metadata */
		struct aiops_tensor_info ti;
		json_t *meta;
		aiops_src_close(src);
		if ((r = aiops_model_load_meta(R->o->scaler_from, &meta, R->e)) != AIOPS_OK)
			return r;
		memset(&ti, 0, sizeof(ti));
		ti.meta = meta;
		if ((r = aiops_scaler_from_meta(&ti, R->out_names, R->nout, &R->scale_kind,
		    R->center, R->scale, R->e)) != AIOPS_OK)
			aiops_error_prefix(R->e, "%s", R->o->scaler_from);
		json_decref(meta);
		return r;
	}
	if ((r = aiops_treader_open(&tr, src, R->e)) == AIOPS_OK &&
	    (r = aiops_scaler_from_meta(&tr.info, R->out_names, R->nout, &R->scale_kind,
	    R->center, R->scale, R->e)) != AIOPS_OK)
		aiops_error_prefix(R->e, "%s", R->o->scaler_from);
	aiops_treader_release(&tr);
	aiops_src_close(src);
	return r;
}

/* Columns known: build mapping, labels, output info and the sink chain. */
static int
setup_chain(struct run *R)
{
	const struct aiops_ingest_opts *o = R->o;
	struct aiops_sink *next;
	int r, agg;

	if ((r = setup_mapping(R)) != AIOPS_OK)
		return r;
	if (o->step_ms > 0 && !R->has_ts)
		return aiops_error_set(R->e, AIOPS_ERR_USAGE,
		    "--step needs a timestamp column (see --time-col)");
	if (o->labels_file && (r = load_labels(R)) != AIOPS_OK)
		return r;
	if (R->have_rowlab && (R->kind == K_LONG || R->kind == K_PROM || R->kind == K_EVENTS))
		return aiops_error_set(R->e, AIOPS_ERR_USAGE,
		    "%s: one label per row needs wide CSV or tensor input; give intervals", R->labname);
	if (o->scaler_from && (r = load_scaler_from(R)) != AIOPS_OK)
		return r;
	R->buffered = R->kind == K_LONG || R->kind == K_PROM || R->kind == K_EVENTS || o->sort || o->split ||
	    o->scale != AIOPS_SCALE_NONE || o->drop_constant;
	if (aiops_tinfo_init(&R->oinfo) != AIOPS_OK ||
	    aiops_tinfo_set_names(&R->oinfo, R->out_names, R->nout) != AIOPS_OK)
		return nomem(R->e);
	R->oinfo.dtype = o->dtype;
	R->oinfo.has_ts = R->has_ts;
	R->oinfo.has_labels = R->in_labels || R->have_rowlab || R->have_iv;
	agg = o->agg >= 0 ? o->agg : (o->step_ms > 0 ? AIOPS_AGG_MEAN : AIOPS_AGG_LAST);
	R->vals = aiops_calloc(R->nout, sizeof(double));
	R->simd = aiops_fields_simd();
	R->direct = R->kind == K_WIDE && R->ts_idx <= 0 && R->lab_idx < 0 && R->nout == R->nin &&
	    R->nfields == R->nin + (R->ts_idx == 0);
	for (size_t j = 0; j < R->nin && R->direct; j++)
		R->direct = R->map[j] == (long)j;
	if (!R->vals || fscratch_init(&R->fs, R->nfields) != 0)
		return nomem(R->e);
	if ((r = aiops_aligner_init(&R->al, R->nout, R->has_ts, o->step_ms, agg, NULL, R->e)) != AIOPS_OK)
		return r;
	R->al.origin = R->origin;
	if ((r = add_meta(R)) != AIOPS_OK)
		return r;
	if (R->center && !R->buffered &&
	    aiops_scaler_to_meta(R->oinfo.meta, R->scale_kind, R->center, R->scale, R->out_names,
	    R->nout) != AIOPS_OK)
		return nomem(R->e);
	if (R->buffered) {
		if (aiops_tensor_init(&R->buf, &R->oinfo) != AIOPS_OK)
			return nomem(R->e);
		r = aiops_sink_collect(&R->final, &R->buf, R->e);
	} else {
		int fmt = o->format >= 0 ? o->format : aiops_format_from_name(o->output);
		if ((r = aiops_out_open(&R->out, o->output, R->e)) == AIOPS_OK)
			R->out.unbuffered = o->unbuffered;
		else
			return r;
		R->out_open = 1;
		r = aiops_sink_writer(&R->final, fmt, &R->out, &R->oinfo, R->e);
	}
	if (r != AIOPS_OK)
		return r;
	if ((r = stats_new(&R->stats, R, R->final)) != AIOPS_OK)
		return r;
	next = R->stats;
	if (R->center && !R->buffered) {
		if ((r = affine_new(&R->affine, R, next)) != AIOPS_OK)
			return r;
		next = R->affine;
	}
	if (o->fill != AIOPS_FILL_NAN) {
		if ((r = aiops_sink_filler(&R->filler, R->nout, o->fill, o->max_gap, next, R->e)) != AIOPS_OK)
			return r;
		next = R->filler;
	}
	R->head = next;
	R->al.next = next;
	if (o->sort) {
		struct aiops_tensor_info pi;
		if (aiops_tinfo_copy(&pi, &R->oinfo) != AIOPS_OK)
			return nomem(R->e);
		pi.has_ts = 1;
		pi.has_labels = 1;
		r = aiops_tensor_init(&R->pre, &pi);
		aiops_tinfo_release(&pi);
		if (r != AIOPS_OK)
			return nomem(R->e);
	}
	R->ready = 1;
	return AIOPS_OK;
}

/* Record a bad row: skip it under --skip-bad, else fail. */
static int
bad_row(struct run *R)
{
	if (!R->o->skip_bad || (R->e->code != AIOPS_ERR_DATA))
		return R->e->code;
	if (R->st->skipped++ == 0)
		snprintf(R->st->first_skip, sizeof(R->st->first_skip), "%s", R->e->msg);
	return AIOPS_OK;
}

/* One input row with values vals (output columns). */
static int
deliver(struct run *R, const double *vals, int64_t ts, int label, const char *name, long line)
{
	char place[600];
	uint64_t idx = R->rowidx++;
	int r;

	if (R->have_rowlab) {
		if (idx >= R->nrowlab) {
			snprintf(place, sizeof(place), line ? "%s:%ld" : "%s: row %ld", name, line ? line : (long)idx + 1);
			return aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s: has %zu labels, but the input has more rows (%s)", R->labname,
			    R->nrowlab, place);
		}
		if (R->rowlab[idx] > label)
			label = R->rowlab[idx];
	}
	if (R->have_iv && aiops_ivset_contains(&R->ivset, R->has_ts ? ts : (int64_t)idx, R->has_ts))
		label = 1;
	else if (R->have_iv && label < 0)
		label = 0;
	if (R->has_ts && !R->o->sort) {
		if (R->have_prev && ts < R->prev_ts) {
			if (line)
				aiops_error_set(R->e, AIOPS_ERR_DATA,
				    "%s:%ld: timestamp out of order (earlier than line %ld)", name, line,
				    R->prev_line);
			else
				aiops_error_set(R->e, AIOPS_ERR_DATA,
				    "%s: row %llu: timestamp out of order (earlier than row %llu)", name,
				    (unsigned long long)idx + 1, (unsigned long long)R->prev_row);
			return bad_row(R);
		}
		R->have_prev = 1;
		R->prev_ts = ts;
		R->prev_line = line;
		R->prev_row = idx + 1;
	}
	R->st->rows_in++;
	if (R->o->sort) {
		if (aiops_tensor_push(&R->pre, ts, vals, label + 1) != AIOPS_OK)
			return nomem(R->e);
		R->pre.y[R->pre.nrows - 1] = (unsigned char)(label + 1);
		return AIOPS_OK;
	}
	if (!R->has_ts) /* nothing to align: straight on */
		return R->head->row(R->head, 0, vals, label, R->e);
	if ((r = aiops_aligner_begin(&R->al, ts, R->e)) != AIOPS_OK) {
		R->st->rows_in--;
		if (r == AIOPS_ERR_DATA || r == AIOPS_ERR_LIMIT) {
			snprintf(place, sizeof(place), line ? "%s:%ld" : "%s: row %ld", name,
			    line ? line : (long)idx + 1);
			aiops_error_prefix(R->e, "%s", place);
			return r == AIOPS_ERR_DATA ? bad_row(R) : r;
		}
		return r;
	}
	for (size_t j = 0; j < R->nout; j++)
		aiops_aligner_cell(&R->al, j, vals[j]);
	return aiops_aligner_end(&R->al, label, R->e);
}

/* ---- wide CSV ----------------------------------------------------------- */

static int
is_time_name(const char *s)
{
	static const char *w[] = { "timestamp", "time", "ts", "date", "datetime", NULL };

	for (int i = 0; w[i]; i++)
		if (strcasecmp(s, w[i]) == 0)
			return 1;
	return 0;
}

static int
all_numeric(const struct aiops_csv *c)
{
	for (size_t i = 0; i < c->nf; i++) {
		double v;
		if (c->f[i].len == 0)
			continue;
		if (aiops_parse_double(c->f[i].p, c->f[i].len, &v) != 0 &&
		    !aiops_looks_like_datetime(c->f[i].p, c->f[i].len))
			return 0;
	}
	return 1;
}

static long
pick_col(struct run *R, const char *spec, const char *opt, int *err)
{
	long c;

	*err = 0;
	if (R->raw_names)
		c = find_col(R->raw_names, R->nfields, spec, strlen(spec));
	else {
		int64_t k;
		c = aiops_parse_i64(spec, strlen(spec), &k) == 0 && k >= 1 &&
		    (uint64_t)k <= R->nfields ? (long)(k - 1) : -1;
	}
	if (c < 0) {
		*err = aiops_error_set(R->e, AIOPS_ERR_NOTFOUND, "%s %s: no such column", opt, spec);
	}
	return c;
}

/* The first part's first record: decide header, time and label columns. */
static int
wide_layout(struct run *R, struct aiops_csv *c, int *pending)
{
	const struct aiops_ingest_opts *o = R->o;
	const char *name = aiops_src_name(c->src);
	int r, err;
	size_t k;

	R->nfields = c->nf;
	R->has_header = o->header >= 0 ? o->header : !all_numeric(c);
	*pending = !R->has_header;
	if (R->has_header) {
		if ((R->raw_names = aiops_calloc(c->nf, sizeof(char *))) == NULL)
			return nomem(R->e);
		for (size_t i = 0; i < c->nf; i++) {
			const char *p = c->f[i].p;
			size_t n = c->f[i].len;
			while (n > 0 && (*p == ' ' || *p == '\t'))
				p++, n--;
			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (n == 0)
				R->raw_names[i] = NULL;
			if ((R->raw_names[i] = n ? aiops_strndup(p, n) : NULL) == NULL && n)
				return nomem(R->e);
			if (n == 0) {
				struct aiops_buf b = AIOPS_BUF_INIT;
				if (aiops_buf_addf(&b, "c%zu", i + 1) != AIOPS_OK)
					return nomem(R->e);
				R->raw_names[i] = aiops_buf_detach(&b, NULL);
			}
		}
		if ((k = first_duplicate(R->raw_names, c->nf, &err)) < c->nf)
			return aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s:%ld:%ld: duplicate column name \"%s\"", name, c->line,
			    c->f[k].col, R->raw_names[k]);
		if (err)
			return nomem(R->e);
	}
	R->ts_idx = R->lab_idx = -1;
	if (o->time_col && strcmp(o->time_col, "none") != 0) {
		R->ts_idx = pick_col(R, o->time_col, "--time-col", &err);
		if (err)
			return err;
	}
	if (o->label_col) {
		R->lab_idx = pick_col(R, o->label_col, "--label-col", &err);
		if (err)
			return err;
		if (R->lab_idx == R->ts_idx)
			return aiops_error_set(R->e, AIOPS_ERR_USAGE,
			    "--label-col and --time-col name the same column");
	}
	if (o->time_col == NULL) {
		if (R->raw_names)
			for (size_t i = 0; i < R->nfields && R->ts_idx < 0; i++)
				if (is_time_name(R->raw_names[i]) && (long)i != R->lab_idx)
					R->ts_idx = (long)i;
		if (R->ts_idx < 0 && R->has_header) {
			/* look at the first data row */
			if ((r = aiops_csv_next(c, R->e)) < 0)
				return r;
			*pending = r == 1;
		}
		if (R->ts_idx < 0 && *pending && c->nf > 0 && R->lab_idx != 0 &&
		    aiops_looks_like_datetime(c->f[0].p, c->f[0].len))
			R->ts_idx = 0;
	} else if (R->has_header) {
		if ((r = aiops_csv_next(c, R->e)) < 0)
			return r;
		*pending = r == 1;
	}
	R->has_ts = R->ts_idx >= 0;
	R->in_labels = R->lab_idx >= 0;
	R->nin = R->nfields - (R->has_ts ? 1 : 0) - (R->in_labels ? 1 : 0);
	if (R->nin == 0)
		return aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: no value columns", name);
	R->feat_idx = aiops_calloc(R->nin, sizeof(size_t));
	R->in_names = aiops_calloc(R->nin, sizeof(char *));
	if (R->feat_idx == NULL || R->in_names == NULL)
		return nomem(R->e);
	k = 0;
	for (size_t i = 0; i < R->nfields; i++) {
		if ((long)i == R->ts_idx || (long)i == R->lab_idx)
			continue;
		R->feat_idx[k] = i;
		if (R->raw_names)
			R->in_names[k] = aiops_strdup(R->raw_names[i]);
		else {
			struct aiops_buf b = AIOPS_BUF_INIT;
			if (aiops_buf_addf(&b, "c%zu", k + 1) == AIOPS_OK)
				R->in_names[k] = aiops_buf_detach(&b, NULL);
		}
		if (R->in_names[k] == NULL)
			return nomem(R->e);
		k++;
	}
	return setup_chain(R);
}

/* A field of the fast path, one by one: 0 ok, -1 for the careful path. */
static inline int
parse_field(const char *f, const char *fe, double *v)
{
	uint64_t m;
	int fr, ng;

	if (fe == f)
		*v = NAN;       /* missing */
	else if (aiops_parse_decimal_field(f, fe, &m, &fr, &ng) == 0)
		*v = aiops_decimal_value(m, fr, ng);
	else
		return -1;
	return 0;
}

/*
 * parse_fast() where R->direct: aiops_parse_fields() writes vals itself,
 * and only the fields it left are taken one by one.
 */
static int
parse_direct(const struct run *R, struct fscratch *fs, const char *line, size_t len,
    double *vals, int64_t *ts)
{
	const uint32_t *fend = fs->fend;
	const size_t f0 = R->ts_idx == 0, n = R->nfields - f0;

	if (f0 && aiops_parse_time(line, fend[0], R->o->time_unit, ts) != 0)
		return 0;
	aiops_parse_fields(R->simd, line, len, fend, f0, R->nfields, vals, fs->ok);
	for (size_t g = 0; g < n; g += 8) {
		unsigned left = ~(unsigned)fs->ok[g / 8] & (n - g < 8 ? (1u << (n - g)) - 1 : 0xffu);
		for (; left != 0; left &= left - 1) {
			size_t k = g + (size_t)__builtin_ctz(left), fi = f0 + k;
			if (parse_field(line + (fi ? fend[fi - 1] + 1 : 0), line + fend[fi], &vals[k]) != 0)
				return 0;
		}
	}
	return 1;
}

/*
 * The fast path for an unsplit plain line: the delimiters are found first,
 * then the fields: eight or four at a time by aiops_parse_fields() where
 * R->simd, and each of the others on its own (aiops_parse_decimal_field()), into
 * vals (output columns) and *ts. Returns 1 when the line was parsed, 0 when
 * it must be split and taken the careful way (which names any error).
 * Reads R only, so the parsing thread can run it beside this one.
 */
static int
parse_fast(const struct run *R, struct fscratch *fs, const char *line, size_t len, char delim,
    double *vals, int64_t *ts)
{
	/* in locals: the stores below could otherwise alias them */
	const long ts_idx = R->ts_idx, lab_idx = R->lab_idx, *map = R->map;
	const size_t nf = R->nfields;
	uint32_t *fend = fs->fend;
	const uint8_t *ok = fs->ok;
	const double *num = fs->num;
	size_t j = 0, start = 0;

	*ts = 0;
	if (aiops_csv_delims(line, len, delim, fend, nf - 1) != nf - 1)
		return 0;       /* too few or too many fields */
	fend[nf - 1] = (uint32_t)len;
	if (R->simd && R->direct)
		return parse_direct(R, fs, line, len, vals, ts);
	if (R->simd)
		aiops_parse_fields(R->simd, line, len, fend, 0, nf, fs->num, fs->ok);
	for (size_t fi = 0; fi < nf; start = fend[fi++] + 1) {
		const char *f = line + start, *fe = line + fend[fi];
		if ((long)fi == ts_idx) {
			if (aiops_parse_time(f, (size_t)(fe - f), R->o->time_unit, ts) != 0)
				return 0;
		} else if ((long)fi == lab_idx) {
			double lv;
			if (fe == f || aiops_parse_double(f, (size_t)(fe - f), &lv) != 0 || lv != 0)
				return 0; /* labels other than 0: careful path */
		} else {
			long oj = map[j++];
			if (oj < 0)
				continue;
			if (R->simd && (ok[fi / 8] >> (fi % 8) & 1))
				vals[oj] = num[fi];
			else if (parse_field(f, fe, &vals[oj]) != 0)
				return 0;
		}
	}
	return 1;
}

static int
wide_row(struct run *R, struct aiops_csv *c)
{
	const char *name = aiops_src_name(c->src);
	char sb[64];
	int64_t ts = 0;
	int label = -1, r;

	if (c->raw) {
		if (parse_fast(R, &R->fs, c->raw, c->rawlen, c->delim, R->vals, &ts))
			return deliver(R, R->vals, ts, R->lab_idx >= 0 ? 0 : -1, name, c->line);
		if ((r = aiops_csv_split(c, R->e)) != AIOPS_OK)
			return r;
	}
	if (c->nf != R->nfields) {
		R->rowidx++;
		aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld: expected %zu fields, got %zu", name,
		    c->line, R->nfields, c->nf);
		return bad_row(R);
	}
	if (R->ts_idx >= 0) {
		struct aiops_csv_field *f = &c->f[R->ts_idx];
		if (aiops_parse_time(f->p, f->len, R->o->time_unit, &ts) != 0) {
			R->rowidx++;
			aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld:%ld: expected a timestamp, got \"%s\"",
			    name, c->line, f->col, aiops_excerpt(f->p, f->len, 40, sb, sizeof(sb)));
			return bad_row(R);
		}
	}
	if (R->lab_idx >= 0) {
		struct aiops_csv_field *f = &c->f[R->lab_idx];
		double v = 0;
		if (f->len > 0 && (aiops_parse_double(f->p, f->len, &v) != 0 || (v != 0 && v != 1))) {
			R->rowidx++;
			aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld:%ld: label: expected 0 or 1, got \"%s\"",
			    name, c->line, f->col, aiops_excerpt(f->p, f->len, 40, sb, sizeof(sb)));
			return bad_row(R);
		}
		label = v != 0;
	}
	for (size_t j = 0; j < R->nin; j++) {
		long oj = R->map[j];
		struct aiops_csv_field *f;
		if (oj < 0)
			continue;
		f = &c->f[R->feat_idx[j]];
		if (f->len == 0) {
			R->vals[oj] = NAN;
			continue;
		}
		if (aiops_parse_double(f->p, f->len, &R->vals[oj]) != 0) {
			R->rowidx++;
			aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s:%ld:%ld: field \"%s\": expected a number, got \"%s\"", name, c->line,
			    f->col, R->in_names[j], aiops_excerpt(f->p, f->len, 40, sb, sizeof(sb)));
			return bad_row(R);
		}
	}
	return deliver(R, R->vals, ts, label, name, c->line);
}

/* A later part: check its header against the first. Sets *pending. */
static int
wide_check_header(struct run *R, struct aiops_csv *c, int *pending)
{
	const char *name = aiops_src_name(c->src);

	*pending = !R->has_header;
	if (!R->has_header)
		return AIOPS_OK;
	if (c->nf != R->nfields)
		return aiops_error_set(R->e, AIOPS_ERR_DATA,
		    "%s:%ld: header has %zu fields, the first input had %zu", name, c->line, c->nf,
		    R->nfields);
	for (size_t i = 0; i < c->nf; i++) {
		const char *p = c->f[i].p;
		size_t n = c->f[i].len;
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && (strlen(R->raw_names[i]) != n || strncmp(R->raw_names[i], p, n) != 0))
			return aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s:%ld:%ld: column \"%.*s\" differs from the first input's \"%s\"", name,
			    c->line, c->f[i].col, (int)n, p, R->raw_names[i]);
	}
	return AIOPS_OK;
}

/* ---- wide CSV with -j 2: batches of lines parsed by a second thread -------- */

static void
batches_free(struct run *R)
{
	if (R->bat == NULL)
		return;
	aiops_helper_stop(R->parser);   /* idle by now; stopped before what it parsed goes */
	R->parser = NULL;
	for (int i = 0; i < 3; i++) {
		struct batch *b = &R->bat[i];
		aiops_free(b->text);
		aiops_free(b->off);
		aiops_free(b->rlen);
		aiops_free(b->line);
		aiops_free(b->ts);
		aiops_free(b->ok);
		aiops_free(b->vals);
		fscratch_free(&b->fs);
	}
	aiops_free(R->bat);
	R->bat = NULL;
	aiops_csv_release(&R->cv);
}

static int
batches_init(struct run *R, struct aiops_csv *c)
{
	size_t max = BATCH_VALS / R->nout;

	if (max < 1)
		max = 1;
	if (max > 4096)
		max = 4096;
	if ((R->bat = aiops_calloc(3, sizeof(*R->bat))) == NULL)
		return nomem(R->e);
	if (aiops_csv_init_view(&R->cv, c->src, c->delim, R->e) != AIOPS_OK) {
		batches_free(R);
		return R->e->code;
	}
	for (int i = 0; i < 3; i++) {
		struct batch *b = &R->bat[i];
		b->max = max;
		b->off = aiops_calloc(max, sizeof(size_t));
		b->rlen = aiops_calloc(max, sizeof(uint32_t));
		b->line = aiops_calloc(max, sizeof(long));
		b->ts = aiops_calloc(max, sizeof(int64_t));
		b->ok = aiops_calloc(max, 1);
		b->vals = aiops_calloc(max * R->nout, sizeof(double));
		if (!b->off || !b->rlen || !b->line || !b->ts || !b->ok || !b->vals ||
		    fscratch_init(&b->fs, R->nfields) != 0) {
			batches_free(R);
			return nomem(R->e);
		}
	}
	R->parser = aiops_helper_start();      /* none: the parsing is done here */
	return AIOPS_OK;
}

/*
 * Read lines into b until it is full: 1 full, 0 the part ended, 2 a record
 * that is not a plain line (quoted) waits in c, <0 an error (in e). With -j 2
 * the parsing thread does this while this one delivers, so it touches
 * nothing but c, b and e.
 */
static int
batch_fill(struct aiops_csv *c, struct batch *b, struct aiops_error *e)
{
	int r;

	b->n = b->len = 0;
	atomic_store(&b->next, 0);
	if (b->cap > 4 * BATCH_BYTES) {
		/* grown for a long line: give it back rather than keep it in each batch */
		aiops_free(b->text);
		b->text = NULL;
		b->cap = 0;
	}
	while (b->n < b->max && b->len < BATCH_BYTES) {
		if ((r = aiops_csv_next(c, e)) <= 0)
			return r;
		if (c->raw == NULL)
			return 2;
		if (c->rawlen + 1 > b->cap - b->len) {
			size_t ncap = b->cap ? b->cap : BATCH_BYTES + 4096;
			char *t;
			while (c->rawlen + 1 > ncap - b->len)
				ncap *= 2;
			if ((t = aiops_realloc(b->text, ncap)) == NULL)
				return nomem(e);
			b->text = t;
			b->cap = ncap;
		}
		memcpy(b->text + b->len, c->raw, c->rawlen + 1);
		b->off[b->n] = b->len;
		b->rlen[b->n] = (uint32_t)c->rawlen;
		b->line[b->n] = c->line;
		b->len += c->rawlen + 1;
		b->n++;
	}
	return 1;
}

/*
 * Parse b's rows, BATCH_TAKE at a time, until none is left to take: both
 * threads do this, each with its own scratch fs, and write only b's rows.
 */
static void
batch_parse(const struct run *R, struct batch *b, struct fscratch *fs, char delim)
{
	size_t i, end;

	while ((i = atomic_fetch_add(&b->next, BATCH_TAKE)) < b->n) {
		end = i + BATCH_TAKE < b->n ? i + BATCH_TAKE : b->n;
		for (; i < end; i++)
			b->ok[i] = (unsigned char)parse_fast(R, fs, b->text + b->off[i], b->rlen[i],
			    delim, b->vals + i * R->nout, &b->ts[i]);
	}
}

struct batch_job {
	const struct run *R;
	struct aiops_csv *c;
	struct batch *fill, *parse;
	int rf;                     /* batch_fill()'s result */
	struct aiops_error e;       /* and its error */
};

/* The parsing thread's work: read the next batch, then help parse this one. */
static void *
batch_job(void *arg)
{
	struct batch_job *j = arg;

	j->rf = batch_fill(j->c, j->fill, &j->e);
	batch_parse(j->R, j->parse, &j->parse->fs, j->c->delim);
	return NULL;
}

/* Deliver b's rows in order; a row the fast path left goes the careful way. */
static int
batch_deliver(struct run *R, struct batch *b, const char *name)
{
	int r;

	for (size_t i = 0; b != NULL && i < b->n; i++) {
		if (b->ok[i]) {
			r = deliver(R, b->vals + i * R->nout, b->ts[i], R->lab_idx >= 0 ? 0 : -1, name,
			    b->line[i]);
		} else {
			R->cv.raw = b->text + b->off[i];
			R->cv.rawlen = b->rlen[i];
			R->cv.line = b->line[i];
			r = wide_row(R, &R->cv);
		}
		if (r != AIOPS_OK)
			return r;
	}
	return AIOPS_OK;
}

/*
 * The rows of a part after its first, as read_wide_part() would deliver
 * them, with a second thread: each step fills batch f there while this
 * thread delivers d (parsed in the step before), then both parse p.
 * Rows are delivered in order, so output and messages are those of one
 * thread; an error met while reading waits until the rows before it are
 * delivered, since one of them may fail first.
 */
static int
read_wide_piped(struct run *R, struct aiops_csv *c)
{
	const char *name = aiops_src_name(c->src);
	struct batch *d = NULL, *p = NULL, *f;
	struct batch_job job = { .R = R, .c = c };
	unsigned k = 0;
	int r, rf;

	if (R->bat == NULL && (r = batches_init(R, c)) != AIOPS_OK)
		return r;
	R->cv.src = c->src;
	for (;;) {
		f = &R->bat[k++ % 3];
		if (p == NULL) {
			rf = batch_fill(c, f, &job.e);
		} else {
			/* the helper reads f and parses p; this thread delivers d, then parses p */
			job.fill = f;
			job.parse = p;
			aiops_helper_run(R->parser, batch_job, &job);
			r = batch_deliver(R, d, name);
			if (r == AIOPS_OK)
				batch_parse(R, p, &R->fs, c->delim);
			aiops_helper_wait(R->parser);
			if (r != AIOPS_OK)
				return r;       /* before any error of the reading after it */
			rf = job.rf;
			d = p;
		}
		p = f;
		if (rf == 1)
			continue;
		/* the reading stopped: deliver what is on the way, in order */
		batch_parse(R, p, &R->fs, c->delim);
		if ((r = batch_deliver(R, d, name)) != AIOPS_OK ||
		    (r = batch_deliver(R, p, name)) != AIOPS_OK)
			return r;
		d = p = NULL;
		if (rf < 0) {
			*R->e = job.e;
			return rf;
		}
		if (rf == 0)
			return AIOPS_OK;
		if ((r = wide_row(R, c)) != AIOPS_OK)   /* the quoted record */
			return r;
	}
}

static int
read_wide_part(struct run *R, struct aiops_csv *c)
{
	int r, pending;

	r = aiops_csv_next(c, R->e);
	if (r < 0)
		return r;
	if (r == 0) {
		if (!R->ready)
			return aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: empty input",
			    aiops_src_name(c->src));
		return AIOPS_OK;
	}
	r = R->ready ? wide_check_header(R, c, &pending) : wide_layout(R, c, &pending);
	if (r != AIOPS_OK)
		return r;
	if (pending && (r = wide_row(R, c)) != AIOPS_OK)
		return r;
	c->lazy = 1;
	if (R->o->jobs > 1 && R->nout > 0)
		return read_wide_piped(R, c);
	while ((r = aiops_csv_next(c, R->e)) == 1)
		if ((r = wide_row(R, c)) != AIOPS_OK)
			return r;
	return r;
}

/* ---- long CSV ----------------------------------------------------------- */

static int
read_long_part(struct run *R, struct aiops_csv *c, struct aiops_pivot *pv)
{
	const char *name = aiops_src_name(c->src);
	struct aiops_buf sname = AIOPS_BUF_INIT;
	char **hdr = NULL;
	size_t nf;
	char sb[64];
	int r;

	if ((r = aiops_csv_next(c, R->e)) <= 0)
		return r < 0 ? r : (pv->n == 0 && !R->ready ?
		    aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: empty input", name) : AIOPS_OK);
	nf = c->nf;
	if (nf < 2)
		return aiops_error_set(R->e, AIOPS_ERR_DATA,
		    "%s:%ld: long format needs timestamp,series[,label...],value; got %zu field", name,
		    c->line, nf);
	if ((hdr = aiops_calloc(nf, sizeof(char *))) == NULL)
		return nomem(R->e);
	for (size_t i = 0; i < nf; i++)
		if ((hdr[i] = aiops_strndup(c->f[i].p, c->f[i].len)) == NULL) {
			r = nomem(R->e);
			goto out;
		}
	while ((r = aiops_csv_next(c, R->e)) == 1) {
		int64_t ts;
		double v;
		struct aiops_csv_field *f = c->f;

		if (c->nf != nf) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld: expected %zu fields, got %zu",
			    name, c->line, nf, c->nf);
		} else if (aiops_parse_time(f[0].p, f[0].len, R->o->time_unit, &ts) != 0) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld:%ld: expected a timestamp, got \"%s\"",
			    name, c->line, f[0].col, aiops_excerpt(f[0].p, f[0].len, 40, sb, sizeof(sb)));
		} else if (f[nf - 1].len > 0 && aiops_parse_double(f[nf - 1].p, f[nf - 1].len, &v) != 0) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA,
			    "%s:%ld:%ld: field \"%s\": expected a number, got \"%s\"", name, c->line,
			    f[nf - 1].col, hdr[nf - 1],
			    aiops_excerpt(f[nf - 1].p, f[nf - 1].len, 40, sb, sizeof(sb)));
		} else {
			if (f[nf - 1].len == 0)
				v = NAN;
			aiops_buf_reset(&sname);
			if (nf == 2)
				r = aiops_buf_addstr(&sname, hdr[1]);
			else {
				r = aiops_buf_add(&sname, f[1].p, f[1].len);
				for (size_t i = 2; i + 1 < nf && r == AIOPS_OK; i++)
					r = aiops_buf_addf(&sname, "%s%s=%.*s", i == 2 ? "{" : ",", hdr[i],
					    (int)f[i].len, f[i].p);
				if (nf > 3 && r == AIOPS_OK)
					r = aiops_buf_addch(&sname, '}');
			}
			if (r == AIOPS_OK && sname.len == 0)
				r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s:%ld:%ld: empty series name",
				    name, c->line, f[1].col);
			else if (r == AIOPS_OK && (r = aiops_pivot_add(pv, sname.buf, ts, v)) != AIOPS_OK)
				r = r == AIOPS_ERR_LIMIT ? aiops_error_set(R->e, r, "%s:%ld: too many series",
				    name, c->line) : nomem(R->e);
			else if (r == AIOPS_OK)
				R->st->rows_in++;
			if (r == AIOPS_OK)
				continue;
		}
		if ((r = bad_row(R)) != AIOPS_OK)
			goto out;
	}
out:
	free_strv(hdr, nf);
	aiops_buf_release(&sname);
	return r;
}

/* Replay the sorted pivot through the chain. */
static int
replay_pivot(struct run *R, struct aiops_pivot *pv)
{
	int r;

	R->nin = pv->ncols;
	R->has_ts = 1;
	if ((R->in_names = aiops_calloc(pv->ncols ? pv->ncols : 1, sizeof(char *))) == NULL)
		return nomem(R->e);
	for (size_t j = 0; j < pv->ncols; j++)
		if ((R->in_names[j] = aiops_strdup(pv->names[j])) == NULL)
			return nomem(R->e);
	if (pv->ncols == 0)
		return aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: no samples", R->o->ninputs ?
		    R->o->inputs[0] : "<stdin>");
	if ((r = setup_chain(R)) != AIOPS_OK)
		return r;
	aiops_pivot_sort(pv);
	for (size_t i = 0; i < pv->n; ) {
		int64_t ts = pv->s[i].ts;
		if ((r = aiops_aligner_begin(&R->al, ts, R->e)) != AIOPS_OK)
			return r;
		for (; i < pv->n && pv->s[i].ts == ts; i++) {
			long oj = R->map[pv->s[i].col];
			if (oj >= 0)
				aiops_aligner_cell(&R->al, (size_t)oj, pv->s[i].v);
		}
		if ((r = aiops_aligner_end(&R->al, R->have_iv ?
		    aiops_ivset_contains(&R->ivset, ts, 1) : -1, R->e)) != AIOPS_OK)
			return r;
	}
	return AIOPS_OK;
}

/* ---- tensor input --------------------------------------------------------- */

static int
read_tensor(struct run *R, struct aiops_src *src)
{
	struct aiops_treader tr;
	double *in = NULL;
	int64_t ts;
	int lab, r;

	if ((r = aiops_treader_open(&tr, src, R->e)) != AIOPS_OK)
		goto out;
	if (!R->ready) {
		R->nin = tr.info.ncols;
		R->has_ts = tr.info.has_ts;
		R->in_labels = tr.info.has_labels;
		if ((R->in_names = aiops_calloc(R->nin, sizeof(char *))) == NULL) {
			r = nomem(R->e);
			goto out;
		}
		for (size_t j = 0; j < R->nin; j++)
			if ((R->in_names[j] = aiops_strdup(tr.info.names[j])) == NULL) {
				r = nomem(R->e);
				goto out;
			}
		R->inherit = tr.info.meta;
		r = setup_chain(R);
		R->inherit = NULL;
		if (r != AIOPS_OK)
			goto out;
	} else {
		int same = tr.info.ncols == R->nin && tr.info.has_ts == R->has_ts;
		for (size_t j = 0; same && j < R->nin; j++)
			same = strcmp(tr.info.names[j], R->in_names[j]) == 0;
		if (!same) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: columns differ from the first input",
			    aiops_src_name(src));
			goto out;
		}
	}
	if ((in = aiops_calloc(R->nin, sizeof(double))) == NULL) {
		r = nomem(R->e);
		goto out;
	}
	while ((r = aiops_treader_next(&tr, &ts, in, &lab, R->e)) == 1) {
		for (size_t j = 0; j < R->nin; j++)
			if (R->map[j] >= 0)
				R->vals[R->map[j]] = in[j];
		if ((r = deliver(R, R->vals, ts, R->in_labels ? lab : -1, aiops_src_name(src), 0)) != AIOPS_OK)
			goto out;
	}
out:
	aiops_free(in);
	aiops_treader_release(&tr);
	return r;
}

/* ---- buffered finish -------------------------------------------------------- */

static int
drop_constant_cols(struct run *R)
{
	struct aiops_tensor *t = &R->buf;
	struct stats_sink *k = (struct stats_sink *)R->stats;
	size_t nc = t->info.ncols, keep = 0;
	size_t *idx;

	if ((idx = aiops_calloc(nc, sizeof(size_t))) == NULL)
		return nomem(R->e);
	for (size_t j = 0; j < nc; j++)
		if (!stats_constant(k, j))
			idx[keep++] = j;
	if (keep == 0) {
		aiops_free(idx);
		return aiops_error_set(R->e, AIOPS_ERR_DATA, "every column is constant; nothing left");
	}
	for (size_t i = 0; i < t->nrows; i++)
		for (size_t j = 0; j < keep; j++)
			t->x[i * keep + j] = t->x[i * nc + idx[j]];
	for (size_t j = 0; j < keep; j++) {
		char *s = t->info.names[idx[j]];
		t->info.names[idx[j]] = NULL;
		t->info.names[j] = s;
	}
	for (size_t j = keep; j < nc; j++)
		aiops_free(t->info.names[j]);
	t->info.ncols = keep;
	aiops_free(idx);
	return AIOPS_OK;
}

/* Parse --split into row cut points cut[0..ncut). */
static int
split_cuts(struct run *R, size_t *cut, int *ncut)
{
	const char *s = R->o->split;
	double f[2];
	int64_t tm[2];
	int n = 0, frac = 1;
	const struct aiops_tensor *t = &R->buf;

	for (const char *p = s; *p && n < 3; n++) {
		size_t len = strcspn(p, ",");
		if (n == 2)
			return aiops_error_set(R->e, AIOPS_ERR_USAGE, "--split: at most two cuts");
		if (aiops_parse_double(p, len, &f[n]) != 0 || !(f[n] > 0 && f[n] < 1))
			frac = 0;
		if (aiops_parse_time(p, len, R->o->time_unit, &tm[n]) != 0 && !frac)
			return aiops_error_set(R->e, AIOPS_ERR_USAGE,
			    "--split: expected fractions or timestamps, got \"%.*s\"", (int)len, p);
		p += len + (p[len] == ',');
	}
	if (n == 0)
		return aiops_error_set(R->e, AIOPS_ERR_USAGE, "--split: no cut given");
	for (int i = 0; i < n; i++) {
		if (frac) {
			double acc = f[0] + (i ? f[1] : 0);
			if (acc >= 1)
				return aiops_error_set(R->e, AIOPS_ERR_USAGE,
				    "--split: the fractions must add up to less than 1");
			/* 0.7 + 0.1 is 0.7999...: round away the binary noise, then floor */
			cut[i] = (size_t)floor(acc * (double)t->nrows + 1e-9);
		} else {
			size_t k = 0;
			if (!t->info.has_ts)
				return aiops_error_set(R->e, AIOPS_ERR_USAGE,
				    "--split by time needs timestamps; give fractions");
			if (i == 1 && tm[1] <= tm[0])
				return aiops_error_set(R->e, AIOPS_ERR_USAGE, "--split: cuts must increase");
			while (k < t->nrows && t->ts[k] < tm[i])
				k++;
			cut[i] = k;
		}
	}
	*ncut = n;
	if (cut[0] == 0)
		return aiops_error_set(R->e, AIOPS_ERR_DATA, "--split leaves the train part empty (%zu rows in all)",
		    t->nrows);
	return AIOPS_OK;
}

static int
write_part(struct run *R, struct aiops_out *out, const char *path, const char *split,
    size_t from, size_t to, int fmt)
{
	struct aiops_tensor *t = &R->buf;
	struct aiops_tensor_info ti;
	struct aiops_sink *w = NULL;
	int r;

	/* the caller aborts out whatever happens: it must be one to abort */
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->slot = -1;
	if (aiops_tinfo_copy(&ti, &t->info) != AIOPS_OK)
		return nomem(R->e);
	ti.dtype = R->o->dtype;
	if (split && json_object_set_new(ti.meta, "split", json_string(split)) != 0) {
		aiops_tinfo_release(&ti);
		return nomem(R->e);
	}
	if ((r = aiops_out_open(out, path, R->e)) != AIOPS_OK) {
		aiops_tinfo_release(&ti);
		return r;
	}
	r = aiops_sink_writer(&w, fmt, out, &ti, R->e);
	for (size_t i = from; r == AIOPS_OK && i < to; i++)
		r = w->row(w, t->ts ? t->ts[i] : 0, t->x + i * ti.ncols, t->y ? t->y[i] : 0, R->e);
	if (r == AIOPS_OK)
		r = w->finish(w, R->e);
	if (w)
		w->free(w);
	aiops_tinfo_release(&ti);
	return r;
}

static int
finish_buffered(struct run *R)
{
	const struct aiops_ingest_opts *o = R->o;
	struct aiops_tensor *t = &R->buf;
	struct aiops_out outs[5];   /* the parts, then the side outputs of --logs */
	size_t cut[2] = { 0, 0 }, bounds[4];
	int ncut = 0, nparts, r = AIOPS_OK, nopen = 0;
	int fmt = o->format >= 0 ? o->format : aiops_format_from_name(o->output);
	static const char *pname[3] = { "train", "valid", "test" };
	static const char *ext[3] = { ".tensor", ".csv", ".npy" };

	if (o->drop_constant && R->st->nconstant > 0 && (r = drop_constant_cols(R)) != AIOPS_OK)
		return r;
	if (o->split && (r = split_cuts(R, cut, &ncut)) != AIOPS_OK)
		return r;
	nparts = o->split ? ncut + 1 : 1;
	bounds[0] = 0;
	for (int i = 0; i < ncut; i++)
		bounds[i + 1] = cut[i];
	bounds[nparts] = t->nrows;
	if (o->scale != AIOPS_SCALE_NONE) {
		double *c = aiops_calloc(t->info.ncols, sizeof(double));
		double *s = aiops_calloc(t->info.ncols, sizeof(double));
		if (c == NULL || s == NULL)
			r = nomem(R->e);
		else if ((r = aiops_scaler_fit(t, bounds[1], o->scale, c, s, R->e)) == AIOPS_OK) {
			aiops_scaler_apply(t, c, s);
			if (aiops_scaler_to_meta(t->info.meta, o->scale, c, s, t->info.names,
			    t->info.ncols) != AIOPS_OK)
				r = nomem(R->e);
		}
		aiops_free(c);
		aiops_free(s);
		if (r != AIOPS_OK)
			return r;
	} else if (R->center) {
		aiops_scaler_apply(t, R->center, R->scale);
		if (aiops_scaler_to_meta(t->info.meta, R->scale_kind, R->center, R->scale,
		    t->info.names, t->info.ncols) != AIOPS_OK)
			return nomem(R->e);
	}
	if (R->st->nconstant > 0 && !o->drop_constant) {
		json_t *a = json_array();
		struct stats_sink *k = (struct stats_sink *)R->stats;
		for (size_t j = 0; a && j < k->nc; j++)
			if (stats_constant(k, j))
				json_array_append_new(a, json_string(t->info.names[j]));
		if (a == NULL || json_object_set_new(t->info.meta, "constant", a) != 0)
			return nomem(R->e);
	}
	for (int i = 0; i < nparts && r == AIOPS_OK; i++) {
		struct aiops_buf path = AIOPS_BUF_INIT;
		const char *pn = nparts == 1 ? NULL : pname[nparts == 2 && i == 1 ? 2 : i];
		if (pn && (aiops_buf_addf(&path, "%s.%s%s", o->output, pn, ext[fmt]) != AIOPS_OK)) {
			r = nomem(R->e);
			break;
		}
		r = write_part(R, &outs[i], pn ? path.buf : o->output, pn, bounds[i], bounds[i + 1], fmt);
		nopen = i + 1;
		if (r != AIOPS_OK) {
			aiops_buf_release(&path);
			nopen = i;
			aiops_out_abort(&outs[i]);
			break;
		}
		R->st->part_rows[i] = bounds[i + 1] - bounds[i];
		aiops_buf_release(&path);
	}
	R->st->nparts = nparts;
	/* all parts and the side outputs appear, or none */
	if (r == AIOPS_OK)
		r = aiops_out_commit_all(outs, nopen + aiops_logs_take(&R->lo, outs + nopen), R->e);
	else
		for (int i = 0; i < nopen; i++)
			aiops_out_abort(&outs[i]);
	return r;
}

/* ---- driver ------------------------------------------------------------- */

struct sortkey {
	int64_t ts;
	size_t i;
};

static int
cmp_key(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;

	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return (x->i > y->i) - (x->i < y->i);
}

/* --sort: replay the buffered rows in (time, input order). */
static int
feed_sorted(struct run *R)
{
	struct aiops_tensor *p = &R->pre;
	struct sortkey *k = aiops_calloc(p->nrows ? p->nrows : 1, sizeof(*k));
	int r = AIOPS_OK;

	if (k == NULL)
		return nomem(R->e);
	for (size_t i = 0; i < p->nrows; i++) {
		k[i].ts = p->ts[i];
		k[i].i = i;
	}
	qsort(k, p->nrows, sizeof(*k), cmp_key);
	for (size_t n = 0; n < p->nrows && r == AIOPS_OK; n++) {
		size_t i = k[n].i;
		if ((r = aiops_aligner_begin(&R->al, p->ts[i], R->e)) != AIOPS_OK)
			break;
		for (size_t j = 0; j < R->nout; j++)
			aiops_aligner_cell(&R->al, j, p->x[i * R->nout + j]);
		r = aiops_aligner_end(&R->al, (int)p->y[i] - 1, R->e);
	}
	aiops_free(k);
	return r;
}

/* ---- traces and joined tensors ------------------------------------------------ */

static int
read_traces(struct run *R, struct aiops_pivot *pv)
{
	static const char *const stdin_only[] = { "-" };
	const struct aiops_ingest_opts *o = R->o;
	const char *const *inputs = o->ninputs ? o->inputs : stdin_only;
	size_t ninputs = o->ninputs ? o->ninputs : 1;
	struct aiops_traces *t;
	int r;

	if ((r = aiops_traces_new(&t, o->step_ms > 0 ? o->step_ms : AIOPS_EVENT_STEP_MS,
	    o->trace_format, o->skip_bad, R->e)) != AIOPS_OK)
		return r;
	for (size_t i = 0; i < ninputs && r == AIOPS_OK; i++) {
		struct aiops_src *src;
		if ((r = aiops_src_open(&src, inputs[i], R->e)) != AIOPS_OK)
			break;
		do
			r = aiops_traces_feed(t, src, &R->st->spans, &R->st->skipped,
			    R->st->first_skip, sizeof(R->st->first_skip), R->e);
		while (r == AIOPS_OK && (r = aiops_src_next_part(src, R->e)) == 1);
		if (r > 0)
			r = AIOPS_OK;
		aiops_src_close(src);
	}
	if (r == AIOPS_OK)
		r = aiops_traces_finish(t, pv, R->e);
	aiops_traces_free(t);
	return r;
}

/* The column name prefix of a tensor: its modality ("metrics" unless it says). */
static const char *
modality(json_t *meta)
{
	const char *m = json_string_value(json_object_get(meta, "modality"));

	return m ? m : "metrics";
}

/*
 * --join: every input tensor into the pivot, columns prefixed with the
 * modality, rows onto the --step grid; labelled rows become label
 * intervals of one step.
 */
static int
read_join(struct run *R, struct aiops_pivot *pv, int64_t *step)
{
	const struct aiops_ingest_opts *o = R->o;
	struct aiops_buf name = AIOPS_BUF_INIT;
	size_t icap = 0, base;
	double *v = NULL;
	int r = AIOPS_OK;

	*step = o->step_ms;
	if (o->ninputs < 2)
		return aiops_error_set(R->e, AIOPS_ERR_USAGE, "--join needs two tensors or more");
	for (size_t i = 0; i < o->ninputs && r == AIOPS_OK; i++) {
		struct aiops_src *src;
		struct aiops_treader tr;
		const char *pre;
		int64_t ts, s;
		int lab;

		if ((r = aiops_src_open(&src, o->inputs[i], R->e)) != AIOPS_OK)
			break;
		if ((r = aiops_treader_open(&tr, src, R->e)) != AIOPS_OK) {
			aiops_src_close(src);
			break;
		}
		pre = modality(tr.info.meta);
		if (!tr.info.has_ts) {
			r = aiops_error_set(R->e, AIOPS_ERR_DATA, "%s: has no timestamps to join on",
			    o->inputs[i]);
			goto next;
		}
		s = json_integer_value(json_object_get(tr.info.meta, "step_ms"));
		if (o->step_ms <= 0 && s > *step)
			*step = s;
		base = pv->ncols;
		for (size_t j = 0; j < tr.info.ncols && r == AIOPS_OK; j++) {
			aiops_buf_reset(&name);
			if (aiops_buf_addf(&name, "%s.%s", pre, tr.info.names[j]) != AIOPS_OK) {
				r = nomem(R->e);
				break;
			}
			if (json_object_get(pv->dict, name.buf) != NULL)
				r = aiops_error_set(R->e, AIOPS_ERR_DATA,
				    "%s: column \"%s\" is already in an earlier input", o->inputs[i],
				    name.buf);
		}
		aiops_free(v);
		v = NULL;
		if (r == AIOPS_OK && (v = aiops_calloc(tr.info.ncols + 1, sizeof(double))) == NULL)
			r = nomem(R->e);
		while (r == AIOPS_OK && (r = aiops_treader_next(&tr, &ts, v, &lab, R->e)) == 1) {
			r = AIOPS_OK;
			for (size_t j = 0; j < tr.info.ncols && r == AIOPS_OK; j++) {
				if (pv->ncols > base + j) {
					/* known column: skip the name lookup */
					if (aiops_pivot_add(pv, pv->names[base + j], ts, v[j]) != AIOPS_OK)
						r = nomem(R->e);
					continue;
				}
				aiops_buf_reset(&name);
				if (aiops_buf_addf(&name, "%s.%s", pre, tr.info.names[j]) != AIOPS_OK ||
				    aiops_pivot_add(pv, name.buf, ts, v[j]) != AIOPS_OK)
					r = nomem(R->e);
			}
			if (r == AIOPS_OK && tr.info.has_labels && lab == 1) {
				if (R->niv == icap) {
					size_t nc = icap ? icap * 2 : 64;
					struct aiops_interval *p = aiops_reallocarray(R->iv, nc, sizeof(*p));
					if (p == NULL) {
						r = nomem(R->e);
						break;
					}
					R->iv = p;
					icap = nc;
				}
				R->iv[R->niv].lo = R->iv[R->niv].hi = ts;
				R->niv++;
			}
			if (tr.info.has_labels)
				R->have_iv = 1;
		}
next:
		aiops_treader_release(&tr);
		aiops_src_close(src);
	}
	aiops_free(v);
	aiops_buf_release(&name);
	if (r == AIOPS_OK && *step <= 0)
		r = aiops_error_set(R->e, AIOPS_ERR_USAGE,
		    "--join: the inputs record no step; give --step");
	if (r == AIOPS_OK && R->have_iv && !o->labels_file) {
		/* a labelled row marks its whole bucket of the grid */
		for (size_t i = 0; i < R->niv; i++) {
			int64_t lo = R->iv[i].lo;
			lo = lo >= 0 ? lo / *step * *step : -((-lo + *step - 1) / *step) * *step;
			R->iv[i].lo = lo;
			R->iv[i].hi = lo + *step - 1;
		}
		if (aiops_ivset_init(&R->ivset, R->iv, R->niv) != AIOPS_OK)
			r = nomem(R->e);
	} else
		R->have_iv = 0;
	return r;
}

/* Logs, traces or --join: a pivot of per-window values through the chain. */
static int
read_events(struct run *R, struct aiops_pivot *pv, struct aiops_error *e)
{
	struct aiops_ingest_opts *eo = &R->eo;
	const struct aiops_ingest_opts *o = R->o;
	int64_t step = o->step_ms;
	int r;

	R->kind = K_EVENTS;
	if (o->prom_query || o->long_format || o->time_col || o->label_col || o->header >= 0 ||
	    o->sort)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s cannot take --prom, --long, "
		    "--time-col, --label-col, --header or --sort",
		    o->kind == AIOPS_KIND_LOGS ? "--logs" : o->kind == AIOPS_KIND_TRACES ?
		    "--traces" : "--join");
	if (o->kind == AIOPS_KIND_LOGS)
		r = aiops_logs_read(pv, o, R->st, &R->lo, e);
	else if (o->kind == AIOPS_KIND_TRACES)
		r = read_traces(R, pv);
	else
		r = read_join(R, pv, &step);
	if (r != AIOPS_OK)
		return r;
	/* counts: empty windows are zero, and a window's samples add up */
	*eo = *o;
	eo->step_ms = step > 0 ? step : AIOPS_EVENT_STEP_MS;
	if (o->kind == AIOPS_KIND_LOGS) {
		if (eo->agg < 0)
			eo->agg = AIOPS_AGG_SUM;
		if (eo->fill == AIOPS_FILL_NAN)
			eo->fill = AIOPS_FILL_ZERO;
	}
	R->o = eo;
	r = replay_pivot(R, pv);
	return r;
}

static int
detect_kind(struct run *R, struct aiops_src *src)
{
	unsigned char m[8];
	ssize_t k = aiops_src_peek(src, m, 8, R->e);

	if (k < 0)
		return (int)k;
	if (aiops_is_tensor_magic(m, (size_t)k))
		return K_TENSOR;
	return R->o->long_format ? K_LONG : K_WIDE;
}

int
aiops_ingest(const struct aiops_ingest_opts *o, struct aiops_ingest_stats *st,
    struct aiops_error *e)
{
	static const char *const stdin_only[] = { "-" };
	const char *const *inputs = o->ninputs ? o->inputs : stdin_only;
	size_t ninputs = o->ninputs ? o->ninputs : 1;
	struct aiops_pivot pv;
	struct run R;
	int r = AIOPS_OK, first_kind = -1;

	memset(st, 0, sizeof(*st));
	memset(&R, 0, sizeof(R));
	R.o = o;
	R.st = st;
	R.e = e;
	if (aiops_pivot_init(&pv) != AIOPS_OK)
		return nomem(e);
	if (o->prom_query) {
		int64_t start = o->prom_start, end = o->prom_end, step = o->step_ms;
		R.kind = K_PROM;
		if (step <= 0 || end < start) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE, "--prom needs --step and --start <= --end");
			goto out;
		}
		if ((end - start) / step > 11000)
			r = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--prom: %lld points per series; Prometheus allows 11000: use a larger --step",
			    (long long)((end - start) / step + 1));
		else
			r = aiops_prom_query_range(&pv, inputs[0], o->prom_query, start, end, step, e);
		if (r == AIOPS_OK) {
			st->rows_in = pv.n;
			R.origin = start;      /* Prometheus evaluates at start + k*step */
			r = replay_pivot(&R, &pv);
		}
		goto finish;
	}
	if (o->kind != AIOPS_KIND_METRICS) {
		r = read_events(&R, &pv, e);
		goto finish;
	}
	for (size_t i = 0; i < ninputs && r == AIOPS_OK; i++) {
		struct aiops_src *src;
		int kind;

		if ((r = aiops_src_open(&src, inputs[i], e)) != AIOPS_OK)
			break;
		do {
			struct aiops_csv c;
			if ((kind = detect_kind(&R, src)) < 0) {
				r = kind;
				break;
			}
			if (first_kind < 0)
				first_kind = kind;
			if (kind != first_kind) {
				r = aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: a %s input cannot follow a %s one", aiops_src_name(src),
				    kind == K_TENSOR ? "tensor" : "CSV", first_kind == K_TENSOR ? "tensor" : "CSV");
				break;
			}
			R.kind = kind;
			if (kind == K_TENSOR) {
				r = read_tensor(&R, src);
				continue;
			}
			if ((r = aiops_csv_init(&c, src, e)) != AIOPS_OK)
				break;
			r = kind == K_LONG ? read_long_part(&R, &c, &pv) : read_wide_part(&R, &c);
			aiops_csv_release(&c);
		} while (r == AIOPS_OK && (r = aiops_src_next_part(src, e)) == 1);
		if (r > 0)
			r = AIOPS_OK;
		aiops_src_close(src);
	}
	if (r == AIOPS_OK && R.kind == K_LONG)
		r = replay_pivot(&R, &pv);
finish:
	if (r == AIOPS_OK && R.have_rowlab && R.rowidx != R.nrowlab)
		r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: has %zu labels, but the input has %llu rows",
		    R.labname, R.nrowlab, (unsigned long long)R.rowidx);
	if (r == AIOPS_OK && o->sort && R.ready)
		r = feed_sorted(&R);
	if (r == AIOPS_OK && R.ready) {
		if ((r = aiops_aligner_flush(&R.al, e)) == AIOPS_OK)
			r = R.head->finish(R.head, e);
	}
	if (r == AIOPS_OK && R.buffered)
		r = finish_buffered(&R);
	else if (r == AIOPS_OK && R.out_open) {
		struct aiops_out outs[3];
		outs[0] = R.out;
		R.out_open = 0;
		r = aiops_out_commit_all(outs, 1 + aiops_logs_take(&R.lo, outs + 1), e);
	}
	if (r == AIOPS_OK) {
		/* side outputs of a run whose tensor was committed elsewhere (none today) */
		struct aiops_out rest[2];
		size_t k = aiops_logs_take(&R.lo, rest);
		if (k > 0)
			r = aiops_out_commit_all(rest, k, e);
	}
out:
	aiops_logs_abort(&R.lo);
	if (R.out_open)
		aiops_out_abort(&R.out);
	if (R.final) R.final->free(R.final);
	if (R.stats) R.stats->free(R.stats);
	if (R.affine) R.affine->free(R.affine);
	if (R.ivs) R.ivs->free(R.ivs);
	if (R.filler) R.filler->free(R.filler);
	aiops_aligner_release(&R.al);
	aiops_tinfo_release(&R.oinfo);
	if (R.buf.info.meta)
		aiops_tensor_release(&R.buf);
	if (R.pre.info.meta)
		aiops_tensor_release(&R.pre);
	aiops_pivot_release(&pv);
	free_strv(R.in_names, R.nin);
	free_strv(R.raw_names, R.nfields);
	free_strv(R.out_names, R.nout);
	aiops_free(R.feat_idx);
	aiops_free(R.map);
	aiops_free(R.rowlab);
	aiops_free(R.iv);
	aiops_ivset_release(&R.ivset);
	aiops_free(R.labname);
	aiops_free(R.vals);
	fscratch_free(&R.fs);
	batches_free(&R);
	aiops_free(R.center);
	aiops_free(R.scale);
	return r;
}
