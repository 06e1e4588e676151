/*
 * tests/unit/pyref.h - for the family unit tests that compare with scikit-learn
 * or statsmodels: run a Python reference on a matrix and read its numbers
 * back, and fit a model from a "name=value,..." spec. Header-only, included
 * by one test file each.
 */
#ifndef AIOPS_PYREF_H
#define AIOPS_PYREF_H

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
static int
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
static int
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

static int
fit(struct aiops_model *m, const struct aiops_family *f, const char *spec, const double *x,
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

#endif
