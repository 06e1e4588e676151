#!/bin/sh
# t2000: aiops-train: the search and its model, --info, determinism across -j, shards
# and --select, the resumable journal, random search, thresholds, metrics, warm starts,
# and bad input: the message, the exit status, and that no model is left behind.
# The mechanics use the zscore family, which always exists; tests that need another
# family are guarded by a prerequisite that tries it.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-train: search, model, determinism, shards, journal, thresholds, errors'
. "$(dirname "$0")/lib.sh"

# A CI runner sets these; the tests set them where they want them.
sane_unset SOURCE_DATE_EPOCH CI_COMMIT_SHA CI_PIPELINE_ID
# shellcheck disable=SC2034 # used inside the test bodies
EPOCH=1700000000

test_lazy_prereq TRAINMAN 'test -f "$TOP/man/aiops-train.1"'
test_lazy_prereq PCA 'aiops-train -q --space pca:k=1 -o m.model "$TRASH_DIRECTORY/train.tensor"'

# fails_cleanly STATUS OUT ARG...: fails_cleanly_o (lib.sh) for aiops-train.
fails_cleanly () {
	fails_cleanly_o aiops-train "$@"
}

# jget FILE PATH: one value of the JSON in FILE ("a.b.c"); numbers as Python's repr.
jget () {
	"$PYTHON" "$TRASH_DIRECTORY/jtool.py" get "$@"
}

# info_json MODEL [DROP...]: "aiops-train --info --json MODEL" without the keys DROP.
info_json () {
	ij_m=$1
	shift
	aiops-train --info --json "$ij_m" >ij.json &&
	"$PYTHON" "$TRASH_DIRECTORY/jtool.py" drop ij.json "$@"
}

# rel_approx A B RTOL: |A-B| <= RTOL * |B|.
rel_approx () {
	test_approx "$1" "$2" "$(awk -v b="$2" -v r="$3" 'BEGIN { if (b < 0) b = -b; printf "%.17g", r * b }')"
}

# gen SEED ROWS: a wide CSV ts,cpu,mem,lat,label of Gaussian noise (Box-Muller on
# awk's seeded rand) with labelled spikes at fixed rows.
gen () {
	awk -v seed="$1" -v n="$2" '
	function gauss(  u, v) {
		u = rand(); v = rand()
		if (u < 1e-12) u = 1e-12
		return sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
	}
	BEGIN {
		srand(seed)
		print "ts,cpu,mem,lat,label"
		for (i = 0; i < n; i++) {
			a = 10 + gauss(); b = 50 + 2 * gauss(); c = 3 + 0.5 * gauss(); y = 0
			if (i % 23 == 11) { a += 6 + 3 * rand(); y = 1 }
			if (i % 37 == 20) { b -= 12 + 6 * rand(); y = 1 }
			if (i % 41 == 30) { c += 3 + rand(); y = 1 }
			printf "%d,%.17g,%.17g,%.17g,%d\n", 1700000000 + 60 * i, a, b, c, y
		}
	}'
}

test_expect_success 'setup: training, validation and unlabelled tensors' '
	cat >jtool.py <<-\EOF &&
	import json, sys
	def walk(o, path):
	    for k in path.split("."):
	        o = o[int(k)] if isinstance(o, list) else o[k]
	    return o
	cmd, f = sys.argv[1], sys.argv[2]
	o = json.load(open(f))
	if cmd == "get":
	    v = walk(o, sys.argv[3])
	    if isinstance(v, bool) or v is None or isinstance(v, (list, dict)):
	        print(json.dumps(v, sort_keys=True))
	    elif isinstance(v, float):
	        print(repr(v))
	    else:
	        print(v)
	elif cmd == "drop":
	    for p in sys.argv[3:]:
	        head, _, last = p.rpartition(".")
	        del (walk(o, head) if head else o)[last]
	    print(json.dumps(o, indent=1, sort_keys=True))
	EOF
	# shard_check.py FILE I N TOTAL: FILE holds one line for each trial index
	# k < TOTAL with k % N == I - 1, and nothing else.
	cat >shard_check.py <<-\EOF &&
	import json, sys
	f, i, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	got = sorted(json.loads(l)["index"] for l in open(f))
	want = [k for k in range(total) if k % n == i - 1]
	assert got == want, (f, got, want)
	EOF
	# journal_check.py FILE: every line is whole and one JSON object, and no
	# trial key appears twice.
	cat >journal_check.py <<-\EOF &&
	import json, sys
	keys = []
	for n, l in enumerate(open(sys.argv[1]), 1):
	    assert l.endswith("\n"), "line %d is torn: %r" % (n, l)
	    keys.append(json.loads(l)["key"])
	assert len(keys) == len(set(keys)), keys
	EOF
	# ref.py: the robust z-score of aiops-train(1) redone in numpy, on CSVs
	# that aiops-ingest wrote from the very tensors that aiops-train reads.
	#   ref.py thr TRAIN.csv     90th percentile, mean + 2 std of training scores
	#   ref.py impute TRAIN.csv  the same, NaNs replaced by the column median
	#   ref.py f1 TRAIN.csv VALID.csv  best F1, its threshold, average precision
	#   ref.py error TRAIN.csv K  the label-free objective over K rolling folds
	cat >ref.py <<-\EOF &&
	import sys
	import numpy as np
	
	def load(p):
	    rows = [l.rstrip("\n").split(",") for l in open(p)]
	    head, body = rows[0], rows[1:]
	    cols = [j for j, h in enumerate(head) if h not in ("timestamp", "label")]
	    x = np.array([[float(r[j]) if r[j] != "" else np.nan for j in cols] for r in body])
	    y = np.array([int(r[head.index("label")]) for r in body]) if "label" in head else None
	    return x, y
	
	def fit(x):
	    med = np.median(x, axis=0)
	    mad = 1.4826 * np.median(np.abs(x - med), axis=0)
	    assert (mad > 1e-12).all(), mad
	    return med, mad
	
	def score(x, med, mad):
	    return np.sqrt(np.mean(((x - med) / mad) ** 2, axis=1))
	
	# Exact best F1: scores in descending order, a threshold at each distinct value.
	def best_f1(s, y):
	    order = np.argsort(-s, kind="stable")
	    s, y = s[order], y[order]
	    P, tp, fp, best, thr, ap, prev_r = y.sum(), 0, 0, 0.0, np.inf, 0.0, 0.0
	    i = 0
	    while i < len(s):
	        v = s[i]
	        while i < len(s) and s[i] == v:
	            tp += y[i]; fp += 1 - y[i]; i += 1
	        p, r = tp / (tp + fp), tp / P
	        f1 = 2 * p * r / (p + r) if tp else 0.0
	        if f1 > best:
	            best, thr = f1, v
	        ap += (r - prev_r) * p
	        prev_r = r
	    return best, thr, ap
	
	if __name__ == "__main__":
	    x, y = load(sys.argv[2])
	    if sys.argv[1] == "impute":
	        x = np.where(np.isnan(x), np.nanmedian(x, axis=0), x)
	    if sys.argv[1] == "error":
	        n, K, m = len(x), int(sys.argv[3]), []
	        for k in range(1, K + 1):
	            a, b = n * k // (K + 1), n * (k + 1) // (K + 1)
	            med, mad = fit(x[:a])
	            norm = np.percentile(score(x[:a], med, mad), 99)
	            m.append(-score(x[a:b], med, mad).mean() / norm)
	        print(repr(float(np.mean(m))))
	        sys.exit(0)
	    med, mad = fit(x)
	    s = score(x, med, mad)
	    if sys.argv[1] in ("thr", "impute"):
	        print(repr(float(np.percentile(s, 90))), repr(float(s.mean() + 2 * s.std())))
	    else:
	        vx, vy = load(sys.argv[3])
	        b, t, ap = best_f1(score(vx, med, mad), vy)
	        print(repr(float(b)), repr(float(t)), repr(float(ap)))
	EOF
	gen 1 300 >train.csv &&
	gen 2 200 >valid-full.csv &&
	cut -d, -f1-4 valid-full.csv >valid.csv &&
	sed -e 1d valid-full.csv | cut -d, -f5 >valid.labels &&
	test_line_count = 200 valid.labels &&
	aiops-ingest -q --label-col label -o train.tensor train.csv &&
	aiops-ingest -q --labels valid.labels -o valid.tensor valid.csv &&
	aiops-ingest -q --drop label -o nolab.tensor train.csv &&
	aiops-ingest --info train.tensor >tinfo &&
	test_grep "\"has_labels\": true" tinfo &&
	aiops-ingest --info valid.tensor >vinfo &&
	test_grep "\"has_labels\": true" vinfo &&
	aiops-ingest --info nolab.tensor >ninfo &&
	test_grep "\"has_labels\": false" ninfo &&
	aiops-ingest -O csv train.tensor >train.out.csv &&
	aiops-ingest -O csv valid.tensor >valid.out.csv &&
	test_grep "^timestamp,cpu,mem,lat,label\$" train.out.csv
