/*
 * test-plot.c - the SVG plot: well-formed XML (Python's parser), escaping,
 * one shaded rectangle per segment, decimation of 1M rows, gaps, time axis
 * labels against known dates, determinism, and allocation failures.
 *
 * With AIOPS_PLOT_SAMPLE=FILE set it only writes a sample plot to FILE (for
 * t3900, which renders it); "--alloc-child" is the re-executed torture run.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aiops.h"
#include "plot.h"
#include "tap.h"

#define PYTHON "/usr/bin/python3"
#define T2024 1704067200000LL   /* 2024-01-01T00:00:00Z in ms */

/*
 * Reads an SVG on stdin, parses it with ElementTree and prints what the
 * tests compare, one "key value" a line. Paths are decoded from the
 * commands the writer uses (M, l, h, v).
 */
static const char pyscript[] =
"import re, sys, xml.etree.ElementTree as E\n"
"S = '{http://www.w3.org/2000/svg}'\n"
"r = E.parse(sys.stdin).getroot()\n"
"print('root', r.tag == S + 'svg' and r.get('version') == '1.1')\n"
"print('bad', sum(1 for e in r.iter() if e.tag in (S + 'script', S + 'foreignObject',\n"
"    S + 'image', S + 'a', S + 'style')))\n"
"print('refs', sum(1 for e in r.iter() for k, v in e.attrib.items()\n"
"    if k.endswith('href') or 'url(' in v or k.startswith('on')))\n"
"print('title', r.find(S + 'title').text)\n"
"def g(i):\n"
"    return [e for e in r.iter(S + 'g') if e.get('id') == i][0]\n"
"def path(d):\n"
"    t = re.findall(r'[A-Za-z]|-?[0-9]+(?:\\.[0-9]+)?', d)\n"
"    x = y = 0.0; sub = 0; pts = []; i = 0; c = None\n"
"    while i < len(t):\n"
"        if t[i].isalpha():\n"
"            c = t[i]; i += 1; continue\n"
"        if c == 'M':\n"
"            x, y = float(t[i]), float(t[i + 1]); i += 2; sub += 1\n"
"        elif c == 'l':\n"
"            x += float(t[i]); y += float(t[i + 1]); i += 2\n"
"        elif c == 'h':\n"
"            x += float(t[i]); i += 1\n"
"        elif c == 'v':\n"
"            y += float(t[i]); i += 1\n"
"        else:\n"
"            raise ValueError('command ' + c)\n"
"        pts.append((round(x, 1), round(y, 1)))\n"
"    ys = [p[1] for p in pts]\n"
"    top = min(pts, key=lambda p: (p[1], p[0])); bot = max(pts, key=lambda p: (p[1], -p[0]))\n"
"    return '%d %d %g %g %g %g' % (sub, len(pts), min(ys), max(ys), top[0], bot[0])\n"
"for p in ('series', 'score'):\n"
"    for k in ('seg-label', 'seg-pred'):\n"
"        print(p + '.' + k, sum(1 for e in g(p).iter(S + 'rect') if e.get('class') == k))\n"
"    ls = [e for e in g(p).iter(S + 'g') if e.get('class') == 'lines']\n"
"    ps = [e for l in ls for e in l.iter(S + 'path')]\n"
"    print(p + '.paths', len(ps))\n"
"    for i, e in enumerate(ps):\n"
"        print(p + '.path%d' % i, path(e.get('d')))\n"
"print('legend', '|'.join(e.text or '' for e in g('legend').iter(S + 'text')))\n"
"print('end')\n";

static char tmpdir[64];

/* Occurrences of needle in hay. */
static size_t
count(const char *hay, const char *needle)
{
	size_t k = 0;

	for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		k++;
	return k;
}

static int
have_python(void)
{
	return access(PYTHON, X_OK) == 0;
}

/*
 * Run the parser script on the SVG; its output (malloc'd, or NULL when
 * Python failed: the document is not well-formed XML) goes to *res.
 */
static int
pycheck(const struct aiops_buf *b, char **res)
{
	char svg[128], py[128], cmd[512];
	struct aiops_buf o = AIOPS_BUF_INIT;
	FILE *f;
	char chunk[4096];
	size_t k;
	int st;

	*res = NULL;
	snprintf(svg, sizeof(svg), "%s/in.svg", tmpdir);
	snprintf(py, sizeof(py), "%s/check.py", tmpdir);
	if ((f = fopen(svg, "w")) == NULL)
		return -1;
	fwrite(b->buf, 1, b->len, f);
	if (fclose(f) != 0)
		return -1;
	if ((f = fopen(py, "w")) == NULL)
		return -1;
	fputs(pyscript, f);
	if (fclose(f) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), PYTHON " %s <%s", py, svg);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		aiops_buf_add(&o, chunk, k);
	st = pclose(f);
	if (st != 0 || o.buf == NULL || strstr(o.buf, "\nend\n") == NULL) {
		aiops_buf_release(&o);
		return -1;
	}
	*res = aiops_buf_detach(&o, NULL);
	return 0;
}

