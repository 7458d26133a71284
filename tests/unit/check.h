/* check.h — the assertions of the C unit tests: each failed check prints where and what, and
 * the test exits non-zero at the end (CHECK_EXIT) after running every check. */
#ifndef FLASHRUN_TEST_CHECK_H
#define FLASHRUN_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int failures, checks;

/* CHECK(cond): prints the condition that failed. */
#define CHECK(cond) CHECKF(cond, "CHECK failed: %s", #cond)

/* CHECKF(cond, fmt, ...): prints the formatted message. */
#define CHECKF(cond, ...)                                                    \
	do {                                                                 \
		checks++;                                                    \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

/* CHECK_STR(got, want): equal C strings (got may be NULL, which fails). */
#define CHECK_STR(got, want)                                                              \
	do {                                                                              \
		const char *g_ = (got), *w_ = (want);                                     \
		CHECKF(g_ && strcmp(g_, w_) == 0, "got [%s], want [%s]", g_ ? g_ : "(null)", w_); \
	} while (0)

/* SEED(target, data, len): with FR_SEED_DIR set (bench/fuzz.sh sets it), writes the input to
 * $FR_SEED_DIR/<target>/NNNNN so the fuzzers start from every input the unit tests use. */
#include <stdlib.h>
static inline void SEED(const char *target, const void *data, size_t len)
{
	static int n;
	const char *dir = getenv("FR_SEED_DIR");
	if (dir == NULL)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s/%s-%05d", dir, target, target, n++);
	FILE *f = fopen(path, "wb");
	if (f != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

#endif
