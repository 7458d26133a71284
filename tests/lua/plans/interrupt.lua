-- SIGINT/SIGTERM: step one is done (and has an undo), step two waits for something that never
-- happens; the test signals the run while it waits. The run must stop the wait, undo step one,
-- and exit 128 + the signal. With site.mode=between, step two sleeps instead (no wait to break):
-- the run stops before step three.
local wait = require "wait"
return {
  name = "interrupt-test",
  description = "a signal stops the run at the next safe point and rolls back",
  steps = {
    { name = "one", run = function() log.info("MARK run-one"); return { one = true } end,
      undo = function()
        -- the rollback's own waits work: the interruption was taken
        wait.wait_until("the undo's condition", function() return true end, 5)
        log.info("MARK undo-one")
      end },
    { name = "two", run = function()
        log.info("MARK run-two")
        if os.getenv("FLASHRUN_TEST_MODE") == "between" then sleep(1.5); return end
        wait.wait_until("a condition that never holds", function() return false, "never" end, 30)
      end, undo = function() log.info("MARK undo-two") end },
    { name = "three", run = function() log.info("MARK run-three") end },
  },
}
