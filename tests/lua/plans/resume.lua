-- Step 1 is irreversible (so it stays done after a failure); step 2 fails while site.fail=yes.
-- State written by step 1 must be visible to the resumed run and to the next plan.
return {
  name = "resume-test",
  description = "resume after a failure",
  steps = {
    { name = "one", irreversible = true, run = function()
        log.info("MARK run-one")
        return { token = "from-one", port = 3306 }
      end },
    { name = "two", run = function(ctx)
        if os.getenv("FLASHRUN_TEST_FAIL") == "yes" then error("two fails on purpose") end
        assert(ctx.state.token == "from-one", "state lost across runs")
        assert(math.type(ctx.state.port) == "integer", "journal number came back as a float")
        log.info("MARK run-two")
      end },
    { name = "three", always = true, run = function() log.info("MARK run-three") end },
  },
}
