-- stdlib/retention.lua inside the real binary: the expiry statement chosen by version, the purge
-- policy, the binary log list and Previous_gtids parsing, the oldest binary log the standby
-- needs and the deadline — against fake connections answering with MySQL 8.0.26's output as the
-- server sends it (column names and texts verbatim: SHOW BINARY LOGS has Log_name, File_size,
-- Encrypted; SHOW BINLOG EVENTS Log_name, Pos, Event_type, Server_id, End_log_pos, Info; an
-- empty Previous_gtids has an empty Info; a variable the version lacks is error 1193).
local retention = require "retention"
local check = require "check"
local eq, raises = check.eq, check.raises

local function rows_of(columns, list) list.columns = columns; return list end

local U = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
local V = "4f22ab58-82db-22f2-af44-d91bba53a673"

-- 8.0.26: SELECT VERSION() → '8.0.26'; four binary logs, two UUIDs (the server prints a
-- multi-UUID set with ",\n" between them).
local BINLOGS_8026 = rows_of({ "Log_name", "File_size", "Encrypted" }, {
  { Log_name = "binlog.000012", File_size = "7684", Encrypted = "No" },
  { Log_name = "binlog.000013", File_size = "1802", Encrypted = "No" },
  { Log_name = "binlog.000014", File_size = "241", Encrypted = "No" },
  { Log_name = "binlog.000015", File_size = "196", Encrypted = "No" },
})
local EV_COLS = { "Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info" }
local function events(file, prev)
  return rows_of(EV_COLS, {
    { Log_name = file, Pos = "4", Event_type = "Format_desc", Server_id = "1", End_log_pos = "125", Info = "Server ver: 8.0.26, Binlog ver: 4" },
    { Log_name = file, Pos = "125", Event_type = "Previous_gtids", Server_id = "1", End_log_pos = "196", Info = prev },
    { Log_name = file, Pos = "196", Event_type = "Gtid", Server_id = "1", End_log_pos = "275", Info = "SET @@SESSION.GTID_NEXT= '" .. U .. ":41'" },
  })
end
local PREV = { ["binlog.000012"] = "", ["binlog.000013"] = U .. ":1-40",
               ["binlog.000014"] = U .. ":1-52,\n" .. V .. ":1-3", ["binlog.000015"] = U .. ":1-60,\n" .. V .. ":1-3" }
local EXECUTED = U .. ":1-61,\n" .. V .. ":1-3"

