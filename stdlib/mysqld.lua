-- mysqld.lua — a standby node's mysqld process: find it, prove it is this node's server, shut
-- it down, start it the way the site runs it. m is a node's model (node.discover) as
-- journaled by start: conf, datadir, pid_file, mysqld_safe, os_user, version.
--
-- A process is signalled or waited for only once it is proven to be this node's server: its
-- command name is mysqld and its working directory is the node's datadir (mysqld changes into
-- its datadir at start-up) or its arguments name the node's option file. A pid file is only a
-- hint: after a host restart, or once a pid is reused, it names some other process, which is
-- never touched — the server is then down.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "flashrun.wait"
local rehearsal = require "flashrun.rehearsal"
local sched = require "flashrun.sched"
local log = require "flashrun.log"
local M = {}

local Q = shell.quote

-- What shutdown's statements need on the standby nodes (privileges.lua). Without them stop
-- still works, more slowly (a warning, not a refusal): without PROCESS or CONNECTION_ADMIN it
-- cannot see or end the binlog dump threads SHUTDOWN waits for; without SHUTDOWN it sends
-- SIGTERM over ssh.
M.PRIVILEGES = {
  { on = "standby nodes", any = { "PROCESS" }, plans = "stop", severity = "warn",
    stmt = "SELECT … FROM information_schema.PROCESSLIST (the binlog dump threads of other accounts)" },
  { on = "standby nodes", any = { "CONNECTION_ADMIN", "SUPER" }, plans = "stop", severity = "warn",
    stmt = "KILL of another account's binlog dump thread" },
  { on = "standby nodes", any = { "SHUTDOWN" }, plans = "stop", severity = "warn",
    stmt = "SHUTDOWN" },
  { on = "standby nodes", any = { "SYSTEM_VARIABLES_ADMIN", "SUPER" }, plans = "stop", severity = "warn",
    stmt = "SET GLOBAL innodb_fast_shutdown = 2 (before the shutdown of data stop throws away)" },
  { on = "standby nodes", any = { "RELOAD" }, plans = "start", severity = "warn",
    stmt = "FLUSH BINARY LOGS (before a reflink restore point's shutdown: a shorter restart)" },
}

