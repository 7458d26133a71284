/* sql.c — flashrun.sql: MySQL-protocol connections (GreatDB, MySQL 8.0/9.x, the dbscale router).
 *
 *   local sql = require "flashrun.sql"
 *   local conn, err, errno = sql.connect{host=, port=, user=, password=, database=,
 *                                        timeout=, read_timeout=, write_timeout=, sql_mode=,
 *                                        ssl_mode=, ssl_ca=, ssl_cert=, ssl_key=, tls_version=}
 *   conn:query(stmt)  -> rows (array of {column = value}, rows.columns = names in order)
 *   conn:exec(stmt)   -> affected rows (a write: recorded, not sent, under --dry-run)
 *   conn:ping()       -> true
 *   conn:server_version() -> "9.7.0"
 *   conn:tls()        -> {version = "TLSv1.3", cipher = "TLS_AES_256_GCM_SHA384"} | nil (no TLS)
 *   conn:close()      -- idempotent; also __close and __gc
 *   sql.null          -- the value of a NULL column (a light userdata, the same value as cjson.null)
 *
 * Every call that talks to the server goes through fr_await(): the MySQL client library blocks,
 * so it runs on a worker thread while other parallel() branches go on. Operational failures
 * return nil, "host:port: [errno] (SQLSTATE) message", errno, sqlstate; misuse raises.
 *
 * Written against the libmysqlclient API so that it builds with MariaDB Connector/C and with
 * Oracle's client; the few differences are under MARIADB_PACKAGE_VERSION.
 *
 * TLS: ssl_mode is the mysql client's --ssl-mode, lower-case (MySQL 8.0 manual, 6.3.1
 * "Configuring MySQL to Use Encrypted Connections", and the client option --ssl-mode), default
 * "preferred"; both libraries are driven to the same behaviour (set_tls below):
 *   disabled         no TLS
 *   preferred        TLS when the server offers it, its certificate not checked
 *   required         TLS or no connection, the certificate not checked
 *   verify_ca        TLS, the certificate signed by ssl_ca (its names not checked)
 *   verify_identity  verify_ca, and the certificate names the host dialled (a DNS name against
 *                    subjectAltName DNS entries, an IP address against its IP entries)
 * ssl_ca is used by verify_ca and verify_identity only (the mysql client warns that REQUIRED
 * with a CA verifies nothing; flashrun does not pretend it does). ssl_cert/ssl_key (accounts
 * REQUIRE X509) and tls_version ("TLSv1.2,TLSv1.3") are passed on unless disabled.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdint.h>
#include <errno.h>

#include <mysql.h>
#include <lua.h>
#include <lauxlib.h>

#include "endpoint.h"
#include "scheduler.h"
#include "log.h"
#include "options.h"
#include "sql.h"
#include "killpoint.h"

#define CONN_MT "flashrun.sql.conn"

const char *fr_sql_client_library(void)
{
	static char text[64];
#ifdef MARIADB_PACKAGE_VERSION
	const char *name = "libmariadb";
#else
	const char *name = "libmysqlclient";
#endif
	snprintf(text, sizeof text, "%s %s", name, mysql_get_client_info());
	return text;
}

enum op { OP_CONNECT, OP_QUERY, OP_EXEC, OP_PING };

enum tls_mode { TLS_DISABLED, TLS_PREFERRED, TLS_REQUIRED, TLS_VERIFY_CA, TLS_VERIFY_IDENTITY };
static const char *const TLS_MODES[] = { "disabled", "preferred", "required", "verify_ca",
					 "verify_identity", NULL };

/* The handle owns everything the worker thread touches, so that a coroutine that yields in
 * fr_await() keeps it alive (it is on the coroutine's stack) and __gc can free what is left. */
typedef struct {
	MYSQL *my;            /* NULL while closed */
	int busy;             /* a worker is using `my`: no other call, no close */
	int leaked;           /* collected while busy: the worker still owns `my` */
	char target[300];     /* "host:port", for messages and dry-run records */

	/* connect parameters (malloc'd; the password is wiped as soon as it was used) */
	char *host, *user, *password, *database;
	char *init;           /* "SET SESSION sql_mode = '...'" when sql_mode= was given */
	int ssl_mode;         /* enum tls_mode */
	char *ssl_ca, *ssl_cert, *ssl_key, *tls_version;
	unsigned port, connect_timeout, read_timeout, write_timeout;

	/* the operation in flight and its outcome, filled by the worker */
	enum op op;
	char *stmt;           /* malloc'd copy of the statement */
	struct fr_kp kp;     /* test builds: where this write dies or holds (killpoint.h) */
	double started;       /* when the operation was handed to a worker */
	MYSQL_RES *res;       /* first result set of a query, freed after conversion */
	my_ulonglong affected;
	unsigned err_no;
	char sqlstate[8];
	char err[1024];
} conn_t;

