-- ssh driver against the throwaway sshd from with-servers.sh
local E = os.getenv
local host, port = E"FR_SSH_HOST", tonumber(E"FR_SSH_PORT")
if not host then skip("FR_SSH_HOST not set: run through with-servers.sh") end
local user, pw, key, dir = E"FR_SSH_USER", E"FR_SSH_PASSWORD", E"FR_SSH_KEY", E"FR_SSH_DIR"
local kh = dir .. "/known_hosts"
local function check(cond, ...) if not cond then error(string.format(...), 2) end end
local function nopw(s) check(not tostring(s):find(pw, 1, true), "password leaked in: %s", s) end

-- strict policy refuses an unknown host, and writes nothing
local s, err = ssh{host=host, port=port, user=user, password=pw, known_hosts=kh, host_key_policy="strict"}
check(s == nil and err:find("unknown host key") and err:find("strict"), "strict: %s", tostring(err))
check(io.open(kh) == nil, "strict created known_hosts")
nopw(err)

-- accept-new (default) records the key; then strict accepts it
s, err = ssh{host=host, port=port, user=user, password=pw, known_hosts=kh}
check(s, "accept-new: %s", tostring(err))
s:close(); s:close() -- idempotent
local f = assert(io.open(kh)); local line = f:read("a"); f:close()
check(line:find("[" .. host .. "]:" .. port, 1, true) and line:find("ssh-ed25519", 1, true), "known_hosts: %s", line)
check(not line:find(pw, 1, true), "password in known_hosts")

-- a mismatching key is refused even under accept-new
local bad = dir .. "/known_hosts_bad"
local other = assert(io.open(key .. ".pub")):read("l") -- a different ed25519 key
local bf = assert(io.open(bad, "w"))
bf:write(string.format("[%s]:%d %s\n", host, port, other:match("^(%S+ %S+)"))); bf:close()
s, err = ssh{host=host, port=port, user=user, password=pw, known_hosts=bad}
check(s == nil and err:find("does not match"), "mismatch: %s", tostring(err))

-- wrong password, no key: fails, says what was tried, never shows the password
s, err = ssh{host=host, port=port, user=user, password="wrong-" .. pw, known_hosts=kh, host_key_policy="strict"}
check(s == nil and err:find("tried password"), "wrong pw: %s", tostring(err))
nopw(err); check(not err:find("wrong-", 1, true), "password shown: %s", err)

-- wrong password then key: falls back to the key
s, err = ssh{host=host, port=port, user=user, password="nope", key=key, known_hosts=kh}
check(s, "key fallback: %s", tostring(err)); s:close()
-- key only, user without a password; .pub absent -> derived from the private key
os.rename(key .. ".pub", key .. ".pub.away")
s, err = ssh{host=host, port=port, user=E"FR_SSH_KEYUSER", key=key, known_hosts=kh}
os.rename(key .. ".pub.away", key .. ".pub")
check(s, "key only: %s", tostring(err)); s:close()

-- refused port
s, err = ssh{host=host, port=1, user=user, password=pw, known_hosts=kh, timeout=2}
check(s == nil and err:find("refused"), "refused: %s", tostring(err))

