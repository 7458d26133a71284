-- shell.lua — quoting for remote shell commands and SQL literals, and validators for names and
-- paths that come from routers and servers before they reach a command line or a statement.
local endpoint = require "flashrun.endpoint"
local M = {}

-- POSIX single-quote escaping: 'it'\''s'. Safe for any byte except NUL.
function M.quote(s)
  s = tostring(s)
  if s:find("\0", 1, true) then error("shell.quote: NUL byte in argument", 2) end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A string literal for SQL: a quote doubled (''), a backslash escaped (\\), NUL as \0. Read right
-- by a session whose sql_mode lacks NO_BACKSLASH_ESCAPES: the node connections cluster.lua opens
-- pin theirs (server.SQL_MODE). A value without a backslash or a NUL gives a literal without
-- one, which every sql_mode reads alike (a doubled quote is read the same with or without
-- NO_BACKSLASH_ESCAPES, and ANSI_QUOTES changes only "..."): names, paths, hosts and GTID sets
-- are such values; a password may hold anything, so it needs the pinned mode.
function M.sql_string(s)
  s = tostring(s)
  return "'" .. s:gsub("\\", "\\\\"):gsub("'", "''"):gsub("\0", "\\0") .. "'"
end

-- A value from a router or server, quoted for a one-line message: %q, with newlines as \n (%q
-- keeps them as a backslash and a real newline) and at most 80 bytes shown.
function M.show(v)
  local s = tostring(v)
  local cut = #s > 80
  return (("%q"):format(cut and s:sub(1, 80) or s):gsub("\\\n", "\\n")) .. (cut and "…" or "")
end

-- Names a router or a server hands us (dataserver names, users, plugin names).
function M.is_name(s)
  return type(s) == "string" and #s > 0 and #s <= 128 and s:match("^[%w_%-%.]+$") ~= nil
end

-- Hosts and ports in the one grammar every source follows (runtime/endpoint.c): names, IPv4,
-- IPv6 bare or bracketed; ports 1..65535 as an integer or plain digits.
function M.is_host(s) return endpoint.host(s) ~= nil end
function M.is_port(p) return endpoint.port(p) ~= nil end

-- Normalizes an absolute path: collapses "//" and "/./", drops a trailing "/". Returns nil for
-- relative paths, ".." components or characters we do not put on a command line.
function M.normpath(p)
  if type(p) ~= "string" or p:sub(1, 1) ~= "/" then return nil end
  if not p:match("^[%w_%-%./+@:=,]+$") then return nil end
  local parts = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." then return nil end
    if part ~= "." then parts[#parts + 1] = part end
  end
  return "/" .. table.concat(parts, "/")
end

function M.is_path(p) return M.normpath(p) ~= nil end

function M.dirname(p)
  p = assert(M.normpath(p), "dirname: not an absolute path")
  local d = p:match("^(.*)/[^/]*$")
  if d == nil or d == "" then return "/" end
  return d
end

function M.basename(p)
  p = assert(M.normpath(p), "basename: not an absolute path")
  return p:match("([^/]*)$")
end

-- True when path is strictly below root (both normalized), never equal to it.
function M.is_under(path, root)
  path, root = M.normpath(path), M.normpath(root)
  if not path or not root then return false end
  if root == "/" then return path ~= "/" end
  return path:sub(1, #root + 1) == root .. "/" and #path > #root + 1
end

-- The guard every destructive remote command (rm -rf, mv) goes through. Raises unless path is a
-- clean absolute path at least two levels deep, strictly inside data_root, and — when given —
-- exactly the path recorded in the journal.
function M.guard(path, data_root, recorded)
  local p = M.normpath(path)
  if not p or p == "/" then error(("refusing to touch %q: not a clean absolute path"):format(tostring(path)), 2) end
  local depth = select(2, p:gsub("/", ""))
  if depth < 2 then error(("refusing to touch %q: too close to /"):format(p), 2) end
  if not M.is_under(p, data_root) then
    error(("refusing to touch %q: outside the data root %q"):format(p, tostring(data_root)), 2)
  end
  if M.normpath(data_root) == "/" then
    error(("refusing to touch %q: the data root %q is not a directory below /"):format(p, tostring(data_root)), 2)
  end
  if recorded ~= nil and M.normpath(recorded) ~= p then
    error(("refusing to touch %q: the journal recorded %q"):format(p, tostring(recorded)), 2)
  end
  return p
end

return M
