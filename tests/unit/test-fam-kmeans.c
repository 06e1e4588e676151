/*
 * test-fam-kmeans.c - the k-means family against hand-worked clusterings,
 * brute-force nearest-centre search and Lloyd's fixed point, and
 * scikit-learn's KMeans on well-separated blobs (skipped when
 * /usr/bin/python3 cannot import sklearn).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

extern const struct aiops_family aiops_fam_kmeans;

/* A TAP skip: tap.h has no skip(), and a "#" in an ok() name is escaped. */
static char *names[] = { "a", "b", "c", "d", "e" };

/* Fit with up to two name=value parameters (NULL for none). */
static int
fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e,
    const char *p1, double v1, const char *p2, double v2)
{
	struct aiops_params p = { 0 };

	if (p1)
		aiops_param_set(&p, p1, v1);
	if (p2)
		aiops_param_set(&p, p2, v2);
	if (aiops_model_init(m, &aiops_fam_kmeans, &p, names, d) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	return aiops_model_fit(m, x, n, e);
}

static int
cmp_row3(const void *a, const void *b)
{
	const double *x = a, *y = b;

	for (int j = 0; j < 3; j++)
		if (x[j] != y[j])
			return (x[j] > y[j]) - (x[j] < y[j]);
	return 0;
}

static void
hand(void)
{
	struct aiops_model m;
	struct aiops_error e;
	const struct aiops_array *c, *sz;

	/* 1-D: {0, 1} and {10, 11} */
	{
		double x[4] = { 0, 1, 10, 11 }, s[4], ct[4], q = 5, qs;
		double lo, hi;

		ok(fit(&m, x, 4, 1, &e, "k", 2, NULL, 0) == AIOPS_OK, "1-D k=2 fits");
		c = aiops_model_get(&m, "centres");
		sz = aiops_model_get(&m, "sizes");
		lo = fmin(c->v[0], c->v[1]);
		hi = fmax(c->v[0], c->v[1]);
		ok(c->rows == 2 && c->cols == 1 && lo == 0.5 && hi == 10.5, "centres 0.5 and 10.5");
		ok(sz->v[0] == 2 && sz->v[1] == 2, "two rows each");
		aiops_model_score(&m, x, 4, s, ct, &e);
		ok(s[0] == 0.5 && s[1] == 0.5 && s[2] == 0.5 && s[3] == 0.5, "every row 0.5 from its centre");
		ok(ct[0] == 0.25 && ct[3] == 0.25, "contribution (x - c)^2 = 0.25");
		aiops_model_score(&m, &q, 1, &qs, NULL, &e);
		is_double(qs, 4.5, 0, "5 is 4.5 from 0.5 (5.5 from 10.5)");
		aiops_model_release(&m);
	}
	/* 2-D: two squares of side 2 */
	{
		double x[16] = { 0, 0, 2, 0, 0, 2, 2, 2, 10, 10, 12, 10, 10, 12, 12, 12 };
		double s[8], ct[16];
		int good = 1;

		fit(&m, x, 8, 2, &e, "k", 2, NULL, 0);
		c = aiops_model_get(&m, "centres");
		ok((c->v[0] == 1 && c->v[1] == 1 && c->v[2] == 11 && c->v[3] == 11) ||
		    (c->v[0] == 11 && c->v[1] == 11 && c->v[2] == 1 && c->v[3] == 1),
		    "centres (1,1) and (11,11)");
		aiops_model_score(&m, x, 8, s, ct, &e);
		for (int i = 0; i < 8; i++)
			good &= fabs(s[i] - sqrt(2)) <= 1e-15 && ct[2 * i] == 1 && ct[2 * i + 1] == 1;
		ok(good, "every corner sqrt 2 from its centre, contributions 1 and 1");
		aiops_model_release(&m);
	}
	/*
	 * 1e12 from the origin: |x|^2 - 2x.c + |c|^2 unshifted would lose all
	 * digits (|x|^2 = 1e24, spacing 2^27); the family shifts by the mean
	 */
	{
		double x[4] = { 1e12, 1e12 + 1, 1e12 + 10, 1e12 + 11 }, s[4];

		fit(&m, x, 4, 1, &e, "k", 2, NULL, 0);
		c = aiops_model_get(&m, "centres");
		ok(fmin(c->v[0], c->v[1]) == 1e12 + 0.5 && fmax(c->v[0], c->v[1]) == 1e12 + 10.5,
		    "far from the origin: centres 1e12 + 0.5 and 1e12 + 10.5");
		aiops_model_score(&m, x, 4, s, NULL, &e);
		ok(s[0] == 0.5 && s[1] == 0.5 && s[2] == 0.5 && s[3] == 0.5, "far from the origin: scores 0.5");
		aiops_model_release(&m);
	}
	/* fewer distinct rows than k: duplicate centres, nothing breaks */
	{
		double x[6] = { 3, 3, 3, 3, 7, 7 }, s[6];

		ok(fit(&m, x, 6, 1, &e, "k", 4, NULL, 0) == AIOPS_OK, "k=4 over 2 distinct values fits");
		aiops_model_score(&m, x, 6, s, NULL, &e);
		ok(s[0] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0, "every row on a centre");
		aiops_model_release(&m);
	}
}

/* Gaussian rows around 8 random means in 5-D. */
static void
random_data(double *x, size_t n, size_t d, uint64_t seed)
{
	struct aiops_rng r;
	double mu[8][5];

	aiops_rng_seed(&r, seed);
	for (int c = 0; c < 8; c++)
		for (size_t j = 0; j < d; j++)
			mu[c][j] = 6 * aiops_rng_uniform(&r);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = mu[i % 8][j] + aiops_rng_normal(&r);
}

/* Against a brute-force nearest centre, and Lloyd's fixed point. */
static void
brute(void)
{
	size_t n = 3000, d = 5, k = 8;
	double *x = calloc(n * d, sizeof(double)), *s = calloc(n, sizeof(double));
	double *ct = calloc(n * d, sizeof(double)), *mean = calloc(k * d, sizeof(double));
	double *c1 = calloc(k * d, sizeof(double)), serr = 0, cerr = 0, merr = 0;
	size_t *cnt = calloc(k, sizeof(size_t)), szbad = 0;
	const struct aiops_array *c, *sz;
	struct aiops_model m;
	struct aiops_error e;

	random_data(x, n, d, 11);
	ok(fit(&m, x, n, d, &e, NULL, 0, NULL, 0) == AIOPS_OK, "k=8 (default) on 3000 x 5 fits");
	c = aiops_model_get(&m, "centres");
	sz = aiops_model_get(&m, "sizes");
	is_int(c->rows, 8, "8 centres by default");
	memcpy(c1, c->v, k * d * sizeof(double));
	aiops_model_score(&m, x, n, s, ct, &e);
	for (size_t i = 0; i < n; i++) {
		double best = INFINITY, sum = 0;
		size_t bj = 0;

		for (size_t j = 0; j < k; j++) {
			double v = 0;
			for (size_t q = 0; q < d; q++)
				v += (x[i * d + q] - c->v[j * d + q]) * (x[i * d + q] - c->v[j * d + q]);
			if (v < best) {
				best = v;
				bj = j;
			}
		}
		cnt[bj]++;
		for (size_t q = 0; q < d; q++) {
			mean[bj * d + q] += x[i * d + q];
			sum += ct[i * d + q];
		}
		serr = fmax(serr, fabs(s[i] - sqrt(best)) / sqrt(best));
		cerr = fmax(cerr, fabs(sum - s[i] * s[i]) / (s[i] * s[i]));
	}
	for (size_t j = 0; j < k; j++) {
		szbad += sz->v[j] != (double)cnt[j];
		for (size_t q = 0; q < d; q++)
			merr = fmax(merr, fabs(mean[j * d + q] / (double)cnt[j] - c->v[j * d + q]));
	}
	ok(serr <= 1e-12, "score = distance to the brute-force nearest centre (max rel error %.3g)", serr);
	ok(cerr <= 1e-12, "contributions sum to score^2 (max rel error %.3g)", cerr);
	ok(merr <= 1e-9, "converged: each centre is the mean of its rows (max error %.3g)", merr);
	ok(szbad == 0, "sizes count the rows nearest each centre");
	aiops_model_release(&m);

	fit(&m, x, n, d, &e, "seed", 0, NULL, 0);
	c = aiops_model_get(&m, "centres");
	ok(memcmp(c->v, c1, k * d * sizeof(double)) == 0, "seed=0 again: identical centres bit for bit");
	aiops_model_release(&m);

	/* one Lloyd iteration stops short of the fixed point it reached above */
	fit(&m, x, n, d, &e, "iters", 1, NULL, 0);
	c = aiops_model_get(&m, "centres");
	ok(memcmp(c->v, c1, k * d * sizeof(double)) != 0, "iters=1 stops early");
	aiops_model_release(&m);
	free(x);
	free(s);
	free(ct);
	free(mean);
	free(c1);
	free(cnt);
}

static void
errors(void)
{
	double x[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, s[4];
	struct aiops_params p = { 0 };
	struct aiops_model m;
	struct aiops_error e;

	/* the family names k and n; the generic check in aiops_model_fit() uses min_rows = k */
	aiops_param_set(&p, "k", 5);
	aiops_model_init(&m, &aiops_fam_kmeans, &p, names, 2);
	ok(aiops_fam_kmeans.fit(&m, x, 4, 2, &e) == AIOPS_ERR_DATA && strstr(e.msg, "k=5") &&
	    strstr(e.msg, "n=4"), "k > n refused naming both: %s", e.msg);
	is_int(aiops_fam_kmeans.min_rows(&p, 2), 5, "min_rows is k");
	ok(aiops_model_fit(&m, x, 4, &e) == AIOPS_ERR_DATA, "k > n through aiops_model_fit: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "k", 0, NULL, 0) == AIOPS_ERR_USAGE && strstr(e.msg, "k=0"),
	    "k=0 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "k", 2.5, NULL, 0) == AIOPS_ERR_USAGE && strstr(e.msg, "k=2.5"),
	    "k=2.5 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "k", 2, "iters", 0) == AIOPS_ERR_USAGE && strstr(e.msg, "iters=0"),
	    "iters=0 refused: %s", e.msg);
	aiops_model_release(&m);
	ok(fit(&m, x, 4, 2, &e, "k", 2, "seed", -1) == AIOPS_ERR_USAGE && strstr(e.msg, "seed=-1"),
	    "seed=-1 refused: %s", e.msg);
	aiops_model_release(&m);

	aiops_model_init(&m, &aiops_fam_kmeans, NULL, names, 2);
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "no centres: %s", e.msg);
	aiops_model_put(&m, "centres", 2, 3, x);
	ok(aiops_model_score(&m, x, 4, s, NULL, &e) == AIOPS_ERR_FORMAT, "centres of 3 columns for 2: %s",
	    e.msg);
	aiops_model_release(&m);
}

static const char sk_script[] =
	"import sys\n"
	"import numpy as np\n"
	"from sklearn.cluster import KMeans\n"
	"x = np.loadtxt(sys.argv[1], ndmin=2)\n"
	"km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(x)\n"
	"print(repr(float(km.inertia_)))\n"
	"for c in km.cluster_centers_:\n"
	"    print(' '.join(repr(float(v)) for v in c))\n";

/*
 * Three blobs of 300 rows, 10 apart with unit spread: both runs reach the
 * same partition, so inertia and centres agree to rounding (1e-6 relative
 * and 1e-9 leave room for sklearn's float64 summation order).
 */
static void
sklearn(void)
{
	static const double mu[3][3] = { { 0, 0, 0 }, { 10, 0, 0 }, { 0, 10, 10 } };
	char path[] = "/tmp/aiops-kmeans-XXXXXX", cmd[256];
	size_t n = 900, d = 3, got = 0;
	double *x = calloc(n * d, sizeof(double)), *s = calloc(n, sizeof(double));
	double sk[10], ours[9], inertia = 0, cerr = 0;
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng r;
	FILE *f;
	int fd;

	if (system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
		skip("/usr/bin/python3 cannot import sklearn: inertia");
		skip("/usr/bin/python3 cannot import sklearn: centres");
		goto out;
	}
	aiops_rng_seed(&r, 3);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = mu[i % 3][j] + aiops_rng_normal(&r);
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		ok(0, "temporary file for sklearn");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.17g %.17g %.17g\n", x[i * 3], x[i * 3 + 1], x[i * 3 + 2]);
	fclose(f);
	setenv("AIOPS_SK", sk_script, 1);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$AIOPS_SK\" %s", path);
	if ((f = popen(cmd, "r")) != NULL) {
		while (got < 10 && fscanf(f, "%lf", &sk[got]) == 1)
			got++;
		pclose(f);
	}
	unlink(path);
	if (!is_int(got, 10, "sklearn printed inertia and 3 centres"))
		goto out;
	fit(&m, x, n, d, &e, "k", 3, NULL, 0);
	aiops_model_score(&m, x, n, s, NULL, &e);
	memcpy(ours, aiops_model_get(&m, "centres")->v, sizeof(ours));
	aiops_model_release(&m);
	for (size_t i = 0; i < n; i++)
		inertia += s[i] * s[i];
	ok(fabs(inertia - sk[0]) <= 1e-6 * sk[0], "inertia %.10g vs sklearn %.10g within 1e-6 relative",
	    inertia, sk[0]);
	qsort(ours, 3, 3 * sizeof(double), cmp_row3);
	qsort(sk + 1, 3, 3 * sizeof(double), cmp_row3);
	for (int i = 0; i < 9; i++)
		cerr = fmax(cerr, fabs(ours[i] - sk[1 + i]));
	ok(cerr <= 1e-9, "sorted centres match sklearn's (max difference %.3g <= 1e-9)", cerr);
out:
	free(x);
	free(s);
}

int
main(void)
{
	hand();
	brute();
	errors();
	sklearn();
	return done_testing();
}
