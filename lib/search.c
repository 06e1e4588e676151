/* search.c - spaces, the trial runner with its worker pool, journals and shards. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "parse.h"
#include "search.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

void
aiops_space_release(struct aiops_space *sp)
{
	aiops_free(sp->t);
	memset(sp, 0, sizeof(*sp));
}

static struct aiops_trial *
space_add(struct aiops_space *sp)
{
	if (sp->n == sp->cap) {
		size_t n = sp->cap ? sp->cap * 2 : 64;
		struct aiops_trial *t;
		if (n > 1000000 || (t = aiops_reallocarray(sp->t, n, sizeof(*t))) == NULL)
			return NULL;
		sp->t = t;
		sp->cap = n;
	}
	memset(&sp->t[sp->n], 0, sizeof(sp->t[0]));
	sp->t[sp->n].index = sp->n;
	sp->t[sp->n].metric = NAN;
	sp->t[sp->n].budget = 1;
	return &sp->t[sp->n++];
}

/* Values of one "name=values" item into v[]; returns the count or -1. */
static int
parse_values(const char *s, size_t len, double *v, int max)
{
	char buf[256];
	const char *dd;
	int n = 0;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((dd = strstr(buf, "..")) != NULL) {
		double a, b, step = 1;
		const char *sl = strchr(dd, '/');
		if (aiops_parse_double(buf, (size_t)(dd - buf), &a) != 0 ||
		    aiops_parse_double(dd + 2, sl ? (size_t)(sl - dd - 2) : strlen(dd + 2), &b) != 0 ||
		    (sl && aiops_parse_double(sl + 1, strlen(sl + 1), &step) != 0) ||
		    !(step > 0) || b < a || !isfinite(a) || !isfinite(b))
			return -1;
		for (double x = a; x <= b + 1e-9 * fabs(b); x = a + step * n) {
			if (n == max)
				return -1;
			v[n++] = x;
		}
		return n;
	}
	for (const char *p = buf; *p; ) {
		size_t k = strcspn(p, ",");
		if (n == max || aiops_parse_double(p, k, &v[n]) != 0 || !isfinite(v[n]))
			return -1;
		n++;
		p += k + (p[k] == ',');
	}
	return n;
}

