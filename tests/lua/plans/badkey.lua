return {
  name = "badkey", description = "has a typo",
  steps = { { name = "x", run = function() end, udno = function() end } },
}
