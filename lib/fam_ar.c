/*
 * fam_ar.c - ARIMA(p,d,q) forecaster, one model per column: conditional
 * least squares for q = 0, Hannan-Rissanen for q > 0.
 *
 * The forecaster contract (fam_hw.c and fam_ridge.c keep it too): x is
 * n rows x d columns in time order. fit() learns the dynamics and stores,
 * besides the coefficients, each column's residual scale (1.4826 MAD about
 * the median of the in-sample one-step residuals) and the last training
 * rows needed to go on forecasting (the "tail"). score() forecasts each row
 * of x one step ahead, continuing from that tail, so the rows right after
 * the training rows score from row 0; the score of a row is the root mean
 * square over columns of residual/scale, and contrib_j is
 * (residual_j/scale_j)^2 / d. A NaN in x scores NaN, and its forecast
 * stands in for it in the forecasts after it. aiops_forecast_arima()
 * (forecast.h) returns the forecasts themselves.
 *
 * Per column, w = (1-B)^d y (y differenced d times, N = n - d values) and
 *     w_t = c + phi_1 w_{t-1} + ... + phi_p w_{t-p}
 *             + theta_1 e_{t-1} + ... + theta_q e_{t-q} + e_t.
 * q = 0: least squares of w_t on (1, w_{t-1}, ..., w_{t-p}) over
 * t = p..N-1 by LAPACKE_dgels: statsmodels' AutoReg(w, lags=p, trend="c").
 * The lags are centred on mean(w) first, which changes only the rounding.
 * q > 0: Hannan-Rissanen as statsmodels' hannan_rissanen(w, p, q,
 * demean=True, unbiased=False): w is demeaned; a long AR of order
 * m = max(floor(ln(N)^2), 2 max(p, q)) fitted by Yule-Walker (biased
 * autocovariances) estimates the innovations e^_t, t >= m; then least
 * squares without intercept of w_t on (w_{t-1..t-p}, e^_{t-1..t-q}) over
 * t = m+q..N-1, and c = mean(w) (1 - sum phi). m is lowered when N is too
 * short to leave the second stage p + q + 1 rows.
 *
 * Forecasts of y use the AR polynomial multiplied out with (1-B)^d, which
 * undoes the differencing; the innovations before the first forecast of
 * the training data are taken as 0.
 *
 * Stored arrays (D columns): "coef" (1+p+q) x D, column j holding
 * c, phi_1..phi_p, theta_1..theta_q; "tail" (p+d) x D, the last training
 * rows, oldest first; "etail" q x D, the last in-sample innovations,
 * oldest first; "scale" 1 x D.
 */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "forecast.h"
#include "model.h"

#define AR_MAX_ORDER 1000
#define AR_MAX_DIFF 10
/*
 * A least-squares design whose triangular factor has a reciprocal condition
 * number below this (a constant column, an exact series given too many
 * lags) is solved again by the rank-revealing dgelsy, minimum norm.
 */
#define AR_RCOND 1e-12
/*
 * A column forecast exactly has MAD 0; its scale is raised to this
 * fraction of its largest |value| (at least this much) so that rounding
 * errors do not score as anomalies.
 */
#define AR_SCALE_FLOOR 1e-12

extern const struct aiops_family aiops_fam_arima;

struct ar_order {
	size_t p, d, q;
};

/* ---- shared by the forecasters: robust scale and scores ---------------- */

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
 * The k-th smallest of v[0..n) of finite values and, when prev is not NULL,
 * the (k-1)-th (k >= 1); may reorder v. Large inputs follow Floyd and
 * Rivest: a fixed pseudo-random sample brackets the answer between two of
 * its order statistics, one branch-free pass counts the values below the
 * bracket and gathers those inside it, and quickselect finishes on the few
 * gathered. When the bracket misses or the scratch cannot be had, plain
 * quickselect on v.
 */
