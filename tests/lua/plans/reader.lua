-- A second plan that reads what resume-test left in ctx.state (as stop reads start's).
return {
  name = "reader",
  description = "reads another plan's state",
  steps = {
    { name = "read", run = function(ctx)
        assert(ctx.state.token == "from-one", "no state from the other plan")
        local doc = redo.read()
        assert(doc.plans["resume-test"].status == "done", "other plan's record missing")
        log.info("MARK state-ok")
      end },
  },
}
