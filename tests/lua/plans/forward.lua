-- A plan that only goes forward (no step has an undo, like stop) and fails at its second step:
-- its recovery text is printed without claiming a rollback was tried.
return {
  name = "forward",
  description = "two steps without undo, the second fails",
  recovery = "re-run the same forward command: it resumes from the journal.",
  steps = {
    { name = "first", run = function() return { first = 1 } end },
    { name = "second", run = function() error("second broke on purpose", 0) end },
  },
}
