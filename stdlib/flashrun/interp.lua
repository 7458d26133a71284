-- flashrun.interp — run a validated plan: number and time each step, journal what is done,
-- stop at the first failure, undo completed steps in reverse (never past an irreversible
-- one), print the plan's recovery text when the rollback could not be completed, and resume
-- an unfinished run by skipping the steps it already did. SIGINT/SIGTERM stop the run at the
-- next step boundary (or wait) and roll back like a failure; the exit code is then 128 + signal.
local endpoint = require "flashrun.endpoint"
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local errors = require "flashrun.errors"
local journal = require "flashrun.journal"
local progress = require "flashrun.progress"
local planmod = require "flashrun.plan"
local signals = require "flashrun.signals"
local killpoint = require "flashrun.killpoint"
local clock = require "flashrun.clock"

local M = {}

-- "1 step", "2 steps".
local function count(n, word) return ("%d %s%s"):format(n, word, n == 1 and "" or "s") end

-- Error values keep their identity (refuse tables); strings get the step's traceback.
local function handler(e)
  if errors.is(e) then return e end
  return { msg = tostring(e), traceback = debug.traceback(tostring(e), 2) }
end

-- Both error shapes (errors.new values and handler() tables) carry .msg.
local function message(e) return e.msg end

-- The plan's record in the journal: a fresh one unless the last run did not finish.
local function plan_record(doc, name)
  local rec = doc.plans[name]
  if rec and rec.status ~= "done" then
    rec.steps_done = rec.steps_done or {}
    local n = 0
    for _ in pairs(rec.steps_done) do n = n + 1 end
    log.info("resuming plan %s: the run started %s did not finish (%s); %s already done",
             name, tostring(rec.run_started or rec.started), tostring(rec.status), count(n, "step"))
    -- started stays the plan's first run; run_started is this one (what messages name).
    rec.status, rec.failed_step, rec.error, rec.finished, rec.rollback = "running", nil, nil, nil, nil
    rec.run_started = clock.utc()
    return rec, true
  end
  local t = clock.utc()
  rec = { status = "running", steps_done = {}, started = t, run_started = t }
  doc.plans[name] = rec
  return rec, false
end

-- A plan that ended done with a redo.truncate() still due was killed between its last two journal
-- writes (the record "done", then the truncation): it has finished, and what it asked to forget
-- (stop: the drill) must not be taken for work to do again. The truncation is made now, before
-- anything reads the journal. Returns the document to go on with.
-- (A read-only run, status, only forgets it in memory; a dry run records the truncation.)
local function finish_truncation(doc, dry_run)
  for name, rec in pairs(doc.plans) do
    if rec.status == "done" and rec.truncate_after then
      log.info("plan %s finished at %s, but its run was interrupted before it cleared the journal: %s", name,
               tostring(rec.finished), doc.snapshot and "taken as cleared (the next start or stop clears it)"
               or dry_run and "it would be cleared now" or "cleared now")
      journal.truncate()
      return journal.document()
    end
  end
  return doc
end

