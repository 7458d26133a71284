-- Reads whether owner-test's state is still in the journal (as stop reads start's drill): after
-- owner-test finished, whatever its truncation forgot must be gone.
return {
  name = "closed-test",
  description = "reads what a finished plan left in the journal",
  needs = { "target" },
  steps = {
    { name = "look", run = function(ctx) log.info("MARK drill-" .. tostring(ctx.state.drill)) end },
  },
}
