-- status — how the drill stands (minimal: the binary log stream; plans/status.lua of issue 13
-- is the full report, made of sections: this one is its "binary log stream" section,
-- binlog_stream.status_rows). Prints one line per row; exit 3 when a row needs the DBA.
local binlog_stream = require "binlog_stream"

local MARK = { ok = "  ", note = " ·", warn = "!!" }

return {
  name = "status",
  description = "report the drill's binary log stream",
  needs = { "source", "target" },
  steps = {
    { id = "status", name = "report the binary log stream", always = true, run = function(ctx)
        local rows = binlog_stream.status_rows(ctx.state)
        local out, warn = { "binary log stream" }, false
        for _, r in ipairs(rows) do
          warn = warn or r.state == "warn"
          out[#out + 1] = ("%s  %-20s %s"):format(MARK[r.state or "ok"], r.label, r.text or tostring(r.value))
        end
        io.stdout:write(table.concat(out, "\n"), "\n")
        if warn then refuse("the binary log stream needs the DBA (rows marked !!)") end
      end },
  },
}
