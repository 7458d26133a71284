/* tls.c — flashrun.tls: what flashrun checks about TLS itself, beside the client library.
 *
 *   local tls = require "flashrun.tls"
 *   tls.file_mode(path) -> mode (the permission bits, e.g. 384 = 0600), owner uid | nil, err
 *   tls.probe{host=, port=, timeout=10, ca=} -> info | nil, err
 *     info = { offered = false }                      the server's greeting offers no TLS
 *          | { offered = true, version = "TLSv1.3", cipher = "...",
 *              names = {"IP:10.0.0.1", "DNS:db1"},   the certificate's subjectAltName entries
 *              subject = "CN=db1",                    (and its subject, for the messages)
 *              not_before = epoch, not_after = epoch,
 *              verify = "ok" | why the chain fails   (against ca; absent without ca)
 *              host_ok = bool }                       the certificate names host (an IP address
 *                                                     against the IP entries, else DNS)
 *
 * file_mode lets the settings refuse a private key (ssl_key, ssh_key) that group or others may
 * read, before anything connects.
 *
 * probe exists because the client libraries do not hand over the server's certificate, least of
 * all when the handshake failed: verify needs it to say WHY a TLS connection failed (whose CA,
 * which names, which dates) and to warn about a certificate that expires soon. It speaks the
 * start of the MySQL protocol (MySQL Source Code docs: Connection Phase, Protocol::Handshake and
 * Protocol::SSLRequest): read the server's greeting, send the SSL request, run the TLS
 * handshake without verifying (to read the certificate whatever it is), check the chain and the
 * host with OpenSSL, and close. No account and no password are sent: the server logs an aborted
 * connection, nothing else. Blocking network I/O runs on a worker (fr_await).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <lua.h>
#include <lauxlib.h>

#include "options.h"
#include "scheduler.h"

static int l_file_mode(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: %s", path, strerror(e));
		return 2;
	}
	if (!S_ISREG(st.st_mode)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: not a regular file", path);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_pushinteger(L, (lua_Integer)st.st_uid);
	return 2;
}

/* ---- probe ---- */

#define CAP_PROTOCOL_41 0x200u
#define CAP_SSL 0x800u
#define CAP_SECURE_CONNECTION 0x8000u
#define MAX_NAMES 32

typedef struct {
	char *host, *ca;
	int port, timeout;
	/* results */
	char err[512];
	int busy; /* a worker uses it: __gc leaves it (leaking beats a crash) */
	int offered, host_ok, verified;
	char version[32], cipher[128], verify[256], subject[256];
	char names[MAX_NAMES][260];
	int nnames;
	long long not_before, not_after;
} probe_t;

static int fail(probe_t *p, const char *fmt, const char *arg)
{
	snprintf(p->err, sizeof p->err, fmt, arg);
	return -1;
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd pf = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&pf, 1, ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static int dial(probe_t *p)
{
	char port[16];
	snprintf(port, sizeof port, "%d", p->port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai, *a;
	int gai = getaddrinfo(p->host, port, &hints, &ai);
	if (gai) {
		fail(p, "cannot resolve: %s", gai_strerror(gai));
		return -1;
	}
	int fd = -1;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, p->timeout * 1000) > 0)) {
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (soerr == 0) {
				fcntl(fd, F_SETFL, 0);
				struct timeval tv = { .tv_sec = p->timeout };
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
				break;
			}
			errno = soerr;
		}
		fail(p, "cannot connect: %s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int read_n(int fd, unsigned char *b, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, b, n, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The greeting's capability flags (Protocol::HandshakeV10), or -1 after fail(). */
static long long greeting_caps(probe_t *p, int fd)
{
	unsigned char h[4], *b;
	if (read_n(fd, h, 4))
		return fail(p, "no greeting from the server%s", "");
	size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
	if (n < 40 || n > 65536)
		return fail(p, "not a MySQL greeting (%s)", n < 40 ? "too short" : "too long");
	b = malloc(n);
	if (!b || read_n(fd, b, n)) {
		free(b);
		return fail(p, "the greeting was cut short%s", "");
	}
	long long caps = -1;
	if (b[0] == 0xff) {
		fail(p, "the server refused the connection before the greeting%s", "");
	} else if (b[0] != 10) {
		fail(p, "not a MySQL protocol 10 greeting%s", "");
	} else {
		unsigned char *z = memchr(b + 1, 0, n - 1); /* server version */
		size_t at = z ? (size_t)(z - b) + 1 + 4 + 8 + 1 : n; /* thread id, auth data 1, filler */
		if (at + 2 > n)
			fail(p, "the greeting was cut short%s", "");
		else {
			caps = b[at] | b[at + 1] << 8;
			if (at + 5 <= n)
				caps |= (long long)(b[at + 3] | b[at + 4] << 8) << 16;
		}
	}
	free(b);
	return caps;
}

static void add_names(probe_t *p, X509 *cert)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && p->nnames < MAX_NAMES; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char *o = p->names[p->nnames];
		if (g->type == GEN_DNS) {
			snprintf(o, sizeof p->names[0], "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
				 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
			p->nnames++;
		} else if (g->type == GEN_IPADD) {
			const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
			int len = ASN1_STRING_length(g->d.iPAddress);
			char txt[INET6_ADDRSTRLEN] = "?";
			inet_ntop(len == 16 ? AF_INET6 : AF_INET, ip, txt, sizeof txt);
			snprintf(o, sizeof p->names[0], "IP:%s", len == 4 || len == 16 ? txt : "?");
			p->nnames++;
		}
	}
	GENERAL_NAMES_free(gens);
	X509_NAME_oneline(X509_get_subject_name(cert), p->subject, sizeof p->subject);
}

