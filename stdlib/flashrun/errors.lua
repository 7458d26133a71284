-- flashrun.errors — error values that choose the exit code.
-- A plain string error is a bug or a failed step (exit 1); these tables carry their own code.
local M = {}

local Err = {}
Err.__index = Err
Err.__tostring = function(e) return e.msg end

M.USAGE, M.REFUSED, M.LOCKED = 2, 3, 4

function M.new(kind, code, msg)
  return setmetatable({ kind = kind, code = code, msg = msg }, Err)
end

function M.is(e) return getmetatable(e) == Err end

-- refuse(message): a precheck said no; the run ends with exit 3.
function M.refuse(msg)
  if type(msg) ~= "string" then error("refuse: message must be a string", 2) end
  error(M.new("refuse", M.REFUSED, msg), 0)
end

-- A usage or configuration problem: exit 2, message shown as is.
function M.usage(fmt, ...)
  error(M.new("usage", M.USAGE, string.format(fmt, ...)), 0)
end

return M
