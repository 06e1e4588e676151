/*
 * fam_kmeans.c - k-means (Lloyd's iterations from greedy k-means++ seeds):
 * the score of a row is its Euclidean distance to the nearest centre, and
 * column j contributes (x_j - c_j)^2 for that centre, so the contributions
 * sum to the score squared.
 *
 * Fitted state: "centres" k x d, "sizes" k x 1 (training rows per centre).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "model.h"

static int
get_params(const struct aiops_params *p, size_t *k, uint64_t *seed, size_t *iters,
    struct aiops_error *e)
{
	double kv, sd, iv;
	int r;

	if ((r = aiops_param_whole(p, "kmeans", "k", 8, 1, 1e6, "", &kv, e)) != AIOPS_OK ||
	    (r = aiops_param_whole(p, "kmeans", "seed", 0, 0, 9007199254740992.0, "", &sd, e)) != AIOPS_OK ||
	    (r = aiops_param_whole(p, "kmeans", "iters", 100, 1, 1e9, "", &iv, e)) != AIOPS_OK)
		return r;
	*k = (size_t)kv;
	*seed = (uint64_t)sd;
	*iters = (size_t)iv;
	return AIOPS_OK;
}

static size_t
km_min_rows(const struct aiops_params *p, size_t d)
{
	size_t k, iters;
	uint64_t seed;

	(void)d;
	/* an invalid parameter is reported by fit, which names it */
	if (get_params(p, &k, &seed, &iters, NULL) != AIOPS_OK)
		return 1;
	return k;
}

/*
 * Nearest-centre search by blocks: |x - c|^2 = |x|^2 - 2 x.c + |c|^2 with
 * the cross terms from one dgemm per block. Rows and centres are first
 * shifted by `shift` (near the data's mean) so that data far from the
 * origin does not lose its digits to cancellation.
 */
struct km_work {
	size_t k, d, block;
	const double *shift;
	double *cs;   /* k x d shifted centres */
	double *cn;   /* k squared norms of cs */
	double *xb;   /* block x d shifted rows */
	double *g;    /* block x k: -2 x.c */
};

static size_t
pick_block(size_t k, size_t d)
{
	size_t w = k > d ? k : d, b = 32768 / (w ? w : 1);

	return b < 16 ? 16 : b > 2048 ? 2048 : b;
}

static void
work_free(struct km_work *w)
{
	aiops_free(w->cs);
	aiops_free(w->cn);
	aiops_free(w->xb);
	aiops_free(w->g);
	memset(w, 0, sizeof(*w));
}

