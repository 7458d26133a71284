-- flashrun.rehearsal — what a dry run cannot prove, declared where it is checked and decided
-- here: a rehearsal sends no write, so a check of what a write made (a server's GTID set after a
-- swap, a directory a clone created) would fail or wait for ever. Domain code never asks whether
-- this is a rehearsal; it declares the check.
local log = require "flashrun.log"
local M = {}

-- check(what, fn, stand_in): in a real run, fn()'s results; in a rehearsal fn is not called,
-- "[dry-run] would check: <what>" is logged and stand_in (may be nil) returned. what: a phrase
-- naming the post-condition ("tgt1 answers with the restore point's GTID set").
function M.check(what, fn, stand_in)
  if not log.dry_run() then return fn() end
  log.info("[dry-run] would check: %s", what)
  return stand_in
end

-- Whether this run is a rehearsal: for the host's own modules (flashrun.*) only.
function M.active() return log.dry_run() end

return M
