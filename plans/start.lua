-- start — open the standby cluster read-write for a drill, after taking a restore point.
-- Order: prechecks; detach the standby from the source router; stop replication once the
-- standby master applied all it received; wait until the standby holds the restore point; record
-- every node (paths, variables, replication); stream production's binary logs to the DR site;
-- take the restore point of every node (the strategy's: stdlib/restore_point/); only then open
-- the standby read-write. Every failure before that last step is rolled back.
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local checks = require "checks"
local site = require "site"
local node = require "node"
local restore_point = require "restore_point"
local mysqld = require "mysqld"
local variables = require "variables"
local wait = require "flashrun.wait"
local binlog_stream = require "binlog_stream"
local replica = require "replica"
local clone_progress = require "clone_progress"
local progress = require "flashrun.progress"
local log = require "flashrun.log"
local settings = require "flashrun.settings"
local clock = require "flashrun.clock"
local gtid = require "flashrun.gtid"
local refuse = require("flashrun.errors").refuse
local now = require("flashrun.sched").now

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
    router.add_standby(src_router(), ctx.state.registration, settings.current().target.router_password,
                       function(h, p) return cluster.try_router("source", h, p) end)
  end)
end

return {
  name = "start",
  description = "take a restore point of the standby cluster and open it read-write for a drill",
  needs = { "source", "target" },
  ssh_to = { "source", "target" },
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
        -- What the checks found, for the drill report (stop writes it): every line and its result.
        local checked = {}
        for _, c in ipairs(r.checks or {}) do
          checked[#checked + 1] = { result = tostring(c.state):lower(), check = c.text .. (c.cause and (": " .. c.cause) or "") }
        end
        return { drill = { started = clock.utc(), host = ctx.host }, checks = checked,
                 registration = registration,
                 standby_options = { read_only = so.read_only, slave_mode = so.slave_mode },
                 master = { id = master.id, name = master.name, host = master.host, port = master.port },
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
        local applying = progress.tracker { node = ctx.state.master.id, task = "apply", unit = "transactions" }
        wait.wait_until("the standby master applied every transaction it received", function()
          local st = server.replica_status(mc)
          if not st then return true end
          local ex = server.executed(mc)
          if gtid.is_subset(st.retrieved_gtid_set, ex) then return true end
          applying:sample(clone_progress.wait(st.retrieved_gtid_set, ex, "relay log"))
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
        -- The rollback is complete only once the standby replicates as before (verify refused a
        -- node that did not): the master from production, every other node from the master, each
        -- restarted by a restore point's undo or not. A receiver that found its source down (a
        -- reflink copy's restart) retries only every SOURCE_CONNECT_RETRY; the next start's
        -- checks would refuse it meanwhile.
        for _, n in ipairs(ctx.state.target_nodes) do
          local c = n.role == "primary" and mc or cluster.connect("target", n.host, n.port)
          -- (the master's channel is the router's to restart: only waited for)
          replica.wait_running(c, n.id, site.num("apply_timeout"), n.role == "primary" and math.huge or nil)
          if c ~= mc then c:close() end
        end
        mc:close()
      end },

    { id = "settle", name = "wait until the standby nodes hold the master's GTID set", run = function(ctx)
        local rp = restore_point.asked()
        local mc = master_conn(ctx)
        local frozen, donor = rp.settle(ctx.state.target_nodes, mc)
        mc:close()
        log.info("restore point: %s (strategy %s%s)", frozen ~= "" and frozen or "(the empty GTID set)", rp.name,
                 donor and (", donor " .. donor.id) or "")
        return { frozen = frozen, frozen_at = clock.utc(), strategy = rp.name, donor = donor or false }
      end },

    { id = "freeze_donor", name = "freeze the donor (donor strategy)",
      run = function(ctx) restore_point.of(ctx.state).freeze(ctx.state) end,
      undo = function(ctx) restore_point.of(ctx.state).thaw(ctx.state) end },

    { id = "record_nodes", name = "record every standby node's paths, variables and replication", run = function(ctx)
        local st = ctx.state
        local rp = restore_point.of(st)
        local function record(n)
          local c = cluster.connect("target", n.host, n.port)
          local s = cluster.ssh("target", n.host)
          local m = node.discover(n, c, s)
          -- (m.role stays the router's: primary or joiner; the donor is st.donor)
          local outside
          m.data_dirs, outside = node.data_dirs(m, node.data_variables(c))
          local rs = server.replica_status(c)
          m.replication = rs and { source_host = rs.source_host, source_port = rs.source_port, source_user = rs.source_user,
                                   auto_position = rs.auto_position, running = rs.io_running and rs.sql_running,
                                   tls = server.channel_tls(c) } or false
          rp.prepare(m, s)
          if not restore_point.is_donor(st, n) then
            local why = node.outside_message(m, outside)
            if why then refuse(why) end
          end
          -- Every node clones (local), serves the clone (donor) or may be cloned in stop's repair
          -- of a damaged restore point: the plugin must be active.
          m.plugin_installed = restore_point.ensure_plugin(c, m.id)
          -- Recorded with the plugin active, as the restore point holds it (stop drops it last):
          -- its clone_* variables are not differences to set back.
          m.variables = variables.read(c)
          c:close()
          log.info("%s %-7s datadir=%s conf=%s restore point=%s", m.id, restore_point.is_donor(st, n) and "donor" or m.role, m.datadir, m.conf, m.restore_point_dir)
          local _, init = mysqld.start_args(m)
          if init then
            log.warn("%s: its mysqld_safe runs with %s; flashrun restarts the node with its other options but never "
                     .. "with that one (its statements run at every start, and could start replication on a restored node)", m.id, init)
          end
          return m
        end
        local sites = cluster.on_each("recording the standby nodes", st.target_nodes, record)
        return { sites = sites, strategy = rp.resolve(sites) }
      end,
      undo = function(ctx)
        for _, m in ipairs(ctx.state.sites or {}) do restore_point.drop_plugin(m) end
      end },

    -- From here on production's binary logs arrive at the DR site (stdlib/binlog_stream.lua):
    -- what stop --production-lost applies if production is lost. Started as soon as the restore
    -- point's GTID set is known and every node recorded, before any restore point is taken: a
    -- restore point of terabytes takes hours, and the standby receives nothing from production
    -- meanwhile but this.
    { id = "stream", name = "stream production's binary logs to the standby site",
      run = function(ctx)
        if site.get("binlog_stream") == "off" then
          log.warn("site.binlog_stream = off: production's binary logs are not kept during the drill; " ..
                   "if production is lost before stop, what it wrote since the restore point is lost with it")
          return { stream = false }
        end
        return { stream = binlog_stream.start(ctx.state) }
      end,
      undo = function(ctx)
        if site.get("binlog_stream") == "off" and not ctx.state.stream then return end
        -- A run killed inside run() journaled nothing: the place is derived again.
        binlog_stream.remove(ctx.state.stream or binlog_stream.where(ctx.state))
      end },

    { id = "restore_point", name = "take the restore point of every standby node",
      run = function(ctx)
        local nodes = restore_point.takers(ctx.state)
        local t0 = now()
        local recs = restore_point.of(ctx.state).take(ctx.state, nodes)
        log.info("restore point taken on %d node%s in %.2f s", #nodes, #nodes == 1 and "" or "s", now() - t0)
        return { restore_points = recs }
      end,
      undo = function(ctx)
        local st = ctx.state
        local rp = restore_point.of(st)
        cluster.on_each("removing restore points", st.sites or {}, function(m) rp.undo(m, st); return true end)
      end },

    { id = "open", name = "open the standby read-write", irreversible = true, run = function(ctx)
        router.set_read_only(tgt_router(), false)
        local mc = master_conn(ctx)
        if tostring(server.variable(mc, "super_read_only")) == "1" then assert(mc:exec("SET GLOBAL super_read_only = 0")) end
        if tostring(server.variable(mc, "read_only")) == "1" then assert(mc:exec("SET GLOBAL read_only = 0")) end
        log.info("the standby is open read-write through %s:%d; run plans/stop.lua when the drill is over",
                 settings.current().target.host, settings.current().target.port)
        return { drill_open = true }
      end },
  },
}
