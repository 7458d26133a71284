-- flashrun.clock — wall-clock time as flashrun writes it: UTC, to the second. The journal,
-- the reports and the messages all use these forms (scheduling uses flashrun.sched's now()).
local M = {}

-- utc([t]) -> "2026-05-01T10:00:00Z": t (seconds since the epoch, default now) in UTC, ISO 8601.
function M.utc(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

-- stamp([t]) -> "20260501T100000": the compact form, for names (files, tokens).
function M.stamp(t) return os.date("!%Y%m%dT%H%M%S", t) end

return M
