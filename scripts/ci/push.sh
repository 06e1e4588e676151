#!/bin/sh
# push.sh: pushes $AIOPS_WORK/$AIOPS_NAME.tar.gz under its version to each target of
# AIOPS_REGISTRY: gitlab (the project's generic packages, with CI_JOB_TOKEN), oci (the
# project's container registry, $CI_REGISTRY_IMAGE/$AIOPS_NAME, or AIOPS_OCI_REPO, with
# the job's registry credentials), oci-layout (a directory, AIOPS_LAYOUT). The evaluation
# report goes along as a referrer, except to a layout. aiops-push's lines (digest and
# reference) go to $AIOPS_WORK/push.txt.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
targets=$(ci_targets)
version=$(ci_version)
art=$W/$(ci_name).tar.gz
ci_need_file "$art" "written by pack.sh"
: >"$W/push.txt"
for t in $targets
do
	ref=$(ci_ref "$t" "$version")
	if test "$t" = oci-layout
	then
		aiops-push -q "$art" "$ref" >>"$W/push.txt"
	else
		aiops-push -q --referrer "$W/eval.json" "$art" "$ref" >>"$W/push.txt"
	fi
done
cat "$W/push.txt"
