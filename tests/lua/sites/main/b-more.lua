-- A second file: a step anchored on another file's step, and one more after the same stock step.
return {
  extend = {
    ["site-test"] = {
      { after = "s_after_one", id = "s_chain", name = "site: after the site's step", run = function()
          log.info("MARK run-s-chain")
        end, undo = function() log.info("MARK undo-s-chain") end },
      { after = "one", id = "s_after_one_b", name = "site: after one, second", run = function()
          log.info("MARK run-s-after-one-b")
        end },
    },
  },
}