static double
kth(double *v, size_t n, size_t k, double *prev)
{
	size_t s, delta, cap, below = 0, m = 0, klo, khi;
	double *S = NULL, *C = NULL, lo, hi, r;
	uint64_t z = 0x9e3779b97f4a7c15u;

	if (n < 8192)
		goto plain;
	s = (size_t)pow((double)n, 2.0 / 3.0);
	delta = (size_t)(2 * sqrt((double)s)) + 1;
	cap = 3 * (2 * delta + 1) * (n / s + 1) + 1024;
	S = aiops_malloc(s * sizeof(double));
	C = aiops_malloc((cap + 1) * sizeof(double));
	if (S == NULL || C == NULL)
		goto plain;
	for (size_t i = 0; i < s; i++) {
		/* splitmix64: the same sample on every run */
		uint64_t u = (z += 0x9e3779b97f4a7c15u);
		u = (u ^ (u >> 30)) * 0xbf58476d1ce4e5b9u;
		u = (u ^ (u >> 27)) * 0x94d049bb133111ebu;
		S[i] = v[(u ^ (u >> 31)) % n];
	}
	klo = (size_t)((double)k / (double)n * (double)s);
	khi = klo + delta < s ? klo + delta : s - 1;
	klo = klo > delta ? klo - delta : 0;
	lo = klo > 0 ? select_k(S, s, klo) : -INFINITY;
	hi = khi < s - 1 ? select_k(S, s, khi) : INFINITY;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];

		below += (size_t)(x < lo);
		C[m < cap ? m : cap] = x;
		m += (size_t)((x >= lo) & (x <= hi));
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
	aiops_free(S);
	aiops_free(C);
	return r;
plain:
	aiops_free(S);
	aiops_free(C);
	r = select_k(v, n, k);
	if (prev) {
		*prev = v[0];
		for (size_t i = 1; i < k; i++)
			if (v[i] > *prev)
				*prev = v[i];
	}
	return r;
}

/* The median of v[0..n), n >= 1, as numpy's; may reorder v. */
static double
median(double *v, size_t n)
{
	double lo, hi;

	if (n % 2)
		return kth(v, n, n / 2, NULL);
	hi = kth(v, n, n / 2, &lo);
	return 0.5 * (lo + hi);
}

/*
 * 1.4826 MAD about the median of the finite values of r[0..n), at least
 * floor (also when there are none); destroys r.
 */
static double
robust_scale(double *r, size_t n, double floor)
{
	size_t m = 0;
	double med, mad;

	for (size_t i = 0; i < n; i++) {
		r[m] = r[i];
		m += (size_t)isfinite(r[i]);
	}
	if (m == 0)
		return floor;
	med = median(r, m);
	for (size_t i = 0; i < m; i++)
		r[i] = fabs(r[i] - med);
	mad = 1.4826 * median(r, m);
	return mad > floor ? mad : floor;
}

static void
score_rows(const double *x, const double *pred, const double *scale, size_t n, size_t d,
    double *out, double *contrib)
{
	for (size_t i = 0; i < n; i++) {
		double s = 0;

		for (size_t j = 0; j < d; j++) {
			double z = (x[i * d + j] - pred[i * d + j]) / scale[j];

			s += z * z;
			if (contrib)
				contrib[i * d + j] = z * z / (double)d;
		}
		out[i] = sqrt(s / (double)d);
	}
}

/* ---- parameters ---------------------------------------------------------- */

static int
get_order(const struct aiops_params *ps, const char *name, double def, double max, size_t *v,
    struct aiops_error *e)
{
	double x = aiops_param(ps, name, def);

	if (!(x >= 0 && x <= max) || x != floor(x))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "arima: %s=%g must be a whole number from 0 to %g", name, x, max);
	*v = (size_t)x;
	return AIOPS_OK;
}

static int
get_orders(const struct aiops_params *ps, struct ar_order *o, struct aiops_error *e)
{
	int r;

	if ((r = get_order(ps, "p", 2, AR_MAX_ORDER, &o->p, e)) != AIOPS_OK ||
	    (r = get_order(ps, "d", 0, AR_MAX_DIFF, &o->d, e)) != AIOPS_OK ||
	    (r = get_order(ps, "q", 0, AR_MAX_ORDER, &o->q, e)) != AIOPS_OK)
		return r;
	return AIOPS_OK;
}

/*
 * Fewest differenced values: every regression keeps one residual degree of
 * freedom, and for q > 0 the long AR is at least 2 max(p, q).
 */
