/*
 * forecast.h - the one-step-ahead forecasts of the forecaster families
 * (kind "forecaster": arima in fam_ar.c, holtwinters in fam_hw.c, ridge in
 * fam_ridge.c), for callers that want the predictions rather than scores.
 *
 * Each function takes a model m fitted by its family (aiops_model_fit()
 * or aiops_model_load()) and n rows x of d columns (row-major, time order)
 * that come right after the training rows, or after the rows last given
 * to it: the forecasts continue from the state stored at fit time, so
 * pred[0..d) is already a true one-step forecast of x's first row. It
 * writes the n x d forecasts to pred (caller-owned, n * d doubles) and
 * keeps no pointer to x or pred. A NaN in x is a missing value: its own
 * forecast stands in for it when forecasting the rows after it, so every
 * pred is defined.
 *
 * Returns AIOPS_OK; AIOPS_ERR_FORMAT when m is not a fitted model of that
 * family or d is not its number of columns; AIOPS_ERR_NOMEM.
 */
#ifndef AIOPS_FORECAST_H
#define AIOPS_FORECAST_H

#include <stddef.h>

#include "model.h"

int aiops_forecast_arima(const struct aiops_model *m, const double *x, size_t n, size_t d,
    double *pred);
int aiops_forecast_holtwinters(const struct aiops_model *m, const double *x, size_t n,
    size_t d, double *pred);
int aiops_forecast_ridge(const struct aiops_model *m, const double *x, size_t n, size_t d,
    double *pred);

/*
 * Move a fitted model's state past the n rows x (as if they had followed
 * the training rows), so that the next forecast is that of the row after
 * them: the online path (aiops-eval --stream). A NaN is replaced by its
 * forecast, as above. Same errors as the forecast functions.
 */
int aiops_advance_arima(struct aiops_model *m, const double *x, size_t n, size_t d);
int aiops_advance_holtwinters(struct aiops_model *m, const double *x, size_t n, size_t d);
int aiops_advance_ridge(struct aiops_model *m, const double *x, size_t n, size_t d);

/*
 * Through m's family (its forecast and advance members): the forecasts of n
 * rows x of m->ncols columns, and the state advance. AIOPS_ERR_USAGE when
 * m's family is not a forecaster.
 */
int aiops_forecast(const struct aiops_model *m, const double *x, size_t n, double *pred);
int aiops_forecast_advance(struct aiops_model *m, const double *x, size_t n);

/*
 * Shared by the forecaster families. The residual scale of r[0..n) (NaN
 * ignored; r is reordered): 1.4826 MAD about the median; when that is not
 * above floor, 1.2533 times the mean absolute deviation; when that is not
 * either, max(floor, 1).
 */
double aiops_fc_robust_scale(double *r, size_t n, double floor);
/* Scores: the root mean square of (x - pred) * inv[j]; contrib (may be NULL) z^2 / d. */
void aiops_fc_score_rows(const double *x, const double *pred, const double *inv, size_t n,
    size_t d, double *out, double *contrib);

/*
 * A forecaster's score(): forecast with forecast(), then score the residuals
 * against the model's "scale" array. Messages name family and its arrays.
 */
int aiops_fc_score(const struct aiops_model *m, const double *x, size_t n, size_t D,
    double *out, double *contrib, int (*forecast)(const struct aiops_model *, const double *,
    size_t, size_t, double *), const char *family, const char *arrays, struct aiops_error *e);

#endif
