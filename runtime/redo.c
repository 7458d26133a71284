/* redo.c — the journal (`flashrun.redo`): lock, read, atomic replace, remove; who holds it.
 *
 * The journal is what lets `stop` undo what `start` did, possibly after a crash, so a write
 * must leave either the old or the new document on disk, never a mix: write a temporary file
 * in the same directory, fsync it, rename it over the journal, fsync the directory.
 * Everything goes through fr_mask_dup first: a registered secret never reaches the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "log.h"
#include "killpoint.h"
#include "redo.h"

#define JOURNAL_MT "flashrun.redo.journal"

/* Always returns -1 so callers can `return fail(...)`. Appends strerror(errno) when sys. */
static int fail(char *err, int sys, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, int sys, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, FR_REDO_ERRLEN, fmt, ap);
	va_end(ap);
	if (sys && n >= 0 && n < FR_REDO_ERRLEN)
		snprintf(err + n, FR_REDO_ERRLEN - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

static char *join(const char *dir, const char *name)
{
	char *s;
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= w;
	}
	return 0;
}

/* Reads the whole of fd into a malloc'd NUL-terminated buffer. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (cap - n < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0) {
				buf[n] = '\0';
				*len = n;
				return buf;
			}
			break;
		}
		n += r;
	}
	int saved = errno;
	free(buf);
	errno = saved ? saved : ENOMEM;
	return NULL;
}

/* mkdir -p; the directories created are 0700: the journal says how the clusters were changed. */
static int make_dir(const char *path, char *err)
{
	char *p = strdup(path);
	if (!p)
		return fail(err, 1, "cannot create state directory %s", path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			fail(err, 1, "cannot create state directory %s", p);
			free(p);
			return -1;
		}
		*s = saved;
		if (!saved)
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0)
		return fail(err, 1, "cannot use state directory %s", path);
	if (!S_ISDIR(st.st_mode))
		return fail(err, 0, "cannot use state directory %s: not a directory", path);
	return 0;
}

/* fsync of the directory makes a rename or unlink durable, not just the file's data. */
static int sync_dir(const char *dir, char *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, 1, "cannot open state directory %s", dir);
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? fail(err, 1, "cannot sync state directory %s", dir) : 0;
}

/* ---- the lock ---- */

/* Holder strings go on one line each: control characters (a newline in a plan name) would
 * forge other fields, so they become '?'. */
static void put_field(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=", key);
	for (const char *s = value ? value : "?"; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
	fputc('\n', f);
}

static int write_holder(int fd, const struct fr_holder *h)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -1;
	fprintf(f, "pid=%ld\n", h->pid);
	put_field(f, "host", h->host);
	put_field(f, "started", h->started);
	put_field(f, "plan", h->plan);
	if (fclose(f) != 0)
		return -1;
	int rc = ftruncate(fd, 0) < 0 || pwrite(fd, text, len, 0) != (ssize_t)len || fsync(fd) < 0;
	free(text);
	return rc ? -1 : 0;
}

/* The holder's lines in a lock file's text, split in place (the newlines become NULs): each
 * field points into text, or is NULL when its line is missing; the first line of a key counts. */
struct holder_text {
	char *pid, *host, *started, *plan;
};

static void split_holder(char *text, struct holder_text *f)
{
	*f = (struct holder_text){ 0 };
	struct { const char *key; char **value; } keys[] = {
		{ "pid", &f->pid }, { "host", &f->host }, { "started", &f->started }, { "plan", &f->plan },
	};
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *eq = strchr(line, '=');
		for (size_t i = 0; eq && i < sizeof keys / sizeof keys[0]; i++) {
			if (*keys[i].value == NULL && (size_t)(eq - line) == strlen(keys[i].key) &&
			    strncmp(line, keys[i].key, eq - line) == 0)
				*keys[i].value = eq + 1;
		}
	}
}

