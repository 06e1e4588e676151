#!/bin/sh
# drift.sh: the scheduled check. Fetches the current model (AIOPS_CURRENT, or the
# AIOPS_PROMOTE_TAG of the first AIOPS_REGISTRY target), ingests AIOPS_DATA aligned and
# scaled as its training data was, and compares the two (aiops-eval --drift, with
# AIOPS_DRIFT_REQUIRE as its bounds when set). Writes the decision that the retraining
# jobs after it obey to $AIOPS_WORK/drift.decision: "retrain" when the check fired (exit 3)
# or AIOPS_FORCE_RETRAIN=1, else "keep". Exits 0 either way; 1 when it could not check.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

rm -rf "$W/current"
rm -f "$W/drift.decision" "$W/drift.tensor" "$W/drift.json" "$W/drift.txt" "$W/drift.xml"
ci_need AIOPS_DATA "the new metrics to check"
case ${AIOPS_FORCE_RETRAIN:-0} in
1|yes|true) force=1 ;;
0|no|false) force=0 ;;
*) ci_usage "AIOPS_FORCE_RETRAIN=$AIOPS_FORCE_RETRAIN: 1 or 0" ;;
esac
if test -n "${AIOPS_CURRENT-}"
then
	current=$AIOPS_CURRENT
else
	targets=$(ci_targets)
	set -f
	# shellcheck disable=SC2086
	set -- $targets
	set +f
	current=$(ci_ref "$1" "${AIOPS_PROMOTE_TAG:-production}")
fi

decide () {
	printf '%s %s\n' "$1" "$2" >"$W/drift.decision"
	ci_say "decision: $1 ($2)"
}

if model=$(ci_pull "$current" "$W/current")
then
	set -f
	# shellcheck disable=SC2086
	set -- ${AIOPS_INGEST_OPTS-}
	set +f
	if test -f "$W/current/scaler.tensor"
	then
		set -- "$@" --scaler-from "$W/current/scaler.tensor"
	elif aiops-train --info "$model" | grep -q '^scaler:'
	then
		ci_die "$current: the model was trained on scaled data and the artifact has no scaler.tensor"
	fi
	aiops-ingest "$@" -o "$W/drift.tensor" "$AIOPS_DATA"
	set --
	if test -n "${AIOPS_DRIFT_REQUIRE-}"
	then
		set -- --require "$AIOPS_DRIFT_REQUIRE"
	fi
	status=0
	aiops-eval --drift "$@" --report "$W/drift.json" --junit "$W/drift.xml" \
		"$model" "$W/drift.tensor" >"$W/drift.txt" || status=$?
	cat "$W/drift.txt"
	case $status in
	0) fired=0 ;;
	3) fired=1 ;;
	*) exit "$status" ;;
	esac
elif test "$force" = 1
then
	ci_say "cannot fetch the current model $current; retraining as AIOPS_FORCE_RETRAIN asks"
	fired=
else
	ci_die "cannot fetch the current model $current (AIOPS_FORCE_RETRAIN=1 trains the first one)"
fi

if test "$force" = 1
then
	decide retrain "forced by AIOPS_FORCE_RETRAIN"
elif test "$fired" = 1
then
	decide retrain "the data drifted from $current"
else
	decide keep "no drift from $current"
fi
