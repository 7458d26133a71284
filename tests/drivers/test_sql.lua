-- sql driver against the throwaway mysqld from with-servers.sh (root without password), in the
-- real flashrun binary: run.sh runs this plan three times (see support.plan):
--   live   logins, rows/NULLs/odd columns, errors and masking, busy handles, overlap, timeouts
--   dry    (--dry-run) exec is recorded, not sent; query stays live
--   after  the dry run's writes did not reach the server
local t = require "support"
local check, env = t.check, t.env
local null = sql.null

local host, port = env"FR_MYSQL_HOST", math.tointeger(tonumber(env"FR_MYSQL_PORT"))
-- made by run.sh, shared by the three runs; they contain quote-free specials on purpose
local pw = secret(env"FR_MYSQL_FR_PW")  -- the test user's password
local pw2 = secret(env"FR_MYSQL_FR_PW2") -- what the dry run tries to change it to
local function login(user, password, extra)
  local o = { host = host, port = port, user = user, password = password }
  for k, v in pairs(extra or {}) do o[k] = v end
  return sql(o)
end

local root, conn -- across the live steps

local live = {
  { name = "root login, test user", run = function()
      root = assert(login("root", ""))
      print("server " .. root:server_version())
      assert(root:ping())
      -- CREATE USER with a password: the statement must not leak through errors either
      assert(root:exec("CREATE USER 'fr'@'%' IDENTIFIED WITH caching_sha2_password BY '" .. pw .. "'"))
      assert(root:exec("GRANT ALL ON *.* TO 'fr'@'%'"))
    end },
  { name = "caching_sha2 without TLS, wrong password", run = function()
      -- full authentication (nothing cached yet), then the fast path
      for _ = 1, 2 do
        local c, err = login("fr", pw, { ssl_mode = "disabled" })
        check(c, "fr login: %s", tostring(err)); c:close(); c:close()
      end
      -- wrong password: 1045, and the message shows neither password
      local c, err, errno, state = login("fr", "bad-" .. pw)
      check(c == nil and errno == 1045 and state == "28000", "wrong pw: %s %s", tostring(err), tostring(errno))
      check(not err:find(pw, 1, true) and not err:find("bad-", 1, true), "password in: %s", err)
      check(err:find(host .. ":" .. port, 1, true), "no target in: %s", err)
    end },
  { name = "rows, column order, NULLs, odd column names", run = function()
      conn = assert(login("fr", pw, { database = "mysql" }))
      -- odd column names like the router's
      assert(conn:exec("CREATE DATABASE t"))
      assert(conn:exec("CREATE TABLE t.a (id INT PRIMARY KEY, `join time` VARCHAR(20), `max_needed_conn/max_mysql_conn` VARCHAR(10), n BIGINT UNSIGNED, f DOUBLE)"))
      local n = conn:exec("INSERT INTO t.a VALUES (1, '2024-01-01', '3/100', 18446744073709551615, 1.5), (2, NULL, '0/0', 7, NULL)")
      check(n == 2, "affected %s", tostring(n))
      local rows = assert(conn:query("SELECT id, `join time`, `max_needed_conn/max_mysql_conn`, n, f FROM t.a ORDER BY id"))
      check(#rows == 2, "rows %d", #rows)
      check(table.concat(rows.columns, "|") == "id|join time|max_needed_conn/max_mysql_conn|n|f", "columns %s", table.concat(rows.columns, "|"))
      check(rows[1].id == 1 and math.type(rows[1].id) == "integer", "int")
      check(rows[1]["join time"] == "2024-01-01", "join time")
      check(rows[1]["max_needed_conn/max_mysql_conn"] == "3/100", "slash column")
      check(rows[1].n == "18446744073709551615", "big unsigned kept as text: %s", tostring(rows[1].n))
      check(rows[2].n == 7 and rows[1].f == 1.5, "numbers")
      check(rows[2]["join time"] == null and rows[2].f == null, "NULL is sql.null")
      -- an empty result keeps its columns; a statement without a result set gives no columns
      rows = assert(conn:query("SELECT id FROM t.a WHERE id > 99"))
      check(#rows == 0 and rows.columns[1] == "id", "empty result")
      rows = assert(conn:query("SET @x = 1"))
      check(#rows == 0 and #rows.columns == 0, "no result set")
    end },
  { name = "multiple result sets, affected rows", run = function()
      -- the first result set is returned, the rest drained, the connection still usable
      assert(conn:exec("CREATE PROCEDURE t.p() BEGIN SELECT 1 AS a; SELECT 2 AS b; END"))
      local rows = assert(conn:query("CALL t.p()"))
      check(rows[1].a == 1 and rows.columns[1] == "a", "first result set")
      check(conn:query("SELECT 3 AS c")[1].c == 3, "usable after CALL")
      check(conn:exec("UPDATE t.a SET f = 2 WHERE id >= 1") == 2, "update count")
    end },
  { name = "SQL errors, secrets echoed back", run = function()
      -- nil, message with errno and SQLSTATE, errno, sqlstate
      local r, e, en, st = conn:query("SELECT * FROM t.nope")
      check(r == nil and en == 1146 and st == "42S02" and e:find("[1146] (42S02)", 1, true), "error: %s", tostring(e))
      r, e = conn:exec("SELEC '" .. pw .. "'")
      check(r == nil and not e:find(pw, 1, true) and e:find("******", 1, true), "echoed secret: %s", tostring(e))
    end },
  { name = "closed and busy handles are programmer errors", run = function()
      local c2 = assert(login("fr", pw))
      c2:close()
      check(not pcall(c2.query, c2, "SELECT 1"), "closed handle usable")
      local _, errs = parallel({ 1, 2 }, function() return conn:query("SELECT SLEEP(0.3) AS s") end)
      check(errs and tostring(errs[1] or errs[2]):find("in use"), "busy not refused")
    end },
  { name = "four connections overlap", run = function()
      local t0 = now()
      local res, errs = parallel({ 1, 2, 3, 4 }, function(i)
        local c <close> = assert(login("fr", pw))
        return assert(c:query("SELECT SLEEP(1) AS s, " .. i .. " AS i"))[1].i
      end)
      check(errs == nil, "parallel: %s", errs and tostring(errs[1] or errs[2] or errs[3] or errs[4]))
      for i = 1, 4 do check(res[i] == i, "branch %d", i) end
      local el = now() - t0
      print(string.format("4 x SELECT SLEEP(1): %.2f s", el))
      -- one after another they take over 4 s; the margin is for a loaded or sanitized build
      check(el < 3, "no overlap: %.2f s", el)
    end },
  { name = "sql_mode pinned at connect: literals read as built under any global sql_mode", run = function()
      -- A site may run its nodes with a global sql_mode that changes how statements are read
      -- (issue 25): flashrun's node connections pin server.SQL_MODE (the driver's sql_mode=, set
      -- by cluster.lua), its routers' are left alone. Every literal shell.sql_string builds must
      -- read back as the value, and a password literal must give the account that password.
      local server, shell, cluster = require "server", require "shell", require "cluster"
      local values = { "plain", "it's", [[back\slash]], [[trail\]], [[\']], [['\]], [[\\]], [[\0 \n \% \_ \Z]],
                       'dq"x"', "a\nb", "nul\0byte", "p'q\"r#s$t;u=v w\\x", "||", "é ü" }
      local mpw = secret("Mode'pw\"\\x\\'y\\")
      local b = assert(root:query("SELECT @@GLOBAL.sql_mode AS m"))[1].m
      check(not pcall(sql, { host = host, port = port, user = "root", sql_mode = "ANSI'; DROP" }),
            "a sql_mode that is not mode names was accepted")
      for _, mode in ipairs({ "", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES", "PIPES_AS_CONCAT,IGNORE_SPACE", "ANSI",
                              "NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PIPES_AS_CONCAT,HIGH_NOT_PRECEDENCE,REAL_AS_FLOAT",
                              "TRADITIONAL,NO_BACKSLASH_ESCAPES,NO_UNSIGNED_SUBTRACTION" }) do
        assert(root:exec("SET GLOBAL sql_mode = '" .. mode .. "'"))
        local global = assert(root:query("SELECT @@GLOBAL.sql_mode AS m"))[1].m
        -- the control: a session that does not pin its mode reads a backslash as the mode says
        local raw <close> = assert(login("root", ""))
        local got = assert(raw:query("SELECT " .. shell.sql_string([[back\slash]]) .. " AS v"))[1].v
        local want = mode:find("NO_BACKSLASH_ESCAPES", 1, true) and [[back\\slash]] or [[back\slash]]
        check(got == want, "[%s] unpinned session read %q, expected %q", mode, got, want)
        local c <close> = assert(login("root", "", { sql_mode = server.SQL_MODE }))
        local m = assert(c:query("SELECT @@SESSION.sql_mode AS m"))[1].m
        check(m == server.SQL_MODE, "[%s] the session's sql_mode is %s", mode, m)
        for _, v in ipairs(values) do
          local r = assert(c:query("SELECT " .. shell.sql_string(v) .. " AS v"))[1].v
          check(r == v, "[%s] %s read back as %q", mode, shell.sql_string(v), r)
        end
        -- a password literal (as in CLONE ... IDENTIFIED BY, SOURCE_PASSWORD = ...)
        assert(c:exec("CREATE USER 'frmode'@'%' IDENTIFIED BY " .. shell.sql_string(mpw)))
        local u, err = login("frmode", mpw)
        check(u, "[%s] the password given in IDENTIFIED BY does not log in: %s", mode, tostring(err))
        u:close()
        -- what the server shows is quoted as privileges.lua reads it: backquotes (ANSI_QUOTES would
        -- make them double quotes in SHOW GRANTS)
        local grants = assert(c:query("SHOW GRANTS FOR 'frmode'@'%'"))
        local g = grants[1] and grants[1][grants.columns[1]]
        check(type(g) == "string" and g:find("TO `frmode`@`%`", 1, true), "[%s] SHOW GRANTS reads %s", mode, tostring(g))
        assert(c:exec("DROP USER 'frmode'@'%'"))
        -- cluster.lua: a node's session pinned, a router's as the server (router) gives it
        local n <close> = assert(cluster.try_connect("target", host, port))
        m = assert(n:query("SELECT @@SESSION.sql_mode AS m"))[1].m
        check(m == server.SQL_MODE, "[%s] cluster.try_connect's session sql_mode is %s", mode, m)
        local r <close> = assert(cluster.try_router("target", host, port))
        m = assert(r:query("SELECT @@SESSION.sql_mode AS m"))[1].m
        check(m == global, "[%s] cluster.try_router's session sql_mode is %s, not the server's %s", mode, m, global)
      end
      assert(root:exec("SET GLOBAL sql_mode = " .. shell.sql_string(b)))
      print("sql_mode: 7 global modes, literals and a password read as built")
    end },
  { name = "read timeout", run = function()
      local ct = assert(login("fr", pw, { read_timeout = 1 }))
      local r, e, en = ct:query("SELECT SLEEP(5)")
      -- over TLS (ssl_mode preferred, the default) libmariadb says 2026 "TLS/SSL error:
      -- Connection timed out (110)"
      check(r == nil and (en == 2013 or en == 2006 or (en == 2026 and tostring(e):find("timed out", 1, true))),
            "read timeout: %s %s", tostring(e), tostring(en))
      ct:close()
      conn:close()
      root:close()
    end },
}

local dry = {
  { name = "exec is recorded, query is live", run = function()
      local c <close> = assert(login("fr", pw, { database = "mysql" }))
      check(c:exec("INSERT INTO t.a VALUES (3, 'dry', 'x', 1, 1)") == 0, "dry exec")
      check(c:exec("ALTER USER 'fr'@'%' IDENTIFIED BY '" .. pw2 .. "'") == 0, "dry exec")
      local rows = assert(c:query("SELECT COUNT(*) AS n FROM t.a"))
      check(rows[1].n == 2, "dry-run exec reached the server: %s rows", tostring(rows[1].n))
    end },
}

local after = {
  { name = "the dry run changed nothing", run = function()
      local c <close> = assert(login("fr", pw)) -- the ALTER USER was not sent
      local rows = assert(c:query("SELECT COUNT(*) AS n, COUNT(NULLIF(id, 3)) AS not3 FROM t.a"))
      check(rows[1].n == 2 and rows[1].not3 == 2, "dry-run INSERT reached the server: %s rows, %s not id 3",
            tostring(rows[1].n), tostring(rows[1].not3))
      local c2, err, errno = login("fr", pw2)
      check(c2 == nil and errno == 1045, "the dry-run password works: %s", tostring(err))
    end },
}

return t.plan("drivers-sql", {
  live = { description = "the sql driver against a throwaway mysqld", steps = live },
  dry = { description = "the sql driver under --dry-run", steps = dry },
  after = { description = "what the dry run left on the server", steps = after },
})
