/*
 * test-evalmetrics.c - lib/evalmetrics.c: point metrics against scikit-learn,
 * point adjustment and event metrics against brute force, forecast errors
 * against numpy, NAB by hand and against a row-by-row sweep, HitRate on
 * constructed cases and SMD's interpretation labels, PSI and KS against
 * numpy and scipy, and every allocation failure path (in child processes).
 * The Python references run under /usr/bin/python3 and are skipped when it
 * lacks the module.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"
#include "evalmetrics.h"
#include "tap.h"
#include "famtest.h"

static char tmpdir[256];
static pid_t mainpid;

/* At exit of the test itself (not of its forked children), remove the scratch directory. */
static void
cleanup(void)
{
	char cmd[300];

	if (getpid() != mainpid || tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Write text to tmpdir/name; returns the path (static buffer per call site). */
static const char *
write_file(const char *name, const char *text, char *path, size_t pathsz)
{
	FILE *f;

	snprintf(path, pathsz, "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* ---------------------------------------------------------------- torture */

/*
 * In a child process with AIOPS_FAIL_ALLOC=k: call what allocates and check
 * that it reports AIOPS_ERR_NOMEM (or succeeds once k is past its
 * allocations) and leaves its outputs empty. Exit status: T_NOMEM failed
 * cleanly, T_DONE succeeded, T_WRONG wrong; anything else (ASan exits 1 on
 * a leak) is wrong too.
 */
enum { T_NOMEM = 0, T_DONE = 10, T_WRONG = 11 };

static int
torture_child(int which, int k, const char *path)
{
	char s[16];
	struct aiops_error e;
	int r;

	snprintf(s, sizeof(s), "%d", k);
	setenv("AIOPS_FAIL_ALLOC", s, 1);
	if (which == 0) {
		struct aiops_interp *segs = (void *)1;
		size_t n = 99;
		r = aiops_interp_load(path, &segs, &n, &e);
		if (r == AIOPS_OK) {
			int good = n == 3 && segs[2].ncols == 2;
			aiops_interp_free(segs, n);
			return good ? T_DONE : T_WRONG;
		}
		return r == AIOPS_ERR_NOMEM && segs == NULL && n == 0 ? T_NOMEM : T_WRONG;
	}
	if (which == 1) {
		double x[50], q[11];
		struct aiops_drift d;
		for (int i = 0; i < 50; i++)
			x[i] = i;
		for (int i = 0; i < 11; i++)
			q[i] = 5 * i;
		r = aiops_drift(x, 50, 1, q, 11, 1, 0, &d, &e);
		if (r == AIOPS_OK)
			return d.n == 50 ? T_DONE : T_WRONG;
		return r == AIOPS_ERR_NOMEM && isnan(d.ks) ? T_NOMEM : T_WRONG;
	}
	if (which == 2) {
		double c[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, hr = 0;
		size_t cols[] = { 2 };
		struct aiops_interp g = { 0, 4, cols, 1 };
		r = aiops_hitrate(c, 4, 3, &g, 1, 100, &hr, &e);
		if (r == AIOPS_OK)
			return hr == 1 ? T_DONE : T_WRONG;
		return r == AIOPS_ERR_NOMEM && isnan(hr) ? T_NOMEM : T_WRONG;
	}
	{
		/* top columns with d > 256 and no memory: the slow path, same answer */
		enum { N = 3, D = 300, K = 12 };
		static double c[N * D];
		size_t idx[K], want[K];
		int bad = 0;
		for (int i = 0; i < N * D; i++)
			c[i] = (double)((i * 7919) % 1009) - ((i % D) % 17 == 0 ? NAN : 0);
		for (int t = 0; t < K; t++) {
			/* brute force: the t-th best by (sum desc, index asc) */
			size_t best = SIZE_MAX;
			double bs = 0;
			for (size_t j = 0; j < D; j++) {
				double sj = 0;
				int used = 0;
				for (int u = 0; u < t; u++)
					used |= want[u] == j;
				if (used)
					continue;
				for (int i = 0; i < N; i++)
					if (!isnan(c[i * D + j]))
						sj += c[i * D + j];
				if (best == SIZE_MAX || sj > bs) {
					best = j;
					bs = sj;
				}
			}
			want[t] = best;
		}
		aiops_top_columns(c, N, D, 0, N, K, idx);
		for (int t = 0; t < K; t++)
			bad += idx[t] != want[t];
		return bad ? T_WRONG : T_NOMEM;
	}
}

/* Must run before anything in this process allocates: the children read AIOPS_FAIL_ALLOC. */
static void
torture(void)
{
	static const char *what[] = { "aiops_interp_load", "aiops_drift", "aiops_hitrate" };
	char path[512];

	write_file("torture.txt", "1-3:1,2\n5-9:4\n\n10-20:3,7\n", path, sizeof(path));
	for (int which = 0; which < 3; which++) {
		int k, st = 0, fails = 0, wrong = 0;
		for (k = 1; k < 40; k++) {
			pid_t pid = fork();
			if (pid == 0)
				exit(torture_child(which, k, path));
			if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
				wrong++;
				break;
			}
			if (WEXITSTATUS(st) == T_DONE)
				break;
			if (WEXITSTATUS(st) == T_NOMEM)
				fails++;
			else
				wrong++;
		}
		ok(wrong == 0 && fails > 0 && k < 40,
		    "%s: each of its %d allocations failing: out of memory, empty outputs, no leak",
		    what[which], fails);
	}
	{
		pid_t pid = fork();
		int st = 0;
		if (pid == 0)
			exit(torture_child(3, 1, path));
		ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == T_NOMEM,
		    "aiops_top_columns with 300 columns and no memory still ranks right");
	}
}

/* ------------------------------------------------------------ point metrics */

static void
decide(void)
{
	double s[] = { 0.5, NAN, 0.49, 2, -INFINITY, INFINITY };
	unsigned char p[6];

	aiops_decide(s, 6, 0.5, p);
	ok(p[0] == 1 && p[1] == 0 && p[2] == 0 && p[3] == 1 && p[4] == 0 && p[5] == 1,
	    "decide: score >= thr, NaN normal");
	aiops_decide(s, 6, 0.5, NULL);
	ok(1, "decide with pred NULL does nothing");
	{
		unsigned char y[4] = { 2, 0, 7, 0 }, pr[4] = { 3, 5, 0, 0 };
		struct aiops_point pt;
		aiops_point_metrics(y, pr, 4, &pt);
		ok(pt.tp == 1 && pt.fp == 1 && pt.fn == 1 && pt.tn == 1,
		    "point metrics: any nonzero byte is a 1");
	}
}

static const char *sk_script =
    "import sys, warnings\n"
    "import numpy as np\n"
    "from sklearn.metrics import precision_recall_fscore_support, confusion_matrix\n"
    "warnings.simplefilter('ignore')\n"
    "a = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "for c in np.unique(a[:, 0]):\n"
    "    r = a[a[:, 0] == c]\n"
    "    y = r[:, 1].astype(int); p = r[:, 2].astype(int)\n"
    "    pr, rc, f, _ = precision_recall_fscore_support(y, p, average='binary', zero_division=0)\n"
    "    tn, fp, fn, tp = confusion_matrix(y, p, labels=[0, 1]).ravel()\n"
    "    print(repr(float(pr)), repr(float(rc)), repr(float(f)), tp, fp, fn, tn)\n";

static void
point_vs_sklearn(struct aiops_rng *rng)
{
	enum { CASES = 30, MAXN = 400 };
	double *m = calloc(CASES * MAXN * 3, sizeof(double)), *ref = calloc(CASES * 7, sizeof(double));
	struct aiops_point got[CASES];
	size_t rows = 0;
	int bad = 0, nr;

	if (!python_has("numpy, sklearn")) {
		skip("/usr/bin/python3 lacks scikit-learn");
		free(m);
		free(ref);
		return;
	}
	for (int c = 0; c < CASES; c++) {
		size_t n = 1 + (size_t)aiops_rng_below(rng, MAXN);
		unsigned char y[MAXN], p[MAXN];
		double thr = aiops_rng_uniform(rng), rate = c == 0 ? 0 : aiops_rng_uniform(rng) * 0.3;
		double sc[MAXN];
		for (size_t i = 0; i < n; i++) {
			y[i] = aiops_rng_uniform(rng) < rate;      /* case 0: no positives */
			sc[i] = aiops_rng_uniform(rng) * 0.7 + (y[i] ? 0.35 : 0);
		}
		aiops_decide(sc, n, c == 1 ? 2.0 : thr, p);  /* case 1: nothing predicted */
		aiops_point_metrics(y, p, n, &got[c]);
		for (size_t i = 0; i < n; i++, rows++) {
			m[rows * 3] = c;
			m[rows * 3 + 1] = y[i];
			m[rows * 3 + 2] = p[i];
		}
	}
	nr = pyref(sk_script, m, rows, 3, NULL, ref, CASES * 7);
	ok(nr == CASES * 7, "scikit-learn ran (%d numbers)", nr);
	if (nr == CASES * 7) {
		for (int c = 0; c < CASES; c++) {
			double *r = ref + c * 7;
			const struct aiops_point *g = &got[c];
			if (fabs(g->precision - r[0]) > 1e-12 || fabs(g->recall - r[1]) > 1e-12 ||
			    fabs(g->f1 - r[2]) > 1e-12 || g->tp != r[3] || g->fp != r[4] ||
			    g->fn != r[5] || g->tn != r[6]) {
				bad++;
				diag("case %d: got p %g r %g f1 %g, sklearn %g %g %g", c,
				    g->precision, g->recall, g->f1, r[0], r[1], r[2]);
			}
		}
		is_int(bad, 0, "%d random cases: counts, precision, recall, F1 equal "
		    "precision_recall_fscore_support (1e-12; with no positives, zero_division=0)",
		    CASES);
	}
	free(m);
	free(ref);
}

/* ------------------------------------------------- adjustment and events */

static void
brute_adjust(const unsigned char *y, const unsigned char *p, size_t n, unsigned char *adj)
{
	for (size_t i = 0; i < n; i++) {
		size_t a = i, b = i;
		int hit = 0;
		adj[i] = p[i] != 0;
		if (!y[i])
			continue;
		while (a > 0 && y[a - 1])
			a--;
		while (b + 1 < n && y[b + 1])
			b++;
		for (size_t j = a; j <= b; j++)
			hit |= p[j] != 0;
		adj[i] = (unsigned char)hit;
	}
}

/* segments as [start, end) pairs */
static size_t
runs(const unsigned char *v, size_t n, size_t *s, size_t *e)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] && (i == 0 || !v[i - 1])) {
			size_t j = i;
			while (j < n && v[j])
				j++;
			s[k] = i;
			e[k++] = j;
		}
	return k;
}

