/* fuzz_endpoint.c — libFuzzer harness for the host/port/HOST:PORT grammar (runtime/endpoint.c).
 * Properties: never crashes; an accepted endpoint has a valid port and a host that fr_host_parse
 * accepts, and format → parse gives back the same host and port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char in[1025];
	memcpy(in, data, size);
	in[size] = '\0';
	char host[FR_HOST_MAX + 1], h2[FR_HOST_MAX + 1], why[FR_ENDPOINT_ERRLEN];
	int port, p2;
	(void)fr_host_parse((const char *)data, size, host, why, sizeof why);
	(void)fr_port_parse(in, &port, why, sizeof why);
	if (!fr_endpoint_parse(in, host, &port, why, sizeof why)) {
		if (!strstr(why, FR_ENDPOINT_FORM) && !strstr(why, "port"))
			abort(); /* every refusal says what is expected */
		return 0;
	}
	if (!fr_port_valid(port) || !fr_host_parse(host, strlen(host), h2, why, sizeof why) ||
	    strcmp(host, h2) != 0)
		abort();
	char out[FR_HOST_MAX + 16];
	fr_endpoint_format(host, port, out, sizeof out);
	if (!fr_endpoint_parse(out, h2, &p2, why, sizeof why) || strcmp(host, h2) != 0 || p2 != port)
		abort();
	return 0;
}
