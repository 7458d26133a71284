/* ssh.c — flashrun.ssh: remote commands and files over SSH (libssh2).
 *
 *   local ssh = require "flashrun.ssh"
 *   local s, err = ssh.connect{host=, port=22, user=, password=, key=, passphrase=,
 *                              auth="auto"|"agent"|"key"|"password", known_hosts=,
 *                              host_key_policy="accept-new"|"strict"|"off", timeout=10}
 *   s:run(cmd [, {stdin=, timeout=}])  -> stdout, stderr, exit_status [, signal]   (a write)
 *   s:read(cmd [, {stdin=, timeout=}]) -> the same, live under --dry-run          (a probe)
 *   s:write_file(path, content [, mode]) -> true                                  (a write, SFTP)
 *   s:close()                           -- idempotent; also __close and __gc
 *
 * Transport failures return nil, "user@host:port: message", kind (what failed: "resolve",
 * "refused", "timeout", "unreachable", "connect", "handshake", "hostkey", "auth", else
 * "transport"); a remote command that exits non-zero
 * is not a failure (its status is returned). Misuse raises. Every call that touches the network
 * goes through fr_await() so parallel() branches overlap.
 *
 * Authentication (auth="auto") goes as ssh(1) goes: the keys of the agent at SSH_AUTH_SOCK, the
 * key file `key` (PEM or OpenSSH format, decrypted with `passphrase` when encrypted; without `key`,
 * ~/.ssh/id_ed25519 and ~/.ssh/id_ecdsa), then the password; "agent", "key", "password" pin one.
 * A key file group or others may read is passed over, as OpenSSH does.
 *
 * Secrets: the password and the passphrase are used for authentication only and wiped
 * afterwards; they never appear in a message. Pass secrets to remote commands on stdin (opts.stdin), never on the command line:
 * dry-run prints the command line, and remote `ps` shows it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <lua.h>
#include <lauxlib.h>

#include "endpoint.h"
#include "scheduler.h"
#include "log.h"
#include "killpoint.h"
#include "options.h"

#define SESS_MT "flashrun.ssh.session"

enum op { OP_CONNECT, OP_RUN, OP_WRITE_FILE };
enum policy { POLICY_STRICT, POLICY_ACCEPT_NEW, POLICY_OFF };
enum auth { AUTH_AUTO, AUTH_AGENT, AUTH_KEY, AUTH_PASSWORD }; /* the order of auths[] below */

struct buf {
	char *p;
	size_t len, cap;
};

typedef struct {
	LIBSSH2_SESSION *sess; /* NULL while closed */
	int sock;
	int busy, leaked;
	char target[300];      /* user@host:port */

	/* connect parameters (malloc'd; the password and the passphrase are wiped once
	 * authentication is over) */
	char *host, *user, *password, *key, *passphrase, *known_hosts;
	char *home;            /* ~ of the user running flashrun, for the default keys */
	unsigned port;
	enum policy policy;
	enum auth auth;
	unsigned timeout;      /* seconds, connect and each blocking step of the handshake */

	/* the operation in flight */
	enum op op;
	char *cmd, *path, *in;
	size_t inlen;
	long mode;
	double run_timeout;    /* seconds, 0 = none */
	struct buf out, err_out;
	int exit_status;
	char signal[32];
	double started;        /* when the operation was handed to a worker */
	struct fr_kp kp;       /* test builds: where this write dies or holds (killpoint.h) */

	int failed, closed_after; /* closed_after: the session was torn down (timeout) */
	char added_key[200];      /* accept-new: the host key fingerprint we just trusted */
	char warn[700];           /* logged once connected: a key file that was passed over */
	char err[1024];
	const char *kind;         /* what failed, for the caller's diagnosis (push_error) */
} sess_t;

/* ---------------------------------------------------------------- helpers */

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static void free_params(sess_t *s)
{
	free(s->host);
	s->host = NULL;
	free(s->user);
	s->user = NULL;
	fr_wipe_free(&s->password);
	fr_wipe_free(&s->passphrase);
	free(s->key);
	s->key = NULL;
	free(s->known_hosts);
	s->known_hosts = NULL;
	free(s->home);
	s->home = NULL;
}

static void free_op(sess_t *s)
{
	free(s->cmd);
	s->cmd = NULL;
	free(s->path);
	s->path = NULL;
	if (s->in) { /* stdin and file content may hold secrets */
		memset(s->in, 0, s->inlen);
		free(s->in);
		s->in = NULL;
	}
	s->inlen = 0;
	buf_free(&s->out);
	buf_free(&s->err_out);
}

static void teardown(sess_t *s)
{
	if (s->sess) {
		libssh2_session_set_blocking(s->sess, 1);
		libssh2_session_set_timeout(s->sess, 2000);
		libssh2_session_disconnect(s->sess, "flashrun closing");
		libssh2_session_free(s->sess);
		s->sess = NULL;
	}
	if (s->sock >= 0) {
		close(s->sock);
		s->sock = -1;
	}
}

