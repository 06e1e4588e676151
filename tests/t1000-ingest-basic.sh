#!/bin/sh
# t1000: aiops-ingest on wide CSV: values, headers, timestamps, columns, outputs, usage.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: wide CSV in, tensor, CSV and npy out'
. "$(dirname "$0")/lib.sh"

# Values in the expected CSV follow aiops-ingest(1): the shortest of %.15g,
# %.16g and %.17g that reads back to the same double; NaN is an empty field.
test_expect_success 'wide CSV -> tensor -> CSV keeps every value exactly' '
	cat >in.csv <<-\EOF &&
	timestamp,a,b,c
	2024-01-01T00:00:00Z,0.1,-2.5,1e-300
	2024-01-01T00:00:01Z,0.30000000000000004,,-1.5E+10
	2024-01-01T00:00:02Z,nan,3,123456789012345678
	2024-01-01T00:00:03Z,1.7976931348623157e308,-0,0.3333333333333333
	2024-01-01T00:00:04Z,5e-324,2.5e-3,-9007199254740993
	2024-01-01T00:00:05Z,+7,.5,NaN
	EOF
	cat >expect <<-\EOF &&
	timestamp,a,b,c
	2024-01-01T00:00:00Z,0.1,-2.5,1e-300
	2024-01-01T00:00:01Z,0.30000000000000004,,-15000000000
	2024-01-01T00:00:02Z,,3,1.2345678901234568e+17
	2024-01-01T00:00:03Z,1.7976931348623157e+308,-0,0.3333333333333333
	2024-01-01T00:00:04Z,4.94065645841247e-324,0.0025,-9007199254740992
	2024-01-01T00:00:05Z,7,0.5,
	EOF
	aiops-ingest -o in.tensor in.csv &&
	aiops-ingest -O csv in.tensor >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv in.csv >direct &&
	test_cmp expect direct
'

test_expect_success 'a CSV written by the tool converts back to the same tensor' '
	aiops-ingest -O csv in.tensor >again.csv &&
	aiops-ingest -o again.tensor again.csv &&
	aiops-ingest -O csv again.tensor >actual &&
	test_cmp expect actual
'

test_expect_success PYTHON3 'random doubles (any bit pattern) survive CSV -> tensor -> CSV bit for bit' '
	cat >gen.py <<-\EOF &&
	import math, random, struct
	random.seed(1000)
	with open("rnd.csv", "w") as f:
	    f.write("a,b,c,d\n")
	    for i in range(300):
	        row = []
	        for j in range(4):
	            while True:
	                v = struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0]
	                if math.isfinite(v):
	                    break
	            # repr for some, 20 significant digits (more than needed) for others
	            row.append(repr(v) if (i + j) % 2 else "%.20e" % v)
	        f.write(",".join(row) + "\n")
	EOF
	cat >cmp.py <<-\EOF &&
	import struct, sys
	def rows(p):
	    return [l.rstrip("\n").split(",") for l in open(p)][1:]
	a, b = rows(sys.argv[1]), rows(sys.argv[2])
	assert len(a) == len(b) == 300, (len(a), len(b))
	bad = 0
	for x, y in zip(a, b):
	    for u, v in zip(x, y):
	        if struct.pack("<d", float(u)) != struct.pack("<d", float(v)):
	            print("differs:", u, v)
	            bad += 1
	        digits = v.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
	        if len(digits) > 17:
	            print("more than 17 digits:", v)
	            bad += 1
	sys.exit(1 if bad else 0)
	EOF
	"$PYTHON" gen.py &&
	aiops-ingest -o rnd.tensor rnd.csv &&
	aiops-ingest -O csv rnd.tensor >rnd.out &&
	"$PYTHON" cmp.py rnd.csv rnd.out
'

test_expect_success 'a headerless numeric table has columns c1..cN and no timestamps' '
	cat >plain.csv <<-\EOF &&
	1,2,3
	4.5,,6
	EOF
	cat >expect <<-\EOF &&
	c1,c2,c3
	1,2,3
	4.5,,6
	EOF
	aiops-ingest -O csv plain.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -o plain.tensor plain.csv &&
	aiops-ingest --info plain.tensor >info &&
	test_grep "\"has_timestamps\": false" info
