-- start — open the standby cluster read-write for a drill, after taking a restore point.
-- Order: prechecks; detach the standby from the source router; stop replication once the
-- standby master applied all it received; freeze a donor replica holding exactly the master's
-- GTID set; clone it into a side instance on every other standby node (the restore point);
-- only then open the standby read-write. Every failure before that last step is rolled back.
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local checks = require "checks"
local site = require "site"
local side = require "side"
local shell = require "shell"
local wait = require "wait"

local function src_router() return cluster.router("source") end
local function tgt_router() return cluster.router("target") end

local function master_conn(ctx)
  local m = ctx.state.master
  return cluster.connect("target", m.host, m.port)
end

-- Register the standby on the source router again as check recorded it (the standby router
-- forwards the replication statements add slave sends only in slave-dbscale-mode).
local function readd_standby(ctx)
  router.with_slave_mode(tgt_router(), function()
    router.add_standby(src_router(), ctx.state.registration, config.target.router_password,
                       function(h, p) return cluster.try_connect("source", h, p) end)
  end)
end

return {
  name = "start",
  description = "take a restore point of the standby cluster and open it read-write for a drill",
  needs = { "source", "target" },
  recovery = [[
The standby is open read-write (or about to be). To put it back to the restore point and make it
replicate from production again, run:
    flashrun plans/stop.lua --si SOURCE_ROUTER --ti STANDBY_ROUTER --config CONFIG
If start failed while building the restore point, re-run start first: it resumes where it stopped.]],
  steps = {
    { id = "check", name = "check both clusters", run = function(ctx)
        if ctx.state.drill_open then
          refuse(("a drill is open since %s: run plans/stop.lua to end it before starting another")
                 :format(tostring(ctx.state.drill and ctx.state.drill.started)))
        end
        local r = checks.run()
        checks.refuse_if_failed(r)
        local topo = r.topo
        local master = topo.target.primary
        local rs = server.replica_status(r.nodes["target/" .. master.id].conn)
        local nodes = {}
        for _, d in ipairs(topo.target.nodes) do
          nodes[#nodes + 1] = { id = d.id, name = d.name, host = d.host, port = d.port, role = d.role }
        end
        -- What start changes on the routers, recorded before it changes it: stop and every
        -- rollback put back exactly this (no password: it cannot be read back, it is configured).
        local registration = router.standby_registration(r.src_router)
        local so = router.standby_options(r.tgt_router)
        log.info("recorded: the standby router %s:%d registered as user %s, a slave of %s (group %s); " ..
                 "on the standby router enable-read-only=%s slave-dbscale-mode=%s",
                 registration.host, registration.port, registration.user, registration.datasource,
                 tostring(registration.group or "not shown"), tostring(so.read_only), tostring(so.slave_mode))
        return { drill = { started = os.date("!%Y-%m-%dT%H:%M:%SZ") },
                 registration = registration,
                 standby_options = { read_only = so.read_only, slave_mode = so.slave_mode },
                 master = { id = master.id, name = master.name, host = master.host, port = master.port },
                 master_source = { host = rs.source_host, port = rs.source_port, user = rs.source_user },
                 target_nodes = nodes, donor = false, frozen = false, sites = false }
      end },

    { id = "detach", name = "detach the standby from the source router",
      run = function() router.remove_standby(src_router()) end,
      undo = function(ctx) readd_standby(ctx) end },

    { id = "stop_replication", name = "stop replication once the standby master applied all it received",
      run = function(ctx)
        local tr = tgt_router()
        local mc = master_conn(ctx)
        -- The spelling the backend understands (SLAVE for 8.0, REPLICA for 8.4+), sent through the
        -- standby router, which forwards it while slave-dbscale-mode is on (else error 9001).
        local ver = { server.version(mc) }
        -- A run killed after the last statement below finds the mode off already.
        if router.standby_options(tr).slave_mode ~= true then router.set_slave_mode(tr, true) end
        -- Stop fetching first, let the applier finish, then stop the applier.
        router.exec(tr, server.sql(ver, "stop_replica") .. " IO_THREAD")
        wait.wait_until("the standby master applied every transaction it received", function()
          local st = server.replica_status(mc)
          if not st then return true end
          local ex = server.executed(mc)
          if gtid.is_subset(st.retrieved_gtid_set, ex) then return true end
          return false, "not yet applied: " .. gtid.subtract(st.retrieved_gtid_set, ex)
        end, site.num("apply_timeout"))
        router.exec(tr, server.sql(ver, "stop_replica"))
        router.set_slave_mode(tr, false)
      end,
      undo = function(ctx)
        local tr = tgt_router()
        router.set_slave_mode(tr, true)
        local mc = master_conn(ctx)
        router.exec(tr, server.sql(mc, "start_replica"))
        router.restore_options(tr, ctx.state.standby_options)
      end },

    { id = "choose_donor", name = "choose a donor holding exactly the master's GTID set", run = function(ctx)
        local mc = master_conn(ctx)
        local donor, frozen
        wait.wait_until("a standby replica has applied everything the master executed", function()
          frozen = server.executed(mc)
          for _, n in ipairs(ctx.state.target_nodes) do
            if n.role ~= "primary" then
              local c = cluster.try_connect("target", n.host, n.port)
              if c then
                local ex = server.executed(c); c:close()
                if gtid.equal(ex, frozen) then donor = n; return true end
              end
            end
          end
          return false, "no replica caught up with " .. frozen
        end, site.num("apply_timeout"))
        if not donor then  -- dry-run and the replicas lag: name the first one
          for _, n in ipairs(ctx.state.target_nodes) do if n.role ~= "primary" then donor = n break end end
        end
        if not donor then error("the standby cluster has no replica to serve as donor", 0) end
        log.info("donor: %s (%s); restore point: %s", donor.id, donor.name, frozen)
        return { donor = donor, frozen = frozen }
      end },

    { id = "freeze_donor", name = "freeze the donor",
      run = function(ctx)
        local d = ctx.state.donor
        router.disable(tgt_router(), d.name)
        -- The router stops replication on a disabled node; make sure of it.
        local c = cluster.connect("target", d.host, d.port)
        local st = server.replica_status(c)
        if st and (st.io_running or st.sql_running) then assert(c:exec(server.sql(c, "stop_replica"))) end
        if not dry_run and not gtid.equal(server.executed(c), ctx.state.frozen) then
          error(("donor %s moved past the restore point while being frozen"):format(d.id), 0)
        end
      end,
      undo = function(ctx)
        router.enable(tgt_router(), ctx.state.donor.name)
      end },

    { id = "record_nodes", name = "record every standby node's role and paths", run = function(ctx)
        local function record(n)
          local c = cluster.connect("target", n.host, n.port)
          local s = cluster.ssh("target", n.host)
          local m = site.discover(n, c, s)
          local vars = site.data_variables(c)
          c:close()
          m.role = (n.id == ctx.state.donor.id) and "donor" or n.role
          local outside
          m.data_dirs, outside = site.data_dirs(m, vars)
          if m.role ~= "donor" then
            local why = site.outside_message(m, outside)
            if why then refuse(why) end
            -- The swap in stop is a rename: the side dir must share the datadir's filesystem.
            local dev = {}
            for _, d in ipairs({ m.instance_dir, table.unpack(m.data_dirs) }) do
              dev[#dev + 1] = cluster.read(s, "stat -c %d " .. shell.quote(d))
            end
            for i = 2, #dev do
              if dev[i] ~= dev[1] then
                refuse(("%s: %s is not on the same filesystem as %s; set site.side_dir"):format(n.id, m.data_dirs[i - 1], m.instance_dir))
              end
            end
          end
          log.info("%s %-7s datadir=%s conf=%s mysqld_safe=%s side=%s:%d", m.id, m.role, m.datadir, m.conf,
                   m.mysqld_safe, m.side_dir, m.side_port)
          return m
        end
        return { sites = cluster.on_each("recording the standby nodes", ctx.state.target_nodes, record) }
      end },

    { id = "restore_point", name = "build the restore point (side instances cloned from the donor)",
      run = function(ctx)
        local targets, donor_site = side.split(ctx.state.sites)
        side.build(targets, ctx.state.donor, ctx.state.frozen, donor_site)
      end,
      undo = function(ctx)
        for _, m in ipairs((side.split(ctx.state.sites))) do side.remove(cluster.ssh("target", m.host), m) end
      end },

    { id = "open", name = "open the standby read-write", irreversible = true, run = function(ctx)
        router.set_read_only(tgt_router(), false)
        local mc = master_conn(ctx)
        if tostring(server.variable(mc, "super_read_only")) == "1" then assert(mc:exec("SET GLOBAL super_read_only = 0")) end
        if tostring(server.variable(mc, "read_only")) == "1" then assert(mc:exec("SET GLOBAL read_only = 0")) end
        log.info("the standby is open read-write through %s:%d; run plans/stop.lua when the drill is over",
                 config.target.host, config.target.port)
        return { drill_open = true }
      end },
  },
}
