#!/bin/sh
# t9100: the GitLab CI template scripts/gitlab-ci.yml and its job scripts scripts/ci/*.sh,
# run here as GitLab runs them (tests/helpers/gitlab_ci_local.py: rules, needs, parallel:
# with CI_NODE_INDEX from 1, artifacts between jobs, each job in its own directory), the
# pushes going to tests/helpers/gitlab_stub.py (generic packages, CI_JOB_TOKEN), to an OCI
# layout and, when Debian's docker-registry is there, to a registry with the job's
# credentials: a push pipeline on the default branch, a failed gate, the scheduled drift
# check that keeps, is forced, or fires on drifted data. Results are checked for real:
# the sharded winner is the unsharded search's, stored files have the pushed sha256, and
# the job token is in no file or log. Servers are started on free ports by this script
# and stopped on exit.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='GitLab CI template and job scripts'
. "$(dirname "$0")/lib.sh"

if ! "$PYTHON" -c 'import yaml' 2>/dev/null
then
	test_skip_all "no PyYAML for $PYTHON (python3-yaml)"
fi
sane_unset AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD AIOPS_GITLAB_TOKEN DOCKER_CONFIG
HOME=$TRASH_DIRECTORY/home
export HOME
AIOPS_PUSH_RETRY_DELAY=0.05
AIOPS_PUSH_RETRIES=3
export AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_RETRIES

# the variables the job scripts read come from the pipelines of this test only
sane_unset CI_NODE_INDEX CI_NODE_TOTAL JOB_COMPLETION_INDEX CI_COMMIT_TAG CI_COMMIT_SHORT_SHA \
	CI_PIPELINE_IID CI_REGISTRY CI_REGISTRY_IMAGE CI_REGISTRY_USER CI_REGISTRY_PASSWORD \
	CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN AIOPS_WORK AIOPS_DATA AIOPS_LABELS \
	AIOPS_INGEST_OPTS AIOPS_SPLIT AIOPS_SCALE AIOPS_SPACE AIOPS_METRIC AIOPS_THRESHOLD \
	AIOPS_JOBS AIOPS_TRAIN_OPTS AIOPS_SHARDS AIOPS_REQUIRE AIOPS_BASELINE AIOPS_EVAL_OPTS \
	AIOPS_NAME AIOPS_VERSION AIOPS_REGISTRY AIOPS_OCI_REPO AIOPS_LAYOUT AIOPS_PROMOTE_TAG \
	AIOPS_CURRENT AIOPS_DRIFT_REQUIRE AIOPS_FORCE_RETRAIN

SQ="'"
JOBTOK=job-$$-Vx83Kq
YML=$TOP/scripts/gitlab-ci.yml
CI=$TOP/scripts/ci
SPACE='pca:k=1..5 mahalanobis:reg=0.001,0.01,0.5 kmeans:k=2,4'
GATE='f1>=0.5,auc_pr>=0.5'
REGISTRY=${AIOPS_DOCKER_REGISTRY:-/usr/bin/docker-registry}
test_lazy_prereq REGISTRY 'test -x "$REGISTRY" && command -v curl'
test_lazy_prereq BCRYPT '
	command -v htpasswd || "$PYTHON" -W ignore -c "import crypt; assert crypt.crypt(\"x\", crypt.mksalt(crypt.METHOD_BLOWFISH)).startswith(\"\$2\")"
'

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

# gl CMD [--var NAME=VALUE ...]: gitlab_ci_local.py on the template.
gl () {
	gl_cmd=$1
	shift
	"$PYTHON" "$TEST_DIRECTORY/helpers/gitlab_ci_local.py" --file "$YML" "$@" "$gl_cmd"
}

