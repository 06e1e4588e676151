#!/bin/sh
# t8000: crash safety. Each command that writes a file (aiops-ingest -o and --split,
# aiops-train -o and --journal, aiops-eval -o and its reports, aiops-pack -o, aiops-push to
# an OCI layout, new or not, and --pull -o) runs on inputs big enough to take a moment and
# is killed with SIGKILL at ten points or more spread over its run time (stratified and
# jittered from a fixed seed). After each kill the output holds the old file byte for byte,
# or nothing when there was none, or the whole new file when the kill came after the
# rename: never a part, and never new parts of a split beside old ones. SIGKILL cannot be
# caught, so the temporary file ".NAME.XXXXXX" of a killed run stays in the output's
# directory (and an extraction's ".aiops-extract.XXXXXX" inside its directory): the loops
# check that some kills did hit a write in progress, and that a later run with those
# leftovers in place succeeds and writes the right bytes. An OCI layout's index.json is
# valid JSON naming only blobs that are present and whole, and a layout whose first push
# was killed takes the next one. A journal holds whole JSON lines and at most a torn last
# one, and resuming from it gives the model of an uninterrupted run, byte for byte.
# Inputs stay below ~100 MB on disk.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='crash safety: SIGKILL at random points leaves the old output or none'
. "$(dirname "$0")/lib.sh"

if ! test_have_prereq PYTHON3
then
	test_skip_all 'no python3'
fi
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
KILLS=${KILLS:-10}

# now_ms: the time in milliseconds.
now_ms () {
	echo $(($(date +%s%N) / 1000000))
}

# run_ms CMD...: run CMD (its output to the files it names), then print its wall time in ms.
run_ms () {
	rm_t0=$(now_ms) &&
	"$@" >/dev/null &&
	echo $(($(now_ms) - rm_t0))
}

# kill_points N SEED MS [LO HI]: N delays in seconds over [LO MS, HI MS) ms (default
# [0, 1.2 MS)): one uniform draw in each of N equal strata, from awk's generator seeded
# with SEED.
kill_points () {
	awk -v n="$1" -v seed="$2" -v ms="$3" -v lo="${4:-0}" -v hi="${5:-1.2}" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			printf "%.3f\n", (lo + (i + rand()) * (hi - lo) / n) * ms / 1000
	}'
}

# kill_run DELAY CMD...: start CMD, send it signal $KILL_SIG (default KILL) after DELAY
# seconds (if still running); kr_status gets its exit status (137 when a SIGKILL hit).
kill_run () {
	kr_delay=$1
	shift
	"$@" >/dev/null 2>&1 &
	kr_pid=$!
	sleep "$kr_delay"
	kill -s "${KILL_SIG:-KILL}" "$kr_pid" 2>/dev/null
	wait "$kr_pid"
	kr_status=$?
}

# outcome OUT OLD NEW: print old, new or none; fail on anything else (a partial file, or the
# old file gone). OLD is - when there was no file before.
outcome () {
	if ! test -e "$1"
	then
		if test "$2" = -
		then
			echo none
			return 0
		fi
		echo "$1: the old file is gone" >&2
		return 1
	fi
	if test "$2" != - && cmp -s "$1" "$2"
	then
		echo old
	elif cmp -s "$1" "$3"
	then
		echo new
	else
		echo "$1: neither the old file nor the new one ($(wc -c <"$1") bytes)" >&2
		return 1
	fi
}

# temps PATH: the temporary files ".BASE.XXXXXX" of PATH, one a line.
temps () {
	for tp_f in "$(dirname "$1")"/."$(basename "$1")".??????
	do
		test -e "$tp_f" && echo "$tp_f"
	done
	return 0
}

# note MSG: a line for the -v log.
note () {
	echo "# $*" >&2
}

