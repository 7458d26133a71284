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

-- Kept for the plans that call it: the check now happens at load.
function M.check_settings() end

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
    side_port = M.num("side_port"),
    side_dir = path_setting("side_dir") or (instance_dir .. "/flashback_side"),
  }
  if not shell.is_name(m.os_user) then error(node.id .. ": unusable os user " .. tostring(m.os_user), 0) end
  for _, k in ipairs({ "mysqld", "mysqld_safe", "mysql", "conf", "side_dir" }) do
    if not shell.is_path(m[k]) then error(("%s: %s path %q is not clean"):format(node.id, k, tostring(m[k])), 0) end
  end
  if not shell.is_under(m.side_dir, m.data_root) then
    error(("%s: side dir %s is not under the data root %s; adjust site.side_dir or site.data_root"):format(node.id, m.side_dir, m.data_root), 0)
  end
  if not shell.is_under(m.datadir, m.data_root) then
    error(("%s: datadir %s is not under the data root %s; set site.data_root"):format(node.id, m.datadir, m.data_root), 0)
  end
  return m
end

-- Keys whose values are paths that must not be shared between the node and its side instance.
local PATH_KEYS = {
  datadir = true, socket = true, ["pid-file"] = true, ["log-error"] = true, tmpdir = true,
  ["log-bin"] = true, ["relay-log"] = true, ["log-bin-index"] = true, ["relay-log-index"] = true,
  ["innodb-data-home-dir"] = true, ["innodb-log-group-home-dir"] = true, ["innodb-undo-directory"] = true,
  ["innodb-tmpdir"] = true, ["general-log-file"] = true, ["slow-query-log-file"] = true,
  ["innodb-temp-tablespaces-dir"] = true, ["innodb-redo-log-archive-dirs"] = true,
  ["mysqlx-socket"] = true, ["secure-file-priv"] = true, ["log-slave-updates"] = false,
}
-- Keys the side instance must not inherit (ports, replication start, routing identity).
local DROP_KEYS = {
  port = true, ["mysqlx-port"] = true, ["admin-port"] = true, ["report-port"] = true, ["report-host"] = true,
  mysqlx = true, ["skip-slave-start"] = true, ["skip-replica-start"] = true,
  ["super-read-only"] = true, ["read-only"] = true, ["bind-address"] = true,
  ["loose-group-replication-start-on-boot"] = true, ["group-replication-start-on-boot"] = true,
  ["plugin-load"] = false, user = true, ["init-file"] = true,
}

local function canon(k) return (k:lower():gsub("_", "-"):gsub("^loose%-", "")) end

