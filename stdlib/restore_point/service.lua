-- restore_point.service — a standby node taken out of service for its restore point (a reflink
-- copy's shutdown) or left down by an interrupted run, put back the way start recorded it; and
-- what to say when its filesystem is too full for mysqld to start.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local mysqld = require "mysqld"
local variables = require "variables"
local log = require "flashrun.log"
local M = {}

local Q = shell.quote

-- When node m's data filesystem is (nearly) full, what to say about an error of start's there:
-- the space, and what to run once there is room; else nil. Nothing flashrun does makes room.
function M.full_hint(m)
  local rok, out = pcall(cluster.read, cluster.ssh("target", m.host),
                         "df -Pk -- " .. Q(m.instance_dir) .. " | awk 'NR == 2 { print $4 }'")
  local free = rok and tonumber(out)
  if not free or free >= site.num("disk_margin_mb") * 1024 then return nil end
  return ("%s's data filesystem (%s) has %d KiB free: too little for mysqld to start or write there. Free space there, "
    .. "then re-run plans/start.lua: it takes the restore points again (a node that is down is started) and opens "
    .. "the standby; then run plans/stop.lua to end the drill."):format(m.id, m.instance_dir, free)
end

-- Puts node m back in service the way it was recorded at start (after a restart of flashrun's):
-- started without replication, its global variables set back, its replica threads started
-- again when they ran. known_down as for mysqld.start. Returns nothing; raises when it does not
-- come up.
function M.back_in_service(m, known_down)
  local s = cluster.ssh("target", m.host)
  local ok, c = pcall(mysqld.start, s, m, known_down)
  if not ok then
    -- A server does not start on a full filesystem (nor, its blocks shared with a reflink copy,
    -- rewrite a page): the error says so, and what to run after.
    local hint = M.full_hint(m)
    error(hint and (tostring(c) .. "\n" .. hint) or c, 0)
  end
  if not c then return end -- a rehearsal
  for _, f in ipairs(variables.restore(c, m.variables or {})) do log.warn("%s: could not set back %s", m.id, f) end
  if m.replication and m.replication.running then
    local st = server.replica_status(c)
    if not (st and st.io_running and st.sql_running) then assert(c:exec(server.sql(c, "start_replica"))) end
  end
  c:close()
end

return M