static long long asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static void probe_work(void *job)
{
	probe_t *p = job;
	int fd = dial(p);
	if (fd < 0)
		return;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	long long caps = greeting_caps(p, fd);
	if (caps < 0)
		goto out;
	if (!(caps & CAP_SSL)) {
		p->offered = 0;
		goto out;
	}
	p->offered = 1;
	/* Protocol::SSLRequest, sequence 1: capabilities, max packet, utf8mb4, 23 zero bytes. */
	unsigned char req[36] = { 32, 0, 0, 1 };
	unsigned c = CAP_PROTOCOL_41 | CAP_SSL | CAP_SECURE_CONNECTION;
	req[4] = c & 0xff, req[5] = c >> 8 & 0xff, req[6] = c >> 16 & 0xff, req[7] = c >> 24;
	req[8 + 3] = 1; /* 16 MiB */
	req[12] = 255;
	if (send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req) {
		fail(p, "cannot send the SSL request: %s", strerror(errno));
		goto out;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		fail(p, "out of memory%s", "");
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* read the certificate whatever it is */
	if (p->ca && SSL_CTX_load_verify_locations(ctx, p->ca, NULL) != 1) {
		fail(p, "cannot load the CA file %s", p->ca);
		goto out;
	}
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd)) {
		fail(p, "out of memory%s", "");
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_get_error();
		char buf[256];
		ERR_error_string_n(e, buf, sizeof buf);
		fail(p, "TLS handshake failed: %s", e ? buf : "the server closed the connection");
		goto out;
	}
	snprintf(p->version, sizeof p->version, "%s", SSL_get_version(ssl));
	snprintf(p->cipher, sizeof p->cipher, "%s", SSL_get_cipher_name(ssl));
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (!cert) {
		fail(p, "the server sent no certificate%s", "");
		goto out;
	}
	add_names(p, cert);
	p->not_before = asn1_epoch(X509_get0_notBefore(cert));
	p->not_after = asn1_epoch(X509_get0_notAfter(cert));
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, p->host, ip) == 1 || inet_pton(AF_INET6, p->host, ip) == 1;
	p->host_ok = is_ip ? X509_check_ip_asc(cert, p->host, 0) == 1
			   : X509_check_host(cert, p->host, strlen(p->host), 0, NULL) == 1;
	if (p->ca) {
		long v = SSL_get_verify_result(ssl);
		p->verified = 1;
		snprintf(p->verify, sizeof p->verify, "%s", v == X509_V_OK ? "ok" : X509_verify_cert_error_string(v));
	}
	X509_free(cert);
out:
	if (ssl)
		SSL_free(ssl); /* no close_notify: the server logs an aborted connection either way */
	if (ctx)
		SSL_CTX_free(ctx);
	ERR_clear_error();
	close(fd);
}

static void probe_free(probe_t *p)
{
	free(p->host);
	p->host = NULL;
	free(p->ca);
	p->ca = NULL;
}

static int probe_finish(lua_State *L, void *job)
{
	probe_t *p = job;
	p->busy = 0;
	probe_free(p);
	if (p->err[0]) {
		luaL_pushfail(L);
		lua_pushstring(L, p->err);
		return 2;
	}
	lua_createtable(L, 0, 10);
	lua_pushboolean(L, p->offered);
	lua_setfield(L, -2, "offered");
	if (p->offered) {
		lua_pushstring(L, p->version);
		lua_setfield(L, -2, "version");
		lua_pushstring(L, p->cipher);
		lua_setfield(L, -2, "cipher");
		lua_pushstring(L, p->subject);
		lua_setfield(L, -2, "subject");
		lua_createtable(L, p->nnames, 0);
		for (int i = 0; i < p->nnames; i++) {
			lua_pushstring(L, p->names[i]);
			lua_rawseti(L, -2, i + 1);
		}
		lua_setfield(L, -2, "names");
		lua_pushinteger(L, p->not_before);
		lua_setfield(L, -2, "not_before");
		lua_pushinteger(L, p->not_after);
		lua_setfield(L, -2, "not_after");
		lua_pushboolean(L, p->host_ok);
		lua_setfield(L, -2, "host_ok");
		if (p->verified) {
			lua_pushstring(L, p->verify);
			lua_setfield(L, -2, "verify");
		}
	}
	return 1;
}

static int probe_gc(lua_State *L)
{
	probe_t *p = lua_touserdata(L, 1);
	if (!p->busy)
		probe_free(p);
	return 0;
}

static int l_probe(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	probe_t *p = lua_newuserdatauv(L, sizeof *p, 0);
	memset(p, 0, sizeof *p);
	if (luaL_newmetatable(L, "flashrun.tls.probe")) {
		lua_pushcfunction(L, probe_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_getfield(L, 1, "port");
	lua_Integer port = luaL_optinteger(L, -1, 3306);
	luaL_argcheck(L, port > 0 && port < 65536, 1, "'port' must be 1..65535");
	lua_getfield(L, 1, "timeout");
	lua_Integer timeout = luaL_optinteger(L, -1, 10);
	lua_pop(L, 2);
	p->port = (int)port;
	p->timeout = timeout > 0 ? (int)timeout : 10;
	p->host = fr_opt_str(L, 1, "host", 1, "tls.probe{}");
	p->ca = fr_opt_str(L, 1, "ca", 0, "tls.probe{}");
	p->busy = 1;
	return fr_await(L, probe_work, probe_finish, p);
}

static const luaL_Reg funcs[] = {
	{ "file_mode", l_file_mode },
	{ "probe", l_probe },
	{ NULL, NULL },
};

int luaopen_flashrun_tls(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}
