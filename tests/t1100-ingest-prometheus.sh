#!/bin/sh
# t1100: aiops-ingest --prom against a real Prometheus server that scrapes itself every second.
# The reference for every value is the server's own query_range reply, fetched with curl and
# read with Python's json module; the server is always stopped, even on failure or a signal.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='aiops-ingest --prom: Prometheus range queries'
. "$(dirname "$0")/lib.sh"

PROMETHEUS=${AIOPS_PROMETHEUS:-/usr/bin/prometheus}
if ! test -x "$PROMETHEUS"
then
	test_skip_all "no Prometheus server ($PROMETHEUS)"
fi
if ! command -v curl >/dev/null 2>&1
then
	test_skip_all 'no curl'
fi

prom_pid=
prom_watch_pid=
prom_port=
prom_url=

# free_port: print a TCP port on 127.0.0.1 that nobody listens on right now.
free_port () {
	"$PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
' 2>/dev/null ||
	awk 'BEGIN { srand(); print 20000 + int(rand() * 40000) }'
}

# prom_value QUERY: the value of the first sample of an instant query, empty if none.
prom_value () {
	curl -s --max-time 2 -G --data-urlencode "query=$1" "$prom_url/api/v1/query" |
	sed -n -e 's/.*"value":\[[^],]*,"\([^"]*\)"\].*/\1/p'
}

# stop_prometheus: stop the server and its watchdog, if they run; wait for the server.
stop_prometheus () {
	if test -n "$prom_watch_pid"
	then
		kill "$prom_watch_pid" 2>/dev/null
		wait "$prom_watch_pid" 2>/dev/null
		prom_watch_pid=
	fi
	if test -n "$prom_pid"
	then
		kill "$prom_pid" 2>/dev/null
		stop_n_=0
		while kill -0 "$prom_pid" 2>/dev/null && test $stop_n_ -lt 100
		do
			sleep 0.1
			stop_n_=$((stop_n_ + 1))
		done
		kill -9 "$prom_pid" 2>/dev/null
		wait "$prom_pid" 2>/dev/null
		prom_pid=
	fi
	return 0
}

# An unexpected exit or a signal stops the server too. test_done clears the EXIT trap, so
# the script stops the server itself before it; a watchdog covers the rest (test_done from
# -i, SIGKILL of this shell).
# shellcheck disable=SC2154
trap 'prom_status_=$?; stop_prometheus; (exit $prom_status_); test_exit_trap_' EXIT
trap 'stop_prometheus; exit 130' INT
trap 'stop_prometheus; exit 143' TERM
trap 'stop_prometheus; exit 129' HUP

# start_prometheus: start a server on a free port that scrapes itself every second, and
# wait (30 s at most) until "up" is 1 and at least 10 samples (9 s) of it exist. Sets
# prom_pid, prom_port and prom_url.
start_prometheus () {
	start_deadline_=$(($(date +%s) + 30))
	start_try_=0
	while test $start_try_ -lt 3
	do
		start_try_=$((start_try_ + 1))
		prom_port=$(free_port) &&
		prom_url=http://127.0.0.1:$prom_port &&
		cat >prometheus.yml <<-EOF &&
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: t1100
		    static_configs:
		      - targets: ['127.0.0.1:$prom_port']
		EOF
		rm -rf tsdb || return 1
		"$PROMETHEUS" --config.file=prometheus.yml \
			--storage.tsdb.path="$TRASH_DIRECTORY/tsdb" \
			--web.listen-address="127.0.0.1:$prom_port" \
			</dev/null >prometheus.log 2>&1 7>&- 8>&- &
		prom_pid=$!
		# Stops the server if this shell dies without running its traps.
		(
			script_pid_=$$
			while kill -0 "$script_pid_" 2>/dev/null && kill -0 "$prom_pid" 2>/dev/null
			do
				sleep 1
			done
			kill -0 "$script_pid_" 2>/dev/null || kill "$prom_pid" 2>/dev/null
		) </dev/null >/dev/null 2>&1 7>&- 8>&- &
		prom_watch_pid=$!
		while kill -0 "$prom_pid" 2>/dev/null && test "$(date +%s)" -le $start_deadline_
		do
			if test "$(prom_value up)" = 1 &&
			   test "$(prom_value 'count_over_time(up[1m])')" -ge 10 2>/dev/null
			then
				return 0
			fi
			sleep 0.5
		done
		if kill -0 "$prom_pid" 2>/dev/null
		then
			echo "prometheus on port $prom_port not ready after 30 s" >&2
			cat prometheus.log >&2
			stop_prometheus
			return 1
		fi
		# It died: most likely someone took the port in between; try another.
		echo "prometheus on port $prom_port exited:" >&2
		cat prometheus.log >&2
		stop_prometheus
	done
	return 1
}

