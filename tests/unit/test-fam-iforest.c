/*
 * test-fam-iforest.c - the Isolation Forest family against closed forms
 * (forests whose every tree has the same shape), a re-scoring of the stored
 * trees written here from the paper's definitions, and scikit-learn.
 *
 * The sklearn checks are skipped when /usr/bin/python3 cannot import
 * sklearn. Our forests and sklearn's draw from different generators, so
 * only statistical agreement is possible: rank correlation and mean score.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

extern const struct aiops_family aiops_fam_iforest;

/* A TAP skip: tap.h has no skip(), and a "#" in an ok() name is escaped. */
/*
 * The paper's c(n) = 2H(n-1) - 2(n-1)/n with H(i) ~ ln i + 0.5772156649,
 * worked out from the exact harmonic sum in long double and the
 * Euler-Maclaurin series ln i + gamma = H(i) - 1/2i + 1/12i^2 - 1/120i^4
 * + 1/252i^6 - 1/240i^8 + 1/132i^10 - ... (the remainder is below
 * 691/32760i^12, under 1e-13 for the i >= 8 used here): no logarithm,
 * not the library's code path.
 */
static long double
c_ref(unsigned n)
{
	long double h = 0, i = n - 1;

	if (n <= 1)
		return 0;
	if (n == 2)
		return 1;
	for (unsigned k = n - 1; k >= 1; k--)
		h += 1.0L / k;
	h += -1 / (2 * i) + 1 / (12 * powl(i, 2)) - 1 / (120 * powl(i, 4)) +
	    1 / (252 * powl(i, 6)) - 1 / (240 * powl(i, 8)) + 1 / (132 * powl(i, 10));
	return 2 * h - 2.0L * (n - 1) / n;
}

/* c(n) from the formula in long double, for the small leaf sizes of the re-scoring. */
static long double
c_log(double n)
{
	if (n <= 1)
		return 0;
	if (n == 2)
		return 1;
	return 2 * (logl((long double)n - 1) + 0.5772156649L) - 2 * ((long double)n - 1) / n;
}

static char *names[] = { "a", "b", "c", "d", "e" };

/* Fit a model with up to two name=value parameters (NULL for none). */
static int
fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e,
    const char *p1, double v1, const char *p2, double v2)
{
	struct aiops_params p = { 0 };

	if (p1)
		aiops_param_set(&p, p1, v1);
	if (p2)
		aiops_param_set(&p, p2, v2);
	if (aiops_model_init(m, &aiops_fam_iforest, &p, names, d) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	return aiops_model_fit(m, x, n, e);
}

/*
 * A 3-component Gaussian mixture in 5-D (scales 1, 2 and 0.5) with 10%
 * uniform outliers: the spread of densities keeps the rank agreement of
 * two 100-tree forests well above 0.9 (sklearn against itself over 45
 * pairs of seeds: 0.950 at worst, 0.965 on average).
 */
static void
mixture(double *x, size_t n)
{
	static const double mu[3][5] = {
		{ 0, 0, 0, 0, 0 }, { 4, 4, 0, 0, 0 }, { 0, -4, 4, 0, 2 }
	};
	static const double sd[3] = { 1, 2, 0.5 };
	struct aiops_rng r;

	aiops_rng_seed(&r, 7);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < 5; j++)
			x[i * 5 + j] = i % 10 == 9 ? 20 * aiops_rng_uniform(&r) - 10 :
			    mu[i % 3][j] + sd[i % 3] * aiops_rng_normal(&r);
}

static const double *rank_key;

static int
rank_cmp(const void *a, const void *b)
{
	double x = rank_key[*(const size_t *)a], y = rank_key[*(const size_t *)b];

	return (x > y) - (x < y);
}

/* Ranks 1..n, ties sharing their mean rank. */
static void
ranks(const double *v, size_t n, double *rk, size_t *ord)
{
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	rank_key = v;
	qsort(ord, n, sizeof(size_t), rank_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[ord[j + 1]] == v[ord[i]])
			j++;
		for (size_t k = i; k <= j; k++)
			rk[ord[k]] = (double)(i + j) / 2 + 1;
		i = j + 1;
	}
}

