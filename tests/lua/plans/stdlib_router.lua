-- stdlib/router.lua inside the real binary: `dbscale show dataservers` parsing (rows shaped as the
-- sql driver returns them from dbscale: every cell text, SQL NULL as cjson.null) and the dbscale
-- statements, against fake connections that record what they are sent.
local router = require "router"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises
local NULL = cjson.null


local COLS = { "servername", "host", "port", "username", "status", "master-online-status", "master_backup",
               "remote_user", "remote_port", "max_needed_conn/max_mysql_conn", "master_priority" }

local function ds(name, host, port, status, mos, over)
  local r = { servername = name, host = host, port = port, username = "dbscale", status = status,
              ["master-online-status"] = mos, master_backup = "1", remote_user = "root", remote_port = "22",
              ["max_needed_conn/max_mysql_conn"] = "", master_priority = "0" }
  for k, v in pairs(over or {}) do r[k] = v end
  return r
end

-- A router answering `dbscale show dataservers` with rows (or failing), recording exec()s.
local function fake(rows, answers)
  local c = { sent = {}, executed = {} }
  function c:query(stmt)
    self.sent[#self.sent + 1] = stmt
    if stmt == "dbscale show dataservers" and rows then
      if type(rows) == "string" then return nil, rows end
      rows.columns = COLS
      return rows
    end
    local a = answers and answers[stmt]
    if a then return a end
    return nil, "unknown statement " .. stmt
  end
  function c:exec(stmt)
    self.executed[#self.executed + 1] = stmt
    local fail = answers and answers.fail and stmt:find(answers.fail, 1, true)
    if fail then return nil, "[4000] failed: " .. answers.fail end
    return 0
  end
  return c
end

-- A source cluster as dbscale shows it: two instances on one host, a down slave, a disabled one,
-- and the standby router registered as slave_dbscale_server.
local function cluster()
  return {
    ds("normal_0", "127.0.31.1", "3306", "Server normal", "Master_Online"),
    ds("normal_1", "127.0.31.1", "3307", "Slave normal", "Not_A_Master"),
    ds("normal_2", "127.0.31.2", "3306", "Slave down", "Not_A_Master"),
    ds("normal_3", "db-3.example.com", "3306", "Slave disabled", "Not_A_Master"),
    ds("slave_dbscale_server", "127.0.32.9", "16310", "Slave normal", "Not_A_Master",
       { remote_user = "", remote_port = "" }),
  }
end

-- Published result sets, verbatim (GreatDB Router 6.0 in front of MySQL 8.0.26): column names
-- with spaces, dashes and slashes, empty cells, a NULL, every status text.
local DS_PUBLISHED = {
  { servername = "normal_0_0", host = "172.17.138.2", port = "16315", username = "dbscale_internal",
    status = "Server normal, semisync down", ["master-online-status"] = "Master_Online", master_backup = "1",
    remote_user = "root", remote_port = "22", ["max_needed_conn/max_mysql_conn"] = "", master_priority = "0" },
  { servername = "normal_0_1", host = "172.17.138.3", port = "16315", username = "dbscale_internal",
    status = "Slave normal, catching master 68709s", ["master-online-status"] = "Not_A_Master", master_backup = "1",
    remote_user = "root", remote_port = "22", ["max_needed_conn/max_mysql_conn"] = NULL, master_priority = "0" },
  { servername = "normal_0_2", host = "172.17.138.4", port = "16315", username = "dbscale_internal",
    status = "server disabled", ["master-online-status"] = "Not_A_Master", master_backup = "1",
    remote_user = "root", remote_port = "22", ["max_needed_conn/max_mysql_conn"] = "", master_priority = "0" },
  { servername = "normal_0_3", host = "172.17.138.5", port = "16315", username = "dbscale_internal",
    status = "Slave down", ["master-online-status"] = "Not_A_Master", master_backup = "1",
    remote_user = "root", remote_port = "22", ["max_needed_conn/max_mysql_conn"] = "", master_priority = "0" },
  { servername = "slave_dbscale_server", host = "172.17.138.10", port = "16310", username = "admin",
    status = "Slave normal", ["master-online-status"] = "Not_A_Master", master_backup = "1",
    remote_user = "", remote_port = "", ["max_needed_conn/max_mysql_conn"] = "", master_priority = "0" },
}
local REP_COLS = { "Name", "Type", "SourceStatus", "LoadBalanceStrategy", "MasterSource", "MasterSourceStatus",
                   "MasterServer", "MasterServerHostInfo", "MasterServerStatus", "SelectMasterTime", "SlaveSource",
                   "SlaveSourceStatus", "SlaveServers", "SlaveServerHostInfo", "SlaveServerStatus",
                   "SlaveExecutedGtidStatus", "SlaveDBScale" }
local function rep_row(name, master, slave, dbscale)
  local r = { Name = name, Type = "", SourceStatus = "", LoadBalanceStrategy = "", MasterSource = "",
              MasterSourceStatus = "", MasterServer = "", MasterServerHostInfo = "", MasterServerStatus = "",
              SelectMasterTime = "", SlaveSource = slave[1], SlaveSourceStatus = "Working", SlaveServers = slave[2],
              SlaveServerHostInfo = slave[3], SlaveServerStatus = "Working", SlaveExecutedGtidStatus = "GTID good",
              SlaveDBScale = dbscale }
  if master then
    r.Type, r.SourceStatus, r.LoadBalanceStrategy = "Replication", "Working", "MASTER_SLAVE"
    r.MasterSource, r.MasterSourceStatus, r.MasterServer = master[1], "Working", master[2]
    r.MasterServerHostInfo, r.MasterServerStatus, r.SelectMasterTime = master[3], "Working", "2024-03-25 10:44:50"
  end
  return r
end
local REP_PUBLISHED = { columns = REP_COLS,
  rep_row("normal_0", { "normal_0_normal_0_0", "normal_0_0", "172.17.138.2:16315" },
          { "normal_0_normal_0_1", "normal_0_1", "172.17.138.3:16315" }, "No"),
  rep_row("normal_0", nil, { "normal_0_normal_0_2", "normal_0_2", "172.17.138.4:16315" }, "No"),
  rep_row("normal_0", nil, { "slave_dbscale_source", "slave_dbscale_server", "" }, "Yes") }
local REP_NONE = { columns = REP_COLS,
  rep_row("prod_ds", { "prod_ds_prod_ds_0", "prod_ds_0", "127.0.31.1:3306" }, { "prod_ds_prod_ds_1", "prod_ds_1", "127.0.31.2:3306" }, "No") }
local SRV_COLS = { "Name", "Type", "Server", "ServerHostInfo", "ServerStatus", "SourceStatus", "Is-internal" }
local SRV_COLS_G = { "Name", "Type", "Server", "ServerHostInfo", "ServerStatus", "SourceStatus", "Is-internal", "group_id", "spec" }
local function srv_row(name, srv, hi, internal)
  return { Name = name, Type = "Server", Server = srv, ServerHostInfo = hi, ServerStatus = "Working",
           SourceStatus = "Working", ["Is-internal"] = internal }
end
local SRV_PUBLISHED = { columns = SRV_COLS,
  srv_row("normal_0_normal_0_0", "normal_0_0", "172.17.138.2:16315", "YES"),
  srv_row("normal_0_normal_0_1", "normal_0_1", "172.17.138.3:16315", "YES"),
  srv_row("normal_0_normal_0_2", "normal_0_2", "172.17.138.4:16315", "YES"),
  srv_row("slave_dbscale_source", "slave_dbscale_server", "", "NO") }
local SRV_NONE = { columns = SRV_COLS, srv_row("prod_ds_prod_ds_0", "prod_ds_0", "127.0.31.1:3306", "YES") }

return {
  name = "stdlib-router",
  description = "tests of stdlib/router.lua",
  journal = false,
  steps = {
    { name = "id is host:port", run = function()
        eq(router.id("127.0.0.1", 3306), "127.0.0.1:3306", "numeric port")
        eq(router.id("127.0.0.1", "3307"), "127.0.0.1:3307", "text port")
        eq(router.id("h", 3306.0), "h:3306", "float port")
        eq(router.STANDBY_SERVER, "slave_dbscale_server", "standby server name")
      end },
    { name = "dataservers parses every row", run = function()
        local c = fake(cluster())
        local list = router.dataservers(c)
        eq(c.sent[1], "dbscale show dataservers", "statement")
        eq(#list, 5, "rows")
        local want = {
          { "normal_0", "127.0.31.1", 3306, "127.0.31.1:3306", "primary", false, "Server normal" },
          { "normal_1", "127.0.31.1", 3307, "127.0.31.1:3307", "joiner", false, "Slave normal" },
          { "normal_2", "127.0.31.2", 3306, "127.0.31.2:3306", "joiner", true, "Slave down" },
          { "normal_3", "db-3.example.com", 3306, "db-3.example.com:3306", "joiner", false, "Slave disabled" },
          { "slave_dbscale_server", "127.0.32.9", 16310, "127.0.32.9:16310", "joiner", false, "Slave normal" },
        }
        for i, w in ipairs(want) do
          local d = list[i]
          eq(d.name, w[1], "name " .. i); eq(d.host, w[2], "host " .. i); eq(d.port, w[3], "port " .. i)
          eq(math.type(d.port), "integer", "port " .. i .. " is an integer")
          eq(d.id, w[4], "id " .. i); eq(d.role, w[5], "role " .. i); eq(d.down, w[6], "down " .. i)
          eq(d.status, w[7], "status " .. i)
        end
        eq(list[1].master_online, "Master_Online", "master_online kept")
      end },
    { name = "two instances on one host are two nodes", run = function()
        local nodes = router.nodes(fake(cluster()))
        local a, b = router.find(nodes, "127.0.31.1:3306"), router.find(nodes, "127.0.31.1:3307")
        assert(a and b, "both instances of 127.0.31.1 found")
        assert(a ~= b, "127.0.31.1:3306 and :3307 are the same node")
        eq(a.name, "normal_0", "3306"); eq(b.name, "normal_1", "3307")
        eq(router.find(nodes, "127.0.31.1"), nil, "a host alone is no id")
        eq(router.find(nodes, "127.0.31.1:3308"), nil, "unknown port")
        local seen = {}
        for _, n in ipairs(nodes) do
          assert(not seen[n.id], "duplicate id " .. n.id); seen[n.id] = true
        end
      end },
    { name = "nodes leaves the standby router out", run = function()
        local nodes, standby = router.nodes(fake(cluster()))
        eq(#nodes, 4, "data nodes")
        for _, n in ipairs(nodes) do assert(n.name ~= "slave_dbscale_server", "standby router among the nodes") end
        assert(standby, "standby entry not returned")
        eq(standby.id, "127.0.32.9:16310", "standby id")
        local rows = cluster(); table.remove(rows)
        local n2, s2 = router.nodes(fake(rows))
        eq(#n2, 4, "nodes without a standby"); eq(s2, nil, "no standby registered")
      end },
    { name = "primary", run = function()
        local nodes = router.nodes(fake(cluster()))
        eq(router.primary(nodes).id, "127.0.31.1:3306", "the Master_Online node")
        local none = router.nodes(fake { ds("a", "h", "1", "Server down", "Not_A_Master") })
        eq(router.primary(none), nil, "no primary")
        local two = router.nodes(fake { ds("a", "h", "3306", "Server normal", "Master_Online"),
                                        ds("b", "h", "3307", "Server normal", "Master_Online") })
        raises("two primaries: h:3306 and h:3307", router.primary, two)
      end },
    { name = "down detection", run = function()
        local rows = {}
        local statuses = { ["Server down"] = true, ["Slave down"] = true, ["DOWN"] = true, ["Server normal"] = false,
                           ["Slave normal"] = false, ["Slave abnormal"] = false, ["server disabled"] = false, [""] = false,
                           ["Server normal, semisync down"] = false, ["Server down, semisync down"] = true,
                           ["Slave normal, catching master 68709s"] = false }
        local names = {}
        for st in pairs(statuses) do
          names[#names + 1] = st
          rows[#rows + 1] = ds("n" .. #rows, "127.0.0.1", tostring(3300 + #rows), st, "Not_A_Master")
        end
        rows[#rows + 1] = ds("nul", "127.0.0.1", "3399", NULL, NULL)
        local list = router.dataservers(fake(rows))
        for i, st in ipairs(names) do eq(list[i].down, statuses[st], "down for status " .. show(st)) end
        eq(list[#list].down, false, "NULL status"); eq(list[#list].role, "joiner", "NULL master-online-status")
      end },
    { name = "column spelling and values", run = function()
        local r = ds(nil, "::1", 3306, "Slave normal", "Not_A_Master", { Servername = "normal_9" })
        local list = router.dataservers(fake { r })
        eq(list[1].name, "normal_9", "Servername column"); eq(list[1].id, "[::1]:3306", "IPv6 host, bracketed in the id")
        eq(list[1].port, 3306, "integer port cell")
        eq(#router.dataservers(fake {}), 0, "no dataservers")
      end },
    { name = "unusable names and addresses are rejected", run = function()
        local bad = {
          { ds("normal_0; drop", "h", "3306", "", ""), "unusable server name" },
          { ds("n'0", "h", "3306", "", ""), "unusable server name" },
          { ds("", "h", "3306", "", ""), "unusable server name" },
          { ds(NULL, "h", "3306", "", ""), "unusable server name" },
          { ds("n0", "h -oProxyCommand=x", "3306", "", ""), "unusable address for n0" },
          { ds("n0", "-oProxyCommand=x", "3306", "", ""), "unusable address for n0" },
          { ds("n0", "h;reboot", "3306", "", ""), "unusable address for n0" },
          { ds("n0", "", "3306", "", ""), "unusable address for n0" },
          { ds("n0", NULL, "3306", "", ""), "unusable address for n0" },
          { ds("n0", "h", "0", "", ""), "unusable address for n0" },
          { ds("n0", "h", "70000", "", ""), "unusable address for n0" },
          { ds("n0", "h", "33a6", "", ""), "unusable address for n0" },
          { ds("n0", "h", NULL, "", ""), "unusable address for n0" },
        }
        for _, b in ipairs(bad) do
          raises(b[2], router.dataservers, fake { ds("ok_0", "h", "3306", "", ""), b[1] })
        end
        raises("dbscale show dataservers failed: lost connection", router.dataservers, fake("lost connection"))
      end },
    { name = "statements", run = function()
        local c = fake(cluster())
        router.disable(c, "normal_1"); router.enable(c, "normal_1")
        router.set_read_only(c, true); router.set_read_only(c, false)
        router.set_slave_mode(c, true); router.set_slave_mode(c, false)
        local want = { "dbscale disable dataserver normal_1", "dbscale enable dataserver normal_1",
                       'dbscale set global "enable-read-only" = 1', 'dbscale set global "enable-read-only" = 0',
                       "dbscale set global 'slave-dbscale-mode'=1", "dbscale set global 'slave-dbscale-mode'=0" }
        for i, w in ipairs(want) do eq(c.executed[i], w, "statement " .. i) end
        eq(#c.executed, #want, "statements sent")
        assert(not pcall(router.disable, c, "normal_1; drop"), "disable accepted a bad name")
        assert(not pcall(router.enable, c, "x y"), "enable accepted a bad name")
        eq(#c.executed, #want, "nothing sent for bad names")
        raises("router statement failed: dbscale disable dataserver normal_2: [4000]",
               router.disable, fake(nil, { fail = "disable" }), "normal_2")
      end },
    { name = "remove_standby", run = function()
        local c = fake(cluster())
        router.remove_standby(c)
        eq(table.concat(c.executed, "|"), "dbscale dynamic remove datasource slave_dbscale_source|" ..
           "dbscale dynamic remove dataserver slave_dbscale_server", "with the standby registered")
        local rows = cluster(); table.remove(rows)
        local c2 = fake(rows, { fail = "remove datasource" })
        router.remove_standby(c2)   -- already gone: tolerated
        eq(table.concat(c2.executed, "|"), "dbscale dynamic remove datasource slave_dbscale_source",
           "without it: the dataserver is not removed")
        raises("remove dataserver failed", router.remove_standby, fake(cluster(), { fail = "remove dataserver" }))
      end },
    { name = "next_group_id asks the master router", run = function()
        local master = fake(nil, { ["dbscale request next group id"] = { { next_group_id = "7" }, columns = { "next_group_id" } } })
        local src = fake(nil, { ["dbscale request cluster info"] = { columns = { "master_dbscale", "host" },
          { master_dbscale = "slave", host = "127.0.31.8:16310" }, { master_dbscale = "master", host = "127.0.31.9:16311" } } })
        local asked
        eq(router.next_group_id(src, function(h, p) asked = h .. "|" .. tostring(p) return master end), 7, "group id")
        eq(asked, "127.0.31.9|16311", "connected to the master router")
        -- An unusable master address: the source router itself is asked.
        local own = fake(nil, {
          ["dbscale request cluster info"] = { { master_dbscale = "master", host = "h;x:1" } },
          ["dbscale request next group id"] = { { next_group_id = 3 } } })
        eq(router.next_group_id(own, function() error("must not connect") end), 3, "own group id")
        raises("returned no number", router.next_group_id,
               fake(nil, { ["dbscale request next group id"] = { { next_group_id = NULL } } }), function() end)
      end },
    { name = "add_standby registers the standby as recorded", run = function()
        local rows = cluster(); table.remove(rows)            -- detached: no slave_dbscale_server
        local c = fake(rows, { ["dbscale show datasource type=server"] = SRV_NONE,
                               ["dbscale show datasource type=replication"] = REP_NONE })
        local reg = { host = "127.0.32.9", port = 16310, user = "dr_admin", datasource = "prod_ds",
                      spec = "slave_dbscale_server-2-500-200-400", group = 12 }
        router.add_standby(c, reg, [[p"q\r]], function() error("must not ask for a group id: 12 is free") end)
        eq(c.executed[1], [[dbscale dynamic add dataserver server_name=slave_dbscale_server,server_host="127.0.32.9",]] ..
           [[server_port=16310,server_user="dr_admin",server_password="p""q\\r",dbscale_server]], "add dataserver")
        eq(c.executed[2], "dbscale dynamic add server datasource slave_dbscale_source slave_dbscale_server-2-500-200-400 group_id = 12",
           "add datasource: the recorded spec and group")
        eq(c.executed[3], "dbscale dynamic add slave slave_dbscale_source to prod_ds", "add slave: to the recorded datasource")
        eq(#c.executed, 3, "three statements")
        -- group taken by another datasource now, spec not shown: the next group, the seed's spec
        local taken = { columns = SRV_COLS_G, { Name = "other", Type = "Server", Server = "x", ServerHostInfo = "h:1",
                        ServerStatus = "Working", SourceStatus = "Working", ["Is-internal"] = "YES", group_id = "12" } }
        local master = fake(nil, { ["dbscale request next group id"] = { { next_group_id = "13" }, columns = { "next_group_id" } } })
        local c2 = fake(rows, { ["dbscale show datasource type=server"] = taken,
                                ["dbscale show datasource type=replication"] = REP_NONE,
                                ["dbscale request cluster info"] = { { master_dbscale = "master", host = "127.0.31.9:16311" } } })
        router.add_standby(c2, { host = "h", port = 1, user = "u", datasource = "normal_0", group = 12 }, "pw",
                           function() return master end)
        eq(c2.executed[2], "dbscale dynamic add server datasource slave_dbscale_source slave_dbscale_server-1-1000-400-800 group_id = 13",
           "a taken group: the next one")
        -- resumed: the dataserver and the datasource are there, only the slave is missing
        local srv = { columns = SRV_COLS, { Name = "slave_dbscale_source", Type = "Server", Server = "slave_dbscale_server",
                      ServerHostInfo = "", ServerStatus = "Working", SourceStatus = "Working", ["Is-internal"] = "NO" } }
        local c3 = fake(cluster(), { ["dbscale show datasource type=server"] = srv,
                                     ["dbscale show datasource type=replication"] = REP_NONE })
        router.add_standby(c3, reg, "pw", function() error("no group needed") end)
        eq(table.concat(c3.executed, "|"), "dbscale dynamic add slave slave_dbscale_source to prod_ds", "only what is missing")
        local c4 = fake(cluster(), { ["dbscale show datasource type=server"] = srv,
                                     ["dbscale show datasource type=replication"] = REP_PUBLISHED })
        router.add_standby(c4, reg, "pw", function() error("no group needed") end)
        eq(#c4.executed, 0, "fully registered: nothing sent")
        assert(not pcall(router.add_standby, fake(nil), { host = "h h", port = 1, user = "u", datasource = "d" }, "", nil),
               "a bad standby address was accepted")
        assert(not pcall(router.add_standby, fake(nil), { host = "h", port = 1, user = "u", datasource = "d; x" }, "", nil),
               "a bad datasource name was accepted")
        local f = fake(rows, { fail = "add dataserver" })
        local ok, err = pcall(router.add_standby, f, { host = "h", port = 1, user = "u", datasource = "d" }, "s3cr3tpw", nil)
        assert(not ok and tostring(err):find("add dataserver slave_dbscale_server failed", 1, true), tostring(err))
        assert(not tostring(err):find("s3cr3tpw", 1, true), "the failure echoes the password")
      end },
    { name = "status texts as states", run = function()
        local want = {
          ["Server normal"] = "normal", ["Slave normal"] = "normal", ["server disabled"] = "disabled",
          ["Server disabled"] = "disabled", ["Slave disabled"] = "disabled",
          ["Server normal, semisync down"] = "semisync_degraded", ["Server down"] = "down", ["Slave down"] = "down",
          ["Server down, semisync down"] = "down", ["Slave normal, catching master 68709s"] = "lagging",
          ["Slave abnormal"] = "unknown", [""] = "unknown",
        }
        for text, st in pairs(want) do eq(router.status_state(text).state, st, "state of " .. show(text)) end
        eq(router.status_state("Slave normal, catching master 68709s").lag, 68709, "lag seconds")
        eq(router.status_state(nil).state, "unknown", "nil status")
        -- the published set, verbatim: every state reaches the dataserver list
        local list = router.dataservers(fake(DS_PUBLISHED))
        local got = {}
        for _, d in ipairs(list) do got[#got + 1] = d.name .. "=" .. d.state .. (d.lag and (":" .. d.lag) or "") end
        eq(table.concat(got, " "), "normal_0_0=semisync_degraded normal_0_1=lagging:68709 normal_0_2=disabled " ..
           "normal_0_3=down slave_dbscale_server=normal", "states of the published rows")
        eq(list[1].down, false, "semisync down is no down server")
        eq(list[4].down, true, "a down server")
        eq(list[5].user, "admin", "the registered user of the standby router")
        eq(list[1].user, "dbscale_internal", "the data nodes' user")
        eq(list[1].port, 16315, "port")
      end },
    { name = "options in both boolean forms", run = function()
        for _, v in ipairs { "1", "TRUE", "true", "True", "ON", "on", " 1 " } do eq(router.bool(v), true, "bool " .. show(v)) end
        for _, v in ipairs { "0", "FALSE", "false", "OFF" } do eq(router.bool(v), false, "bool " .. show(v)) end
        for _, v in ipairs { "", "yes?", "2", NULL } do eq(router.bool(v), nil, "bool " .. show(v)) end
        eq(router.bool(nil), nil, "absent")
        local numeric = { columns = { "option_name", "value" },
          { option_name = "enable-read-only", value = "1" }, { option_name = "slave-dbscale-mode", value = "0" },
          { option_name = "enable-disaster-mode", value = "1" }, { option_name = "transparent-mode", value = NULL },
          { option_name = "max-replication-delay", value = "30" } }
        local words = { columns = { "option_name", "value" },
          { option_name = "enable-read-only", value = "FALSE" }, { option_name = "slave-dbscale-mode", value = "TRUE" },
          { option_name = "enable-slave-dbscale-server", value = "TRUE" } }
        local old = { columns = { "Variable_name", "Value" }, { Variable_name = "enable-read-only", Value = "1" } }
        local o = router.options(fake(nil, { ["dbscale show options"] = numeric }))
        eq(o["enable-read-only"], "1", "value text"); eq(o["transparent-mode"], nil, "NULL is unset")
        eq(o["max-replication-delay"], "30", "a number")
        local s1 = router.standby_options(fake(nil, { ["dbscale show options"] = numeric }))
        eq(s1.read_only, true, "0/1 read-only"); eq(s1.slave_mode, false, "0/1 slave mode"); eq(s1.disaster_mode, true, "disaster")
        local s2 = router.standby_options(fake(nil, { ["dbscale show options"] = words }))
        eq(s2.read_only, false, "FALSE"); eq(s2.slave_mode, true, "TRUE"); eq(s2.disaster_mode, nil, "not reported")
        eq(router.standby_options(fake(nil, { ["dbscale show options"] = old })).read_only, true, "Variable_name/Value")
        eq(router.standby_options(fake(nil, { ["dbscale show options"] = { columns = { "option_name", "value" } } })).read_only,
           nil, "empty result")
        raises("dbscale show options failed", router.options, fake(nil, {}))
      end },
    { name = "restore_options and with_slave_mode", run = function()
        local words = { columns = { "option_name", "value" },
          { option_name = "enable-read-only", value = "TRUE" }, { option_name = "slave-dbscale-mode", value = "FALSE" } }
        local c = fake(nil, { ["dbscale show options"] = words })
        router.restore_options(c, { read_only = true, slave_mode = true })
        eq(table.concat(c.executed, "|"), "dbscale set global 'slave-dbscale-mode'=1", "only what differs")
        local c2 = fake(nil, { ["dbscale show options"] = words })
        router.restore_options(c2, { read_only = false, slave_mode = false })
        eq(table.concat(c2.executed, "|"), 'dbscale set global "enable-read-only" = 0', "read-only back to 0")
        local c3 = fake(nil, { ["dbscale show options"] = words })
        router.restore_options(c3, {})
        eq(#c3.executed, 0, "nothing recorded, nothing changed")
        local c4 = fake(nil, { ["dbscale show options"] = words })
        local inside
        router.with_slave_mode(c4, function() inside = #c4.executed end)
        eq(inside, 1, "slave mode switched on first")
        eq(table.concat(c4.executed, "|"), "dbscale set global 'slave-dbscale-mode'=1|dbscale set global 'slave-dbscale-mode'=0",
           "and back off after")
      end },
    { name = "error 9001 is named", run = function()
        local c = fake(nil, { fail = "STOP SLAVE" })
        c.exec = function(self, stmt)
          self.executed[#self.executed + 1] = stmt
          return nil, "127.0.32.9:16310: [9001] (HY000) 'slave-dbscale-mode' is off, dbscale is denied to be a slave", 9001
        end
        raises("slave-dbscale-mode is off on the standby router: it refused STOP SLAVE IO_THREAD (error 9001)",
               router.exec, c, "STOP SLAVE IO_THREAD")
        raises("router statement failed: START SLAVE: [4000]", router.exec, fake(nil, { fail = "START" }), "START SLAVE")
      end },
    { name = "datasources as published", run = function()
        local rep = router.replication_datasources(fake(nil, { ["dbscale show datasource type=replication"] = REP_PUBLISHED }))
        eq(#rep, 3, "one entry per slave")
        eq(rep[1].name, "normal_0", "first row"); eq(rep[1].master_source, "normal_0_normal_0_0", "master source")
        eq(rep[2].name, "normal_0", "following row keeps the datasource"); eq(rep[2].master_server, "normal_0_0", "master carried")
        eq(rep[3].slave_source, "slave_dbscale_source", "standby row"); eq(rep[3].slave_dbscale, true, "SlaveDBScale Yes")
        eq(rep[1].slave_dbscale, false, "SlaveDBScale No"); eq(rep[1].slave_host_info, "172.17.138.3:16315", "host info")
        -- a router that leaves Name empty on the following rows
        local blank = { columns = REP_COLS }
        for i, r in ipairs(REP_PUBLISHED) do
          local t = {}
          for k, v in pairs(r) do t[k] = v end
          if i > 1 then t.Name = "" end
          blank[i] = t
        end
        local rep2 = router.replication_datasources(fake(nil, { ["dbscale show datasource type=replication"] = blank }))
        eq(rep2[3].name, "normal_0", "an empty Name continues the datasource above")
        local srv = router.server_datasources(fake(nil, { ["dbscale show datasource type=server"] = SRV_PUBLISHED }))
        eq(#srv, 4, "server datasources"); eq(srv[4].name, "slave_dbscale_source", "standby source")
        eq(srv[4].host_info, "", "no host info for the router"); eq(srv[4].group, nil, "no group shown")
        eq(srv[1].host_info, "172.17.138.2:16315", "host info")
      end },
    { name = "assumed_registration for an old journal", run = function()
        local reg = router.assumed_registration(fake(nil, { ["dbscale show datasource type=replication"] = REP_NONE }),
                                                { host = "127.0.32.9", port = 16310, router_user = "ru", mysql_user = "mu" })
        eq(reg.datasource, "prod_ds", "the only datasource"); eq(reg.user, "ru", "router_user")
        eq(reg.host, "127.0.32.9", "configured host"); eq(reg.port, 16310, "configured port")
        local two = { columns = REP_COLS, REP_NONE[1], REP_PUBLISHED[1] }
        local ok, err = pcall(router.assumed_registration, fake(nil, { ["dbscale show datasource type=replication"] = two }),
                              { host = "h", port = 1 })
        assert(not ok and tostring(err):find("has 2 (prod_ds, normal_0)", 1, true), "two datasources: " .. tostring(err))
      end },
    { name = "standby_registration", run = function()
        local c = fake(DS_PUBLISHED, { ["dbscale show datasource type=replication"] = REP_PUBLISHED,
                                       ["dbscale show datasource type=server"] = SRV_PUBLISHED })
        local reg = router.standby_registration(c)
        eq(reg.datasource, "normal_0", "the datasource it is a slave of"); eq(reg.host, "172.17.138.10", "host")
        eq(reg.port, 16310, "port"); eq(reg.user, "admin", "user"); eq(reg.group, nil, "group not shown")
        eq(reg.spec, nil, "spec not shown")
        -- a router that shows group and spec
        local g = { columns = SRV_COLS_G, { Name = "slave_dbscale_source", Type = "Server", Server = "slave_dbscale_server",
                    ServerHostInfo = "", ServerStatus = "Working", SourceStatus = "Working", ["Is-internal"] = "NO",
                    group_id = "4", spec = "slave_dbscale_server-1-1000-400-800" } }
        local reg2 = router.standby_registration(fake(DS_PUBLISHED, {
          ["dbscale show datasource type=replication"] = REP_PUBLISHED, ["dbscale show datasource type=server"] = g }))
        eq(reg2.group, 4, "group"); eq(reg2.spec, "slave_dbscale_server-1-1000-400-800", "spec")
        local rows = cluster(); table.remove(rows)
        eq(router.standby_registration(fake(rows)), nil, "not registered")
        local odd = { columns = REP_COLS, { Name = "x;y", SlaveSource = "slave_dbscale_source", SlaveDBScale = "Yes" } }
        raises("cannot put into a statement", router.standby_registration, fake(DS_PUBLISHED, {
          ["dbscale show datasource type=replication"] = odd, ["dbscale show datasource type=server"] = SRV_PUBLISHED }))
      end },
  },
}
