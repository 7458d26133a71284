-- privileges.lua — what start and stop need of each account, and whether the accounts hold it.
-- The needs are declared next to the statements that have them (M.PRIVILEGES in server.lua,
-- variables.lua, restore_point/init.lua, mysqld.lua, router.lua), so they follow the plans as they
-- change; this module gathers them (M.list), reads an account's grants as MySQL 8.0 and 9.x
-- show them (SHOW GRANTS, with the privileges of the session's active roles: grants through
-- roles count) and names what is missing with the statement that needs it.
local server = require "server"
local variables = require "variables"
local restore_point = require "restore_point"
local mysqld = require "mysqld"
local router = require "router"
local binlog_stream = require "binlog_stream"
local M = {}

-- Statements the plans send themselves: stop's prove_replication step (plans/stop.lua).
M.PLAN_STATEMENTS = {
  { on = "standby nodes", any = { "SELECT" }, object = "marker", plans = "stop",
    stmt = "SELECT token FROM <site.marker_schema>.drill_marker (the marker written on production arrives)" },
  { on = "production router", router = true, plans = "stop",
    stmt = "CREATE DATABASE / CREATE TABLE IF NOT EXISTS, REPLACE INTO <site.marker_schema>.drill_marker" },
  { on = "production nodes", any = {}, plans = "verify stop",
    stmt = "SELECT @@GLOBAL.gtid_executed, gtid_purged, binlog_expire_logs_seconds: nothing beyond logging in" },
}

