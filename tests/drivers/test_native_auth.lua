-- mysql_native_password through the router emulator (with-servers.sh router-native switches every
-- login to it). FLASHRUN_TEST_EXPECT=ok (the default): the client library has the plugin and the login works;
-- FLASHRUN_TEST_EXPECT=missing: it has not (Oracle's libmysqlclient without its plugin file) and the error
-- names the missing client plugin and where it comes from.
local support = require "support"
local check, env = support.check, support.env

local function login()
  local expect = os.getenv("FLASHRUN_TEST_EXPECT") or "ok"
  local c, err, errno = sql{ host = env("FR_ROUTER_HOST"), port = tonumber(env("FR_ROUTER_PORT")),
                             user = env("FR_ROUTER_USER"), password = env("FR_ROUTER_PASSWORD"), timeout = 5 }
  if expect == "ok" then
    check(c, "login with mysql_native_password failed: %s", tostring(err))
    local rows = c:query("dbscale request next group id")
    check(#rows == 1, "dbscale request next group id: %d rows", #rows)
    c:close()
    log.info("logged in with mysql_native_password and read from the router")
  else
    check(c == nil, "login worked without the client plugin")
    check(errno == 2059, "errno %s, expected 2059 (CR_AUTH_PLUGIN_CANNOT_LOAD): %s", tostring(errno), tostring(err))
    check(err:find("mysql_native_password", 1, true), "the error does not name the plugin: %s", err)
    log.info("refused as expected: %s", err)
  end
end

return {
  name = "drivers-native-auth",
  description = "mysql_native_password logins through the router emulator",
  journal = false,
  steps = { { name = "login", run = login } },
}
