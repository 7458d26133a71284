-- stdlib/site.lua and stdlib/node.lua inside the real binary: [site] settings (get, num; checked
-- at load: the "stdlib_site_unknown" case) and the node model's data_dirs. Run with no [site]
-- settings; the "stdlib_site_settings" case runs it again with some, and "stdlib_site_unknown"
-- with a misspelt one, which the first step must reject.
local site = require "site"
local node = require "node"
local check = require "check"
local show, eq, raises = check.show, check.eq, check.raises

local function lines_of(text)
  local t, set = {}, {}
  for l in text:gmatch("([^\n]*)\n") do t[#t + 1] = l; set[l] = (set[l] or 0) + 1 end
  return t, set
end
-- The lines of `text` in [section] (in order).
local function section(text, name)
  local out, cur = {}, nil
  for _, l in ipairs((lines_of(text))) do
    local s = l:match("^%s*%[([^%]]+)%]")
    if s then cur = s else if cur == name then out[#out + 1] = l end end
  end
  return out
end
local function index_of(list, v) for i, x in ipairs(list) do if x == v then return i end end end
local function has_line(list, v, what)
  if not index_of(list, v) then error(("%s: no line %q in:\n%s"):format(what, v, table.concat(list, "\n")), 2) end
end
local function no_line(list, v, what)
  if index_of(list, v) then error(("%s: unexpected line %q"):format(what, v), 2) end
end
-- No line of list (uncommented) sets key to anything.
local function unset(list, key, what)
  for _, l in ipairs(list) do
    if l:match("^%s*" .. key:gsub("%-", "%%-") .. "%s*=") then error(("%s: %q still set: %q"):format(what, key, l), 2) end
  end
end

-- A node laid out like the seed: /data/mysqldata/<instance>/{dbdata,logfile,tmp,socket,pid}.
local I = "/data/mysqldata/a1b2c3d4"
local SEED = {
  id = "127.0.31.1:3306", host = "127.0.31.1", port = 3306, os_user = "mysql",
  instance_dir = I, datadir = I .. "/dbdata", data_root = "/data/mysqldata",
}

return {
  name = "stdlib-site",
  description = "tests of stdlib/site.lua and stdlib/node.lua",
  journal = false,
  steps = {
    { name = "get and num", run = function()
        eq(site.num("disk_margin_mb"), 256, "disk_margin_mb default")
        eq(site.get("marker_schema"), "flashrun", "marker_schema default")
        eq(site.num("start_timeout"), 180, "start_timeout"); eq(site.num("clone_timeout"), 3600, "clone_timeout")
        raises('no [site] setting "no_such_key" in the schema', site.get, "no_such_key")
        eq(site.get("restore_point"), config.site.restore_point or "auto", "restore_point (default auto)")
        if config.site.disk_threshold == "40" then
          eq(site.num("disk_threshold"), 40, "disk_threshold from --set")
          eq(site.num("max_delay"), 7, "max_delay from --set")
        else
          eq(site.num("disk_threshold"), 45, "disk_threshold default")
          eq(site.num("max_delay"), 0, "max_delay default")
        end
      end },
    { name = "data_dirs", run = function()
        local D = I .. "/dbdata"
        local function dirs(vars)
          local list, outside = node.data_dirs(SEED, vars)
          local o = {}
          for _, x in ipairs(outside) do o[#o + 1] = x.variable .. "=" .. x.dir end
          return table.concat(list, " "), table.concat(o, " ")
        end
        -- The seed's layout: logs in <instance>/logfile, InnoDB files in the datadir ("./").
        local l, o = dirs({ log_bin_basename = I .. "/logfile/binlog", relay_log_basename = I .. "/logfile/relay",
                            innodb_log_group_home_dir = "./", innodb_undo_directory = "./", innodb_data_home_dir = "" })
        eq(l, D .. " " .. I .. "/logfile", "seed layout"); eq(o, "", "seed layout: nothing outside")
        -- MySQL's defaults: everything inside the datadir; binary log off (NULL).
        l, o = dirs({ log_bin_basename = false, relay_log_basename = D .. "/n1-relay-bin",
                      innodb_log_group_home_dir = "./", innodb_undo_directory = D .. "/", innodb_data_home_dir = "" })
        eq(l, D, "logs inside the datadir"); eq(o, "", "defaults: nothing outside")
        -- Redo and undo outside the datadir: a cloned restore point holds them inside it.
        l, o = dirs({ log_bin_basename = I .. "/logfile/binlog", relay_log_basename = I .. "/logfile/relay",
                      innodb_log_group_home_dir = I .. "/redo", innodb_undo_directory = I .. "/undo/" })
        eq(l, D .. " " .. I .. "/logfile", "logs under the instance dir swappable")
        eq(o, "innodb_log_group_home_dir=" .. I .. "/redo innodb_undo_directory=" .. I .. "/undo", "InnoDB files outside the datadir")
        local imsg = node.outside_message(SEED, (select(2, node.data_dirs(SEED, { innodb_undo_directory = I .. "/undo" }))))
        assert(imsg and imsg:find("InnoDB files outside its datadir", 1, true), "InnoDB refusal: " .. tostring(imsg))
        -- Binary logs on another volume: stop could not swap them.
        l, o = dirs({ log_bin_basename = "/binlog/3306/mysql-bin", relay_log_basename = D .. "/relay",
                      innodb_undo_directory = "/data/mysqldata/undo" })
        eq(l, D, "only the datadir swappable")
        eq(o, "log_bin_basename=/binlog/3306 innodb_undo_directory=/data/mysqldata/undo", "outside")
        local msg = node.outside_message(SEED, (select(2, node.data_dirs(SEED, { log_bin_basename = "/binlog/3306/b" }))))
        assert(msg and msg:find("@@log_bin_basename in /binlog/3306", 1, true) and msg:find("site.instance_dir", 1, true),
               "refusal: " .. tostring(msg))
        eq(node.outside_message(SEED, {}), nil, "no refusal when nothing is outside")
        -- A path with "..": refused rather than guessed.
        l, o = dirs({ innodb_log_group_home_dir = "../redo" })
        eq(l, D, "unclear path not swapped"); eq(o, "innodb_log_group_home_dir=../redo", "unclear path refused")
      end },
  },
}
