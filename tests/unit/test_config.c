/* test_config.c — the INI reader: verbatim values, quoting, every error, hostile input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "config.h"
#include "check.h"

static struct fr_ini *parse(const char *text, char *err)
{
	SEED("ini", text, strlen(text));
	return fr_ini_parse(text, strlen(text), "t.ini", err);
}

/* The text must be refused with an error containing `want`. */
static void expect_error(int line, const char *text, size_t len, const char *want)
{
	char err[FR_INI_ERRLEN];
	if (len < 65536)
		SEED("ini", text, len);
	struct fr_ini *ini = fr_ini_parse(text, len, "t.ini", err);
	if (ini || !strstr(err, want)) {
		fprintf(stderr, "%s:%d: want error containing [%s], got %s [%s]\n", __FILE__, line, want,
			ini ? "success" : "error", ini ? "" : err);
		failures++;
	}
	fr_ini_free(ini);
}
#define EXPECT_ERROR(text, want) expect_error(__LINE__, text, strlen(text), want)

static void test_sample_file(void)
{
	char err[FR_INI_ERRLEN];
	struct fr_ini *ini = fr_ini_load(TEST_SOURCE_DIR "/config_sample.ini", err);
	CHECK(ini);
	if (!ini) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_STR(fr_ini_get(ini, "source", "host"), "10.0.0.1");
	CHECK_STR(fr_ini_get(ini, "source", "port"), "3306");
	CHECK_STR(fr_ini_get(ini, "source", "mysql_password"), "ab#c$d;e=f");
	CHECK_STR(fr_ini_get(ini, "source", "sys_password"), "quote\"d \\ pass");
	CHECK_STR(fr_ini_get(ini, "target", "host"), "10.0.0.2");
	CHECK_STR(fr_ini_get(ini, "target", "mysql_password"), "lit\\eral \"x\" ");
	CHECK_STR(fr_ini_get(ini, "target", "host_key_policy"), "strict");
	CHECK_STR(fr_ini_get(ini, "target", "router_user"), "admin");
	CHECK_STR(fr_ini_get(ini, "target", "router_password"), "r#o$u;ter");
	CHECK_STR(fr_ini_get(ini, "site", "data_root"), "/data/backup_dir");
	CHECK_STR(fr_ini_get(ini, "site", "os_user"), "$HOME");
	CHECK(fr_ini_get(ini, "site", "OS_USER") == NULL); /* keys are case-sensitive */
	CHECK(fr_ini_get(ini, "target", "sys_user") == NULL);
	CHECK(fr_ini_get(ini, "nosuch", "host") == NULL);
	CHECK(ini->nsections == 3);
	fr_ini_free(ini);
}

static void test_values(void)
{
	char err[FR_INI_ERRLEN];
	struct fr_ini *ini = parse(
		"\xef\xbb\xbf[source]\r\n"                   /* BOM and CRLF */
		"mysql_user = ab#c$d;e=f\r\n"
		"mysql_password =   spaced out value  \t\r\n"
		"sys_user =\n"                                /* empty value */
		"sys_password = \"\"\n"
		"ssh_key = \" keep \\t \\n \\\\ \"  \n"
		"known_hosts = ' \\n stays '\n"
		"[target]\n"
		"mysql_user = # not a comment\n"
		"mysql_password = ;nor this\n"
		"sys_user = x \"inner\" 'quotes'\n"
		"sys_password = caf\xc3\xa9 \xe2\x82\xac\n"    /* UTF-8 is fine */
		"\t; comment after a tab\n"
		"router_password = last line without newline", err);
	CHECK(ini);
	if (!ini) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_STR(fr_ini_get(ini, "source", "mysql_user"), "ab#c$d;e=f");
	CHECK_STR(fr_ini_get(ini, "source", "mysql_password"), "spaced out value");
	CHECK_STR(fr_ini_get(ini, "source", "sys_user"), "");
	CHECK_STR(fr_ini_get(ini, "source", "sys_password"), "");
	CHECK_STR(fr_ini_get(ini, "source", "ssh_key"), " keep \t \n \\ ");
	CHECK_STR(fr_ini_get(ini, "source", "known_hosts"), " \\n stays ");
	CHECK_STR(fr_ini_get(ini, "target", "mysql_user"), "# not a comment");
	CHECK_STR(fr_ini_get(ini, "target", "mysql_password"), ";nor this");
	CHECK_STR(fr_ini_get(ini, "target", "sys_user"), "x \"inner\" 'quotes'");
	CHECK_STR(fr_ini_get(ini, "target", "sys_password"), "caf\xc3\xa9 \xe2\x82\xac");
	CHECK_STR(fr_ini_get(ini, "target", "router_password"), "last line without newline");
	fr_ini_free(ini);

	ini = parse("[ source ]\nport = 1\nsys_port = 65535\n", err);
	CHECK(ini);
	fr_ini_free(ini);
}

