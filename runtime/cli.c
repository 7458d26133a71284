/* cli.c — flashrun's command line.
 *
 *   flashrun PLAN.lua [--si HOST:PORT] [--ti HOST:PORT] [--config FILE] [--dry-run] [--list]
 *            [--set KEY=VALUE]... [--state-dir DIR] [--site-dir DIR] [--log-json FILE]
 *            [--report-json FILE] [-v|-q] [--CHOICE]...
 *   flashrun -si HOST:PORT -ti HOST:PORT -f verify|start|status|stop -config FILE   (the old tool's form)
 *   flashrun --export-plans DIR
 *
 * Everything is checked here, before Lua starts, so a typo costs one clear line and exit 2
 * (the old tool crashed on `-si` without a port) — except a plan's choices (`--production-lost`,
 * plans/stop.lua's): any other `--word` is kept as one, and the bootstrap refuses it, naming it,
 * unless the plan declares it. A plan's choices are declared in the plan alone.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "cli.h"
#include "endpoint.h"

void fr_cli_usage(void)
{
	fputs("usage: flashrun PLAN.lua [options]\n"
	      "       flashrun -si HOST:PORT -ti HOST:PORT -f verify|start|status|stop [-config FILE]\n"
	      "       flashrun --export-plans DIR\n"
	      "options:\n"
	      "  --si HOST:PORT      source (production) router; overrides [source] host/port\n"
	      "  --ti HOST:PORT      target (standby) router; overrides [target] host/port\n"
	      "  --config FILE       INI file (default ./flashback.ini when it exists)\n"
	      "  --set SEC.KEY=VALUE\n"
	      "                      override one config value (KEY alone means site.KEY)\n"
	      "  --dry-run           read live, print every write instead of doing it\n"
	      "  --list              print the plan's steps and choices and exit (connects nowhere)\n"
	      "  --production-lost   stop's choice: production is lost; bring the standby to the\n"
	      "                      last transaction streamed from it and leave it detached.\n"
	      "                      Choices come from the plan, which declares them (--list\n"
	      "                      shows them); they are only ever given here, for one run\n"
	      "                      (never read from a file or the environment)\n"
	      "  --state-dir DIR     journal and lock directory (default ./log)\n"
	      "  --site-dir DIR      the site's additions to the plans (default: [site] dir)\n"
	      "  --log-json FILE     also write every log event as a JSON line to FILE\n"
	      "  --report-json FILE  write the plan's report as one JSON document to FILE\n"
	      "                      (verify: every check, the summary, the causes)\n"
	      "  -v, --verbose       debug messages\n"
	      "  -q, --quiet         warnings and errors only\n"
	      "  -h, --help          this text\n"
	      "  --version           the version, the MySQL client library, the stdlib in use\n"
	      "                      and any test-only build options (none in a release build)\n"
	      "  --export-plans DIR  write the built-in plans/ and stdlib/ into DIR (new or\n"
	      "                      empty) to edit them; a plan run from DIR uses DIR/stdlib\n"
	      "exit: 0 done, 1 a step failed, 2 usage or config error, 3 a precheck refused,\n"
	      "      4 another run holds the lock, 130/143 interrupted by SIGINT/SIGTERM (stopped\n"
	      "      at the next step or wait, rolled back like a failure)\n",
	      stdout);
}

static int usage_error(const char *fmt, const char *what)
{
	fputs("flashrun: ", stderr);
	fprintf(stderr, fmt, what);
	fputs(" (see flashrun --help)\n", stderr);
	return -1;
}

/* HOST:PORT in endpoint.h's grammar (the one the INI file and routers' hosts follow too). The
 * argument is not echoed when it holds a control character: it would break the one line. */
static int parse_endpoint(struct fr_endpoint *ep, const char *opt, const char *arg)
{
	char why[FR_ENDPOINT_ERRLEN];
	if (!fr_endpoint_parse(arg, ep->hostbuf, &ep->port, why, sizeof why)) {
		bool printable = true;
		for (const char *t = arg; *t; t++)
			printable = printable && (unsigned char)*t >= 0x20 && *t != 0x7f;
		fprintf(stderr, "flashrun: %s '%s': %s\n", opt, printable ? arg : "(unprintable)", why);
		return -1;
	}
	ep->host = ep->hostbuf;
	return 0;
}

/* Options that take a value; both `--opt VALUE` and `--opt=VALUE`. Single-dash spellings are
 * the old tool's. */
enum opt_id { O_SI, O_TI, O_CONFIG, O_SET, O_STATE, O_JSON, O_REPORT, O_FUNC, O_DRY, O_LIST, O_VERBOSE,
	      O_QUIET, O_HELP, O_VERSION, O_SITE, O_EXPORT, O_NONE };

