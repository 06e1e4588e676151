#!/bin/sh
# eval.sh: the gate. Scores the held-out test tensor with $AIOPS_WORK/model.model, checks
# AIOPS_REQUIRE and, with AIOPS_BASELINE (a model file, the report of an earlier
# aiops-eval on the same data, or an artifact reference that aiops-push --pull takes, such
# as the production model), that the model is not worse than it; writes eval.json,
# eval.txt, eval.svg, the JUnit XML gate.xml and GitLab's metrics report metrics.txt.
# Exits as aiops-eval does: 3 when the gate failed, so that the pipeline stops there.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
ci_need_file "$W/model.model" "written by select.sh"
ci_need_file "$W/data.test.tensor" "written by ingest.sh"
set --
if test -n "${AIOPS_REQUIRE-}"
then
	set -- "$@" --require "$AIOPS_REQUIRE"
fi
if test -n "${AIOPS_BASELINE-}"
then
	base=$(ci_pull "$AIOPS_BASELINE" "$W/baseline") ||
		ci_die "cannot fetch the baseline $AIOPS_BASELINE"
	set -- "$@" --baseline "$base"
fi
test $# -gt 0 || ci_usage "no gate: set AIOPS_REQUIRE (such as f1>=0.6) or AIOPS_BASELINE"
set -f
# shellcheck disable=SC2086
set -- "$@" ${AIOPS_EVAL_OPTS-}
set +f
status=0
aiops-eval "$@" --report "$W/eval.json" --junit "$W/gate.xml" \
	--metrics-report "$W/metrics.txt" --plot "$W/eval.svg" \
	"$W/model.model" "$W/data.test.tensor" >"$W/eval.txt" || status=$?
cat "$W/eval.txt"
exit "$status"
