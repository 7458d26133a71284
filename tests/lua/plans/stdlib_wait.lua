-- flashrun.wait inside the real binary (real now() and sleep(); by its stdlib name "wait", as site
-- plans require it): wait_until returns the check's value as soon as it is true, treats errors
-- as "not yet", and raises after the timeout naming what it waited for and the last reason.
-- Under --dry-run (the stdlib_wait_dryrun case) it evaluates the check once and goes on; so
-- does flashrun.rehearsal.check, which skips what a rehearsal cannot prove.
local wait = require "wait"
local rehearsal = require "flashrun.rehearsal"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises


-- A check that is true from its n-th call on, returning value; before, false + a reason.
local function after(n, value)
  local calls = 0
  return function()
    calls = calls + 1
    if calls >= n then return value end
    return false, "call " .. calls
  end, function() return calls end
end

return {
  name = "stdlib-wait",
  description = "tests of flashrun.wait and flashrun.rehearsal",
  journal = false,
  steps = {
    { name = "rehearsal.check", run = function()
        local called = 0
        local a, b = rehearsal.check("the post-condition holds", function() called = called + 1; return "real", 2 end, "stand-in")
        eq(rehearsal.active(), dry_run, "active() is --dry-run")
        if dry_run then
          eq(a, "stand-in", "a rehearsal returns the stand-in"); eq(b, nil, "and only it"); eq(called, 0, "without calling fn")
          eq(rehearsal.check("nothing stands in", function() return 1 end), nil, "no stand-in: nil")
        else
          eq(a, "real", "a real run returns fn's results"); eq(b, 2, "all of them"); eq(called, 1, "fn called once")
        end
        raises("what must be a string", rehearsal.check, nil, function() end)
        raises("fn must be a function", rehearsal.check, "x", "not a function")
      end },
    { name = "returns the value once true", run = function()
        local check, calls = after(3, { gtid = "u:1-5" })
        local t0 = now()
        local v = wait.wait_until("the standby applied everything", check, 5, 0.01)
        if dry_run then
          eq(v, true, "dry-run goes on without waiting"); eq(calls(), 1, "checks in dry-run")
        else
          eq(type(v), "table", "value returned"); eq(v.gtid, "u:1-5", "the check's own value")
          eq(calls(), 3, "checks")
        end
        assert(now() - t0 < 1, "took " .. (now() - t0) .. " s")
        local c2 = after(1, "at once")
        eq(wait.wait_until("already true", c2, 5), "at once", "true on the first call")
      end },
    { name = "errors in the check mean not yet", run = function()
        local calls = 0
        local v = wait.wait_until("the server answers", function()
          calls = calls + 1
          if calls < 3 then error("Can't connect to 127.0.0.1:18000", 0) end
          return calls
        end, 5, 0.01)
        if dry_run then eq(v, true, "dry-run goes on") else eq(v, 3, "value after two errors") end
      end },
    { name = "dry-run evaluates once", run = function()
        if not dry_run then return end
        local check, calls = after(math.huge)
        local t0 = now()
        eq(wait.wait_until("the side instance starts", check, 5, 0.05), true, "dry-run goes on")
        eq(calls(), 1, "checks in dry-run")
        assert(now() - t0 < 0.5, "dry-run waited")
        eq(wait.wait_until("a fractional timeout", function() return false end, 1.5), true, "1.5 s in dry-run")
      end },
    { name = "raises after the timeout", run = function()
        if dry_run then return end
        local check, calls = after(math.huge)
        local t0 = now()
        local err = raises("timed out after 1 s waiting until the side instance starts (last: call ",
                           wait.wait_until, "the side instance starts", check, 1, 0.05)
        local took = now() - t0
        assert(took >= 1 and took < 1.8, ("gave up after %.2f s, not 1 s"):format(took))
        assert(calls() >= 5, "polled only " .. calls() .. " times in 1 s at a 0.05 s interval")
        assert(err:find("(last: call " .. calls() .. ")", 1, true), "last reason is not the last call's: " .. err)
      end },
    { name = "timeout names the last error and a missing reason", run = function()
        if dry_run then return end
        local n = 0
        raises("waiting until port 18000 answers (last: refused 3)", wait.wait_until, "port 18000 answers",
               function() n = n + 1; if n < 3 then return false, "no" end; error("refused " .. n, 0) end, 0.4, 0.3)
        raises("(last: not yet)", wait.wait_until, "nothing", function() return nil end, 0.1, 0.05)
        raises("(last: not yet)", wait.wait_until, "false", function() return false end, 0.1, 0.05)
      end },
  },
}
