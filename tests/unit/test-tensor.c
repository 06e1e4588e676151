/* test-tensor.c - the tensor format: round trip, and every corruption caught;
 * reading many rows at once (aiops_treader_rows) from memory, a file and gzip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "aiops.h"
#include "tap.h"

static char dir[] = "/tmp/aiops-unit-XXXXXX";

/* Write a tensor of n rows to path; returns its bytes in *buf (malloc'd). */
static size_t
make(const char *path, size_t n, int dtype, unsigned char **buf)
{
	struct aiops_tensor_info ti;
	struct aiops_out out;
	struct aiops_twriter w;
	struct aiops_error e;
	char *names[] = { "cpu", "mem", "disk io" };
	FILE *f;
	long sz;

	aiops_tinfo_init(&ti);
	aiops_tinfo_set_names(&ti, names, 3);
	ti.dtype = dtype;
	ti.has_ts = 1;
	ti.has_labels = 1;
	json_object_set_new(ti.meta, "split", json_string("train"));
	aiops_out_open(&out, path, &e);
	aiops_twriter_open(&w, &out, &ti, &e);
	for (size_t i = 0; i < n; i++) {
		double v[3] = { (double)i * 0.5, i % 7 == 0 ? NAN : -(double)i, 1e-300 * (double)i };
		aiops_twriter_row(&w, 1700000000000LL + 60000 * (int64_t)i, v, (int)(i % 3 == 0), &e);
	}
	aiops_twriter_finish(&w, &e);
	aiops_twriter_release(&w);
	aiops_out_commit(&out, &e);
	aiops_tinfo_release(&ti);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	*buf = malloc((size_t)sz);
	if (fread(*buf, 1, (size_t)sz, f) != (size_t)sz)
		sz = 0;
	fclose(f);
	return (size_t)sz;
}

/* Read all rows from memory; returns the error code (AIOPS_OK) and fills e. */
static int
read_mem(const unsigned char *p, size_t n, struct aiops_error *e, size_t *rows)
{
	struct aiops_src *s;
	struct aiops_treader r;
	double v[3];
	int k;

	*rows = 0;
	aiops_src_open_mem(&s, p, n, "mem", e);
	if ((k = aiops_treader_open(&r, s, e)) == AIOPS_OK) {
		while ((k = aiops_treader_next(&r, NULL, v, NULL, e)) == 1)
			++*rows;
	}
	aiops_treader_release(&r);
	aiops_src_close(s);
	return k;
}

/* ---- aiops_treader_rows ------------------------------------------------ */

/* A wide tensor, so that its blocks are small: WIDE columns, rows of about 1.6 KB. */
enum { WIDE = 200 };

struct wide {
	int dtype, has_ts, has_labels;
	size_t nrows, bcap;   /* rows per full block, as the writer makes them */
	unsigned char *buf;   /* the file's bytes (malloc'd) */
	size_t len;
};

static double
wide_val(size_t i, size_t j)
{
	/* exact in float32 too */
	return ((double)(i * 256 + j) + 0.5) * (j % 2 ? -1 : 1);
}

static int64_t
wide_ts(size_t i)
{
	return -86400000LL + 1000 * (int64_t)i;  /* negative ones too */
}

static int
wide_label(size_t i)
{
	return i % 5 == 0;
}

