-- checks/privileges.lua — the account's privileges on a standby node: each one start and stop
-- need (privileges.lua) and it lacks, named with the statement that needs it.
local privileges = require "privileges"
local result = require "checks.result"
local add, judge, warn = result.add, result.judge, result.warn
local M = {}

-- measure(conn, marker, strategy) -> the needs the account on conn lacks (privileges.missing:
-- {{text, fix, severity}}, empty when none) or nil, and why its grants could not be read.
-- marker: site.marker_schema; strategy: site.restore_point (the needs differ by strategy).
function M.measure(conn, marker, strategy)
  local acct, err = privileges.read(conn)
  return acct and privileges.missing(acct, "standby nodes", marker, strategy) or nil, err
end

-- judge(r, key, missing, err): the checks of node key from M.measure's answer.
function M.judge(r, key, missing, err)
  if err then
    warn(r, key, "grants", "%s: cannot read the account's grants: %s", key, tostring(err))
  elseif missing then
    if #missing == 0 then judge(r, key, "grants", true, "%s: the account holds every privilege start and stop use here", key) end
    for _, g in ipairs(missing) do
      add(r, key, "grants", g.severity == "warn" and "warn" or "fail", key .. ": " .. g.text,
          { fix = g.fix, group = "grants|" .. g.text, label = g.text })
    end
  end
end

return M
