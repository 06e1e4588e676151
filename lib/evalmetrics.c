/*
 * evalmetrics.c - point, point-adjusted and event metrics, forecast errors,
 * the NAB score, root-cause HitRate, and the drift statistics PSI and KS.
 * Everything is one or two passes over the rows; only the KS statistic
 * needs a sorted copy of the sample.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "evalmetrics.h"
#include "source.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

static double
ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0;
}

static double
f1_of(double p, double r)
{
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

void
aiops_decide(const double *score, size_t n, double thr, unsigned char *pred)
{
	if (pred == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		pred[i] = score[i] >= thr;   /* a NaN compares false: normal */
}

void
aiops_point_metrics(const unsigned char *y, const unsigned char *pred, size_t n,
    struct aiops_point *out)
{
	size_t c[4] = { 0, 0, 0, 0 };   /* by 2 * label + prediction */

	for (size_t i = 0; i < n; i++)
		c[(y[i] != 0) << 1 | (pred[i] != 0)]++;
	out->tn = c[0];
	out->fp = c[1];
	out->fn = c[2];
	out->tp = c[3];
	out->precision = ratio(out->tp, out->tp + out->fp);
	out->recall = ratio(out->tp, out->tp + out->fn);
	out->f1 = f1_of(out->precision, out->recall);
}

void
aiops_point_adjust(const unsigned char *y, const unsigned char *pred, size_t n,
    unsigned char *adj)
{
	size_t i = 0;

	while (i < n) {
		size_t s = i;
		unsigned char hit = 0;

		if (!y[i]) {
			adj[i] = pred[i] != 0;
			i++;
			continue;
		}
		/* read the whole segment before writing: adj may be pred */
		for (; i < n && y[i]; i++)
			hit |= pred[i] != 0;
		memset(adj + s, hit, i - s);
	}
}

void
aiops_event_metrics(const unsigned char *y, const unsigned char *pred, size_t n,
    struct aiops_events *out)
{
	size_t start = 0;
	int inlab = 0, det = 0, inpred = 0, istrue = 0;
	double delay = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		int a = y[i] != 0, p = pred[i] != 0;

		if (a) {
			if (!inlab) {
				inlab = 1;
				det = 0;
				start = i;
				out->nlabel++;
			}
			if (p && !det) {
				det = 1;
				out->ndetected++;
				delay += (double)(i - start);
			}
		} else {
			inlab = 0;
		}
		if (p) {
			if (!inpred) {
				inpred = 1;
				istrue = 0;
				out->npred++;
			}
			if (a && !istrue) {
				istrue = 1;
				out->ntrue++;
			}
		} else {
			inpred = 0;
		}
	}
	out->precision = ratio(out->ntrue, out->npred);
	out->recall = ratio(out->ndetected, out->nlabel);
	out->f1 = f1_of(out->precision, out->recall);
	out->mean_delay = out->ndetected ? delay / (double)out->ndetected : NAN;
}

int
aiops_forecast_errors(const double *x, const double *pred, size_t n, size_t d, size_t m,
    struct aiops_fcerr *out, struct aiops_error *e)
{
	double sa = 0, s2 = 0, ss = 0, sn = 0;
	size_t cnt = 0, nn = 0, cells;

	memset(out, 0, sizeof(*out));
	out->mase = NAN;
	if (m == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "seasonal period 0: MASE needs a period of at least 1 row");
	if (d != 0 && n > SIZE_MAX / d)
		return aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "%zu rows of %zu columns: too many cells", n, d);
	cells = n * d;
	for (size_t i = 0; i < cells; i++) {
		double a = x[i], p = pred[i], r, den;

		if (isnan(a) || isnan(p))
			continue;
		r = fabs(a - p);
		den = fabs(a) + fabs(p);
		sa += r;
		s2 += r * r;
		if (den > 0)          /* 0/0: actual and forecast both 0, no error */
			ss += 2 * r / den;
		cnt++;
	}
	if (cnt == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "no row has both an actual value and a forecast: the errors are undefined");
	out->n = cnt;
	out->mae = sa / (double)cnt;
	out->rmse = sqrt(s2 / (double)cnt);
	out->smape = 100 * ss / (double)cnt;
	/* the scale: the in-sample error of the seasonal naive forecast x[t - m] */
	if (n > m)
		for (size_t i = m * d; i < cells; i++) {
			double a = x[i], b = x[i - m * d];
			if (isnan(a) || isnan(b))
				continue;
			sn += fabs(a - b);
			nn++;
		}
	if (nn > 0 && sn > 0)
		out->mase = out->mae / (sn / (double)nn);
	return AIOPS_OK;
}

