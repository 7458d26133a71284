-- restore_point.lua — the restore point of a standby node: a directory next to its datadir, on
-- its filesystem, that the clone plugin fills while the node keeps running (MySQL manual 7.6.6,
-- "The Clone Plugin"), and that stop swaps in for the node's data.
--
-- Strategies (site.restore_point):
--   local  every node clones its own data: CLONE LOCAL DATA DIRECTORY (8.0.17+), all at once.
--   donor  a replica frozen at the restore point (disabled in the router) is the donor; every
--          other node runs CLONE INSTANCE FROM donor … DATA DIRECTORY (8.0.17+), one at a time
--          (a donor serves one clone at a time: error 3634).
--   reflink  every node, at once, is shut down cleanly, its data directories (datadir, binary
--          and relay logs: all the swap puts back) are copied with `cp --reflink=always` (blocks
--          shared, not copied: XFS with reflink, btrfs) and it is started again without
--          replication; its variables and replica threads are put back as recorded.
--   auto   reflink where every node's data filesystem takes a reflink copy, local elsewhere
--          (decided at start by a test copy; journaled and printed).
-- A restore point is intact when its clone returned and was journaled, and its directory still
-- matches the manifest (names and sizes) recorded right after the clone.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "wait"
local mysqld = require "mysqld"
local variables = require "variables"
local M = {}

local Q = shell.quote

-- What the statements below need on the standby nodes (privileges.lua). local and donor clone
-- at start (fail_for: missing refuses under these strategies); every strategy clones in stop
-- when a restore point was damaged (taken again from the donor or a restored node), so under
-- the others a missing one is a warning: that repair would fail.
M.PRIVILEGES = {
  { on = "standby nodes", any = { "BACKUP_ADMIN" }, plans = "start stop", fail_for = "local donor auto",
    stmt = "CLONE LOCAL DATA DIRECTORY; serving CLONE INSTANCE FROM as the donor" },
  { on = "standby nodes", any = { "CLONE_ADMIN" }, plans = "start stop", fail_for = "donor",
    stmt = "CLONE INSTANCE FROM (donor strategy; in stop, a damaged restore point taken again)" },
  { on = "standby nodes", any = { "INSERT" }, object = "mysql.plugin", plans = "start",
    stmt = "INSTALL PLUGIN clone (when it is not active)" },
  { on = "standby nodes", any = { "DELETE" }, object = "mysql.plugin", plans = "start stop",
    stmt = "UNINSTALL PLUGIN clone (where start installed it)" },
}

-- The strategy asked for (checked when the configuration loads): local, donor, reflink or auto.
function M.strategy() return site.get("restore_point") end