'

test_expect_success 'epoch numbers in the first column of a headerless table are values' '
	cat >epochs.csv <<-\EOF &&
	1700000000,2
	1700000001,3
	EOF
	cat >expect <<-\EOF &&
	c1,c2
	1700000000,2
	1700000001,3
	EOF
	aiops-ingest -O csv epochs.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'a headerless table whose first value is a date-time has timestamps' '
	cat >hdt.csv <<-\EOF &&
	2024-01-01T00:00:00Z,1,2
	2024-01-01T00:00:01Z,3,4
	EOF
	cat >expect <<-\EOF &&
	timestamp,c1,c2
	2024-01-01T00:00:00Z,1,2
	2024-01-01T00:00:01Z,3,4
	EOF
	aiops-ingest -O csv hdt.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--header takes a numeric first line as names' '
	cat >numhdr.csv <<-\EOF &&
	10,20
	1,2
	EOF
	cat >expect <<-\EOF &&
	10,20
	1,2
	EOF
	aiops-ingest -q --header -O csv numhdr.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'the time column is found by name, in any case and any place' '
	cat >byname.csv <<-\EOF &&
	host,value,TimeStamp
	1,0.5,1700000000
	2,0.25,1700000060
	EOF
	cat >expect <<-\EOF &&
	timestamp,host,value
	2023-11-14T22:13:20Z,1,0.5
	2023-11-14T22:14:20Z,2,0.25
	EOF
	aiops-ingest -O csv byname.csv >actual &&
	test_cmp expect actual &&
	for n in time ts date DateTime
	do
		sed -e "1s/TimeStamp/$n/" byname.csv >n.csv &&
		aiops-ingest -O csv n.csv >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'the time column is found by its first value when no name matches' '
	cat >byvalue.csv <<-\EOF &&
	when,x
	2024-03-01T10:00:00Z,1
	2024-03-01T10:00:30Z,2
	EOF
	cat >expect <<-\EOF &&
	timestamp,x
	2024-03-01T10:00:00Z,1
	2024-03-01T10:00:30Z,2
	EOF
	aiops-ingest -O csv byvalue.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'a first column that is neither named nor shaped like a time is a value' '
	cat >noid.csv <<-\EOF &&
	id,x
	1700000000,1
	1700000001,2
	EOF
	cat >expect <<-\EOF &&
	id,x
	1700000000,1
	1700000001,2
	EOF
	aiops-ingest -O csv noid.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--time-col by name and by number, and none' '
	cat >tc.csv <<-\EOF &&
	a,when,b
	1,1700000000,2
	3,1700000001,4
	EOF
	cat >expect <<-\EOF &&
	timestamp,a,b
	2023-11-14T22:13:20Z,1,2
	2023-11-14T22:13:21Z,3,4
	EOF
	aiops-ingest -O csv --time-col when tc.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --time-col 2 tc.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	a,b
	1,2
	3,4
	EOF
	aiops-ingest -O csv --time-col none --drop when tc.csv >actual &&
	test_cmp expect actual
'

# 1e11 is the documented boundary: below it seconds, from it milliseconds.
test_expect_success 'epoch seconds and milliseconds are told apart by size' '
	cat >epoch.csv <<-\EOF &&
	ts,v
	-1,1
	0,2
	1700000000.25,3
	99999999999,4
	100000000000,5
	1700000000500,6
	EOF
	cat >expect <<-\EOF &&
	timestamp,v
	1969-12-31T23:59:59Z,1
	1970-01-01T00:00:00Z,2
	2023-11-14T22:13:20.250Z,3
	5138-11-16T09:46:39Z,4
	1973-03-03T09:46:40Z,5
	2023-11-14T22:13:20.500Z,6
	EOF
	aiops-ingest -O csv --sort epoch.csv >sorted &&
	sed -e 1d expect | sort >expect.rows &&
	sed -e 1d sorted >actual.rows &&
	test_cmp expect.rows actual.rows
