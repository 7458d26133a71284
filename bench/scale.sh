#!/usr/bin/env bash
# Drills at growing data sizes, on a running lab:   bench/scale.sh LAB_DIR SIZE...
# SIZE: MiB per node, e.g. `bench/scale.sh build/lab 64 1024 4096 8192` (ascending; each size adds
# to the data of the one before). For each size it loads the data (bench/load.sh: through
# production's master, as a site's standby gets it; LOAD_WHERE=standby writes the standby nodes
# only), then measures, RUNS (3) times each and prints the median:
#   - a parallel `cp -a` (+ sync) of the three standby datadirs, and one node's alone (cold page
#     cache each time): what a restore point is held against;
#   - for each strategy the lab's filesystem allows (local and donor; reflink on LAB_FS=xfs or
#     btrfs; STRATEGIES="..." to choose, `donor-plain` = donor with site.clone_ssl=off), a drill
#     from a cold page cache: start, stop, start's restore-point phase, the time from replication
#     stopping to the binary log stream running (the ends of start's steps `stop_replication` and
#     `stream` in its --log-json trail, the steps found by id through `start.lua --list`, wherever
#     they are in the plan), and the extra disk the restore points hold right after start (the
#     standby hosts' `df` change where each host has a filesystem of its own, else the restore
#     point directories' `du`; reflink: also the restore point's blocks not shared with the
#     datadir, by filefrag, and start's shutdown/copy/restart times of its slowest node);
# then the ratios the goals are stated in: reflink start at SIZE / at the smallest SIZE (<= 1.2),
# local start / parallel cp -a (<= 1.0), donor restore point / ((nodes - 1) x one node's cp -a)
# (<= 1.3). Drops the loaded data at the end (DROP=0 keeps it).
#
# Every node of a lab shares the machine's disk, so site.disk_threshold (45 % used) would refuse
# start long before the disk is short: the drills run with --set site.disk_threshold=99, and the
# bench checks the space itself before it starts: it prints what it needs and refuses (exit 2)
# without it. Run as root (the lab's tools; dropping the page cache).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: bench/scale.sh LAB_DIR SIZE_MIB... (ascending, e.g. 64 1024)" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
lab_dir=$(cd "$1" && pwd); shift
sizes=("$@")
prev=0
for s in "${sizes[@]}"; do
  [[ $s =~ ^[0-9]+$ && $s -gt $prev ]] || usage
  prev=$s
done
export LAB_DIR=$lab_dir
# shellcheck disable=SC1091
source "$lab_dir/env"
bin=${FLASHRUN:-$top/build/flashrun}
runs=${RUNS:-3}
where=${LOAD_WHERE:-production}
export LOAD_WHERE=$where
fs=${LAB_FS:-dir}
lab() { "$top/tests/lab/lab" "$@"; }
tnet=${TI%:*}; tnet=${tnet%.*}
hosts=("$tnet.1" "$tnet.2" "$tnet.3")
if [[ -n ${STRATEGIES:-} ]]; then read -r -a strategies <<<"$STRATEGIES"
else
  # reflink first: a local or donor drill's stop puts back a clone, which carries no binary or
  # relay logs, and the reflink drill measured after it would restart with none to read (a site's
  # standby has its binary logs; the restart reads the newest one whole).
  strategies=(local donor)
  [[ $fs == xfs || $fs == btrfs ]] && strategies=(reflink local donor)
fi
threshold=99

echo "bench/scale.sh at commit $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet HEAD -- || echo '+changes'):" \
  "LAB_FS=$fs LOAD_WHERE=$where RUNS=$runs STRATEGIES=\"${strategies[*]}\" bench/scale.sh $lab_dir ${sizes[*]}"
echo "the drills run with --set site.disk_threshold=$threshold: the lab's nodes share the machine's disk, whose" \
  "use the site's 45 % rule would otherwise refuse; this script checks the space itself"

# ---- the space it needs
# Per node at the largest size S: its data (S), and loaded through production the binary logs of
# every node (S: log_replica_updates) and a standby node's relay logs while it applies (S); on a
# standby node one copy at a time on top (a local/donor restore point, or the cp -a: S); 256 MiB of
# margin each. The lab's loop images (LAB_FS=xfs|btrfs) are sparse: they take from the machine's
# disk what they hold.
max=${sizes[-1]}
if [[ $where == production ]]; then per_standby=$((4 * max + 256)) per_source=$((2 * max + 256))
else per_standby=$((2 * max + 256)) per_source=0; fi
need_total=$((3 * per_standby + 3 * per_source))
avail_mib() { df -Pm "$1" | awk 'NR == 2 { print $4 }'; }
short=""
have=$(avail_mib "$lab_dir")
((have >= need_total)) || short+=" the machine's disk under $lab_dir has $have MiB free, needs $need_total MiB;"
if [[ $fs != dir ]]; then
  for h in "${hosts[@]}"; do
    a=$(lab ssh "$h" "df -Pm /data | awk 'NR == 2 { print \$4 }'")
    ((a >= per_standby)) || short+=" $h's /data has $a MiB free, needs $per_standby MiB (LAB_FS_SIZE);"
  done
