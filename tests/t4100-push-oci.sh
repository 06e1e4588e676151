#!/bin/sh
# t4100: aiops-push against Debian's docker-registry (distribution 2.8) on 127.0.0.1: pushes
# checked with skopeo and curl, skipped and mounted blobs seen in a proxy's log, chunked
# uploads, referrers, promotion, pulls, OCI layouts; Basic auth (htpasswd), Bearer tokens
# (the registry's own token auth, with a small token service that signs JWTs with openssl),
# TLS with --cacert; secrets never in output, argv or written files. Every server is started
# on a free port by this script and stopped on exit, also on failure or a signal.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='aiops-push: OCI registries'
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
	CI_REGISTRY_PASSWORD DOCKER_CONFIG AIOPS_PUSH_CHUNK_SIZE
HOME=$TRASH_DIRECTORY/home
export HOME
AIOPS_PUSH_RETRY_DELAY=0.05
AIOPS_PUSH_RETRIES=3
AIOPS_PUSH_TIMEOUT=10
export AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_RETRIES AIOPS_PUSH_TIMEOUT

test_lazy_prereq SKOPEO 'command -v skopeo'
test_lazy_prereq OPENSSL 'command -v openssl'
test_lazy_prereq BCRYPT '
	command -v htpasswd || "$PYTHON" -W ignore -c "import crypt; assert crypt.crypt(\"x\", crypt.mksalt(crypt.METHOD_BLOWFISH)).startswith(\"\$2\")"
'
test_lazy_prereq PUSHMAN 'test -f "$TOP/man/aiops-push.1"'

# --- servers ------------------------------------------------------------------------

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

# start_registry NAME KIND: a docker-registry whose storage and config live in NAME.*;
# KIND is plain, basic (htpasswd file NAME.htpasswd), token (realm $token_url) or tls
# (tls.crt/tls.key). Sets reg_port and reg_pid and waits until /v2/ answers.
start_registry () {
	sr_try=0
	while test $sr_try -lt 3
	do
		sr_try=$((sr_try + 1))
		reg_port=$(free_port) || return 1
		mkdir -p "$1.data" || return 1
		{
			cat <<-EOF
			version: 0.1
			log:
			  level: info
			storage:
			  filesystem:
			    rootdirectory: $TRASH_DIRECTORY/$1.data
			  delete:
			    enabled: true
			http:
			  addr: 127.0.0.1:$reg_port
			  secret: aiops-test-secret
			EOF
			case $2 in
			tls)
				cat <<-EOF
				  tls:
				    certificate: $TRASH_DIRECTORY/tls.crt
				    key: $TRASH_DIRECTORY/tls.key
				EOF
				;;
			basic)
				cat <<-EOF
				auth:
				  htpasswd:
				    realm: aiops-test
				    path: $TRASH_DIRECTORY/$1.htpasswd
				EOF
				;;
			token)
				cat <<-EOF
				auth:
				  token:
				    realm: $token_url
				    service: aiops-test
				    issuer: aiops-test-issuer
				    rootcertbundle: $TRASH_DIRECTORY/token.crt
				EOF
				;;
			esac
		} >"$1.yml" || return 1
		start_bg "$REGISTRY" serve "$1.yml"
		reg_pid=$bg_pid
		sr_scheme=http
		test "$2" = tls && sr_scheme=https
		sr_n=0
		while kill -0 "$reg_pid" 2>/dev/null && test $sr_n -lt 100
		do
			case $(curl -sk -o /dev/null -w "%{http_code}" "$sr_scheme://127.0.0.1:$reg_port/v2/") in
			200|401) return 0 ;;
			esac
			sleep 0.1
			sr_n=$((sr_n + 1))
		done
		stop_pid "$reg_pid"
	done
	echo "docker-registry did not start" >&2
	tail -n 20 "$TRASH_DIRECTORY.out/servers.log" >&2
	return 1
}

# start_proxy NAME UPSTREAM_PORT [ARGS...]: tests/helpers/faulty_proxy.py logging to NAME.log;
# sets proxy_port and proxy_pid.
start_proxy () {
	sp_name=$1
	sp_up=$2
	shift 2
	rm -f "$sp_name.port" "$sp_name.log"
	start_bg "$PYTHON" "$TEST_DIRECTORY/helpers/faulty_proxy.py" --upstream "127.0.0.1:$sp_up" \
		--port-file "$sp_name.port" --log "$sp_name.log" --lifetime 300 "$@"
	proxy_pid=$bg_pid
	proxy_port=$(wait_port_file "$sp_name.port") && test -n "$proxy_port"
}

