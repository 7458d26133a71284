/*
 * test_gtid.c — GTID set arithmetic against a real server's answers.
 *
 * gtid_vectors.txt (next to this file; regenerate with gtid_vectors.py) holds inputs and what
 * MySQL 9.7 returned for them. Each vector is checked twice: through the C API and through
 * the Lua module plans use. Then a few hand checks for what the server cannot tell us (count,
 * the Lua error contract, variadic union).
 *
 * usage: test_gtid [vectors-file]
 */
#include "gtid.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_flashrun_gtid(lua_State *L);

#ifndef TEST_SOURCE_DIR
#define TEST_SOURCE_DIR "tests/unit"
#endif



/* ---------------------------------------------------------------- vectors file */

/* Undoes gtid_vectors.py's esc() in place; returns the new length. */
static size_t unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case 'n': *w++ = '\n'; break;
		case 't': *w++ = '\t'; break;
		case 'r': *w++ = '\r'; break;
		case 'v': *w++ = '\v'; break;
		case 'f': *w++ = '\f'; break;
		case '\\': *w++ = '\\'; break;
		case 'x': {
			char hex[3] = { r[1], r[2], 0 };
			*w++ = (char)strtol(hex, NULL, 16);
			r += 2;
			break;
		}
		default:
			fprintf(stderr, "bad escape \\%c in vectors\n", *r);
			exit(2);
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Printable form of a value for failure messages (newlines shown as \n). */
static const char *show(const char *s)
{
	static char bufs[4][512];
	static int k;
	char *b = bufs[k++ % 4];
	size_t n = 0;
	for (; *s && n < sizeof bufs[0] - 8; s++) {
		if (*s == '\n')
			n += (size_t)sprintf(b + n, "\\n");
		else if ((unsigned char)*s < 0x20)
			n += (size_t)sprintf(b + n, "\\x%02x", (unsigned char)*s);
		else
			b[n++] = *s;
	}
	b[n] = '\0';
	return b;
}

static gtid_set *parse_ok(const char *text, int line)
{
	gtid_error err;
	SEED("gtid", text, strlen(text));
	gtid_set *s = gtid_parse(text, strlen(text), &err);
	CHECKF(s != NULL, "line %d: '%s' should parse: %s", line, show(text), err.msg);
	return s;
}

/* ---------------------------------------------------------------- C API */

static char *c_apply(const char *op, gtid_set *a, gtid_set *b)
{
	gtid_set *r = NULL;
	if (!strcmp(op, "subset"))
		return strdup(gtid_is_subset(a, b) ? "1" : "0");
	if (!strcmp(op, "normalize"))
		return gtid_format(a, NULL);
	if (!strcmp(op, "subtract"))
		r = gtid_subtract(a, b);
	else if (!strcmp(op, "union"))
		r = gtid_union(a, b);
	else if (!strcmp(op, "intersect"))
		r = gtid_intersect(a, b);
	else {
		fprintf(stderr, "unknown op %s in vectors\n", op);
		exit(2);
	}
	char *text = gtid_format(r, NULL);
	gtid_set_free(r);
	return text;
}

/* Laws that must hold whatever the server said: they catch a wrong answer the vectors
 * happen not to pin down (count has no SQL counterpart). */
