-- stdlib/drill_report.lua and stdlib/sections.lua inside the real binary: the drill report built
-- from a journal's state and timeline (open duration, counts, per-node differences, Markdown),
-- and a report of sections (a failing section becomes one "warn" row, the others still run).
local drill_report = require "drill_report"
local sections = require "sections"
local check = require "check"
local eq = check.eq

local U = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
local S = "4f22ab58-82db-22f2-af44-d91bba53a673"

local function step(id, started, finished, outcome) return { id = id, name = id, started = started, finished = finished, outcome = outcome } end

return {
  name = "stdlib-report",
  description = "the drill report and status sections",
  journal = false,
  steps = {
    { name = "epoch", run = function()
        eq(drill_report.epoch("1970-01-01T00:00:00Z"), 0, "epoch 0")
        eq(drill_report.epoch("2000-03-01T00:00:00Z"), 951868800, "after a leap day")
        eq(drill_report.epoch("2026-11-30T04:21:15Z"), 1796012475, "a drill")
        eq(drill_report.epoch("yesterday"), nil, "not a time")
      end },
    { name = "build and render", run = function()
        local st = {
          drill = { started = "2026-11-30T04:00:00Z", host = "jump1" }, strategy = "local", frozen = U .. ":1-14",
          frozen_at = "2026-11-30T04:00:03Z", thrown_away = S .. ":1-6", caught_up = U .. ":15-16",
          replication = "flowing (2 transaction(s) …)", replication_proof = "gtid",
          standby_options = { read_only = true },
          checks = { { result = "ok", check = "source router answers SQL" }, { result = "warn", check = "semi-sync fell back" } },
          sites = { { id = "a:3308", role = "primary", variables = { read_only = "OFF", super_read_only = "OFF", max_connections = "151" } },
                    { id = "b:3308", role = "joiner", variables = { read_only = "ON", super_read_only = "ON" } } },
          restore_points = { ["a:3308"] = { dir = "/d/a/rp", bytes = 75743228, files = 21, seconds = 2.5 },
                             ["b:3308"] = { dir = "/d/b/rp", bytes = 75743228, files = 21, seconds = 3 } },
        }
        local runs = {
          { plan = "start", host = "jump1", started = "2026-11-30T04:00:00Z", finished = "2026-11-30T04:00:07Z", outcome = "done",
            steps = { step("check", "2026-11-30T04:00:00Z", "2026-11-30T04:00:03Z", "ok"), step("open", "2026-11-30T04:00:07Z", "2026-11-30T04:00:07Z", "ok") } },
          { plan = "stop", host = "jump1", started = "2026-11-30T05:30:00Z", outcome = "failed",
            steps = { step("close", "2026-11-30T05:30:01Z", "2026-11-30T05:30:02Z", "ok"), step("swap", "2026-11-30T05:30:02Z", nil, "failed") } },
          { plan = "stop", host = "jump2", started = "2026-11-30T05:40:00Z", outcome = "done",
            steps = { step("close", "2026-11-30T05:40:01Z", "2026-11-30T05:40:02Z", "ok") } },
        }
        local after = { written = "2026-11-30T05:41:00Z", router_read_only = true, clusters = { source = "p:3307", target = "s:3307" },
                        nodes = { ["a:3308"] = { variables = { read_only = "OFF", super_read_only = "OFF", max_connections = "500" } },
                                  ["b:3308"] = { error = "cannot connect" } } }
        local r = drill_report.build(st, runs, after)
        eq(r.standby_open.opened, "2026-11-30T04:00:07Z", "opened: start's open step")
        eq(r.standby_open.closed, "2026-11-30T05:30:02Z", "closed: the first stop run's close step")
        eq(r.standby_open.seconds, 5395, "open for")
        eq(r.thrown_away.transactions, 6, "thrown away"); eq(r.caught_up.transactions, 2, "caught up")
        eq(r.restore_point.nodes[1].bytes, 75743228, "restore point size")
        eq(#r.nodes[1].variables_differing, 1, "one variable differs on a")
        eq(r.nodes[1].variables_differing[1].name, "max_connections", "which")
        eq(r.nodes[2].error, "cannot connect", "b not read")
        eq(#r.timeline, 3, "every run")
        local md = drill_report.markdown(r)
        assert(md:find("| standby open read-write | 2026-11-30T04:00:07Z → 2026-11-30T05:30:02Z (1 h 29 min) |", 1, true), md)
        assert(md:find("| a:3308 | OFF → OFF | OFF → OFF | max_connections: 151 → 500 |", 1, true), md)
        assert(md:find("- WARN semi-sync fell back", 1, true), md)
        assert(md:find("| **stop** | (run from jump2) |", 1, true), md)
        local decoded = cjson.decode(cjson.encode(r))
        eq(decoded.caught_up.gtid_set, U .. ":15-16", "JSON round trip")
      end },
    { name = "sections", run = function()
        local rep = sections.run({
          { id = "one", title = "one", run = function() return { { key = "k", label = "fine", value = 1 } } end },
          { id = "two", title = "two", run = function() error("router unreachable", 0) end },
          { id = "three", title = "three", run = function() return { { key = "d", label = "deadline", value = 5, state = "warn", text = "near" } } end },
        }, {}, {})
        eq(rep.state, "warn", "overall"); eq(#rep.sections, 3, "every section ran")
        eq(rep.sections[1].state, "ok", "one"); eq(rep.sections[2].state, "warn", "a failing section")
        eq(rep.sections[2].rows[1].value, "router unreachable", "its error")
        eq(#rep.needs_dba, 2, "two things need the DBA"); eq(rep.needs_dba[2], "three: deadline: near", "named")
        local text = sections.human(rep)
        assert(text:find("!!  deadline  near", 1, true), text)
        local ok = sections.run({ { id = "one", title = "one", run = function() return { { key = "k", label = "x", value = 1, state = "note" } } end } }, {}, {})
        eq(ok.state, "ok", "a note needs nobody")
      end },
  },
}
