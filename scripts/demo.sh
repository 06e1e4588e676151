#!/bin/sh
# demo.sh - the README's first command, after the install and build: runs the
# whole pipeline (ingest, search-train, eval with a gate and a plot, pack, push to a local OCI
# layout, pull it back and score with it) on data the project ships (testdata/) and,
# when ../shared/datasets is beside the checkout, on the Server Machine Dataset.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIOPS_BIN:-$top/build/bin}
out=${AIOPS_DEMO_OUT:-$top/build/demo}
smd=${AIOPS_SHARED:-$top/../shared}/datasets/smd
rm -rf "$out"
mkdir -p "$out"
PATH=$bin:$PATH
export PATH

echo "== 1. shipped metrics: align to 5 minutes, fill short gaps, join labels, split, scale"
aiops-ingest --step 5m --agg mean --fill linear --max-gap 3 \
	--labels "$top/testdata/metrics-demo.labels" \
	--split 0.6,0.2 --scale zscore -o "$out/demo" "$top/testdata/metrics-demo.csv"
for p in train valid test; do
	printf '%-6s ' "$p"
	aiops-ingest --info "$out/demo.$p.tensor" | tr -d '\n ' |
		sed 's/.*"rows":\([0-9]*\).*"columns":\[\([^]]*\)\].*/\1 rows, columns \2/'
	echo
done
echo "first rows of the test part as CSV:"
aiops-ingest -O csv "$out/demo.test.tensor" | head -4

echo
echo "== 2. search-train on the train part, validated on the labelled valid part (-j 2)"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} aiops-train -j 2 \
	--space 'zscore pca:k=1..5 mahalanobis:reg=0.001,0.01 iforest kmeans:k=2,4' \
	--valid "$out/demo.valid.tensor" --journal "$out/journal.jsonl" \
	-o "$out/demo.model" "$out/demo.train.tensor"
aiops-train --info "$out/demo.model"

echo
echo "== 3. evaluate on the held-out test part: metrics, root-cause hints, a CI gate, a plot"
status=0
aiops-eval --require 'f1>=0.5,auc_pr>=0.5' --report "$out/eval.json" --junit "$out/gate.xml" \
	--metrics-report "$out/metrics.txt" --plot "$out/eval.svg" \
	"$out/demo.model" "$out/demo.test.tensor" >"$out/eval.txt" || status=$?
sed -n '1,2p;/^f1 /p;/^auc_pr /p;/^pa_f1 /p;/detected segment/,/^$/p;/^check/,$p' "$out/eval.txt"
test "$status" = 0
echo "report $out/eval.json, plot $out/eval.svg, JUnit $out/gate.xml"
echo "drift of the test part against the training reference:"
status=0
aiops-eval -q --drift --report "$out/drift.json" "$out/demo.model" "$out/demo.test.tensor" ||
	status=$?
case $status in
0) echo "no drift (exit 0)" ;;
3) echo "drift beyond the bounds (exit 3): a scheduled job would retrain" ;;
*) exit "$status" ;;
esac

echo
echo "== 4. pack the model with its report, push it to a local OCI-layout registry, pull it back"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} aiops-pack -q -V 1.0.0 -n demo-detector \
	-r "$out/eval.json" -o "$out/demo-1.0.0.tar.gz" "$out/demo.model"
aiops-pack --verify "$out/demo-1.0.0.tar.gz"
aiops-push -q "$out/demo-1.0.0.tar.gz" "oci-layout:$out/registry:1.0.0" >"$out/push.txt"
digest=$(cut -d' ' -f1 "$out/push.txt")
aiops-push -q --pull -o "$out/deploy" "oci-layout:$out/registry:1.0.0" >/dev/null
echo "pulled into $out/deploy; scoring the test part with the pulled model:"
aiops-eval -o - "$out/deploy/demo.model" "$out/demo.test.tensor" >"$out/scores.csv"
awk -F, 'NR > 1 && $3 == 1 { n++ } END { printf "%d of %d rows flagged\n", n, NR - 1 }' \
	"$out/scores.csv"

echo
echo "== 5. logs: mine the shipped log into templates, count them per 5 minutes, join with metrics"
aiops-ingest -q --logs --log-format '<Date> <Time> <Level> <Component>: <Content>' --step 5m \
	--templates "$out/templates.csv" --lines "$out/log-lines.csv" -o "$out/logs.tensor" \
	"$top/testdata/logs-demo.log"
sed 's/^/  /' "$out/templates.csv"
aiops-ingest --step 5m --labels "$top/testdata/metrics-demo.labels" -o "$out/metrics.tensor" \
	"$top/testdata/metrics-demo.csv"
aiops-ingest --join -o "$out/joined.tensor" "$out/metrics.tensor" "$out/logs.tensor"
echo "joined metrics and logs, the log's incident window (10:00-10:30):"
aiops-ingest -O csv "$out/joined.tensor" | awk -F, 'NR == 1 || /T09:55|T10:0[05]/' |
	cut -d, -f1-2,13-15,18-19

if [ -d "$smd/test" ]; then
	echo
	echo "== 6. SMD machine-1-2: gzip in, labels joined, robust scaling fitted on train"
	aiops-ingest --scale robust -o "$out/smd-train.tensor" "$smd/train/machine-1-2.txt.gz"
	aiops-ingest --scaler-from "$out/smd-train.tensor" --labels "$smd/test_label/machine-1-2.txt" \
		-o "$out/smd-test.tensor" "$smd/test/machine-1-2.txt.gz"
	aiops-ingest --info "$out/smd-test.tensor" | grep -E '"rows"|"has_labels"'
	aiops-ingest -O npy -o "$out/smd-test.npy" "$out/smd-test.tensor"
	echo "wrote $out/smd-test.npy (numpy.load reads it)"
	echo
	echo "== 7. SMD machine-1-2: the default search space, selected on the labelled test half"
	aiops-train -j 2 --valid "$out/smd-test.tensor" -o "$out/smd.model" "$out/smd-train.tensor"
	aiops-train --info "$out/smd.model" | sed -n '1p;3p;6p'
	echo "(selecting on test labels is tuning on test: an upper bound, not a result)"
	aiops-eval -q --interpretation "$smd/interpretation_label/machine-1-2.txt" \
		--report "$out/smd-eval.json" "$out/smd.model" "$out/smd-test.tensor"
	grep -E '"(best_f1|pa_f1|auc_pr|hitrate_100|hitrate_150)"' "$out/smd-eval.json"
fi
echo
echo "== summary"
aiops-train --info "$out/demo.model" | sed -n 's/^model: */winner:    /p'
sed -n 's/^\(f1\|auc_pr\|pa_f1\)  *\([^ ]*\).*/\1 \2/p' "$out/eval.txt" | tr '\n' ' ' |
	sed 's/^/metrics:   /; s/ $/\n/'
echo "gate:      $(sed -n 's/^gate: //p' "$out/eval.txt")"
echo "artifact:  $out/demo-1.0.0.tar.gz, pushed as $digest"
echo "report:    $out/eval.json   plot: $out/eval.svg   JUnit: $out/gate.xml"
echo "logs:      $(grep -c '^E[0-9]' "$out/templates.csv") templates in $out/templates.csv, joined tensor $out/joined.tensor"
echo "outputs are in $out"
