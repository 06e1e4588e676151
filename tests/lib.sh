# tests/lib.sh: a small git-style test library for the aiops command tests.
# Each tests/tNNNN-topic.sh sets test_description, sources this file and prints TAP for prove.
#
# A test script looks like this:
#
#	#!/bin/sh
#	test_description='aiops-ingest: wide CSV'
#	. "$(dirname "$0")/lib.sh"
#
#	test_expect_success 'header is detected' '
#		printf "a,b\n1,2\n" >in.csv &&
#		aiops-ingest -O csv in.csv >actual &&
#		test_cmp expect actual
#	'
#	test_done
#
# Options of a test script: -v (show the output of every test body on stderr; also
# TEST_VERBOSE=1), -x (trace test bodies with set -x), -i (stop at the first failure),
# -d (keep the trash directory; also TEST_KEEP=1).
#
# Sourcing sets, and exports:
#   TOP       the repository top (parent of tests/)
#   BIN       the built commands, $AIOPS_BIN or $TOP/build/bin; prepended to PATH
#   TESTBIN   test helper programs (gencsv, unit tests), $AIOPS_TESTBIN or $BIN/../tests;
#             also on PATH, after BIN
#   TESTDATA  $TOP/testdata
#   SHARED    $AIOPS_SHARED or $TOP/../shared
#   PYTHON    $AIOPS_PYTHON, else /usr/bin/python3 if present (the one that the apt
#             packages of scripts/install-deps.sh belong to), else python3
#   LC_ALL=C, TZ=UTC; ASAN_OPTIONS/UBSAN_OPTIONS default to aborting on the first error,
#   so that a sanitizer report is a crash (status 134), which test_must_fail never accepts.
# and also TEST_DIRECTORY (absolute path of tests/) and TRASH_DIRECTORY, the scratch
# directory $TOP/build/trash/<script name> ($TEST_TRASH_ROOT/<script name>), made afresh
# and entered. It is removed when every test passed, unless TEST_KEEP=1.
#
# Tests:
#   test_expect_success [PREREQ] 'title' 'body'
#	The body is eval'ed in the current shell (no subshell, no set -e), stdin from
#	/dev/null, stdout and stderr into a file (or to stderr with -v); the test passes iff
#	the body's status is 0. On failure the TAP line is followed by the body and the last
#	20 lines of its output as # comments. Before running, the body is checked for a
#	broken &&-chain: a top-level command not joined by && (or a top-level ||) fails the
#	test unrun; wrap such code in { ...; } or ( ... ). TEST_CHAIN_LINT=0 disables this.
#	Never call exit in a body (the script dies without a plan); use "|| return 1"
#	inside loops. The output of test N is kept in $TRASH_DIRECTORY.out/N.out; fds 7
#	and 8 belong to lib.sh (closed inside bodies, so a leftover background server
#	cannot hold prove's pipe open).
#	PREREQ is NAME or a comma-separated list, !NAME meaning "NAME must be missing";
#	a missing prerequisite prints "ok N # skip title (missing NAME)".
#   test_set_prereq NAME, test_lazy_prereq NAME 'script' (evaluated once, when first
#	asked, in a subshell in a scratch directory), test_have_prereq NAME[,NAME...].
#	Predefined lazy prerequisites: PYTHON3 NUMPY PANDAS SKLEARN STATSMODELS MANDOC
#	PROMETHEUS CURL, SANITY (file permissions are enforced, i.e. not running as root);
#	EXPENSIVE is set when TEST_LONG=1, SANITIZED when AIOPS_SANITIZE is not empty
#	(make check SANITIZE=... sets it).
#   test_when_finished 'cmd'  run cmd after the current test body, even if it failed.
#   test_done                 print the plan "1..N" and exit 1 if any test failed, else 0.
#   test_skip_all 'reason'    print "1..0 # SKIP reason" and exit 0 (before any test).
#
# Assertions (return non-zero and explain on stderr when they do not hold):
#   test_cmp expect actual          diff -u
#   test_must_fail cmd...           cmd exits 1..125; success, 126/127 (not found) and
#                                   death by a signal (status > 128) are failures
#   test_expect_code N cmd...       cmd exits with exactly N
#   test_path_is_file F, test_path_is_dir D, test_path_is_missing P
#   test_must_be_empty F            F exists and is empty
#   test_line_count OP N F          e.g. test_line_count = 3 out (OP: = != -lt -le -gt -ge)
#   test_grep [!] [grep-options] PATTERN F   grep -e PATTERN F; "!" = must not match
#   test_approx A B TOL             |A-B| <= TOL, decimal numbers (nan==nan, inf==inf)
# Utilities: sane_unset VAR..., write_script FILE [INTERPRETER] <<EOF (default
# #!/bin/sh, made executable), test_write_lines LINE... (one argument a line),
# BUG 'message' (a mistake in the test script itself: exit).
#
# Helpers shared by the command tests:
#   no_tmp PATH                     no temporary ".BASENAME.*" of PATH is left in its
#                                   directory (the aiops_out temp files)
#   fails_cleanly_o CMD STATUS OUT ARG...   "CMD -o OUT ARG..." exits with STATUS, prints
#                                   nothing on stdout and its message into err; OUT and its
#                                   temporary are gone (scratch file fc.stdout)
#   test_usage_is_synopsis CMD PATTERN   "CMD -h" equals the SYNOPSIS of $TOP/man/CMD.1
#                                   rendered by mandoc, compared word by word (layout
#                                   differs between a terminal and mandoc); the SYNOPSIS
#                                   has more than one line and matches PATTERN. Writes
#                                   usage, man.txt, synopsis, expect and actual.
#
# Internal names end in "_" so that test bodies, which share the shell, do not clash.
# shellcheck shell=sh disable=SC2016

