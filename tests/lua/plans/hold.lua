-- Holds the lock for site.hold seconds (default 3).
return {
  name = "hold",
  description = "holds the lock",
  steps = {
    { name = "hold", run = function()
        log.info("MARK holding")
        sleep(tonumber(config.site.hold or "3"))
      end },
  },
}
