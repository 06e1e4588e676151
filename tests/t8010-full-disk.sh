#!/bin/sh
# t8010: a full disk. Under a file size limit (ulimit -f: write(2) fails with EFBIG once
# SIGXFSZ, whose default action kills the process, is ignored) and on a nearly full tmpfs
# of 1 MiB (ENOSPC; mounted by this script when it may, as root can, else skipped), every
# command that writes a file fails cleanly: status 1, a message that names the file and
# says "File too large" or "No space left on device", the old file byte for byte, no
# temporary file, and for an OCI layout the old index. Standard output on /dev/full fails
# the same way. The tmpfs is unmounted on exit.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='full disk: ulimit -f and a full tmpfs end in a clear error, old outputs intact'
. "$(dirname "$0")/lib.sh"

if ! test_have_prereq PYTHON3
then
	test_skip_all 'no python3'
fi
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

test_lazy_prereq DEVFULL 'test -c /dev/full'
test_lazy_prereq TMPFS '
	mkdir m &&
	mount -t tmpfs -o size=64k tmpfs m &&
	umount m
'

FULL=$TRASH_DIRECTORY/full
# umount_full: unmount the tmpfs if it is mounted (also when the script dies).
umount_full () {
	if test -d "$FULL" && grep -q " $FULL " /proc/mounts 2>/dev/null
	then
		umount "$FULL" || umount -l "$FULL"
	fi
	return 0
}
# shellcheck disable=SC2154
trap 'st_=$?; umount_full; (exit $st_); test_exit_trap_' EXIT
trap 'umount_full; exit 130' INT
trap 'umount_full; exit 143' TERM
trap 'umount_full; exit 129' HUP

# fails_full STATUS OUT OLD ERRPATTERN CMD...: CMD exits with STATUS, nothing on stdout,
# a one-line message on stderr matching ERRPATTERN; OUT is byte for byte OLD (or missing
# when OLD is -), and no temporary file of OUT is left.
fails_full () {
	ff_status=$1
	ff_out=$2
	ff_old=$3
	ff_pat=$4
	shift 4
	test_expect_code "$ff_status" "$@" >ff.stdout 2>err &&
	test_must_be_empty ff.stdout &&
	test_line_count -eq 1 err &&
	test_grep "$ff_pat" err &&
	if test "$ff_old" = -
	then
		test_path_is_missing "$ff_out"
	else
		cmp "$ff_old" "$ff_out"
	fi &&
	no_tmp "$ff_out"
}

# limited BLOCKS CMD...: CMD under ulimit -f BLOCKS (512-byte blocks in dash, KiB in bash:
# every output below is far larger either way).
limited () {
	(
		ulimit -f "$1" &&
		shift &&
		exec "$@"
	)
}

test_expect_success 'setup: inputs, a model, artifacts, a layout' '
	gencsv -H -t 20000 38 >big.csv &&
	aiops-ingest -o x.tensor big.csv &&
	gencsv -H -t 2000 8 | aiops-ingest -o t.tensor - &&
	aiops-train -q --space "pca:k=1..5" -o m.model t.tensor &&
	"$PYTHON" -c "import random; r = random.Random(8010); open(\"noise.bin\", \"wb\").write(r.randbytes(600000))" &&
	aiops-pack -q -V 1.0.0 -o big.tar.gz m.model noise.bin &&
	aiops-pack -q -V 0.9.0 -o small.tar.gz m.model &&
	aiops-push small.tar.gz lay:old >/dev/null &&
	cp -R lay lay.old &&
	echo "an old file" >old
'
# a search whose journal outgrows 4 KiB (a tmpfs page) and ulimit -f 4
SPACE="pca:k=1..8 zscore mahalanobis:reg=0.001,0.01,0.1,0.3,0.5 kmeans:k=2..30"

# --- ulimit -f ---------------------------------------------------------------------------

test_expect_success 'ulimit -f: aiops-ingest -o, and to standard output' '
	cp old out.tensor &&
	fails_full 1 out.tensor old "^aiops-ingest: .*out.tensor: write error: File too large\$" \
		limited 200 aiops-ingest -o out.tensor big.csv &&
	test_expect_code 1 limited 200 aiops-ingest big.csv >o.tensor 2>err &&
	echo "aiops-ingest: <stdout>: write error: File too large" >expect &&
	test_cmp expect err
