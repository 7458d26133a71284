-- stdlib/site.lua inside the real binary: [site] settings (check_settings, get, num) and the side
-- instance's option file derived from a node's (side_conf), plus data_dirs. Run with no [site]
-- settings; the "stdlib_site_settings" case runs it again with some, and "stdlib_site_unknown"
-- with a misspelt one, which the first step must reject.
local site = require "site"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises

local function lines_of(text)
  local t, set = {}, {}
  for l in text:gmatch("([^\n]*)\n") do t[#t + 1] = l; set[l] = (set[l] or 0) + 1 end
  return t, set
end
-- The lines of `text` in [section] (in order).
local function section(text, name)
  local out, cur = {}, nil
  for _, l in ipairs((lines_of(text))) do
    local s = l:match("^%s*%[([^%]]+)%]")
    if s then cur = s else if cur == name then out[#out + 1] = l end end
  end
  return out
end
local function index_of(list, v) for i, x in ipairs(list) do if x == v then return i end end end
local function has_line(list, v, what)
  if not index_of(list, v) then error(("%s: no line %q in:\n%s"):format(what, v, table.concat(list, "\n")), 2) end
end
local function no_line(list, v, what)
  if index_of(list, v) then error(("%s: unexpected line %q"):format(what, v), 2) end
end
-- No line of list (uncommented) sets key to anything.
local function unset(list, key, what)
  for _, l in ipairs(list) do
    if l:match("^%s*" .. key:gsub("%-", "%%-") .. "%s*=") then error(("%s: %q still set: %q"):format(what, key, l), 2) end
  end
end

local BP = config.site.side_buffer_pool or "128M"  -- the default, or set by the stdlib_site_settings cases

-- A node laid out like the seed: /data/mysqldata/<instance>/{dbdata,logfile,tmp,socket,pid}.
local I = "/data/mysqldata/a1b2c3d4"
local S = I .. "/flashback_side"
local SEED = {
  id = "127.0.31.1:3306", host = "127.0.31.1", port = 3306, side_port = 18000, os_user = "mysql",
  instance_dir = I, side_dir = S, datadir = I .. "/dbdata", data_root = "/data/mysqldata",
}
local SEED_CONF = table.concat({
  "# flashrun lab: n1 (127.0.31.1), instance a1b2c3d4",
  "[mysqld]",
  "user = mysql",
  "basedir = /data/app/mysql-8.0.26",
  "datadir = " .. I .. "/dbdata",
  "tmpdir = " .. I .. "/tmp",
  "socket = " .. I .. "/socket/mysql.sock",
  "pid-file = " .. I .. "/pid/mysqld.pid",
  "log-error = " .. I .. "/logfile/error.log",
  "bind-address = 127.0.31.1",
  "port = 3306",
  "report_host = 127.0.31.1",
  "report_port = 3306",
  "server_id = 11",
  "gtid_mode = ON",
  "log_bin = " .. I .. "/logfile/binlog",
  'relay_log = "' .. I .. '/logfile/relay"',
  "log_replica_updates = ON",
  "skip_replica_start = OFF",
  "secure_file_priv = " .. I .. "/files",
  "innodb_undo_directory = /data/undo/a1b2c3d4",
  "slow_query_log_file = slow.log",
  "mysqlx = OFF",
  "loose_group_replication_start_on_boot = OFF",
  "innodb_buffer_pool_size = 32M",
  "",
  "[mysqld_safe]",
  "log-error = " .. I .. "/logfile/safe.log",
  "",
  "[client]",
  "socket = " .. I .. "/socket/mysql.sock",
  "port = 3306",
}, "\n") .. "\n"

return {
  name = "stdlib-site",
  description = "tests of stdlib/site.lua",
  journal = false,
  steps = {
    { name = "check_settings", run = function()
        site.check_settings()   -- a no-op now: settings are checked at load (stdlib_site_unknown)
      end },
    { name = "get and num", run = function()
        eq(site.get("side_port"), 18000, "side_port default (a port: an integer)")
        eq(site.num("side_port"), 18000, "side_port as a number")
        eq(site.get("marker_schema"), "flashrun", "marker_schema default")
        eq(site.num("start_timeout"), 180, "start_timeout"); eq(site.num("clone_timeout"), 3600, "clone_timeout")
        raises('no [site] setting "no_such_key" in the schema', site.get, "no_such_key")
        eq(site.get("restore_point"), "local", "restore_point default")
        if config.site.disk_threshold == "40" then
          eq(site.get("side_buffer_pool"), BP, "side_buffer_pool from --set")
          eq(site.num("disk_threshold"), 40, "disk_threshold from --set")
          eq(site.num("max_delay"), 7, "max_delay from --set")
        else
          eq(site.get("side_buffer_pool"), "128M", "side_buffer_pool default")
          eq(site.num("disk_threshold"), 45, "disk_threshold default")
          eq(site.num("max_delay"), 0, "max_delay default")
        end
      end },
    { name = "side_conf on the seed layout", run = function()
        local text, dirs = site.side_conf(SEED, SEED_CONF, "8.0.26-greatdb")
        local my = section(text, "mysqld")
        -- The forced settings come first in [mysqld], once.
        local forced = { "port = 18000", "mysqlx = OFF", "datadir = " .. S .. "/dbdata", "socket = " .. S .. "/mysqld.sock",
                         "pid-file = " .. S .. "/mysqld.pid", "log-error = " .. S .. "/error.log", "tmpdir = " .. S .. "/tmp",
                         "skip_replica_start = ON", "bind-address = 127.0.31.1", "user = mysql" }
        for i, f in ipairs(forced) do eq(my[i], f, "forced line " .. i) end
        local _, count = lines_of(text)
        eq(count["[mysqld]"], 1, "one [mysqld] section")
        -- The node's own values of those keys are commented out, never left active.
        local function active(k)
          local n = 0
          for _, l in ipairs(my) do if l:match("^" .. k:gsub("%-", "%%-") .. "%s*=") then n = n + 1 end end
          return n
        end
        for _, k in ipairs { "user", "datadir", "tmpdir", "socket", "pid-file", "log-error", "bind-address", "port" } do
          eq(active(k), 1, "active " .. k .. " lines (the forced one only)")
        end
        for _, k in ipairs { "report_host", "report_port", "skip_replica_start", "loose_group_replication_start_on_boot" } do
          eq(active(k), k == "skip_replica_start" and 1 or 0, "active " .. k .. " lines")
        end
        has_line(my, "# (flashrun side instance) datadir = " .. I .. "/dbdata", "node datadir commented")
        has_line(my, "# (flashrun side instance) port = 3306", "node port commented")
        has_line(my, "# (flashrun side instance) report_host = 127.0.31.1", "report_host commented")
        has_line(my, "# (flashrun side instance) skip_replica_start = OFF", "replication autostart commented")
        -- Paths under the instance dir move under the side dir; elsewhere they get a private copy.
        has_line(my, "log_bin = " .. S .. "/logfile/binlog", "log_bin remapped")
        has_line(my, "relay_log = " .. S .. "/logfile/relay", "quoted relay_log remapped")
        has_line(my, "secure_file_priv = " .. S .. "/files", "secure_file_priv remapped")
        has_line(my, "innodb_undo_directory = " .. S .. "/ext/a1b2c3d4", "path outside the instance dir")
        has_line(my, "slow_query_log_file = slow.log", "relative path kept")
        has_line(my, "basedir = /data/app/mysql-8.0.26", "basedir shared")
        has_line(my, "server_id = 11", "other settings kept")
        for _, l in ipairs(my) do
          local v = l:match("^[^#].-=%s*(/.*)$")
          if v and v:sub(1, #I + 1) == I .. "/" then
            assert(v:sub(1, #S + 1) == S .. "/", "a path of the node is still used: " .. l)
          end
        end
        if BP ~= "node" then
          has_line(my, "innodb_buffer_pool_size = " .. BP, "side buffer pool")
          has_line(my, "# (flashrun side instance) innodb_buffer_pool_size = 32M", "node buffer pool commented")
        else
          has_line(my, "innodb_buffer_pool_size = 32M", "the node's buffer pool size kept")
        end
        -- mysqld_safe: its own log-error is not the node's any more.
        local safe = section(text, "mysqld_safe")
        has_line(safe, "# (flashrun side instance) log-error = " .. I .. "/logfile/safe.log", "mysqld_safe log-error")
        unset(safe, "log-error", "mysqld_safe")
        -- [client] talks to the side instance.
        local client = section(text, "client")
        has_line(client, "socket = " .. S .. "/mysqld.sock", "[client] socket")
        has_line(client, "port = 18000", "[client] port")
        local nonblank = 0
        for _, l in ipairs(client) do if l ~= "" then nonblank = nonblank + 1 end end
        eq(nonblank, 2, "[client] lines")
        -- Directories to create: all under the side dir, sorted.
        -- secure_file_priv names a directory (mysqld refuses to start without it)
        eq(table.concat(dirs, " "), table.concat({ S .. "/dbdata", S .. "/ext/a1b2c3d4", S .. "/files", S .. "/logfile", S .. "/tmp" }, " "), "dirs")
        eq(text:sub(-1), "\n", "ends with a newline")
      end },
    { name = "side_conf option names by version", run = function()
        local t80 = site.side_conf(SEED, "[mysqld]\nport=3306\n", "8.0.25")
        has_line(section(t80, "mysqld"), "skip_slave_start = ON", "8.0.25 option")
        local t9 = site.side_conf(SEED, "[mysqld]\nport=3306\n", "9.7.4-2")
        local my = section(t9, "mysqld")
        has_line(my, "skip_replica_start = ON", "9.7.4 option"); no_line(my, "skip_slave_start = ON", "9.7.4")
        has_line(my, "# (flashrun side instance) port=3306", "compact key=value commented")
        raises("cannot parse server version", site.side_conf, SEED, "[mysqld]\n", "bogus")
      end },
    { name = "side_conf on a /data/dbdata layout", run = function()
        -- /data/dbdata/<instance>/{data,binlog,relaylog,...}, conf my.cnf, mysqld_safe [mysqld-8.0] group,
        -- loose_ and underscores, a bare option, and a path that only shares a prefix with the instance dir.
        local I2, S2 = "/data/dbdata/inst7", "/data/dbdata/inst7/flashback_side"
        local m = { id = "10.1.1.7:3310", host = "10.1.1.7", port = 3310, side_port = 18001, os_user = "greatdb",
                    instance_dir = I2, side_dir = S2, datadir = I2 .. "/data", data_root = "/data/dbdata" }
        local conf = table.concat({
          "[client]",
          "socket=" .. I2 .. "/mysql.sock",
          "[mysqld]",
          "user=greatdb",
          "port=3310",
          "datadir=" .. I2 .. "/data",
          "socket=" .. I2 .. "/mysql.sock",
          "log_bin=" .. I2 .. "/binlog/mysql-bin",
          "log-bin-index=" .. I2 .. "/binlog/mysql-bin.index",
          "relay-log=" .. I2 .. "/relaylog/relay-bin",
          "innodb_log_group_home_dir=" .. I2 .. "/redo",
          "general_log_file=/var/log/mysql/general.log",
          "innodb_tmpdir=" .. "/data/dbdata/inst77/tmp",
          "loose_mysqlx_port=33100",
          "admin_port=33062",
          "read_only",
          "super_read_only=ON",
          "init_file=" .. I2 .. "/init.sql",
          "log_slave_updates",
          "[mysqld-8.0]",
          "pid_file=" .. I2 .. "/mysqld.pid",
          "slow_query_log_file=" .. I2 .. "/log/slow.log",
        }, "\n")   -- no final newline
        local text, dirs = site.side_conf(m, conf, "8.0.26-greatdb")
        local client = section(text, "client")
        eq(client[1], "socket = " .. S2 .. "/mysqld.sock", "[client] socket first")
        local my = section(text, "mysqld")
        eq(my[1], "port = 18001", "side port"); has_line(my, "bind-address = 10.1.1.7", "bind-address is the node's host")
        has_line(my, "user = greatdb", "the node's OS user")
        has_line(my, "# (flashrun side instance) user=greatdb", "node user commented")
        has_line(my, "log_bin = " .. S2 .. "/binlog/mysql-bin", "log_bin")
        has_line(my, "log-bin-index = " .. S2 .. "/binlog/mysql-bin.index", "log-bin-index")
        has_line(my, "relay-log = " .. S2 .. "/relaylog/relay-bin", "relay-log")
        has_line(my, "innodb_log_group_home_dir = " .. S2 .. "/redo", "redo dir")
        has_line(my, "general_log_file = " .. S2 .. "/ext/general.log", "outside path gets a private copy")
        has_line(my, "innodb_tmpdir = " .. S2 .. "/ext/tmp", "a sibling instance's path is outside")
        for _, k in ipairs { "loose_mysqlx_port=33100", "admin_port=33062", "read_only", "super_read_only=ON",
                             "init_file=" .. I2 .. "/init.sql" } do
          has_line(my, "# (flashrun side instance) " .. k, k .. " commented")
        end
        has_line(my, "log_slave_updates", "bare option kept")
        local v80 = section(text, "mysqld-8.0")
        has_line(v80, "# (flashrun side instance) pid_file=" .. I2 .. "/mysqld.pid", "[mysqld-8.0] pid_file commented")
        has_line(v80, "slow_query_log_file = " .. S2 .. "/log/slow.log", "[mysqld-8.0] path remapped")
        eq(table.concat(dirs, " "), table.concat({ S2 .. "/binlog", S2 .. "/dbdata", S2 .. "/ext",
           S2 .. "/ext/tmp", S2 .. "/log", S2 .. "/redo", S2 .. "/relaylog", S2 .. "/tmp" }, " "), "dirs")
        for _, d in ipairs(dirs) do assert(d:sub(1, #S2 + 1) == S2 .. "/", "dir outside the side dir: " .. d) end
      end },
    { name = "side_conf with data directly in /data/dbdata", run = function()
        -- datadir /data/dbdata, instance dir /data (data_root set by the site): the side dir is
        -- /data/flashback_side and nothing of the node is reused.
        local m = { host = "10.1.1.8", side_port = 18000, os_user = "mysql", instance_dir = "/data",
                    side_dir = "/data/flashback_side", datadir = "/data/dbdata" }
        local text, dirs = site.side_conf(m, "[mysqld]\ndatadir=/data/dbdata\nlog-bin=/data/binlog/bin\nport=3306\n", "9.7.4")
        local my = section(text, "mysqld")
        has_line(my, "datadir = /data/flashback_side/dbdata", "side datadir")
        has_line(my, "log-bin = /data/flashback_side/binlog/bin", "log-bin under the side dir")
        eq(table.concat(dirs, " "), "/data/flashback_side/binlog /data/flashback_side/dbdata /data/flashback_side/tmp", "dirs")
        -- A conf without [mysqld] gets one.
        local t2 = site.side_conf(m, "[client]\nuser=x\n", "9.7.4")
        local l = lines_of(t2)
        local at = index_of(l, "[mysqld]")
        assert(at and at > 2, "no [mysqld] appended after [client]:\n" .. t2)
        eq(l[at + 1], "port = 18000", "with the forced settings")
        has_line(section(t2, "client"), "user=x", "[client] user kept")
      end },
    { name = "foreign_paths", run = function()
        local printed = "/opt/bin/mysqld would have been started with the following arguments:\n" ..
          "--user=mysql --datadir=" .. I .. "/dbdata --log-bin=" .. I .. "/logfile/binlog --port=3306 " ..
          "--datadir=" .. S .. "/dbdata --socket=" .. S .. "/mysqld.sock --plugin_dir=/usr/lib/mysql/plugin " ..
          "--log_bin=" .. S .. "/logfile/binlog --relay-log=relay --loose-general_log_file=/var/log/general.log " ..
          "--tmpdir=" .. S .. "/../x "
        eq(table.concat(site.foreign_paths(SEED, printed), " "),
           "loose-general_log_file=/var/log/general.log tmpdir=" .. S .. "/../x",
           "the last value of each path option counts; relative and non-path options pass")
        eq(#site.foreign_paths(SEED, "mysqld would have been started with the following arguments:\n--datadir=" .. S .. "/dbdata \n"), 0,
           "all inside the side dir")
      end },
    { name = "data_dirs", run = function()
        local D = I .. "/dbdata"
        local function dirs(vars)
          local list, outside = site.data_dirs(SEED, vars)
          local o = {}
          for _, x in ipairs(outside) do o[#o + 1] = x.variable .. "=" .. x.dir end
          return table.concat(list, " "), table.concat(o, " ")
        end
        -- The seed's layout: logs in <instance>/logfile, InnoDB files in the datadir ("./").
        local l, o = dirs({ log_bin_basename = I .. "/logfile/binlog", relay_log_basename = I .. "/logfile/relay",
                            innodb_log_group_home_dir = "./", innodb_undo_directory = "./", innodb_data_home_dir = "" })
        eq(l, D .. " " .. I .. "/logfile", "seed layout"); eq(o, "", "seed layout: nothing outside")
        -- MySQL's defaults: everything inside the datadir; binary log off (NULL).
        l, o = dirs({ log_bin_basename = false, relay_log_basename = D .. "/n1-relay-bin",
                      innodb_log_group_home_dir = "./", innodb_undo_directory = D .. "/", innodb_data_home_dir = "" })
        eq(l, D, "logs inside the datadir"); eq(o, "", "defaults: nothing outside")
        -- Redo and undo elsewhere under the instance dir (relative to the datadir too).
        l, o = dirs({ log_bin_basename = I .. "/logfile/binlog", relay_log_basename = I .. "/logfile/relay",
                      innodb_log_group_home_dir = I .. "/redo", innodb_undo_directory = I .. "/undo/" })
        eq(l, D .. " " .. I .. "/logfile " .. I .. "/redo " .. I .. "/undo", "redo and undo under the instance dir")
        eq(o, "", "under the instance dir: nothing outside")
        -- Binary logs on another volume: stop could not swap them.
        l, o = dirs({ log_bin_basename = "/binlog/3306/mysql-bin", relay_log_basename = D .. "/relay",
                      innodb_undo_directory = "/data/mysqldata/undo" })
        eq(l, D, "only the datadir swappable")
        eq(o, "log_bin_basename=/binlog/3306 innodb_undo_directory=/data/mysqldata/undo", "outside")
        local msg = site.outside_message(SEED, (select(2, site.data_dirs(SEED, { log_bin_basename = "/binlog/3306/b" }))))
        assert(msg and msg:find("@@log_bin_basename in /binlog/3306", 1, true) and msg:find("site.instance_dir", 1, true),
               "refusal: " .. tostring(msg))
        eq(site.outside_message(SEED, {}), nil, "no refusal when nothing is outside")
        -- A path with "..": refused rather than guessed.
        l, o = dirs({ innodb_log_group_home_dir = "../redo" })
        eq(l, D, "unclear path not swapped"); eq(o, "innodb_log_group_home_dir=../redo", "unclear path refused")
      end },
  },
}