'

# --- usage --------------------------------------------------------------------------

test_expect_success '-h prints the usage on stdout and exits 0' '
	aiops-train -h >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >first &&
	test_grep "^usage: aiops-train \\[-hq\\]" first &&
	test_grep "aiops-train --select " out &&
	test_grep "aiops-train --info \\[--json\\] model" out &&
	aiops-train --help >out2 &&
	test_cmp out out2
'

test_expect_success MANDOC,TRAINMAN '-h output equals the SYNOPSIS of aiops-train(1)' '
	test_usage_is_synopsis aiops-train "^aiops-train \\[-hq\\]"
'

test_expect_success 'an unknown option or a missing argument: status 2, the usage on stderr' '
	test_expect_code 2 aiops-train --bogus train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-train " err &&
	test_expect_code 2 aiops-train -Z train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-train " err &&
	test_expect_code 2 aiops-train train.tensor --space >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-train " err &&
	fails_cleanly 2 x.model --bogus --space zscore train.tensor
'

test_expect_success 'bad -j, --folds and --seed values: status 2 naming the option' '
	for v in 0 65 x -1 ""
	do
		fails_cleanly 2 x.model -j "$v" --space zscore train.tensor &&
		test_grep "^aiops-train: -j: expected a whole number from 1 to 64, got \"$v\"\$" err || return 1
	done &&
	for v in 21 -1 x
	do
		fails_cleanly 2 x.model --folds "$v" --space zscore train.tensor &&
		test_grep "^aiops-train: --folds: expected a whole number from 0 to 20, got \"$v\"\$" err || return 1
	done &&
	fails_cleanly 2 x.model --seed -3 --space zscore train.tensor &&
	test_grep "^aiops-train: --seed: " err
'

test_expect_success '--info takes exactly one model' '
	test_expect_code 2 aiops-train --info >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-train " err &&
	test_expect_code 2 aiops-train --info a.model b.model >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-train " err
'

# --- a search and its model -----------------------------------------------------------

test_expect_success 'a search writes a model; --info names the family, threshold and rows' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train --space zscore -o m.model train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: winner zscore, threshold .*, 300 rows\$" err &&
	test_path_is_file m.model &&
	no_tmp m.model &&
	aiops-train --info m.model >info 2>err &&
	test_must_be_empty err &&
	test_grep "^model: *zscore (detector)" info &&
	test_grep "^columns: *3 (cpu, mem, lat)\$" info &&
	test_grep "^threshold: *[0-9][0-9.e+-]* (pot:" info &&
	test_grep "^trained on: *300 rows of train.tensor, sha256 [0-9a-f]\\{64\\}\$" info &&
	test_grep "created $EPOCH" info &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o q.model train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	cmp m.model q.model
'

