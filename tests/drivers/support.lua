-- support.lua — shared by the driver test plans, which are run by the real flashrun binary
-- (run.sh). The bootstrap puts a plan's directory first on package.path, so they find this
-- file with require "support". Globals are locked in there: locals only.
local M = {}

-- check(cond, fmt, ...): raise the formatted message, at the caller's line, when cond fails.
function M.check(cond, ...)
  if not cond then error(string.format(...), 2) end
  return cond
end

-- A connection detail exported by with-servers.sh.
function M.env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error(name .. " is not set: run the test through with-servers.sh and run.sh", 2)
  end
  return v
end

-- Dry-run is a whole-run switch (--dry-run), so each test plan comes in phases, one per run,
-- picked with --set phase=NAME (default "live"): "dry" must run under --dry-run and performs
-- the writes, "after" checks live that none of them happened. run.sh checks the records.
function M.plan(name, phases)
  local phase = os.getenv("FLASHRUN_TEST_PHASE") or "live"
  local p = phases[phase]
  if p == nil then error(string.format("%s: no phase '%s'", name, phase), 2) end
  if (phase == "dry") ~= dry_run then
    error(string.format("%s: phase '%s' %s --dry-run", name, phase,
                        phase == "dry" and "needs" or "must run without"), 2)
  end
  return { name = name .. "-" .. phase, description = p.description, journal = false,
           steps = p.steps }
end

return M
