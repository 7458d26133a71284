-- ssh driver against the throwaway sshd from with-servers.sh, in the real flashrun binary:
-- run.sh runs this plan three times (see support.plan):
--   live   host key policies, password/key login, run/read/write_file, timeouts, busy, overlap
--   dry    (--dry-run) run and write_file are recorded, read stays live
--   after  the dry run's writes did not reach the remote
local t = require "support"
local check, env = t.check, t.env

local host, port = env"FR_SSH_HOST", math.tointeger(tonumber(env"FR_SSH_PORT"))
local user, pw, key, dir = env"FR_SSH_USER", env"FR_SSH_PASSWORD", env"FR_SSH_KEY", env"FR_SSH_DIR"
local homedir = env"FR_SSH_HOMEDIR" -- the remote /tmp/home seen from this host
local kh = dir .. "/known_hosts"
local function nopw(s) check(not tostring(s):find(pw, 1, true), "password leaked in: %s", s) end
local function connect(extra)
  local o = { host = host, port = port, user = user, password = pw, known_hosts = kh }
  for k, v in pairs(extra or {}) do o[k] = v end
  return ssh(o)
end
local function local_mode(path)
  local p = io.popen("stat -c %a '" .. path:gsub("'", "'\\''") .. "'")
  local m = p:read("l"); p:close()
  return m
end
local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

