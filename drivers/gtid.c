/*
 * gtid.c — GTID set arithmetic (see gtid.h) and the Lua module flashrun.gtid.
 *
 * The grammar mirrors MySQL 9.x's own parser, established against a real server (the vectors
 * in tests/unit/gtid_vectors.txt): what it accepts we accept, what it rejects we reject, and
 * the error position is the one the server reports ("after N characters" = position N+1).
 * Sets are kept normalized (sorted tsids, sorted merged intervals) so that every operation
 * is a linear merge: 10,000 intervals subtract in well under a millisecond.
 */
#include "gtid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

/* ---------------------------------------------------------------- containers */

gtid_set *gtid_set_new(void)
{
	return calloc(1, sizeof(gtid_set));
}

void gtid_set_free(gtid_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->t[i].iv);
	free(s->t);
	free(s);
}

/* Grows *p (elements of size sz, capacity *cap) to hold at least need elements. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 4;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sz)
			return -1;
		ncap *= 2;
	}
	void *np = realloc(*p, ncap * sz);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int push_interval(gtid_tsid *t, int64_t first, int64_t last)
{
	if (grow((void **)&t->iv, &t->cap, t->n + 1, sizeof *t->iv))
		return -1;
	t->iv[t->n++] = (gtid_interval){ first, last };
	return 0;
}

/* Appends an empty tsid with the key of uuid/tag; NULL on out of memory. */
static gtid_tsid *push_tsid(gtid_set *s, const uint8_t uuid[16], const char *tag)
{
	if (grow((void **)&s->t, &s->cap, s->n + 1, sizeof *s->t))
		return NULL;
	gtid_tsid *t = &s->t[s->n++];
	memset(t, 0, sizeof *t);
	memcpy(t->uuid, uuid, 16);
	strcpy(t->tag, tag);
	return t;
}

/* The server's order: UUID bytes, then tag ("" sorts first, then byte order). */
static int tsid_cmp(const gtid_tsid *a, const gtid_tsid *b)
{
	int c = memcmp(a->uuid, b->uuid, 16);
	return c ? c : strcmp(a->tag, b->tag);
}

/* Appends [first, last] to t, whose intervals are sorted; merges when it overlaps or touches
 * the last one. Callers feed intervals in increasing order of first. */
static int append_merge(gtid_tsid *t, int64_t first, int64_t last)
{
	if (t->n > 0) {
		gtid_interval *e = &t->iv[t->n - 1];
		/* last <= GTID_MAX_GNO, so last + 1 cannot overflow */
		if (first <= e->last + 1) {
			if (last > e->last)
				e->last = last;
			return 0;
		}
	}
	return push_interval(t, first, last);
}

/* ---------------------------------------------------------------- normalize */

static int cmp_tsid_q(const void *a, const void *b)
{
	return tsid_cmp(a, b);
}

static int cmp_interval_q(const void *a, const void *b)
{
	const gtid_interval *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorts and merges t's intervals in place. */
static void normalize_intervals(gtid_tsid *t)
{
	if (t->n < 2)
		return;
	qsort(t->iv, t->n, sizeof *t->iv, cmp_interval_q);
	size_t w = 0;
	for (size_t r = 1; r < t->n; r++) {
		if (t->iv[r].first <= t->iv[w].last + 1) {
			if (t->iv[r].last > t->iv[w].last)
				t->iv[w].last = t->iv[r].last;
		} else {
			t->iv[++w] = t->iv[r];
		}
	}
	t->n = w + 1;
}

/* Turns what the parser collected (tsids in text order, repeated keys, unsorted intervals)
 * into the normalized form gtid.h promises. */
static int normalize(gtid_set *s)
{
	if (s->n == 0)
		return 0; /* s->t may be NULL, which qsort must not see */
	qsort(s->t, s->n, sizeof *s->t, cmp_tsid_q);
	size_t w = 0;
	for (size_t r = 0; r < s->n; r++) {
		gtid_tsid *src = &s->t[r];
		if (w > 0 && tsid_cmp(&s->t[w - 1], src) == 0) {
			gtid_tsid *dst = &s->t[w - 1];
			if (grow((void **)&dst->iv, &dst->cap, dst->n + src->n, sizeof *dst->iv))
				return -1; /* s stays freeable: src still owns its array */
			if (src->n)
				memcpy(dst->iv + dst->n, src->iv, src->n * sizeof *src->iv);
			dst->n += src->n;
			free(src->iv);
			src->iv = NULL;
		} else {
			if (w != r) {
				s->t[w] = *src;
				src->iv = NULL; /* moved */
			}
			w++;
		}
	}
	/* entries r in [w, n) were merged away or moved and own nothing now */
	s->n = w;
	w = 0;
	for (size_t r = 0; r < s->n; r++) {
		normalize_intervals(&s->t[r]);
		if (s->t[r].n == 0) {
			free(s->t[r].iv);
			continue;
		}
		s->t[w++] = s->t[r];
	}
	s->n = w;
	return 0;
}

/* ---------------------------------------------------------------- parser */

typedef struct parser {
	const char *s;
	size_t len, p;
	gtid_error *err;
} parser;

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int peek(const parser *ps)
{
	return ps->p < ps->len ? (unsigned char)ps->s[ps->p] : -1;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->len && is_ws((unsigned char)ps->s[ps->p]))
		ps->p++;
}

