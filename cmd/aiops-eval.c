/* aiops-eval - score, measure, gate, check drift (see aiops-eval(1)). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "aiops.h"
#include "cmd.h"
#include "linalg.h"
#include "plot.h"

static const char usage_text[] =
"usage: aiops-eval [-hjq] [-o scores] [-O format] [--baseline model | report]\n"
"                  [--compare metrics] [--impute] [--interpretation file]\n"
"                  [--junit file] [--labels file] [--margin m]\n"
"                  [--metrics-report file] [--plot file] [--probation fraction]\n"
"                  [--report file] [--require checks] [--season m]\n"
"                  [--threshold t] [--top k] model [tensor]\n"
"       aiops-eval --drift [-jq] [--junit file] [--metrics-report file]\n"
"                  [--report file] [--require checks] model [tensor]\n"
"       aiops-eval --stream [-O format] [--impute] [--threshold t] model\n";

enum {
	O_BASELINE = 256, O_COMPARE, O_IMPUTE, O_INTERP, O_JUNIT, O_LABELS, O_MARGIN, O_MREPORT,
	O_PLOT, O_PROBATION, O_REPORT, O_REQUIRE, O_SEASON, O_TOP, O_DRIFT, O_STREAM, O_HELP,
	O_THRESHOLD
};

static const struct option longopts[] = {
	{ "baseline", required_argument, NULL, O_BASELINE },
	{ "compare", required_argument, NULL, O_COMPARE },
	{ "drift", no_argument, NULL, O_DRIFT },
	{ "help", no_argument, NULL, O_HELP },
	{ "impute", no_argument, NULL, O_IMPUTE },
	{ "interpretation", required_argument, NULL, O_INTERP },
	{ "json", no_argument, NULL, 'j' },
	{ "junit", required_argument, NULL, O_JUNIT },
	{ "labels", required_argument, NULL, O_LABELS },
	{ "margin", required_argument, NULL, O_MARGIN },
	{ "metrics-report", required_argument, NULL, O_MREPORT },
	{ "plot", required_argument, NULL, O_PLOT },
	{ "probation", required_argument, NULL, O_PROBATION },
	{ "report", required_argument, NULL, O_REPORT },
	{ "require", required_argument, NULL, O_REQUIRE },
	{ "season", required_argument, NULL, O_SEASON },
	{ "stream", no_argument, NULL, O_STREAM },
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	{ "top", required_argument, NULL, O_TOP },
	{ NULL, 0, NULL, 0 }
};

/* ---- the metrics ----------------------------------------------------------- */

/* How a metric compares: higher is better, lower is better, or neither. */
enum { UP = 1, DOWN = -1, NONE = 0 };

enum {
	M_ROWS, M_ANOMALIES, M_RATE,
	M_PRECISION, M_RECALL, M_F1, M_TP, M_FP, M_FN, M_TN,
	M_BEST_F1, M_BEST_THR, M_BEST_P, M_BEST_R, M_AUC_ROC, M_AUC_PR,
	M_PA_P, M_PA_R, M_PA_F1,
	M_EV_P, M_EV_R, M_EV_F1, M_DELAY, M_EVENTS, M_EVENTS_DET,
	M_NAB_STD, M_NAB_FP, M_NAB_FN,
	M_MAE, M_RMSE, M_SMAPE, M_MASE,
	M_HIT100, M_HIT150,
	M_PSI, M_KS, M_DRIFTED,
	M_COUNT
};

static const struct {
	const char *name;
	int dir;
	int count;          /* a whole count: an integer in JSON */
} metric_def[M_COUNT] = {
	{ "rows", NONE, 1 },
	{ "anomalies", NONE, 1 },
	{ "anomaly_rate", NONE, 0 },
	{ "precision", UP, 0 },
	{ "recall", UP, 0 },
	{ "f1", UP, 0 },
	{ "tp", UP, 1 },
	{ "fp", DOWN, 1 },
	{ "fn", DOWN, 1 },
	{ "tn", UP, 1 },
	{ "best_f1", UP, 0 },
	{ "best_threshold", NONE, 0 },
	{ "best_precision", UP, 0 },
	{ "best_recall", UP, 0 },
	{ "auc_roc", UP, 0 },
	{ "auc_pr", UP, 0 },
	{ "pa_precision", UP, 0 },
	{ "pa_recall", UP, 0 },
	{ "pa_f1", UP, 0 },
	{ "event_precision", UP, 0 },
	{ "event_recall", UP, 0 },
	{ "event_f1", UP, 0 },
	{ "mean_delay", DOWN, 0 },
	{ "events", NONE, 1 },
	{ "events_detected", UP, 1 },
	{ "nab_standard", UP, 0 },
	{ "nab_low_fp", UP, 0 },
	{ "nab_low_fn", UP, 0 },
	{ "mae", DOWN, 0 },
	{ "rmse", DOWN, 0 },
	{ "smape", DOWN, 0 },
	{ "mase", DOWN, 0 },
	{ "hitrate_100", UP, 0 },
	{ "hitrate_150", UP, 0 },
	{ "psi_max", DOWN, 0 },
	{ "ks_max", DOWN, 0 },
	{ "drifted_columns", DOWN, 1 },
};

struct metrics {
	double v[M_COUNT];
	unsigned char set[M_COUNT];
	struct aiops_nab nab[3];
	int has_nab;
};

static void
put(struct metrics *mt, int k, double v)
{
	mt->v[k] = v;
	mt->set[k] = 1;
}

static int
metric_find(const char *name, size_t len)
{
	for (int k = 0; k < M_COUNT; k++)
		if (strlen(metric_def[k].name) == len && strncmp(metric_def[k].name, name, len) == 0)
			return k;
	return -1;
}

/* ---- options and state ----------------------------------------------------- */

enum { OP_GE, OP_GT, OP_LE, OP_LT, OP_EQ };
static const char *const op_text[] = { ">=", ">", "<=", "<", "==" };

struct check {
	char text[128];       /* as shown: "f1>=0.6", "auc_pr >= baseline - 0.01" */
	int metric, op;
	double bound;
	int from_baseline;
	double value;
	int avail, passed;
};

struct opts {
	const char *model_path, *tensor_path, *scores_path, *format;
	const char *baseline, *compare, *interp, *junit, *labels, *mreport, *plot, *report;
	const char *require;
	double margin, probation, threshold;
	int has_threshold;
	long season, top;
	int json, quiet, impute, drift, stream;
};

struct checks {
	struct check *c;
	size_t n;
};

struct segment {
	size_t start, end;
	size_t *top;
	double *share;
	size_t ntop;
};

/* Everything one evaluation of one model on the data produces. */
struct result {
	struct metrics mt;
	double *score;
	unsigned char *pred;
	struct segment *seg;
	size_t nseg, segcap, nseg_total;
	json_t *drift;        /* per-column drift, or NULL */
};

#define SEG_LISTED 1000
#define CHUNK 65536

/*
 * Parse "f1>=0.6,auc_pr>=0.4" into checks. A bad expression or an unknown
 * metric name is a usage error (the message names the place).
 */
static int
parse_require(const char *s, struct checks *cs, struct aiops_error *e)
{
	const char *p = s;

	while (*p) {
		const char *q = p, *end;
		struct check c;
		size_t nl;
		int op = -1, k;

		memset(&c, 0, sizeof(c));
		while (*p == ' ')
			p++;
		q = p;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')
			q++;
		nl = (size_t)(q - p);
		if (nl == 0)
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--require: column %d: expected a metric name in \"%s\"",
			    (int)(p - s) + 1, s);
		if ((k = metric_find(p, nl)) < 0)
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--require: unknown metric \"%.*s\" (see aiops-eval(1), METRICS)",
			    (int)nl, p);
		while (*q == ' ')
			q++;
		for (int o = 0; o < 5; o++) {
			size_t ol = strlen(op_text[o]);
			if (strncmp(q, op_text[o], ol) == 0 && (op < 0 || ol > strlen(op_text[op])))
				op = o;
		}
		if (op < 0)
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--require: column %d: expected >=, >, <=, < or == after \"%.*s\"",
			    (int)(q - s) + 1, (int)nl, p);
		q += strlen(op_text[op]);
		end = q;
		while (*end && *end != ',')
			end++;
		if (aiops_parse_double(q, (size_t)(end - q), &c.bound) != 0 || !isfinite(c.bound))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--require: column %d: expected a number, got \"%.*s\"",
			    (int)(q - s) + 1, (int)(end - q), q);
		c.metric = k;
		c.op = op;
		snprintf(c.text, sizeof(c.text), "%s%s%.*s", metric_def[k].name, op_text[op],
		    (int)(end - q), q);
		{
			struct check *nc = aiops_reallocarray(cs->c, cs->n + 1, sizeof(*nc));
			if (nc == NULL)
				return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			cs->c = nc;
			cs->c[cs->n++] = c;
		}
		p = *end ? end + 1 : end;
	}
	if (cs->n == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "--require: no checks in \"%s\"", s);
	return AIOPS_OK;
}

