-- flashrun.rehearsal — what a dry run cannot prove, decided by the host. A rehearsal (--dry-run)
-- runs the plan's code as a real run does: reads are live, writes are printed instead of made.
-- What a step checks after its writes (a server has shut down, a variable reads back as set)
-- is then not true, and cannot be: the caller declares it with check(), and the host skips it.
local log = require "flashrun.log"

local M = {}

-- check(what, fn, stand_in) -> fn()'s results in a real run; in a rehearsal, logs
-- "[dry-run] would check: <what>" (at info) and returns stand_in (may be nil) without calling
-- fn. what: a sentence naming the condition ("tgt1 has shut down"); fn: the check, any results.
function M.check(what, fn, stand_in)
  if type(what) ~= "string" then error("rehearsal.check: what must be a string", 2) end
  if type(fn) ~= "function" then error("rehearsal.check: fn must be a function", 2) end
  if not log.dry_run() then return fn() end
  log.info("[dry-run] would check: %s", what)
  return stand_in
end

-- active() -> true in a rehearsal. For host modules only (flashrun.*: the wait, the journal):
-- a domain module declares what it cannot prove with check() and never branches on this.
function M.active() return log.dry_run() end

return M