# pipeline DIR SOURCE IID [--var NAME=VALUE ...]: a pipeline of project 42 on the default
# branch "main" (a schedule, a push, ...) with the project's variables of this test, run
# in DIR; its job lines go to DIR.out. The job token reaches it as a variable only.
pipeline () {
	pl_dir=$1
	pl_src=$2
	pl_iid=$3
	shift 3
	rm -rf "$pl_dir" &&
	gl run --dir "$pl_dir" --project proj \
		--var AIOPS_CI="$CI" \
		--var CI_PIPELINE_SOURCE="$pl_src" --var CI_COMMIT_BRANCH=main \
		--var CI_DEFAULT_BRANCH=main --var CI_COMMIT_SHORT_SHA=1a2b3c4d \
		--var CI_PIPELINE_IID="$pl_iid" --var CI_API_V4_URL="$API" --var CI_PROJECT_ID=42 \
		--var CI_JOB_TOKEN="$JOBTOK" \
		--var AIOPS_LABELS=data/incidents.labels \
		--var AIOPS_INGEST_OPTS="--step 5m --agg mean --fill linear --max-gap 3" \
		--var AIOPS_SPACE="$SPACE" --var AIOPS_METRIC=error --var AIOPS_REQUIRE="$GATE" \
		--var AIOPS_REGISTRY="gitlab oci-layout" --var AIOPS_LAYOUT="$TRASH_DIRECTORY/layout" \
		"$@" >"$pl_dir.out"
}

# art DIR JOB FILE: the path of FILE in the artifacts of JOB in pipeline DIR.
art () {
	echo "$1/artifacts/$2/aiops-work/$3"
}

# every_job_passed DIR: each job instance of the pipeline passed.
every_job_passed () {
	cat "$1.out" &&
	test_line_count -gt 0 "$1.out" &&
	! grep -v " passed\$" "$1.out"
}

