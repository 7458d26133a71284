-- checks/clone.lua — what a standby node tells of the clone plugin's needs (MySQL manual,
-- "Clone Plugin Limitations"), read over its SQL connection; checks/disk.lua judges them with
-- the restore point. (What a donor must offer a clone is the donor strategy's to judge:
-- restore_point/donor.lua.)
local shell = require "shell"
local server = require "server"
local M = {}

-- limits(conn, datadir) -> a list of what the clone cannot carry (empty when none): user tables
-- in another engine than InnoDB (they would come back empty), tablespaces outside the datadir (a
-- local clone refuses them). (The privileges it needs are checked with every other need:
-- privileges.lua.)
function M.limits(conn, datadir)
  local bad = {}
  local rows, err = conn:query("SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
    .. "AND ENGINE <> 'InnoDB' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
    .. "ORDER BY TABLE_SCHEMA, TABLE_NAME LIMIT 20")
  -- Unread is a problem, not "none": a table the clone cannot carry would come back empty.
  if not rows then bad[#bad + 1] = "the tables' engines could not be read: " .. tostring(err) end
  for _, r in ipairs(rows or {}) do
    bad[#bad + 1] = ("table %s.%s is %s: a clone carries only InnoDB data"):format(server.value(r.TABLE_SCHEMA),
      server.value(r.TABLE_NAME), tostring(server.value(r.ENGINE)))
  end
  rows, err = conn:query("SELECT DISTINCT FILE_NAME FROM information_schema.FILES WHERE FILE_NAME LIKE '/%'")
  if not rows then bad[#bad + 1] = "the tablespace files could not be read: " .. tostring(err) end
  local dd = shell.normpath(datadir)
  for _, r in ipairs(rows or {}) do
    local f = shell.normpath(tostring(server.value(r.FILE_NAME) or ""))
    if f and dd and not shell.is_under(f, dd) then
      bad[#bad + 1] = ("tablespace file %s is outside the datadir: a clone cannot take it"):format(f)
    end
  end
  return bad
end

-- active(conn) -> whether the clone plugin is active on the server.
function M.active(conn)
  local rows = conn:query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone' AND PLUGIN_STATUS = 'ACTIVE'")
  return rows and #rows > 0
end

return M
