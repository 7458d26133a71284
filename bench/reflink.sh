#!/usr/bin/env bash
# Copy-on-write restore points at two sizes, on a running lab whose hosts have XFS or btrfs
# (LAB_FS=xfs tests/lab/lab up):   bench/reflink.sh [LAB_DIR] [SMALL_MIB] [LARGE_MIB]
# (default build/lab, 64 and 2048). For each size: start and stop (strategy reflink), start's
# restore-point phase, and the space used (df) on each standby node before start and right after
# it; then the ratio start(large) / start(small) (goal <= 1.2) and the space the restore points
# hold right after start (goal <= 64 MiB per node). Drops the loaded data at the end. The data is
# written into the standby nodes only (LOAD_WHERE=standby, see bench/load.sh; set
# LOAD_WHERE=production to load through replication): the restore point is the standby's, and
# production's copies and binary logs would double the disk it takes.
set -euo pipefail
export LOAD_WHERE=${LOAD_WHERE:-standby}
top=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${1:-${LAB_DIR:-$top/build/lab}}
small=${2:-64} large=${3:-2048}
export LAB_DIR=$lab_dir
# shellcheck disable=SC1091
source "$lab_dir/env"
[[ ${LAB_FS:-dir} != dir ]] || { echo "bench/reflink.sh needs a lab with LAB_FS=xfs or btrfs" >&2; exit 2; }
bin=${FLASHRUN:-$top/build/flashrun}
tnet=${TI%:*}; tnet=${tnet%.*}
used_kb() { "$top/tests/lab/lab" ssh "$1" "df -Pk /data | awk 'NR==2 {print \$3}'"; }
# KiB of node N's (1..3) restore point that it holds alone (extents not shared with the live
# datadir): FIEMAP through the host's filefrag on the lab host's mounted data filesystem (the
# lab rootfs has no filefrag). What df adds besides is what the restarted server wrote itself.
own_kb() {
  local d; d=$(find "$lab_dir/hosts/tgt$1/data" -maxdepth 4 -type d -name flashback_restore_point | head -1)
  [[ -n $d ]] || { echo "?"; return; }
  find "$d" -type f -print0 | xargs -0 -r filefrag -v 2>/dev/null | awk -F: '
    /^File size of/ { bs = $0; sub(/.* blocks of /, "", bs); bs += 0 }
    /^ *[0-9]+: / && $0 !~ /shared/ { kb += ($4 + 0) * bs / 1024 }
    END { printf "%d", kb }'
}
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
run() { "$bin" "$top/plans/$1.lua" --si "$SI" --ti "$TI" --config "$lab_dir/flashback.ini" --state-dir "$state" \
          --set site.restore_point=reflink -q --log-json "$state/$1.json"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
declare -A start_ms
"$top/bench/load.sh" "$lab_dir" drop
loaded=0
for size in "$small" "$large"; do
  "$top/bench/load.sh" "$lab_dir" $((size - loaded)); loaded=$size
  declare -A before=()
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do before[$h]=$(used_kb "$h"); done
  rm -f "$state"/*.json
  t0=$(date +%s%N); run start; start_ms[$size]=$(ms "$t0")
  grow="" own=""
  for i in 1 2 3; do
    h=$tnet.$i
    grow+=" $h:$((($(used_kb "$h") - before[$h]) / 1024))MiB"
    own+=" $h:$(($(own_kb "$i") / 1024))MiB"
  done
  t0=$(date +%s%N); run stop; stop=$(ms "$t0")
  phase=$(grep -o 'take the restore point of every standby node … ok ([0-9.]* s)' "$state/start.json" | grep -o '([0-9.]* s)' | tr -d '()')
  restart=$(grep -o 'shutdown [0-9.]* s, copy [0-9.]* s, restart [0-9.]* s' "$state/start.json" | head -1)
  printf '%5d MiB/node: start %d.%03d s (restore point %s; %s), stop %d.%03d s; df change after start:%s; restore point blocks not shared:%s\n' "$size" \
    $((start_ms[$size] / 1000)) $((start_ms[$size] % 1000)) "$phase" "$restart" $((stop / 1000)) $((stop % 1000)) "$grow" "$own"
done
awk -v a="${start_ms[$large]}" -v b="${start_ms[$small]}" -v l="$large" -v s="$small" \
  'BEGIN { printf "start at %d MiB / start at %d MiB: %.2f (goal <= 1.2)\n", l, s, a / b }'
"$top/bench/load.sh" "$lab_dir" drop
