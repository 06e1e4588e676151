#!/bin/sh
# t1200: aiops-ingest --traces: spans (CSV, JSON lines, OTLP/JSON) to per-window service and
# edge statistics. The reference is an independent computation in Python (its own parsers of
# the three formats, numpy's mean and percentile) over testdata/traces-demo.*, which
# scripts/gen-traces.py writes; every cell of the CSV output is compared with it.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='aiops-ingest --traces: spans to service and edge statistics'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup the reference' '
	cat >ref.py <<-\EOF &&
	"""ref.py STEP_MS ACTUAL FORMAT:FILE...: compare ACTUAL (aiops-ingest -O csv) with the
	statistics of the spans in the files, computed here. Exits 1 on any difference."""
	import csv, datetime, json, math, re, sys
	import numpy as np

	step = int(sys.argv[1])
	spans = []          # (trace, span, parent, service, start_ms, dur_ms, err)

	def time_ms(v):
	    if isinstance(v, (int, float)):
	        return round(v) if abs(v) >= 1e11 else round(v * 1000)
	    if re.match(r"^-?[0-9.]+$", v):
	        return time_ms(float(v))
	    t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
	    return (t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // \
	        datetime.timedelta(milliseconds=1)

	def is_err(v):
	    if v is None or v is False or v == "":
	        return False
	    if v is True:
	        return True
	    if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
	        return int(v) == 2 or int(v) >= 500
	    w = v.lower()
	    assert w in ("ok", "unset", "status_code_ok", "status_code_unset", "error",
	                 "status_code_error"), v
	    return w in ("error", "status_code_error")

	for arg in sys.argv[3:]:
	    fmt, path = arg.split(":", 1)
	    with open(path, newline="") as f:
	        if fmt == "csv":
	            for row in csv.DictReader(f):
	                spans.append((row["trace_id"], row["span_id"], row["parent_id"],
	                              row["service"], time_ms(row["start"]),
	                              float(row["duration"]), is_err(row["status"])))
	        elif fmt == "jsonl":
	            for line in f:
	                if line.strip():
	                    o = json.loads(line)
	                    spans.append((o["trace_id"], o["span_id"], o.get("parent_id") or "",
	                                  o["service"], time_ms(o["start"]), float(o["duration"]),
	                                  is_err(o.get("status"))))
	        else:
	            for line in f:
	                if not line.strip():
	                    continue
	                for rs in json.loads(line)["resourceSpans"]:
	                    svc = [a["value"]["stringValue"] for a in rs["resource"]["attributes"]
	                           if a["key"] == "service.name"][0]
	                    for ss in rs["scopeSpans"]:
	                        for s in ss["spans"]:
	                            t0, t1 = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
	                            spans.append((s["traceId"], s["spanId"], s.get("parentSpanId", ""),
	                                          svc, t0 // 10**6, (t1 - t0) / 1e6,
	                                          s.get("status", {}).get("code") == 2))

	by_id = {(s[0], s[1]): s for s in spans}
	assert len(by_id) == len(spans), "duplicate span ids"
	groups = {}         # key -> window -> [(dur, err)]
	for s in spans:
	    w = s[4] // step * step
	    keys = ["svc.%s" % s[3]]
	    p = by_id.get((s[0], s[2])) if s[2] else None
	    if p is not None:
	        keys.append("edge.%s>%s" % (p[3], s[3]))
	    for k in keys:
	        groups.setdefault(k, {}).setdefault(w, []).append((s[5], s[6]))
	svcs = sorted(k for k in groups if k.startswith("svc."))
	edges = sorted((k for k in groups if k.startswith("edge.")),
	               key=lambda k: tuple(k[5:].split(">")))
	stats = ["calls", "error_rate", "lat_mean", "lat_p50", "lat_p95", "lat_p99"]
	cols = ["%s.%s" % (k, st) for k in svcs + edges for st in stats]
	ws = [w for g in groups.values() for w in g]
	windows = range(min(ws), max(ws) + step, step)

	rows = list(csv.reader(open(sys.argv[2], newline="")))
	bad = 0
	def fail(msg):
	    global bad
	    bad += 1
	    if bad <= 20:
	        print(msg)
	if rows[0] != ["timestamp"] + cols:
	    fail("header: %s\nexpected: %s" % (rows[0], ["timestamp"] + cols))
	if len(rows) - 1 != len(windows):
	    fail("%d rows, expected %d" % (len(rows) - 1, len(windows)))
	exact = inexact = 0
	for row, w in zip(rows[1:], windows):
	    ts = datetime.datetime.fromtimestamp(w / 1000, datetime.timezone.utc)
	    if row[0] != ts.strftime("%Y-%m-%dT%H:%M:%SZ"):
	        fail("timestamp %s, expected %s" % (row[0], ts))
	    for j, k in enumerate(svcs + edges):
	        g = groups[k].get(w, [])
	        d = np.array([x[0] for x in g])
	        want = [len(g)] + ([sum(x[1] for x in g) / len(g), np.mean(d)] +
	                           list(np.percentile(d, [50, 95, 99])) if g else [None] * 5)
	        for i, v in enumerate(want):
	            got = row[1 + 6 * j + i]
	            name = "%s %s" % (row[0], cols[6 * j + i])
	            if v is None:
	                if got != "":
	                    fail("%s: %s, expected missing" % (name, got))
	            elif got == "" or (stats[i] == "lat_mean" and
	                               abs(float(got) - v) > 1e-9 * max(1, abs(v))):
	                fail("%s: %s, expected %r" % (name, got, v))
	            elif stats[i] != "lat_mean" and float(got) != v:
	                # counts, error rates (one division) and percentiles (numpy linear
	                # interpolation, reproduced operation by operation) are exact
	                fail("%s: %s, expected exactly %r" % (name, got, v))
	print("%d spans, %d columns, %d windows, %d differences" %
	      (len(spans), len(cols), len(windows), bad))
	sys.exit(1 if bad else 0)
	EOF
	cp "$TESTDATA"/traces-demo.csv "$TESTDATA"/traces-demo.jsonl \
	   "$TESTDATA"/traces-demo.otlp.json .
'

for fmt in csv jsonl otlp
do
	case $fmt in
	otlp) file=traces-demo.otlp.json ;;
	*) file=traces-demo.$fmt ;;
	esac
	test_expect_success NUMPY "$fmt: every cell agrees with the reference computed in Python" "
		aiops-ingest -q --traces --trace-format $fmt --step 1m -O csv $file >out.$fmt &&
		\"\$PYTHON\" ref.py 60000 out.$fmt $fmt:$file >report &&
		cat report &&
		test_grep '^289 spans, 72 columns, 10 windows, 0 differences\$' report
	"
	test_expect_success NUMPY "$fmt: auto-detected, the same output" "
		aiops-ingest -q --traces --step 1m -O csv $file >auto.$fmt &&
		test_cmp out.$fmt auto.$fmt
	"
