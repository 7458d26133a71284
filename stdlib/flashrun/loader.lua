-- flashrun.loader — the environment stdlib modules run in. A module found under the stdlib
-- (stdlib/*.lua, stdlib/<dir>/*.lua, on disk or built in) is loaded with an _ENV holding Lua's
-- standard library and nothing else, locked (flashrun.strict): the plan globals (config, sql,
-- log, …: flashrun.globals) are not there, so what a module uses is what it requires at its
-- top (nmap NSE's nselib), and a module reading one fails at that line. Modules next to a
-- plan, and a site directory's helper modules, are the plan's side: they run with the plan
-- globals, as the plan does (docs/plans.md, "Lua API seen by plans").
local strict = require "flashrun.strict"

local M = {}

-- Lua 5.4's standard library, by the names luaL_openlibs gives it (_G itself is left out).
M.STANDARD = {
  "_VERSION", "assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs", "load",
  "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset",
  "require", "select", "setmetatable", "tonumber", "tostring", "type", "warn", "xpcall",
  "coroutine", "debug", "io", "math", "os", "package", "string", "table", "utf8",
}

-- This file is <stdlib>/flashrun/loader.lua: require hands a module its file as second argument.
local _, file = ...
local STDLIB = assert(type(file) == "string" and file:match("^(.*)/flashrun/loader%.lua$"),
                      "flashrun.loader must be loaded by require from the stdlib's flashrun/")

local env
-- The one environment every stdlib module shares; built on first use from the standard
-- library as it is then (before flashrun.globals adds the plan's names to _G).
function M.env()
  if env then return env end
  env = {}
  for _, name in ipairs(M.STANDARD) do env[name] = _G[name] end
  strict.lock(env)
  return env
end

-- The stdlib directory modules are loaded from ("/usr/share/flashrun/stdlib", "(built in)/stdlib").
function M.stdlib() return STDLIB end

-- install(): from now on, every module require finds under the stdlib runs in env(). It wraps
-- the Lua file searcher in place (package.searchers[2]), so the order of package.path (the
-- plan's directory, the stdlib, the site's) stays what finds a module. Idempotent.
local installed = false
function M.install()
  if installed then return end
  installed = true
  local prefix, inner, stdenv = STDLIB .. "/", package.searchers[2], M.env()
  package.searchers[2] = function(name)
    local chunk, found = inner(name)
    if type(chunk) == "function" and found:sub(1, #prefix) == prefix then
      -- A main chunk's one upvalue is its _ENV (the Lua manual, load).
      assert(debug.getupvalue(chunk, 1) == "_ENV", "a stdlib module compiled without its _ENV upvalue")
      debug.setupvalue(chunk, 1, stdenv)
    end
    return chunk, found
  end
end

return M