static void c_laws(gtid_set *a, gtid_set *b, int line)
{
	gtid_set *d = gtid_subtract(a, b), *i = gtid_intersect(a, b), *u = gtid_union(a, b);
	gtid_set *du = gtid_union(d, i);
	/* counts compared modulo 2^64: near-2^63 ranges would overflow signed sums */
	int64_t na, nd, ni, nu, nb;
	CHECKF(gtid_equal(du, a), "line %d: (a-b) | (a&b) != a", line);
	CHECKF(gtid_is_subset(d, a) && gtid_is_subset(i, b) && gtid_is_subset(b, u), "line %d: subset laws", line);
	CHECKF(gtid_is_subset(a, b) == gtid_equal(i, a), "line %d: a<=b iff a&b==a", line);
	gtid_count(a, &na), gtid_count(b, &nb), gtid_count(d, &nd), gtid_count(i, &ni), gtid_count(u, &nu);
	CHECKF((uint64_t)na == (uint64_t)nd + (uint64_t)ni,
	      "line %d: count(a)=%lld != count(a-b)+count(a&b)=%lld+%lld", line, (long long)na,
	      (long long)nd, (long long)ni);
	CHECKF((uint64_t)nu == (uint64_t)na + (uint64_t)nb - (uint64_t)ni, "line %d: inclusion-exclusion on counts", line);
	gtid_set_free(d), gtid_set_free(i), gtid_set_free(u), gtid_set_free(du);
}

/* ---------------------------------------------------------------- Lua module */

static lua_State *new_lua(void)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "flashrun.gtid", luaopen_flashrun_gtid, 0);
	lua_setglobal(L, "gtid");
	return L;
}

/* gtid[op](a[, b]) in Lua; returns a malloc'd result ("1"/"0" for booleans) or NULL with
 * the error message in *err (malloc'd). */
static char *lua_apply(lua_State *L, const char *op, const char *a, size_t alen, const char *b,
		       char **err)
{
	const char *fn = !strcmp(op, "subset") ? "is_subset" : op;
	int nargs = strcmp(op, "normalize") ? 2 : 1;
	lua_getglobal(L, "gtid");
	lua_getfield(L, -1, fn);
	lua_pushlstring(L, a, alen);
	if (nargs == 2)
		lua_pushstring(L, b);
	char *out = NULL;
	*err = NULL;
	if (lua_pcall(L, nargs, 1, 0) != LUA_OK)
		*err = strdup(lua_tostring(L, -1));
	else if (lua_isboolean(L, -1))
		out = strdup(lua_toboolean(L, -1) ? "1" : "0");
	else
		out = strdup(luaL_checkstring(L, -1));
	lua_pop(L, 2);
	return out;
}

/* ---------------------------------------------------------------- one vector */

static void run_vector(lua_State *L, int line, const char *op, const char *a, size_t alen,
		       const char *b, const char *want)
{
	gtid_error err;
	if (!strncmp(want, "!ERR ", 5)) {
		size_t pos = (size_t)atol(want + 5);
		gtid_set *s = gtid_parse(a, alen, &err);
		CHECKF(s == NULL, "line %d: '%s' must be rejected (server: error at %zu)", line, show(a), pos);
		if (!s)
			CHECKF(err.pos == pos, "line %d: '%s': error at %zu, server says %zu (%s)", line,
			      show(a), err.pos, pos, err.msg);
		gtid_set_free(s);
		char *lerr, *got = lua_apply(L, op, a, alen, b, &lerr);
		char needle[64];
		snprintf(needle, sizeof needle, "at position %zu:", pos);
		CHECKF(!got && lerr && strstr(lerr, needle) && strstr(lerr, "bad argument #1"),
		      "line %d: Lua should raise naming position %zu, got %s", line, pos,
		      got ? show(got) : lerr);
		free(got), free(lerr);
		return;
	}
	gtid_set *sa = gtid_parse(a, alen, &err), *sb = NULL;
	CHECKF(sa != NULL, "line %d: '%s' should parse: %s", line, show(a), sa ? "" : err.msg);
	if (sa)
		sb = parse_ok(b, line);
	if (sa && sb) {
		char *got = c_apply(op, sa, sb);
		CHECKF(got && !strcmp(got, want), "line %d: C %s('%s', '%s') = '%s', server: '%s'", line,
		      op, show(a), show(b), got ? show(got) : "(oom)", show(want));
		free(got);
		c_laws(sa, sb, line);
	}
	gtid_set_free(sa), gtid_set_free(sb);

	char *lerr, *got = lua_apply(L, op, a, alen, b, &lerr);
	CHECKF(got && !strcmp(got, want), "line %d: Lua %s = '%s', server: '%s'", line, op,
	      got ? show(got) : lerr, show(want));
	free(got), free(lerr);
}