/* ssl_mode takes the mysql client's spelling in any case (flashrun.schema lower-cases it). */
static void test_tls_words(void)
{
	char err[FR_INI_ERRLEN];
	struct fr_ini *ini = parse("[source]\nssl_mode = VERIFY_Identity\nrouter_ssl_mode = Preferred\n"
				   "ssl_ca = /etc/mysql/ca.pem\ntls_version = TLSv1.2,TLSv1.3\n", err);
	CHECK(ini != NULL);
	if (ini) {
		CHECK_STR(fr_ini_get(ini, "source", "ssl_mode"), "VERIFY_Identity");
		CHECK_STR(fr_ini_get(ini, "source", "ssl_ca"), "/etc/mysql/ca.pem");
	}
	fr_ini_free(ini);
}

static void test_errors(void)
{
	EXPECT_ERROR("[source]\nmysql_password = \"abc\n", "t.ini:2: unterminated \"...\" value");
	EXPECT_ERROR("[source]\nmysql_password = 'abc\n", "t.ini:2: unterminated '...' value");
	EXPECT_ERROR("[source]\nmysql_password = \"abc\\\"\n", "unterminated");
	EXPECT_ERROR("[source]\nmysql_password = \"a\" b\n", "t.ini:2: text after the closing quote");
	EXPECT_ERROR("[source]\nmysql_password = \"a\\q\"\n", "unknown escape '\\q'");
	EXPECT_ERROR("[source]\nhost 10.0.0.1\n", "t.ini:2: expected 'key = value'");
	EXPECT_ERROR("host = 10.0.0.1\n", "t.ini:1: key 'host' outside a section");
	EXPECT_ERROR("[source]\nhost = a\n\nhost = b\n", "t.ini:4: duplicate key 'host' in [source] (first at line 2)");
	EXPECT_ERROR("[source]\n[target]\n[source]\n", "t.ini:3: duplicate section [source] (first at line 1)");
	EXPECT_ERROR("[source]\npasword = x\n",
		     "t.ini:2: unknown key 'pasword' in [source] (known: host, port, mysql_user, "
		     "mysql_password, sys_user, sys_password, sys_port, ssh_key, "); /* the rest grows with the schema */
	/* ssl_mode: the mysql client's words, any case; anything else names the words */
	EXPECT_ERROR("[source]\nssl_mode = verify-identity\n", "t.ini:2: source.ssl_mode: expected one of: "
		     "disabled, preferred, required, verify_ca, verify_identity");
	EXPECT_ERROR("[target]\nrouter_ssl_mode = on\n", "t.ini:2: target.router_ssl_mode: expected one of: disabled,");
	EXPECT_ERROR("[target]\nssl_ca = ca.pem\n", "t.ini:2: target.ssl_ca: expected an absolute path");
	EXPECT_ERROR("[target]\nhost_key_polcy = strict\n", "t.ini:2: unknown key 'host_key_polcy' in [target]");
	EXPECT_ERROR("[source]\nrouter_user = x\n", "unknown key 'router_user' in [source]"); /* [target] only */
	EXPECT_ERROR("[site]\nside_prot = 1\n", "t.ini:2: unknown key 'side_prot' in [site] (known: restore_point,");
	EXPECT_ERROR("[site]\nrestore_point = remote\n", "t.ini:2: site.restore_point: expected one of: auto, local, donor, reflink");
	EXPECT_ERROR("[target]\nhost_key_policy = Strict\n", "expected one of: strict, accept-new, off");
	EXPECT_ERROR("[site]\nmax_delay = abc\n", "t.ini:2: site.max_delay: expected a whole number");
	EXPECT_ERROR("[site]\nstart_timeout = -1\n", "site.start_timeout: expected a whole number");
	EXPECT_ERROR("[site]\ndata_root = data\n", "site.data_root: expected an absolute path");
	EXPECT_ERROR("[site]\ndata_root = /data/../etc\n", "site.data_root: expected an absolute path");
	EXPECT_ERROR("[source]\nhost = fe80::1::2\n", "t.ini:2: source.host: a host with ':' must be an IPv6");
	EXPECT_ERROR("[source]\nhost = db 1\n", "source.host: space or control character");
	EXPECT_ERROR("[source]\nhost = [10.0.0.1]\n", "source.host: [...] holds an IPv6 address only");
	EXPECT_ERROR("[source]\nhost = 10.0.0.256\n", "source.host: not an IPv4 address");
	EXPECT_ERROR("[target]\nHost = x\n", "unknown key 'Host' in [target]");
	EXPECT_ERROR("[sorce]\n", "t.ini:1: unknown section [sorce] (known: [source], [target], [site]");
	EXPECT_ERROR("[Source]\n", "unknown section [Source]");
	EXPECT_ERROR("[]\n", "empty section name");
	EXPECT_ERROR("[source\n", "section header without ']'");
	EXPECT_ERROR("[source] x\n", "text after ']'");
	EXPECT_ERROR("[source]\n = v\n", "t.ini:2: empty key");
	EXPECT_ERROR("[source]\nmy key = v\n", "invalid character in key");
	EXPECT_ERROR("[site]\na = b\x01" "c\n", "t.ini:2: control character 0x01 at column 6");
	EXPECT_ERROR("[site]\na = b\rc\n", "control character 0x0d");
	EXPECT_ERROR("[site]\na = \x7f\n", "control character 0x7f");
	EXPECT_ERROR("[site]\na = \xff\n", "t.ini:2: invalid UTF-8 at column 5");
	EXPECT_ERROR("[site]\na = \xc0\xaf\n", "invalid UTF-8");        /* overlong '/' */
	EXPECT_ERROR("[site]\na = \xed\xa0\x80\n", "invalid UTF-8");    /* surrogate */
	EXPECT_ERROR("[site]\na = \xe2\x82\n", "invalid UTF-8");        /* truncated */
	expect_error(__LINE__, "[site]\na = b\0c\n", 13, "t.ini:2: NUL byte at column 6");
	EXPECT_ERROR("[source]\nport = 33o6\n", "t.ini:2: source.port: a port is a number from 1 to 65535");
	EXPECT_ERROR("[source]\nport = 0\n", "source.port: a port is");
	EXPECT_ERROR("[source]\nsys_port = 65536\n", "source.sys_port: a port is");
	EXPECT_ERROR("[source]\nport = 99999999999999999999999\n", "source.port: a port is");
	EXPECT_ERROR("[source]\nport = 3306 \"x\"\n", "source.port: a port is");
}

