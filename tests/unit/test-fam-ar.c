/*
 * test-fam-ar.c - the arima forecaster: exact AR recursions (closed form),
 * statsmodels' AutoReg and hannan_rissanen on the same data (through
 * /usr/bin/python3, skipped when it lacks statsmodels), the score contract,
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

extern const struct aiops_family aiops_fam_arima;
extern const struct aiops_family aiops_fam_zscore;


static double
coef(const struct aiops_model *m, size_t r, size_t j)
{
	const struct aiops_array *a = aiops_model_get(m, "coef");

	return a->v[r * a->cols + j];
}

/* An exact AR(1), and an ARIMA(1,1,0) whose differences are an exact AR(1). */
static void
closed_forms(void)
{
	struct aiops_model m;
	struct aiops_error e;
	double y[80], z[80], pred[30], mx = 0;
	int r;

	y[0] = 10;
	for (int t = 1; t < 80; t++)
		y[t] = 0.5 + 0.8 * y[t - 1];
	r = fit_spec(&m, &aiops_fam_arima, "p=1", y, 60, 1, &e);
	ok(r == AIOPS_OK, "AR(1) fit: %s", r ? e.msg : "ok");
	is_double(coef(&m, 0, 0), 0.5, 1e-9, "exact AR(1): intercept 0.5");
	is_double(coef(&m, 1, 0), 0.8, 1e-10, "exact AR(1): phi 0.8");
	ok(aiops_model_get(&m, "tail")->rows == 1 && aiops_model_get(&m, "tail")->v[0] == y[59],
	    "tail is the last training row");
	aiops_forecast_arima(&m, y + 60, 20, 1, pred);
	for (int t = 0; t < 20; t++)
		mx = fmax(mx, fabs(pred[t] - y[60 + t]));
	ok(mx < 1e-12, "forecasts continue the recursion from the tail (max error %g)", mx);
	aiops_model_release(&m);

	/* w_t = 0.3 + 0.6 w_{t-1}, z = cumulative sum of w */
	{
		double w = 2;
		z[0] = 100;
		for (int t = 1; t < 80; t++) {
			w = 0.3 + 0.6 * w;
			z[t] = z[t - 1] + w;
		}
	}
	r = fit_spec(&m, &aiops_fam_arima, "p=1,d=1", z, 50, 1, &e);
	ok(r == AIOPS_OK, "ARIMA(1,1,0) fit: %s", r ? e.msg : "ok");
	is_double(coef(&m, 0, 0), 0.3, 1e-9, "exact ARIMA(1,1,0): intercept 0.3");
	is_double(coef(&m, 1, 0), 0.6, 1e-10, "exact ARIMA(1,1,0): phi 0.6");
	is_int(aiops_model_get(&m, "tail")->rows, 2, "tail keeps p + d rows");
	aiops_forecast_arima(&m, z + 50, 30, 1, pred);
	mx = 0;
	for (int t = 0; t < 30; t++)
		mx = fmax(mx, fabs(pred[t] - z[50 + t]));
	ok(mx < 1e-10, "forecasts undo the differencing (max error %g)", mx);
	aiops_model_release(&m);
}

/* An AR(2) with N(0,1) noise; two columns with different dynamics. */
static void
make_ar2(double *x, size_t n, uint64_t seed)
{
	struct aiops_rng g;

	aiops_rng_seed(&g, seed);
	x[0] = x[2] = 0;
	x[1] = x[3] = 1;
	for (size_t t = 2; t < n; t++) {
		x[t * 2] = 1.0 + 0.5 * x[(t - 1) * 2] - 0.3 * x[(t - 2) * 2] + aiops_rng_normal(&g);
		x[t * 2 + 1] = -2 + 0.9 * x[(t - 1) * 2 + 1] + 0.05 * x[(t - 2) * 2 + 1] +
		    0.5 * aiops_rng_normal(&g);
	}
}

static const char autoreg_py[] =
	"import sys, warnings\n"
	"warnings.simplefilter('ignore')\n"
	"import numpy as np\n"
	"from statsmodels.tsa.ar_model import AutoReg\n"
	"x = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
	"nt, p, d = (int(v) for v in sys.argv[2].split(':'))\n"
	"for j in range(x.shape[1]):\n"
	"    w = np.diff(x[:, j], d)\n"
	"    res = AutoReg(w[:nt - d], lags=p, trend='c').fit()\n"
	"    r = res.resid\n"
	"    out = list(res.params) + [1.4826 * np.median(np.abs(r - np.median(r)))]\n"
	"    pw = AutoReg(w, lags=p, trend='c').predict(res.params, start=nt - d, end=len(w) - 1)\n"
	"    base = x[nt - 1:-1, j] if d == 1 else 0\n"
	"    out += list(pw + base)\n"
	"    for v in out: print(repr(float(v)))\n";

