/*
 * fam_hw.c - additive Holt-Winters forecaster, one per column.
 *
 * The forecaster contract (as in fam_ar.c): x is n rows x d columns in time
 * order. fit() learns each column's level, trend and season and stores
 * them as they stand after the last training row, with each column's
 * residual scale (1.4826 MAD about the median of the in-sample one-step
 * residuals). score() forecasts each row of x one step ahead, continuing
 * from that state, so the rows right after the training rows score from
 * row 0; the score of a row is the root mean square over columns of
 * residual/scale, and contrib_j is (residual_j/scale_j)^2 / d. A NaN in x
 * scores NaN, and its forecast stands in for it in the state updates.
 * aiops_forecast_holtwinters() (forecast.h) returns the forecasts.
 *
 * With period m and smoothing weights alpha, beta, gamma in [0, 1], each
 * row y_t is forecast as l + b + s_{t-m} and then
 *     l' = alpha (y_t - s_{t-m}) + (1 - alpha) (l + b)
 *     b' = beta (l' - l) + (1 - beta) b
 *     s_t = gamma (y_t - l - b) + (1 - gamma) s_{t-m}
 * (statsmodels' holtwinters recursions, not damped). The state before row 0
 * is the simple scheme: l = mean of the first period, b = (mean of the
 * second period - mean of the first) / m, s_i = y_i - l for i < m, with
 * s_i used to forecast row i; given these as initialization_method="known",
 * statsmodels' ExponentialSmoothing fittedvalues are our forecasts. The
 * scale uses the residuals from row m on, since the first period's
 * seasonal terms are those rows themselves.
 *
 * Stored arrays (D columns): "level" 1 x D and "trend" 1 x D after the
 * last training row; "season" m x D, row k the seasonal term for the k-th
 * row after the training rows (k = 0..m-1); "scale" 1 x D.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "model.h"

#define HW_MAX_PERIOD 1000000
/*
 * A column forecast exactly has MAD 0; its scale is raised to this
 * fraction of its largest |value| (at least this much) so that rounding
 * errors do not score as anomalies.
 */
#define HW_SCALE_FLOOR 1e-12

extern const struct aiops_family aiops_fam_holtwinters;

struct hw_par {
	size_t m;
	double alpha, beta, gamma;
};

/* the robust scale and the scores are shared: lib/forecast.c */

/* ---- parameters ---------------------------------------------------------- */

static int
get_par(const struct aiops_params *ps, struct hw_par *h, struct aiops_error *e)
{
	static const char *const wname[3] = { "alpha", "beta", "gamma" };
	static const double wdef[3] = { 0.5, 0.1, 0.1 };
	double *wv[3] = { &h->alpha, &h->beta, &h->gamma };
	double v = aiops_param(ps, "period", 24);

	if (!(v >= 2 && v <= HW_MAX_PERIOD) || v != floor(v))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "holtwinters: period=%g must be a whole number from 2 to %d", v, HW_MAX_PERIOD);
	h->m = (size_t)v;
	for (int i = 0; i < 3; i++) {
		v = aiops_param(ps, wname[i], wdef[i]);
		if (!(v >= 0 && v <= 1))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "holtwinters: %s=%g must be from 0 to 1", wname[i], v);
		*wv[i] = v;
	}
	return AIOPS_OK;
}

/* two periods: the first gives level and season, the second the trend */
static size_t
hw_min_rows(const struct aiops_params *ps, size_t d)
{
	struct hw_par h;

	(void)d;
	/* invalid parameters are reported by fit, which names them */
	if (get_par(ps, &h, NULL) != AIOPS_OK)
		return 4;
	return 2 * h.m;
}

/* ---- the recursion --------------------------------------------------------- */

/*
 * One-step forecasts of v[0], v[vs], ... (n values) into pred[0], pred[ps],
 * ..., updating *l, *b and the season s[0..m), where s[0] is the term for
 * v[0]; on return s[0] is again the term for the row after the last.
 * A missing value (NaN) is replaced by its forecast.
 */
