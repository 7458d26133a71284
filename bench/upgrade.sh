#!/usr/bin/env bash
# bench/upgrade.sh OLD_COMMIT — does this flashrun finish a drill an earlier one started? Builds
# OLD_COMMIT in a git worktree of its own (no test options), brings a lab up (LAB_DIR,
# LAB_SOURCE_NET, LAB_TARGET_NET from the environment, as tests/lab/lab takes them; LAB_FS=xfs
# adds reflink), and for each strategy of UPGRADE_STRATEGIES (default "local donor", plus reflink
# on a copy-on-write lab) runs tests/e2e/drill.sh upgrade: start by OLD_COMMIT, drill writes, stop
# by this tree's build/flashrun, the data checked as e2e main checks it. Prints one line per
# strategy and exits 0 when every one passed. Not run by CI (a few minutes a strategy).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
old_commit=${1:?usage: bench/upgrade.sh OLD_COMMIT}
: "${LAB_DIR:?set LAB_DIR, LAB_SOURCE_NET and LAB_TARGET_NET (a lab of its own)}"
: "${LAB_SOURCE_NET:?}" "${LAB_TARGET_NET:?}"
export LAB_DIR LAB_SOURCE_NET LAB_TARGET_NET
sha=$(git -C "$top" rev-parse --short=12 "$old_commit^{commit}") || { echo "bench/upgrade.sh: no commit '$old_commit'" >&2; exit 2; }
new=$(git -C "$top" rev-parse --short=12 HEAD)
[[ -z $(git -C "$top" status --porcelain --untracked-files=no) ]] || new+="+uncommitted"
old=${UPGRADE_OLD_TREE:-/tmp/flashrun-old-$sha}
if [[ ! -x $old/build/flashrun ]]; then
  rm -rf "$old"; git -C "$top" worktree prune
  git -C "$top" worktree add -q --detach "$old" "$sha" || exit 1
  { cmake -S "$old" -B "$old/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build "$old/build" -j2 --target flashrun >/dev/null; } ||
    { echo "bench/upgrade.sh: building $sha failed" >&2; exit 1; }
fi
strategies=${UPGRADE_STRATEGIES:-local donor}
[[ ${LAB_FS:-dir} != dir && -z ${UPGRADE_STRATEGIES:-} ]] && strategies+=" reflink"
echo "bench/upgrade.sh: start by $sha, stop by $new ($top/build/flashrun), strategies: $strategies"
"$top/tests/e2e/fresh-lab.sh" >/dev/null || { echo "bench/upgrade.sh: lab up failed" >&2; exit 1; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/flashrun-upgrade.XXXXXX")   # outside LAB_DIR: lab down removes that
rc=0
for s in $strategies; do
  t0=$SECONDS
  if E2E_STRATEGY=$s E2E_OLD_TOP=$old "$top/tests/e2e/drill.sh" upgrade >"$logs/upgrade-$s.log" 2>&1; then
    echo "  $s: ok ($((SECONDS - t0)) s)"
  else
    echo "  $s: FAILED ($((SECONDS - t0)) s): $(grep -m1 '^FAIL' "$logs/upgrade-$s.log") — $logs/upgrade-$s.log"; rc=1
  fi
done
"$top/tests/lab/lab" down >/dev/null 2>&1
exit $rc
