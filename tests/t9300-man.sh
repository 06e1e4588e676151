#!/bin/sh
test_description='every man page is mandoc -Tlint clean and every command has one'
. "$(dirname "$0")/lib.sh"

if ! test_have_prereq MANDOC
then
	test_skip_all 'no mandoc'
fi

test_expect_success 'mandoc -Tlint -Wwarning finds nothing in any page' '
	mandoc -Tlint -Wwarning "$TOP"/man/*.[157] >lint 2>&1 &&
	test_must_be_empty lint
'

test_expect_success 'every command has a page in section 1, and aiops(7) names them all' '
	for c in "$TOP"/cmd/aiops-*.c
	do
		n=${c##*/} && n=${n%.c} &&
		test_path_is_file "$TOP/man/$n.1" &&
		grep -q "^\.Xr $n 1" "$TOP/man/aiops.7" || return 1
	done
'

test_done
