/* options.h — what the sql and ssh drivers share: reading their connect{} option tables, and
 * the secrets among them (drivers/options.c). Lua thread only, except fr_wipe_free. */
#ifndef FLASHRUN_OPTIONS_H
#define FLASHRUN_OPTIONS_H

#include <lua.h>

/* A malloc'd copy of the string option `key` of the table at index t, or NULL when absent.
 * Raises naming `who` ("sql{}") when a required one is missing or one is not a string. */
char *fr_opt_str(lua_State *L, int t, const char *key, int required, const char *who);

/* Zeroes the string *p before freeing it (passwords), and sets *p to NULL. */
void fr_wipe_free(char **p);

/* Pushes text with every registered secret masked: a server or library may echo a password. */
void fr_push_masked(lua_State *L, const char *text);

#endif
