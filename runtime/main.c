/* main.c — parse the command line, hand everything else to the protected Lua run. */
#include <stdio.h>

#include "cli.h"
#include "embed.h"

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
		printf("flashrun %s\n", FLASHRUN_VERSION);
	else
		status = fr_run(&cli, argv[0]);
	fr_cli_free(&cli);
	return status;
}
