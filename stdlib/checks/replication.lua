-- checks/replication.lua — the standby's data against production's: its GTIDs are contained in
-- the source's, its master replicates from production without delay, its joiners replicate;
-- and how long production keeps its binary logs.
local log = require "flashrun.log"
local gtid = require "flashrun.gtid"
local server = require "server"
local wait = require "flashrun.wait"
local result = require "checks.result"
local judge = result.judge
local M = {}

-- GTID containment: the standby must not carry transactions production lacks. sp: the source
-- master's r.nodes entry.
local function gtids(r, all, sp)
  local src_exec = server.executed(sp.conn)
  for _, x in ipairs(all) do
    local side_node = r.nodes[x.key]
    if side_node.side == "target" then
      local ex = server.executed(side_node.conn)
      local errant = gtid.subtract(ex, src_exec)
      judge(r, x.key, "gtid", errant == "", "standby node %s executed GTIDs are contained in the source's%s",
            side_node.ds.id, errant == "" and "" or ("; missing on the source: " .. errant))
    end
  end
end

-- Replication into the standby: its master (tp: its r.nodes entry) replicates, both threads
-- running, no more than max_delay seconds behind (waited for up to 10 s).
local function master(r, tp, max_delay)
  local tkey = "target/" .. tp.ds.id
  local okrs, rs = pcall(server.replica_status, tp.conn)
  if not okrs then
    judge(r, tkey, "replication", false, "standby master %s: reading its replication status failed: %s", tp.ds.id, tostring(rs))
  elseif judge(r, tkey, "replication", rs ~= nil, "standby master %s is a replica", tp.ds.id) then
    judge(r, tkey, "replication", rs.io_running and rs.sql_running, "standby master %s replication threads running (io=%s sql=%s%s)",
          tp.ds.id, tostring(rs.io_running), tostring(rs.sql_running),
          (rs.last_io_error ~= "" or rs.last_sql_error ~= "") and (", error: " .. rs.last_io_error .. rs.last_sql_error) or "")
    local okd = pcall(wait.wait_until, "the standby master has no replication delay", function()
      local st = server.replica_status(tp.conn)
      if st and st.seconds_behind and st.seconds_behind <= max_delay then return true end
      return false, "seconds behind = " .. tostring(st and st.seconds_behind)
    end, 10)
    local st = server.replica_status(tp.conn)
    judge(r, tkey, "replication", okd and st ~= nil and st.seconds_behind ~= nil and st.seconds_behind <= max_delay,
          "standby master %s seconds behind source = %s (allowed %s)", tp.ds.id, tostring(st and st.seconds_behind), tostring(max_delay))
  end
end

-- The standby's joiners replicate from its master.
local function joiners(r, topo)
  for _, d in ipairs(topo.target.nodes) do
    if d.role ~= "primary" then
      local ok, st = pcall(server.replica_status, r.nodes["target/" .. d.id].conn)
      judge(r, "target/" .. d.id, "replication", ok and st ~= nil and st.io_running and st.sql_running, "standby joiner %s replicates (io=%s sql=%s)%s",
            d.id, tostring(ok and st and st.io_running), tostring(ok and st and st.sql_running), ok and "" or (": " .. tostring(st)))
    end
  end
end

-- check(r, topo, all, max_delay): the GTIDs of every standby node (all: checks.nodes.list), the
-- replication of the standby's master and joiners. Every node must have answered (r.nodes).
function M.check(r, topo, all, max_delay)
  gtids(r, all, r.nodes["source/" .. topo.source.primary.id])
  master(r, r.nodes["target/" .. topo.target.primary.id], max_delay)
  joiners(r, topo)
end

-- retention(sp): says how long the standby may stay detached: the source master's (sp, its
-- r.nodes entry) binlog retention and what it purged (an info line, not a check).
function M.retention(sp)
  local expire = server.variable(sp.conn, "binlog_expire_logs_seconds")
  log.info("info  source binlog retention: binlog_expire_logs_seconds=%s (%.1f days); purged: %s",
           tostring(expire), (tonumber(expire) or 0) / 86400, server.purged(sp.conn) ~= "" and server.purged(sp.conn) or "(none)")
end

return M
