-- The real sql/ssh drivers through the scheduler: refused loopback connections, overlapped.
return { name = "unreachable", description = "drivers through the scheduler", journal = false, steps = {
  { name = "connect", run = function()
      local t0 = now()
      local res, errs = parallel({ 1, 2, 3 }, function(i)
        local c, err = sql{ host = "127.0.0.1", port = 1, user = "u", password = "topsecretpw", timeout = 2 }
        assert(c == nil)
        sleep(0.5)
        return err
      end)
      assert(errs == nil, tostring(errs and errs[1]))
      assert(now() - t0 < 1.2, "connect+sleep branches did not overlap")
      assert(tostring(res[1]):find("127.0.0.1:1", 1, true), "error does not name host:port")
      log.info("%s (%.2f s)", res[1], now() - t0)
      local s, e, kind = ssh{ host = "127.0.0.1", port = 1, user = "u", password = "topsecretpw", timeout = 2 }
      log.info("ssh: %s %s", tostring(s), tostring(e))
      -- what failed, for verify's causes: nothing listens on port 1
      assert(kind == "refused", "ssh failure kind: " .. tostring(kind))
      local c, _, errno = sql{ host = "127.0.0.1", port = 1, user = "u", password = "topsecretpw", timeout = 2 }
      assert(c == nil and (errno == 2002 or errno == 2003), "sql error number: " .. tostring(errno))
    end } } }