int
aiops_space_parse(struct aiops_space *sp, const char *spec, struct aiops_error *e)
{
	const char *p = spec;
	int any = 0;

	for (;;) {
		char fam[64], pname[AIOPS_MAX_PARAMS][32];
		double vals[AIOPS_MAX_PARAMS][256];
		int nv[AIOPS_MAX_PARAMS], np = 0, idx[AIOPS_MAX_PARAMS];
		const struct aiops_family *f;
		size_t len, flen, total = 1;
		const char *colon, *q;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t\n");
		colon = memchr(p, ':', len);
		flen = colon ? (size_t)(colon - p) : len;
		if (flen == 0 || flen >= sizeof(fam))
			return aiops_error_set(e, AIOPS_ERR_USAGE, "--space: expected family[:params], got \"%.*s\"",
			    (int)len, p);
		memcpy(fam, p, flen);
		fam[flen] = '\0';
		if ((f = aiops_family_find(fam)) == NULL) {
			struct aiops_buf b = AIOPS_BUF_INIT;
			for (const struct aiops_family *const *ff = aiops_families(); *ff; ff++)
				aiops_buf_addf(&b, "%s%s", b.len ? ", " : "", (*ff)->name);
			aiops_error_set(e, AIOPS_ERR_USAGE, "--space: unknown model family \"%s\" (known: %s)",
			    fam, b.buf ? b.buf : "");
			aiops_buf_release(&b);
			return AIOPS_ERR_USAGE;
		}
		for (q = colon ? colon + 1 : p + len; q < p + len; ) {
			size_t ilen = strcspn(q, ";");
			const char *eq;
			int ok = 0;
			if (ilen > (size_t)(p + len - q))
				ilen = (size_t)(p + len - q);
			eq = memchr(q, '=', ilen);
			if (eq == NULL || eq == q || (size_t)(eq - q) >= sizeof(pname[0]) || np == AIOPS_MAX_PARAMS)
				return aiops_error_set(e, AIOPS_ERR_USAGE, "--space: %s: expected name=values, got \"%.*s\"",
				    fam, (int)ilen, q);
			memcpy(pname[np], q, (size_t)(eq - q));
			pname[np][eq - q] = '\0';
			ok = strcmp(pname[np], "smooth") == 0;   /* every family's */
			for (const char *const *pn = f->param_names; *pn; pn++)
				ok |= strcmp(*pn, pname[np]) == 0;
			if (!ok)
				return aiops_error_set(e, AIOPS_ERR_USAGE, "--space: %s has no parameter \"%s\" (%s)",
				    fam, pname[np], f->params_doc);
			nv[np] = parse_values(eq + 1, ilen - (size_t)(eq - q) - 1, vals[np], 256);
			if (nv[np] <= 0)
				return aiops_error_set(e, AIOPS_ERR_USAGE,
				    "--space: %s: %s: expected a number, a list a,b,c or a range a..b[/step], got \"%.*s\"",
				    fam, pname[np], (int)(ilen - (size_t)(eq - q) - 1), eq + 1);
			total *= (size_t)nv[np];
			if (total > 100000)
				return aiops_error_set(e, AIOPS_ERR_USAGE, "--space: %s: more than 100000 trials", fam);
			np++;
			q += ilen + (q[ilen] == ';');
		}
		/* the grid, last parameter varying fastest */
		memset(idx, 0, sizeof(idx));
		for (size_t k = 0; k < total; k++) {
			struct aiops_trial *t = space_add(sp);
			if (t == NULL)
				return nomem(e);
			t->family = f;
			for (int i = 0; i < np; i++)
				aiops_param_set(&t->params, pname[i], vals[i][idx[i]]);
			for (int i = np - 1; i >= 0; i--) {
				if (++idx[i] < nv[i])
					break;
				idx[i] = 0;
			}
		}
		any = 1;
		p += len;
	}
	if (!any)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "--space is empty");
	{
		/* the same trial named twice is run once */
		json_t *seen = json_object();
		size_t k = 0;
		if (seen == NULL)
			return nomem(e);
		for (size_t i = 0; i < sp->n; i++) {
			char key[600];
			aiops_trial_key(&sp->t[i], key, sizeof(key));
			if (json_object_get(seen, key))
				continue;
			json_object_set_new(seen, key, json_true());
			sp->t[k] = sp->t[i];
			sp->t[k].index = k;
			k++;
		}
		sp->n = k;
		json_decref(seen);
	}
	return AIOPS_OK;
}

void
aiops_space_sample(struct aiops_space *sp, size_t n, uint64_t seed)
{
	struct aiops_rng r;
	unsigned char *keep;
	size_t k = 0;

	if (n >= sp->n || (keep = aiops_calloc(sp->n, 1)) == NULL)
		return;
	aiops_rng_seed(&r, seed);
	/* Floyd's algorithm: n distinct indices */
	for (size_t j = sp->n - n; j < sp->n; j++) {
		size_t t = (size_t)aiops_rng_below(&r, j + 1);
		keep[keep[t] ? j : t] = 1;
	}
	for (size_t i = 0; i < sp->n; i++)
		if (keep[i]) {
			sp->t[k] = sp->t[i];
			sp->t[k].index = k;
			k++;
		}
	sp->n = k;
	aiops_free(keep);
}

void
aiops_trial_key(const struct aiops_trial *t, char *out, size_t outsz)
{
	char p[512];

	aiops_params_format(&t->params, p, sizeof(p));
	snprintf(out, outsz, "%s:%s@%g", t->family->name, p, t->budget);
}

/* The key in a journal: the trial's key and the tag of the data and objective. */
static void
journal_key(const struct aiops_trial *t, const char *tag, char *out, size_t outsz)
{
	char k[600];

	aiops_trial_key(t, k, sizeof(k));
	snprintf(out, outsz, "%s#%s", k, tag ? tag : "");
}

/* ---- evaluation ---------------------------------------------------------- */

#define NORM_SAMPLE 20000   /* training rows scored for the label-free normaliser */

struct job {
	const double *x, *vx;
	const unsigned char *y, *vy;
	size_t n, vn, d;
	char *const *names;
	const struct aiops_search_opts *o;
	char tag[17];
};

