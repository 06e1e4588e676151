#!/usr/bin/env bash
# run.sh: the driver of `make bench`: runs every scripts/bench/*.py but report.py, in name
# order, with the system python3 (the one the apt numpy and pandas belong to), then report.py,
# which merges their results into $AIOPS_BENCH_DIR/report.md and report.json, also when one of
# them failed; fails if any of them (or the report) fails.
#
# Environment: AIOPS_BIN (the built commands, default build/bin), AIOPS_TESTBIN (gencsv,
# default $AIOPS_BIN/../tests), AIOPS_SHARED (the shared datasets, default ../shared),
# AIOPS_PYTHON (default /usr/bin/python3), AIOPS_BENCH_DIR (results and scratch space,
# default build/bench), AIOPS_BENCH_STRICT=1 (a missed speed or memory target fails too).
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$here/../.." && pwd)
AIOPS_BIN=${AIOPS_BIN:-$TOP/build/bin}
AIOPS_TESTBIN=${AIOPS_TESTBIN:-$AIOPS_BIN/../tests}
AIOPS_SHARED=${AIOPS_SHARED:-$TOP/../shared}
AIOPS_BENCH_DIR=${AIOPS_BENCH_DIR:-$TOP/build/bench}
if test -n "${AIOPS_PYTHON-}"
then
	PYTHON=$AIOPS_PYTHON
elif test -x /usr/bin/python3
then
	PYTHON=/usr/bin/python3
else
	PYTHON=python3
fi
LC_ALL=C
TZ=UTC
export TOP AIOPS_BIN AIOPS_TESTBIN AIOPS_SHARED AIOPS_BENCH_DIR PYTHON LC_ALL TZ

for prog in "$AIOPS_BIN/aiops-ingest" "$AIOPS_TESTBIN/gencsv"
do
	if ! test -x "$prog"
	then
		echo "run.sh: $prog: not built; run make first" >&2
		exit 1
	fi
done
mkdir -p "$AIOPS_BENCH_DIR"

failed=()
# results older than this are from an earlier run (report.py calls them stale)
AIOPS_BENCH_SINCE=$(date +%s)
export AIOPS_BENCH_SINCE
shopt -s nullglob
scripts=()
for script in "$here"/*.py
do
	test "${script##*/}" = report.py || scripts+=("$script")
done
if test ${#scripts[@]} = 0
then
	echo "run.sh: no benchmarks in $here" >&2
	exit 1
fi
for script in "${scripts[@]}"
do
	name=${script##*/}
	echo "=== $name"
	if "$PYTHON" "$script"
	then
		echo "=== $name: ok"
	else
		echo "=== $name: FAILED (status $?)"
		failed+=("$name")
	fi
done
echo "=== report.py"
if "$PYTHON" "$here/report.py" "$AIOPS_BENCH_DIR"
then
	echo "=== the report: $AIOPS_BENCH_DIR/report.md"
else
	echo "=== report.py: FAILED (status $?)"
	failed+=(report.py)
fi
if test ${#failed[@]} != 0
then
	echo "run.sh: failed: ${failed[*]}" >&2
	exit 1
fi