static void
brute_events(const unsigned char *y, const unsigned char *p, size_t n, struct aiops_events *o)
{
	size_t ls[64], le[64], ps[64], pe[64], nl = runs(y, n, ls, le), np = runs(p, n, ps, pe);
	double dsum = 0;

	memset(o, 0, sizeof(*o));
	o->nlabel = nl;
	o->npred = np;
	for (size_t k = 0; k < nl; k++)
		for (size_t i = ls[k]; i < le[k]; i++)
			if (p[i]) {
				o->ndetected++;
				dsum += (double)(i - ls[k]);
				break;
			}
	for (size_t k = 0; k < np; k++)
		for (size_t i = ps[k]; i < pe[k]; i++)
			if (y[i]) {
				o->ntrue++;
				break;
			}
	o->precision = np ? (double)o->ntrue / (double)np : 0;
	o->recall = nl ? (double)o->ndetected / (double)nl : 0;
	o->f1 = o->precision + o->recall > 0 ?
	    2 * o->precision * o->recall / (o->precision + o->recall) : 0;
	o->mean_delay = o->ndetected ? dsum / (double)o->ndetected : NAN;
}

static int
same_events(const struct aiops_events *a, const struct aiops_events *b)
{
	return a->nlabel == b->nlabel && a->ndetected == b->ndetected && a->npred == b->npred &&
	    a->ntrue == b->ntrue && fabs(a->precision - b->precision) < 1e-15 &&
	    fabs(a->recall - b->recall) < 1e-15 && fabs(a->f1 - b->f1) < 1e-15 &&
	    ((isnan(a->mean_delay) && isnan(b->mean_delay)) ||
	    fabs(a->mean_delay - b->mean_delay) < 1e-12);
}

static void
bytes(const char *s, unsigned char *v)
{
	for (; *s; s++)
		if (*s == '0' || *s == '1')
			*v++ = (unsigned char)(*s - '0');
}

static void
adjust_and_events(struct aiops_rng *rng)
{
	int bada = 0, bade = 0, badi = 0;

	for (int t = 0; t < 3000; t++) {
		size_t n = 1 + (size_t)aiops_rng_below(rng, 60);
		unsigned char y[60], p[60], a1[60], a2[60], a3[60];
		double ry = aiops_rng_uniform(rng), rp = aiops_rng_uniform(rng);
		struct aiops_events e1, e2;
		for (size_t i = 0; i < n; i++) {
			/* runs: keep the previous value with high probability */
			int keepy = i && aiops_rng_uniform(rng) < 0.7;
			int keepp = i && aiops_rng_uniform(rng) < 0.4;
			y[i] = keepy ? y[i - 1] : aiops_rng_uniform(rng) < ry;
			p[i] = keepp ? p[i - 1] : aiops_rng_uniform(rng) < rp;
		}
		aiops_point_adjust(y, p, n, a1);
		brute_adjust(y, p, n, a2);
		bada += memcmp(a1, a2, n) != 0;
		memcpy(a3, p, n);
		aiops_point_adjust(y, a3, n, a3);
		badi += memcmp(a3, a2, n) != 0;
		aiops_event_metrics(y, p, n, &e1);
		brute_events(y, p, n, &e2);
		bade += !same_events(&e1, &e2);
	}
	is_int(bada, 0, "3000 random point adjustments equal brute force");
	is_int(badi, 0, "... and the same in place (adj aliasing pred)");
	is_int(bade, 0, "3000 random event metrics (counts, precision, recall, F1, delay) "
	    "equal brute force");

	{
		/* segments at row 0 and at the end; a late and a first-row detection */
		unsigned char y[7], p[7], a[7], want[7];
		struct aiops_events ev;
		struct aiops_point pt;
		bytes("1100111", y);
		bytes("0101001", p);
		bytes("1101111", want);
		aiops_point_adjust(y, p, 7, a);
		ok(memcmp(a, want, 7) == 0, "adjust: segment at row 0 and at the end, both filled");
		aiops_point_metrics(y, a, 7, &pt);
		ok(pt.tp == 5 && pt.fp == 1 && pt.fn == 0 && pt.tn == 1,
		    "adjusted counts tp 5 fp 1 fn 0 tn 1");
		aiops_event_metrics(y, p, 7, &ev);
		ok(ev.nlabel == 2 && ev.ndetected == 2 && ev.npred == 3 && ev.ntrue == 2,
		    "events: 2 segments both detected, 3 predicted runs of which 2 overlap");
		is_double(ev.mean_delay, 1.5, 0, "delays 1 and 2 rows: mean 1.5");
		is_double(ev.precision, 2.0 / 3, 1e-15, "event precision 2/3");
		is_double(ev.f1, 0.8, 1e-15, "event F1 = 2 * 2/3 * 1 / (2/3 + 1) = 0.8");
	}
	{
		/* adjacent predicted runs inside one segment; one run bridging two segments */
		unsigned char y[12], p[12];
		struct aiops_events ev;
		bytes("011111011100", y);
		bytes("001101111000", p);
		aiops_event_metrics(y, p, 12, &ev);
		ok(ev.npred == 2 && ev.ntrue == 2 && ev.nlabel == 2 && ev.ndetected == 2,
		    "runs split by one row count twice; a run across two segments detects both");
		is_double(ev.mean_delay, (1 + 0) / 2.0, 0, "delay 1 (row 2 - row 1) and 0 (row 7)");
	}
	{
		unsigned char y[5], p[5];
		struct aiops_events ev;
		bytes("01100", y);
		bytes("10011", p);
		aiops_event_metrics(y, p, 5, &ev);
		ok(ev.ndetected == 0 && ev.ntrue == 0 && ev.npred == 2 && isnan(ev.mean_delay) &&
		    ev.f1 == 0, "a run ending just before and one starting just after: no overlap, "
		    "delay NaN");
	}
}

