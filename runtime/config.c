/* config.c — the INI reader (`flashrun.config`).
 *
 * Format, one construct per line:
 *   # comment  /  ; comment      only as the first non-blank character of a line
 *   [source] [target] [site]     the only sections; each at most once
 *   key = value                  value verbatim after trimming blanks: `a#b$c;d=e` stays that
 *   key = "with \"escapes\""     \" \\ \n \t ; nothing may follow the closing quote
 *   key = 'literal'              no escapes; the way to write a value with backslashes and "
 * Keys are case-sensitive; sections, keys and values are checked against the one schema
 * (schema.c) here, so an error names the line (a typo is an error, not a silently missing
 * password or a default host-key policy). Files may start with a UTF-8 BOM and use CRLF endings.
 * Text must be UTF-8 without control characters (tab excepted) so that nothing invisible ends
 * up in a password.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "config.h"
#include "schema.h"


/* ---- the document ---- */

void fr_ini_free(struct fr_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->nsections; i++) {
		struct fr_ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < s->npairs; j++) {
			free(s->pairs[j].key);
			/* Values may be passwords: do not leave them in freed heap. */
			explicit_bzero(s->pairs[j].value, strlen(s->pairs[j].value));
			free(s->pairs[j].value);
		}
		free(s->pairs);
		free(s->name);
	}
	free(ini->sections);
	free(ini);
}

static struct fr_ini_section *find_section(const struct fr_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->nsections; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

static struct fr_ini_pair *find_pair(const struct fr_ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->npairs; i++)
		if (strcmp(s->pairs[i].key, key) == 0)
			return &s->pairs[i];
	return NULL;
}

const char *fr_ini_get(const struct fr_ini *ini, const char *section, const char *key)
{
	const struct fr_ini_section *s = find_section(ini, section);
	const struct fr_ini_pair *p = s ? find_pair(s, key) : NULL;
	return p ? p->value : NULL;
}

/* Grows an array of `size`-byte items so one more fits; false when out of memory. */
static bool grow(void **items, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*items, ncap * size);
	if (!p)
		return false;
	*items = p;
	*cap = ncap;
	return true;
}

/* ---- the parser ---- */

struct parser {
	const char *name;
	int line;
	struct fr_ini *ini;
	struct fr_ini_section *section; /* the current one; NULL before the first header */
	char *err;
};

/* Always returns false so callers can `return fail(...)`. */
static bool fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, FR_INI_ERRLEN, "%s:%d: ", p->name, p->line);
	if (n < 0 || n >= FR_INI_ERRLEN)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, FR_INI_ERRLEN - n, fmt, ap);
	va_end(ap);
	return false;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	else if ((c & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Rejects what a person cannot see or type in a config: NUL, control characters, bad UTF-8. */
static bool check_text(struct parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0)
			return fail(p, "NUL byte at column %zu (is this a text file?)", i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, "control character 0x%02x at column %zu", c, i + 1);
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		if (len == 0)
			return fail(p, "invalid UTF-8 at column %zu", i + 1);
		i += len;
	}
	return true;
}

/* "[name]" — s..e is the line without leading blanks, s[0] == '['. */
static bool parse_header(struct parser *p, const char *s, const char *e)
{
	const char *close = memchr(s, ']', e - s);
	if (!close)
		return fail(p, "section header without ']'");
	for (const char *t = close + 1; t < e; t++)
		if (!is_blank(*t))
			return fail(p, "text after ']' in a section header");
	const char *a = s + 1, *b = close;
	while (a < b && is_blank(*a))
		a++;
	while (b > a && is_blank(b[-1]))
		b--;
	char name[32];
	if (b - a == 0)
		return fail(p, "empty section name");
	if ((size_t)(b - a) >= sizeof name)
		return fail(p, "unknown section (known: %s)", fr_schema_sections_text());
	memcpy(name, a, b - a);
	name[b - a] = '\0';
	if (!fr_schema_section(name))
		return fail(p, "unknown section [%s] (known: %s; names are lower-case)", name,
			    fr_schema_sections_text());
	struct fr_ini_section *dup = find_section(p->ini, name);
	if (dup)
		return fail(p, "duplicate section [%s] (first at line %d)", name, dup->line);

	struct fr_ini *ini = p->ini;
	if (!grow((void **)&ini->sections, &ini->cap, ini->nsections, sizeof *ini->sections))
		return fail(p, "out of memory");
	struct fr_ini_section *sec = &ini->sections[ini->nsections];
	*sec = (struct fr_ini_section){ .name = strdup(name), .line = p->line };
	if (!sec->name)
		return fail(p, "out of memory");
	ini->nsections++;
	p->section = sec;
	return true;
}

