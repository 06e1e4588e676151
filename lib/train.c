/* train.c - the final fit and everything a model records about its training. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linalg.h"
#include "train.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

int
aiops_train_matrix(const struct aiops_tensor *t, const char *name, int impute,
    const struct aiops_tensor *fill, double **xp, int *owned, struct aiops_error *e)
{
	size_t n = t->nrows, d = t->info.ncols, k;
	double *x, *med = NULL;

	*xp = NULL;
	*owned = 0;
	if (n == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "%s: the tensor has no rows", name);
	/* finite data is used in place: no second copy of a large tensor */
	for (k = 0; k < n * d && isfinite(t->x[k]); k++)
		;
	if (k == n * d) {
		*xp = t->x;
		return AIOPS_OK;
	}
	*owned = 1;
	if ((x = aiops_malloc(n * d * sizeof(double))) == NULL)
		return nomem(e);
	memcpy(x, t->x, n * d * sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++) {
			double v = x[i * d + j];
			if (isfinite(v))
				continue;
			if (!impute) {
				aiops_free(x);
				return aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: row %zu, column \"%s\": %s; fill gaps at ingest or use --impute",
				    name, i + 1, t->info.names[j], isnan(v) ? "missing value (NaN)" : "infinite value");
			}
			if (med == NULL) {
				const struct aiops_tensor *f = fill ? fill : t;
				double *col = aiops_calloc(f->nrows ? f->nrows : 1, sizeof(double));
				if (col == NULL || (med = aiops_calloc(d, sizeof(double))) == NULL) {
					aiops_free(col);
					aiops_free(x);
					return nomem(e);
				}
				for (size_t jj = 0; jj < d; jj++) {
					size_t m = 0;
					for (size_t ii = 0; ii < f->nrows; ii++)
						if (isfinite(f->x[ii * d + jj]))
							col[m++] = f->x[ii * d + jj];
					med[jj] = m ? aiops_quantile(col, m, 0.5) : 0;
				}
				aiops_free(col);
			}
			x[i * d + j] = med[j];
		}
	aiops_free(med);
	*xp = x;
	return AIOPS_OK;
}

int
aiops_tensor_fingerprint(const struct aiops_tensor *t, char hex[65], struct aiops_error *e)
{
	struct aiops_sha256 h;
	unsigned char out[32], *buf;
	size_t d = t->info.ncols, rowb = 8 * d + (t->ts ? 8 : 0) + (t->y ? 1 : 0), len = 0;
	size_t cap = rowb > (1u << 20) ? rowb : (1u << 20);

	/* rows as aiops-model(5) defines them, hashed a megabyte at a time */
	if ((buf = aiops_malloc(cap)) == NULL || aiops_sha256_init(&h) != AIOPS_OK) {
		aiops_free(buf);
		return nomem(e);
	}
	for (size_t j = 0; j < d; j++)
		aiops_sha256_update(&h, t->info.names[j], strlen(t->info.names[j]) + 1);
	for (size_t i = 0; i < t->nrows; i++) {
		unsigned char *p;
		if (len + rowb > cap) {
			aiops_sha256_update(&h, buf, len);
			len = 0;
		}
		p = buf + len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(p, &t->x[i * d], 8 * d);
#else
		for (size_t j = 0; j < d; j++) {
			uint64_t u;
			memcpy(&u, &t->x[i * d + j], 8);
			aiops_put_u64(p + 8 * j, u);
		}
#endif
		p += 8 * d;
		if (t->ts) {
			aiops_put_u64(p, (uint64_t)t->ts[i]);
			p += 8;
		}
		if (t->y)
			*p++ = t->y[i] ? 1 : 0;
		len += rowb;
	}
	aiops_sha256_update(&h, buf, len);
	aiops_free(buf);
	if (aiops_sha256_final(&h, out) != AIOPS_OK)
		return nomem(e);
	aiops_hex(out, 32, hex);
	return AIOPS_OK;
}


/*
 * Quantiles for drift checks need not sort millions of rows: a fixed stride
 * keeps at most REF_SAMPLE of them, enough for percentiles good to about a
 * percent. The mean and standard deviation use every row, in two row-major
 * passes (the matrix is row-major; a pass per column would stride through it).
 */
#define REF_SAMPLE 20000

static size_t
ref_stride(size_t n)
{
	return n > REF_SAMPLE ? (n + REF_SAMPLE - 1) / REF_SAMPLE : 1;
}

size_t
aiops_ref_sample_rows(size_t n)
{
	size_t stride = ref_stride(n);

	return (n + stride - 1) / stride;
}

/* Percentiles 0..100 of every column of the sample (every stride-th of ns rows) into q
 * (101 x d), with numpy's linear interpolation; col is room for ns values. */
static int
sample_quantiles(const double *x, size_t d, size_t stride, size_t ns, double *col, double *q)
{
	for (size_t j = 0; j < d; j++) {
		for (size_t i = 0; i < ns; i++)
			col[i] = x[i * stride * d + j];
		if (aiops_sort_doubles(col, ns) != AIOPS_OK)
			return AIOPS_ERR_NOMEM;
		for (int k = 0; k <= 100; k++) {
			double h = (double)(ns - 1) * k / 100.0, fl = floor(h);
			size_t i = (size_t)fl;
			q[(size_t)k * d + j] = i + 1 < ns ? col[i] + (h - fl) * (col[i + 1] - col[i]) :
			    col[ns - 1];
		}
	}
	return AIOPS_OK;
}

