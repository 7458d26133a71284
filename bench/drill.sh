#!/usr/bin/env bash
# Wall time of start, stop and start's restore-point phase on a running lab:
#   [RUNS=N] [STRATEGY=local|donor] [SETTINGS="site.k=v ..."] [TLS_COMPARE=1] bench/drill.sh [LAB_DIR]
#   (default build/lab, strategy local; SETTINGS: more --set arguments for both plans)
# TLS_COMPARE=1, on a LAB_TLS=1 lab: each run drills twice, with the lab's ssl_mode =
# verify_identity and with ssl_mode = disabled (the nodes allowing plain connections for that
# drill: require_secure_transport OFF and the lab account REQUIRE NONE, unlogged, put back after),
# and prints the mean of each and the ratio: what TLS costs flashrun's own connections.
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
if [[ ${TLS_COMPARE:-0} == 1 ]]; then
  [[ ${LAB_TLS:-0} == 1 ]] || { echo "TLS_COMPARE=1 needs a LAB_TLS=1 lab" >&2; exit 2; }
  # shellcheck disable=SC1091
  source "$lab_dir/secrets.env"
  labq() { LAB_DIR=$lab_dir "$top/tests/lab/lab" sql "$@" >/dev/null; }
  user=$(printf '%s' "$LAB_MYSQL_USER" | LAB_DIR=$lab_dir "$top/tests/lab/lab" quote sql)
  nodes_plain() { # on: plain connections allowed; off: as the lab made them
    local h req=SSL rst=ON from=OFF
    [[ $1 == on ]] && req=NONE rst=OFF from=ON
    for h in src1 src2 src3 tgt1 tgt2 tgt3; do
      # in the option file too: stop restarts the standby nodes, which read it
      LAB_DIR=$lab_dir "$top/tests/lab/lab" ssh "$h" \
        "sed -i 's/^require_secure_transport = $from\$/require_secure_transport = $rst/' $LAB_DATA_ROOT/*/my*.conf"
      # (replicas run super_read_only: lifted for the statement, put back; read_only stays)
      labq "$h" "SET @sro = @@GLOBAL.super_read_only; SET GLOBAL super_read_only = 0; SET sql_log_bin = 0;
                 ALTER USER $user@'%' REQUIRE $req; SET sql_log_bin = 1; SET GLOBAL require_secure_transport = $rst;
                 SET GLOBAL super_read_only = @sro"
    done
  }
  trap 'nodes_plain off; rm -rf "$state"' EXIT
  base=("${sets[@]}")
  declare -A tot_start=() tot_stop=()
  for ((i = 1; i <= ${RUNS:-1}; i++)); do
    for mode in verify_identity disabled; do
      sets=("${base[@]}")
      if [[ $mode == disabled ]]; then
        nodes_plain on; sets+=(--set source.ssl_mode=disabled --set target.ssl_mode=disabled)
      fi
      rm -f "$state"/*.json
      t0=$(date +%s%N); run start; start_ms=$(ms "$t0")
      t0=$(date +%s%N); run stop; stop_ms=$(ms "$t0")
      [[ $mode == disabled ]] && nodes_plain off
      tot_start[$mode]=$((${tot_start[$mode]:-0} + start_ms)); tot_stop[$mode]=$((${tot_stop[$mode]:-0} + stop_ms))
      printf 'run %d  ssl_mode %-15s  start %s s  stop %s s\n' "$i" "$mode" "$(secs "$start_ms")" "$(secs "$stop_ms")"
    done
  done
  n=${RUNS:-1}
  for mode in verify_identity disabled; do
    printf 'mean  ssl_mode %-15s  start %s s  stop %s s  (%d runs, strategy %s)\n' "$mode" "$(secs $((tot_start[$mode] / n)))" \
      "$(secs $((tot_stop[$mode] / n)))" "$n" "$strategy"
  done
  awk -v a="${tot_start[verify_identity]}" -v b="${tot_start[disabled]}" -v c="${tot_stop[verify_identity]}" -v d="${tot_stop[disabled]}" \
    'BEGIN { printf "TLS cost: start %.2f x, stop %.2f x, start+stop %.2f x (verify_identity / disabled)\n", a / b, c / d, (a + c) / (b + d) }'
  exit 0
fi
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