-- The directories copied for a reflink restore point: every data directory of m, each under the
-- restore point by its path relative to the instance dir. { {node =, copy =}, ... }. Pure.
function M.reflink_dirs(m)
  local out = {}
  for _, d in ipairs(m.data_dirs or { m.datadir }) do
    assert(shell.is_under(d, m.instance_dir), "data dir outside the instance dir")
    out[#out + 1] = { node = d, copy = m.restore_point_dir .. d:sub(#m.instance_dir + 1) }
  end
  return out
end

-- The remote script that takes m's reflink restore point while m's server is down: a fresh
-- restore point dir, every data dir copied into it sharing its blocks (`--reflink=always`
-- fails rather than copying bytes), without the error log (stop keeps the node's current one).
-- It holds a flock on the instance dir: the copy of a run killed before its reply goes on on the
-- node, and a re-run's copy must not interleave with it (rm -rf under a running cp fails, and cp
-- -a into a directory the other cp created nests the copy inside it). Pure.
function M.reflink_script(m)
  local g = function(p) return Q(shell.guard(p, m.data_root)) end
  local lines = { "set -e", "exec 9<" .. g(m.instance_dir), "if command -v flock >/dev/null; then flock 9; fi",
                  "rm -rf -- " .. g(m.restore_point_dir), "mkdir -- " .. g(m.restore_point_dir) }
  for _, d in ipairs(M.reflink_dirs(m)) do
    lines[#lines + 1] = ("mkdir -p -- %s && cp -a --reflink=always -- %s %s"):format(
      Q(shell.dirname(d.copy)), g(d.node), g(d.copy))
  end
  for _, d in ipairs(M.reflink_dirs(m)) do
    if m.log_error and shell.is_under(m.log_error, d.node) then
      lines[#lines + 1] = "rm -f -- " .. Q(d.copy .. m.log_error:sub(#d.node + 1))
    end
  end
  lines[#lines + 1] = ("chown %s: -- %s"):format(Q(m.os_user), g(m.restore_point_dir))
  return table.concat(lines, "\n")
end

-- The remote probe that says whether m's instance dir takes a reflink copy: a copy of a small
-- file of the datadir, removed at once. Pure.
function M.reflink_probe(m)
  local t = Q(m.instance_dir .. "/.flashrun-reflink-probe")
  -- A regular file of the datadir: its first entry by name may be a directory (#clone, left by
  -- any clone, sorts first), which cp refuses whatever the filesystem.
  return ("f=$(find %s -maxdepth 1 -type f -print -quit 2>/dev/null); if [ -n \"$f\" ] && cp --reflink=always -- \"$f\" %s 2>/dev/null; then echo yes; else echo no; fi; rm -f -- %s")
    :format(Q(m.datadir), t, t)
end

-- Files of a datadir that are the node's own, not data: a clone does not carry them.
M.IDENTITY_FILES = { "auto.cnf", "mysqld-auto.cnf", "ca-key.pem", "ca.pem", "client-cert.pem", "client-key.pem",
                     "private_key.pem", "public_key.pem", "server-cert.pem", "server-key.pem" }

-- CLONE LOCAL DATA DIRECTORY = 'dir'. Pure.
function M.clone_local_sql(dir)
  return ("CLONE LOCAL DATA DIRECTORY = %s"):format(shell.sql_string(dir))
end

-- CLONE INSTANCE FROM 'user'@'host':port IDENTIFIED BY 'password' DATA DIRECTORY = 'dir'
-- [REQUIRE [NO] SSL]. ssl: true (REQUIRE SSL), false (REQUIRE NO SSL) or nil (no clause: MySQL
-- tries TLS and falls back to plain; MySQL manual, "CLONE Statement"). The statement takes no
-- IPv6 literal (verify refuses such a donor). Pure; the password is a registered secret, masked
-- wherever the statement is shown.
function M.clone_remote_sql(donor, user, password, dir, ssl)
  local tls = ssl == true and " REQUIRE SSL" or ssl == false and " REQUIRE NO SSL" or ""
  return ("CLONE INSTANCE FROM %s@%s:%d IDENTIFIED BY %s DATA DIRECTORY = %s%s"):format(
    shell.sql_string(user), shell.sql_string(donor.host), math.tointeger(donor.port),
    shell.sql_string(password), shell.sql_string(dir), tls)
end

-- Whether a clone from `donor` is encrypted (the ssl argument of clone_remote_sql), from
-- site.clone_ssl: on (true), off (false), or auto: as the donor's own replication channel
-- inside the standby, so the data travels the cluster as its replication already does: a channel
-- without TLS (Source_SSL_Allowed No or Ignored) gives REQUIRE NO SSL (false); one with TLS, or
-- no channel to read, leaves MySQL's own choice (nil: TLS where the donor offers it, else plain),
-- which never refuses a clone the site's servers can make. A site that asks for TLS on its
-- own connections ([target] ssl_mode required, verify_ca or verify_identity) gets REQUIRE SSL
-- under auto: the clone carries the site's data, and the recipient's login to the donor, between
-- the standby's nodes. TLS added 15-60 % to a clone's time on the lab, depending on load
-- (bench/restore_point.sh).
M.TLS_REQUIRED = { required = true, verify_ca = true, verify_identity = true }
function M.clone_ssl(donor)
  local how = site.get("clone_ssl")
  if how ~= "auto" then return how == "on" end
  if M.TLS_REQUIRED[config.target.ssl_mode] then return true end
  local c = cluster.try_connect("target", donor.host, donor.port)
  if not c then return nil end
  local ok, rs = pcall(server.replica_status, c)
  c:close()
  if not ok or not rs or not rs.ssl_allowed or rs.ssl_allowed == "Yes" then return nil end
  return false
end

-- The manifest of a directory: the SHA-256 of its "size path" lines (one per file, sorted), its
-- file count and bytes, printed as "DIGEST\nFILES BYTES": hashed on the host, so a large datadir
-- costs one line of journal. Pure.
function M.manifest_script(dir)
  return ("cd %s && find . -type f -printf '%%s %%P\\n' | LC_ALL=C sort | sha256sum | cut -c1-64 && "
          .. "find . -type f -printf '%%s\\n' | awk '{ n++; b += $1 } END { printf \"%%d %%d\\n\", n, b }'"):format(Q(dir))
end

-- { digest =, files =, bytes = } of dir on s, or nil when it does not exist.
function M.manifest(s, dir)
  local out = cluster.read(s, ("test -d %s || { echo absent; exit 0; }; %s"):format(Q(dir), M.manifest_script(dir)))
  if out == "absent" then return nil end
  local h, n, b = (out or ""):match("^(%x+)\n(%d+) (%d+)$")
  if not h then error(("cannot read the manifest of %s: %s"):format(dir, tostring(out)), 0) end
  return { digest = h, files = tonumber(n), bytes = tonumber(b) }
end

-- Whether the restore point recorded for m (rec = {dir, digest, ...}) is intact: why not, or nil.
function M.damage(m, rec)
  if not rec or not rec.digest then return "no clone was journaled" end
  local now_ = M.manifest(cluster.ssh("target", m.host), rec.dir)
  if not now_ then return rec.dir .. " is gone" end
  if now_.digest ~= rec.digest then
    return ("%s no longer matches its manifest (%d files, %d bytes; recorded %d files, %d bytes)")
      :format(rec.dir, now_.files, now_.bytes, rec.files, rec.bytes)
  end
  return nil
end

-- Runs fn() with super_read_only lifted when it is on (INSTALL/UNINSTALL PLUGIN write
-- mysql.plugin, which a super_read_only server refuses), then puts it back and reads it back:
-- a node left writable after a drill could take writes meant for nowhere. Returns fn's results.
local function lifted(conn, what, fn)
  local sro = tostring(server.variable(conn, "super_read_only")) == "1"
  if sro then
    local n, err = conn:exec("SET GLOBAL super_read_only = 0")
    if n == nil then error(("%s: cannot lift super_read_only: %s"):format(what, tostring(err)), 0) end
  end
  local r1, r2 = fn()
  if sro then
    conn:exec("SET GLOBAL super_read_only = 1")
    if tostring(server.variable(conn, "super_read_only")) ~= "1" then
      error(("%s: super_read_only could not be set back to ON: set it by hand (SET GLOBAL super_read_only = ON), "
             .. "then re-run the plan"):format(what), 0)
    end
  end
  return r1, r2
end

-- Makes sure the clone plugin is active on a server; returns true when this call installed it
-- (stop uninstalls it again). INSTALL PLUGIN writes mysql.plugin, not the binary log.
function M.ensure_plugin(conn, what)
  local rows = conn:query("SELECT PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = 'clone'")
  if rows and rows[1] and server.value(rows[1].PLUGIN_STATUS) == "ACTIVE" then return false end
  local n, err = lifted(conn, what, function() return conn:exec("INSTALL PLUGIN clone SONAME 'mysql_clone.so'") end)
  if n == nil and not tostring(err):find("already exists", 1, true) then
    error(("%s: cannot install the clone plugin: %s"):format(what, tostring(err)), 0)
  end
  return n ~= nil
end

-- Uninstalls the clone plugin where start installed it (m.plugin_installed). A node that does
-- not answer keeps it (said once): a rollback or stop goes on; the plugin is harmless.
function M.drop_plugin(m)
  if not m.plugin_installed then return end
  local c, err = cluster.try_connect("target", m.host, m.port)
  if not c then
    log.warn("%s: the clone plugin start installed stays installed (the node does not answer: %s); "
             .. "UNINSTALL PLUGIN clone there by hand if the site does not want it", m.id, tostring(err))
    return
  end
  lifted(c, m.id, function() return c:exec("UNINSTALL PLUGIN clone") end)
  c:close()
end

-- The CLONE statements running on a server, but the asking session's: a client's CLONE LOCAL or
-- CLONE INSTANCE runs in that client's connection thread, which stays in the processlist until
-- the clone ends, even when the client is gone (a killed run: the server notices only when it
-- writes the reply). On the lab's 9.7, throughout the clone: COMMAND 'Query', STATE 'starting',
-- INFO the statement; on a donor, the threads serving it show COMMAND 'clone', INFO NULL, and
-- are not matched. INFO is matched on the server and never read: a CLONE INSTANCE carries the
-- password. (MySQL manual, "The INFORMATION_SCHEMA PROCESSLIST Table", 8.0 and 9.x; without
-- PROCESS an account sees its own threads, which a clone of an earlier run is.)
M.RUNNING_CLONE_SQL = "SELECT ID, TIME FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' "
  .. "AND INFO LIKE 'CLONE %' AND ID <> CONNECTION_ID() ORDER BY ID"

-- Whether a clone into the server on conn runs now: a sentence saying what shows it, false when
-- none does, or nil, err when it cannot be read. Two records, since either may be missing:
-- performance_schema.clone_status (MySQL manual, "The clone_status Table": STATE 'In Progress'
-- while the last clone runs), read only where @@performance_schema is on (off, its tables are
-- empty: GreatDB sites and the lab run it off), and the processlist (RUNNING_CLONE_SQL), always.
function M.running_clone(conn)
  local ps, err = conn:query("SELECT @@GLOBAL.performance_schema AS ps")
  if not ps then return nil, "cannot read @@performance_schema: " .. tostring(err) end
  if tostring(server.value(ps[1] and ps[1].ps)) == "1" then
    local rows, e = conn:query("SELECT STATE FROM performance_schema.clone_status")
    if not rows then return nil, "cannot read performance_schema.clone_status: " .. tostring(e) end
    if rows[1] and server.value(rows[1].STATE) == "In Progress" then
      return "performance_schema.clone_status says In Progress"
    end
  end
  local rows, e = conn:query(M.RUNNING_CLONE_SQL)
  if not rows then return nil, "cannot read the processlist: " .. tostring(e) end
  if rows[1] then
    return ("connection %s has been running a CLONE statement for %s s (processlist)")
      :format(tostring(server.value(rows[1].ID)), tostring(server.value(rows[1].TIME)))
  end
  return false
end

-- Whether a CLONE statement failed only because a clone is already running where it needs one
-- not to be: 3634 ER_CLONE_TOO_MANY_CONCURRENT_CLONES on the recipient itself, or 3862
-- ER_CLONE_DONOR carrying the donor's 3634 (it serves another recipient: the lab's 9.7 answers
-- "Clone Donor Error: 3634 : Too many concurrent clone operations. Maximum allowed - 1.."). An
-- interrupted run's clone goes on in the servers after the client is gone; it ends by itself.
-- Pure: unit-tested.
function M.clone_busy(errno, err)
  if errno == 3634 then return true end
  return errno == 3862 and tostring(err):find("Error: 3634 ", 1, true) ~= nil
end

-- The remote command that removes m's restore point directory (guarded: strictly inside the data
-- root) under the reflink copy's flock on the instance dir (reflink_script): a copy a killed run
-- left going is waited for, not removed under. Pure.
function M.remove_script(m)
  return table.concat({ "exec 9<" .. Q(shell.guard(m.instance_dir, m.data_root)),
                        "if command -v flock >/dev/null; then flock 9; fi",
                        "rm -rf -- " .. Q(shell.guard(m.restore_point_dir, m.data_root)) }, "\n")
end

-- The remote command that removes the clone's TLS files on m (with_clone_tls). Pure.
function M.clone_tls_remove_script(m)
  return "rm -rf -- " .. Q(shell.guard(M.clone_tls_dir(m), m.data_root))
end

local function remove_dir(m)
  cluster.run(cluster.ssh("target", m.host), M.remove_script(m))
end

-- Waits until no clone runs into the server on conn (running_clone), saying so once; raises when
-- that cannot be read, or after site.clone_timeout.
local function wait_no_clone(conn, what)
  local told, fatal = false, nil
  wait.wait_until(what .. " runs no clone", function()
    local running, err = M.running_clone(conn)
    if running == nil then fatal = ("%s: %s"):format(what, err); return true end
    if running and not told then
      told = true
      log.info("%s: a clone is running into this node (%s; an interrupted run's goes on after it): waiting for it to end "
        .. "before its restore point directory is removed, up to %g s (site.clone_timeout)", what, running, site.num("clone_timeout"))
    end
    return not running, running
  end, site.num("clone_timeout"))
  if fatal then error(fatal, 0) end
end

-- Removes m's restore point directory (a rollback's), once no clone runs into m: rm -rf under a
-- clone an interrupted run left going fails ("Directory not empty": the clone writes on). A node
-- that does not answer runs no clone.
function M.remove(m)
  local c = cluster.try_connect("target", m.host, m.port)
  if c then
    local ok, err = pcall(wait_no_clone, c, m.id)
    c:close()
    if not ok then error(err, 0) end
  end
  remove_dir(m)
  -- a clone's TLS files an interrupted run left (with_clone_tls)
  cluster.run(cluster.ssh("target", m.host), M.clone_tls_remove_script(m))
