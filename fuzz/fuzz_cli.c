/* fuzz_cli.c — libFuzzer harness for the command line (runtime/cli.c): the input is argv,
 * arguments separated by NUL bytes. Properties: never crashes; an accepted --si/--ti has a host
 * and a valid port. bench/fuzz.sh closes the target's stderr (-close_fd_mask=2): the refusals'
 * one-line messages would drown libFuzzer's own output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *argv[66] = { "flashrun" };
	int argc = 1;
	for (size_t i = 0; i <= size && argc < 65;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	struct fr_cli cli;
	if (fr_cli_parse(&cli, argc, argv) == 0) {
		if (cli.si.host && !fr_port_valid(cli.si.port))
			abort();
		if (cli.ti.host && !fr_port_valid(cli.ti.port))
			abort();
	}
	fr_cli_free(&cli);
	free(buf);
	return 0;
}