/* ---------------------------------------------------------------- helpers */

static void free_params(conn_t *c)
{
	free(c->host);
	c->host = NULL;
	free(c->user);
	c->user = NULL;
	fr_wipe_free(&c->password);
	free(c->database);
	c->database = NULL;
	free(c->init);
	c->init = NULL;
	free(c->ssl_ca);
	c->ssl_ca = NULL;
	free(c->ssl_cert);
	c->ssl_cert = NULL;
	free(c->ssl_key);
	c->ssl_key = NULL;
	free(c->tls_version);
	c->tls_version = NULL;
}

static void free_op(conn_t *c)
{
	free(c->stmt);
	c->stmt = NULL;
	if (c->res) {
		mysql_free_result(c->res);
		c->res = NULL;
	}
}

static conn_t *toconn(lua_State *L)
{
	conn_t *c = luaL_checkudata(L, 1, CONN_MT);
	if (c->my == NULL)
		luaL_error(L, "attempt to use a closed sql connection");
	if (c->busy)
		luaL_error(L, "sql connection to %s is in use by another coroutine", c->target);
	return c;
}

/* Worker side: remember the client error. */
static void take_error(conn_t *c)
{
	c->err_no = mysql_errno(c->my);
	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", mysql_sqlstate(c->my));
	snprintf(c->err, sizeof c->err, "%s", mysql_error(c->my));
}

/* Lua side: nil, "host:port: [errno] (SQLSTATE) message", errno, sqlstate.
 * The server may echo the statement (and a password in it) back: mask the message. */
static int push_error(lua_State *L, conn_t *c)
{
	char buf[1600];
	/* CR_AUTH_PLUGIN_CANNOT_LOAD: the account's plugin is not in the client library. Oracle's
	 * libmysqlclient 9.x no longer builds mysql_native_password in (GreatDB 8.0 accounts often
	 * use it): it loads it from its plugin directory, which Debian's mysql-client-core fills. */
	const char *hint = c->err_no == 2059
		? " (the client plugin is missing: with Oracle's libmysqlclient install mysql-client-core,"
		  " which ships it in /usr/lib/mysql/plugin, or point LIBMYSQL_PLUGIN_DIR at it)"
		: "";
	snprintf(buf, sizeof buf, "%s: [%u] (%s) %s%s", c->target, c->err_no, c->sqlstate, c->err, hint);
	lua_pushnil(L);
	fr_push_masked(L, buf);
	lua_pushinteger(L, c->err_no);
	lua_pushstring(L, c->sqlstate);
	return 4;
}

static unsigned opt_uint(lua_State *L, int t, const char *key, unsigned dflt)
{
	unsigned v = dflt;
	if (lua_getfield(L, t, key) != LUA_TNIL) {
		luaL_argcheck(L, lua_isnumber(L, -1), 1, lua_pushfstring(L, "'%s' must be a number", key));
		lua_Number n = lua_tonumber(L, -1);
		luaL_argcheck(L, n >= 0 && n < 4e9, 1, lua_pushfstring(L, "'%s' out of range", key));
		v = (unsigned)(n + 0.999); /* a fraction of a second rounds up, never to 0 = "none" */
	}
	lua_pop(L, 1);
	return v;
}

/* ---------------------------------------------------------------- TLS */

