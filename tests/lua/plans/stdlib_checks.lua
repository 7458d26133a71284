-- stdlib/checks.lua inside the real binary: MySQL size settings.
local checks = require "checks"
local check = require "check"
local eq = check.eq

return {
  name = "stdlib-checks",
  description = "tests of stdlib/checks.lua",
  journal = false,
  steps = {
    { name = "size_bytes", run = function()
        eq(checks.size_bytes("128M"), 134217728, "128M")
        eq(checks.size_bytes("1G"), 1073741824, "1G")
        eq(checks.size_bytes("512m"), 536870912, "lower-case unit")
        eq(checks.size_bytes(134217728), 134217728, "a number (the server's variable)")
        eq(checks.size_bytes("64K"), 65536, "64K")
        eq(checks.size_bytes("2GB"), 2147483648, "a trailing B")
        eq(checks.size_bytes("node"), nil, "not a size")
        eq(checks.size_bytes("1.5G"), nil, "fractions are not MySQL sizes")
        eq(checks.size_bytes(""), nil, "empty")
      end },
  },
}