# jq_py FILE EXPR: evaluate the Python expression EXPR with j = the JSON in FILE; print it.
jq_py () {
	"$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- setup ----------------------------------------------------------------------------

test_expect_success 'setup: artifacts from aiops-pack, a plain registry' '
	mkdir -p home &&
	aiops-ingest -o x.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o m.model x.tensor &&
	echo "{\"best_f1\": 0.75, \"gate\": \"pass\"}" >report.json &&
	aiops-pack -q -V 1.0.0 -r report.json -o m.tar.gz m.model &&
	"$PYTHON" -c "import os, random; r = random.Random(4100); open(\"noise.bin\", \"wb\").write(bytes(r.getrandbits(8) for _ in range(1300000)))" &&
	aiops-pack -q -V 2.0.0 -o big.tar.gz m.model noise.bin &&
	test $(wc -c <big.tar.gz) -gt 1300000 &&
	start_registry plain plain &&
	plain_port=$reg_port &&
	echo "$plain_port" >plain.port
'
plain_port=$(cat plain.port 2>/dev/null)
R=oci://127.0.0.1:$plain_port

# --- usage ------------------------------------------------------------------------------

test_expect_success '-h prints the usage on stdout and exits 0' '
	aiops-push -h >out 2>err &&
	test_must_be_empty err &&
	test_grep "^usage: aiops-push \\[-hqv\\]" out &&
	test_grep "aiops-push --promote " out &&
	test_grep "aiops-push --pull " out &&
	aiops-push --help >out2 &&
	test_cmp out out2
'

test_expect_success MANDOC,PUSHMAN '-h output equals the SYNOPSIS of aiops-push(1)' '
	test_usage_is_synopsis aiops-push "^aiops-push \\[-hqv\\]"
'

test_expect_success MANDOC,PUSHMAN 'the man page is mandoc -Tlint clean and names every variable' '
	mandoc -Tlint -Wwarning "$TOP/man/aiops-push.1" >lint 2>&1 &&
	test_must_be_empty lint &&
	for v in AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
		CI_REGISTRY_PASSWORD DOCKER_CONFIG HOME CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN \
		AIOPS_GITLAB_TOKEN AIOPS_PUSH_RETRIES AIOPS_PUSH_RETRY_TIME AIOPS_PUSH_RETRY_DELAY \
		AIOPS_PUSH_TIMEOUT AIOPS_PUSH_CHUNK_SIZE
	do
		grep -q "^\\.It Ev $v\$" "$TOP/man/aiops-push.1" || { echo "missing $v" >&2; return 1; }
	done
'

test_expect_success 'usage errors: status 2, a message or the usage, nothing on stdout' '
	test_expect_code 2 aiops-push >out 2>err &&
	test_must_be_empty out && test_grep "^usage: aiops-push" err &&
	test_expect_code 2 aiops-push m.tar.gz >out 2>err &&
	test_grep "^usage: aiops-push" err &&
	test_expect_code 2 aiops-push --bogus m.tar.gz "$R/models/m:1" >out 2>err &&
	test_grep "^usage: aiops-push" err &&
	test_expect_code 2 aiops-push --pull "$R/models/m:1" >out 2>err &&
	test_grep "^usage: aiops-push" err &&
	test_expect_code 2 aiops-push -o d m.tar.gz "$R/models/m:1" >out 2>err &&
	test_grep "aiops-push: -o goes with --pull" err &&
	test_expect_code 2 aiops-push --chunk-size 12Q m.tar.gz "$R/models/m:1" >out 2>err &&
	test_grep "aiops-push: --chunk-size: expected a size" err &&
	test_expect_code 2 aiops-push --retries -1 m.tar.gz "$R/models/m:1" >out 2>err &&
	test_grep "aiops-push: --retries: expected a whole number" err &&
	test_expect_code 2 aiops-push m.tar.gz "oci://127.0.0.1:$plain_port/Models/m:1" >out 2>err &&
	test_grep "is not a repository name" err &&
	test_expect_code 2 aiops-push m.tar.gz "oci://127.0.0.1:$plain_port/models/m:bad/tag" >out 2>err &&
	test_grep "is not a repository name" err &&
	test_expect_code 2 aiops-push m.tar.gz "$R/models/m@sha256:abc" >out 2>err &&
	test_grep "expected a digest" err &&
	test_expect_code 2 aiops-push m.tar.gz "127.0.0.1:$plain_port/models/m:1" >out 2>err &&
	test_grep "looks like a registry; write oci://" err &&
	test_expect_code 2 aiops-push --referrer report.json m.tar.gz layout:1 >out 2>err &&
	test_grep "needs a registry target" err &&
	test_expect_code 2 aiops-push --mount-from a/b m.tar.gz layout:1 >out 2>err &&
	test_grep "goes with an oci:// target" err &&
	test_expect_code 2 aiops-push --promote "$R/models/m" prod >out 2>err &&
	test_grep "takes oci://HOST/REPOSITORY:TAG" err &&
	test_path_is_missing layout &&
	test_must_be_empty out
'

test_expect_success 'a push to a digest, a missing or a broken artifact: status 1 or 2, no tag' '
	test_expect_code 2 aiops-push m.tar.gz "$R/models/m@$(sha m.tar.gz)" >out 2>err &&
	test_grep "push to a tag, not a digest" err &&
	test_expect_code 1 aiops-push nosuch.tar.gz "$R/models/bad:1" >out 2>err &&
	test_grep "aiops-push: nosuch.tar.gz: No such file" err &&
	head -c 3000 m.tar.gz >cut.tar.gz &&
	test_expect_code 1 aiops-push cut.tar.gz "$R/models/bad:1" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-push: cut.tar.gz" err &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$plain_port/v2/models/bad/manifests/1")" = 404