'

test_expect_success 'ulimit -f: aiops-train -o and --journal' '
	cp old m2.model &&
	fails_full 1 m2.model old "^aiops-train: .*m2.model: write error: File too large\$" \
		limited 4 aiops-train -q --space "pca:k=1..5" -o m2.model t.tensor &&
	test_expect_code 1 limited 4 aiops-train -q --space "$SPACE" --journal j.jsonl -o m3.model t.tensor 2>err &&
	test_line_count = 1 err &&
	test_grep "^aiops-train: .*j.jsonl.*: File too large\$" err &&
	test_path_is_missing m3.model &&
	no_tmp m3.model &&
	aiops-train -q --space "$SPACE" --journal j.jsonl -o m3.model t.tensor &&
	aiops-train -q --space "$SPACE" -o m4.model t.tensor &&
	cmp m3.model m4.model
'

test_expect_success 'ulimit -f: aiops-eval -o and --report' '
	cp old scores.csv &&
	fails_full 1 scores.csv old "^aiops-eval: .*scores.csv: write error: File too large\$" \
		limited 200 aiops-eval -q -o scores.csv m.model x.tensor &&
	cp old report.json &&
	fails_full 1 report.json old "^aiops-eval: .*report.json: write error: File too large\$" \
		limited 8 aiops-eval -q --report report.json m.model x.tensor
'

test_expect_success 'ulimit -f: aiops-pack -o' '
	cp old a.tar.gz &&
	fails_full 1 a.tar.gz old "^aiops-pack: .*a.tar.gz: write error: File too large\$" \
		limited 200 aiops-pack -q -V 1.0.0 -o a.tar.gz m.model noise.bin
'

test_expect_success 'ulimit -f: aiops-push to a layout, and --pull' '
	test_expect_code 1 limited 200 aiops-push big.tar.gz lay:new >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-push: .*lay/blobs/sha256/.*: write error: File too large\$" err &&
	diff -r lay.old lay &&
	aiops-push big.tar.gz lay:new >/dev/null &&
	test_expect_code 1 limited 200 aiops-push --pull -o pulled lay:new >out 2>err &&
	test_grep "^aiops-push: .*pulled.pull.tar.gz.*File too large" err &&
	test_path_is_missing pulled &&
	no_tmp pulled.pull.tar.gz &&
	rm -rf lay &&
	cp -R lay.old lay
'

# --- /dev/full ---------------------------------------------------------------------------------

test_expect_success DEVFULL 'standard output on /dev/full: status 1 and "<stdout>: write error", for every command' '
	for c in "aiops-ingest -O csv t.tensor" "aiops-ingest t.tensor" "aiops-ingest --info t.tensor" \
		"aiops-train -q --space zscore -o - t.tensor" "aiops-train --info m.model" \
		"aiops-eval -q -o - m.model t.tensor" "aiops-eval -j m.model t.tensor" \
		"aiops-pack -q -V 1 -o - m.model" "aiops-pack --list small.tar.gz" \
		"aiops-pack --verify small.tar.gz" "aiops-push small.tar.gz lay2:1"
	do
		# shellcheck disable=SC2086
		test_expect_code 1 $c >/dev/full 2>err &&
		test_grep "^aiops-[a-z]*: <stdout>: write error: No space left on device\$" err ||
		{ echo "command: $c" >&2; return 1; }
	done
'

# --- a full tmpfs ------------------------------------------------------------------------------

# fill_up: fill the tmpfs to the last page with the file filler.
fill_up () {
	head -c 2000000 /dev/zero >"$FULL/filler" 2>/dev/null
	test "$(df -k "$FULL" | awk "NR == 2 { print \$4 }")" = 0
}

test_expect_success TMPFS 'setup: a tmpfs of 1 MiB' '
	mkdir "$FULL" &&
	mount -t tmpfs -o size=1m tmpfs "$FULL" &&
	test_set_prereq FULL
'