/* ---------------------------------------------------------- forecast errors */

static const char *fc_script =
    "import sys\n"
    "import numpy as np\n"
    "a = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "m = int(sys.argv[2]); d = a.shape[1] // 2\n"
    "x, p = a[:, :d], a[:, d:]\n"
    "ok = ~(np.isnan(x) | np.isnan(p))\n"
    "r = np.abs(x - p)[ok]; den = (np.abs(x) + np.abs(p))[ok]\n"
    "mae = r.mean(); rmse = np.sqrt(np.mean(r ** 2))\n"
    "smape = 100 * np.mean(np.where(den > 0, 2 * r / np.where(den > 0, den, 1), 0))\n"
    "s = np.abs(x[m:] - x[:-m]); s = s[~np.isnan(s)]\n"
    "mase = mae / s.mean() if s.size and s.mean() > 0 else float('nan')\n"
    "print(repr(mae), repr(rmse), repr(smape), repr(mase), int(ok.sum()))\n";

static void
forecast(struct aiops_rng *rng)
{
	struct aiops_fcerr f;
	struct aiops_error e;
	int r;

	if (!python_has("numpy")) {
		skip("/usr/bin/python3 lacks numpy");
	} else {
		enum { N = 120, D = 3 };
		static double x[N * D], p[N * D], m2[N * 2 * D];
		for (size_t i = 0; i < N; i++)
			for (size_t j = 0; j < D; j++) {
				double v = 10 * sin((double)i / 5 + (double)j) + aiops_rng_normal(rng);
				x[i * D + j] = aiops_rng_uniform(rng) < 0.05 ? NAN : j == 2 ? 0 * v : v;
				p[i * D + j] = aiops_rng_uniform(rng) < 0.05 ? NAN :
				    j == 2 ? (i % 3 ? 0 : 1) : v + aiops_rng_normal(rng);
			}
		for (size_t i = 0; i < N; i++)
			for (size_t j = 0; j < D; j++) {
				m2[i * 2 * D + j] = x[i * D + j];
				m2[i * 2 * D + D + j] = p[i * D + j];
			}
		for (size_t m = 1; m <= 7; m += 6) {
			double ref[5];
			char arg[16];
			snprintf(arg, sizeof(arg), "%zu", m);
			r = aiops_forecast_errors(x, p, N, D, m, &f, &e);
			if (ok(pyref(fc_script, m2, N, 2 * D, arg, ref, 5) == 5 && r == AIOPS_OK,
			    "numpy reference, m = %zu", m)) {
				is_double(f.mae, ref[0], 1e-12, "MAE = numpy's (m = %zu)", m);
				is_double(f.rmse, ref[1], 1e-12, "RMSE = numpy's");
				is_double(f.smape, ref[2], 1e-10, "sMAPE = numpy's (0/0 terms count 0)");
				is_double(f.mase, ref[3], 1e-12,
				    "MASE = numpy's seasonal naive scale, m = %zu", m);
				is_int(f.n, (long long)ref[4], "pairs with a NaN left out");
			}
		}
	}
	{
		double x[] = { 1, 2, 3, 4, 5, 6 }, p[] = { 2, 3, 4, 5, 6, 7 }, sm = 0;
		r = aiops_forecast_errors(x, p, 6, 1, 2, &f, &e);
		for (int i = 0; i < 6; i++)
			sm += 2.0 / (2 * x[i] + 1);
		ok(r == AIOPS_OK && f.mae == 1 && f.rmse == 1, "off by one: MAE = RMSE = 1");
		is_double(f.mase, 0.5, 1e-15, "MASE, m = 2: seasonal naive error is 2, so 1/2");
		is_double(f.smape, 100 * sm / 6, 1e-12, "sMAPE by hand");
		r = aiops_forecast_errors(x, p, 2, 1, 2, &f, &e);
		ok(r == AIOPS_OK && isnan(f.mase), "no more rows than m: MASE NaN");
	}
	{
		/* two columns, m = 1: only the second column's pairs make the scale */
		double x[] = { 0, 1, NAN, 4, 0, 9 }, p[] = { 0, 2, 5, NAN, 0, 9 };
		r = aiops_forecast_errors(x, p, 3, 2, 1, &f, &e);
		ok(r == AIOPS_OK && f.n == 4, "NaN on either side: the pair is left out (4 of 6)");
		is_double(f.mae, 0.25, 1e-15, "MAE over the 4 pairs: (0 + 1 + 0 + 0) / 4");
		is_double(f.smape, 100 * (2.0 / 3) / 4, 1e-13, "sMAPE: a 0/0 pair counts 0");
		is_double(f.mase, 0.25 / ((3 + 5.0) / 2), 1e-15,
		    "MASE: naive scale over the pairs present in column 2 (|4-1|, |9-4|)");
	}
	{
		double x[] = { 3, 3, 3 }, p[] = { 1, 2, 3 };
		r = aiops_forecast_errors(x, p, 3, 1, 1, &f, &e);
		ok(r == AIOPS_OK && isnan(f.mase) && f.mae == 1, "a constant series: MASE NaN");
	}
	{
		double x[] = { NAN, 1 }, p[] = { 1, NAN };
		r = aiops_forecast_errors(x, p, 2, 1, 1, &f, &e);
		is_int(r, AIOPS_ERR_DATA, "no pairs: AIOPS_ERR_DATA");
		is_str(e.msg, "no row has both an actual value and a forecast: "
		    "the errors are undefined", "... with a message");
		r = aiops_forecast_errors(x, p, 2, 1, 0, &f, &e);
		is_int(r, AIOPS_ERR_USAGE, "m = 0: AIOPS_ERR_USAGE (%s)", e.msg);
	}
}

/* -------------------------------------------------------------------- NAB */

/* NAB's scaled sigmoid written another way: 2/(1+e^(5y)) - 1 = tanh(-5y/2). */
static double
sig(double y)
{
	return y > 3 ? -1 : tanh(-2.5 * y);
}