done

test_expect_success NUMPY 'the three formats give the same table' '
	test_cmp out.csv out.jsonl &&
	test_cmp out.csv out.otlp
'

test_expect_success NUMPY 'the default step is one minute' '
	aiops-ingest -q --traces -O csv traces-demo.csv >default &&
	test_cmp out.csv default
'

test_expect_success NUMPY 'another step: 2m windows, then 45s windows (not aligned to minutes)' '
	aiops-ingest -q --traces --step 2m -O csv traces-demo.jsonl >out2m &&
	"$PYTHON" ref.py 120000 out2m jsonl:traces-demo.jsonl >report &&
	test_grep " 5 windows, 0 differences\$" report &&
	aiops-ingest -q --traces --step 45s -O csv traces-demo.otlp.json >out45 &&
	"$PYTHON" ref.py 45000 out45 otlp:traces-demo.otlp.json >report &&
	test_grep " 0 differences\$" report
'

test_expect_success NUMPY 'what the generator put in: the incident and the empty window' '
	"$PYTHON" - out.csv >report <<-\EOF &&
	import csv, sys
	rows = list(csv.DictReader(open(sys.argv[1])))
	err = [float(r["edge.checkout>payment.error_rate"] or 0) for r in rows]
	lat = [float(r["svc.payment.lat_p50"] or 0) for r in rows]
	assert [e > 0.2 for e in err] == [i in (3, 4) for i in range(10)], err
	assert min(lat[3], lat[4]) > 3 * max(lat[i] for i in (0, 1, 2, 5, 7, 8, 9)), lat
	empty = rows[6]
	assert all(empty[c] == "0" for c in empty if c.endswith(".calls")), empty
	assert all(empty[c] == "" for c in empty if c != "timestamp" and not c.endswith(".calls"))
	assert "edge.checkout>checkout.calls" in rows[0]
	print("ok")
	EOF
	test_grep "^ok\$" report