/* Objective of one fit/validate split: higher is better. */
static int
evaluate(const struct aiops_trial *t, const struct job *J, const double *x, size_t n,
    const double *vx, const unsigned char *vy, size_t vn, double *metric,
    struct aiops_error *e)
{
	struct aiops_model m;
	double *vs = NULL, *ts = NULL;
	int r, obj = J->o->objective;

	if (aiops_model_init(&m, t->family, &t->params, J->names, J->d) != AIOPS_OK)
		return nomem(e);
	if ((r = aiops_model_fit(&m, x, n, e)) != AIOPS_OK) {
		/* a parameter the family refuses for this data fails this trial only */
		if (r == AIOPS_ERR_USAGE)
			r = e->code = AIOPS_ERR_DATA;
		goto out;
	}
	if ((vs = aiops_calloc(vn ? vn : 1, sizeof(double))) == NULL) {
		r = nomem(e);
		goto out;
	}
	if ((r = aiops_model_score(&m, vx, vn, vs, NULL, e)) != AIOPS_OK)
		goto out;
	if (obj == AIOPS_OBJ_AUTO)
		obj = vy ? AIOPS_OBJ_BESTF1 : AIOPS_OBJ_ERROR;
	if (obj != AIOPS_OBJ_ERROR) {
		struct aiops_rank rk;
		if (vy == NULL) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE, "--metric %s needs labelled validation data",
			    obj == AIOPS_OBJ_BESTF1 ? "best_f1" : "auc_pr");
			goto out;
		}
		if ((r = aiops_rank_metrics(vs, vy, vn, &rk, e)) != AIOPS_OK)
			goto out;
		*metric = obj == AIOPS_OBJ_BESTF1 ? rk.best_f1 : rk.auc_pr;
	} else {
		/*
		 * Label-free: the mean validation score relative to the 99th
		 * percentile of the model's scores on its own training rows, the
		 * same for every family (for forecasters the score is the normalised
		 * forecast error). Lower is better; the metric is its negative.
		 */
		double mean = 0, norm = 1;
		size_t k = 0;
		for (size_t i = 0; i < vn; i++)
			if (!isnan(vs[i])) {
				mean += vs[i];
				k++;
			}
		mean = k ? mean / (double)k : INFINITY;
		{
			/*
			 * The training scores' 99th percentile from at most NORM_SAMPLE rows
			 * at a fixed stride. A forecaster scores contiguous rows, so it
			 * gets the last NORM_SAMPLE rows instead of a strided sample.
			 */
			size_t stride = n > NORM_SAMPLE ? (n + NORM_SAMPLE - 1) / NORM_SAMPLE : 1;
			size_t ns = (n + stride - 1) / stride;
			int fc = strcmp(t->family->kind, "forecaster") == 0;
			double *xs = NULL;

			if (fc && stride > 1) {
				ns = NORM_SAMPLE;
				stride = 1;
			}
			if ((ts = aiops_calloc(ns, sizeof(double))) == NULL) {
				r = nomem(e);
				goto out;
			}
			if (stride > 1) {
				if ((xs = aiops_malloc(ns * J->d * sizeof(double))) == NULL) {
					r = nomem(e);
					goto out;
				}
				for (size_t i = 0; i < ns; i++)
					memcpy(xs + i * J->d, x + i * stride * J->d, J->d * sizeof(double));
			}
			r = aiops_model_score(&m, xs ? xs : x + (n - ns) * J->d, ns, ts, NULL, e);
			aiops_free(xs);
			if (r != AIOPS_OK)
				goto out;
			norm = aiops_quantile(ts, ns, 0.99);
			if (!(norm > 0))
				norm = 1;
		}
		*metric = -mean / norm;
	}
out:
	aiops_free(vs);
	aiops_free(ts);
	aiops_model_release(&m);
	return r;
}

