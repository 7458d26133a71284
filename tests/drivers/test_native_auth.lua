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

-- The emulator offers no TLS, as GreatDB Router may not: preferred logs in without it, required
-- and stronger are refused before the login with a message causes.lua reads as "the router
-- offers no TLS … router_ssl_mode".
local function no_tls()
  if (os.getenv("FLASHRUN_TEST_EXPECT") or "ok") ~= "ok" then return end
  local causes = require "causes"
  local o = { host = env("FR_ROUTER_HOST"), port = tonumber(env("FR_ROUTER_PORT")), user = env("FR_ROUTER_USER"),
              password = env("FR_ROUTER_PASSWORD"), timeout = 5, ssl_mode = "preferred" }
  local c = assert(sql(o))
  check(c:tls() == nil, "TLS with a router that offers none")
  c:close()
  for _, mode in ipairs({ "required", "verify_identity" }) do
    o.ssl_mode, o.ssl_ca = mode, "/nonexistent-ca.pem"
    local c2, err, errno = sql(o)
    check(c2 == nil and errno == 2026, "%s against a router without TLS: %s", mode, tostring(err))
    local hint = causes.sql(errno, err, { side = "target", router = true, mode = mode })
    check(hint:find("router offers no TLS", 1, true) and hint:find("router_ssl_mode = preferred", 1, true), "hint: %s", hint)
    log.info("router without TLS refused as expected under %s: %s — %s", mode, err, hint)
  end
end

return {
  name = "drivers-native-auth",
  description = "mysql_native_password logins through the router emulator",
  journal = false,
  steps = { { name = "login", run = login }, { name = "a router without TLS", run = no_tls } },
}