/* Records a malformed-text error at 0-based offset at; always returns -1. */
static int fail(parser *ps, size_t at, const char *fmt, ...)
{
	if (!ps->err)
		return -1;
	ps->err->pos = at + 1;
	int n = snprintf(ps->err->msg, sizeof ps->err->msg, "malformed GTID set at position %zu: ", at + 1);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg + n, sizeof ps->err->msg - n, fmt, ap);
	va_end(ap);
	size_t m = strlen(ps->err->msg);
	if (at < ps->len)
		snprintf(ps->err->msg + m, sizeof ps->err->msg - m,
			 (unsigned char)ps->s[at] >= 0x20 && (unsigned char)ps->s[at] < 0x7f ?
				 ", found '%c'" : ", found byte 0x%02x",
			 (unsigned char)ps->s[at]);
	else
		snprintf(ps->err->msg + m, sizeof ps->err->msg - m, ", found the end of the text");
	return -1;
}

static int fail_oom(parser *ps)
{
	if (ps->err) {
		ps->err->pos = 0;
		snprintf(ps->err->msg, sizeof ps->err->msg, "out of memory parsing a GTID set");
	}
	return -1;
}

/* One UUID byte: two hex digits. The server checks that two characters are left before it
 * looks at them, which decides where it reports a truncated UUID; we do the same. */
static int parse_hex_byte(parser *ps, uint8_t *out)
{
	if (ps->len - ps->p < 2)
		return fail(ps, ps->p, "expected two hex digits of a UUID");
	int hi = hexval((unsigned char)ps->s[ps->p]);
	if (hi < 0)
		return fail(ps, ps->p, "expected a hex digit of a UUID");
	int lo = hexval((unsigned char)ps->s[ps->p + 1]);
	if (lo < 0)
		return fail(ps, ps->p + 1, "expected a hex digit of a UUID");
	*out = (uint8_t)(hi << 4 | lo);
	ps->p += 2;
	return 0;
}

/* 8-4-4-4-12 with dashes, 32 hex digits without, or {8-4-4-4-12}. Without braces the
 * character after the first 8 digits decides whether dashes are used. */
static int parse_uuid(parser *ps, uint8_t uuid[16])
{
	int braced = peek(ps) == '{';
	if (braced)
		ps->p++;
	int dashed = braced;
	for (int i = 0; i < 16; i++) {
		if (i == 4 && !braced)
			dashed = peek(ps) == '-';
		if (dashed && (i == 4 || i == 6 || i == 8 || i == 10)) {
			if (peek(ps) != '-')
				return fail(ps, ps->p, "expected '-' in a UUID");
			ps->p++;
		}
		if (parse_hex_byte(ps, &uuid[i]))
			return -1;
	}
	if (braced) {
		if (peek(ps) != '}')
			return fail(ps, ps->p, "expected '}' closing a UUID");
		ps->p++;
	}
	return 0;
}

