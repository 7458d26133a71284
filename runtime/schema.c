/* schema.c — THE configuration schema (see schema.h). Adding a setting is one line below (and,
 * for [site], a row in docs/operator.md's settings table: lua.docs_ini holds the two together);
 * the INI reader, the environment, --set, --si/--ti, site.get/site.num and the error messages
 * all read it from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <lua.h>
#include <lauxlib.h>

#include "endpoint.h"
#include "schema.h"

#define S FR_SOURCE
#define T FR_TARGET
#define ST FR_ROUTERS
#define SITE FR_SITE

const struct fr_key FR_SCHEMA[] = {
/* sections key                type      default    words                           secret same_as  doc */
{ ST,   "host",                FR_HOST,  NULL,      NULL,                           false, NULL, "the cluster's router (name, IPv4 or IPv6)" },
{ ST,   "port",                FR_PORT,  NULL,      NULL,                           false, NULL, "the router's SQL port" },
{ ST,   "mysql_user",          FR_TEXT,  NULL,      NULL,                           false, NULL, "account on the router and every node" },
{ ST,   "mysql_password",      FR_TEXT,  NULL,      NULL,                           true,  NULL, "its password" },
{ T,    "router_user",         FR_TEXT,  NULL,      NULL,                           false, "mysql_user", "account the standby router is registered with on production" },
{ T,    "router_password",     FR_TEXT,  NULL,      NULL,                           true,  "mysql_password", "its password" },
{ ST,   "sys_user",            FR_TEXT,  NULL,      NULL,                           false, NULL, "ssh account on the nodes' hosts" },
{ ST,   "sys_password",        FR_TEXT,  NULL,      NULL,                           true,  NULL, "its password (or use ssh_key)" },
{ ST,   "sys_port",            FR_PORT,  "22",      NULL,                           false, NULL, "ssh port of the nodes' hosts" },
{ ST,   "ssh_key",             FR_TEXT,  NULL,      NULL,                           false, NULL, "private key file for ssh (PEM or OpenSSH format; without it, ~/.ssh/id_ed25519 and ~/.ssh/id_ecdsa)" },
{ ST,   "ssh_key_passphrase",  FR_TEXT,  NULL,      NULL,                           true,  NULL, "the passphrase of an encrypted ssh_key (or hold the key in ssh-agent)" },
{ ST,   "ssh_auth",            FR_WORD,  "auto",    "auto|agent|key|password",      false, NULL, "auto: the agent's keys (SSH_AUTH_SOCK), then the key, then sys_password; or only one of them" },
{ ST,   "sys_become",          FR_WORD,  "none",    "none|sudo",                    false, NULL, "sudo: every command on the nodes' hosts runs as sys_become_user through sudo -n" },
{ ST,   "sys_become_user",     FR_TEXT,  "root",    NULL,                           false, NULL, "the user sys_become = sudo runs the commands as" },
{ ST,   "known_hosts",         FR_TEXT,  NULL,      NULL,                           false, NULL, "known_hosts file (default ~/.ssh/known_hosts)" },
{ ST,   "host_key_policy",     FR_WORD,  "accept-new", "strict|accept-new|off",     false, NULL, "what to do with a host key known_hosts does not hold" },
{ ST,   "ssl_mode",            FR_IWORD, "preferred", "disabled|preferred|required|verify_ca|verify_identity", false, NULL, "TLS of the connections to the nodes (and, unless router_ssl_mode says otherwise, the router), as the mysql client's --ssl-mode; any case" },
{ ST,   "router_ssl_mode",     FR_IWORD, NULL,      "disabled|preferred|required|verify_ca|verify_identity", false, "ssl_mode", "TLS of the connections to the cluster's routers (default: ssl_mode)" },
{ ST,   "ssl_ca",              FR_PATH,  NULL,      NULL,                           false, NULL, "CA certificate file (PEM) the servers' certificates must be signed by; needed by verify_ca and verify_identity" },
{ ST,   "ssl_cert",            FR_PATH,  NULL,      NULL,                           false, NULL, "client certificate file (PEM), for accounts created REQUIRE X509 (with ssl_key)" },
{ ST,   "ssl_key",             FR_PATH,  NULL,      NULL,                           false, NULL, "its private key file (PEM), readable by its owner only" },
{ ST,   "tls_version",         FR_TEXT,  NULL,      NULL,                           false, NULL, "TLS protocols allowed, e.g. TLSv1.2,TLSv1.3 (default: the client library's)" },
{ SITE, "restore_point",       FR_WORD,  "auto",    "auto|local|donor|reflink",     false, NULL, "auto: reflink where the filesystems take it, else local; local, donor, reflink" },
{ SITE, "reflink_margin_pct",  FR_COUNT, "10",      NULL,                           false, NULL, "free space a reflink restore point needs: this share of the datadir" },
{ SITE, "restore_point_dir",   FR_PATH,  NULL,      NULL,                           false, NULL, "default <instance_dir>/flashback_restore_point" },
{ SITE, "disk_threshold",      FR_COUNT, "45",      NULL,                           false, NULL, "max % used on the datadir filesystem" },
{ SITE, "disk_margin_mb",      FR_COUNT, "256",     NULL,                           false, NULL, "free space needed beyond the data a restore point copies" },
{ SITE, "data_root",           FR_PATH,  NULL,      NULL,                           false, NULL, "destructive commands stay strictly below it; default parent of instance_dir" },
{ SITE, "instance_dir",        FR_PATH,  NULL,      NULL,                           false, NULL, "default dirname(@@datadir)" },
{ SITE, "conf_file",           FR_PATH,  NULL,      NULL,                           false, NULL, "default the running mysqld's --defaults-file" },
{ SITE, "basedir",             FR_PATH,  NULL,      NULL,                           false, NULL, "default @@basedir" },
{ SITE, "mysqld",              FR_PATH,  NULL,      NULL,                           false, NULL, "default <basedir>/bin/mysqld" },
{ SITE, "mysqld_safe",         FR_PATH,  NULL,      NULL,                           false, NULL, "default <basedir>/bin/mysqld_safe" },
{ SITE, "mysql",               FR_PATH,  NULL,      NULL,                           false, NULL, "default <basedir>/bin/mysql" },
{ SITE, "os_user",             FR_TEXT,  NULL,      NULL,                           false, NULL, "default the owner of the running mysqld process" },
{ SITE, "start_command",       FR_TEXT,  NULL,      NULL,                           false, NULL, "the site's own start of a node (a service manager's), with {port} {conf} {datadir} {instance_dir} {extra_args}; default: mysqld_safe as it was running" },
{ SITE, "stop_command",        FR_TEXT,  NULL,      NULL,                           false, NULL, "the site's own stop of a node, with {port} {conf} {datadir} {instance_dir}; default: SHUTDOWN, else SIGTERM to the proven mysqld" },
{ SITE, "start_timeout",       FR_COUNT, "180",     NULL,                           false, NULL, "seconds for an instance to answer after a start" },
{ SITE, "stop_timeout",        FR_COUNT, "600",     NULL,                           false, NULL, "seconds for an instance to shut down" },
{ SITE, "apply_timeout",       FR_COUNT, "600",     NULL,                           false, NULL, "seconds for the standby to apply what it received" },
{ SITE, "clone_timeout",       FR_COUNT, "3600",    NULL,                           false, NULL, "seconds for one clone" },
{ SITE, "clone_ssl",           FR_WORD,  "auto",    "auto|on|off",                  false, NULL, "TLS of a clone from another node: auto (REQUIRE SSL when [target] ssl_mode is required or stronger; else no TLS when the donor's replication channel has none), on (REQUIRE SSL), off (REQUIRE NO SSL)" },
{ SITE, "progress_interval",   FR_COUNT, "10",      NULL,                           false, NULL, "seconds between two progress lines of one node during a long phase (a clone, a copy, a wait); a stage change shows at once" },
{ SITE, "max_delay",           FR_COUNT, "0",       NULL,                           false, NULL, "seconds behind production verify accepts" },
{ SITE, "replication_proof",   FR_WORD,  "gtid",    "gtid|marker",                  false, NULL, "how stop proves replication: gtid (reads only) or marker (writes a row on production)" },
{ SITE, "marker_schema",       FR_TEXT,  "flashrun", NULL,                          false, NULL, "schema of the marker stop writes on production (replication_proof=marker)" },
{ SITE, "retention_warning_hours", FR_COUNT, "24",  NULL,                           false, NULL, "status warns (exit 3) when the re-attach deadline is nearer than this" },
{ SITE, "binlog_stream",       FR_WORD,  "on",      "on|off",                       false, NULL, "on: start streams production's binary logs to the standby site until stop (stop --production-lost applies them)" },
{ SITE, "binlog_stream_host",  FR_HOST,  NULL,      NULL,                           false, NULL, "standby host running the stream (default the standby master's host; ssh as [target] sys_user)" },
{ SITE, "binlog_stream_dir",   FR_PATH,  NULL,      NULL,                           false, NULL, "where the stream writes, one directory per production master (default <data_root>/flashrun_binlog_stream)" },
{ SITE, "mysqlbinlog",         FR_PATH,  NULL,      NULL,                           false, NULL, "mysqlbinlog on the stream host (default next to site.mysql)" },
{ SITE, "dir",                 FR_TEXT,  NULL,      NULL,                           false, NULL, "site directory: the site's additions to the plans (--site-dir wins)" },
};
const size_t FR_SCHEMA_LEN = sizeof FR_SCHEMA / sizeof FR_SCHEMA[0];

