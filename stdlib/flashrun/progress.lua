-- flashrun.progress — progress of the phases that can last long (a clone, a reflink copy, the
-- swap's removal of the drill's data, a wait for apply or catch-up), one tracker per (step, node).
--
-- A caller samples what it measures (samplers: stdlib/clone_progress.lua) and feeds the tracker;
-- the tracker computes the rate, the percentage and the ETA and shows them:
--   * an info line, at most one per node every site.progress_interval seconds, and at once when
--     the stage changes (or restarts):
--       tgt1:3306: clone FILE COPY 1.2 GiB of 4.0 GiB (30 %), 85.0 MiB/s, ETA 34 s
--   * the same as a --log-json event
--       {"event":"progress","step":…,"node":…,"task":…,"stage":…,"unit":…,"done":…,"total":…,
--        "pct":…,"rate":…,"eta":…}  (numbers; total, pct, rate, eta absent when unknown)
--   * the latest report of every node in <state_dir>/progress.json (replaced whole: temporary file
--     and rename; not the journal: it is a view, nothing resumes from it), which status reads with
--     progress.read(state_dir) and finish() removes. A rehearsal (--dry-run) writes no file.
--
-- The rate is the mean over a sliding window of the last WINDOW (30) seconds of samples: the
-- done count's growth between the oldest sample in the window and the newest, divided by the
-- time between them. Not an EWMA: samples come at irregular times (a sampler's query may take
-- seconds on a loaded server), and a window's mean needs no per-sample weight to stay right; it
-- forgets a stall or a throttle change after 30 s, short beside the phases it measures (minutes
-- to hours), long enough to smooth the 1–2 s steps a clone's counters move in.
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local fs = require "flashrun.fs"
local cjson = require "cjson"

local M = {}

M.WINDOW = 30        -- seconds of samples the rate is measured over
M.INTERVAL = 10      -- seconds between two lines of one node unless setup{interval=} says
M.FILE = "progress.json"

-- The run's settings and the latest report of every node (for progress.json).
local run = { interval = M.INTERVAL, nodes = {} }

-- ---------------------------------------------------------------- formatting (pure)

local BINARY = { "KiB", "MiB", "GiB", "TiB", "PiB" }

-- "812 B", "1.2 GiB".
function M.bytes(n)
  if math.abs(n) < 1024 then return ("%d B"):format(math.floor(n + 0.5)) end
  local i = 0
  repeat n, i = n / 1024, i + 1 until math.abs(n) < 1024 or i == #BINARY
  return ("%.1f %s"):format(n, BINARY[i])
end

