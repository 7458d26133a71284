#!/usr/bin/env bash
# Wall time of start and stop on a running lab: [RUNS=N] bench/drill.sh [LAB_DIR] (default build/lab).
# Needs `tests/lab/lab up` first; leaves the lab as it found it (stop puts the standby back).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${1:-${LAB_DIR:-$top/build/lab}}
bin=${FLASHRUN:-$top/build/flashrun}
# shellcheck disable=SC1091
source "$lab_dir/env"
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
run() { "$bin" "$top/plans/$1.lua" --si "$SI" --ti "$TI" --config "$lab_dir/flashback.ini" --state-dir "$state" -q; }
t() {
  local t0 t1 ms; t0=$(date +%s%N); run "$1"; t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000))
  printf '%-6s %3d.%03d s\n' "$1" $((ms / 1000)) $((ms % 1000))
}
for ((i = 1; i <= ${RUNS:-1}; i++)); do t start; t stop; done