#undef S
#undef T
#undef ST
#undef SITE

static const struct { const char *name; unsigned bit; } SECTIONS[] = {
	{ "source", FR_SOURCE }, { "target", FR_TARGET }, { "site", FR_SITE },
};

unsigned fr_schema_section(const char *name)
{
	for (size_t i = 0; i < sizeof SECTIONS / sizeof SECTIONS[0]; i++)
		if (strcmp(SECTIONS[i].name, name) == 0)
			return SECTIONS[i].bit;
	return 0;
}

const char *fr_schema_sections_text(void) { return "[source], [target], [site]"; }

const struct fr_key *fr_schema_find(const char *section, const char *key)
{
	unsigned bit = fr_schema_section(section);
	for (size_t i = 0; bit && i < FR_SCHEMA_LEN; i++)
		if ((FR_SCHEMA[i].sections & bit) && strcmp(FR_SCHEMA[i].key, key) == 0)
			return &FR_SCHEMA[i];
	return NULL;
}

void fr_schema_known(const char *section, char *buf, size_t len)
{
	unsigned bit = fr_schema_section(section);
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < FR_SCHEMA_LEN && n < len; i++)
		if (FR_SCHEMA[i].sections & bit) {
			int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", FR_SCHEMA[i].key);
			if (w < 0)
				break;
			n += (size_t)w;
		}
}

