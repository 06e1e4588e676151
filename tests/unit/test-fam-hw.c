/*
 * test-fam-hw.c - the holtwinters forecaster: a pure trend + season series
 * forecast exactly (closed form), statsmodels' ExponentialSmoothing with
 * the same known initial state and fixed weights (through /usr/bin/python3,
 * skipped when it lacks statsmodels), the score contract, missing values
 * and bad parameters.
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

extern const struct aiops_family aiops_fam_holtwinters;
extern const struct aiops_family aiops_fam_zscore;


/*
 * x_t = 5 + 0.2 t + S[t mod 4]: the simple initial trend is exact, and with
 * alpha = beta = 0, gamma = 1 the level grows by the trend and each seasonal
 * term becomes y_t - l_t, so from row m on every forecast
 * l_{t-1} + b + s_{t-m} = y_{t-m} + m b = y_t exactly.
 */
static void
closed_form(void)
{
	static const double S[4] = { 1, -2, 0.5, 0.5 };
	double x[40], pred[32], mx = 0;
	struct aiops_model m;
	struct aiops_error e;
	int r;

	for (int t = 0; t < 40; t++)
		x[t] = 5 + 0.2 * t + S[t % 4];
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=4,alpha=0,beta=0,gamma=1", x, 12, 1, &e);
	ok(r == AIOPS_OK, "fit: %s", r ? e.msg : "ok");
	is_double(aiops_model_get(&m, "trend")->v[0], 0.2, 1e-12,
	    "trend = (mean of period 2 - mean of period 1) / m = 0.2");
	is_double(aiops_model_get(&m, "level")->v[0], 5.3 + 12 * 0.2, 1e-12,
	    "level = mean of period 1 (5.3) + 12 trends when alpha = beta = 0");
	is_int(aiops_model_get(&m, "season")->rows, 4, "season has period rows");
	aiops_forecast_holtwinters(&m, x + 12, 28, 1, pred);
	for (int t = 0; t < 28; t++)
		mx = fmax(mx, fabs(pred[t] - x[12 + t]));
	ok(mx < 1e-12, "rows after training forecast exactly (max error %g)", mx);
	aiops_model_release(&m);

	/* the same from the minimum two periods: row 8 on is exact in-sample too */
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=4,alpha=0,beta=0,gamma=1", x, 8, 1, &e);
	ok(r == AIOPS_OK, "fit on exactly two periods: %s", r ? e.msg : "ok");
	aiops_forecast_holtwinters(&m, x + 8, 32, 1, pred);
	mx = 0;
	for (int t = 0; t < 32; t++)
		mx = fmax(mx, fabs(pred[t] - x[8 + t]));
	ok(mx < 1e-12, "exact from the third period on (max error %g)", mx);
	aiops_model_release(&m);
}

static const char es_py[] =
	"import sys, warnings\n"
	"warnings.simplefilter('ignore')\n"
	"import numpy as np\n"
	"from statsmodels.tsa.holtwinters import ExponentialSmoothing\n"
	"x = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
	"m, nt, a, b, g = sys.argv[2].split(':')\n"
	"m, nt, a, b, g = int(m), int(nt), float(a), float(b), float(g)\n"
	"def es(y):\n"
	"    l0 = y[:m].mean()\n"
	"    b0 = (y[m:2 * m].mean() - y[:m].mean()) / m\n"
	"    mod = ExponentialSmoothing(y, trend='add', seasonal='add', seasonal_periods=m,\n"
	"        initialization_method='known', initial_level=l0, initial_trend=b0,\n"
	"        initial_seasonal=y[:m] - l0)\n"
	"    return mod.fit(smoothing_level=a, smoothing_trend=b, smoothing_seasonal=g,\n"
	"        optimized=False)\n"
	"for j in range(x.shape[1]):\n"
	"    out = list(es(x[:, j]).fittedvalues)\n"
	"    r = es(x[:nt, j]).resid[m:]\n"
	"    out.append(1.4826 * np.median(np.abs(r - np.median(r))))\n"
	"    for v in out: print(repr(float(v)))\n";

/* Our one-step forecasts are statsmodels' fittedvalues, fitting on 2 periods or on 10. */
static void
vs_statsmodels(void)
{
	enum { M = 7, N = 140, NT = 70 };
	static double x[N * 2], ref[2 * (N + 1)], pred[N * 2];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng g;
	char arg[64];
	int got, r;

	aiops_rng_seed(&g, 11);
	for (int t = 0; t < N; t++) {
		static const double S[M] = { 4, 1, -1, -3, -2, 0, 1 };
		x[t * 2] = 10 + 0.05 * t + 3 * sin(2 * M_PI * t / M) + 0.5 * aiops_rng_normal(&g);
		x[t * 2 + 1] = 100 - 0.1 * t + S[t % M] + aiops_rng_normal(&g);
	}
	snprintf(arg, sizeof(arg), "%d:%d:0.3:0.05:0.2", M, NT);
	got = pyref(es_py, x, N, 2, arg, ref, 2 * (N + 1));
	if (!ok(got == 2 * (N + 1), "statsmodels ExponentialSmoothing ran (%d numbers)", got))
		return;
	for (int fitrows = 2 * M; fitrows <= NT; fitrows += NT - 2 * M) {
		r = fit_spec(&m, &aiops_fam_holtwinters, "period=7,alpha=0.3,beta=0.05,gamma=0.2", x,
		    (size_t)fitrows, 2, &e);
		ok(r == AIOPS_OK, "fit on %d rows: %s", fitrows, r ? e.msg : "ok");
		aiops_forecast_holtwinters(&m, x + fitrows * 2, N - fitrows, 2, pred);
		for (int j = 0; j < 2; j++) {
			double mx = 0;

			for (int t = fitrows; t < N; t++)
				mx = fmax(mx, fabs(pred[(t - fitrows) * 2 + j] - ref[j * (N + 1) + t]));
			ok(mx <= 1e-8, "fit on %d rows, column %d: forecasts of rows %d..%d = "
			    "fittedvalues (max difference %.3g)", fitrows, j, fitrows, N - 1, mx);
			if (fitrows == NT)
				is_double(aiops_model_get(&m, "scale")->v[j], ref[j * (N + 1) + N], 1e-8,
				    "column %d: scale = 1.4826 MAD of resid[m:]", j);
		}
		aiops_model_release(&m);
	}
}

