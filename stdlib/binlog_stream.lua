-- binlog_stream.lua — production's binary logs streamed to the DR site for the length of a drill.
--
-- While the standby is detached and serving a drill it protects nothing: if production is lost
-- then, every transaction since the restore point goes with it. start therefore runs, on a standby
-- host (the standby master's, or site.binlog_stream_host), `mysqlbinlog --read-from-remote-server
-- --raw --stop-never` against production's master, into one directory per production master
-- (NNN_HOST_PORT below site.binlog_stream_dir), from the binary log holding the first transaction
-- after the restore point. stop --production-lost applies what arrived (docs/operator.md).
--
-- mysqlbinlog does not reconnect, and flashrun is not running between start and stop, so a small
-- shell supervisor on that host (supervisor.sh, run under nohup setsid, its pid in
-- supervisor.pid) restarts mysqlbinlog whenever it ends and follows production's master: every
-- few seconds it asks production's router, with the account flashrun uses there, which dataserver
-- is Master_Online (the router decides who is master, so it is asked, not a file flashrun would
-- have to refresh while it is not running). A new master gets a directory of its own, streamed
-- from its own binary log holding the first transaction after the restore point: transactions
-- received twice are applied once (the server skips a GTID it executed).
--
-- Secrets: the account's password is only in client.cnf, created mode 0600 (umask 077) from ssh
-- stdin and read by mysql/mysqlbinlog through --defaults-extra-file: never on a command line,
-- in the environment or in a file others can read. A process is signalled only once proven
-- ours: the supervisor by its command line (sh DIR/supervisor.sh), mysqlbinlog by its command
-- name and its --result-file inside DIR.
--
-- The remote scripts are built by pure functions (a unit test reads and runs them); the
-- functions taking an ssh session run them.
local shell = require "shell"
local cluster = require "cluster"
local site = require "site"
local server = require "server"
local replica = require "replica"
local router = require "router"
local wait = require "flashrun.wait"
local settings = require "flashrun.settings"
local gtid = require "flashrun.gtid"
local log = require "flashrun.log"

local M = {}
local Q = shell.quote

-- What the stream and its apply need of the accounts (gathered by privileges.lua; the table
-- in docs/operator.md lists them). Production's account is [source] mysql_user.
M.PRIVILEGES = {
  { on = "production nodes", any = { "REPLICATION SLAVE" }, plans = "start stop",
    stmt = "the binary log stream (mysqlbinlog --read-from-remote-server), SHOW BINLOG EVENTS, SHOW REPLICAS" },
  { on = "production nodes", any = { "REPLICATION CLIENT", "SUPER" }, plans = "start",
    stmt = "SHOW BINARY LOGS (where the stream begins)" },
  { on = "standby nodes", any = { "REPLICATION_APPLIER", "SYSTEM_VARIABLES_ADMIN", "SUPER" }, plans = "stop", severity = "warn",
    stmt = "applying the streamed binary logs (BINLOG, SET gtid_next; stop --production-lost only)" },
}

M.MARK = ".flashrun-binlog-stream"  -- a directory holding it is one flashrun made (and may remove)
M.MAX_SERVER_ID = 4294967295

-- A GTID set as it may go into a shell word and a SQL literal (UUIDs, tags, ranges).
local function gtids(s)
  s = tostring(s or ""):gsub("%s", "")
  if not s:match("^[%w:,%-_]*$") then error("not a GTID set: " .. shell.show(s), 0) end
  return s
end

-- The value of an option file line: double-quoted, with \ and " escaped (mysys reads \\ and \"
-- inside quotes; # and ; are then no comment). A newline cannot be written: refused.
function M.cnf_value(v)
  v = tostring(v)
  if v:find("[\r\n%z]") then error("a password with a newline or NUL cannot go into an option file", 0) end
  return '"' .. v:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

-- The [client] option file content for user/password (goes through ssh stdin only), and the
-- TLS lines of M.tls_cnf when given.
function M.cnf(user, password, tls)
  return ("[client]\nuser = %s\npassword = %s\n"):format(M.cnf_value(user), M.cnf_value(password)) .. (tls or "")
end

-- The TLS files of a section (c: config.source or config.target) the stream host needs, as
-- {name = file name in the stream directory, path = the local file}: ssl_ca when a mode
-- verifies, ssl_cert and ssl_key when given. prefix tells production's ("tls-") from the
-- standby's ("tls-target-"). They are copied 0600 into the stream directory, owned by the ssh
-- user that runs mysqlbinlog and mysql, and go with it (remove_script, apply).
function M.tls_files(c, prefix)
  local set = function(v) return v ~= nil and v ~= "" and v or nil end
  local verifies = tostring(c.ssl_mode):match("^verify") or tostring(c.router_ssl_mode):match("^verify")
  local out = {}
  if verifies and set(c.ssl_ca) then out[#out + 1] = { name = prefix .. "ca.pem", path = c.ssl_ca, opt = "ssl-ca" } end
  if set(c.ssl_cert) and set(c.ssl_key) then
    out[#out + 1] = { name = prefix .. "cert.pem", path = c.ssl_cert, opt = "ssl-cert" }
    out[#out + 1] = { name = prefix .. "key.pem", path = c.ssl_key, opt = "ssl-key" }
  end
  return out
end

-- The option file lines for a section's TLS (the mysql client's --ssl-mode and friends, MySQL
-- manual "Command Options for Encrypted Connections"): [client] with ssl_mode for the nodes,
-- [client_router] (read by `mysql --defaults-group-suffix=_router`) with router_ssl_mode for
-- production's router. files: M.tls_files's, dir: where they are on the stream host. Pure.
function M.tls_cnf(c, files, dir)
  local by = {}
  for _, f in ipairs(files) do by[f.opt] = dir .. "/" .. f.name end
  local function group(mode)
    mode = tostring(mode or "preferred")
    local L = { "ssl-mode = " .. mode:upper() }
    if mode:match("^verify") and by["ssl-ca"] then L[#L + 1] = "ssl-ca = " .. M.cnf_value(by["ssl-ca"]) end
    if by["ssl-cert"] then
      L[#L + 1] = "ssl-cert = " .. M.cnf_value(by["ssl-cert"])
      L[#L + 1] = "ssl-key = " .. M.cnf_value(by["ssl-key"])
    end
    if c.tls_version and c.tls_version ~= "" then L[#L + 1] = "tls-version = " .. M.cnf_value(c.tls_version) end
    return table.concat(L, "\n") .. "\n"
  end
  return group(c.ssl_mode) .. "[client_router]\n" .. group(c.router_ssl_mode or c.ssl_mode)
end

-- Copies files (M.tls_files) into dir on s, each 0600 (the content through ssh stdin).
local function copy_tls_files(s, dir, files)
  for _, f in ipairs(files) do
    local h = io.open(f.path, "rb")
    if not h then error(("cannot read %s to copy it to the stream host"):format(f.path), 0) end
    local text = h:read("a"); h:close()
    cluster.run(s, M.cnf_script(dir, f.name), { stdin = text })
  end
end

-- Where the stream runs, from start's journal: { host, dir, mysqlbinlog, mysql }. The standby
-- master's host and data root unless the site names others.
function M.where(state)
  local master
  for _, m in ipairs(state.sites or {}) do if state.master and m.id == state.master.id then master = m end end
  if not master then error("the journal records no standby master to stream on", 0) end
  local host = site.get("binlog_stream_host") or master.host
  local dir = site.get("binlog_stream_dir")
  dir = (dir and dir ~= "") and dir or (master.data_root .. "/flashrun_binlog_stream")
  local bin = shell.dirname(master.mysql)
  local w = {
    host = host, dir = shell.normpath(dir),
    mysqlbinlog = (site.get("mysqlbinlog") or "") ~= "" and site.get("mysqlbinlog") or (bin .. "/mysqlbinlog"),
    mysql = master.mysql,
  }
  if not w.dir or w.dir:match("^/[^/]*$") then error(("site.binlog_stream_dir %q is not a directory below /"):format(dir), 0) end
  if not shell.is_host(w.host) then error("site.binlog_stream_host is not a host: " .. shell.show(w.host), 0) end
  return w
end

-- The server_id the stream connects with: the highest one no server of either cluster uses (nor
-- any client registered on production's master). mysqlbinlog's default would make production
-- drop the dump thread of a real replica that has it.
function M.choose_server_id(used)
  local id = M.MAX_SERVER_ID
  while used[id] do id = id - 1 end
  return id
end

-- Every server_id in use: each node of both clusters, and the replicas production's master
-- knows (SHOW REPLICAS, which also lists other binlog clients).
function M.used_server_ids(topo)
  local used = {}
  for _, side in ipairs({ "source", "target" }) do
    for _, n in ipairs(topo[side].nodes) do
      local c = cluster.connect(side, n.host, n.port)
      used[math.tointeger(tonumber(server.variable(c, "server_id")))] = n.id
      if n.role == "primary" and side == "source" then
        local rows = c:query(server.new_vocabulary(c) and "SHOW REPLICAS" or "SHOW SLAVE HOSTS")
        for _, r in ipairs(rows or {}) do
          local sid = tonumber(server.value(r.Server_Id or r.Server_id))
          if sid then used[math.tointeger(sid)] = used[math.tointeger(sid)] or "a replica of " .. n.id end
        end
      end
      c:close()
    end
  end
  return used
end

-- The binary log of production's master (conn) holding the first transaction after the
-- restore point `frozen`: the newest one whose Previous_gtids lie within it. Raises when none
-- does (production purged what the stream needs).
function M.first_file(conn, frozen, id)
  local logs, err = conn:query("SHOW BINARY LOGS")
  if not logs then error(("%s: SHOW BINARY LOGS failed: %s"):format(id, tostring(err)), 0) end
  for i = #logs, 1, -1 do
    local f = server.value(logs[i].Log_name)
    if not shell.is_name(f) then error(("%s: unusable binary log name %s"):format(id, shell.show(f)), 0) end
    local evs = conn:query(("SHOW BINLOG EVENTS IN %s LIMIT 4"):format(shell.sql_string(f))) or {}
    for _, e in ipairs(evs) do
      if server.value(e.Event_type) == "Previous_gtids" then
        local prev = tostring(server.value(e.Info) or ""):gsub("%s", "")
        if gtid.is_subset(prev, frozen) then return f end
      end
    end
  end
  error(("%s no longer has the binary log holding the first transaction after the restore point %s (purged): " ..
         "production's binary logs cannot be streamed from it; set site.binlog_stream = off to drill without the protection")
        :format(id, frozen), 0)
end

-- The supervisor (a POSIX sh script; no secret in it). p: { dir, router_host, router_port,
-- server_id, frozen, mysql, mysqlbinlog }.
-- Long: the supervisor is one shell script, kept whole here so that it reads as it runs on the host.
function M.supervisor_script(p)
  local frozen = gtids(p.frozen)
  return table.concat({
    "#!/bin/sh",
    "# flashrun binlog stream supervisor: written by flashrun start (stdlib/binlog_stream.lua), ended by stop.",
    "# Keeps mysqlbinlog streaming production's binary logs into one directory per production master,",
    "# restarts it when it ends, follows the master production's router names.",
    "D=" .. Q(p.dir),
    "ROUTER_HOST=" .. Q(p.router_host) .. "; ROUTER_PORT=" .. math.tointeger(p.router_port),
    "SERVER_ID=" .. math.tointeger(p.server_id),
    "FROZEN=" .. Q(frozen),
    "MYSQL=" .. Q(p.mysql) .. "; MYSQLBINLOG=" .. Q(p.mysqlbinlog),
    "POLL=" .. math.tointeger(p.poll or 3),
    -- Where start found the stream begins (it asked the router and the master already).
    "FIRST_MASTER=" .. Q(p.first_master or "") .. "; FIRST_FILE=" .. Q(p.first_file or ""),
    [[cnf=$D/client.cnf
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }
# The node's global sql_mode applies: the literals below (binary log names, GTID sets) hold only
# letters, digits and : , . _ - (the names and Previous_gtids are filtered so), read alike by every mode.
sql() { "$MYSQL" --defaults-extra-file="$cnf" --connect-timeout=10 -h "$1" -P "$2" -N -B -e "$3"; }
# The dataserver production's router shows Master_Online (the standby router's entry left out).
master() {
  "$MYSQL" --defaults-extra-file="$cnf" --defaults-group-suffix=_router --connect-timeout=10 -h "$ROUTER_HOST" -P "$ROUTER_PORT" -B -e 'dbscale show dataservers' 2>/dev/null |
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $c["master-online-status"] == "Master_Online" && $c["servername"] != "slave_dbscale_server" { print $c["host"] " " $c["port"]; exit }'
}
# The newest binary log of $1:$2 whose Previous_gtids lie within the restore point: it holds the
# first transaction after it (or the restore point is all there is).
first_file() {
  for f in $(sql "$1" "$2" 'SHOW BINARY LOGS' | cut -f1 | sort -r); do
    case $f in *[!A-Za-z0-9._-]*) continue ;; esac
    prev=$(sql "$1" "$2" "SHOW BINLOG EVENTS IN '$f' LIMIT 4" | awk -F'\t' '$3 == "Previous_gtids" { print $6 }' | sed 's/\\n//g')
    case $prev in *[!A-Za-z0-9:,_-]*) continue ;; esac
    [ "$(sql "$1" "$2" "SELECT GTID_SUBSET('$prev', '$FROZEN')")" = 1 ] && { echo "$f"; return 0; }
  done
  return 1
}
alive() { case $(ps -o stat= -p "$1" 2>/dev/null) in ''|Z*) return 1 ;; esac; }
stopping=; child=; cur=; sub=; said=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
echo $$ >"$D/supervisor.pid"
say "supervisor $$ started (connection server_id $SERVER_ID)"
while [ -z "$stopping" ]; do
  if [ -n "$FIRST_MASTER" ] && [ -z "$cur" ]; then m=$FIRST_MASTER; else m=$(master); fi
  if [ -z "$m" ]; then
    [ "$said" = norouter ] || say "production's router $ROUTER_HOST:$ROUTER_PORT names no master (unreachable?): asking again every ${POLL}s"
    said=norouter; sleep "$POLL" & wait $!; continue
  fi
  host=${m% *}; port=${m#* }
  if [ "$m" != "$cur" ]; then
    last=$(ls -d "$D"/[0-9][0-9][0-9]_* 2>/dev/null | sort | tail -n 1)
    case $last in *"_${host}_$port") sub=$last ;; *)
      n=$(ls -d "$D"/[0-9][0-9][0-9]_* 2>/dev/null | wc -l)
      sub=$D/$(printf %03d $((n + 1)))_${host}_$port; mkdir -p "$sub" ;; esac
    cur=$m; echo "$host $port $sub" >"$D/master"
  fi
  start=$(ls "$sub" 2>/dev/null | sort | tail -n 1)
  [ -n "$start" ] || { [ "$m" = "$FIRST_MASTER" ] && start=$FIRST_FILE; }
  [ -n "$start" ] || start=$(first_file "$host" "$port")
  if [ -z "$start" ]; then
    [ "$said" = nofile ] || say "$host:$port holds no binary log from the restore point on (purged, or unreachable): asking again every ${POLL}s"
    said=nofile; sleep "$POLL" & wait $!; continue
  fi
  said=
  "$MYSQLBINLOG" --defaults-extra-file="$cnf" --read-from-remote-server --host="$host" --port="$port" --raw --stop-never \
    --connection-server-id="$SERVER_ID" --result-file="$sub/" "$start" </dev/null &
  child=$!; echo "$child" >"$D/mysqlbinlog.pid"
  # A TERM that came while it was being started found no child to pass itself on to.
  [ -z "$stopping" ] || kill -TERM "$child" 2>/dev/null
  say "started mysqlbinlog $child from $host:$port $start"
  while [ -z "$stopping" ] && alive "$child"; do
    sleep "$POLL" & wait $!
    m=$(master)
    if [ -n "$m" ] && [ "$m" != "$cur" ] && [ -z "$stopping" ]; then
      say "production's router names $m as master now: following it"; kill -TERM "$child" 2>/dev/null
    fi
  done
  wait "$child"; rc=$?; child=
  [ -n "$stopping" ] || { say "mysqlbinlog ended (exit $rc): restarting it"; sleep 1 & wait $!; }
done
rm -f "$D/supervisor.pid" "$D/mysqlbinlog.pid"
say "supervisor stopped"
]] }, "\n")
end

-- Shell that sets P to the supervisor's pid when it is ours (its command line is sh DIR/supervisor.sh)
-- and B to mysqlbinlog's when it is ours (command name mysqlbinlog, --result-file inside DIR).
local function proofs(dir)
  return table.concat({
    "D=" .. Q(dir),
    "P=$(cat \"$D/supervisor.pid\" 2>/dev/null); case $P in ''|*[!0-9]*) P= ;; esac",
    "[ -n \"$P\" ] && tr '\\000' '\\n' </proc/$P/cmdline 2>/dev/null | grep -qxF \"$D/supervisor.sh\" || P=",
    "B=$(cat \"$D/mysqlbinlog.pid\" 2>/dev/null); case $B in ''|*[!0-9]*) B= ;; esac",
    "[ -n \"$B\" ] && [ \"$(cat /proc/$B/comm 2>/dev/null)\" = mysqlbinlog ] && tr '\\000' '\\n' </proc/$B/cmdline 2>/dev/null | grep -q \"^--result-file=$D/\" || B=",
  }, "\n")
end

function M.cnf_script(dir, name)
  return ("umask 077 && mkdir -p %s && touch %s && cat >%s && chmod 600 %s"):format(Q(dir), Q(dir .. "/" .. M.MARK),
    Q(dir .. "/" .. name), Q(dir .. "/" .. name))
end

-- Ends an earlier run's stream (a run killed in this step left one), writes the option file
-- (its first cnf_len bytes of stdin, mode 0600) and the supervisor (the rest), and launches it.
function M.setup_script(dir, cnf_len)
  local D = Q(dir)
  return table.concat({
    M.stop_script(dir),
    ("umask 077 && mkdir -p %s && touch %s && : >%s && rm -f %s && dd bs=1 count=%d of=%s 2>/dev/null && chmod 600 %s && cat >%s")
      :format(D, Q(dir .. "/" .. M.MARK), Q(dir .. "/supervisor.log"), Q(dir .. "/client.cnf"), math.tointeger(cnf_len),
              Q(dir .. "/client.cnf"), Q(dir .. "/client.cnf"), Q(dir .. "/supervisor.sh")),
    M.launch_script(dir),
  }, "\n")
end

-- Starts the supervisor detached from the ssh channel (no-op when ours runs already).
function M.launch_script(dir)
  -- "cd /;" not "cd / &&": the & must apply to the one command, or a subshell holding the ssh
  -- channel open waits for the supervisor.
  return proofs(dir) .. "\n" .. ("[ -n \"$P\" ] || { cd /; nohup setsid sh %s </dev/null >>%s 2>&1 & }")
    :format(Q(dir .. "/supervisor.sh"), Q(dir .. "/supervisor.log"))
end

-- Ends the supervisor and mysqlbinlog, each only once proven ours: the supervisor first (it
-- passes TERM on to mysqlbinlog), then a mysqlbinlog it could not end (one it was just starting,
-- or after a supervisor that had to be killed), proven again from its pid file. Each gets 10 s
-- after TERM, then KILL.
function M.stop_script(dir)
  local function ended(var)
    return ([[
if [ -n "$%s" ]; then
  kill -TERM "$%s" 2>/dev/null; i=0
  while [ -d /proc/$%s ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -d /proc/$%s ] && kill -KILL "$%s" 2>/dev/null
fi]]):format(var, var, var, var, var)
  end
  return table.concat({ proofs(dir), ended("P"), proofs(dir), ended("B"),
                        "rm -f \"$D/supervisor.pid\" \"$D/mysqlbinlog.pid\"", "true" }, "\n")
end

-- Removes what the stream made: only in a directory holding the mark, only our names.
function M.remove_script(dir)
  local D = Q(dir)
  return ("if [ -f %s ]; then rm -rf %s/[0-9][0-9][0-9]_* && rm -f %s/client.cnf %s/target.cnf %s/supervisor.sh %s/supervisor.log %s/master %s/apply.err %s/apply.rc %s/supervisor.pid %s/mysqlbinlog.pid %s/tls-*.pem %s && rmdir %s; fi")
    :format(Q(dir .. "/" .. M.MARK), D, D, D, D, D, D, D, D, D, D, D, Q(dir .. "/" .. M.MARK), D)
end

-- The state script: key value lines (see parse_status).
function M.status_script(dir, mysqlbinlog, light)
  return proofs(dir) .. "\n" .. ([[
[ -d "$D" ] || { echo "dir none"; exit 0; }
echo "supervisor ${P:-none}"
echo "mysqlbinlog ${B:-none}"
echo "restarts $(grep -c 'mysqlbinlog ended' "$D/supervisor.log" 2>/dev/null)"
[ -r "$D/master" ] && echo "master $(cat "$D/master")"
last=$(ls "$D"/[0-9][0-9][0-9]_*/* 2>/dev/null | sort | tail -n 1)
[ -n "$last" ] && echo "file $last $(stat -c %%s "$last")"
echo "files $(ls "$D"/[0-9][0-9][0-9]_*/* 2>/dev/null | wc -l)"
[ -n "%s" ] || for f in $(ls "$D"/[0-9][0-9][0-9]_*/* 2>/dev/null | sort -r); do
  g=$(%s "$f" 2>/dev/null | sed -n "s/^SET @@SESSION.GTID_NEXT= *'\([^']*\)'.*/\1/p" | grep -v '^AUTOMATIC$' | tail -n 1)
  [ -n "$g" ] && { echo "gtid $g"; break; }
done
tail -n 1 "$D/supervisor.log" 2>/dev/null | sed 's/^/log /']]):format(light and "light" or "", Q(mysqlbinlog))
end

-- Parses status_script's output: { present, supervisor = pid|nil, mysqlbinlog = pid|nil,
-- restarts, master = "host:port", file, size, files, last_gtid, last_log }.
function M.parse_status(text)
  local st = { present = true, restarts = 0, files = 0 }
  for line in (text or ""):gmatch("[^\n]+") do
    local k, v = line:match("^(%a+) ?(.*)$")
    if k == "dir" and v == "none" then return { present = false, restarts = 0, files = 0 } end
    if k == "supervisor" or k == "mysqlbinlog" then st[k] = math.tointeger(tonumber(v))
    elseif k == "restarts" or k == "files" then st[k] = math.tointeger(tonumber(v)) or 0
    elseif k == "master" then
      local h, p = v:match("^(%S+) (%d+)")
      if h then st.master = router.id(h, p) end
    elseif k == "file" then
      local f, size = v:match("^(%S+) (%d+)$")
      st.file, st.size = f, math.tointeger(tonumber(size))
    elseif k == "gtid" then st.last_gtid = v
    elseif k == "log" then st.last_log = v end
  end
  st.running = st.supervisor ~= nil and st.mysqlbinlog ~= nil
  return st
end

local function ssh_to(w) return cluster.ssh("target", w.host) end

-- status(stream) -> the table of parse_status plus, when production's master answers, lag:
-- { behind_bytes } on the same file, or { behind_files } otherwise. stream: start's journal record.
-- light: without the last GTID (which mysqlbinlog decodes from the files) nor the lag.
function M.status(stream, light)
  local s = ssh_to(stream)
  local st = M.parse_status(cluster.read(s, M.status_script(stream.dir, stream.mysqlbinlog, light)) or "")
  if st.master and st.file and not light then
    local h, p = st.master:match("^%[?(.-)%]?:(%d+)$")
    local c = cluster.try_connect("source", h, p, { timeout = 5 })
    if c then
      local bs = server.binlog_status(c)
      c:close()
      local name = st.file:match("([^/]+)$")
      if bs and bs.file == name then st.behind_bytes = math.max(0, (bs.position or 0) - (st.size or 0))
      elseif bs then st.behind_file = bs.file end
    end
  end
  return st
end

-- One line for logs and status: what the stream is doing.
function M.describe(st)
  if not st.present then return "no stream directory" end
  local lag = st.behind_bytes and (st.behind_bytes .. " bytes behind")
    or st.behind_file and ("production writes " .. st.behind_file .. " already")
    or "lag unknown (production's master does not answer)"
  return ("%s; supervisor %s, mysqlbinlog %s, %d restart%s; from %s: last file %s (%s bytes), last GTID %s; %s")
    :format(st.running and "streaming" or "NOT streaming", tostring(st.supervisor or "down"), tostring(st.mysqlbinlog or "down"),
            st.restarts, st.restarts == 1 and "" or "s", tostring(st.master or "?"), tostring(st.file or "none"),
            tostring(st.size or 0), tostring(st.last_gtid or "none"), lag)
end

-- The stream's rows for plans/status.lua (a section: { key, label, value, text, state }, state
-- "warn" when the DBA must act). state: the journal's state.
function M.status_rows(state)
  local rows = {}
  if state.production_lost then
    local pl = state.production_lost
    rows[#rows + 1] = { key = "production_lost", label = "production lost", value = pl.held, state = "warn",
      text = ("stop --production-lost ran at %s: the standby holds %s (last GTID received %s), detached and read-only; " ..
              "run stop again once production is back"):format(tostring(pl.at), tostring(pl.held), tostring(pl.last_received or "none")) }
    return rows
  end
  if state.drill_open ~= true and state.stream == nil then
    return { { key = "running", label = "stream", value = false, text = "no drill open" } }
  end
  if state.stream == false then
    return { { key = "running", label = "stream", value = false, state = "note",
               text = "off (site.binlog_stream = off): production's binary logs are not kept during this drill" } }
  end
  local st = M.status(state.stream or M.where(state))
  rows[#rows + 1] = { key = "running", label = "stream", value = st.running, state = st.running and "ok" or "warn",
                      text = (st.running and "streaming" or "NOT streaming") .. " on " .. tostring((state.stream or {}).host) }
  rows[#rows + 1] = { key = "supervisor", label = "supervisor pid", value = st.supervisor or "down", state = st.supervisor and "ok" or "warn" }
  rows[#rows + 1] = { key = "mysqlbinlog", label = "mysqlbinlog pid", value = st.mysqlbinlog or "down" }
  rows[#rows + 1] = { key = "restarts", label = "restarts", value = st.restarts, state = st.restarts > 0 and "note" or "ok" }
  rows[#rows + 1] = { key = "master", label = "from", value = st.master or "none yet" }
  rows[#rows + 1] = { key = "file", label = "last file", value = st.file or "none", text = st.file and (st.file .. " (" .. tostring(st.size) .. " bytes)") }
  rows[#rows + 1] = { key = "last_gtid", label = "last GTID received", value = st.last_gtid or "none" }
  rows[#rows + 1] = { key = "lag", label = "lag", value = st.behind_bytes or st.behind_file or false,
                      text = st.behind_bytes and (st.behind_bytes .. " bytes behind production's master")
                        or st.behind_file and ("production's master writes " .. st.behind_file .. " already")
                        or "unknown (production's master does not answer)" }
  if st.last_log then rows[#rows + 1] = { key = "log", label = "supervisor log", value = st.last_log } end
  return rows
end

-- Starts the stream for start's journal state: returns the record start journals.
function M.start(state)
  local w = M.where(state)
  local sr, tr = cluster.router("source"), cluster.router("target")
  local topo = cluster.topology(sr, tr)
  sr:close(); tr:close()
  local used = M.used_server_ids(topo)
  local s = ssh_to(w)
  if not cluster.read(s, "test -x " .. Q(w.mysqlbinlog) .. " && echo yes") then
    error(("%s has no mysqlbinlog at %s (it comes with the MySQL client programs): install it, or set site.mysqlbinlog, " ..
           "site.binlog_stream_host, or site.binlog_stream = off"):format(w.host, w.mysqlbinlog), 0)
  end
  local id = M.choose_server_id(used)
  local pm = topo.source.primary
  if not pm then error("production's router names no master: nothing to stream from", 0) end
  local pc = cluster.connect("source", pm.host, pm.port)
  local first = M.first_file(pc, state.frozen, pm.id)
  pc:close()
  local src = settings.current().source
  local files = M.tls_files(src, "tls-")
  copy_tls_files(s, w.dir, files)
  local cnf = M.cnf(src.mysql_user, src.mysql_password, M.tls_cnf(src, files, w.dir))
  local sup = M.supervisor_script {
    dir = w.dir, router_host = src.host, router_port = src.port, server_id = id, frozen = state.frozen,
    mysql = w.mysql, mysqlbinlog = w.mysqlbinlog, first_master = pm.host .. " " .. pm.port, first_file = first }
  -- One round trip: a stream an earlier run killed in this step left is ended, the option file
  -- and the supervisor arrive on stdin (the secret never on a command line), the supervisor is
  -- launched.
  cluster.run(s, M.setup_script(w.dir, #cnf), { stdin = cnf .. sup })
  local rec = { host = w.host, dir = w.dir, mysqlbinlog = w.mysqlbinlog, mysql = w.mysql, server_id = id }
  local st
  wait.wait_until(("the binary log stream on %s receives production's binary logs"):format(w.host), function()
    st = M.status(rec, true)
    return st.running and st.file ~= nil, st.last_log or "not started yet"
  end, 30)
  log.info("binary log stream on %s into %s (connection server_id %d): supervisor %s, mysqlbinlog %s streaming from %s",
           w.host, w.dir, id, tostring(st and st.supervisor), tostring(st and st.mysqlbinlog), tostring(st and st.master))
  return rec
end

-- Ends the stream (files kept).
function M.stop(stream)
  cluster.run(ssh_to(stream), M.stop_script(stream.dir))
end

-- Ends the stream and removes its files.
function M.remove(stream)
  local s = ssh_to(stream)
  cluster.run(s, M.stop_script(stream.dir))
  cluster.run(s, M.remove_script(stream.dir))
end

-- The script applying every streamed file, in order (directories by sequence, files by name),
-- to host:port with the account in DIR/target.cnf; only transactions outside `frozen`. A file's
-- incomplete last transaction (the stream ended mid-transaction) is rolled back when its client
-- session ends; mysqlbinlog failing on any file but the last of its directory is an error.
-- The client's session keeps the node's global sql_mode: mysqlbinlog's output sets the mode each
-- logged statement ran with (SET @@session.sql_mode before it) and carries row events as base64,
-- which no mode reads otherwise (MySQL manual, "mysqlbinlog").
function M.apply_script(stream, host, port, frozen)
  return table.concat({
    "D=" .. Q(stream.dir), "MYSQL=" .. Q(stream.mysql), "MYSQLBINLOG=" .. Q(stream.mysqlbinlog),
    "FROZEN=" .. Q(gtids(frozen)), "H=" .. Q(host), "PORT=" .. math.tointeger(tonumber(port)),
    [[n=0
for sub in $(ls -d "$D"/[0-9][0-9][0-9]_* 2>/dev/null | sort); do
  last=$(ls "$sub" | sort | tail -n 1)
  for f in $(ls "$sub" | sort); do
    { "$MYSQLBINLOG" --exclude-gtids="$FROZEN" "$sub/$f" 2>"$D/apply.err"; echo $? >"$D/apply.rc"; } |
      "$MYSQL" --defaults-extra-file="$D/target.cnf" -h "$H" -P "$PORT" || { echo "applying $sub/$f failed" >&2; exit 1; }
    rc=$(cat "$D/apply.rc")
    if [ "$rc" != 0 ]; then
      [ "$f" = "$last" ] || { echo "mysqlbinlog could not read $sub/$f (exit $rc): $(cat "$D/apply.err")" >&2; exit 1; }
      echo "incomplete end of $sub/$f (stream cut mid-event): applied up to its last complete transaction"
    fi
    n=$((n + 1))
  done
done
rm -f "$D/target.cnf" "$D/apply.err" "$D/apply.rc"
echo "applied $n files"]] }, "\n")
end

-- Applies the stream to the standby master m ({host, port}); returns the script's report.
function M.apply(stream, m, frozen)
  local s = ssh_to(stream)
  local tgt = settings.current().target
  local files = M.tls_files(tgt, "tls-target-")
  copy_tls_files(s, stream.dir, files)
  cluster.run(s, M.cnf_script(stream.dir, "target.cnf"), { stdin = M.cnf(tgt.mysql_user, tgt.mysql_password, M.tls_cnf(tgt, files, stream.dir)) })
  local out, err, status = s:run(cluster.command(s, M.apply_script(stream, m.host, m.port, frozen)), { timeout = site.num("apply_timeout") })
  if out == nil then error("ssh transport failed: " .. tostring(err), 0) end
  cluster.run(s, ("rm -f %s %s/tls-target-*.pem"):format(Q(stream.dir .. "/target.cnf"), Q(stream.dir)))
  if status ~= 0 then error(("applying the streamed binary logs on %s failed: %s"):format(stream.host, err ~= "" and err or out), 0) end
  return out
end

-- stop --production-lost: ends the stream of the drill in st, has the standby master apply what
-- arrived after the restore point (super_read_only lifted for it: the client session applying
-- them is no replication applier) and waits until every other standby node holds it too.
-- Returns {held = the GTID set every node holds, last_received = the last GTID the stream got,
-- or false}.
function M.apply_lost(st)
  M.stop(st.stream)
  local received = M.status(st.stream)
  log.info("binary log stream ended: %s", M.describe(received))
  local m = st.master
  local mc = cluster.connect("target", m.host, m.port)
  local res = server.lifted(mc, m.id, function() return M.apply(st.stream, m, st.frozen) end)
  for line in tostring(res):gmatch("[^\n]+") do log.info("%s", line) end
  local held = server.executed(mc)
  mc:close()
  local replicas = {}
  for _, n in ipairs(st.target_nodes) do if n.role ~= "primary" then replicas[#replicas + 1] = n end end
  replica.wait_holds(replicas, held)
  local after = gtid.subtract(held, st.frozen)
  log.info("production lost: every standby node holds the GTID set %s (the restore point %s, and %s from the stream)",
           held, st.frozen ~= "" and st.frozen or "(empty)", after ~= "" and after or "nothing")
  log.info("the last GTID received from production is %s%s", tostring(received.last_gtid or "none"),
           received.last_gtid and not gtid.is_subset(received.last_gtid, held) and
           " (incomplete when the stream ended: not applied)" or "")
  return { held = held, last_received = received.last_gtid or false }
end

return M
