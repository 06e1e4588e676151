/*
 * test-fam-mahal.c - the mahalanobis family against closed forms (factorial
 * designs whose sample covariance is known exactly) and against
 * scikit-learn's EmpiricalCovariance on the same numbers.
 *
 * Convention: the family's covariance divides by n - 1; sklearn's divides
 * by n, so its mahalanobis() is compared after scaling by (n - 1) / n.
 * The sklearn checks are skipped when /usr/bin/python3 cannot import sklearn.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"
#include "famtest.h"

extern const struct aiops_family aiops_fam_mahal;

#define MAXD 16

static char tmpdir[] = "/tmp/test-fam-mahal.XXXXXX";

/* A TAP skip: tap.h has no skip(), and a "#" in an ok() name is escaped. */
/* Init and fit a model over d columns; reg < 0 leaves the parameter out (NaN sets it). */
static int
fit(struct aiops_model *m, double reg, const double *x, size_t n, size_t d,
    struct aiops_error *e)
{
	struct aiops_params p = { 0 };
	char buf[MAXD][8], *names[MAXD];
	int r;

	for (size_t j = 0; j < d; j++) {
		snprintf(buf[j], sizeof(buf[j]), "c%zu", j + 1);
		names[j] = buf[j];
	}
	if (reg >= 0 || isnan(reg))
		aiops_param_set(&p, "reg", reg);
	if (aiops_model_init(m, &aiops_fam_mahal, &p, names, d) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if ((r = aiops_model_fit(m, x, n, e)) != AIOPS_OK)
		aiops_model_release(m);
	return r;
}

static int
write_csv(const char *path, const double *x, size_t n, size_t d)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			fprintf(f, "%.17g%c", x[i * d + j], j + 1 < d ? ',' : '\n');
	return fclose(f) == 0 ? 0 : -1;
}

/*
 * copies x 2^d rows of the full factorial design (+-1 entries) scaled by
 * sqrt((n-1)/n): every column has mean 0 and sample variance 1, and the
 * columns are orthogonal, so the sample covariance (n - 1) is I exactly.
 */
static size_t
factorial(double *x, size_t d, size_t copies)
{
	size_t n = copies << d, i = 0;
	double s = sqrt((double)(n - 1) / (double)n);

	for (size_t c = 0; c < copies; c++)
		for (size_t r = 0; r < (1u << d); r++, i++)
			for (size_t j = 0; j < d; j++)
				x[i * d + j] = (r >> j & 1 ? 1 : -1) * s;
	return n;
}

/* Axis-aligned: S = diag(sigma^2), so the distance is sum ((y - mu) / sigma)^2. */
static void
test_diagonal(void)
{
	enum { D = 4, C = 2, M = 20 };
	static double x[(C << D) * D], y[M * D], out[M], c[M * D];
	double mu[D] = { 5, -3, 0.25, 100 }, sd[D] = { 1, 2, 0.5, 10 }, v[D], ms = 0;
	double regs[] = { 0, 0.3, 1, -1 }, worst, wc;
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	size_t n = factorial(x, D, C);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = mu[j] + sd[j] * x[i * D + j];
	aiops_rng_seed(&rng, 11);
	for (size_t i = 0; i < M; i++)
		for (size_t j = 0; j < D; j++)
			y[i * D + j] = mu[j] + sd[j] * 3 * aiops_rng_normal(&rng);
	for (size_t j = 0; j < D; j++)
		ms += sd[j] * sd[j] / D;

	for (size_t t = 0; t < sizeof(regs) / sizeof(regs[0]); t++) {
		double reg = regs[t] < 0 ? 1e-3 : regs[t];
		if (!ok(fit(&m, regs[t], x, n, D, &e) == AIOPS_OK,
		    "fit %s%g on a %zu-row factorial design", regs[t] < 0 ? "default reg=" : "reg=",
		    reg, n))
			continue;
		aiops_model_score(&m, y, M, out, c, &e);
		for (size_t j = 0; j < D; j++)
			v[j] = (1 - reg) * sd[j] * sd[j] + reg * ms;
		worst = wc = 0;
		for (size_t i = 0; i < M; i++) {
			double want = 0;
			for (size_t j = 0; j < D; j++) {
				double q = (y[i * D + j] - mu[j]) * (y[i * D + j] - mu[j]) / v[j];
				want += q;
				wc = fmax(wc, fabs(c[i * D + j] - q) / fmax(q, 1));
			}
			worst = fmax(worst, fabs(out[i] - want) / want);
		}
		is_double(worst, 0, 1e-12,
		    "reg=%g: score = sum (y-mu)^2 / ((1-reg) s^2 + reg mean(s^2)) (rel. error %.2g)",
		    reg, worst);
		is_double(wc, 0, 1e-12, "reg=%g: contrib_j = (y_j-mu_j)^2 / v_j (error %.2g)", reg, wc);
		aiops_model_release(&m);
	}
}

