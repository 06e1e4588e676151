/* test-traces.c - spans in CSV, JSON lines and OTLP/JSON to service and edge statistics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"
#include "traces.h"
#include "tap.h"

#define N NAN
#define STEP 1000
#define W0 1700000000000LL

/*
 * The hand-made case: services A, B, C over windows W0 .. W0+3s, children
 * before their parents. t1: a1 (A) calls b1 (B, error) and b2 (B, the
 * next window). t2: a2 (A) calls c1 (C); c2 (C) names a parent b1 that
 * trace t2 does not have: no edge. t3: a3 (A) calls c3..c12 (C, durations
 * 1..10 shuffled, 3 errors) in window 3, and c13 (C, window 1) is a child
 * of c3: an edge C>C.
 */
static const char csv_case[] =
    "trace_id,span_id,parent_id,service,operation,start,duration,status\n"
    "t1,b1,a1,B,get,1700000000100,4,ERROR\n"
    "t2,c1,a2,C,q,2023-11-14T22:13:20.200Z,1,200\n"
    "t2,c2,b1,C,q,1700000000.3,3,OK\n"
    "t1,a1,,A,root,1700000000000,10,OK\n"
    "t1,b2,a1,B,get,1700000001500,6,\n"
    "t2,a2,,A,root,1700000000050,20,unset\n"
    "t3,c3,a3,C,q,1700000003000,5,503\n"
    "t3,c4,a3,C,q,1700000003001,2,404\n"
    "t3,c5,a3,C,q,1700000003002,9,STATUS_CODE_ERROR\n"
    "t3,c6,a3,C,q,1700000003003,1,2\n"
    "t3,c7,a3,C,q,1700000003004,10,ok\n"
    "t3,c8,a3,C,q,1700000003005,3,0\n"
    "t3,c9,a3,C,q,1700000003006,8,1\n"
    "t3,c10,a3,C,q,1700000003007,4,\n"
    "t3,c11,a3,C,q,1700000003008,7,Status_Code_Ok\n"
    "t3,c12,a3,C,q,1700000003999,6,200\n"
    "t3,a3,,A,root,1700000003500,100,\n"
    "t3,c13,c3,C,self,1700000001200,7,error\n";

/* The same spans as JSON lines, with other key names, types and time forms. */
static const char jsonl_case[] =
    "{\"traceId\":\"t1\",\"spanId\":\"b1\",\"parentSpanId\":\"a1\",\"serviceName\":\"B\",\"name\":\"get\",\"timestamp\":1700000000100,\"duration_ms\":4,\"status\":\"ERROR\"}\n"
    "{\"trace_id\":\"t2\",\"span_id\":\"c1\",\"parent_id\":\"a2\",\"service\":\"C\",\"start\":\"2023-11-14T22:13:20.200Z\",\"duration\":1.0,\"status\":200}\n"
    "\n"
    "{\"trace_id\":\"t2\",\"span_id\":\"c2\",\"parent_id\":\"b1\",\"service\":\"C\",\"start\":1700000000.3,\"duration\":\"3\",\"status\":{\"code\":1}}\r\n"
    "{\"trace_id\":\"t1\",\"span_id\":\"a1\",\"parent_id\":null,\"service\":\"A\",\"start\":1700000000000,\"duration\":10,\"status\":false}\n"
    "{\"trace_id\":\"t1\",\"span_id\":\"b2\",\"parent_id\":\"a1\",\"service\":\"B\",\"start\":1700000001500,\"duration\":6}\n"
    "{\"trace_id\":\"t2\",\"span_id\":\"a2\",\"parent_id\":\"\",\"service\":\"A\",\"start\":1700000000050,\"duration\":20,\"status\":\"unset\"}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c3\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003000,\"duration\":5,\"status\":503}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c4\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003001,\"duration\":2,\"status\":404}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c5\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003002,\"duration\":9,\"status\":\"STATUS_CODE_ERROR\"}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c6\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003003,\"duration\":1,\"status\":{\"code\":2}}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c7\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003004,\"duration\":10,\"status\":\"ok\"}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c8\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003005,\"duration\":3,\"status\":0}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c9\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003006,\"duration\":8,\"status\":1}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c10\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003007,\"duration\":4,\"status\":null}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c11\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003008,\"duration\":7,\"status\":\"Status_Code_Ok\"}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c12\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":\"2023-11-14T22:13:23.999Z\",\"duration\":6,\"status\":\"200\"}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"a3\",\"service\":\"A\",\"start\":1700000003500,\"duration\":100}\n"
    "{\"trace_id\":\"t3\",\"span_id\":\"c13\",\"parent_id\":\"c3\",\"service\":\"C\",\"start\":1700000001200,\"duration\":7,\"status\":true}";