static int
add_check(struct checks *cs, const struct check *c)
{
	struct check *nc = aiops_reallocarray(cs->c, cs->n + 1, sizeof(*nc));

	if (nc == NULL)
		return AIOPS_ERR_NOMEM;
	cs->c = nc;
	cs->c[cs->n++] = *c;
	return AIOPS_OK;
}

static int
compare(double v, int op, double b)
{
	switch (op) {
	case OP_GE: return v >= b;
	case OP_GT: return v > b;
	case OP_LE: return v <= b;
	case OP_LT: return v < b;
	default: return v == b;
	}
}

/* ---- data ------------------------------------------------------------------ */

/*
 * The tensor's values in the model's column order, n x d: the tensor's own
 * matrix when the columns are the same, else a copy (*owned set). A model
 * column the tensor lacks is an AIOPS_ERR_DATA error naming it; extra
 * tensor columns are left out.
 */
static int
model_matrix(const struct aiops_model *m, const struct aiops_tensor *t, const char *tname,
    double **xp, int *owned, struct aiops_error *e)
{
	size_t d = m->ncols, n = t->nrows, *idx, same = t->info.ncols == d;
	double *x;

	*owned = 0;
	if ((idx = aiops_calloc(d ? d : 1, sizeof(size_t))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (size_t j = 0; j < d; j++) {
		long k = aiops_tinfo_find(&t->info, m->names[j]);
		if (k < 0) {
			aiops_free(idx);
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "%s: no column \"%s\", which the model was trained on (the model has %zu "
			    "columns, the tensor %zu)", tname, m->names[j], d, t->info.ncols);
		}
		idx[j] = (size_t)k;
		same &= idx[j] == j;
	}
	if (same) {
		aiops_free(idx);
		*xp = t->x;
		return AIOPS_OK;
	}
	if ((x = aiops_calloc(n * d != 0 ? n * d : 1, sizeof(double))) == NULL) {
		aiops_free(idx);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = t->x[i * t->info.ncols + idx[j]];
	aiops_free(idx);
	*xp = x;
	*owned = 1;
	return AIOPS_OK;
}

/* A labels file: one 0 or 1 a line, as many lines as rows. */
static int
load_labels(const char *path, size_t n, unsigned char **yp, struct aiops_error *e)
{
	FILE *f = fopen(path, "r");
	unsigned char *y;
	char *line = NULL;
	size_t cap = 0, k = 0;
	ssize_t len;

	if (f == NULL)
		return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: %s", path, strerror(errno));
	if ((y = aiops_calloc(n ? n : 1, 1)) == NULL) {
		fclose(f);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		double v;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (aiops_parse_double(line, (size_t)len, &v) != 0 || (v != 0 && v != 1)) {
			aiops_error_set(e, AIOPS_ERR_DATA, "%s:%zu:1: expected 0 or 1, got \"%.40s\"",
			    path, k + 1, line);
			goto fail;
		}
		if (k < n)
			y[k] = v == 1;
		k++;
	}
	if (ferror(f)) {
		aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (k != n) {
		aiops_error_set(e, AIOPS_ERR_DATA, "%s: %zu labels for %zu rows", path, k, n);
		goto fail;
	}
	free(line);
	fclose(f);
	*yp = y;
	return AIOPS_OK;
fail:
	free(line);
	fclose(f);
	aiops_free(y);
	return e->code;
}

/* ---- one evaluation ---------------------------------------------------------- */

struct data {
	const struct aiops_tensor *t;
	const char *name;
	double *x;                    /* n x d in the model's column order */
	size_t n;
	const unsigned char *y;       /* labels or NULL */
	size_t npos;
	struct aiops_interp *interp;
	size_t ninterp;
};

static void
result_release(struct result *r)
{
	for (size_t i = 0; i < r->nseg; i++) {
		aiops_free(r->seg[i].top);
		aiops_free(r->seg[i].share);
	}
	aiops_free(r->seg);
	aiops_free(r->score);
	aiops_free(r->pred);
	json_decref(r->drift);
	memset(r, 0, sizeof(*r));
}

/* Close a detected segment [start, end) whose column sums are acc[0..d). */
static int
segment_close(struct result *r, size_t start, size_t end, const double *acc, size_t d,
    size_t top)
{
	struct segment *s;
	size_t k = top < d ? top : d, *idx;
	double tot = 0;

	r->nseg_total++;
	if (r->nseg >= SEG_LISTED)
		return AIOPS_OK;
	if (r->nseg == r->segcap) {
		size_t nc = r->segcap ? 2 * r->segcap : 16;
		struct segment *ns = aiops_reallocarray(r->seg, nc, sizeof(*ns));
		if (ns == NULL)
			return AIOPS_ERR_NOMEM;
		r->seg = ns;
		r->segcap = nc;
	}
	s = &r->seg[r->nseg];
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->end = end;
	r->nseg++;
	if (k == 0)
		return AIOPS_OK;
	s->top = idx = aiops_calloc(k, sizeof(size_t));
	s->share = aiops_calloc(k, sizeof(double));
	if (idx == NULL || s->share == NULL)
		return AIOPS_ERR_NOMEM;
	aiops_top_columns(acc, 1, d, 0, 1, k, idx);
	for (size_t j = 0; j < d; j++)
		tot += isfinite(acc[j]) && acc[j] > 0 ? acc[j] : 0;
	for (size_t i = 0; i < k; i++)
		s->share[i] = tot > 0 && isfinite(acc[idx[i]]) ? acc[idx[i]] / tot : 0;
	s->ntop = k;
	return AIOPS_OK;
}

/*
 * Score the data with m and measure: fills r. fc_pred (n x d) receives the
 * forecasts of a forecaster when not NULL.
 */
static int
evaluate(struct aiops_model *m, const struct data *D, const struct opts *o, struct result *r,
    double *fc_pred, struct aiops_error *e)
{
	struct aiops_scorer sc;
	size_t n = D->n, d = m->ncols, nanom = 0, run_start = 0;
	int forecaster = strcmp(m->family->kind, "forecaster") == 0;
	int want_contrib = o->top > 0 || D->interp != NULL;
	double *cbuf = NULL, *acc = NULL, *full = NULL, *own_pred = NULL;
	int in_run = 0, rc;

	memset(r, 0, sizeof(*r));
	if ((rc = aiops_scorer_init(&sc, m, o->impute, e)) != AIOPS_OK)
		return rc;
	r->score = aiops_calloc(n ? n : 1, sizeof(double));
	r->pred = aiops_calloc(n ? n : 1, 1);
	if (want_contrib) {
		cbuf = aiops_calloc((size_t)CHUNK * (d ? d : 1), sizeof(double));
		acc = aiops_calloc(d ? d : 1, sizeof(double));
		if (D->interp)
			full = aiops_calloc(n * d != 0 ? n * d : 1, sizeof(double));
	}
	if (forecaster && fc_pred == NULL)
		fc_pred = own_pred = aiops_calloc(n * d != 0 ? n * d : 1, sizeof(double));
	if (!r->score || !r->pred || (want_contrib && (!cbuf || !acc || (D->interp && !full))) ||
	    (forecaster && !fc_pred)) {
		rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
		size_t nb = n - i0 < CHUNK ? n - i0 : CHUNK;

		rc = aiops_scorer_run(&sc, D->x + i0 * d, nb, r->score + i0, cbuf,
		    forecaster ? fc_pred + i0 * d : NULL, i0, e);
		if (rc != AIOPS_OK) {
			aiops_error_prefix(e, "%s", D->name);
			goto out;
		}
		aiops_decide(r->score + i0, nb, m->threshold, r->pred + i0);
		if (full)
			memcpy(full + i0 * d, cbuf, nb * d * sizeof(double));
		for (size_t i = 0; i < nb; i++) {
			size_t g = i0 + i;

			nanom += r->pred[g];
			if (!want_contrib || o->top <= 0)
				continue;
			if (r->pred[g]) {
				if (!in_run) {
					in_run = 1;
					run_start = g;
					memset(acc, 0, d * sizeof(double));
				}
				for (size_t j = 0; j < d; j++)
					if (isfinite(cbuf[i * d + j]))
						acc[j] += cbuf[i * d + j];
			} else if (in_run) {
				in_run = 0;
				if (segment_close(r, run_start, g, acc, d, (size_t)o->top) != AIOPS_OK) {
					rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
					goto out;
				}
			}
		}
	}
	if (in_run && segment_close(r, run_start, n, acc, d, (size_t)o->top) != AIOPS_OK) {
		rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!want_contrib || o->top <= 0) {
		/* the segments without hints */
		for (size_t i = 0; i < n; i++) {
			size_t j = i;
			if (!r->pred[i])
				continue;
			while (j < n && r->pred[j])
				j++;
			if (segment_close(r, i, j, NULL, d, 0) != AIOPS_OK) {
				rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto out;
			}
			i = j;
		}
	}

	put(&r->mt, M_ROWS, (double)n);
	put(&r->mt, M_ANOMALIES, (double)nanom);
	put(&r->mt, M_RATE, n ? (double)nanom / (double)n : 0);
	if (D->y) {
		struct aiops_point pt;
		struct aiops_events ev;
		unsigned char *adj = aiops_malloc(n ? n : 1);

		if (adj == NULL) {
			rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto out;
		}
		aiops_point_metrics(D->y, r->pred, n, &pt);
		put(&r->mt, M_PRECISION, pt.precision);
		put(&r->mt, M_RECALL, pt.recall);
		put(&r->mt, M_F1, pt.f1);
		put(&r->mt, M_TP, (double)pt.tp);
		put(&r->mt, M_FP, (double)pt.fp);
		put(&r->mt, M_FN, (double)pt.fn);
		put(&r->mt, M_TN, (double)pt.tn);
		aiops_point_adjust(D->y, r->pred, n, adj);
		aiops_point_metrics(D->y, adj, n, &pt);
		aiops_free(adj);
		put(&r->mt, M_PA_P, pt.precision);
		put(&r->mt, M_PA_R, pt.recall);
		put(&r->mt, M_PA_F1, pt.f1);
		aiops_event_metrics(D->y, r->pred, n, &ev);
		put(&r->mt, M_EV_P, ev.precision);
		put(&r->mt, M_EV_R, ev.recall);
		put(&r->mt, M_EV_F1, ev.f1);
		if (!isnan(ev.mean_delay))
			put(&r->mt, M_DELAY, ev.mean_delay);
		put(&r->mt, M_EVENTS, (double)ev.nlabel);
		put(&r->mt, M_EVENTS_DET, (double)ev.ndetected);
		if (D->npos > 0 && D->npos < n) {
			struct aiops_rank rk;
			struct aiops_error e2;
			/* no usable score (all NaN) leaves them unset; no memory is an error */
			int rr = aiops_rank_metrics(r->score, D->y, n, &rk, &e2);
			if (rr == AIOPS_ERR_NOMEM) {
				rc = aiops_error_set(e, rr, "out of memory");
				goto out;
			}
			if (rr == AIOPS_OK) {
				put(&r->mt, M_BEST_F1, rk.best_f1);
				put(&r->mt, M_BEST_THR, rk.best_thr);
				put(&r->mt, M_BEST_P, rk.best_prec);
				put(&r->mt, M_BEST_R, rk.best_rec);
				put(&r->mt, M_AUC_ROC, rk.auc_roc);
				put(&r->mt, M_AUC_PR, rk.auc_pr);
			}
		}
		for (int p = 0; p < 3; p++) {
			rc = aiops_nab_score(D->y, r->pred, n, o->probation, &aiops_nab_profiles[p],
			    &r->mt.nab[p], e);
			if (rc != AIOPS_OK)
				goto out;
			put(&r->mt, M_NAB_STD + p, aiops_nab_normalize(&r->mt.nab[p]));
		}
		r->mt.has_nab = 1;
	}
	if (forecaster) {
		struct aiops_fcerr fe;
		struct aiops_error e2;
		long season = o->season;

		if (season <= 0)
			season = strcmp(m->family->name, "holtwinters") == 0 ?
			    (long)aiops_param(&m->params, "period", 1) : 1;
		if (aiops_forecast_errors(D->x, fc_pred, n, d, (size_t)season, &fe, &e2) ==
		    AIOPS_OK) {
			put(&r->mt, M_MAE, fe.mae);
			put(&r->mt, M_RMSE, fe.rmse);
			put(&r->mt, M_SMAPE, fe.smape);
			if (!isnan(fe.mase))
				put(&r->mt, M_MASE, fe.mase);
		}
	}
	if (D->interp) {
		double h;
		if ((rc = aiops_hitrate(full, n, d, D->interp, D->ninterp, 100, &h, e)) != AIOPS_OK)
			goto out;
		put(&r->mt, M_HIT100, h);
		if ((rc = aiops_hitrate(full, n, d, D->interp, D->ninterp, 150, &h, e)) != AIOPS_OK)
			goto out;
		put(&r->mt, M_HIT150, h);
	}
	rc = AIOPS_OK;
out:
	aiops_scorer_release(&sc);
	aiops_free(cbuf);
	aiops_free(acc);
	aiops_free(full);
	aiops_free(own_pred);
	return rc;
}

/* ---- drift ---------------------------------------------------------------- */

#define PSI_BOUND 0.25
#define KS_BOUND 0.2

static int
drift(const struct aiops_model *m, const struct data *D, struct result *r,
    struct aiops_error *e)
{
	const struct aiops_array *q = aiops_model_get(m, "ref_quantiles");
	json_t *train = json_object_get(m->meta, "train");
	json_t *rr = json_object_get(train, "ref_rows"), *rows = json_object_get(train, "rows");
	size_t d = m->ncols, ref_n = 0, ndrift = 0;
	double psi_max = 0, ks_max = 0;
	json_t *cols;

	if (q == NULL || q->rows < 2 || q->cols != d)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: the model holds no training reference (ref_quantiles) to compare with",
		    "--drift");
	/* the quantiles' sample size; models before "ref_rows" give their row count */
	if (json_is_integer(rr) && json_integer_value(rr) > 0)
		ref_n = (size_t)json_integer_value(rr);
	else if (json_is_integer(rows) && json_integer_value(rows) > 0)
		ref_n = aiops_ref_sample_rows((size_t)json_integer_value(rows));
	if ((cols = r->drift = json_array()) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (size_t j = 0; j < d; j++) {
		struct aiops_drift dr;
		int rc = aiops_drift(D->x + j, D->n, d, q->v + j, q->rows, d, ref_n, &dr, e);
		json_t *c;

		if (rc != AIOPS_OK)
			return aiops_error_prefix(e, "%s: column \"%s\"", D->name, m->names[j]);
		c = json_pack("{s:s,s:f,s:f,s:f,s:I}", "name", m->names[j], "psi", dr.psi, "ks",
		    dr.ks, "ks_pvalue", dr.ks_pvalue, "n", (json_int_t)dr.n);
		if (c == NULL || json_array_append_new(cols, c))
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		if (dr.psi > psi_max)
			psi_max = dr.psi;
		if (dr.ks > ks_max)
			ks_max = dr.ks;
		ndrift += dr.psi > PSI_BOUND || dr.ks > KS_BOUND;
	}
	put(&r->mt, M_ROWS, (double)D->n);
	put(&r->mt, M_PSI, psi_max);
	put(&r->mt, M_KS, ks_max);
	put(&r->mt, M_DRIFTED, (double)ndrift);
	return AIOPS_OK;
}

/* ---- the baseline --------------------------------------------------------- */

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/*
 * The baseline's metrics: from an aiops-eval JSON report (which must be of
 * the same data), or by evaluating another model on the same data.
 */
static int
baseline_metrics(const struct opts *o, const struct data *D, const char *data_sha,
    struct metrics *bm, struct aiops_error *e)
{
	FILE *f;
	unsigned char magic[8] = { 0 };
	size_t got;

	memset(bm, 0, sizeof(*bm));
	if ((f = fopen(o->baseline, "rb")) == NULL)
		return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: %s", o->baseline, strerror(errno));
	got = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	if (got == sizeof(magic) && memcmp(magic, AIOPS_MODEL_MAGIC, 8) == 0) {
		struct aiops_model bmod;
		struct result br;
		int rc;

		if ((rc = aiops_model_load(&bmod, o->baseline, e)) != AIOPS_OK)
			return rc;
		{
			/* the baseline may have other columns: its own matrix */
			struct data BD = *D;
			int owned;
			struct opts bo = *o;

			if ((rc = model_matrix(&bmod, D->t, D->name, &BD.x, &owned, e)) != AIOPS_OK) {
				aiops_error_prefix(e, "--baseline %s", o->baseline);
				aiops_model_release(&bmod);
				return rc;
			}
			bo.top = 0;
			rc = evaluate(&bmod, &BD, &bo, &br, NULL, e);
			if (owned)
				aiops_free(BD.x);
		}
		aiops_model_release(&bmod);
		if (rc != AIOPS_OK)
			return aiops_error_prefix(e, "--baseline %s", o->baseline);
		*bm = br.mt;
		result_release(&br);
		return AIOPS_OK;
	}
	{
		json_error_t je;
		unsigned long nfail = aiops_alloc_failures();
		json_t *rep = json_load_file(o->baseline, 0, &je), *mo, *sha;
		const char *k;
		json_t *v;

		if (rep == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
			return AIOPS_ERR_NOMEM;
		if (rep == NULL)
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "--baseline %s:%d:%d: neither a model nor a JSON report: %s", o->baseline,
			    je.line, je.column, je.text);
		mo = json_object_get(rep, "metrics");
		if (!json_is_object(mo)) {
			json_decref(rep);
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "--baseline %s: no \"metrics\" object (not an aiops-eval report?)",
			    o->baseline);
		}
		sha = json_object_get(json_object_get(rep, "data"), "sha256");
		if (json_is_string(sha) && data_sha && strcmp(json_string_value(sha), data_sha)) {
			aiops_error_set(e, AIOPS_ERR_DATA,
			    "--baseline %s: the report is of other data (sha256 %.12s..., this data "
			    "%.12s...): a baseline must be measured on the same data", o->baseline,
			    json_string_value(sha), data_sha);
			json_decref(rep);
			return e->code;
		}
		json_object_foreach(mo, k, v) {
			int mk = metric_find(k, strlen(k));
			if (mk >= 0 && json_is_number(v))
				put(bm, mk, json_number_value(v));
		}
		json_decref(rep);
	}
	return AIOPS_OK;
}

/* ---- reports -------------------------------------------------------------- */

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
metrics_json(const struct metrics *mt)
{
	json_t *o = json_object();

	for (int k = 0; o && k < M_COUNT; k++) {
		if (!mt->set[k])
			continue;
		if (metric_def[k].count && fabs(mt->v[k]) < 9e15)
			json_object_set_new(o, metric_def[k].name, json_integer((json_int_t)mt->v[k]));
		else
			json_object_set_new(o, metric_def[k].name, num(mt->v[k]));
	}
	return o;
}

struct run {
	struct opts *o;
	struct aiops_model *m;
	struct data *D;
	struct result *r;
	struct metrics *base;   /* or NULL */
	struct checks *cs;
	const char *data_sha;
	int passed;
};

static json_t *
report_json(const struct run *R)
{
	const struct aiops_model *m = R->m;
	json_t *rep, *mo, *da, *g, *arr;
	char params[512], ts[40];
	json_t *thm = json_object_get(json_object_get(m->meta, "threshold"), "method");
	json_t *trs = json_object_get(json_object_get(m->meta, "train"), "sha256");

	aiops_params_format(&m->params, params, sizeof(params));
	rep = json_object();
	mo = json_pack("{s:s,s:s,s:s,s:s,s:o}", "path", R->o->model_path, "family",
	    m->family->name, "kind", m->family->kind, "params", params, "threshold",
	    num(m->threshold));
	if (mo && json_is_string(thm))
		json_object_set(mo, "threshold_method", thm);
	if (mo && json_is_string(trs))
		json_object_set(mo, "train_sha256", trs);
	da = json_pack("{s:s,s:I,s:I,s:b}", "path", R->D->name, "rows", (json_int_t)R->D->n,
	    "columns", (json_int_t)m->ncols, "labelled", R->D->y != NULL);
	if (da && R->D->y)
		json_object_set_new(da, "positives", json_integer((json_int_t)R->D->npos));
	if (da && R->data_sha)
		json_object_set_new(da, "sha256", json_string(R->data_sha));
	if (da && R->D->t->info.has_ts && R->D->n) {
		aiops_format_time(R->D->t->ts[0], ts, sizeof(ts));
		json_object_set_new(da, "start", json_string(ts));
		aiops_format_time(R->D->t->ts[R->D->n - 1], ts, sizeof(ts));
		json_object_set_new(da, "end", json_string(ts));
	}
	if (!rep || !mo || !da) {
		json_decref(rep);
		json_decref(mo);
		json_decref(da);
		return NULL;
	}
	json_object_set_new(rep, "aiops_eval", json_integer(1));
	json_object_set_new(rep, "tool", json_string("aiops-eval " AIOPS_VERSION));
	json_object_set_new(rep, "mode", json_string(R->o->drift ? "drift" : "eval"));
	json_object_set_new(rep, "model", mo);
	json_object_set_new(rep, "data", da);
	json_object_set_new(rep, "metrics", metrics_json(&R->r->mt));
	if (R->r->mt.has_nab) {
		json_t *nab = json_object();
		for (int p = 0; nab && p < 3; p++)
			json_object_set_new(nab, aiops_nab_profiles[p].name,
			    json_pack("{s:f,s:f,s:f,s:o}", "raw", R->r->mt.nab[p].raw, "null",
			    R->r->mt.nab[p].null, "perfect", R->r->mt.nab[p].perfect, "score",
			    num(aiops_nab_normalize(&R->r->mt.nab[p]))));
		json_object_set_new(rep, "nab", nab);
	}
	if (!R->o->drift) {
		json_t *segs = json_object(), *list = json_array();
		for (size_t i = 0; list && i < R->r->nseg; i++) {
			const struct segment *s = &R->r->seg[i];
			json_t *so = json_pack("{s:I,s:I}", "start", (json_int_t)s->start, "end",
			    (json_int_t)s->end), *top = json_array();
			if (!so || !top) {
				json_decref(so);
				json_decref(top);
				continue;
			}
			if (R->D->t->info.has_ts) {
				aiops_format_time(R->D->t->ts[s->start], ts, sizeof(ts));
				json_object_set_new(so, "start_time", json_string(ts));
			}
			for (size_t k = 0; k < s->ntop; k++)
				json_array_append_new(top, json_pack("{s:s,s:f}", "column",
				    m->names[s->top[k]], "share", s->share[k]));
			json_object_set_new(so, "top", top);
			json_array_append_new(list, so);
		}
		json_object_set_new(segs, "total", json_integer((json_int_t)R->r->nseg_total));
		json_object_set_new(segs, "listed", list);
		json_object_set_new(rep, "segments", segs);
	}
	if (R->r->drift)
		json_object_set_new(rep, "drift", json_pack("{s:f,s:f,s:O}", "psi_bound", PSI_BOUND,
		    "ks_bound", KS_BOUND, "columns", R->r->drift));
	if (R->base) {
		json_object_set_new(rep, "baseline", json_pack("{s:s,s:f,s:o}", "source",
		    R->o->baseline, "margin", R->o->margin, "metrics", metrics_json(R->base)));
	}
	g = json_object();
	arr = json_array();
	for (size_t i = 0; g && arr && i < R->cs->n; i++) {
		const struct check *c = &R->cs->c[i];
		json_t *co = json_pack("{s:s,s:s,s:s,s:o,s:o,s:b}", "check", c->text, "metric",
		    metric_def[c->metric].name, "op", op_text[c->op], "value",
		    c->avail ? num(c->value) : json_null(), "bound", num(c->bound), "passed",
		    c->passed);
		if (co && c->from_baseline)
			json_object_set_new(co, "baseline", json_true());
		json_array_append_new(arr, co);
	}
	json_object_set_new(g, "passed", json_boolean(R->passed));
	json_object_set_new(g, "checks", arr);
	json_object_set_new(rep, "gate", g);
	return rep;
}

/* JUnit XML: one test case per gate check, so merge requests list them. */
static int
junit(const struct run *R, struct aiops_buf *b)
{
	size_t nfail = 0;
	int r = 0;

	for (size_t i = 0; i < R->cs->n; i++)
		nfail += !R->cs->c[i].passed;
	r |= aiops_buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"%zu\" failures=\"%zu\">\n"
	    "<testsuite name=\"aiops-eval %s\" tests=\"%zu\" failures=\"%zu\">\n",
	    R->cs->n, nfail, R->o->drift ? "drift" : "gate", R->cs->n, nfail);
	for (size_t i = 0; i < R->cs->n; i++) {
		const struct check *c = &R->cs->c[i];
		char val[32];

		if (c->avail)
			snprintf(val, sizeof(val), "%.6g", c->value);
		else
			snprintf(val, sizeof(val), "not available");
		r |= aiops_buf_addstr(b, "<testcase classname=\"aiops-eval.");
		r |= aiops_buf_addxml(b, R->m->family->name, 0);
		r |= aiops_buf_addstr(b, "\" name=\"");
		r |= aiops_buf_addxml(b, c->text, 0);
		r |= aiops_buf_addstr(b, "\">");
		if (!c->passed) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s = %s, required %s %.6g",
			    metric_def[c->metric].name, val, op_text[c->op], c->bound);
			r |= aiops_buf_addstr(b, "<failure message=\"");
			r |= aiops_buf_addxml(b, msg, 0);
			r |= aiops_buf_addstr(b, "\"/>");
		}
		r |= aiops_buf_addstr(b, "</testcase>\n");
	}
	r |= aiops_buf_addstr(b, "</testsuite>\n</testsuites>\n");
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

