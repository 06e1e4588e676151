/* test-metrics.c - quantiles and ranking metrics against brute force. */
#include <math.h>
#include <stdlib.h>

#include "aiops.h"
#include "tap.h"

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* best F1 by trying every observed score as the threshold (score >= thr) */
static double
brute_best_f1(const double *s, const unsigned char *y, size_t n)
{
	double best = 0;

	for (size_t t = 0; t < n; t++) {
		size_t tp = 0, fp = 0, fn = 0;
		for (size_t i = 0; i < n; i++) {
			int pred = s[i] >= s[t];
			tp += pred && y[i];
			fp += pred && !y[i];
			fn += !pred && y[i];
		}
		if (tp) {
			double f = 2.0 * tp / (2.0 * tp + fp + fn);
			if (f > best)
				best = f;
		}
	}
	return best;
}

int
main(void)
{
	struct aiops_rng r;
	struct aiops_error e;
	int bad = 0, badf = 0;

	aiops_rng_seed(&r, 1);
	for (int t = 0; t < 3000; t++) {
		size_t n = 1 + (size_t)aiops_rng_below(&r, 300), i;
		double v[300], s[300], p, h, want, got;

		for (i = 0; i < n; i++)
			s[i] = v[i] = t % 7 == 0 ? (double)i : t % 3 == 0 ?
			    (double)aiops_rng_below(&r, 5) : aiops_rng_normal(&r);
		qsort(s, n, sizeof(double), cmp);
		p = aiops_rng_uniform(&r);
		h = (double)(n - 1) * p;
		i = (size_t)floor(h);
		want = i + 1 < n ? s[i] + (h - (double)i) * (s[i + 1] - s[i]) : s[n - 1];
		got = aiops_quantile(v, n, p);
		if (fabs(got - want) > 1e-12 * (1 + fabs(want)))
			bad++;
	}
	is_int(bad, 0, "3000 quantiles by selection equal numpy's linear rule on the sorted values");
	{
		double v[] = { 1, NAN, 3, 2 };
		is_double(aiops_quantile(v, 4, 0.5), 2, 0, "NaN left out of a quantile");
	}
	for (int t = 0; t < 300; t++) {
		size_t n = 2 + (size_t)aiops_rng_below(&r, 120), pos = 0;
		double s[122];
		unsigned char y[122];
		struct aiops_rank rk;

		for (size_t i = 0; i < n; i++) {
			y[i] = aiops_rng_uniform(&r) < 0.2;
			pos += y[i];
			/* ties on purpose: scores on a coarse grid */
			s[i] = (double)aiops_rng_below(&r, 12) + (y[i] ? 3 : 0);
		}
		if (pos == 0)
			y[0] = 1;
		if (aiops_rank_metrics(s, y, n, &rk, &e) != AIOPS_OK ||
		    fabs(rk.best_f1 - brute_best_f1(s, y, n)) > 1e-12)
			badf++;
	}
	is_int(badf, 0, "300 exact best F1 values equal brute force over every threshold (with ties)");
	{
		double s[] = { 0.9, 0.8, 0.7, 0.1 };
		unsigned char y[] = { 1, 0, 1, 0 };
		struct aiops_rank rk;
		aiops_rank_metrics(s, y, 4, &rk, &e);
		/* precision at the two positives: 1/1 and 2/3: AP = 0.5 * 1 + 0.5 * 2/3 */
		is_double(rk.auc_pr, 0.5 + 1.0 / 3, 1e-15, "average precision worked by hand");
		/* ranks: positives 1st and 3rd of 4: AUC = (2 + 1) / 4 */
		is_double(rk.auc_roc, 0.75, 1e-15, "ROC AUC worked by hand");
		ok(aiops_rank_metrics(s, (unsigned char[]){ 0, 0, 0, 0 }, 4, &rk, &e) == AIOPS_ERR_DATA,
		    "no positives: undefined, an error");
	}
	return done_testing();
}