/* What the side thread works out: reference statistics and the fingerprint. */
struct aiops_side {
	const struct aiops_tensor *t;
	const double *x;
	size_t n, d;
	double *ms, *q;   /* mean and std (2 x d), quantiles (101 x d) */
	char hex[65];
	int r;
	pthread_t th;
	int threaded;     /* th runs side_work on this */
};

static void *
side_work(void *arg)
{
	struct aiops_side *S = arg;
	size_t n = S->n, d = S->d;
	size_t stride = ref_stride(n), ns = aiops_ref_sample_rows(n);
	const double *x = S->x;
	double *col = aiops_calloc(ns, sizeof(double)), *q = aiops_calloc(101 * d, sizeof(double));
	double *ms = aiops_calloc(2 * d, sizeof(double));

	S->r = AIOPS_ERR_NOMEM;
	if (col && q && ms && sample_quantiles(x, d, stride, ns, col, q) == AIOPS_OK) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				ms[j] += x[i * d + j];
		for (size_t j = 0; j < d; j++)
			ms[j] /= (double)n;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++) {
				double v = x[i * d + j] - ms[j];
				ms[d + j] += v * v;
			}
		for (size_t j = 0; j < d; j++)
			ms[d + j] = sqrt(ms[d + j] / (double)n);
		S->ms = ms;
		S->q = q;
		ms = q = NULL;
		S->r = aiops_tensor_fingerprint(S->t, S->hex, NULL);
	}
	aiops_free(col);
	aiops_free(q);
	aiops_free(ms);
	return NULL;
}

/* Start side_work(S) on a thread of its own: 1, or 0 when none could be had. */
static int
side_spawn(struct aiops_side *S)
{
	S->threaded = pthread_create(&S->th, NULL, side_work, S) == 0;
	return S->threaded;
}

struct aiops_side *
aiops_side_start(const struct aiops_tensor *t, const double *x)
{
	struct aiops_side *S = aiops_calloc(1, sizeof(*S));

	if (S == NULL)
		return NULL;
	S->t = t;
	S->x = x;
	S->n = t->nrows;
	S->d = t->info.ncols;
	if (!side_spawn(S)) {
		aiops_free(S);
		return NULL;
	}
	return S;
}

/* Wait for S's thread, if it has one. */
static void
side_join(struct aiops_side *S)
{
	if (S->threaded) {
		pthread_join(S->th, NULL);
		S->threaded = 0;
	}
}

void
aiops_side_discard(struct aiops_side *S)
{
	if (S == NULL)
		return;
	side_join(S);
	aiops_free(S->ms);
	aiops_free(S->q);
	aiops_free(S);
}

/* Done with S (local, or one of aiops_side_start()): its thread and what it holds. */
static void
side_end(struct aiops_side *S, struct aiops_side *local)
{
	if (S != local) {
		aiops_side_discard(S);
		return;
	}
	side_join(S);
	aiops_free(S->ms);
	aiops_free(S->q);
}

/* The raw scores of rows [0, n) of x. */
struct part {
	const struct aiops_model *m;
	const double *x;
	size_t n;
	double *out;
	struct aiops_error e;
	int r;
};

static void *
score_part(void *arg)
{
	struct part *P = arg;

	P->r = P->m->family->score(P->m, P->x, P->n, P->m->ncols, P->out, NULL, &P->e);
	return NULL;
}

/*
 * A detector's scores of its n training rows (a row's score is its own): in
 * two halves split at a multiple of 4096 rows, at once when jobs > 1. The
 * halves are the same whatever jobs is (the families score in blocks, which
 * then fall alike), and so are the scores.
 */
static int
final_scores(const struct aiops_model *m, const double *x, size_t n, double *s, int jobs,
    struct aiops_error *e)
{
	size_t h = (n / 2) & ~(size_t)4095, d = m->ncols;
	struct part P[2] = { { .m = m, .x = x, .n = h, .out = s },
	    { .m = m, .x = x + h * d, .n = n - h, .out = s + h } };

	if (strcmp(m->family->kind, "detector") != 0 || h == 0)
		return aiops_model_score(m, x, n, s, NULL, e);
	aiops_run_pair(score_part, &P[0], &P[1], jobs > 1);
	for (int k = 0; k < 2; k++)
		if (P[k].r != AIOPS_OK) {
			*e = P[k].e;
			return P[k].r;
		}
	return aiops_model_smooth(m, s, n, e);
}

