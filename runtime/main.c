/* main.c — parse the command line, hand everything else to the protected Lua run. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#ifdef FLASHRUN_STATIC
#include <nss.h>
#endif

#include "builtin.h"
#include "cli.h"
#include "embed.h"
#include "sql.h"

/* A static glibc still reads /etc/nsswitch.conf and dlopen()s the libnss_*.so.2 modules it
 * names: on a Red Hat-family host ("hosts: files dns myhostname", "passwd: sss files systemd")
 * those are the host's own, built for another glibc, and loading them into a static binary fails
 * or crashes; even where they are absent, the attempt hung a verify (a futex; tests/package/static
 * checks with strace that none is tried). files and dns are compiled into glibc itself (2.34 and later): the static build
 * uses those and nothing else, whatever the host's nsswitch.conf says (docs/operator.md). */
static void static_nss(void)
{
#ifdef FLASHRUN_STATIC
	__nss_configure_lookup("hosts", "files dns");
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("services", "files"); /* Connector/C's getservbyname("mysql") */
#endif
}

static void version(const struct fr_cli *cli)
{
	char root[PATH_MAX];
	printf("flashrun %s\nclient library: %s\n", FLASHRUN_VERSION, fr_sql_client_library());
	if (fr_stdlib_root(cli, root, sizeof root) != 0)
		printf("stdlib: none (FLASHRUN_STDLIB names no stdlib)\n");
	else if (strcmp(root, FR_BUILTIN_ROOT) == 0)
		printf("stdlib: built in\n");
	else
		printf("stdlib: %s/stdlib\n", root);
	printf("test options: %s\n", FLASHRUN_TEST_OPTIONS);
}

int main(int argc, char **argv)
{
	struct fr_cli cli;
	static_nss();
	if (fr_cli_parse(&cli, argc, argv) != 0) {
		fr_cli_free(&cli);
		return FR_EXIT_USAGE;
	}
	int status = FR_EXIT_OK;
	if (cli.help)
		fr_cli_usage();
	else if (cli.version)
		version(&cli);
	else if (cli.export_plans)
		status = fr_builtin_export(cli.export_plans) == 0 ? FR_EXIT_OK : FR_EXIT_USAGE;
	else
		status = fr_run(&cli, argv[0]);
	fr_cli_free(&cli);
	return status;
}