/* An error message must never carry a value: values are passwords. */
static void test_errors_hide_values(void)
{
	const char *bad[] = {
		"[source]\nmysql_password = \"S3cretPW\n",
		"[source]\nmysql_password = \"S3cretPW\" trailing\n",
		"[source]\nmysql_password = S3cretPW\x01\n",
		"[source]\nS3cretPW\n",
		"[source]\nmysql_password = S3cretPW\nmysql_password = S3cretPW\n",
		"[source]\nport = S3cretPW\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char err[FR_INI_ERRLEN];
		struct fr_ini *ini = parse(bad[i], err);
		CHECK(!ini);
		CHECK(!strstr(err, "S3cretPW"));
		fr_ini_free(ini);
	}
}

static void test_hostile(void)
{
	char err[FR_INI_ERRLEN];

	/* Empty file and a file of blanks and comments: no sections. */
	struct fr_ini *ini = fr_ini_parse("", 0, "t.ini", err);
	CHECK(ini && ini->nsections == 0);
	fr_ini_free(ini);
	ini = parse("\xef\xbb\xbf\n\n  \n# c\n; c\n", err);
	CHECK(ini && ini->nsections == 0);
	fr_ini_free(ini);

	/* A huge line, with and without a section before it. */
	size_t big = 4 << 20;
	char *huge = malloc(big + 1);
	memset(huge, 'x', big);
	huge[big] = '\0';
	memcpy(huge, "[source]\nsys_user = ", 20);
	expect_error(__LINE__, huge, big, "t.ini:2: line longer than 4096 bytes");
	expect_error(__LINE__, huge + 9, big - 9, "t.ini:1: line longer than");
	/* Exactly at the limit is accepted. */
	size_t at = 9 + FR_INI_MAX_LINE;
	huge[at] = '\n';
	ini = fr_ini_parse(huge, at + 1, "t.ini", err);
	CHECK(ini && strlen(fr_ini_get(ini, "source", "sys_user")) == FR_INI_MAX_LINE - 11);
	fr_ini_free(ini);
	free(huge);

	/* 10k section headers: refused at the first repeat, quickly. */
	size_t n = 10000, cap = n * 16;
	char *many = malloc(cap), *w = many;
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "[%s]\n", i % 3 == 0 ? "source" : i % 3 == 1 ? "target" : "site");
	expect_error(__LINE__, many, w - many, "t.ini:4: duplicate section [source]");
	w = many;
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "[s%zu]\n", i);
	expect_error(__LINE__, many, w - many, "t.ini:1: unknown section [s0]");
	free(many);

	/* 10k comment lines, then a key: lines are counted right. */
	many = malloc(n * 32);
	w = many + sprintf(many, "[site]\n");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "# comment %zu\n", i);
	char *mark = w;
	w += sprintf(w, "marker_schema = value 9999\n");
	ini = fr_ini_parse(many, w - many, "t.ini", err);
	CHECK(ini && ini->sections[0].npairs == 1);
	CHECK(ini && strcmp(fr_ini_get(ini, "site", "marker_schema"), "value 9999") == 0);
	fr_ini_free(ini);
	sprintf(mark, "key9999 = value\n");
	expect_error(__LINE__, many, strlen(many), "t.ini:10002: unknown key 'key9999'");
	free(many);

	/* Binary garbage: never crashes, and a refusal always names a line. Runs under ASan in CI. */
	srand(42);
	char buf[2048];
	for (int round = 0; round < 2000; round++) {
		size_t len = rand() % sizeof buf;
		const char alphabet[] = "[]=\"'\\#; \t\r\nsourcetargetsiteport1\xff\xc3\xa9";
		for (size_t i = 0; i < len; i++)
			buf[i] = round % 2 ? (char)rand() : alphabet[rand() % (sizeof alphabet - 1)];
		ini = fr_ini_parse(buf, len, "g.ini", err);
		if (!ini && strncmp(err, "g.ini:", 6) != 0) {
			fprintf(stderr, "garbage round %d: error without a line: %s\n", round, err);
			failures++;
		}
		fr_ini_free(ini);
	}
}

