-- Holds the lock for site.hold seconds (default 3).
return {
  name = "hold",
  description = "holds the lock",
  steps = {
    { name = "hold", run = function()
        log.info("MARK holding")
        sleep(tonumber(os.getenv("FLASHRUN_TEST_HOLD") or "3"))
      end },
  },
}
