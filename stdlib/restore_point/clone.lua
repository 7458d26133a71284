-- restore_point.clone — what the clone strategies (local, donor) share, and what every strategy
-- needs for stop's repair of a damaged restore point: the clone plugin (MySQL manual 7.6.6, "The
-- Clone Plugin", 8.0.17+), the CLONE statements, a clone into a node's restore point directory
-- that survives an interrupted run's clone, and the clone's TLS files.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local wait = require "flashrun.wait"
local log = require "flashrun.log"
local now = require("flashrun.sched").now
local rehearsal = require "flashrun.rehearsal"
local settings = require "flashrun.settings"
local manifest = require "restore_point.manifest"
local progress = require "flashrun.progress"
local clone_progress = require "clone_progress"
local M = {}

local Q = shell.quote

-- [target]'s settings.
local function target() return settings.current().target end

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
-- (bench/restore_point.sh, now bench/scale.sh).
M.TLS_REQUIRED = { required = true, verify_ca = true, verify_identity = true }
-- requires_tls([clone_ssl, ssl_mode]) -> whether a clone runs REQUIRE SSL: clone_ssl (default
-- site.clone_ssl) on, or auto under ssl_mode (default [target]'s) required or stronger. Pure
-- with both given.
function M.requires_tls(clone_ssl, ssl_mode)
  clone_ssl = clone_ssl or site.get("clone_ssl")
  ssl_mode = ssl_mode or target().ssl_mode
  return clone_ssl == "on" or (clone_ssl == "auto" and M.TLS_REQUIRED[ssl_mode] == true)
end
function M.clone_ssl(donor)
  local how = site.get("clone_ssl")
  if how ~= "auto" then return how == "on" end
  if M.requires_tls(how) then return true end
  local c = cluster.try_connect("target", donor.host, donor.port)
  if not c then return nil end
  local ok, rs = pcall(server.replica_status, c)
  c:close()
  if not ok or not rs or not rs.ssl_allowed or rs.ssl_allowed == "Yes" then return nil end
  return false
end

-- Makes sure the clone plugin is active on a server; returns true when this call installed it
-- (stop uninstalls it again). INSTALL PLUGIN writes mysql.plugin, not the binary log.
function M.ensure_plugin(conn, what)
  local rows = conn:query("SELECT PLUGIN_STATUS FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = 'clone'")
  if rows and rows[1] and server.value(rows[1].PLUGIN_STATUS) == "ACTIVE" then return false end
  local n, err = server.lifted(conn, what, function() return conn:exec("INSTALL PLUGIN clone SONAME 'mysql_clone.so'") end)
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
  server.lifted(c, m.id, function() return c:exec("UNINSTALL PLUGIN clone") end)
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
    -- Its progress, sampled beside it (the rows of the clone before told apart by their marker:
    -- clone_progress.marker).
    local _, since = pcall(function()
      return clone_progress.enabled(conn) == true and clone_progress.marker(clone_progress.read(conn)) or nil
    end)
    n, err, errno = progress.during({ node = m.id, task = "clone", unit = "bytes" },
                                    function() return conn:exec(stmt) end, clone_progress.clone_sampler(m, since))
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
  local man = manifest.taken(s, m)
  log.info("%s: restore point %s: %d files, %.1f MiB in %.2f s", m.id, m.restore_point_dir, man.files,
           man.bytes / 2 ^ 20, secs)
  return { dir = m.restore_point_dir, digest = man.digest, files = man.files, bytes = man.bytes,
           gtids = gtids, seconds = secs }
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
  local files = M.clone_tls_files(target())
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

-- Clones into every node of `nodes` (node models) from `donor` ({id, host, port}), one at a time
-- (a donor serves one clone at a time: error 3634), each on a connection to the recipient with
-- the donor allowed (clone_valid_donor_list) and the clone's TLS files in place. Returns id →
-- record (clone_into).
function M.from(donor, nodes, gtids)
  local out = {}
  if #nodes == 0 then return out end
  local user, password = target().mysql_user, target().mysql_password
  local ssl = M.clone_ssl(donor) -- true, false or nil: not an and/or expression, which would turn false into nil
  for _, m in ipairs(nodes) do
    local c = cluster.connect("target", m.host, m.port)
    out[m.id] = with_valid_donor(c, donor, function()
      return with_clone_tls(c, m, function()
        return M.clone_into(m, M.clone_remote_sql(donor, user, password, m.restore_point_dir, ssl), gtids)
      end)
    end)
    c:close()
  end
  return out
end

-- Settings the clone plugin checks before any data moves (errors 3864-3870): donor and recipient
-- must agree on these.
local CLONE_MATCH = { "version", "version_compile_os", "version_compile_machine", "character_set_server",
                      "collation_server", "innodb_page_size", "innodb_data_file_path" }

-- fingerprint(conn) -> {"name=value"} of CLONE_MATCH and the active plugins, in order: compared
-- across the standby nodes, any of which may be the donor.
function M.fingerprint(conn)
  local v = server.variables(conn, CLONE_MATCH)
  local parts = {}
  for _, k in ipairs(CLONE_MATCH) do parts[#parts + 1] = k .. "=" .. tostring(v[k]) end
  local rows = conn:query("SELECT PLUGIN_NAME FROM information_schema.PLUGINS WHERE PLUGIN_STATUS = 'ACTIVE' AND PLUGIN_TYPE <> 'INFORMATION SCHEMA' ORDER BY PLUGIN_NAME")
  local pl = {}
  for _, r in ipairs(rows or {}) do pl[#pl + 1] = tostring(server.value(r.PLUGIN_NAME)) end
  parts[#parts + 1] = "plugins=" .. table.concat(pl, ",")
  return parts
end

-- offers_tls(conn) -> whether the server offers TLS: status Ssl_server_not_after, the expiry of
-- the certificate its TLS context loaded, is empty when it has none (no certificate, or TLS
-- disabled by a failed ALTER INSTANCE RELOAD TLS, which leaves Current_tls_cert naming the
-- configured file; seen on 9.7.4).
function M.offers_tls(conn)
  local rows = conn:query("SHOW GLOBAL STATUS LIKE 'Ssl_server_not_after'")
  local v = rows and rows[1] and server.value(rows[1].Value)
  return v ~= nil and tostring(v) ~= ""
end


return M