/* The same spans as OTLP/JSON: one document a line, C's spans in a document before A's. */
#define OSPAN(tr, sp, par, t0, t1, code) \
	"{\"traceId\":\"" tr "\",\"spanId\":\"" sp "\",\"parentSpanId\":\"" par "\",\"name\":\"x\"," \
	"\"kind\":2,\"startTimeUnixNano\":\"" t0 "\",\"endTimeUnixNano\":\"" t1 "\"," \
	"\"status\":{" code "}}"
#define RES(svc) "{\"resource\":{\"attributes\":[{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h\"}}," \
	"{\"key\":\"service.name\",\"value\":{\"stringValue\":\"" svc "\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"s\"},\"spans\":["
static const char otlp_case[] =
    "{\"resourceSpans\":[" RES("C")
    OSPAN("t2", "c1", "a2", "1700000000200000000", "1700000000201000000", "") ","
    OSPAN("t2", "c2", "b1", "1700000000300000000", "1700000000303000000", "\"code\":1") ","
    OSPAN("t3", "c3", "a3", "1700000003000000000", "1700000003005000000", "\"code\":2") ","
    OSPAN("t3", "c4", "a3", "1700000003001000000", "1700000003003000000", "") ","
    OSPAN("t3", "c5", "a3", "1700000003002000000", "1700000003011000000", "\"code\":\"STATUS_CODE_ERROR\"") ","
    OSPAN("t3", "c6", "a3", "1700000003003000000", "1700000003004000000", "\"code\":2") ","
    OSPAN("t3", "c7", "a3", "1700000003004000000", "1700000003014000000", "\"code\":0") ","
    OSPAN("t3", "c8", "a3", "1700000003005000000", "1700000003008000000", "") ","
    OSPAN("t3", "c9", "a3", "1700000003006000000", "1700000003014000000", "\"code\":1") ","
    OSPAN("t3", "c10", "a3", "1700000003007000000", "1700000003011000000", "") ","
    OSPAN("t3", "c11", "a3", "1700000003008000000", "1700000003015000000", "") "]},"
    "{\"scope\":{\"name\":\"s2\"},\"spans\":["
    OSPAN("t3", "c12", "a3", "1700000003999999999", "1700000004005999999", "") ","
    OSPAN("t3", "c13", "c3", "1700000001200000000", "1700000001207000000", "\"code\":2") "]}]}]}\n"
    "{\"resourceSpans\":[" RES("B")
    OSPAN("t1", "b1", "a1", "1700000000100000000", "1700000000104000000", "\"code\":2") ","
    OSPAN("t1", "b2", "a1", "1700000001500000000", "1700000001506000000", "\"code\":1") "]}]},"
    RES("A")
    OSPAN("t1", "a1", "", "1700000000000000000", "1700000000010000000", "") ","
    OSPAN("t2", "a2", "", "1700000000050000000", "1700000000070000000", "\"code\":1") ","
    OSPAN("t3", "a3", "", "1700000003500000000", "1700000003600000000", "") "]}]}]}\n";

/* Expected values per key: calls, error_rate, lat_mean, lat_p50, lat_p95, lat_p99 over 4 windows. */
struct want {
	const char *key;
	double v[6][4];
};

static const struct want wants[] = {
	{ "svc.A", { { 2, 0, 0, 1 }, { 0, N, N, 0 }, { 15, N, N, 100 }, { 15, N, N, 100 },
	    { 19.5, N, N, 100 }, { 19.9, N, N, 100 } } },
	{ "svc.B", { { 1, 1, 0, 0 }, { 1, 0, N, N }, { 4, 6, N, N }, { 4, 6, N, N }, { 4, 6, N, N },
	    { 4, 6, N, N } } },
	{ "svc.C", { { 2, 1, 0, 10 }, { 0, 1, N, 0.3 }, { 2, 7, N, 5.5 }, { 2, 7, N, 5.5 },
	    { 2.9, 7, N, 9.55 }, { 2.98, 7, N, 9.91 } } },
	{ "edge.A>B", { { 1, 1, 0, 0 }, { 1, 0, N, N }, { 4, 6, N, N }, { 4, 6, N, N },
	    { 4, 6, N, N }, { 4, 6, N, N } } },
	{ "edge.A>C", { { 1, 0, 0, 10 }, { 0, N, N, 0.3 }, { 1, N, N, 5.5 }, { 1, N, N, 5.5 },
	    { 1, N, N, 9.55 }, { 1, N, N, 9.91 } } },
	{ "edge.C>C", { { 0, 1, 0, 0 }, { N, 1, N, N }, { N, 7, N, N }, { N, 7, N, N },
	    { N, 7, N, N }, { N, 7, N, N } } },
};
static const char *const stat_names[6] = {
	"calls", "error_rate", "lat_mean", "lat_p50", "lat_p95", "lat_p99"
};

