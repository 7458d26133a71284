/* main.c — parse the command line, hand everything else to the protected Lua run. */
#include <stdio.h>

#include "cli.h"
#include "embed.h"
#include "sql.h"

int main(int argc, char **argv)
{
	struct fr_cli cli;
	if (fr_cli_parse(&cli, argc, argv) != 0) {
		fr_cli_free(&cli);
		return FR_EXIT_USAGE;
	}
	int status = FR_EXIT_OK;
	if (cli.help)
		fr_cli_usage();
	else if (cli.version)
		printf("flashrun %s\nclient library: %s\ntest options: %s\n", FLASHRUN_VERSION,
		       fr_sql_client_library(), FLASHRUN_TEST_OPTIONS);
	else
		status = fr_run(&cli, argv[0]);
	fr_cli_free(&cli);
	return status;
}
