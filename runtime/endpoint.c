/* endpoint.c — hosts, ports and HOST:PORT (grammar in endpoint.h), and `flashrun.endpoint`. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "endpoint.h"

bool fr_port_valid(long long n) { return n >= 1 && n <= 65535; }

bool fr_port_parse(const char *s, int *port, char *why, size_t whylen)
{
	long long n = 0;
	const char *t = s;
	for (; *t >= '0' && *t <= '9'; t++)
		if (n <= 65535) /* stays small: 99999999999999999999 is "out of range", not a wrap */
			n = n * 10 + (*t - '0');
	if (t == s || *t != '\0') {
		snprintf(why, whylen, "a port is a number from 1 to 65535 in plain digits");
		return false;
	}
	if (!fr_port_valid(n)) {
		snprintf(why, whylen, "a port is a number from 1 to 65535 (out of range)");
		return false;
	}
	*port = (int)n;
	return true;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* An IPv6 literal (no zone: a zone id means nothing on another host). */
static bool is_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* All digits and dots: then it has to be a real IPv4 address, not a name. */
static bool looks_ipv4(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return false;
	return true;
}

bool fr_host_parse(const char *s, size_t len, char *host, char *why, size_t whylen)
{
	bool bracketed = len >= 2 && s[0] == '[' && s[len - 1] == ']';
	if (bracketed)
		s++, len -= 2;
	if (len == 0 || len > FR_HOST_MAX) {
		snprintf(why, whylen, len ? "a host is at most %d characters" : "the host is empty",
			 FR_HOST_MAX);
		return false;
	}
	if (memchr(s, '\0', len)) {
		snprintf(why, whylen, "a NUL byte in a host");
		return false;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (bracketed || strchr(host, ':')) {
		if (is_ipv6(host))
			return true;
		snprintf(why, whylen, bracketed ? "[...] holds an IPv6 address only"
						: "a host with ':' must be an IPv6 address");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!is_name_char(c)) {
			snprintf(why, whylen, c == '[' || c == ']' ? "stray bracket in a host (write [IPV6]:PORT)"
				 : c <= ' ' || c == 0x7f ? "space or control character in a host"
				 : "a host name is letters, digits, '-', '_' and '.'");
			return false;
		}
	}
	if (host[0] == '-' || host[0] == '.') {
		snprintf(why, whylen, "a host name cannot start with '%c'", host[0]);
		return false;
	}
	struct in_addr a4;
	if (looks_ipv4(host) && inet_pton(AF_INET, host, &a4) != 1) {
		snprintf(why, whylen, "not an IPv4 address");
		return false;
	}
	return true;
}

bool fr_endpoint_parse(const char *s, char *host, int *port, char *why, size_t whylen)
{
	const char *colon;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			snprintf(why, whylen, "'[' without ']': " FR_ENDPOINT_FORM);
			return false;
		}
		colon = close + 1;
		if (*colon != ':') {
			snprintf(why, whylen, "no ':PORT' after ']': " FR_ENDPOINT_FORM);
			return false;
		}
	} else {
		colon = strchr(s, ':');
		if (!colon) {
			snprintf(why, whylen, "no port: " FR_ENDPOINT_FORM);
			return false;
		}
		if (strchr(colon + 1, ':')) {
			snprintf(why, whylen, "more than one ':' (an IPv6 address goes in brackets): "
				 FR_ENDPOINT_FORM);
			return false;
		}
	}
	char hw[FR_ENDPOINT_ERRLEN];
	if (!fr_host_parse(s, (size_t)(colon - s), host, hw, sizeof hw)) {
		snprintf(why, whylen, "%s: " FR_ENDPOINT_FORM, hw);
		return false;
	}
	if (!fr_port_parse(colon + 1, port, why, whylen))
		return false;
	return true;
}

void fr_endpoint_format(const char *host, int port, char *out, size_t outlen)
{
	snprintf(out, outlen, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

/* ---- Lua: nil, why on bad input (the caller names the source) ---- */

static int fail(lua_State *L, const char *why)
{
	luaL_pushfail(L);
	lua_pushstring(L, why);
	return 2;
}

/* parse("host:port") -> host, port | nil, why */
static int l_parse(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char host[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	int port;
	if (strlen(s) != len)
		return fail(L, "a NUL byte in an address");
	if (!fr_endpoint_parse(s, host, &port, why, sizeof why))
		return fail(L, why);
	lua_pushstring(L, host);
	lua_pushinteger(L, port);
	return 2;
}

/* host(s) -> host without brackets | nil, why */
static int l_host(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TSTRING)
		return fail(L, "a host is a string");
	size_t len;
	const char *s = lua_tolstring(L, 1, &len);
	char host[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	if (!fr_host_parse(s, len, host, why, sizeof why))
		return fail(L, why);
	lua_pushstring(L, host);
	return 1;
}

/* port(v) -> integer | nil, why; v a string of digits or an integral number. */
static int l_port(lua_State *L)
{
	char why[FR_ENDPOINT_ERRLEN];
	int port;
	if (lua_type(L, 1) == LUA_TNUMBER) {
		int ok;
		lua_Integer n = lua_tointegerx(L, 1, &ok); /* 3306.0 read back from JSON is 3306 */
		if (!ok || !fr_port_valid(n))
			return fail(L, "a port is a number from 1 to 65535");
		lua_pushinteger(L, n);
		return 1;
	}
	if (lua_type(L, 1) != LUA_TSTRING)
		return fail(L, "a port is a number from 1 to 65535");
	size_t len;
	const char *s = lua_tolstring(L, 1, &len);
	if (strlen(s) != len || !fr_port_parse(s, &port, why, sizeof why))
		return fail(L, strlen(s) != len ? "a NUL byte in a port" : why);
	lua_pushinteger(L, port);
	return 1;
}

/* format(host, port) -> "host:port" | "[v6]:port" */
static int l_format(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	lua_Integer port = luaL_checkinteger(L, 2);
	char out[FR_HOST_MAX + 32];
	fr_endpoint_format(host, (int)port, out, sizeof out);
	lua_pushstring(L, out);
	return 1;
}

static const luaL_Reg endpoint_funcs[] = {
	{ "parse", l_parse }, { "host", l_host }, { "port", l_port }, { "format", l_format },
	{ NULL, NULL },
};

int luaopen_flashrun_endpoint(lua_State *L)
{
	luaL_newlib(L, endpoint_funcs);
	return 1;
}
