-- site.lua — where each node keeps its data, configuration and binaries.
-- Everything is derived from the live server (@@datadir, @@basedir, @@pid_file, and the running
-- mysqld's --defaults-file read from /proc over ssh) and can be overridden by [site] keys in the
-- configuration or --set site.KEY=VALUE. Nothing about /data/mysqldata, /data/app/mysql-<ver> or
-- my<5 chars>.conf is assumed.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local settings = require "flashrun.settings"
local M = {}

-- [site] settings: their keys, types and defaults are the schema's (runtime/schema.c; README
-- "Site settings"). They are checked when the configuration loads, from every source, so a
-- misspelt or malformed setting stops the run before any step.
local KEYS = settings.KEYS.site


-- The value of a [site] setting, its default when unset. An unknown key is a mistake in the
-- calling code, not in the configuration.
function M.get(key)
  local k = KEYS[key]
  if not k then error(("site.get: no [site] setting %q in the schema"):format(tostring(key)), 2) end
  local v = config.site and config.site[key]
  if v == nil or v == "" then v = k.default end
  return v
end

function M.num(key) return tonumber(M.get(key)) or error("site." .. key .. " must be a number", 0) end

local function path_setting(key)
  local v = M.get(key)
  if v == nil or v == "" then return nil end
  local p = shell.normpath(v)
  if not p then error(("site.%s=%q is not a clean absolute path"):format(key, v), 0) end
  return p
end

-- The running mysqld's owner and command line (one argument per line), from its pid file, in
-- one round trip.
local function process_of(s, pid_file)
  local out = cluster.read(s, ("pid=$(cat %s) && case $pid in ''|*[!0-9]*) exit 1;; esac && stat -c '%%U' /proc/$pid && tr '\\000' '\\n' < /proc/$pid/cmdline")
    :format(shell.quote(pid_file)))
  local user, args = (out or ""):match("^([^\n]+)\n(.*)$")
  if not user then return nil end
  return { args = args, user = user }
end

-- Builds the site model of one node. conn: SQL connection to the node; s: ssh session to its host.
function M.discover(node, conn, s)
  local v = server.variables(conn, { "datadir", "basedir", "pid_file", "log_error" })
  local datadir = shell.normpath(v.datadir or "")
  if not datadir then error(node.id .. ": @@datadir is not a clean absolute path", 0) end
  local basedir = path_setting("basedir") or shell.normpath(v.basedir or "")
  local pid_file = v.pid_file or ""
  if pid_file:sub(1, 1) ~= "/" then pid_file = datadir .. "/" .. pid_file end
  local _, _, _, vtext = server.version(conn)

  local proc = process_of(s, pid_file) or { args = "" }
  local conf = path_setting("conf_file")
  if not conf then
    for a in proc.args:gmatch("[^\n]+") do
      local f = a:match("^%-%-defaults%-file=(.+)$")
      if f then conf = shell.normpath(f) end
    end
  end
  if not conf then
    error(node.id .. ": cannot find the mysqld --defaults-file; set site.conf_file", 0)
  end
  local instance_dir = path_setting("instance_dir") or shell.dirname(datadir)
  local data_root = path_setting("data_root")
  if not data_root then
    data_root = shell.dirname(instance_dir)
    if data_root == "/" then data_root = instance_dir end
  end
  if instance_dir == "/" then error(node.id .. ": the datadir sits directly under /; set site.instance_dir and site.data_root", 0) end
  local bin = basedir and (basedir .. "/bin/") or ""
  local m = {
    id = node.id, host = node.host, port = node.port, name = node.name, role = node.role,
    version = vtext,
    datadir = datadir, instance_dir = instance_dir, data_root = data_root, conf = conf,
    basedir = basedir, pid_file = pid_file,
    mysqld = path_setting("mysqld") or (bin .. "mysqld"),
    mysqld_safe = path_setting("mysqld_safe") or (bin .. "mysqld_safe"),
    mysql = path_setting("mysql") or (bin .. "mysql"),
    os_user = M.get("os_user") ~= "" and M.get("os_user") or proc.user or "mysql",
    log_error = shell.normpath(tostring(v.log_error or "")),
    restore_point_dir = path_setting("restore_point_dir") or (instance_dir .. "/flashback_restore_point"),
  }
  if not shell.is_name(m.os_user) then error(node.id .. ": unusable os user " .. tostring(m.os_user), 0) end
  for _, k in ipairs({ "mysqld", "mysqld_safe", "mysql", "conf", "restore_point_dir" }) do
    if not shell.is_path(m[k]) then error(("%s: %s path %q is not clean"):format(node.id, k, tostring(m[k])), 0) end
  end
  if not shell.is_under(m.restore_point_dir, m.data_root) then
    error(("%s: restore point dir %s is not under the data root %s; adjust site.restore_point_dir or site.data_root")
          :format(node.id, m.restore_point_dir, m.data_root), 0)
  end
  if not shell.is_under(m.datadir, m.data_root) then
    error(("%s: datadir %s is not under the data root %s; set site.data_root"):format(node.id, m.datadir, m.data_root), 0)
  end
  return m