/* The sample of column name at ts: 1 found (once), 0 none, -1 more than one. */
static int
sample(const struct aiops_pivot *pv, const char *name, int64_t ts, double *v)
{
	long col = -1;
	int found = 0;

	for (size_t j = 0; j < pv->ncols; j++)
		if (strcmp(pv->names[j], name) == 0)
			col = (long)j;
	if (col < 0)
		return 0;
	for (size_t i = 0; i < pv->n; i++)
		if (pv->s[i].col == (uint32_t)col && pv->s[i].ts == ts) {
			*v = pv->s[i].v;
			found = found ? -1 : 1;
		}
	return found;
}

/* Whether pv holds exactly the expected case; diagnostics for the first differences. */
static int
pivot_matches(const struct aiops_pivot *pv, const char *what)
{
	size_t nwant = 0, col = 0;
	int good = 1;
	char name[64];

	if (pv->ncols != 36) {
		diag("%s: %zu columns, expected 36", what, pv->ncols);
		return 0;
	}
	for (size_t k = 0; k < sizeof(wants) / sizeof(wants[0]); k++)
		for (int s = 0; s < 6; s++) {
			snprintf(name, sizeof(name), "%s.%s", wants[k].key, stat_names[s]);
			if (strcmp(pv->names[col], name) != 0) {
				diag("%s: column %zu is %s, expected %s", what, col, pv->names[col], name);
				good = 0;
			}
			col++;
			for (int w = 0; w < 4; w++) {
				double want = wants[k].v[s][w], got = 0;
				int f = sample(pv, name, W0 + w * STEP, &got);
				if (isnan(want)) {
					if (f != 0) {
						diag("%s: %s at window %d: %g, expected none", what, name, w, got);
						good = 0;
					}
					continue;
				}
				nwant++;
				if (f != 1 || fabs(got - want) > 1e-9 * (1 + fabs(want))) {
					diag("%s: %s at window %d: %.17g (found %d), expected %.17g", what, name,
					    w, got, f, want);
					good = 0;
				}
			}
		}
	if (pv->n != nwant) {
		diag("%s: %zu samples, expected %zu", what, pv->n, nwant);
		good = 0;
	}
	return good;
}

/* Feed each text as a part named by names[i] and aggregate into pv. */
static int
run(int format, int skip_bad, const char *const *texts, const char *const *names, size_t n,
    struct aiops_pivot *pv, uint64_t *spans, uint64_t *skipped, char *fs, size_t fsz,
    struct aiops_error *e)
{
	struct aiops_traces *t;
	int r;

	if ((r = aiops_traces_new(&t, STEP, format, skip_bad, e)) != AIOPS_OK)
		return r;
	for (size_t i = 0; i < n && r == AIOPS_OK; i++) {
		struct aiops_src *src;
		if ((r = aiops_src_open_mem(&src, texts[i], strlen(texts[i]), names[i], e)) != AIOPS_OK)
			break;
		r = aiops_traces_feed(t, src, spans, skipped, fs, fsz, e);
		aiops_src_close(src);
	}
	if (r == AIOPS_OK)
		r = aiops_traces_finish(t, pv, e);
	aiops_traces_free(t);
	return r;
}

/* One text, the result checked against the case. */
static void
check_case(int format, const char *text, const char *name, uint64_t want_spans)
{
	struct aiops_pivot pv;
	struct aiops_error e = { 0, "" };
	uint64_t spans = 0, skipped = 0;
	int r;

	aiops_pivot_init(&pv);
	r = run(format, 0, &text, &name, 1, &pv, &spans, &skipped, NULL, 0, &e);
	ok(r == AIOPS_OK, "%s (%s): aggregated: %s", name, aiops_trace_format_name(format), e.msg);
	is_int(spans, want_spans, "%s: spans counted", name);
	is_int(skipped, 0, "%s: none skipped", name);
	ok(r == AIOPS_OK && pivot_matches(&pv, name), "%s (%s): every cell as worked out by hand",
	    name, aiops_trace_format_name(format));
	aiops_pivot_release(&pv);
}

/* The message of a failed run over one text, "" when it succeeded. */
static int
fails(int format, const char *text, const char *name, char *msg, size_t msz)
{
	struct aiops_pivot pv;
	struct aiops_error e = { 0, "" };
	uint64_t spans = 0, skipped = 0;
	int r;

	aiops_pivot_init(&pv);
	r = run(format, 0, &text, &name, 1, &pv, &spans, &skipped, NULL, 0, &e);
	snprintf(msg, msz, "%s", r == AIOPS_OK ? "" : e.msg);
	aiops_pivot_release(&pv);
	return r;
}

static void
check_bad(int format, const char *text, const char *name, int code, const char *want)
{
	char msg[1024];
	int r = fails(format, text, name, msg, sizeof(msg));

	is_int(r, code, "%s: fails with code %d", want, code);
	is_str(msg, want, "the message names the place");
}

