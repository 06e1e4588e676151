/*
 * fam_ridge.c - ridge regression forecaster: every column predicted from
 * the last p rows of all columns (a VAR(p) with an L2 penalty).
 *
 * The forecaster contract (as in fam_ar.c): x is n rows x d columns in time
 * order. fit() learns the joint dynamics and stores, besides the
 * coefficients, each column's residual scale (1.4826 MAD about the median
 * of the in-sample one-step residuals) and the last p training rows (the
 * "tail"). score() forecasts each row of x one step ahead, continuing from
 * that tail, so the rows right after the training rows score from row 0;
 * the score of a row is the root mean square over columns of
 * residual/scale, and contrib_j is (residual_j/scale_j)^2 / d. A NaN in x
 * scores NaN, and its forecast stands in for it in the later windows.
 * aiops_forecast_ridge() (forecast.h) returns the forecasts themselves.
 *
 * The features of row t are the p x d window of rows t-p..t-1 flattened
 * oldest first: feature r d + i is column i of row t - p + r. Over the
 * targets t = p..n-1 the design X and the targets Y are centred on their
 * means, so that the intercept is not penalised, and
 *     (Xc^T Xc + lambda I) B = Xc^T Yc,   intercept = mean(Y) - mean(X) B:
 * scikit-learn's Ridge(alpha=lambda, fit_intercept=True) on that design.
 * Xc^T Xc and Xc^T Yc are accumulated over blocks of rows in a fixed order
 * (cblas_dsyrk, cblas_dgemm) and solved by LAPACKE_dposv (Cholesky).
 *
 * Stored arrays (D columns, K = p D features): "coef" K x D, row f the
 * weights of feature f; "intercept" 1 x D; "tail" p x D, the last training
 * rows, oldest first; "scale" 1 x D.
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

#define RIDGE_MAX_P 1000
#define RIDGE_BLOCK 512   /* rows per dsyrk/dgemm update and per forecast batch */
/*
 * A column forecast exactly has MAD 0; its scale is raised to this
 * fraction of its largest |value| (at least this much) so that rounding
 * errors do not score as anomalies.
 */
#define RIDGE_SCALE_FLOOR 1e-12

extern const struct aiops_family aiops_fam_ridge;

struct ridge_par {
	size_t p;
	double lambda;
};

/* the robust scale and the scores are shared: lib/forecast.c */

/* ---- parameters ---------------------------------------------------------- */

static int
get_par(const struct aiops_params *ps, struct ridge_par *rp, struct aiops_error *e)
{
	double v = aiops_param(ps, "p", 3);

	if (!(v >= 1 && v <= RIDGE_MAX_P) || v != floor(v))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "ridge: p=%g must be a whole number of rows from 1 to %d", v, RIDGE_MAX_P);
	rp->p = (size_t)v;
	v = aiops_param(ps, "lambda", 1.0);
	if (!(v >= 0) || isinf(v))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "ridge: lambda=%g must be a finite number >= 0", v);
	rp->lambda = v;
	return AIOPS_OK;
}

/*
 * p rows of history, then with lambda = 0 one row more than features (so
 * that X^T X can be regular with a residual left), else 2 rows.
 */
static size_t
min_targets(const struct ridge_par *rp, size_t d)
{
	if (rp->lambda > 0)
		return 2;
	if (d > (SIZE_MAX - 2) / rp->p)
		return SIZE_MAX - rp->p;
	return rp->p * d + 1;
}

static size_t
ridge_min_rows(const struct aiops_params *ps, size_t d)
{
	struct ridge_par rp;

	/* invalid parameters are reported by fit, which names them */
	if (get_par(ps, &rp, NULL) != AIOPS_OK)
		return 2;
	return rp.p + min_targets(&rp, d);
}

/* ---- forecasting ------------------------------------------------------------ */

/*
 * One-step forecasts of the n rows x into pred (n x D): intercept + window
 * B. W is (p + RIDGE_BLOCK) x D with the p rows before x's first in front,
 * and F RIDGE_BLOCK x K of scratch. A batch without missing values goes
 * through one dgemm; one with a NaN row by row, the forecast standing in for
 * the NaN in the windows after it. On return W's first p rows are the last
 * p rows seen.
 */
