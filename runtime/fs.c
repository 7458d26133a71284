/* fs.c — the flashrun.fs module: the local files and directories flashrun itself touches, done
 * with system calls rather than a shell, so that a static flashrun in a root with no /bin/sh
 * (a minimal container, a rescue system) writes its drill report with the same modes.
 *
 *   fs.write_private(path, text) -> true | nil, err
 *       path replaced whole (a temporary file beside it, fsync, rename), mode 0600; the
 *       directories missing on the way are created 0700 (what redo.c does for the journal)
 *   fs.realdir(path)     -> absolute path | nil, err     an existing directory, symlinks resolved
 *   fs.list(dir, suffix) -> { names } | nil, err         regular files and symlinks ending in
 *                                                        suffix, sorted
 *   fs.executable(path)  -> boolean                      a regular file we may execute
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

static int fail(lua_State *L, const char *what, const char *path)
{
	int e = errno;
	luaL_pushfail(L);
	lua_pushfstring(L, "%s %s: %s", what, path, strerror(e));
	return 2;
}

/* mkdir -p of path's directories (not path itself), 0700. */
static int make_parents(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, 0700);
		*s = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int l_write_private(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	char dir[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return fail(L, "cannot write", path);
	}
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		slash[1] = '\0';
		if (make_parents(dir) < 0)
			return fail(L, "cannot create the directory", dir);
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(L, "cannot write", tmp);
	/* a leftover .tmp from an older run could be wider than 0600: open keeps an existing mode */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return fail(L, "cannot write", tmp);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return fail(L, "cannot write", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_realdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char abs[PATH_MAX];
	struct stat st;
	if (realpath(path, abs) == NULL)
		return fail(L, "cannot resolve", path);
	if (stat(abs, &st) < 0)
		return fail(L, "cannot stat", path);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return fail(L, "cannot use", path);
	}
	lua_pushstring(L, abs);
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int l_list(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	size_t slen;
	const char *suffix = luaL_optlstring(L, 2, "", &slen);
	DIR *d = opendir(dir);
	if (d == NULL)
		return fail(L, "cannot list", dir);
	/* names collected in C first: nothing may raise while the DIR is open */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int oom = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
			continue;
		unsigned char type = e->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISREG(st.st_mode) ? DT_REG : S_ISLNK(st.st_mode) ? DT_LNK : DT_DIR;
		}
		if (type != DT_REG && type != DT_LNK)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, cap * sizeof *names);
			if (grown == NULL) { oom = 1; break; }
			names = grown;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) { oom = 1; break; }
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	if (!oom && !lua_checkstack(L, 2))
		oom = 1;
	if (!oom) {
		lua_createtable(L, (int)n, 0);
		for (size_t i = 0; i < n; i++) {
			lua_pushstring(L, names[i]); /* out of memory here leaks the copies: the run ends anyway */
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (oom)
		return luaL_error(L, "out of memory");
	return 1;
}

static int l_executable(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;
	lua_pushboolean(L, stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0);
	return 1;
}

int luaopen_flashrun_fs(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "write_private", l_write_private },
		{ "realdir", l_realdir },
		{ "list", l_list },
		{ "executable", l_executable },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	return 1;
}
