-- stdlib/checks.lua inside the real binary: the side-port check's reading of /proc/net/tcp{,6}.
local checks = require "checks"
local check = require "check"
local eq = check.eq

-- Real lines (header, then sockets), 127.0.52.3:18000 listening, clients of 127.0.52.1:18000.
local TCP = [[
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  13: 0334007F:4650 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1070573 1 0 100 0 0 10 0
  45: 0100007F:EC5C 0134007F:4650 06 00000000:00000000 03:0000004D 00000000     0        0 0 3 0
  46: 0134007F:4650 0100007F:EC62 01 00000000:00000000 03:0000004D 00000000     0        0 0 3 0
   7: 0100007F:0CEB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   104        0 20011 1 0 100 0 0 10 0
]]
local WILD4 = "  9: 00000000:4650 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0\n"
local WILD6 = "  2: 00000000000000000000000000000000:4650 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0\n"
local MAPPED6 = "  3: 0000000000000000FFFF00000334007F:4650 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0\n"

local function n(text, host, port) return #checks.listeners("\n" .. text, host, port) end

return {
  name = "stdlib-checks",
  description = "tests of stdlib/checks.lua",
  journal = false,
  steps = {
    { name = "listeners", run = function()
        eq(n(TCP, "127.0.52.3", 18000), 1, "the listener on the node's own address")
        eq(n(TCP, "127.0.52.1", 18000), 0, "another address's listener, and connected sockets, do not count")
        eq(n(TCP, "127.0.52.3", 18001), 0, "another port")
        eq(n(TCP, "127.0.0.1", 3307), 1, "0CEB is 3307 on 127.0.0.1")
        eq(n(TCP .. WILD4, "127.0.52.1", 18000), 1, "0.0.0.0 collides with every address")
        eq(n(WILD6, "10.1.2.3", 18000), 1, ":: collides with every address")
        eq(n(MAPPED6, "127.0.52.3", 18000), 1, "an IPv4-mapped IPv6 listener on the node's address")
        eq(n(MAPPED6, "127.0.52.1", 18000), 0, "an IPv4-mapped listener on another address")
        eq(n(TCP, "db3.example", 18000), 1, "a host name: any listener on the port counts")
        eq(n("7F003403:4650 garbage", "127.0.52.3", 18000), 0, "lines that are not sockets")
        eq(n("  1: 7F340003:4650 00000000:0000 0A 0 0", "127.0.52.3", 18000), 0, "a byte order that matches neither")
        eq(n("  1: 7F003403:4650 00000000:0000 0A 0 0", "127.0.52.3", 18000), 1, "a big-endian kernel's order")
      end },
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