static size_t
min_diffed(const struct ar_order *o)
{
	size_t m0 = 2 * (o->p > o->q ? o->p : o->q);

	if (o->q == 0)
		return o->p + (1 + o->p) + 1;
	return m0 + o->q + (o->p + o->q) + 1;
}

static size_t
ar_min_rows(const struct aiops_params *ps, size_t d)
{
	struct ar_order o;

	(void)d;
	/* invalid orders are reported by fit, which names them */
	if (get_orders(ps, &o, NULL) != AIOPS_OK)
		return 2;
	return o.d + min_diffed(&o);
}

static int
lapack_fail(struct aiops_error *e, const char *fn, lapack_int info)
{
	if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "arima: %s: out of memory", fn);
	return aiops_error_set(e, AIOPS_ERR_DATA, "arima: %s failed (info %d)", fn, (int)info);
}

/* ---- least squares --------------------------------------------------------- */

/* Rows t = t0..t0+rows-1 of the regression of w_t on (1,) w lags and e lags. */
struct design {
	const double *w;     /* centred differenced series */
	const double *eh;    /* estimated innovations, indexed like w; NULL when q = 0 */
	size_t p, q, t0, rows;
	int icept;
};

static size_t
design_cols(const struct design *g)
{
	return (g->icept ? 1 : 0) + g->p + g->q;
}

/* A: rows x cols column-major; b: the rows targets. */
static void
design_fill(const struct design *g, double *A, double *b)
{
	size_t R = g->rows, c = 0;

	if (g->icept) {
		for (size_t i = 0; i < R; i++)
			A[i] = 1;
		c = 1;
	}
	for (size_t k = 1; k <= g->p; k++, c++)
		memcpy(A + c * R, g->w + g->t0 - k, R * sizeof(double));
	for (size_t k = 1; k <= g->q; k++, c++)
		memcpy(A + c * R, g->eh + g->t0 - k, R * sizeof(double));
	memcpy(b, g->w + g->t0, R * sizeof(double));
}

/*
 * Least squares for g by Householder QR (LAPACKE_dgels_work: the plain
 * LAPACKE wrapper would first scan the whole design for NaNs, which w
 * cannot hold); the solution is left in b[0..cols).
 */
static int
ls_solve(const struct design *g, double *A, double *b, struct aiops_error *e)
{
	lapack_int R = (lapack_int)g->rows, k = (lapack_int)design_cols(g), info, rank;
	lapack_int lwork, *iw = NULL;
	double q = 0, rc = 0, *work = NULL;
	int r = AIOPS_OK;

	design_fill(g, A, b);
	info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', R, k, 1, A, R, b, R, &q, -1);
	if (info != 0)
		return lapack_fail(e, "dgels", info);
	lwork = (lapack_int)q > 3 * k ? (lapack_int)q : 3 * k;
	work = aiops_malloc((size_t)lwork * sizeof(double));
	iw = aiops_malloc((size_t)k * sizeof(lapack_int));
	if (work == NULL || iw == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', R, k, 1, A, R, b, R, work, lwork);
	if (info < 0) {
		r = lapack_fail(e, "dgels", info);
		goto out;
	}
	if (info == 0 && LAPACKE_dtrcon_work(LAPACK_COL_MAJOR, '1', 'U', 'N', k, A, R, &rc, work,
	    iw) == 0 && rc >= AR_RCOND)
		goto out;
	/* (nearly) rank deficient: the minimum-norm solution */
	design_fill(g, A, b);
	memset(iw, 0, (size_t)k * sizeof(*iw));
	info = LAPACKE_dgelsy(LAPACK_COL_MAJOR, R, k, 1, A, R, b, R, iw, AR_RCOND, &rank);
	if (info != 0)
		r = lapack_fail(e, "dgelsy", info);
out:
	aiops_free(work);
	aiops_free(iw);
	return r;
}

/*
 * Yule-Walker AR(m) coefficients of the demeaned w[0..N) into a[0..m),
 * autocovariances divided by N (statsmodels' method="mle"). A singular
 * Toeplitz system (a constant series) has no AR structure: a = 0.
 * T is m x m and r m + 1 of scratch.
 */
static int
yule_walker(const double *w, size_t N, size_t m, double *a, double *T, double *r,
    lapack_int *ipiv, struct aiops_error *e)
{
	lapack_int info;

	for (size_t k = 0; k <= m; k++)
		r[k] = cblas_ddot((blasint)(N - k), w, 1, w + k, 1) / (double)N;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < m; j++)
			T[i * m + j] = r[i > j ? i - j : j - i];
	memcpy(a, r + 1, m * sizeof(double));
	info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)m, 1, T, (lapack_int)m, ipiv, a, 1);
	if (info < 0)
		return lapack_fail(e, "dgesv", info);
	if (info > 0)
		memset(a, 0, m * sizeof(double));
	return AIOPS_OK;
}

