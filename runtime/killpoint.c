/* killpoint.c — test-only kill points (see killpoint.h for the names and the environment). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "killpoint.h"

#ifdef FLASHRUN_KILLPOINTS
#include "log.h"
#include "signals.h"

struct node {
	char *name;
	unsigned ordinal;
	uint64_t last; /* hash of the last write's text: the same text again is a retry */
};

static struct {
	char plan[128], step[256];
	struct node *nodes;
	size_t nnodes;
	int inited;
	const char *kill;   /* FLASHRUN_TEST_KILL, or NULL */
	const char *pause;  /* FLASHRUN_TEST_PAUSE, or NULL (also once it has been reached) */
	const char *pause_file; /* FLASHRUN_TEST_PAUSE_FILE */
	int points_fd;      /* FLASHRUN_TEST_POINTS, or -1 */
} kp = { .plan = "-", .step = "-", .points_fd = -1 };

static void init(void)
{
	if (kp.inited)
		return;
	kp.inited = 1;
	const char *k = getenv("FLASHRUN_TEST_KILL");
	kp.kill = k && *k ? k : NULL;
	const char *pause = getenv("FLASHRUN_TEST_PAUSE");
	const char *file = getenv("FLASHRUN_TEST_PAUSE_FILE");
	if (pause && *pause && !(file && *file))
		fr_log(FR_WARN, "FLASHRUN_TEST_PAUSE is set without FLASHRUN_TEST_PAUSE_FILE: the run does not hold");
	else if (pause && *pause) {
		kp.pause = pause;
		kp.pause_file = file;
	}
	const char *p = getenv("FLASHRUN_TEST_POINTS");
	if (p && *p) {
		kp.points_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (kp.points_fd < 0)
			fr_log(FR_WARN, "FLASHRUN_TEST_POINTS: cannot open %s: kill points are not recorded", p);
	}
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void reset_nodes(void)
{
	for (size_t i = 0; i < kp.nnodes; i++)
		free(kp.nodes[i].name);
	free(kp.nodes);
	kp.nodes = NULL;
	kp.nnodes = 0;
}

static struct node *node(const char *name)
{
	for (size_t i = 0; i < kp.nnodes; i++)
		if (strcmp(kp.nodes[i].name, name) == 0)
			return &kp.nodes[i];
	struct node *n = realloc(kp.nodes, (kp.nnodes + 1) * sizeof *n);
	if (!n)
		return NULL;
	kp.nodes = n;
	n = &kp.nodes[kp.nnodes];
	*n = (struct node){ .name = strdup(name) };
	if (!n->name)
		return NULL;
	kp.nnodes++;
	return n;
}

/* One point: recorded, and compared with the chosen ones. Returns 1 to die there; *hold is set
 * to 1 to hold there (the first time the pause point is passed). */
static int pass(const char *name, int *hold)
{
	if (kp.points_fd >= 0) {
		char line[1024];
		int n = snprintf(line, sizeof line, "%s\n", name);
		if (n > 0 && (size_t)n < sizeof line && write(kp.points_fd, line, (size_t)n) != n)
			fr_log(FR_WARN, "FLASHRUN_TEST_POINTS: cannot record kill point %s", name);
	}
	if (kp.pause && strcmp(kp.pause, name) == 0) {
		fr_log(FR_WARN, "test pause point %s: the run holds there while %s exists (FLASHRUN_TEST_PAUSE)",
		       name, kp.pause_file);
		kp.pause = NULL;
		*hold = 1;
	}
	if (kp.kill && strcmp(kp.kill, name) == 0) {
		fr_log(FR_WARN, "test kill point %s: this process kills itself (FLASHRUN_TEST_KILL)", name);
		return 1;
	}
	return 0;
}

struct fr_kp fr_kp_write(const char *kind, const char *target, const char *text)
{
	struct fr_kp at = { FR_KP_NONE, FR_KP_NONE };
	init();
	if (fr_dry_run() || (!kp.kill && !kp.pause && kp.points_fd < 0))
		return at;
	struct node *n = node(target);
	if (!n)
		return at;
	uint64_t h = fnv1a(text);
	if (n->ordinal == 0 || n->last != h)
		n->ordinal++;
	n->last = h;
	char name[900];
	int hold = 0;
	if (strcmp(kind, "journal") != 0) {
		snprintf(name, sizeof name, "%s/%s/%s/%u/%s/before-reply", kp.plan, kp.step, target,
			 n->ordinal, kind);
		if (pass(name, &hold))
			at.kill = FR_KP_BEFORE_REPLY;
		if (hold)
			at.pause = FR_KP_BEFORE_REPLY;
	}
	snprintf(name, sizeof name, "%s/%s/%s/%u/%s/after", kp.plan, kp.step, target, n->ordinal, kind);
	hold = 0;
	if (pass(name, &hold))
		at.kill = FR_KP_AFTER;
	if (hold)
		at.pause = FR_KP_AFTER;
	return at;
}

/* Holds while the pause file exists. Any thread: it logs nothing (fr_kp_write logged the point on
 * the Lua thread); the file appearing is the sign the hold began. A pending SIGINT/SIGTERM ends
 * the hold, so the run goes on to the safe point where it stops. */
static void hold(void)
{
	int fd = open(kp.pause_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return; /* no file to wait on: the test sees it never appeared */
	close(fd);
	const struct timespec poll = { 0, 50 * 1000 * 1000 };
	while (access(kp.pause_file, F_OK) == 0) {
		if (fr_signals_pending())
			return;
		nanosleep(&poll, NULL); /* EINTR (a signal on this thread) is fine: checked above */
	}
}

void fr_kp_reach(struct fr_kp at, enum fr_kp_when now)
{
	if (at.kill != FR_KP_NONE && at.kill == now)
		kill(getpid(), SIGKILL); /* from any thread: the whole process, at once */
	if (at.pause != FR_KP_NONE && at.pause == now)
		hold();
}

/* step(plan, id): the interpreter enters a step (id "<id>.undo" for its undo). */
static int l_step(lua_State *L)
{
	const char *plan = luaL_checkstring(L, 1);
	const char *id = luaL_checkstring(L, 2);
	snprintf(kp.plan, sizeof kp.plan, "%s", plan);
	snprintf(kp.step, sizeof kp.step, "%s", id);
	/* '/' separates a point's parts */
	for (char *c = kp.step; *c; c++)
		if (*c == '/' || *c == ' ')
			*c = '_';
	reset_nodes();
	return 0;
}

static int l_enabled(lua_State *L)
{
	lua_pushboolean(L, 1);
	return 1;
}
#else
static int l_step(lua_State *L)
{
	(void)L;
	return 0;
}

static int l_enabled(lua_State *L)
{
	lua_pushboolean(L, 0);
	return 1;
}
#endif

static const luaL_Reg funcs[] = {
	{ "step", l_step },
	{ "enabled", l_enabled },
	{ NULL, NULL },
};

int luaopen_flashrun_killpoint(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}
