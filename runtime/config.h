/* config.h — the INI reader behind `flashrun.config` (see README, "Configuration file").
 *
 * Values are taken verbatim: '#', ';', '$', '=' and quotes inside a value are part of it (the
 * old tool's reader cut passwords at '#' and ate '$'). Only whole-line comments exist. */
#ifndef FLASHRUN_CONFIG_H
#define FLASHRUN_CONFIG_H

#include <stddef.h>
#include <lua.h>

#define FR_INI_MAX_LINE 4096        /* bytes per line, without the line ending */
#define FR_INI_MAX_SIZE (1 << 20)   /* bytes per file: a config is a few hundred */
#define FR_INI_ERRLEN 2048          /* room for any message this reader writes */

struct fr_ini_pair {
	char *key, *value;
	int line;
};

struct fr_ini_section {
	char *name;
	int line;
	struct fr_ini_pair *pairs;
	size_t npairs, cap;
};

/* Sections and keys in file order. */
struct fr_ini {
	struct fr_ini_section *sections;
	size_t nsections, cap;
};

/* Parses len bytes of text; `name` (usually the path) prefixes error messages. On failure
 * returns NULL with "name:line: what is wrong" in err (never the text of a value: it may be a
 * password). err must hold FR_INI_ERRLEN bytes. */
struct fr_ini *fr_ini_parse(const char *text, size_t len, const char *name, char *err);
/* Reads and parses a file; a missing or unreadable file is an error naming the path. */
struct fr_ini *fr_ini_load(const char *path, char *err);
/* The value, or NULL when the section or key is absent. */
const char *fr_ini_get(const struct fr_ini *ini, const char *section, const char *key);
void fr_ini_free(struct fr_ini *ini);

int luaopen_flashrun_config(lua_State *L); /* load(path), parse(text [, name]) */

#endif
