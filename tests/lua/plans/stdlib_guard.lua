-- shell.guard on a path given on the command line (--set site.path=… site.root=… site.recorded=…):
-- a refusal must fail the step, and so the run, naming the path.
local shell = require "shell"
local s = config.site
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
