#!/bin/sh
# t4110: aiops-push to GitLab generic packages, against tests/helpers/gitlab_stub.py (the
# documented PUT/GET endpoints, JOB-TOKEN and PRIVATE-TOKEN checked, 500 for racing uploads
# to one version, as GitLab does). The stub runs on a free port of 127.0.0.1, started and
# stopped by this script, also on failure or a signal.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='aiops-push: GitLab generic packages'
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1
then
	test_skip_all 'no curl'
fi
sane_unset CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN AIOPS_GITLAB_TOKEN AIOPS_PUSH_RETRY_TIME
AIOPS_PUSH_RETRY_DELAY=0.05
AIOPS_PUSH_RETRIES=8
export AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_RETRIES

JOBTOK=job-$$-Hk4sW9
PRIVTOK=glpat-$$-Rb7nQ2

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

# start_stub NAME [ARGS...]: gitlab_stub.py storing into NAME.store, logging to NAME.log; the
# tokens reach it through the environment. Sets API (the /api/v4 URL) and stub_pid.
start_stub () {
	ss_name=$1
	shift
	rm -rf "$ss_name.port" "$ss_name.log" "$ss_name.store"
	(
		GITLAB_STUB_JOB_TOKEN=$JOBTOK
		GITLAB_STUB_PRIVATE_TOKEN=$PRIVTOK
		export GITLAB_STUB_JOB_TOKEN GITLAB_STUB_PRIVATE_TOKEN
		exec "$PYTHON" "$TEST_DIRECTORY/helpers/gitlab_stub.py" --port-file "$ss_name.port" \
			--store "$ss_name.store" --log "$ss_name.log" --lifetime 300 "$@"
	) </dev/null >>"$TRASH_DIRECTORY.out/servers.log" 2>&1 7>&- 8>&- &
	stub_pid=$!
	echo "$stub_pid" >>"$PIDFILE"
	ss_n=0
	while ! test -s "$ss_name.port" && test $ss_n -lt 100
	do
		sleep 0.1
		ss_n=$((ss_n + 1))
	done
	test -s "$ss_name.port" &&
	API=http://127.0.0.1:$(cat "$ss_name.port")/api/v4
}

# in_ci CMD...: CMD as in a GitLab CI job of project 42 against the stub.
in_ci () {
	(
		CI_API_V4_URL=$API CI_PROJECT_ID=42 CI_JOB_TOKEN=$JOBTOK &&
		export CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN &&
		"$@"
	)
}

test_expect_success 'setup: an artifact and a report, a GitLab stub' '
	aiops-ingest -o x.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o m.model x.tensor &&
	echo "{\"best_f1\": 0.75}" >report.json &&
	aiops-pack -q -V 1.0.0 -o m.tar.gz m.model &&
	start_stub main &&
	echo "$API" >api
'
API=$(cat api 2>/dev/null)

test_expect_success 'in a CI job: CI_API_V4_URL, CI_PROJECT_ID and CI_JOB_TOKEN (JOB-TOKEN)' '
	in_ci aiops-push -v m.tar.gz gitlab://aiops-model/1.0.0 >out 2>err &&
	echo "$(sha m.tar.gz) gitlab://aiops-model/1.0.0/m.tar.gz" >expect &&
	test_cmp expect out &&
	test_grep "authenticating with CI_JOB_TOKEN as JOB-TOKEN" err &&
	echo "PUT /api/v4/projects/42/packages/generic/aiops-model/1.0.0/m.tar.gz?select=package_file job 201" >expect &&
	test_cmp expect main.log &&
	cmp m.tar.gz main.store/42/aiops-model/1.0.0/m.tar.gz &&
	cat out err >>all.out
'

test_expect_success 'outside CI: --api-url, --project (a path, URL-encoded), AIOPS_GITLAB_TOKEN (PRIVATE-TOKEN)' '
	: >main.log &&
	AIOPS_GITLAB_TOKEN=$PRIVTOK aiops-push --api-url "$API/" --project group/sub/proj \
		m.tar.gz gitlab://aiops-model/1.0.0+build.7/model.tgz >out 2>err &&
	echo "$(sha m.tar.gz) gitlab://aiops-model/1.0.0+build.7/model.tgz" >expect &&
	test_cmp expect out &&
	echo "PUT /api/v4/projects/group%2Fsub%2Fproj/packages/generic/aiops-model/1.0.0%2Bbuild.7/model.tgz?select=package_file private 201" >expect &&
	test_cmp expect main.log &&
	cmp m.tar.gz "main.store/group%2Fsub%2Fproj/aiops-model/1.0.0+build.7/model.tgz" &&
	cat out err >>all.out
