/* sched.c — worker pool, fr_await, and the Lua module flashrun.sched (sleep, now, parallel).
 *
 * How a blocking call overlaps with others:
 *   1. parallel() runs each branch as a coroutine it marks as "managed".
 *   2. A driver primitive ends with fr_await(). In a managed, yieldable coroutine, fr_await
 *      yields (SENTINEL, pending*) to the parallel() loop that resumed it; anywhere else it
 *      runs the work inline.
 *   3. That loop hands the pending work to the pool, and waits (on one condition variable
 *      shared by all loops) until some pending work of one of *its* branches is done, then
 *      resumes that branch; the continuation calls finish() to push the results.
 * Work is submitted by the loop, not by fr_await, so each completion is known to belong to
 * the loop that waits for it. A nested parallel() runs its own loop; when it has nothing to
 * do it yields IDLE to the outer loop, so the outer siblings keep running meanwhile.
 * parallel() always runs every branch to its end, even after one fails: a job's memory
 * lives on its coroutine's stack and must outlive the worker using it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>

#include "scheduler.h"
#include "signals.h"

#define NWORKERS 16

struct pending {
	fr_work_fn work;
	fr_finish_fn finish;
	void *job;
	int done;               /* set by a worker under pool.lock */
	struct pending *next;   /* queue link */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work_ready;  /* workers wait here */
	pthread_cond_t work_done;   /* parallel() loops wait here */
	struct pending *head, *tail;
	int started;
	unsigned long completions;  /* bumped on every done job: lets a loop sleep safely */
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
	   NULL, NULL, 0, 0 };

/* Registry keys, shared by nothing outside this file: their addresses are the keys. */
static const char SENTINEL = 0;     /* first value yielded by fr_await */
static const char MANAGED_KEY = 0;  /* weak-keyed set of coroutines parallel() runs */
static const char IDLE = 0;         /* yielded by a nested parallel() with nothing to do */

/* ---- worker pool -------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.head == NULL)
			pthread_cond_wait(&pool.work_ready, &pool.lock);
		struct pending *p = pool.head;
		pool.head = p->next;
		if (pool.head == NULL)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);
		p->work(p->job);
		pthread_mutex_lock(&pool.lock);
		p->done = 1;
		pool.completions++;
		pthread_cond_broadcast(&pool.work_done);
	}
	return NULL;
}

/* Threads start on first use, so --list and plans that never block start none.
 * Returns 0, or -1 when not a single worker could be started. */
static int pool_start(void)
{
	if (pool.started > 0)
		return 0;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigset_t old;
	fr_signals_block(&old); /* inherited by the workers */
	for (int i = 0; i < NWORKERS; i++) {
		pthread_t t;
		if (pthread_create(&t, &attr, worker_main, NULL) == 0)
			pool.started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return pool.started > 0 ? 0 : -1;
}

static void pool_submit(struct pending *p)
{
	pthread_mutex_lock(&pool.lock);
	p->done = 0;
	p->next = NULL;
	if (pool.tail != NULL)
		pool.tail->next = p;
	else
		pool.head = p;
	pool.tail = p;
	pthread_cond_signal(&pool.work_ready);
	pthread_mutex_unlock(&pool.lock);
}

/* ---- fr_await ------------------------------------------------------------------------------ */

static int is_managed(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &MANAGED_KEY);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushthread(L);
	int managed = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return managed;
}

static int await_continue(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	struct pending p = *(struct pending *)ctx;
	free((void *)ctx); /* before finish(), which may raise */
	return p.finish(L, p.job);
}

int fr_await(lua_State *L, fr_work_fn work, fr_finish_fn finish, void *job)
{
	if (!lua_isyieldable(L) || !is_managed(L) || pool_start() != 0) {
		work(job);
		return finish(L, job);
	}
	struct pending *p = malloc(sizeof *p);
	if (p == NULL) {
		work(job);
		return finish(L, job);
	}
	*p = (struct pending){ .work = work, .finish = finish, .job = job };
	lua_pushlightuserdata(L, (void *)&SENTINEL);
	lua_pushlightuserdata(L, p);
	return lua_yieldk(L, 2, (lua_KContext)p, await_continue);
}

/* ---- sleep, now --------------------------------------------------------------------------- */

double fr_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_work(void *job)
{
	double s = *(double *)job;
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int sleep_finish(lua_State *L, void *job)
{
	(void)L;
	(void)job;
	return 0;
}

static int l_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && s < 1e9, 1, "seconds must be >= 0");
	double *job = lua_newuserdatauv(L, sizeof *job, 0); /* kept on the stack across a yield */
	*job = (double)s;
	return fr_await(L, sleep_work, sleep_finish, job);
}

static int l_now(lua_State *L)
{
	lua_pushnumber(L, fr_monotonic());
	return 1;
}

/* ---- parallel ----------------------------------------------------------------------------- */

enum { RUNNABLE, WAITING, DEAD };

struct branch {
	lua_State *co;
	int state;
	int nargs;              /* values to pass on the next resume */
	struct pending *wait;   /* while WAITING */
};

/* Lives in a userdata at stack slot PAR, so it survives a yield of parallel() itself. */
struct par {
	int n, live, nerr;
	struct branch br[];
};

/* Stack slots of l_parallel / parallel_loop. */
enum { ITEMS = 1, FN, RESULTS, ERRORS, THREADS, PAR };

/* Error message plus the branch's traceback; a non-string error (a refuse() table) is
 * passed through untouched. Pushed on L. */