test_expect_success 'setup: inputs, old outputs and the reference outputs of whole runs' '
	gencsv -H -t 60000 38 >big.csv &&
	gencsv -H -t 50 38 >small.csv &&
	aiops-ingest -o old.tensor small.csv &&
	ms=$(run_ms aiops-ingest -o ref.tensor big.csv) &&
	echo "$ms" >ingest.ms &&
	gencsv -H -t 50000 8 | aiops-ingest -o t.tensor - &&
	cat >space <<-\EOF &&
	pca:k=1..7 mahalanobis:reg=0.001,0.01,0.1,0.3 kmeans:k=2..16/2 zscore iforest:trees=50
	EOF
	aiops-train -q --space zscore -o old.model t.tensor &&
	ms=$(run_ms aiops-train -q -j 2 --space "$(cat space)" -o ref.model t.tensor) &&
	echo "$ms" >train.ms &&
	! cmp -s old.model ref.model &&
	gencsv -H -t 300000 8 | aiops-ingest -o e.tensor - &&
	gencsv -H -t 200 8 | aiops-ingest -o e-small.tensor - &&
	for k in old ref
	do
		if test $k = old; then et=e-small.tensor; else et=e.tensor; fi &&
		ms=$(run_ms aiops-eval -q -o $k.scores.csv --report $k.report.json --junit $k.junit.xml \
			--metrics-report $k.metrics.txt --plot $k.plot.svg ref.model $et) || return 1
	done &&
	echo "$ms" >eval.ms &&
	"$PYTHON" -c "import random; r = random.Random(8000); open(\"noise.bin\", \"wb\").write(r.randbytes(24 << 20))" &&
	aiops-pack -q -V 0.9.0 -o old.tar.gz old.model &&
	ms=$(run_ms aiops-pack -q -j 2 -V 1.0.0 -o ref.tar.gz ref.model noise.bin) &&
	echo "$ms" >pack.ms &&
	for ph in ingest train eval pack
	do
		note "$ph: a whole run takes $(cat $ph.ms) ms" || return 1
	done
'

# --- aiops-ingest -o -------------------------------------------------------------------------

test_expect_success 'aiops-ingest -o, killed at 15 points: the old tensor, none, or the new one' '
	: >outcomes &&
	i=0 &&
	for d in $(kill_points $KILLS 8001 "$(cat ingest.ms)") $(kill_points 5 8011 "$(cat ingest.ms)" 0.3 0.9)
	do
		i=$((i + 1)) &&
		if test $((i % 2)) = 1
		then
			cp old.tensor out.tensor && old=old.tensor
		else
			rm -f out.tensor && old=-
		fi &&
		temps out.tensor >before &&
		kill_run "$d" aiops-ingest -o out.tensor big.csv &&
		o=$(outcome out.tensor $old ref.tensor) &&
		temps out.tensor >after &&
		left=$(comm -13 before after | wc -l) &&
		note "kill at $d s: status $kr_status, $o, $left temporary file(s) left" &&
		echo "$o $left" >>outcomes &&
		# keep the leftovers of one run for the next, no more (disk space)
		comm -12 before after | xargs rm -f || return 1
	done &&
	awk "\$2 > 0" outcomes >hit &&
	test_line_count -gt 0 hit
'

test_expect_success 'aiops-ingest: a later run succeeds beside the leftovers, and leaves none of its own' '
	half=$(awk -v ms="$(cat ingest.ms)" "BEGIN { printf \"%.3f\", ms / 2000 }") &&
	n=0 &&
	while test $n -lt 10 && test -z "$(temps out.tensor)"
	do
		kill_run "$half" aiops-ingest -o out.tensor big.csv &&
		n=$((n + 1)) || return 1
	done &&
	temps out.tensor >before &&
	test_line_count -gt 0 before &&
	cp old.tensor out.tensor &&
	aiops-ingest -o out.tensor big.csv &&
	cmp ref.tensor out.tensor &&
	temps out.tensor >after &&
	test_cmp before after &&
	xargs rm -f <after
'

# The parts of a split are written whole, then renamed into place one after the other.
# Each part is old or new after a SIGKILL anywhere (that all of them are is not in reach of
# rename(2): a kill can fall between two renames). A SIGTERM, which the commands catch,
# must leave all the parts old or all new: the kills fall in the last third of the run,
# where the parts are committed.
test_expect_success 'setup: the parts of a split, old and new' '
	aiops-ingest --split 0.6,0.2 -o old small.csv &&
	ms=$(run_ms aiops-ingest --split 0.6,0.2 -o ref big.csv) &&
	echo "$ms" >split.ms
'

