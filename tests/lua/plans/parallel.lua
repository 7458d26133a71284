-- The scheduler: sleeps overlap, every branch error is reported, nesting and foreign yields work.
local function check_overlap()
  local t0 = now()
  local results, errs = parallel({ 1, 2, 3, 4 }, function(x, i)
    sleep(1)
    return x * 10 + i
  end)
  local took = now() - t0
  assert(errs == nil, "unexpected branch errors")
  for i = 1, 4 do assert(results[i] == i * 11, "result " .. i .. " is " .. tostring(results[i])) end
  -- in turn they would take 4 s; the margin is for a loaded or sanitized build
  assert(took >= 0.95 and took < 2.5, string.format("4 x sleep(1) took %.2f s", took))
  log.info("overlap ok: %.2f s", took)
end

local function check_errors()
  local results, errs = parallel({ "a", "b", "c" }, function(x)
    sleep(0.05)
    if x ~= "b" then error("branch " .. x .. " broke") end
    return x
  end)
  assert(errs, "errors table missing")
  assert(errs[1]:find("branch a broke", 1, true), "error 1: " .. tostring(errs[1]))
  assert(errs[1]:find("stack traceback", 1, true), "no traceback in " .. errs[1])
  assert(errs[3]:find("branch c broke", 1, true), "error 3 missing")
  assert(errs[2] == nil and results[2] == "b", "branch b should have succeeded")
  log.info("errors ok")
end

local function check_nested_and_yield()
  local t0 = now()
  local results = parallel({ 1, 2 }, function(x)
    local inner = parallel({ 1, 2 }, function(y) sleep(1) return y end)
    coroutine.yield("something else") -- a yield that is not fr_await: resumed, not lost
    return x + inner[1] + inner[2]
  end)
  assert(results[1] == 4 and results[2] == 5, "nested results wrong")
  -- 1 s if everything overlaps, 2 s if the outer branches ran in turn
  assert(now() - t0 < 1.7, string.format("nested parallel took %.2f s: outer branches did not overlap", now() - t0))
  -- Outside parallel the main thread cannot yield: sleep runs inline.
  local t1 = now()
  sleep(0.1)
  assert(now() - t1 >= 0.09, "inline sleep did not sleep")
  local co = coroutine.wrap(function() sleep(0.01) return "inline in a foreign coroutine" end)
  assert(co() == "inline in a foreign coroutine")
  log.info("nested ok")
end

return {
  name = "parallel-test",
  description = "scheduler checks",
  journal = false,
  steps = {
    { name = "overlap", run = check_overlap },
    { name = "errors", run = check_errors },
    { name = "nested", run = check_nested_and_yield },
  },
}