fi
echo "space: needs $need_total MiB on the machine ($per_standby MiB per standby node, $per_source MiB per production node, at $max MiB per node)"
if [[ -n $short ]]; then echo "bench/scale.sh: not enough disk:$short" >&2; exit 2; fi

# ---- helpers
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Every measured copy and drill starts from a cold page cache, or the one measured later would
# read what the one before left in memory (the whole machine's cache: run on a quiet machine).
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# The lab's default layout: /data/mysqldata/<instance>/dbdata.
# shellcheck disable=SC2016 # expanded on the host
dd='$(ls -d /data/*/*/dbdata | head -1)'
# --reflink=never: coreutils 9 cp shares blocks where it can (XFS, btrfs); the copy measured is a real one
copy() { lab ssh "$1" "d=$dd; cp -a --reflink=never \"\$d\" \"\$d.benchcopy\" && sync && rm -rf \"\$d.benchcopy\""; }
used_kb() { lab ssh "$1" "df -Pk /data | awk 'NR == 2 { print \$3 }'"; }
rp_kb() { lab ssh "$1" "du -sk /data/*/*/flashback_restore_point 2>/dev/null | awk '{ s += \$1 } END { print s + 0 }'"; }
# KiB of node N's (1..3) reflink restore point that it holds alone (extents not shared with the
# live datadir): FIEMAP through the machine's filefrag on the host's mounted image (the lab rootfs
# has no filefrag).
own_kb() {
  local d; d=$(find "$lab_dir/hosts/tgt$1/data" -maxdepth 4 -type d -name flashback_restore_point | head -1)
  [[ -n $d ]] || { echo 0; return; }
  find "$d" -type f -print0 | xargs -0 -r filefrag -v 2>/dev/null | awk -F: '
    /^File size of/ { bs = $0; sub(/.* blocks of /, "", bs); bs += 0 }
    /^ *[0-9]+: / && $0 !~ /shared/ { kb += ($4 + 0) * bs / 1024 }
    END { printf "%d", kb }'
}
# start's step names by id (its --list: "Step 03/09 NAME  [ID] ..."), so a reordered plan is read right.
step_name() {
  "$bin" "$top/plans/start.lua" --list --config "$lab_dir/flashback.ini" |
    sed -n "s/^Step [0-9]*\/[0-9]* \(.*\)  \[$1\].*/\1/p"
}
name_stop=$(step_name stop_replication) name_stream=$(step_name stream) name_rp=$(step_name restore_point)
[[ -n $name_stop && -n $name_stream && -n $name_rp ]] ||
  { echo "bench/scale.sh: start.lua --list names no step stop_replication, stream or restore_point" >&2; exit 1; }
# Unix time (s, ms precision) of the end of the step NAME in a --log-json trail: its "… ok" line.
step_end() {
  local ts
  ts=$(grep -F "\"msg\":\"Step " "$1" | grep -F " $2 … ok (" | head -1 | sed 's/^{"ts":"\([^"]*\)".*/\1/')
  [[ -n $ts ]] || { echo "?"; return; }
  date -d "$ts" +%s.%3N
}
step_secs() { # the step's own time, as start timed it
  grep -F " $2 … ok (" "$1" | head -1 | sed 's/.* … ok (\([0-9.]*\) s).*/\1/'
}
drill() { # PLAN STRATEGY: one plan run
  local sets=(--set "site.restore_point=${2%-plain}" --set "site.disk_threshold=$threshold")
  [[ $2 == donor-plain ]] && sets+=(--set site.clone_ssl=off)
  "$bin" "$top/plans/$1.lua" --si "$SI" --ti "$TI" --config "$lab_dir/flashback.ini" --state-dir "$state" \
    "${sets[@]}" -q --log-json "$state/$1.json"
}

