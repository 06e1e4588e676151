/*
 * train.h - from a training tensor to a finished model: the data matrix,
 * the final fit, threshold, reference statistics for drift, fingerprint,
 * and provenance.
 */
#ifndef AIOPS_TRAIN_H
#define AIOPS_TRAIN_H

#include "metrics.h"
#include "model.h"
#include "tensor.h"

/*
 * The tensor's values as a finite matrix. NaN or infinity is an
 * AIOPS_ERR_DATA error naming the row and column, unless impute: then
 * missing cells take the column's median over the finite values of fill
 * (fill = t itself for training data; the training tensor for validation).
 * When every value is finite *xp is t->x itself and *owned is 0; otherwise
 * *xp is a new matrix the caller frees (aiops_free) and *owned is 1.
 */
int aiops_train_matrix(const struct aiops_tensor *t, const char *name, int impute,
    const struct aiops_tensor *fill, double **xp, int *owned, struct aiops_error *e);

/*
 * How many of n training rows the reference quantiles are taken from (every
 * k-th row, at most 20000): the two-sample size a drift test compares with.
 */
size_t aiops_ref_sample_rows(size_t n);

/* SHA-256 over column names, values, timestamps and labels, as lowercase hex. */
int aiops_tensor_fingerprint(const struct aiops_tensor *t, char hex[65], struct aiops_error *e);

struct aiops_final {
	const struct aiops_family *family;
	struct aiops_params params;
	const struct aiops_tensor *train;
	const char *train_name;
	const double *x;                   /* train matrix */
	const double *vx;                  /* validation matrix or NULL */
	const unsigned char *vy;
	size_t vn;
	struct aiops_thr_spec thr;
	json_t *search;                    /* summary to record (borrowed) or NULL */
	json_t *lineage;                   /* entries to record (borrowed) or NULL */
	int jobs;                          /* > 1: statistics beside the fit, on a thread */
	struct aiops_side *side;           /* those started earlier, or NULL; consumed */
};

/*
 * The reference statistics and the fingerprint of the training rows t (as
 * the matrix x) do not depend on the fit: aiops_side_start() works them out
 * on a thread of their own from now on (beside a search), for
 * aiops_train_final() to pick up. NULL when no thread could be had: the final
 * fit then works them out itself. aiops_side_discard() waits and frees.
 */
struct aiops_side;
struct aiops_side *aiops_side_start(const struct aiops_tensor *t, const double *x);
void aiops_side_discard(struct aiops_side *s);

/* Fit the final model and fill its metadata. m is initialised here. */
int aiops_train_final(struct aiops_model *m, const struct aiops_final *f, struct aiops_error *e);

#endif
