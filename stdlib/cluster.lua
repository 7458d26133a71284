-- cluster.lua — connections to routers, nodes and hosts, with the credentials of the cluster
-- ("source" or "target") they belong to. Functions here keep no state of a caller's, so they
-- also work inside parallel() branches.
local shell = require "shell"
local router = require "router"
local server = require "server"
local become = require "become"
local settings = require "flashrun.settings"
local sql = require "flashrun.sql"
local ssh = require "flashrun.ssh"
local sched = require "flashrun.sched"
local log = require "flashrun.log"
local M = {}

local function creds(side)
  local c = settings.current()[side]
  if not c then error("no [" .. side .. "] section in the configuration", 0) end
  return c
end

-- A SQL connection, or nil, the error naming host:port and the user (never the password), and
-- the MySQL error number (1045 access denied, 2003 cannot connect, ...: causes.lua reads it).
-- A node's session runs with server.SQL_MODE, so that the literals flashrun builds are read as
-- built whatever the site's global sql_mode; a router's (opts.router) is left alone: the router
-- parses what it is sent itself and is no place for a SET (docs/lab.md, the forms it takes).
-- Every connection carries the section's TLS settings (docs/operator.md, TLS): a router's
-- router_ssl_mode, a node's ssl_mode, and ssl_ca/ssl_cert/ssl_key/tls_version for both.
function M.tls_options(side, is_router)
  local c = creds(side)
  local function set(v) return v ~= nil and v ~= "" and v or nil end
  return { ssl_mode = (is_router and c.router_ssl_mode or c.ssl_mode) or "preferred", ssl_ca = set(c.ssl_ca),
           ssl_cert = set(c.ssl_cert), ssl_key = set(c.ssl_key), tls_version = set(c.tls_version) }
end

local function open(side, host, port, opts)
  local c = creds(side)
  opts = opts or {}
  local o = M.tls_options(side, opts.router)
  o.host, o.port, o.user = host, math.floor(tonumber(port)), opts.user or c.mysql_user
  o.password, o.database, o.timeout = opts.password or c.mysql_password, opts.database, opts.timeout
  o.sql_mode = not opts.router and server.SQL_MODE or nil
  local conn, err, errno = sql.connect(o)
  if not conn then
    return nil, ("cannot connect to %s as %s: %s"):format(router.id(host, port), o.user, tostring(err)), errno
  end
  return conn
end

-- A MySQL node of side ("source" or "target") at host:port (opts: user, password, database,
-- timeout); raises on failure. Never a router: M.router / M.try_router.
function M.connect(side, host, port, opts)
  local conn, err = open(side, host, port, opts)
  if not conn then error(err, 0) end
  return conn
end

-- connect, with nil, err, errno, seconds (how long the attempt took: a refused connection fails
-- at once, a dropped one after the timeout; libmariadb reports both as 2002/2003 with the same
-- errno) instead of an error.
function M.try_connect(side, host, port, opts)
  local t0 = sched.now()
  local ok, conn, err, errno = pcall(open, side, host, port, opts)
  if not ok then return nil, tostring(conn) end
  return conn, err, errno, sched.now() - t0
end

-- A router of side at host:port (the configured one, or another router of the cluster: its
-- master for dynamic changes), as try_connect: its session's sql_mode is not touched.
function M.try_router(side, host, port, opts)
  local o = { router = true }
  for k, v in pairs(opts or {}) do o[k] = v end
  return M.try_connect(side, host, port, o)
end

-- The configured router of side; raises on failure.
function M.router(side)
  local c = creds(side)
  return M.connect(side, c.host, c.port, { router = true })
end

local sessions = {}
-- session -> the user its commands run as through sudo (sys_become = sudo); weak: a session
-- closed and collected takes its entry along.
local become_of = setmetatable({}, { __mode = "k" })

-- The user the commands on side's hosts run as: sys_become_user with sys_become = sudo, else
-- sys_user; and, for messages, how ("root (sudo from dba)").
function M.os_user(side)
  local c = creds(side)
  if c.sys_become == "sudo" then
    return c.sys_become_user or "root", ("%s (sudo from %s)"):format(c.sys_become_user or "root", tostring(c.sys_user))
  end
  return c.sys_user, tostring(c.sys_user)
end

