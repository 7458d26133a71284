-- sql errors that need no server, in the real flashrun binary: refused port, programmer errors.
-- run.sh checks that the password appears nowhere in the output.
local function unreachable()
  local c, err, errno = sql{ host = "127.0.0.1", port = 1, user = "root", password = "p4ssw0rd-x", timeout = 2 }
  assert(c == nil and type(err) == "string" and (errno == 2003 or errno == 2002), tostring(err) .. " " .. tostring(errno))
  assert(err:find("127.0.0.1:1", 1, true), err)
  assert(not err:find("p4ssw0rd-x", 1, true), err)
  log.info("refused as expected: %s", err)
end

local function programmer_errors()
  assert(not pcall(sql, { port = 1 }), "missing host must raise")
  assert(not pcall(sql, { host = "127.0.0.1", user = "x", port = "abc" }), "bad port must raise")
  assert(sql.null ~= nil and type(sql.null) == "userdata", "sql.null")
  print("ok")
end

return {
  name = "drivers-unreachable",
  description = "sql errors that need no server",
  journal = false,
  steps = {
    { name = "refused port", run = unreachable },
    { name = "programmer errors", run = programmer_errors },
  },
}
