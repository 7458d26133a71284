#!/usr/bin/env bash
# End-to-end drill on a running lab (LAB_DIR): checks data, not log lines.
#   drill.sh main      verify → start → drill writes (standby) + production writes → stop; then
#                      checksums equal, drill objects gone, replication runs, journal empty.
#   drill.sh dryrun    dry-run of verify/start/stop changes nothing (GTIDs, files, journal).
#   drill.sh resume    start killed mid-way, re-run; a side instance killed during the drill;
#                      stop killed mid-way, re-run; data checked as in main.
#   drill.sh killpoints  start and stop each killed just after a router statement or a clone,
#                      re-run; three drills, each checked as in main.
#   drill.sh lost      a side instance destroyed during the drill: stop rebuilds it from the donor.
#   drill.sh errant    verify refuses (exit 3) a standby carrying a GTID production lacks, and
#                      a standby node whose side-instance port is taken, or without the memory
#                      a side instance needs; warns of semi-sync fallen back to async, refuses a
#                      disabled node, another router account, enable-disaster-mode off.
# Every drill ends with both routers holding what they held before start (router_state).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FLASHRUN:-$top/build/flashrun}
: "${LAB_DIR:?LAB_DIR must name a running lab}"
# A failed case may leave the lab mid-drill: the next case starts on a fresh lab, so one failure
# is reported once instead of in every case after it.
broken=$LAB_DIR.failed
if [[ -e $broken ]]; then
  echo "a previous case failed ($(cat "$broken")): rebuilding the lab"
  "$top/tests/e2e/fresh-lab.sh" >/dev/null || { echo "FAIL: rebuilding the lab" >&2; exit 1; }
  rm -f "$broken"
