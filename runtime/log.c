/* log.c — human lines on stderr, JSON lines for audit, secrets masked, dry-run recorder.
 *
 * Every byte that leaves through here goes through fr_mask_dup first: a secret registered
 * with fr_mask_add (or secret() in Lua) never reaches a terminal, a log file or the JSON
 * audit trail. Called from the Lua thread only (sched.h forbids logging from workers), so
 * there is no locking.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <lua.h>
#include <lauxlib.h>

#include "log.h"

static const char MASK[] = "******";

static struct {
	enum fr_level threshold;
	FILE *json;          /* --log-json, or NULL */
	char *step;          /* the step's name: the JSON lines' "step"; NULL outside steps */
	char *step_tag;      /* shown as [tag] in human lines ("Step 03/14"); NULL: the name */
	bool dry_run;
	char **secrets;      /* kept sorted longest first, so a secret containing another wins */
	size_t nsecrets;
	size_t nrecords;     /* DRY-RUN lines printed, for the end-of-run summary and tests */
} g = { .threshold = FR_INFO };

static const char *const LEVEL_NAMES[] = { "DEBUG", "INFO", "WARN", "ERROR" };
static const char *const LEVEL_LOWER[] = { "debug", "info", "warn", "error" };

/* ---- masking ---------------------------------------------------------------------------- */

static void remember(const char *secret)
{
	for (size_t i = 0; i < g.nsecrets; i++)
		if (strcmp(g.secrets[i], secret) == 0)
			return;
	char **grown = realloc(g.secrets, (g.nsecrets + 1) * sizeof *grown);
	char *copy = strdup(secret);
	if (grown == NULL || copy == NULL) {
		/* Cannot remember the secret: refusing to continue is safer than leaking it. */
		fputs("flashrun: out of memory registering a secret\n", stderr);
		abort();
	}
	g.secrets = grown;
	size_t at = g.nsecrets++;
	size_t len = strlen(copy);
	while (at > 0 && strlen(g.secrets[at - 1]) < len) {
		g.secrets[at] = g.secrets[at - 1];
		at--;
	}
	g.secrets[at] = copy;
}

/* A copy of s with a backslash before every character in `special` and every `doubled`
 * character written twice (0: none); NULL when that changes nothing. */