/* ---- forecasting ------------------------------------------------------------ */

/*
 * phi(B) (1-B)^d = 1 - a_1 B - ... - a_P B^P, P = p + d, into a[0..P);
 * poly is P + 1 of scratch.
 */
static void
ar_expand(const double *phi, size_t p, size_t d, double *a, double *poly)
{
	size_t deg = p;

	poly[0] = 1;
	for (size_t k = 1; k <= p; k++)
		poly[k] = -phi[k - 1];
	for (size_t r = 0; r < d; r++) {
		poly[++deg] = 0;
		for (size_t k = deg; k >= 1; k--)
			poly[k] -= poly[k - 1];
	}
	for (size_t k = 1; k <= deg; k++)
		a[k - 1] = -poly[k];
}

/*
 * One-step forecasts of v[0], v[vs], ... (n values) into pred[0], pred[ps],
 * ...: y_t = c + sum a_k y_{t-k} + sum theta_k e_{t-k}. yh holds P + n
 * values with the P before v's first in front, eh q + n likewise (unused
 * when q = 0); both are filled in as the run goes, a missing value by its
 * forecast with innovation 0.
 */
static void
ar_run(size_t P, size_t q, double c, const double *a, const double *theta, double *yh,
    double *eh, const double *v, size_t n, size_t vs, double *pred, size_t ps)
{
	for (size_t t = 0; t < n; t++) {
		double f = c, y = v[t * vs];

		for (size_t k = 1; k <= P; k++)
			f += a[k - 1] * yh[t + P - k];
		for (size_t k = 1; k <= q; k++)
			f += theta[k - 1] * eh[t + q - k];
		pred[t * ps] = f;
		if (isnan(y))
			y = f;
		yh[t + P] = y;
		if (q)
			eh[t + q] = y - f;
	}
}

/* ---- fit ---------------------------------------------------------------------- */

/*
 * In-sample one-step residuals y_t - yhat_t, t = P..n-1, of the column
 * y[0], y[s], ... into res[0..n-P), by the same arithmetic as ar_run();
 * the innovations before row P are 0.
 */
static void
ar_resid(size_t P, size_t q, double c, const double *a, const double *theta, const double *y,
    size_t s, size_t n, double *res)
{
	for (size_t t = P; t < n; t++) {
		double f = c;

		for (size_t k = 1; k <= P; k++)
			f += a[k - 1] * y[(t - k) * s];
		for (size_t k = 1; k <= q && k <= t - P; k++)
			f += theta[k - 1] * res[t - P - k];
		res[t - P] = y[t * s] - f;
	}
}

