-- flashrun.files — local files a plan writes for the DBA (the drill report): the host's writer,
-- so a dry run records the write instead of doing it, as it does for SQL, ssh and the journal.
-- Everything written is masked (no registered secret reaches the disk); a file is replaced
-- whole (temporary file, then rename), readable by its owner only.
local log = require "flashrun.log"

local M = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- write(path, text) -> true | nil, err
function M.write(path, text)
  local masked = log.mask(text)
  if log.dry_run() then
    log.record("file", path, ("%d bytes"):format(#masked))
    return true
  end
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then os.execute("mkdir -p -- " .. q(dir)) end
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  os.execute("chmod 600 -- " .. q(tmp))
  local ok, werr = f:write(masked)
  f:close()
  if not ok then os.remove(tmp); return nil, werr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

return M
