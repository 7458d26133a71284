-- retention.lua — production's binary log retention and the re-attach deadline of a detached
-- standby. The standby can re-attach only while production still holds, in its binary logs,
-- every transaction after the restore point. MySQL purges a binary log automatically once its
-- file's modification time is older than the expiry period, and only when it checks: at a
-- rotation (FLUSH BINARY LOGS, max_binlog_size) and at a restart; a DBA may PURGE BINARY LOGS by
-- hand at any time. The deadline is therefore the earliest moment production *may* purge the
-- oldest binary log holding a transaction after the restore point: that file's time plus the
-- expiry period.
--
-- Expiry settings by version (MySQL reference manual, "Binary Logging Options and Variables"):
--   8.0.x     binlog_expire_logs_seconds (default 30 days) and the deprecated expire_logs_days;
--             seconds wins when non-zero, both 0 means no automatic purge.
--   8.0.29+   binlog_expire_logs_auto_purge: OFF turns automatic purging off altogether.
--   8.4, 9.x  expire_logs_days is gone; binlog_expire_logs_seconds and _auto_purge remain.
-- 8.0.26 (GreatDB's base) has neither auto_purge nor a way to ask for a variable it lacks
-- without an error (1193): the statement is chosen by version.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local router = require "router"
local gtid = require "flashrun.gtid"
local clock = require "flashrun.clock"
local M = {}

-- The expiry variables a server of version ver ({8,0,26} or a connection) has. Pure.
function M.variable_names(ver)
  local names = { "binlog_expire_logs_seconds" }
  if not server.at_least(ver, 8, 4, 0) then names[#names + 1] = "expire_logs_days" end
  if server.at_least(ver, 8, 0, 29) then names[#names + 1] = "binlog_expire_logs_auto_purge" end
  return names
end

-- The one statement that reads them, with production's clock (UNIX_TIMESTAMP) and the binary
-- log directory. Pure.
function M.variables_sql(ver)
  local cols = { "UNIX_TIMESTAMP() AS now_", "@@GLOBAL.log_bin_basename AS log_bin_basename" }
  for _, n in ipairs(M.variable_names(ver)) do cols[#cols + 1] = "@@GLOBAL." .. n .. " AS " .. n end
  return "SELECT " .. table.concat(cols, ", ")
end

local function on(v)
  v = tostring(v or ""):upper()
  return v == "1" or v == "ON" or v == "TRUE"
end

-- The purge policy from the values variables_sql read: { seconds = expiry period (nil: never
-- purged automatically), why = how it was derived }. Pure.
function M.policy(ver, vars)
  local names = {}
  for _, n in ipairs(M.variable_names(ver)) do names[n] = true end
  if names.binlog_expire_logs_auto_purge and not on(vars.binlog_expire_logs_auto_purge) then
    return { seconds = nil, why = "binlog_expire_logs_auto_purge=OFF: no automatic purge (PURGE BINARY LOGS by hand still can)" }
  end
  local s = math.tointeger(tonumber(vars.binlog_expire_logs_seconds or 0) or 0) or 0
  local d = names.expire_logs_days and tonumber(vars.expire_logs_days or 0) or 0
  if s > 0 then
    return { seconds = s, why = ("binlog_expire_logs_seconds=%d"):format(s) }
  elseif d > 0 then
    return { seconds = math.floor(d * 86400), why = ("expire_logs_days=%s (binlog_expire_logs_seconds=0)"):format(tostring(vars.expire_logs_days)) }
  end
  return { seconds = nil, why = names.expire_logs_days and "binlog_expire_logs_seconds=0 and expire_logs_days=0: no automatic purge"
                                 or "binlog_expire_logs_seconds=0: no automatic purge" }
end

-- SHOW BINARY LOGS rows → { {name =, size =}, ... } in order. Names are checked: they go into
-- a statement and a command line.
function M.parse_binlogs(rows)
  local out = {}
  for _, r in ipairs(rows or {}) do
    local name = tostring(server.col(r, "Log_name") or "")
    if not name:match("^[%w_.%-]+$") then error(("SHOW BINARY LOGS returned an unusable file name %s"):format(shell.show(name)), 0) end
    out[#out + 1] = { name = name, size = tonumber(server.col(r, "File_size")) }
  end
  return out
end

-- The GTID set of the Previous_gtids event among SHOW BINLOG EVENTS rows (every GTID written
-- before this file), normalized; nil when the rows have none. Pure.
function M.parse_previous_gtids(rows)
  for _, r in ipairs(rows or {}) do
    if server.col(r, "Event_type") == "Previous_gtids" then
      return (tostring(server.col(r, "Info") or ""):gsub("%s+", ""))
    end
  end
  return nil
end

-- The index of the oldest file holding a transaction not in `frozen`, or nil when none does.
-- files: the binary logs in order; prev(i): the Previous_gtids of file i; executed: what the
-- server executed (the last file holds executed minus its previous). "File i holds something
-- beyond frozen" only ever turns true going forward, so a binary search asks O(log n) files.
function M.oldest_needed(n, prev, executed, frozen)
  local function after(i) -- every GTID in files 1..i lies in `after(i)`
    local upto = i < n and prev(i + 1) or executed
    return gtid.subtract(upto, frozen) ~= ""
  end
  if n == 0 or not after(n) then return nil end
  local lo, hi = 1, n
  while lo < hi do
    local mid = (lo + hi) // 2
    if after(mid) then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- The deadline from the facts: { state = "lost" | "none" | "at" | "rotation", at = epoch seconds,
-- text }. needed: the file record (with mtime) or nil; active: it is the file being written. Pure.
function M.deadline(policy, lost, needed, active, now)
  if lost ~= "" then
    return { state = "lost", text = "production has purged transactions the standby needs: " .. lost }
  end
  if not policy.seconds then
    return { state = "none", text = "no automatic purge (" .. policy.why .. "); only a PURGE BINARY LOGS by hand can end it" }
  end
  if needed and not active and not needed.mtime then
    -- A closed file whose time could not be read: it may already be older than the period, and
    -- go at production's next rotation or restart. Not judged from now (that is the best case).
    return { state = "unknown", text = ("unknown: %s holds what the standby needs, and its time could not be read "
             .. "(ssh to production's master, stat in its binary log directory); if it was written more than %s ago, "
             .. "it goes at production's next rotation or restart (%s)"):format(needed.name, M.span(policy.seconds), policy.why) }
  end
  if not needed or active then
    -- What the standby needs is (or will be) in the file being written: it expires only after
    -- its rotation, so at the earliest a full period from now.
    local at = now + policy.seconds
    return { state = "rotation", at = at, text = ("not before %s: what the standby needs is in the binary log being written; "
             .. "it may be purged %s after its rotation (%s)"):format(clock.utc(at), M.span(policy.seconds), policy.why) }
  end
  local at = needed.mtime + policy.seconds
  return { state = "at", at = at, text = ("%s: %s (written %s) may be purged then, at production's next rotation or restart (%s)")
           :format(clock.utc(at), needed.name, clock.utc(needed.mtime), policy.why) }
end

-- "3d 04h", "5h 10m", "42m 3s", "-1h 02m" (past). Pure.
function M.span(secs)
  local neg = secs < 0
  local s = math.floor(math.abs(secs))
  local d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
  local t = d > 0 and ("%dd %02dh"):format(d, h) or h > 0 and ("%dh %02dm"):format(h, m) or ("%dm %02ds"):format(m, s % 60)
  return (neg and "-" or "") .. t
end

-- Everything about production's retention for a standby frozen at `frozen`, read on
-- production's master (conn) and its host (ssh session s, for the files' times; nil: unknown).
-- Returns { version, vars, policy, files = { {name, size, mtime} }, needed = file or nil,
-- needed_index, active, lost = GTIDs purged the standby lacks, executed, deadline (M.deadline),
-- now }.
function M.read(conn, s, frozen)
  local A, B, C, vtext = server.version(conn)
  local ver = { A, B, C }
  local rows, err = conn:query(M.variables_sql(ver))
  if not rows then error("reading the binary log expiry settings failed: " .. tostring(err), 0) end
  local vars = {}
  for k, v in pairs(rows[1] or {}) do vars[k] = server.value(v) end
  local r = { version = vtext, vars = vars, policy = M.policy(ver, vars), now = tonumber(vars.now_) or os.time() }
  r.vars.now_ = nil
  local brows, berr = conn:query("SHOW BINARY LOGS")
  if not brows then error("SHOW BINARY LOGS failed: " .. tostring(berr), 0) end
  r.files = M.parse_binlogs(brows)
  r.executed = server.executed(conn)
  r.lost = gtid.subtract(server.purged(conn), frozen)
  if s and #r.files > 0 and vars.log_bin_basename then
    local dir = shell.dirname(tostring(vars.log_bin_basename))
    local names = {}
    for _, f in ipairs(r.files) do names[#names + 1] = shell.quote(f.name) end
    -- Each file's time that can be read (one purged meanwhile leaves the others'): those not
    -- read stay unknown, which deadline() says.
    local out = cluster.read(s, ("cd %s && { stat -c '%%Y %%n' -- %s 2>/dev/null; true; }"):format(shell.quote(dir), table.concat(names, " ")))
    local t = {}
    for secs, name in (out or ""):gmatch("(%d+) ([^\n]+)") do t[name] = tonumber(secs) end
    for _, f in ipairs(r.files) do f.mtime = t[f.name] end
  end
  local cache = {}
  local function prev(i)
    if cache[i] == nil then
      local ev, eerr = conn:query(("SHOW BINLOG EVENTS IN %s LIMIT 3"):format(shell.sql_string(r.files[i].name)))
      if not ev then error(("SHOW BINLOG EVENTS IN %s failed: %s"):format(r.files[i].name, tostring(eerr)), 0) end
      cache[i] = M.parse_previous_gtids(ev) or ""
    end
    return cache[i]
  end
  r.needed_index = M.oldest_needed(#r.files, prev, r.executed, frozen)
  r.needed = r.needed_index and r.files[r.needed_index] or nil
  r.active = r.needed_index == nil or r.needed_index == #r.files
  r.deadline = M.deadline(r.policy, r.lost, r.needed, r.active, r.now)
  return r
end

-- Production's current master as its router names it: a connection and an ssh session to its
-- host (nil when ssh fails: the files' times are then unknown). Raises when the router names no
-- primary.
function M.production_master()
  local src = cluster.router("source")
  local nodes = router.nodes(src)
  src:close()
  local p = router.primary(nodes)
  if not p then error("the source router names no primary (Master_Online)", 0) end
  local c = cluster.connect("source", p.host, p.port)
  local ok, s = pcall(cluster.ssh, "source", p.host)
  return p, c, ok and s or nil, not ok and tostring(s) or nil
end

return M
