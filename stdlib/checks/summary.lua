-- checks/summary.lua — what a run of the checks says (checks/result.lua's result set, judged):
-- the report as a plain table (verify's --report-json, the drill report), the summary's lines
-- per cluster and node with every cause once, and the refusal of a run with failures.
local log = require "flashrun.log"
local refuse = require("flashrun.errors").refuse
local array = require("flashrun.report").array
local states = require "states"
local SIDE_NAME = require("checks.result").SIDE_NAME
local M = {}

-- The name of a scope in the summary: "standby router 127.0.46.10:3307", "source node …";
-- then its side, whether it is a router, and a node's id.
local function scope_name(r, scope)
  local side, id = scope:match("^(%a+)/(.+)$")
  if id == "router" then return ("%s router %s"):format(SIDE_NAME[side], r.routers[side]), side, true end
  return ("%s node %s"):format(SIDE_NAME[side], id), side, false, id
end

-- names(r, scopes) -> "standby router 127.0.46.10:3307 and standby nodes 127.0.46.1:3308,
-- 127.0.46.2:3308".
function M.names(r, scopes)
  local groups, order = {}, {}
  for _, sc in ipairs(scopes) do
    local name, side, is_router, id = scope_name(r, sc)
    local g = is_router and name or (SIDE_NAME[side] .. " node")
    if not groups[g] then groups[g] = {}; order[#order + 1] = g end
    if not is_router then table.insert(groups[g], id) end
  end
  local parts = {}
  for _, g in ipairs(order) do
    local ids = groups[g]
    if #ids == 0 then parts[#parts + 1] = g
    else parts[#parts + 1] = g .. (#ids > 1 and "s " or " ") .. table.concat(ids, ", ") end
  end
  return table.concat(parts, " and ")
end

-- "1 check", "2 checks".
local function count(n, word) return ("%d %s%s"):format(n, word, n == 1 and "" or "s") end

-- Failures (or warnings) grouped by cause: {{state, cat, scopes = {...}, text, cause, fix}}, in
-- the order they were found. One wrong password is one entry naming every node it hit.
local function grouped(r, state)
  local out, by = {}, {}
  for _, c in ipairs(r.checks) do
    if c.state == state then
      local k = c.cat .. "|" .. (c.group or c.text)
      local g = by[k]
      if not g then
        g = { state = state, cat = c.cat, scopes = {}, text = c.text, cause = c.cause, fix = c.fix, label = c.label }
        by[k] = g; out[#out + 1] = g
      end
      local seen = false
      for _, s in ipairs(g.scopes) do seen = seen or s == c.scope end
      if not seen then g.scopes[#g.scopes + 1] = c.scope end
    end
  end
  return out
end

-- One member's line in the per-node view: {scope, id, role, state, checks = {{cat, state}}, tls},
-- its states as verify prints them (states.word).
local function member(r, side, sc, role)
  local cats, order, state = {}, {}, "ok"
  for _, c in ipairs(r.checks) do
    if c.scope == sc then
      if not cats[c.cat] then cats[c.cat] = c.state; order[#order + 1] = c.cat else cats[c.cat] = states.worst(cats[c.cat], c.state) end
      state = states.worst(state, c.state)
    end
  end
  local list = array()
  for _, cat in ipairs(order) do list[#list + 1] = { cat = cat, state = states.word(cats[cat]) } end
  local t = r.tls and r.tls[sc]
  return { scope = sc, id = sc:match("/(.+)$") == "router" and r.routers[side] or sc:match("/(.+)$"),
           role = role, state = #list > 0 and states.word(state) or "not checked", checks = list,
           tls = t and { version = t.version, cipher = t.cipher } or { version = "none" } }
end

-- The per-node view: { {side, name, router, members = {member}} }.
local function clusters(r)
  local out = array()
  for _, side in ipairs({ "source", "target" }) do
    local cl = { side = side, name = side == "source" and "source (production)" or "standby", router = r.routers[side], members = array() }
    local scopes = { side .. "/router" }
    local roles = { [side .. "/router"] = "router" }
    for _, d in ipairs(r.topo and r.topo[side] and r.topo[side].nodes or {}) do
      scopes[#scopes + 1] = side .. "/" .. d.id
      roles[side .. "/" .. d.id] = d.role == "primary" and "master" or "replica"
    end
    for _, sc in ipairs(scopes) do cl.members[#cl.members + 1] = member(r, side, sc, roles[sc]) end
    out[#out + 1] = cl
  end
  return out
end

-- report(r) -> the checks as a plain table (what --report-json writes for verify; the drill
-- report includes it), each state as verify prints it (states.word: FAIL for fail):
--   { ok = bool, counts = {ok =, warn =, FAIL =}, skipped = text or nil,
--     clusters = { {side = "source"|"target", name, router = "host:port",
--                   members = { {scope, id, role = "router"|"master"|"replica", state,
--                                checks = { {cat, state} }, tls = {version = "TLSv1.3" | "none", cipher}} }} },
--     failures = { {cat, nodes = {"standby node 127.0.46.1:3308", ...}, where = text, text, cause, fix} },
--     warnings = (the same shape), checks = { {scope, cat, state, text, cause, fix} } }
function M.report(r)
  local counts = { ok = 0, warn = 0, FAIL = 0 }
  local checks = array()
  for _, c in ipairs(r.checks) do
    local word = states.word(c.state)
    counts[word] = counts[word] + 1
    checks[#checks + 1] = { scope = c.scope, cat = c.cat, state = word, text = c.text, cause = c.cause, fix = c.fix }
  end
  local function entries(state)
    local out = array()
    for _, g in ipairs(grouped(r, state)) do
      local nodes = array()
      for _, sc in ipairs(g.scopes) do nodes[#nodes + 1] = (scope_name(r, sc)) end
      out[#out + 1] = { cat = g.cat, nodes = nodes, where = M.names(r, g.scopes), text = g.label and (M.names(r, g.scopes) .. ": " .. g.label) or g.text,
                        cause = g.cause, fix = g.fix }
    end
    return out
  end
  return { ok = counts.FAIL == 0 and r.skipped == nil, counts = counts, skipped = r.skipped, clusters = clusters(r),
           failures = entries("fail"), warnings = entries("warn"), checks = checks }
end

-- summary_lines(rep) -> the summary of a report (M.report) as text lines: per cluster and node
-- one line of its checks' states, then the failures and the warnings, each cause once.
function M.summary_lines(rep)
  local L = {}
  local c = rep.counts
  L[#L + 1] = ("verify summary: %s, %s, %s%s"):format(count(c.FAIL, "failed check"), count(c.warn, "warning"),
    count(c.ok, "check") .. " ok", rep.skipped and "; some not run" or "")
  -- a member's checks by state, the worst first, as the report words them
  local order = { states.word("fail"), states.word("warn"), states.word("ok") }
  for _, cl in ipairs(rep.clusters) do
    L[#L + 1] = ("  %s cluster, router %s"):format(cl.name, cl.router)
    for _, m in ipairs(cl.members) do
      local by = {}
      for _, st in ipairs(order) do by[st] = {} end
      for _, ch in ipairs(m.checks) do table.insert(by[ch.state], ch.cat) end
      local parts = {}
      for _, st in ipairs(order) do
        if #by[st] > 0 then parts[#parts + 1] = st .. ": " .. table.concat(by[st], " ") end
      end
      L[#L + 1] = ("    %-5s %-8s %-22s %s · tls %s"):format(m.state == "not checked" and "-" or m.state, m.role, m.id,
        #parts > 0 and table.concat(parts, " · ") or "not checked", m.tls and m.tls.version or "none")
    end
  end
  if rep.skipped then L[#L + 1] = "  not run: " .. rep.skipped end
  for _, kind in ipairs({ { rep.failures, "failed" }, { rep.warnings, "warnings" } }) do
    if #kind[1] > 0 then L[#L + 1] = kind[2] .. ":" end
    for i, e in ipairs(kind[1]) do
      L[#L + 1] = ("  %d. %s%s"):format(i, e.text, e.cause and (": " .. e.cause) or "")
      if e.fix then L[#L + 1] = "     fix: " .. e.fix end
    end
  end
  return L
end

-- print_summary(r) -> the report (M.report). Prints the summary on stdout (the product of
-- verify; -q leaves only it), masked like every line flashrun prints, and records it in the
-- JSON log.
function M.print_summary(r)
  local rep = M.report(r)
  local text = table.concat(M.summary_lines(rep), "\n")
  io.stdout:write(log.mask(text), "\n")
  io.stdout:flush()
  log.event("verify-summary", { failed = rep.counts.FAIL, warnings = rep.counts.warn, ok = rep.counts.ok }, text)
  return rep
end

-- refuse_if_failed(r[, summarized]): refuses (flashrun.errors) when a check failed or some did
-- not run, after printing the summary unless the caller did (summarized); else says how many
-- passed.
function M.refuse_if_failed(r, summarized)
  local n = #r.failures
  if n > 0 or r.skipped then
    if not summarized then M.print_summary(r) end
    refuse(("%s%s: see the summary"):format(count(n, "precheck") .. " failed", r.skipped and " (and some could not run)" or ""))
  end
  -- The passed checks are debug lines: say how many there were (start prints no summary).
  local ok = 0
  for _, c in ipairs(r.checks) do if c.state == "ok" then ok = ok + 1 end end
  log.info("all prechecks passed (%s ok, %s; -v lists every check)", count(ok, "check"), count(#r.warnings, "warning"))
end

return M
