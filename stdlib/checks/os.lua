-- checks/os.lua — what the ssh user may do on a standby node (mysqld.os_probe, which changes
-- nothing): read the datadir, signal the node's mysqld, run its mysqld_safe or the site's start
-- and stop commands, and be root or the mysqld user.
local cluster = require "cluster"
local mysqld = require "mysqld"
local result = require "checks.result"
local add, judge = result.add, result.judge
local M = {}

-- measure(s, m) -> the probe's answer ("word=value" lines) on the node's ssh session s, m its
-- node model (node.discover); nil when it could not be run.
function M.measure(s, m)
  return (cluster.read(s, mysqld.os_probe(m)))
end

-- The site's start and stop templates: they expand, the start names {extra_args}, and what each
-- runs exists on the host (w: the probe's words).
local function templates(r, key, m, w)
  for _, what in ipairs({ "start_command", "stop_command" }) do
    if mysqld.site_template(what) then
      local why = mysqld.template_problem(what, m)
      local prog = not why and mysqld.template_program(what, m)
      if why then
        add(r, key, "os", "fail", ("%s: site.%s is not usable"):format(key, what),
            { cause = why, fix = "correct site." .. what .. " (docs/operator.md, Service-managed nodes)", group = "template|" .. what .. "|" .. why:gsub("%S+ of %S+", ""), label = "site." .. what .. " is not usable" })
      else
        judge(r, key, "os", w[what] == "ok", "%s: site.%s runs %s, which %s", key, what, tostring(prog),
              w[what] == "ok" and "exists there" or "is not found there (command -v) as the user the commands run as")
      end
    end
  end
end

-- judge(r, key, m, out): the ssh user's abilities on standby node key (m: its site model; out:
-- M.measure's answer).
function M.judge(r, key, m, out)
  local w = {}
  for k, v in tostring(out or ""):gmatch("([%w_]+)=(%w+)") do w[k] = v end
  templates(r, key, m, w)
  -- Judged as the user the commands run as (cluster.os_user: sys_become_user under sudo).
  local _, user = cluster.os_user("target")
  judge(r, key, "os", w.datadir == "ok", "%s: the user %s %s the datadir %s", key, tostring(user),
        w.datadir == "ok" and "reads" or "cannot read", m.datadir)
  if w.signal == "nopid" then
    -- It answered SQL (verify reached it): a server whose process is not found would be taken
    -- for down, and start and stop refuse to copy or swap its data (mysqld.shutdown).
    judge(r, key, "os", false, "%s", mysqld.unrecognised(m))
  else
    judge(r, key, "os", w.signal == "ok", "%s: the user %s %s signal the node's mysqld (kill -0)", key, tostring(user),
          w.signal == "ok" and "may" or "may not")
  end
  -- Started through site.start_command, a node's mysqld_safe is never run by flashrun (a systemd
  -- unit may run mysqld without one): nothing to check then.
  if not mysqld.site_template("start_command") then
    judge(r, key, "os", w.safe == "ok", "%s: %s %s", key, m.mysqld_safe,
          w.safe == "ok" and "is executable" or ("is not executable by " .. tostring(user) .. " (set site.mysqld_safe or site.basedir)"))
  end
  judge(r, key, "os", w.user == "root" or w.user == "os", "%s: the user %s %s", key, tostring(user),
        w.user == "root" and "is root (mysqld_safe --user, chown of the swapped data)"
        or w.user == "os" and ("is " .. m.os_user .. ", the mysqld user")
        or ("is neither root nor " .. m.os_user .. ": it cannot start mysqld_safe as the site does nor chown the swapped data" ..
            " (sys_become = sudo runs the commands as sys_become_user, root by default)"))
end

return M
