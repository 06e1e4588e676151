/*
 * plot.c - the SVG picture of an evaluation: series and score panels over
 * one time axis, decimated to the pixel columns so any row count stays small.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

/* The page, in pixels. Every coordinate is written in tenths of a pixel. */
#define W       1200
#define H       700
#define PX0     70              /* left edge of both panels */
#define PW      900             /* their width: the pixel columns rows map to */
#define P1_TOP  50              /* series panel */
#define P1_H    330
#define P2_TOP  410             /* score panel */
#define P2_H    220
#define PAD     8               /* inset of the data from a panel's top and bottom */
#define LEG_X   990             /* legend column */
#define LEG_DY  15
#define TICK_GAP 75             /* the least room between two time labels */
#define MAX_TICKS 32

#define COL_LABEL "#f5a623"
#define COL_PRED  "#7b3fb5"
#define COL_SCORE "#222222"
#define COL_THR   "#d62728"
#define COL_GRID  "#e6e6e6"
#define COL_FRAME "#808080"

static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf"
};

/* min and max of the finite values of one pixel column's rows */
struct bucket {
	double lo, hi;
	int state;      /* 0: no finite value, 1: the minimum came first, 2: the maximum did */
};

struct ctx {
	const struct aiops_plot *p;
	struct aiops_buf *b;
	int err;                /* the first failure; later output is skipped */
	struct bucket *bk;
	size_t nb;              /* buckets: min(n, PW) */
};

/* maps a value to a y pixel inside [top, top + h] */
struct scale {
	int log;                /* lo and hi are log10 of the range */
	double lo, hi;
	double top, h;
};

struct tick {
	double px;
	char l1[32], l2[24];
};

/* a number of tenths of a pixel as text, e.g. "-12.5", "300" */
struct num {
	char s[32];
};

static struct num
num10(long long v)
{
	struct num r;
	unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	if (a % 10 == 0)
		snprintf(r.s, sizeof(r.s), "%s%llu", v < 0 ? "-" : "", a / 10);
	else
		snprintf(r.s, sizeof(r.s), "%s%llu.%llu", v < 0 ? "-" : "", a / 10, a % 10);
	return r;
}

static long long
t10(double px)
{
	/* Anything off the page is a bug upstream; keep llround defined anyway. */
	if (!(px > -10000.0 && px < 10000.0))
		px = 0;
	return llround(px * 10);
}

/* a pixel position as text */
static struct num
pxs(double px)
{
	return num10(t10(px));
}

__attribute__((format(printf, 2, 3)))
static void
put(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (c->err)
		return;
	va_start(ap, fmt);
	r = aiops_buf_vaddf(c->b, fmt, ap);
	va_end(ap);
	if (r != AIOPS_OK)
		c->err = r;
}

/*
 * Append s as XML character data (also fit for a quoted attribute): see
 * aiops_buf_addxml().
 */
static void
put_text(struct ctx *c, const char *s, size_t maxcp)
{
	if (!c->err && aiops_buf_addxml(c->b, s, maxcp) != AIOPS_OK)
		c->err = AIOPS_ERR_NOMEM;
}

/* x of the middle of (possibly fractional) row r */
static double
row_x(const struct ctx *c, double r)
{
	return PX0 + (r + 0.5) * PW / (double)c->p->n;
}

static double
ymap(const struct scale *s, double v)
{
	double t;

	if (s->log)
		t = v > 0 ? (log10(v) - s->lo) / (s->hi - s->lo) : 0;
	else if (s->hi > s->lo)
		/* halves, so that a range of +-DBL_MAX does not overflow */
		t = (v / 2 - s->lo / 2) / (s->hi / 2 - s->lo / 2);
	else
		t = 0.5;
	if (isnan(t))
		t = 0.5;
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return s->top + s->h - t * s->h;
}

/*
 * Fill c->bk with the min and max of each bucket of the column that starts
 * at v (row r at v[r * stride]); the finite range goes to *lo, *hi.
 * Returns the number of buckets with a finite value.
 */
