-- restore_point.manifest — whether a restore point is intact: the names and sizes of its files,
-- hashed on the host right after it is taken (one line of journal for a datadir of any size),
-- and compared again by stop and status.
local shell = require "shell"
local rehearsal = require "flashrun.rehearsal"
local cluster = require "cluster"
local M = {}

local Q = shell.quote

-- The manifest of a directory: the SHA-256 of its "size path" lines (one per file, sorted), its
-- file count and bytes, printed as "DIGEST\nFILES BYTES": hashed on the host, so a large datadir
-- costs one line of journal. Pure.
function M.script(dir)
  return ("cd %s && find . -type f -printf '%%s %%P\\n' | LC_ALL=C sort | sha256sum | cut -c1-64 && "
          .. "find . -type f -printf '%%s\\n' | awk '{ n++; b += $1 } END { printf \"%%d %%d\\n\", n, b }'"):format(Q(dir))
end

-- { digest =, files =, bytes = } of dir on s, or nil when it does not exist.
function M.read(s, dir)
  local out = cluster.read(s, ("test -d %s || { echo absent; exit 0; }; %s"):format(Q(dir), M.script(dir)))
  if out == "absent" then return nil end
  local h, n, b = (out or ""):match("^(%x+)\n(%d+) (%d+)$")
  if not h then error(("cannot read the manifest of %s: %s"):format(dir, tostring(out)), 0) end
  return { digest = h, files = tonumber(n), bytes = tonumber(b) }
end

-- Whether the restore point recorded for m (rec = {dir, digest, ...}) is intact: why not, or nil.
function M.damage(m, rec)
  if not rec or not rec.digest then return "no restore point was journaled" end
  local now_ = M.read(cluster.ssh("target", m.host), rec.dir)
  if not now_ then return rec.dir .. " is gone" end
  if now_.digest ~= rec.digest then
    return ("%s no longer matches its manifest (%d files, %d bytes; recorded %d files, %d bytes)")
      :format(rec.dir, now_.files, now_.bytes, rec.files, rec.bytes)
  end
  return nil
end

-- The manifest of the restore point just taken into dir on s: a rehearsal took none, and gives
-- an empty stand-in. Raises when dir is missing (the copy said it was made).
M.REHEARSED = { digest = "dry-run", files = 0, bytes = 0 }
function M.taken(s, m)
  local man = rehearsal.check(m.id .. "'s restore point directory and its manifest", function() return M.read(s, m.restore_point_dir) end, M.REHEARSED)
  if not man then error(("%s: the restore point was taken but %s does not exist"):format(m.id, m.restore_point_dir), 0) end
  return man
end

return M
