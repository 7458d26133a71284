# tests/e2e/checks.sh — sourced by tests/e2e/drill.sh and bench/faults.sh: the lab's settings,
# the flashrun wrapper (fr) and the checks a drill's result must pass (check_restored: checksums
# against production, drill objects gone, replication running, journal empty, no restore point or
# backup directory left, routers and node variables as before). Needs top, bin and LAB_DIR set.
# shellcheck shell=bash disable=SC2154,SC2034  # top, bin come from, and some names are used by, the sourcing script
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
strategy=${E2E_STRATEGY:-local}
extra=(--set "site.restore_point=$strategy")   # options every run gets (a case may add settings)
cow=0   # the restore points are reflink copies: auto on an xfs/btrfs lab, or reflink itself
[[ $strategy == reflink || ($strategy == auto && ${LAB_FS:-dir} != dir) ]] && cow=1
# The statement a clone sends, or the copy a reflink restore point makes: where start is killed.
restore_point_write=CLONE; [[ $cow == 1 ]] && restore_point_write='cp -a --reflink=always'
fr() {
  local p=$1; shift
  "$bin" "$top/plans/$p.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" "$@" 2>&1 | tee -a "$out"
}
no_password_shown() {
  local pw f
  for pw in "$LAB_MYSQL_PASSWORD" "$LAB_SYS_PASSWORD" "${LAB_DBA_PASSPHRASE:-}"; do
    [[ -n $pw ]] || continue   # (a LAB_SECURE_SSH lab has no system password)
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
routers_now=""
same_routers() { # WHEN: the routers hold what router_state recorded in seed (kept in routers_now)
  routers_now=$(router_state)
  [[ $routers_now == "$routers_before" ]] || { diff <(echo "$routers_before") <(echo "$routers_now"); fail "$1: the routers do not hold what they held before start"; }
}

seed() {
  routers_before=$(router_state)
  [[ $routers_before == *slave_dbscale_source* ]] || fail "router_state shows no slave_dbscale_source: $routers_before"
  q "$SI" "CREATE DATABASE IF NOT EXISTS app; DROP TABLE IF EXISTS app.t; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO app.t VALUES (1,'a'),(2,'b'),(3,'c')" || fail "seeding the source"
}

# Several result sets from one client (each client costs a chroot and a mysql start, about a
# second on a loaded lab): SQL announces each section with SELECT 'NAME' AS section_; the rows
# come out as "NAME<TAB>row". (mysql -B prints no header for an empty result set.)
report() { # HOST:PORT SQL
  lab sql "$1" "$2" | awk '$0 == "section_" { getline sec; hdr = 1; next } hdr { hdr = 0; next } { print sec "\t" $0 }'
}
section() { awk -F'\t' -v s="$1" '$1 == s { sub(/^[^\t]*\t/, ""); print }'; } # NAME: its rows, from a report on stdin
# The section "checksums": CHECKSUM TABLE of every user table, in one statement.
checksum_sql="SELECT 'checksums' AS section_; SET SESSION group_concat_max_len = 1048576;
  SET @t = (SELECT GROUP_CONCAT(CONCAT(TABLE_SCHEMA,'.',TABLE_NAME) ORDER BY 1) FROM information_schema.TABLES
            WHERE TABLE_SCHEMA NOT IN ('mysql','sys','information_schema','performance_schema') AND TABLE_TYPE='BASE TABLE');
  SET @s = IF(@t IS NULL, 'SELECT 1 FROM DUAL WHERE FALSE', CONCAT('CHECKSUM TABLE ', @t));
  PREPARE checksums_ FROM @s; EXECUTE checksums_; DEALLOCATE PREPARE checksums_;"
# CHECKSUM of every user table on HOST:PORT, sorted.
checksums() { report "$1" "$checksum_sql" | section checksums | sort; }
# How long a standby node may take to hold the source's GTID set, in seconds (wait_synced,
# baseline, check_restored).
sync_timeout=${E2E_SYNC_TIMEOUT:-120}
# A GTID set as SQL reads it back from mysql -B (a set of several UUIDs spans lines: -B prints \n).
gtid_text() { local g; g=$(cat); g=${g//\\n/}; echo "${g//$'\n'/}"; }

rstatus() { # HOST:PORT COLUMN -> value from SHOW REPLICA STATUS (tab-separated with header)
  lab sql "$1" "SHOW REPLICA STATUS" | awk -F'\t' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} NR==2{print $k}'
}

# Waits until the lab is steady: on every node of both clusters that has a replication channel,
# its receiver and applier threads run (performance_schema's replication tables, which MySQL
# fills whatever performance_schema is set to). A case starts from there, so a replica still
# reconnecting after the case before (its IO thread CONNECTING for a moment) is not taken for
# something the case under test did. Waits up to sync_timeout; names what it waited for.
steady() {
  local n t0=$SECONDS st waited=""
  for n in "$snet.1:3308" "$snet.2:3308" "$snet.3:3308" "${tnodes[@]}"; do
    while :; do
      st=$(q "$n" "SELECT CONCAT(c.SERVICE_STATE, '/', a.SERVICE_STATE) FROM performance_schema.replication_connection_status c
                   JOIN performance_schema.replication_applier_status a USING (CHANNEL_NAME) WHERE CHANNEL_NAME = ''" 2>&1)
      [[ -z $st || $st == ON/ON ]] && break
      [[ $waited == *"$n "* ]] || waited+="$n ($st) "
      ((SECONDS - t0 < sync_timeout)) || fail "the lab is not steady before the case: $n replication io/sql ${st:-?} for $sync_timeout s"
      sleep 0.2
    done
  done
  [[ -z $waited ]] || echo "lab steady after $((SECONDS - t0)) s; waited for: $waited"
}

wait_synced() { # every standby node holds the source's GTID set (server side, one client per node)
  local want n got
  want=$(q "$SI" "SELECT @@GLOBAL.gtid_executed" | gtid_text)
  for n in "${tnodes[@]}"; do
    got=$(q "$n" "SELECT WAIT_FOR_EXECUTED_GTID_SET('$want', $sync_timeout)")
    [[ $got == 0 ]] || fail "$n did not catch up with the source within $sync_timeout s: ${got:-no answer}"
  done
}

# Every standby node's global variables (read-only state included), minus what must differ
# after a restore (README: "Exactly as it was").
fingerprint() {
  local n
  for n in "${tnodes[@]}"; do q "$n" "SHOW GLOBAL VARIABLES" | fingerprint_of "$n"; done
}
fingerprint_of() { # NODE: SHOW GLOBAL VARIABLES rows on stdin
  grep -v -E '^(gtid_executed|gtid_purged|gtid_owned|timestamp|skip_replica_start|skip_slave_start)[[:space:]]' | sed "s|^|$1 |"
}

# What a case compares its end with, read once the standby holds the source's GTID set
# (as wait_synced): fp_before (fingerprint) and, on a reflink lab unless --no-binlogs,
# binlogs_before (binlog_files after a rotation). One client per node.
baseline() { # [--no-binlogs]
  local want n rep flush="" binlogs=$cow
  [[ ${1:-} == --no-binlogs ]] && binlogs=0
  [[ $binlogs == 1 ]] && flush="FLUSH BINARY LOGS;"
  want=$(q "$SI" "SELECT @@GLOBAL.gtid_executed" | gtid_text)
  fp_before=""
  for n in "${tnodes[@]}"; do
    rep=$(report "$n" "SELECT 'wait' AS section_; SELECT WAIT_FOR_EXECUTED_GTID_SET('$want', $sync_timeout); $flush
      SELECT 'variables' AS section_; SHOW GLOBAL VARIABLES")
    [[ $(section wait <<<"$rep") == 0 ]] || fail "$n did not catch up with the source: $(section wait <<<"$rep")"
    [[ -n $(section variables <<<"$rep") ]] || fail "$n: no variables read${flush:+ (FLUSH BINARY LOGS failed?)}"
    fp_before+=$(section variables <<<"$rep" | fingerprint_of "$n")$'\n'
  done
  fp_before=${fp_before%$'\n'}
  binlogs_before=""; [[ $binlogs == 1 ]] && binlogs_before=$(binlog_files)
  return 0
}

# Every binary log file of every standby node (binlog_files): "HOST FILE SIZE SHA256 closed|active".
# A reflink restore point keeps them byte for byte, but the one being written when start shut the
# node down (the last) gains a stop event and loses its in-use flag: it must only still be there,
# no shorter. baseline runs FLUSH BINARY LOGS first, so each node has closed ones to compare.
# The remote command listing a host's binary logs, "FILE SIZE SHA256" sorted by name, from a
# fixed number of processes (the fault matrix rotates them in every case, so a long run's hosts
# hold hundreds: a loop forking per file cost minutes per case).
binlog_list_cmd="cd $droot && find . -name '*.[0-9][0-9][0-9][0-9][0-9][0-9]' -path '*bin*' ! -name '*relay*' -type f -printf '%s %p\\n' |
  sort -k2 >/tmp/.binlogs.\$\$ && { awk '{ print \"S\", \$2, \$1 }' /tmp/.binlogs.\$\$; awk '{ print \$2 }' /tmp/.binlogs.\$\$ | xargs -r sha256sum; } |
  awk '\$1 == \"S\" { size[\$2] = \$3; name[++n] = \$2; next } { sum[\$2] = \$1 } END { for (i = 1; i <= n; i++) print name[i], size[name[i]], sum[name[i]] }';
  rm -f /tmp/.binlogs.\$\$"
binlog_mark() { awk -v h="$1" '{ line[NR] = h " " $0 } END { for (i = 1; i <= NR; i++) print line[i], (i == NR ? "active" : "closed") }'; } # HOST
# The listing of binlogs, without rotating: one ssh per host, however many files it has.
binlog_files() {
  local h
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do lab ssh "$h" "$binlog_list_cmd" | binlog_mark "$h"; done
}
binlogs_kept() { # [LISTING]: the binary logs of binlogs_before are all still there;
  # LISTING is binlog_files' output, read now when not given
  local verdict listing=${1-$(binlog_files)}
  verdict=$(awk 'FILENAME == ARGV[1] { size[$1 " " $2] = $3; sum[$1 " " $2] = $4; next }
    $1 == "" || bad { next }
    $5 == "closed" { if (sum[$1 " " $2] != $4) { bad = "FAIL " $1 ": binary log " $2 " of before the drill is missing or changed after stop" }
                     closed++; next }
    !(($1 " " $2) in size) || size[$1 " " $2] + 0 < $3 + 0 { bad = "FAIL " $1 ": binary log " $2 " (being written at start) is missing or shorter after stop" }
    END { print bad ? bad : "closed " closed + 0 }' <(echo "$listing") - <<<"$binlogs_before")
  [[ $verdict != FAIL* ]] || fail "${verdict#FAIL }"
  [[ ${verdict#closed } -ge 3 ]] || fail "only ${verdict#closed } closed binary logs compared"
}

check_restored() {
  # One client on the source and one per standby node (see report): the node's wait for the
  # source's GTID set, its checksums, state and variables.
  local src want n rep
  rep=$(report "$SI" "SELECT 'gtid' AS section_; SELECT @@GLOBAL.gtid_executed; $checksum_sql")
  want=$(section gtid <<<"$rep" | gtid_text); src=$(section checksums <<<"$rep" | sort)
  [[ -n $src ]] || fail "no checksums read on the source: $rep"
  local fp_after=""
  for n in "${tnodes[@]}"; do
    # the drill schema, row 1, and the replication threads as performance_schema has them
    # (ON/CONNECTING/OFF: SHOW REPLICA STATUS's Yes/Connecting/No)
    rep=$(report "$n" "SELECT 'wait' AS section_; SELECT WAIT_FOR_EXECUTED_GTID_SET('$want', $sync_timeout); $checksum_sql
      SELECT 'state' AS section_;
      SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='drill'),
        (SELECT v FROM app.t WHERE id=1),
        (SELECT SERVICE_STATE FROM performance_schema.replication_connection_status WHERE CHANNEL_NAME=''),
        (SELECT SERVICE_STATE FROM performance_schema.replication_applier_status WHERE CHANNEL_NAME='');
      SELECT 'variables' AS section_; SHOW GLOBAL VARIABLES")
    [[ $(section wait <<<"$rep") == 0 ]] || fail "$n did not catch up with the source (or does not answer): $(section wait <<<"$rep")"
    local got; got=$(section checksums <<<"$rep" | sort)
    [[ $got == "$src" ]] || { diff <(echo "$src") <(echo "$got"); fail "$n table checksums differ from the source"; }
    local drill v io sq
    IFS=$'\t' read -r drill v io sq < <(section state <<<"$rep")
    [[ $drill == 0 ]] || fail "drill schema left on $n (or $n does not answer: '$drill')"
    [[ $v == "$1" ]] || fail "$n: app.t row 1 is not '$1' (it is '$v')"
    [[ $io == ON && $sq == ON ]] || fail "$n replication not running (io=$io sql=$sq)"
    fp_after+=$(section variables <<<"$rep" | fingerprint_of "$n")$'\n'
  done
  fp_after=${fp_after%$'\n'}
  same_routers "after stop"
  [[ $(grep -c "^$SI dbscale show dataservers: .*slave_dbscale_server" <<<"$routers_now") == 1 ]] ||
    fail "standby not registered on the source router"
  if [[ -s $state/redo.json ]] && grep -q '"sites"' "$state/redo.json"; then fail "journal still holds the drill"; fi
  # Each host runs one node the way the site does: one mysqld under one mysqld_safe. A second
  # mysqld_safe (a start sent twice) would, once its own mysqld gives up on the datadir's lock,
  # take the survivor for a hung server and SIGKILL it (mysqld_safe's KILL_MYSQLD).
  # (mysqld_safe's own subshells carry its name: only those whose parent is not one count.)
  # One ssh per host, the binary logs listed too on a reflink lab.
  local left h listing="" kept=""
  [[ $cow == 1 && -n ${binlogs_before:-} ]] && kept=1
  local procs='ps -eo pid=,ppid=,comm= | awk '"'"'{ c[$1] = $3; p[$1] = $2 }
    END { for (k in c) { if (c[k] == "mysqld_safe" && c[p[k]] != "mysqld_safe") n++; if (c[k] == "mysqld") m++ }
          print "processes", n + 0, m + 0 }'"'"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    left=$(lab ssh "$h" "ls -d $droot/*/flashback_restore_point $droot/*/*.flashback_bak 2>/dev/null; $procs${kept:+; echo binlogs_; $binlog_list_cmd}")
    if [[ -n $kept ]]; then
      listing+=$(sed '1,/^binlogs_$/d' <<<"$left" | binlog_mark "$h")$'\n'
      left=$(sed '/^binlogs_$/,$d' <<<"$left")
    fi
    [[ $left == processes* ]] || fail "$h: restore point or backup dirs left: ${left%processes*}"
    [[ $left == "processes 1 1" ]] || fail "$h: mysqld_safe and mysqld processes: ${left#processes }, expected one of each"
  done
  if [[ -n $kept ]]; then binlogs_kept "${listing%$'\n'}"; fi
  if [[ -n ${fp_before:-} ]]; then
    [[ $fp_after == "$fp_before" ]] || { diff <(echo "$fp_before") <(echo "$fp_after"); fail "global variables differ from before the drill"; }
  fi
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
  # The routers' registrations and options, not their servers' health texts ("Slave abnormal"
  # while a replica reconnects): those move by themselves, and no run of flashrun sets them.
  router_state
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do lab ssh "$h" "find $droot -maxdepth 3 ! -path '*/dbdata/*' -printf '%p %s\\n' | grep -v -e '/tmp/' -e '\\.err ' -e '/logfile/' | sort"; done
  ls -la "$state" 2>/dev/null | grep -v -e ' \.\.\?$' -e ' flashrun.lock$' | awk '{print $5, $NF}'
  [[ -f $state/redo.json ]] && sha256sum "$state/redo.json"
}

# The general log of every node, so a dry-run can prove no write statement reached a server.
all_nodes() { echo "$snet.1:3308" "$snet.2:3308" "$snet.3:3308" "${tnodes[@]}"; }
declare -A log_since
logged=""   # the nodes general_log_on turned the log on for
general_log_on() { # [NODE...]: every node by default
  local n
  logged=${*:-$(all_nodes)}
  for n in $logged; do
    log_since[$n]=$(q "$n" "SELECT NOW(6)") || fail "reading the clock of $n"
    q "$n" "SET GLOBAL log_output='TABLE'; SET GLOBAL general_log=ON" || fail "enabling the general log on $n"
  done
}
# Fails naming every write statement the general logs recorded since general_log_on.
general_log_no_writes() { # [WHAT]: what sent them, for the message (default a dry-run)
  local n writes=""
  for n in $logged; do q "$n" "SET GLOBAL general_log=OFF" >/dev/null; done
  for n in $logged; do
    writes+=$(q "$n" "SELECT argument FROM mysql.general_log WHERE command_type='Query' AND event_time >= '${log_since[$n]}'" |
      grep -v -i -e '^SET GLOBAL general_log' -e '^SET GLOBAL log_output' |
      grep -i -E '^[[:space:]]*(/\*.*\*/)?[[:space:]]*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE|RENAME|GRANT|REVOKE|SET[[:space:]]+(GLOBAL|PERSIST|@@GLOBAL)|STOP|START|CHANGE|RESET|CLONE|INSTALL|UNINSTALL|SHUTDOWN|RESTART|KILL|FLUSH|PURGE|LOAD|LOCK)' |
      sed "s|^|$n: |")
  done
  [[ -z $writes ]] || { echo "$writes"; fail "${1:-a dry-run} sent write statements"; }
}

one_mysqld_per_host() { # after start in local mode: no second server anywhere
  local h c
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    c=$(lab ssh "$h" 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = mysqld ] && echo $p; done' | wc -l)
    [[ $c == 1 ]] || fail "$h runs $c mysqld processes during the drill, expected 1"
  done
}

# bg_plan FILE PLAN: PLAN (-v) started in the background, its output in FILE, its pid in bg_pid.
# FILE is emptied here, before the fork: the child truncates it only once it runs, and a poll of
# FILE meanwhile read the last run's output (a kill sent before the plan printed anything).
bg_plan() {
  : >"$1"
  ( exec "$bin" "$top/plans/$2.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" -v >"$1" 2>&1 ) &
  bg_pid=$!
}

killed_after() { # SECONDS PLAN: run PLAN and SIGKILL it after SECONDS
  ( exec "$bin" "$top/plans/$2.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" >>"$out" 2>&1 ) &
  local pid=$!
  sleep "$1"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "killed $2 after $1 s"
}

# How many CLONE statements NODE runs (its processlist: a clone runs in the connection of the
# client that sent it, COMMAND 'Query', INFO the statement, until it ends, client gone or not).
clones_running() { q "$1" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE 'CLONE %'"; }

# start SIGKILLed while NODE's clone runs (seen in NODE's processlist, not in start's output,
# which logs a statement once it returned), then re-run; the re-run must find that clone still
# running, wait for it, and take the restore point again. NODE's clone is slowed for the case
# (clone_max_data_bandwidth = 1 MiB/s on the recipient: the lab's 74 MiB took 2-13 s, against
# 0.2 s unthrottled) and set back once the re-run waits; start records the variable (1) and stop
# puts it back, so the caller sets it to 0 again after stop (reset_clone_bandwidth NODE).
killed_mid_clone() { # NODE
  local node=$1 log=$LAB_DIR/killed-start.out rerun=$LAB_DIR/start-rerun.out pid i n rc
  [[ $(q "$node" "SET GLOBAL clone_max_data_bandwidth = 1; SELECT @@GLOBAL.clone_max_data_bandwidth") == 1 ]] ||
    fail "cannot slow $node's clones"
  bg_plan "$log" start; pid=$bg_pid
  for ((i = 0; i < 1200; i++)); do
    n=$(clones_running "$node"); [[ ${n:-0} -gt 0 ]] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; rc=$?
  cat "$log" >>"$out"
  [[ ${n:-0} -gt 0 ]] || { grep -v ' DEBUG ' "$log" | tail -n 12 >&2; fail "start ended (exit $rc), or 60 s passed, before $node ran a clone (its last lines above)"; }
  [[ $(clones_running "$node") -gt 0 ]] || fail "$node's clone had ended when start was killed: not mid-clone"
  echo "killed start while $node ran its clone"
  bg_plan "$rerun" start; pid=$bg_pid
  for ((i = 0; i < 1200; i++)); do
    grep -q "$node: a clone is running into this node" "$rerun" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  reset_clone_bandwidth "$node"
  wait $pid; rc=$?
  cat "$rerun" >>"$out"
  [[ $rc == 0 ]] || fail "re-run of start after a kill mid-clone on $node: exit $rc"
  # What shows the clone: performance_schema.clone_status where performance_schema is on (the
  # lab's, as sites run it), else the processlist's CLONE statement (restore_point.running_clone).
  grep -Eq "$node: a clone is running into this node \((performance_schema.clone_status says In Progress|connection [0-9]* has been running a CLONE statement)" "$rerun" ||
    { grep -F "a clone is running" "$rerun" >&2; fail "the re-run of start did not wait for the clone still running into $node"; }
}
reset_clone_bandwidth() { [[ $(q "$1" "SET GLOBAL clone_max_data_bandwidth = 0; SELECT @@GLOBAL.clone_max_data_bandwidth") == 0 ]] || fail "cannot set $1's clone_max_data_bandwidth back"; }

killed_when() { # PATTERN PLAN: run PLAN (-v) and SIGKILL it as soon as its output matches PATTERN
  local log=$LAB_DIR/killed-$2.out pid i rc
  bg_plan "$log" "$2"; pid=$bg_pid
  for ((i = 0; i < 2400; i++)); do
    grep -q -- "$1" "$log" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; rc=$?
  cat "$log" >>"$out"
  grep -q -- "$1" "$log" || { grep -v ' DEBUG ' "$log" | tail -n 12 >&2; fail "$2 ended (exit $rc) without printing '$1' (its last lines above)"; }
  echo "killed $2 when it printed '$1'"
}