/* Correlated: x = mu + A z with z a factorial design (covariance I), so S = A A^T. */
static void
test_correlated(void)
{
	enum { D = 3, C = 4, N = 600 };
	static double z[(C << D) * D], x[(C << D) * D], y[N * D], out[N], one[1], c[N * D];
	double A[D][D] = { { 2, 0, 0 }, { 1, 3, 0 }, { -1, 0.5, 1 } }, mu[D] = { 1, 2, 3 };
	double worst = 0, wc = 0, ws = 0;
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	size_t n = factorial(z, D, C);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < D; j++) {
			x[i * D + j] = mu[j];
			for (size_t l = 0; l < D; l++)
				x[i * D + j] += A[j][l] * z[i * D + l];
		}
	aiops_rng_seed(&rng, 5);
	for (size_t i = 0; i < N * D; i++)
		y[i] = 4 * aiops_rng_normal(&rng);
	ok(fit(&m, 0, x, n, D, &e) == AIOPS_OK, "fit reg=0 on correlated factorial data");
	aiops_model_score(&m, y, N, out, c, &e);
	for (size_t i = 0; i < N; i++) {
		double r[D], u[D], w[D], want = 0, s = 0;
		/* u = A^-1 (y - mu) forward, w = A^-T u backward: w = S^-1 (y - mu) */
		for (size_t j = 0; j < D; j++) {
			r[j] = y[i * D + j] - mu[j];
			u[j] = r[j];
			for (size_t l = 0; l < j; l++)
				u[j] -= A[j][l] * u[l];
			u[j] /= A[j][j];
			want += u[j] * u[j];
		}
		for (size_t j = D; j-- > 0;) {
			w[j] = u[j];
			for (size_t l = j + 1; l < D; l++)
				w[j] -= A[l][j] * w[l];
			w[j] /= A[j][j];
		}
		worst = fmax(worst, fabs(out[i] - want) / want);
		for (size_t j = 0; j < D; j++) {
			wc = fmax(wc, fabs(c[i * D + j] - r[j] * w[j]) / want);
			s += c[i * D + j];
		}
		ws = fmax(ws, fabs(s - out[i]) / out[i]);
	}
	is_double(worst, 0, 1e-12, "score = |A^-1 (y - mu)|^2 for S = A A^T (rel. error %.2g)", worst);
	is_double(wc, 0, 1e-12, "contrib_j = (y-mu)_j (S^-1 (y-mu))_j (error %.2g)", wc);
	is_double(ws, 0, 1e-12, "contributions sum to the score");

	/* block boundaries at 256 and 512: all rows at once = each row alone */
	worst = 0;
	for (size_t i = 0; i < N; i++) {
		aiops_model_score(&m, y + i * D, 1, one, NULL, &e);
		worst = fmax(worst, fabs(one[0] - out[i]) / out[i]);
	}
	is_double(worst, 0, 1e-12, "scoring 600 rows at once = scoring each alone");
	{
		const struct aiops_array *L = aiops_model_get(&m, "chol");
		ok(L && L->rows == D && L->cols == D && L->v[1] == 0 && L->v[2] == 0 && L->v[5] == 0,
		    "chol is stored lower triangular with zeros above the diagonal");
		is_double(L ? L->v[0] : 0, 2, 1e-12, "chol(A A^T) = A: L11 = 2");
		is_double(L ? L->v[3] : 0, 1, 1e-12, "chol(A A^T) = A: L21 = 1");
	}
	aiops_model_release(&m);
}

static void
test_errors(void)
{
	double x[6 * 3] = { 1, 7, 3, 2, 7, 5, 0, 7, 1, 4, 7, 1, 3, 7, 3, 2, 7, 2 }, k[6 * 2], out[6];
	struct aiops_model m;
	struct aiops_error e;

	{
		struct aiops_params p = { 0 };
		char *names[] = { "a", "b", "c" };
		aiops_param_set(&p, "reg", -0.1);
		aiops_model_init(&m, &aiops_fam_mahal, &p, names, 3);
		is_int(aiops_model_fit(&m, x, 6, &e), AIOPS_ERR_USAGE, "reg=-0.1 is a usage error");
		ok(strstr(e.msg, "reg=-0.1") != NULL, "message names reg: %s", e.msg);
		aiops_model_release(&m);
	}
	is_int(fit(&m, 1.5, x, 6, 3, &e), AIOPS_ERR_USAGE, "reg=1.5 is a usage error");
	is_int(fit(&m, NAN, x, 6, 3, &e), AIOPS_ERR_USAGE, "reg=nan is a usage error");
	is_int(fit(&m, 0, x, 6, 3, &e), AIOPS_ERR_DATA, "a constant column with reg=0 fails");
	ok(strstr(e.msg, "covariance is not positive definite; raise reg") != NULL,
	    "message: %s", e.msg);
	ok(fit(&m, 1e-3, x, 6, 3, &e) == AIOPS_OK, "the same data with reg=1e-3 fits");
	aiops_model_score(&m, x, 6, out, NULL, &e);
	ok(isfinite(out[0]) && isfinite(out[5]), "and scores finitely");
	aiops_model_release(&m);
	for (size_t i = 0; i < 12; i++)
		k[i] = 4;
	is_int(fit(&m, 1, k, 6, 2, &e), AIOPS_ERR_DATA, "all columns constant, even reg=1, fails");
	ok(strstr(e.msg, "constant") != NULL, "message: %s", e.msg);
	is_int(fit(&m, 0.1, x, 1, 3, &e), AIOPS_ERR_DATA, "one row is too few");
	ok(strstr(e.msg, "at least 2 rows") != NULL, "message: %s", e.msg);

	ok(fit(&m, 0.1, x, 6, 3, &e) == AIOPS_OK, "fit on 6 rows");
	aiops_model_put(&m, "chol", 2, 2, x);
	is_int(aiops_model_score(&m, x, 6, out, NULL, &e), AIOPS_ERR_FORMAT,
	    "a chol array of the wrong shape is a format error");
	aiops_model_release(&m);
}

