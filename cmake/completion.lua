-- completion.lua SOURCE_DIR FLASHRUN PLANS_DIR OUTPUT — writes flashrun's bash completion.
--   options: scraped from `FLASHRUN --help` (the same text the man page is made from)
--   plans:   the *.lua files in PLANS_DIR at completion time (-f NAME), else the plans built
--            into the binary (SOURCE_DIR/plans: the static tarball has no PLANS_DIR), and *.lua files
--   --set keys: the configuration schema (runtime/schema.c), printed by the built binary running
--            cmake/schema-keys.lua.
local src, exe, plans_dir, out = arg[1], arg[2], arg[3], arg[4]
assert(src and exe and plans_dir and out, "usage: completion.lua SOURCE_DIR FLASHRUN PLANS_DIR OUTPUT")

local function slurp(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- Single-quoted for sh, as stdlib/shell.lua's quote (not required here: this build script runs in
-- the standalone interpreter, without the binary's modules that one uses).
local function q(x) return "'" .. x:gsub("'", "'\\''") .. "'" end

-- options
local p = assert(io.popen(("%s --help"):format(q(exe)), "r"))
local help = p:read("a")
p:close()
local seen, options = {}, {}
for opt in help:gmatch("%f[%-%w](%-%-?%a[%w%-]*)") do
  if not seen[opt] then seen[opt] = true; options[#options + 1] = opt end
end
assert(seen["--set"] and seen["--config"], "no options found in flashrun --help")
table.sort(options)

-- --set keys: the schema the binary was built with, printed by a plan of its own
p = assert(io.popen(("FLASHRUN_STDLIB=%s %s %s -q"):format(q(src .. "/stdlib"), q(exe), q(src .. "/cmake/schema-keys.lua")), "r"))
local keys = {}
for line in p:lines() do
  if line:match("^%l+%.[%w_]+$") then keys[#keys + 1] = line .. "=" end
end
p:close()
assert(#keys > 10 and keys[1]:match("^source%."), "no configuration keys from the schema")

-- the built-in plans (cmake/embed.cmake compiles SOURCE_DIR/plans in)
p = assert(io.popen(("ls %s"):format(q(src .. "/plans")), "r"))
local builtin = {}
for name in p:lines() do builtin[#builtin + 1] = name:match("^(.-)%.lua$") end
p:close()

local f = assert(io.open(out, "w"))
f:write(([==[
# bash completion for flashrun: generated at build time by cmake/completion.lua (do not edit)
_flashrun_options='%s'
_flashrun_keys='%s'
_flashrun_plans_dir='%s'
_flashrun_builtin_plans='%s'

_flashrun() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} set=0
  # bash splits --set=site.key=value at '=': the word before '=' tells which option it is.
  if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi
  if [[ $cur == = ]]; then cur=; fi
  case $prev in
  -f)
    local p names=()
    for p in "$_flashrun_plans_dir"/*.lua; do [[ -e $p ]] && { p=${p##*/}; names+=("${p%%.lua}"); }; done
    [[ ${#names[@]} -gt 0 ]] || names=($_flashrun_builtin_plans)
    COMPREPLY=($(compgen -W "${names[*]}" -- "$cur")); return ;;
  --set)
    COMPREPLY=($(compgen -W "$_flashrun_keys" -- "$cur"))
    compopt -o nospace 2>/dev/null; return ;;
  --config|-config|--log-json|--report-json)
    COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
  --state-dir|--site-dir|--export-plans)
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
]==]):format(table.concat(options, " "), table.concat(keys, " "), plans_dir, table.concat(builtin, " ")))
f:close()