static double
spearman(const double *a, const double *b, size_t n)
{
	double *ra = calloc(n, sizeof(double)), *rb = calloc(n, sizeof(double));
	size_t *ord = calloc(n, sizeof(size_t));
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

	ranks(a, n, ra, ord);
	ranks(b, n, rb, ord);
	for (size_t i = 0; i < n; i++) {
		ma += ra[i] / (double)n;
		mb += rb[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		sab += (ra[i] - ma) * (rb[i] - mb);
		saa += (ra[i] - ma) * (ra[i] - ma);
		sbb += (rb[i] - mb) * (rb[i] - mb);
	}
	free(ra);
	free(rb);
	free(ord);
	return sab / sqrt(saa * sbb);
}

/* Every tree splits the lone 1 off the zeros at its root, whatever the threshold. */
static void
closed_forms(void)
{
	static const unsigned sizes[] = { 10, 100, 256, 1000 };
	struct aiops_error e;

	for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
		unsigned n = sizes[c];
		double *x = calloc(2 * (size_t)n, sizeof(double));
		double *s = calloc(n, sizeof(double)), *ct = calloc(2 * (size_t)n, sizeof(double));
		double q[6] = { -5, 3, 7, 3, 0, 100 }, qs[3];
		double out_want, in_want, cmax = 0;
		struct aiops_model m;
		const struct aiops_array *psi;
		int r, cok = 1;

		for (unsigned i = 0; i < n; i++)
			x[2 * i + 1] = 3;   /* constant: never split on */
		x[2 * (n - 1)] = 1;
		/* n = 100 takes the default samples=256, capped at the 100 rows */
		r = n == 100 ? fit(&m, x, n, 2, &e, NULL, 0, NULL, 0) :
		    fit(&m, x, n, 2, &e, "samples", n, NULL, 0);
		ok(r == AIOPS_OK, "n=%u: fit: %s", n, r ? e.msg : "ok");
		psi = aiops_model_get(&m, "psi");
		ok(psi && psi->v[0] == n, "n=%u: psi is %u", n, n);
		aiops_model_score(&m, x, n, s, ct, &e);
		/* outlier: h = 1 + c(1) = 1; a zero: h = 1 + c(n - 1) */
		out_want = (double)powl(2, -1 / c_ref(n));
		in_want = (double)powl(2, -(1 + c_ref(n - 1)) / c_ref(n));
		is_double(s[n - 1], out_want, 1e-12, "n=%u: outlier scores 2^(-1/c(%u))", n, n);
		is_double(s[0], in_want, 1e-12, "n=%u: a zero scores 2^(-(1+c(%u))/c(%u))", n, n - 1, n);
		for (unsigned i = 0; i < n; i++) {
			cok &= ct[2 * i] == 1 && ct[2 * i + 1] == 0;
			cmax = fabs(s[i] - (i == n - 1 ? out_want : in_want)) > cmax ?
			    fabs(s[i] - (i == n - 1 ? out_want : in_want)) : cmax;
		}
		ok(cmax <= 1e-12, "n=%u: every row as expected (max error %.3g)", n, cmax);
		ok(cok, "n=%u: contributions are 1 (root split, depth 1) and 0 (constant column)", n);
		aiops_model_score(&m, q, 3, qs, NULL, &e);
		ok(qs[0] == s[0] && qs[1] == s[n - 1] && qs[2] == s[0],
		    "n=%u: new rows (-5,3) (7,3) (0,100) fall left, right, left", n);
		if (n == 256) {
			/*
			 * by hand: ln 255 = 5.5412635, + 0.5772157 = 6.1184792,
			 * x 2 = 12.2369584, - 2 x 255/256 = 1.9921875: 10.2447709
			 */
			is_double(-1 / log2(s[n - 1]), 10.24477, 1e-5, "c(256) = 10.24477 by hand");
		}
		aiops_model_release(&m);
		free(x);
		free(s);
		free(ct);
	}

	/* two rows: the root splits them into two leaves of one, h = 1, c(2) = 1 */
	{
		double x[4] = { 0, 1, 2, 5 }, s[2];
		struct aiops_model m;

		fit(&m, x, 2, 2, &e, NULL, 0, NULL, 0);
		aiops_model_score(&m, x, 2, s, NULL, &e);
		ok(s[0] == 0.5 && s[1] == 0.5, "two rows score 0.5: c(2) = 1 (TKDD 2012, sklearn)");
		aiops_model_release(&m);
	}
	/* identical rows: each tree is one leaf of psi rows, h = c(psi) */
	{
		double x[50 * 3], s[50], ct[50 * 3];
		struct aiops_model m;
		int good = 1;

		for (size_t i = 0; i < 150; i++)
			x[i] = (double)(i % 3);
		fit(&m, x, 50, 3, &e, NULL, 0, NULL, 0);
		aiops_model_score(&m, x, 50, s, ct, &e);
		for (size_t i = 0; i < 50; i++)
			/* the mean of 100 equal path lengths may round by an ulp */
			good &= fabs(s[i] - 0.5) < 1e-15 && ct[3 * i] == 0 && ct[3 * i + 1] == 0 && ct[3 * i + 2] == 0;
		ok(good, "constant data: every score 0.5, every contribution 0");
		ok(aiops_model_get(&m, "nodes")->rows == 100, "constant data: 100 one-node trees");
		aiops_model_release(&m);
	}
}

