#!/bin/sh
# scripts/fuzz.sh - build the libFuzzer targets of tests/fuzz/ with clang and run them.
#
#   scripts/fuzz.sh [target ...]            fuzz each target for AIOPS_FUZZ_SECONDS (60)
#   scripts/fuzz.sh --regress [target ...]  run each target once over its seeds and
#                                           saved crashes, no fuzzing (quick, for CI),
#                                           then again with AIOPS_FUZZ_FAILALLOC=1, and
#                                           the crashes named *.alloc with =sweep
#   scripts/fuzz.sh --build                 only build
#
# Everything goes to build/fuzz/ (its own objects: lib/*.c compiled with clang and
# -fsanitize=fuzzer-no-link,address,undefined). The corpus of target NAME is
# build/fuzz/corpus/NAME, seeded from testdata/fuzz/NAME; whatever crashes lands
# in build/fuzz/crashes/NAME/ and the run fails naming the reproducer. To keep
# one, minimise it (build/fuzz/fuzz-NAME -minimize_crash=1 -runs=10000 FILE) and
# add it to testdata/fuzz/crashes/NAME/: --regress then runs it for ever after.
# A dictionary tests/fuzz/NAME.dict, when there is one, is passed with -dict.
#
# Environment: AIOPS_FUZZ_SECONDS (per target, default 60), AIOPS_FUZZ_JOBS
# (targets run at once, default the CPU count), AIOPS_FUZZ_FAILALLOC=1 (also fail
# an allocation chosen per input, see tests/fuzz/fuzz.h), FUZZ_CC (default clang),
# FUZZ_FLAGS (extra libFuzzer flags).
set -eu

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
B=build/fuzz
CC=${FUZZ_CC:-clang}
PKGS='openblas lapacke zlib libarchive libcurl libcrypto jansson'
SECONDS_PER=${AIOPS_FUZZ_SECONDS:-60}
JOBS=${AIOPS_FUZZ_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}

usage() {
	echo "usage: fuzz.sh [--build | --regress] [target ...]"
}

# The longest input each target gets, by name; 16 KiB for the rest.
max_len() {
	case $1 in
	parse) echo 256 ;;
	csv|tensor|model|artifact|archive|ingest|traces) echo 65536 ;;
	*) echo 16384 ;;
	esac
}

