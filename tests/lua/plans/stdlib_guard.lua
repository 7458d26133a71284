-- shell.guard on a path given by the test (FLASHRUN_TEST_PATH, _ROOT, _RECORDED: test knobs,
-- not configuration):
-- a refusal must fail the step, and so the run, naming the path.
local shell = require "shell"
local s = { path = os.getenv("FLASHRUN_TEST_PATH"), root = os.getenv("FLASHRUN_TEST_ROOT"),
            recorded = os.getenv("FLASHRUN_TEST_RECORDED") }
return {
  name = "stdlib-guard",
  description = "shell.guard through a plan step",
  journal = false,
  steps = {
    { name = "guard", run = function()
        log.info("MARK guarded %s", shell.guard(s.path, s.root, s.recorded))
      end },
    { name = "after", run = function() log.info("MARK after") end },
  },
}
