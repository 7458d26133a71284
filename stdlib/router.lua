-- router.lua — GreatDB Router (dbscale) statements and the parsing of their results.
-- A node's identity is host:port, never the host alone (two instances may share a host).
local shell = require "shell"
local endpoint = require "flashrun.endpoint"
local server = require "server"
local M = {}

M.STANDBY_SERVER = "slave_dbscale_server"   -- the standby router, as registered on the source router
M.STANDBY_SOURCE = "slave_dbscale_source"

-- "host:port", or "[v6]:port" for an IPv6 host (endpoint.format).
function M.id(host, port) return endpoint.format(tostring(host), math.floor(tonumber(port))) end

local function must(conn, stmt)
  local n, err = conn:exec(stmt)
  if n == nil then error(("router statement failed: %s: %s"):format(stmt, tostring(err)), 0) end
  return n
end
M.exec = must

-- dbscale show dataservers → list of {name, host, port, id, status, master_online, role, down}.
-- role: "primary" when master-online-status is Master_Online, else "joiner" (the donor is chosen
-- later among the joiners). Names and hosts are validated before anyone puts them into a
-- statement or a command line.
function M.dataservers(conn)
  local rows, err = conn:query("dbscale show dataservers")
  if not rows then error("dbscale show dataservers failed: " .. tostring(err), 0) end
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
    list[#list + 1] = {
      name = name, host = host, port = port, id = M.id(host, port), status = status,
      master_online = mos, role = (mos == "Master_Online") and "primary" or "joiner",
      down = status:lower():find("down", 1, true) ~= nil,
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
  if standby or dry_run then
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

-- Re-register the standby router on the source router (the exact forms of the seed procedure).
-- The password sits inside a double-quoted literal (quotes doubled, backslashes escaped); that
-- escaped form is registered as a secret too, and a failure never echoes the statement.
function M.add_standby(source_conn, target, group_id)
  assert(shell.is_host(target.host) and shell.is_port(target.port), "bad standby router address")
  local function dq(v) return '"' .. tostring(v):gsub("\\", "\\\\"):gsub('"', '""') .. '"' end
  local pw = dq(target.mysql_password)
  secret(pw:sub(2, -2))
  local n, err = source_conn:exec(("dbscale dynamic add dataserver server_name=%s,server_host=%s,server_port=%d,server_user=%s,server_password=%s,dbscale_server")
    :format(M.STANDBY_SERVER, dq(target.host), target.port, dq(target.mysql_user), pw))
  if n == nil then error("dbscale dynamic add dataserver " .. M.STANDBY_SERVER .. " failed: " .. tostring(err), 0) end
  must(source_conn, ("dbscale dynamic add server datasource %s %s-1-1000-400-800 group_id = %d")
    :format(M.STANDBY_SOURCE, M.STANDBY_SERVER, group_id))
  must(source_conn, ("dbscale dynamic add slave %s to normal_0"):format(M.STANDBY_SOURCE))
end

function M.disable(conn, name)
  assert(shell.is_name(name)); must(conn, "dbscale disable dataserver " .. name)
end

function M.enable(conn, name)
  assert(shell.is_name(name)); must(conn, "dbscale enable dataserver " .. name)
end

function M.set_read_only(conn, on)
  must(conn, ('dbscale set global "enable-read-only" = %d'):format(on and 1 or 0))
end

function M.set_slave_mode(conn, on)
  must(conn, ("dbscale set global 'slave-dbscale-mode'=%d"):format(on and 1 or 0))
end

return M