'

test_expect_success '--time-unit forces seconds or milliseconds' '
	cat >unit.csv <<-\EOF &&
	ts,v
	1700000000,1
	1700000001,2
	EOF
	cat >expect <<-\EOF &&
	timestamp,v
	1970-01-20T16:13:20Z,1
	1970-01-20T16:13:20.001Z,2
	EOF
	aiops-ingest -O csv --time-unit ms unit.csv >actual &&
	test_cmp expect actual &&
	cat >big.csv <<-\EOF &&
	ts,v
	100000000000,1
	EOF
	cat >expect <<-\EOF &&
	timestamp,v
	5138-11-16T09:46:40Z,1
	EOF
	aiops-ingest -q -O csv --time-unit s big.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'ISO 8601 with Z, with +hh:mm and -hh:mm offsets, with a space, and dates' '
	cat >iso.csv <<-\EOF &&
	time,x
	2024-03-01T10:00:00+02:00,1
	2024-03-01 08:00:01,2
	2024-03-01T08:00:02.250Z,3
	2024-03-01T07:30:03-01:00,4
	2024-03-01T08:30:04Z,5
	2024-03-02,6
	EOF
	cat >expect <<-\EOF &&
	timestamp,x
	2024-03-01T08:00:00Z,1
	2024-03-01T08:00:01Z,2
	2024-03-01T08:00:02.250Z,3
	2024-03-01T08:30:03Z,4
	2024-03-01T08:30:04Z,5
	2024-03-02T00:00:00Z,6
	EOF
	aiops-ingest -O csv iso.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'timestamps are stored as milliseconds since the epoch' '
	aiops-ingest -o iso.tensor iso.csv &&
	aiops-ingest -O csv iso.tensor >actual &&
	test_cmp expect actual &&
	# "ROWS", 6 rows, then 2024-03-01T08:00:00Z = 1709280000000 ms as i64 LE
	od -A n -t x1 -v iso.tensor | tr -d " \n" >hex &&
	test_grep "524f57530600000000f806f98d010000" hex
'

test_expect_success 'CSV quoting, CRLF line ends and a byte order mark are read' '
	printf "\357\273\277time,\"x,y\",\"q\"\"t\"\r\n1,\"2\",3\r\n2,4,\"5\"\r\n" >quoted.csv &&
	cat >expect <<-\EOF &&
	timestamp,"x,y","q""t"
	1970-01-01T00:00:01Z,2,3
	1970-01-01T00:00:02Z,4,5
	EOF
	aiops-ingest -O csv quoted.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'setup a table for the column options' '
	cat >cols.csv <<-\EOF
	time,a,b,c,d
	1,1,2,3,4
	2,5,6,7,8
	EOF
'

test_expect_success '--select keeps columns in the given order, by name and by number' '
	cat >expect <<-\EOF &&
	timestamp,c,b,a
	1970-01-01T00:00:01Z,3,2,1
	1970-01-01T00:00:02Z,7,6,5
	EOF
	aiops-ingest -O csv --select c,2,a cols.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --select 3,b,1 cols.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--drop removes columns by name and by number' '
	cat >expect <<-\EOF &&
	timestamp,a,c
	1970-01-01T00:00:01Z,1,3
	1970-01-01T00:00:02Z,5,7
	EOF
	aiops-ingest -O csv --drop 2,d cols.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--rename renames, after --select' '
	cat >expect <<-\EOF &&
	timestamp,x,b,y,d
	1970-01-01T00:00:01Z,1,2,3,4
	1970-01-01T00:00:02Z,5,6,7,8
	EOF
	aiops-ingest -O csv --rename a=x,c=y cols.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,z,a
	1970-01-01T00:00:01Z,3,1
	1970-01-01T00:00:02Z,7,5
	EOF
	aiops-ingest -O csv --select c,a --rename c=z cols.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -o renamed.tensor --select c,a --rename c=z cols.csv &&
	aiops-ingest -O csv renamed.tensor >actual &&
	test_cmp expect actual
'