/* ARIMA(2,0,0) and ARIMA(2,1,0) against AutoReg on the (differenced) series. */
static void
vs_autoreg(void)
{
	enum { N = 600, NT = 500, NF = N - NT };
	static double x[N * 2], ref[2 * (4 + NF)], pred[NF * 2];
	struct aiops_model m;
	struct aiops_error e;

	make_ar2(x, N, 42);
	for (int d = 0; d <= 1; d++) {
		char arg[64], spec[32];
		int got, r;

		if (d == 1)  /* integrate: the differences are the AR(2) */
			for (size_t t = 1; t < N; t++)
				for (int j = 0; j < 2; j++)
					x[t * 2 + j] += x[(t - 1) * 2 + j];
		snprintf(arg, sizeof(arg), "%d:2:%d", NT, d);
		got = pyref(autoreg_py, x, N, 2, arg, ref, 2 * (4 + NF));
		snprintf(spec, sizeof(spec), "p=2,d=%d", d);
		r = fit_spec(&m, &aiops_fam_arima, spec, x, NT, 2, &e);
		ok(r == AIOPS_OK, "ARIMA(2,%d,0) fit on two columns: %s", d, r ? e.msg : "ok");
		aiops_forecast_arima(&m, x + NT * 2, NF, 2, pred);
		if (!ok(got == 2 * (4 + NF), "statsmodels AutoReg ran (%d numbers)", got)) {
			aiops_model_release(&m);
			continue;
		}
		for (int j = 0; j < 2; j++) {
			const double *rj = ref + j * (4 + NF);
			double mx = 0;

			for (int k = 0; k < 3; k++)
				is_double(coef(&m, k, j), rj[k], 1e-8,
				    "d=%d column %d: %s = AutoReg's", d, j, k ? "phi" : "const");
			is_double(aiops_model_get(&m, "scale")->v[j], rj[3], 1e-8,
			    "d=%d column %d: scale = 1.4826 MAD of AutoReg's residuals", d, j);
			for (int t = 0; t < NF; t++)
				mx = fmax(mx, fabs(pred[t * 2 + j] - rj[4 + t]));
			ok(mx <= 1e-8, "d=%d column %d: %d forecasts after training = AutoReg.predict "
			    "(max difference %.3g)", d, j, NF, mx);
		}
		aiops_model_release(&m);
	}
}

static const char hr_py[] =
	"import sys, warnings\n"
	"warnings.simplefilter('ignore')\n"
	"import numpy as np\n"
	"from statsmodels.tsa.arima.estimators.hannan_rissanen import hannan_rissanen\n"
	"from statsmodels.tsa.arima.model import ARIMA\n"
	"x = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
	"w = x[:, 0]\n"
	"p, info = hannan_rissanen(w, ar_order=1, ma_order=1, demean=True, unbiased=False)\n"
	"out = [w.mean() * (1 - p.ar_params.sum())] + list(p.ar_params) + list(p.ma_params)\n"
	"out += [info['initial_ar_order']]\n"
	"mle = ARIMA(w, order=(1, 0, 1), trend='c').fit()\n"
	"out += [mle.params[1], mle.params[2]]\n"
	"w = np.diff(x[:, 1])\n"
	"p, info = hannan_rissanen(w, ar_order=2, ma_order=1, demean=True, unbiased=False)\n"
	"out += [w.mean() * (1 - p.ar_params.sum())] + list(p.ar_params) + list(p.ma_params)\n"
	"for v in out: print(repr(float(v)))\n";

/*
 * q > 0: Hannan-Rissanen equals statsmodels' hannan_rissanen(unbiased=False)
 * to rounding; the maximum-likelihood ARIMA is another estimator, so it is
 * compared loosely only, as are the true parameters.
 */