declare -A res   # res[size,what] = median
"$top/bench/load.sh" "$lab_dir" drop
loaded=0
for size in "${sizes[@]}"; do
  echo "== $size MiB per node: loading $((size - loaded)) MiB ($where)"
  "$top/bench/load.sh" "$lab_dir" $((size - loaded))
  loaded=$size
  for h in "${hosts[@]}"; do echo "   $h datadir: $(lab ssh "$h" "du -sh $dd | cut -f1")"; done
  par=() one=()
  for ((i = 0; i < runs; i++)); do
    cold; t0=$(date +%s%N); for h in "${hosts[@]}"; do copy "$h" & done; wait; par+=("$(ms "$t0")")
    cold; t0=$(date +%s%N); copy "${hosts[1]}"; one+=("$(ms "$t0")")
  done
  res[$size,par]=$(median "${par[@]}") res[$size,one]=$(median "${one[@]}")
  printf '%6d MiB  parallel cp -a of %d datadirs %s s, one node'"'"'s %s s   (runs: %s | %s ms)\n' "$size" ${#hosts[@]} \
    "$(secs "${res[$size,par]}")" "$(secs "${res[$size,one]}")" "${par[*]}" "${one[*]}"
  for s in "${strategies[@]}"; do
    starts=() stops=() rps=() gaps=() disks=() owns=() parts=()
    for ((i = 0; i < runs; i++)); do
      rm -f "$state"/*.json
      declare -A before=()
      for h in "${hosts[@]}"; do before[$h]=$(used_kb "$h"); done
      cold; t0=$(date +%s%N); drill start "$s"; starts+=("$(ms "$t0")")
      disk=0 own=0
      for n in 1 2 3; do
        h=${hosts[n - 1]}
        if [[ $fs == dir ]]; then disk=$((disk + $(rp_kb "$h")))
        else disk=$((disk + $(used_kb "$h") - before[$h])); fi
        [[ $s == reflink ]] && own=$((own + $(own_kb "$n")))
      done
      disks+=($((disk / 1024))) owns+=($((own / 1024)))
      t0=$(date +%s%N); drill stop "$s"; stops+=("$(ms "$t0")")
      rps+=("$(awk -v s="$(step_secs "$state/start.json" "$name_rp")" 'BEGIN { print s * 1000 }')")
      a=$(step_end "$state/start.json" "$name_stop") b=$(step_end "$state/start.json" "$name_stream")
      gaps+=("$(awk -v a="$a" -v b="$b" 'BEGIN { print (a == "?" || b == "?") ? -1 : (b - a) * 1000 }')")
      # reflink: the slowest node's shutdown, copy and restart (by their sum), as start logged them
      [[ $s == reflink ]] && parts+=("$(grep -o 'shutdown [0-9.]* s, copy [0-9.]* s, restart [0-9.]* s' "$state/start.json" |
        awk '{ t = $2 + $5 + $8; if (t > r) { r = t; l = $0 } } END { print l }')")
    done
    res[$size,$s]=$(median "${starts[@]}")
    res[$size,$s,rp]=$(median "${rps[@]}")
    extra=""
    [[ $s == reflink ]] && extra="; not shared $(median "${owns[@]}") MiB; slowest node per run: $(printf '%s; ' "${parts[@]}")"
    printf '%6d MiB  %-11s start %s s  stop %s s  restore point %s s  replication stopped -> stream running %s s  extra disk %s MiB%s\n' \
      "$size" "$s" "$(secs "${res[$size,$s]}")" "$(secs "$(median "${stops[@]}")")" "$(secs "${res[$size,$s,rp]}")" \
      "$(secs "$(median "${gaps[@]}")")" "$(median "${disks[@]}")" "$extra"
    printf '            (runs, ms: start %s | stop %s | restore point %s | stream %s | disk MiB %s)\n' \
      "${starts[*]}" "${stops[*]}" "${rps[*]}" "${gaps[*]}" "${disks[*]}"
  done
done

echo "== ratios (medians)"
first=${sizes[0]}
for size in "${sizes[@]}"; do
  if [[ -n ${res[$size,local]:-} ]]; then
    awk -v a="${res[$size,local]}" -v b="${res[$size,par]}" -v s="$size" \
      'BEGIN { printf "%6d MiB  local start / parallel cp -a: %.2f (goal <= 1.0)\n", s, a / b }'
  fi
  for d in donor donor-plain; do
    if [[ -n ${res[$size,$d,rp]:-} ]]; then
      awk -v a="${res[$size,$d,rp]}" -v b="${res[$size,one]}" -v n=${#hosts[@]} -v s="$size" -v d="$d" \
        'BEGIN { printf "%6d MiB  %s restore point / ((nodes - 1) x one cp -a): %.2f (goal <= 1.3)\n", s, d, a / ((n - 1) * b) }'
    fi
  done
  if [[ -n ${res[$size,reflink]:-} && $size != "$first" ]]; then
    awk -v a="${res[$size,reflink]}" -v b="${res[$first,reflink]}" -v s="$size" -v f="$first" \
      'BEGIN { printf "%6d MiB  reflink start / reflink start at %d MiB: %.2f (goal <= 1.2)\n", s, f, a / b }'
  fi
done
[[ ${DROP:-1} == 0 ]] || "$top/bench/load.sh" "$lab_dir" drop
