-- checks/connection.lua — judging a connection to a router or a node (SQL, ssh) and its TLS:
-- a failure said with its usual cause and fix (causes.lua), the server's certificate read by
-- flashrun's own probe (flashrun.tls), a certificate that expires during a drill.
local tls = require "flashrun.tls"
local causes = require "causes"
local result = require "checks.result"
local add, SIDE_NAME = result.add, result.SIDE_NAME
local M = {}

-- connected(r, scope, cat, what, err[, how]) -> whether it connected (err nil): the check what
-- passes, else fails with err as the driver gave it, its usual cause and fix (said as what
-- went wrong, not as the claim that failed). how (for a failure) = {side, cfg = that side's
-- configuration section, addr = the host:port tried, host, hint = the fix}.
function M.connected(r, scope, cat, what, err, how)
  if not err then return add(r, scope, cat, "ok", what) end
  local side, c = how.side, how.cfg
  local label = cat == "sql" and "no SQL connection"
    or ("no ssh connection (as %s, port %s)"):format(tostring(c.sys_user), tostring(c.sys_port or 22))
  local name = scope:match("/router$") and ("%s router %s"):format(SIDE_NAME[side], r.routers[side])
    or ("%s node %s"):format(SIDE_NAME[side], scope:match("/(.+)$"))
  return add(r, scope, cat, "fail", name .. ": " .. label, { cause = causes.short(err, how.addr), fix = how.hint,
    group = side .. "|" .. cat .. "|" .. causes.key(err, how.addr, how.host), label = label })
end

-- probe(host, port, mode, cfg) -> the server's certificate as flashrun's own TLS probe read it
-- (flashrun.tls), which says why a TLS connection failed and when the certificate expires; nil
-- when mode (the ssl_mode in force there) is disabled. cfg: that side's configuration section
-- (its ssl_ca). (The connection's own TLS, {version, cipher} or false, is r.tls[scope].)
function M.probe(host, port, mode, cfg)
  if mode == "disabled" then return nil end
  return (tls.probe{ host = host, port = math.floor(tonumber(port)), timeout = 5,
                     ca = (cfg.ssl_ca or "") ~= "" and cfg.ssl_ca or nil })
end

-- A drill may stay open for weeks: a certificate that expires meanwhile stops every connection
-- that verifies it (and replication that does). Warns within 30 days.
local EXPIRY_WARN_DAYS = 30

-- judge_expiry(r, scope, name, p): warns when the certificate p (M.probe) expires within
-- EXPIRY_WARN_DAYS or has expired; name: how the member is named ("standby node …").
function M.judge_expiry(r, scope, name, p)
  if type(p) ~= "table" or not p.offered or not p.not_after or p.not_after == 0 then return end
  local days = (p.not_after - os.time()) / 86400
  if days < EXPIRY_WARN_DAYS then
    add(r, scope, "tls", "warn", ("%s: its TLS certificate %s %s"):format(name, days < 0 and "expired on" or "expires on",
        os.date("!%Y-%m-%d %H:%M UTC", p.not_after)), {
      cause = days < 0 and "connections that verify it (verify_ca, verify_identity) are refused"
        or ("in %d days, and a drill may stay open that long"):format(math.floor(days + 0.5)),
      fix = "renew the certificate on the server before the drill (then ALTER INSTANCE RELOAD TLS)",
      group = scope:match("^%a+") .. "|tls-expiry", label = "TLS certificate expires within " .. EXPIRY_WARN_DAYS .. " days" })
  end
end

-- hint(errno, err, where, p) -> the fix of a failed SQL connection: the probe's reading of the
-- certificate first for a TLS failure (2026), else what the error number says (causes.sql).
function M.hint(errno, err, where, p)
  if tonumber(errno) == 2026 then
    local h = causes.tls(p, where)
    if h then return h end
  end
  return causes.sql(errno, err, where)
end

return M
