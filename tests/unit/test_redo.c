/* test_redo.c — the journal: atomic replace (also under SIGKILL), the lock and its refusal
 * message, who holds it as another process reads it, permissions, masking, dry-run and a
 * rehearsal's journal, and the Lua module. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "log.h"
#include "redo.h"
#include "check.h"

static char root[64]; /* scratch directory under the build dir */

/* root/name in one of 4 rotating buffers: copy it to keep it across more calls. */
static char *path_of(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", root, name);
	return buf[i];
}

static const struct fr_holder me = { .pid = 1234, .host = "h", .started = "2026-01-01T00:00:00Z",
				     .plan = "start.lua" };

static int open_ok(struct fr_journal *j, const char *dir)
{
	char err[FR_REDO_ERRLEN];
	bool locked;
	if (fr_journal_open(j, dir, &me, err, &locked) < 0) {
		fprintf(stderr, "open %s: %s\n", dir, err);
		failures++;
		return -1;
	}
	return 0;
}

/* The file's content, or NULL when it does not exist; caller frees. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	do {
		if (n + 65536 > cap)
			buf = realloc(buf, cap = (cap + 65536) * 2);
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_write_read_truncate(void)
{
	struct fr_journal j;
	char err[FR_REDO_ERRLEN], *text;
	size_t len;
	if (open_ok(&j, path_of("basic")) < 0)
		return;
	CHECK(fr_journal_read(&j, &text, &len, err) == 0); /* no journal yet */
	CHECK(fr_journal_write(&j, "{\"gen\":1}", err) == 0);
	CHECK(fr_journal_read(&j, &text, &len, err) == 1 && len == 9);
	CHECK_STR(text, "{\"gen\":1}");
	free(text);
	CHECK(fr_journal_write(&j, "{\"gen\":2}", err) == 0);
	CHECK(fr_journal_read(&j, &text, &len, err) == 1);
	CHECK_STR(text, "{\"gen\":2}");
	free(text);
	CHECK(access(path_of("basic/redo.json.tmp"), F_OK) < 0); /* renamed, not left behind */
	CHECK(fr_journal_write(&j, "", err) == 0);
	CHECK(fr_journal_read(&j, &text, &len, err) == 1 && len == 0);
	free(text);
	CHECK(fr_journal_truncate(&j, err) == 0);
	CHECK(access(path_of("basic/redo.json"), F_OK) < 0);
	CHECK(fr_journal_read(&j, &text, &len, err) == 0);
	CHECK(fr_journal_truncate(&j, err) == 0); /* nothing to remove is fine */
	CHECK_STR(j.path, path_of("basic/redo.json"));
	fr_journal_close(&j);
	fr_journal_close(&j); /* idempotent */
	CHECK(j.lock_fd == -1);
}

static void test_permissions(void)
{
	mode_t old = umask(0); /* our modes must not depend on the caller's umask */
	struct fr_journal j;
	char err[FR_REDO_ERRLEN];
	if (open_ok(&j, path_of("perm/nested/state")) == 0) {
		CHECK(mode_of(path_of("perm")) == 0700);
		CHECK(mode_of(path_of("perm/nested/state")) == 0700);
		CHECK(mode_of(path_of("perm/nested/state/flashrun.lock")) == 0600);
		/* A stray world-readable temp file does not make the journal world-readable. */
		int fd = open(path_of("perm/nested/state/redo.json.tmp"), O_CREAT | O_WRONLY, 0666);
		CHECK(fd >= 0);
		close(fd);
		CHECK(fr_journal_write(&j, "x", err) == 0);
		CHECK(mode_of(path_of("perm/nested/state/redo.json")) == 0600);
		fr_journal_close(&j);
	}
	umask(old);

	/* A state "directory" that is a file is refused with its path. */
	FILE *f = fopen(path_of("afile"), "w");
	fclose(f);
	bool locked = true;
	CHECK(fr_journal_open(&j, path_of("afile"), &me, err, &locked) < 0 && !locked);
	CHECK(strstr(err, "afile") != NULL);
	CHECK(fr_journal_open(&j, path_of("afile/sub"), &me, err, &locked) < 0 && !locked);
	CHECK(strstr(err, "afile/sub") && strstr(err, "Not a directory"));
}

