-- stdlib/become.lua inside the real binary: the sudo wrapper run through sh with a fake sudo (a
-- script that checks its options and runs the rest as sudo would, minus the user switch), the
-- script reaching sh -c as written, stdin passing through and never reaching argv; the probe and
-- the causes sudo gives (a password wanted, requiretty, refused, not installed); cluster.command
-- leaving a session without sys_become alone.
local become = require "become"
local cluster = require "cluster"
local shell = require "shell"
local check = require "check"
local eq, raises = check.eq, check.raises

local function tmpdir()
  local p = assert(io.popen("mktemp -d /tmp/flashrun-become.XXXXXX"))
  local d = p:read("l"); p:close()
  return d
end
local function write(path, text, mode)
  local f = assert(io.open(path, "w")); f:write(text); f:close()
  if mode then assert(os.execute(("chmod %s %s"):format(mode, shell.quote(path)))) end
end
local function slurp(path)
  local f = io.open(path, "rb"); if not f then return nil end
  local t = f:read("a"); f:close(); return t
end

-- A fake sudo on PATH: records its arguments (one per line, NUL-free) and, when they are
-- `-n -u USER -- CMD...`, runs CMD as sudo does; FAKE_SUDO_ERR makes it fail like sudo does.
local FAKE = [[#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done >>"$FAKE_SUDO_ARGS"
if [ -n "${FAKE_SUDO_ERR:-}" ]; then printf 'sudo: %s\n' "$FAKE_SUDO_ERR" >&2; exit 1; fi
[ "$1" = -n ] && [ "$2" = -u ] && [ -n "$3" ] && [ "$4" = -- ] || { echo "fake sudo: bad options: $*" >&2; exit 99; }
shift 4
exec "$@"
]]

-- runs line with sh (PATH: the fake sudo first), stdin from a file; stdout, stderr, status
local function run(dir, line, stdin, env)
  write(dir .. "/in", stdin or "")
  write(dir .. "/cmd", line)
  local ok, _, status = os.execute(("cd %s && %s PATH=%s:$PATH FAKE_SUDO_ARGS=%s/args sh ./cmd <in >out 2>err")
    :format(shell.quote(dir), env or "", shell.quote(dir .. "/bin"), shell.quote(dir)))
  return slurp(dir .. "/out"), slurp(dir .. "/err"), ok and 0 or status
end

local SCRIPTS = {
  "echo plain",
  "printf '%s\\n' \"it's\" 'a \"quoted\" word' $((1+2))",
  "x='$HOME `id` $(id) \\\\ ; | & > <'; printf '%s\\n' \"$x\"",
  "for i in 1 2 3; do\n  echo line $i\ndone\n# a comment with ' and \"",
  "cat; echo after-stdin", -- stdin reaches the script
  "echo 'tab\there'; exit 7", -- the exit status comes back
  "set -- a 'b c'; echo $# \"$2\"",
}

return {
  name = "stdlib-become",
  description = "tests of stdlib/become.lua and the sudo wrapper",
  journal = false,
  steps = {
    { name = "the command line", run = function()
        eq(become.command("id -un", "root"), "sudo -n -u 'root' -- sh -c 'id -un'", "simple")
        eq(become.command("echo 'a'", "my sql"), "sudo -n -u 'my sql' -- sh -c 'echo '\\''a'\\'''", "quotes in both")
        raises("user must be a non-empty string", become.command, "true", "")
        raises("cmd must be a string", become.command, nil, "root")
      end },
    { name = "through sh: each script runs as written, stdin passes, argv holds no stdin", run = function()
        local dir = tmpdir()
        assert(os.execute("mkdir " .. shell.quote(dir .. "/bin")))
        write(dir .. "/bin/sudo", FAKE, "755")
        local secret_in = "S3cret-stdin 'q' \"d\" $x\n"
        for i, script in ipairs(SCRIPTS) do
          os.remove(dir .. "/args")
          local o1, e1, s1 = run(dir, script, secret_in)
          local o2, e2, s2 = run(dir, become.command(script, "root"), secret_in)
          eq(o2, o1, ("script %d: stdout through sudo"):format(i))
          eq(e2, e1, ("script %d: stderr through sudo"):format(i))
          eq(s2, s1, ("script %d: exit status through sudo"):format(i))
          local args = slurp(dir .. "/args") or ""
          assert(args:find("-n\n-u\nroot\n--\nsh\n-c\n", 1, true) == 1, ("script %d: sudo's argv %q"):format(i, args))
          assert(args:find(script, 1, true), ("script %d: the script is not one argument of sh -c: %q"):format(i, args))
          assert(not args:find("S3cret", 1, true), ("script %d: stdin in argv"):format(i))
        end
        local o = run(dir, become.command("cat", "mysql"), secret_in)
        eq(o, secret_in, "stdin as sent")
        assert(os.execute("rm -rf " .. shell.quote(dir)))
      end },
    { name = "the probe and what sudo says", run = function()
        local dir = tmpdir()
        assert(os.execute("mkdir " .. shell.quote(dir .. "/bin")))
        write(dir .. "/bin/sudo", FAKE, "755")
        local _, e, st = run(dir, become.probe("root"))
        eq(st, 0, "probe with a working sudo: " .. tostring(e))
        eq(become.judge("dba", "root", e, st), nil, "judged: works")
        _, e, st = run(dir, become.probe("root"), nil, "FAKE_SUDO_ERR='a password is required'")
        local j = become.judge("dba", "root", e, st)
        assert(j and j.cause:find("sudo wants a password for dba to run commands as root", 1, true), "password: " .. tostring(j and j.cause))
        assert(j.fix:find("dba ALL=(root) NOPASSWD: ALL", 1, true), "password fix: " .. j.fix)
        -- CentOS 7's sudoers: Defaults requiretty
        j = become.judge("dba", "root", "sudo: sorry, you must have a tty to run sudo\n", 1)
        assert(j and j.cause:find("demands a tty (Defaults requiretty)", 1, true), "requiretty: " .. tostring(j and j.cause))
        assert(j.fix:find("Defaults:dba !requiretty", 1, true), "requiretty fix: " .. j.fix)
        j = become.judge("dba", "mysql", "Sorry, user dba is not allowed to execute '/usr/bin/true' as mysql on tgt1.\n", 1)
        assert(j and j.cause:find("sudo refuses dba", 1, true) and j.fix:find("dba ALL=(mysql) NOPASSWD: ALL", 1, true), "refused: " .. tostring(j and j.cause))
        j = become.judge("dba", "root", "dba is not in the sudoers file.\n", 1)
        assert(j and j.cause:find("sudo refuses", 1, true), "not in sudoers")
        -- no sudo on the host: PATH without it
        write(dir .. "/cmd", become.probe("root"))
        local ok, _, status = os.execute(("cd %s && PATH=/nonexistent /bin/sh ./cmd 2>err"):format(shell.quote(dir)))
        e = slurp(dir .. "/err")
        j = become.judge("dba", "root", e, ok and 0 or status)
        assert(j and j.cause:find("sudo is not installed", 1, true), "not installed: " .. tostring(j and j.cause) .. " " .. tostring(e))
        j = become.judge("dba", "root", "sudo: something new\n", 1)
        assert(j and j.cause:find("sudo -n -u root failed (exit 1): sudo: something new", 1, true), "other: " .. tostring(j and j.cause))
        assert(os.execute("rm -rf " .. shell.quote(dir)))
      end },
    { name = "a session without sys_become is left alone", run = function()
        eq(cluster.command({}, "id -un"), "id -un", "no become")
      end },
  },
}