end

-- Server variables naming where a server writes data besides its datadir.
M.DATA_VARIABLES = { "log_bin_basename", "relay_log_basename", "innodb_log_group_home_dir",
                     "innodb_undo_directory", "innodb_data_home_dir" }

-- Their values on a live server (read from the server, not its option file: includes and
-- command-line options count too).
function M.data_variables(conn)
  return server.variables(conn, M.DATA_VARIABLES)
end

-- Directories node m's server writes data to: its datadir first, then every binary log, relay
-- log, redo, undo or system tablespace directory under the instance dir but outside the datadir.
-- Those are swapped together with the datadir in stop, or the old binary logs would bring the
-- drill's GTIDs back. vars: M.data_variables. Second result: the ones outside the instance dir,
-- { {variable =, dir =}, ... }, which stop could not swap: the caller refuses.
function M.data_dirs(m, vars)
  local list, outside, set = { m.datadir }, {}, { [m.datadir] = true }
  for _, name in ipairs(M.DATA_VARIABLES) do
    local v = vars[name]
    v = (v ~= nil and v ~= false) and tostring(v) or ""
    if v ~= "" and v ~= "NULL" then
      local p = shell.normpath(v:sub(1, 1) == "/" and v or (m.datadir .. "/" .. v))
      local d = p and (name:find("basename", 1, true) and shell.dirname(p) or p)
      if not d then -- "..", "//": not worth guessing where a swap would have to go
        outside[#outside + 1] = { variable = name, dir = v, unclear = true }
      elseif not (d == m.datadir or shell.is_under(d, m.datadir)) and not set[d] then
        set[d] = true
        if name:match("^innodb") then
          -- A clone writes redo, undo and the system tablespace into the restore point
          -- directory itself: stop would have to scatter them; not done (yet), so refused.
          outside[#outside + 1] = { variable = name, dir = d, innodb = true }
        elseif shell.is_under(d, m.instance_dir) then list[#list + 1] = d
        else outside[#outside + 1] = { variable = name, dir = d } end
      end
    end
  end
  return list, outside
end

-- The refusal for data directories stop could not swap (data_dirs' second result), or nil.
function M.outside_message(m, outside)
  if #outside == 0 then return nil end
  local what, innodb = {}, false
  for _, o in ipairs(outside) do
    what[#what + 1] = ("@@%s in %s%s"):format(o.variable, o.dir, o.unclear and " (not a clean path)" or "")
    innodb = innodb or o.innodb
  end
  if innodb then
    return ("%s keeps InnoDB files outside its datadir %s (%s): a cloned restore point holds them inside "
            .. "the datadir, and stop cannot put them back there; not supported"):format(m.id, m.datadir, table.concat(what, ", "))
  end
  return ("%s writes data outside its instance dir %s (%s): stop could not put the restore point "
          .. "there. Set site.instance_dir (and site.data_root) to a directory holding the datadir and "
          .. "these, on one filesystem"):format(m.id, m.instance_dir, table.concat(what, ", "))
end

return M
