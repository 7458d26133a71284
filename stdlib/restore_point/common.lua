-- restore_point.common — what the strategies share: a new strategy's defaults (a strategy
-- overrides what it does differently), waiting for the standby to hold a restore point, putting a
-- node back to its restore point, and taking a damaged one again from a restored node.
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "flashrun.wait"
local mysqld = require "mysqld"
local log = require "flashrun.log"
local now = require("flashrun.sched").now
local gtid = require "flashrun.gtid"
local refuse = require("flashrun.errors").refuse
local rehearsal = require "flashrun.rehearsal"
local clone = require "restore_point.clone"
local manifest = require "restore_point.manifest"
local swap = require "restore_point.swap"
local progress = require "flashrun.progress"
local clone_progress = require "clone_progress"
local M = {}

-- The standby master's executed GTID set now, the nodes that hold it and the ids of those that
-- do not (one that does not answer lags).
function M.holders(nodes, mc)
  local frozen = server.executed(mc)
  local held, lagging = {}, {}
  for _, n in ipairs(nodes) do
    local c = cluster.try_connect("target", n.host, n.port)
    local ex = c and server.executed(c)
    if c then c:close() end
    if ex and gtid.equal(ex, frozen) then held[#held + 1] = n else lagging[#lagging + 1] = n.id end
  end
  return frozen, held, lagging
end

M.SETTLED = "the standby nodes applied everything the master executed"

-- Waits until every node of `nodes` holds what the standby master (on mc) executed, replication
-- stopped; returns that GTID set, the restore point. (Every node takes its own restore point.)
function M.settle_all(nodes, mc)
  local frozen
  wait.wait_until(M.SETTLED, function()
    local _, lagging
    frozen, _, lagging = M.holders(nodes, mc)
    return #lagging == 0, "not caught up yet: " .. table.concat(lagging, ", ")
  end, site.num("apply_timeout"))
  return frozen
end

-- Whether node model m is the drill's donor (st.donor, journaled by start; false without one).
-- (A journal an earlier flashrun wrote also says "donor" as the donor's role: the id decides.)
function M.is_donor(st, m) return st.donor ~= nil and st.donor ~= false and st.donor.id == m.id end

-- Removes m's restore point (start's rollback), but the donor's, which is its data.
function M.undo(m, st)
  if not M.is_donor(st, m) then clone.remove(m) end
end

-- Shuts node m down, swaps its data for its restore point, starts it without replication and
-- checks it answers with the restore point's GTID set `frozen`; then removes its old data.
-- copied_logs: the restore point is a copy of every data directory, relay and binary logs
-- included (reflink's), not a clone of the datadir. Safe to run again at any point (the swap
-- script is idempotent; a node already started is only waited for).
function M.put_back(m, frozen, copied_logs)
  local s = cluster.ssh("target", m.host)
  local where = swap.progress(s, m)
  -- A node whose data was swapped already may be starting (an interrupted run started it): it is
  -- waited for, never shut down again.
  local down = false
  if where == "untouched" or where == "half" then mysqld.shutdown(s, m, true); down = true end
  if where ~= "done" then swap.run(s, m, copied_logs) end
  local t0 = now()
  local conn = mysqld.start(s, m, down)
  if conn then
    local ex = server.executed(conn)
    -- A clone carries the replication metadata but not the relay logs it names: the applier
    -- cannot start from it. RESET REPLICA keeps the connection settings (source, account,
    -- auto-position) and starts the relay log afresh; GTIDs say where to resume. (A reflink
    -- restore point has its relay logs.)
    if where ~= "done" and m.replication and not copied_logs then
      assert(conn:exec(server.sql(conn, "stop_replica")))
      assert(conn:exec(server.sql(conn, "reset_replica")))
    end
    conn:close()
    if where ~= "done" then
      rehearsal.check(m.id .. " answers with the restore point's GTID set", function()
        if not gtid.equal(ex, frozen) then
          error(("%s restarted with GTID set %s, expected the restore point %s; its previous data is kept as *.flashback_bak")
                :format(m.id, ex, frozen), 0)
        end
      end)
    end
  end
  if where ~= "done" then
    progress.during({ node = m.id, task = "removal", unit = "bytes" }, function() swap.cleanup(s, m) end,
                    clone_progress.removal_sampler(m, m.datadir .. ".flashback_bak", "the drill's data"))
    log.info("%s restored to the restore point (answered %.1f s after its start)", m.id, now() - t0)
  end
end

-- Takes the restore point of `later` (damaged ones, or a donor that moved) again from `peer`, a
-- node already put back (it holds exactly the restore point and runs without replication), then
-- puts each back. A node an interrupted run was cloning or swapping already goes on from there.
function M.retake_from(peer, later, frozen)
  for _, m in ipairs(later) do
    local s = cluster.ssh("target", m.host)
    local where = swap.progress(s, m)
    -- (half-swapped or swapped: an interrupted run cloned it already; restore goes on)
    if where == "untouched" or where == "done" then
      local c = cluster.connect("target", m.host, m.port)
      c:exec(server.sql(c, "stop_replica"))
      clone.ensure_plugin(c, m.id)
      c:close()
      clone.from(peer, { m }, frozen)
    end
  end
  cluster.on_each("restoring", later, function(m) M.put_back(m, frozen, false); return true end)
end

-- check_restore_points (the default; donor's differs): a damaged restore point is taken again after
-- the swap from a restored node (retake_from); refused when none is intact. bad: "id: why"
-- texts; damaged: their node models; intact: how many are. Returns the journal's update.
function M.repair_from_peer(_, damaged, bad, intact)
  if intact == 0 then
    refuse("no restore point is intact; nothing was touched:\n  " .. table.concat(bad, "\n  ") ..
           "\nThe drill's data cannot be thrown away automatically: rebuild the standby from production by hand.")
  end
  local ids = {}
  for i, m in ipairs(damaged) do ids[#ids + 1] = m.id; log.warn("%s; it will be cloned from a restored node", bad[i]) end
  return { damaged = ids }
end

-- A strategy's defaults (the interface: init.lua): no donor to freeze, nothing to do after the
-- swap, the restore point intact as long as its manifest matches.
function M.strategy(name)
  local S = { name = name }
  function S.prepare() end
  function S.resolve() return name end
  S.settle = M.settle_all
  function S.freeze() end
  function S.thaw() end
  S.undo = M.undo
  function S.intact(m, rec) return manifest.damage(m, rec) end
  S.repair = M.repair_from_peer
  -- (a clone of the datadir: rec is the restore point's record)
  function S.put_back(m, frozen) return M.put_back(m, frozen, false) end
  function S.after_put_back() return {} end
  function S.describe(st) return st.strategy end
  -- verify (checks), for each standby node: S.measure(conn) what it reads there (in parallel
  -- with the other nodes); S.judge(say, x, shared) its judgements of the node, x = {key, host,
  -- fs = {cow = bool, how = text}, facts = measure's}, each a check line say(cat, ok, text);
  -- shared: one table for every node; S.summarize(info, shared) once after every node (info(keys,
  -- text): one line for those nodes); S.space_kb(datadir_kb, fs) the KiB its restore point takes
  -- on the node's filesystem, S.copied_kb(datadir_kb, fs) the KiB it copies (reads and writes).
  function S.measure() return nil end
  function S.judge() end
  function S.summarize() end
  function S.space_kb(datadir_kb) return datadir_kb end
  function S.copied_kb(datadir_kb) return datadir_kb end
  return S
end

return M
