#!/bin/sh
# t1010: aiops-ingest input sources: gzip, zip and tar members, http:// URLs.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: gzip, archives and URLs'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	cat >cpu.csv <<-\EOF &&
	ts,v
	1,1.5
	2,2.5
	EOF
	cat >mem.csv <<-\EOF &&
	ts,v
	3,3.5
	EOF
	cat >expect.cpu <<-\EOF &&
	timestamp,v
	1970-01-01T00:00:01Z,1.5
	1970-01-01T00:00:02Z,2.5
	EOF
	cat >expect.both <<-\EOF
	timestamp,v
	1970-01-01T00:00:01Z,1.5
	1970-01-01T00:00:02Z,2.5
	1970-01-01T00:00:03Z,3.5
	EOF
'

test_expect_success 'a .gz file is decompressed' '
	gzip -c cpu.csv >cpu.csv.gz &&
	aiops-ingest -O csv cpu.csv.gz >actual &&
	test_cmp expect.cpu actual
'

test_expect_success 'gzip is recognised by its magic bytes, not by the name' '
	cp cpu.csv.gz cpu.data &&
	aiops-ingest -O csv cpu.data >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -O csv - <cpu.csv.gz >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -O csv <cpu.csv.gz >actual &&
	test_cmp expect.cpu actual
'

test_expect_success 'concatenated gzip members are one stream' '
	{
		printf "ts,v\n1,1.5\n" | gzip -c &&
		printf "2,2.5\n" | gzip -c &&
		sed -e 1d mem.csv | gzip -c
	} >multi.gz &&
	aiops-ingest -O csv multi.gz >actual &&
	test_cmp expect.both actual &&
	aiops-ingest -O csv - <multi.gz >actual &&
	test_cmp expect.both actual
'

test_expect_success 'a member boundary inside a line does not split it' '
	{
		printf "ts,v\n1,1." | gzip -c &&
		printf "5\n2,2.5\n" | gzip -c
	} >split.gz &&
	aiops-ingest -O csv split.gz >actual &&
	test_cmp expect.cpu actual
'

test_expect_success 'a gzip-compressed tensor is read' '
	aiops-ingest -o both.tensor cpu.csv mem.csv &&
	gzip -c both.tensor >both.tensor.gz &&
	aiops-ingest -O csv both.tensor.gz >actual &&
	test_cmp expect.both actual
'

test_expect_success 'truncated gzip data is an error' '
	seq 1 5000 | sed -e "1i v" | gzip -c >long.gz &&
	size=$(wc -c <long.gz) &&
	head -c $((size / 2)) long.gz >cut.gz &&
	test_must_fail aiops-ingest -o cut.tensor cut.gz 2>err &&
	test_grep "^aiops-ingest: cut.gz: .*gzip" err &&
	test_path_is_missing cut.tensor
'

test_expect_success PYTHON3 'setup a zip archive' '
	mkdir metrics &&
	cp cpu.csv metrics/cpu.csv &&
	cp mem.csv metrics/mem.csv &&
	echo "not csv" >metrics/README &&
	"$PYTHON" -m zipfile -c data.zip metrics &&
	"$PYTHON" -m zipfile -l data.zip >list &&
	test_grep "metrics/cpu.csv" list &&
	test_grep "metrics/mem.csv" list
'

test_expect_success PYTHON3 'a zip member is read with ARCHIVE:MEMBER' '
	aiops-ingest -O csv data.zip:metrics/cpu.csv >actual &&
	test_cmp expect.cpu actual
'

test_expect_success PYTHON3 'a pattern reads every matching member, concatenated' '
	aiops-ingest -O csv "data.zip:metrics/*.csv" >actual &&
	test_cmp expect.both actual
'

test_expect_success PYTHON3 'matching members are read in archive order, not name order' '
	cat >mkzip.py <<-\EOF &&
	import sys, zipfile
	with zipfile.ZipFile(sys.argv[1], "w") as z:
	    for name in sys.argv[2:]:
	        src, _, arc = name.partition("=")
	        z.write(src, arc)
	EOF
	"$PYTHON" mkzip.py order.zip cpu.csv=m/z.csv mem.csv=m/a.csv &&
	aiops-ingest -O csv "order.zip:m/*.csv" >actual &&
	test_cmp expect.both actual
'

test_expect_success PYTHON3 'a gzip-compressed member is decompressed' '
	"$PYTHON" mkzip.py gz.zip cpu.csv.gz=in/cpu.csv.gz &&
	aiops-ingest -O csv gz.zip:in/cpu.csv.gz >actual &&
	test_cmp expect.cpu actual
'

test_expect_success PYTHON3 'a member that matches nothing is an error' '
	test_must_fail aiops-ingest -o none.tensor data.zip:x.csv >out 2>err &&
	echo "aiops-ingest: data.zip: no member matches \"x.csv\"" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	test_path_is_missing none.tensor &&
	test_must_fail aiops-ingest -O csv "data.zip:*.json" 2>err &&
	test_grep "no member matches \"\\*.json\"" err
'

