/* redo.h — the journal behind `flashrun.redo`: one JSON document per state directory,
 * replaced atomically, guarded by an exclusive lock that also says who holds it.
 *
 * Layout of state_dir (created 0700 if missing):
 *   flashrun.lock   0600, flock()ed for the life of the run; holds "pid=", "host=",
 *                   "started=", "plan=" lines so a refused run can say who is running
 *   redo.json       0600, the journal; written to redo.json.tmp, fsynced, renamed over
 * Dry-run takes the lock too (a rehearsal must not race a real run) and may create the
 * directory and the lock file, but never changes redo.json: writes are recorded instead. A
 * rehearsal on a state directory that does not exist yet creates nothing at all
 * (fr_journal_rehearse): the same records, no lock.
 * These names are defined here only: Lua asks the module (redo.path, redo.holder). */
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
	int lock_fd;            /* -1 once closed, and in a rehearsal (which holds no lock) */
	bool rehearsal;         /* fr_journal_rehearse's: records every write, dry-run or not */
	char *dir, *lock_path, *path, *tmp_path; /* dir is NULL once closed */
};

/* A lock file's holder as read back by another process (fr_holder_read). */
struct fr_holder_seen {
	struct fr_holder h;     /* strings point into text; NULL when the line is missing; pid 0
				 * when missing or not a number */
	bool live;              /* held by a flashrun process alive on this host */
	char *text;             /* malloc'd: free it once done with h */
};

/* Creates the directory, takes the lock and writes the holder into it. On failure returns -1
 * with a message in err (FR_REDO_ERRLEN bytes); *locked tells "another run holds it" apart
 * from I/O errors. j starts and stays closed on failure. */
int fr_journal_open(struct fr_journal *j, const char *state_dir, const struct fr_holder *h,
		    char *err, bool *locked);
/* A journal for a dry run on a state directory that does not exist: creates nothing, takes no
 * lock; reads stay live (there is nothing to find), writes and removals are recorded as in any
 * dry run. 0 or -1. */
int fr_journal_rehearse(struct fr_journal *j, const char *state_dir, char *err);
/* 1 with a malloc'd NUL-terminated *text (and *len), 0 when there is no journal, -1 on error. */
int fr_journal_read(struct fr_journal *j, char **text, size_t *len, char *err);
/* Replaces the document with text, masked; in dry-run records it instead. 0 or -1. */
int fr_journal_write(struct fr_journal *j, const char *text, char *err);
/* Removes the document (absent is fine); in dry-run records it instead. 0 or -1. */
int fr_journal_truncate(struct fr_journal *j, char *err);
/* Releases the lock and frees the paths; idempotent. */
void fr_journal_close(struct fr_journal *j);
/* The run recorded in state_dir's lock file, read without taking the lock (taking it, even for
 * a moment, could turn away a run starting then). live: its host is this one and its pid is a
 * running flashrun (a killed run leaves its text behind, but not its lock). Returns 1 with
 * *seen filled (free seen->text), 0 when none is recorded (no lock file, or an empty one: the
 * last holder released it), -1 on error with a message in err. */
int fr_holder_read(const char *state_dir, struct fr_holder_seen *seen, char *err);

/* open(state_dir, holder) -> journal; rehearse(state_dir) -> journal; path(state_dir) ->
 * the journal's file; holder(state_dir) -> {pid=, host=, started=, plan=, live=} | nil */
int luaopen_flashrun_redo(lua_State *L);

#endif
