-- flashrun.strict — lock the globals (lsyncd lockGlobals, NSE strict): after lock(), reading
-- or assigning a name that was not declared raises an error naming it. A typo in a plan is an
-- error at the line that has it, not a silent nil three steps later.
local M = {}

function M.lock(g)
  setmetatable(g, {
    __index = function(_, k)
      error(string.format("undeclared global '%s'", tostring(k)), 2)
    end,
    __newindex = function(_, k)
      error(string.format("assignment to undeclared global '%s' (use local)", tostring(k)), 2)
    end,
    __metatable = "globals are locked",
  })
end

return M
