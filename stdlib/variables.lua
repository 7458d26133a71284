-- variables.lua — a node's global variables, recorded before the drill and put back after it.
-- A restart loses every SET GLOBAL made at run time (read_only, super_read_only, offline_mode,
-- semi-sync switches, …): a restored node must come back exactly as it was, or anyone
-- connecting to it directly could write to the DR site.
local shell = require "shell"
local server = require "server"
local rehearsal = require "flashrun.rehearsal"
local M = {}

-- Variables that must differ after a restore, and why (docs/operator.md, "Exactly as it was").
M.EXPECTED_TO_DIFFER = {
  gtid_executed = "the restore point's GTID set, proven separately",
  gtid_purged = "follows from the restored data and the emptied binary logs",
  gtid_owned = "transactions in flight", timestamp = "the clock",
  skip_replica_start = "the restored node is started without replication; the site's next restart clears it",
  skip_slave_start = "the restored node is started without replication; the site's next restart clears it",
  clone_valid_donor_list = "set for the clone only and put back by start",
  init_file = "never replayed when flashrun starts a node (its statements run at every start): start names it",
  innodb_buffer_pool_load_now = "a trigger, not a state", innodb_buffer_pool_dump_now = "a trigger, not a state",
}

-- What SET GLOBAL needs on the standby nodes (privileges.lua): start lifts super_read_only
-- around INSTALL PLUGIN and opens the master, sets clone_valid_donor_list; stop sets every
-- variable back.
M.PRIVILEGES = {
  { on = "standby nodes", any = { "SYSTEM_VARIABLES_ADMIN", "SUPER" }, plans = "start stop",
    stmt = "SET GLOBAL read_only, super_read_only, clone_valid_donor_list and the recorded variables" },
}

-- Global variables of a server as a { name = value } table of strings.
function M.read(conn)
  local rows, err = conn:query("SHOW GLOBAL VARIABLES")
  if not rows then error("SHOW GLOBAL VARIABLES failed: " .. tostring(err), 0) end
  local t = {}
  for _, r in ipairs(rows) do
    local name = server.value(r.Variable_name)
    if name then t[name] = tostring(server.value(r.Value) or "") end
  end
  return t
end

-- The differences between two variable sets, sorted by name: { {name, before, after}, ... },
-- leaving out EXPECTED_TO_DIFFER. Pure.
function M.diff(before, after)
  local out = {}
  for name, v in pairs(before) do
    if not M.EXPECTED_TO_DIFFER[name] and after[name] ~= v then out[#out + 1] = { name = name, before = v, after = after[name] } end
  end
  for name, v in pairs(after) do
    if not M.EXPECTED_TO_DIFFER[name] and before[name] == nil then out[#out + 1] = { name = name, after = v } end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

-- The SET GLOBAL that puts one variable back. Values that read as numbers go bare, others quoted;
-- ON/OFF as they are. Pure.
function M.set_sql(name, value)
  assert(name:match("^[%w_]+$"), "variable name")
  local v = value
  if not (v:match("^%-?%d+%.?%d*$") or v == "ON" or v == "OFF") then v = shell.sql_string(v) end
  return ("SET GLOBAL %s = %s"):format(name, v)
end

-- Of restore()'s failures, those of the variables that keep a node closed to writes (stop fails
-- on them rather than warn). Pure.
local CLOSING = { read_only = true, super_read_only = true, offline_mode = true }
function M.closing(failed)
  local out = {}
  for _, f in ipairs(failed) do
    if CLOSING[f:match("^([%w_]+):")] then out[#out + 1] = f end
  end
  return out
end

-- Order matters for a few: super_read_only = ON implies read_only = ON, and read_only = OFF
-- implies super_read_only = OFF; setting read_only before super_read_only keeps both as asked.
local FIRST = { read_only = 1, super_read_only = 2 }

-- Sets back on conn every variable of `before` whose value now differs. Returns the list of
-- what could not be set back: { "name: before → now (error)" }.
function M.restore(conn, before)
  local diffs = M.diff(before, M.read(conn))
  table.sort(diffs, function(a, b)
    local fa, fb = FIRST[a.name] or 0, FIRST[b.name] or 0
    if fa ~= fb then return fa > fb end
    return a.name < b.name
  end)
  local failed = {}
  for _, d in ipairs(diffs) do
    if d.before ~= nil then
      local n, err = conn:exec(M.set_sql(d.name, d.before))
      if n == nil then failed[#failed + 1] = ("%s: '%s' before the drill, now '%s' (%s)"):format(d.name, d.before, tostring(d.after), tostring(err)) end
    end
  end
  -- The SET GLOBALs are only shown in a rehearsal: nothing reads back as set.
  local left = rehearsal.check("the variables read back as before the drill", function() return M.diff(before, M.read(conn)) end, {})
  for _, d in ipairs(left) do
    local listed = false
    for _, f in ipairs(failed) do listed = listed or f:sub(1, #d.name + 1) == d.name .. ":" end
    if not listed then failed[#failed + 1] = ("%s: '%s' before the drill, now '%s'"):format(d.name, tostring(d.before), tostring(d.after)) end
  end
  return failed
end

return M