fi
trap 'rc=$?; [[ $rc == 0 ]] || echo "${1:-main}" >"$broken"' EXIT
# shellcheck disable=SC1091
source "$LAB_DIR/env"
# shellcheck disable=SC1091
source "$LAB_DIR/secrets.env"   # LAB_MYSQL_PASSWORD: to prove no output ever shows it
lab() { "$top/tests/lab/lab" "$@"; }
state=$LAB_DIR/e2e-state; mkdir -p "$state"
fail() { echo "FAIL: $*" >&2; exit 1; }
conf=$LAB_DIR/flashback.ini
droot=${LAB_DATA_ROOT:-/data/mysqldata}
out=$LAB_DIR/e2e-flashrun.out   # everything flashrun printed, searched for passwords at the end
extra=()                        # options every run gets (a case may add settings)
launcher=mysqld                 # what side instances must run under (site.side_launcher)
fr() {
  local p=$1; shift
  "$bin" "$top/plans/$p.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" "$@" 2>&1 | tee -a "$out"
}
no_password_shown() {
  local pw f
  for pw in "$LAB_MYSQL_PASSWORD" "$LAB_SYS_PASSWORD"; do
    for f in "$out" "$state"/*; do
      [[ -f $f ]] || continue
      ! grep -q -F -- "$pw" "$f" || fail "$f shows a password"
    done
  done
}
q() { lab sql "$1" "$2" | tail -n +2; }          # rows without header
SRC=${SI%:*}; TGT=${TI%:*}; snet=${SRC%.*}; tnet=${TGT%.*}
tnodes=("$tnet.1:3308" "$tnet.2:3308" "$tnet.3:3308")
smaster() { q "$SI" "SELECT @@hostname" >/dev/null; echo "$SI"; }

# What a drill must leave on both routers as it found it: dataservers (names, hosts, ports,
# users), datasources (names, types, members, host info, SlaveDBScale) and every option's value.
# Statuses and times move by themselves: columns named *status / *Time are left out.
router_state() {
  local r stmt sql=""
  # One client per router: each result set is announced by a one-row SELECT of its name.
  for stmt in "dbscale show dataservers" "dbscale show datasource type=replication" \
              "dbscale show datasource type=server" "dbscale show options"; do
    sql+="SELECT '$stmt' AS section_; $stmt; "
  done
  for r in "$SI" "$TI"; do
    lab sql "$r" "$sql" | awk -F'\t' -v r="$r" '
      $0 == "section_" { getline sec; hdr = 1; print r " " sec " (" ++n ")"; next }
      hdr { for (i = 1; i <= NF; i++) keep[i] = $i !~ /([Ss]tatus|Time)$/; hdr = 0; next }
      { line = r " " sec ": "; for (i = 1; i <= NF; i++) if (keep[i]) line = line $i "|"; print line }' | sort
  done
}
routers_before=""
same_routers() { # WHEN: the routers hold what router_state recorded in seed
  local now; now=$(router_state)
  [[ $now == "$routers_before" ]] || { diff <(echo "$routers_before") <(echo "$now"); fail "$1: the routers do not hold what they held before start"; }
}

seed() {
  routers_before=$(router_state)
  [[ $routers_before == *slave_dbscale_source* ]] || fail "router_state shows no slave_dbscale_source: $routers_before"
  q "$SI" "CREATE DATABASE IF NOT EXISTS app; DROP TABLE IF EXISTS app.t; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO app.t VALUES (1,'a'),(2,'b'),(3,'c')" || fail "seeding the source"
}

# CHECKSUM of every user table on HOST:PORT, sorted.
checksums() {
  local tables
  tables=$(q "$1" "SELECT CONCAT(TABLE_SCHEMA,'.',TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql','sys','information_schema','performance_schema') AND TABLE_TYPE='BASE TABLE' ORDER BY 1" | tr '\n' ',' | sed 's/,$//')
  [[ -n $tables ]] || return 0
  q "$1" "CHECKSUM TABLE $tables" | sort
}

rstatus() { # HOST:PORT COLUMN -> value from SHOW REPLICA STATUS (tab-separated with header)
  lab sql "$1" "SHOW REPLICA STATUS" | awk -F'\t' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} NR==2{print $k}'
}

wait_synced() { # every standby node has the source's GTID set
  local want n got i
  want=$(q "$SI" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
  for n in "${tnodes[@]}"; do
    for ((i = 0; i < 100; i++)); do
      got=$(q "$n" "SELECT GTID_SUBSET('$want', @@GLOBAL.gtid_executed)" | tr -d '\n')
      [[ $got == 1 ]] && break; sleep 0.3
    done
    [[ $got == 1 ]] || fail "$n did not catch up with the source"
  done
}

check_restored() {
  wait_synced
  local src n
  src=$(checksums "$SI")
  for n in "${tnodes[@]}"; do
    [[ $(checksums "$n") == "$src" ]] || { diff <(echo "$src") <(checksums "$n"); fail "$n table checksums differ from the source"; }
    [[ $(q "$n" "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='drill'") == 0 ]] || fail "drill schema left on $n"
    [[ $(q "$n" "SELECT v FROM app.t WHERE id=1") == "$1" ]] || fail "$n: app.t row 1 is not '$1'"
    local io sq
    io=$(rstatus "$n" Replica_IO_Running); sq=$(rstatus "$n" Replica_SQL_Running)
    [[ $io == Yes && $sq == Yes ]] || fail "$n replication not running (io=$io sql=$sq)"
  done
  [[ $(q "$SI" "dbscale show dataservers" | grep -c slave_dbscale_server) == 1 ]] || fail "standby not registered on the source router"
  same_routers "after stop"
  if [[ -s $state/redo.json ]] && grep -q '"sites"' "$state/redo.json"; then fail "journal still holds the drill"; fi
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    [[ -z $(lab ssh "$h" "ls -d $droot/*/flashback_side $droot/*/*.flashback_bak 2>/dev/null") ]] || fail "$h: side or backup dirs left"
  done
}

drill_writes() {
  q "$TI" "CREATE DATABASE drill; CREATE TABLE drill.x (id INT PRIMARY KEY); INSERT INTO drill.x VALUES (1),(2); UPDATE app.t SET v='drill' WHERE id=1; DELETE FROM app.t WHERE id=2; ALTER TABLE app.t ADD COLUMN extra INT" || fail "drill writes through the standby router"
  [[ $(q "$TI" "SELECT COUNT(*) FROM drill.x") == 2 ]] || fail "drill writes not visible"
  q "$SI" "UPDATE app.t SET v='prod-during-drill' WHERE id=1; REPLACE INTO app.t VALUES (10,'prod')" || fail "production writes during the drill"
}

timed() {
  local t0 t1 rc; t0=$(date +%s%N); "$@"; rc=$?; t1=$(date +%s%N)
  printf 'wall time of %s: %d.%03d s\n' "$2" $(((t1 - t0) / 1000000000)) $((((t1 - t0) / 1000000) % 1000))
  return $rc
}

# What a dry-run must leave alone: GTID sets, router state, files under the data roots, and the
# journal (the state dir's lock file is flashrun's own coordination, not state).
snap() {
  local n h
  for n in "$SI" "${tnodes[@]}"; do q "$n" "SELECT @@GLOBAL.gtid_executed"; done
  q "$SI" "dbscale show dataservers"; q "$TI" "dbscale show dataservers"
  q "$TI" "dbscale show options"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do lab ssh "$h" "find $droot -maxdepth 3 ! -path '*/dbdata/*' -printf '%p %s\\n' | grep -v -e '/tmp/' -e '\\.err ' -e '/logfile/' | sort"; done
  ls -la "$state" 2>/dev/null | grep -v -e ' \.\.\?$' -e ' flashrun.lock$' | awk '{print $5, $NF}'
  [[ -f $state/redo.json ]] && sha256sum "$state/redo.json"
}

# The general log of every node, so a dry-run can prove no write statement reached a server.
all_nodes() { echo "$snet.1:3308" "$snet.2:3308" "$snet.3:3308" "${tnodes[@]}"; }
declare -A log_since
general_log_on() {
  local n
  for n in $(all_nodes); do
    log_since[$n]=$(q "$n" "SELECT NOW(6)") || fail "reading the clock of $n"
    q "$n" "SET GLOBAL log_output='TABLE'; SET GLOBAL general_log=ON" || fail "enabling the general log on $n"
  done
}
# Fails naming every write statement the general logs recorded since general_log_on.
general_log_no_writes() {
  local n writes=""
  for n in $(all_nodes); do q "$n" "SET GLOBAL general_log=OFF" >/dev/null; done
  for n in $(all_nodes); do
    writes+=$(q "$n" "SELECT argument FROM mysql.general_log WHERE command_type='Query' AND event_time >= '${log_since[$n]}'" |
      grep -v -i -e '^SET GLOBAL general_log' -e '^SET GLOBAL log_output' |
      grep -i -E '^[[:space:]]*(/\*.*\*/)?[[:space:]]*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE|RENAME|GRANT|REVOKE|SET[[:space:]]+(GLOBAL|PERSIST|@@GLOBAL)|STOP|START|CHANGE|RESET|CLONE|INSTALL|UNINSTALL|SHUTDOWN|RESTART|KILL|FLUSH|PURGE|LOAD|LOCK)' |
      sed "s|^|$n: |")
  done
  [[ -z $writes ]] || { echo "$writes"; fail "a dry-run sent write statements"; }
}

