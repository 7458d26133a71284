#!/usr/bin/env bash
# Wall time of start, stop and start's restore-point phase on a running lab:
#   [RUNS=N] [STRATEGY=local|donor] [SETTINGS="site.k=v ..."] bench/drill.sh [LAB_DIR]
#   (default build/lab, strategy local; SETTINGS: more --set arguments for both plans)
# Needs `tests/lab/lab up` first; leaves the lab as it found it (stop puts the standby back).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${1:-${LAB_DIR:-$top/build/lab}}
bin=${FLASHRUN:-$top/build/flashrun}
# shellcheck disable=SC1091
source "$lab_dir/env"
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
strategy=${STRATEGY:-local}
sets=(--set "site.restore_point=$strategy")
for kv in ${SETTINGS:-}; do sets+=(--set "$kv"); done
run() {
  "$bin" "$top/plans/$1.lua" --si "$SI" --ti "$TI" --config "$lab_dir/flashback.ini" --state-dir "$state" \
    "${sets[@]}" -q --log-json "$state/$1.json"
}
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
for ((i = 1; i <= ${RUNS:-1}; i++)); do
  rm -f "$state"/*.json
  t0=$(date +%s%N); run start; start_ms=$(ms "$t0")
  t0=$(date +%s%N); run stop; stop_ms=$(ms "$t0")
  # The restore-point phase as start timed it (its step's line in the JSON log).
  rp=$(grep -o 'take the restore point of every standby node … ok ([0-9.]* s)' "$state/start.json" | grep -o '([0-9.]* s)' | tr -d '()')
  # Of stop, the part the servers take to start the way the site runs them (mysqld_safe, then
  # mysqld until it answers), as stop timed it per node: the slowest node's.
  boot=$(grep -o 'answered [0-9.]* s after its start' "$state/stop.json" | awk '$2 > m { m = $2 } END { print m + 0 }')
  printf 'strategy %-5s  start %s s  stop %s s  restore point %s  (stop: servers starting %s s)%s\n' "$strategy" \
    "$(secs "$start_ms")" "$(secs "$stop_ms")" "$rp" "$boot" "${SETTINGS:+  ($SETTINGS)}"
done
