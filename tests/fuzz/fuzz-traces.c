/*
 * fuzz-traces.c - spans as CSV, JSON lines and OpenTelemetry OTLP/JSON
 * (lib/traces.c): aiops_traces_new(), _feed() over a memory source and
 * _finish() into a pivot, with the format detected or named and bad spans
 * failing or skipped (both chosen from a hash of the input). Every input
 * is also fed a second time, as a second file of the same aggregation,
 * which holds the same span ids again.
 */
#include "aiops.h"
#include "traces.h"
#include "fuzz.h"

static volatile size_t sink;

static void
run(const uint8_t *data, size_t size, int format, int skip_bad, int twice)
{
	struct aiops_traces *t;
	struct aiops_error e;
	struct aiops_src *src;
	struct aiops_pivot pv;
	uint64_t spans = 0, skipped = 0;
	char first[256] = "";
	int r = AIOPS_OK;

	if (aiops_traces_new(&t, 60000, format, skip_bad, &e) != AIOPS_OK)
		return;
	for (int k = 0; k <= twice && r == AIOPS_OK; k++) {
		if (aiops_src_open_mem(&src, data, size, k ? "again.json" : "spans.json", &e) != AIOPS_OK)
			break;
		r = aiops_traces_feed(t, src, &spans, &skipped, first, sizeof(first), &e);
		if (r != AIOPS_OK && e.msg[0] == '\0')
			abort();
		aiops_src_close(src);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz-traces: format %d: %llu spans, %llu skipped: %s\n", format,
		    (unsigned long long)spans, (unsigned long long)skipped, r == AIOPS_OK ? "ok" : e.msg);
	if (skipped > 0 && first[0] == '\0' && !fz_failmode)
		abort(); /* the first skip says why */
	if (r == AIOPS_OK && aiops_pivot_init(&pv) == AIOPS_OK) {
		if (aiops_traces_finish(t, &pv, &e) == AIOPS_OK) {
			aiops_pivot_sort(&pv);
			sink += pv.n + pv.ncols;
		}
		aiops_pivot_release(&pv);
	}
	aiops_traces_free(t);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fz_hash(data, size);
	static const int formats[] = { AIOPS_TRACE_AUTO, AIOPS_TRACE_AUTO, AIOPS_TRACE_AUTO,
		AIOPS_TRACE_AUTO, AIOPS_TRACE_CSV, AIOPS_TRACE_JSONL, AIOPS_TRACE_OTLP, AIOPS_TRACE_AUTO };

	fz_begin(data, size);
	run(data, size, formats[h & 7], (int)((h >> 3) & 1), (int)((h >> 4) & 1));
	fz_end();
	return 0;
}
