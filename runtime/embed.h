/* embed.h — the Lua state flashrun runs plans in. */
#ifndef FLASHRUN_EMBED_H
#define FLASHRUN_EMBED_H

#include <stddef.h>

#include "cli.h"

/* Creates the state, preloads every flashrun module, finds the stdlib and runs the
 * bootstrap (stdlib/flashrun/bootstrap.lua) protected. Returns the process exit code. */
int fr_run(const struct fr_cli *cli, const char *argv0);

/* The directory holding the stdlib a run uses (see embed.c), into root: a path, or
 * FR_BUILTIN_ROOT (builtin.h). Returns 0, or -1 when $FLASHRUN_STDLIB names no stdlib. */
int fr_stdlib_root(const struct fr_cli *cli, char *root, size_t size);

#endif
