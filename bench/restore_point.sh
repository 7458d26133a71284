#!/usr/bin/env bash
# The restore point against a plain copy, on a running lab loaded with MIB MiB per node:
#   bench/restore_point.sh [LAB_DIR] [MIB]   (default build/lab, 1024)
# Loads MIB MiB into production (it replicates to every standby node), then in one run measures
# a parallel `cp -a` (+ sync) of the three standby datadirs and one node's alone, and a drill in
# each strategy (start, stop, start's restore-point phase), and prints the ratios the goals are
# stated in: local start / parallel cp -a (goal <= 1.0); donor restore-point phase /
# ((nodes - 1) x one node's cp -a) (goal <= 1.3), the donor drill once as configured (clone_ssl
# = auto keeps TLS, the lab's 9.7 replication channels using it) and once with clone_ssl = off
# (REQUIRE NO SSL). Drops the loaded data at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${1:-${LAB_DIR:-$top/build/lab}}
mib=${2:-1024}
export LAB_DIR=$lab_dir
# shellcheck disable=SC1091
source "$lab_dir/env"
lab() { "$top/tests/lab/lab" "$@"; }
q() { lab sql "$1" "$2" | tail -n +2; }
tnet=${TI%:*}; tnet=${tnet%.*}
hosts=("$tnet.1" "$tnet.2" "$tnet.3")

echo "loading $mib MiB into production (64 MiB per transaction)..."
"$top/bench/load.sh" "$lab_dir" drop
"$top/bench/load.sh" "$lab_dir" "$mib"
# The lab's default layout: /data/mysqldata/<instance>/dbdata.
dd='$(ls -d /data/*/*/dbdata | head -1)'
for h in "${hosts[@]}"; do echo "$h datadir: $(lab ssh "$h" "du -sh $dd | cut -f1")"; done

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
copy() { # HOST: cp -a of its datadir next to it, synced, then removed
  lab ssh "$1" "d=$dd; cp -a \"\$d\" \"\$d.benchcopy\" && sync && rm -rf \"\$d.benchcopy\""
}
# Every measured copy and drill starts from a cold page cache, or the one measured later would
# read what the one before left in memory.
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
cold; t0=$(date +%s%N); for h in "${hosts[@]}"; do copy "$h" & done; wait; par_ms=$(ms "$t0")
cold; t0=$(date +%s%N); copy "${hosts[1]}"; one_ms=$(ms "$t0")
echo "parallel cp -a of ${#hosts[@]} datadirs: $(secs "$par_ms") s; one node's cp -a: $(secs "$one_ms") s"

declare -A start stop rp
for s in local donor donor-plain; do
  set_=""; [[ $s == donor-plain ]] && set_="site.clone_ssl=off"
  cold; line=$(STRATEGY=${s%-plain} SETTINGS=$set_ "$top/bench/drill.sh" "$lab_dir" | tail -1); echo "$line"
  start[$s]=$(awk '{print $4}' <<<"$line"); stop[$s]=$(awk '{print $7}' <<<"$line"); rp[$s]=$(awk '{print $11}' <<<"$line")
done
awk -v ls="${start[local]}" -v par="$par_ms" -v drp="${rp[donor]}" -v drq="${rp[donor-plain]}" -v one="$one_ms" -v n=${#hosts[@]} 'BEGIN {
  printf "local start / parallel cp -a: %.2f (goal <= 1.0)\n", ls * 1000 / par
  printf "donor restore point / ((nodes-1) x one cp -a): %.2f as configured, %.2f with clone_ssl=off (goal <= 1.3)\n",
    drp * 1000 / ((n - 1) * one), drq * 1000 / ((n - 1) * one) }'
"$top/bench/load.sh" "$lab_dir" drop
