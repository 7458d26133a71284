-- The stock plan the site tests extend (tests/lua/sites/*). Every run/undo prints a marker line.
-- site.barrier=ID makes that step irreversible; site.fail=ID makes that step fail;
-- site.truncate=yes makes step four empty the journal (as stop's last step does).
local function mark(what) log.info("MARK %s", what) end
local function step(id)
  local s = { id = id, name = "stock " .. id,
              run = function()
                if os.getenv("FLASHRUN_TEST_FAIL") == id then error("stock step " .. id .. " broke on purpose") end
                mark("run-" .. id)
                if id == "four" and os.getenv("FLASHRUN_TEST_TRUNCATE") == "yes" then redo.truncate() end
                return { ["key_" .. id] = true }
              end,
              undo = function() mark("undo-" .. id) end }
  s.irreversible = os.getenv("FLASHRUN_TEST_BARRIER") == id
  return s
end
return {
  name = "site-test",
  description = "a stock plan a site extends",
  recovery = "RECOVERY: re-run the plan",
  needs = { "target" },
  steps = { step("one"), step("two"), step("three"), step("four") },
}
