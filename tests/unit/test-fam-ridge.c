/*
 * test-fam-ridge.c - the ridge forecaster: an exactly linear system
 * recovered with lambda = 0 (closed form), scikit-learn's Ridge on the same
 * lagged design (through /usr/bin/python3, skipped when it lacks sklearn),
 * forecasts against a plain loop over many batches, the score contract,
 * missing values and bad parameters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"
#include "forecast.h"
#include "tap.h"
#include "famtest.h"

extern const struct aiops_family aiops_fam_ridge;
extern const struct aiops_family aiops_fam_zscore;


static double
coef(const struct aiops_model *m, size_t r, size_t j)
{
	const struct aiops_array *a = aiops_model_get(m, "coef");

	return a->v[r * a->cols + j];
}

/*
 * Column 0 is noise; column 1 = 0.7 + 0.5 c1[t-1] - 0.2 c1[t-3]
 * + 0.3 c0[t-1] + 0.1 c0[t-2] exactly. With p = 3 and d = 2 the feature of
 * lag L, column i is row (3 - L) 2 + i of coef.
 */
static void
closed_form(void)
{
	enum { N = 200, NT = 150 };
	static const double want[6] = { 0, -0.2, 0.1, 0, 0.3, 0.5 };
	static double x[N * 2], pred[(N - NT) * 2];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng g;
	double mx = 0;
	int r;

	aiops_rng_seed(&g, 1);
	for (int t = 0; t < N; t++) {
		x[t * 2] = aiops_rng_normal(&g);
		x[t * 2 + 1] = t < 3 ? t : 0.7 + 0.5 * x[(t - 1) * 2 + 1] - 0.2 * x[(t - 3) * 2 + 1] +
		    0.3 * x[(t - 1) * 2] + 0.1 * x[(t - 2) * 2];
	}
	r = fit_spec(&m, &aiops_fam_ridge, "p=3,lambda=0", x, NT, 2, &e);
	ok(r == AIOPS_OK, "lambda=0 fit: %s", r ? e.msg : "ok");
	for (int f = 0; f < 6; f++)
		is_double(coef(&m, f, 1), want[f], 1e-10, "exact system: coefficient of lag %d, "
		    "column %d", 3 - f / 2, f % 2);
	is_double(aiops_model_get(&m, "intercept")->v[1], 0.7, 1e-10, "exact system: intercept");
	ok(aiops_model_get(&m, "tail")->rows == 3 &&
	    memcmp(aiops_model_get(&m, "tail")->v, x + (NT - 3) * 2, 6 * sizeof(double)) == 0,
	    "tail is the last 3 training rows");
	aiops_forecast_ridge(&m, x + NT * 2, N - NT, 2, pred);
	for (int t = 0; t < N - NT; t++)
		mx = fmax(mx, fabs(pred[t * 2 + 1] - x[(NT + t) * 2 + 1]));
	ok(mx < 1e-10, "rows after training forecast exactly (max error %g)", mx);
	aiops_model_release(&m);
}

/* a VAR(1) of three columns with noise */
static void
make_var(double *x, size_t n, uint64_t seed)
{
	static const double A[3][3] = { { 0.5, 0.2, 0 }, { -0.1, 0.6, 0.1 }, { 0, 0.3, 0.4 } };
	struct aiops_rng g;

	aiops_rng_seed(&g, seed);
	x[0] = x[1] = x[2] = 1;
	for (size_t t = 1; t < n; t++)
		for (int i = 0; i < 3; i++) {
			double v = (i + 1) * 2.0 + aiops_rng_normal(&g);
			for (int k = 0; k < 3; k++)
				v += A[i][k] * x[(t - 1) * 3 + k];
			x[t * 3 + i] = v;
		}
}