/* Skip-bad: good and bad spans mixed; spans and skipped counted, the first message kept. */
static void
check_skip(int format, const char *text, const char *name, uint64_t want_spans,
    uint64_t want_skipped, const char *want_first)
{
	struct aiops_pivot pv;
	struct aiops_error e = { 0, "" };
	uint64_t spans = 0, skipped = 0;
	char fs[300] = "";
	int r;

	aiops_pivot_init(&pv);
	r = run(format, 1, &text, &name, 1, &pv, &spans, &skipped, fs, sizeof(fs), &e);
	ok(r == AIOPS_OK, "%s under skip_bad: succeeds: %s", name, e.msg);
	is_int(spans, want_spans, "%s: %llu spans taken", name, (unsigned long long)want_spans);
	is_int(skipped, want_skipped, "%s: %llu skipped", name, (unsigned long long)want_skipped);
	is_str(fs, want_first, "%s: the first skipped message", name);
	aiops_pivot_release(&pv);
}

static void
test_cases(void)
{
	static const char *const pretty =
	    "\xef\xbb\xbf\n  {\n  \"resourceSpans\": [ {\n"
	    "    \"resource\": { \"attributes\": [ { \"key\": \"service.name\", \"value\": { \"stringValue\": \"A\" } } ] },\n"
	    "    \"scopeSpans\": [ { \"spans\": [\n"
	    "      { \"traceId\": \"t\", \"spanId\": \"s1\", \"startTimeUnixNano\": \"1700000000000000000\", \"endTimeUnixNano\": \"1700000000002500000\" },\n"
	    "      { \"traceId\": \"t\", \"spanId\": \"s2\", \"parentSpanId\": \"s1\", \"startTimeUnixNano\": 1700000000001000000, \"endTimeUnixNano\": 1700000000001000000, \"status\": { \"code\": 2 } }\n"
	    "    ] } ]\n  } ]\n}\n";
	struct aiops_pivot pv;
	struct aiops_error e = { 0, "" };
	double v = 0;
	int r;

	check_case(AIOPS_TRACE_CSV, csv_case, "case.csv", 18);
	check_case(AIOPS_TRACE_AUTO, csv_case, "case.csv", 18);
	check_case(AIOPS_TRACE_JSONL, jsonl_case, "case.jsonl", 18);
	check_case(AIOPS_TRACE_AUTO, jsonl_case, "case.jsonl", 18);
	check_case(AIOPS_TRACE_OTLP, otlp_case, "case.otlp.json", 18);
	check_case(AIOPS_TRACE_AUTO, otlp_case, "case.otlp.json", 18);

	/* parents in a later part, in another format: auto-detected per part */
	{
		static const char *const csv_children =
		    "service,span_id,trace_id,parent_id,start,duration,status\n"
		    "C,c1,t2,a2,1700000000200,1,\n"
		    "C,c2,t2,b1,1700000000300,3,\n"
		    "B,b1,t1,a1,1700000000100,4,500\n"
		    "B,b2,t1,a1,1700000001500,6,\n";
		static const char *const jsonl_t3 =
		    "{\"trace_id\":\"t3\",\"span_id\":\"c3\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003000,\"duration\":5,\"status\":503}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c4\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003001,\"duration\":2}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c5\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003002,\"duration\":9,\"status\":\"error\"}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c6\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003003,\"duration\":1,\"status\":2}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c7\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003004,\"duration\":10}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c8\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003005,\"duration\":3}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c9\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003006,\"duration\":8}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c10\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003007,\"duration\":4}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c11\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003008,\"duration\":7}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c12\",\"parent_id\":\"a3\",\"service\":\"C\",\"start\":1700000003999,\"duration\":6}\n"
		    "{\"trace_id\":\"t3\",\"span_id\":\"c13\",\"parent_id\":\"c3\",\"service\":\"C\",\"start\":1700000001200,\"duration\":7,\"status\":\"ERROR\"}\n";
		static const char *const otlp_parents =
		    "{\"resourceSpans\":[" RES("A")
		    OSPAN("t1", "a1", "", "1700000000000000000", "1700000000010000000", "") ","
		    OSPAN("t2", "a2", "", "1700000000050000000", "1700000000070000000", "\"code\":1") ","
		    OSPAN("t3", "a3", "", "1700000003500000000", "1700000003600000000", "") "]}]}]}";
		const char *texts[] = { csv_children, jsonl_t3, otlp_parents };
		const char *names[] = { "children.csv", "t3.jsonl", "parents.json" };
		uint64_t spans = 0, skipped = 0;

		aiops_pivot_init(&pv);
		r = run(AIOPS_TRACE_AUTO, 0, texts, names, 3, &pv, &spans, &skipped, NULL, 0, &e);
		ok(r == AIOPS_OK, "three parts in three formats: %s", e.msg);
		is_int(spans, 18, "three parts: 18 spans");
		ok(r == AIOPS_OK && pivot_matches(&pv, "three parts"),
		    "parents in a later part make the same edges");
		aiops_pivot_release(&pv);
	}

	/* a pretty-printed document, after a BOM and blank lines; an end equal to the start */
	aiops_pivot_init(&pv);
	r = run(AIOPS_TRACE_AUTO, 0, &pretty, &(const char *){ "pretty.json" }, 1, &pv, NULL, NULL,
	    NULL, 0, &e);
	ok(r == AIOPS_OK, "a pretty-printed OTLP document: %s", e.msg);
	ok(sample(&pv, "svc.A.lat_mean", W0, &v) == 1 && v == 1.25, "its mean is (2.5 + 0) / 2");
	ok(sample(&pv, "svc.A.error_rate", W0, &v) == 1 && v == 0.5, "status.code 2 is an error");
	ok(sample(&pv, "edge.A>A.calls", W0, &v) == 1 && v == 1, "an edge within a service");
	is_int(pv.ncols, 12, "one service and one edge: 12 columns");
	aiops_pivot_release(&pv);

	/* windows before the epoch: floor, not truncation */
	{
		static const char *const neg =
		    "trace_id,span_id,service,start,duration\n"
		    "t,a,S,-0.5,1\n"
		    "t,b,S,1969-12-31T23:59:58.999Z,3\n"
		    "t,c,S,0,5\n";
		aiops_pivot_init(&pv);
		r = run(AIOPS_TRACE_CSV, 0, &neg, &(const char *){ "neg.csv" }, 1, &pv, NULL, NULL,
		    NULL, 0, &e);
		ok(r == AIOPS_OK, "spans before 1970: %s", e.msg);
		ok(sample(&pv, "svc.S.calls", -1000, &v) == 1 && v == 1 &&
		    sample(&pv, "svc.S.calls", -2000, &v) == 1 && v == 1 &&
		    sample(&pv, "svc.S.calls", 0, &v) == 1 && v == 1,
		    "-500 ms is in the window at -1000, -1001 ms in the one at -2000");
		is_int(pv.n, 18, "three windows, each with one span: 3 x 6 samples");
		aiops_pivot_release(&pv);
	}

	/* percentiles against numpy.percentile(x, q) of a longer sample, worked out in Python */
	{
		struct aiops_buf b = AIOPS_BUF_INIT;
		const char *text;
		/* x = [(i * 37) % 101 / 8 for i in range(1, 42)] */
		aiops_buf_addstr(&b, "trace_id,span_id,service,start,duration\n");
		for (int i = 1; i <= 41; i++)
			aiops_buf_addf(&b, "t,s%d,P,1.%03d,%.17g\n", i, i, ((i * 37) % 101) / 8.0);
		text = b.buf;
		aiops_pivot_init(&pv);
		r = run(AIOPS_TRACE_CSV, 0, &text, &(const char *){ "p.csv" }, 1, &pv, NULL, NULL, NULL,
		    0, &e);
		ok(r == AIOPS_OK, "41 spans: %s", e.msg);
		ok(sample(&pv, "svc.P.lat_p50", 1000, &v) == 1, "p50 present");
		is_double(v, 6.25, 0, "p50 = numpy's 6.25");
		sample(&pv, "svc.P.lat_p95", 1000, &v);
		is_double(v, 11.75, 0, "p95 = numpy's 11.75");
		sample(&pv, "svc.P.lat_p99", 1000, &v);
		is_double(v, 12.350000000000001, 0, "p99 = numpy's 12.350000000000001, to the bit");
		sample(&pv, "svc.P.lat_mean", 1000, &v);
		is_double(v, 6.286585365853658, 1e-12, "mean = numpy's 6.286585365853658");
		aiops_pivot_release(&pv);
		aiops_buf_release(&b);
	}
}

