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
 * t = p..N-1 by Householder QR (the factorisation of LAPACKE_dgels, done
 * over blocks of rows: see ls_solve()), i.e. statsmodels' AutoReg(w,
 * lags=p, trend="c"); the intercept is taken out by centring each column
 * on its mean, which changes only the rounding.
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
#define AR_LS_BLOCK 2048     /* design rows per QR update */
#define AR_SCORE_BLOCK 4096  /* rows forecast and scored at a time */
/*
 * A least-squares design whose triangular factor has a reciprocal condition
 * number below this is solved again by the rank-revealing dgelsy.
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

/* the robust scale and the scores are shared: lib/forecast.c */

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

/*
 * Rows t = t0..t0+rows-1 of the regression of w_t on its lags and on lags
 * of the estimated innovations, each of w's columns less a constant.
 */
struct design {
	const double *w;     /* differenced series, w[t * ws] */
	size_t ws;
	const double *cm;    /* p + 1 constants: cm[0] off the targets, cm[k] off lag k */
	const double *eh;    /* estimated innovations, indexed like w (stride 1) */
	size_t p, q, t0, rows;
};

/* w[(t..t+nb) ws] less cm into dst */
static void
design_copy(const struct design *g, size_t t, size_t nb, double cm, double *dst)
{
	const double *src = g->w + t * g->ws;

	if (g->ws == 1)   /* the common case, which the compiler can vectorise */
		for (size_t i = 0; i < nb; i++)
			dst[i] = src[i] - cm;
	else
		for (size_t i = 0; i < nb; i++)
			dst[i] = src[i * g->ws] - cm;
}

/*
 * Rows i0..i0+nb-1 of the regression: the p + q columns and then the
 * targets, column-major into out with leading dimension ld.
 */
static void
design_fill(const struct design *g, size_t i0, size_t nb, double *out, size_t ld)
{
	size_t c = 0, t = g->t0 + i0;

	for (size_t k = 1; k <= g->p; k++, c++)
		design_copy(g, t - k, nb, g->cm[k], out + c * ld);
	for (size_t k = 1; k <= g->q; k++, c++)
		memcpy(out + c * ld, g->eh + t - k, nb * sizeof(double));
	design_copy(g, t, nb, g->cm[0], out + c * ld);
}

/*
 * Least squares for g by Householder QR, accumulated over blocks of rows:
 * the triangular [R c] of the rows so far is stacked on the next block of
 * [A b] and that is factorised again (LAPACKE_dgeqrf_work), so the design
 * never exists whole and is never scanned again; then R beta = c
 * (dtrtrs). This is dgels' factorisation without its passes over the whole
 * design, which cost more than the QR itself on a long series. When R is
 * singular or nearly so (a constant column, an exact fit given too many
 * lags), the minimum-norm solution of dgelsy on the whole design instead.
 * beta gets the p + q coefficients.
 */