side_runs_under() { # LAUNCHER: the side instance on the standby master runs under it
  local procs
  procs=$(lab ssh "$tnet.1" 'for f in $(grep -l -z -F -- /flashback_side/my.cnf /proc/[0-9]*/cmdline 2>/dev/null); do tr "\0" " " <"$f" 2>/dev/null; echo; done')
  case $1 in
    mysqld_safe) grep -q '/mysqld_safe ' <<<"$procs" || { echo "$procs"; fail "the side instance does not run under mysqld_safe"; } ;;
    mysqld) grep -q -- '--daemonize' <<<"$procs" && ! grep -q '/mysqld_safe ' <<<"$procs" ||
              { echo "$procs"; fail "the side instance was not started by mysqld --daemonize"; } ;;
  esac
}

kill_side_instance() { # HOST: SIGKILL its side instance's mysqld and wait until it is gone
  local pid
  pid=$(lab ssh "$1" "cat $droot/*/flashback_side/mysqld.pid") || fail "no side instance on $1"
  lab ssh "$1" "kill -9 $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done" || fail "killing the side instance on $1"
}

killed_after() { # SECONDS PLAN: run PLAN and SIGKILL it after SECONDS
  ( exec "$bin" "$top/plans/$2.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" >>"$out" 2>&1 ) &
  local pid=$!
  sleep "$1"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "killed $2 after $1 s"
}