static const char ridge_py[] =
	"import sys, warnings\n"
	"warnings.simplefilter('ignore')\n"
	"import numpy as np\n"
	"from sklearn.linear_model import Ridge\n"
	"x = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
	"nt, p, lam = sys.argv[2].split(':')\n"
	"nt, p, lam = int(nt), int(p), float(lam)\n"
	"win = lambda a, b: np.array([x[t - p:t].ravel() for t in range(a, b)])\n"
	"X, Y = win(p, nt), x[p:nt]\n"
	"r = Ridge(alpha=lam).fit(X, Y)\n"
	"res = Y - r.predict(X)\n"
	"sc = [1.4826 * np.median(np.abs(c - np.median(c))) for c in res.T]\n"
	"out = list(r.coef_.ravel()) + list(r.intercept_) + sc\n"
	"out += list(r.predict(win(nt, len(x))).ravel())\n"
	"for v in out: print(repr(float(v)))\n";

static void
vs_sklearn(void)
{
	enum { N = 300, NT = 250, P = 2, D = 3, K = P * D, NF = N - NT };
	static double x[N * D], ref[D * K + 2 * D + NF * D], pred[NF * D];
	struct aiops_model m;
	struct aiops_error e;
	char arg[64];
	double mx = 0;
	int got, r;

	make_var(x, N, 21);
	snprintf(arg, sizeof(arg), "%d:%d:2.5", NT, P);
	got = pyref(ridge_py, x, N, D, arg, ref, D * K + 2 * D + NF * D);
	r = fit_spec(&m, &aiops_fam_ridge, "p=2,lambda=2.5", x, NT, D, &e);
	ok(r == AIOPS_OK, "fit p=2 lambda=2.5 on three columns: %s", r ? e.msg : "ok");
	if (!ok(got == D * K + 2 * D + NF * D, "scikit-learn Ridge ran (%d numbers)", got)) {
		aiops_model_release(&m);
		return;
	}
	for (int j = 0; j < D; j++) {
		double mc = 0;

		for (int f = 0; f < K; f++)
			mc = fmax(mc, fabs(coef(&m, f, j) - ref[j * K + f]));
		ok(mc <= 1e-8, "column %d: coefficients = Ridge.coef_ (max difference %.3g)", j, mc);
		is_double(aiops_model_get(&m, "intercept")->v[j], ref[D * K + j], 1e-8,
		    "column %d: intercept = Ridge.intercept_", j);
		is_double(aiops_model_get(&m, "scale")->v[j], ref[D * K + D + j], 1e-8,
		    "column %d: scale = 1.4826 MAD of the in-sample residuals", j);
	}
	aiops_forecast_ridge(&m, x + NT * D, NF, D, pred);
	for (int i = 0; i < NF * D; i++)
		mx = fmax(mx, fabs(pred[i] - ref[D * K + 2 * D + i]));
	ok(mx <= 1e-8, "%d forecasts after training = Ridge.predict (max difference %.3g)", NF, mx);
	aiops_model_release(&m);
}

/*
 * Forecasts over several batches (with and without a NaN) against a plain
 * loop; score() is the RMS of residual/scale; contrib sums to its square.
 */
