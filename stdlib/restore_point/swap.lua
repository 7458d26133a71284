-- restore_point.swap — put a node's restore point in place of its data, while the node is shut down.
-- The restore point directory becomes the datadir (a rename: same filesystem); every other
-- directory the server writes data to (binary and relay logs under the instance dir, see
-- node.data_dirs) is moved aside and recreated empty: the clone carries no binary or relay log,
-- the restored GTID state lives in the cloned mysql.gtid_executed, and old binary logs would
-- bring the drill's GTIDs back (a reflink restore point holds a copy of every directory, binary
-- logs included, which come back byte for byte). The node keeps its error log. Its previous data stays as
-- <dir>.flashback_bak until the node answers with the restore point's GTID set.
local shell = require "shell"
local cluster = require "cluster"
local M = {}

local Q = shell.quote

-- The directories swapped for node m: { {node =, bak =, src =}, ... }, the datadir first. src is
-- what takes the node dir's place: a cloned restore point is the datadir (other dirs start
-- empty: src nil); a reflink one holds a copy of every dir (restore_point.reflink.reflink_dirs).
function M.dirs(m, copied_logs)
  local out = {}
  for _, d in ipairs(m.data_dirs or { m.datadir }) do
    local src = (d == m.datadir) and m.restore_point_dir or nil
    if copied_logs then src = m.restore_point_dir .. d:sub(#m.instance_dir + 1) end
    out[#out + 1] = { node = d, bak = d .. ".flashback_bak", src = src }
  end
  return out
end

-- The remote script that swaps node m's data for its restore point m.restore_point_dir (a
-- reflink one when `reflink`). Safe to run again at any point: each directory is untouched (node
-- data, restore point, no backup), half-swapped (backup, restore point, no node data) or swapped
-- (backup and node data, restore point moved in). Every path it touches passes shell.guard.
-- Pure: unit-tested.
function M.script(m, copied_logs)
  local g = function(p) return Q(shell.guard(p, m.data_root)) end
  local lines = { "set -e" }
  for _, d in ipairs(M.dirs(m, copied_logs)) do
    lines[#lines + 1] = ("if [ ! -e %s ]; then mv -- %s %s; fi"):format(g(d.bak), g(d.node), g(d.bak))
    if d.src then
      lines[#lines + 1] = ("if [ ! -e %s ]; then mv -- %s %s; fi"):format(g(d.node), g(d.src), g(d.node))
    else
      lines[#lines + 1] = ("if [ ! -e %s ]; then mkdir -- %s; fi"):format(g(d.node), g(d.node))
    end
  end
  -- A reflink restore point is a directory of copies, empty once they have moved in.
  if copied_logs then lines[#lines + 1] = ("if [ -e %s ]; then rmdir -- %s; fi"):format(g(m.restore_point_dir), g(m.restore_point_dir)) end
  -- The error log comes back from its backup (history kept, owned by the server's user;
  -- mysqld_safe running as root would otherwise create it root-owned).
  for _, d in ipairs(M.dirs(m)) do
    if m.log_error and shell.is_under(m.log_error, d.node) then
      local rel = m.log_error:sub(#d.node + 1)
      lines[#lines + 1] = ("if [ -e %s%s ] && [ ! -e %s ]; then cp -p -- %s%s %s; fi")
        :format(g(d.bak), Q(rel), Q(m.log_error), g(d.bak), Q(rel), Q(m.log_error))
    end
  end
  for _, d in ipairs(M.dirs(m)) do lines[#lines + 1] = ("chown -R %s: -- %s"):format(Q(m.os_user), g(d.node)) end
  return table.concat(lines, "\n")
end

-- The remote script that removes node m's backups once it answered with the restore point. Pure.
function M.cleanup_script(m)
  local rm = {}
  for _, d in ipairs(M.dirs(m)) do rm[#rm + 1] = "rm -rf -- " .. Q(shell.guard(d.bak, m.data_root)) end
  return table.concat(rm, " && ")
end

-- Where node m stands: "untouched" (restore point in place, no backup), "half" (backup and
-- restore point: a swap was interrupted), "swapped" (backup, restore point moved in) or "done"
-- (neither: restored and cleaned up, or never taken).
function M.progress(s, m)
  local probe = ("b=; r=; [ -e %s ] && b=1; [ -e %s ] && r=1; "
    .. "if [ -n \"$b\" ] && [ -n \"$r\" ]; then echo half; elif [ -n \"$b\" ]; then echo swapped; "
    .. "elif [ -n \"$r\" ]; then echo untouched; else echo done; fi")
    :format(Q(m.datadir .. ".flashback_bak"), Q(m.restore_point_dir))
  -- Unread is not a state: taken for one, a node would be swapped (or passed over) blind.
  local where, err = cluster.read(s, probe)
  if where ~= "untouched" and where ~= "half" and where ~= "swapped" and where ~= "done" then
    error(("%s: cannot tell how far its restore went: %s"):format(m.id, tostring(where or err)), 0)
  end
  return where
end

function M.run(s, m, copied_logs) cluster.run(s, M.script(m, copied_logs)) end
function M.cleanup(s, m) cluster.run(s, M.cleanup_script(m)) end

return M
