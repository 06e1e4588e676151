/*
 * fam_mahal.c - Mahalanobis distance: a row scores by its squared distance
 * (x - mu)^T S^-1 (x - mu) from the training mean, with S the sample
 * covariance shrunk towards a multiple of the identity.
 *
 * Convention: S divides by n - 1 (numpy.cov's default). scikit-learn's
 * EmpiricalCovariance divides by n, so with reg=0 its mahalanobis() is
 * this score times n / (n - 1).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "linalg.h"
#include "model.h"

#define MAHAL_SCORE_BLOCK 256  /* rows centred and solved per dtrsm */
#define MAHAL_DEFAULT_REG 1e-3

static int
get_reg(const struct aiops_params *p, double *reg, struct aiops_error *e)
{
	double v = aiops_param(p, "reg", MAHAL_DEFAULT_REG);

	if (!(v >= 0 && v <= 1))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "mahalanobis: reg=%g must be from 0 to 1", v);
	*reg = v;
	return AIOPS_OK;
}

static size_t
mahal_min_rows(const struct aiops_params *p, size_t d)
{
	(void)p;
	(void)d;
	return 2;
}

/*
 * Stores mean (1 x d) and chol (d x d): the lower Cholesky factor L of
 * (1 - reg) S + reg (trace(S) / d) I = L L^T, zeros above the diagonal.
 */
static int
mahal_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	double *mean = NULL, *cov = NULL, reg = 0, tr = 0;
	lapack_int info;
	int r;

	if ((r = get_reg(&m->params, &reg, e)) != AIOPS_OK)
		return r;
	if (n < 2)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "mahalanobis needs at least 2 rows, got %zu", n);
	mean = aiops_calloc(d, sizeof(double));
	cov = aiops_calloc(d * d, sizeof(double));
	if (!mean || !cov) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = aiops_mean_cov(x, n, d, mean, cov, "mahalanobis", e)) != AIOPS_OK)
		goto out;
	for (size_t i = 0; i < d; i++)
		tr += cov[i * d + i];
	if (tr == 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "mahalanobis: every column is constant: the covariance is zero");
		goto out;
	}
	for (size_t i = 0; i < d; i++) {
		for (size_t j = 0; j <= i; j++)
			cov[i * d + j] *= 1 - reg;
		cov[i * d + i] += reg * tr / (double)d;
	}
	info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, cov, (lapack_int)d);
	if (info > 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "mahalanobis: covariance is not positive definite; raise reg (now %g)", reg);
		goto out;
	}
	if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "mahalanobis: LAPACKE_dpotrf: out of memory");
		goto out;
	}
	if (info < 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "mahalanobis: LAPACKE_dpotrf: argument %d is invalid", (int)-info);
		goto out;
	}
	for (size_t i = 0; i < d; i++)
		for (size_t j = i + 1; j < d; j++)
			cov[i * d + j] = 0;
	if (aiops_model_put(m, "mean", 1, d, mean) != AIOPS_OK ||
	    aiops_model_put(m, "chol", d, d, cov) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = AIOPS_OK;
out:
	aiops_free(mean);
	aiops_free(cov);
	return r;
}

/*
 * Per row, with xc = x - mu and S = L L^T: z = L^-1 xc, score = z^T z;
 * w = L^-T z = S^-1 xc, contrib_j = xc_j w_j (they sum to the score; one
 * can be negative when correlated columns move against each other).
 * Rows are row vectors, so the solves are Z L^T = Xc and W L = Z.
 */
static int
mahal_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *mu = aiops_model_get(m, "mean");
	const struct aiops_array *ch = aiops_model_get(m, "chol");
	double *xc = NULL, *z = NULL;
	int r;

	if (mu == NULL || ch == NULL || mu->rows != 1 || mu->cols != d || ch->rows != d ||
	    ch->cols != d)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "mahalanobis model lacks its mean/chol arrays");
	for (size_t j = 0; j < d; j++)
		if (!(ch->v[j * d + j] > 0) || !isfinite(ch->v[j * d + j]))
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "mahalanobis model: chol has a non-positive diagonal");
	if (d > INT_MAX / MAHAL_SCORE_BLOCK)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "mahalanobis: %zu columns is too many", d);
	xc = aiops_calloc((size_t)MAHAL_SCORE_BLOCK * d, sizeof(double));
	z = aiops_calloc((size_t)MAHAL_SCORE_BLOCK * d, sizeof(double));
	if (!xc || !z) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i0 = 0; i0 < n; i0 += MAHAL_SCORE_BLOCK) {
		size_t b = n - i0 < MAHAL_SCORE_BLOCK ? n - i0 : MAHAL_SCORE_BLOCK;
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				xc[i * d + j] = z[i * d + j] = x[(i0 + i) * d + j] - mu->v[j];
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
		    (blasint)b, (blasint)d, 1.0, ch->v, (blasint)d, z, (blasint)d);
		for (size_t i = 0; i < b; i++) {
			double s = 0;
			for (size_t j = 0; j < d; j++)
				s += z[i * d + j] * z[i * d + j];
			out[i0 + i] = s;
		}
		if (contrib == NULL)
			continue;
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit,
		    (blasint)b, (blasint)d, 1.0, ch->v, (blasint)d, z, (blasint)d);
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				contrib[(i0 + i) * d + j] = xc[i * d + j] * z[i * d + j];
	}
	r = AIOPS_OK;
out:
	aiops_free(xc);
	aiops_free(z);
	return r;
}

static const char *const mahal_params[] = { "reg", NULL };

const struct aiops_family aiops_fam_mahal = {
	"mahalanobis", "detector",
	"reg (shrinkage towards trace(S)/d times the identity, 0..1, default 0.001)",
	mahal_params, mahal_min_rows, mahal_fit, mahal_score, NULL, NULL
};
