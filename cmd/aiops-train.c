/* aiops-train - tensors to models, with a parallel, shardable search (see aiops-train(1)). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiops.h"
#include "cmd.h"
#include "linalg.h"

static const char usage_text[] =
"usage: aiops-train [-hq] [-j jobs] [-o output] [--folds n] [--from model]\n"
"                   [--group name=cols] [--impute] [--journal file]\n"
"                   [--metric name] [--seed n] [--shard i/n] [--space spec]\n"
"                   [--strategy name] [--threshold method] [--trials n]\n"
"                   [--valid tensor] [tensor ...]\n"
"       aiops-train --select [-q] [-o output] [options] tensor results ...\n"
"       aiops-train --info [--json] model\n";

/* What a search tries when no --space is given: one default for every data set. */
static const char default_space[] = "pca:k=2..12/2 zscore mahalanobis:reg=0.001,0.01,0.1 "
    "mahalanobis:reg=0.3;smooth=10 mahalanobis:reg=0.5;smooth=15 iforest kmeans:k=4,8,16";

enum {
	O_FOLDS = 256, O_FROM, O_IMPUTE, O_JOURNAL, O_METRIC, O_SEED, O_SHARD, O_SPACE,
	O_STRATEGY, O_THRESHOLD, O_TRIALS, O_VALID, O_SELECT, O_INFO, O_JSON, O_HELP, O_GROUP
};

static const struct option longopts[] = {
	{ "folds", required_argument, NULL, O_FOLDS },
	{ "from", required_argument, NULL, O_FROM },
	{ "group", required_argument, NULL, O_GROUP },
	{ "help", no_argument, NULL, O_HELP },
	{ "impute", no_argument, NULL, O_IMPUTE },
	{ "info", no_argument, NULL, O_INFO },
	{ "journal", required_argument, NULL, O_JOURNAL },
	{ "json", no_argument, NULL, O_JSON },
	{ "metric", required_argument, NULL, O_METRIC },
	{ "seed", required_argument, NULL, O_SEED },
	{ "select", no_argument, NULL, O_SELECT },
	{ "shard", required_argument, NULL, O_SHARD },
	{ "space", required_argument, NULL, O_SPACE },
	{ "strategy", required_argument, NULL, O_STRATEGY },
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	{ "trials", required_argument, NULL, O_TRIALS },
	{ "valid", required_argument, NULL, O_VALID },
	{ NULL, 0, NULL, 0 }
};

static void
progress(size_t done, size_t total, const struct aiops_trial *t, void *ud)
{
	char key[600];

	(void)ud;
	aiops_trial_key(t, key, sizeof(key));
	fprintf(stderr, "\r%s: trial %zu/%zu %s %s %.4g\033[K", aiops_progname(), done, total, key,
	    t->failed ? "failed" : "metric", t->failed ? 0.0 : t->metric);
	if (done == total)
		fputc('\n', stderr);
}

