-- No stdlib module reads a plan global (issue 26): every *.lua under stdlib/ (host modules in
-- stdlib/flashrun/ included) is listed by luac (-l -l: each access to a global is a GETTABUP or
-- SETTABUP on _ENV naming it) and may touch only Lua's standard library, the names
-- flashrun.loader gives a stdlib module. The plan globals flashrun.globals installs (config,
-- dry_run, sql, log, …) are named in the failure. Usage: lua5.4 stdlib_env.lua LUAC STDLIB_DIR
local LUAC, STDLIB = arg[1], arg[2]
assert(LUAC and STDLIB, "usage: stdlib_env.lua LUAC STDLIB_DIR")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a"); f:close(); return s
end
local function lines_of(cmd)
  local p = assert(io.popen(cmd, "r"))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  local ok, _, code = p:close()
  return t, ok and 0 or code
end

-- What a stdlib module's environment holds (flashrun.loader's STANDARD).
local loader = read(STDLIB .. "/flashrun/loader.lua")
local allowed = {}
for name in assert(loader:match("M%.STANDARD = (%b{})"), "no M.STANDARD in loader.lua"):gmatch('"([%w_]+)"') do
  allowed[name] = true
end
assert(allowed.require and allowed.string and not allowed._G, "M.STANDARD read wrong from loader.lua")
-- The plan globals, as flashrun.globals installs them (g.NAME = …), to name them in a failure.
local plan_global = {}
for name in read(STDLIB .. "/flashrun/globals.lua"):gmatch("g%.([%a_][%w_]*)") do plan_global[name] = true end
assert(plan_global.config and plan_global.dry_run and plan_global.log, "the plan globals read wrong from globals.lua")
-- _G itself: the bootstrap (not loaded by require: the C host runs it as the main chunk) hands
-- it to flashrun.globals.install; the loader builds the stdlib's environment from it.
local EXTRA = { ["flashrun/bootstrap.lua"] = { _G = true }, ["flashrun/loader.lua"] = { _G = true } }

local files = lines_of("cd " .. q(STDLIB) .. " && find . -name '*.lua' | sed 's|^\\./||' | sort")
assert(#files > 20, "found only " .. #files .. " stdlib files under " .. STDLIB)
local failures, scanned = {}, 0
for _, rel in ipairs(files) do
  do
    scanned = scanned + 1
    local out, code = lines_of(q(LUAC) .. " -p -l -l " .. q(STDLIB .. "/" .. rel) .. " 2>&1")
    if code ~= 0 then failures[#failures + 1] = rel .. ": luac failed: " .. table.concat(out, " ") end
    local bad = {}
    for _, l in ipairs(out) do
      local op, name = l:match("%s([GS]ETTABUP)%s.*; _ENV \"([^\"]+)\"")
      if name and not allowed[name] and not (EXTRA[rel] and EXTRA[rel][name]) then
        local line = l:match("%[(%d+)%]") or "?"
        bad[#bad + 1] = ("%s:%s %s %s%s"):format(rel, line, op == "GETTABUP" and "reads" or "writes", name,
                                                plan_global[name] and " (a plan global: require what it stands for)" or "")
      end
    end
    for _, b in ipairs(bad) do failures[#failures + 1] = b end
  end
end
if #failures > 0 then
  io.stderr:write("stdlib modules touching names outside Lua's standard library:\n  ", table.concat(failures, "\n  "), "\n")
  os.exit(1)
end
print(("stdlib_env: %d modules read only Lua's standard library (being converted: %d)"):format(scanned, #files - scanned))