end

-- Clones into m's restore point: `stmt` is the CLONE statement, sent on a connection to m.
-- Returns the journal record {dir, digest, files, bytes, gtids, seconds}.
-- A restore point directory no journal record vouches for (an interrupted run's: only a clone's
-- reply, read and journaled with its manifest, proves it complete) is never kept: it is removed
-- and taken again. Before removing it, a clone still running into m is waited for (running_clone):
-- an interrupted run's clone goes on in the server after the client is gone, and removing its
-- directory under it, or starting another, fails (3634; once it ends, the directory it leaves
-- makes the next CLONE fail with 1007 "database exists"). Each attempt waits, removes, then sends
-- the statement, until one is accepted: a busy donor (clone_busy) is waited for as long as a clone
-- may take (the clone it serves may be a whole node's, left going by an interrupted run).
function M.clone_into(m, stmt, gtids)
  local s = cluster.ssh("target", m.host)
  local conn = cluster.connect("target", m.host, m.port)
  local t0
  local n, err, errno, fatal
  local told, exists = {}, 0
  local function once(key, fmt, ...)
    if not told[key] then told[key] = true; log.info(fmt, ...) end
  end
  wait.wait_until(m.id .. " clone accepted", function()
    local running, rerr = M.running_clone(conn)
    if running == nil then fatal = ("%s: %s"):format(m.id, rerr); return true end
    if running then
      once("running", "%s: a clone is running into this node (%s; an interrupted run's goes on after it): waiting "
        .. "for it to end before its restore point directory is removed and taken again, up to %g s (site.clone_timeout)", m.id, running, site.num("clone_timeout"))
      return false, running
    end
    local ok, rm_err = pcall(remove_dir, m)
    if not ok then fatal = rm_err; return true end
    t0 = now()
    n, err, errno = conn:exec(stmt)
    if n ~= nil then return true end
    if M.clone_busy(errno, err) then
      once("busy", "%s: a clone is already running (%s): waiting for it to end, up to %g s (site.clone_timeout)", m.id,
           tostring(err), site.num("clone_timeout"))
      return false, err
    end
    -- 1007 ER_DB_CREATE_EXISTS on the directory just removed: a clone started between the look and
    -- the statement (an interrupted run's, sent just before it died) created it; tried again, a
    -- few times, each after waiting for that clone.
    if errno == 1007 and exists < 3 then exists = exists + 1; return false, err end
    return true
  end, site.num("clone_timeout"))
  conn:close()
  if fatal then error(fatal, 0) end
  if n == nil then error(("%s: %s failed: %s"):format(m.id, stmt:match("^(CLONE %u+)"), tostring(err)), 0) end
  -- The node's identity is not in a clone (auto.cnf: server_uuid; TLS keys; mysqld-auto.cnf:
  -- persisted variables): the restore point keeps the node's own, as they are now, so a SET
  -- PERSIST during the drill is thrown away with the rest.
  local id = {}
  for _, f in ipairs(M.IDENTITY_FILES) do
    id[#id + 1] = ("if [ -e %s/%s ]; then cp -p -- %s/%s %s/%s; fi"):format(Q(m.datadir), f, Q(m.datadir), f, Q(m.restore_point_dir), f)
  end
  cluster.run(s, table.concat(id, "; "))
  local secs = now() - t0
  local man = dry_run and { digest = "dry-run", files = 0, bytes = 0 } or M.manifest(s, m.restore_point_dir)
  if not man then error(("%s: the clone returned but %s does not exist"):format(m.id, m.restore_point_dir), 0) end
  log.info("%s: restore point %s: %d files, %.1f MiB in %.2f s", m.id, m.restore_point_dir, man.files,
           man.bytes / 2 ^ 20, secs)
  return { dir = m.restore_point_dir, digest = man.digest, files = man.files, bytes = man.bytes,
           gtids = gtids, seconds = secs }
end

-- When node m's data filesystem is (nearly) full, what to say about an error of start's there:
-- the space, and what to run once there is room; else nil. Nothing flashrun does makes room.
function M.full_hint(m)
  local rok, out = pcall(cluster.read, cluster.ssh("target", m.host),
                         "df -Pk -- " .. Q(m.instance_dir) .. " | awk 'NR == 2 { print $4 }'")
  local free = rok and tonumber(out)
  if not free or free >= site.num("disk_margin_mb") * 1024 then return nil end
  return ("%s's data filesystem (%s) has %d KiB free: too little for mysqld to start or write there. Free space there, "
    .. "then re-run plans/start.lua: it takes the restore points again (a node that is down is started) and opens "
    .. "the standby; then run plans/stop.lua to end the drill."):format(m.id, m.instance_dir, free)
end

-- Puts node m back in service the way it was recorded at start (after a restart of flashrun's):
-- started without replication, its global variables set back, its replica threads started
-- again when they ran. known_down as for mysqld.start. Returns nothing; raises when it does not
-- come up.
function M.back_in_service(m, known_down)
  local s = cluster.ssh("target", m.host)
  local ok, c = pcall(mysqld.start, s, m, known_down)
  if not ok then
    -- A server does not start on a full filesystem (nor, its blocks shared with a reflink copy,
    -- rewrite a page): the error says so, and what to run after.
    local hint = M.full_hint(m)
    error(hint and (tostring(c) .. "\n" .. hint) or c, 0)
  end
  if not c then return end -- a rehearsal
  for _, f in ipairs(variables.restore(c, m.variables or {})) do log.warn("%s: could not set back %s", m.id, f) end
  if m.replication and m.replication.running then
    local st = server.replica_status(c)
    if not (st and st.io_running and st.sql_running) then assert(c:exec(server.sql(c, "start_replica"))) end
  end
  c:close()
end

-- Takes m's reflink restore point: clean shutdown, copy, back in service. Returns the record.
function M.take_reflink(m, gtids)
  local s = cluster.ssh("target", m.host)
  local t0 = now()
  mysqld.shutdown(s, m)
  local t1 = now()
  cluster.run(s, M.reflink_script(m))
  local t2 = now()
  -- Started on a full filesystem, mysqld would retry its first page write for ever (every block
  -- is shared with the copy): it is left down, and the rollback removes the copy first.
  local hint = not dry_run and M.full_hint(m)
  if hint then error(("%s: its filesystem filled up while it was down for its copy: left down\n%s"):format(m.id, hint), 0) end
  local man = dry_run and { digest = "dry-run", files = 0, bytes = 0 } or M.manifest(s, m.restore_point_dir)
  M.back_in_service(m, true)
  log.info("%s: restore point %s (reflink): %d files, %.1f MiB shared; shutdown %.2f s, copy %.2f s, restart %.2f s",
           m.id, m.restore_point_dir, man.files, man.bytes / 2 ^ 20, t1 - t0, t2 - t1, now() - t2)
  -- The filesystem's use right after the restore point: the restore point shares every block the
  -- drill does not rewrite, so what the drill's changes hold later is the growth from here
  -- (status shows it). KiB, df's "Used" (POSIX -P format).
  local used = tonumber(cluster.read(s, "df -Pk -- " .. Q(m.instance_dir) .. " | awk 'NR == 2 { print $3 }'"))
  return { dir = m.restore_point_dir, digest = man.digest, files = man.files, bytes = man.bytes, gtids = gtids,
           seconds = now() - t0, reflink = true, fs_used_kb = used }
end

-- The clone plugin's TLS files for a clone between standby nodes (MySQL manual, "Configuring an
-- Encrypted Connection for Cloning": clone_ssl_ca, clone_ssl_cert, clone_ssl_key, read by the
-- recipient's mysqld): [target]'s ssl_ca when its ssl_mode verifies, ssl_cert and ssl_key (a
-- donor account REQUIRE X509) when set. Pure: {var, name, path}.
M.CLONE_TLS_DIR = "flashrun_clone_tls"
function M.clone_tls_files(c)
  local function set(v) return v ~= nil and v ~= "" and v or nil end
  local out = {}
  if tostring(c.ssl_mode):match("^verify") and set(c.ssl_ca) then
    out[#out + 1] = { var = "clone_ssl_ca", name = "ca.pem", path = c.ssl_ca }
  end
  if set(c.ssl_cert) and set(c.ssl_key) then
    out[#out + 1] = { var = "clone_ssl_cert", name = "cert.pem", path = c.ssl_cert }
    out[#out + 1] = { var = "clone_ssl_key", name = "key.pem", path = c.ssl_key }
  end
  return out
end
-- Where they go on the recipient's host: a directory of the instance (the restore point's own
-- must not exist before CLONE creates it), 0700, the files 0600, owned by the mysqld user.
function M.clone_tls_dir(m) return m.instance_dir .. "/" .. M.CLONE_TLS_DIR end

-- Copies the clone's TLS files to recipient m, sets clone_ssl_* for one clone, then puts their
-- values back and removes the files (M.remove, start's rollback, takes them too, for a run killed
-- meanwhile; not remove_script, which clone_into runs right before the clone).
local function with_clone_tls(conn, m, fn)
  local files = M.clone_tls_files(config.target)
  if #files == 0 then return fn() end
  local s = cluster.ssh("target", m.host)
  local dir = shell.guard(M.clone_tls_dir(m), m.data_root)
  local vars = {}
  for i, f in ipairs(files) do
    local h = io.open(f.path, "rb")
    if not h then error(("cannot read %s to copy it to %s for the clone"):format(f.path, m.id), 0) end
    local text = h:read("a"); h:close()
    cluster.run(s, ("umask 077 && mkdir -p -- %s && cat >%s && chown -- %s %s %s"):format(Q(dir), Q(dir .. "/" .. f.name),
      Q(m.os_user), Q(dir), Q(dir .. "/" .. f.name)), { stdin = text })
    vars[i] = f.var
  end
  local before = server.variables(conn, vars)
  for _, f in ipairs(files) do
    assert(conn:exec(("SET GLOBAL %s = %s"):format(f.var, shell.sql_string(dir .. "/" .. f.name))))
  end
  local ok, res = pcall(fn)
  for _, f in ipairs(files) do
    local b = before[f.var]
    conn:exec(("SET GLOBAL %s = %s"):format(f.var, b ~= nil and shell.sql_string(tostring(b)) or "DEFAULT"))
  end
  cluster.run(s, M.clone_tls_remove_script(m))
  if not ok then error(res, 0) end
  return res
end

-- Sets clone_valid_donor_list on a recipient for one clone and puts its value back after.
local function with_valid_donor(conn, donor, fn)
  local before = server.variable(conn, "clone_valid_donor_list")
  assert(conn:exec(("SET GLOBAL clone_valid_donor_list = %s"):format(shell.sql_string(donor.host .. ":" .. donor.port))))
  local ok, res = pcall(fn)
  conn:exec(("SET GLOBAL clone_valid_donor_list = %s"):format(before and shell.sql_string(tostring(before)) or "DEFAULT"))
  if not ok then error(res, 0) end
  return res
end

-- Takes the restore point of every node in `nodes` (site models), holding `gtids`: local clones
-- all at once, or clones from `donor` one at a time. Nodes already recorded in `done`
-- (id → record) are skipped. Returns id → record.
function M.take(strategy, nodes, gtids, donor, done)
  done = done or {}
  local todo = {}
  for _, m in ipairs(nodes) do if not done[m.id] then todo[#todo + 1] = m end end
  local out = {}
  for id, r in pairs(done) do out[id] = r end
  if strategy == "local" or strategy == "reflink" then
    local recs = cluster.on_each("taking restore points", todo, function(m)
      if strategy == "reflink" then return M.take_reflink(m, gtids) end
      return M.clone_into(m, M.clone_local_sql(m.restore_point_dir), gtids)
    end)
    for i, m in ipairs(todo) do out[m.id] = recs[i] end
  else
    local user, password = config.target.mysql_user, config.target.mysql_password
    local ssl -- true, false or nil: not an and/or expression, which would turn false into nil
    if #todo > 0 then ssl = M.clone_ssl(donor) end
    for _, m in ipairs(todo) do
      local c = cluster.connect("target", m.host, m.port)
      out[m.id] = with_valid_donor(c, donor, function()
        return with_clone_tls(c, m, function()
          return M.clone_into(m, M.clone_remote_sql(donor, user, password, m.restore_point_dir, ssl), gtids)
        end)
      end)
      c:close()
    end
  end
  return out
end

return M