test_expect_success 'setup: reference scripts' '
	cat >grid.py <<-\EOF &&
	# grid.py CSV LO_MS HI_MS STEP_MS: the CSV from aiops-ingest has one row per grid
	# point lo + k*step, no gaps, all inside [lo, hi].
	import calendar, csv, sys, time
	lo, hi, step = (int(a) for a in sys.argv[2:5])
	def ms(s):
	    sec, _, frac = s.rstrip("Z").partition(".")
	    t = calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S"))
	    return t * 1000 + (int(frac.ljust(3, "0")) if frac else 0)
	with open(sys.argv[1], newline="") as f:
	    rows = list(csv.reader(f))
	ts = [ms(r[0]) for r in rows[1:]]
	assert ts, "no rows"
	for a, b in zip(ts, ts[1:]):
	    assert b - a == step, "rows %d and %d are %d ms apart" % (a, b, b - a)
	for t in ts:
	    assert lo <= t <= hi, "%d outside [%d, %d]" % (t, lo, hi)
	    assert (t - lo) % step == 0, "%d not on the grid %d + k*%d" % (t, lo, step)
	print("%d rows, %d..%d" % (len(ts), ts[0], ts[-1]))
	EOF
	cat >compare.py <<-\EOF &&
	# compare.py CSV JSON: the CSV from aiops-ingest holds exactly the series and samples of
	# the query_range reply JSON; values must be equal as doubles (tolerance 0).
	import calendar, csv, json, sys, time
	def ms(s):
	    sec, _, frac = s.rstrip("Z").partition(".")
	    t = calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S"))
	    return t * 1000 + (int(frac.ljust(3, "0")) if frac else 0)
	with open(sys.argv[2]) as f:
	    reply = json.load(f)
	assert reply["status"] == "success", reply
	assert reply["data"]["resultType"] == "matrix", reply["data"]["resultType"]
	ref = {}
	for s in reply["data"]["result"]:
	    m = dict(s["metric"])
	    name = m.pop("__name__", "")
	    labels = ",".join("%s=%s" % (k, m[k]) for k in sorted(m))
	    if labels or not name:
	        name += "{" + labels + "}"
	    ref[name] = {int(round(t * 1000)): float(v) for t, v in s["values"]}
	with open(sys.argv[1], newline="") as f:
	    rows = list(csv.reader(f))
	assert rows[0][0] == "timestamp", rows[0]
	cols = rows[0][1:]
	assert sorted(cols) == sorted(ref), "columns %s, reference %s" % (cols, sorted(ref))
	got = {c: {} for c in cols}
	stamps = set()
	for r in rows[1:]:
	    assert len(r) == len(cols) + 1, r
	    t = ms(r[0])
	    stamps.add(t)
	    for c, v in zip(cols, r[1:]):
	        if v != "":
	            got[c][t] = float(v)
	assert stamps == set(t for s in ref.values() for t in s), "timestamps differ"
	n = 0
	for c in cols:
	    for t in sorted(set(got[c]) | set(ref[c])):
	        assert t in got[c], "%s at %d: missing, reference %r" % (c, t, ref[c][t])
	        assert t in ref[c], "%s at %d: %r, reference has none" % (c, t, got[c][t])
	        assert got[c][t] == ref[c][t], "%s at %d: %r, reference %r" % (c, t, got[c][t], ref[c][t])
	        n += 1
	print("%d columns, %d rows, %d values equal" % (len(cols), len(rows) - 1, n))
	EOF
	test_path_is_file grid.py &&
	test_path_is_file compare.py
'

test_expect_success 'a Prometheus server starts and scrapes itself' '
	start_prometheus &&
	test "$(prom_value up)" = 1 &&
	test_set_prereq PROM
'

# query_range URL QUERY START END STEP >JSON: the reference reply, straight from the server.
query_range () {
	curl -s --max-time 10 -G --data-urlencode "query=$2" --data-urlencode "start=$3" \
		--data-urlencode "end=$4" --data-urlencode "step=$5" "$1/api/v1/query_range"
}

# A fixed range of the last few seconds, all of it after the first scrape (start_prometheus
# waited for 10 samples), ending 1 s back so that no new sample can still land in it.
set_range () {
	range_end=$(($(date +%s) - 1)) &&
	range_start=$((range_end - 5))
}

