-- sql driver against the throwaway mysqld from with-servers.sh (root without password)
local host, port = os.getenv"FR_MYSQL_HOST", tonumber(os.getenv"FR_MYSQL_PORT")
if not host then skip("FR_MYSQL_HOST not set: run through with-servers.sh") end
local function check(cond, ...) if not cond then error(string.format(...), 2) end end
local null = sqlmod.null

local root = assert(sql{host=host, port=port, user="root", password=""})
print("server " .. root:server_version())
assert(root:ping())
local pw = "Pw-" .. tostring(os.time()) .. "-#$x"
secret(pw)
-- CREATE USER with a password: the statement must not leak through errors either
assert(root:exec("CREATE USER 'fr'@'%' IDENTIFIED WITH caching_sha2_password BY '" .. pw .. "'"))
assert(root:exec("GRANT ALL ON *.* TO 'fr'@'%'"))

-- caching_sha2_password full authentication without TLS (nothing cached yet), then the fast path
for _ = 1, 2 do
  local c, err = sql{host=host, port=port, user="fr", password=pw}
  check(c, "fr login: %s", tostring(err)); c:close(); c:close()
end
-- wrong password: 1045, and the message shows neither password
local c, err, errno, state = sql{host=host, port=port, user="fr", password="bad-" .. pw}
check(c == nil and errno == 1045 and state == "28000", "wrong pw: %s %s", tostring(err), tostring(errno))
check(not err:find(pw, 1, true) and not err:find("bad-", 1, true), "password in: %s", err)
check(err:find(host .. ":" .. port, 1, true), "no target in: %s", err)

local conn <close> = assert(sql{host=host, port=port, user="fr", password=pw, database="mysql"})
-- rows, column order, NULLs, odd column names like the router's
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
-- multiple result sets: the first is returned, the rest drained, the connection still usable
assert(conn:exec("CREATE PROCEDURE t.p() BEGIN SELECT 1 AS a; SELECT 2 AS b; END"))
rows = assert(conn:query("CALL t.p()"))
check(rows[1].a == 1 and rows.columns[1] == "a", "first result set")
check(conn:query("SELECT 3 AS c")[1].c == 3, "usable after CALL")
-- update affected rows
check(conn:exec("UPDATE t.a SET f = 2 WHERE id >= 1") == 2, "update count")

-- SQL error: nil, message with errno and SQLSTATE, errno, sqlstate; masks secrets echoed back
local r, e, en, st = conn:query("SELECT * FROM t.nope")
check(r == nil and en == 1146 and st == "42S02" and e:find("[1146] (42S02)", 1, true), "error: %s", tostring(e))
r, e = conn:exec("SELEC '" .. pw .. "'")
check(r == nil and not e:find(pw, 1, true) and e:find("******", 1, true), "echoed secret: %s", tostring(e))

-- dry-run: exec recorded (masked), not sent; query live
set_dry_run(true)
check(conn:exec("INSERT INTO t.a VALUES (3, 'dry', 'x', 1, 1)") == 0, "dry exec")
conn:exec("ALTER USER 'fr'@'%' IDENTIFIED BY '" .. pw .. "'")
rows = assert(conn:query("SELECT COUNT(*) AS n FROM t.a"))
set_dry_run(false)
check(rows[1].n == 2, "dry-run exec reached the server: %s rows", tostring(rows[1].n))
local recs = table.concat(records(), "\n")
check(recs:find("sql " .. host .. ":" .. port .. ": INSERT INTO t.a VALUES (3,", 1, true), "records: %s", recs)
check(not recs:find(pw, 1, true) and recs:find("IDENTIFIED BY '******'", 1, true), "secret in records: %s", recs)
check(not recs:find("COUNT", 1, true), "query recorded")

-- closed handle and busy handle are programmer errors
local c2 = assert(sql{host=host, port=port, user="fr", password=pw})
c2:close()
check(not pcall(c2.query, c2, "SELECT 1"), "closed handle usable")
local res, errs = parallel({1, 2}, function() return conn:query("SELECT SLEEP(0.3) AS s") end)
check(errs and tostring(errs[1] or errs[2]):find("in use"), "busy not refused")

-- overlap: four connections each running SELECT SLEEP(1)
local t0 = now()
res, errs = parallel({1, 2, 3, 4}, function(i)
  local c <close> = assert(sql{host=host, port=port, user="fr", password=pw})
  return assert(c:query("SELECT SLEEP(1) AS s, " .. i .. " AS i"))[1].i
end)
check(errs == nil, "parallel: %s", errs and tostring(errs[1] or errs[2] or errs[3] or errs[4]))
for i = 1, 4 do check(res[i] == i, "branch %d", i) end
local el = now() - t0
print(string.format("4 x SELECT SLEEP(1): %.2f s", el))
check(el < 1.8, "no overlap: %.2f s", el)

-- read timeout
local ct = assert(sql{host=host, port=port, user="fr", password=pw, read_timeout=1})
r, e, en = ct:query("SELECT SLEEP(5)")
check(r == nil and (en == 2013 or en == 2006), "read timeout: %s %s", tostring(e), tostring(en))
ct:close()
root:close()