/* GitLab's metrics report: "name value" lines. */
static int
metrics_text(const struct metrics *mt, struct aiops_buf *b)
{
	int r = 0;

	for (int k = 0; k < M_COUNT; k++) {
		char v[32];
		if (!mt->set[k] || !isfinite(mt->v[k]))
			continue;
		aiops_format_double(mt->v[k], 0, v, sizeof(v));
		r |= aiops_buf_addf(b, "%s %s\n", metric_def[k].name, v);
	}
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

static void
table(const struct run *R, FILE *f)
{
	const struct aiops_model *m = R->m;
	char params[512];

	aiops_params_format(&m->params, params, sizeof(params));
	fprintf(f, "model      %s  %s%s%s (%s), threshold %.6g\n", R->o->model_path,
	    m->family->name, *params ? ":" : "", params, m->family->kind, m->threshold);
	fprintf(f, "data       %s  %zu rows", R->D->name, R->D->n);
	if (R->D->y)
		fprintf(f, ", %zu labelled anomalous", R->D->npos);
	fputc('\n', f);
	fprintf(f, "\n%-18s %14s%s\n", "metric", "value", R->base ? "       baseline" : "");
	for (int k = 0; k < M_COUNT; k++) {
		if (!R->r->mt.set[k])
			continue;
		fprintf(f, "%-18s %14.6g", metric_def[k].name, R->r->mt.v[k]);
		if (R->base && R->base->set[k])
			fprintf(f, " %14.6g", R->base->v[k]);
		fputc('\n', f);
	}
	if (R->r->drift) {
		size_t i;
		json_t *c;
		fprintf(f, "\n%-24s %10s %10s %10s\n", "column", "psi", "ks", "ks_pvalue");
		json_array_foreach(R->r->drift, i, c) {
			double psi = json_real_value(json_object_get(c, "psi"));
			double ks = json_real_value(json_object_get(c, "ks"));
			fprintf(f, "%-24.24s %10.4f %10.4f %10.3g%s\n",
			    json_string_value(json_object_get(c, "name")), psi, ks,
			    json_real_value(json_object_get(c, "ks_pvalue")),
			    psi > PSI_BOUND || ks > KS_BOUND ? "  drifted" : "");
		}
	}
	if (R->r->nseg) {
		fprintf(f, "\n%zu detected segment%s", R->r->nseg_total,
		    R->r->nseg_total == 1 ? "" : "s");
		fprintf(f, R->r->nseg < R->r->nseg_total ? " (first %zu):\n" : ":\n", R->r->nseg);
		for (size_t i = 0; i < R->r->nseg && i < 20; i++) {
			const struct segment *s = &R->r->seg[i];
			fprintf(f, "  rows %zu-%zu:", s->start, s->end - 1);
			for (size_t k = 0; k < s->ntop; k++)
				fprintf(f, " %s (%.0f%%)", m->names[s->top[k]], 100 * s->share[k]);
			fputc('\n', f);
		}
		if (R->r->nseg > 20)
			fprintf(f, "  ... (the JSON report lists %zu)\n", R->r->nseg);
	}
	if (R->cs->n) {
		fprintf(f, "\n%-32s %14s  %s\n", "check", "value", "result");
		for (size_t i = 0; i < R->cs->n; i++) {
			const struct check *c = &R->cs->c[i];
			if (c->avail)
				fprintf(f, "%-32s %14.6g  %s\n", c->text, c->value,
				    c->passed ? "pass" : "FAIL");
			else
				fprintf(f, "%-32s %14s  %s\n", c->text, "n/a", "FAIL");
		}
		fprintf(f, "\ngate: %s\n", R->passed ? "passed" : "FAILED");
	}
}

/* ---- per-row output ---------------------------------------------------------- */

/* The header of the per-row output, CSV or tensor. */
static int
scores_info(const struct aiops_model *m, int has_ts, int has_labels, int forecaster,
    struct aiops_tensor_info *ti)
{
	size_t nc = 2 + (forecaster ? m->ncols : 0);
	char **names = aiops_calloc(nc, sizeof(char *));
	int r = AIOPS_ERR_NOMEM;

	if (aiops_tinfo_init(ti) != AIOPS_OK) {
		aiops_free(names);
		return AIOPS_ERR_NOMEM;
	}
	ti->has_ts = has_ts;
	ti->has_labels = has_labels;
	if (names == NULL)
		goto out;
	names[0] = aiops_strdup("score");
	names[1] = aiops_strdup("anomaly");
	for (size_t j = 0; forecaster && j < m->ncols; j++) {
		size_t l = strlen(m->names[j]) + 10;
		if ((names[2 + j] = aiops_malloc(l)) != NULL)
			snprintf(names[2 + j], l, "forecast.%s", m->names[j]);
	}
	for (size_t j = 0; j < nc; j++)
		if (names[j] == NULL)
			goto out;
	r = aiops_tinfo_set_names(ti, names, nc);
out:
	for (size_t j = 0; names && j < nc; j++)
		aiops_free(names[j]);
	aiops_free(names);
	if (r != AIOPS_OK)
		aiops_tinfo_release(ti);   /* nothing for the caller to release */
	return r;
}

/* Per-row CSV line into b. */
static int
csv_row(struct aiops_buf *b, int has_ts, int64_t ts, double score, int anomaly, int has_y,
    int y, const double *fc, size_t nfc)
{
	char v[40];
	int r = 0;

	if (has_ts) {
		aiops_format_time(ts, v, sizeof(v));
		r |= aiops_buf_addstr(b, v);
		r |= aiops_buf_add(b, ",", 1);
	}
	aiops_format_double(score, 0, v, sizeof(v));
	r |= aiops_buf_addstr(b, v);
	r |= aiops_buf_addstr(b, anomaly ? ",1" : ",0");
	if (has_y)
		r |= aiops_buf_addstr(b, y ? ",1" : ",0");
	for (size_t j = 0; j < nfc; j++) {
		aiops_format_double(fc[j], 0, v, sizeof(v));
		r |= aiops_buf_add(b, ",", 1);
		r |= aiops_buf_addstr(b, v);
	}
	r |= aiops_buf_add(b, "\n", 1);
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

static int
csv_header(struct aiops_buf *b, const struct aiops_tensor_info *ti)
{
	int r = 0;

	if (ti->has_ts)
		r |= aiops_buf_addstr(b, "timestamp,");
	for (size_t j = 0; j < 2; j++) {
		r |= aiops_buf_addstr(b, ti->names[j]);
		r |= aiops_buf_add(b, ",", 1);
	}
	b->len--;
	if (ti->has_labels)
		r |= aiops_buf_addstr(b, ",label");
	for (size_t j = 2; j < ti->ncols; j++) {
		r |= aiops_buf_add(b, ",", 1);
		r |= aiops_buf_addstr(b, ti->names[j]);
	}
	r |= aiops_buf_add(b, "\n", 1);
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

static int
use_tensor(const struct opts *o)
{
	if (o->format)
		return strcmp(o->format, "tensor") == 0;
	return o->scores_path && ends_with(o->scores_path, ".tensor");
}

static int
write_scores(const struct opts *o, const struct aiops_model *m, const struct data *D,
    const struct result *r, const double *fc, struct aiops_out *outp, struct aiops_error *e)
{
	int forecaster = fc != NULL;
	struct aiops_tensor_info ti;
	struct aiops_out out;
	struct aiops_buf b = AIOPS_BUF_INIT;
	const struct aiops_tensor *t = D->t;
	size_t d = m->ncols;
	double *row = NULL;
	int rc;

	if (scores_info(m, t->info.has_ts, D->y != NULL, forecaster, &ti) != AIOPS_OK)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if ((rc = aiops_out_open(&out, strcmp(o->scores_path, "-") ? o->scores_path : NULL,
	    e)) != AIOPS_OK) {
		aiops_tinfo_release(&ti);
		return rc;
	}
	if (use_tensor(o)) {
		struct aiops_twriter w;
		if ((row = aiops_calloc(ti.ncols, sizeof(double))) == NULL) {
			rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if ((rc = aiops_twriter_open(&w, &out, &ti, e)) != AIOPS_OK)
			goto fail;
		for (size_t i = 0; i < D->n && rc == AIOPS_OK; i++) {
			row[0] = r->score[i];
			row[1] = r->pred[i];
			if (forecaster)
				memcpy(row + 2, fc + i * d, d * sizeof(double));
			rc = aiops_twriter_row(&w, t->info.has_ts ? t->ts[i] : 0, row,
			    D->y ? D->y[i] : 0, e);
		}
		if (rc == AIOPS_OK)
			rc = aiops_twriter_finish(&w, e);
		aiops_twriter_release(&w);
		if (rc != AIOPS_OK)
			goto fail;
	} else {
		if (csv_header(&b, &ti) != AIOPS_OK) {
			rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < D->n; i++) {
			if (csv_row(&b, t->info.has_ts, t->info.has_ts ? t->ts[i] : 0, r->score[i],
			    r->pred[i], D->y != NULL, D->y ? D->y[i] : 0,
			    forecaster ? fc + i * d : NULL, forecaster ? d : 0) != AIOPS_OK) {
				rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			if (b.len >= 1 << 16 || i + 1 == D->n) {
				if ((rc = aiops_out_write(&out, b.buf, b.len, e)) != AIOPS_OK)
					goto fail;
				b.len = 0;
			}
		}
		if (D->n == 0 && (rc = aiops_out_write(&out, b.buf, b.len, e)) != AIOPS_OK)
			goto fail;
	}
	*outp = out;   /* committed with the other outputs */
	aiops_buf_release(&b);
	aiops_free(row);
	aiops_tinfo_release(&ti);
	return AIOPS_OK;
fail:
	aiops_out_abort(&out);
	aiops_buf_release(&b);
	aiops_free(row);
	aiops_tinfo_release(&ti);
	return rc;
}

/* ---- the plot ---------------------------------------------------------------- */

static int
write_plot(const struct run *R, struct aiops_out *out, struct aiops_error *e)
{
	const struct aiops_model *m = R->m;
	size_t d = m->ncols, ns = 0, cols[6], *votes;
	char *names[6], title[600], params[256];
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	int rc;

	/* the series: the columns named most often in the hints, else the first */
	if ((votes = aiops_calloc(d ? d : 1, sizeof(size_t))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < R->r->nseg; i++)
		for (size_t k = 0; k < R->r->seg[i].ntop; k++)
			votes[R->r->seg[i].top[k]] += R->r->seg[i].ntop - k;
	while (ns < 6 && ns < d) {
		size_t best = d;
		for (size_t j = 0; j < d; j++) {
			int taken = 0;
			for (size_t k = 0; k < ns; k++)
				taken |= cols[k] == j;
			if (!taken && (best == d || votes[j] > votes[best]))
				best = j;
		}
		cols[ns] = best;
		names[ns] = m->names[best];
		ns++;
	}
	aiops_free(votes);
	aiops_params_format(&m->params, params, sizeof(params));
	snprintf(title, sizeof(title), "%s: %s%s%s", R->D->name, m->family->name,
	    *params ? ":" : "", params);
	if (R->r->mt.set[M_F1]) {
		size_t l = strlen(title);
		snprintf(title + l, sizeof(title) - l, "  f1=%.3f", R->r->mt.v[M_F1]);
	}
	memset(&p, 0, sizeof(p));
	p.title = title;
	p.n = R->D->n;
	p.ts = R->D->t->info.has_ts ? R->D->t->ts : NULL;
	p.nseries = ns;
	p.x = R->D->x;
	p.stride = d;
	p.cols = cols;
	p.names = names;
	p.score = R->r->score;
	p.threshold = m->threshold;
	p.label = R->D->y;
	p.pred = R->r->pred;
	if ((rc = aiops_plot_svg(&p, &b, e)) == AIOPS_OK)
		rc = aiops_out_stage(out, R->o->plot, b.buf ? b.buf : "", b.len, e);
	aiops_buf_release(&b);
	return rc;
}

/* ---- the gate ---------------------------------------------------------------- */

static int
gate(struct run *R, struct aiops_error *e)
{
	struct opts *o = R->o;
	struct checks *cs = R->cs;
	int drift_req = 0;

	for (size_t i = 0; i < cs->n; i++)
		drift_req |= cs->c[i].metric == M_PSI || cs->c[i].metric == M_KS ||
		    cs->c[i].metric == M_DRIFTED;
	if (o->drift && !drift_req) {
		/* the default bounds of a drift check */
		struct check c;
		memset(&c, 0, sizeof(c));
		c.metric = M_DRIFTED;
		c.op = OP_LE;
		c.bound = 0;
		snprintf(c.text, sizeof(c.text), "drifted_columns<=0 (psi<=%g, ks<=%g)",
		    PSI_BOUND, KS_BOUND);
		if (add_check(cs, &c) != AIOPS_OK)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	if (R->base) {
		/* the candidate must not be worse than the baseline */
		int want[M_COUNT] = { 0 }, any = 0;
		if (o->compare) {
			const char *p = o->compare;
			while (*p) {
				const char *q = p;
				int k;
				while (*q && *q != ',')
					q++;
				if ((k = metric_find(p, (size_t)(q - p))) < 0 || metric_def[k].dir == NONE)
					return aiops_error_set(e, AIOPS_ERR_USAGE,
					    "--compare: \"%.*s\" is not a metric with a better direction",
					    (int)(q - p), p);
				want[k] = 1;
				p = *q ? q + 1 : q;
			}
		} else {
			for (size_t i = 0; i < cs->n; i++)
				if (metric_def[cs->c[i].metric].dir != NONE && !cs->c[i].from_baseline)
					want[cs->c[i].metric] = any = 1;
			if (!any) {
				if (R->D->y) {
					want[M_BEST_F1] = want[M_AUC_PR] = 1;
				} else if (R->r->mt.set[M_RMSE]) {
					want[M_RMSE] = 1;
				}
			}
		}
		for (int k = 0; k < M_COUNT; k++) {
			struct check c;
			if (!want[k])
				continue;
			memset(&c, 0, sizeof(c));
			c.metric = k;
			c.from_baseline = 1;
			c.op = metric_def[k].dir == UP ? OP_GE : OP_LE;
			if (!R->base->set[k] || !isfinite(R->base->v[k]))
				return aiops_error_set(e, AIOPS_ERR_DATA,
				    "--baseline %s: has no value of %s to compare with", o->baseline,
				    metric_def[k].name);
			c.bound = R->base->v[k] + (metric_def[k].dir == UP ? -o->margin : o->margin);
			snprintf(c.text, sizeof(c.text), "%s%sbaseline%s%g", metric_def[k].name,
			    op_text[c.op], metric_def[k].dir == UP ? "-" : "+", o->margin);
			if (add_check(cs, &c) != AIOPS_OK)
				return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		}
	}
	R->passed = 1;
	for (size_t i = 0; i < cs->n; i++) {
		struct check *c = &cs->c[i];
		c->avail = R->r->mt.set[c->metric] && !isnan(R->r->mt.v[c->metric]);
		if (!c->avail) {
			int k = c->metric;
			const char *why = "it does not apply to this model and data";
			if (k >= M_MAE && k <= M_MASE)
				why = "only a forecaster has it";
			else if (k == M_HIT100 || k == M_HIT150)
				why = "it needs --interpretation";
			else if (k >= M_PSI && k <= M_DRIFTED)
				why = "it needs --drift";
			else if (k >= M_PRECISION && k <= M_NAB_FN && R->D->y == NULL)
				why = "the data has no labels";
			else if (k >= M_BEST_F1 && k <= M_AUC_PR)
				why = "the labels must hold both classes";
			return aiops_error_set(e, AIOPS_ERR_DATA, "--require %s: %s is not available: %s",
			    c->text, metric_def[c->metric].name, why);
		}
		c->value = R->r->mt.v[c->metric];
		c->passed = compare(c->value, c->op, c->bound);
		R->passed &= c->passed;
	}
	return AIOPS_OK;
}

/* ---- streaming ------------------------------------------------------------- */

/* Split a CSV line in place (no quoting: what aiops-ingest -O csv writes). */
static size_t
split(char *s, char **f, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *c = strchr(s, ',');
		if (n < max)
			f[n] = s;
		n++;
		if (c == NULL)
			break;
		*c = '\0';
		s = c + 1;
	}
	return n;
}

static int
stream(struct opts *o, struct aiops_model *m, struct aiops_error *e)
{
	struct aiops_scorer sc;
	size_t d = m->ncols, nf = 0, *idx = NULL, maxf = 0;
	int forecaster = strcmp(m->family->kind, "forecaster") == 0, rc, head_done = 0;
	long ts_col = -1;
	double *x = NULL, *fc = NULL, score;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_tensor_info ti;
	char *line = NULL, **f = NULL, first;
	size_t cap = 0;
	ssize_t len;
	uint64_t row = 0, lineno = 0;

	if (o->format && strcmp(o->format, "csv"))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "--stream writes CSV, one line a row; -O %s is not supported", o->format);
	/*
	 * A look at the first byte, to refuse a tensor (its rows travel in
	 * blocks, which would hold decisions back); it goes back with ungetc().
	 */
	do
		len = read(STDIN_FILENO, &first, 1);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return aiops_error_set(e, AIOPS_ERR_IO, "<stdin>: %s", strerror(errno));
	if (len == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "<stdin>: no input");
	if ((unsigned char)first == 0x89)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "<stdin>: --stream reads CSV lines "
		    "(aiops-ingest -O csv), not a tensor: a tensor's rows come in blocks");
	ungetc((unsigned char)first, stdin);
	if ((rc = aiops_scorer_init(&sc, m, o->impute, e)) != AIOPS_OK)
		return rc;
	x = aiops_calloc(d ? d : 1, sizeof(double));
	fc = aiops_calloc(d ? d : 1, sizeof(double));
	idx = aiops_calloc(d ? d : 1, sizeof(size_t));
	if (!x || !fc || !idx || scores_info(m, 1, 0, forecaster, &ti) != AIOPS_OK) {
		aiops_scorer_release(&sc);
		aiops_free(x);
		aiops_free(fc);
		aiops_free(idx);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	for (;;) {
		int64_t ts = 0;

		if ((len = getline(&line, &cap, stdin)) < 0)
			break;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (!head_done) {
			size_t k = 0;
			for (char *p = line; *p; p++)
				k += *p == ',';
			maxf = k + 1;
			if ((f = aiops_calloc(maxf, sizeof(char *))) == NULL) {
				rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto out;
			}
			nf = split(line, f, maxf);
			for (size_t j = 0; j < d; j++)
				idx[j] = (size_t)-1;
			for (size_t i = 0; i < nf; i++) {
				if (strcmp(f[i], "timestamp") == 0 && ts_col < 0)
					ts_col = (long)i;
				for (size_t j = 0; j < d; j++)
					if (idx[j] == (size_t)-1 && strcmp(f[i], m->names[j]) == 0)
						idx[j] = i;
			}
			for (size_t j = 0; j < d; j++)
				if (idx[j] == (size_t)-1) {
					rc = aiops_error_set(e, AIOPS_ERR_DATA,
					    "<stdin>:1: no column \"%s\", which the model was trained on",
					    m->names[j]);
					goto out;
				}
			ti.has_ts = ts_col >= 0;
			head_done = 1;
			if (csv_header(&b, &ti) != AIOPS_OK) {
				rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto out;
			}
		} else {
			if ((nf = split(line, f, maxf)) != maxf) {
				rc = aiops_error_set(e, AIOPS_ERR_DATA,
				    "<stdin>:%llu: %zu fields, the header has %zu",
				    (unsigned long long)lineno, nf, maxf);
				goto out;
			}
			if (ts_col >= 0 && aiops_parse_time(f[ts_col], strlen(f[ts_col]),
			    AIOPS_TIME_AUTO, &ts) != 0) {
				rc = aiops_error_set(e, AIOPS_ERR_DATA,
				    "<stdin>:%llu:%ld: field \"timestamp\": not a time: \"%.40s\"",
				    (unsigned long long)lineno, (long)(f[ts_col] - line) + 1, f[ts_col]);
				goto out;
			}
			for (size_t j = 0; j < d; j++) {
				const char *v = f[idx[j]];
				if (*v == '\0') {
					x[j] = NAN;
				} else if (aiops_parse_double(v, strlen(v), &x[j]) != 0) {
					rc = aiops_error_set(e, AIOPS_ERR_DATA,
					    "<stdin>:%llu:%ld: field \"%s\": not a number: \"%.40s\"",
					    (unsigned long long)lineno, (long)(v - line) + 1, m->names[j], v);
					goto out;
				}
			}
			if ((rc = aiops_scorer_run(&sc, x, 1, &score, NULL, forecaster ? fc : NULL,
			    row, e)) != AIOPS_OK) {
				aiops_error_prefix(e, "<stdin>:%llu", (unsigned long long)lineno);
				goto out;
			}
			if (csv_row(&b, ti.has_ts, ts, score, !isnan(score) && score >= m->threshold,
			    0, 0, forecaster ? fc : NULL, forecaster ? d : 0) != AIOPS_OK) {
				rc = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto out;
			}
			row++;
		}
		/* one line a row, at once: the next stage sees each decision as it is made */
		if (fwrite(b.buf, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
			rc = aiops_error_set(e, AIOPS_ERR_IO, "<stdout>: %s", strerror(errno));
			goto out;
		}
		b.len = 0;
	}
	if (ferror(stdin)) {
		rc = aiops_error_set(e, AIOPS_ERR_IO, "<stdin>: %s", strerror(errno));
		goto out;
	}
	rc = AIOPS_OK;
out:
	aiops_tinfo_release(&ti);
	aiops_buf_release(&b);
	aiops_scorer_release(&sc);
	free(line);
	aiops_free(f);
	aiops_free(x);
	aiops_free(fc);
	aiops_free(idx);
	return rc;
}

/* ---- main ---------------------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	struct opts o;
	struct aiops_error e = { 0, "" };
	struct aiops_model m;
	struct aiops_tensor t;
	struct data D;
	struct result r;
	struct metrics base;
	struct checks cs = { NULL, 0 };
	struct run R;
	char sha[65];
	double *fc = NULL;
	unsigned char *ylab = NULL;
	struct aiops_out outs[5];   /* scores, plot, report, JUnit, metrics */
	char *report = NULL;
	int nout = 0;
	int ch, rc, owned = 0, status = AIOPS_EXIT_OK, model_loaded = 0, tensor_loaded = 0;

	aiops_cmd_init("aiops-eval");
	aiops_blas_single();
	memset(&o, 0, sizeof(o));
	memset(&D, 0, sizeof(D));
	memset(&r, 0, sizeof(r));
	o.top = 3;
	o.season = 0;
	while ((ch = getopt_long(argc, argv, "hjo:O:q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o.json = 1; break;
		case 'o': o.scores_path = optarg; break;
		case 'O':
			if (strcmp(optarg, "csv") && strcmp(optarg, "tensor"))
				cmd_die_usage("-O: expected csv or tensor, got \"%s\"", optarg);
			o.format = optarg;
			break;
		case 'q': o.quiet = 1; break;
		case O_BASELINE: o.baseline = optarg; break;
		case O_COMPARE: o.compare = optarg; break;
		case O_DRIFT: o.drift = 1; break;
		case O_IMPUTE: o.impute = 1; break;
		case O_INTERP: o.interp = optarg; break;
		case O_JUNIT: o.junit = optarg; break;
		case O_LABELS: o.labels = optarg; break;
		case O_MARGIN: o.margin = cmd_real("--margin", optarg, 0, 1e300); break;
		case O_MREPORT: o.mreport = optarg; break;
		case O_PLOT: o.plot = optarg; break;
		case O_PROBATION: o.probation = cmd_real("--probation", optarg, 0, 0.99); break;
		case O_REPORT: o.report = optarg; break;
		case O_REQUIRE: o.require = optarg; break;
		case O_SEASON: o.season = cmd_whole("--season", optarg, 1, 1000000); break;
		case O_STREAM: o.stream = 1; break;
		case O_TOP: o.top = cmd_whole("--top", optarg, 0, 1000); break;
		case O_THRESHOLD:
			o.threshold = cmd_real("--threshold", optarg, -1e300, 1e300);
			o.has_threshold = 1;
			break;
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return AIOPS_EXIT_OK;
		default:
			cmd_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > (o.stream ? 1 : 2))
		cmd_usage(usage_text);
	if (o.drift && o.stream)
		cmd_die_usage("%s: --drift and --stream do not go together", "usage");
	if (o.drift && (o.baseline || o.scores_path || o.plot || o.interp))
		cmd_die_usage("%s: --drift compares distributions only: no --baseline, -o, --plot or "
		    "--interpretation", "usage");
	if (o.drift && o.has_threshold)
		cmd_die_usage("%s: --drift scores no row: no --threshold", "usage");
	if (o.compare && !o.baseline)
		cmd_die_usage("%s: --compare needs --baseline", "usage");
	o.model_path = argv[0];
	o.tensor_path = argc > 1 ? argv[1] : "-";
	if (o.require && parse_require(o.require, &cs, &e) != AIOPS_OK) {
		aiops_free(cs.c);
		return cmd_fail(&e);
	}

	if ((rc = aiops_model_load(&m, o.model_path, &e)) != AIOPS_OK)
		goto fail;
	model_loaded = 1;
	if (o.has_threshold)
		m.threshold = o.threshold;
	if (o.stream) {
		rc = stream(&o, &m, &e);
		if (rc != AIOPS_OK)
			goto fail;
		goto done;
	}
	if ((rc = aiops_tensor_load(&t, o.tensor_path, &e)) != AIOPS_OK)
		goto fail;
	tensor_loaded = 1;
	D.t = &t;
	D.name = strcmp(o.tensor_path, "-") ? o.tensor_path : "<stdin>";
	D.n = t.nrows;
	if ((rc = model_matrix(&m, &t, D.name, &D.x, &owned, &e)) != AIOPS_OK)
		goto fail;
	if (o.labels) {
		if ((rc = load_labels(o.labels, D.n, &ylab, &e)) != AIOPS_OK)
			goto fail;
		D.y = ylab;
	} else if (t.info.has_labels) {
		D.y = t.y;
	}
	for (size_t i = 0; D.y && i < D.n; i++)
		D.npos += D.y[i];
	if (o.interp) {
		if ((rc = aiops_interp_load(o.interp, &D.interp, &D.ninterp, &e)) != AIOPS_OK)
			goto fail;
		if (D.ninterp == 0) {
			rc = aiops_error_set(&e, AIOPS_ERR_DATA, "%s: no segments", o.interp);
			goto fail;
		}
		for (size_t s = 0; s < D.ninterp; s++) {
			if (D.interp[s].end > D.n) {
				rc = aiops_error_set(&e, AIOPS_ERR_DATA,
				    "%s: segment %zu-%zu ends after the data's %zu rows", o.interp,
				    D.interp[s].start, D.interp[s].end, D.n);
				goto fail;
			}
			for (size_t k = 0; k < D.interp[s].ncols; k++)
				if (D.interp[s].cols[k] >= m.ncols) {
					rc = aiops_error_set(&e, AIOPS_ERR_DATA,
					    "%s: segment %zu-%zu names column %zu of %zu", o.interp,
					    D.interp[s].start, D.interp[s].end, D.interp[s].cols[k] + 1,
					    m.ncols);
					goto fail;
				}
		}
	}
	if ((rc = aiops_tensor_fingerprint(&t, sha, &e)) != AIOPS_OK)
		goto fail;

	if (o.drift) {
		if ((rc = drift(&m, &D, &r, &e)) != AIOPS_OK)
			goto fail;
	} else {
		int forecaster = strcmp(m.family->kind, "forecaster") == 0;
		if (forecaster && (fc = aiops_calloc(D.n * m.ncols != 0 ? D.n * m.ncols : 1,
		    sizeof(double))) == NULL) {
			rc = aiops_error_set(&e, AIOPS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if ((rc = evaluate(&m, &D, &o, &r, fc, &e)) != AIOPS_OK)
			goto fail;
	}
	memset(&R, 0, sizeof(R));
	R.o = &o;
	R.m = &m;
	R.D = &D;
	R.r = &r;
	R.cs = &cs;
	R.data_sha = sha;
	if (o.baseline) {
		if ((rc = baseline_metrics(&o, &D, sha, &base, &e)) != AIOPS_OK)
			goto fail;
		R.base = &base;
	}
	if ((rc = gate(&R, &e)) != AIOPS_OK)
		goto fail;

	/* outputs: all of them whole, or none */
	if (o.scores_path && !o.drift &&
	    (rc = write_scores(&o, &m, &D, &r, fc, &outs[nout], &e)) != AIOPS_OK)
		goto fail;
	if (o.scores_path && !o.drift)
		nout++;
	if (o.plot) {
		if ((rc = write_plot(&R, &outs[nout], &e)) != AIOPS_OK)
			goto fail;
		nout++;
	}
	{
		json_t *rep = report_json(&R);

		if (rep == NULL || (report = json_dumps(rep, JSON_INDENT(2) |
		    JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII)) == NULL) {
			json_decref(rep);
			rc = aiops_error_set(&e, AIOPS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		json_decref(rep);
	}
	if (o.report) {
		struct aiops_buf b = AIOPS_BUF_INIT;
		if (aiops_buf_addstr(&b, report) != AIOPS_OK || aiops_buf_add(&b, "\n", 1) != AIOPS_OK)
			rc = aiops_error_set(&e, AIOPS_ERR_NOMEM, "out of memory");
		else if ((rc = aiops_out_stage(&outs[nout], o.report, b.buf ? b.buf : "", b.len,
		    &e)) == AIOPS_OK)
			nout++;
		aiops_buf_release(&b);
		if (rc != AIOPS_OK)
			goto fail;
	}
	if (o.junit) {
		struct aiops_buf b = AIOPS_BUF_INIT;
		if ((rc = junit(&R, &b)) != AIOPS_OK)
			aiops_error_set(&e, rc, "out of memory");
		else if ((rc = aiops_out_stage(&outs[nout], o.junit, b.buf ? b.buf : "", b.len,
		    &e)) == AIOPS_OK)
			nout++;
		aiops_buf_release(&b);
		if (rc != AIOPS_OK)
			goto fail;
	}
	if (o.mreport) {
		struct aiops_buf b = AIOPS_BUF_INIT;
		if ((rc = metrics_text(&r.mt, &b)) != AIOPS_OK)
			aiops_error_set(&e, rc, "out of memory");
		else if ((rc = aiops_out_stage(&outs[nout], o.mreport, b.buf ? b.buf : "", b.len,
		    &e)) == AIOPS_OK)
			nout++;
		aiops_buf_release(&b);
		if (rc != AIOPS_OK)
			goto fail;
	}
	rc = aiops_out_commit_all(outs, nout, &e);
	nout = 0;
	if (rc != AIOPS_OK)
		goto fail;
	if (o.json && !(o.scores_path && !strcmp(o.scores_path, "-")))
		printf("%s\n", report);
	if (!o.quiet && !o.json && !(o.scores_path && !strcmp(o.scores_path, "-")))
		table(&R, stdout);
	if (!R.passed) {
		if (!o.quiet)
			fprintf(stderr, "%s: %s\n", aiops_progname(), o.drift ?
			    "drift beyond the bounds: retrain" : "the gate failed");
		status = AIOPS_EXIT_GATE;
	}
done:
	if (aiops_close_stdout(&e) != 0) {
		rc = e.code;
		goto fail;
	}
	goto out;
fail:
	for (int i = 0; i < nout; i++)
		aiops_out_abort(&outs[i]);
	nout = 0;
	status = cmd_fail(&e);
out:
	free(report);
	aiops_free(fc);
	aiops_free(ylab);
	aiops_free(cs.c);
	if (D.interp)
		aiops_interp_free(D.interp, D.ninterp);
	if (owned)
		aiops_free(D.x);
	result_release(&r);
	if (tensor_loaded)
		aiops_tensor_release(&t);
	if (model_loaded)
		aiops_model_release(&m);
	return status;
}
