-- stdlib/clone_progress.lua: the clone_progress rows of a recorded MySQL 9.7.4 transcript
-- (clone_progress_9.7.tsv, next to this plan: two remote clones into a DATA DIRECTORY, the second
-- throttled to 2 MiB/s) parsed into samples and fed to a progress tracker at their recorded
-- times; the du and GTID samplers' pure parts.
local cp = require "clone_progress"
local progress = require "flashrun.progress"
local check = require "check"
local eq = check.eq

local UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

-- The transcript: { {clone = "A"|"B", t = Unix time, rows = {...}} }, rows as the mysql client
-- printed them (every value text, NULL as "NULL").
local function transcript()
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  local f = assert(io.open(here .. "/clone_progress_9.7.tsv", "r"))
  local out, clone, cur, header = {}, nil, nil, nil
  for line in f:lines() do
    local c = line:match("^# %-%- clone (%u)")
    if c then clone = c
    elseif line:match("^#") then -- a comment
    elseif line:match("^%-%- sample") then
      cur = { clone = clone, t = tonumber(line:match("(%S+)$")), rows = {} }
      out[#out + 1] = cur
      header = nil
    elseif not header then
      header = {}
      for name in line:gmatch("[^\t]+") do header[#header + 1] = name end
    else
      local r, i = {}, 0
      for v in (line .. "\t"):gmatch("([^\t]*)\t") do i = i + 1; r[header[i]] = v end
      cur.rows[#cur.rows + 1] = r
    end
  end
  f:close()
  return out
end

local function of(samples, clone)
  local out = {}
  for _, s in ipairs(samples) do if s.clone == clone then out[#out + 1] = s end end
  return out
end

return {
  name = "stdlib-clone_progress",
  description = "tests of stdlib/clone_progress.lua",
  journal = false,
  steps = {
    { name = "clone A: empty, in progress, finished", run = function()
        local a = of(transcript(), "A")
        eq(#a, 4, "samples of clone A")
        local s, why = cp.parse(a[1].rows)
        eq(s, nil, "an empty table is no sample"); assert(why:find("empty"), why)
        s = cp.parse(a[2].rows)
        eq(s.stage, "FILE COPY", "stage"); eq(s.state, "In Progress", "state"); eq(s.done, 0, "done")
        eq(s.total, 73520206, "total: the stage's estimate"); eq(s.finished, false, "finished"); eq(s.stage_no, 2, "stage_no")
        s = cp.parse(a[3].rows)
        eq(s.done, 45208654, "done"); eq(s.speed, 41024186, "the server's DATA_SPEED")
        s = cp.parse(a[4].rows)
        eq(s.finished, true, "a DATA DIRECTORY clone ends at FILE SYNC (RESTART, RECOVERY not started)")
        eq(s.stage, "FILE SYNC", "the last completed stage"); eq(s.total, nil, "FILE SYNC has no estimate")
        eq(cp.marker(a[4].rows), "2026-12-07 14:06:26.886778", "marker: DROP DATA's BEGIN_TIME")
        eq(cp.marker(a[1].rows), nil, "no marker in an empty table")
      end },
    { name = "clone B: the last clone's rows are not the new one's", run = function()
        local all = transcript()
        local a, b = of(all, "A"), of(all, "B")
        local since = cp.marker(a[#a].rows)
        local s, why = cp.parse(a[#a].rows, since)
        eq(s, nil, "rows of the clone before"); assert(why:find("not started yet"), why)
        s = cp.parse(b[2].rows, since)
        eq(s.stage, "FILE COPY", "the new clone's stage"); eq(s.done, 3150926, "done")
        assert(cp.marker(b[2].rows) ~= since, "clone B has its own marker")
        eq(cp.parse(b[#b].rows, since).finished, true, "clone B finished")
      end },
    { name = "clone B through a tracker: 2 MiB/s, the percentage grows, an ETA", run = function()
        local b = of(transcript(), "B")
        local t = progress.tracker{ node = "tgt3:3308", task = "clone", unit = "bytes", step = "test", interval = 0 }
        local last_pct, reports = -1, {}
        for _, smp in ipairs(b) do
          local s = cp.parse(smp.rows)
          if s and s.stage == "FILE COPY" and s.state == "In Progress" then
            local r = t:update(s, smp.t)
            assert(r.pct >= last_pct, ("the percentage went back: %s after %s"):format(r.pct, last_pct))
            last_pct = r.pct
            reports[#reports + 1] = r
          end
        end
        assert(#reports >= 10, "in-progress samples: " .. #reports)
        local r = reports[#reports]
        local mib = r.rate / 1048576
        assert(mib > 1.6 and mib < 3, ("rate %.2f MiB/s, throttled to 2"):format(mib))
        assert(r.eta and r.eta > 0 and r.eta < 10, "eta " .. tostring(r.eta))
        assert(r.pct > 85 and r.pct < 100, "pct " .. r.pct)
        print(progress.line(r))
      end },
    { name = "du and GTID samplers", run = function()
        eq(cp.parse_du("71804\n"), 71804 * 1024, "du -sk")
        eq(cp.parse_du(" 0 "), 0, "an absent directory")
        local v, why = cp.parse_du("du: cannot read")
        eq(v, nil, "not a size"); assert(why:find("not a size"), why)
        eq(cp.du_script("/data/my sql/rp"),
           "if [ -d '/data/my sql/rp' ]; then du -sk '/data/my sql/rp' 2>/dev/null | cut -f1; else echo 0; fi", "du script")
        eq(cp.left(UUID .. ":1-10", UUID .. ":1-4"), 6, "transactions left")
        eq(cp.left(UUID .. ":1-10", UUID .. ":1-10"), 0, "none left")
        local w = cp.wait(UUID .. ":1-100", UUID .. ":1-40", "apply")
        eq(w.left, 60, "wait sample"); eq(w.stage, "apply", "stage")
      end },
  },
}
