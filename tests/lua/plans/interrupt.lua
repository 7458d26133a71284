-- SIGINT/SIGTERM: step one is done (and has an undo), step two waits for something that never
-- happens; the test signals the run while it waits. The run must stop the wait, undo step one,
-- and exit 128 + the signal. With FLASHRUN_TEST_MODE=between, step two sleeps instead (no wait
-- to break) until the test has sent its signals and created FLASHRUN_TEST_RELEASE: the run stops
-- before step three. (A fixed sleep let a loaded machine end the step between two signals.)
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
        if os.getenv("FLASHRUN_TEST_MODE") == "between" then
          local release = assert(os.getenv("FLASHRUN_TEST_RELEASE"), "FLASHRUN_TEST_RELEASE")
          for _ = 1, 600 do
            local f = io.open(release, "r")
            if f then f:close(); return end
            sleep(0.05)
          end
          error("the test never released step two", 0)
        end
        wait.wait_until("a condition that never holds", function() return false, "never" end, 30)
      end, undo = function() log.info("MARK undo-two") end },
    { name = "three", run = function() log.info("MARK run-three") end },
  },
}