static int
run_trial(struct aiops_trial *t, const struct job *J, struct aiops_error *e)
{
	size_t n = J->n, use = (size_t)ceil((double)n * t->budget);
	double sum = 0;
	int r;

	if (use > n)
		use = n;
	if (J->vx) /* a part budget trains on the most recent rows, next to the validation rows */
		return evaluate(t, J, J->x + (n - use) * J->d, use, J->vx, J->vy, J->vn, &t->metric, e);
	/* rolling origin: fold k trains on the first k/(K+1) and validates on the next 1/(K+1) */
	{
		int K = J->o->folds > 0 ? J->o->folds : 3;
		for (int k = 1; k <= K; k++) {
			size_t a = n * (size_t)k / (size_t)(K + 1), b = n * (size_t)(k + 1) / (size_t)(K + 1);
			size_t tr = (size_t)ceil((double)a * t->budget);
			double m;
			if (tr < 1 || b <= a)
				return aiops_error_set(e, AIOPS_ERR_DATA, "too few rows for %d folds", K);
			if ((r = evaluate(t, J, J->x + (a - tr) * J->d, tr, J->x + a * J->d,
			    J->y ? J->y + a : NULL, b - a, &m, e)) != AIOPS_OK)
				return r;
			sum += m;
		}
		t->metric = sum / K;
	}
	return AIOPS_OK;
}

/* ---- journal -------------------------------------------------------------- */

int
aiops_journal_append(int fd, const struct aiops_trial *t, const char *tag, struct aiops_error *e)
{
	json_t *o = json_object(), *p = json_object();
	char key[700], *s;
	size_t len;
	ssize_t w = 0;
	off_t end;

	journal_key(t, tag, key, sizeof(key));
	for (size_t i = 0; p && i < t->params.n; i++)
		json_object_set_new(p, t->params.name[i], json_real(t->params.v[i]));
	if (o == NULL || p == NULL) {
		json_decref(o);
		json_decref(p);
		return nomem(e);
	}
	json_object_set_new(o, "key", json_string(key));
	json_object_set_new(o, "index", json_integer((json_int_t)t->index));
	json_object_set_new(o, "family", json_string(t->family->name));
	json_object_set_new(o, "params", p);
	json_object_set_new(o, "budget", json_real(t->budget));
	if (t->failed)
		json_object_set_new(o, "error", json_string(t->err));
	else
		json_object_set_new(o, "metric", json_real(t->metric));
	json_object_set_new(o, "seconds", json_real(round(t->seconds * 1000) / 1000));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return nomem(e);
	len = strlen(s);
	s[len] = '\n';   /* json_dumps leaves room: replace the NUL, one write per line */
	end = lseek(fd, 0, SEEK_END);
	for (size_t done = 0; done < len + 1; done += (size_t)w) {
		w = write(fd, s + done, len + 1 - done);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			int err = w < 0 ? errno : EIO;
			aiops_free(s);
			/* no half line for a resumed search to trip on */
			if (end >= 0 && ftruncate(fd, end) != 0)
				err = errno;
			return aiops_error_set(e, AIOPS_ERR_IO, "write error: %s", strerror(err));
		}
	}
	aiops_free(s);
	return AIOPS_OK;
}