test_expect_success PYTHON3 '--info --json: family, params, columns, threshold, train, provenance' '
	SOURCE_DATE_EPOCH=$EPOCH CI_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567 \
	CI_PIPELINE_ID=4242 aiops-train -q --space zscore -o ci.model train.tensor &&
	aiops-train --info --json ci.model >ci.json &&
	cat >check.py <<-\EOF &&
	import json, math, re, sys
	o = json.load(open(sys.argv[1]))
	assert o["family"] == "zscore", o["family"]
	assert o["params"] == {}, o["params"]
	assert o["columns"] == ["cpu", "mem", "lat"], o["columns"]
	v = o["threshold"]["value"]
	assert isinstance(v, float) and math.isfinite(v) and v > 0, v
	assert re.fullmatch("[0-9a-f]{64}", o["train"]["sha256"]), o["train"]["sha256"]
	assert o["train"]["rows"] == 300, o["train"]
	assert o["train"]["source"] == "train.tensor", o["train"]
	p = o["provenance"]
	assert p["created"] == 1700000000, p
	assert p["ci_commit_sha"] == "0123456789abcdef0123456789abcdef01234567", p
	assert p["ci_pipeline_id"] == "4242", p
	assert o["search"]["strategy"] == "grid" and o["search"]["trials"] == 1, o["search"]
	assert o["search"]["best"]["family"] == "zscore", o["search"]
	EOF
	"$PYTHON" check.py ci.json &&
	aiops-train --info ci.model >info &&
	test_grep ", commit 0123456789abcdef0123456789abcdef01234567, pipeline 4242\$" info &&
	thr=$(sed -n -e "s/^threshold: *\\([^ ]*\\) (pot:.*/\\1/p" info) &&
	test -n "$thr" &&
	test_approx "$thr" "$(jget ci.json threshold.value)" 0
'

test_expect_success PYTHON3 'provenance follows SOURCE_DATE_EPOCH; no CI keys without CI variables' '
	SOURCE_DATE_EPOCH=12345 aiops-train -q --space zscore -o e.model train.tensor &&
	aiops-train --info --json e.model >e.json &&
	test "$(jget e.json provenance.created)" = 12345 &&
	test_grep ! "ci_commit_sha" e.json &&
	test_grep ! "ci_pipeline_id" e.json &&
	aiops-train --info --json m.model >m.json &&
	test "$(jget m.json provenance.created)" = $EPOCH &&
	test_grep ! "ci_commit_sha" m.json
'

test_expect_success PYTHON3 'train.sha256 tells the training data apart' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o v.model valid.tensor &&
	aiops-train --info --json v.model >v.json &&
	aiops-train --info --json m.model >m.json &&
	aiops-train --info --json ci.model >ci.json &&
	test "$(jget m.json train.sha256)" = "$(jget ci.json train.sha256)" &&
	test "$(jget m.json train.sha256)" != "$(jget v.json train.sha256)"
'

test_expect_success 'the tensor from stdin is <stdin>; the model to stdout when no -o' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o in.model <train.tensor &&
	aiops-train --info in.model >info &&
	test_grep "^trained on: *300 rows of <stdin>," info &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore train.tensor >stdout.model &&
	cmp m.model stdout.model &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o - train.tensor >dash.model &&
	cmp m.model dash.model
'

# --- determinism ----------------------------------------------------------------------

test_expect_success '-j 1, 2 and 4 give byte-identical models' '
	for j in 1 2 4
	do
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j $j \
			--space "zscore pca:k=1,2;t2=0,1" -o j$j.model train.tensor || return 1
	done &&
	cmp j1.model j2.model &&
	cmp j1.model j4.model &&
	aiops-train --info j1.model >info &&
	test_grep "^search: *grid, 5 trials," info
'

test_expect_success PYTHON3,PCA '-j 1, 2 and 4 give byte-identical models over several families' '
	for j in 1 2 4
	do
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j $j \
			--space "pca:k=1,2;t2=0,1 zscore" -o pj$j.model train.tensor || return 1
	done &&
	cmp pj1.model pj2.model &&
	cmp pj1.model pj4.model &&
	aiops-train --info pj1.model >info &&
	test_grep "^search: *grid, 5 trials," info
'

# --- shards and --select ----------------------------------------------------------------

test_expect_success PYTHON3 'three shards run their own trials; --select picks the same winner' '
	space="zscore pca:k=1,2;t2=0,1 mahalanobis:reg=0.01" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space "$space" -o single.model train.tensor &&
	for i in 1 2 3
	do
		aiops-train -q --space "$space" --shard $i/3 -o r$i.jsonl train.tensor >out 2>err &&
		test_must_be_empty out &&
		test_must_be_empty err &&
		no_tmp r$i.jsonl &&
		test_line_count = 2 r$i.jsonl &&
		"$PYTHON" "$TRASH_DIRECTORY/shard_check.py" r$i.jsonl $i 3 6 || return 1
	done &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --select -o sel.model train.tensor r1.jsonl r2.jsonl r3.jsonl &&
	aiops-train --info --json single.model >single.json &&
	aiops-train --info --json sel.model >sel.json &&
	test "$(jget sel.json family)" = "$(jget single.json family)" &&
	test "$(jget sel.json params)" = "$(jget single.json params)" &&
	test "$(jget sel.json search.best)" = "$(jget single.json search.best)" &&
	test "$(jget single.json search.strategy)" = grid &&
	test "$(jget sel.json search.strategy)" = select &&
	info_json single.model search >expect &&
	info_json sel.model search >actual &&
	test_cmp expect actual
'

test_expect_success PYTHON3,PCA 'shards and --select over distinct trials: the same model but search.strategy' '
	space="pca:k=1,2;t2=0,1 zscore" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space "$space" -o psingle.model train.tensor &&
	for i in 1 2 3
	do
		aiops-train -q --space "$space" --shard $i/3 -o p$i.jsonl train.tensor &&
		"$PYTHON" "$TRASH_DIRECTORY/shard_check.py" p$i.jsonl $i 3 5 || return 1
	done &&
	test_line_count = 2 p1.jsonl &&
	test_line_count = 1 p3.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --select -o psel.model train.tensor p3.jsonl p1.jsonl p2.jsonl &&
	info_json psingle.model search.strategy >expect &&
	info_json psel.model search.strategy >actual &&
	test_cmp expect actual &&
	aiops-train --info --json psel.model >psel.json &&
	test "$(jget psel.json search.strategy)" = select &&
	test "$(jget psel.json search.trials)" = 5
'

