/* tensor.c - reading and writing aiops tensor files (see aiops-tensor(5)). */
#include <fcntl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "tensor.h"

#define HDR_FIXED 20

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

static uint32_t
crc(uint32_t c, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = (uint32_t)crc32(c, s, k);
		s += k;
		n -= k;
	}
	return c;
}

static size_t
dsize(int dtype)
{
	return dtype == AIOPS_F32 ? 4 : 8;
}

int
aiops_is_tensor_magic(const void *p, size_t n)
{
	return n >= 8 && memcmp(p, AIOPS_TENSOR_MAGIC, 8) == 0;
}

/* ---- info ----------------------------------------------------------- */

int
aiops_tinfo_init(struct aiops_tensor_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->version = AIOPS_TENSOR_VERSION;
	ti->dtype = AIOPS_F64;
	ti->meta = json_object();
	return ti->meta ? AIOPS_OK : AIOPS_ERR_NOMEM;
}

static void
free_names(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		aiops_free(names[i]);
	aiops_free(names);
}

int
aiops_tinfo_set_names(struct aiops_tensor_info *ti, char *const *names, size_t n)
{
	char **v = aiops_calloc(n ? n : 1, sizeof(char *));

	if (v == NULL)
		return AIOPS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if ((v[i] = aiops_strdup(names[i])) == NULL) {
			free_names(v, n);
			return AIOPS_ERR_NOMEM;
		}
	free_names(ti->names, ti->ncols);
	ti->names = v;
	ti->ncols = n;
	return AIOPS_OK;
}

