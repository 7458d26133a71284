-- sections.lua — a report made of sections (plans/status.lua): running them, printing them.
--
-- A section is { id =, title =, run = function(ctx, shared) return rows, state end }: rows is a
-- list of { key = machine name, label = human name, value = text, number or boolean, text =
-- human text when value alone is not enough, state = "ok" | "note" | "warn", data = any extra
-- machine-readable table }; state is the section's own (default: the worst of its rows), on the
-- one scale of states (states.lua). "warn" means the DBA must act: status then exits 3. A
-- section that raises shows the error as one "warn" row; the others still run. `shared` caches
-- what several sections read (routers, production's master) for the run.
local array = require("flashrun.report").array
local states = require "states"
local clock = require "flashrun.clock"
local M = {}

local worst = states.worst

-- Runs every section; returns the report { at, state = "ok" | "warn", needs_dba = { "section:
-- row text" }, sections = { {id, title, state, rows} } }.
function M.run(sections, ctx, shared)
  local report = { at = clock.utc(), state = "ok", needs_dba = array(), sections = array() }
  for _, sec in ipairs(sections) do
    local ok, rows, state = pcall(sec.run, ctx, shared)
    if not ok then
      local msg = tostring(rows):match("^(.-)\nstack traceback:") or tostring(rows)
      rows, state = { { key = "error", label = "could not read", value = msg, state = "warn" } }, "warn"
    end
    rows = array(rows or {})
    for _, r in ipairs(rows) do
      r.state = r.state or "ok"
      state = worst(state, r.state)
      if r.state == "warn" then
        report.needs_dba[#report.needs_dba + 1] = ("%s: %s: %s"):format(sec.title, r.label, r.text or tostring(r.value))
      end
    end
    state = state or "ok"
    report.sections[#report.sections + 1] = { id = sec.id, title = sec.title, state = state, rows = rows }
    report.state = worst(report.state, state == "warn" and "warn" or "ok")
  end
  return report
end

-- The report as text for a terminal: one block per section, one line per row, "!!" before what
-- needs the DBA.
function M.human(report)
  local out = { ("flashrun status at %s: %s"):format(report.at, report.state == "warn"
                 and (#report.needs_dba .. " thing(s) need the DBA") or "nothing needs the DBA") }
  for _, s in ipairs(report.sections) do
    out[#out + 1] = ""
    out[#out + 1] = ("%s%s"):format(s.title, s.state == "warn" and "  [needs the DBA]" or "")
    local w = 0
    for _, r in ipairs(s.rows) do w = math.max(w, #r.label) end
    for _, r in ipairs(s.rows) do
      local v = r.text or (r.value == nil and "" or tostring(r.value))
      v = v:gsub("\n", "\n" .. (" "):rep(w + 6))
      out[#out + 1] = ("%s  %-" .. w .. "s  %s"):format(states.mark(r.state), r.label, v)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