test_expect_success 'a missing archive is an error' '
	test_must_fail aiops-ingest -O csv nothere.zip:a.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: nothere.zip" err
'

test_expect_success 'an operand that exists as a file is a file, colon or not' '
	cp cpu.csv "odd.zip:cpu.csv" &&
	aiops-ingest -O csv "odd.zip:cpu.csv" >actual &&
	test_cmp expect.cpu actual
'

test_expect_success 'a .tar.gz member and pattern' '
	tar -czf data.tar.gz cpu.csv mem.csv &&
	aiops-ingest -O csv data.tar.gz:cpu.csv >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -O csv "data.tar.gz:*.csv" >actual &&
	test_cmp expect.both actual &&
	cp data.tar.gz data.tgz &&
	aiops-ingest -O csv data.tgz:cpu.csv >actual &&
	test_cmp expect.cpu actual &&
	test_must_fail aiops-ingest -O csv data.tar.gz:nope.csv 2>err &&
	test_grep "^aiops-ingest: data.tar.gz: no member matches \"nope.csv\"" err
'

test_expect_success 'a plain .tar member' '
	tar -cf data.tar mem.csv cpu.csv &&
	aiops-ingest -O csv data.tar:cpu.csv >actual &&
	test_cmp expect.cpu actual
'

test_expect_success 'a missing file is an error naming it' '
	test_must_fail aiops-ingest -o x.tensor nothere.csv >out 2>err &&
	echo "aiops-ingest: nothere.csv: No such file or directory" >expect &&
	test_cmp expect err &&
	test_path_is_missing x.tensor
'

# The server runs from here to the last test. It listens on a port that the
# kernel picks (port 0), and a watchdog stops it if this script dies early.
test_expect_success PYTHON3 'start an HTTP server' '
	mkdir www &&
	cp cpu.csv cpu.csv.gz multi.gz both.tensor www/ &&
	cp cpu.csv.gz www/cpu-gz.csv &&
	{ "$PYTHON" -u -m http.server --bind 127.0.0.1 --directory www 0 >server.log 2>&1 & } &&
	server_pid=$! &&
	echo "$server_pid" >server.pid &&
	script_pid=$$ &&
	{
		(
			while kill -0 "$script_pid" 2>/dev/null && kill -0 "$server_pid" 2>/dev/null
			do
				sleep 1
			done
			kill "$server_pid" 2>/dev/null
		) >/dev/null 2>&1 </dev/null &
	} &&
	i=0 &&
	port= &&
	while test -z "$port"
	do
		test $i -lt 100 || return 1
		port=$(sed -n -e "s/^Serving HTTP on .* port \([0-9][0-9]*\).*/\1/p" server.log) &&
		i=$((i + 1)) &&
		{ test -n "$port" || sleep 0.1; } || return 1
	done &&
	url=http://127.0.0.1:$port &&
	i=0 &&
	until "$PYTHON" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()" \
		"$url/cpu.csv" 2>/dev/null
	do
		test $i -lt 50 || return 1
		i=$((i + 1)) &&
		sleep 0.1 || return 1
	done &&
	test_set_prereq HTTPD
'

test_expect_success HTTPD 'an http:// URL is read' '
	aiops-ingest -O csv "$url/cpu.csv" >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -o url.tensor "$url/cpu.csv" &&
	aiops-ingest -O csv url.tensor >actual &&
	test_cmp expect.cpu actual
'

test_expect_success HTTPD 'gzip served over HTTP is decoded' '
	aiops-ingest -O csv "$url/cpu.csv.gz" >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -O csv "$url/cpu-gz.csv" >actual &&
	test_cmp expect.cpu actual &&
	aiops-ingest -O csv "$url/multi.gz" >actual &&
	test_cmp expect.both actual
'

test_expect_success HTTPD 'a tensor served over HTTP is read' '
	aiops-ingest -O csv "$url/both.tensor" >actual &&
	test_cmp expect.both actual
'

test_expect_success HTTPD 'a URL and a file are concatenated' '
	aiops-ingest -O csv "$url/cpu.csv" mem.csv >actual &&
	test_cmp expect.both actual
'

test_expect_success HTTPD 'HTTP 404 is an error naming the URL and the status' '
	test_must_fail aiops-ingest -o 404.tensor "$url/nope.csv" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: $url/nope.csv: .*HTTP 404" err &&
	test_line_count = 1 err &&
	test_path_is_missing 404.tensor &&
	ls -a >dir &&
	test_grep ! "^\\.404\\.tensor\\." dir
'

test_expect_success HTTPD 'a URL where nothing listens is an error' '
	# a port that was just free: bind it, note it, close it
	dead=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	test_must_fail aiops-ingest -O csv "http://127.0.0.1:$dead/cpu.csv" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: http://127.0.0.1:$dead/cpu.csv: " err
'

test_expect_success HTTPD 'stop the HTTP server' '
	kill "$server_pid" &&
	i=0 &&
	while kill -0 "$server_pid" 2>/dev/null
	do
		test $i -lt 50 || return 1
		i=$((i + 1)) &&
		sleep 0.1 || return 1
	done
'

test_done
