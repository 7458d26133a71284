-- causes.lua — what a failed connection means and what a DBA does about it. The drivers return
-- the error as the server or the system gave it (sql: "[errno] (SQLSTATE) message" and the
-- number; ssh: the libssh2 or system message and a kind); this module adds the usual cause and
-- the fix for the ones a DBA meets on the first day. Pure: unit-tested (tests/lua/plans/causes.lua).
local M = {}

-- The INI section keys that hold a cluster's accounts, for the fixes.
local SECTION = { source = "[source]", target = "[target]" }

-- The system error number in a client message: "Can't connect to MySQL server on 'h' (111)".
local function os_errno(msg) return tonumber(tostring(msg or ""):match("%((%d+)%)%s*$")) end

-- TLS failures (CR_SSL_CONNECTION_ERROR, 2026), as libmariadb and libmysqlclient word them:
-- the hint for each. where.mode is the ssl_mode in force (router_ssl_mode for a router),
-- where.names the names the server's certificate holds when a probe read them (checks/connection.lua).
local function tls_hint(msg, where, sec)
  local low = msg:lower()
  local key = where.router and "router_ssl_mode" or "ssl_mode"
  local mode = where.mode or "required"
  if low:find("does not support it", 1, true) or low:find("doesn't support", 1, true) then
    if where.router then
      return ("the router offers no TLS on its SQL port, and %s = %s in %s requires it: set %s = preferred there " ..
              "(GreatDB Router may not offer TLS to clients; the nodes keep ssl_mode) or enable TLS on the router")
        :format(key, mode, sec, key)
    end
    return ("the server offers no TLS, and ssl_mode = %s in %s requires it: give the server a certificate " ..
            "(ssl_cert, ssl_key in its my.cnf, then ALTER INSTANCE RELOAD TLS) or lower ssl_mode"):format(mode, sec)
  elseif low:find("expired", 1, true) or low:find("not yet valid", 1, true) then
    return ("the server's certificate is %s: renew it on the server (then ALTER INSTANCE RELOAD TLS), or check this host's clock")
      :format(low:find("expired", 1, true) and "expired" or "not yet valid")
  elseif low:find("self%-signed") or low:find("local issuer", 1, true) or low:find("verify failed", 1, true)
      or low:find("first certificate", 1, true) or low:find("unknown ca", 1, true) then
    return ("the CA in ssl_ca of %s did not sign the server's certificate: set ssl_ca to the CA certificate that " ..
            "signed it (the %s cluster's own CA; each cluster may have its own)"):format(sec, where.side or "server's")
  elseif low:find("validation of ssl server certificate failed", 1, true) or low:find("certificate validation failure", 1, true)
      or low:find("hostname mismatch", 1, true) then
    return ("the server's certificate does not name the host flashrun dialled%s: connect by a name it holds, " ..
            "add the address to the certificate's subjectAltName, or set %s = verify_ca in %s")
      :format(where.names and (" (it names " .. where.names .. ")") or "", key, sec)
  end
  return ("the TLS handshake failed under %s = %s: check ssl_ca, ssl_cert, ssl_key and tls_version in %s")
    :format(key, mode, sec)
end

-- tls(probe, where) -> hint or nil: the cause of a TLS failure read from the server's certificate
-- itself (flashrun.tls.probe), which names the cause where the libraries' messages do not
-- (libmysqlclient says "certificate verify failed" for a wrong CA and for a name mismatch alike).
-- where as for sql (mode, router, side).
function M.tls(probe, where)
  where = where or {}
  if type(probe) ~= "table" then return nil end
  local sec = SECTION[where.side] or "the cluster's section"
  local names = probe.names and #probe.names > 0 and table.concat(probe.names, ", ") or probe.subject
  local w = { side = where.side, router = where.router, mode = where.mode, names = names }
  if not probe.offered then
    return tls_hint("does not support it", w, sec)
  elseif probe.verify and probe.verify ~= "ok" then
    if probe.verify:find("expired", 1, true) or probe.verify:find("not yet valid", 1, true) then
      return tls_hint(probe.verify, w, sec)
    end
    return tls_hint("verify failed", w, sec) .. (" (OpenSSL: %s)"):format(probe.verify)
  elseif where.mode == "verify_identity" and not probe.host_ok then
    return tls_hint("hostname mismatch", w, sec)
  end
  return nil
end