-- Derives the side instance's option file from the node's: every path under the instance dir is
-- moved under the side dir, paths elsewhere get a private copy under the side dir, ports and
-- replication auto-start are replaced. Returns the text and the list of directories to create.
function M.side_conf(m, conf_text, version)
  local out, dirs, seen = {}, { [m.side_dir .. "/dbdata"] = true, [m.side_dir .. "/tmp"] = true }, false
  local section
  local function remap(key, v)
    local p = shell.normpath(v)
    if not p then return v end   -- relative paths stay relative to the (side) datadir
    if p == m.instance_dir or shell.is_under(p, m.instance_dir) then
      p = m.side_dir .. p:sub(#m.instance_dir + 1)
    else
      p = m.side_dir .. "/ext/" .. shell.basename(p)
    end
    return p
  end
  local function add_dir_of(key, p)
    if not shell.is_path(p) then return end
    local isdir = key:find("dir", 1, true) or key == "secure-file-priv"
    dirs[isdir and p or shell.dirname(p)] = true
  end
  local overrides = {
    "port = " .. m.side_port,
    "mysqlx = OFF",
    "datadir = " .. m.side_dir .. "/dbdata",
    "socket = " .. m.side_dir .. "/mysqld.sock",
    "pid-file = " .. m.side_dir .. "/mysqld.pid",
    "log-error = " .. m.side_dir .. "/error.log",
    "tmpdir = " .. m.side_dir .. "/tmp",
    server.sql({ server.version_numbers(version) }, "skip_replica_start") .. " = ON",
    "bind-address = " .. m.host,
  }
  -- The node's own account, whoever starts it (mysqld switches to it when started as root).
  if m.os_user and m.os_user ~= "" then overrides[#overrides + 1] = "user = " .. m.os_user end
  -- The side instance only receives a clone and then idles during the drill: a second buffer
  -- pool the size of the node's would double what the host must hold.
  local bp = M.get("side_buffer_pool")
  if bp == "node" then bp = "" end
  if bp ~= "" then overrides[#overrides + 1] = "innodb_buffer_pool_size = " .. bp end
  local fixed = { datadir = true, socket = true, ["pid-file"] = true, ["log-error"] = true, tmpdir = true }
  for line in (conf_text .. "\n"):gmatch("([^\n]*)\n") do
    local sec = line:match("^%s*%[([^%]]+)%]")
    if sec then
      section = sec:lower()
      out[#out + 1] = line
      if section == "mysqld" and not seen then
        seen = true
        for _, o in ipairs(overrides) do out[#out + 1] = o end
      end
    elseif section and (section == "mysqld" or section:match("^mysqld%-") or section == "server" or section == "mysqld_safe" or section == "client" or section == "mysql") then
      local k, v = line:match("^%s*([%w_%-%.]+)%s*=%s*(.-)%s*$")
      local bare = (not k) and line:match("^%s*([%w_%-%.]+)%s*$")
      local ck = canon(k or bare or "")
      if (k or bare) and (DROP_KEYS[ck] or fixed[ck] or (ck == "innodb-buffer-pool-size" and bp ~= "")) and section ~= "client" and section ~= "mysql" then
        out[#out + 1] = "# (flashrun side instance) " .. line
      elseif k and (PATH_KEYS[ck] or ck == "socket" or ck == "pid-file") then
        local vv = v:gsub('^"(.*)"$', "%1")
        local nv = remap(ck, vv)
        if section == "client" or section == "mysql" then
          if ck == "socket" then nv = m.side_dir .. "/mysqld.sock" end
        else
          add_dir_of(ck, nv)
        end
        out[#out + 1] = k .. " = " .. nv
      elseif k and (ck == "port") then
        out[#out + 1] = k .. " = " .. m.side_port
      else
        out[#out + 1] = line
      end
    else
      out[#out + 1] = line
    end
  end
  if not seen then
    out[#out + 1] = "[mysqld]"
    for _, o in ipairs(overrides) do out[#out + 1] = o end
  end
  local dl = {}
  for d in pairs(dirs) do if shell.is_under(d, m.side_dir) then dl[#dl + 1] = d end end
  table.sort(dl)
  return table.concat(out, "\n") .. "\n", dl
end

-- The path options in `mysqld --print-defaults` output (the side instance's effective options,
-- includes resolved) that still name something outside the side dir: { "key=value", ... }.
-- The last occurrence of an option is the one that counts.
function M.foreign_paths(m, printed)
  local args = (printed:match("arguments:%s*\n(.*)$") or printed):gsub("%s+%-%-", "\n--")
  local last, order = {}, {}
  for line in ("\n" .. args .. "\n"):gmatch("\n%-%-([^\n]*)") do
    local k, v = line:match("^([%w_%-%.]+)=(.-)%s*$")
    if k then
      local ck = canon(k)
      if PATH_KEYS[ck] then
        if not last[ck] then order[#order + 1] = ck end
        last[ck] = { key = k, value = v }
      end
    end
  end
  local bad = {}
  for _, ck in ipairs(order) do
    local x = last[ck]
    if x.value:sub(1, 1) == "/" then
      local p = shell.normpath(x.value)
      if not (p and (p == m.side_dir or shell.is_under(p, m.side_dir))) then bad[#bad + 1] = x.key .. "=" .. x.value end
    end
  end
  return bad
end

-- The side instance's option file for node m (side_conf of the node's own), checked against
-- what mysqld would really use: the derived file moves every path it names, but an !include in
-- the node's conf could still point the side instance at the node's binary logs or socket.
-- mysqld reads the text from stdin, so the check writes nothing (verify runs it too).
-- Returns the text and the directories to create, or nil and why. s: ssh session to m's host.
function M.side_option_file(m, s)
  local conf_text, err = cluster.read(s, "cat " .. shell.quote(m.conf))
  if not conf_text then return nil, ("%s: cannot read %s: %s"):format(m.id, m.conf, tostring(err)) end
  local text, dirs = M.side_conf(m, conf_text, m.version)
  local cmd = shell.quote(m.mysqld) .. " --defaults-file=/dev/stdin --print-defaults"
  local printed, perr = cluster.read(s, cmd, { stdin = text })
  if not printed then return nil, ("%s: %s failed: %s"):format(m.id, cmd, tostring(perr)) end
  local foreign = M.foreign_paths(m, printed)
  if #foreign > 0 then
    return nil, ("%s: the side instance would still use the node's files: %s (from a file %s includes?). "
                 .. "Move these options into %s itself"):format(m.id, table.concat(foreign, ", "), m.conf, m.conf)
  end
  return text, dirs
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
        if shell.is_under(d, m.instance_dir) then list[#list + 1] = d
        else outside[#outside + 1] = { variable = name, dir = d } end
      end
    end
  end
  return list, outside
end

-- The refusal for data directories stop could not swap (data_dirs' second result), or nil.
function M.outside_message(m, outside)
  if #outside == 0 then return nil end
  local what = {}
  for _, o in ipairs(outside) do
    what[#what + 1] = ("@@%s in %s%s"):format(o.variable, o.dir, o.unclear and " (not a clean path)" or "")
  end
  return ("%s writes data outside its instance dir %s (%s): stop could not put the restore point "
          .. "there. Set site.instance_dir (and site.data_root) to a directory holding the datadir and "
          .. "these, on one filesystem"):format(m.id, m.instance_dir, table.concat(what, ", "))
end

return M
