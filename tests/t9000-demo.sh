#!/bin/sh
test_description='the README demo (scripts/demo.sh) runs and produces what it says'
. "$(dirname "$0")/lib.sh"

test_expect_success 'the demo runs end to end' '
	AIOPS_DEMO_OUT=$PWD/demo AIOPS_BIN=$BIN "$TOP/scripts/demo.sh" >out 2>err &&
	test_path_is_file demo/demo.train.tensor &&
	test_path_is_file demo/demo.valid.tensor &&
	test_path_is_file demo/demo.test.tensor &&
	test_path_is_file demo/demo.model &&
	test_grep "^search: *grid, 11 trials" out &&
	test_grep "outputs are in" out
'

test_expect_success 'the demo model finds the incidents injected into the shipped data' '
	aiops-train --info --json demo/demo.model >info.json &&
	"$PYTHON" -c "import json,sys; d=json.load(open(\"info.json\")); sys.exit(0 if d[\"search\"][\"best\"][\"metric\"] >= 0.9 else 1)"
'

test_expect_success 'the demo journal holds one line per trial' '
	test_line_count = 11 demo/journal.jsonl
'

test_done