static bool word_in(const char *words, const char *v, bool anycase)
{
	size_t vl = strlen(v);
	for (const char *w = words; *w;) {
		const char *bar = strchr(w, '|');
		size_t wl = bar ? (size_t)(bar - w) : strlen(w);
		if (wl == vl && (anycase ? strncasecmp(w, v, vl) : memcmp(w, v, vl)) == 0)
			return true;
		w += wl + (bar != NULL);
	}
	return false;
}

bool fr_schema_check(const struct fr_key *k, const char *v, char *why, size_t whylen)
{
	char host[FR_HOST_MAX + 1];
	int port;
	switch (k->type) {
	case FR_TEXT:
		return true;
	case FR_HOST:
		return fr_host_parse(v, strlen(v), host, why, whylen);
	case FR_PORT:
		return fr_port_parse(v, &port, why, whylen);
	case FR_COUNT: {
		size_t n = strspn(v, "0123456789");
		if (n == 0 || v[n] != '\0' || n > 9) {
			snprintf(why, whylen, "expected a whole number (digits only)");
			return false;
		}
		return true;
	}
	case FR_WORD:
	case FR_IWORD:
		if (word_in(k->words, v, k->type == FR_IWORD))
			return true;
		snprintf(why, whylen, "expected one of: ");
		for (const char *w = k->words; *w && strlen(why) + 2 < whylen; w++) {
			size_t n = strlen(why);
			if (*w == '|')
				snprintf(why + n, whylen - n, ", ");
			else
				why[n] = *w, why[n + 1] = '\0';
		}
		return false;
	case FR_PATH:
		/* Empty means "derived" (see the key's doc); otherwise a path a command line can carry. */
		if (v[0] == '\0')
			return true;
		if (v[0] != '/' || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-./+@:=,") != strlen(v) || strstr(v, "/../") ||
		    (strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "/..") == 0)) {
			snprintf(why, whylen, "expected an absolute path of letters, digits and _-./+@:=, "
				 "without '..'");
			return false;
		}
		return true;
	}
	return true;
}

/* ---- Lua: flashrun.schema ---- */