/* 1000 N(0,1) points in 2-D and 10 at distance 8. */
static void
outliers(void)
{
	size_t n = 1010;
	double *x = calloc(2 * n, sizeof(double)), *s = calloc(n, sizeof(double));
	double *s2 = calloc(n, sizeof(double)), *s3 = calloc(n, sizeof(double));
	double lo = INFINITY, hi = -INFINITY;
	struct aiops_model m, m2;
	const struct aiops_array *a, *b, *oa, *ob;
	struct aiops_error e;
	struct aiops_rng r;

	aiops_rng_seed(&r, 1);
	for (size_t i = 0; i < 1000; i++) {
		x[2 * i] = aiops_rng_normal(&r);
		x[2 * i + 1] = aiops_rng_normal(&r);
	}
	for (size_t i = 0; i < 10; i++) {
		x[2 * (1000 + i)] = 8 * cos(2 * M_PI * (double)i / 10);
		x[2 * (1000 + i) + 1] = 8 * sin(2 * M_PI * (double)i / 10);
	}
	fit(&m, x, n, 2, &e, NULL, 0, NULL, 0);
	aiops_model_score(&m, x, n, s, NULL, &e);
	for (size_t i = 0; i < n; i++) {
		if (i < 1000 && s[i] > hi)
			hi = s[i];
		if (i >= 1000 && s[i] < lo)
			lo = s[i];
	}
	ok(lo > hi, "the 10 outliers have the 10 highest scores (lowest %.4f > highest inlier %.4f)",
	    lo, hi);
	aiops_model_release(&m);

	fit(&m, x, n, 2, &e, "seed", 0, NULL, 0);
	aiops_model_score(&m, x, n, s2, NULL, &e);
	ok(memcmp(s, s2, n * sizeof(double)) == 0, "seed=0 again: identical scores, bit for bit");
	aiops_model_release(&m);
	fit(&m, x, n, 2, &e, "seed", 1, NULL, 0);
	aiops_model_score(&m, x, n, s3, NULL, &e);
	ok(memcmp(s, s3, n * sizeof(double)) != 0, "seed=1: different scores");
	aiops_model_release(&m);

	/* a tree depends on (seed, its index) only: 10 trees are the first 10 of 20 */
	fit(&m, x, n, 2, &e, "trees", 10, "seed", 5);
	fit(&m2, x, n, 2, &e, "trees", 20, "seed", 5);
	a = aiops_model_get(&m, "nodes");
	b = aiops_model_get(&m2, "nodes");
	oa = aiops_model_get(&m, "offsets");
	ob = aiops_model_get(&m2, "offsets");
	ok(oa->rows == 11 && ob->rows == 21 && memcmp(oa->v, ob->v, 11 * sizeof(double)) == 0 &&
	    memcmp(a->v, b->v, a->rows * 5 * sizeof(double)) == 0,
	    "trees=10 builds the same trees as the first 10 of trees=20");
	aiops_model_release(&m);
	aiops_model_release(&m2);
	free(x);
	free(s);
	free(s2);
	free(s3);
}

/*
 * Re-score from the stored arrays with a recursive-free walk written from
 * the paper: left when x <= threshold, h = edges + c(leaf size), and the
 * documented contributions (1/depth per split, root depth 1, / trees).
 */