int
aiops_journal_read(struct aiops_space *sp, const char *path, int append_unknown,
    const char *tag, struct aiops_error *e)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT && !append_unknown)
			return AIOPS_OK;
		return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: %s", path, strerror(errno));
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *o, *p;
		json_error_t je;
		unsigned long nfail;
		const char *key, *fam, *k;
		struct aiops_trial probe, *t = NULL;
		json_t *v;

		lineno++;
		if (line[len - 1] != '\n')
			break;   /* a torn last line from a killed run */
		nfail = aiops_alloc_failures();
		if ((o = json_loads(line, 0, &je)) == NULL) {
			fclose(f);
			free(line);
			if (aiops_nomem_since(nfail, e) != AIOPS_OK)
				return AIOPS_ERR_NOMEM;
			return aiops_error_set(e, AIOPS_ERR_DATA, "%s:%ld: not a JSON line: %s", path,
			    lineno, je.text);
		}
		key = json_string_value(json_object_get(o, "key"));
		fam = json_string_value(json_object_get(o, "family"));
		p = json_object_get(o, "params");
		memset(&probe, 0, sizeof(probe));
		if (key == NULL || fam == NULL || !json_is_object(p) ||
		    (probe.family = aiops_family_find(fam)) == NULL) {
			json_decref(o);
			fclose(f);
			free(line);
			return aiops_error_set(e, AIOPS_ERR_DATA, "%s:%ld: expected a trial with key, family and params",
			    path, lineno);
		}
		for (size_t i = 0; i < sp->n && t == NULL; i++) {
			char kk[700];
			if (tag) {
				journal_key(&sp->t[i], tag, kk, sizeof(kk));
				if (strcmp(kk, key) == 0)
					t = &sp->t[i];
			} else {
				aiops_trial_key(&sp->t[i], kk, sizeof(kk));
				if (strncmp(kk, key, strlen(kk)) == 0 && key[strlen(kk)] == '#')
					t = &sp->t[i];
			}
		}
		if (t == NULL && append_unknown) {
			if ((t = space_add(sp)) == NULL) {
				json_decref(o);
				fclose(f);
				free(line);
				return nomem(e);
			}
			t->family = probe.family;
			json_object_foreach(p, k, v)
				aiops_param_set(&t->params, k, json_number_value(v));
			t->budget = json_is_number(json_object_get(o, "budget")) ?
			    json_number_value(json_object_get(o, "budget")) : 1;
			if (json_is_integer(json_object_get(o, "index")))
				t->index = (size_t)json_integer_value(json_object_get(o, "index"));
		}
		if (t != NULL) {
			t->done = 1;
			t->failed = json_object_get(o, "error") != NULL;
			t->metric = t->failed ? NAN : json_number_value(json_object_get(o, "metric"));
			t->seconds = json_number_value(json_object_get(o, "seconds"));
			if (t->failed)
				snprintf(t->err, sizeof(t->err), "%s",
				    json_string_value(json_object_get(o, "error")) ?
				    json_string_value(json_object_get(o, "error")) : "failed");
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	return AIOPS_OK;
}

const struct aiops_trial *
aiops_search_best(const struct aiops_space *sp)
{
	const struct aiops_trial *b = NULL;

	for (size_t i = 0; i < sp->n; i++) {
		const struct aiops_trial *t = &sp->t[i];
		if (!t->done || t->failed || isnan(t->metric) || t->budget < 1)
			continue;
		if (b == NULL || t->metric > b->metric ||
		    (t->metric == b->metric && t->index < b->index))
			b = t;
	}
	return b;
}

/* ---- the pool -------------------------------------------------------------- */

struct pool {
	struct aiops_space *sp;
	const struct job *J;
	size_t *todo, ntodo, next, finished;
	pthread_mutex_t mu;
	int jfd;
	int err;
	struct aiops_error e;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *
worker(void *arg)
{
	struct pool *P = arg;

	for (;;) {
		struct aiops_trial *t;
		struct aiops_error e;
		double t0;
		size_t i;
		int r;

		pthread_mutex_lock(&P->mu);
		if (P->next == P->ntodo || P->err) {
			pthread_mutex_unlock(&P->mu);
			return NULL;
		}
		i = P->todo[P->next++];
		pthread_mutex_unlock(&P->mu);
		t = &P->sp->t[i];
		t0 = now();
		r = run_trial(t, P->J, &e);
		t->seconds = now() - t0;
		if (r == AIOPS_ERR_NOMEM || r == AIOPS_ERR_USAGE) {
			pthread_mutex_lock(&P->mu);
			if (!P->err) {
				P->err = r;
				P->e = e;
			}
			pthread_mutex_unlock(&P->mu);
			return NULL;
		}
		if (r != AIOPS_OK) {
			/* a trial that cannot fit (too few rows, singular) loses; the search goes on */
			t->failed = 1;
			t->metric = NAN;
			snprintf(t->err, sizeof(t->err), "%.255s", e.msg);
		}
		t->done = 1;
		pthread_mutex_lock(&P->mu);
		if (P->jfd >= 0 && aiops_journal_append(P->jfd, t, P->J->tag, &e) != AIOPS_OK && !P->err) {
			aiops_error_prefix(&e, "%s", P->J->o->journal);
			P->err = e.code;
			P->e = e;
		}
		P->finished++;
		if (P->J->o->on_progress)
			P->J->o->on_progress(P->finished, P->ntodo, t, P->J->o->ud);
		pthread_mutex_unlock(&P->mu);
	}
}

static int
run_pool(struct aiops_space *sp, const struct job *J, size_t *todo, size_t ntodo, int jfd,
    struct aiops_error *e)
{
	struct pool P;
	pthread_t th[64];
	int nj = J->o->jobs < 1 ? 1 : J->o->jobs > 64 ? 64 : J->o->jobs, started = 0;

