-- flashrun.globals — the names plans see (docs/plans.md, "Lua API seen by plans"), then the
-- lock. Plans only: the stdlib's modules run without them (flashrun.loader) and require what
-- they use; the run's configuration is theirs through flashrun.settings.current().
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local errors = require "flashrun.errors"
local journal = require "flashrun.journal"
local strict = require "flashrun.strict"
local settings = require "flashrun.settings"
local loader = require "flashrun.loader"
local gtid = require "flashrun.gtid"

local M = {}

-- sql{...} and ssh{...} call the driver's connect; sql.connect{...} works too.
local function callable(modname)
  local mod = require(modname)
  return setmetatable({}, {
    __call = function(_, opts) return mod.connect(opts) end,
    __index = mod,
    __newindex = function() error(modname .. " is read-only", 2) end,
  })
end

-- install(g, config, dry_run): config becomes the run's (settings.current()), stdlib modules
-- required from now on run in their own environment (loader.install), and g (the plans'
-- globals, _G) gets the plan API and is locked.
function M.install(g, config, dry_run)
  settings.set_current(config)
  loader.install()
  g.config = config
  g.dry_run = dry_run
  g.sql = callable("flashrun.sql")
  g.ssh = callable("flashrun.ssh")
  g.sleep, g.now, g.parallel = sched.sleep, sched.now, sched.parallel
  g.interrupted = require("flashrun.signals").interrupted
  g.gtid = gtid
  g.gtid_subtract = gtid.subtract
  g.redo = journal.global
  g.log = { debug = log.debug, info = log.info, warn = log.warn, error = log.error, event = log.event }
  g.secret = log.secret
  g.refuse = errors.refuse
  g.cjson = require "cjson"
  strict.lock(g)
end

return M