/* NAB's config/profiles.json: the cost matrices of its three application profiles. */
const struct aiops_nab_profile aiops_nab_profiles[3] = {
	{ "standard",           1.0, 0.11, 1.0, 1.0 },
	{ "reward_low_FP_rate", 1.0, 0.22, 1.0, 1.0 },
	{ "reward_low_FN_rate", 1.0, 0.11, 2.0, 1.0 },
};

/* NAB's scaled sigmoid 2 / (1 + e^(5y)) - 1 of a relative position y, -1 beyond 3. */
static double
nab_sigma(double y)
{
	if (y > 3.0)
		return -1.0;
	return 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

int
aiops_nab_score(const unsigned char *y, const unsigned char *pred, size_t n,
    double probation, const struct aiops_nab_profile *p, struct aiops_nab *out,
    struct aiops_error *e)
{
	double plen, raw = 0, maxtp = nab_sigma(-1.0);
	size_t first, nwin = 0, prev_end = 0, prev_w = 0, i = 0;
	int have_prev = 0;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "no NAB profile given");
	if (!(probation >= 0 && probation < 1))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "probationary fraction %g: expected a number in [0, 1)", probation);
	/* NAB's probationary period: floor(p * n) rows, but never more than p * 5000 */
	plen = fmin(floor(probation * (double)n), probation * 5000);
	first = (size_t)ceil(plen);   /* the first scored row */
	while (i < n) {
		if (y[i]) {
			size_t s = i, end, w, r;

			while (i < n && y[i])
				i++;
			end = i - 1;
			w = i - s;
			/* a window wholly in the probationary period is not scored at all */
			if (end >= first) {
				double pos;
				nwin++;
				for (r = s > first ? s : first; r <= end && !pred[r]; r++)
					;
				pos = -(double)(end - r + 1) / (double)w;
				raw += r <= end ? p->tp * nab_sigma(pos) / maxtp : -p->fn;
			}
			have_prev = 1;
			prev_end = end;
			prev_w = w;
			continue;
		}
		if (pred[i] && i >= first) {
			if (!have_prev)
				raw -= p->fp;
			else    /* NAB divides by width - 1: a one-row window divides by 1 */
				raw += p->fp * nab_sigma((double)(i - prev_end) /
				    (double)(prev_w > 1 ? prev_w - 1 : 1));
		}
		i++;
	}
	out->raw = raw;
	out->null = -p->fn * (double)nwin;
	out->perfect = p->tp * (double)nwin;
	return AIOPS_OK;
}

double
aiops_nab_normalize(const struct aiops_nab *sum)
{
	if (sum->perfect == sum->null)
		return 0;
	return 100 * (sum->raw - sum->null) / (sum->perfect - sum->null);
}

/* A column sum that is NaN (inf - inf) ranks last. */
static int
col_better(const double *s, size_t a, size_t b)
{
	return s[a] > s[b] || (s[a] == s[b] && a < b);
}

static double
col_sum(const double *contrib, size_t d, size_t start, size_t end, size_t j)
{
	double t = 0;

	for (size_t i = start; i < end; i++) {
		double v = contrib[i * d + j];
		if (!isnan(v))
			t += v;
	}
	return isnan(t) ? -INFINITY : t;
}

