-- stdlib/checks/ inside the real binary: MySQL size settings; the causes and fixes of
-- connection errors (causes.lua); reading grants (privileges.lua); the summary and the report.
local checks = require "checks"
local causes = require "causes"
local privileges = require "privileges"
local mysqld = require "mysqld"
local report = require "flashrun.report"
local check = require "check"
local eq = check.eq

local function has(text, part, what)
  if not tostring(text):find(part, 1, true) then error(("%s: %q lacks %q"):format(what, tostring(text), part), 2) end
end

return {
  name = "stdlib-checks",
  description = "tests of stdlib/checks/",
  journal = false,
  steps = {
    { name = "size_bytes", run = function()
        eq(checks.size_bytes("128M"), 134217728, "128M")
        eq(checks.size_bytes("1G"), 1073741824, "1G")
        eq(checks.size_bytes("512m"), 536870912, "lower-case unit")
        eq(checks.size_bytes(134217728), 134217728, "a number (the server's variable)")
        eq(checks.size_bytes("64K"), 65536, "64K")
        eq(checks.size_bytes("2GB"), 2147483648, "a trailing B")
        eq(checks.size_bytes("node"), nil, "not a size")
        eq(checks.size_bytes("1.5G"), nil, "fractions are not MySQL sizes")
        eq(checks.size_bytes(""), nil, "empty")
      end },
    { name = "causes", run = function()
        has(causes.sql(1045, "[1045] (28000) Access denied", { side = "target" }), "mysql_password in [target]", "1045")
        has(causes.sql(1130, "[1130] Host 'x' is not allowed", { side = "source" }), "not allowed from this host", "1130")
        has(causes.sql(2005, "[2005] Unknown server host 'nohost'", { side = "target", router = true }), "--ti", "2005 router")
        -- libmariadb: a refused connection and a dropped one both say (115); the time tells them apart
        local refused = causes.sql(2002, "[2002] (HY000) Can't connect to server on 'h' (115)", { side = "target", router = true, seconds = 0.01 })
        has(refused, "refused at once", "2002 at once"); has(refused, "--ti HOST:PORT", "2002 names the option")
        has(causes.sql(2002, "[2002] (HY000) Can't connect to server on 'h' (115)", { side = "source", seconds = 10.0, timeout = 10 }),
            "firewall", "2002 after the timeout")
        has(causes.sql(2003, "[2003] Can't connect to MySQL server on 'h' (111)", { side = "source" }), "is mysqld running", "2003 (111) on a node")
        has(causes.sql(2003, "[2003] Can't connect to MySQL server on 'h' (110)", { side = "source" }), "firewall", "2003 (110)")
        eq(causes.sql(1064, "syntax", { side = "source" }), nil, "no hint for what a DBA does not meet on the first day")
        -- TLS (2026), as libmariadb and libmysqlclient word each failure
        local notls = causes.sql(2026, "[2026] (HY000) TLS/SSL error: SSL is required, but the server does not support it",
                                 { side = "target", router = true, mode = "required" })
        has(notls, "router offers no TLS", "router without TLS"); has(notls, "router_ssl_mode = preferred", "names router_ssl_mode")
        has(causes.sql(2026, "[2026] (HY000) SSL connection error: SSL is required but the server doesn't support it",
                       { side = "source", mode = "verify_identity" }), "server offers no TLS, and ssl_mode = verify_identity in [source]", "node without TLS")
        has(causes.sql(2026, "[2026] (HY000) TLS/SSL error: self-signed certificate in certificate chain", { side = "target", mode = "verify_ca" }),
            "ssl_ca of [target] did not sign", "wrong CA, libmariadb")
        has(causes.sql(2026, "[2026] (HY000) SSL connection error: error:0A000086:SSL routines::certificate verify failed", { side = "source" }),
            "did not sign", "wrong CA, libmysqlclient")
        local name = causes.sql(2026, "[2026] (HY000) TLS/SSL error: Validation of SSL server certificate failed",
                                { side = "source", mode = "verify_identity", names = "DNS:db1.example" })
        has(name, "does not name the host", "name mismatch"); has(name, "it names DNS:db1.example", "the names it holds")
        has(causes.sql(2026, "[2026] (HY000) TLS/SSL error: certificate has expired", { side = "source" }), "expired: renew", "expired")
        -- the cause read from the certificate itself (flashrun.tls.probe), where the message does not say
        local cert = { offered = true, names = { "IP:10.0.0.9", "DNS:db9" }, verify = "ok", host_ok = false }
        has(causes.tls(cert, { side = "source", mode = "verify_identity" }), "does not name the host flashrun dialled (it names IP:10.0.0.9, DNS:db9)", "probe: names")
        eq(causes.tls(cert, { side = "source", mode = "verify_ca" }), nil, "verify_ca does not look at the names")
        cert.verify = "unable to get local issuer certificate"
        has(causes.tls(cert, { side = "target", mode = "verify_ca" }), "ssl_ca of [target] did not sign", "probe: the CA")
        cert.verify = "certificate has expired"
        has(causes.tls(cert, { side = "target", mode = "verify_ca" }), "expired: renew", "probe: expired")
        has(causes.tls({ offered = false }, { side = "target", router = true, mode = "required" }), "router_ssl_mode", "probe: no TLS on a router")
        has(causes.sql(3159, "[3159] (HY000) Connections using insecure transport are prohibited", { side = "source" }),
            "require_secure_transport", "3159")
        has(causes.sql(1045, "[1045] (28000) Access denied", { side = "source", mode = "disabled" }), "REQUIRE SSL", "1045 without TLS")
        has(causes.sql(1045, "[1045] (28000) Access denied", { side = "source", mode = "preferred", cert = false }),
            "REQUIRE X509 (or ISSUER/SUBJECT): set ssl_cert and ssl_key in [source]", "1045 without a client certificate")
        has(causes.ssh("auth", "authentication as root failed", { side = "target" }), "ssh_key_passphrase) or sys_password in [target]", "ssh auth")
        has(causes.ssh("hostkey", "does not match", {}), "known_hosts", "ssh host key")
        has(causes.ssh("refused", "Connection refused", { side = "source" }), "is sshd running", "ssh refused")
        has(causes.ssh("timeout", "timed out", {}), "firewall", "ssh timeout")
        eq(causes.short("cannot connect to 10.0.0.1:3306 as admin: 10.0.0.1:3306: [1045] (28000) Access denied", "10.0.0.1:3306"),
           "[1045] (28000) Access denied", "short: the error alone")
        eq(causes.key("10.0.0.1:3306: Access denied for 'a'@'10.0.0.1'", "10.0.0.1:3306", "10.0.0.1"),
           causes.key("10.0.0.2:3306: Access denied for 'a'@'10.0.0.2'", "10.0.0.2:3306", "10.0.0.2"), "one cause on two nodes")
      end },
    { name = "grants", run = function()
        local g = privileges.parse({
          "GRANT SELECT, RELOAD, PROCESS, REPLICATION CLIENT ON *.* TO `dr`@`%`",
          "GRANT BACKUP_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `dr`@`%`",
          "GRANT INSERT, DELETE ON `mysql`.`plugin` TO `dr`@`%`",
          "GRANT ALL PRIVILEGES ON `flash\\_%` .* TO `dr`@`%`",
          "GRANT SELECT (token) ON `flashrun`.`drill_marker` TO `dr`@`%`",
          "GRANT `r_clone`@`%`,`r2`@`h` TO `dr`@`%`",
          "REVOKE SELECT ON `secret`.* FROM `dr`@`%`",
        })
        assert(privileges.holds(g, "REPLICATION CLIENT"), "a static privilege with a space")
        assert(privileges.holds(g, "BACKUP_ADMIN"), "a dynamic privilege (comma without space)")
        assert(not privileges.holds(g, "CLONE_ADMIN"), "CLONE_ADMIN is not granted")
        assert(privileges.holds(g, "INSERT", "mysql.plugin"), "table-level INSERT")
        assert(not privileges.holds(g, "INSERT", "mysql.user"), "not on another table")
        assert(privileges.holds(g, "SELECT", "flashrun.drill_marker"), "global SELECT covers a table")
        assert(not privileges.holds(g, "SELECT", "secret.t"), "a partial revoke")
        eq(#g.roles, 2, "roles granted"); eq(g.roles[1], "`r_clone`@`%`", "role name")
        local all = privileges.parse({ "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION" })
        assert(privileges.holds(all, "CLONE_ADMIN"), "ALL PRIVILEGES ON *.* (older servers) covers everything")
        local missing = privileges.missing({ user = "'dr'@'%'", grants = g, inactive = {} }, "standby nodes", "flashrun", "local")
        local text = {}
        for _, m in ipairs(missing) do text[#text + 1] = m.text .. " | " .. m.fix .. " | " .. m.severity end
        text = table.concat(text, "\n")
        has(text, "lacks CLONE_ADMIN, which start and stop need for CLONE INSTANCE FROM", "CLONE_ADMIN named with its statement")
        has(text, "TO 'dr'@'%' | warn", "CLONE_ADMIN: only stop's repair of a damaged restore point needs it under local")
        local donor = privileges.missing({ user = "'dr'@'%'", grants = g, inactive = {} }, "standby nodes", "flashrun", "donor")
        local sev
        for _, m in ipairs(donor) do if m.entry.any[1] == "CLONE_ADMIN" then sev = m.severity end end
        eq(sev, "FAIL", "CLONE_ADMIN refused under donor")
        has(text, "GRANT CLONE_ADMIN ON *.* TO 'dr'@'%'", "the fix")
        has(text, "lacks REPLICATION_SLAVE_ADMIN or SUPER", "alternatives named")
        has(text, "lacks SHUTDOWN, which stop needs for SHUTDOWN | GRANT SHUTDOWN ON *.* TO 'dr'@'%' | warn", "a need stop copes without is a warning")
        assert(not text:find("BACKUP_ADMIN", 1, true), "BACKUP_ADMIN is held: " .. text)
        assert(not text:find("RELOAD", 1, true), "RELOAD is held: " .. text)
        -- every declared need names where, what and why, and the operator's guide lists it
        local f = assert(io.open(assert(os.getenv("FLASHRUN_STDLIB"), "FLASHRUN_STDLIB") .. "/../docs/operator.md"))
        local doc = f:read("a"); f:close()
        local table_ = doc:match("### Privileges: what start and stop need(.-)\n## ") or ""
        for _, e in ipairs(privileges.list()) do
          assert(e.on and e.stmt and e.plans and (e.any or e.router), "incomplete need: " .. tostring(e.stmt))
          if e.any and #e.any > 0 then
            has(table_, "| " .. e.on .. " | `" .. table.concat(e.any, "` or `") .. "`", "docs/operator.md's privileges table")
          end
        end
      end },
    { name = "summary and report", run = function()
        -- the report of a run that met one wrong password on two nodes and a warning
        local r = { routers = { source = "10.0.0.10:3307", target = "10.0.1.10:3307" }, checks = {},
                    topo = { source = { nodes = { { id = "10.0.0.1:3306", role = "primary" } } },
                             target = { nodes = { { id = "10.0.1.1:3306", role = "primary" }, { id = "10.0.1.2:3306", role = "joiner" } } } } }
        local function c(scope, cat, state, text, extra)
          extra = extra or {}
          r.checks[#r.checks + 1] = { scope = scope, cat = cat, state = state, text = text, cause = extra.cause, fix = extra.fix,
                                      group = extra.group, label = extra.label }
        end
        c("source/router", "sql", "ok", "source router answers SQL")
        c("target/router", "sql", "ok", "standby router answers SQL")
        c("source/10.0.0.1:3306", "sql", "ok", "source node answers SQL")
        for _, n in ipairs({ "10.0.1.1:3306", "10.0.1.2:3306" }) do
          c("target/" .. n, "sql", "fail", "target node " .. n .. " answers SQL", { cause = "[1045] (28000) Access denied",
            fix = "wrong user or password", group = "target|sql|1045", label = "no SQL connection" })
          c("target/" .. n, "ssh", "ok", "reachable")
        end
        c("target/router", "options", "warn", "enable-disaster-mode not reported")
        r.tls = { ["target/router"] = { version = "TLSv1.3", cipher = "TLS_AES_256_GCM_SHA384" }, ["source/10.0.0.1:3306"] = false }
        local rep = checks.report(r)
        eq(rep.ok, false, "not ok"); eq(rep.counts.FAIL, 2, "two failed checks"); eq(#rep.failures, 1, "one cause")
        eq(rep.failures[1].where, "standby nodes 10.0.1.1:3306, 10.0.1.2:3306", "the cause names both nodes")
        local lines = table.concat(checks.summary_lines(rep), "\n")
        has(lines, "verify summary: 2 failed checks, 1 warning, 5 checks ok", "the counts")
        has(lines, "  1. standby nodes 10.0.1.1:3306, 10.0.1.2:3306: no SQL connection: [1045] (28000) Access denied\n     fix: wrong user or password", "one line per cause, its fix")
        has(lines, "FAIL  master   10.0.1.1:3306          FAIL: sql · ok: ssh", "the node's line")
        has(lines, "warn  router   10.0.1.10:3307         warn: options · ok: sql · tls TLSv1.3\n", "the router's line ends with its TLS")
        has(lines, "ok    master   10.0.0.1:3306          ok: sql · tls none\n", "a node reached without TLS")
        has(lines, "FAIL: sql · ok: ssh · tls none", "a node not reached: no TLS in use")
        eq(rep.clusters[2].members[1].tls.cipher, "TLS_AES_256_GCM_SHA384", "--report-json: tls = {version, cipher}")
        eq(rep.clusters[1].members[2].tls.version, "none", "--report-json: tls.version none")
        local _, n = lines:gsub("Access denied", "")
        eq(n, 1, "the cause is printed once")
        -- JSON: lists stay lists when empty; keys sorted
        eq(report.encode({ a = report.array(), b = { 1, "x\n" }, c = {} }), '{"a":[],"b":[1,"x\\n"],"c":{}}', "report.encode")
        eq(report.encode(checks.report({ routers = { source = "s:1", target = "t:1" }, checks = {} }).warnings), "[]", "no warnings: []")
      end },
    { name = "disk probe: a failing last part (xfs_info on a non-XFS host) keeps the others' answers", run = function()
        local T = os.tmpname(); os.remove(T); assert(os.execute("mkdir -p " .. T .. "/bin " .. T .. "/inst/dbdata"))
        -- xfs_info installed, answering with no reflink= line (the datadir is not XFS)
        assert(os.execute(("printf '#!/bin/sh\necho meta-data=/dev/sda1\n' >%s/bin/xfs_info && chmod +x %s/bin/xfs_info"):format(T, T)))
        local local_host = { read = function(_, cmd)
          local f = assert(io.popen(("PATH=%s/bin:$PATH; export PATH; { %s\n} 2>/dev/null; echo \"__rc=$?\""):format(T, cmd)))
          local out = f:read("a"); f:close()
          local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
          return body, "", tonumber(rc)
        end }
        local m = { restore_point_dir = T .. "/inst/flashback_restore_point", os_user = "root" }
        local r = checks.probe(local_host, T .. "/inst/dbdata", m, "/nonexistent")
        assert(r.disk and r.disk.used_pct and r.disk.avail_kb, "df's answer kept: " .. tostring(r.err))
        assert(r.disk.datadir_kb and r.disk.datadir_kb < 64, "du's answer kept (an empty datadir): " .. tostring(r.disk.datadir_kb))
        assert(r.rp:find("absent", 1, true) and r.rp:find("fs=", 1, true), "the restore point part kept: " .. r.rp)
        os.execute("rm -rf " .. T)
      end },
    { name = "os probe", run = function()
        local p = mysqld.os_probe({ datadir = "/d/x/dbdata", conf = "/d/x/my.conf", pid_file = "/d/x/pid", mysqld_safe = "/opt/bin/mysqld_safe", os_user = "mysql" })
        for _, w in ipairs({ "datadir=ok", "signal=nopid", "kill -0", "safe=ok", "user=root", "'/opt/bin/mysqld_safe'" }) do has(p, w, "os_probe") end
        for _, w in ipairs({ "kill -TERM", "kill -KILL", "rm ", "mv ", "chown" }) do assert(not p:find(w, 1, true), "os_probe changes something: " .. w) end
      end },
  },
}