static size_t
bucketize(struct ctx *c, const double *v, size_t stride, double *lo, double *hi)
{
	size_t n = c->p->n, nb = c->nb, filled = 0;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t b = 0; b < nb; b++) {
		size_t r0 = b * n / nb, r1 = (b + 1) * n / nb, ilo = 0, ihi = 0;
		struct bucket *k = &c->bk[b];

		k->state = 0;
		for (size_t r = r0; r < r1; r++) {
			double y = v[r * stride];

			if (!isfinite(y))
				continue;
			if (k->state == 0) {
				k->lo = k->hi = y;
				ilo = ihi = r;
				k->state = 1;
			} else if (y < k->lo) {
				k->lo = y;
				ilo = r;
			} else if (y > k->hi) {
				k->hi = y;
				ihi = r;
			}
		}
		if (k->state == 0)
			continue;
		k->state = ilo <= ihi ? 1 : 2;
		filled++;
		if (k->lo < *lo)
			*lo = k->lo;
		if (k->hi > *hi)
			*hi = k->hi;
	}
	return filled;
}

/* A path of relative moves: "M x y", then "l dx dy", "h dx" or "v dy". */
struct pen {
	long long x, y;
	int down, segs;
};

static void
pen_to(struct ctx *c, struct pen *pn, long long x, long long y)
{
	if (!pn->down) {
		put(c, "M%s %s", num10(x).s, num10(y).s);
		pn->down = 1;
		pn->segs = 0;
	} else if (x == pn->x && y == pn->y) {
		return;
	} else if (x == pn->x) {
		put(c, "v%s", num10(y - pn->y).s);
		pn->segs++;
	} else if (y == pn->y) {
		put(c, "h%s", num10(x - pn->x).s);
		pn->segs++;
	} else {
		put(c, "l%s%s%s", num10(x - pn->x).s, y < pn->y ? "" : " ",
		    num10(y - pn->y).s);
		pn->segs++;
	}
	pn->x = x;
	pn->y = y;
}

/* Lift the pen; a lone point becomes a dot (round caps draw it). */
static void
pen_up(struct ctx *c, struct pen *pn)
{
	if (pn->down && pn->segs == 0)
		put(c, "h0");
	pn->down = 0;
}

/* One path through the buckets in c->bk; nothing when all are empty. */
static void
put_path(struct ctx *c, const struct scale *s, const char *colour)
{
	struct pen pn = { 0, 0, 0, 0 };
	int open = 0;

	for (size_t b = 0; b < c->nb; b++) {
		const struct bucket *k = &c->bk[b];
		long long x;

		if (k->state == 0) {
			pen_up(c, &pn);
			continue;
		}
		if (!open) {
			put(c, "<path stroke=\"%s\" d=\"", colour);
			open = 1;
		}
		x = t10(PX0 + (b + 0.5) * PW / (double)c->nb);
		pen_to(c, &pn, x, t10(ymap(s, k->state == 1 ? k->lo : k->hi)));
		pen_to(c, &pn, x, t10(ymap(s, k->state == 1 ? k->hi : k->lo)));
	}
	pen_up(c, &pn);
	if (open)
		put(c, "\"/>\n");
}

static void
put_seg_rect(struct ctx *c, const char *cls, long long x0, long long x1, double top, double h)
{
	put(c, "<rect class=\"%s\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>\n", cls,
	    num10(x0).s, pxs(top).s, num10(x1 - x0).s, pxs(h).s);
}

/*
 * One rectangle from top to top + h per maximal run of nonzero m, merged
 * with the previous one when less than a pixel apart; each at least a
 * pixel wide.
 */
static void
put_segments(struct ctx *c, const unsigned char *m, const char *cls, double top, double h)
{
	size_t n = c->p->n, i = 0, s;
	long long x0 = 0, x1 = 0, a, z, lim = (PX0 + PW) * 10LL;
	int pending = 0;

	while (i < n) {
		if (!m[i]) {
			i++;
			continue;
		}
		for (s = i; i < n && m[i]; i++)
			;
		a = t10(PX0 + (double)s * PW / (double)n);
		z = t10(PX0 + (double)i * PW / (double)n);
		if (z < a + 10)
			z = a + 10;
		if (z > lim) {
			z = lim;
			a = a < z - 10 ? a : z - 10;
		}
		if (pending && a <= x1 + 10) {
			x1 = z > x1 ? z : x1;
			continue;
		}
		if (pending)
			put_seg_rect(c, cls, x0, x1, top, h);
		x0 = a;
		x1 = z;
		pending = 1;
	}
	if (pending)
		put_seg_rect(c, cls, x0, x1, top, h);
}