static void fail(sess_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(sess_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	s->failed = 1;
}

static const char *ssh_errmsg(sess_t *s)
{
	char *msg = NULL;
	if (s->sess)
		libssh2_session_last_error(s->sess, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = t[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = t[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[o++] = t[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = t[(in[i] & 3) << 4];
		}
	}
	out[o] = 0; /* OpenSSH prints SHA256 fingerprints unpadded */
}

/* ---------------------------------------------------------------- worker: connect */

/* Wait until the socket is ready in the direction libssh2 is blocked on, or a second has passed
 * (the caller then asks libssh2 again). 0 ok, -1 timed out. The cap: libssh2 may already hold,
 * read off the socket, what the caller waits for (a command's last output, its EOF), and the
 * socket then stays silent; with no deadline a poll without one waited for ever (a verify hung
 * 20 minutes on a command that had finished, 6 bytes of its output read: the fault matrix,
 * 2026-12-07, libssh2 1.10). */
static int wait_socket(sess_t *s, double deadline)
{
	struct pollfd p = {.fd = s->sock, .events = 0};
	int dir = libssh2_session_block_directions(s->sess);
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	if (!p.events)
		p.events = POLLIN;
	int ms = 1000;
	if (deadline > 0) {
		double left = deadline - fr_monotonic();
		if (left <= 0)
			return -1;
		if (left * 1000 + 1 < ms)
			ms = (int)(left * 1000) + 1;
	}
	int rc;
	do
		rc = poll(&p, 1, ms);
	while (rc < 0 && errno == EINTR);
	return rc == 0 && deadline > 0 && fr_monotonic() >= deadline ? -1 : 0;
}

static int tcp_connect(sess_t *s)
{
	char port[16];
	snprintf(port, sizeof port, "%u", s->port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc = getaddrinfo(s->host, port, &hints, &res);
	if (rc) {
		fail(s, "cannot resolve %s: %s", s->host, gai_strerror(rc));
		s->kind = "resolve";
		return -1;
	}
	int err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			s->sock = fd;
			break;
		}
		if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int n;
			do
				n = poll(&p, 1, (int)s->timeout * 1000);
			while (n < 0 && errno == EINTR);
			socklen_t l = sizeof err;
			if (n == 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
				err = errno;
			if (n > 0 && err == 0) {
				s->sock = fd;
				break;
			}
		} else {
			err = errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (s->sock < 0) {
		fail(s, "cannot connect: %s", strerror(err));
		s->kind = err == ECONNREFUSED ? "refused" : err == ETIMEDOUT ? "timeout"
			: err == EHOSTUNREACH || err == ENETUNREACH ? "unreachable" : "connect";
		return -1;
	}
	return 0;
}

static int knownhost_keybit(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
	default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

/* ---- known_hosts, as OpenSSH reads it ----
 * libssh2's own reader stops at the first line it cannot parse and knows no markers, so the file
 * is read here line by line: comments and blank lines skipped, "@cert-authority" lines (and any
 * other marker) skipped without breaking the rest, "@revoked" keys remembered (refused under
 * every policy, whatever host the line names), lines libssh2 does not understand (key types it
 * lacks) ignored as OpenSSH ignores them, the others handed to libssh2 one by one. Hashed names
 * (|1|salt|hash) and [host]:port entries are libssh2's to match. */

/* The host-key algorithms a known_hosts key type stands for, strongest first. */
static const char *key_algorithms(int keybit)
{
	switch (keybit) {
	case LIBSSH2_KNOWNHOST_KEY_ED25519: return "ssh-ed25519";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_KNOWNHOST_KEY_SSHRSA: return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
	case LIBSSH2_KNOWNHOST_KEY_SSHDSS: return "ssh-dss";
	default: return "";
	}
}

struct known {
	LIBSSH2_KNOWNHOSTS *kh; /* every line libssh2 understands */
	char **revoked;         /* base64 key blobs of @revoked lines */
	size_t nrevoked;
	int types[8];           /* key types recorded for this host and port, in file order */
	size_t ntypes;
	unsigned skipped;       /* lines neither libssh2 nor we understand */
};

static void known_free(struct known *k)
{
	if (k->kh)
		libssh2_knownhost_free(k->kh);
	for (size_t i = 0; i < k->nrevoked; i++)
		free(k->revoked[i]);
	free(k->revoked);
	memset(k, 0, sizeof *k);
}

/* The next blank-separated field of *p (advanced past it), NUL-terminated in place. */
static char *field(char **p)
{
	char *t = *p + strspn(*p, " \t");
	if (!*t)
		return NULL;
	char *e = t + strcspn(t, " \t");
	if (*e)
		*e++ = '\0';
	*p = e;
	return t;
}

/* Whether the one line names this host and port (a throwaway collection holding only it, checked
 * with a key that cannot match: MISMATCH means the name matched). Its key type into *keybit. */
static int line_matches(sess_t *s, const char *line, size_t len, int *keybit)
{
	LIBSSH2_KNOWNHOSTS *one = libssh2_knownhost_init(s->sess);
	struct libssh2_knownhost *e = NULL;
	int hit = 0;
	if (one && libssh2_knownhost_readline(one, line, len, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0 &&
	    libssh2_knownhost_get(one, &e, NULL) == 0 && e) {
		*keybit = e->typemask & LIBSSH2_KNOWNHOST_KEY_MASK;
		hit = libssh2_knownhost_checkp(one, s->host, (int)s->port, "AAAA", 4,
					       LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64,
					       NULL) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	}
	if (one)
		libssh2_knownhost_free(one);
	return hit;
}

/* Reads s->known_hosts (a missing file is an empty one). 0, or -1 after fail(). */
static int read_known_hosts(sess_t *s, struct known *k)
{
	memset(k, 0, sizeof *k);
	k->kh = libssh2_knownhost_init(s->sess);
	if (!k->kh) {
		fail(s, "cannot check the host key: %s", ssh_errmsg(s));
		return -1;
	}
	FILE *f = fopen(s->known_hosts, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		fail(s, "cannot read known_hosts file %s: %s", s->known_hosts, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		if (*p == '@') {
			char *marker = field(&p);
			if (strcmp(marker, "@revoked") == 0) {
				char *hosts = field(&p), *type = field(&p), *blob = field(&p);
				char **r = blob ? realloc(k->revoked, (k->nrevoked + 1) * sizeof *r) : NULL;
				(void)hosts, (void)type;
				if (r) {
					k->revoked = r;
					if ((r[k->nrevoked] = strdup(blob)) != NULL)
						k->nrevoked++;
				} else if (blob) {
					fail(s, "out of memory reading %s", s->known_hosts);
					break;
				}
			}
			continue; /* @cert-authority: we check no certificates; other markers: unknown */
		}
		size_t len = strlen(p);
		if (libssh2_knownhost_readline(k->kh, p, len, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
			k->skipped++;
			continue;
		}
		int keybit;
		if (line_matches(s, p, len, &keybit)) {
			size_t i = 0;
			while (i < k->ntypes && k->types[i] != keybit)
				i++;
			if (i == k->ntypes && k->ntypes < sizeof k->types / sizeof k->types[0])
				k->types[k->ntypes++] = keybit;
		}
	}
	free(line);
	fclose(f);
	return s->failed ? -1 : 0;
}

/* Host-key algorithms to offer: those of the key types known_hosts holds for this host first
 * (OpenSSH does the same), then the rest of libssh2's, so that a host recorded only with its
 * ed25519 key is not asked for an ECDSA one first and then called unknown. Certificates go:
 * they could only be checked against @cert-authority lines, which we skip. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *q = list; (q = strstr(q, name)) != NULL; q += n)
		if ((q == list || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
			return 1;
	return 0;
}

static void append_alg(char *pref, size_t size, const char *alg)
{
	size_t used = strlen(pref);
	if (!in_list(pref, alg) && used + strlen(alg) + 2 < size)
		snprintf(pref + used, size - used, "%s%s", used ? "," : "", alg);
}

static void prefer_known_types(sess_t *s, const struct known *k)
{
	const char **algs = NULL;
	int n = libssh2_session_supported_algs(s->sess, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (n <= 0)
		return;
	char pref[1024] = "";
	for (size_t t = 0; t < k->ntypes; t++) /* the recorded types, in file order */
		for (int i = 0; i < n; i++) /* in libssh2's order */
			if (in_list(key_algorithms(k->types[t]), algs[i]))
				append_alg(pref, sizeof pref, algs[i]);
	for (int i = 0; i < n; i++)
		if (!strstr(algs[i], "-cert-"))
			append_alg(pref, sizeof pref, algs[i]);
	libssh2_free(s->sess, algs);
	if (*pref)
		libssh2_session_method_pref(s->sess, LIBSSH2_METHOD_HOSTKEY, pref);
}

static int check_host_key(sess_t *s, struct known *k)
{
	size_t len;
	int type;
	const char *key = libssh2_session_hostkey(s->sess, &len, &type);
	if (!key) {
		fail(s, "no host key: %s", ssh_errmsg(s));
		return -1;
	}
	char fp[64] = "SHA256:";
	const unsigned char *h = (const unsigned char *)libssh2_hostkey_hash(s->sess, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (h)
		b64(h, 32, fp + 7);
	else
		strcpy(fp, "(unknown fingerprint)");
	char name[300]; /* how OpenSSH names a host on a non-default port */
	if (s->port == 22)
		snprintf(name, sizeof name, "%s", s->host);
	else
		snprintf(name, sizeof name, "[%s]:%u", s->host, s->port);

	/* @revoked: refused whatever the policy, off included */
	char *blob = malloc(len / 3 * 4 + 8);
	if (!blob) {
		fail(s, "out of memory");
		return -1;
	}
	b64((const unsigned char *)key, len, blob);
	size_t bl = strlen(blob);
	int revoked = 0;
	for (size_t i = 0; i < k->nrevoked && !revoked; i++)
		revoked = strncmp(k->revoked[i], blob, bl) == 0 && strspn(k->revoked[i] + bl, "=") ==
			  strlen(k->revoked[i] + bl);
	free(blob);
	if (revoked) {
		s->kind = "hostkey";
		fail(s, "host key %s of %s is marked @revoked in %s: refusing to connect under every "
			"host_key_policy", fp, name, s->known_hosts);
		return -1;
	}
	if (s->policy == POLICY_OFF)
		return 0;

	int keybit = knownhost_keybit(type);
	int rc = libssh2_knownhost_checkp(k->kh, s->host, (int)s->port, key, len,
					  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keybit,
					  NULL);
	int ret = -1;
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		s->kind = "hostkey";
		fail(s, "host key %s does not match the one recorded for %s in %s: refusing to connect "
			"(a man-in-the-middle, or the host was reinstalled: then remove the old key with "
			"ssh-keygen -R '%s' -f %s)", fp, name, s->known_hosts, name, s->known_hosts);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (s->policy == POLICY_STRICT) {
			s->kind = "hostkey";
			fail(s, "unknown host key %s: %s is not in %s%s and host_key_policy is strict "
				"(add it with ssh-keyscan -p %u %s >> %s after checking the fingerprint)",
				fp, name, s->known_hosts, k->ntypes ? " with this key type" : "", s->port,
				s->host, s->known_hosts);
			break;
		}
		/* accept-new: append one line, leaving the rest of the file untouched */
		{
			char line[8192];
			size_t out = 0;
			struct libssh2_knownhost *entry;
			if (libssh2_knownhost_addc(k->kh, name, NULL, key, len, NULL, 0,
						   LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keybit,
						   &entry) < 0 ||
			    libssh2_knownhost_writeline(k->kh, entry, line, sizeof line, &out,
							LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
				fail(s, "cannot record the host key of %s: %s", name, ssh_errmsg(s));
				break;
			}
			int fd = open(s->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
			if (fd < 0 || write(fd, line, out) != (ssize_t)out) {
				fail(s, "cannot add the host key of %s to %s: %s", name, s->known_hosts,
				     strerror(errno));
				if (fd >= 0)
					close(fd);
				break;
			}
			close(fd);
			snprintf(s->added_key, sizeof s->added_key, "%s to %s", fp, s->known_hosts);
			ret = 0;
		}
		break;
	default:
		fail(s, "cannot check the host key of %s against %s: %s", name, s->known_hosts, ssh_errmsg(s));
		break;
	}
	return ret;
}

/* keyboard-interactive with the password, for servers that only offer that */
static void kbd_callback(const char *name, int name_len, const char *instr, int instr_len,
			 int num_prompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
			 LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	sess_t *s = *abstract;
	for (int i = 0; i < num_prompts; i++) {
		responses[i].text = s->password ? strdup(s->password) : NULL;
		responses[i].length = responses[i].text ? strlen(responses[i].text) : 0;
	}
}

/* ---- authentication, in OpenSSH's order ----
 * auto: the agent's keys (SSH_AUTH_SOCK set), then the key file `key` with `passphrase` — or,
 * without `key`, ~/.ssh/id_ed25519 and ~/.ssh/id_ecdsa as ssh(1) would (its other defaults are
 * RSA and DSA keys, which this libssh2 cannot use against a current OpenSSH) — then the password
 * (or keyboard-interactive when that is all the server offers). auth = agent|key|password pins
 * one. Every failure names what the server offered and what was tried, with why each attempt
 * failed where that is known; never the password or the passphrase. */

#define TRIED_MAX 1400

static void note(char *tried, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(char *tried, const char *fmt, ...)
{
	size_t n = strlen(tried);
	if (n + 3 >= TRIED_MAX)
		return;
	if (n)
		n += (size_t)snprintf(tried + n, TRIED_MAX - n, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tried + n, TRIED_MAX - n, fmt, ap);
	va_end(ap);
}

/* What a private key file is, read as OpenSSH writes them: the key type ("ssh-ed25519",
 * "ssh-rsa", ... or "" when unknown) and whether it is encrypted (1), not (0), unknown (-1).
 * The OpenSSH format ("openssh-key-v1", PROTOCOL.key) keeps the cipher name and the public key
 * in clear ahead of the encrypted part; PEM says "ENCRYPTED" in its header. */
static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* the SSH string at *p (uint32 length, bytes) within [*p, end); NULL past the end */
static const unsigned char *sshstr(const unsigned char **p, const unsigned char *end, size_t *len)
{
	if (end - *p < 4)
		return NULL;
	size_t l = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 | (size_t)(*p)[2] << 8 | (*p)[3];
	if ((size_t)(end - *p - 4) < l)
		return NULL;
	const unsigned char *v = *p + 4;
	*p = v + l;
	*len = l;
	return v;
}

static void blob_type(const unsigned char *blob, size_t n, char *type, size_t tn)
{
	const unsigned char *p = blob;
	size_t l;
	const unsigned char *t = sshstr(&p, blob + n, &l);
	snprintf(type, tn, "%.*s", t && l < 64 ? (int)l : 0, t ? (const char *)t : "");
}

static int key_info(const char *path, char *type, size_t tn)
{
	type[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	int enc = -1;
	const char *begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
	char *b = strstr(text, begin);
	if (b) {
		unsigned char raw[2048];
		size_t r = 0;
		unsigned acc = 0;
		int bits = 0;
		for (const char *q = b + strlen(begin); *q && *q != '-' && r < sizeof raw; q++) {
			int v = b64val((unsigned char)*q);
			if (v < 0)
				continue; /* line breaks, padding */
			acc = acc << 6 | (unsigned)v;
			if ((bits += 6) >= 8) {
				bits -= 8;
				raw[r++] = (unsigned char)(acc >> bits);
			}
		}
		static const char magic[] = "openssh-key-v1"; /* with its NUL */
		const unsigned char *p = raw + sizeof magic, *end = raw + r;
		size_t cl, kl, ol, pl;
		const unsigned char *cipher;
		if (r > sizeof magic && memcmp(raw, magic, sizeof magic) == 0 &&
		    (cipher = sshstr(&p, end, &cl)) && sshstr(&p, end, &kl) && sshstr(&p, end, &ol) &&
		    end - p >= 4) {
			enc = !(cl == 4 && memcmp(cipher, "none", 4) == 0);
			p += 4; /* the number of keys */
			const unsigned char *pub = sshstr(&p, end, &pl);
			if (pub)
				blob_type(pub, pl, type, tn);
		}
	} else if (strstr(text, "-----BEGIN ")) {
		enc = strstr(text, "ENCRYPTED") != NULL;
		if (strstr(text, "-----BEGIN RSA PRIVATE KEY-----"))
			snprintf(type, tn, "ssh-rsa");
		else if (strstr(text, "-----BEGIN EC PRIVATE KEY-----"))
			snprintf(type, tn, "ecdsa");
		else if (strstr(text, "-----BEGIN DSA PRIVATE KEY-----"))
			snprintf(type, tn, "ssh-dss");
	}
	explicit_bzero(text, sizeof text);
	return enc;
}

/* OpenSSH refuses a private key file group or others may read ("UNPROTECTED PRIVATE KEY FILE",
 * sshkey_perm_ok: any of the 077 bits). 1 safe, 0 not (why says so, with the chmod), -1 absent. */
static int key_mode_ok(const char *path, char *why, size_t n)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(why, n, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(why, n, "%s is readable by group or others (mode %04o), which ssh refuses: "
			 "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		return 0;
	}
	return 1;
}

#if LIBSSH2_VERSION_NUM < 0x010b00
/* libssh2 before 1.11 signs RSA keys with ssh-rsa (SHA-1) only, never rsa-sha2-256/512 */
#define RSA_SHA1_ONLY 1
#else
#define RSA_SHA1_ONLY 0
#endif

struct auth_try {
	char tried[TRIED_MAX];
	int rsa_refused; /* an RSA key was refused by the server */
};

/* The agent's keys, one after another (libssh2's agent API reads SSH_AUTH_SOCK). 0 logged in. */
static int try_agent(sess_t *s, struct auth_try *t)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	if (!sock || !*sock) {
		if (s->auth == AUTH_AGENT)
			note(t->tried, "the agent (SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add the key)");
		return -1;
	}
	LIBSSH2_AGENT *a = libssh2_agent_init(s->sess);
	if (!a) {
		note(t->tried, "the agent (%s)", ssh_errmsg(s));
		return -1;
	}
	int ok = -1;
	if (libssh2_agent_connect(a)) {
		note(t->tried, "the agent (cannot connect to SSH_AUTH_SOCK %s: %s)", sock, ssh_errmsg(s));
	} else {
		if (libssh2_agent_list_identities(a)) {
			note(t->tried, "the agent at %s (cannot list its keys: %s)", sock, ssh_errmsg(s));
		} else {
			struct libssh2_agent_publickey *id = NULL, *prev = NULL;
			int n = 0, rsa = 0;
			while (libssh2_agent_get_identity(a, &id, prev) == 0) {
				char type[64];
				blob_type(id->blob, id->blob_len, type, sizeof type);
				n++;
				if (libssh2_agent_userauth(a, s->user, id) == 0) {
					ok = 0;
					break;
				}
				rsa += strcmp(type, "ssh-rsa") == 0;
				prev = id;
			}
			if (ok && n == 0)
				note(t->tried, "the agent at %s (it holds no key: ssh-add the key)", sock);
			else if (ok)
				note(t->tried, "the agent at %s (%d key%s, none accepted for %s)", sock, n,
				     n == 1 ? "" : "s", s->user);
			t->rsa_refused |= rsa > 0;
		}
		libssh2_agent_disconnect(a);
	}
	libssh2_agent_free(a);
	return ok;
}

/* One private key file. explicit: the configured key (else one of the defaults). 0 logged in. */
static int try_key_file(sess_t *s, struct auth_try *t, const char *path, int explicit)
{
	char why[600];
	int mode = key_mode_ok(path, why, sizeof why);
	if (mode < 0) {
		if (explicit)
			note(t->tried, "the key file: %s", why);
		return -1; /* an absent default key is no attempt */
	}
	if (mode == 0) {
		note(t->tried, "the key %s", why);
		if (!s->warn[0])
			snprintf(s->warn, sizeof s->warn, "the key %s", why);
		return -1;
	}
	char type[64];
	int enc = key_info(path, type, sizeof type);
	if (enc == 1 && !s->passphrase) {
		note(t->tried, "the key %s (encrypted, and ssh_key_passphrase is not set: set it, or load "
			       "the key into ssh-agent)", path);
		return -1;
	}
	char pub[4200];
	snprintf(pub, sizeof pub, "%s.pub", path);
	/* The public half from the .pub, else derived from the private key. Not for an encrypted key:
	 * derived, a wrong passphrase fails here as such (LIBSSH2_ERROR_FILE) before the server is
	 * asked; with the .pub, the signature callback fails afterwards, reported as a key the server
	 * did not accept (-19). */
	const char *pubp = enc != 1 && access(pub, R_OK) == 0 ? pub : NULL;
	int rc = libssh2_userauth_publickey_fromfile(s->sess, s->user, pubp, path,
						     enc == 1 ? s->passphrase : NULL);
	if (rc == 0)
		return 0;
	if (rc == LIBSSH2_ERROR_FILE && enc == 1)
		note(t->tried, "the key %s (it cannot be decrypted with ssh_key_passphrase: a wrong "
			       "passphrase)", path);
	else if (rc == LIBSSH2_ERROR_FILE)
		note(t->tried, "the key %s (unreadable: %s)", path, ssh_errmsg(s));
	else {
		int rsa = strcmp(type, "ssh-rsa") == 0;
		t->rsa_refused |= rsa;
		note(t->tried, "the key %s (%s%snot accepted for %s)", path, type[0] ? type : "",
		     type[0] ? ", " : "", s->user);
	}
	return -1;
}

static int try_keys(sess_t *s, struct auth_try *t)
{
	if (s->key)
		return try_key_file(s, t, s->key, 1);
	static const char *const defaults[] = {"id_ed25519", "id_ecdsa"};
	const char *home = s->home;
	size_t before = strlen(t->tried);
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/.ssh/%s", home, defaults[i]);
		if (try_key_file(s, t, path, 0) == 0)
			return 0;
	}
	if (s->auth == AUTH_KEY && strlen(t->tried) == before)
		note(t->tried, "the default keys (neither %s/.ssh/id_ed25519 nor id_ecdsa exists, and "
			       "ssh_key is not set)", home);
	return -1;
}

static int try_password(sess_t *s, struct auth_try *t, const char *offered)
{
	if (!s->password) {
		if (s->auth == AUTH_PASSWORD)
			note(t->tried, "a password (sys_password is not set)");
		return -1;
	}
	if (in_list(offered, "password")) {
		if (libssh2_userauth_password(s->sess, s->user, s->password) == 0)
			return 0;
		note(t->tried, "the password (refused)");
	} else if (in_list(offered, "keyboard-interactive")) {
		if (libssh2_userauth_keyboard_interactive(s->sess, s->user, kbd_callback) == 0)
			return 0;
		note(t->tried, "the password by keyboard-interactive (refused)");
	} else {
		note(t->tried, "not the password (the server does not take one)");
	}
	return -1;
}

static int authenticate(sess_t *s)
{
	static const char *const names[] = {"auto", "agent", "key", "password"};
	const char *list = libssh2_userauth_list(s->sess, s->user, strlen(s->user));
	if (!list) {
		if (libssh2_userauth_authenticated(s->sess))
			return 0; /* "none" was accepted */
		fail(s, "authentication as %s failed: %s", s->user, ssh_errmsg(s));
		s->kind = "auth";
		return -1;
	}
	char offered[200];
	snprintf(offered, sizeof offered, "%s", list); /* the list lives in the session */
	struct auth_try t = {.tried = "", .rsa_refused = 0};
	int pk = in_list(offered, "publickey");
	if (pk && (s->auth == AUTH_AUTO || s->auth == AUTH_AGENT) && try_agent(s, &t) == 0)
		return 0;
	if (pk && (s->auth == AUTH_AUTO || s->auth == AUTH_KEY) && try_keys(s, &t) == 0)
		return 0;
	if ((s->auth == AUTH_AUTO || s->auth == AUTH_PASSWORD) && try_password(s, &t, offered) == 0)
		return 0;
	if (!pk && (s->auth == AUTH_AGENT || s->auth == AUTH_KEY))
		note(t.tried, "no key (the server does not take one)");
	s->kind = "auth";
	char pinned[64] = "";
	if (s->auth != AUTH_AUTO)
		snprintf(pinned, sizeof pinned, " (ssh_auth = %s)", names[s->auth]);
	fail(s, "authentication as %s failed%s: the server offers %s; tried %s%s", s->user, pinned,
	     offered, *t.tried ? t.tried : "nothing (SSH_AUTH_SOCK is not set, no ssh_key, no "
					   "~/.ssh/id_ed25519 or id_ecdsa, no sys_password)",
	     RSA_SHA1_ONLY && t.rsa_refused
		     ? ". An RSA key was refused: this libssh2 (" LIBSSH2_VERSION ") signs RSA keys with "
		       "ssh-rsa (SHA-1) only, which OpenSSH 8.8 and later refuse by default: use an "
		       "ed25519 or ECDSA key"
		     : "");
	return -1;
}

static void do_connect(sess_t *s)
{
	if (tcp_connect(s))
		return;
	s->sess = libssh2_session_init_ex(NULL, NULL, NULL, s);
	if (!s->sess) {
		fail(s, "cannot create an SSH session");
		return;
	}
	libssh2_session_set_blocking(s->sess, 1);
	libssh2_session_set_timeout(s->sess, (long)s->timeout * 1000);
	struct known k;
	if (read_known_hosts(s, &k) == 0) {
		prefer_known_types(s, &k);
		if (libssh2_session_handshake(s->sess, s->sock)) {
			fail(s, "SSH handshake failed: %s", ssh_errmsg(s));
			s->kind = "handshake";
		} else if (check_host_key(s, &k) == 0)
			authenticate(s);
	}
	known_free(&k);
}

/* ---------------------------------------------------------------- worker: run */

#define AGAIN(rc) ((rc) == LIBSSH2_ERROR_EAGAIN)

static void do_run(sess_t *s)
{
	double deadline = s->run_timeout > 0 ? fr_monotonic() + s->run_timeout : 0;
	LIBSSH2_SESSION *ss = s->sess;
	LIBSSH2_CHANNEL *ch;
	int rc;
	libssh2_session_set_blocking(ss, 0);
	while (!(ch = libssh2_channel_open_session(ss))) {
		if (libssh2_session_last_errno(ss) != LIBSSH2_ERROR_EAGAIN) {
			fail(s, "cannot open a channel: %s", ssh_errmsg(s));
			goto out;
		}
		if (wait_socket(s, deadline))
			goto timeout;
	}
	while (AGAIN(rc = libssh2_channel_exec(ch, s->cmd)))
		if (wait_socket(s, deadline))
			goto timeout;
	if (rc) {
		fail(s, "cannot start the command: %s", ssh_errmsg(s));
		goto close;
	}
	/* Feed stdin and drain stdout and stderr in one loop: the remote side may fill one pipe
	 * while we wait on another. */
	size_t sent = 0;
	int eof_sent = 0;
	char chunk[32768];
	for (;;) {
		int progress = 0;
		if (sent < s->inlen) {
			ssize_t n = libssh2_channel_write(ch, s->in + sent, s->inlen - sent);
			if (n > 0) {
				sent += n;
				progress = 1;
			} else if (!AGAIN(n)) {
				fail(s, "cannot write the command's stdin: %s", ssh_errmsg(s));
				goto close;
			}
		} else if (!eof_sent) {
			rc = libssh2_channel_send_eof(ch);
			if (rc == 0) {
				eof_sent = 1;
				progress = 1;
				fr_kp_reach(s->kp, FR_KP_BEFORE_REPLY); /* the command has all it gets */
			} else if (!AGAIN(rc)) {
				fail(s, "cannot close the command's stdin: %s", ssh_errmsg(s));
				goto close;
			}
		}
		ssize_t n = libssh2_channel_read(ch, chunk, sizeof chunk);
		if (n > 0) {
			if (buf_add(&s->out, chunk, n)) {
				fail(s, "out of memory reading the command's output");
				goto close;
			}
			progress = 1;
		} else if (n < 0 && !AGAIN(n)) {
			fail(s, "cannot read the command's output: %s", ssh_errmsg(s));
			goto close;
		}
		ssize_t e = libssh2_channel_read_stderr(ch, chunk, sizeof chunk);
		if (e > 0) {
			if (buf_add(&s->err_out, chunk, e)) {
				fail(s, "out of memory reading the command's output");
				goto close;
			}
			progress = 1;
		} else if (e < 0 && !AGAIN(e)) {
			fail(s, "cannot read the command's stderr: %s", ssh_errmsg(s));
			goto close;
		}
		if (n == 0 && e == 0 && libssh2_channel_eof(ch))
			break;
		/* The EOF may have been read off the socket by the stderr read after the stdout read
		 * said EAGAIN: the socket stays silent from then on, so go round instead of waiting. */
		if (!progress && !libssh2_channel_eof(ch) && wait_socket(s, deadline))
			goto timeout;
	}
close:
	while (AGAIN(rc = libssh2_channel_close(ch)))
		if (wait_socket(s, deadline))
			goto timeout;
	while (AGAIN(rc = libssh2_channel_wait_closed(ch)))
		if (wait_socket(s, deadline))
			goto timeout;
	if (!s->failed) {
		s->exit_status = libssh2_channel_get_exit_status(ch);
		char *sig = NULL;
		size_t siglen = 0;
		libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
		if (sig) {
			snprintf(s->signal, sizeof s->signal, "%.*s", (int)siglen, sig);
			s->exit_status = 255; /* like ssh(1) when the remote command was killed */
			libssh2_free(ss, sig);
		}
	}
	while (AGAIN(libssh2_channel_free(ch)))
		if (wait_socket(s, deadline))
			goto timeout;
	goto out;
timeout:
	fail(s, "the command did not finish within %g s; the session was closed", s->run_timeout);
	/* The channel is mid-flight: the only clean way out is to drop the connection
	 * (sshd then hangs up on the command). */
	teardown(s);
	s->closed_after = 1;
	return;
out:
	libssh2_session_set_blocking(ss, 1);
}

/* ---------------------------------------------------------------- worker: write_file */

static void do_write_file(sess_t *s)
{
	LIBSSH2_SESSION *ss = s->sess;
	libssh2_session_set_blocking(ss, 1);
	LIBSSH2_SFTP *sftp = libssh2_sftp_init(ss);
	if (!sftp) {
		fail(s, "cannot start SFTP (is the sftp subsystem enabled?): %s", ssh_errmsg(s));
		return;
	}
	/* Create with the final mode so the content is never readable by others, even briefly. */
	LIBSSH2_SFTP_HANDLE *fh = libssh2_sftp_open(sftp, s->path,
						    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
						    s->mode);
	if (!fh) {
		fail(s, "cannot open %s for writing: SFTP error %lu", s->path, libssh2_sftp_last_error(sftp));
		goto out;
	}
	LIBSSH2_SFTP_ATTRIBUTES a = {.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS, .permissions = s->mode};
	if (libssh2_sftp_fsetstat(fh, &a)) { /* an existing file keeps its mode otherwise */
		fail(s, "cannot set the mode of %s to %04lo: SFTP error %lu", s->path, s->mode,
		     libssh2_sftp_last_error(sftp));
		goto close;
	}
	size_t off = 0;
	while (off < s->inlen) {
		ssize_t n = libssh2_sftp_write(fh, s->in + off, s->inlen - off);
		if (n < 0) {
			fail(s, "cannot write %s: SFTP error %lu", s->path, libssh2_sftp_last_error(sftp));
			goto close;
		}
		off += n;
	}
	fr_kp_reach(s->kp, FR_KP_BEFORE_REPLY);
close:
	if (libssh2_sftp_close(fh) && !s->failed)
		fail(s, "cannot close %s: SFTP error %lu", s->path, libssh2_sftp_last_error(sftp));
out:
	libssh2_sftp_shutdown(sftp);
}

static void work(void *job)
{
	sess_t *s = job;
	s->failed = 0;
	s->err[0] = 0;
	s->kind = NULL;
	switch (s->op) {
	case OP_CONNECT: do_connect(s); break;
	case OP_RUN: do_run(s); break;
	case OP_WRITE_FILE: do_write_file(s); break;
	}
	fr_kp_reach(s->kp, FR_KP_AFTER);
}

/* ---------------------------------------------------------------- Lua side */

static int push_error(lua_State *L, sess_t *s)
{
	char buf[1400];
	snprintf(buf, sizeof buf, "%s: %s", s->target, s->err);
	lua_pushnil(L);
	fr_push_masked(L, buf);
	lua_pushstring(L, s->kind ? s->kind : "transport");
	return 3;
}

static int finish(lua_State *L, void *job)
{
	sess_t *s = job;
	s->busy = 0;
	switch (s->op) {
	case OP_CONNECT:
		fr_wipe_free(&s->password);
		fr_wipe_free(&s->passphrase);
		fr_log(FR_DEBUG, "ssh %s (%.2f s): connect%s", s->target, fr_monotonic() - s->started,
		       s->failed ? " failed" : "");
		if (s->failed) {
			teardown(s);
			free_params(s);
			return push_error(L, s);
		}
		if (s->added_key[0])
			fr_log(FR_INFO, "%s: new host key, added %s", s->target, s->added_key);
		if (s->warn[0])
			fr_log(FR_WARN, "%s: logged in, but %s", s->target, s->warn);
		free_params(s);
		lua_pushvalue(L, 1);
		return 1;
	case OP_RUN:
		if (s->failed) {
			free_op(s);
			return push_error(L, s);
		}
		/* -v shows where a plan spends its time */
		fr_log(FR_DEBUG, "ssh %s (%.2f s, exit %d): %s", s->target, fr_monotonic() - s->started,
		       s->exit_status, s->cmd);
		/* may raise (memory): the buffers stay in the handle and are freed later */
		lua_pushlstring(L, s->out.p ? s->out.p : "", s->out.len);
		lua_pushlstring(L, s->err_out.p ? s->err_out.p : "", s->err_out.len);
		lua_pushinteger(L, s->exit_status);
		int n = 3;
		if (s->signal[0]) {
			lua_pushstring(L, s->signal);
			n = 4;
		}
		free_op(s);
		return n;
	case OP_WRITE_FILE:
		free_op(s);
		if (s->failed)
			return push_error(L, s);
		lua_pushboolean(L, 1);
		return 1;
	}
	return 0;
}

static sess_t *tosess(lua_State *L)
{
	sess_t *s = luaL_checkudata(L, 1, SESS_MT);
	if (s->busy)
		luaL_error(L, "ssh session %s is in use by another coroutine", s->target);
	if (!s->sess)
		luaL_error(L, "attempt to use a closed ssh session%s",
			   s->closed_after ? " (it was closed after a command timed out)" : "");
	return s;
}

/* ssh.connect{...} -> session | nil, err */
static int l_connect(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	/* Closed handle first: a failure half-way leaves nothing to clean up by hand. */
	sess_t *s = lua_newuserdatauv(L, sizeof *s, 0);
	memset(s, 0, sizeof *s);
	s->sock = -1;
	luaL_setmetatable(L, SESS_MT);
	lua_insert(L, 1); /* [1] handle, [2] options */

	s->host = fr_opt_str(L, 2, "host", 1, "ssh{}");
	s->user = fr_opt_str(L, 2, "user", 1, "ssh{}");
	s->key = fr_opt_str(L, 2, "key", 0, "ssh{}");
	s->known_hosts = fr_opt_str(L, 2, "known_hosts", 0, "ssh{}");
	lua_Integer port = 22;
	if (lua_getfield(L, 2, "port") != LUA_TNIL) {
		int ok;
		port = lua_tointegerx(L, -1, &ok);
		luaL_argcheck(L, ok && fr_port_valid(port), 1, "'port' must be an integer 1..65535");
	}
	lua_pop(L, 1);
	s->port = (unsigned)port;
	s->timeout = 10;
	if (lua_getfield(L, 2, "timeout") != LUA_TNIL) {
		lua_Number t = lua_tonumber(L, -1);
		luaL_argcheck(L, t > 0 && t < 86400, 1, "'timeout' must be a positive number of seconds");
		s->timeout = (unsigned)(t + 0.999);
	}
	lua_pop(L, 1);
	static const char *const policies[] = {"strict", "accept-new", "off", NULL};
	lua_getfield(L, 2, "host_key_policy");
	s->policy = (enum policy)luaL_checkoption(L, -1, "accept-new", policies);
	lua_pop(L, 1);
	{
		/* ~ as OpenSSH finds it: $HOME, else the user's /etc/passwd entry (a cron job or a
		 * `chroot`/`env -i` run has no HOME); getpwuid reads /etc/passwd alone in the static
		 * build (runtime/main.c), never a host's NSS module. Read here, on the Lua thread
		 * (getpwuid is not thread-safe): the default keys are looked for there by the worker. */
		const char *home = getenv("HOME");
		if (home == NULL || *home == '\0') {
			struct passwd *pw = getpwuid(getuid());
			home = pw != NULL && pw->pw_dir != NULL && *pw->pw_dir ? pw->pw_dir : "/root";
		}
		s->home = strdup(home);
		if (!s->known_hosts && s->home) {
			char buf[4096];
			snprintf(buf, sizeof buf, "%s/.ssh/known_hosts", s->home);
			s->known_hosts = strdup(buf);
		}
	}
	static const char *const auths[] = {"auto", "agent", "key", "password", NULL};
	lua_getfield(L, 2, "auth");
	s->auth = (enum auth)luaL_checkoption(L, -1, "auto", auths);
	lua_pop(L, 1);
	/* last: nothing below raises (a raise would leave them to __gc, unwiped until then) */
	s->password = fr_opt_str(L, 2, "password", 0, "ssh{}");
	s->passphrase = fr_opt_str(L, 2, "passphrase", 0, "ssh{}");
	snprintf(s->target, sizeof s->target, "%s@%s:%u", s->user, s->host, s->port);
	if (!s->host || !s->user || !s->known_hosts || !s->home) {
		free_params(s);
		return luaL_error(L, "out of memory");
	}
	lua_settop(L, 1);
	s->op = OP_CONNECT;
	s->busy = 1;
	s->started = fr_monotonic();
	return fr_await(L, work, finish, s);
}

static int start_run(lua_State *L, int is_write)
{
	sess_t *s = tosess(L);
	size_t cmdlen, inlen = 0;
	const char *cmd = luaL_checklstring(L, 2, &cmdlen);
	luaL_argcheck(L, strlen(cmd) == cmdlen, 2, "command contains a NUL byte");
	const char *in = NULL;
	double timeout = 0;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "stdin") != LUA_TNIL) {
			luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 3, "'stdin' must be a string");
			in = lua_tolstring(L, -1, &inlen); /* stays on the stack until copied */
		}
		if (lua_getfield(L, 3, "timeout") != LUA_TNIL) {
			timeout = lua_tonumber(L, -1);
			luaL_argcheck(L, timeout > 0, 3, "'timeout' must be a positive number of seconds");
		}
		lua_pop(L, 1);
	}
	if (is_write && fr_dry_run()) {
		if (in) {
			/* never the content: stdin is where secrets go */
			char *t = malloc(cmdlen + 64);
			if (!t)
				return luaL_error(L, "out of memory");
			sprintf(t, "%s <<stdin (%zu bytes)", cmd, inlen);
			fr_record("ssh", s->target, t);
			free(t);
		} else {
			fr_record("ssh", s->target, cmd);
		}
		lua_pushliteral(L, "");
		lua_pushliteral(L, "");
		lua_pushinteger(L, 0);
		return 3;
	}
	free_op(s);
	s->kp = is_write ? fr_kp_write("ssh", s->target, cmd) : (struct fr_kp){ FR_KP_NONE, FR_KP_NONE };
	s->cmd = strdup(cmd);
	if (in) {
		s->in = malloc(inlen ? inlen : 1);
		if (s->in) {
			memcpy(s->in, in, inlen);
			s->inlen = inlen;
		}
	}
	if (!s->cmd || (in && !s->in)) {
		free_op(s);
		return luaL_error(L, "out of memory");
	}
	s->run_timeout = timeout;
	s->exit_status = 0;
	s->signal[0] = 0;
	lua_settop(L, 1);
	s->op = OP_RUN;
	s->busy = 1;
	s->started = fr_monotonic();
	return fr_await(L, work, finish, s);
}

static int l_run(lua_State *L) { return start_run(L, 1); }
static int l_read(lua_State *L) { return start_run(L, 0); }

/* s:write_file(path, content [, mode=0600]) -> true | nil, err */
static int l_write_file(lua_State *L)
{
	sess_t *s = tosess(L);
	size_t plen, clen;
	const char *path = luaL_checklstring(L, 2, &plen);
	const char *content = luaL_checklstring(L, 3, &clen);
	lua_Integer mode = luaL_optinteger(L, 4, 0600);
	luaL_argcheck(L, plen > 0 && strlen(path) == plen, 2, "path must be a non-empty string without NUL");
	luaL_argcheck(L, mode >= 0 && mode <= 07777, 4, "mode must be 0..07777 (e.g. tonumber('640', 8))");
	if (fr_dry_run()) {
		char t[4300];
		snprintf(t, sizeof t, "write_file %s (%zu bytes, mode %04o)", path, clen, (unsigned)mode);
		fr_record("ssh", s->target, t);
		lua_pushboolean(L, 1);
		return 1;
	}
	free_op(s);
	{
		char t[4300];
		snprintf(t, sizeof t, "write_file %s (%zu bytes)", path, clen);
		s->kp = fr_kp_write("ssh", s->target, t);
	}
	s->path = strdup(path);
	s->in = malloc(clen ? clen : 1);
	if (!s->path || !s->in) {
		free_op(s);
		return luaL_error(L, "out of memory");
	}
	memcpy(s->in, content, clen);
	s->inlen = clen;
	s->mode = (long)mode;
	lua_settop(L, 1);
	s->op = OP_WRITE_FILE;
	s->busy = 1;
	return fr_await(L, work, finish, s);
}

static int l_close(lua_State *L)
{
	sess_t *s = luaL_checkudata(L, 1, SESS_MT);
	if (s->busy)
		return luaL_error(L, "cannot close ssh session %s: in use by another coroutine", s->target);
	free_op(s);
	free_params(s);
	teardown(s);
	return 0;
}

/* __gc and __close: never raise; a handle collected while its worker still runs is left to it. */
static int l_gc(lua_State *L)
{
	sess_t *s = luaL_checkudata(L, 1, SESS_MT);
	if (s->busy) {
		s->leaked = 1;
		return 0;
	}
	return l_close(L);
}

/* s:is_open() -> false once closed (by close, or by a command that timed out) */
static int l_is_open(lua_State *L)
{
	sess_t *s = luaL_checkudata(L, 1, SESS_MT);
	lua_pushboolean(L, s->sess != NULL);
	return 1;
}

static int l_tostring(lua_State *L)
{
	sess_t *s = luaL_checkudata(L, 1, SESS_MT);
	lua_pushfstring(L, "ssh session %s (%s)", s->target, s->sess ? "open" : "closed");
	return 1;
}

static const luaL_Reg funcs[] = {
	{"connect", l_connect},
	{NULL, NULL},
};

static const luaL_Reg methods[] = {
	{"run", l_run},
	{"read", l_read},
	{"write_file", l_write_file},
	{"close", l_close},
	{"is_open", l_is_open},
	{NULL, NULL},
};

static const luaL_Reg metamethods[] = {
	{"__index", NULL},
	{"__gc", l_gc},
	{"__close", l_gc},
	{"__tostring", l_tostring},
	{NULL, NULL},
};

int luaopen_flashrun_ssh(lua_State *L)
{
	static int inited;
	if (!inited) { /* not thread-safe: once, on the Lua thread */
		if (libssh2_init(0))
			return luaL_error(L, "cannot initialise libssh2");
		inited = 1;
	}
	luaL_newmetatable(L, SESS_MT);
	luaL_setfuncs(L, metamethods, 0);
	luaL_newlibtable(L, methods);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	/* ssh.libssh2_version: the library's version, as it says (what it can sign with depends on
	 * it: rsa-sha2 from 1.11). */
	lua_pushstring(L, libssh2_version(0));
	lua_setfield(L, -2, "libssh2_version");
	return 1;
}
