#!/bin/sh
# t4120: aiops-push through tests/helpers/faulty_proxy.py in front of Debian's docker-registry:
# dropped connections, 503 and 429 with and without Retry-After, stalls, a chunked upload cut
# midway (it resumes from the registry's Range, seen in the proxy's log of PATCH offsets), and
# a registry that never recovers (a clear error, status 1, no tag). Progress shows on a terminal
# only. Every server is started on a free port by this script and stopped on exit.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='aiops-push: retries, resumes and failures'
. "$(dirname "$0")/lib.sh"

REGISTRY=${AIOPS_DOCKER_REGISTRY:-/usr/bin/docker-registry}
if ! test -x "$REGISTRY"
then
	test_skip_all "no docker-registry ($REGISTRY)"
fi
if ! command -v curl >/dev/null 2>&1
then
	test_skip_all 'no curl'
fi
sane_unset AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD DOCKER_CONFIG AIOPS_PUSH_CHUNK_SIZE AIOPS_PUSH_RETRY_TIME
HOME=$TRASH_DIRECTORY
export HOME
# Small delays, so that the retries take little time; tests that need others set them.
AIOPS_PUSH_RETRY_DELAY=0.02
AIOPS_PUSH_RETRIES=5
AIOPS_PUSH_TIMEOUT=10
export AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_RETRIES AIOPS_PUSH_TIMEOUT

# --- servers (as in t4100) ------------------------------------------------------------

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

start_registry () {
	sr_try=0
	while test $sr_try -lt 3
	do
		sr_try=$((sr_try + 1))
		reg_port=$(free_port) || return 1
		mkdir -p reg.data &&
		cat >reg.yml <<-EOF || return 1
		version: 0.1
		log:
		  level: info
		storage:
		  filesystem:
		    rootdirectory: $TRASH_DIRECTORY/reg.data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$reg_port
		  secret: aiops-test-secret
		EOF
		start_bg "$REGISTRY" serve reg.yml
		reg_pid=$bg_pid
		sr_n=0
		while kill -0 "$reg_pid" 2>/dev/null && test $sr_n -lt 100
		do
			test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$reg_port/v2/")" = 200 &&
				return 0
			sleep 0.1
			sr_n=$((sr_n + 1))
		done
		stop_pid "$reg_pid"
	done
	echo "docker-registry did not start" >&2
	return 1
}

# proxy NAME ARGS...: start a faulty proxy in front of the registry, logging to NAME.log;
# P gets oci://127.0.0.1:PORT and proxy_pid its pid.
proxy () {
	px_name=$1
	shift
	rm -f "$px_name.port" "$px_name.log"
	start_bg "$PYTHON" "$TEST_DIRECTORY/helpers/faulty_proxy.py" --upstream "127.0.0.1:$reg_port" \
		--port-file "$px_name.port" --log "$px_name.log" --lifetime 300 "$@"
	proxy_pid=$bg_pid
	px_port=$(wait_port_file "$px_name.port") &&
	test -n "$px_port" &&
	P=oci://127.0.0.1:$px_port
}

# tag_digest REPO TAG: the registry's digest for the tag, or "none".
tag_digest () {
	curl -s -I -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://127.0.0.1:$reg_port/v2/$1/manifests/$2" | tr -d "\\r" |
	sed -n -e "s/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p" | grep . || echo none
}

test_expect_success 'setup: artifacts and a registry' '
	aiops-ingest -o x.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o m.model x.tensor &&
	aiops-pack -q -V 1.0.0 -o m.tar.gz m.model &&
	"$PYTHON" -c "import random; r = random.Random(4120); open(\"noise.bin\", \"wb\").write(bytes(r.getrandbits(8) for _ in range(1100000)))" &&
	aiops-pack -q -V 2.0.0 -o big.tar.gz m.model noise.bin &&
	start_registry &&
	echo "$reg_port" >reg.port &&
	aiops-push m.tar.gz "oci://127.0.0.1:$reg_port/ref/m:1.0" >ref.out &&
	cut -d" " -f1 ref.out >m.digest
'
reg_port=$(cat reg.port 2>/dev/null)

test_expect_success 'dropped connections for the first 3 requests: the push gets through' '
	proxy drop --fault drop --count 3 &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v m.tar.gz "$P/drop/m:1.0" >out 2>err &&
	test "$(grep -c " drop\$" drop.log)" = 3 &&
	test "$(grep -c "retrying in" err)" = 3 &&
	test_grep "Empty reply from server" err &&
	test "$(tag_digest drop/m 1.0)" = "$(cat m.digest)"
