/*
 * test-fam-pca.c - the pca family against closed forms (data lying in a
 * known plane) and against scikit-learn's PCA on the same numbers.
 *
 * Convention: the family's eigenvalues divide by n - 1, exactly like
 * sklearn's PCA.explained_variance_, so T^2 = sum_c t_c^2 / explained_variance_c
 * needs no rescaling. The sklearn checks are skipped when /usr/bin/python3
 * cannot import sklearn.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"
#include "famtest.h"

extern const struct aiops_family aiops_fam_pca;

#define MAXD 16

static char tmpdir[] = "/tmp/test-fam-pca.XXXXXX";

/* A TAP skip: tap.h has no skip(), and a "#" in an ok() name is escaped. */
/* Init and fit a pca model over d columns; k or t2 < 0 leaves the parameter out. */
static int
fit(struct aiops_model *m, double k, double t2, const double *x, size_t n, size_t d,
    struct aiops_error *e)
{
	struct aiops_params p = { 0 };
	char buf[MAXD][8], *names[MAXD];
	int r;

	for (size_t j = 0; j < d; j++) {
		snprintf(buf[j], sizeof(buf[j]), "c%zu", j + 1);
		names[j] = buf[j];
	}
	if (k >= 0 || isnan(k))
		aiops_param_set(&p, "k", k);
	if (t2 >= 0)
		aiops_param_set(&p, "t2", t2);
	if (aiops_model_init(m, &aiops_fam_pca, &p, names, d) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if ((r = aiops_model_fit(m, x, n, e)) != AIOPS_OK)
		aiops_model_release(m);
	return r;
}

static double
dot(const double *a, const double *b, size_t d)
{
	double s = 0;

	for (size_t j = 0; j < d; j++)
		s += a[j] * b[j];
	return s;
}

/* Make v orthogonal to the first nb rows of basis (each unit length) and unit length. */
static void
orthonormalise(double *v, const double *basis, size_t nb, size_t d)
{
	double s;

	for (int pass = 0; pass < 2; pass++)
		for (size_t b = 0; b < nb; b++) {
			s = dot(v, basis + b * d, d);
			for (size_t j = 0; j < d; j++)
				v[j] -= s * basis[b * d + j];
		}
	s = sqrt(dot(v, v, d));
	for (size_t j = 0; j < d; j++)
		v[j] /= s;
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

/* Data exactly in the plane mu0 + span(u1, u2) of R^6: closed forms for SPE, T^2, eigenvalues. */
static void
test_plane(void)
{
	enum { N = 600, D = 6 };
	static double x[N * D], a[N][2], out[N], one[1], cb[N * D];
	double u[3 * D], mu0[D] = { 10, -5, 3, 0, 1, 2 }, y[D], c[D];
	double am[2] = { 0, 0 }, s11 = 0, s12 = 0, s22 = 0, tr, det, l1, l2, dl[2], t2;
	struct aiops_rng rng;
	struct aiops_model m, m2;
	struct aiops_error e;
	const struct aiops_array *pc, *ev;
	double worst = 0, h = 2.5;

	aiops_rng_seed(&rng, 42);
	for (size_t b = 0; b < 3; b++) {
		for (size_t j = 0; j < D; j++)
			u[b * D + j] = aiops_rng_normal(&rng);
		orthonormalise(u + b * D, u, b, D);
	}
	for (size_t i = 0; i < N; i++) {
		a[i][0] = 3 * aiops_rng_normal(&rng);
		a[i][1] = aiops_rng_normal(&rng) + 0.3 * a[i][0];
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = mu0[j] + a[i][0] * u[j] + a[i][1] * u[D + j];
		am[0] += a[i][0];
		am[1] += a[i][1];
	}
	am[0] /= N;
	am[1] /= N;
	for (size_t i = 0; i < N; i++) {
		s11 += (a[i][0] - am[0]) * (a[i][0] - am[0]);
		s12 += (a[i][0] - am[0]) * (a[i][1] - am[1]);
		s22 += (a[i][1] - am[1]) * (a[i][1] - am[1]);
	}
	s11 /= N - 1;
	s12 /= N - 1;
	s22 /= N - 1;

	ok(fit(&m, 2, 0, x, N, D, &e) == AIOPS_OK, "fit k=2 on plane data");
	pc = aiops_model_get(&m, "components");
	ev = aiops_model_get(&m, "eigenvalues");
	ok(pc && pc->rows == 2 && pc->cols == D && ev && ev->rows == 1 && ev->cols == 2 &&
	    aiops_model_get(&m, "mean") != NULL, "mean, components 2x6, eigenvalues 1x2 stored");

	/* the eigenvalues of the 2x2 sample covariance of the plane coordinates */
	tr = s11 + s22;
	det = s11 * s22 - s12 * s12;
	l1 = tr / 2 + sqrt(tr * tr / 4 - det);
	l2 = det / l1;
	is_double(ev->v[0], l1, 1e-10 * l1, "largest eigenvalue = 2x2 closed form (n-1)");
	is_double(ev->v[1], l2, 1e-10 * l1, "second eigenvalue = 2x2 closed form (n-1)");
	for (size_t k = 0; k < 2; k++) {
		const double *p = pc->v + k * D;
		double r[D], big = 0;
		size_t at = 0;
		for (size_t j = 0; j < D; j++) {
			r[j] = p[j] - dot(p, u, D) * u[j] - dot(p, u + D, D) * u[D + j];
			if (fabs(p[j]) > big)
				big = fabs(p[j]), at = j;
		}
		is_double(sqrt(dot(r, r, D)), 0, 1e-12, "component %zu lies in the plane", k + 1);
		is_double(dot(p, p, D), 1, 1e-12, "component %zu has unit length", k + 1);
		ok(p[at] > 0, "component %zu: largest-magnitude entry is positive", k + 1);
	}
	is_double(dot(pc->v, pc->v + D, D), 0, 1e-12, "components are orthogonal");

	aiops_model_score(&m, x, N, out, NULL, &e);
	for (size_t i = 0; i < N; i++)
		worst = fmax(worst, out[i]);
	is_double(worst, 0, 1e-20, "SPE of every training row (in the plane) is 0");

	/* one row against the whole block: the block boundaries at 256 and 512 */
	worst = 0;
	for (size_t i = 0; i < N; i++) {
		x[i * D] += (double)(i % 7);
	}
	aiops_model_score(&m, x, N, out, cb, &e);
	for (size_t i = 0; i < N; i++) {
		aiops_model_score(&m, x + i * D, 1, one, NULL, &e);
		worst = fmax(worst, fabs(one[0] - out[i]) / fmax(out[i], 1));
	}
	is_double(worst, 0, 1e-12, "scoring 600 rows at once = scoring each alone");
	for (size_t i = 0; i < N; i++)
		x[i * D] -= (double)(i % 7);

	/* a point at distance h off the plane along u3: SPE = h^2, contrib_j = h^2 u3_j^2 */
	for (size_t j = 0; j < D; j++)
		y[j] = mu0[j] + 1.5 * u[j] - 0.5 * u[D + j] + h * u[2 * D + j];
	aiops_model_score(&m, y, 1, out, c, &e);
	is_double(out[0], h * h, 1e-10, "SPE of a point %g off the plane is %g", h, h * h);
	worst = 0;
	for (size_t j = 0; j < D; j++)
		worst = fmax(worst, fabs(c[j] - h * h * u[2 * D + j] * u[2 * D + j]));
	is_double(worst, 0, 1e-10, "SPE contributions are the squared residual h^2 u3_j^2");
	aiops_model_release(&m);

	/* T^2 of the same point: the in-plane offset d against the 2x2 covariance */
	ok(fit(&m, 2, 1, x, N, D, &e) == AIOPS_OK, "fit k=2 t2=1");
	aiops_model_score(&m, y, 1, out, c, &e);
	dl[0] = 1.5 - am[0];
	dl[1] = -0.5 - am[1];
	t2 = (s22 * dl[0] * dl[0] - 2 * s12 * dl[0] * dl[1] + s11 * dl[1] * dl[1]) / det;
	is_double(out[0], t2, 1e-10 * t2, "T^2 = d^T S^-1 d in plane coordinates (%.6g)", t2);
	is_double(c[0] + c[1] + c[2] + c[3] + c[4] + c[5], out[0], 1e-10 * t2,
	    "T^2 contributions sum to T^2");
	aiops_model_release(&m);

	/* k = d: nothing is left over */
	ok(fit(&m, D, 0, x, N, D, &e) == AIOPS_OK, "fit k=d=6");
	aiops_model_score(&m, y, 1, out, NULL, &e);
	is_double(out[0], 0, 1e-20, "SPE with k=d is 0");
	aiops_model_release(&m);
	ok(fit(&m, D, 1, x, N, D, &e) == AIOPS_OK, "fit k=6 t2=1 on rank-2 data");
	aiops_model_score(&m, y, 1, out, NULL, &e);
	ok(isfinite(out[0]) && out[0] > 1e6,
	    "T^2 with zero-variance components is large but finite (%g)", out[0]);
	aiops_model_release(&m);

	/* defaults: k=5, or d-1 with fewer columns; t2=0 */
	ok(fit(&m, -1, -1, x, N, D, &e) == AIOPS_OK, "fit with no parameters");
	is_int(aiops_model_get(&m, "components")->rows, 5, "default k is 5");
	fit(&m2, 5, 0, x, N, D, &e);
	aiops_model_score(&m, y, 1, out, NULL, &e);
	aiops_model_score(&m2, y, 1, one, NULL, &e);
	ok(memcmp(out, one, sizeof(one)) == 0, "the default score is that of k=5 t2=0");
	aiops_model_release(&m);
	aiops_model_release(&m2);
	{
		double x3[4 * 3] = { 1, 2, 3, 2, 2, 5, 0, 1, 1, 4, 7, 1 };
		ok(fit(&m, -1, -1, x3, 4, 3, &e) == AIOPS_OK, "fit 3 columns with no parameters");
		is_int(aiops_model_get(&m, "components")->rows, 2, "default k is d-1 when d <= 5");
		aiops_model_release(&m);
	}

	/* deterministic: two fits give the same bytes */
	fit(&m, 3, 0, x, N, D, &e);
	fit(&m2, 3, 0, x, N, D, &e);
	ok(memcmp(aiops_model_get(&m, "components")->v, aiops_model_get(&m2, "components")->v,
	    3 * D * sizeof(double)) == 0 &&
	    memcmp(aiops_model_get(&m, "eigenvalues")->v, aiops_model_get(&m2, "eigenvalues")->v,
	    3 * sizeof(double)) == 0, "two fits are bit for bit the same");
	aiops_model_release(&m);
	aiops_model_release(&m2);
}

static void
test_errors(void)
{
	double x[5 * 3] = { 1, 2, 3, 2, 2, 5, 0, 1, 1, 4, 7, 1, 3, 3, 3 }, out[5];
	struct aiops_model m;
	struct aiops_error e;

	is_int(fit(&m, 4, 0, x, 5, 3, &e), AIOPS_ERR_USAGE, "k=4 > d=3 is a usage error");
	ok(strstr(e.msg, "k=4") && strstr(e.msg, "d=3"), "message names k and d: %s", e.msg);
	is_int(fit(&m, 0, 0, x, 5, 3, &e), AIOPS_ERR_USAGE, "k=0 is a usage error");
	is_int(fit(&m, 1.5, 0, x, 5, 3, &e), AIOPS_ERR_USAGE, "k=1.5 is a usage error");
	ok(strstr(e.msg, "whole number") != NULL, "message says why: %s", e.msg);
	is_int(fit(&m, NAN, 0, x, 5, 3, &e), AIOPS_ERR_USAGE, "k=nan is a usage error");
	is_int(fit(&m, 1, 2, x, 5, 3, &e), AIOPS_ERR_USAGE, "t2=2 is a usage error");
	ok(strstr(e.msg, "t2=2") != NULL, "message names t2: %s", e.msg);
	is_int(fit(&m, 2, 0, x, 2, 3, &e), AIOPS_ERR_DATA, "k=2 on 2 rows: too few rows");
	ok(strstr(e.msg, "at least 3 rows") != NULL, "message: %s", e.msg);

	/* a model whose arrays do not fit the columns */
	ok(fit(&m, 2, 0, x, 5, 3, &e) == AIOPS_OK, "fit k=2 on 5 rows");
	aiops_model_put(&m, "eigenvalues", 1, 1, x);
	is_int(aiops_model_score(&m, x, 5, out, NULL, &e), AIOPS_ERR_FORMAT,
	    "eigenvalues of the wrong length are a format error");
	aiops_model_release(&m);
}

/* scikit-learn's PCA(svd_solver="full") on the same numbers: eigenvalues, SPE, T^2 */
static const char sk_script[] =
    "import sys, numpy as np\n"
    "from sklearn.decomposition import PCA\n"
    "tr = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "te = np.loadtxt(sys.argv[2], delimiter=',', ndmin=2)\n"
    "p = PCA(n_components=int(sys.argv[3]), svd_solver='full').fit(tr)\n"
    "r = te - p.inverse_transform(p.transform(te))\n"
    "t = p.transform(te)\n"
    "for v in p.explained_variance_: print(repr(float(v)))\n"
    "for a, b in zip((r * r).sum(1), (t * t / p.explained_variance_).sum(1)):\n"
    "    print(repr(float(a)), repr(float(b)))\n";

static void
test_sklearn(void)
{
	enum { N = 500, M = 60, D = 8, K = 3 };
	static double x[N * D], y[M * D], spe[M], t2[M], ref_spe[M], ref_t2[M], c[M * D];
	double A[D * D], mu[D], ref_ev[K], worst;
	char trp[64], tep[64], cmd[512];
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	const struct aiops_array *ev;
	FILE *f;
	int got = 0;

	if (system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
		skip("/usr/bin/python3 cannot import sklearn");
		return;
	}
	/* x = z A + mu: correlated columns with different scales; y adds outliers */
	aiops_rng_seed(&rng, 7);
	for (size_t j = 0; j < D * D; j++)
		A[j] = aiops_rng_normal(&rng) * (j % D < 3 ? 3 : 0.5);
	for (size_t j = 0; j < D; j++)
		mu[j] = 100 * aiops_rng_uniform(&rng);
	for (size_t i = 0; i < N + M; i++) {
		double z[D], *row = i < N ? x + i * D : y + (i - N) * D;
		for (size_t j = 0; j < D; j++)
			z[j] = aiops_rng_normal(&rng);
		for (size_t j = 0; j < D; j++) {
			row[j] = mu[j];
			for (size_t l = 0; l < D; l++)
				row[j] += z[l] * A[l * D + j];
		}
		if (i >= N && i % 10 == 0)
			row[i % D] += 8;
	}
	snprintf(trp, sizeof(trp), "%s/train.csv", tmpdir);
	snprintf(tep, sizeof(tep), "%s/test.csv", tmpdir);
	ok(write_csv(trp, x, N, D) == 0 && write_csv(tep, y, M, D) == 0, "wrote the CSVs");
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"$AIOPS_SK\" %s %s %d", trp, tep, K);
	setenv("AIOPS_SK", sk_script, 1);
	if ((f = popen(cmd, "r")) != NULL) {
		for (size_t c2 = 0; c2 < K; c2++)
			got += fscanf(f, "%lf", &ref_ev[c2]) == 1;
		for (size_t i = 0; i < M; i++)
			got += fscanf(f, "%lf %lf", &ref_spe[i], &ref_t2[i]) == 2;
		got = pclose(f) == 0 ? got : -1;
	}
	if (!is_int(got, K + M, "sklearn printed %d eigenvalues and %d rows", K, M))
		return;

	ok(fit(&m, K, 0, x, N, D, &e) == AIOPS_OK, "fit k=3 on 500 x 8 correlated rows");
	ev = aiops_model_get(&m, "eigenvalues");
	worst = 0;
	for (size_t c2 = 0; c2 < K; c2++)
		worst = fmax(worst, fabs(ev->v[c2] - ref_ev[c2]) / ref_ev[c2]);
	is_double(worst, 0, 1e-8, "eigenvalues = explained_variance_ (largest relative error %.2g)",
	    worst);
	aiops_model_score(&m, y, M, spe, c, &e);
	worst = 0;
	for (size_t i = 0; i < M; i++)
		worst = fmax(worst, fabs(spe[i] - ref_spe[i]) / ref_spe[i]);
	is_double(worst, 0, 1e-8,
	    "SPE = |x - inverse_transform(transform(x))|^2 (largest relative error %.2g)", worst);
	worst = 0;
	for (size_t i = 0; i < M; i++) {
		double s = 0;
		for (size_t j = 0; j < D; j++)
			s += c[i * D + j];
		worst = fmax(worst, fabs(s - spe[i]) / spe[i]);
	}
	is_double(worst, 0, 1e-12, "SPE contributions sum to SPE");
	aiops_model_release(&m);

	ok(fit(&m, K, 1, x, N, D, &e) == AIOPS_OK, "fit k=3 t2=1");
	aiops_model_score(&m, y, M, t2, NULL, &e);
	worst = 0;
	for (size_t i = 0; i < M; i++)
		worst = fmax(worst, fabs(t2[i] - ref_t2[i]) / ref_t2[i]);
	is_double(worst, 0, 1e-8,
	    "T^2 = sum t^2 / explained_variance_ (largest relative error %.2g)", worst);
	aiops_model_release(&m);
	unlink(trp);
	unlink(tep);
}

/* write, load, score again: the same bits (needs "pca" in the family table) */
static void
test_roundtrip(void)
{
	enum { N = 300, D = 5 };
	static double x[N * D];
	struct aiops_rng rng;
	struct aiops_model m;
	struct aiops_error e;
	char path[64];

	if (aiops_family_find("pca") == NULL) {
		skip("pca is not in the family table (lib/family.c)");
		return;
	}
	aiops_rng_seed(&rng, 3);
	for (size_t i = 0; i < N * D; i++)
		x[i] = aiops_rng_normal(&rng) + (i % D == 2 ? x[i - 1] : 0);
	snprintf(path, sizeof(path), "%s/pca.model", tmpdir);
	ok(fit(&m, 2, 1, x, N, D, &e) == AIOPS_OK, "fit k=2 t2=1 for the round trip");
	roundtrip(&m, x, N, path);
}

int
main(void)
{
	aiops_alloc_init();
	if (!ok(mkdtemp(tmpdir) != NULL, "scratch directory"))
		return done_testing();
	test_plane();
	test_errors();
	test_sklearn();
	test_roundtrip();
	rmdir(tmpdir);
	return done_testing();
}
