-- checks/clone.lua — what a standby node tells of the clone plugin's needs (MySQL manual,
-- "Clone Plugin Limitations"), read over its SQL connection; checks/disk.lua judges them with
-- the restore point.
local shell = require "shell"
local server = require "server"
local M = {}

-- limits(conn, datadir) -> a list of what the clone cannot carry (empty when none): user tables
-- in another engine than InnoDB (they would come back empty), tablespaces outside the datadir (a
-- local clone refuses them). (The privileges it needs are checked with every other need:
-- privileges.lua.)
function M.limits(conn, datadir)
  local bad = {}
  local rows, err = conn:query("SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
    .. "AND ENGINE <> 'InnoDB' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
    .. "ORDER BY TABLE_SCHEMA, TABLE_NAME LIMIT 20")
  -- Unread is a problem, not "none": a table the clone cannot carry would come back empty.
  if not rows then bad[#bad + 1] = "the tables' engines could not be read: " .. tostring(err) end
  for _, r in ipairs(rows or {}) do
    bad[#bad + 1] = ("table %s.%s is %s: a clone carries only InnoDB data"):format(server.value(r.TABLE_SCHEMA),
      server.value(r.TABLE_NAME), tostring(server.value(r.ENGINE)))
  end
  rows, err = conn:query("SELECT DISTINCT FILE_NAME FROM information_schema.FILES WHERE FILE_NAME LIKE '/%'")
  if not rows then bad[#bad + 1] = "the tablespace files could not be read: " .. tostring(err) end
  local dd = shell.normpath(datadir)
  for _, r in ipairs(rows or {}) do
    local f = shell.normpath(tostring(server.value(r.FILE_NAME) or ""))
    if f and dd and not shell.is_under(f, dd) then
      bad[#bad + 1] = ("tablespace file %s is outside the datadir: a clone cannot take it"):format(f)
    end
  end
  return bad
end

-- active(conn) -> whether the clone plugin is active on the server.
function M.active(conn)
  local rows = conn:query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone' AND PLUGIN_STATUS = 'ACTIVE'")
  return rows and #rows > 0
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

-- The ssl_mode values under which clone_ssl = auto means REQUIRE SSL (restore_point.clone_ssl).
local REQUIRES_TLS = { required = true, verify_ca = true, verify_identity = true }

-- requires_tls(clone_ssl, ssl_mode) -> whether a clone runs REQUIRE SSL: site.clone_ssl = on, or
-- auto under [target] ssl_mode (given) required or stronger.
function M.requires_tls(clone_ssl, ssl_mode)
  return clone_ssl == "on" or (clone_ssl == "auto" and REQUIRES_TLS[ssl_mode]) or false
end

return M