static void
ridge_run(const double *B, const double *icpt, size_t p, size_t D, double *W, double *F,
    const double *x, size_t n, double *pred)
{
	size_t K = p * D;

	for (size_t i0 = 0; i0 < n; i0 += RIDGE_BLOCK) {
		size_t nb = n - i0 < RIDGE_BLOCK ? n - i0 : RIDGE_BLOCK;
		double *P = pred + i0 * D, *cur = W + p * D;
		int miss = 0;

		memcpy(cur, x + i0 * D, nb * D * sizeof(double));
		for (size_t k = 0; k < nb * D && !miss; k++)
			miss = isnan(cur[k]);
		for (size_t t = 0; t < nb; t++)
			memcpy(P + t * D, icpt, D * sizeof(double));
		if (!miss) {
			for (size_t t = 0; t < nb; t++)
				memcpy(F + t * K, W + t * D, K * sizeof(double));
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nb,
			    (blasint)D, (blasint)K, 1.0, F, (blasint)K, B, (blasint)D, 1.0, P,
			    (blasint)D);
		} else {
			for (size_t t = 0; t < nb; t++) {
				cblas_dgemv(CblasRowMajor, CblasTrans, (blasint)K, (blasint)D, 1.0,
				    B, (blasint)D, W + t * D, 1, 1.0, P + t * D, 1);
				for (size_t j = 0; j < D; j++)
					if (isnan(cur[t * D + j]))
						cur[t * D + j] = P[t * D + j];
			}
		}
		memmove(W, W + nb * D, K * sizeof(double));
	}
}

/* ---- fit ---------------------------------------------------------------------- */

static int
ridge_fit(struct aiops_model *m, const double *x, size_t n, size_t D, struct aiops_error *e)
{
	struct ridge_par rp;
	size_t K, N;
	double *xbar = NULL, *ybar = NULL, *G = NULL, *H = NULL, *F = NULL, *Yb = NULL;
	double *W = NULL, *pred = NULL, *res = NULL, *icpt = NULL, *scale = NULL;
	lapack_int info;
	int r;

	if ((r = get_par(&m->params, &rp, e)) != AIOPS_OK)
		return r;
	if (D == 0 || D > (size_t)INT_MAX / rp.p || n > INT_MAX)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "ridge: %zu rows of %zu columns with "
		    "p=%zu is beyond this implementation", n, D, rp.p);
	if (n < rp.p + min_targets(&rp, D))
		return aiops_error_set(e, AIOPS_ERR_DATA, "ridge needs at least %zu rows, got %zu",
		    rp.p + min_targets(&rp, D), n);
	K = rp.p * D;
	N = n - rp.p;
	if (K > SIZE_MAX / sizeof(double) / K || N > SIZE_MAX / sizeof(double) / D)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	xbar = aiops_calloc(K, sizeof(double));
	ybar = aiops_calloc(D, sizeof(double));
	G = aiops_calloc(K * K, sizeof(double));
	H = aiops_calloc(K * D, sizeof(double));
	F = aiops_calloc((size_t)RIDGE_BLOCK * K, sizeof(double));
	Yb = aiops_calloc((size_t)RIDGE_BLOCK * D, sizeof(double));
	W = aiops_calloc((rp.p + RIDGE_BLOCK) * D, sizeof(double));
	pred = aiops_calloc(N * D, sizeof(double));
	res = aiops_calloc(N, sizeof(double));
	icpt = aiops_calloc(D, sizeof(double));
	scale = aiops_calloc(D, sizeof(double));
	if (!xbar || !ybar || !G || !H || !F || !Yb || !W || !pred || !res || !icpt || !scale)
		goto nomem;

	/* the window of target t starts at row t - p: x + (t - p) D, K values */
	for (size_t t = rp.p; t < n; t++) {
		for (size_t f = 0; f < K; f++)
			xbar[f] += x[(t - rp.p) * D + f];
		for (size_t j = 0; j < D; j++)
			ybar[j] += x[t * D + j];
	}
	for (size_t f = 0; f < K; f++)
		xbar[f] /= (double)N;
	for (size_t j = 0; j < D; j++)
		ybar[j] /= (double)N;

	/* upper triangle of Xc^T Xc and Xc^T Yc, blocks in row order */
	for (size_t i0 = 0; i0 < N; i0 += RIDGE_BLOCK) {
		size_t nb = N - i0 < RIDGE_BLOCK ? N - i0 : RIDGE_BLOCK;
		double beta = i0 == 0 ? 0.0 : 1.0;

		for (size_t t = 0; t < nb; t++) {
			const double *win = x + (i0 + t) * D, *tgt = x + (i0 + t + rp.p) * D;

			for (size_t f = 0; f < K; f++)
				F[t * K + f] = win[f] - xbar[f];
			for (size_t j = 0; j < D; j++)
				Yb[t * D + j] = tgt[j] - ybar[j];
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)K, (blasint)nb, 1.0, F,
		    (blasint)K, beta, G, (blasint)K);
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)K, (blasint)D,
		    (blasint)nb, 1.0, F, (blasint)K, Yb, (blasint)D, beta, H, (blasint)D);
	}
	for (size_t f = 0; f < K; f++)
		G[f * K + f] += rp.lambda;
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)K, (lapack_int)D, G,
	    (lapack_int)K, H, (lapack_int)D);
	if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
		goto nomem;
	if (info > 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA, "ridge: the lagged design is singular "
		    "(a constant column, or collinear lags with lambda=%g); use a larger lambda",
		    rp.lambda);
		goto out;
	}
	if (info < 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA, "ridge: dposv failed (info %d)", (int)info);
		goto out;
	}
	for (size_t j = 0; j < D; j++) {
		icpt[j] = ybar[j];
		for (size_t f = 0; f < K; f++)
			icpt[j] -= xbar[f] * H[f * D + j];
	}

	/* in-sample one-step residuals, through the same path as score() */
	memcpy(W, x, K * sizeof(double));
	ridge_run(H, icpt, rp.p, D, W, F, x + K, N, pred);
	for (size_t j = 0; j < D; j++) {
		double ymax = 1;

		for (size_t t = 0; t < n; t++)
			if (fabs(x[t * D + j]) > ymax)
				ymax = fabs(x[t * D + j]);
		for (size_t t = 0; t < N; t++)
			res[t] = x[(t + rp.p) * D + j] - pred[t * D + j];
		scale[j] = aiops_fc_robust_scale(res, N, RIDGE_SCALE_FLOOR * ymax);
	}
	if (aiops_model_put(m, "coef", K, D, H) != AIOPS_OK ||
	    aiops_model_put(m, "intercept", 1, D, icpt) != AIOPS_OK ||
	    aiops_model_put(m, "tail", rp.p, D, x + N * D) != AIOPS_OK ||
	    aiops_model_put(m, "scale", 1, D, scale) != AIOPS_OK)
		goto nomem;
	r = AIOPS_OK;
	goto out;
