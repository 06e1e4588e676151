/*
 * fam_pca.c - principal component analysis: the top k eigenvectors of the
 * sample covariance span the normal subspace; a row scores by its squared
 * distance from that subspace (SPE, the Q statistic) or, with t2=1, by
 * Hotelling's T^2 inside it.
 *
 * Convention: the covariance divides by n - 1, so the stored eigenvalues
 * equal scikit-learn's PCA.explained_variance_ and T^2 is
 * sum_c score_c^2 / explained_variance_c.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "linalg.h"
#include "model.h"

#define PCA_SCORE_BLOCK 256  /* rows centred and projected per dgemm */
#define PCA_DEFAULT_K 5

/*
 * An eigenvalue below this fraction of the largest is a direction the
 * training data (nearly) never moved in; T^2 divides by the floor instead
 * so that it stays finite.
 */
#define PCA_EIG_FLOOR 1e-12

/* The default k is 5, or d - 1 when there are fewer columns (so SPE means something). */
static size_t
default_k(size_t d)
{
	if (d <= 1)
		return 1;
	return d - 1 < PCA_DEFAULT_K ? d - 1 : PCA_DEFAULT_K;
}

static int
get_k(const struct aiops_params *p, size_t d, size_t *k, struct aiops_error *e)
{
	double v;

	if (!aiops_param_has(p, "k")) {
		*k = default_k(d);
		return AIOPS_OK;
	}
	v = aiops_param(p, "k", PCA_DEFAULT_K);
	if (!(v >= 1) || v != floor(v))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "pca: k=%g must be a whole number of components from 1 to d=%zu", v, d);
	if (v > (double)d)
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "pca: k=%g exceeds the number of columns d=%zu", v, d);
	*k = (size_t)v;
	return AIOPS_OK;
}

static int
get_t2(const struct aiops_params *p, int *t2, struct aiops_error *e)
{
	double v = aiops_param(p, "t2", 0);

	if (v != 0 && v != 1)
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "pca: t2=%g must be 0 (score is SPE) or 1 (score is Hotelling T^2)", v);
	*t2 = (int)v;
	return AIOPS_OK;
}

static size_t
pca_min_rows(const struct aiops_params *p, size_t d)
{
	size_t k;

	/* an invalid k is reported by fit, which names it */
	if (get_k(p, d, &k, NULL) != AIOPS_OK)
		return 2;
	return k + 1 > 2 ? k + 1 : 2;
}

static int
lapack_fail(struct aiops_error *e, const char *fn, lapack_int info)
{
	if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "pca: %s: out of memory", fn);
	if (info < 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "pca: %s: argument %d is invalid",
		    fn, (int)-info);
	return aiops_error_set(e, AIOPS_ERR_DATA,
	    "pca: %s: the eigensolver did not converge (info %d)", fn, (int)info);
}

static int
pca_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	double *mean = NULL, *cov = NULL, *w = NULL, *z = NULL;
	double *comp = NULL, *eig = NULL;
	lapack_int *isuppz = NULL, found = 0, info;
	size_t k;
	int t2 = 0, r;

	if ((r = get_k(&m->params, d, &k, e)) != AIOPS_OK)
		return r;
	if ((r = get_t2(&m->params, &t2, e)) != AIOPS_OK)
		return r;
	if (n < 2)
		return aiops_error_set(e, AIOPS_ERR_DATA, "pca needs at least 2 rows, got %zu", n);
	mean = aiops_calloc(d, sizeof(double));
	cov = aiops_calloc(d * d, sizeof(double));
	w = aiops_calloc(d, sizeof(double));
	z = aiops_calloc(d * k, sizeof(double));
	comp = aiops_calloc(k * d, sizeof(double));
	eig = aiops_calloc(k, sizeof(double));
	isuppz = aiops_calloc(2 * k, sizeof(lapack_int));
	if (!mean || !cov || !w || !z || !comp || !eig || !isuppz) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = aiops_mean_cov(x, n, d, mean, cov, "pca", e)) != AIOPS_OK)
		goto out;

	/* eigenvalues come back ascending: indices d-k+1..d are the top k */
	info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, cov, (lapack_int)d,
	    0.0, 0.0, (lapack_int)(d - k + 1), (lapack_int)d, DBL_MIN, &found, w, z,
	    (lapack_int)k, isuppz);
	if (info != 0) {
		r = lapack_fail(e, "LAPACKE_dsyevr", info);
		goto out;
	}
	if ((size_t)found != k) {
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "pca: LAPACKE_dsyevr found %d eigenvalues, wanted %zu", (int)found, k);
		goto out;
	}
	for (size_t c = 0; c < k; c++) {
		double *pc = comp + c * d, big = 0;
		size_t src = k - 1 - c, at = 0;
		eig[c] = w[src];
		for (size_t j = 0; j < d; j++) {
			pc[j] = z[j * k + src];
			if (fabs(pc[j]) > big) {
				big = fabs(pc[j]);
				at = j;
			}
		}
		/* the sign of an eigenvector is arbitrary: fix it so fits are reproducible */
		if (pc[at] < 0)
			for (size_t j = 0; j < d; j++)
				pc[j] = -pc[j];
	}
	if (aiops_model_put(m, "mean", 1, d, mean) != AIOPS_OK ||
	    aiops_model_put(m, "components", k, d, comp) != AIOPS_OK ||
	    aiops_model_put(m, "eigenvalues", 1, k, eig) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = AIOPS_OK;
out:
	aiops_free(mean);
	aiops_free(cov);
	aiops_free(w);
	aiops_free(z);
	aiops_free(comp);
	aiops_free(eig);
	aiops_free(isuppz);
	return r;
}