/* NAB's sweep, row by row: each row's score if detected, then the max per window. */
static double
brute_nab(const unsigned char *y, const unsigned char *p, size_t n, double prob,
    const struct aiops_nab_profile *pf, size_t *nwin)
{
	double plen = fmin(floor(prob * (double)n), prob * 5000), fps = 0, raw = 0;
	double part[200];
	int has[200];
	size_t wid[200] = { 0 }, nw = 0;

	for (size_t i = 0; i < n; i++)
		if (y[i] && (i == 0 || !y[i - 1])) {
			has[nw] = 0;
			part[nw] = 0;
			nw++;
		}
	for (size_t i = 0, w = 0; i < n; i++) {
		if (y[i] && (i == 0 || !y[i - 1]))
			w++;
		wid[i] = y[i] ? w : 0;
	}
	for (size_t i = 0; i < n; i++) {
		double sc;
		size_t a, b;
		if (y[i]) {
			for (a = i; a > 0 && y[a - 1]; a--)
				;
			for (b = i; b + 1 < n && y[b + 1]; b++)
				;
			sc = pf->tp * sig(-(double)(b - i + 1) / (double)(b - a + 1)) / sig(-1);
		} else {
			size_t pb;
			for (pb = i; pb > 0 && !y[pb - 1]; pb--)
				;
			if (pb == 0) {
				sc = -pf->fp;
			} else {
				b = pb - 1;
				for (a = b; a > 0 && y[a - 1]; a--)
					;
				sc = pf->fp * sig((double)(i - b) / (double)(b - a > 0 ? b - a : 1));
			}
		}
		if ((double)i < plen)
			continue;
		if (y[i] && !has[wid[i] - 1]) {
			has[wid[i] - 1] = 1;
			part[wid[i] - 1] = -pf->fn;
		}
		if (!p[i])
			continue;
		if (y[i])
			part[wid[i] - 1] = fmax(part[wid[i] - 1], sc);
		else
			fps += sc;
	}
	*nwin = 0;
	for (size_t k = 0; k < nw; k++)
		if (has[k]) {
			raw += part[k];
			(*nwin)++;
		}
	return raw + fps;
}

static void
nab(struct aiops_rng *rng)
{
	const struct aiops_nab_profile *std = &aiops_nab_profiles[0];
	struct aiops_nab s, sum = { 0, 0, 0 };
	struct aiops_error e;
	unsigned char y[40] = { 0 }, p[40] = { 0 };
	double maxtp = tanh(2.5);
	int bad = 0;

	/* config/profiles.json of numenta/NAB */
	ok(strcmp(aiops_nab_profiles[0].name, "standard") == 0 && std->tp == 1 && std->fp == 0.11 &&
	    std->fn == 1 && std->tn == 1, "profile standard: tp 1 fp 0.11 fn 1 tn 1");
	ok(strcmp(aiops_nab_profiles[1].name, "reward_low_FP_rate") == 0 &&
	    aiops_nab_profiles[1].tp == 1 && aiops_nab_profiles[1].fp == 0.22 &&
	    aiops_nab_profiles[1].fn == 1 && aiops_nab_profiles[1].tn == 1,
	    "profile reward_low_FP_rate: tp 1 fp 0.22 fn 1 tn 1");
	ok(strcmp(aiops_nab_profiles[2].name, "reward_low_FN_rate") == 0 &&
	    aiops_nab_profiles[2].tp == 1 && aiops_nab_profiles[2].fp == 0.11 &&
	    aiops_nab_profiles[2].fn == 2 && aiops_nab_profiles[2].tn == 1,
	    "profile reward_low_FN_rate: tp 1 fp 0.11 fn 2 tn 1");

	/* one window, rows 5..9 (w = 5), 40 rows, no probation */
	memset(y + 5, 1, 5);
	p[5] = 1;
	p[7] = 1;
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, 1, 1e-15, "detection at the window's first row: A_tp exactly; "
	    "the second detection is ignored");
	ok(s.null == -1 && s.perfect == 1, "null -1, perfect 1 for one window");
	is_double(aiops_nab_normalize(&s), 100, 1e-12, "a perfect detector normalises to 100");
	memset(p, 0, sizeof(p));
	p[9] = 1;
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, tanh(2.5 * 1 / 5) / maxtp, 1e-15,
	    "detection at the window's last row: sigma(-1/5) / sigma(-1)");
	memset(p, 0, sizeof(p));
	p[10] = 1;
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, -1 + 0.11 * tanh(-2.5 * 1 / 4.0), 1e-15,
	    "missed window (-1) and an FP one row after it: 0.11 sigma(1/(5-1))");
	memset(p, 0, sizeof(p));
	p[2] = 1;
	p[5] = 1;
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, 1 - 0.11, 1e-15, "an FP before any window costs A_fp");
	memset(p, 0, sizeof(p));
	p[21] = 1;
	p[22] = 1;
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, -1 + 0.11 * tanh(-2.5 * 3) - 0.11, 1e-15,
	    "FPs at relative distance 3 (sigmoid) and 3.25 (-1)");
	memset(p, 0, sizeof(p));
	aiops_nab_score(y, p, 40, 0, std, &s, &e);
	is_double(s.raw, -1, 0, "never firing: the null score");
	is_double(aiops_nab_normalize(&s), 0, 0, "... which normalises to 0");
	aiops_nab_score(y, p, 40, 0, &aiops_nab_profiles[2], &s, &e);
	is_double(s.raw, -2, 0, "reward_low_FN_rate: a missed window costs 2");

	/* probation: 100 rows, 0.15 -> the first 15 rows are not scored */
	{
		unsigned char y2[100] = { 0 }, p2[100] = { 0 };
		memset(y2 + 2, 1, 4);       /* rows 2..5: wholly in probation, not a window */
		memset(y2 + 10, 1, 10);     /* rows 10..19 */
		p2[1] = 1;                  /* FP in probation: ignored */
		p2[12] = 1;                 /* detection in probation: ignored */
		p2[16] = 1;                 /* the first one that counts */
		aiops_nab_score(y2, p2, 100, 0.15, std, &s, &e);
		is_double(s.raw, tanh(2.5 * (19 - 16 + 1) / 10.0) / maxtp, 1e-15,
		    "probation: detections before row 15 ignored, row 16 scores sigma(-4/10)");
		ok(s.null == -1 && s.perfect == 1, "a window wholly in probation is not scored");
		p2[16] = 0;
		p2[40] = 1;
		aiops_nab_score(y2, p2, 100, 0.15, std, &s, &e);
		is_double(s.raw, -1 + 0.11 * sig(21 / 9.0), 1e-15,
		    "window missed after probation; FP 21 rows after it, w - 1 = 9");
	}
	{
		/* the probationary period is capped at probation * 5000 rows (750) */
		static unsigned char y3[10000], p3[10000];
		p3[749] = 1;
		aiops_nab_score(y3, p3, 10000, 0.15, std, &s, &e);
		is_double(s.raw, 0, 0, "10000 rows: an FP at row 749 is in the (capped) probation");
		p3[750] = 1;
		aiops_nab_score(y3, p3, 10000, 0.15, std, &s, &e);
		is_double(s.raw, -0.11, 0, "... and at row 750 it counts");
		ok(s.null == 0 && s.perfect == 0 && aiops_nab_normalize(&s) == 0,
		    "no windows: null = perfect = 0, normalised 0");
	}
	{
		/* a window at row 0, another at the end, a one-row window */
		unsigned char y4[12], p4[12];
		bytes("110001000011", y4);
		bytes("110000100001", p4);
		aiops_nab_score(y4, p4, 12, 0, std, &s, &e);
		is_double(s.raw, 1 + 0.11 * sig(1) + tanh(2.5 * 1 / 2.0) / maxtp - 1, 1e-15,
		    "window at row 0 caught first, FP one row after a one-row window (divisor 1), "
		    "window at the end caught at its last row, missed one-row window");
		sum.raw += s.raw;
		sum.null += s.null;
		sum.perfect += s.perfect;
		ok(s.null == -3 && s.perfect == 3, "three windows");
		bytes("100001000010", p4);
		aiops_nab_score(y4, p4, 12, 0, std, &s, &e);
		is_double(s.raw, 3, 1e-15, "firing on each window's first row scores perfect");
		sum.raw += s.raw;
		sum.null += s.null;
		sum.perfect += s.perfect;
		is_double(aiops_nab_normalize(&sum), 100 * (sum.raw + 6) / 12, 1e-12,
		    "normalised over two files from the sums");
	}
	ok(aiops_nab_score(y, p, 40, 1.0, std, &s, &e) == AIOPS_ERR_USAGE &&
	    aiops_nab_score(y, p, 40, NAN, std, &s, &e) == AIOPS_ERR_USAGE &&
	    aiops_nab_score(y, p, 40, 0.1, NULL, &s, &e) == AIOPS_ERR_USAGE,
	    "probation outside [0, 1) or no profile: AIOPS_ERR_USAGE");

	for (int t = 0; t < 2000; t++) {
		size_t n = 1 + (size_t)aiops_rng_below(rng, 120), nw;
		unsigned char yy[120], pp[120];
		double prob = t % 3 == 0 ? 0 : aiops_rng_uniform(rng) * 0.5, want;
		const struct aiops_nab_profile *pf = &aiops_nab_profiles[t % 3];
		for (size_t i = 0; i < n; i++) {
			int keep = i && aiops_rng_uniform(rng) < 0.8;
			yy[i] = keep ? yy[i - 1] : aiops_rng_uniform(rng) < 0.3;
			pp[i] = aiops_rng_uniform(rng) < 0.1;
		}
		want = brute_nab(yy, pp, n, prob, pf, &nw);
		if (aiops_nab_score(yy, pp, n, prob, pf, &s, &e) != AIOPS_OK ||
		    fabs(s.raw - want) > 1e-12 || s.null != -pf->fn * (double)nw ||
		    s.perfect != pf->tp * (double)nw)
			bad++;
	}
	is_int(bad, 0, "2000 random files: the raw score equals NAB's row-by-row sweep "
	    "(max per window, FPs summed; tanh form of the sigmoid), null and perfect per "
	    "scored window");
}