int
aiops_tinfo_copy(struct aiops_tensor_info *dst, const struct aiops_tensor_info *src)
{
	*dst = *src;
	dst->names = NULL;
	dst->ncols = 0;
	dst->meta = json_deep_copy(src->meta);
	if (dst->meta == NULL)
		return AIOPS_ERR_NOMEM;
	if (aiops_tinfo_set_names(dst, src->names, src->ncols) != AIOPS_OK) {
		json_decref(dst->meta);
		dst->meta = NULL;
		return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

void
aiops_tinfo_release(struct aiops_tensor_info *ti)
{
	free_names(ti->names, ti->ncols);
	json_decref(ti->meta);
	ti->names = NULL;
	ti->meta = NULL;
	ti->ncols = 0;
}

long
aiops_tinfo_find(const struct aiops_tensor_info *ti, const char *name)
{
	for (size_t i = 0; i < ti->ncols; i++)
		if (strcmp(ti->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* ---- writer ----------------------------------------------------------- */

int
aiops_twriter_open(struct aiops_twriter *w, struct aiops_out *out,
    const struct aiops_tensor_info *ti, struct aiops_error *e)
{
	struct aiops_buf h = AIOPS_BUF_INIT;
	unsigned char fixed[HDR_FIXED], b4[4];
	char *meta = NULL;
	size_t mlen;
	int r;

	memset(w, 0, sizeof(*w));
	w->out = out;
	w->ncols = ti->ncols;
	w->dtype = ti->dtype;
	w->has_ts = ti->has_ts;
	w->has_labels = ti->has_labels;
	if (ti->ncols == 0 || ti->ncols > AIOPS_TENSOR_MAX_COLS)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: a tensor needs 1 to %u columns, not %zu",
		    out->name, AIOPS_TENSOR_MAX_COLS, ti->ncols);
	if (ti->dtype != AIOPS_F32 && ti->dtype != AIOPS_F64)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "unknown dtype %d", ti->dtype);
	meta = json_dumps(ti->meta ? ti->meta : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
	if (meta == NULL)
		return nomem(e);
	mlen = strlen(meta);
	if (mlen > AIOPS_TENSOR_MAX_META) {
		aiops_free(meta);
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: metadata larger than %u bytes",
		    out->name, AIOPS_TENSOR_MAX_META);
	}
	memcpy(fixed, AIOPS_TENSOR_MAGIC, 8);
	aiops_put_u16(fixed + 8, AIOPS_TENSOR_VERSION);
	fixed[10] = (unsigned char)ti->dtype;
	fixed[11] = (unsigned char)((ti->has_ts ? 1 : 0) | (ti->has_labels ? 2 : 0));
	aiops_put_u32(fixed + 12, (uint32_t)ti->ncols);
	aiops_put_u32(fixed + 16, (uint32_t)mlen);
	r = aiops_buf_add(&h, fixed, sizeof(fixed));
	for (size_t i = 0; i < ti->ncols && r == AIOPS_OK; i++) {
		size_t n = strlen(ti->names[i]);
		unsigned char b2[2];
		if (n == 0 || n > 65535) {
			aiops_buf_release(&h);
			aiops_free(meta);
			return aiops_error_set(e, AIOPS_ERR_LIMIT,
			    "column %zu: a name must have 1 to 65535 bytes", i + 1);
		}
		aiops_put_u16(b2, (uint16_t)n);
		r = aiops_buf_add(&h, b2, 2);
		if (r == AIOPS_OK)
			r = aiops_buf_add(&h, ti->names[i], n);
	}
	if (r == AIOPS_OK)
		r = aiops_buf_add(&h, meta, mlen);
	aiops_free(meta);
	if (r != AIOPS_OK) {
		aiops_buf_release(&h);
		return nomem(e);
	}
	aiops_put_u32(b4, crc(0, h.buf, h.len));
	r = aiops_out_write(out, h.buf, h.len, e);
	aiops_buf_release(&h);
	if (r == AIOPS_OK)
		r = aiops_out_write(out, b4, 4, e);
	if (r != AIOPS_OK)
		return r;

	w->rowbytes = (w->has_ts ? 8 : 0) + w->ncols * dsize(w->dtype) + (w->has_labels ? 1 : 0);
	w->bcap = (1u << 20) / w->rowbytes;
	if (w->bcap < 1)
		w->bcap = 1;
	if (w->bcap > AIOPS_TENSOR_MAX_BLOCK)
		w->bcap = AIOPS_TENSOR_MAX_BLOCK;
	w->ts_off = 8;
	w->val_off = w->ts_off + (w->has_ts ? 8 * w->bcap : 0);
	w->lab_off = w->val_off + w->bcap * w->ncols * dsize(w->dtype);
	if ((w->blk = aiops_malloc(8 + w->bcap * w->rowbytes + 4)) == NULL)
		return nomem(e);
	return AIOPS_OK;
}

static int
flush_block(struct aiops_twriter *w, struct aiops_error *e)
{
	unsigned char *b = w->blk;
	size_t vs = dsize(w->dtype) * w->ncols, n = w->bn, len;
	unsigned char *p;
	int r;

	if (n == 0)
		return AIOPS_OK;
	memcpy(b, "ROWS", 4);
	aiops_put_u32(b + 4, (uint32_t)n);
	/* pack the sections of a part-filled block together */
	p = b + 8 + (w->has_ts ? 8 * n : 0);
	if (p != b + w->val_off)
		memmove(p, b + w->val_off, n * vs);
	p += n * vs;
	if (w->has_labels) {
		memmove(p, b + w->lab_off, n);
		p += n;
	}
	len = (size_t)(p - b);
	aiops_put_u32(p, crc(0, b, len));
	r = aiops_out_write(w->out, b, len + 4, e);
	w->bn = 0;
	return r;
}

int
aiops_twriter_row(struct aiops_twriter *w, int64_t ts, const double *vals, int label,
    struct aiops_error *e)
{
	size_t i = w->bn;

	if (w->has_ts)
		aiops_put_u64(w->blk + w->ts_off + 8 * i, (uint64_t)ts);
	if (w->dtype == AIOPS_F64) {
		unsigned char *p = w->blk + w->val_off + i * w->ncols * 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(p, vals, w->ncols * 8);
#else
		for (size_t j = 0; j < w->ncols; j++) {
			uint64_t u;
			memcpy(&u, &vals[j], 8);
			aiops_put_u64(p + 8 * j, u);
		}
#endif
	} else {
		unsigned char *p = w->blk + w->val_off + i * w->ncols * 4;
		for (size_t j = 0; j < w->ncols; j++) {
			float f = (float)vals[j];
			uint32_t u;
			memcpy(&u, &f, 4);
			aiops_put_u32(p + 4 * j, u);
		}
	}
	if (w->has_labels)
		w->blk[w->lab_off + i] = label > 0;
	w->total++;
	if (++w->bn == w->bcap)
		return flush_block(w, e);
	return AIOPS_OK;
}

int
aiops_twriter_finish(struct aiops_twriter *w, struct aiops_error *e)
{
	unsigned char t[16];
	int r = flush_block(w, e);

	if (r != AIOPS_OK)
		return r;
	memcpy(t, "END\0", 4);
	aiops_put_u64(t + 4, w->total);
	aiops_put_u32(t + 12, crc(0, t, 12));
	return aiops_out_write(w->out, t, 16, e);
}

void
aiops_twriter_release(struct aiops_twriter *w)
{
	aiops_free(w->blk);
	w->blk = NULL;
}

/* ---- reader ----------------------------------------------------------- */

static int
rd(struct aiops_treader *r, void *p, size_t n, const char *what, struct aiops_error *e)
{
	int k = aiops_src_read_full(r->src, p, n, e);

	if (k == 1 || k == AIOPS_ERR_FORMAT)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: truncated in %s (at byte %llu)",
		    aiops_src_name(r->src), what, (unsigned long long)r->offset);
	if (k == AIOPS_OK)
		r->offset += n;
	return k;
}

static int
treader_open(struct aiops_treader *r, struct aiops_src *src, struct aiops_error *e)
{
	unsigned char fixed[HDR_FIXED], b4[4];
	const char *name = aiops_src_name(src);
	uint32_t c, mlen, ncols;
	unsigned version;
	char *mbuf = NULL;
	json_error_t je;
	unsigned long nfail;
	int k;

	memset(r, 0, sizeof(*r));
	r->src = src;
	if ((k = aiops_src_read_full(src, fixed, 8, e)) != AIOPS_OK) {
		if (k == 1)
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: empty input, not an aiops tensor", name);
		if (k == AIOPS_ERR_FORMAT)
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: not an aiops tensor (too short)", name);
		return k;
	}
	r->offset = 8;
	if (!aiops_is_tensor_magic(fixed, 8))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: not an aiops tensor (bad magic)", name);
	if ((k = rd(r, fixed + 8, HDR_FIXED - 8, "header", e)) != AIOPS_OK)
		return k;
	version = aiops_get_u16(fixed + 8);
	if (version == 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad tensor version 0", name);
	if (version > AIOPS_TENSOR_VERSION)
		return aiops_error_set(e, AIOPS_ERR_VERSION,
		    "%s: tensor format version %u is newer than this reader (version %u); upgrade aiops",
		    name, version, AIOPS_TENSOR_VERSION);
	if (fixed[10] != AIOPS_F32 && fixed[10] != AIOPS_F64)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: unknown dtype %u", name, fixed[10]);
	if (fixed[11] & ~3u)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: unknown flags 0x%02x", name, fixed[11]);
	ncols = aiops_get_u32(fixed + 12);
	mlen = aiops_get_u32(fixed + 16);
	if (ncols == 0 || ncols > AIOPS_TENSOR_MAX_COLS)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad column count %u", name, ncols);
	if (mlen > AIOPS_TENSOR_MAX_META)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: metadata length %u too large", name, mlen);
	if (aiops_tinfo_init(&r->info) != AIOPS_OK)
		return nomem(e);
	r->info.version = version;
	r->info.dtype = fixed[10];
	r->info.has_ts = fixed[11] & 1;
	r->info.has_labels = (fixed[11] >> 1) & 1;
	if ((r->info.names = aiops_calloc(ncols, sizeof(char *))) == NULL)
		return nomem(e);
	r->info.ncols = ncols;
	c = crc(0, fixed, HDR_FIXED);
	for (uint32_t i = 0; i < ncols; i++) {
		unsigned char b2[2];
		uint16_t n;
		if ((k = rd(r, b2, 2, "column names", e)) != AIOPS_OK)
			return k;
		n = aiops_get_u16(b2);
		if (n == 0)
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: column %u has an empty name", name, i + 1);
		if ((r->info.names[i] = aiops_malloc((size_t)n + 1)) == NULL)
			return nomem(e);
		if ((k = rd(r, r->info.names[i], n, "column names", e)) != AIOPS_OK)
			return k;
		r->info.names[i][n] = '\0';
		if (memchr(r->info.names[i], '\0', n) != NULL)
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: column %u name has a NUL byte", name, i + 1);
		c = crc(c, b2, 2);
		c = crc(c, r->info.names[i], n);
	}
	if ((mbuf = aiops_malloc((size_t)mlen + 1)) == NULL)
		return nomem(e);
	if ((k = rd(r, mbuf, mlen, "metadata", e)) != AIOPS_OK) {
		aiops_free(mbuf);
		return k;
	}
	c = crc(c, mbuf, mlen);
	if ((k = rd(r, b4, 4, "header checksum", e)) != AIOPS_OK) {
		aiops_free(mbuf);
		return k;
	}
	if (aiops_get_u32(b4) != c) {
		aiops_free(mbuf);
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: header checksum mismatch", name);
	}
	json_decref(r->info.meta);
	nfail = aiops_alloc_failures();
	r->info.meta = json_loadb(mbuf, mlen, JSON_REJECT_DUPLICATES, &je);
	aiops_free(mbuf);
	if (r->info.meta == NULL && aiops_alloc_failures() != nfail) {
		r->info.meta = json_object();
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	if (r->info.meta == NULL || !json_is_object(r->info.meta)) {
		json_decref(r->info.meta);
		r->info.meta = json_object();
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: metadata is not a JSON object", name);
	}
	for (uint32_t i = 0; i < ncols; i++)
		for (uint32_t j = 0; j < i; j++)
			if (ncols <= 4096 && strcmp(r->info.names[i], r->info.names[j]) == 0)
				return aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: duplicate column name \"%s\"", name, r->info.names[i]);
	r->rowbytes = (r->info.has_ts ? 8 : 0) + ncols * dsize(r->info.dtype) +
	    (r->info.has_labels ? 1 : 0);
	return AIOPS_OK;
}

/* On failure nothing is left for the caller to release (releasing anyway is harmless). */
int
aiops_treader_open(struct aiops_treader *r, struct aiops_src *src, struct aiops_error *e)
{
	int k = treader_open(r, src, e);

	if (k != AIOPS_OK)
		aiops_treader_release(r);
	return k;
}

/* Read the next block or the trailer: 1 block, 0 trailer, <0 error. */
static int
next_block(struct aiops_treader *r, struct aiops_error *e)
{
	const char *name = aiops_src_name(r->src);
	unsigned char h[8], b4[4];
	uint64_t start = r->offset;
	uint32_t n, c;
	size_t plen;
	int k;

	if ((k = aiops_src_read_full(r->src, h, 8, e)) != AIOPS_OK) {
		if (k == 1 || k == AIOPS_ERR_FORMAT)
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: truncated after %llu rows (no end marker)", name,
			    (unsigned long long)r->total);
		return k;
	}
	r->offset += 8;
	if (memcmp(h, "END\0", 4) == 0) {
		unsigned char tr[16], extra;
		ssize_t x;

		memcpy(tr, h, 8);
		if ((k = rd(r, tr + 8, 8, "trailer", e)) != AIOPS_OK)
			return k;
		if (aiops_get_u32(tr + 12) != crc(0, tr, 12))
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: trailer checksum mismatch (at byte %llu)", name,
			    (unsigned long long)start);
		if (aiops_get_u64(tr + 4) != r->total)
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: trailer says %llu rows, found %llu", name,
			    (unsigned long long)aiops_get_u64(tr + 4), (unsigned long long)r->total);
		x = aiops_src_read(r->src, &extra, 1, e);
		if (x < 0)
			return (int)x;
		if (x > 0)
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: unexpected data after the end marker (at byte %llu)", name,
			    (unsigned long long)r->offset);
		return 0;
	}
	if (memcmp(h, "ROWS", 4) != 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: bad block marker at byte %llu (block %lu)", name,
		    (unsigned long long)start, r->blockno + 1);
	n = aiops_get_u32(h + 4);
	if (n == 0 || n > AIOPS_TENSOR_MAX_BLOCK)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad row count %u in block %lu",
		    name, n, r->blockno + 1);
	plen = (size_t)n * r->rowbytes;
	/* the writer makes blocks of about 1 MiB; refuse absurd ones before allocating */
	if (n > 1 && plen > (64u << 20))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: block %lu too large (%u rows of %zu bytes)",
		    name, r->blockno + 1, n, r->rowbytes);
	r->blockno++;
	/* a mapped file is read in place; else the block is copied in */
	if ((r->bp = aiops_src_take(r->src, plen + 4)) != NULL) {
		memcpy(b4, r->bp + plen, 4);
	} else {
		if (plen > r->blkcap) {
			unsigned char *nb = aiops_realloc(r->blk, plen);
			if (nb == NULL)
				return nomem(e);
			r->blk = nb;
			r->blkcap = plen;
		}
		r->bp = r->blk;
		k = aiops_src_read_full(r->src, r->blk, plen, e);
		if (k == AIOPS_OK)
			k = aiops_src_read_full(r->src, b4, 4, e);
		if (k == 1 || k == AIOPS_ERR_FORMAT)
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: truncated in block %lu (at byte %llu)", name, r->blockno,
			    (unsigned long long)start);
		if (k != AIOPS_OK)
			return k;
	}
	r->offset += plen + 4;
	c = crc(crc(0, h, 8), r->bp, plen);
	if (aiops_get_u32(b4) != c)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: checksum mismatch in block %lu (at byte %llu)", name, r->blockno,
		    (unsigned long long)start);
	r->bn = n;
	r->bpos = 0;
	return 1;
}

