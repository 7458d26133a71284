/* gtid.c — placeholder so the tree links; its owner replaces it. */
#include <lua.h>
#include <lauxlib.h>

int luaopen_flashrun_gtid(lua_State *L)
{
	lua_newtable(L);
	return 1;
}