# jq_py FILE EXPR: evaluate the Python expression EXPR with j = the JSON in FILE; print it.
jq_py () {
	"$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# stored VERSION: the artifact stored in the stub under VERSION of package aiops-model.
stored () {
	echo "stub.store/42/aiops-model/$1/aiops-model.tar.gz"
}

# start_stub: gitlab_stub.py storing into stub.store, logging to stub.log; the job token
# reaches it through the environment, never argv.
start_stub () {
	rm -rf stub.port stub.log stub.store
	(
		GITLAB_STUB_JOB_TOKEN=$JOBTOK
		export GITLAB_STUB_JOB_TOKEN
		exec "$PYTHON" "$TEST_DIRECTORY/helpers/gitlab_stub.py" --port-file stub.port \
			--store stub.store --log stub.log --lifetime 600
	) </dev/null >>"$TRASH_DIRECTORY.out/servers.log" 2>&1 7>&- 8>&- &
	echo $! >>"$PIDFILE"
}

# --- the template ---------------------------------------------------------------------

test_expect_success 'the template parses; every job runs an executable script of scripts/ci' '
	gl lint --var AIOPS_CI="$CI" >out &&
	test_must_be_empty out &&
	for s in ingest train-shard select eval pack push promote drift
	do
		test -x "$CI/$s.sh" &&
		sh -n "$CI/$s.sh" &&
		test_grep "^    - \\\$AIOPS_CI/$s.sh\$" "$YML" || return 1
	done
'

test_expect_success 'lint fails on a missing script, an undeclared or unused variable, a late need' '
	sed -e "s|/train-shard.sh|/train-shards.sh|" -e "/^  AIOPS_SHARDS:/d" \
		-e "s/^  AIOPS_JOBS: \"\"/  AIOPS_JOBS: \"\"\\n  AIOPS_UNUSED: \"\"/" \
		-e "/^aiops-ingest:/,/^  script:/s/job: aiops-drift/job: aiops-eval/" \
		"$YML" >broken.yml &&
	test_expect_code 1 "$PYTHON" "$TEST_DIRECTORY/helpers/gitlab_ci_local.py" --file broken.yml \
		--var AIOPS_CI="$CI" lint >out &&
	test_grep "aiops-train: .*/train-shards.sh does not exist" out &&
	test_grep "AIOPS_SHARDS is read by the job scripts but not declared" out &&
	test_grep "AIOPS_UNUSED is declared but" out &&
	test_grep "aiops-ingest: needs aiops-eval of a later or the same stage" out &&
	test_grep "/train-shard.sh: no job runs it" out &&
	test_line_count = 5 out
'

test_expect_success 'stages and jobs in the documented order; drift on schedules, promote on main' '
	"$PYTHON" -c "import yaml, sys; print(\" \".join(yaml.safe_load(open(sys.argv[1]))[\"stages\"]))" \
		"$YML" >actual &&
	echo "drift ingest train select eval pack push promote" >expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	ingest aiops-ingest
	train aiops-train parallel 3
	select aiops-select
	eval aiops-eval
	pack aiops-pack
	push aiops-push
	promote aiops-promote
	EOF
	gl jobs --var CI_PIPELINE_SOURCE=push --var CI_COMMIT_BRANCH=main \
		--var CI_DEFAULT_BRANCH=main >actual &&
	test_cmp expect actual &&
	{ echo "drift aiops-drift" && cat expect; } >expect.schedule &&
	gl jobs --var CI_PIPELINE_SOURCE=schedule --var CI_COMMIT_BRANCH=main \
		--var CI_DEFAULT_BRANCH=main >actual &&
	test_cmp expect.schedule actual &&
	grep -v promote expect >expect.branch &&
	gl jobs --var CI_PIPELINE_SOURCE=push --var CI_COMMIT_BRANCH=topic \
		--var CI_DEFAULT_BRANCH=main >actual &&
	test_cmp expect.branch actual &&
	gl jobs --var CI_PIPELINE_SOURCE=merge_request_event --var CI_DEFAULT_BRANCH=main >actual &&
	test_cmp expect.branch actual
'

test_expect_success 'eval publishes the JUnit and metrics reports that eval.sh writes' '
	"$PYTHON" -c "
import yaml, sys
j = yaml.safe_load(open(sys.argv[1]))[\"aiops-eval\"][\"artifacts\"]
print(j[\"when\"], j[\"reports\"][\"junit\"], j[\"reports\"][\"metrics\"])" "$YML" >actual &&
	echo "always \$AIOPS_WORK/gate.xml \$AIOPS_WORK/metrics.txt" >expect &&
	test_cmp expect actual &&
	test_grep "junit \"\$W/gate.xml\"" "$CI/eval.sh" &&
	test_grep "metrics-report \"\$W/metrics.txt\"" "$CI/eval.sh"
'

# --- a push pipeline on the default branch --------------------------------------------

test_expect_success 'setup: a project with the demo data, a GitLab stub' '
	mkdir -p home proj/data &&
	cp "$TESTDATA/metrics-demo.csv" proj/data/metrics.csv &&
	cp "$TESTDATA/metrics-demo.labels" proj/data/incidents.labels &&
	awk -F, "NR == 1 { print; next }
		{ printf \"%s\", \$1; for (i = 2; i <= NF; i++) printf \",%.6f\", \$i * 1.5 + 0.3; print \"\" }" \
		proj/data/metrics.csv >drifted.csv &&
	test_line_count = 1435 drifted.csv &&
	start_stub &&
	port=$(wait_port_file stub.port) &&
	test -n "$port" &&
	echo "http://127.0.0.1:$port/api/v4" >api
'
API=$(cat api 2>/dev/null)

test_expect_success 'a push pipeline on main: every job passes, every artifact path matches' '
	pipeline p1 push 1 &&
	every_job_passed p1 &&
	test_must_be_empty p1/warnings &&
	cat >expect <<-\EOF &&
	aiops-ingest passed
	aiops-train-1 passed
	aiops-train-2 passed
	aiops-train-3 passed
	aiops-select passed
	aiops-eval passed
	aiops-pack passed
	aiops-push passed
	aiops-promote passed
	EOF
	test_cmp expect p1.out
'

test_expect_success 'each parallel job ran its shard: CI_NODE_INDEX k of 3 is --shard k/3' '
	for k in 1 2 3
	do
		test_grep "^train-shard.sh: shard $k of 3\$" p1/logs/aiops-train-$k.log &&
		test_path_is_file "$(art p1 aiops-train-$k shards/shard-$k-of-3.jsonl)" &&
		ls p1/artifacts/aiops-train-$k/aiops-work/shards >actual &&
		echo shard-$k-of-3.jsonl >expect &&
		test_cmp expect actual || return 1
	done &&
	"$PYTHON" -c "
import json, sys
seen = []
for k in (1, 2, 3):
    for line in open(\"p1/artifacts/aiops-train-%d/aiops-work/shards/shard-%d-of-3.jsonl\" % (k, k)):
        i = json.loads(line)[\"index\"]
        assert i % 3 == k - 1, (k, i)
        seen.append(i)
assert sorted(seen) == list(range(10)), seen
"
'

test_expect_success 'the winner is the unsharded search'"'"'s, and the best of all shard results' '
	d=p1/artifacts/aiops-ingest/aiops-work &&
	aiops-train -q --metric error --space "$SPACE" --valid $d/data.valid.tensor \
		-o single.model $d/data.train.tensor &&
	sel=$(art p1 aiops-select model.model) &&
	for m in single.model "$sel"
	do
		aiops-train --info --json "$m" >info.json &&
		jq_py info.json "(j[\"family\"], j[\"params\"], j[\"threshold\"][\"value\"])" || return 1
	done >winners &&
	test_line_count = 2 winners &&
	sed -n 1p winners >expect &&
	sed -n 2p winners >actual &&
	test_cmp expect actual &&
	echo "(${SQ}mahalanobis${SQ}, {${SQ}reg${SQ}: 0.5}, " >prefix &&
	grep -F "$(cat prefix)" actual &&
	"$PYTHON" -c "
import json
rows = [json.loads(l) for k in (1, 2, 3)
        for l in open(\"p1/artifacts/aiops-train-%d/aiops-work/shards/shard-%d-of-3.jsonl\" % (k, k))]
best = max(rows, key=lambda r: (r[\"metric\"], -r[\"index\"]))
assert best[\"family\"] == \"mahalanobis\" and best[\"params\"] == {\"reg\": 0.5}, best
assert best[\"index\"] % 3 != 0, \"the winner should not come from shard 1\"
" &&
	aiops-eval -o single.csv single.model $d/data.test.tensor &&
	aiops-eval -o sharded.csv "$sel" $d/data.test.tensor &&
	test_cmp single.csv sharded.csv
'

test_expect_success 'the gate passed; gate.xml is JUnit, metrics.txt the metrics of eval.json' '
	jq_py "$(art p1 aiops-eval eval.json)" "j[\"gate\"][\"passed\"]" >actual &&
	echo True >expect &&
	test_cmp expect actual &&
	"$PYTHON" -c "
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall(\".//testcase\")
assert [c.get(\"name\") for c in cases] == [\"f1>=0.5\", \"auc_pr>=0.5\"], cases
assert r.get(\"failures\") == \"0\" and not r.findall(\".//failure\")
" "$(art p1 aiops-eval gate.xml)" &&
	"$PYTHON" -c "
import json, sys
m = dict(l.split() for l in open(sys.argv[2]))
j = json.load(open(sys.argv[1]))[\"metrics\"]
assert abs(float(m[\"f1\"]) - j[\"f1\"]) < 1e-12 and j[\"f1\"] >= 0.5, (m[\"f1\"], j[\"f1\"])
assert abs(float(m[\"auc_pr\"]) - j[\"auc_pr\"]) < 1e-12 and j[\"auc_pr\"] >= 0.5
" "$(art p1 aiops-eval eval.json)" "$(art p1 aiops-eval metrics.txt)" &&
	test_grep "^gate: passed" p1/logs/aiops-eval.log &&
	test_grep "<svg" "$(art p1 aiops-eval eval.svg)"
'

test_expect_success 'the artifact verifies and holds the model, its report and the scaler' '
	a=$(art p1 aiops-pack aiops-model.tar.gz) &&
	echo 1a2b3c4d-1 >expect &&
	test_cmp expect "$(art p1 aiops-pack version)" &&
	aiops-pack --verify "$a" >actual &&
	echo "$a: OK: aiops-model 1a2b3c4d-1, 3 files, a mahalanobis model" >expect &&
	test_cmp expect actual &&
	aiops-pack --list "$a" | awk "{ print \$1, \$4 }" | sort >actual &&
	printf "%s\n" "file scaler.tensor" "manifest manifest.json" "model model.model" \
		"report eval.json" >expect &&
	test_cmp expect actual &&
	aiops-pack --extract x "$a" >/dev/null &&
	cmp x/model.model "$(art p1 aiops-select model.model)"
'

test_expect_success 'the package and its report are in the stub'"'"'s store with the pushed sha256' '
	a=$(art p1 aiops-pack aiops-model.tar.gz) &&
	cmp "$a" "$(stored 1a2b3c4d-1)" &&
	cmp "$(art p1 aiops-eval eval.json)" stub.store/42/aiops-model/1a2b3c4d-1/eval.json &&
	cmp "$a" "$(stored production)" &&
	h=$(sha256sum <"$(stored 1a2b3c4d-1)" | cut -d" " -f1) &&
	test_grep "^sha256:$h gitlab://aiops-model/1a2b3c4d-1/aiops-model.tar.gz\$" \
		"$(art p1 aiops-push push.txt)" &&
	test_grep "^sha256:$h gitlab://aiops-model/production/aiops-model.tar.gz\$" \
		"$(art p1 aiops-promote promote.txt)" &&
	cat >expect <<-\EOF &&
	PUT /api/v4/projects/42/packages/generic/aiops-model/1a2b3c4d-1/aiops-model.tar.gz?select=package_file job 201
	PUT /api/v4/projects/42/packages/generic/aiops-model/1a2b3c4d-1/eval.json?select=package_file job 201
	PUT /api/v4/projects/42/packages/generic/aiops-model/production/aiops-model.tar.gz?select=package_file job 201
	EOF
	test_cmp expect stub.log
'

test_expect_success 'the OCI layout names one manifest by the version and by production' '
	"$PYTHON" -c "
import json, sys
idx = json.load(open(\"layout/index.json\"))
tags = {m[\"annotations\"][\"org.opencontainers.image.ref.name\"]: m[\"digest\"] for m in idx[\"manifests\"]}
print(tags[\"1a2b3c4d-1\"], tags[\"production\"])" >actual &&
	d=$(awk "\$2 ~ /^oci-layout:/ { print \$1 }" "$(art p1 aiops-push push.txt)") &&
	echo "$d $d" >expect &&
	test_cmp expect actual &&
	aiops-push -q --pull -o pulled "oci-layout:layout:production" >/dev/null &&
	cmp pulled/model.model "$(art p1 aiops-select model.model)"
'

test_expect_success 'a failed gate: eval exits 3, its reports are kept, nothing is packed or pushed' '
	test_must_fail pipeline p2 push 2 --var AIOPS_REQUIRE="f1>=0.99" &&
	cat >expect <<-\EOF &&
	aiops-ingest passed
	aiops-train-1 passed
	aiops-train-2 passed
	aiops-train-3 passed
	aiops-select passed
	aiops-eval failed 3
	aiops-pack skipped
	aiops-push skipped
	aiops-promote skipped
	EOF
	test_cmp expect p2.out &&
	test_grep "^gate: FAILED" p2/logs/aiops-eval.log &&
	test_grep "<failure" "$(art p2 aiops-eval gate.xml)" &&
	test_path_is_file "$(art p2 aiops-eval metrics.txt)" &&
	test_path_is_missing stub.store/42/aiops-model/1a2b3c4d-2 &&
	test_line_count = 3 stub.log
'

test_expect_success 'no gate configured: eval.sh refuses (status 2)' '
	test_must_fail pipeline p3 push 3 --var AIOPS_REQUIRE= &&
	test_grep "aiops-eval failed 2" p3.out &&
	test_grep "no gate: set AIOPS_REQUIRE" p3/logs/aiops-eval.log
'

test_expect_success 'a baseline: the production model, fetched from the registry, as the gate' '
	pipeline p4 push 4 --var AIOPS_REQUIRE= \
		--var AIOPS_BASELINE=gitlab://aiops-model/production/aiops-model.tar.gz \
		--var AIOPS_EVAL_OPTS="--compare auc_pr --margin 0" --var CI_COMMIT_BRANCH=topic &&
	every_job_passed p4 &&
	test_grep -v promote p4.out &&
	jq_py "$(art p4 aiops-eval eval.json)" "[(c[\"metric\"], c.get(\"baseline\")) for c in j[\"gate\"][\"checks\"]]" >actual &&
	echo "[(${SQ}auc_pr${SQ}, True)]" >expect &&
	test_cmp expect actual &&
	cmp "$(stored 1a2b3c4d-1)" "$(stored production)"
'

# --- the scheduled drift check --------------------------------------------------------

test_expect_success 'schedule, the same data: the check keeps the model, nothing is retrained' '
	grep "^PUT " stub.log >puts.before &&
	pipeline s1 schedule 5 &&
	every_job_passed s1 &&
	test_grep "^aiops-drift passed" s1.out &&
	echo "keep no drift from gitlab://aiops-model/production/aiops-model.tar.gz" >expect &&
	test_cmp expect "$(art s1 aiops-drift drift.decision)" &&
	jq_py "$(art s1 aiops-drift drift.json)" "(j[\"mode\"], j[\"metrics\"][\"drifted_columns\"], j[\"gate\"][\"passed\"])" >actual &&
	echo "(${SQ}drift${SQ}, 0, True)" >expect &&
	test_cmp expect actual &&
	for j in ingest train-1 train-2 train-3 select eval pack push promote
	do
		test_grep "nothing to do: no drift" s1/logs/aiops-$j.log &&
		test_path_is_missing s1/artifacts/aiops-$j || return 1
	done &&
	test_grep "GET /api/v4/projects/42/packages/generic/aiops-model/production/aiops-model.tar.gz job 200" stub.log &&
	grep "^PUT " stub.log >actual &&
	test_cmp puts.before actual &&
	test_path_is_missing stub.store/42/aiops-model/1a2b3c4d-5
'

test_expect_success 'schedule, AIOPS_FORCE_RETRAIN=1: retrained, pushed and promoted' '
	pipeline s2 schedule 6 --var AIOPS_FORCE_RETRAIN=1 &&
	every_job_passed s2 &&
	test_must_be_empty s2/warnings &&
	echo "retrain forced by AIOPS_FORCE_RETRAIN" >expect &&
	test_cmp expect "$(art s2 aiops-drift drift.decision)" &&
	test_grep "^gate: passed" s2/logs/aiops-drift.log &&
	cmp "$(art s2 aiops-pack aiops-model.tar.gz)" "$(stored 1a2b3c4d-6)" &&
	cmp "$(stored 1a2b3c4d-6)" "$(stored production)"
'

test_expect_success 'schedule, drifted data: the check fires (exit 3), retrained on the new data' '
	pipeline s3 schedule 7 --var AIOPS_DATA="$TRASH_DIRECTORY/drifted.csv" &&
	every_job_passed s3 &&
	test_must_be_empty s3/warnings &&
	echo "retrain the data drifted from gitlab://aiops-model/production/aiops-model.tar.gz" >expect &&
	test_cmp expect "$(art s3 aiops-drift drift.decision)" &&
	jq_py "$(art s3 aiops-drift drift.json)" "(j[\"metrics\"][\"drifted_columns\"], j[\"gate\"][\"passed\"])" >actual &&
	echo "(6, False)" >expect &&
	test_cmp expect actual &&
	cmp "$(stored 1a2b3c4d-7)" "$(stored production)" &&
	aiops-push -q --pull -o new "oci-layout:layout:production" >/dev/null &&
	aiops-train --info --json new/model.model >info.json &&
	jq_py info.json "round(abs(j[\"scaler\"][\"center\"][0] - 1.5 * 0.4930235244186045 - 0.3), 5)" >actual &&
	echo 0.0 >expect &&
	test_cmp expect actual
'

test_expect_success 'schedule, drifted data again: the retrained model is current, nothing to do' '
	pipeline s4 schedule 8 --var AIOPS_DATA="$TRASH_DIRECTORY/drifted.csv" &&
	every_job_passed s4 &&
	test_grep "^keep " "$(art s4 aiops-drift drift.decision)" &&
	test_path_is_missing stub.store/42/aiops-model/1a2b3c4d-8
'

test_expect_success 'schedule without a current model: the check fails; forced, the first one is made' '
	test_must_fail pipeline s5 schedule 9 --var CI_PROJECT_ID=43 &&
	test_grep "^aiops-drift failed 1" s5.out &&
	test_grep "^aiops-ingest skipped" s5.out &&
	test_grep "HTTP 404" s5/logs/aiops-drift.log &&
	test_grep "AIOPS_FORCE_RETRAIN=1 trains the first one" s5/logs/aiops-drift.log &&
	pipeline s6 schedule 10 --var CI_PROJECT_ID=43 --var AIOPS_FORCE_RETRAIN=1 \
		--var AIOPS_REGISTRY=gitlab &&
	every_job_passed s6 &&
	test_path_is_file stub.store/43/aiops-model/production/aiops-model.tar.gz
'

# --- the job scripts alone -------------------------------------------------------------

test_expect_success 'train-shard.sh: the index from GitLab (1-based) or Kubernetes (0-based), checked' '
	mkdir -p w/shards &&
	cp p1/artifacts/aiops-ingest/aiops-work/*.tensor w/ &&
	(
		AIOPS_WORK=w AIOPS_SPACE=$SPACE AIOPS_METRIC=error &&
		export AIOPS_WORK AIOPS_SPACE AIOPS_METRIC &&
		test_expect_code 2 env CI_NODE_INDEX=0 CI_NODE_TOTAL=3 "$CI/train-shard.sh" 2>err &&
		test_grep "shard 0 of 3: the index must be from 1" err &&
		test_expect_code 2 env CI_NODE_INDEX=4 CI_NODE_TOTAL=3 "$CI/train-shard.sh" 2>err &&
		test_expect_code 2 env CI_NODE_INDEX=1 CI_NODE_TOTAL=3 AIOPS_SHARDS=4 "$CI/train-shard.sh" 2>err &&
		test_grep "AIOPS_SHARDS=4, but CI_NODE_TOTAL=3: give the train job parallel: 4" err &&
		test_expect_code 2 env JOB_COMPLETION_INDEX=1 "$CI/train-shard.sh" 2>err &&
		test_grep "AIOPS_SHARDS is not set (the completions of the Indexed Job)" err &&
		test_expect_code 2 env AIOPS_SHARDS=3 "$CI/train-shard.sh" 2>err &&
		test_grep "no shard index" err &&
		test_path_is_missing w/shards/shard-1-of-3.jsonl &&
		env JOB_COMPLETION_INDEX=1 AIOPS_SHARDS=3 "$CI/train-shard.sh" 2>err &&
		test_grep "shard 2 of 3" err &&
		"$PYTHON" -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
k = lambda r: (r[\"index\"], r[\"key\"], r[\"metric\"])
assert sorted(map(k, a)) == sorted(map(k, b)), (a, b)" w/shards/shard-2-of-3.jsonl \
			p1/artifacts/aiops-train-2/aiops-work/shards/shard-2-of-3.jsonl
	)
'

test_expect_success 'select.sh: all shards or none; searches split two ways are refused' '
	(
		AIOPS_WORK=w && export AIOPS_WORK &&
		cp p1/artifacts/aiops-train-1/aiops-work/shards/shard-1-of-3.jsonl w/shards/ &&
		test_expect_code 1 "$CI/select.sh" 2>err &&
		test_grep "missing the results of shard(s) 3 of 3" err &&
		test_path_is_missing w/model.model &&
		cp w/shards/shard-1-of-3.jsonl w/shards/shard-1-of-2.jsonl &&
		test_expect_code 1 "$CI/select.sh" 2>err &&
		test_grep "split 2 and 3 ways\\|split 3 and 2 ways" err &&
		rm w/shards/shard-1-of-2.jsonl &&
		cp p1/artifacts/aiops-train-3/aiops-work/shards/shard-3-of-3.jsonl w/shards/ &&
		AIOPS_METRIC=error "$CI/select.sh" >out 2>err &&
		test_grep "^model: *mahalanobis (detector) reg=0.5" out
	)
'

test_expect_success 'ingest.sh starts a run afresh: an earlier run'"'"'s shards and model go' '
	(
		AIOPS_WORK=w AIOPS_DATA=proj/data/metrics.csv AIOPS_SCALE=none &&
		export AIOPS_WORK AIOPS_DATA AIOPS_SCALE &&
		"$CI/ingest.sh" 2>err &&
		test_path_is_missing w/shards &&
		test_path_is_missing w/model.model &&
		test_path_is_missing w/scaler.tensor &&
		test_path_is_file w/data.valid.tensor &&
		test_expect_code 2 env AIOPS_DATA= "$CI/ingest.sh" 2>err &&
		test_grep "AIOPS_DATA is not set" err &&
		echo "maybe later" >w/drift.decision &&
		test_expect_code 1 "$CI/ingest.sh" 2>err &&
		test_grep "unknown decision \"maybe\"" err
	)
'

# --- an OCI registry with the job's credentials ---------------------------------------

test_expect_success REGISTRY,BCRYPT 'setup: a registry that takes gitlab-ci-token and the job token' '
	if command -v htpasswd >/dev/null 2>&1
	then
		printf "%s\n" "$JOBTOK" | htpasswd -iBc reg.htpasswd gitlab-ci-token 2>/dev/null
	else
		PW=$JOBTOK "$PYTHON" -W ignore -c "import crypt, os; print(\"gitlab-ci-token:\" + crypt.crypt(os.environ[\"PW\"], crypt.mksalt(crypt.METHOD_BLOWFISH)))" >reg.htpasswd
	fi &&
	reg_port=$(free_port) &&
	mkdir -p reg.data &&
	cat >reg.yml <<-EOF &&
	version: 0.1
	log:
	  level: warn
	storage:
	  filesystem:
	    rootdirectory: $TRASH_DIRECTORY/reg.data
	http:
	  addr: 127.0.0.1:$reg_port
	  secret: aiops-t9100
	auth:
	  htpasswd:
	    realm: aiops-t9100
	    path: $TRASH_DIRECTORY/reg.htpasswd
	EOF
	start_bg "$REGISTRY" serve reg.yml &&
	n=0 &&
	until test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$reg_port/v2/")" = 401
	do
		test $n -lt 100 || return 1
		sleep 0.1
		n=$((n + 1))
	done &&
	echo "$reg_port" >reg.port
'
REG=127.0.0.1:$(cat reg.port 2>/dev/null)

test_expect_success REGISTRY,BCRYPT 'AIOPS_REGISTRY=oci: pushed to $CI_REGISTRY_IMAGE, promoted by tag, checked by drift' '
	ov="--var AIOPS_REGISTRY=oci --var CI_REGISTRY=$REG --var CI_REGISTRY_IMAGE=$REG/group/project" &&
	ov="$ov --var CI_REGISTRY_USER=gitlab-ci-token --var CI_REGISTRY_PASSWORD=$JOBTOK" &&
	pipeline o1 push 11 $ov &&
	every_job_passed o1 &&
	test_must_be_empty o1/warnings &&
	d=$(awk "\$2 == \"oci://$REG/group/project/aiops-model:1a2b3c4d-11\" { print \$1 }" \
		"$(art o1 aiops-push push.txt)") &&
	test -n "$d" &&
	echo "$d oci://$REG/group/project/aiops-model:production" >expect &&
	test_cmp expect "$(art o1 aiops-promote promote.txt)" &&
	test_expect_code 1 aiops-push -q --pull -o nocreds "oci://$REG/group/project/aiops-model:production" 2>err &&
	AIOPS_REGISTRY_USER=gitlab-ci-token AIOPS_REGISTRY_PASSWORD=$JOBTOK \
		aiops-push -q --pull -o fromreg "oci://$REG/group/project/aiops-model@$d" >/dev/null &&
	cmp fromreg/model.model "$(art o1 aiops-select model.model)" &&
	pipeline o2 schedule 12 $ov &&
	every_job_passed o2 &&
	echo "keep no drift from oci://$REG/group/project/aiops-model:production" >expect &&
	test_cmp expect "$(art o2 aiops-drift drift.decision)"
'

# --- secrets ---------------------------------------------------------------------------

test_expect_success 'the job token is in no output, log, artifact or stored file' '
	test -s p1/logs/aiops-push.log &&
	test -s s3/logs/aiops-drift.log &&
	! grep -rlF -e "$JOBTOK" . "$TRASH_DIRECTORY.out/servers.log"
'

test_expect_success 'every server is stopped' '
	stop_all &&
	test_must_be_empty "$PIDFILE"
'

stop_all
test_done