/* --- the time axis ------------------------------------------------------------- */

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm) */
static void
civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yy + (*m <= 2);
}

static int64_t
days(int64_t y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

enum { LAB_YEAR, LAB_MONTH, LAB_DAY, LAB_MIN, LAB_SEC, LAB_MS };

/* The label of time t (ms); date is the YYYY-MM-DD part for the second line. */
static void
time_label(int64_t t, int kind, struct tick *k, char *date, size_t datesz)
{
	int64_t day = floordiv(t, 86400000), y;
	int64_t ms = t - day * 86400000;
	int m, d, hh = (int)(ms / 3600000), mm = (int)(ms / 60000 % 60);
	int ss = (int)(ms / 1000 % 60), mss = (int)(ms % 1000);

	civil(day, &y, &m, &d);
	snprintf(date, datesz, "%04lld-%02d-%02d", (long long)y, m, d);
	k->l2[0] = '\0';
	switch (kind) {
	case LAB_YEAR:
		snprintf(k->l1, sizeof(k->l1), "%04lld", (long long)y);
		break;
	case LAB_MONTH:
		snprintf(k->l1, sizeof(k->l1), "%04lld-%02d", (long long)y, m);
		break;
	case LAB_DAY:
		snprintf(k->l1, sizeof(k->l1), "%s", date);
		break;
	case LAB_MIN:
		snprintf(k->l1, sizeof(k->l1), "%02d:%02d", hh, mm);
		break;
	case LAB_SEC:
		snprintf(k->l1, sizeof(k->l1), "%02d:%02d:%02d", hh, mm, ss);
		break;
	default:
		snprintf(k->l1, sizeof(k->l1), "%02d:%02d:%02d.%03d", hh, mm, ss, mss);
	}
}

/* Where time t falls among the rows, by interpolation; ts is non-decreasing. */
static double
time_row(const int64_t *ts, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	if (lo == n)
		return (double)(n - 1);
	if (ts[lo] == t)
		return (double)lo;
	return (double)(lo - 1) + (double)(t - ts[lo - 1]) / (double)(ts[lo] - ts[lo - 1]);
}

/*
 * Ticks at round UTC times (at most 7 steps over the span) when ts is given
 * and non-decreasing, else at round row numbers. Returns the count; *axis
 * names the axis.
 */
static size_t
make_ticks(const struct ctx *c, struct tick *tk, const char **axis)
{
	static const int64_t fixed[] = {
		1, 2, 5, 10, 20, 50, 100, 200, 500,
		1000, 2000, 5000, 10000, 15000, 30000,
		60000, 120000, 300000, 600000, 900000, 1800000,
		3600000, 7200000, 10800000, 21600000, 43200000,
		86400000, 172800000, 604800000, 1209600000
	};
	static const int months[] = { 1, 2, 3, 6 };
	const int64_t *ts = c->p->ts;
	size_t n = c->p->n, nt = 0;
	int64_t t[MAX_TICKS], span, step = 0, mstep = 0;
	int ordered = ts != NULL, kind;
	char date[24], prev[24] = "";
	double last = -1e9;

	*axis = "row";
	if (n == 0)
		return 0;
	for (size_t i = 1; ordered && i < n; i++)
		if (ts[i] < ts[i - 1])
			ordered = 0;
	/* about +-31000 years: the calendar arithmetic below cannot overflow */
	if (ordered && (ts[0] < -1000000000000000LL || ts[n - 1] > 1000000000000000LL))
		ordered = 0;
	if (!ordered) {
		double s = 1, e = (double)(n - 1);

		while (e / s > 7) {
			double m = s;
			if (e / (2 * m) <= 7) { s = 2 * m; break; }
			if (e / (5 * m) <= 7) { s = 5 * m; break; }
			s = 10 * m;
		}
		for (double r = 0; r <= e && nt < MAX_TICKS; r += s) {
			tk[nt].px = row_x(c, r);
			snprintf(tk[nt].l1, sizeof(tk[nt].l1), "%.0f", r);
			tk[nt].l2[0] = '\0';
			nt++;
		}
		if (ts != NULL)
			*axis = "row (timestamps not increasing or out of range)";
		return nt;
	}
	*axis = "time (UTC)";
	span = ts[n - 1] - ts[0];
	if (span == 0) {
		/* one instant: label it to the second */
		t[nt++] = ts[0];
		step = 1000;
	}
	for (size_t i = 0; nt == 0 && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (span / fixed[i] <= 7) {
			step = fixed[i];
			break;
		}
	if (step == 0) {
		for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++)
			if (span / ((int64_t)months[i] * 2629746000LL) <= 7) {
				mstep = months[i];
				break;
			}
		for (int64_t yrs = 1; mstep == 0; yrs *= 10) {
			if (span / (yrs * 31556952000LL) <= 7)
				mstep = 12 * yrs;
			else if (span / (2 * yrs * 31556952000LL) <= 7)
				mstep = 24 * yrs;
			else if (span / (5 * yrs * 31556952000LL) <= 7)
				mstep = 60 * yrs;
		}
	}
	if (nt > 0) {
		kind = LAB_SEC;
	} else if (step) {
		for (int64_t v = floordiv(ts[0], step) * step; v <= ts[n - 1] && nt < MAX_TICKS;
		    v += step)
			if (v >= ts[0])
				t[nt++] = v;
		kind = step >= 86400000 ? LAB_DAY : step >= 60000 ? LAB_MIN :
		    step >= 1000 ? LAB_SEC : LAB_MS;
	} else {
		int64_t y, mi;
		int m, d;

		civil(floordiv(ts[0], 86400000), &y, &m, &d);
		/* months since year 0, rounded up to the step */
		mi = y * 12 + (m - 1);
		mi = floordiv(mi + mstep - 1, mstep) * mstep;
		for (; nt < MAX_TICKS; mi += mstep) {
			int64_t v = days(floordiv(mi, 12), (int)(mi - floordiv(mi, 12) * 12) + 1, 1) *
			    86400000;
			if (v > ts[n - 1])
				break;
			if (v >= ts[0])
				t[nt++] = v;
		}
		kind = mstep % 12 == 0 ? LAB_YEAR : LAB_MONTH;
	}
	/* Timestamps with gaps bunch ticks together: keep those with room. */
	{
		size_t kept = 0;

		for (size_t i = 0; i < nt; i++) {
			double px = row_x(c, time_row(ts, n, t[i]));

			if (px - last < TICK_GAP)
				continue;
			last = px;
			tk[kept].px = px;
			time_label(t[i], kind, &tk[kept], date, sizeof(date));
			if (kind >= LAB_MIN && strcmp(date, prev) != 0) {
				snprintf(tk[kept].l2, sizeof(tk[kept].l2), "%s", date);
				snprintf(prev, sizeof(prev), "%s", date);
			}
			kept++;
		}
		nt = kept;
	}
	return nt;
}

/* --- the panels ---------------------------------------------------------------- */

static double
nice(double x)
{
	double e = floor(log10(x)), f = x / pow(10, e);

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow(10, e);
}

static void
put_frame(struct ctx *c, double top, double h)
{
	put(c, "<rect x=\"%d\" y=\"%s\" width=\"%d\" height=\"%s\" fill=\"none\" "
	    "stroke=\"" COL_FRAME "\"/>\n", PX0, pxs(top).s, PW, pxs(h).s);
}

static void
put_xgrid(struct ctx *c, const struct tick *tk, size_t nt, double top, double h)
{
	if (nt == 0)
		return;
	put(c, "<path stroke=\"" COL_GRID "\" d=\"");
	for (size_t i = 0; i < nt; i++)
		put(c, "M%s %sv%s", pxs(tk[i].px).s, pxs(top).s, pxs(h).s);
	put(c, "\"/>\n");
}

/* a y tick: grid line and label */
static void
put_ytick(struct ctx *c, double y, const char *label)
{
	put(c, "<path stroke=\"" COL_GRID "\" d=\"M%d %sh%d\"/>\n", PX0, pxs(y).s, PW);
	put(c, "<text x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>\n", PX0 - 5, pxs(y + 4).s,
	    label);
}

static void
put_ylabel(struct ctx *c, double top, double h, const char *text)
{
	put(c, "<text transform=\"translate(18,%s) rotate(-90)\" text-anchor=\"middle\">%s"
	    "</text>\n", pxs(top + h / 2).s, text);
}

static void
put_note(struct ctx *c, double top, double h, const char *text)
{
	put(c, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\" fill=\"" COL_FRAME "\">%s"
	    "</text>\n", pxs(PX0 + PW / 2.0).s, pxs(top + h / 2).s, text);
}

static void
put_shading(struct ctx *c, double top, double h)
{
	const struct aiops_plot *p = c->p;

	if (p->n == 0)
		return;
	if (p->label != NULL) {
		put(c, "<g fill=\"" COL_LABEL "\" fill-opacity=\"0.35\">\n");
		put_segments(c, p->label, "seg-label", top, h);
		put(c, "</g>\n");
	}
	if (p->pred != NULL) {
		put(c, "<g fill=\"" COL_PRED "\" fill-opacity=\"0.22\">\n");
		put_segments(c, p->pred, "seg-pred", top, h);
		put(c, "</g>\n");
	}
}

static void
series_panel(struct ctx *c, const struct tick *tk, size_t nt)
{
	const struct aiops_plot *p = c->p;
	struct scale s = { 0, 0, 0, P1_TOP + PAD, P1_H - 2 * PAD };
	size_t drawn = 0;

	put(c, "<g id=\"series\">\n");
	put_xgrid(c, tk, nt, P1_TOP, P1_H);
	put_ytick(c, s.top, "1");
	put_ytick(c, s.top + s.h / 2, "0.5");
	put_ytick(c, s.top + s.h, "0");
	put_shading(c, P1_TOP, P1_H);
	put(c, "<g class=\"lines\" fill=\"none\" stroke-width=\"1\" stroke-linejoin=\"round\" "
	    "stroke-linecap=\"round\">\n");
	for (size_t j = 0; j < p->nseries && p->n > 0; j++) {
		/* A constant series has lo == hi: ymap draws it in the middle. */
		if (bucketize(c, p->x + p->cols[j], p->stride, &s.lo, &s.hi) == 0)
			continue;
		put_path(c, &s, palette[j % (sizeof(palette) / sizeof(palette[0]))]);
		drawn++;
	}
	put(c, "</g>\n");
	if (drawn == 0)
		put_note(c, P1_TOP, P1_H, p->n == 0 ? "no rows" : p->nseries == 0 ? "no series" :
		    "no finite values");
	put_frame(c, P1_TOP, P1_H);
	put_ylabel(c, P1_TOP, P1_H, "value, min-max scaled");
	put(c, "</g>\n");
}

/*
 * About the 1st percentile of the positive finite scores (plo the least,
 * hi the greatest): the lower edge of its bin among 256 that split
 * [log plo, log hi] evenly. A few tiny scores should not make a log scale.
 */
static double
low_percentile(const double *v, size_t n, double plo, double hi)
{
	size_t bin[256], total = 0, acc = 0, k;
	double l0 = log10(plo), w = (log10(hi) - l0) / 256;

	memset(bin, 0, sizeof(bin));
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]) && v[i] > 0) {
			double f = (log10(v[i]) - l0) / w;
			k = f < 0 ? 0 : f >= 255 ? 255 : (size_t)f;
			bin[k]++;
			total++;
		}
	for (k = 0; k < 255; k++) {
		acc += bin[k];
		if (acc * 100 > total)
			break;
	}
	return pow(10, l0 + (double)k * w);
}