/* The value of "key value" in the Python output, into v (empty when absent). */
static const char *
pyget(const char *res, const char *key, char *v, size_t vsz)
{
	size_t kl = strlen(key);

	v[0] = '\0';
	for (const char *s = res; s != NULL && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (strncmp(s, key, kl) == 0 && s[kl] == ' ') {
			const char *e = strchr(s, '\n');
			size_t n = e ? (size_t)(e - s - kl - 1) : strlen(s + kl + 1);
			if (n >= vsz)
				n = vsz - 1;
			memcpy(v, s + kl + 1, n);
			v[n] = '\0';
			break;
		}
	return v;
}

static long
pyint(const char *res, const char *key)
{
	char v[256];

	pyget(res, key, v, sizeof(v));
	return v[0] ? strtol(v, NULL, 10) : -1;
}

/* A series path as the script reports it. */
struct pinfo {
	int sub, npts;
	double ymin, ymax, xtop, xbot;
	int ok;
};

static struct pinfo
pypath(const char *res, const char *key)
{
	struct pinfo p;
	char v[256];

	memset(&p, 0, sizeof(p));
	pyget(res, key, v, sizeof(v));
	p.ok = sscanf(v, "%d %d %lf %lf %lf %lf", &p.sub, &p.npts, &p.ymin, &p.ymax, &p.xtop,
	    &p.xbot) == 6;
	return p;
}

/* Parses as XML, no scripts or references; the script's output or NULL. */
static char *
check_xml(const struct aiops_buf *b, const char *what)
{
	char *res;

	if (!have_python()) {
		skip(PYTHON " is missing");
		return NULL;
	}
	if (!ok(pycheck(b, &res) == 0, "%s: the SVG parses as XML", what))
		return NULL;
	ok(strstr(res, "root True\n") && strstr(res, "bad 0\n") && strstr(res, "refs 0\n"),
	    "%s: an SVG 1.1 root, no scripts, images, styles or references", what);
	return res;
}

static int64_t *
mkts(size_t n, int64_t t0, int64_t step)
{
	int64_t *ts = malloc(n * sizeof(*ts));

	for (size_t i = 0; i < n; i++)
		ts[i] = t0 + (int64_t)i * step;
	return ts;
}

/* 1 on [a, b) for each pair in runs (terminated by a < 0) */
static void
mark(unsigned char *m, size_t n, const long *runs)
{
	memset(m, 0, n);
	for (; runs[0] >= 0; runs += 2)
		for (long i = runs[0]; i < runs[1]; i++)
			m[i] = 1;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void
test_basic(void)
{
	enum { n = 200, ns = 3, stride = 4 };
	static double x[n * stride], score[n];
	static const size_t cols[ns] = { 0, 2, 3 };
	static char *const names[ns] = { "cpu<user>", "mem & swap", "disk \"io\"" };
	static const long lruns[] = { 20, 30, 100, 101, 150, 170, -1 };
	static const long pruns[] = { 22, 35, 160, 175, -1 };
	static unsigned char label[n], pred[n];
	const char *title = "machine-1-1: <pca> & \"k=5\" 'q'  f1=0.61";
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT, b2 = AIOPS_BUF_INIT;
	struct aiops_error e;
	int64_t *ts = mkts(n, T2024, 60000);
	char *res, v[512];
	struct pinfo pi[ns];

	for (size_t i = 0; i < n; i++) {
		x[i * stride + 0] = sin(i / 10.0);
		x[i * stride + 1] = 1e300;      /* not drawn */
		x[i * stride + 2] = 100 + i;
		x[i * stride + 3] = cos(i / 7.0) * 1e-6;
		score[i] = 0.1 + 0.01 * (i % 7);
	}
	score[25] = 3;
	mark(label, n, lruns);
	mark(pred, n, pruns);
	p = (struct aiops_plot){ title, n, ts, ns, x, stride, cols, names, score, 0.5,
	    label, pred };

	is_int(aiops_buf_addstr(&b, "PREFIX\n"), AIOPS_OK, "buffer prefix");
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "basic plot");
	ok(strncmp(b.buf, "PREFIX\n<?xml version=\"1.0\"", 26) == 0,
	    "the document is appended to what the buffer held");
	ok(b.len > 7 && strcmp(b.buf + b.len - 7, "</svg>\n") == 0, "it ends with </svg>");
	is_int(strlen(b.buf), b.len, "no NUL inside, len is right");

	/* determinism: a second run gives the same bytes */
	is_int(aiops_plot_svg(&p, &b2, &e), AIOPS_OK, "second run");
	ok(b2.len == b.len - 7 && memcmp(b2.buf, b.buf + 7, b2.len) == 0,
	    "the same input gives the same bytes");

	ok(strstr(b2.buf, "machine-1-1: &lt;pca&gt; &amp; &quot;k=5&quot; &#39;q&#39;") != NULL,
	    "the title is escaped");
	ok(strstr(b2.buf, "<pca>") == NULL && strstr(b2.buf, "cpu<user>") == NULL,
	    "no raw markup from the text");
	is_int(count(b2.buf, "class=\"seg-label\""), 2 * 3, "3 labelled segments, in 2 panels");
	is_int(count(b2.buf, "class=\"seg-pred\""), 2 * 2, "2 detected segments, in 2 panels");
	is_int(count(b2.buf, "<script"), 0, "no script");

	/* 199 minutes from midnight: steps of 30 minutes, the date once */
	ok(strstr(b2.buf, ">00:00<") && strstr(b2.buf, ">00:30<") && strstr(b2.buf, ">03:00<"),
	    "time ticks every 30 minutes from 00:00 to 03:00");
	ok(strstr(b2.buf, ">03:30<") == NULL, "no tick after the last row");
	is_int(count(b2.buf, ">2024-01-01<"), 1, "the date under the first tick only");
	ok(strstr(b2.buf, ">time (UTC)<") != NULL, "the axis says UTC");
	ok(strstr(b2.buf, "log scale") == NULL, "a score of 0.1..3 is linear");
	ok(strstr(b2.buf, "id=\"threshold\"") != NULL, "the threshold line is drawn");

	if ((res = check_xml(&b2, "basic")) != NULL) {
		is_str(pyget(res, "title", v, sizeof(v)), title, "the title survives the escaping");
		is_int(pyint(res, "series.seg-label"), 3, "labelled rectangles in the series panel");
		is_int(pyint(res, "score.seg-label"), 3, "labelled rectangles in the score panel");
		is_int(pyint(res, "series.seg-pred"), 2, "detected rectangles in the series panel");
		is_int(pyint(res, "score.seg-pred"), 2, "detected rectangles in the score panel");
		is_int(pyint(res, "series.paths"), 3, "one path per series");
		is_int(pyint(res, "score.paths"), 1, "one score path");
		pi[0] = pypath(res, "series.path0");
		pi[1] = pypath(res, "series.path1");
		pi[2] = pypath(res, "series.path2");
		for (int j = 0; j < ns; j++) {
			ok(pi[j].ok && pi[j].sub == 1 && pi[j].npts == n,
			    "series %d: one stroke through all %d rows", j, n);
			is_double(pi[j].ymin, pi[0].ymin, 0, "series %d: same top (min-max scaled)", j);
			is_double(pi[j].ymax, pi[0].ymax, 0, "series %d: same bottom", j);
		}
		ok(pi[0].ymax - pi[0].ymin > 300, "the series fill the panel's height");
		/* the rising series: its max is the last row, its min the first */
		is_double(pi[1].xtop, 70 + (n - 0.5) * 900.0 / n, 0.06, "rising series: top at the end");
		is_double(pi[1].xbot, 70 + 0.5 * 900.0 / n, 0.06, "rising series: bottom at the start");
		pyget(res, "legend", v, sizeof(v));
		ok(strstr(v, "cpu<user>|mem & swap|disk \"io\"|score|threshold 0.5|labelled anomaly|"
		    "detected") != NULL, "legend: names, score, threshold, shading (got %s)", v);
		aiops_free(res);
	}
	aiops_buf_release(&b);
	aiops_buf_release(&b2);
	free(ts);
}

static void
test_segments(void)
{
	enum { n = 100000 };
	static unsigned char label[n], pred[n];
	static double v[n];
	/* 4.5 px a row at 200 rows; 0.009 px a row at 100000 */
	static const long near[] = { 40, 42, 43, 46, 199, 200, -1 };
	static const long far[] = { 1000, 1010, 1050, 1060, 99999, 100000, -1 };
	static const long apart[] = { 1000, 1010, 1300, 1310, -1 };
	struct aiops_plot p = { "s", 200, NULL, 0, NULL, 0, NULL, NULL, v, 0, label, pred };
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;

	mark(label, n, near);
	memset(pred, 1, n);
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "segments one row apart");
	is_int(count(b.buf, "class=\"seg-label\""), 2 * 3, "runs a row (4.5 px) apart stay apart");
	is_int(count(b.buf, "class=\"seg-pred\""), 2 * 1, "all rows: one rectangle");
	ok(strstr(b.buf, "<rect class=\"seg-pred\" x=\"70\" y=\"50\" width=\"900\" "
	    "height=\"330\"/>") != NULL, "spanning the panel");
	ok(strstr(b.buf, "<rect class=\"seg-label\" x=\"965.5\" y=\"410\" width=\"4.5\" "
	    "height=\"220\"/>") != NULL, "the last row's run ends at the panel's edge");

	aiops_buf_reset(&b);
	mark(label, n, far);
	mark(pred, n, apart);
	p.n = n;
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "segments 0.36 px apart");
	is_int(count(b.buf, "class=\"seg-label\""), 2 * 2, "runs less than a pixel apart merge");
	/* 79.0-79.09 widened to 79-80, 79.45-79.54 to 79.5-80.5: merged, 79-80.5 */
	ok(strstr(b.buf, "<rect class=\"seg-label\" x=\"79\" y=\"410\" width=\"1.5\" "
	    "height=\"220\"/>") != NULL, "narrow runs are widened to a pixel, then merged");
	is_int(count(b.buf, "class=\"seg-pred\""), 2 * 2, "runs 2.6 px apart do not");
	ok(strstr(b.buf, "<rect class=\"seg-label\" x=\"969\" y=\"50\" width=\"1\" "
	    "height=\"330\"/>") != NULL, "a one-row run is a pixel wide, inside the panel");
	aiops_buf_release(&b);
}

