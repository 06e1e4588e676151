#!/bin/sh
# t1060: wide CSV fields parsed eight at a time (AVX-512) or four at a time (AVX2,
# lib/fields.c) give what fields parsed one by one give (AIOPS_SIMD=none): the same
# bytes, messages, exit statuses and skipped-row counts, for every shape of field,
# with the output columns in input order (the direct path) or not (--select, --drop,
# a label column). A level the processor lacks falls back to the one below, so on
# a processor without them the runs compare the one-by-one path with itself; the
# unit test test-parse says which levels it exercised.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: eight or four fields at a time equals one by one'
. "$(dirname "$0")/lib.sh"

# same_simd OUT ARG...: aiops-ingest ARG... at the best level, at AIOPS_SIMD=avx2 and
# at AIOPS_SIMD=none, output to OUT.v, OUT.2 and OUT.s: the same exit status,
# standard error and output bytes.
same_simd () {
	ss_out=$1
	shift
	rm -f "$ss_out".v "$ss_out".2 "$ss_out".s
	aiops-ingest -o "$ss_out".v "$@" 2>err.v
	ss_v=$?
	AIOPS_SIMD=avx2 aiops-ingest -o "$ss_out".2 "$@" 2>err.2
	ss_2=$?
	AIOPS_SIMD=none aiops-ingest -o "$ss_out".s "$@" 2>err.s
	ss_s=$?
	echo "# status $ss_v, $ss_2 and $ss_s" >&2
	test "$ss_v" = "$ss_s" &&
	test "$ss_2" = "$ss_s" &&
	test_cmp err.s err.v &&
	test_cmp err.s err.2 &&
	if test "$ss_v" = 0
	then
		cmp "$ss_out".s "$ss_out".v &&
		cmp "$ss_out".s "$ss_out".2
	else
		test_path_is_missing "$ss_out".v &&
		test_path_is_missing "$ss_out".2
	fi
}

# fields N ROWS SEED: a header and ROWS rows of a timestamp and N fields of every
# shape: 1 to 20 characters, signs, points first and last, exponents, nan, empty,
# 17-digit integers, one in 500 a bad number.
fields () {
	awk -v n="$1" -v rows="$2" -v seed="$3" 'BEGIN {
		srand(seed)
		printf "ts"
		for (j = 1; j <= n; j++)
			printf ",m%d", j
		printf "\n"
		for (i = 0; i < rows; i++) {
			printf "%d", 1700000000 + i
			for (j = 1; j <= n; j++) {
				r = int(rand() * 16)
				d = int(rand() * 12)
				s = ""
				for (k = 0; k < d; k++)
					s = s int(rand() * 10)
				if (r == 0) v = ""
				else if (r == 1) v = "-" s "." int(rand() * 100)
				else if (r == 2) v = "+." s "5"
				else if (r == 3) v = s "5."
				else if (r == 4) v = "1" s "e-3"
				else if (r == 5) v = "nan"
				else if (r == 6) v = "12345678901234567"
				else if (r == 7 && rand() < 0.02) v = "1.2.3"
				else if (r == 8) v = "-0"
				else v = sprintf("%.*f", int(rand() * 8), rand() * 1000)
				printf ",%s", v
			}
			printf "\n"
		}
	}'
}

test_expect_success 'setup: 3000 rows of 37 fields of every shape, some of them bad' '
	fields 37 3000 7 >mixed.csv &&
	test_line_count = 3001 mixed.csv &&
	grep -v "1\.2\.3" mixed.csv >good.csv
'

test_expect_success 'the same CSV and tensor bytes, at -j 1 and -j 2' '
	same_simd good.csv.out -O csv -j 1 good.csv &&
	same_simd good.tensor -j 2 good.csv &&
	same_simd good.csv.out -O csv -j 2 --skip-bad good.csv
'

test_expect_success 'every row out, and a value of each shape as strtod reads it' '
	aiops-ingest -O csv good.csv >out.csv &&
	test $(wc -l <out.csv) -eq $(wc -l <good.csv) &&
	printf "ts,a,b,c,d,e,f,g,h,i\n1,-0.5,+.25,7.,1e-3,-0,00000012,12345678,123456789,-12345678\n" >one.csv &&
	aiops-ingest -O csv one.csv >one.out &&
	printf "%s\n" "timestamp,a,b,c,d,e,f,g,h,i" \
		"1970-01-01T00:00:01Z,-0.5,0.25,7,0.001,-0,12,12345678,123456789,-12345678" >one.want &&
	test_cmp one.want one.out
'

test_expect_success 'a bad number: the same FILE:LINE:COL message and status; --skip-bad the same count' '
	same_simd bad.tensor mixed.csv &&
	grep "mixed.csv:[0-9]*:[0-9]*: " err.v &&
	same_simd bad.tensor --skip-bad mixed.csv &&
	grep "skipped [1-9][0-9]* " err.v
'

test_expect_success 'output columns not in input order: --select (some, all), --drop, a label column' '
	same_simd sel.csv -O csv --select m9,m2,m30 good.csv &&
	same_simd drop.csv -O csv --drop m1,m17 good.csv &&
	all=$(head -n 1 good.csv | tr , "\n" | sed 1d | sort -r | paste -s -d , -) &&
	same_simd all.csv -O csv --select "$all" good.csv &&
	head -n 1 all.csv.v | cut -d, -f2 >first &&
	echo m9 >first.want &&
	test_cmp first.want first &&
	awk -F, -v OFS=, "NR == 1 { \$0 = \"label,\" \$0 } NR > 1 { \$0 = (NR % 5 == 0) \",\" \$0 }
		{ print }" good.csv >lab.csv &&
	same_simd lab.csv -O csv --label-col label lab.csv
'

test_expect_success 'no timestamp column: the first field is a value' '
	cut -d, -f2- good.csv >nots.csv &&
	same_simd nots.csv -O csv nots.csv &&
	test $(wc -l <nots.csv.v) -eq $(wc -l <nots.csv)
'

test_expect_success 'headerless numbers, 1 to 9 columns: every group of eight cut short' '
	for n in 1 2 7 8 9
	do
		fields $n 200 $n | sed 1d | cut -d, -f2- >h$n.csv &&
		grep -v "1\.2\.3" h$n.csv >g$n.csv &&
		same_simd h$n.csv -O csv g$n.csv || return 1
	done
'

test_done