static void
score_panel(struct ctx *c, const struct tick *tk, size_t nt)
{
	const struct aiops_plot *p = c->p;
	struct scale s = { 0, 0, 0, P2_TOP + PAD, P2_H - 2 * PAD };
	double lo = INFINITY, hi = -INFINITY, plo = INFINITY, thr = p->threshold;
	size_t filled = 0;
	char lab[48];

	put(c, "<g id=\"score\">\n");
	put_xgrid(c, tk, nt, P2_TOP, P2_H);
	if (p->score != NULL && p->n > 0) {
		filled = bucketize(c, p->score, 1, &lo, &hi);
		for (size_t i = 0; i < p->n; i++)
			if (isfinite(p->score[i]) && p->score[i] > 0 && p->score[i] < plo)
				plo = p->score[i];
	}
	if (isfinite(thr)) {
		lo = thr < lo ? thr : lo;
		hi = thr > hi ? thr : hi;
	}
	if (!(lo <= hi)) {
		lo = 0;
		hi = 1;
	}
	if (lo >= 0 && plo < hi && hi / plo > 1e3)
		plo = low_percentile(p->score, p->n, plo, hi);
	if (isfinite(thr) && thr > 0 && thr < plo)
		plo = thr;
	if (lo >= 0 && plo < hi && hi / plo > 1e3) {
		s.log = 1;
		s.lo = log10(plo);
		s.hi = log10(hi);
	} else if (lo == hi) {
		double d = lo != 0 ? fabs(lo) / 2 : 1;
		s.lo = lo - d;
		s.hi = hi + d;
	} else {
		s.lo = lo;
		s.hi = hi;
	}
	if (s.log) {
		int e0 = (int)ceil(s.lo - 1e-9), e1 = (int)floor(s.hi + 1e-9);
		int every = (e1 - e0) / 6 + 1;

		for (int k = e0; k <= e1; k += every) {
			if (k == 0)
				snprintf(lab, sizeof(lab), "1");
			else if (k == 1)
				snprintf(lab, sizeof(lab), "10");
			else
				snprintf(lab, sizeof(lab), "1e%d", k);
			put_ytick(c, ymap(&s, pow(10, k)), lab);
		}
	} else {
		double half = s.hi / 2 - s.lo / 2, st = nice(half * 2 / 5);

		if (isfinite(st) && st > 0) {
			double k0 = ceil(s.lo / st), k1 = floor(s.hi / st);

			for (int i = 0; i < 16 && k0 + i <= k1; i++) {
				double v = (k0 + i) * st;
				if (fabs(v) < st * 1e-9)
					v = 0;
				snprintf(lab, sizeof(lab), "%.6g", v);
				put_ytick(c, ymap(&s, v), lab);
			}
		}
	}
	put_shading(c, P2_TOP, P2_H);
	if (filled > 0) {
		put(c, "<g class=\"lines\" fill=\"none\" stroke-width=\"1\" stroke-linejoin=\"round\" "
		    "stroke-linecap=\"round\">\n");
		put_path(c, &s, COL_SCORE);
		put(c, "</g>\n");
	} else {
		put_note(c, P2_TOP, P2_H, p->n == 0 ? "no rows" : "no finite scores");
	}
	if (isfinite(thr))
		put(c, "<path id=\"threshold\" stroke=\"" COL_THR "\" stroke-width=\"1.5\" "
		    "stroke-dasharray=\"6 4\" d=\"M%d %sh%d\"/>\n", PX0, pxs(ymap(&s, thr)).s, PW);
	put_frame(c, P2_TOP, P2_H);
	put_ylabel(c, P2_TOP, P2_H, s.log ? "score (log scale)" : "score");
	put(c, "</g>\n");
}

