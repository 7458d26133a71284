-- flashrun.fs and flashrun.files inside the real binary: what flashrun writes on the local
-- machine, done with system calls (no shell: a static flashrun may run where there is none).
-- run.sh checks the modes this leaves in the working directory.
local fs = require "flashrun.fs"
local files = require "flashrun.files"
local check = require "check"
local eq = check.eq

return {
  name = "stdlib-fs",
  description = "local files without a shell",
  journal = false,
  steps = {
    { name = "write", run = function()
        -- new directories on the way (0700), the file 0600, replaced whole
        assert(files.write("rep/sub/r.json", "first\n"))
        assert(files.write("rep/sub/r.json", "second\n"))
        local f = assert(io.open("rep/sub/r.json")); eq(f:read("a"), "second\n", "the file replaced whole"); f:close()
        -- a file that exists wider than 0600 (run.sh made wide.md 0644) ends up 0600
        assert(files.write("wide.md", "narrow now\n"))
        -- an expected failure is nil, err: a directory where the file should be
        local ok, err = files.write("rep/sub", "x")
        eq(ok, nil, "writing over a directory fails")
        assert(tostring(err):find("rep/sub", 1, true), "the error names the path: " .. tostring(err))
      end },
    { name = "list and realdir", run = function()
        for _, n in ipairs({ "b.lua", "a.lua", "c.txt" }) do assert(io.open("lst/" .. n, "w")):close() end
        eq(table.concat(fs.list("lst", ".lua"), ","), "a.lua,b.lua", "the *.lua files, sorted")
        eq(#fs.list("lst"), 3, "every file without a suffix")
        local none, lerr = fs.list("no-such-dir", ".lua")
        eq(none, nil, "listing a missing directory fails"); assert(lerr:find("no-such-dir", 1, true))
        local abs = assert(fs.realdir("lst/../lst"))
        eq(abs:sub(1, 1), "/", "absolute"); eq(abs:match("[^/]+$"), "lst", "resolved")
        eq(fs.realdir("lst/a.lua"), nil, "a file is not a directory")
        eq(fs.executable("lst/a.lua"), false, "not executable")
        eq(fs.executable("/bin/sh"), true, "/bin/sh is executable")
      end },
  },
}
