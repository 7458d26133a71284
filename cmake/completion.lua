-- completion.lua SOURCE_DIR FLASHRUN PLANS_DIR OUTPUT — writes flashrun's bash completion.
--   options: scraped from `FLASHRUN --help` (the same text the man page is made from)
--   plans:   the *.lua files in PLANS_DIR at completion time (-f NAME), and *.lua files
--   --set keys: [source]/[target] keys from runtime/config.c (the INI reader's list) and [site]
--            keys from stdlib/site.lua's documented defaults, read here at build time.
-- (When the configuration schema moves into one definition, read the keys from there.)
local src, exe, plans_dir, out = arg[1], arg[2], arg[3], arg[4]
assert(src and exe and plans_dir and out, "usage: completion.lua SOURCE_DIR FLASHRUN PLANS_DIR OUTPUT")

local function slurp(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- options
local p = assert(io.popen(("'%s' --help"):format(exe:gsub("'", "'\\''")), "r"))
local help = p:read("a")
p:close()
local seen, options = {}, {}
for opt in help:gmatch("%f[%-%w](%-%-?%a[%w%-]*)") do
  if not seen[opt] then seen[opt] = true; options[#options + 1] = opt end
end
assert(seen["--set"] and seen["--config"], "no options found in flashrun --help")
table.sort(options)

-- [source]/[target] keys: the cluster_keys array of runtime/config.c
local c = slurp(src .. "/runtime/config.c")
local list = assert(c:match("cluster_keys%[%]%s*=%s*(%b{})"), "cluster_keys not found in runtime/config.c")
local cluster = {}
for k in list:gmatch('"([%w_]+)"') do cluster[#cluster + 1] = k end
assert(#cluster > 0, "no cluster keys")

-- [site] keys: site.lua's M.defaults, loaded with its requires stubbed (no C modules here)
local env = setmetatable({ require = function() return setmetatable({}, { __index = function() return function() end end }) end },
                         { __index = _G })
local site = assert(loadfile(src .. "/stdlib/site.lua", "t", env))()
local sitekeys = {}
for k in pairs(site.defaults) do sitekeys[#sitekeys + 1] = k end
table.sort(sitekeys)

local keys = {}
for _, sec in ipairs({ "source", "target" }) do
  for _, k in ipairs(cluster) do keys[#keys + 1] = sec .. "." .. k .. "=" end
end
for _, k in ipairs(sitekeys) do keys[#keys + 1] = "site." .. k .. "=" end

local f = assert(io.open(out, "w"))
f:write(([==[
# bash completion for flashrun: generated at build time by cmake/completion.lua (do not edit)
_flashrun_options='%s'
_flashrun_keys='%s'
_flashrun_plans_dir='%s'

_flashrun() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} set=0
  # bash splits --set=site.key=value at '=': the word before '=' tells which option it is.
  if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi
  if [[ $cur == = ]]; then cur=; fi
  case $prev in
  -f)
    local p names=()
    for p in "$_flashrun_plans_dir"/*.lua; do [[ -e $p ]] && { p=${p##*/}; names+=("${p%%.lua}"); }; done
    COMPREPLY=($(compgen -W "${names[*]}" -- "$cur")); return ;;
  --set)
    COMPREPLY=($(compgen -W "$_flashrun_keys" -- "$cur"))
    compopt -o nospace 2>/dev/null; return ;;
  --config|-config|--log-json)
    COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
  --state-dir|--site-dir)
    COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
  --si|--ti|-si|-ti)
    return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_flashrun_options" -- "$cur"))
  else
    # a plan file: *.lua and directories
    COMPREPLY=($(compgen -f -X '!*.lua' -- "$cur") $(compgen -d -- "$cur"))
    compopt -o filenames 2>/dev/null
  fi
}
complete -F _flashrun flashrun
]==]):format(table.concat(options, " "), table.concat(keys, " "), plans_dir))
f:close()