/* s[0..d) = the sums of each column over rows [start, end), NaN counting 0. */
static void
col_sums(const double *contrib, size_t d, size_t start, size_t end, double *s)
{
	for (size_t j = 0; j < d; j++)
		s[j] = 0;
	for (size_t i = start; i < end; i++) {
		const double *row = contrib + i * d;
		for (size_t j = 0; j < d; j++)
			if (!isnan(row[j]))
				s[j] += row[j];
	}
	for (size_t j = 0; j < d; j++)
		if (isnan(s[j]))
			s[j] = -INFINITY;
}

/* Sift h[i] down a heap of k column indices whose root is the worst column. */
static void
worst_sift(const double *s, size_t *h, size_t k, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, t;

		if (c >= k)
			return;
		if (c + 1 < k && col_better(s, h[c], h[c + 1]))
			c++;
		if (!col_better(s, h[i], h[c]))
			return;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
}

void
aiops_top_columns(const double *contrib, size_t n, size_t d, size_t start, size_t end,
    size_t k, size_t *idx)
{
	double local[256], *s = local;

	if (end > n)
		end = n;
	if (start > end)
		start = end;
	if (k > d)
		k = d;
	if (k == 0)
		return;
	if (d > sizeof(local) / sizeof(local[0]) &&
	    (s = aiops_malloc(d * sizeof(double))) == NULL) {
		/* no memory for the sums: select k times, summing each column as it is looked at */
		for (size_t t = 0; t < k; t++) {
			size_t best = SIZE_MAX;
			double bs = 0;
			for (size_t j = 0; j < d; j++) {
				size_t u;
				double v;
				for (u = 0; u < t && idx[u] != j; u++)
					;
				if (u < t)
					continue;
				v = col_sum(contrib, d, start, end, j);
				if (best == SIZE_MAX || v > bs) {
					best = j;
					bs = v;
				}
			}
			idx[t] = best;
		}
		return;
	}
	col_sums(contrib, d, start, end, s);
	/* keep the best k seen so far in a heap rooted at the worst of them */
	for (size_t j = 0; j < d; j++) {
		if (j < k) {
			idx[j] = j;
			if (j == k - 1)
				for (size_t r = k / 2; r-- > 0;)
					worst_sift(s, idx, k, r);
		} else if (col_better(s, j, idx[0])) {
			idx[0] = j;
			worst_sift(s, idx, k, 0);
		}
	}
	/* take the worst off the top into the last free place: best first */
	for (size_t m = k; m > 1; m--) {
		size_t t = idx[0];
		idx[0] = idx[m - 1];
		idx[m - 1] = t;
		worst_sift(s, idx, m - 1, 0);
	}
	if (s != local)
		aiops_free(s);
}

int
aiops_hitrate(const double *contrib, size_t n, size_t d, const struct aiops_interp *segs,
    size_t nsegs, double pct, double *out, struct aiops_error *e)
{
	double *s, total = 0;
	size_t points = 0;
	unsigned char *mark;
	int r = AIOPS_OK;

	*out = NAN;
	if (!(pct > 0) || !isfinite(pct))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "HitRate@%g%%: expected a positive percentage", pct);
	if (nsegs == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "no interpretation segments: HitRate is undefined");
	if (d == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "no columns: HitRate is undefined");
	if ((s = aiops_malloc(d * (sizeof(double) + 1))) == NULL)
		return nomem(e);
	mark = (unsigned char *)(s + d);
	memset(mark, 0, d);
	for (size_t k = 0; k < nsegs && r == AIOPS_OK; k++) {
		const struct aiops_interp *g = &segs[k];
		size_t top, hits = 0, c;

		if (g->start >= g->end || g->end > n) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "interpretation segment %zu (rows %zu-%zu): %s", k + 1, g->start,
			    g->end, g->start >= g->end ? "empty" : "beyond the scored rows");
			break;
		}
		if (g->ncols == 0) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "interpretation segment %zu (rows %zu-%zu): no ground-truth columns",
			    k + 1, g->start, g->end);
			break;
		}
		for (c = 0; c < g->ncols; c++) {
			size_t col = g->cols[c];
			if (col >= d || mark[col]) {
				r = aiops_error_set(e, AIOPS_ERR_DATA,
				    "interpretation segment %zu (rows %zu-%zu): column %zu %s",
				    k + 1, g->start, g->end, col + 1,
				    col >= d ? "does not exist" : "repeated");
				break;
			}
			mark[col] = 1;
		}
		for (size_t u = 0; u < c; u++)
			mark[g->cols[u]] = 0;
		if (r != AIOPS_OK)
			break;
		/* pct * g is exact for whole percentages, so 150% of 7 is 10, not 10.499.. */
		top = (size_t)floor(pct * (double)g->ncols / 100);
		if (top < 1)
			top = 1;
		if (top > d)
			top = d;
		/* every anomalous row of the segment, ranked on its own, as OmniAnomaly does */
		for (size_t t = g->start; t < g->end; t++) {
			col_sums(contrib, d, t, t + 1, s);
			hits = 0;
			/* a truth column is in the top when fewer than top columns rank above it */
			for (c = 0; c < g->ncols; c++) {
				size_t col = g->cols[c], above = 0;
				for (size_t j = 0; j < d && above < top; j++)
					above += col_better(s, j, col);
				hits += above < top;
			}
			total += (double)hits / (double)g->ncols;
			points++;
		}
	}
	aiops_free(s);
	if (r == AIOPS_OK)
		*out = total / (double)points;
	return r;
}

