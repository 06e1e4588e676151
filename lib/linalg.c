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

/* One part of the rows: its column sums, then its centred Xc^T Xc (lower triangle). */
struct covpart {
	const double *x;
	size_t n, d;
	const double *mean;
	double *sum, *cov, *blk;
	int pass;
};

static void *
cov_work(void *arg)
{
	struct covpart *P = arg;
	size_t n = P->n, d = P->d;

	if (P->pass == 1) {
		memset(P->sum, 0, d * sizeof(double));
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				P->sum[j] += P->x[i * d + j];
		return NULL;
	}
	/* in row order, a block at a time */
	for (size_t i0 = 0; i0 < n; i0 += COV_BLOCK) {
		size_t b = n - i0 < COV_BLOCK ? n - i0 : COV_BLOCK;
		for (size_t i = 0; i < b; i++)
			for (size_t j = 0; j < d; j++)
				P->blk[i * d + j] = P->x[(i0 + i) * d + j] - P->mean[j];
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (blasint)d, (blasint)b, 1.0,
		    P->blk, (blasint)d, i0 ? 1.0 : 0.0, P->cov, (blasint)d);
	}
	if (n == 0)
		memset(P->cov, 0, d * d * sizeof(double));
	return NULL;
}

static _Thread_local int cov_threads;

void
aiops_linalg_threads(int n)
{
	cov_threads = n;
}

int
aiops_mean_cov(const double *x, size_t n, size_t d, double *mean, double *cov,
    const char *family, struct aiops_error *e)
{
	/*
	 * Two parts, split at a multiple of the block whatever the threads are,
	 * so that the sums fall the same way, and so do the bits.
	 */
	size_t h = (n / 2) & ~(size_t)(COV_BLOCK - 1), per;
	struct covpart P[2];
	double *mem;

	if (d > INT_MAX / COV_BLOCK)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %zu columns is too many", family, d);
	/* per part: a block of rows, the sums, the cross products (the first part's are cov) */
	per = (size_t)COV_BLOCK * d + d + d * d;
	if ((mem = aiops_calloc(2, per * sizeof(double))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (int k = 0; k < 2; k++) {
		double *m = mem + (size_t)k * per;
		P[k] = (struct covpart){ .x = k ? x + h * d : x, .n = k ? n - h : h, .d = d,
		    .mean = mean, .blk = m, .sum = m + (size_t)COV_BLOCK * d,
		    .cov = k ? m + (size_t)COV_BLOCK * d + d : cov };
	}
	P[0].pass = P[1].pass = 1;
	aiops_run_pair(cov_work, &P[0], &P[1], cov_threads > 1 && h > 0);
	for (size_t j = 0; j < d; j++)
		mean[j] = (P[0].sum[j] + P[1].sum[j]) / (double)n;
	P[0].pass = P[1].pass = 2;
	aiops_run_pair(cov_work, &P[0], &P[1], cov_threads > 1 && h > 0);
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j <= i; j++) {
			double v = (cov[i * d + j] + P[1].cov[i * d + j]) / (double)(n - 1);
			if (!isfinite(v)) {
				aiops_free(mem);
				return aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: the covariance of columns %zu and %zu overflows", family, j + 1, i + 1);
			}
			cov[i * d + j] = cov[j * d + i] = v;
		}
	aiops_free(mem);
	return AIOPS_OK;
}
