/* fuzz_ini.c — libFuzzer harness for the INI reader (runtime/config.c) and, through it, the
 * schema checks. Properties: never crashes; a refusal names "fuzz.ini:LINE:"; an accepted file
 * holds only schema keys with values fr_ini_get returns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FR_INI_ERRLEN];
	struct fr_ini *ini = fr_ini_parse((const char *)data, size, "fuzz.ini", err);
	if (!ini) {
		if (strncmp(err, "fuzz.ini:", 9) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < ini->nsections; i++) {
		const struct fr_ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < s->npairs; j++) {
			if (!fr_schema_find(s->name, s->pairs[j].key))
				abort();
			if (fr_ini_get(ini, s->name, s->pairs[j].key) != s->pairs[j].value)
				abort();
		}
	}
	fr_ini_free(ini);
	return 0;
}
