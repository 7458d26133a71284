#!/usr/bin/env bash
# The restore point against a plain copy, on a running lab loaded with MIB MiB per node:
#   bench/restore_point.sh [LAB_DIR] [MIB]   (default build/lab, 1024)
# Loads MIB MiB into production (it replicates to every standby node), then in one run measures
# a parallel `cp -a` (+ sync) of the three standby datadirs and one node's alone, and a drill in
# each strategy (start, stop, start's restore-point phase), and prints the ratios the goals are
# stated in: local start / parallel cp -a (goal <= 1.0); donor restore-point phase /
# ((nodes - 1) x one node's cp -a) (goal <= 1.3). Drops the loaded data at the end.
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
q "$SI" "CREATE DATABASE IF NOT EXISTS bench; DROP TABLE IF EXISTS bench.blob; CREATE TABLE bench.blob (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)"
for ((m = 0; m < mib; m += 64)); do
  q "$SI" "INSERT INTO bench.blob (b) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 64) SELECT REPEAT(MD5(RAND()), 32768) FROM s"
done
want=$(q "$SI" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
for h in "${hosts[@]}"; do
  until [[ $(q "$h:3308" "SELECT GTID_SUBSET('$want', @@GLOBAL.gtid_executed)") == 1 ]]; do sleep 1; done
done
# The lab's default layout: /data/mysqldata/<instance>/dbdata.
dd='$(ls -d /data/*/*/dbdata | head -1)'
for h in "${hosts[@]}"; do echo "$h datadir: $(lab ssh "$h" "du -sh $dd | cut -f1")"; done

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
copy() { # HOST: cp -a of its datadir next to it, synced, then removed
  lab ssh "$1" "d=$dd; cp -a \"\$d\" \"\$d.benchcopy\" && sync && rm -rf \"\$d.benchcopy\""
}
t0=$(date +%s%N); for h in "${hosts[@]}"; do copy "$h" & done; wait; par_ms=$(ms "$t0")
t0=$(date +%s%N); copy "${hosts[1]}"; one_ms=$(ms "$t0")
echo "parallel cp -a of ${#hosts[@]} datadirs: $(secs "$par_ms") s; one node's cp -a: $(secs "$one_ms") s"

declare -A start stop rp
for s in local donor; do
  line=$(STRATEGY=$s "$top/bench/drill.sh" "$lab_dir" | tail -1); echo "$line"
  start[$s]=$(awk '{print $4}' <<<"$line"); stop[$s]=$(awk '{print $7}' <<<"$line"); rp[$s]=$(awk '{print $11}' <<<"$line")
done
awk -v ls="${start[local]}" -v par="$par_ms" -v drp="${rp[donor]}" -v one="$one_ms" -v n=${#hosts[@]} 'BEGIN {
  printf "local start / parallel cp -a: %.2f (goal <= 1.0)\n", ls * 1000 / par
  printf "donor restore point / ((nodes-1) x one cp -a): %.2f (goal <= 1.3)\n", drp * 1000 / ((n - 1) * one) }'
q "$SI" "DROP DATABASE bench"
