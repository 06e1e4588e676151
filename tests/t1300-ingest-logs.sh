#!/bin/sh
# t1300: aiops-ingest --logs end to end on testdata/logs-demo.log (written by
# scripts/gen-logs.py with its true templates): the per-line grouping against the
# truth, the per-window template and level counts against python, line ends,
# --templates across runs, bad lines and times, option checks, atomic outputs,
# and --join of the log tensor with the metrics one.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: logs, templates and joining'
. "$(dirname "$0")/lib.sh"


F='<Date> <Time> <Level> <Component>: <Content>'
LOG=$TESTDATA/logs-demo.log
TRUTH=$TESTDATA/logs-demo.truth.csv

# logs ARG...: aiops-ingest --logs with the demo's header format
logs () {
	aiops-ingest --logs --log-format "$F" "$@"
}

test_expect_success PYTHON3 'setup: the reference scripts' '
	cat >ga.py <<-\EOF &&
	# ga.py TRUTH LINES: grouping accuracy (Zhu et al., ICSE-SEIP 2019: a line is
	# right when its group holds exactly the lines of its true group); also
	# that the ids and the templates are the true ones. Exit 0 iff all hold.
	import csv, sys
	def read(path, idcol, tcol):
        rows = list(csv.DictReader(open(path, newline="")))
        return [(int(r["LineId"]), r[idcol], r[tcol]) for r in rows]
	truth = read(sys.argv[1], "EventId", "TrueTemplate")
	got = read(sys.argv[2], "EventId", "EventTemplate")
	assert [r[0] for r in got] == [r[0] for r in truth], "LineIds differ"
	def groups(rows):
        g = {}
        for lid, ev, _ in rows:
            g.setdefault(ev, set()).add(lid)
        return g
	tg, pg = groups(truth), groups(got)
	right = sum(1 for t, p in zip(truth, got) if tg[t[1]] == pg[p[1]])
	ga = right / len(truth)
	ids = sum(1 for t, p in zip(truth, got) if t[1] == p[1])
	tmpl = sum(1 for t, p in zip(truth, got) if t[2] == p[2])
	print("GA %.6f ids %d/%d templates %d/%d" % (ga, ids, len(truth), tmpl, len(truth)))
	sys.exit(0 if ga == 1.0 and ids == len(truth) and tmpl == len(truth) else 1)
	EOF
	cat >counts.py <<-\EOF &&
	# counts.py LOG TRUTH STEP_S TENSOR_CSV: the per-window counts of every true
	# template and level, read from the log with a regular expression and the
	# truth file, against the tool output (-O csv). Exit 0 iff they are equal.
	import calendar, csv, datetime, re, sys
	log, truth, step, out = sys.argv[1], sys.argv[2], int(sys.argv[3]) * 1000, sys.argv[4]
	ev = [r["EventId"] for r in csv.DictReader(open(truth, newline=""))]
	pat = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})\s+(\w+)\s+([^ :]+): (.*)$")
	want, i = {}, 0
	for raw in open(log, "rb").read().split(b"\n"):
        line = raw.decode().rstrip("\r \t")
        if not line:
            continue
        m = pat.match(line)
        assert m, line
        t = datetime.datetime.strptime(m.group(1) + " " + m.group(2), "%Y-%m-%d %H:%M:%S.%f")
        ms = calendar.timegm(t.timetuple()) * 1000 + t.microsecond // 1000
        w = ms // step * step
        for col in (ev[i], "level." + m.group(3)):
            want[(w, col)] = want.get((w, col), 0) + 1
        i += 1
	assert i == len(ev), "the truth has %d lines, the log %d" % (len(ev), i)
	rows = list(csv.reader(open(out, newline="")))
	head, body = rows[0], rows[1:]
	def order(c):
        return (0, int(c[1:]), "") if c.startswith("E") else (1, 0, c)
	cols = sorted({c for _, c in want}, key=order)
	ecols = [c for c in cols if c.startswith("E")]
	assert head[0] == "timestamp", head
	assert head[1:1 + len(ecols)] == ecols, "template columns %s, expected %s" % (head, ecols)
	assert sorted(head[1:]) == sorted(cols), "columns %s, expected %s" % (head, cols)
	wins = sorted({w for w, _ in want})
	grid = list(range(wins[0], wins[-1] + step, step))
	def iso(ms):
        t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
	assert [r[0] for r in body] == [iso(w) for w in grid], "the rows are not the windows"
	bad = 0
	for w, r in zip(grid, body):
        for c, v in zip(head[1:], r[1:]):
            if float(v) != want.get((w, c), 0):
                bad += 1
                if bad < 5:
                    print("%s %s: got %s, expected %d" % (iso(w), c, v, want.get((w, c), 0)))
	print("%d windows, %d columns, %d lines, %d cells differ" % (len(grid), len(cols), i, bad))
	sys.exit(1 if bad else 0)
	EOF
	cat >joined.py <<-\EOF &&
	# joined.py METRICS_CSV LOGS_CSV JOINED_CSV STEP_S: the joined rows are one grid
	# from the first to the last timestamp of the inputs; every column is its
	# input column prefixed by the modality with the same value at the same
	# timestamp (missing where that input has no row); the labels are the
	# metrics labels. Exit 0 iff all hold.
	import csv, datetime, math, sys
	def read(p):
        rows = list(csv.reader(open(p, newline="")))
        return rows[0], {r[0]: r[1:] for r in rows[1:]}
	mh, m = read(sys.argv[1])
	lh, l = read(sys.argv[2])
	jh, j = read(sys.argv[3])
	step = int(sys.argv[4])
	assert mh[-1] == "label" and jh[-1] == "label", (mh[-1], jh[-1])
	want = ["timestamp"] + ["metrics." + c for c in mh[1:-1]] + ["logs." + c for c in lh[1:]] + ["label"]
	assert jh == want, "columns %s, expected %s" % (jh, want)
	def t(s):
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
	ts = sorted(set(m) | set(l), key=t)
	first, last = t(ts[0]), t(ts[-1])
	grid = []
	while first <= last:
        grid.append(first.strftime("%Y-%m-%dT%H:%M:%SZ"))
        first += datetime.timedelta(seconds=step)
	jrows = list(csv.reader(open(sys.argv[3], newline="")))[1:]
	assert [r[0] for r in jrows] == grid, "the rows are not one grid"
	def same(a, b):
        if a == "" or b == "":
            return a == b
        return float(a) == float(b)
	nm, nl, bad = len(mh) - 2, len(lh) - 1, 0
	for s in grid:
        r = j[s]
        mv = m.get(s, [""] * (nm + 1))
        lv = l.get(s, [""] * nl)
        for k in range(nm):
            bad += not same(r[k], mv[k])
        for k in range(nl):
            bad += not same(r[nm + k], lv[k])
        bad += r[-1] != (mv[-1] if s in m else "0")
	print("%d rows, %d metrics and %d logs columns, %d with logs, %d labelled, %d cells differ" %
          (len(grid), nm, nl, sum(1 for s in grid if s in l), sum(1 for s in grid if j[s][-1] == "1"), bad))
	sys.exit(1 if bad else 0)
	EOF
	"$PYTHON" -c "import ast; [ast.parse(open(f).read()) for f in (\"ga.py\", \"counts.py\", \"joined.py\")]"
