-- flashrun.report — the plan's report as one JSON document (--report-json FILE). A plan puts a
-- plain table in ctx.report (verify: checks.report); the bootstrap writes
--   { "plan": name, "status": "done"|"refused"|"failed"|"interrupted", "exit": code,
--     "dry_run": bool, "report": ctx.report or null }
-- masked like every line flashrun prints. Lists made with M.array stay JSON arrays when empty
-- (cjson writes an empty table as {}); object keys are written sorted, so two reports diff well.
local log = require "flashrun.log"

local M = {}

local ARRAY = { __name = "flashrun.report.array" }

-- Marks t as a list (an empty one is written as []). Returns t.
function M.array(t) return setmetatable(t or {}, ARRAY) end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function str(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESC[c] or ("\\u%04x"):format(c:byte()) end) .. '"'
end

local function is_array(t)
  if getmetatable(t) == ARRAY then return true end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function encode(v, out)
  local ty = type(v)
  if ty == "nil" or (ty == "userdata" or ty == "lightuserdata") then out[#out + 1] = "null"
  elseif ty == "boolean" then out[#out + 1] = tostring(v)
  elseif ty == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else out[#out + 1] = ("%.17g"):format(v) end
  elseif ty == "string" then out[#out + 1] = str(v)
  elseif ty == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = str(k)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode(val, out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = str(tostring(v))
  end
end

-- The JSON text of v (masked).
function M.encode(v)
  local out = {}
  encode(v, out)
  return log.mask(table.concat(out))
end

-- Opens the report file at the start of the run, so a path that cannot be written stops the run
-- before it does anything (exit 2, like --log-json). Returns the file, or nil, err.
function M.open(path)
  return io.open(path, "w")
end

-- Writes the document for a finished run to f and closes it.
function M.write(f, plan, code, ctx)
  local doc = { plan = plan.name, exit = code, dry_run = ctx and ctx.dry_run or false,
                status = ctx and ctx.outcome and ctx.outcome.status or (code == 0 and "done" or "failed"),
                report = ctx and ctx.report or require("cjson").null }
  f:write(M.encode(doc), "\n")
  f:close()
end

return M
