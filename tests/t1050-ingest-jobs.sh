#!/bin/sh
# t1050: aiops-ingest -j 2 (wide CSV lines parsed on a second thread, in batches of
# up to 4096 lines) gives what -j 1 gives: the same bytes, the same messages and
# exit statuses, the same skipped-row counts, wherever in the input a line is odd.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: -j 2 equals -j 1'
. "$(dirname "$0")/lib.sh"

# same_runs OUT ARG...: aiops-ingest -j 1 and -j 2 with ARG..., output to OUT.1 and
# OUT.2: the same exit status, the same standard error, the same output bytes
# (or, when they fail, no output and no temporary file).
same_runs () {
	sr_out=$1
	shift
	rm -f "$sr_out".1 "$sr_out".2
	aiops-ingest -j 1 -o "$sr_out".1 "$@" 2>err.1
	sr_s1=$?
	aiops-ingest -j 2 -o "$sr_out".2 "$@" 2>err.2
	sr_s2=$?
	echo "# status $sr_s1 and $sr_s2" >&2
	test "$sr_s1" = "$sr_s2" &&
	test_cmp err.1 err.2 &&
	if test "$sr_s1" = 0
	then
		cmp "$sr_out".1 "$sr_out".2
	else
		test_path_is_missing "$sr_out".2 &&
		no_tmp "$sr_out".2
	fi
}

# edit LINE TEXT <in >out: line LINE replaced by TEXT (TEXT may hold \n and \r).
edit () {
	awk -v n="$1" -v t="$2" 'NR == n { printf "%s\n", t; next } { print }'
}

test_expect_success 'setup: 20000 rows of 8 columns with timestamps, about 5 batches' '
	gencsv -H -t -s 5 20000 8 >big.csv &&
	test_line_count = 20001 big.csv
'

test_expect_success 'a plain file: the same tensor, CSV and npy bytes' '
	same_runs t.tensor big.csv &&
	same_runs t.csv -O csv big.csv &&
	test_line_count = 20001 t.csv.2 &&
	same_runs t.npy -O npy big.csv
'

test_expect_success 'standard input, gzip, and two files in a row' '
	aiops-ingest -j 1 -o one.tensor - <big.csv &&
	aiops-ingest -j 2 -o two.tensor - <big.csv &&
	cmp one.tensor two.tensor &&
	gzip -c big.csv >big.csv.gz &&
	same_runs gz.csv -O csv big.csv.gz &&
	test_cmp t.csv.1 gz.csv.2 &&
	head -n 1 big.csv >late.csv &&
	tail -n 5000 big.csv | sed "s/^2024/2025/" >>late.csv &&
	same_runs parts.tensor big.csv late.csv
'

test_expect_success 'a bad number in a later batch: the same FILE:LINE:COL message, status 1' '
	edit 15000 "$(sed -n 15000p big.csv | sed "s/,[^,]*/,n\/a/2")" <big.csv >bad.csv &&
	test_must_fail aiops-ingest -j 2 -o bad.tensor bad.csv 2>err &&
	grep "bad.csv:15000:" err &&
	same_runs bad.tensor bad.csv
'

test_expect_success '--skip-bad: bad rows in several batches, the same count and first message' '
	edit 3 "1,2" <big.csv | edit 9000 "x,1,2,3,4,5,6,7,8" |
		edit 19999 "$(sed -n 19999p big.csv),9" >skip.csv &&
	same_runs skip.tensor --skip-bad skip.csv &&
	grep "skipped 3 " err.2
'

test_expect_success 'quoted records, one over two lines, blank and CRLF lines between the batches' '
	line=$(sed -n 6000p big.csv) &&
	edit 6000 "\"${line%%,*}\",${line#*,}" <big.csv |
		edit 7000 "" | edit 11000 "$(sed -n 11000p big.csv)$(printf "\r")" >odd.csv &&
	same_runs odd.tensor odd.csv &&
	aiops-ingest -j 1 -O csv odd.csv >odd.out &&
	test_line_count = 20000 odd.out &&
	line=$(sed -n 12000p big.csv) &&
	edit 12000 "${line%,*},\"1
2\"" <odd.csv >multi.csv &&
	same_runs multi.tensor multi.csv &&
	grep "multi.csv:12000:" err.2 &&
	same_runs multi.tensor --skip-bad multi.csv &&
	grep "skipped 1 " err.2
'

test_expect_success 'a timestamp out of order and a label column of 0 and 1' '
	edit 17000 "$(sed -n 16000p big.csv)" <big.csv >order.csv &&
	same_runs order.tensor order.csv &&
	grep "order.csv:17000: timestamp out of order" err.2 &&
	awk -F, -v OFS=, "NR == 1 { \$0 = \$0 \",label\" } NR > 1 { \$0 = \$0 \",\" (NR % 7 == 0) }
		{ print }" big.csv >lab.csv &&
	same_runs lab.tensor --label-col label lab.csv &&
	aiops-ingest --info lab.tensor.2 >info &&
	grep "\"has_labels\": true" info
'

test_expect_success 'a gzip file cut short: the rows before it, then the same error' '
	head -c 150000 big.csv.gz >cut.csv.gz &&
	same_runs cut.tensor cut.csv.gz &&
	test -s err.2
'

test_expect_success 'lines longer than a batch (5 MB: 600000 columns), one line a batch' '
	gencsv -H -s 9 6 600000 >long.csv &&
	same_runs long.tensor long.csv &&
	aiops-ingest --info long.tensor.2 >info &&
	grep "\"rows\": 6," info
'

test_expect_success '-j: a whole number from 1 to 64, else status 2' '
	test_expect_code 2 aiops-ingest -j 0 big.csv 2>err &&
	grep "^aiops-ingest: -j" err &&
	test_expect_code 2 aiops-ingest -j two big.csv 2>err &&
	grep "^aiops-ingest: -j" err &&
	aiops-ingest -j 64 -o j64.tensor big.csv &&
	cmp j64.tensor t.tensor.1
'

test_expect_success '-u (a row out at once) reads one line at a time, whatever -j says' '
	aiops-ingest -j 2 -u -O csv big.csv >u.csv &&
	aiops-ingest -j 1 -O csv big.csv >one.csv &&
	test_cmp one.csv u.csv
'

test_done
