/* builtin.c — the flashrun.builtin module: the plans and stdlib compiled into the binary.
 *
 *   builtin.ROOT                  "(built in)": the root of the built-in tree
 *   builtin.loadfile(path [, mode]) -> chunk | nil, err   loadfile, for built-in paths as well
 *   builtin.readable(path)        -> boolean   a built-in file, or a readable file on disk
 *   builtin.list(dir)             -> { names } the *.lua names in a built-in directory
 *
 * and, for the runtime, the package searcher that reads package.path templates under the
 * built-in root (so a plan's own directory still comes before the stdlib, and a site's helper
 * modules after it, as with a stdlib on disk), and --export-plans.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "builtin.h"

static const char *relative(const char *path)
{
	size_t n = strlen(FR_BUILTIN_ROOT);
	if (strncmp(path, FR_BUILTIN_ROOT, n) != 0 || path[n] != '/')
		return NULL;
	return path + n + 1;
}

const struct fr_builtin_file *fr_builtin_find(const char *path)
{
	const char *rel = relative(path);
	if (rel == NULL)
		return NULL;
	for (const struct fr_builtin_file *f = fr_builtin_files; f->name != NULL; f++)
		if (strcmp(f->name, rel) == 0)
			return f;
	return NULL;
}

/* ---- Lua ----------------------------------------------------------------------------------- */

int fr_builtin_load(lua_State *L, const char *path, const char *mode)
{
	const struct fr_builtin_file *f = fr_builtin_find(path);
	if (f == NULL) {
		if (relative(path) != NULL) {
			lua_pushfstring(L, "cannot open %s: not a built-in file", path);
			return LUA_ERRFILE;
		}
		return luaL_loadfilex(L, path, mode);
	}
	lua_pushfstring(L, "@%s", path);
	int status = luaL_loadbufferx(L, (const char *)f->data, f->size, lua_tostring(L, -1), mode);
	lua_remove(L, -2);
	return status;
}

/* builtin.loadfile(path [, mode]) -> chunk | nil, err (an expected failure: a missing plan) */
static int l_loadfile(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *mode = luaL_optstring(L, 2, "bt");
	if (fr_builtin_load(L, path, mode) == LUA_OK)
		return 1;
	luaL_pushfail(L);
	lua_insert(L, -2);
	return 2;
}

static int l_readable(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_pushboolean(L, relative(path) != NULL ? fr_builtin_find(path) != NULL : access(path, R_OK) == 0);
	return 1;
}

/* builtin.list(dir) -> the names of the *.lua files directly in a built-in directory
 * ("(built in)/plans" -> { "start.lua", ... }), sorted. */
static int l_list(lua_State *L)
{
	const char *rel = relative(luaL_checkstring(L, 1));
	luaL_argcheck(L, rel != NULL, 1, "not a path under " FR_BUILTIN_ROOT);
	size_t n = strlen(rel);
	lua_newtable(L);
	int i = 0;
	for (const struct fr_builtin_file *f = fr_builtin_files; f->name != NULL; f++) {
		if (strncmp(f->name, rel, n) != 0 || f->name[n] != '/' || strchr(f->name + n + 1, '/'))
			continue;
		lua_pushstring(L, f->name + n + 1);
		lua_rawseti(L, -2, ++i);
	}
	return 1;
}

/* The Lua file searcher (loadlib.c's searcher_Lua over package.path), for built-in paths too. */
static int searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "path");
	const char *path = lua_tostring(L, -1);
	luaL_argcheck(L, path != NULL, 1, "'package.path' must be a string");
	const char *modname = luaL_gsub(L, name, ".", "/");
	luaL_Buffer tried;
	luaL_buffinit(L, &tried);
	for (const char *p = path; *p != '\0';) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 0) {
			lua_pushlstring(L, p, len);
			const char *file = luaL_gsub(L, lua_tostring(L, -1), "?", modname);
			int readable = relative(file) != NULL ? fr_builtin_find(file) != NULL
							      : access(file, R_OK) == 0;
			if (readable) {
				if (fr_builtin_load(L, file, "bt") != LUA_OK)
					return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
							  name, file, lua_tostring(L, -1));
				lua_pushstring(L, file);
				return 2;
			}
			/* the message's shape is loadlib.c's: "\n\tno file 'x'" per template */
			lua_pushfstring(L, "\n\tno file '%s'", file);
			lua_remove(L, -2); /* the template */
			lua_remove(L, -2); /* the file name */
			luaL_addvalue(&tried);
		}
		p += len + (end ? 1 : 0);
		if (end == NULL)
			break;
	}
	luaL_pushresult(&tried);
	return 1;
}

void fr_builtin_install_searcher(lua_State *L)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	lua_pushcfunction(L, searcher);
	lua_rawseti(L, -2, 2); /* [1] preload, [2] Lua files: ours; the C searchers find nothing */
	lua_pop(L, 2);
}

int luaopen_flashrun_builtin(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "loadfile", l_loadfile },
		{ "readable", l_readable },
		{ "list", l_list },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	lua_pushliteral(L, FR_BUILTIN_ROOT);
	lua_setfield(L, -2, "ROOT");
	return 1;
}

/* ---- --export-plans ------------------------------------------------------------------------ */

static int mkdirs(char *path, mode_t mode)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, mode);
		*s = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const unsigned char *data, size_t size)
{
	/* O_EXCL: the directory was empty; anything there now is not ours to overwrite */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return -1;
		}
		data += n;
		size -= (size_t)n;
	}
	return close(fd);
}

int fr_builtin_export(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path || mkdirs(path, 0755) < 0) {
		fprintf(stderr, "flashrun: --export-plans %s: cannot create it: %s\n", dir, strerror(errno));
		return -1;
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "flashrun: --export-plans %s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int empty = 1;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	if (!empty) {
		/* a DBA's edited plans may be there: never written over */
		fprintf(stderr, "flashrun: --export-plans %s: the directory is not empty (give a new "
				"or empty one)\n", dir);
		return -1;
	}
	int files = 0;
	for (const struct fr_builtin_file *f = fr_builtin_files; f->name != NULL; f++, files++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, f->name) >= (int)sizeof path) {
			fprintf(stderr, "flashrun: --export-plans %s: path too long\n", dir);
			return -1;
		}
		char *slash = strrchr(path, '/');
		*slash = '\0';
		int rc = mkdirs(path, 0755);
		*slash = '/';
		if (rc < 0 || write_file(path, f->data, f->size) < 0) {
			fprintf(stderr, "flashrun: --export-plans: cannot write %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	printf("flashrun: wrote %d files into %s (plans/, stdlib/); run a plan by its path there, "
	       "such as %s/plans/verify.lua: it uses the stdlib beside it\n", files, dir, dir);
	return 0;
}