killed_when() { # PATTERN PLAN: run PLAN (-v) and SIGKILL it as soon as its output matches PATTERN
  local log=$LAB_DIR/killed-$2.out pid i
  ( exec "$bin" "$top/plans/$2.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" -v >"$log" 2>&1 ) &
  pid=$!
  for ((i = 0; i < 2400; i++)); do
    grep -q -- "$1" "$log" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  cat "$log" >>"$out"
  grep -q -- "$1" "$log" || fail "$2 ended without printing '$1'"
  echo "killed $2 when it printed '$1'"
}

drill_main() {
  seed; wait_synced
  fr verify || fail "verify"
  timed fr start || fail "start"
  [[ $(q "$TI" "SELECT 1") == 1 ]] || fail "standby router"
  side_runs_under "$launcher"
  fr start >"$LAB_DIR/second-start.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "a drill is open since" "$LAB_DIR/second-start.out" || fail "a second start during the drill: exit $rc, expected a refusal (3)"
  drill_writes
  # stop rehearsed in the middle of a real drill: it reads the journal start wrote, changes nothing
  before=$(snap); general_log_on
  fr stop --dry-run >"$LAB_DIR/stop-dry-run.out" || fail "stop --dry-run during the drill"
  general_log_no_writes; after=$(snap)
  [[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after"); fail "stop --dry-run changed something"; }
  grep -q 'nohup setsid .*mysqld_safe' "$LAB_DIR/stop-dry-run.out" || fail "stop --dry-run did not show the restart commands"
  grep -q "^DRY-RUN sql $SI: dbscale dynamic add slave slave_dbscale_source to ${LAB_DATASOURCE:-normal_0}\$" "$LAB_DIR/stop-dry-run.out" ||
    fail "stop --dry-run did not show the standby re-attached to ${LAB_DATASOURCE:-normal_0}"
  timed fr stop || fail "stop"
  check_restored prod-during-drill
}

case ${1:-main} in
main)
  drill_main
  no_password_shown
  echo "e2e main: ok" ;;
layout)
  # A site laid out unlike the defaults (the lab's LAB_DATA_ROOT, LAB_BASEDIR, LAB_CONF_NAME,
  # users and passwords), with no [site] settings at all: everything is derived from the servers.
  conf=$LAB_DIR/flashback-nosite.ini
  sed '/^\[site\]/,$d' "$LAB_DIR/flashback.ini" >"$conf"; chmod 600 "$conf"
  ! grep -q '^\[site\]' "$conf" || fail "the [site] section is still there"
  # The one setting given: side instances run under mysqld_safe, like the nodes.
  extra=(--set side_launcher=mysqld_safe); launcher=mysqld_safe
  drill_main
  no_password_shown
  echo "e2e layout: ok" ;;
