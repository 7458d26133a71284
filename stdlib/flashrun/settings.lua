-- flashrun.settings — the run's configuration, assembled in this order (later wins):
--   1. the INI file (--config FILE, else ./flashback.ini when it exists) via flashrun.config
--   2. environment: FLASHRUN_<SECTION>_<KEY>=value (e.g. FLASHRUN_SOURCE_MYSQL_PASSWORD)
--   3. --set SECTION.KEY=VALUE (a KEY without a section means site.KEY)
--   4. --si / --ti HOST:PORT (source / target host and port)
-- then ports become numbers, every *password / *passphrase value is registered as a secret,
-- and the result is wrapped read-only. Problems raise errors.usage (exit 2).
local cfgfile = require "flashrun.config"
local log = require "flashrun.log"
local errors = require "flashrun.errors"
local readonly = require "flashrun.readonly"

local M = {}

M.DEFAULT_FILE = "flashback.ini"
local SECTIONS = { "source", "target", "site" }
local PORT_KEYS = { port = true, sys_port = true }

-- What "needs = {'source'}" means: the keys a section must have before a plan may run.
M.REQUIRED = { "host", "port", "mysql_user", "mysql_password" }

local function is_secret_key(k)
  return k:match("password$") ~= nil or k:match("passphrase$") ~= nil
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function load_file(cli, sections)
  local path = cli.config
  if not path and exists(M.DEFAULT_FILE) then path = M.DEFAULT_FILE end
  if not path then return nil end
  local t, err = cfgfile.load(path)
  if not t then errors.usage("config: %s", tostring(err)) end
  for sec, kv in pairs(t) do
    if type(kv) == "table" then
      sections[sec] = sections[sec] or {}
      for k, v in pairs(kv) do sections[sec][k] = v end
    end
  end
  return path
end

local function apply_env(env, sections)
  -- Sorted so that the outcome does not depend on hash order.
  local names = {}
  for name in pairs(env or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local sec, key = name:match("^FLASHRUN_(%w+)_(.+)$")
    if sec then
      sec = sec:lower()
      if sections[sec] then sections[sec][key:lower()] = env[name] end
    end
  end
end

local function apply_sets(sets, sections)
  for _, item in ipairs(sets or {}) do
    local lhs, value = item:match("^([^=]+)=(.*)$")
    local sec, key = lhs:match("^([%w_]+)%.([%w_%.%-]+)$")
    if not sec then sec, key = "site", lhs end
    if not key:match("^[%w_%.%-]+$") then
      errors.usage("--set '%s': expected SECTION.KEY=VALUE or KEY=VALUE", lhs)
    end
    sections[sec] = sections[sec] or {}
    sections[sec][key] = value
  end
end

local function apply_endpoint(ep, section)
  if not ep then return end
  section.host = ep.host
  section.port = tostring(ep.port)
end

local function convert_ports(sections)
  for sec, kv in pairs(sections) do
    for k, v in pairs(kv) do
      if PORT_KEYS[k] and type(v) ~= "number" then
        local n = math.tointeger(tonumber(v))
        if not n or n < 1 or n > 65535 or not tostring(v):match("^%s*%d+%s*$") then
          errors.usage("config %s.%s = '%s': a port must be a number from 1 to 65535",
                       sec, k, tostring(v))
        end
        kv[k] = n
      end
    end
  end
end

local function register_secrets(sections)
  for _, kv in pairs(sections) do
    for k, v in pairs(kv) do
      if type(v) == "string" and is_secret_key(k) then log.secret(v) end
    end
  end
end

-- build(cli) -> read-only config table, path of the file used (or nil)
function M.build(cli)
  local sections = {}
  for _, s in ipairs(SECTIONS) do sections[s] = {} end
  local path = load_file(cli, sections)
  register_secrets(sections) -- at once: nothing below may print one
  apply_env(cli.env, sections)
  apply_sets(cli.sets, sections)
  apply_endpoint(cli.si, sections.source)
  apply_endpoint(cli.ti, sections.target)
  register_secrets(sections)
  convert_ports(sections)
  -- [target] router_user / router_password: the account the standby router is registered with
  -- on production's router; by default the target's MySQL account.
  local t = sections.target
  if t.router_user == nil then t.router_user = t.mysql_user end
  if t.router_password == nil then t.router_password = t.mysql_password end
  return readonly.wrap(sections, "config"), path
end

-- check(config, needs): every section named in needs has the required keys.
function M.check(config, needs)
  local missing = {}
  for _, sec in ipairs(needs or {}) do
    local kv = config[sec]
    if kv == nil then
      missing[#missing + 1] = string.format("[%s] (whole section)", sec)
    elseif sec == "source" or sec == "target" then
      for _, k in ipairs(M.REQUIRED) do
        if kv[k] == nil or kv[k] == "" then
          missing[#missing + 1] = string.format("%s.%s", sec, k)
        end
      end
    end
  end
  if #missing > 0 then
    errors.usage("config incomplete: missing %s (set them in the INI file, with " ..
                 "FLASHRUN_<SECTION>_<KEY> or --set SECTION.KEY=VALUE)", table.concat(missing, ", "))
  end
end

return M
