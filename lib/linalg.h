/* linalg.h - linear algebra the model families share, through cblas. */
#ifndef AIOPS_LINALG_H
#define AIOPS_LINALG_H

#include <stddef.h>

#include "base.h"

/*
 * Column means (d) and covariance (d x d, divided by n - 1, both triangles
 * filled) of the n x d row-major matrix x (n >= 2), accumulated over blocks
 * of centred rows with cblas_dsyrk in row order, in two parts of the rows
 * (split at a multiple of the block) that are then added: the parts are
 * worked out at once when aiops_linalg_threads() allowed it on this thread,
 * with the same result. A covariance that overflows is AIOPS_ERR_DATA,
 * "FAMILY: the covariance of columns I and J overflows"; AIOPS_ERR_NOMEM,
 * AIOPS_ERR_LIMIT for too many columns.
 */
int aiops_mean_cov(const double *x, size_t n, size_t d, double *mean, double *cov,
    const char *family, struct aiops_error *e);

/*
 * BLAS on the calling thread only: the commands run their own threads (-j)
 * and want the same arithmetic whatever their number. OpenBLAS's worker
 * threads, started when it is loaded, are stopped too: they would otherwise
 * spin for a while and take a core from those threads.
 */
void aiops_blas_single(void);
/* How many threads aiops_mean_cov() may use when called from this thread (default 1). */
void aiops_linalg_threads(int n);

#endif
