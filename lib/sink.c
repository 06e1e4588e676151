/* sink.c - the row sinks that write tensor, CSV and .npy output, or collect rows. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "series.h"

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

/* ---- tensor ------------------------------------------------------------- */

struct tsink {
	struct aiops_sink sink;
	struct aiops_twriter w;
};

static int
tsink_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	return aiops_twriter_row(&((struct tsink *)s)->w, ts, v, label, e);
}

static int
tsink_finish(struct aiops_sink *s, struct aiops_error *e)
{
	return aiops_twriter_finish(&((struct tsink *)s)->w, e);
}

static void
tsink_free(struct aiops_sink *s)
{
	if (s == NULL)
		return;
	aiops_twriter_release(&((struct tsink *)s)->w);
	aiops_free(s);
}

/* ---- CSV ---------------------------------------------------------------- */

struct csink {
	struct aiops_sink sink;
	struct aiops_out *out;
	size_t ncols;
	int has_ts, has_labels, is_float;
	struct aiops_buf line;
};

static int
csink_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct csink *c = (struct csink *)s;
	struct aiops_buf *b = &c->line;
	char num[40];
	int r = AIOPS_OK;

	aiops_buf_reset(b);
	if (aiops_buf_grow(b, c->ncols * 26 + 64) != AIOPS_OK)
		return nomem(e);
	if (c->has_ts) {
		aiops_format_time(ts, num, sizeof(num));
		r |= aiops_buf_addstr(b, num);
	}
	for (size_t j = 0; j < c->ncols; j++) {
		int n = aiops_format_double(v[j], c->is_float, num, sizeof(num));
		if (j > 0 || c->has_ts)
			r |= aiops_buf_addch(b, ',');
		r |= aiops_buf_add(b, num, (size_t)n);
	}
	if (c->has_labels)
		r |= aiops_buf_addstr(b, label > 0 ? ",1" : ",0");
	r |= aiops_buf_addch(b, '\n');
	if (r != AIOPS_OK)
		return nomem(e);
	return aiops_out_write(c->out, b->buf, b->len, e);
}

static int
csink_finish(struct aiops_sink *s, struct aiops_error *e)
{
	(void)s;
	(void)e;
	return AIOPS_OK;
}

static void
csink_free(struct aiops_sink *s)
{
	if (s == NULL)
		return;
	aiops_buf_release(&((struct csink *)s)->line);
	aiops_free(s);
}

static int
csink_open(struct aiops_sink **sp, struct aiops_out *out, const struct aiops_tensor_info *ti,
    struct aiops_error *e)
{
	struct csink *c = aiops_calloc(1, sizeof(*c));
	struct aiops_buf h = AIOPS_BUF_INIT;
	int r = AIOPS_OK;

	if (c == NULL)
		return nomem(e);
	c->sink.row = csink_row;
	c->sink.finish = csink_finish;
	c->sink.free = csink_free;
	c->out = out;
	c->ncols = ti->ncols;
	c->has_ts = ti->has_ts;
	c->has_labels = ti->has_labels;
	c->is_float = ti->dtype == AIOPS_F32;
	if (ti->has_ts)
		r |= aiops_buf_addstr(&h, "timestamp");
	for (size_t j = 0; j < ti->ncols; j++) {
		if (j > 0 || ti->has_ts)
			r |= aiops_buf_addch(&h, ',');
		r |= aiops_buf_addcsv(&h, ti->names[j]);
	}
	if (ti->has_labels)
		r |= aiops_buf_addstr(&h, ",label");
	r |= aiops_buf_addch(&h, '\n');
	if (r != AIOPS_OK) {
		aiops_buf_release(&h);
		csink_free(&c->sink);
		return nomem(e);
	}
	r = aiops_out_write(out, h.buf, h.len, e);
	aiops_buf_release(&h);
	if (r != AIOPS_OK) {
		csink_free(&c->sink);
		return r;
	}
	*sp = &c->sink;
	return AIOPS_OK;
}

/* ---- npy ---------------------------------------------------------------- */

#define NPY_HDR 128   /* magic + header, padded: a multiple of 64 */

struct nsink {
	struct aiops_sink sink;
	struct aiops_out *out;
	size_t ncols;
	int is_float;
	uint64_t nrows;
	struct aiops_buf mem;   /* rows, when the output cannot seek */
	unsigned char *row;
};

static void
npy_header(unsigned char *h, int is_float, uint64_t rows, size_t cols)
{
	char d[NPY_HDR];
	int n = snprintf(d, sizeof(d),
	    "{'descr': '<%s', 'fortran_order': False, 'shape': (%llu, %zu), }",
	    is_float ? "f4" : "f8", (unsigned long long)rows, cols);

	memcpy(h, "\x93NUMPY\x01\x00", 8);
	aiops_put_u16(h + 8, NPY_HDR - 10);
	memset(h + 10, ' ', NPY_HDR - 10);
	memcpy(h + 10, d, (size_t)n);
	h[NPY_HDR - 1] = '\n';
}

