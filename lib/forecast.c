/*
 * forecast.c - what the forecaster families share: the robust residual scale
 * (1.4826 MAD by a sampled selection, then fallbacks) and the row scores.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"


#define KTH_SAMPLE_MIN 8192   /* shorter inputs go straight to quickselect */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
swap_double(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/*
 * The k-th smallest of v[0..n) (0-based), reordering v so that v[i] <= v[k]
 * for i < k: quickselect with a median-of-three pivot, which sorts the rest
 * when it has taken far more rounds than halving would.
 */
static double
select_k(double *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	int budget = 8;

	for (size_t s = n; s > 1; s >>= 1)
		budget += 2;
	while (hi > lo) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double piv;

		if (budget-- == 0) {
			qsort(v + lo, (size_t)(hi - lo + 1), sizeof(double), cmp_double);
			break;
		}
		if (v[mid] < v[lo])
			swap_double(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_double(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_double(&v[hi], &v[mid]);
		piv = v[mid];
		while (i <= j) {
			while (v[i] < piv)
				i++;
			while (v[j] > piv)
				j--;
			if (i <= j) {
				swap_double(&v[i], &v[j]);
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/*
 * The k-th smallest of the values u_i of v[0..n), which are v[i] itself or,
 * with absdev, |v[i] - center|, and, when prev is not NULL, the (k-1)-th
 * (k >= 1); v may be reordered or (with absdev) overwritten by the u_i.
 * v must hold no NaN unless nan is not NULL: then a NaN met sets *nan and
 * returns at once, v untouched. Large inputs follow Floyd and Rivest: a fixed
 * pseudo-random sample brackets the answer between two of its order
 * statistics, one branch-free pass counts the values below the bracket and
 * gathers those inside it, and quickselect finishes on the few gathered.
 * When the bracket misses or the scratch cannot be had, plain quickselect.
 */
static double
kth(double *v, size_t n, size_t k, double *prev, double center, int absdev, int *nan)
{
	size_t s, delta, cap, below = 0, above = 0, m = 0, klo, khi;
	double *S = NULL, *C = NULL, lo, hi, r;
	uint64_t z = 0x9e3779b97f4a7c15u;

	if (n < KTH_SAMPLE_MIN)
		goto plain;
	s = (size_t)pow((double)n, 2.0 / 3.0);
	delta = (size_t)(2 * sqrt((double)s)) + 1;
	cap = 3 * (2 * delta + 1) * (n / s + 1) + 1024;
	S = aiops_malloc(s * sizeof(double));
	C = aiops_malloc((cap + 1) * sizeof(double));
	if (S == NULL || C == NULL) {
		if (nan) {   /* unknown: the caller takes the slow path */
			*nan = 1;
			r = 0;
			goto out;
		}
		goto plain;
	}
	for (size_t i = 0, step = n / s; i < s; i++) {
		/*
		 * one value from each stretch of n / s at a position drawn by
		 * splitmix64: the same sample on every run, read in address
		 * order, and not fooled by a period in the data
		 */
		uint64_t u = (z += 0x9e3779b97f4a7c15u);
		u = (u ^ (u >> 30)) * 0xbf58476d1ce4e5b9u;
		u = (u ^ (u >> 27)) * 0x94d049bb133111ebu;
		S[i] = v[i * step + (size_t)((u ^ (u >> 31)) % step)];
		if (absdev)
			S[i] = fabs(S[i] - center);
	}
	klo = (size_t)((double)k / (double)n * (double)s);
	khi = klo + delta < s ? klo + delta : s - 1;
	klo = klo > delta ? klo - delta : 0;
	lo = klo > 0 ? select_k(S, s, klo) : -INFINITY;
	hi = khi < s - 1 ? select_k(S, s, khi) : INFINITY;
	if (absdev) {
		for (size_t i = 0; i < n; i++) {
			double x = fabs(v[i] - center);

			below += (size_t)(x < lo);
			above += (size_t)(x > hi);
			C[m < cap ? m : cap] = x;
			m += (size_t)((x >= lo) & (x <= hi));
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			double x = v[i];

			below += (size_t)(x < lo);
			above += (size_t)(x > hi);
			C[m < cap ? m : cap] = x;
			m += (size_t)((x >= lo) & (x <= hi));
		}
	}
	if (below + m + above != n) {   /* a NaN is none of the three */
		*nan = 1;
		r = 0;
		goto out;
	}
	/* the (k-1)-th must be gathered too */
	if (m > cap || k < below + (prev != NULL) || k >= below + m)
		goto plain;
	r = select_k(C, m, k - below);
	if (prev) {
		*prev = C[0];
		for (size_t i = 1; i < k - below; i++)
			if (C[i] > *prev)
				*prev = C[i];
	}
out:
	aiops_free(S);
	aiops_free(C);
	return r;
plain:
	aiops_free(S);
	aiops_free(C);
	if (absdev)
		for (size_t i = 0; i < n; i++)
			v[i] = fabs(v[i] - center);
	r = select_k(v, n, k);
	if (prev) {
		*prev = v[0];
		for (size_t i = 1; i < k; i++)
			if (v[i] > *prev)
				*prev = v[i];
	}
	return r;
}

/* The median of v[0..n) (or of |v - center|), n >= 1, as numpy's; as kth(). */
static double
median(double *v, size_t n, double center, int absdev, int *nan)
{
	double lo, hi;

	if (n % 2)
		return kth(v, n, n / 2, NULL, center, absdev, nan);
	hi = kth(v, n, n / 2, &lo, center, absdev, nan);
	return 0.5 * (lo + hi);
}

/*
 * 1.4826 MAD about the median of the values of r[0..n) that are not NaN,
 * at least floor (also when there are none); destroys r.
 */
double
aiops_fc_robust_scale(double *r, size_t n, double floor)
{
	size_t m = n;
	double med = 0, mad;
	int nan = n < KTH_SAMPLE_MIN;

	/* a long r is checked for NaNs by kth() on its way */
	if (!nan)
		med = median(r, n, 0, 0, &nan);
	if (nan) {
		m = 0;
		for (size_t i = 0; i < n; i++) {
			r[m] = r[i];
			m += (size_t)!isnan(r[i]);
		}
		if (m == 0)
			return floor;
		med = median(r, m, 0, 0, NULL);
	}
	mad = 1.4826 * median(r, m, med, 1, NULL);
	if (!(mad > floor)) {
		/*
		 * More than half the residuals are equal (a series that is mostly
		 * flat): the mean absolute deviation, scaled to sigma for normal
		 * data, keeps its rare moves from scoring astronomically; then 1.
		 */
		double s = 0;
		for (size_t i = 0; i < m; i++)
			s += fabs(r[i] - med);
		mad = 1.2533 * s / (double)m;
		if (!(mad > floor))
			mad = floor > 1 ? floor : 1;
	}
	return mad;
}

/*
 * Scores of n rows: the root mean square of (x - pred) / scale, with
 * inv[j] = 1 / scale[j]; contrib (may be NULL) gets each z^2 / d.
 */
void
aiops_fc_score_rows(const double *x, const double *pred, const double *inv, size_t n, size_t d,
    double *out, double *contrib)
{
	double invd = 1.0 / (double)d;

	for (size_t i = 0; i < n; i++) {
		double s = 0;

		for (size_t j = 0; j < d; j++) {
			double z = (x[i * d + j] - pred[i * d + j]) * inv[j];

			s += z * z;
			if (contrib)
				contrib[i * d + j] = z * z * invd;
		}
		out[i] = sqrt(s * invd);
	}
}

int
aiops_fc_score(const struct aiops_model *m, const double *x, size_t n, size_t D, double *out,
    double *contrib, int (*forecast)(const struct aiops_model *, const double *, size_t, size_t,
    double *), const char *family, const char *arrays, struct aiops_error *e)
{
	const struct aiops_array *sc = aiops_model_get(m, "scale");
	double *pred;
	int r;

	if (sc == NULL || sc->rows != 1 || sc->cols != D)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s model lacks its scale array for %zu columns", family, D);
	if (D > SIZE_MAX / sizeof(double) / (n + 1))
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	/* the forecasts, then 1 / scale */
	if ((pred = aiops_malloc((n + 1) * D * sizeof(double))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (size_t j = 0; j < D; j++)
		pred[n * D + j] = 1 / sc->v[j];
	r = forecast(m, x, n, D, pred);
	if (r == AIOPS_ERR_FORMAT)
		aiops_error_set(e, r, "%s model lacks its %s arrays for %zu columns", family, arrays, D);
	else if (r != AIOPS_OK)
		aiops_error_set(e, r, "out of memory");
	else
		aiops_fc_score_rows(x, pred, pred + n * D, n, D, out, contrib);
	aiops_free(pred);
	return r;
}

int
aiops_forecast(const struct aiops_model *m, const double *x, size_t n, double *pred)
{
	if (m->family->forecast == NULL)
		return AIOPS_ERR_USAGE;
	return m->family->forecast(m, x, n, m->ncols, pred);
}

int
aiops_forecast_advance(struct aiops_model *m, const double *x, size_t n)
{
	if (m->family->advance == NULL)
		return AIOPS_ERR_USAGE;
	return m->family->advance(m, x, n, m->ncols);
}
