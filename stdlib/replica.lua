-- A standby node's own replication channel: waited for until it runs (what "replication
-- resumed" means before flashrun says so), until it holds a GTID set, until it replicates from
-- the standby master; its TLS settings put back.
local server = require "server"
local router = require "router"
local cluster = require "cluster"
local site = require "site"
local wait = require "flashrun.wait"
local gtid = require "flashrun.gtid"
local progress = require "flashrun.progress"
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local M = {}

-- Waits until the default channel on conn (node `what`, "host:port") has its receiver and applier
-- threads running (SHOW REPLICA STATUS: Replica_IO_Running and Replica_SQL_Running Yes). A
-- receiver still "Connecting" after reconnect_after seconds (default 5) is restarted once
-- (STOP/START REPLICA IO_THREAD): after its source was down it waits SOURCE_CONNECT_RETRY
-- between attempts, 60 s by default (MySQL manual, CHANGE REPLICATION SOURCE TO), and a source
-- back meanwhile is then reached at once. Raises after timeout seconds, naming the threads'
-- states and last errors; a server that is no replica raises too.
function M.wait_running(conn, what, timeout, reconnect_after)
  reconnect_after = reconnect_after or 5
  local t0, nudged = sched.now(), false
  wait.wait_until(what .. " replicates (receiver and applier threads running)", function()
    local st = server.replica_status(conn)
    if not st then return false, "no replication channel" end
    if st.io_running and st.sql_running then return true end
    if not st.io_running and not nudged and sched.now() - t0 >= reconnect_after then
      nudged = true
      log.info("%s: its receiver thread is not running (%s): restarting it rather than waiting for its next connect retry",
               what, st.io_state ~= "" and st.io_state or "stopped")
      local stop, start = server.sql(conn, "stop_replica") .. " IO_THREAD", server.sql(conn, "start_replica") .. " IO_THREAD"
      local ok, err = conn:exec(stop)
      if ok then ok, err = conn:exec(start) end
      if not ok then return false, ("restarting the receiver thread failed: %s"):format(tostring(err)) end
    end
    return false, ("io=%s sql=%s%s%s"):format(tostring(st.io_running), tostring(st.sql_running),
      st.last_io_error ~= "" and ("; " .. st.last_io_error) or "", st.last_sql_error ~= "" and ("; " .. st.last_sql_error) or "")
  end, timeout)
end

-- Waits until every node of `nodes` ({id, host, port}) holds `target` (production's executed GTID
-- set) with its replication threads running; raises naming the first that does not, after
-- site.apply_timeout.
function M.wait_caught_up(nodes, target)
  for _, n in ipairs(nodes) do
    local c = cluster.connect("target", n.host, n.port)
    local catching = progress.tracker { node = n.id, task = "catch-up", unit = "transactions" }
    wait.wait_until(("%s reaches production's executed GTID set with replication running"):format(n.id), function()
      local ex = server.executed(c)
      local st = server.replica_status(c)
      local missing = gtid.subtract(target, ex)
      if missing == "" and st and st.io_running and st.sql_running then return true end
      if missing ~= "" then catching:sample({ stage = "from production", left = gtid.count(missing) }) end
      return false, ("missing %s; io=%s sql=%s %s%s"):format(missing ~= "" and missing or "nothing", tostring(st and st.io_running),
        tostring(st and st.sql_running), st and st.last_io_error or "", st and st.last_sql_error or "")
    end, site.num("apply_timeout"))
    c:close()
  end
end

-- Waits until every node of `nodes` holds the GTID set `held` (what the standby master holds),
-- after site.apply_timeout raises.
function M.wait_holds(nodes, held)
  for _, n in ipairs(nodes) do
    local c = cluster.connect("target", n.host, n.port)
    wait.wait_until(n.id .. " holds what the standby master holds", function()
      local ex = server.executed(c)
      return gtid.is_subset(held, ex), "missing " .. gtid.subtract(held, ex)
    end, site.num("apply_timeout"))
    c:close()
  end
end

-- Waits until node n ({id, host, port}) replicates from the node whose id is source_id
-- ("host:port"), both threads running; raises after timeout seconds.
function M.wait_source(n, source_id, timeout)
  local c = cluster.connect("target", n.host, n.port)
  wait.wait_until(n.id .. " replicates from the standby master", function()
    local st = server.replica_status(c)
    if st and st.io_running and st.sql_running and router.id(st.source_host, st.source_port) == source_id then return true end
    return false, st and ("io=" .. tostring(st.io_running) .. " sql=" .. tostring(st.sql_running) .. " " .. st.last_io_error .. st.last_sql_error) or "no replica"
  end, timeout)
  c:close()
end

-- Stops the receiver thread of every replica among the node models `models` (role not
-- primary), all at once; a node that does not answer is passed over. A replica whose receiver
-- reconnects to the standby master while that master shuts down holds the shutdown up until the
-- dump thread's next heartbeat (9-11 s on the lab, against 1 s for a replica's: bench/scale.sh):
-- before shutdowns, the replicas stop fetching first. Their threads are started again by what
-- puts the nodes back in service.
function M.pause_receivers(models)
  cluster.on_each("pausing replication", models, function(m)
    local c = m.role ~= "primary" and cluster.try_connect("target", m.host, m.port)
    if c then c:exec(server.sql(c, "stop_replica") .. " IO_THREAD"); c:close() end
    return true
  end)
end

-- Puts back the replication channel's TLS settings (SOURCE_SSL*) on conn as start recorded them
-- for node model m (m.replication.tls): a node cloned from the donor holds the donor's, whose
-- files are the donor's own. The threads are stopped for the change and started again when they
-- ran. Returns true when something was changed.
function M.put_back_tls(conn, m)
  local want = m.replication and m.replication.tls
  local fix = want and server.channel_tls_sql(conn, want, server.channel_tls(conn))
  if not fix then return false end
  local st = server.replica_status(conn)
  local running = st and (st.io_running or st.sql_running)
  if running then assert(conn:exec(server.sql(conn, "stop_replica"))) end
  assert(conn:exec(fix))
  if running then assert(conn:exec(server.sql(conn, "start_replica"))) end
  log.info("%s: replication TLS settings put back as before the drill", m.id)
  return true
end

return M
