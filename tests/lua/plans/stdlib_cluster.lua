-- stdlib/cluster.lua's on_each inside the real binary: results in item order; a failure names
-- every failed item (once) with its message and no traceback (that goes to -v); a refusal stays one.
local cluster = require "cluster"
local check = require "check"
local eq, raises = check.eq, check.raises

local items = { { id = "10.0.0.1:3306" }, { id = "10.0.0.2:3306" }, { id = "10.0.0.3:3306" } }

return {
  name = "stdlib-cluster",
  description = "tests of stdlib/cluster.lua",
  journal = false,
  steps = {
    { name = "on_each results", run = function()
        local r = cluster.on_each("probing", items, function(m) sleep(0.01); return m.id:sub(-6) end)
        eq(r[1], "1:3306", "first"); eq(r[3], "3:3306", "third")
      end },
    { name = "on_each failures", run = function()
        local msg = raises("restoring failed:\n", function()
          cluster.on_each("restoring", items, function(m)
            if m.id == "10.0.0.1:3306" then error(m.id .. " is running", 0) end
            if m.id == "10.0.0.3:3306" then error("not running", 0) end
            return true
          end)
        end)
        assert(msg:find("^restoring failed:\n"), "header: " .. msg)
        assert(msg:find("\n  10.0.0.1:3306 is running", 1, true), "first failure, named once: " .. msg)
        assert(msg:find("\n  10.0.0.3:3306: not running", 1, true), "third failure, named: " .. msg)
        assert(not msg:find("10.0.0.2", 1, true), "a good item named: " .. msg)
        assert(not msg:find("traceback", 1, true), "traceback shown to the operator: " .. msg)
      end },
    { name = "try_each: a branch that raised has an error and no result", run = function()
        local r, errs = cluster.try_each(items, function(m)
          if m.id == "10.0.0.2:3306" then error("ssh{}: 'user' is required") end
          return { ok = m.id }
        end)
        eq(r[1].ok, "10.0.0.1:3306", "first"); eq(r[3].ok, "10.0.0.3:3306", "third")
        eq(r[2], nil, "no result for the branch that raised")
        assert(errs and errs[2] and errs[2]:find("'user' is required", 1, true), "its error: " .. tostring(errs and errs[2]))
        assert(not errs[2]:find("traceback", 1, true), "traceback kept in the message: " .. errs[2])
        eq(errs[1], nil, "no error for a good branch")
        local r2, none = cluster.try_each(items, function(m) return m.id end)
        eq(none, nil, "no errors table when nothing raised"); eq(r2[2], "10.0.0.2:3306", "results")
      end },
    { name = "on_each refusal", run = function()
        local ok, e = pcall(cluster.on_each, "checking", items, function(m)
          if m.id == "10.0.0.3:3306" then refuse("not ready") end
          return true
        end)
        eq(ok, false, "raised"); eq(type(e), "table", "a refusal stays a refusal")
      end },
  },
}