'

test_expect_success PYTHON3 'the demo log and its truth are what scripts/gen-logs.py writes' '
	mkdir gen &&
	"$PYTHON" "$TOP/scripts/gen-logs.py" gen &&
	cmp gen/logs-demo.log "$LOG" &&
	cmp gen/logs-demo.truth.csv "$TRUTH" &&
	test $(wc -c <"$LOG") -lt 300000 &&
	test_grep "$(printf "\r\$")" "$LOG" &&
	test_grep "^ *\$" "$LOG"
'

test_expect_success PYTHON3 '--lines groups every line as the truth (GA 1.0), with the true templates' '
	logs --lines lines.csv --templates tpl.csv -O csv "$LOG" >t1.csv 2>err &&
	test_grep "^aiops-ingest: 2197 lines, 8 templates (8 new)\$" err &&
	"$PYTHON" ga.py "$TRUTH" lines.csv >ga.out &&
	cat ga.out &&
	test_grep "^GA 1.000000 ids 2197/2197 templates 2197/2197\$" ga.out
'

test_expect_success PYTHON3 'the template dictionary is the true templates with their counts' '
	"$PYTHON" -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline=\"\")))
order, count = [], {}
for r in rows:
    if r[\"EventId\"] not in count:
        order.append((r[\"EventId\"], r[\"TrueTemplate\"]))
        count[r[\"EventId\"]] = 0
    count[r[\"EventId\"]] += 1
w = csv.writer(sys.stdout, lineterminator=\"\n\")
w.writerow([\"EventId\", \"EventTemplate\", \"Occurrences\"])
for ev, t in order:
    w.writerow([ev, t, count[ev]])
" "$TRUTH" >expect &&
	test_cmp expect tpl.csv
'

test_expect_success PYTHON3 'per-window template and level counts, --step 1m' '
	"$PYTHON" counts.py "$LOG" "$TRUTH" 60 t1.csv
'

test_expect_success PYTHON3 'per-window template and level counts, --step 5m' '
	logs -q -O csv --step 5m "$LOG" >t5.csv &&
	"$PYTHON" counts.py "$LOG" "$TRUTH" 300 t5.csv &&
	test_line_count = 13 t5.csv
'

test_expect_success 'a log tensor: 60 rows of one minute, modality logs, counts summed' '
	logs -q -o l.tensor "$LOG" &&
	aiops-ingest --info l.tensor >info &&
	test_grep "\"rows\": 60," info &&
	test_grep "\"modality\": \"logs\"" info &&
	test_grep "\"step_ms\": 60000" info &&
	test_grep "\"agg\": \"sum\"" info &&
	aiops-ingest -O csv l.tensor >l.csv &&
	test_cmp t1.csv l.csv
'

test_expect_success PYTHON3 'the incident (10:00 to 10:30) has more error lines than the rest' '
	"$PYTHON" -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
inc = [float(r[\"level.ERROR\"]) for r in rows if \"T10:00\" <= r[\"timestamp\"][10:] < \"T10:30\"]
out = [float(r[\"level.ERROR\"]) for r in rows if not \"T10:00\" <= r[\"timestamp\"][10:] < \"T10:30\"]
print(sum(inc) / len(inc), sum(out) / len(out))
sys.exit(0 if len(inc) == 30 and sum(inc) / len(inc) > 5 * sum(out) / len(out) else 1)
" t1.csv
'

test_expect_success PYTHON3 'CRLF line ends, a carriage return as a blank, no final line end' '
	"$PYTHON" -c "
import sys
data = open(sys.argv[1], \"rb\").read()
lines = data.split(b\"\n\")
open(\"crlf.log\", \"wb\").write(b\"\r\n\".join(lines))
cr = [l.replace(b\" \", b\"\r\") if i % 5 == 0 else l for i, l in enumerate(lines)]
open(\"cr.log\", \"wb\").write(b\"\n\".join(cr))
open(\"noeol.log\", \"wb\").write(data.rstrip(b\"\n\"))
" "$LOG" &&
	test $(tr -cd "\r" <crlf.log | wc -c) -gt 2197 &&
	for f in crlf cr noeol
	do
		logs -q --lines $f.lines -O csv $f.log >$f.csv &&
		test_cmp lines.csv $f.lines &&
		test_cmp t1.csv $f.csv || return 1
	done
'

test_expect_success 'gzip and standard input read the same' '
	gzip -c "$LOG" >demo.log.gz &&
	logs -q --lines gz.lines -O csv demo.log.gz >gz.csv &&
	test_cmp lines.csv gz.lines &&
	test_cmp t1.csv gz.csv &&
	logs -q -O csv <"$LOG" >stdin.csv &&
	test_cmp t1.csv stdin.csv
'

test_expect_success PYTHON3 'lines out of time order count in their own window' '
	"$PYTHON" -c "
import random, sys
lines = [l for l in open(sys.argv[1], newline=\"\").read().split(\"\n\") if l.strip()]
random.Random(7).shuffle(lines)
open(\"shuf.log\", \"w\", newline=\"\").write(\"\n\".join(lines) + \"\n\")
" "$LOG" &&
	cp tpl.csv shuf-tpl.csv &&
	logs -q --templates shuf-tpl.csv -O csv shuf.log >shuf.csv &&
	head -n 1 t1.csv | tr , "\n" | sort >cols.expect &&
	head -n 1 shuf.csv | tr , "\n" | sort >cols.actual &&
	test_cmp cols.expect cols.actual &&
	"$PYTHON" -c "
import csv, sys
a = {r[\"timestamp\"]: r for r in csv.DictReader(open(sys.argv[1]))}
b = {r[\"timestamp\"]: r for r in csv.DictReader(open(sys.argv[2]))}
sys.exit(0 if a == b else 1)
" t1.csv shuf.csv
'

test_expect_success PYTHON3 '--templates: a second run keeps the ids and appends new templates' '
	head -n 1000 "$LOG" | grep -v " Disk " >h1.log &&
	tail -n +1001 "$LOG" >h2.log &&
	logs --templates run.csv -O csv h1.log >r1.csv 2>err1 &&
	test_grep "^aiops-ingest: [0-9]* lines, 7 templates (7 new)\$" err1 &&
	cp run.csv run1.csv &&
	test_line_count = 8 run1.csv &&
	logs --templates run.csv --lines r2.lines -O csv h2.log >r2.csv 2>err2 &&
	test_grep "8 templates (1 new)" err2 &&
	test_line_count = 9 run.csv &&
	sed -e "s/,[0-9]*\$//" run1.csv >old &&
	head -n 8 run.csv | sed -e "s/,[0-9]*\$//" >new &&
	test_cmp old new &&
	test_grep "^E8,\"Disk <\*> I/O error on sector <\*>, remounting read-only\"," run.csv &&
	echo timestamp,E1,E2,E3,E4,E5,E6,E7 >expect &&
	head -n 1 r1.csv | cut -d, -f1-8 >actual &&
	test_cmp expect actual &&
	echo timestamp,E1,E2,E3,E4,E5,E6,E7,E8 >expect &&
	head -n 1 r2.csv | cut -d, -f1-9 >actual &&
	test_cmp expect actual &&
	"$PYTHON" -c "
import csv, sys
truth = {int(t[\"LineId\"]): t for t in csv.DictReader(open(sys.argv[1]))}
got = list(csv.DictReader(open(sys.argv[2])))
# the second run numbers its lines from 1: its line k is line 1000 + k of the log
bad = [g for g in got if g[\"EventId\"] != truth[1000 + int(g[\"LineId\"])][\"EventId\"]]
print(len(got), \"lines,\", len(bad), \"with another id than in one run\")
sys.exit(1 if bad or len(got) != sum(1 for i in truth if i > 1000) else 0)
" "$TRUTH" r2.lines "$LOG"
'

test_expect_success '--templates without a Level field: the new template is the last column' '
	cat >a.log <<-\EOF &&
	2024-01-01 10:00:01 app: open file /a/b
	2024-01-01 10:00:02 app: closed 3 handles
	2024-01-01 10:01:30 app: open file /c
	EOF
	cat >b.log <<-\EOF &&
	2024-01-01 10:05:00 app: closed 7 handles
	2024-01-01 10:05:10 app: retry in 5 s
	2024-01-01 10:06:00 app: open file /d
	2024-01-01 10:06:01 app: retry in 9 s
	EOF
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--templates ab.csv -O csv a.log >a.csv &&
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--templates ab.csv -O csv b.log >b.csv &&
	cat >expect <<-\EOF &&
	timestamp,E1,E2
	2024-01-01T10:00:00Z,1,1
	2024-01-01T10:01:00Z,1,0
	EOF
	test_cmp expect a.csv &&
	cat >expect <<-\EOF &&
	timestamp,E1,E2,E3
	2024-01-01T10:05:00Z,0,1,1
	2024-01-01T10:06:00Z,1,0,1
	EOF
	test_cmp expect b.csv &&
	cat >expect <<-\EOF &&
	EventId,EventTemplate,Occurrences
	E1,open file <*>,3
	E2,closed <*> handles,2
	E3,retry in <*> s,2
	EOF
	test_cmp expect ab.csv
'

test_expect_success 'a template file that is not one: status 1, nothing written' '
	printf "a,b\n1,2\n" >notpl.csv &&
	cp notpl.csv notpl.orig &&
	fails_cleanly_o aiops-ingest 1 nt.tensor --logs --log-format "$F" \
		--templates notpl.csv --lines nt.lines "$LOG" &&
	echo "aiops-ingest: notpl.csv:1: not a template file (expected the header EventId,EventTemplate)" >expect &&
	test_cmp expect err &&
	test_path_is_missing nt.lines &&
	no_tmp nt.lines &&
	test_cmp notpl.orig notpl.csv &&
	printf "EventId,EventTemplate,Occurrences\nE1,x <*>,1\nE3,y,1\n" >gap.csv &&
	fails_cleanly_o aiops-ingest 1 nt.tensor --logs --log-format "$F" --templates gap.csv "$LOG" &&
	echo "aiops-ingest: gap.csv:3:1: expected EventId E2" >expect &&
	test_cmp expect err &&
	: >empty.csv &&
	aiops-ingest -q --logs --log-format "$F" --templates empty.csv -o et.tensor "$LOG" &&
	test_line_count = 9 empty.csv
'

test_expect_success 'a line that does not match the format: file:line:col, status 1, nothing written' '
	head -n 4 "$LOG" >bad.log &&
	echo "garbage without a colon" >>bad.log &&
	sed -n -e "5,10p" "$LOG" >>bad.log &&
	fails_cleanly_o aiops-ingest 1 bad.tensor --logs --log-format "$F" \
		--lines bad.lines --templates bad-tpl.csv bad.log &&
	echo "aiops-ingest: bad.log:5:19: line does not match the log format: \"garbage without a colon\"" >expect &&
	test_cmp expect err &&
	test_path_is_missing bad.lines &&
	test_path_is_missing bad-tpl.csv
'

test_expect_success '--skip-bad counts and reports bad lines' '
	echo "and another bad one" >>bad.log &&
	logs --skip-bad -O csv bad.log >skip.csv 2>err &&
	echo "aiops-ingest: warning: skipped 2 bad lines (first: bad.log:5:19: line does not match the log format: \"garbage without a colon\")" >expect &&
	grep "warning: skipped" err >actual &&
	test_cmp expect actual &&
	test_grep "^aiops-ingest: 10 lines, " err &&
	head -n 10 "$LOG" >good10.log &&
	logs -q -O csv good10.log >expect &&
	test_cmp expect skip.csv
'

test_expect_success 'an unreadable time names the place' '
	head -n 2 "$LOG" >badt.log &&
	echo "2024-13-01 10:00:00.000 INFO  a.B: x 1" >>badt.log &&
	fails_cleanly_o aiops-ingest 1 badt.tensor --logs --log-format "$F" badt.log &&
	echo "aiops-ingest: badt.log:3:1: cannot read a time from \"2024-13-01 10:00:00.000\"" >expect &&
	test_cmp expect err &&
	echo "2024-01-01 noon INFO  a.B: x 2" >>badt.log &&
	logs --skip-bad -O csv badt.log >out 2>err &&
	test_grep "skipped 2 bad lines (first: badt.log:3:1: cannot read a time" err
'

test_expect_success '--sim and --depth are checked: status 2, nothing written' '
	for a in "--sim 1.5" "--sim -0.1" "--sim abc" "--sim=" "--sim nan"
	do
		fails_cleanly_o aiops-ingest 2 v.tensor --logs --log-format "$F" $a "$LOG" &&
		test_grep "^aiops-ingest: --sim: expected a number from 0 to 1, got" err || return 1
	done &&
	for a in 2 65 x 4.5 ""
	do
		fails_cleanly_o aiops-ingest 2 v.tensor --logs --log-format "$F" --depth "$a" "$LOG" &&
		test_grep "^aiops-ingest: --depth: expected a whole number from 3 to 64, got \"$a\"" err ||
		return 1
	done
'

test_expect_success '--sim and --depth change the grouping' '
	cat >sd.log <<-\EOF &&
	2024-01-01 10:00:00 app: alpha beta gamma delta
	2024-01-01 10:00:01 app: alpha beta eps zeta
	2024-01-01 10:00:02 app: one two three four five
	2024-01-01 10:00:03 app: one six three four five
	EOF
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--lines sd.lines -O csv sd.log >/dev/null &&
	cut -d, -f2 sd.lines >actual &&
	test_write_lines EventId E1 E1 E2 E3 >expect &&
	test_cmp expect actual &&
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--sim 0.6 --depth 3 --lines sd.lines -O csv sd.log >/dev/null &&
	cut -d, -f2,3 sd.lines >actual &&
	test_write_lines EventId,EventTemplate "E1,alpha beta gamma delta" \
		"E2,alpha beta eps zeta" "E3,one <*> three four five" "E3,one <*> three four five" >expect &&
	test_cmp expect actual
'

test_expect_success '--mask adds a variable pattern; a bad one is a usage error' '
	cat >m.log <<-\EOF &&
	2024-01-01 10:00:00 auth: session u-abc opened
	2024-01-01 10:00:01 auth: session u-xyz opened
	EOF
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--lines m.lines -O csv m.log >/dev/null &&
	test_write_lines LineId,EventId,EventTemplate "1,E1,session u-abc opened" \
		"2,E2,session u-xyz opened" >expect &&
	test_cmp expect m.lines &&
	aiops-ingest -q --logs --log-format "<Date> <Time> <Component>: <Content>" \
		--mask "u-[a-z]+" --lines m.lines -O csv m.log >/dev/null &&
	test_write_lines LineId,EventId,EventTemplate "1,E1,session <*> opened" \
		"2,E1,session <*> opened" >expect &&
	test_cmp expect m.lines &&
	fails_cleanly_o aiops-ingest 2 m.tensor --logs --log-format "$F" --mask "(" m.log &&
	test_grep "^aiops-ingest: mask \"(\": " err &&
	fails_cleanly_o aiops-ingest 2 m.tensor --logs --log-format "$F" --mask "x*" m.log &&
	echo "aiops-ingest: mask \"x*\" matches the empty string" >expect &&
	test_cmp expect err
'

test_expect_success 'bad formats: no time field, no Content, two fields touching (status 2)' '
	fails_cleanly_o aiops-ingest 2 f.tensor --logs --log-format "<Level> <Content>" "$LOG" &&
	test_grep "^aiops-ingest: log format \"<Level> <Content>\" has no time field" err &&
	fails_cleanly_o aiops-ingest 2 f.tensor --logs "$LOG" &&
	test_grep "^aiops-ingest: log format \"<Content>\" has no time field" err &&
	fails_cleanly_o aiops-ingest 2 f.tensor --logs --log-format "<Date> <Time> <Level>" "$LOG" &&
	test_grep "no <Content> field" err &&
	fails_cleanly_o aiops-ingest 2 f.tensor --logs --log-format "<Date> <Time><Content>" "$LOG" &&
	test_grep "^aiops-ingest: log format:14: two fields with nothing between them" err
'

test_expect_success 'the log options need --logs; --logs excludes --join (status 2)' '
	for a in "--lines x.csv" "--templates x.csv" "--log-format <Content>" "--mask x"
	do
		fails_cleanly_o aiops-ingest 2 o.tensor $a "$TESTDATA/metrics-demo.csv" &&
		test_grep "go with --logs" err || return 1
	done &&
	fails_cleanly_o aiops-ingest 2 o.tensor --logs --join l.tensor l.tensor &&
	test_grep "exclude each other" err &&
	test_path_is_missing x.csv
'

# BUG (lib/logs.c, aiops_logs_read): --lines and --templates are committed inside
# aiops_logs_read(), before the tensor is written, so a run that fails afterwards
# (an output that cannot be created, --select of a missing column) exits 1 but
# leaves the per-line CSV and an updated template dictionary behind.
test_expect_success 'a run failing after the logs are read leaves no --lines nor --templates' '
	fails_cleanly_o aiops-ingest 1 nodir/x.tensor --logs --log-format "$F" \
		--lines late.lines --templates late-tpl.csv "$LOG" &&
	test_path_is_missing late.lines &&
	test_path_is_missing late-tpl.csv &&
	fails_cleanly_o aiops-ingest 1 x.tensor --logs --log-format "$F" --select E99 \
		--lines late.lines --templates late-tpl.csv "$LOG" &&
	test_grep "no column \"E99\"" err &&
	test_path_is_missing late.lines &&
	test_path_is_missing late-tpl.csv
'

# BUG (lib/logs.c, do_line): trailing blanks are cut before the line is split, so
# "... a.B: " (an empty message) loses the blank of the literal ": " and is
# reported as not matching the format; aiops_logfmt_split() alone accepts it.
test_expect_success 'a line with an empty message matches the format' '
	printf "2024-01-01 10:00:00.000 INFO  a.B: \n2024-01-01 10:00:01.000 INFO  a.B: x 1\n" >em.log &&
	logs -q --lines em.lines -O csv em.log >em.csv &&
	test_write_lines LineId,EventId,EventTemplate 1,E1, "2,E2,x <*>" >expect &&
	test_cmp expect em.lines
'

test_expect_success 'the metrics tensor for the join (labelled, --step 1m)' '
	aiops-ingest -q --step 1m --labels "$TESTDATA/metrics-demo.labels" -o m.tensor \
		"$TESTDATA/metrics-demo.csv" &&
	aiops-ingest -O csv m.tensor >m.csv
'

test_expect_success PYTHON3 '--join: metrics. and logs. columns on one grid, values and labels kept' '
	aiops-ingest -q --join -o j.tensor m.tensor l.tensor &&
	aiops-ingest --info j.tensor >info &&
	test_grep "\"has_labels\": true" info &&
	test_grep "\"step_ms\": 60000" info &&
	aiops-ingest -O csv j.tensor >j.csv &&
	"$PYTHON" joined.py m.csv l.csv j.csv 60 >joined.out &&
	cat joined.out &&
	test_grep "^1440 rows, 6 metrics and 11 logs columns, 60 with logs, 53 labelled, 0 cells differ\$" joined.out
'

test_expect_success PYTHON3 '--join with --step 5m: values of a window are averaged' '
	aiops-ingest -q --join --step 5m -O csv m.tensor l.tensor >j5.csv &&
	"$PYTHON" -c "
import csv, sys
j = {r[\"timestamp\"]: r for r in csv.DictReader(open(sys.argv[1]))}
l = [r for r in csv.DictReader(open(sys.argv[2]))]
bad = 0
for r in l:
    ts = r[\"timestamp\"]
    w = ts[:14] + \"%02d\" % (int(ts[14:16]) // 5 * 5) + \":00Z\"
    grp = [x for x in l if x[\"timestamp\"][:14] == ts[:14] and
           int(x[\"timestamp\"][14:16]) // 5 == int(ts[14:16]) // 5]
    for c in r:
        if c != \"timestamp\":
            want = sum(float(x[c]) for x in grp) / len(grp)
            bad += abs(float(j[w][\"logs.\" + c]) - want) > 1e-9 * max(1, want)
print(bad, \"cells differ\")
sys.exit(1 if bad else 0)
" j5.csv l.csv
'

# BUG (lib/ingest.c, read_join): on a duplicate column, v is freed in the loop
# body (aiops_free(v) before the calloc that the error skips) and freed again
# after the loop: a double free (glibc aborts, status 134).
test_expect_success 'a column in two inputs of --join is an error' '
	fails_cleanly_o aiops-ingest 1 dup.tensor --join m.tensor m.tensor &&
	test_grep "^aiops-ingest: m.tensor: column \"metrics.cpu\" is already in an earlier input" err
'

test_done
