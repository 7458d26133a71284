-- sql driver TLS against the throwaway mysqld from with-servers.sh, whatever client library the
-- binary was built with (tests/package/mysqlclient runs it against Oracle's libmysqlclient):
-- every ssl_mode behaves as the mysql client's --ssl-mode does, with the certificates of
-- tls-certs.sh (run.sh makes them in the server's /tmp/tls, FR_TLS_DIR outside).
local t = require "support"
local check, env = t.check, t.env

local host, port = env"FR_MYSQL_HOST", math.tointeger(tonumber(env"FR_MYSQL_PORT"))
local dir = env"FR_TLS_DIR"               -- the certificates, as flashrun reads them
local sdir = "/tmp/tls"                   -- the same, as the chrooted server reads them
local pw = secret(env"FR_MYSQL_FR_PW")

local tls = require "flashrun.tls"
-- flashrun's own probe of the server's certificate (what verify says a failure's cause with)
local function probe(ca)
  local p, err = tls.probe{ host = host, port = port, timeout = 5, ca = ca and (dir .. "/" .. ca) or nil }
  check(p, "probe: %s", tostring(err))
  return p
end

local function login(user, password, extra)
  local o = { host = host, port = port, user = user, password = password }
  for k, v in pairs(extra or {}) do o[k] = v end
  return sql(o)
end
local root

-- The server's TLS: a certificate pair of tls-certs.sh, or none at all (tls_version = '').
local function server_tls(cert)
  if cert then
    assert(root:exec(("SET GLOBAL ssl_ca = '%s/ca.pem', ssl_cert = '%s/%s.pem', ssl_key = '%s/%s-key.pem', tls_version = 'TLSv1.2,TLSv1.3'")
      :format(sdir, sdir, cert, sdir, cert)))
    assert(root:exec("ALTER INSTANCE RELOAD TLS"))
  else
    -- a certificate that cannot be loaded, kept: the server goes on without TLS
    assert(root:exec(("SET GLOBAL ssl_cert = '%s/missing.pem'"):format(sdir)))
    assert(root:exec("ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR"))
  end
end

-- mode (+ options) must connect, with TLS (want = version pattern) or without (want = false)
local function ok(mode, want, extra)
  local o = { ssl_mode = mode, ssl_ca = dir .. "/ca.pem" }
  for k, v in pairs(extra or {}) do o[k] = v end
  local c, err = login(o.user or "fr", o.password or pw, o)
  check(c, "%s: %s", mode, tostring(err))
  local tls = c:tls()
  if want then
    check(tls and tls.version:match(want) and tls.cipher ~= "", "%s: tls %s, expected %s", mode,
          tls and tls.version or "none", want)
  else
    check(tls == nil, "%s: TLS %s where none was expected", mode, tls and tls.version or "")
  end
  c:close()
  print(("%s: %s"):format(mode, tls and (tls.version .. " " .. tls.cipher) or "no TLS"))
end
-- mode (+ options) must be refused, the message matching pattern
local function refused(mode, pattern, extra)
  local o = { ssl_mode = mode, ssl_ca = dir .. "/ca.pem" }
  for k, v in pairs(extra or {}) do o[k] = v end
  local c, err, errno = login(o.user or "fr", o.password or pw, o)
  check(c == nil, "%s: connected where it must be refused", mode)
  check(err:lower():find(pattern), "%s: refused with '%s', expected '%s'", mode, err, pattern)
  check(not err:find(pw, 1, true), "password in: %s", err)
  print(("%s refused as expected: [%s] %s"):format(mode, tostring(errno), err))
end

return t.plan("drivers-sql-tls", {
  live = { description = "sql driver TLS modes", steps = {
    { name = "accounts and the server's certificate", run = function()
        root = assert(login("root", "", { ssl_mode = "disabled" }))
        assert(root:exec("CREATE USER 'fr'@'%' IDENTIFIED WITH caching_sha2_password BY '" .. pw .. "'"))
        assert(root:exec("CREATE USER 'frx509'@'%' IDENTIFIED WITH caching_sha2_password BY '" .. pw .. "' REQUIRE X509"))
        server_tls("server")
      end },
    { name = "the five modes against a server with TLS", run = function()
        ok("disabled", false)
        ok("preferred", "^TLSv1%.[23]$")
        ok("required", "^TLSv1%.[23]$")
        ok("verify_ca", "^TLSv1%.[23]$")
        ok("verify_identity", "^TLSv1%.[23]$") -- an IP against the IP entry of subjectAltName
        ok("required", "^TLSv1%.2$", { tls_version = "TLSv1.2" })
        -- required and below do not look at the CA at all (the mysql client's meaning)
        ok("required", "^TLSv1", { ssl_ca = dir .. "/other-ca.pem" })
        refused("verify_ca", "ssl", { ssl_ca = dir .. "/other-ca.pem" })
        refused("verify_identity", "ssl", { ssl_ca = dir .. "/other-ca.pem" })
        local p = probe("ca.pem")
        check(p.offered and p.version:match("^TLSv1") and p.verify == "ok" and p.host_ok, "probe: %s %s %s",
              tostring(p.version), tostring(p.verify), tostring(p.host_ok))
        check(table.concat(p.names, ",") == "IP:" .. host .. ",DNS:fr-test-node", "probe names: %s", table.concat(p.names, ","))
        local days = (p.not_after - os.time()) / 86400
        check(days > 28 and days < 31, "probe: not_after %d days away, tls-certs.sh makes 30", math.floor(days))
        p = probe("other-ca.pem")
        check(p.verify ~= "ok" and p.verify:find("certificate"), "probe with another CA: %s", tostring(p.verify))
        check(probe(nil).verify == nil, "no CA, no verdict")
        print("probe: " .. table.concat(probe("ca.pem").names, ", ") .. "; other CA: " .. p.verify)
      end },
    { name = "a certificate that does not name the host", run = function()
        server_tls("wrongname")
        ok("required", "^TLSv1")
        ok("verify_ca", "^TLSv1")
        refused("verify_identity", "ssl")
        local p = probe("ca.pem")
        check(p.verify == "ok" and not p.host_ok and p.names[1] == "DNS:elsewhere.invalid", "probe of the wrong name: %s %s",
              tostring(p.host_ok), tostring(p.names[1]))
        server_tls("server")
      end },
    { name = "REQUIRE X509: refused without a client certificate, in with one", run = function()
        refused("verify_identity", "access denied", { user = "frx509" })
        ok("verify_identity", "^TLSv1", { user = "frx509", ssl_cert = dir .. "/client.pem", ssl_key = dir .. "/client-key.pem" })
        ok("required", "^TLSv1", { user = "frx509", ssl_cert = dir .. "/client.pem", ssl_key = dir .. "/client-key.pem" })
      end },
    { name = "a server offering no TLS", run = function()
        server_tls(nil)
        ok("disabled", false)
        ok("preferred", false)
        refused("required", "ssl")
        refused("verify_ca", "ssl")
        refused("verify_identity", "ssl")
        check(probe("ca.pem").offered == false, "probe: TLS offered by a server without it")
        server_tls("server")
      end },
    { name = "misuse raises", run = function()
        local okk, err = pcall(sql, { host = host, port = port, user = "fr", ssl_mode = "VERIFY_IDENTITY" })
        check(not okk and tostring(err):find("ssl_mode"), "upper case mode: %s", tostring(err))
        okk, err = pcall(sql, { host = host, port = port, user = "fr", ssl_mode = "verify_ca" })
        check(not okk and tostring(err):find("ssl_ca"), "verify_ca without ssl_ca: %s", tostring(err))
        root:close()
      end },
  } },
})
