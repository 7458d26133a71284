/* test_endpoint.c — the one host / port / HOST:PORT grammar (runtime/endpoint.c) and the
 * configuration schema (runtime/schema.c). Every input here also seeds the endpoint fuzzer
 * (check.h's SEED; see bench/fuzz.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "endpoint.h"
#include "schema.h"

static void seed(const char *s) { SEED("endpoint", s, strlen(s)); }

static void ok(int line, const char *in, const char *host, int port)
{
	char h[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	int p = -1;
	seed(in);
	bool r = fr_endpoint_parse(in, h, &p, why, sizeof why);
	CHECKF(r && strcmp(h, host) == 0 && p == port, "line %d: '%s' -> %s [%s] %d (%s)", line, in,
	       r ? "ok" : "refused", r ? h : "", p, r ? "" : why);
}

static void bad(int line, const char *in, const char *want)
{
	char h[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	int p = -1;
	seed(in);
	bool r = fr_endpoint_parse(in, h, &p, why, sizeof why);
	CHECKF(!r && strstr(why, want), "line %d: '%s' -> %s [%s], want an error with [%s]", line, in,
	       r ? "accepted" : "refused", r ? h : why, want);
}
#define OK(in, host, port) ok(__LINE__, in, host, port)
#define BAD(in, want) bad(__LINE__, in, want)

static void test_endpoints(void)
{
	OK("127.0.0.1:3306", "127.0.0.1", 3306);
	OK("db-1.example.com:1", "db-1.example.com", 1);
	OK("router_a:65535", "router_a", 65535);
	OK("[::1]:3306", "::1", 3306);
	OK("[fe80::1]:16310", "fe80::1", 16310);
	OK("[2001:db8::7]:3306", "2001:db8::7", 3306);
	OK("[::ffff:10.0.0.1]:3306", "::ffff:10.0.0.1", 3306);
	OK("localhost:22", "localhost", 22);

	/* The cases of issue 9: a bare IPv6 address cannot say where the host ends. */
	BAD("::1", "more than one ':'");
	BAD("fe80::1", "more than one ':'");
	BAD("fe80::1:3306", "an IPv6 address goes in brackets");
	BAD("127.0.0.1", "no port");
	BAD("", "no port");
	BAD("127.0.0.1:", "plain digits");
	BAD("127.0.0.1:70000", "out of range");
	BAD("127.0.0.1:0", "out of range");
	BAD("127.0.0.1:33a6", "plain digits");
	BAD("127.0.0.1:+33", "plain digits");
	BAD("127.0.0.1: 33", "plain digits");
	BAD("127.0.0.1:99999999999999999999", "out of range");
	BAD(":3306", "the host is empty");
	BAD("[::1]", "no ':PORT' after ']'");
	BAD("[::1:3306", "'[' without ']'");
	BAD("[::1]]:3306", "no ':PORT' after ']'");
	BAD("::1]:3306", "more than one ':'");
	BAD("db]:3306", "stray bracket");
	BAD("d[b:3306", "stray bracket");
	BAD("[10.0.0.1]:3306", "IPv6 address only");
	BAD("[db1]:3306", "IPv6 address only");
	BAD("[]:3306", "the host is empty");
	BAD("[fe80::1%eth0]:3306", "IPv6 address only");
	BAD("db 1:3306", "space or control");
	BAD("db\t1:3306", "space or control");
	BAD("db\x01:3306", "space or control");
	BAD(" db:3306", "space or control");
	BAD("-db:3306", "cannot start with '-'");
	BAD(".db:3306", "cannot start with '.'");
	BAD("10.0.0.256:3306", "not an IPv4 address");
	BAD("1.2.3:3306", "not an IPv4 address");
	BAD("db;rm -rf /:3306", "letters, digits");
	BAD("caf\xc3\xa9:3306", "letters, digits");
	/* Every refusal says which form is expected. */
	BAD("fe80::1", FR_ENDPOINT_FORM);
	BAD("[x]:1", FR_ENDPOINT_FORM);

	char big[400];
	memset(big, 'a', 300);
	strcpy(big + 300, ":3306");
	BAD(big, "at most 255");
	memset(big, 'a', 255);
	strcpy(big + 255, ":3306");
	char want[256];
	memset(want, 'a', 255);
	want[255] = '\0';
	OK(big, want, 3306);
}

