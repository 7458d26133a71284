-- checks/disk.lua — disk and restore point: the use of every datadir's filesystem; on a standby
-- node, whether start and stop understand its layout, where its restore point would go, what
-- the clone plugin needs there, the filesystem a copy-on-write restore point needs and the
-- room a restore point takes. Measured first (M.measure, on all nodes at once), judged after.
--
-- What depends on the restore point strategy (site.restore_point) is the strategy's to measure
-- and judge, through its interface (stdlib/restore_point/: measure, judge, summarize, space_kb,
-- copied_kb): this module never names a strategy.
local log = require "flashrun.log"
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local node = require "node"
local result = require "checks.result"
local clone = require "checks.clone"
local restore_point = require "restore_point"
local names = require("checks.summary").names
local judge = result.judge
local M = {}

-- ---- measuring -------------------------------------------------------------------------------

-- One round trip per node (a handshake-free ssh command still costs a tenth of a second on a
-- loaded host): df and du of the datadir, and for a standby node where its restore point would
-- go. probe(s, datadir, m, plugin_dir) -> {disk = {used_pct, avail_kb, datadir_kb} or nil, rp =
-- text, err}. s: the node's ssh session; m: its site model (nil on a source node).
local SEP = "--flashrun-probe--"
function M.probe(s, datadir, m, plugin_dir)
  local q = shell.quote(datadir)
  local parts = {
    "df -Pk " .. q .. " | awk 'NR==2 {print $4, $5}'",
    -- What a clone copies: not the binary and relay logs, the redo or the temporary files.
    "du -sk --exclude='#innodb_redo' --exclude='ib_logfile*' --exclude='#innodb_temp' --exclude=ibtmp1 "
      .. "--exclude='*-bin.[0-9]*' --exclude='*relay*' --exclude='binlog.[0-9]*' " .. q .. " 2>/dev/null | awk '{print $1}'",
  }
  if m then
    local rp, parent = shell.quote(m.restore_point_dir), shell.quote(shell.dirname(m.restore_point_dir))
    -- exists? same filesystem as the datadir? parent writable by the mysqld user? plugin file?
    parts[#parts + 1] = ("if [ -e %s ]; then echo exists; else echo absent; fi; "
      .. "[ \"$(stat -c %%d %s 2>/dev/null)\" = \"$(stat -c %%d %s)\" ] && echo samefs || echo otherfs; "
      .. "if [ \"$(id -u)\" = 0 ]; then runuser -u %s -- test -w %s && echo writable || echo readonly; "
      .. "else test -w %s && echo writable || echo readonly; fi; "
      .. "test -f %s && echo plugin || echo noplugin; "
      -- copy-on-write: the filesystem type, and XFS's reflink flag when xfs_info is there
      .. "echo fs=$(stat -f -c %%T %s); if command -v xfs_info >/dev/null; then xfs_info %s 2>/dev/null | grep -o 'reflink=[01]'; fi")
      :format(rp, parent, q, shell.quote(m.os_user), parent, parent, shell.quote((plugin_dir or "/nonexistent/") .. "/mysql_clone.so"), q, q)
  end
  -- Ends with true: a last part's failure (grep finding no reflink= where xfs_info is installed
  -- but the datadir is not XFS) must not throw away every other part's answer.
  local out, err = cluster.read(s, table.concat(parts, "; echo " .. SEP .. "; ") .. "; true")
  out = out or ""
  local sec = {}
  for chunk in (out .. "\n" .. SEP):gmatch("(.-)\n?" .. SEP:gsub("%-", "%%-")) do sec[#sec + 1] = chunk end
  local avail, pct = (sec[1] or ""):match("(%d+)%s+(%d+)%%")
  local r = { rp = sec[3] or "", err = err }
  if avail then
    -- nil when du could not size the datadir: a restore point's space is then not judged as fits.
    r.disk = { used_pct = tonumber(pct), avail_kb = tonumber(avail), datadir_kb = tonumber((sec[2] or ""):match("%d+")) }
  end
  return r
end

-- Whether start and stop could handle standby node n: its site model, and the refusal when the
-- server writes data where stop could not swap it.
local function layout(n)
  local m = node.discover(n.ds, n.conn, n.ssh)
  local _, outside = node.data_dirs(m, node.data_variables(n.conn))
  return m, node.outside_message(m, outside)
end

-- context() -> the settings the judging reads and the state it keeps across nodes: {threshold
-- (% used), margin_kb, strategy = the restore point strategy asked (its module), marker,
-- shared = the strategy's own state across nodes}.
function M.context()
  return { threshold = site.num("disk_threshold"), margin_kb = site.num("disk_margin_mb") * 1024,
           strategy = restore_point.asked(), marker = site.get("marker_schema"), shared = {} }
end

-- measure(n, ctx) -> what judging node n (an r.nodes entry) needs: {datadir, p = M.probe's answer}
-- and on a standby node {m = its site model or nil, why = why its layout is not understood,
-- clone_active, limits, rp = what the strategy measures}. Raises when its variables cannot be read.
function M.measure(n, ctx)
  local v = server.variables(n.conn, { "datadir", "plugin_dir" })
  if n.side ~= "target" then return { datadir = v.datadir, p = M.probe(n.ssh, v.datadir, nil, v.plugin_dir) } end
  local m, why
  local ok, mm, w = pcall(layout, n)
  if ok then m, why = mm, w else why = tostring(mm) end
  return { datadir = v.datadir, m = m, why = why, clone_active = clone.active(n.conn),
           rp = ctx.strategy.measure(n.conn),
           p = M.probe(n.ssh, v.datadir, m, v.plugin_dir),
           limits = clone.limits(n.conn, v.datadir) }
end

-- ---- judging ---------------------------------------------------------------------------------

-- judge_usage(r, key, mz, failure, threshold) -> the disk's figures ({used_pct, avail_kb,
-- datadir_kb}) when df answered, else nil: the datadir's filesystem is no more than threshold %
-- used. mz: M.measure's answer; failure: why measuring raised (nil when it did not).
function M.judge_usage(r, key, mz, failure, threshold)
  local dk = mz.p and mz.p.disk
  if failure then
    judge(r, key, "disk", false, "%s: measuring the datadir failed: %s", key, tostring(failure))
    return nil
  end
  if not judge(r, key, "disk", dk ~= nil and dk.used_pct ~= nil, "%s: df on datadir %s%s", key, tostring(mz.datadir),
               (dk == nil and mz.p and mz.p.err) and (": " .. tostring(mz.p.err)) or "") then
    return nil
  end
  judge(r, key, "disk", dk.used_pct <= threshold, "%s: datadir filesystem %d%% used (limit %d%%)", key, dk.used_pct, threshold)
  return dk
end

-- judge_layout(r, key, n, mz): start and stop understand standby node n's layout.
function M.judge_layout(r, key, n, mz)
  local why = mz.why
  if why and why:sub(1, #n.ds.id + 2) == n.ds.id .. ": " then why = why:sub(#n.ds.id + 3) end
  judge(r, key, "layout", why == nil, "%s: %s", key, why or ("site layout understood (option file " .. tostring(mz.m and mz.m.conf) .. ")"))
end

-- filesystem(rp) -> the datadir's filesystem as the probe's restore point part (rp) read it:
-- {type = "btrfs", "xfs", ... or "?", xfs_reflink = "0", "1" or nil (no xfs_info), cow = whether
-- it makes copy-on-write (reflink) copies, how = that in words}.
local function filesystem(rp)
  local t = (rp or ""):match("fs=(%S+)") or "?"
  local xr = (rp or ""):match("reflink=([01])")
  local how = t == "btrfs" and "btrfs: reflink copies" or t == "xfs" and (xr == "1" and "xfs, reflink=1"
    or xr == "0" and "xfs, reflink=0: no reflink copies" or "xfs (reflink flag unknown: no xfs_info; start tries a copy)")
    or (t .. ": no reflink copies")
  return { type = t, xfs_reflink = xr, cow = t == "btrfs" or (t == "xfs" and xr ~= "0"), how = how }
end

-- judge_restore_point(r, key, n, mz, ctx): where standby node n's restore point would go (not
-- there yet, on the datadir's filesystem, its parent writable by the mysqld user), the clone
-- plugin, and what the strategy needs of the node (its judge). mz.m must be known.
function M.judge_restore_point(r, key, n, mz, ctx)
  local w = {}
  for word in mz.p.rp:gmatch("%S+") do w[word] = true end
  local dir = mz.m.restore_point_dir
  judge(r, key, "restore-point", w.absent == true, "%s: restore point dir %s %s", key, dir,
        w.absent and "does not exist yet" or "already exists (a drill is open, or an interrupted one left it: run stop, or remove it)")
  judge(r, key, "restore-point", w.samefs == true, "%s: restore point dir %s %s", key, dir,
        w.samefs and "is on the datadir's filesystem" or "is not on the datadir's filesystem (or its parent is missing): set site.restore_point_dir")
  judge(r, key, "restore-point", w.writable == true, "%s: the parent of %s %s", key, dir,
        w.writable and ("is writable by " .. mz.m.os_user) or ("is not writable by " .. mz.m.os_user .. ", which creates the restore point"))
  local on = mz.clone_active
  judge(r, key, "clone", on or w.plugin == true, "%s: the clone plugin is %s", key,
        on and "active" or (w.plugin and "loadable (mysql_clone.so in plugin_dir)" or "neither active nor in plugin_dir (mysql_clone.so)"))
  local function say(cat, ok, text) judge(r, key, cat, ok, "%s: %s", key, text) end
  ctx.strategy.judge(say, { key = key, host = n.ds.host, fs = filesystem(mz.p.rp), facts = mz.rp }, ctx.shared)
end

-- judge_clone_limits(r, key, mz): what the clone cannot carry on the node (clone.limits), each a
-- failed check.
function M.judge_clone_limits(r, key, mz)
  for _, l in ipairs(mz.limits or {}) do judge(r, key, "clone", false, "%s: %s", key, l) end
end

-- judge_space(r, key, mz, dk, ctx): room on the datadir's filesystem for the restore point the
-- strategy takes there (its space_kb) and the margin (dk: judge_usage's figures); and, said
-- before start changes anything (verify, start --dry-run), what that restore point copies and
-- the space it leaves.
function M.judge_space(r, key, mz, dk, ctx)
  if not dk.datadir_kb then
    judge(r, key, "disk", false, "%s: the datadir's size could not be read (du): the space a restore point needs is unknown", key)
    return
  end
  local fs = filesystem(mz.p.rp)
  local need_kb = ctx.strategy.space_kb(dk.datadir_kb, fs)
  judge(r, key, "disk", dk.avail_kb >= need_kb + ctx.margin_kb,
        "%s: %d MB free for a restore point needing %d MB (+%d MB margin)", key,
        dk.avail_kb // 1024, need_kb // 1024, ctx.margin_kb // 1024)
  log.info("info  %s: its restore point copies about %d MiB (du of the datadir) and leaves %d MiB free", key,
           ctx.strategy.copied_kb(dk.datadir_kb, fs) // 1024, math.max(0, dk.avail_kb - need_kb) // 1024)
end

-- say_filesystems(r, ctx): what the strategy says once for every node (auto: the filesystems and
-- the restore points it takes on each), naming the nodes (not a check).
function M.say_filesystems(r, ctx)
  ctx.strategy.summarize(function(keys, text) log.info("info  %s: %s", names(r, keys), text) end, ctx.shared)
end

return M