test_expect_success '--shard misuse: status 2 and no results file' '
	for s in 0/3 4/3 3 a/3 1/0 /3
	do
		fails_cleanly 2 r.jsonl --space zscore --shard "$s" train.tensor &&
		test_grep "^aiops-train: --shard: " err || return 1
	done &&
	test_expect_code 2 aiops-train --space zscore --shard 1/3 train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: --shard needs -o" err &&
	fails_cleanly 2 r.jsonl --strategy halving --space zscore --shard 1/3 train.tensor &&
	test_grep "halving" err &&
	fails_cleanly 2 r.jsonl --from m.model --shard 1/3 train.tensor &&
	test_grep "^aiops-train: --shard " err &&
	fails_cleanly 2 r.jsonl --select --shard 1/3 train.tensor r1.jsonl &&
	test_grep "^aiops-train: --shard " err
'

test_expect_success '--select: a missing results file is an error naming it, and no model' '
	fails_cleanly 1 s.model --select train.tensor r1.jsonl nosuch.jsonl &&
	test_grep "^aiops-train: nosuch.jsonl: " err &&
	printf "not json\n" >junk.jsonl &&
	fails_cleanly 1 s.model --select train.tensor junk.jsonl &&
	test_grep "^aiops-train: junk.jsonl:1: " err &&
	test_expect_code 2 aiops-train --select -o s.model train.tensor 2>err &&
	test_grep "^usage: aiops-train " err &&
	test_path_is_missing s.model
'

# --- the journal ------------------------------------------------------------------------

# A tensor of 3 MB: aiops-train -j 2 reads it on two threads, and scores the final fit's
# training rows in two halves at once; neither may change a bit of the model.
test_expect_success 'a large tensor: the same model bytes with -j 1 and -j 2, every detector' '
	gencsv -H -s 7 20000 20 >big.csv &&
	aiops-ingest -q -o big.tensor big.csv &&
	test $(wc -c <big.tensor) -gt 2000000 &&
	for sp in zscore pca:k=4 "mahalanobis:reg=0.1;smooth=5" iforest:trees=20 kmeans:k=5 \
		"ae:epochs=1"
	do
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 1 --folds 0 --space "$sp" \
			-o big1.model big.tensor &&
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 2 --folds 0 --space "$sp" \
			-o big2.model big.tensor &&
		cmp big1.model big2.model || { echo "differs: $sp" >&2; return 1; }
	done &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 1 --space "pca:k=2,4 kmeans:k=3,5" \
		-o s1.model big.tensor &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 2 --space "pca:k=2,4 kmeans:k=3,5" \
		-o s2.model big.tensor &&
	cmp s1.model s2.model
'

test_expect_success 'a damaged large tensor: -j 2 names the fault as -j 1 does' '
	cp big.tensor bad.tensor &&
	printf "\377" | dd of=bad.tensor bs=1 seek=1500000 conv=notrunc 2>/dev/null &&
	test_expect_code 1 aiops-train -q -j 1 --space zscore -o bad1.model bad.tensor 2>err1 &&
	test_expect_code 1 aiops-train -q -j 2 --space zscore -o bad2.model bad.tensor 2>err2 &&
	test_grep "checksum mismatch in block" err1 &&
	test_cmp err1 err2 &&
	test_path_is_missing bad1.model &&
	test_path_is_missing bad2.model &&
	head -c 2000000 big.tensor >short.tensor &&
	test_expect_code 1 aiops-train -q -j 1 --space zscore -o bad1.model short.tensor 2>err1 &&
	test_expect_code 1 aiops-train -q -j 2 --space zscore -o bad2.model short.tensor 2>err2 &&
	test_grep "truncated" err1 &&
	test_cmp err1 err2
'

test_expect_success PYTHON3 'journal: a rerun redoes nothing and gives the same model' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal j.jsonl \
		--space zscore -o j1.model train.tensor &&
	test_line_count = 3 j.jsonl &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" j.jsonl &&
	cp j.jsonl j.orig &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal j.jsonl \
		--space zscore -o j2.model train.tensor &&
	test_cmp j.orig j.jsonl &&
	cmp j1.model j2.model
'

test_expect_success PYTHON3 'journal: after a kill, only the torn trial is redone' '
	sed -e "\$d" j.orig >j.jsonl &&
	printf "{\"key\":\"zscore:@1\",\"ind" >>j.jsonl &&
	test_line_count = 2 j.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal j.jsonl \
		--space zscore -o j3.model train.tensor &&
	test_line_count = 3 j.jsonl &&
	cmp j1.model j3.model &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" j.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal j.jsonl \
		--space zscore -o j4.model train.tensor &&
	test_line_count = 3 j.jsonl &&
	cmp j1.model j4.model
'

test_expect_success PYTHON3 'journal of a grid search: a torn line is redone, the journal stays valid' '
	space="zscore mahalanobis" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --journal g.jsonl --space "$space" -o g1.model train.tensor &&
	test_line_count = 2 g.jsonl &&
	cp g.jsonl g.orig &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --journal g.jsonl --space "$space" -o g2.model train.tensor &&
	test_cmp g.orig g.jsonl &&
	cmp g1.model g2.model &&
	sed -e "\$d" g.orig >g.jsonl &&
	tail -n 1 g.orig | head -c 20 >>g.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --journal g.jsonl --space "$space" -o g3.model train.tensor &&
	cmp g1.model g3.model &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" g.jsonl &&
	test_line_count = 2 g.jsonl
'

test_expect_success PYTHON3 '--folds 0 fits the one trial of the space as it is: no search, nor its summary' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o s1.model train.tensor &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train --folds 0 --space zscore -o f1.model train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: fitted zscore, threshold .*, 300 rows\$" err &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 2 --folds 0 --space zscore -o f2.model train.tensor &&
	cmp f1.model f2.model &&
	aiops-train --info f1.model >info &&
	test_grep "^model: *zscore (detector)" info &&
	test_grep ! "^search:" info &&
	aiops-train --info --json f1.model >f1.json &&
	"$PYTHON" -c "import json, sys; o = json.load(open(sys.argv[1])); assert \"search\" not in o, o" f1.json &&
	info_json s1.model search >expect &&
	info_json f1.model >actual &&
	test_cmp expect actual &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --folds 0 --strategy random --trials 1 --seed 5 \
		--space "zscore mahalanobis:reg=0.1,0.2" -o f3.model train.tensor &&
	aiops-train --info f3.model >info &&
	test_grep ! "^search:" info
