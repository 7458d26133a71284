-- What verify's checks log at which level (run.sh checks_levels reads the output at default, -v,
-- -q and in --log-json): a passed check is a debug line, a warning and a failure info lines with
-- their cause and fix; the report keeps every check, the passed ones included.
local checks = require "checks"
local check = require "check"
local eq = check.eq

return {
  name = "checks-levels",
  description = "what each check state logs, and the report keeps",
  journal = false,
  steps = {
    { name = "record", run = function()
        local r = { checks = {}, failures = {}, warnings = {}, routers = { source = "10.0.0.10:3307", target = "10.0.1.10:3307" } }
        eq(checks.add(r, "source/router", "sql", "ok", "CHECK-OK source router answers SQL"), true, "ok returns true")
        checks.add(r, "target/router", "grants", "warn", "CHECK-WARN not checkable", { cause = "WARN-CAUSE", fix = "WARN-FIX" })
        checks.add(r, "target/10.0.1.1:3306", "disk", "fail", "CHECK-FAIL datadir full", { cause = "FAIL-CAUSE", fix = "FAIL-FIX" })
        local rep = checks.report(r)
        eq(#rep.checks, 3, "the report carries every check")
        eq(rep.checks[1].state, "ok", "the passed one included")
        eq(rep.counts.ok, 1, "ok count"); eq(rep.counts.warn, 1, "warn count"); eq(rep.counts.FAIL, 1, "FAIL count")
        -- with no failure: one line says how many passed (their own lines are debug)
        local healthy = { checks = { r.checks[1], r.checks[2] }, failures = {}, warnings = { "w" } }
        checks.refuse_if_failed(healthy)
      end },
  },
}
