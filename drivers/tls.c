/* tls.c — flashrun.tls: what flashrun checks about TLS itself, beside the client library.
 *
 *   local tls = require "flashrun.tls"
 *   tls.file_mode(path) -> mode (the permission bits, e.g. 384 = 0600), owner uid | nil, err
 *
 * file_mode lets the settings refuse a private key (ssl_key, ssh_key) that group or others may
 * read, before anything connects: the mysql client and OpenSSH accept such a key silently or
 * not at all, and a bank's auditor will not.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <lua.h>
#include <lauxlib.h>

static int l_file_mode(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: %s", path, strerror(e));
		return 2;
	}
	if (!S_ISREG(st.st_mode)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: not a regular file", path);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_pushinteger(L, (lua_Integer)st.st_uid);
	return 2;
}

static const luaL_Reg funcs[] = {
	{ "file_mode", l_file_mode },
	{ NULL, NULL },
};

int luaopen_flashrun_tls(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}