test_expect_success FULL 'a full disk: aiops-ingest -o, and to standard output' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	cp old "$FULL/out.tensor" &&
	fill_up &&
	fails_full 1 "$FULL/out.tensor" old "^aiops-ingest: $FULL/out.tensor: write error: No space left on device\$" \
		aiops-ingest -o "$FULL/out.tensor" big.csv &&
	test_expect_code 1 aiops-ingest big.csv >"$FULL/o.tensor" 2>err &&
	echo "aiops-ingest: <stdout>: write error: No space left on device" >expect &&
	test_cmp expect err &&
	rm -f "$FULL/o.tensor" "$FULL/filler"
'

test_expect_success FULL 'a full disk: aiops-train -o and --journal' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	cp old "$FULL/m.model" &&
	fill_up &&
	fails_full 1 "$FULL/m.model" old "^aiops-train: $FULL/m.model: write error: No space left on device\$" \
		aiops-train -q --space "pca:k=1..5" -o "$FULL/m.model" t.tensor &&
	rm -f "$FULL/filler" &&
	: >"$FULL/j.jsonl" &&
	fill_up &&
	test_expect_code 1 aiops-train -q --space "$SPACE" --journal "$FULL/j.jsonl" -o m5.model t.tensor 2>err &&
	test_line_count = 1 err &&
	test_grep "^aiops-train: .*j.jsonl.*: No space left on device\$" err &&
	test_path_is_missing m5.model &&
	rm -f "$FULL/filler" &&
	aiops-train -q --space "$SPACE" --journal "$FULL/j.jsonl" -o m5.model t.tensor &&
	aiops-train -q --space "$SPACE" -o m6.model t.tensor &&
	cmp m5.model m6.model
'

test_expect_success FULL 'a full disk: aiops-eval -o and its reports' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	for f in scores.csv report.json junit.xml metrics.txt plot.svg
	do
		cp old "$FULL/$f" || return 1
	done &&
	fill_up &&
	fails_full 1 "$FULL/scores.csv" old "^aiops-eval: $FULL/scores.csv: write error: No space left on device\$" \
		aiops-eval -q -o "$FULL/scores.csv" m.model t.tensor &&
	for opt in report:report.json junit:junit.xml metrics-report:metrics.txt plot:plot.svg
	do
		fails_full 1 "$FULL/${opt#*:}" old "^aiops-eval: $FULL/${opt#*:}: write error: No space left on device\$" \
			aiops-eval -q --${opt%%:*} "$FULL/${opt#*:}" m.model t.tensor || return 1
	done &&
	rm -f "$FULL/filler"
'

test_expect_success FULL 'a full disk: aiops-pack -o' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	cp old "$FULL/a.tar.gz" &&
	fill_up &&
	fails_full 1 "$FULL/a.tar.gz" old "^aiops-pack: $FULL/a.tar.gz: write error: No space left on device\$" \
		aiops-pack -q -V 1.0.0 -o "$FULL/a.tar.gz" m.model noise.bin &&
	rm -f "$FULL/filler" "$FULL/a.tar.gz"
'

test_expect_success FULL 'a full disk: aiops-push to a layout keeps the old index, and works once there is room' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	cp -R lay.old "$FULL/lay" &&
	fill_up &&
	test_expect_code 1 aiops-push big.tar.gz "$FULL/lay:new" >out 2>err &&
	test_must_be_empty out &&
	test_line_count = 1 err &&
	test_grep "^aiops-push: $FULL/lay/blobs/sha256/[0-9a-f]*: write error: No space left on device\$" err &&
	diff -r lay.old "$FULL/lay" &&
	rm -f "$FULL/filler" &&
	aiops-push big.tar.gz "$FULL/lay:new" >out &&
	aiops-push -q --pull -o pulled "$FULL/lay:new" &&
	cmp noise.bin pulled/noise.bin
'

test_expect_success FULL 'a full disk: aiops-push --pull -o, the download beside the directory' '
	test_when_finished "rm -f \"\$FULL/filler\"" &&
	fill_up &&
	test_expect_code 1 aiops-push --pull -o "$FULL/pulled" lay.old:old >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^aiops-push: .*pulled.pull.tar.gz.*: No space left on device\$" err &&
	test_path_is_missing "$FULL/pulled" &&
	no_tmp "$FULL/pulled.pull.tar.gz" &&
	rm -f "$FULL/filler"
'

test_expect_success FULL 'the tmpfs is unmounted' '
	umount_full &&
	! grep -q " $FULL " /proc/mounts
'

umount_full
test_done