/* Decimal digits into *v; too many for 64 bits is an error at the number's first digit. */
static int parse_number(parser *ps, uint64_t *v)
{
	size_t start = ps->p;
	uint64_t x = 0;
	int c = peek(ps);
	if (c < '0' || c > '9')
		return fail(ps, ps->p, "expected a transaction number");
	while (ps->p < ps->len && ps->s[ps->p] >= '0' && ps->s[ps->p] <= '9') {
		unsigned d = (unsigned)(ps->s[ps->p] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return fail(ps, start, "transaction number out of range (1 to %lld)",
				    (long long)GTID_MAX_GNO);
		x = x * 10 + d;
		ps->p++;
	}
	*v = x;
	return 0;
}

static int is_tag_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_tag_char(int c)
{
	return is_tag_start(c) || (c >= '0' && c <= '9');
}

/* After ':' : a tag (switches the tsid subsequent intervals go to) or an interval n[-m]. */
static int parse_tag(parser *ps, char tag[GTID_TAG_MAX + 1])
{
	size_t start = ps->p, n = 0;
	while (ps->p < ps->len && is_tag_char((unsigned char)ps->s[ps->p])) {
		if (n == GTID_TAG_MAX)
			return fail(ps, start, "expected a transaction number or a tag of at most %d characters",
				    GTID_TAG_MAX);
		int c = (unsigned char)ps->s[ps->p++];
		tag[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	tag[n] = '\0';
	return 0;
}

static int parse_interval(parser *ps, gtid_tsid *t)
{
	size_t at = ps->p;
	uint64_t first, last;
	if (parse_number(ps, &first))
		return -1;
	if (first < 1 || first > (uint64_t)GTID_MAX_GNO)
		return fail(ps, at, "transaction number out of range (1 to %lld)", (long long)GTID_MAX_GNO);
	last = first;
	skip_ws(ps);
	if (peek(ps) == '-') {
		ps->p++;
		skip_ws(ps);
		if (parse_number(ps, &last))
			return -1;
		/* the server reports an end out of range after the number, not at it */
		if (last > (uint64_t)GTID_MAX_GNO)
			return fail(ps, ps->p, "interval end out of range (at most %lld)", (long long)GTID_MAX_GNO);
		skip_ws(ps);
	}
	/* "5-3" is an empty interval to the server: accepted, adds nothing */
	if (last >= first && push_interval(t, (int64_t)first, (int64_t)last))
		return fail_oom(ps);
	return 0;
}

/* uuid [':' (tag | interval)]... */
static int parse_element(parser *ps, gtid_set *s)
{
	uint8_t uuid[16];
	char tag[GTID_TAG_MAX + 1] = "";
	if (parse_uuid(ps, uuid))
		return -1;
	skip_ws(ps);
	size_t tsid = SIZE_MAX; /* index, not pointer: s->t moves when it grows */
	while (peek(ps) == ':') {
		ps->p++;
		skip_ws(ps);
		if (is_tag_start(peek(ps))) {
			if (parse_tag(ps, tag))
				return -1;
			tsid = SIZE_MAX;
			skip_ws(ps);
			continue;
		}
		if (peek(ps) < '0' || peek(ps) > '9')
			return fail(ps, ps->p, "expected a transaction number or a tag");
		if (tsid == SIZE_MAX) {
			if (!push_tsid(s, uuid, tag))
				return fail_oom(ps);
			tsid = s->n - 1;
		}
		if (parse_interval(ps, &s->t[tsid]))
			return -1;
	}
	return 0;
}

gtid_set *gtid_parse(const char *text, size_t len, gtid_error *err)
{
	parser ps = { text, len, 0, err };
	gtid_set *s = gtid_set_new();
	if (!s) {
		fail_oom(&ps);
		return NULL;
	}
	for (;;) {
		skip_ws(&ps);
		if (ps.p == len)
			break;
		if (peek(&ps) == ',') { /* empty elements (",,", leading ',') are accepted */
			ps.p++;
			continue;
		}
		if (parse_element(&ps, s))
			goto bad;
		if (ps.p < len && peek(&ps) != ',') {
			fail(&ps, ps.p, "expected ',' or the end of the text");
			goto bad;
		}
	}
	if (normalize(s)) {
		fail_oom(&ps);
		goto bad;
	}
	return s;
bad:
	gtid_set_free(s);
	return NULL;
}

/* ---------------------------------------------------------------- format */

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t n)
{
	if (grow((void **)&b->p, &b->cap, b->n + n + 1, 1))
		return -1;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static int put_num(buf *b, int64_t v)
{
	char tmp[24];
	int n = sizeof tmp;
	uint64_t u = (uint64_t)v;
	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return put(b, tmp + n, sizeof tmp - (size_t)n);
}

static int put_uuid(buf *b, const uint8_t u[16])
{
	static const char hex[] = "0123456789abcdef";
	char tmp[36];
	int n = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			tmp[n++] = '-';
		tmp[n++] = hex[u[i] >> 4];
		tmp[n++] = hex[u[i] & 15];
	}
	return put(b, tmp, 36);
}

static int put_intervals(buf *b, const gtid_tsid *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (put(b, ":", 1) || put_num(b, t->iv[i].first))
			return -1;
		if (t->iv[i].last != t->iv[i].first && (put(b, "-", 1) || put_num(b, t->iv[i].last)))
			return -1;
	}
	return 0;
}

char *gtid_format(const gtid_set *s, size_t *len)
{
	buf b = { NULL, 0, 0 };
	if (put(&b, "", 0))
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const gtid_tsid *t = &s->t[i];
		int same_uuid = i > 0 && memcmp(s->t[i - 1].uuid, t->uuid, 16) == 0;
		if (!same_uuid && ((i > 0 && put(&b, ",\n", 2)) || put_uuid(&b, t->uuid)))
			goto oom;
		if (t->tag[0] && (put(&b, ":", 1) || put(&b, t->tag, strlen(t->tag))))
			goto oom;
		if (put_intervals(&b, t))
			goto oom;
	}
	if (len)
		*len = b.n;
	return b.p;
oom:
	free(b.p);
	return NULL;
}