void
aiops_interp_free(struct aiops_interp *segs, size_t nsegs)
{
	if (segs == NULL)
		return;
	for (size_t k = 0; k < nsegs; k++)
		aiops_free(segs[k].cols);
	aiops_free(segs);
}

#define INTERP_MAXCOL 1048576   /* a column number beyond this is a typo, not a metric */

/* What the parser found at p, for a message: a quoted token or "the end of the line". */
static const char *
shown(const char *p, const char *end, char *buf, size_t bufsz)
{
	size_t n = 0;

	if (p == end)
		return "the end of the line";
	while (p + n < end && n < 24 && p[n] != ',' && p[n] != ':' && p[n] != '-')
		n++;
	if (n == 0)
		n = 1;
	snprintf(buf, bufsz, "\"%.*s%s\"", (int)n, p, p + n < end && n == 24 ? "..." : "");
	return buf;
}

/* Decimal digits at *pp into *v; 0 ok, -1 none, -2 too large for a size_t. */
static int
parse_size(const char **pp, const char *end, size_t *v)
{
	const char *p = *pp;
	size_t x = 0;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned dg = (unsigned)(*p - '0');
		if (x > (SIZE_MAX - dg) / 10)
			return -2;
		x = x * 10 + dg;
	}
	*pp = p;
	*v = x;
	return 0;
}

struct interp_parse {
	const char *name;
	struct aiops_interp *segs;
	size_t n, cap;
	size_t *cols;                 /* the columns of the line being read */
	size_t ncols, colcap;
	unsigned char *seen;          /* seen[c]: column c already on this line */
	size_t seencap;
	struct aiops_error *e;
};

static int
interp_err(struct interp_parse *P, long line, const char *ls, const char *p, const char *what,
    const char *le)
{
	char sb[40];

	return aiops_error_set(P->e, AIOPS_ERR_DATA, "%s:%ld:%ld: expected %s, got %s", P->name,
	    line, (long)(p - ls) + 1, what, shown(p, le, sb, sizeof(sb)));
}