static void
test_gaps(void)
{
	enum { n = 100, ns = 4 };
	static double x[n * ns], score[n], cscore[n];
	static const size_t cols[ns] = { 0, 1, 2, 3 };
	static char *const names[ns] = { "const", "empty", "gappy", "ends" };
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;
	struct pinfo pi;
	char *res;

	for (size_t i = 0; i < n; i++) {
		x[i * ns + 0] = 5.0;
		x[i * ns + 1] = NAN;
		x[i * ns + 2] = (i >= 40 && i < 60) ? NAN : i == 70 ? INFINITY : (double)(i % 5);
		x[i * ns + 3] = i == 0 ? -INFINITY : i == n - 1 ? NAN : (double)i;
		score[i] = NAN;
		cscore[i] = 0.5;
	}
	x[3 * ns + 2] = NAN;
	x[5 * ns + 2] = NAN;    /* row 4 alone between gaps: a dot */
	p = (struct aiops_plot){ "gaps", n, NULL, ns, x, ns, cols, names, score, NAN, NULL, NULL };
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "NaN, inf and constant values");
	ok(strcasestr(b.buf, "nan") == NULL && strcasestr(b.buf, "inf") == NULL,
	    "no NaN or inf is printed");
	ok(strstr(b.buf, ">no finite scores<") != NULL, "an all-NaN score says so");
	ok(strstr(b.buf, ">no finite values<") == NULL, "but three series have values");
	ok(strstr(b.buf, "id=\"threshold\"") == NULL, "a NaN threshold is not drawn");
	ok(strstr(b.buf, ">row<") != NULL, "no timestamps: the axis counts rows");
	/* 99 rows: steps of 20 */
	ok(strstr(b.buf, ">0<") && strstr(b.buf, ">80<") && !strstr(b.buf, ">100<"),
	    "row ticks 0, 20, .., 80");
	if ((res = check_xml(&b, "gaps")) != NULL) {
		is_int(pyint(res, "series.paths"), 3, "the all-NaN series draws nothing");
		pi = pypath(res, "series.path0");
		ok(pi.ok && pi.sub == 1 && pi.ymin == pi.ymax, "a constant series is flat");
		is_double(pi.ymin, 50 + 330 / 2.0, 0.05, "in the middle of the panel");
		pi = pypath(res, "series.path1");
		/* rows 0-2, 4 (a dot: M + h0), 6-39, 60-69, 71-99 */
		is_int(pi.sub, 5, "NaN and inf break the line into 5 strokes");
		is_int(pi.npts, 3 + 2 + 34 + 10 + 29, "every finite row is a point (a dot is two)");
		pi = pypath(res, "series.path2");
		is_int(pi.sub, 1, "-inf at the start, NaN at the end: one stroke");
		is_int(pi.npts, n - 2, "of the rows between");
		is_int(pyint(res, "score.paths"), 0, "no score path");
		aiops_free(res);
	}

	/* a constant score equal to the threshold */
	aiops_buf_reset(&b);
	p.score = cscore;
	p.threshold = 0.5;
	p.nseries = 0;
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "constant score, no series");
	ok(strstr(b.buf, ">no series<") != NULL, "no series: the panel says so");
	if ((res = check_xml(&b, "constant score")) != NULL) {
		pi = pypath(res, "score.path0");
		ok(pi.ok && pi.ymin == pi.ymax, "a constant score is flat");
		is_double(pi.ymin, 410 + 220 / 2.0, 0.05, "in the middle of its panel");
		aiops_free(res);
	}

	/* no rows at all */
	aiops_buf_reset(&b);
	p = (struct aiops_plot){ NULL, 0, NULL, ns, x, ns, cols, NULL, NULL, 1, NULL, NULL };
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "zero rows");
	ok(strstr(b.buf, ">no rows<") != NULL, "says there are no rows");
	ok(strstr(b.buf, ">column 3<") != NULL, "no names: the legend names the column");
	if ((res = check_xml(&b, "zero rows")) != NULL)
		aiops_free(res);
	aiops_buf_release(&b);
}

