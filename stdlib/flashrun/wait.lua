-- flashrun.wait — readiness polling instead of fixed sleeps. A host module: in a rehearsal
-- the condition is evaluated once, said, and the plan goes on (nothing it waits for was done).
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local signals = require "flashrun.signals"
local rehearsal = require "flashrun.rehearsal"
local M = {}

-- Polls check() until it returns a truthy value, which is returned. check may return
-- `false, why` to say what it is still waiting for; errors it raises count as "not yet" (a
-- server that is still starting refuses connections). Raises after timeout seconds with the last
-- reason. In dry-run the condition is evaluated once, logged, and the plan goes on. A SIGINT or
-- SIGTERM ends the wait with an error: waits are where a plan spends its time.
function M.wait_until(description, check, timeout, interval)
  timeout = timeout or 60
  interval = interval or 0.2
  local t0 = sched.now()
  local why
  while true do
    local sig = signals.interrupted()
    if sig then error("interrupted while waiting until " .. description, 0) end
    local ok, v, reason = pcall(check)
    if ok and v then
      if rehearsal.active() then log.info("[dry-run] %s: already true", description) end
      return v
    end
    why = ok and reason or v
    if rehearsal.active() then
      log.info("[dry-run] would wait up to %ss until %s (now: %s)", tostring(timeout), description, tostring(why or "not yet"))
      return true
    end
    if sched.now() - t0 >= timeout then
      error(("timed out after %.0f s waiting until %s (last: %s)"):format(tostring(timeout), description, tostring(why or "not yet")), 0)
    end
    sched.sleep(interval)
    interval = math.min(interval * 1.5, 0.5)
  end
end

return M
