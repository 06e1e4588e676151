#!/bin/sh
# select.sh: merges the results of every shard of the search (aiops-train --select) and
# fits their winner on the training tensor into $AIOPS_WORK/model.model. The number of
# shards comes from the results' names (shard-i-of-n.jsonl); each of 1..n must be there.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
ci_need_file "$W/data.train.tensor" "written by ingest.sh"
n=
for f in "$W"/shards/shard-*-of-*.jsonl
do
	test -f "$f" || continue
	b=${f##*/shard-}
	b=${b%.jsonl}
	t=${b#*-of-}
	case ${b%-of-*}/$t in
	*[!0-9/]*|/*|*/) ci_die "$f: not a shard's results (shard-i-of-n.jsonl)" ;;
	esac
	if test -z "$n"
	then
		n=$t
	elif test "$t" != "$n"
	then
		ci_die "$W/shards holds the results of searches split $n and $t ways"
	fi
done
test -n "$n" || ci_die "$W/shards: no shard results (did the train jobs run?)"
if test -n "${AIOPS_SHARDS-}" && test "$AIOPS_SHARDS" != "$n"
then
	ci_die "AIOPS_SHARDS=$AIOPS_SHARDS, but the results are of $n shards"
fi

set --
if test -f "$W/data.valid.tensor"
then
	set -- "$@" --valid "$W/data.valid.tensor"
fi
if test -n "${AIOPS_METRIC-}"
then
	set -- "$@" --metric "$AIOPS_METRIC"
fi
if test -n "${AIOPS_THRESHOLD-}"
then
	set -- "$@" --threshold "$AIOPS_THRESHOLD"
fi
set -- "$@" "$W/data.train.tensor"
missing=
k=1
while test "$k" -le "$n"
do
	test -f "$W/shards/shard-$k-of-$n.jsonl" || missing="$missing $k"
	set -- "$@" "$W/shards/shard-$k-of-$n.jsonl"
	k=$((k + 1))
done
test -z "$missing" || ci_die "missing the results of shard(s)$missing of $n"
aiops-train -q --select -o "$W/model.model" "$@"
aiops-train --info "$W/model.model"