/* Print a model in words, or as JSON. */
static int
info(const char *path, int as_json, struct aiops_error *e)
{
	struct aiops_model m;
	char p[512];
	json_t *o;
	int r, bad;

	if ((r = aiops_model_load(&m, path, e)) != AIOPS_OK)
		return r;
	aiops_params_format(&m.params, p, sizeof(p));
	/* a failed allocation anywhere makes bad: no half-made description is printed */
	o = json_deep_copy(m.meta);
	bad = o == NULL;
	bad |= json_object_set_new(o, "family", json_string(m.family->name)) != 0;
	bad |= json_object_set_new(o, "kind", json_string(m.family->kind)) != 0;
	{
		json_t *pp = json_object(), *cols = json_array(), *arrs = json_object();
		for (size_t i = 0; i < m.params.n; i++)
			bad |= json_object_set_new(pp, m.params.name[i], json_real(m.params.v[i])) != 0;
		for (size_t j = 0; j < m.ncols; j++)
			bad |= json_array_append_new(cols, json_string(m.names[j])) != 0;
		for (size_t i = 0; i < m.narr; i++)
			bad |= json_object_set_new(arrs, m.arr[i].name,
			    json_pack("[I,I]", (json_int_t)m.arr[i].rows, (json_int_t)m.arr[i].cols)) != 0;
		bad |= json_object_set_new(o, "params", pp) != 0;
		bad |= json_object_set_new(o, "columns", cols) != 0;
		bad |= json_object_set_new(o, "arrays", arrs) != 0;
	}
	if (!bad && as_json) {
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			printf("%s\n", s);
		bad = s == NULL;
		free(s);
	}
	if (bad) {
		json_decref(o);
		aiops_model_release(&m);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	if (!as_json) {
		json_t *th = json_object_get(o, "threshold"), *tr = json_object_get(o, "train");
		json_t *pv = json_object_get(o, "provenance"), *se = json_object_get(o, "search");
		printf("model:      %s (%s) %s\n", m.family->name, m.family->kind, p[0] ? p : "(no parameters)");
		printf("columns:    %zu", m.ncols);
		for (size_t j = 0; j < m.ncols && j < 8; j++)
			printf("%s%s", j ? ", " : " (", m.names[j]);
		printf("%s\n", m.ncols > 8 ? ", ...)" : ")");
		if (th)
			printf("threshold:  %.17g (%s)\n", json_number_value(json_object_get(th, "value")),
			    json_string_value(json_object_get(th, "method")));
		if (tr)
			printf("trained on: %lld rows of %s, sha256 %s\n",
			    (long long)json_integer_value(json_object_get(tr, "rows")),
			    json_string_value(json_object_get(tr, "source")),
			    json_string_value(json_object_get(tr, "sha256")));
		if (json_object_get(o, "scaler"))
			printf("scaler:     %s\n", json_string_value(json_object_get(json_object_get(o, "scaler"), "kind")));
		if (se)
			printf("search:     %s, %lld trials, %s %.4g\n",
			    json_string_value(json_object_get(se, "strategy")),
			    (long long)json_integer_value(json_object_get(se, "trials")),
			    json_string_value(json_object_get(se, "objective")),
			    json_number_value(json_object_get(json_object_get(se, "best"), "metric")));
		if (pv) {
			printf("built by:   %s, created %lld", json_string_value(json_object_get(pv, "tool")),
			    (long long)json_integer_value(json_object_get(pv, "created")));
			if (json_object_get(pv, "ci_commit_sha"))
				printf(", commit %s", json_string_value(json_object_get(pv, "ci_commit_sha")));
			if (json_object_get(pv, "ci_pipeline_id"))
				printf(", pipeline %s", json_string_value(json_object_get(pv, "ci_pipeline_id")));
			printf("\n");
		}
		if (json_array_size(json_object_get(o, "lineage")))
			printf("lineage:    retrained from %zu earlier model(s)\n",
			    json_array_size(json_object_get(o, "lineage")));
	}
	json_decref(o);
	aiops_model_release(&m);
	return AIOPS_OK;
}

static json_t *
trial_json(const struct aiops_trial *t)
{
	json_t *p = json_object();

	for (size_t i = 0; i < t->params.n; i++)
		json_object_set_new(p, t->params.name[i], json_real(t->params.v[i]));
	return json_pack("{s:s,s:o,s:f}", "family", t->family->name, "params", p, "metric", t->metric);
}

/* The search summary a model records: deterministic (no timings). */
static json_t *
summary(const struct aiops_space *sp, const char *strategy, const char *objective,
    const struct aiops_trial *best)
{
	json_t *o = json_pack("{s:s,s:s,s:I}", "strategy", strategy, "objective", objective,
	    "trials", (json_int_t)sp->n);
	size_t failed = 0;

	for (size_t i = 0; i < sp->n; i++)
		failed += sp->t[i].failed;
	json_object_set_new(o, "failed", json_integer((json_int_t)failed));
	json_object_set_new(o, "best", trial_json(best));
	return o;
}

/* Everything one model needs from the command line. */
struct ctx {
	struct aiops_search_opts so;
	struct aiops_thr_spec thr;
	const char *from, *validp, *strategy, *metric, *spec;
	char **results;             /* --select: the results files */
	int nresults, select, impute, quiet, multi;
	long trials, seed;
	const char *shard_out;
};

/* The columns of t named in cols ("a,b,c") as a new tensor. */
static int
subset(const struct aiops_tensor *t, const char *cols, const char *what, struct aiops_tensor *dst,
    struct aiops_error *e)
{
	struct aiops_tensor_info ti;
	size_t idx[4096], k = 0, d = t->info.ncols;
	char *names[4096];
	double *row;
	int r;

	for (const char *p = cols; *p; ) {
		size_t len = strcspn(p, ",");
		long c = -1;
		for (size_t j = 0; j < d; j++)
			if (strlen(t->info.names[j]) == len && strncmp(t->info.names[j], p, len) == 0)
				c = (long)j;
		if (c < 0)
			return aiops_error_set(e, AIOPS_ERR_NOTFOUND, "%s: no column \"%.*s\"", what, (int)len, p);
		if (k == 4096)
			return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: more than 4096 columns in a group", what);
		idx[k] = (size_t)c;
		names[k++] = t->info.names[c];
		p += len + (p[len] == ',');
	}
	if (k == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: an empty column group", what);
	if (aiops_tinfo_copy(&ti, &t->info) != AIOPS_OK)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	json_object_del(ti.meta, "scaler");   /* it names the whole tensor's columns */
	r = aiops_tinfo_set_names(&ti, names, k);
	if (r == AIOPS_OK)
		r = aiops_tensor_init(dst, &ti);
	aiops_tinfo_release(&ti);
	if (r != AIOPS_OK || (row = aiops_calloc(k, sizeof(double))) == NULL) {
		if (r == AIOPS_OK)
			aiops_tensor_release(dst);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->nrows && r == AIOPS_OK; i++) {
		for (size_t j = 0; j < k; j++)
			row[j] = t->x[i * d + idx[j]];
		r = aiops_tensor_push(dst, t->ts ? t->ts[i] : 0, row, t->y ? t->y[i] : 0);
	}
	aiops_free(row);
	if (r != AIOPS_OK) {
		aiops_tensor_release(dst);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	return AIOPS_OK;
}

/*
 * Train one model on train (named name) — search, select or retrain — and
 * write it to output (or, for a shard, its results). valid may be NULL.
 */
static int
train_one(const struct ctx *c, struct aiops_tensor *train, const char *name,
    struct aiops_tensor *valid, const char *output, struct aiops_error *e)
{
	struct aiops_space sp = { 0 };
	struct aiops_final fin;
	struct aiops_model m, prev;
	struct aiops_out out;
	double *x = NULL, *vx = NULL;
	int r, x_owned = 0, vx_owned = 0, have_prev = 0;
	json_t *sum = NULL, *lineage = NULL;

	memset(&fin, 0, sizeof(fin));
	fin.thr = c->thr;
	if ((r = aiops_train_matrix(train, name, c->impute, NULL, &x, &x_owned, e)) != AIOPS_OK)
		goto done;
	if (valid) {
		if (valid->info.ncols != train->info.ncols) {
			r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: has %zu columns, the training tensor %zu",
			    c->validp, valid->info.ncols, train->info.ncols);
			goto done;
		}
		for (size_t j = 0; j < train->info.ncols; j++)
			if (strcmp(valid->info.names[j], train->info.names[j]) != 0) {
				r = aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: column %zu is \"%s\", the training tensor's is \"%s\"", c->validp, j + 1,
				    valid->info.names[j], train->info.names[j]);
				goto done;
			}
		if ((r = aiops_train_matrix(valid, c->validp, c->impute, train, &vx, &vx_owned, e)) != AIOPS_OK)
			goto done;
	}
	if (fin.thr.method == AIOPS_THR_BESTF1 && (!valid || valid->y == NULL)) {
		r = aiops_error_set(e, AIOPS_ERR_USAGE, "--threshold best-f1 needs a labelled --valid tensor");
		goto done;
	}
	fin.train = train;
	fin.jobs = c->so.jobs;
	fin.train_name = name;
	fin.x = x;
	fin.vx = vx;
	fin.vy = valid ? valid->y : NULL;
	fin.vn = valid ? valid->nrows : 0;
	if (c->from) {
		/* warm start: the previous model's family and parameters on new data */
		if ((r = aiops_model_load(&prev, c->from, e)) != AIOPS_OK)
			goto done;
		have_prev = 1;
		if (prev.ncols != train->info.ncols) {
			r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: the model has %zu columns, %s has %zu",
			    c->from, prev.ncols, name, train->info.ncols);
			goto done;
		}
		for (size_t j = 0; j < prev.ncols; j++)
			if (strcmp(prev.names[j], train->info.names[j]) != 0) {
				r = aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: column %zu is \"%s\" in the model, \"%s\" in %s", c->from, j + 1,
				    prev.names[j], train->info.names[j], name);
				goto done;
			}
		fin.family = prev.family;
		fin.params = prev.params;
		lineage = json_array();
		if (json_is_array(json_object_get(prev.meta, "lineage")))
			json_array_extend(lineage, json_object_get(prev.meta, "lineage"));
		json_array_append_new(lineage, json_pack("{s:s,s:O?,s:O?}", "model", c->from,
		    "train", json_object_get(prev.meta, "train"),
		    "provenance", json_object_get(prev.meta, "provenance")));
		fin.lineage = lineage;
	} else {
		if (c->select) {
			for (int i = 0; i < c->nresults; i++)
				if ((r = aiops_journal_read(&sp, c->results[i], 1, NULL, e)) != AIOPS_OK)
					goto done;
		} else {
			if ((r = aiops_space_parse(&sp, c->spec, e)) != AIOPS_OK)
				goto done;
			if (c->so.strategy == AIOPS_STRAT_RANDOM)
				aiops_space_sample(&sp, c->trials ? (size_t)c->trials : 20, (uint64_t)c->seed);
			if (c->so.folds == 0) {
				/* no validation asked for: the one candidate is fitted as it is */
				if (sp.n != 1) {
					r = aiops_error_set(e, AIOPS_ERR_USAGE, "--folds 0 fits one candidate "
					    "without validating it; the space has %zu", sp.n);
					goto done;
				}
				fin.family = sp.t[0].family;
				fin.params = sp.t[0].params;
				goto fit;
			}
			/* the final fit's statistics beside the search: they need no winner */
			if (c->so.jobs > 1 && !c->so.shard_n)
				fin.side = aiops_side_start(train, x);
			r = aiops_search_run(&sp, x, train->y, train->nrows, train->info.ncols,
			    train->info.names, vx, valid ? valid->y : NULL, fin.vn, &c->so, e);
			if (r != AIOPS_OK)
				goto done;
		}
		if (c->so.shard_n) {
			/* a shard's results: its trials as JSON lines, written atomically */
			if ((r = aiops_out_open(&out, output, e)) != AIOPS_OK)
				goto done;
			for (size_t i = 0; i < sp.n && r == AIOPS_OK; i++)
				if (sp.t[i].done && (int)(sp.t[i].index % (size_t)c->so.shard_n) == c->so.shard_i - 1) {
					r = aiops_out_flush(&out, e);
					if (r == AIOPS_OK &&
					    (r = aiops_journal_append(out.fd, &sp.t[i], "shard", e)) != AIOPS_OK)
						aiops_error_prefix(e, "%s", output);
				}
			if (r == AIOPS_OK)
				r = aiops_out_commit(&out, e);
			else
				aiops_out_abort(&out);
			if (r == AIOPS_OK && !c->quiet)
				fprintf(stderr, "%s: shard %d/%d: wrote the results of its trials to %s\n",
				    aiops_progname(), c->so.shard_i, c->so.shard_n, output);
			goto done;
		}
		{
			const struct aiops_trial *best = aiops_search_best(&sp);
			if (best == NULL) {
				const char *why = sp.n && sp.t[0].failed ? sp.t[0].err : "no trial finished";
				r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: no trial succeeded (first: %s)", name, why);
				goto done;
			}
			fin.family = best->family;
			fin.params = best->params;
			sum = summary(&sp, c->select ? "select" : c->strategy,
			    c->so.objective == AIOPS_OBJ_AUTO ? (valid ? (valid->y ? "best_f1" : "error") :
			    (train->y ? "best_f1" : "error")) : c->metric, best);
			fin.search = sum;
		}
	}