'

test_expect_success '--folds 0: a space of more trials, or a journal, shard, select or metric, is a usage error' '
	fails_cleanly 2 f.model --folds 0 --space "zscore mahalanobis" train.tensor &&
	test_grep "^aiops-train: --folds 0 fits one candidate without validating it; the space has 2\$" err &&
	fails_cleanly 2 f.model --folds 0 train.tensor &&
	fails_cleanly 2 f.model --folds 0 --journal fj.jsonl --space zscore train.tensor &&
	test_grep "^aiops-train: --folds 0 fits one candidate without validating it: not with " err &&
	test_path_is_missing fj.jsonl &&
	fails_cleanly 2 f.model --folds 0 --metric error --space zscore train.tensor &&
	fails_cleanly 2 fr.jsonl --folds 0 --shard 1/2 --space zscore train.tensor &&
	fails_cleanly 2 f.model --folds 0 --select train.tensor r1.jsonl
'

test_expect_success PYTHON3,PCA 'journal over several trials: nothing redone, then only the torn one' '
	space="pca:k=1,2;t2=0,1 zscore" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --journal pj.jsonl --space "$space" -o pj1.model train.tensor &&
	test_line_count = 5 pj.jsonl &&
	cp pj.jsonl pj.orig &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 2 --journal pj.jsonl --space "$space" -o pj2.model train.tensor &&
	test_cmp pj.orig pj.jsonl &&
	cmp pj1.model pj2.model &&
	sed -e "\$d" pj.orig >pj.jsonl &&
	tail -n 1 pj.orig | head -c 30 >>pj.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --journal pj.jsonl --space "$space" -o pj3.model train.tensor &&
	test_line_count = 5 pj.jsonl &&
	cmp pj1.model pj3.model &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" pj.jsonl
'

# Halving journals each rung's trials under their budget (key "...@0.111111"), so a
# rerun must find the first rung's trials under that key too, not under "@1".
test_expect_success PYTHON3,PCA 'journal of a halving search over several trials: a rerun redoes nothing' '
	space="pca:k=1,2;t2=0,1 zscore" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal hj.jsonl \
		--space "$space" -o hj1.model train.tensor &&
	test_line_count = 9 hj.jsonl &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" hj.jsonl &&
	cp hj.jsonl hj.orig &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal hj.jsonl \
		--space "$space" -o hj2.model train.tensor &&
	test_cmp hj.orig hj.jsonl &&
	cmp hj1.model hj2.model &&
	sed -e "\$d" hj.orig >hj.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy halving --journal hj.jsonl \
		--space "$space" -o hj3.model train.tensor &&
	n=$(wc -l <hj.orig) &&
	test_line_count = $((n)) hj.jsonl &&
	"$PYTHON" "$TRASH_DIRECTORY/journal_check.py" hj.jsonl &&
	cmp hj1.model hj3.model
'

# --- random search ----------------------------------------------------------------------

test_expect_success PYTHON3 '--strategy random --trials 2 runs two trials, the same for a seed' '
	space="zscore pca:k=1,2;t2=0,1" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy random --trials 2 --seed 5 \
		--journal rj1.jsonl --space "$space" -o rnd1.model train.tensor &&
	test_line_count = 2 rj1.jsonl &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --strategy random --trials 2 --seed 5 \
		--journal rj2.jsonl --space "$space" -o rnd2.model train.tensor &&
	cmp rnd1.model rnd2.model &&
	aiops-train --info --json rnd1.model >rnd.json &&
	test "$(jget rnd.json search.strategy)" = random &&
	test "$(jget rnd.json search.trials)" = 2
'

test_expect_success PYTHON3,PCA '--strategy random: the sampled trials depend only on the seed' '
	space="pca:k=1,2;t2=0,1 zscore" &&
	for r in 1 2
	do
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j $r --strategy random --trials 2 --seed 5 \
			--journal prj$r.jsonl --space "$space" -o prnd$r.model train.tensor &&
		sed -e "s/.*\"key\":\"\\([^\"]*\\)\".*/\\1/" prj$r.jsonl | sort >keys$r || return 1
	done &&
	test_line_count = 2 keys1 &&
	test_cmp keys1 keys2 &&
	sed -e "s/.*\"index\":\([0-9]*\),.*/\1/" prj1.jsonl | sort >idx &&
	test_write_lines 0 1 >expect &&
	test_cmp expect idx &&
	test "$(sort -u keys1 | wc -l)" -eq 2 &&
	cmp prnd1.model prnd2.model
'

test_expect_success '--trials without --strategy random is a usage error' '
	fails_cleanly 2 t.model --trials 2 --space zscore train.tensor &&
	test_grep "^aiops-train: --trials goes with --strategy random" err &&
	fails_cleanly 2 t.model --strategy grid --trials 2 --space zscore train.tensor &&
	fails_cleanly 2 t.model --strategy random --trials 0 --space zscore train.tensor &&
	test_grep "^aiops-train: --trials: " err &&
	fails_cleanly 2 t.model --strategy sometimes --space zscore train.tensor &&
	test_grep "^aiops-train: --strategy: expected grid, random or halving, got \"sometimes\"\$" err
'

# --- thresholds and metrics against an independent computation -------------------------------

test_expect_success NUMPY 'quantile:0.9 and ksigma:2 against numpy (relative 1e-9)' '
	"$PYTHON" "$TRASH_DIRECTORY/ref.py" thr train.out.csv >ref &&
	read q90 k2 <ref &&
	aiops-train -q --space zscore --threshold quantile:0.9 -o tq.model train.tensor &&
	aiops-train --info --json tq.model >tq.json &&
	test "$(jget tq.json threshold.method)" = quantile:0.9 &&
	rel_approx "$(jget tq.json threshold.value)" "$q90" 1e-9 &&
	aiops-train -q --space zscore --threshold ksigma:2 -o tk.model train.tensor &&
	aiops-train --info --json tk.model >tk.json &&
	test "$(jget tk.json threshold.method)" = ksigma:2 &&
	rel_approx "$(jget tk.json threshold.value)" "$k2" 1e-9
'

