#!/bin/sh
# train-shard.sh: one share of the search (aiops-train --shard i/n) on the tensors of
# ingest.sh, its results to $AIOPS_WORK/shards/shard-i-of-n.jsonl, its journal beside them
# so that a restarted pod on a shared volume resumes where it stopped.
# The share: a GitLab parallel: job counts CI_NODE_INDEX from 1 to CI_NODE_TOTAL, as
# --shard does; a Kubernetes Indexed Job counts JOB_COMPLETION_INDEX from 0 and gives no
# total, which AIOPS_SHARDS (its completions) must; with neither, the whole search (1/1).
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
shards=${AIOPS_SHARDS-}
if test -n "${CI_NODE_INDEX-}"
then
	i=$CI_NODE_INDEX
	n=${CI_NODE_TOTAL-}
	ci_number CI_NODE_INDEX "$i"
	ci_number CI_NODE_TOTAL "$n"
	if test -n "$shards" && test "$shards" != "$n"
	then
		ci_usage "AIOPS_SHARDS=$shards, but CI_NODE_TOTAL=$n: give the train job parallel: $shards"
	fi
elif test -n "${JOB_COMPLETION_INDEX-}"
then
	ci_number JOB_COMPLETION_INDEX "$JOB_COMPLETION_INDEX"
	ci_need AIOPS_SHARDS "the completions of the Indexed Job"
	ci_number AIOPS_SHARDS "$shards"
	i=$((JOB_COMPLETION_INDEX + 1))
	n=$shards
else
	n=${shards:-1}
	ci_number AIOPS_SHARDS "$n"
	test "$n" = 1 || ci_usage "AIOPS_SHARDS=$n but no shard index (CI_NODE_INDEX or JOB_COMPLETION_INDEX)"
	i=1
fi
if test "$n" -lt 1 || test "$i" -lt 1 || test "$i" -gt "$n"
then
	ci_usage "shard $i of $n: the index must be from 1 to the number of shards"
fi

ci_need_file "$W/data.train.tensor" "written by ingest.sh"
set --
if test -n "${AIOPS_SPACE-}"
then
	set -- "$@" --space "$AIOPS_SPACE"
fi
if test -n "${AIOPS_METRIC-}"
then
	set -- "$@" --metric "$AIOPS_METRIC"
fi
if test -n "${AIOPS_JOBS-}"
then
	set -- "$@" -j "$AIOPS_JOBS"
fi
if test -f "$W/data.valid.tensor"
then
	set -- "$@" --valid "$W/data.valid.tensor"
fi
set -f
# shellcheck disable=SC2086
set -- "$@" ${AIOPS_TRAIN_OPTS-}
set +f
mkdir -p "$W/shards"
ci_say "shard $i of $n"
aiops-train -q --shard "$i/$n" "$@" --journal "$W/shards/journal-$i-of-$n.jsonl" \
	-o "$W/shards/shard-$i-of-$n.jsonl" "$W/data.train.tensor"