local live = {
  { name = "host key policies", run = function()
      -- strict refuses an unknown host, and writes nothing
      local s, err = connect{ host_key_policy = "strict" }
      check(s == nil and err:find("unknown host key") and err:find("strict"), "strict: %s", tostring(err))
      check(not exists(kh), "strict created known_hosts")
      nopw(err)
      -- accept-new (default) records the key; then strict accepts it
      s, err = connect()
      check(s, "accept-new: %s", tostring(err))
      s:close(); s:close() -- idempotent
      local f = assert(io.open(kh)); local line = f:read("a"); f:close()
      check(line:find("[" .. host .. "]:" .. port, 1, true) and line:find("^%[%S+ %S+ %S+\n$"), "known_hosts: %s", line)
      check(not line:find(pw, 1, true), "password in known_hosts")
      s, err = connect{ host_key_policy = "strict" }
      check(s, "strict with the recorded key: %s", tostring(err)); s:close()
      -- a mismatching key is refused even under accept-new
      local bad = dir .. "/known_hosts_bad"
      local pf = assert(io.open(key .. ".pub")); local other = pf:read("l"); pf:close() -- a different ed25519 key
      local bf = assert(io.open(bad, "w"))
      bf:write(string.format("[%s]:%d %s\n", host, port, other:match("^(%S+ %S+)"))); bf:close()
      s, err = connect{ known_hosts = bad }
      check(s == nil and err:find("does not match"), "mismatch: %s", tostring(err))
    end },
  { name = "known_hosts as OpenSSH writes it", run = function()
      -- The server offers ed25519, ECDSA and RSA host keys. known_hosts files holding one type,
      -- several, hashed names, markers and lines libssh2 cannot parse must all work as with
      -- OpenSSH (issue 9: an ed25519-only file made strict refuse a host OpenSSH accepts).
      local function pub(var) local f = assert(io.open(env(var))); local l = f:read("l"); f:close(); return l:match("^(%S+ %S+)") end
      local ed, ec, rsa = pub"FR_SSH_HOSTPUB", pub"FR_SSH_HOSTPUB_ECDSA", pub"FR_SSH_HOSTPUB_RSA"
      local name = ("[%s]:%d"):format(host, port)
      local n = 0
      local function file(lines)
        n = n + 1
        local path = ("%s/kh_%d"):format(dir, n)
        local f = assert(io.open(path, "w")); f:write(table.concat(lines, "\n"), "\n"); f:close()
        return path
      end
      local function works(path, what, policy)
        local s, err = connect{ known_hosts = path, host_key_policy = policy or "strict" }
        check(s, "%s: %s", what, tostring(err)); if s then s:close() end
      end
      local function refused(path, what, want, policy)
        local s, err = connect{ known_hosts = path, host_key_policy = policy or "strict" }
        check(s == nil and tostring(err):find(want, 1, true), "%s (%s): %s", what, policy or "strict", tostring(err))
        if s then s:close() end
      end
      works(file{ name .. " " .. ed }, "ed25519 only")
      works(file{ name .. " " .. ec }, "ecdsa only")
      works(file{ "# a comment", "", name .. " " .. rsa, name .. " " .. ec, name .. " " .. ed }, "mixed")
      works(file{ name .. " sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
                  "this line is garbage", name .. " " .. ed }, "lines libssh2 cannot parse, then the key")
      works(file{ "@cert-authority *.example.com " .. ec, name .. " " .. ed }, "@cert-authority skipped")
      works(file{ "otherhost " .. ec, "[" .. host .. "]:1 " .. ec, name .. " " .. ed }, "other hosts' entries")
      -- hashed names, as HashKnownHosts writes them
      local hashed = file{ name .. " " .. ed }
      check(os.execute(("ssh-keygen -q -H -f '%s' >/dev/null 2>&1"):format(hashed)), "ssh-keygen -H failed")
      local f = assert(io.open(hashed)); local text = f:read("a"); f:close()
      check(text:find("^|1|") and not text:find(host, 1, true), "not hashed: %s", text)
      works(hashed, "hashed name")
      -- @revoked: refused under every policy, even when the same key is also recorded as valid
      local rev = file{ "@revoked * " .. ed, name .. " " .. ed }
      for _, policy in ipairs{ "strict", "accept-new", "off" } do refused(rev, "@revoked", "marked @revoked", policy) end
      -- a revoked key of another type does not stop the recorded one
      works(file{ "@revoked * " .. ec, name .. " " .. ed }, "another key revoked")
      -- the mismatch check still holds with the type known_hosts asks for
      refused(file{ name .. " " .. pub"FR_SSH_HOSTPUB":gsub("AAAA", "AAAB", 1) }, "corrupt ed25519 key", "")
    end },
  { name = "password and key logins", run = function()
      -- wrong password, no key: fails, says what was tried, never shows the password
      local s, err = connect{ password = "wrong-" .. pw, host_key_policy = "strict" }
      check(s == nil and err:find("tried the password (refused)", 1, true) and err:find("the server offers publickey,password", 1, true),
            "wrong pw: %s", tostring(err))
      nopw(err); check(not err:find("wrong-", 1, true), "password shown: %s", err)
      -- wrong password then key: falls back to the key
      s, err = connect{ password = "nope", key = key }
      check(s, "key fallback: %s", tostring(err)); s:close()
      -- key only, user without a password; .pub absent -> derived from the private key
      os.rename(key .. ".pub", key .. ".pub.away")
      s, err = ssh{ host = host, port = port, user = env"FR_SSH_KEYUSER", key = key, known_hosts = kh }
      os.rename(key .. ".pub.away", key .. ".pub")
      check(s, "key only: %s", tostring(err)); s:close()
      -- refused port
      s, err = connect{ port = 1, timeout = 2 }
      check(s == nil and err:find("refused"), "refused: %s", tostring(err))
    end },
  { name = "key files: passphrases, formats, modes, RSA, ssh_auth", run = function()
      local pp, kuser = env"FR_SSH_PASSPHRASE", env"FR_SSH_KEYUSER"
      local enc, pem = env"FR_SSH_KEY_ENC", env"FR_SSH_KEY_PEM"
      local function secretless(err)
        check(not tostring(err):find(pp, 1, true), "passphrase leaked in: %s", err); nopw(err)
      end
      local function try(o, user) -- as frkey (no password) unless told
        local t = { host = host, port = port, user = user or kuser, known_hosts = kh }
        for k, v in pairs(o) do t[k] = v end
        return ssh(t)
      end
      local function works(o, what, user)
        local s, err = try(o, user)
        check(s, "%s: %s", what, tostring(err)); secretless(err)
        if s then check(s:read("id -un") == (user or kuser) .. "\n", "%s: another user", what); s:close() end
      end
      local function refused(o, what, user, ...)
        local s, err = try(o, user)
        if s then s:close() end
        check(s == nil, "%s: logged in", what); secretless(err)
        for _, want in ipairs{ ... } do check(err:find(want, 1, true), "%s: %q not in: %s", what, want, err) end
        return err
      end
      works({ key = enc, passphrase = pp }, "encrypted key, OpenSSH format")
      works({ key = pem, passphrase = pp }, "encrypted key, PEM")
      os.rename(enc .. ".pub", enc .. ".pub.away") -- the public half derived from the decrypted key
      local s, err = try{ key = enc, passphrase = pp }
      os.rename(enc .. ".pub.away", enc .. ".pub")
      check(s, "encrypted key without its .pub: %s", tostring(err)); s:close()
      refused({ key = enc, passphrase = "not-" .. pp }, "wrong passphrase", nil, "the key " .. enc,
              "cannot be decrypted with ssh_key_passphrase: a wrong passphrase", "the server offers publickey")
      refused({ key = pem, passphrase = pp .. "x" }, "wrong passphrase, PEM", nil, "a wrong passphrase")
      refused({ key = enc }, "no passphrase", nil, "encrypted, and ssh_key_passphrase is not set")
      -- RSA: libssh2 before 1.11 (Debian 12's 1.10) signs with ssh-rsa only, which the lab's
      -- OpenSSH refuses, and the failure says so; 1.11 (sid's, the libmysqlclient chroot) signs
      -- with rsa-sha2 and logs in.
      local a, b = require("flashrun.ssh").libssh2_version:match("^(%d+)%.(%d+)")
      if tonumber(a) > 1 or tonumber(b) >= 11 then
        works({ key = env"FR_SSH_KEY_RSA" }, "RSA key, libssh2 " .. require("flashrun.ssh").libssh2_version)
      else
        refused({ key = env"FR_SSH_KEY_RSA" }, "RSA key", nil, "(ssh-rsa, not accepted for " .. kuser,
                "signs RSA keys with ssh-rsa (SHA-1) only, which OpenSSH 8.8 and later refuse")
      end
      refused({ key = dir .. "/no-such-key" }, "missing key file", nil, "the key file: cannot read " .. dir .. "/no-such-key")
      -- a key file group or others may read is passed over (OpenSSH's rule), naming the chmod;
      -- the password still logs in, with a warning
      local loose = dir .. "/id_loose"
      check(os.execute(("cp '%s' '%s' && chmod 644 '%s'"):format(key, loose, loose)), "cp")
      refused({ key = loose }, "a key others may read", nil, "readable by group or others (mode 0644)", "chmod 600 " .. loose)
      works({ key = loose, password = pw }, "loose key, then the password", user)
      -- ssh_auth pins one method
      refused({ key = key, password = "wrong", auth = "password" }, "pinned password", user,
              "failed (ssh_auth = password)", "tried the password (refused)")
      local e = refused({ key = key, password = "wrong", auth = "password" }, "pinned password", user)
      check(not e:find("the key", 1, true), "ssh_auth = password tried a key: %s", e)
      works({ key = key, password = "wrong", auth = "key" }, "pinned key", user)
      refused({ password = pw, auth = "key" }, "pinned key, none", user, "the default keys (neither", "ssh_auth = key")
      refused({ key = key, password = pw, auth = "agent" }, "pinned agent without an agent", user,
              "SSH_AUTH_SOCK is not set")
      check(not pcall(try, { key = key, auth = "kerberos" }), "ssh_auth kerberos accepted")
    end },
  { name = "run, read, stdin, big output, timeout", run = function()
      local s <close> = assert(connect())
      check(s:is_open(), "a new session says it is closed")
      local out, e, st = s:run("echo out; echo err >&2; exit 3")
      check(out == "out\n" and e == "err\n" and st == 3, "run: %q %q %s", out, e, st)
      out, e, st = s:read("id -un")
      check(out == user .. "\n" and st == 0, "read: %q", out)
      -- stdin delivery (how secrets travel), binary-safe
      local blob = "line1\nsecret\0with nul\n" .. string.rep("x", 200000)
      out, e, st = s:run("cat", { stdin = blob })
      check(out == blob and st == 0, "stdin roundtrip: %d bytes back", #out)
      -- big stderr and stdout at once (no deadlock)
      out, e, st = s:run("head -c 300000 /dev/zero >&2; head -c 300000 /dev/zero")
      check(#out == 300000 and #e == 300000, "big output: %d %d", #out, #e)
      -- timeout
      local t0 = now()
      out, e = s:run("sleep 5", { timeout = 1 })
      check(out == nil and e:find("did not finish"), "timeout: %s", tostring(e))
      check(now() - t0 < 3, "timeout took %.1f s", now() - t0)
      check(not pcall(s.run, s, "true"), "session usable after timeout")
      check(not s:is_open(), "a session closed by a timeout says it is open")
    end },
  { name = "write_file", run = function()
      local s <close> = assert(connect())
      -- content and mode, path with spaces and quotes (no shell involved)
      local path = "/tmp/home/a file 'q' $x.txt"
      local content = "secret-content\n" .. string.rep("y", 70000)
      check(s:write_file(path, content, tonumber("640", 8)), "write_file")
      local _, _, st = s:read("stat -c %a \"$0\"; md5sum < \"$0\"", nil) -- opts may be nil
      check(st ~= nil, "read with nil options")
      local hd = homedir .. "/a file 'q' $x.txt" -- the same file seen from the host
      local lf = assert(io.open(hd, "rb")); local got = lf:read("a"); lf:close()
      check(got == content, "write_file content differs (%d bytes)", #got)
      local m = local_mode(hd)
      check(m == "640", "mode %s", m)
      -- overwrite an existing file with a stricter mode
      check(s:write_file(path, "short", tonumber("600", 8)), "rewrite")
      m = local_mode(hd)
      check(m == "600", "mode after rewrite %s", m)
      lf = assert(io.open(hd, "rb")); check(lf:read("a") == "short", "truncate"); lf:close()
      local ok, werr = s:write_file("/nonexistent-dir/x", "x")
      check(ok == nil and werr:find("cannot open"), "write_file error: %s", tostring(werr))
    end },
  { name = "one handle from two coroutines is refused", run = function()
      local s <close> = assert(connect())
      local _, errs = parallel({ 1, 2 }, function() return (s:run("sleep 0.5")) end)
      check(errs and (tostring(errs[1] or errs[2])):find("in use"), "busy handle not refused")
    end },
  { name = "four sessions overlap", run = function()
      -- four sessions each running `sleep 1` finish in about 1 s
      local t0 = now()
      local res, errs = parallel({ 1, 2, 3, 4 }, function(i)
        local s <close> = assert(connect())
        local t1 = now()
        local out = s:run("sleep 1; echo " .. i)
        return { out = out, dt = now() - t1 }
      end)
      check(errs == nil, "parallel errors: %s", errs and tostring(errs[1] or errs[2] or errs[3] or errs[4]))
      local sum = 0
      for i = 1, 4 do check(res[i].out == i .. "\n", "branch %d: %s", i, tostring(res[i].out)); sum = sum + res[i].dt end
      local el = now() - t0
      print(string.format("4 x remote sleep 1: %.2f s elapsed (runs alone: %.2f s in total)", el, sum))
      -- one after another they take over 4 s; the margin is for a loaded or sanitized build
      check(el < 3, "no overlap: %.2f s", el)
    end },
}

-- run.sh starts an ssh-agent holding the passphrase key (FLASHRUN_TEST_PHASE=agent), then one
-- holding an unrelated key (agent_other); home: HOME holds .ssh/id_ed25519, no agent.
local function as(user, o)
  local t = { host = host, port = port, user = user, known_hosts = kh }
  for k, v in pairs(o or {}) do t[k] = v end
  return ssh(t)
end
local function logs_in(user, o, what)
  local s, err = as(user, o)
  check(s, "%s: %s", what, tostring(err))
  check(s:read("id -un") == user .. "\n", "%s: another user", what); s:close()
end
local function refused_as(user, o, what, ...)
  local s, err = as(user, o)
  if s then s:close() end
  check(s == nil, "%s: logged in", what)
  for _, want in ipairs{ ... } do check(err:find(want, 1, true), "%s: %q not in: %s", what, want, err) end
  return err
end
local sock = os.getenv("SSH_AUTH_SOCK") or ""

local agent = {
  { name = "the agent's key logs in, first", run = function()
      local kuser = env"FR_SSH_KEYUSER"
      logs_in(kuser, {}, "agent, auto")
      logs_in(kuser, { auth = "agent" }, "agent, pinned")
      -- the agent first: a broken key file after it is never read
      logs_in(kuser, { key = dir .. "/no-such-key" }, "agent before the key file")
      refused_as(kuser, { auth = "password", password = "x" }, "ssh_auth = password ignores the agent", "tried the password (refused)")
      -- another user whose authorized_keys lacks the agent's key: the agent, then the password
      refused_as(user, { password = "wrong" }, "agent key not authorized", "the agent at " .. sock .. " (1 key, none accepted for " .. user,
                 "the password (refused)")
      logs_in(user, { password = pw }, "agent refused, then the password")
    end },
}

local agent_other = {
  { name = "an agent without the key", run = function()
      local kuser = env"FR_SSH_KEYUSER"
      refused_as(kuser, { auth = "agent" }, "agent without the key", "(ssh_auth = agent)",
                 "the agent at " .. sock .. " (1 key, none accepted for " .. kuser)
      logs_in(kuser, { key = key }, "agent without the key, then the key file")
    end },
}

local home = {
  { name = "~/.ssh/id_ed25519 without ssh_key", run = function()
      local kuser, h = env"FR_SSH_KEYUSER", env"HOME"
      logs_in(kuser, {}, "default key")
      logs_in(kuser, { auth = "key" }, "default key, pinned")
      check(os.execute(("chmod 640 '%s/.ssh/id_ed25519'"):format(h)), "chmod")
      refused_as(kuser, {}, "a default key others may read", h .. "/.ssh/id_ed25519 is readable by group or others (mode 0640)",
                 "chmod 600 " .. h .. "/.ssh/id_ed25519")
      check(os.execute(("rm '%s/.ssh/id_ed25519'"):format(h)), "rm")
      refused_as(kuser, { auth = "key" }, "no default key", "neither " .. h .. "/.ssh/id_ed25519 nor id_ecdsa exists")
    end },
}

-- The dry run's writes; run.sh checks their DRY-RUN lines and that the secret is masked.
local dry = {
  { name = "run and write_file are recorded, read is live", run = function()
      local s <close> = assert(connect())
      local o, e, st = s:run("touch /tmp/home/dry-marker")
      check(o == "" and e == "" and st == 0, "dry run result: %q %q %s", o, e, tostring(st))
      secret("s3cr3t-value")
      o, e, st = s:run("cat > /tmp/home/dry2", { stdin = "s3cr3t-value" })
      check(o == "" and e == "" and st == 0, "dry run result with stdin")
      s:run("echo s3cr3t-value > /tmp/home/dry4") -- recorded with the secret masked
      check(s:write_file("/tmp/home/dry3", "s3cr3t-value", tonumber("600", 8)) == true, "dry write_file")
      local r = s:read("ls -a /tmp/home")
      check(r and r:find("%.ssh") and not r:find("dry"), "read is not live, or the dry run touched the remote: %s", tostring(r))
    end },
}

local after = {
  { name = "the dry run changed nothing", run = function()
      local s <close> = assert(connect())
      local r = assert(s:read("ls -a /tmp/home"))
      check(r:find("%.ssh") and not r:find("dry"), "dry-run files on the remote: %s", r)
      for _, f in ipairs { "dry-marker", "dry2", "dry3", "dry4" } do
        check(not exists(homedir .. "/" .. f), "%s exists", f)
      end
    end },
}

return t.plan("drivers-ssh", {
  live = { description = "the ssh driver against a throwaway sshd", steps = live },
  dry = { description = "the ssh driver under --dry-run", steps = dry },
  after = { description = "what the dry run left on the remote", steps = after },
  agent = { description = "ssh-agent holding the passphrase key", steps = agent },
  agent_other = { description = "ssh-agent holding an unrelated key", steps = agent_other },
  home = { description = "the default key in HOME", steps = home },
})
