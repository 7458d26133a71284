return {
  name = "refuse-test",
  description = "a precheck refuses",
  journal = false,
  steps = {
    { name = "precheck", run = function() refuse("standby is not replicating: will not start:\n  replica threads: io=false sql=false") end },
    { name = "never", run = function() log.info("MARK never") end },
  },
}
