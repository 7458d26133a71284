-- checks.lua — the prechecks of a drill (plans/verify.lua runs them; plans/start.lua runs them
-- again before it touches anything). Each check is recorded with where it ran (a router or a
-- node), what it is about (sql, ssh, status, grants, ...) and its state (ok, warn, FAIL); a
-- failed one carries its cause as the server or the system gave it and, where the cause is a
-- common one, the fix (causes.lua). Failures are collected and refused together so the DBA sees
-- everything at once; M.print_summary prints them per cluster and node with every cause once, and
-- M.report gives the same as a plain table (verify's --report-json, the drill report).
local shell = require "shell"
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "wait"
local mysqld = require "mysqld"
local causes = require "causes"
local privileges = require "privileges"
local array = require("flashrun.report").array
local tls = require "flashrun.tls"
local M = {}

-- Records one check. scope: "source/router", "target/router", "source/<id>", "target/<id>";
-- cat: what it is about (one word, shown in the summary); extra: {cause=, fix=, group=, label=}
-- where group, when given, is what makes two failures "the same cause" (else their text), and
-- label what the summary says of the group (after the names of the nodes it hit).
local function add(r, scope, cat, state, text, extra)
  extra = extra or {}
  local c = { scope = scope, cat = cat, state = state, text = text, cause = extra.cause, fix = extra.fix,
              group = extra.group, label = extra.label }
  r.checks[#r.checks + 1] = c
  local line = text .. (c.cause and (": " .. c.cause) or "") .. (c.fix and (" — " .. c.fix) or "")
  if state == "FAIL" then r.failures[#r.failures + 1] = line elseif state == "warn" then r.warnings[#r.warnings + 1] = line end
  -- A passed check is a debug line (-v, --log-json; the report and the drill report keep every
  -- check): a healthy pair's output is its warnings and the summary, one screen, not 80 ok lines
  -- to scroll past. Warnings and failures are info lines, with their cause and fix: the summary
  -- groups them by cause, these name each router and node (-q shows only the summary).
  if state == "ok" then log.debug("%-5s %s", state, line) else log.info("%-5s %s", state, line) end
  return state == "ok"
end
M.add = add -- (a unit test checks what each state logs at which level)

local function report(r, scope, cat, ok, fmt, ...) return add(r, scope, cat, ok and "ok" or "FAIL", fmt:format(...)) end
local function warn(r, scope, cat, fmt, ...) add(r, scope, cat, "warn", fmt:format(...)) end

-- One dataserver's status, judged by its state (router.status_state): down and disabled fail,
-- lag beyond max_delay fails, semi-sync fallen back to async is a warning.
local function judge_status(r, scope, what, d, max_delay)
  local st = d.state
  if st == "down" then
    report(r, scope, "status", false, "%s is down (status '%s')", what, d.status)
  elseif st == "disabled" then
    report(r, scope, "status", false, "%s is disabled (status '%s'): the router sends it no traffic and stopped its replication; " ..
           "enable it (dbscale enable dataserver %s) once it is healthy", what, d.status, d.name)
  elseif st == "lagging" then
    report(r, scope, "status", d.lag <= max_delay, "%s lags %d s behind its master (status '%s'; allowed %d)", what, d.lag, d.status, max_delay)
  elseif st == "semisync_degraded" then
    warn(r, scope, "status", "%s: semi-sync fell back to async (status '%s'); the server is up", what, d.status)
  elseif st == "unknown" then
    warn(r, scope, "status", "%s status '%s' is not one flashrun knows", what, d.status)
  else
    report(r, scope, "status", true, "%s status '%s'", what, d.status)
  end
end

-- One round trip per node (a handshake-free ssh command still costs a tenth of a second on a
-- loaded host): df and du of the datadir, and for a standby node where its restore point would
-- go. Returns {disk = {used_pct, avail_kb, datadir_kb} or nil, rp = text}.
local SEP = "--flashrun-probe--"
local function probe(s, datadir, m, plugin_dir)
  local q = shell.quote(datadir)
  local parts = {
    "df -Pk " .. q .. " | awk 'NR==2 {print $4, $5}'",
    -- What a clone copies: not the binary and relay logs, the redo or the temporary files.
    "du -sk --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='#innodb_temp' --exclude=ibtmp1 "
      .. "--exclude='*-bin.[0-9]*' --exclude='*relay*' --exclude='binlog.[0-9]*' " .. q .. " 2>/dev/null | awk '{print $1}'",
  }
  if m then
    local rp, parent = shell.quote(m.restore_point_dir), shell.quote(shell.dirname(m.restore_point_dir))
    -- exists? same filesystem as the datadir? parent writable by the mysqld user? plugin file?
    parts[#parts + 1] = ("if [ -e %s ]; then echo exists; else echo absent; fi; "
      .. "[ \"$(stat -c %%d %s 2>/dev/null)\" = \"$(stat -c %%d %s)\" ] && echo samefs || echo otherfs; "
      .. "if [ \"$(id -u)\" = 0 ]; then runuser -u %s -- test -w %s && echo writable || echo readonly; "
      .. "else test -w %s && echo writable || echo readonly; fi; "
      .. "test -f %s && echo plugin || echo noplugin; "
      -- copy-on-write: the filesystem type, and XFS's reflink flag when xfs_info is there
      .. "echo fs=$(stat -f -c %%T %s); if command -v xfs_info >/dev/null; then xfs_info %s 2>/dev/null | grep -o 'reflink=[01]'; fi")
      :format(rp, parent, q, shell.quote(m.os_user), parent, parent, shell.quote((plugin_dir or "/nonexistent/") .. "/mysql_clone.so"), q, q)
  end
  -- Ends with true: a last part's failure (grep finding no reflink= where xfs_info is installed
  -- but the datadir is not XFS) must not throw away every other part's answer.
  local out, err = cluster.read(s, table.concat(parts, "; echo " .. SEP .. "; ") .. "; true")
  out = out or ""
  local sec = {}
  for chunk in (out .. "\n" .. SEP):gmatch("(.-)\n?" .. SEP:gsub("%-", "%%-")) do sec[#sec + 1] = chunk end
  local avail, pct = (sec[1] or ""):match("(%d+)%s+(%d+)%%")
  local r = { rp = sec[3] or "", err = err }
  if avail then
    -- nil when du could not size the datadir: a restore point's space is then not judged as fits.
    r.disk = { used_pct = tonumber(pct), avail_kb = tonumber(avail), datadir_kb = tonumber((sec[2] or ""):match("%d+")) }
  end
  return r
end
M.probe = probe -- (a unit test runs it on this host)

-- Bytes of a MySQL size setting ("128M", "1G", "134217728"), or nil.
function M.size_bytes(v)
  local n, unit = tostring(v):upper():match("^%s*(%d+)%s*([KMGT]?)B?%s*$")
  if not n then return nil end
  return math.tointeger(tonumber(n) * ({ [""] = 1, K = 2 ^ 10, M = 2 ^ 20, G = 2 ^ 30, T = 2 ^ 40 })[unit])
end

-- Whether start and stop could handle standby node n: its site model, and the refusal when the
-- server writes data where stop could not swap it.
local function layout(n)
  local m = site.discover(n.ds, n.conn, n.ssh)
  local _, outside = site.data_dirs(m, site.data_variables(n.conn))
  return m, site.outside_message(m, outside)
end

-- What the clone plugin cannot carry or needs, on a standby node (MySQL manual, "Clone Plugin
-- Limitations"): user tables in another engine than InnoDB (they would come back empty),
-- tablespaces outside the datadir (a local clone refuses them). (The privileges it needs are
-- checked with every other need: privileges.lua.) Returns a list of problems (empty when none).
local function clone_limits(conn, datadir)
  local bad = {}
  local rows, err = conn:query("SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
    .. "AND ENGINE <> 'InnoDB' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
    .. "ORDER BY TABLE_SCHEMA, TABLE_NAME LIMIT 20")
  -- Unread is a problem, not "none": a table the clone cannot carry would come back empty.
  if not rows then bad[#bad + 1] = "the tables' engines could not be read: " .. tostring(err) end
  for _, r in ipairs(rows or {}) do
    bad[#bad + 1] = ("table %s.%s is %s: a clone carries only InnoDB data"):format(server.value(r.TABLE_SCHEMA),
      server.value(r.TABLE_NAME), tostring(server.value(r.ENGINE)))
  end
  rows, err = conn:query("SELECT DISTINCT FILE_NAME FROM information_schema.FILES WHERE FILE_NAME LIKE '/%'")
  if not rows then bad[#bad + 1] = "the tablespace files could not be read: " .. tostring(err) end
  local dd = shell.normpath(datadir)
  for _, r in ipairs(rows or {}) do
    local f = shell.normpath(tostring(server.value(r.FILE_NAME) or ""))
    if f and dd and not shell.is_under(f, dd) then
      bad[#bad + 1] = ("tablespace file %s is outside the datadir: a clone cannot take it"):format(f)
    end
  end
  return bad
end

-- Settings the clone plugin checks before any data moves (errors 3864-3870): donor and recipient
-- must agree on these. A text per node, compared across the standby nodes.
local CLONE_MATCH = { "version", "version_compile_os", "version_compile_machine", "character_set_server",
                      "collation_server", "innodb_page_size", "innodb_data_file_path" }
-- Whether a server offers TLS: status Ssl_server_not_after, the expiry of the certificate its TLS
-- context loaded, is empty when it has none (no certificate, or TLS disabled by a failed ALTER
-- INSTANCE RELOAD TLS, which leaves Current_tls_cert naming the configured file; seen on 9.7.4).
local function offers_tls(conn)
  local rows = conn:query("SHOW GLOBAL STATUS LIKE 'Ssl_server_not_after'")
  local v = rows and rows[1] and server.value(rows[1].Value)
  return v ~= nil and tostring(v) ~= ""
end

local function clone_fingerprint(conn)
  local v = server.variables(conn, CLONE_MATCH)
  local parts = {}
  for _, k in ipairs(CLONE_MATCH) do parts[#parts + 1] = k .. "=" .. tostring(v[k]) end
  local rows = conn:query("SELECT PLUGIN_NAME FROM information_schema.PLUGINS WHERE PLUGIN_STATUS = 'ACTIVE' AND PLUGIN_TYPE <> 'INFORMATION SCHEMA' ORDER BY PLUGIN_NAME")
  local pl = {}
  for _, r in ipairs(rows or {}) do pl[#pl + 1] = tostring(server.value(r.PLUGIN_NAME)) end
  parts[#parts + 1] = "plugins=" .. table.concat(pl, ",")
  return parts
end

-- The ssl_mode values under which clone_ssl = auto means REQUIRE SSL (restore_point.clone_ssl).
local REQUIRES_TLS = { required = true, verify_ca = true, verify_identity = true }

-- How a router or a node is named in messages and the summary.
local SIDE_NAME = { source = "source", target = "standby" }

-- The name of a scope in the summary: "standby router 127.0.46.10:3307", "source node …".
local function scope_name(r, scope)
  local side, id = scope:match("^(%a+)/(.+)$")
  if id == "router" then return ("%s router %s"):format(SIDE_NAME[side], r.routers[side]), side, true end
  return ("%s node %s"):format(SIDE_NAME[side], id), side, false, id
end

-- "standby router 127.0.46.10:3307 and standby nodes 127.0.46.1:3308, 127.0.46.2:3308".
local function names(r, scopes)
  local groups, order = {}, {}
  for _, sc in ipairs(scopes) do
    local name, side, is_router, id = scope_name(r, sc)
    local g = is_router and name or (SIDE_NAME[side] .. " node")
    if not groups[g] then groups[g] = {}; order[#order + 1] = g end
    if not is_router then table.insert(groups[g], id) end
  end
  local parts = {}
  for _, g in ipairs(order) do
    local ids = groups[g]
    if #ids == 0 then parts[#parts + 1] = g
    else parts[#parts + 1] = g .. (#ids > 1 and "s " or " ") .. table.concat(ids, ", ") end
  end
  return table.concat(parts, " and ")
end

-- A connection check: ok, or FAIL with the error as the driver gave it, its usual cause and fix
-- (said as what went wrong, not as the claim that failed).
local function connected(r, scope, cat, what, addr, host, err, hint, side)
  if not err then return add(r, scope, cat, "ok", what) end
  local c = config[side]
  local label = cat == "sql" and "no SQL connection"
    or ("no ssh connection (as %s, port %s)"):format(tostring(c.sys_user), tostring(c.sys_port or 22))
  local name = scope:match("/router$") and ("%s router %s"):format(SIDE_NAME[side], r.routers[side])
    or ("%s node %s"):format(SIDE_NAME[side], scope:match("/(.+)$"))
  return add(r, scope, cat, "FAIL", name .. ": " .. label, { cause = causes.short(err, addr), fix = hint,
    group = side .. "|" .. cat .. "|" .. causes.key(err, addr, host), label = label })
end

-- TLS of a member (scope) reached at host:port, mode the ssl_mode in force there: the connection's
-- TLS (r.tls[scope]: {version, cipher} or false for none) and, unless TLS is disabled, the
-- server's certificate read by flashrun's own probe (flashrun.tls), which says why a TLS
-- connection failed and when the certificate expires. Returns the probe (or nil).
local function tls_probe(side, host, port, mode)
  if mode == "disabled" then return nil end
  local c = config[side]
  local p = tls.probe{ host = host, port = math.floor(tonumber(port)), timeout = 5,
                       ca = (c.ssl_ca or "") ~= "" and c.ssl_ca or nil }
  return p
end

-- A drill may stay open for weeks: a certificate that expires meanwhile stops every connection
-- that verifies it (and replication that does). Warns within 30 days.
local EXPIRY_WARN_DAYS = 30
local function judge_expiry(r, scope, name, p)
  if type(p) ~= "table" or not p.offered or not p.not_after or p.not_after == 0 then return end
  local days = (p.not_after - os.time()) / 86400
  if days < EXPIRY_WARN_DAYS then
    add(r, scope, "tls", "warn", ("%s: its TLS certificate %s %s"):format(name, days < 0 and "expired on" or "expires on",
        os.date("!%Y-%m-%d %H:%M UTC", p.not_after)), {
      cause = days < 0 and "connections that verify it (verify_ca, verify_identity) are refused"
        or ("in %d days, and a drill may stay open that long"):format(math.floor(days + 0.5)),
      fix = "renew the certificate on the server before the drill (then ALTER INSTANCE RELOAD TLS)",
      group = scope:match("^%a+") .. "|tls-expiry", label = "TLS certificate expires within " .. EXPIRY_WARN_DAYS .. " days" })
  end
end

-- The hint of a failed connection: the probe's reading of the certificate first for a TLS
-- failure (2026), else what the error number says.
local function conn_hint(errno, err, where, p)
  if tonumber(errno) == 2026 then
    local h = causes.tls(p, where)
    if h then return h end
  end
  return causes.sql(errno, err, where)
end

-- The ssh user's abilities on standby node n (mysqld.os_probe: changes nothing).
local function judge_os(r, key, m, out)
  local w = {}
  for k, v in tostring(out or ""):gmatch("([%w_]+)=(%w+)") do w[k] = v end
  -- The site's start and stop templates: they expand, the start names {extra_args}, and what
  -- each runs exists on the host.
  for _, what in ipairs({ "start_command", "stop_command" }) do
    if mysqld.site_template(what) then
      local why = mysqld.template_problem(what, m)
      local prog = not why and mysqld.template_program(what, m)
      if why then
        add(r, key, "os", "FAIL", ("%s: site.%s is not usable"):format(key, what),
            { cause = why, fix = "correct site." .. what .. " (docs/operator.md, Service-managed nodes)", group = "template|" .. what .. "|" .. why:gsub("%S+ of %S+", ""), label = "site." .. what .. " is not usable" })
      else
        report(r, key, "os", w[what] == "ok", "%s: site.%s runs %s, which %s", key, what, tostring(prog),
               w[what] == "ok" and "exists there" or "is not found there (command -v) as the user the commands run as")
      end
    end
  end
  -- Judged as the user the commands run as (cluster.os_user: sys_become_user under sudo).
  local _, user = cluster.os_user("target")
  report(r, key, "os", w.datadir == "ok", "%s: the user %s %s the datadir %s", key, tostring(user),
         w.datadir == "ok" and "reads" or "cannot read", m.datadir)
  if w.signal == "nopid" then
    -- It answered SQL (verify reached it): a server whose process is not found would be taken
    -- for down, and start and stop refuse to copy or swap its data (mysqld.shutdown).
    report(r, key, "os", false, "%s", mysqld.unrecognised(m))
  else
    report(r, key, "os", w.signal == "ok", "%s: the user %s %s signal the node's mysqld (kill -0)", key, tostring(user),
           w.signal == "ok" and "may" or "may not")
  end
  -- Started through site.start_command, a node's mysqld_safe is never run by flashrun (a systemd
  -- unit may run mysqld without one): nothing to check then.
  if not mysqld.site_template("start_command") then
    report(r, key, "os", w.safe == "ok", "%s: %s %s", key, m.mysqld_safe,
           w.safe == "ok" and "is executable" or ("is not executable by " .. tostring(user) .. " (set site.mysqld_safe or site.basedir)"))
  end
  report(r, key, "os", w.user == "root" or w.user == "os", "%s: the user %s %s", key, tostring(user),
         w.user == "root" and "is root (mysqld_safe --user, chown of the swapped data)"
         or w.user == "os" and ("is " .. m.os_user .. ", the mysqld user")
         or ("is neither root nor " .. m.os_user .. ": it cannot start mysqld_safe as the site does nor chown the swapped data" ..
             " (sys_become = sudo runs the commands as sys_become_user, root by default)"))
end

-- Runs every check; returns the report {checks, failures, warnings, topo, nodes = {key → {conn,
-- ssh, side, ds}}, skipped = why later checks did not run (nil when all ran)}. Never refuses:
-- refuse_if_failed does.
function M.run(opts)
  opts = opts or {}
  local r = { checks = {}, failures = {}, warnings = {}, nodes = {}, routers = {}, tls = {} }
  local routers = {}
  for _, side in ipairs({ "source", "target" }) do
    local c = config[side]
    local id = router.id(c.host, c.port)
    r.routers[side] = id
    local conn, err, errno, secs = cluster.try_router(side, c.host, c.port)
    -- probed when it answered (the expiry warning) or failed in TLS (the cause): not when it
    -- cannot be reached, which would cost another timeout
    local p = (conn or tonumber(errno) == 2026) and tls_probe(side, c.host, c.port, c.router_ssl_mode) or nil
    connected(r, side .. "/router", "sql", ("%s router %s answers SQL"):format(SIDE_NAME[side], id), id, c.host, err,
              err and conn_hint(errno, err, { side = side, router = true, seconds = secs, mode = c.router_ssl_mode,
                                              cert = (c.ssl_cert or "") ~= "" }, p), side)
    if conn then r.tls[side .. "/router"] = conn:tls() or false end
    judge_expiry(r, side .. "/router", ("%s router %s"):format(SIDE_NAME[side], id), p)
    routers[side] = conn
  end
  local src_router, tgt_router = routers.source, routers.target
  r.src_router, r.tgt_router = src_router, tgt_router
  local topo = {}
  for side, conn in pairs(routers) do
    local ok, nodes, standby = pcall(router.nodes, conn)
    if ok then
      topo[side] = { nodes = nodes, primary = router.primary(nodes), standby_entry = standby }
    else
      -- 1064 (a syntax error) on `dbscale show dataservers`: a MySQL server answered, not a router.
      local plain = tostring(nodes):find("[1064]", 1, true) ~= nil
      add(r, side .. "/router", "sql", "FAIL", ("%s router %s lists its dataservers"):format(SIDE_NAME[side], r.routers[side]), {
        cause = plain and ("%s answers as a MySQL server, not a GreatDB router (it does not know dbscale statements)"):format(r.routers[side])
                or tostring(nodes),
        fix = plain and ("give the %s cluster's router, not a node (--%s HOST:PORT, the router's SQL port)"):format(
                SIDE_NAME[side], side == "source" and "si" or "ti") or nil })
    end
  end
  r.topo = topo

  local max_delay = site.num("max_delay")
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side] and topo[side].nodes or {}) do
      judge_status(r, side .. "/" .. d.id, ("%s dataserver %s (%s)"):format(side, d.name, d.id), d, max_delay)
    end
    if topo[side] then report(r, side .. "/router", "status", topo[side].primary ~= nil, "%s cluster has a primary (Master_Online)", side) end
  end
  local se = topo.source and topo.source.standby_entry
  if topo.source and se then
    report(r, "source/router", "registration", true, "the standby router is registered on the source router as %s", router.STANDBY_SERVER)
  elseif topo.source then
    -- Said with its likely cause: the two routers given the other way round (the "standby" one
    -- lists the entry), else a standby detached by a drill or a run that did not finish.
    local swapped = topo.target and topo.target.standby_entry ~= nil
    add(r, "source/router", "registration", "FAIL",
        ("the standby router is registered on the source router as %s"):format(router.STANDBY_SERVER), {
          cause = swapped and ("the router given as the standby (%s) lists %s, the one given as the source does not: "
                               .. "--si and --ti look swapped"):format(tostring(r.routers.target), router.STANDBY_SERVER)
                  or ("the source router lists no %s: the standby is detached (start detaches it for a drill)"):format(router.STANDBY_SERVER),
          fix = swapped and "give production's router as --si (source) and the standby's as --ti (target)"
                or "run status with the drill's --state-dir and end an open drill with stop; with none open, register the " ..
                   "standby router on production's again as it was (docs/operator.md, Recovery)" })
  end
  if se then
    judge_status(r, "source/router", router.STANDBY_SERVER, se, max_delay)
    -- stop registers it again with the configured password: the user must be the configured one.
    local want = config.target.router_user or config.target.mysql_user
    report(r, "source/router", "registration", se.user == want, "%s is registered with user '%s'%s", router.STANDBY_SERVER, se.user,
           se.user == want and "" or (" but target.router_user is '" .. tostring(want) ..
             "': stop could not register it again with the right password; set target.router_user and router_password"))
    local ok, reg = pcall(router.standby_registration, src_router)
    report(r, "source/router", "registration", ok and reg and reg.datasource ~= nil, "the standby is a slave of the source's replication datasource%s",
           not ok and (": " .. tostring(reg)) or (reg and reg.datasource) and (" " .. reg.datasource) or
           (": no slave_dbscale_source row in dbscale show datasource type=replication"))
  end
  -- Without enable-disaster-mode the standby router cannot change slave-dbscale-mode, which start
  -- and stop do; flashrun never changes enable-disaster-mode itself.
  if tgt_router then
    local okopt, so = pcall(router.standby_options, tgt_router)
    local dm = okopt and so.disaster_mode
    local where = ("the standby router %s:%d"):format(config.target.host, config.target.port)
    if dm then
      report(r, "target/router", "options", true, "enable-disaster-mode is on on %s", where)
    else
      report(r, "target/router", "options", false, "enable-disaster-mode is %s on %s: without it slave-dbscale-mode cannot change, which start " ..
             "and stop do; turn it on there (flashrun never changes it)",
             not okopt and ("unreadable (" .. tostring(so) .. ")") or dm == false and "off" or "not reported", where)
    end
  end
  -- What start and stop send the routers cannot be checked there (router.PRIVILEGES): named once.
  for _, side in ipairs({ "source", "target" }) do
    if routers[side] then
      local stmts = {}
      for _, e in ipairs(privileges.needs(side == "source" and "production router" or "standby router")) do stmts[#stmts + 1] = e.stmt end
      add(r, side .. "/router", "grants", "warn", ("%s router %s: its account's privileges are not checkable"):format(SIDE_NAME[side], r.routers[side]),
          { cause = "a router does not report its accounts' privileges (SHOW GRANTS through it answers for the backend account)",
            fix = "make sure each cluster's mysql_user may run on its router what start and stop send there (docs/operator.md, Privileges)",
            group = "router-grants", label = "the accounts' privileges are not checkable" })
      log.debug("%s router: start and stop send %s", SIDE_NAME[side], table.concat(stmts, "; "))
    end
  end

  -- Every node: SQL and ssh, all at once (an ssh handshake costs a tenth of a second), reported
  -- in order.
  local all = {}
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side] and topo[side].nodes or {}) do all[#all + 1] = { side = side, ds = d, key = side .. "/" .. d.id } end
  end
  local reached, raised = cluster.try_each(all, function(x)
    local conn, err, errno, secs = cluster.try_connect(x.side, x.ds.host, x.ds.port)
    local p = (conn or tonumber(errno) == 2026) and tls_probe(x.side, x.ds.host, x.ds.port, config[x.side].ssl_mode) or nil
    local s, ssh_err, kind = cluster.try_ssh(x.side, x.ds.host)
    return { conn = conn, err = err, errno = errno, secs = secs, ssh = s, ssh_err = ssh_err, kind = kind, probe = p,
             tls = conn and (conn:tls() or false), sudo = s and cluster.check_become(x.side, s) or nil }
  end)
  for i, x in ipairs(all) do
    -- A branch that raised reached neither: both checks fail with its error, never pass unread.
    local why = raised and raised[i] and tostring(raised[i])
    local c = reached[i] or { err = why, ssh_err = why }
    local sys_port = config[x.side].sys_port or 22
    connected(r, x.key, "sql", ("%s node %s answers SQL"):format(x.side, x.ds.id), x.ds.id, x.ds.host, c.err,
              c.err and conn_hint(c.errno, c.err, { side = x.side, seconds = c.secs, mode = config[x.side].ssl_mode,
                                                    cert = (config[x.side].ssl_cert or "") ~= "" }, c.probe), x.side)
    if c.tls ~= nil then r.tls[x.key] = c.tls end
    judge_expiry(r, x.key, ("%s node %s"):format(SIDE_NAME[x.side], x.ds.id), c.probe)
    connected(r, x.key, "ssh", ("%s node %s reachable by ssh"):format(x.side, x.ds.id), router.id(x.ds.host, sys_port), x.ds.host,
              c.ssh_err, c.ssh_err and causes.ssh(c.kind, c.ssh_err, { side = x.side }), x.side)
    if c.ssh and config[x.side].sys_become == "sudo" then
      -- Every later command on this host goes through sudo: without it, nothing else is checkable.
      local user = config[x.side].sys_become_user
      local what = ("%s node %s: %s may run commands as %s through sudo -n"):format(x.side, x.ds.id, tostring(config[x.side].sys_user), user)
      if c.sudo then
        local label = ("sudo -n -u %s fails for %s"):format(user, tostring(config[x.side].sys_user))
        add(r, x.key, "sudo", "FAIL", ("%s node %s: %s"):format(SIDE_NAME[x.side], x.ds.id, label),
            { cause = c.sudo.cause, fix = c.sudo.fix, group = x.side .. "|sudo|" .. c.sudo.cause:gsub("%s*%(.*$", ""), label = label })
      else
        add(r, x.key, "sudo", "ok", what)
      end
    end
    r.nodes[x.key] = { side = x.side, ds = x.ds, conn = c.conn, ssh = c.ssh }
  end
  local missing = {}
  for _, side in ipairs({ "source", "target" }) do
    if not topo[side] then missing[#missing + 1] = ("the %s cluster's nodes (its router did not answer)"):format(SIDE_NAME[side]) end
    if topo[side] and not topo[side].primary then missing[#missing + 1] = ("the %s cluster (no primary)"):format(SIDE_NAME[side]) end
  end
  if #r.failures > 0 or #missing > 0 then
    r.skipped = "GTIDs, replication, disk, restore points, privileges and the ssh user's rights were not checked: "
      .. (#missing > 0 and ("cannot reach " .. table.concat(missing, " and ")) or "they need every router and node reachable")
    return r
  end

  -- GTID containment: the standby must not carry transactions production lacks.
  local sp = r.nodes["source/" .. topo.source.primary.id]
  local tp = r.nodes["target/" .. topo.target.primary.id]
  local src_exec = server.executed(sp.conn)
  for _, x in ipairs(all) do
    local side_node = r.nodes[x.key]
    if side_node.side == "target" then
      local ex = server.executed(side_node.conn)
      local errant = gtid.subtract(ex, src_exec)
      report(r, x.key, "gtid", errant == "", "standby node %s executed GTIDs are contained in the source's%s",
             side_node.ds.id, errant == "" and "" or ("; missing on the source: " .. errant))
    end
  end

  -- Replication into the standby: running, no delay.
  local tkey = "target/" .. tp.ds.id
  local okrs, rs = pcall(server.replica_status, tp.conn)
  if not okrs then
    report(r, tkey, "replication", false, "standby master %s: reading its replication status failed: %s", tp.ds.id, tostring(rs))
  elseif report(r, tkey, "replication", rs ~= nil, "standby master %s is a replica", tp.ds.id) then
    report(r, tkey, "replication", rs.io_running and rs.sql_running, "standby master %s replication threads running (io=%s sql=%s%s)",
           tp.ds.id, tostring(rs.io_running), tostring(rs.sql_running),
           (rs.last_io_error ~= "" or rs.last_sql_error ~= "") and (", error: " .. rs.last_io_error .. rs.last_sql_error) or "")
    local okd = pcall(wait.wait_until, "the standby master has no replication delay", function()
      local st = server.replica_status(tp.conn)
      if st and st.seconds_behind and st.seconds_behind <= max_delay then return true end
      return false, "seconds behind = " .. tostring(st and st.seconds_behind)
    end, 10)
    local st = server.replica_status(tp.conn)
    report(r, tkey, "replication", okd and st ~= nil and st.seconds_behind ~= nil and st.seconds_behind <= max_delay,
           "standby master %s seconds behind source = %s (allowed %s)", tp.ds.id, tostring(st and st.seconds_behind), tostring(max_delay))
  end
  for _, d in ipairs(topo.target.nodes) do
    if d.role ~= "primary" then
      local ok, st = pcall(server.replica_status, r.nodes["target/" .. d.id].conn)
      report(r, "target/" .. d.id, "replication", ok and st ~= nil and st.io_running and st.sql_running, "standby joiner %s replicates (io=%s sql=%s)%s",
             d.id, tostring(ok and st and st.io_running), tostring(ok and st and st.sql_running), ok and "" or (": " .. tostring(st)))
    end
  end

  -- Disk and restore points: use of every datadir filesystem; on every standby node, its layout,
  -- where its restore point would go, room for it, what the clone plugin needs, the account's
  -- privileges and the ssh user's rights. Measured on all nodes at once, reported in order.
  local threshold = site.num("disk_threshold")
  local margin_kb = site.num("disk_margin_mb") * 1024
  local strategy = site.get("restore_point")
  local marker = site.get("marker_schema")
  local measured, failed = parallel(all, function(x)
    local n = r.nodes[x.key]
    local v = server.variables(n.conn, { "datadir", "plugin_dir" })
    local m, why
    if n.side == "target" then
      local ok, mm, w = pcall(layout, n)
      if ok then m, why = mm, w else why = tostring(mm) end
    end
    local active = n.side == "target" and n.conn:query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone' AND PLUGIN_STATUS = 'ACTIVE'")
    local acct, acct_err
    if n.side == "target" then acct, acct_err = privileges.read(n.conn) end
    local tls -- nil: not asked (only REQUIRE SSL clones in donor mode need TLS of every possible donor:
    -- clone_ssl = on, or auto under [target] ssl_mode required or stronger)
    local require_ssl = site.get("clone_ssl") == "on" or
      (site.get("clone_ssl") == "auto" and REQUIRES_TLS[config.target.ssl_mode])
    if n.side == "target" and strategy == "donor" and require_ssl then tls = offers_tls(n.conn) end
    return { datadir = v.datadir, p = M.probe(n.ssh, v.datadir, m, v.plugin_dir), m = m, why = why,
             clone_active = active and #active > 0,
             limits = n.side == "target" and clone_limits(n.conn, v.datadir) or nil,
             fingerprint = n.side == "target" and clone_fingerprint(n.conn) or nil,
             tls = tls,
             grants = acct and privileges.missing(acct, "standby nodes", marker, strategy) or nil, grants_err = acct_err,
             os = m and cluster.read(n.ssh, mysqld.os_probe(m)) or nil }
  end)
  local fp_first
  local fs_info = {} -- the filesystems under strategy auto: {text, [text] = {scopes}}
  for i, x in ipairs(all) do
    local key, n, mz = x.key, r.nodes[x.key], measured[i] or {}
    local dk = mz.p and mz.p.disk
    if failed and failed[i] then
      report(r, key, "disk", false, "%s: measuring the datadir failed: %s", key, tostring(failed[i]))
    elseif report(r, key, "disk", dk ~= nil and dk.used_pct ~= nil, "%s: df on datadir %s%s", key, tostring(mz.datadir),
                  (dk == nil and mz.p and mz.p.err) and (": " .. tostring(mz.p.err)) or "") then
      report(r, key, "disk", dk.used_pct <= threshold, "%s: datadir filesystem %d%% used (limit %d%%)", key, dk.used_pct, threshold)
      if n.side == "target" then
        local why = mz.why
        if why and why:sub(1, #n.ds.id + 2) == n.ds.id .. ": " then why = why:sub(#n.ds.id + 3) end
        report(r, key, "layout", why == nil, "%s: %s", key, why or ("site layout understood (option file " .. tostring(mz.m and mz.m.conf) .. ")"))
        if mz.m then
          local w = {}
          for word in mz.p.rp:gmatch("%S+") do w[word] = true end
          local dir = mz.m.restore_point_dir
          report(r, key, "restore-point", w.absent == true, "%s: restore point dir %s %s", key, dir,
                 w.absent and "does not exist yet" or "already exists (a drill is open, or an interrupted one left it: run stop, or remove it)")
          report(r, key, "restore-point", w.samefs == true, "%s: restore point dir %s %s", key, dir,
                 w.samefs and "is on the datadir's filesystem" or "is not on the datadir's filesystem (or its parent is missing): set site.restore_point_dir")
          report(r, key, "restore-point", w.writable == true, "%s: the parent of %s %s", key, dir,
                 w.writable and ("is writable by " .. mz.m.os_user) or ("is not writable by " .. mz.m.os_user .. ", which creates the restore point"))
          local on = mz.clone_active
          report(r, key, "clone", on or w.plugin == true, "%s: the clone plugin is %s", key,
                 on and "active" or (w.plugin and "loadable (mysql_clone.so in plugin_dir)" or "neither active nor in plugin_dir (mysql_clone.so)"))
          if strategy == "donor" then
            report(r, key, "clone", not n.ds.host:find(":", 1, true), "%s: %s", key, n.ds.host:find(":", 1, true)
                   and "an IPv6 literal: CLONE INSTANCE FROM does not take one (use the donor strategy with names, or local)" or "donor address usable by CLONE INSTANCE FROM")
            fp_first = fp_first or { key = key, fp = mz.fingerprint }
            local diff = {}
            for j, f in ipairs(mz.fingerprint or {}) do if f ~= fp_first.fp[j] then diff[#diff + 1] = f end end
            report(r, key, "clone", #diff == 0, "%s: %s", key, #diff == 0 and "version, character sets and plugins match the other nodes (clone checks them)"
                   or ("differs from " .. fp_first.key .. ", which CLONE refuses: " .. table.concat(diff, "; ")))
            -- clone_ssl = on: CLONE … REQUIRE SSL fails against a donor without TLS (any node may
            -- be picked as the donor).
            if mz.tls ~= nil then
              report(r, key, "clone", mz.tls, "%s: %s", key, mz.tls and "offers TLS, as a clone REQUIRE SSL needs of a donor"
                     or "offers no TLS (no certificate loaded: Ssl_server_not_after is empty), which a clone REQUIRE SSL (clone_ssl = on, or auto under [target] ssl_mode required or stronger) needs of a donor: configure ssl_cert and ssl_key (ALTER INSTANCE RELOAD TLS), or set clone_ssl = off")
            end
          end
          judge_os(r, key, mz.m, mz.os)
        end
        for _, l in ipairs(mz.limits or {}) do report(r, key, "clone", false, "%s: %s", key, l) end
        -- The account's privileges: each missing one named with the statement that needs it.
        if mz.grants_err then
          warn(r, key, "grants", "%s: cannot read the account's grants: %s", key, tostring(mz.grants_err))
        elseif mz.grants then
          if #mz.grants == 0 then report(r, key, "grants", true, "%s: the account holds every privilege start and stop use here", key) end
          for _, g in ipairs(mz.grants) do
            add(r, key, "grants", g.severity == "warn" and "warn" or "FAIL", key .. ": " .. g.text,
                { fix = g.fix, group = "grants|" .. g.text, label = g.text })
          end
        end
        -- A copy-on-write restore point shares every block until the drill changes it: it
        -- needs room only for what the drill writes (a share of the datadir); a clone copies all.
        local fs = (mz.p.rp or ""):match("fs=(%S+)") or "?"
        local xfs_reflink = (mz.p.rp or ""):match("reflink=([01])")
        local cow = fs == "btrfs" or (fs == "xfs" and xfs_reflink ~= "0")
        if strategy == "reflink" or strategy == "auto" then
          local how = fs == "btrfs" and "btrfs: reflink copies" or fs == "xfs" and (xfs_reflink == "1" and "xfs, reflink=1"
            or xfs_reflink == "0" and "xfs, reflink=0: no reflink copies" or "xfs (reflink flag unknown: no xfs_info; start tries a copy)")
            or (fs .. ": no reflink copies")
          if strategy == "reflink" then report(r, key, "disk", cow, "%s: datadir filesystem %s", key, how)
          else
            -- said once for the nodes that share it (below), not once per node
            local what = ("datadir filesystem %s; strategy auto takes %s restore points"):format(how, cow and "reflink (if every node can)" or "local")
            if not fs_info[what] then fs_info[what] = {}; fs_info[#fs_info + 1] = what end
            table.insert(fs_info[what], key)
          end
        end
        local need_kb = dk.datadir_kb
        if not need_kb then
          report(r, key, "disk", false, "%s: the datadir's size could not be read (du): the space a restore point needs is unknown", key)
        else
          if strategy == "reflink" or (strategy == "auto" and cow) then need_kb = dk.datadir_kb * site.num("reflink_margin_pct") // 100 end
          report(r, key, "disk", dk.avail_kb >= need_kb + margin_kb,
                 "%s: %d MB free for a restore point needing %d MB (+%d MB margin)", key,
                 dk.avail_kb // 1024, need_kb // 1024, margin_kb // 1024)
        end
      end
    end
  end

  for _, what in ipairs(fs_info) do log.info("info  %s: %s", names(r, fs_info[what]), what) end

  -- Source binlog retention: how long the standby may stay detached.
  local expire = server.variable(sp.conn, "binlog_expire_logs_seconds")
  log.info("info  source binlog retention: binlog_expire_logs_seconds=%s (%.1f days); purged: %s",
           tostring(expire), (tonumber(expire) or 0) / 86400, server.purged(sp.conn) ~= "" and server.purged(sp.conn) or "(none)")
  return r
end

-- ---- the report -------------------------------------------------------------------------------

local RANK = { ok = 1, warn = 2, FAIL = 3 }

local function worst(a, b) return (RANK[b] or 0) > (RANK[a] or 0) and b or a end

-- "1 check", "2 checks".
local function count(n, word) return ("%d %s%s"):format(n, word, n == 1 and "" or "s") end

-- Failures (or warnings) grouped by cause: {{state, cat, scopes = {...}, text, cause, fix}}, in
-- the order they were found. One wrong password is one entry naming every node it hit.
local function grouped(r, state)
  local out, by = {}, {}
  for _, c in ipairs(r.checks) do
    if c.state == state then
      local k = c.cat .. "|" .. (c.group or c.text)
      local g = by[k]
      if not g then
        g = { state = state, cat = c.cat, scopes = {}, text = c.text, cause = c.cause, fix = c.fix, label = c.label }
        by[k] = g; out[#out + 1] = g
      end
      local seen = false
      for _, s in ipairs(g.scopes) do seen = seen or s == c.scope end
      if not seen then g.scopes[#g.scopes + 1] = c.scope end
    end
  end
  return out
end

-- The per-node view: { {side, name, router, nodes = {{scope, id, role, state, cats = {{cat, state}}}}} }.
local function clusters(r)
  local out = array()
  for _, side in ipairs({ "source", "target" }) do
    local cl = { side = side, name = side == "source" and "source (production)" or "standby", router = r.routers[side], members = array() }
    local scopes = { side .. "/router" }
    local roles = { [side .. "/router"] = "router" }
    for _, d in ipairs(r.topo and r.topo[side] and r.topo[side].nodes or {}) do
      scopes[#scopes + 1] = side .. "/" .. d.id
      roles[side .. "/" .. d.id] = d.role == "primary" and "master" or "replica"
    end
    for _, sc in ipairs(scopes) do
      local cats, order, state = {}, {}, "ok"
      for _, c in ipairs(r.checks) do
        if c.scope == sc then
          if not cats[c.cat] then cats[c.cat] = c.state; order[#order + 1] = c.cat else cats[c.cat] = worst(cats[c.cat], c.state) end
          state = worst(state, c.state)
        end
      end
      local list = array()
      for _, cat in ipairs(order) do list[#list + 1] = { cat = cat, state = cats[cat] } end
      local t = r.tls and r.tls[sc]
      cl.members[#cl.members + 1] = { scope = sc, id = sc:match("/(.+)$") == "router" and r.routers[side] or sc:match("/(.+)$"),
                                      role = roles[sc], state = #list > 0 and state or "not checked", checks = list,
                                      tls = t and { version = t.version, cipher = t.cipher } or { version = "none" } }
    end
    out[#out + 1] = cl
  end
  return out
end

-- report(r) -> the prechecks as a plain table (what --report-json writes for verify; the drill
-- report includes it):
--   { ok = bool, counts = {ok =, warn =, FAIL =}, skipped = text or nil,
--     clusters = { {side = "source"|"target", name, router = "host:port",
--                   members = { {scope, id, role = "router"|"master"|"replica", state,
--                                checks = { {cat, state} }, tls = {version = "TLSv1.3" | "none", cipher}} }} },
--     failures = { {cat, nodes = {"standby node 127.0.46.1:3308", ...}, where = text, text, cause, fix} },
--     warnings = (the same shape), checks = { {scope, cat, state, text, cause, fix} } }
function M.report(r)
  local counts = { ok = 0, warn = 0, FAIL = 0 }
  local checks = array()
  for _, c in ipairs(r.checks) do
    counts[c.state] = counts[c.state] + 1
    checks[#checks + 1] = { scope = c.scope, cat = c.cat, state = c.state, text = c.text, cause = c.cause, fix = c.fix }
  end
  local function entries(state)
    local out = array()
    for _, g in ipairs(grouped(r, state)) do
      local nodes = array()
      for _, sc in ipairs(g.scopes) do nodes[#nodes + 1] = (scope_name(r, sc)) end
      out[#out + 1] = { cat = g.cat, nodes = nodes, where = names(r, g.scopes), text = g.label and (names(r, g.scopes) .. ": " .. g.label) or g.text,
                        cause = g.cause, fix = g.fix }
    end
    return out
  end
  return { ok = counts.FAIL == 0 and r.skipped == nil, counts = counts, skipped = r.skipped, clusters = clusters(r),
           failures = entries("FAIL"), warnings = entries("warn"), checks = checks }
end

-- The summary as text lines: per cluster and node one line of its checks' states, then the
-- failures and the warnings, each cause once.
function M.summary_lines(rep)
  local L = {}
  local c = rep.counts
  L[#L + 1] = ("verify summary: %s, %s, %s%s"):format(count(c.FAIL, "failed check"), count(c.warn, "warning"),
    count(c.ok, "check") .. " ok", rep.skipped and "; some not run" or "")
  for _, cl in ipairs(rep.clusters) do
    L[#L + 1] = ("  %s cluster, router %s"):format(cl.name, cl.router)
    for _, m in ipairs(cl.members) do
      local by = { ok = {}, warn = {}, FAIL = {} }
      for _, ch in ipairs(m.checks) do table.insert(by[ch.state], ch.cat) end
      local parts = {}
      for _, st in ipairs({ "FAIL", "warn", "ok" }) do
        if #by[st] > 0 then parts[#parts + 1] = st .. ": " .. table.concat(by[st], " ") end
      end
      L[#L + 1] = ("    %-5s %-8s %-22s %s · tls %s"):format(m.state == "not checked" and "-" or m.state, m.role, m.id,
        #parts > 0 and table.concat(parts, " · ") or "not checked", m.tls and m.tls.version or "none")
    end
  end
  if rep.skipped then L[#L + 1] = "  not run: " .. rep.skipped end
  for _, kind in ipairs({ { "FAIL", rep.failures, "failed" }, { "warn", rep.warnings, "warnings" } }) do
    if #kind[2] > 0 then L[#L + 1] = kind[3] .. ":" end
    for i, e in ipairs(kind[2]) do
      L[#L + 1] = ("  %d. %s%s"):format(i, e.text, e.cause and (": " .. e.cause) or "")
      if e.fix then L[#L + 1] = "     fix: " .. e.fix end
    end
  end
  return L
end

-- Prints the summary on stdout (the product of verify; -q leaves only it), masked like every
-- line flashrun prints, and records it in the JSON log.
function M.print_summary(r)
  local rep = M.report(r)
  local text = table.concat(M.summary_lines(rep), "\n")
  io.stdout:write(require("flashrun.log").mask(text), "\n")
  io.stdout:flush()
  log.event("verify-summary", { failed = rep.counts.FAIL, warnings = rep.counts.warn, ok = rep.counts.ok }, text)
  return rep
end

function M.refuse_if_failed(r, summarized)
  local n = #r.failures
  if n > 0 or r.skipped then
    if not summarized then M.print_summary(r) end
    refuse(("%s%s: see the summary"):format(count(n, "precheck") .. " failed", r.skipped and " (and some could not run)" or ""))
  end
  -- The passed checks are debug lines: say how many there were (start prints no summary).
  local ok = 0
  for _, c in ipairs(r.checks) do if c.state == "ok" then ok = ok + 1 end end
  log.info("all prechecks passed (%s ok, %s; -v lists every check)", count(ok, "check"), count(#r.warnings, "warning"))
end

return M