/* A "..." value starting at s[0] == '"': unescapes into out (room for e - s bytes). */
static bool parse_dquoted(struct parser *p, const char *s, const char *e, char *out, const char **end)
{
	size_t n = 0;
	for (const char *t = s + 1; t < e; t++) {
		if (*t == '"') {
			out[n] = '\0';
			*end = t + 1;
			return true;
		}
		if (*t != '\\') {
			out[n++] = *t;
			continue;
		}
		if (++t == e)
			break;
		switch (*t) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		default:
			return fail(p, "unknown escape '\\%c' in a \"...\" value (known: \\\" \\\\ \\n \\t; "
				       "use '...' for a value with backslashes)", *t);
		}
	}
	return fail(p, "unterminated \"...\" value (the closing quote must be on the same line)");
}

static bool parse_squoted(struct parser *p, const char *s, const char *e, char *out, const char **end)
{
	const char *close = memchr(s + 1, '\'', e - s - 1);
	if (!close)
		return fail(p, "unterminated '...' value (the closing quote must be on the same line)");
	memcpy(out, s + 1, close - s - 1);
	out[close - s - 1] = '\0';
	*end = close + 1;
	return true;
}

/* The value after '=' (s..e, leading blanks already skipped) into a malloc'd string. */
static char *parse_value(struct parser *p, const char *s, const char *e)
{
	char *out = malloc(e - s + 1);
	if (!out) {
		fail(p, "out of memory");
		return NULL;
	}
	const char *end = e;
	bool ok = true;
	if (s < e && *s == '"')
		ok = parse_dquoted(p, s, e, out, &end);
	else if (s < e && *s == '\'')
		ok = parse_squoted(p, s, e, out, &end);
	else {
		while (e > s && is_blank(e[-1]))
			e--;
		memcpy(out, s, e - s);
		out[e - s] = '\0';
		end = e;
	}
	for (const char *t = end; ok && t < e; t++)
		if (!is_blank(*t))
			ok = fail(p, "text after the closing quote");
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

/* Values are checked here so the error points at the line, not at a later connect. */
static bool check_value(struct parser *p, const struct fr_ini_section *sec, const char *key,
			const char *value)
{
	char why[FR_INI_ERRLEN / 2];
	if (fr_schema_check(fr_schema_find(sec->name, key), value, why, sizeof why))
		return true;
	return fail(p, "%s.%s: %s", sec->name, key, why);
}

/* "key = value" — s..e is the line without leading blanks. */
static bool parse_pair(struct parser *p, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', e - s);
	if (!eq)
		return fail(p, "expected 'key = value', '[section]' or a comment; found no '='");
	const char *ke = eq;
	while (ke > s && is_blank(ke[-1]))
		ke--;
	if (ke == s)
		return fail(p, "empty key before '='");
	for (const char *t = s; t < ke; t++)
		if (!is_name_char((unsigned char)*t))
			return fail(p, "invalid character in key (keys are letters, digits, '_', '-', '.')");
	if (ke - s > 64)
		return fail(p, "key longer than 64 characters");
	char key[65];
	memcpy(key, s, ke - s);
	key[ke - s] = '\0';

	struct fr_ini_section *sec = p->section;
	if (!sec)
		return fail(p, "key '%s' outside a section (start with [source], [target] or [site])", key);
	if (!fr_schema_find(sec->name, key)) {
		char known[FR_INI_ERRLEN - 256];
		fr_schema_known(sec->name, known, sizeof known);
		return fail(p, "unknown key '%s' in [%s] (known: %s)", key, sec->name, known);
	}
	struct fr_ini_pair *dup = find_pair(sec, key);
	if (dup)
		return fail(p, "duplicate key '%s' in [%s] (first at line %d)", key, sec->name, dup->line);

	const char *v = eq + 1;
	while (v < e && is_blank(*v))
		v++;
	char *value = parse_value(p, v, e);
	if (!value)
		return false;
	if (!check_value(p, sec, key, value) ||
	    !grow((void **)&sec->pairs, &sec->cap, sec->npairs, sizeof *sec->pairs)) {
		if (!p->err[0])
			fail(p, "out of memory");
		free(value);
		return false;
	}
	char *k = strdup(key);
	if (!k) {
		free(value);
		return fail(p, "out of memory");
	}
	sec->pairs[sec->npairs++] = (struct fr_ini_pair){ .key = k, .value = value, .line = p->line };
	return true;
}

static bool parse_line(struct parser *p, const char *s, const char *e)
{
	if ((size_t)(e - s) > FR_INI_MAX_LINE)
		return fail(p, "line longer than %d bytes", FR_INI_MAX_LINE);
	if (!check_text(p, s, e - s))
		return false;
	while (s < e && is_blank(*s))
		s++;
	if (s == e || *s == '#' || *s == ';')
		return true;
	if (*s == '[')
		return parse_header(p, s, e);
	return parse_pair(p, s, e);
}

struct fr_ini *fr_ini_parse(const char *text, size_t len, const char *name, char *err)
{
	struct parser p = { .name = name, .line = 0, .err = err };
	err[0] = '\0';
	p.ini = calloc(1, sizeof *p.ini);
	if (!p.ini) {
		snprintf(err, FR_INI_ERRLEN, "%s: out of memory", name);
		return NULL;
	}
	const char *s = text, *end = text + len;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end) {
		p.line++;
		const char *nl = memchr(s, '\n', end - s);
		const char *e = nl ? nl : end;
		if (e > s && e[-1] == '\r')
			e--;
		if (!parse_line(&p, s, e)) {
			fr_ini_free(p.ini);
			return NULL;
		}
		s = nl ? nl + 1 : end;
	}
	return p.ini;
}

