/*
 * fuzz-tensor.c - the tensor reader (lib/tensor.c): aiops_treader over a
 * memory source, row by row, and the whole-file loader aiops_tensor_load()
 * (which maps the file and trusts the trailer for a size hint) on the same
 * bytes in a scratch file. Random bytes rarely get past the CRC-32s, so
 * each input is also read with its checksums made right: the header's, each
 * block's and the trailer's, found by walking the structure as the format
 * says (aiops-tensor(5)). A tensor that reads whole is written back and
 * must read back the same.
 */
#include <math.h>

#include <zlib.h>

#include "aiops.h"
#include "fuzz.h"

static uint32_t
crc(uint32_t c, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(c, p, (uInt)n);
}

/* Rewrite the checksums of the tensor in p[0..n) where the structure allows. */
static void
fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 20, ncols, mlen, rowbytes;
	uint32_t c;
	int dtype;

	if (n < 20 || memcmp(p, AIOPS_TENSOR_MAGIC, 8) != 0)
		return;
	dtype = p[10];
	ncols = aiops_get_u32(p + 12);
	mlen = aiops_get_u32(p + 16);
	if (ncols == 0 || ncols > 4096)
		return;
	for (size_t i = 0; i < ncols; i++) {
		if (off + 2 > n)
			return;
		off += 2 + aiops_get_u16(p + off);
	}
	if (off + mlen + 4 > n)
		return;
	off += mlen;
	c = crc(0, p, off);
	aiops_put_u32(p + off, c);
	off += 4;
	rowbytes = ((p[11] & 1) ? 8 : 0) + ncols * (dtype == AIOPS_F32 ? 4 : 8) + ((p[11] & 2) ? 1 : 0);
	while (off + 8 <= n) {
		if (memcmp(p + off, "ROWS", 4) == 0) {
			size_t rows = aiops_get_u32(p + off + 4), plen = rows * rowbytes;
			if (plen > n || off + 8 + plen + 4 > n)
				return;
			c = crc(0, p + off, 8 + plen);
			aiops_put_u32(p + off + 8 + plen, c);
			off += 8 + plen + 4;
		} else if (memcmp(p + off, "END\0", 4) == 0) {
			if (off + 16 > n)
				return;
			aiops_put_u32(p + off + 12, crc(0, p + off, 12));
			return;
		} else
			return;
	}
}

/* Read every row; a tensor that reads whole is written back and compared. */
static void
read_mem(const uint8_t *p, size_t n)
{
	struct aiops_error e;
	struct aiops_src *src;
	struct aiops_treader r;
	struct aiops_tensor t;
	double *row = NULL;
	int64_t ts;
	int lab, k;
	int whole = 0;

	if (aiops_src_open_mem(&src, p, n, "fuzz.tensor", &e) != AIOPS_OK)
		return;
	memset(&t, 0, sizeof(t));
	if ((k = aiops_treader_open(&r, src, &e)) == AIOPS_OK) {
		if ((row = calloc(r.info.ncols, sizeof(double))) == NULL)
			abort();
		if (aiops_tensor_init(&t, &r.info) == AIOPS_OK) {
			while ((k = aiops_treader_next(&r, &ts, row, &lab, &e)) == 1) {
				if (lab != 0 && lab != 1 && r.info.has_labels)
					; /* a label byte is whatever the file holds */
				if (t.nrows < 100000 && aiops_tensor_push(&t, ts, row, lab) != AIOPS_OK)
					break;
			}
			whole = k == 0;
		}
		free(row);
	} else if (e.msg[0] == '\0')
		abort();
	aiops_treader_release(&r);
	aiops_src_close(src);
	if (whole && t.nrows < 100000) {
		/* write it back and read that: the same rows */
		const char *path = fz_path("back.tensor");
		struct aiops_out out;
		struct aiops_tensor u;
		if (aiops_out_open(&out, path, &e) == AIOPS_OK) {
			if (aiops_tensor_write(&t, &out, &e) == AIOPS_OK && aiops_out_commit(&out, &e) == AIOPS_OK) {
				if (aiops_tensor_load(&u, path, &e) == AIOPS_OK) {
					size_t nc = t.info.ncols;
					if (u.nrows != t.nrows || u.info.ncols != nc)
						abort();
					for (size_t i = 0; i < t.nrows * nc; i++) {
						double a = t.x[i], b = u.x[i];
						if (t.info.dtype == AIOPS_F32)
							a = (float)a;
						if (!(a == b || (isnan(a) && isnan(b))))
							abort();
					}
					aiops_tensor_release(&u);
				}
			} else
				aiops_out_abort(&out);
		}
		unlink(path);
	}
	if (t.info.meta)
		aiops_tensor_release(&t);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	fz_tmpdir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aiops_error e;
	struct aiops_tensor t;
	uint8_t *fixed;
	const char *path;

	fz_begin(data, size);
	read_mem(data, size);
	if ((fixed = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(fixed, data, size);
	fix_crcs(fixed, size);
	read_mem(fixed, size);
	/* the loader maps the file and reads the trailer first */
	path = fz_write("in.tensor", fixed, size);
	if (aiops_tensor_load(&t, path, &e) == AIOPS_OK)
		aiops_tensor_release(&t);
	unlink(path);
	free(fixed);
	fz_end();
	return 0;
}