static int
nsink_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	struct nsink *k = (struct nsink *)s;
	size_t ds = k->is_float ? 4 : 8;

	(void)ts;
	(void)label;
	for (size_t j = 0; j < k->ncols; j++) {
		if (k->is_float) {
			float f = (float)v[j];
			uint32_t u;
			memcpy(&u, &f, 4);
			aiops_put_u32(k->row + 4 * j, u);
		} else {
			uint64_t u;
			memcpy(&u, &v[j], 8);
			aiops_put_u64(k->row + 8 * j, u);
		}
	}
	k->nrows++;
	if (aiops_out_seekable(k->out))
		return aiops_out_write(k->out, k->row, ds * k->ncols, e);
	if (aiops_buf_add(&k->mem, k->row, ds * k->ncols) != AIOPS_OK)
		return nomem(e);
	return AIOPS_OK;
}

static int
nsink_finish(struct aiops_sink *s, struct aiops_error *e)
{
	struct nsink *k = (struct nsink *)s;
	unsigned char h[NPY_HDR];
	int r;

	npy_header(h, k->is_float, k->nrows, k->ncols);
	if (aiops_out_seekable(k->out))
		return aiops_out_pwrite(k->out, 0, h, NPY_HDR, e);
	if ((r = aiops_out_write(k->out, h, NPY_HDR, e)) != AIOPS_OK)
		return r;
	return aiops_out_write(k->out, k->mem.buf ? k->mem.buf : "", k->mem.len, e);
}

static void
nsink_free(struct aiops_sink *s)
{
	struct nsink *k = (struct nsink *)s;

	if (k == NULL)
		return;
	aiops_buf_release(&k->mem);
	aiops_free(k->row);
	aiops_free(k);
}

static int
nsink_open(struct aiops_sink **sp, struct aiops_out *out, const struct aiops_tensor_info *ti,
    struct aiops_error *e)
{
	struct nsink *k = aiops_calloc(1, sizeof(*k));
	unsigned char h[NPY_HDR];

	if (k == NULL)
		return nomem(e);
	k->sink.row = nsink_row;
	k->sink.finish = nsink_finish;
	k->sink.free = nsink_free;
	k->out = out;
	k->ncols = ti->ncols;
	k->is_float = ti->dtype == AIOPS_F32;
	if ((k->row = aiops_calloc(ti->ncols, 8)) == NULL) {
		nsink_free(&k->sink);
		return nomem(e);
	}
	if (aiops_out_seekable(out)) {
		/* a placeholder header, rewritten with the row count at the end */
		int r;
		npy_header(h, k->is_float, 0, ti->ncols);
		if ((r = aiops_out_write(out, h, NPY_HDR, e)) != AIOPS_OK) {
			nsink_free(&k->sink);
			return r;
		}
	}
	*sp = &k->sink;
	return AIOPS_OK;
}

/* ---- collect ------------------------------------------------------------ */

struct collect {
	struct aiops_sink sink;
	struct aiops_tensor *t;
};

static int
collect_row(struct aiops_sink *s, int64_t ts, const double *v, int label, struct aiops_error *e)
{
	if (aiops_tensor_push(((struct collect *)s)->t, ts, v, label) != AIOPS_OK)
		return nomem(e);
	return AIOPS_OK;
}

static int
collect_finish(struct aiops_sink *s, struct aiops_error *e)
{
	(void)s;
	(void)e;
	return AIOPS_OK;
}

static void
collect_free(struct aiops_sink *s)
{
	aiops_free(s);
}

int
aiops_sink_collect(struct aiops_sink **sp, struct aiops_tensor *t, struct aiops_error *e)
{
	struct collect *c = aiops_calloc(1, sizeof(*c));

	*sp = NULL;
	if (c == NULL)
		return nomem(e);
	c->sink.row = collect_row;
	c->sink.finish = collect_finish;
	c->sink.free = collect_free;
	c->t = t;
	*sp = &c->sink;
	return AIOPS_OK;
}

int
aiops_sink_writer(struct aiops_sink **sp, int format, struct aiops_out *out,
    const struct aiops_tensor_info *ti, struct aiops_error *e)
{
	struct tsink *t;
	int r;

	*sp = NULL;
	if (format == AIOPS_FMT_CSV)
		return csink_open(sp, out, ti, e);
	if (format == AIOPS_FMT_NPY)
		return nsink_open(sp, out, ti, e);
	if ((t = aiops_calloc(1, sizeof(*t))) == NULL)
		return nomem(e);
	t->sink.row = tsink_row;
	t->sink.finish = tsink_finish;
	t->sink.free = tsink_free;
	if ((r = aiops_twriter_open(&t->w, out, ti, e)) != AIOPS_OK) {
		tsink_free(&t->sink);
		return r;
	}
	*sp = &t->sink;
	return AIOPS_OK;
}
