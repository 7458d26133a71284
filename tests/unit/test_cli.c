/* test_cli.c — the command line (runtime/cli.c): both forms, --si/--ti through the one endpoint
 * grammar, every refusal. Each argv also seeds the CLI fuzzer (check.h's SEED: the arguments
 * joined by NUL bytes, as fuzz/fuzz_cli.c splits them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"

#define PLAN TEST_SOURCE_DIR "/test_cli.c" /* any readable file will do as a plan path */

/* Parses the NULL-terminated argument list (argv[0] added); returns fr_cli_parse's result. */
static int parse(struct fr_cli *cli, const char **args)
{
	char *argv[32] = { "flashrun" };
	int argc = 1;
	char seed[4096];
	size_t n = 0;
	for (; args[argc - 1] && argc < 31; argc++) {
		argv[argc] = (char *)args[argc - 1];
		size_t l = strlen(args[argc - 1]) + 1;
		if (n + l < sizeof seed)
			memcpy(seed + n, args[argc - 1], l), n += l;
	}
	argv[argc] = NULL;
	SEED("cli", seed, n);
	return fr_cli_parse(cli, argc, argv);
}

static void ok(int line, const char **args, const char *si_host, int si_port)
{
	struct fr_cli cli;
	int r = parse(&cli, args);
	CHECKF(r == 0, "line %d: refused", line);
	if (r == 0 && si_host)
		CHECKF(cli.si.host && !strcmp(cli.si.host, si_host) && cli.si.port == si_port,
		       "line %d: si = %s:%d", line, cli.si.host ? cli.si.host : "(none)", cli.si.port);
	fr_cli_free(&cli);
}

static void bad(int line, const char **args)
{
	struct fr_cli cli;
	CHECKF(parse(&cli, args) != 0, "line %d: accepted", line);
	fr_cli_free(&cli);
}
/* The choices parsed, joined by spaces ("" for none); NULL when the command line is refused. */
static const char *choices(const char **args)
{
	static char out[256];
	struct fr_cli cli;
	if (parse(&cli, args) != 0) {
		fr_cli_free(&cli);
		return NULL;
	}
	out[0] = '\0';
	for (int i = 0; i < cli.nchoices; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", cli.choices[i]);
	fr_cli_free(&cli);
	return out;
}
#define CHOICES(want, ...) do { \
	const char *got = choices((const char *[]){ __VA_ARGS__, NULL }); \
	CHECKF(got && !strcmp(got, want), "line %d: choices '%s', expected '%s'", __LINE__, got ? got : "(refused)", want); \
} while (0)
#define OK(host, port, ...) ok(__LINE__, (const char *[]){ __VA_ARGS__, NULL }, host, port)
#define BAD(...) bad(__LINE__, (const char *[]){ __VA_ARGS__, NULL })

int main(void)
{
	/* The refusals print their one line each on stderr: expected output. */
	OK(NULL, 0, PLAN);
	OK("10.0.0.1", 3306, PLAN, "--si", "10.0.0.1:3306", "--ti=10.0.0.2:3307", "--dry-run");
	OK("::1", 3306, PLAN, "--si", "[::1]:3306");
	OK("fe80::1", 16310, "-si", "[fe80::1]:16310", "-ti", "db2:3306", "-f", "verify", "-config", PLAN);
	OK(NULL, 0, PLAN, "--set", "site.max_delay=5", "--set=target.host_key_policy=strict", "-v");
	OK(NULL, 0, PLAN, "--report-json", "/tmp/r.json", "-q");
	OK(NULL, 0, PLAN, "--report-json=r.json");
	OK(NULL, 0, "--help");
	OK(NULL, 0, "--version");
	BAD(PLAN, "--si", "::1");
	BAD(PLAN, "--si", "fe80::1");
	BAD(PLAN, "--si", "fe80::1:3306");
	BAD(PLAN, "--si", "10.0.0.1");
	BAD(PLAN, "--ti", "10.0.0.1:70000");
	BAD(PLAN, "--ti", "[10.0.0.1]:3306");
	BAD(PLAN, "--ti", "db 1:3306");
	BAD(PLAN, "--si");
	BAD(PLAN, "--set", "novalue");
	BAD(PLAN, "--set", "=x");
	/* A --word flashrun does not know is a plan's choice: the bootstrap refuses it, naming it,
	 * unless the plan declares it (tests/lua's cli_errors: --bogus, --production-lost). */
	CHOICES("", PLAN, "--dry-run", "--list");
	CHOICES("--production-lost", PLAN, "--production-lost");
	CHOICES("--production-lost", "--production-lost", PLAN); /* before the plan, as before */
	CHOICES("--production-lost", "-f", "stop", "--production-lost");
	CHOICES("--bogus --x2-y", PLAN, "--bogus", "--x2-y");
	CHOICES("--bogus", "--help", "--bogus"); /* --help prints the help, whatever follows */
	/* Not a choice's form: refused here. */
	BAD(PLAN, "--Bogus");
	BAD(PLAN, "--bogus=1"); /* a choice takes no value */
	BAD(PLAN, "--a--b");
	BAD(PLAN, "--a-");
	BAD(PLAN, "--9a");
	BAD(PLAN, "--");
	BAD(PLAN, "-x");
	/* A value after a choice-like word is a misspelt option's: --stat-dir DIR. */
	BAD(PLAN, "--stat-dir", "dir");
	BAD("--stat-dir", "dir", PLAN);
	BAD("-f", "stop", "--stat-dir", "dir");
	BAD("--export-plans", "d", "--bogus");
	BAD(PLAN, "--report-json");
	BAD(PLAN, "--report-json=");
	BAD(PLAN, PLAN);
	BAD("-f", "../x", "-si", "a:1");
	BAD("-f", "verify", PLAN);
	BAD(TEST_SOURCE_DIR "/no-such-plan.lua");
	BAD(PLAN, "--config", TEST_SOURCE_DIR "/no-such.ini");
	{
		const char *none[] = { NULL };
		struct fr_cli cli;
		CHECK(parse(&cli, none) != 0);
		fr_cli_free(&cli);
	}
	if (failures) {
		printf("test_cli: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_cli: ok (%d checks)\n", checks);
	return 0;
}
