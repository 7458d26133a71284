-- The restore point's pure pieces inside the real binary, run for real through /bin/sh on a
-- scratch tree: the swap script (every state it may be interrupted in), the manifest, the
-- process proof of mysqld.lua (a fake "mysqld" working in a fake datadir, and a pid file naming
-- an unrelated process), the CLONE statements and the variable fingerprint.
local swap = require "restore_point.swap"
local mysqld = require "mysqld"
local reflink = require "restore_point.reflink"
local clone = require "restore_point.clone"
local manifest = require "restore_point.manifest"
local service = require "restore_point.service"
local variables = require "variables"
local site = require "site"
local node = require "node"
local shell = require "shell"
local check = require "check"
local eq, raises = check.eq, check.raises

local function sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = f:read("a")
  local ok, _, code = f:close()
  return out, ok and 0 or code
end

local T = assert(io.popen("mktemp -d /tmp/flashrun-restore.XXXXXX")):read("l")
local ROOT = T .. "/data"
local I = ROOT .. "/inst1"
local me = assert(io.popen("id -un")):read("l")
local M = {
  id = "n1", datadir = I .. "/dbdata", instance_dir = I, data_root = ROOT, os_user = me,
  restore_point_dir = I .. "/flashback_restore_point", log_error = I .. "/logfile/error.log",
  data_dirs = { I .. "/dbdata", I .. "/logfile" },
}

-- The tree of a node before the swap: its data, its logs, and a restore point (a clone: data,
-- no identity files, no binary logs).
local function build()
  local _, rc = sh(table.concat({
    "rm -rf " .. shell.quote(ROOT), "mkdir -p " .. shell.quote(I .. "/dbdata/app") .. " " .. shell.quote(I .. "/logfile"),
    "echo drill > " .. shell.quote(I .. "/dbdata/app/t.ibd"), "echo uuid-n1 > " .. shell.quote(I .. "/dbdata/auto.cnf"),
    "echo old-binlog > " .. shell.quote(I .. "/logfile/binlog.000007"), "echo history > " .. shell.quote(M.log_error),
    "mkdir -p " .. shell.quote(M.restore_point_dir .. "/app"), "echo restored > " .. shell.quote(M.restore_point_dir .. "/app/t.ibd"),
    -- start copies the node's identity into a cloned restore point
    "echo uuid-n1 > " .. shell.quote(M.restore_point_dir .. "/auto.cnf"),
  }, " && "))
  eq(rc, 0, "building the scratch tree")
end

local function read(path) return (sh("cat " .. shell.quote(path))):gsub("\n$", "") end
local function exists(path) return select(2, sh("test -e " .. shell.quote(path))) == 0 end

local function check_swapped(what)
  eq(read(I .. "/dbdata/app/t.ibd"), "restored", what .. ": the datadir is the restore point's")
  eq(read(I .. "/dbdata/auto.cnf"), "uuid-n1", what .. ": the node keeps its server_uuid")
  eq(exists(I .. "/logfile/binlog.000007"), false, what .. ": the old binary logs are gone from the log dir")
  eq(read(M.log_error), "history", what .. ": the error log keeps its history")
  eq(read(I .. "/dbdata.flashback_bak/app/t.ibd"), "drill", what .. ": the drill's data is kept aside")
  eq(read(I .. "/logfile.flashback_bak/binlog.000007"), "old-binlog", what .. ": the old logs are kept aside")
  eq(exists(M.restore_point_dir), false, what .. ": the restore point was moved in")
end

