-- restore_point.donor — strategy `donor` (the old tool's way): a replica that holds the restore
-- point is frozen there (disabled in the standby router, its replication stopped) for the whole
-- drill; every other node runs CLONE INSTANCE FROM it … DATA DIRECTORY (8.0.17+), one at a time
-- (a donor serves one clone at a time: error 3634). The donor's own data is its restore point.
-- The interface is restore_point's (init.lua).
local server = require "server"
local cluster = require "cluster"
local router = require "router"
local site = require "site"
local wait = require "flashrun.wait"
local mysqld = require "mysqld"
local log = require "flashrun.log"
local gtid = require "flashrun.gtid"
local refuse = require("flashrun.errors").refuse
local rehearsal = require "flashrun.rehearsal"
local clone = require "restore_point.clone"
local common = require "restore_point.common"
local service = require "restore_point.service"
local swap = require "restore_point.swap"
local S = common.strategy("donor")

-- Waits until a replica holds what the standby master executed: the donor. Returns the restore
-- point's GTID set and the donor ({id, name, host, port, role} of st.target_nodes).
function S.settle(nodes, mc)
  local frozen, donor
  wait.wait_until(common.SETTLED, function()
    local held
    frozen, held = common.holders(nodes, mc)
    for _, n in ipairs(held) do if n.role ~= "primary" then donor = n; return true end end
    return false, "no replica caught up with " .. frozen
  end, site.num("apply_timeout"))
  if not donor then -- a rehearsal with lagging replicas: name the first
    for _, n in ipairs(nodes) do if n.role ~= "primary" then donor = n break end end
    if not donor then error("the standby cluster has no replica to serve as donor", 0) end
  end
  return frozen, donor
end

-- The donor held at the restore point: its replication stopped, its GTID set the restore
-- point's. Checked again before it serves clones: a donor restarted since its freeze
-- (mysqld_safe after a crash, a DBA) may replicate again.
local function hold(st, when)
  local d = st.donor
  local c = cluster.connect("target", d.host, d.port)
  local rs = server.replica_status(c)
  if rs and (rs.io_running or rs.sql_running) then assert(c:exec(server.sql(c, "stop_replica"))) end
  rehearsal.check("donor " .. d.id .. " holds the restore point " .. when, function()
    if not gtid.equal(server.executed(c), st.frozen) then
      error(("donor %s moved past the restore point %s"):format(d.id, when), 0)
    end
  end)
  c:close()
end

function S.freeze(st)
  router.disable(cluster.router("target"), st.donor.name)
  -- The router stops replication on a disabled node; make sure of it.
  hold(st, "while being frozen")
end

-- Enables the donor in the standby router again, which restarts its replication. The router
-- enables only a dataserver that answers: a donor that went down meanwhile (killed mid-clone)
-- is started again the way the site runs it, its variables set back as recorded.
function S.thaw(st)
  local d = st.donor
  local m
  for _, x in ipairs(st.sites or {}) do if x.id == d.id then m = x end end
  local c = cluster.try_connect("target", d.host, d.port, { timeout = 5 })
  if c then c:close() elseif m then
    log.warn("donor %s does not answer: starting it again before enabling it in the router", d.id)
    service.back_in_service(m)
  end
  -- The router restarts its replication, which writes its relay log: on a full filesystem
  -- that fails and leaves the relay log index unreadable until mysqld restarts. Not tried.
  local hint = m and service.full_hint(m)
  if hint then error(("donor %s is left disabled in the router, its replication stopped\n%s"):format(d.id, hint), 0) end
  router.enable(cluster.router("target"), d.name)
end

function S.take(st, nodes)
  hold(st, "before serving the clones")
  return clone.from(st.donor, nodes, st.frozen)
end

-- The donor was frozen at the restore point for the whole drill: a damaged restore point is
-- cloned from it again, as start did; refused when the donor moved.
function S.repair(st, damaged, bad)
  local dc = cluster.connect("target", st.donor.host, st.donor.port)
  local held = server.executed(dc)
  dc:close()
  rehearsal.check("donor " .. st.donor.id .. " still holds the restore point", function()
    if not gtid.equal(held, st.frozen) then
      refuse(("restore points are damaged, and the donor %s no longer holds the restore point (it holds %s); "
              .. "nothing was touched:\n  %s\nThe drill's data cannot be thrown away automatically: rebuild "
              .. "these nodes from production by hand."):format(st.donor.id, held, table.concat(bad, "\n  ")))
    end
  end)
  for _, b in ipairs(bad) do log.warn("%s; cloning it again from donor %s", b, st.donor.id) end
  local recs = {}
  for id, r in pairs(st.restore_points or {}) do recs[id] = r end
  for id, r in pairs(S.take(st, damaged)) do recs[id] = r end
  return { restore_points = recs, damaged = {} }
end

-- After the others are put back: the donor keeps its own data (it is the restore point), but it
-- may have gone down during the drill: it is started again the same way. One restarted during
-- the drill with its replication (mysqld_safe after a crash, a DBA) took the drill's
-- transactions, and one an interrupted run was cloning is half-way: returned, to be taken again
-- from a restored node (common.retake_from).
function S.after_put_back(st)
  local later = {}
  for _, m in ipairs(st.sites) do
    if m.id == st.donor.id then
      local s = cluster.ssh("target", m.host)
      if swap.progress(s, m) ~= "done" then later[#later + 1] = m
      else
        local c = mysqld.start(s, m)
        if c then
          local rs = server.replica_status(c)
          if rs and (rs.io_running or rs.sql_running) then c:exec(server.sql(c, "stop_replica")) end
          local ex = server.executed(c)
          c:close()
          rehearsal.check("donor " .. m.id .. " still holds the restore point", function()
            if not gtid.equal(ex, st.frozen) then
              log.warn("donor %s moved past the restore point during the drill (it holds %s): it is cloned again from a restored node",
                       m.id, ex)
              later[#later + 1] = m
            end
          end)
        end
      end
    end
  end
  return later
end

-- verify: any replica may be picked as the donor, so every node is read as one: what CLONE
-- compares between donor and recipient, and, when the clones are REQUIRE SSL (clone_ssl = on, or
-- auto under [target] ssl_mode required or stronger: clone.clone_ssl), whether it offers TLS.
function S.measure(conn)
  local tls -- nil: not asked (true or false: not an and/or expression, which would turn false into nil)
  if clone.requires_tls() then tls = clone.offers_tls(conn) end
  return { fingerprint = clone.fingerprint(conn), tls = tls }
end

function S.judge(say, x, shared)
  local facts = x.facts or {}
  local v6 = x.host:find(":", 1, true)
  say("clone", not v6, v6 and "an IPv6 literal: CLONE INSTANCE FROM does not take one (use the donor strategy with names, or local)"
      or "donor address usable by CLONE INSTANCE FROM")
  shared.first = shared.first or { key = x.key, fp = facts.fingerprint or {} }
  local diff = {}
  for j, f in ipairs(facts.fingerprint or {}) do if f ~= shared.first.fp[j] then diff[#diff + 1] = f end end
  say("clone", #diff == 0, #diff == 0 and "version, character sets and plugins match the other nodes (clone checks them)"
      or ("differs from " .. shared.first.key .. ", which CLONE refuses: " .. table.concat(diff, "; ")))
  -- CLONE … REQUIRE SSL fails against a donor without TLS.
  if facts.tls ~= nil then
    say("clone", facts.tls, facts.tls and "offers TLS, as a clone REQUIRE SSL needs of a donor"
        or "offers no TLS (no certificate loaded: Ssl_server_not_after is empty), which a clone REQUIRE SSL (clone_ssl = on, or auto under [target] ssl_mode required or stronger) needs of a donor: configure ssl_cert and ssl_key (ALTER INSTANCE RELOAD TLS), or set clone_ssl = off")
  end
end

function S.describe(st) return st.donor and ("donor, donor " .. st.donor.id) or "donor" end

return S