fit:
	r = aiops_train_final(&m, &fin, e);
	fin.side = NULL;  /* consumed */
	if (r != AIOPS_OK)
		goto done;
	if ((r = aiops_out_open(&out, output, e)) == AIOPS_OK) {
		if ((r = aiops_model_write(&m, &out, e)) == AIOPS_OK)
			r = aiops_out_commit(&out, e);
		else
			aiops_out_abort(&out);
	}
	if (r == AIOPS_OK && !c->quiet) {
		char p[512];
		aiops_params_format(&m.params, p, sizeof(p));
		fprintf(stderr, "%s: %s%s%s %s%s%s, threshold %.6g, %zu rows\n", aiops_progname(),
		    c->multi ? output : "", c->multi ? ": " : "",
		    c->from ? "retrained" : fin.search ? "winner" : "fitted", m.family->name,
		    p[0] ? ":" : "", p, m.threshold, train->nrows);
	}
	aiops_model_release(&m);
done:
	aiops_side_discard(fin.side);
	if (have_prev)
		aiops_model_release(&prev);
	json_decref(sum);
	json_decref(lineage);
	if (x_owned)
		aiops_free(x);
	if (vx_owned)
		aiops_free(vx);
	aiops_space_release(&sp);
	return r;
}

/* DIR/STEM[.GROUP].model, STEM being the tensor's file name less .tensor. */
static char *
model_path(const char *dir, const char *tensor, const char *group)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	const char *base = strrchr(tensor, '/');
	size_t n;

	base = base ? base + 1 : tensor;
	n = strlen(base);
	if (n > 7 && strcmp(base + n - 7, ".tensor") == 0)
		n -= 7;
	if (aiops_buf_addf(&b, "%s/", dir) || (tensor[0] && aiops_buf_add(&b, base, n)) ||
	    (group && aiops_buf_addf(&b, "%s%s", tensor[0] ? "." : "", group)) ||
	    aiops_buf_addstr(&b, ".model")) {
		aiops_buf_release(&b);
		return NULL;
	}
	return aiops_buf_detach(&b, NULL);
}

