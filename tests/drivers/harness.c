/* harness.c — runs a Lua test file against drivers/sql.c and drivers/ssh.c, without the rest of
 * the runtime (which is written concurrently). It carries minimal stand-ins for the runtime's
 * contract (sched.h: fr_await + parallel; log.h: dry-run switch, recorder, masking), so the
 * drivers are exercised through the same interface they use in the real binary:
 *   - fr_await runs work() on a fresh thread and yields when the caller is a coroutine,
 *     so parallel() branches overlap as they do under the real scheduler;
 *   - fr_record prints "DRY-RUN kind target: text" (masked) and keeps it for records().
 *
 *   harness test.lua [args...]   -- exit 0 when the script returns normally, 77 on skip()
 * Globals for tests: sql, ssh (the connect functions), sqlmod, sshmod, parallel(items, fn), now(),
 * set_dry_run(bool), secret(v), records() -> list of recorded texts, skip(msg), arg.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

#include "scheduler.h"
#include "log.h"

int luaopen_flashrun_sql(lua_State *L);
int luaopen_flashrun_ssh(lua_State *L);

/* ------------------------------------------------------------ log.h stand-ins */

static bool dry;
static char *secrets[64];
static int nsecrets;
static lua_State *gL;

bool fr_dry_run(void) { return dry; }
void fr_set_dry_run(bool on) { dry = on; }

void fr_mask_add(const char *s)
{
	if (s && *s && nsecrets < 64)
		secrets[nsecrets++] = strdup(s);
}

char *fr_mask_dup(const char *text)
{
	char *out = strdup(text);
	for (int i = 0; i < nsecrets && out; i++) {
		char *p;
		size_t sl = strlen(secrets[i]);
		while ((p = strstr(out, secrets[i]))) {
			char *n = malloc(strlen(out) - sl + 7);
			memcpy(n, out, p - out);
			strcpy(n + (p - out), "******");
			strcat(n, p + sl);
			free(out);
			out = n;
		}
	}
	return out;
}

void fr_log(enum fr_level level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *m = fr_mask_dup(buf);
	fprintf(stderr, "LOG %d %s\n", level, m);
	free(m);
}

void fr_record(const char *kind, const char *target, const char *text)
{
	char *m = fr_mask_dup(text);
	printf("DRY-RUN %s %s: %s\n", kind, target, m);
	fflush(stdout);
	lua_getfield(gL, LUA_REGISTRYINDEX, "harness.records");
	lua_pushfstring(gL, "%s %s: %s", kind, target, m);
	lua_rawseti(gL, -2, luaL_len(gL, -2) + 1);
	lua_pop(gL, 1);
	free(m);
}

/* ------------------------------------------------------------ sched.h stand-in */

struct pending {
	pthread_t thread;
	atomic_int done;
	fr_work_fn work;
	fr_finish_fn finish;
	void *job;
};
static struct pending *last_yield;

static void *runner(void *arg)
{
	struct pending *p = arg;
	p->work(p->job);
	atomic_store(&p->done, 1);
	return NULL;
}

static int resume_k(lua_State *L, int status, lua_KContext ctx)
{
	struct pending *p = (struct pending *)ctx;
	fr_finish_fn finish = p->finish;
	void *job = p->job;
	free(p);
	return finish(L, job);
}

