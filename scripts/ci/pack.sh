#!/bin/sh
# pack.sh: packs the model that passed the gate, its evaluation report and the scaler into
# $AIOPS_WORK/$AIOPS_NAME.tar.gz, verifies it, and records its version in
# $AIOPS_WORK/version: AIOPS_VERSION, else CI_COMMIT_TAG, else
# CI_COMMIT_SHORT_SHA-CI_PIPELINE_IID (a scheduled retraining of one commit makes a new
# model, so the commit alone does not name it).
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
ci_need_file "$W/model.model" "written by select.sh"
ci_need_file "$W/eval.json" "written by eval.sh"
name=$(ci_name)
version=${AIOPS_VERSION:-${CI_COMMIT_TAG-}}
if test -z "$version"
then
	if test -n "${CI_COMMIT_SHORT_SHA-}" && test -n "${CI_PIPELINE_IID-}"
	then
		version=$CI_COMMIT_SHORT_SHA-$CI_PIPELINE_IID
	else
		ci_usage "no version: set AIOPS_VERSION (or run in GitLab CI)"
	fi
fi
set -- -q -n "$name" -V "$version" -r "$W/eval.json" -o "$W/$name.tar.gz" "$W/model.model"
if test -f "$W/scaler.tensor"
then
	set -- "$@" "$W/scaler.tensor"
fi
aiops-pack "$@"
aiops-pack --verify "$W/$name.tar.gz"
printf '%s\n' "$version" >"$W/version"