static void
test_logscale(void)
{
	enum { n = 70 };
	static double s[n];
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;
	char *res;

	for (size_t i = 0; i < n; i++)
		s[i] = pow(10, (double)(i % 7) - 2);     /* 1e-2 .. 1e4 */
	p = (struct aiops_plot){ "log", n, NULL, 0, NULL, 0, NULL, NULL, s, 50, NULL, NULL };
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "scores over 6 decades");
	ok(strstr(b.buf, ">score (log scale)<") != NULL, "the axis says log scale");
	ok(strstr(b.buf, ">1e-2<") && strstr(b.buf, ">1<") && strstr(b.buf, ">1e2<") &&
	    strstr(b.buf, ">1e4<"), "every other decade is labelled");
	if ((res = check_xml(&b, "log")) != NULL) {
		struct pinfo pi = pypath(res, "score.path0");
		/* 1e-2 .. 1e4 over 220 - 2 * 8 pixels: each decade 34 px */
		ok(pi.ok && fabs(pi.ymax - pi.ymin - 204) < 0.05, "the path spans the panel");
		aiops_free(res);
	}

	aiops_buf_reset(&b);
	s[0] = 0;
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "a zero among them");
	ok(strstr(b.buf, ">score (log scale)<") != NULL, "still log scale");

	aiops_buf_reset(&b);
	s[0] = -1;
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "a negative score");
	ok(strstr(b.buf, "log scale") == NULL, "a negative score keeps the scale linear");

	/* a few tiny scores among many ordinary ones: below the 1st percentile */
	{
		enum { m = 1000 };
		static double t[m];
		struct aiops_plot q = { "tiny", m, NULL, 0, NULL, 0, NULL, NULL, t, 1, NULL,
		    NULL };

		for (size_t i = 0; i < m; i++)
			t[i] = i % 50 == 7 ? 1e-6 : 0.5 + (double)(i % 10) / 10;
		aiops_buf_reset(&b);
		is_int(aiops_plot_svg(&q, &b, &e), AIOPS_OK, "20 of 1000 scores are tiny");
		ok(strstr(b.buf, ">score (log scale)<") != NULL, "2%% tiny scores: log scale");
		for (size_t i = 0; i < m; i++)
			t[i] = i % 200 == 7 ? 1e-6 : 0.5 + (double)(i % 10) / 10;
		aiops_buf_reset(&b);
		is_int(aiops_plot_svg(&q, &b, &e), AIOPS_OK, "5 of 1000 scores are tiny");
		ok(strstr(b.buf, "log scale") == NULL, "0.5%% tiny scores: linear");
	}

	aiops_buf_reset(&b);
	for (size_t i = 0; i < n; i++)
		s[i] = 1 + (double)(i % 7) * 100;    /* 1 .. 601 */
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "scores over 2.8 decades");
	ok(strstr(b.buf, "log scale") == NULL, "less than 3 decades stays linear");
	ok(strstr(b.buf, ">200<") && strstr(b.buf, ">400<") && strstr(b.buf, ">600<") &&
	    !strstr(b.buf, ">800<"), "linear ticks at round numbers");
	aiops_buf_release(&b);
}

