/* killpoint.h — test-only kill points (CMake FLASHRUN_KILLPOINTS; off in release and packages).
 *
 * Every write flashrun makes — a SQL statement sent with conn:exec, a remote command sent with
 * s:run or s:write_file, a journal write — passes through fr_kp_write() on the Lua thread, which
 * names its points
 *
 *     <plan>/<step>/<node>/<ordinal>/<kind>/<when>
 *
 * plan and step: the plan and the step id the interpreter is running ("<id>.undo" in a rollback,
 * "-" before the first step; journal writes between steps belong to the step before them);
 * node: the write's target (host:port, user@host:port, "journal"); ordinal: 1, 2, ... per
 * (step, node) — a write whose text equals the one before it on that node is a retry and keeps
 * its ordinal; kind: sql, ssh or journal; when: "after" (the reply was read) or "before-reply"
 * (sent, reply not read; sql and ssh only).
 *
 * FLASHRUN_TEST_POINTS=<file> appends every point a run passes to <file>, one a line;
 * FLASHRUN_TEST_KILL=<point> makes the process SIGKILL itself there. Without the option the
 * functions below are empty and the environment is ignored.
 */
#ifndef FLASHRUN_KILLPOINT_H
#define FLASHRUN_KILLPOINT_H

#include <lua.h>

enum fr_kp_when { FR_KP_NONE = 0, FR_KP_BEFORE_REPLY = 1, FR_KP_AFTER = 2 };

#ifdef FLASHRUN_KILLPOINTS
/* Lua thread, before the write is handed to a worker: names and records the write's points and
 * says where this process must die (FR_KP_NONE almost always). */
enum fr_kp_when fr_kp_write(const char *kind, const char *node, const char *text);
/* Any thread: SIGKILLs the process when `when` is the chosen moment. */
void fr_kp_maybe_die(enum fr_kp_when chosen, enum fr_kp_when now);
#else
static inline enum fr_kp_when fr_kp_write(const char *kind, const char *node, const char *text)
{
	(void)kind; (void)node; (void)text;
	return FR_KP_NONE;
}
static inline void fr_kp_maybe_die(enum fr_kp_when chosen, enum fr_kp_when now)
{
	(void)chosen; (void)now;
}
#endif

int luaopen_flashrun_killpoint(lua_State *L); /* step(plan, id), enabled() */

#endif
