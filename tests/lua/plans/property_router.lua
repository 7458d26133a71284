-- Randomized property tests of the router result parsers (stdlib/router.lua, server.lua) inside
-- the real binary: thousands of generated `dbscale show dataservers` / `cluster info` answers,
-- valid and hostile. Properties:
--   * a valid answer is always accepted, exactly (no false refusal; ids in endpoint.format);
--   * an answer is refused with a one-line message naming the row, or accepted with every host,
--     port and name usable on a command line (endpoint / shell grammar) — never a Lua crash;
--   * role and down follow master-online-status and status; primary() raises iff two primaries;
--   * next_group_id follows only a valid [host]:port.
-- FLASHRUN_TEST_SEED reproduces a run (the seed is printed); the default changes every run.
local router = require "router"
local server = require "server"
local shell = require "shell"
local endpoint = require "flashrun.endpoint"
local NULL = cjson.null

local seed = tonumber(os.getenv("FLASHRUN_TEST_SEED") or "") or os.time()
math.randomseed(seed)
local R = math.random
local ROUNDS = 3000

local function pick(t) return t[R(#t)] end
local function name() local s = {} for i = 1, R(1, 20) do s[i] = pick{ "a", "z", "0", "9", "_", "-", "." } end return table.concat(s) end
local function ipv4() return ("%d.%d.%d.%d"):format(R(0, 255), R(0, 255), R(0, 255), R(0, 255)) end
local function ipv6()
  local g = {}
  for i = 1, 8 do g[i] = ("%x"):format(R(0, 65535)) end
  local s = table.concat(g, ":")
  if R(2) == 1 then s = s:gsub("^[^:]+:[^:]+:", "", 1); s = "::" .. s end -- a compressed form
  return s
end
local function valid_host()
  local k = R(3)
  if k == 1 then return "h" .. name():gsub("^[-.]", "x") end
  if k == 2 then return ipv4() end
  return ipv6()
end
-- Bytes a router could send us: anything.
local function junk()
  local s = {}
  for i = 1, R(0, 24) do s[i] = string.char(R(0, 255)) end
  local t = table.concat(s)
  return pick{ t, " " .. valid_host(), valid_host() .. ":", "[" .. valid_host() .. "]", "::1]",
               valid_host() .. "\n", "-x", "", "1e3", "0x10", "99999", "0", "-1", "3306.5", t .. valid_host() }
end
local STATUS = { "Master normal", "Slave normal", "Server normal, semisync down", "Server down",
                 "server disabled", "Slave normal, catching master 68709s", "" }
-- The state each text reads as (issue 10: semi-sync fallen back to async is no down server).
local STATE = { ["Master normal"] = "normal", ["Slave normal"] = "normal", ["Server normal, semisync down"] = "semisync_degraded",
                ["Server down"] = "down", ["server disabled"] = "disabled",
                ["Slave normal, catching master 68709s"] = "lagging", [""] = "unknown" }

local function row(valid)
  local host = valid and valid_host() or (R(2) == 1 and junk() or valid_host())
  local port = valid and tostring(R(1, 65535)) or (R(2) == 1 and junk() or tostring(R(1, 65535)))
  local nm = valid and ("n" .. name()) or (R(3) == 1 and junk() or ("n" .. name()))
  local r = { servername = nm, host = host, port = port, status = pick(STATUS),
              ["master-online-status"] = pick{ "Master_Online", "Not_A_Master", "", NULL } }
  if not valid and R(10) == 1 then r.host = NULL end
  if not valid and R(10) == 1 then r.port = R(2) == 1 and R(1, 65535) or NULL end
  return r
end

local function conn(rows)
  return { query = function(_, stmt)
    if stmt == "dbscale show dataservers" then return rows end
    return nil, "unexpected " .. stmt
  end }
end

return {
  name = "property-router",
  description = "randomized properties of the router result parsers",
  journal = false,
  steps = {
    { name = "regressions", run = function()
        -- found by this test (seed 1796002578): %q kept a newline from the router in the
        -- message, which then spanned two lines
        local ok, err = pcall(router.dataservers, conn{ { servername = "n.a0_z", host = "", port = "153.68.111.236\n",
                                                          status = "", ["master-online-status"] = "" } })
        assert(not ok and not err:find("\n") and err:find('port "153.68.111.236\\n"', 1, true), err)
      end },
    { name = "valid answers are accepted exactly", run = function()
        log.info("MARK seed %d", seed)
        for _ = 1, ROUNDS do
          local rows = {}
          for i = 1, R(1, 6) do rows[i] = row(true) end
          local ok, list = pcall(router.dataservers, conn(rows))
          if not ok then error(("seed %d: a valid answer was refused: %s"):format(seed, tostring(list)), 0) end
          for i, d in ipairs(list) do
            local r = rows[i]
            local want_host = endpoint.host(r.host)
            assert(d.host == want_host and d.port == tonumber(r.port) and d.name == r.servername,
                   ("seed %d: row %d read as %s %s:%s"):format(seed, i, d.name, d.host, d.port))
            assert(d.id == endpoint.format(d.host, d.port), "id " .. d.id)
            assert(d.role == (r["master-online-status"] == "Master_Online" and "primary" or "joiner"), "role")
            assert(d.state == STATE[r.status] and d.down == (STATE[r.status] == "down"),
                   ("seed %d: status %q read as %s"):format(seed, r.status, tostring(d.state)))
            assert(d.id:find(":", 1, true) and (not d.host:find(":") or d.id:sub(1, 1) == "["), "IPv6 ids are bracketed")
          end
        end
      end },
    { name = "hostile answers never get through", run = function()
        local refused, accepted = 0, 0
        for _ = 1, ROUNDS do
          local rows = {}
          for i = 1, R(1, 4) do rows[i] = row(false) end
          local ok, list = pcall(router.dataservers, conn(rows))
          if ok then
            accepted = accepted + 1
            for _, d in ipairs(list) do
              assert(shell.is_host(d.host) and shell.is_port(d.port) and shell.is_name(d.name),
                     ("seed %d: accepted an unusable row %q %q %q"):format(seed, tostring(d.name), tostring(d.host), tostring(d.port)))
              assert(math.type(d.port) == "integer", "port is an integer")
              assert(not d.host:find("[%s%[%]]"), "host without blanks or brackets")
            end
            local primaries = 0
            for _, d in ipairs(list) do if d.role == "primary" then primaries = primaries + 1 end end
            local pok = pcall(router.primary, list)
            assert(pok == (primaries < 2), "primary() raises iff two primaries")
          else
            refused = refused + 1
            assert(type(list) == "string" and not list:find("\n") and not list:find("traceback")
                   and list:find("^router returned"), ("seed %d: refusal is not a clean line: %s"):format(seed, tostring(list)))
          end
        end
        assert(refused > 0 and accepted > 0, ("seed %d: both outcomes must occur (%d refused, %d accepted)"):format(seed, refused, accepted))
        log.info("MARK hostile: %d refused, %d accepted", refused, accepted)
      end },
    { name = "next_group_id follows only a valid master address", run = function()
        for _ = 1, ROUNDS do
          local valid = R(2) == 1
          local h, p = valid_host(), R(1, 65535)
          local addr = valid and endpoint.format(h, p) or pick{ junk(), h .. ":" .. p, "[" .. h .. "]" }
          local followed
          local src = { query = function(_, stmt)
            if stmt == "dbscale request cluster info" then return { { master_dbscale = "master", host = addr } } end
            if stmt == "dbscale request next group id" then return { { next_group_id = "7" } } end
          end }
          local id = router.next_group_id(src, function(ch, cp)
            followed = endpoint.format(ch, cp)
            return src
          end)
          assert(id == 7, "group id")
          if valid then assert(followed == addr, ("seed %d: did not follow %s"):format(seed, addr)) end
          if followed then
            local fh, fp = endpoint.parse(followed)
            assert(fh and fp, "followed an unusable address " .. followed)
          end
        end
      end },
    { name = "server versions", run = function()
        for _ = 1, ROUNDS do
          local a, b, c = R(0, 99), R(0, 99), R(0, 999)
          local text = ("%d.%d.%d%s"):format(a, b, c, pick{ "", "-greatdb", "-log", "-" .. junk() })
          local x, y, z = server.version_numbers(text)
          assert(x == a and y == b and z == c, "version " .. text)
          local bad = junk():gsub("^%d+%.%d+%.%d+", "")
          local ok, err = pcall(server.version_numbers, bad)
          assert(not ok and tostring(err):find("cannot parse server version", 1, true), "refused version")
        end
      end },
  },
}
