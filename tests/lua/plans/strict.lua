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
        -- The contract's globals are all there, for the plan; a stdlib module sees none of them
        -- (flashrun.loader: its _ENV holds the standard library, locked), a module next to the
        -- plan sees them as the plan does.
        local function env_of(fn)
          for i = 1, math.huge do
            local n, v = debug.getupvalue(fn, i)
            if n == nil then return nil elseif n == "_ENV" then return v end
          end
        end
        local stdenv = env_of(require("shell").quote)
        assert(stdenv and stdenv ~= _G and stdenv.string == string, "shell.quote runs in the plans' environment")
        assert(env_of(require("check").eq) == _G, "a module next to the plan does not see the plan globals")
        for _, n in ipairs { "config", "dry_run", "sql", "ssh", "sleep", "now", "parallel",
                             "gtid", "gtid_subtract", "redo", "log", "secret", "refuse", "cjson" } do
          assert(rawget(_G, n) ~= nil, "global " .. n .. " missing")
          assert(rawget(stdenv, n) == nil, "a stdlib module sees the plan global " .. n)
          local ok, err = pcall(function() return stdenv[n] end)
          assert(not ok and err:find("undeclared global '" .. n .. "'", 1, true), "reading " .. n .. " in a stdlib module: " .. tostring(err))
        end
        assert(type(config.source.port) == "number", "port not converted to a number")
        log.info("MARK host=%s port=%d user=%s pw=%s", config.source.host, config.source.port,
                 tostring(config.source.mysql_user), tostring(config.source.mysql_password))
      end },
  },
}
