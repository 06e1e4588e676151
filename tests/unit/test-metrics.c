/* test-metrics.c - quantiles and ranking metrics against brute force; the radix sort
 * of doubles against qsort(3). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/*
 * Sort a copy of v[0..n) with aiops_sort_doubles() and another with qsort(3);
 * 1 when both give the same bits, every zero +0.0 (qsort leaves -0.0 where its
 * comparison put it: the signs of its zeros are cleared before comparing).
 */
static int
sorts_like_qsort(const double *v, size_t n, const char *what)
{
	double *a = malloc((n ? n : 1) * sizeof(double)), *b = malloc((n ? n : 1) * sizeof(double));
	int same = 1;

	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return 0;
	}
	memcpy(a, v, n * sizeof(double));
	memcpy(b, v, n * sizeof(double));
	if (aiops_sort_doubles(a, n) != AIOPS_OK) {
		diag("%s: aiops_sort_doubles failed", what);
		same = 0;
	}
	qsort(b, n, sizeof(double), cmp);
	for (size_t i = 0; i < n; i++)
		if (b[i] == 0)
			b[i] = 0.0;
	for (size_t i = 0; same && i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(double)) != 0) {
			diag("%s: n=%zu, at %zu: got %.17g (%a), qsort %.17g (%a)", what, n, i, a[i],
			    a[i], b[i], b[i]);
			same = 0;
		}
	free(a);
	free(b);
	return same;
}

/* A double from 64 random bits, NaN excluded: any sign, exponent, subnormal, infinity. */
static double
random_bits(struct aiops_rng *r)
{
	double x;

	do {
		uint64_t u = aiops_rng_next(r);
		memcpy(&x, &u, 8);
	} while (isnan(x));
	return x;
}

