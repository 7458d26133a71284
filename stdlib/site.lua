-- site.lua — the [site] settings: a site's answers about how its nodes run (paths, option
-- file, service manager templates, timeouts), from the configuration's [site] section,
-- FLASHRUN_SITE_* or --set site.KEY=VALUE. Their keys, types and defaults are the schema's
-- (runtime/schema.c; docs/operator.md, "Site settings"). The node model they adjust is node.lua.
local shell = require "shell"
local settings = require "flashrun.settings"
local M = {}

-- They are checked when the configuration loads, from every source, so a misspelt or malformed
-- setting stops the run before any step.
local KEYS = settings.KEYS.site

-- The value of a [site] setting, its default when unset. An unknown key is a mistake in the
-- calling code, not in the configuration.
function M.get(key)
  local k = KEYS[key]
  if not k then error(("site.get: no [site] setting %q in the schema"):format(tostring(key)), 2) end
  local config = settings.current()
  local v = config.site and config.site[key]
  if v == nil or v == "" then v = k.default end
  return v
end

function M.num(key) return tonumber(M.get(key)) or error("site." .. key .. " must be a number", 0) end

-- A path setting (site.basedir, site.conf_file, …): nil when unset; raises when it is not a
-- clean absolute path.
function M.path(key)
  local v = M.get(key)
  if v == nil or v == "" then return nil end
  local p = shell.normpath(v)
  if not p then error(("site.%s=%q is not a clean absolute path"):format(key, v), 0) end
  return p
end

return M
