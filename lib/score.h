/*
 * score.h - scoring rows with a fitted model, in one batch or row by row as
 * they arrive, with the same results: the scorer carries the state a model
 * needs between calls (a forecaster's recent history, the "smooth" window
 * of raw scores), so scoring rows 0..n in one call or in any split gives
 * the same scores: bit-identical for the recursions (zscore, arima,
 * holtwinters, the smoothing), equal to rounding (a relative 1e-12) where
 * BLAS sums a block of rows in another order than a single row.
 */
#ifndef AIOPS_SCORE_H
#define AIOPS_SCORE_H

#include "model.h"

struct aiops_scorer {
	struct aiops_model *m;        /* borrowed; a forecaster's state is advanced in it */
	int forecaster;
	size_t d;
	size_t k;                     /* smooth window */
	double *ring;                 /* last k raw scores */
	uint64_t seen;                /* rows scored so far */
	double sum;
	size_t cnt;
	double *fill;                 /* d medians for missing values, or NULL */
	double *buf;                  /* scratch */
	size_t bufcap;
};

/*
 * Start scoring with m (fitted or loaded). impute: a missing value (NaN) of a
 * detector is replaced by the column's training median (the model's
 * ref_quantiles); without it a missing value is an AIOPS_ERR_DATA error.
 * Forecasters take missing values as they are (their own forecast stands in).
 */
int aiops_scorer_init(struct aiops_scorer *s, struct aiops_model *m, int impute,
    struct aiops_error *e);
/*
 * Score the next n rows x (n x d, row-major; not modified) into out (n
 * values), with per-column contributions into contrib (n x d) and, for a
 * forecaster, the forecasts into pred (n x d) when those are not NULL
 * (pred is left alone for a detector). row0 is the number of rows before
 * x in the caller's numbering, for messages ("row 1042: column \"cpu\" is
 * missing").
 */
int aiops_scorer_run(struct aiops_scorer *s, const double *x, size_t n, double *out,
    double *contrib, double *pred, uint64_t row0, struct aiops_error *e);
void aiops_scorer_release(struct aiops_scorer *s);

#endif