test_expect_success 'the column options apply to a tensor input too' '
	aiops-ingest -o cols.tensor cols.csv &&
	cat >expect <<-\EOF &&
	timestamp,dd,b
	1970-01-01T00:00:01Z,4,2
	1970-01-01T00:00:02Z,8,6
	EOF
	aiops-ingest -O csv --select d,b --rename d=dd cols.tensor >actual &&
	test_cmp expect actual
'

test_expect_success 'an unknown column in --select, --drop or --rename is an error' '
	test_must_fail aiops-ingest -O csv --select a,nope cols.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "nope" err &&
	test_must_fail aiops-ingest -O csv --drop 9 cols.csv >out 2>err &&
	test_grep "\"9\"" err &&
	test_must_fail aiops-ingest -O csv --rename zz=y cols.csv >out 2>err &&
	test_grep "zz" err
'

test_expect_success 'a constant column is reported on stderr, and -q silences it' '
	cat >const.csv <<-\EOF &&
	ts,a,b,c
	1,1,5,
	2,2,5,
	3,3,,
	EOF
	aiops-ingest -O csv const.csv >out 2>err &&
	echo "aiops-ingest: warning: 2 constant columns: b, c" >expect &&
	test_cmp expect err &&
	aiops-ingest -q -O csv const.csv >out 2>err &&
	test_must_be_empty err &&
	aiops-ingest -O csv --select a const.csv >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'a buffered run lists the constant columns in the metadata' '
	aiops-ingest -q --sort -o const.tensor const.csv &&
	aiops-ingest --info const.tensor >info &&
	tr -d " \n" <info >info.flat &&
	test_grep "\"constant\":\\[\"b\",\"c\"\\]" info.flat
'

test_expect_success NUMPY '-O npy writes an array that numpy reads back with the same values' '
	cat >npycheck.py <<-\EOF &&
	import sys, numpy as np
	a = np.load(sys.argv[1])
	want = np.array([[0.1, -2.5, 1e-300],
	                 [0.30000000000000004, np.nan, -1.5e10],
	                 [np.nan, 3.0, 123456789012345678.0],
	                 [1.7976931348623157e308, -0.0, 0.3333333333333333],
	                 [5e-324, 2.5e-3, -9007199254740993.0],
	                 [7.0, 0.5, np.nan]], dtype=sys.argv[2])
	assert a.dtype == np.dtype(sys.argv[2]), a.dtype
	assert a.shape == want.shape, a.shape
	assert a.tobytes() == want.tobytes(), (a, want)
	EOF
	aiops-ingest -O npy in.csv >stdout.npy &&
	"$PYTHON" npycheck.py stdout.npy "<f8" &&
	aiops-ingest -o file.npy in.tensor &&
	"$PYTHON" npycheck.py file.npy "<f8" &&
	aiops-ingest -O npy -o other.out in.csv &&
	"$PYTHON" npycheck.py other.out "<f8"
'

test_expect_success NUMPY '--dtype f32 rounds to float32 in npy, tensor and CSV' '
	aiops-ingest -q --dtype f32 -o f32.npy in.csv &&
	"$PYTHON" npycheck.py f32.npy "<f4" &&
	aiops-ingest -q --dtype f32 -O npy in.csv >f32stdout.npy &&
	"$PYTHON" npycheck.py f32stdout.npy "<f4" &&
	aiops-ingest -q --dtype f32 -o f32.tensor in.csv &&
	aiops-ingest --info f32.tensor >info &&
	test_grep "\"dtype\": \"float32\"" info &&
	aiops-ingest -O npy --dtype f32 f32.tensor >back.npy &&
	"$PYTHON" npycheck.py back.npy "<f4"
'

test_expect_success '--dtype f32 tensor holds float32 values' '
	cat >f.csv <<-\EOF &&
	a,b
	0.1,16777217
	0.5,-3e-46
	EOF
	# float32(0.1) = 0.100000001490116119384765625; 2^24+1 rounds to 2^24;
	# 3e-46 underflows to -0
	cat >expect <<-\EOF &&
	a,b
	0.10000000149011612,16777216
	0.5,-0
	EOF
	aiops-ingest --dtype f32 -o f.tensor f.csv &&
	aiops-ingest -O csv f.tensor >actual &&
	test_cmp expect actual
