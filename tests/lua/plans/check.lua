-- Assertions shared by the stdlib test plans (found next to them: the plan's directory is on
-- package.path). Each raises at the caller's line with what was got and what was expected.
local M = {}

function M.show(v) return type(v) == "string" and ("%q"):format(v) or tostring(v) end

function M.eq(got, want, what)
  if got ~= want then error(("%s: got %s, expected %s"):format(what, M.show(got), M.show(want)), 2) end
end

-- fn(...) must raise an error whose text contains `text` (plain); returns the message.
function M.raises(text, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error(("expected an error containing %q, got none"):format(text), 2) end
  if not tostring(err):find(text, 1, true) then
    error(("error %q does not contain %q"):format(tostring(err), text), 2)
  end
  return tostring(err)
end

return M
