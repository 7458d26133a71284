-- smoke-test.lua — the application's smoke test, run once the standby is open read-write (a site
-- file: docs/plans.md, "Site directories"). The test is an executable of the site's
-- (hooks/smoke-test.sh), not Lua: it gets the drill's facts in its environment and fails the
-- step with a non-zero exit. Start has opened the standby by then (an irreversible step): a
-- failing smoke test fails start without undoing anything, and re-running start runs the test
-- again; `stop` ends the drill either way.
return {
  description = "the application's smoke test on the open standby",
  extend = {
    start = { { after = "open", id = "smoke_test", name = "application smoke test on the open standby",
                run = { "hooks/smoke-test.sh", timeout = 300 } } },
  },
}
