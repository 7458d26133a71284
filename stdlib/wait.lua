-- wait — the name site plans and site modules know flashrun.wait by (docs/plans.md): the
-- polling itself is the host's, which decides what a rehearsal does.
return require "flashrun.wait"