'

test_expect_success NUMPY 'parents in a later file: split in two, children first' '
	head -n 1 traces-demo.csv >h.csv &&
	{ cat h.csv && grep -v "^trace_id" traces-demo.csv | grep -v ",,frontend," ; } >children.csv &&
	{ cat h.csv && grep ",,frontend," traces-demo.csv ; } >roots.csv &&
	aiops-ingest -q --traces --step 1m -O csv children.csv roots.csv >split &&
	test_cmp out.csv split
'

test_expect_success NUMPY 'compressed input and standard input' '
	gzip -c traces-demo.otlp.json >t.json.gz &&
	aiops-ingest -q --traces --step 1m -O csv t.json.gz >gz &&
	test_cmp out.csv gz &&
	aiops-ingest -q --traces --step 1m -O csv - <traces-demo.jsonl >stdin &&
	test_cmp out.csv stdin
'

test_expect_success 'a tensor output with -o is written whole' '
	aiops-ingest -q --traces --step 1m -o t.tensor traces-demo.csv &&
	aiops-ingest --info t.tensor >info &&
	test_grep "svc.payment.lat_p99" info &&
	test_grep "edge.frontend>cart.calls" info
'

test_expect_success 'hand-made spans: the numbers worked out by hand' '
	cat >hand.csv <<-\EOF &&
	trace_id,span_id,parent_id,service,operation,start,duration,status
	t,b,a,B,x,2024-01-01T00:00:30Z,4,ERROR
	t,a,,A,x,2024-01-01T00:00:10Z,10,
	t,c,a,B,x,2024-01-01T00:02:00Z,6,200
	u,d,,A,x,2024-01-01T00:00:59.999Z,20,503
	EOF
	cat >expect <<-\EOF &&
	timestamp,svc.A.calls,svc.A.error_rate,svc.A.lat_mean,svc.A.lat_p50,svc.A.lat_p95,svc.A.lat_p99,svc.B.calls,svc.B.error_rate,svc.B.lat_mean,svc.B.lat_p50,svc.B.lat_p95,svc.B.lat_p99,edge.A>B.calls,edge.A>B.error_rate,edge.A>B.lat_mean,edge.A>B.lat_p50,edge.A>B.lat_p95,edge.A>B.lat_p99
	2024-01-01T00:00:00Z,2,0.5,15,15,19.5,19.9,1,1,4,4,4,4,1,1,4,4,4,4
	2024-01-01T00:01:00Z,0,,,,,,0,,,,,,0,,,,,
	2024-01-01T00:02:00Z,0,,,,,,1,0,6,6,6,6,1,0,6,6,6,6
	EOF
	aiops-ingest -q --traces --step 1m -O csv hand.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'JSON lines: a missing field names the line and the field' '
	cat >m.jsonl <<-\EOF &&
	{"trace_id":"t","span_id":"a","service":"A","start":1,"duration":2}
	{"trace_id":"t","span_id":"b","start":1,"duration":2}
	EOF
	fails_cleanly_o aiops-ingest 1 m.tensor --traces --step 1s m.jsonl &&
	echo "aiops-ingest: m.jsonl:2: missing field \"service\"" >expect &&
	test_cmp expect err
