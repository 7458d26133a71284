-- checks — the prechecks of a drill (plans/verify.lua runs them; plans/start.lua runs them again
-- before it touches anything). Each check is recorded with where it ran (a router or a node),
-- what it is about (sql, ssh, status, grants, ...) and its state (states.lua: ok, warn, fail,
-- which verify prints FAIL); a failed one carries its cause as the server or the system gave it
-- and, where the cause is a common one, the fix (causes.lua). Failures are collected and refused
-- together so the DBA sees everything at once; print_summary prints them per cluster and node
-- with every cause once, and report gives the same as a plain table (verify's --report-json,
-- the drill report).
--
-- One module per thing checked, in the order run() checks them:
--   checks.routers      the routers, the topology they list, the standby's registration
--   checks.nodes        every node's SQL and ssh (checks.connection: a connection and its TLS)
--   checks.replication  GTIDs and replication into the standby
--   checks.disk         disk and restore point (checks.clone: what the clone plugin needs)
--   checks.privileges   the account's privileges on a standby node
--   checks.os           what the ssh user may do on a standby node
-- checks.result is the result set they add to; checks.summary renders it.
local sched = require "flashrun.sched"
local site = require "site"
local result = require "checks.result"
local summary = require "checks.summary"
local routers = require "checks.routers"
local nodes = require "checks.nodes"
local replication = require "checks.replication"
local disk = require "checks.disk"
local grants = require "checks.privileges"
local os_rights = require "checks.os"
local settings = require "flashrun.settings"
local M = {}

-- The configuration ({source = section, target = section}: flashrun.settings) is read here only;
-- the modules beside this one are given the sections they read.
local function config() return settings.current() end

M.add = result.add -- (a unit test checks what each state logs at which level)
M.probe = disk.probe -- (a unit test runs it on this host)
M.report = summary.report
M.summary_lines = summary.summary_lines
M.print_summary = summary.print_summary
M.refuse_if_failed = summary.refuse_if_failed

-- Bytes of a MySQL size setting ("128M", "1G", "134217728"), or nil.
function M.size_bytes(v)
  local n, unit = tostring(v):upper():match("^%s*(%d+)%s*([KMGT]?)B?%s*$")
  if not n then return nil end
  return math.tointeger(tonumber(n) * ({ [""] = 1, K = 2 ^ 10, M = 2 ^ 20, G = 2 ^ 30, T = 2 ^ 40 })[unit])
end

-- Why the checks past the nodes cannot run (nil when they can): they need every router and node
-- reachable, and each cluster's primary.
local function unreachable(r, topo)
  local missing = {}
  for _, side in ipairs({ "source", "target" }) do
    if not topo[side] then missing[#missing + 1] = ("the %s cluster's nodes (its router did not answer)"):format(result.SIDE_NAME[side]) end
    if topo[side] and not topo[side].primary then missing[#missing + 1] = ("the %s cluster (no primary)"):format(result.SIDE_NAME[side]) end
  end
  if #r.failures == 0 and #missing == 0 then return nil end
  return "GTIDs, replication, disk, restore points, privileges and the ssh user's rights were not checked: "
    .. (#missing > 0 and ("cannot reach " .. table.concat(missing, " and ")) or "they need every router and node reachable")
end

-- What judging each node's disk, and a standby node's restore point, privileges and the ssh
-- user's rights need, measured on all nodes at once: the measurements in all's order, and the
-- errors of those that raised (sched.parallel).
local function measure(r, all, ctx)
  return sched.parallel(all, function(x)
    local n = r.nodes[x.key]
    local mz = disk.measure(n, ctx)
    if n.side == "target" then
      mz.grants, mz.grants_err = grants.measure(n.conn, ctx.marker, ctx.strategy.name)
      mz.os = mz.m and os_rights.measure(n.ssh, mz.m) or nil
    end
    return mz
  end)
end

-- A standby node whose datadir df measured (dk: its figures): its layout, where its restore
-- point would go and what the clone needs, the ssh user's rights, the account's privileges, the
-- room for the restore point.
local function judge_standby(r, key, n, mz, dk, ctx)
  disk.judge_layout(r, key, n, mz)
  if mz.m then
    disk.judge_restore_point(r, key, n, mz, ctx)
    os_rights.judge(r, key, mz.m, mz.os)
  end
  disk.judge_clone_limits(r, key, mz)
  grants.judge(r, key, mz.grants, mz.grants_err)
  disk.judge_space(r, key, mz, dk, ctx)
end

-- Disk and restore points: measured on all nodes at once, reported in order.
local function disks(r, all)
  local ctx = disk.context()
  local measured, failed = measure(r, all, ctx)
  for i, x in ipairs(all) do
    local n, mz = r.nodes[x.key], measured[i] or {}
    local dk = disk.judge_usage(r, x.key, mz, failed and failed[i], ctx.threshold)
    if dk and n.side == "target" then judge_standby(r, x.key, n, mz, dk, ctx) end
  end
  disk.say_filesystems(r, ctx)
end

-- run() -> the result set (checks.result) with every check, and: topo = {side = {nodes, primary,
-- standby_entry}} (the routers' dataservers), nodes = {key → {conn, ssh, side, ds}}, routers =
-- {side → "host:port"}, src_router and tgt_router (their connections), tls = {scope → {version,
-- cipher} or false}, skipped = why later checks did not run (nil when all ran). Never refuses:
-- refuse_if_failed does.
function M.run()
  local cfg = config()
  local r = result.new()
  local max_delay = site.num("max_delay")
  local conns, topo = routers.check(r, cfg, max_delay)
  r.src_router, r.tgt_router = conns.source, conns.target
  r.topo = topo
  local all = nodes.list(topo)
  nodes.check(r, cfg, all)
  r.skipped = unreachable(r, topo)
  if r.skipped then return r end
  replication.check(r, topo, all, max_delay)
  disks(r, all)
  replication.retention(r.nodes["source/" .. topo.source.primary.id])
  return r
end

return M
