#!/bin/sh
# t1040: aiops-ingest on bad input and bad usage: the message, the exit status, and
# that a failed run with -o leaves neither the output nor a temporary file.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-ingest: errors, exit statuses and atomic output'
. "$(dirname "$0")/lib.sh"

# fails_cleanly STATUS OUT ARG...: fails_cleanly_o (lib.sh) for aiops-ingest.
fails_cleanly () {
	fails_cleanly_o aiops-ingest "$@"
}

test_lazy_prereq DEVFULL 'test -c /dev/full'

test_expect_success 'setup' '
	cat >good.csv <<-\EOF
	ts,cpu,mem
	1,2,3
	2,4,5
	3,6,7
	EOF
'

test_expect_success 'a malformed number: FILE:LINE:COL, the field name, what was found' '
	cat >bad.csv <<-\EOF &&
	ts,cpu,mem
	1,2,3
	2,n/a,4
	EOF
	fails_cleanly 1 out.tensor bad.csv &&
	echo "aiops-ingest: bad.csv:3:3: field \"cpu\": expected a number, got \"n/a\"" >expect &&
	test_cmp expect err &&
	fails_cleanly 1 out.csv bad.csv &&
	test_cmp expect err &&
	fails_cleanly 1 out.npy bad.csv &&
	test_cmp expect err
'

test_expect_success 'a malformed number in a quoted field, in the last column' '
	printf "ts,cpu,mem\n1,2,\"3x\"\n" >badq.csv &&
	fails_cleanly 1 out.tensor badq.csv &&
	echo "aiops-ingest: badq.csv:2:5: field \"mem\": expected a number, got \"3x\"" >expect &&
	test_cmp expect err
'

test_expect_success 'hex, a comma decimal and a lone sign are not numbers' '
	for v in 0x10 1,5 - 1e "1 2"
	do
		printf "a\n\"%s\"\n" "$v" >num.csv &&
		fails_cleanly 1 out.tensor num.csv &&
		test_grep "^aiops-ingest: num.csv:2:1: field \"a\": expected a number" err || return 1
	done
'

test_expect_success 'a ragged row names file:line and the field counts' '
	cat >rag.csv <<-\EOF &&
	ts,cpu,mem
	1,2,3
	2,4
	EOF
	fails_cleanly 1 out.tensor rag.csv &&
	echo "aiops-ingest: rag.csv:3: expected 3 fields, got 2" >expect &&
	test_cmp expect err &&
	printf "ts,cpu,mem\n1,2,3,4\n" >long.csv &&
	fails_cleanly 1 out.tensor long.csv &&
	echo "aiops-ingest: long.csv:2: expected 3 fields, got 4" >expect &&
	test_cmp expect err
'

test_expect_success 'a bad timestamp' '
	cat >bts.csv <<-\EOF &&
	time,cpu
	2024-01-01T00:00:00Z,2
	2024-13-01T00:00:00Z,4
	EOF
	fails_cleanly 1 out.tensor bts.csv &&
	echo "aiops-ingest: bts.csv:3:1: expected a timestamp, got \"2024-13-01T00:00:00Z\"" >expect &&
	test_cmp expect err &&
	for t in 2024-02-30 2024-01-01T24:00:00Z 2024-01-01T00:00:00+25:00 2024-01-01T00:00:00Q yesterday
	do
		printf "time,cpu\n2024-01-01,1\n%s,2\n" "$t" >bt.csv &&
		fails_cleanly 1 out.tensor bt.csv &&
		test_grep "^aiops-ingest: bt.csv:3:1: expected a timestamp, got \"$t\"\$" err || return 1
	done
'

test_expect_success 'an unterminated quoted field' '
	cat >uq.csv <<-\EOF &&
	ts,cpu
	1,"2
	2,3
	EOF
	fails_cleanly 1 out.tensor uq.csv &&
	echo "aiops-ingest: uq.csv:2:3: unterminated quoted field" >expect &&
	test_cmp expect err
'

test_expect_success 'text after a closing quote' '
	printf "ts,cpu\n1,\"2\"x\n" >aq.csv &&
	fails_cleanly 1 out.tensor aq.csv &&
	test_grep "^aiops-ingest: aq.csv:2:" err