static void
time_axis(struct ctx *c, const struct tick *tk, size_t nt, const char *axis)
{
	double y = P2_TOP + P2_H;

	put(c, "<g id=\"time\" text-anchor=\"middle\">\n");
	if (nt > 0) {
		put(c, "<path stroke=\"" COL_FRAME "\" d=\"");
		for (size_t i = 0; i < nt; i++)
			put(c, "M%s %sv4", pxs(tk[i].px).s, pxs(y).s);
		put(c, "\"/>\n");
	}
	for (size_t i = 0; i < nt; i++) {
		put(c, "<text x=\"%s\" y=\"%s\">%s</text>\n", pxs(tk[i].px).s, pxs(y + 16).s, tk[i].l1);
		if (tk[i].l2[0] != '\0')
			put(c, "<text x=\"%s\" y=\"%s\">%s</text>\n", pxs(tk[i].px).s, pxs(y + 29).s,
			    tk[i].l2);
	}
	put(c, "<text x=\"%s\" y=\"%d\">%s</text>\n", pxs(PX0 + PW / 2.0).s, H - 12, axis);
	put(c, "</g>\n");
}

static void
legend_line(struct ctx *c, double y, const char *colour, const char *dash)
{
	put(c, "<path stroke=\"%s\" stroke-width=\"2\"%s%s%s d=\"M%d %sh18\"/>\n", colour,
	    dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "",
	    LEG_X, pxs(y - 4).s);
}

