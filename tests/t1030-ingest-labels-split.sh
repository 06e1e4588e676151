#!/bin/sh
# t1030: aiops-ingest labels (--labels, --label-col), --split and the scalers.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: labels, split and scaling'
. "$(dirname "$0")/lib.sh"

# no_tmp_left: no temporary output (".NAME.*") is left in the current directory.
no_tmp_left () {
	ls -a >dir.list &&
	! grep "^\\..*\\.tensor\\." dir.list &&
	! grep "^\\..*\\.csv\\." dir.list
}

test_expect_success 'setup' '
	cat >smd.txt <<-\EOF &&
	1,2
	3,4
	5,6
	7,8
	9,10
	EOF
	cat >tsd.csv <<-\EOF
	ts,v
	10,1
	11,2
	12,3
	13,4
	14,5
	EOF
'

test_expect_success 'one 0/1 label per row (SMD style)' '
	test_write_lines 0 1 0 0 1 >lab.txt &&
	cat >expect <<-\EOF &&
	c1,c2,label
	1,2,0
	3,4,1
	5,6,0
	7,8,0
	9,10,1
	EOF
	aiops-ingest -O csv --time-col none --labels lab.txt smd.txt >actual &&
	test_cmp expect actual &&
	aiops-ingest -o lab.tensor --labels lab.txt smd.txt &&
	aiops-ingest --info lab.tensor >info &&
	test_grep "\"has_labels\": true" info &&
	aiops-ingest -O csv lab.tensor >actual &&
	test_cmp expect actual
'

test_expect_success 'per-row labels count rows before alignment; a bucket takes the maximum' '
	cat >six.csv <<-\EOF &&
	ts,v
	0,1
	1,2
	2,3
	3,4
	4,5
	5,6
	EOF
	test_write_lines 0 0 1 0 0 0 >l6.txt &&
	cat >expect <<-\EOF &&
	timestamp,v,label
	1970-01-01T00:00:00Z,3,0
	1970-01-01T00:00:02Z,7,1
	1970-01-01T00:00:04Z,11,0
	EOF
	aiops-ingest -O csv --labels l6.txt --step 2s --agg sum six.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'per-row labels follow their rows through --sort' '
	cat >uns.csv <<-\EOF &&
	ts,v
	2,3
	0,1
	1,2
	EOF
	test_write_lines 1 0 0 >l3.txt &&
	cat >expect <<-\EOF &&
	timestamp,v,label
	1970-01-01T00:00:00Z,1,0
	1970-01-01T00:00:01Z,2,0
	1970-01-01T00:00:02Z,3,1
	EOF
	aiops-ingest -O csv --labels l3.txt --sort uns.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'too few labels is an error and leaves no output' '
	test_write_lines 0 1 0 0 >few.txt &&
	test_must_fail aiops-ingest -o few.tensor --labels few.txt smd.txt >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: few.txt: has 4 labels" err &&
	test_line_count = 1 err &&
	test_path_is_missing few.tensor &&
	no_tmp_left
'

test_expect_success 'too many labels is an error and leaves no output' '
	test_write_lines 0 1 0 0 1 1 >many.txt &&
	test_must_fail aiops-ingest -o many.tensor --labels many.txt smd.txt >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: many.txt" err &&
	test_path_is_missing many.tensor &&
	no_tmp_left
'

test_expect_success 'a label that is not 0 or 1 is an error' '
	test_write_lines 0 1 2 0 1 >two.txt &&
	test_must_fail aiops-ingest -o two.tensor --labels two.txt smd.txt 2>err &&
	echo "aiops-ingest: two.txt:3:1: expected 0 or 1, got \"2\"" >expect &&
	test_cmp expect err &&
	test_path_is_missing two.tensor
'

test_expect_success 'a missing or empty labels file is an error' '
	test_must_fail aiops-ingest -o x.tensor --labels nothere.txt smd.txt 2>err &&
	test_grep "^aiops-ingest: nothere.txt: " err &&
	: >empty.txt &&
	test_must_fail aiops-ingest -o x.tensor --labels empty.txt smd.txt 2>err &&
	test_grep "^aiops-ingest: empty.txt" err &&
	test_path_is_missing x.tensor
'