static int
ar_fit(struct aiops_model *m, const double *x, size_t n, size_t D, struct aiops_error *e)
{
	struct ar_order o;
	size_t P, N, K, mlong = 0, R, k;
	double *w = NULL, *A = NULL, *b = NULL, *eh = NULL, *T = NULL, *rr = NULL, *al = NULL;
	double *coef = NULL, *tail = NULL, *etail = NULL, *scale = NULL, *a = NULL;
	double *poly = NULL, *phi = NULL;
	lapack_int *ipiv = NULL;
	int r;

	if ((r = get_orders(&m->params, &o, e)) != AIOPS_OK)
		return r;
	if (n < o.d + min_diffed(&o))
		return aiops_error_set(e, AIOPS_ERR_DATA, "arima needs at least %zu rows, got %zu",
		    o.d + min_diffed(&o), n);
	if (n > INT_MAX)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "arima: %zu rows is too many", n);
	P = o.p + o.d;
	N = n - o.d;
	K = 1 + o.p + o.q;
	if (o.q > 0) {
		size_t m0 = 2 * (o.p > o.q ? o.p : o.q), cap = N - o.q - (o.p + o.q + 1);
		double lg = log((double)N);

		mlong = (size_t)floor(lg * lg);
		if (mlong < m0)
			mlong = m0;
		if (mlong > cap)
			mlong = cap;
		R = N - mlong - o.q;
		k = o.p + o.q;
	} else {
		R = N - o.p;
		k = 1 + o.p;
	}

	/* the big buffers are written whole before they are read */
	w = aiops_malloc(n * sizeof(double));
	A = aiops_malloc(R * k * sizeof(double));
	b = aiops_malloc(R * sizeof(double));
	coef = aiops_calloc(K * D, sizeof(double));
	tail = aiops_calloc(P * D, sizeof(double));
	etail = aiops_calloc(o.q * D, sizeof(double));
	scale = aiops_calloc(D, sizeof(double));
	a = aiops_calloc(P, sizeof(double));
	poly = aiops_calloc(P + 1, sizeof(double));
	phi = aiops_calloc(o.p + o.q, sizeof(double));
	if (!w || !A || !b || !coef || !tail || !etail || !scale || !a || !poly || !phi)
		goto nomem;
	if (o.q > 0) {
		eh = aiops_malloc(N * sizeof(double));
		T = aiops_calloc(mlong * mlong, sizeof(double));
		rr = aiops_calloc(mlong + 1, sizeof(double));
		al = aiops_calloc(mlong, sizeof(double));
		ipiv = aiops_calloc(mlong, sizeof(lapack_int));
		if (!eh || !T || !rr || !al || !ipiv)
			goto nomem;
	}

	for (size_t j = 0; j < D; j++) {
		struct design g = { w, NULL, o.p, o.q, 0, R, 0 };
		const double *y = x + j;
		double mu = 0, ymax = 1, sphi = 0, c;

		for (size_t i = 0; i < n; i++) {
			w[i] = y[i * D];
			if (fabs(w[i]) > ymax)
				ymax = fabs(w[i]);
		}
		/* w[t] = (1-B)^d y at row t + d */
		for (size_t r2 = 0, len = n; r2 < o.d; r2++, len--)
			for (size_t i = 0; i + 1 < len; i++)
				w[i] = w[i + 1] - w[i];
		for (size_t i = 0; i < N; i++)
			mu += w[i];
		mu /= (double)N;
		for (size_t i = 0; i < N; i++)
			w[i] -= mu;

		if (o.q == 0) {
			g.t0 = o.p;
			g.icept = 1;
			if ((r = ls_solve(&g, A, b, e)) != AIOPS_OK)
				goto out;
			memcpy(phi, b + 1, o.p * sizeof(double));
			c = b[0];
		} else {
			if ((r = yule_walker(w, N, mlong, al, T, rr, ipiv, e)) != AIOPS_OK)
				goto out;
			memcpy(eh + mlong, w + mlong, (N - mlong) * sizeof(double));
			for (size_t kk = 1; kk <= mlong; kk++)
				cblas_daxpy((blasint)(N - mlong), -al[kk - 1], w + mlong - kk, 1,
				    eh + mlong, 1);
			g.eh = eh;
			g.t0 = mlong + o.q;
			if ((r = ls_solve(&g, A, b, e)) != AIOPS_OK)
				goto out;
			memcpy(phi, b, (o.p + o.q) * sizeof(double));
			c = 0;
		}
		for (size_t kk = 0; kk < o.p; kk++)
			sphi += phi[kk];
		/* back from the centred w to w itself */
		c += mu * (1 - sphi);
		coef[j] = c;
		for (size_t kk = 0; kk < o.p + o.q; kk++)
			coef[(1 + kk) * D + j] = phi[kk];

		/* in-sample residuals (w is free now), the last q of them kept */
		ar_expand(phi, o.p, o.d, a, poly);
		ar_resid(P, o.q, c, a, phi + o.p, y, D, n, w);
		for (size_t kk = 0; kk < o.q; kk++)
			etail[kk * D + j] = w[n - P - o.q + kk];
		for (size_t kk = 0; kk < P; kk++)
			tail[kk * D + j] = y[(n - P + kk) * D];
		scale[j] = robust_scale(w, n - P, AR_SCALE_FLOOR * ymax);
	}
	if (aiops_model_put(m, "coef", K, D, coef) != AIOPS_OK ||
	    aiops_model_put(m, "tail", P, D, tail) != AIOPS_OK ||
	    aiops_model_put(m, "etail", o.q, D, etail) != AIOPS_OK ||
	    aiops_model_put(m, "scale", 1, D, scale) != AIOPS_OK)
		goto nomem;
	r = AIOPS_OK;
	goto out;