static void
hw_run(const struct hw_par *h, double *l, double *b, double *s, const double *v, size_t n,
    size_t vs, double *pred, size_t ps, double *tmp)
{
	double lv = *l, tr = *b;
	size_t k = 0;

	for (size_t t = 0; t < n; t++) {
		double f = lv + tr + s[k], y = v[t * vs], nl;

		pred[t * ps] = f;
		if (isnan(y))
			y = f;
		nl = h->alpha * (y - s[k]) + (1 - h->alpha) * (lv + tr);
		s[k] = h->gamma * (y - lv - tr) + (1 - h->gamma) * s[k];
		tr = h->beta * (nl - lv) + (1 - h->beta) * tr;
		lv = nl;
		if (++k == h->m)
			k = 0;
	}
	*l = lv;
	*b = tr;
	/* rotate so that s[0] is the next row's term */
	for (size_t i = 0; i < h->m; i++)
		tmp[i] = s[(k + i) % h->m];
	memcpy(s, tmp, h->m * sizeof(double));
}

/* ---- fit ---------------------------------------------------------------------- */

static int
hw_fit(struct aiops_model *m, const double *x, size_t n, size_t D, struct aiops_error *e)
{
	struct hw_par h;
	double *y = NULL, *pred = NULL, *s = NULL, *tmp = NULL, *level = NULL, *trend = NULL;
	double *season = NULL, *scale = NULL;
	int r;

	if ((r = get_par(&m->params, &h, e)) != AIOPS_OK)
		return r;
	if (n < 2 * h.m)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "holtwinters needs at least two periods, %zu rows, got %zu", 2 * h.m, n);
	y = aiops_calloc(n, sizeof(double));
	pred = aiops_calloc(n, sizeof(double));
	s = aiops_calloc(h.m, sizeof(double));
	tmp = aiops_calloc(h.m, sizeof(double));
	level = aiops_calloc(D, sizeof(double));
	trend = aiops_calloc(D, sizeof(double));
	season = aiops_calloc(h.m * D, sizeof(double));
	scale = aiops_calloc(D, sizeof(double));
	if (!y || !pred || !s || !tmp || !level || !trend || !season || !scale)
		goto nomem;
	for (size_t j = 0; j < D; j++) {
		double m1 = 0, m2 = 0, ymax = 1, l, b;

		for (size_t i = 0; i < n; i++) {
			y[i] = x[i * D + j];
			if (fabs(y[i]) > ymax)
				ymax = fabs(y[i]);
		}
		for (size_t i = 0; i < h.m; i++) {
			m1 += y[i];
			m2 += y[h.m + i];
		}
		m1 /= (double)h.m;
		m2 /= (double)h.m;
		l = m1;
		b = (m2 - m1) / (double)h.m;
		for (size_t i = 0; i < h.m; i++)
			s[i] = y[i] - l;
		hw_run(&h, &l, &b, s, y, n, 1, pred, 1, tmp);
		for (size_t i = h.m; i < n; i++)
			pred[i - h.m] = y[i] - pred[i];
		scale[j] = aiops_fc_robust_scale(pred, n - h.m, HW_SCALE_FLOOR * ymax);
		level[j] = l;
		trend[j] = b;
		for (size_t i = 0; i < h.m; i++)
			season[i * D + j] = s[i];
	}
	if (aiops_model_put(m, "level", 1, D, level) != AIOPS_OK ||
	    aiops_model_put(m, "trend", 1, D, trend) != AIOPS_OK ||
	    aiops_model_put(m, "season", h.m, D, season) != AIOPS_OK ||
	    aiops_model_put(m, "scale", 1, D, scale) != AIOPS_OK)
		goto nomem;
	r = AIOPS_OK;
	goto out;
nomem:
	r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	aiops_free(y);
	aiops_free(pred);
	aiops_free(s);
	aiops_free(tmp);
	aiops_free(level);
	aiops_free(trend);
	aiops_free(season);
	aiops_free(scale);
	return r;
}

