-- flashrun.settings — the run's configuration, assembled in this order (later wins):
--   1. the INI file (--config FILE, else ./flashback.ini when it exists) via flashrun.config
--   2. environment: FLASHRUN_<SECTION>_<KEY>=value (e.g. FLASHRUN_SOURCE_MYSQL_PASSWORD); only
--      the FLASHRUN_SOURCE_, FLASHRUN_TARGET_ and FLASHRUN_SITE_ prefixes are configuration
--      (FLASHRUN_STDLIB and the test knobs are not)
--   3. --set SECTION.KEY=VALUE (a KEY without a section means site.KEY)
--   4. --si / --ti HOST:PORT (source / target host and port, parsed by flashrun.endpoint)
-- Every key and value from every source is checked against the one schema (runtime/schema.c,
-- as `flashrun.schema`): an unknown key or a bad value exits 2 naming where it came from (the
-- file's line, the variable, the --set argument) — never the value, which may be a password.
-- Then defaults fill what is unset, ports become numbers, every secret is registered with the
-- log's redaction, and the result is wrapped read-only.
local cfgfile = require "flashrun.config"
local schema = require "flashrun.schema"
local log = require "flashrun.log"
local errors = require "flashrun.errors"
local readonly = require "flashrun.readonly"
local tls = require "flashrun.tls"

local M = {}

M.DEFAULT_FILE = "flashback.ini"

-- What "needs = {'source'}" means: the keys a section must have before a plan may run.
M.REQUIRED = { "host", "port", "mysql_user", "mysql_password" }
-- What "ssh_to = {'target'}" adds: the ssh account (a password or ssh_key may be empty: the
-- agent at SSH_AUTH_SOCK or ~/.ssh/id_ed25519 can authenticate; a missing account cannot be
-- guessed).
M.REQUIRED_SSH = { "sys_user" }

-- section -> key -> its schema entry (from flashrun.schema, the one definition).
local KEYS = {}
for _, sec in ipairs(schema.sections()) do
  KEYS[sec] = {}
  for _, k in ipairs(schema.keys(sec)) do KEYS[sec][k.key] = k end
end
M.KEYS = KEYS

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

-- One value from a source: checked, then stored (a port as an integer). `where` names the
-- source for the message.
local function put(sections, where, sec, key, value)
  local v, why = schema.check(sec, key, value)
  if v == nil then errors.usage("%s: %s", where, why) end
  sections[sec][key] = v
end

local function load_file(cli, sections)
  local path = cli.config
  if not path and exists(M.DEFAULT_FILE) then path = M.DEFAULT_FILE end
  if not path then return nil end
  -- The reader checks every section, key and value against the schema, naming file:line.
  local t, err = cfgfile.load(path)
  if not t then errors.usage("config: %s", tostring(err)) end
  for sec, kv in pairs(t) do
    for k, v in pairs(kv) do put(sections, path, sec, k, v) end
  end
  return path
end

local ENV_SECTIONS = { SOURCE = "source", TARGET = "target", SITE = "site" }

local function apply_env(env, sections)
  -- Sorted so that the outcome (and the first error) does not depend on hash order.
  local names = {}
  for name in pairs(env or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local sec, key = name:match("^FLASHRUN_(%u+)_(.+)$")
    sec = sec and ENV_SECTIONS[sec]
    if sec then put(sections, "environment variable " .. name, sec, key:lower(), env[name]) end
  end
end

local function apply_sets(sets, sections)
  for _, item in ipairs(sets or {}) do
    local lhs, value = item:match("^([^=]+)=(.*)$")
    local sec, key = lhs:match("^([^.]+)%.(.+)$")
    if not sec then sec, key = "site", lhs end
    if not KEYS[sec] then
      errors.usage("--set %s: unknown section '%s' (known: %s; KEY alone means site.KEY)",
                   lhs, sec, table.concat(schema.sections(), ", "))
    end
    put(sections, "--set " .. lhs, sec, key, value)
  end
end

local function apply_endpoint(ep, section)
  if not ep then return end
  section.host = ep.host
  section.port = ep.port
end

-- Unset or empty typed values take the schema's default (or the value of the key it names:
-- router_user is mysql_user unless given); an empty text stays (an empty password is a value).
-- Two passes: a key whose default is another key's value (router_ssl_mode is ssl_mode) reads
-- that key once its own default was filled.
local function fill_defaults(sections)
  for pass = 1, 2 do
    for sec, keys in pairs(KEYS) do
      local kv = sections[sec]
      for key, k in pairs(keys) do
        if (pass == 1) == (k.same_as == nil) then
          local v = kv[key]
          if v == "" and k.type ~= "text" then v = nil end
          if v == nil and k.same_as then v = kv[k.same_as] end
          if v == nil and k.default then v = schema.check(sec, key, k.default) end
          kv[key] = v
        end
      end
    end
  end
end

local function register_secrets(sections)
  for sec, kv in pairs(sections) do
    for k, v in pairs(kv) do
      if type(v) == "string" and v ~= "" and KEYS[sec][k].secret then log.secret(v) end
    end
  end
end

-- build(cli) -> read-only config table, path of the file used (or nil)
function M.build(cli)
  local sections = {}
  for sec in pairs(KEYS) do sections[sec] = {} end
  local path = load_file(cli, sections)
  register_secrets(sections) -- at once: nothing below may print one
  apply_env(cli.env, sections)
  register_secrets(sections)
  apply_sets(cli.sets, sections)
  apply_endpoint(cli.si, sections.source)
  apply_endpoint(cli.ti, sections.target)
  fill_defaults(sections)
  register_secrets(sections)
  return readonly.wrap(sections, "config"), path
end

-- The TLS settings of a section that make sense only together, and the files they name
-- (docs/operator.md, TLS): a problem a connect would report later and worse. Returns the
-- problems as sentences.
local TLS_VERIFY = { verify_ca = true, verify_identity = true }
function M.tls_problems(sec, c)
  local out = {}
  local function bad(fmt, ...) out[#out + 1] = ("%s."):format(sec) .. fmt:format(...) end
  for _, key in ipairs({ "ssl_mode", "router_ssl_mode" }) do
    if TLS_VERIFY[c[key]] and (c.ssl_ca == nil or c.ssl_ca == "") then
      bad("%s = %s verifies the servers' certificates against a CA: set %s.ssl_ca to the CA " ..
          "certificate file (PEM) that signed them", key, c[key], sec)
    end
  end
  local cert, key = c.ssl_cert ~= nil and c.ssl_cert ~= "", c.ssl_key ~= nil and c.ssl_key ~= ""
  if cert ~= key then
    bad("%s is set without %s: a client certificate needs its private key and the key its " ..
        "certificate", cert and "ssl_cert" or "ssl_key", cert and "ssl_key" or "ssl_cert")
  end
  if c.tls_version and c.tls_version ~= "" then
    for v in (c.tls_version .. ","):gmatch("([^,]*),") do
      if not ({ ["TLSv1.2"] = true, ["TLSv1.3"] = true })[v] then
        bad("tls_version: expected TLSv1.2, TLSv1.3 or both, comma-separated (e.g. TLSv1.2,TLSv1.3)")
        break
      end
    end
  end
  for _, k in ipairs({ "ssl_ca", "ssl_cert", "ssl_key" }) do
    local path = c[k]
    if path and path ~= "" then
      local f, err = io.open(path, "r")
      if not f then bad("%s: cannot read %s", k, tostring(err)) else f:close() end
    end
  end
  -- A private key others may read is no longer private: refuse it as ssh and the mysql server
  -- do their own (OpenSSH: "UNPROTECTED PRIVATE KEY FILE").
  for _, k in ipairs({ "ssl_key", "ssh_key" }) do
    local path = c[k]
    if path and path ~= "" then
      local mode = tls.file_mode(path)
      if mode and mode & 0x3f ~= 0 then
        bad("%s: %s may be read by its group or others (mode %o): run chmod 600 %s", k, path, mode, path)
      end
    end
  end
  return out
end

-- The run's configuration (what build returned), for the modules that need it: set once by
-- flashrun.globals.install before the plan loads. current() raises before that (a programmer
-- error: a module reading the configuration while it is being assembled).
local current
function M.set_current(config)
  if type(config) ~= "table" then error("settings.set_current: config must be a table", 2) end
  current = config
end
function M.current()
  if current == nil then error("settings.current: no configuration yet (flashrun.globals.install sets it)", 2) end
  return current
end

-- check(config, needs, ssh_to): every section named in needs has the required keys, and every
-- one in ssh_to (the plan reaches its nodes' hosts by ssh) has sys_user; the TLS settings of
-- every section in needs agree with each other (M.tls_problems). Exits 2 naming them.
function M.check(config, needs, ssh_to)
  local missing = {}
  local function require_keys(sec, keys)
    for _, k in ipairs(keys) do
      local v = config[sec] and config[sec][k]
      if v == nil or v == "" then missing[#missing + 1] = string.format("%s.%s", sec, k) end
    end
  end
  for _, sec in ipairs(needs or {}) do
    if config[sec] == nil then
      missing[#missing + 1] = string.format("[%s] (whole section)", sec)
    elseif sec == "source" or sec == "target" then
      require_keys(sec, M.REQUIRED)
    end
  end
  for _, sec in ipairs(ssh_to or {}) do require_keys(sec, M.REQUIRED_SSH) end
  if #missing > 0 then
    errors.usage("config incomplete: missing %s (set them in the INI file, with " ..
                 "FLASHRUN_<SECTION>_<KEY> or --set SECTION.KEY=VALUE)", table.concat(missing, ", "))
  end
  local problems = {}
  for _, sec in ipairs(needs or {}) do
    if (sec == "source" or sec == "target") and config[sec] then
      for _, p in ipairs(M.tls_problems(sec, config[sec])) do problems[#problems + 1] = p end
    end
  end
  if #problems > 0 then errors.usage("config: %s", table.concat(problems, "; ")) end
end

return M