/* Rows i .. i+n-1 of the block bp of bn rows into the caller's arrays (any may be NULL). */
static void
decode_block(const struct aiops_tensor_info *ti, const unsigned char *bp, size_t bn, size_t i,
    size_t n, int64_t *ts, double *vals, unsigned char *labels)
{
	size_t nc = ti->ncols, ds = dsize(ti->dtype);
	size_t vo = ti->has_ts ? 8 * bn : 0;
	const unsigned char *p = bp + vo + i * nc * ds;

	if (ts)
		for (size_t k = 0; k < n; k++)
			ts[k] = ti->has_ts ? (int64_t)aiops_get_u64(bp + 8 * (i + k)) : 0;
	if (vals && nc) {
		if (ds == 8) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			memcpy(vals, p, n * nc * 8);
#else
			for (size_t j = 0; j < n * nc; j++) {
				uint64_t u = aiops_get_u64(p + 8 * j);
				memcpy(&vals[j], &u, 8);
			}
#endif
		} else {
			for (size_t j = 0; j < n * nc; j++) {
				uint32_t u = aiops_get_u32(p + 4 * j);
				float f;
				memcpy(&f, &u, 4);
				vals[j] = f;
			}
		}
	}
	if (labels)
		for (size_t k = 0; k < n; k++)
			labels[k] = ti->has_labels ? bp[vo + bn * nc * ds + i + k] != 0 : 0;
}

