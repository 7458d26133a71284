-- side.lua — the side instance (restore point) of a standby node, and the swap that puts its data
-- in place of the node's. m is a node's site model (site.discover) as journaled by start.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "wait"
local M = {}

M.CLONE_USER = "flashrun_clone"
local Q = shell.quote

local function conf_path(m) return m.side_dir .. "/my.cnf" end
local function sock(m) return m.side_dir .. "/mysqld.sock" end
local function pid_file(m) return m.side_dir .. "/mysqld.pid" end

-- pid of a live mysqld whose pid file is given, or nil.
local function live_pid(s, file)
  local pid = cluster.read(s, "cat " .. Q(file) .. " 2>/dev/null")
  if pid and pid:match("^%d+$") and cluster.read(s, "kill -0 " .. pid .. " 2>/dev/null && echo up") == "up" then
    return pid
  end
end
M.live_pid = live_pid

-- Pids of the processes with one of args among their arguments, exactly: a server's mysqld_safe
-- and mysqld, found before mysqld writes its pid file (late in its start-up). One grep over every
-- process's NUL-separated arguments: a loop of forks costs seconds on a small host. (The glob is
-- expanded before grep runs, so grep never finds its own arguments.)
local function grep_args(args)
  local e = {}
  for _, a in ipairs(args) do e[#e + 1] = "-e " .. Q(a) end
  return ("grep -lzxF %s /proc/[0-9]*/cmdline 2>/dev/null"):format(table.concat(e, " "))
end
local function pids_with_arg(s, args)
  local out = cluster.read(s, grep_args(args) .. "; true") or ""
  local pids = {}
  for pid in out:gmatch("/proc/(%d+)/cmdline") do pids[#pids + 1] = pid end
  return pids
end

-- The arguments that mark the processes of a node's server and of its side instance.
local function node_args(m) return { "--defaults-file=" .. m.conf, "--pid-file=" .. m.pid_file } end
local function side_args(m) return { "--defaults-file=" .. conf_path(m) } end

-- Shutdown descriptions (see request_shutdown) of node m's server and of its side instance.
local function node_server(m)
  return { what = m.id, pid_file = m.pid_file, args = node_args(m),
           conn_fn = function() return cluster.try_connect("target", m.host, m.port) end }
end
local function side_server(m, settle)
  return { what = m.id .. " side instance", pid_file = pid_file(m), args = settle and side_args(m) or nil,
           conn_fn = function() return cluster.try_connect("target", m.host, m.side_port) end }
end

-- pid of the server with this pid file, once it is up. A server an interrupted run left starting
-- has processes but no pid file yet: waiting for it is the only safe move, since a second server
-- started beside it would share its datadir and logs, and a signal would interrupt its recovery.
-- Returns nil when no such server runs.
local function settled_pid(s, what, file, args)
  local pid = live_pid(s, file)
  if pid or not args or #pids_with_arg(s, args) == 0 then return pid end
  log.info("%s is still starting (an interrupted run started it); waiting until it is up", what)
  wait.wait_until(what .. " has started or gone", function()
    pid = live_pid(s, file)
    return pid ~= nil or #pids_with_arg(s, args) == 0, "starting, no pid file yet"
  end, site.num("start_timeout"))
  return pid
end

-- Asks a mysqld to stop: SHUTDOWN when it answers, SIGTERM otherwise. Returns its pid, or nil
-- when none runs. x: { what =, pid_file =, args =, conn_fn = }; conn_fn returns a connection or
-- nil; without args, a server still starting is not waited for.
local function request_shutdown(s, x)
  local pid = settled_pid(s, x.what, x.pid_file, x.args)
  if not pid then return nil end
  local conn = x.conn_fn and x.conn_fn()
  local sent = false
  if conn then
    -- A binlog dump thread whose replica has gone only notices at its next heartbeat, and
    -- SHUTDOWN waits for it: about ten seconds on a master. Its replicas are being restored too.
    local dumps = conn:query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
    for _, r in ipairs(dumps or {}) do conn:exec("KILL " .. math.tointeger(r.ID)) end
    sent = conn:exec("SHUTDOWN") ~= nil
    conn:close()
  end
  -- It may end on its own meanwhile (an interrupted run had asked it to): gone is as good.
  if not sent then cluster.run(s, ("kill -TERM %s 2>/dev/null || ! kill -0 %s 2>/dev/null"):format(pid, pid)) end
  return pid
end

-- Waits until process pid on s has ended. Each probe watches it remotely for up to 2 s, so the
-- end is seen within 50 ms without a round trip per look (and an interrupt within 2 s).
local function wait_gone(s, what, pid)
  -- (A rehearsal looks once: nothing was asked to stop.)
  local probe = ("for i in $(seq %d); do kill -0 %d 2>/dev/null || { echo gone; exit 0; }; sleep 0.05; done; echo up")
    :format(dry_run and 1 or 40, math.tointeger(tonumber(pid)))
  wait.wait_until(what .. " has shut down", function()
    return cluster.read(s, probe) == "gone", "pid " .. pid .. " still alive"
  end, site.num("stop_timeout"), 0.01)
end

-- Stops mysqlds (with their mysqld_safe) on one host together, and waits until every one is gone.
-- servers: list of { what =, pid_file =, args =, conn_fn = } (see request_shutdown).
function M.shutdown_all(s, servers)
  local waiting = {}
  for _, x in ipairs(servers) do
    local pid = request_shutdown(s, x)
    if pid then waiting[#waiting + 1] = { what = x.what, pid = pid, x = x } end
  end
  for _, w in ipairs(waiting) do wait_gone(s, w.what, w.pid) end
  -- Until every process with its arguments has gone, a server counts as running (it may be
  -- starting). After a clean shutdown mysqld_safe has nothing left to supervise but spends a
  -- second or two of shell work logging so, deaf to SIGTERM: it is ended, as DBAs do.
  for _, w in ipairs(waiting) do
    if w.x.args then
      cluster.run(s, ("for f in $(%s); do if tr '\\000' '\\n' <\"$f\" 2>/dev/null | grep -qxE '(.*/)?mysqld_safe'; then "
                      .. "p=${f#/proc/}; kill -KILL \"${p%%/cmdline}\" 2>/dev/null; fi; done; true"):format(grep_args(w.x.args)))
    end
  end
  for _, x in ipairs(servers) do
    if x.args then
      wait.wait_until(x.what .. " has no process left", function()
        local left = pids_with_arg(s, x.args)
        return #left == 0, "still running with its option file: pid " .. table.concat(left, ", ")
      end, site.num("stop_timeout"), 0.05)
    end
  end
end


-- Starts mysqld_safe detached from the ssh channel.
function M.start_safe(s, m, conf, out_file)
  -- "cd /;" not "cd / &&": the & must apply to the one command, so the remote shell exits at once.
  -- mysqld_safe hands --user to mysqld only when it believes it is root ($USER = root or a
  -- writable /): a uid-0 login of another name on a read-only root would start mysqld as root,
  -- which refuses to run.
  cluster.run(s, ("cd /; if [ \"$(id -u)\" = 0 ]; then export USER=root; fi; nohup setsid %s --defaults-file=%s --user=%s </dev/null >%s 2>&1 &")
    :format(Q(m.mysqld_safe), Q(conf), Q(m.os_user), Q(out_file)))
end

-- How the side instance is started (site.side_launcher):
--   mysqld       `mysqld --daemonize`, which returns once the server accepts connections (or with
--                its failure). Nothing restarts it after the clone: flashrun does.
--   mysqld_safe  the way the nodes run; it restarts the server after the clone by itself. Its
--                start-up is a long shell script: seconds of CPU on a small host, per start.
local function launcher() return site.get("side_launcher") end -- checked by site.check_settings

-- Answers SQL on its socket, as root of a fresh (--initialize-insecure) instance.
local function answers_on_socket(s, m)
  local out, _, st = s:read(("%s --no-defaults -uroot -S %s -N -e 'SELECT 1'"):format(Q(m.mysql), Q(sock(m))))
  return st == 0 and out and out:match("1") ~= nil, "not yet"
end

-- Starts the (stopped) side instance of m. With mysqld_safe, waits until it answers on its socket
-- when `fresh` (before the clone, root has no password yet); otherwise the caller waits.
function M.launch(s, m, fresh)
  if launcher() == "mysqld_safe" then
    M.start_safe(s, m, conf_path(m), m.side_dir .. "/mysqld_safe.out")
    if fresh then
      wait.wait_until(m.id .. " side instance answers on its socket", function() return answers_on_socket(s, m) end,
                      site.num("start_timeout"))
    end
    return
  end
  local out, err, st = s:run(("cd / && %s --defaults-file=%s --user=%s --daemonize </dev/null >>%s 2>&1")
    :format(Q(m.mysqld), Q(conf_path(m)), Q(m.os_user), Q(m.side_dir .. "/mysqld.out")),
    { timeout = site.num("start_timeout") })
  if out == nil then error(("%s: starting the side instance: %s"):format(m.id, tostring(err)), 0) end
  if st ~= 0 then
    local tail = cluster.read(s, "tail -n 5 " .. Q(m.side_dir .. "/error.log")) or ""
    error(("%s: the side instance did not start (mysqld exit %s)%s"):format(m.id, tostring(st),
          tail ~= "" and (":\n" .. tail) or ""), 0)
  end
end

-- Waits until host:port answers SQL with the target's credentials (or opts), returns the connection.
function M.wait_answers(what, host, port, opts, timeout)
  local conn
  wait.wait_until(what .. " answers SQL", function()
    local c, err = cluster.try_connect("target", host, port, opts)
    if not c then return false, err end
    local rows = c:query("SELECT 1 AS one")
    if not rows then c:close(); return false, "SELECT 1 failed" end
    conn = c
    return true
  end, timeout or site.num("start_timeout"))
  return conn
end

-- Stops the side instance of node m (gracefully when it answers), kills whatever else still runs
-- with its option file, and removes its directory (guarded: strictly inside the data root).
function M.remove(s, m)
  local sd = shell.guard(m.side_dir, m.data_root)
  M.shutdown_all(s, { side_server(m) })
  -- What else still runs with its option file: an `mysqld --initialize` an interrupted run left
  -- going (a killed flashrun does not stop remote commands), or a server that never came up.
  local pids = pids_with_arg(s, side_args(m))
  if #pids > 0 then
    log.info("%s: stopping leftover side-instance processes %s", m.id, table.concat(pids, " "))
    cluster.run(s, "kill -KILL " .. table.concat(pids, " ") .. " 2>/dev/null; true")
    wait.wait_until(m.id .. " leftover side-instance processes have gone", function()
      return #pids_with_arg(s, side_args(m)) == 0 or dry_run, "still running"
    end, 30)
  end
  cluster.run(s, "rm -rf -- " .. Q(sd))
end

-- Creates, initializes and starts the side instance of node m; creates the one-off clone account
-- and installs the clone plugin. Returns nothing; the password lives only in memory (m is not
-- journaled with it).
function M.prepare(m, password)
  local s = cluster.ssh("target", m.host)
  local sd = shell.guard(m.side_dir, m.data_root)
  local text, dirs = site.side_option_file(m, s)
  if not text then error(dirs, 0) end
  M.remove(s, m) -- leftover from an interrupted run: start over
  local mk = { "mkdir -p -m 0750 -- " .. Q(sd) }
  for _, d in ipairs(dirs) do mk[#mk + 1] = "mkdir -p -- " .. Q(shell.guard(d, sd)) end
  cluster.run(s, table.concat(mk, " && "))
  -- 0600: the node's option file may hold a [client] password, and the copy must not be wider.
  local ok, err = s:write_file(conf_path(m), text, tonumber("0600", 8))
  if not ok then error(m.id .. ": cannot write " .. conf_path(m) .. ": " .. tostring(err), 0) end
  cluster.run(s, ("chown -R %s -- %s"):format(Q(m.os_user), Q(sd)))
  -- mysqld refuses to initialize into a non-empty datadir, so it is created empty above.
  local t0 = now()
  cluster.run(s, ("%s --defaults-file=%s --initialize-insecure --user=%s")
    :format(Q(m.mysqld), Q(conf_path(m)), Q(m.os_user)))
  local t1 = now()
  M.launch(s, m, true)
  log.info("%s: side instance initialized in %.1f s, up in %.1f s", m.id, t1 - t0, now() - t1)
  -- The account, fed through stdin: the password never reaches a command line.
  local stmts = table.concat({
    ("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY %s;"):format(M.CLONE_USER, shell.sql_string(password)),
    ("GRANT ALL ON *.* TO '%s'@'%%';"):format(M.CLONE_USER),
    -- --initialize-insecure left root without a password: not for a minute longer.
    ("ALTER USER 'root'@'localhost' IDENTIFIED BY %s;"):format(shell.sql_string(password)),
  }, "\n") .. "\n"
  cluster.run(s, ("%s --no-defaults -uroot -S %s"):format(Q(m.mysql), Q(sock(m))), { stdin = stmts })
end

-- Starts the side instance of m again when it is down with its data in place (its host restarted
-- during the drill, or it stopped: nothing supervises it). Returns true when it started it.
function M.ensure_up(m)
  local s = cluster.ssh("target", m.host)
  if settled_pid(s, m.id .. " side instance", pid_file(m), side_args(m)) then return false end
  local datadir = m.side_dir .. "/dbdata"
  if cluster.read(s, ("test -d %s && echo yes || echo no"):format(Q(datadir))) ~= "yes" then return false end
  log.warn("%s: the side instance is not running; starting it on %s", m.id, datadir)
  M.launch(s, m)
  local c = M.wait_answers(m.id .. " side instance", m.host, m.side_port, nil, site.num("start_timeout"))
  if c then c:close() end -- none in a rehearsal
  return true
end

-- Makes sure the clone plugin is active on a server (INSTALL PLUGIN is not binlogged).
function M.donor_plugin(donor_conn)
  local rows = donor_conn:query("SELECT PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = 'clone'")
  if rows and rows[1] and server.value(rows[1].PLUGIN_STATUS) == "ACTIVE" then return end
  local sro = server.variable(donor_conn, "super_read_only")
  if tostring(sro) == "1" then donor_conn:exec("SET GLOBAL super_read_only = 0") end
  local n, err = donor_conn:exec("INSTALL PLUGIN clone SONAME 'mysql_clone.so'")
  if tostring(sro) == "1" then donor_conn:exec("SET GLOBAL super_read_only = 1") end
  if n == nil and not tostring(err):find("already exists", 1, true) then
    error("cannot install the clone plugin on the donor: " .. tostring(err), 0)
  end
end

-- True when the side instance of m answers with the target's credentials and holds exactly gtids.
function M.holds(m, gtids)
  local c = cluster.try_connect("target", m.host, m.side_port, { timeout = 5 })
  if not c then return false, "side instance does not answer" end
  local ex = server.executed(c)
  c:close()
  if gtid.equal(ex, gtids) then return true end
  return false, "side instance holds " .. ex
end

local function human(bytes)
  if bytes >= 2 ^ 30 then return ("%.1f GiB"):format(bytes / 2 ^ 30) end
  return ("%.0f MiB"):format(bytes / 2 ^ 20)
end

-- Bytes under dir on s (du), or nil; `options` are more du options.
local function du_bytes(s, dir, options)
  local out = cluster.read(s, ("du -sb %s-- %s 2>/dev/null"):format(options or "", Q(dir)))
  return tonumber(out and out:match("^%d+"))
end

-- Bytes under a node's datadir, or nil: what a clone of it will copy, roughly (the redo and
-- temporary files are not copied as such).
function M.datadir_bytes(m)
  return du_bytes(cluster.ssh("target", m.host), m.datadir,
                  "--exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='#innodb_temp' --exclude=ibtmp1 ")
end

-- Logs how far the clone into m's side instance got, every site.progress_interval seconds while
-- cloning() says so. The recipient's performance_schema.clone_progress has the stage and its
-- bytes when it is on; otherwise the growth of the side datadir since the clone began (a fresh
-- instance holds no user data to drop) against the size of the donor's datadir.
local function report_progress(m, password, donor_bytes, t0, cloning)
  local s = cluster.ssh("target", m.host)
  local interval = site.num("progress_interval")
  local function du() return du_bytes(s, m.side_dir .. "/dbdata") end
  local base = du()
  local next_at, conn = now() + interval, nil
  while cloning() do
    sleep(0.05) -- short: the clone's end must not wait for this branch
    if cloning() and now() >= next_at then
      conn = conn or cluster.try_connect("target", m.host, m.side_port, { user = M.CLONE_USER, password = password, timeout = 5 })
      local rows = conn and conn:query("SELECT STAGE, ESTIMATE, DATA FROM performance_schema.clone_progress WHERE STATE = 'In Progress'")
      local r = rows and rows[1]
      local done, total, stage = nil, donor_bytes, ""
      if r then
        stage = " [" .. tostring(server.value(r.STAGE)) .. "]"
        done, total = tonumber(server.value(r.DATA)), tonumber(server.value(r.ESTIMATE))
      else
        local now_bytes = du()
        done = now_bytes and base and math.max(0, now_bytes - base)
      end
      if done and total and total > 0 then
        log.info("%s: cloning for %.0f s: %s of ~%s (%d%%)%s", m.id, now() - t0, human(done), human(total),
                 math.min(99, math.floor(done * 100 / total)), stage)
      else
        log.info("%s: cloning for %.0f s: %s so far%s", m.id, now() - t0, done and human(done) or "?", stage)
      end
      next_at = now() + interval
    end
  end
  if conn then conn:close() end
  return true
end

-- Sends CLONE INSTANCE to the side instance of m and returns the time it started and whether
-- flashrun must start the server again (nothing supervises it), or nil when there is nothing to
-- wait for (already cloned, or a rehearsal). The donor's password appears only
-- inside the CLONE statement (masked in any output). The donor is free again as soon as the
-- statement returns: the recipient's restart that follows is settle()'s business, so the next
-- clone need not wait for it.
function M.clone_send(m, donor, password, frozen, donor_bytes)
  if M.holds(m, frozen) then log.info("%s: side instance already holds the restore point", m.id); return nil end
  local valid_donor = ("SET GLOBAL clone_valid_donor_list = %s"):format(shell.sql_string(donor.host .. ":" .. donor.port))
  local clone = ("CLONE INSTANCE FROM %s@%s:%d IDENTIFIED BY %s"):format(
    shell.sql_string(config.target.mysql_user), shell.sql_string(donor.host), donor.port,
    shell.sql_string(config.target.mysql_password))
  if dry_run then
    -- The side instance does not exist in a rehearsal: show what would be sent to it.
    local target = ("%s:%d"):format(m.host, m.side_port)
    log.would("sql", target, "INSTALL PLUGIN clone SONAME 'mysql_clone.so'")
    log.would("sql", target, valid_donor)
    log.would("sql", target, clone)
    return nil
  end
  local c = cluster.connect("target", m.host, m.side_port,
                            { user = M.CLONE_USER, password = password, timeout = site.num("clone_timeout") })
  local t0 = now()
  M.donor_plugin(c)
  assert(c:exec(valid_donor))
  log.info("%s: cloning from donor %s (%s)", m.id, donor.id, donor_bytes and ("~" .. human(donor_bytes)) or "size unknown")
  local n, err, errno
  local cloning = true
  local _, errs = parallel({ "clone", "progress" }, function(branch)
    if branch == "progress" then
      -- Progress is for the operator: failing to measure it must not fail the clone.
      local ok, e = pcall(report_progress, m, password, donor_bytes, t0, function() return cloning end)
      if not ok then log.warn("%s: no clone progress: %s", m.id, tostring(e)) end
      return true
    end
    -- 3634: the donor still finishes the previous clone; it is free within moments.
    local ok, e = pcall(wait.wait_until, m.id .. " donor " .. donor.id .. " accepts the clone", function()
      n, err, errno = c:exec(clone)
      return n ~= nil or errno ~= 3634, err
    end, 60)
    cloning = false
    if not ok then error(e, 0) end
  end)
  c:close()
  if errs then error(errs[1], 0) end
  -- The recipient restarts itself after a remote clone (mysqld_safe brings it back); the client
  -- may see the connection drop (2013) or "restart" errors — the data decides, in settle().
  if n == nil and errno ~= 2013 and errno ~= 2006 and errno ~= 3707 then
    error(("%s: CLONE INSTANCE from %s failed: %s (%s)"):format(m.id, donor.id, tostring(err), tostring(errno)), 0)
  end
  -- 3707: the data is cloned, but no supervisor restarts the server: it shuts down instead.
  return t0, errno == 3707
end

-- Waits until the side instance of m is back from its post-clone restart holding the restore
-- point (starting it when `relaunch`: see clone_send), and reports the clone's stages.
function M.clone_settle(m, frozen, t0, relaunch)
  if relaunch then
    local s = cluster.ssh("target", m.host)
    local pid = live_pid(s, pid_file(m))
    if pid then wait_gone(s, m.id .. " side instance (after the clone)", pid) end
    M.launch(s, m)
  end
  local conn = M.wait_answers(m.id .. " side instance after clone", m.host, m.side_port, nil, site.num("start_timeout"))
  local rows = conn:query("SELECT STAGE, STATE, TIMESTAMPDIFF(MICROSECOND, BEGIN_TIME, END_TIME) / 1e6 AS secs, DATA FROM performance_schema.clone_progress")
  if rows then
    for _, r in ipairs(rows) do
      log.info("%s: clone stage %-10s %-12s %6.2f s %s bytes", m.id, tostring(server.value(r.STAGE)),
               tostring(server.value(r.STATE)), tonumber(server.value(r.secs)) or 0, tostring(server.value(r.DATA) or 0))
    end
  else
    log.info("%s: clone progress not available (performance_schema off)", m.id)
  end
  conn:close()
  wait.wait_until(m.id .. " side instance holds the donor's GTID set", function() return M.holds(m, frozen) end, 30)
  log.info("%s: clone done in %.1f s", m.id, now() - t0)
end

-- The journaled site models of a drill, split: the nodes that get a side instance, and the donor.
function M.split(sites)
  local targets, donor = {}, nil
  for _, m in ipairs(sites or {}) do
    if m.role == "donor" then donor = m else targets[#targets + 1] = m end
  end
  return targets, donor
end

-- Builds the restore point on the nodes `targets` (site models): a side instance on each,
-- prepared in parallel, then cloned from the donor one at a time (a donor serves one clone at a
-- time: error 3634), each recipient's restart overlapping the next clone. Nodes whose side
-- instance already holds `frozen` are left as they are. donor_site (optional) sizes the progress.
function M.build(targets, donor, frozen, donor_site)
  local password = cluster.random_password()
  cluster.on_each("preparing side instances", targets, function(m)
    if not M.holds(m, frozen) then M.prepare(m, password) end
    return true
  end)
  local dc = cluster.connect("target", donor.host, donor.port)
  M.donor_plugin(dc)
  dc:close()
  local donor_bytes = donor_site and M.datadir_bytes(donor_site)
  local sent = {}
  for _, m in ipairs(targets) do
    local t0, relaunch = M.clone_send(m, donor, password, frozen, donor_bytes)
    if t0 then sent[#sent + 1] = { id = m.id, m = m, t0 = t0, relaunch = relaunch } end
  end
  cluster.on_each("cloning", sent, function(x) M.clone_settle(x.m, frozen, x.t0, x.relaunch); return true end)
end

-- Pairs (node path, side path) of the directories swapped for node m.
function M.swap_pairs(m)
  local pairs_ = {}
  for _, d in ipairs(m.data_dirs or { m.datadir }) do
    local sp = (d == m.datadir) and (m.side_dir .. "/dbdata") or (m.side_dir .. d:sub(#m.instance_dir + 1))
    pairs_[#pairs_ + 1] = { node = d, side = sp, bak = d .. ".flashback_bak" }
  end
  return pairs_
end

-- True once stop began swapping node m (a backup exists, or the side dir is gone): its side
-- instance is legitimately down from then on.
function M.restore_begun(m)
  local s = cluster.ssh("target", m.host)
  local probe = ("if [ ! -e %s ] || [ -e %s ]; then echo yes; else echo no; fi")
    :format(Q(m.side_dir), Q(m.datadir .. ".flashback_bak"))
  return cluster.read(s, probe) == "yes"
end

-- Before phase 1: a joiner whose I/O thread reconnects to the master while the master shuts
-- down holds that shutdown up until the dump thread's next heartbeat (about ten seconds). Joiners
-- stop fetching first. Best effort: a node that does not answer is shut down all the same.
function M.stop_fetching(m)
  if m.role == "primary" then return end
  local s = cluster.ssh("target", m.host)
  if cluster.read(s, ("test -e %s && echo yes || echo no"):format(Q(m.side_dir))) == "no" then return end -- restored already
  local c = cluster.try_connect("target", m.host, m.port)
  if not c then return end
  c:exec(server.sql(c, "stop_replica") .. " IO_THREAD")
  c:close()
end

-- Phase 1 of the restore of node m: shut down its side instance and the node itself. All nodes go
-- through phase 1 before any node restarts, so no restored joiner can fetch the drill's
-- transactions from a master that still runs on the drill data.
function M.stop_node(m)
  local s = cluster.ssh("target", m.host)
  local sd = shell.guard(m.side_dir, m.data_root)
  if cluster.read(s, ("test -e %s && echo yes || echo no"):format(Q(sd))) == "no" then return end -- restored already
  local t0 = now()
  M.shutdown_all(s, { side_server(m, true), node_server(m) })
  log.info("%s: node and side instance %s in %.1f s", m.id, dry_run and "would be down" or "down", now() - t0)
end

-- True when node m's server runs or is starting: a live pid file, or processes with its arguments.
local function server_runs(s, m)
  return live_pid(s, m.pid_file) ~= nil or #pids_with_arg(s, node_args(m)) > 0
end

-- Phase 2: put the cloned data in place of node m's data: keep the node's directories as
-- *.flashback_bak, move the clone's in (rename, same filesystem), keep the node's own identity
-- files (auto.cnf: server_uuid; keys; persisted variables), start the node with its own conf,
-- wait until it answers with the restore point's GTID set; only then remove the backups and the
-- side dir. Safe to re-run at any point.
function M.swap_and_start(m, frozen)
  local s = cluster.ssh("target", m.host)
  local sd = shell.guard(m.side_dir, m.data_root)
  local pp = M.swap_pairs(m)
  local pending = cluster.read(s, ("test -e %s && echo yes || echo no"):format(Q(sd))) == "yes"
  if pending then
    if server_runs(s, m) and not dry_run then
      error(m.id .. " is running; phase 1 (shutdown) did not complete", 0)
    end
    local script = { "set -e" }
    for _, p in ipairs(pp) do
      local node, side_, bak = shell.guard(p.node, m.data_root), shell.guard(p.side, m.data_root), shell.guard(p.bak, m.data_root)
      -- States: (a) untouched: node+side, no bak; (b) half: bak+side, no node; (c) swapped: bak+node, no side.
      script[#script + 1] = ("if [ ! -e %s ]; then mv -- %s %s; fi"):format(Q(bak), Q(node), Q(bak))
      if p.node == m.datadir then
        script[#script + 1] = ("if [ ! -e %s ]; then mv -- %s %s; fi"):format(Q(node), Q(side_), Q(node))
      else
        -- Binary/relay log dirs outside the datadir start empty: their index files name the side
        -- dir's paths, and the restored GTID state lives in mysql.gtid_executed (cloned).
        script[#script + 1] = ("if [ ! -e %s ]; then mkdir -- %s; fi"):format(Q(node), Q(node))
      end
    end
    local dd, ddbak = shell.guard(m.datadir, m.data_root), shell.guard(m.datadir .. ".flashback_bak", m.data_root)
    for _, f in ipairs({ "auto.cnf", "mysqld-auto.cnf", "ca-key.pem", "ca.pem", "client-cert.pem", "client-key.pem",
                         "private_key.pem", "public_key.pem", "server-cert.pem", "server-key.pem" }) do
      script[#script + 1] = ("if [ -e %s/%s ]; then cp -p -- %s/%s %s/%s; fi"):format(Q(ddbak), f, Q(ddbak), f, Q(dd), f)
    end
    -- The node's error log comes back from its backup (history kept, owned by the server's user;
    -- mysqld_safe running as root would otherwise create it root-owned).
    for _, p in ipairs(pp) do
      if m.log_error and shell.is_under(m.log_error, p.node) and p.node ~= m.datadir then
        local rel = m.log_error:sub(#p.node + 1)
        script[#script + 1] = ("if [ -e %s%s ]; then cp -p -- %s%s %s; fi"):format(Q(p.bak), Q(rel), Q(p.bak), Q(rel), Q(m.log_error))
      end
    end
    for _, p in ipairs(pp) do script[#script + 1] = ("chown -R %s: -- %s"):format(Q(m.os_user), Q(p.node)) end
    cluster.run(s, table.concat(script, "\n"))
  end
  local t0 = now()
  -- In a rehearsal the node is still running (its shutdown was only recorded): show the start.
  -- A node an interrupted run already started on its restored data is only waited for.
  if dry_run or not server_runs(s, m) then M.start_safe(s, m, m.conf, "/dev/null") end
  local ok, conn = pcall(M.wait_answers, m.id, m.host, m.port, nil, site.num("start_timeout"))
  if not ok then
    local tail = m.log_error and cluster.read(s, "tail -n 5 " .. Q(m.log_error)) or ""
    error(tostring(conn) .. (tail ~= "" and ("\nlast lines of " .. m.log_error .. ":\n" .. tail) or ""), 0)
  end
  local ex = server.executed(conn)
  conn:close()
  if pending and not dry_run and not gtid.equal(ex, frozen) then
    error(("%s restarted with GTID set %s, expected the restore point %s; backups kept as *.flashback_bak"):format(m.id, ex, frozen), 0)
  end
  if pending then
    local rm = {}
    for _, p in ipairs(pp) do rm[#rm + 1] = "rm -rf -- " .. Q(shell.guard(p.bak, m.data_root)) end
    rm[#rm + 1] = "rm -rf -- " .. Q(sd)
    cluster.run(s, table.concat(rm, " && "))
    log.info("%s restored to the restore point (answered %.1f s after start)", m.id, now() - t0)
  end
end

return M
