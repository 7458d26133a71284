-- production — the production cluster as stop meets it: whether it answers, its master, whether
-- it still holds every transaction the standby needs to re-attach after the restore point, and
-- the marker row that proves replication flows (site.replication_proof = marker: the only write
-- flashrun makes on production, and only when a DBA asks for it).
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local shell = require "shell"
local retention = require "retention"
local log = require "flashrun.log"
local clock = require "flashrun.clock"
local gtid = require "flashrun.gtid"
local refuse = require("flashrun.errors").refuse
local rehearsal = require "flashrun.rehearsal"
local M = {}

-- Whether production answers: its router, and the master the router names. true, or nil and
-- why not.
function M.answers()
  local ok, why = pcall(function()
    local src = cluster.router("source")
    local nodes = router.nodes(src)
    src:close()
    local p = router.primary(nodes)
    if not p then error("production's router names no master", 0) end
    cluster.connect("source", p.host, p.port, { timeout = 5 }):close()
  end)
  if ok then return true end
  return nil, tostring(type(why) == "table" and why.msg or why)
end

-- A connection to production's master as its router names it, and that node ({id, host, port}).
-- Raises when the router names none.
function M.master_conn()
  local src = cluster.router("source")
  local p = router.primary(router.nodes(src))
  src:close()
  if not p then error("the source router names no primary (Master_Online)", 0) end
  return cluster.connect("source", p.host, p.port), p
end

-- What stop says when the standby cannot re-attach: nothing was touched, and the DBA's choices.
local function unattachable(why)
  return "the standby cannot re-attach to production; stop changed nothing (the standby stays open, with the drill's " ..
    "data, its restore points kept):\n  " .. table.concat(why, "\n  ") .. [[

Putting the standby back to its restore point now would leave it unable to replicate: production no
longer holds every transaction after the restore point. Choices:
  1. Production still has them elsewhere (a replica of production that kept its binary logs, a binlog
     backup): make production's master serve them again (fail over to that replica, or restore the
     binary logs and restart production's master so gtid_purged shrinks), then run stop again.
  2. Rebuild the standby from production instead (the site's own way: a clone or a backup of production
     on every standby node, then the standby registered on production's router again), and close the
     drill's record: docs/operator.md, "When production purged what the standby needs".
plans/status.lua shows the re-attach deadline while a drill is open: end drills before it.]]
end

-- Refuses unless production's master holds every transaction after the restore point `frozen`
-- (none purged) and every one in it (none errant); else says the re-attach deadline. Returns
-- {production_master = id, deadline = text} for the journal.
function M.check_reattach(frozen)
  local p, c, s = retention.production_master()
  local r = retention.read(c, s, frozen)
  c:close()
  local why = {}
  if r.lost ~= "" then
    why[#why + 1] = ("production's master %s purged binary logs holding transactions after the restore point: %s")
      :format(p.id, r.lost)
  end
  local errant = gtid.subtract(frozen, r.executed)
  if errant ~= "" then
    why[#why + 1] = ("the restore point holds transactions production's master %s lacks: %s"):format(p.id, errant)
  end
  if #why > 0 then refuse(unattachable(why)) end
  local left = r.deadline.at and (r.deadline.at - r.now)
  log.info("production's master %s holds every transaction after the restore point (%d); re-attach deadline: %s%s", p.id,
           r.executed ~= "" and gtid.count(gtid.subtract(r.executed, frozen)) or 0,
           left and (retention.span(left) .. " left, ") or "", r.deadline.text)
  return { production_master = p.id, deadline = r.deadline.text }
end

-- The schema of the marker table (site.marker_schema): a plain name, checked when the settings load.
function M.marker_schema()
  local s = site.get("marker_schema")
  assert(shell.is_name(s) and not s:find("[%.%-]"), "site.marker_schema must be a plain name")
  return s
end

-- Writes a fresh token into <marker_schema>.drill_marker on production, through its router, and
-- returns it (the standby's nodes must then show it). Sent through production's router, whose
-- backend session has whatever sql_mode the site runs: a backquoted plain name and a token of
-- digits, letters and '-' read alike under every mode.
function M.write_marker()
  local schema = M.marker_schema()
  local token = ("%s-%d"):format(clock.stamp(), math.random(1, 1 << 30))
  local src = cluster.router("source")
  for _, stmt in ipairs({
    ("CREATE DATABASE IF NOT EXISTS `%s`"):format(schema),
    ("CREATE TABLE IF NOT EXISTS `%s`.drill_marker (id INT PRIMARY KEY, token VARCHAR(64) NOT NULL, at DATETIME(6) NOT NULL)"):format(schema),
    ("REPLACE INTO `%s`.drill_marker VALUES (1, %s, NOW(6))"):format(schema, shell.sql_string(token)),
  }) do
    local n, err = src:exec(stmt)
    if n == nil then error("writing the replication marker on the source failed: " .. tostring(err), 0) end
  end
  return token
end

-- The marker's token as node conn holds it, or nil.
function M.read_marker(conn)
  local rows = conn:query(("SELECT token FROM `%s`.drill_marker WHERE id = 1"):format(M.marker_schema()))
  return rows and rows[1] and server.value(rows[1].token)
end

-- Refuses unless the standby can re-attach now: no node of `nodes` ({id, host, port, role}) holds
-- a GTID production's master lacks, and production purged nothing the standby master still
-- needs. In a rehearsal the swap was not made: every node is judged as holding `frozen`, the
-- restore point's GTID set, as it will after the swap.
function M.check_gtids(nodes, frozen)
  local topo = cluster.topology(cluster.router("source"), cluster.router("target"))
  local sp = topo.source.primary
  local sc = cluster.connect("source", sp.host, sp.port)
  local src_exec, src_purged = server.executed(sc), server.purged(sc)
  sc:close()
  local bad = {}
  for _, n in ipairs(nodes) do
    -- (The swap was only rehearsed: judge the GTID set every node will have after it.)
    local ex = rehearsal.check(n.id .. "'s GTID set after the swap", function()
      local c = cluster.connect("target", n.host, n.port)
      local x = server.executed(c)
      c:close()
      return x
    end, frozen)
    local errant = gtid.subtract(ex, src_exec)
    if errant ~= "" then bad[#bad + 1] = ("%s carries GTIDs production lacks: %s"):format(n.id, errant) end
    if n.role == "primary" then
      local missing = gtid.subtract(src_purged, ex)
      if missing ~= "" then
        bad[#bad + 1] = ("production purged binlogs the standby master %s still needs: %s"):format(n.id, missing)
      end
    end
  end
  if #bad > 0 then refuse("cannot re-attach the standby:\n  " .. table.concat(bad, "\n  ")) end
end

return M
