/* test-series.c - aligner, gap filler, interval labels, scalers, CSV reader. */
#include <math.h>
#include <string.h>

#include "aiops.h"
#include "tap.h"

/* a sink that records rows */
struct rec {
	struct aiops_sink sink;
	double v[64][2];
	int64_t ts[64];
	int lab[64];
	int n, finished;
};

static int
rec_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct rec *r = (struct rec *)s;

	(void)e;
	r->ts[r->n] = ts;
	r->v[r->n][0] = v[0];
	r->v[r->n][1] = v[1];
	r->lab[r->n] = label;
	r->n++;
	return AIOPS_OK;
}

static int
rec_finish(struct aiops_sink *s, struct aiops_error *e)
{
	(void)e;
	((struct rec *)s)->finished = 1;
	return AIOPS_OK;
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->sink.row = rec_row;
	r->sink.finish = rec_finish;
}

static void
feed(struct aiops_aligner *a, int64_t ts, double x, double y, int lab)
{
	struct aiops_error e;

	aiops_aligner_begin(a, ts, &e);
	aiops_aligner_cell(a, 0, x);
	aiops_aligner_cell(a, 1, y);
	aiops_aligner_end(a, lab, &e);
}

int
main(void)
{
	struct aiops_aligner a;
	struct aiops_error e;
	struct rec r;
	struct aiops_sink *f;

	/* mean over 60 s buckets, an empty bucket, label = max */
	rec_init(&r);
	aiops_aligner_init(&a, 2, 1, 60000, AIOPS_AGG_MEAN, &r.sink, &e);
	feed(&a, 0, 1, NAN, 0);
	feed(&a, 30000, 3, 5, 1);
	feed(&a, 150000, 10, 20, 0);
	ok(aiops_aligner_begin(&a, 10000, &e) == AIOPS_ERR_DATA, "a row before the open bucket is out of order");
	aiops_aligner_flush(&a, &e);
	is_int(r.n, 3, "three buckets (one empty)");
	is_double(r.v[0][0], 2, 0, "mean of 1 and 3");
	is_double(r.v[0][1], 5, 0, "mean ignores the missing value");
	is_int(r.lab[0], 1, "bucket label is the max");
	ok(isnan(r.v[1][0]) && r.ts[1] == 60000, "empty bucket is missing at 60 s");
	is_int(r.ts[2], 120000, "bucket start floor(150 s / 60 s) * 60 s");
	aiops_aligner_release(&a);

	/* count and max */
	rec_init(&r);
	aiops_aligner_init(&a, 2, 1, 10000, AIOPS_AGG_COUNT, &r.sink, &e);
	feed(&a, 1000, 1, NAN, -1);
	feed(&a, 2000, 2, 7, -1);
	aiops_aligner_flush(&a, &e);
	ok(r.n == 1 && r.v[0][0] == 2 && r.v[0][1] == 1, "count of non-missing values");
	aiops_aligner_release(&a);

	/* linear fill with max gap 2: a gap of 2 is filled, a gap of 3 is not */
	rec_init(&r);
	aiops_sink_filler(&f, 2, AIOPS_FILL_LINEAR, 2, &r.sink, &e);
	{
		double col[] = { 0, NAN, NAN, 3, NAN, NAN, NAN, 7, NAN };
		for (int i = 0; i < 9; i++) {
			double v[2] = { col[i], 1 };
			f->row(f, i, v, -1, &e);
		}
		f->finish(f, &e);
	}
	is_int(r.n, 9, "all rows come out");
	ok(r.v[1][0] == 1 && r.v[2][0] == 2, "gap of 2 interpolated 1, 2");
	ok(isnan(r.v[4][0]) && isnan(r.v[5][0]) && isnan(r.v[6][0]), "gap of 3 > max-gap stays missing");
	ok(isnan(r.v[8][0]), "trailing gap stays missing for linear");
	ok(r.finished, "finish passed on");
	f->free(f);

	/* ffill without a limit, leading gap stays missing */
	rec_init(&r);
	aiops_sink_filler(&f, 2, AIOPS_FILL_FFILL, 0, &r.sink, &e);
	{
		double col[] = { NAN, 4, NAN, NAN };
		for (int i = 0; i < 4; i++) {
			double v[2] = { col[i], 0 };
			f->row(f, i, v, -1, &e);
		}
		f->finish(f, &e);
	}
	ok(isnan(r.v[0][0]) && r.v[2][0] == 4 && r.v[3][0] == 4, "ffill: leading missing, trailing filled");
	f->free(f);

	/* intervals by time, inclusive */
	rec_init(&r);
	{
		struct aiops_interval iv[] = { { 20, 30 }, { 5, 6 } };
		double v[2] = { 0, 0 };
		aiops_sink_intervals(&f, iv, 2, 1, &r.sink, &e);
		for (int t = 0; t < 40; t += 5)
			f->row(f, t, v, t == 0 ? 1 : -1, &e);
		f->free(f);
	}
	ok(r.lab[0] == 1 && r.lab[1] == 1 && r.lab[2] == 0 && r.lab[4] == 1 && r.lab[6] == 1 &&
	    r.lab[7] == 0, "interval labels inclusive, existing 1 kept");

	/* scalers against hand values: x = 1, 2, 3, 4, 100 */
	{
		struct aiops_tensor_info ti;
		struct aiops_tensor t;
		char *names[] = { "x" };
		double c, s, xs[] = { 1, 2, 3, 4, 100 };

		aiops_tinfo_init(&ti);
		aiops_tinfo_set_names(&ti, names, 1);
		aiops_tensor_init(&t, &ti);
		for (int i = 0; i < 5; i++)
			aiops_tensor_push(&t, 0, &xs[i], 0);
		aiops_scaler_fit(&t, 5, AIOPS_SCALE_ROBUST, &c, &s, &e);
		ok(c == 3 && s == 2, "robust: median 3, IQR 4 - 2 = 2 (numpy linear)");
		aiops_scaler_fit(&t, 4, AIOPS_SCALE_ZSCORE, &c, &s, &e);
		is_double(c, 2.5, 1e-15, "zscore on the first 4 rows: mean");
		is_double(s, sqrt(1.25), 1e-15, "zscore: population std");
		aiops_scaler_fit(&t, 5, AIOPS_SCALE_MINMAX, &c, &s, &e);
		ok(c == 1 && s == 99, "minmax");
		aiops_tensor_release(&t);
		aiops_tinfo_release(&ti);
	}

	/* CSV: quotes, embedded newline, CRLF, BOM, blank lines, line numbers */
	{
		const char *text = "\xef\xbb\xbf" "a,\"b,c\"\r\n\r\n1,\"x\"\"y\nz\"\r\n2,3";
		struct aiops_src *src;
		struct aiops_csv c;

		aiops_src_open_mem(&src, text, strlen(text), "t.csv", &e);
		aiops_csv_init(&c, src, &e);
		ok(aiops_csv_next(&c, &e) == 1 && c.nf == 2 && strcmp(c.f[0].p, "a") == 0 &&
		    strcmp(c.f[1].p, "b,c") == 0, "header with BOM and a quoted comma");
		ok(aiops_csv_next(&c, &e) == 1 && c.line == 3 && strcmp(c.f[1].p, "x\"y\nz") == 0,
		    "blank line skipped; escaped quote and newline in a field");
		ok(aiops_csv_next(&c, &e) == 1 && c.line == 5 && strcmp(c.f[1].p, "3") == 0 &&
		    c.f[1].col == 3, "line 5 column 3 after a two-line record");
		is_int(aiops_csv_next(&c, &e), 0, "end");
		aiops_csv_release(&c);
		aiops_src_close(src);

		text = "a,\"b\nc";
		aiops_src_open_mem(&src, text, strlen(text), "u.csv", &e);
		aiops_csv_init(&c, src, &e);
		ok(aiops_csv_next(&c, &e) == AIOPS_ERR_DATA && strstr(e.msg, "u.csv:1:3: unterminated"),
		    "unterminated quote named: %s", e.msg);
		aiops_csv_release(&c);
		aiops_src_close(src);
	}
	return done_testing();
}
