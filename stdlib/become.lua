-- become.lua — running a node host's commands as another user through sudo (sys_become = sudo,
-- sys_become_user in [source]/[target]), for sites whose ssh account is a named person's or a
-- service account's, not root's or mysqld's. Pure: cluster.lua applies it to every command it
-- runs (cluster.run, cluster.read, cluster.command); checks (checks/os.lua) runs the probe and judges it.
local shell = require "shell"
local M = {}

-- The command line that runs cmd (a shell script, as cluster.run takes it) as user through sudo:
--   sudo -n -u USER -- sh -c 'CMD'
-- -n: never prompt (sudo fails at once instead of waiting for a password no one types); the
-- script is one argument of sh -c, single-quoted (shell.quote), so the login shell hands it to
-- sudo verbatim and sh reads it as written. stdin goes through sudo to the script unchanged:
-- secrets still travel there, never on this line.
function M.command(cmd, user)
  if type(cmd) ~= "string" then error("become.command: cmd must be a string", 2) end
  if type(user) ~= "string" or user == "" then error("become.command: user must be a non-empty string", 2) end
  return ("sudo -n -u %s -- sh -c %s"):format(shell.quote(user), shell.quote(cmd))
end

-- What verify runs as the ssh user (not through sudo) to learn whether sudo works for user
-- without a password or a tty: exit 0 when it does; exit 127 and "sudo: not installed" when
-- there is no sudo. Changes nothing.
function M.probe(user)
  return ("command -v sudo >/dev/null 2>&1 || { echo 'sudo: not installed' >&2; exit 127; }; sudo -n -u %s -- true")
    :format(shell.quote(user))
end

-- The sudoers lines a drill needs, for sys_user to run commands as user.
function M.sudoers(sys_user, user)
  return ("%s ALL=(%s) NOPASSWD: ALL"):format(sys_user, user)
end

-- judge(sys_user, user, stderr, status) -> nil when the probe passed, else {cause, fix}. The
-- messages are sudo's own (sudo 1.8 and 1.9): "a password is required" (also what a user sudo
-- knows nothing of gets under -n), "you must have a tty" (Defaults requiretty, as CentOS 7's
-- sudoers ships it), "is not allowed to execute" / "is not in the sudoers file".
function M.judge(sys_user, user, err, status)
  if status == 0 then return nil end
  err = tostring(err or ""):gsub("%s+$", "")
  local line = M.sudoers(sys_user, user)
  local where = "in /etc/sudoers.d/flashrun (visudo -f /etc/sudoers.d/flashrun)"
  local e = err:lower()
  if status == 127 and e:find("sudo: not installed", 1, true) then
    return { cause = "sudo is not installed on the host (sys_become = sudo)",
             fix = ("install sudo, then put this line %s: %s"):format(where, line) }
  elseif e:find("tty", 1, true) then
    return { cause = ("sudo demands a tty (Defaults requiretty), and flashrun runs its commands without one: %s"):format(err),
             fix = ("put this line %s: Defaults:%s !requiretty"):format(where, sys_user) }
  elseif e:find("password", 1, true) then -- "a password is required", and older sudo's wordings
    return { cause = ("sudo wants a password for %s to run commands as %s, and flashrun gives none (sudo -n): %s"):format(sys_user, user, err),
             fix = ("put this line %s: %s"):format(where, line) }
  elseif e:find("not allowed", 1, true) or e:find("not in the sudoers", 1, true) then
    return { cause = ("sudo refuses %s to run commands as %s: %s"):format(sys_user, user, err),
             fix = ("put this line %s: %s"):format(where, line) }
  end
  return { cause = ("sudo -n -u %s failed (exit %s): %s"):format(user, tostring(status), err),
           fix = ("sys_become = sudo needs, %s: %s"):format(where, line) }
end

return M