static const struct { const char *name; enum opt_id id; int takes_value; } OPTS[] = {
	{ "--si", O_SI, 1 },          { "-si", O_SI, 1 },         { "--ti", O_TI, 1 },
	{ "-ti", O_TI, 1 },           { "--config", O_CONFIG, 1 }, { "-config", O_CONFIG, 1 },
	{ "--set", O_SET, 1 },        { "--state-dir", O_STATE, 1 }, { "--log-json", O_JSON, 1 },
	{ "-f", O_FUNC, 1 },          { "--dry-run", O_DRY, 0 },   { "--list", O_LIST, 0 },
	{ "-v", O_VERBOSE, 0 },       { "--verbose", O_VERBOSE, 0 }, { "-q", O_QUIET, 0 },
	{ "--quiet", O_QUIET, 0 },    { "-h", O_HELP, 0 },        { "--help", O_HELP, 0 },
	{ "--version", O_VERSION, 0 }, { "--site-dir", O_SITE, 1 }, { "--report-json", O_REPORT, 1 },
	{ "--export-plans", O_EXPORT, 1 },
};

static int lookup(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
		size_t len = strlen(OPTS[i].name);
		if (strncmp(arg, OPTS[i].name, len) != 0)
			continue;
		if (arg[len] == '\0')
			return (int)i;
		if (arg[len] == '=' && OPTS[i].takes_value) {
			*inline_value = arg + len + 1;
			return (int)i;
		}
	}
	return -1;
}

static int apply_value(struct fr_cli *cli, enum opt_id id, const char *name, const char *v)
{
	switch (id) {
	case O_SI: return parse_endpoint(&cli->si, name, v);
	case O_TI: return parse_endpoint(&cli->ti, name, v);
	case O_CONFIG: cli->config = v; return 0;
	case O_STATE: cli->state_dir = v; return 0;
	case O_JSON: cli->log_json = v; return 0;
	case O_REPORT:
		if (*v == '\0')
			return usage_error("%s: expected a file name", name);
		cli->report_json = v;
		return 0;
	case O_SITE:
		if (*v == '\0')
			return usage_error("%s: expected a directory", name);
		cli->site_dir = v;
		return 0;
	case O_EXPORT:
		if (*v == '\0')
			return usage_error("%s: expected a directory", name);
		cli->export_plans = v;
		return 0;
	case O_FUNC:
		if (strchr(v, '/') != NULL || strchr(v, '.') != NULL || *v == '\0')
			return usage_error("-f '%s': expected a plan name such as verify, start or stop", v);
		cli->function = v;
		return 0;
	case O_SET:
		if (strchr(v, '=') == NULL || *v == '=')
			return usage_error("--set '%s': expected KEY=VALUE", v);
		cli->sets[cli->nsets++] = v;
		return 0;
	default: return 0;
	}
}

static void apply_flag(struct fr_cli *cli, enum opt_id id)
{
	switch (id) {
	case O_DRY: cli->dry_run = true; break;
	case O_LIST: cli->list = true; break;
	case O_VERBOSE: cli->verbosity = 1; break;
	case O_QUIET: cli->verbosity = -1; break;
	case O_HELP: cli->help = true; break;
	case O_VERSION: cli->version = true; break;
	default: break;
	}
}

/* The length of the choice word s starts with: lower-case letters and digits in words joined
 * by single '-' (production-lost), starting with a letter; 0 when there is none. */
static size_t choice_word(const char *s)
{
	size_t n = 0;
	if (*s < 'a' || *s > 'z')
		return 0;
	for (;;) {
		while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9'))
			n++;
		if (s[n] != '-' || !((s[n + 1] >= 'a' && s[n + 1] <= 'z') || (s[n + 1] >= '0' && s[n + 1] <= '9')))
			return n;
		n++;
	}
}

/* An option flashrun does not know: a plan's choice when it has a choice's form (kept for the
 * bootstrap, which refuses it unless the plan declares it), else refused here. */
static int unknown(struct fr_cli *cli, const char *arg)
{
	if (arg[0] != '-' || arg[1] != '-')
		return usage_error("unknown option '%s'", arg);
	size_t n = choice_word(arg + 2);
	if (n > 0 && arg[2 + n] == '\0') {
		cli->choices[cli->nchoices++] = arg;
		return 0;
	}
	if (n > 0 && arg[2 + n] == '=')
		return usage_error("unknown option '%s' (a plan's choice is --WORD, without a value)", arg);
	return usage_error("unknown option '%s'", arg);
}

/* A plan argument refused that came right after a choice and is no file: more likely a misspelt
 * option's value (--stat-dir DIR) than a plan, so the error names the option. */
