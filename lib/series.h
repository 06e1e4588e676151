/*
 * series.h - row streams and what happens to them between reading and
 * writing: time alignment and aggregation, gap filling, interval labels,
 * scalers, and the sinks that write tensor, CSV or .npy output.
 */
#ifndef AIOPS_SERIES_H
#define AIOPS_SERIES_H

#include "base.h"
#include "tensor.h"

/*
 * A sink takes rows one at a time. row() gets ncols values (NaN = missing)
 * and a label (-1 none, else 0/1); finish() flushes whatever is pending and
 * finishes the output; free() releases the sink (not its downstream).
 * Messages from row() name no place: the caller adds it.
 */
struct aiops_sink {
	int (*row)(struct aiops_sink *s, int64_t ts, const double *v, int label,
	    struct aiops_error *e);
	int (*finish)(struct aiops_sink *s, struct aiops_error *e);
	void (*free)(struct aiops_sink *s);
};

enum aiops_format { AIOPS_FMT_TENSOR, AIOPS_FMT_CSV, AIOPS_FMT_NPY };

/* Writers for out (not owned) shaped by ti (copied). */
int aiops_sink_writer(struct aiops_sink **sp, int format, struct aiops_out *out,
    const struct aiops_tensor_info *ti, struct aiops_error *e);
/* A sink that appends rows to t (not owned). */
int aiops_sink_collect(struct aiops_sink **sp, struct aiops_tensor *t, struct aiops_error *e);

enum aiops_agg { AIOPS_AGG_MEAN, AIOPS_AGG_LAST, AIOPS_AGG_MIN, AIOPS_AGG_MAX,
	AIOPS_AGG_SUM, AIOPS_AGG_COUNT };
enum aiops_fill { AIOPS_FILL_NAN, AIOPS_FILL_FFILL, AIOPS_FILL_LINEAR, AIOPS_FILL_ZERO };

/* Names <-> values; -1 for an unknown name. */
int aiops_agg_parse(const char *s);
const char *aiops_agg_name(int agg);
int aiops_fill_parse(const char *s);
const char *aiops_fill_name(int fill);

/* Longest run of empty buckets the aligner will emit. */
#define AIOPS_MAX_GAP_BUCKETS 10000000

/*
 * The aligner: rows come in as begin(ts), cell(col, v) per value, end(label)
 * and leave to next as one row per bucket: floor(ts/step)*step when step_ms
 * > 0, else per distinct timestamp. Values in a bucket are combined by agg
 * over the non-missing ones. Empty buckets between two rows are emitted as
 * missing. A row in a bucket before the current one is AIOPS_ERR_DATA
 * ("timestamp out of order"); rows are not consumed then. With has_ts 0, rows
 * pass straight through.
 */
struct aiops_aligner {
	struct aiops_sink *next;
	size_t ncols;
	int64_t step, cur;
	int64_t origin;     /* buckets start at origin + k*step (default 0, the epoch) */
	int agg, has_ts, open, label;
	double *acc, *out;
	int64_t *n;
	uint64_t emitted;
};

int aiops_aligner_init(struct aiops_aligner *a, size_t ncols, int has_ts, int64_t step_ms,
    int agg, struct aiops_sink *next, struct aiops_error *e);
/* Start a row at ts: may emit finished buckets downstream. */
int aiops_aligner_begin(struct aiops_aligner *a, int64_t ts, struct aiops_error *e);
static inline void
aiops_aligner_cell(struct aiops_aligner *a, size_t col, double v)
{
	double *acc = &a->acc[col];

	if (v != v)
		return;
	switch (a->agg) {
	case AIOPS_AGG_MEAN: case AIOPS_AGG_SUM: *acc = a->n[col] ? *acc + v : v; break;
	case AIOPS_AGG_LAST: *acc = v; break;
	case AIOPS_AGG_MIN: if (!a->n[col] || v < *acc) *acc = v; break;
	case AIOPS_AGG_MAX: if (!a->n[col] || v > *acc) *acc = v; break;
	default: break;
	}
	a->n[col]++;
}
int aiops_aligner_end(struct aiops_aligner *a, int label, struct aiops_error *e);
/* Emit the last bucket (does not finish next). */
int aiops_aligner_flush(struct aiops_aligner *a, struct aiops_error *e);
void aiops_aligner_release(struct aiops_aligner *a);

