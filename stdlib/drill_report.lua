-- drill_report.lua — the record of one drill for the audit, written by stop into the state
-- directory as JSON (for tools) and Markdown (for people): the timeline of every plan run and
-- step, when and how long the standby was open read-write, the restore point, the transactions
-- thrown away and caught up, the checks start ran, and what differs on the nodes before and
-- after. Built from the journal (start's state and the runs it timed) and what stop read; no
-- password is in any of it (and the writer masks registered secrets anyway).
local files = require "flashrun.files"
local restore_point = require "restore_point"
local gtid = require "flashrun.gtid"
local cjson = require "cjson"
local M = {}

-- Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (UTC), or nil. Pure (days from the civil
-- date, no time zone involved).
function M.epoch(iso)
  local y, m, d, hh, mm, ss = tostring(iso or ""):match("^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

local function count(set) return (set == nil or set == "") and 0 or gtid.count(set) end

-- The moment a step of a plan ended ok: the last such (which = "last") or the first.
local function step_end(runs, plan, id, which)
  local found
  for _, r in ipairs(runs or {}) do
    if r.plan == plan then
      for _, s in ipairs(r.steps or {}) do
        if s.id == id and s.outcome == "ok" then
          found = s.finished
          if which == "first" then return found end
        end
      end
    end
  end
  return found
end

-- build(st, runs, after) -> the report table. st: the journal's state; runs: its timeline;
-- after: what stop read at the end = { nodes = { [id] = { variables = {name = value} } | {error =} },
-- router_read_only = bool, clusters = {source =, target =}, written = iso }. Pure.
function M.build(st, runs, after)
  after = after or {}
  local opened = step_end(runs, "start", "open", "last")
  local closed = step_end(runs, "stop", "close", "first")
  local t0, t1 = M.epoch(opened), M.epoch(closed)
  local nodes, rp = {}, {}
  local recs = st.restore_points or {}
  for _, m in ipairs(st.sites or {}) do
    local rec = recs[m.id]
    local donor = restore_point.is_donor(st, m)
    local role = donor and "donor" or m.role
    rp[#rp + 1] = { node = m.id, role = role, dir = rec and rec.dir or m.restore_point_dir, bytes = rec and rec.bytes,
                    files = rec and rec.files, seconds = rec and rec.seconds, reflink = rec and rec.reflink or nil,
                    kept_by = donor and "the donor itself (frozen at the restore point)" or nil }
    local before = m.variables or {}
    local a = (after.nodes or {})[m.id] or {}
    local n = { node = m.id, role = role }
    if a.variables then
      n.read_only = { before = before.read_only, after = a.variables.read_only }
      n.super_read_only = { before = before.super_read_only, after = a.variables.super_read_only }
      n.variables_differing = require("variables").diff(before, a.variables)
    else
      n.error = a.error or "not read"
    end
    nodes[#nodes + 1] = n
  end
  local reg = st.standby_options or {}
  return {
    flashrun_drill_report = 1,
    written = after.written,
    clusters = after.clusters,
    drill = { started = st.drill and st.drill.started, started_from = st.drill and st.drill.host,
              strategy = st.strategy, donor = st.donor and st.donor.id or nil },
    standby_open = { opened = opened, closed = closed, seconds = (t0 and t1) and (t1 - t0) or nil },
    restore_point = { gtid_set = st.frozen, taken = st.frozen_at, nodes = rp },
    thrown_away = { gtid_set = st.thrown_away or "", transactions = count(st.thrown_away) },
    caught_up = { gtid_set = st.caught_up or "", transactions = count(st.caught_up), replication = st.replication,
                  proof = st.replication_proof },
    reattach = st.reattach,
    checks = st.checks or {},
    nodes = nodes,
    standby_router = { read_only = { before = reg.read_only, after = after.router_read_only } },
    timeline = runs or {},
  }
end

local function dur(s)
  if not s then return "?" end
  s = math.floor(s + 0.5)
  if s < 60 then return s .. " s" end
  if s < 3600 then return ("%d min %02d s"):format(s // 60, s % 60) end
  return ("%d h %02d min"):format(s // 3600, s % 3600 // 60)
end

local function cell(v)
  return (tostring(v == nil and "" or v):gsub("|", "\\|"):gsub("\n", " "))
end

-- The report as a Markdown page. Pure.
function M.markdown(r)
  local o = {}
  local function add(fmt, ...) o[#o + 1] = select("#", ...) > 0 and fmt:format(...) or fmt end
  local d = r.drill
  add("# Flashback drill report")
  add("")
  add("| | |"); add("| --- | --- |")
  add("| production (source router) | %s |", cell(r.clusters and r.clusters.source))
  add("| standby (target router) | %s |", cell(r.clusters and r.clusters.target))
  add("| drill started | %s, from %s |", cell(d.started), cell(d.started_from or "(not recorded)"))
  add("| strategy | %s%s |", cell(d.strategy), d.donor and (", donor " .. cell(d.donor)) or "")
  add("| standby open read-write | %s → %s (%s) |", cell(r.standby_open.opened or "?"), cell(r.standby_open.closed or "?"), dur(r.standby_open.seconds))
  add("| restore point | `%s` (taken %s) |", cell(r.restore_point.gtid_set ~= "" and r.restore_point.gtid_set or "(empty GTID set)"), cell(r.restore_point.taken or "?"))
  add("| transactions thrown away | %d (written on the standby during the drill)%s |", r.thrown_away.transactions,
      r.thrown_away.gtid_set ~= "" and (": `" .. cell(r.thrown_away.gtid_set) .. "`") or "")
  add("| production transactions caught up | %d%s |", r.caught_up.transactions,
      r.caught_up.gtid_set ~= "" and (": `" .. cell(r.caught_up.gtid_set) .. "`") or "")
  add("| replication after re-attach | %s (proof: %s) |", cell(r.caught_up.replication or "?"), cell(r.caught_up.proof or "?"))
  if r.reattach then add("| re-attach deadline when stop checked | %s |", cell(r.reattach.deadline)) end
  add("| report written | %s |", cell(r.written))
  add("")
  add("## Restore point per node")
  add("")
  add("| node | role | size | files | taken in |"); add("| --- | --- | --- | --- | --- |")
  for _, n in ipairs(r.restore_point.nodes) do
    add("| %s | %s | %s | %s | %s |", cell(n.node), cell(n.role), n.bytes and ("%.1f MiB"):format(n.bytes / 2 ^ 20) or cell(n.kept_by),
        cell(n.files), n.seconds and dur(n.seconds) or "")
  end
  add("")
  add("## Timeline")
  add("")
  add("| plan | step | started | finished | duration | outcome |"); add("| --- | --- | --- | --- | --- | --- |")
  for _, run in ipairs(r.timeline) do
    local t0, t1 = M.epoch(run.started), M.epoch(run.finished)
    add("| **%s** | (run from %s) | %s | %s | %s | **%s** |", cell(run.plan), cell(run.host or "?"), cell(run.started), cell(run.finished),
        (t0 and t1) and dur(t1 - t0) or "", cell(run.outcome))
    for _, s in ipairs(run.steps or {}) do
      add("| | %s `%s` | %s | %s | %s | %s |", cell(s.name), cell(s.id), cell(s.started), cell(s.finished),
          s.seconds and ("%.2f s"):format(s.seconds) or "", cell(s.outcome))
    end
  end
  add("")
  add("## Checks start ran")
  add("")
  if #r.checks == 0 then add("(none recorded)") end
  for _, c in ipairs(r.checks) do add("- %s %s", c.result == "ok" and "ok" or c.result:upper(), cell(c.check)) end
  add("")
  add("## Node state before and after")
  add("")
  add("Standby router `enable-read-only`: before %s, after %s.", cell(r.standby_router.read_only.before), cell(r.standby_router.read_only.after))
  add("")
  add("| node | read_only before → after | super_read_only before → after | other global variables that differ |")
  add("| --- | --- | --- | --- |")
  for _, n in ipairs(r.nodes) do
    if n.error then
      add("| %s | | | not read: %s |", cell(n.node), cell(n.error))
    else
      local diffs = {}
      for _, v in ipairs(n.variables_differing) do
        if v.name ~= "read_only" and v.name ~= "super_read_only" then
          diffs[#diffs + 1] = ("%s: %s → %s"):format(v.name, tostring(v.before), tostring(v.after))
        end
      end
      add("| %s | %s → %s | %s → %s | %s |", cell(n.node), cell(n.read_only.before), cell(n.read_only.after),
          cell(n.super_read_only.before), cell(n.super_read_only.after), #diffs == 0 and "none" or cell(table.concat(diffs, "; ")))
    end
  end
  return table.concat(o, "\n") .. "\n"
end

-- Writes the report as DIR/drill-<start>.json and .md; returns both paths.
function M.write(dir, r)
  local stamp = tostring(r.drill.started or r.written or "unknown"):gsub("[^%w]", "")
  local base = ("%s/drill-%s"):format(dir, stamp)
  local ok, err = files.write(base .. ".json", cjson.encode(r) .. "\n")
  if not ok then error(("cannot write the drill report %s.json: %s"):format(base, tostring(err)), 0) end
  ok, err = files.write(base .. ".md", M.markdown(r))
  if not ok then error(("cannot write the drill report %s.md: %s"):format(base, tostring(err)), 0) end
  return base .. ".json", base .. ".md"
end

-- The journal's runs as the report shows them while the run writing it is still going: that run
-- (the last, of `plan`, "running") ends with the report, its running step "writing this report",
-- at `written` (ISO UTC). The journal's own tables are left alone. Pure.
function M.runs_now(runs, plan, written)
  local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
  runs = copy(runs or {})
  local last = runs[#runs]
  if last and last.plan == plan and last.outcome == "running" then
    last = copy(last)
    last.outcome, last.finished, last.steps = "done (the report is its last step)", written, copy(last.steps or {})
    local s = last.steps[#last.steps]
    if s and s.outcome == "running" then
      s = copy(s)
      s.outcome, s.finished = "writing this report", written
      last.steps[#last.steps] = s
    end
    runs[#runs] = last
  end
  return runs
end

return M
