-- router.lua — GreatDB Router (dbscale) statements and the parsing of their results.
-- A node's identity is host:port, never the host alone (two instances may share a host).
local shell = require "shell"
local endpoint = require "flashrun.endpoint"
local server = require "server"
local rehearsal = require "flashrun.rehearsal"
local errors = require "flashrun.errors"
local log = require "flashrun.log"
local M = {}

M.STANDBY_SERVER = "slave_dbscale_server"   -- the standby router, as registered on the source router
M.STANDBY_SOURCE = "slave_dbscale_source"

-- What start and stop send to the routers, as each cluster's mysql_user (privileges.lua). A
-- router does not report its accounts' privileges (SHOW GRANTS, where it answers, is the
-- backend's): verify can only name these, not check them.
M.PRIVILEGES = {
  { on = "standby router", router = true, plans = "start stop",
    stmt = "dbscale set global enable-read-only / slave-dbscale-mode; dbscale disable|enable dataserver; STOP|START SLAVE forwarded" },
  { on = "production router", router = true, plans = "start stop",
    stmt = "dbscale dynamic remove|add dataserver, server datasource, slave; dbscale request next group id" },
}

-- "host:port", or "[v6]:port" for an IPv6 host (endpoint.format).
function M.id(host, port) return endpoint.format(tostring(host), math.floor(tonumber(port))) end

M.DEFAULT_SPEC_LOAD = "-1-1000-400-800"          -- the load figures of the seed's server datasource

-- A router refuses START/STOP/RESET SLAVE and CHANGE MASTER with error 9001 while slave-dbscale-mode
-- is off ("'slave-dbscale-mode' is off, dbscale is denied to be a slave").
local function is_9001(err)
  err = tostring(err)
  return err:find("[9001]", 1, true) ~= nil or err:find("'slave-dbscale-mode' is off", 1, true) ~= nil
end

-- The rows of a router read, or an error naming the statement.
local function read(conn, stmt)
  local rows, err = conn:query(stmt)
  if not rows then error(("%s failed: %s"):format(stmt, tostring(err)), 0) end
  return rows
end

local function must(conn, stmt)
  local n, err = conn:exec(stmt)
  if n == nil then
    if is_9001(err) then
      error(("slave-dbscale-mode is off on the standby router: it refused %s (error 9001)"):format(stmt), 0)
    end
    error(("router statement failed: %s: %s"):format(stmt, tostring(err)), 0)
  end
  return n
end
M.exec = must

-- ---- status texts ---------------------------------------------------------------------------
-- `status` of dbscale show dataservers, as real routers write it: "Server normal", "Slave normal",
-- "server disabled", "Server normal, semisync down" (semi-sync fell back to async; the server is
-- up), "Slave normal, catching master 68709s" (shown past max-replication-delay), "... down".
-- Returns {state = "normal"|"semisync_degraded"|"lagging"|"disabled"|"down"|"unknown", lag = s}.
function M.status_state(text)
  local t = tostring(text or ""):lower()
  if t:find("disabled", 1, true) then return { state = "disabled" } end
  local semisync = t:find("semisync%s+down") ~= nil
  local rest = t:gsub(",?%s*semisync%s+down", "")
  if rest:find("down", 1, true) then return { state = "down" } end
  local lag = rest:match("catching%s+master%s+(%d+)%s*s")
  if lag then return { state = "lagging", lag = tonumber(lag), semisync_degraded = semisync or nil } end
  if semisync then return { state = "semisync_degraded" } end
  if rest:find("%f[%a]normal%f[%A]") then return { state = "normal" } end
  return { state = "unknown" }
end

-- dbscale show dataservers → list of {name, host, port, id, user, status, state, lag,
-- master_online, role, down}: state and lag from status_state, user the `username` column (for
-- slave_dbscale_server the account it is registered with).
-- role: "primary" when master-online-status is Master_Online, else "joiner" (the donor is chosen
-- later among the joiners). Names and hosts are validated before anyone puts them into a
-- statement or a command line.
function M.dataservers(conn)
  local rows = read(conn, "dbscale show dataservers")
  local list = {}
  for _, r in ipairs(rows) do
    local name = server.value(r.servername) or server.value(r.Servername) or ""
    local rhost = server.value(r.host) or ""
    local rport = server.value(r.port)
    if not shell.is_name(name) then error(("router returned an unusable server name %s"):format(shell.show(name)), 0) end
    local host, herr = endpoint.host(rhost)
    local port, perr = endpoint.port(rport)
    if not host or not port then
      error(("router returned an unusable address for %s: host %s, port %s (%s)"):format(name, shell.show(rhost),
            shell.show(rport), herr or perr), 0)
    end
    local status = server.value(r.status) or ""
    local mos = server.value(r["master-online-status"]) or ""
    local st = M.status_state(status)
    list[#list + 1] = {
      name = name, host = host, port = port, id = M.id(host, port), status = status,
      user = server.value(r.username) or "",
      master_online = mos, role = (mos == "Master_Online") and "primary" or "joiner",
      state = st.state, lag = st.lag, down = st.state == "down",
    }
  end
  return list