# split_run SEED N LO HI: kill aiops-ingest --split at N points in [LO, HI] of its run
# time; each part must be old or new; "outcomes" gets one line of the three a kill.
split_run () {
	: >outcomes &&
	for d in $(kill_points "$2" "$1" "$(cat split.ms)" "$3" "$4")
	do
		for p in train valid test
		do
			cp old.$p.tensor pre.$p.tensor || return 1
		done &&
		kill_run "$d" aiops-ingest --split 0.6,0.2 -o pre big.csv &&
		line= &&
		for p in train valid test
		do
			o=$(outcome pre.$p.tensor old.$p.tensor ref.$p.tensor) &&
			line="$line $o" || return 1
		done &&
		note "${KILL_SIG:-KILL} at $d s: status $kr_status, parts:$line" &&
		echo "$line" >>outcomes &&
		rm -f .pre.*.tensor.?????? || return 1
	done
}

test_expect_success 'aiops-ingest --split, SIGKILL at 10 points: each part old or new' '
	split_run 8008 $KILLS 0 1.2
'

test_expect_success 'aiops-ingest --split, SIGTERM near its end: all the parts old, or all new, no temporary left' '
	KILL_SIG=TERM split_run 8009 20 0.7 1.1 &&
	{ grep -v -x -e " old old old" -e " new new new" outcomes >mixed || :; } &&
	test_must_be_empty mixed &&
	for p in train valid test
	do
		no_tmp pre.$p.tensor || return 1
	done
'
rm -f old.*.tensor ref.*.tensor pre.*.tensor

# --- aiops-train -o and --journal ------------------------------------------------------------

test_expect_success 'setup: a journal checker' '
	cat >journal_ok.py <<-\EOF
	# journal_ok.py FILE: every line but a torn last one (no newline) is a JSON trial with a
	# key and a family; prints the number of whole lines.
	import json, sys
	data = open(sys.argv[1], "rb").read() if len(sys.argv) > 1 else b""
	lines = data.split(b"\n")
	for n, line in enumerate(lines[:-1], 1):
	    t = json.loads(line)
	    assert "key" in t and "family" in t, "%s:%d: not a trial" % (sys.argv[1], n)
	print(len(lines) - 1)
	EOF
'

test_expect_success 'aiops-train -o --journal, killed at 10 points: the old model or the new one; the journal resumes to the same model' '
	: >outcomes &&
	for d in $(kill_points $KILLS 8002 "$(cat train.ms)")
	do
		cp old.model m.model &&
		rm -f j.jsonl &&
		temps m.model >before &&
		kill_run "$d" aiops-train -q -j 2 --space "$(cat space)" --journal j.jsonl -o m.model t.tensor &&
		o=$(outcome m.model old.model ref.model) &&
		temps m.model >after &&
		left=$(comm -13 before after | wc -l) &&
		if test -e j.jsonl
		then
			jl=$("$PYTHON" journal_ok.py j.jsonl)
		else
			jl=none
		fi &&
		note "kill at $d s: status $kr_status, model $o, $left temporary file(s), journal lines: $jl" &&
		echo "$o $left $jl" >>outcomes &&
		# resuming from the journal gives the very model of an uninterrupted run
		aiops-train -q -j 2 --space "$(cat space)" --journal j.jsonl -o m.model t.tensor &&
		cmp ref.model m.model &&
		"$PYTHON" journal_ok.py j.jsonl >/dev/null &&
		comm -12 before after | xargs rm -f || return 1
	done &&
	awk "\$3 != \"none\" && \$3 > 0 && \$1 == \"old\"" outcomes >hit &&
	test_line_count -gt 0 hit
'

test_expect_success 'aiops-train: the leftovers of killed runs do not disturb a later run' '
	temps m.model >before &&
	aiops-train -q -j 2 --space "$(cat space)" -o m.model t.tensor &&
	cmp ref.model m.model &&
	temps m.model >after &&
	test_cmp before after &&
	xargs rm -f <after
'

# --- aiops-eval -o and its reports -------------------------------------------------------------

EVAL_OUTS='scores.csv report.json junit.xml metrics.txt plot.svg'

