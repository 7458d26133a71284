-- A plan with choices of its own: declared here only (flashrun's command line knows none), given
-- as --fast-lane / --dry-note for one run, told to the steps in ctx.choices.
return {
  name = "choices",
  description = "a plan that declares its own per-run choices",
  journal = false,
  choices = {
    fast_lane = "take the fast lane (a test choice)",
    dry_note = "note something (a test choice)",
  },
  steps = {
    { name = "tell", run = function(ctx)
        local made = {}
        for name in pairs(ctx.choices) do made[#made + 1] = name end
        table.sort(made)
        log.info("MARK choices [%s]", table.concat(made, " "))
      end },
  },
}