int
aiops_train_final(struct aiops_model *m, const struct aiops_final *f, struct aiops_error *e)
{
	const struct aiops_tensor *t = f->train;
	size_t n = t->nrows, d = t->info.ncols, n0, ns;
	double *s = NULL, *vs = NULL, thr;
	char hex[65], tm[40];
	json_t *prov, *train, *th;
	const char *env;
	int r;

	struct aiops_side local = { .t = t, .x = f->x, .n = n, .d = d, .r = AIOPS_OK };
	struct aiops_side *S = f->side ? f->side : &local;

	if (aiops_model_init(m, f->family, &f->params, t->info.names, d) != AIOPS_OK) {
		r = nomem(e);
		goto fail_side;
	}
	/* the statistics and fingerprint do not depend on the fit: beside it when -j allows */
	if (S == &local && f->jobs > 1)
		(void)side_spawn(&local);
	/* the final fit may use the jobs the search has done with */
	aiops_linalg_threads(f->jobs);
	r = aiops_model_fit(m, f->x, n, e);
	aiops_linalg_threads(1);
	if (r != AIOPS_OK)
		goto fail;
	if ((s = aiops_calloc(n, sizeof(double))) == NULL) {
		r = nomem(e);
		goto fail;
	}
	ns = n;
	if (strcmp(f->family->kind, "forecaster") == 0 &&
	    (n0 = n - n / 5) >= f->family->min_rows(&f->params, d) && n0 < n) {
		/*
		 * A forecaster's state continues from the end of its training rows,
		 * so it cannot re-score them from their start: its threshold comes
		 * from out-of-sample scores of the last fifth, forecast by a model
		 * fitted on the first four fifths.
		 */
		struct aiops_model m0;
		if (aiops_model_init(&m0, f->family, &f->params, t->info.names, d) != AIOPS_OK) {
			r = nomem(e);
			goto fail;
		}
		r = aiops_model_fit(&m0, f->x, n0, e);
		if (r == AIOPS_OK)
			r = aiops_model_score(&m0, f->x + n0 * d, n - n0, s, NULL, e);
		aiops_model_release(&m0);
		if (r != AIOPS_OK)
			goto fail;
		ns = n - n0;
	} else if ((r = final_scores(m, f->x, n, s, f->jobs, e)) != AIOPS_OK) {
		goto fail;
	}
	if (f->vx && (vs = aiops_calloc(f->vn ? f->vn : 1, sizeof(double))) != NULL)
		r = aiops_model_score(m, f->vx, f->vn, vs, NULL, e);
	else if (f->vx)
		r = nomem(e);
	if (r != AIOPS_OK)
		goto fail;
	if ((r = aiops_thr_compute(&f->thr, s, ns, vs, f->vy, f->vn, &thr, e)) != AIOPS_OK)
		goto fail;
	m->threshold = thr;
	if (S->threaded)
		side_join(S);
	else
		side_work(S);
	if (S->r != AIOPS_OK || aiops_model_put(m, "ref_mean", 1, d, S->ms) != AIOPS_OK ||
	    aiops_model_put(m, "ref_std", 1, d, S->ms + d) != AIOPS_OK ||
	    aiops_model_put(m, "ref_quantiles", 101, d, S->q) != AIOPS_OK) {
		r = nomem(e);
		goto fail;
	}
	memcpy(hex, S->hex, sizeof(hex));
	aiops_thr_format(&f->thr, tm, sizeof(tm));
	th = json_pack("{s:s,s:f}", "method", tm, "value", thr);
	train = json_pack("{s:I,s:s,s:s,s:I}", "rows", (json_int_t)n, "sha256", hex, "source",
	    f->train_name ? f->train_name : "<stdin>", "ref_rows",
	    (json_int_t)aiops_ref_sample_rows(n));
	prov = json_pack("{s:s}", "tool", "aiops-train " AIOPS_VERSION);
	if (th == NULL || train == NULL || prov == NULL) {
		json_decref(th);
		json_decref(train);
		json_decref(prov);
		r = nomem(e);
		goto fail;
	}
	{
		/* reproducible builds: SOURCE_DATE_EPOCH fixes the time */
		long long when = (long long)time(NULL);
		char *end;
		if ((env = getenv("SOURCE_DATE_EPOCH")) != NULL && *env) {
			long long v = strtoll(env, &end, 10);
			if (*end == '\0' && v >= 0)
				when = v;
		}
		json_object_set_new(prov, "created", json_integer(when));
		if ((env = getenv("CI_COMMIT_SHA")) != NULL && *env)
			json_object_set_new(prov, "ci_commit_sha", json_string(env));
		if ((env = getenv("CI_PIPELINE_ID")) != NULL && *env)
			json_object_set_new(prov, "ci_pipeline_id", json_string(env));
	}
	json_object_set_new(m->meta, "threshold", th);
	json_object_set_new(m->meta, "train", train);
	json_object_set_new(m->meta, "provenance", prov);
	if (json_object_get(t->info.meta, "scaler"))
		json_object_set(m->meta, "scaler", json_object_get(t->info.meta, "scaler"));
	if (f->search)
		json_object_set(m->meta, "search", f->search);
	if (f->lineage)
		json_object_set(m->meta, "lineage", f->lineage);
	aiops_free(s);
	aiops_free(vs);
	side_end(S, &local);
	return AIOPS_OK;
fail:
	aiops_free(s);
	aiops_free(vs);
	aiops_model_release(m);
fail_side:
	side_end(S, &local);
	return r;
}
