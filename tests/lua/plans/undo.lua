-- Fails at step 4 when site.fail_at=4; site.barrier=yes makes step 2 irreversible,
-- site.last_irreversible=yes makes the failing step 4 itself irreversible.
-- Every run/undo prints a marker line the test checks the order of; steps a-c each leave a key
-- in the journal's state (key_a ...), which undoing the step must take away.
local function mark(what) return function() log.info("MARK %s", what) end end
local function mark_keep(what, key)
  return function() log.info("MARK %s", what); return { [key] = what } end
end
local barrier = os.getenv("FLASHRUN_TEST_BARRIER") == "yes"
local last_irreversible = os.getenv("FLASHRUN_TEST_LAST_IRREVERSIBLE") == "yes"
return {
  name = "undo-test",
  description = "undo order and the irreversible barrier",
  recovery = "RECOVERY: put things back by hand",
  steps = {
    { name = "a", run = mark_keep("run-a", "key_a"), undo = mark("undo-a") },
    { name = "b", run = mark_keep("run-b", "key_b"), undo = mark("undo-b"), irreversible = barrier },
    { name = "c", run = function()
        -- also overwrites key_a: undoing c must not take away a key that predates it
        log.info("MARK run-c"); return { key_c = "run-c", key_a = "overwritten-by-c" }
      end, undo = mark("undo-c") },
    { name = "d", run = function()
        if os.getenv("FLASHRUN_TEST_FAIL_AT") == "4" then error("step d broke on purpose") end
        log.info("MARK run-d")
      end, undo = mark("undo-d"), irreversible = last_irreversible },
  },
}