test_expect_success 'aiops-eval -o --report --junit --metrics-report --plot, killed at 10 points: each file old or new' '
	: >outcomes &&
	for d in $(kill_points $KILLS 8003 "$(cat eval.ms)")
	do
		for f in $EVAL_OUTS
		do
			cp old.$f out.$f || return 1
		done &&
		for f in $EVAL_OUTS; do temps out.$f; done >before &&
		kill_run "$d" aiops-eval -q -o out.scores.csv --report out.report.json --junit out.junit.xml \
			--metrics-report out.metrics.txt --plot out.plot.svg ref.model e.tensor &&
		line="$d" &&
		for f in $EVAL_OUTS
		do
			o=$(outcome out.$f old.$f ref.$f) &&
			line="$line $f=$o" || return 1
		done &&
		for f in $EVAL_OUTS; do temps out.$f; done >after &&
		left=$(comm -13 before after | wc -l) &&
		note "kill at $line, $left temporary file(s)" &&
		echo "$line $left" >>outcomes &&
		comm -12 before after | xargs rm -f || return 1
	done &&
	awk "\$NF > 0" outcomes >hit &&
	test_line_count -gt 0 hit &&
	for f in $EVAL_OUTS; do temps out.$f; done >before &&
	aiops-eval -q -o out.scores.csv --report out.report.json --junit out.junit.xml \
		--metrics-report out.metrics.txt --plot out.plot.svg ref.model e.tensor &&
	for f in $EVAL_OUTS
	do
		cmp ref.$f out.$f || return 1
	done &&
	for f in $EVAL_OUTS; do temps out.$f; done >after &&
	test_cmp before after &&
	xargs rm -f <after
'

# --- aiops-pack -o -------------------------------------------------------------------------------

test_expect_success 'aiops-pack -o, killed at 10 points: the old artifact or the new one' '
	: >outcomes &&
	for d in $(kill_points $KILLS 8004 "$(cat pack.ms)")
	do
		cp old.tar.gz a.tar.gz &&
		temps a.tar.gz >before &&
		kill_run "$d" aiops-pack -q -j 2 -V 1.0.0 -o a.tar.gz ref.model noise.bin &&
		o=$(outcome a.tar.gz old.tar.gz ref.tar.gz) &&
		temps a.tar.gz >after &&
		left=$(comm -13 before after | wc -l) &&
		note "kill at $d s: status $kr_status, $o, $left temporary file(s)" &&
		echo "$o $left" >>outcomes &&
		comm -12 before after | xargs rm -f || return 1
	done &&
	awk "\$2 > 0" outcomes >hit &&
	test_line_count -gt 0 hit &&
	aiops-pack -q -j 2 -V 1.0.0 -o a.tar.gz ref.model noise.bin &&
	cmp ref.tar.gz a.tar.gz &&
	aiops-pack -q --verify a.tar.gz
'
rm -f .a.tar.gz.??????

# --- aiops-push to an OCI layout, and --pull from it ---------------------------------------------

test_expect_success 'setup: a layout checker, and a layout with an old tag' '
	cat >layout_ok.py <<-\EOF &&
	# layout_ok.py DIR: DIR/index.json, if there is one, is valid JSON whose manifests are
	# present and whole (their sha256 is their name), as are their config and layers.
	# Prints the tags, sorted, one a line.
	import hashlib, json, os, sys
	d = sys.argv[1]
	def blob(desc):
	    alg, hx = desc["digest"].split(":")
	    p = os.path.join(d, "blobs", alg, hx)
	    data = open(p, "rb").read()
	    assert len(data) == desc["size"], "%s: %d bytes, the descriptor says %d" % (p, len(data), desc["size"])
	    assert hashlib.sha256(data).hexdigest() == hx, "%s: wrong sha256" % p
	    return data
	ip = os.path.join(d, "index.json")
	if os.path.exists(ip):
	    idx = json.load(open(ip))
	    assert json.load(open(os.path.join(d, "oci-layout")))["imageLayoutVersion"].startswith("1.")
	    tags = []
	    for m in idx["manifests"]:
	        man = json.loads(blob(m))
	        for b in [man["config"]] + man["layers"]:
	            blob(b)
	        tags.append(m.get("annotations", {}).get("org.opencontainers.image.ref.name", "?"))
	    print("\n".join(sorted(tags)))
	EOF
	aiops-push old.tar.gz lay:old >/dev/null &&
	cp -R lay lay.old &&
	"$PYTHON" layout_ok.py lay >tags &&
	echo old >expect &&
	test_cmp expect tags &&
	ms=$(run_ms aiops-push ref.tar.gz ref-lay:new) &&
	echo "$ms" >push.ms &&
	note "push: a whole run takes $ms ms"
