#!/bin/sh
# t8020: pathological inputs end in a clear error or in bounded behaviour, never in an
# out-of-memory kill or a hang: a header of a million columns, lines of 70 MB and 1 GB
# (streamed through a pipe, never stored), gzip and zip bombs, HTTP replies that never end
# or drip (to aiops-ingest's URL and Prometheus inputs and to aiops-push's registry and
# GitLab clients), a long stream through aiops-ingest in flat memory, and a million distinct
# log templates. The limits are those of aiops(7), "Bounded inputs". Peak memory is measured
# with GNU time (%M) and bounded with ulimit -v, neither under the sanitizers (whose shadow
# memory is neither small nor limitable). Every server is started on a free port by this
# script and stopped on exit. Big data goes through pipes; at most ~30 MB goes to disk.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='limits: huge headers and lines, bombs, endless replies, flat-memory streams'
. "$(dirname "$0")/lib.sh"

if ! test_have_prereq PYTHON3
then
	test_skip_all 'no python3'
fi
sane_unset AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD DOCKER_CONFIG CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN \
	AIOPS_GITLAB_TOKEN AIOPS_PUSH_CHUNK_SIZE AIOPS_PUSH_RETRY_TIME
HOME=$TRASH_DIRECTORY
export HOME

# GNU time's %M (peak RSS in KiB) of the command it runs.
test_lazy_prereq GNUTIME '/usr/bin/time -f %M -o t.out true && test -s t.out'
# ulimit -v in this shell; AddressSanitizer reserves terabytes of address space.
test_lazy_prereq VLIMIT 'test -z "${AIOPS_SANITIZE-}" && (ulimit -v 1000000)'
test_lazy_prereq LOGS 'aiops-ingest -h 2>&1 | grep -e --logs'
if test_have_prereq GNUTIME && ! test_have_prereq SANITIZED
then
	test_set_prereq RSS
fi

# rss_below FILE KIB: the peak RSS that GNU time wrote to FILE (its last line; a line
# before it says when the command died by a signal) is below KIB.
rss_below () {
	rb_kb=$(tail -n 1 "$1") &&
	case $rb_kb in ''|*[!0-9]*) echo "no peak RSS in $1" >&2; cat "$1" >&2; return 1 ;; esac &&
	echo "peak RSS $rb_kb KiB (limit $2 KiB)" >&2 &&
	test "$rb_kb" -lt "$2"
}

# timed KIB-FILE CMD...: CMD under GNU time when RSS is measured, else CMD alone.
timed () {
	td_out=$1
	shift
	if test_have_prereq RSS
	then
		/usr/bin/time -f %M -o "$td_out" "$@"
	else
		"$@"
	fi
}

# rss_ok FILE KIB: rss_below when RSS is measured.
rss_ok () {
	if test_have_prereq RSS
	then
		rss_below "$@"
	fi
}

# A million columns --------------------------------------------------------------------

test_expect_success 'a header of a million columns: a result in bounded time and memory, or a clear error' '
	gencsv -H 2 1000000 >wide.csv &&
	{
		timed wide.rss timeout 60 aiops-ingest -O csv -o wide.out wide.csv 2>err
		echo $? >status
	} &&
	case $(cat status) in
	0)
		head -n 1 wide.out | tr , "\\n" >names &&
		test_line_count = 1000000 names &&
		test "$(sed -n -e 1p -e 1000000p names | tr "\\n" " ")" = "m1 m1000000 " &&
		test_line_count = 3 wide.out ;;
	1)
		test_grep "^aiops-ingest: wide.csv:1" err &&
		test_path_is_missing wide.out ;;
	*)
		echo "status $(cat status) (124: still running after 60 s)" >&2 &&
		false ;;
	esac &&
	rss_ok wide.rss 1048576
'
rm -f wide.csv wide.out

test_expect_success 'a million columns without a header: bounded memory, a warning of bounded size' '
	gencsv 2 1000000 | timed nohdr.rss aiops-ingest -O csv - >nohdr.out 2>err &&
	head -n 1 nohdr.out | tr , "\\n" >names &&
	test_line_count = 1000000 names &&
	test_line_count = 3 nohdr.out &&
	rss_ok nohdr.rss 1048576 &&
	{ head -c 999999 /dev/zero | tr "\\0" , && echo; } |
		aiops-ingest -O csv - >const.out 2>err &&
	test_grep "^aiops-ingest: warning: 1000000 constant columns: c1, c2, " err &&
	wc -c <err >errsize &&
	echo "the warning has $(cat errsize) bytes" >&2 &&
	test "$(cat errsize)" -lt 65536