/* Worker side, before the connect: the mode's options for the library built against. */
static void set_tls(conn_t *c)
{
	int mode = c->ssl_mode;
	const char *ca = mode >= TLS_VERIFY_CA ? c->ssl_ca : NULL;
#ifdef MARIADB_PACKAGE_VERSION
	/* MariaDB Connector/C 3.3 (Connector/C docs, mysql_optionsv): MYSQL_OPT_SSL_ENFORCE is
	 * "use TLS" (use_ssl), and without it no TLS at all. With use_ssl alone a server offering
	 * no TLS gets a plain login; MYSQL_OPT_SSL_VERIFY_SERVER_CERT makes the library refuse such
	 * a server before the login ("SSL is required, but the server does not support it"), and,
	 * with a CA, check the certificate's names against the host (X509_check_host /
	 * X509_check_ip_asc) — and, without a CA, fail every certificate. A CA alone
	 * (MYSQL_OPT_SSL_CA) verifies the chain in the handshake. So required and verify_ca, which
	 * check no name, get the refusal from the other option the library reads there: a peer
	 * fingerprint (MARIADB_OPT_TLS_PEER_FP), set empty, which the later fingerprint check
	 * skips. The refusal comes before the login, so no password or scramble is sent in clear;
	 * tls_missing() checks after the connect as well, should a library version differ. */
	my_bool yes = 1, no = 0;
	if (mode == TLS_DISABLED) {
		mysql_options(c->my, MYSQL_OPT_SSL_ENFORCE, &no);
		return;
	}
	mysql_options(c->my, MYSQL_OPT_SSL_ENFORCE, &yes);
	mysql_options(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, mode == TLS_VERIFY_IDENTITY ? &yes : &no);
	if (mode == TLS_REQUIRED || mode == TLS_VERIFY_CA)
		mysql_options(c->my, MARIADB_OPT_TLS_PEER_FP, "");
	const enum mysql_option tls_version_opt = MARIADB_OPT_TLS_VERSION;
#else
	/* Oracle's libmysqlclient (C API, mysql_options(): MYSQL_OPT_SSL_MODE and friends) has the
	 * five modes itself. */
	static const unsigned MODES[] = {
		[TLS_DISABLED] = SSL_MODE_DISABLED, [TLS_PREFERRED] = SSL_MODE_PREFERRED,
		[TLS_REQUIRED] = SSL_MODE_REQUIRED, [TLS_VERIFY_CA] = SSL_MODE_VERIFY_CA,
		[TLS_VERIFY_IDENTITY] = SSL_MODE_VERIFY_IDENTITY,
	};
	unsigned m = MODES[mode];
	mysql_options(c->my, MYSQL_OPT_SSL_MODE, &m);
	if (mode == TLS_DISABLED)
		return;
	const enum mysql_option tls_version_opt = MYSQL_OPT_TLS_VERSION;
#endif
	/* The same options in both libraries, but the TLS versions' name. */
	if (ca)
		mysql_options(c->my, MYSQL_OPT_SSL_CA, ca);
	if (c->ssl_cert)
		mysql_options(c->my, MYSQL_OPT_SSL_CERT, c->ssl_cert);
	if (c->ssl_key)
		mysql_options(c->my, MYSQL_OPT_SSL_KEY, c->ssl_key);
	if (c->tls_version)
		mysql_options(c->my, tls_version_opt, c->tls_version);
}

/* Worker side, after a connect: the mode wants TLS and the connection has none (the check the
 * library does not make itself; see set_tls). */
static int tls_missing(conn_t *c)
{
	return c->ssl_mode >= TLS_REQUIRED && mysql_get_ssl_cipher(c->my) == NULL;
}

/* ---------------------------------------------------------------- worker */

static void work(void *job)
{
	conn_t *c = job;
#ifndef MARIADB_PACKAGE_VERSION
	mysql_thread_init(); /* Oracle's client wants it on every thread that uses it */
#endif
	c->err_no = 0;
	c->err[0] = 0;
	switch (c->op) {
	case OP_CONNECT: {
		/* c->my was mysql_init()ed on the Lua thread */
		mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &c->connect_timeout);
		if (c->read_timeout)
			mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &c->read_timeout);
		if (c->write_timeout)
			mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &c->write_timeout);
		mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		/* Sent by the library right after the login, in the same connect (a failure fails the
		 * connect with the server's error); not a write: no kill point, live in dry-run. */
		if (c->init)
			mysql_options(c->my, MYSQL_INIT_COMMAND, c->init);
#ifdef MARIADB_PACKAGE_VERSION
		/* caching_sha2_password lives in a plugin; the library knows where (MARIADB_PLUGINDIR).
		 * Without TLS its full authentication asks the server for its RSA key by itself. */
#else
		{
			bool yes = 1; /* caching_sha2_password full auth without TLS */
			mysql_options(c->my, MYSQL_OPT_GET_SERVER_PUBLIC_KEY, &yes);
		}
