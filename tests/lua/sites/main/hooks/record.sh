#!/bin/sh
# A non-Lua site step: prints a marker, appends what it was told to $HOOK_LOG, keeps its whole
# environment in $HOOK_LOG.env.<what>, and fails when HOOK_FAIL names it.
what=${1:-end-$FLASHRUN_OUTCOME}
echo "MARK hook-$what"
echo "$what plan=$FLASHRUN_PLAN step=$FLASHRUN_STEP phase=$FLASHRUN_PHASE target=${FLASHRUN_TARGET_HOST:-}:${FLASHRUN_TARGET_PORT:-} outcome=${FLASHRUN_OUTCOME:-} rollback=${FLASHRUN_ROLLBACK:-} failed=${FLASHRUN_FAILED_STEP:-}" >>"${HOOK_LOG:?}"
env >"$HOOK_LOG.env.$what"
[ "${HOOK_FAIL:-}" != "$what" ] || { echo "hook $what fails on purpose" >&2; exit 3; }
exit 0