static int run_vectors(lua_State *L, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	char *buf = NULL;
	size_t cap = 0;
	int line = 0, n = 0;
	while (getline(&buf, &cap, f) > 0) {
		line++;
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		char *field[4];
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			field[i] = p;
			p = strchr(p, '\t');
			if (!p && i < 3) {
				fprintf(stderr, "%s:%d: expected 4 tab-separated fields\n", path, line);
				exit(2);
			}
			if (p)
				*p++ = '\0';
		}
		size_t alen = unescape(field[1]);
		size_t blen = unescape(field[2]);
		SEED("gtid", field[1], alen);
		SEED("gtid", field[2], blen);
		unescape(field[3]);
		run_vector(L, line, field[0], field[1], alen, field[2], field[3]);
		n++;
	}
	free(buf);
	fclose(f);
	return n;
}

/* ---------------------------------------------------------------- hand checks */

#define UA "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define UB "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"

static void check_count(void)
{
	static const struct { const char *text; int64_t n; } cases[] = {
		{ "", 0 },
		{ UA ":1", 1 },
		{ UA ":1-5:7", 6 },
		{ UA ":1-5:3-7," UB ":tag:10-19", 17 },
		{ UA ":1-9223372036854775806", INT64_C(9223372036854775806) },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		gtid_set *s = parse_ok(cases[i].text, 0);
		int64_t n = -1;
		CHECKF(s && gtid_count(s, &n) == 0 && n == cases[i].n, "count('%s') = %lld, want %lld",
		      show(cases[i].text), (long long)n, (long long)cases[i].n);
		gtid_set_free(s);
	}
	/* two maximal ranges do not fit in 63 bits: reported, not wrapped */
	gtid_set *s = parse_ok(UA ":1-9223372036854775806," UB ":1-9", 0);
	int64_t n;
	CHECKF(s && gtid_count(s, &n) == -1, "count overflow must be reported");
	gtid_set_free(s);
}

static void check_structure(void)
{
	/* the struct is part of the API: check it holds what the text says */
	gtid_set *s = parse_ok(UB ":x:4," UA ":9-8:TAG:3-1:1-2:5," UA ":7", 0);
	CHECKF(s && s->n == 3, "3 tsids expected, got %zu", s ? s->n : 0);
	if (s && s->n == 3) {
		CHECKF(s->t[0].uuid[0] == 0x3e && s->t[0].tag[0] == '\0' && s->t[0].n == 1 &&
			      s->t[0].iv[0].first == 7 && s->t[0].iv[0].last == 7, "untagged UA:7");
		CHECKF(!strcmp(s->t[1].tag, "tag") && s->t[1].n == 2 && s->t[1].iv[1].first == 5,
		      "UA:tag:1-2:5");
		CHECKF(s->t[2].uuid[15] == 0xaa && !strcmp(s->t[2].tag, "x"), "UB:x");
	}
	gtid_set_free(s);

	gtid_error err;
	CHECKF(gtid_parse("zz", 2, &err) == NULL && err.pos == 1 && strstr(err.msg, "position 1") &&
		      strstr(err.msg, "expected"), "error message names position and expectation: %s",
	      err.msg);
	CHECKF(gtid_parse(UA ":1\0", sizeof UA + 3, NULL) == NULL, "embedded NUL rejected (err may be NULL)");
}

