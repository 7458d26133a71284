/* test_log.c — masking: registered secrets never survive fr_mask_dup, whatever surrounds them,
 * and fr_log / fr_record output is masked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "check.h"



static void expect_mask(const char *in, const char *want)
{
	char *got = fr_mask_dup(in);
	CHECKF(got != NULL && strcmp(got, want) == 0, "mask(\"%s\") = \"%s\", want \"%s\"", in,
	      got ? got : "(null)", want);
	free(got);
}

/* Runs fn with stream redirected into a temporary file; returns what was written. */
static char *capture(FILE *stream, void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	fflush(stream);
	int saved = dup(fileno(stream));
	dup2(fd, fileno(stream));
	fn();
	fflush(stream);
	dup2(saved, fileno(stream));
	close(saved);
	static char buf[4096];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static void log_secret(void) { fr_log(FR_INFO, "connect user=root password=%s done", "pa#ss$word"); }
static void record_secret(void) { fr_record("sql", "127.0.0.1:3306", "SET PASSWORD = 'pa#ss$word'"); }

int main(void)
{
	expect_mask("nothing registered", "nothing registered");
	fr_mask_add("");          /* ignored: would match everywhere */
	fr_mask_add(NULL);
	expect_mask("still nothing", "still nothing");

	fr_mask_add("pa#ss$word");
	fr_mask_add("pa#ss$word"); /* twice is once */
	expect_mask("pw=pa#ss$word;", "pw=******;");
	expect_mask("pa#ss$wordpa#ss$word", "************");
	expect_mask("pa#ss$wor", "pa#ss$wor"); /* a prefix is not the secret */

	/* A secret containing another: the longer one is masked whole, no tail left over. */
	fr_mask_add("abc");
	fr_mask_add("abcdef");
	expect_mask("x abcdef y abc z", "x ****** y ****** z");
	expect_mask("", "");

	char *out = capture(stderr, log_secret);
	CHECKF(strstr(out, "pa#ss$word") == NULL, "fr_log leaked the secret: %s", out);
	CHECKF(strstr(out, "password=******") != NULL, "fr_log line not masked: %s", out);
	CHECKF(strstr(out, "INFO") != NULL, "fr_log line lacks its level: %s", out);

	out = capture(stdout, record_secret);
	CHECKF(strstr(out, "DRY-RUN sql 127.0.0.1:3306: SET PASSWORD = '******'") != NULL,
	      "fr_record line wrong: %s", out);

	/* The same secret written inside SQL literals, a dbscale "..." value or cjson output. */
	fr_mask_add("q'u\"o\\te/x");
	expect_mask("BY 'q\\'u\\\"o\\\\te/x'", "BY '******'");
	expect_mask("BY 'q''u\"o\\\\te/x'", "BY '******'");
	expect_mask("server_password=\"q'u\"\"o\\\\te/x\"", "server_password=\"******\"");
	expect_mask("{\"pw\":\"q'u\\\"o\\\\te\\/x\"}", "{\"pw\":\"******\"}");
	expect_mask("raw q'u\"o\\te/x", "raw ******");

	CHECKF(!fr_dry_run(), "dry-run on by default");
	fr_set_dry_run(true);
	CHECKF(fr_dry_run(), "fr_set_dry_run(true) ignored");

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	else
		puts("test_log: ok");
	return failures ? 1 : 0;
}