static void
test_bad(void)
{
	char big[400];

	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,start,duration\nt,s,1,2\n", "h.csv",
	    AIOPS_ERR_DATA, "h.csv:1: missing column \"service\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,A,1,2\nt,s2,A,1,abc\n",
	    "d.csv", AIOPS_ERR_DATA,
	    "d.csv:3:10: field \"duration\": expected milliseconds (a number >= 0), got \"abc\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,A,1,-2\n",
	    "n.csv", AIOPS_ERR_DATA,
	    "n.csv:2:9: field \"duration\": expected milliseconds (a number >= 0), got \"-2\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,A,yesterday,2\n",
	    "s.csv", AIOPS_ERR_DATA,
	    "s.csv:2:7: field \"start\": expected a timestamp, got \"yesterday\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration,status\nt,s,A,1,2,maybe\n",
	    "st.csv", AIOPS_ERR_DATA,
	    "st.csv:2:11: field \"status\": expected ok, unset, error or a status code, got \"maybe\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,,1,2\n",
	    "e.csv", AIOPS_ERR_DATA, "e.csv:2:5: field \"service\": empty");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,A,1\n",
	    "f.csv", AIOPS_ERR_DATA, "f.csv:2: expected 5 fields, got 4");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,A,1,2\nt,s,B,1,2\n",
	    "dup.csv", AIOPS_ERR_DATA, "dup.csv:3: duplicate span_id \"s\" in trace \"t\"");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\nt,s,\"A\x01\",1,2\n",
	    "c.csv", AIOPS_ERR_DATA,
	    "c.csv:2: field \"service\": not UTF-8 text without control characters: \"A?\"");
	memset(big, 'x', 300);
	big[300] = '\0';
	{
		char text[600];
		snprintf(text, sizeof(text), "trace_id,span_id,service,start,duration\nt,%s,A,1,2\n", big);
		check_bad(AIOPS_TRACE_CSV, text, "long.csv", AIOPS_ERR_DATA,
		    "long.csv:2: field \"span_id\": longer than 255 bytes");
	}
	check_bad(AIOPS_TRACE_JSONL,
	    "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service\":\"A\",\"start\":1,\"duration\":2}\n"
	    "{\"trace_id\":\"t\",\"span_id\":}\n", "m.jsonl", AIOPS_ERR_DATA,
	    "m.jsonl:2:27: invalid JSON: unexpected token near '}'");
	check_bad(AIOPS_TRACE_JSONL,
	    "\n\n{\"trace_id\":\"t\",\"span_id\":\"s\",\"start\":1,\"duration\":2}\n", "ms.jsonl",
	    AIOPS_ERR_DATA, "ms.jsonl:3: missing field \"service\"");
	check_bad(AIOPS_TRACE_JSONL,
	    "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service\":\"A\",\"start\":1,\"duration\":[2]}\n",
	    "ty.jsonl", AIOPS_ERR_DATA,
	    "ty.jsonl:1: field \"duration\": expected milliseconds (a number >= 0), got an array");
	check_bad(AIOPS_TRACE_JSONL, "[1,2]\n", "arr.jsonl", AIOPS_ERR_DATA,
	    "arr.jsonl:1: expected a JSON object, got an array");
	check_bad(AIOPS_TRACE_JSONL,
	    "{\"trace_id\":\"t\",\"span_id\":\"s\",\"service\":\"A\",\"start\":1,\"duration\":2} x\n",
	    "tail.jsonl", AIOPS_ERR_DATA, "tail.jsonl:1:69: invalid JSON: end of file expected near 'x'");
	check_bad(AIOPS_TRACE_OTLP,
	    "{\"resourceSpans\":[" RES("A")
	    OSPAN("t", "s1", "", "1", "2", "") ","
	    "{\"traceId\":\"t\",\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}]}]}]}\n",
	    "o.json", AIOPS_ERR_DATA,
	    "o.json:1: resourceSpans[0].scopeSpans[0].spans[1]: missing field \"spanId\"");
	check_bad(AIOPS_TRACE_OTLP,
	    "{\"resourceSpans\":[" RES("A") OSPAN("t", "s1", "", "5", "2", "") "]}]}]}\n",
	    "end.json", AIOPS_ERR_DATA,
	    "end.json:1: resourceSpans[0].scopeSpans[0].spans[0]: field \"endTimeUnixNano\": "
	    "before startTimeUnixNano");
	check_bad(AIOPS_TRACE_OTLP,
	    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
	    OSPAN("t", "s1", "", "1", "2", "") "]}]}]}\n",
	    "nosvc.json", AIOPS_ERR_DATA,
	    "nosvc.json:1: resourceSpans[0].scopeSpans[0].spans[0]: missing resource attribute "
	    "\"service.name\"");
	check_bad(AIOPS_TRACE_OTLP, "{\"resourceSpans\":[]}\n{\n  \"resourceSpans\": [\n    {,\n]}\n",
	    "syn.json", AIOPS_ERR_DATA, "syn.json:4:6: invalid JSON: string or '}' expected near ','");
	check_bad(AIOPS_TRACE_OTLP, "{\"resourceSpans\":[]}\n{\"resourceSpans\":[",
	    "eof.json", AIOPS_ERR_DATA,
	    "eof.json:2:18: invalid JSON: ']' expected near end of file");
	check_bad(AIOPS_TRACE_OTLP, "{\"resourceSpans\":{}}", "notarr.json", AIOPS_ERR_DATA,
	    "notarr.json:1: expected a \"resourceSpans\" array, got an object");
	check_bad(AIOPS_TRACE_AUTO, "                    a,b\n", "blank.csv", AIOPS_ERR_DATA,
	    "blank.csv: cannot tell the trace format: give it (csv, jsonl or otlp)");
	check_bad(AIOPS_TRACE_CSV, "trace_id,span_id,service,start,duration\n", "hdr.csv",
	    AIOPS_ERR_DATA, "no spans");
	check_bad(AIOPS_TRACE_AUTO, "", "empty", AIOPS_ERR_DATA, "no spans");

	/* too many windows for the services: a limit, not a huge allocation */
	check_bad(AIOPS_TRACE_CSV,
	    "trace_id,span_id,service,start,duration\nt,a,A,0,1\nt,b,A,1e15,1\n", "wide.csv",
	    AIOPS_ERR_LIMIT, "spans over 1000000000001 windows of 1000 ms with 1 services and edges: "
	    "more than 10000000 cells; use a larger step");

	/* a line longer than the limit */
	{
		size_t n = AIOPS_CSV_MAX_RECORD + 100;
		char *huge = malloc(n + 1);
		char msg[1024];
		if (huge != NULL) {
			memset(huge, ' ', n);
			huge[0] = '{';
			huge[n] = '\0';
			is_int(fails(AIOPS_TRACE_JSONL, huge, "huge.jsonl", msg, sizeof(msg)), AIOPS_ERR_LIMIT,
			    "a 64 MiB line is a limit error");
			is_str(msg, "huge.jsonl:1: line longer than 64 MiB", "its message");
			free(huge);
		} else {
			skip("no memory for a 64 MiB line");
			skip("no memory for a 64 MiB line");
		}
	}

	/* skip_bad: bad spans counted, the first message kept, the rest aggregated */
	check_skip(AIOPS_TRACE_CSV,
	    "trace_id,span_id,service,start,duration,status\n"
	    "t,a,A,1,2,\n"
	    "t,b,A,1,x,\n"
	    "t,c,A,1\n"
	    "t,a,A,1,2,\n"
	    "t,d,A,1,2,ok\n", "sk.csv", 2, 3,
	    "sk.csv:3:9: field \"duration\": expected milliseconds (a number >= 0), got \"x\"");
	check_skip(AIOPS_TRACE_AUTO,
	    "{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"A\",\"start\":1,\"duration\":2}\n"
	    "{\"trace_id\":\"t\",\"span_id\":\"b\",\"service\":\"A\",\"start\":1,\n"
	    "{\"trace_id\":\"t\",\"span_id\":\"c\",\"start\":1,\"duration\":2}\n"
	    "{\"trace_id\":\"t\",\"span_id\":\"d\",\"service\":\"A\",\"start\":1,\"duration\":2}\n",
	    "sk.jsonl", 2, 2, "sk.jsonl:2:54: invalid JSON: string or '}' expected near end of file");
	check_skip(AIOPS_TRACE_AUTO,
	    "{\"resourceSpans\":[" RES("A")
	    OSPAN("t", "s1", "", "1", "2", "") ","
	    "{\"traceId\":\"t\",\"spanId\":\"s2\",\"endTimeUnixNano\":\"2\"},"
	    OSPAN("t", "s3", "", "1", "2", "") "]}]}]}\n"
	    "{\"resourceSpans\":[ nonsense ]}\n"
	    "{\"resourceSpans\":[" RES("A") OSPAN("t", "s4", "s1", "1", "2", "") "]}]}]}\n",
	    "sk.json", 3, 2,
	    "sk.json:1: resourceSpans[0].scopeSpans[0].spans[1]: missing field \"startTimeUnixNano\"");
	{
		/* a counter that is not 0 already: no first message written */
		const char *text = "trace_id,span_id,service,start,duration\nt,a,A,1,x\nt,b,A,1,2\n";
		struct aiops_pivot pv;
		struct aiops_error e;
		uint64_t skipped = 5;
		char fs[100] = "earlier";
		aiops_pivot_init(&pv);
		ok(run(AIOPS_TRACE_CSV, 1, &text, &(const char *){ "k.csv" }, 1, &pv, NULL, &skipped, fs,
		    sizeof(fs), &e) == AIOPS_OK && skipped == 6 && strcmp(fs, "earlier") == 0,
		    "skipped adds to the count; the first message stays the first");
		aiops_pivot_release(&pv);
	}
}