-- run: stdout, stderr, exit status
do
  local s <close> = assert(ssh{host=host, port=port, user=user, password=pw, known_hosts=kh})
  local out, e, st = s:run("echo out; echo err >&2; exit 3")
  check(out == "out\n" and e == "err\n" and st == 3, "run: %q %q %s", out, e, st)
  out, e, st = s:read("id -un")
  check(out == user .. "\n" and st == 0, "read: %q", out)
  -- stdin delivery (how secrets travel), binary-safe
  local blob = "line1\nsecret\0with nul\n" .. string.rep("x", 200000)
  out, e, st = s:run("cat", {stdin = blob})
  check(out == blob and st == 0, "stdin roundtrip: %d bytes back", #out)
  -- big stderr and stdout at once (no deadlock)
  out, e, st = s:run("head -c 300000 /dev/zero >&2; head -c 300000 /dev/zero")
  check(#out == 300000 and #e == 300000, "big output: %d %d", #out, #e)
  -- timeout
  local t0 = now()
  out, e = s:run("sleep 5", {timeout = 1})
  check(out == nil and e:find("did not finish"), "timeout: %s", tostring(e))
  check(now() - t0 < 3, "timeout took %.1f s", now() - t0)
  check(not pcall(s.run, s, "true"), "session usable after timeout")
end

do
  local s <close> = assert(ssh{host=host, port=port, user=user, password=pw, known_hosts=kh})
  -- write_file: content and mode, path with spaces and quotes (no shell involved)
  local path = "/tmp/home/a file 'q' $x.txt"
  local content = "secret-content\n" .. string.rep("y", 70000)
  check(s:write_file(path, content, tonumber("640", 8)), "write_file")
  local out, _, st = s:read("stat -c %a \"$0\"; md5sum < \"$0\"", nil) -- sh -c ... would need quoting
  local hd = E"FR_SSH_HOMEDIR" .. "/a file 'q' $x.txt" -- the same file seen from the host
  local lf = assert(io.open(hd, "rb")); local got = lf:read("a"); lf:close()
  check(got == content, "write_file content differs (%d bytes)", #got)
  local p = io.popen("stat -c %a '" .. hd:gsub("'", "'\\''") .. "'"); local m = p:read("l"); p:close()
  check(m == "640", "mode %s", m)
  -- overwrite an existing file with a stricter mode
  check(s:write_file(path, "short", tonumber("600", 8)))
  p = io.popen("stat -c %a '" .. hd:gsub("'", "'\\''") .. "'"); m = p:read("l"); p:close()
  check(m == "600", "mode after rewrite %s", m)
  lf = assert(io.open(hd, "rb")); check(lf:read("a") == "short", "truncate"); lf:close()
  local ok, werr = s:write_file("/nonexistent-dir/x", "x")
  check(ok == nil and werr:find("cannot open"), "write_file error: %s", tostring(werr))

  -- dry-run: run and write_file are recorded, read stays live, nothing changes remotely
  set_dry_run(true)
  local o2, e2, st2 = s:run("touch /tmp/home/dry-marker")
  check(o2 == "" and e2 == "" and st2 == 0, "dry run result")
  secret("s3cr3t-value")
  s:run("cat > /tmp/home/dry2", {stdin = "s3cr3t-value"})
  check(s:write_file("/tmp/home/dry3", "s3cr3t-value", tonumber("600", 8)))
  local r = s:read("ls /tmp/home")
  set_dry_run(false)
  check(not r:find("dry"), "dry-run touched the remote: %s", r)
  local recs = table.concat(records(), "\n")
  check(recs:find("touch /tmp/home/dry-marker", 1, true), "records: %s", recs)
  check(recs:find("write_file /tmp/home/dry3 (12 bytes, mode 0600)", 1, true), "records: %s", recs)
  check(not recs:find("s3cr3t"), "secret in records: %s", recs)
  check(not recs:find("ls /tmp/home", 1, true), "read was recorded")
end

-- the same handle from two coroutines at once is refused
do
  local s <close> = assert(ssh{host=host, port=port, user=user, password=pw, known_hosts=kh})
  local res, errs = parallel({1, 2}, function() return (s:run("sleep 0.5")) end)
  check(errs and (tostring(errs[1] or errs[2])):find("in use"), "busy handle not refused")
end

-- overlap: four sessions each running `sleep 1` finish in about 1 s
local t0 = now()
local res, errs = parallel({1, 2, 3, 4}, function(i)
  local s <close> = assert(ssh{host=host, port=port, user=user, password=pw, known_hosts=kh})
  local t = now()
  local out, e, st = s:run("sleep 1; echo " .. i)
  return {out = out, dt = now() - t}
end)
check(errs == nil, "parallel errors: %s", errs and tostring(errs[1] or errs[2] or errs[3] or errs[4]))
local sum = 0
for i = 1, 4 do check(res[i].out == i .. "\n", "branch %d: %s", i, tostring(res[i].out)); sum = sum + res[i].dt end
local el = now() - t0
print(string.format("4 x remote sleep 1: %.2f s elapsed (runs alone: %.2f s in total)", el, sum))
check(el < 1.8, "no overlap: %.2f s", el)
