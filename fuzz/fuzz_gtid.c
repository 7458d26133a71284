/* fuzz_gtid.c — libFuzzer harness for the GTID parser and formatter (drivers/gtid.c).
 * Properties: never crashes; what parses formats to a text that parses to an equal set and
 * formats identically (format is canonical); the set arithmetic laws hold on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gtid_error err;
	gtid_set *a = gtid_parse((const char *)data, size, &err);
	if (!a)
		return 0;
	size_t len;
	char *text = gtid_format(a, &len);
	if (!text)
		abort();
	gtid_set *b = gtid_parse(text, len, &err);
	if (!b || !gtid_equal(a, b))
		abort();
	char *again = gtid_format(b, NULL);
	if (!again || strcmp(text, again) != 0)
		abort();
	gtid_set *d = gtid_subtract(a, b), *u = gtid_union(a, b), *i = gtid_intersect(a, b);
	gtid_set *empty = gtid_set_new();
	if (!d || !u || !i || !gtid_equal(d, empty) || !gtid_equal(u, a) || !gtid_equal(i, a) ||
	    !gtid_is_subset(a, b))
		abort();
	int64_t n;
	(void)gtid_count(a, &n);
	gtid_set_free(d), gtid_set_free(u), gtid_set_free(i), gtid_set_free(empty);
	free(text), free(again);
	gtid_set_free(a), gtid_set_free(b);
	return 0;
}
