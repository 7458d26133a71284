-- server.lua — MySQL helpers that hide the 8.0 / 8.4+ vocabulary change behind one normalized
-- vocabulary. 8.0.x (GreatDB 8.0.26) speaks SHOW SLAVE STATUS / SHOW MASTER STATUS / STOP SLAVE /
-- CHANGE MASTER TO; 8.4 and later removed those for SHOW REPLICA STATUS / SHOW BINARY LOG STATUS /
-- STOP REPLICA / CHANGE REPLICATION SOURCE TO. The choice is made from the server's version.
local shell = require "shell"
local M = {}

-- SQL NULL arrives as cjson.null (a light userdata) from the sql driver; nil when a column is
-- absent. Both read as nil; any text, "NULL" included, is a value.
function M.value(v)
  if v == nil or type(v) == "userdata" or type(v) == "lightuserdata" then return nil end
  return v
end

local function q1(conn, stmt)
  local rows, err = conn:query(stmt)
  if not rows then error(("%s failed: %s"):format(stmt, tostring(err)), 0) end
  return rows[1], rows
end

-- Column value by any of the given names (first present wins).
local function col(row, ...)
  if not row then return nil end
  for i = 1, select("#", ...) do
    local v = M.value(row[select(i, ...)])
    if v ~= nil then return v end
  end
  return nil
end
M.col = col

-- The sql_mode of every session flashrun opens on a MySQL node (cluster.lua pins it at connect):
-- MySQL 8.0's default, which 8.4 and 9.x keep (MySQL manual, 7.1.11 "Server SQL Modes"), and
-- which GreatDB 6 (8.0.26) and the lab's 9.7 both accept. Some sites set the global sql_mode to
-- modes that change how a statement is read: NO_BACKSLASH_ESCAPES (a backslash is an ordinary
-- character: the escaped backslash of a password holding one reaches the server doubled, and a
-- CLONE's or CHANGE REPLICATION SOURCE's login fails with 1045), ANSI_QUOTES ("..." is an
-- identifier), PIPES_AS_CONCAT, IGNORE_SPACE, HIGH_NOT_PRECEDENCE, REAL_AS_FLOAT, ANSI. A fixed
-- mode rather than the server's minus those: every statement flashrun sends is then read, and
-- behaves, as it is written and tested, whatever else a site's mode holds (NO_UNSIGNED_SUBTRACTION
-- changes arithmetic, for one). It is a session's mode only: the site's global one is untouched,
-- and flashrun writes no stored program or view that would keep it. No literal can be read alike
-- under every mode when it holds a backslash: IDENTIFIED BY, SOURCE_PASSWORD and the like take a
-- plain string literal (no X'..', no expression), so pinning the mode is the only way.
M.SQL_MODE = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

local version_cache = setmetatable({}, { __mode = "k" })

-- Returns major, minor, patch (numbers) and the full version text.
function M.version(conn)
  local c = version_cache[conn]
  if not c then
    local row = q1(conn, "SELECT VERSION() AS v")
    local text = tostring(col(row, "v", "VERSION()") or "")
    local a, b, p = text:match("^(%d+)%.(%d+)%.(%d+)")
    if not a then error("cannot parse server version " .. text, 0) end
    c = { tonumber(a), tonumber(b), tonumber(p), text }
    version_cache[conn] = c
  end
  return c[1], c[2], c[3], c[4]
end

function M.version_numbers(text)
  local a, b, p = tostring(text or ""):match("^(%d+)%.(%d+)%.(%d+)")
  if not a then error("cannot parse server version " .. tostring(text), 0) end
  return tonumber(a), tonumber(b), tonumber(p)
end

-- The version a set of statements was chosen for can also be given directly: {8,0,26}.
local function ver_of(x)
  if type(x) == "table" and x[1] then return x[1], x[2], x[3] end
  return M.version(x)
end

local function at_least(x, a, b, p)
  local A, B, P = ver_of(x)
  if A ~= a then return A > a end
  if B ~= b then return B > b end
  return P >= p
end
M.at_least = at_least

-- true when the server only understands the REPLICA/SOURCE vocabulary (8.4+).
function M.new_vocabulary(x) return at_least(x, 8, 4, 0) end

function M.sql(x, what)
  local new = M.new_vocabulary(x)
  local t = {
    replica_status = new and "SHOW REPLICA STATUS" or "SHOW SLAVE STATUS",
    binlog_status = new and "SHOW BINARY LOG STATUS" or "SHOW MASTER STATUS",
    stop_replica = new and "STOP REPLICA" or "STOP SLAVE",
    start_replica = new and "START REPLICA" or "START SLAVE",
    reset_replica_all = new and "RESET REPLICA ALL" or "RESET SLAVE ALL",
    reset_replica = new and "RESET REPLICA" or "RESET SLAVE",
    skip_replica_start = at_least(x, 8, 0, 26) and "skip_replica_start" or "skip_slave_start",
  }
  return assert(t[what], "unknown statement " .. tostring(what))
