-- flashrun.sitedir — a site's additions to the plans, kept apart from plans/ (which an upgrade
-- replaces). A site directory (--site-dir DIR, or [site] dir) holds site files: every *.lua
-- directly in it, read in name order. A site file returns
--
--   { description = "…",                                   -- optional
--     extend  = { start = { STEP, … }, stop = { … } },     -- steps added to a plan
--     replace = { verify = { a whole plan declaration } } } -- a plan replaced outright
--
-- where a STEP is a plan step (id and name required, run, optionally undo, always,
-- irreversible, description) placed by exactly one of
--   before = "ID" | after = "ID"   next to a step of the plan (a stock step or a site step),
--   at = "start" | "end"           first in the plan, or an end hook: run once the plan's
--                                  outcome is known, after success and after failure/rollback.
-- run and undo are Lua functions, or a local executable: "path" or { "path", "arg", …,
-- timeout = seconds } (a relative path is the site dir's), run with the drill's facts in its
-- environment (FLASHRUN_PLAN, FLASHRUN_STEP, FLASHRUN_SOURCE_HOST, …; never a password) and
-- failing the step on a non-zero exit. Under --dry-run an executable is shown, not run.
-- Problems raise errors.usage (exit 2) naming the file and the step.
local errors = require "flashrun.errors"
local planmod = require "flashrun.plan"
local log = require "flashrun.log"
local fs = require "flashrun.fs"
local builtin = require "flashrun.builtin"
local shell = require "shell"

local M = {}

local FILE_FIELDS = { description = "string", extend = "table", replace = "table" }
local STEP_FIELDS = {
  id = "string", name = "string", run = "function|command", undo = "function|command",
  always = "boolean", irreversible = "boolean", description = "string",
  before = "string", after = "string", at = "string",
}

-- The directory, files and plans are read with system calls (flashrun.fs), not a shell: a
-- static flashrun may run where there is no /bin/sh.

-- The absolute, existing directory, or a usage error naming where the setting came from.
local function absolute_dir(dir, origin)
  local abs = fs.realdir(dir)
  if not abs then
    errors.usage("%s %s: no such directory (expected a site directory holding *.lua site files)", origin, dir)
  end
  return abs
end

local function site_files(abs)
  return fs.list(abs, ".lua") or {}
end

-- The plans a site file may name: the stock plans (plans/*.lua next to the stdlib, or the
-- built-in ones) and the plan being run.
local function known_plans(root, current)
  local known, list = { [current] = true }, { current }
  local dir = root .. "/plans"
  local files = root == builtin.ROOT and builtin.list(dir) or fs.list(dir, ".lua") or {}
  for _, file in ipairs(files) do
    local name = file:gsub("%.lua$", "")
    if not known[name] then known[name] = true; list[#list + 1] = name end
  end
  table.sort(list)
  return known, list
end

local function load_file(path, file)
  local chunk, err = loadfile(path, "t")
  if not chunk then errors.usage("site file %s: %s", file, err) end
  local ok, decl = xpcall(chunk, debug.traceback)
  if not ok then
    if errors.is(decl) then error(decl, 0) end
    errors.usage("site file %s failed while loading: %s", file, tostring(decl))
  end
  if type(decl) ~= "table" then
    errors.usage("site file %s must return a table ({extend = …} or {replace = …}), not a %s", file, type(decl))
  end
  for k, v in pairs(decl) do
    local want = FILE_FIELDS[k]
    if not want then
      errors.usage("site file %s: unknown key '%s' (expected description, extend, replace)", file, tostring(k))
    elseif type(v) ~= want then
      errors.usage("site file %s: '%s' must be a %s, not a %s", file, k, want, type(v))
    end
  end
  if not decl.extend and not decl.replace then
    errors.usage("site file %s extends no plan: expected extend = { PLAN = { steps } } or replace = { PLAN = plan }", file)
  end
  return decl
end

-- ---------------------------------------------------------------------------------------------
-- Local executables

-- The drill's facts, as environment variables: never a password (every value is masked too).
local function facts(ctx, step, phase, site_dir)
  local e = { FLASHRUN_PLAN = ctx.plan, FLASHRUN_STEP = planmod.key(step), FLASHRUN_STEP_NAME = step.name,
              FLASHRUN_PHASE = phase, FLASHRUN_SITE_DIR = site_dir }
  local cfg = ctx.config or {}
  for _, sec in ipairs({ "source", "target" }) do
    local c = cfg[sec]
    if c and c.host then
      e["FLASHRUN_" .. sec:upper() .. "_HOST"] = c.host
      e["FLASHRUN_" .. sec:upper() .. "_PORT"] = c.port and tostring(c.port) or nil
    end
  end
  local st = ctx.state or {}
  if type(st.target_nodes) == "table" then
    local nodes = {}
    for _, n in ipairs(st.target_nodes) do
      if type(n) == "table" and n.host then nodes[#nodes + 1] = n.host .. ":" .. tostring(n.port) end
    end
    e.FLASHRUN_STANDBY_NODES = table.concat(nodes, " ")
  end
  -- The restore point: the GTID set start froze the standby at (one line).
  if type(st.frozen) == "string" then e.FLASHRUN_RESTORE_POINT_GTID = st.frozen:gsub("%s+", "") end
  local o = ctx.outcome
  if o then
    e.FLASHRUN_OUTCOME, e.FLASHRUN_ROLLBACK = o.status, o.rollback
    e.FLASHRUN_FAILED_STEP, e.FLASHRUN_ERROR = o.failed_step, o.error
  end
  return e
end

-- command spec -> { path=, args={}, timeout=, display= }
local function command(spec, site_dir, where)
  local argv, timeout = {}, nil
  if type(spec) == "string" then
    argv = { spec }
  else
    for k, v in pairs(spec) do
      if k == "timeout" then
        if type(v) ~= "number" or v <= 0 then errors.usage("%s: timeout must be a positive number of seconds", where) end
        timeout = v
      elseif math.type(k) ~= "integer" or k < 1 or k > #spec or type(v) ~= "string" then
        errors.usage("%s: a command is { \"path\", \"arg\", …, timeout = seconds } (found key '%s')", where, tostring(k))
      end
    end
    for i = 1, #spec do argv[i] = spec[i] end
  end
  if #argv == 0 or argv[1] == "" then errors.usage("%s: the command names no executable", where) end
  local path = argv[1]:sub(1, 1) == "/" and argv[1] or site_dir .. "/" .. argv[1]
  if not fs.executable(path) then
    errors.usage("%s: %s is not an executable file", where, path)
  end
  local shown = { path }
  for i = 2, #argv do shown[i] = shell.quote(argv[i]) end
  return { path = path, args = { table.unpack(argv, 2) }, timeout = timeout, display = table.concat(shown, " ") }
end

-- Runs cmd for step; raises when it exits non-zero. Its output is logged line by line.
local function execute(cmd, ctx, step, phase, site_dir, inherited)
  if ctx.dry_run then
    log.record("exec", "local", cmd.display)
    return
  end
  local parts = { "exec env" }
  -- The caller's FLASHRUN_* variables are configuration (passwords among them): not passed on.
  for name in pairs(inherited or {}) do parts[#parts + 1] = "-u " .. shell.quote(name) end
  local env = facts(ctx, step, phase, site_dir)
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. shell.quote(log.mask(env[k])) end
  if cmd.timeout then parts[#parts + 1] = "timeout -k 5 " .. string.format("%g", cmd.timeout) end
  parts[#parts + 1] = shell.quote(cmd.path)
  for _, a in ipairs(cmd.args) do parts[#parts + 1] = shell.quote(a) end
  parts[#parts + 1] = "</dev/null 2>&1"
  log.debug("exec %s", cmd.display)
  local p = assert(io.popen(table.concat(parts, " "), "r"))
  for line in p:lines() do log.info("%s", line) end
  local _, how, code = p:close()
  if how == "exit" and code == 0 then return end
  if how == "exit" and code == 124 and cmd.timeout then
    error(("%s did not finish within %g s"):format(cmd.display, cmd.timeout), 0)
  elseif how == "signal" then
    error(("%s was killed by signal %d"):format(cmd.display, code), 0)
  end
  error(("%s exited with status %d"):format(cmd.display, code), 0)
end

-- ---------------------------------------------------------------------------------------------
-- Site steps

local function site_step(raw, file, plan_name, i, site_dir, inherited)
  local where = ("site file %s: extend.%s[%d]"):format(file, plan_name, i)
  if type(raw) ~= "table" then errors.usage("%s is not a table (a step)", where) end
  if type(raw.id) == "string" then where = ("site file %s: step '%s'"):format(file, raw.id) end
  for k, v in pairs(raw) do
    local want = STEP_FIELDS[k]
    if not want then
      errors.usage("%s: unknown key '%s' (a site step has id, name, run, undo, before/after/at, always, irreversible, description)",
                   where, tostring(k))
    end
    local ok = want:find(type(v), 1, true) ~= nil
    if want == "function|command" then ok = type(v) == "function" or type(v) == "string" or type(v) == "table" end
    if not ok then errors.usage("%s: '%s' must be a %s, not a %s", where, k, want, type(v)) end
  end
  if raw.id == nil then errors.usage("%s has no 'id' (a site step needs one: it is what the journal names it by)", where) end
  if not raw.id:match("^[a-z][a-z0-9_]*$") then
    errors.usage("%s: an id is lower-case letters, digits and '_', starting with a letter", where)
  end
  if raw.name == nil then errors.usage("%s has no 'name'", where) end
  if raw.run == nil then errors.usage("%s has no 'run' (a function, or an executable)", where) end
  local n = (raw.before and 1 or 0) + (raw.after and 1 or 0) + (raw.at and 1 or 0)
  if n ~= 1 then
    errors.usage("%s: give exactly one of before = \"ID\", after = \"ID\", at = \"start\" or at = \"end\"", where)
  end
  if raw.at and raw.at ~= "start" and raw.at ~= "end" then
    errors.usage("%s: at = \"%s\"; expected \"start\" or \"end\"", where, raw.at)
  end
  if raw.at == "end" and (raw.undo or raw.irreversible or raw.always) then
    errors.usage("%s: an end hook runs once the plan's outcome is known; it takes no undo, irreversible or always", where)
  end
  local step = { id = raw.id, name = raw.name, always = raw.always, irreversible = raw.irreversible,
                 description = raw.description }
  for _, phase in ipairs({ "run", "undo" }) do
    local v = raw[phase]
    if type(v) == "function" then
      step[phase] = v
    elseif v ~= nil then
      local cmd = command(v, site_dir, where .. " " .. phase)
      step[phase] = function(ctx) execute(cmd, ctx, step, phase, site_dir, inherited) end
    end
  end
  return step, { before = raw.before, after = raw.after, at = raw.at, file = file }
end

local function keys_of(steps)
  local t = {}
  for _, s in ipairs(steps) do t[#t + 1] = planmod.key(s) end
  return table.concat(t, ", ")
end

-- The site files of abs, each loaded and checked against the plans there are ({file, decl}),
-- and the replacement of `plan` one of them declares: the plan the site's steps go into and the
-- file it came from (nil: the plan itself).
local function read_files(plan, abs, root)
  local known, known_list = known_plans(root, plan.name)
  local base, base_file = plan, nil
  local files = {}
  for _, file in ipairs(site_files(abs)) do
    local decl = load_file(abs .. "/" .. file, file)
    files[#files + 1] = { file = file, decl = decl }
    for _, part in ipairs({ "extend", "replace" }) do
      for name, v in pairs(decl[part] or {}) do
        if type(name) ~= "string" or not known[name] then
          errors.usage("site file %s: %s.%s names no plan (plans: %s)", file, part, tostring(name), table.concat(known_list, ", "))
        end
        if type(v) ~= "table" then errors.usage("site file %s: %s.%s must be a table", file, part, name) end
      end
    end
    local r = decl.replace and decl.replace[plan.name]
    if r then
      if base_file then
        errors.usage("site files %s and %s both replace plan %s", base_file, file, plan.name)
      end
      r.name = r.name or plan.name
      if r.name ~= plan.name then
        errors.usage("site file %s: replace.%s declares name '%s'; a replacement keeps the plan's name",
                     file, plan.name, tostring(r.name))
      end
      base, base_file = planmod.validate(r, abs .. "/" .. file), file
    end
  end
  return files, base, base_file
end

-- The site's steps for plan (in file order), the file each came from and where it goes.
local function site_steps(files, base, base_file, plan, abs, env)
  local origin, where_of = {}, {}
  local owner = {} -- key -> file ("" for the plan's own steps)
  for _, s in ipairs(base.steps) do owner[planmod.key(s)] = base_file or "" end
  local site = {}
  for _, f in ipairs(files) do
    local list = f.decl.extend and f.decl.extend[plan.name]
    for i, raw in ipairs(list or {}) do
      local step, pos = site_step(raw, f.file, plan.name, i, abs, env)
      local key = planmod.key(step)
      if owner[key] then
        errors.usage("site file %s: step id '%s' is taken (by %s)", f.file, key,
                     owner[key] == "" and ("plan " .. plan.name) or ("site file " .. owner[key]))
      end
      owner[key] = f.file
      origin[step], where_of[step] = f.file, pos
      site[#site + 1] = step
    end
  end
  return site, origin, where_of
end

-- Where each site step goes: before[key] / after[key] (the steps anchored on the step of that
-- key), first (at = "start") and last (the end hooks), each in file order.
local function anchors(base, site, where_of, plan)
  local by_key, is_end = {}, {}
  for _, s in ipairs(base.steps) do by_key[planmod.key(s)] = s end
  for _, s in ipairs(site) do
    by_key[planmod.key(s)] = s
    if where_of[s].at == "end" then is_end[s] = true end
  end
  local before, after, first, last = {}, {}, {}, {}
  for _, s in ipairs(site) do
    local pos = where_of[s]
    local ref = pos.before or pos.after
    if ref then
      if not by_key[ref] then
        errors.usage("site file %s: step '%s' goes %s '%s', which is no step of plan %s (its steps: %s)",
                     pos.file, s.id, pos.before and "before" or "after", ref, plan.name, keys_of(base.steps))
      end
      if is_end[by_key[ref]] then
        errors.usage("site file %s: step '%s' goes %s end hook '%s'; use at = \"end\" (end hooks run in file order)",
                     pos.file, s.id, pos.before and "before" or "after", ref)
      end
      local t = pos.before and before or after
      t[ref] = t[ref] or {}
      table.insert(t[ref], s)
    elseif pos.at == "start" then
      first[#first + 1] = s
    else
      last[#last + 1] = s
    end
  end
  return before, after, first, last
end

-- The plan's steps with the site's in their places, and how many come before the end hooks.
local function place(base, site, where_of, plan)
  local before, after, first, last = anchors(base, site, where_of, plan)
  local steps, placed = {}, {}
  local function emit(s)
    for _, b in ipairs(before[planmod.key(s)] or {}) do emit(b) end
    steps[#steps + 1] = s; placed[s] = true
    for _, a in ipairs(after[planmod.key(s)] or {}) do emit(a) end
  end
  for _, s in ipairs(first) do emit(s) end
  for _, s in ipairs(base.steps) do emit(s) end
  local main = #steps
  for _, s in ipairs(last) do steps[#steps + 1] = s; placed[s] = true end
  for _, s in ipairs(site) do
    if not placed[s] then -- anchored on each other in a circle
      errors.usage("site file %s: step '%s' goes %s '%s', which never comes (the site's steps refer to each other in a circle)",
                   where_of[s].file, s.id, where_of[s].before and "before" or "after", where_of[s].before or where_of[s].after)
    end
  end
  return steps, main
end

-- apply(plan, dir, opts) -> the plan with the site's steps (or its replacement).
-- opts: root (holds plans/), env (the caller's FLASHRUN_* variables), origin (what named dir).
function M.apply(plan, dir, opts)
  opts = opts or {}
  local abs = absolute_dir(dir, opts.origin or "site dir")
  -- Helper modules under the site dir (require "lib.x"), after the stdlib's: a site file called
  -- like a stdlib module must not shadow it.
  package.path = package.path .. ";" .. abs .. "/?.lua"
  local files, base, base_file = read_files(plan, abs, opts.root or ".")
  local site, origin, where_of = site_steps(files, base, base_file, plan, abs, opts.env)
  if #site == 0 and not base_file then
    plan.site_dir = abs -- nothing for this plan; --list still says which site dir was read
    return plan
  end
  local steps, main = place(base, site, where_of, plan)
  local merged = {}
  for k, v in pairs(base) do merged[k] = v end
  merged.steps = steps
  planmod.validate(merged, plan.name .. " with site dir " .. abs)
  merged.main_count, merged.origin, merged.site_dir, merged.replaced_by = main, origin, abs, base_file
  return merged
end
return M