/* ---------------------------------------------------------------- operations */

/* Interval-list operations write into out, an empty tsid. */

static int iv_subtract(gtid_tsid *out, const gtid_tsid *a, const gtid_tsid *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		int64_t cur = a->iv[i].first, last = a->iv[i].last;
		while (j < b->n && b->iv[j].last < cur)
			j++;
		/* b intervals from j on may cut into [cur, last]; j stays put for the next a interval */
		for (size_t k = j; k < b->n && b->iv[k].first <= last && cur <= last; k++) {
			if (b->iv[k].first > cur && push_interval(out, cur, b->iv[k].first - 1))
				return -1;
			if (b->iv[k].last >= cur)
				cur = b->iv[k].last + 1; /* <= GTID_MAX_GNO + 1, no overflow */
		}
		if (cur <= last && push_interval(out, cur, last))
			return -1;
	}
	return 0;
}

static int iv_union(gtid_tsid *out, const gtid_tsid *a, const gtid_tsid *b)
{
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		const gtid_interval *x;
		if (j == b->n || (i < a->n && a->iv[i].first <= b->iv[j].first))
			x = &a->iv[i++];
		else
			x = &b->iv[j++];
		if (append_merge(out, x->first, x->last))
			return -1;
	}
	return 0;
}

static int iv_intersect(gtid_tsid *out, const gtid_tsid *a, const gtid_tsid *b)
{
	size_t i = 0, j = 0;
	while (i < a->n && j < b->n) {
		int64_t lo = a->iv[i].first > b->iv[j].first ? a->iv[i].first : b->iv[j].first;
		int64_t hi = a->iv[i].last < b->iv[j].last ? a->iv[i].last : b->iv[j].last;
		if (lo <= hi && push_interval(out, lo, hi))
			return -1;
		if (a->iv[i].last < b->iv[j].last)
			i++;
		else
			j++;
	}
	return 0;
}

static int iv_copy(gtid_tsid *out, const gtid_tsid *a)
{
	if (grow((void **)&out->iv, &out->cap, a->n, sizeof *a->iv))
		return -1;
	memcpy(out->iv, a->iv, a->n * sizeof *a->iv);
	out->n = a->n;
	return 0;
}

enum op { OP_SUBTRACT, OP_UNION, OP_INTERSECT };

/* Walks both sorted tsid lists together and applies op per key; tsids that come out empty
 * are dropped so the result stays normalized. */
