#!/bin/sh
# t0000: the test library tests/lib.sh checks itself, so that later failures mean something.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034,SC2317 source=tests/lib.sh

test_description='the test library (tests/lib.sh)'
. "$(dirname "$0")/lib.sh"

# run_sub_test NAME [OPTION...] <script: write NAME/NAME.sh (a test script on lib.sh
# whose body is read from stdin), run it in NAME/ with a clean test environment and
# leave its stdout in NAME/out, stderr in NAME/err and exit status in NAME/status.
# Its trash directory is trash/NAME.
run_sub_test () {
	test_sub_name=$1
	shift
	mkdir "$test_sub_name" "$test_sub_name/bin" &&
	{
		echo "#!/bin/sh" &&
		echo "test_description='sub-test $test_sub_name'" &&
		echo '. "$TEST_DIRECTORY/lib.sh"' &&
		cat
	} >"$test_sub_name/$test_sub_name.sh" &&
	chmod +x "$test_sub_name/$test_sub_name.sh" &&
	(
		cd "$test_sub_name" &&
		TEST_TRASH_ROOT=$TRASH_DIRECTORY/trash &&
		AIOPS_BIN=bin &&
		export TEST_DIRECTORY TEST_TRASH_ROOT AIOPS_BIN &&
		sane_unset AIOPS_TESTBIN TEST_VERBOSE TEST_KEEP TEST_CHAIN_LINT TEST_LONG &&
		{
			./"$test_sub_name.sh" "$@" >out 2>err
			echo $? >status
		}
	)
}

test_expect_success 'the environment is set up' '
	test "$LC_ALL" = C &&
	test "$TZ" = UTC &&
	test "$(pwd)" = "$TRASH_DIRECTORY" &&
	case $TRASH_DIRECTORY in
	*/t0000-harness) ;;
	*) false ;;
	esac &&
	case $PATH in
	"$BIN:$TESTBIN:"*) ;;
	*) false ;;
	esac &&
	if test -z "$AIOPS_BIN"
	then
		test "$BIN" = "$TOP/build/bin"
	fi &&
	test "$TESTDATA" = "$TOP/testdata" &&
	test "$TEST_DIRECTORY" = "$TOP/tests" &&
	test -f "$TEST_DIRECTORY/lib.sh" &&
	test "$(ls -A)" = ""
'

test_expect_success 'a relative AIOPS_BIN becomes absolute, first in PATH, TESTBIN beside it' '
	run_sub_test env <<-\EOF &&
	echo "# BIN=$BIN"
	echo "# TESTBIN=$TESTBIN"
	echo "# PATH=${PATH%%:*}"
	test_done
	EOF
	{
		echo "# BIN=$TRASH_DIRECTORY/env/bin" &&
		echo "# TESTBIN=$TRASH_DIRECTORY/env/tests" &&
		echo "# PATH=$TRASH_DIRECTORY/env/bin" &&
		echo "# passed all 0 test(s)" &&
		echo "1..0"
	} >expect &&
	test_cmp expect env/out
'

test_expect_success 'test_cmp accepts equal files and shows how others differ' '
	test_write_lines a b c >one &&
	test_write_lines a b c >two &&
	test_write_lines a X c >three &&
	test_cmp one two &&
	! test_cmp one three >diff-out &&
	test_grep "^-b$" diff-out &&
	test_grep "^+X$" diff-out &&
	! test_cmp one missing 2>err &&
	test_grep "test_cmp: .missing. does not exist" err
'

test_expect_success 'test_must_fail accepts statuses 1 to 125 only' '
	test_must_fail false &&
	test_must_fail sh -c "exit 1" &&
	test_must_fail sh -c "exit 125" &&
	! test_must_fail true 2>err &&
	test_grep "test_must_fail: command succeeded: true" err &&
	! test_must_fail sh -c "exit 126" 2>err &&
	test_grep "test_must_fail: command not found or not executable (status 126)" err &&
	! test_must_fail aiops-no-such-command 2>err &&
	test_grep "test_must_fail: command not found or not executable (status 127)" err
'

test_expect_success 'test_must_fail does not accept a crash' '
	! (
		ulimit -c 0 &&
		test_must_fail sh -c "kill -SEGV \$\$"
	) 2>err &&
	test_grep "test_must_fail: died by signal 11 (status 139)" err &&
	(
		ulimit -c 0 &&
		test_expect_code 1 test_must_fail sh -c "kill -ABRT \$\$"
	) 2>err &&
	test_grep "test_must_fail: died by signal 6 (status 134)" err &&
	! test_must_fail sh -c "exit 200" 2>err &&
	test_grep "status 200" err
'

test_expect_success 'test_expect_code wants the exact status' '
	test_expect_code 0 true &&
	test_expect_code 1 false &&
	test_expect_code 3 sh -c "exit 3" &&
	! test_expect_code 2 sh -c "exit 3" 2>err &&
	test_grep "command exited with 3, wanted 2" err &&
	! test_expect_code 0 false 2>err &&
	test_grep "exited with 1, wanted 0" err
'