'

# --- push, inspect, pull ----------------------------------------------------------------

test_expect_success 'push: one line on stdout, the manifest as skopeo and curl see it' '
	aiops-push m.tar.gz "$R/models/m:1.0" >out 2>err &&
	test_must_be_empty err &&
	test_line_count = 1 out &&
	digest=$(cut -d" " -f1 out) &&
	echo "$digest $R/models/m:1.0" >expect &&
	test_cmp expect out &&
	curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://127.0.0.1:$plain_port/v2/models/m/manifests/1.0" >manifest.json &&
	test "$(sha manifest.json)" = "$digest" &&
	test "$(jq_py manifest.json "j[\"artifactType\"]")" = application/vnd.aiops.model.v1 &&
	test "$(jq_py manifest.json "j[\"mediaType\"]")" = application/vnd.oci.image.manifest.v1+json &&
	test "$(jq_py manifest.json "j[\"config\"][\"mediaType\"]")" = application/vnd.aiops.model.config.v1+json &&
	test "$(jq_py manifest.json "len(j[\"layers\"])")" = 1 &&
	test "$(jq_py manifest.json "j[\"layers\"][0][\"mediaType\"]")" = application/vnd.aiops.model.layer.v1.tar+gzip &&
	test "$(jq_py manifest.json "j[\"layers\"][0][\"digest\"]")" = "$(sha m.tar.gz)" &&
	test "$(jq_py manifest.json "j[\"layers\"][0][\"size\"]")" = "$(wc -c <m.tar.gz)" &&
	echo "$digest" >m.digest
'

test_expect_success SKOPEO 'skopeo: the raw manifest has the digest, the config is the artifact manifest, copy gets the bytes' '
	skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$plain_port/models/m:1.0" >raw &&
	test "$(sha raw)" = "$(cat m.digest)" &&
	skopeo inspect --tls-verify=false --config --raw "docker://127.0.0.1:$plain_port/models/m:1.0" >config.json &&
	test "$(jq_py config.json "j[\"version\"]")" = 1.0.0 &&
	skopeo copy --src-tls-verify=false "docker://127.0.0.1:$plain_port/models/m:1.0" dir:copied >/dev/null &&
	layer=$(sha m.tar.gz) &&
	cmp m.tar.gz "copied/${layer#sha256:}"
'

test_expect_success 'a second push skips both blobs: only HEADs and the manifest PUT (proxy log)' '
	start_proxy again "$plain_port" &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v m.tar.gz "oci://127.0.0.1:$proxy_port/models/m:1.0" >out 2>err &&
	test_grep "is present; skipped" err &&
	test "$(grep -c "is present; skipped" err)" = 2 &&
	cut -d" " -f2 again.log | sort | uniq -c | awk "{ print \$2, \$1 }" >actual &&
	printf "GET 1\nHEAD 2\nPUT 1\n" >expect &&
	test_cmp expect actual &&
	test_grep "PUT /v2/models/m/manifests/1.0 - 201" again.log
'

test_expect_success 'no tag: the artifact version is the tag' '
	aiops-push m.tar.gz "$R/models/m" >out &&
	echo "$(cat m.digest) $R/models/m:1.0.0" >expect &&
	test_cmp expect out
'

test_expect_success 'localhost is a loopback host too: plain http' '
	aiops-push m.tar.gz "oci://localhost:$plain_port/models/m:1.0" >out &&
	test "$(cut -d" " -f1 out)" = "$(cat m.digest)"
'

test_expect_success 'pull: the files come back, the digests check out' '
	aiops-push --pull -o pulled "$R/models/m:1.0" >out 2>err &&
	test_must_be_empty err &&
	echo "$(cat m.digest) $R/models/m:1.0" >expect &&
	test_cmp expect out &&
	cmp m.model pulled/m.model &&
	cmp report.json pulled/report.json &&
	{ ls -A . | grep "pull" >left || true; } &&
	echo pulled >expect &&
	test_cmp expect left &&
	aiops-push -q --pull -o pulled2 "$R/models/m@$(cat m.digest)" >out &&
	cmp m.model pulled2/m.model
'

test_expect_success 'pull of a missing tag or repository: status 1, nothing made' '
	test_expect_code 1 aiops-push --pull -o nothere "$R/models/m:9.9" >out 2>err &&
	test_must_be_empty out &&
	test_grep "aiops-push: manifest models/m:9.9: HTTP 404 (MANIFEST_UNKNOWN" err &&
	test_path_is_missing nothere &&
	test_expect_code 1 aiops-push --pull -o nothere "$R/nosuch/repo:1" >out 2>err &&
	test_grep "HTTP 404" err &&
	test_path_is_missing nothere &&
	{ ls -A . | grep "nothere" >left || true; } &&
	test_must_be_empty left
'

test_expect_success 'pull refuses what is not an aiops model' '
	printf "{}" >empty.json &&
	curl -s -X POST -D hdr "http://127.0.0.1:$plain_port/v2/other/thing/blobs/uploads/" >/dev/null &&
	loc=$(sed -n -e "s/^Location: \\(.*\\)\\r\$/\\1/p" hdr) &&
	curl -s -X PUT -H "Content-Type: application/octet-stream" --data-binary @empty.json \
		"$loc&digest=$(sha empty.json)" >/dev/null &&
	printf "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"%s\",\"size\":2},\"layers\":[]}" \
		"$(sha empty.json)" >other.json &&
	curl -s -f -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		--data-binary @other.json "http://127.0.0.1:$plain_port/v2/other/thing/manifests/1" >/dev/null &&
	test_expect_code 1 aiops-push --pull -o notmodel "$R/other/thing:1" >out 2>err &&
	test_grep "not an aiops model" err &&
	test_path_is_missing notmodel
'

test_expect_success 'chunked: PATCHes of --chunk-size in order, then the PUT (proxy log)' '
	start_proxy chunks "$plain_port" &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push --chunk-size 256K big.tar.gz "oci://127.0.0.1:$proxy_port/models/big:2.0" >out &&
	size=$(wc -c <big.tar.gz) &&
	awk -v size="$size" "
		\$2 == \"PATCH\" { split(\$4, r, \"-\"); if (r[1] != next_) { print \"gap at \" r[1]; bad = 1 }
			if (r[2] - r[1] + 1 != 262144 && r[2] + 1 != size) { print \"chunk \" \$4; bad = 1 }
			next_ = r[2] + 1; n++ }
		END { if (next_ != size) { print \"ended at \" next_; bad = 1 } print n; exit bad }
	" chunks.log >patches &&
	test "$(cat patches)" = "$(( (size + 262143) / 262144 ))" &&
	layer=$(sha big.tar.gz) &&
	grep "PUT /v2/models/big/blobs/uploads/.*digest=sha256%3A${layer#sha256:} - 201" chunks.log >put &&
	test_line_count = 1 put &&
	aiops-push -q --pull -o bigout "$R/models/big:2.0" &&
	cmp noise.bin bigout/noise.bin
'

test_expect_success 'a layer at most --chunk-size goes in one PUT' '
	start_proxy mono "$plain_port" &&
	test_when_finished "stop_pid $proxy_pid" &&
	AIOPS_PUSH_CHUNK_SIZE=2M aiops-push big.tar.gz "oci://127.0.0.1:$proxy_port/models/big2:2.0" >out &&
	! grep PATCH mono.log &&
	grep "PUT /v2/models/big2/blobs/uploads/" mono.log >puts &&
	test_line_count = 2 puts
'

test_expect_success '--mount-from: the blobs are mounted, not uploaded (proxy log)' '
	start_proxy mount "$plain_port" &&
	test_when_finished "stop_pid $proxy_pid" &&
	aiops-push -v --mount-from models/m m.tar.gz "oci://127.0.0.1:$proxy_port/team/m:1.0" >out 2>err &&
	test "$(grep -c "mounted from models/m" err)" = 2 &&
	grep "POST /v2/team/m/blobs/uploads/?mount=sha256%3A[0-9a-f]*&from=models%2Fm - 201" mount.log >mounts &&
	test_line_count = 2 mounts &&
	! grep -E "PATCH|PUT /v2/team/m/blobs" mount.log &&
	test "$(cut -d" " -f1 out)" = "$(cat m.digest)"
'

test_expect_success '--mount-from a repository without the blob: uploaded after all' '
	aiops-push -v --mount-from nosuch/repo m.tar.gz "$R/team2/m:1.0" >out 2>err &&
	test_grep "would not mount" err &&
	test "$(grep -c "uploaded" err)" = 2
'

# --- referrers ---------------------------------------------------------------------------

test_expect_success 'referrer: the report as a manifest whose subject is the model' '
	aiops-push -v --referrer report.json m.tar.gz "$R/models/m:1.0" >out 2>err &&
	test_line_count = 2 out &&
	rdigest=$(sed -n -e 2p out | cut -d" " -f1) &&
	echo "$rdigest $R/models/m@$rdigest" >expect &&
	sed -n -e 2p out >actual &&
	test_cmp expect actual &&
	curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://127.0.0.1:$plain_port/v2/models/m/manifests/$rdigest" >ref.json &&
	test "$(sha ref.json)" = "$rdigest" &&
	test "$(jq_py ref.json "j[\"subject\"][\"digest\"]")" = "$(cat m.digest)" &&
	test "$(jq_py ref.json "j[\"subject\"][\"mediaType\"]")" = application/vnd.oci.image.manifest.v1+json &&
	test "$(jq_py ref.json "j[\"subject\"][\"size\"]")" = "$(wc -c <manifest.json)" &&
	test "$(jq_py ref.json "j[\"artifactType\"]")" = application/vnd.aiops.eval-report.v1+json &&
	test "$(jq_py ref.json "j[\"config\"][\"mediaType\"]")" = application/vnd.oci.empty.v1+json &&
	test "$(jq_py ref.json "j[\"layers\"][0][\"digest\"]")" = "$(sha report.json)" &&
	curl -s "http://127.0.0.1:$plain_port/v2/models/m/blobs/$(sha report.json)" >report.back &&
	cmp report.json report.back &&
	echo "$rdigest" >r.digest
'

test_expect_success 'referrer: this registry has no referrers API; the tag schema index lists it' '
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$plain_port/v2/models/m/referrers/$(cat m.digest)")" = 404 &&
	md=$(cat m.digest) &&
	curl -s -H "Accept: application/vnd.oci.image.index.v1+json" \
		"http://127.0.0.1:$plain_port/v2/models/m/manifests/sha256-${md#sha256:}" >idx.json &&
	test "$(jq_py idx.json "j[\"mediaType\"]")" = application/vnd.oci.image.index.v1+json &&
	test "$(jq_py idx.json "[m[\"digest\"] for m in j[\"manifests\"]] == [\"$(cat r.digest)\"]")" = True &&
	test "$(jq_py idx.json "j[\"manifests\"][0][\"artifactType\"]")" = application/vnd.aiops.eval-report.v1+json &&
	aiops-push --referrer report.json m.tar.gz "$R/models/m:1.0" >out &&
	curl -s -H "Accept: application/vnd.oci.image.index.v1+json" \
		"http://127.0.0.1:$plain_port/v2/models/m/manifests/sha256-${md#sha256:}" >idx2.json &&
	test "$(jq_py idx2.json "len(j[\"manifests\"])")" = 1
'

test_expect_success 'a referrer that is not JSON, or missing: status 1, nothing pushed' '
	echo "not json" >bad.json &&
	test_expect_code 1 aiops-push --referrer bad.json m.tar.gz "$R/models/m3:1.0" >out 2>err &&
	test_grep "aiops-push: bad.json:1:" err &&
	test_must_be_empty out &&
	test_expect_code 1 aiops-push --referrer nosuch.json m.tar.gz "$R/models/m3:1.0" >out 2>err &&
	test_grep "aiops-push: nosuch.json:" err &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$plain_port/v2/models/m3/manifests/1.0")" = 404
'

# --- promotion ----------------------------------------------------------------------------

test_expect_success 'promote: a new tag for the same manifest' '
	aiops-push --promote "$R/models/m:1.0" prod stable >out 2>err &&
	test_must_be_empty err &&
	printf "%s %s\n" "$(cat m.digest)" "$R/models/m:prod" "$(cat m.digest)" "$R/models/m:stable" >expect &&
	test_cmp expect out &&
	curl -s -I -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://127.0.0.1:$plain_port/v2/models/m/manifests/prod" | tr -d "\\r" >hdr &&
	test_grep -i "^docker-content-digest: $(cat m.digest)\$" hdr
'

test_expect_success 'promote by digest to another repository: blobs mounted, same digest (proxy log)' '
	start_proxy promo "$plain_port" &&
	test_when_finished "stop_pid $proxy_pid" &&
	P=oci://127.0.0.1:$proxy_port &&
	aiops-push --promote "$P/models/m@$(cat m.digest)" "$P/prod/m:1.0" >out &&
	echo "$(cat m.digest) $P/prod/m:1.0" >expect &&
	test_cmp expect out &&
	grep -c "mount=.* 201" promo.log >n &&
	test "$(cat n)" = 2 &&
	! grep -E "PATCH|PUT /v2/prod/m/blobs" promo.log &&
	aiops-push -q --pull -o prodout "$R/prod/m:1.0" &&
	cmp m.model prodout/m.model
'

test_expect_success 'promote a missing tag: status 1, no new tag' '
	test_expect_code 1 aiops-push --promote "$R/models/m:nosuch" prod2 >out 2>err &&
	test_grep "MANIFEST_UNKNOWN" err &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$plain_port/v2/models/m/manifests/prod2")" = 404
'

# --- OCI layouts --------------------------------------------------------------------------

test_expect_success 'a directory target is an OCI layout; the same manifest digest as the registry' '
	aiops-push m.tar.gz layout:1.0 >out &&
	echo "$(cat m.digest) oci-layout:layout:1.0" >expect &&
	test_cmp expect out &&
	test_path_is_file layout/index.json &&
	test_path_is_file layout/oci-layout &&
	aiops-push m.tar.gz oci-layout:layout2 >out &&
	echo "$(cat m.digest) oci-layout:layout2:1.0.0" >expect &&
	test_cmp expect out
'

test_expect_success SKOPEO 'skopeo reads the layout; a pull from it gives the files back' '
	skopeo inspect --raw oci:layout:1.0 >lraw &&
	test "$(sha lraw)" = "$(cat m.digest)" &&
	aiops-push --pull -o lout layout:1.0 >out &&
	cmp m.model lout/m.model &&
	test_expect_code 1 aiops-push --pull -o lout2 layout:nosuch >out 2>err &&
	test_path_is_missing lout2
'

test_expect_success 'a layout blob changed on disk: the pull fails on its digest' '
	cp -R layout badlayout &&
	layer=$(sha m.tar.gz) &&
	chmod u+w "badlayout/blobs/sha256/${layer#sha256:}" &&
	printf "X" | dd of="badlayout/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_expect_code 1 aiops-push --pull -o bout badlayout:1.0 >out 2>err &&
	test_grep "digest" err &&
	test_path_is_missing bout
'

test_expect_success 'the plain registry is stopped' '
	for p in $(cat "$PIDFILE"); do stop_pid "$p"; done &&
	test_must_be_empty "$PIDFILE"
'

# --- Basic auth ----------------------------------------------------------------------------

SECRET=pw-$$-Zq8rT3
TOKSECRET=tok-$$-Lm2vX7

test_expect_success BCRYPT 'setup: a registry with htpasswd Basic auth' '
	if command -v htpasswd >/dev/null 2>&1
	then
		printf "%s\n" "$SECRET" | htpasswd -iBc basic.htpasswd alice 2>/dev/null
	else
		PW=$SECRET "$PYTHON" -W ignore -c "import crypt, os; print(\"alice:\" + crypt.crypt(os.environ[\"PW\"], crypt.mksalt(crypt.METHOD_BLOWFISH)))" >basic.htpasswd
	fi &&
	start_registry basic basic &&
	echo "$reg_port" >basic.port
'
B=oci://127.0.0.1:$(cat basic.port 2>/dev/null)

test_expect_success BCRYPT 'Basic: without credentials, status 1 and a message that says where to put them' '
	test_expect_code 1 aiops-push m.tar.gz "$B/models/m:1.0" >out 2>err &&
	test_must_be_empty out &&
	test_grep "asks for credentials and none were found (AIOPS_REGISTRY_USER" err
'

test_expect_success BCRYPT 'Basic: AIOPS_REGISTRY_USER and AIOPS_REGISTRY_PASSWORD' '
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v m.tar.gz "$B/models/m:1.0" >out 2>err &&
	test_grep "credentials from AIOPS_REGISTRY_USER/AIOPS_REGISTRY_PASSWORD" err &&
	echo "$(cat m.digest) $B/models/m:1.0" >expect &&
	test_cmp expect out &&
	cat out err >>all.out
'

test_expect_success BCRYPT 'Basic: a wrong password is refused, status 1' '
	(
		AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=wrong-$SECRET &&
		export AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD &&
		test_expect_code 1 aiops-push m.tar.gz "$B/models/m:1.0" >out 2>err
	) &&
	test_grep "refused the credentials" err &&
	cat out err >>all.out
'

test_expect_success BCRYPT 'Basic: a docker config.json (DOCKER_CONFIG, then ~/.docker)' '
	mkdir -p dcfg home/.docker &&
	auth=$(printf "alice:%s" "$SECRET" | base64 -w0) &&
	printf "{\"auths\": {\"other.example:5000\": {\"auth\": \"eDp5\"}, \"http://%s\": {\"auth\": \"%s\"}}}\n" \
		"127.0.0.1:$(cat basic.port)" "$auth" >dcfg/config.json &&
	DOCKER_CONFIG=$TRASH_DIRECTORY/dcfg aiops-push -v --pull -o bpull "$B/models/m:1.0" >out 2>err &&
	test_grep "credentials from the docker config.json" err &&
	cmp m.model bpull/m.model &&
	cp dcfg/config.json home/.docker/config.json &&
	aiops-push --promote "$B/models/m:1.0" prod >out 2>>err &&
	cat out err >>all.out &&
	printf "{\"auths\": {\"127.0.0.1:%s\": {\"auth\": \"!!\"}}}\n" "$(cat basic.port)" >dcfg/config.json &&
	(
		DOCKER_CONFIG=$TRASH_DIRECTORY/dcfg && export DOCKER_CONFIG &&
		test_expect_code 1 aiops-push m.tar.gz "$B/models/m:1.0" >out 2>err
	) &&
	test_grep "expected base64 of user:password" err &&
	rm -f home/.docker/config.json
'

test_expect_success BCRYPT 'Basic: CI_REGISTRY_* only for the job registry CI_REGISTRY' '
	(
		CI_REGISTRY=registry.example.com CI_REGISTRY_USER=alice CI_REGISTRY_PASSWORD=$SECRET &&
		export CI_REGISTRY CI_REGISTRY_USER CI_REGISTRY_PASSWORD &&
		test_expect_code 1 aiops-push m.tar.gz "$B/models/m:1.0" >out 2>err
	) &&
	test_grep "none were found" err &&
	CI_REGISTRY=127.0.0.1:$(cat basic.port) CI_REGISTRY_USER=alice CI_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v m.tar.gz "$B/models/m:1.1" >out 2>err &&
	test_grep "credentials from CI_REGISTRY_USER/CI_REGISTRY_PASSWORD" err &&
	cat out err >>all.out
'

test_expect_success BCRYPT 'Basic: the password is not in argv while a push runs' '
	start_proxy slow "$(cat basic.port)" --delay 0.3 &&
	test_when_finished "stop_pid $proxy_pid" &&
	{
		AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
			aiops-push big.tar.gz "oci://127.0.0.1:$proxy_port/models/slow:1" >slow.out 2>slow.err &
		push_pid=$!
	} &&
	sleep 0.5 &&
	tr "\\0" " " </proc/$push_pid/cmdline >cmdline &&
	{ ps -ww -o args= -p "$push_pid" >>cmdline 2>/dev/null || :; } &&
	wait $push_pid &&
	test_grep "aiops-push big.tar.gz" cmdline &&
	! grep -F "$SECRET" cmdline &&
	cat slow.out slow.err >>all.out
'

test_expect_success BCRYPT 'Basic: the password never appears in any output or written file' '
	test -s all.out &&
	! grep -F "$SECRET" all.out &&
	! grep -rF "$SECRET" bpull layout lout pulled &&
	! grep -F "$(printf "alice:%s" "$SECRET" | base64 -w0)" all.out
'

test_expect_success BCRYPT 'the Basic registry is stopped' '
	for p in $(cat "$PIDFILE"); do stop_pid "$p"; done &&
	test_must_be_empty "$PIDFILE"
'

# --- Bearer tokens ------------------------------------------------------------------------------

test_expect_success OPENSSL 'setup: a token service (JWT, RS256 by openssl) and a registry trusting it' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 \
		-subj /CN=aiops-token >/dev/null 2>&1 &&
	cat >tokens.py <<-\EOF &&
	# tokens.py PORTFILE LOG KEY CERT: a registry token service. Basic alice/$TOKEN_PW gets
	# what it asks; an anonymous request gets pull only; a wrong password 401. Tokens are
	# JWTs signed RS256 (openssl dgst) with the certificate in x5c.
	import base64, http.server, json, os, secrets, socketserver, subprocess, sys, time, urllib.parse
	portfile, logname, key, cert = sys.argv[1:5]
	der = "".join(l.strip() for l in open(cert) if not l.startswith("-----"))
	pw = os.environ["TOKEN_PW"]
	log = open(logname, "a", buffering=1)
	def b64(b):
	    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
	class H(http.server.BaseHTTPRequestHandler):
	    def log_message(self, *a):
	        pass
	    def do_GET(self):
	        u = urllib.parse.urlsplit(self.path)
	        q = urllib.parse.parse_qs(u.query)
	        user = None
	        auth = self.headers.get("Authorization", "")
	        if auth.startswith("Basic "):
	            name, _, p = base64.b64decode(auth[6:]).decode().partition(":")
	            if name != "alice" or p != pw:
	                log.write("refused\n")
	                self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers()
	                return
	            user = name
	        access = []
	        for s in q.get("scope", []):
	            typ, name, actions = s.split(":")
	            acts = actions.split(",") if user else [a for a in actions.split(",") if a == "pull"]
	            access.append({"type": typ, "name": name, "actions": acts})
	        log.write("user=%s service=%s scopes=%s\n" % (user, q.get("service", [""])[0], " ".join(q.get("scope", []))))
	        now = int(time.time())
	        hdr = {"typ": "JWT", "alg": "RS256", "x5c": [der]}
	        claims = {"iss": "aiops-test-issuer", "sub": user or "", "aud": q.get("service", [""])[0],
	                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
	        si = b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(claims).encode())
	        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=si.encode(),
	                             capture_output=True, check=True).stdout
	        tok = si + "." + b64(sig)
	        open(logname + ".tokens", "a").write(tok + "\n")
	        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
	        self.send_response(200)
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        self.wfile.write(body)
	class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
	    daemon_threads = True
	s = S(("127.0.0.1", 0), H)
	open(portfile + ".tmp", "w").write("%d\n" % s.server_address[1])
	os.rename(portfile + ".tmp", portfile)
	s.serve_forever()
	EOF
	TOKEN_PW=$TOKSECRET &&
	export TOKEN_PW &&
	start_bg "$PYTHON" tokens.py tokens.port tokens.log token.key token.crt &&
	unset TOKEN_PW &&
	token_port=$(wait_port_file tokens.port) &&
	token_url=http://127.0.0.1:$token_port/token &&
	start_registry token token &&
	echo "$reg_port" >token.port
'
T=oci://127.0.0.1:$(cat token.port 2>/dev/null)

test_expect_success OPENSSL 'Bearer: the challenge leads to the token service; push, promote and pull work' '
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$TOKSECRET \
		aiops-push -v --referrer report.json m.tar.gz "$T/models/m:1.0" >out 2>err &&
	test_grep "got a token for repository:models/m:pull,push" err &&
	test "$(sed -n -e 1p out)" = "$(cat m.digest) $T/models/m:1.0" &&
	test_grep "user=alice service=aiops-test scopes=repository:models/m:pull,push" tokens.log &&
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$TOKSECRET \
		aiops-push -v --promote "$T/models/m:1.0" "$T/prod/m:1.0" >>out 2>>err &&
	test_grep "scopes=repository:prod/m:pull,push repository:models/m:pull" tokens.log &&
	test_grep "mounted from models/m" err &&
	aiops-push --pull -o tpull "$T/models/m:1.0" >>out 2>>err &&
	test_grep "user=None service=aiops-test scopes=repository:models/m:pull\$" tokens.log &&
	cmp m.model tpull/m.model &&
	cat out err >>tall.out
'

test_expect_success OPENSSL 'Bearer: anonymous tokens cannot push; a wrong password is refused' '
	test_expect_code 1 aiops-push m.tar.gz "$T/models/anon:1.0" >out 2>err &&
	test_grep "HTTP 401" err &&
	(
		AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=nope &&
		export AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD &&
		test_expect_code 1 aiops-push m.tar.gz "$T/models/anon:1.0" >out 2>>err
	) &&
	test_grep "the token service refused the credentials (HTTP 401)" err &&
	cat out err >>tall.out
'

test_expect_success OPENSSL 'Bearer: neither the password nor a token appears in any output or file' '
	test -s tokens.log.tokens &&
	! grep -F "$TOKSECRET" tall.out &&
	! grep -rF "$TOKSECRET" tpull &&
	while read -r tok
	do
		! grep -F "$tok" tall.out || return 1
	done <tokens.log.tokens
'

test_expect_success OPENSSL 'a plain-http token realm on another host is refused before any connection' '
	for p in $(cat "$PIDFILE"); do stop_pid "$p"; done &&
	token_url=http://token.invalid/token &&
	start_registry badrealm token &&
	(
		AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$TOKSECRET &&
		export AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD &&
		test_expect_code 2 aiops-push m.tar.gz "oci://127.0.0.1:$reg_port/models/m:1.0" >out 2>err
	) &&
	test_grep "refusing plain http to token.invalid" err &&
	stop_pid "$reg_pid"
'

# --- TLS ---------------------------------------------------------------------------------------

test_expect_success OPENSSL 'setup: a TLS registry with a certificate for 127.0.0.1' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 &&
	start_registry tls tls &&
	echo "$reg_port" >tls.port
'

test_expect_success OPENSSL 'TLS: --cacert with its CA pushes; another CA fails verification, no retries' '
	S=oci://127.0.0.1:$(cat tls.port) &&
	aiops-push --cacert tls.crt m.tar.gz "$S/models/m:1.0" >out &&
	echo "$(cat m.digest) $S/models/m:1.0" >expect &&
	test_cmp expect out &&
	test_expect_code 1 aiops-push -v --cacert other.crt m.tar.gz "$S/models/m:1.0" >out 2>err &&
	test_must_be_empty out &&
	test_grep -i "certificate" err &&
	test_grep ! "retrying" err &&
	test_expect_code 1 aiops-push --cacert tls.crt --pull -o tlsout "$S/models/nosuch:1" >out 2>err &&
	aiops-push --cacert tls.crt --pull -o tlsout "$S/models/m:1.0" >out &&
	cmp m.model tlsout/m.model
'

test_expect_success 'every server is stopped' '
	stop_all &&
	test_must_be_empty "$PIDFILE"
'

stop_all
test_done
