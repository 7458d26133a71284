/*
 * gtid.h — GTID set arithmetic in pure C (MySQL 8.0 .. 9.x text format, tagged GTIDs included).
 *
 * The Lua module flashrun.gtid (gtid.c) is a thin binding over these functions; unit tests and
 * benchmarks call them directly. Every answer is meant to equal what a MySQL server returns
 * for GTID_SUBTRACT / GTID_SUBSET on the same text (tests/unit/gtid_vectors.txt holds the
 * server's own answers).
 */
#ifndef FLASHRUN_GTID_H
#define FLASHRUN_GTID_H

#include <stddef.h>
#include <stdint.h>

/* Largest transaction number MySQL accepts: 2^63-2 (it keeps intervals half-open, so 2^63-1
 * is the exclusive end and itself out of range). */
#define GTID_MAX_GNO INT64_C(9223372036854775806)
#define GTID_TAG_MAX 32 /* tag = [a-z_][a-z0-9_]{0,31}, stored lower-case */

/* An inclusive range of transaction numbers, 1 <= first <= last <= GTID_MAX_GNO. */
typedef struct gtid_interval {
	int64_t first, last;
} gtid_interval;

/* The transactions of one source: server UUID plus tag ("" when untagged). */
typedef struct gtid_tsid {
	uint8_t uuid[16];
	char tag[GTID_TAG_MAX + 1];
	gtid_interval *iv; /* sorted, disjoint and never adjacent (1-5:6 is stored as 1-6) */
	size_t n, cap;
} gtid_tsid;

/* A normalized set: tsids sorted by (uuid bytes, tag), each non-empty, no key twice.
 * Every set returned by this API is normalized; treat the fields as read-only. */
typedef struct gtid_set {
	gtid_tsid *t;
	size_t n, cap;
} gtid_set;

/* Why a parse failed. pos is the 1-based character offset of the problem (0 when the failure
 * is not about the text: out of memory); msg is a full sentence naming position and expectation. */
typedef struct gtid_error {
	size_t pos;
	char msg[200];
} gtid_error;

/* Parses MySQL's GTID set text: "uuid:1-5:7,uuid2:tag:3", upper/lower case, 32-hex or dashed or
 * {braced} UUIDs, whitespace around every token, empty elements between commas, "" = empty set.
 * Returns NULL and fills *err (err may be NULL) when the text is malformed or memory runs out. */
gtid_set *gtid_parse(const char *text, size_t len, gtid_error *err);

gtid_set *gtid_set_new(void); /* empty set, NULL on out of memory */
void gtid_set_free(gtid_set *s); /* NULL is fine */

/* Canonical text, exactly as the server prints it: lower-case dashed UUIDs sorted, ",\n"
 * between UUIDs, untagged intervals first and then ":tag:a-b:c" per tag in tag order.
 * malloc'd and NUL-terminated (*len, if given, gets the length); NULL on out of memory. */
char *gtid_format(const gtid_set *s, size_t *len);

/* New normalized sets; NULL only on out of memory. */
gtid_set *gtid_subtract(const gtid_set *a, const gtid_set *b); /* a minus b */
gtid_set *gtid_union(const gtid_set *a, const gtid_set *b);
gtid_set *gtid_intersect(const gtid_set *a, const gtid_set *b);

int gtid_is_subset(const gtid_set *a, const gtid_set *b); /* 1 if every GTID of a is in b */
int gtid_equal(const gtid_set *a, const gtid_set *b);

/* Number of transactions in s. Returns 0, or -1 when the count does not fit in 63 bits
 * (possible only with several huge ranges). */
int gtid_count(const gtid_set *s, int64_t *count);

#endif