test_expect_success 'row intervals start-end without timestamps: 0-based, end exclusive' '
	echo 1-3 >iv.txt &&
	cat >expect <<-\EOF &&
	c1,c2,label
	1,2,0
	3,4,1
	5,6,1
	7,8,0
	9,10,0
	EOF
	aiops-ingest -O csv --labels iv.txt smd.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'row intervals start,end, several, overlapping, any order' '
	test_write_lines 4,5 1,3 2,3 >iv2.txt &&
	cat >expect <<-\EOF &&
	c1,c2,label
	1,2,0
	3,4,1
	5,6,1
	7,8,0
	9,10,1
	EOF
	aiops-ingest -O csv --labels iv2.txt smd.txt >actual &&
	test_cmp expect actual
'

test_expect_success 'time intervals start,end are inclusive at both ends' '
	echo 11,12 >ivt.txt &&
	cat >expect <<-\EOF &&
	timestamp,v,label
	1970-01-01T00:00:10Z,1,0
	1970-01-01T00:00:11Z,2,1
	1970-01-01T00:00:12Z,3,1
	1970-01-01T00:00:13Z,4,0
	1970-01-01T00:00:14Z,5,0
	EOF
	aiops-ingest -O csv --labels ivt.txt tsd.csv >actual &&
	test_cmp expect actual &&
	echo "1970-01-01T00:00:11Z,1970-01-01 00:00:12" >ivt-iso.txt &&
	aiops-ingest -O csv --labels ivt-iso.txt tsd.csv >actual &&
	test_cmp expect actual &&
	echo "1970-01-01T00:00:11.001Z,1970-01-01T00:00:12Z" >ivt-ms.txt &&
	aiops-ingest -O csv --labels ivt-ms.txt tsd.csv >actual &&
	test_grep "^1970-01-01T00:00:11Z,2,0\$" actual &&
	test_grep "^1970-01-01T00:00:12Z,3,1\$" actual
'

test_expect_success 'time intervals in the start-end form' '
	echo 11-12 >ivt-dash.txt &&
	aiops-ingest -O csv --labels ivt-dash.txt tsd.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'a time interval labels a --step bucket that holds a labelled row' '
	cat >b3.csv <<-\EOF &&
	ts,v
	0,1
	30,2
	60,3
	EOF
	echo 30,40 >ivb.txt &&
	cat >expect <<-\EOF &&
	timestamp,v,label
	1970-01-01T00:00:00Z,1.5,1
	1970-01-01T00:01:00Z,3,0
	EOF
	test_write_lines 0 1 0 >rb.txt &&
	aiops-ingest -O csv --labels rb.txt --step 1m b3.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --labels ivb.txt --step 1m b3.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'a malformed interval is an error' '
	echo "3,1" >back.txt &&
	test_must_fail aiops-ingest -o x.tensor --labels back.txt smd.txt 2>err &&
	test_grep "^aiops-ingest: back.txt:1: " err &&
	echo "a,b" >words.txt &&
	test_must_fail aiops-ingest -o x.tensor --labels words.txt tsd.csv 2>err &&
	test_grep "^aiops-ingest: words.txt:1: " err &&
	test_path_is_missing x.tensor
'

test_expect_success '--label-col by name and by number; the column is not a feature' '
	cat >lc.csv <<-\EOF &&
	ts,v,lab,w
	10,1,0,5
	11,2,1,6
	12,3,,7
	13,4,0,8
	EOF
	cat >expect <<-\EOF &&
	timestamp,v,w,label
	1970-01-01T00:00:10Z,1,5,0
	1970-01-01T00:00:11Z,2,6,1
	1970-01-01T00:00:12Z,3,7,0
	1970-01-01T00:00:13Z,4,8,0
	EOF
	aiops-ingest -O csv --label-col lab lc.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --label-col 3 lc.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--label-col: a value other than 0 or 1 is an error' '
	cat >lcbad.csv <<-\EOF &&
	ts,v,lab
	10,1,0
	11,2,yes
	EOF
	test_must_fail aiops-ingest -o lc.tensor --label-col lab lcbad.csv 2>err &&
	test_grep "^aiops-ingest: lcbad.csv:3:6: " err &&
	test_grep "yes" err &&
	test_path_is_missing lc.tensor &&
	test_must_fail aiops-ingest -o lc.tensor --label-col nope lc.csv 2>err &&
	test_grep "nope" err &&
	test_path_is_missing lc.tensor
'

test_expect_success 'setup ten rows' '
	{
		echo ts,v,lab &&
		for i in 1 2 3 4 5 6 7 8 9 10
		do
			echo "${i}0,$i,$((i % 2))" || return 1
		done
	} >ten.csv &&
	aiops-ingest -O csv --label-col lab ten.csv >ten.expect &&
	test_line_count = 11 ten.expect