static void
test_api(void)
{
	struct aiops_traces *t = (void *)1;
	struct aiops_pivot pv;
	struct aiops_error e;
	struct aiops_src *src;
	static const char text[] = "trace_id,span_id,service,start,duration\nt,a,A,1,2\n";

	is_int(aiops_trace_format_parse("auto"), AIOPS_TRACE_AUTO, "format auto");
	is_int(aiops_trace_format_parse("csv"), AIOPS_TRACE_CSV, "format csv");
	is_int(aiops_trace_format_parse("jsonl"), AIOPS_TRACE_JSONL, "format jsonl");
	is_int(aiops_trace_format_parse("otlp"), AIOPS_TRACE_OTLP, "format otlp");
	is_int(aiops_trace_format_parse("json"), -1, "format json is unknown");
	is_int(aiops_traces_new(&t, 0, AIOPS_TRACE_AUTO, 0, &e), AIOPS_ERR_USAGE, "step 0: usage");
	ok(t == NULL, "no aggregation made");
	is_int(aiops_traces_new(&t, 1000, 9, 0, &e), AIOPS_ERR_USAGE, "format 9: usage");
	aiops_traces_free(NULL);

	aiops_pivot_init(&pv);
	aiops_traces_new(&t, 1000, AIOPS_TRACE_AUTO, 0, &e);
	aiops_src_open_mem(&src, text, sizeof(text) - 1, "x.csv", &e);
	is_int(aiops_traces_feed(t, src, NULL, NULL, NULL, 0, NULL), AIOPS_OK,
	    "all counters and the error may be NULL");
	is_int(aiops_traces_finish(t, &pv, &e), AIOPS_OK, "finish");
	is_int(aiops_traces_finish(t, &pv, &e), AIOPS_ERR_USAGE, "finish twice: usage");
	is_int(aiops_traces_feed(t, src, NULL, NULL, NULL, 0, &e), AIOPS_ERR_USAGE,
	    "feed after finish: usage");
	aiops_src_close(src);
	aiops_traces_free(t);
	aiops_pivot_release(&pv);
}