static void
legend_box(struct ctx *c, double y, const char *colour, const char *opacity)
{
	put(c, "<rect class=\"key\" x=\"%d\" y=\"%s\" width=\"18\" height=\"10\" fill=\"%s\" "
	    "fill-opacity=\"%s\"/>\n", LEG_X, pxs(y - 9).s, colour, opacity);
}

static void
legend_text(struct ctx *c, double y, const char *text, size_t maxcp)
{
	put(c, "<text x=\"%d\" y=\"%s\">", LEG_X + 24, pxs(y).s);
	put_text(c, text, maxcp);
	put(c, "</text>\n");
}

static void
legend(struct ctx *c)
{
	const struct aiops_plot *p = c->p;
	size_t room = (P1_H - 8) / LEG_DY, shown = p->nseries;
	double y = P1_TOP + 12;
	char s[64];

	put(c, "<g id=\"legend\">\n");
	if (shown > room)
		shown = room - 1;
	for (size_t j = 0; j < shown; j++, y += LEG_DY) {
		legend_line(c, y, palette[j % (sizeof(palette) / sizeof(palette[0]))], NULL);
		if (p->names != NULL && p->names[j] != NULL) {
			legend_text(c, y, p->names[j], 26);
		} else {
			snprintf(s, sizeof(s), "column %zu", p->cols[j]);
			legend_text(c, y, s, 0);
		}
	}
	if (shown < p->nseries) {
		snprintf(s, sizeof(s), "\xE2\x80\xA6 and %zu more", p->nseries - shown);
		legend_text(c, y, s, 0);
	}
	y = P2_TOP + 12;
	legend_line(c, y, COL_SCORE, NULL);
	legend_text(c, y, "score", 0);
	y += LEG_DY;
	if (isfinite(p->threshold)) {
		legend_line(c, y, COL_THR, "6 4");
		snprintf(s, sizeof(s), "threshold %.4g", p->threshold);
		legend_text(c, y, s, 0);
		y += LEG_DY;
	}
	if (p->label != NULL) {
		legend_box(c, y, COL_LABEL, "0.35");
		legend_text(c, y, "labelled anomaly", 0);
		y += LEG_DY;
	}
	if (p->pred != NULL) {
		legend_box(c, y, COL_PRED, "0.22");
		legend_text(c, y, "detected", 0);
	}
	put(c, "</g>\n");
}