/* ----------------------------------------------------------------- HitRate */

static void
hitrate(struct aiops_rng *rng)
{
	/* 10 rows x 5 columns; segment A rows 2..5, segment B rows 7..9 */
	double c[50] = { 0 }, hr;
	size_t ca[] = { 3, 2 }, cb[] = { 4 }, idx[6], cbad[] = { 5 }, cdup[] = { 1, 1 };
	struct aiops_interp segs[2] = { { 2, 6, ca, 2 }, { 7, 10, cb, 1 } };
	struct aiops_interp bad;
	struct aiops_error e;
	/* column sums over A: 1 5 3 5 0 (columns 1 and 3 tie) */
	double a[4][5] = { { 1, 2, 1, 2, 0 }, { 0, 1, 1, 1, 0 }, { 0, 1, 1, 1, 0 },
	    { 0, 1, 0, 1, 0 } };
	int badt = 0, r;

	for (int i = 0; i < 4; i++)
		memcpy(c + (2 + i) * 5, a[i], sizeof(a[i]));
	for (int i = 7; i < 10; i++) {
		c[i * 5 + 4] = 3;
		c[i * 5 + 0] = i == 8 ? NAN : 2.5;
	}
	c[0] = c[1] = 100;          /* rows outside both segments do not count */
	aiops_top_columns(c, 10, 5, 2, 6, 5, idx);
	ok(idx[0] == 1 && idx[1] == 3 && idx[2] == 2 && idx[3] == 0 && idx[4] == 4,
	    "top columns over rows 2..5: 1 3 2 0 4 (a tie goes to the lower index)");
	idx[5] = 77;
	aiops_top_columns(c, 10, 5, 7, 10, 6, idx);
	ok(idx[0] == 4 && idx[1] == 0 && idx[5] == 77, "rows 7..9: column 4, then 0 with a NaN "
	    "counted 0; k > d clipped");
	r = aiops_hitrate(c, 10, 5, segs, 2, 100, &hr, &e);
	ok(r == AIOPS_OK, "hitrate: %s", r ? e.msg : "ok");
	/* per anomalous row: A's rows 2..5 rank {1,3} {1,2} {1,2} {1,3} (ties to the lower
	 * index), each hitting 1 of {3, 2}; B's three rows all hit {4} */
	is_double(hr, (4 * 0.5 + 3 * 1.0) / 7, 1e-15, "HitRate@100%%: rows of A hit 1 of 2, rows "
	    "of B hit: 5/7");
	aiops_hitrate(c, 10, 5, segs, 2, 150, &hr, &e);
	/* top 3: row 2 {1,3,0} and row 5 {1,3,0} hit 1 of 2, rows 3 and 4 {1,2,3} both */
	is_double(hr, (0.5 + 1 + 1 + 0.5 + 3) / 7, 1e-15, "HitRate@150%%: floor(3) and floor(1.5) "
	    "= 1 per row: 6/7");
	aiops_hitrate(c, 10, 5, segs, 1, 50, &hr, &e);
	is_double(hr, 0, 0, "HitRate@50%%: top 1 {1} misses both: 0");
	aiops_hitrate(c, 10, 5, segs + 1, 1, 50, &hr, &e);
	is_double(hr, 1, 0, "HitRate@50%% of one column: floor(0.5) = 0 made 1, hits");
	bad = (struct aiops_interp){ 2, 6, cbad, 1 };
	is_int(aiops_hitrate(c, 10, 5, &bad, 1, 100, &hr, &e), AIOPS_ERR_DATA,
	    "a truth column beyond d: AIOPS_ERR_DATA");
	is_str(e.msg, "interpretation segment 1 (rows 2-6): column 6 does not exist", "... message");
	bad = (struct aiops_interp){ 2, 6, cdup, 2 };
	ok(aiops_hitrate(c, 10, 5, &bad, 1, 100, &hr, &e) == AIOPS_ERR_DATA && isnan(hr),
	    "a repeated truth column: %s", e.msg);
	bad = (struct aiops_interp){ 8, 11, ca, 2 };
	ok(aiops_hitrate(c, 10, 5, &bad, 1, 100, &hr, &e) == AIOPS_ERR_DATA,
	    "a segment past the rows: %s", e.msg);
	ok(aiops_hitrate(c, 10, 5, segs, 0, 100, &hr, &e) == AIOPS_ERR_DATA &&
	    aiops_hitrate(c, 10, 5, segs, 2, 0, &hr, &e) == AIOPS_ERR_USAGE,
	    "no segments: DATA; P = 0: USAGE");

	/* top k against sorting, with more columns than the stack buffer */
	for (int t = 0; t < 200; t++) {
		size_t d = 1 + (size_t)aiops_rng_below(rng, t < 100 ? 40 : 600), n = 4, k;
		double *x = malloc(n * d * sizeof(double)), *s = calloc(d, sizeof(double));
		size_t *got = malloc(d * sizeof(size_t)), *ord = malloc(d * sizeof(size_t));
		for (size_t i = 0; i < n * d; i++)
			x[i] = (double)aiops_rng_below(rng, 6);  /* many ties */
		for (size_t i = 0; i < n * d; i++)
			s[i % d] += x[i];
		for (size_t j = 0; j < d; j++)
			ord[j] = j;
		for (size_t i = 1; i < d; i++)       /* stable insertion sort by sum, descending */
			for (size_t j = i; j > 0 && s[ord[j - 1]] < s[ord[j]]; j--) {
				size_t u = ord[j];
				ord[j] = ord[j - 1];
				ord[j - 1] = u;
			}
		k = 1 + (size_t)aiops_rng_below(rng, d);
		aiops_top_columns(x, n, d, 0, n, k, got);
		badt += memcmp(got, ord, k * sizeof(size_t)) != 0;
		free(x);
		free(s);
		free(got);
		free(ord);
	}
	is_int(badt, 0, "200 random top-k selections (d up to 600, ties) equal a stable sort");
}