'
rm -f nohdr.out const.out

test_expect_success 'more than 4194304 fields in a line: the line and the limit' '
	{ head -c 5000000 /dev/zero | tr "\\0" , && echo; } |
		test_expect_code 1 aiops-ingest -O csv -o many.csv - 2>err &&
	echo "aiops-ingest: <stdin>:1: more than 4194304 fields" >expect &&
	test_cmp expect err &&
	test_path_is_missing many.csv
'

# Long lines, streamed ----------------------------------------------------------------------

test_expect_success 'a 1 GB line through a pipe: the line and the limit in the error, memory small' '
	{
		{
			printf "a,b\\n1,2\\n" &&
			{ head -c 1000000000 /dev/zero | tr "\\0" 7; } &&
			printf ",1\\n"
		} 2>/dev/null | timed line.rss aiops-ingest -O csv -o line.csv - 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: <stdin>:3: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	test_path_is_missing line.csv &&
	rss_ok line.rss 102400
'

test_expect_success 'a line just over 64 MiB is refused from a pipe as from a file' '
	{
		{
			printf "a,b\\n1,2\\n" &&
			{ head -c 70000000 /dev/zero | tr "\\0" 7; } &&
			printf ",1\\n"
		} 2>/dev/null | timed line.rss aiops-ingest -O csv -o line.csv - 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: <stdin>:3: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	test_path_is_missing line.csv &&
	rss_ok line.rss 102400
'

test_expect_success 'a 1 GB quoted field through a pipe: the record'"'"'s first line and the limit' '
	{
		{
			printf "a,b\\n1,\"" &&
			{ head -c 1000000000 /dev/zero | tr "\\0" x; } &&
			printf "\"\\n"
		} 2>/dev/null | timed quoted.rss aiops-ingest -O csv - >out 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: <stdin>:2: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	rss_ok quoted.rss 102400
'

test_expect_success VLIMIT 'a 1 GB line under ulimit -v 1 GB: the limit, not an allocation failure' '
	(
		ulimit -v 1048576 &&
		{
			printf "a,b\\n1,2\\n" &&
			{ head -c 1000000000 /dev/zero | tr "\\0" 7; } &&
			printf ",1\\n"
		} 2>/dev/null | aiops-ingest -O csv - >out 2>err
		test $? = 1
	) &&
	echo "aiops-ingest: <stdin>:3: record longer than 64 MiB" >expect &&
	test_cmp expect err
'

# Decompression bombs ------------------------------------------------------------------------

test_expect_success 'setup: gzip and zip bombs (a few MB expanding to GBs)' '
	cat >bomb.py <<-\EOF &&
	# bomb.py KIND OUT GIB: a gzip file (gz-line, gz-rows) or a zip (zip-line, member
	# bomb.csv) whose data expands to GIB GiB: "a,b\n1,2\n" and then one endless line of 7s
	# (-line), or "a,b\n" and rows "1,2\n" (-rows). The deflate stream is one 16 MiB chunk
	# compressed once with a full flush (which makes it independent of what precedes it)
	# and repeated. The CRC is left 0, as computing it takes a pass over the gigabytes: a
	# reader must stop long before the end.
	import struct, sys, zlib
	kind, out, gib = sys.argv[1], sys.argv[2], float(sys.argv[3])
	CH = 16 << 20
	rows = kind.endswith("rows")
	head = b"a,b\n" if rows else b"a,b\n1,2\n"
	unit = b"1,2\n" * (CH // 4) if rows else b"7" * CH
	def seg(data):
	    c = zlib.compressobj(9, zlib.DEFLATED, -15)
	    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)
	n = int(gib * (1 << 30)) // CH
	zh, zu = seg(head), seg(unit)
	zend = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
	csize, usize = len(zh) + n * len(zu) + len(zend), len(head) + n * CH
	with open(out, "wb") as f:
	    if kind.startswith("gz"):
	        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
	    else:
	        assert usize < 1 << 32
	        name = b"bomb.csv"
	        f.write(struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0x21, 0, csize, usize,
	                            len(name), 0) + name)
	    f.write(zh)
	    for _ in range(n):
	        f.write(zu)
	    f.write(zend)
	    if kind.startswith("gz"):
	        f.write(struct.pack("<II", 0, usize & 0xffffffff))
	    else:
	        cd = f.tell()
	        f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0x21, 0, csize,
	                            usize, len(name), 0, 0, 0, 0, 0, 0) + name)
	        f.write(struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, f.tell() - cd, cd, 0))
	EOF
	"$PYTHON" bomb.py gz-line line.csv.gz 5 &&
	"$PYTHON" bomb.py gz-rows rows.csv.gz 5 &&
	"$PYTHON" bomb.py zip-line bomb.zip 3.75 &&
	for f in line.csv.gz rows.csv.gz bomb.zip
	do
		test "$(wc -c <$f)" -lt 8000000 || return 1
	done &&
	gzip -dc line.csv.gz 2>/dev/null | head -c 20 >head20 &&
	printf "a,b\\n1,2\\n777777777777" >expect &&
	test_cmp expect head20