'

# rows_of FILE: the row count that --info reports
rows_of () {
	aiops-ingest --info "$1" | sed -n -e "s/^  \"rows\": \([0-9]*\),\$/\1/p"
}

test_expect_success '--split 0.6,0.2 -o p writes train, valid and test parts' '
	aiops-ingest --label-col lab --split 0.6,0.2 -o p ten.csv &&
	test_path_is_file p.train.tensor &&
	test_path_is_file p.valid.tensor &&
	test_path_is_file p.test.tensor &&
	test_path_is_missing p &&
	test "$(rows_of p.train.tensor)" = 6 &&
	test "$(rows_of p.valid.tensor)" = 2 &&
	test "$(rows_of p.test.tensor)" = 2 &&
	no_tmp_left
'

test_expect_success 'the parts are one cut of the rows, in time order, labels kept' '
	aiops-ingest -O csv p.train.tensor p.valid.tensor p.test.tensor >actual &&
	test_cmp ten.expect actual &&
	aiops-ingest -O csv p.valid.tensor >valid &&
	sed -n -e 1p -e 8,9p ten.expect >expect &&
	test_cmp expect valid
'

test_expect_success 'each part names itself in the metadata' '
	for part in train valid test
	do
		aiops-ingest --info p.$part.tensor >info &&
		test_grep "\"split\": \"$part\"" info || return 1
	done
'

test_expect_success 'one cut writes train and test only' '
	aiops-ingest --split 0.7 -o q ten.csv &&
	test "$(rows_of q.train.tensor)" = 7 &&
	test "$(rows_of q.test.tensor)" = 3 &&
	test_path_is_missing q.valid.tensor
'

test_expect_success '--split fractions count rows exactly (0.7,0.1 of 10 is 7, 1, 2)' '
	aiops-ingest --split 0.7,0.1 -o f ten.csv &&
	test "$(rows_of f.train.tensor)" = 7 &&
	test "$(rows_of f.valid.tensor)" = 1 &&
	test "$(rows_of f.test.tensor)" = 2
'

test_expect_success '--split 0.29 of 100 rows puts 29 in train' '
	{ echo v && seq 1 100; } >hundred.csv &&
	aiops-ingest --split 0.29 -o h hundred.csv &&
	test "$(rows_of h.train.tensor)" = 29 &&
	test "$(rows_of h.test.tensor)" = 71
'

test_expect_success '--split by timestamps: train holds the rows before the first cut' '
	aiops-ingest --split 1970-01-01T00:00:40Z,1970-01-01T00:01:20Z -o t ten.csv &&
	test "$(rows_of t.train.tensor)" = 3 &&
	test "$(rows_of t.valid.tensor)" = 4 &&
	test "$(rows_of t.test.tensor)" = 3 &&
	aiops-ingest -O csv t.valid.tensor >valid &&
	sed -n -e 2p valid >second &&
	test_grep "^1970-01-01T00:00:40Z," second &&
	aiops-ingest --split 35,75 -o e ten.csv &&
	test "$(rows_of e.train.tensor)" = 3 &&
	test "$(rows_of e.valid.tensor)" = 4 &&
	test "$(rows_of e.test.tensor)" = 3
'

test_expect_success '--split -O csv names the parts .csv' '
	aiops-ingest -O csv --split 0.5 -o c ten.csv &&
	test_path_is_file c.train.csv &&
	test_path_is_file c.test.csv &&
	test_path_is_missing c.train.tensor &&
	test_line_count = 6 c.train.csv &&
	test_line_count = 6 c.test.csv
'

test_expect_success '--split by time needs timestamps' '
	test_must_fail aiops-ingest --split 2024-01-01 -o n smd.txt 2>err &&
	test_grep "timestamps" err &&
	test_path_is_missing n.train.tensor &&
	test_path_is_missing n.test.tensor
'