local function fake(version, answers)
  local c = { sent = {} }
  function c:query(stmt)
    self.sent[#self.sent + 1] = stmt
    if stmt == "SELECT VERSION() AS v" then return rows_of({ "v" }, { { v = version } }) end
    local file = stmt:match("^SHOW BINLOG EVENTS IN '([^']+)' LIMIT 3$")
    if file and PREV[file] then return events(file, PREV[file]) end
    local a = answers[stmt]
    if a == nil then
      local var = stmt:match("@@GLOBAL%.binlog_expire_logs_auto_purge") and not version:match("^8%.0%.2[0-8]")
      return nil, var and "unexpected" or "[1193] (HY000) Unknown system variable 'binlog_expire_logs_auto_purge'", 1193
    end
    return a
  end
  return c
end

return {
  name = "stdlib-retention",
  description = "binary log retention and the re-attach deadline",
  journal = false,
  steps = {
    { name = "the expiry statement by version", run = function()
        eq(retention.variables_sql({ 8, 0, 26 }), "SELECT UNIX_TIMESTAMP() AS now_, @@GLOBAL.log_bin_basename AS log_bin_basename, "
           .. "@@GLOBAL.binlog_expire_logs_seconds AS binlog_expire_logs_seconds, @@GLOBAL.expire_logs_days AS expire_logs_days",
           "8.0.26: no binlog_expire_logs_auto_purge")
        eq(table.concat(retention.variable_names({ 8, 0, 29 }), ","), "binlog_expire_logs_seconds,expire_logs_days,binlog_expire_logs_auto_purge", "8.0.29")
        eq(table.concat(retention.variable_names({ 8, 4, 0 }), ","), "binlog_expire_logs_seconds,binlog_expire_logs_auto_purge", "8.4: no expire_logs_days")
        eq(table.concat(retention.variable_names({ 9, 7, 4 }), ","), "binlog_expire_logs_seconds,binlog_expire_logs_auto_purge", "9.7")
      end },
    { name = "the purge policy", run = function()
        -- 8.0.26 defaults, verbatim: binlog_expire_logs_seconds 2592000, expire_logs_days 0.
        local p = retention.policy({ 8, 0, 26 }, { binlog_expire_logs_seconds = "2592000", expire_logs_days = "0" })
        eq(p.seconds, 2592000, "8.0.26 default: 30 days")
        p = retention.policy({ 8, 0, 26 }, { binlog_expire_logs_seconds = "0", expire_logs_days = "7" })
        eq(p.seconds, 7 * 86400, "8.0: expire_logs_days when seconds is 0")
        p = retention.policy({ 8, 0, 26 }, { binlog_expire_logs_seconds = "3600", expire_logs_days = "7" })
        eq(p.seconds, 3600, "8.0: seconds wins when both are set")
        p = retention.policy({ 8, 0, 26 }, { binlog_expire_logs_seconds = "0", expire_logs_days = "0" })
        eq(p.seconds, nil, "8.0: both 0, no automatic purge")
        -- 8.0.26 has no auto_purge switch: a value passed for it is not looked at.
        p = retention.policy({ 8, 0, 26 }, { binlog_expire_logs_seconds = "60", expire_logs_days = "0", binlog_expire_logs_auto_purge = "0" })
        eq(p.seconds, 60, "8.0.26 ignores auto_purge")
        p = retention.policy({ 9, 7, 4 }, { binlog_expire_logs_seconds = "2592000", binlog_expire_logs_auto_purge = "0" })
        eq(p.seconds, nil, "9.x: auto_purge OFF"); assert(p.why:find("binlog_expire_logs_auto_purge=OFF", 1, true))
        p = retention.policy({ 8, 4, 0 }, { binlog_expire_logs_seconds = "600", binlog_expire_logs_auto_purge = "1", expire_logs_days = "9" })
        eq(p.seconds, 600, "8.4: expire_logs_days (gone) not looked at")
      end },
    { name = "binary logs and Previous_gtids as 8.0.26 sends them", run = function()
        local files = retention.parse_binlogs(BINLOGS_8026)
        eq(#files, 4, "four files"); eq(files[1].name, "binlog.000012", "first"); eq(files[2].size, 1802, "size")
        eq(retention.parse_previous_gtids(events("binlog.000014", PREV["binlog.000014"])), U .. ":1-52," .. V .. ":1-3", "two UUIDs, newline dropped")
        eq(retention.parse_previous_gtids(events("binlog.000012", "")), "", "empty Previous_gtids")
        eq(retention.parse_previous_gtids(rows_of(EV_COLS, {})), nil, "no event")
        raises("unusable file name", retention.parse_binlogs, { { Log_name = "binlog.1; rm -rf /" } })
      end },
    { name = "the oldest binary log the standby needs (binary search)", run = function()
        local names = { "binlog.000012", "binlog.000013", "binlog.000014", "binlog.000015" }
        local asked = {}
        local function prev(i) asked[#asked + 1] = i; return (PREV[names[i]]:gsub("%s+", "")) end
        local ex = EXECUTED:gsub("%s+", "")
        -- frozen at U:1-45: U:41-52 are in binlog.000013 (its successor's previous is U:1-52).
        eq(retention.oldest_needed(4, prev, ex, U .. ":1-45"), 2, "frozen in the middle of 000013")
        eq(retention.oldest_needed(4, prev, ex, U .. ":1-40"), 2, "frozen at the end of 000012")
        eq(retention.oldest_needed(4, prev, ex, U .. ":1-30"), 1, "frozen inside 000012")
        eq(retention.oldest_needed(4, prev, ex, U .. ":1-60," .. V .. ":1-3"), 4, "only the active file")
        eq(retention.oldest_needed(4, prev, ex, ex), nil, "frozen at everything: nothing needed yet")
        eq(retention.oldest_needed(0, prev, "", ""), nil, "no binary logs")
        asked = {}
        retention.oldest_needed(4, prev, ex, U .. ":1-45")
        assert(#asked <= 3, "binary search asked " .. #asked .. " files")
      end },
    { name = "read() on an 8.0.26 production master", run = function()
        local c = fake("8.0.26", {
          [retention.variables_sql({ 8, 0, 26 })] = rows_of({ "now_", "log_bin_basename", "binlog_expire_logs_seconds", "expire_logs_days" },
            { { now_ = "1700000000", log_bin_basename = "/data/mysqldata/x/logfile/binlog", binlog_expire_logs_seconds = "86400", expire_logs_days = "0" } }),
          ["SHOW BINARY LOGS"] = BINLOGS_8026,
          ["SELECT @@GLOBAL.gtid_executed AS g"] = rows_of({ "g" }, { { g = EXECUTED } }),
          ["SELECT @@GLOBAL.gtid_purged AS g"] = rows_of({ "g" }, { { g = "" } }),
        })
        local r = retention.read(c, nil, U .. ":1-45")
        local d
        for _, s in ipairs(c.sent) do assert(not s:find("auto_purge", 1, true), "8.0.26 was asked for auto_purge: " .. s) end
        eq(r.policy.seconds, 86400, "policy"); eq(r.needed.name, "binlog.000013", "needed file"); eq(r.lost, "", "nothing lost")
        -- Without file times, a closed needed file may be older than the period: not judged from now.
        eq(r.deadline.state, "unknown", "no file times without ssh: the needed file's age is unknown")
        eq(r.deadline.at, nil, "no deadline claimed")
        assert(r.deadline.text:find("binlog.000013 holds what the standby needs, and its time could not be read", 1, true), r.deadline.text)
        -- The file being written: a full period from production's clock, time known or not.
        d = retention.deadline(r.policy, "", { name = "binlog.000014" }, true, 1700000000)
        eq(d.state, "rotation", "active file"); eq(d.at, 1700000000 + 86400, "a full period from production's clock")
        -- With file times: the needed file's time plus the period.
        d = retention.deadline(r.policy, "", { name = "binlog.000013", mtime = 1699990000 }, false, 1700000000)
        eq(d.state, "at", "state"); eq(d.at, 1699990000 + 86400, "deadline")
        d = retention.deadline(r.policy, U .. ":1-3", nil, false, 1700000000)
        eq(d.state, "lost", "purged what the standby needs")
        d = retention.deadline({ why = "binlog_expire_logs_seconds=0" }, "", r.needed, false, 1700000000)
        eq(d.state, "none", "no automatic purge")
        eq(retention.span(93784), "1d 02h", "span days"); eq(retention.span(-3720), "-1h 02m", "span past")
      end },
  },
}