'

test_expect_success 'a gzip bomb of one endless line: stopped at the record limit, memory small' '
	{
		timed gz.rss timeout 60 aiops-ingest -O csv -o gz.csv line.csv.gz 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: line.csv.gz:3: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	test_path_is_missing gz.csv &&
	rss_ok gz.rss 102400
'

test_expect_success 'a gzip bomb of rows is streamed in flat memory' '
	timed gzrows.rss aiops-ingest -O csv rows.csv.gz 2>err | head -c 50000000 | wc -c >n &&
	test "$(cat n)" = 50000000 &&
	rss_ok gzrows.rss 65536
'

test_expect_success 'a zip bomb: stopped at the record limit, memory small' '
	{
		timed zip.rss timeout 60 aiops-ingest -O csv -o zip.csv bomb.zip:bomb.csv 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: bomb.zip:bomb.csv:3: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	test_path_is_missing zip.csv &&
	rss_ok zip.rss 102400
'
test_expect_success 'a gzip bomb as a model: stopped at the model file limit (1 GiB)' '
	{
		timed model.rss timeout 120 aiops-eval line.csv.gz 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-eval: line.csv.gz: model larger than 1 GiB, the most read" >expect &&
	test_cmp expect err &&
	rss_ok model.rss 1310720
'
test_expect_success 'a gzip bomb as an interpretation file: stopped at its limit (256 MiB)' '
	aiops-ingest -q -o small.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o small.model small.tensor &&
	{
		timed interp.rss timeout 120 aiops-eval -q --interpretation line.csv.gz \
			small.model small.tensor 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-eval: line.csv.gz: interpretation file larger than 256 MiB, the most read" >expect &&
	test_cmp expect err &&
	rss_ok interp.rss 409600
'
rm -f line.csv.gz rows.csv.gz bomb.zip

# Flat-memory streams ------------------------------------------------------------------------

# The sizes of the CSV streams: 2000 MB to a tensor (500 under the sanitizers), and 400 MB
# (2000 with TEST_LONG) to CSV, whose number formatting is the slow part.
big_mb=2000
test_have_prereq SANITIZED && big_mb=500
csv_mb=400
test_have_prereq EXPENSIVE && csv_mb=2000

test_expect_success "about $big_mb MB of CSV through aiops-ingest to a tensor: flat memory" '
	rows=$((big_mb * 1000000 / 346)) &&
	gencsv -H $rows 38 | timed big.rss aiops-ingest - 2>err | wc -c >n &&
	test_must_be_empty err &&
	test "$(cat n)" -gt $((rows * 38 * 8)) &&
	rss_ok big.rss 65536
'

test_expect_success VLIMIT "about $csv_mb MB of CSV through aiops-ingest -O csv under ulimit -v 1 GB" '
	rows=$((csv_mb * 1000000 / 346)) &&
	(
		ulimit -v 1048576 &&
		gencsv -H $rows 38 | aiops-ingest -O csv - 2>err | wc -l >n
	) &&
	test_must_be_empty err &&
	test "$(cat n)" = $((rows + 1))
'

# Endless and dripping HTTP replies ----------------------------------------------------------

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

test_expect_success 'setup: an HTTP server of endless replies, and an artifact' '
	cat >endless.py <<-\EOF &&
	# endless.py MODE PORTFILE: every request (a body is read first) gets, by MODE:
	#   nonl   200 and an endless line of 7s        rows  200, "a,b\n" and endless rows
	#   hdrs   endless response headers              drip  200, "a,b\n", then 1 byte per 2.5 s
	#   stall  200, "a,b\n", then nothing            s200, s401, s500  that status, endless body
	# A response has no length and is the last on its connection.
	import http.server, os, socketserver, sys, time
	mode, portfile = sys.argv[1], sys.argv[2]
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a):
	        pass
	    def any(self):
	        n = int(self.headers.get("Content-Length") or 0)
	        while n > 0:
	            b = self.rfile.read(min(n, 1 << 20))
	            if not b:
	                break
	            n -= len(b)
	        self.close_connection = True
	        try:
	            if mode == "hdrs":
	                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
	                while True:
	                    self.wfile.write(b"X-Junk: " + b"a" * 1000 + b"\r\n")
	            status = int(mode[1:]) if mode[0] == "s" and mode[1:].isdigit() else 200
	            self.send_response(status)
	            self.send_header("Content-Type", "application/json" if mode[0] == "s" else "text/csv")
	            self.send_header("Connection", "close")
	            self.end_headers()
	            if self.command == "HEAD":
	                return
	            if mode in ("rows", "drip", "stall"):
	                self.wfile.write(b"a,b\n")
	                self.wfile.flush()
	            chunk = {"rows": b"1,2\n" * 16384, "drip": b"1", "stall": b""}.get(mode, b"7" * 65536)
	            while True:
	                self.wfile.write(chunk)
	                if mode in ("drip", "stall"):
	                    self.wfile.flush()
	                    time.sleep(2.5)
	        except OSError:
	            pass
	    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = any
	class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
	    daemon_threads = True
	s = S(("127.0.0.1", 0), H)
	open(portfile + ".tmp", "w").write("%d\n" % s.server_address[1])
	os.rename(portfile + ".tmp", portfile)
	s.serve_forever()
	EOF
	for mode in nonl rows hdrs drip stall s200 s401 s500
	do
		start_bg "$PYTHON" endless.py $mode $mode.port &&
		test -n "$(wait_port_file $mode.port)" || return 1
	done &&
	aiops-ingest -o x.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o m.model x.tensor &&
	aiops-pack -q -V 1.0.0 -o m.tar.gz m.model
'
url () {
	echo "http://127.0.0.1:$(cat "$1.port")$2"
}

test_expect_success 'aiops-ingest: an endless line from a URL stops at the record limit' '
	u=$(url nonl /x.csv) &&
	{
		timed url.rss timeout 60 aiops-ingest -O csv -o url.csv "$u" 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	echo "aiops-ingest: $u:1: record longer than 64 MiB" >expect &&
	test_cmp expect err &&
	test_path_is_missing url.csv &&
	rss_ok url.rss 102400
'

test_expect_success 'aiops-ingest: endless rows from a URL stream in flat memory' '
	timed urlrows.rss aiops-ingest -O csv "$(url rows /x.csv)" 2>err | head -c 50000000 | wc -c >n &&
	test "$(cat n)" = 50000000 &&
	rss_ok urlrows.rss 65536
'

test_expect_success 'aiops-ingest: endless response headers are an error' '
	u=$(url hdrs /x.csv) &&
	test_expect_code 1 timeout 60 aiops-ingest -O csv -o hdrs.csv "$u" 2>err &&
	test_grep "^aiops-ingest: $u: .*header" err &&
	test_path_is_missing hdrs.csv
'

test_expect_success 'aiops-ingest --prom: an endless reply stops at 256 MiB with a message that says so' '
	for mode in s200 s500
	do
		u=$(url $mode "") &&
		{
			timed prom.rss timeout 120 aiops-ingest --prom up --start 0 --end 60 --step 15s \
				-O csv -o prom.csv "$u" 2>err
			echo $? >status
		} &&
		test "$(cat status)" = 1 &&
		test_grep "^aiops-ingest: $u/api/v1/query_range?query=up&.*: the reply is larger than 256 MiB\$" err &&
		test_path_is_missing prom.csv &&
		rss_ok prom.rss 524288 || return 1
	done
'

test_expect_success EXPENSIVE 'aiops-ingest: a dripping or stalled URL ends within the 120 s low-speed limit' '
	for mode in drip stall
	do
		u=$(url $mode /x.csv) &&
		start=$(date +%s) &&
		test_expect_code 1 timeout 200 aiops-ingest -O csv -o drip.csv "$u" 2>err &&
		test $(($(date +%s) - start)) -lt 160 &&
		test_grep "^aiops-ingest: $u: Operation too slow" err &&
		test_path_is_missing drip.csv || return 1
	done
'

AIOPS_PUSH_RETRIES=1
AIOPS_PUSH_RETRY_DELAY=0.05
AIOPS_PUSH_TIMEOUT=2
export AIOPS_PUSH_RETRIES AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_TIMEOUT

test_expect_success 'aiops-push: an endless reply of any status ends with a clear error, status 1' '
	for mode in s200 s401 s500 nonl
	do
		start=$(date +%s) &&
		test_expect_code 1 timeout 20 aiops-push m.tar.gz "oci://127.0.0.1:$(cat $mode.port)/r/m:1" >out 2>err &&
		test $(($(date +%s) - start)) -lt 30 &&
		test_must_be_empty out &&
		test_grep "^aiops-push: 127.0.0.1:$(cat $mode.port): the response is larger than [0-9]* bytes" err ||
		{ echo "mode $mode" >&2; return 1; }
	done
'

test_expect_success 'aiops-push --pull: an endless reply ends with a clear error, no output' '
	test_expect_code 1 timeout 20 aiops-push --pull -o pulled "oci://127.0.0.1:$(cat s200.port)/r/m:1" >out 2>err &&
	test_grep "^aiops-push: 127.0.0.1:$(cat s200.port): the response is larger than" err &&
	test_path_is_missing pulled &&
	no_tmp pulled.pull.tar.gz
'

test_expect_success 'aiops-push: a dripping or stalled registry ends at --timeout' '
	for mode in drip stall
	do
		start=$(date +%s) &&
		test_expect_code 1 timeout 60 aiops-push --retries 0 m.tar.gz "oci://127.0.0.1:$(cat $mode.port)/r/m:1" >out 2>err &&
		test $(($(date +%s) - start)) -lt 15 &&
		test_grep "^aiops-push: 127.0.0.1:$(cat $mode.port): Operation too slow" err || return 1
	done
'

test_expect_success 'aiops-push to GitLab: an endless reply to the upload ends with a clear error' '
	for mode in s200 s401 s500
	do
		test_expect_code 1 env AIOPS_GITLAB_TOKEN=t0k timeout 20 aiops-push --api-url "$(url $mode /api/v4)" \
			--project 42 m.tar.gz gitlab://aiops-model/1.0.0 >out 2>err &&
		test_grep "^aiops-push: PUT aiops-model/1.0.0/m.tar.gz: the response is larger than [0-9]* bytes" err ||
		{ echo "mode $mode" >&2; return 1; }
	done
'

test_expect_success 'every server is stopped' '
	stop_all &&
	test_must_be_empty "$PIDFILE"
'

# A million distinct log templates: past the limit of 100000, an error naming the line.
# Each message has its own four words, so none joins another's template. About a minute
# (the templates of one leaf of the parse tree are compared one by one), hence EXPENSIVE.
test_expect_success LOGS,EXPENSIVE 'a million distinct log templates: the template limit, memory bounded' '
	cat >words.py <<-\EOF &&
	import sys
	L = "abcdefghijklmnopqrstuvwxyz"
	def w(i, k):
	    s = ""
	    for _ in range(5):
	        s += L[i % 26]
	        i //= 26
	    return s + L[k]
	try:
	    for i in range(int(sys.argv[1])):
	        sys.stdout.write("2024-01-01T00:%02d:00 %s %s %s %s\n" %
	                         (i // 20000 % 60, w(i, 0), w(i, 1), w(i, 2), w(i, 3)))
	except BrokenPipeError:
	    pass
	EOF
	{
		"$PYTHON" words.py 1000000 |
			timed logs.rss timeout 600 aiops-ingest --logs --log-format "<Date> <Content>" -O csv -o logs.csv - 2>err
		echo $? >status
	} &&
	test "$(cat status)" = 1 &&
	test_grep "^aiops-ingest: <stdin>:100001: more than 100000 log templates" err &&
	test_path_is_missing logs.csv &&
	rss_ok logs.rss 262144
'

stop_all
test_done
