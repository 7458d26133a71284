-- clone_progress.lua — samplers of the long phases' progress, for flashrun.progress trackers:
-- what a caller polls while a clone, a copy, a removal or a wait runs, turned into a sample
-- {stage=, done=, total=} or {stage=, left=}. Three sources:
--   clone     performance_schema.clone_progress on the recipient (the server running the CLONE
--             statement; MySQL manual, "The clone_progress Table"): one row per stage, its STATE
--             (Not Started, In Progress, Completed), ESTIMATE and DATA in bytes. Needs
--             @@performance_schema on; it keeps the last clone's rows until the next one starts.
--   du        where performance_schema is off, the directory a copy fills (a restore point)
--             measured on disk with `du -sk`, against an estimate of what will be copied; or what a
--             removal has left.
--   gtid      for waits: the transactions one GTID set lacks of another (apply, catch-up).
-- Each has a pure part (the statement or the script, the parsing: unit-tested on a transcript of
-- MySQL 9.7.4, tests/lua/plans/clone_progress_9.7.tsv) and a runner that returns nil, err on
-- failure: progress is a view, a failed sample never fails a step.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local gtid = require "flashrun.gtid"

local M = {}

-- The stages of a clone in order, as MySQL 9.7 names them (the manual's list spells some with an
-- underscore, PAGE_COPY; the server writes "PAGE COPY"). The last two run only in a clone that
-- replaces the recipient's own data: a clone into a DATA DIRECTORY ends after FILE SYNC.
M.STAGES = { "DROP DATA", "FILE COPY", "PAGE COPY", "REDO COPY", "FILE SYNC", "RESTART", "RECOVERY" }

M.SQL = "SELECT STAGE, STATE, BEGIN_TIME, ESTIMATE, DATA, DATA_SPEED FROM performance_schema.clone_progress"
M.ENABLED_SQL = "SELECT @@GLOBAL.performance_schema AS ps"

local function num(v)
  v = server.value(v)
  return v ~= nil and tonumber(v) or nil
end

local function text(v)
  v = server.value(v)
  if v == nil or v == "NULL" then return nil end
  return tostring(v)
end