'

test_expect_success '503 without Retry-After on the uploads: retried with backoff' '
	proxy s503 --fault 503 --count 4 --match POST,PUT,PATCH &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v big.tar.gz "$P/s503/big:2.0" >out 2>err &&
	test "$(grep -c " 503\$" s503.log)" = 4 &&
	test_grep "HTTP 503 (UNAVAILABLE: injected fault); retrying in" err &&
	test "$(tag_digest s503/big 2.0)" = "$(cut -d" " -f1 out)"
'

test_expect_success '503 with Retry-After: 1: the client waits the time the server asks' '
	proxy ra --fault 503 --count 2 --retry-after 1 --match HEAD &&
	test_when_finished "stop_pid $proxy_pid" &&
	start=$(date +%s.%N) &&
	aiops-push -v m.tar.gz "$P/ra/m:1.0" >out 2>err &&
	end=$(date +%s.%N) &&
	awk -v a="$start" -v b="$end" "BEGIN { exit !(b - a >= 2.0) }" &&
	test "$(grep -c "retrying in 1.00 s" err)" = 2 &&
	test "$(tag_digest ra/m 1.0)" = "$(cat m.digest)"
'

test_expect_success '429 with a Retry-After date: honoured too' '
	when=$(LC_ALL=C date -u -d "@$(($(date +%s) + 2))" "+%a, %d %b %Y %H:%M:%S GMT") &&
	proxy r429 --fault 429 --count 1 --retry-after "$when" --match PUT &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v m.tar.gz "$P/r429/m:1.0" >out 2>err &&
	test_grep "HTTP 429" err &&
	sed -n -e "s/.*retrying in \\([0-9.]*\\) s.*/\\1/p" err >waited &&
	awk "{ exit !(\$1 >= 0.5 && \$1 <= 3) }" waited &&
	test "$(tag_digest r429/m 1.0)" = "$(cat m.digest)"
'

test_expect_success 'a stalled reply: the timeout ends the attempt and the retry gets through' '
	proxy hang --fault hang --hang 20 --count 1 --match HEAD &&
	test_when_finished "stop_pid $proxy_pid" &&
	start=$(date +%s) &&
	AIOPS_PUSH_TIMEOUT=1 aiops-push -v m.tar.gz "$P/hang/m:1.0" >out 2>err &&
	test $(($(date +%s) - start)) -lt 15 &&
	test_grep -i "too slow\\|timed out" err &&
	test "$(tag_digest hang/m 1.0)" = "$(cat m.digest)"
'

test_expect_success 'a registry that keeps failing: a clear error, status 1, no tag' '
	proxy dead --fault 503 --count -1 --match PUT,PATCH &&
	test_when_finished "stop_pid $proxy_pid" &&
	test_expect_code 1 aiops-push --retries 2 m.tar.gz "$P/dead/m:1.0" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-push: blob sha256:[0-9a-f]* ([0-9]* bytes): HTTP 503 (UNAVAILABLE: injected fault) (gave up after 3 attempts)\$" err &&
	test_line_count = 1 err &&
	test "$(tag_digest dead/m 1.0)" = none &&
	! grep "PUT /v2/dead/m/manifests" dead.log
'

test_expect_success 'the retry time limit ends the retries, before a long Retry-After' '
	proxy slow --fault 503 --count -1 --retry-after 30 --match POST &&
	test_when_finished "stop_pid $proxy_pid" &&
	start=$(date +%s) &&
	test_expect_code 1 aiops-push --retry-time 5 m.tar.gz "$P/slow/m:1.0" >out 2>err &&
	test $(($(date +%s) - start)) -lt 5 &&
	test_grep "would pass the retry time limit of 5 s" err &&
	test_grep "Retry-After" err &&
	test "$(tag_digest slow/m 1.0)" = none
'

test_expect_success 'AIOPS_PUSH_RETRIES=0: one attempt only' '
	proxy once --fault drop --count 1 &&
	test_when_finished "stop_pid $proxy_pid" &&
	(
		AIOPS_PUSH_RETRIES=0 && export AIOPS_PUSH_RETRIES &&
		test_expect_code 1 aiops-push m.tar.gz "$P/once/m:1.0" >out 2>err
	) &&
	test_grep "(gave up after 1 attempt)" err &&
	test_line_count = 1 once.log
'

