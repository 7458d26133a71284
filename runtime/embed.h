/* embed.h — the Lua state flashrun runs plans in. */
#ifndef FLASHRUN_EMBED_H
#define FLASHRUN_EMBED_H

#include "cli.h"

/* Creates the state, preloads every flashrun module, finds the stdlib and runs the
 * bootstrap (stdlib/flashrun/bootstrap.lua) protected. Returns the process exit code. */
int fr_run(const struct fr_cli *cli, const char *argv0);

#endif
