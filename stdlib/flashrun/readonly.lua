-- flashrun.readonly — read-only views of nested tables (config). Writing raises, naming the key.
local M = {}

function M.wrap(t, name)
  local data = {}
  for k, v in pairs(t) do
    data[k] = type(v) == "table" and M.wrap(v, name .. "." .. tostring(k)) or v
  end
  return setmetatable({}, {
    __index = data,
    __newindex = function(_, k)
      error(string.format("%s is read-only (assignment to %s.%s)", name, name, tostring(k)), 2)
    end,
    __pairs = function() return next, data, nil end,
    __len = function() return #data end,
    __metatable = false,
  })
end

return M