static void push_branch_error(lua_State *L, lua_State *co)
{
	const char *msg = lua_tostring(co, -1);
	if (msg == NULL)
		lua_xmove(co, L, 1);
	else
		luaL_traceback(L, co, msg, 0);
}

/* One resume; stores the outcome in results/errors. Returns 0 when the branch only said it
 * is idle (a nested parallel() with nothing to do), 1 when something happened. */
static int step_branch(lua_State *L, struct par *p, int i)
{
	struct branch *b = &p->br[i];
	int nres = 0;
	int status = lua_resume(b->co, L, b->nargs, &nres);
	b->nargs = 0;
	if (status == LUA_YIELD) {
		if (nres == 2 && lua_touserdata(b->co, -2) == (void *)&SENTINEL) {
			b->wait = lua_touserdata(b->co, -1);
			b->state = WAITING;
			lua_pop(b->co, 2);
			pool_submit(b->wait);
			return 1;
		}
		if (nres == 1 && lua_touserdata(b->co, -1) == (void *)&IDLE) {
			lua_pop(b->co, 1);
			return 0;
		}
		/* Yielded for something else (a plain coroutine.yield): give the values back at
		 * the next round, like a cooperative yield. */
		b->nargs = nres;
		return 1;
	}
	b->state = DEAD;
	p->live--;
	if (status == LUA_OK) {
		if (nres > 0) {
			lua_pop(b->co, nres - 1);
			lua_xmove(b->co, L, 1);
			lua_rawseti(L, RESULTS, i + 1);
		}
		return 1;
	}
	push_branch_error(L, b->co);
	lua_rawseti(L, ERRORS, i + 1);
	p->nerr++;
	return 1;
}

/* WAITING branches whose work is done become RUNNABLE. Returns how many. */
static int wake_done(struct par *p)
{
	int woke = 0;
	pthread_mutex_lock(&pool.lock);
	for (int i = 0; i < p->n; i++)
		if (p->br[i].state == WAITING && p->br[i].wait->done) {
			p->br[i].state = RUNNABLE;
			p->br[i].wait = NULL;
			woke++;
		}
	pthread_mutex_unlock(&pool.lock);
	return woke;
}

static unsigned long completions(void)
{
	pthread_mutex_lock(&pool.lock);
	unsigned long c = pool.completions;
	pthread_mutex_unlock(&pool.lock);
	return c;
}

/* Blocks until some work anywhere completes after `seen` was read. */
static void wait_completion(unsigned long seen)
{
	pthread_mutex_lock(&pool.lock);
	while (pool.completions == seen)
		pthread_cond_wait(&pool.work_done, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
}

static int parallel_continue(lua_State *L, int status, lua_KContext ctx);

/* Rounds until every branch is dead. With nothing to do, a nested parallel() (running in a
 * branch of an outer one) yields IDLE so its outer siblings keep going; the outermost loop
 * blocks until some work completes. */
static int parallel_loop(lua_State *L)
{
	struct par *p = lua_touserdata(L, PAR);
	while (p->live > 0) {
		unsigned long seen = completions();
		int progress = 0;
		for (int i = 0; i < p->n; i++)
			if (p->br[i].state == RUNNABLE)
				progress |= step_branch(L, p, i);
		progress |= wake_done(p);
		if (progress || p->live == 0)
			continue;
		if (lua_isyieldable(L) && is_managed(L)) {
			lua_pushlightuserdata(L, (void *)&IDLE);
			return lua_yieldk(L, 1, 0, parallel_continue);
		}
		wait_completion(seen);
	}
	lua_pushvalue(L, RESULTS);
	if (p->nerr > 0)
		lua_pushvalue(L, ERRORS);
	else
		lua_pushnil(L);
	return 2;
}

static int parallel_continue(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	lua_settop(L, PAR);
	return parallel_loop(L);
}

static void mark_managed(lua_State *L, int co_index)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &MANAGED_KEY) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_newtable(L);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &MANAGED_KEY);
	}
	lua_pushvalue(L, co_index);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

/* parallel(items, fn) -> results, errors|nil */
static int l_parallel(lua_State *L)
{
	luaL_checktype(L, ITEMS, LUA_TTABLE);
	luaL_checktype(L, FN, LUA_TFUNCTION);
	int n = (int)luaL_len(L, ITEMS);
	luaL_argcheck(L, n >= 0 && n < 100000, ITEMS, "too many items");
	lua_settop(L, FN);
	lua_createtable(L, n, 0);                 /* RESULTS */
	lua_newtable(L);                          /* ERRORS */
	lua_createtable(L, n, 0);                 /* THREADS: anchors the coroutines */
	struct par *p = lua_newuserdatauv(L, sizeof *p + sizeof p->br[0] * (size_t)n, 0);
	*p = (struct par){ .n = n, .live = n };
	for (int i = 0; i < n; i++) {
		lua_State *co = lua_newthread(L);
		mark_managed(L, lua_gettop(L));
		lua_rawseti(L, THREADS, i + 1);
		lua_pushvalue(L, FN);
		lua_geti(L, ITEMS, i + 1);
		lua_pushinteger(L, i + 1);
		lua_xmove(L, co, 3);
		p->br[i] = (struct branch){ .co = co, .state = RUNNABLE, .nargs = 2 };
	}
	return parallel_loop(L);
}

static const luaL_Reg funcs[] = {
	{ "sleep", l_sleep },
	{ "now", l_now },
	{ "parallel", l_parallel },
	{ NULL, NULL },
};

int luaopen_flashrun_sched(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}