'

test_expect_success PYTHON3 '--info prints the header as JSON' '
	cat >infocheck.py <<-\EOF &&
	import json, sys
	i = json.load(open(sys.argv[1]))
	assert i["columns"] == ["a", "b", "c"], i
	assert i["dtype"] == "float64", i
	assert i["rows"] == 6, i
	assert i["has_timestamps"] is True, i
	assert i["has_labels"] is False, i
	m = i["meta"]
	assert isinstance(m, dict), i
	assert m["source"] == ["in.csv"], m
	assert m["tool"].startswith("aiops-ingest "), m
	EOF
	aiops-ingest --info in.tensor >info.json &&
	"$PYTHON" infocheck.py info.json &&
	aiops-ingest --info - <in.tensor >info2.json &&
	test_cmp info.json info2.json
'

test_expect_success '--info of a CSV file is an error' '
	test_must_fail aiops-ingest --info in.csv >out 2>err &&
	test_must_be_empty out &&
	echo "aiops-ingest: in.csv: not an aiops tensor (bad magic)" >expect &&
	test_cmp expect err
'

test_expect_success 'no operand and - read the standard input, named <stdin>' '
	aiops-ingest -O csv in.csv >expect.stdin &&
	aiops-ingest -O csv <in.csv >actual &&
	test_cmp expect.stdin actual &&
	aiops-ingest -O csv - <in.csv >actual &&
	test_cmp expect.stdin actual &&
	printf "a,b\n1,x\n" >bad.csv &&
	test_must_fail aiops-ingest -O csv - <bad.csv 2>err &&
	echo "aiops-ingest: <stdin>:2:3: field \"b\": expected a number, got \"x\"" >expect &&
	test_cmp expect err
'

test_expect_success 'a tensor on the standard input is recognised by its magic' '
	aiops-ingest -O csv - <in.tensor >actual &&
	test_cmp expect.stdin actual
'

test_expect_success 'several inputs are concatenated, - among them' '
	cat >p1.csv <<-\EOF &&
	ts,v,w
	1,1,10
	2,2,20
	EOF
	cat >p2.csv <<-\EOF &&
	ts,v,w
	3,3,30
	EOF
	cat >p3.csv <<-\EOF &&
	ts,v,w
	4,4,40
	5,5,50
	EOF
	cat >expect <<-\EOF &&
	timestamp,v,w
	1970-01-01T00:00:01Z,1,10
	1970-01-01T00:00:02Z,2,20
	1970-01-01T00:00:03Z,3,30
	1970-01-01T00:00:04Z,4,40
	1970-01-01T00:00:05Z,5,50
	EOF
	aiops-ingest -O csv p1.csv - p3.csv <p2.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -o p12.tensor p1.csv p2.csv &&
	aiops-ingest -o p3.tensor p3.csv &&
	aiops-ingest -O csv p12.tensor p3.tensor >actual &&
	test_cmp expect actual
'

test_expect_success 'inputs with different columns cannot be concatenated' '
	cat >other.csv <<-\EOF &&
	ts,v,x
	9,9,9
	EOF
	test_must_fail aiops-ingest -O csv p1.csv other.csv >out 2>err &&
	test_grep "^aiops-ingest: other.csv:1:" err &&
	test_must_fail aiops-ingest -o mixed.tensor p12.tensor p1.csv 2>err &&
	test_path_is_missing mixed.tensor
'

test_expect_success '-h prints the usage on stdout and exits 0' '
	aiops-ingest -h >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >first &&
	test_grep "^usage: aiops-ingest \\[-hqu\\]" first &&
	test_grep "\\[--time-unit unit\\]" out &&
	test_grep "aiops-ingest --prom query --start time --end time --step duration" out
'

test_expect_success MANDOC '-h output equals the SYNOPSIS of aiops-ingest(1)' '
	test_usage_is_synopsis aiops-ingest "^aiops-ingest \\[-hqu\\]"
'

test_done
