-- binlog_stream's pure pieces inside the real binary, run for real through /bin/sh on a scratch
-- directory: the option file's quoting, the server_id choice, the status parser, the supervisor
-- and apply scripts (parsed by sh -n), the process proofs (a fake supervisor and mysqlbinlog are
-- ended, an unrelated process named by the pid files is never signalled) and the removal (only a
-- directory carrying the mark).
local bs = require "binlog_stream"
local shell = require "shell"
local check = require "check"
local eq, raises = check.eq, check.raises

local function sh(cmd, stdin)
  local f
  if stdin then
    local tmp = os.tmpname()
    local w = assert(io.open(tmp, "w")); w:write(stdin); w:close()
    cmd = cmd .. " <" .. shell.quote(tmp)
  end
  f = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = f:read("a")
  local ok, _, code = f:close()
  if stdin then os.remove(cmd:match("<'([^']*)'$")) end
  return out, ok and 0 or code
end

local T = assert(io.popen("mktemp -d /tmp/flashrun-stream.XXXXXX")):read("l")
local D = T .. "/stream"

local function alive(pid) return select(2, sh("kill -0 " .. pid)) == 0 end

return {
  name = "stdlib-stream",
  description = "binlog_stream: scripts and parsers",
  journal = false,
  steps = {
    { name = "option file", run = function()
        eq(bs.cnf_value('Adm#1$x;y=z "q"'), '"Adm#1$x;y=z \\"q\\""', "quotes escaped, # and ; inside quotes")
        eq(bs.cnf_value("a\\b"), '"a\\\\b"', "backslash doubled")
        raises("newline", bs.cnf_value, "a\nb")
        eq(bs.cnf("u", "p"), '[client]\nuser = "u"\npassword = "p"\n', "the [client] group")
      end },
    { name = "TLS of the stream: the files copied and the option file's lines", run = function()
        local c = { ssl_mode = "verify_identity", router_ssl_mode = "preferred", ssl_ca = "/etc/fr/prod-ca.pem",
                    ssl_cert = "/etc/fr/c.pem", ssl_key = "/etc/fr/k.pem", tls_version = "TLSv1.3" }
        local files = bs.tls_files(c, "tls-")
        eq(#files, 3, "CA, certificate, key")
        eq(files[1].name .. " " .. files[1].path, "tls-ca.pem /etc/fr/prod-ca.pem", "the CA")
        eq(bs.tls_cnf(c, files, "/d/s"),
           'ssl-mode = VERIFY_IDENTITY\nssl-ca = "/d/s/tls-ca.pem"\nssl-cert = "/d/s/tls-cert.pem"\nssl-key = "/d/s/tls-key.pem"\n' ..
           'tls-version = "TLSv1.3"\n[client_router]\nssl-mode = PREFERRED\nssl-cert = "/d/s/tls-cert.pem"\n' ..
           'ssl-key = "/d/s/tls-key.pem"\ntls-version = "TLSv1.3"\n', "[client] for the nodes, [client_router] for the router")
        -- preferred copies no CA (nothing verifies), no client certificate without one
        eq(#bs.tls_files({ ssl_mode = "preferred", router_ssl_mode = "preferred", ssl_ca = "/x" }, "tls-"), 0, "nothing to copy")
        eq(bs.tls_cnf({ ssl_mode = "disabled" }, {}, "/d"), "ssl-mode = DISABLED\n[client_router]\nssl-mode = DISABLED\n", "disabled")
        eq(#bs.tls_files({ ssl_mode = "required", router_ssl_mode = "verify_ca", ssl_ca = "/x" }, "tls-target-"), 1, "the router verifies")
        -- the supervisor asks production's router with the router's group; remove takes the files
        local sup = bs.supervisor_script { dir = "/d/s", router_host = "10.0.0.10", router_port = 3307, server_id = 7, frozen = "",
                                           mysql = "/usr/bin/mysql", mysqlbinlog = "/usr/bin/mysqlbinlog" }
        assert(sup:find("--defaults-group-suffix=_router", 1, true), "the router's group")
        assert(bs.remove_script("/d/s"):find("/tls-*.pem ", 1, true), "remove takes the TLS files")
      end },
    { name = "server id", run = function()
        eq(bs.choose_server_id({}), 4294967295, "the highest id when none is used")
        eq(bs.choose_server_id({ [4294967295] = "n1", [4294967294] = "n2" }), 4294967293, "skips used ids")
      end },
    { name = "status parser", run = function()
        local st = bs.parse_status(table.concat({ "supervisor 12", "mysqlbinlog 34", "restarts 2",
          "master 10.0.0.1 3306 /d/001_10.0.0.1_3306", "file /d/001_10.0.0.1_3306/binlog.000007 4096", "files 3",
          "gtid 3e11fa47-71ca-11e1-9e33-c80aa9429562:17", "log 2024-01-01T00:00:00Z started" }, "\n"))
        eq(st.running, true, "running"); eq(st.supervisor, 12, "supervisor"); eq(st.restarts, 2, "restarts")
        eq(st.master, "10.0.0.1:3306", "master"); eq(st.size, 4096, "size"); eq(st.files, 3, "files")
        eq(st.last_gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:17", "gtid")
        eq(bs.parse_status("supervisor 12\nmysqlbinlog none\nrestarts 0").running, false, "mysqlbinlog down")
        eq(bs.parse_status("dir none").present, false, "no directory")
      end },
    { name = "scripts parse", run = function()
        local p = { dir = D, router_host = "10.0.0.9", router_port = 3307, server_id = 4294967295,
                    frozen = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n8f1b2c3d-71ca-11e1-9e33-c80aa9429562:1-2",
                    mysql = "/usr/bin/mysql", mysqlbinlog = "/usr/bin/mysqlbinlog" }
        local sup = bs.supervisor_script(p)
        assert(sup:find("FROZEN='3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,8f1b2c3d-71ca-11e1-9e33-c80aa9429562:1-2'", 1, true),
               "the GTID set goes in whole, without whitespace")
        assert(sup:find("--connection-server-id=\"$SERVER_ID\"", 1, true), "the chosen server id is used")
        assert(not sup:find("password", 1, true), "no password in the supervisor")
        for name, script in pairs({ supervisor = sup, stop = bs.stop_script(D), status = bs.status_script(D, "/usr/bin/mysqlbinlog"),
                                    setup = bs.setup_script(D, 40), remove = bs.remove_script(D),
                                    apply = bs.apply_script({ dir = D, mysql = "/usr/bin/mysql", mysqlbinlog = "/usr/bin/mysqlbinlog" },
                                                            "10.0.0.2", 3306, p.frozen) }) do
          local out, rc = sh("sh -n", script)
          eq(rc, 0, name .. " script parses (" .. out .. ")")
        end
        p.frozen = "x'; rm -rf /"
        raises("not a GTID set", bs.supervisor_script, p)
      end },
    { name = "proofs and stop", run = function()
        -- A fake supervisor (sh DIR/supervisor.sh) and a fake mysqlbinlog (a copy of sleep named
        -- so, with --result-file in DIR): both are ours and are ended.
        local _, rc = sh(table.concat({
          "mkdir -p " .. shell.quote(D .. "/001_h_1"), "touch " .. shell.quote(D .. "/" .. bs.MARK),
          "printf 'sleep 60\\n' >" .. shell.quote(D .. "/supervisor.sh"),
          "cp \"$(command -v sh)\" " .. shell.quote(T .. "/mysqlbinlog"),
        }, " && "))
        eq(rc, 0, "scratch tree")
        local sup = sh(("cd /; nohup setsid sh %s </dev/null >/dev/null 2>&1 & echo $!"):format(shell.quote(D .. "/supervisor.sh"))):match("%d+")
        local mb = sh(("%s -c 'sleep 60; :' --result-file=%s/001_h_1/ </dev/null >/dev/null 2>&1 & echo $!")
          :format(shell.quote(T .. "/mysqlbinlog"), D)):match("%d+")
        sh(("echo %s >%s; echo %s >%s"):format(sup, shell.quote(D .. "/supervisor.pid"), mb, shell.quote(D .. "/mysqlbinlog.pid")))
        local st = bs.parse_status(sh("sh", bs.status_script(D, "/bin/false")))
        eq(st.supervisor, math.tointeger(tonumber(sup)), "the supervisor is proven ours")
        eq(st.mysqlbinlog, math.tointeger(tonumber(mb)), "mysqlbinlog is proven ours")
        eq(st.running, true, "running")
        local out, src = sh("sh", bs.stop_script(D))
        eq(src, 0, "stop script: " .. out)
        sh("sleep 0.3")
        eq(alive(sup), false, "the supervisor was ended")
        eq(alive(mb), false, "mysqlbinlog was ended")
        -- An unrelated process named by both pid files is never signalled.
        local other = sh("sleep 60 </dev/null >/dev/null 2>&1 & echo $!"):match("%d+")
        sh(("echo %s >%s; echo %s >%s"):format(other, shell.quote(D .. "/supervisor.pid"), other, shell.quote(D .. "/mysqlbinlog.pid")))
        st = bs.parse_status(sh("sh", bs.status_script(D, "/bin/false")))
        eq(st.supervisor, nil, "an unrelated process is not taken for the supervisor")
        eq(st.mysqlbinlog, nil, "an unrelated process is not taken for mysqlbinlog")
        sh("sh", bs.stop_script(D))
        eq(alive(other), true, "the unrelated process was not signalled")
        sh("kill " .. other .. " " .. mb .. " 2>/dev/null")
      end },
    { name = "remove", run = function()
        local keep = T .. "/unmarked"
        sh("mkdir -p " .. shell.quote(keep .. "/001_x") .. " && touch " .. shell.quote(keep .. "/001_x/binlog.000001"))
        sh("sh", bs.remove_script(keep))
        eq(select(2, sh("test -f " .. shell.quote(keep .. "/001_x/binlog.000001"))), 0, "a directory without the mark is left alone")
        sh("printf x >" .. shell.quote(D .. "/client.cnf") .. " && touch " .. shell.quote(D .. "/001_h_1/binlog.000001"))
        local out, rc = sh("sh", bs.remove_script(D))
        eq(rc, 0, "remove: " .. out)
        eq(select(2, sh("test -e " .. shell.quote(D))), 1, "the stream directory is gone")
      end },
    { name = "cleanup", run = function() sh("rm -rf " .. shell.quote(T)) end },
  },
}
