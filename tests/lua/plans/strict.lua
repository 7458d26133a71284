-- Globals are locked: reading an undeclared name fails the step naming it; so does writing
-- one; config is read-only.
local which = os.getenv("FLASHRUN_TEST_WHICH")
return {
  name = "strict-test",
  description = "strict globals and read-only config",
  journal = false,
  steps = {
    { name = "poke", run = function()
        if which == "read" then return { v = no_such_global } end
        if which == "write" then new_global = 1 end
        if which == "config" then config.source.host = "elsewhere" end
        if which == "section" then config.site = {} end
        -- The contract's globals are all there.
        for _, n in ipairs { "config", "dry_run", "sql", "ssh", "sleep", "now", "parallel",
                             "gtid", "gtid_subtract", "redo", "log", "secret", "refuse", "cjson" } do
          assert(rawget(_G, n) ~= nil, "global " .. n .. " missing")
        end
        assert(type(config.source.port) == "number", "port not converted to a number")
        log.info("MARK host=%s port=%d user=%s pw=%s", config.source.host, config.source.port,
                 tostring(config.source.mysql_user), tostring(config.source.mysql_password))
      end },
  },
}