test_expect_success 'bad --threshold values: status 2 with the value, and no model' '
	for v in quantile:1 quantile:0 quantile:x quantile0.9 ksigma:0 ksigma: ksigma:-2 pot:2 pot:0.1:1 nosuch ""
	do
		fails_cleanly 2 th.model --space zscore --threshold "$v" train.tensor &&
		echo "aiops-train: --threshold: expected quantile[:q], ksigma[:k], pot[:risk[:level]] or best-f1, got \"$v\"" >expect &&
		test_cmp expect err || return 1
	done
'

test_expect_success 'label-based metrics without any labels: a clear error, and no model' '
	fails_cleanly 2 nl.model --metric best_f1 --space zscore nolab.tensor &&
	test_grep "^aiops-train: --metric best_f1 needs labelled validation data\$" err &&
	fails_cleanly 2 nl.model --metric auc_pr --space zscore nolab.tensor &&
	test_grep "^aiops-train: --metric auc_pr needs labelled validation data\$" err &&
	fails_cleanly 2 nl.model --threshold best-f1 --space zscore train.tensor &&
	test_grep "^aiops-train: --threshold best-f1 needs a labelled --valid tensor\$" err &&
	fails_cleanly 2 nl.model --metric accuracy --space zscore train.tensor &&
	test_grep "^aiops-train: --metric: expected .*, got \"accuracy\"\$" err
'

test_expect_success PYTHON3 'without labels the objective is the label-free error' '
	aiops-train -q --space zscore -o nl.model nolab.tensor &&
	aiops-train --info --json nl.model >nl.json &&
	test "$(jget nl.json search.objective)" = error &&
	aiops-train --info --json m.model >m.json &&
	test "$(jget m.json search.objective)" = best_f1
'

test_expect_success NUMPY 'the label-free objective over rolling folds against numpy' '
	aiops-ingest -O csv nolab.tensor >nolab.out.csv &&
	aiops-train -q --space zscore -o nl.model nolab.tensor &&
	aiops-train --info --json nl.model >nl.json &&
	rel_approx "$(jget nl.json search.best.metric)" "$("$PYTHON" "$TRASH_DIRECTORY/ref.py" error nolab.out.csv 3)" 1e-9 &&
	aiops-train -q --folds 5 --space zscore -o nl5.model nolab.tensor &&
	aiops-train --info --json nl5.model >nl5.json &&
	rel_approx "$(jget nl5.json search.best.metric)" "$("$PYTHON" "$TRASH_DIRECTORY/ref.py" error nolab.out.csv 5)" 1e-9
'

test_expect_success NUMPY '--valid: best.metric is the exact best F1 on the validation scores' '
	"$PYTHON" "$TRASH_DIRECTORY/ref.py" f1 train.out.csv valid.out.csv >ref &&
	read f1 thr ap <ref &&
	aiops-train -q --space zscore --metric best_f1 --valid valid.tensor -o vf.model train.tensor &&
	aiops-train --info --json vf.model >vf.json &&
	test "$(jget vf.json search.objective)" = best_f1 &&
	test_approx "$(jget vf.json search.best.metric)" "$f1" 1e-12 &&
	aiops-train -q --space zscore --valid valid.tensor -o va.model train.tensor &&
	aiops-train --info --json va.model >va.json &&
	test "$(jget va.json search.objective)" = best_f1 &&
	test_approx "$(jget va.json search.best.metric)" "$f1" 1e-12 &&
	aiops-train -q --space zscore --valid valid.tensor --threshold best-f1 -o vt.model train.tensor &&
	aiops-train --info --json vt.model >vt.json &&
	test "$(jget vt.json threshold.method)" = best-f1 &&
	rel_approx "$(jget vt.json threshold.value)" "$thr" 1e-9
'

test_expect_success NUMPY,SKLEARN '--metric auc_pr equals scikit-learn average_precision_score' '
	cat >ap.py <<-\EOF &&
	import sys
	from sklearn.metrics import average_precision_score
	sys.path.insert(0, ".")
	from ref import load, fit, score
	x, y = load("train.out.csv")
	vx, vy = load("valid.out.csv")
	med, mad = fit(x)
	print(repr(float(average_precision_score(vy, score(vx, med, mad)))))
	EOF
	"$PYTHON" ap.py >ap &&
	"$PYTHON" "$TRASH_DIRECTORY/ref.py" f1 train.out.csv valid.out.csv >ref &&
	read f1 thr myap <ref &&
	test_approx "$(cat ap)" "$myap" 1e-12 &&
	aiops-train -q --space zscore --metric auc_pr --valid valid.tensor -o vp.model train.tensor &&
	aiops-train --info --json vp.model >vp.json &&
	test "$(jget vp.json search.objective)" = auc_pr &&
	test_approx "$(jget vp.json search.best.metric)" "$(cat ap)" 1e-12
'

# --- bad input --------------------------------------------------------------------------

test_expect_success 'a URL for the tensor: status 2, the message says aiops-ingest reads URLs' '
	fails_cleanly 2 url.model --space zscore http://127.0.0.1:9/x.tensor &&
	test_grep "^aiops-train: http://127.0.0.1:9/x.tensor: a URL; this command reads files (aiops-ingest reads URLs)\$" err &&
	if command -v readelf >/dev/null
	then
		# the point of it: aiops-train does not load libcurl and all it needs
		readelf -d "$AIOPS_BIN/aiops-train" >dyn &&
		! grep -q "libcurl" dyn
	fi
'

test_expect_success 'an archive member for the tensor: status 2, the message says aiops-ingest reads them' '
	fails_cleanly 2 ar.model --space zscore nosuch.zip:train.tensor &&
	test_grep "^aiops-train: nosuch.zip:train.tensor: no such file, and this command does not read archive members (aiops-ingest does)\$" err &&
	if command -v readelf >/dev/null
	then
		# the point of it: neither aiops-train nor aiops-eval loads libarchive
		readelf -d "$AIOPS_BIN/aiops-train" "$AIOPS_BIN/aiops-eval" >dyn &&
		! grep -q "libarchive" dyn
	fi
'

test_expect_success 'an empty tensor: status 1, the message names it, no model' '
	printf "ts,cpu,mem,lat\n" >empty.csv &&
	aiops-ingest -q -o empty.tensor empty.csv &&
	fails_cleanly 1 e0.model --space zscore empty.tensor &&
	test_grep "^aiops-train: empty.tensor: the tensor has no rows\$" err