static void
rescore(const double *x, size_t n, size_t d)
{
	struct aiops_model m;
	struct aiops_error e;
	const struct aiops_array *na, *oa, *pa;
	double *s = calloc(n, sizeof(double)), *s2 = calloc(n, sizeof(double));
	double *ct = calloc(n * d, sizeof(double)), *cw = calloc(d, sizeof(double));
	double serr = 0, cerr = 0, mean_depth = 0;
	size_t trees;

	fit(&m, x, n, d, &e, "trees", 50, "samples", 200);
	na = aiops_model_get(&m, "nodes");
	oa = aiops_model_get(&m, "offsets");
	pa = aiops_model_get(&m, "psi");
	trees = oa->rows - 1;
	is_int(trees, 50, "trees=50: 50 trees");
	is_double(pa->v[0], 200, 0, "samples=200: psi 200");
	aiops_model_score(&m, x, n, s, ct, &e);
	aiops_model_score(&m, x, n, s2, NULL, &e);
	ok(memcmp(s, s2, n * sizeof(double)) == 0, "scores with and without contributions agree bit for bit");
	for (size_t i = 0; i < n; i++) {
		long double h = 0;
		memset(cw, 0, d * sizeof(double));
		for (size_t t = 0; t < trees; t++) {
			const double *nd = na->v + (size_t)oa->v[t] * 5;
			size_t k = 0, depth = 0;
			while (nd[k * 5] >= 0) {
				size_t f = (size_t)nd[k * 5];
				depth++;
				cw[f] += 1.0 / (double)depth;
				k = (size_t)(x[i * d + f] <= nd[k * 5 + 1] ? nd[k * 5 + 2] : nd[k * 5 + 3]);
			}
			h += depth + c_log(nd[k * 5 + 4]);
			mean_depth += (double)depth / (double)(n * trees);
		}
		h /= trees;
		if (fabs((double)powl(2, -h / c_log(200)) - s[i]) > serr)
			serr = fabs((double)powl(2, -h / c_log(200)) - s[i]);
		for (size_t j = 0; j < d; j++)
			if (fabs(cw[j] / (double)trees - ct[i * d + j]) > cerr)
				cerr = fabs(cw[j] / (double)trees - ct[i * d + j]);
	}
	/*
	 * The stopping rule: psi=200 gives the height limit ceil(log2 200) = 8;
	 * above it a node stops only when one row is left (the data have no
	 * ties), and the sizes of two children add up to their parent's.
	 */
	{
		int *depth = calloc(na->rows, sizeof(int)), maxd = 0, shape = 1;

		for (size_t t = 0; t < trees; t++) {
			size_t base = (size_t)oa->v[t], cnt = (size_t)oa->v[t + 1] - base;
			const double *nd = na->v + base * 5;

			shape &= nd[4] == 200;
			for (size_t k = 0; k < cnt; k++) {
				if (nd[k * 5] < 0) {
					maxd = depth[base + k] > maxd ? depth[base + k] : maxd;
					shape &= depth[base + k] == 8 || nd[k * 5 + 4] == 1;
					continue;
				}
				size_t l = (size_t)nd[k * 5 + 2], r = (size_t)nd[k * 5 + 3];
				shape &= r == l + 1 && l > k && r < cnt &&
				    nd[l * 5 + 4] + nd[r * 5 + 4] == nd[k * 5 + 4];
				if (shape)
					depth[base + l] = depth[base + r] = depth[base + k] + 1;
			}
		}
		is_int(maxd, 8, "deepest leaf at the height limit ceil(log2 200) = 8");
		ok(shape, "roots hold 200 rows, children split their parent's rows, "
		    "leaves above depth 8 hold one row");
		free(depth);
	}
	ok(serr <= 1e-12, "scores match a walk of the stored trees (max error %.3g <= 1e-12)", serr);
	ok(cerr <= 1e-12, "contributions match sum 1/depth / trees (max error %.3g <= 1e-12)", cerr);
	ok(mean_depth > 3 && mean_depth <= 8, "mean walk depth %.2f within the limit ceil(log2 200) = 8",
	    mean_depth);
	aiops_model_release(&m);
	free(s);
	free(s2);
	free(ct);
	free(cw);
}

static void
errors(void)
{
	double x[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, s[4];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_array *na;

	ok(fit(&m, x, 4, 2, &e, "trees", 0, NULL, 0) == AIOPS_ERR_USAGE && strstr(e.msg, "trees=0"),
	    "trees=0 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "samples", 1, NULL, 0) == AIOPS_ERR_USAGE &&
	    strstr(e.msg, "samples=1"), "samples=1 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "seed", 0.5, NULL, 0) == AIOPS_ERR_USAGE && strstr(e.msg, "seed=0.5"),
	    "seed=0.5 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 1, 2, &e, NULL, 0, NULL, 0) == AIOPS_ERR_DATA, "one row refused: %s", e.msg);
	aiops_model_release(&m);

	/* damaged fitted state is a format error, never a wild read */
	fit(&m, x, 4, 2, &e, "trees", 1, NULL, 0);
	na = (struct aiops_array *)aiops_model_get(&m, "nodes");
	na->v[0] = 2;   /* the root splits on column 2 of 2 */
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "bad feature: %s", e.msg);
	na->v[0] = 0;
	na->v[3] = na->v[2] + 2;
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "right != left + 1: %s", e.msg);
	na->v[3] = na->v[2] + 1;
	na->v[2] = 0;
	na->v[3] = 1;
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "a child before its parent: %s",
	    e.msg);
	aiops_model_release(&m);
	aiops_model_init(&m, &aiops_fam_iforest, NULL, names, 2);
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "no arrays: %s", e.msg);
	aiops_model_release(&m);
}