/* One line "start-end:c1,c2,..." from ls to le (no newline) into a new segment. */
static int
interp_line(struct interp_parse *P, long line, const char *ls, const char *le)
{
	const char *p = ls, *q;
	size_t start, end, c;
	struct aiops_interp *g;
	int r;

	if ((r = parse_size(&p, le, &start)) != 0)
		return r == -2 ? aiops_error_set(P->e, AIOPS_ERR_DATA,
		    "%s:%ld:1: start row too large", P->name, line) :
		    interp_err(P, line, ls, p, "a start row", le);
	if (p == le || *p != '-')
		return interp_err(P, line, ls, p, "'-' after the start row", le);
	q = ++p;
	if ((r = parse_size(&p, le, &end)) != 0)
		return r == -2 ? aiops_error_set(P->e, AIOPS_ERR_DATA,
		    "%s:%ld:%ld: end row too large", P->name, line, (long)(q - ls) + 1) :
		    interp_err(P, line, ls, p, "an end row", le);
	if (end <= start)
		return aiops_error_set(P->e, AIOPS_ERR_DATA,
		    "%s:%ld:%ld: end row %zu is not after start row %zu (the end is exclusive)",
		    P->name, line, (long)(q - ls) + 1, end, start);
	if (p == le || *p != ':')
		return interp_err(P, line, ls, p, "':' after the end row", le);
	P->ncols = 0;
	do {
		q = ++p;
		if ((r = parse_size(&p, le, &c)) == -1) {
			r = interp_err(P, line, ls, p, "a column number", le);
		} else if (r == -2 || c == 0 || c > INTERP_MAXCOL) {
			for (p = q; p < le && *p >= '0' && *p <= '9'; p++)
				;
			r = aiops_error_set(P->e, AIOPS_ERR_DATA,
			    "%s:%ld:%ld: column %.*s: expected a number from 1 to %d", P->name,
			    line, (long)(q - ls) + 1, (int)(p - q > 24 ? 24 : p - q), q,
			    INTERP_MAXCOL);
		} else if (p != le && *p != ',') {
			r = interp_err(P, line, ls, p, "',' or the end of the line", le);
		} else if (c <= P->seencap && P->seen[c - 1]) {
			r = aiops_error_set(P->e, AIOPS_ERR_DATA, "%s:%ld:%ld: column %zu repeated",
			    P->name, line, (long)(q - ls) + 1, c);
		}
		if (r != 0)
			break;
		if (c > P->seencap) {
			size_t ncap = P->seencap ? P->seencap : 64;
			unsigned char *ns;
			while (ncap < c)
				ncap *= 2;
			if ((ns = aiops_realloc(P->seen, ncap)) == NULL)
				return nomem(P->e);
			memset(ns + P->seencap, 0, ncap - P->seencap);
			P->seen = ns;
			P->seencap = ncap;
		}
		if (P->ncols == P->colcap) {
			size_t ncap = P->colcap ? 2 * P->colcap : 64;
			size_t *nc = aiops_reallocarray(P->cols, ncap, sizeof(*nc));
			if (nc == NULL)
				return nomem(P->e);
			P->cols = nc;
			P->colcap = ncap;
		}
		P->seen[c - 1] = 1;
		P->cols[P->ncols++] = c - 1;
	} while (p != le);
	for (size_t k = 0; k < P->ncols; k++)
		P->seen[P->cols[k]] = 0;
	if (r != 0)
		return r;
	if (P->n == P->cap) {
		size_t ncap = P->cap ? 2 * P->cap : 16;
		struct aiops_interp *ns = aiops_reallocarray(P->segs, ncap, sizeof(*ns));
		if (ns == NULL)
			return nomem(P->e);
		P->segs = ns;
		P->cap = ncap;
	}
	g = &P->segs[P->n];
	if ((g->cols = aiops_reallocarray(NULL, P->ncols, sizeof(size_t))) == NULL)
		return nomem(P->e);
	memcpy(g->cols, P->cols, P->ncols * sizeof(size_t));
	g->ncols = P->ncols;
	g->start = start;
	g->end = end;
	P->n++;
	return AIOPS_OK;
}

int
aiops_interp_load(const char *path, struct aiops_interp **segs, size_t *nsegs,
    struct aiops_error *e)
{
	struct interp_parse P = { 0 };
	struct aiops_buf b = AIOPS_BUF_INIT;
	const char *p, *end;
	long line = 0;
	int r;