static void
interp_files(void)
{
	struct aiops_interp *segs;
	struct aiops_error e;
	char path[512];
	size_t n;
	int r;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "10-20:1,2\n5-x:3\n", "bad.txt:2:3: expected an end row, got \"x\"" },
		{ "10-20:1,,2\n", "bad.txt:1:9: expected a column number, got \",\"" },
		{ "20-10:1\n",
		    "bad.txt:1:4: end row 10 is not after start row 20 (the end is exclusive)" },
		{ "1-2:0\n", "bad.txt:1:5: column 0: expected a number from 1 to 1048576" },
		{ "1-2:3,4,3\n", "bad.txt:1:9: column 3 repeated" },
		{ "1-2\n", "bad.txt:1:4: expected ':' after the end row, got the end of the line" },
		{ "1-2:4 \n", "bad.txt:1:6: expected ',' or the end of the line, got \" \"" },
		{ "\n:1\n", "bad.txt:2:1: expected a start row, got \":\"" },
		{ "1 2:4\n", "bad.txt:1:2: expected '-' after the start row, got \" 2\"" },
		{ "99999999999999999999999-2:1\n", "bad.txt:1:1: start row too large" },
		{ "1-2:1,\n", "bad.txt:1:7: expected a column number, got the end of the line" },
	};

	write_file("ok.txt", "1-3:2,1\r\n\r\n5-9:4\n\n10-20:3,7", path, sizeof(path));
	r = aiops_interp_load(path, &segs, &n, &e);
	ok(r == AIOPS_OK && n == 3, "CRLF, blank lines, no final newline: 3 segments (%s)",
	    r ? e.msg : "ok");
	if (r == AIOPS_OK && n == 3)
		ok(segs[0].start == 1 && segs[0].end == 3 && segs[0].ncols == 2 &&
		    segs[0].cols[0] == 1 && segs[0].cols[1] == 0 && segs[2].start == 10 &&
		    segs[2].end == 20 && segs[2].cols[1] == 6, "fields, columns made 0-based");
	aiops_interp_free(segs, n);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[600];
		write_file("bad.txt", bad[i].text, path, sizeof(path));
		segs = (void *)1;
		n = 5;
		r = aiops_interp_load(path, &segs, &n, &e);
		snprintf(want, sizeof(want), "%s/%s", tmpdir, bad[i].msg);
		ok(r == AIOPS_ERR_DATA && segs == NULL && n == 0, "bad file %zu: AIOPS_ERR_DATA",
		    i + 1);
		is_str(e.msg, want, "... message names path:line:column");
	}
	snprintf(path, sizeof(path), "%s/missing.txt", tmpdir);
	r = aiops_interp_load(path, &segs, &n, &e);
	ok(r < 0 && strstr(e.msg, "missing.txt") != NULL, "a missing file: %s", e.msg);
	write_file("empty.txt", "", path, sizeof(path));
	r = aiops_interp_load(path, &segs, &n, &e);
	ok(r == AIOPS_OK && n == 0 && segs == NULL, "an empty file: no segments");
}

static const char *smd_script =
    "import sys\n"
    "d = sys.argv[2]\n"
    "for m in ['1-%d' % i for i in range(1, 9)] + ['2-%d' % i for i in range(1, 10)]:\n"
    "    n = 0; s = 0\n"
    "    for line in open('%s/machine-%s.txt' % (d, m)):\n"
    "        if not line.strip(): continue\n"
    "        a, b = line.strip().split(':'); lo, hi = a.split('-')\n"
    "        c = [int(v) - 1 for v in b.split(',')]\n"
    "        n += 1; s += int(lo) * 3 + int(hi) * 5 + sum(c) * 7 + len(c)\n"
    "    print(n, s)\n";

static void
smd(void)
{
	const char *sh = getenv("AIOPS_SHARED");
	char dir[512], path[700];
	struct aiops_interp *segs;
	struct aiops_error e;
	size_t n;
	int r;

	snprintf(dir, sizeof(dir), "%s/datasets/smd/interpretation_label",
	    sh && *sh ? sh : "../shared");
	snprintf(path, sizeof(path), "%s/machine-1-1.txt", dir);
	if (access(path, R_OK) != 0) {
		skip("no SMD interpretation labels ($AIOPS_SHARED/datasets/smd)");
		return;
	}
	r = aiops_interp_load(path, &segs, &n, &e);
	ok(r == AIOPS_OK, "machine-1-1 interpretation labels load: %s", r ? e.msg : "ok");
	if (r != AIOPS_OK)
		return;
	is_int(n, 8, "machine-1-1: 8 segments");
	ok(segs[0].start == 15849 && segs[0].end == 16368 && segs[0].ncols == 7 &&
	    segs[0].cols[0] == 0 && segs[0].cols[1] == 8 && segs[0].cols[6] == 14,
	    "first segment 15849-16368:1,9,10,12,13,14,15 as rows [15849, 16368), columns 0 8 .. 14");
	ok(segs[7].start == 27554 && segs[7].end == 27556, "last segment 27554-27556");
	{
		/* an interpreter that ranks exactly the truth columns first scores 1; one that
		 * ranks them last hits max(0, k - (d - g)) of g */
		size_t rows = 28479, d = 38;
		double *c = calloc(rows * d, sizeof(double)), hr, want = 0;
		for (size_t k = 0; k < n; k++)
			for (size_t i = segs[k].start; i < segs[k].end; i++)
				for (size_t j = 0; j < segs[k].ncols; j++)
					c[i * d + segs[k].cols[j]] = 1 + (double)(i % 3);
		r = aiops_hitrate(c, rows, d, segs, n, 100, &hr, &e);
		ok(r == AIOPS_OK && hr == 1, "truth-first contributions: HitRate@100%% = 1 (%s)",
		    r ? e.msg : "ok");
		for (size_t i = 0; i < rows * d; i++)
			c[i] = -c[i];
		{
			double pts = 0;
			/* the mean over anomalous rows: each segment weighs its length */
			for (size_t k = 0; k < n; k++) {
				size_t g = segs[k].ncols, top = g * 150 / 100;
				double len = (double)(segs[k].end - segs[k].start);
				if (top > d)
					top = d;
				want += len * (double)(top > d - g ? top - (d - g) : 0) / (double)g;
				pts += len;
			}
			want /= pts;
		}
		aiops_hitrate(c, rows, d, segs, n, 150, &hr, &e);
		is_double(hr, want, 1e-12, "truth-last contributions: HitRate@150%% = %g", want);
		free(c);
	}
	aiops_interp_free(segs, n);

	if (!python_has("sys")) {
		skip("no /usr/bin/python3");
		return;
	}
	{
		static const char *names[] = { "1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7", "1-8",
		    "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-7", "2-8", "2-9" };
		double ref[34], one = 0;
		int badf = 0, got = pyref(smd_script, &one, 1, 1, dir, ref, 34);
		if (!ok(got == 34, "python parsed the 17 SMD files"))
			return;
		for (int f = 0; f < 17; f++) {
			double s = 0;
			snprintf(path, sizeof(path), "%s/machine-%s.txt", dir, names[f]);
			if (aiops_interp_load(path, &segs, &n, &e) != AIOPS_OK) {
				badf++;
				diag("%s", e.msg);
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				s += 3.0 * (double)segs[k].start + 5.0 * (double)segs[k].end +
				    (double)segs[k].ncols;
				for (size_t j = 0; j < segs[k].ncols; j++)
					s += 7.0 * (double)segs[k].cols[j];
			}
			if ((double)n != ref[2 * f] || s != ref[2 * f + 1])
				badf++;
			aiops_interp_free(segs, n);
		}
		is_int(badf, 0, "all 17 SMD files: segment counts and a checksum of every field "
		    "equal Python's parse");
	}
}