end

-- What the statements above need on the standby nodes, as the [target] account (read by
-- privileges.lua; docs/operator.md lists them). `any`: one of them is enough (SUPER still
-- stands in for the dynamic privileges on 8.0 and 9.x).
M.PRIVILEGES = {
  { on = "standby nodes", any = { "REPLICATION CLIENT", "SUPER" }, plans = "verify start stop",
    stmt = "SHOW REPLICA STATUS (SHOW SLAVE STATUS)" },
  { on = "standby nodes", any = { "REPLICATION_SLAVE_ADMIN", "SUPER" }, plans = "start stop",
    stmt = "STOP REPLICA / START REPLICA (freezing the donor, restoring the nodes)" },
  { on = "standby nodes", any = { "RELOAD" }, plans = "stop",
    stmt = "RESET REPLICA (a restored node's relay log)" },
}

local function yes(v) return v == "Yes" or v == "ON" end

local function norm_gtid(s)
  if s == nil then return "" end
  return (tostring(s):gsub("%s+", ""))
end

-- Normalized replication status of the default channel, or nil when the server is no replica.
-- Fields: io_running, sql_running (booleans), io_state, retrieved_gtid_set, executed_gtid_set,
-- seconds_behind (number, nil when NULL), source_host, source_port, source_user, auto_position,
-- last_io_error, last_sql_error, channel, ssl_allowed ("Yes", "No" or "Ignored": whether the
-- channel's connection uses TLS; MySQL manual, SHOW REPLICA STATUS).
function M.replica_status(conn)
  local rows, err = conn:query(M.sql(conn, "replica_status"))
  if not rows then error("replica status failed: " .. tostring(err), 0) end
  local r
  for _, row in ipairs(rows) do
    local ch = col(row, "Channel_Name") or ""
    if ch == "" then r = row break end
  end
  r = r or rows[1]
  if not r then return nil end
  local sb = col(r, "Seconds_Behind_Source", "Seconds_Behind_Master")
  return {
    io_running = yes(col(r, "Replica_IO_Running", "Slave_IO_Running")),
    sql_running = yes(col(r, "Replica_SQL_Running", "Slave_SQL_Running")),
    io_state = col(r, "Replica_IO_State", "Slave_IO_State") or "",
    retrieved_gtid_set = norm_gtid(col(r, "Retrieved_Gtid_Set")),
    executed_gtid_set = norm_gtid(col(r, "Executed_Gtid_Set")),
    seconds_behind = sb and tonumber(sb) or nil,
    source_host = col(r, "Source_Host", "Master_Host"),
    source_port = tonumber(col(r, "Source_Port", "Master_Port")),
    source_user = col(r, "Source_User", "Master_User"),
    auto_position = tostring(col(r, "Auto_Position") or "") == "1",
    last_io_error = col(r, "Last_IO_Error") or "",
    last_sql_error = col(r, "Last_SQL_Error") or "",
    channel = col(r, "Channel_Name") or "",
    ssl_allowed = col(r, "Source_SSL_Allowed", "Master_SSL_Allowed"),
  }
end

-- {file, position, executed_gtid_set} from SHOW MASTER STATUS / SHOW BINARY LOG STATUS.
function M.binlog_status(conn)
  local r = q1(conn, M.sql(conn, "binlog_status"))
  if not r then return nil end
  return { file = col(r, "File"), position = tonumber(col(r, "Position")),
           executed_gtid_set = norm_gtid(col(r, "Executed_Gtid_Set")) }
end

function M.executed(conn)
  return norm_gtid(col(q1(conn, "SELECT @@GLOBAL.gtid_executed AS g"), "g"))
end

function M.purged(conn)
  return norm_gtid(col(q1(conn, "SELECT @@GLOBAL.gtid_purged AS g"), "g"))
end

-- Runs fn() with super_read_only lifted when it is on (a write no replication applier makes:
-- INSTALL PLUGIN into mysql.plugin, a client applying streamed binary logs), then puts it back,
-- whatever fn did, and reads it back: a node left writable could take writes meant for nowhere.
-- what names the node in errors. Returns fn's results; raises fn's error once it is put back.
function M.lifted(conn, what, fn)
  local sro = tostring(M.variable(conn, "super_read_only")) == "1"
  if sro then
    local n, err = conn:exec("SET GLOBAL super_read_only = 0")
    if n == nil then error(("%s: cannot lift super_read_only: %s"):format(what, tostring(err)), 0) end
  end
  local res = table.pack(pcall(fn))
  if sro then
    conn:exec("SET GLOBAL super_read_only = 1")
    if tostring(M.variable(conn, "super_read_only")) ~= "1" then
      error(("%s: super_read_only could not be set back to ON: set it by hand (SET GLOBAL super_read_only = ON), "
             .. "then re-run the plan"):format(what), 0)
    end
  end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

function M.variable(conn, name)
  assert(name:match("^[%w_]+$"), "bad variable name")
  return col(q1(conn, "SELECT @@GLOBAL." .. name .. " AS v"), "v")
end

-- Several global variables in one round trip: { name = value (nil when NULL) }.
function M.variables(conn, names)
  local cols = {}
  for i, name in ipairs(names) do
    assert(name:match("^[%w_]+$"), "bad variable name")
    cols[i] = "@@GLOBAL." .. name .. " AS " .. name
  end
  local row = q1(conn, "SELECT " .. table.concat(cols, ", "))
  local t = {}
  for _, name in ipairs(names) do t[name] = col(row, name) end
  return t
end

-- The replication channel's TLS settings, as CHANGE REPLICATION SOURCE sets them: the columns of
-- performance_schema.replication_connection_configuration (MySQL 8.0 manual, 27.12.11.4; all of
-- them there since 8.0.19) and the option each comes from. kind: "bool" (YES/IGNORED = 1, NO = 0),
-- "null" (NULL means "the server's default", '' something else: TLS_CIPHERSUITES).
M.CHANNEL_TLS = {
  { col = "SSL_ALLOWED", opt = "SSL", kind = "bool" },
  { col = "SSL_CA_FILE", opt = "SSL_CA" }, { col = "SSL_CA_PATH", opt = "SSL_CAPATH" },
  { col = "SSL_CERTIFICATE", opt = "SSL_CERT" }, { col = "SSL_KEY", opt = "SSL_KEY" },
  { col = "SSL_CIPHER", opt = "SSL_CIPHER" }, { col = "SSL_CRL_FILE", opt = "SSL_CRL" },
  { col = "SSL_CRL_PATH", opt = "SSL_CRLPATH" },
  { col = "SSL_VERIFY_SERVER_CERTIFICATE", opt = "SSL_VERIFY_SERVER_CERT", kind = "bool" },
  { col = "TLS_VERSION", opt = "TLS_VERSION" },
  { col = "TLS_CIPHERSUITES", opt = "TLS_CIPHERSUITES", kind = "null" },
}

-- channel_tls(conn) -> {COLUMN = text or false (NULL)} of the default channel, or nil when the
-- node has none. Recorded by start, put back by stop: a clone from the donor brings the donor's
-- replication metadata, and its paths (a CA file in the donor's own directory) are not the
-- recipient's.
function M.channel_tls(conn)
  local cols = {}
  for i, c in ipairs(M.CHANNEL_TLS) do cols[i] = c.col end
  local row = q1(conn, "SELECT " .. table.concat(cols, ", ") ..
    " FROM performance_schema.replication_connection_configuration WHERE CHANNEL_NAME = ''")
  if not row then return nil end
  local t = {}
  for _, c in ipairs(M.CHANNEL_TLS) do
    local v = col(row, c.col)
    t[c.col] = v == nil and false or tostring(v)
  end
  return t
end

-- channel_tls_sql(x, want, have) -> "CHANGE REPLICATION SOURCE TO SOURCE_SSL = 1, …" setting
-- every option whose value differs between the channel_tls tables want (recorded) and have (now),
-- or nil when none does. The receiver must be stopped while it runs.
function M.channel_tls_sql(x, want, have)
  local new = at_least(x, 8, 0, 23)
  local prefix = new and "SOURCE_" or "MASTER_"
  local parts = {}
  for _, c in ipairs(M.CHANNEL_TLS) do
    local w, h = want[c.col], have and have[c.col]
    if w ~= nil and w ~= h then
      local v
      if c.kind == "bool" then v = (w == "NO" or w == false) and "0" or "1"
      elseif w == false then v = "NULL"
      else v = shell.sql_string(w) end
      parts[#parts + 1] = prefix .. c.opt .. " = " .. v
    end
  end
  if #parts == 0 then return nil end
  return (new and "CHANGE REPLICATION SOURCE TO " or "CHANGE MASTER TO ") .. table.concat(parts, ", ")
end

return M
