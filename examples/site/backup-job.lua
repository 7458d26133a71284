-- backup-job.lua — the standby's backup job pauses for the drill and resumes once the standby
-- replicates from production again (a site file: docs/plans.md, "Site directories").
--
-- The job is the site's own: a cron entry running a backup on every standby node. It honours a
-- pause flag: while FLAG exists a run does nothing, and a run holds LOCK while it works
-- (`flock LOCK backup-script`). Pausing creates the flag on every standby node, then waits until
-- a run in progress releases the lock; resuming removes the flag. Adapt the names to your site.
local cluster = require "cluster"
local shell = require "shell"

local FLAG = "/data/backup/backup.paused"
local LOCK = "/data/backup/backup.lock"
local WAIT = 600 -- seconds a backup in progress may take to finish

local function on_standby_nodes(ctx, what, cmd)
  cluster.on_each(what, ctx.state.target_nodes, function(n)
    cluster.run(cluster.ssh("target", n.host), cmd)
    log.info("%s: %s", n.id, what)
  end)
end

local function pause(ctx)
  on_standby_nodes(ctx, "backup job paused", ("mkdir -p %s && touch %s && flock -w %d %s true"):format(
    shell.quote(shell.dirname(FLAG)), shell.quote(FLAG), WAIT, shell.quote(LOCK)))
end

local function resume(ctx)
  on_standby_nodes(ctx, "backup job resumed", "rm -f " .. shell.quote(FLAG))
end

return {
  description = "pause the standby's backup job for the drill",
  extend = {
    -- After the checks (which record the standby's nodes), before anything changes.
    start = { { after = "check", id = "pause_backup", name = "pause the backup job on every standby node",
                run = pause, undo = resume } },
    -- Once the standby replicates from production again.
    stop = { { after = "prove_replication", id = "resume_backup", name = "resume the backup job on every standby node",
               run = resume } },
  },
}