	*segs = NULL;
	*nsegs = 0;
	P.name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	P.e = e;
	if ((r = aiops_src_read_all(path, AIOPS_INTERP_MAX_FILE, "interpretation file", &b, e)) != AIOPS_OK)
		return r;
	p = b.buf ? b.buf : "";
	end = p + b.len;
	r = AIOPS_OK;
	while (p < end && r == AIOPS_OK) {
		const char *le = memchr(p, '\n', (size_t)(end - p)), *next;

		if (le == NULL)
			le = end;
		next = le < end ? le + 1 : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le > p)     /* blank lines are skipped */
			r = interp_line(&P, line, p, le);
		p = next;
	}
	aiops_buf_release(&b);
	aiops_free(P.cols);
	aiops_free(P.seen);
	if (r != AIOPS_OK) {
		aiops_interp_free(P.segs, P.n);
		return r;
	}
	*segs = P.segs;
	*nsegs = P.n;
	return AIOPS_OK;
}

/*
 * Sorting doubles in place (no NaN): quicksort on a median of three, the
 * small ranges by insertion, and heapsort when the splits go badly, so
 * O(n log n) always and no memory beyond the stack.
 */
static void
dswap(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

static void
dsift(double *v, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			return;
		if (c + 1 < n && v[c + 1] > v[c])
			c++;
		if (!(v[c] > v[i]))
			return;
		dswap(&v[i], &v[c]);
		i = c;
	}
}

