-- node.lua — the node model: where a standby node keeps its data and how it runs.
-- Everything is derived from the live server (@@datadir, @@basedir, @@pid_file, and the running
-- mysqld's --defaults-file read from /proc over ssh) and can be overridden by the [site]
-- settings (site.lua: the configuration's [site] keys or --set site.KEY=VALUE). Nothing about
-- /data/mysqldata, /data/app/mysql-<ver> or my<5 chars>.conf is assumed. start journals each
-- node's model (discover) under the key `sites`; mysqld, the restore point and the swap read it.
local shell = require "shell"
local server = require "server"
local cluster = require "cluster"
local site = require "site"
local M = {}

-- The remote script reading the running mysqld named by pid_file under proc (default /proc; a
-- test hands it a fake one): its owner, its parent's command line when the parent is named
-- mysqld_safe (base64 of /proc/PID/cmdline: any byte survives), its working directory, then its
-- own command line, one argument per line. Changes nothing. Pure.
function M.process_script(pid_file, proc)
  local P = shell.quote(proc or "/proc")
  return table.concat({
    ("pid=$(cat %s) && case $pid in ''|*[!0-9]*) exit 1;; esac && stat -c '%%U' %s/$pid || exit 1"):format(shell.quote(pid_file), P),
    ("pp=$(sed -n 's/^PPid:[[:space:]]*//p' %s/$pid/status 2>/dev/null)"):format(P),
    ("if [ -n \"$pp\" ] && [ \"$(cat %s/$pp/comm 2>/dev/null)\" = mysqld_safe ]; then printf 'safe=%%s\\n' \"$(base64 -w0 < %s/$pp/cmdline 2>/dev/null)\"; else echo safe=; fi")
      :format(P, P),
    ("printf 'cwd=%%s\\n' \"$(readlink %s/$pid/cwd 2>/dev/null)\""):format(P),
    ("tr '\\000' '\\n' < %s/$pid/cmdline"):format(P),
  }, "\n")
end

-- RFC 4648 base64, as base64(1) writes it; nil for anything else. Pure.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function unbase64(text)
  if #text % 4 ~= 0 or text:find("[^%w%+/=]") then return nil end
  local out, acc, bits = {}, 0, 0
  for c in text:gsub("=+$", ""):gmatch(".") do
    local v = B64:find(c, 1, true)
    if not v then return nil end
    acc = (acc << 6) | (v - 1); bits = bits + 6
    if bits >= 8 then bits = bits - 8; out[#out + 1] = string.char((acc >> bits) & 0xff) end
  end
  return table.concat(out)
end

-- parse_process(text) -> { user, args (one per line), cwd, safe = {argv...} or nil }, or nil. Pure.
function M.parse_process(text)
  local user, safe, cwd, args = (text or ""):match("^([^\n]+)\nsafe=([^\n]*)\ncwd=([^\n]*)\n(.*)$")
  if not user then return nil end
  local p = { user = user, args = args, cwd = cwd }
  local raw = safe ~= "" and unbase64(safe)
  if raw then
    p.safe = {}
    for a in raw:gmatch("([^%z]*)%z") do p.safe[#p.safe + 1] = a end
  end
  return p
end

-- The running mysqld's owner and command line, and its mysqld_safe's, in one round trip.
local function process_of(s, pid_file)
  return M.parse_process(cluster.read(s, M.process_script(pid_file)))
end

-- The options node m's mysqld_safe was started with (what follows the mysqld_safe script in its
-- command line), kept only when proven: the server named by the pid file works in m's datadir
-- and the options name m's option file. nil otherwise (start then falls back to
-- --defaults-file and --user). Pure.
function M.safe_options(proc, datadir, conf)
  if not (proc and proc.safe and shell.normpath(proc.cwd or "") == datadir) then return nil end
  for i, a in ipairs(proc.safe) do
    if a:match("mysqld_safe$") then
      local opts = table.move(proc.safe, i + 1, #proc.safe, 1, {})
      for _, o in ipairs(opts) do
        if o == "--defaults-file=" .. conf then return opts end
      end
      return nil
    end
  end
  return nil
end

-- Builds the model of one node. conn: SQL connection to the node; s: ssh session to its host.
function M.discover(node, conn, s)
  local v = server.variables(conn, { "datadir", "basedir", "pid_file", "log_error" })
  local datadir = shell.normpath(v.datadir or "")
  if not datadir then error(node.id .. ": @@datadir is not a clean absolute path", 0) end
  local basedir = site.path("basedir") or shell.normpath(v.basedir or "")
  local pid_file = v.pid_file or ""
  if pid_file:sub(1, 1) ~= "/" then pid_file = datadir .. "/" .. pid_file end
  local _, _, _, vtext = server.version(conn)

  local proc = process_of(s, pid_file) or { args = "" }
  local conf = site.path("conf_file")
  if not conf then
    for a in proc.args:gmatch("[^\n]+") do
      local f = a:match("^%-%-defaults%-file=(.+)$")
      if f then conf = shell.normpath(f) end
    end
  end
  if not conf then
    error(node.id .. ": cannot find the mysqld --defaults-file; set site.conf_file", 0)
  end
  local instance_dir = site.path("instance_dir") or shell.dirname(datadir)
  local data_root = site.path("data_root")
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
    mysqld = site.path("mysqld") or (bin .. "mysqld"),
    mysqld_safe = site.path("mysqld_safe") or (bin .. "mysqld_safe"),
    mysql = site.path("mysql") or (bin .. "mysql"),
    os_user = site.get("os_user") ~= "" and site.get("os_user") or proc.user or "mysql",
    log_error = shell.normpath(tostring(v.log_error or "")),
    restore_point_dir = site.path("restore_point_dir") or (instance_dir .. "/flashback_restore_point"),
    -- how its mysqld_safe runs, replayed at every restart (mysqld.start_args)
    safe_options = M.safe_options(proc, datadir, conf),
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
