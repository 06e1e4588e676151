/*
 * tensor.h - the aiops tensor file (aiops-tensor(5)): a streamable,
 * versioned, checksummed table of float32/float64 columns with optional
 * int64 millisecond timestamps and 0/1 labels.
 */
#ifndef AIOPS_TENSOR_H
#define AIOPS_TENSOR_H

#include <jansson.h>

#include "base.h"
#include "source.h"

#define AIOPS_TENSOR_VERSION 1
#define AIOPS_TENSOR_MAGIC "\x89" "AITNS\r\n"
#define AIOPS_TENSOR_MAX_COLS (1u << 20)
#define AIOPS_TENSOR_MAX_META (16u << 20)
#define AIOPS_TENSOR_MAX_BLOCK 65536

enum aiops_dtype { AIOPS_F32 = 1, AIOPS_F64 = 2 };

/* What a tensor holds besides its rows. */
struct aiops_tensor_info {
	unsigned version;
	int dtype;
	int has_ts, has_labels;
	size_t ncols;
	char **names;   /* ncols owned strings */
	json_t *meta;   /* owned reference to a JSON object; never NULL once initialised */
};

/* Empty info (F64, no columns, meta = {}). AIOPS_OK or AIOPS_ERR_NOMEM. */
int aiops_tinfo_init(struct aiops_tensor_info *ti);
/* Set the column names (copied). */
int aiops_tinfo_set_names(struct aiops_tensor_info *ti, char *const *names, size_t n);
/* Deep copy src into dst (dst uninitialised). */
int aiops_tinfo_copy(struct aiops_tensor_info *dst, const struct aiops_tensor_info *src);
void aiops_tinfo_release(struct aiops_tensor_info *ti);
/* Index of the column named name, or -1. */
long aiops_tinfo_find(const struct aiops_tensor_info *ti, const char *name);

/* Streaming writer: rows in, blocks out. Does not own out. */
struct aiops_twriter {
	struct aiops_out *out;
	size_t ncols, rowbytes, bcap, bn;
	int dtype, has_ts, has_labels;
	uint64_t total;
	unsigned char *blk;  /* "ROWS" + count + payload + crc */
	size_t ts_off, val_off, lab_off;
};

int aiops_twriter_open(struct aiops_twriter *w, struct aiops_out *out,
    const struct aiops_tensor_info *ti, struct aiops_error *e);
/* Add a row: vals has ncols doubles (converted to the dtype); label 0/1. */
int aiops_twriter_row(struct aiops_twriter *w, int64_t ts, const double *vals, int label,
    struct aiops_error *e);
/* Write the last block and the trailer (the caller then commits out). */
int aiops_twriter_finish(struct aiops_twriter *w, struct aiops_error *e);
void aiops_twriter_release(struct aiops_twriter *w);

/* Streaming reader over a source. Does not own src. */
struct aiops_treader {
	struct aiops_src *src;
	struct aiops_tensor_info info;
	size_t rowbytes;
	unsigned char *blk;
	const unsigned char *bp;  /* the current block: blk, or in place in a memory source */
	size_t blkcap, bn, bpos;
	uint64_t total, offset;
	unsigned long blockno;
	int done;
};

/*
 * Read and check the header. Errors (AIOPS_ERR_FORMAT unless said):
 * bad magic, AIOPS_ERR_VERSION for a newer version, unknown dtype or flags,
 * bad header checksum, truncation.
 */
int aiops_treader_open(struct aiops_treader *r, struct aiops_src *src, struct aiops_error *e);
/* Next row into ts/vals/label (any may be NULL): 1 row, 0 end (trailer checked), <0 error. */
int aiops_treader_next(struct aiops_treader *r, int64_t *ts, double *vals, int *label,
    struct aiops_error *e);
/*
 * Up to max (> 0) rows at once: timestamps into ts[], values row-major into
 * vals[], labels (0 or 1) into labels[] (any may be NULL). Returns the count
 * (> 0, at most max, never across a block), 0 at the end (trailer checked), <0
 * an error.
 */
ssize_t aiops_treader_rows(struct aiops_treader *r, size_t max, int64_t *ts, double *vals,
    unsigned char *labels, struct aiops_error *e);
void aiops_treader_release(struct aiops_treader *r);

/* A whole tensor in memory: x is nrows*ncols row-major doubles. */
struct aiops_tensor {
	struct aiops_tensor_info info;
	size_t nrows, cap;
	double *x;
	int64_t *ts;      /* NULL unless info.has_ts */
	unsigned char *y; /* NULL unless info.has_labels */
};

/* Initialise an empty tensor whose info is a copy of ti. */
int aiops_tensor_init(struct aiops_tensor *t, const struct aiops_tensor_info *ti);
/* Append a row (amortised growth). */
int aiops_tensor_push(struct aiops_tensor *t, int64_t ts, const double *vals, int label);
/* Load a tensor file whole (path "-" = stdin); files are mapped with mmap. */
int aiops_tensor_load(struct aiops_tensor *t, const char *path, struct aiops_error *e);
/* The same, a large regular file decoded by up to jobs threads at once. */
int aiops_tensor_load_jobs(struct aiops_tensor *t, const char *path, int jobs,
    struct aiops_error *e);
/* Write t to out as a tensor file (does not commit). */
int aiops_tensor_write(const struct aiops_tensor *t, struct aiops_out *out,
    struct aiops_error *e);
void aiops_tensor_release(struct aiops_tensor *t);

/* True if the first bytes p[0..n) are the tensor magic. */
int aiops_is_tensor_magic(const void *p, size_t n);

#endif
