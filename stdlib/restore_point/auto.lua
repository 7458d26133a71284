-- restore_point.auto — strategy `auto`: reflink where every node's data filesystem takes a
-- reflink copy, local elsewhere. Decided at start, once every node is recorded, by a test copy
-- on each (prepare), journaled and printed (resolve); from then on the drill runs under the
-- strategy chosen. Until then it waits as both do: for every node.
local cluster = require "cluster"
local log = require "flashrun.log"
local common = require "restore_point.common"
local reflink = require "restore_point.reflink"
local S = common.strategy("auto")

S.settle = common.settle_all

-- Whether m's data filesystem takes a reflink copy, tried now (m.reflink, journaled with m).
function S.prepare(m, s) m.reflink = cluster.read(s, reflink.reflink_probe(m)) == "yes" end

-- The strategy for these node models (prepared): reflink when every one can, else local.
function S.resolve(models)
  local no = {}
  for _, m in ipairs(models) do if not m.reflink then no[#no + 1] = m.id end end
  local name = #no == 0 and "reflink" or "local"
  log.info("restore point strategy auto: %s%s", name,
           #no == 0 and " (every node's data filesystem takes reflink copies)" or (" (no reflink copy on " .. table.concat(no, ", ") .. ")"))
  return name
end

return S
