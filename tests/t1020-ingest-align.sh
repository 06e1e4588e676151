#!/bin/sh
# t1020: aiops-ingest alignment: --step and --agg, gaps and --fill, duplicate and
# out-of-order timestamps, --sort, --skip-bad, and the --long pivot.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: alignment, gaps, order and long input'
. "$(dirname "$0")/lib.sh"

# Five rows over four one-minute buckets; bucket 00:02 has no row, and b is
# missing in two rows. The expected values below are worked out by hand:
#   bucket 00:00  a = 1, 2, 6   b = 10, 30
#   bucket 00:01  a = 4         b = 40
#   bucket 00:02  (no rows)
#   bucket 00:03  a = 8         b = (missing)
test_expect_success 'setup' '
	cat >s.csv <<-\EOF
	timestamp,a,b
	2024-01-01T00:00:00Z,1,10
	2024-01-01T00:00:20Z,2,
	2024-01-01T00:00:40Z,6,30
	2024-01-01T00:01:10Z,4,40
	2024-01-01T00:03:05Z,8,
	EOF
'

test_expect_success '--step 1m --agg mean (also the default with --step)' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,3,20
	2024-01-01T00:01:00Z,4,40
	2024-01-01T00:02:00Z,,
	2024-01-01T00:03:00Z,8,
	EOF
	aiops-ingest -O csv --step 1m --agg mean s.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --step 1m s.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--agg last' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,6,30
	2024-01-01T00:01:00Z,4,40
	2024-01-01T00:02:00Z,,
	2024-01-01T00:03:00Z,8,
	EOF
	aiops-ingest -O csv --step 1m --agg last s.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--agg min' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,1,10
	2024-01-01T00:01:00Z,4,40
	2024-01-01T00:02:00Z,,
	2024-01-01T00:03:00Z,8,
	EOF
	aiops-ingest -O csv --step 1m --agg min s.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--agg max' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,6,30
	2024-01-01T00:01:00Z,4,40
	2024-01-01T00:02:00Z,,
	2024-01-01T00:03:00Z,8,
	EOF
	aiops-ingest -O csv --step 1m --agg max s.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--agg sum' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,9,40
	2024-01-01T00:01:00Z,4,40
	2024-01-01T00:02:00Z,,
	2024-01-01T00:03:00Z,8,
	EOF
	aiops-ingest -q -O csv --step 1m --agg sum s.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--agg count counts non-missing values, 0 in empty buckets' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	2024-01-01T00:00:00Z,3,2
	2024-01-01T00:01:00Z,1,1
	2024-01-01T00:02:00Z,0,0
	2024-01-01T00:03:00Z,1,0
	EOF
	aiops-ingest -O csv --step 1m --agg count s.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'a tensor records step_ms and agg' '
	aiops-ingest -o s.tensor --step 1m --agg max s.csv &&
	aiops-ingest --info s.tensor >info &&
	test_grep "\"step_ms\": 60000" info &&
	test_grep "\"agg\": \"max\"" info &&
	test_grep "\"rows\": 4" info
'

test_expect_success 'durations: ms, s, m, h, d and bare seconds' '
	cat >d.csv <<-\EOF &&
	ts,v
	0,1
	1.2,2
	1.4,3
	EOF
	cat >expect <<-\EOF &&
	timestamp,v
	1970-01-01T00:00:00Z,1
	1970-01-01T00:00:00.500Z,
	1970-01-01T00:00:01Z,2.5
	EOF
	aiops-ingest -O csv --step 500ms d.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,v
	1970-01-01T00:00:00Z,1
	1970-01-01T00:00:01Z,2.5
	EOF
	aiops-ingest -O csv --step 1 d.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --step 1s d.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,v
	1970-01-01T00:00:00Z,2
	EOF
	for s in 2 1m 1h 1d
	do
		aiops-ingest -O csv --step $s d.csv >actual 2>/dev/null &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'buckets start at floor(ts / step) * step, before 1970 too' '
	cat >neg.csv <<-\EOF &&
	ts,v
	-61,1
	-1,2
	0,4
	59,8
	EOF
	cat >expect <<-\EOF &&
	timestamp,v
	1969-12-31T23:58:00Z,1
	1969-12-31T23:59:00Z,2
	1970-01-01T00:00:00Z,12
	EOF
	aiops-ingest -O csv --step 1m --agg sum neg.csv >actual &&
	test_cmp expect actual
'

# Two columns with missing runs of every kind: leading (a row 0), short
# inner (a row 2; b rows 1-2, exactly --max-gap 2), long inner (a rows 4-6;
# b rows 4-7) and trailing (a rows 8-9; b row 9).
test_expect_success 'setup gaps' '
	cat >g.csv <<-\EOF
	ts,a,b
	0,,1
	1,1,
	2,,
	3,4,4
	4,,
	5,,
	6,,
	7,8,
	8,,9
	9,,
	EOF
