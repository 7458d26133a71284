-- status — how a drill stands, read-only, at any time (with no drill open too): the drill, the
-- standby's nodes and restore points, the standby's drift from production, the re-attach
-- deadline (production's binary log retention), disk headroom. Human output on stdout, or one
-- JSON document with --report-json FILE. Exit 0 when nothing needs the DBA, 3 when something does.
--
-- It reads the journal as it is, without the lock (journal = "read"): it works while start or
-- stop runs, and writes nothing anywhere.
--
-- SECTIONS is the whole report, in order: a section is { id, title, run = function(ctx,
-- shared) return rows, state end } (stdlib/sections.lua says what a row is). Adding one is an
-- entry in this list.
local router = require "router"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local shell = require "shell"
local restore_point = require "restore_point"
local manifest = require "restore_point.manifest"
local progress = require "flashrun.progress"
local gtid = require "flashrun.gtid"
local journal = require "flashrun.journal"
local refuse = require("flashrun.errors").refuse
local retention = require "retention"
local binlog_stream = require "binlog_stream"
local sections = require "sections"
local flog = require "flashrun.log"

local function open_drill(st) return st.drill_open == true and st.frozen ~= nil end

-- What several sections read, once per run.
local function shared_facts()
  local cache = {}
  local S = {}
  local function once(key, fn)
    if cache[key] == nil then
      local ok, v = pcall(fn)
      cache[key] = { ok = ok, v = v }
    end
    if not cache[key].ok then error(cache[key].v, 0) end
    return cache[key].v
  end
  function S.topo()
    return once("topo", function()
      local s, t = cluster.router("source"), cluster.router("target")
      local topo = cluster.topology(s, t)
      topo.standby_options = router.standby_options(t)
      s:close(); t:close()
      return topo
    end)
  end
  -- production's master as its router names it now: { node, conn, ssh, ssh_err }
  function S.prod()
    return once("prod", function()
      local p, c, s, err = retention.production_master()
      return { node = p, conn = c, ssh = s, ssh_err = err }
    end)
  end
  -- the standby nodes: the recorded ones during a drill, else the standby router's
  function S.nodes(st)
    if open_drill(st) or type(st.sites) == "table" then return st.sites end
    local list = {}
    for _, d in ipairs(S.topo().target.nodes) do list[#list + 1] = { id = d.id, host = d.host, port = d.port, role = d.role, name = d.name } end
    return list
  end
  -- per standby node: { answers, err, executed, read_only, super_read_only, datadir, replica }
  function S.node_facts(st)
    return once("node_facts", function()
      local nodes = S.nodes(st)
      local res, raised = cluster.try_each(nodes, function(m)
        local c, err = cluster.try_connect("target", m.host, m.port)
        if not c then return { answers = false, err = err } end
        local v = server.variables(c, { "read_only", "super_read_only", "datadir" })
        local f = { answers = true, executed = server.executed(c), read_only = v.read_only == "1" or v.read_only == 1,
                    super_read_only = v.super_read_only == "1" or v.super_read_only == 1, datadir = v.datadir,
                    replica = server.replica_status(c) }
        c:close()
        return f
      end)
      -- A node whose reading raised (its connection dropped mid-way) is one that did not answer.
      for i in pairs(raised or {}) do res[i] = { answers = false, err = tostring(raised[i]) } end
      return res
    end)
  end
  return S
end

local function count(set) return set == "" and 0 or gtid.count(set) end

local function ago(iso)
  local y, mo, d, h, mi, s = tostring(iso or ""):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  if not y then return nil end
  -- os.time reads a table as local time; the difference to now (UTC both ways) is what counts.
  local t = os.time({ year = y, month = mo, day = d, hour = h, min = mi, sec = s, isdst = false })
  local now = os.time(os.date("!*t"))
  return now - t
end

-- The run holding the state dir's lock, when it is still alive on this host; nil otherwise.
-- flashrun.redo reads it without taking the lock (taking it, even for a moment, could turn a
-- stop starting then away: exit 4).
local function live_holder(ctx)
  local h = require("flashrun.redo").holder(tostring(ctx.state_dir))
  return h and h.live and h or nil
end

local SECTIONS = {
  { id = "drill", title = "drill", run = function(ctx, shared)
      local st = ctx.state
      local rows = {}
      local doc = journal.read()
      if open_drill(st) then
        local since = ago(st.drill and st.drill.started)
        rows[#rows + 1] = { key = "open", label = "drill", value = true,
                            text = ("open since %s%s"):format(tostring(st.drill and st.drill.started),
                                    since and (" (" .. retention.span(since) .. ")") or "") }
        rows[#rows + 1] = { key = "started", label = "started", value = st.drill and st.drill.started }
        rows[#rows + 1] = { key = "host", label = "started from", value = st.drill and st.drill.host or "(not recorded)" }
        rows[#rows + 1] = { key = "strategy", label = "strategy", value = st.strategy,
                            text = restore_point.of(st).describe(st) }
        rows[#rows + 1] = { key = "restore_point", label = "restore point", value = st.frozen,
                            text = st.frozen ~= "" and st.frozen or "(the empty GTID set)" }
      elseif st.frozen ~= nil then -- start's first step recorded, no rollback undid it (plans/stop.lua)
        rows[#rows + 1] = { key = "open", label = "drill", value = false, state = "warn",
                            text = "start did not finish (the standby is not open): re-run plans/start.lua to finish it"
                              .. (st.restore_points and ", or plans/stop.lua to end the drill"
                                  or " (stop refuses until every restore point is taken), then plans/stop.lua to end the drill") }
      else
        -- No drill here, but perhaps one in another journal (the default ./log is relative).
        local ok, topo = pcall(shared.topo)
        local detached = ok and topo.source.standby_entry == nil
        rows[#rows + 1] = { key = "open", label = "drill", value = false, state = detached and "warn" or nil,
                            text = detached and ("no drill in this journal, yet %s: a drill started with another --state-dir "
                                                 .. "(the default is ./log of the directory flashrun ran from)? Run status and stop "
                                                 .. "with that one"):format(router.DETACHED)
                                            or "no drill open" }
      end
      rows[#rows + 1] = { key = "journal", label = "journal", value = require("flashrun.redo").path(tostring(ctx.state_dir)) }
      -- A plan whose last run did not finish: the DBA re-runs it, unless it only refused (a second
      -- start while a drill is open changed nothing).
      local last = {}
      for _, r in ipairs(doc.runs or {}) do last[r.plan] = r end
      for name, rec in pairs(doc.plans or {}) do
        if name ~= ctx.plan and rec.status ~= "done" then
          local refused = last[name] and last[name].outcome == "refused"
          local holder = rec.status == "running" and live_holder(ctx)
          holder = holder and holder.plan == name and holder or nil
          -- Rolled back completely (start): nothing to finish, the clusters are as before it.
          local undone = rec.status == "failed" and rec.rollback == "complete"
          local why = rec.error and (rec.error:match("^[^\n]*"):gsub("[:.]$", "")) or nil
          -- A run going on now: the step it is in and the progress of its long phases, as it
          -- keeps them in progress.json (flashrun.progress), when that file is this run's.
          local now_in = holder and progress.read(ctx.state_dir)
          if now_in and now_in.pid ~= holder.pid then now_in = nil end
          rows[#rows + 1] = { key = "plan_" .. name, label = "plan " .. name, value = rec.status,
                              state = (refused or undone or holder) and "note" or "warn",
                              data = now_in and now_in.step and { step = now_in.step.id, step_name = now_in.step.name } or nil,
                              text = holder and ("running now: pid %s on %s since %s%s"):format(holder.pid, holder.host, tostring(holder.started),
                                now_in and now_in.step and ("; step %s (%s) for %s"):format(now_in.step.id, now_in.step.name,
                                  progress.duration(os.time() - (tonumber(now_in.step.started) or os.time()))) or "")
                                or ("%s since %s%s%s: %s"):format(rec.status == "running" and "running, or interrupted," or rec.status,
                                tostring(rec.run_started or rec.started), rec.failed_step and (" at step " .. rec.failed_step) or "", why and (": " .. why) or "",
                                refused and "it refused, nothing changed"
                                or undone and "rolled back completely, nothing to finish (run it again for a drill)"
                                or "re-run it to finish") }
          local ids = {}
          for node in pairs(now_in and now_in.nodes or {}) do ids[#ids + 1] = node end
          table.sort(ids)
          for _, node in ipairs(ids) do
            local r = now_in.nodes[node]
            rows[#rows + 1] = { key = "progress_" .. node, label = "  " .. r.task, value = r.pct or r.done, state = "ok",
                                text = r.line, data = r }
          end
        end
      end
      return rows
    end },

  { id = "standby", title = "standby nodes", run = function(ctx, shared)
      local st = ctx.state
      local rows = {}
      local so = shared.topo().standby_options
      rows[#rows + 1] = { key = "router_read_only", label = "standby router", value = so.read_only,
                          text = so.read_only == nil and "enable-read-only not reported by the router: read-only state unknown"
                            or so.read_only and "read-only (enable-read-only)" or "read-write",
                          state = (so.read_only == nil or (not open_drill(st) and so.read_only == false)) and "note" or "ok" }
      local nodes = shared.nodes(st)
      local facts = shared.node_facts(st)
      local recs = st.restore_points or {}
      -- Restore points: during a drill, each recorded one against its manifest (names and sizes,
      -- hashed on the host); with no drill, a leftover directory is noted.
      local rp, rp_raised = cluster.try_each(nodes, function(m)
        if not open_drill(st) then
          if not m.restore_point_dir then return { none = true } end
          local s = cluster.ssh("target", m.host)
          return { leftover = manifest.read(s, m.restore_point_dir) ~= nil }
        end
        if restore_point.is_donor(st, m) then return { donor = true } end
        return { damage = restore_point.of(st).intact(m, recs[m.id]) }
      end)
      local stopping = live_holder(ctx)
      if stopping and stopping.plan ~= "stop" then stopping = nil end
      for i, m in ipairs(nodes) do
        local f = facts[i] or {}
        local r = rp[i] or {}
        -- Not looked at (no ssh, ...) is neither intact nor damaged.
        local unchecked = rp_raised and rp_raised[i] and tostring(rp_raised[i])
        local ro = f.answers and ((f.super_read_only and "super_read_only") or (f.read_only and "read_only") or "read-write") or "?"
        local role = restore_point.is_donor(st, m) and "donor" or m.role
        local text, state
        if not f.answers then
          text, state = "does not answer: " .. tostring(f.err), "warn"
        else
          -- Said in the DBA's words: the router's master is the master, a joiner a replica.
          text = ("%s, answers, %s"):format(({ primary = "master", joiner = "replica" })[role] or role, ro)
        end
        local rpt
        if open_drill(st) then
          local rec = recs[m.id]
          if unchecked then rpt = "restore point not checked: " .. unchecked; state = "warn"
          elseif r.donor then rpt = "donor: frozen at the restore point"
          elseif r.damage and stopping then
            -- A running stop moves the restore point into the datadir: not damage, its work.
            rpt = ("restore point being put back by the running stop (pid %s)"):format(stopping.pid)
          elseif r.damage then rpt = "restore point DAMAGED: " .. r.damage; state = "warn"
          elseif rec then rpt = ("restore point intact: %d files, %.1f MiB"):format(rec.files or 0, (rec.bytes or 0) / 2 ^ 20)
          else rpt = "restore point not recorded" end
        elseif unchecked then rpt = "restore point directory not checked: " .. unchecked; state = "warn"
        elseif r.leftover then rpt = "a restore point directory is left over from an earlier drill"; state = "note" end
        rows[#rows + 1] = { key = m.id, label = m.id, value = f.answers == true, state = state,
                            text = text .. (rpt and ("; " .. rpt) or ""),
                            data = { role = role, answers = f.answers == true, read_only = f.read_only, super_read_only = f.super_read_only,
                                     restore_point = recs[m.id] and { bytes = recs[m.id].bytes, files = recs[m.id].files,
                                                                      intact = not unchecked and r.damage == nil, damage = r.damage,
                                                                      unchecked = unchecked } or nil } }
      end
      return rows
    end },

  { id = "drift", title = "drift from production", run = function(ctx, shared)
      local st = ctx.state
      local prod = shared.prod()
      local ex = server.executed(prod.conn)
      if not open_drill(st) then
        local m = shared.topo().target.primary
        local rows = {}
        local facts = shared.node_facts(st)
        for i, n in ipairs(shared.nodes(st)) do
          if m and n.id == m.id then
            local f = facts[i] or {}
            local rs = f.replica
            local behind = f.executed and count(gtid.subtract(ex, f.executed)) or nil
            rows[#rows + 1] = { key = "replication", label = "standby master", value = behind,
                                text = rs and ("replicates from production (io=%s sql=%s), %s transaction(s) behind"):format(
                                  tostring(rs.io_running), tostring(rs.sql_running), tostring(behind)) or "is not a replica",
                                state = (rs and rs.io_running and rs.sql_running) and "ok" or "note" }
          end
        end
        return rows
      end
      local since = gtid.subtract(ex, st.frozen)
      local n = count(since)
      local rows = {
        { key = "production_since_restore_point", label = "production", value = n,
          text = ("%d transaction(s) since the restore point (%s), on %s"):format(n, tostring(st.frozen_at or (st.drill and st.drill.started)),
                                                                            prod.node.id),
          data = { gtids = since, since = st.frozen_at or (st.drill and st.drill.started) } },
      }
      local facts = shared.node_facts(st)
      for i, m in ipairs(shared.nodes(st)) do
        if m.role == "primary" and facts[i] and facts[i].executed then
          local drill = gtid.subtract(facts[i].executed, st.frozen)
          rows[#rows + 1] = { key = "standby_since_restore_point", label = "standby", value = count(drill),
                              text = ("%d transaction(s) written on the standby during the drill (stop throws them away)"):format(count(drill)),
                              data = { gtids = drill } }
        end
      end
      return rows
    end },

  { id = "reattach", title = "re-attach deadline", run = function(ctx, shared)
      local st = ctx.state
      local prod = shared.prod()
      local frozen = st.frozen
      local drill = open_drill(st)
      if not drill then
        -- No drill: what a drill started now would have (the standby master's GTID set).
        local facts = shared.node_facts(st)
        local m = shared.topo().target.primary
        for i, n in ipairs(shared.nodes(st)) do if m and n.id == m.id and facts[i] then frozen = facts[i].executed end end
        frozen = frozen or server.executed(prod.conn)
      end
      local r = retention.read(prod.conn, prod.ssh, frozen)
      local rows = {
        { key = "master", label = "production master", value = prod.node.id, text = ("%s (%s)"):format(prod.node.id, r.version) },
        { key = "expiry", label = "expiry", value = r.policy.seconds, text = r.policy.why ..
            (r.policy.seconds and (" (" .. retention.span(r.policy.seconds) .. ")") or "") },
      }
      local list = {}
      for i, f in ipairs(r.files) do
        list[#list + 1] = ("%s %d bytes%s%s"):format(f.name, f.size or 0, f.mtime and (", " .. os.date("!%Y-%m-%dT%H:%M:%SZ", f.mtime)) or "",
                                                     (i == r.needed_index and r.lost == "") and "  <- oldest holding what the standby needs" or "")
      end
      rows[#rows + 1] = { key = "binlogs", label = "binary logs", value = #r.files, text = table.concat(list, "\n"), data = r.files }
      if not prod.ssh then
        rows[#rows + 1] = { key = "file_times", label = "file times", value = false, state = "note",
                            text = "unknown (no ssh to " .. prod.node.host .. ": " .. tostring(prod.ssh_err) .. "); judged from now" }
      end
      local d = r.deadline
      local warn_s = site.num("retention_warning_hours") * 3600
      local left = d.at and (d.at - r.now) or nil
      local state = "ok"
      if d.state == "lost" or d.state == "unknown" then state = drill and "warn" or "note"
      elseif left and left < warn_s then state = drill and "warn" or "note" end
      local text = d.text
      if left then text = ("%s left; %s"):format(retention.span(left), text) end
      if d.state == "lost" and drill then
        text = text .. "\nthe standby can no longer re-attach from production's binary logs: stop will refuse (docs/operator.md, \"When production purged what the standby needs\")"
      elseif state == "warn" then
        text = text .. ("\nless than site.retention_warning_hours=%d: end the drill (plans/stop.lua) or keep production's binary logs longer (SET GLOBAL binlog_expire_logs_seconds)"):format(site.num("retention_warning_hours"))
      end
      rows[#rows + 1] = { key = "deadline", label = drill and "deadline" or "if detached now", value = d.at, text = text, state = state,
                          data = { state = d.state, seconds_left = left, needed = r.needed and r.needed.name, lost = r.lost ~= "" and r.lost or nil } }
      return rows
    end },

  { id = "disk", title = "disk headroom", run = function(ctx, shared)
      local st = ctx.state
      local nodes = shared.nodes(st)
      local facts = shared.node_facts(st)
      local limit = site.num("disk_threshold")
      local items = {}
      for i, m in ipairs(nodes) do items[i] = { id = m.id, host = m.host, dir = m.datadir or (facts[i] and facts[i].datadir) } end
      local rows = {}
      local out, df_raised = cluster.try_each(items, function(x)
        if not x.dir then return nil end
        return cluster.read(cluster.ssh("target", x.host), "df -Pk " .. shell.quote(x.dir) .. " | awk 'NR==2 {print $4, $5, $3}'")
      end)
      local recs = open_drill(st) and st.restore_points or {}
      for i, m in ipairs(nodes) do
        local avail, pct, used = tostring(out[i] or ""):match("(%d+)%s+(%d+)%%%s+(%d+)")
        if avail then
          pct = tonumber(pct)
          -- A reflink restore point shares every block the drill has not rewritten: the growth
          -- since it was taken is what the drill's changes hold (with whatever else the node wrote).
          local rec = recs[m.id]
          local grown = rec and rec.fs_used_kb and (tonumber(used) - rec.fs_used_kb) or nil
          rows[#rows + 1] = { key = m.id, label = m.id, value = tonumber(avail) * 1024,
                              text = ("%d%% used, %.1f GiB free (limit %d%%)%s"):format(pct, tonumber(avail) / 2 ^ 20, limit,
                                grown and ("; %+.1f MiB written since the copy-on-write restore point (the drill's changes, with their binary, relay and redo logs)"):format(grown / 1024) or ""),
                              state = pct > limit and "warn" or "ok", data = { used_pct = pct, grown_kb = grown } }
        else
          local why = df_raised and df_raised[i] and (": " .. tostring(df_raised[i])) or ""
          rows[#rows + 1] = { key = m.id, label = m.id, value = nil, text = "unknown (df failed" .. why .. ")", state = "warn" }
        end
      end
      return rows
    end },

  -- production's binary logs kept during the drill (stdlib/binlog_stream.lua): running?, the
  -- supervisor's and mysqlbinlog's pids, restarts, last file and GTID received, lag; after stop
  -- --production-lost, what the standby holds.
  { id = "stream", title = "binary log stream", run = function(ctx)
      return binlog_stream.status_rows(ctx.state)
    end },
}

return {
  name = "status",
  description = "how the drill stands: nodes, restore points, drift, re-attach deadline, disk (read-only)",
  needs = { "source", "target" },
  ssh_to = { "target" },
  journal = "read",
  steps = {
    { id = "status", name = "report the drill's status", always = true, run = function(ctx)
        local report = sections.run(SECTIONS, ctx, shared_facts())
        report.drill_open = open_drill(ctx.state)
        ctx.report = report -- --report-json FILE writes it
        io.stdout:write(flog.mask(sections.human(report)))
        io.stdout:flush()
        if report.state == "warn" then
          refuse(("%d thing(s) need the DBA:\n  %s"):format(#report.needs_dba, table.concat(report.needs_dba, "\n  ")))
        end
      end },
  },
}