'

test_expect_success 'JSON lines: malformed JSON names line and column' '
	cat >j.jsonl <<-\EOF &&
	{"trace_id":"t","span_id":"a","service":"A","start":1,"duration":2}

	{"trace_id":"t","span_id":"b","service":"A","start":1,"duration":}
	EOF
	fails_cleanly_o aiops-ingest 1 j.tensor --traces --step 1s j.jsonl &&
	echo "aiops-ingest: j.jsonl:3:66: invalid JSON: unexpected token near '"'"'}'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'OTLP: a span without an id names the document and the span' '
	sed -e "s/\"spanId\":\"[0-9a-f]*\",//5" traces-demo.otlp.json >o.json &&
	fails_cleanly_o aiops-ingest 1 o.tensor --traces --step 1m o.json &&
	test_grep "^aiops-ingest: o.json:1: resourceSpans\[[0-9]*\]\.scopeSpans\[0\]\.spans\[[0-9]*\]: missing field \"spanId\"\$" err
'

test_expect_success 'CSV: a missing column, a bad duration' '
	printf "trace_id,span_id,start,duration\nt,a,1,2\n" >nc.csv &&
	fails_cleanly_o aiops-ingest 1 nc.tensor --traces --step 1s nc.csv &&
	echo "aiops-ingest: nc.csv:1: missing column \"service\"" >expect &&
	test_cmp expect err &&
	fails_cleanly_o aiops-ingest 1 nc.tensor --traces --step 1s --skip-bad nc.csv &&
	test_cmp expect err &&
	printf "trace_id,span_id,service,start,duration\nt,a,A,1,2\nt,b,A,1,fast\n" >bd.csv &&
	fails_cleanly_o aiops-ingest 1 bd.tensor --traces --step 1s bd.csv &&
	echo "aiops-ingest: bd.csv:3:9: field \"duration\": expected milliseconds (a number >= 0), got \"fast\"" >expect &&
	test_cmp expect err
'

test_expect_success 'the format given wins over the contents' '
	test_must_fail aiops-ingest --traces --trace-format csv --step 1m -O csv traces-demo.jsonl >out 2>err &&
	test_grep "^aiops-ingest: traces-demo.jsonl:1:57: unexpected character after closing quote\$" err &&
	test_must_fail aiops-ingest --traces --trace-format otlp --step 1m -O csv traces-demo.jsonl >out 2>err &&
	test_grep "^aiops-ingest: traces-demo.jsonl:1: expected a \"resourceSpans\" array, got none\$" err
'

test_expect_success NUMPY '--skip-bad: bad spans counted, the first reported, the rest aggregated' '
	{
		cat traces-demo.jsonl &&
		echo "{\"trace_id\":\"x\",\"span_id\":\"1\",\"service\":\"cart\",\"start\":1704103200000}" &&
		echo "not json" &&
		sed -n 1p traces-demo.jsonl
	} >sk.jsonl &&
	test_must_fail aiops-ingest --traces --step 1m -O csv sk.jsonl >out 2>err &&
	test_grep "^aiops-ingest: sk.jsonl:290: missing field \"duration\"\$" err &&
	aiops-ingest --traces --skip-bad --step 1m -O csv sk.jsonl >sk.out 2>err &&
	test_grep "warning: skipped 3 bad .*(first: sk.jsonl:290: missing field \"duration\")" err &&
	test_cmp out.jsonl sk.out
'

test_expect_success 'an unknown --trace-format is a usage error' '
	test_expect_code 2 aiops-ingest --traces --trace-format xml --step 1m traces-demo.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "xml" err
'

test_expect_success 'spans too far apart for the step: a limit, not a huge allocation' '
	printf "trace_id,span_id,service,start,duration\nt,a,A,0,1\nt,b,A,2000-01-01,1\n" >far.csv &&
	fails_cleanly_o aiops-ingest 1 far.tensor --traces --step 1ms far.csv &&
	test_grep "more than 10000000 cells; use a larger step" err
'

test_done
