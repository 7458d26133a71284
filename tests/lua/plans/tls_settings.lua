-- The TLS settings as a plan sees them (run.sh case tls_settings feeds them from the INI, the
-- environment and --set, and checks the refusals of flashrun.settings.check).
return {
  name = "tls-settings",
  description = "TLS settings of [source]",
  needs = { "source" },
  journal = false,
  steps = {
    { name = "show", run = function()
        local c = config.source
        local cluster = require "cluster"
        local o = cluster.tls_options("source", true)
        log.info("MARK ssl_mode=%s router_ssl_mode=%s ssl_ca=%s tls_version=%s router_option=%s",
                 tostring(c.ssl_mode), tostring(c.router_ssl_mode), tostring(c.ssl_ca),
                 tostring(c.tls_version), tostring(o.ssl_mode))
      end },
  },
}
