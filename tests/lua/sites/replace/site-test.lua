-- A site that replaces the plan outright, and still extends its own replacement.
return {
  replace = {
    ["site-test"] = {
      description = "the site's own plan",
      steps = { { id = "mine", name = "the site's only step", run = function() log.info("MARK run-mine") end } },
    },
  },
  extend = { ["site-test"] = { { after = "mine", id = "more", name = "one more", run = function() log.info("MARK run-more") end } } },
}
