-- flashrun.globals — the names plans see (README "Lua API seen by plans"), then the lock.
local log = require "flashrun.log"
local sched = require "flashrun.sched"
local errors = require "flashrun.errors"
local journal = require "flashrun.journal"
local strict = require "flashrun.strict"

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

-- Looked up at call time: the gtid module may be a placeholder while it is being written.
local function gtid_subtract(a, b) return require("flashrun.gtid").subtract(a, b) end

-- log.would(kind, target, text): in dry-run, records a call that cannot be made even as a read
-- (its server does not exist yet: a side instance before it is created). Outside dry-run it
-- does nothing, so a plan cannot print a fake record into a real run's output.
local function would(kind, target, text)
  if log.dry_run() then log.record(kind, target, text) end
end

function M.install(g, config, dry_run)
  g.config = config
  g.dry_run = dry_run
  g.sql = callable("flashrun.sql")
  g.ssh = callable("flashrun.ssh")
  g.sleep, g.now, g.parallel = sched.sleep, sched.now, sched.parallel
  g.interrupted = require("flashrun.signals").interrupted
  g.gtid = require "flashrun.gtid"
  g.gtid_subtract = gtid_subtract
  g.redo = journal.global
  g.log = { debug = log.debug, info = log.info, warn = log.warn, error = log.error,
            event = log.event, would = would }
  g.secret = log.secret
  g.refuse = errors.refuse
  g.cjson = require "cjson"
  strict.lock(g)
end

return M