/* Write w->nrows rows to path and read the bytes back into w->buf. */
static int
make_wide(const char *path, struct wide *w)
{
	struct aiops_tensor_info ti;
	struct aiops_out out;
	struct aiops_twriter tw;
	struct aiops_error e;
	double v[WIDE];
	char nb[WIDE][8], *names[WIDE];
	int k;
	FILE *f;
	long sz;

	for (size_t j = 0; j < WIDE; j++) {
		snprintf(nb[j], sizeof(nb[j]), "c%zu", j);
		names[j] = nb[j];
	}
	aiops_tinfo_init(&ti);
	aiops_tinfo_set_names(&ti, names, WIDE);
	ti.dtype = w->dtype;
	ti.has_ts = w->has_ts;
	ti.has_labels = w->has_labels;
	if ((k = aiops_out_open(&out, path, &e)) != AIOPS_OK)
		return k;
	k = aiops_twriter_open(&tw, &out, &ti, &e);
	for (size_t i = 0; k == AIOPS_OK && i < w->nrows; i++) {
		for (size_t j = 0; j < WIDE; j++)
			v[j] = wide_val(i, j);
		k = aiops_twriter_row(&tw, wide_ts(i), v, wide_label(i), &e);
	}
	if (k == AIOPS_OK)
		k = aiops_twriter_finish(&tw, &e);
	aiops_twriter_release(&tw);
	if (k == AIOPS_OK)
		k = aiops_out_commit(&out, &e);
	else
		aiops_out_abort(&out);
	aiops_tinfo_release(&ti);
	w->bcap = (1u << 20) / ((w->has_ts ? 8 : 0) + WIDE * (w->dtype == AIOPS_F32 ? 4 : 8) +
	    (w->has_labels ? 1 : 0));
	w->buf = NULL;
	w->len = 0;
	if (k != AIOPS_OK || (f = fopen(path, "rb")) == NULL)
		return k != AIOPS_OK ? k : AIOPS_ERR_IO;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	if ((w->buf = malloc((size_t)sz)) != NULL && fread(w->buf, 1, (size_t)sz, f) == (size_t)sz)
		w->len = (size_t)sz;
	fclose(f);
	return w->len > 0 ? AIOPS_OK : AIOPS_ERR_IO;
}

