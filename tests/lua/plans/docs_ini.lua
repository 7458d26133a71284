-- Documentation that runs (issue 9): every ```ini block of README.md and docs/*.md parses with
-- the real reader and schema to the values it shows (an unquoted value verbatim; a quoted one
-- unquoted by the rules the docs state, re-implemented here as the oracle), and the site
-- settings table lists exactly the schema's [site] keys with its defaults. Commands, paths and
-- links are tests/lua/docs.lua's. FLASHRUN_TEST_DOCS: the source tree.
local cfg = require "flashrun.config"
local schema = require "flashrun.schema"
local root = assert(os.getenv("FLASHRUN_TEST_DOCS"), "FLASHRUN_TEST_DOCS not set")

local function read(path)
  local f = assert(io.open(path)); local t = f:read("a"); f:close(); return t
end

local function doc_files()
  local files = { "README.md" }
  local p = io.popen("cd '" .. root .. "' && ls docs/*.md 2>/dev/null")
  for l in p:lines() do files[#files + 1] = l end
  p:close()
  return files
end

-- Fenced blocks: { lang=, line= (of the first content line), text= }
local function blocks(text)
  local out, cur, n = {}, nil, 0
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local fence = l:match("^%s*```(%S*)")
    if fence and not cur then cur = { lang = fence, line = n + 1, lines = {} }
    elseif fence and cur then cur.text = table.concat(cur.lines, "\n") .. "\n"; out[#out + 1] = cur; cur = nil
    elseif cur then cur.lines[#cur.lines + 1] = l end
  end
  return out
end

-- The value as the README says it reads: '...' literal, "..." with \" \\ \n \t, else verbatim
-- after trimming blanks.
local function expected(raw)
  raw = raw:match("^[ \t]*(.-)[ \t]*$")
  local q = raw:sub(1, 1)
  if q == "'" then return raw:match("^'(.*)'$") end
  if q == '"' then
    local body = raw:match('^"(.*)"$')
    local map = { ['"'] = '"', ["\\"] = "\\", n = "\n", t = "\t" }
    return (body:gsub("\\(.)", map))
  end
  return raw
end

local function check_ini(file, b, n)
  local where = ("%s:%d"):format(file, b.line)
  -- blank lines before the block: the reader's errors then name the README's own line
  local t, err = cfg.parse(string.rep("\n", b.line - 1) .. b.text, file)
  if not t then error(("```ini block at %s does not parse: %s"):format(where, err), 0) end
  local section, count = nil, 0
  for l in b.text:gmatch("([^\n]*)\n") do
    local s = l:match("^%s*%[%s*([^%]]-)%s*%]")
    if s then section = s end
    local k, v = l:match("^%s*([%w_%.%-]+)%s*=(.*)$")
    if k then
      local got, want = t[section][k], expected(v)
      if got ~= want then
        error(("%s: %s.%s reads %q, the README shows %q"):format(where, section, k, tostring(got), want), 0)
      end
      count = count + 1
    end
  end
  log.info("MARK ini %s: %d values as shown", where, count)
  return t
end

-- `| `key` | default … |` rows under a settings table: the key must be in the schema, and a
-- default written as `value` first in the cell must be the schema's.
local function check_table_row(file, n, l, seen)
  local keys, cell = l:match("^|%s*(`[^|]*`)%s*|%s*(.-)%s*|%s*$")
  if not keys then return end
  local site = {}
  for _, k in ipairs(schema.keys("site")) do site[k.key] = k end
  local list = {}
  for k in keys:gmatch("`([%w_]+)`") do list[#list + 1] = k end
  local defaults = {}
  for d in cell:gmatch("^`([^`]*)`") do defaults[#defaults + 1] = d end
  local d2 = cell:match("^`[^`]*`%s*/%s*`([^`]*)`")
  if d2 then defaults[2] = d2 end
  for i, k in ipairs(list) do
    local e = site[k]
    if not e then error(("%s:%d: the settings table lists %s, which is no [site] key"):format(file, n, k), 0) end
    seen[k] = true
    local d = defaults[i] or defaults[1]
    if e.default and d and d:match("^[%w_%.%-]+$") and d ~= e.default then
      error(("%s:%d: %s defaults to %s, the table says %s"):format(file, n, k, e.default, d), 0)
    end
  end
end

return {
  name = "docs-ini",
  description = "the documentation's examples run",
  journal = false,
  steps = {
    { name = "examples", run = function()
        local nini, seen, tables = 0, {}, false
        for _, file in ipairs(doc_files()) do
          local text = read(root .. "/" .. file)
          for _, b in ipairs(blocks(text)) do
            if b.lang == "ini" then nini = nini + 1; check_ini(file, b, nini) end
          end
          local n, in_table = 0, false
          for l in (text .. "\n"):gmatch("([^\n]*)\n") do
            n = n + 1
            if l:match("^| key | default |") then in_table, tables = true, true
            elseif in_table and not l:match("^|") then in_table = false
            elseif in_table then check_table_row(file, n, l, seen) end
          end
        end
        assert(nini > 0, "no ```ini block found")
        assert(tables, "no settings table (| key | default |) found")
        local missing = {}
        for _, k in ipairs(schema.keys("site")) do if not seen[k.key] then missing[#missing + 1] = k.key end end
        if #missing > 0 then error("settings the documentation's table does not list: " .. table.concat(missing, ", "), 0) end
      end },
  },
}