end

-- The data nodes (the standby router entry left out) and the standby router entry, if any.
function M.nodes(conn)
  local nodes, standby = {}, nil
  for _, d in ipairs(M.dataservers(conn)) do
    if d.name == M.STANDBY_SERVER then standby = d else nodes[#nodes + 1] = d end
  end
  return nodes, standby
end

-- With no drill in the journal read, what says one may be open anyway (a start run with another
-- --state-dir): the standby router missing from production's, which start detaches it from.
M.DETACHED = ("the standby router is not registered on production's router (no %s: start detaches it)"):format(M.STANDBY_SERVER)

-- detached(connect_source) -> true when production's router (connect_source() opens it) lists no
-- standby router; false when it does or cannot be read (the plan's own checks say why). Read-only.
function M.detached(connect_source)
  local ok, found = pcall(function()
    local conn = connect_source()
    local _, standby = M.nodes(conn)
    conn:close()
    return standby ~= nil
  end)
  return ok and not found
end

function M.primary(nodes)
  local p
  for _, n in ipairs(nodes) do
    if n.role == "primary" then
      if p then error("the router reports two primaries: " .. p.id .. " and " .. n.id, 0) end
      p = n
    end
  end
  return p
end

function M.find(nodes, id)
  for _, n in ipairs(nodes) do if n.id == id then return n end end
end

-- Detach the standby from the source router. Each statement is tolerated when the entry is
-- already gone, so a resumed run can repeat it.
function M.remove_standby(source_conn)
  local _, standby = M.nodes(source_conn)
  local ok1, e1 = source_conn:exec("dbscale dynamic remove datasource " .. M.STANDBY_SOURCE)
  local ok2, e2 = true, nil
  -- In a rehearsal the entry may be one an earlier step only would have left: the removal is shown.
  if rehearsal.check("whether the standby router's dataserver is still registered", function() return standby ~= nil end, true) then
    ok2, e2 = source_conn:exec("dbscale dynamic remove dataserver " .. M.STANDBY_SERVER)
  end
  if ok2 == nil then error("dbscale dynamic remove dataserver failed: " .. tostring(e2), 0) end
  if ok1 == nil then log.warn("remove datasource %s: %s (continuing: the dataserver is gone)", M.STANDBY_SOURCE, tostring(e1)) end
end

-- The next free group id, asked of the master router of the source cluster (dbscale request
-- cluster info names it as host:port). connect(host, port) returns a connection to it.
function M.next_group_id(source_conn, connect)
  local rows = source_conn:query("dbscale request cluster info")
  local target = source_conn
  if rows then
    for _, r in ipairs(rows) do
      if server.value(r.master_dbscale) == "master" then
        local h, p = endpoint.parse(server.value(r.host) or "")
        if h then
          local c = connect(h, p)
          if c then target = c end
        end
      end
    end
  end
  local rows2, err = target:query("dbscale request next group id")
  if not rows2 or not rows2[1] then error("dbscale request next group id failed: " .. tostring(err), 0) end
  local id = tonumber(server.value(rows2[1].next_group_id))
  if not id then error("dbscale request next group id returned no number", 0) end
  return id
end

-- ---- options ------------------------------------------------------------------------------
-- A boolean option's value in either form routers give (1/0, TRUE/FALSE, ON/OFF, any case);
-- nil for anything else (an unset option reads as nil).
function M.bool(v)
  v = server.value(v)
  if v == nil then return nil end
  local t = tostring(v):upper():gsub("^%s+", ""):gsub("%s+$", "")
  if t == "1" or t == "TRUE" or t == "ON" then return true end
  if t == "0" or t == "FALSE" or t == "OFF" then return false end
  return nil
end

-- dbscale show options: {name = value text} (NULL and absent options are missing). Columns are
-- option_name/value on real routers; Variable_name/Value (the old tool's reading) is accepted too.
function M.options(conn)
  local rows = read(conn, "dbscale show options")
  local t = {}
  for _, r in ipairs(rows) do
    local name = server.col(r, "option_name", "Variable_name", "OPTION_NAME")
    if name then t[name] = server.col(r, "value", "Value", "VALUE") end
  end
  return t
end

-- What the drill changes on the standby router, read before changing it: {read_only,
-- slave_mode, disaster_mode} (booleans; nil when the router does not report the option).
function M.standby_options(conn)
  local o = M.options(conn)
  return { read_only = M.bool(o["enable-read-only"]), slave_mode = M.bool(o["slave-dbscale-mode"]),
           disaster_mode = M.bool(o["enable-disaster-mode"]) }
end

function M.set_read_only(conn, on)
  must(conn, ('dbscale set global "enable-read-only" = %d'):format(on and 1 or 0))
end

function M.set_slave_mode(conn, on)
  must(conn, ("dbscale set global 'slave-dbscale-mode'=%d"):format(on and 1 or 0))
end

-- Puts back the recorded enable-read-only and slave-dbscale-mode, each only when it differs
-- (a router refuses slave-dbscale-mode changes outside enable-disaster-mode).
function M.restore_options(conn, recorded)
  local now = M.standby_options(conn)
  if recorded.read_only ~= nil and now.read_only ~= recorded.read_only then M.set_read_only(conn, recorded.read_only) end
  if recorded.slave_mode ~= nil and now.slave_mode ~= recorded.slave_mode then M.set_slave_mode(conn, recorded.slave_mode) end
end

-- Runs fn() with slave-dbscale-mode on (the standby router forwards replication control only
-- then), putting back the mode it found.
function M.with_slave_mode(conn, fn)
  local was = M.standby_options(conn).slave_mode
  if not was then M.set_slave_mode(conn, true) end
  fn()
  if was == false then M.set_slave_mode(conn, false) end
end

-- ---- datasources --------------------------------------------------------------------------
-- dbscale show datasource type=replication → list of {name, master_source, master_server,
-- slave_source, slave_server, slave_host_info, slave_dbscale}: one entry per slave (and one
-- for a datasource without slaves). The first row of a datasource carries the master columns;
-- the following rows leave them (and, on some routers, Name) empty and carry one slave each.
function M.replication_datasources(conn)
  local rows = read(conn, "dbscale show datasource type=replication")
  local list, cur = {}, nil
  for _, r in ipairs(rows) do
    local name = server.value(r.Name) or ""
    if name ~= "" and (not cur or cur.name ~= name) then
      cur = { name = name, master_source = server.value(r.MasterSource) or "", master_server = server.value(r.MasterServer) or "" }
    end
    if cur then
      local e = { name = cur.name, master_source = cur.master_source, master_server = cur.master_server,
                  slave_source = server.value(r.SlaveSource) or "", slave_server = server.value(r.SlaveServers) or "",
                  slave_host_info = server.value(r.SlaveServerHostInfo) or "",
                  slave_dbscale = tostring(server.value(r.SlaveDBScale) or ""):lower() == "yes" }
      list[#list + 1] = e
    end
  end
  return list
end

-- dbscale show datasource type=server → list of {name, server, host_info, spec, group}. GreatDB
-- Router 6.0 shows neither the load spec nor the group id; they are read when a router shows
-- them (columns group_id/GroupId/Group, spec/server_spec/Spec) and nil otherwise.
function M.server_datasources(conn)
  local rows = read(conn, "dbscale show datasource type=server")
  local list = {}
  for _, r in ipairs(rows) do
    local g = server.col(r, "group_id", "GroupId", "Group", "group")
    list[#list + 1] = { name = server.col(r, "Name", "datasource_name") or "", server = server.col(r, "Server", "server") or "",
                        host_info = server.col(r, "ServerHostInfo") or "",
                        spec = server.col(r, "spec", "server_spec", "Spec"), group = g and math.tointeger(tonumber(g)) }
  end
  return list
end

-- The standby's registration on the source router, or nil when it is not registered:
-- {datasource = the replication datasource it is a slave of (nil when not attached),
--  host, port, user (of the slave_dbscale_server dataserver), spec, group (nil when unknown)}.
function M.standby_registration(src_conn)
  local _, entry = M.nodes(src_conn)
  if not entry then return nil end
  local reg = { host = entry.host, port = entry.port, user = entry.user }
  for _, e in ipairs(M.replication_datasources(src_conn)) do
    if e.slave_source == M.STANDBY_SOURCE then
      if reg.datasource and reg.datasource ~= e.name then
        error(("the standby is a slave of two datasources on the source router: %s and %s"):format(reg.datasource, e.name), 0)
      end
      reg.datasource = e.name
    end
  end
  if reg.datasource and not shell.is_name(reg.datasource) then
    error(("the source router names the standby's datasource %q, which flashrun cannot put into a statement"):format(reg.datasource), 0)
  end
  for _, d in ipairs(M.server_datasources(src_conn)) do
    if d.name == M.STANDBY_SOURCE then reg.spec, reg.group = d.spec, d.group end
  end
  if reg.spec and not reg.spec:match("^[%w_]+%-%d+%-%d+%-%d+%-%d+$") then reg.spec = nil end
  return reg
end

-- For a journal written before start recorded the registration: the standby router as
-- configured, a slave of production's only replication datasource (refused when there are
-- several: which one it belonged to is not known).
function M.assumed_registration(src_conn, target)
  local names, seen = {}, {}
  for _, e in ipairs(M.replication_datasources(src_conn)) do
    if not seen[e.name] then seen[e.name] = true; names[#names + 1] = e.name end
  end
  if #names ~= 1 then
    errors.refuse(("the journal does not record which replication datasource the standby was a slave of, and the source " ..
            "router has %d (%s): register it by hand (dbscale dynamic add slave %s to DATASOURCE), then run stop again")
           :format(#names, table.concat(names, ", "), M.STANDBY_SOURCE))
  end
  log.warn("the journal predates recorded registrations: re-registering the standby as configured, a slave of %s", names[1])
  return { host = target.host, port = target.port, user = target.router_user or target.mysql_user, datasource = names[1] }
end

-- The group id to register the standby's server datasource with: the recorded one when no
-- datasource uses it, the next free one (asked of the master router) otherwise.
function M.choose_group(src_conn, recorded, connect)
  if recorded then
    local taken = false
    for _, d in ipairs(M.server_datasources(src_conn)) do taken = taken or d.group == recorded end
    if not taken then return recorded end
    log.info("group id %d is taken now; registering the standby with the next free one", recorded)
  end
  return M.next_group_id(src_conn, connect)
end

-- Re-register the standby router on the source router exactly as recorded (reg from
-- standby_registration), each piece only when missing so a resumed run can repeat it. The
-- password cannot be read back from the router: it is the configured one. It sits inside a
-- double-quoted literal (quotes doubled, backslashes escaped); that escaped form is registered
-- as a secret too, and a failure never echoes the statement.
function M.add_standby(source_conn, reg, password, connect)
  assert(shell.is_host(reg.host) and shell.is_port(reg.port), "bad standby router address")
  assert(shell.is_name(reg.datasource or ""), "the standby's datasource is not recorded")
  local function dq(v) return '"' .. tostring(v):gsub("\\", "\\\\"):gsub('"', '""') .. '"' end
  local _, entry = M.nodes(source_conn)
  if not entry then
    local pw = dq(password)
    log.secret(pw:sub(2, -2))
    local n, err = source_conn:exec(("dbscale dynamic add dataserver server_name=%s,server_host=%s,server_port=%d,server_user=%s,server_password=%s,dbscale_server")
      :format(M.STANDBY_SERVER, dq(reg.host), reg.port, dq(reg.user), pw))
    if n == nil then error("dbscale dynamic add dataserver " .. M.STANDBY_SERVER .. " failed: " .. tostring(err), 0) end
  end
  local have_source, attached = false, false
  for _, d in ipairs(M.server_datasources(source_conn)) do have_source = have_source or d.name == M.STANDBY_SOURCE end
  for _, e in ipairs(M.replication_datasources(source_conn)) do attached = attached or e.slave_source == M.STANDBY_SOURCE end
  if not have_source then
    local gid = M.choose_group(source_conn, reg.group, connect)
    must(source_conn, ("dbscale dynamic add server datasource %s %s group_id = %d")
      :format(M.STANDBY_SOURCE, reg.spec or (M.STANDBY_SERVER .. M.DEFAULT_SPEC_LOAD), gid))
  end
  if not attached then
    -- A run killed in the middle of this statement may have left it to finish on the router:
    -- "already in" means the standby is attached, as wanted.
    local stmt = ("dbscale dynamic add slave %s to %s"):format(M.STANDBY_SOURCE, reg.datasource)
    local n, err = source_conn:exec(stmt)
    if n == nil and not tostring(err):find("already in", 1, true) then
      error("router statement failed: " .. stmt .. ": " .. tostring(err), 0)
    end
  end
end

function M.disable(conn, name)
  assert(shell.is_name(name)); must(conn, "dbscale disable dataserver " .. name)
end

function M.enable(conn, name)
  assert(shell.is_name(name)); must(conn, "dbscale enable dataserver " .. name)
end

return M