'

test_expect_success 'a NaN in the training tensor names row and column and suggests --impute' '
	gen 3 40 | cut -d, -f1-4 | awk -F, -v OFS=, "NR == 8 { \$3 = \"\" } { print }" >nan.csv &&
	aiops-ingest -q -o nan.tensor nan.csv &&
	fails_cleanly 1 nan.model --space zscore nan.tensor &&
	echo "aiops-train: nan.tensor: row 7, column \"mem\": missing value (NaN); fill gaps at ingest or use --impute" >expect &&
	test_cmp expect err &&
	test_expect_code 1 aiops-train -o nan.model --space zscore <nan.tensor 2>err &&
	test_grep "^aiops-train: <stdin>: row 7, column \"mem\": " err &&
	test_path_is_missing nan.model &&
	aiops-train -q --impute --space zscore -o nan.model nan.tensor &&
	aiops-train --info nan.model >info &&
	test_grep "^trained on: *40 rows of nan.tensor" info
'

test_expect_success 'a NaN in the --valid tensor too; --impute fills it' '
	fails_cleanly 1 vn.model --space zscore --valid nan.tensor nan.tensor &&
	test_grep "^aiops-train: nan.tensor: row 7, column \"mem\": " err &&
	gen 5 40 | cut -d, -f1-4 >clean.csv &&
	aiops-ingest -q -o clean.tensor clean.csv &&
	fails_cleanly 1 vn.model --space zscore --valid nan.tensor clean.tensor &&
	echo "aiops-train: nan.tensor: row 7, column \"mem\": missing value (NaN); fill gaps at ingest or use --impute" >expect &&
	test_cmp expect err &&
	aiops-train -q --impute --space zscore --valid nan.tensor -o vn.model clean.tensor &&
	test_path_is_file vn.model
'

test_expect_success NUMPY '--impute fills a gap with the column median' '
	aiops-ingest -O csv nan.tensor >nan.out.csv &&
	"$PYTHON" "$TRASH_DIRECTORY/ref.py" impute nan.out.csv >ref &&
	read q90 k2 <ref &&
	aiops-train -q --impute --space zscore --threshold quantile:0.9 -o nq.model nan.tensor &&
	aiops-train --info --json nq.model >nq.json &&
	rel_approx "$(jget nq.json threshold.value)" "$q90" 1e-9
'

test_expect_success 'an infinite value in the training tensor is refused too' '
	gen 4 40 | cut -d, -f1-4 | awk -F, -v OFS=, "NR == 5 { \$4 = \"-inf\" } { print }" >inf.csv &&
	aiops-ingest -q -o inf.tensor inf.csv &&
	fails_cleanly 1 inf.model --space zscore inf.tensor &&
	test_grep "^aiops-train: inf.tensor: row 4, column \"lat\": infinite value" err
'

test_expect_success 'a --valid tensor with other columns: the message names the column' '
	aiops-ingest -q --labels valid.labels --rename mem=disk -o vren.tensor valid.csv &&
	fails_cleanly 1 vc.model --space zscore --valid vren.tensor train.tensor &&
	echo "aiops-train: vren.tensor: column 2 is \"disk\", the training tensor'\''s is \"mem\"" >expect &&
	test_cmp expect err &&
	aiops-ingest -q --labels valid.labels --drop lat -o vdrop.tensor valid.csv &&
	fails_cleanly 1 vc.model --space zscore --valid vdrop.tensor train.tensor &&
	test_grep "^aiops-train: vdrop.tensor: has 2 columns, the training tensor 3" err
'

test_expect_success 'a bad --space: status 2 with a message, and no model' '
	fails_cleanly 2 sp.model --space "" train.tensor &&
	test_grep "^aiops-train: --space is empty\$" err &&
	fails_cleanly 2 sp.model --space " " train.tensor &&
	test_grep "^aiops-train: --space is empty\$" err &&
	fails_cleanly 2 sp.model --space nosuch train.tensor &&
	test_grep "^aiops-train: --space: unknown model family \"nosuch\" (known: .*zscore" err &&
	fails_cleanly 2 sp.model --space zscore:k=1 train.tensor &&
	test_grep "^aiops-train: --space: zscore has no parameter \"k\"" err &&
	fails_cleanly 2 sp.model --space zscore:k train.tensor &&
	test_grep "^aiops-train: --space: zscore: expected name=values, got \"k\"" err &&
	fails_cleanly 2 sp.model --space pca:k=a train.tensor &&
	test_grep "^aiops-train: --space: " err
'

test_expect_success PCA 'bad --space values of a family with parameters' '
	fails_cleanly 2 sp.model --space pca:k=a train.tensor &&
	test_grep "^aiops-train: --space: pca: k: expected a number, a list a,b,c or a range a..b\\[/step\\], got \"a\"\$" err &&
	fails_cleanly 2 sp.model --space "pca:k=3..1" train.tensor &&
	test_grep "^aiops-train: --space: pca: k: " err &&
	fails_cleanly 2 sp.model --space "pca:k=1,,2" train.tensor &&
	test_grep "^aiops-train: --space: pca: k: " err
'

test_expect_success 'a missing tensor names it: status 1, no model' '
	fails_cleanly 1 mt.model --space zscore nosuch.tensor &&
	test_grep "^aiops-train: nosuch.tensor: " err
'

test_expect_success 'a truncated or corrupted model: --info exits 1 and says so' '
	size=$(wc -c <m.model) &&
	head -c $((size - 1)) m.model >cut.model &&
	test_expect_code 1 aiops-train --info cut.model >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: cut.model: .*truncated" err &&
	head -c 100 m.model >cut.model &&
	test_expect_code 1 aiops-train --info --json cut.model >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: cut.model: .*truncated" err &&
	cp m.model flip.model &&
	b=$(od -A n -t u1 -j 200 -N 1 m.model) &&
	printf "$(printf "\\\\%03o" $((b ^ 1)))" | dd of=flip.model bs=1 seek=200 conv=notrunc 2>/dev/null &&
	! cmp -s m.model flip.model &&
	test_expect_code 1 aiops-train --info flip.model >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: flip.model: .*checksum" err &&
	test_expect_code 1 aiops-train --info train.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-train: train.tensor: not an aiops model" err
