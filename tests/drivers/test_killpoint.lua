-- Kill points of the sql driver (builds with FLASHRUN_KILLPOINTS), against the throwaway mysqld:
-- run.sh runs phase "write" recording its points, killed at one of them, then phase "check".
--   write  three exec (the second repeats the first: a retry, same ordinal) and a query (a read:
--          no point)
--   check  the statement a run killed before reading its reply was executed all the same
--   held   (while a write run holds at the CREATE TABLE's pause point) the table is there and the
--          DROP after it has not been made
--   released  (once that run went on) the DROP was made
local t = require "support"
local check, env = t.check, t.env
local host, port = env"FR_MYSQL_HOST", math.tointeger(tonumber(env"FR_MYSQL_PORT"))
local function root() return assert(sql{ host = host, port = port, user = "root", password = "" }) end
local function tables(c)
  return c:query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'kp' AND TABLE_NAME = 't'")[1].n
end

return t.plan("drivers-killpoint", {
  write = { description = "sql writes passing kill points", steps = {
    { id = "w", name = "writes", run = function()
        local c <close> = root()
        assert(c:exec("CREATE DATABASE IF NOT EXISTS kp"))
        assert(c:exec("CREATE DATABASE IF NOT EXISTS kp"))
        assert(c:query("SELECT 1"))
        assert(c:exec("CREATE TABLE IF NOT EXISTS kp.t (id INT PRIMARY KEY)"))
        assert(c:exec("DROP DATABASE kp"))
      end },
  } },
  check = { description = "what a kill before the reply left", steps = {
    { id = "c", name = "the killed run's statement reached the server", run = function()
        local c <close> = root()
        local n
        for _ = 1, 50 do -- the server may still be executing it
          n = tables(c)
          if n == 1 then break end
          sleep(0.1)
        end
        check(n == 1, "kp.t does not exist: the statement sent before the kill was not executed")
        assert(c:exec("DROP DATABASE kp"))
        print("the statement killed before its reply was executed")
      end },
  } },
  held = { description = "a write run holding at its pause point", steps = {
    { id = "h", name = "the held run made its CREATE TABLE, not its DROP", run = function()
        local c <close> = root()
        check(tables(c) == 1, "kp.t does not exist: the run did not hold after its CREATE TABLE, or held before it")
        print("held after the CREATE TABLE")
      end },
  } },
  released = { description = "the released run went on", steps = {
    { id = "r", name = "the released run made its DROP", run = function()
        local c <close> = root()
        local n = c:query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'kp'")[1].n
        check(n == 0, "the database kp is still there: the run did not go on to its DROP")
        print("released: the DROP was made")
      end },
  } },
})