-- The clone the rows belong to: the first stage's BEGIN_TIME ("2026-12-07 14:06:40.137636"), or
-- nil when the table is empty (no clone since the server's data was initialized). Its ID cannot
-- tell two clones apart: 9.7 numbers every clone 1. Pure.
function M.marker(rows)
  for _, r in ipairs(rows or {}) do
    if text(r.STAGE) == M.STAGES[1] then return text(r.BEGIN_TIME) end
  end
  return nil
end

-- parse(rows [, since]) -> sample | nil, why. Pure.
--   rows: the result of M.SQL (values as the sql driver or a transcript gives them: numbers or
--   their text, NULL as sql.null or "NULL"); since: the marker() of the rows read before the
--   clone was started (the last clone's), so that its rows are not taken for the new clone's.
--   sample: {stage=, done= (bytes), total= (the stage's estimate; nil when 0: DROP DATA,
--   RESTART), state=, finished= (true once the clone copied everything: every stage it runs is
--   Completed), speed= (DATA_SPEED, bytes/s, the server's own), stage_no= (1..7)}: the stage In
--   Progress, else the last Completed one (between two stages).
--   nil, why: no rows yet, or only the last clone's.
function M.parse(rows, since)
  if not rows or #rows == 0 then return nil, "performance_schema.clone_progress is empty: no clone has started" end
  local mark = M.marker(rows)
  if since ~= nil and mark == since then return nil, "the clone has not started yet (the rows are the last clone's)" end
  local by = {}
  for _, r in ipairs(rows) do
    local stage = text(r.STAGE)
    if stage then by[stage] = r end
  end
  local current, last_done, no_cur, no_done
  for i, stage in ipairs(M.STAGES) do
    local r = by[stage]
    local state = r and text(r.STATE)
    if state == "In Progress" and not current then current, no_cur = r, i end
    if state == "Completed" then last_done, no_done = r, i end
  end
  local r, i = current, no_cur
  if not r then r, i = last_done, no_done end
  if not r then
    return { stage = M.STAGES[1], done = 0, state = "Not Started", finished = false, stage_no = 1 }
  end
  local total = num(r.ESTIMATE)
  if total == 0 then total = nil end
  -- Finished: nothing In Progress and no stage before the last Completed one left Not Started;
  -- a DATA DIRECTORY clone leaves RESTART and RECOVERY Not Started, so FILE SYNC Completed ends it.
  local finished = current == nil and no_done ~= nil and no_done >= 5
  return { stage = text(r.STAGE), done = num(r.DATA) or 0, total = total, state = text(r.STATE),
           finished = finished, speed = num(r.DATA_SPEED), stage_no = i }
end

-- enabled(conn) -> true | false | nil, err: whether performance_schema is on (its clone tables
-- are empty when it is off).
function M.enabled(conn)
  local rows, err = conn:query(M.ENABLED_SQL)
  if not rows then return nil, "cannot read @@performance_schema: " .. tostring(err) end
  return tostring(server.value(rows[1] and rows[1].ps)) == "1"
end

-- read(conn) -> rows | nil, err: M.SQL on the recipient.
function M.read(conn)
  local rows, err = conn:query(M.SQL)
  if not rows then return nil, "cannot read performance_schema.clone_progress: " .. tostring(err) end
  return rows
end

-- clone(conn [, since]) -> sample | nil, why: read() then parse().
function M.clone(conn, since)
  local rows, err = M.read(conn)
  if not rows then return nil, err end
  return M.parse(rows, since)
end

-- ---------------------------------------------------------------- du

-- The remote command printing the KiB a directory holds on disk (0 when it does not exist yet;
-- files a copy or a removal adds or takes away under du are passed over: du's complaints are
-- dropped, and its status, which they make non-zero). Changes nothing. Pure.
function M.du_script(dir)
  local d = shell.quote(dir)
  return ("if [ -d %s ]; then du -sk %s 2>/dev/null | cut -f1; else echo 0; fi"):format(d, d)
end

-- parse_du(stdout) -> bytes | nil, why. Pure.
function M.parse_du(out)
  local kib = tostring(out or ""):match("^%s*(%d+)%s*$")
  if not kib then return nil, ("du printed %q, not a size"):format(tostring(out)) end
  return tonumber(kib) * 1024
end

-- du(s, dir) -> bytes | nil, err: a directory's size on disk, over the ssh session s.
function M.du(s, dir)
  local ok, out, err = pcall(cluster.read, s, M.du_script(dir))
  if not ok then return nil, tostring(out) end
  if not out then return nil, ("du %s: %s"):format(dir, tostring(err)) end
  return M.parse_du(out)
end

-- copy(s, dir, total [, stage]) -> {stage=, done=, total=} | nil, err: a copy filling dir
-- (a restore point taken without performance_schema, a reflink copy), total its estimate in bytes.
function M.copy(s, dir, total, stage)
  local bytes, err = M.du(s, dir)
  if not bytes then return nil, err end
  return { stage = stage, done = bytes, total = total }
end

-- removal(s, dir [, stage]) -> {stage=, left=} | nil, err: a removal emptying dir (the swap's
-- removal of the drill's data): what is left on disk.
function M.removal(s, dir, stage)
  local bytes, err = M.du(s, dir)
  if not bytes then return nil, err end
  return { stage = stage, left = bytes }
end

-- ---------------------------------------------------------------- GTID

-- left(want, have) -> the number of transactions of GTID set want that have lacks. Pure.
function M.left(want, have)
  return gtid.count(gtid.subtract(want or "", have or ""))
end

-- wait(want, have [, stage]) -> {stage=, left=}: a wait for apply or catch-up (unit "transactions").
function M.wait(want, have, stage)
  return { stage = stage, left = M.left(want, have) }
end

-- ---------------------------------------------------------------- samplers of a node's phase

-- Sampler functions for flashrun.progress.during: each returns a function() -> sample | nil, err
-- that measures one phase on standby node m (a node model) over connections of its own (a
-- session serves one coroutine at a time: the phase's own command holds the node's), opened at
-- the first sample and closed when collected. A sample that cannot be taken is nil, err.

-- The clone into m's restore point: performance_schema.clone_progress on m when it is on (since:
-- the marker of the rows before the CLONE, M.marker), else the restore point directory's size
-- on disk against the datadir's (an estimate: the clone leaves out logs).
function M.clone_sampler(m, since)
  local conn, ps, s, total
  return function()
    if ps == nil then
      local err
      conn, err = cluster.try_connect("target", m.host, m.port, { timeout = 5 })
      if not conn then return nil, err end
      ps = M.enabled(conn) == true
    end
    if ps then return M.clone(conn, since) end
    if not s then
      local err
      s, err = cluster.open_ssh("target", m.host)
      if not s then return nil, err end
      total = M.du(s, m.datadir)
    end
    return M.copy(s, m.restore_point_dir, total, "FILE COPY")
  end
end

-- A sampler measuring over an ssh session of its own to m's host: fn(s) -> sample | nil, err.
local function over_ssh(m, fn)
  local s
  return function()
    if not s then
      local err
      s, err = cluster.open_ssh("target", m.host)
      if not s then return nil, err end
    end
    return fn(s)
  end
end

-- A directory filling up to about total bytes (a reflink copy's restore point), on m's host.
function M.copy_sampler(m, dir, total, stage)
  return over_ssh(m, function(s) return M.copy(s, dir, total, stage) end)
end

-- A directory being removed (the swap's removal of the drill's data), on m's host.
function M.removal_sampler(m, dir, stage)
  return over_ssh(m, function(s) return M.removal(s, dir, stage) end)
end

return M