int fr_await(lua_State *L, fr_work_fn work, fr_finish_fn finish, void *job)
{
	if (!lua_isyieldable(L)) {
		work(job);
		return finish(L, job);
	}
	struct pending *p = calloc(1, sizeof *p);
	p->work = work;
	p->finish = finish;
	p->job = job;
	pthread_create(&p->thread, NULL, runner, p);
	last_yield = p;
	return lua_yieldk(L, 0, (lua_KContext)p, resume_k);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int l_now(lua_State *L)
{
	lua_pushnumber(L, mono());
	return 1;
}

/* parallel(items, fn) -> results, errors|nil */
static int l_parallel(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	int n = (int)luaL_len(L, 1);
	lua_State **co = calloc(n + 1, sizeof *co);
	struct pending **pend = calloc(n + 1, sizeof *pend);
	lua_settop(L, 2);
	lua_newtable(L); /* 3: results */
	lua_newtable(L); /* 4: errors */
	lua_newtable(L); /* 5: anchors for the coroutines */
	int nerr = 0, left = 0;
	for (int i = 1; i <= n; i++) {
		co[i] = lua_newthread(L);
		lua_rawseti(L, 5, i);
		lua_pushvalue(L, 2);
		lua_geti(L, 1, i);
		lua_pushinteger(L, i);
		lua_xmove(L, co[i], 3);
	}
	for (int i = 1; i <= n; i++) {
		int nres;
		last_yield = NULL;
		int st = lua_resume(co[i], L, 2, &nres);
		if (st == LUA_YIELD) {
			pend[i] = last_yield;
			left++;
		} else if (st == LUA_OK) {
			if (nres > 0) {
				lua_xmove(co[i], L, 1);
				lua_rawseti(L, 3, i);
			}
			co[i] = NULL;
		} else {
			lua_xmove(co[i], L, 1);
			lua_rawseti(L, 4, i);
			nerr++;
			co[i] = NULL;
		}
	}
	while (left) {
		int progressed = 0;
		for (int i = 1; i <= n; i++) {
			if (!co[i] || !pend[i] || !atomic_load(&pend[i]->done))
				continue;
			pthread_join(pend[i]->thread, NULL);
			pend[i] = NULL;
			progressed = 1;
			int nres;
			last_yield = NULL;
			int st = lua_resume(co[i], L, 0, &nres);
			if (st == LUA_YIELD) {
				pend[i] = last_yield;
				continue;
			}
			left--;
			if (st == LUA_OK) {
				if (nres > 0) {
					lua_xmove(co[i], L, 1);
					lua_rawseti(L, 3, i);
				}
			} else {
				lua_xmove(co[i], L, 1);
				lua_rawseti(L, 4, i);
				nerr++;
			}
			co[i] = NULL;
		}
		if (!progressed)
			usleep(1000);
	}
	free(co);
	free(pend);
	lua_pushvalue(L, 3);
	if (nerr)
		lua_pushvalue(L, 4);
	else
		lua_pushnil(L);
	return 2;
}

/* ------------------------------------------------------------ test globals */

static int l_set_dry_run(lua_State *L)
{
	dry = lua_toboolean(L, 1);
	return 0;
}

static int l_secret(lua_State *L)
{
	fr_mask_add(luaL_checkstring(L, 1));
	lua_settop(L, 1);
	return 1;
}

static int l_records(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "harness.records");
	return 1;
}

static int l_skip(lua_State *L)
{
	printf("SKIP: %s\n", luaL_optstring(L, 1, ""));
	fflush(stdout);
	exit(77);
}

static int traceback(lua_State *L)
{
	luaL_traceback(L, L, lua_tostring(L, 1), 1);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s test.lua [args...]\n", argv[0]);
		return 2;
	}
	lua_State *L = luaL_newstate();
	gL = L;
	luaL_openlibs(L);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "harness.records");
	luaL_requiref(L, "flashrun.sql", luaopen_flashrun_sql, 0);
	lua_getfield(L, -1, "connect");
	lua_setglobal(L, "sql");
	lua_setglobal(L, "sqlmod");
	luaL_requiref(L, "flashrun.ssh", luaopen_flashrun_ssh, 0);
	lua_getfield(L, -1, "connect");
	lua_setglobal(L, "ssh");
	lua_setglobal(L, "sshmod");
	lua_register(L, "parallel", l_parallel);
	lua_register(L, "now", l_now);
	lua_register(L, "set_dry_run", l_set_dry_run);
	lua_register(L, "secret", l_secret);
	lua_register(L, "records", l_records);
	lua_register(L, "skip", l_skip);
	lua_newtable(L);
	for (int i = 2; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - 1);
	}
	lua_setglobal(L, "arg");

	lua_pushcfunction(L, traceback);
	if (luaL_loadfile(L, argv[1]) || lua_pcall(L, 0, 0, -2)) {
		fprintf(stderr, "FAIL: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return 1;
	}
	lua_close(L); /* runs __gc of any handle left open */
	printf("PASS: %s\n", argv[1]);
	return 0;
}
