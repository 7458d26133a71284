-- checks.lua — the prechecks of a drill (plans/verify.lua runs them; plans/start.lua runs them
-- again before it touches anything). Each check adds a line to the report; failures are
-- collected and refused together so the DBA sees everything at once.
local shell = require "shell"
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "wait"
local M = {}

local function report(r, ok, fmt, ...)
  local line = fmt:format(...)
  if ok then log.info("ok    %s", line) else log.error("FAIL  %s", line); r.failures[#r.failures + 1] = line end
  r.results[#r.results + 1] = { result = ok and "ok" or "fail", check = line }
  return ok
end

local function warn(r, fmt, ...)
  local line = fmt:format(...)
  log.warn("warn  %s", line)
  r.warnings[#r.warnings + 1] = line
  r.results[#r.results + 1] = { result = "warn", check = line }
end

-- One dataserver's status, judged by its state (router.status_state): down and disabled fail,
-- lag beyond max_delay fails, semi-sync fallen back to async is a warning.
local function judge_status(r, what, d, max_delay)
  local st = d.state
  if st == "down" then
    report(r, false, "%s is down (status '%s')", what, d.status)
  elseif st == "disabled" then
    report(r, false, "%s is disabled (status '%s'): the router sends it no traffic and stopped its replication; " ..
           "enable it (dbscale enable dataserver %s) once it is healthy", what, d.status, d.name)
  elseif st == "lagging" then
    report(r, d.lag <= max_delay, "%s lags %d s behind its master (status '%s'; allowed %d)", what, d.lag, d.status, max_delay)
  elseif st == "semisync_degraded" then
    warn(r, "%s: semi-sync fell back to async (status '%s'); the server is up", what, d.status)
  elseif st == "unknown" then
    warn(r, "%s status '%s' is not one flashrun knows", what, d.status)
  else
    report(r, true, "%s status '%s'", what, d.status)
  end
end

-- One round trip per node (a handshake-free ssh command still costs a tenth of a second on a
-- loaded host): df and du of the datadir, and for a standby node where its restore point would
-- go. Returns {disk = {used_pct, avail_kb, datadir_kb} or nil, rp = text}.
local SEP = "--flashrun-probe--"
local function probe(s, datadir, m, plugin_dir)
  local q = shell.quote(datadir)
  local parts = {
    "df -Pk " .. q .. " | awk 'NR==2 {print $4, $5}'",
    -- What a clone copies: not the binary and relay logs, the redo or the temporary files.
    "du -sk --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='#innodb_temp' --exclude=ibtmp1 "
      .. "--exclude='*-bin.[0-9]*' --exclude='*relay*' --exclude='binlog.[0-9]*' " .. q .. " 2>/dev/null | awk '{print $1}'",
  }
  if m then
    local rp, parent = shell.quote(m.restore_point_dir), shell.quote(shell.dirname(m.restore_point_dir))
    -- exists? same filesystem as the datadir? parent writable by the mysqld user? plugin file?
    parts[#parts + 1] = ("if [ -e %s ]; then echo exists; else echo absent; fi; "
      .. "[ \"$(stat -c %%d %s 2>/dev/null)\" = \"$(stat -c %%d %s)\" ] && echo samefs || echo otherfs; "
      .. "if [ \"$(id -u)\" = 0 ]; then runuser -u %s -- test -w %s && echo writable || echo readonly; "
      .. "else test -w %s && echo writable || echo readonly; fi; "
      .. "test -f %s && echo plugin || echo noplugin; "
      -- copy-on-write: the filesystem type, and XFS's reflink flag when xfs_info is there
      .. "echo fs=$(stat -f -c %%T %s); if command -v xfs_info >/dev/null; then xfs_info %s 2>/dev/null | grep -o 'reflink=[01]'; fi")
      :format(rp, parent, q, shell.quote(m.os_user), parent, parent, shell.quote((plugin_dir or "/nonexistent/") .. "/mysql_clone.so"), q, q)
  end
  local out = cluster.read(s, table.concat(parts, "; echo " .. SEP .. "; ")) or ""
  local sec = {}
  for chunk in (out .. "\n" .. SEP):gmatch("(.-)\n?" .. SEP:gsub("%-", "%%-")) do sec[#sec + 1] = chunk end
  local avail, pct = (sec[1] or ""):match("(%d+)%s+(%d+)%%")
  local r = { rp = sec[3] or "" }
  if avail then
    r.disk = { used_pct = tonumber(pct), avail_kb = tonumber(avail), datadir_kb = tonumber((sec[2] or ""):match("%d+") or "0") }
  end
  return r
end

-- Bytes of a MySQL size setting ("128M", "1G", "134217728"), or nil.
function M.size_bytes(v)
  local n, unit = tostring(v):upper():match("^%s*(%d+)%s*([KMGT]?)B?%s*$")
  if not n then return nil end
  return math.tointeger(tonumber(n) * ({ [""] = 1, K = 2 ^ 10, M = 2 ^ 20, G = 2 ^ 30, T = 2 ^ 40 })[unit])
end

-- Whether start and stop could handle standby node n: its site model, and the refusal when the
-- server writes data where stop could not swap it.
local function layout(n)
  local m = site.discover(n.ds, n.conn, n.ssh)
  local _, outside = site.data_dirs(m, site.data_variables(n.conn))
  return m, site.outside_message(m, outside)
end

-- What the clone plugin cannot carry or needs, on a standby node (MySQL manual, "Clone Plugin
-- Limitations"): user tables in another engine than InnoDB (they would come back empty),
-- tablespaces outside the datadir (a local clone refuses them), the privileges the strategy
-- uses. Returns a list of problems (empty when none).
local function clone_limits(conn, datadir, strategy)
  local bad = {}
  local rows = conn:query("SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
    .. "AND ENGINE <> 'InnoDB' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
    .. "ORDER BY TABLE_SCHEMA, TABLE_NAME LIMIT 20")
  for _, r in ipairs(rows or {}) do
    bad[#bad + 1] = ("table %s.%s is %s: a clone carries only InnoDB data"):format(server.value(r.TABLE_SCHEMA),
      server.value(r.TABLE_NAME), tostring(server.value(r.ENGINE)))
  end
  rows = conn:query("SELECT DISTINCT FILE_NAME FROM information_schema.FILES WHERE FILE_NAME LIKE '/%'")
  local dd = shell.normpath(datadir)
  for _, r in ipairs(rows or {}) do
    local f = shell.normpath(tostring(server.value(r.FILE_NAME) or ""))
    if f and dd and not shell.is_under(f, dd) then
      bad[#bad + 1] = ("tablespace file %s is outside the datadir: a clone cannot take it"):format(f)
    end
  end
  local grants = conn:query("SHOW GRANTS")
  local text = {}
  for _, r in ipairs(grants or {}) do for _, v in pairs(r) do text[#text + 1] = tostring(v) end end
  text = table.concat(text, "\n")
  local need = strategy == "donor" and { "BACKUP_ADMIN", "CLONE_ADMIN" } or { "BACKUP_ADMIN" }
  if not text:find("GRANT ALL PRIVILEGES ON *.*", 1, true) then
    for _, p in ipairs(need) do
      if not text:find(p, 1, true) then
        bad[#bad + 1] = ("the account lacks %s, which %s needs (GRANT %s ON *.* TO …)"):format(p,
          p == "CLONE_ADMIN" and "CLONE INSTANCE FROM on a recipient" or "CLONE", p)
      end
    end
  end
  return bad
end

-- Settings the clone plugin checks before any data moves (errors 3864-3870): donor and recipient
-- must agree on these. A text per node, compared across the standby nodes.
local CLONE_MATCH = { "version", "version_compile_os", "version_compile_machine", "character_set_server",
                      "collation_server", "innodb_page_size", "innodb_data_file_path" }
local function clone_fingerprint(conn)
  local v = server.variables(conn, CLONE_MATCH)
  local parts = {}
  for _, k in ipairs(CLONE_MATCH) do parts[#parts + 1] = k .. "=" .. tostring(v[k]) end
  local rows = conn:query("SELECT PLUGIN_NAME FROM information_schema.PLUGINS WHERE PLUGIN_STATUS = 'ACTIVE' AND PLUGIN_TYPE <> 'INFORMATION SCHEMA' ORDER BY PLUGIN_NAME")
  local pl = {}
  for _, r in ipairs(rows or {}) do pl[#pl + 1] = tostring(server.value(r.PLUGIN_NAME)) end
  parts[#parts + 1] = "plugins=" .. table.concat(pl, ",")
  return parts
end

-- Runs every check; returns the report {failures, topo, nodes = {id → {conn, site...}}}.
function M.run(opts)
  opts = opts or {}
  local r = { failures = {}, warnings = {}, nodes = {}, results = {} }
  local src_router = cluster.try_connect("source", config.source.host, config.source.port)
  local tgt_router = cluster.try_connect("target", config.target.host, config.target.port)
  report(r, src_router ~= nil, "source router %s answers SQL", router.id(config.source.host, config.source.port))
  report(r, tgt_router ~= nil, "standby router %s answers SQL", router.id(config.target.host, config.target.port))
  if not (src_router and tgt_router) then refuse("routers unreachable:\n  " .. table.concat(r.failures, "\n  ")) end
  r.src_router, r.tgt_router = src_router, tgt_router
  local topo = cluster.topology(src_router, tgt_router)
  r.topo = topo

  local max_delay = site.num("max_delay")
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side].nodes) do
      judge_status(r, ("%s dataserver %s (%s)"):format(side, d.name, d.id), d, max_delay)
    end
    report(r, topo[side].primary ~= nil, "%s cluster has a primary (Master_Online)", side)
  end
  local se = topo.source.standby_entry
  report(r, se ~= nil, "the standby router is registered on the source router as %s", router.STANDBY_SERVER)
  if se then
    judge_status(r, router.STANDBY_SERVER, se, max_delay)
    -- stop registers it again with the configured password: the user must be the configured one.
    local want = config.target.router_user or config.target.mysql_user
    report(r, se.user == want, "%s is registered with user '%s'%s", router.STANDBY_SERVER, se.user,
           se.user == want and "" or (" but target.router_user is '" .. tostring(want) ..
             "': stop could not register it again with the right password; set target.router_user and router_password"))
    local ok, reg = pcall(router.standby_registration, src_router)
    report(r, ok and reg and reg.datasource ~= nil, "the standby is a slave of the source's replication datasource%s",
           not ok and (": " .. tostring(reg)) or (reg and reg.datasource) and (" " .. reg.datasource) or
           (": no slave_dbscale_source row in dbscale show datasource type=replication"))
  end
  -- Without enable-disaster-mode the standby router cannot change slave-dbscale-mode, which start
  -- and stop do; flashrun never changes enable-disaster-mode itself.
  local okopt, so = pcall(router.standby_options, tgt_router)
  local dm = okopt and so.disaster_mode
  local where = ("the standby router %s:%d"):format(config.target.host, config.target.port)
  if dm then
    report(r, true, "enable-disaster-mode is on on %s", where)
  else
    report(r, false, "enable-disaster-mode is %s on %s: without it slave-dbscale-mode cannot change, which start " ..
           "and stop do; turn it on there (flashrun never changes it)",
           not okopt and ("unreadable (" .. tostring(so) .. ")") or dm == false and "off" or "not reported", where)
  end

  -- Every node: SQL and ssh, all at once (an ssh handshake costs a tenth of a second), reported
  -- in order.
  local all = {}
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side].nodes) do all[#all + 1] = { side = side, ds = d, key = side .. "/" .. d.id } end
  end
  local reached = parallel(all, function(x)
    local conn, err = cluster.try_connect(x.side, x.ds.host, x.ds.port)
    local oks, s = pcall(cluster.ssh, x.side, x.ds.host)
    return { conn = conn, err = err, ssh = oks and s or nil, ssh_err = not oks and s or nil }
  end)
  for i, x in ipairs(all) do
    local c = reached[i] or {}
    report(r, c.conn ~= nil, "%s node %s answers SQL%s", x.side, x.ds.id, c.conn and "" or (": " .. tostring(c.err)))
    report(r, c.ssh ~= nil, "%s node %s reachable by ssh%s", x.side, x.ds.id, c.ssh and "" or (": " .. tostring(c.ssh_err)))
    r.nodes[x.key] = { side = x.side, ds = x.ds, conn = c.conn, ssh = c.ssh }
  end
  if #r.failures > 0 then refuse("prechecks failed:\n  " .. table.concat(r.failures, "\n  ")) end

  -- GTID containment: the standby must not carry transactions production lacks.
  local sp = r.nodes["source/" .. topo.source.primary.id]
  local tp = r.nodes["target/" .. topo.target.primary.id]
  local src_exec = server.executed(sp.conn)
  for _, side_node in pairs(r.nodes) do
    if side_node.side == "target" then
      local ex = server.executed(side_node.conn)
      local errant = gtid.subtract(ex, src_exec)
      report(r, errant == "", "standby node %s executed GTIDs are contained in the source's%s",
             side_node.ds.id, errant == "" and "" or ("; missing on the source: " .. errant))
    end
  end

  -- Replication into the standby: running, no delay.
  local rs = server.replica_status(tp.conn)
  if report(r, rs ~= nil, "standby master %s is a replica", tp.ds.id) then
    report(r, rs.io_running and rs.sql_running, "standby master %s replication threads running (io=%s sql=%s%s)",
           tp.ds.id, tostring(rs.io_running), tostring(rs.sql_running),
           (rs.last_io_error ~= "" or rs.last_sql_error ~= "") and (", error: " .. rs.last_io_error .. rs.last_sql_error) or "")
    local okd = pcall(wait.wait_until, "the standby master has no replication delay", function()
      local st = server.replica_status(tp.conn)
      if st and st.seconds_behind and st.seconds_behind <= max_delay then return true end
      return false, "seconds behind = " .. tostring(st and st.seconds_behind)
    end, 10)
    local st = server.replica_status(tp.conn)
    report(r, okd and st ~= nil and st.seconds_behind ~= nil and st.seconds_behind <= max_delay,
           "standby master %s seconds behind source = %s (allowed %s)", tp.ds.id, tostring(st and st.seconds_behind), tostring(max_delay))
  end
  for _, d in ipairs(topo.target.nodes) do
    if d.role ~= "primary" then
      local st = server.replica_status(r.nodes["target/" .. d.id].conn)
      report(r, st ~= nil and st.io_running and st.sql_running, "standby joiner %s replicates (io=%s sql=%s)",
             d.id, tostring(st and st.io_running), tostring(st and st.sql_running))
    end
  end

  -- Disk and restore points: use of every datadir filesystem; on every standby node, its layout,
  -- where its restore point would go, room for it, and what the clone plugin needs. Measured on
  -- all nodes at once, reported in order.
  local threshold = site.num("disk_threshold")
  local margin_kb = site.num("disk_margin_mb") * 1024
  local strategy = site.get("restore_point")
  local measured, failed = parallel(all, function(x)
    local n = r.nodes[x.key]
    local v = server.variables(n.conn, { "datadir", "plugin_dir" })
    local m, why
    if n.side == "target" then
      local ok, mm, w = pcall(layout, n)
      if ok then m, why = mm, w else why = tostring(mm) end
    end
    local active = n.side == "target" and n.conn:query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone' AND PLUGIN_STATUS = 'ACTIVE'")
    return { datadir = v.datadir, p = probe(n.ssh, v.datadir, m, v.plugin_dir), m = m, why = why,
             clone_active = active and #active > 0,
             limits = n.side == "target" and clone_limits(n.conn, v.datadir, strategy) or nil,
             fingerprint = n.side == "target" and clone_fingerprint(n.conn) or nil }
  end)
  local fp_first
  for i, x in ipairs(all) do
    local key, n, mz = x.key, r.nodes[x.key], measured[i] or {}
    local dk = mz.p and mz.p.disk
    if failed and failed[i] then
      report(r, false, "%s: measuring the datadir failed: %s", key, tostring(failed[i]))
    elseif report(r, dk ~= nil and dk.used_pct ~= nil, "%s: df on datadir %s", key, tostring(mz.datadir)) then
      report(r, dk.used_pct <= threshold, "%s: datadir filesystem %d%% used (limit %d%%)", key, dk.used_pct, threshold)
      if n.side == "target" then
        local why = mz.why
        if why and why:sub(1, #n.ds.id + 2) == n.ds.id .. ": " then why = why:sub(#n.ds.id + 3) end
        report(r, why == nil, "%s: %s", key, why or ("site layout understood (option file " .. tostring(mz.m and mz.m.conf) .. ")"))
        if mz.m then
          local w = {}
          for word in mz.p.rp:gmatch("%S+") do w[word] = true end
          local dir = mz.m.restore_point_dir
          report(r, w.absent == true, "%s: restore point dir %s %s", key, dir,
                 w.absent and "does not exist yet" or "already exists (a drill is open, or an interrupted one left it: run stop, or remove it)")
          report(r, w.samefs == true, "%s: restore point dir %s %s", key, dir,
                 w.samefs and "is on the datadir's filesystem" or "is not on the datadir's filesystem (or its parent is missing): set site.restore_point_dir")
          report(r, w.writable == true, "%s: the parent of %s %s", key, dir,
                 w.writable and ("is writable by " .. mz.m.os_user) or ("is not writable by " .. mz.m.os_user .. ", which creates the restore point"))
          local on = mz.clone_active
          report(r, on or w.plugin == true, "%s: the clone plugin is %s", key,
                 on and "active" or (w.plugin and "loadable (mysql_clone.so in plugin_dir)" or "neither active nor in plugin_dir (mysql_clone.so)"))
          if strategy == "donor" then
            report(r, not n.ds.host:find(":", 1, true), "%s: %s", key, n.ds.host:find(":", 1, true)
                   and "an IPv6 literal: CLONE INSTANCE FROM does not take one (use the donor strategy with names, or local)" or "donor address usable by CLONE INSTANCE FROM")
            fp_first = fp_first or { key = key, fp = mz.fingerprint }
            local diff = {}
            for j, f in ipairs(mz.fingerprint or {}) do if f ~= fp_first.fp[j] then diff[#diff + 1] = f end end
            report(r, #diff == 0, "%s: %s", key, #diff == 0 and "version, character sets and plugins match the other nodes (clone checks them)"
                   or ("differs from " .. fp_first.key .. ", which CLONE refuses: " .. table.concat(diff, "; ")))
          end
        end
        for _, l in ipairs(mz.limits or {}) do report(r, false, "%s: %s", key, l) end
        -- A copy-on-write restore point shares every block until the drill changes it: it
        -- needs room only for what the drill writes (a share of the datadir); a clone copies all.
        local fs = (mz.p.rp or ""):match("fs=(%S+)") or "?"
        local xfs_reflink = (mz.p.rp or ""):match("reflink=([01])")
        local cow = fs == "btrfs" or (fs == "xfs" and xfs_reflink ~= "0")
        if strategy == "reflink" or strategy == "auto" then
          local how = fs == "btrfs" and "btrfs: reflink copies" or fs == "xfs" and (xfs_reflink == "1" and "xfs, reflink=1"
            or xfs_reflink == "0" and "xfs, reflink=0: no reflink copies" or "xfs (reflink flag unknown: no xfs_info; start tries a copy)")
            or (fs .. ": no reflink copies")
          if strategy == "reflink" then report(r, cow, "%s: datadir filesystem %s", key, how)
          else log.info("info  %s: datadir filesystem %s; strategy auto takes %s restore points", key, how, cow and "reflink (if every node can)" or "local") end
        end
        local need_kb = dk.datadir_kb
        if strategy == "reflink" or (strategy == "auto" and cow) then need_kb = dk.datadir_kb * site.num("reflink_margin_pct") // 100 end
        report(r, dk.avail_kb >= need_kb + margin_kb,
               "%s: %d MB free for a restore point needing %d MB (+%d MB margin)", key,
               dk.avail_kb // 1024, need_kb // 1024, margin_kb // 1024)
      end
    end
  end

  -- Source binlog retention: how long the standby may stay detached.
  local expire = server.variable(sp.conn, "binlog_expire_logs_seconds")
  log.info("info  source binlog retention: binlog_expire_logs_seconds=%s (%.1f days); purged: %s",
           tostring(expire), (tonumber(expire) or 0) / 86400, server.purged(sp.conn) ~= "" and server.purged(sp.conn) or "(none)")
  return r
end

function M.refuse_if_failed(r)
  if #r.failures > 0 then
    refuse(("%d precheck(s) failed:\n  %s"):format(#r.failures, table.concat(r.failures, "\n  ")))
  end
  log.info("all prechecks passed")
end

return M
