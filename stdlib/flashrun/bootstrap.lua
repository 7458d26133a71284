-- flashrun.bootstrap — what the flashrun binary runs (runtime/embed.c loads this file from the
-- stdlib in use, on disk or built in, calls it with the parsed command line, and exits with the
-- integer it returns).
--
-- cli = { plan=, function=, config=, state_dir=, cwd=, site_dir=, log_json=, report_json=, si={host=,port=}, ti=, sets={},
--         verbosity=-1|0|1, dry_run=, list=, choices={"production-lost", ...} (--WORD options flashrun does not know),
--         root= (holds stdlib/ and plans/; "(built in)" for the compiled-in ones), env={FLASHRUN_*},
--         pid=, host= }
local cli = ...

local log = require "flashrun.log"
local builtin = require "flashrun.builtin"
local errors = require "flashrun.errors"

local function setup_log()
  local level = cli.verbosity > 0 and "debug" or (cli.verbosity < 0 and "warn" or "info")
  log.setup { level = level, dry_run = cli.dry_run }
  if cli.log_json then
    local ok, err = log.setup { json = cli.log_json }
    if not ok then errors.usage("--log-json: cannot open %s", tostring(err)) end
  end
end

-- A path as given, made absolute from the working directory (when it could be read).
local function absolute(path)
  if path:sub(1, 1) == "/" or not cli.cwd then return path end
  return (cli.cwd:gsub("/$", "")) .. "/" .. path:gsub("^%./", "")
end

-- The plan file: as given, or plans/<name>.lua next to the stdlib (old -f form; built in
-- when the stdlib is).
local function plan_path()
  if cli.plan then return cli.plan end
  local path = cli.root .. "/plans/" .. cli["function"] .. ".lua"
  if not builtin.readable(path) then
    errors.usage("-f %s: no such plan (looked for %s; the shipped plans: verify, start, status, stop)",
                 cli["function"], path)
  end
  return path
end

-- Modules next to the plan are found before the stdlib's.
local function add_plan_dir(path)
  local dir = path:match("^(.*)/[^/]*$") or "."
  package.path = dir .. "/?.lua;" .. package.path
end

-- The per-run choices made on the command line, { production_lost = true }: each --WORD
-- flashrun does not know must be one the plan declares (plan.choices), else it is refused,
-- named (exit 2). Only ever from argv: a choice is made for one run.
local function choices(plan)
  local made = {}
  for _, word in ipairs(cli.choices) do
    local name = word:gsub("-", "_")
    if not (plan.choices and plan.choices[name]) then
      errors.usage("--%s: plan %s offers no such choice (%s) and flashrun has no such option: unknown option '--%s' (see flashrun --help)",
                   word, plan.name, require("flashrun.plan").offered(plan), word)
    end
    made[name] = true
  end
  return made
end

local function exists(dir)
  local f = io.open(dir .. "/.", "r")
  if f then f:close() end
  return f ~= nil
end

-- Takes the lock and loads the journal; returns nil or an exit code.
local function open_journal(plan)
  local journal = require "flashrun.journal"
  local redo = require "flashrun.redo"
  local holder = { pid = cli.pid, host = cli.host, started = os.date("!%Y-%m-%dT%H:%M:%SZ"),
                   plan = plan.name }
  local j, err, why = redo.open(cli.state_dir, holder)
  if not j then
    if why == "locked" then
      log.error("%s", tostring(err))
      return errors.LOCKED
    end
    errors.usage("cannot open the journal in %s: %s", cli.state_dir, tostring(err))
  end
  journal.attach(j, plan.name)
  return nil
end

local function main()
  setup_log()
  local path = plan_path()
  add_plan_dir(path)
  local config = require("flashrun.settings").build(cli)
  require("flashrun.globals").install(_G, config, cli.dry_run)
  local planmod = require "flashrun.plan"
  local plan = planmod.load(path)
  -- The site's additions (docs/plans.md, "Site directories"): --site-dir wins over [site] dir.
  local site_dir, origin = cli.site_dir, "--site-dir"
  if not site_dir and config.site and (config.site.dir or "") ~= "" then site_dir, origin = config.site.dir, "site.dir" end
  if site_dir then
    plan = require("flashrun.sitedir").apply(plan, site_dir, { root = cli.root, env = cli.env, origin = origin })
  end
  local made = choices(plan)
  if cli.list then
    planmod.list(plan, io.stdout)
    return 0
  end
  require("flashrun.settings").check(config, plan.needs, plan.ssh_to)
  local report, report_file = require "flashrun.report", nil
  if cli.report_json then
    local err
    report_file, err = report.open(cli.report_json)
    if not report_file then errors.usage("--report-json: cannot open %s", tostring(err)) end
  end
  local redo = require "flashrun.redo"
  if plan.journal == "read" then
    local ok, err = pcall(require("flashrun.journal").snapshot, redo.path(cli.state_dir), plan.name)
    if not ok then errors.usage("%s (--state-dir %s)", tostring(err), cli.state_dir) end
  elseif plan.journal ~= false then
    if cli.dry_run and not exists(cli.state_dir) then
      -- A rehearsal creates nothing, not even the state dir: it runs on an empty journal.
      log.info("[dry-run] no state dir %s yet: rehearsing on an empty journal", cli.state_dir)
      local j, err = redo.rehearse(cli.state_dir)
      if not j then errors.usage("cannot rehearse on the journal in %s: %s", cli.state_dir, tostring(err)) end
      require("flashrun.journal").attach(j, plan.name)
    else
      local code = open_journal(plan)
      if code then
        if report_file then report.write(report_file, plan, code, { outcome = { status = "locked" } }) end
        return code
      end
    end
  end
  local journal = require "flashrun.journal"
  local ok, code, ctx = pcall(require("flashrun.interp").run, plan, config, cli.dry_run,
                              { state_dir = absolute(cli.state_dir), host = cli.host, choices = made })
  journal.detach()
  if report_file then report.write(report_file, plan, ok and code or 1, ok and ctx or nil) end
  if not ok then error(code, 0) end
  return code
end

local function handler(e)
  if errors.is(e) then return e end
  return debug.traceback(tostring(e), 2)
end

local ok, res = xpcall(main, handler)
if ok then return res end
if errors.is(res) then
  log.error("%s", res.msg)
  return res.code
end
log.error("internal error: %s", tostring(res))
return 1
