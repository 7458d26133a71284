#!/usr/bin/env bash
# End-to-end drill on a running lab (LAB_DIR): checks data, not log lines.
#   drill.sh main      verify → start → drill writes (standby) + production writes → stop; then
#                      checksums equal, drill objects gone, replication runs, journal empty.
#   drill.sh dryrun    dry-run of verify/start/stop changes nothing (GTIDs, files, journal).
#   drill.sh resume    start killed mid-way (donor: while the standby master's clone runs, which
#                      the re-run must wait for), re-run; a node crashed during the drill with its pid
#                      file naming an unrelated live process (never signalled); stop killed
#                      while starting the restored nodes, re-run; data checked as in main.
#   drill.sh killpoints  start and stop each killed just after a router statement or a clone,
#                      re-run; three drills, each checked as in main.
#   drill.sh lost      a restore point destroyed during the drill: stop takes it again (donor:
#                      from the donor; local: from a restored node).
#   drill.sh rollback  start interrupted (SIGINT), once while a node hangs mid-clone, once while the
#                      binary log stream starts: rolled back.
#   drill.sh errant    verify refuses (exit 3) a standby carrying a GTID production lacks, a
#                      data root holding no node, a non-InnoDB table, a wrong host key; warns of
#                      semi-sync fallen back to async, refuses a disabled node, another router
#                      account, enable-disaster-mode off.
#   drill.sh verify    the first-day mistakes, each refused (exit 3) with one summary line naming
#                      the node, the cause and the fix: a wrong password, a wrong router port,
#                      sshd stopped on one node, an account without a privilege start needs (and
#                      start refused on it before changing anything), one held through a role
#                      (not active at login: named; active: counted); a healthy pair's summary,
#                      its whole output at default verbosity (<= 40 lines, every warned check
#                      named, no passed one; -v shows each) and its --report-json document.
#   drill.sh stream    production writes during the drill, the stream's mysqlbinlog killed and
#                      repaired (status shows it), production shut down: stop refuses, stop
#                      --production-lost brings the standby to production's last GTID set, read-only
#                      and detached; production back, a second stop re-attaches; data as in main.
#   drill.sh purged    production purges the binary logs the standby needs during the drill:
#                      status exit 3, stop refuses before touching anything (leaves the lab
#                      marked for a rebuild: run it last).
#   drill.sh secure    (a LAB_SECURE_SSH=1 lab) verify refuses with its cause: no agent, an agent
#                      without dba's key, sudo wanting a password, requiretty; then a whole drill
#                      as dba through sudo, keys from `lab agent` only, checked as in main; no
#                      root login and no password in any host's sshd log. A start_command without
#                      {extra_args} refused; E2E_SERVICE=1: the nodes started and stopped by the
#                      lab's service script through site.start_command / stop_command.
#   drill.sh tls       on a LAB_TLS=1 lab (ssl_mode = verify_identity): verify refuses, exit 3
#                      with the cause and the fix, a CA that did not sign the servers'
#                      certificates, a certificate that does not name the node, required against
#                      a router offering no TLS (preferred passes there), the REQUIRE X509 account
#                      without ssl_cert/ssl_key (with them it passes); verify's member lines show
#                      the TLS in use; then the main drill under a loopback capture (tcpdump) that
#                      holds none of the lab's passwords, every node's SOURCE_SSL* as before;
#                      donor: the drill with the REQUIRE X509 account (clones log in with the
#                      client certificate: clone_ssl_cert/key set, put back, files removed).
#   drill.sh progress  (issue 30) start held right after the master's throttled clone: a
#                      production write reaches the binary log stream, status shows the step and
#                      its progress, the clone's progress events grow with an ETA; checked as in main.
#   drill.sh upgrade   a drill started by an earlier flashrun (E2E_OLD_TOP: its built tree) and
#                      stopped by this one; status reads it between; checked as in main.
#   drill.sh site      a drill with the examples' site directory (examples/site): its steps in
#                      --list and the dry-run at their places, run in order, undone on a forced
#                      rollback; plans/ unchanged.
# E2E_STRATEGY (local|donor|reflink|auto, default local) is the restore-point strategy of every
# run. On a lab whose hosts have a copy-on-write filesystem (LAB_FS=xfs|btrfs), auto must choose
# reflink, and every binary log a node had before start must come back byte for byte.
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
# shellcheck source=tests/e2e/checks.sh
source "$top/tests/e2e/checks.sh"

# ---- status and the drill report (issue 13) ---------------------------------------------------
# The number of transactions in a GTID set ("uuid:1-6:8,uuid2:3").
gtid_count() {
  tr -d ' \n' <<<"$1" | tr ',' '\n' | awk -F: '{ for (i = 2; i <= NF; i++) { n = split($i, r, "-"); c += (n == 2 ? r[2] - r[1] + 1 : 1) } } END { print c + 0 }'
}
# frs FILE [ARGS...]: status's JSON document into FILE (--report-json; what it prints goes to the
# run's output); exit code.
frs() {
  local f=$1; shift
  "$bin" "$top/plans/status.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" --report-json "$f" "$@" >>"$out" 2>&1
}
# sval FILE SECTION ROW FIELD[.SUB]: a value of status's JSON ("" when absent).
sval() {
  lua5.4 - "$@" <<'LUA'
local cj = require "cjson"
local f = assert(io.open(arg[1])); local d = cj.decode(f:read("a")); f:close()
for _, s in ipairs(d.report.sections) do
  if s.id == arg[2] then
    for _, r in ipairs(s.rows) do
      if r.key == arg[3] then
        local v = r
        for k in arg[4]:gmatch("[^.]+") do if type(v) == "table" then v = v[k] else v = nil end end
        print((v == nil or v == cj.null) and "" or (math.type(v) == "float" and v == math.floor(v)) and math.tointeger(v) or tostring(v))
        return
      end
    end
  end
end
print("")
LUA
}
# jval FILE PATH: a value of a JSON document by a dotted path (numbers index lists; # is a length).
jval() {
  lua5.4 - "$@" <<'LUA'
local cj = require "cjson"
local f = assert(io.open(arg[1])); local v = cj.decode(f:read("a")); f:close()
for k in arg[2]:gmatch("[^.]+") do
  if type(v) ~= "table" then v = nil elseif k == "#" then v = #v else v = v[tonumber(k) or k] end
end
print((v == nil or v == cj.null) and "" or (math.type(v) == "float" and v == math.floor(v)) and math.tointeger(v) or tostring(v))
LUA
}
nows() { tr -d ' \n' <<<"$1"; }
pmaster=$snet.1:3308   # production's master in the lab

# During a drill: status against the lab (drift = what production and the standby executed since
# the restore point, the deadline moving with binlog_expire_logs_seconds, the warning under
# site.retention_warning_hours). Sets frozen, prod_since, standby_since for the report check.
status_during() {
  local f=$LAB_DIR/status-during.json rc d1 d2 e0
  frozen=$(jval "$state/redo.json" state.frozen)
  prod_since=$(q "$pmaster" "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, '$frozen')")
  standby_since=$(q "${tnodes[0]}" "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, '$frozen')")
  frs "$f"; rc=$?
  [[ $rc == 0 ]] || { cat "$f"; fail "status during the drill: exit $rc, expected 0"; }
  [[ $(jval "$f" report.drill_open) == true && $(sval "$f" drill restore_point value) == "$frozen" ]] || fail "status: drill not open or another restore point"
  [[ $(sval "$f" drift production_since_restore_point value) == "$(gtid_count "$prod_since")" &&
     $(gtid_count "$prod_since") == 2 ]] || fail "status: production drift $(sval "$f" drift production_since_restore_point value), lab ${prod_since:-none} (2 writes)"
  [[ $(sval "$f" drift standby_since_restore_point value) == "$(gtid_count "$standby_since")" ]] ||
    fail "status: standby drift $(sval "$f" drift standby_since_restore_point value), lab $standby_since"
  for n in "${tnodes[@]}"; do # (the donor keeps no restore point: it is one)
    [[ $(sval "$f" standby "$n" data.restore_point.intact) == true || $(sval "$f" standby "$n" data.role) == donor ]] || fail "status: $n restore point not intact"
  done
  # The deadline: the binary log holding production's drill-time writes, closed by a rotation,
  # plus the expiry period; it moves by exactly what binlog_expire_logs_seconds moves. (Checked
  # in the local-strategy drills only: the strategy changes nothing there, and CI time counts.)
  [[ $strategy == local ]] || return 0
  e0=$(q "$pmaster" "SELECT @@GLOBAL.binlog_expire_logs_seconds")
  q "$pmaster" "FLUSH BINARY LOGS" >/dev/null || fail "rotating production's binary log"
  frs "$f"; d1=$(sval "$f" reattach deadline value)
  [[ $(sval "$f" reattach deadline data.state) == at && -n $d1 ]] || { cat "$f"; fail "status: no deadline from a closed binary log"; }
  q "$pmaster" "SET GLOBAL binlog_expire_logs_seconds = $((e0 - 86400))" >/dev/null
  frs "$f"; d2=$(sval "$f" reattach deadline value)
  [[ $((d1 - d2)) == 86400 ]] || fail "status: the deadline moved from $d1 to $d2 when the expiry dropped a day"
  q "$pmaster" "SET GLOBAL binlog_expire_logs_seconds = 3600" >/dev/null
  "$bin" "$top/plans/status.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" >"$LAB_DIR/status-near.out" 2>&1; rc=$?
  q "$pmaster" "SET GLOBAL binlog_expire_logs_seconds = $e0" >/dev/null
  cat "$LAB_DIR/status-near.out" >>"$out"
  [[ $rc == 3 ]] && grep -q "^!! *deadline  *[0-9]*m [0-9]*s left; " "$LAB_DIR/status-near.out" &&
    grep -q "less than site.retention_warning_hours=24" "$LAB_DIR/status-near.out" ||
    { cat "$LAB_DIR/status-near.out"; fail "status with a deadline an hour away: exit $rc, expected 3 and the warning"; }
}

