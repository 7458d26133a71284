/* signals.c — the Lua module flashrun.signals: SIGINT and SIGTERM ask a run to stop at its next
 * safe point (between two steps, or while a plan waits for something), so that start can roll
 * back what it did instead of dying in the middle of a step. A second signal before that point
 * ends the process at once, as if there were no handler (a re-run resumes from the journal). */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "signals.h"

static volatile sig_atomic_t pending; /* the signal not yet taken note of by the plan, or 0 */

static void on_signal(int signo)
{
	if (pending) {
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	pending = signo;
	static const char msg[] = "\nflashrun: interrupted: stopping at the next safe point "
				  "(interrupt again to quit at once)\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1); /* async-signal-safe, unlike stdio */
	(void)n;
}

void fr_signals_block(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

int fr_signals_pending(void) { return pending != 0; }

static const char *signal_name(int signo)
{
	return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

/* interrupted([take]) -> "SIGINT" | "SIGTERM" | nil. With take = true the interruption is handled
 * from here on: it is cleared, and the next signal interrupts again instead of killing. */
static int l_interrupted(lua_State *L)
{
	int signo = pending;
	if (!signo) {
		lua_pushnil(L);
		return 1;
	}
	if (lua_toboolean(L, 1))
		pending = 0;
	lua_pushstring(L, signal_name(signo));
	return 1;
}

static const luaL_Reg funcs[] = {
	{"interrupted", l_interrupted},
	{NULL, NULL},
};

int luaopen_flashrun_signals(lua_State *L)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	luaL_newlib(L, funcs);
	return 1;
}