nomem:
	r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	aiops_free(xbar);
	aiops_free(ybar);
	aiops_free(G);
	aiops_free(H);
	aiops_free(F);
	aiops_free(Yb);
	aiops_free(W);
	aiops_free(pred);
	aiops_free(res);
	aiops_free(icpt);
	aiops_free(scale);
	return r;
}

/* ---- forecast and score ----------------------------------------------------- */

int
aiops_forecast_ridge(const struct aiops_model *m, const double *x, size_t n, size_t D,
    double *pred)
{
	const struct aiops_array *cf = aiops_model_get(m, "coef");
	const struct aiops_array *ic = aiops_model_get(m, "intercept");
	const struct aiops_array *tl = aiops_model_get(m, "tail");
	struct ridge_par rp;
	double *W, *F;
	size_t K;

	if (m->family != &aiops_fam_ridge || get_par(&m->params, &rp, NULL) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	K = rp.p * D;
	if (!cf || !ic || !tl || cf->rows != K || ic->rows != 1 || tl->rows != rp.p ||
	    cf->cols != D || ic->cols != D || tl->cols != D || D == 0)
		return AIOPS_ERR_FORMAT;
	W = aiops_calloc((rp.p + RIDGE_BLOCK) * D, sizeof(double));
	F = aiops_calloc((size_t)RIDGE_BLOCK * K, sizeof(double));
	if (!W || !F) {
		aiops_free(W);
		aiops_free(F);
		return AIOPS_ERR_NOMEM;
	}
	memcpy(W, tl->v, K * sizeof(double));
	ridge_run(cf->v, ic->v, rp.p, D, W, F, x, n, pred);
	aiops_free(W);
	aiops_free(F);
	return AIOPS_OK;
}

int
aiops_advance_ridge(struct aiops_model *m, const double *x, size_t n, size_t D)
{
	const struct aiops_array *tl = aiops_model_get(m, "tail");
	struct ridge_par rp;
	double *pred;
	int r;

	if (m->family != &aiops_fam_ridge || get_par(&m->params, &rp, NULL) != AIOPS_OK || !tl ||
	    tl->rows != rp.p || tl->cols != D)
		return AIOPS_ERR_FORMAT;
	if ((pred = aiops_calloc(n ? n * D : 1, sizeof(double))) == NULL)
		return AIOPS_ERR_NOMEM;
	/* a missing value stands for its forecast in the history, as in ridge_run */
	if ((r = aiops_forecast_ridge(m, x, n, D, pred)) == AIOPS_OK) {
		for (size_t k = 0; k < rp.p; k++) {
			double *row = tl->v + k * D;

			if (n + k >= rp.p) {
				size_t i = (n + k - rp.p) * D;
				for (size_t j = 0; j < D; j++)
					row[j] = isnan(x[i + j]) ? pred[i + j] : x[i + j];
			} else {
				memmove(row, tl->v + (n + k) * D, D * sizeof(double));
			}
		}
	}
	aiops_free(pred);
	return r;
}

static int
ridge_score(const struct aiops_model *m, const double *x, size_t n, size_t D, double *out,
    double *contrib, struct aiops_error *e)
{
	return aiops_fc_score(m, x, n, D, out, contrib, aiops_forecast_ridge, "ridge", "coef/intercept/tail", e);
}

static const char *const ridge_params[] = { "p", "lambda", NULL };

const struct aiops_family aiops_fam_ridge = {
	"ridge", "forecaster",
	"p (rows of history, default 3), lambda (L2 penalty >= 0, default 1)",
	ridge_params, ridge_min_rows, ridge_fit, ridge_score, aiops_forecast_ridge,
	aiops_advance_ridge
};
