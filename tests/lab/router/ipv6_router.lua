-- The router on a bracketed IPv6 address (issue 9): flashrun reaches the emulator on
-- --si [::1]:PORT, reads its dataservers (nodes on ::1), and follows `dbscale request cluster
-- info`, which names the master router as [::1]:PORT, to ask it for the next group id.
local cluster = require "cluster"
local router = require "router"
return {
  name = "ipv6-router",
  description = "flashrun against a router listening on ::1",
  needs = { "source" },
  journal = false,
  steps = {
    { name = "router over IPv6", run = function()
        assert(config.source.host == "::1", "host without brackets: " .. tostring(config.source.host))
        local conn = cluster.router("source")
        local nodes = router.nodes(conn)
        assert(#nodes == 2, "two nodes, got " .. #nodes)
        for _, n in ipairs(nodes) do
          assert(n.host == "::1", "node host " .. tostring(n.host))
          assert(n.id == "[::1]:" .. n.port, "node id " .. tostring(n.id))
          log.info("MARK node %s %s", n.name, n.id)
        end
        local followed
        local id = router.next_group_id(conn, function(h, p)
          followed = router.id(h, p)
          return assert(cluster.try_router("source", h, p))
        end)
        assert(followed == router.id(config.source.host, config.source.port),
               "cluster info led to " .. tostring(followed))
        log.info("MARK next group id %d via %s", id, followed)
      end },
  },
}
