/* The server side of the MySQL client/server protocol, as much as the router emulator needs:
 * packet framing, the v10 greeting, scramble checks and the OK/ERR/result-set encoders. */
#ifndef DBSCALE_EMU_MYSQLPROTO_H
#define DBSCALE_EMU_MYSQLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define MP_MAX_PAYLOAD (64u * 1024u * 1024u) /* a client packet larger than this is refused */
#define MP_SCRAMBLE_LEN 20

enum { MP_OK = 0, MP_EOF = -1, MP_TOOBIG = -2, MP_IOERR = -3 };

/* Growable byte buffer used for building payloads. */
typedef struct {
  unsigned char *p;
  size_t len, cap;
} mp_buf;

void mp_buf_free(mp_buf *b);
void mp_put(mp_buf *b, const void *data, size_t n);
void mp_put_u8(mp_buf *b, unsigned v);
void mp_put_u16(mp_buf *b, unsigned v);
void mp_put_u32(mp_buf *b, uint32_t v);
void mp_put_lenenc(mp_buf *b, uint64_t v);
void mp_put_lenstr(mp_buf *b, const char *s, size_t n);
void mp_put_cstr(mp_buf *b, const char *s); /* NUL-terminated */

typedef struct {
  int fd;
  uint8_t seq;
  unsigned client_caps;
  void *ssl; /* an OpenSSL SSL* once the client asked for TLS (the SSL request); NULL: plain */
} mp_conn;

/* Reads one logical packet (joining 16 MiB continuation packets). *out is malloc'ed. */
int mp_read(mp_conn *c, unsigned char **out, size_t *len);
/* Writes one logical packet, splitting it into 16 MiB chunks as the protocol requires. */
int mp_write(mp_conn *c, const void *payload, size_t len);

int mp_send_ok(mp_conn *c, uint64_t affected, uint64_t insert_id, unsigned status, unsigned warnings,
               const char *info);
int mp_send_err(mp_conn *c, unsigned code, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mp_send_eof(mp_conn *c, unsigned status);

/* Result set helpers: a column definition with a name and MySQL type (253 = VAR_STRING). */
typedef struct {
  const char *name, *org_name, *table, *org_table, *db;
  unsigned charset;
  uint32_t length;
  unsigned type, flags, decimals;
} mp_column;
int mp_send_header(mp_conn *c, const mp_column *cols, size_t ncols);
/* A text row: values[i] == NULL is SQL NULL. lens may be NULL (strlen). */
int mp_send_row(mp_conn *c, const char *const *values, const unsigned long *lens, size_t n);
/* Convenience: a whole string-only result set. */
int mp_send_strings(mp_conn *c, const char *const *names, size_t ncols, const char *const *cells,
                    size_t nrows);

/* Scramble checks, both against the plaintext password the server knows. */
int mp_check_caching_sha2(const char *password, const unsigned char *nonce, const unsigned char *resp,
                          size_t resp_len);
int mp_check_native(const char *password, const unsigned char *nonce, const unsigned char *resp,
                    size_t resp_len);
void mp_random(unsigned char *out, size_t n); /* printable scramble bytes, never 0 or '$' */

#endif