-- sql(errno, message, where) -> hint or nil. where = { side = "source"|"target", router = bool,
-- seconds = how long the attempt took, timeout = the connect timeout, mode = the ssl_mode in
-- force, cert = a client certificate was given, names = the certificate's names }. The hint
-- says what the error usually means and what to change.
function M.sql(errno, msg, where)
  where = where or {}
  local sec = SECTION[where.side] or "the cluster's section"
  local port_opt = where.side == "source" and "--si" or "--ti"
  errno = tonumber(errno)
  msg = tostring(msg or "")
  if errno == 1045 then
    local also = ""
    if where.mode == "disabled" then
      also = ("; or the account was created REQUIRE SSL and ssl_mode = disabled in %s: set ssl_mode = preferred or stronger"):format(sec)
    elseif where.mode and not where.cert then
      also = ("; or the account was created REQUIRE X509 (or ISSUER/SUBJECT): set ssl_cert and ssl_key in %s"):format(sec)
    end
    return ("wrong user or password: check mysql_user and mysql_password in %s (or FLASHRUN_%s_MYSQL_PASSWORD)%s")
      :format(sec, (where.side or "SECTION"):upper(), also)
  elseif errno == 2026 then
    return tls_hint(msg, where, sec)
  elseif errno == 3159 then
    return ("the server requires TLS (require_secure_transport = ON) and ssl_mode = disabled in %s: set ssl_mode = preferred or stronger")
      :format(sec)
  elseif errno == 1130 then
    return "the account is not allowed from this host: create it (or widen its host part) for the address flashrun connects from"
  elseif errno == 2005 then
    return where.router and ("the router's host name does not resolve: check %s / host in %s, and DNS or /etc/hosts here"):format(port_opt, sec)
      or "the host name the router reports does not resolve here: fix DNS or /etc/hosts on this host"
  elseif errno == 2003 or errno == 2002 then
    local e = os_errno(msg)
    -- libmariadb reports a refused connection with the errno of its non-blocking connect
    -- (115, EINPROGRESS): how long it took tells refused (at once) from dropped (the timeout).
    if e == 115 and where.seconds then
      e = where.seconds < 0.8 * (where.timeout or 10) and 111 or 110
    end
    if e == 111 or msg:find("refused", 1, true) then
      return where.router and ("refused at once, nothing listens on that port: check the router's SQL port (%s HOST:PORT, port in %s)"):format(port_opt, sec)
        or "refused at once, nothing listens on that port: is mysqld running there?"
    elseif e == 110 or msg:lower():find("timed out", 1, true) then
      return "no answer within the connect timeout: a firewall drops the packets, or the host is down"
    elseif e == 113 or e == 101 then
      return "no route to the host: check the address and the network between this host and it"
    end
    return "cannot reach the server: check the address, the port and the network"
  elseif errno == 2013 then
    return "the server closed the connection during the handshake: a firewall, a proxy or max_connect_errors (FLUSH HOSTS)"
  elseif errno == 1040 then
    return "the server has no free connection (max_connections)"
  elseif errno == 3118 then
    return "the account is locked: ALTER USER … ACCOUNT UNLOCK"
  elseif errno == 1862 or errno == 1820 then
    return "the account's password has expired: set a new one (ALTER USER) and put it in " .. sec
  elseif errno == 1044 or errno == 1142 or errno == 1227 or errno == 1370 then
    return "the account lacks a privilege: see the privileges check"
  end
  return nil
end

-- ssh(kind, message, where) -> hint or nil. kind as the ssh driver gives it.
function M.ssh(kind, msg, where)
  where = where or {}
  local sec = SECTION[where.side] or "the cluster's section"
  if kind == "auth" then
    return ("ssh authentication failed: check sys_user, and the key (in ssh-agent, or ssh_key with " ..
            "ssh_key_passphrase) or sys_password in %s; the message says what the server offers and what was tried"):format(sec)
  elseif kind == "hostkey" then
    return "the host key is not the one known_hosts holds: make sure the host is the right one, then update known_hosts (see the message)"
  elseif kind == "refused" then
    return ("nothing listens on the ssh port: is sshd running there? (port: sys_port in %s)"):format(sec)
  elseif kind == "timeout" then
    return "no answer on the ssh port: a firewall drops the packets, or the host is down"
  elseif kind == "unreachable" then
    return "no route to the host: check the network between this host and it"
  elseif kind == "resolve" then
    return "the host name does not resolve here: fix DNS or /etc/hosts on this host"
  elseif kind == "handshake" then
    return ("the ssh handshake failed: is sys_port in %s an ssh server's port?"):format(sec)
  end
  return nil
end

-- The error itself, without what the message says before it (cluster's "cannot connect to
-- host:port as user: ", the driver's "host:port: " or "user@host:port: "): the text after the
-- last of the given addresses followed by ": ".
function M.short(msg, ...)
  local text, cut = tostring(msg or ""), 0
  for _, addr in ipairs({ ... }) do
    if addr and addr ~= "" then
      local i = 1
      while true do
        local a, b = text:find(addr .. ": ", i, true)
        if not a then break end
        cut = math.max(cut, b)
        i = a + 1
      end
    end
  end
  return text:sub(cut + 1)
end

-- The part of a connection error that is the same on every node it hits, for grouping: the
-- "host:port: " and "user@host:port: " prefixes and the node's own address left out.
function M.key(msg, ...)
  local k = tostring(msg or "")
  for _, addr in ipairs({ ... }) do
    if addr and addr ~= "" then
      local i = 1
      while true do
        local a, b = k:find(addr, i, true)
        if not a then break end
        k = k:sub(1, a - 1) .. "…" .. k:sub(b + 1)
        i = a + 1
      end
    end
  end
  return k
end

return M
