-- restore_point.reflink — strategy `reflink`: every node, at once, is shut down cleanly, its data
-- directories (datadir, binary and relay logs: all the swap puts back) are copied with
-- `cp --reflink=always` (blocks shared, not copied: XFS with reflink, btrfs) and it is started
-- again without replication; its variables and replica threads are put back as recorded. The
-- copy takes constant time and space; what the drill rewrites is what the filesystem then holds
-- twice. The interface is restore_point's (init.lua).
local shell = require "shell"
local cluster = require "cluster"
local replica = require "replica"
local mysqld = require "mysqld"
local site = require "site"
local log = require "flashrun.log"
local now = require("flashrun.sched").now
local rehearsal = require "flashrun.rehearsal"
local common = require "restore_point.common"
local manifest = require "restore_point.manifest"
local progress = require "flashrun.progress"
local clone_progress = require "clone_progress"
local service = require "restore_point.service"
local S = common.strategy("reflink")

local Q = shell.quote


-- The directories copied for a reflink restore point: every data directory of m, each under the
-- restore point by its path relative to the instance dir. { {node =, copy =}, ... }. Pure.
function S.reflink_dirs(m)
  local out = {}
  for _, d in ipairs(m.data_dirs or { m.datadir }) do
    assert(shell.is_under(d, m.instance_dir), "data dir outside the instance dir")
    out[#out + 1] = { node = d, copy = m.restore_point_dir .. d:sub(#m.instance_dir + 1) }
  end
  return out
end

-- The remote script that takes m's reflink restore point while m's server is down: a fresh
-- restore point dir, every data dir copied into it sharing its blocks (`--reflink=always`
-- fails rather than copying bytes), without the error log (stop keeps the node's current one).
-- It holds a flock on the instance dir: the copy of a run killed before its reply goes on on the
-- node, and a re-run's copy must not interleave with it (rm -rf under a running cp fails, and cp
-- -a into a directory the other cp created nests the copy inside it). Pure.
function S.reflink_script(m)
  local g = function(p) return Q(shell.guard(p, m.data_root)) end
  local lines = { "set -e", "exec 9<" .. g(m.instance_dir), "if command -v flock >/dev/null; then flock 9; fi",
                  "rm -rf -- " .. g(m.restore_point_dir), "mkdir -- " .. g(m.restore_point_dir) }
  for _, d in ipairs(S.reflink_dirs(m)) do
    lines[#lines + 1] = ("mkdir -p -- %s && cp -a --reflink=always -- %s %s"):format(
      Q(shell.dirname(d.copy)), g(d.node), g(d.copy))
  end
  for _, d in ipairs(S.reflink_dirs(m)) do
    if m.log_error and shell.is_under(m.log_error, d.node) then
      lines[#lines + 1] = "rm -f -- " .. Q(d.copy .. m.log_error:sub(#d.node + 1))
    end
  end
  lines[#lines + 1] = ("chown %s: -- %s"):format(Q(m.os_user), g(m.restore_point_dir))
  return table.concat(lines, "\n")
end

-- The remote probe that says whether m's instance dir takes a reflink copy: a copy of a small
-- file of the datadir, removed at once. Pure.
function S.reflink_probe(m)
  local t = Q(m.instance_dir .. "/.flashrun-reflink-probe")
  -- A regular file of the datadir: its first entry by name may be a directory (#clone, left by
  -- any clone, sorts first), which cp refuses whatever the filesystem.
  return ("f=$(find %s -maxdepth 1 -type f -print -quit 2>/dev/null); if [ -n \"$f\" ] && cp --reflink=always -- \"$f\" %s 2>/dev/null; then echo yes; else echo no; fi; rm -f -- %s")
    :format(Q(m.datadir), t, t)
end

-- Takes m's reflink restore point: clean shutdown, copy, back in service. Returns the record.
local function take_one(m, gtids)
  local s = cluster.ssh("target", m.host)
  local t0 = now()
  mysqld.shutdown(s, m)
  local t1 = now()
  -- (its size so far, no total: measuring the datadir first would keep the node down longer, for a
  -- copy that shares blocks and takes a fraction of a second)
  progress.during({ node = m.id, task = "reflink copy", unit = "bytes" }, function() cluster.run(s, S.reflink_script(m)) end,
                  clone_progress.copy_sampler(m, m.restore_point_dir, nil, "copy"))
  local t2 = now()
  -- Started on a full filesystem, mysqld would retry its first page write for ever (every block
  -- is shared with the copy): it is left down, and the rollback removes the copy first.
  local hint = rehearsal.check(m.id .. "'s filesystem has room for mysqld to start", function() return service.full_hint(m) end)
  if hint then error(("%s: its filesystem filled up while it was down for its copy: left down\n%s"):format(m.id, hint), 0) end
  local man = manifest.taken(s, m)
  service.back_in_service(m, true)
  log.info("%s: restore point %s (reflink): %d files, %.1f MiB shared; shutdown %.2f s, copy %.2f s, restart %.2f s",
           m.id, m.restore_point_dir, man.files, man.bytes / 2 ^ 20, t1 - t0, t2 - t1, now() - t2)
  -- The filesystem's use right after the restore point: the restore point shares every block the
  -- drill does not rewrite, so what the drill's changes hold later is the growth from here
  -- (status shows it). KiB, df's "Used" (POSIX -P format).
  -- (nil when df cannot be read: status then shows no growth)
  local used = tonumber((cluster.read(s, "df -Pk -- " .. Q(m.instance_dir) .. " | awk 'NR == 2 { print $3 }'")))
  return { dir = m.restore_point_dir, digest = man.digest, files = man.files, bytes = man.bytes, gtids = gtids,
           seconds = now() - t0, reflink = true, fs_used_kb = used }
end

function S.take(st, nodes)
  local gtids = st.frozen
  -- (every node shuts down for its copy: the replicas stop fetching first; back_in_service
  -- starts their threads again as start recorded them)
  replica.pause_receivers(nodes)
  local recs = cluster.on_each("taking restore points", nodes, function(m) return take_one(m, gtids) end)
  local out = {}
  for i, m in ipairs(nodes) do out[m.id] = recs[i] end
  return out
end

-- The copy restarted each node: an interrupted one may be left down.
function S.undo(m, st)
  common.undo(m, st)
  service.back_in_service(m)
end

-- verify: the datadir's filesystem must take reflink copies (fs: {cow = bool, how = text},
-- read by checks from df and xfs_info).
function S.judge(say, x) say("disk", x.fs.cow, "datadir filesystem " .. x.fs.how) end

-- A copy-on-write restore point shares every block until the drill changes it: it needs room
-- only for what the drill writes, a share of the datadir (site.reflink_margin_pct).
function S.space_kb(datadir_kb) return datadir_kb * site.num("reflink_margin_pct") // 100 end
-- (a reflink copy shares the blocks: it copies none)
function S.copied_kb() return 0 end

-- A copy of every data directory, binary and relay logs included, is put back as it is.
function S.put_back(m, frozen) return common.put_back(m, frozen, true) end

-- (A damaged reflink restore point is handled as in local, the default: taken again by a clone.)

return S