/* Prints "score100 score1000" per row: forests of 100 (the check asked for) and 1000 trees. */
static const char sk_script[] =
	"import sys\n"
	"import numpy as np\n"
	"from sklearn.ensemble import IsolationForest\n"
	"x = np.loadtxt(sys.argv[1], ndmin=2)\n"
	"s = [IsolationForest(n_estimators=t, max_samples=256, random_state=0).fit(x).score_samples(x)\n"
	"     for t in (100, 1000)]\n"
	"for a, b in zip(*s):\n"
	"    print(repr(float(a)), repr(float(b)))\n";

/*
 * Compare with sklearn's score_samples (negated). With 100 trees the
 * Monte-Carlo noise of either forest dominates (sklearn against itself
 * over other seeds: rank correlation 0.95-0.97 on these data), so the
 * bounds are loose; with 1000 trees the noise shrinks by sqrt(10) and a
 * systematic difference (a wrong c(n), depth limit or split rule) would
 * show: there ours and sklearn's agree to 0.994 in rank and 2e-4 in mean.
 */
static void
sklearn(const double *x, size_t n, size_t d)
{
	char path[] = "/tmp/aiops-iforest-XXXXXX", cmd[256];
	double *sk = calloc(2 * n, sizeof(double)), *s = calloc(n, sizeof(double));
	double *col = calloc(n, sizeof(double));
	struct aiops_model m;
	struct aiops_error e;
	size_t got = 0;
	FILE *f;
	int fd;

	if (system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
		for (int k = 0; k < 5; k++)
			skip("/usr/bin/python3 cannot import sklearn");
		goto out;
	}
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		ok(0, "temporary file for sklearn");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			fprintf(f, "%.17g%c", x[i * d + j], j + 1 < d ? ' ' : '\n');
	fclose(f);
	setenv("AIOPS_SK", sk_script, 1);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$AIOPS_SK\" %s", path);
	if ((f = popen(cmd, "r")) != NULL) {
		while (got < 2 * n && fscanf(f, "%lf", &sk[got]) == 1)
			got++;
		pclose(f);
	}
	unlink(path);
	if (!is_int(got, 2 * n, "sklearn printed 2 x %zu scores", n))
		goto out;
	for (int c = 0; c < 2; c++) {
		int trees = c ? 1000 : 100;
		double ms = 0, mk = 0, maxd = 0, rho;

		fit(&m, x, n, d, &e, "trees", trees, NULL, 0);
		aiops_model_score(&m, x, n, s, NULL, &e);
		aiops_model_release(&m);
		for (size_t i = 0; i < n; i++) {
			col[i] = -sk[2 * i + c];
			ms += s[i] / (double)n;
			mk += col[i] / (double)n;
			maxd = fabs(s[i] - col[i]) > maxd ? fabs(s[i] - col[i]) : maxd;
		}
		rho = spearman(s, col, n);
		if (c == 0) {
			ok(rho > 0.9, "100 trees: Spearman rank correlation with sklearn %.4f > 0.9", rho);
			is_double(ms, mk, 0.02, "100 trees: mean score %.4f vs sklearn %.4f within 0.02",
			    ms, mk);
		} else {
			ok(rho > 0.98, "1000 trees: Spearman rank correlation with sklearn %.4f > 0.98",
			    rho);
			is_double(ms, mk, 0.005,
			    "1000 trees: mean score %.4f vs sklearn %.4f within 0.005", ms, mk);
			ok(maxd < 0.05, "1000 trees: largest score difference %.4f < 0.05", maxd);
		}
	}
out:
	free(sk);
	free(s);
	free(col);
}

int
main(void)
{
	size_t n = 2000, d = 5;
	double *x = calloc(n * d, sizeof(double));

	closed_forms();
	outliers();
	mixture(x, n);
	rescore(x, n, d);
	errors();
	sklearn(x, n, d);
	free(x);
	return done_testing();
}