static int
ls_solve(const struct design *g, double *beta, struct aiops_error *e)
{
	size_t k = g->p + g->q, k1 = k + 1, ld = k1 + AR_LS_BLOCK, have = 0;
	double *M = NULL, *tau = NULL, *work = NULL, *A = NULL, *b = NULL, q = 0, rc = 0;
	lapack_int *iw = NULL, lwork, info, rank;
	int r = AIOPS_OK;

	if (k == 0)
		return AIOPS_OK;
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)ld, (lapack_int)k1, NULL,
	    (lapack_int)ld, NULL, &q, -1);
	if (info != 0)
		return lapack_fail(e, "dgeqrf", info);
	lwork = (lapack_int)q > 3 * (lapack_int)k1 ? (lapack_int)q : 3 * (lapack_int)k1;
	M = aiops_calloc(ld * k1, sizeof(double));
	tau = aiops_calloc(k1, sizeof(double));
	work = aiops_malloc((size_t)lwork * sizeof(double));
	iw = aiops_calloc(k1, sizeof(lapack_int));
	if (!M || !tau || !work || !iw)
		goto nomem;
	for (size_t i0 = 0; i0 < g->rows; i0 += AR_LS_BLOCK) {
		size_t nb = g->rows - i0 < AR_LS_BLOCK ? g->rows - i0 : AR_LS_BLOCK;

		/* Householder vectors below R's diagonal are not part of it */
		for (size_t c = 0; c < k1; c++)
			for (size_t i = c + 1; i < have; i++)
				M[c * ld + i] = 0;
		design_fill(g, i0, nb, M + have, ld);
		info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)(have + nb),
		    (lapack_int)k1, M, (lapack_int)ld, tau, work, lwork);
		if (info != 0) {
			r = lapack_fail(e, "dgeqrf", info);
			goto out;
		}
		have = have + nb < k1 ? have + nb : k1;
	}
	memcpy(beta, M + k * ld, k * sizeof(double));
	if (LAPACKE_dtrcon_work(LAPACK_COL_MAJOR, '1', 'U', 'N', (lapack_int)k, M,
	    (lapack_int)ld, &rc, work, iw) == 0 && rc >= AR_RCOND &&
	    LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'N', 'N', (lapack_int)k, 1, M,
	    (lapack_int)ld, beta, (lapack_int)k) == 0)
		goto out;

	/* (nearly) rank deficient: the minimum-norm solution */
	A = aiops_malloc(g->rows * k1 * sizeof(double));
	if (A == NULL)
		goto nomem;
	design_fill(g, 0, g->rows, A, g->rows);
	b = A + k * g->rows;
	memset(iw, 0, k1 * sizeof(*iw));
	info = LAPACKE_dgelsy(LAPACK_COL_MAJOR, (lapack_int)g->rows, (lapack_int)k, 1, A,
	    (lapack_int)g->rows, b, (lapack_int)g->rows, iw, AR_RCOND, &rank);
	if (info != 0) {
		r = lapack_fail(e, "dgelsy", info);
		goto out;
	}
	memcpy(beta, b, k * sizeof(double));
	goto out;
nomem:
	r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	aiops_free(M);
	aiops_free(tau);
	aiops_free(work);
	aiops_free(iw);
	aiops_free(A);
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
 * ...: y_t = c + sum a_k y_{t-k} + sum theta_k e_{t-k}, where yh holds the
 * P values before v's first and eh the q innovations before it, oldest
 * first. A missing value is replaced by its forecast (innovation 0).
 */
static void
ar_run(size_t P, size_t q, double c, const double *a, const double *theta, const double *yh,
    const double *eh, const double *v, size_t n, size_t vs, double *pred, size_t ps)
{
	size_t t, warm = P > q ? P : q;

	/* the first rows reach back into yh and eh */
	for (t = 0; t < n && t < warm; t++) {
		double f = c;

		for (size_t k = 1; k <= P; k++) {
			double y = t >= k ? v[(t - k) * vs] : yh[P + t - k];

			if (t >= k && isnan(y))
				y = pred[(t - k) * ps];
			f += a[k - 1] * y;
		}
		for (size_t k = 1; k <= q; k++) {
			double ek = t >= k ? v[(t - k) * vs] - pred[(t - k) * ps] : eh[q + t - k];

			f += theta[k - 1] * (isnan(ek) ? 0 : ek);
		}
		pred[t * ps] = f;
	}
	for (; t < n; t++) {
		double f = c;

		for (size_t k = 1; k <= P; k++) {
			double y = v[(t - k) * vs];

			f += a[k - 1] * (isnan(y) ? pred[(t - k) * ps] : y);
		}
		for (size_t k = 1; k <= q; k++) {
			double ek = v[(t - k) * vs] - pred[(t - k) * ps];

			f += theta[k - 1] * (isnan(ek) ? 0 : ek);
		}
		pred[t * ps] = f;
	}
}

/* ---- fit ---------------------------------------------------------------------- */

/*
 * The sum of v[0], v[s], ... (n values) into *sum, in four interleaved
 * partial sums for speed; returns max(1, max |v|).
 */
