-- A journaled plan that needs the target section: its journal belongs to that router. Step two
-- fails while site.fail=yes, leaving state behind for the next run.
return {
  name = "owner-test",
  description = "the journal belongs to the clusters it was written for",
  needs = { "target" },
  steps = {
    { name = "one", run = function() log.info("MARK run-one"); return { drill = "open" } end },
    { name = "two", irreversible = true, run = function()
        if os.getenv("FLASHRUN_TEST_FAIL") == "yes" then error("two fails on purpose") end
        log.info("MARK run-two")
      end },
    { name = "three", run = function() log.info("MARK run-three"); redo.truncate() end },
  },
}
