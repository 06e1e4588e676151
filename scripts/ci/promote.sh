#!/bin/sh
# promote.sh: makes the pushed artifact the current one, under the tag AIOPS_PROMOTE_TAG
# (production): in a registry by tagging the manifest already there (aiops-push
# --promote, same digest), in generic packages and layouts by putting the same file under
# that version or tag. Checks that what it promoted has the digest that push.sh pushed,
# so that the model deployed is the model that passed the gate.
set -eu
# shellcheck source=scripts/ci/aiops-ci.subr
. "$(dirname "$0")/aiops-ci.subr"

ci_guard
targets=$(ci_targets)
version=$(ci_version)
tag=${AIOPS_PROMOTE_TAG:-production}
art=$W/$(ci_name).tar.gz
ci_need_file "$art" "written by pack.sh"
ci_need_file "$W/push.txt" "written by push.sh"
: >"$W/promote.txt"
for t in $targets
do
	from=$(ci_ref "$t" "$version")
	to=$(ci_ref "$t" "$tag")
	pushed=$(awk -v r="$from" '$2 == r { print $1; exit }' "$W/push.txt")
	test -n "$pushed" || ci_die "$W/push.txt: $from was not pushed"
	if test "$t" = oci
	then
		line=$(aiops-push -q --promote "$from" "$tag")
	else
		line=$(aiops-push -q "$art" "$to")
	fi
	digest=${line%% *}
	test "$digest" = "$pushed" ||
		ci_die "$to has $digest, but $from was pushed as $pushed"
	printf '%s\n' "$line" >>"$W/promote.txt"
done
cat "$W/promote.txt"