static void test_lock(void)
{
	const char *dir = path_of("lock");
	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	pid_t child = fork();
	if (child == 0) {
		struct fr_journal j;
		char err[FR_REDO_ERRLEN], c;
		bool locked;
		int rc = fr_journal_open(&j, dir, &me, err, &locked);
		if (write(up[1], rc == 0 ? "y" : "n", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(2);
		_exit(0); /* the kernel drops the lock with the process */
	}
	char c = 0;
	CHECK(read(up[0], &c, 1) == 1 && c == 'y');

	struct fr_journal j;
	char err[FR_REDO_ERRLEN], want[FR_REDO_ERRLEN];
	bool locked = false;
	CHECK(fr_journal_open(&j, dir, &me, err, &locked) < 0);
	CHECK(locked);
	snprintf(want, sizeof want, "flashrun is already running: pid 1234 on host h since "
		 "2026-01-01T00:00:00Z (plan start.lua); lock file %s/flashrun.lock", dir);
	CHECK_STR(err, want);

	CHECK(write(down[1], "x", 1) == 1);
	int status;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);

	/* Free again once the holder is gone; within one process a second open is refused too. */
	if (open_ok(&j, dir) == 0) {
		struct fr_journal k;
		struct fr_holder nl = { .pid = 7, .host = "a\nhost", .plan = "evil\npid=1" };
		CHECK(fr_journal_open(&k, dir, &nl, err, &locked) < 0 && locked);
		fr_journal_close(&j);
		/* Control characters cannot forge holder fields. */
		CHECK(fr_journal_open(&k, dir, &nl, err, &locked) == 0);
		CHECK(fr_journal_open(&j, dir, &me, err, &locked) < 0 && locked);
		CHECK(strstr(err, "pid 7 on host a?host since ? (plan evil?pid=1)") != NULL);
		fr_journal_close(&k);
		CHECK(open_ok(&j, dir) == 0);
		fr_journal_close(&j);
	}
}

/* ---- who holds the lock, as status reads it ---- */

static void test_holder(void)
{
	const char *dir = path_of("holder");
	char err[FR_REDO_ERRLEN], host[256] = "";
	gethostname(host, sizeof host - 1);
	struct fr_holder_seen seen;
	CHECK(fr_holder_read(dir, &seen, err) == 0); /* no directory, no lock file: nobody */

	/* A process whose argv[0] is a path to flashrun, alive on this host: live. */
	pid_t child = fork();
	if (child == 0) {
		execl("/bin/sleep", "/opt/x/bin/flashrun", "60", (char *)NULL);
		_exit(127);
	}
	/* Until the exec, the child's cmdline is this test's: wait for it to change. */
	char cmdline[64], buf[64] = "";
	snprintf(cmdline, sizeof cmdline, "/proc/%ld/cmdline", (long)child);
	for (int i = 0; i < 500 && strcmp(buf, "/opt/x/bin/flashrun") != 0; i++) {
		FILE *f = fopen(cmdline, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		buf[n] = '\0';
		if (f)
			fclose(f);
		usleep(10000);
	}
	CHECK_STR(buf, "/opt/x/bin/flashrun");
	struct fr_holder h = { .pid = child, .host = host, .started = "2026-01-01T00:00:00Z",
			       .plan = "stop" };
	struct fr_journal j;
	bool locked;
	CHECK(fr_journal_open(&j, dir, &h, err, &locked) == 0);
	CHECK(fr_holder_read(dir, &seen, err) == 1);
	CHECK(seen.live && seen.h.pid == child);
	CHECK(seen.h.host && !strcmp(seen.h.host, host));
	CHECK(seen.h.started && !strcmp(seen.h.started, "2026-01-01T00:00:00Z"));
	CHECK(seen.h.plan && !strcmp(seen.h.plan, "stop"));
	free(seen.text);
	fr_journal_close(&j);
	/* Released: the lock file is emptied, nobody is recorded. */
	CHECK(fr_holder_read(dir, &seen, err) == 0);

	/* Another host's pid says nothing about this one's processes. */
	h.host = "elsewhere";
	CHECK(fr_journal_open(&j, dir, &h, err, &locked) == 0);
	CHECK(fr_holder_read(dir, &seen, err) == 1 && !seen.live && seen.h.pid == child);
	free(seen.text);
	fr_journal_close(&j);

	/* A killed run's text is left behind (no release); its pid no longer runs flashrun. */
	h.host = host;
	CHECK(fr_journal_open(&j, dir, &h, err, &locked) == 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(fr_holder_read(dir, &seen, err) == 1 && !seen.live && seen.h.pid == child);
	free(seen.text);
	/* This process runs test_redo, not flashrun. */
	fr_journal_close(&j);
	h.pid = getpid();
	CHECK(fr_journal_open(&j, dir, &h, err, &locked) == 0);
	CHECK(fr_holder_read(dir, &seen, err) == 1 && !seen.live && seen.h.pid == getpid());
	free(seen.text);
	fr_journal_close(&j);

	/* Text another version (or a hand) left: missing lines are NULL, a pid not a number is 0. */
	FILE *f = fopen(path_of("holder/flashrun.lock"), "w");
	fputs("pid=12x\nplan=a=b\nplan=second\n", f);
	fclose(f);
	CHECK(fr_holder_read(dir, &seen, err) == 1 && !seen.live && seen.h.pid == 0);
	CHECK(seen.h.host == NULL && seen.h.started == NULL);
	CHECK(seen.h.plan && !strcmp(seen.h.plan, "a=b"));
	free(seen.text);

	/* A lock file that cannot be read is an error, not "nobody". */
	CHECK(unlink(path_of("holder/flashrun.lock")) == 0);
	CHECK(symlink("flashrun.lock", path_of("holder/flashrun.lock")) == 0);
	CHECK(fr_holder_read(dir, &seen, err) < 0 && strstr(err, "holder/flashrun.lock"));
}

/* ---- crash safety ---- */

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* "gen N\n" + padding + "\nsum HEX\n": -1 unless the document is complete; else N. */
static long check_doc(const char *doc)
{
	long gen;
	if (sscanf(doc, "gen %ld\n", &gen) != 1)
		return -1;
	const char *sum = strstr(doc, "\nsum ");
	unsigned want;
	if (!sum || sscanf(sum, "\nsum %x\n", &want) != 1 || sum[14] != '\0')
		return -1;
	return fnv1a(doc, sum - doc) == want ? gen : -1;
}

/* The child: resumes from the journal's generation and writes large documents forever,
 * reporting each generation on `report` once it is written. */
static void writer(const char *dir, unsigned seed, int report)
{
	struct fr_journal j;
	char err[FR_REDO_ERRLEN], *text;
	size_t len;
	bool locked;
	if (fr_journal_open(&j, dir, &me, err, &locked) < 0)
		_exit(3);
	long gen = 0;
	if (fr_journal_read(&j, &text, &len, err) == 1) {
		gen = check_doc(text);
		free(text);
		if (gen < 0)
			_exit(4); /* a torn document: the parent sees exit 4 instead of a kill */
	}
	srand(seed);
	size_t cap = 600 * 1024;
	char *doc = malloc(cap);
	for (;;) {
		gen++;
		size_t pad = rand() % (512 * 1024);
		int n = sprintf(doc, "gen %ld\n", gen);
		memset(doc + n, 'a' + gen % 26, pad);
		n += pad;
		n += sprintf(doc + n, "\nsum %08x\n", fnv1a(doc, n));
		if (fr_journal_write(&j, doc, err) < 0)
			_exit(5);
		if (write(report, &gen, sizeof gen) != sizeof gen)
			_exit(6);
	}
}

/* SIGKILL a writer at random moments; each time the journal must be one whole document, at
 * least as new as the last write the writer reported done. The kill comes after one write
 * is reported, within about one write's duration, so it lands anywhere in the cycle. */
static void test_kill_during_write(void)
{
	char dir[256], tmp[300];
	snprintf(dir, sizeof dir, "%s", path_of("kill")); /* path_of's buffers get reused below */
	snprintf(tmp, sizeof tmp, "%s/redo.json.tmp", dir);
	long last = 0;
	int rounds = 100, mid_write = 0;
	srand(7);
	for (int round = 0; round < rounds; round++) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		pid_t child = fork();
		if (child == 0) {
			close(fds[0]);
			writer(dir, round, fds[1]);
		}
		close(fds[1]);
		long done = 0;
		if (read(fds[0], &done, sizeof done) == sizeof done)
			usleep(rand() % 8000);
		kill(child, SIGKILL);
		close(fds[0]);
		int status;
		waitpid(child, &status, 0);
		if (!WIFSIGNALED(status)) {
			fprintf(stderr, "round %d: writer exited with %d before the kill\n", round,
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			failures++;
			return;
		}
		mid_write += access(tmp, F_OK) == 0;
		char *doc = slurp(path_of("kill/redo.json"));
		long gen = doc ? check_doc(doc) : -1;
		free(doc);
		if (gen < 0 || gen < done || gen <= last) {
			fprintf(stderr, "round %d: journal torn, lost or gone back: gen %ld, writer "
				"reported %ld, previous round %ld\n", round, gen, done, last);
			failures++;
			return;
		}
		last = gen;
	}
	/* Otherwise the test proved little: many kills must have interrupted a write. */
	CHECK(mid_write > rounds / 10);
	printf("kill test: %d kills (%d during a write), journal at generation %ld, never torn\n",
	       rounds, mid_write, last);
}

/* ---- masking and dry-run ---- */

static void test_mask_and_dry_run(void)
{
	struct fr_journal j;
	char err[FR_REDO_ERRLEN];
	if (open_ok(&j, path_of("mask")) < 0)
		return;
	fr_mask_add("S3cret#pw$1");
	CHECK(fr_journal_write(&j, "{\"password\":\"S3cret#pw$1\",\"again\":\"xS3cret#pw$1x\"}", err) == 0);
	char *doc = slurp(j.path);
	CHECK(doc && !strstr(doc, "S3cret"));
	CHECK(doc && strstr(doc, "******"));
	free(doc);

	fr_set_dry_run(true);
	CHECK(fr_journal_write(&j, "{\"dry\":true}", err) == 0);
	CHECK(fr_journal_truncate(&j, err) == 0);
	fr_set_dry_run(false);
	doc = slurp(j.path);
	CHECK(doc && !strstr(doc, "dry")); /* still the masked document from before */
	free(doc);
	CHECK(access(path_of("mask/redo.json.tmp"), F_OK) < 0);
	fr_journal_close(&j);
}

/* A rehearsal on a state directory that does not exist creates nothing and records its writes. */
static void test_rehearse(void)
{
	struct fr_journal j;
	char err[FR_REDO_ERRLEN], *text;
	size_t len;
	const char *dir = path_of("rehearsal/state");
	CHECK(fr_journal_rehearse(&j, dir, err) == 0);
	CHECK(j.rehearsal && j.lock_fd == -1);
	CHECK_STR(j.path, path_of("rehearsal/state/redo.json"));
	CHECK(fr_journal_read(&j, &text, &len, err) == 0);
	CHECK(fr_journal_write(&j, "{\"x\":1}", err) == 0); /* recorded even outside a dry run */
	CHECK(fr_journal_truncate(&j, err) == 0);
	CHECK(access(path_of("rehearsal"), F_OK) < 0);
	fr_journal_close(&j);
	fr_journal_close(&j);
	CHECK(!j.rehearsal && j.dir == NULL);
}

/* ---- Lua ---- */

static void test_lua(void)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "flashrun.redo", luaopen_flashrun_redo, 0);
	lua_pop(L, 1);
	const char *script =
		"local redo = require 'flashrun.redo'\n"
		"local dir = ...\n"
		"do\n"
		"  local j <close> = assert(redo.open(dir, {pid = 42, host = 'db1', plan = 'stop.lua'}))\n"
		"  assert(j:path() == dir .. '/redo.json')\n"
		"  assert(j:read() == nil and select('#', j:read()) == 1)\n"
		"  assert(j:write('{\"step\":\"one\"}') == true)\n"
		"  assert(j:read() == '{\"step\":\"one\"}')\n"
		"  local n, err, why = redo.open(dir, {})\n"
		"  assert(n == nil and why == 'locked', err)\n"
		"  assert(err:find('pid 42 on host db1 since %d+%-%d+%-%d+T') and err:find('(plan stop.lua)', 1, true), err)\n"
		"  assert(tostring(j):find('journal'))\n"
		"  assert(not pcall(j.write, j, 'a\\0b'))\n"
		"  assert(j:truncate() == true and j:read() == nil)\n"
		"end\n"
		"local j = assert(redo.open(dir))\n" /* the <close> above released the lock */
		"j:close(); j:close()\n"
		"assert(tostring(j) == 'journal (closed)')\n"
		"local ok, e = pcall(j.read, j)\n"
		"assert(not ok and e:find('closed journal'), e)\n"
		"assert(not pcall(redo.open, dir, {pid = 'x'}))\n"
		"assert(io.open(dir .. '/afile', 'w')):close()\n"
		"local n, err, why = redo.open(dir .. '/afile/x')\n"
		"assert(n == nil and why == nil and err:find('afile/x: Not a directory', 1, true), err)\n"
		"redo.open(dir) collectgarbage() collectgarbage()\n" /* __gc releases */
		"assert(redo.open(dir)):close()\n"
		"assert(redo.path(dir) == dir .. '/redo.json')\n"
		"assert(redo.holder(dir) == nil and select('#', redo.holder(dir)) == 1)\n" /* released */
		"do\n"
		"  local j <close> = assert(redo.open(dir, {pid = 42, host = 'db1', plan = 'stop'}))\n"
		"  local h = assert(redo.holder(dir))\n"
		"  assert(h.pid == 42 and math.type(h.pid) == 'integer' and h.host == 'db1', h.host)\n"
		"  assert(h.plan == 'stop' and h.started:find('^%d+%-%d+%-%d+T') and h.live == false)\n"
		"end\n"
		"local n, err = redo.holder(dir .. '/afile')\n" /* a file where a directory should be */
		"assert(n == nil and err:find('afile/flashrun.lock', 1, true), err)\n"
		"local r = assert(redo.rehearse(dir .. '/none'))\n"
		"assert(r:path() == dir .. '/none/redo.json' and r:read() == nil)\n"
		"assert(r:write('{}') == true and r:truncate() == true)\n"
		"assert(io.open(dir .. '/none') == nil)\n"
		"r:close()\n"
		"assert(not pcall(r.write, r, '{}'))\n";
	if (luaL_loadstring(L, script) != LUA_OK) {
		fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
		failures++;
	} else {
		lua_pushstring(L, path_of("lua"));
		if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
			fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
			failures++;
		}
	}
	lua_close(L);
}

int main(void)
{
	snprintf(root, sizeof root, "redo_test_XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_write_read_truncate();
	test_permissions();
	test_lock();
	test_mask_and_dry_run();
	test_rehearse();
	test_holder();
	test_lua();
	test_kill_during_write();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (failures) {
		fprintf(stderr, "test_redo: %d failure(s); scratch files left in %s\n", failures, root);
		return 1;
	}
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	printf("test_redo: ok\n");
	return 0;
}
