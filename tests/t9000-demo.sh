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

test_expect_success 'the demo gates the model on the held-out test part' '
	test_grep "^gate: *passed" out &&
	"$PYTHON" -c "import json, sys; r = json.load(open(sys.argv[1])); \
assert r[\"gate\"][\"passed\"] and r[\"metrics\"][\"f1\"] >= 0.5, r[\"gate\"]" demo/eval.json &&
	test_path_is_file demo/eval.svg &&
	test_path_is_file demo/gate.xml &&
	test_path_is_file demo/metrics.txt
'

test_expect_success 'the pushed artifact verifies and the pulled model is the packed one' '
	aiops-pack --verify demo/demo-1.0.0.tar.gz &&
	test_cmp demo/demo.model demo/deploy/demo.model &&
	digest=$(cut -d" " -f1 demo/push.txt) &&
	test_grep "pushed as $digest" out &&
	test_path_is_file demo/registry/blobs/sha256/${digest#sha256:} &&
	test_line_count = 59 demo/scores.csv
'

test_done
