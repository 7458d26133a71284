-- For tests/lab/lab-test quoting: logs in with the accounts of the INI the test wrote through the
-- lab's own quoting (ini_str), and says who it is. [source] is a MySQL node, [target] a router
-- emulator in front of the source cluster; sys_password, when set, is tried on the source host
-- by ssh (password only: no key). MARK lines carry the account names, never a password.
local function whoami(name, c)
  local conn, err = sql{ host = c.host, port = c.port, user = c.mysql_user, password = c.mysql_password,
                         timeout = 5, read_timeout = 10 }
  if not conn then error(name .. ": no SQL login: " .. tostring(err), 0) end
  local rows, qerr = conn:query("SELECT CURRENT_USER() AS u")
  conn:close()
  if not rows then error(name .. ": " .. tostring(qerr), 0) end
  log.info("MARK %s sql %s", name, rows[1].u)
end

return {
  name = "lab-quoting",
  description = "log in with the configured passwords (lab quoting property test)",
  steps = {
    { name = "login", run = function()
        whoami("source", config.source)
        whoami("target", config.target)
        local c = config.source
        if c.sys_password then
          local s, err = ssh{ host = c.host, port = c.sys_port, user = c.sys_user, password = c.sys_password,
                              known_hosts = c.known_hosts, host_key_policy = "strict", timeout = 10 }
          if not s then error("source: no ssh login: " .. tostring(err), 0) end
          local out, _, status = s:read("id -un")
          s:close()
          if status ~= 0 then error("source: id -un exited " .. tostring(status), 0) end
          log.info("MARK source ssh %s", (out:gsub("%s+$", "")))
        end
      end },
  },
}
