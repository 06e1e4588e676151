/* linalg.c - the mean and covariance shared by the PCA and Mahalanobis families. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "linalg.h"

/* OpenBLAS's own: stops its worker threads (it starts them again if ever asked
 * for more than one thread). Weak, for a BLAS that has no such pool. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void
aiops_blas_single(void)
{
	openblas_set_num_threads(1);
	if (blas_thread_shutdown_ != NULL)
		blas_thread_shutdown_();
}

#define COV_BLOCK 1024   /* rows centred per dsyrk update */

int
aiops_mean_cov(const double *x, size_t n, size_t d, double *mean, double *cov,
    const char *family, struct aiops_error *e)
{
	double *blk;

	if (d > INT_MAX / COV_BLOCK)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %zu columns is too many", family, d);
	if ((blk = aiops_calloc((size_t)COV_BLOCK * d, sizeof(double))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	memset(mean, 0, d * sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			mean[j] += x[i * d + j];
	for (size_t j = 0; j < d; j++)
		mean[j] /= (double)n;
	/* lower triangle of Xc^T Xc, accumulated over blocks in row order */
	for (size_t i0 = 0; i0 < n; i0 += COV_BLOCK) {
		size_t b = n - i0 < COV_BLOCK ? n - i0 : COV_BLOCK;
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				blk[i * d + j] = x[(i0 + i) * d + j] - mean[j];
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (blasint)d, (blasint)b, 1.0,
		    blk, (blasint)d, i0 ? 1.0 : 0.0, cov, (blasint)d);
	}
	aiops_free(blk);
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j <= i; j++) {
			double v = cov[i * d + j] / (double)(n - 1);
			if (!isfinite(v))
				return aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: the covariance of columns %zu and %zu overflows", family, j + 1, i + 1);
			cov[i * d + j] = cov[j * d + i] = v;
		}
	return AIOPS_OK;
}
