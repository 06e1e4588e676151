/*
 * score.c - the scorer: batch and online scoring with the same state
 * (score.h).
 */
#include <math.h>
#include <string.h>

#include "forecast.h"
#include "score.h"

int
aiops_scorer_init(struct aiops_scorer *s, struct aiops_model *m, int impute,
    struct aiops_error *e)
{
	double w = aiops_param(&m->params, "smooth", 1);

	memset(s, 0, sizeof(*s));
	s->m = m;
	s->d = m->ncols;
	s->forecaster = strcmp(m->family->kind, "forecaster") == 0;
	if (!(w >= 1 && w <= 1e6) || w != floor(w))
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "smooth=%g: expected a whole number of rows from 1 to 1000000", w);
	s->k = (size_t)w;
	if (s->k > 1 && (s->ring = aiops_calloc(s->k, sizeof(double))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if (impute && !s->forecaster) {
		const struct aiops_array *q = aiops_model_get(m, "ref_quantiles");

		if (q == NULL || q->rows != 101 || q->cols != s->d) {
			aiops_scorer_release(s);
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "the model has no training quantiles to impute missing values from");
		}
		if ((s->fill = aiops_calloc(s->d ? s->d : 1, sizeof(double))) == NULL) {
			aiops_scorer_release(s);
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		}
		memcpy(s->fill, q->v + 50 * s->d, s->d * sizeof(double));
	}
	return AIOPS_OK;
}

void
aiops_scorer_release(struct aiops_scorer *s)
{
	aiops_free(s->ring);
	aiops_free(s->fill);
	aiops_free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* x itself, or a copy in s->buf with missing values filled; NULL after an error */
static const double *
complete(struct aiops_scorer *s, const double *x, size_t n, uint64_t row0,
    struct aiops_error *e)
{
	size_t d = s->d, i;

	for (i = 0; i < n * d; i++)
		if (!isfinite(x[i]))
			break;
	if (i == n * d)
		return x;
	if (s->fill == NULL) {
		aiops_error_set(e, AIOPS_ERR_DATA, "row %llu: column \"%s\" is %s",
		    (unsigned long long)(row0 + i / d + 1), s->m->names[i % d],
		    isnan(x[i]) ? "missing" : "infinite");
		return NULL;
	}
	if (s->bufcap < n * d) {
		aiops_free(s->buf);
		s->bufcap = 0;
		if ((s->buf = aiops_calloc(n * d, sizeof(double))) == NULL) {
			aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			return NULL;
		}
		s->bufcap = n * d;
	}
	for (i = 0; i < n * d; i++)
		s->buf[i] = isfinite(x[i]) ? x[i] : s->fill[i % d];
	return s->buf;
}

int
aiops_scorer_run(struct aiops_scorer *s, const double *x, size_t n, double *out,
    double *contrib, double *pred, uint64_t row0, struct aiops_error *e)
{
	struct aiops_model *m = s->m;
	const double *xx = x;
	int r;

	if (n == 0)
		return AIOPS_OK;
	if (!s->forecaster && (xx = complete(s, x, n, row0, e)) == NULL)
		return e ? e->code : AIOPS_ERR_DATA;
	if ((r = m->family->score(m, xx, n, s->d, out, contrib, e)) != AIOPS_OK)
		return r;
	if (s->forecaster) {
		if (pred && (r = aiops_forecast(m, x, n, pred)) != AIOPS_OK)
			return aiops_error_set(e, r, "%s: cannot forecast: %s", m->family->name,
			    aiops_strerror(r));
		if ((r = aiops_forecast_advance(m, x, n)) != AIOPS_OK)
			return aiops_error_set(e, r, "%s: cannot advance the state: %s",
			    m->family->name, aiops_strerror(r));
	}
	/* the same arithmetic, in the same order, as aiops_model_score()'s smoothing */
	if (s->k > 1) {
		for (size_t i = 0; i < n; i++) {
			uint64_t g = s->seen + i;
			double raw = out[i], old = s->ring[g % s->k];

			s->ring[g % s->k] = raw;
			if (!isnan(raw)) {
				s->sum += raw;
				s->cnt++;
			}
			if (g >= s->k && !isnan(old)) {
				s->sum -= old;
				s->cnt--;
			}
			out[i] = s->cnt ? s->sum / (double)s->cnt : NAN;
		}
	}
	s->seen += n;
	return AIOPS_OK;
}
