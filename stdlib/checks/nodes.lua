-- checks/nodes.lua — every node of both clusters: it answers SQL (and its TLS), it is reachable
-- by ssh, and under sys_become = sudo its ssh user may run commands through sudo -n. The
-- connections made here are the ones every later check uses (r.nodes).
local router = require "router"
local cluster = require "cluster"
local causes = require "causes"
local result = require "checks.result"
local connection = require "checks.connection"
local add, SIDE_NAME = result.add, result.SIDE_NAME
local M = {}

-- list(topo) -> every node the routers listed, source first: {{side, ds = the dataserver, key =
-- "side/id"}}.
function M.list(topo)
  local all = {}
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side] and topo[side].nodes or {}) do all[#all + 1] = { side = side, ds = d, key = side .. "/" .. d.id } end
  end
  return all
end

-- Connects to node x over SQL and ssh (an ssh handshake costs a tenth of a second: all nodes at
-- once) and, with a session, asks sudo (cluster.check_become).
local function reach(x, c)
  local conn, err, errno, secs = cluster.try_connect(x.side, x.ds.host, x.ds.port)
  local p = (conn or tonumber(errno) == 2026) and connection.probe(x.ds.host, x.ds.port, c.ssl_mode, c) or nil
  local s, ssh_err, kind = cluster.try_ssh(x.side, x.ds.host)
  return { conn = conn, err = err, errno = errno, secs = secs, ssh = s, ssh_err = ssh_err, kind = kind, probe = p,
           tls = conn and (conn:tls() or false), sudo = s and cluster.check_become(x.side, s) or nil }
end

-- Every later command on the host goes through sudo: without it, nothing else is checkable.
-- failed: cluster.check_become's {cause, fix}, or nil when sudo -n works. c: x's side's section.
local function judge_sudo(r, x, c, failed)
  local user = c.sys_become_user
  local what = ("%s node %s: %s may run commands as %s through sudo -n"):format(x.side, x.ds.id, tostring(c.sys_user), user)
  if failed then
    local label = ("sudo -n -u %s fails for %s"):format(user, tostring(c.sys_user))
    add(r, x.key, "sudo", "fail", ("%s node %s: %s"):format(SIDE_NAME[x.side], x.ds.id, label),
        { cause = failed.cause, fix = failed.fix, group = x.side .. "|sudo|" .. failed.cause:gsub("%s*%(.*$", ""), label = label })
  else
    add(r, x.key, "sudo", "ok", what)
  end
end

-- check(r, cfg, all): reaches every node of all (M.list) at once, reports in order, and records
-- each in r.nodes[key] = {side, ds, conn, ssh} (conn or ssh nil when it failed) and its TLS in
-- r.tls[key]. cfg: the configuration ({source = section, target = section}).
function M.check(r, cfg, all)
  local reached, raised = cluster.try_each(all, function(x) return reach(x, cfg[x.side]) end)
  for i, x in ipairs(all) do
    -- A branch that raised reached neither: both checks fail with its error, never pass unread.
    local why = raised and raised[i] and tostring(raised[i])
    local c = reached[i] or { err = why, ssh_err = why }
    local sc = cfg[x.side]
    connection.connected(r, x.key, "sql", ("%s node %s answers SQL"):format(x.side, x.ds.id), c.err, c.err and {
      side = x.side, cfg = sc, addr = x.ds.id, host = x.ds.host,
      hint = connection.hint(c.errno, c.err, { side = x.side, seconds = c.secs, mode = sc.ssl_mode,
                                               cert = (sc.ssl_cert or "") ~= "" }, c.probe) })
    if c.tls ~= nil then r.tls[x.key] = c.tls end
    connection.judge_expiry(r, x.key, ("%s node %s"):format(SIDE_NAME[x.side], x.ds.id), c.probe)
    connection.connected(r, x.key, "ssh", ("%s node %s reachable by ssh"):format(x.side, x.ds.id), c.ssh_err, c.ssh_err and {
      side = x.side, cfg = sc, addr = router.id(x.ds.host, sc.sys_port or 22), host = x.ds.host,
      hint = causes.ssh(c.kind, c.ssh_err, { side = x.side }) })
    if c.ssh and sc.sys_become == "sudo" then judge_sudo(r, x, sc, c.sudo) end
    r.nodes[x.key] = { side = x.side, ds = x.ds, conn = c.conn, ssh = c.ssh }
  end
end

return M