-- "34 s", "5 min 12 s", "2 h 05 min".
function M.duration(s)
  s = math.floor(s + 0.5)
  if s < 60 then return ("%d s"):format(s) end
  if s < 3600 then return ("%d min %d s"):format(s // 60, s % 60) end
  return ("%d h %02d min"):format(s // 3600, s % 3600 // 60)
end

-- An amount in the report's unit: bytes in binary multiples, anything else a count.
local function amount(n, unit)
  if unit == "bytes" then return M.bytes(n) end
  if n == math.floor(n) or math.abs(n) >= 100 then return ("%d"):format(math.floor(n + 0.5)) end
  return ("%.1f"):format(n)
end

-- line(report) -> the human line of a report (what sample() returns). Pure.
--   tgt1:3306: clone FILE COPY 1.2 GiB of 4.0 GiB (30 %), 85.0 MiB/s, ETA 34 s
--   tgt2:3306: apply 1200 of 5000 transactions (24 %), 300 transactions/s, ETA 13 s
--   tgt1:3306: removal 3.1 GiB                      (no total: no percentage, no ETA)
function M.line(r)
  local unit = r.unit == "bytes" and "" or (" " .. r.unit)
  local what = r.task
  if r.stage and r.stage ~= "" and r.stage ~= r.task then what = what .. " " .. r.stage end
  local text
  if r.total then
    text = ("%s: %s %s of %s%s (%d %%)"):format(r.node, what, amount(r.done, r.unit),
                                                amount(r.total, r.unit), unit, math.floor(r.pct))
  else
    text = ("%s: %s %s%s"):format(r.node, what, amount(r.done, r.unit), unit)
  end
  if r.rate then text = text .. (", %s%s/s"):format(amount(r.rate, r.unit), unit) end
  if r.eta then text = text .. ", ETA " .. M.duration(r.eta) end
  return text
end

-- ---------------------------------------------------------------- the tracker

local Tracker = {}
Tracker.__index = Tracker

-- tracker{node=, task=, unit= [, step=, interval=, window=]} -> a tracker of one node's phase.
--   node: "host:port"; task: what runs ("clone", "reflink copy", "removal", "apply");
--   unit: what done and total count ("bytes", "transactions", "seconds", ...);
--   step: the step's name (default: the step running now, as the log lines name it);
--   interval: seconds between two lines (default setup's, i.e. site.progress_interval);
--   window: seconds the rate is measured over (default WINDOW).
-- A wrong argument is a mistake in the calling code: it raises.
function M.tracker(opts)
  assert(type(opts) == "table", "progress.tracker: a table {node=, task=, unit=} expected")
  for _, k in ipairs({ "node", "task", "unit" }) do
    if type(opts[k]) ~= "string" or opts[k] == "" then
      error(("progress.tracker: %s must be a non-empty string"):format(k), 2)
    end
  end
  return setmetatable({
    node = opts.node, task = opts.task, unit = opts.unit,
    step = opts.step or log.current_step(),
    interval = opts.interval, window = opts.window or M.WINDOW,
    samples = {},   -- { {t=, v=} } in the current stage, oldest first; v grows as work is done
    stage = nil, started = false, last_line = nil, left_max = nil,
  }, Tracker)
end

-- update(sample [, t]) -> report, due: the arithmetic, no output. Pure (t given).
--   sample: {stage=, done=, total=} (total nil or 0: unknown) or {stage=, left=} (what remains,
--   e.g. transactions to apply: total is the most seen left in the stage, done = total - left);
--   t: the sample's time in seconds (default now(), monotonic).
--   report: {step, node, task, unit, stage, done, total?, pct?, rate?, eta?, restarted?}
--     rate: unit per second over the window (nil until two samples apart in time);
--     eta: seconds (nil without a total or while the rate is not positive; 0 once done >= total);
--     restarted: the stage changed, or done went back (the stage began again: a retried clone).
--   due: a line is due (the first sample, a restart, or interval seconds since the last line).
function Tracker:update(s, t)
  assert(type(s) == "table", "progress: a sample is a table {stage=, done=, total=} or {stage=, left=}")
  t = t or sched.now()
  local stage = s.stage ~= nil and tostring(s.stage) or nil
  local done, total, v
  if s.left ~= nil then
    local left = assert(tonumber(s.left), "progress: sample.left must be a number")
    if stage ~= self.stage then self.left_max = nil end
    self.left_max = math.max(self.left_max or 0, left)
    total, done, v = self.left_max, self.left_max - left, -left
  else
    done = assert(tonumber(s.done), "progress: sample.done must be a number")
    total = tonumber(s.total)
    if total and total <= 0 then total = nil end
    v = done
  end
  local last = self.samples[#self.samples]
  local restarted = not self.started or stage ~= self.stage or (s.left == nil and last and v < last.v)
  if restarted then self.samples, self.stage = {}, stage end
  self.started = true
  local w = self.samples
  w[#w + 1] = { t = t, v = v }
  -- Keep one sample at or before the window's start: the rate spans the whole window.
  while #w > 2 and w[2].t <= t - self.window do table.remove(w, 1) end
  local rate
  if #w >= 2 and w[#w].t > w[1].t then rate = (w[#w].v - w[1].v) / (w[#w].t - w[1].t) end
  local pct, eta
  if total then
    pct = math.min(100, done / total * 100)
    if done >= total then eta = 0 elseif rate and rate > 0 then eta = (total - done) / rate end
  end
  local r = { step = self.step, node = self.node, task = self.task, unit = self.unit, stage = stage,
              done = done, total = total, pct = pct, rate = rate, eta = eta,
              restarted = (restarted and last ~= nil) or nil }
  local interval = self.interval or run.interval
  local due = restarted or self.last_line == nil or t - self.last_line >= interval
  if due then self.last_line = t end
  return r, due
end

-- The report as the --log-json event's fields (numbers stay numbers).
local function fields(r)
  return { step = r.step, node = r.node, task = r.task, unit = r.unit, stage = r.stage,
           done = r.done, total = r.total, pct = r.pct, rate = r.rate, eta = r.eta }
end

local function write_file()
  if not run.state_dir or log.dry_run() then return end
  local doc = { pid = run.pid, plan = run.plan, updated = os.time(), step = run.step, nodes = run.nodes }
  local ok, err = fs.write_private(run.state_dir .. "/" .. M.FILE, cjson.encode(doc))
  -- Progress is a view: a full disk must not fail the drill's step over it.
  if not ok then log.debug("progress: %s", tostring(err)) end
end

-- sample(sample [, t]) -> report: update(), then, when a line is due, the info line, the
-- --log-json event and progress.json.
function Tracker:sample(s, t)
  local r, due = self:update(s, t)
  if due then
    local text = M.line(r)
    log.event("progress", fields(r), text, "info")
    local kept = fields(r)
    kept.at, kept.line = os.time(), text
    run.nodes[r.node] = kept
    write_file()
  end
  return r
end

-- ---------------------------------------------------------------- the run

-- setup{state_dir=, interval=, plan=}: once per run, before the first tracker (the interpreter
-- or the plan): where progress.json goes (nil: nowhere), site.progress_interval (default
-- INTERVAL), the plan's name (kept in the file). A progress.json an earlier run left (killed) is
-- removed, except in a rehearsal.
function M.setup(opts)
  opts = opts or {}
  run = { state_dir = opts.state_dir, interval = tonumber(opts.interval) or M.INTERVAL,
          plan = opts.plan, pid = M.pid(), nodes = {} }
  if run.state_dir and not log.dry_run() then os.remove(run.state_dir .. "/" .. M.FILE) end
end

-- step(id, name): the interpreter begins step id (named name, "undo: …" for an undo): kept in
-- progress.json ({id, name, started = Unix time}) for status, the last step's reports forgotten.
-- (Not the journal, which is written when a step ends: a write more would be a kill point more.)
function M.step(id, name)
  run.step = { id = id, name = name, started = os.time() }
  run.nodes = {}
  write_file()
end

-- finish(): the plan ended: progress.json is removed and the reports forgotten.
function M.finish()
  if run.state_dir and not log.dry_run() then os.remove(run.state_dir .. "/" .. M.FILE) end
  run.nodes = {}
end

-- read(state_dir) -> {pid=, plan=, updated= (Unix time), step = {id, name, started} or nil, nodes = {[node] = {step, task, unit,
-- stage, done, total, pct, rate, eta, at (Unix time), line}}}, or nil when there is none (no
-- run in progress is reporting), or nil, err when it cannot be read.
function M.read(state_dir)
  local path = state_dir .. "/" .. M.FILE
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local ok, doc = pcall(cjson.decode, text or "")
  if not ok or type(doc) ~= "table" then return nil, path .. ": not a progress document" end
  doc.pid = math.tointeger(doc.pid) -- cjson reads every number as a float
  for _, r in pairs(type(doc.nodes) == "table" and doc.nodes or {}) do
    for k, v in pairs(r) do if v == cjson.null then r[k] = nil end end
  end
  return doc
end

-- during(opts, fn, sampler [, period]) -> fn()'s results, fn's error raised as it was. While fn
-- runs (a clone, a copy, a removal: one blocking statement or command), sampler() is called
-- every period seconds (default 2, or half the lines' interval when that is shorter) beside it and what it returns ({stage, done, total} or
-- {stage, left}; nil, err: no sample this time) is fed to a tracker made of opts (as tracker()).
-- A sampler that raises is given up, never fn. A rehearsal runs fn alone.
function M.during(opts, fn, sampler, period)
  if log.dry_run() then return fn() end
  local t = M.tracker(opts)
  -- every 2 s, or twice per line when lines come more often (site.progress_interval = 1)
  period = period or math.max(0.5, math.min(2, (t.interval or run.interval) / 2))
  local done, res = false, nil
  sched.parallel({ "work", "sample" }, function(what)
    if what == "work" then
      res = table.pack(pcall(fn))
      done = true
      return
    end
    local next_at = sched.now() + math.min(period, 1)
    while not done do
      if sched.now() >= next_at then
        local ok, sample = pcall(sampler)
        if not ok then return end
        if sample and not done then t:sample(sample) end
        next_at = sched.now() + period
      end
      sched.sleep(0.1)
    end
  end)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- This process's id (kept in progress.json: status tells a live run's file from a killed one's
-- by the journal lock's holder).
function M.pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local pid = tonumber((f:read("l") or ""):match("^(%d+)"))
  f:close()
  return pid
end

return M