	memset(&P, 0, sizeof(P));
	P.sp = sp;
	P.J = J;
	P.todo = todo;
	P.ntodo = ntodo;
	P.jfd = jfd;
	pthread_mutex_init(&P.mu, NULL);
	if ((size_t)nj > ntodo)
		nj = ntodo ? (int)ntodo : 1;
	for (int i = 1; i < nj; i++)
		if (pthread_create(&th[i], NULL, worker, &P) == 0)
			started = i;
		else
			break;
	worker(&P);
	for (int i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&P.mu);
	if (P.err) {
		*e = P.e;
		return P.err;
	}
	return AIOPS_OK;
}

static int
cmp_metric(const void *a, const void *b, void *ctx)
{
	const struct aiops_space *sp = ctx;
	const struct aiops_trial *x = &sp->t[*(const size_t *)a], *y = &sp->t[*(const size_t *)b];
	double mx = isnan(x->metric) ? -INFINITY : x->metric, my = isnan(y->metric) ? -INFINITY : y->metric;

	if (mx != my)
		return mx > my ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

struct half {
	const unsigned char *p;
	size_t n;
	unsigned char dg[32];
	int r;
};

static void *
hash_half(void *arg)
{
	struct half *H = arg;
	struct aiops_sha256 h;

	if ((H->r = aiops_sha256_init(&h)) != AIOPS_OK)
		return NULL;
	if ((H->r = aiops_sha256_update(&h, H->p, H->n)) != AIOPS_OK) {
		aiops_sha256_release(&h);
		return NULL;
	}
	H->r = aiops_sha256_final(&h, H->dg);
	return NULL;
}

/* Into h: the SHA-256 of each half of p[0..n), the two worked out at once when
 * threaded (the data is large, and the trials wait for the journal's tag). */
static int
hash_halves(const void *p, size_t n, int threaded, struct aiops_sha256 *h)
{
	struct half H[2] = { { .p = p, .n = n / 2 },
	    { .p = (const unsigned char *)p + n / 2, .n = n - n / 2 } };

	aiops_run_pair(hash_half, &H[0], &H[1], threaded && n >= (1u << 20));
	if (H[0].r != AIOPS_OK || H[1].r != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	aiops_sha256_update(h, H[0].dg, 32);
	aiops_sha256_update(h, H[1].dg, 32);
	return AIOPS_OK;
}

int
aiops_search_run(struct aiops_space *sp, const double *x, const unsigned char *y,
    size_t n, size_t d, char *const *names, const double *vx, const unsigned char *vy,
    size_t vn, const struct aiops_search_opts *o, struct aiops_error *e)
{
	struct job J = { x, vx, y, vy, n, vn, d, names, o, "" };
	struct aiops_search_opts oo = *o;
	size_t *todo = aiops_calloc(sp->n ? sp->n : 1, sizeof(size_t)), ntodo = 0;
	int jfd = -1, r = AIOPS_OK;

	if (todo == NULL)
		return nomem(e);
	J.o = &oo;
	if (vx == NULL && y != NULL && oo.objective == AIOPS_OBJ_AUTO) {
		/* labelled folds need an anomaly in every validation part; else go label-free */
		int K = oo.folds > 0 ? oo.folds : 3;
		for (int k = 1; k <= K && J.y; k++) {
			size_t a = n * (size_t)k / (size_t)(K + 1), b = n * (size_t)(k + 1) / (size_t)(K + 1), pos = 0;
			for (size_t i = a; i < b; i++)
				pos += y[i] != 0;
			if (pos == 0)
				J.y = NULL;
		}
		if (J.y == NULL)
			oo.objective = AIOPS_OBJ_ERROR;
	}
	if (o->journal) {
		/* the journal's tag: what the trials were measured on */
		struct aiops_sha256 h;
		unsigned char dg[32];
		char hex[65];
		int hdr[3] = { oo.objective, oo.folds, vx != NULL };
		if (aiops_sha256_init(&h) != AIOPS_OK) {
			r = nomem(e);
			goto out;
		}
		aiops_sha256_update(&h, hdr, sizeof(hdr));
		if ((r = hash_halves(x, n * d * sizeof(double), o->jobs > 1, &h)) != AIOPS_OK) {
			aiops_sha256_release(&h);
			r = nomem(e);
			goto out;
		}
		if (J.y)
			aiops_sha256_update(&h, J.y, n);
		if (vx)
			aiops_sha256_update(&h, vx, vn * d * sizeof(double));
		if (vy)
			aiops_sha256_update(&h, vy, vn);
		aiops_sha256_final(&h, dg);
		aiops_hex(dg, 8, hex);
		memcpy(J.tag, hex, 17);
	}
	if (o->journal) {
		struct stat st;
		/* halving reads the journal per rung, once the trials carry their budgets */
		if (o->strategy != AIOPS_STRAT_HALVING &&
		    (r = aiops_journal_read(sp, o->journal, 0, J.tag, e)) != AIOPS_OK)
			goto out;
		if ((jfd = open(o->journal, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) < 0) {
			r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", o->journal, strerror(errno));
			goto out;
		}
		/* a run killed mid-line left a torn tail: cut it so the next line starts clean */
		if (fstat(jfd, &st) == 0 && st.st_size > 0) {
			off_t end = st.st_size;
			char c;
			while (end > 0 && pread(jfd, &c, 1, end - 1) == 1 && c != '\n')
				end--;
			if (end != st.st_size && ftruncate(jfd, end) != 0) {
				r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", o->journal, strerror(errno));
				goto out;
			}
		}
	}
	if (o->strategy == AIOPS_STRAT_HALVING) {
		/* rungs at 1/9, 1/3 and all of the rows; a third goes on each time */
		size_t alive = sp->n, base = sp->n;
		size_t *ord = aiops_calloc(sp->n ? sp->n : 1, sizeof(size_t));
		if (ord == NULL) {
			r = nomem(e);
			goto out;
		}
		for (size_t i = 0; i < sp->n; i++)
			ord[i] = i;
		for (int rung = 0; rung < 3 && r == AIOPS_OK; rung++) {
			double budget = rung == 0 ? 1.0 / 9 : rung == 1 ? 1.0 / 3 : 1;
			size_t first = sp->n;
			/* trials of this rung are copies of the survivors at the new budget */
			for (size_t k = 0; k < alive; k++) {
				struct aiops_trial *src = &sp->t[ord[k]], *t;
				if (rung > 0) {
					struct aiops_trial c = *src;
					if ((t = space_add(sp)) == NULL) {
						r = nomem(e);
						break;
					}
					c.index = t->index;
					*t = c;
					t->budget = budget;
					t->done = t->failed = 0;
					t->metric = NAN;
					ord[k] = t->index;
				} else {
					src->budget = budget;
				}
			}
			if (r == AIOPS_OK && o->journal)
				r = aiops_journal_read(sp, o->journal, 0, J.tag, e);
			ntodo = 0;
			for (size_t k = 0; k < alive && r == AIOPS_OK; k++) {
				size_t i = ord[k];
				if (!sp->t[i].done && (o->shard_n == 0 ||
				    (int)(sp->t[i].index % (size_t)o->shard_n) == o->shard_i - 1))
					todo[ntodo++] = i;
			}
			if (r == AIOPS_OK)
				r = run_pool(sp, &J, todo, ntodo, jfd, e);
			qsort_r(ord, alive, sizeof(size_t), cmp_metric, sp);
			alive = alive > 3 ? (alive + 2) / 3 : alive;
			(void)first;
			(void)base;
			if (o->shard_n)
				break; /* a shard runs the first rung only; --select merges */
		}
		aiops_free(ord);
		goto out;
	}
	for (size_t i = 0; i < sp->n; i++)
		if (!sp->t[i].done && (o->shard_n == 0 ||
		    (int)(sp->t[i].index % (size_t)o->shard_n) == o->shard_i - 1))
			todo[ntodo++] = i;
	r = run_pool(sp, &J, todo, ntodo, jfd, e);
out:
	if (jfd >= 0 && close(jfd) != 0 && r == AIOPS_OK)
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", o->journal, strerror(errno));
	aiops_free(todo);
	return r;
}