-- The lines os_probe adds for the site's templates: start_command=ok|no and stop_command=ok|no,
-- whether the program each runs first exists on the host (command -v). Pure but for the setting.
function M.template_probe(m)
  local t = {}
  for _, what in ipairs({ "start_command", "stop_command" }) do
    local prog = M.template_program(what, m)
    if prog then
      t[#t + 1] = ("\nif command -v %s >/dev/null 2>&1; then echo %s=ok; else echo %s=no; fi"):format(Q(prog), what, what)
    end
  end
  return table.concat(t)
end

-- The remote probe (changes nothing) of what the ssh user can do on m's host, one word per
-- line: datadir=ok|no, signal=ok|no|nopid, safe=ok|no, user=root|os|other (and the templates'
-- start_command=, stop_command=: template_probe). The mysqld is found
-- as state_script/parse_state find it (named mysqld, working in m's datadir or started with
-- m's option file); kill -0 sends nothing. Pure.
function M.os_probe(m)
  local d = Q(m.datadir)
  return table.concat({
    ("if ls -A -- %s >/dev/null 2>&1 && { test -r %s/ibdata1 || test ! -e %s/ibdata1; }; then echo datadir=ok; else echo datadir=no; fi")
      :format(d, d, d),
    "pid=$( {\n" .. M.state_script(m) .. "\n} | awk '($1 == \"cwd\" || $1 == \"conf\") && $3 == \"mysqld\" { print $2; exit }')",
    "if [ -z \"$pid\" ]; then echo signal=nopid; elif kill -0 \"$pid\" 2>/dev/null; then echo signal=ok; else echo signal=no; fi",
    ("if [ -x %s ]; then echo safe=ok; else echo safe=no; fi"):format(Q(m.mysqld_safe)),
    ("if [ \"$(id -u)\" = 0 ]; then echo user=root; elif [ \"$(id -un)\" = %s ]; then echo user=os; else echo user=other; fi")
      :format(Q(m.os_user)),
  }, "\n") .. M.template_probe(m)
end

-- The remote script that lists node m's processes, one per line `KIND PID COMM`:
--   cwd PID COMM      its working directory is m's datadir (mysqld changes into it at start-up)
--   conf PID COMM     --defaults-file=<m's option file> is one of its arguments
--   pidarg PID COMM   --pid-file=<m's pid file> is one of its arguments
--   pidfile PID       what m's pid file says (when it is a number)
-- Pure: a unit test reads it; `state` runs it. A handful of processes whatever the host runs:
-- a loop forking per process costs seconds on a busy host.
function M.state_script(m)
  -- The arguments are handed to grep on its stdin (printf is a builtin: no process of its own):
  -- given as -e ARG, grep's own command line would hold ARG and grep, forked before the shell
  -- expands /proc/[0-9]*, would list itself among m's processes.
  local function args_of(kind, ...)
    local e = {}
    for _, a in ipairs({ ... }) do e[#e + 1] = Q(a) end
    return ("printf '%%s\\n' %s | grep -lzxF -f - /proc/[0-9]*/cmdline 2>/dev/null | sed -n 's|^/proc/\\([0-9]*\\)/cmdline$|%s \\1|p'")
      :format(table.concat(e, " "), kind)
  end
  return table.concat({
    -- The datadir as configured, or resolved (a symlinked datadir: mysqld's cwd is the target).
    "{ r=$(readlink -f " .. Q(shell.normpath(m.datadir)) .. " 2>/dev/null)",
    "  find /proc/[0-9]*/cwd -maxdepth 0 -printf '%l\\t%p\\n' 2>/dev/null | awk -F'\\t' -v d=" .. Q(shell.normpath(m.datadir))
      .. " -v r=\"$r\" '$1 == d || ($1 == r && r != \"\") { p = $2; sub(\"^/proc/\", \"\", p); sub(\"/cwd$\", \"\", p); print \"cwd \" p }'",
    "  " .. args_of("conf", "--defaults-file=" .. m.conf),
    "  " .. args_of("pidarg", "--pid-file=" .. m.pid_file),
    "} | while read -r k p; do n=$(cat /proc/$p/comm 2>/dev/null) && echo \"$k $p $n\"; done",
    "f=$(cat " .. Q(m.pid_file) .. " 2>/dev/null) && case $f in ''|*[!0-9]*) ;; *) echo \"pidfile $f\";; esac",
    "true",
  }, "\n")
end

-- Parses state_script's output into { server = pid or nil, helpers = {pid...}, pidfile = pid
-- or nil }. The server is a process named mysqld working in m's datadir or started with m's
-- option file; helpers are the other processes with m's option or pid file among their
-- arguments (mysqld_safe).
function M.parse_state(text)
  local seen, order = {}, {}
  for line in (text or ""):gmatch("[^\n]+") do
    local kind, pid, comm = line:match("^(%a+) (%d+) ?(.*)$")
    if kind == "pidfile" then seen.pidfile = pid
    elseif kind then
      if not seen[pid] then seen[pid] = { comm = comm }; order[#order + 1] = pid end
      seen[pid][kind] = true
    end
  end
  local st = { helpers = {}, pidfile = seen.pidfile }
  for _, pid in ipairs(order) do
    local x = seen[pid]
    if x.comm == "mysqld" and (x.cwd or x.conf) and not st.server then st.server = pid
    elseif x.conf or x.pidarg then st.helpers[#st.helpers + 1] = pid end
  end
  return st
end

-- parse_state of what the host answers now. An unread state is not "no processes": a server
-- taken for down would be copied or swapped.
local function read_state(s, m)
  local text, err = cluster.read(s, M.state_script(m))
  if text == nil then error(("%s: cannot read its processes: %s"):format(m.id, tostring(err)), 0) end
  return M.parse_state(text)
end

-- Node m's processes as they are now (see parse_state). Logs once when the pid file names a
-- process that is not m's server: it is left alone.
function M.state(s, m)
  local st = read_state(s, m)
  if st.pidfile and st.pidfile ~= st.server then
    log.info("%s: pid file %s names pid %s, which is not this node's mysqld: taken as down, that process is left alone",
             m.id, m.pid_file, st.pidfile)
  end
  return st
end

-- Waits while m's server is starting (processes, but mysqld has not written its pid file, which
-- it does late in its start-up): a second
-- server started beside it would share its datadir and logs, and a signal would interrupt its
-- recovery. Returns the state once settled.
local function up_or_gone(st) return (st.server and st.pidfile == st.server) or (not st.server and #st.helpers == 0) end
local function settled(s, m)
  local st = M.state(s, m)
  if up_or_gone(st) then return st end
  log.info("%s is still starting (an interrupted run started it); waiting until it is up", m.id)
  wait.wait_until(m.id .. " has started or gone", function()
    st = read_state(s, m)
    return up_or_gone(st), "starting: no pid file yet"
  end, site.num("start_timeout"))
  return st
end

-- The refusal for a node that answers SQL while no process of it is found (shutdown, verify).
function M.unrecognised(m)
  return ("%s answers SQL, but no mysqld process of it was found on its host (named mysqld, working in %s "
          .. "or started with --defaults-file=%s): flashrun neither signals it nor copies or swaps its data. "
          .. "Start it with that option file, or set site.conf_file / site.instance_dir to how it runs"):format(
          m.id, tostring(m.datadir), tostring(m.conf))
end

-- Waits until process pid (proven m's server) has ended. Each probe watches it remotely for up to
-- 2 s, so the end is seen within 50 ms without a round trip per look. kill -0 sends nothing.
local function wait_gone(s, m, pid)
  local probe = ("for i in $(seq 40); do kill -0 %d 2>/dev/null || { echo gone; exit 0; }; sleep 0.05; done; echo up")
    :format(math.tointeger(tonumber(pid)))
  wait.wait_until(m.id .. " has shut down", function()
    return cluster.read(s, probe) == "gone", "pid " .. pid .. " still alive"
  end, site.num("stop_timeout"), 0.01)
end

-- Shuts m's server down cleanly: SHUTDOWN when it answers SQL, SIGTERM to the proven mysqld
-- otherwise; waits until it and its mysqld_safe have gone. discard: the data it leaves is thrown
-- away (stop's swap), so InnoDB skips flushing and purging (innodb_fast_shutdown = 2, MySQL
-- manual 17.14); the binary log is still closed cleanly. Data that is kept (a reflink restore
-- point's copy) has its binary log rotated first (FLUSH BINARY LOGS: no GTID, not logged, allowed
-- under super_read_only): the next start reads the newest binary log whole before it answers,
-- and on a standby loaded through production that file holds up to max_binlog_size (1 GiB) —
-- 0.6-1.5 s of the restart on the lab at 960 MiB, against 0.2-0.3 s after the rotation (issue 30).
-- Returns true when it was running.
function M.shutdown(s, m, discard)
  local st = settled(s, m)
  if not st.server and #st.helpers == 0 then
    -- No process of m found, yet something may answer on its port: a server run in a way
    -- flashrun does not recognise (a datadir reached through a symlink, no --defaults-file).
    -- Its data must not be copied or swapped under it, and it is not signalled either.
    local conn = cluster.try_connect("target", m.host, m.port, { timeout = 5 })
    if conn then
      conn:close()
      error(M.unrecognised(m), 0)
    end
    return false
  end
  if st.server then
    local conn = cluster.try_connect("target", m.host, m.port, { timeout = 5 })
    local sent = false
    if conn then
      -- A binlog dump thread whose replica has gone only notices at its next heartbeat, and
      -- SHUTDOWN waits for it: about ten seconds on a master. Its replicas are shut down too.
      local dumps = conn:query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
      for _, r in ipairs(dumps or {}) do conn:exec("KILL " .. math.tointeger(r.ID)) end
      if discard then conn:exec("SET GLOBAL innodb_fast_shutdown = 2") else conn:exec("FLUSH BINARY LOGS") end
      if not M.site_template("stop_command") then sent = conn:exec("SHUTDOWN") ~= nil end
      conn:close()
    end
    local stop = M.site_template("stop_command")
    if stop then
      -- The site's service manager stops it (a SHUTDOWN behind its back would mark its unit failed).
      local why = M.template_problem("stop_command", m)
      if why then error(m.id .. ": " .. why, 0) end
      cluster.run(s, "cd /; " .. M.expand(stop, m))
      sent = true
    end
    -- It may end on its own meanwhile (an interrupted run had asked it to): gone is as good.
    if not sent then
      cluster.run(s, ("kill -TERM %d 2>/dev/null || ! kill -0 %d 2>/dev/null"):format(st.server, st.server))
    end
    -- Nothing was sent in a rehearsal: the server runs on.
    rehearsal.check(m.id .. " has shut down", function() wait_gone(s, m, st.server) end)
  end
  -- After a clean shutdown mysqld_safe has nothing left to supervise but spends a second or two
  -- of shell work logging so, deaf to SIGTERM: it is ended, as DBAs do. Only processes whose
  -- arguments name this node's option file are touched. One look per round: read, end what is
  -- left, look again.
  local kill = "for p in %s; do tr '\\000' '\\n' </proc/$p/cmdline 2>/dev/null | grep -qxF -e %s && kill -KILL $p 2>/dev/null; done; true"
  wait.wait_until(m.id .. " has no process left", function()
    local now_st = M.state(s, m)
    if #now_st.helpers > 0 then
      cluster.run(s, kill:format(table.concat(now_st.helpers, " "), Q("--defaults-file=" .. m.conf)))
    end
    return (#now_st.helpers == 0 and not now_st.server), "still running with its option file"
  end, site.num("stop_timeout"), 0.05)
  return true
end

-- Options of a recorded mysqld_safe command line never replayed: --init-file runs its
-- statements at every start, and could start replication on a restored node (or undo what the
-- restore put back); the replication switches, since start_args adds its own.
local function dropped(o)
  local name = o:match("^%-%-([%w_%-]+)") or ""
  name = name:gsub("_", "-"):gsub("^loose%-", "")
  if name == "init-file" then return "init-file", not o:find("=", 1, true) end
  if name:match("^skip%-replica%-start") or name:match("^skip%-slave%-start") then return "replication" end
  return nil
end

-- start_args(m) -> the options mysqld_safe gets when flashrun starts m, and the --init-file
-- option left out (or nil). The options m's mysqld_safe was running with (m.safe_options,
-- recorded by node.discover from /proc), in their order, else --defaults-file and --user; without
-- --init-file; always with replication held (--skip-replica-start, --skip-slave-start before
-- 8.0.26: a restored master would otherwise reconnect to production and move past the restore
-- point). The command-line option wins over the option file (MySQL manual 6.2.2.2); mysqld_safe
-- hands options it does not know to mysqld. Pure.
-- The option that keeps replication stopped at m's start: --skip-replica-start, or
-- --skip-slave-start before 8.0.26. Pure.
function M.hold_replication(m)
  return ("--" .. server.sql({ server.version_numbers(m.version) }, "skip_replica_start"):gsub("_", "-"))
end

function M.start_args(m)
  local skip = M.hold_replication(m)
  if not m.safe_options then return { "--defaults-file=" .. m.conf, "--user=" .. m.os_user, skip } end
  local out, init, i = {}, nil, 1
  local opts = m.safe_options
  while i <= #opts do
    local o = opts[i]
    local why, takes_next = dropped(o)
    if why == "init-file" then
      init = takes_next and (o .. " " .. tostring(opts[i + 1])) or o
      if takes_next then i = i + 1 end
    elseif not why then
      out[#out + 1] = o
    end
    i = i + 1
  end
  out[#out + 1] = skip
  return out, init
end

-- ---- site.start_command / site.stop_command: a service manager's start and stop ----
-- Templates a site writes, e.g. for a systemd unit per instance
--   start_command = systemctl set-environment MYSQLD_OPTS="{extra_args}" && systemctl start mysqld@{port}
--   stop_command = systemctl stop mysqld@{port}
-- {port}, {conf}, {datadir}, {instance_dir} are node m's; {extra_args} is what flashrun must add
-- to the start (the option holding replication). The values go in as they are, so the template
-- may put them inside quotes of its own: each is refused unless it is made of characters no
-- shell reads specially (a site's paths are).
M.PLACEHOLDERS = { "port", "conf", "datadir", "instance_dir", "extra_args" }

-- expand(template, m, extra_args) -> command, or nil and why. Pure.
function M.expand(template, m, extra_args)
  local values = { port = tostring(math.tointeger(tonumber(m.port)) or ""), conf = m.conf, datadir = m.datadir,
                   instance_dir = m.instance_dir, extra_args = extra_args }
  local bad
  local out = template:gsub("{([%w_]*)}", function(name)
    local v = values[name]
    if name == "extra_args" and extra_args == nil then
      bad = bad or "{extra_args} belongs in start_command only"; return ""
    end
    if v == nil then
      bad = bad or ("unknown placeholder {%s} (known: {%s})"):format(name, table.concat(M.PLACEHOLDERS, "}, {")); return ""
    end
    v = tostring(v)
    if v == "" or not v:match("^[%w%._/,:@+=%-]+$") then
      bad = bad or ("{%s} of %s would be %q, which flashrun does not put into a shell command unquoted"):format(name, tostring(m.id), v)
      return ""
    end
    return v
  end)
  if bad then return nil, bad end
  return out
end

-- The site's template for what ("start_command" or "stop_command"), or nil when unset.
function M.site_template(what)
  local t = site.get(what)
  if t == nil or t:match("^%s*$") then return nil end
  return t
end

-- Why a template cannot be used for m, or nil: it must expand, and a start_command must name
-- {extra_args} (else a restored master would start replicating from production). t: the
-- template (default the setting). Pure but for the setting read.
function M.template_problem(what, m, t)
  t = t or M.site_template(what)
  if not t then return nil end
  if what == "start_command" and not t:find("{extra_args}", 1, true) then
    return ("site.start_command does not name {extra_args}: flashrun must add %s to every start it makes, or a restored node "
            .. "would start replicating from production (e.g. systemctl set-environment MYSQLD_OPTS=\"{extra_args}\" && "
            .. "systemctl start mysqld@{port})"):format(M.hold_replication(m))
  end
  local _, why = M.expand(t, m, what == "start_command" and M.hold_replication(m) or nil)
  return why and ("site.%s: %s"):format(what, why) or nil
end

-- The program a template runs first (its first word past VAR=value assignments), for verify's
-- `command -v`; nil when the template is unset or does not expand. Pure but for the setting read.
function M.template_program(what, m, t)
  t = t or M.site_template(what)
  if not t or M.template_problem(what, m, t) then return nil end
  for w in M.expand(t, m, what == "start_command" and M.hold_replication(m) or nil):gmatch("%S+") do
    if not w:match("^[%w_]+=") then return w end
  end
  return nil
end

-- The command that starts m's server the way the site runs it (start_args, or the site's
-- start_command), detached from the ssh channel. Pure but for the setting read; raises on a
-- template verify would have refused.
function M.start_command(m)
  local t = M.site_template("start_command")
  if t then
    local why = M.template_problem("start_command", m)
    if why then error(m.id .. ": " .. why, 0) end
    return "cd /; " .. M.expand(t, m, M.hold_replication(m))
  end
  local args, quoted = M.start_args(m), {}
  if m.safe_options then
    for _, a in ipairs(args) do quoted[#quoted + 1] = Q(a) end
  else -- the long-standing form, word for word
    quoted = { "--defaults-file=" .. Q(m.conf), "--user=" .. Q(m.os_user), args[3] }
  end
  -- "cd /;" not "cd / &&": the & must apply to the one command, so the remote shell exits at once.
  -- mysqld_safe hands --user to mysqld only when it believes it is root ($USER = root or a
  -- writable /): a uid-0 login of another name on a read-only root would start mysqld as root,
  -- which refuses to run.
  return ("cd /; if [ \"$(id -u)\" = 0 ]; then export USER=root; fi; nohup setsid %s %s </dev/null >/dev/null 2>&1 &")
    :format(Q(m.mysqld_safe), table.concat(quoted, " "))
end

-- Starts m's server unless it runs, and waits until it answers SQL. A server still starting (an
-- interrupted run started it) is waited for; one shutting down (an interrupted run asked it
-- to) is waited out, then started. known_down: the caller has just seen m with no process left
-- (mysqld.shutdown returned), so that look is not taken again. Returns the connection (nil in a
-- rehearsal, where nothing was shut down).
function M.start(s, m, known_down)
  -- A rehearsal shut nothing down: the server it would find running is not one an interrupted
  -- run left, and the start is shown.
  local st = not known_down and rehearsal.check("whether " .. m.id .. " already runs (an interrupted run may have started it)",
                                                function() return M.state(s, m) end)
  if st then
    if st.server or #st.helpers > 0 then
      if not up_or_gone(st) then log.info("%s is still starting (an interrupted run started it); waiting until it is up", m.id) end
      local conn
      wait.wait_until(m.id .. " answers SQL or has stopped", function()
        local c = cluster.try_connect("target", m.host, m.port, { timeout = 5 })
        if c and c:query("SELECT 1 AS one") then conn = c; return true end
        if c then c:close() end
        local now_st = M.parse_state(cluster.read(s, M.state_script(m)))
        return not now_st.server and #now_st.helpers == 0, "it neither answers nor has stopped"
      end, site.num("start_timeout") + site.num("stop_timeout"))
      if conn then return conn end
    end
  end
  cluster.run(s, M.start_command(m))
  local ok, conn = pcall(M.wait_answers, m, s)
  if not ok then
    local tail = m.log_error and cluster.read(s, "tail -n 5 " .. Q(m.log_error)) or ""
    error(tostring(conn) .. (tail ~= "" and ("\nlast lines of " .. m.log_error .. ":\n" .. tail) or ""), 0)
  end
  return conn
end

-- Waits until m answers SQL with the target's credentials; returns the connection. With s (m's
-- host, where it was just started): once no process of m is left (its mysqld and mysqld_safe
-- ended: killed, or failed during start-up), the wait ends at once instead of after
-- start_timeout. Looked at every 10 s while m refuses connections: the look forks a dozen
-- processes on the host, which a start-up, itself fork-bound in mysqld_safe, pays for.
function M.wait_answers(m, s)
  local conn, gone, looked = nil, false, sched.now()
  wait.wait_until(m.id .. " answers SQL", function()
    local c, err = cluster.try_connect("target", m.host, m.port)
    if not c then
      if s and sched.now() - looked >= 10 then
        looked = sched.now()
        local st = M.parse_state(cluster.read(s, M.state_script(m)))
        if not st.server and #st.helpers == 0 then gone = true; return true end
      end
      return false, err
    end
    if not c:query("SELECT 1 AS one") then c:close(); return false, "SELECT 1 failed" end
    conn = c
    return true
  end, site.num("start_timeout"))
  if gone then
    error(("%s stopped during its start-up: no mysqld or mysqld_safe of it is running any more"):format(m.id), 0)
  end
  return conn
end

return M