/* Plot n rows of one series at times t0 + i * step; the document in b. */
static int
plot_times(struct aiops_buf *b, size_t n, int64_t t0, int64_t step)
{
	struct aiops_plot p;
	struct aiops_error e;
	int64_t *ts = mkts(n, t0, step);
	double *v = calloc(n, sizeof(*v));
	size_t col = 0;
	int r;

	p = (struct aiops_plot){ "t", n, ts, 1, v, 1, &col, NULL, v, NAN, NULL, NULL };
	aiops_buf_reset(b);
	r = aiops_plot_svg(&p, b, &e);
	free(ts);
	free(v);
	return r;
}

static void
test_time_axis(void)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_plot p;
	struct aiops_error e;
	int64_t ts[4] = { T2024, T2024 + 2000, T2024 + 1000, T2024 + 3000 };
	double v[4] = { 1, 2, 3, 4 };
	size_t col = 0;

	/* hourly over the leap day: 2024-02-27T00 + 119 h, daily ticks */
	is_int(plot_times(&b, 120, 1708992000000LL, 3600000), AIOPS_OK, "hourly, 5 days");
	ok(strstr(b.buf, ">2024-02-28<") && strstr(b.buf, ">2024-02-29<") &&
	    strstr(b.buf, ">2024-03-01<") && strstr(b.buf, ">2024-03-02<"),
	    "daily ticks across the leap day");
	ok(strstr(b.buf, ">2024-03-03<") == NULL, "none past the last row");

	/* daily from 2023-11-15 for 183 days: monthly ticks */
	is_int(plot_times(&b, 183, 1700006400000LL, 86400000), AIOPS_OK, "daily, 6 months");
	ok(strstr(b.buf, ">2023-12<") && strstr(b.buf, ">2024-01<") &&
	    strstr(b.buf, ">2024-05<"), "monthly ticks");
	ok(strstr(b.buf, ">2023-11<") == NULL, "not before the first row");

	/* daily over 30 years from 1990-01-01: 5-year ticks */
	is_int(plot_times(&b, 10957, 631152000000LL, 86400000), AIOPS_OK, "daily, 30 years");
	ok(strstr(b.buf, ">1990<") && strstr(b.buf, ">2015<") && !strstr(b.buf, ">2020<"),
	    "ticks every 5 years, 1990 to 2015");

	/* before the epoch: 1969-12-31T22:00 every 10 minutes for 3 hours */
	is_int(plot_times(&b, 19, -7200000LL, 600000), AIOPS_OK, "before 1970");
	ok(strstr(b.buf, ">22:00<") && strstr(b.buf, ">1969-12-31<") &&
	    strstr(b.buf, ">00:00<") && strstr(b.buf, ">1970-01-01<"),
	    "negative timestamps: 22:00 on 1969-12-31 to 00:00 on 1970-01-01");

	/* milliseconds */
	is_int(plot_times(&b, 50, T2024 + 123, 1), AIOPS_OK, "1 ms apart");
	ok(strstr(b.buf, ">00:00:00.130<") != NULL, "millisecond labels");

	/* one row */
	is_int(plot_times(&b, 1, T2024 + 61000, 1), AIOPS_OK, "one row");
	ok(strstr(b.buf, ">00:01:01<") && strstr(b.buf, ">2024-01-01<"), "its time to the second");

	/* out of order */
	p = (struct aiops_plot){ "t", 4, ts, 1, v, 1, &col, NULL, v, NAN, NULL, NULL };
	aiops_buf_reset(&b);
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "timestamps out of order");
	ok(strstr(b.buf, ">row (timestamps not increasing or out of range)<") != NULL,
	    "row numbers, and the axis says why");
	aiops_buf_release(&b);
}

