-- A helper module of the site's (require "lib.marks"): not a site file, being in a subdirectory.
local M = {}
function M.mark(what) return function() log.info("MARK %s", what) end end
return M
