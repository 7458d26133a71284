-- states.lua — the one scale a check (verify, start: stdlib/checks/) or a status row
-- (stdlib/sections.lua) is judged on, from good to bad:
--
--   ok    nothing to say
--   note  worth knowing, nothing to do (status)
--   warn  the DBA must act (status then exits 3), or a check that lets the drill go on
--   fail  a check that refuses the drill
--
-- Code, the journal and the drill report name a state by its word here ("fail"). Two places
-- print it otherwise, and only through this module: verify's check lines, summary and
-- --report-json write a failure "FAIL" (word(), upper-case so that it stands out in a screen of
-- ok lines; scripts read it), and status marks a row in its margin (mark()).
local M = {}

local RANK = { ok = 0, note = 1, warn = 2, fail = 3 }
local WORD = { ok = "ok", note = "note", warn = "warn", fail = "FAIL" }
local MARK = { ok = "  ", note = " ·", warn = "!!", fail = "!!" }

-- known(state) -> whether state is a word of the scale.
function M.known(state) return RANK[state] ~= nil end

-- rank(state) -> 0 (ok) .. 3 (fail); nil counts as ok, and so does a word off the scale (a
-- status row's state is its plan's: a typo there shows as ok rather than failing the report).
function M.rank(state) return RANK[state or "ok"] or 0 end

-- worst(a, b) -> the worse of two states; a when they rank the same (nil included).
function M.worst(a, b) return M.rank(b) > M.rank(a) and b or a end

-- word(state) -> how verify prints it ("FAIL" for fail). Raises on a word off the scale.
function M.word(state) return WORD[state] or error(("states: %q is not a state (ok, note, warn, fail)"):format(tostring(state)), 2) end

-- mark(state) -> status's two-character margin mark ("!!" where the DBA must act); blank for
-- nil and for a word off the scale.
function M.mark(state) return MARK[state] or "  " end

return M
