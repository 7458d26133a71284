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
  return ok
end

local function warn(r, fmt, ...)
  local line = fmt:format(...)
  log.warn("warn  %s", line)
  r.warnings[#r.warnings + 1] = line
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
-- loaded host): df and du of the datadir, and for a standby node its listening sockets and
-- MemAvailable. Returns {disk = {used_pct, avail_kb, datadir_kb} or nil, net = text, mem_kb}.
local SEP = "--flashrun-probe--"
local function probe(s, datadir, standby)
  local q = shell.quote(datadir)
  local parts = {
    "df -Pk " .. q .. " | awk 'NR==2 {print $4, $5}'",
    "du -sk " .. q .. " 2>/dev/null | awk '{print $1}'",
  }
  if standby then
    parts[#parts + 1] = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null"
    parts[#parts + 1] = "awk '/^MemAvailable:/ {print $2}' /proc/meminfo"
  end
  local out = cluster.read(s, table.concat(parts, "; echo " .. SEP .. "; ")) or ""
  local sec = {}
  for chunk in (out .. "\n" .. SEP):gmatch("(.-)\n?" .. SEP:gsub("%-", "%%-")) do sec[#sec + 1] = chunk end
  local avail, pct = (sec[1] or ""):match("(%d+)%s+(%d+)%%")
  local r = { net = sec[3], mem_kb = tonumber((sec[4] or ""):match("%d+")) }
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

-- A dotted quad as /proc/net/tcp prints it, in both byte orders (the kernel prints the address
-- in host order): {"0134007F", "7F003401"} for 127.0.52.1; nil for a name.
local function proc_net_ipv4(host)
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return { ("%02X%02X%02X%02X"):format(d, c, b, a), ("%02X%02X%02X%02X"):format(a, b, c, d) }
end

-- The local addresses of TCP sockets in LISTEN state on `port`, from /proc/net/tcp{,6} text, that
-- a server bound to host:port would collide with: the wildcard, host itself, or anything when host
-- is a name.
function M.listeners(text, host, port)
  local mine = proc_net_ipv4(host)
  local found = {}
  for addr, lport, st in text:gmatch("\n%s*%d+:%s+(%x+):(%x+)%s+%x+:%x+%s+(%x+)") do
    if st == "0A" and tonumber(lport, 16) == port then
      local v4 = #addr == 32 and addr:sub(1, 24) == "0000000000000000FFFF0000" and addr:sub(25) or addr
      local clash = addr:match("^0+$") or not mine
      for _, m in ipairs(mine or {}) do clash = clash or v4 == m end
      if clash then found[#found + 1] = addr end
    end
  end
  return found
end

-- Whether start and stop could handle standby node n: its option file, and the refusal when the
-- server writes data where stop could not swap it or a side instance would share its files.
local function layout(n)
  local m = site.discover(n.ds, n.conn, n.ssh)
  local _, outside = site.data_dirs(m, site.data_variables(n.conn))
  local why = site.outside_message(m, outside)
  if not why then
    local text, err = site.side_option_file(m, n.ssh)
    if not text then why = err end
  end
  return m.conf, why
end

-- Runs every check; returns the report {failures, topo, nodes = {id → {conn, site...}}}.
-- opts.quiet_disk: skip the side-instance space check (used when it was already done).
function M.run(opts)
  opts = opts or {}
  site.check_settings()
  local r = { failures = {}, warnings = {}, nodes = {} }
  local src_router = cluster.try_connect("source", config.source.host, config.source.port)
  local tgt_router = cluster.try_connect("target", config.target.host, config.target.port)
  report(r, src_router ~= nil, "source router %s:%d answers SQL", config.source.host, config.source.port)
  report(r, tgt_router ~= nil, "standby router %s:%d answers SQL", config.target.host, config.target.port)
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

  -- Disk: use of every datadir filesystem; on every standby node, room for a side instance and
  -- its port free. Measured on all nodes at once, reported in order.
  local threshold = site.num("disk_threshold")
  local margin_kb = site.num("disk_margin_mb") * 1024
  local port = site.num("side_port")
  local measured, failed = parallel(all, function(x)
    local n = r.nodes[x.key]
    local datadir = server.variable(n.conn, "datadir")
    local standby = n.side == "target"
    local p = probe(n.ssh, datadir, standby)
    local bp = site.get("side_buffer_pool")
    if bp == "node" then bp = server.variable(n.conn, "innodb_buffer_pool_size") end
    return { datadir = datadir, disk = p.disk, taken = standby and M.listeners("\n" .. (p.net or ""), n.ds.host, port),
             mem_kb = p.mem_kb, bp_bytes = M.size_bytes(bp),
             layout = n.side == "target" and { pcall(layout, n) } or nil }
  end)
  for i, x in ipairs(all) do
    local key, n, mz = x.key, r.nodes[x.key], measured[i] or {}
    local dk = mz.disk
    if failed and failed[i] then
      report(r, false, "%s: measuring the datadir failed: %s", key, tostring(failed[i]))
    elseif report(r, dk ~= nil and dk.used_pct ~= nil, "%s: df on datadir %s", key, tostring(mz.datadir)) then
      report(r, dk.used_pct <= threshold, "%s: datadir filesystem %d%% used (limit %d%%)", key, dk.used_pct, threshold)
      if n.side == "target" then
        local ok, conf, why = table.unpack(mz.layout)
        if not ok then why = tostring(conf) end
        if why and why:sub(1, #n.ds.id + 2) == n.ds.id .. ": " then why = why:sub(#n.ds.id + 3) end
        report(r, why == nil, "%s: %s", key, why or ("site layout understood (option file " .. tostring(conf) .. ")"))
        report(r, #mz.taken == 0, "%s: side instance port %d %s", key, port,
               #mz.taken == 0 and "is free" or "is taken: something listens on it (set site.side_port to a free port)")
        report(r, dk.avail_kb >= dk.datadir_kb + margin_kb,
               "%s: %d MB free for a side instance of %d MB (+%d MB margin)", key,
               dk.avail_kb // 1024, dk.datadir_kb // 1024, margin_kb // 1024)
        -- A side instance the host cannot hold invites the OOM killer, whose likeliest victim is
        -- the node's own mysqld.
        local need_mb = mz.bp_bytes and (mz.bp_bytes // 2 ^ 20 + site.num("memory_margin_mb"))
        report(r, mz.mem_kb ~= nil and need_mb ~= nil and mz.mem_kb // 1024 >= need_mb,
               "%s: %s MB of memory available for a side instance (buffer pool %s + %d MB margin)", key,
               mz.mem_kb and tostring(mz.mem_kb // 1024) or "?", tostring(site.get("side_buffer_pool")) ..
               (mz.bp_bytes and "" or " (not a size)"), site.num("memory_margin_mb"))
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
