-- sql errors that need no server: refused port, programmer errors
local c, err, errno = sql{host="127.0.0.1", port=1, user="root", password="p4ssw0rd-x", timeout=2}
assert(c == nil and type(err) == "string" and (errno == 2003 or errno == 2002), tostring(err) .. " " .. tostring(errno))
assert(err:find("127.0.0.1:1", 1, true), err)
assert(not err:find("p4ssw0rd-x", 1, true), err)
assert(not pcall(sql, {port=1}), "missing host must raise")
assert(not pcall(sql, {host="127.0.0.1", user="x", port="abc"}), "bad port must raise")
assert(sqlmod.null ~= nil and type(sqlmod.null) == "userdata")
print("ok")
