-- restore_point — the standby's restore point: every standby node's data as it was at one GTID
-- set (the restore point), taken by start before the drill opens the standby and put back by stop.
-- On each node it is a directory next to its datadir, on its filesystem (site.restore_point_dir),
-- that stop swaps in for the node's data (restore_point.swap).
--
-- A strategy takes it (site.restore_point), each a module beside this one:
--   local    every node clones its own data, all at once (restore_point/local.lua);
--   donor    a replica frozen at the restore point is cloned into every other node, one at a
--            time (restore_point/donor.lua);
--   reflink  every node, shut down cleanly, is copied with cp --reflink=always, all at once
--            (restore_point/reflink.lua);
--   auto     reflink where every node's filesystem takes it, else local (restore_point/auto.lua).
-- Every strategy has this interface (defaults in restore_point/common.lua); start, stop, verify
-- and status call it and never compare a strategy's name. Node models are node.discover's (m);
-- st is the journal's state (st.frozen: the restore point's GTID set; st.donor; st.sites: the
-- node models; st.restore_points: id -> record).
--   S.name                        the schema word
--   S.settle(nodes, mc)           waits until the standby holds a restore point it can take;
--                                 returns its GTID set and the donor (or nil). nodes:
--                                 st.target_nodes; mc: a connection to the standby master
--   S.freeze(st) / S.thaw(st)     holds the donor at the restore point / lets it go again
--                                 (start's rollback; stop re-enables every node itself)
--   S.prepare(m, s) / S.resolve(models)   records what the choice needs / the strategy chosen
--   S.take(st, nodes)             takes the restore point of `nodes`; returns id -> record
--                                 {dir, digest, files, bytes, gtids, seconds[, reflink, fs_used_kb]}
--   S.undo(m, st)                 start's rollback of m's restore point
--   S.intact(m, rec)              nil, or why m's restore point is damaged
--   S.repair(st, damaged, bad, intact)  stop, before the swap: what to do about damaged ones;
--                                 returns the journal's update
--   S.put_back(m, frozen, rec)    stop: m's data swapped for its restore point, m started
--   S.after_put_back(st)          nodes to take again from a restored node (retake_from)
--   S.describe(st)                the strategy in words, for logs and status
--   S.measure(conn), S.judge(say, x, shared), S.summarize(info, shared), S.space_kb(kb, fs),
--   S.copied_kb(kb, fs)           verify's questions (stdlib/checks/disk.lua asks them; see
--                                 common.strategy)
-- Every strategy's restore point is a directory that stop swaps in (restore_point.swap): one
-- that is not (a volume snapshot) overrides take, intact, put_back and undo.
-- Adding a strategy is one module here and one word in the schema (runtime/schema.c,
-- site.restore_point): docs/plans.md, "Restore point strategies".
local site = require "site"
local settings = require "flashrun.settings"
local clone = require "restore_point.clone"
local common = require "restore_point.common"
local M = {}

-- What the statements below need on the standby nodes (privileges.lua). local and donor clone
-- at start (fail_for: missing refuses under these strategies); every strategy clones in stop
-- when a restore point was damaged (taken again from the donor or a restored node), so under
-- the others a missing one is a warning: that repair would fail.
M.PRIVILEGES = {
  { on = "standby nodes", any = { "BACKUP_ADMIN" }, plans = "start stop", fail_for = "local donor auto",
    stmt = "CLONE LOCAL DATA DIRECTORY; serving CLONE INSTANCE FROM as the donor" },
  { on = "standby nodes", any = { "CLONE_ADMIN" }, plans = "start stop", fail_for = "donor",
    stmt = "CLONE INSTANCE FROM (donor strategy; in stop, a damaged restore point taken again)" },
  { on = "standby nodes", any = { "INSERT" }, object = "mysql.plugin", plans = "start",
    stmt = "INSTALL PLUGIN clone (when it is not active)" },
  { on = "standby nodes", any = { "DELETE" }, object = "mysql.plugin", plans = "start stop",
    stmt = "UNINSTALL PLUGIN clone (where start installed it)" },
  { on = "standby nodes", any = { "SELECT" }, object = "performance_schema.clone_progress", plans = "start stop", severity = "warn",
    stmt = "a clone's progress (clone_progress's rows; without it, the restore point's size on disk)" },
}

-- The strategy module of a schema word (site.restore_point; the journal's `strategy`): a module
-- of this directory that says it is one (S.name, from common.strategy). The schema lists the
-- words a DBA may set; a journal is checked here.
-- What a strategy must define itself (common.strategy gives every other function a default).
M.REQUIRED = { "take" }

local function strategy(word, whence)
  local ok, S = pcall(require, "restore_point." .. tostring(word))
  if ok and type(S) == "table" and S.name == word then
    for _, f in ipairs(M.REQUIRED) do
      if type(S[f]) ~= "function" then error(("restore point strategy %s defines no %s (restore_point/%s.lua)"):format(word, f, word), 0) end
    end
    return S
  end
  if ok or tostring(S):find("not found", 1, true) then
    error(("%s names no restore point strategy: '%s' (expected one of %s)"):format(whence, tostring(word),
      table.concat(settings.KEYS.site.restore_point.words, ", ")), 0)
  end
  error(S, 0)
end

-- The strategy asked for (checked when the configuration loads).
function M.asked() return strategy(site.get("restore_point"), "site.restore_point") end

-- The strategy of the drill in st (journaled by start).
function M.of(st) return strategy(st.strategy, "the journal") end

M.is_donor = common.is_donor

-- The node models that take a restore point: every one, but the donor (its data is one).
function M.takers(st)
  local t = {}
  for _, m in ipairs(st.sites) do if not M.is_donor(st, m) then t[#t + 1] = m end end
  return t
end

M.retake_from = common.retake_from
M.ensure_plugin = clone.ensure_plugin
M.drop_plugin = clone.drop_plugin

return M