/* ---- files ---- */

/* Reads at most FR_INI_MAX_SIZE bytes; *len past it means "too large". */
static char *read_file(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap > FR_INI_MAX_SIZE)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	*len = n;
	return buf;
}

struct fr_ini *fr_ini_load(const char *path, char *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, FR_INI_ERRLEN, "cannot open config file %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t len = 0;
	char *text = read_file(fd, &len);
	int saved = errno;
	close(fd);
	if (!text) {
		snprintf(err, FR_INI_ERRLEN, "cannot read config file %s: %s", path, strerror(saved));
		return NULL;
	}
	struct fr_ini *ini = NULL;
	if (len > FR_INI_MAX_SIZE)
		snprintf(err, FR_INI_ERRLEN, "config file %s is larger than %d bytes", path, FR_INI_MAX_SIZE);
	else
		ini = fr_ini_parse(text, len, path, err);
	explicit_bzero(text, len);
	free(text);
	return ini;
}

/* ---- Lua ---- */

/* Builds {section = {key = value}} and frees ini. A memory error inside lua_push* would
 * longjmp past the free and leak the copy; that only happens when the run is dying anyway. */
static int push_ini(lua_State *L, struct fr_ini *ini, const char *err)
{
	if (!ini) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_createtable(L, 0, (int)ini->nsections);
	for (size_t i = 0; i < ini->nsections; i++) {
		struct fr_ini_section *s = &ini->sections[i];
		lua_createtable(L, 0, (int)s->npairs);
		for (size_t j = 0; j < s->npairs; j++) {
			lua_pushstring(L, s->pairs[j].value);
			lua_setfield(L, -2, s->pairs[j].key);
		}
		lua_setfield(L, -2, s->name);
	}
	fr_ini_free(ini);
	return 1;
}

/* load(path) -> {section = {key = "value"}} | nil, err */
static int l_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[FR_INI_ERRLEN];
	return push_ini(L, fr_ini_load(path, err), err);
}

/* parse(text [, name]) -> table | nil, err — for tests and --set style snippets. */
static int l_parse(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "(string)");
	char err[FR_INI_ERRLEN];
	return push_ini(L, fr_ini_parse(text, len, name, err), err);
}

static const luaL_Reg config_funcs[] = {
	{ "load", l_load },
	{ "parse", l_parse },
	{ NULL, NULL },
};

int luaopen_flashrun_config(lua_State *L)
{
	luaL_newlib(L, config_funcs);
	return 1;
}
