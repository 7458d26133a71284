-- restore_point.local — strategy `local`: every standby node clones its own data into its restore
-- point directory (CLONE LOCAL DATA DIRECTORY, 8.0.17+), all nodes at once, while they run; no
-- second mysqld, no node taken out of service. The interface is restore_point's (init.lua).
local cluster = require "cluster"
local clone = require "restore_point.clone"
local common = require "restore_point.common"
local S = common.strategy("local")

function S.take(st, nodes)
  local gtids = st.frozen
  local recs = cluster.on_each("taking restore points", nodes, function(m)
    return clone.clone_into(m, clone.clone_local_sql(m.restore_point_dir), gtids)
  end)
  local out = {}
  for i, m in ipairs(nodes) do out[m.id] = recs[i] end
  return out
end

-- (Every node clones itself, so every node must hold the restore point's GTID set: the default
-- settle. A damaged restore point is taken again after the swap by a clone from a restored node,
-- which holds exactly the restore point: the default repair.)

return S