-- Every declared need, in the order the table in docs/operator.md shows them.
function M.list()
  local out = {}
  for _, t in ipairs({ server.PRIVILEGES, variables.PRIVILEGES, restore_point.PRIVILEGES, mysqld.PRIVILEGES,
                       binlog_stream.PRIVILEGES, M.PLAN_STATEMENTS, router.PRIVILEGES }) do
    for _, e in ipairs(t) do out[#out + 1] = e end
  end
  return out
end

-- The needs on one kind of target ("standby nodes", ...).
function M.needs(on)
  local out = {}
  for _, e in ipairs(M.list()) do if e.on == on then out[#out + 1] = e end end
  return out
end

-- ---- reading grants ---------------------------------------------------------------------------

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- `name` → name (doubled backquotes undone).
local function unquote(s)
  s = trim(s)
  local inner = s:match("^`(.*)`$")
  if inner then return (inner:gsub("``", "`")) end
  return s
end

-- A grant's object: "*.*" → nil, nil; "`db`.*" → db, nil; "`db`.`t`" → db, t.
local function object(text)
  if text == "*.*" then return nil, nil end
  local db, rest = text:match("^(`.-`)%.(.+)$")
  if not db then db, rest = text:match("^([^.]+)%.(.+)$") end
  if not db then return false end
  return unquote(db), rest ~= "*" and unquote(rest) or nil
end

-- A database name in a grant is a LIKE pattern (_ and % wildcards, \ escapes).
local function db_matches(pattern, name)
  local p, i = {}, 1
  while i <= #pattern do
    local ch = pattern:sub(i, i)
    if ch == "\\" and i < #pattern then p[#p + 1] = "%" .. pattern:sub(i + 1, i + 1); i = i + 1
    elseif ch == "%" then p[#p + 1] = ".*"
    elseif ch == "_" then p[#p + 1] = "."
    else p[#p + 1] = ch:gsub("%p", "%%%0") end
    i = i + 1
  end
  return name:match("^" .. table.concat(p) .. "$") ~= nil
end

local function privs_of(text)
  local set = {}
  text = text:gsub("%b()", "") -- column lists
  for p in text:gmatch("[^,]+") do
    p = trim(p):upper():gsub("%s+", " ")
    if p == "ALL PRIVILEGES" then p = "ALL" end
    if p ~= "" then set[p] = true end
  end
  return set
end

-- parse(lines) -> grants {global = set, db = {{name, set}}, tbl = {{db, t, set}}, revoked =
-- {db → set}, roles = {"`r`@`%`", ...}} from SHOW GRANTS lines. Pure.
function M.parse(lines)
  local g = { global = {}, db = {}, tbl = {}, revoked = {}, roles = {} }
  for _, line in ipairs(lines) do
    local privs, obj = line:match("^GRANT%s+(.-)%s+ON%s+(%S+)%s+TO%s+")
    if privs then
      local db, t = object(obj)
      local set = privs_of(privs)
      if db == nil then
        for p in pairs(set) do g.global[p] = true end
      elseif db and t then
        g.tbl[#g.tbl + 1] = { db = db, t = t, set = set }
      elseif db then
        g.db[#g.db + 1] = { name = db, set = set }
      end
    else
      local rprivs, robj = line:match("^REVOKE%s+(.-)%s+ON%s+(%S+)%s+FROM%s+")
      if rprivs then
        local db = object(robj)
        if db then
          g.revoked[db] = g.revoked[db] or {}
          for p in pairs(privs_of(rprivs)) do g.revoked[db][p] = true end
        end
      else
        local roles = line:match("^GRANT%s+(`.-)%s+TO%s+`")
        if roles then for r in roles:gmatch("`[^`]*`@`[^`]*`") do g.roles[#g.roles + 1] = r end end
      end
    end
  end
  return g
end

-- Whether grants g hold privilege p on object ("db.table", "db" or nil: global). Pure.
function M.holds(g, p, obj)
  local db, t
  if obj then db, t = obj:match("^([^.]+)%.(.+)$"); db = db or obj end
  local revoked = db and g.revoked[db] and (g.revoked[db][p] or g.revoked[db].ALL)
  if (g.global[p] or g.global.ALL) and not revoked then return true end
  if not db then return false end
  for _, e in ipairs(g.db) do
    if db_matches(e.name, db) and (e.set[p] or e.set.ALL) then return true end
  end
  for _, e in ipairs(g.tbl) do
    if e.db == db and e.t == t and (e.set[p] or e.set.ALL) then return true end
  end
  return false
end

local function lines_of(rows)
  local out = {}
  local col = rows and rows.columns and rows.columns[1]
  for _, r in ipairs(rows or {}) do
    local v = server.value(col and r[col])
    if v == nil then for _, x in pairs(r) do v = server.value(x) end end
    if v then out[#out + 1] = tostring(v) end
  end
  return out
end

-- read(conn) -> {user = "'u'@'h'", grants = parsed grants with the active roles' privileges,
-- inactive = {roles granted but not active in a new session}} or nil, err.
function M.read(conn)
  local rows = conn:query("SELECT CURRENT_USER() AS u, CURRENT_ROLE() AS r")
  if not rows then rows = conn:query("SELECT CURRENT_USER() AS u") end -- before 8.0: no roles
  local row = rows and rows[1] or {}
  local user = tostring(server.value(row.u) or "?")
  local u, h = user:match("^(.*)@([^@]*)$")
  local account = u and ("'%s'@'%s'"):format(u, h) or user
  local active = server.value(row.r)
  local stmt = "SHOW GRANTS"
  if active and active ~= "NONE" and active ~= "" then stmt = "SHOW GRANTS FOR CURRENT_USER() USING " .. active end
  local got, err = conn:query(stmt)
  if not got then return nil, stmt .. " failed: " .. tostring(err) end
  local g = M.parse(lines_of(got))
  local on = {}
  for r in tostring(active or ""):gmatch("`[^`]*`@`[^`]*`") do on[r] = true end
  local inactive = {}
  for _, r in ipairs(g.roles) do if not on[r] then inactive[#inactive + 1] = r end end
  return { user = account, grants = g, inactive = inactive, conn = conn }
end

-- "start", "start and stop", "verify, start and stop".
local function plan_names(plans)
  local t = {}
  for w in plans:gmatch("%S+") do t[#t + 1] = w end
  if #t == 1 then return t[1] end
  return table.concat(t, ", ", 1, #t - 1) .. " and " .. t[#t]
end

-- How much a missing need matters: its severity ("warn": the plans cope without it), else
-- FAIL, but for a need with fail_for (strategies) FAIL only under those and warn under others.
function M.severity(e, strategy)
  if e.severity then return e.severity end
  if e.fail_for then
    for s in e.fail_for:gmatch("%S+") do if s == strategy then return "FAIL" end end
    return "warn"
  end
  return "FAIL"
end

-- What account a (from read) lacks of the needs on `on`: a list of {entry, text, fix, severity},
-- each naming the privilege, the statement that needs it and the plans. marker: the marker
-- schema; strategy: site.restore_point.
function M.missing(a, on, marker, strategy)
  local out, with_roles = {}, nil
  for _, e in ipairs(M.needs(on)) do
    if e.any and #e.any > 0 then
      local obj = e.object == "marker" and (marker .. ".drill_marker") or e.object
      local ok = false
      for _, p in ipairs(e.any) do ok = ok or M.holds(a.grants, p, obj) end
      if not ok then
        local where = obj and (("`%s`.%s"):format(obj:match("^([^.]+)"), obj:match("%.(.+)$") == "*" and "*" or
          ("`" .. obj:match("%.(.+)$") .. "`"))) or "*.*"
        local fix = ("GRANT %s ON %s TO %s"):format(e.any[1], where, a.user)
        -- Held through a role that a new session does not activate: the plans would not have it.
        if #a.inactive > 0 and a.conn then
          if with_roles == nil then
            local rows = a.conn:query("SHOW GRANTS FOR CURRENT_USER() USING " .. table.concat(a.inactive, ","))
            with_roles = rows and M.parse(lines_of(rows)) or false
          end
          local via = false
          for _, p in ipairs(e.any) do via = via or (with_roles and M.holds(with_roles, p, obj)) end
          if via then
            fix = ("it is granted through a role that is not active at login (%s): SET DEFAULT ROLE ALL TO %s, or %s")
              :format(table.concat(a.inactive, ", "), a.user, fix)
          end
        end
        out[#out + 1] = { entry = e, severity = M.severity(e, strategy),
          text = ("the account %s lacks %s, which %s %s for %s"):format(a.user, table.concat(e.any, " or "),
            plan_names(e.plans), e.plans:find(" ") and "need" or "needs", e.stmt),
          fix = fix }
      end
    end
  end
  return out
end

return M
