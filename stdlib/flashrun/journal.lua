-- flashrun.journal — the `redo` global: a JSON document over the flashrun.redo journal file.
--
-- Document shape (what a resumed run and the next plan read back):
--   { state = { ... },                      -- ctx.state, shared by all plans (stop reads start's)
--     owner = { [section] = "host:port" },  -- the clusters the state is about (plan.needs)
--     plans = { [plan name] = { status = "running" | "done" | "failed",
--                               steps_done = { [step name] = true, ... },
--                               state_keys = { [step name] = { key, ... } }, -- what each step added
--                               started = "2024-05-01T10:00:00Z" (its first run),
--                               run_started = (its last run, resumed or not), finished = ...,
--                               rollback = "none" | "complete" | "incomplete" (when it failed),
--                               failed_step = name, error = masked message,
--                               truncate_after = step name (its redo.truncate() waits for the
--                                                plan's end) } },
--     runs = { { plan =, host =, started =, finished =, outcome = "done" | "failed" | "refused" |
--                "interrupted" | "running",
--                steps = { { id =, name =, started =, finished =, seconds =, outcome = "ok" |
--                            "failed" | "refused" | "interrupted" | "skipped" | "undone" |
--                            "undo failed" }, ... } }, ... } }
--                                           -- every plan run and step, in order: the drill's
--                                           -- timeline (stop's report reads it)
-- The document is kept in memory and written through on every change, so in dry-run (where
-- flashrun.redo records writes instead of doing them, a rehearsal's journal included) the run
-- still sees its own progress. Without a journal (plan.journal == false, --list, status's
-- snapshot) everything stays in memory.
local cjson = require "cjson"

local M = {}
local handle -- flashrun.redo journal (redo.open's, or redo.rehearse's in a dry run), or nil
local doc = { state = {}, plans = {} }
local current -- name of the plan being run
local deferring, pending = false, false -- redo.truncate() while a plan runs (defer_truncate)

-- cjson decodes every number as a float; ports and counters should come back as integers.
local function integers(v)
  if type(v) == "number" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do v[k] = integers(x) end
  return v
end

local function decode(text)
  if text == nil or text == "" then return {} end
  local ok, t = pcall(cjson.decode, text)
  if not ok or type(t) ~= "table" then
    error("the journal is not a JSON object (" .. tostring(t) .. "); move it aside to start over", 0)
  end
  return integers(t)
end

local function persist()
  if not handle then return true end
  local text = cjson.encode(doc)
  local ok, err = handle:write(text)
  if ok == nil and err ~= nil then error("cannot write the journal: " .. tostring(err), 0) end
  return true
end

-- attach(j, plan): adopt an open flashrun.redo journal and load its document. Without j, the
-- document starts empty and stays in memory.
function M.attach(j, plan)
  handle, current = j, plan
  local text, err
  if j then
    text, err = j:read()
    -- nil alone means "no journal yet"; nil with a message means it exists but cannot be
    -- read, and treating that as empty would overwrite it on the first step.
    if text == nil and err then error("cannot read the journal: " .. tostring(err), 0) end
  end
  doc = decode(text)
  doc.state = doc.state or {}
  doc.plans = doc.plans or {}
end

-- snapshot(path, plan): the journal at path as it is now, read without the lock and never
-- written (a plan declared journal = "read": status). A missing file is an empty journal.
function M.snapshot(path, plan)
  handle, current = nil, plan
  -- Only a missing file is an empty journal: one that cannot be read (another user's, 0600)
  -- would make status say no drill is open.
  local f, err, errno = io.open(path, "r")
  if not f and errno ~= 2 then error("cannot read the journal: " .. tostring(err), 0) end
  local text = f and f:read("a")
  if f then f:close() end
  doc = decode(text)
  doc.state = doc.state or {}
  doc.plans = doc.plans or {}
  doc.snapshot = true
end

-- ---- the timeline (doc.runs): kept in memory, written with the next journal write ----------
local function utc() return os.date("!%Y-%m-%dT%H:%M:%SZ") end

local function this_run() return doc.runs and doc.runs[#doc.runs] end

-- Interpreter use: a run of the current plan begins.
function M.run_begin(host)
  if doc.snapshot then return end
  doc.runs = doc.runs or {}
  doc.runs[#doc.runs + 1] = { plan = current, host = host, started = utc(), outcome = "running", steps = {} }
end

-- Interpreter use: step `id` (named `name`) begins; step_end(outcome, seconds) ends it.
function M.step_begin(id, name)
  local r = this_run()
  if r then r.steps[#r.steps + 1] = { id = id, name = name, started = utc(), outcome = "running" } end
end

function M.step_end(outcome, seconds)
  local r = this_run()
  local s = r and r.steps[#r.steps]
  if s then s.finished, s.outcome, s.seconds = utc(), outcome, seconds and math.floor(seconds * 1000 + 0.5) / 1000 end
end

-- Interpreter use: a step noted without running it (skipped, done by an earlier run).
function M.step_note(id, name, outcome)
  local r = this_run()
  if r then r.steps[#r.steps + 1] = { id = id, name = name, outcome = outcome } end
end

function M.run_end(outcome)
  local r = this_run()
  if r then r.finished, r.outcome = utc(), outcome end
end

function M.detach()
  if handle then pcall(handle.close, handle) end
  handle = nil
end

function M.document() return doc end

-- redo.read() -> the journal document ({} fields when empty)
function M.read() return doc end

-- redo.write(tbl): replace the document
function M.write(t)
  if type(t) ~= "table" then error("redo.write: expected a table", 2) end
  doc = t
  doc.state = doc.state or {}
  doc.plans = doc.plans or {}
  return persist()
end

-- redo.step_done(name, data): the current plan finished step `name`; data merges into state.
function M.step_done(name, data)
  if type(name) ~= "string" then error("redo.step_done: expected a step name", 2) end
  if data ~= nil and type(data) ~= "table" then error("redo.step_done: data must be a table", 2) end
  local keys = {} -- the keys this step brought in; one it overwrote predates it and stays
  for k, v in pairs(data or {}) do
    if doc.state[k] == nil then keys[#keys + 1] = k end
    doc.state[k] = v
  end
  local rec = current and doc.plans[current]
  if rec then
    rec.steps_done[name] = true
    if pending then rec.truncate_after, pending = name, false end
    rec.state_keys = rec.state_keys or {}
    rec.state_keys[name] = #keys > 0 and keys or nil
  end
  return persist()
end

-- Interpreter use: step `name` was undone; it counts as not done and the keys it added to the
-- state are gone (a later plan must not take a rolled-back start for a drill).
function M.step_undone(name)
  local rec = current and doc.plans[current]
  if rec then
    rec.steps_done[name] = nil
    if rec.truncate_after == name then rec.truncate_after = nil end
    for _, k in ipairs(rec.state_keys and rec.state_keys[name] or {}) do doc.state[k] = nil end
    if rec.state_keys then rec.state_keys[name] = nil end
  end
  return persist()
end

-- Interpreter use: plan record changed (status, undo), persist it.
function M.save() return persist() end

-- While a plan runs (defer_truncate(true)), redo.truncate() only takes note: the step that asked
-- is recorded with the plan (truncate_after), so a re-run that skips it still truncates at the
-- end; undoing that step withdraws the request. defer_truncate(false, done) truncates if the
-- plan ended done.
function M.defer_truncate(on, done)
  deferring = on
  if on then pending = false end -- (re)starting: a request by a step that then failed is void
  if not on then
    local rec = current and doc.plans[current]
    local due = done and (pending or (rec and rec.truncate_after))
    pending = false
    if due then return M.truncate() end
  end
  return true
end

-- redo.truncate(): forget everything
function M.truncate()
  if deferring then pending = true; return true end
  doc = { state = {}, plans = {}, snapshot = doc.snapshot } -- a snapshot's stays in memory only
  if handle then
    local ok, err = handle:truncate()
    if ok == nil and err ~= nil then error("cannot truncate the journal: " .. tostring(err), 0) end
  end
  return true
end

-- The global the plans see: functions only, no access to the handle.
M.global = {
  read = M.read, write = M.write, step_done = M.step_done, truncate = M.truncate,
}

return M