static int
work_alloc(struct km_work *w, size_t k, size_t d, const double *shift)
{
	memset(w, 0, sizeof(*w));
	w->k = k;
	w->d = d;
	w->block = pick_block(k, d);
	w->shift = shift;
	w->cs = aiops_calloc(k * d, sizeof(double));
	w->cn = aiops_calloc(k, sizeof(double));
	w->xb = aiops_calloc(w->block * d, sizeof(double));
	w->g = aiops_calloc(w->block * k, sizeof(double));
	if (!w->cs || !w->cn || !w->xb || !w->g) {
		work_free(w);
		return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

static void
work_centres(struct km_work *w, const double *c)
{
	for (size_t j = 0; j < w->k; j++) {
		double s = 0;
		for (size_t q = 0; q < w->d; q++) {
			double v = c[j * w->d + q] - w->shift[q];
			w->cs[j * w->d + q] = v;
			s += v * v;
		}
		w->cn[j] = s;
	}
}

/*
 * lab[i] = the nearest centre of row i (the lowest number on a tie) and,
 * when d2 is not NULL, d2[i] = the expanded squared distance (>= 0), for
 * n rows of x. work_centres() must have been called.
 */
static void
km_assign(struct km_work *w, const double *x, size_t n, size_t *lab, double *d2)
{
	size_t k = w->k, d = w->d;

	for (size_t i0 = 0; i0 < n; i0 += w->block) {
		size_t rb = n - i0 < w->block ? n - i0 : w->block;

		for (size_t i = 0; i < rb; i++)
			for (size_t q = 0; q < d; q++)
				w->xb[i * d + q] = x[(i0 + i) * d + q] - w->shift[q];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rb, (blasint)k,
		    (blasint)d, -2.0, w->xb, (blasint)d, w->cs, (blasint)d, 0.0, w->g, (blasint)k);
		for (size_t i = 0; i < rb; i++) {
			const double *gi = w->g + i * k;
			double xn = 0, bv = gi[0] + w->cn[0];
			size_t best = 0;

			for (size_t q = 0; q < d; q++)
				xn += w->xb[i * d + q] * w->xb[i * d + q];
			for (size_t j = 1; j < k; j++) {
				double v = gi[j] + w->cn[j];
				if (v < bv) {
					bv = v;
					best = j;
				}
			}
			lab[i0 + i] = best;
			if (d2)
				d2[i0 + i] = bv + xn > 0 ? bv + xn : 0;
		}
	}
}

static double
sqdist(const double *a, const double *b, size_t d)
{
	double s = 0;

	for (size_t q = 0; q < d; q++)
		s += (a[q] - b[q]) * (a[q] - b[q]);
	return s;
}

/*
 * Greedy k-means++ (Arthur & Vassilvitskii 2007, as scikit-learn does it):
 * each new centre is the best, by the resulting potential, of 2 + ln k
 * rows drawn with probability proportional to D(x)^2.
 */
static void
seed_centres(const double *x, size_t n, size_t d, size_t k, struct aiops_rng *r,
    double *c, double *dmin, double *dtry, double *dbest)
{
	size_t trials = 2 + (size_t)log((double)k), first = (size_t)aiops_rng_below(r, n);

	memcpy(c, x + first * d, d * sizeof(double));
	for (size_t i = 0; i < n; i++)
		dmin[i] = sqdist(x + i * d, c, d);
	for (size_t j = 1; j < k; j++) {
		double total = 0, bestpot = INFINITY;
		size_t best = 0;

		for (size_t i = 0; i < n; i++)
			total += dmin[i];
		if (!(total > 0)) {
			/* fewer distinct rows than k: any row will do */
			best = (size_t)aiops_rng_below(r, n);
			memcpy(c + j * d, x + best * d, d * sizeof(double));
			continue;
		}
		for (size_t t = 0; t < trials; t++) {
			double u = aiops_rng_uniform(r) * total, cum = 0, pot = 0;
			size_t cand = n;

			for (size_t i = 0; i < n; i++) {
				cum += dmin[i];
				if (dmin[i] > 0)
					cand = i;
				if (cum > u && dmin[i] > 0)
					break;
			}
			for (size_t i = 0; i < n; i++) {
				double v = sqdist(x + i * d, x + cand * d, d);
				dtry[i] = v < dmin[i] ? v : dmin[i];
				pot += dtry[i];
			}
			if (pot < bestpot) {
				double *tmp = dbest;
				bestpot = pot;
				best = cand;
				dbest = dtry;
				dtry = tmp;
			}
		}
		memcpy(c + j * d, x + best * d, d * sizeof(double));
		memcpy(dmin, dbest, n * sizeof(double));
	}
}

/*
 * Give each empty centre the row farthest from its own centre among
 * clusters that can spare one (scikit-learn's rule); sums and counts are
 * kept in shifted coordinates.
 */
static void
relocate_empty(const double *x, size_t n, size_t d, size_t k, const double *shift,
    size_t *lab, double *d2, double *sum, size_t *cnt)
{
	for (size_t j = 0; j < k; j++) {
		size_t far = n, o;
		double fv = -1;

		if (cnt[j] != 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (cnt[lab[i]] > 1 && d2[i] > fv) {
				fv = d2[i];
				far = i;
			}
		if (far == n)
			return;
		o = lab[far];
		for (size_t q = 0; q < d; q++) {
			double v = x[far * d + q] - shift[q];
			sum[o * d + q] -= v;
			sum[j * d + q] = v;
		}
		cnt[o]--;
		cnt[j] = 1;
		lab[far] = j;
		d2[far] = 0;
	}
}

static int
km_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	size_t k, iters, *lab = NULL, *nl = NULL, *cnt = NULL;
	double *shift = NULL, *c = NULL, *sum = NULL, *d2 = NULL, *t1 = NULL, *t2 = NULL;
	double *sizes = NULL;
	struct km_work w = { 0 };
	struct aiops_rng rng;
	uint64_t seed;
	int r;

	if ((r = get_params(&m->params, &k, &seed, &iters, e)) != AIOPS_OK)
		return r;
	if (k > n)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "kmeans: k=%zu exceeds the number of rows n=%zu", k, n);
	if (d == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "kmeans needs at least one column");
	if (d > INT_MAX / 2048 || k > INT_MAX / 2048)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "kmeans: k=%zu with %zu columns is too large",
		    k, d);
	shift = aiops_calloc(d, sizeof(double));
	c = aiops_calloc(k * d, sizeof(double));
	sum = aiops_calloc(k * d, sizeof(double));
	cnt = aiops_calloc(k, sizeof(size_t));
	sizes = aiops_calloc(k, sizeof(double));
	lab = aiops_calloc(n, sizeof(size_t));
	nl = aiops_calloc(n, sizeof(size_t));
	d2 = aiops_calloc(n, sizeof(double));
	t1 = aiops_calloc(n, sizeof(double));
	t2 = aiops_calloc(n, sizeof(double));
	if (!shift || !c || !sum || !cnt || !sizes || !lab || !nl || !d2 || !t1 || !t2 ||
	    work_alloc(&w, k, d, shift) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t q = 0; q < d; q++)
			shift[q] += x[i * d + q];
	for (size_t q = 0; q < d; q++)
		shift[q] /= (double)n;
	aiops_rng_seed(&rng, seed);
	seed_centres(x, n, d, k, &rng, c, d2, t1, t2);

	for (size_t i = 0; i < n; i++)
		lab[i] = SIZE_MAX;
	for (size_t it = 0; it < iters; it++) {
		size_t changed = 0;

		work_centres(&w, c);
		km_assign(&w, x, n, nl, d2);
		for (size_t i = 0; i < n; i++) {
			changed += nl[i] != lab[i];
			lab[i] = nl[i];
		}
		/* the centres are already the means of these assignments */
		if (changed == 0)
			break;
		memset(sum, 0, k * d * sizeof(double));
		memset(cnt, 0, k * sizeof(size_t));
		for (size_t i = 0; i < n; i++) {
			cnt[lab[i]]++;
			for (size_t q = 0; q < d; q++)
				sum[lab[i] * d + q] += x[i * d + q] - shift[q];
		}
		relocate_empty(x, n, d, k, shift, lab, d2, sum, cnt);
		for (size_t j = 0; j < k; j++)
			if (cnt[j] > 0)
				for (size_t q = 0; q < d; q++)
					c[j * d + q] = sum[j * d + q] / (double)cnt[j] + shift[q];
	}
	memset(cnt, 0, k * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		cnt[lab[i]]++;
	for (size_t j = 0; j < k; j++)
		sizes[j] = (double)cnt[j];
	if (aiops_model_put(m, "centres", k, d, c) != AIOPS_OK ||
	    aiops_model_put(m, "sizes", k, 1, sizes) != AIOPS_OK)
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	work_free(&w);
	aiops_free(shift);
	aiops_free(c);
	aiops_free(sum);
	aiops_free(cnt);
	aiops_free(sizes);
	aiops_free(lab);
	aiops_free(nl);
	aiops_free(d2);
	aiops_free(t1);
	aiops_free(t2);
	return r;
}

