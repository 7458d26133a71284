-- The tree's own rules, checked on the sources (issue 26; docs/plans.md, "The stdlib's layers"):
--   1. no function in stdlib/ or plans/ longer than 80 lines, unless the comment right above it
--      says why ("-- Long: <reason>");
--   2. a restore point strategy's name (local, donor, reflink, auto) is compared only inside
--      stdlib/restore_point/: everywhere else the strategy's interface is called.
-- Usage: lua5.4 tree.lua LUAC SOURCE_DIR   (LUAC: luac5.4, whose listing gives each function's lines)
local luac, root = arg[1], arg[2]
local failures = {}
local function fail(fmt, ...) failures[#failures + 1] = fmt:format(...) end

local function lines_of(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

local files = {}
local p = assert(io.popen(("cd '%s' && find stdlib plans -name '*.lua' | LC_ALL=C sort"):format(root)))
for f in p:lines() do files[#files + 1] = f end
p:close()
assert(#files > 10, "found too few Lua files under " .. root)

local MAX = 80
local checked_functions = 0
for _, f in ipairs(files) do
  local path = root .. "/" .. f
  local src = lines_of(path)
  local l = assert(io.popen(("'%s' -p -l '%s' 2>&1"):format(luac, path)))
  for line in l:lines() do
    local a, b = line:match("^function <[^:]+:(%d+),(%d+)>")
    if a then
      checked_functions = checked_functions + 1
      a, b = tonumber(a), tonumber(b)
      if b - a + 1 > MAX then
        -- the reason: a "-- Long:" line in the comment block right above the function's first line
        local i, why = a - 1, nil
        while i >= 1 and src[i]:match("^%s*%-%-") do
          why = why or src[i]:match("^%s*%-%-%s*Long:%s*(.+)")
          i = i - 1
        end
        if not why then fail("%s:%d-%d: a function of %d lines (over %d) without a '-- Long: <reason>' comment", f, a, b, b - a + 1, MAX) end
      end
    end
  end
  l:close()
end
assert(checked_functions > 100, "luac listed too few functions: " .. checked_functions)

-- The strategies' words, as their modules declare them (common.strategy("word")): a new one is
-- protected as soon as it exists. ("auto" is also a value of other settings, clone_ssl's: a
-- strategy only where the line says so.)
local WORDS = {}
for _, f in ipairs(files) do
  if f:match("^stdlib/restore_point/[^/]+%.lua$") then
    local w = io.open(root .. "/" .. f):read("a"):match('common%.strategy%("([%w_]+)"%)')
    if w then WORDS[w] = w == "auto" and "strategy" or true end
  end
end
assert(WORDS["local"] and WORDS.donor and WORDS.reflink, "the strategies' words read wrong from stdlib/restore_point/")
for _, f in ipairs(files) do
  if not f:match("^stdlib/restore_point/") then
    for n, line in ipairs(lines_of(root .. "/" .. f)) do
      local code = line:gsub("%-%-.*$", "")
      for w in code:gmatch('[=~]=%s*"(%w+)"') do
        if WORDS[w] == true or (WORDS[w] and code:find("strategy")) then fail("%s:%d: compares with the strategy name \"%s\": %s", f, n, w, line) end
      end
      for w in code:gmatch('"(%w+)"%s*[=~]=') do
        if WORDS[w] == true or (WORDS[w] and code:find("strategy")) then fail("%s:%d: compares with the strategy name \"%s\": %s", f, n, w, line) end
      end
      if code:match("strategy%s*[=~]=") then fail("%s:%d: compares a strategy: %s", f, n, line) end
    end
  end
end

for _, m in ipairs(failures) do print("FAIL " .. m) end
if #failures > 0 then os.exit(1) end
print(("ok: %d files, %d functions"):format(#files, checked_functions))