static void test_hosts_ports(void)
{
	char h[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	int p;
	CHECK(fr_host_parse("::1", 3, h, why, sizeof why) && strcmp(h, "::1") == 0);   /* no port: no doubt */
	CHECK(fr_host_parse("[::1]", 5, h, why, sizeof why) && strcmp(h, "::1") == 0);
	CHECK(!fr_host_parse("fe80::1::2", 10, h, why, sizeof why) && strstr(why, "IPv6"));
	CHECK(!fr_host_parse("a\0b", 3, h, why, sizeof why) && strstr(why, "NUL"));
	CHECK(fr_port_parse("1", &p, why, sizeof why) && p == 1);
	CHECK(fr_port_parse("65535", &p, why, sizeof why) && p == 65535);
	CHECK(!fr_port_parse("65536", &p, why, sizeof why));
	CHECK(!fr_port_parse("", &p, why, sizeof why));
	CHECK(!fr_port_parse("0x10", &p, why, sizeof why));
	CHECK(fr_port_valid(1) && fr_port_valid(65535) && !fr_port_valid(0) && !fr_port_valid(65536));

	char out[300];
	fr_endpoint_format("::1", 3306, out, sizeof out);
	CHECK_STR(out, "[::1]:3306");
	fr_endpoint_format("db1", 3306, out, sizeof out);
	CHECK_STR(out, "db1:3306");
	/* format and parse are inverse */
	CHECK(fr_endpoint_parse("[2001:db8::1]:7", h, &p, why, sizeof why));
	fr_endpoint_format(h, p, out, sizeof out);
	CHECK_STR(out, "[2001:db8::1]:7");
}

static void test_schema(void)
{
	char why[1024];
	const struct fr_key *k = fr_schema_find("target", "host_key_policy");
	CHECK(k && k->type == FR_WORD && strcmp(k->def, "accept-new") == 0);
	CHECK(k && fr_schema_check(k, "strict", why, sizeof why));
	CHECK(k && !fr_schema_check(k, "STRICT", why, sizeof why) &&
	      strstr(why, "strict, accept-new, off"));
	CHECK(fr_schema_find("target", "host_key_polcy") == NULL);
	CHECK(fr_schema_find("source", "router_password") == NULL);
	k = fr_schema_find("target", "router_password");
	CHECK(k && k->secret && strcmp(k->same_as, "mysql_password") == 0);
	CHECK(fr_schema_find("nosuch", "host") == NULL);
	k = fr_schema_find("site", "restore_point");
	CHECK(k && strcmp(k->def, "auto") == 0 && fr_schema_check(k, "donor", why, sizeof why) &&
	      !fr_schema_check(k, "snapshot", why, sizeof why));
	/* Every secret is named like one, and every default passes its own check. */
	for (size_t i = 0; i < FR_SCHEMA_LEN; i++) {
		const struct fr_key *e = &FR_SCHEMA[i];
		CHECKF(!strstr(e->key, "password") || e->secret, "%s is not marked secret", e->key);
		CHECKF(!e->def || fr_schema_check(e, e->def, why, sizeof why), "default of %s: %s",
		       e->key, why);
		CHECKF(e->type != FR_WORD || e->words, "%s has no words", e->key);
		CHECKF(!e->same_as || fr_schema_find("target", e->same_as), "%s: same_as %s unknown",
		       e->key, e->same_as);
	}
	char known[2048];
	fr_schema_known("source", known, sizeof known);
	CHECK(strncmp(known, "host, port, mysql_user, mysql_password, sys_user", 48) == 0);
}

int main(void)
{
	test_endpoints();
	test_hosts_ports();
	test_schema();
	if (failures) {
		fprintf(stderr, "test_endpoint: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_endpoint: ok (%d checks)\n", checks);
	return 0;
}
