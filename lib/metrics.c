/* metrics.c - exact ranking metrics and thresholds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "metrics.h"

/* A score as a key whose unsigned order is the scores' descending order, and its label. */
struct sy {
	uint64_t k;
	uint64_t y;
};

static uint64_t
desc_key(double s)
{
	uint64_t u;

	if (s == 0)
		s = 0;          /* -0 and +0 are one score */
	memcpy(&u, &s, sizeof(u));
	u = (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
	return ~u;
}

static double
key_score(uint64_t k)
{
	uint64_t u = ~k;
	double s;

	u = (u & 0x8000000000000000ull) ? u & ~0x8000000000000000ull : ~u;
	memcpy(&s, &u, sizeof(s));
	return s;
}

/*
 * LSD radix sort on k, 11 bits a pass, stable; a pass whose digit is the
 * same in every key is skipped (scores in a narrow range share their
 * exponent bits). The result is in v. AIOPS_OK or AIOPS_ERR_NOMEM.
 */
static int
radix_sort(struct sy *v, struct sy *tmp, size_t m)
{
	enum { BITS = 11, BUCKETS = 1 << BITS };
	static const int passes = (64 + BITS - 1) / BITS;
	size_t (*cnt)[BUCKETS] = aiops_calloc((size_t)passes, sizeof(*cnt));
	struct sy *src = v, *dst = tmp;

	if (cnt == NULL)
		return AIOPS_ERR_NOMEM;
	for (size_t i = 0; i < m; i++)
		for (int p = 0; p < passes; p++)
			cnt[p][(v[i].k >> (p * BITS)) & (BUCKETS - 1)]++;
	for (int p = 0; p < passes; p++) {
		size_t sum = 0, *c = cnt[p];
		int shift = p * BITS;

		if (m == 0 || c[(v[0].k >> shift) & (BUCKETS - 1)] == m)
			continue;
		for (size_t b = 0; b < BUCKETS; b++) {
			size_t t = c[b];
			c[b] = sum;
			sum += t;
		}
		for (size_t i = 0; i < m; i++)
			dst[c[(src[i].k >> shift) & (BUCKETS - 1)]++] = src[i];
		{
			struct sy *t = src;
			src = dst;
			dst = t;
		}
	}
	if (src != v)
		memcpy(v, src, m * sizeof(*v));
	aiops_free(cnt);
	return AIOPS_OK;
}

int
aiops_rank_metrics(const double *score, const unsigned char *y, size_t n,
    struct aiops_rank *out, struct aiops_error *e)
{
	struct sy *v = aiops_malloc((n ? n : 1) * sizeof(*v));
	struct sy *tmp = aiops_malloc((n ? n : 1) * sizeof(*v));
	size_t m = 0, tp = 0, fp = 0, P = 0, N;
	double prev_r = 0, prev_fpr = 0, prev_tpr = 0;

	memset(out, 0, sizeof(*out));
	if (v == NULL || tmp == NULL) {
		aiops_free(v);
		aiops_free(tmp);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (!isnan(score[i])) {
			v[m].k = desc_key(score[i]);
			v[m].y = y[i] ? 1 : 0;
			P += v[m].y;
			m++;
		}
	if (m == 0 || P == 0) {
		aiops_free(v);
		aiops_free(tmp);
		return aiops_error_set(e, AIOPS_ERR_DATA, m == 0 ? "no scores to evaluate" :
		    "the labels have no anomalies: F1 and AUC-PR are undefined");
	}
	if (radix_sort(v, tmp, m) != AIOPS_OK) {
		aiops_free(v);
		aiops_free(tmp);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	aiops_free(tmp);
	N = m - P;
	out->n = m;
	out->npos = P;
	out->best_f1 = 0;
	out->best_thr = INFINITY;
	for (size_t i = 0; i < m; ) {
		uint64_t k = v[i].k;
		double s = key_score(k), p, r, f1, fpr, tpr;
		/* all rows with the same score fall on the same side of a threshold */
		for (; i < m && v[i].k == k; i++) {
			tp += v[i].y;
			fp += !v[i].y;
		}
		p = (double)tp / (double)(tp + fp);
		r = (double)tp / (double)P;
		f1 = tp ? 2 * p * r / (p + r) : 0;
		if (f1 > out->best_f1) {
			out->best_f1 = f1;
			out->best_thr = s;
			out->best_prec = p;
			out->best_rec = r;
		}
		out->auc_pr += (r - prev_r) * p;
		prev_r = r;
		fpr = N ? (double)fp / (double)N : 0;
		tpr = r;
		out->auc_roc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2;
		prev_fpr = fpr;
		prev_tpr = tpr;
	}
	if (N == 0)
		out->auc_roc = NAN;
	aiops_free(v);
	return AIOPS_OK;
}

/* The k-th smallest of v[0..n) (0-based), moving values around: quickselect. */
static double
select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		/* median of three as the pivot keeps sorted input linear */
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		double a = v[lo], b = v[mid], c = v[hi], p, t;
		p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		while (i <= j) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

double
aiops_quantile(const double *v, size_t n, double p)
{
	double *w = aiops_calloc(n ? n : 1, sizeof(double)), h, r, lo;
	size_t m = 0, i;

	if (w == NULL)
		return NAN;
	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			w[m++] = v[i];
	if (m == 0) {
		aiops_free(w);
		return NAN;
	}
	/* numpy's linear interpolation between the two order statistics around h */
	h = (double)(m - 1) * p;
	i = (size_t)floor(h);
	lo = select_kth(w, m, i);
	if (i + 1 < m) {
		/* after selecting, everything above index i is >= lo: the next is their minimum */
		double nx = w[i + 1];
		for (size_t k = i + 2; k < m; k++)
			if (w[k] < nx)
				nx = w[k];
		r = lo + (h - (double)i) * (nx - lo);
	} else {
		r = lo;
	}
	aiops_free(w);
	return r;
}

int
aiops_thr_parse(const char *s, struct aiops_thr_spec *t, struct aiops_error *e)
{
	char *end;

	memset(t, 0, sizeof(*t));
	t->q = 1e-3;
	t->level = 0.98;
	t->k = 3;
	if (strncmp(s, "quantile", 8) == 0) {
		t->method = AIOPS_THR_QUANTILE;
		t->q = 0.99;
		if (s[8] == ':') {
			t->q = strtod(s + 9, &end);
			if (*end || !(t->q > 0 && t->q < 1))
				goto bad;
		} else if (s[8])
			goto bad;
	} else if (strncmp(s, "ksigma", 6) == 0) {
		t->method = AIOPS_THR_KSIGMA;
		if (s[6] == ':') {
			t->k = strtod(s + 7, &end);
			if (*end || !(t->k > 0) || !isfinite(t->k))
				goto bad;
		} else if (s[6])
			goto bad;
	} else if (strncmp(s, "pot", 3) == 0) {
		t->method = AIOPS_THR_POT;
		if (s[3] == ':') {
			t->q = strtod(s + 4, &end);
			if (!(t->q > 0 && t->q < 1))
				goto bad;
			if (*end == ':') {
				t->level = strtod(end + 1, &end);
				if (!(t->level > 0 && t->level < 1))
					goto bad;
			}
			if (*end)
				goto bad;
		} else if (s[3])
			goto bad;
	} else if (strcmp(s, "best-f1") == 0) {
		t->method = AIOPS_THR_BESTF1;
	} else {
		goto bad;
	}
	return AIOPS_OK;
bad:
	return aiops_error_set(e, AIOPS_ERR_USAGE,
	    "--threshold: expected quantile[:q], ksigma[:k], pot[:risk[:level]] or best-f1, got \"%s\"", s);
}

void
aiops_thr_format(const struct aiops_thr_spec *t, char *out, size_t outsz)
{
	switch (t->method) {
	case AIOPS_THR_QUANTILE: snprintf(out, outsz, "quantile:%g", t->q); break;
	case AIOPS_THR_KSIGMA: snprintf(out, outsz, "ksigma:%g", t->k); break;
	case AIOPS_THR_POT: snprintf(out, outsz, "pot:%g:%g", t->q, t->level); break;
	default: snprintf(out, outsz, "best-f1"); break;
	}
}

int
aiops_thr_compute(const struct aiops_thr_spec *t, const double *s, size_t n,
    const double *vs, const unsigned char *vy, size_t nv, double *thr,
    struct aiops_error *e)
{
	double mean = 0, var = 0;
	size_t m = 0;

	if (t->method == AIOPS_THR_BESTF1) {
		struct aiops_rank rk;
		int r;
		if (vs == NULL || vy == NULL)
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "--threshold best-f1 needs a labelled --valid tensor");
		if ((r = aiops_rank_metrics(vs, vy, nv, &rk, e)) != AIOPS_OK)
			return r;
		*thr = rk.best_thr;
		return AIOPS_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!isnan(s[i])) {
			mean += s[i];
			m++;
		}
	if (m == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "no training scores to set a threshold on");
	mean /= (double)m;
	for (size_t i = 0; i < n; i++)
		if (!isnan(s[i]))
			var += (s[i] - mean) * (s[i] - mean);
	var /= (double)m;
	switch (t->method) {
	case AIOPS_THR_QUANTILE:
		*thr = aiops_quantile(s, n, t->q);
		return AIOPS_OK;
	case AIOPS_THR_KSIGMA:
		*thr = mean + t->k * sqrt(var);
		return AIOPS_OK;
	default: {
		double u = aiops_quantile(s, n, t->level), em = 0, ev = 0, gamma, sigma, r;
		size_t nt = 0;

		for (size_t i = 0; i < n; i++)
			if (!isnan(s[i]) && s[i] > u) {
				em += s[i] - u;
				nt++;
			}
		if (nt < 2) {
			*thr = u;
			return AIOPS_OK;
		}
		em /= (double)nt;
		for (size_t i = 0; i < n; i++)
			if (!isnan(s[i]) && s[i] > u)
				ev += (s[i] - u - em) * (s[i] - u - em);
		ev /= (double)(nt - 1);
		if (!(ev > 0)) {
			*thr = u;
			return AIOPS_OK;
		}
		/* generalised Pareto by the method of moments */
		gamma = 0.5 * (1 - em * em / ev);
		sigma = 0.5 * em * (em * em / ev + 1);
		r = t->q * (double)m / (double)nt;
		if (fabs(gamma) < 1e-9)
			*thr = u - sigma * log(r);
		else
			*thr = u + sigma / gamma * (pow(r, -gamma) - 1);
		return AIOPS_OK;
	}
	}
}

int
aiops_sort_doubles(double *v, size_t n)
{
	struct sy *a;
	int r;

	if (n < 2) {
		if (n == 1 && v[0] == 0)
			v[0] = 0;  /* -0.0 too */
		return AIOPS_OK;
	}
	if ((a = aiops_reallocarray(NULL, n, 2 * sizeof(*a))) == NULL)
		return AIOPS_ERR_NOMEM;
	/* the rank metrics' sort, on keys in ascending order */
	for (size_t i = 0; i < n; i++) {
		a[i].k = ~desc_key(v[i]);
		a[i].y = 0;
	}
	if ((r = radix_sort(a, a + n, n)) == AIOPS_OK)
		for (size_t i = 0; i < n; i++)
			v[i] = key_score(~a[i].k);
	aiops_free(a);
	return r;
}
