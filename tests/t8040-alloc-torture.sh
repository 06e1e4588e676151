#!/bin/sh
# shellcheck disable=SC2016
test_description='every command, each of its allocations failing in turn (curl-style torture)'
. "$(dirname "$0")/lib.sh"

# AIOPS_FAIL_ALLOC=N makes the N-th allocation through the library and every later one fail
# (lib/alloc.c; jansson allocates through it too). torture runs a command with N = 1, 2, ...
# until it succeeds, and asks of every failing run: status 1 (not a signal, not 2), a message
# on standard error that names the command and says "out of memory" (not a misleading
# "malformed input" from a parser that lost an allocation), no sanitizer report (LeakSanitizer catches what
# an error path forgot to free), none of the outputs left behind and no temporary file. The
# run that succeeds must write what a run without failures writes.
#
#   torture NAME OUTPUTS -- CMD...   OUTPUTS: space-separated paths the command writes
#
# Files named in $torture_reset are removed before every run: state a failed run keeps on
# purpose (a search journal keeps the trials that finished, for the next run to resume).

#
# The plain run tries every N. Under the sanitizers a run costs several times as much, so
# there it tries the first 50 and then every TORTURE_STEP-th (default 4; 1 with TEST_LONG=1):
# the plain run has seen every N crash-free, and the sampled runs look for leaks.

SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
TORTURE_MAX=${TORTURE_MAX:-20000}
if test_have_prereq SANITIZED && ! test_have_prereq EXPENSIVE
then
	TORTURE_STEP=${TORTURE_STEP:-4}
else
	TORTURE_STEP=${TORTURE_STEP:-1}
fi
torture_reset=

torture () {
	t_name=$1 t_outs=$2
	shift 3
	rm -rf $t_outs $torture_reset &&
	"$@" >t.stdout 2>t.err || { cat t.err >&2; return 1; }
	for t_o in $t_outs
	do
		cp -R "$t_o" "$t_o.want" || return 1
	done
	rm -rf $t_outs
	t_n=1
	while test "$t_n" -le "$TORTURE_MAX"
	do
		rm -rf $torture_reset
		AIOPS_FAIL_ALLOC=$t_n "$@" >t.stdout 2>t.err
		t_s=$?
		test "$t_s" = 0 && break
		if test "$t_s" != 1
		then
			echo "$t_name: allocation $t_n failing: status $t_s" >&2
			cat t.err >&2
			return 1
		fi
		if grep -q "Sanitizer\|runtime error" t.err ||
		   ! grep -q "^aiops-[a-z]*: .*out of memory" t.err
		then
			echo "$t_name: allocation $t_n failing: not a clean error" >&2
			cat t.err >&2
			return 1
		fi
		for t_o in $t_outs
		do
			if test -e "$t_o" || ! no_tmp "$t_o"
			then
				echo "$t_name: allocation $t_n failing left $t_o behind" >&2
				return 1
			fi
		done
		if test "$t_n" -lt 50
		then
			t_n=$((t_n + 1))
		else
			t_n=$((t_n + TORTURE_STEP))
		fi
	done
	if test "$t_n" -gt "$TORTURE_MAX"
	then
		echo "$t_name: still failing after $TORTURE_MAX allocations" >&2
		return 1
	fi
	echo "# $t_name: runs with AIOPS_FAIL_ALLOC below $t_n failed cleanly" \
		"(every one to 50, then every $TORTURE_STEP-th); $t_n succeeded"
	for t_o in $t_outs
	do
		if test -d "$t_o"
		then
			diff -r "$t_o.want" "$t_o" || return 1
		else
			test_cmp "$t_o.want" "$t_o" || return 1
		fi
	done
}

test_expect_success 'setup: small inputs' '
	cp "$TOP/testdata/metrics-demo.csv" m.csv &&
	head -n 400 "$TOP/testdata/logs-demo.log" >l.log &&
	head -n 60 "$TOP/testdata/traces-demo.csv" >s.csv &&
	aiops-ingest -q --step 5m -o m.tensor m.csv &&
	aiops-ingest -q --step 5m --labels "$TOP/testdata/metrics-demo.labels" --split 0.5 -o p m.csv
'

test_expect_success 'aiops-ingest: CSV to tensor, with alignment, labels and a split' '
	torture ingest-csv m5.tensor -- aiops-ingest -q --step 5m -o m5.tensor m.csv &&
	torture ingest-split "s.train.tensor s.test.tensor" -- \
		aiops-ingest -q --labels "$TOP/testdata/metrics-demo.labels" --scale zscore \
		--split 0.5 -o s m.csv
'

test_expect_success 'aiops-ingest: tensor to CSV and to .npy' '
	torture ingest-csvout m.out.csv -- aiops-ingest -q -O csv -o m.out.csv m.tensor &&
	torture ingest-npy m.npy -- aiops-ingest -q -o m.npy m.tensor
'

test_expect_success 'aiops-ingest --logs, with a template dictionary and per-line output' '
	torture ingest-logs "l.tensor tpl.csv lines.csv" -- \
		aiops-ingest -q --logs --log-format "<Date> <Time> <Level> <Component>: <Content>" \
		--templates tpl.csv --lines lines.csv -o l.tensor l.log
'

test_expect_success 'aiops-ingest --traces and --join' '
	torture ingest-traces t.tensor -- aiops-ingest -q --traces --step 1m -o t.tensor s.csv &&
	aiops-ingest -q --logs --log-format "<Date> <Time> <Level> <Component>: <Content>" \
		--step 5m -o l5.tensor l.log &&
	torture ingest-join j.tensor -- aiops-ingest -q --join -o j.tensor m.tensor l5.tensor
'

test_expect_success 'aiops-train: a search with a journal, and --info' '
	torture_reset=j.jsonl &&
	torture train z.model -- aiops-train -q -j 1 --space "zscore pca:k=1..2" \
		--valid p.test.tensor --journal j.jsonl -o z.model p.train.tensor &&
	torture_reset= &&
	torture train-info info.json -- sh -c "aiops-train --info --json z.model >info.json.tmp &&
		mv info.json.tmp info.json || { rm -f info.json.tmp; exit 1; }"
'

test_expect_success 'aiops-eval: scores, a gate report, JUnit' '
	torture eval "sc.csv rep.json gate.xml" -- aiops-eval -q --require "auc_pr>=0" \
		--report rep.json --junit gate.xml -o sc.csv z.model p.test.tensor
'

test_expect_success 'aiops-pack: an artifact, and --verify' '
	torture pack a.tar.gz -- aiops-pack -q -V 1.0.0 -r rep.json -o a.tar.gz z.model &&
	torture verify verified -- sh -c "aiops-pack --verify a.tar.gz >verified.tmp &&
		mv verified.tmp verified || { rm -f verified.tmp; exit 1; }"
'

test_expect_success 'aiops-push: to an OCI layout, and --pull' '
	torture push layout -- aiops-push -q a.tar.gz oci-layout:layout:1.0.0 &&
	torture pull pulled -- aiops-push -q --pull -o pulled oci-layout:layout:1.0.0
'

test_done