ssize_t
aiops_treader_rows(struct aiops_treader *r, size_t max, int64_t *ts, double *vals,
    unsigned char *labels, struct aiops_error *e)
{
	size_t n;

	if (r->done || max == 0)
		return 0;
	if (r->bpos == r->bn) {
		int k = next_block(r, e);
		if (k <= 0) {
			r->done = k == 0;
			return k;
		}
	}
	n = r->bn - r->bpos < max ? r->bn - r->bpos : max;
	decode_block(&r->info, r->bp, r->bn, r->bpos, n, ts, vals, labels);
	r->bpos += n;
	r->total += n;
	return (ssize_t)n;
}

int
aiops_treader_next(struct aiops_treader *r, int64_t *ts, double *vals, int *label,
    struct aiops_error *e)
{
	ssize_t k = aiops_treader_rows(r, 1, ts, vals, NULL, e);

	if (k <= 0)
		return (int)k;
	if (label) {
		/* the byte as it stands (aiops_treader_rows() gives 0 or 1) */
		size_t vo = r->info.has_ts ? 8 * r->bn : 0;
		*label = r->info.has_labels ?
		    r->bp[vo + r->bn * r->info.ncols * dsize(r->info.dtype) + r->bpos - 1] : 0;
	}
	return 1;
}