# After stop: the report's figures against the lab.
report_check() {
  local r md n i open
  # shellcheck disable=SC2012 # (drill-<UTC time>.json: no odd names)
  r=$(ls -t "$state"/drill-*.json 2>/dev/null | head -1); md=${r%.json}.md
  [[ -f $r && -f $md ]] || fail "stop wrote no drill report into $state"
  grep -q "drill report: $md" "$out" || fail "stop did not name its report"
  [[ $(jval "$r" restore_point.gtid_set) == "$frozen" ]] || fail "report: restore point $(jval "$r" restore_point.gtid_set), journal $frozen"
  [[ $(nows "$(jval "$r" thrown_away.gtid_set)") == "$(nows "$standby_since")" && $(jval "$r" thrown_away.transactions) == "$(gtid_count "$standby_since")" ]] ||
    fail "report: thrown away $(jval "$r" thrown_away.gtid_set), the standby executed $standby_since during the drill"
  [[ $(nows "$(jval "$r" caught_up.gtid_set)") == "$(nows "$prod_since")" && $(jval "$r" caught_up.transactions) == 2 ]] ||
    fail "report: caught up $(jval "$r" caught_up.gtid_set), production wrote $prod_since during the drill"
  [[ $(jval "$r" caught_up.replication) == flowing* ]] || fail "report: replication $(jval "$r" caught_up.replication)"
  for ((i = 1; i <= $(jval "$r" restore_point.nodes.#); i++)); do
    n=$(jval "$r" restore_point.nodes.$i.node)
    [[ $(jval "$r" restore_point.nodes.$i.bytes) == "${rp_bytes[$n]:-}" ]] ||
      fail "report: $n restore point $(jval "$r" restore_point.nodes.$i.bytes) bytes, the lab had ${rp_bytes[$n]:-none}"
    [[ $(jval "$r" nodes.$i.read_only.before) == "$(jval "$r" nodes.$i.read_only.after)" &&
       $(jval "$r" nodes.$i.super_read_only.before) == "$(jval "$r" nodes.$i.super_read_only.after)" ]] || fail "report: $n read-only state changed"
  done
  [[ -n ${rp_bytes[${tnodes[0]}]:-} ]] || fail "no restore point was measured"
  open=$(jval "$r" standby_open.seconds)
  [[ -n $open && $open -ge 0 && $open -le $(( $(date +%s) - started_at )) ]] || fail "report: the standby open for '$open' s"
  [[ $(jval "$r" timeline.1.plan) == start && $(jval "$r" timeline.1.outcome) == "done" && $(jval "$r" timeline.1.steps.#) -ge 8 ]] ||
    fail "report: the timeline does not begin with start's run"
  grep -q "^| \*\*stop\*\* " "$md" && grep -q "restore_point\` | .* | ok |" "$md" || fail "report: the Markdown timeline lacks stop's run or start's restore_point step"
  [[ $(jval "$r" checks.#) -ge 20 ]] || fail "report: $(jval "$r" checks.#) checks recorded"
}
declare -A rp_bytes
measure_restore_points() { # the bytes of every restore point directory, as the lab sees them
  local n
  for n in "${tnodes[@]}"; do
    rp_bytes[$n]=$(lab ssh "${n%:*}" "find $droot/*/flashback_restore_point -type f 2>/dev/null -printf '%s\n' | awk '{ b += \$1 } END { print b }'")
  done
}

# The mysqld_safe and mysqld command lines on every standby host, sorted, the option that holds
# replication aside (flashrun adds it to every start it makes; the site's next restart drops it).
cmdlines() {
  local h
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    lab ssh "$h" 'for p in $(pgrep -x mysqld_safe) $(pgrep -x mysqld); do echo "$(cat /proc/$p/comm): $(tr "\0" " " </proc/$p/cmdline)"; done' |
      sed -E "s|^|$h |; s/ --skip-(replica|slave)-start( |\$)/\2/g" | sort
  done
}

drill_main() {
  seed; baseline
  local cl_before; cl_before=$(cmdlines)
  [[ $(grep -c ': ' <<<"$cl_before") == 6 ]] || fail "not one mysqld_safe and one mysqld per standby host: $cl_before"
  fr verify || fail "verify"
  frs "$LAB_DIR/status-before.json" || fail "status before the drill: exit $?"
  [[ $(jval "$LAB_DIR/status-before.json" report.drill_open) == false ]] || fail "status before the drill: a drill is open"
  started_at=$(date +%s)
  timed fr start || fail "start"
  [[ $(q "$TI" "SELECT 1") == 1 ]] || fail "standby router"
  one_mysqld_per_host
  if [[ $cow == 1 && $strategy == auto ]]; then
    grep -q "restore point strategy auto: reflink" "$out" || fail "strategy auto on a $LAB_FS lab did not choose reflink"
  fi
  fr start >"$LAB_DIR/second-start.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "a drill is open since" "$LAB_DIR/second-start.out" || fail "a second start during the drill: exit $rc, expected a refusal (3)"
  # status and stop given another state dir (another journal) see the standby detached and say
  # which journal they read, rather than "nothing to stop"
  other=$LAB_DIR/other-state; rm -rf "$other"
  "$bin" "$top/plans/stop.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$other" "${extra[@]}" >"$LAB_DIR/stop-other.out" 2>&1; rc=$?
  [[ $rc == 3 ]] && grep -q "the journal in $other records no drill .*yet the standby router is not registered on production's router" "$LAB_DIR/stop-other.out" ||
    fail "stop with another state dir during a drill: exit $rc, expected a refusal naming the detached standby"
  "$bin" "$top/plans/status.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$other" "${extra[@]}" --report-json "$LAB_DIR/status-other.json" >>"$out" 2>&1; rc=$?
  [[ $rc == 3 && $(sval "$LAB_DIR/status-other.json" drill open state) == warn ]] ||
    fail "status with another state dir during a drill: exit $rc, expected 3 with the drill row warning"
  rm -rf "$other"
  drill_writes
  [[ $(type -t "${during_drill:-}") == function ]] && "$during_drill"
  status_during
  measure_restore_points
  # stop rehearsed in the middle of a real drill: it reads the journal start wrote, changes nothing
  before=$(snap); general_log_on
  fr stop --dry-run >"$LAB_DIR/stop-dry-run.out" || fail "stop --dry-run during the drill"
  general_log_no_writes; after=$(snap)
  [[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after"); fail "stop --dry-run changed something"; }
  local restart='nohup setsid .*mysqld_safe'; [[ ${E2E_SERVICE:-0} == 1 ]] && restart='/data/lab-service start'
  grep -q "$restart" "$LAB_DIR/stop-dry-run.out" || fail "stop --dry-run did not show the restart commands"
  grep -q "^DRY-RUN sql $SI: dbscale dynamic add slave slave_dbscale_source to ${LAB_DATASOURCE:-normal_0}\$" "$LAB_DIR/stop-dry-run.out" ||
    fail "stop --dry-run did not show the standby re-attached to ${LAB_DATASOURCE:-normal_0}"
  # No write from flashrun reaches production's nodes during stop: re-registering the standby
  # is a statement to production's router, and replication is proven by reading.
  general_log_on "$snet.1:3308" "$snet.2:3308" "$snet.3:3308"
  timed fr stop || fail "stop"
  general_log_no_writes "stop"
  check_restored prod-during-drill
  report_check
  frs "$LAB_DIR/status-after.json" || fail "status after the drill: exit $?"
  [[ $(jval "$LAB_DIR/status-after.json" report.drill_open) == false ]] || fail "status after the drill: a drill is open"
  # every node came back with the command line it had (issue 28), and no warning on the way
  [[ $(cmdlines) == "$cl_before" ]] || { diff <(echo "$cl_before") <(cmdlines); fail "a node came back with another command line"; }
  ! grep -q "could not set back .* init_file" "$out" || fail "stop warned that init_file could not be set back"
}

# ---- TLS (issue 27): on a LAB_TLS=1 lab ------------------------------------------------------
# Every node's replication channel TLS settings, one line per node.
source_ssl_state() {
  local n
  for n in "$snet.1:3308" "$snet.2:3308" "$snet.3:3308" "${tnodes[@]}"; do
    echo "$n $(q "$n" "SELECT CONCAT_WS('|', HOST, SSL_ALLOWED, SSL_CA_FILE, SSL_CERTIFICATE, SSL_KEY, SSL_VERIFY_SERVER_CERTIFICATE,
                       TLS_VERSION, IFNULL(TLS_CIPHERSUITES, 'NULL')) FROM performance_schema.replication_connection_configuration
                       WHERE CHANNEL_NAME = ''" 2>&1)"
  done
}
# tls_verify NAME EXPECTED_EXIT [ARGS...]: verify with ARGS, its output in $LAB_DIR/tls-NAME.out.
tls_verify() {
  local name=$1 want=$2 rc; shift 2
  fr verify "$@" >"$LAB_DIR/tls-$name.out"; rc=$?
  [[ $rc == "$want" ]] || { cat "$LAB_DIR/tls-$name.out"; fail "verify ($name): exit $rc, expected $want"; }
}
# tls_has NAME TEXT: the summary of tls_verify NAME holds TEXT (fixed string).
tls_has() { grep -qF -- "$2" "$LAB_DIR/tls-$1.out" || { cat "$LAB_DIR/tls-$1.out"; fail "verify ($1) does not say: $2"; }; }
# The standby router as LAB_ROUTER_TLS=0 makes it (no TLS offered), or back as the lab made it.
router_tls() { # on|off
  local c=$LAB_DIR/routers/tgt.conf
  lab stop-router tgt >/dev/null 2>&1
  if [[ $1 == off ]]; then cp "$c" "$c.tls"; sed -i '/^tls_cert = \|^tls_key = /d' "$c"; else mv "$c.tls" "$c"; fi
  lab start-router tgt >/dev/null 2>&1 || fail "the standby router did not start again"
}
tls_refusals() {
  local n inst
  # every member line of a healthy pair's summary ends with the TLS in use
  tls_verify healthy 0 --report-json "$LAB_DIR/tls-verify.json"
  n=$(grep -cE '^    (ok|warn) +(router|master|replica) +[0-9.:]+ .* · tls TLSv1\.[23]$' "$LAB_DIR/tls-healthy.out")
  [[ $n == 8 ]] || { cat "$LAB_DIR/tls-healthy.out"; fail "verify: $n member lines end with the TLS version, expected 8"; }
  [[ $(jval "$LAB_DIR/tls-verify.json" report.clusters.2.members.2.tls.version) == TLSv1.* &&
     -n $(jval "$LAB_DIR/tls-verify.json" report.clusters.2.members.2.tls.cipher) ]] || fail "--report-json: no tls {version, cipher}"
  # 1. a CA that did not sign the servers' certificates (the standby's CA for production)
  tls_verify wrong-ca 3 --set "source.ssl_ca=$LAB_DIR/tls/tgt-ca.pem"
  tls_has wrong-ca "fix: the CA in ssl_ca of [source] did not sign the server's certificate: set ssl_ca to the CA certificate that signed it"
  # 2. a certificate that does not name the node dialled (signed by the right CA)
  openssl req -newkey rsa:2048 -nodes -subj /CN=elsewhere -keyout "$LAB_DIR/tls/wrongname-key.pem" -out "$LAB_DIR/tls/wrongname.csr" 2>/dev/null &&
    openssl x509 -req -in "$LAB_DIR/tls/wrongname.csr" -CA "$LAB_DIR/tls/tgt-ca.pem" -CAkey "$LAB_DIR/tls/tgt-ca-key.pem" -CAcreateserial -days 30 \
      -extfile <(echo subjectAltName=DNS:elsewhere.invalid) -out "$LAB_DIR/tls/wrongname.pem" 2>/dev/null || fail "openssl: the wrong-name certificate"
  inst=$(q "${tnodes[1]}" "SELECT @@GLOBAL.ssl_cert"); inst=${inst%/*}
  lab ssh "${tnodes[1]%:*}" "cat >$inst/wrongname.pem" <"$LAB_DIR/tls/wrongname.pem"
  lab ssh "${tnodes[1]%:*}" "umask 077; cat >$inst/wrongname-key.pem; chown mysql $inst/wrongname-key.pem" <"$LAB_DIR/tls/wrongname-key.pem"
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '$inst/wrongname.pem', ssl_key = '$inst/wrongname-key.pem'; ALTER INSTANCE RELOAD TLS" >/dev/null || fail "loading the wrong-name certificate"
  tls_verify wrong-name 3
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '$inst/server.pem', ssl_key = '$inst/server-key.pem'; ALTER INSTANCE RELOAD TLS" >/dev/null || fail "putting the certificate back"
  lab ssh "${tnodes[1]%:*}" "rm -f $inst/wrongname.pem $inst/wrongname-key.pem"
  tls_has wrong-name "standby node ${tnodes[1]}: no SQL connection"
  tls_has wrong-name "fix: the server's certificate does not name the host flashrun dialled (it names DNS:elsewhere.invalid)"
  tls_has wrong-name "or set ssl_mode = verify_ca in [target]"
  # 2a. a certificate that expires within 30 days: a warning naming the date (exit 0)
  openssl req -newkey rsa:2048 -nodes -subj /CN=soon -keyout "$LAB_DIR/tls/soon-key.pem" -out "$LAB_DIR/tls/soon.csr" 2>/dev/null &&
    openssl x509 -req -in "$LAB_DIR/tls/soon.csr" -CA "$LAB_DIR/tls/tgt-ca.pem" -CAkey "$LAB_DIR/tls/tgt-ca-key.pem" -CAcreateserial -days 10 \
      -extfile <(echo "subjectAltName=IP:${tnodes[1]%:*}") -out "$LAB_DIR/tls/soon.pem" 2>/dev/null || fail "openssl: the expiring certificate"
  lab ssh "${tnodes[1]%:*}" "cat >$inst/soon.pem" <"$LAB_DIR/tls/soon.pem"
  lab ssh "${tnodes[1]%:*}" "umask 077; cat >$inst/soon-key.pem; chown mysql $inst/soon-key.pem" <"$LAB_DIR/tls/soon-key.pem"
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '$inst/soon.pem', ssl_key = '$inst/soon-key.pem'; ALTER INSTANCE RELOAD TLS" >/dev/null || fail "loading the expiring certificate"
  tls_verify expiring 0
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '$inst/server.pem', ssl_key = '$inst/server-key.pem'; ALTER INSTANCE RELOAD TLS" >/dev/null || fail "putting the certificate back"
  lab ssh "${tnodes[1]%:*}" "rm -f $inst/soon.pem $inst/soon-key.pem"
  tls_has expiring "standby node ${tnodes[1]}: its TLS certificate expires on "
  tls_has expiring "fix: renew the certificate on the server before the drill"
  # 3. required against a router that offers no TLS (LAB_ROUTER_TLS=0's router); preferred passes
  router_tls off
  tls_verify router-required 3 --set target.router_ssl_mode=required
  tls_verify router-preferred 0 --set target.router_ssl_mode=preferred
  router_tls on
  tls_has router-required "fix: the router offers no TLS on its SQL port, and router_ssl_mode = required in [target] requires it: set router_ssl_mode = preferred"
  grep -qE '^    (ok|warn) +router +'"$TI"' .* · tls none$' "$LAB_DIR/tls-router-preferred.out" || { cat "$LAB_DIR/tls-router-preferred.out"; fail "preferred: the router's line does not end with tls none"; }
  # 4. the REQUIRE X509 account without a client certificate; with it, verify passes
  local x=(--set "target.mysql_user=$LAB_X509_USER" --set "target.router_user=$LAB_MYSQL_USER")
  tls_verify x509-nocert 3 "${x[@]}"
  tls_has x509-nocert "or the account was created REQUIRE X509 (or ISSUER/SUBJECT): set ssl_cert and ssl_key in [target]"
  tls_verify x509-cert 0 "${x[@]}" --set "target.ssl_cert=$LAB_DIR/tls/x509-tgt.pem" --set "target.ssl_key=$LAB_DIR/tls/x509-tgt-key.pem"
  echo "tls refusals: wrong CA, wrong name, router without TLS under required, X509 without a certificate: each exit 3 with its cause and fix; an expiring certificate warned"
}
# During the drill (drill_main's hook): production's binary logs stream over TLS, verified as
# flashrun's own connections are: the option file says ssl-mode VERIFY_IDENTITY with production's
# CA, copied 0600 beside it; production's drill-time write arrives in the stream directory.
tls_stream_check() {
  local sdir=$droot/flashrun_binlog_stream i
  [[ $(lab ssh "$tnet.1" "stat -c %a $sdir/tls-ca.pem") == 600 ]] || fail "the stream's CA file is not there, mode 0600"
  cmp -s <(lab ssh "$tnet.1" "cat $sdir/tls-ca.pem") "$LAB_DIR/tls/src-ca.pem" || fail "the stream's CA file is not production's CA"
  lab ssh "$tnet.1" "grep -qx 'ssl-mode = VERIFY_IDENTITY' $sdir/client.cnf && grep -qx 'ssl-ca = \"$sdir/tls-ca.pem\"' $sdir/client.cnf" ||
    fail "the stream's option file does not verify production's certificates"
  for i in $(seq 150); do
    lab ssh "$tnet.1" "for f in $sdir/[0-9]*_*/*; do mysqlbinlog --base64-output=DECODE-ROWS -v \$f; done 2>/dev/null" | grep -q "prod-during-drill" && break
    sleep 0.2
  done
  ((i < 150)) || fail "production's write during the drill did not arrive in the stream directory over TLS"
  echo "stream: production's drill-time write streamed over TLS (VERIFY_IDENTITY) into $sdir"
}
# After stop: no CA, certificate or key file flashrun copied is left on any standby host.
tls_files_gone() {
  local n left
  for n in "${tnodes[@]}"; do
    left=$(lab ssh "${n%:*}" "find $droot -name 'tls-*.pem' -o -name flashrun_clone_tls 2>/dev/null")
    [[ -z $left ]] || fail "TLS files left on ${n%:*}: $left"
    [[ $(q "$n" "SELECT CONCAT(IFNULL(@@GLOBAL.clone_ssl_ca, ''), '|', IFNULL(@@GLOBAL.clone_ssl_cert, ''), '|', IFNULL(@@GLOBAL.clone_ssl_key, ''))" 2>&1) == "||" ]] ||
      fail "$n: clone_ssl_* not put back: $(q "$n" "SELECT @@GLOBAL.clone_ssl_ca, @@GLOBAL.clone_ssl_cert, @@GLOBAL.clone_ssl_key" 2>&1)"
  done
}

# The drill under a capture of the lab's traffic on the loopback interface.
capture_start() {
  command -v tcpdump >/dev/null || fail "tcpdump is not installed (apt-get install tcpdump)"
  pcap=$LAB_DIR/tls-drill.pcap
  # (its output away from ctest's pipe, and ended with the case whatever happens: a failed case
  # left running would hold ctest waiting)
  tcpdump -i lo -U -w "$pcap" "net $snet.0/24 or net $tnet.0/24" >/dev/null 2>"$LAB_DIR/tcpdump.err" & cap_pid=$!
  trap 'rc=$?; kill "$cap_pid" 2>/dev/null; [[ $rc == 0 ]] || echo tls >"$broken"' EXIT
  local i; for i in $(seq 100); do grep -q "listening on" "$LAB_DIR/tcpdump.err" && break; sleep 0.1; done
  grep -q "listening on" "$LAB_DIR/tcpdump.err" || fail "tcpdump did not start: $(cat "$LAB_DIR/tcpdump.err")"
  # a positive control: a marker sent in clear to the source router must be in the capture
  cap_marker="flashrun-capture-marker-$$-$RANDOM"
  (exec 3<>"/dev/tcp/$SRC/${SI##*:}"; printf '%s' "$cap_marker" >&3; sleep 0.2) 2>/dev/null
}
capture_check() {
  kill -INT "$cap_pid" 2>/dev/null; wait "$cap_pid" 2>/dev/null
  local pw bytes; bytes=$(stat -c %s "$pcap")
  grep -qaF -- "$cap_marker" "$pcap" || fail "the capture ($bytes bytes) misses the clear-text marker: it captured nothing useful"
  for pw in "$LAB_MYSQL_PASSWORD" "$LAB_SYS_PASSWORD"; do
    ! grep -qaF -- "$pw" "$pcap" || fail "the loopback capture of the drill holds a lab password in clear"
  done
  echo "capture: $bytes bytes of the lab's traffic during the drill, no password in it"
  rm -f "$pcap"
}

# Every case starts from a steady lab (its replicas' threads running), whatever the case before left.
steady
case ${1:-main} in
main)
  drill_main
  no_password_shown
  echo "e2e main: ok" ;;
tls)
  [[ ${LAB_TLS:-0} == 1 ]] || fail "drill.sh tls needs a LAB_TLS=1 lab"
  grep -q '^ssl_mode = verify_identity$' "$conf" || fail "the lab's flashback.ini does not say ssl_mode = verify_identity"
  tls_refusals
  steady
  ssl_before=$(source_ssl_state)
  # the lab's replicas (and the standby master) replicate over TLS with their source's CA
  [[ $(grep -c '|YES|/.*/tls/source-ca\.pem|' <<<"$ssl_before") == 5 ]] || { echo "$ssl_before"; fail "not every channel uses TLS with its source's CA"; }
  if [[ $strategy == donor ]]; then
    # The donor drill with the REQUIRE X509 account: every connection presents the client
    # certificate, and so must each recipient's clone login to the donor (clone_ssl_cert/key).
    extra+=(--set "target.mysql_user=$LAB_X509_USER" --set "target.router_user=$LAB_MYSQL_USER"
            --set "target.ssl_cert=$LAB_DIR/tls/x509-tgt.pem" --set "target.ssl_key=$LAB_DIR/tls/x509-tgt-key.pem")
  fi
  capture_start
  during_drill=tls_stream_check
  drill_main
  capture_check
  tls_files_gone
  ssl_after=$(source_ssl_state)
  [[ $ssl_after == "$ssl_before" ]] || { diff <(echo "$ssl_before") <(echo "$ssl_after"); fail "SOURCE_SSL* not as before the drill"; }
  no_password_shown
  echo "e2e tls ($strategy): ok" ;;
layout)
  # A site laid out unlike the defaults (the lab's LAB_DATA_ROOT, LAB_BASEDIR, LAB_CONF_NAME,
  # users and passwords), with no [site] settings at all: everything is derived from the servers.
  conf=$LAB_DIR/flashback-nosite.ini
  sed '/^\[site\]/,$d' "$LAB_DIR/flashback.ini" >"$conf"; chmod 600 "$conf"
  ! grep -q '^\[site\]' "$conf" || fail "the [site] section is still there"
  # The standby router takes writes before the drill: stop must put back that (FALSE), not the
  # 1 a standby router usually has (router_state compares after stop).
  q "$TI" 'dbscale set global "enable-read-only" = 0' >/dev/null || fail "opening the standby router before the drill"
  # The nodes run the lab's LAB_SQL_MODE (layout.env: ANSI,NO_BACKSLASH_ESCAPES) and the password
  # holds what that mode reads otherwise (issue 25): a backslash and a quote.
  if [[ -n ${LAB_SQL_MODE:-} ]]; then
    [[ $LAB_MYSQL_PASSWORD == *\\* && $LAB_MYSQL_PASSWORD == *\'* ]] || fail "the layout's password holds no backslash and quote"
    for n in "$pmaster" "${tnodes[@]}"; do
      m=$(q "$n" "SELECT @@GLOBAL.sql_mode")
      for w in ${LAB_SQL_MODE//,/ }; do [[ ,$m, == *,$w,* ]] || fail "$n runs sql_mode '$m', not the lab's $LAB_SQL_MODE"; done
    done
  fi
  drill_main
  [[ $(q "$TI" "dbscale show options like 'enable-read-only'" | cut -f2) == FALSE ]] ||
    fail "stop did not put back enable-read-only = FALSE on the standby router"
  no_password_shown
  echo "e2e layout: ok" ;;
dryrun)
  seed; wait_synced
  before=$(snap); general_log_on
  fr verify --dry-run || fail "verify --dry-run"
  fr start --dry-run >"$LAB_DIR/start-dry-run.out" || fail "start --dry-run"
  fr stop --dry-run; rc=$?; [[ $rc == 3 ]] || fail "stop --dry-run with no drill started: exit $rc, expected 3"
  general_log_no_writes; after=$(snap)
  clone='CLONE LOCAL DATA DIRECTORY'; [[ $strategy == donor ]] && clone='CLONE INSTANCE FROM .* IDENTIFIED BY .* DATA DIRECTORY'
  [[ $cow == 1 ]] && clone='cp -a --reflink=always'
  grep -q "^DRY-RUN [a-z]* .*$clone" "$LAB_DIR/start-dry-run.out" || fail "start --dry-run did not show the clone ($clone)"
  if [[ $strategy == donor ]]; then
    # site.clone_ssl reaches the statement: on and off spelled out; auto follows the donor's own
    # replication channel, which uses TLS on the lab's 9.7, so MySQL's default (no clause) stays.
    ! grep -q "^DRY-RUN .*CLONE INSTANCE FROM .* REQUIRE" "$LAB_DIR/start-dry-run.out" ||
      fail "clone_ssl=auto with a TLS channel: the clone should leave TLS to MySQL's default"
    for tls in "off:REQUIRE NO SSL" "on:REQUIRE SSL"; do
      fr start --dry-run --set "site.clone_ssl=${tls%%:*}" >"$LAB_DIR/start-dry-run-tls.out" || fail "start --dry-run, clone_ssl=${tls%%:*}"
      grep -q "^DRY-RUN .*CLONE INSTANCE FROM .* ${tls#*:}\$" "$LAB_DIR/start-dry-run-tls.out" ||
        fail "start --dry-run with clone_ssl=${tls%%:*} did not show ${tls#*:}"
    done
  fi
  grep -q "nohup setsid sh .*/flashrun_binlog_stream/supervisor.sh" "$LAB_DIR/start-dry-run.out" || fail "start --dry-run did not show the binary log stream's start"
  ! grep -q -F -- "$LAB_MYSQL_PASSWORD" "$LAB_DIR/start-dry-run.out" || fail "start --dry-run printed the MySQL password"
  [[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after"); fail "dry-run changed something"; }
  no_password_shown
  echo "e2e dryrun: ok" ;;
resume)
  seed; baseline
  if [[ $strategy == donor ]]; then
    # start killed while the standby master's CLONE INSTANCE runs: the clone goes on in the
    # server; the re-run waits for it (the lab runs performance_schema off: the processlist)
    killed_mid_clone "${tnodes[0]}"
  else
    killed_when "$restore_point_write" start
    fr start || fail "re-run of start after kill"
  fi
  drill_writes
  # A standby node crashes during the drill, and its pid file then names an unrelated live
  # process (as after a host restart): stop must take the node for down and never signal that
  # process.
  pidf=$(q "${tnodes[1]}" "SELECT @@pid_file")
  [[ $pidf == /* ]] || fail "tgt2's pid file is not an absolute path: $pidf"
  lab stop-node tgt2 --kill || fail "crashing tgt2"
  lab ssh "$tnet.2" "nohup sleep 600 >/dev/null 2>&1 & echo \$! >$pidf" || fail "writing a stale pid file on $tnet.2"
  decoy=$(lab ssh "$tnet.2" "cat $pidf")
  # stop killed while it starts the restored nodes: the re-run must wait for them, not start a
  # second server on the same data
  killed_when "nohup setsid .*mysqld_safe" stop
  # status while the re-run swaps: the stop is running now (its pid), and a restore point moved
  # into its datadir is being put back, not damaged
  bg_plan "$LAB_DIR/stop-rerun.out" stop; spid=$bg_pid
  for ((i = 0; i < 600; i++)); do grep -q "swap every node's data for its restore point …$" "$LAB_DIR/stop-rerun.out" && break; sleep 0.1; done
  frs "$LAB_DIR/status-during-stop.json"
  # what status saw, kept for a failure below: the lock's holder, whether that process ran then,
  # and where the re-run was
  seen="waited $i × 0.1 s; lock: $(tr '\n' ' ' <"$state/flashrun.lock" 2>/dev/null); re-run pid $spid $(kill -0 $spid 2>/dev/null && echo alive || echo gone); re-run at: $(grep -v ' DEBUG ' "$LAB_DIR/stop-rerun.out" | tail -n 2 | tr '\n' ' ')"
  wait $spid; rc=$?; cat "$LAB_DIR/stop-rerun.out" >>"$out"
  [[ $rc == 0 ]] || fail "re-run of stop after kill: exit $rc"
  [[ $(sval "$LAB_DIR/status-during-stop.json" drill plan_stop text) == "running now: pid $spid on "* ]] ||
    fail "status during stop did not name it running: $(sval "$LAB_DIR/status-during-stop.json" drill plan_stop text) ($seen)"
  ! grep -q DAMAGED "$LAB_DIR/status-during-stop.json" || fail "status during stop called a restore point being put back damaged"
  grep -q "is still starting (an interrupted run started it); waiting until it is up" "$out" ||
    fail "the re-run of stop did not wait for the nodes the killed run was starting"
  grep -q "pid file .* names pid $decoy, which is not this node's mysqld" "$out" || fail "stop did not notice the stale pid file"
  lab ssh "$tnet.2" "kill -0 $decoy" || fail "stop signalled the unrelated process $decoy named by a stale pid file"
  lab ssh "$tnet.2" "kill $decoy" || true
  # start recorded the slowed clone bandwidth and stop put it back: the lab's own value again
  [[ $strategy == donor ]] && reset_clone_bandwidth "${tnodes[0]}"
  check_restored prod-during-drill
  no_password_shown
  echo "e2e resume: ok" ;;
killpoints)
  # Killed (SIGKILL) just after a router statement or a clone, then re-run; one drill per pair of
  # kill points (start's, stop's), each checked on the data.
  second="disable dataserver"; [[ $strategy == local ]] && second="STOP REPLICA IO_THREAD"
  for pair in "dynamic remove datasource|dynamic add dataserver" \
              "$second|dynamic add server datasource" \
              "$restore_point_write|enable dataserver"; do
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
  # A restore point is destroyed during the drill: stop takes it again (donor: from the donor,
  # frozen at the restore point all along; local: from a node already restored).
  seed; baseline --no-binlogs
  fr start || fail "start"
  drill_writes
  victim=$tnet.1   # the standby master always takes a restore point
  lab ssh "$victim" "rm -rf $droot/*/flashback_restore_point/mysql.ibd" || fail "damaging the restore point on $victim"
  fr stop >"$LAB_DIR/stop-lost.out" || { tail -20 "$LAB_DIR/stop-lost.out"; fail "stop after a restore point was damaged"; }
  want="cloning it again from donor"; [[ $strategy == local ]] && want="it will be cloned from a restored node"
  grep -q "$victim:3308: .*no longer matches its manifest.*$want" "$LAB_DIR/stop-lost.out" ||
    fail "stop did not say it took the damaged restore point again ($want)"
  check_restored prod-during-drill
  no_password_shown
  echo "e2e lost: ok" ;;
rollback)
  # start interrupted (SIGINT), once while a node hangs in its clone: the automatic rollback must
  # leave the standby exactly as verify wants it.
  seed; wait_synced
  sigint_at() { # PATTERN OUTFILE [HANG]: run start -v; at PATTERN, SIGINT it (with HANG, while
                # the mysqld of that host hangs: SIGSTOP, continued 2 s later)
    bg_plan "$2" start; pid=$bg_pid
    for ((i = 0; i < 600; i++)); do grep -q "$1" "$2" && break; sleep 0.02; done
    if [[ -n ${3:-} ]]; then
      lab ssh "$3" 'kill -STOP $(pgrep -x mysqld)'; kill -INT $pid; sleep 2; lab ssh "$3" 'kill -CONT $(pgrep -x mysqld)'
    else
      kill -INT $pid
    fi
    wait $pid; rc=$?; cat "$2" >>"$out"
    # "rollback complete" means the standby replicates as before, now, not in a moment: every
    # standby node's receiver and applier threads run (read at once, no wait)
    local n st
    for n in "${tnodes[@]}"; do
      st=$(q "$n" "SELECT CONCAT(c.SERVICE_STATE, '/', a.SERVICE_STATE) FROM performance_schema.replication_connection_status c
                   JOIN performance_schema.replication_applier_status a USING (CHANNEL_NAME) WHERE CHANNEL_NAME = ''")
      [[ $st == ON/ON ]] || fail "$n replication io/sql ${st:-none} right after start's rollback said it was complete"
    done
  }
  sigint_at "Step 06/09" "$LAB_DIR/start-sigint.out"
  [[ $rc == 130 ]] && grep -q "rollback complete" "$LAB_DIR/start-sigint.out" ||
    { tail -20 "$LAB_DIR/start-sigint.out"; fail "start interrupted by SIGINT: exit $rc, expected 130 after a complete rollback"; }
  fr verify >/dev/null || fail "verify after the interrupted start"
  # Ctrl-C while a standby node hangs in the middle of its clone.
  sigint_at "Step 08/09 take the restore point" "$LAB_DIR/start-hang.out" "$tnet.3"
  [[ $rc == 130 || $rc == 1 ]] && grep -q "rollback complete" "$LAB_DIR/start-hang.out" ||
    { tail -20 "$LAB_DIR/start-hang.out"; fail "start interrupted while a node hangs: exit $rc, expected a complete rollback"; }
  # (the stream runs before the restore points are taken: their rollback ends it too)
  [[ -z $(lab ssh "$tnet.1" "ls -d $droot/flashrun_binlog_stream 2>/dev/null; pgrep -f 'supervisor[.]sh'; pgrep -x mysqlbinlog") ]] ||
    fail "the restore point's rollback left the binary log stream (directory or processes) on $tnet.1"
  # Ctrl-C while the binary log stream starts: its supervisor is ended and its directory removed.
  sigint_at "Step 07/09 stream" "$LAB_DIR/start-stream.out"
  [[ $rc == 130 ]] && grep -q "rollback complete" "$LAB_DIR/start-stream.out" ||
    { tail -20 "$LAB_DIR/start-stream.out"; fail "start interrupted while the stream starts: exit $rc, expected 130 after a complete rollback"; }
  [[ -z $(lab ssh "$tnet.1" "ls -d $droot/flashrun_binlog_stream 2>/dev/null; pgrep -f 'supervisor[.]sh'; pgrep -x mysqlbinlog") ]] ||
    fail "the rollback left the binary log stream (directory or processes) on $tnet.1"
  [[ $(q "$SI" "dbscale show dataservers" | grep -c slave_dbscale_server) == 1 ]] || fail "rollback did not re-register the standby"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    [[ -z $(lab ssh "$h" "ls -d $droot/*/flashback_restore_point 2>/dev/null") ]] || fail "$h: rollback left a restore point"
  done
  same_routers "after the rollbacks"
  fr stop >"$LAB_DIR/stop-after-rollback.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "records no drill" "$LAB_DIR/stop-after-rollback.out" ||
    fail "stop after a rolled-back start: exit $rc, expected a refusal (3): nothing to stop"
  ! grep -q "not registered on production" "$LAB_DIR/stop-after-rollback.out" || fail "stop took the re-registered standby for a detached one"
  # a start rolled back completely leaves nothing to finish: status says so, and needs no DBA
  frs "$LAB_DIR/status-after-rollback.json"; rc=$?
  [[ $rc == 0 && $(sval "$LAB_DIR/status-after-rollback.json" drill plan_start state) == note ]] ||
    fail "status after a start rolled back completely: exit $rc, expected 0 with the start noted"
  q "$SI" "REPLACE INTO app.t VALUES (11,'after-rollback')" || fail "writing on production"
  wait_synced
  [[ $(q "$TI" "dbscale show dataservers" | grep -c -E 'disabled|down|abnormal') == 0 ]] || fail "rollback left a standby dataserver out of service"
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
  # A user table the clone plugin cannot carry (not InnoDB): verify names it.
  q "$SI" "CREATE TABLE app.myisam_e2e (id INT PRIMARY KEY) ENGINE=MyISAM" || fail "creating a MyISAM table"
  wait_synced
  fr verify >"$LAB_DIR/verify-engine.out"; rc=$?
  q "$SI" "DROP TABLE app.myisam_e2e" || fail "dropping the MyISAM table"
  wait_synced
  [[ $rc == 3 ]] && grep -q "FAIL  target/$tnet.1:3308: table app.myisam_e2e is MyISAM: a clone carries only InnoDB data" "$LAB_DIR/verify-engine.out" ||
    fail "verify with a MyISAM table: exit $rc, expected a refusal naming it"
  # A site setting that does not fit the standby's layout: verify names it for every node.
  fr verify --set site.data_root=/srv/elsewhere >"$LAB_DIR/verify-layout.out"; rc=$?
  [[ $rc == 3 ]] && [[ $(grep -c "FAIL  target/$tnet.[123]:3308: restore point dir .* is not under the data root /srv/elsewhere" "$LAB_DIR/verify-layout.out") == 3 ]] ||
    fail "verify with a data root that holds no node: exit $rc, expected a refusal for each standby node"
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
verify)
  # The first-day mistakes, on one lab. Each: exit 3, the summary (stdout) names the node, the
  # cause (as the server or the system gave it) and the fix, each cause once.
  seed; wait_synced
  vout=$LAB_DIR/verify-case.out verr=$LAB_DIR/verify-case.err
  vq() { # ARGS...: verify -q, stdout (the summary) in $vout, stderr in $verr; sets rc
    "$bin" "$top/plans/verify.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" -q "$@" >"$vout" 2>"$verr"
    rc=$?; cat "$vout" "$verr" >>"$out"
  }
  summary_has() { grep -qF -- "$1" "$vout" || { cat "$vout" "$verr"; fail "$2: the summary lacks '$1'"; }; }
  one_cause() { # TEXT WHAT: TEXT appears on exactly one line of the summary
    [[ $(grep -cF -- "$1" "$vout") == 1 ]] || { cat "$vout"; fail "$2: '$1' is not on exactly one line"; }
  }
  # A healthy pair: exit 0, a summary of at most one screen, the JSON report.
  vq --report-json "$LAB_DIR/verify.json"
  [[ $rc == 0 ]] || { cat "$vout" "$verr"; fail "verify of a healthy pair: exit $rc"; }
  summary_has "verify summary: 0 failed checks" "healthy"
  (( $(wc -l <"$vout") <= 24 )) || fail "the summary of a healthy pair is longer than a screen: $(wc -l <"$vout") lines"
  ! grep -q "INFO" "$verr" || fail "verify -q printed info lines"
  lua5.4 -e 'local d = require("cjson").decode(io.read("a"))
    assert(d.plan == "verify" and d.exit == 0 and d.status == "done", "document")
    assert(d.report.ok == true and d.report.counts.FAIL == 0 and #d.report.failures == 0, "report")
    assert(#d.report.clusters == 2 and #d.report.clusters[2].members == 4, "clusters: router and three nodes")' <"$LAB_DIR/verify.json" ||
    fail "the --report-json document of a healthy pair: $(cat "$LAB_DIR/verify.json")"
  # Its whole output at default verbosity is one screen: the warned (and failed) checks with
  # their causes and fixes, then the summary; the passed checks only with -v, and every check,
  # passed ones included, in --report-json.
  vall() { # FILE ARGS...: verify's whole output (stdout and stderr) in FILE; sets rc
    local f=$1; shift
    "$bin" "$top/plans/verify.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" "${extra[@]}" "$@" >"$f" 2>&1
    rc=$?; cat "$f" >>"$out"
  }
  vdef=$LAB_DIR/verify-default.out vverb=$LAB_DIR/verify-verbose.out
  vall "$vdef" --report-json "$LAB_DIR/verify-default.json"
  [[ $rc == 0 ]] || { cat "$vdef"; fail "verify of a healthy pair at default verbosity: exit $rc"; }
  (( $(wc -l <"$vdef") <= 40 )) || { cat "$vdef"; fail "a healthy pair's verify prints $(wc -l <"$vdef") lines, more than 40"; }
  # Each run is compared with its own report: a check's text carries live figures (free MB).
  vall "$vverb" -v --report-json "$LAB_DIR/verify-verbose.json"
  [[ $rc == 0 ]] || { cat "$vverb"; fail "verify -v of a healthy pair: exit $rc"; }
  lua5.4 - "$LAB_DIR/verify-default.json" "$vdef" "$vverb" "$LAB_DIR/verify-verbose.json" <<'EOF_LUA' || fail "a healthy pair's verify output at default verbosity and with -v (above)"
    local function slurp(p) local f = assert(io.open(p)); local s = f:read("a"); f:close(); return s end
    local rep = require("cjson").decode(slurp(arg[1])).report
    local vrep = require("cjson").decode(slurp(arg[4])).report
    local out, verbose = slurp(arg[2]), slurp(arg[3])
    local function has(s, part) return s:find(part, 1, true) ~= nil end
    local bad = {}
    local function need(cond, what) if not cond then bad[#bad + 1] = what end end
    need(rep.counts.ok >= 20 and #rep.checks == rep.counts.ok + rep.counts.warn + rep.counts.FAIL, "the report carries every check")
    need(rep.counts.warn >= 1, "the lab's warnings (the routers' accounts cannot be checked) are in the report")
    for _, c in ipairs(vrep.checks) do
      if c.state == "ok" then need(has(verbose, "DEBUG") and has(verbose, "ok    " .. c.text), "a passed check missing from -v: " .. c.text) end
    end
    for _, c in ipairs(rep.checks) do
      if c.state == "ok" then
        need(not has(out, "ok    " .. c.text), "a passed check at default verbosity: " .. c.text)
      else
        need(has(out, c.state .. "  " .. c.text .. (c.cause and (": " .. c.cause) or "")), "a " .. c.state .. " check not named: " .. c.text)
      end
    end
    for _, e in ipairs(rep.warnings) do need(has(out, e.text) and (not e.fix or has(out, "fix: " .. e.fix)), "a warning not in the summary: " .. e.text) end
    for _, e in ipairs(rep.failures) do need(has(out, e.text), "a failure not in the summary: " .. e.text) end
    need(has(out, "verify summary: 0 failed checks"), "the summary")
    if #bad > 0 then io.stderr:write(table.concat(bad, "\n"), "\n"); os.exit(1) end
EOF_LUA
  # 1. A wrong password (the standby's account).
  vq --set target.mysql_password=Not-The-Pw-42
  [[ $rc == 3 ]] || fail "a wrong password: exit $rc, expected 3"
  summary_has "  1. standby router $TI: no SQL connection: [1045] (28000) Access denied for user '${LAB_MYSQL_USER:-admin}'" "a wrong password"
  summary_has "     fix: wrong user or password: check mysql_user and mysql_password in [target]" "a wrong password"
  summary_has "FAIL  router   $TI" "a wrong password"
  one_cause "Access denied" "a wrong password"
  (( $(wc -l <"$verr") <= 2 )) || { cat "$verr"; fail "verify -q printed more than the refusal"; }
  # 2. A wrong router port (--ti).
  vq --ti "$TGT:3399"
  [[ $rc == 3 ]] || fail "a wrong router port: exit $rc, expected 3"
  summary_has "  1. standby router $TGT:3399: no SQL connection: [200" "a wrong router port"
  summary_has "     fix: refused at once, nothing listens on that port: check the router's SQL port (--ti HOST:PORT, port in [target])" "a wrong router port"
  # 2a. A node given as the standby's router: it answers SQL, not dbscale statements.
  vq --ti "${tnodes[0]}"
  [[ $rc == 3 ]] || fail "a node as --ti: exit $rc, expected 3"
  summary_has "${tnodes[0]} answers as a MySQL server, not a GreatDB router" "a node as --ti"
  summary_has "     fix: give the standby cluster's router, not a node (--ti HOST:PORT, the router's SQL port)" "a node as --ti"
  # 2b. The two routers given the other way round: the registration check says they look swapped.
  vq --si "$TI" --ti "$SI"
  [[ $rc == 3 ]] || fail "--si and --ti swapped: exit $rc, expected 3"
  summary_has "the router given as the standby ($SI) lists slave_dbscale_server, the one given as the source does not: --si and --ti look swapped" "swapped routers"
  summary_has "     fix: give production's router as --si (source) and the standby's as --ti (target)" "swapped routers"
  # 3. sshd stopped on one standby node.
  # (sshd rewrites its own command line: the host's init script, pid 1, holds how it was started)
  sshd=$(lab ssh "$tnet.2" "tr '\\0' '\\n' </proc/1/cmdline | grep -o '/usr/sbin/sshd .*'")
  [[ $sshd == /usr/sbin/sshd* ]] || fail "reading how sshd was started on $tnet.2: $sshd"
  lab ssh "$tnet.2" 'kill $(cat /run/sshd.pid)' || fail "stopping sshd on $tnet.2"
  vq
  lab ssh "$tnet.2" "$sshd" || fail "starting sshd again on $tnet.2"
  [[ $rc == 3 ]] || fail "sshd stopped on $tnet.2: exit $rc, expected 3"
  summary_has "  1. standby node $tnet.2:3308: no ssh connection (as ${LAB_SYS_USER:-root}, port ${LAB_SYS_PORT:-2222}): cannot connect: Connection refused" "sshd stopped"
  summary_has "     fix: nothing listens on the ssh port: is sshd running there? (port: sys_port in [target])" "sshd stopped"
  summary_has "FAIL  replica  $tnet.2:3308" "sshd stopped"
  # 4. The account lacks a privilege start needs (BACKUP_ADMIN, for CLONE) on the standby nodes:
  # verify and start both refuse, naming it once for the three nodes; start changes nothing.
  # (Grants changed with sql_log_bin=0: no GTID of the standby's own.)
  grants() { local n; for n in "${tnodes[@]}"; do q "$n" "SET sql_log_bin=0; SET GLOBAL super_read_only=0; $1; SET GLOBAL super_read_only=1" || fail "$1 on $n"; done; }
  acct="'${LAB_MYSQL_USER:-admin}'@'%'"
  grants "REVOKE BACKUP_ADMIN ON *.* FROM $acct"
  vq
  [[ $rc == 3 ]] || { grants "GRANT BACKUP_ADMIN ON *.* TO $acct"; fail "an account without BACKUP_ADMIN: exit $rc, expected 3"; }
  summary_has "  1. standby nodes ${tnodes[0]}, ${tnodes[1]}, ${tnodes[2]}: the account $acct lacks BACKUP_ADMIN, which start and stop need for CLONE LOCAL DATA DIRECTORY" "no BACKUP_ADMIN"
  summary_has "     fix: GRANT BACKUP_ADMIN ON *.* TO $acct" "no BACKUP_ADMIN"
  one_cause "lacks BACKUP_ADMIN" "no BACKUP_ADMIN"
  before=$(router_state)
  fr start >"$LAB_DIR/start-noprivilege.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "lacks BACKUP_ADMIN" "$LAB_DIR/start-noprivilege.out" && ! grep -q "Step 02/" "$LAB_DIR/start-noprivilege.out" ||
    { grants "GRANT BACKUP_ADMIN ON *.* TO $acct"; fail "start with an account without BACKUP_ADMIN: exit $rc, expected a refusal at its first step"; }
  [[ $(router_state) == "$before" ]] || fail "the refused start changed the routers"
  # Held through a role: one a new session does not activate is named; a default role counts.
  grants "CREATE ROLE IF NOT EXISTS fr_e2e_clone; GRANT BACKUP_ADMIN ON *.* TO fr_e2e_clone; GRANT fr_e2e_clone TO $acct"
  vq
  [[ $rc == 3 ]] || fail "BACKUP_ADMIN through a role not active at login: exit $rc, expected 3"
  summary_has "it is granted through a role that is not active at login (\`fr_e2e_clone\`@\`%\`): SET DEFAULT ROLE ALL TO $acct" "an inactive role"
  grants "SET DEFAULT ROLE ALL TO $acct"
  vq
  grants "SET DEFAULT ROLE NONE TO $acct; REVOKE fr_e2e_clone FROM $acct; DROP ROLE fr_e2e_clone; GRANT BACKUP_ADMIN ON *.* TO $acct"
  [[ $rc == 0 ]] || { cat "$vout"; fail "BACKUP_ADMIN through a default role: exit $rc, expected 0"; }
  # 5. site.clone_ssl = on in donor mode, and a standby node whose TLS is disabled (a certificate
  # that does not load: ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR turns TLS off): refused,
  # naming that node, before a REQUIRE SSL clone from it would fail.
  cert=$(q "${tnodes[1]}" "SELECT @@GLOBAL.ssl_cert"); [[ -n $cert ]] || fail "reading ssl_cert on ${tnodes[1]}"
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '/nonexistent-cert.pem'; ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR" || fail "turning TLS off on ${tnodes[1]}"
  vq --set site.restore_point=donor --set site.clone_ssl=on
  q "${tnodes[1]}" "SET GLOBAL ssl_cert = '$cert'; ALTER INSTANCE RELOAD TLS" || fail "turning TLS on again on ${tnodes[1]}"
  [[ $rc == 3 ]] || { cat "$vout"; fail "clone_ssl=on with a node without TLS: exit $rc, expected 3"; }
  summary_has "  1. target/${tnodes[1]}: offers no TLS (no certificate loaded: Ssl_server_not_after is empty), which a clone REQUIRE SSL (clone_ssl = on, or auto under [target] ssl_mode required or stronger) needs of a donor" "a donor without TLS"
  one_cause "offers no TLS" "a donor without TLS"
  vq --set site.restore_point=donor --set site.clone_ssl=on
  [[ $rc == 0 ]] || { cat "$vout"; fail "clone_ssl=on, every node with TLS: exit $rc, expected 0"; }
  no_password_shown
  echo "e2e verify: ok" ;;
site)
  # The examples' site directory: the backup job paused on every standby node for the drill, the
  # application's smoke test once the standby is open, monitoring told how each plan ended.
  sdir=$top/examples/site
  export SMOKE_MYSQL="$top/tests/e2e/lab-mysql" DRILL_NOTIFY_LOG=$LAB_DIR/drills.log
  rm -f "$DRILL_NOTIFY_LOG"
  plans_sum=$(cat "$top"/plans/*.lua | sha256sum)
  flag=/data/backup/backup.paused
  seed; wait_synced
  # The site's backup job on every standby node: a run every 0.1 s unless paused, under the lock.
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    lab ssh "$h" "mkdir -p /data/backup; rm -f $flag /data/backup/runs; nohup setsid sh -c 'while :; do [ -e $flag ] || flock /data/backup/backup.lock sh -c \"echo run >>/data/backup/runs; sleep 0.1\"; sleep 0.1; done' </dev/null >/dev/null 2>&1 & echo \$! >/data/backup/job.pid" ||
      fail "starting the backup job on $h"
  done
  runs() { lab ssh "$1" "cat /data/backup/runs 2>/dev/null | wc -l"; }
  flags() { local h n=0; for h in "$tnet.1" "$tnet.2" "$tnet.3"; do lab ssh "$h" "test -e $flag" && n=$((n + 1)); done; echo $n; }
  # in_sequence FILE REGEX...: each matches a line after the previous one's (step numbers are
  # left out: they move when the plans gain a step)
  in_sequence() {
    local f=$1 at=0 n p; shift
    for p in "$@"; do
      n=$(awk -v from="$at" -v pat="$p" 'NR > from && $0 ~ pat { print NR; exit }' "$f")
      [[ -n $n ]] || { grep -n 'Step\|DRY-RUN' "$f" | tail -40; fail "$f: '$p' missing or out of order"; }
      at=$n
    done
  }
  base=("${extra[@]}")
  extra=("${base[@]}" --site-dir "$sdir")
  # --list: the site's steps at their places.
  for p in start stop; do
    ids=" $(fr $p --list | grep -o '\[[a-z_]*\]' | tr -d '[]' | tr '\n' ' ')"
    case $p in
      start) [[ $ids == *" check pause_backup detach "*" open smoke_test notify_monitoring " ]] || fail "start --list: $ids" ;;
      stop) [[ $ids == *" prove_replication resume_backup report notify_monitoring " ]] || fail "stop --list: $ids" ;;
    esac
  done
  # The dry-run rehearses them at their places (the JSON trail keeps log lines and records in order).
  fr start --dry-run --log-json "$LAB_DIR/site-dry.json" >/dev/null || fail "start --dry-run with the site dir"
  S='Step [0-9]+/[0-9]+'
  in_sequence "$LAB_DIR/site-dry.json" "$S check both clusters" "$S pause the backup job" \
    "touch '$flag'" "$S detach" "dynamic remove datasource" "enable-read-only" \
    "$S application smoke test" "DRY-RUN exec local: $sdir/hooks/smoke-test.sh" \
    "$S tell the monitoring" "DRY-RUN exec local: $sdir/hooks/notify.sh"
  [[ $(flags) == 0 && ! -e $DRILL_NOTIFY_LOG ]] || fail "the dry-run paused the job or ran a hook"
  # A forced rollback: a failing site step of the test's own after stop_replication.
  fsite=$LAB_DIR/site-forced; rm -rf "$fsite"; cp -r "$sdir" "$fsite"
  echo 'return { extend = { start = { { after = "stop_replication", id = "forced_failure", name = "fail on purpose", run = function() error("forced failure") end } } } }' >"$fsite/zz-fail.lua"
  extra=("${base[@]}" --site-dir "$fsite")
  fr start >"$LAB_DIR/site-rollback.out"; rc=$?
  [[ $rc == 1 ]] || fail "start with a failing site step: exit $rc, expected 1"
  in_sequence "$LAB_DIR/site-rollback.out" "$S pause the backup job on every standby node … ok" \
    "$S fail on purpose … FAILED" "undo $S stop replication" "undo $S detach" \
    "undo $S pause the backup job" "rollback complete" "$S tell the monitoring"
  [[ $(flags) == 0 ]] || fail "the rollback left the backup job paused"
  grep -q "flashrun start failed (rollback complete, failed at forced_failure)" "$DRILL_NOTIFY_LOG" ||
    fail "the end hook was not told the failure: $(cat "$DRILL_NOTIFY_LOG")"
  [[ $(q "$SI" "dbscale show dataservers" | grep -c slave_dbscale_server) == 1 ]] || fail "rollback did not re-register the standby"
  # The drill with the examples' site dir.
  extra=("${base[@]}" --site-dir "$sdir")
  baseline --no-binlogs
  fr start >"$LAB_DIR/site-start.out" || fail "start with the site dir"
  in_sequence "$LAB_DIR/site-start.out" "$S check both clusters … ok" "$S pause the backup job on every standby node … ok" \
    "$S detach" "$S open the standby read-write … ok" "smoke test passed: wrote and read back start-" \
    "$S application smoke test on the open standby … ok" "$S tell the monitoring how the plan ended … ok"
  [[ $(flags) == 3 ]] || fail "the backup job is not paused on every standby node"
  r1=$(runs "$tnet.2"); sleep 1; r2=$(runs "$tnet.2")
  [[ $r1 == "$r2" ]] || fail "the paused backup job still ran ($r1 -> $r2 runs)"
  drill_writes
  fr stop >"$LAB_DIR/site-stop.out" || fail "stop with the site dir"
  in_sequence "$LAB_DIR/site-stop.out" "$S prove replication resumed … ok" \
    "$S resume the backup job on every standby node … ok" "$S tell the monitoring how the plan ended … ok"
  check_restored prod-during-drill
  [[ $(flags) == 0 ]] || fail "stop did not resume the backup job"
  sleep 1; r3=$(runs "$tnet.2"); [[ $r3 -gt $r2 ]] || fail "the resumed backup job does not run"
  grep -q "flashrun start done (rollback none) standby $TGT:" "$DRILL_NOTIFY_LOG" && grep -q "flashrun stop done" "$DRILL_NOTIFY_LOG" ||
    fail "monitoring was not told: $(cat "$DRILL_NOTIFY_LOG")"
  [[ $(cat "$top"/plans/*.lua | sha256sum) == "$plans_sum" ]] || fail "plans/ changed"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do lab ssh "$h" 'kill $(cat /data/backup/job.pid)'; done
  no_password_shown
  echo "e2e site: ok" ;;
progress)
  # Issue 30, donor strategy, the standby master's clone throttled (clone_max_data_bandwidth, MiB/s)
  # so that it lasts seconds, and start held by the test-only pause point right after the
  # standby master's clone: the binary log stream runs before any restore point is taken (a
  # production write made while start is held reaches the stream's directory), status shows the
  # running step and its progress, and the clone showed progress lines whose percentage grows,
  # with an ETA. Then the drill ends as in main.
  [[ $(q "${tnodes[0]}" "SELECT @@GLOBAL.performance_schema") == 1 ]] || fail "the lab runs performance_schema off"
  seed; wait_synced
  # (the limit holds per clone thread: one thread, as the recorded 9.7 transcript at 2 MiB/s,
  # tests/lua/plans/clone_progress_9.7.tsv; set before the baseline: stop puts it back as start
  # recorded it, and it is set back to the defaults after the drill)
  for n in "${tnodes[@]}"; do
    q "$n" "SET GLOBAL clone_max_data_bandwidth = 1, clone_autotune_concurrency = OFF, clone_max_concurrency = 1" >/dev/null ||
      fail "throttling the clones of $n"
  done
  baseline
  extra=(--set site.restore_point=donor --set site.progress_interval=1)
  held=$LAB_DIR/start.held; rm -f "$held" "$LAB_DIR/start-progress.json"
  extra+=(--log-json "$LAB_DIR/start-progress.json")
  FLASHRUN_TEST_PAUSE="start/restore_point/$tnet.1:3308/2/sql/after" FLASHRUN_TEST_PAUSE_FILE=$held \
    bg_plan "$LAB_DIR/start-progress.out" start
  extra=(--set site.restore_point=donor)
  i=0
  while [[ ! -e $held ]] && ((i++ < 3000)); do kill -0 $bg_pid 2>/dev/null || break; sleep 0.1; done
  [[ -e $held ]] || { cat "$LAB_DIR/start-progress.out"; fail "start never reached the pause point after the master's clone"; }
  # held inside restore_point: a production write reaches the DR site's stream now
  token=held-$RANDOM$RANDOM
  q "$SI" "REPLACE INTO app.t VALUES (20, '$token')" || fail "writing on production while start is held"
  for ((i = 0; i < 300; i++)); do
    lab ssh "$tnet.1" "grep -rlaF -- '$token' $droot/flashrun_binlog_stream/ 2>/dev/null" | grep -q . && break; sleep 0.1
  done
  ((i < 300)) || fail "a production write made while start was held in its restore point step did not reach the stream directory"
  frs "$LAB_DIR/status-held.json" >/dev/null
  [[ $(sval "$LAB_DIR/status-held.json" drill plan_start data.step) == restore_point ]] ||
    fail "status during start does not show the running step restore_point"
  grep -q '"key":"progress_' "$LAB_DIR/status-held.json" || fail "status during start shows no progress row"
  rm -f "$held"; wait $bg_pid; rc=$?
  cat "$LAB_DIR/start-progress.out" >>"$out"
  [[ $rc == 0 ]] || { tail -20 "$LAB_DIR/start-progress.out"; fail "start after the hold: exit $rc"; }
  [[ ! -e $state/progress.json ]] || fail "start left progress.json"
  # a throttled clone's progress events: three or more, the percentage growing, an ETA while it
  # ran (of a recipient's clone: the first one may run before the limits bite)
  lua5.4 - "$LAB_DIR/start-progress.json" <<'LUA' || fail "the clones' progress events"
local cjson = require "cjson"
local by = {}
for l in io.lines(arg[1]) do
  local ok, e = pcall(cjson.decode, l)
  if ok and e.event == "progress" and e.task == "clone" and type(e.pct) == "number" then
    local n = by[e.node] or { pcts = {}, eta = false }
    by[e.node] = n
    n.pcts[#n.pcts + 1] = e.pct
    if type(e.eta) == "number" and e.pct < 100 then n.eta = true end
  end
end
local seen = {}
for node, n in pairs(by) do
  seen[#seen + 1] = node .. ": " .. table.concat(n.pcts, " ")
  -- (growing within its first stage: a later stage starts again from 0)
  local top = math.max(table.unpack(n.pcts))
  if #n.pcts >= 3 and top > n.pcts[1] and n.eta then
    print(("progress of the clone into %s: %s %%"):format(node, table.concat(n.pcts, " ")))
    os.exit(0)
  end
end
error("no clone showed 3 or more progress events, growing, with an ETA: " .. table.concat(seen, "; "))
LUA
  drill_writes
  fr stop || fail "stop"
  check_restored prod-during-drill
  for n in "${tnodes[@]}"; do
    q "$n" "SET GLOBAL clone_max_data_bandwidth = 0, clone_autotune_concurrency = ON, clone_max_concurrency = 16" >/dev/null ||
      fail "setting the clone limits of $n back"
  done
  no_password_shown
  echo "e2e progress: ok" ;;
upgrade)
  # A drill started by an earlier flashrun and stopped by this one (issue 26): E2E_OLD_TOP is a
  # tree of the earlier version with its binary built in E2E_OLD_TOP/build (bench/upgrade.sh
  # makes one from a commit). This stop reads the journal that start wrote and ends the drill;
  # status reads it during the drill. Checked as in main.
  old=${E2E_OLD_TOP:?E2E_OLD_TOP must name a built tree of the earlier flashrun}
  [[ -x $old/build/flashrun && -f $old/plans/start.lua ]] || fail "$old has no build/flashrun and plans/start.lua"
  seed; baseline
  fr verify || fail "verify"
  started_at=$(date +%s)
  env -u FLASHRUN_STDLIB "$old/build/flashrun" "$old/plans/start.lua" --si "$SI" --ti "$TI" --config "$conf" --state-dir "$state" \
    "${extra[@]}" 2>&1 | tee -a "$out" || fail "start by the earlier flashrun ($old)"
  drill_writes
  status_during   # (this version's status on the earlier one's journal)
  measure_restore_points
  fr stop || fail "stop (this version) of a drill the earlier one started"
  check_restored prod-during-drill
  report_check
  no_password_shown
  echo "e2e upgrade ($strategy): ok" ;;
stream)
  # Production keeps writing during the drill while its binary logs stream to the standby site;
  # the stream's mysqlbinlog is killed and its supervisor repairs it; production's router and
  # every production node are then shut down cleanly. stop refuses and offers --production-lost;
  # with it, every standby node ends with production's last committed GTID set (compared once
  # production is started again), read-only and detached. A second stop re-attaches.
  seed; wait_synced
  q "$SI" "DROP TABLE IF EXISTS app.w; CREATE TABLE app.w (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))" || fail "creating app.w"
  fr start || fail "start"
  sdir=$(lab ssh "$tnet.1" "ls -d $droot/flashrun_binlog_stream") || fail "no stream directory on the standby master's host"
  [[ $(lab ssh "$tnet.1" "stat -c %a $sdir/client.cnf") == 600 ]] || fail "the stream's option file is not mode 0600"
  # grep reads it all (not -q): under pipefail, the writer killed by SIGPIPE once grep -q stopped
  # at a match would have hidden exactly the match this looks for.
  lab ssh "$tnet.1" "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\000' ' '" | grep -F -- "$LAB_MYSQL_PASSWORD" >/dev/null && fail "a process command line carries the password"
  writer_stop=$LAB_DIR/writer.stop; rm -f "$writer_stop"
  ( while [[ ! -e $writer_stop ]]; do lab sql "$SI" "INSERT INTO app.w (at) VALUES (NOW(6))" >/dev/null 2>&1; sleep 0.05; done ) &
  writer=$!
  drill_writes
  # The stream dies: its supervisor starts another, and status says so.
  b1=$(lab ssh "$tnet.1" "cat $sdir/mysqlbinlog.pid")
  lab ssh "$tnet.1" "[ \"\$(cat /proc/$b1/comm)\" = mysqlbinlog ] && kill -9 $b1" || fail "killing the stream's mysqlbinlog ($b1)"
  for ((i = 0; i < 100; i++)); do
    fr status >"$LAB_DIR/status.out" 2>&1 && grep -q "restarts *1" "$LAB_DIR/status.out" && break; sleep 0.3
  done
  grep -q "restarts *1" "$LAB_DIR/status.out" && grep -q "stream *streaming" "$LAB_DIR/status.out" ||
    { cat "$LAB_DIR/status.out"; fail "status does not show the stream repaired after its mysqlbinlog was killed"; }
  b2=$(lab ssh "$tnet.1" "cat $sdir/mysqlbinlog.pid"); [[ $b2 != "$b1" ]] || fail "mysqlbinlog was not restarted"
  sleep 2
  # Production goes away cleanly, the writer still writing until its router is gone.
  lab stop-router src || fail "stopping production's router"
  touch "$writer_stop"; wait $writer
  pids=(); for h in "$snet.1" "$snet.2" "$snet.3"; do lab stop-node "$h" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || fail "stopping a production node"; done
  fr stop >"$LAB_DIR/stop-refused.out"; rc=$?
  [[ $rc == 3 ]] && grep -q -- "--production-lost" "$LAB_DIR/stop-refused.out" ||
    fail "stop with production gone: exit $rc, expected a refusal (3) offering --production-lost"
  fr stop --production-lost >"$LAB_DIR/stop-production-lost.out" || { tail -20 "$LAB_DIR/stop-production-lost.out"; fail "stop --production-lost"; }
  held=$(q "$tnet.1:3308" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
  # (the client prints a multi-UUID set's line breaks as "\n"; flashrun prints the set on one line)
  grep -q -F "every standby node holds the GTID set ${held//\\n/}" "$LAB_DIR/stop-production-lost.out" || fail "stop --production-lost did not name the GTID set the standby holds ($held)"
  grep -q "the last GTID received from production is [0-9a-f-]*:[0-9]" "$LAB_DIR/stop-production-lost.out" || fail "stop --production-lost did not name the last GTID received"
  for n in "${tnodes[@]}"; do
    [[ $(q "$n" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n') == "$held" ]] || fail "$n does not hold the standby master's GTID set $held"
    [[ $(q "$n" "SELECT @@GLOBAL.super_read_only") == 1 ]] || fail "$n is not read-only after stop --production-lost"
    [[ $(q "$n" "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='drill'") == 0 ]] || fail "drill schema left on $n"
  done
  [[ -z $(rstatus "$tnet.1:3308" Replica_IO_Running) || $(rstatus "$tnet.1:3308" Replica_IO_Running) == No ]] || fail "the standby master replicates after stop --production-lost"
  [[ $(q "$TI" "dbscale show options like 'enable-read-only'" | cut -f2) =~ ^(1|TRUE)$ ]] || fail "the standby router is not read-only"
  fr status >"$LAB_DIR/status-lost.out" 2>&1; [[ $? == 3 ]] && grep -q "production lost" "$LAB_DIR/status-lost.out" || fail "status does not show the production-lost standby"
  # Production comes back: it holds exactly what the standby took from the stream.
  pids=(); for h in "$snet.1" "$snet.2" "$snet.3"; do lab start-node "$h" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || fail "starting a production node"; done
  lab start-router src || fail "starting production's router"
  prod=$(q "$snet.1:3308" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
  [[ $prod == "$held" ]] || fail "production executed $prod, the standby holds $held after stop --production-lost"
  [[ $(q "$SI" "dbscale show dataservers" | grep -c slave_dbscale_server) == 0 ]] || fail "the standby is attached after stop --production-lost"
  src=$(checksums "$snet.1:3308")
  for n in "${tnodes[@]}"; do [[ $(checksums "$n") == "$src" ]] || fail "$n table checksums differ from production's after stop --production-lost"; done
  fr stop >"$LAB_DIR/stop-after-lost.out" || { tail -20 "$LAB_DIR/stop-after-lost.out"; fail "stop once production is back"; }
  grep -q "resuming plan stop" "$LAB_DIR/stop-after-lost.out" || fail "the second stop did not resume the paused one"
  check_restored prod-during-drill
  [[ -z $(lab ssh "$tnet.1" "ls -d $sdir 2>/dev/null") ]] || fail "the stream directory is left after stop"
  no_password_shown
  echo "e2e stream: ok" ;;
purged)
  # Production purges the binary logs holding what it wrote during the drill: status says the
  # standby can no longer re-attach (exit 3), and stop refuses before touching anything, naming
  # the choices. The lab cannot drill again (production lacks those binary logs for good): it
  # is marked for a rebuild, so run this case last on a lab.
  seed; wait_synced
  fr start >/dev/null || fail "start"
  drill_writes
  q "$pmaster" "FLUSH BINARY LOGS" >/dev/null || fail "rotating production's binary log"
  last=$(q "$pmaster" "SHOW BINARY LOGS" | tail -1 | cut -f1)
  q "$pmaster" "PURGE BINARY LOGS TO '$last'" >/dev/null || fail "purging production's binary logs"
  frozen=$(jval "$state/redo.json" state.frozen)
  lost=$(q "$pmaster" "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_purged, '$frozen')")
  [[ $(gtid_count "$lost") == 2 ]] || fail "the purge did not take production's 2 drill-time writes (lost: $lost)"
  frs "$LAB_DIR/status-purged.json"; rc=$?
  [[ $rc == 3 && $(sval "$LAB_DIR/status-purged.json" reattach deadline data.state) == lost &&
     $(nows "$(sval "$LAB_DIR/status-purged.json" reattach deadline data.lost)") == "$(nows "$lost")" ]] ||
    { cat "$LAB_DIR/status-purged.json"; fail "status after the purge: exit $rc, expected 3 naming the lost transactions"; }
  fr stop >"$LAB_DIR/stop-purged.out"; rc=$?
  [[ $rc == 3 ]] && grep -q "the standby cannot re-attach to production; stop changed nothing" "$LAB_DIR/stop-purged.out" &&
    grep -q "purged binary logs holding transactions after the restore point: $(nows "$lost")" "$LAB_DIR/stop-purged.out" &&
    grep -q "Choices:" "$LAB_DIR/stop-purged.out" || fail "stop after the purge: exit $rc, expected a refusal naming the lost transactions and the choices"
  # Nothing was touched: the standby is open with the drill's data, its restore points are there,
  # the journal still holds the drill.
  [[ $(q "$TI" "SELECT COUNT(*) FROM drill.x") == 2 ]] || fail "the drill's data is gone after the refusal"
  [[ $(q "$TI" "dbscale show options like 'enable-read-only'" | cut -f2) == 0 ]] || fail "stop closed the standby before refusing"
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    [[ -n $(lab ssh "$h" "ls -d $droot/*/flashback_restore_point 2>/dev/null") ]] || fail "$h: the restore point is gone after the refusal"
  done
  [[ $(jval "$state/redo.json" state.drill_open) == true ]] || fail "the journal no longer holds the drill"
  [[ $(jval "$state/redo.json" plans.stop.failed_step) == check_reattach ]] || fail "stop failed elsewhere than check_reattach"
  no_password_shown
  echo "purged: production lacks the binary logs the standby needs, by design" >"$broken"
  trap - EXIT
  echo "e2e purged: ok" ;;
secure)
  # A LAB_SECURE_SSH=1 lab (issue 28): sshd refuses root and passwords, flashrun logs in as dba
  # with the key ssh-agent holds and runs every command as root through sudo. Refusals first,
  # each with its cause; then a whole drill, checked as in main; then the hosts' sshd logs.
  [[ ${LAB_SECURE_SSH:-0} == 1 ]] || fail "drill.sh secure needs a lab brought up with LAB_SECURE_SSH=1"
  grep -qx 'sys_user = dba' "$conf" && grep -qx 'sys_become = sudo' "$conf" || fail "$conf: not dba through sudo"
  ! grep -qE '^(sys_password|ssh_key|ssh_key_passphrase) *=' "$conf" || fail "$conf holds a password, a key file or a passphrase"
  # the refusals: verify exits 3 naming the cause
  refused() { # FILE PATTERN WHAT: the last verify exited 3 and said PATTERN
    [[ $rc == 3 ]] && grep -q -- "$2" "$1" || { cat "$1"; fail "$3: verify exit $rc, expected 3 saying '$2'"; }
  }
  unset SSH_AUTH_SOCK
  fr verify >"$LAB_DIR/secure-noagent.out"; rc=$?
  refused "$LAB_DIR/secure-noagent.out" "authentication as dba failed: the server offers publickey; tried" "no agent"
  # an agent holding another key
  other=$LAB_DIR/secure-other; rm -rf "$other"; mkdir -m 0700 "$other"
  ssh-keygen -q -t ed25519 -N '' -C other -f "$other/id" </dev/null || fail "ssh-keygen"
  agent_out=$(ssh-agent -s -a "$other/agent.sock") || fail "ssh-agent"
  other_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' <<<"$agent_out")
  SSH_AUTH_SOCK=$other/agent.sock ssh-add -q "$other/id" </dev/null || fail "ssh-add"
  SSH_AUTH_SOCK=$other/agent.sock fr verify >"$LAB_DIR/secure-otheragent.out"; rc=$?
  kill "$other_pid"
  refused "$LAB_DIR/secure-otheragent.out" "tried the agent at $other/agent.sock (1 key, none accepted for dba)" "an agent without dba's key"
  # the lab's agent: exactly one line
  agent_line=$(lab agent) || fail "lab agent"
  [[ $agent_line =~ ^SSH_AUTH_SOCK=/[^$'\n']+$ && -S ${agent_line#SSH_AUTH_SOCK=} ]] || fail "lab agent printed '$agent_line'"
  export "$agent_line"
  [[ $(lab agent) == "$agent_line" ]] || fail "a second lab agent started another agent"
  # sudo that wants a password, then one that demands a tty (CentOS 7's Defaults requiretty); the
  # sudoers file is swapped under the hosts' bind mount (sudo skips names with a dot)
  sudoers=$LAB_DIR/etc/sudoers.d/flashrun-lab; good=$(cat "$sudoers")
  put_sudoers() { printf '%s\n' "$1" >"$sudoers.new"; chmod 0440 "$sudoers.new"; mv "$sudoers.new" "$sudoers"; }
  put_sudoers "dba ALL=(ALL) ALL"
  fr verify >"$LAB_DIR/secure-sudopw.out"; rc=$?
  refused "$LAB_DIR/secure-sudopw.out" "sudo wants a password for dba to run commands as root" "sudo with a password"
  grep -q "dba ALL=(root) NOPASSWD: ALL" "$LAB_DIR/secure-sudopw.out" || fail "the sudoers line is not shown"
  put_sudoers "Defaults:dba requiretty"$'\n'"$good"
  fr verify >"$LAB_DIR/secure-tty.out"; rc=$?
  refused "$LAB_DIR/secure-tty.out" "sudo demands a tty (Defaults requiretty)" "requiretty"
  grep -q "Defaults:dba !requiretty" "$LAB_DIR/secure-tty.out" || fail "the requiretty fix is not shown"
  put_sudoers "$good"
  # a start_command without {extra_args}: a restored master would replicate from production
  fr verify --set "site.start_command=/data/lab-service start {port}" >"$LAB_DIR/secure-noextra.out"; rc=$?
  refused "$LAB_DIR/secure-noextra.out" "site.start_command does not name {extra_args}" "start_command without {extra_args}"
  # E2E_SERVICE=1: the nodes are started and stopped by the lab's service script, as a site's
  # service manager would (site.start_command / stop_command)
  if [[ ${E2E_SERVICE:-0} == 1 ]]; then
    extra+=(--set "site.start_command=/data/lab-service start {port} {extra_args}" --set "site.stop_command=/data/lab-service stop {port}")
    # a site whose units run mysqld without mysqld_safe: flashrun never runs it, verify does not
    # ask for it
    extra+=(--set "site.mysqld_safe=/nonexistent/mysqld_safe")
  fi
  # the drill, keys from the agent only, commands as root through sudo
  drill_main
  if [[ ${E2E_SERVICE:-0} == 1 ]]; then
    grep -q "sudo -n -u 'root' -- sh -c 'cd /; /data/lab-service start 3308 --skip-replica-start'" "$LAB_DIR/stop-dry-run.out" ||
      fail "stop --dry-run did not restart the nodes through site.start_command"
    grep -q "ssh dba@.*/data/lab-service stop 3308" "$LAB_DIR/stop-dry-run.out" ||
      fail "stop --dry-run did not stop the nodes through site.stop_command"
  fi
  [[ ${E2E_SERVICE:-0} == 1 ]] || grep -q "sudo -n -u 'root' -- sh -c .*nohup setsid .*mysqld_safe" "$LAB_DIR/stop-dry-run.out" ||
    fail "stop --dry-run did not restart the nodes through sudo"
  # sshd on every host: dba logged in with its key, nobody as root, no password tried
  for h in src1 src2 src3 tgt1 tgt2 tgt3; do
    log=$(lab ssh "$h" cat /run/sshd.log) || fail "$h: no sshd log"
    grep -q "Accepted publickey for dba from" <<<"$log" || fail "$h: dba never logged in (sshd log: $(tail -3 <<<"$log"))"
    ! grep -qE "Accepted [a-z-]+ for root |for root from|user root|ROOT LOGIN" <<<"$log" || fail "$h: a root login in sshd's log: $(grep -E 'root' <<<"$log" | head -3)"
    ! grep -q "Accepted password\|Failed password" <<<"$log" || fail "$h: a password was tried"
  done
  no_password_shown
  echo "e2e secure: ok" ;;
*) fail "unknown case $1" ;;
esac
