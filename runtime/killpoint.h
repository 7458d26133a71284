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
 * FLASHRUN_TEST_KILL=<point> makes the process SIGKILL itself there.
 *
 * FLASHRUN_TEST_PAUSE=<point> with FLASHRUN_TEST_PAUSE_FILE=<file> holds the run there instead:
 * the thread that reaches the point creates <file> and waits (polling every 50 ms) while it
 * exists, then goes on; the first time only (a retry passing the same point again goes by). It
 * also goes on when SIGINT or SIGTERM arrives, so an interrupted run ends as it would (at its
 * next safe point; a second signal ends it at once). The thread that holds: a journal point and a
 * write made outside parallel() hold the Lua thread — every coroutine stops, while the worker
 * threads' writes in flight and the servers go on (a CLONE keeps copying); a write made inside
 * parallel() runs on a worker thread, which holds alone: its coroutine waits for the reply, the
 * other coroutines go on. Tests use it to see a step mid-way (status, progress, the stream) with
 * little data.
 *
 * Without the option the functions below are empty and the environment is ignored.
 */
#ifndef FLASHRUN_KILLPOINT_H
#define FLASHRUN_KILLPOINT_H

#include <lua.h>

enum fr_kp_when { FR_KP_NONE = 0, FR_KP_BEFORE_REPLY = 1, FR_KP_AFTER = 2 };

/* What one write does at its moments: the moment it kills the process at and the one it holds
 * at (FR_KP_NONE almost always). Carried with the write to the thread that makes it. */
struct fr_kp {
	enum fr_kp_when kill, pause;
};

#ifdef FLASHRUN_KILLPOINTS
/* Lua thread, before the write is handed to a worker: names and records the write's points and
 * says where this process must die or hold. */
struct fr_kp fr_kp_write(const char *kind, const char *node, const char *text);
/* Any thread, at the moment `now` of the write: SIGKILLs the process, or holds, when `now` is
 * the moment chosen for that. */
void fr_kp_reach(struct fr_kp at, enum fr_kp_when now);
#else
static inline struct fr_kp fr_kp_write(const char *kind, const char *node, const char *text)
{
	(void)kind; (void)node; (void)text;
	return (struct fr_kp){ FR_KP_NONE, FR_KP_NONE };
}
static inline void fr_kp_reach(struct fr_kp at, enum fr_kp_when now)
{
	(void)at; (void)now;
}
#endif

int luaopen_flashrun_killpoint(lua_State *L); /* step(plan, id), enabled() */

#endif