# --- options ------------------------------------------------------------------------

test_verbose_=
case ${TEST_VERBOSE-} in 1|t|true|yes) test_verbose_=t ;; esac
test_immediate_=
test_trace_=
for test_arg_ in "$@"
do
	case $test_arg_ in
	-v|--verbose) test_verbose_=t ;;
	-x|--trace) test_trace_=t ;;
	-i|--immediate) test_immediate_=t ;;
	-d|--debug) TEST_KEEP=1 ;;
	-h|--help)
		echo "usage: $0 [-dhivx]"
		exit 0 ;;
	*)
		echo "error: $0: unknown option '$test_arg_'" >&2
		exit 1 ;;
	esac
done

# --- environment ----------------------------------------------------------------------

LC_ALL=C
TZ=UTC
export LC_ALL TZ
unset LANG LANGUAGE CDPATH GREP_OPTIONS GREP_COLOR GREP_COLORS
# A sanitizer report must be a crash, not an ordinary status 1 that test_must_fail takes.
ASAN_OPTIONS=${ASAN_OPTIONS-abort_on_error=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS
# Local test servers must never be reached through a proxy.
no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
NO_PROXY=$no_proxy
export no_proxy NO_PROXY

# A pre-set TEST_DIRECTORY wins, so that t0000 can run scripts that live elsewhere.
if test -z "${TEST_DIRECTORY-}"
then
	TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd) || exit 1
fi
TOP=$(cd "$TEST_DIRECTORY/.." && pwd) || exit 1

