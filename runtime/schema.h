/* schema.h — the configuration schema: every section, key, type, default, allowed word and
 * secret, defined once (schema.c) and applied to every source — the INI file (config.c), the
 * environment, --set and --si/--ti (flashrun.settings, through `flashrun.schema`). */
#ifndef FLASHRUN_SCHEMA_H
#define FLASHRUN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

enum fr_type {
	FR_TEXT,    /* any text, verbatim */
	FR_HOST,    /* endpoint.h's host grammar */
	FR_PORT,    /* 1..65535; becomes an integer */
	FR_COUNT,   /* a whole number >= 0 (seconds, percent, MiB) */
	FR_WORD,    /* one of `words` */
	FR_PATH,    /* an absolute path */
	FR_IWORD,   /* one of `words` in any case; flashrun.schema hands it over lower-cased */
};

/* Sections a key belongs to (a bit set: source and target share the router keys). */
enum { FR_SOURCE = 1, FR_TARGET = 2, FR_SITE = 4, FR_ROUTERS = FR_SOURCE | FR_TARGET };

struct fr_key {
	unsigned sections;
	const char *key;
	enum fr_type type;
	const char *def;     /* default as text; NULL or "" = none (or derived: see `doc`) */
	const char *words;   /* FR_WORD: the allowed values, separated by '|' */
	bool secret;         /* never printed; registered with the log's redaction */
	const char *same_as; /* default: the value of this key in the same section */
	const char *doc;
};

extern const struct fr_key FR_SCHEMA[];
extern const size_t FR_SCHEMA_LEN;

/* The section's bit, or 0 when there is no such section. */
unsigned fr_schema_section(const char *name);
/* "source, target, site" style list of the sections, for messages. */
const char *fr_schema_sections_text(void);
const struct fr_key *fr_schema_find(const char *section, const char *key);
/* The known keys of a section, ", "-separated, into buf. */
void fr_schema_known(const char *section, char *buf, size_t len);
/* Checks value against k's type; false with why (never quoting the value: it may be secret). */
bool fr_schema_check(const struct fr_key *k, const char *value, char *why, size_t whylen);

int luaopen_flashrun_schema(lua_State *L);

#endif