static gtid_set *combine(const gtid_set *a, const gtid_set *b, enum op op)
{
	gtid_set *r = gtid_set_new();
	if (!r)
		return NULL;
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : tsid_cmp(&a->t[i], &b->t[j]);
		const gtid_tsid *x = c <= 0 ? &a->t[i] : &b->t[j];
		int rc = 0;
		gtid_tsid *out;
		if ((c < 0 && op == OP_INTERSECT) || (c > 0 && op != OP_UNION))
			goto next; /* key only in a (intersect) or only in b (subtract, intersect) */
		if (!(out = push_tsid(r, x->uuid, x->tag)))
			goto oom;
		if (c != 0)
			rc = iv_copy(out, x);
		else if (op == OP_SUBTRACT)
			rc = iv_subtract(out, &a->t[i], &b->t[j]);
		else if (op == OP_UNION)
			rc = iv_union(out, &a->t[i], &b->t[j]);
		else
			rc = iv_intersect(out, &a->t[i], &b->t[j]);
		if (rc)
			goto oom;
		if (out->n == 0) {
			free(out->iv);
			r->n--;
		}
next:
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return r;
oom:
	gtid_set_free(r);
	return NULL;
}

gtid_set *gtid_subtract(const gtid_set *a, const gtid_set *b)
{
	return combine(a, b, OP_SUBTRACT);
}

gtid_set *gtid_union(const gtid_set *a, const gtid_set *b)
{
	return combine(a, b, OP_UNION);
}

gtid_set *gtid_intersect(const gtid_set *a, const gtid_set *b)
{
	return combine(a, b, OP_INTERSECT);
}

static int iv_is_subset(const gtid_tsid *a, const gtid_tsid *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->iv[j].last < a->iv[i].first)
			j++;
		/* b is merged, so one b interval must hold all of a's interval */
		if (j == b->n || b->iv[j].first > a->iv[i].first || b->iv[j].last < a->iv[i].last)
			return 0;
	}
	return 1;
}

int gtid_is_subset(const gtid_set *a, const gtid_set *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && tsid_cmp(&b->t[j], &a->t[i]) < 0)
			j++;
		if (j == b->n || tsid_cmp(&b->t[j], &a->t[i]) != 0 || !iv_is_subset(&a->t[i], &b->t[j]))
			return 0;
	}
	return 1;
}

int gtid_equal(const gtid_set *a, const gtid_set *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (tsid_cmp(&a->t[i], &b->t[i]) || a->t[i].n != b->t[i].n ||
		    memcmp(a->t[i].iv, b->t[i].iv, a->t[i].n * sizeof *a->t[i].iv))
			return 0;
	}
	return 1;
}

int gtid_count(const gtid_set *s, int64_t *count)
{
	int64_t total = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->t[i].n; k++) {
			/* last - first + 1 <= GTID_MAX_GNO: one interval always fits */
			int64_t n = s->t[i].iv[k].last - s->t[i].iv[k].first + 1;
			if (__builtin_add_overflow(total, n, &total))
				return -1;
		}
	*count = total;
	return 0;
}

/* ---------------------------------------------------------------- Lua binding */

/*
 * Every function takes GTID set texts and returns canonical text (or a boolean / integer).
 * Malformed text raises "bad argument #N to 'f' (malformed GTID set at position P: ...)":
 * the sets come from our own SQL reads, so bad text is a bug or corruption a plan must not
 * paper over (docs/plans.md, the gtid functions).
 *
 * The C sets live in a "scratch" userdata on the Lua stack, so a raise half-way (malformed
 * second argument, out of memory in lua_pushlstring) leaks nothing: __gc frees them.
 */

#define SCRATCH "flashrun.gtid.scratch"

typedef struct scratch {
	gtid_set *a, *b, *r;
	char *text;
} scratch;

static void scratch_clear(scratch *sc)
{
	gtid_set_free(sc->a);
	gtid_set_free(sc->b);
	gtid_set_free(sc->r);
	free(sc->text);
	memset(sc, 0, sizeof *sc);
}

static int scratch_gc(lua_State *L)
{
	scratch_clear(luaL_checkudata(L, 1, SCRATCH));
	return 0;
}

