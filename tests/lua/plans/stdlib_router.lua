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
                           ["Slave normal"] = false, ["Slave abnormal"] = false, ["Server disabled"] = false, [""] = false }
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
    { name = "add_standby escapes the password", run = function()
        local c = fake(nil)
        router.add_standby(c, { host = "127.0.32.9", port = 16310, mysql_user = "dr_admin",
                                mysql_password = [[p"q\r]] }, 12)
        eq(c.executed[1], [[dbscale dynamic add dataserver server_name=slave_dbscale_server,server_host="127.0.32.9",]] ..
           [[server_port=16310,server_user="dr_admin",server_password="p""q\\r",dbscale_server]], "add dataserver")
        eq(c.executed[2], "dbscale dynamic add server datasource slave_dbscale_source slave_dbscale_server-1-1000-400-800 group_id = 12",
           "add datasource")
        eq(c.executed[3], "dbscale dynamic add slave slave_dbscale_source to normal_0", "add slave")
        assert(not pcall(router.add_standby, fake(nil), { host = "h h", port = 1, mysql_user = "u", mysql_password = "" }, 1),
               "a bad standby address was accepted")
        local f = fake(nil, { fail = "add dataserver" })
        local ok, err = pcall(router.add_standby, f, { host = "h", port = 1, mysql_user = "u", mysql_password = "s3cr3tpw" }, 1)
        assert(not ok and tostring(err):find("add dataserver slave_dbscale_server failed", 1, true), tostring(err))
        assert(not tostring(err):find("s3cr3tpw", 1, true), "the failure echoes the password")
      end },
  },
}