'

test_expect_success 'AIOPS_GITLAB_TOKEN wins over CI_JOB_TOKEN' '
	: >main.log &&
	(
		AIOPS_GITLAB_TOKEN=$PRIVTOK && export AIOPS_GITLAB_TOKEN &&
		in_ci aiops-push m.tar.gz gitlab://aiops-model/1.0.1
	) >out 2>err &&
	test_grep " private 201\$" main.log &&
	cat out err >>all.out
'

test_expect_success 'a wrong token: status 1, the kind of token named, never its value' '
	(
		CI_API_V4_URL=$API CI_PROJECT_ID=42 CI_JOB_TOKEN=wrong-$JOBTOK &&
		export CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN &&
		test_expect_code 1 aiops-push m.tar.gz gitlab://aiops-model/1.0.2 >out 2>err
	) &&
	test_must_be_empty out &&
	test_grep "HTTP 401 (401 Unauthorized): the job token (JOB-TOKEN) was refused" err &&
	test_path_is_missing main.store/42/aiops-model/1.0.2 &&
	cat out err >>all.out
'

test_expect_success 'no token, no URL, no project: status 2 and what to set' '
	(
		CI_API_V4_URL=$API CI_PROJECT_ID=42 && export CI_API_V4_URL CI_PROJECT_ID &&
		test_expect_code 2 aiops-push m.tar.gz gitlab://aiops-model/1.0.0 >out 2>err
	) &&
	test_grep "no token: set AIOPS_GITLAB_TOKEN" err &&
	test_expect_code 2 aiops-push m.tar.gz gitlab://aiops-model/1.0.0 >out 2>err &&
	test_grep "no API URL: give --api-url or set CI_API_V4_URL" err &&
	test_expect_code 2 aiops-push --api-url "$API" m.tar.gz gitlab://aiops-model/1.0.0 >out 2>err &&
	test_grep "no project: give --project or set CI_PROJECT_ID" err &&
	test_expect_code 2 aiops-push --project 42 m.tar.gz layout:1 >out 2>err &&
	test_grep "go with a gitlab:// target" err &&
	test_path_is_missing layout
'

test_expect_success 'names and versions outside GitLab'"'"'s rules: status 2 before any request' '
	: >main.log &&
	test_expect_code 2 in_ci aiops-push m.tar.gz "gitlab://bad name/1.0" >out 2>err &&
	test_grep "expected gitlab://PACKAGE/VERSION\\[/FILE\\]" err &&
	test_expect_code 2 in_ci aiops-push m.tar.gz "gitlab://pkg/1.0/a/b" >out 2>err &&
	test_expect_code 2 in_ci aiops-push m.tar.gz "gitlab://pkg" >out 2>err &&
	test_expect_code 2 in_ci aiops-push m.tar.gz "gitlab://pkg/../x" >out 2>err &&
	test_must_be_empty main.log
'

test_expect_success 'the stub answers 400 to a version GitLab refuses; aiops-push says so' '
	test_expect_code 1 in_ci aiops-push m.tar.gz "gitlab://pkg/1...0" >out 2>err &&
	test_grep "HTTP 400" err
'

test_expect_success 'a broken artifact is not uploaded' '
	: >main.log &&
	head -c 2000 m.tar.gz >cut.tar.gz &&
	test_expect_code 1 in_ci aiops-push cut.tar.gz gitlab://aiops-model/1.0.3 >out 2>err &&
	test_grep "^aiops-push: cut.tar.gz" err &&
	test_must_be_empty main.log
'