static int
km_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *ca = aiops_model_get(m, "centres");
	double *shift = NULL;
	size_t k, *lab = NULL;
	struct km_work w = { 0 };
	int r = AIOPS_OK;

	if (ca == NULL || ca->cols != d || ca->rows == 0 || d == 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "kmeans model lacks its centres array");
	k = ca->rows;
	if (d > INT_MAX / 2048 || k > INT_MAX / 2048)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "kmeans: k=%zu with %zu columns is too large",
		    k, d);
	for (size_t i = 0; i < k * d; i++)
		if (!isfinite(ca->v[i]))
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "kmeans model: a centre is not finite");
	shift = aiops_calloc(d, sizeof(double));
	if (shift == NULL || work_alloc(&w, k, d, shift) != AIOPS_OK ||
	    (lab = aiops_calloc(w.block, sizeof(size_t))) == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* the centres' mean stands in for the training mean as the shift */
	for (size_t j = 0; j < k; j++)
		for (size_t q = 0; q < d; q++)
			shift[q] += ca->v[j * d + q];
	for (size_t q = 0; q < d; q++)
		shift[q] /= (double)k;
	work_centres(&w, ca->v);
	for (size_t i0 = 0; i0 < n; i0 += w.block) {
		size_t rb = n - i0 < w.block ? n - i0 : w.block;

		km_assign(&w, x + i0 * d, rb, lab, NULL);
		/* the reported distance is exact, not the expanded form */
		for (size_t i = 0; i < rb; i++) {
			const double *xr = x + (i0 + i) * d, *cr = ca->v + lab[i] * d;
			double s = 0;

			for (size_t q = 0; q < d; q++) {
				double v = (xr[q] - cr[q]) * (xr[q] - cr[q]);
				s += v;
				if (contrib)
					contrib[(i0 + i) * d + q] = v;
			}
			out[i0 + i] = sqrt(s);
		}
	}
out:
	work_free(&w);
	aiops_free(shift);
	aiops_free(lab);
	return r;
}

static const char *const km_params[] = { "iters", "k", "seed", NULL };

const struct aiops_family aiops_fam_kmeans = {
	"kmeans", "detector",
	"k (clusters, default 8), seed (default 0), iters (most Lloyd iterations, default 100)",
	km_params, km_min_rows, km_fit, km_score, NULL, NULL
};