test_expect_success 'test_approx compares within the tolerance' '
	test_approx 1.0 1 0 &&
	test_approx 0.1 0.10000001 1e-6 &&
	test_approx -2.5 -2.4 0.1000001 &&
	test_approx 1e3 999.9995 0.001 &&
	test_approx .5 5E-1 0 &&
	test_approx nan NaN 0 &&
	test_approx inf +Inf 0 &&
	test_approx -inf -infinity 0 &&
	! test_approx 1 2 0.5 2>err &&
	test_grep -F "|1 - 2| = 1 > 0.5" err &&
	! test_approx 0.1 0.2 0.05 &&
	! test_approx 1 -1 1.5 &&
	! test_approx 1e-3 2e-3 1e-4 &&
	! test_approx nan 1 100 &&
	! test_approx inf -inf 1e300 &&
	! test_approx 1 1 -1 2>err &&
	test_grep "bad tolerance" err &&
	! test_approx abc 0 1 2>err &&
	test_grep "not a number: \"abc\"" err &&
	! test_approx 0 "" 1 &&
	! test_approx 0x10 16 0
'

test_expect_success 'test_line_count counts lines' '
	test_write_lines a b c >three &&
	: >empty &&
	test_line_count = 3 three &&
	test_line_count -gt 2 three &&
	test_line_count -lt 4 three &&
	test_line_count != 2 three &&
	test_line_count = 0 empty &&
	! test_line_count = 2 three 2>err &&
	test_grep "three has 3 lines, wanted = 2" err &&
	! test_line_count -ge 4 three &&
	! test_line_count = 0 missing-file 2>err &&
	test_grep "no such file" err
'

test_expect_success 'test_grep and the path assertions' '
	test_write_lines "alpha beta" gamma >f &&
	test_grep beta f &&
	test_grep "^gamma$" f &&
	test_grep ! delta f &&
	test_grep -F "a b" f &&
	test_grep -i -F GAMMA f &&
	! test_grep -F GAMMA f 2>err &&
	! test_grep delta f 2>err &&
	test_grep "not found in f" err &&
	test_grep "^alpha beta$" err &&
	! test_grep ! gamma f 2>err &&
	test_grep "unexpectedly found" err &&
	! test_grep x no-such-file 2>err &&
	test_path_is_file f &&
	! test_path_is_file nope 2>err &&
	test_path_is_missing nope &&
	! test_path_is_missing f 2>err &&
	test_path_is_dir . &&
	! test_path_is_dir f 2>err &&
	: >e &&
	test_must_be_empty e &&
	! test_must_be_empty f 2>err &&
	! test_must_be_empty nope 2>err
'

test_expect_success 'write_script and sane_unset' '
	write_script hello <<-\EOF &&
	echo "hello $1"
	EOF
	test -x hello &&
	./hello world >actual &&
	echo "hello world" >expect &&
	test_cmp expect actual &&
	head -n 1 hello >actual &&
	echo "#!/bin/sh" >expect &&
	test_cmp expect actual &&
	AIOPS_T0000=1 &&
	sane_unset AIOPS_T0000 AIOPS_T0000_NEVER_SET &&
	test -z "${AIOPS_T0000+set}"
'

test_set_prereq HAVEIT
test_lazy_prereq LAZY_TRUE 'true'
test_lazy_prereq LAZY_FALSE 'false'
test_lazy_prereq LAZY_COUNTED 'echo x >>"$TRASH_DIRECTORY/lazy-count"'

test_expect_success 'test_have_prereq, lists and negation' '
	test_have_prereq HAVEIT &&
	! test_have_prereq NOPE &&
	test_have_prereq HAVEIT,!NOPE &&
	! test_have_prereq HAVEIT,NOPE &&
	! test_have_prereq !HAVEIT &&
	test_have_prereq LAZY_TRUE &&
	! test_have_prereq LAZY_FALSE &&
	test_have_prereq !LAZY_FALSE &&
	test_have_prereq LAZY_COUNTED &&
	test_have_prereq LAZY_COUNTED &&
	test_line_count = 1 lazy-count
'

test_ran=
test_expect_success HAVEIT 'a test whose prerequisite holds runs' '
	test_ran=yes
'
test_expect_success 'it did run' '
	test "$test_ran" = yes
'

test_expect_success 'test_when_finished runs after the body' '
	test_when_finished "rm -f finished-file" &&
	: >finished-file &&
	test_path_is_file finished-file
'
test_expect_success '... and it ran' '
	test_path_is_missing finished-file
'

test_expect_success 'a passing script: TAP, skips, plan, trash removed' '
	run_sub_test pass <<-\EOF &&
	test_expect_success "first" "true"
	test_expect_success "second has a # sign" "echo hi && test_path_is_missing nothing"
	test_set_prereq HERE
	test_expect_success HERE "with prereq" "true"
	test_expect_success NOPE,HERE "skipped" "false"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - first
	ok 2 - second has a \# sign
	ok 3 - with prereq
	ok 4 # skip skipped (missing NOPE)
	# passed all 4 test(s), 1 skipped
	1..4
	EOF
	test_cmp expect pass/out &&
	test_must_be_empty pass/err &&
	echo 0 >expect &&
	test_cmp expect pass/status &&
	test_path_is_dir trash &&
	test_path_is_missing trash/pass &&
	test_path_is_missing trash/pass.out