'

test_expect_success '--fill nan (the default) leaves gaps' '
	aiops-ingest -O csv g.csv >expect &&
	aiops-ingest -O csv --fill nan g.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --fill nan --max-gap 2 g.csv >actual &&
	test_cmp expect actual &&
	test_grep "^1970-01-01T00:00:02Z,,\$" actual
'

test_expect_success '--fill ffill carries values forward; leading gaps stay' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,,1
	1970-01-01T00:00:01Z,1,1
	1970-01-01T00:00:02Z,1,1
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,4,4
	1970-01-01T00:00:05Z,4,4
	1970-01-01T00:00:06Z,4,4
	1970-01-01T00:00:07Z,8,4
	1970-01-01T00:00:08Z,8,9
	1970-01-01T00:00:09Z,8,9
	EOF
	aiops-ingest -O csv --fill ffill g.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--fill ffill --max-gap 2 leaves runs longer than 2' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,,1
	1970-01-01T00:00:01Z,1,1
	1970-01-01T00:00:02Z,1,1
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,,
	1970-01-01T00:00:05Z,,
	1970-01-01T00:00:06Z,,
	1970-01-01T00:00:07Z,8,
	1970-01-01T00:00:08Z,8,9
	1970-01-01T00:00:09Z,8,9
	EOF
	aiops-ingest -O csv --fill ffill --max-gap 2 g.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--fill linear interpolates inner gaps; leading and trailing stay' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,,1
	1970-01-01T00:00:01Z,1,2
	1970-01-01T00:00:02Z,2.5,3
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,5,5
	1970-01-01T00:00:05Z,6,6
	1970-01-01T00:00:06Z,7,7
	1970-01-01T00:00:07Z,8,8
	1970-01-01T00:00:08Z,,9
	1970-01-01T00:00:09Z,,
	EOF
	aiops-ingest -O csv --fill linear g.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--fill linear --max-gap 2' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,,1
	1970-01-01T00:00:01Z,1,2
	1970-01-01T00:00:02Z,2.5,3
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,,
	1970-01-01T00:00:05Z,,
	1970-01-01T00:00:06Z,,
	1970-01-01T00:00:07Z,8,
	1970-01-01T00:00:08Z,,9
	1970-01-01T00:00:09Z,,
	EOF
	aiops-ingest -O csv --fill linear --max-gap 2 g.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --fill linear --max-gap 3 g.csv >actual &&
	test_grep "^1970-01-01T00:00:05Z,6,\$" actual
'

test_expect_success '--fill zero sets every gap to 0, up to --max-gap' '
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,0,1
	1970-01-01T00:00:01Z,1,0
	1970-01-01T00:00:02Z,0,0
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,0,0
	1970-01-01T00:00:05Z,0,0
	1970-01-01T00:00:06Z,0,0
	1970-01-01T00:00:07Z,8,0
	1970-01-01T00:00:08Z,0,9
	1970-01-01T00:00:09Z,0,0
	EOF
	aiops-ingest -O csv --fill zero g.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:00Z,0,1
	1970-01-01T00:00:01Z,1,0
	1970-01-01T00:00:02Z,0,0
	1970-01-01T00:00:03Z,4,4
	1970-01-01T00:00:04Z,,
	1970-01-01T00:00:05Z,,
	1970-01-01T00:00:06Z,,
	1970-01-01T00:00:07Z,8,
	1970-01-01T00:00:08Z,0,9
	1970-01-01T00:00:09Z,0,0
	EOF
	aiops-ingest -O csv --fill zero --max-gap 2 g.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'the fill policy is recorded in the metadata' '
	aiops-ingest -o g.tensor --fill linear g.csv &&
	aiops-ingest --info g.tensor >info &&
	test_grep "\"fill\": \"linear\"" info
'

# 199 empty buckets between 0 s and 200 s: more than any small buffer.
test_expect_success 'a long run of empty buckets is filled exactly' '
	cat >lg.csv <<-\EOF &&
	ts,a,b
	0,0,5
	200,200,7
	EOF
	aiops-ingest -O csv --step 1s --fill linear lg.csv >out &&
	test_line_count = 202 out &&
	awk -F, "NR > 1 && (\$2 != NR - 2 || \$3 - (5 + (NR - 2) / 100) > 1e-12 || (5 + (NR - 2) / 100) - \$3 > 1e-12) { print \"bad: \" \$0; bad = 1 } END { exit bad }" out &&
	aiops-ingest -O csv --step 1s --fill linear --max-gap 199 lg.csv >out &&
	test_grep "^1970-01-01T00:01:40Z,100,6\$" out &&
	aiops-ingest -O csv --step 1s --fill linear --max-gap 198 lg.csv >out &&
	test_grep "^1970-01-01T00:01:40Z,,\$" out &&
	aiops-ingest -O csv --step 1s --fill ffill --max-gap 198 lg.csv >out &&
	test_grep "^1970-01-01T00:03:19Z,,\$" out &&
	aiops-ingest -O csv --step 1s --fill ffill lg.csv >out &&
	test_grep "^1970-01-01T00:03:19Z,0,5\$" out