static void test_files(void)
{
	char err[FR_INI_ERRLEN];
	struct fr_ini *ini = fr_ini_load("/nonexistent/dir/flashback.ini", err);
	CHECK(!ini);
	CHECK_STR(err, "cannot open config file /nonexistent/dir/flashback.ini: No such file or directory");

	ini = fr_ini_load(".", err);
	CHECK(!ini && strstr(err, "cannot read config file .: Is a directory"));

	/* A file larger than the limit, e.g. a log passed by mistake. */
	const char *path = "config_too_large.ini";
	FILE *f = fopen(path, "w");
	CHECK(f);
	for (int i = 0; f && i < (FR_INI_MAX_SIZE / 15) + 10; i++)
		fputs("# padding line\n", f);
	if (f)
		fclose(f);
	ini = fr_ini_load(path, err);
	CHECK(!ini && strstr(err, "config file config_too_large.ini is larger than"));
	unlink(path);

	/* The error prefix of a file is its path. */
	path = "config_bad.ini";
	f = fopen(path, "w");
	if (f) {
		fputs("[source]\n\nhost\n", f);
		fclose(f);
	}
	ini = fr_ini_load(path, err);
	CHECK(!ini && strncmp(err, "config_bad.ini:3: ", 18) == 0);
	unlink(path);
}

/* The Lua module, as the runtime uses it. */
static void test_lua(void)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "flashrun.config", luaopen_flashrun_config, 0);
	lua_pop(L, 1);
	const char *script =
		"local config = require 'flashrun.config'\n"
		"local dir = ...\n"
		"local c = assert(config.load(dir .. '/config_sample.ini'))\n"
		"assert(c.source.mysql_password == 'ab#c$d;e=f', c.source.mysql_password)\n"
		"assert(c.source.port == '3306')\n"
		"assert(c.target.mysql_password == [[lit\\eral \"x\" ]])\n"
		"assert(c.site.data_root == '/data/backup_dir')\n"
		"local n, err = config.load(dir .. '/missing.ini')\n"
		"assert(n == nil and err:find('missing.ini: No such file', 1, true), err)\n"
		"n, err = config.parse('[source]\\nx = 1\\n', 'cli')\n"
		"assert(n == nil and err:find('^cli:2: unknown key'), err)\n"
		"local t = assert(config.parse(''))\n"
		"assert(next(t) == nil)\n"
		"assert(not pcall(config.load))\n";
	if (luaL_loadstring(L, script) != LUA_OK) {
		fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
		failures++;
	} else {
		lua_pushstring(L, TEST_SOURCE_DIR);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
			fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
			failures++;
		}
	}
	lua_close(L);
}

int main(void)
{
	test_sample_file();
	test_values();
	test_tls_words();
	test_errors();
	test_errors_hide_values();
	test_hostile();
	test_files();
	test_lua();
	if (failures) {
		fprintf(stderr, "test_config: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_config: ok\n");
	return 0;
}
