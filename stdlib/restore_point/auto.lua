-- restore_point.auto — strategy `auto`: reflink where every node's data filesystem takes a
-- reflink copy, local elsewhere. Decided at start, once every node is recorded, by a test copy
-- on each (prepare), journaled and printed (resolve); from then on the drill runs under the
-- strategy chosen. Until then it waits as both do: for every node.
local cluster = require "cluster"
local log = require "flashrun.log"
local common = require "restore_point.common"
local reflink = require "restore_point.reflink"
local S = common.strategy("auto")

-- Whether m's data filesystem takes a reflink copy, tried now (m.reflink, journaled with m).
function S.prepare(m, s) m.reflink = cluster.read(s, reflink.reflink_probe(m)) == "yes" end

-- auto takes nothing itself: start's record_nodes step resolves it (below) before any take.
function S.take() error("restore point strategy auto takes nothing: start resolves it to reflink or local first", 2) end

-- The strategy for these node models (prepared): reflink when every one can, else local.
function S.resolve(models)
  local no = {}
  for _, m in ipairs(models) do if not m.reflink then no[#no + 1] = m.id end end
  local name = #no == 0 and "reflink" or "local"
  log.info("restore point strategy auto: %s%s", name,
           #no == 0 and " (every node's data filesystem takes reflink copies)" or (" (no reflink copy on " .. table.concat(no, ", ") .. ")"))
  return name
end

-- verify: which strategy each node's filesystem allows, said once for the nodes that share it
-- (shared.fs: {text, [text] = {keys}}, summarized after every node).
function S.judge(_, x, shared)
  shared.fs = shared.fs or {}
  local what = ("datadir filesystem %s; strategy auto takes %s restore points"):format(x.fs.how, x.fs.cow and "reflink (if every node can)" or "local")
  if not shared.fs[what] then shared.fs[what] = {}; shared.fs[#shared.fs + 1] = what end
  table.insert(shared.fs[what], x.key)
end

-- info(keys, text) logs one line for the nodes of keys.
function S.summarize(info, shared)
  for _, what in ipairs(shared.fs or {}) do info(shared.fs[what], what) end
end

function S.space_kb(datadir_kb, fs) return fs.cow and reflink.space_kb(datadir_kb) or datadir_kb end
function S.copied_kb(datadir_kb, fs) return fs.cow and 0 or datadir_kb end

return S