'

test_expect_success 'duplicate timestamps are merged, by default keeping the last value' '
	cat >dup.csv <<-\EOF &&
	ts,a,b
	10,1,2
	10,3,
	11,5,6
	11,7,8
	EOF
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:10Z,3,2
	1970-01-01T00:00:11Z,7,8
	EOF
	aiops-ingest -O csv dup.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --agg last dup.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:10Z,2,2
	1970-01-01T00:00:11Z,6,7
	EOF
	aiops-ingest -O csv --agg mean dup.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,a,b
	1970-01-01T00:00:10Z,2,1
	1970-01-01T00:00:11Z,2,2
	EOF
	aiops-ingest -q -O csv --agg count dup.csv >actual &&
	test_cmp expect actual
'

test_expect_success 'setup out-of-order input' '
	cat >o.csv <<-\EOF
	ts,a
	10,1
	12,2
	11,3
	13,4
	12,5
	EOF
'

test_expect_success 'a row older than the one before is an error' '
	test_must_fail aiops-ingest -o o.tensor o.csv >out 2>err &&
	test_must_be_empty out &&
	test_path_is_missing o.tensor &&
	test_grep "^aiops-ingest: o.csv:4: timestamp out of order" err
'

test_expect_success 'the out-of-order message names the earlier line' '
	test_must_fail aiops-ingest -O csv o.csv >out 2>err &&
	echo "aiops-ingest: o.csv:4: timestamp out of order (earlier than line 3)" >expect &&
	test_cmp expect err
'

test_expect_success 'out of order on the standard input names <stdin>' '
	test_must_fail aiops-ingest -O csv <o.csv >out 2>err &&
	test_grep "^aiops-ingest: <stdin>:4: timestamp out of order" err
'

test_expect_success 'a row older than the one before is an error within a --step bucket too' '
	cat >ob.csv <<-\EOF &&
	ts,a
	10,1
	5,2
	EOF
	test_must_fail aiops-ingest -O csv --step 1m ob.csv >out 2>err &&
	echo "aiops-ingest: ob.csv:3: timestamp out of order (earlier than line 2)" >expect &&
	test_cmp expect err
'