/* score() is the RMS of residual/scale; contrib sums to its square; NaN rows. */
static void
score_contract(void)
{
	enum { N = 96, NS = 24 };
	static double x[N * 2], y[NS * 2], pred[NS * 2], p2[NS * 2], out[NS], con[NS * 2];
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_rng g;
	int r, same = 1;

	aiops_rng_seed(&g, 5);
	for (int t = 0; t < N; t++) {
		x[t * 2] = 50 + 10 * cos(2 * M_PI * t / 24) + aiops_rng_normal(&g);
		x[t * 2 + 1] = (t % 24 < 8 ? 3 : 1) + 0.1 * aiops_rng_normal(&g);
	}
	r = fit_spec(&m, &aiops_fam_holtwinters, "", x, N - NS, 2, &e);
	ok(r == AIOPS_OK, "defaults (period 24, 0.5, 0.1, 0.1) fit: %s", r ? e.msg : "ok");
	is_int(aiops_model_get(&m, "season")->rows, 24, "default period 24");
	aiops_forecast_holtwinters(&m, x + (N - NS) * 2, NS, 2, pred);
	check_score_contract(&m, x + (N - NS) * 2, pred, NS, 2, out, con);

	/* a NaN scores NaN; the rows after it are forecast as if it had been its forecast */
	memcpy(y, x + (N - NS) * 2, sizeof(y));
	y[5 * 2 + 1] = NAN;
	aiops_forecast_holtwinters(&m, y, NS, 2, pred);
	aiops_model_score(&m, y, NS, out, NULL, &e);
	ok(isnan(out[5]) && !isnan(out[6]), "a NaN row scores NaN, the next one does not");
	y[5 * 2 + 1] = pred[5 * 2 + 1];
	aiops_forecast_holtwinters(&m, y, NS, 2, p2);
	for (int i = 0; i < NS * 2; i++)
		same &= pred[i] == p2[i];
	ok(same, "forecasts after a NaN = those with the NaN replaced by its forecast");
	aiops_model_release(&m);
}

static void
edges(void)
{
	static double x[100];
	struct aiops_model m;
	struct aiops_error e;
	double pred[4], out[4];
	int r;

	for (int i = 0; i < 100; i++)
		x[i] = i % 3;
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=1", x, 100, 1, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "period=1"), "period=1: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=3.5", x, 100, 1, &e);
	ok(r == AIOPS_ERR_USAGE, "period=3.5: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=3,alpha=1.5", x, 100, 1, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "alpha=1.5"), "alpha=1.5: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_holtwinters, "period=3,gamma=-0.1", x, 100, 1, &e);
	ok(r == AIOPS_ERR_USAGE && strstr(e.msg, "gamma=-0.1"), "gamma=-0.1: %s", e.msg);
	aiops_model_release(&m);
	r = fit_spec(&m, &aiops_fam_holtwinters, "", x, 47, 1, &e);
	ok(r == AIOPS_ERR_DATA && strstr(e.msg, "48 rows"), "47 rows for period 24: %s", e.msg);
	aiops_model_release(&m);

	r = fit_spec(&m, &aiops_fam_holtwinters, "period=3,alpha=0.2", x, 96, 1, &e);
	ok(r == AIOPS_OK, "a season that repeats exactly fits: %s", r ? e.msg : "ok");
	aiops_forecast_holtwinters(&m, x + 96, 4, 1, pred);
	ok(pred[0] == x[96] && pred[1] == x[97] && pred[2] == x[98] && pred[3] == x[99],
	    "it is forecast exactly: %g %g %g %g", pred[0], pred[1], pred[2], pred[3]);
	aiops_model_score(&m, x + 96, 4, out, NULL, &e);
	ok(out[0] == 0 && out[3] == 0, "and scores 0");
	is_int(aiops_forecast_holtwinters(&m, x, 4, 2, pred), AIOPS_ERR_FORMAT,
	    "a column count that is not the model's is refused");
	aiops_model_release(&m);
	fit_spec(&m, &aiops_fam_zscore, "", x, 100, 1, &e);
	is_int(aiops_forecast_holtwinters(&m, x, 4, 1, pred), AIOPS_ERR_FORMAT,
	    "aiops_forecast_holtwinters refuses a zscore model");
	aiops_model_release(&m);
}

int
main(void)
{
	aiops_alloc_init();
	closed_form();
	if (python_has("numpy, statsmodels"))
		vs_statsmodels();
	else
		skip(PY " cannot import statsmodels: ExponentialSmoothing reference");
	score_contract();
	edges();
	return done_testing();
}