static char *escaped(const char *s, const char *special, char doubled)
{
	size_t n = strlen(s);
	char *out = malloc(2 * n + 1), *o = out;
	if (out == NULL) {
		fputs("flashrun: out of memory registering a secret\n", stderr);
		abort();
	}
	for (; *s; s++) {
		if (*s == doubled)
			*o++ = *s;
		else if (strchr(special, *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	if ((size_t)(o - out) == n) {
		free(out);
		return NULL;
	}
	return out;
}

/* A secret also travels escaped: inside an SQL string literal ('' or \'), a dbscale "..."
 * value, or the journal's JSON (cjson writes \" \\ and \/). Each spelling is masked. */
void fr_mask_add(const char *secret)
{
	if (secret == NULL || *secret == '\0')
		return; /* an empty secret would match everywhere and hide nothing */
	remember(secret);
	char *variants[] = {
		escaped(secret, "'\"\\", 0), escaped(secret, "\"\\/", 0),
		escaped(secret, "\\", '\''), escaped(secret, "\\", '"'),
		escaped(secret, "", '\''), escaped(secret, "", '"'),
	};
	for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
		if (variants[i] != NULL)
			remember(variants[i]);
		free(variants[i]);
	}
}

/* Finds the earliest secret occurrence at or after text; longest secret wins on ties. */
static const char *find_secret(const char *text, size_t *len)
{
	const char *best = NULL;
	for (size_t i = 0; i < g.nsecrets; i++) {
		const char *hit = strstr(text, g.secrets[i]);
		if (hit != NULL && (best == NULL || hit < best)) {
			best = hit;
			*len = strlen(g.secrets[i]);
		}
	}
	return best;
}

char *fr_mask_dup(const char *text)
{
	if (text == NULL)
		text = "";
	size_t cap = strlen(text) + 1, used = 0;
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	const char *p = text, *hit;
	size_t len = 0;
	while ((hit = find_secret(p, &len)) != NULL) {
		size_t keep = (size_t)(hit - p);
		size_t need = used + keep + sizeof MASK + strlen(hit + len) + 1;
		if (need > cap) {
			char *grown = realloc(out, need);
			if (grown == NULL) {
				free(out);
				return NULL;
			}
			out = grown;
			cap = need;
		}
		memcpy(out + used, p, keep);
		used += keep;
		memcpy(out + used, MASK, sizeof MASK - 1);
		used += sizeof MASK - 1;
		p = hit + len;
	}
	size_t rest = strlen(p);
	if (used + rest + 1 > cap) {
		char *grown = realloc(out, used + rest + 1);
		if (grown == NULL) {
			free(out);
			return NULL;
		}
		out = grown;
	}
	memcpy(out + used, p, rest + 1);
	return out;
}

/* ---- output ----------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_timestamp(FILE *f)
{
	struct timeval tv;
	struct tm tm;
	char buf[40];
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "{\"ts\":\"%s.%03ld\"", buf, (long)(tv.tv_usec / 1000));
}

/* One JSON object per line; `masked` and every field value are already masked. fields: name,
 * value pairs, NULL-terminated; raw[i] (when raw is not NULL) says the i-th value is JSON text
 * already (a number, true, false, null), else it is a string. A field named "step" stands for
 * the current step's. */
static void json_line(const char *level, const char *event, const char *masked,
		      const char *const *fields, const bool *raw)
{
	if (g.json == NULL)
		return;
	bool own_step = false;
	for (const char *const *f = fields; f != NULL && f[0] != NULL; f += 2)
		if (strcmp(f[0], "step") == 0)
			own_step = true;
	json_timestamp(g.json);
	fprintf(g.json, ",\"level\":\"%s\"", level);
	if (event != NULL) {
		fputs(",\"event\":", g.json);
		json_string(g.json, event);
	}
	if (g.step != NULL && !own_step) {
		fputs(",\"step\":", g.json);
		json_string(g.json, g.step);
	}
	for (int i = 0; fields != NULL && fields[0] != NULL; fields += 2, i++) {
		fputc(',', g.json);
		json_string(g.json, fields[0]);
		fputc(':', g.json);
		if (raw != NULL && raw[i])
			fputs(fields[1], g.json);
		else
			json_string(g.json, fields[1]);
	}
	fputs(",\"msg\":", g.json);
	json_string(g.json, masked);
	fputs("}\n", g.json);
	fflush(g.json);
}

static void human_line(enum fr_level level, const char *masked)
{
	time_t t = time(NULL);
	struct tm tm;
	char clock[16];
	localtime_r(&t, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	const char *tag = g.step_tag != NULL ? g.step_tag : g.step;
	if (tag != NULL)
		fprintf(stderr, "%s %-5s [%s] %s\n", clock, LEVEL_NAMES[level], tag, masked);
	else
		fprintf(stderr, "%s %-5s %s\n", clock, LEVEL_NAMES[level], masked);
	fflush(stderr);
}

/* The JSON trail gets every level: it is the audit record, -q only quiets the terminal. */
static void emit(enum fr_level level, const char *text)
{
	char *masked = fr_mask_dup(text);
	if (masked == NULL)
		masked = strdup("(log line dropped: out of memory)");
	if (masked == NULL)
		return;
	if (level >= g.threshold)
		human_line(level, masked);
	json_line(LEVEL_LOWER[level], NULL, masked, NULL, NULL);
	free(masked);
}

void fr_log(enum fr_level level, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	emit(level, text);
	free(text);
}

/* ---- dry-run ---------------------------------------------------------------------------- */

bool fr_dry_run(void) { return g.dry_run; }
void fr_set_dry_run(bool on) { g.dry_run = on; }

void fr_record(const char *kind, const char *target, const char *text)
{
	char *line = NULL;
	if (asprintf(&line, "DRY-RUN %s %s: %s", kind ? kind : "?", target ? target : "?",
		     text ? text : "") < 0)
		return;
	char *masked = fr_mask_dup(line);
	free(line);
	if (masked == NULL)
		return;
	/* stdout, not stderr: the record of what would be done is the product of a dry run. */
	fputs(masked, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	const char *fields[] = { "kind", kind ? kind : "?", NULL };
	json_line("info", "dry-run", masked, fields, NULL);
	free(masked);
	g.nrecords++;
}

/* ---- Lua module flashrun.log -------------------------------------------------------------- */

/* string.format(...) of the arguments, left on the stack. */
static const char *format_args(lua_State *L)
{
	int n = lua_gettop(L);
	if (n == 1)
		return luaL_tolstring(L, 1, NULL);
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "format");
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, n, 1);
	return lua_tostring(L, -1);
}

static int log_at(lua_State *L, enum fr_level level)
{
	luaL_checkany(L, 1);
	if (level < g.threshold && g.json == NULL)
		return 0; /* skip the formatting work for suppressed debug lines */
	emit(level, format_args(L));
	return 0;
}

static int l_debug(lua_State *L) { return log_at(L, FR_DEBUG); }
static int l_info(lua_State *L) { return log_at(L, FR_INFO); }
static int l_warn(lua_State *L) { return log_at(L, FR_WARN); }
static int l_error(lua_State *L) { return log_at(L, FR_ERROR); }

/* secret(value) -> value: registers it, hands it back so it can wrap an expression. */
static int l_secret(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		return 1;
	fr_mask_add(luaL_checkstring(L, 1));
	lua_settop(L, 1);
	return 1;
}

/* A number or a boolean as JSON text into buf; NULL for any other value. */
static const char *json_scalar(lua_State *L, int idx, char *buf, size_t len)
{
	if (lua_type(L, idx) == LUA_TBOOLEAN)
		return lua_toboolean(L, idx) ? "true" : "false";
	if (lua_type(L, idx) != LUA_TNUMBER)
		return NULL;
	if (lua_isinteger(L, idx)) {
		snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
		return buf;
	}
	double d = lua_tonumber(L, idx);
	if (d != d || d > 1e308 || d < -1e308)
		return "null"; /* NaN and infinities have no JSON form */
	snprintf(buf, len, "%.15g", d);
	return buf;
}

/* event(name, fields, message [, level]): a structured JSON line (fields: string-keyed scalars;
 * numbers and booleans are written as JSON numbers and booleans, anything else as a string; a
 * field "step" replaces the current step's name); also a human line, at `level` ("debug" unless
 * given: -v shows it). */
static int l_event(lua_State *L)
{
	static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
	const char *name = luaL_checkstring(L, 1);
	const char *msg = luaL_optstring(L, 3, name);
	enum fr_level human = (enum fr_level)luaL_checkoption(L, 4, "debug", levels);
	const char *fields[2 * 16 + 1];
	char *owned[2 * 16];
	bool raw[16];
	int n = 0;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_pushnil(L);
		while (n < 2 * 16 && lua_next(L, 2) != 0) {
			if (lua_type(L, -2) == LUA_TSTRING) {
				char num[64];
				const char *scalar = json_scalar(L, -1, num, sizeof num);
				owned[n] = fr_mask_dup(lua_tostring(L, -2));
				owned[n + 1] = scalar ? strdup(scalar) : fr_mask_dup(luaL_tolstring(L, -1, NULL));
				if (!scalar)
					lua_pop(L, 1);
				raw[n / 2] = scalar != NULL && owned[n + 1] != NULL;
				fields[n] = owned[n] ? owned[n] : "";
				fields[n + 1] = owned[n + 1] ? owned[n + 1] : "";
				n += 2;
			}
			lua_pop(L, 1);
		}
	}
	fields[n] = NULL;
	char *masked = fr_mask_dup(msg);
	json_line("info", name, masked ? masked : "", fields, raw);
	if (human >= g.threshold && masked != NULL)
		human_line(human, masked);
	free(masked);
	for (int i = 0; i < n; i++)
		free(owned[i]);
	return 0;
}

/* mask(text) -> text with secrets replaced: for stdout output the plan prints itself. */
static int l_mask(lua_State *L)
{
	char *masked = fr_mask_dup(luaL_checkstring(L, 1));
	if (masked == NULL)
		return luaL_error(L, "out of memory");
	lua_pushstring(L, masked);
	free(masked);
	return 1;
}

/* step(name|nil [, tag]): the step following lines belong to. Human lines show [tag] (the
 * interpreter passes "Step 03/14": the name was on the step's first line already), or [name]
 * without a tag; JSON lines carry the name as "step". */
static int l_step(lua_State *L)
{
	const char *name = luaL_optstring(L, 1, NULL);
	const char *tag = name ? luaL_optstring(L, 2, NULL) : NULL;
	char *copy = name ? strdup(name) : NULL;
	char *tcopy = tag ? strdup(tag) : NULL;
	free(g.step);
	free(g.step_tag);
	g.step = copy;
	g.step_tag = tcopy;
	return 0;
}

/* current_step() -> the name of the step following lines belong to, or nil. */
static int l_current_step(lua_State *L)
{
	if (g.step == NULL)
		lua_pushnil(L);
	else
		lua_pushstring(L, g.step);
	return 1;
}

static int set_level(lua_State *L, const char *name)
{
	for (int i = FR_DEBUG; i <= FR_ERROR; i++)
		if (strcmp(name, LEVEL_LOWER[i]) == 0) {
			g.threshold = (enum fr_level)i;
			return 0;
		}
	return luaL_error(L, "unknown log level '%s'", name);
}

/* setup{level=, json=path, dry_run=}: the host calls this once from the bootstrap.
 * Returns true, or nil, err when the JSON file cannot be opened. */
static int l_setup(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (lua_getfield(L, 1, "level") != LUA_TNIL)
		set_level(L, luaL_checkstring(L, -1));
	if (lua_getfield(L, 1, "dry_run") != LUA_TNIL)
		g.dry_run = lua_toboolean(L, -1);
	if (lua_getfield(L, 1, "json") != LUA_TNIL) {
		const char *path = luaL_checkstring(L, -1);
		FILE *f = fopen(path, "a");
		if (f == NULL)
			return luaL_fileresult(L, 0, path);
		if (g.json != NULL)
			fclose(g.json);
		g.json = f;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* record(kind, target, text): the recorder for writes implemented in Lua. */
static int l_record(lua_State *L)
{
	fr_record(luaL_checkstring(L, 1), luaL_checkstring(L, 2), luaL_checkstring(L, 3));
	return 0;
}

static int l_records(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)g.nrecords);
	return 1;
}

static int l_dry_run(lua_State *L)
{
	lua_pushboolean(L, g.dry_run);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "debug", l_debug },   { "info", l_info },   { "warn", l_warn },
	{ "error", l_error },   { "secret", l_secret }, { "event", l_event },
	{ "mask", l_mask },     { "step", l_step },   { "setup", l_setup },
	{ "record", l_record }, { "records", l_records }, { "dry_run", l_dry_run },
	{ "current_step", l_current_step },
	{ NULL, NULL },
};

int luaopen_flashrun_log(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}
