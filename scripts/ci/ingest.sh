#!/bin/sh
# ingest.sh: the first job of a training run. Reads AIOPS_DATA (a CSV file, compressed or
# in an archive, or an http(s) URL), aligns, labels, splits and scales it into
# $AIOPS_WORK/data.{train,valid,test}.tensor, and keeps the scaler in scaler.tensor, which
# the artifact carries: new data must be scaled as the training data was before the model
# scores it or a drift check compares it. A run starts here: the outputs of an earlier run
# in the work directory (shard results and journals, model, reports, artifact) are removed,
# so that a shared volume never mixes two runs.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
ci_need AIOPS_DATA "the metrics to train on: a CSV file or URL"
name=$(ci_name)
rm -rf "$W/shards" "$W/baseline"
rm -f "$W/data.train.tensor" "$W/data.valid.tensor" "$W/data.test.tensor" \
	"$W/scaler.tensor" "$W/model.model" "$W/eval.json" "$W/eval.txt" "$W/eval.svg" \
	"$W/gate.xml" "$W/metrics.txt" "$W/$name.tar.gz" "$W/version" "$W/push.txt" \
	"$W/promote.txt"

set -f
# shellcheck disable=SC2086
set -- ${AIOPS_INGEST_OPTS-}
set +f
if test -n "${AIOPS_LABELS-}"
then
	set -- "$@" --labels "$AIOPS_LABELS"
fi
scale=${AIOPS_SCALE:-none}
if test "$scale" != none
then
	set -- "$@" --scale "$scale"
fi
aiops-ingest "$@" --split "${AIOPS_SPLIT:-0.6,0.2}" -o "$W/data" "$AIOPS_DATA"
ci_need_file "$W/data.train.tensor"
ci_need_file "$W/data.test.tensor" "AIOPS_SPLIT needs a test part"

if test "$scale" != none
then
	# aiops-ingest --scaler-from reads a scaler from a tensor's metadata only, so one row
	# of the training part, scaled by it, carries it; the row's values are not used.
	label=
	if aiops-ingest --info "$W/data.train.tensor" | grep -q '"has_labels": *true'
	then
		label='--label-col label'
	fi
	# shellcheck disable=SC2086
	aiops-ingest -O csv "$W/data.train.tensor" | sed 2q |
		aiops-ingest -q $label --scaler-from "$W/data.train.tensor" \
			-o "$W/scaler.tensor" -
	ci_need_file "$W/scaler.tensor"
fi
for part in train valid test
do
	if test -f "$W/data.$part.tensor"
	then
		rows=$(aiops-ingest --info "$W/data.$part.tensor" |
			sed -n 's/^ *"rows": *\([0-9]*\).*/\1/p')
		ci_say "$W/data.$part.tensor: $rows rows"
	fi
done