#endif
		set_tls(c);
		if (!mysql_real_connect(c->my, c->host, c->user, c->password ? c->password : "",
					c->database, c->port, NULL, CLIENT_MULTI_RESULTS)) {
			take_error(c);
		} else if (tls_missing(c)) {
			c->err_no = 2026; /* CR_SSL_CONNECTION_ERROR, as the libraries' own refusal */
			snprintf(c->sqlstate, sizeof c->sqlstate, "HY000");
			snprintf(c->err, sizeof c->err, "SSL is required, but the server does not support it");
		}
		break;
	}
	case OP_QUERY:
	case OP_EXEC:
		/* Sent and read in two calls so that a kill point can fall between them. */
		if (mysql_send_query(c->my, c->stmt, strlen(c->stmt))) {
			take_error(c);
			break;
		}
		fr_kp_reach(c->kp, FR_KP_BEFORE_REPLY);
		if (mysql_read_query_result(c->my)) {
			take_error(c);
			break;
		}
		/* The first result set is the answer (CALL may add more: drain them). */
		c->res = mysql_store_result(c->my);
		if (!c->res && mysql_field_count(c->my) != 0) {
			take_error(c);
			break;
		}
		c->affected = mysql_affected_rows(c->my);
		if (c->op == OP_EXEC && c->res) {
			mysql_free_result(c->res);
			c->res = NULL;
		}
		for (;;) {
			int more = mysql_next_result(c->my);
			if (more > 0) {
				take_error(c);
				if (c->res) {
					mysql_free_result(c->res);
					c->res = NULL;
				}
				break;
			}
			if (more < 0)
				break;
			MYSQL_RES *extra = mysql_store_result(c->my);
			if (extra)
				mysql_free_result(extra);
		}
		break;
	case OP_PING:
		if (mysql_ping(c->my))
			take_error(c);
		break;
	}
	fr_kp_reach(c->kp, FR_KP_AFTER);
}

/* ---------------------------------------------------------------- Lua side */

static void push_value(lua_State *L, enum enum_field_types type, unsigned flags,
		       const char *v, unsigned long len)
{
	if (v == NULL) {
		lua_pushlightuserdata(L, NULL); /* sql.null */
		return;
	}
	switch (type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		/* BIGINT UNSIGNED above 2^63 does not fit a Lua integer: keep the text */
		if (!((flags & UNSIGNED_FLAG) && len >= 19) && lua_stringtonumber(L, v) != 0)
			return;
		break;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		if (lua_stringtonumber(L, v) != 0)
			return;
		break;
	default:
		break;
	}
	lua_pushlstring(L, v, len);
}

/* Converts c->res into rows. May raise (out of memory): c->res stays in the handle and is freed
 * by the next operation or by close, so nothing leaks. */
static int push_rows(lua_State *L, conn_t *c)
{
	MYSQL_RES *res = c->res;
	lua_newtable(L);
	if (!res) { /* a statement without a result set */
		lua_newtable(L);
		lua_setfield(L, -2, "columns");
		return 1;
	}
	unsigned n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	lua_createtable(L, n, 0);
	for (unsigned i = 0; i < n; i++) {
		lua_pushlstring(L, f[i].name, f[i].name_length);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "columns");
	MYSQL_ROW row;
	lua_Integer r = 0;
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);
		lua_createtable(L, 0, n);
		for (unsigned i = 0; i < n; i++) {
			lua_pushlstring(L, f[i].name, f[i].name_length);
			push_value(L, f[i].type, f[i].flags, row[i], len[i]);
			lua_rawset(L, -3);
		}
		lua_rawseti(L, -2, ++r);
	}
	mysql_free_result(res);
	c->res = NULL;
	return 1;
}

static int finish(lua_State *L, void *job)
{
	conn_t *c = job;
	c->busy = 0;
	/* -v shows where a plan spends its time (the text is masked like every log line) */
	if (c->op == OP_CONNECT)
		fr_log(FR_DEBUG, "sql %s (%.3f s): connect%s", c->target, fr_monotonic() - c->started,
		       c->err_no ? " failed" : "");
	else if (c->stmt)
		fr_log(FR_DEBUG, "sql %s (%.3f s%s): %s", c->target, fr_monotonic() - c->started,
		       c->err_no ? ", failed" : "", c->stmt);
	free(c->stmt);
	c->stmt = NULL;
	switch (c->op) {
	case OP_CONNECT:
		free_params(c);
		if (c->err_no) {
			mysql_close(c->my);
			c->my = NULL;
			return push_error(L, c);
		}
		lua_pushvalue(L, 1); /* the handle */
		return 1;
	case OP_QUERY:
		if (c->err_no)
			return push_error(L, c);
		return push_rows(L, c);
	case OP_EXEC:
		if (c->err_no)
			return push_error(L, c);
		lua_pushinteger(L, (lua_Integer)c->affected);
		return 1;
	case OP_PING:
		if (c->err_no)
			return push_error(L, c);
		lua_pushboolean(L, 1);
		return 1;
	}
	return 0;
}