static void
score_contract(void)
{
	enum { N = 1600, NT = 300, NS = N - NT, P = 3, D = 3 };
	static double x[N * D], y[NS * D], pred[NS * D], p2[NS * D], out[NS], con[NS * D];
	struct aiops_model m;
	struct aiops_error e;
	const double *B, *ic;
	double mn = 0;
	int r, same = 1;

	make_var(x, N, 9);
	r = fit_spec(&m, &aiops_fam_ridge, "", x, NT, D, &e);
	ok(r == AIOPS_OK, "defaults (p=3, lambda=1) fit: %s", r ? e.msg : "ok");
	is_int(aiops_model_get(&m, "coef")->rows, P * D, "default p=3: 9 features");
	B = aiops_model_get(&m, "coef")->v;
	ic = aiops_model_get(&m, "intercept")->v;
	aiops_forecast_ridge(&m, x + NT * D, NS, D, pred);
	for (int t = NT; t < N; t++)
		for (int j = 0; j < D; j++) {
			double f = ic[j];
			for (int k = 0; k < P * D; k++)
				f += x[(t - P) * D + k] * B[k * D + j];
			mn = fmax(mn, fabs(f - pred[(t - NT) * D + j]));
		}
	ok(mn < 1e-10, "%d forecasts (batches of 512) = a plain loop (max difference %g)", NS, mn);
	check_score_contract(&m, x + NT * D, pred, NS, D, out, con);

	/* NaNs in two batches, one on a batch's last row */
	memcpy(y, x + NT * D, sizeof(y));
	y[100 * D + 1] = NAN;
	y[1023 * D + 2] = NAN;
	aiops_forecast_ridge(&m, y, NS, D, pred);
	aiops_model_score(&m, y, NS, out, NULL, &e);
	ok(isnan(out[100]) && isnan(out[1023]) && !isnan(out[101]) && !isnan(out[1024]),
	    "NaN rows score NaN, the next ones do not");
	y[100 * D + 1] = pred[100 * D + 1];
	y[1023 * D + 2] = pred[1023 * D + 2];
	aiops_forecast_ridge(&m, y, NS, D, p2);
	for (int i = 0; i < NS * D; i++)
		same &= fabs(pred[i] - p2[i]) <= 1e-12 * (1 + fabs(pred[i]));
	ok(same, "forecasts after a NaN = those with the NaN replaced by its forecast");
	aiops_model_release(&m);
}

static void
edges(void)
{
	static double x[100 * 2];
	struct aiops_model m;
	struct aiops_error e;
	double pred[4 * 2];
	int r;

	for (int i = 0; i < 100; i++) {
		x[i * 2] = 4;
		x[i * 2 + 1] = sin(i);
	}
	r = fit_spec(&m, &aiops_fam_ridge, "lambda=0", x, 100, 2, &e);
	ok(r == AIOPS_ERR_DATA && strstr(e.msg, "singular"), "lambda=0, a constant column: %s",
	    e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_ridge, "lambda=0.5", x, 96, 2, &e);
	ok(r == AIOPS_OK, "lambda=0.5, a constant column: %s", r ? e.msg : "ok");
	aiops_forecast_ridge(&m, x + 96 * 2, 4, 2, pred);
	is_double(pred[3 * 2], 4, 1e-12, "the constant column is forecast as itself");
	is_int(aiops_forecast_ridge(&m, x, 4, 1, pred), AIOPS_ERR_FORMAT,
	    "a column count that is not the model's is refused");
	aiops_model_release(&m);

	r = fit_spec(&m, &aiops_fam_ridge, "p=0", x, 100, 2, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "p=0"), "p=0: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_ridge, "p=2.5", x, 100, 2, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "p=2.5"), "p=2.5: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_ridge, "lambda=-1", x, 100, 2, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "lambda=-1"), "lambda=-1: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_ridge, "p=3,lambda=0", x, 9, 2, &e);
	ok(r == AIOPS_ERR_DATA && strstr(e.msg, "at least 10 rows"), "lambda=0 needs p + pd + 1: %s",
	    e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_ridge, "p=3", x, 4, 2, &e);
	ok(r == AIOPS_ERR_DATA && strstr(e.msg, "at least 5 rows"), "lambda>0 needs p + 2: %s",
	    e.msg);
	aiops_model_release(&m);
	fit_spec(&m, &aiops_fam_zscore, "", x, 100, 2, &e);
	is_int(aiops_forecast_ridge(&m, x, 4, 2, pred), AIOPS_ERR_FORMAT,
	    "aiops_forecast_ridge refuses a zscore model");
	aiops_model_release(&m);
}

int
main(void)
{
	aiops_alloc_init();
	closed_form();
	if (python_has("numpy, sklearn"))
		vs_sklearn();
	else
		skip(PY " cannot import sklearn: Ridge reference");
	score_contract();
	edges();
	return done_testing();
}
