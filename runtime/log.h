/* log.h — what flashrun says: human lines on stderr, JSON lines for audit, secrets masked,
 * and the dry-run switch with its recorder. Call from the Lua thread only. */
#ifndef FLASHRUN_LOG_H
#define FLASHRUN_LOG_H

#include <stdbool.h>
#include <lua.h>

enum fr_level { FR_DEBUG, FR_INFO, FR_WARN, FR_ERROR };

/* printf-style; the formatted text is masked before it is written anywhere. */
void fr_log(enum fr_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers a value that must never be shown (passwords, generated secrets). Copies it. */
void fr_mask_add(const char *secret);
/* A malloc'd copy of text with every registered secret replaced by "******"; caller frees. */
char *fr_mask_dup(const char *text);

/* Dry-run: reads stay live, every write is recorded instead of performed. The host sets it
 * once from --dry-run; drivers check it before every mutating call. */
bool fr_dry_run(void);
void fr_set_dry_run(bool on);
/* Prints the call that would have been made, masked: "DRY-RUN <kind> <target>: <text>". */
void fr_record(const char *kind, const char *target, const char *text);

int luaopen_flashrun_log(lua_State *L); /* debug, info, warn, error, secret, event */

#endif
