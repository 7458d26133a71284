/* builtin.h — the plans and stdlib compiled into the binary (cmake/embed.cmake generates the
 * table), so that flashrun runs with nothing beside it. Lua names a built-in file by a path
 * under FR_BUILTIN_ROOT ("(built in)/stdlib/flashrun/plan.lua"): package.path, the plan's path
 * and tracebacks read the same whether the stdlib is built in or on disk. */
#ifndef FLASHRUN_BUILTIN_H
#define FLASHRUN_BUILTIN_H

#include <stddef.h>
#include <lua.h>

/* Not a directory anyone has: the parentheses and the space keep it from meaning a real one. */
#define FR_BUILTIN_ROOT "(built in)"

struct fr_builtin_file {
	const char *name; /* relative: "plans/start.lua", "stdlib/flashrun/bootstrap.lua" */
	const unsigned char *data;
	size_t size;
};

/* Sorted by name, ended by a NULL name. */
extern const struct fr_builtin_file fr_builtin_files[];

/* The file a path under FR_BUILTIN_ROOT names, or NULL. */
const struct fr_builtin_file *fr_builtin_find(const char *path);
/* luaL_loadfilex for a path on disk or under FR_BUILTIN_ROOT: pushes the chunk (LUA_OK) or an
 * error message. Chunk names are "@path", so tracebacks read "(built in)/stdlib/x.lua:12:". */
int fr_builtin_load(lua_State *L, const char *path, const char *mode);
/* Writes every built-in file under dir (created if missing; refused unless empty).
 * Returns 0, or -1 after printing what was wrong. */
int fr_builtin_export(const char *dir);
/* Replaces package.searchers' Lua file searcher with one that also reads built-in paths. */
void fr_builtin_install_searcher(lua_State *L);
int luaopen_flashrun_builtin(lua_State *L);

#endif