static void
test_text(void)
{
	enum { n = 10 };
	static double x[n];
	static const size_t col = 0;
	static char *const names[1] = { "an extremely long series name that goes on\x01" };
	const char *title = "bad \xff bytes\x01 and \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
	    " \xed\xa0\x80 \xef\xbf\xbe";
	const char *want = "bad \xef\xbf\xbd bytes\xef\xbf\xbd and \xc3\xa9t\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;
	char *res, v[512];

	p = (struct aiops_plot){ title, n, NULL, 1, x, 1, &col, names, NULL, 0, NULL, NULL };
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "bad UTF-8 and control characters");
	if ((res = check_xml(&b, "text")) != NULL) {
		is_str(pyget(res, "title", v, sizeof(v)), want,
		    "invalid bytes, controls, surrogates and U+FFFE become U+FFFD; the rest stays");
		pyget(res, "legend", v, sizeof(v));
		ok(strncmp(v, "an extremely long series n\xe2\x80\xa6|", 30) == 0,
		    "a long name is cut to 26 characters and an ellipsis (got %s)", v);
		aiops_free(res);
	}
	aiops_buf_release(&b);
}

static void
test_usage(void)
{
	static double x[4];
	static const size_t col = 2;
	struct aiops_plot p = { "u", 2, NULL, 1, x, 2, &col, NULL, NULL, 0, NULL, NULL };
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;

	aiops_buf_addstr(&b, "keep");
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_ERR_USAGE, "a column past the stride");
	is_str(e.msg, "plot: series 0 is column 2, but a row has 2 columns", "the message says which");
	is_str(b.buf, "keep", "the buffer is untouched");
	p.x = NULL;
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_ERR_USAGE, "series without values");
	is_int(aiops_plot_svg(NULL, &b, &e), AIOPS_ERR_USAGE, "no plot");
	is_int(b.len, 4, "the buffer is untouched");
	aiops_buf_release(&b);
}