dryrun)
  seed; wait_synced
  before=$(snap); general_log_on
  fr verify --dry-run || fail "verify --dry-run"
  fr start --dry-run >"$LAB_DIR/start-dry-run.out" || fail "start --dry-run"
  fr stop --dry-run; rc=$?; [[ $rc == 3 ]] || fail "stop --dry-run with no drill started: exit $rc, expected 3"
  general_log_no_writes; after=$(snap)
  grep -q '^DRY-RUN sql .*CLONE INSTANCE' "$LAB_DIR/start-dry-run.out" || fail "start --dry-run did not show the clone"
  ! grep -q -F -- "$LAB_MYSQL_PASSWORD" "$LAB_DIR/start-dry-run.out" || fail "start --dry-run printed the MySQL password"
  [[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after"); fail "dry-run changed something"; }
  no_password_shown
  echo "e2e dryrun: ok" ;;
resume)
  seed; wait_synced
  extra=(--set progress_interval=0.1)   # the lab's clones take a fraction of a second
  killed_after "${KILL_AFTER:-4}" start
  fr start || fail "re-run of start after kill"
  grep -q "cloning for [0-9]* s: [0-9.]* [MG]iB of ~[0-9.]* [MG]iB ([0-9]*%)" "$out" || fail "no clone progress reported"
  drill_writes
  # a side instance dies during the drill (nothing supervises it): stop starts it again
  kill_side_instance "$tnet.1"
  # stop killed in the middle of the swap: data moved, the nodes still starting when the re-run
  # begins (it must wait for them, not start a second server on the same data)
  killed_when "nohup setsid .*mysqld_safe" stop
  grep -q "$tnet.1:3308: the side instance is not running; starting it" "$out" || fail "stop did not start the dead side instance"

  fr stop || fail "re-run of stop after kill"
  grep -q "is still starting (an interrupted run started it); waiting until it is up" "$out" ||
    fail "the re-run of stop did not wait for the nodes the killed run was starting"
  check_restored prod-during-drill
  no_password_shown
  echo "e2e resume: ok" ;;
killpoints)
  # Killed (SIGKILL) just after a router statement or a clone, then re-run; one drill per pair of
  # kill points (start's, stop's), each checked on the data.
  for pair in "dynamic remove datasource|dynamic add dataserver" \
              "disable dataserver|dynamic add server datasource" \
              "CLONE INSTANCE|enable dataserver"; do
    seed; wait_synced
    killed_when "${pair%%|*}" start
    fr start >/dev/null || fail "re-run of start after a kill at '${pair%%|*}'"
    drill_writes
    killed_when "${pair#*|}" stop
    fr stop >/dev/null || fail "re-run of stop after a kill at '${pair#*|}'"
    check_restored prod-during-drill
  done
  no_password_shown
  echo "e2e killpoints: ok" ;;
lost)
  # A side instance's data is destroyed during the drill: stop clones it again from the donor,
  # which was frozen at the restore point all along, and the drill still ends restored.
  seed; wait_synced
  fr start || fail "start"
  drill_writes
  victim=$tnet.1   # the standby master always hosts a side instance
  kill_side_instance "$victim"
  lab ssh "$victim" "rm -rf $droot/*/flashback_side/dbdata" || fail "destroying the side instance's data on $victim"
  fr stop >"$LAB_DIR/stop-lost.out" || { tail -20 "$LAB_DIR/stop-lost.out"; fail "stop after a side instance was lost"; }
  grep -q "$victim:3308: side instance does not answer; rebuilding it from donor" "$LAB_DIR/stop-lost.out" ||
    fail "stop did not say it rebuilt the lost side instance"
  check_restored prod-during-drill
  no_password_shown
  echo "e2e lost: ok" ;;
rollback)
  # start interrupted (SIGINT), then failing while building the restore point (side instances
  # get 1 s to answer): the automatic rollback must leave the standby exactly as verify wants it.
  seed; wait_synced
  # Ctrl-C while start builds the restore point: it stops at the next wait and rolls back.
  ( exec "$bin" "$top/plans/start.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" >"$LAB_DIR/start-sigint.out" 2>&1 ) &
  pid=$!
  for ((i = 0; i < 200; i++)); do grep -q "Step 07/08" "$LAB_DIR/start-sigint.out" && break; sleep 0.1; done
  sleep 1; kill -INT $pid; wait $pid; rc=$?; cat "$LAB_DIR/start-sigint.out" >>"$out"
  [[ $rc == 130 ]] && grep -q "rollback complete" "$LAB_DIR/start-sigint.out" ||
    { tail -20 "$LAB_DIR/start-sigint.out"; fail "start interrupted by SIGINT: exit $rc, expected 130 after a complete rollback"; }
  fr verify >/dev/null || fail "verify after the interrupted start"
  fr start --set site.start_timeout=1; rc=$?
  [[ $rc == 1 ]] || fail "start with an impossible timeout: exit $rc, expected 1"
  [[ $(q "$SI" "dbscale show dataservers" | grep -c slave_dbscale_server) == 1 ]] || fail "rollback did not re-register the standby"
  [[ $(q "$TI" "dbscale show dataservers" | grep -c -E 'disabled|down|abnormal') == 0 ]] || fail "rollback left a standby dataserver out of service"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    [[ -z $(lab ssh "$h" "ls -d $droot/*/flashback_side 2>/dev/null") ]] || fail "$h: rollback left a side instance"
  done
  same_routers "after the rollbacks"
  fr stop >"$LAB_DIR/stop-after-rollback.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "records no drill" "$LAB_DIR/stop-after-rollback.out" ||
    fail "stop after a rolled-back start: exit $rc, expected a refusal (3): nothing to stop"
  q "$SI" "REPLACE INTO app.t VALUES (11,'after-rollback')" || fail "writing on production"
  wait_synced
  fr verify || fail "verify after the rollback"
  no_password_shown
  echo "e2e rollback: ok" ;;
