-- checks/routers.lua — the two routers: each answers SQL (and its TLS), lists its dataservers
-- (the topology every later check walks), their states, the standby's registration on the
-- source router, the standby router's enable-disaster-mode, and what of their accounts'
-- privileges cannot be checked.
local log = require "flashrun.log"
local router = require "router"
local cluster = require "cluster"
local privileges = require "privileges"
local result = require "checks.result"
local connection = require "checks.connection"
local add, judge, warn, SIDE_NAME = result.add, result.judge, result.warn, result.SIDE_NAME
local M = {}

-- Each router answers SQL (r.routers[side] = its host:port, r.tls[side .. "/router"] its TLS).
-- Returns {source = conn, target = conn}, without the side of a router that did not answer.
local function connect(r, cfg)
  local routers = {}
  for _, side in ipairs({ "source", "target" }) do
    local c = cfg[side]
    local id = router.id(c.host, c.port)
    r.routers[side] = id
    local conn, err, errno, secs = cluster.try_router(side, c.host, c.port)
    -- probed when it answered (the expiry warning) or failed in TLS (the cause): not when it
    -- cannot be reached, which would cost another timeout
    local p = (conn or tonumber(errno) == 2026) and connection.probe(c.host, c.port, c.router_ssl_mode, c) or nil
    connection.connected(r, side .. "/router", "sql", ("%s router %s answers SQL"):format(SIDE_NAME[side], id), err, err and {
      side = side, cfg = c, addr = id, host = c.host,
      hint = connection.hint(errno, err, { side = side, router = true, seconds = secs, mode = c.router_ssl_mode,
                                           cert = (c.ssl_cert or "") ~= "" }, p) })
    if conn then r.tls[side .. "/router"] = conn:tls() or false end
    connection.judge_expiry(r, side .. "/router", ("%s router %s"):format(SIDE_NAME[side], id), p)
    routers[side] = conn
  end
  return routers
end

-- The dataservers each router lists: {side = {nodes, primary, standby_entry}} (router.nodes),
-- without the side of a router that did not answer or could not list them.
local function topology(r, routers)
  local topo = {}
  for side, conn in pairs(routers) do
    local ok, nodes, standby = pcall(router.nodes, conn)
    if ok then
      topo[side] = { nodes = nodes, primary = router.primary(nodes), standby_entry = standby }
    else
      -- 1064 (a syntax error) on `dbscale show dataservers`: a MySQL server answered, not a router.
      local plain = tostring(nodes):find("[1064]", 1, true) ~= nil
      add(r, side .. "/router", "sql", "fail", ("%s router %s lists its dataservers"):format(SIDE_NAME[side], r.routers[side]), {
        cause = plain and ("%s answers as a MySQL server, not a GreatDB router (it does not know dbscale statements)"):format(r.routers[side])
                or tostring(nodes),
        fix = plain and ("give the %s cluster's router, not a node (--%s HOST:PORT, the router's SQL port)"):format(
                SIDE_NAME[side], side == "source" and "si" or "ti") or nil })
    end
  end
  return topo
end

-- One dataserver's status, judged by its state (router.status_state): down and disabled fail,
-- lag beyond max_delay (seconds) fails, semi-sync fallen back to async is a warning.
local function judge_status(r, scope, what, d, max_delay)
  local st = d.state
  if st == "down" then
    judge(r, scope, "status", false, "%s is down (status '%s')", what, d.status)
  elseif st == "disabled" then
    judge(r, scope, "status", false, "%s is disabled (status '%s'): the router sends it no traffic and stopped its replication; " ..
          "enable it (dbscale enable dataserver %s) once it is healthy", what, d.status, d.name)
  elseif st == "lagging" then
    judge(r, scope, "status", d.lag <= max_delay, "%s lags %d s behind its master (status '%s'; allowed %d)", what, d.lag, d.status, max_delay)
  elseif st == "semisync_degraded" then
    warn(r, scope, "status", "%s: semi-sync fell back to async (status '%s'); the server is up", what, d.status)
  elseif st == "unknown" then
    warn(r, scope, "status", "%s status '%s' is not one flashrun knows", what, d.status)
  else
    judge(r, scope, "status", true, "%s status '%s'", what, d.status)
  end
end