/*
 * Gap filler sink: missing cells are filled by policy; a run of more than
 * max_gap missing cells in a column (max_gap 0: no limit) stays missing.
 * Rows wait while a gap they are part of is open, so memory grows with the
 * longest gap being filled. Leading gaps stay missing for ffill and linear,
 * trailing ones for linear.
 */
int aiops_sink_filler(struct aiops_sink **sp, size_t ncols, int policy, long max_gap,
    struct aiops_sink *next, struct aiops_error *e);

/* An interval [lo, hi]: timestamps, inclusive; or row numbers with hi exclusive. */
struct aiops_interval {
	int64_t lo, hi;
};
/* A sorted set of intervals for membership tests. */
struct aiops_ivset {
	struct aiops_interval *iv;
	int64_t *maxhi;   /* prefix maximum of hi over iv sorted by lo */
	size_t n;
};
/* Copy and sort iv[0..n). AIOPS_OK or AIOPS_ERR_NOMEM. */
int aiops_ivset_init(struct aiops_ivset *s, const struct aiops_interval *iv, size_t n);
/* Is t inside an interval? hi is inclusive when hi_incl, else exclusive. */
int aiops_ivset_contains(const struct aiops_ivset *s, int64_t t, int hi_incl);
void aiops_ivset_release(struct aiops_ivset *s);

/*
 * Sink that sets label 1 on rows inside any interval (by timestamp when
 * by_time, else by row number 0-based with hi exclusive), 0 elsewhere,
 * keeping a label that is already 1. iv is copied.
 */
int aiops_sink_intervals(struct aiops_sink **sp, const struct aiops_interval *iv, size_t n,
    int by_time, struct aiops_sink *next, struct aiops_error *e);

/* Scalers: x' = (x - center) / scale, scale 0 replaced by 1. */
enum aiops_scale { AIOPS_SCALE_NONE, AIOPS_SCALE_ZSCORE, AIOPS_SCALE_ROBUST, AIOPS_SCALE_MINMAX };
int aiops_scale_parse(const char *s);
const char *aiops_scale_name(int kind);

/*
 * Fit a scaler of kind on rows [0, nrows) of t: center and scale get
 * t->info.ncols values each (caller-allocated). NaN values are ignored; a
 * column with none gets center 0, scale 1. robust uses the median and the
 * inter-quartile range with linear interpolation (numpy's default).
 */
int aiops_scaler_fit(const struct aiops_tensor *t, size_t nrows, int kind, double *center,
    double *scale, struct aiops_error *e);
/* Apply to every row of t. */
void aiops_scaler_apply(struct aiops_tensor *t, const double *center, const double *scale);
/* Store/read {"kind","center","scale","columns"} in/from meta["scaler"]. */
int aiops_scaler_to_meta(json_t *meta, int kind, const double *center, const double *scale,
    char *const *names, size_t ncols);
/*
 * Read the scaler from ti's metadata and map it onto the columns names[0..n):
 * center/scale get n values. AIOPS_ERR_NOTFOUND if ti has no scaler or lacks
 * a column (message names it).
 */
int aiops_scaler_from_meta(const struct aiops_tensor_info *ti, char *const *names, size_t n,
    int *kind, double *center, double *scale, struct aiops_error *e);

/*
 * The pivot: (timestamp, series name, value) samples in any order, to be
 * replayed as wide rows sorted by time. Series become columns in order of
 * first appearance.
 */
struct aiops_sample {
	int64_t ts;
	uint64_t seq;
	uint32_t col;
	double v;
};
struct aiops_pivot {
	json_t *dict;       /* name -> column index */
	char **names;
	size_t ncols, namecap;
	struct aiops_sample *s;
	size_t n, cap;
};

int aiops_pivot_init(struct aiops_pivot *p);
/* Add a sample; name is copied. AIOPS_OK, AIOPS_ERR_NOMEM or AIOPS_ERR_LIMIT (too many series). */
int aiops_pivot_add(struct aiops_pivot *p, const char *name, int64_t ts, double v);
/* Sort samples by time, stable. */
void aiops_pivot_sort(struct aiops_pivot *p);
void aiops_pivot_release(struct aiops_pivot *p);

/*
 * Prometheus: GET base/api/v1/query_range and add the matrix result to p,
 * one series per label set named name{k=v,...}. Errors name the URL, the
 * HTTP status and Prometheus' errorType and error.
 */
int aiops_prom_query_range(struct aiops_pivot *p, const char *base, const char *query,
    int64_t start_ms, int64_t end_ms, int64_t step_ms, struct aiops_error *e);

#endif