# Ten rows: b has a missing value, c is constant (its scale becomes 1); the
# outliers 100 (train) and 1e3 (valid) make the train-only fit differ from a fit on all rows.
test_expect_success 'setup scaling data' '
	cat >sc.csv <<-\EOF &&
	a,b,c
	1.5,10,7
	2.25,,7
	-3,30,7
	4.125,45.5,7
	100,-2,7
	7,3.3,7
	0.1,8,7
	9,1e3,7
	-5,42,7
	11,0.001,7
	EOF
	cat >new.csv <<-\EOF &&
	c,a,b
	7,1,2
	8,,4
	-1,1e6,-0.5
	EOF
	cat >scalecheck.py <<-\EOF
	# scalecheck.py KIND SRC NTRAIN INFO OUT [NEW]: the scaler in INFO (JSON of
	# --info) and the values in OUT (CSV) against numpy, fitted on the first NTRAIN
	# rows of SRC and applied to NEW (default SRC); 1e-12 relative tolerance.
	import json, sys
	import numpy as np
	kind, src, ntrain, info, out = sys.argv[1:6]
	ntrain = int(ntrain)
	new = sys.argv[6] if len(sys.argv) > 6 else src
	def table(path):
	    rows = [l.rstrip("\n").split(",") for l in open(path) if l.strip()]
	    x = [[float(f) if f != "" else np.nan for f in r] for r in rows[1:]]
	    return rows[0], np.array(x, dtype=np.float64)
	def close(got, want):
	    return abs(got - want) <= 1e-12 * abs(want) + 1e-300
	names, x = table(src)
	center, scale = {}, {}
	for j, n in enumerate(names):
	    v = x[:ntrain, j]
	    v = v[~np.isnan(v)]
	    if kind == "zscore":
	        c, s = np.mean(v), np.std(v, ddof=0)
	    elif kind == "robust":
	        c = np.percentile(v, 50)
	        s = np.percentile(v, 75) - np.percentile(v, 25)
	    else:
	        c, s = np.min(v), np.max(v) - np.min(v)
	    center[n], scale[n] = float(c), float(s) if s != 0 else 1.0
	bad = []
	i = json.load(open(info))
	sc = i["meta"]["scaler"]
	if sc["kind"] != kind:
	    bad.append(("kind", sc["kind"]))
	cols = sc.get("columns", i["columns"])
	if len(sc["center"]) != len(cols) or len(sc["scale"]) != len(cols):
	    bad.append(("lengths", sc))
	for k, n in enumerate(cols):
	    if not close(sc["center"][k], center[n]):
	        bad.append(("center", n, sc["center"][k], center[n]))
	    if not close(sc["scale"][k], scale[n]):
	        bad.append(("scale", n, sc["scale"][k], scale[n]))
	onames, y = table(out)
	nnames, z = table(new)
	if y.shape != z.shape or sorted(onames) != sorted(nnames):
	    bad.append(("shape", y.shape, z.shape, onames, nnames))
	else:
	    for j, n in enumerate(onames):
	        want = (z[:, nnames.index(n)] - center[n]) / scale[n]
	        for r, (g, w) in enumerate(zip(y[:, j], want)):
	            if np.isnan(g) != np.isnan(w) or (not np.isnan(w) and not close(g, w)):
	                bad.append(("value", r, n, g, w))
	for b in bad:
	    print(*b)
	sys.exit(1 if bad else 0)
	EOF
'

for kind in zscore robust minmax
do
	test_expect_success NUMPY "--scale $kind is fitted on the train part only" '
		aiops-ingest -q --split 0.6,0.2 --scale '$kind' -o '$kind' sc.csv &&
		aiops-ingest --info '$kind'.train.tensor >'$kind'.info &&
		aiops-ingest -O csv '$kind'.train.tensor '$kind'.valid.tensor '$kind'.test.tensor >'$kind'.out &&
		"$PYTHON" scalecheck.py '$kind' sc.csv 6 '$kind'.info '$kind'.out &&
		for part in valid test
		do
			aiops-ingest --info '$kind'.$part.tensor >part.info &&
			"$PYTHON" scalecheck.py '$kind' sc.csv 6 part.info '$kind'.out || return 1
		done
	'
done

test_expect_success NUMPY '--scale without --split fits on every row' '
	aiops-ingest -q --scale robust -o all.tensor sc.csv &&
	aiops-ingest --info all.tensor >all.info &&
	aiops-ingest -O csv all.tensor >all.out &&
	"$PYTHON" scalecheck.py robust sc.csv 10 all.info all.out &&
	test_must_fail "$PYTHON" scalecheck.py robust sc.csv 6 all.info all.out >/dev/null
'