void
aiops_treader_release(struct aiops_treader *r)
{
	aiops_tinfo_release(&r->info);
	aiops_free(r->blk);
	r->blk = NULL;
}

/* ---- whole tensors ---------------------------------------------------- */

int
aiops_tensor_init(struct aiops_tensor *t, const struct aiops_tensor_info *ti)
{
	memset(t, 0, sizeof(*t));
	return aiops_tinfo_copy(&t->info, ti);
}

/* Make room for n rows at once (a hint: pushing more still works). */
static int
tensor_reserve(struct aiops_tensor *t, size_t n)
{
	size_t nc = t->info.ncols;
	double *x;

	if (n <= t->cap)
		return AIOPS_OK;
	if (n > SIZE_MAX / sizeof(double) / (nc ? nc : 1))
		return AIOPS_ERR_NOMEM;
	if ((x = aiops_reallocarray(t->x, n, nc * sizeof(double))) == NULL)
		return AIOPS_ERR_NOMEM;
	t->x = x;
	if (t->info.has_ts) {
		int64_t *p = aiops_reallocarray(t->ts, n, sizeof(int64_t));
		if (p == NULL)
			return AIOPS_ERR_NOMEM;
		t->ts = p;
	}
	if (t->info.has_labels) {
		unsigned char *p = aiops_realloc(t->y, n);
		if (p == NULL)
			return AIOPS_ERR_NOMEM;
		t->y = p;
	}
	t->cap = n;
	return AIOPS_OK;
}

