/*
 * modelfile.c - the frame of a model file (aiops-model(5)): the file read
 * whole, its magic, version, end marker and checksum checked, its metadata
 * parsed. It knows no family, so that a command that reads only a model's
 * metadata (aiops-ingest --scaler-from) does not link the families and the
 * BLAS and LAPACK under them (nor start OpenBLAS's threads).
 */
#include <string.h>

#include <zlib.h>

#include "model.h"
#include "parse.h"

int
aiops_model_read_file(const char *path, struct aiops_buf *b, struct aiops_error *e)
{
	return aiops_src_read_all(path, AIOPS_MODEL_MAX_FILE, "model", b, e);
}

int
aiops_model_frame(const unsigned char *p, size_t n, const char *path, json_t **meta,
    uint32_t *narr, const unsigned char **arrays, struct aiops_error *e)
{
	const unsigned char *q, *end = p + n;
	uint32_t mlen;
	unsigned version;
	json_t *o;
	json_error_t je;
	unsigned long nfail;
	int r;

	*meta = NULL;
	if (n < 8 || memcmp(p, AIOPS_MODEL_MAGIC, 8) != 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: not an aiops model (bad magic)", path);
	if (n < 28)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: truncated model", path);
	version = aiops_get_u16(p + 8);
	if (version > AIOPS_MODEL_VERSION)
		return aiops_error_set(e, AIOPS_ERR_VERSION,
		    "%s: model format version %u is newer than this reader (version %u); upgrade aiops",
		    path, version, AIOPS_MODEL_VERSION);
	if (version == 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad model version 0", path);
	if (memcmp(end - 8, "END\0", 4) != 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: truncated model (no end marker)", path);
	if (aiops_get_u32(end - 4) != (uint32_t)crc32(0, p, (uInt)(n - 4)))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: model checksum mismatch", path);
	mlen = aiops_get_u32(p + 12);
	*narr = aiops_get_u32(p + 16);
	q = p + 20;
	if (mlen > (size_t)(end - 8 - q))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad metadata length", path);
	nfail = aiops_alloc_failures();
	o = json_loadb((const char *)q, mlen, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL && (r = aiops_nomem_since(nfail, e)) != AIOPS_OK)
		return r;
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: metadata is not a JSON object", path);
	}
	*meta = o;
	*arrays = q + mlen;
	return AIOPS_OK;
}

int
aiops_model_load_meta(const char *path, json_t **meta, struct aiops_error *e)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	const unsigned char *arrays;
	uint32_t narr;
	int r;

	*meta = NULL;
	if ((r = aiops_model_read_file(path, &b, e)) != AIOPS_OK)
		return r;
	r = aiops_model_frame((const unsigned char *)(b.buf ? b.buf : ""), b.len, path, meta,
	    &narr, &arrays, e);
	aiops_buf_release(&b);
	return r;
}