int
aiops_plot_svg(const struct aiops_plot *p, struct aiops_buf *out, struct aiops_error *e)
{
	struct ctx c;
	struct tick tk[MAX_TICKS];
	const char *axis;
	size_t len0, nt;

	if (p == NULL || out == NULL)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "plot: no %s",
		    p == NULL ? "plot" : "output buffer");
	if (p->nseries > 0 && (p->x == NULL || p->cols == NULL))
		return aiops_error_set(e, AIOPS_ERR_USAGE, "plot: %zu series but no %s",
		    p->nseries, p->x == NULL ? "values" : "columns");
	for (size_t j = 0; j < p->nseries; j++)
		if (p->cols[j] >= p->stride)
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "plot: series %zu is column %zu, but a row has %zu columns", j,
			    p->cols[j], p->stride);
	/* b * n in bucketize must not overflow */
	if (p->n > SIZE_MAX / (PW + 1))
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "plot: %zu rows is too many", p->n);

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.b = out;
	c.nb = p->n < PW ? p->n : PW;
	len0 = out->len;
	if ((c.bk = aiops_calloc(c.nb ? c.nb : 1, sizeof(*c.bk))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "plot: out of memory");
	/* about what a few series take, so that the buffer grows seldom */
	if (aiops_buf_grow(out, 16384 + (p->nseries < 8 ? p->nseries + 1 : 9) * 12 * c.nb)
	    != AIOPS_OK)
		c.err = AIOPS_ERR_NOMEM;

	put(&c, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
	    "font-size=\"11\">\n<title>", W, H, W, H);
	put_text(&c, p->title != NULL ? p->title : "aiops plot", 0);
	put(&c, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
	if (p->title != NULL) {
		put(&c, "<text x=\"%d\" y=\"30\" font-size=\"16\" font-weight=\"bold\">", PX0);
		put_text(&c, p->title, 110);
		put(&c, "</text>\n");
	}
	nt = make_ticks(&c, tk, &axis);
	series_panel(&c, tk, nt);
	score_panel(&c, tk, nt);
	time_axis(&c, tk, nt, axis);
	legend(&c);
	put(&c, "</svg>\n");

	aiops_free(c.bk);
	if (c.err) {
		out->len = len0;
		if (out->buf != NULL)
			out->buf[len0] = '\0';
		return aiops_error_set(e, c.err, c.err == AIOPS_ERR_NOMEM ? "plot: out of memory" :
		    "plot: cannot format the document");
	}
	return AIOPS_OK;
}