/* The refusal a second run prints: who holds the lock, so the DBA can decide. */
static int refuse(int fd, const char *lock_path, char *err)
{
	size_t len;
	char *text = read_all(fd, &len);
	if (!text || len == 0) {
		free(text);
		return fail(err, 0, "flashrun is already running (it has not recorded who yet); "
			    "lock file %s", lock_path);
	}
	struct holder_text f;
	split_holder(text, &f);
	fail(err, 0, "flashrun is already running: pid %.31s on host %.127s since %.63s (plan %.255s); "
	     "lock file %s", f.pid ? f.pid : "?", f.host ? f.host : "?", f.started ? f.started : "?",
	     f.plan ? f.plan : "?", lock_path);
	free(text);
	return -1;
}

static int take_lock(struct fr_journal *j, const struct fr_holder *h, char *err, bool *locked)
{
	int fd = open(j->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(err, 1, "cannot open lock file %s", j->lock_path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*locked = errno == EWOULDBLOCK;
		if (*locked)
			refuse(fd, j->lock_path, err);
		else
			fail(err, 1, "cannot lock %s", j->lock_path);
		close(fd);
		return -1;
	}
	if (write_holder(fd, h) < 0) {
		fail(err, 1, "cannot write lock file %s", j->lock_path);
		close(fd);
		return -1;
	}
	j->lock_fd = fd;
	return 0;
}

/* ---- who holds it, read by another process ---- */

/* The process pid runs flashrun: its argv[0] is flashrun, by path or not. A zombie's cmdline is
 * empty, a pid reused by another program names that program. */
static bool runs_flashrun(long pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t len;
	char *argv = read_all(fd, &len);
	close(fd);
	if (!argv)
		return false;
	size_t n = strlen(argv); /* argv[0]: up to the first NUL */
	bool yes = strcmp(argv, "flashrun") == 0 ||
		   (n >= 9 && strcmp(argv + n - 9, "/flashrun") == 0);
	free(argv);
	return yes;
}

/* A pid as the lock file holds it: plain digits; 0 otherwise. */
static long parse_pid(const char *s)
{
	if (!s || *s == '\0' || strspn(s, "0123456789") != strlen(s))
		return 0;
	errno = 0;
	long pid = strtol(s, NULL, 10);
	return errno || pid > INT_MAX ? 0 : pid;
}

int fr_holder_read(const char *state_dir, struct fr_holder_seen *seen, char *err)
{
	*seen = (struct fr_holder_seen){ 0 };
	char *path = join(state_dir, FR_REDO_LOCK);
	if (!path)
		return fail(err, 0, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int rc = errno == ENOENT ? 0 : fail(err, 1, "cannot open lock file %s", path);
		free(path);
		return rc;
	}
	size_t len;
	char *text = read_all(fd, &len);
	int saved = errno;
	close(fd);
	if (!text) {
		errno = saved;
		fail(err, 1, "cannot read lock file %s", path);
		free(path);
		return -1;
	}
	free(path);
	if (len == 0) {
		free(text);
		return 0;
	}
	struct holder_text f;
	split_holder(text, &f);
	char host[HOST_NAME_MAX + 1] = "";
	gethostname(host, sizeof host);
	host[sizeof host - 1] = '\0';
	seen->text = text;
	seen->h = (struct fr_holder){ .pid = parse_pid(f.pid), .host = f.host, .started = f.started,
				      .plan = f.plan };
	seen->live = seen->h.pid > 0 && f.host && strcmp(f.host, host) == 0 &&
		     runs_flashrun(seen->h.pid);
	return 1;
}

/* ---- the journal ---- */

void fr_journal_close(struct fr_journal *j)
{
	if (j->lock_fd >= 0) {
		/* Clear the holder while still holding the lock, so a stale name is never shown. */
		if (ftruncate(j->lock_fd, 0) < 0) {
			/* Harmless: the next holder rewrites it. */
		}
		close(j->lock_fd);
		j->lock_fd = -1;
	}
	j->rehearsal = false;
	free(j->dir);
	free(j->lock_path);
	free(j->path);
	free(j->tmp_path);
	j->dir = j->lock_path = j->path = j->tmp_path = NULL;
}

/* The paths of state_dir's files, nothing opened yet; j closed on failure. */
static int set_paths(struct fr_journal *j, const char *state_dir, char *err)
{
	*j = (struct fr_journal){ .lock_fd = -1 };
	j->dir = strdup(state_dir);
	j->lock_path = join(state_dir, FR_REDO_LOCK);
	j->path = join(state_dir, FR_REDO_FILE);
	j->tmp_path = join(state_dir, FR_REDO_FILE ".tmp");
	if (!j->dir || !j->lock_path || !j->path || !j->tmp_path) {
		fr_journal_close(j);
		return fail(err, 0, "out of memory");
	}
	return 0;
}

int fr_journal_open(struct fr_journal *j, const char *state_dir, const struct fr_holder *h,
		    char *err, bool *locked)
{
	*locked = false;
	if (set_paths(j, state_dir, err) < 0)
		return -1;
	if (make_dir(state_dir, err) < 0 || take_lock(j, h, err, locked) < 0) {
		fr_journal_close(j);
		return -1;
	}
	return 0;
}

int fr_journal_rehearse(struct fr_journal *j, const char *state_dir, char *err)
{
	if (set_paths(j, state_dir, err) < 0)
		return -1;
	j->rehearsal = true;
	return 0;
}

int fr_journal_read(struct fr_journal *j, char **text, size_t *len, char *err)
{
	int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return fail(err, 1, "cannot open journal %s", j->path);
	*text = read_all(fd, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return *text ? 1 : fail(err, 1, "cannot read journal %s", j->path);
}

/* temp file, fsync, rename, fsync dir: a crash at any point leaves the old or the new one. */
static int replace(struct fr_journal *j, const char *text, char *err)
{
	int fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fail(err, 1, "cannot create %s", j->tmp_path);
	/* A leftover from an older version or a careless cp could be wider than 0600. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		fail(err, 1, "cannot write %s", j->tmp_path);
		close(fd);
		unlink(j->tmp_path);
		return -1;
	}
	if (close(fd) < 0) {
		fail(err, 1, "cannot write %s", j->tmp_path);
		unlink(j->tmp_path);
		return -1;
	}
	if (rename(j->tmp_path, j->path) < 0) {
		fail(err, 1, "cannot replace journal %s", j->path);
		unlink(j->tmp_path);
		return -1;
	}
	return sync_dir(j->dir, err);
}

int fr_journal_write(struct fr_journal *j, const char *text, char *err)
{
	char *masked = fr_mask_dup(text);
	if (!masked)
		return fail(err, 0, "cannot write journal %s: out of memory", j->path);
	int rc = 0;
	if (fr_dry_run() || j->rehearsal) {
		/* One line per write: the document (every recorded variable of every node, hundreds
		 * of KB over a plan) would bury the statements a rehearsal is read for; -v shows it. */
		char summary[96];
		snprintf(summary, sizeof summary, "write %zu bytes (the document at -v)", strlen(masked));
		fr_record("journal", j->path, summary);
		fr_log(FR_DEBUG, "journal %s would hold: %s", j->path, masked);
	} else {
		struct fr_kp kp = fr_kp_write("journal", "journal", masked);
		rc = replace(j, masked, err);
		fr_kp_reach(kp, FR_KP_AFTER);
	}
	free(masked);
	return rc;
}

int fr_journal_truncate(struct fr_journal *j, char *err)
{
	if (fr_dry_run() || j->rehearsal) {
		fr_record("journal", j->path, "remove");
		return 0;
	}
	struct fr_kp kp = fr_kp_write("journal", "journal", "remove");
	/* unlink is atomic; a leftover temp file would only be overwritten by the next write. */
	if (unlink(j->path) < 0 && errno != ENOENT)
		return fail(err, 1, "cannot remove journal %s", j->path);
	unlink(j->tmp_path);
	int rc = sync_dir(j->dir, err);
	fr_kp_reach(kp, FR_KP_AFTER);
	return rc;
}

/* ---- Lua ---- */

static struct fr_journal *tojournal(lua_State *L)
{
	struct fr_journal *j = luaL_checkudata(L, 1, JOURNAL_MT);
	if (j->dir == NULL)
		luaL_error(L, "attempt to use a closed journal");
	return j;
}

/* nil, err — the message is already in err. */
static int push_error(lua_State *L, const char *err)
{
	luaL_pushfail(L);
	lua_pushstring(L, err);
	return 2;
}

/* j:read() -> text | nil (no journal) | nil, err */
static int j_read(lua_State *L)
{
	struct fr_journal *j = tojournal(L);
	char err[FR_REDO_ERRLEN], *text;
	size_t len;
	int rc = fr_journal_read(j, &text, &len, err);
	if (rc < 0)
		return push_error(L, err);
	if (rc == 0) {
		luaL_pushfail(L);
		return 1;
	}
	/* lua_pushlstring raises only on out-of-memory; text leaks then, when the run is dying. */
	lua_pushlstring(L, text, len);
	free(text);
	return 1;
}

/* j:write(text) -> true | nil, err */
static int j_write(lua_State *L)
{
	struct fr_journal *j = tojournal(L);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	luaL_argcheck(L, strlen(text) == len, 2, "journal text contains a NUL byte");
	char err[FR_REDO_ERRLEN];
	if (fr_journal_write(j, text, err) < 0)
		return push_error(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* j:truncate() -> true | nil, err */
static int j_truncate(lua_State *L)
{
	struct fr_journal *j = tojournal(L);
	char err[FR_REDO_ERRLEN];
	if (fr_journal_truncate(j, err) < 0)
		return push_error(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int j_path(lua_State *L)
{
	lua_pushstring(L, tojournal(L)->path);
	return 1;
}

/* close, __close and __gc: idempotent, so `local j <close> = redo.open(...)` never leaks. */
static int j_close(lua_State *L)
{
	fr_journal_close(luaL_checkudata(L, 1, JOURNAL_MT));
	return 0;
}

static int j_tostring(lua_State *L)
{
	struct fr_journal *j = luaL_checkudata(L, 1, JOURNAL_MT);
	if (j->dir == NULL)
		lua_pushliteral(L, "journal (closed)");
	else
		lua_pushfstring(L, "journal (%s)", j->path);
	return 1;
}

/* A holder string field, or def when absent. */
static const char *holder_field(lua_State *L, int t, const char *key, const char *def)
{
	int type = lua_getfield(L, t, key);
	luaL_argcheck(L, type == LUA_TNIL || type == LUA_TSTRING, 2,
		      lua_pushfstring(L, "holder.%s must be a string", key));
	const char *s = type == LUA_TNIL ? def : lua_tostring(L, -1);
	/* The string stays alive: the holder table references it. */
	lua_pop(L, 1);
	return s;
}

/* open(state_dir [, holder]) -> journal | nil, err[, "locked"]
 * holder = {pid=, host=, started=, plan=}; pid, host and started default to this process,
 * this host and now (UTC). */
static int l_open(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	if (lua_isnoneornil(L, 2))
		lua_newtable(L);
	luaL_checktype(L, 2, LUA_TTABLE);

	char host[HOST_NAME_MAX + 1] = "?", now[32];
	gethostname(host, sizeof host);
	host[sizeof host - 1] = '\0';
	time_t t = time(NULL);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));

	lua_getfield(L, 2, "pid");
	int isnum;
	lua_Integer pid = lua_tointegerx(L, -1, &isnum);
	luaL_argcheck(L, isnum || lua_isnil(L, -1), 2, "holder.pid must be an integer");
	lua_pop(L, 1);
	struct fr_holder h = {
		.pid = isnum ? (long)pid : (long)getpid(),
		.host = holder_field(L, 2, "host", host),
		.started = holder_field(L, 2, "started", now),
		.plan = holder_field(L, 2, "plan", "?"),
	};

	/* Created closed before the lock is taken (liolib's newprefile): a raise in between
	 * leaves a handle __gc can close safely. */
	struct fr_journal *j = lua_newuserdatauv(L, sizeof *j, 0);
	*j = (struct fr_journal){ .lock_fd = -1 };
	luaL_setmetatable(L, JOURNAL_MT);

	char err[FR_REDO_ERRLEN];
	bool locked;
	if (fr_journal_open(j, dir, &h, err, &locked) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		if (!locked)
			return 2;
		lua_pushliteral(L, "locked");
		return 3;
	}
	return 1;
}

/* rehearse(state_dir) -> journal (fr_journal_rehearse's) | nil, err */
static int l_rehearse(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	struct fr_journal *j = lua_newuserdatauv(L, sizeof *j, 0);
	*j = (struct fr_journal){ .lock_fd = -1 };
	luaL_setmetatable(L, JOURNAL_MT);
	char err[FR_REDO_ERRLEN];
	if (fr_journal_rehearse(j, dir, err) < 0)
		return push_error(L, err);
	return 1;
}

/* path(state_dir) -> the journal's file in state_dir (what j:path() of a journal there says) */
static int l_path(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	lua_pushfstring(L, "%s/%s", dir, FR_REDO_FILE);
	return 1;
}

static void set_field(lua_State *L, const char *key, const char *value)
{
	if (value == NULL)
		return;
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

/* holder(state_dir) -> { pid = integer (nil when not one), host =, started =, plan = (strings,
 * nil when missing), live = boolean } | nil (none recorded) | nil, err */
static int l_holder(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	struct fr_holder_seen seen;
	char err[FR_REDO_ERRLEN];
	int rc = fr_holder_read(dir, &seen, err);
	if (rc < 0)
		return push_error(L, err);
	if (rc == 0) {
		luaL_pushfail(L);
		return 1;
	}
	/* These raise only on out-of-memory; text leaks then, when the run is dying. */
	lua_createtable(L, 0, 5);
	if (seen.h.pid > 0) {
		lua_pushinteger(L, seen.h.pid);
		lua_setfield(L, -2, "pid");
	}
	set_field(L, "host", seen.h.host);
	set_field(L, "started", seen.h.started);
	set_field(L, "plan", seen.h.plan);
	lua_pushboolean(L, seen.live);
	lua_setfield(L, -2, "live");
	free(seen.text);
	return 1;
}

static const luaL_Reg redo_funcs[] = {
	{ "open", l_open },
	{ "rehearse", l_rehearse },
	{ "path", l_path },
	{ "holder", l_holder },
	{ NULL, NULL },
};

static const luaL_Reg journal_methods[] = {
	{ "read", j_read },
	{ "write", j_write },
	{ "truncate", j_truncate },
	{ "path", j_path },
	{ "close", j_close },
	{ NULL, NULL },
};

static const luaL_Reg journal_meta[] = {
	{ "__index", NULL }, /* set below */
	{ "__close", j_close },
	{ "__gc", j_close },
	{ "__tostring", j_tostring },
	{ NULL, NULL },
};

int luaopen_flashrun_redo(lua_State *L)
{
	luaL_newlib(L, redo_funcs);
	luaL_newmetatable(L, JOURNAL_MT);
	luaL_setfuncs(L, journal_meta, 0);
	luaL_newlibtable(L, journal_methods);
	luaL_setfuncs(L, journal_methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	return 1;
}
