-- stdlib/flashrun/progress.lua inside the real binary: the rate/ETA arithmetic on given sample
-- times (no sleeps), the throttling of lines, a stage change, an unknown total, done going back
-- (the stage restarted), samples of what is left; then the output: the info line, the --log-json
-- event (run.sh checks both) and progress.json (none in a rehearsal), removed by finish().
local progress = require "flashrun.progress"
local check = require "check"
local eq, raises = check.eq, check.raises

local MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024

local function near(got, want, what)
  if got == nil or math.abs(got - want) > 1e-6 * math.max(1, math.abs(want)) then
    error(("%s: got %s, expected %s"):format(what, tostring(got), tostring(want)), 2)
  end
end

local function clone(opts)
  opts = opts or {}
  return progress.tracker{ node = "tgt1:3306", task = "clone", unit = "bytes", step = "restore point",
                           interval = opts.interval or 10, window = opts.window }
end

return {
  name = "stdlib-progress",
  description = "tests of stdlib/flashrun/progress.lua",
  journal = false,
  steps = {
    { name = "rate, percentage and ETA", run = function()
        local t = clone()
        local r, due = t:update({ stage = "FILE COPY", done = 0, total = 4 * GiB }, 100)
        eq(due, true, "the first sample shows a line")
        eq(r.rate, nil, "no rate from one sample"); eq(r.eta, nil, "no ETA without a rate"); eq(r.pct, 0, "pct")
        eq(r.restarted, nil, "the first sample is no restart")
        r, due = t:update({ stage = "FILE COPY", done = 500 * MiB, total = 4 * GiB }, 105)
        eq(due, false, "5 s after a line: none"); near(r.rate, 100 * MiB, "rate")
        r, due = t:update({ stage = "FILE COPY", done = 1000 * MiB, total = 4 * GiB }, 110)
        eq(due, true, "10 s after a line: one")
        near(r.rate, 100 * MiB, "rate"); near(r.eta, (4096 - 1000) / 100, "eta"); near(r.pct, 1000 / 4096 * 100, "pct")
        eq(progress.line(r), "tgt1:3306: clone FILE COPY 1000.0 MiB of 4.0 GiB (24 %), 100.0 MiB/s, ETA 31 s", "line")
        eq(r.step, "restore point", "step"); eq(r.node, "tgt1:3306", "node"); eq(r.stage, "FILE COPY", "stage")
        -- past the estimate (a clone's data may pass its estimate): 100 %, ETA 0
        r = t:update({ stage = "FILE COPY", done = 5 * GiB, total = 4 * GiB }, 120)
        eq(r.pct, 100, "pct past the total"); eq(r.eta, 0, "eta past the total")
      end },
    { name = "the rate is the mean over the last 30 s", run = function()
        local t = clone()
        local done, r = 0, nil
        for s = 0, 60, 10 do
          r = t:update({ stage = "FILE COPY", done = done, total = 100 * GiB }, s)
          done = done + (s < 30 and 100 or 50) * 10 * MiB -- 100 MiB/s for 30 s, then 50 MiB/s
        end
        near(r.rate, 50 * MiB, "rate over the window 30..60 s (100 MiB/s before it forgotten)")
        local u = clone({ window = 1000 })
        done = 0
        for s = 0, 60, 10 do
          r = u:update({ stage = "FILE COPY", done = done, total = 100 * GiB }, s)
          done = done + (s < 30 and 100 or 50) * 10 * MiB
        end
        near(r.rate, 75 * MiB, "rate over a 1000 s window: the mean since the start")
        -- irregular sample times: the window's mean, not a per-sample one
        local v = clone()
        v:update({ stage = "S", done = 0, total = GiB }, 0)
        v:update({ stage = "S", done = 10 * MiB, total = GiB }, 0.5)
        r = v:update({ stage = "S", done = 40 * MiB, total = GiB }, 4)
        near(r.rate, 10 * MiB, "rate over irregular samples")
      end },
    { name = "one line per interval; a stage change shows at once", run = function()
        local t = clone()
        local dues = {}
        for _, s in ipairs({ 0, 3, 6, 9, 10, 15, 19.99, 20 }) do
          local _, due = t:update({ stage = "FILE COPY", done = s * MiB, total = GiB }, s)
          dues[#dues + 1] = due and "y" or "n"
        end
        eq(table.concat(dues), "ynnnynny", "lines at 0, 10, 20 s")
        local r, due = t:update({ stage = "PAGE COPY", done = MiB, total = 2 * MiB }, 22)
        eq(due, true, "a new stage shows at once"); eq(r.restarted, true, "a new stage restarts")
        eq(r.rate, nil, "the new stage's rate starts afresh"); eq(r.stage, "PAGE COPY", "stage")
        r, due = t:update({ stage = "PAGE COPY", done = 2 * MiB, total = 2 * MiB }, 24)
        eq(due, false, "2 s after the stage's line"); near(r.rate, MiB / 2, "rate in the new stage")
        local i = clone({ interval = 0 })
        local _, d1 = i:update({ done = 1 }, 0)
        local _, d2 = i:update({ done = 2 }, 0.1)
        eq(d1 and d2, true, "interval 0: every sample shows")
      end },
    { name = "an unknown total: no percentage, no ETA", run = function()
        local t = progress.tracker{ node = "tgt2:3306", task = "removal", unit = "bytes", interval = 10 }
        t:update({ done = 0 }, 0)
        local r = t:update({ done = 3 * GiB, total = 0 }, 10)
        eq(r.total, nil, "total 0 is unknown"); eq(r.pct, nil, "pct"); eq(r.eta, nil, "eta")
        near(r.rate, 3 * GiB / 10, "rate")
        eq(progress.line(r), "tgt2:3306: removal 3.0 GiB, 307.2 MiB/s", "line")
      end },
    { name = "done going back restarts the stage", run = function()
        local t = clone()
        t:update({ stage = "FILE COPY", done = 0, total = GiB }, 0)
        t:update({ stage = "FILE COPY", done = 500 * MiB, total = GiB }, 10)
        local r, due = t:update({ stage = "FILE COPY", done = 20 * MiB, total = GiB }, 12)
        eq(due, true, "a restart shows at once"); eq(r.restarted, true, "restarted")
        eq(r.rate, nil, "no rate across a restart"); eq(r.eta, nil, "no ETA yet")
        r = t:update({ stage = "FILE COPY", done = 220 * MiB, total = GiB }, 14)
        near(r.rate, 100 * MiB, "rate after the restart")
      end },
    { name = "samples of what is left (a wait)", run = function()
        local t = progress.tracker{ node = "tgt2:3306", task = "apply", unit = "transactions", interval = 10 }
        local r = t:update({ left = 5000 }, 0)
        eq(r.total, 5000, "total: the first left"); eq(r.done, 0, "done")
        r = t:update({ left = 4000 }, 10)
        eq(r.done, 1000, "done"); near(r.rate, 100, "rate"); near(r.eta, 40, "eta")
        eq(progress.line(r), "tgt2:3306: apply 1000 of 5000 transactions (20 %), 100 transactions/s, ETA 40 s", "line")
        -- more arrives than is applied: the total grows, no restart, the rate is the net drain
        r = t:update({ left = 6000 }, 20)
        eq(r.total, 6000, "total grows"); eq(r.restarted, nil, "no restart"); near(r.rate, -50, "net rate")
        eq(r.eta, nil, "no ETA while falling behind")
        r = t:update({ left = 0 }, 30)
        eq(r.eta, 0, "eta at the end"); eq(r.pct, 100, "pct at the end")
      end },
    { name = "formatting", run = function()
        eq(progress.bytes(812), "812 B", "bytes"); eq(progress.bytes(1536), "1.5 KiB", "KiB")
        eq(progress.bytes(5 * 1024 ^ 4), "5.0 TiB", "TiB")
        eq(progress.duration(34.4), "34 s", "s"); eq(progress.duration(312), "5 min 12 s", "min")
        eq(progress.duration(7500), "2 h 05 min", "h")
        raises("node must be a non-empty string", progress.tracker, { task = "clone", unit = "bytes" })
        raises("sample.done must be a number", function() clone():update({ stage = "x" }, 0) end)
      end },
    { name = "output: the line, the event, progress.json", run = function()
        local dir = "progress-state"
        progress.setup{ state_dir = dir, interval = 10, plan = "stdlib-progress" }
        eq(progress.read(dir), nil, "no progress.json before a sample")
        local t = progress.tracker{ node = "tgt1:3306", task = "clone", unit = "bytes" }
        eq(t.step, "output: the line, the event, progress.json", "step: the running one's name")
        t:sample({ stage = "FILE COPY", done = 0, total = 4 * GiB }, 0)
        t:sample({ stage = "FILE COPY", done = 100 * MiB, total = 4 * GiB }, 5) -- no line
        t:sample({ stage = "FILE COPY", done = 1000 * MiB, total = 4 * GiB }, 10)
        local u = progress.tracker{ node = "tgt2:3306", task = "clone", unit = "bytes" }
        u:sample({ stage = "DROP DATA" , done = 0 }, 0)
        local doc = progress.read(dir)
        if dry_run then
          eq(doc, nil, "a rehearsal writes no progress.json")
        else
          eq(type(doc), "table", "progress.json read back")
          eq(doc.plan, "stdlib-progress", "plan"); eq(math.type(doc.pid), "integer", "pid")
          local n = doc.nodes["tgt1:3306"]
          eq(n.done, 1000 * MiB, "the latest line's done"); eq(n.stage, "FILE COPY", "stage")
          eq(n.line, "tgt1:3306: clone FILE COPY 1000.0 MiB of 4.0 GiB (24 %), 100.0 MiB/s, ETA 31 s", "line")
          eq(doc.nodes["tgt2:3306"].total, nil, "unknown total absent")
          eq(doc.nodes["tgt2:3306"].stage, "DROP DATA", "second node")
        end
        progress.finish()
        eq(progress.read(dir), nil, "finish() removed progress.json")
        print("progress output checked")
      end },
  },
}