/* ------------------------------------------------------------------ drift */

static const char *drift_script =
    "import sys\n"
    "import numpy as np\n"
    "from scipy import stats\n"
    "a = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "big = a[:, 0]; x = a[:, 1]; x = x[~np.isnan(x)]; q = a[:, 2]; q = q[~np.isnan(q)]\n"
    "lv = np.linspace(0, 1, q.size)\n"
    "edges = np.unique(np.interp(np.arange(1, 10) / 10, lv, q))\n"
    "e = np.maximum(np.diff(np.concatenate([[0], np.interp(edges, q, lv), [1]])), 1e-4)\n"
    "xs = np.sort(x)\n"
    "cnt = np.concatenate([[0], np.searchsorted(xs, edges, side='right'), [xs.size]])\n"
    "ac = np.maximum(np.diff(cnt) / xs.size, 1e-4)\n"
    "psi = np.sum((ac - e) * np.log(ac / e))\n"
    "F = np.interp(xs, q, lv); i = np.arange(1, xs.size + 1)\n"
    "dx = max(np.max(i / xs.size - F), np.max(F - (i - 1) / xs.size))\n"
    "print(repr(psi), repr(dx), repr(stats.ks_2samp(x, big).statistic))\n";

static const char *kol_script =
    "import sys\n"
    "import numpy as np\n"
    "from scipy import stats\n"
    "a = np.loadtxt(sys.argv[1], delimiter=',', ndmin=2)\n"
    "for ks, en in a:\n"
    "    print(repr(float(stats.kstwobign.sf(np.sqrt(en) * ks))))\n";

/* The CDF through 101 quantiles at a, c of them below (or at) a. */
static double
lin_cdf(const double *q, size_t c, double a)
{
	if (c == 0)
		return 0;
	if (c == 101)
		return 1;
	return ((double)(c - 1) + (a - q[c - 1]) / (q[c] - q[c - 1])) / 100;
}