test_expect_success PROM,PYTHON3 'up: one column named up{instance=...,job=...}, all 1, 1 s apart' '
	t0=$(date +%s) &&
	aiops-ingest --prom up --start now-30s --end now --step 1s -O csv "$prom_url" >up.csv &&
	t1=$(date +%s) &&
	echo "timestamp,\"up{instance=127.0.0.1:$prom_port,job=t1100}\"" >expect &&
	head -n 1 up.csv >actual &&
	test_cmp expect actual &&
	sed -e 1d up.csv | cut -d, -f2 | sort -u >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	test_line_count -ge 9 up.csv &&
	"$PYTHON" grid.py up.csv $(((t0 - 30) * 1000)) $((t1 * 1000)) 1000
'

test_expect_success PROM 'a constant column is reported as a warning, -q hides it' '
	aiops-ingest --prom up --start now-10s --end now --step 1s -O csv "$prom_url" \
		>out 2>err &&
	test_grep "^aiops-ingest: warning: 1 constant column: up{instance=127.0.0.1:$prom_port,job=t1100}$" err &&
	aiops-ingest -q --prom up --start now-10s --end now --step 1s -O csv "$prom_url" \
		>out 2>err &&
	test_must_be_empty err
'

test_expect_success PROM,PYTHON3 'several series pivot to several columns equal to query_range' '
	set_range &&
	q="{__name__=~\"up|scrape_duration_seconds|scrape_samples_scraped\"}" &&
	aiops-ingest -q --prom "$q" --start $range_start --end $range_end --step 1s -O csv \
		"$prom_url" >multi.csv &&
	query_range "$prom_url" "$q" $range_start $range_end 1s >multi.json &&
	"$PYTHON" compare.py multi.csv multi.json &&
	head -n 1 multi.csv >header &&
	test_grep -F "\"scrape_duration_seconds{instance=127.0.0.1:$prom_port,job=t1100}\"" header &&
	test_grep -F "\"scrape_samples_scraped{instance=127.0.0.1:$prom_port,job=t1100}\"" header &&
	test_grep -F "\"up{instance=127.0.0.1:$prom_port,job=t1100}\"" header &&
	test_line_count = 7 multi.csv &&
	"$PYTHON" grid.py multi.csv $((range_start * 1000)) $((range_end * 1000)) 1000
'

test_expect_success PROM,PYTHON3 'a counter with many label sets (prometheus_http_requests_total)' '
	set_range &&
	aiops-ingest -q --prom prometheus_http_requests_total --start $range_start \
		--end $range_end --step 1s -O csv "$prom_url" >http.csv &&
	query_range "$prom_url" prometheus_http_requests_total $range_start $range_end 1s \
		>http.json &&
	"$PYTHON" compare.py http.csv http.json >report &&
	cat report &&
	test_grep -F "handler=/metrics," http.csv &&
	test_grep -F "handler=/api/v1/query," http.csv &&
	"$PYTHON" -c "import sys; n = int(open(\"report\").read().split()[0]); sys.exit(n < 2)"
'

test_expect_success PROM,PYTHON3 'a series without __name__ (rate) is named {k=v,...}' '
	set_range &&
	q="rate(prometheus_http_requests_total{handler=\"/metrics\"}[3s])" &&
	aiops-ingest -q --prom "$q" --start $range_start --end $range_end --step 1s -O csv \
		"$prom_url" >rate.csv &&
	query_range "$prom_url" "$q" $range_start $range_end 1s >rate.json &&
	"$PYTHON" compare.py rate.csv rate.json &&
	echo "timestamp,\"{code=200,handler=/metrics,instance=127.0.0.1:$prom_port,job=t1100}\"" >expect &&
	head -n 1 rate.csv >actual &&
	test_cmp expect actual
'

test_expect_success PROM,PYTHON3 'rows lie on the grid start + k*step (2 s step)' '
	set_range &&
	range_start=$((range_start - range_start % 2)) &&
	aiops-ingest -q --prom scrape_duration_seconds --start $range_start --end $range_end \
		--step 2s -O csv "$prom_url" >step2.csv &&
	test_line_count = $(((range_end - range_start) / 2 + 2)) step2.csv &&
	"$PYTHON" grid.py step2.csv $((range_start * 1000)) $((range_end * 1000)) 2000 &&
	query_range "$prom_url" scrape_duration_seconds $range_start $range_end 2 >step2.json &&
	"$PYTHON" compare.py step2.csv step2.json
'

# The man page: "The rows lie on the grid start + k x step", whatever start is.
test_expect_success PROM,PYTHON3 'a --start off the step grid: rows at start + k*step, none before' '
	set_range &&
	range_start=$((range_start - 1 + range_start % 2)) &&
	aiops-ingest -q --prom scrape_duration_seconds --start $range_start --end $range_end \
		--step 2s -O csv "$prom_url" >odd.csv &&
	"$PYTHON" grid.py odd.csv $((range_start * 1000)) $((range_end * 1000)) 2000 &&
	test_line_count = $(((range_end - range_start) / 2 + 2)) odd.csv &&
	query_range "$prom_url" scrape_duration_seconds $range_start $range_end 2 >odd.json &&
	"$PYTHON" compare.py odd.csv odd.json
