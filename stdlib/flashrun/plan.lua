-- flashrun.plan — load a plan file and check its declaration (NSE Script.new, lsyncd
-- checkgauge): required fields and types, unknown keys rejected by name. Problems raise
-- errors.usage (exit 2) naming the file.
local errors = require "flashrun.errors"
local builtin = require "flashrun.builtin"

local M = {}

-- key -> { type, required }
local PLAN_FIELDS = {
  name = { "string", true }, description = { "string", true }, steps = { "table", true },
  needs = { "table", false }, journal = { "journal", false }, recovery = { "string", false },
  -- The clusters (config sections) whose nodes' hosts the plan reaches by ssh: their sys_user
  -- must be set too, checked with needs before anything connects.
  ssh_to = { "table", false },
  -- Per-run choices the plan accepts from the command line only (never a file or the
  -- environment): { production_lost = "what it does" } is --production-lost, shown by --list;
  -- ctx.choices tells the steps. Declared here only: flashrun's command line knows none.
  choices = { "table", false },
}
local STEP_FIELDS = {
  id = { "string", false }, name = { "string", true }, run = { "function", true }, undo = { "function", false },
  always = { "boolean", false }, irreversible = { "boolean", false },
  description = { "string", false },
}

local function check_fields(t, fields, where, path)
  for k in pairs(t) do
    if not fields[k] then
      errors.usage("plan %s: unknown key '%s' in %s", path, tostring(k), where)
    end
  end
  for k, spec in pairs(fields) do
    local v = t[k]
    if v == nil and spec[2] then
      errors.usage("plan %s: %s has no '%s' (%s required)", path, where, k, spec[1])
    elseif spec[1] == "journal" then
      -- journal = false: none at all (verify); "read": the journal as it is, read without the
      -- lock and never written (status: read-only, even while another run holds the lock).
      if v ~= nil and type(v) ~= "boolean" and v ~= "read" then
        errors.usage("plan %s: 'journal' in %s must be true, false or \"read\"", path, where)
      end
    elseif v ~= nil and type(v) ~= spec[1] then
      errors.usage("plan %s: '%s' in %s must be a %s, not a %s", path, k, where, spec[1], type(v))
    end
  end
end

-- The name a step is journaled and referred to by: its id, else its name.
function M.key(step) return step.id or step.name end

local function check_steps(plan, path)
  local steps, seen = plan.steps, {}
  if #steps == 0 then errors.usage("plan %s: 'steps' is empty", path) end
  for k in pairs(steps) do
    if math.type(k) ~= "integer" or k < 1 or k > #steps then
      errors.usage("plan %s: 'steps' must be a list (found key '%s')", path, tostring(k))
    end
  end
  for i, step in ipairs(steps) do
    local where = string.format("step %d", i)
    if type(step) ~= "table" then errors.usage("plan %s: %s is not a table", path, where) end
    check_fields(step, STEP_FIELDS, where, path)
    -- A step's stable id: what the journal, site extensions and reports name it by, so a
    -- reworded name breaks none of them. A step without one is known by its name.
    if step.id ~= nil and not step.id:match("^[a-z][a-z0-9_]*$") then
      errors.usage("plan %s: %s has id '%s'; an id is lower-case letters, digits and '_', starting with a letter",
                   path, where, step.id)
    end
    -- Steps are journaled by key: two with one key would share a "done" mark.
    local key = M.key(step)
    if seen[key] then
      errors.usage("plan %s: steps %d and %d are both called '%s'", path, seen[key], i, key)
    end
    seen[key] = i
  end
end

-- A choice's name is its option's word: production_lost is --production-lost.
local function check_choices(plan, path)
  for name, what in pairs(plan.choices or {}) do
    if type(name) ~= "string" or not name:match("^[a-z][a-z0-9_]*$") or name:find("__", 1, true) or name:sub(-1) == "_" then
      errors.usage("plan %s: choice '%s': a choice is lower-case letters and digits in words joined by single '_' (production_lost)",
                   path, tostring(name))
    end
    if type(what) ~= "string" then
      errors.usage("plan %s: choice '%s' must say what it does (a string), not a %s", path, name, type(what))
    end
  end
end

-- The option a choice is given as: production_lost -> --production-lost.
local function option(name) return "--" .. name:gsub("_", "-") end

-- "it offers --a, --b" or "it offers none": a plan's choices, for a refusal.
function M.offered(plan)
  local list = {}
  for name in pairs(plan.choices or {}) do list[#list + 1] = option(name) end
  table.sort(list)
  return #list == 0 and "it offers none" or ("it offers " .. table.concat(list, ", "))
end

local function check_needs(plan, path)
  for _, field in ipairs({ "needs", "ssh_to" }) do
    for i, sec in ipairs(plan[field] or {}) do
      if type(sec) ~= "string" then
        errors.usage("plan %s: %s[%d] must be a config section name", path, field, i)
      end
    end
  end
end

-- validate(decl, path) -> decl
function M.validate(decl, path)
  if type(decl) ~= "table" then
    errors.usage("plan %s must return a table (the plan declaration), not a %s", path, type(decl))
  end
  check_fields(decl, PLAN_FIELDS, "the plan", path)
  check_steps(decl, path)
  check_choices(decl, path)
  check_needs(decl, path)
  return decl
end

-- load(path) -> validated declaration. The chunk runs with the (locked) globals.
function M.load(path)
  local chunk, err = builtin.loadfile(path, "t") -- a plan on disk, or a built-in one (-f)
  if not chunk then errors.usage("cannot load plan: %s", err) end
  local ok, decl = xpcall(chunk, debug.traceback)
  if not ok then
    if errors.is(decl) then error(decl, 0) end
    errors.usage("plan %s failed while loading: %s", path, tostring(decl))
  end
  return M.validate(decl, path)
end

-- "Step 03/14": at least two digits, as many as the step count needs.
function M.label(i, total, name)
  local width = math.max(2, #tostring(total))
  return string.format("Step %0" .. width .. "d/%0" .. width .. "d %s", i, total, name)
end

-- The steps the plan runs in order; those after them are end hooks (a site's at = "end"),
-- run once the outcome is known.
function M.main_count(plan) return plan.main_count or #plan.steps end

-- list(plan, out): the numbered steps, for --list. Touches nothing outside the process.
function M.list(plan, out)
  out:write(string.format("%s: %s\n", plan.name, plan.description))
  if plan.site_dir then
    out:write(string.format("site dir %s%s\n", plan.site_dir,
                            plan.replaced_by and (": plan replaced by " .. plan.replaced_by) or ""))
  end
  local main = M.main_count(plan)
  for i, step in ipairs(plan.steps) do
    local marks = {}
    if i > main then marks[#marks + 1] = "end hook: after success or failure" end
    if step.always then marks[#marks + 1] = "always" end
    if step.irreversible then marks[#marks + 1] = "irreversible" end
    if not step.undo and i <= main then marks[#marks + 1] = "no undo" end
    if plan.origin and plan.origin[step] then marks[#marks + 1] = "site: " .. plan.origin[step] end
    out:write(M.label(i, #plan.steps, step.name))
    if step.id then out:write("  [", step.id, "]") end
    if #marks > 0 then out:write("  (", table.concat(marks, ", "), ")") end
    out:write("\n")
  end
  local names = {}
  for name in pairs(plan.choices or {}) do names[#names + 1] = name end
  table.sort(names)
  if #names > 0 then out:write("choices (on the command line, for one run):\n") end
  for _, name in ipairs(names) do
    out:write(string.format("  %s  %s\n", option(name), plan.choices[name]))
  end
end

return M