int
main(int argc, char *argv[])
{
	struct aiops_error e = { 0, "" };
	struct aiops_tensor train, valid;
	struct aiops_buf spec = AIOPS_BUF_INIT;
	struct ctx c;
	const char *output = NULL, *thr = "pot", *groups[256];
	int ch, jobs = 1, want_info = 0, as_json = 0, r = AIOPS_OK, space_given = 0, ngroups = 0;
	int ntensors, multi;

	aiops_cmd_init(argv[0]);
	memset(&c, 0, sizeof(c));
	c.so.folds = 3;
	c.strategy = "grid";
	c.metric = "auto";
	while ((ch = getopt_long(argc, argv, "hj:o:q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		case 'j': jobs = (int)cmd_whole("-j", optarg, 1, 64); break;
		case 'o': output = optarg; break;
		case 'q': c.quiet = 1; break;
		case O_FOLDS: c.so.folds = (int)cmd_whole("--folds", optarg, 0, 20); break;
		case O_FROM: c.from = optarg; break;
		case O_GROUP:
			if (ngroups == 256 || strchr(optarg, '=') == NULL || optarg[0] == '=' ||
			    strchr(optarg, '/'))
				cmd_die_usage("--group: expected name=col,col,... (at most 256 groups), got \"%s\"", optarg);
			groups[ngroups++] = optarg;
			break;
		case O_IMPUTE: c.impute = 1; break;
		case O_INFO: want_info = 1; break;
		case O_JOURNAL: c.so.journal = optarg; break;
		case O_JSON: as_json = 1; break;
		case O_METRIC:
			c.metric = optarg;
			if (strcmp(optarg, "best_f1") == 0) c.so.objective = AIOPS_OBJ_BESTF1;
			else if (strcmp(optarg, "auc_pr") == 0) c.so.objective = AIOPS_OBJ_AUCPR;
			else if (strcmp(optarg, "error") == 0) c.so.objective = AIOPS_OBJ_ERROR;
			else if (strcmp(optarg, "auto") == 0) c.so.objective = AIOPS_OBJ_AUTO;
			else cmd_die_usage("--metric: expected best_f1, auc_pr, error or auto, got \"%s\"", optarg);
			break;
		case O_SEED: c.seed = cmd_whole("--seed", optarg, 0, 2147483647L); break;
		case O_SELECT: c.select = 1; break;
		case O_SHARD: {
			const char *sl = strchr(optarg, '/');
			char buf[32];
			if (sl == NULL)
				cmd_die_usage("--shard: expected i/n such as 2/4, got \"%s\"", optarg);
			c.so.shard_n = (int)cmd_whole("--shard", sl + 1, 1, 100000);
			snprintf(buf, sizeof(buf), "%.*s", (int)(sl - optarg), optarg);
			c.so.shard_i = (int)cmd_whole("--shard", buf, 1, c.so.shard_n);
			break;
		}
		case O_SPACE:
			space_given = 1;
			if ((spec.len && aiops_buf_addch(&spec, ' ')) || aiops_buf_addstr(&spec, optarg)) {
				fprintf(stderr, "%s: out of memory\n", aiops_progname());
				return AIOPS_EXIT_FAIL;
			}
			break;
		case O_STRATEGY:
			c.strategy = optarg;
			if (strcmp(optarg, "grid") == 0) c.so.strategy = AIOPS_STRAT_GRID;
			else if (strcmp(optarg, "random") == 0) c.so.strategy = AIOPS_STRAT_RANDOM;
			else if (strcmp(optarg, "halving") == 0) c.so.strategy = AIOPS_STRAT_HALVING;
			else cmd_die_usage("--strategy: expected grid, random or halving, got \"%s\"", optarg);
			break;
		case O_THRESHOLD: thr = optarg; break;
		case O_TRIALS: c.trials = cmd_whole("--trials", optarg, 1, 1000000); break;
		case O_VALID: c.validp = optarg; break;
		default:
			cmd_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (want_info) {
		if (argc != 1)
			cmd_usage(usage_text);
		r = info(argv[0], as_json, &e);
		if (r == AIOPS_OK && aiops_close_stdout(&e) != 0)
			r = e.code;
		return r == AIOPS_OK ? 0 : cmd_fail(&e);
	}
	if (c.select && argc < 2)
		cmd_usage(usage_text);
	ntensors = c.select ? 1 : argc ? argc : 1;
	multi = c.multi = ntensors > 1 || ngroups > 0;
	if (c.from && (c.select || space_given))
		cmd_die_usage("%s", "--from retrains the model's own family; it goes with neither --select nor --space");
	if (c.so.shard_n && (c.select || c.from))
		cmd_die_usage("%s", "--shard runs a share of a search; it goes with neither --select nor --from");
	if (c.so.shard_n && c.so.strategy == AIOPS_STRAT_HALVING)
		cmd_die_usage("%s", "--strategy halving does not shard; use grid or random");
	if (c.so.shard_n && output == NULL)
		cmd_die_usage("%s", "--shard needs -o results-file");
	if (multi && (c.so.shard_n || c.select || c.from))
		cmd_die_usage("%s", "several tensors or --group make several models: not with --shard, --select or --from");
	if (ntensors > 1 && c.validp)
		cmd_die_usage("%s", "--valid goes with one training tensor");
	if (multi && (output == NULL || strcmp(output, "-") == 0))
		cmd_die_usage("%s", "several models need -o directory");
	if (!multi && !c.so.shard_n && (output == NULL || strcmp(output, "-") == 0) &&
	    isatty(STDOUT_FILENO))
		cmd_die_usage("%s", "not writing a binary model to a terminal; use -o file");
	if (c.trials && c.so.strategy != AIOPS_STRAT_RANDOM)
		cmd_die_usage("%s", "--trials goes with --strategy random");
	if (c.so.folds == 0 && (c.so.shard_n || c.select || c.so.journal ||
	    c.so.objective != AIOPS_OBJ_AUTO))
		cmd_die_usage("%s", "--folds 0 fits one candidate without validating it: not with "
		    "--shard, --select, --journal or --metric");
	if (aiops_thr_parse(thr, &c.thr, &e) != AIOPS_OK) {
		aiops_buf_release(&spec);
		return cmd_fail(&e);    /* a bad --threshold is AIOPS_ERR_USAGE: status 2 */
	}
	if (multi && mkdir(output, 0777) != 0 && errno != EEXIST) {
		aiops_buf_release(&spec);
		fprintf(stderr, "%s: %s: %s\n", aiops_progname(), output, strerror(errno));
		return AIOPS_EXIT_FAIL;
	}
	c.spec = space_given ? (spec.buf ? spec.buf : "") : default_space;
	c.results = argv + 1;
	c.nresults = argc - 1;
	/* trials run in parallel on our own workers: one BLAS thread each, and the
	 * same arithmetic whatever -j is */
	aiops_blas_single();
	c.so.jobs = jobs;
	if (!c.quiet && isatty(STDERR_FILENO))
		c.so.on_progress = progress;

	memset(&valid, 0, sizeof(valid));
	if (c.validp && (r = aiops_tensor_load_jobs(&valid, c.validp, jobs, &e)) != AIOPS_OK)
		goto out;
	/* one model per tensor and column group, one after another, each search on -j workers */
	for (int t = 0; t < ntensors && r == AIOPS_OK; t++) {
		const char *path = argc ? argv[t] : "-";
		const char *name = argc ? argv[t] : "<stdin>";

		memset(&train, 0, sizeof(train));
		if ((r = aiops_tensor_load_jobs(&train, path, jobs, &e)) != AIOPS_OK)
			break;
		if (ngroups == 0) {
			char *mp = multi ? model_path(output, path, NULL) : NULL;
			if (multi && mp == NULL)
				r = aiops_error_set(&e, AIOPS_ERR_NOMEM, "out of memory");
			else
				r = train_one(&c, &train, name, c.validp ? &valid : NULL, multi ? mp : output, &e);
			aiops_free(mp);
		}
		for (int g = 0; g < ngroups && r == AIOPS_OK; g++) {
			struct aiops_tensor gt, gv;
			char gname[256], *mp;
			const char *eq = strchr(groups[g], '=');

			snprintf(gname, sizeof(gname), "%.*s", (int)(eq - groups[g]), groups[g]);
			if ((r = subset(&train, eq + 1, name, &gt, &e)) != AIOPS_OK)
				break;
			if (c.validp && (r = subset(&valid, eq + 1, c.validp, &gv, &e)) != AIOPS_OK) {
				aiops_tensor_release(&gt);
				break;
			}
			mp = model_path(output, ntensors > 1 ? path : "", gname);
			r = mp ? train_one(&c, &gt, name, c.validp ? &gv : NULL, mp, &e) :
			    aiops_error_set(&e, AIOPS_ERR_NOMEM, "out of memory");
			if (r != AIOPS_OK && mp)
				aiops_error_prefix(&e, "group %s", gname);
			aiops_free(mp);
			aiops_tensor_release(&gt);
			if (c.validp)
				aiops_tensor_release(&gv);
		}
		aiops_tensor_release(&train);
	}
out:
	if (r == AIOPS_OK && !multi && (output == NULL || strcmp(output, "-") == 0) &&
	    aiops_close_stdout(&e) != 0)
		r = e.code;
	if (valid.info.meta)
		aiops_tensor_release(&valid);
	aiops_buf_release(&spec);
	if (r != AIOPS_OK)
		return cmd_fail(&e);
	return 0;
}
