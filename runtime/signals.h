/* signals.h — SIGINT/SIGTERM become a request to stop at the next safe point (runtime/signals.c). */
#ifndef FLASHRUN_SIGNALS_H
#define FLASHRUN_SIGNALS_H

#include <pthread.h>
#include <signal.h>
#include <lua.h>

/* Blocks SIGINT and SIGTERM in the calling thread (old mask in *old): worker threads are created
 * with them blocked, so only the Lua thread sees them and no blocking I/O is interrupted. */
void fr_signals_block(sigset_t *old);

/* Any thread: 1 when SIGINT or SIGTERM arrived and the plan has not taken note of it yet. */
int fr_signals_pending(void);

int luaopen_flashrun_signals(lua_State *L); /* interrupted */

#endif
