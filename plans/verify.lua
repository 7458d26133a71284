-- verify — the prechecks of a flashback drill. Read-only: nothing is written anywhere, not even
-- the journal. Ends with a summary (stdout): per cluster and node the states of its checks,
-- then every failure with its cause and fix, each cause once. Refuses (exit 3) when a check
-- failed. --report-json FILE writes the same report as one JSON document (checks.report).
local checks = require "checks"

return {
  name = "verify",
  description = "check both clusters are ready for a flashback drill (read-only)",
  needs = { "source", "target" },
  ssh_to = { "source", "target" },
  journal = false,
  steps = {
    { id = "checks", name = "check routers, nodes, replication, GTIDs, disk and privileges", always = true, run = function(ctx)
        local r = checks.run()
        ctx.report = checks.print_summary(r)
        checks.refuse_if_failed(r, true)
      end },
  },
}