static double
col_stats(const double *v, size_t s, size_t n, double *sum)
{
	double acc[4] = { 0, 0, 0, 0 }, mx[4] = { 1, 1, 1, 1 };
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		for (int l = 0; l < 4; l++) {
			double x = v[(i + l) * s];

			acc[l] += x;
			mx[l] = fabs(x) > mx[l] ? fabs(x) : mx[l];
		}
	for (; i < n; i++) {
		acc[0] += v[i * s];
		mx[0] = fabs(v[i * s]) > mx[0] ? fabs(v[i * s]) : mx[0];
	}
	*sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
	return fmax(fmax(mx[0], mx[1]), fmax(mx[2], mx[3]));
}

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
	size_t P, N, K, mlong = 0, R;
	double *w = NULL, *eh = NULL, *T = NULL, *rr = NULL, *al = NULL, *beta = NULL, *cm = NULL;
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
	} else {
		R = N - o.p;
	}

	/* the big buffers are written whole before they are read */
	w = aiops_malloc(n * sizeof(double));
	beta = aiops_calloc(K, sizeof(double));
	cm = aiops_calloc(o.p + 1, sizeof(double));
	coef = aiops_calloc(K * D, sizeof(double));
	tail = aiops_calloc(P * D, sizeof(double));
	etail = aiops_calloc(o.q * D, sizeof(double));
	scale = aiops_calloc(D, sizeof(double));
	a = aiops_calloc(P, sizeof(double));
	poly = aiops_calloc(P + 1, sizeof(double));
	phi = aiops_calloc(o.p + o.q, sizeof(double));
	if (!w || !beta || !cm || !coef || !tail || !etail || !scale || !a || !poly || !phi)
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
		struct design g = { w, 1, cm, NULL, o.p, o.q, 0, R };
		const double *y = x + j;
		double sum = 0, ymax = 1, c;

		if (o.d == 0 && o.q == 0) {
			/* the design reads the column in place */
			ymax = col_stats(y, D, n, &sum);
			g.w = y;
			g.ws = D;
		} else {
			for (size_t i = 0; i < n; i++) {
				w[i] = y[i * D];
				if (fabs(w[i]) > ymax)
					ymax = fabs(w[i]);
			}
			/* w[t] = (1-B)^d y at row t + d */
			for (size_t r2 = 0, len = n; r2 < o.d; r2++, len--)
				for (size_t i = 0; i + 1 < len; i++)
					w[i] = w[i + 1] - w[i];
			(void)col_stats(w, 1, N, &sum);
		}

		if (o.q == 0) {
			/*
			 * With an intercept, the slopes are those of the targets
			 * on the lags each centred on its own mean over the rows
			 * t = p..N-1 (Frisch-Waugh), which leaves the QR one
			 * column fewer; then c = cm[0] - sum phi_k cm[k].
			 */
			for (size_t kk = 0; kk <= o.p; kk++) {
				double sk = sum;

				for (size_t i = 0; i < o.p - kk; i++)
					sk -= g.w[i * g.ws];
				for (size_t i = N - kk; i < N; i++)
					sk -= g.w[i * g.ws];
				cm[kk] = sk / (double)R;
			}
			g.t0 = o.p;
			if ((r = ls_solve(&g, beta, e)) != AIOPS_OK)
				goto out;
			memcpy(phi, beta, o.p * sizeof(double));
			c = cm[0];
			for (size_t kk = 1; kk <= o.p; kk++)
				c -= phi[kk - 1] * cm[kk];
		} else {
			double mu = sum / (double)N, sphi = 0;

			for (size_t i = 0; i < N; i++)
				w[i] -= mu;
			if ((r = yule_walker(w, N, mlong, al, T, rr, ipiv, e)) != AIOPS_OK)
				goto out;
			memcpy(eh + mlong, w + mlong, (N - mlong) * sizeof(double));
			for (size_t kk = 1; kk <= mlong; kk++)
				cblas_daxpy((blasint)(N - mlong), -al[kk - 1], w + mlong - kk, 1,
				    eh + mlong, 1);
			g.eh = eh;
			g.t0 = mlong + o.q;
			if ((r = ls_solve(&g, beta, e)) != AIOPS_OK)
				goto out;
			memcpy(phi, beta, (o.p + o.q) * sizeof(double));
			/* back from the demeaned w to w itself */
			for (size_t kk = 0; kk < o.p; kk++)
				sphi += phi[kk];
			c = mu * (1 - sphi);
		}
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
		scale[j] = aiops_fc_robust_scale(w, n - P, AR_SCALE_FLOOR * ymax);
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
	aiops_free(beta);
	aiops_free(cm);
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