test_expect_success NUMPY '--scaler-from applies a stored scaler to new data, by column name' '
	aiops-ingest -q --scaler-from zscore.train.tensor -O csv new.csv >from.out &&
	head -n 1 from.out >header &&
	echo c,a,b >expect &&
	test_cmp expect header &&
	"$PYTHON" scalecheck.py zscore sc.csv 6 zscore.info from.out new.csv &&
	aiops-ingest -q --scaler-from robust.train.tensor -o from.tensor new.csv &&
	aiops-ingest -O csv from.tensor >from.out &&
	"$PYTHON" scalecheck.py robust sc.csv 6 robust.info from.out new.csv
'

test_expect_success '--scaler-from takes a model: the scaler of the data it was trained on' '
	aiops-ingest -q --scale zscore --split 0.6 -o md "$TOP/testdata/metrics-demo.csv" &&
	aiops-train -q --space zscore -o md.model md.train.tensor &&
	aiops-ingest -q --scaler-from md.train.tensor -O csv "$TOP/testdata/metrics-demo.csv" >t.out &&
	aiops-ingest -q --scaler-from md.model -O csv "$TOP/testdata/metrics-demo.csv" >m.out &&
	test_cmp t.out m.out &&
	printf "not a model\n" >junk.model &&
	test_expect_code 1 aiops-ingest -q --scaler-from junk.model -O csv new.csv >out 2>err &&
	test_grep "junk.model" err
'

test_expect_success PYTHON3 '--scaler-from reads only the frame and metadata of a model: an unknown family still gives its scaler, a bad checksum does not' '
	cat >refamily.py <<-\EOF &&
	import sys, zlib
	b = bytearray(open(sys.argv[1], "rb").read())
	i = b.find(b"\"zscore\"")
	assert i > 0
	b[i:i + 8] = b"\"zzzzzz\""
	if sys.argv[3] == "fix":
	    b[-4:] = zlib.crc32(bytes(b[:-4])).to_bytes(4, "little")
	open(sys.argv[2], "wb").write(b)
	EOF
	"$PYTHON" refamily.py md.model new.model fix &&
	test_expect_code 1 aiops-eval -q new.model md.test.tensor >/dev/null 2>err &&
	test_grep "unknown model family" err &&
	aiops-ingest -q --scaler-from new.model -O csv "$TOP/testdata/metrics-demo.csv" >n.out &&
	test_cmp t.out n.out &&
	"$PYTHON" refamily.py md.model bad.model keep &&
	test_expect_code 1 aiops-ingest -q --scaler-from bad.model -O csv new.csv >out 2>err &&
	test_grep "bad.model: model checksum mismatch" err
'

test_expect_success NUMPY '--scaler-from in a buffered run (--sort) gives the same values' '
	aiops-ingest -q --sort --scaler-from minmax.train.tensor -O csv new.csv >sorted.out &&
	"$PYTHON" scalecheck.py minmax sc.csv 6 minmax.info sorted.out new.csv
'

test_expect_success NUMPY 'the output of --scaler-from records the scaler it applied' '
	aiops-ingest -q --scaler-from zscore.train.tensor -o rec.tensor new.csv &&
	aiops-ingest --info rec.tensor >rec.info &&
	aiops-ingest -O csv rec.tensor >rec.out &&
	"$PYTHON" scalecheck.py zscore sc.csv 6 rec.info rec.out new.csv
'

test_expect_success '--scaler-from: a column the scaler does not know is an error' '
	aiops-ingest -q --scale zscore -o z.tensor sc.csv &&
	cat >other.csv <<-\EOF &&
	a,x
	1,2
	EOF
	test_must_fail aiops-ingest --scaler-from z.tensor -o o.tensor other.csv >out 2>err &&
	test_must_be_empty out &&
	echo "aiops-ingest: z.tensor: scaler has no column \"x\"" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.tensor &&
	no_tmp_left
'

test_expect_success '--scaler-from a tensor without a scaler, or not a tensor, is an error' '
	aiops-ingest -o plain.tensor sc.csv 2>/dev/null &&
	test_must_fail aiops-ingest --scaler-from plain.tensor -o o.tensor sc.csv 2>err &&
	test_grep "^aiops-ingest: plain.tensor: " err &&
	test_must_fail aiops-ingest --scaler-from sc.csv -o o.tensor sc.csv 2>err &&
	test_grep "^aiops-ingest: sc.csv: " err &&
	test_path_is_missing o.tensor
'

test_expect_success '--scale with --scaler-from is a usage error' '
	test_expect_code 2 aiops-ingest --scale zscore --scaler-from z.tensor -o o.tensor sc.csv 2>err &&
	test_grep "usage: aiops-ingest" err &&
	test_path_is_missing o.tensor
'

test_done