static const char *const TYPE_NAMES[] = {
	[FR_TEXT] = "text", [FR_HOST] = "host", [FR_PORT] = "port",
	[FR_COUNT] = "count", [FR_WORD] = "word", [FR_PATH] = "path", [FR_IWORD] = "word",
};

static void set_str(lua_State *L, const char *field, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, field);
}

static void push_key(lua_State *L, const struct fr_key *k)
{
	lua_createtable(L, 0, 8);
	set_str(L, "key", k->key);
	set_str(L, "type", TYPE_NAMES[k->type]);
	set_str(L, "default", k->def);
	set_str(L, "same_as", k->same_as);
	set_str(L, "doc", k->doc);
	lua_pushboolean(L, k->secret);
	lua_setfield(L, -2, "secret");
	if (k->words) {
		lua_newtable(L);
		int i = 0;
		for (const char *w = k->words; *w;) {
			const char *bar = strchr(w, '|');
			size_t wl = bar ? (size_t)(bar - w) : strlen(w);
			lua_pushlstring(L, w, wl);
			lua_rawseti(L, -2, ++i);
			w += wl + (bar != NULL);
		}
		lua_setfield(L, -2, "words");
	}
}

/* sections() -> {"source", "target", "site"} */
static int l_sections(lua_State *L)
{
	lua_createtable(L, 3, 0);
	for (size_t i = 0; i < sizeof SECTIONS / sizeof SECTIONS[0]; i++) {
		lua_pushstring(L, SECTIONS[i].name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* keys(section) -> { {key=, type=, default=, words=, secret=, same_as=, doc=}, ... } in
 * schema order; nil for an unknown section. */
static int l_keys(lua_State *L)
{
	unsigned bit = fr_schema_section(luaL_checkstring(L, 1));
	if (!bit)
		return 0;
	lua_newtable(L);
	int n = 0;
	for (size_t i = 0; i < FR_SCHEMA_LEN; i++)
		if (FR_SCHEMA[i].sections & bit) {
			push_key(L, &FR_SCHEMA[i]);
			lua_rawseti(L, -2, ++n);
		}
	return 1;
}

/* check(section, key, value) -> value (a port as an integer, a host without brackets) | nil, why, unknown
 * why says what is wrong without the value; `unknown` is true when the key itself is unknown
 * (why then lists the known keys). */
static int l_check(lua_State *L)
{
	const char *section = luaL_checkstring(L, 1);
	const char *key = luaL_checkstring(L, 2);
	size_t len;
	const char *v = luaL_checklstring(L, 3, &len);
	char why[1024];
	if (!fr_schema_section(section)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "unknown section [%s] (known: %s)", section, fr_schema_sections_text());
		lua_pushboolean(L, 1);
		return 3;
	}
	const struct fr_key *k = fr_schema_find(section, key);
	if (!k) {
		fr_schema_known(section, why, sizeof why);
		luaL_pushfail(L);
		lua_pushfstring(L, "unknown key '%s' in [%s] (known: %s)", key, section, why);
		lua_pushboolean(L, 1);
		return 3;
	}
	if (strlen(v) != len || !fr_schema_check(k, v, why, sizeof why)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s.%s: %s", section, key, strlen(v) != len ? "a NUL byte" : why);
		return 2;
	}
	char host[FR_HOST_MAX + 1];
	if (k->type == FR_PORT)
		lua_pushinteger(L, atoi(v));
	else if (k->type == FR_HOST && fr_host_parse(v, len, host, why, sizeof why))
		lua_pushstring(L, host); /* [::1] -> ::1: brackets belong to HOST:PORT, not to a host */
	else if (k->type == FR_IWORD) {
		luaL_Buffer b; /* VERIFY_IDENTITY -> verify_identity: one spelling for the code */
		char *o = luaL_buffinitsize(L, &b, len);
		for (size_t i = 0; i < len; i++)
			o[i] = (char)tolower((unsigned char)v[i]);
		luaL_pushresultsize(&b, len);
	} else
		lua_pushvalue(L, 3);
	return 1;
}

static const luaL_Reg schema_funcs[] = {
	{ "sections", l_sections }, { "keys", l_keys }, { "check", l_check }, { NULL, NULL },
};

int luaopen_flashrun_schema(lua_State *L)
{
	luaL_newlib(L, schema_funcs);
	return 1;
}