int
aiops_tensor_push(struct aiops_tensor *t, int64_t ts, const double *vals, int label)
{
	size_t nc = t->info.ncols;

	if (t->nrows == t->cap && tensor_reserve(t, t->cap ? t->cap * 2 : 1024) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	memcpy(t->x + t->nrows * nc, vals, nc * sizeof(double));
	if (t->info.has_ts)
		t->ts[t->nrows] = ts;
	if (t->info.has_labels)
		t->y[t->nrows] = label > 0;
	t->nrows++;
	return AIOPS_OK;
}

static int
load_from(struct aiops_tensor *t, struct aiops_src *src, size_t hint, size_t fsize,
    struct aiops_error *e)
{
	struct aiops_treader r;
	int k;

	if ((k = aiops_treader_open(&r, src, e)) != AIOPS_OK)
		goto out;
	if ((k = aiops_tensor_init(t, &r.info)) != AIOPS_OK) {
		k = nomem(e);
		goto out;
	}
	/* the trailer's count is not verified yet: reserving is advisory, rows still grow;
	 * and a file of fsize bytes holds at most fsize / rowbytes rows */
	if (hint > fsize / r.rowbytes)
		hint = fsize / r.rowbytes;
	(void)tensor_reserve(t, hint);
	/* a block at a time, straight into the tensor's arrays */
	for (;;) {
		size_t nc = t->info.ncols, at = t->nrows;
		ssize_t got;
		if (t->nrows == t->cap && tensor_reserve(t, t->cap ? t->cap * 2 : 1024) != AIOPS_OK) {
			k = nomem(e);
			goto out;
		}
		got = aiops_treader_rows(&r, t->cap - at, t->ts ? t->ts + at : NULL,
		    nc ? t->x + at * nc : NULL, t->y ? t->y + at : NULL, e);
		if (got <= 0) {
			k = (int)got;
			break;
		}
		t->nrows += (size_t)got;
	}
out:
	aiops_treader_release(&r);
	if (k != AIOPS_OK)
		aiops_tensor_release(t);
	return k;
}

int
aiops_tensor_load(struct aiops_tensor *t, const char *path, struct aiops_error *e)
{
	struct aiops_src *src;
	struct stat st;
	void *map = MAP_FAILED;
	size_t hint = 0;
	int fd = -1, k;

	memset(t, 0, sizeof(*t));
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map != MAP_FAILED) {
		const unsigned char *p = map;
		size_t sz = (size_t)st.st_size;
		madvise(map, sz, MADV_SEQUENTIAL);
		/* the trailer tells the row count up front; the reader still checks it */
		if (sz >= 16 && memcmp(p + sz - 16, "END\0", 4) == 0 &&
		    aiops_get_u64(p + sz - 12) < ((uint64_t)sz))
			hint = (size_t)aiops_get_u64(p + sz - 12);
		if ((k = aiops_src_open_mem(&src, map, sz, path, e)) == AIOPS_OK)
			aiops_src_mem_drop_behind(src);
	} else {
		k = aiops_src_open(&src, path, e);
	}
	if (fd >= 0)
		close(fd);
	if (k == AIOPS_OK) {
		k = load_from(t, src, hint, hint ? (size_t)st.st_size : 0, e);
		aiops_src_close(src);
	}
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	return k;
}