'

test_expect_success 'a duplicate column name' '
	printf "ts,a,a\n1,2,3\n" >dupcol.csv &&
	fails_cleanly 1 out.tensor dupcol.csv &&
	echo "aiops-ingest: dupcol.csv:1:6: duplicate column name \"a\"" >expect &&
	test_cmp expect err
'

test_expect_success 'empty input, from a file and from stdin' '
	: >empty.csv &&
	fails_cleanly 1 out.tensor empty.csv &&
	echo "aiops-ingest: empty.csv: empty input" >expect &&
	test_cmp expect err &&
	fails_cleanly 1 out.tensor - </dev/null &&
	echo "aiops-ingest: <stdin>: empty input" >expect &&
	test_cmp expect err &&
	printf "\n\n" >blank.csv &&
	fails_cleanly 1 out.tensor blank.csv &&
	echo "aiops-ingest: blank.csv: empty input" >expect &&
	test_cmp expect err
'

test_expect_success 'a missing input, and a directory as input' '
	fails_cleanly 1 out.tensor nothere.csv &&
	echo "aiops-ingest: nothere.csv: No such file or directory" >expect &&
	test_cmp expect err &&
	mkdir adir &&
	fails_cleanly 1 out.tensor adir &&
	test_grep "^aiops-ingest: adir: " err
'

test_expect_success 'a failing second input leaves no output either' '
	cat >later.csv <<-\EOF &&
	ts,cpu,mem
	4,2,3
	5,n/a,4
	EOF
	fails_cleanly 1 out.tensor good.csv later.csv &&
	echo "aiops-ingest: later.csv:3:3: field \"cpu\": expected a number, got \"n/a\"" >expect &&
	test_cmp expect err
'

test_expect_success 'setup a tensor' '
	{
		echo ts,v &&
		for i in 1 2 3 4 5 6 7 8 9
		do
			echo "$i,0.$i" || return 1
		done &&
		echo 10,1
	} >ten.csv &&
	aiops-ingest -o good.tensor ten.csv &&
	aiops-ingest -O csv good.tensor >good.out &&
	test_line_count = 11 good.out &&
	size=$(wc -c <good.tensor) &&
	test "$size" -gt 60
'

