-- The documentation is tested where it shows commands, paths and links:
--   * every `flashrun` command line naming a plan (in a code block or an inline code span of
--     README.md and docs/*.md) parses: it is run with --list from a directory holding plans/,
--     examples/ and a flashback.ini, and must print the plan's steps (exit 0);
--   * every option any `flashrun` line shows (synopses included) is one `flashrun --help` lists;
--   * every repository path named in code (plans/…, scripts/…, tests/…, examples/…) exists, and
--     every `tests/lab/lab COMMAND`, `ctest -L LABEL` and e2e_CASE named is one that exists;
--   * every relative link points to an existing file and, with #anchor, to one of its headings;
--   * the README stays short and links every page under docs/.
-- INI examples are checked elsewhere. Usage: lua5.4 docs.lua FLASHRUN SOURCE_DIR
local FR, SRC = arg[1], arg[2]
assert(FR and SRC, "usage: docs.lua FLASHRUN SOURCE_DIR")
local cwd = os.getenv("PWD") or "."
if FR:sub(1, 1) ~= "/" then FR = cwd .. "/" .. FR end
if SRC:sub(1, 1) ~= "/" then SRC = cwd .. "/" .. SRC end

local failures, checked = {}, { commands = 0, options = 0, paths = 0, links = 0, names = 0 }
local function fail(where, fmt, ...)
  failures[#failures + 1] = where .. ": " .. string.format(fmt, ...)
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
-- (io.open, not os.rename: the tree may be read-only, as in tests/package/mysqlclient's chroot;
-- on Linux fopen opens a directory for reading too)
local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end
local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a"); f:close(); return s
end
local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

-- The pages: README.md and every docs/*.md.
local pages = { "README.md" }
do
  local p = assert(io.popen("cd " .. q(SRC) .. " && ls docs/*.md 2>/dev/null"))
  for name in p:lines() do pages[#pages + 1] = name end
  p:close()
end
if #pages < 2 then fail("docs/", "no pages found") end

-- code(text) -> list of {text, line}: lines of fenced blocks and inline code spans.
local function code_of(text)
  local out, fenced, n = {}, false, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if line:match("^%s*```") then
      fenced = not fenced
    elseif fenced or line:match("^    ") then
      out[#out + 1] = { text = line, line = n, block = true }
    else
      for span in line:gmatch("`([^`]+)`") do out[#out + 1] = { text = span, line = n } end
    end
  end
  return out
end

-- GitHub's heading anchors: lower case, punctuation (ASCII and U+2000-U+206F) dropped, spaces
-- become '-'.
local function slug(heading)
  local s = heading:lower():gsub("\226[\128\129][\128-\191]", "")
  s = s:gsub("[%p]", function(c) return (c == "-" or c == "_") and c or "" end)
  return (s:gsub(" ", "-"))
end
local anchors = {}
local function anchors_of(page)
  if anchors[page] then return anchors[page] end
  local set, fenced = {}, false
  for line in (read(SRC .. "/" .. page) .. "\n"):gmatch("(.-)\n") do
    if line:match("^%s*```") then fenced = not fenced
    elseif not fenced then
      local h = line:match("^#+%s+(.-)%s*$")
      if h then set[slug(h)] = true end
    end
  end
  anchors[page] = set
  return set
end

-- The options flashrun knows, from its own help.
local help = sh(q(FR) .. " --help 2>&1")
local known = {}
for opt in help:gmatch("%f[%w-]%-%-?[%a][%w-]*") do known[opt] = true end
if not known["--list"] then fail(FR, "--help does not list --list:\n%s", help) end

-- A scratch directory: plans/ and examples/ of the source tree and an (empty) flashback.ini.
local work = sh("mktemp -d \"${TMPDIR:-/tmp}/flashrun-docs.XXXXXX\""):gsub("%s+$", "")
assert(work ~= "", "mktemp failed")
assert(sh("ln -s " .. q(SRC .. "/plans") .. " " .. q(work .. "/plans") .. " && ln -s " .. q(SRC .. "/examples")
          .. " " .. q(work .. "/examples") .. " && : > " .. q(work .. "/flashback.ini")) ~= nil)

local PLACEHOLDERS = { ["PLAN.lua"] = "plans/verify.lua", ["HOST:PORT"] = "127.0.0.1:3307",
                       FILE = "flashback.ini", DIR = "state", NAME = "verify" }

local function check_command(where, line)
  local cmd = line:gsub("%s+#.*$", ""):gsub("^%s*sudo%s+", ""):gsub("^%s*", "")
  -- options: every one shown must exist (synopses too)
  for opt in (" " .. cmd):gmatch("%s(%-%-?[%a][%w-]*)") do
    checked.options = checked.options + 1
    if not known[opt] then fail(where, "option %s is not one `flashrun --help` lists (in: %s)", opt, line) end
  end
  -- a synopsis ([optional] or a|b choices) or a mention without a plan is not run
  if cmd:find("[%[|]") or cmd:find("%.%.%.") or not (cmd:find("%.lua") or cmd:find("%s%-f%s")) then return end
  local args = {}
  for word in cmd:gmatch("%S+") do
    if word:find("[\"'$`;&<>()]") then fail(where, "cannot run a command with shell syntax: %s", line) return end
    args[#args + 1] = q(PLACEHOLDERS[word] or word)
  end
  table.remove(args, 1) -- "flashrun"
  checked.commands = checked.commands + 1
  local out, code = sh("cd " .. q(work) .. " && FLASHRUN_STDLIB=" .. q(SRC .. "/stdlib") .. " "
                       .. q(FR) .. " " .. table.concat(args, " ") .. " --list 2>&1")
  if code ~= 0 or not out:match("^[%w_-]+: .-\nStep 0*1/") then
    fail(where, "`%s --list` exits %s:\n%s", cmd, tostring(code), out)
  end
end

local PREFIXES = { "plans/", "scripts/", "tests/", "bench/", "stdlib/", "runtime/", "drivers/",
                   "examples/", "docs/", ".ci/" }
local function check_paths(where, text)
  for pre, token in (" " .. text):gmatch("([^%w_./$~-])([%w_./{}?*<>~-]+)") do
    local path = token:gsub("[.,:]+$", "")
    for _, p in ipairs(PREFIXES) do
      if path:sub(1, #p) == p and not path:find("[{}?*<>]") and not path:find("%u%u%u") then
        checked.paths = checked.paths + 1
        if not exists(SRC .. "/" .. path) then fail(where, "names %s, which does not exist", path) end
        break
      end
    end
  end
end

-- What the pages may name besides paths: lab subcommands, ctest labels, e2e cases.
local lab_commands, labels, e2e_tests = {}, {}, {}
do
  local lab = read(SRC .. "/tests/lab/lab")
  for alts in lab:gmatch("\n%s*([%a|-]+)%)") do
    for c in alts:gmatch("[%a-]+") do lab_commands[c] = true end
  end
  local p = assert(io.popen("cd " .. q(SRC) .. " && find . -name CMakeLists.txt -not -path './build*'"))
  for f in p:lines() do
    local cm = read(SRC .. "/" .. f)
    for l in cm:gmatch("LABELS%s+\"?([%w_]+)") do labels[l] = true end
    for name in cm:gmatch("(e2e_[%w_]+)") do e2e_tests[name] = true end
    for list in cm:gmatch("foreach%(case ([^)]*)%)") do
      for c in list:gmatch("[%w_]+") do e2e_tests["e2e_" .. c] = true end
    end
  end
  p:close()
end
local function check_names(where, text)
  for sub in text:gmatch("tests/lab/lab%s+([%a-]+)") do
    checked.names = checked.names + 1
    if not lab_commands[sub] then fail(where, "`tests/lab/lab %s`: the lab has no such command", sub) end
  end
  for l in text:gmatch("ctest%s+%-L%s+([%w_]+)") do
    checked.names = checked.names + 1
    if not labels[l] then fail(where, "`ctest -L %s`: no test has that label", l) end
  end
  for name in text:gmatch("(e2e_[%w_]+)") do
    checked.names = checked.names + 1
    if not e2e_tests[name] then fail(where, "%s: no such e2e test", name) end
  end
end

for _, page in ipairs(pages) do
  local text = read(SRC .. "/" .. page)
  local dir = page:match("^(.*)/") or "."
  for _, c in ipairs(code_of(text)) do
    local where = page .. ":" .. c.line
    if c.text:match("^%s*sudo%s+flashrun%s") or c.text:match("^%s*flashrun%s") then
      check_command(where, c.text)
    end
    check_paths(where, c.text)
    check_names(where, c.text)
  end
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    for target in line:gmatch("%]%(([^)%s]+)%)") do
      if not target:match("^%a+://") and not target:match("^mailto:") then
        checked.links = checked.links + 1
        local file, anchor = target:match("^([^#]*)#?(.*)$")
        local path = file == "" and page or (dir == "." and file or dir .. "/" .. file)
        path = path:gsub("[^/]+/%.%./", "")
        if not exists(SRC .. "/" .. path) then
          fail(page .. ":" .. n, "links to %s, which does not exist", target)
        elseif anchor ~= "" and not anchors_of(path)[anchor] then
          fail(page .. ":" .. n, "links to %s: %s has no heading with anchor #%s", target, path, anchor)
        end
      end
    end
  end
end

-- The README: two screens, and every page linked from it.
local readme = read(SRC .. "/README.md")
local _, lines = readme:gsub("\n", "")
if lines > 120 then fail("README.md", "%d lines: keep it to two screens (120 lines at most)", lines) end
for i = 2, #pages do
  if not readme:find("](" .. pages[i], 1, true) then fail("README.md", "does not link %s", pages[i]) end
end

sh("rm -rf " .. q(work))
print(string.format("docs: %d pages, %d commands run with --list, %d options, %d paths, %d links, %d names checked",
                    #pages, checked.commands, checked.options, checked.paths, checked.links, checked.names))
if checked.commands == 0 then fail("docs", "no flashrun command found to check") end
if #failures > 0 then
  io.stderr:write("FAIL: ", table.concat(failures, "\nFAIL: "), "\n")
  os.exit(1)
end