'

test_expect_success 'a failing script: body and output shown, status 1, trash kept' '
	run_sub_test fail <<-\EOF &&
	test_expect_success "passes" "true"
	test_expect_success "fails" "echo visible output && echo on stderr >&2 && false"
	test_expect_success "after" ": >after-ran"
	test_done
	EOF
	{
		echo "ok 1 - passes" &&
		echo "not ok 2 - fails" &&
		printf "#\t%s\n" "echo visible output && echo on stderr >&2 && false" &&
		echo "# output:" &&
		printf "#\t%s\n" "visible output" "on stderr" &&
		echo "ok 3 - after" &&
		echo "# failed 1 among 3 test(s)" &&
		echo "1..3" &&
		echo "# trash directory kept: $TRASH_DIRECTORY/trash/fail"
	} >expect &&
	test_cmp expect fail/out &&
	echo 1 >expect &&
	test_cmp expect fail/status &&
	test_path_is_file trash/fail/after-ran
'

test_expect_success 'only the last 20 lines of output are shown' '
	run_sub_test tail <<-\EOF &&
	test_expect_success "noisy" "i=1 && while test \$i -le 30; do echo line \$i; i=\$((i + 1)); done && false"
	test_done
	EOF
	test_grep "^# output (last 20 lines of .*/trash/tail.out/1.out):$" tail/out &&
	sed -n -e "s/^#.line //p" tail/out >actual &&
	awk "BEGIN { for (i = 11; i <= 30; i++) print i }" >expect &&
	test_cmp expect actual
'

test_expect_success '-v shows the output on stderr instead' '
	run_sub_test verbose -v <<-\EOF &&
	test_expect_success "fails" "echo visible output && false"
	test_done
	EOF
	test_grep "^not ok 1 - fails$" verbose/out &&
	test_grep ! "^# output" verbose/out &&
	test_grep ! "visible output$" verbose/out &&
	test_grep "^visible output$" verbose/err &&
	echo 1 >expect &&
	test_cmp expect verbose/status
'

test_expect_success 'a broken &&-chain fails the test without running it' '
	run_sub_test lint <<-\EOF &&
	test_expect_success "broken" "
		: >ran-first
		: >ran-second
	"
	TEST_CHAIN_LINT=0
	test_expect_success "unchecked" "
		: >ran-third
		: >ran-fourth
	"
	test_done
	EOF
	test_grep "^not ok 1 - broken$" lint/out &&
	test_grep "^# broken &&-chain" lint/out &&
	test_grep "^ok 2 - unchecked$" lint/out &&
	test_path_is_missing trash/lint/ran-first &&
	test_path_is_missing trash/lint/ran-second &&
	test_path_is_missing trash/lint.out/lint/ran-first &&
	test_path_is_file trash/lint.out/lint/ran-second &&
	test_path_is_file trash/lint/ran-third &&
	test_path_is_file trash/lint/ran-fourth
'

test_expect_success 'test_when_finished runs after a failure and can fail the test' '
	run_sub_test cleanup <<-\EOF &&
	test_expect_success "body fails" "test_when_finished \": >cleaned\" && false"
	test_expect_success "cleanup fails" "test_when_finished false && true"
	test_expect_success "cleanups run last first" "
		test_when_finished \"echo one >>order\" &&
		test_when_finished \"echo two >>order\"
	"
	test_done
	EOF
	test_grep "^not ok 1 - body fails$" cleanup/out &&
	test_grep "^not ok 2 - cleanup fails$" cleanup/out &&
	test_grep "^# test_when_finished cleanup failed$" cleanup/out &&
	test_grep "^ok 3 - cleanups run last first$" cleanup/out &&
	test_path_is_file trash/cleanup/cleaned &&
	test_write_lines two one >expect &&
	test_cmp expect trash/cleanup/order
'

test_expect_success 'test_skip_all prints a SKIP plan and exits 0' '
	run_sub_test skipall <<-\EOF &&
	test_skip_all "no frobnicator here"
	test_expect_success "never" "false"
	test_done
	EOF
	echo "1..0 # SKIP no frobnicator here" >expect &&
	test_cmp expect skipall/out &&
	echo 0 >expect &&
	test_cmp expect skipall/status &&
	test_path_is_missing trash/skipall
'

test_expect_success 'an exit inside a test is an error, never a pass' '
	run_sub_test exits <<-\EOF &&
	test_expect_success "exits" "exit 0"
	test_done
	EOF
	test_grep ! "^1\.\." exits/out &&
	test_grep ! "^ok" exits/out &&
	! echo 0 | test_cmp - exits/status
'

test_expect_success 'BUG stops a script that misuses the library' '
	run_sub_test bug <<-\EOF &&
	test_expect_success "one argument"
	test_done
	EOF
	test_grep "bug in the test script: test_expect_success needs 2 or 3 arguments" bug/err &&
	test_grep ! "^1\.\." bug/out &&
	echo 1 >expect &&
	test_cmp expect bug/status
'

test_done