return {
  name = "stdlib-restore",
  description = "tests of the restore point modules",
  journal = false,
  steps = {
    { name = "reflink probe copies a regular file, not the #clone dir a clone leaves first", run = function()
        build()
        sh("mkdir -p " .. shell.quote(I .. "/dbdata/#clone"))
        -- A cp that copies with or without reflink (this host's filesystem may have none): the
        -- probe says yes exactly when it was handed a regular file.
        local bin = T .. "/bin"
        sh("mkdir -p " .. shell.quote(bin) .. " && printf '#!/bin/sh\\nshift 2; exec /bin/cp \"$@\"\\n' > " .. shell.quote(bin .. "/cp")
           .. " && chmod +x " .. shell.quote(bin .. "/cp"))
        local out = sh("PATH=" .. shell.quote(bin) .. ":$PATH; " .. reflink.reflink_probe(M))
        eq(out, "yes\n", "the probe on a datadir whose first entry is #clone")
        eq(exists(I .. "/.flashrun-reflink-probe"), false, "the probe's copy is removed")
        sh("rm -rf " .. shell.quote(bin))
      end },
    { name = "every strategy the schema allows loads, with its interface", run = function()
        local restore_point = require "restore_point"
        local words = require("flashrun.settings").KEYS.site.restore_point.words
        assert(#words >= 4, "the schema's strategies read wrong")
        for _, w in ipairs(words) do
          local S = restore_point.of({ strategy = w })
          eq(S.name, w, "strategy " .. w)
          for _, f in ipairs({ "settle", "freeze", "thaw", "prepare", "resolve", "take", "undo", "intact", "repair", "put_back",
                               "after_put_back", "describe", "measure", "judge", "summarize", "space_kb", "copied_kb" }) do
            eq(type(S[f]), "function", w .. "." .. f)
          end
        end
        raises("names no restore point strategy: 'cpy' (expected one of auto, local, donor, reflink)", restore_point.of, { strategy = "cpy" })
        raises("names no restore point strategy: 'common'", restore_point.of, { strategy = "common" })
      end },
    { name = "swap from untouched, twice", run = function()
        build()
        local s = swap.script(M)
        local out, rc = sh(s)
        eq(rc, 0, "swap script: " .. out)
        check_swapped("first run")
        out, rc = sh(s)
        eq(rc, 0, "second run: " .. out)
        check_swapped("second run (idempotent)")
        eq((sh(swap.cleanup_script(M))), "", "cleanup")
        eq(exists(I .. "/dbdata.flashback_bak") or exists(I .. "/logfile.flashback_bak"), false, "backups removed")
      end },
    { name = "swap resumed from half-swapped", run = function()
        build()
        -- Interrupted after the datadir was moved aside, before the restore point moved in.
        sh("mv " .. shell.quote(I .. "/dbdata") .. " " .. shell.quote(I .. "/dbdata.flashback_bak"))
        local out, rc = sh(swap.script(M))
        eq(rc, 0, "swap script from half: " .. out)
        check_swapped("resumed")
      end },
    { name = "reflink swap: every dir from the restore point", run = function()
        -- A reflink restore point: a copy of each data dir, binary logs included, by its path
        -- relative to the instance dir; without the error log (the node keeps its current one).
        build()
        local rp = M.restore_point_dir
        sh(("rm -rf %s && mkdir -p %s/dbdata/app %s/logfile && echo restored > %s/dbdata/app/t.ibd && echo uuid-n1 > %s/dbdata/auto.cnf"
            .. " && echo pre-drill-binlog > %s/logfile/binlog.000007"):format(rp, rp, rp, rp, rp, rp))
        local out, rc = sh(swap.script(M, true))
        eq(rc, 0, "reflink swap: " .. out)
        eq(read(I .. "/dbdata/app/t.ibd"), "restored", "datadir from the restore point")
        eq(read(I .. "/logfile/binlog.000007"), "pre-drill-binlog", "the binary logs come back from the restore point")
        eq(read(M.log_error), "history", "the error log is the node's current one")
        eq(exists(rp), false, "the emptied restore point dir is removed")
        out, rc = sh(swap.script(M, true))
        eq(rc, 0, "reflink swap again (idempotent): " .. out)
        eq(read(I .. "/logfile/binlog.000007"), "pre-drill-binlog", "still in place")
        -- the copy script: every dir, no error log, guarded
        local copy = reflink.reflink_script(M)
        assert(copy:find("cp -a --reflink=always -- '" .. I .. "/dbdata' '" .. rp .. "/dbdata'", 1, true), copy)
        assert(copy:find("cp -a --reflink=always -- '" .. I .. "/logfile' '" .. rp .. "/logfile'", 1, true), copy)
        assert(copy:find("rm -f -- '" .. rp .. "/logfile/error.log'", 1, true), copy)
        -- Run for real (a cp that ignores --reflink=always: this scratch tree's filesystem may not
        -- take it) while an earlier run's copy still holds the instance dir's lock: it waits, then
        -- copies into a fresh restore point.
        sh("rm -rf " .. shell.quote(rp))
        local bin = T .. "/bin"
        sh(("mkdir -p %s && printf '#!/bin/sh\nshift 3\nexec /bin/cp -a \"$@\"\n' > %s/cp && chmod +x %s/cp"):format(bin, bin, bin))
        sh(("(exec 9<%s; flock 9; sleep 1.5) >/dev/null 2>&1 &"):format(shell.quote(I)))
        sh("sleep 0.3")
        local t0 = now()
        out, rc = sh("PATH=" .. shell.quote(bin) .. ":$PATH; " .. copy)
        eq(rc, 0, "reflink copy script: " .. out)
        assert(now() - t0 > 0.8, ("did not wait for the lock held by the earlier copy (%.2f s)"):format(now() - t0))
        eq(read(rp .. "/dbdata/app/t.ibd"), read(I .. "/dbdata/app/t.ibd"), "datadir copied")
        eq(exists(rp .. "/dbdata/dbdata"), false, "not nested")
        eq(exists(rp .. "/logfile/error.log"), false, "without the error log")
        -- A rollback's removal of the restore point waits for that lock too: a copy a killed run
        -- left going is not removed under (rm -rf would fail, "Directory not empty").
        local held = T .. "/lock-held"
        sh(("rm -f %s; (exec 9<%s; flock 9; touch %s; sleep 1.5) >/dev/null 2>&1 &"):format(shell.quote(held), shell.quote(I), shell.quote(held)))
        sh(("i=0; while [ ! -e %s ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done"):format(shell.quote(held)))
        t0 = now()
        out, rc = sh(clone.remove_script(M))
        eq(rc, 0, "remove script: " .. out)
        assert(now() - t0 > 0.8, ("the removal did not wait for the copy's lock (%.2f s)"):format(now() - t0))
        eq(exists(rp), false, "removed")
        raises("outside the data root", clone.remove_script, setmetatable({ restore_point_dir = "/etc/rp" }, { __index = M }))
      end },
    { name = "swap guards", run = function()
        raises("outside the data root", swap.script, setmetatable({ restore_point_dir = "/etc/rp" }, { __index = M }))
        raises("not a clean absolute path", swap.script, setmetatable({ datadir = "relative/x", data_dirs = { "relative/x" } }, { __index = M }))
      end },
    { name = "manifest", run = function()
        build()
        local function man()
          local out = sh(manifest.script(M.restore_point_dir))
          local h, n, b = out:match("^(%x+)\n(%d+) (%d+)\n$")
          assert(h, "manifest output: " .. out)
          return h, tonumber(n), tonumber(b)
        end
        local h1, n1, b1 = man()
        eq(n1, 2, "two files"); eq(b1, 17, "17 bytes (restored, uuid-n1)")
        eq((man()), h1, "same tree, same digest")
        sh("echo x >> " .. shell.quote(M.restore_point_dir .. "/app/t.ibd"))
        assert(man() ~= h1, "a file whose size changed changes the digest")
        sh("echo restored > " .. shell.quote(M.restore_point_dir .. "/app/t.ibd") .. "; mv " ..
           shell.quote(M.restore_point_dir .. "/app/t.ibd") .. " " .. shell.quote(M.restore_point_dir .. "/app/u.ibd"))
        assert(man() ~= h1, "a renamed file changes the digest")
      end },
    { name = "process proof", run = function()
        -- A fake mysqld (a copy of sleep, so its command name is mysqld) working in the node's
        -- datadir; an unrelated sleep whose pid the pid file names.
        build()
        local pidf = I .. "/mysqld.pid"
        local conf = I .. "/my.cnf"
        local m = setmetatable({ pid_file = pidf, conf = conf }, { __index = M })
        sh(("mkdir -p %s/bin && cp /bin/sleep %s/bin/mysqld"):format(shell.quote(T), shell.quote(T)))
        local fake = assert(io.popen(("cd %s && { %s/bin/mysqld 30 >/dev/null 2>&1 & echo $!; }"):format(shell.quote(M.datadir), shell.quote(T)))):read("l")
        local decoy = assert(io.popen("{ sleep 30 >/dev/null 2>&1 & echo $!; }")):read("l")
        sh(("echo %s > %s"):format(decoy, shell.quote(pidf)))
        local st = mysqld.parse_state((sh(mysqld.state_script(m))))
        eq(st.server, fake, "the mysqld working in the datadir is the server")
        eq(st.pidfile, decoy, "the pid file names the decoy")
        eq(#st.helpers, 0, "no helper")
        -- The probe's own processes are never among the node's: its grep was forked before the
        -- shell expanded /proc/[0-9]*, and used to list itself when given the option file as -e
        -- ARG (1 run in 4 to 7 under load). Ten looks, none may name a helper.
        for i = 1, 10 do
          local out = sh(mysqld.state_script(m))
          eq(#mysqld.parse_state(out).helpers, 0, ("look %d: no helper (the probe listed: %s)"):format(i, out))
        end
        -- The datadir named through a symlink (@@datadir as configured; mysqld's cwd resolved)
        local link = T .. "/datadir-link"
        sh(("ln -sfn %s %s"):format(shell.quote(M.datadir), shell.quote(link)))
        local ml = setmetatable({ datadir = link }, { __index = m })
        eq(mysqld.parse_state((sh(mysqld.state_script(ml)))).server, fake, "the mysqld working in the symlinked datadir is the server")
        sh("kill " .. fake)
        sh(("while kill -0 %s 2>/dev/null; do sleep 0.05; done"):format(fake))
        st = mysqld.parse_state((sh(mysqld.state_script(m))))
        eq(st.server, nil, "a pid file naming another process is no server")
        eq(select(2, sh("kill -0 " .. decoy)), 0, "the decoy is alive (never signalled)")
        sh("kill " .. decoy)
        -- Parsing: a mysqld started with the node's option file, before it changed directory;
        -- its mysqld_safe; a process of that name working elsewhere.
        st = mysqld.parse_state("conf 10 mysqld_safe\nconf 11 mysqld\npidarg 11 mysqld\ncwd 12 bash\npidfile 11\n")
        eq(st.server, "11", "server by option file"); eq(table.concat(st.helpers, ","), "10", "mysqld_safe is a helper")
        eq(mysqld.parse_state("cwd 12 bash\n").server, nil, "a shell in the datadir is not the server")
      end },
    { name = "start command", run = function()
        local m = setmetatable({ mysqld_safe = "/opt/g db/bin/mysqld_safe", conf = "/data/i/my.cnf", os_user = "mysql" }, { __index = M })
        m.version = "8.0.26-greatdb"
        local c = mysqld.start_command(m)
        assert(c:find("'/opt/g db/bin/mysqld_safe' --defaults-file='/data/i/my.cnf' --user='mysql' --skip-replica-start", 1, true), c)
        m.version = "8.0.25"
        assert(mysqld.start_command(m):find("--skip-slave-start", 1, true), "8.0.25 spells it skip-slave-start")
        m.version = "9.7.4-2"
        assert(mysqld.start_command(m):find("--skip-replica-start", 1, true), "9.7")
      end },
    { name = "the running command line, captured from a fake /proc and replayed", run = function()
        -- A fake /proc: mysqld 4242 (working in the datadir) whose parent 4200 is mysqld_safe,
        -- started with options holding blanks, quotes, a newline and the init file.
        local P, conf, datadir = T .. "/proc", "/data/i/my.cnf", T .. "/dd"
        local safe = { "/bin/sh", "/opt/g db/bin/mysqld_safe", "--defaults-file=" .. conf, "--user=mysql",
                       "--init-file=/data/i/tmp/init.sql", "--malloc-lib=/usr/lib/lib jemalloc.so", "--ledir='q' \"d\"",
                       "--skip-slave-start", "--log-error=/x\ny" }
        local function put(path, text) local f = assert(io.open(path, "wb")); f:write(text); f:close() end
        local _, rc = sh(("rm -rf %s %s && mkdir -p %s/4242 %s/4200 %s && ln -s %s %s/4242/cwd"):format(
          shell.quote(P), shell.quote(datadir), shell.quote(P), shell.quote(P), shell.quote(datadir), shell.quote(datadir), shell.quote(P)))
        eq(rc, 0, "fake /proc")
        put(P .. "/4242/status", "Name:\tmysqld\nState:\tS (sleeping)\nPPid:\t4200\n")
        put(P .. "/4242/cmdline", "/opt/g db/bin/mysqld\0--defaults-file=" .. conf .. "\0--datadir=" .. datadir .. "\0")
        put(P .. "/4200/comm", "mysqld_safe\n")
        put(P .. "/4200/cmdline", table.concat(safe, "\0") .. "\0")
        put(T .. "/pid", "4242\n")
        local out, code = sh("sh -c " .. shell.quote(node.process_script(T .. "/pid", P)))
        eq(code, 0, "process script: " .. out)
        local proc = node.parse_process(out)
        assert(proc, "unparsed: " .. out)
        eq(proc.cwd, datadir, "cwd"); eq(proc.user, me, "owner")
        assert(proc.args:find("--defaults-file=" .. conf, 1, true), "mysqld's own arguments: " .. proc.args)
        eq(#proc.safe, #safe, "mysqld_safe's arguments")
        for i, a in ipairs(safe) do eq(proc.safe[i], a, "argument " .. i) end
        local opts = node.safe_options(proc, datadir, conf)
        eq(opts and #opts, #safe - 2, "options after the script")
        eq(node.safe_options(proc, datadir .. "x", conf), nil, "a server working elsewhere: not proven")
        eq(node.safe_options(proc, datadir, "/other.cnf"), nil, "options naming another option file: not proven")
        put(P .. "/4200/comm", "bash\n")
        proc = node.parse_process((sh("sh -c " .. shell.quote(node.process_script(T .. "/pid", P)))))
        eq(proc.safe, nil, "a parent that is not mysqld_safe is not recorded")
        eq(node.parse_process("root\nsafe=@@@\ncwd=/\n").safe, nil, "not base64")

        -- replayed: in order, without --init-file (named), the replication switch once, at the end
        local m = setmetatable({ mysqld_safe = "/opt/g db/bin/mysqld_safe", conf = conf, os_user = "mysql",
                                 version = "8.0.26", safe_options = opts }, { __index = M })
        local args, init = mysqld.start_args(m)
        eq(init, "--init-file=/data/i/tmp/init.sql", "the init file named")
        eq(table.concat(args, "|"), "--defaults-file=" .. conf .. "|--user=mysql|--malloc-lib=/usr/lib/lib jemalloc.so|--ledir='q' \"d\"|--log-error=/x\ny|--skip-replica-start", "8.0.26's options")
        m.version = "8.0.25"
        eq(select(-1, table.unpack((mysqld.start_args(m)))), "--skip-slave-start", "8.0.25 spells it skip-slave-start")
        m.safe_options = { "--defaults-file=" .. conf, "--init_file", "/x.sql", "--loose-init-file=/y.sql", "--skip-replica-start=0", "--port=3308" }
        m.version = "9.7.4"
        args, init = mysqld.start_args(m)
        eq(table.concat(args, "|"), "--defaults-file=" .. conf .. "|--port=3308|--skip-replica-start", "other spellings dropped")
        eq(init, "--loose-init-file=/y.sql", "the last init file named")
        m.safe_options = { "--defaults-file=" .. conf }
        eq(select(2, mysqld.start_args(m)), nil, "no init file")
        -- through sh, a fake mysqld_safe gets exactly these arguments
        m.safe_options = opts; m.version = "9.7.4"
        m.mysqld_safe = T .. "/fake safe"
        put(m.mysqld_safe, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$0.args.tmp\" && mv \"$0.args.tmp\" \"$0.args\"\n")
        sh("chmod 755 " .. shell.quote(m.mysqld_safe))
        _, code = sh("sh -c " .. shell.quote(mysqld.start_command(m)))
        eq(code, 0, "start command")
        local got
        for _ = 1, 100 do
          local f = io.open(m.mysqld_safe .. ".args", "rb")
          if f then got = f:read("a"); f:close(); break end
          sleep(0.05)
        end
        eq(got, table.concat((mysqld.start_args(m)), "\0") .. "\0", "the arguments mysqld_safe got")
      end },
    { name = "site.start_command and stop_command templates", run = function()
        local m = setmetatable({ id = "10.0.1.1:3308", port = 3308, conf = "/data/i/my.cnf", datadir = "/data/i/dbdata",
                                 instance_dir = "/data/i", version = "8.0.26" }, { __index = M })
        local start = 'systemctl set-environment MYSQLD_OPTS="{extra_args}" && systemctl start mysqld@{port}'
        eq(mysqld.expand(start, m, "--skip-replica-start"),
           'systemctl set-environment MYSQLD_OPTS="--skip-replica-start" && systemctl start mysqld@3308', "systemd start")
        eq(mysqld.expand("svc stop {port} {conf} {datadir} {instance_dir}", m), "svc stop 3308 /data/i/my.cnf /data/i/dbdata /data/i", "every placeholder")
        local _, why = mysqld.expand("svc {prot}", m)
        assert(why and why:find("unknown placeholder {prot}", 1, true), tostring(why))
        _, why = mysqld.expand("svc stop {extra_args}", m)
        assert(why and why:find("{extra_args} belongs in start_command only", 1, true), tostring(why))
        local odd = setmetatable({ conf = "/data/i/my $(x).cnf" }, { __index = m })
        _, why = mysqld.expand("svc {conf}", odd, "x")
        assert(why and why:find("does not put into a shell command unquoted", 1, true), tostring(why))
        eq(mysqld.template_problem("start_command", m, start), nil, "a usable start")
        why = mysqld.template_problem("start_command", m, "systemctl start mysqld@{port}")
        assert(why and why:find("does not name {extra_args}", 1, true) and why:find("--skip-replica-start", 1, true), tostring(why))
        eq(mysqld.template_program("start_command", m, "A=1 B=2 /usr/bin/svc start {port} {extra_args}"), "/usr/bin/svc", "the program")
        eq(mysqld.template_program("start_command", m, "svc {port}"), nil, "no program for an unusable template")
        -- through sh: the expansion reaches the command as written
        local out = T .. "/tmpl.out"
        local cmd = mysqld.expand("printf '%s|' {port} \"{conf}\" {extra_args} > " .. out, m, "--skip-slave-start")
        local _, code = sh("sh -c " .. shell.quote(cmd))
        eq(code, 0, "ran")
        local f = assert(io.open(out)); eq(f:read("a"), "3308|/data/i/my.cnf|--skip-slave-start|", "what the command got"); f:close()
        -- unset: flashrun's own start and shutdown
        eq(mysqld.site_template("start_command"), nil, "no template configured here")
      end },
    { name = "clone statements", run = function()
        eq(clone.clone_local_sql("/data/i/flashback_restore_point"),
           "CLONE LOCAL DATA DIRECTORY = '/data/i/flashback_restore_point'", "local")
        eq(clone.clone_remote_sql({ host = "10.0.1.12", port = 3306 }, "dr", "p'w\\d", "/data/i/rp"),
           "CLONE INSTANCE FROM 'dr'@'10.0.1.12':3306 IDENTIFIED BY 'p''w\\\\d' DATA DIRECTORY = '/data/i/rp'", "remote, quoted")
        local d = { host = "10.0.1.12", port = 3306 }
        eq(clone.clone_remote_sql(d, "dr", "pw", "/rp", true),
           "CLONE INSTANCE FROM 'dr'@'10.0.1.12':3306 IDENTIFIED BY 'pw' DATA DIRECTORY = '/rp' REQUIRE SSL", "TLS required")
        eq(clone.clone_remote_sql(d, "dr", "pw", "/rp", false),
           "CLONE INSTANCE FROM 'dr'@'10.0.1.12':3306 IDENTIFIED BY 'pw' DATA DIRECTORY = '/rp' REQUIRE NO SSL", "TLS off")
        -- the clone plugin's TLS files: the CA only when [target] verifies, the client pair when set
        local f = clone.clone_tls_files({ ssl_mode = "verify_identity", ssl_ca = "/c/ca.pem", ssl_cert = "/c/x.pem", ssl_key = "/c/k.pem" })
        eq(#f, 3, "CA, certificate, key"); eq(f[1].var .. " " .. f[2].var .. " " .. f[3].var, "clone_ssl_ca clone_ssl_cert clone_ssl_key", "the variables")
        eq(#clone.clone_tls_files({ ssl_mode = "required", ssl_ca = "/c/ca.pem" }), 0, "required verifies nothing: no CA")
        eq(clone.clone_tls_dir(M), I .. "/flashrun_clone_tls", "in the instance directory")
        eq(clone.clone_tls_remove_script(M), "rm -rf -- '" .. I .. "/flashrun_clone_tls'", "removed after the clone and in a rollback")
        assert(not clone.remove_script(M):find("flashrun_clone_tls", 1, true), "not before the clone, which removes the restore point dir")
      end },
    { name = "a busy donor or recipient", run = function()
        eq(clone.clone_busy(3634, "Too many concurrent clone operations. Maximum allowed - 1."), true, "recipient")
        -- the lab's 9.7 donor, serving a clone an interrupted start left going (verbatim)
        eq(clone.clone_busy(3862, "127.0.134.1:3308: [3862] (HY000) Clone Donor Error: 3634 : Too many concurrent " ..
                                    "clone operations. Maximum allowed - 1.."), true, "donor")
        eq(clone.clone_busy(3862, "Clone Donor Error: 1045 : Access denied for user 'dr'@'10.0.1.13'."), false,
           "another donor error")
        eq(clone.clone_busy(1045, "Access denied"), false, "not a clone error")
        eq(clone.clone_busy(nil, nil), false, "no error")
      end },
    { name = "a clone still running into a node: clone_status where performance_schema is on, the processlist always", run = function()
        -- A fake server: @@performance_schema, clone_status's row and the processlist's CLONE
        -- threads as given; every query kept.
        local function srv(ps, state, threads, fail)
          local c = { seen = {} }
          function c:query(q)
            self.seen[#self.seen + 1] = q
            if fail and q:find(fail, 1, true) then return nil, "[1142] denied" end
            if q == "SELECT @@GLOBAL.performance_schema AS ps" then return { { ps = ps } } end
            if q == "SELECT STATE FROM performance_schema.clone_status" then return state and { { STATE = state } } or {} end
            if q == clone.RUNNING_CLONE_SQL then return threads or {} end
            error("unexpected query " .. q)
          end
          return c
        end
        eq(clone.running_clone(srv("1", "In Progress")), "performance_schema.clone_status says In Progress", "p_s on")
        eq(clone.running_clone(srv("1", "Completed")), false, "p_s on, the last clone completed")
        local c = srv("0", "In Progress", { { ID = "37", TIME = "2" } })
        eq(clone.running_clone(c), "connection 37 has been running a CLONE statement for 2 s (processlist)", "p_s off")
        for _, q in ipairs(c.seen) do assert(not q:find("clone_status", 1, true), "clone_status read with p_s off: " .. q) end
        eq(clone.running_clone(srv("1", "Failed", { { ID = "9", TIME = "0" } })),
           "connection 9 has been running a CLONE statement for 0 s (processlist)", "p_s on, a clone it does not show")
        eq(clone.running_clone(srv("0", nil, {})), false, "none")
        local r, e = clone.running_clone(srv("0", nil, {}, "PROCESSLIST"))
        eq(r, nil, "an unread processlist is not 'no clone'"); assert(tostring(e):find("cannot read the processlist", 1, true), tostring(e))
        -- the processlist is matched on the server: INFO (a CLONE INSTANCE's password) is never read
        assert(not clone.RUNNING_CLONE_SQL:match("SELECT[^F]*INFO"), clone.RUNNING_CLONE_SQL)
        assert(clone.RUNNING_CLONE_SQL:find("ID <> CONNECTION_ID()", 1, true), "its own session excluded")
      end },
    { name = "a re-run's clone: the earlier clone waited for before its directory is removed, 3634 and 1007 tried again", run = function()
        -- An interrupted run's clone runs into the node for two looks, then ends leaving its
        -- directory; the first CLONE gets 3634 (a clone the looks missed), the second 1007 (a
        -- directory created after the removal), the third is accepted. Every removal must come
        -- after the last look that saw a clone, and before every statement.
        local cluster = require "cluster"
        local saved = { ssh = cluster.ssh, connect = cluster.connect, run = cluster.run, read = cluster.read }
        local m = { id = "n1", host = "10.0.0.1", port = 3306, datadir = M.datadir, data_root = ROOT,
                    instance_dir = M.instance_dir, restore_point_dir = M.restore_point_dir }
        local events, looks, sent = {}, 0, 0
        local conn = { closed = false }
        function conn:query(q)
          if q == "SELECT @@GLOBAL.performance_schema AS ps" then return { { ps = "0" } } end
          if q == clone.RUNNING_CLONE_SQL then
            looks = looks + 1
            events[#events + 1] = looks <= 2 and "running" or "none"
            return looks <= 2 and { { ID = "37", TIME = tostring(looks) } } or {}
          end
          error("unexpected query " .. q)
        end
        function conn:exec(q)
          sent = sent + 1; events[#events + 1] = "clone"
          assert(q:find("^CLONE LOCAL"), q)
          if sent == 1 then return nil, "n1: [3634] (HY000) Too many concurrent clone operations. Maximum allowed - 1.", 3634 end
          if sent == 2 then return nil, "n1: [1007] (HY000) Can't create database '/rp'; database exists", 1007 end
          return 0
        end
        function conn:close() self.closed = true end
        cluster.ssh = function() return {} end
        cluster.connect = function() return conn end
        cluster.run = function(_, cmd)
          if cmd == clone.remove_script(m) then events[#events + 1] = "remove" end
          return ""
        end
        cluster.read = function() return "abc123\n3 300" end
        local ok, rec = pcall(clone.clone_into, m, clone.clone_local_sql(m.restore_point_dir), "a:1-5")
        for k, f in pairs(saved) do cluster[k] = f end
        eq(ok, true, "accepted in the end: " .. tostring(rec))
        eq(table.concat(events, " "), "running running none remove clone none remove clone none remove clone",
           "waited, then removed before every statement")
        eq(rec.digest, "abc123", "the record"); eq(conn.closed, true, "closed")
        -- a 1007 that persists (the directory comes back after every removal) is not retried for ever
        saved = { ssh = cluster.ssh, connect = cluster.connect, run = cluster.run, read = cluster.read }
        looks = 99; events = {}
        function conn:exec() events[#events + 1] = "clone"; return nil, "n1: [1007] (HY000) database exists", 1007 end
        cluster.ssh = function() return {} end
        cluster.connect = function() return conn end
        cluster.run = function() return "" end
        local ok2, e2 = pcall(clone.clone_into, m, clone.clone_local_sql(m.restore_point_dir), "a:1-5")
        for k, f in pairs(saved) do cluster[k] = f end
        eq(ok2, false, "failed"); assert(tostring(e2):find("n1: CLONE LOCAL failed: n1: [1007]", 1, true), tostring(e2))
        local sends = 0
        for _, ev in ipairs(events) do if ev == "clone" then sends = sends + 1 end end
        eq(sends, 4, "sent four times: the first and three more")
      end },
    { name = "variables", run = function()
        local before = { read_only = "ON", super_read_only = "ON", gtid_executed = "a:1-5", max_connections = "151", x = "1" }
        local after = { read_only = "OFF", super_read_only = "OFF", gtid_executed = "a:1-3", max_connections = "151", y = "2" }
        local d = variables.diff(before, after)
        local names = {}
        for _, x in ipairs(d) do names[#names + 1] = x.name .. "=" .. tostring(x.before) .. "/" .. tostring(x.after) end
        eq(table.concat(names, " "), "read_only=ON/OFF super_read_only=ON/OFF x=1/nil y=nil/2", "differences, gtid_executed expected")
        eq(variables.set_sql("super_read_only", "ON"), "SET GLOBAL super_read_only = ON", "ON bare")
        eq(variables.set_sql("max_connections", "151"), "SET GLOBAL max_connections = 151", "number bare")
        eq(variables.set_sql("init_connect", "SET x='1'"), "SET GLOBAL init_connect = 'SET x=''1'''", "text quoted")
        raises("variable name", variables.set_sql, "x; DROP", "1")
        local closing = variables.closing({ "init_file: '/x' before the drill, now ''", "super_read_only: 'ON' before the drill, now 'OFF' (x)",
                                            "offline_mode: 'ON' before the drill, now 'OFF'", "read_only_compressed: 'ON' before the drill, now 'OFF'" })
        eq(#closing, 2, "super_read_only and offline_mode, not init_file nor a look-alike name")
        eq(closing[1]:match("^[%w_]+"), "super_read_only", "first")
      end },
    { name = "a node gone during its start-up; a full filesystem named", run = function()
        -- The host as the fault matrix left it: the node refuses connections and has no process
        -- left (killed while starting, or failed to), its filesystem full. The wait ends at the
        -- first look at its processes, not after start_timeout; the error names the free space
        -- and what to run once there is room.
        local cluster = require "cluster"
        local saved = { try_connect = cluster.try_connect, read = cluster.read, run = cluster.run, ssh = cluster.ssh }
        local ran, looked = {}, 0
        cluster.ssh = function() return {} end
        cluster.run = function(_, cmd) ran[#ran + 1] = cmd; return "" end
        cluster.try_connect = function() return nil, "[2002] connection refused" end
        cluster.read = function(_, cmd)
          if cmd:find("^df ") then return "4096" end
          if cmd:find("/proc/", 1, true) then looked = looked + 1 end
          return ""
        end
        local n = { id = "n1", host = "10.0.0.1", port = 3306, conf = I .. "/my.cnf", pid_file = I .. "/mysqld.pid",
                    datadir = I .. "/dbdata", instance_dir = I, mysqld_safe = "/usr/bin/mysqld_safe", os_user = "mysql",
                    version = "9.7.4" }
        local t0 = now()
        local ok, e = pcall(service.back_in_service, n, true)
        for k, f in pairs(saved) do cluster[k] = f end
        eq(ok, false, "raised")
        e = tostring(e)
        assert(now() - t0 < 20, ("waited %.1f s for a node with no process"):format(now() - t0))
        eq(looked, 1, "one look at its processes")
        assert(ran[1] and ran[1]:find("mysqld_safe", 1, true), "started: " .. tostring(ran[1]))
        assert(e:find("n1 stopped during its start-up", 1, true), e)
        assert(e:find("has 4096 KiB free: too little for mysqld to start or write there. Free space there, then re-run plans/start.lua", 1, true), e)
      end },
    { name = "a node that answers SQL with no process found is neither shut down nor taken for down", run = function()
        -- A server run in a way flashrun does not recognise (a datadir through a symlink, no
        -- --defaults-file): no process matches, yet its port answers. shutdown must refuse (its
        -- data would be copied or swapped under it), sending nothing; a failed look at the
        -- processes is an error, not "no processes".
        local cluster = require "cluster"
        local saved = { try_connect = cluster.try_connect, read = cluster.read, run = cluster.run }
        local ran, closed = {}, false
        cluster.run = function(_, cmd) ran[#ran + 1] = cmd; return "" end
        cluster.try_connect = function() return { close = function() closed = true end } end
        cluster.read = function() return "" end
        local n = { id = "n1", host = "10.0.0.1", port = 3306, conf = I .. "/my.cnf", pid_file = I .. "/mysqld.pid",
                    datadir = I .. "/dbdata" }
        local ok, e = pcall(mysqld.shutdown, {}, n, true)
        eq(ok, false, "refused"); assert(closed, "the probe connection closed")
        assert(tostring(e):find("n1 answers SQL, but no mysqld process of it was found", 1, true), tostring(e))
        eq(#ran, 0, "nothing sent to the host")
        -- how far a swap went, unread (the probe's shell killed): an error, never a state
        cluster.read = function() return nil, "exit 255" end
        local rp = setmetatable({ restore_point_dir = I .. "/rp" }, { __index = n })
        local pok, perr = pcall(swap.progress, {}, rp)
        eq(pok, false, "an unread progress raised")
        assert(tostring(perr):find("n1: cannot tell how far its restore went: exit 255", 1, true), tostring(perr))
        cluster.read = function() return "" end
        cluster.try_connect = function() return nil, "[2002] connection refused" end
        ok, e = pcall(mysqld.shutdown, {}, n, true)
        eq(ok, true, "a node down and unanswering: " .. tostring(e)); eq(e, false, "was not running")
        cluster.read = function() return nil, "exit 255" end
        ok, e = pcall(mysqld.shutdown, {}, n, true)
        for k, f in pairs(saved) do cluster[k] = f end
        eq(ok, false, "an unread state raised")
        assert(tostring(e):find("n1: cannot read its processes: exit 255", 1, true), tostring(e))
      end },
    { name = "super_read_only lifted for INSTALL PLUGIN is put back, or the plugin step fails", run = function()
        -- A fake server: super_read_only ON; SET GLOBAL super_read_only = 1 either works or
        -- (a server that refuses it) leaves it OFF.
        local function server_conn(refuse_set_back)
          local c = { sro = "1", sent = {} }
          function c:query(q)
            if q:find("PLUGINS", 1, true) then return {} end
            if q == "SELECT @@GLOBAL.super_read_only AS v" then return { { v = self.sro } } end
            error("unexpected query " .. q)
          end
          function c:exec(q)
            self.sent[#self.sent + 1] = q
            if q == "SET GLOBAL super_read_only = 0" then self.sro = "0" end
            if q == "SET GLOBAL super_read_only = 1" then
              if refuse_set_back then return nil, "[1227] Access denied" end
              self.sro = "1"
            end
            return 0
          end
          return c
        end
        local c = server_conn(false)
        eq(clone.ensure_plugin(c, "n1"), true, "installed")
        eq(c.sro, "1", "super_read_only back ON")
        eq(c.sent[2], "INSTALL PLUGIN clone SONAME 'mysql_clone.so'", "installed while lifted")
        c = server_conn(true)
        local ok, e = pcall(clone.ensure_plugin, c, "n1")
        eq(ok, false, "a node left writable fails the step")
        assert(tostring(e):find("n1: super_read_only could not be set back to ON", 1, true), tostring(e))
      end },
    { name = "cleanup", run = function() sh("rm -rf " .. shell.quote(T)) end },
  },
}
