/* embed.c — the Lua state, modelled on lua.c and nse_main.cc: create the state, open the
 * libraries, preload our modules, then run one Lua bootstrap under lua_pcall with a
 * traceback handler. The bootstrap owns the control flow and returns the exit code.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>

#include "builtin.h"
#include "embed.h"
#include "log.h"
#include "scheduler.h"

extern char **environ;

int luaopen_flashrun_sql(lua_State *L);
int luaopen_flashrun_ssh(lua_State *L);
int luaopen_flashrun_tls(lua_State *L);
int luaopen_flashrun_gtid(lua_State *L);
int luaopen_flashrun_config(lua_State *L);
int luaopen_flashrun_schema(lua_State *L);
int luaopen_flashrun_endpoint(lua_State *L);
int luaopen_flashrun_redo(lua_State *L);
int luaopen_flashrun_signals(lua_State *L);
int luaopen_flashrun_killpoint(lua_State *L);
int luaopen_flashrun_fs(lua_State *L);

/* Relative to the stdlib root: shared with stdlib/flashrun/bootstrap.lua by name only. */
#define BOOTSTRAP "flashrun/bootstrap.lua"

static const luaL_Reg PRELOAD[] = {
	{ "flashrun.sql", luaopen_flashrun_sql },
	{ "flashrun.ssh", luaopen_flashrun_ssh },
	{ "flashrun.tls", luaopen_flashrun_tls },
	{ "flashrun.gtid", luaopen_flashrun_gtid },
	{ "flashrun.config", luaopen_flashrun_config },
	{ "flashrun.schema", luaopen_flashrun_schema },
	{ "flashrun.endpoint", luaopen_flashrun_endpoint },
	{ "flashrun.redo", luaopen_flashrun_redo },
	{ "flashrun.signals", luaopen_flashrun_signals },
	{ "flashrun.killpoint", luaopen_flashrun_killpoint },
	{ "flashrun.sched", luaopen_flashrun_sched },
	{ "flashrun.log", luaopen_flashrun_log },
	{ "flashrun.builtin", luaopen_flashrun_builtin },
	{ "flashrun.fs", luaopen_flashrun_fs },
	{ "cjson", luaopen_cjson },
	{ NULL, NULL },
};

static void preload(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (const luaL_Reg *m = PRELOAD; m->name != NULL; m++) {
		lua_pushcfunction(L, m->func);
		lua_setfield(L, -2, m->name);
	}
	lua_pop(L, 1);
}

/* ---- finding the stdlib ------------------------------------------------------------------- */

static int has_bootstrap(const char *root)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/stdlib/" BOOTSTRAP, root) >= (int)sizeof path)
		return 0;
	return access(path, R_OK) == 0;
}

/* root = dir + rel, made absolute, when that holds a stdlib (absolute: --version and messages
 * name it, and "plans/.." says little). */
static int try_root(char *root, size_t size, const char *dir, const char *rel)
{
	char path[PATH_MAX], abs[PATH_MAX];
	if (snprintf(path, sizeof path, "%s%s", dir, rel) >= (int)sizeof path || !has_bootstrap(path))
		return 0;
	return realpath(path, abs) != NULL && snprintf(root, size, "%s", abs) < (int)size;
}

/* The directory holding stdlib/ (and plans/), into root; FR_BUILTIN_ROOT for the one compiled
 * in. Order: $FLASHRUN_STDLIB (the stdlib dir itself; its parent is the root); a stdlib/ beside
 * the plan given by path (plans/../stdlib: a checkout, or a tree --export-plans wrote); one
 * beside the executable (a stdlib/ next to it, or ../share/flashrun: the Debian package's
 * /usr/share/flashrun); the built-in one. No path from the build machine: a binary copied
 * anywhere finds the same things relative to where it is. */
int fr_stdlib_root(const struct fr_cli *cli, char *root, size_t size)
{
	const char *env = getenv("FLASHRUN_STDLIB");
	if (env != NULL && *env)
		return try_root(root, size, env, "/..") ? 0 : -1;
	char dir[PATH_MAX];
	if (cli->plan != NULL) {
		snprintf(dir, sizeof dir, "%s", cli->plan);
		char *slash = strrchr(dir, '/');
		if (slash == NULL)
			snprintf(dir, sizeof dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (try_root(root, size, dir, "") || try_root(root, size, dir, "/.."))
			return 0;
	}
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n > 0) {
		dir[n] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		if (try_root(root, size, dir, "") || try_root(root, size, dir, "/../share/flashrun"))
			return 0;
	}
	snprintf(root, size, "%s", FR_BUILTIN_ROOT);
	return 0;
}

static void set_package_path(lua_State *L, const char *root)
{
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/stdlib/?.lua;%s/stdlib/?/init.lua", root, root);
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, ""); /* no C modules from the filesystem: all of ours are preloaded */
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
	fr_builtin_install_searcher(L);
}

/* FLASHRUN_* environment variables, for config overrides (Lua cannot enumerate environ). */
static void push_env(lua_State *L)
{
	lua_newtable(L);
	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL || strncmp(*e, "FLASHRUN_", 9) != 0)
			continue;
		lua_pushlstring(L, *e, (size_t)(eq - *e));
		lua_pushstring(L, eq + 1);
		lua_rawset(L, -3);
	}
}

/* Who holds the lock, for the journal: pid and host name. */
static void push_identity(lua_State *L)
{
	char host[256] = "unknown";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	lua_pushinteger(L, (lua_Integer)getpid());
	lua_setfield(L, -2, "pid");
	lua_pushstring(L, host);
	lua_setfield(L, -2, "host");
}

/* ---- running ------------------------------------------------------------------------------ */

static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Runs in protected mode: everything that can raise happens here. */
static int protected_main(lua_State *L)
{
	const struct fr_cli *cli = lua_touserdata(L, 1);
	char root[PATH_MAX];
	luaL_openlibs(L);
	preload(L);
	if (fr_stdlib_root(cli, root, sizeof root) != 0)
		return luaL_error(L, "FLASHRUN_STDLIB=%s holds no " BOOTSTRAP ": set it to a stdlib "
				  "directory, or unset it to use the built-in one", getenv("FLASHRUN_STDLIB"));
	set_package_path(L, root);
	lua_pushcfunction(L, msghandler);
	int handler = lua_gettop(L);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/stdlib/" BOOTSTRAP, root);
	if (fr_builtin_load(L, path, "t") != LUA_OK)
		return lua_error(L);
	fr_cli_push(L, cli);
	lua_pushstring(L, root);
	lua_setfield(L, -2, "root");
	push_env(L);
	lua_setfield(L, -2, "env");
	push_identity(L);
	if (lua_pcall(L, 1, 1, handler) != LUA_OK)
		return lua_error(L);
	lua_pushinteger(L, luaL_optinteger(L, -1, FR_EXIT_STEP));
	return 1;
}

int fr_run(const struct fr_cli *cli, const char *argv0)
{
	lua_State *L = luaL_newstate();
	if (L == NULL) {
		fprintf(stderr, "%s: cannot create the Lua state: out of memory\n", argv0);
		return FR_EXIT_STEP;
	}
	lua_pushcfunction(L, protected_main);
	lua_pushlightuserdata(L, (void *)cli);
	int status = lua_pcall(L, 1, 1, 0);
	int code;
	if (status == LUA_OK) {
		code = (int)lua_tointeger(L, -1);
	} else {
		const char *msg = lua_tostring(L, -1);
		fr_log(FR_ERROR, "internal error: %s", msg ? msg : "(no message)");
		code = FR_EXIT_STEP;
	}
	lua_close(L);
	return code;
}
