/* MySQL protocol encoding for dbscale-emu. See mysqlproto.h. */
#include "mysqlproto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- buffers ------------------------------------------------------------------------------ */

void mp_buf_free(mp_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void mp_put(mp_buf *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) abort(); /* the emulator is a test tool: out of memory is fatal */
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, data, n);
  b->len += n;
}

void mp_put_u8(mp_buf *b, unsigned v) {
  unsigned char c = (unsigned char)v;
  mp_put(b, &c, 1);
}
void mp_put_u16(mp_buf *b, unsigned v) {
  unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
  mp_put(b, c, 2);
}
void mp_put_u32(mp_buf *b, uint32_t v) {
  unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  mp_put(b, c, 4);
}
void mp_put_lenenc(mp_buf *b, uint64_t v) {
  if (v < 251) {
    mp_put_u8(b, (unsigned)v);
  } else if (v < 65536) {
    mp_put_u8(b, 0xfc);
    mp_put_u16(b, (unsigned)v);
  } else if (v < 16777216) {
    unsigned char c[4] = {0xfd, (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16)};
    mp_put(b, c, 4);
  } else {
    mp_put_u8(b, 0xfe);
    mp_put_u32(b, (uint32_t)v);
    mp_put_u32(b, (uint32_t)(v >> 32));
  }
}
void mp_put_lenstr(mp_buf *b, const char *s, size_t n) {
  mp_put_lenenc(b, n);
  mp_put(b, s, n);
}
void mp_put_cstr(mp_buf *b, const char *s) { mp_put(b, s, strlen(s) + 1); }

/* ---- framing ------------------------------------------------------------------------------ */

/* Reads and writes go through TLS once the connection has it (c->ssl). */
static int read_full(mp_conn *c, void *buf, size_t n) {
  unsigned char *p = buf;
  int fd = c->fd;
  while (n) {
    if (c->ssl) {
      int r = SSL_read(c->ssl, p, n > 1u << 30 ? 1 << 30 : (int)n);
      if (r <= 0) return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? MP_EOF : MP_IOERR;
      p += r;
      n -= (size_t)r;
      continue;
    }
    ssize_t r = recv(fd, p, n, 0);
    if (r == 0) return MP_EOF;
    if (r < 0) {
      if (errno == EINTR) continue;
      return MP_IOERR;
    }
    p += r;
    n -= (size_t)r;
  }
  return MP_OK;
}

static int write_full(mp_conn *c, const void *buf, size_t n) {
  const unsigned char *p = buf;
  int fd = c->fd;
  while (n) {
    if (c->ssl) {
      int r = SSL_write(c->ssl, p, n > 1u << 30 ? 1 << 30 : (int)n);
      if (r <= 0) return MP_IOERR;
      p += r;
      n -= (size_t)r;
      continue;
    }
    ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR) continue;
      return MP_IOERR;
    }
    p += r;
    n -= (size_t)r;
  }
  return MP_OK;
}

int mp_read(mp_conn *c, unsigned char **out, size_t *len) {
  unsigned char *data = NULL;
  size_t total = 0;
  *out = NULL;
  *len = 0;
  for (;;) {
    unsigned char h[4];
    int rc = read_full(c, h, 4);
    if (rc) {
      free(data);
      return rc;
    }
    size_t n = (size_t)h[0] | ((size_t)h[1] << 8) | ((size_t)h[2] << 16);
    c->seq = (uint8_t)(h[3] + 1);
    if (total + n > MP_MAX_PAYLOAD) {
      free(data);
      return MP_TOOBIG;
    }
    unsigned char *p = realloc(data, total + n + 1);
    if (!p) {
      free(data);
      return MP_TOOBIG;
    }
    data = p;
    rc = read_full(c, data + total, n);
    if (rc) {
      free(data);
      return rc;
    }
    total += n;
    if (n < 0xffffff) break;
  }
  if (!data) data = malloc(1);
  data[total] = 0; /* convenient for text, not part of the payload */
  *out = data;
  *len = total;
  return MP_OK;
}

int mp_write(mp_conn *c, const void *payload, size_t len) {
  const unsigned char *p = payload;
  for (;;) {
    size_t n = len > 0xffffff ? 0xffffff : len;
    unsigned char h[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16), c->seq++};
    if (write_full(c, h, 4) || write_full(c, p, n)) return MP_IOERR;
    p += n;
    len -= n;
    if (n < 0xffffff) return MP_OK; /* a full chunk must be followed by another, maybe empty */
  }
}

/* ---- generic packets ---------------------------------------------------------------------- */

static int send_buf(mp_conn *c, mp_buf *b) {
  int rc = mp_write(c, b->p, b->len);
  mp_buf_free(b);
  return rc;
}

int mp_send_ok(mp_conn *c, uint64_t affected, uint64_t insert_id, unsigned status, unsigned warnings,
               const char *info) {
  mp_buf b = {0};
  mp_put_u8(&b, 0);
  mp_put_lenenc(&b, affected);
  mp_put_lenenc(&b, insert_id);
  mp_put_u16(&b, status);
  mp_put_u16(&b, warnings);
  /* Both libmysqlclient and Connector/C read the info as a length-encoded string. */
  if (info && *info) mp_put_lenstr(&b, info, strlen(info));
  return send_buf(c, &b);
}

