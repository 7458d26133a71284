-- checks/result.lua — the result set of one run of the checks: each check recorded with where it
-- ran (its scope), what it is about and its state, and logged as it is recorded. The judging
-- modules beside this one add to it; checks/summary.lua renders it.
local log = require "flashrun.log"
local states = require "states"
local M = {}

-- new() -> an empty result set: {checks = {{scope, cat, state, text, cause, fix, group, label}},
-- failures = {lines}, warnings = {lines}, nodes = {}, routers = {}, tls = {}}; the run fills
-- nodes, routers, tls, topo and skipped (checks/init.lua says what each holds).
function M.new()
  return { checks = {}, failures = {}, warnings = {}, nodes = {}, routers = {}, tls = {} }
end

-- How a router or a node is named in messages and the summary, by its side.
M.SIDE_NAME = { source = "source", target = "standby" }

-- add(r, scope, cat, state, text[, extra]) -> whether state is ok. Records one check. scope:
-- "source/router", "target/router", "source/<id>", "target/<id>"; cat: what it is about (one
-- word, shown in the summary); state: ok, warn or fail (states.lua; a check has no note, which
-- the summary could not count); extra: {cause=, fix=, group=, label=} where group, when given,
-- is what makes two failures "the same cause" (else their text), and label what the summary
-- says of the group (after the names of the nodes it hit). Raises on another state.
function M.add(r, scope, cat, state, text, extra)
  if state ~= "ok" and state ~= "warn" and state ~= "fail" then
    error(("checks: a check's state is ok, warn or fail, not %q"):format(tostring(state)), 2)
  end
  extra = extra or {}
  local c = { scope = scope, cat = cat, state = state, text = text, cause = extra.cause, fix = extra.fix,
              group = extra.group, label = extra.label }
  r.checks[#r.checks + 1] = c
  local line = text .. (c.cause and (": " .. c.cause) or "") .. (c.fix and (" — " .. c.fix) or "")
  if state == "fail" then r.failures[#r.failures + 1] = line elseif state == "warn" then r.warnings[#r.warnings + 1] = line end
  -- A passed check is a debug line (-v, --log-json; the report and the drill report keep every
  -- check): a healthy pair's output is its warnings and the summary, one screen, not 80 ok lines
  -- to scroll past. Warnings and failures are info lines, with their cause and fix: the summary
  -- groups them by cause, these name each router and node (-q shows only the summary).
  local word = states.word(state)
  if state == "ok" then log.debug("%-5s %s", word, line) else log.info("%-5s %s", word, line) end
  return state == "ok"
end

-- judge(r, scope, cat, ok, fmt, ...) -> ok: a check that passes when ok is true (any value but
-- nil and false) and fails otherwise, its text fmt formatted with the rest.
function M.judge(r, scope, cat, ok, fmt, ...) return M.add(r, scope, cat, ok and "ok" or "fail", fmt:format(...)) end

-- warn(r, scope, cat, fmt, ...): a warning, its text fmt formatted with the rest.
function M.warn(r, scope, cat, fmt, ...) M.add(r, scope, cat, "warn", fmt:format(...)) end

return M