static void
vs_hannan_rissanen(void)
{
	enum { N = 3000 };
	static double x[N * 2], y1[N], ref[10];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng g;
	double e0 = 0, e1 = 0, w1 = 0, w2 = 0;
	int got, r;

	/* column 0: ARMA(1,1) y = 1 + 0.6 y_1 + e + 0.4 e_1; column 1 integrates an ARMA(2,1) */
	aiops_rng_seed(&g, 7);
	x[0] = 2.5;
	x[1] = 0;
	for (size_t t = 1; t < N; t++) {
		double a = aiops_rng_normal(&g), b = aiops_rng_normal(&g), w;

		x[t * 2] = 1 + 0.6 * x[(t - 1) * 2] + a + 0.4 * e0;
		e0 = a;
		w = 0.2 + 0.5 * w1 + 0.2 * w2 + b - 0.3 * e1;
		e1 = b;
		w2 = w1;
		w1 = w;
		x[t * 2 + 1] = x[(t - 1) * 2 + 1] + w;
	}
	got = pyref(hr_py, x, N, 2, NULL, ref, 10);

	for (size_t t = 0; t < N; t++)
		y1[t] = x[t * 2];
	r = fit_spec(&m, &aiops_fam_arima, "p=1,q=1", y1, N, 1, &e);
	ok(r == AIOPS_OK, "ARIMA(1,0,1) fit: %s", r ? e.msg : "ok");
	is_double(coef(&m, 1, 0), 0.6, 0.05, "ARIMA(1,0,1): phi near the true 0.6");
	is_double(coef(&m, 2, 0), 0.4, 0.05, "ARIMA(1,0,1): theta near the true 0.4");
	is_int(aiops_model_get(&m, "etail")->rows, 1, "etail keeps q innovations");
	if (ok(got == 10, "statsmodels hannan_rissanen and ARIMA ran (%d numbers)", got)) {
		is_double(coef(&m, 0, 0), ref[0], 1e-8, "ARIMA(1,0,1): c = mean (1 - phi) of HR");
		is_double(coef(&m, 1, 0), ref[1], 1e-8, "ARIMA(1,0,1): phi = hannan_rissanen's");
		is_double(coef(&m, 2, 0), ref[2], 1e-8, "ARIMA(1,0,1): theta = hannan_rissanen's");
		is_double(floor(log(N) * log(N)), ref[3], 0, "long AR order = statsmodels' default");
		is_double(coef(&m, 1, 0), ref[4], 0.05, "loosely: phi near the ARIMA MLE");
		is_double(coef(&m, 2, 0), ref[5], 0.05, "loosely: theta near the ARIMA MLE");
	}
	aiops_model_release(&m);

	for (size_t t = 0; t < N; t++)
		y1[t] = x[t * 2 + 1];
	r = fit_spec(&m, &aiops_fam_arima, "p=2,d=1,q=1", y1, N, 1, &e);
	ok(r == AIOPS_OK, "ARIMA(2,1,1) fit: %s", r ? e.msg : "ok");
	if (got == 10) {
		is_double(coef(&m, 0, 0), ref[6], 1e-8, "ARIMA(2,1,1): c = HR on the differences");
		is_double(coef(&m, 1, 0), ref[7], 1e-8, "ARIMA(2,1,1): phi_1 = HR's");
		is_double(coef(&m, 2, 0), ref[8], 1e-8, "ARIMA(2,1,1): phi_2 = HR's");
		is_double(coef(&m, 3, 0), ref[9], 1e-8, "ARIMA(2,1,1): theta_1 = HR's");
	}
	aiops_model_release(&m);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* 1.4826 MAD by sorting: the reference for the library's selection. */
static double
mad_by_sorting(double *r, size_t n)
{
	double med;

	qsort(r, n, sizeof(double), cmp_double);
	med = n % 2 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]);
	for (size_t i = 0; i < n; i++)
		r[i] = fabs(r[i] - med);
	qsort(r, n, sizeof(double), cmp_double);
	return 1.4826 * (n % 2 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]));
}

/*
 * Long series take the sampled selection path for the median (8192 values
 * or more): the scale must still be exactly 1.4826 MAD of the residuals
 * recomputed from the coefficients, for odd and even counts, with heavy
 * ties, and with a period in the data.
 */
static void
long_scale(void)
{
	enum { N = 30001 };
	static double y[N], r[N];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng g;

	aiops_rng_seed(&g, 99);
	for (int kind = 0; kind < 4; kind++) {
		size_t n = kind == 1 ? N - 1 : N, nr;
		const char *spec = kind == 2 ? "p=0,d=1" : "p=1";
		double c, phi;

		y[0] = 0;
		for (size_t t = 1; t < n; t++) {
			if (kind == 2)        /* integer steps: three residual values */
				y[t] = y[t - 1] + (double)aiops_rng_below(&g, 3) - 1;
			else if (kind == 3)   /* a period of 64 with little noise */
				y[t] = sin(2 * M_PI * (double)(t % 64) / 64) + 1e-3 * aiops_rng_normal(&g);
			else
				y[t] = 0.7 * y[t - 1] + aiops_rng_normal(&g);
		}
		if (fit_spec(&m, &aiops_fam_arima, spec, y, n, 1, &e) != AIOPS_OK) {
			ok(0, "fit %s on %zu rows: %s", spec, n, e.msg);
			continue;
		}
		c = coef(&m, 0, 0);
		if (kind == 2) {
			nr = n - 1;
			for (size_t t = 1; t < n; t++)
				r[t - 1] = y[t] - y[t - 1] - c;
		} else {
			phi = coef(&m, 1, 0);
			nr = n - 1;
			for (size_t t = 1; t < n; t++)
				r[t - 1] = y[t] - (c + phi * y[t - 1]);
		}
		is_double(aiops_model_get(&m, "scale")->v[0], mad_by_sorting(r, nr), 1e-12,
		    "%s, %zu residuals%s: scale = 1.4826 MAD by sorting", spec, nr,
		    kind == 2 ? " in three values" : kind == 3 ? ", period 64" : "");
		aiops_model_release(&m);
	}
}

