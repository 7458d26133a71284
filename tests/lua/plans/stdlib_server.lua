-- stdlib/server.lua inside the real binary: version parsing, the 8.0 / 8.4+ statement choice and
-- the normalized replication status, against fake connections that answer like the sql driver
-- (rows keyed by column name, rows.columns, SQL NULL as cjson.null).
local server = require "server"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises
local NULL = cjson.null


local function rows_of(columns, list)
  list.columns = columns
  return list
end

-- A connection reporting `version` and answering only the statements in `answers`; any other
-- statement fails like a server rejecting unknown syntax. conn.sent lists what was queried.
local function fake(version, answers)
  local c = { sent = {} }
  function c:query(stmt)
    self.sent[#self.sent + 1] = stmt
    if stmt == "SELECT VERSION() AS v" then return rows_of({ "v" }, { { v = version } }) end
    local a = answers and answers[stmt]
    if a == nil then return nil, "[1064] (42000) You have an error in your SQL syntax near '" .. stmt .. "'", 1064 end
    return a
  end
  return c
end

local UUID1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
local UUID2 = "4f22ab58-82db-22f2-af44-d91bba53a673"

local OLD_COLS = { "Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Slave_IO_Running",
                   "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error", "Seconds_Behind_Master",
                   "Retrieved_Gtid_Set", "Executed_Gtid_Set", "Auto_Position", "Channel_Name" }
local NEW_COLS = { "Replica_IO_State", "Source_Host", "Source_User", "Source_Port", "Replica_IO_Running",
                   "Replica_SQL_Running", "Last_IO_Error", "Last_SQL_Error", "Seconds_Behind_Source",
                   "Retrieved_Gtid_Set", "Executed_Gtid_Set", "Auto_Position", "Channel_Name",
                   "Source_SSL_Allowed" }

-- The seeds' MySQL 8.0.26 samples, verbatim (doc 000: the standby master's SHOW SLAVE STATUS and
-- production's SHOW MASTER STATUS), every column as the text the server sent.
local SEED_SLAVE_COLS = { "Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Connect_Retry", "Master_Log_File", "Read_Master_Log_Pos", "Relay_Log_File", "Relay_Log_Pos", "Relay_Master_Log_File", "Slave_IO_Running", "Slave_SQL_Running", "Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table", "Replicate_Ignore_Table", "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table", "Last_Errno", "Last_Error", "Skip_Counter", "Exec_Master_Log_Pos", "Relay_Log_Space", "Until_Condition", "Until_Log_File", "Until_Log_Pos", "Master_SSL_Allowed", "Master_SSL_CA_File", "Master_SSL_CA_Path", "Master_SSL_Cert", "Master_SSL_Cipher", "Master_SSL_Key", "Seconds_Behind_Master", "Master_SSL_Verify_Server_Cert", "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error", "Replicate_Ignore_Server_Ids", "Master_Server_Id", "Master_UUID", "Master_Info_File", "SQL_Delay", "SQL_Remaining_Delay", "Slave_SQL_Running_State", "Master_Retry_Count", "Master_Bind", "Last_IO_Error_Timestamp", "Last_SQL_Error_Timestamp", "Master_SSL_Crl", "Master_SSL_Crlpath", "Retrieved_Gtid_Set", "Executed_Gtid_Set", "Auto_Position", "Replicate_Rewrite_DB", "Channel_Name", "Master_TLS_Version", "Master_public_key_path", "Get_master_public_key", "Network_Namespace" }
local SEED_SLAVE = {
  Slave_IO_State = "Waiting for source to send event",
  Master_Host = "172.17.138.2",
  Master_User = "dbscale_internal",
  Master_Port = "3308",
  Connect_Retry = "60",
  Master_Log_File = "binlog.000012",
  Read_Master_Log_Pos = "7640",
  Relay_Log_File = "relaylog.000004",
  Relay_Log_Pos = "489",
  Relay_Master_Log_File = "binlog.000012",
  Slave_IO_Running = "Yes",
  Slave_SQL_Running = "Yes",
  Replicate_Do_DB = "",
  Replicate_Ignore_DB = "",
  Replicate_Do_Table = "",
  Replicate_Ignore_Table = "",
  Replicate_Wild_Do_Table = "",
  Replicate_Wild_Ignore_Table = "",
  Last_Errno = "0",
  Last_Error = "",
  Skip_Counter = "0",
  Exec_Master_Log_Pos = "7640",
  Relay_Log_Space = "1941",
  Until_Condition = "None",
  Until_Log_File = "",
  Until_Log_Pos = "0",
  Master_SSL_Allowed = "No",
  Master_SSL_CA_File = "",
  Master_SSL_CA_Path = "",
  Master_SSL_Cert = "",
  Master_SSL_Cipher = "",
  Master_SSL_Key = "",
  Seconds_Behind_Master = "0",
  Master_SSL_Verify_Server_Cert = "No",
  Last_IO_Errno = "0",
  Last_IO_Error = "",
  Last_SQL_Errno = "0",
  Last_SQL_Error = "",
  Replicate_Ignore_Server_Ids = "",
  Master_Server_Id = "1001503308",
  Master_UUID = "ba09b02c-5208-11ee-b5af-00163ed307b5",
  Master_Info_File = "mysql.slave_master_info",
  SQL_Delay = "0",
  SQL_Remaining_Delay = NULL,
  Slave_SQL_Running_State = "Replica has read all relay log; waiting for more updates",
  Master_Retry_Count = "86400",
  Master_Bind = "",
  Last_IO_Error_Timestamp = "",
  Last_SQL_Error_Timestamp = "",
  Master_SSL_Crl = "",
  Master_SSL_Crlpath = "",
  Retrieved_Gtid_Set = "ba09b02c-5208-11ee-b5af-00163ed307b5:114497-114499,\nf9f2f2be-5604-11ee-b389-00163e3cdeea:19-20",
  Executed_Gtid_Set = "b9da174e-5208-11ee-8c26-00163e2d01d5:1-49,\nba09b02c-5208-11ee-b5af-00163ed307b5:1-114499,\nba245d88-5208-11ee-aae7-00163ee05610:1-4,\nf9958bc0-5604-11ee-a5a1-00163ea7a91c:1-4,\nf9f2f2be-5604-11ee-b389-00163e3cdeea:1-20",
  Auto_Position = "1",
  Replicate_Rewrite_DB = "",
  Channel_Name = "",
  Master_TLS_Version = "",
  Master_public_key_path = "",
  Get_master_public_key = "0",
  Network_Namespace = "",
}
local SEED_MASTER_COLS = { "File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set" }
local SEED_MASTER = {
  File = "binlog.000012",
  Position = "7640",
  Binlog_Do_DB = "",
  Binlog_Ignore_DB = "dbscale_tmp",
  Executed_Gtid_Set = "b9da174e-5208-11ee-8c26-00163e2d01d5:1-49,\nba09b02c-5208-11ee-b5af-00163ed307b5:1-114499,\nba245d88-5208-11ee-aae7-00163ee05610:1-4,\nf9958bc0-5604-11ee-a5a1-00163ea7a91c:1-4,\nf9f2f2be-5604-11ee-b389-00163e3cdeea:1-20",
}

return {
  name = "stdlib-server",
  description = "tests of stdlib/server.lua",
  journal = false,
  steps = {
    { name = "value and col", run = function()
        eq(server.value(NULL), nil, "cjson.null is nil"); eq(server.value(nil), nil, "nil")
        eq(server.value(require("flashrun.sql").null), nil, "sql.null is nil")
        eq(server.value("x"), "x", "text"); eq(server.value(0), 0, "zero"); eq(server.value(""), "", "empty text")
        local row = { a = NULL, b = "B", c = "C" }
        eq(server.col(row, "a", "b", "c"), "B", "first non-NULL column wins")
        eq(server.col(row, "z", "c"), "C", "missing column skipped")
        eq(server.col(row, "a"), nil, "NULL only"); eq(server.col(nil, "a"), nil, "no row")
      end },
    { name = "version parsing", run = function()
        local function v3(text) return table.concat({ server.version_numbers(text) }, ".") end
        eq(v3("8.0.26-greatdb"), "8.0.26", "GreatDB 8.0.26"); eq(v3("9.7.4-2"), "9.7.4", "9.7.4-2")
        eq(v3("8.4.0"), "8.4.0", "8.4.0"); eq(v3("10.11.12-log"), "10.11.12", "two-digit parts")
        raises("cannot parse server version", server.version_numbers, "8.0")
        raises("cannot parse server version", server.version_numbers, "greatdb-8.0.26")
        raises("cannot parse server version", server.version_numbers, nil)
        local c = fake("9.7.4-2")
        local a, b, p, text = server.version(c)
        eq(a, 9, "major"); eq(b, 7, "minor"); eq(p, 4, "patch"); eq(text, "9.7.4-2", "text")
        server.version(c); server.sql(c, "stop_replica")
        eq(#c.sent, 1, "the version is asked once per connection")
        raises("cannot parse server version", server.version, fake("unknown"))
        local broken = { query = function() return nil, "lost connection" end }
        raises("lost connection", server.version, broken)
      end },
    { name = "at_least and new_vocabulary", run = function()
        eq(server.at_least({ 8, 0, 26 }, 8, 0, 26), true, "8.0.26 >= 8.0.26")
        eq(server.at_least({ 8, 0, 25 }, 8, 0, 26), false, "8.0.25 >= 8.0.26")
        eq(server.at_least({ 8, 1, 0 }, 8, 0, 26), true, "8.1.0 >= 8.0.26")
        eq(server.at_least({ 7, 9, 99 }, 8, 0, 0), false, "7.9.99 >= 8.0.0")
        for _, v in ipairs { { 8, 0, 26 }, { 8, 0, 40 }, { 8, 3, 99 }, { 5, 7, 44 } } do
          eq(server.new_vocabulary(v), false, "new vocabulary " .. table.concat(v, "."))
        end
        for _, v in ipairs { { 8, 4, 0 }, { 8, 4, 5 }, { 9, 0, 1 }, { 9, 7, 4 }, { 10, 0, 0 } } do
          eq(server.new_vocabulary(v), true, "new vocabulary " .. table.concat(v, "."))
        end
        eq(server.new_vocabulary(fake("8.0.26-greatdb")), false, "from a connection: 8.0.26")
        eq(server.new_vocabulary(fake("9.7.4-2")), true, "from a connection: 9.7.4")
      end },
    { name = "statement choice by version", run = function()
        local want = {
          replica_status = { "SHOW SLAVE STATUS", "SHOW REPLICA STATUS" },
          binlog_status = { "SHOW MASTER STATUS", "SHOW BINARY LOG STATUS" },
          stop_replica = { "STOP SLAVE", "STOP REPLICA" },
          start_replica = { "START SLAVE", "START REPLICA" },
          reset_replica_all = { "RESET SLAVE ALL", "RESET REPLICA ALL" },
        }
        for what, w in pairs(want) do
          eq(server.sql({ 8, 0, 26 }, what), w[1], what .. " on 8.0.26")
          eq(server.sql(fake("8.0.40"), what), w[1], what .. " on 8.0.40")
          eq(server.sql({ 8, 4, 0 }, what), w[2], what .. " on 8.4.0")
          eq(server.sql(fake("9.7.4-2"), what), w[2], what .. " on 9.7.4")
        end
        eq(server.sql({ 8, 0, 25 }, "skip_replica_start"), "skip_slave_start", "option name on 8.0.25")
        eq(server.sql({ 8, 0, 26 }, "skip_replica_start"), "skip_replica_start", "option name on 8.0.26")
        eq(server.sql({ 9, 7, 4 }, "skip_replica_start"), "skip_replica_start", "option name on 9.7.4")
        raises("unknown statement bogus", server.sql, { 8, 0, 26 }, "bogus")
      end },
    { name = "channel_tls_sql: SOURCE_SSL* put back as recorded", run = function()
        local want = { SSL_ALLOWED = "YES", SSL_CA_FILE = "/d/i1/tls/source-ca.pem", SSL_CA_PATH = "", SSL_CERTIFICATE = "",
                       SSL_KEY = "", SSL_CIPHER = "", SSL_CRL_FILE = "", SSL_CRL_PATH = "", SSL_VERIFY_SERVER_CERTIFICATE = "NO",
                       TLS_VERSION = "", TLS_CIPHERSUITES = false }
        local have = {}
        for k, v in pairs(want) do have[k] = v end
        eq(server.channel_tls_sql({ 9, 7, 4 }, want, have), nil, "nothing differs: no statement")
        -- a recipient of the donor's clone holds the donor's paths
        have.SSL_CA_FILE = "/d/i2/tls/source-ca.pem"; have.TLS_CIPHERSUITES = ""; have.SSL_ALLOWED = "NO"
        eq(server.channel_tls_sql({ 9, 7, 4 }, want, have),
           "CHANGE REPLICATION SOURCE TO SOURCE_SSL = 1, SOURCE_SSL_CA = '/d/i1/tls/source-ca.pem', SOURCE_TLS_CIPHERSUITES = NULL", "9.7.4")
        eq(server.channel_tls_sql({ 8, 0, 22 }, want, have),
           "CHANGE MASTER TO MASTER_SSL = 1, MASTER_SSL_CA = '/d/i1/tls/source-ca.pem', MASTER_TLS_CIPHERSUITES = NULL", "8.0.22")
        want.SSL_ALLOWED = "NO"; have.SSL_ALLOWED = "YES"; have.SSL_CA_FILE = want.SSL_CA_FILE; have.TLS_CIPHERSUITES = false
        eq(server.channel_tls_sql({ 8, 0, 26 }, want, have), "CHANGE REPLICATION SOURCE TO SOURCE_SSL = 0", "TLS off as it was")
      end },
    { name = "replica_status on 8.0 (Slave_/Master_ columns)", run = function()
        local c = fake("8.0.26-greatdb", { ["SHOW SLAVE STATUS"] = rows_of(OLD_COLS, { {
          Slave_IO_State = "Waiting for source to send event", Master_Host = "127.0.31.1", Master_User = "repl",
          Master_Port = 3306, Slave_IO_Running = "Yes", Slave_SQL_Running = "No", Last_IO_Error = "",
          Last_SQL_Error = "Error 'x' on query", Seconds_Behind_Master = NULL,
          Retrieved_Gtid_Set = UUID1 .. ":1-10,\n" .. UUID2 .. ":1-3",
          Executed_Gtid_Set = UUID1 .. ":1-8,\n" .. UUID2 .. ":1-3", Auto_Position = 1, Channel_Name = "",
        } }) })
        local st = assert(server.replica_status(c))
        eq(c.sent[#c.sent], "SHOW SLAVE STATUS", "statement")
        eq(st.io_running, true, "io_running"); eq(st.sql_running, false, "sql_running")
        eq(st.io_state, "Waiting for source to send event", "io_state")
        eq(st.seconds_behind, nil, "NULL Seconds_Behind_Master")
        eq(st.retrieved_gtid_set, UUID1 .. ":1-10," .. UUID2 .. ":1-3", "retrieved set, newline removed")
        eq(st.executed_gtid_set, UUID1 .. ":1-8," .. UUID2 .. ":1-3", "executed set")
        eq(st.source_host, "127.0.31.1", "source_host"); eq(st.source_port, 3306, "source_port")
        eq(st.source_user, "repl", "source_user"); eq(st.auto_position, true, "auto_position")
        eq(st.last_io_error, "", "last_io_error"); eq(st.last_sql_error, "Error 'x' on query", "last_sql_error")
        eq(st.channel, "", "channel")
      end },
    { name = "replica_status on 9.x (Replica_/Source_ columns)", run = function()
        local c = fake("9.7.4-2", { ["SHOW REPLICA STATUS"] = rows_of(NEW_COLS, { {
          Replica_IO_State = "", Source_Host = "db-a", Source_User = "r", Source_Port = "3307",
          Replica_IO_Running = "Connecting", Replica_SQL_Running = "Yes", Last_IO_Error = "error connecting",
          Source_SSL_Allowed = "Yes",
          Last_SQL_Error = "", Seconds_Behind_Source = "12", Retrieved_Gtid_Set = "", Executed_Gtid_Set = NULL,
          Auto_Position = "0", Channel_Name = "",
        } }) })
        local st = assert(server.replica_status(c))
        eq(c.sent[#c.sent], "SHOW REPLICA STATUS", "statement")
        eq(st.io_running, false, "Connecting is not running"); eq(st.sql_running, true, "sql_running")
        eq(st.seconds_behind, 12, "seconds_behind from text"); eq(st.source_port, 3307, "source_port from text")
        eq(st.source_host, "db-a", "source_host"); eq(st.auto_position, false, "auto_position 0")
        eq(st.retrieved_gtid_set, "", "empty retrieved"); eq(st.executed_gtid_set, "", "NULL executed is empty")
        eq(st.last_io_error, "error connecting", "last_io_error")
        eq(st.ssl_allowed, "Yes", "Source_SSL_Allowed")
      end },
    { name = "replica_status channels and no replica", run = function()
        local rows = rows_of(NEW_COLS, {
          { Replica_IO_Running = "No", Replica_SQL_Running = "No", Channel_Name = "group_replication_applier", Seconds_Behind_Source = 99 },
          { Replica_IO_Running = "Yes", Replica_SQL_Running = "Yes", Channel_Name = "", Seconds_Behind_Source = 0 },
        })
        local st = server.replica_status(fake("8.4.2", { ["SHOW REPLICA STATUS"] = rows }))
        eq(st.channel, "", "the default channel is picked"); eq(st.io_running, true, "its io thread")
        eq(st.seconds_behind, 0, "its delay")
        local old = server.replica_status(fake("8.0.26", { ["SHOW SLAVE STATUS"] = rows_of(OLD_COLS, {
          { Slave_IO_Running = "Yes", Slave_SQL_Running = "Yes", Seconds_Behind_Master = 7, Channel_Name = "" } }) }))
        eq(old.seconds_behind, 7, "Seconds_Behind_Master"); eq(old.sql_running, true, "Slave_SQL_Running")
        eq(server.replica_status(fake("8.0.26", { ["SHOW SLAVE STATUS"] = rows_of(OLD_COLS, {}) })), nil,
           "no rows: not a replica")
        -- The wrong vocabulary for the version is never sent: the fake rejects it.
        raises("replica status failed", server.replica_status, fake("8.0.26", { ["SHOW REPLICA STATUS"] = rows }))
      end },
    { name = "the seeds' MySQL 8.0.26 samples", run = function()
        local ex = "b9da174e-5208-11ee-8c26-00163e2d01d5:1-49,ba09b02c-5208-11ee-b5af-00163ed307b5:1-114499," ..
                   "ba245d88-5208-11ee-aae7-00163ee05610:1-4,f9958bc0-5604-11ee-a5a1-00163ea7a91c:1-4," ..
                   "f9f2f2be-5604-11ee-b389-00163e3cdeea:1-20"
        local c = fake("8.0.26", { ["SHOW SLAVE STATUS"] = rows_of(SEED_SLAVE_COLS, { SEED_SLAVE }),
                                   ["SHOW MASTER STATUS"] = rows_of(SEED_MASTER_COLS, { SEED_MASTER }) })
        local st = assert(server.replica_status(c))
        eq(st.io_running, true, "Slave_IO_Running"); eq(st.sql_running, true, "Slave_SQL_Running")
        eq(st.io_state, "Waiting for source to send event", "Slave_IO_State")
        eq(st.source_host, "172.17.138.2", "Master_Host"); eq(st.source_port, 3308, "Master_Port")
        eq(st.source_user, "dbscale_internal", "Master_User"); eq(st.auto_position, true, "Auto_Position")
        eq(st.seconds_behind, 0, "Seconds_Behind_Master"); eq(st.channel, "", "default channel")
        eq(st.ssl_allowed, "No", "Master_SSL_Allowed")
        eq(st.last_io_error, "", "no IO error"); eq(st.last_sql_error, "", "no SQL error")
        eq(st.retrieved_gtid_set, "ba09b02c-5208-11ee-b5af-00163ed307b5:114497-114499,f9f2f2be-5604-11ee-b389-00163e3cdeea:19-20",
           "Retrieved_Gtid_Set across lines")
        eq(st.executed_gtid_set, ex, "Executed_Gtid_Set across lines")
        local b = assert(server.binlog_status(c))
        eq(b.file, "binlog.000012", "File"); eq(b.position, 7640, "Position"); eq(b.executed_gtid_set, ex, "master's set")
        eq(c.sent[2], "SHOW SLAVE STATUS", "8.0.26 is asked with the SLAVE spelling")
        -- Seconds_Behind_Master NULL (the applier stopped) reads as unknown, not 0
        local stopped = {}
        for k, v in pairs(SEED_SLAVE) do stopped[k] = v end
        stopped.Seconds_Behind_Master, stopped.Slave_SQL_Running = NULL, "No"
        local st2 = server.replica_status(fake("8.0.26", { ["SHOW SLAVE STATUS"] = rows_of(SEED_SLAVE_COLS, { stopped }) }))
        eq(st2.seconds_behind, nil, "NULL delay"); eq(st2.sql_running, false, "applier stopped")
      end },
    { name = "binlog_status, executed, purged, variable", run = function()
        local bl = { File = "binlog.000003", Position = 157, Executed_Gtid_Set = UUID1 .. ":1-10,\n" .. UUID2 .. ":1-3" }
        local old = fake("8.0.26-greatdb", { ["SHOW MASTER STATUS"] = rows_of({ "File", "Position", "Executed_Gtid_Set" }, { bl }) })
        local new = fake("9.7.4-2", { ["SHOW BINARY LOG STATUS"] = rows_of({ "File", "Position", "Executed_Gtid_Set" }, { bl }) })
        for _, c in ipairs { old, new } do
          local b = assert(server.binlog_status(c))
          eq(b.file, "binlog.000003", "file"); eq(b.position, 157, "position")
          eq(b.executed_gtid_set, UUID1 .. ":1-10," .. UUID2 .. ":1-3", "executed set")
        end
        eq(server.binlog_status(fake("8.0.26", { ["SHOW MASTER STATUS"] = rows_of({}, {}) })), nil, "binlog off")
        raises("SHOW BINARY LOG STATUS failed", server.binlog_status, fake("9.7.4", { ["SHOW MASTER STATUS"] = rows_of({}, { bl }) }))
        local g = fake("8.0.26", {
          ["SELECT @@GLOBAL.gtid_executed AS g"] = rows_of({ "g" }, { { g = UUID1 .. ":1-5,\n" .. UUID2 .. ":7" } }),
          ["SELECT @@GLOBAL.gtid_purged AS g"] = rows_of({ "g" }, { { g = "" } }),
          ["SELECT @@GLOBAL.datadir AS v"] = rows_of({ "v" }, { { v = "/data/mysqldata/a/dbdata/" } }),
          ["SELECT @@GLOBAL.log_error AS v"] = rows_of({ "v" }, { { v = NULL } }),
        })
        eq(server.executed(g), UUID1 .. ":1-5," .. UUID2 .. ":7", "executed")
        eq(server.purged(g), "", "purged")
        eq(server.variable(g, "datadir"), "/data/mysqldata/a/dbdata/", "variable")
        eq(server.variable(g, "log_error"), nil, "NULL variable")
        raises("bad variable name", server.variable, g, "datadir; DROP TABLE x")
      end },
    { name = "replica.wait_running restarts a receiver stuck between connect retries, once", run = function()
        -- An 8.0.26 replica whose source was down: its receiver says Connecting until the
        -- test's "server" sees STOP/START SLAVE IO_THREAD, then Yes.
        local replica = require "replica"
        local function status(io)
          return rows_of(OLD_COLS, { { Slave_IO_State = io == "Yes" and "Waiting for master to send event" or "Connecting to master",
            Master_Host = "10.0.1.1", Master_User = "repl", Master_Port = "3306", Slave_IO_Running = io,
            Slave_SQL_Running = "Yes", Last_IO_Error = io == "Yes" and "" or "error connecting to master 'repl@10.0.1.1:3306' - retry-time: 60 retries: 1",
            Last_SQL_Error = "", Seconds_Behind_Master = NULL, Retrieved_Gtid_Set = "", Executed_Gtid_Set = UUID1 .. ":1-5",
            Auto_Position = "1", Channel_Name = "" } })
        end
        local c = fake("8.0.26-greatdb", { ["SHOW SLAVE STATUS"] = status("Connecting") })
        local execs = {}
        function c:exec(stmt)
          execs[#execs + 1] = stmt
          return 0
        end
        local q = c.query
        function c:query(stmt)
          if stmt == "SHOW SLAVE STATUS" and #execs >= 2 then return status("Yes") end
          return q(self, stmt)
        end
        replica.wait_running(c, "10.0.1.2:3306", 10, 0.3)
        eq(table.concat(execs, "; "), "STOP SLAVE IO_THREAD; START SLAVE IO_THREAD", "the receiver restarted once, in 8.0.26's words")
        -- never running: a timeout naming the receiver's last error
        local stuck = fake("8.0.26-greatdb", { ["SHOW SLAVE STATUS"] = status("Connecting") })
        local n = 0
        function stuck:exec() n = n + 1; return 0 end
        raises("error connecting to master 'repl@10.0.1.1:3306'", replica.wait_running, stuck, "10.0.1.3:3306", 1, 0.2)
        eq(n, 2, "restarted once, not at every look")
        raises("no replication channel", replica.wait_running, fake("9.7.4", { ["SHOW REPLICA STATUS"] = rows_of(NEW_COLS, {}) }), "n", 0.3)
      end },
  },
}