/*
 * Per row, with xc = x - mean and scores t = P xc (P is k x d):
 *  SPE: r = xc - P^T t; score = sum_j r_j^2; contrib_j = r_j^2.
 *  T^2: score = sum_c t_c^2 / lambda_c;
 *       contrib_j = xc_j * sum_c (t_c / lambda_c) P_cj, i.e. the share of
 *       column j in t^T diag(1/lambda) P xc. The contributions sum to T^2
 *       but one can be negative when a column pulls against the others.
 */
static int
pca_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *mu = aiops_model_get(m, "mean");
	const struct aiops_array *pa = aiops_model_get(m, "components");
	const struct aiops_array *ev = aiops_model_get(m, "eigenvalues");
	double *xc = NULL, *t = NULL, *res = NULL, *lam = NULL, top = 0, floor_;
	const double *P;
	size_t k;
	int t2 = 0, r;

	if (mu == NULL || pa == NULL || ev == NULL || mu->rows != 1 || mu->cols != d ||
	    pa->cols != d || pa->rows == 0 || pa->rows > d || ev->rows != 1 ||
	    ev->cols != pa->rows)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "pca model lacks its mean/components/eigenvalues arrays");
	if ((r = get_t2(&m->params, &t2, e)) != AIOPS_OK)
		return r;
	if (d > INT_MAX / PCA_SCORE_BLOCK)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "pca: %zu columns is too many", d);
	k = pa->rows;
	P = pa->v;
	xc = aiops_calloc((size_t)PCA_SCORE_BLOCK * d, sizeof(double));
	res = aiops_calloc((size_t)PCA_SCORE_BLOCK * d, sizeof(double));
	t = aiops_calloc((size_t)PCA_SCORE_BLOCK * k, sizeof(double));
	lam = aiops_calloc(k, sizeof(double));
	if (!xc || !res || !t || !lam) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < k; c++)
		if (ev->v[c] > top)
			top = ev->v[c];
	floor_ = fmax(top * PCA_EIG_FLOOR, DBL_MIN);
	for (size_t c = 0; c < k; c++)
		lam[c] = ev->v[c] > floor_ ? ev->v[c] : floor_;

	for (size_t i0 = 0; i0 < n; i0 += PCA_SCORE_BLOCK) {
		size_t b = n - i0 < PCA_SCORE_BLOCK ? n - i0 : PCA_SCORE_BLOCK;
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				xc[i * d + j] = x[(i0 + i) * d + j] - mu->v[j];
		/* T = Xc P^T (b x k) */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)b, (blasint)k,
		    (blasint)d, 1.0, xc, (blasint)d, P, (blasint)d, 0.0, t, (blasint)k);
		if (!t2) {
			/* R = Xc - T P */
			memcpy(res, xc, b * d * sizeof(double));
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)b,
			    (blasint)d, (blasint)k, -1.0, t, (blasint)k, P, (blasint)d, 1.0, res,
			    (blasint)d);
			for (size_t i = 0; i < b; i++) {
				double s = 0;
				for (size_t j = 0; j < d; j++) {
					double q = res[i * d + j] * res[i * d + j];
					s += q;
					if (contrib)
						contrib[(i0 + i) * d + j] = q;
				}
				out[i0 + i] = s;
			}
			continue;
		}
		for (size_t i = 0; i < b; i++) {
			double s = 0;
			for (size_t c = 0; c < k; c++) {
				s += t[i * k + c] * t[i * k + c] / lam[c];
				t[i * k + c] /= lam[c];
			}
			out[i0 + i] = s;
		}
		if (contrib == NULL)
			continue;
		/* W = (T diag(1/lambda)) P; contrib = Xc .* W */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)b, (blasint)d,
		    (blasint)k, 1.0, t, (blasint)k, P, (blasint)d, 0.0, res, (blasint)d);
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				contrib[(i0 + i) * d + j] = xc[i * d + j] * res[i * d + j];
	}
	r = AIOPS_OK;
out:
	aiops_free(xc);
	aiops_free(res);
	aiops_free(t);
	aiops_free(lam);
	return r;
}

static const char *const pca_params[] = { "k", "t2", NULL };

const struct aiops_family aiops_fam_pca = {
	"pca", "detector",
	"k (components, 1..d; default 5, or d-1 when d <= 5), "
	"t2 (0: score is SPE, the squared residual; 1: Hotelling T^2; default 0)",
	pca_params, pca_min_rows, pca_fit, pca_score, NULL, NULL
};