static void
test_million(void)
{
	enum { ns = 38, nc = 8 };     /* 38 series, like SMD, over 8 distinct columns */
	const size_t n = 1000000, spike = 123457, dip = 765433;
	double *x = malloc(n * nc * sizeof(*x)), *score = malloc(n * sizeof(*score));
	unsigned char *label = calloc(n, 1), *pred = calloc(n, 1);
	int64_t *ts = mkts(n, T2024, 1000);
	size_t cols[ns];
	char *names[ns], nbuf[ns][16];
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;
	struct aiops_rng r;
	double t0, t1;
	char *res;

	aiops_rng_seed(&r, 7);
	for (size_t j = 0; j < ns; j++) {
		cols[j] = j % nc;
		snprintf(nbuf[j], sizeof(nbuf[j]), "m%zu", j);
		names[j] = nbuf[j];
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nc; j++)
			x[i * nc + j] = aiops_rng_uniform(&r) + sin((double)i * (j + 1) / 20000.0);
		score[i] = aiops_rng_uniform(&r);
		/* noisy detections: many short runs */
		pred[i] = score[i] > 0.999;
	}
	x[spike * nc] = 100;
	x[dip * nc] = -100;
	for (size_t k = 0; k < 10; k++)
		memset(label + 50000 + k * 90000, 1, 2000);
	p = (struct aiops_plot){ "1M rows", n, ts, ns, x, nc, cols, names, score, 0.99, label,
	    pred };
	t0 = now();
	is_int(aiops_plot_svg(&p, &b, &e), AIOPS_OK, "1M rows x 38 series");
	t1 = now();
	diag("1M x 38: %zu bytes in %.3f s", b.len, t1 - t0);
	ok(b.len < 600000, "the document is well under 1 MB (%zu bytes)", b.len);
	ok(t1 - t0 < (getenv("AIOPS_SANITIZE") && *getenv("AIOPS_SANITIZE") ? 30 : 3),
	    "and quick (%.2f s)", t1 - t0);
	is_int(count(b.buf, "class=\"seg-label\""), 2 * 10, "10 labelled segments, 2 panels");
	ok(count(b.buf, "class=\"seg-pred\"") <= 2 * 900 && count(b.buf, "class=\"seg-pred\"") > 0,
	    "thousands of detected runs merge to at most one a pixel");
	if ((res = check_xml(&b, "1M rows")) != NULL) {
		struct pinfo pi = pypath(res, "series.path0"), q = pypath(res, "series.path1");

		ok(pi.ok && pi.npts <= 2 * 900, "decimated to at most 2 points a pixel column (%d)",
		    pi.npts);
		is_double(pi.ymin, 50 + 8, 0.05, "the one-row spike reaches the top");
		is_double(pi.ymax, 50 + 330 - 8, 0.05, "the one-row dip reaches the bottom");
		is_double(pi.xtop, 70 + floor(spike * 900.0 / n) + 0.5, 0.05,
		    "the spike in its pixel column");
		is_double(pi.xbot, 70 + floor(dip * 900.0 / n) + 0.5, 0.05,
		    "the dip in its pixel column");
		ok(q.ok && q.sub == 1 && q.npts > 900, "a noisy series: min and max of each column");
		aiops_free(res);
	}
	aiops_buf_release(&b);
	free(x);
	free(score);
	free(label);
	free(pred);
	free(ts);
}

/* The input of the allocation torture: every feature on. */
static int
alloc_child(void)
{
	/* 40 series: more than the first reservation, so the buffer grows midway */
	enum { n = 3000, nc = 3, ns = 40 };
	static double x[n * nc], score[n];
	static unsigned char label[n], pred[n];
	static int64_t ts[n];
	static size_t cols[ns];
	static char *names[ns];
	struct aiops_plot p = { "torture <t>", n, ts, ns, x, nc, cols, names, score, 0.5, label,
	    pred };
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e;
	int r, st;

	for (size_t j = 0; j < ns; j++) {
		cols[j] = j % nc;
		names[j] = j % 2 ? "a&b" : "c";
	}
	for (size_t i = 0; i < n; i++) {
		ts[i] = T2024 + (int64_t)i * 60000;
		x[i * nc] = sin(i / 30.0) + (double)(i % 7);
		x[i * nc + 1] = i % 100 == 0 ? NAN : (double)(i % 13);
		x[i * nc + 2] = 1;
		score[i] = (i % 50) / 10.0;
		label[i] = i % 400 < 20;
		pred[i] = i % 300 < 10;
	}
	r = aiops_plot_svg(&p, &b, &e);
	if (r == AIOPS_OK)
		st = 3;
	else
		st = r == AIOPS_ERR_NOMEM && e.code == r && b.len == 0 &&
		    strcmp(e.msg, "plot: out of memory") == 0 ? 0 : 1;
	aiops_buf_release(&b);
	return st;
}

static void
test_alloc(void)
{
	int nomem = 0, done = 0, bad = 0, k;

	for (k = 1; k <= 200 && !done; k++) {
		char env[32];
		pid_t pid;
		int st;

		snprintf(env, sizeof(env), "%d", k);
		fflush(stdout);
		if ((pid = fork()) < 0)
			break;
		if (pid == 0) {
			char *argv[] = { "test-plot", "--alloc-child", NULL };
			setenv("AIOPS_FAIL_ALLOC", env, 1);
			execv("/proc/self/exe", argv);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
			bad++;
			diag("AIOPS_FAIL_ALLOC=%d: the child died", k);
			continue;
		}
		switch (WEXITSTATUS(st)) {
		case 0: nomem++; break;
		case 3: done = 1; break;
		default:
			bad++;
			diag("AIOPS_FAIL_ALLOC=%d: status %d", k, WEXITSTATUS(st));
		}
	}
	ok(done, "the plot succeeds once allocations stop failing (after %d)", k - 1);
	ok(nomem >= 4, "%d allocation failures were tried, some midway", nomem);
	is_int(bad, 0, "each returned AIOPS_ERR_NOMEM with the buffer as it was%s",
	    getenv("AIOPS_SANITIZE") ? ", and leaked nothing" : "");
}