test_expect_success 'an unreachable registry: status 1, the host in the message' '
	dead_port=$(free_port) &&
	(
		AIOPS_PUSH_RETRIES=1 && export AIOPS_PUSH_RETRIES &&
		test_expect_code 1 aiops-push m.tar.gz "oci://127.0.0.1:$dead_port/x/m:1" >out 2>err
	) &&
	test_grep "^aiops-push: 127.0.0.1:$dead_port: .*Couldn.t connect\\|^aiops-push: 127.0.0.1:$dead_port: .*Failed to connect" err &&
	test_must_be_empty out
'

test_expect_success 'a chunked upload cut midway resumes from the registry'"'"'s Range, not from 0' '
	proxy cut --cut-patch 3 &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v --chunk-size 256K big.tar.gz "$P/cut/big:2.0" >out 2>err &&
	test_grep "the registry holds 524288 bytes of the upload; resuming there" err &&
	# the proxy logs a request when it is done with it, from its own thread: a 202 can be
	# logged after the cut of the next chunk, so the offsets are put in order (stable: the
	# cut of 524288 stays before its retry)
	awk "\$2 == \"PATCH\" { split(\$4, r, \"-\"); print r[1], \$5 }" cut.log |
	sort -s -n -k1,1 >offsets &&
	size=$(wc -c <big.tar.gz) &&
	awk -v size="$size" "BEGIN { for (o = 0; o < size; o += 262144) { print o, (o == 524288 ? \"cut\" : 202); if (o == 524288) print o, 202 } }" >expect &&
	test_cmp expect offsets &&
	grep "GET /v2/cut/big/blobs/uploads/" cut.log >status &&
	test_line_count = 1 status &&
	test_grep " 204\$" status &&
	test "$(tag_digest cut/big 2.0)" = "$(cut -d" " -f1 out)" &&
	aiops-push -q --pull -o cutout "oci://127.0.0.1:$reg_port/cut/big:2.0" &&
	cmp noise.bin cutout/noise.bin
'

test_expect_success 'a dropped final PUT: the registry is asked, the upload finishes' '
	proxy lastput --fault drop --count 1 --after 1 --match PUT &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v --chunk-size 256K big.tar.gz "$P/lastput/big:2.0" >out 2>err &&
	grep "PUT /v2/lastput/big/blobs/uploads/.* drop\$" lastput.log &&
	test_grep "the registry holds $(wc -c <big.tar.gz) bytes of the upload" err &&
	test "$(grep -c "PATCH" lastput.log)" = "$(( ($(wc -c <big.tar.gz) + 262143) / 262144 ))" &&
	test "$(tag_digest lastput/big 2.0)" = "$(cut -d" " -f1 out)"
'

test_expect_success 'pull through dropped connections: every digest still checked' '
	proxy pdrop --fault drop --count 2 --match GET &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v --pull -o pout "$P/cut/big:2.0" >out 2>err &&
	test "$(grep -c "retrying in" err)" = 2 &&
	cmp noise.bin pout/noise.bin
'

test_expect_success PYTHON3 'progress on a terminal only; -q silences it' '
	cat >onpty.py <<-\EOF &&
	# onpty.py OUT CMD...: run CMD with stderr on a pseudo-terminal; OUT gets what it wrote there.
	import os, pty, sys
	pid, fd = pty.fork()
	if pid == 0:
	    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
	    os.execvp(sys.argv[2], sys.argv[2:])
	data = b""
	while True:
	    try:
	        b = os.read(fd, 65536)
	    except OSError:
	        break
	    if not b:
	        break
	    data += b
	_, st = os.waitpid(pid, 0)
	open(sys.argv[1], "wb").write(data)
	sys.exit(os.waitstatus_to_exitcode(st))
	EOF
	"$PYTHON" onpty.py tty.out aiops-push --chunk-size 0 big.tar.gz "oci://127.0.0.1:$reg_port/tty/big:2.0" &&
	test_grep "100%" tty.out &&
	test_grep "MiB)" tty.out &&
	"$PYTHON" onpty.py tty2.out aiops-push -q --chunk-size 0 big.tar.gz "oci://127.0.0.1:$reg_port/tty2/big:2.0" &&
	test_grep ! "%" tty2.out &&
	aiops-push --chunk-size 0 big.tar.gz "oci://127.0.0.1:$reg_port/tty3/big:2.0" >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'every server is stopped' '
	stop_all &&
	test_must_be_empty "$PIDFILE"
'

stop_all
test_done