'

test_expect_success 'a failed run leaves an existing model as it was' '
	cp m.model keep.model &&
	test_expect_code 1 aiops-train -o keep.model --space zscore nan.tensor 2>err &&
	cmp m.model keep.model &&
	test_expect_code 2 aiops-train -o keep.model --space nosuch train.tensor 2>err &&
	cmp m.model keep.model &&
	test_expect_code 2 aiops-train -o keep.model --metric best_f1 --space zscore nolab.tensor 2>err &&
	cmp m.model keep.model &&
	no_tmp keep.model
'

# --- warm start --------------------------------------------------------------------------

test_expect_success PYTHON3 '--from retrains the same family and records lineage' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train --from m.model -o r1.model valid.tensor 2>err &&
	test_grep "^aiops-train: retrained zscore" err &&
	aiops-train --info --json m.model >m.json &&
	aiops-train --info --json r1.model >r1.json &&
	test "$(jget r1.json family)" = zscore &&
	test "$(jget r1.json params)" = "$(jget m.json params)" &&
	test "$(jget r1.json train.rows)" = 200 &&
	test "$(jget r1.json train.source)" = valid.tensor &&
	"$PYTHON" -c "import json, sys; assert len(json.load(open(sys.argv[1]))[\"lineage\"]) == 1" r1.json &&
	test "$(jget r1.json lineage.0.model)" = m.model &&
	test "$(jget r1.json lineage.0.train.sha256)" = "$(jget m.json train.sha256)" &&
	test "$(jget r1.json lineage.0.provenance.created)" = $EPOCH &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --from r1.model -o r2.model train.tensor &&
	aiops-train --info --json r2.model >r2.json &&
	"$PYTHON" -c "import json, sys; assert len(json.load(open(sys.argv[1]))[\"lineage\"]) == 2" r2.json &&
	test "$(jget r2.json lineage.0.model)" = m.model &&
	test "$(jget r2.json lineage.1.model)" = r1.model &&
	test "$(jget r2.json lineage.1.train.sha256)" = "$(jget r1.json train.sha256)" &&
	aiops-train --info r2.model >info &&
	test_grep "^lineage: *retrained from 2 earlier model" info
'

test_expect_success PYTHON3,PCA '--from keeps the family and parameters of a PCA model' '
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space pca:k=2 -o pca.model train.tensor &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --from pca.model -o pca2.model valid.tensor &&
	aiops-train --info --json pca.model >pca.json &&
	aiops-train --info --json pca2.model >pca2.json &&
	test "$(jget pca2.json family)" = pca &&
	test "$(jget pca2.json params)" = "$(jget pca.json params)"
'

# Each further family, when it exists: it trains with its defaults, the model names
# it, and a seeded family gives the same bytes twice.
for fam in pca mahalanobis iforest kmeans arima holtwinters ridge
do
	test_lazy_prereq "FAM_$fam" "aiops-train -q --space $fam -o m.model \"\$TRASH_DIRECTORY/train.tensor\""
	test_expect_success "PYTHON3,FAM_$fam" "family $fam: trains with its defaults, reproducibly" '
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space "$fam" -o f1.model train.tensor &&
		SOURCE_DATE_EPOCH=$EPOCH aiops-train -q -j 2 --space "$fam" -o f2.model train.tensor &&
		cmp f1.model f2.model &&
		aiops-train --info --json f1.model >f.json &&
		test "$(jget f.json family)" = "$fam" &&
		case $(jget f.json kind) in detector|forecaster) ;; *) false ;; esac &&
		"$PYTHON" -c "import json, math, sys; v = json.load(open(sys.argv[1]))[\"threshold\"][\"value\"]; assert math.isfinite(v), v" f.json &&
		aiops-train --info f1.model >info &&
		test_grep "^trained on: *300 rows of train.tensor" info
	'
done

test_expect_success '--from a bad model: status 1, no model' '
	fails_cleanly 1 fr.model --from cut.model valid.tensor &&
	test_grep "^aiops-train: cut.model: " err &&
	fails_cleanly 1 fr.model --from nosuch.model valid.tensor &&
	test_grep "^aiops-train: nosuch.model: " err
'

test_expect_success 'a trial named twice in a space runs once' '
	aiops-train -q --space "zscore zscore pca:k=1 pca:k=1,2" -o dup.model train.tensor &&
	aiops-train --info dup.model >info &&
	test_grep "^search: *grid, 3 trials," info
'

test_expect_success 'several tensors make one model each in the -o directory' '
	cp train.tensor svc-a.tensor &&
	cp train.tensor svc-b.tensor &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o models svc-a.tensor svc-b.tensor &&
	test_path_is_file models/svc-a.model &&
	test_path_is_file models/svc-b.model &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o one.model svc-a.tensor &&
	aiops-train --info --json models/svc-a.model | grep -v "\"source\"" >a.json &&
	aiops-train --info --json one.model | grep -v "\"source\"" >b.json &&
	test_cmp b.json a.json
'

test_expect_success 'column groups make one model each, on their columns only' '
	aiops-train -q --space zscore --group web=cpu,lat --group db=mem -o groups train.tensor &&
	aiops-train --info groups/web.model >web &&
	test_grep "^columns: *2 (cpu, lat)\$" web &&
	aiops-train --info groups/db.model >db &&
	test_grep "^columns: *1 (mem)\$" db
'

test_expect_success 'several models need a directory; a bad group is named' '
	test_expect_code 2 aiops-train -q --space zscore svc-a.tensor svc-b.tensor >out 2>err &&
	test_grep "several models need -o directory" err &&
	test_expect_code 2 aiops-train -q --space zscore --valid valid.tensor -o d svc-a.tensor svc-b.tensor 2>err &&
	test_grep "valid goes with one training tensor" err &&
	test_must_fail aiops-train -q --space zscore --group x=cpu,nosuch -o g2 train.tensor 2>err &&
	test_grep "no column \"nosuch\"" err &&
	test_path_is_missing g2/x.model
'

test_done
