/* redo.h — the journal behind `flashrun.redo`: one JSON document per state directory,
 * replaced atomically, guarded by an exclusive lock that also says who holds it.
 *
 * Layout of state_dir (created 0700 if missing):
 *   flashrun.lock   0600, flock()ed for the life of the run; holds "pid=", "host=",
 *                   "started=", "plan=" lines so a refused run can say who is running
 *   redo.json       0600, the journal; written to redo.json.tmp, fsynced, renamed over
 * Dry-run takes the lock too (a rehearsal must not race a real run) and may create the
 * directory and the lock file, but never changes redo.json: writes are recorded instead. */
#ifndef FLASHRUN_REDO_H
#define FLASHRUN_REDO_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

#define FR_REDO_ERRLEN 1024
#define FR_REDO_LOCK "flashrun.lock"
#define FR_REDO_FILE "redo.json"

/* Who runs; shown to a second run that finds the lock taken. Strings may be NULL. */
struct fr_holder {
	long pid;
	const char *host, *started, *plan;
};

struct fr_journal {
	int lock_fd;            /* -1 once closed */
	char *dir, *lock_path, *path, *tmp_path;
};

/* Creates the directory, takes the lock and writes the holder into it. On failure returns -1
 * with a message in err (FR_REDO_ERRLEN bytes); *locked tells "another run holds it" apart
 * from I/O errors. j starts and stays closed on failure. */
int fr_journal_open(struct fr_journal *j, const char *state_dir, const struct fr_holder *h,
		    char *err, bool *locked);
/* 1 with a malloc'd NUL-terminated *text (and *len), 0 when there is no journal, -1 on error. */
int fr_journal_read(struct fr_journal *j, char **text, size_t *len, char *err);
/* Replaces the document with text, masked; in dry-run records it instead. 0 or -1. */
int fr_journal_write(struct fr_journal *j, const char *text, char *err);
/* Removes the document (absent is fine); in dry-run records it instead. 0 or -1. */
int fr_journal_truncate(struct fr_journal *j, char *err);
/* Releases the lock and frees the paths; idempotent. */
void fr_journal_close(struct fr_journal *j);

int luaopen_flashrun_redo(lua_State *L); /* open(state_dir, holder) -> journal */

#endif
