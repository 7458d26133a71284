-- restore_point.clone.clone_ssl: whether a clone between standby nodes is REQUIRE SSL (run.sh case
-- clone_ssl sets [target] ssl_mode and site.clone_ssl; the donor is never asked here).
local clone = require "restore_point.clone"
return {
  name = "clone-ssl",
  description = "clone_ssl under the TLS settings",
  journal = false,
  steps = {
    { name = "show", run = function()
        local v = clone.clone_ssl({ host = "192.0.2.1", port = 1 })
        log.info("MARK clone_ssl %s under %s: %s", config.site.clone_ssl, config.target.ssl_mode, tostring(v))
      end },
  },
}