-- Every dataserver's status, and each cluster has a primary.
local function statuses(r, topo, max_delay)
  for _, side in ipairs({ "source", "target" }) do
    for _, d in ipairs(topo[side] and topo[side].nodes or {}) do
      judge_status(r, side .. "/" .. d.id, ("%s dataserver %s (%s)"):format(side, d.name, d.id), d, max_delay)
    end
    if topo[side] then judge(r, side .. "/router", "status", topo[side].primary ~= nil, "%s cluster has a primary (Master_Online)", side) end
  end
end

-- The standby router is registered on the source router (its entry se there), said with its
-- likely cause when it is not.
local function registered(r, topo, se)
  if topo.source and se then
    judge(r, "source/router", "registration", true, "the standby router is registered on the source router as %s", router.STANDBY_SERVER)
  elseif topo.source then
    -- Said with its likely cause: the two routers given the other way round (the "standby" one
    -- lists the entry), else a standby detached by a drill or a run that did not finish.
    local swapped = topo.target and topo.target.standby_entry ~= nil
    add(r, "source/router", "registration", "fail",
        ("the standby router is registered on the source router as %s"):format(router.STANDBY_SERVER), {
          cause = swapped and ("the router given as the standby (%s) lists %s, the one given as the source does not: "
                               .. "--si and --ti look swapped"):format(tostring(r.routers.target), router.STANDBY_SERVER)
                  or ("the source router lists no %s: the standby is detached (start detaches it for a drill)"):format(router.STANDBY_SERVER),
          fix = swapped and "give production's router as --si (source) and the standby's as --ti (target)"
                or "run status with the drill's --state-dir and end an open drill with stop; with none open, register the " ..
                   "standby router on production's again as it was (docs/operator.md, Recovery)" })
  end
end

-- The registration se (the source router's entry for the standby) as stop would register it
-- again: its status, its user (want: the configured one), the replication datasource it hangs
-- from.
local function registration(r, se, src_router, want, max_delay)
  judge_status(r, "source/router", router.STANDBY_SERVER, se, max_delay)
  -- stop registers it again with the configured password: the user must be the configured one.
  judge(r, "source/router", "registration", se.user == want, "%s is registered with user '%s'%s", router.STANDBY_SERVER, se.user,
        se.user == want and "" or (" but target.router_user is '" .. tostring(want) ..
          "': stop could not register it again with the right password; set target.router_user and router_password"))
  local ok, reg = pcall(router.standby_registration, src_router)
  judge(r, "source/router", "registration", ok and reg and reg.datasource ~= nil, "the standby is a slave of the source's replication datasource%s",
        not ok and (": " .. tostring(reg)) or (reg and reg.datasource) and (" " .. reg.datasource) or
        (": no slave_dbscale_source row in dbscale show datasource type=replication"))
end

-- Without enable-disaster-mode the standby router cannot change slave-dbscale-mode, which start
-- and stop do; flashrun never changes enable-disaster-mode itself. c: [target]'s section.
local function disaster_mode(r, tgt_router, c)
  local okopt, so = pcall(router.standby_options, tgt_router)
  local dm = okopt and so.disaster_mode
  local where = ("the standby router %s:%d"):format(c.host, c.port)
  if dm then
    judge(r, "target/router", "options", true, "enable-disaster-mode is on on %s", where)
  else
    judge(r, "target/router", "options", false, "enable-disaster-mode is %s on %s: without it slave-dbscale-mode cannot change, which start " ..
          "and stop do; turn it on there (flashrun never changes it)",
          not okopt and ("unreadable (" .. tostring(so) .. ")") or dm == false and "off" or "not reported", where)
  end
end

-- What start and stop send the routers cannot be checked there (router.PRIVILEGES): named once.
local function grants(r, routers)
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
end

-- check(r, cfg, max_delay) -> routers {source = conn, target = conn} (a side missing when its
-- router did not answer), topo {side = {nodes, primary, standby_entry}} (a side missing when its
-- router listed no dataservers). cfg: the configuration ({source = section, target = section});
-- max_delay: the lag allowed, in seconds.
function M.check(r, cfg, max_delay)
  local routers = connect(r, cfg)
  local topo = topology(r, routers)
  statuses(r, topo, max_delay)
  local se = topo.source and topo.source.standby_entry
  registered(r, topo, se)
  if se then registration(r, se, routers.source, cfg.target.router_user or cfg.target.mysql_user, max_delay) end
  if routers.target then disaster_mode(r, routers.target, cfg.target) end
  grants(r, routers)
  return routers, topo
end

return M