/* One thread's share of a mapped file's blocks: checked and decoded into the tensor. */
struct pblock { const unsigned char *h; size_t n, row; };
struct pshare {
	const struct pblock *b;
	size_t nb, rowbytes;
	struct aiops_tensor *t;
	int bad;          /* a block's checksum did not match */
};

static void *
load_share(void *arg)
{
	struct pshare *S = arg;
	struct aiops_tensor *t = S->t;
	size_t nc = t->info.ncols;

	for (size_t k = 0; k < S->nb && !S->bad; k++) {
		const struct pblock *b = &S->b[k];
		size_t plen = b->n * S->rowbytes;
		uintptr_t lo, hi;
		if (aiops_get_u32(b->h + 8 + plen) != crc(crc(0, b->h, 8), b->h + 8, plen)) {
			S->bad = 1;
			break;
		}
		decode_block(&t->info, b->h + 8, b->n, 0, b->n, t->ts ? t->ts + b->row : NULL,
		    nc ? t->x + b->row * nc : NULL, t->y ? t->y + b->row : NULL);
		/* the block's whole pages are not needed again: memory stays flat */
		lo = ((uintptr_t)b->h + 4095) & ~(uintptr_t)4095;
		hi = ((uintptr_t)b->h + 8 + plen + 4) & ~(uintptr_t)4095;
		if (hi > lo)
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	return NULL;
}

#define PAR_MAX 16

/*
 * aiops_tensor_load() of a regular, well-formed file by jobs threads: 1 when
 * this does not apply or anything is amiss (the caller then loads it the
 * ordinary way, which names any fault), else AIOPS_OK or AIOPS_ERR_NOMEM.
 */
static int
load_parallel(struct aiops_tensor *t, const char *path, int jobs, struct aiops_error *e)
{
	struct aiops_treader r;
	struct aiops_src *src = NULL;
	struct pblock *blk = NULL;
	struct pshare sh[PAR_MAX];
	pthread_t th[PAR_MAX];
	int started[PAR_MAX];
	struct stat st;
	const unsigned char *map = MAP_FAILED, *p, *end;
	size_t nb = 0, cap = 0, rows = 0, per, k0;
	int fd, k = 1, opened = 0, nth = 0;

	memset(t, 0, sizeof(*t));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)(1u << 20))
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 1;
	end = map + st.st_size;
	if (aiops_src_open_mem(&src, map, (size_t)st.st_size, path, e) != AIOPS_OK)
		goto out;
	if (aiops_treader_open(&r, src, e) != AIOPS_OK)
		goto out;
	opened = 1;
	/* the blocks, walked by their headers; anything odd is left to the careful reader */
	if ((p = aiops_src_take(src, 0)) == NULL || r.rowbytes == 0)
		goto out;
	while ((size_t)(end - p) >= 8 && memcmp(p, "ROWS", 4) == 0) {
		size_t n = aiops_get_u32(p + 4);
		if (n == 0 || n > AIOPS_TENSOR_MAX_BLOCK || n * r.rowbytes > (size_t)(end - p) - 8 ||
		    (size_t)(end - p) - 8 - n * r.rowbytes < 4)
			goto out;
		if (nb == cap) {
			struct pblock *nbk = aiops_reallocarray(blk, cap ? cap * 2 : 256, sizeof(*blk));
			if (nbk == NULL) {
				k = nomem(e);
				goto out;
			}
			blk = nbk;
			cap = cap ? cap * 2 : 256;
		}
		blk[nb++] = (struct pblock){ p, n, rows };
		rows += n;
		p += 8 + n * r.rowbytes + 4;
	}
	if (end - p != 16 || memcmp(p, "END\0", 4) != 0 || aiops_get_u32(p + 12) != crc(0, p, 12) ||
	    aiops_get_u64(p + 4) != rows || rows == 0)
		goto out;
	if (aiops_tensor_init(t, &r.info) != AIOPS_OK || tensor_reserve(t, rows) != AIOPS_OK) {
		k = nomem(e);
		goto out;
	}
	/* shares of about equal rows, in block order */
	if (jobs > PAR_MAX)
		jobs = PAR_MAX;
	per = (rows + (size_t)jobs - 1) / (size_t)jobs;
	k0 = 0;
	for (int j = 0; j < jobs && k0 < nb; j++) {
		size_t k1 = k0;
		while (k1 < nb && (k1 == k0 || blk[k1].row < per * (size_t)(j + 1)))
			k1++;
		sh[j] = (struct pshare){ blk + k0, k1 - k0, r.rowbytes, t, 0 };
		k0 = k1;
		nth = j + 1;
	}
	for (int j = 1; j < nth; j++)
		if ((started[j] = pthread_create(&th[j], NULL, load_share, &sh[j]) == 0) == 0)
			load_share(&sh[j]);     /* no thread: that share here */
	load_share(&sh[0]);
	k = AIOPS_OK;
	for (int j = 0; j < nth; j++) {
		if (j > 0 && started[j])
			pthread_join(th[j], NULL);
		if (sh[j].bad)
			k = 1;
	}
	if (k == AIOPS_OK)
		t->nrows = rows;
