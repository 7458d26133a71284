/* endpoint.h — the one grammar for hosts, ports and HOST:PORT, wherever they come from: --si/--ti,
 * the INI file, the environment, --set, and the hosts a router hands us.
 *
 *   host       a name (letters, digits, '-', '_', '.'; not starting with '-' or '.'), an IPv4
 *              address, or an IPv6 address, bare (::1) or bracketed ([::1])
 *   port       decimal digits only, 1..65535
 *   endpoint   NAME:PORT, IPV4:PORT or [IPV6]:PORT — an unbracketed address with more than one
 *              colon is refused: "fe80::1" cannot say where the host ends
 * Hosts come back without brackets; fr_endpoint_format puts them back for IPv6. */
#ifndef FLASHRUN_ENDPOINT_H
#define FLASHRUN_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

#define FR_HOST_MAX 255          /* bytes of a host, brackets excluded */
#define FR_ENDPOINT_ERRLEN 160   /* room for any message below */

/* What to say when a HOST:PORT is refused; shared by every message that expects one. */
#define FR_ENDPOINT_FORM "expected HOST:PORT, IPV4:PORT or [IPV6]:PORT"

/* true when n is a usable TCP port: the only place the range is written down. */
bool fr_port_valid(long long n);
/* s -> *port; false with why (never quoting s) when s is not 1..65535 in plain digits. */
bool fr_port_parse(const char *s, int *port, char *why, size_t whylen);
/* s (len bytes) -> host (at least FR_HOST_MAX + 1 bytes, brackets removed); false with why. */
bool fr_host_parse(const char *s, size_t len, char *host, char *why, size_t whylen);
/* "host:port" -> host, port; false with why. */
bool fr_endpoint_parse(const char *s, char *host, int *port, char *why, size_t whylen);
/* host, port -> "host:port" or "[v6]:port" into out (FR_HOST_MAX + 9 bytes). */
void fr_endpoint_format(const char *host, int port, char *out, size_t outlen);

int luaopen_flashrun_endpoint(lua_State *L); /* parse, host, port, format */

#endif