int mp_send_err(mp_conn *c, unsigned code, const char *sqlstate, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mp_buf b = {0};
  mp_put_u8(&b, 0xff);
  mp_put_u16(&b, code);
  mp_put_u8(&b, '#');
  char st[6] = "HY000";
  if (sqlstate && strlen(sqlstate) == 5) memcpy(st, sqlstate, 5);
  mp_put(&b, st, 5);
  mp_put(&b, msg, strlen(msg));
  return send_buf(c, &b);
}

int mp_send_eof(mp_conn *c, unsigned status) {
  mp_buf b = {0};
  mp_put_u8(&b, 0xfe);
  mp_put_u16(&b, 0);
  mp_put_u16(&b, status);
  return send_buf(c, &b);
}

static void put_str0(mp_buf *b, const char *s) { mp_put_lenstr(b, s ? s : "", s ? strlen(s) : 0); }

int mp_send_header(mp_conn *c, const mp_column *cols, size_t ncols) {
  mp_buf b = {0};
  mp_put_lenenc(&b, ncols);
  if (send_buf(c, &b)) return MP_IOERR;
  for (size_t i = 0; i < ncols; i++) {
    const mp_column *k = &cols[i];
    put_str0(&b, "def");
    put_str0(&b, k->db);
    put_str0(&b, k->table);
    put_str0(&b, k->org_table);
    put_str0(&b, k->name);
    put_str0(&b, k->org_name ? k->org_name : k->name);
    mp_put_u8(&b, 0x0c);
    mp_put_u16(&b, k->charset ? k->charset : 255);
    mp_put_u32(&b, k->length ? k->length : 1024);
    mp_put_u8(&b, k->type ? k->type : 253);
    mp_put_u16(&b, k->flags);
    mp_put_u8(&b, k->decimals);
    mp_put_u16(&b, 0);
    if (send_buf(c, &b)) return MP_IOERR;
  }
  return mp_send_eof(c, 2);
}

int mp_send_row(mp_conn *c, const char *const *values, const unsigned long *lens, size_t n) {
  mp_buf b = {0};
  for (size_t i = 0; i < n; i++) {
    if (!values[i])
      mp_put_u8(&b, 0xfb);
    else
      mp_put_lenstr(&b, values[i], lens ? lens[i] : strlen(values[i]));
  }
  if (!b.len) mp_put(&b, "", 0);
  return send_buf(c, &b);
}

int mp_send_strings(mp_conn *c, const char *const *names, size_t ncols, const char *const *cells,
                    size_t nrows) {
  mp_column cols[32];
  if (ncols > 32) return MP_IOERR;
  memset(cols, 0, sizeof cols);
  for (size_t i = 0; i < ncols; i++) cols[i].name = names[i];
  if (mp_send_header(c, cols, ncols)) return MP_IOERR;
  for (size_t r = 0; r < nrows; r++)
    if (mp_send_row(c, cells + r * ncols, NULL, ncols)) return MP_IOERR;
  return mp_send_eof(c, 2);
}

/* ---- authentication ----------------------------------------------------------------------- */

static void digest(const char *alg, const void *a, size_t an, const void *b, size_t bn,
                   unsigned char *out) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_get_digestbyname(alg), NULL);
  EVP_DigestUpdate(ctx, a, an);
  if (b) EVP_DigestUpdate(ctx, b, bn);
  EVP_DigestFinal_ex(ctx, out, NULL);
  EVP_MD_CTX_free(ctx);
}

static int const_eq(const unsigned char *a, const unsigned char *b, size_t n) {
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++) d |= a[i] ^ b[i];
  return d == 0;
}

/* resp == XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) || nonce)) */
int mp_check_caching_sha2(const char *password, const unsigned char *nonce, const unsigned char *resp,
                          size_t resp_len) {
  if (!*password) return resp_len == 0 || (resp_len == 1 && resp[0] == 0);
  if (resp_len != 32) return 0;
  unsigned char h1[32], h2[32], h3[32], want[32];
  digest("SHA256", password, strlen(password), NULL, 0, h1);
  digest("SHA256", h1, 32, NULL, 0, h2);
  digest("SHA256", h2, 32, nonce, MP_SCRAMBLE_LEN, h3);
  for (int i = 0; i < 32; i++) want[i] = h1[i] ^ h3[i];
  return const_eq(want, resp, 32);
}

/* resp == XOR(SHA1(pw), SHA1(nonce || SHA1(SHA1(pw)))) */
int mp_check_native(const char *password, const unsigned char *nonce, const unsigned char *resp,
                    size_t resp_len) {
  if (!*password) return resp_len == 0;
  if (resp_len != 20) return 0;
  unsigned char h1[20], h2[20], h3[20], want[20];
  digest("SHA1", password, strlen(password), NULL, 0, h1);
  digest("SHA1", h1, 20, NULL, 0, h2);
  digest("SHA1", nonce, MP_SCRAMBLE_LEN, h2, 20, h3);
  for (int i = 0; i < 20; i++) want[i] = h1[i] ^ h3[i];
  return const_eq(want, resp, 20);
}

void mp_random(unsigned char *out, size_t n) {
  if (RAND_bytes(out, (int)n) != 1)
    for (size_t i = 0; i < n; i++) out[i] = (unsigned char)rand();
  for (size_t i = 0; i < n; i++) {
    out[i] = (unsigned char)(out[i] & 0x7f);
    if (out[i] == 0 || out[i] == '$') out[i] = 'x';
  }
}