static void
drift(struct aiops_rng *rng)
{
	struct aiops_drift d;
	struct aiops_error e;
	double q[101], x[1000];
	int r;

	/* x_i = i + 0.5: its deciles hold exactly 100 values each */
	for (int i = 0; i < 1000; i++)
		x[i] = i + 0.5;
	for (int k = 0; k <= 100; k++)
		q[k] = aiops_quantile(x, 1000, k / 100.0);
	r = aiops_drift(x, 1000, 1, q, 101, 1, 1000, &d, &e);
	ok(r == AIOPS_OK && d.n == 1000, "drift of the reference sample itself");
	diag("PSI %.3g (the deciles' proportions are 0.1 to rounding)", d.psi);
	is_double(d.psi, 0, 1e-15, "PSI = 0 for the sample the reference was made of");
	is_double(d.ks, 0.001, 1e-12, "KS = 1/n: the empirical CDF's step against the linear one");
	ok(d.ks_pvalue > 0.999999, "KS p-value ~ 1 (%g)", d.ks_pvalue);
	{
		/* strided: column 1 of a 3-column matrix, with NaNs left out */
		double m3[3 * 1002], q3[101 * 2];
		for (int i = 0; i < 1002; i++) {
			m3[i * 3] = -1;
			m3[i * 3 + 1] = i < 1000 ? x[i] : NAN;
			m3[i * 3 + 2] = 1e9;
		}
		for (int k = 0; k <= 100; k++) {
			q3[k * 2] = 0;
			q3[k * 2 + 1] = q[k];
		}
		r = aiops_drift(m3 + 1, 1002, 3, q3 + 1, 101, 2, 1000, &d, &e);
		ok(r == AIOPS_OK && d.n == 1000 && fabs(d.psi) < 1e-15 && fabs(d.ks - 0.001) < 1e-12,
		    "strides over a matrix column and its quantile column; NaN left out");
	}
	{
		/* a point mass: deciles 0.1..0.5 are all 0 and merge into one edge */
		double qm[101], s[10] = { -1, 0, 0, 0, 0, 5, 15, 25, 35, 45 }, want;
		for (int k = 0; k <= 100; k++)
			qm[k] = k <= 50 ? 0 : k - 50;
		r = aiops_drift(s, 10, 1, qm, 101, 1, 0, &d, &e);
		is_double(d.psi, 0, 1e-15, "merged edges: bins (-inf,0] (0,10] .. (40,inf) expect "
		    ".5 .1 .1 .1 .1 .1, and the sample matches");
		s[9] = 5;   /* now (0,10] holds 0.2 and (40,inf) 0 (floored at 1e-4) */
		aiops_drift(s, 10, 1, qm, 101, 1, 0, &d, &e);
		want = (0.2 - 0.1) * log(2) + (1e-4 - 0.1) * log(1e-4 / 0.1);
		is_double(d.psi, want, 1e-12, "... one value moved: PSI by hand %g", want);
		/* sorted -1 0 0 0 0 5 5 15 25 35: at 5, F_x = 0.7 and F_ref = 0.55 */
		is_double(d.ks, 0.15, 1e-12, "KS by hand: 0.7 - 0.55 at 5");
		for (int i = 0; i < 10; i++)
			s[i] = 0;
		aiops_drift(s, 10, 1, qm, 101, 1, 0, &d, &e);
		/* F_ref jumps from 0 to 0.5 at 0 while F_x jumps from 0 to 1 */
		is_double(d.ks, 0.5, 1e-15, "KS at the reference's jump: |1 - 0.5| at 0, not |1 - 0|");
	}

	{
		/* 5 quantiles of U(0, 40): the deciles 4, 8, .., 36 fall between them */
		double q5[5] = { 0, 10, 20, 30, 40 }, u[40];
		for (int i = 0; i < 40; i++)
			u[i] = i + 0.5;
		r = aiops_drift(u, 40, 1, q5, 5, 1, 0, &d, &e);
		ok(r == AIOPS_OK && fabs(d.psi) < 1e-15, "deciles interpolated between 5 quantiles: "
		    "each bin holds 4 of 40, PSI 0 (%g)", d.psi);
		is_double(d.ks, 0.5 / 40, 1e-15, "KS = half a step: (i + 1)/40 against (i + 0.5)/40");
		for (int i = 0; i < 10; i++)
			u[i] = 0.1 + 0.35 * i;
		aiops_drift(u, 10, 1, q5, 5, 1, 0, &d, &e);
		is_double(d.psi, 0.9 * log(10) + 9 * (1e-4 - 0.1) * log(1e-3), 1e-12,
		    "all of a sample below 4, the first decile: PSI by hand");
	}
	{
		/* a constant reference: one edge, the bin above it expects 0 (floored at 1e-4) */
		double qc[101], h[4] = { 4, 5, 6, 7 }, want;
		for (int k = 0; k <= 100; k++)
			qc[k] = 5;
		aiops_drift(h, 4, 1, qc, 101, 1, 0, &d, &e);
		want = (0.5 - 1) * log(0.5) + (0.5 - 1e-4) * log(0.5 / 1e-4);
		is_double(d.psi, want, 1e-12, "constant reference: PSI by hand %g", want);
		is_double(d.ks, 0.5, 1e-15, "... KS 0.5 (F_ref jumps 0 to 1 at 5, F_x is 0.5 there)");
	}

	if (!python_has("numpy, scipy")) {
		skip("/usr/bin/python3 lacks scipy");
	} else {
		enum { BIG = 200000, NX = 2000 };
		double *m = malloc(BIG * 3 * sizeof(double)), *big = malloc(BIG * sizeof(double));
		double qq[101], ref[3], kol[6 * 2], kp[6], pv[6];
		int got;
		for (int i = 0; i < BIG; i++)
			big[i] = aiops_rng_normal(rng);
		for (int k = 0; k <= 100; k++)
			qq[k] = aiops_quantile(big, BIG, k / 100.0);
		for (int i = 0; i < BIG; i++) {
			m[i * 3] = big[i];
			m[i * 3 + 1] = i < NX ? aiops_rng_normal(rng) * 1.2 + 0.3 : NAN;
			m[i * 3 + 2] = i <= 100 ? qq[i] : NAN;
		}
		r = aiops_drift(m + 1, NX, 3, qq, 101, 1, BIG, &d, &e);
		got = pyref(drift_script, m, BIG, 3, NULL, ref, 3);
		if (ok(r == AIOPS_OK && got == 3, "numpy and scipy references ran")) {
			is_double(d.psi, ref[0], 1e-12, "PSI = numpy's on the same decile bins (%g)",
			    ref[0]);
			is_double(d.ks, ref[1], 1e-12, "KS = numpy's sup over the sample against the "
			    "interpolated reference CDF");
			/*
			 * ks_2samp sees the 200000 values, we see their 101 quantiles. The two
			 * reference CDFs agree at every quantile to within 1/N and both rise by
			 * 0.01 between neighbours, so they differ by at most 0.01 + 1/N
			 * anywhere, and so do the two sup statistics.
			 */
			is_double(d.ks, ref[2], 0.01 + 1.0 / BIG,
			    "KS within 0.01 + 1/N of scipy's ks_2samp against all %d values (%g vs %g)",
			    BIG, d.ks, ref[2]);
			ok(d.ks > 0.1, "the shifted sample's KS is far from 0 (%g)", d.ks);
		}
		/* the p-value over a range of statistics: both branches of the series */
		for (int t = 0; t < 6; t++) {
			size_t nx = t < 3 ? 30 : 300;
			double sh = t % 3 == 0 ? 0 : t % 3 == 1 ? 0.3 : 1;
			for (size_t i = 0; i < nx; i++)
				x[i] = aiops_rng_normal(rng) + sh;
			aiops_drift(x, nx, 1, qq, 101, 1, t == 3 ? 0 : BIG, &d, &e);
			kol[t * 2] = d.ks;
			kol[t * 2 + 1] = t == 3 ? (double)nx : (double)nx * BIG / ((double)nx + BIG);
			pv[t] = d.ks_pvalue;
		}
		if (ok(pyref(kol_script, kol, 6, 2, NULL, kp, 6) == 6, "scipy kstwobign ran")) {
			int badp = 0;
			for (int t = 0; t < 6; t++)
				if (!(fabs(pv[t] - kp[t]) <= 1e-9 * kp[t])) {
					badp++;
					diag("ks %g en %g: p %.17g, scipy %.17g", kol[t * 2],
					    kol[t * 2 + 1], pv[t], kp[t]);
				}
			is_int(badp, 0, "6 p-values from 1 down to %.2g equal "
			    "scipy.stats.kstwobign.sf(sqrt(en) * D) to 1e-9 relative "
			    "(en = n m / (n + m); ref_n 0: en = n)", kp[5]);
		}
		free(m);
		free(big);
	}
	{
		double qb[3] = { 0, 2, 1 }, xn[2] = { NAN, NAN };
		is_int(aiops_drift(x, 5, 1, q, 1, 1, 0, &d, &e), AIOPS_ERR_DATA, "one quantile: "
		    "AIOPS_ERR_DATA (%s)", e.msg);
		is_int(aiops_drift(x, 5, 1, qb, 3, 1, 0, &d, &e), AIOPS_ERR_DATA,
		    "decreasing quantiles: AIOPS_ERR_DATA (%s)", e.msg);
		is_int(aiops_drift(xn, 2, 1, q, 101, 1, 0, &d, &e), AIOPS_ERR_DATA,
		    "no values: AIOPS_ERR_DATA (%s)", e.msg);
		ok(isnan(d.psi) && isnan(d.ks), "... PSI and KS NaN");
		is_int(aiops_drift(x, 5, 0, q, 101, 1, 0, &d, &e), AIOPS_ERR_USAGE, "stride 0: USAGE");
	}
	{
		/* the sort and the walk on a large sample with many ties, against brute force */
		size_t nn = 300000, c;
		double *v = malloc(nn * sizeof(double)), *w = malloc(nn * sizeof(double)), qs[101];
		double want = 0;
		for (size_t i = 0; i < nn; i++)
			v[i] = i % 2 ? (double)(i % 1000) : (double)(nn - i) / 7;
		for (int k = 0; k <= 100; k++)
			qs[k] = aiops_quantile(v, nn, k / 100.0) + (k % 10 == 0 ? 0.25 : 0);
		memcpy(w, v, nn * sizeof(double));
		qsort(w, nn, sizeof(double), cmp_double);
		for (size_t i = 0, j; i < nn; i = j) {
			double a = w[i], fr, fl;
			for (j = i; j < nn && w[j] == a; j++)
				;
			for (c = 0; c < 101 && qs[c] <= a; c++)
				;
			fr = lin_cdf(qs, c, a);
			for (c = 0; c < 101 && qs[c] < a; c++)
				;
			fl = lin_cdf(qs, c, a);
			want = fmax(want, fmax(fabs((double)j / nn - fr), fabs((double)i / nn - fl)));
		}
		r = aiops_drift(v, nn, 1, qs, 101, 1, nn, &d, &e);
		ok(r == AIOPS_OK, "300000 values, half of them ties, in an adversarial order");
		is_double(d.ks, want, 1e-12, "... KS equals brute force over qsort (%g)", want);
		free(v);
		free(w);
	}
}

int
main(void)
{
	struct aiops_rng rng;
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/aiops-evm-XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	mainpid = getpid();
	atexit(cleanup);
	torture();
	aiops_rng_seed(&rng, 20240611);
	decide();
	point_vs_sklearn(&rng);
	adjust_and_events(&rng);
	forecast(&rng);
	nab(&rng);
	hitrate(&rng);
	interp_files();
	smd();
	drift(&rng);
	return done_testing();
}