static void check_big(void)
{
	/* many intervals: subtract must still be exact (odd minus every multiple of 3) */
	size_t cap = 1 << 20, n = 0;
	char *a = malloc(cap), *b = malloc(cap);
	size_t bn = 0;
	n += (size_t)sprintf(a, UA);
	bn += (size_t)sprintf(b, UA);
	for (int i = 1; i <= 20000; i += 2)
		n += (size_t)sprintf(a + n, ":%d", i);
	for (int i = 3; i <= 20000; i += 3)
		bn += (size_t)sprintf(b + bn, ":%d", i);
	gtid_set *sa = parse_ok(a, 0), *sb = parse_ok(b, 0);
	gtid_set *d = gtid_subtract(sa, sb);
	int64_t cnt;
	gtid_count(d, &cnt);
	/* odd numbers 1..19999: 10000; odd multiples of 3 (3, 9, ..., 19995): 3333 */
	CHECKF(cnt == 10000 - 3333, "big subtract count %lld", (long long)cnt);
	CHECKF(d->n == 1 && d->t[0].n == (size_t)cnt, "big subtract intervals");
	gtid_set_free(sa), gtid_set_free(sb), gtid_set_free(d);
	free(a), free(b);
}

/* Runs a Lua chunk that must return true; the chunk sees the module as `gtid`. */
static void lua_check(lua_State *L, const char *what, const char *code)
{
	checks++;
	if (luaL_dostring(L, code) != LUA_OK) {
		failures++;
		fprintf(stderr, "FAIL lua %s: %s\n", what, lua_tostring(L, -1));
	} else if (!lua_toboolean(L, -1)) {
		failures++;
		fprintf(stderr, "FAIL lua %s: returned %s\n", what, luaL_tolstring(L, -1, NULL));
		lua_pop(L, 1);
	}
	lua_settop(L, 0);
}

static void check_lua(lua_State *L)
{
	lua_check(L, "module table", "return type(gtid.subtract) == 'function' and type(gtid.union) == 'function'"
				    " and type(gtid.intersect) == 'function' and type(gtid.is_subset) == 'function'"
				    " and type(gtid.equal) == 'function' and type(gtid.normalize) == 'function'"
				    " and type(gtid.count) == 'function'");
	lua_check(L, "count is an integer",
		  "local n = gtid.count('" UA ":1-5:7') return n == 6 and math.type(n) == 'integer'");
	lua_check(L, "equal ignores spelling",
		  "return gtid.equal('" UA ":1-3:4', '3E11FA4771CA11E19E33C80AA9429562 : 1-4')"
		  " and not gtid.equal('" UA ":1', '" UA ":tag:1')");
	lua_check(L, "variadic union",
		  "return gtid.union('" UA ":1', '" UA ":3', '" UA ":2', '" UB ":1') == '" UA ":1-3,\\n" UB ":1'");
	lua_check(L, "variadic intersect",
		  "return gtid.intersect('" UA ":1-10', '" UA ":3-20', '" UA ":5-6:9') == '" UA ":5-6:9'");
	lua_check(L, "malformed second argument raises, naming it",
		  "local ok, e = pcall(gtid.subtract, '" UA ":1', '" UA ":0')"
		  " return not ok and e:find('bad argument #2', 1, true) and e:find('position 38', 1, true)"
		  " and e:find('out of range', 1, true)");
	lua_check(L, "non-string argument raises",
		  "return not pcall(gtid.subtract, nil, '') and not pcall(gtid.count, {})");
	lua_check(L, "missing second argument raises", "return not pcall(gtid.subtract, '')");
	/* a raise half-way must not leak: run many failing calls, then collect */
	lua_check(L, "no leak on raise",
		  "for i = 1, 2000 do pcall(gtid.union, '" UA ":1-100', 'bad') end collectgarbage() return true");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : TEST_SOURCE_DIR "/gtid_vectors.txt";
	lua_State *L = new_lua();
	int n = run_vectors(L, path);
	check_count();
	check_structure();
	check_big();
	check_lua(L);
	lua_close(L);
	printf("test_gtid: %d vectors from %s, %d checks, %d failures\n", n, path, checks, failures);
	return failures ? 1 : (n < 1000 ? (fprintf(stderr, "too few vectors: %d\n", n), 1) : 0);
}
