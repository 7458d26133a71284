-- stop — end a drill: put every standby node back to the restore point taken by start (data,
-- variables, replication), then make the standby replicate from production again and prove it.
-- Re-running stop after an interruption finishes the job (each step is journaled, each node's
-- swap is idempotent).
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local restore_point = require "restore_point"
local swap = require "restore_point.swap"
local variables = require "variables"
local wait = require "flashrun.wait"
local binlog_stream = require "binlog_stream"
local production = require "production"
local replica = require "replica"
local drill_report = require "drill_report"
local log = require "flashrun.log"
local settings = require "flashrun.settings"
local clock = require "flashrun.clock"
local gtid = require "flashrun.gtid"
local redo = require("flashrun.journal").global
local refuse = require("flashrun.errors").refuse

local function tgt_router() return cluster.router("target") end

return {
  name = "stop",
  description = "put the standby back to the restore point and make it replicate from production again",
  needs = { "source", "target" },
  ssh_to = { "target" },
  choices = {
    production_lost = "production is lost: restore the standby, apply the binary logs streamed from production, leave it detached",
  },
  recovery = [[
stop did not finish. Re-run the same stop command: it resumes from the journal. Nodes whose swap
was interrupted keep their previous data as <dir>.flashback_bak next to the datadir until they
answer with the restore point's GTID set.]],
  steps = {
    { id = "read_journal", name = "read the drill from the journal", always = true, run = function(ctx)
        local st = ctx.state
        -- A start that ended before its restore_point step was recorded done (killed, or failed
        -- with a rollback that could not finish): the standby may be detached with replication
        -- stopped, which only start can undo, and nodes whose restore point was never taken look
        -- like nodes already restored (swap.progress "done"). Only start can finish that. What
        -- start left is told by its first step's record (frozen, false until settle): only a
        -- rollback that undid everything removes it, and then there is nothing to stop.
        local start = (redo.read().plans or {}).start
        local unfinished = start and start.status ~= "done"
        local recorded = type(st.sites) == "table" and st.frozen and st.strategy
        if not recorded or (unfinished and not st.restore_points) then
          if unfinished and (start.status == "running" or st.frozen ~= nil) then
            refuse(("start did not finish (the run started %s %s before it recorded every restore point; "
                    .. "the standby may be detached from production): re-run plans/start.lua to finish it "
                    .. "(a failure then rolls back what both runs did), then stop again.")
                   :format(tostring(start.run_started or start.started), start.status == "running" and "was interrupted" or tostring(start.status)))
          end
          -- Said with where it looked: another directory (./log is relative) holds another journal.
          local detached = router.detached(function() return cluster.router("source") end)
          refuse(("the journal in %s records no drill started by plans/start.lua (nothing to stop)%s"):format(
            tostring(ctx.state_dir), detached and ("; yet " .. router.DETACHED .. ". If a drill was started with another " ..
            "--state-dir (the default is ./log of the directory flashrun ran from), run stop with that " ..
            "one; otherwise re-register the standby (docs/operator.md, Recovery)") or ""))
        end
        log.info("drill started %s; strategy %s; restore point %s", tostring(st.drill and st.drill.started),
                 restore_point.of(st).describe(st), st.frozen ~= "" and st.frozen or "(the empty GTID set)")
      end },

    -- Before anything is touched: stop needs production to re-attach the standby. When production
    -- cannot be reached the operator chooses, on the command line, for this run only.
    { id = "check_production", name = "check production answers (or --production-lost)", always = true, run = function(ctx)
        local ok, why = production.answers()
        if ctx.choices.production_lost then
          if ok then
            refuse("production answers: --production-lost is only for a production that is lost; run stop without it " ..
                   "to put the standby back to the restore point and re-attach it")
          end
          if not ctx.state.stream then
            refuse("--production-lost applies the binary logs start streamed from production during the drill, and this " ..
                   "drill has no stream (site.binlog_stream = off, or start predates it): rebuild the standby by hand")
          end
          log.warn("production cannot be reached (%s); --production-lost: every standby node goes back to the restore " ..
                   "point, then takes the binary logs streamed from production; the standby stays detached and read-only", why)
          return
        end
        if not ok then
          refuse(("production cannot be reached: %s; stop went no further.\n"):format(why) ..
                 "If production comes back, run stop again.\n" ..
                 "If production is lost, run stop again with --production-lost: every standby node is put back to the " ..
                 "restore point, the binary logs streamed from production since then are applied, and the standby is " ..
                 "left detached and read-only, ready to be promoted (docs/operator.md, \"Production lost during a drill\").")
        end
      end },

    { id = "check_reattach", name = "check production still holds what the standby needs to re-attach", run = function(ctx)
        -- Before anything irreversible (before anything at all): once the nodes are swapped, the
        -- standby holds only the restore point, and must fetch everything after it from
        -- production's binary logs.
        local st = ctx.state
        -- (--production-lost: production does not answer; the stop after it checks what re-attaching needs)
        if ctx.choices.production_lost then return end
        local r = production.check_reattach(st.frozen)
        r.checked = clock.utc()
        return { reattach = r }
      end },

    { id = "close", name = "close the standby to writes", run = function(ctx)
        -- Closed for the swap whatever it was before start; reattach puts back the recorded value.
        router.set_read_only(tgt_router(), true)
        -- What the drill wrote, now that nothing more can be: the swap throws it away.
        local thrown = ""
        for _, m in ipairs(ctx.state.sites) do
          local c = cluster.try_connect("target", m.host, m.port)
          if c then
            thrown = gtid.union(thrown, gtid.subtract(server.executed(c), ctx.state.frozen))
            c:close()
          end
        end
        log.info("the drill executed %d transaction(s) on the standby; the swap throws them away%s",
                 thrown ~= "" and gtid.count(thrown) or 0, thrown ~= "" and (": " .. thrown) or "")
        return { thrown_away = thrown }
      end },

    { id = "check_restore_points", name = "check every restore point is intact", run = function(ctx)
        local st, bad, damaged = ctx.state, {}, {}
        local rp = restore_point.of(st)
        local recs = st.restore_points or {}
        local intact = 0
        -- Read on every node at once (a manifest is a remote find and hash); judged in order.
        local nodes = restore_point.takers(st)
        local seen = cluster.on_each("checking restore points", nodes, function(m)
          local where = swap.progress(cluster.ssh("target", m.host), m)
          return { where = where, why = where == "untouched" and rp.intact(m, recs[m.id]) or false }
        end)
        for i, m in ipairs(nodes) do
          local where, why = seen[i].where, seen[i].why or nil
          if where ~= "untouched" then
            log.info("%s: restore already under way (%s)", m.id, where); intact = intact + 1
          elseif why then bad[#bad + 1] = m.id .. ": " .. why; damaged[#damaged + 1] = m
          else intact = intact + 1; log.info("%s: restore point intact (%s files)", m.id, tostring((recs[m.id] or {}).files)) end
        end
        if #bad == 0 then return { damaged = {} } end
        if not st.drill_open then
          refuse("restore points are missing or damaged; nothing was touched:\n  " .. table.concat(bad, "\n  ") ..
                 "\nstart did not finish: re-run plans/start.lua to finish the restore point, then stop again.")
        end
        return rp.repair(st, damaged, bad, intact)
      end },

    { id = "swap", name = "swap every node's data for its restore point", irreversible = true, run = function(ctx)
        local st = ctx.state
        local rp = restore_point.of(st)
        local damaged = {}
        for _, id in ipairs(st.damaged or {}) do damaged[id] = true end
        local now_, later = {}, {}
        for _, m in ipairs(restore_point.takers(st)) do
          if damaged[m.id] then later[#later + 1] = m else now_[#now_ + 1] = m end
        end
        replica.pause_receivers(st.sites)
        local recs = st.restore_points or {}
        cluster.on_each("restoring", now_, function(m) rp.put_back(m, st.frozen, recs[m.id]); return true end)
        for _, m in ipairs(rp.after_put_back(st)) do later[#later + 1] = m end
        -- Damaged restore points, and a donor that moved: taken again from a restored node.
        if #later > 0 then restore_point.retake_from(now_[1], later, st.frozen) end
      end },

    { id = "restore_variables", name = "put back every node's global variables", run = function(ctx)
        local lost, closed = {}, {}
        for _, m in ipairs(ctx.state.sites) do
          local c = cluster.connect("target", m.host, m.port)
          replica.put_back_tls(c, m)
          local failed = variables.restore(c, m.variables or {})
          c:close()
          for _, f in ipairs(failed) do lost[#lost + 1] = m.id .. " " .. f end
          for _, f in ipairs(variables.closing(failed)) do closed[#closed + 1] = m.id .. " " .. f end
        end
        for _, l in ipairs(lost) do log.warn("could not set back %s", l) end
        -- What keeps the standby closed to writes cannot be left as a warning: a node open to
        -- direct connections takes writes meant for nowhere.
        if #closed > 0 then
          error("could not set back what keeps the standby closed to writes:\n  " .. table.concat(closed, "\n  ") ..
                "\nset it by hand (SET GLOBAL …) on those nodes, then re-run stop", 0)
        end
      end },

    { id = "reenable_replication", name = "re-enable the donor and replication inside the standby", run = function(ctx)
        local tr = tgt_router()
        -- enable re-points a node's replication at the master when it is not replicating from it.
        for _, n in ipairs(ctx.state.target_nodes) do
          if n.role ~= "primary" then router.enable(tr, n.name) end
        end
        for _, n in ipairs(ctx.state.target_nodes) do
          if n.role ~= "primary" then replica.wait_source(n, ctx.state.master.id, 30) end
        end
      end },

    -- --production-lost only: the standby master takes what the stream received after the restore
    -- point, the replicas take it from the master, and the run pauses here, the standby detached.
    -- A later stop without the choice, production back, resumes after this step.
    { id = "apply_stream", name = "apply the binary logs streamed from production (--production-lost)", always = true,
      run = function(ctx)
        if not ctx.choices.production_lost then return end
        local lost = binlog_stream.apply_lost(ctx.state)
        log.info("the standby is detached and read-only, ready to be promoted. Once production is back, run stop again " ..
                 "without --production-lost: it re-attaches the standby and proves replication")
        ctx.pause = "production lost; the standby is detached and read-only, holding " .. lost.held
        lost.at = clock.utc()
        return { production_lost = lost }
      end },

    { id = "check_gtids", name = "check GTIDs before re-attaching to production", run = function(ctx)
        production.check_gtids(ctx.state.target_nodes, ctx.state.frozen)
      end },

    { id = "reattach", name = "re-attach the standby to the source router", run = function(ctx)
        local src = cluster.router("source")
        local tr = tgt_router()
        -- add slave re-points the standby's replication through the standby router, which
        -- forwards replication statements only in slave-dbscale-mode.
        router.set_slave_mode(tr, true)
        router.add_standby(src, ctx.state.registration or router.assumed_registration(src, settings.current().target),
                           settings.current().target.router_password, function(h, p) return cluster.try_router("source", h, p) end)
        -- Back to what start recorded, not to a value of our choosing (a journal from before
        -- start recorded them: what stop always set).
        router.restore_options(tr, ctx.state.standby_options or { read_only = true, slave_mode = true })
        local m = ctx.state.master
        local c = cluster.connect("target", m.host, m.port)
        wait.wait_until("the standby master replicates from production", function()
          local st = server.replica_status(c)
          if st and st.io_running and st.sql_running then return true end
          return false, st and (st.last_io_error .. st.last_sql_error) or "no replica"
        end, 60)
        c:close()
      end },

    { id = "end_stream", name = "end the binary log stream and remove its files", run = function(ctx)
        local st = ctx.state
        if st.stream == false then return end
        local stream = st.stream or binlog_stream.where(st)
        binlog_stream.remove(stream)
        log.info("binary log stream on %s ended, %s removed", stream.host, stream.dir)
      end },

    { id = "prove_replication", name = "prove replication resumed", run = function(ctx)
        -- By default nothing is written on production: every standby node must reach production's
        -- executed GTID set, read now (after the re-attach), with its replication running.
        -- Whatever production executed after the restore point can only have come through the
        -- re-attached replication; when it executed nothing, replication is connected but its
        -- flow is unproven (site.replication_proof = marker writes a row there to prove it).
        local proof = site.get("replication_proof")
        if proof == "marker" then
          local token = production.write_marker()
          for _, n in ipairs(ctx.state.target_nodes) do
            local c = cluster.connect("target", n.host, n.port)
            wait.wait_until(("the marker written on production arrives on %s"):format(n.id), function()
              return production.read_marker(c) == token, "marker not there yet"
            end, 60)
            c:close()
          end
        end
        local pc, p = production.master_conn()
        local target = server.executed(pc)
        pc:close()
        local caught = gtid.subtract(target, ctx.state.frozen)
        replica.wait_caught_up(ctx.state.target_nodes, target)
        local n = caught ~= "" and gtid.count(caught) or 0
        local how
        if proof == "marker" then
          how = "flowing (the marker written on production arrived on every standby node)"
        elseif n > 0 then
          how = ("flowing (%d transaction(s) production executed since the restore point arrived on every standby node)"):format(n)
        else
          how = "connected, flow unproven (production executed nothing since the restore point)"
        end
        for _, m in ipairs(ctx.state.sites) do restore_point.drop_plugin(m) end
        log.info("every standby node holds production's executed GTID set (read on %s) with replication running: %s", p.id, how)
        log.info("the drill is over")
        redo.truncate() -- (a rehearsal records it: flashrun.redo)
        return { caught_up = caught, replication = how, replication_proof = proof }
      end },

    { id = "report", name = "write the drill report", run = function(ctx)
        local st = ctx.state
        local after = { nodes = {}, written = clock.utc(),
                        clusters = { source = router.id(settings.current().source.host, settings.current().source.port),
                                     target = router.id(settings.current().target.host, settings.current().target.port) } }
        for _, m in ipairs(st.sites) do
          local c, err = cluster.try_connect("target", m.host, m.port)
          if c then after.nodes[m.id] = { variables = variables.read(c) }; c:close()
          else after.nodes[m.id] = { error = tostring(err) } end
        end
        after.router_read_only = router.standby_options(tgt_router()).read_only
        -- This run is not over while it writes the report: it is shown as ending with it.
        local runs = drill_report.runs_now(redo.read().runs, ctx.plan, after.written)
        local rep = drill_report.build(st, runs, after)
        local json, md = drill_report.write(ctx.state_dir or "log", rep)
        log.info("drill report: %s (and %s)", md, json)
      end },
  },
}