'

test_expect_success 'aiops-push to a layout, killed at 20 points: index.json is whole and names only whole blobs' '
	: >outcomes &&
	for d in $(kill_points $KILLS 8005 "$(cat push.ms)") $(kill_points $KILLS 8015 "$(cat push.ms)" 0.4 1)
	do
		rm -rf lay &&
		cp -R lay.old lay &&
		kill_run "$d" aiops-push ref.tar.gz lay:new &&
		"$PYTHON" layout_ok.py lay >tags &&
		tags=$(tr "\\n" " " <tags) &&
		case $tags in
		"new old ") o=new ;;
		"old ") o=old ;;
		*) echo "tags after the kill: $tags" >&2; false ;;
		esac &&
		left=$(find lay -name ".*" -type f | wc -l) &&
		note "kill at $d s: status $kr_status, $o, $left temporary file(s)" &&
		echo "$o $left" >>outcomes &&
		# a later push beside the leftovers
		aiops-push ref.tar.gz lay:new >/dev/null &&
		"$PYTHON" layout_ok.py lay >tags &&
		printf "new\\nold\\n" >expect &&
		test_cmp expect tags || return 1
	done &&
	awk "\$2 > 0" outcomes >hit &&
	test_line_count -gt 0 hit
'

test_expect_success 'aiops-push to a new layout, killed at 10 points: a later push to it succeeds' '
	for d in $(kill_points $KILLS 8006 "$(cat push.ms)")
	do
		rm -rf fresh &&
		kill_run "$d" aiops-push ref.tar.gz fresh:new &&
		"$PYTHON" layout_ok.py fresh >/dev/null &&
		note "kill at $d s: status $kr_status; left: $(find fresh -type f 2>/dev/null | sed -e "s,.*/,," | tr "\\n" " ")" &&
		aiops-push ref.tar.gz fresh:new >out 2>err &&
		"$PYTHON" layout_ok.py fresh >tags &&
		echo new >expect &&
		test_cmp expect tags || { cat err >&2; return 1; }
	done
'

test_expect_success 'aiops-push --pull -o, killed at 10 points: the old files or the new ones' '
	mkdir pulled.old &&
	echo "an old file" >pulled.old/ref.model &&
	ms=$(run_ms aiops-push -q --pull -o pulled.new lay:new) &&
	cmp ref.model pulled.new/ref.model &&
	cmp noise.bin pulled.new/noise.bin &&
	: >outcomes &&
	for d in $(kill_points $KILLS 8007 "$ms")
	do
		rm -rf pulled &&
		cp -R pulled.old pulled &&
		kill_run "$d" aiops-push -q --pull -o pulled lay:new &&
		m=$(outcome pulled/ref.model pulled.old/ref.model ref.model) &&
		if test -e pulled/noise.bin
		then
			test $m = new &&
			cmp noise.bin pulled/noise.bin
		else
			test $m = old
		fi &&
		left=$(find . -maxdepth 1 -name ".pulled*" | wc -l) &&
		note "kill at $d s: status $kr_status, $m, temporary: $left beside, $(ls -A pulled | grep -c "^\\.") inside" &&
		echo "$m $left" >>outcomes &&
		aiops-push -q --pull -o pulled lay:new &&
		cmp ref.model pulled/ref.model &&
		cmp noise.bin pulled/noise.bin &&
		# what a killed extraction leaves inside: its staging directory, nothing else
		{ ls -A pulled | grep -v -x -e ref.model -e noise.bin -e "\\.aiops-extract\\.[A-Za-z0-9]\\{6\\}" >stray || :; } &&
		test_must_be_empty stray &&
		find . -maxdepth 1 -name ".pulled*" -exec rm -rf {} + || return 1
	done
'

test_done