/*
 * The torture child: a small case in each format, each its own
 * aggregation, with allocation number AIOPS_FAIL_ALLOC failing and every
 * later one too. 0: it succeeded with the right result; 1: it failed
 * cleanly with AIOPS_ERR_NOMEM; 2: anything else. LeakSanitizer, when
 * built in, adds its own status at exit.
 */
static int
torture_child(void)
{
	static const char *const texts[] = {
		"trace_id,span_id,parent_id,service,start,duration,status\n"
		"t,b,a,B,1,4,error\nt,a,,A,1.0,10,\n",
		"{\"trace_id\":\"t\",\"span_id\":\"b\",\"parent_id\":\"a\",\"service\":\"B\",\"start\":1,"
		"\"duration\":4,\"status\":\"error\"}\n"
		"{\"trace_id\":\"t\",\"span_id\":\"a\",\"service\":\"A\",\"start\":\"1970-01-01T00:00:01Z\","
		"\"duration\":10}\n",
		"{\"resourceSpans\":[" RES("B") OSPAN("t", "b", "a", "1000000000", "1004000000", "\"code\":2")
		"]}]}," RES("A") OSPAN("t", "a", "", "1000000000", "1010000000", "") "]}]}]}\n",
	};
	static const char *const names[] = { "t.csv", "t.jsonl", "t.json" };
	struct aiops_pivot pv;
	struct aiops_error e = { 0, "" };
	double v1 = 0, v2 = 0;
	int r, good;

	aiops_alloc_init();
	for (int i = 0; i < 3; i++) {
		if (aiops_pivot_init(&pv) != AIOPS_OK)
			return 1;
		r = run(AIOPS_TRACE_AUTO, 0, &texts[i], &names[i], 1, &pv, NULL, NULL, NULL, 0, &e);
		if (r != AIOPS_OK) {
			aiops_pivot_release(&pv);
			if (r != AIOPS_ERR_NOMEM)
				diag("torture: %s: code %d: %s", names[i], r, e.msg);
			return r == AIOPS_ERR_NOMEM ? 1 : 2;
		}
		good = pv.ncols == 18 && pv.n == 18 &&
		    sample(&pv, "svc.B.error_rate", 1000, &v1) == 1 && v1 == 1 &&
		    sample(&pv, "edge.A>B.lat_mean", 1000, &v2) == 1 && v2 == 4;
		if (!good)
			diag("torture: %s: %zu columns, %zu samples, %g, %g", names[i], pv.ncols, pv.n,
			    v1, v2);
		aiops_pivot_release(&pv);
		if (!good)
			return 2;
	}
	return 0;
}

/*
 * Fork a child per failing allocation. It must run before this process
 * allocates anything: the allocator reads AIOPS_FAIL_ALLOC at its first
 * call, and the children inherit that state.
 */
static void
test_torture(void)
{
	int n, crashed = 0, done = 0, last = 0;

	for (n = 1; n <= 20000 && !done; n++) {
		pid_t pid;
		int st;
		char nb[16];

		last = n;
		snprintf(nb, sizeof(nb), "%d", n);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			setenv("AIOPS_FAIL_ALLOC", nb, 1);
			exit(torture_child());     /* exit, not _exit: LeakSanitizer runs at exit */
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1)) {
			crashed = n;
			break;
		}
		done = WEXITSTATUS(st) == 0;
	}
	ok(!crashed, "torture: a clean AIOPS_ERR_NOMEM, no crash nor leak, at every failing "
	    "allocation (first bad: %d)", crashed);
	ok(done, "torture: the run succeeds once allocations stop failing (at %d)", last);
}

int
main(void)
{
	test_torture();
	aiops_alloc_init();
	test_api();
	test_cases();
	test_bad();
	return done_testing();
}
