#!/bin/sh
test_description='the libFuzzer targets replay their seeds and every saved crash'
. "$(dirname "$0")/lib.sh"

# scripts/fuzz.sh --regress builds tests/fuzz/*.c with clang and libFuzzer into
# build/fuzz/ and runs each target once over testdata/fuzz/NAME and the
# reproducers in testdata/fuzz/crashes/NAME (plainly, with failing allocations,
# and with an allocation sweep for the *.alloc ones): a fixed crash that comes
# back fails here. Fuzzing itself is `make fuzz`.
if ! command -v clang >/dev/null 2>&1
then
	test_skip_all 'clang (libFuzzer) is not installed'
fi

test_expect_success 'every saved crash and seed runs clean under ASan, UBSan and LSan' '
	{ (cd "$TOP" && scripts/fuzz.sh --regress) >out 2>&1 || cat out; } &&
	test_grep "^fuzz.sh: all [0-9]* targets passed\$" out
'

test_expect_success 'every target has seeds, and a crash directory names a target' '
	for f in "$TOP"/tests/fuzz/fuzz-*.c
	do
		t=${f##*/fuzz-} && t=${t%.c} &&
		ls "$TOP/testdata/fuzz/$t" >seeds &&
		test_line_count -gt 0 seeds || return 1
	done &&
	for d in "$TOP"/testdata/fuzz/crashes/*/
	do
		t=${d%/} && t=${t##*/} &&
		test_path_is_file "$TOP/tests/fuzz/fuzz-$t.c" || return 1
	done
'

test_done