/*
 * Forecasting state for every column: the constant, the multiplied-out AR
 * polynomial, the MA weights, and the last P values and q innovations seen.
 */
struct ar_state {
	size_t P, q, D;
	double *c;        /* D */
	double *a;        /* D x P */
	double *theta;    /* D x q */
	double *yh;       /* D x P, oldest first */
	double *eh;       /* D x q, oldest first */
};

static void
ar_state_release(struct ar_state *st)
{
	aiops_free(st->c);
	aiops_free(st->a);
	aiops_free(st->theta);
	aiops_free(st->yh);
	aiops_free(st->eh);
}

/* AIOPS_ERR_FORMAT unless m is a fitted arima model of D columns; AIOPS_ERR_NOMEM. */
static int
ar_state_init(struct ar_state *st, const struct aiops_model *m, size_t D)
{
	const struct aiops_array *cf = aiops_model_get(m, "coef");
	const struct aiops_array *tl = aiops_model_get(m, "tail");
	const struct aiops_array *et = aiops_model_get(m, "etail");
	struct ar_order o;
	double *poly, *phi;
	size_t P;

	memset(st, 0, sizeof(*st));
	if (m->family != &aiops_fam_arima || get_orders(&m->params, &o, NULL) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	P = o.p + o.d;
	if (!cf || !tl || !et || cf->rows != 1 + o.p + o.q || tl->rows != P || et->rows != o.q ||
	    cf->cols != D || tl->cols != D || et->cols != D)
		return AIOPS_ERR_FORMAT;
	st->P = P;
	st->q = o.q;
	st->D = D;
	st->c = aiops_calloc(D, sizeof(double));
	st->a = aiops_calloc(D * P, sizeof(double));
	st->theta = aiops_calloc(D * o.q, sizeof(double));
	st->yh = aiops_calloc(D * P, sizeof(double));
	st->eh = aiops_calloc(D * o.q, sizeof(double));
	poly = aiops_calloc(P + 1, sizeof(double));
	phi = aiops_calloc(o.p + 1, sizeof(double));
	if (!st->c || !st->a || !st->theta || !st->yh || !st->eh || !poly || !phi) {
		ar_state_release(st);
		aiops_free(poly);
		aiops_free(phi);
		return AIOPS_ERR_NOMEM;
	}
	for (size_t j = 0; j < D; j++) {
		st->c[j] = cf->v[j];
		for (size_t k = 0; k < o.p; k++)
			phi[k] = cf->v[(1 + k) * D + j];
		ar_expand(phi, o.p, o.d, st->a + j * P, poly);
		for (size_t k = 0; k < o.q; k++)
			st->theta[j * o.q + k] = cf->v[(1 + o.p + k) * D + j];
		for (size_t k = 0; k < P; k++)
			st->yh[j * P + k] = tl->v[k * D + j];
		for (size_t k = 0; k < o.q; k++)
			st->eh[j * o.q + k] = et->v[k * D + j];
	}
	aiops_free(poly);
	aiops_free(phi);
	return AIOPS_OK;
}

/* Forecast the n rows x into pred (n x D) and move the state past them. */
static void
ar_state_run(struct ar_state *st, const double *x, size_t n, double *pred)
{
	size_t P = st->P, q = st->q, D = st->D;

	for (size_t j = 0; j < D; j++) {
		double *yh = st->yh + j * P, *eh = st->eh + j * q;

		ar_run(P, q, st->c[j], st->a + j * P, st->theta + j * q, yh, eh, x + j, n, D,
		    pred + j, D);
		/* new history: the last P values (a NaN by its forecast) of old ++ x */
		for (size_t k = 0; k < P; k++) {
			if (n + k >= P) {
				size_t i = (n + k - P) * D + j;
				yh[k] = isnan(x[i]) ? pred[i] : x[i];
			} else {
				yh[k] = yh[n + k];
			}
		}
		for (size_t k = 0; k < q; k++) {
			if (n + k >= q) {
				size_t i = (n + k - q) * D + j;
				eh[k] = isnan(x[i]) ? 0 : x[i] - pred[i];
			} else {
				eh[k] = eh[n + k];
			}
		}
	}
}

int
aiops_forecast_arima(const struct aiops_model *m, const double *x, size_t n, size_t D,
    double *pred)
{
	struct ar_state st;
	int r;

	if ((r = ar_state_init(&st, m, D)) != AIOPS_OK)
		return r;
	ar_state_run(&st, x, n, pred);
	ar_state_release(&st);
	return AIOPS_OK;
}

int
aiops_advance_arima(struct aiops_model *m, const double *x, size_t n, size_t D)
{
	const struct aiops_array *tl = aiops_model_get(m, "tail");
	const struct aiops_array *et = aiops_model_get(m, "etail");
	struct ar_state st;
	double *pred;
	int r;

	if ((r = ar_state_init(&st, m, D)) != AIOPS_OK)
		return r;
	if ((pred = aiops_calloc(n ? n * D : 1, sizeof(double))) == NULL) {
		ar_state_release(&st);
		return AIOPS_ERR_NOMEM;
	}
	ar_state_run(&st, x, n, pred);
	/* back into the model's own arrays (rows oldest first, as fit stores them) */
	for (size_t j = 0; j < D; j++) {
		for (size_t k = 0; k < st.P; k++)
			tl->v[k * D + j] = st.yh[j * st.P + k];
		for (size_t k = 0; k < st.q; k++)
			et->v[k * D + j] = st.eh[j * st.q + k];
	}
	aiops_free(pred);
	ar_state_release(&st);
	return AIOPS_OK;
}

/* Forecast and score in batches of rows, so that no n x D forecast is held. */
static int
ar_score(const struct aiops_model *m, const double *x, size_t n, size_t D, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *sc = aiops_model_get(m, "scale");
	struct ar_state st;
	double *pred, *inv;
	int r;

	if (sc == NULL || sc->rows != 1 || sc->cols != D)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "arima model lacks its scale array for %zu columns", D);
	if ((r = ar_state_init(&st, m, D)) != AIOPS_OK) {
		if (r == AIOPS_ERR_FORMAT)
			return aiops_error_set(e, r, "arima model lacks its coef/tail/etail arrays "
			    "for p, d, q and %zu columns", D);
		return aiops_error_set(e, r, "out of memory");
	}
	/* the forecasts of a batch, then 1 / scale */
	if (D > SIZE_MAX / sizeof(double) / (AR_SCORE_BLOCK + 1) ||
	    (pred = aiops_malloc(((size_t)AR_SCORE_BLOCK + 1) * D * sizeof(double))) == NULL) {
		ar_state_release(&st);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	inv = pred + (size_t)AR_SCORE_BLOCK * D;
	for (size_t j = 0; j < D; j++)
		inv[j] = 1 / sc->v[j];
	for (size_t i0 = 0; i0 < n; i0 += AR_SCORE_BLOCK) {
		size_t nb = n - i0 < AR_SCORE_BLOCK ? n - i0 : AR_SCORE_BLOCK;

		ar_state_run(&st, x + i0 * D, nb, pred);
		aiops_fc_score_rows(x + i0 * D, pred, inv, nb, D, out + i0,
		    contrib ? contrib + i0 * D : NULL);
	}
	aiops_free(pred);
	ar_state_release(&st);
	return AIOPS_OK;
}

static const char *const ar_params[] = { "p", "d", "q", NULL };

const struct aiops_family aiops_fam_arima = {
	"arima", "forecaster",
	"p (AR order, default 2), d (differences, default 0), q (MA order, default 0)",
	ar_params, ar_min_rows, ar_fit, ar_score, aiops_forecast_arima, aiops_advance_arima
};
