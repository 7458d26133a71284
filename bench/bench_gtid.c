/*
 * bench_gtid.c — how long GTID set arithmetic takes on big sets (goal: subtract on 10,000
 * intervals < 10 ms). Prints the median of RUNS runs per operation, in milliseconds.
 *
 * usage: bench_gtid [intervals] [runs]     (defaults 10000, 51)
 */
#include "gtid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_flashrun_gtid(lua_State *L);

#define UA "3e11fa47-71ca-11e1-9e33-c80aa9429562"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* n intervals "start-start+len" every step numbers, spread over `uuids` UUIDs (some tagged)
 * so both the per-tsid merge and the interval merge are exercised. */
static char *make_text(int n, long long start, int step, int len, int uuids)
{
	size_t cap = (size_t)n * 48 + (size_t)uuids * 64 + 1, w = 0;
	char *s = malloc(cap);
	int per = n / uuids;
	for (int u = 0; u < uuids; u++) {
		w += (size_t)sprintf(s + w, "%s%08x-71ca-11e1-9e33-c80aa9429562%s", u ? ",\n" : "", u,
				     u % 2 ? ":tag" : "");
		long long x = start;
		for (int i = 0; i < per; i++, x += step)
			w += (size_t)sprintf(s + w, ":%lld-%lld", x, x + len);
	}
	return s;
}

typedef struct fixture {
	const char *ta, *tb;
	gtid_set *a, *b;
	lua_State *L;
} fixture;

typedef void (*bench_fn)(fixture *);

static volatile size_t sink; /* keeps results observable so nothing is optimized away */

static void b_parse(fixture *f)
{
	gtid_set *s = gtid_parse(f->ta, strlen(f->ta), NULL);
	sink += s->n;
	gtid_set_free(s);
}

static void b_subtract(fixture *f)
{
	gtid_set *r = gtid_subtract(f->a, f->b);
	sink += r->n;
	gtid_set_free(r);
}

static void b_union(fixture *f)
{
	gtid_set *r = gtid_union(f->a, f->b);
	sink += r->n;
	gtid_set_free(r);
}

static void b_is_subset(fixture *f)
{
	gtid_set *i = gtid_intersect(f->a, f->b);
	sink += (size_t)gtid_is_subset(i, f->a); /* true: walks every interval */
	gtid_set_free(i);
}

static void b_format(fixture *f)
{
	char *t = gtid_format(f->a, NULL);
	sink += strlen(t);
	free(t);
}

/* What a plan pays: text in, text out, through the Lua binding. */
static void b_lua_subtract(fixture *f)
{
	lua_getfield(f->L, -1, "subtract");
	lua_pushstring(f->L, f->ta);
	lua_pushstring(f->L, f->tb);
	lua_call(f->L, 2, 1);
	sink += lua_rawlen(f->L, -1);
	lua_pop(f->L, 1);
}

static double fastest; /* min of the last median() call: the box is shared, so noise is one-sided */

static double median(bench_fn fn, fixture *f, int runs)
{
	double *t = malloc(sizeof *t * (size_t)runs);
	fn(f); /* warm-up */
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		fn(f);
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)runs, sizeof *t, cmp_double);
	double m = t[runs / 2];
	fastest = t[0];
	free(t);
	return m;
}

static void show(const char *what, double med, const char *note)
{
	printf("  %-18s median %8.3f ms  min %8.3f ms  %s\n", what, med, fastest, note);
}

static void run(const char *title, int n, int runs, int uuids)
{
	/* a: n intervals of 5 every 10; b: n intervals of 5 every 10 shifted by 3 (all overlap) */
	char *ta = make_text(n, 1, 10, 4, uuids), *tb = make_text(n, 4, 10, 4, uuids);
	fixture f = { ta, tb, gtid_parse(ta, strlen(ta), NULL), gtid_parse(tb, strlen(tb), NULL), luaL_newstate() };
	if (!f.a || !f.b) {
		fprintf(stderr, "bench_gtid: fixture does not parse\n");
		exit(1);
	}
	luaL_requiref(f.L, "flashrun.gtid", luaopen_flashrun_gtid, 0);
	printf("%s: %d intervals per set over %d tsid(s), text %zu bytes, median of %d runs\n", title, n, uuids,
	       strlen(ta), runs);
	show("parse", median(b_parse, &f, runs), "");
	show("format", median(b_format, &f, runs), "");
	show("subtract (parsed)", median(b_subtract, &f, runs), "");
	show("union (parsed)", median(b_union, &f, runs), "");
	show("is_subset", median(b_is_subset, &f, runs), "(intersect + subset walk)");
	show("Lua gtid.subtract", median(b_lua_subtract, &f, runs), "(parse both + subtract + format; goal < 10 ms)");
	lua_close(f.L);
	gtid_set_free(f.a), gtid_set_free(f.b);
	free(ta), free(tb);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	int runs = argc > 2 ? atoi(argv[2]) : 51;
	if (n < 1 || runs < 1) {
		fprintf(stderr, "usage: bench_gtid [intervals] [runs]\n");
		return 2;
	}
	run("one UUID", n, runs, 1);
	run("many UUIDs/tags", n, runs, 100);
	return 0;
}