/* A plot like aiops-eval's, for t3900 to render. */
static int
write_sample(const char *path)
{
	enum { n = 20000, ns = 5 };
	double *x = malloc(n * ns * sizeof(*x)), *score = malloc(n * sizeof(*score));
	unsigned char *label = calloc(n, 1), *pred = calloc(n, 1);
	int64_t *ts = mkts(n, 1710028800000LL, 60000);      /* 2024-03-10, every minute */
	static const size_t cols[ns] = { 0, 1, 2, 3, 4 };
	static char *const names[ns] = { "cpu_r", "load_1", "mem_u", "disk_q & io", "net<in>" };
	static const long lruns[] = { 3000, 3150, 9000, 9400, 15500, 15560, -1 };
	struct aiops_plot p;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_out o;
	struct aiops_error e;
	struct aiops_rng r;
	int rc;

	aiops_rng_seed(&r, 1);
	mark(label, n, lruns);
	for (size_t i = 0; i < n; i++) {
		double day = sin(2 * M_PI * (double)i / 1440.0);

		for (size_t j = 0; j < ns; j++)
			x[i * ns + j] = (1 + j) * day + 0.3 * aiops_rng_normal(&r) +
			    (label[i] ? 3.0 * (j % 2 ? 1 : -1) : 0);
		score[i] = fabs(aiops_rng_normal(&r)) * 0.05 + (label[i] ? 2 + aiops_rng_uniform(&r) :
		    0) + (i % 4999 == 0 ? 5 : 0);
		pred[i] = score[i] > 1;
	}
	for (size_t i = 12000; i < 12300; i++)
		x[i * ns + 2] = NAN;
	p = (struct aiops_plot){ "sample: mahalanobis:reg=0.5  f1=0.61 <&>", n, ts, ns, x, ns,
	    cols, names, score, 1.0, label, pred };
	rc = aiops_plot_svg(&p, &b, &e);
	if (rc == AIOPS_OK && (rc = aiops_out_open(&o, path, &e)) == AIOPS_OK) {
		if ((rc = aiops_out_write(&o, b.buf, b.len, &e)) == AIOPS_OK)
			rc = aiops_out_commit(&o, &e);
		else
			aiops_out_abort(&o);
	}
	if (rc != AIOPS_OK)
		fprintf(stderr, "test-plot: %s: %s\n", path, e.msg);
	aiops_buf_release(&b);
	free(x);
	free(score);
	free(label);
	free(pred);
	free(ts);
	return rc == AIOPS_OK ? 0 : 1;
}

/* aiops_buf_addxml(), the escaper of the plot's text and of aiops-eval's JUnit report. */
static void
test_addxml(void)
{
	static const struct { const char *in; size_t max; const char *want; } t[] = {
		{ "plain", 0, "plain" },
		{ "a<b>&\"c'd", 0, "a&lt;b&gt;&amp;&quot;c&#39;d" },
		{ "tab\tnl\ncr\r", 0, "tab nl cr " },
		{ "bell\a esc\x1b", 0, "bell\xEF\xBF\xBD esc\xEF\xBF\xBD" },
		{ "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 0, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80" },
		{ "bad \xC3( \xFF \xC0\xAF", 0, "bad \xEF\xBF\xBD( \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "surrogate \xED\xA0\x80", 0, "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "nonchar \xEF\xBF\xBF", 0, "nonchar \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "cut at the end \xE2\x82", 0, "cut at the end \xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "abcdef", 3, "abc\xE2\x80\xA6" },
		{ "\xC3\xA9\xC3\xA9\xC3\xA9", 2, "\xC3\xA9\xC3\xA9\xE2\x80\xA6" },
		{ "abc", 3, "abc" },
		{ "", 0, "" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct aiops_buf b = AIOPS_BUF_INIT;
		int r = aiops_buf_addxml(&b, t[i].in, t[i].max);
		ok(r == AIOPS_OK, "addxml %zu: succeeds", i);
		is_str(b.buf ? b.buf : "", t[i].want, "addxml %zu: escaped as XML text", i);
		aiops_buf_release(&b);
	}
}

int
main(int argc, char **argv)
{
	const char *sample = getenv("AIOPS_PLOT_SAMPLE");
	const char *tmp = getenv("TMPDIR");

	if (argc == 2 && strcmp(argv[1], "--alloc-child") == 0)
		return alloc_child();
	if (sample != NULL && *sample != '\0')
		return write_sample(sample);

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-plot.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_addxml();
	test_basic();
	test_segments();
	test_gaps();
	test_logscale();
	test_time_axis();
	test_text();
	test_usage();
	test_million();
	test_alloc();
	{
		char f[128];

		snprintf(f, sizeof(f), "%s/in.svg", tmpdir);
		unlink(f);
		snprintf(f, sizeof(f), "%s/check.py", tmpdir);
		unlink(f);
		rmdir(tmpdir);
	}
	return done_testing();
}