nomem:
	r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	aiops_free(w);
	aiops_free(A);
	aiops_free(b);
	aiops_free(coef);
	aiops_free(tail);
	aiops_free(etail);
	aiops_free(scale);
	aiops_free(a);
	aiops_free(poly);
	aiops_free(phi);
	aiops_free(eh);
	aiops_free(T);
	aiops_free(rr);
	aiops_free(al);
	aiops_free(ipiv);
	return r;
}

/* ---- forecast and score ----------------------------------------------------- */

int
aiops_forecast_arima(const struct aiops_model *m, const double *x, size_t n, size_t D,
    double *pred)
{
	const struct aiops_array *cf = aiops_model_get(m, "coef");
	const struct aiops_array *tl = aiops_model_get(m, "tail");
	const struct aiops_array *et = aiops_model_get(m, "etail");
	struct ar_order o;
	size_t P;
	double *yh = NULL, *eh = NULL, *a = NULL, *poly = NULL, *phi = NULL;
	int r = AIOPS_ERR_NOMEM;

	if (m->family != &aiops_fam_arima || get_orders(&m->params, &o, NULL) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	P = o.p + o.d;
	if (!cf || !tl || !et || cf->rows != 1 + o.p + o.q || tl->rows != P || et->rows != o.q ||
	    cf->cols != D || tl->cols != D || et->cols != D)
		return AIOPS_ERR_FORMAT;
	yh = aiops_calloc(P + n, sizeof(double));
	eh = aiops_calloc(o.q + n, sizeof(double));
	a = aiops_calloc(P, sizeof(double));
	poly = aiops_calloc(P + 1, sizeof(double));
	phi = aiops_calloc(o.p + o.q, sizeof(double));
	if (!yh || !eh || !a || !poly || !phi)
		goto out;
	for (size_t j = 0; j < D; j++) {
		for (size_t k = 0; k < o.p + o.q; k++)
			phi[k] = cf->v[(1 + k) * D + j];
		for (size_t k = 0; k < P; k++)
			yh[k] = tl->v[k * D + j];
		for (size_t k = 0; k < o.q; k++)
			eh[k] = et->v[k * D + j];
		ar_expand(phi, o.p, o.d, a, poly);
		ar_run(P, o.q, cf->v[j], a, phi + o.p, yh, eh, x + j, n, D, pred + j, D);
	}
	r = AIOPS_OK;
out:
	aiops_free(yh);
	aiops_free(eh);
	aiops_free(a);
	aiops_free(poly);
	aiops_free(phi);
	return r;
}

static int
ar_score(const struct aiops_model *m, const double *x, size_t n, size_t D, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *sc = aiops_model_get(m, "scale");
	double *pred;
	int r;

	if (sc == NULL || sc->rows != 1 || sc->cols != D)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "arima model lacks its scale array for %zu columns", D);
	if (n != 0 && D > SIZE_MAX / sizeof(double) / n)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if ((pred = aiops_malloc(n * D * sizeof(double))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	r = aiops_forecast_arima(m, x, n, D, pred);
	if (r == AIOPS_ERR_FORMAT)
		aiops_error_set(e, r, "arima model lacks its coef/tail/etail arrays for "
		    "p, d, q and %zu columns", D);
	else if (r != AIOPS_OK)
		aiops_error_set(e, r, "out of memory");
	else
		score_rows(x, pred, sc->v, n, D, out, contrib);
	aiops_free(pred);
	return r;
}

static const char *const ar_params[] = { "p", "d", "q", NULL };

const struct aiops_family aiops_fam_arima = {
	"arima", "forecaster",
	"p (AR order, default 2), d (differences, default 0), q (MA order, default 0)",
	ar_params, ar_min_rows, ar_fit, ar_score
};