test_expect_success '--referrer: the report goes up after the artifact, one upload at a time' '
	stop_pid "$stub_pid" &&
	start_stub slow --delay 0.5 &&
	in_ci aiops-push --referrer report.json m.tar.gz gitlab://aiops-model/2.0.0 >out 2>err &&
	printf "%s %s\n" "$(sha m.tar.gz)" gitlab://aiops-model/2.0.0/m.tar.gz \
		"$(sha report.json)" gitlab://aiops-model/2.0.0/report.json >expect &&
	test_cmp expect out &&
	cut -d" " -f2,4 slow.log | sed -e "s/.*generic//" >actual &&
	printf "%s\n" "/aiops-model/2.0.0/m.tar.gz?select=package_file 201" \
		"/aiops-model/2.0.0/report.json?select=package_file 201" >expect &&
	test_cmp expect actual &&
	cmp report.json slow.store/42/aiops-model/2.0.0/report.json &&
	cat out err >>all.out
'

test_expect_success 'the stub, like GitLab, fails racing uploads to one version with 500' '
	: >slow.log &&
	echo a >a.txt &&
	echo b >b.txt &&
	{
		curl -s -o /dev/null -w "%{http_code}\n" -H "JOB-TOKEN: $JOBTOK" -T a.txt \
			"$API/projects/42/packages/generic/race/1.0/a.txt" >a.code &
		c1=$!
		curl -s -o /dev/null -w "%{http_code}\n" -H "JOB-TOKEN: $JOBTOK" -T b.txt \
			"$API/projects/42/packages/generic/race/1.0/b.txt" >b.code &
		c2=$!
		wait $c1 && wait $c2
	} &&
	cat a.code b.code | sort >actual &&
	printf "201\n500\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'two pushes racing to one version: the 500 is retried, both files land' '
	: >slow.log &&
	cp m.tar.gz m2.tar.gz &&
	{
		in_ci aiops-push -v m.tar.gz gitlab://aiops-model/3.0.0 >r1.out 2>r1.err &
		p1=$!
		in_ci aiops-push -v m2.tar.gz gitlab://aiops-model/3.0.0 >r2.out 2>r2.err &
		p2=$!
		wait $p1 && wait $p2
	} &&
	test_grep " 500\$" slow.log &&
	cat r1.err r2.err >r.err &&
	test_grep "HTTP 500 (500 Internal Server Error); retrying in" r.err &&
	cmp m.tar.gz slow.store/42/aiops-model/3.0.0/m.tar.gz &&
	cmp m2.tar.gz slow.store/42/aiops-model/3.0.0/m2.tar.gz &&
	cat r1.out r2.out r.err >>all.out
'

test_expect_success 'pull: the file comes back, verified and extracted' '
	in_ci aiops-push --pull -o pulled gitlab://aiops-model/2.0.0/m.tar.gz >out 2>err &&
	echo "$(sha m.tar.gz) gitlab://aiops-model/2.0.0/m.tar.gz" >expect &&
	test_cmp expect out &&
	cmp m.model pulled/m.model &&
	test_expect_code 1 in_ci aiops-push --pull -o nothere gitlab://aiops-model/9.9.9/m.tar.gz >out 2>err &&
	test_grep "HTTP 404" err &&
	test_path_is_missing nothere &&
	test_expect_code 2 in_ci aiops-push --pull -o nothere gitlab://aiops-model/2.0.0 >out 2>err &&
	test_grep "name the file to pull" err &&
	cat out err >>all.out
'

test_expect_success 'the tokens appear in no output, no argv and no file written' '
	test -s all.out &&
	! grep -F -e "$JOBTOK" -e "$PRIVTOK" all.out &&
	! grep -rF -e "$JOBTOK" -e "$PRIVTOK" pulled main.store slow.store &&
	{
		(
			CI_API_V4_URL=$API CI_PROJECT_ID=42 CI_JOB_TOKEN=$JOBTOK &&
			export CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN &&
			exec aiops-push m.tar.gz gitlab://aiops-model/4.0.0
		) >/dev/null 2>&1 &
		push_pid=$!
	} &&
	sleep 0.2 &&
	{ tr "\\0" " " </proc/$push_pid/cmdline >cmdline 2>/dev/null || :; } &&
	wait $push_pid &&
	test_grep "gitlab://aiops-model/4.0.0" cmdline &&
	! grep -F -e "$JOBTOK" -e "$PRIVTOK" cmdline
'

test_expect_success 'every server is stopped' '
	stop_all &&
	test_must_be_empty "$PIDFILE"
'

stop_all
test_done
