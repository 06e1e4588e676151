#!/bin/sh
# demo.sh - the README's first command, after the install and build: runs the
# pipeline as far as it exists today (ingest, train) on data the project ships (testdata/) and,
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

if [ -d "$smd/test" ]; then
	echo
	echo "== 3. SMD machine-1-2: gzip in, labels joined, robust scaling fitted on train"
	aiops-ingest --scale robust -o "$out/smd-train.tensor" "$smd/train/machine-1-2.txt.gz"
	aiops-ingest --scaler-from "$out/smd-train.tensor" --labels "$smd/test_label/machine-1-2.txt" \
		-o "$out/smd-test.tensor" "$smd/test/machine-1-2.txt.gz"
	aiops-ingest --info "$out/smd-test.tensor" | grep -E '"rows"|"has_labels"'
	aiops-ingest -O npy -o "$out/smd-test.npy" "$out/smd-test.tensor"
	echo "wrote $out/smd-test.npy (numpy.load reads it)"
	echo
	echo "== 4. SMD machine-1-2: the default search space, selected on the labelled test half"
	aiops-train -j 2 --valid "$out/smd-test.tensor" -o "$out/smd.model" "$out/smd-train.tensor"
	aiops-train --info "$out/smd.model" | sed -n '1p;3p;6p'
	echo "(selecting on test labels is tuning on test: an upper bound, not a result)"
fi
echo
echo "outputs are in $out"