/* sql.connect{...} -> conn | nil, err, errno */
static int l_connect(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	conn_t *c = lua_newuserdatauv(L, sizeof *c, 0);
	memset(c, 0, sizeof *c);
	luaL_setmetatable(L, CONN_MT);
	lua_insert(L, 1); /* [1] handle, [2] options */

	c->host = fr_opt_str(L, 2, "host", 1, "sql{}");
	c->user = fr_opt_str(L, 2, "user", 1, "sql{}");
	c->database = fr_opt_str(L, 2, "database", 0, "sql{}");
	lua_Integer port = 3306;
	if (lua_getfield(L, 2, "port") != LUA_TNIL) {
		int ok;
		port = lua_tointegerx(L, -1, &ok);
		luaL_argcheck(L, ok && fr_port_valid(port), 1, "'port' must be an integer 1..65535");
	}
	lua_pop(L, 1);
	c->port = (unsigned)port;
	c->connect_timeout = opt_uint(L, 2, "timeout", 10);
	c->read_timeout = opt_uint(L, 2, "read_timeout", 0); /* CLONE INSTANCE takes minutes */
	c->write_timeout = opt_uint(L, 2, "write_timeout", 60);
	if (c->connect_timeout == 0)
		c->connect_timeout = 10;
	/* sql_mode = "MODE,MODE": the session's sql_mode, pinned at connect so that the literals a
	 * caller builds are read as it builds them whatever the server's global sql_mode
	 * (NO_BACKSLASH_ESCAPES, ANSI_QUOTES, ...). Mode names only: the statement is
	 * SET SESSION sql_mode = '<modes>', a literal without a backslash or a quote, which every
	 * sql_mode reads alike. Never for a router: it parses statements itself. */
	if (lua_getfield(L, 2, "sql_mode") != LUA_TNIL) {
		size_t len;
		const char *m = lua_tolstring(L, -1, &len);
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING && len < 512 && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_,") == len,
			      1, "'sql_mode' must be a string of mode names (A-Z, _ and ,)");
		c->init = malloc(len + 32);
		if (!c->init) {
			free_params(c);
			return luaL_error(L, "out of memory");
		}
		snprintf(c->init, len + 32, "SET SESSION sql_mode = '%s'", m);
	}
	lua_pop(L, 1);
	c->ssl_mode = TLS_PREFERRED; /* the mysql client's default */
	if (lua_getfield(L, 2, "ssl_mode") != LUA_TNIL) {
		const char *m = lua_tostring(L, -1);
		int i = 0;
		while (m && TLS_MODES[i] && strcmp(TLS_MODES[i], m) != 0)
			i++;
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING && TLS_MODES[i], 1,
			      "'ssl_mode' must be disabled, preferred, required, verify_ca or verify_identity");
		c->ssl_mode = i;
	}
	lua_pop(L, 1);
	c->ssl_ca = fr_opt_str(L, 2, "ssl_ca", 0, "sql{}");
	c->ssl_cert = fr_opt_str(L, 2, "ssl_cert", 0, "sql{}");
	c->ssl_key = fr_opt_str(L, 2, "ssl_key", 0, "sql{}");
	c->tls_version = fr_opt_str(L, 2, "tls_version", 0, "sql{}");
	if (c->ssl_mode >= TLS_VERIFY_CA && !c->ssl_ca) {
		free_params(c);
		return luaL_argerror(L, 1, "ssl_mode verify_ca and verify_identity need 'ssl_ca'");
	}
	c->password = fr_opt_str(L, 2, "password", 0, "sql{}"); /* last: nothing below raises before use */
	snprintf(c->target, sizeof c->target, "%s:%u", c->host, c->port);

	c->my = mysql_init(NULL);
	if (!c->my) {
		free_params(c);
		return luaL_error(L, "out of memory");
	}
	lua_settop(L, 1); /* finish() pushes the handle (index 1) back */
	c->op = OP_CONNECT;
	c->busy = 1;
	c->started = fr_monotonic();
	return fr_await(L, work, finish, c);
}

