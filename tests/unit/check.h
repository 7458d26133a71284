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

#endif