/* The bytes of p[0..n) as one gzip member (malloc'd), its length in *zn. */
static unsigned char *
gzip_bytes(const unsigned char *p, size_t n, size_t *zn)
{
	z_stream z;
	unsigned char *out;
	size_t cap = n + n / 100 + 1024;

	memset(&z, 0, sizeof(z));
	if ((out = malloc(cap)) == NULL || deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*zn = z.total_out;
	deflateEnd(&z);
	return out;
}

enum { VIA_MEM, VIA_FILE, VIA_GZIP };
static const char *const via_name[] = { "memory", "a file", "gzip in memory" };

/* Open a source over the tensor: its bytes in memory (blocks read in place),
 * the file at path (blocks copied), or its bytes gzipped in memory (decoded). */
static int
open_via(int via, const struct wide *w, const char *path, struct aiops_src **s,
    unsigned char **z, struct aiops_error *e)
{
	size_t zn;

	*z = NULL;
	switch (via) {
	case VIA_MEM:
		return aiops_src_open_mem(s, w->buf, w->len, "mem", e);
	case VIA_FILE:
		return aiops_src_open(s, path, e);
	default:
		if ((*z = gzip_bytes(w->buf, w->len, &zn)) == NULL)
			return AIOPS_ERR_NOMEM;
		return aiops_src_open_mem(s, *z, zn, "mem.gz", e);
	}
}

/*
 * Read the whole tensor max rows at a time, checking every count (never 0
 * before the end, never more than max, never across a block), value,
 * timestamp and label. Returns the number of mismatches; *rows the rows read,
 * *err the first error code (AIOPS_OK at a clean end).
 */
static size_t
read_rows_check(struct aiops_src *s, const struct wide *w, size_t max, int nulls, size_t *rows,
    int *err, struct aiops_error *e)
{
	struct aiops_treader r;
	int64_t *ts = malloc(max * sizeof(int64_t));
	double *v = malloc(max * WIDE * sizeof(double));
	unsigned char *lab = malloc(max);
	size_t bad = 0, at = 0;
	ssize_t got;

	*rows = 0;
	if (ts == NULL || v == NULL || lab == NULL) {
		*err = AIOPS_ERR_NOMEM;
		goto out;
	}
	if ((*err = aiops_treader_open(&r, s, e)) != AIOPS_OK)
		goto out;
	while ((got = aiops_treader_rows(&r, max, nulls ? NULL : ts, nulls ? NULL : v,
	    nulls ? NULL : lab, e)) > 0) {
		size_t in_block = w->bcap - at % w->bcap, left = w->nrows - at;
		size_t want = max < in_block ? max : in_block;
		if (want > left)
			want = left;
		if ((size_t)got != want) {
			if (bad++ == 0)
				diag("max %zu, at row %zu: %zd rows, expected %zu", max, at, got, want);
			if ((size_t)got > max)
				break;
		}
		for (size_t k = 0; !nulls && k < (size_t)got; k++) {
			size_t i = at + k, mis = 0;
			for (size_t j = 0; j < WIDE; j++)
				mis += v[k * WIDE + j] != wide_val(i, j);
			mis += ts[k] != (w->has_ts ? wide_ts(i) : 0);
			mis += lab[k] != (w->has_labels ? wide_label(i) : 0);
			if (mis > 0 && bad++ == 0)
				diag("max %zu, row %zu: %zu mismatches", max, i, mis);
		}
		at += (size_t)got;
	}
	*rows = at;
	*err = got < 0 ? (int)got : AIOPS_OK;
	if (got == 0 && aiops_treader_rows(&r, max, ts, v, lab, e) != 0)
		bad++;  /* the end stays the end */
	aiops_treader_release(&r);
out:
	free(ts);
	free(v);
	free(lab);
	return bad;
}

/* Offset of the tag of block no (1-based) in w->buf (the header, then blocks). */
static size_t
block_at(const struct wide *w, unsigned no)
{
	size_t rowbytes = (w->has_ts ? 8 : 0) + WIDE * (w->dtype == AIOPS_F32 ? 4 : 8) +
	    (w->has_labels ? 1 : 0);
	unsigned char *p = memmem(w->buf, w->len, "ROWS", 4);
	size_t at = p ? (size_t)(p - w->buf) : 0;

	while (p && --no > 0)
		at += 8 + (size_t)aiops_get_u32(w->buf + at + 4) * rowbytes + 4;
	return at;
}

static void
test_rows(void)
{
	static const struct { int dtype, has_ts, has_labels; size_t nrows; } kinds[] = {
		{ AIOPS_F64, 1, 1, 2000 },  /* 3 full blocks of 651 rows and one of 47 */
		{ AIOPS_F32, 1, 1, 2592 },  /* exactly 2 full blocks of 1296 */
		{ AIOPS_F64, 0, 0, 700 },   /* neither timestamps nor labels */
		{ AIOPS_F64, 0, 1, 1 },     /* a single row */
	};
	static const size_t maxes[] = { 1, 7, 650, 651, 652, 100000 };
	struct aiops_error e;
	char path[256];
	int k;

	for (size_t c = 0; c < sizeof(kinds) / sizeof(kinds[0]); c++) {
		struct wide w = { kinds[c].dtype, kinds[c].has_ts, kinds[c].has_labels,
			kinds[c].nrows, 0, NULL, 0 };
		snprintf(path, sizeof(path), "%s/wide%zu.tensor", dir, c);
		k = make_wide(path, &w);
		if (!ok(k == AIOPS_OK, "rows: wrote %zu rows of %d columns in "
		    "blocks of %zu (%s, timestamps %d, labels %d)", w.nrows, WIDE, w.bcap,
		    w.dtype == AIOPS_F32 ? "float32" : "float64", w.has_ts, w.has_labels))
			continue;
		for (int via = VIA_MEM; via <= VIA_GZIP; via++) {
			size_t bad = 0, rows, nbad = 0;
			for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
				struct aiops_src *s;
				unsigned char *z;
				int err = AIOPS_ERR_IO;
				for (int nulls = 0; nulls <= 1; nulls++) {
					if (open_via(via, &w, path, &s, &z, &e) != AIOPS_OK) {
						nbad++;
						continue;
					}
					bad += read_rows_check(s, &w, maxes[m], nulls, &rows, &err, &e);
					if (err != AIOPS_OK || rows != w.nrows) {
						diag("max %zu: %zu rows, error %d: %s", maxes[m], rows, err,
						    err ? e.msg : "");
						nbad++;
					}
					aiops_src_close(s);
					free(z);
				}
			}
			ok(bad == 0 && nbad == 0, "rows: case %zu from %s: every count, value, "
			    "timestamp and label for max 1, 7, 650, 651, 652, 100000", c, via_name[via]);
		}
		free(w.buf);
	}

	/* next and rows interleaved, labels normalised, corruption */
	{
		struct wide w = { AIOPS_F64, 1, 1, 2000, 0, NULL, 0 };
		struct aiops_src *s;
		struct aiops_treader r;
		unsigned char *z, *keep, lab[1000];
		double v[WIDE], *vv = malloc(1000 * WIDE * sizeof(double));
		int64_t ts[1000];
		size_t b2, b3, rows;
		ssize_t got;
		int lb, err;

		snprintf(path, sizeof(path), "%s/wide.tensor", dir);
		if (vv == NULL || make_wide(path, &w) != AIOPS_OK)
			goto done;
		aiops_src_open_mem(&s, w.buf, w.len, "mem", &e);
		aiops_treader_open(&r, s, &e);
		k = aiops_treader_next(&r, ts, v, &lb, &e) == 1 && ts[0] == wide_ts(0) &&
		    v[3] == wide_val(0, 3) && lb == 1;
		k = k && aiops_treader_next(&r, ts, v, &lb, &e) == 1 && ts[0] == wide_ts(1);
		got = aiops_treader_rows(&r, 1000, ts, vv, lab, &e);
		ok(k && got == (ssize_t)w.bcap - 2 && ts[0] == wide_ts(2) && vv[WIDE] == wide_val(3, 0) &&
		    lab[3] == 1 && ts[got - 1] == wide_ts(w.bcap - 1),
		    "rows: after two rows by aiops_treader_next, the rest of the block (%zd)", got);
		k = aiops_treader_next(&r, ts, v, &lb, &e) == 1 && ts[0] == wide_ts(w.bcap);
		ok(k, "rows: then aiops_treader_next takes the first row of the next block");
		aiops_treader_release(&r);
		aiops_src_close(s);

		keep = malloc(w.len);
		memcpy(keep, w.buf, w.len);
		b2 = block_at(&w, 2);
		b3 = block_at(&w, 3);
		ok(memcmp(w.buf + b2, "ROWS", 4) == 0 && memcmp(w.buf + b3, "ROWS", 4) == 0 &&
		    aiops_get_u32(w.buf + b2 + 4) == w.bcap, "rows: found blocks 2 and 3");

		/* labels other than 0 and 1, the checksum made right again: taken as 1 */
		{
			size_t n = w.bcap, lo = b2 + 8 + 8 * n + n * WIDE * 8;
			w.buf[lo + 0] = 7;      /* row bcap, a normal one: now anomalous */
			w.buf[lo + 5] = 255;    /* row bcap + 5: already anomalous */
			aiops_put_u32(w.buf + lo + n, (uint32_t)crc32(0, w.buf + b2, (uInt)(lo + n - b2)));
			for (int via = VIA_MEM; via <= VIA_GZIP; via++) {
				size_t seen = 0, ones = 0, other = 0;
				if (via == VIA_FILE)
					continue;
				open_via(via, &w, path, &s, &z, &e);
				aiops_treader_open(&r, s, &e);
				while ((got = aiops_treader_rows(&r, 1000, NULL, NULL, lab, &e)) > 0) {
					for (ssize_t i = 0; i < got; i++, seen++) {
						ones += seen == w.bcap && lab[i] == 1;
						ones += seen == w.bcap + 5 && lab[i] == 1;
						other += lab[i] > 1;
					}
				}
				ok(got == 0 && ones == 2 && other == 0,
				    "rows: labels 7 and 255 read as 1 from %s", via_name[via]);
				aiops_treader_release(&r);
				aiops_src_close(s);
				free(z);
			}
			memcpy(w.buf, keep, w.len);
		}

		/* a flipped bit in block 2: block 1 is read, then the checksum error */
		w.buf[b2 + 8 + 8 * w.bcap + 12345] ^= 0x04;
		for (int via = VIA_MEM; via <= VIA_GZIP; via++) {
			FILE *f;
			if (via == VIA_FILE && ((f = fopen(path, "wb")) == NULL ||
			    fwrite(w.buf, 1, w.len, f) != w.len || fclose(f) != 0)) {
				ok(0, "rows: rewrote the file");
				continue;
			}
			open_via(via, &w, path, &s, &z, &e);
			read_rows_check(s, &w, 100, 0, &rows, &err, &e);
			ok(err == AIOPS_ERR_FORMAT && rows == w.bcap &&
			    strstr(e.msg, "checksum mismatch in block 2") != NULL,
			    "rows: a flipped value bit in block 2 from %s: %zu rows, then %s",
			    via_name[via], rows, e.msg);
			aiops_src_close(s);
			free(z);
		}
		{
			struct aiops_tensor t;
			ok(aiops_tensor_load(&t, path, &e) == AIOPS_ERR_FORMAT &&
			    strstr(e.msg, "checksum mismatch in block 2") != NULL,
			    "rows: loading (mapped) the file of the flipped bit: %s", e.msg);
		}
		memcpy(w.buf, keep, w.len);

		/* the stored checksum of block 3 altered */
		w.buf[b3 + 8 + w.bcap * ((size_t)8 + WIDE * 8 + 1)] ^= 0x80;
		aiops_src_open_mem(&s, w.buf, w.len, "mem", &e);
		read_rows_check(s, &w, 7, 0, &rows, &err, &e);
		ok(err == AIOPS_ERR_FORMAT && rows == 2 * w.bcap &&
		    strstr(e.msg, "checksum mismatch in block 3") != NULL,
		    "rows: the checksum of block 3 altered: %zu rows, then %s", rows, e.msg);
		aiops_src_close(s);
		memcpy(w.buf, keep, w.len);

		/* the file ends inside block 3: fewer bytes than the block, read as truncated */
		aiops_src_open_mem(&s, w.buf, b3 + 100, "mem", &e);
		read_rows_check(s, &w, 100000, 0, &rows, &err, &e);
		ok(err == AIOPS_ERR_FORMAT && rows == 2 * w.bcap &&
		    strstr(e.msg, "truncated in block 3") != NULL,
		    "rows: the data ends inside block 3: %zu rows, then %s", rows, e.msg);
		aiops_src_close(s);
		free(keep);
done:
		free(vv);
		free(w.buf);
	}

	/* loaded whole (mapped, blocks in place), a file of more than 8 MiB (pages dropped
	 * behind the reader) */
	{
		struct wide w = { AIOPS_F64, 1, 1, 6000, 0, NULL, 0 };
		struct aiops_tensor t;
		size_t bad = 0;

		snprintf(path, sizeof(path), "%s/big.tensor", dir);
		if (make_wide(path, &w) == AIOPS_OK && aiops_tensor_load(&t, path, &e) == AIOPS_OK) {
			for (size_t i = 0; i < t.nrows; i++) {
				for (size_t j = 0; j < WIDE; j++)
					bad += t.x[i * WIDE + j] != wide_val(i, j);
				bad += t.ts[i] != wide_ts(i) || t.y[i] != wide_label(i);
			}
			ok(w.len > (8u << 20) && t.nrows == w.nrows && bad == 0,
			    "rows: a %zu-byte tensor of %zu blocks loads whole, every value exact",
			    w.len, (w.nrows + w.bcap - 1) / w.bcap);
			aiops_tensor_release(&t);
		} else
			ok(0, "rows: a large tensor loads: %s", e.msg);
		free(w.buf);
	}
}