test_expect_success '--sort sorts stably, so that later duplicates win' '
	cat >expect <<-\EOF &&
	timestamp,a
	1970-01-01T00:00:10Z,1
	1970-01-01T00:00:11Z,3
	1970-01-01T00:00:12Z,5
	1970-01-01T00:00:13Z,4
	EOF
	aiops-ingest -O csv --sort o.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,a
	1970-01-01T00:00:10Z,1
	1970-01-01T00:00:11Z,3
	1970-01-01T00:00:12Z,3.5
	1970-01-01T00:00:13Z,4
	EOF
	aiops-ingest -O csv --sort --agg mean o.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--sort with --step and --fill' '
	cat >expect <<-\EOF &&
	timestamp,a
	1970-01-01T00:00:00Z,8.5
	1970-01-01T00:00:20Z,
	1970-01-01T00:00:40Z,
	1970-01-01T00:01:00Z,1
	EOF
	cat >os.csv <<-\EOF &&
	ts,a
	60,1
	10,8
	5,9
	EOF
	aiops-ingest -O csv --sort --step 20s os.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,a
	1970-01-01T00:00:00Z,8.5
	1970-01-01T00:00:20Z,6
	1970-01-01T00:00:40Z,3.5
	1970-01-01T00:01:00Z,1
	EOF
	aiops-ingest -O csv --sort --step 20s --fill linear os.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--skip-bad skips out-of-order rows and reports how many' '
	cat >expect <<-\EOF &&
	timestamp,a
	1970-01-01T00:00:10Z,1
	1970-01-01T00:00:12Z,2
	1970-01-01T00:00:13Z,4
	EOF
	aiops-ingest -O csv --skip-bad o.csv >actual 2>err &&
	test_cmp expect actual &&
	test_grep "^aiops-ingest: warning: skipped 2 bad rows (first: o.csv:4: timestamp out of order" err &&
	aiops-ingest -q -O csv --skip-bad o.csv >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success '--long pivots timestamp,series,value, one column per series' '
	cat >l.csv <<-\EOF &&
	timestamp,series,value
	2024-01-01T00:00:00Z,cpu,1
	2024-01-01T00:00:00Z,mem,10
	2024-01-01T00:00:01Z,mem,20
	2024-01-01T00:00:02Z,cpu,3
	2024-01-01T00:00:02Z,mem,
	EOF
	cat >expect <<-\EOF &&
	timestamp,cpu,mem
	2024-01-01T00:00:00Z,1,10
	2024-01-01T00:00:01Z,,20
	2024-01-01T00:00:02Z,3,
	EOF
	aiops-ingest -O csv --long l.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long input may come in any order' '
	cat >lr.csv <<-\EOF &&
	timestamp,series,value
	2024-01-01T00:00:02Z,cpu,3
	2024-01-01T00:00:01Z,mem,20
	2024-01-01T00:00:00Z,cpu,1
	2024-01-01T00:00:02Z,mem,
	2024-01-01T00:00:00Z,mem,10
	EOF
	aiops-ingest -O csv --long lr.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -O csv --long - <lr.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long columns come in order of first appearance' '
	cat >lf.csv <<-\EOF &&
	timestamp,series,value
	2024-01-01T00:00:05Z,mem,20
	2024-01-01T00:00:00Z,cpu,1
	EOF
	cat >expect <<-\EOF &&
	timestamp,mem,cpu
	2024-01-01T00:00:00Z,,1
	2024-01-01T00:00:05Z,20,
	EOF
	aiops-ingest -q -O csv --long lf.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long with a label column names series{host=a}' '
	cat >lh.csv <<-\EOF &&
	timestamp,series,host,value
	2024-01-01T00:00:14Z,cpu,b,0.375
	2024-01-01T00:00:12Z,cpu,a,0.5
	2024-01-01T00:01:30Z,cpu,a,0.25
	2024-01-01T00:00:50Z,cpu,a,0.75
	2024-01-01T00:01:05Z,mem,a,7
	EOF
	cat >expect <<-\EOF &&
	timestamp,cpu{host=b},cpu{host=a},mem{host=a}
	2024-01-01T00:00:12Z,,0.5,
	2024-01-01T00:00:14Z,0.375,,
	2024-01-01T00:00:50Z,,0.75,
	2024-01-01T00:01:05Z,,,7
	2024-01-01T00:01:30Z,,0.25,
	EOF
	aiops-ingest -q -O csv --long lh.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long with --step aggregates per series and bucket' '
	cat >expect <<-\EOF &&
	timestamp,cpu{host=b},cpu{host=a},mem{host=a}
	2024-01-01T00:00:00Z,0.375,0.625,
	2024-01-01T00:01:00Z,,0.25,7
	EOF
	aiops-ingest -q -O csv --long --step 1m lh.csv >actual &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	timestamp,cpu{host=b},cpu{host=a},mem{host=a}
	2024-01-01T00:00:00Z,0.375,0.75,
	2024-01-01T00:01:00Z,,0.25,7
	EOF
	aiops-ingest -q -O csv --long --step 1m --agg max lh.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long with two label columns, in header order' '
	cat >l2.csv <<-\EOF &&
	timestamp,series,host,dc,value
	1,cpu,a,x,1
	1,cpu,b,y,2
	2,cpu,a,x,3
	EOF
	cat >expect <<-\EOF &&
	timestamp,"cpu{host=a,dc=x}","cpu{host=b,dc=y}"
	1970-01-01T00:00:01Z,1,2
	1970-01-01T00:00:02Z,3,
	EOF
	aiops-ingest -q -O csv --long l2.csv >actual &&
	test_cmp expect actual &&
	aiops-ingest -q -o l2.tensor --long l2.csv &&
	aiops-ingest --info l2.tensor >info &&
	test_grep "\"cpu{host=a,dc=x}\"" info
'

test_expect_success '--long duplicates keep the last line' '
	cat >ld.csv <<-\EOF &&
	timestamp,series,value
	5,cpu,1
	5,cpu,2
	EOF
	cat >expect <<-\EOF &&
	timestamp,cpu
	1970-01-01T00:00:05Z,2
	EOF
	aiops-ingest -q -O csv --long ld.csv >actual &&
	test_cmp expect actual
'

test_expect_success '--long: a bad value names file:line:col and the field' '
	cat >lb.csv <<-\EOF &&
	timestamp,series,value
	5,cpu,1
	6,cpu,x
	EOF
	test_must_fail aiops-ingest -o lb.tensor --long lb.csv 2>err &&
	echo "aiops-ingest: lb.csv:3:7: field \"value\": expected a number, got \"x\"" >expect &&
	test_cmp expect err &&
	test_path_is_missing lb.tensor
'

test_done
