/* cli.h — the command line, parsed and checked before any Lua runs. */
#ifndef FLASHRUN_CLI_H
#define FLASHRUN_CLI_H

#include <stdbool.h>
#include <lua.h>

enum { FR_EXIT_OK = 0, FR_EXIT_STEP = 1, FR_EXIT_USAGE = 2, FR_EXIT_REFUSED = 3,
       FR_EXIT_LOCKED = 4 };

struct fr_endpoint {
	const char *host; /* points into argv, or NULL when not given */
	char hostbuf[256];      /* FR_HOST_MAX + 1 */
	int port;
};

struct fr_cli {
	const char *plan;      /* a path, or NULL with `function` set (old -f form) */
	const char *function;  /* -f verify|start|status|stop: runs plans/<function>.lua */
	const char *config;    /* NULL: ./flashback.ini when it exists */
	const char *state_dir; /* default "log" */
	const char *log_json;
	const char *report_json; /* --report-json FILE: the plan's report (ctx.report) as JSON */
	const char *site_dir;  /* --site-dir DIR: the site's plan extensions (else [site] dir) */
	const char *export_plans; /* --export-plans DIR: write the built-in plans and stdlib there */
	struct fr_endpoint si, ti;
	const char **sets;     /* --set KEY=VALUE, in order */
	int nsets;
	int verbosity;         /* -1 quiet, 0 normal, 1 verbose */
	bool dry_run, list, help, version;
	/* --WORD options flashrun itself does not know, as typed (--production-lost): a plan's
	 * per-run choices, only ever from argv. Which ones a plan offers is the plan's to say
	 * (its `choices`): the bootstrap checks them once the plan is loaded. Lua gets the words
	 * (cli.choices = { "production-lost" }). */
	const char **choices;
	int nchoices;
	/* The choice right before a plan argument that is no file: when that argument is then
	 * refused, the error names the choice (a misspelt option with its value: --stat-dir DIR). */
	const char *plan_after_choice;
};

/* Parses argv into cli. Returns 0, or -1 after printing one line naming what was wrong. */
int fr_cli_parse(struct fr_cli *cli, int argc, char **argv);
void fr_cli_free(struct fr_cli *cli);
void fr_cli_usage(void);
/* Pushes the parsed command line as a Lua table (the bootstrap's argument). */
void fr_cli_push(lua_State *L, const struct fr_cli *cli);

#endif