static int start_stmt(lua_State *L, enum op op)
{
	conn_t *c = toconn(L);
	size_t len;
	const char *stmt = luaL_checklstring(L, 2, &len);
	luaL_argcheck(L, strlen(stmt) == len, 2, "statement contains a NUL byte");
	if (op == OP_EXEC && fr_dry_run()) {
		fr_record("sql", c->target, stmt);
		lua_pushinteger(L, 0);
		return 1;
	}
	free_op(c); /* leftovers of an operation whose conversion raised */
	c->kp = op == OP_EXEC ? fr_kp_write("sql", c->target, stmt) : (struct fr_kp){ FR_KP_NONE, FR_KP_NONE };
	c->stmt = strdup(stmt);
	if (!c->stmt)
		return luaL_error(L, "out of memory");
	lua_settop(L, 1);
	c->op = op;
	c->busy = 1;
	c->started = fr_monotonic();
	return fr_await(L, work, finish, c);
}

static int l_query(lua_State *L) { return start_stmt(L, OP_QUERY); }
static int l_exec(lua_State *L) { return start_stmt(L, OP_EXEC); }

static int l_ping(lua_State *L)
{
	conn_t *c = toconn(L);
	lua_settop(L, 1);
	c->op = OP_PING;
	c->kp = (struct fr_kp){ FR_KP_NONE, FR_KP_NONE };
	c->busy = 1;
	return fr_await(L, work, finish, c);
}

static int l_server_version(lua_State *L)
{
	conn_t *c = toconn(L);
	lua_pushstring(L, mysql_get_server_info(c->my));
	return 1;
}

/* conn:tls() -> {version=, cipher=} of the connection's TLS, or nil when it has none. */
static int l_tls(lua_State *L)
{
	conn_t *c = toconn(L);
	const char *cipher = mysql_get_ssl_cipher(c->my);
	if (!cipher) {
		lua_pushnil(L);
		return 1;
	}
	const char *version = NULL;
#ifdef MARIADB_PACKAGE_VERSION
	mariadb_get_infov(c->my, MARIADB_CONNECTION_TLS_VERSION, &version);
#else
	/* The C API does not say; libmysqlclient 8.0.28+ speaks TLSv1.2 and TLSv1.3 only, and only
	 * TLSv1.3's cipher suites are named TLS_* (RFC 8446, B.4). */
	version = strncmp(cipher, "TLS_", 4) == 0 ? "TLSv1.3" : "TLSv1.2";
#endif
	lua_createtable(L, 0, 2);
	lua_pushstring(L, version ? version : "unknown");
	lua_setfield(L, -2, "version");
	lua_pushstring(L, cipher);
	lua_setfield(L, -2, "cipher");
	return 1;
}

static int l_close(lua_State *L)
{
	conn_t *c = luaL_checkudata(L, 1, CONN_MT);
	if (c->busy)
		return luaL_error(L, "cannot close sql connection to %s: in use by another coroutine",
				  c->target);
	free_op(c);
	free_params(c);
	if (c->my) {
		mysql_close(c->my);
		c->my = NULL;
	}
	return 0;
}

/* __gc and __close: like close, but never raises. A handle collected while a worker still
 * uses it (its coroutine was abandoned) is left to the worker: leaking beats a crash. */
static int l_gc(lua_State *L)
{
	conn_t *c = luaL_checkudata(L, 1, CONN_MT);
	if (c->busy) {
		c->leaked = 1;
		return 0;
	}
	return l_close(L);
}

static int l_tostring(lua_State *L)
{
	conn_t *c = luaL_checkudata(L, 1, CONN_MT);
	lua_pushfstring(L, "sql connection %s (%s)", c->target, c->my ? "open" : "closed");
	return 1;
}

static const luaL_Reg funcs[] = {
	{"connect", l_connect},
	{NULL, NULL},
};

static const luaL_Reg methods[] = {
	{"query", l_query},
	{"exec", l_exec},
	{"ping", l_ping},
	{"server_version", l_server_version},
	{"tls", l_tls},
	{"close", l_close},
	{NULL, NULL},
};

static const luaL_Reg metamethods[] = {
	{"__index", NULL}, /* set below */
	{"__gc", l_gc},
	{"__close", l_gc},
	{"__tostring", l_tostring},
	{NULL, NULL},
};

int luaopen_flashrun_sql(lua_State *L)
{
	/* Not thread-safe, so once here rather than lazily in a worker's mysql_init(). */
	static int inited;
	if (!inited) {
		if (mysql_library_init(0, NULL, NULL))
			return luaL_error(L, "cannot initialise the MySQL client library");
		inited = 1;
	}
	luaL_newmetatable(L, CONN_MT);
	luaL_setfuncs(L, metamethods, 0);
	luaL_newlibtable(L, methods);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);

	luaL_newlib(L, funcs);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	return 1;
}