/* In a child: with AIOPS_FAIL_ALLOC=nb, the sort fails cleanly and leaves v as it was. */
static int
sort_nomem_child(const char *nb)
{
	double v[] = { 3, -1, 2, -0.0, 5 }, w[5];
	pid_t pid;
	int st = 0;

	memcpy(w, v, sizeof(v));
	if ((pid = fork()) == 0) {
		setenv("AIOPS_FAIL_ALLOC", nb, 1);
		exit(aiops_sort_doubles(v, 5) == AIOPS_ERR_NOMEM && memcmp(v, w, sizeof(v)) == 0 ?
		    0 : 3);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
test_sort_doubles(void)
{
	static double big[100000];
	struct aiops_rng rng, *r = &rng;
	size_t nbig = sizeof(big) / sizeof(big[0]);
	int bad = 0;

	aiops_rng_seed(r, 2);
	/* before this process allocates through alloc.c: the children read AIOPS_FAIL_ALLOC */
	ok(sort_nomem_child("1"), "sort: the scratch space cannot be had: out of memory, "
	    "v untouched");
	ok(sort_nomem_child("2"), "sort: the counts cannot be had: out of memory, v untouched");

	ok(aiops_sort_doubles(NULL, 0) == AIOPS_OK, "sort: n = 0");
	{
		double v[] = { -2.5 };
		ok(aiops_sort_doubles(v, 1) == AIOPS_OK && v[0] == -2.5, "sort: n = 1");
	}
	{
		double v[] = { 2, -3 }, w[] = { -3, 2 };
		ok(aiops_sort_doubles(v, 2) == AIOPS_OK && memcmp(v, w, sizeof(v)) == 0,
		    "sort: n = 2, swapped");
		ok(aiops_sort_doubles(v, 2) == AIOPS_OK && memcmp(v, w, sizeof(v)) == 0,
		    "sort: n = 2, already in order");
	}
	{
		double v[] = { -0.0, 0.0, -0.0, 1, -1, -0.0 };
		int neg = 0;
		ok(aiops_sort_doubles(v, 6) == AIOPS_OK && v[0] == -1 && v[5] == 1, "sort: with zeros");
		for (int i = 1; i < 5; i++)
			neg += v[i] != 0 || signbit(v[i]) != 0;
		is_int(neg, 0, "sort: every -0.0 becomes +0.0");
	}
	{
		double v[] = { -0.0, -0.0, -0.0 };
		ok(aiops_sort_doubles(v, 3) == AIOPS_OK && !signbit(v[0]) && !signbit(v[1]) &&
		    !signbit(v[2]), "sort: only -0.0 (no digit differs): all become +0.0");
	}
	{
		double v[] = { DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN,
			-DBL_TRUE_MIN, 4.9e-320, -4.9e-320, 0.0, -0.0, 1, -1, 1e308, -1e308, 1e-308,
			-1e-308, DBL_EPSILON, nextafter(1, 2), nextafter(1, 0), nextafter(-1, 0) };
		double w[] = { -INFINITY, -DBL_MAX, -1e308, -1, nextafter(-1, 0), -DBL_MIN, -1e-308,
			-4.9e-320, -DBL_TRUE_MIN, 0.0, 0.0, DBL_TRUE_MIN, 4.9e-320, 1e-308, DBL_MIN,
			DBL_EPSILON, nextafter(1, 0), 1, nextafter(1, 2), 1e308, DBL_MAX, INFINITY };
		size_t n = sizeof(v) / sizeof(v[0]);
		ok(aiops_sort_doubles(v, n) == AIOPS_OK && memcmp(v, w, sizeof(v)) == 0,
		    "sort: extremes, subnormals and infinities in order");
		ok(sorts_like_qsort(w, n, "extremes sorted"), "sort: an already sorted input");
	}
	/* small arrays of every kind, compared with qsort */
	for (int t = 0; t < 2000; t++) {
		size_t n = 2 + (size_t)aiops_rng_below(r, 298);
		double v[300];
		for (size_t i = 0; i < n; i++)
			switch (t % 6) {
			case 0: v[i] = aiops_rng_normal(r); break;
			case 1: v[i] = (double)aiops_rng_below(r, 9) - 4; break;       /* duplicates */
			case 2: v[i] = aiops_rng_below(r, 2) ? 0.0 : -0.0; break;
			case 3: v[i] = random_bits(r); break;   /* any magnitude, subnormals, infinities */
			case 4: v[i] = ldexp(aiops_rng_normal(r), (int)aiops_rng_below(r, 2100) - 1075);
				break;
			default:        /* only the lowest digit differs: one pass */
				v[i] = 1.0 + (double)aiops_rng_below(r, 2048) * DBL_EPSILON;
			}
		if (!sorts_like_qsort(v, n, "small"))
			bad++;
	}
	is_int(bad, 0, "sort: 2000 small arrays (normal, duplicates, zeros, any bits, any magnitude, "
	    "one digit) as qsort sorts them");
	for (size_t i = 0; i < nbig; i++)
		big[i] = aiops_rng_normal(r) * 1e6;
	ok(sorts_like_qsort(big, nbig, "normal"), "sort: 100000 normal values as qsort");
	for (size_t i = 0; i < nbig; i++)
		big[i] = random_bits(r);
	ok(sorts_like_qsort(big, nbig, "bits"), "sort: 100000 values of random bits as qsort");
	for (size_t i = 0; i < nbig; i++)
		big[i] = (double)aiops_rng_below(r, 50) - 25 + (aiops_rng_below(r, 4) ? 0 : -0.0);
	ok(sorts_like_qsort(big, nbig, "duplicates"), "sort: 100000 values, many equal, as qsort");
	for (size_t i = 0; i < nbig; i++)
		big[i] = (double)nbig - (double)i;
	ok(sorts_like_qsort(big, nbig, "descending"), "sort: 100000 descending values");
	for (size_t i = 0; i < nbig; i++)
		big[i] = 7.25;
	ok(aiops_sort_doubles(big, nbig) == AIOPS_OK && big[0] == 7.25 && big[nbig - 1] == 7.25,
	    "sort: 100000 equal values");
}

int
main(void)
{
	struct aiops_rng r;
	struct aiops_error e;
	int bad = 0, badf = 0;

	test_sort_doubles();
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
