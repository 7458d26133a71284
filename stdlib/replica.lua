-- A standby node's own replication channel, waited for until it runs: what "replication
-- resumed" means before flashrun says so (start's rollback).
local server = require "server"
local wait = require "flashrun.wait"
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

return M