static int stray(const char *choice, const char *arg)
{
	fprintf(stderr, "flashrun: unknown option '%s' (a plan's choice takes no value, and '%s' "
		"after it is not the plan) (see flashrun --help)\n", choice, arg);
	return -1;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

static int parse_one(struct fr_cli *cli, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *value;
	int k = lookup(arg, &value);
	if (k < 0) {
		if (arg[0] == '-' && arg[1] != '\0')
			return unknown(cli, arg);
		const char *before = cli->nchoices > 0 && cli->choices[cli->nchoices - 1] == argv[*i - 1]
				     ? argv[*i - 1] : NULL;
		if (cli->plan != NULL) {
			if (before && !is_file(arg))
				return stray(before, arg);
			if (cli->plan_after_choice)
				return stray(cli->plan_after_choice, cli->plan);
			return usage_error("unexpected argument '%s': only one plan per run", arg);
		}
		cli->plan = arg;
		cli->plan_after_choice = before && !is_file(arg) ? before : NULL;
		return 0;
	}
	if (!OPTS[k].takes_value) {
		apply_flag(cli, OPTS[k].id);
		return 0;
	}
	if (value == NULL) {
		if (*i + 1 >= argc)
			return usage_error("option '%s' needs a value", OPTS[k].name);
		value = argv[++*i];
	}
	return apply_value(cli, OPTS[k].id, OPTS[k].name, value);
}

static int check_plan(struct fr_cli *cli)
{
	if (cli->help || cli->version)
		return 0;
	if (cli->export_plans != NULL) {
		if (cli->nchoices > 0)
			return usage_error("unknown option '%s'", cli->choices[0]);
		if (cli->plan != NULL || cli->function != NULL)
			return usage_error("--export-plans runs no plan: give it alone%s", "");
		return 0;
	}
	if (cli->plan != NULL && cli->function != NULL)
		return cli->plan_after_choice ? stray(cli->plan_after_choice, cli->plan)
					      : usage_error("give either a plan file or -f NAME, not both%s", "");
	if (cli->plan == NULL && cli->function == NULL)
		return usage_error("no plan given: flashrun PLAN.lua [options]%s", "");
	if (cli->plan != NULL && access(cli->plan, R_OK) != 0)
		return usage_error("plan file '%s' not found or not readable (expected a plan's path, "
				   "such as plans/start.lua, or -f verify|start|status|stop)", cli->plan);
	if (cli->config != NULL && access(cli->config, R_OK) != 0)
		return usage_error("config file '%s' not found or not readable", cli->config);
	return 0;
}

int fr_cli_parse(struct fr_cli *cli, int argc, char **argv)
{
	memset(cli, 0, sizeof *cli);
	cli->state_dir = "log";
	cli->sets = calloc((size_t)argc + 1, sizeof *cli->sets);
	cli->choices = calloc((size_t)argc + 1, sizeof *cli->choices);
	if (cli->sets == NULL || cli->choices == NULL) {
		fputs("flashrun: out of memory\n", stderr);
		return -1;
	}
	for (int i = 1; i < argc; i++)
		if (parse_one(cli, argc, argv, &i) != 0)
			return -1;
	return check_plan(cli);
}

void fr_cli_free(struct fr_cli *cli)
{
	free(cli->sets);
	free(cli->choices);
	cli->sets = NULL;
	cli->choices = NULL;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
	if (value == NULL)
		return;
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

static void set_endpoint(lua_State *L, const char *key, const struct fr_endpoint *ep)
{
	if (ep->host == NULL)
		return;
	lua_createtable(L, 0, 2);
	set_string(L, "host", ep->host);
	lua_pushinteger(L, ep->port);
	lua_setfield(L, -2, "port");
	lua_setfield(L, -2, key);
}

void fr_cli_push(lua_State *L, const struct fr_cli *cli)
{
	lua_createtable(L, 0, 16);
	set_string(L, "plan", cli->plan);
	set_string(L, "function", cli->function);
	set_string(L, "config", cli->config);
	set_string(L, "state_dir", cli->state_dir);
	/* Where flashrun runs: a relative --state-dir (./log by default) is named absolutely in
	 * messages, since another directory holds another journal. */
	char cwd[4096];
	set_string(L, "cwd", getcwd(cwd, sizeof cwd));
	set_string(L, "log_json", cli->log_json);
	set_string(L, "report_json", cli->report_json);
	set_string(L, "site_dir", cli->site_dir);
	set_endpoint(L, "si", &cli->si);
	set_endpoint(L, "ti", &cli->ti);
	lua_createtable(L, cli->nsets, 0);
	for (int i = 0; i < cli->nsets; i++) {
		lua_pushstring(L, cli->sets[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "sets");
	lua_pushinteger(L, cli->verbosity);
	lua_setfield(L, -2, "verbosity");
	lua_pushboolean(L, cli->dry_run);
	lua_setfield(L, -2, "dry_run");
	lua_pushboolean(L, cli->list);
	lua_setfield(L, -2, "list");
	lua_createtable(L, cli->nchoices, 0);
	for (int i = 0; i < cli->nchoices; i++) {
		lua_pushstring(L, cli->choices[i] + 2); /* the word: production-lost */
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "choices");
}