errant)
  seed; wait_synced
  j="${tnodes[1]}"
  q "$j" "SET GLOBAL super_read_only=0; CREATE DATABASE IF NOT EXISTS errant_e2e; SET GLOBAL super_read_only=1" || fail "injecting an errant GTID"
  fr verify; rc=$?
  # Make it harmless again: drop the object, then production gets an empty transaction with each
  # errant GTID (both the create and the drop).
  q "$j" "SET GLOBAL super_read_only=0; DROP DATABASE IF EXISTS errant_e2e; SET GLOBAL super_read_only=1" >/dev/null
  uuid=$(q "$j" "SELECT @@server_uuid")
  errant=$(q "$j" "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, '$(q "$SI" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')')" | tr -d '\n')
  for g in $(echo "$errant" | tr ',' '\n' | sed -n "s/^$uuid:\(.*\)/\1/p" | tr ':' '\n'); do
    a=${g%-*}; b=${g#*-}
    for ((x = a; x <= b; x++)); do q "$SI" "SET gtid_next='$uuid:$x'; BEGIN; COMMIT; SET gtid_next='AUTOMATIC'"; done
  done
  [[ $rc == 3 ]] || fail "verify exit $rc on an errant GTID, expected 3"
  # Router statuses: semi-sync fallen back to async on production's master is a warning, a
  # standby node left disabled is refused, named (the emulator's status knob).
  smname=$(q "$SI" "dbscale show dataservers" | awk -F'\t' '$6 == "Master_Online" { print $1 }')
  tjname=$(q "$TI" "dbscale show dataservers" | awk -F'\t' -v h="$tnet.3" '$2 == h { print $1 }')
  [[ -n $smname && -n $tjname ]] || fail "dataserver names not found on the routers"
  lab router-status src "$smname" 'Server normal, semisync down'
  lab router-status tgt "$tjname" 'server disabled'
  fr verify >"$LAB_DIR/verify-status.out"; rc=$?
  lab router-status src "$smname"; lab router-status tgt "$tjname"
  [[ $rc == 3 ]] && grep -q "warn  source dataserver $smname ($snet.1:3308): semi-sync fell back to async (status 'Server normal, semisync down')" "$LAB_DIR/verify-status.out" &&
    ! grep -q "FAIL  source dataserver" "$LAB_DIR/verify-status.out" &&
    grep -q "FAIL  target dataserver $tjname ($tnet.3:3308) is disabled (status 'server disabled')" "$LAB_DIR/verify-status.out" ||
    fail "verify with a semi-sync fallback and a disabled node: exit $rc, expected a warning for $smname and a refusal naming $tjname"
  # Another router account than the registered one, and enable-disaster-mode off: both refused.
  q "$TI" "dbscale set global 'enable-disaster-mode' = 0" >/dev/null
  fr verify --set target.router_user=not_registered >"$LAB_DIR/verify-routers.out"; rc=$?
  q "$TI" "dbscale set global 'enable-disaster-mode' = 1" >/dev/null
  [[ $rc == 3 ]] && grep -q "FAIL  slave_dbscale_server is registered with user '$LAB_MYSQL_USER' but target.router_user is 'not_registered'" "$LAB_DIR/verify-routers.out" &&
    grep -q "FAIL  enable-disaster-mode is off on the standby router $TI" "$LAB_DIR/verify-routers.out" ||
    fail "verify with another router account and enable-disaster-mode off: exit $rc, expected both refused"
  # Something else listens on a standby node's side port: verify says so (the lab's hosts share
  # one network namespace, so a listener started here is on that host's address).
  perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => $ARGV[0], LocalPort => 18000, Listen => 1, ReuseAddr => 1) or die "listen: $!\n"; sleep 60' "$tnet.3" &
  listener=$!; sleep 0.5
  fr verify >"$LAB_DIR/verify-port.out"; rc=$?
  kill $listener; wait $listener 2>/dev/null
  [[ $rc == 3 ]] && grep -q "FAIL  target/$tnet.3:3308: side instance port 18000 is taken: something listens on it" "$LAB_DIR/verify-port.out" ||
    fail "verify with the side port taken on $tnet.3: exit $rc, expected a refusal naming the port"
  fr verify >/dev/null || fail "verify once the port is free again"
  # A side instance the standby hosts could not hold in memory (a 64 TB margin here).
  fr verify --set memory_margin_mb=67108864 >"$LAB_DIR/verify-memory.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "FAIL  target/$tnet.1:3308: [0-9]* MB of memory available for a side instance (buffer pool 128M + 67108864 MB margin)" "$LAB_DIR/verify-memory.out" ||
    fail "verify with too little memory for a side instance: exit $rc, expected a refusal naming the memory"
  # A site setting that does not fit the standby's layout: verify names it for every node.
  fr verify --set site.data_root=/srv/elsewhere >"$LAB_DIR/verify-layout.out"; rc=$?
  [[ $rc == 3 ]] && [[ $(grep -c "FAIL  target/$tnet.[123]:3308: side dir .* is not under the data root /srv/elsewhere" "$LAB_DIR/verify-layout.out") == 3 ]] ||
    fail "verify with a data root that holds no node: exit $rc, expected a refusal for each standby node"
  # A file the master's option file includes points a path at the master's own logs: verify
  # and start refuse, naming it, before any side instance runs on it.
  inst=$(q "${tnodes[0]}" "SELECT @@datadir" | sed 's:/*$::'); inst=${inst%/*}
  nconf=$(lab ssh "$tnet.1" "ls $inst/*.conf $inst/*.cnf 2>/dev/null | head -1")
  [[ -n $nconf ]] || fail "no option file in $inst on $tnet.1"
  lab ssh "$tnet.1" "printf '[mysqld]\ngeneral_log_file = $inst/logfile/general.log\n' >$inst/extra.cnf && cp -p $nconf $nconf.e2e-orig && echo '!include $inst/extra.cnf' >>$nconf" ||
    fail "adding an include to $nconf"
  fr verify >"$LAB_DIR/verify-include.out"; vrc=$?
  fr start >"$LAB_DIR/start-include.out"; rc=$?
  lab ssh "$tnet.1" "mv $nconf.e2e-orig $nconf && rm -f $inst/extra.cnf" || fail "restoring $nconf"
  why="the side instance would still use the node's files: general_log_file=$inst/logfile/general.log"
  [[ $vrc == 3 ]] && grep -q "FAIL  target/$tnet.1:3308: $why" "$LAB_DIR/verify-include.out" ||
    fail "verify with an include naming the node's files: exit $vrc, expected a refusal naming the option"
  [[ $rc == 3 ]] && grep -q "$why" "$LAB_DIR/start-include.out" ||
    fail "start with an include naming the node's files: exit $rc, expected a refusal naming the option"
  fr verify >/dev/null || fail "verify once the include is gone"
  # A standby host answering with another host's key (each lab host has its own): refused.
  kh=$LAB_DIR/ssh/known_hosts; forged=$LAB_DIR/known_hosts.forged
  k2=$(grep -F "[$tnet.2]:" "$kh" | cut -d' ' -f2,3)
  [[ -n $k2 ]] || fail "no known_hosts entry for $tnet.2"
  awk -v h="[$tnet.3]:" -v k="$k2" 'index($1, h) == 1 { $0 = $1 " " k } { print }' "$kh" >"$forged"
  fr verify --set target.known_hosts="$forged" >"$LAB_DIR/verify-hostkey.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "$tnet.3.*does not match the one recorded for \[$tnet.3\]" "$LAB_DIR/verify-hostkey.out" ||
    fail "verify with a wrong host key for $tnet.3: exit $rc, expected a refusal naming the mismatch"
  ! grep -q "does not match the one recorded for \[$tnet.[12]\]" "$LAB_DIR/verify-hostkey.out" ||
    fail "verify refused a host whose key is right"
  no_password_shown
  echo "e2e errant: ok" ;;
*) fail "unknown case $1" ;;
esac