-- The tag on a step's log lines after its first one (which names it in full): "Step 03/14".
local function tag(plan, step)
  for i, s in ipairs(plan.steps) do
    if s == step then return (planmod.label(i, #plan.steps, ""):gsub("%s+$", "")) end
  end
end

local function run_step(step, ctx, plan)
  local t0 = sched.now()
  journal.step_begin(planmod.key(step), step.name)
  progress.step(planmod.key(step), step.name)
  killpoint.step(plan.name, planmod.key(step))
  log.step(step.name, plan and tag(plan, step))
  local ok, res = xpcall(step.run, handler, ctx)
  log.step(nil)
  local secs = sched.now() - t0
  journal.step_end(ok and "ok" or (errors.is(res) and res.kind == "refuse") and "refused" or "failed", secs)
  return ok, res, secs
end

-- Runs step i's undo, if it has one. Returns false when the undo failed.
local function undo_step(plan, i, ctx, partly)
  local step = plan.steps[i]
  if not step.undo then return true end
  local label = planmod.label(i, #plan.steps, step.name)
  log.info("undo %s%s …", label, partly and " (it failed part-way)" or "")
  local t0 = sched.now()
  journal.step_begin(planmod.key(step), "undo: " .. step.name)
  progress.step(planmod.key(step), "undo: " .. step.name)
  killpoint.step(plan.name, planmod.key(step) .. ".undo")
  log.step(step.name, tag(plan, step))
  local ok, res = xpcall(step.undo, handler, ctx)
  log.step(nil)
  journal.step_end(ok and "undone" or "undo failed", sched.now() - t0)
  if not ok then
    log.error("undo %s failed: %s", label, message(res))
    if res.traceback then log.debug("%s", res.traceback) end
    return false
  end
  log.info("undo %s … ok", label)
  return true
end

-- Undo the failed step `failed` (its undo must cope with a half-done step), then the completed
-- steps (indexes in `done`) in reverse. Returns true when all were undone.
local function rollback(plan, failed, done, rec, ctx, not_started)
  if not not_started then
    if not undo_step(plan, failed, ctx, true) then return false end
    journal.step_undone(planmod.key(plan.steps[failed]))
  end
  for j = #done, 1, -1 do
    local i = done[j]
    local step = plan.steps[i]
    if step.irreversible then
      log.warn("%s is irreversible: not undoing it or anything before it", planmod.label(i, #plan.steps, step.name))
      return false
    end
    if not undo_step(plan, i, ctx, false) then return false end
    journal.step_undone(planmod.key(step))
  end
  return true
end

local EXIT_ON_SIGNAL = { SIGINT = 130, SIGTERM = 143 }

-- Step i failed with res (or, not_started, was not run because the run was interrupted).
local function fail(plan, i, res, secs, done, rec, ctx, not_started)
  local label = planmod.label(i, #plan.steps, plan.steps[i].name)
  journal.defer_truncate(true) -- the failed step's redo.truncate(), if any, is void
  -- Taken from here on: the rollback's own waits must work (a new signal interrupts it).
  local sig = signals.interrupted(true)
  local refused = not sig and errors.is(res) and res.kind == "refuse"
  if not_started then
    log.error("%s … not started: interrupted (%s)", label, sig or "?")
  elseif sig then
    log.error("%s … INTERRUPTED (%s) after %.2f s: %s", label, sig, secs, message(res))
  else
    log.error("%s … %s (%.2f s): %s", label, refused and "REFUSED" or "FAILED", secs, message(res))
  end
  if res.traceback then log.debug("%s", res.traceback) end
  rec.status, rec.failed_step, rec.finished = "failed", planmod.key(plan.steps[i]), clock.utc()
  rec.error = log.mask(message(res))
  journal.run_end(sig and "interrupted" or refused and "refused" or "failed")
  journal.save()
  local clean = false
  if plan.steps[i].irreversible and not not_started then
    -- It may have done part of its work: whatever came before it is what that part stands on.
    log.warn("%s is irreversible and did not finish: nothing is undone", label)
  else
    clean = rollback(plan, i, done, rec, ctx, not_started)
  end
  -- A plan without undo (stop only goes forward) has no rollback to report, only its recovery.
  local undoable = false
  for _, step in ipairs(plan.steps) do undoable = undoable or step.undo ~= nil end
  -- Kept for status: a run rolled back completely left nothing to finish.
  rec.rollback = not undoable and "none" or clean and "complete" or "incomplete"
  journal.save()
  if not undoable then
    if plan.recovery and not refused then log.error("nothing is rolled back (the plan only goes forward); recovery:\n%s", plan.recovery) end
  elseif clean then
    if #done > 0 or plan.steps[i].undo then
      log.info("rollback complete: what plan %s had changed was undone", plan.name)
    end
  elseif plan.recovery then
    log.error("the rollback could not be completed; recovery:\n%s", plan.recovery)
  end
  local what = sig and ("interrupted (" .. sig .. ")") or refused and "refused" or "failed"
  -- A message of several lines was printed in full on the step's line: its first line is enough.
  local first, more = message(res):match("^([^\n]*)\n(.*)$")
  log.error("plan %s %s at %s: %s", plan.name, what, label, first and (first .. " (in full above)") or message(res))
  -- What end hooks are told.
  ctx.outcome = { status = sig and "interrupted" or refused and "refused" or "failed",
                  rollback = rec.rollback,
                  failed_step = planmod.key(plan.steps[i]), error = rec.error }
  return sig and EXIT_ON_SIGNAL[sig] or refused and errors.REFUSED or 1
end

-- The end hooks (a site's at = "end" steps): run once the outcome is known (ctx.outcome), after
-- success and after failure or rollback, each whatever the others did. Nothing undoes them and
-- they are never skipped on a re-run. Returns true when all of them succeeded.
local function end_hooks(plan, ctx)
  local total, ok_all = #plan.steps, true
  for i = planmod.main_count(plan) + 1, total do
    local step = plan.steps[i]
    local label = planmod.label(i, total, step.name)
    log.info("%s … (end hook, plan %s)", label, ctx.outcome.status)
    local ok, res, secs = run_step(step, ctx, plan)
    if ok then
      journal.step_done(planmod.key(step))
      log.info("%s … ok (%.2f s)", label, secs)
    else
      ok_all = false
      log.error("%s … FAILED (%.2f s): %s", label, secs, message(res))
      if res.traceback then log.debug("%s", res.traceback) end
    end
  end
  return ok_all
end

-- The endpoints (host:port) of the config sections the plan needs, e.g. both routers.
local function endpoints(plan, config)
  local e = {}
  for _, sec in ipairs(plan.needs or {}) do
    local c = config[sec]
    if type(c) == "table" and c.host then e[sec] = endpoint.format(c.host, c.port) end
  end
  return e
end

-- A journal belongs to the clusters it was written for: a run against other routers must not
-- resume, or end, somebody else's drill. An empty state is claimed by this run. Returns an
-- error message, or nil.
local function foreign_journal(doc, plan, config)
  local mine = endpoints(plan, config)
  if next(doc.state) == nil then
    doc.owner = next(mine) and mine or nil
    return nil
  end
  local theirs = {}
  for sec, hp in pairs(doc.owner or {}) do
    if mine[sec] and mine[sec] ~= hp then theirs[#theirs + 1] = ("[%s] %s, not %s"):format(sec, hp, mine[sec]) end
  end
  if #theirs == 0 then return nil end
  table.sort(theirs)
  return ("the journal in this state directory belongs to other clusters (%s): run with their "
          .. "--si/--ti, or give these clusters their own --state-dir"):format(table.concat(theirs, "; "))
end

-- The steps in order, up to the end hooks: exit code (ctx.outcome says how it ended).
local function run_steps(plan, ctx, rec, t0)
  local total, done = #plan.steps, {}
  for i = 1, planmod.main_count(plan) do
    local step = plan.steps[i]
    local label = planmod.label(i, total, step.name)
    if rec.steps_done[planmod.key(step)] and not step.always then
      log.info("%s … skipped (done by an earlier run)", label)
      journal.step_note(planmod.key(step), step.name, "skipped")
    elseif signals.interrupted() then
      local code = fail(plan, i, { msg = "the run was interrupted before this step" }, 0, done, rec, ctx, true)
      log.info("plan %s ended after %.2f s", plan.name, sched.now() - t0)
      return code
    else
      log.info("%s …", label)
      local ok, res, secs = run_step(step, ctx, plan)
      if ok and res ~= nil and type(res) ~= "table" then
        ok, res = false, { msg = "run() must return nil or a table, not a " .. type(res) }
      end
      if not ok then
        local code = fail(plan, i, res, secs, done, rec, ctx)
        log.info("plan %s ended after %.2f s", plan.name, sched.now() - t0)
        return code
      end
      local jok, jerr = pcall(journal.step_done, planmod.key(step), res)
      if not jok then -- it ran, but unrecorded it counts as failed: its undo runs first
        return fail(plan, i, { msg = tostring(jerr) }, secs, done, rec, ctx)
      end
      log.info("%s … ok (%.2f s)", label, secs)
    end
    done[#done + 1] = i
    -- A step may end the run here, successfully, leaving the rest for a later run (ctx.pause =
    -- why): the plan stays unfinished, so that run resumes after this step.
    if ctx.pause then
      rec.status, rec.finished = "paused", clock.utc()
      journal.run_end("paused")
      journal.save()
      ctx.outcome = { status = "paused", rollback = "none" }
      log.info("plan %s paused after %s: %s", plan.name, label, tostring(ctx.pause))
      log.info("plan %s ended after %.2f s", plan.name, sched.now() - t0)
      return 0
    end
  end
  rec.status, rec.finished = "done", clock.utc()
  journal.run_end("done")
  journal.save()
  ctx.outcome = { status = "done", rollback = "none" }
  log.info("plan %s done in %.2f s", plan.name, sched.now() - t0)
  return 0
end

-- run(plan, config, dry_run[, opts]) -> exit code, ctx (ctx.outcome: how it ended; ctx.report:
-- what a step put there for --report-json). opts (from the command line): state_dir, host (this
-- machine's name), choices (the per-run choices the plan declares, { production_lost = true });
-- plans find them in ctx.
function M.run(plan, config, dry_run, opts)
  opts = opts or {}
  local doc = journal.document()
  local foreign = foreign_journal(doc, plan, config)
  if foreign then
    log.error("plan %s refused: %s", plan.name, foreign)
    return errors.REFUSED, { outcome = { status = "refused" } }
  end
  killpoint.step(plan.name, "-")
  doc = finish_truncation(doc, dry_run)
  local rec = plan_record(doc, plan.name)
  journal.run_begin(opts.host)
  journal.save()
  local ctx = { state = doc.state, plan = plan.name, dry_run = dry_run, config = config,
                site_dir = plan.site_dir, state_dir = opts.state_dir, host = opts.host,
                choices = opts.choices or {} }
  local t0 = sched.now()
  -- Progress of the long phases (flashrun.progress): progress.json in the state dir while the
  -- plan runs (a read-only plan writes none), gone when it ends, however it ends.
  progress.setup { state_dir = plan.journal ~= "read" and plan.journal ~= false and opts.state_dir or nil,
                   interval = config.site and tonumber(config.site.progress_interval) or nil, plan = plan.name }
  log.info("plan %s: %s (%s%s)", plan.name, plan.description, count(#plan.steps, "step"),
           dry_run and ", dry run" or "")
  -- redo.truncate() in a step takes effect once the plan is done: a step after it (a site's)
  -- still sees the state, and a failure there keeps the journal for a re-run.
  journal.defer_truncate(true)
  local ok, code = pcall(run_steps, plan, ctx, rec, t0)
  progress.finish()
  if not ok then journal.defer_truncate(false); error(code, 0) end
  if planmod.main_count(plan) < #plan.steps then
    local hooks_ok = end_hooks(plan, ctx)
    if not hooks_ok and code == 0 then
      log.error("plan %s done, but an end hook failed", plan.name)
      code = 1
    end
  end
  -- The plan is done (its end hooks' outcome aside): a truncation it asked for happens now.
  journal.defer_truncate(false, ctx.outcome and ctx.outcome.status == "done")
  return code, ctx
end

return M
