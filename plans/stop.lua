-- stop — end a drill: put every standby node back to the restore point taken by start, then make
-- the standby replicate from production again and prove it. Re-running stop after an
-- interruption finishes the job (each step is journaled, each node's swap is idempotent).
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local side = require "side"
local wait = require "wait"
local shell = require "shell"

local function tgt_router() return cluster.router("target") end

local function targets(ctx) return (side.split(ctx.state.sites)) end

local function marker_schema()
  local s = site.get("marker_schema")
  assert(shell.is_name(s) and not s:find("[%.%-]"), "site.marker_schema must be a plain name")
  return s
end

return {
  name = "stop",
  description = "put the standby back to the restore point and make it replicate from production again",
  needs = { "source", "target" },
  recovery = [[
stop did not finish. Re-run the same stop command: it resumes from the journal. Nodes whose swap
was interrupted keep their previous data as <dir>.flashback_bak next to the datadir until they
answer with the restore point's GTID set.]],
  steps = {
    { id = "read_journal", name = "read the drill from the journal", always = true, run = function(ctx)
        site.check_settings()
        local st = ctx.state
        if type(st.sites) ~= "table" or not st.frozen or not st.donor then
          refuse("the journal records no drill started by plans/start.lua (nothing to stop)")
        end
        log.info("drill started %s; donor %s; restore point %s", tostring(st.drill and st.drill.started), st.donor.id, st.frozen)
      end },

    { id = "close", name = "close the standby to writes", run = function()
        -- Closed for the swap whatever it was before start; reattach puts back the recorded value.
        router.set_read_only(tgt_router(), true)
      end },

    { id = "check_restore_points", name = "check every side instance holds the restore point", run = function(ctx)
        local st, bad, lost = ctx.state, {}, {}
        for _, m in ipairs(targets(ctx)) do
          local ok, why = side.holds(m, st.frozen)
          if not ok and not side.restore_begun(m) and side.ensure_up(m) then ok, why = side.holds(m, st.frozen) end
          if ok then log.info("%s: side instance on port %d holds the restore point", m.id, m.side_port)
          elseif side.restore_begun(m) then log.info("%s: restore already under way (resumed stop)", m.id)
          else bad[#bad + 1] = m.id .. ": " .. tostring(why); lost[#lost + 1] = m end
        end
        if #bad == 0 then return end
        if not st.drill_open then
          refuse("side instances do not hold the restore point; nothing was touched:\n  " .. table.concat(bad, "\n  ") ..
                 "\nstart did not finish: re-run plans/start.lua to finish the restore point, then stop again.")
        end
        -- The donor was frozen at the restore point for the whole drill: a lost side instance is
        -- cloned from it again, as start did.
        local dc = cluster.connect("target", st.donor.host, st.donor.port)
        local held = server.executed(dc)
        dc:close()
        if not gtid.equal(held, st.frozen) and not dry_run then
          refuse(("side instances do not hold the restore point, and the donor %s no longer does either (it holds %s); "
                  .. "nothing was touched:\n  %s\nThe drill's data cannot be thrown away automatically: rebuild "
                  .. "these nodes from production by hand."):format(st.donor.id, held, table.concat(bad, "\n  ")))
        end
        for _, b in ipairs(bad) do log.warn("%s; rebuilding it from donor %s", b, st.donor.id) end
        side.build(lost, st.donor, st.frozen, select(2, side.split(st.sites)))
      end },

    { id = "swap", name = "swap every node's data for its restore point", irreversible = true, run = function(ctx)
        local t = targets(ctx)
        -- Every node and side instance is down before any node starts again.
        cluster.on_each("pausing replication", t, function(m) side.stop_fetching(m); return true end)
        cluster.on_each("shutting down", t, function(m) side.stop_node(m); return true end)
        cluster.on_each("restoring", t, function(m) side.swap_and_start(m, ctx.state.frozen); return true end)
      end },

    { id = "reenable_replication", name = "re-enable the donor and replication inside the standby", run = function(ctx)
        local tr = tgt_router()
        -- enable re-points a node's replication at the master when it is not replicating from it.
        for _, n in ipairs(ctx.state.target_nodes) do
          if n.role ~= "primary" then router.enable(tr, n.name) end
        end
        local m = ctx.state.master
        for _, n in ipairs(ctx.state.target_nodes) do
          if n.role ~= "primary" then
            local c = cluster.connect("target", n.host, n.port)
            wait.wait_until(n.id .. " replicates from the standby master", function()
              local st = server.replica_status(c)
              if st and st.io_running and st.sql_running and router.id(st.source_host, st.source_port) == m.id then return true end
              return false, st and ("io=" .. tostring(st.io_running) .. " sql=" .. tostring(st.sql_running) .. " " .. st.last_io_error .. st.last_sql_error) or "no replica"
            end, 30)
            c:close()
          end
        end
      end },

    { id = "check_gtids", name = "check GTIDs before re-attaching to production", run = function(ctx)
        local topo = cluster.topology(cluster.router("source"), tgt_router())
        local sp = topo.source.primary
        local sc = cluster.connect("source", sp.host, sp.port)
        local src_exec, src_purged = server.executed(sc), server.purged(sc)
        local bad = {}
        for _, n in ipairs(ctx.state.target_nodes) do
          local ex
          if dry_run then
            -- The swap was only rehearsed: judge the GTID set every node will have after it.
            ex = ctx.state.frozen
          else
            local c = cluster.connect("target", n.host, n.port)
            ex = server.executed(c)
            c:close()
          end
          local errant = gtid.subtract(ex, src_exec)
          if errant ~= "" then bad[#bad + 1] = ("%s carries GTIDs production lacks: %s"):format(n.id, errant) end
          if n.role == "primary" then
            local missing = gtid.subtract(src_purged, ex)
            if missing ~= "" then
              bad[#bad + 1] = ("production purged binlogs the standby master %s still needs: %s"):format(n.id, missing)
            end
          end
        end
        if #bad > 0 then refuse("cannot re-attach the standby:\n  " .. table.concat(bad, "\n  ")) end
      end },

    { id = "reattach", name = "re-attach the standby to the source router", run = function(ctx)
        local src = cluster.router("source")
        local tr = tgt_router()
        -- add slave re-points the standby's replication through the standby router, which
        -- forwards replication statements only in slave-dbscale-mode.
        router.set_slave_mode(tr, true)
        router.add_standby(src, ctx.state.registration or router.assumed_registration(src, config.target),
                           config.target.router_password, function(h, p) return cluster.try_connect("source", h, p) end)
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

    { id = "prove_replication", name = "prove replication resumed", run = function(ctx)
        local schema = marker_schema()
        local token = ("%s-%d"):format(os.date("!%Y%m%dT%H%M%S"), math.random(1, 1 << 30))
        local src = cluster.router("source")
        for _, stmt in ipairs({
          ("CREATE DATABASE IF NOT EXISTS `%s`"):format(schema),
          ("CREATE TABLE IF NOT EXISTS `%s`.drill_marker (id INT PRIMARY KEY, token VARCHAR(64) NOT NULL, at DATETIME(6) NOT NULL)"):format(schema),
          ("REPLACE INTO `%s`.drill_marker VALUES (1, %s, NOW(6))"):format(schema, shell.sql_string(token)),
        }) do
          local n, err = src:exec(stmt)
          if n == nil then error("writing the replication marker on the source failed: " .. tostring(err), 0) end
        end
        for _, n in ipairs(ctx.state.target_nodes) do
          local c = cluster.connect("target", n.host, n.port)
          wait.wait_until(("the marker written on production arrives on %s"):format(n.id), function()
            local rows = c:query(("SELECT token FROM `%s`.drill_marker WHERE id = 1"):format(schema))
            local v = rows and rows[1] and server.value(rows[1].token)
            return v == token, "marker not there yet"
          end, 60)
          c:close()
        end
        log.info("replication from production into every standby node is proven; the drill is over")
        if not dry_run then redo.truncate() end
      end },
  },
}