/* score() is the RMS of residual/scale; contrib sums to its square; NaN rows. */
static void
score_contract(void)
{
	enum { N = 300, NS = 40 };
	static double x[N * 2], pred[NS * 2], out[NS], con[NS * 2];
	struct aiops_model m;
	struct aiops_error e;
	int r;

	make_ar2(x, N, 3);
	r = fit_spec(&m, &aiops_fam_arima, "", x, N - NS, 2, &e);
	ok(r == AIOPS_OK, "default ARIMA(2,0,0) fit: %s", r ? e.msg : "ok");
	is_int(aiops_model_get(&m, "coef")->rows, 3, "default p=2, q=0: three coefficients");
	aiops_forecast_arima(&m, x + (N - NS) * 2, NS, 2, pred);
	check_score_contract(&m, x + (N - NS) * 2, pred, NS, 2, out, con);

	/* a missing value: NaN score, and its forecast stands in for it */
	{
		double y[4 * 2], p2[4 * 2], o2[4];

		memcpy(y, x + (N - NS) * 2, sizeof(y));
		y[1 * 2 + 0] = NAN;
		aiops_forecast_arima(&m, y, 4, 2, p2);
		aiops_model_score(&m, y, 4, o2, NULL, &e);
		ok(isnan(o2[1]) && !isnan(o2[2]), "a NaN row scores NaN, the next one does not");
		is_double(p2[2 * 2], coef(&m, 0, 0) + coef(&m, 1, 0) * p2[1 * 2] +
		    coef(&m, 2, 0) * y[0], 1e-12, "the row after a NaN is forecast from its forecast");
		is_double(p2[2 * 2 + 1], pred[2 * 2 + 1], 0, "other columns are unaffected");
	}
	aiops_model_release(&m);
}

static void
edges(void)
{
	static double x[200];
	struct aiops_model m;
	struct aiops_error e;
	double pred[5], out[5];
	int r;

	for (int i = 0; i < 200; i++)
		x[i] = 7;
	r = fit_spec(&m, &aiops_fam_arima, "p=2,q=1", x, 200, 1, &e);
	ok(r == AIOPS_OK, "a constant column fits (minimum-norm fallback): %s", r ? e.msg : "ok");
	aiops_forecast_arima(&m, x, 5, 1, pred);
	is_double(pred[4], 7, 1e-9, "a constant column forecasts its value");
	aiops_model_score(&m, x, 5, out, NULL, &e);
	ok(out[4] < 1e-2, "and scores about 0 (%g): the scale floor is relative", out[4]);
	aiops_model_release(&m);

	r = fit_spec(&m, &aiops_fam_arima, "p=1.5", x, 200, 1, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "p=1.5"), "p=1.5 is a usage error: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_arima, "d=-1", x, 200, 1, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "d=-1"), "d=-1 is a usage error: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_arima, "p=2", x, 5, 1, &e);
	ok(r == AIOPS_ERR_DATA && strstr(e.msg, "at least 6 rows"), "5 rows for p=2: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_arima, "p=1,d=1,q=1", x, 6, 1, &e);
	ok(r == AIOPS_ERR_DATA, "too few rows for q=1: %s", e.msg);
	aiops_model_release(&m);

	r = fit_spec(&m, &aiops_fam_zscore, "", x, 200, 1, &e);
	is_int(aiops_forecast_arima(&m, x, 5, 1, pred), AIOPS_ERR_FORMAT,
	    "aiops_forecast_arima refuses a zscore model");
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_arima, "p=1", x, 200, 1, &e);
	is_int(aiops_forecast_arima(&m, x, 5, 2, pred), AIOPS_ERR_FORMAT,
	    "and a column count that is not the model's");
	aiops_model_release(&m);
}

int
main(void)
{
	aiops_alloc_init();
	closed_forms();
	if (python_has("numpy, statsmodels")) {
		vs_autoreg();
		vs_hannan_rissanen();
	} else {
		skip(PY " cannot import statsmodels: AutoReg and hannan_rissanen references");
	}
	long_scale();
	score_contract();
	edges();
	return done_testing();
}
