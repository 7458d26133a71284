-- flashrun.files — local files a plan writes for the DBA (the drill report): the host's writer,
-- so a dry run records the write instead of doing it, as it does for SQL, ssh and the journal.
-- Everything written is masked (no registered secret reaches the disk); a file is replaced
-- whole (temporary file, then rename), readable by its owner only (0600; a directory it
-- creates is 0700).
local log = require "flashrun.log"
local fs = require "flashrun.fs"

local M = {}

-- write(path, text) -> true | nil, err
function M.write(path, text)
  local masked = log.mask(text)
  if log.dry_run() then
    log.record("file", path, ("%d bytes"):format(#masked))
    return true
  end
  -- In C, not mkdir/chmod through a shell: a static flashrun may run where there is no /bin/sh.
  return fs.write_private(path, masked)
end

return M