static void
dsort(double *v, size_t n, int depth)
{
	while (n > 16) {
		size_t mid = n / 2;
		ptrdiff_t i = -1, j = (ptrdiff_t)n;
		double p;

		if (depth-- == 0) {
			for (size_t r = n / 2; r-- > 0;)
				dsift(v, n, r);
			for (size_t m = n; m > 1; m--) {
				dswap(&v[0], &v[m - 1]);
				dsift(v, m - 1, 0);
			}
			return;
		}
		if (v[mid] < v[0])
			dswap(&v[mid], &v[0]);
		if (v[n - 1] < v[0])
			dswap(&v[n - 1], &v[0]);
		if (v[n - 1] < v[mid])
			dswap(&v[n - 1], &v[mid]);
		p = v[mid];
		/* Hoare's partition: v[0] <= p <= v[n - 1] keeps j in [0, n - 2] */
		for (;;) {
			do
				i++;
			while (v[i] < p);
			do
				j--;
			while (v[j] > p);
			if (i >= j)
				break;
			dswap(&v[i], &v[j]);
		}
		/* recurse into the smaller half, loop on the larger: a shallow stack */
		if ((size_t)j + 1 < n - ((size_t)j + 1)) {
			dsort(v, (size_t)j + 1, depth);
			v += j + 1;
			n -= (size_t)j + 1;
		} else {
			dsort(v + j + 1, n - ((size_t)j + 1), depth);
			n = (size_t)j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		double t = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > t; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/*
 * The reference CDF at v given c, the number of quantiles <= v (or < v for
 * the left limit): linear between the two quantiles around v, whose levels
 * are (c - 1) / (nq - 1) and c / (nq - 1).
 */
static double
ref_cdf(const double *q, size_t nq, size_t qs, size_t c, double v)
{
	double a, b;

	if (c == 0)
		return 0;
	if (c >= nq)
		return 1;
	a = q[(c - 1) * qs];
	b = q[c * qs];
	return ((double)(c - 1) + (v - a) / (b - a)) / (double)(nq - 1);
}

/* Q(l) = 1 - K(l), the Kolmogorov distribution's survival function. */
static double
kolmogorov_sf(double l)
{
	double s = 0;

	if (!(l > 0))
		return 1;
	if (l < 1.18) {
		/* K(l) = sqrt(2 pi) / l * sum exp(-(2k - 1)^2 pi^2 / (8 l^2)): fast for small l */
		double f = -M_PI * M_PI / (8 * l * l);
		for (int k = 1; k < 40; k++) {
			double t = exp(f * (double)((2 * k - 1) * (2 * k - 1)));
			s += t;
			if (t < 1e-17 * s)
				break;
		}
		return 1 - sqrt(2 * M_PI) / l * s;
	}
	for (int k = 1; k < 100; k++) {
		double t = exp(-2 * (double)k * (double)k * l * l);
		s += (k & 1) ? t : -t;
		if (t < 1e-17)
			break;
	}
	s *= 2;
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

int
aiops_drift(const double *x, size_t n, size_t xstride, const double *q, size_t nq,
    size_t qstride, size_t ref_n, struct aiops_drift *out, struct aiops_error *e)
{
	double edge[9], *v, ks = 0, psi = 0, en;
	size_t ne = 0, m = 0, cr = 0, cl = 0, pos = 0;
	int depth = 0;

	memset(out, 0, sizeof(*out));
	out->psi = out->ks = out->ks_pvalue = NAN;
	if (xstride == 0 || qstride == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "drift: a stride of 0");
	if (nq < 2)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "drift: the reference has %zu quantile%s, at least 2 are needed", nq,
		    nq == 1 ? "" : "s");
	for (size_t k = 0; k < nq; k++) {
		double a = q[k * qstride];
		if (!isfinite(a))
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "drift: reference quantile %zu of %zu is not a finite number",
			    k + 1, nq);
		if (k > 0 && a < q[(k - 1) * qstride])
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "drift: reference quantile %zu of %zu is below the one before it",
			    k + 1, nq);
	}
	for (size_t i = 0; i < n; i++)
		m += !isnan(x[i * xstride]);
	if (m == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "drift: the sample has no values to compare with the reference");
	if ((v = aiops_malloc(m * sizeof(double))) == NULL)
		return nomem(e);
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i * xstride]))
			v[m++] = x[i * xstride];
	for (size_t s = m; s > 1; s >>= 1)
		depth += 2;
	dsort(v, m, depth);

	/* KS: at each distinct value, F_x jumps from i/m to j/m; compare both with F_ref */
	for (size_t i = 0; i < m;) {
		double a = v[i], d1, d2;
		size_t j = i;
		while (j < m && v[j] == a)
			j++;
		while (cr < nq && q[cr * qstride] <= a)
			cr++;
		while (cl < nq && q[cl * qstride] < a)
			cl++;
		d1 = fabs((double)j / (double)m - ref_cdf(q, nq, qstride, cr, a));
		d2 = fabs((double)i / (double)m - ref_cdf(q, nq, qstride, cl, a));
		if (d1 > ks)
			ks = d1;
		if (d2 > ks)
			ks = d2;
		i = j;
	}

	/* PSI: bins (-inf, e1], (e1, e2], ..., (e_last, inf) on the reference deciles */
	for (size_t j = 1; j <= 9; j++) {
		double h = (double)(j * (nq - 1)) / 10, t, a;
		size_t k = (size_t)h;
		t = h - (double)k;
		a = q[k * qstride];
		if (t > 0 && k + 1 < nq)
			a += t * (q[(k + 1) * qstride] - a);
		if (ne == 0 || a > edge[ne - 1])
			edge[ne++] = a;
	}
	for (size_t b = 0; b <= ne; b++) {
		double flo, fhi, pe, pa;
		size_t c, cnt = 0;

		if (b == 0) {
			flo = 0;
		} else {
			for (c = 0; c < nq && q[c * qstride] <= edge[b - 1]; c++)
				;
			flo = ref_cdf(q, nq, qstride, c, edge[b - 1]);
		}
		if (b == ne) {
			fhi = 1;
			cnt = m - pos;
		} else {
			for (c = 0; c < nq && q[c * qstride] <= edge[b]; c++)
				;
			fhi = ref_cdf(q, nq, qstride, c, edge[b]);
			for (; pos < m && v[pos] <= edge[b]; pos++)
				cnt++;
		}
		pe = fmax(fhi - flo, 1e-4);
		pa = fmax((double)cnt / (double)m, 1e-4);
		psi += (pa - pe) * log(pa / pe);
	}
	aiops_free(v);

	en = ref_n ? (double)m * (double)ref_n / ((double)m + (double)ref_n) : (double)m;
	out->n = m;
	out->psi = psi;
	out->ks = ks;
	out->ks_pvalue = kolmogorov_sf(sqrt(en) * ks);
	return AIOPS_OK;
}