static scratch *newscratch(lua_State *L)
{
	scratch *sc = lua_newuserdatauv(L, sizeof *sc, 0);
	memset(sc, 0, sizeof *sc);
	luaL_setmetatable(L, SCRATCH);
	return sc;
}

/* Parses argument arg into *slot; raises on malformed text. */
static gtid_set *checkset(lua_State *L, int arg, gtid_set **slot)
{
	size_t len;
	const char *text = luaL_checklstring(L, arg, &len);
	gtid_error err;
	*slot = gtid_parse(text, len, &err);
	if (!*slot) {
		if (err.pos == 0)
			luaL_error(L, "%s", err.msg);
		luaL_argerror(L, arg, err.msg);
	}
	return *slot;
}

static void checkmem(lua_State *L, const void *p)
{
	if (!p)
		luaL_error(L, "not enough memory for a GTID set");
}

/* Pushes the canonical text of sc->r; frees the scratch sets right away so big sets do not
 * wait for the collector. */
static int pushresult(lua_State *L, scratch *sc)
{
	size_t len;
	checkmem(L, sc->text = gtid_format(sc->r, &len));
	lua_pushlstring(L, sc->text, len);
	scratch_clear(sc);
	return 1;
}

typedef gtid_set *(*binop)(const gtid_set *, const gtid_set *);

/* f(a, b [, c ...]) folded left to right: union(a, b, c) = union(union(a, b), c). */
static int fold(lua_State *L, binop op, int variadic)
{
	int nargs = lua_gettop(L);
	if (!variadic)
		nargs = 2;
	luaL_checkstring(L, 1);
	luaL_checkstring(L, 2);
	scratch *sc = newscratch(L);
	checkset(L, 1, &sc->r);
	for (int arg = 2; arg <= nargs; arg++) {
		checkset(L, arg, &sc->b);
		checkmem(L, sc->a = op(sc->r, sc->b));
		gtid_set_free(sc->r);
		gtid_set_free(sc->b);
		sc->r = sc->a;
		sc->a = sc->b = NULL;
	}
	return pushresult(L, sc);
}

static int l_subtract(lua_State *L)
{
	return fold(L, gtid_subtract, 0);
}

static int l_union(lua_State *L)
{
	return fold(L, gtid_union, 1);
}

static int l_intersect(lua_State *L)
{
	return fold(L, gtid_intersect, 1);
}

static int l_normalize(lua_State *L)
{
	scratch *sc = newscratch(L);
	checkset(L, 1, &sc->r);
	return pushresult(L, sc);
}

static int l_is_subset(lua_State *L)
{
	scratch *sc = newscratch(L);
	checkset(L, 1, &sc->a);
	checkset(L, 2, &sc->b);
	int yes = gtid_is_subset(sc->a, sc->b);
	scratch_clear(sc);
	lua_pushboolean(L, yes);
	return 1;
}

static int l_equal(lua_State *L)
{
	scratch *sc = newscratch(L);
	checkset(L, 1, &sc->a);
	checkset(L, 2, &sc->b);
	int yes = gtid_equal(sc->a, sc->b);
	scratch_clear(sc);
	lua_pushboolean(L, yes);
	return 1;
}

static int l_count(lua_State *L)
{
	scratch *sc = newscratch(L);
	checkset(L, 1, &sc->a);
	int64_t n;
	int rc = gtid_count(sc->a, &n);
	scratch_clear(sc);
	if (rc)
		return luaL_error(L, "GTID set holds more than 2^63-1 transactions");
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

static const luaL_Reg gtid_funcs[] = {
	{ "subtract", l_subtract },
	{ "union", l_union },
	{ "intersect", l_intersect },
	{ "is_subset", l_is_subset },
	{ "equal", l_equal },
	{ "normalize", l_normalize },
	{ "count", l_count },
	{ NULL, NULL },
};

static const luaL_Reg scratch_meta[] = {
	{ "__gc", scratch_gc },
	{ NULL, NULL },
};

int luaopen_flashrun_gtid(lua_State *L)
{
	if (luaL_newmetatable(L, SCRATCH))
		luaL_setfuncs(L, scratch_meta, 0);
	lua_pop(L, 1);
	luaL_newlib(L, gtid_funcs);
	return 1;
}
