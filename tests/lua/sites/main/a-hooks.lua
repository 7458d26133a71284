-- Site steps at every kind of place, in Lua and as executables (hooks/record.sh).
local mark = require("lib.marks").mark   -- a helper module under the site dir
return {
  description = "the site tests' additions to site-test",
  extend = {
    ["site-test"] = {
      { at = "start", id = "s_first", name = "site: first", run = mark("run-s-first"), undo = mark("undo-s-first") },
      { after = "one", id = "s_after_one", name = "site: after one", run = function(ctx)
          log.info("MARK run-s-after-one")
          return { site_key = "set by the site" }
        end, undo = mark("undo-s-after-one") },
      { before = "four", id = "s_before_four", name = "site: before four (an executable)",
        run = { "hooks/record.sh", "before-four" }, undo = { "hooks/record.sh", "undo-before-four" } },
      { after = "four", id = "s_last", name = "site: after four", run = function(ctx)
          if os.getenv("FLASHRUN_TEST_FAIL") == "s_last" then error("the site's last step broke on purpose") end
          log.info("MARK run-s-last-%s", ctx.state.key_four and "sees-state" or "no-state")
        end },
      { at = "end", id = "s_end", name = "site: end hook (an executable)", run = "hooks/record.sh" },
      { at = "end", id = "s_end_lua", name = "site: end hook in Lua", run = function(ctx)
          log.info("MARK end-lua-%s-%s", ctx.outcome.status, ctx.outcome.rollback)
        end },
    },
    stop = {},   -- a stock plan's name: accepted, not this plan
  },
}
