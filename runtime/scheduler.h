/* scheduler.h — the C side of flashrun.sched (runtime/sched.c): blocking work off the Lua
 * thread, so parallel() branches overlap.
 *
 * The Lua state is single-threaded. parallel() runs each branch as a coroutine; a driver
 * primitive that blocks (connect, query, remote command, sleep) hands its work to a small
 * worker pool and yields, and the scheduler resumes the coroutine when the work is done.
 * Outside parallel() (main thread, not yieldable) the work simply runs inline.
 */

#ifndef FLASHRUN_SCHEDULER_H
#define FLASHRUN_SCHEDULER_H

#include <lua.h>

/* Runs on a worker thread: must not touch any lua_State, and must not log. */
typedef void (*fr_work_fn)(void *job);
/* Runs on the Lua thread once work() is done: pushes the results, returns how many. */
typedef int (*fr_finish_fn)(lua_State *L, void *job);

/* Use as the tail of a lua_CFunction: `return fr_await(L, work, finish, job);`.
 * `job` must stay alive until finish() runs: keep it in a userdata on L's stack (a yield
 * keeps the stack) or in a handle the caller owns. May yield; nothing after it runs. */
int fr_await(lua_State *L, fr_work_fn work, fr_finish_fn finish, void *job);

/* Seconds on the monotonic clock: durations, deadlines. */
double fr_monotonic(void);

int luaopen_flashrun_sched(lua_State *L); /* sleep, now, parallel */

#endif
