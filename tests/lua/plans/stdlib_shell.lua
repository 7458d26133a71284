-- stdlib/shell.lua inside the real binary: quoting proven through a real /bin/sh, SQL literals,
-- the validators and the guard every destructive remote command goes through.
local shell = require "shell"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises


-- What /bin/sh makes of a command line (io.popen runs `sh -c CMD`).
local function sh(cmd)
  local f = assert(io.popen(cmd, "r"))
  local out = f:read("a")
  local ok, how, code = f:close()
  assert(ok, ("sh exited %s %s on %s"):format(tostring(how), tostring(code), show(cmd)))
  return out
end

local HOSTILE = {
  "plain", "", " ", "two words", "  lead and trail  ", "it's", "''", "'", "a'b'c", 'say "hi"',
  "$HOME", "${PATH}", "$(echo pwned)", "`echo pwned`", "back\\slash", "\\", "\\'", "trail\\",
  "line1\nline2", "\n", "ends with newline\n", "tab\there", "semi;colon && amp | pipe > out < in",
  "*", "?", "[a]", "~", "!bang", "#hash", "-n", "--help", "%s %d", "ünïcødé ✓", "p'q\"r#s$t;u=v w\\x",
}

-- Reads a single-quoted SQL literal back the way MySQL does (MySQL manual, 11.1.1 "String
-- Literals"): '' is a quote; a backslash escapes the next character (\0 is NUL, \% and \_ keep
-- theirs; sql_string writes neither), or with nbe (sql_mode NO_BACKSLASH_ESCAPES) is itself.
local function unsql(lit, nbe)
  local body = assert(lit:match("^'(.*)'$"), "not a literal")
  local out, i = {}, 1
  while i <= #body do
    local c = body:sub(i, i)
    if c == "\\" and not nbe then
      local n = body:sub(i + 1, i + 1)
      out[#out + 1] = (n == "0") and "\0" or n; i = i + 2
    elseif c == "'" then
      assert(body:sub(i + 1, i + 1) == "'", "lone quote inside " .. lit)
      out[#out + 1] = "'"; i = i + 2
    else out[#out + 1] = c; i = i + 1 end
  end
  return table.concat(out)
end

return {
  name = "stdlib-shell",
  description = "tests of stdlib/shell.lua",
  journal = false,
  steps = {
    { name = "quote round-trips through sh", run = function()
        for _, s in ipairs(HOSTILE) do
          eq(sh("printf %s " .. shell.quote(s)), s, "printf %s " .. shell.quote(s))
        end
      end },
    { name = "quote survives a nested sh -c", run = function()
        -- The remote form: a command line that itself holds a quoted argument, quoted again.
        for _, s in ipairs(HOSTILE) do
          local inner = "printf %s " .. shell.quote(s)
          eq(sh("sh -c " .. shell.quote(inner)), s, "sh -c " .. shell.quote(inner))
        end
        -- Several quoted words stay separate arguments.
        eq(sh("printf '[%s]' " .. shell.quote("a b") .. " " .. shell.quote("") .. " " .. shell.quote("c'd")),
           "[a b][][c'd]", "three arguments")
      end },
    { name = "quote forms and NUL", run = function()
        eq(shell.quote("it's"), [['it'\''s']], "quote(it's)")
        eq(shell.quote(""), "''", "quote of empty")
        eq(shell.quote(3306), "'3306'", "quote of a number")
        raises("NUL byte", shell.quote, "a\0b")
      end },
    { name = "sql_string escaping", run = function()
        eq(shell.sql_string("plain"), "'plain'", "plain")
        eq(shell.sql_string(""), "''", "empty")
        eq(shell.sql_string("it's"), "'it''s'", "quote doubled")
        eq(shell.sql_string("a\\b"), "'a\\\\b'", "backslash doubled")
        eq(shell.sql_string("\\'"), "'\\\\'''", "backslash then quote")
        eq(shell.sql_string("trail\\"), "'trail\\\\'", "trailing backslash cannot eat the closing quote")
        eq(shell.sql_string("a\0b"), "'a\\0b'", "NUL as \\0")
        eq(shell.sql_string('say "hi"'), [['say "hi"']], "double quotes untouched")
        eq(shell.sql_string("%1 %%"), "'%1 %%'", "percent signs untouched")
        eq(shell.sql_string(42), "'42'", "number")
        -- Reading the literal back the way MySQL does gives the original string.
        for _, x in ipairs(HOSTILE) do eq(unsql(shell.sql_string(x)), x, "sql round trip") end
      end },
    { name = "sql_string under each sql_mode (issue 25)", run = function()
        -- How a session reads the literal depends on its sql_mode (MySQL manual, 11.1.1 "String
        -- Literals"): with NO_BACKSLASH_ESCAPES a backslash is an ordinary character. A value
        -- without a backslash or NUL reads alike under both; any other needs the mode the node
        -- connections pin (server.SQL_MODE), which must leave every mode that changes lexing out.
        local server = require "server"
        for _, x in ipairs(HOSTILE) do
          local lit = shell.sql_string(x)
          eq(unsql(lit, false), x, "read without NO_BACKSLASH_ESCAPES")
          local plain = not x:find("[\\%z]")
          eq(unsql(lit, true) == x, plain, "read alike under NO_BACKSLASH_ESCAPES exactly when no backslash or NUL: " .. show(x))
          eq(lit:find("\\", 1, true) == nil, plain, "a literal holds a backslash only for one in the value: " .. show(x))
        end
        eq(unsql(shell.sql_string("p'q\\x"), true), "p'q\\\\x", "the backslash NO_BACKSLASH_ESCAPES keeps doubled (the 1045 of issue 25)")
        assert(server.SQL_MODE:match("^[A-Z_,]+$"), "SQL_MODE: mode names only (the driver's sql_mode=)")
        for m in ("NO_BACKSLASH_ESCAPES ANSI_QUOTES PIPES_AS_CONCAT IGNORE_SPACE HIGH_NOT_PRECEDENCE REAL_AS_FLOAT ANSI NO_UNSIGNED_SUBTRACTION"):gmatch("%S+") do
          assert(not ("," .. server.SQL_MODE .. ","):find("," .. m .. ",", 1, true), "SQL_MODE holds " .. m)
        end
      end },
    { name = "is_name", run = function()
        for _, s in ipairs { "normal_0", "slave_dbscale_server", "node-1.a", "A", ("n"):rep(128), "mysql_clone" } do
          eq(shell.is_name(s), true, "is_name " .. show(s))
        end
        for _, s in ipairs { "", ("n"):rep(129), "a b", "a;b", "a'b", 'a"b', "a`b", "a$b", "a/b", "a\nb",
                             "a\0b", "é", "x,y", "n=1" } do
          eq(shell.is_name(s), false, "is_name " .. show(s))
        end
        eq(shell.is_name(nil), false, "is_name nil")
        eq(shell.is_name(12), false, "is_name of a number")
      end },
    { name = "is_host", run = function()
        for _, s in ipairs { "127.0.0.1", "db-1.example.com", "localhost", "::1", "[fe80::1]", "fe80::1:2",
                             "H0ST", ("a"):rep(255) } do
          eq(shell.is_host(s), true, "is_host " .. show(s))
        end
        for _, s in ipairs { "", ("a"):rep(256), "-oProxyCommand=sh", "-h", "a b", "a;b", "a'b", "a$(x)",
                             "h/x", "h\n", "h,i", "h@i" } do
          eq(shell.is_host(s), false, "is_host " .. show(s))
        end
        eq(shell.is_host(nil), false, "is_host nil")
        eq(shell.is_host(127001), false, "is_host of a number")
      end },
    { name = "is_port", run = function()
        for _, p in ipairs { 1, 3306, 65535, "3306", 18000.0 } do eq(shell.is_port(p), true, "is_port " .. show(p)) end
        for _, p in ipairs { 0, -1, 65536, 70000, 3306.5, "33a6", "", "abc", "0x10", "1e3", " 80", math.huge, -math.huge, 0 / 0 } do
          eq(shell.is_port(p), false, "is_port " .. show(p))
        end
        eq(shell.is_port(nil), false, "is_port nil")
      end },
    { name = "normpath and friends", run = function()
        local cases = {
          { "/", "/" }, { "//", "/" }, { "/./", "/" }, { "/a//b/./c/", "/a/b/c" }, { "/data/mysqldata", "/data/mysqldata" },
          { "/data/mysqldata/", "/data/mysqldata" }, { "/a/..b/c..", "/a/..b/c.." }, { "/a/.../b", "/a/.../b" },
          { "/a-b/c_d/e.f+g@h:i=j,k", "/a-b/c_d/e.f+g@h:i=j,k" },
        }
        for _, c in ipairs(cases) do eq(shell.normpath(c[1]), c[2], "normpath " .. show(c[1])) end
        for _, p in ipairs { "", "relative/path", "./x", "../x", "/a/../b", "/a/..", "/..", "/a b", "/a;b", "/a'b",
                             "/a$b", "/a`b`", "/a\nb", "/a*", "/a~", "/a\\b", "~/x" } do
          eq(shell.normpath(p), nil, "normpath " .. show(p))
        end
        eq(shell.normpath(nil), nil, "normpath nil")
        eq(shell.normpath(42), nil, "normpath of a number")
        eq(shell.is_path("/x"), true, "is_path /x"); eq(shell.is_path("x"), false, "is_path x")
        eq(shell.dirname("/a/b/c/"), "/a/b", "dirname"); eq(shell.dirname("/a"), "/", "dirname /a")
        eq(shell.dirname("/"), "/", "dirname /")
        eq(shell.basename("/a/b/c/"), "c", "basename")
        raises("not an absolute path", shell.dirname, "a/b")
        raises("not an absolute path", shell.basename, "/a/../b")
      end },
    { name = "is_under", run = function()
        local yes = { { "/data/x", "/data" }, { "/data/x/y", "/data/" }, { "/data//x", "/data" }, { "/x", "/" } }
        local no = { { "/data", "/data" }, { "/data/", "/data" }, { "/database", "/data" }, { "/dat", "/data" },
                     { "/", "/" }, { "/data/../etc", "/data" }, { "/data/x", "relative" }, { "/data/x", nil },
                     { "/etc/passwd", "/data" }, { "/data/mysqldata2/x", "/data/mysqldata" } }
        for _, c in ipairs(yes) do eq(shell.is_under(c[1], c[2]), true, ("is_under(%s, %s)"):format(show(c[1]), show(c[2]))) end
        for _, c in ipairs(no) do eq(shell.is_under(c[1], c[2]), false, ("is_under(%s, %s)"):format(show(c[1]), show(c[2]))) end
      end },
    { name = "guard refuses", run = function()
        local root = "/data/mysqldata"
        raises("not a clean absolute path", shell.guard, "/", root)
        raises("not a clean absolute path", shell.guard, "", root)
        raises("not a clean absolute path", shell.guard, nil, root)
        raises("not a clean absolute path", shell.guard, "data/mysqldata/a/dbdata", root)
        raises("not a clean absolute path", shell.guard, "/data/mysqldata/a/../../../etc", root)
        raises("not a clean absolute path", shell.guard, "/data/mysqldata/a/..", root)
        raises("not a clean absolute path", shell.guard, "/data/mysqldata/a b", root)
        raises("not a clean absolute path", shell.guard, "/data/mysqldata/$(rm -rf /)", root)
        raises("too close to /", shell.guard, "/data", "/")
        raises("too close to /", shell.guard, "//data/", "/")
        raises("outside the data root", shell.guard, "/etc/mysql", root)
        raises("outside the data root", shell.guard, root, root)
        raises("outside the data root", shell.guard, root .. "/", root)
        raises("outside the data root", shell.guard, "/data/mysqldata2/a", root)
        raises("outside the data root", shell.guard, "/data/mysqldata/a", nil)
        raises("outside the data root", shell.guard, "/data/mysqldata/a", "relative")
        raises("the journal recorded", shell.guard, "/data/mysqldata/a/dbdata", root, "/data/mysqldata/b/dbdata")
        raises("the journal recorded", shell.guard, "/data/mysqldata/a/dbdata", root, "not/a/path")
      end },
    { name = "guard accepts", run = function()
        local root = "/data/mysqldata"
        eq(shell.guard("/data/mysqldata/a/dbdata", root), "/data/mysqldata/a/dbdata", "plain path")
        eq(shell.guard("/data/mysqldata//a/./dbdata/", root .. "/"), "/data/mysqldata/a/dbdata", "normalized")
        eq(shell.guard("/data/mysqldata/a", root), "/data/mysqldata/a", "one level below the root")
        eq(shell.guard("/data/mysqldata/a/dbdata", root, "/data/mysqldata/a//dbdata/"), "/data/mysqldata/a/dbdata",
           "recorded path, written differently")
        eq(shell.guard("/data/dbdata", "/data"), "/data/dbdata", "two levels deep")
      end },
  },
}