# patch FILE OFFSET OCTAL: write the byte \OCTAL at OFFSET of FILE.
patch () {
	printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

test_expect_success 'a file with the wrong magic is not a tensor' '
	cp good.tensor magic.tensor &&
	patch magic.tensor 0 130 &&
	! cmp -s good.tensor magic.tensor &&
	test_expect_code 1 aiops-ingest --info magic.tensor >out 2>err &&
	test_must_be_empty out &&
	echo "aiops-ingest: magic.tensor: not an aiops tensor (bad magic)" >expect &&
	test_cmp expect err &&
	fails_cleanly 1 out.tensor magic.tensor &&
	test_expect_code 1 aiops-ingest --scaler-from magic.tensor -O csv ten.csv 2>err &&
	test_cmp expect err
'

test_expect_success 'a file passed through a 7-bit channel is refused' '
	cp good.tensor seven.tensor &&
	patch seven.tensor 0 011 &&
	test_expect_code 1 aiops-ingest --info seven.tensor >out 2>err &&
	test_grep "not an aiops tensor" err
'

test_expect_success 'a truncated tensor is an error, wherever it is cut' '
	for cut in 10 30 $((size - 30)) $((size - 16)) $((size - 5)) $((size - 1))
	do
		head -c $cut good.tensor >cut.tensor &&
		fails_cleanly 1 out.tensor cut.tensor &&
		test_grep "^aiops-ingest: cut.tensor: .*truncated" err &&
		test_expect_code 1 aiops-ingest --info cut.tensor >out 2>err &&
		test_must_be_empty out &&
		test_grep "truncated" err || return 1
	done
'

# The two loops below run the command a few hundred times: sample more
# sparsely when it is slow (sanitizers).
cut_step=4
flip_step=7
if test_have_prereq SANITIZED
then
	cut_step=9
	flip_step=17
fi

# A cut at every cut_step-th length; below 8 bytes the magic is incomplete, so only
# --info (which wants a tensor) is asked.
test_expect_success 'every prefix of a tensor is refused, never a crash' '
	n=0 &&
	while test $n -lt "$size"
	do
		head -c $n good.tensor >cut.tensor &&
		test_expect_code 1 aiops-ingest --info cut.tensor >/dev/null 2>&1 &&
		if test $n -ge 8
		then
			test_expect_code 1 aiops-ingest -O csv cut.tensor >/dev/null 2>&1
		fi || { echo "prefix of $n bytes" >&2; return 1; }
		n=$((n + cut_step))
	done
'

test_expect_success 'a flipped byte in a block is a checksum mismatch' '
	cp good.tensor flip.tensor &&
	# the last value byte of the block: 1.0 = 00..00 f0 3f; make it 0x40
	patch flip.tensor $((size - 21)) 100 &&
	! cmp -s good.tensor flip.tensor &&
	fails_cleanly 1 out.tensor flip.tensor &&
	test_grep "^aiops-ingest: flip.tensor: .*block 1.*checksum mismatch\|^aiops-ingest: flip.tensor: .*checksum mismatch.*block 1" err &&
	test_expect_code 1 aiops-ingest --info flip.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "checksum mismatch" err
'

test_expect_success 'a flipped byte in the header is a header checksum mismatch' '
	cp good.tensor hflip.tensor &&
	patch hflip.tensor 22 167 &&
	! cmp -s good.tensor hflip.tensor &&
	fails_cleanly 1 out.tensor hflip.tensor &&
	test_grep "^aiops-ingest: hflip.tensor: header checksum mismatch" err
'

# Flip the lowest bit of bytes 0..23 and of every flip_step-th byte after: any single
# bit error must be caught (CRC-32 catches every one), with status 1.
test_expect_success 'single-bit errors anywhere are refused, never a crash' '
	i=0 &&
	while test $i -lt "$size"
	do
		b=$(od -A n -t u1 -j $i -N 1 good.tensor) &&
		cp good.tensor bit.tensor &&
		patch bit.tensor $i "$(printf %o $((b ^ 1)))" &&
		test_expect_code 1 aiops-ingest --info bit.tensor >/dev/null 2>&1 &&
		if test $i -ge 8
		then
			test_expect_code 1 aiops-ingest -O csv bit.tensor >/dev/null 2>&1
		fi || { echo "bit flip at byte $i" >&2; return 1; }
		if test $i -lt 24
		then
			i=$((i + 1))
		else
			i=$((i + flip_step))
		fi
	done
'

test_expect_success 'a tensor of a newer version is refused as newer' '
	cp good.tensor v2.tensor &&
	patch v2.tensor 8 002 &&
	patch v2.tensor 9 000 &&
	fails_cleanly 1 out.tensor v2.tensor &&
	test_grep "^aiops-ingest: v2.tensor: .*newer" err &&
	test_grep "version 2" err &&
	test_expect_code 1 aiops-ingest --info v2.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "newer" err &&
	cp good.tensor v256.tensor &&
	patch v256.tensor 8 001 &&
	patch v256.tensor 9 001 &&
	fails_cleanly 1 out.tensor v256.tensor &&
	test_grep "version 257" err
'

test_expect_success 'trailing data after the trailer is refused' '
	cat good.tensor good.tensor >twice.tensor &&
	fails_cleanly 1 out.tensor twice.tensor &&
	test_grep "^aiops-ingest: twice.tensor: " err &&
	test_grep "$size" err
'

# The messages that aiops-tensor(5) lists, word for word.
test_expect_success 'newer version: the message of aiops-tensor(5)' '
	test_expect_code 1 aiops-ingest --info v2.tensor 2>err &&
	echo "aiops-ingest: v2.tensor: tensor format version 2 is newer than this reader (version 1); upgrade aiops" >expect &&
	test_cmp expect err
'

test_expect_success 'version 0, dtype and flags: the messages of aiops-tensor(5)' '
	cp good.tensor v0.tensor &&
	patch v0.tensor 8 000 &&
	test_expect_code 1 aiops-ingest --info v0.tensor 2>err &&
	echo "aiops-ingest: v0.tensor: bad tensor version 0" >expect &&
	test_cmp expect err &&
	cp good.tensor dt.tensor &&
	patch dt.tensor 10 003 &&
	test_expect_code 1 aiops-ingest --info dt.tensor 2>err &&
	echo "aiops-ingest: dt.tensor: unknown dtype 3" >expect &&
	test_cmp expect err &&
	cp good.tensor fl.tensor &&
	patch fl.tensor 11 204 &&
	test_expect_code 1 aiops-ingest --info fl.tensor 2>err &&
	echo "aiops-ingest: fl.tensor: unknown flags 0x84" >expect &&
	test_cmp expect err
'

test_expect_success 'block checksum mismatch: the message of aiops-tensor(5)' '
	hdr=$((size - 16 - 4 - 8 - 10 * 16)) &&
	echo "aiops-ingest: flip.tensor: checksum mismatch in block 1 (at byte $hdr)" >expect &&
	test_expect_code 1 aiops-ingest --info flip.tensor 2>err &&
	test_cmp expect err
'

test_expect_success 'header checksum mismatch: the message of aiops-tensor(5)' '
	echo "aiops-ingest: hflip.tensor: header checksum mismatch" >expect &&
	test_expect_code 1 aiops-ingest --info hflip.tensor 2>err &&
	test_cmp expect err
'

test_expect_success 'truncation: the messages of aiops-tensor(5)' '
	hdr=$((size - 16 - 4 - 8 - 10 * 16)) &&
	head -c 30 good.tensor >cut.tensor &&
	test_expect_code 1 aiops-ingest --info cut.tensor 2>err &&
	test_grep "^aiops-ingest: cut.tensor: truncated in metadata (at byte [0-9]*)$" err &&
	head -c $((hdr + 20)) good.tensor >cut.tensor &&
	test_expect_code 1 aiops-ingest --info cut.tensor 2>err &&
	echo "aiops-ingest: cut.tensor: truncated in block 1 (at byte $hdr)" >expect &&
	test_cmp expect err &&
	head -c $((size - 16)) good.tensor >cut.tensor &&
	test_expect_code 1 aiops-ingest --info cut.tensor 2>err &&
	echo "aiops-ingest: cut.tensor: truncated after 10 rows (no end marker)" >expect &&
	test_cmp expect err
'

test_expect_success 'trailing data: the message of aiops-tensor(5)' '
	test_expect_code 1 aiops-ingest --info twice.tensor 2>err &&
	echo "aiops-ingest: twice.tensor: unexpected data after the end marker (at byte $size)" >expect &&
	test_cmp expect err
'

test_expect_success 'a tensor input after a CSV one is an error' '
	fails_cleanly 1 out.tensor good.csv good.tensor &&
	test_grep "^aiops-ingest: good.tensor: " err
'

test_expect_success 'an unknown option: status 2, the usage on stderr, nothing on stdout' '
	test_expect_code 2 aiops-ingest --bogus -O csv good.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-ingest " err &&
	test_expect_code 2 aiops-ingest -Z good.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-ingest " err &&
	fails_cleanly 2 out.tensor --bogus good.csv
'

test_expect_success 'an option without its argument is a usage error' '
	test_expect_code 2 aiops-ingest -O csv good.csv --step >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-ingest " err
'

test_expect_success 'bad --step values: status 2 with the option and the value' '
	for v in 0 -1s 5x abc 1.5.2 "" 0ms 0.1ms
	do
		fails_cleanly 2 out.tensor --step "$v" good.csv &&
		echo "aiops-ingest: --step: expected a duration such as 500ms, 15s, 5m, 1h, got \"$v\"" >expect &&
		test_cmp expect err || return 1
	done
'

test_expect_success 'bad --agg, --fill, --max-gap, --dtype, -O, --time-unit, --scale values: status 2' '
	fails_cleanly 2 out.tensor --agg median good.csv &&
	test_grep "^aiops-ingest: --agg: expected .*, got \"median\"\$" err &&
	fails_cleanly 2 out.tensor --fill bfill good.csv &&
	test_grep "^aiops-ingest: --fill: expected .*, got \"bfill\"\$" err &&
	fails_cleanly 2 out.tensor --fill "" good.csv &&
	fails_cleanly 2 out.tensor --max-gap -1 good.csv &&
	test_grep "^aiops-ingest: --max-gap: expected .*, got \"-1\"\$" err &&
	fails_cleanly 2 out.tensor --max-gap 2x good.csv &&
	fails_cleanly 2 out.tensor --dtype f16 good.csv &&
	test_grep "^aiops-ingest: --dtype: expected .*, got \"f16\"\$" err &&
	fails_cleanly 2 out.tensor -O xml good.csv &&
	test_grep "^aiops-ingest: -O: expected .*, got \"xml\"\$" err &&
	fails_cleanly 2 out.tensor --time-unit us good.csv &&
	test_grep "^aiops-ingest: --time-unit: expected .*, got \"us\"\$" err &&
	fails_cleanly 2 out.tensor --scale l2 good.csv &&
	test_grep "^aiops-ingest: --scale: expected .*, got \"l2\"\$" err
'

test_expect_success '--step without timestamps is a usage error' '
	printf "a,b\n1,2\n" >nots.csv &&
	fails_cleanly 2 out.tensor --step 1s nots.csv &&
	test_grep "^aiops-ingest: --step needs a timestamp column" err &&
	fails_cleanly 2 out.tensor --step 1s --time-col none good.csv &&
	test_grep "^aiops-ingest: --step needs a timestamp column" err
'

test_expect_success '--split without -o, or with -o -, is a usage error' '
	test_expect_code 2 aiops-ingest --split 0.5 good.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: --split needs -o" err &&
	test_grep "^usage: aiops-ingest " err &&
	test_expect_code 2 aiops-ingest --split 0.5 -o - good.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-ingest: --split needs -o" err
'

# split_fails STATUS PREFIX ARG...: no part of PREFIX appears, nor a temporary one.
split_fails () {
	sf_want=$1
	sf_p=$2
	shift 2
	test_expect_code "$sf_want" aiops-ingest -o "$sf_p" "$@" >sf.stdout 2>err &&
	test_must_be_empty sf.stdout &&
	for sf_part in train valid test
	do
		test_path_is_missing "$sf_p.$sf_part.tensor" &&
		no_tmp "$sf_p.$sf_part.tensor" || return 1
	done
}

test_expect_success 'bad --split cuts are usage errors, and no part is written' '
	split_fails 2 s --split 0.8,0.3 ten.csv &&
	test_grep "^aiops-ingest: --split: " err &&
	split_fails 2 s --split abc ten.csv &&
	test_grep "^aiops-ingest: --split: .*\"abc\"" err &&
	split_fails 2 s --split 0.1,0.2,0.3 ten.csv &&
	split_fails 2 s --split 0.5,0.4x ten.csv &&
	split_fails 1 s --split 0.01 ten.csv &&
	test_grep "train part empty" err
'

test_expect_success 'bad data with --split writes no part' '
	split_fails 1 s --split 0.5 bad.csv &&
	test_grep "^aiops-ingest: bad.csv:3:3: " err
'

test_expect_success '--split: when one part cannot be put in place, none appears' '
	mkdir -p blocked/s.test.tensor &&
	test_expect_code 1 aiops-ingest --split 0.6,0.2 -o blocked/s ten.csv 2>err &&
	test_path_is_missing blocked/s.train.tensor &&
	test_path_is_missing blocked/s.valid.tensor &&
	no_tmp blocked/s.train.tensor &&
	no_tmp blocked/s.valid.tensor &&
	no_tmp blocked/s.test.tensor
'

test_expect_success 'a failed rename names the output file' '
	mkdir -p blocked2/s.test.tensor &&
	test_expect_code 1 aiops-ingest --split 0.6,0.2 -o blocked2/s ten.csv 2>err &&
	test_grep "^aiops-ingest: blocked2/s.test.tensor: " err &&
	test_grep ! "(null)" err
'

test_expect_success 'an output in a missing directory is an error' '
	fails_cleanly 1 nodir/out.tensor good.csv &&
	test_grep "^aiops-ingest: nodir/out.tensor: " err
'

test_expect_success '--skip-bad skips bad numbers, ragged rows, bad and out-of-order times' '
	cat >sb.csv <<-\EOF &&
	ts,cpu,mem
	1,2,3
	2,n/a,4
	3,5
	2024-13-01,6,7
	4,8,9
	3,1,1
	5,1,2
	EOF
	cat >expect <<-\EOF &&
	timestamp,cpu,mem
	1970-01-01T00:00:01Z,2,3
	1970-01-01T00:00:04Z,8,9
	1970-01-01T00:00:05Z,1,2
	EOF
	aiops-ingest --skip-bad -o sb.csv.out -O csv sb.csv 2>err &&
	test_cmp expect sb.csv.out &&
	echo "aiops-ingest: warning: skipped 4 bad rows (first: sb.csv:3:3: field \"cpu\": expected a number, got \"n/a\")" >expect.err &&
	test_cmp expect.err err &&
	aiops-ingest -q --skip-bad -O csv sb.csv >actual 2>err &&
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success '--skip-bad does not skip what is not a bad row' '
	fails_cleanly 1 out.tensor --skip-bad uq.csv &&
	test_grep "unterminated quoted field" err &&
	fails_cleanly 1 out.tensor --skip-bad empty.csv &&
	fails_cleanly 1 out.tensor --skip-bad flip.tensor &&
	test_grep "checksum mismatch" err
'

test_expect_success 'a failed run leaves an existing output file as it was' '
	aiops-ingest -o keep.tensor good.csv &&
	cp keep.tensor keep.orig &&
	test_expect_code 1 aiops-ingest -o keep.tensor bad.csv 2>err &&
	cmp keep.orig keep.tensor &&
	no_tmp keep.tensor &&
	test_expect_code 1 aiops-ingest --sort -o keep.tensor bad.csv 2>err &&
	cmp keep.orig keep.tensor &&
	test_expect_code 2 aiops-ingest --step 1s -o keep.tensor nots.csv 2>err &&
	cmp keep.orig keep.tensor &&
	test_expect_code 1 aiops-ingest -o keep.tensor flip.tensor 2>err &&
	cmp keep.orig keep.tensor &&
	no_tmp keep.tensor &&
	aiops-ingest -O csv good.csv >keep.csv &&
	cp keep.csv keep.csv.orig &&
	test_expect_code 1 aiops-ingest -o keep.csv bad.csv 2>err &&
	test_cmp keep.csv.orig keep.csv &&
	no_tmp keep.csv
'

test_expect_success 'a failed split leaves existing parts as they were' '
	aiops-ingest --split 0.5 -o old ten.csv &&
	cp old.train.tensor train.orig &&
	cp old.test.tensor test.orig &&
	test_expect_code 1 aiops-ingest --split 0.5 -o old bad.csv 2>err &&
	cmp train.orig old.train.tensor &&
	cmp test.orig old.test.tensor &&
	no_tmp old.train.tensor &&
	no_tmp old.test.tensor
'

test_expect_success DEVFULL 'a write error on stdout is an error, not success' '
	test_expect_code 1 aiops-ingest -O csv good.csv >/dev/full 2>err &&
	test_grep "^aiops-ingest: <stdout>: write error" err &&
	test_expect_code 1 aiops-ingest good.csv >/dev/full 2>err &&
	test_grep "^aiops-ingest: <stdout>: write error" err
'

test_expect_success '--info takes at most one tensor' '
	test_expect_code 2 aiops-ingest --info good.tensor good.tensor >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-ingest " err
'

test_expect_success '--start and --end without --prom are usage errors' '
	fails_cleanly 2 out.tensor --start now good.csv &&
	fails_cleanly 2 out.tensor --end now good.csv
'

test_expect_success '-o onto a device writes to it and leaves it a device' '
	printf "a\n1\n" >dev.csv &&
	aiops-ingest -O csv -o /dev/null dev.csv &&
	test -c /dev/null
'

test_expect_success '-o through a symlink replaces the target and keeps the link' '
	printf "a\n1\n" >ln.csv &&
	echo old >target.csv &&
	ln -s target.csv link.csv &&
	aiops-ingest -O csv -o link.csv ln.csv &&
	test -L link.csv &&
	printf "a\n1\n" >expect &&
	test_cmp expect target.csv
'

test_done
