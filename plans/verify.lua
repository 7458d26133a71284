-- verify — the prechecks of a flashback drill. Read-only: nothing is written anywhere, not even
-- the journal. Refuses (exit 3) with every failed check listed.
local checks = require "checks"

return {
  name = "verify",
  description = "check both clusters are ready for a flashback drill (read-only)",
  needs = { "source", "target" },
  journal = false,
  steps = {
    { id = "checks", name = "check routers, nodes, replication, GTIDs and disk", always = true, run = function()
        checks.refuse_if_failed(checks.run())
      end },
  },
}
