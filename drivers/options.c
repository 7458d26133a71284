/* options.c — connect{} option tables and the secrets in them, for the sql and ssh drivers. */
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "options.h"
#include "log.h"

char *fr_opt_str(lua_State *L, int t, const char *key, int required, const char *who)
{
	char *v = NULL;
	int ty = lua_getfield(L, t, key);
	if (ty == LUA_TNIL) {
		if (required)
			luaL_error(L, "%s: '%s' is required", who, key);
	} else {
		luaL_argcheck(L, ty == LUA_TSTRING, 1, lua_pushfstring(L, "'%s' must be a string", key));
		v = strdup(lua_tostring(L, -1));
		if (!v)
			luaL_error(L, "out of memory");
	}
	lua_pop(L, 1);
	return v;
}

void fr_wipe_free(char **p)
{
	if (*p) {
		volatile char *v = *p;
		while (*v)
			*v++ = 0;
		free(*p);
		*p = NULL;
	}
}

void fr_push_masked(lua_State *L, const char *text)
{
	char *masked = fr_mask_dup(text);
	lua_pushstring(L, masked ? masked : text);
	free(masked);
}
