-- Three steps that succeed; used by the interpreter, list and bench tests.
return {
  name = "basic",
  description = "three steps that succeed",
  steps = {
    { name = "first", run = function(ctx) log.info("first runs") return { first = 1 } end,
      undo = function() end },
    { name = "second", always = true, run = function(ctx)
        assert(ctx.state.first == 1, "state from step 1 missing")
        log.info("second sees first=%d", ctx.state.first)
      end },
    { name = "third", run = function(ctx) return { third = "x" } end },
  },
}
