/*
 * tests/unit/famtest.h - what the model-family unit tests share: the model
 * file round trip, the forecasters' score contract, and (for the tests that
 * compare with scikit-learn or statsmodels) running a Python reference on a
 * matrix and fitting a model from a "name=value,..." spec. Header-only,
 * included by one test file each, after tap.h.
 */
#ifndef AIOPS_FAMTEST_H
#define AIOPS_FAMTEST_H

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"

#ifndef PY
#define PY "/usr/bin/python3"
#endif

/* True when /usr/bin/python3 imports every module in mods ("numpy, statsmodels"). */
static __attribute__((unused)) int
python_has(const char *mods)
{
	char cmd[256];
	int st;

	if (access(PY, X_OK) != 0)
		return 0;
	snprintf(cmd, sizeof(cmd), PY " -c 'import %s' >/dev/null 2>&1", mods);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * Run script with python on the n x d matrix x, written to a temporary
 * CSV whose path is sys.argv[1] (arg, if not NULL, is sys.argv[2]), and
 * read up to want numbers it prints. Returns how many were read, or -1.
 */
static __attribute__((unused)) int
pyref(const char *script, const double *x, size_t n, size_t d, const char *arg, double *out,
    int want)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], csv[600], py[600], cmd[1400];
	FILE *f;
	int got = 0, st;

	snprintf(dir, sizeof(dir), "%s/aiops-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(csv, sizeof(csv), "%s/x.csv", dir);
	snprintf(py, sizeof(py), "%s/ref.py", dir);
	if ((f = fopen(csv, "w")) != NULL) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				fprintf(f, "%.17g%c", x[i * d + j], j + 1 < d ? ',' : '\n');
		fclose(f);
	}
	if ((f = fopen(py, "w")) != NULL) {
		fputs(script, f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), PY " '%s' '%s' %s", py, csv, arg ? arg : "");
	if ((f = popen(cmd, "r")) != NULL) {
		while (got < want && fscanf(f, "%lf", &out[got]) == 1)
			got++;
		st = pclose(f);
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			got = -1;
	} else {
		got = -1;
	}
	unlink(csv);
	unlink(py);
	rmdir(dir);
	return got;
}

static __attribute__((unused)) int
fit_spec(struct aiops_model *m, const struct aiops_family *f, const char *spec, const double *x,
    size_t n, size_t d, struct aiops_error *e)
{
	static char *names[] = { "a", "b", "c", "d" };
	struct aiops_params ps = { 0 };
	char buf[128], *s, *tok;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (s = buf; (tok = strsep(&s, ",")) != NULL;) {
		char *eq = strchr(tok, '=');
		if (eq) {
			*eq = '\0';
			aiops_param_set(&ps, tok, strtod(eq + 1, NULL));
		}
	}
	if (aiops_model_init(m, f, &ps, names, d) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	return aiops_model_fit(m, x, n, e);
}

/*
 * Write m to path, load it back, and check that the family survives and that
 * the scores and contributions of x (n rows) are the same bit for bit.
 * Releases m.
 */
static __attribute__((unused)) void
roundtrip(struct aiops_model *m, const double *x, size_t n, const char *path)
{
	struct aiops_model m2;
	struct aiops_out o;
	struct aiops_error e;
	size_t d = m->ncols;
	double *s1 = calloc(n, sizeof(double)), *s2 = calloc(n, sizeof(double));
	double *c1 = calloc(n * d, sizeof(double)), *c2 = calloc(n * d, sizeof(double));

	ok(aiops_out_open(&o, path, &e) == AIOPS_OK && aiops_model_write(m, &o, &e) == AIOPS_OK &&
	    aiops_out_commit(&o, &e) == AIOPS_OK, "model written");
	if (ok(aiops_model_load(&m2, path, &e) == AIOPS_OK, "model loaded")) {
		is_str(m2.family->name, m->family->name, "family survives");
		aiops_model_score(m, x, n, s1, c1, &e);
		aiops_model_score(&m2, x, n, s2, c2, &e);
		ok(memcmp(s1, s2, n * sizeof(double)) == 0 && memcmp(c1, c2, n * d * sizeof(double)) == 0,
		    "loaded model scores bit for bit the same (scores and contributions)");
		aiops_model_release(&m2);
	} else {
		diag("%s", e.msg);
	}
	aiops_model_release(m);
	unlink(path);
	free(s1);
	free(s2);
	free(c1);
	free(c2);
}

/*
 * The forecasters' score contract on n rows of x (d columns) whose forecasts
 * are pred: score = sqrt(mean_j (residual_j / scale_j)^2) and the
 * contributions sum to score^2, within 1e-12. out and con receive the scores.
 */
static __attribute__((unused)) void
check_score_contract(const struct aiops_model *m, const double *x, const double *pred, size_t n,
    size_t d, double *out, double *con)
{
	const double *sc = aiops_model_get(m, "scale")->v;
	struct aiops_error e;
	double mx = 0, mc = 0;
	int r = aiops_model_score(m, x, n, out, con, &e);

	ok(r == AIOPS_OK, "score: %s", r ? e.msg : "ok");
	for (size_t i = 0; i < n; i++) {
		double s = 0, c = 0;
		for (size_t j = 0; j < d; j++) {
			double z = (x[i * d + j] - pred[i * d + j]) / sc[j];
			s += z * z;
			c += con[i * d + j];
		}
		mx = fmax(mx, fabs(out[i] - sqrt(s / (double)d)));
		mc = fmax(mc, fabs(c - out[i] * out[i]));
	}
	ok(mx < 1e-12, "score = sqrt(mean_j (residual_j / scale_j)^2) (max error %g)", mx);
	ok(mc < 1e-12, "contributions sum to score^2 (max error %g)", mc);
}

#endif