all_targets() {
	for f in tests/fuzz/fuzz-*.c
	do
		n=${f#tests/fuzz/fuzz-}
		echo "${n%.c}"
	done
}

build() {
	if ! command -v "$CC" >/dev/null 2>&1
	then
		echo "fuzz.sh: $CC not found: install clang and libclang-rt-14-dev" >&2
		exit 1
	fi
	# $PKGS is split into words on purpose.
	# shellcheck disable=SC2086
	pkgc=$(pkg-config --cflags $PKGS) || exit 1
	# shellcheck disable=SC2086
	pkgl=$(pkg-config --libs $PKGS) || exit 1
	mkdir -p "$B"
	# A generated makefile gives dependency tracking and parallel builds.
	cat >"$B/fuzz.mk" <<EOF
CC = $CC
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wno-unused-function \$(SAN) -Ilib $pkgc -MMD -MP
LIBS = $pkgl -lm -lpthread
LIB_OBJ = \$(patsubst lib/%.c,$B/obj/lib/%.o,\$(wildcard lib/*.c))
TARGETS = \$(patsubst tests/fuzz/%.c,$B/%,\$(wildcard tests/fuzz/fuzz-*.c))
all: \$(TARGETS)
$B/obj/lib/%.o: lib/%.c
	@mkdir -p \$(@D)
	\$(CC) \$(CFLAGS) -fsanitize=fuzzer-no-link -c -o \$@ \$<
$B/libaiops.a: \$(LIB_OBJ)
	rm -f \$@
	\$(AR) rcs \$@ \$(LIB_OBJ)
$B/obj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p \$(@D)
	\$(CC) \$(CFLAGS) -fsanitize=fuzzer-no-link -c -o \$@ \$<
$B/fuzz-%: $B/obj/fuzz/fuzz-%.o $B/libaiops.a
	\$(CC) \$(SAN) -fsanitize=fuzzer -o \$@ \$< $B/libaiops.a \$(LIBS)
.SECONDARY:
-include \$(wildcard $B/obj/lib/*.d $B/obj/fuzz/*.d)
EOF
	make -s -f "$B/fuzz.mk" -j"$JOBS" all
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Fuzz one target (run through xargs so that several run at once).
run_one() {
	t=$1
	corpus=$B/corpus/$t
	crashes=$B/crashes/$t
	log=$B/log/$t.log
	dict=
	mkdir -p "$corpus" "$crashes" "$B/log"
	if test -d "testdata/fuzz/$t"
	then
		cp -p testdata/fuzz/"$t"/* "$corpus"/ 2>/dev/null || :
	fi
	test -f "tests/fuzz/$t.dict" && dict="-dict=tests/fuzz/$t.dict"
	# what an earlier run left is not this run's finding
	before=$(find "$crashes" -type f | wc -l)
	# shellcheck disable=SC2086
	if "$B/fuzz-$t" "$corpus" -max_total_time="$SECONDS_PER" -max_len="$(max_len "$t")" \
	    -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
	    $dict ${FUZZ_FLAGS:-} >"$log" 2>&1 && test "$(find "$crashes" -type f | wc -l)" -eq "$before"
	then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		# -fork mode prints no stat:: lines: take the last progress line's count
		test -n "$execs" || execs=$(sed -n 's/^#\([0-9][0-9]*\)[: ].*/\1/p' "$log" | tail -n 1)
		echo "fuzz.sh: $t: ok, ${execs:-?} runs in $SECONDS_PER s, corpus $(find "$corpus" -type f | wc -l)"
	else
		echo "fuzz.sh: $t: FAILED (log $log)" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 >&2 || :
		for f in "$crashes"/*
		do
			test -e "$f" && echo "fuzz.sh: $t: reproducer: $f  (run: $B/fuzz-$t $f)" >&2
		done
		return 1
	fi
}

# Run one target once over its seeds and saved crashes, normally and failing allocations.
regress_one() {
	t=$1
	set --
	for f in testdata/fuzz/"$t"/* testdata/fuzz/crashes/"$t"/*
	do
		test -f "$f" && set -- "$@" "$f"
	done
	if test $# -eq 0
	then
		echo "fuzz.sh: $t: no inputs"
		return 0
	fi
	mkdir -p "$B/log"
	log=$B/log/$t.regress.log
	# reproducers of error-path bugs (*.alloc) get every allocation failed in turn
	sweep=$(find testdata/fuzz/crashes/"$t" -type f -name '*.alloc' 2>/dev/null | sort)
	# shellcheck disable=SC2086
	if "$B/fuzz-$t" -timeout=25 -rss_limit_mb=2048 "$@" >"$log" 2>&1 &&
	    AIOPS_FUZZ_FAILALLOC=1 "$B/fuzz-$t" -timeout=25 -rss_limit_mb=2048 "$@" >>"$log" 2>&1 &&
	    { test -z "$sweep" || AIOPS_FUZZ_FAILALLOC=sweep "$B/fuzz-$t" -timeout=300 \
	    -rss_limit_mb=2048 $sweep >>"$log" 2>&1; }
	then
		echo "fuzz.sh: $t: ok, $# inputs"
	else
		echo "fuzz.sh: $t: FAILED (log $log)" >&2
		grep -E '^(Running: |==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | tail -6 >&2 || :
		return 1
	fi
}

mode=fuzz
case ${1:-} in
--run-one) shift; run_one "$1"; exit ;;
--regress-one) shift; regress_one "$1"; exit ;;
--regress) mode=regress; shift ;;
--build) mode=build; shift ;;
-h|--help) usage; exit 0 ;;
-*) usage >&2; exit 2 ;;
esac

build
test "$mode" = build && exit 0
if test $# -eq 0
then
	# shellcheck disable=SC2046
	set -- $(all_targets)
fi
for t
do
	if ! test -x "$B/fuzz-$t"
	then
		echo "fuzz.sh: no target $t (tests/fuzz/fuzz-$t.c)" >&2
		exit 2
	fi
done
if test "$mode" = regress
then
	flag=--regress-one
else
	flag=--run-one
fi
# shellcheck disable=SC2086
printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 sh "$self" $flag || {
	echo "fuzz.sh: some targets failed" >&2
	exit 1
}
echo "fuzz.sh: all $# targets passed"
