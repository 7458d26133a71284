-- notify.lua — tell the monitoring how start and stop ended (end hooks: they run after success
-- and after a failure or rollback, with the outcome in FLASHRUN_OUTCOME / FLASHRUN_ROLLBACK).
local hook = { at = "end", id = "notify_monitoring", name = "tell the monitoring how the plan ended",
               run = { "hooks/notify.sh", timeout = 30 } }
return {
  description = "monitoring knows when a drill runs",
  extend = { start = { hook }, stop = { hook } },
}