int
main(void)
{
	struct aiops_tensor t;
	struct aiops_error e;
	unsigned char *buf, *cp;
	char path[256];
	size_t n, rows;
	int bad = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/a.tensor", dir);
	n = make(path, 70000, AIOPS_F64, &buf);   /* more than one block */
	ok(n > 0, "wrote a tensor");
	ok(memcmp(buf, "\x89" "AITNS\r\n", 8) == 0, "magic");
	is_int(buf[8] | buf[9] << 8, 1, "version 1 little-endian");
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK, "load with mmap");
	is_int((long long)t.nrows, 70000, "row count");
	is_int((long long)t.info.ncols, 3, "columns");
	is_str(t.info.names[2], "disk io", "a name with a space");
	is_str(json_string_value(json_object_get(t.info.meta, "split")), "train", "metadata kept");
	for (size_t i = 0; i < t.nrows; i++) {
		double *x = t.x + 3 * i;
		if (x[0] != (double)i * 0.5 || (i % 7 == 0 ? !isnan(x[1]) : x[1] != -(double)i) ||
		    x[2] != 1e-300 * (double)i || t.ts[i] != 1700000000000LL + 60000 * (int64_t)i ||
		    t.y[i] != (i % 3 == 0))
			bad++;
	}
	is_int(bad, 0, "every value, timestamp and label read back exactly");
	aiops_tensor_release(&t);

	ok(read_mem(buf, n, &e, &rows) == AIOPS_OK && rows == 70000, "stream read");
	/* truncation at many points */
	bad = 0;
	for (size_t cut = 0; cut < n; cut += n / 97 + 1)
		if (read_mem(buf, cut, &e, &rows) != AIOPS_ERR_FORMAT)
			bad++;
	is_int(bad, 0, "every truncation is a format error");
	ok(read_mem(buf, n - 1, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "truncated"),
	    "one byte short says truncated: %s", e.msg);
	/* a flipped bit in each region */
	cp = malloc(n + 1);
	memcpy(cp, buf, n);
	cp[n / 2] ^= 0x10;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "checksum mismatch in block"),
	    "flipped payload bit: %s", e.msg);
	memcpy(cp, buf, n);
	cp[21] ^= 1;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT, "flipped header bit: %s", e.msg);
	memcpy(cp, buf, n);
	cp[0] = 'X';
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "bad magic"), "bad magic");
	memcpy(cp, buf, n);
	cp[8] = 2;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_VERSION && strstr(e.msg, "newer"),
	    "newer version refused: %s", e.msg);
	memcpy(cp, buf, n);
	cp[n] = 0;
	ok(read_mem(cp, n + 1, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "after the end"),
	    "trailing byte: %s", e.msg);
	memcpy(cp, buf, n);
	cp[n - 10] ^= 1;  /* the row count in the trailer */
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT, "trailer tampered: %s", e.msg);
	free(cp);
	free(buf);

	/* float32 */
	snprintf(path, sizeof(path), "%s/b.tensor", dir);
	n = make(path, 10, AIOPS_F32, &buf);
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK && t.info.dtype == AIOPS_F32, "float32 load");
	is_double(t.x[3 * 9 + 0], 4.5, 0, "float32 value");
	aiops_tensor_release(&t);
	free(buf);

	/* a loaded file whose trailer claims more rows than it holds: the count is
	 * only a hint for reserving, and the mismatch is still a format error */
	{
		FILE *fp;
		snprintf(path, sizeof(path), "%s/t.tensor", dir);
		n = make(path, 10, AIOPS_F64, &buf);
		aiops_put_u64(buf + n - 12, 150);
		fp = fopen(path, "wb");
		fwrite(buf, 1, n, fp);
		fclose(fp);
		ok(aiops_tensor_load(&t, path, &e) == AIOPS_ERR_FORMAT, "tampered row count on load: %s",
		    e.msg);
		free(buf);
	}

	/* zero rows */
	snprintf(path, sizeof(path), "%s/c.tensor", dir);
	n = make(path, 0, AIOPS_F64, &buf);
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK && t.nrows == 0, "empty tensor loads");
	aiops_tensor_release(&t);
	free(buf);

	test_rows();

	/* an aborted output leaves nothing */
	{
		struct aiops_out out;
		snprintf(path, sizeof(path), "%s/d.tensor", dir);
		aiops_out_open(&out, path, &e);
		aiops_out_write(&out, "xyz", 3, &e);
		aiops_out_abort(&out);
		ok(access(path, F_OK) != 0, "aborted output does not exist");
	}
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("cleanup failed");
	}
	return done_testing();
}