-- An ssh session to a node's host (sys_user over sys_port), cached per cluster and host; a new
-- one when the cached one was closed (a command that timed out closes its session).
-- try_ssh returns nil, err, kind (the driver's: "refused", "timeout", "auth", "hostkey", ...)
-- where ssh raises err.
function M.try_ssh(side, host)
  local key = side .. "/" .. host
  if sessions[key] and sessions[key]:is_open() then return sessions[key] end
  local s, err, kind = M.open_ssh(side, host)
  if s then sessions[key] = s end
  return s, err, kind
end

-- A session of its own to a node's host, not cached (a progress sampler's, beside a command
-- the cached one runs: a session serves one coroutine at a time); the caller closes it.
-- nil, err, kind as try_ssh.
function M.open_ssh(side, host)
  if not shell.is_host(host) then return nil, "refusing ssh to unusable host " .. tostring(host), "host" end
  local c = creds(side)
  local s, err, kind = ssh.connect{ host = host, port = c.sys_port, user = c.sys_user, password = c.sys_password,
                                    key = c.ssh_key, passphrase = c.ssh_key_passphrase, auth = c.ssh_auth,
                                    known_hosts = c.known_hosts, host_key_policy = c.host_key_policy }
  if not s then
    return nil, ("cannot ssh to %s as %s: %s"):format(router.id(host, c.sys_port or 22), tostring(c.sys_user), tostring(err)), kind
  end
  if c.sys_become == "sudo" then become_of[s] = c.sys_become_user or "root" end
  return s
end

-- The command line that runs cmd on session s: cmd itself, or with sys_become = sudo,
-- become.command(cmd, user). Every remote command goes through here (run and read do).
function M.command(s, cmd)
  local user = become_of[s]
  return user and become.command(cmd, user) or cmd
end

-- Whether sudo works on session s's host for side (sys_become = sudo): nil when it does or is
-- not configured, else {cause, fix} (become.judge). Run as the ssh user, changes nothing.
function M.check_become(side, s)
  local c = creds(side)
  if c.sys_become ~= "sudo" then return nil end
  local user = c.sys_become_user or "root"
  local out, err, status = s:read(become.probe(user))
  if out == nil then return { cause = "ssh transport failed: " .. tostring(err), fix = nil } end
  return become.judge(tostring(c.sys_user), user, err, status)
end

function M.ssh(side, host)
  local s, err = M.try_ssh(side, host)
  if not s then error(err, 0) end
  return s
end

-- Runs fn(item) for every item in parallel: results (by index) and, when a branch raised, errs
-- (by index): the operator's message (its traceback logged at -v) or a refusal table as raised.
-- A caller that reads results[i] must look at errs[i] too: a branch that raised has no result.
function M.try_each(items, fn)
  local results, raised = sched.parallel(items, fn)
  if not raised then return results, nil end
  local errs = {}
  for i, e in pairs(raised) do
    if type(e) == "table" then errs[i] = e else
      local msg, trace = tostring(e):match("^(.-)\n(stack traceback:.*)$")
      if trace then log.debug("%s: %s\n%s", tostring(items[i].id), msg, trace) end
      errs[i] = msg or tostring(e)
    end
  end
  return results, errs
end

-- Runs fn(item) for every item (each with an .id) in parallel and returns the results; raises
-- naming every item that failed. A refusal raised by a branch stays a refusal (exit 3).
function M.on_each(what, items, fn)
  local results, errs = M.try_each(items, fn)
  if not errs then return results end
  local msgs = {}
  for i, e in pairs(errs) do
    if type(e) == "table" then error(e, 0) end
    -- Most messages name their node already.
    msgs[#msgs + 1] = (e:sub(1, #items[i].id) == items[i].id) and e or (items[i].id .. ": " .. e)
  end
  table.sort(msgs)
  error(what .. " failed:\n  " .. table.concat(msgs, "\n  "), 0)
end

-- Runs a write command; raises with its stderr unless it exits 0.
function M.run(s, cmd, opts)
  local out, err, status = s:run(M.command(s, cmd), opts)
  if out == nil then error("ssh transport failed: " .. tostring(err), 0) end
  if status ~= 0 then
    error(("remote command failed (exit %s): %s: %s"):format(tostring(status), cmd, (err ~= "" and err or out)), 0)
  end
  return out
end

-- A read-only probe (opts as for s:read: stdin, timeout); returns stdout (trimmed) or nil, stderr.
function M.read(s, cmd, opts)
  local out, err, status = s:read(M.command(s, cmd), opts)
  if out == nil then error("ssh transport failed: " .. tostring(err), 0) end
  if status ~= 0 then return nil, (err ~= "" and err or out) end
  return (out:gsub("%s+$", ""))
end

-- Both clusters as the routers see them: {source = {nodes, primary, standby_entry}, target = {...}}.
function M.topology(src_router, tgt_router)
  local t = {}
  for side, conn in pairs({ source = src_router, target = tgt_router }) do
    local nodes, standby = router.nodes(conn)
    t[side] = { nodes = nodes, primary = router.primary(nodes), standby_entry = standby }
  end
  return t
end

return M