/* scikit-learn's EmpiricalCovariance (divides by n) on the same numbers */
static const char sk_script[] =
    "import sys, numpy as np\n"
    "from sklearn.covariance import EmpiricalCovariance\n"
    "tr = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "te = np.loadtxt(sys.argv[2], delimiter=',', ndmin=2)\n"
    "c = EmpiricalCovariance(assume_centered=False).fit(tr)\n"
    "for v in c.mahalanobis(te): print(repr(float(v)))\n";

static void
test_sklearn(void)
{
	enum { N = 400, M = 50, D = 6 };
	static double x[N * D], y[M * D], out[M], ref[M], c[M * D];
	double A[D * D], mu[D], worst, ws;
	char trp[64], tep[64], cmd[512];
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	FILE *f;
	int got = 0;

	if (system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
		skip("/usr/bin/python3 cannot import sklearn");
		return;
	}
	aiops_rng_seed(&rng, 99);
	for (size_t j = 0; j < D * D; j++)
		A[j] = aiops_rng_normal(&rng);
	for (size_t j = 0; j < D; j++)
		mu[j] = 1000 * aiops_rng_uniform(&rng);
	for (size_t i = 0; i < N + M; i++) {
		double z[D], *row = i < N ? x + i * D : y + (i - N) * D;
		for (size_t j = 0; j < D; j++)
			z[j] = aiops_rng_normal(&rng);
		for (size_t j = 0; j < D; j++) {
			row[j] = mu[j];
			for (size_t l = 0; l < D; l++)
				row[j] += z[l] * A[l * D + j];
		}
		if (i >= N && i % 7 == 0)
			row[i % D] += 10;
	}
	snprintf(trp, sizeof(trp), "%s/train.csv", tmpdir);
	snprintf(tep, sizeof(tep), "%s/test.csv", tmpdir);
	ok(write_csv(trp, x, N, D) == 0 && write_csv(tep, y, M, D) == 0, "wrote the CSVs");
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$AIOPS_SK\" %s %s", trp, tep);
	setenv("AIOPS_SK", sk_script, 1);
	if ((f = popen(cmd, "r")) != NULL) {
		for (size_t i = 0; i < M; i++)
			got += fscanf(f, "%lf", &ref[i]) == 1;
		got = pclose(f) == 0 ? got : -1;
	}
	unlink(trp);
	unlink(tep);
	if (!is_int(got, M, "sklearn printed %d distances", M))
		return;
	ok(fit(&m, 0, x, N, D, &e) == AIOPS_OK, "fit reg=0 on 400 x 6 correlated rows");
	aiops_model_score(&m, y, M, out, c, &e);
	worst = ws = 0;
	for (size_t i = 0; i < M; i++) {
		double want = ref[i] * (N - 1) / N, s = 0;
		worst = fmax(worst, fabs(out[i] - want) / want);
		for (size_t j = 0; j < D; j++)
			s += c[i * D + j];
		ws = fmax(ws, fabs(s - out[i]) / out[i]);
	}
	is_double(worst, 0, 1e-8,
	    "score = EmpiricalCovariance.mahalanobis * (n-1)/n (largest relative error %.2g)", worst);
	is_double(ws, 0, 1e-10, "contributions sum to the score (largest relative error %.2g)", ws);
	aiops_model_release(&m);
}

/* write, load, score again: the same bits (needs "mahalanobis" in the family table) */
static void
test_roundtrip(void)
{
	enum { N = 300, D = 5 };
	static double x[N * D];
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	char path[64];

	if (aiops_family_find("mahalanobis") == NULL) {
		skip("mahalanobis is not in the family table (lib/family.c)");
		return;
	}
	aiops_rng_seed(&rng, 3);
	for (size_t i = 0; i < N * D; i++)
		x[i] = aiops_rng_normal(&rng) + (i % D == 2 ? x[i - 1] : 0);
	snprintf(path, sizeof(path), "%s/mahal.model", tmpdir);
	ok(fit(&m, 0.01, x, N, D, &e) == AIOPS_OK, "fit reg=0.01 for the round trip");
	roundtrip(&m, x, N, path);
}

int
main(void)
{
	aiops_alloc_init();
	if (!ok(mkdtemp(tmpdir) != NULL, "scratch directory"))
		return done_testing();
	test_diagonal();
	test_correlated();
	test_errors();
	test_sklearn();
	test_roundtrip();
	rmdir(tmpdir);
	return done_testing();
}
