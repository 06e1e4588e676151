/*
 * traces.h - spans (CSV, JSON lines, OpenTelemetry OTLP/JSON) turned into
 * per-window call counts, error rates and latency statistics per service
 * and per caller->callee edge: the --traces input of aiops-ingest(1).
 */
#ifndef AIOPS_TRACES_H
#define AIOPS_TRACES_H

#include "base.h"
#include "series.h"
#include "source.h"

enum aiops_trace_format { AIOPS_TRACE_AUTO, AIOPS_TRACE_CSV, AIOPS_TRACE_JSONL, AIOPS_TRACE_OTLP };

/* "auto", "csv", "jsonl", "otlp" -> enum aiops_trace_format; -1 for another name. */
int aiops_trace_format_parse(const char *s);
/* The name of a format ("auto", ...), or "?" for a value out of range. */
const char *aiops_trace_format_name(int format);

/*
 * Limits that keep a hostile input from taking all memory. Spans are kept
 * until aiops_traces_finish() (their durations for exact percentiles, their
 * ids to find parents that come later): about 24 bytes a span plus its ids,
 * some 80 bytes with OpenTelemetry's ids, so at most a few GB.
 */
#define AIOPS_TRACES_MAX_SPANS 50000000u    /* spans in one aggregation */
#define AIOPS_TRACES_MAX_ID 255             /* bytes in a trace, span or parent id */
#define AIOPS_TRACES_MAX_SERVICE 255        /* bytes in a service name */
#define AIOPS_TRACES_MAX_CELLS 10000000u    /* windows x (services + edges) */

struct aiops_traces;

/*
 * Start an aggregation into windows of step_ms (> 0) milliseconds, which
 * start at multiples of step_ms from the epoch. format is an enum
 * aiops_trace_format for every part fed; with skip_bad set, a bad span is
 * counted and skipped instead of failing the feed. *tp is owned by the
 * caller: aiops_traces_free(). Errors: AIOPS_ERR_USAGE (bad step or
 * format), AIOPS_ERR_NOMEM.
 */
int aiops_traces_new(struct aiops_traces **tp, int64_t step_ms, int format, int skip_bad,
    struct aiops_error *e);

/*
 * Read the current part of src (all of it; src is not owned and not moved
 * to its next part). *spans gets the spans taken added to it; a bad span
 * (a malformed record or JSON document, a missing or malformed field, a
 * duplicate span id) is, under skip_bad, added to *skipped, and when
 * *skipped was 0 its message is copied to first_skip (fsz bytes, may be
 * 0); any of these may be NULL. Without skip_bad a bad span is an
 * AIOPS_ERR_DATA error naming its place ("file:line[:col]: field ...").
 * Other errors, never skipped: a CSV header without a required column
 * (AIOPS_ERR_DATA), AIOPS_ERR_LIMIT (a line or document over 64 MiB, too
 * many spans or services), AIOPS_ERR_IO and the source's codes,
 * AIOPS_ERR_NOMEM, AIOPS_ERR_USAGE after aiops_traces_finish().
 */
int aiops_traces_feed(struct aiops_traces *t, struct aiops_src *src, uint64_t *spans,
    uint64_t *skipped, char *first_skip, size_t fsz, struct aiops_error *e);

/*
 * Aggregate every span fed so far and add to pv (initialised by the
 * caller) one sample per window start and column: for each service S in
 * byte order of the names, then each edge P>C (a span of service C whose
 * parent span, fed before or after it, is of service P) in byte order of
 * (P, C), the columns PREFIX.calls, PREFIX.error_rate, PREFIX.lat_mean,
 * PREFIX.lat_p50, PREFIX.lat_p95 and PREFIX.lat_p99 with PREFIX "svc.S" or
 * "edge.P>C". Every window from the first to the last one with a span gets
 * a calls sample (0 when none); the others only when calls > 0. Latencies
 * are in milliseconds; percentiles are exact, numpy's default (linear)
 * definition. Call it once; afterwards only aiops_traces_free(). Errors:
 * AIOPS_ERR_DATA (no spans), AIOPS_ERR_LIMIT (too many columns or cells),
 * AIOPS_ERR_NOMEM, AIOPS_ERR_USAGE when called twice. On an error pv may
 * hold some samples: release it.
 */
int aiops_traces_finish(struct aiops_traces *t, struct aiops_pivot *pv, struct aiops_error *e);

/* Release t and everything it holds; NULL is allowed. */
void aiops_traces_free(struct aiops_traces *t);

#endif