'

test_expect_success PROM '-o writes the same bytes as stdout, and nothing else' '
	set_range &&
	mkdir okdir &&
	aiops-ingest -q --prom up --start $range_start --end $range_end --step 1s -O csv \
		"$prom_url" >stdout.csv &&
	aiops-ingest -q --prom up --start $range_start --end $range_end --step 1s \
		-o okdir/up.csv "$prom_url" >out &&
	test_must_be_empty out &&
	test_cmp stdout.csv okdir/up.csv &&
	echo up.csv >expect &&
	ls -A okdir >actual &&
	test_cmp expect actual
'

test_expect_success PROM,PYTHON3 '-o tensor: --info shows the series, rows and query' '
	set_range &&
	aiops-ingest -q --prom up --start $range_start --end $range_end --step 1s \
		-o up.tensor "$prom_url" &&
	aiops-ingest --info up.tensor >info.json &&
	"$PYTHON" -c "
import json, sys
i = json.load(open(\"info.json\"))
assert i[\"columns\"] == [\"up{instance=127.0.0.1:$prom_port,job=t1100}\"], i[\"columns\"]
assert i[\"rows\"] == 6, i[\"rows\"]
assert i[\"has_timestamps\"] is True, i
assert i[\"meta\"][\"step_ms\"] == 1000, i[\"meta\"]
"
'

test_expect_success PROM 'a bad query: exit 1, HTTP 400 and bad_data, no output file' '
	mkdir baddir &&
	test_expect_code 1 aiops-ingest --prom "up{" --start now-10s --end now --step 1s \
		-o baddir/out.csv "$prom_url" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: " err &&
	test_grep -F "$prom_url/api/v1/query_range?query=up%7B&" err &&
	test_grep -F "HTTP 400" err &&
	test_grep -F "bad_data" err &&
	test_grep -F "parse error" err &&
	ls -A baddir >actual &&
	test_must_be_empty actual
'

test_expect_success PROM 'a failed run leaves an existing output file as it was' '
	mkdir keepdir &&
	echo "old contents" >keepdir/out.tensor &&
	cp keepdir/out.tensor expect &&
	test_expect_code 1 aiops-ingest --prom "sum(" --start now-10s --end now --step 1s \
		-o keepdir/out.tensor "$prom_url" 2>err &&
	test_grep -F "HTTP 400" err &&
	test_cmp expect keepdir/out.tensor &&
	echo out.tensor >expect &&
	ls -A keepdir >actual &&
	test_cmp expect actual
'

test_expect_success PROM 'a query that matches nothing: exit 1, no output file' '
	mkdir nonedir &&
	test_expect_code 1 aiops-ingest --prom "up{job=\"no-such-job\"}" --start now-10s \
		--end now --step 1s -o nonedir/out.csv "$prom_url" >out 2>err &&
	test_must_be_empty out &&
	test_grep -F "$prom_url" err &&
	test_grep "no samples" err &&
	ls -A nonedir >actual &&
	test_must_be_empty actual
'

test_expect_success PROM 'a wrong path on the server: exit 1, HTTP 404 and the URL' '
	test_expect_code 1 aiops-ingest --prom up --start now-10s --end now --step 1s \
		-o nope.csv "$prom_url/nope" >out 2>err &&
	test_must_be_empty out &&
	test_grep -F "$prom_url/nope/api/v1/query_range?query=up&" err &&
	test_grep -F "HTTP 404" err &&
	test_path_is_missing nope.csv
'

test_expect_success 'an unreachable server: exit 1, the URL in the message, no output file' '
	dead_port=$(free_port) &&
	mkdir deaddir &&
	test_expect_code 1 aiops-ingest --prom up --start now-10s --end now --step 1s \
		-o deaddir/out.csv "http://127.0.0.1:$dead_port" >out 2>err &&
	test_must_be_empty out &&
	test_grep -F "aiops-ingest: http://127.0.0.1:$dead_port/api/v1/query_range?query=up&" err &&
	ls -A deaddir >actual &&
	test_must_be_empty actual
'

test_expect_success PROM 'the server is stopped' '
	stopped_pid=$prom_pid &&
	stop_prometheus &&
	test -z "$prom_pid" &&
	! kill -0 "$stopped_pid" 2>/dev/null
'

stop_prometheus
test_done
