/*
 * fam_zscore.c - robust z-score: per column z = (x - median) / (1.4826 MAD),
 * falling back to 1.2533 x mean absolute deviation, then 1, when MAD is 0;
 * the score of a row is the root mean square of its z values, and each
 * column's contribution is z^2 / d.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "model.h"

static double
median_sorted(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static size_t
zs_min_rows(const struct aiops_params *p, size_t d)
{
	(void)p;
	(void)d;
	return 3;
}

static int
zs_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	double *col = aiops_calloc(n, sizeof(double));
	double *st = aiops_calloc(2 * d, sizeof(double));
	int r = AIOPS_OK;

	if (col == NULL || st == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < d; j++) {
		double med, mad;
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * d + j];
		if (aiops_sort_doubles(col, n) != AIOPS_OK) {
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto out;
		}
		med = median_sorted(col, n);
		for (size_t i = 0; i < n; i++)
			col[i] = fabs(col[i] - med);
		if (aiops_sort_doubles(col, n) != AIOPS_OK) {
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto out;
		}
		mad = 1.4826 * median_sorted(col, n);
		if (!(mad > 1e-12)) {
			/* more than half the values equal: fall back to the mean absolute
			 * deviation (scaled to sigma for normal data), then to 1 */
			double s = 0;
			for (size_t i = 0; i < n; i++)
				s += col[i];
			mad = 1.2533 * s / (double)n;
			if (!(mad > 1e-12))
				mad = 1;
		}
		st[j] = med;
		st[d + j] = mad;
	}
	if (aiops_model_put(m, "median", 1, d, st) != AIOPS_OK ||
	    aiops_model_put(m, "scale", 1, d, st + d) != AIOPS_OK)
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	aiops_free(col);
	aiops_free(st);
	return r;
}

static int
zs_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	const struct aiops_array *med = aiops_model_get(m, "median");
	const struct aiops_array *sc = aiops_model_get(m, "scale");

	if (med == NULL || sc == NULL || med->cols != d || sc->cols != d)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "zscore model lacks its median/scale arrays");
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j < d; j++) {
			double z = (x[i * d + j] - med->v[j]) / sc->v[j];
			s += z * z;
			if (contrib)
				contrib[i * d + j] = z * z / (double)d;
		}
		out[i] = sqrt(s / (double)d);
	}
	return AIOPS_OK;
}

static const char *const zs_params[] = { NULL };

const struct aiops_family aiops_fam_zscore = {
	"zscore", "detector", "no parameters", zs_params,
	zs_min_rows, zs_fit, zs_score, NULL, NULL
};