/* ---- forecast and score ----------------------------------------------------- */

/* The parameters and state arrays of a fitted holtwinters model of D columns. */
static int
hw_state(const struct aiops_model *m, size_t D, struct hw_par *h,
    const struct aiops_array **lv, const struct aiops_array **tr, const struct aiops_array **se)
{
	*lv = aiops_model_get(m, "level");
	*tr = aiops_model_get(m, "trend");
	*se = aiops_model_get(m, "season");
	if (m->family != &aiops_fam_holtwinters || get_par(&m->params, h, NULL) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	if (!*lv || !*tr || !*se || (*lv)->rows != 1 || (*tr)->rows != 1 || (*se)->rows != h->m ||
	    (*lv)->cols != D || (*tr)->cols != D || (*se)->cols != D)
		return AIOPS_ERR_FORMAT;
	return AIOPS_OK;
}

int
aiops_forecast_holtwinters(const struct aiops_model *m, const double *x, size_t n, size_t D,
    double *pred)
{
	const struct aiops_array *lv, *tr, *se;
	struct hw_par h;
	double *s, *tmp;

	if (hw_state(m, D, &h, &lv, &tr, &se) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	s = aiops_calloc(h.m, sizeof(double));
	tmp = aiops_calloc(h.m, sizeof(double));
	if (!s || !tmp) {
		aiops_free(s);
		aiops_free(tmp);
		return AIOPS_ERR_NOMEM;
	}
	for (size_t j = 0; j < D; j++) {
		double l = lv->v[j], b = tr->v[j];

		for (size_t i = 0; i < h.m; i++)
			s[i] = se->v[i * D + j];
		hw_run(&h, &l, &b, s, x + j, n, D, pred + j, D, tmp);
	}
	aiops_free(s);
	aiops_free(tmp);
	return AIOPS_OK;
}

static int
hw_score(const struct aiops_model *m, const double *x, size_t n, size_t D, double *out,
    double *contrib, struct aiops_error *e)
{
	return aiops_fc_score(m, x, n, D, out, contrib, aiops_forecast_holtwinters, "holtwinters", "level/trend/season", e);
}

static const char *const hw_params[] = { "period", "alpha", "beta", "gamma", NULL };

const struct aiops_family aiops_fam_holtwinters = {
	"holtwinters", "forecaster",
	"period (season length >= 2, default 24), alpha (level, default 0.5), "
	"beta (trend, default 0.1), gamma (season, default 0.1); weights in [0, 1]",
	hw_params, hw_min_rows, hw_fit, hw_score, aiops_forecast_holtwinters,
	aiops_advance_holtwinters
};

int
aiops_advance_holtwinters(struct aiops_model *m, const double *x, size_t n, size_t D)
{
	const struct aiops_array *lv, *tr, *se;
	struct hw_par h;
	double *s, *tmp, *pred;

	if (hw_state(m, D, &h, &lv, &tr, &se) != AIOPS_OK)
		return AIOPS_ERR_FORMAT;
	s = aiops_calloc(h.m, sizeof(double));
	tmp = aiops_calloc(h.m, sizeof(double));
	pred = aiops_calloc(n ? n : 1, sizeof(double));
	if (!s || !tmp || !pred) {
		aiops_free(s);
		aiops_free(tmp);
		aiops_free(pred);
		return AIOPS_ERR_NOMEM;
	}
	/* the arrays are the model's own: update them in place */
	for (size_t j = 0; j < D; j++) {
		for (size_t i = 0; i < h.m; i++)
			s[i] = se->v[i * D + j];
		hw_run(&h, &lv->v[j], &tr->v[j], s, x + j, n, D, pred, 1, tmp);
		for (size_t i = 0; i < h.m; i++)
			se->v[i * D + j] = s[i];
	}
	aiops_free(s);
	aiops_free(tmp);
	aiops_free(pred);
	return AIOPS_OK;
}