BIN=${AIOPS_BIN:-$TOP/build/bin}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
while case $BIN in ?*/) true ;; *) false ;; esac; do BIN=${BIN%/}; done
TESTBIN=${AIOPS_TESTBIN:-${BIN%/*}/tests}
case $TESTBIN in /*) ;; *) TESTBIN=$PWD/$TESTBIN ;; esac
TESTDATA=$TOP/testdata
SHARED=${AIOPS_SHARED:-$TOP/../shared}
case $SHARED in /*) ;; *) SHARED=$PWD/$SHARED ;; esac
if test -d "$SHARED"
then
	SHARED=$(cd "$SHARED" && pwd) || exit 1
fi
PATH=$BIN:$TESTBIN:$PATH
# A pyenv or virtualenv python3 first in PATH would hide the apt python3-numpy & co.
if test -n "${AIOPS_PYTHON-}"
then
	PYTHON=$AIOPS_PYTHON
elif test -x /usr/bin/python3
then
	PYTHON=/usr/bin/python3
else
	PYTHON=python3
fi
export TOP BIN TESTBIN TESTDATA SHARED PATH PYTHON

# --- trash directory ------------------------------------------------------------------

test_name_=${0##*/}
test_name_=${test_name_%.sh}
TEST_TRASH_ROOT=${TEST_TRASH_ROOT:-$TOP/build/trash}
case $TEST_TRASH_ROOT in /*) ;; *) TEST_TRASH_ROOT=$PWD/$TEST_TRASH_ROOT ;; esac
TRASH_DIRECTORY=$TEST_TRASH_ROOT/$test_name_
# Captured output lives beside the trash directory, so that it never shows up in
# a test's own "ls" of its working directory.
test_output_dir_=$TRASH_DIRECTORY.out
test_out_=/dev/null

# Original stdout (the TAP stream) and stderr, for messages from inside test bodies.
exec 7>&1 8>&2

test_count_=0
test_failed_=0
test_skipped_=0
test_in_body_=

test_exit_trap_ () {
	test_exit_code_=$?
	# In bash fd 7 may be closed here (exit inside a test body); then use stdout.
	{ echo "# FATAL: unexpected exit with status $test_exit_code_${test_in_body_:+ in test $test_count_}" >&7; } 2>/dev/null ||
		echo "# FATAL: unexpected exit with status $test_exit_code_"
	test "$test_exit_code_" != 0 || test_exit_code_=1
	exit "$test_exit_code_"
}

BUG () {
	{ echo "error: bug in the test script: $*" >&8; } 2>/dev/null ||
		echo "error: bug in the test script: $*" >&2
	exit 1
}

# shellcheck disable=SC2015
rm -rf "$TRASH_DIRECTORY" "$test_output_dir_" &&
mkdir -p "$TRASH_DIRECTORY" "$test_output_dir_" &&
cd "$TRASH_DIRECTORY" || {
	echo "Bail out! cannot create the trash directory $TRASH_DIRECTORY"
	exit 1
}
trap 'test_exit_trap_' EXIT

if ! test -d "$BIN"
then
	echo "# warning: $BIN does not exist; run make first"
fi

# --- prerequisites --------------------------------------------------------------------

test_prereqs_=' '
test_missing_prereqs_=' '
test_lazy_prereqs_=' '

test_prereq_name_ok_ () {
	case $1 in
	''|*[!A-Za-z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
}

test_set_prereq () {
	for test_p_
	do
		test_prereq_name_ok_ "$test_p_"
		test_prereqs_="$test_prereqs_$test_p_ "
	done
}

test_lazy_prereq () {
	test $# = 2 || BUG "test_lazy_prereq needs NAME and a script"
	test_prereq_name_ok_ "$1"
	eval "test_lazy_script_$1=\$2"
	test_lazy_prereqs_="$test_lazy_prereqs_$1 "
}

# test_prereq_one_ NAME: whether NAME holds, evaluating a lazy prerequisite once.
test_prereq_one_ () {
	case $test_prereqs_ in *" $1 "*) return 0 ;; esac
	case $test_missing_prereqs_ in *" $1 "*) return 1 ;; esac
	case $test_lazy_prereqs_ in *" $1 "*) ;; *) return 1 ;; esac
	eval "test_lazy_script_=\$test_lazy_script_$1"
	# shellcheck disable=SC2154
	if (
		mkdir -p "$test_output_dir_/prereq-$1" &&
		cd "$test_output_dir_/prereq-$1" &&
		eval "$test_lazy_script_"
	) </dev/null >/dev/null 2>&1 7>&- 8>&-
	then
		test_prereqs_="$test_prereqs_$1 "
		return 0
	fi
	test_missing_prereqs_="$test_missing_prereqs_$1 "
	return 1
}

# test_have_prereq NAME[,NAME...]: all hold (!NAME: NAME does not). Sets
# test_missing_prereq_ to the ones that failed.
test_have_prereq () {
	test_ifs_=$IFS
	IFS=', '
	# shellcheck disable=SC2048,SC2086
	set -- $*
	IFS=$test_ifs_
	test_missing_prereq_=
	for test_p_
	do
		case $test_p_ in
		!*)
			test_prereq_name_ok_ "${test_p_#!}"
			! test_prereq_one_ "${test_p_#!}" ;;
		*)
			test_prereq_name_ok_ "$test_p_"
			test_prereq_one_ "$test_p_" ;;
		esac || test_missing_prereq_="${test_missing_prereq_:+$test_missing_prereq_,}$test_p_"
	done
	test -z "$test_missing_prereq_"
}

test_lazy_prereq PYTHON3 '"$PYTHON" -c "import sys"'
test_lazy_prereq NUMPY '"$PYTHON" -c "import numpy"'
test_lazy_prereq PANDAS '"$PYTHON" -c "import pandas"'
test_lazy_prereq SKLEARN '"$PYTHON" -c "import sklearn"'
test_lazy_prereq STATSMODELS '"$PYTHON" -c "import statsmodels"'
test_lazy_prereq MANDOC 'command -v mandoc'
test_lazy_prereq PROMETHEUS 'command -v prometheus'
test_lazy_prereq CURL 'command -v curl'
# Root ignores permission bits, so "unwritable directory" tests need this.
test_lazy_prereq SANITY '
	mkdir ro &&
	chmod a-w ro &&
	if ( : >ro/x ) 2>/dev/null
	then
		chmod u+w ro
		false
	else
		chmod u+w ro
	fi
'
case ${TEST_LONG-} in ''|0) ;; *) test_set_prereq EXPENSIVE ;; esac
test -z "${AIOPS_SANITIZE-}" || test_set_prereq SANITIZED

# --- running tests --------------------------------------------------------------------

# test_eval_ BODY: eval BODY with output captured; fds 7 and 8 are closed so that a
# background process started by a test never holds the TAP pipe open (prove would hang).
test_eval_ () {
	if test -n "$test_trace_"
	then
		set -- "set -x
$1"
	fi
	if test -n "$test_verbose_"
	then
		eval "$1" </dev/null >&8 2>&8 7>&- 8>&-
	else
		eval "$1" </dev/null >>"$test_out_" 2>&1 7>&- 8>&-
	fi
}

test_when_finished () {
	test_cleanup_="{ $*
} || test_cleanup_failed_=t
$test_cleanup_"
}

# test_run_ BODY: lint, run, clean up; status 0 iff the test passed.
test_run_ () {
	test_cleanup_=
	test_cleanup_failed_=
	test_reason_=
	if test "${TEST_CHAIN_LINT-1}" != 0
	then
		# Commands after a break in the chain do run, so run them elsewhere.
		(
			mkdir -p "$test_output_dir_/lint" &&
			cd "$test_output_dir_/lint" || exit 1
			eval "(exit 117) && $1"
		) </dev/null >/dev/null 2>&1 7>&- 8>&-
		if test $? != 117
		then
			test_reason_="broken &&-chain or syntax error in the test body (not run)"
			return 1
		fi
	fi
	test_in_body_=t
	# test_eval_ sends stderr elsewhere itself; this hides only the trace of -x.
	{
		test_eval_ "$1"
		test_ret_=$?
		set +x
	} 2>/dev/null
	if test -n "$test_cleanup_"
	then
		{
			test_eval_ "$test_cleanup_"
			set +x
		} 2>/dev/null
		if test -n "$test_cleanup_failed_" && test $test_ret_ = 0
		then
			test_reason_="test_when_finished cleanup failed"
			test_ret_=1
		fi
	fi
	test_in_body_=
	return $test_ret_
}

test_expect_success () {
	test_prereq_=
	if test $# = 3
	then
		test_prereq_=$1
		shift
	fi
	test $# = 2 || BUG "test_expect_success needs 2 or 3 arguments, got $#"
	test_count_=$((test_count_ + 1))
	# TAP reads "#" in a description as the start of a directive.
	case $1 in
	*'#'*) test_title_=$(printf '%s\n' "$1" | sed -e 's/#/\\#/g') ;;
	*) test_title_=$1 ;;
	esac
	if test -n "$test_prereq_" && ! test_have_prereq "$test_prereq_"
	then
		test_skipped_=$((test_skipped_ + 1))
		echo "ok $test_count_ # skip $test_title_ (missing $test_missing_prereq_)"
		return 0
	fi
	test_out_=$test_output_dir_/$test_count_.out
	: >"$test_out_"
	if test -n "$test_verbose_"
	then
		echo "expecting success of $test_count_ '$1': $2" >&2
	fi
	if test_run_ "$2"
	then
		echo "ok $test_count_ - $test_title_"
		return 0
	fi
	test_failed_=$((test_failed_ + 1))
	echo "not ok $test_count_ - $test_title_"
	# The body, without its leading and trailing blank lines.
	printf '%s\n' "$2" | awk '
		/[^ \t]/ { for (; blank > 0; blank--) print "#"; print "#\t" $0; seen = 1; next }
		seen { blank++ }'
	if test -n "$test_reason_"
	then
		echo "# $test_reason_"
	fi
	if test -z "$test_verbose_" && test -s "$test_out_"
	then
		if test "$(wc -l <"$test_out_")" -gt 20
		then
			echo "# output (last 20 lines of $test_out_):"
		else
			echo "# output:"
		fi
		tail -n 20 "$test_out_" | sed -e 's/^/#	/'
	fi
	if test -n "$test_immediate_"
	then
		echo "# stopping at the first failure (-i)"
		test_done
	fi
	return 0
}

test_done () {
	trap - EXIT
	if test "$test_failed_" = 0
	then
		if test "$test_skipped_" = 0
		then
			echo "# passed all $test_count_ test(s)"
		else
			echo "# passed all $test_count_ test(s), $test_skipped_ skipped"
		fi
	else
		echo "# failed $test_failed_ among $test_count_ test(s)"
	fi
	echo "1..$test_count_"
	if test "$test_failed_" = 0 && test "${TEST_KEEP-}" != 1
	then
		case $TRASH_DIRECTORY in
		"$TEST_TRASH_ROOT"/?*)
			cd "$TOP" &&
			rm -rf "$TRASH_DIRECTORY" "$test_output_dir_" ;;
		esac
	else
		echo "# trash directory kept: $TRASH_DIRECTORY"
	fi
	test "$test_failed_" = 0
	exit
}

test_skip_all () {
	test "$test_count_" = 0 || BUG "test_skip_all after $test_count_ test(s)"
	trap - EXIT
	echo "1..0 # SKIP $*"
	cd "$TOP" &&
	rm -rf "$TRASH_DIRECTORY" "$test_output_dir_"
	exit 0
}

# --- assertions -----------------------------------------------------------------------

test_cmp () {
	test $# = 2 || BUG "test_cmp needs 2 arguments"
	for test_f_ in "$1" "$2"
	do
		# "-" is stdin; /dev/null is a handy empty file.
		if test "$test_f_" != - && ! test -f "$test_f_" && ! test -c "$test_f_"
		then
			echo "test_cmp: '$test_f_' does not exist" >&2
			return 1
		fi
	done
	diff -u "$1" "$2"
}

test_must_fail () {
	test $# -ge 1 || BUG "test_must_fail needs a command"
	"$@"
	test_status_=$?
	if test $test_status_ = 0
	then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif test $test_status_ -gt 128
	then
		echo "test_must_fail: died by signal $((test_status_ - 128)) (status $test_status_): $*" >&2
		return 1
	elif test $test_status_ = 126 || test $test_status_ = 127
	then
		echo "test_must_fail: command not found or not executable (status $test_status_): $*" >&2
		return 1
	fi
	return 0
}

test_expect_code () {
	test $# -ge 2 || BUG "test_expect_code needs a status and a command"
	case $1 in ''|*[!0-9]*) BUG "test_expect_code: bad status '$1'" ;; esac
	test_want_=$1
	shift
	"$@"
	test_status_=$?
	test "$test_status_" = "$test_want_" && return 0
	echo "test_expect_code: command exited with $test_status_, wanted $test_want_: $*" >&2
	return 1
}

test_path_is_file () {
	test $# = 1 || BUG "test_path_is_file needs 1 argument"
	test -f "$1" && return 0
	echo "file $1 does not exist" >&2
	return 1
}

test_path_is_dir () {
	test $# = 1 || BUG "test_path_is_dir needs 1 argument"
	test -d "$1" && return 0
	echo "directory $1 does not exist" >&2
	return 1
}

test_path_is_missing () {
	test $# = 1 || BUG "test_path_is_missing needs 1 argument"
	test -e "$1" || test -L "$1" || return 0
	echo "path exists: $1" >&2
	ls -ld "$1" >&2
	return 1
}

test_must_be_empty () {
	test $# = 1 || BUG "test_must_be_empty needs 1 argument"
	if ! test -f "$1"
	then
		echo "'$1' is missing" >&2
		return 1
	fi
	test -s "$1" || return 0
	echo "'$1' is not empty, it contains:" >&2
	cat "$1" >&2
	return 1
}

test_line_count () {
	test $# = 3 || BUG "test_line_count needs OP N FILE"
	case $1 in
	=|-eq) test_op_=-eq ;;
	!=|-ne) test_op_=-ne ;;
	-lt|-le|-gt|-ge) test_op_=$1 ;;
	*) BUG "test_line_count: bad operator '$1'" ;;
	esac
	case $2 in ''|*[!0-9]*) BUG "test_line_count: bad count '$2'" ;; esac
	if ! test -f "$3"
	then
		echo "test_line_count: no such file '$3'" >&2
		return 1
	fi
	test_lines_=$(wc -l <"$3")
	# Unquoted: some wc pad the count with blanks.
	# shellcheck disable=SC2086
	test $test_lines_ $test_op_ "$2" && return 0
	echo "test_line_count: $3 has $test_lines_ lines, wanted $1 $2; it contains:" >&2
	cat "$3" >&2
	return 1
}

test_grep () {
	test_invert_=
	if test "$1" = "!"
	then
		test_invert_=t
		shift
	fi
	test $# -ge 2 || BUG "test_grep needs [options] PATTERN FILE"
	# Rotate the options behind PATTERN and FILE.
	test_n_=$(($# - 2))
	while test $test_n_ -gt 0
	do
		set -- "$@" "$1"
		shift
		test_n_=$((test_n_ - 1))
	done
	test_pat_=$1
	test_file_=$2
	shift 2
	if ! test -f "$test_file_"
	then
		echo "test_grep: no such file '$test_file_'" >&2
		return 1
	fi
	if test -n "$test_invert_"
	then
		grep "$@" -e "$test_pat_" "$test_file_" >/dev/null || return 0
		echo "test_grep: '$test_pat_' unexpectedly found in $test_file_:" >&2
	else
		grep "$@" -e "$test_pat_" "$test_file_" >/dev/null && return 0
		echo "test_grep: '$test_pat_' not found in $test_file_:" >&2
	fi
	cat "$test_file_" >&2
	return 1
}

test_approx () {
	test $# = 3 || BUG "test_approx needs A B TOL"
	awk '
	function num(s) {
		return s ~ /^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[ \t]*$/
	}
	function special(s) {
		s = tolower(s)
		gsub(/[ \t]/, "", s)
		if (s ~ /^[-+]?nan$/) return "nan"
		if (s ~ /^\+?inf(inity)?$/) return "inf"
		if (s ~ /^-inf(inity)?$/) return "-inf"
		return ""
	}
	BEGIN {
		a = ARGV[1]; b = ARGV[2]; t = ARGV[3]
		if (!num(t) || t + 0 < 0) {
			printf "test_approx: bad tolerance \"%s\"\n", t
			exit 2
		}
		sa = special(a); sb = special(b)
		if (sa == "" && !num(a)) { printf "test_approx: not a number: \"%s\"\n", a; exit 2 }
		if (sb == "" && !num(b)) { printf "test_approx: not a number: \"%s\"\n", b; exit 2 }
		if (sa != "" || sb != "") {
			if (sa == sb)
				exit 0
			printf "test_approx: %s and %s differ\n", a, b
			exit 1
		}
		d = (a + 0) - (b + 0)
		if (d < 0)
			d = -d
		if (d <= t + 0)
			exit 0
		printf "test_approx: |%s - %s| = %.17g > %s\n", a, b, d, t
		exit 1
	}' "$1" "$2" "$3" >&2
}

# --- utilities ------------------------------------------------------------------------

sane_unset () {
	unset "$@"
	return 0
}

write_script () {
	test $# -ge 1 || BUG "write_script needs a file name"
	{
		echo "#!${2-/bin/sh}" &&
		cat
	} >"$1" &&
	chmod +x "$1"
}

test_write_lines () {
	printf '%s\n' "$@"
}

# --- helpers shared by the command tests ----------------------------------------------

no_tmp () {
	for no_tmp_f in "$(dirname "$1")"/."$(basename "$1")".*
	do
		if test -e "$no_tmp_f"
		then
			echo "temporary file left behind: $no_tmp_f" >&2
			return 1
		fi
	done
	return 0
}

fails_cleanly_o () {
	test $# -ge 3 || BUG "fails_cleanly_o needs CMD STATUS OUT"
	fc_cmd=$1
	fc_want=$2
	fc_out=$3
	shift 3
	test_expect_code "$fc_want" "$fc_cmd" -o "$fc_out" "$@" >fc.stdout 2>err &&
	test_must_be_empty fc.stdout &&
	test_path_is_missing "$fc_out" &&
	no_tmp "$fc_out"
}

test_usage_is_synopsis () {
	test $# = 2 || BUG "test_usage_is_synopsis needs CMD PATTERN"
	"$1" -h >usage &&
	mandoc -Tascii "$TOP/man/$1.1" | col -b >man.txt &&
	sed -n -e '/^SYNOPSIS/,/^[A-Z]/p' man.txt | sed -e '1d' -e '$d' >synopsis &&
	test_line_count -gt 1 synopsis &&
	sed -e '1s/^usage://' usage |
	awk '{ for (i = 1; i <= NF; i++) { printf "%s%s", sep, $i; sep = " " } } END { print "" }' >expect &&
	awk '{ for (i = 1; i <= NF; i++) { printf "%s%s", sep, $i; sep = " " } } END { print "" }' synopsis >actual &&
	test_grep "$2" actual &&
	test_cmp expect actual
}