out:
	if (k != AIOPS_OK)
		aiops_tensor_release(t);
	if (opened)
		aiops_treader_release(&r);
	aiops_src_close(src);
	aiops_free(blk);
	munmap((void *)(uintptr_t)map, (size_t)st.st_size);
	return k;
}

int
aiops_tensor_load_jobs(struct aiops_tensor *t, const char *path, int jobs, struct aiops_error *e)
{
	if (jobs > 1 && strcmp(path, "-") != 0) {
		int k = load_parallel(t, path, jobs, e);
		if (k != 1)
			return k;
		if (e != NULL) {
			e->code = AIOPS_OK;
			e->msg[0] = '\0';
		}
	}
	return aiops_tensor_load(t, path, e);
}

int
aiops_tensor_write(const struct aiops_tensor *t, struct aiops_out *out, struct aiops_error *e)
{
	struct aiops_twriter w;
	int k = aiops_twriter_open(&w, out, &t->info, e);

	for (size_t i = 0; k == AIOPS_OK && i < t->nrows; i++)
		k = aiops_twriter_row(&w, t->ts ? t->ts[i] : 0, t->x + i * t->info.ncols,
		    t->y ? t->y[i] : 0, e);
	if (k == AIOPS_OK)
		k = aiops_twriter_finish(&w, e);
	aiops_twriter_release(&w);
	return k;
}

void
aiops_tensor_release(struct aiops_tensor *t)
{
	aiops_tinfo_release(&t->info);
	aiops_free(t->x);
	aiops_free(t->ts);
	aiops_free(t->y);
	memset(t, 0, sizeof(*t));
}
