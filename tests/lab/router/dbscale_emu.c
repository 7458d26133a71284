/* dbscale-emu: a stand-in for the GreatDB Router (dbscale) in the flashrun test lab.
 *
 * It speaks the MySQL protocol to clients, answers the `dbscale ...` statements the flashback
 * drill uses from its own persisted state, and forwards every other statement to the data node
 * that is currently Master_Online. Status columns come from probing the nodes for real, and
 * enable/disable/add slave really change replication on the nodes, so the drill sees the same
 * effects it would on a GreatDB cluster. Configuration: see usage() and README. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <mysql.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mysqlproto.h"

#define EMU_VERSION "8.0.26-GreatDBRouter-emu"
#define DBSCALE_VERSION "GreatDBRouter-6.0.0-emu.flashrun-lab"
#define MAX_SERVERS 64
#define MAX_SOURCES 64
#define MAX_OPTIONS 32
#define DS_NAME_LEN 64
#define PROBE_TTL_MS 1000

/* ---- logging (never passwords) ------------------------------------------------------------ */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  char ts[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&log_mu);
  fprintf(stderr, "%s dbscale-emu[%d]: ", ts, (int)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  pthread_mutex_unlock(&log_mu);
  va_end(ap);
}

/* Copies a statement for the log with every password value replaced by ***. */
static void redact(const char *in, char *out, size_t outlen) {
  size_t o = 0;
  for (size_t i = 0; in[i] && o + 8 < outlen;) {
    if (strncasecmp(in + i, "password", 8) == 0 || strncasecmp(in + i, "identified", 10) == 0) {
      size_t kw = tolower((unsigned char)in[i]) == 'p' ? 8 : 10;
      memcpy(out + o, in + i, kw);
      o += kw;
      i += kw;
      while (in[i] && (isalnum((unsigned char)in[i]) || in[i] == '_' || in[i] == ' ' || in[i] == '=' ||
                       in[i] == '\t'))
        if (o + 8 < outlen) out[o++] = in[i++];
        else i++;
      if (in[i] == '\'' || in[i] == '"') {
        char q = in[i++];
        while (in[i] && in[i] != q) i++;
        if (in[i]) i++;
      } else {
        while (in[i] && in[i] != ',' && in[i] != ' ') i++;
      }
      memcpy(out + o, "***", 3);
      o += 3;
      continue;
    }
    out[o++] = in[i++];
  }
  out[o] = 0;
}

/* ---- configuration and state -------------------------------------------------------------- */

typedef struct {
  char name[DS_NAME_LEN];
  int router; /* a slave_dbscale_server: another router, not a MySQL node */
  char host[256];
  int port;
  char user[128], password[256]; /* router type only; nodes use the backend account */
  int disabled;
} dataserver;

typedef struct {
  char name[DS_NAME_LEN];
  int replication;        /* 1: replication datasource (master + slaves); 0: server datasource */
  int group_id;
  char server[DS_NAME_LEN];  /* server: the dataserver it wraps */
  char spec[160];         /* server: as given, e.g. slave_dbscale_server-1-1000-400-800 */
  char master[DS_NAME_LEN];  /* replication: master source */
  char slaves[1024];      /* replication: slave sources, comma separated */
} datasource;

typedef struct {
  char name[DS_NAME_LEN];
  char value[128];
} option;

static struct {
  char listen_host[256];
  int listen_port;
  char state_path[1024];
  char pidfile[1024];
  char user[128], password[256];
  char extra_user[128]; /* a second login name with the same password (the lab's REQUIRE X509 account) */
  char backend_user[128], backend_password[256];
  char cluster[DS_NAME_LEN];
  int bool_words; /* booleans shown as TRUE/FALSE instead of 1/0 (both forms exist in the field) */
  char auth[32]; /* the login account's plugin: caching_sha2_password (default) or mysql_native_password */
  char tls_cert[1024], tls_key[1024]; /* set: clients may ask for TLS (the lab's LAB_ROUTER_TLS=1) */
  int backend_tls;                    /* 1: TLS to the nodes and other routers (LAB_TLS=1) */
} cfg;
static SSL_CTX *tls_ctx; /* from tls_cert/tls_key; NULL: no TLS offered to clients */

static struct {
  dataserver ds[MAX_SERVERS];
  int nds;
  datasource src[MAX_SOURCES];
  int nsrc;
  option opt[MAX_OPTIONS];
  int nopt;
  char master[DS_NAME_LEN];
  int next_group_id;
  unsigned master_gen; /* bumps when the master changes; sessions reconnect their backend */
  char status_override[MAX_SERVERS][2][DS_NAME_LEN]; /* [i][0] server name, [i][1] status text */
} st;

static pthread_mutex_t st_mu = PTHREAD_MUTEX_INITIALIZER;
static char join_time[32];

/* Options a drill reads or sets. Every one but transparent-mode exists from the start (an unset
 * transparent-mode answers an empty result, as real routers may); booleans are stored as 0/1. */
static const char *const known_options[] = {"enable-read-only", "slave-dbscale-mode", "transparent-mode",
                                            "enable-slave-dbscale-server", "enable-disaster-mode",
                                            "max-replication-delay"};
static const char *const bool_options[] = {"enable-read-only", "slave-dbscale-mode", "transparent-mode",
                                           "enable-slave-dbscale-server", "enable-disaster-mode"};
static int is_bool_option(const char *name) {
  for (size_t i = 0; i < sizeof bool_options / sizeof *bool_options; i++)
    if (!strcasecmp(name, bool_options[i])) return 1;
  return 0;
}
/* 0/1 from any boolean form a router accepts (1/0, TRUE/FALSE, ON/OFF, any case); -1 otherwise. */
static int parse_bool(const char *v) {
  if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "on")) return 1;
  if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "off")) return 0;
  return -1;
}

static void copystr(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

static dataserver *find_ds(const char *name) {
  for (int i = 0; i < st.nds; i++)
    if (strcmp(st.ds[i].name, name) == 0) return &st.ds[i];
  return NULL;
}
static datasource *find_src(const char *name) {
  for (int i = 0; i < st.nsrc; i++)
    if (strcmp(st.src[i].name, name) == 0) return &st.src[i];
  return NULL;
}
static option *find_opt(const char *name) {
  for (int i = 0; i < st.nopt; i++)
    if (strcasecmp(st.opt[i].name, name) == 0) return &st.opt[i];
  return NULL;
}
static void set_opt(const char *name, const char *value) {
  option *o = find_opt(name);
  if (!o && st.nopt < MAX_OPTIONS) {
    o = &st.opt[st.nopt++];
    copystr(o->name, sizeof o->name, name);
  }
  if (!o) return;
  copystr(o->value, sizeof o->value, value);
}
static int opt_on(const char *name) {
  option *o = find_opt(name);
  return o && atoi(o->value) != 0;
}

static void hex_enc(const char *s, char *out, size_t n) {
  if (!*s) {
    copystr(out, n, "-");
    return;
  }
  size_t o = 0;
  for (; *s && o + 3 < n; s++) o += (size_t)snprintf(out + o, n - o, "%02x", (unsigned char)*s);
  out[o] = 0;
}
static void hex_dec(const char *s, char *out, size_t n) {
  size_t o = 0;
  if (strcmp(s, "-") != 0)
    for (; s[0] && s[1] && o + 1 < n; s += 2) {
      unsigned v;
      if (sscanf(s, "%2x", &v) != 1) break;
      out[o++] = (char)v;
    }
  out[o] = 0;
}

/* Writes the state file atomically (tmp + fsync + rename). Caller holds st_mu. */
static int save_state(void) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", cfg.state_path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    logf_("cannot write state file %s: %s", tmp, strerror(errno));
    return -1;
  }
  fchmod(fileno(f), 0600); /* it holds the slave_dbscale_server password */
  fprintf(f, "# dbscale-emu state, rewritten on every change\nmaster %s\nnext_group_id %d\n", st.master,
          st.next_group_id);
  for (int i = 0; i < st.nopt; i++) fprintf(f, "option %s %s\n", st.opt[i].name, st.opt[i].value);
  for (int i = 0; i < st.nds; i++) {
    char u[300], p[600];
    hex_enc(st.ds[i].user, u, sizeof u);
    hex_enc(st.ds[i].password, p, sizeof p);
    fprintf(f, "dataserver %s %d %s %d %d %s %s\n", st.ds[i].name, st.ds[i].router, st.ds[i].host,
            st.ds[i].port, st.ds[i].disabled, u, p);
  }
  for (int i = 0; i < st.nsrc; i++) {
    datasource *s = &st.src[i];
    if (s->replication)
      fprintf(f, "datasource %s replication %d %s %s\n", s->name, s->group_id, s->master,
              s->slaves[0] ? s->slaves : "-");
    else
      fprintf(f, "datasource %s server %d %s %s\n", s->name, s->group_id, s->server, s->spec);
  }
  int bad = ferror(f);
  fflush(f);
  fsync(fileno(f));
  if (fclose(f) || bad || rename(tmp, cfg.state_path)) {
    logf_("cannot replace state file %s: %s", cfg.state_path, strerror(errno));
    return -1;
  }
  return 0;
}

static int load_state(FILE *f) {
  char line[4096];
  st.nds = st.nsrc = 0;
  while (fgets(line, sizeof line, f)) {
    char a[DS_NAME_LEN], b[300], c[1100], d[600], e[600], g[600];
    int n1, n2, n3;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == '#' || !line[0]) continue;
    if (sscanf(line, "master %63s", a) == 1) {
      copystr(st.master, sizeof st.master, a);
    } else if (sscanf(line, "next_group_id %d", &n1) == 1) {
      st.next_group_id = n1;
    } else if (sscanf(line, "option %63s %127s", a, b) == 2) {
      set_opt(a, b);
    } else if (sscanf(line, "dataserver %63s %d %255s %d %d %299s %599s", a, &n1, b, &n2, &n3, d, e) == 7 &&
               st.nds < MAX_SERVERS) {
      dataserver *s = &st.ds[st.nds++];
      memset(s, 0, sizeof *s);
      copystr(s->name, sizeof s->name, a);
      s->router = n1;
      copystr(s->host, sizeof s->host, b);
      s->port = n2;
      s->disabled = n3;
      hex_dec(d, s->user, sizeof s->user);
      hex_dec(e, s->password, sizeof s->password);
    } else if (sscanf(line, "datasource %63s %299s %d %599s %599s", a, b, &n1, g, c) == 5 &&
               st.nsrc < MAX_SOURCES) {
      datasource *s = &st.src[st.nsrc++];
      memset(s, 0, sizeof *s);
      copystr(s->name, sizeof s->name, a);
      s->group_id = n1;
      s->replication = strcmp(b, "replication") == 0;
      if (s->replication) {
        copystr(s->master, sizeof s->master, g);
        copystr(s->slaves, sizeof s->slaves, strcmp(c, "-") ? c : "");
      } else {
        copystr(s->server, sizeof s->server, g);
        copystr(s->spec, sizeof s->spec, c);
      }
    } else {
      logf_("ignoring unreadable state line: %.60s", line);
    }
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: dbscale-emu --config FILE\n"
          "FILE holds `key = value` lines ('#' starts a comment line):\n"
          "  listen = HOST:PORT        state = PATH          pidfile = PATH (optional)\n"
          "  user = / password =       the account clients log in with\n"
          "  extra_user = NAME         a second login name, same password (optional)\n"
          "  backend_user = / backend_password =  the account on the data nodes (also replication)\n"
          "  cluster = normal_0        node = NAME HOST PORT (repeat; the first is the master)\n"
          "  option = NAME VALUE       initial router option (e.g. slave-dbscale-mode 1)\n"
          "  booleans = numeric|words  boolean options shown as 1/0 (default) or TRUE/FALSE\n"
          "  auth = PLUGIN             the account's plugin: caching_sha2_password (default) or\n"
          "                            mysql_native_password (clients are switched to it)\n"
          "  tls_cert = / tls_key =    PEM files: TLS offered to clients (none without them)\n"
          "  backend_tls = 0|1         1: TLS to the nodes and routers it connects to (when offered)\n");
}

/* A config value in double quotes (how the lab writes passwords: a verbatim value loses its
 * leading blanks): a backslash takes the next character literally, the closing quote must end
 * the value (blanks may follow). Unquotes v in place; -1 if malformed. */
static int unquote_value(char *v) {
  char *o = v;
  const char *s = v + 1;
  for (; *s && *s != '"'; s++) {
    if (*s == '\\' && s[1]) s++;
    *o++ = *s;
  }
  if (*s != '"') return -1;
  for (s++; *s; s++)
    if (*s != ' ' && *s != '\t') return -1;
  *o = 0;
  return 0;
}

static int read_config(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    logf_("cannot open config %s: %s", path, strerror(errno));
    return -1;
  }
  char line[4096];
  int lineno = 0, bad = 0;
  copystr(cfg.cluster, sizeof cfg.cluster, "normal_0");
  dataserver nodes[MAX_SERVERS];
  int nnodes = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    char *k = line;
    while (isspace((unsigned char)*k)) k++;
    if (!*k || *k == '#') continue;
    char *eq = strchr(k, '=');
    if (!eq) {
      logf_("%s:%d: expected `key = value`", path, lineno);
      bad = 1;
      continue;
    }
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    char *ke = eq;
    while (ke > k && isspace((unsigned char)ke[-1])) ke--;
    *ke = 0;
    if (*v == '"' && unquote_value(v)) {
      logf_("%s:%d: %s: a \"...\" value needs its closing quote last (\\\\ and \\\" inside)", path, lineno, k);
      bad = 1;
      continue;
    }
    if (!strcmp(k, "listen")) {
      char *colon = strrchr(v, ':');
      if (!colon) {
        logf_("%s:%d: listen needs HOST:PORT", path, lineno);
        bad = 1;
        continue;
      }
      *colon = 0;
      if (*v == '[' && colon > v + 1 && colon[-1] == ']') colon[-1] = 0, v++; /* [IPv6]:PORT */
      copystr(cfg.listen_host, sizeof cfg.listen_host, v);
      cfg.listen_port = atoi(colon + 1);
    } else if (!strcmp(k, "state")) copystr(cfg.state_path, sizeof cfg.state_path, v);
    else if (!strcmp(k, "pidfile")) copystr(cfg.pidfile, sizeof cfg.pidfile, v);
    else if (!strcmp(k, "user")) copystr(cfg.user, sizeof cfg.user, v);
    else if (!strcmp(k, "extra_user")) copystr(cfg.extra_user, sizeof cfg.extra_user, v);
    else if (!strcmp(k, "password")) copystr(cfg.password, sizeof cfg.password, v);
    else if (!strcmp(k, "backend_user")) copystr(cfg.backend_user, sizeof cfg.backend_user, v);
    else if (!strcmp(k, "backend_password")) copystr(cfg.backend_password, sizeof cfg.backend_password, v);
    else if (!strcmp(k, "tls_cert")) copystr(cfg.tls_cert, sizeof cfg.tls_cert, v);
    else if (!strcmp(k, "tls_key")) copystr(cfg.tls_key, sizeof cfg.tls_key, v);
    else if (!strcmp(k, "backend_tls")) cfg.backend_tls = atoi(v) != 0;
    else if (!strcmp(k, "cluster")) copystr(cfg.cluster, sizeof cfg.cluster, v);
    else if (!strcmp(k, "auth")) {
      if (strcmp(v, "caching_sha2_password") && strcmp(v, "mysql_native_password")) {
        logf_("%s:%d: auth must be caching_sha2_password or mysql_native_password, not '%s'", path, lineno, v);
        bad = 1;
      }
      copystr(cfg.auth, sizeof cfg.auth, v);
    }
    else if (!strcmp(k, "option")) {
      char n[DS_NAME_LEN], val[128];
      if (sscanf(v, "%63s %127s", n, val) != 2 || (is_bool_option(n) && parse_bool(val) < 0)) {
        logf_("%s:%d: option needs NAME VALUE (a boolean: 0/1, TRUE/FALSE or ON/OFF)", path, lineno);
        bad = 1;
      } else
        set_opt(n, is_bool_option(n) ? (parse_bool(val) ? "1" : "0") : val);
    } else if (!strcmp(k, "booleans")) {
      if (!strcmp(v, "numeric")) cfg.bool_words = 0;
      else if (!strcmp(v, "words")) cfg.bool_words = 1;
      else {
        logf_("%s:%d: booleans must be numeric (0/1) or words (TRUE/FALSE)", path, lineno);
        bad = 1;
      }
    } else if (!strcmp(k, "node")) {
      dataserver d;
      memset(&d, 0, sizeof d);
      if (nnodes >= MAX_SERVERS || sscanf(v, "%63s %255s %d", d.name, d.host, &d.port) != 3) {
        logf_("%s:%d: node needs NAME HOST PORT", path, lineno);
        bad = 1;
      } else
        nodes[nnodes++] = d;
    } else {
      logf_("%s:%d: unknown key '%s'", path, lineno, k);
      bad = 1;
    }
  }
  fclose(f);
  if (!cfg.listen_port || !cfg.state_path[0] || !cfg.user[0]) {
    logf_("%s: listen, state and user are required", path);
    bad = 1;
  }
  if (bad) return -1;
  for (size_t i = 0; i < sizeof known_options / sizeof *known_options; i++)
    if (!find_opt(known_options[i]) && strcmp(known_options[i], "transparent-mode"))
      set_opt(known_options[i], strcmp(known_options[i], "max-replication-delay") ? "0" : "30");

  FILE *sf = fopen(cfg.state_path, "r");
  if (sf) {
    load_state(sf);
    fclose(sf);
    logf_("loaded state from %s: %d dataservers, master %s", cfg.state_path, st.nds, st.master);
    return 0;
  }
  if (!nnodes) {
    logf_("%s: no state file and no node lines", path);
    return -1;
  }
  /* Fresh cluster: one server datasource per node, all in the replication datasource. */
  st.next_group_id = 1;
  copystr(st.master, sizeof st.master, nodes[0].name);
  datasource *rep = &st.src[0];
  memset(rep, 0, sizeof *rep);
  copystr(rep->name, sizeof rep->name, cfg.cluster);
  rep->replication = 1;
  st.nsrc = 1;
  for (int i = 0; i < nnodes; i++) {
    st.ds[st.nds++] = nodes[i];
    datasource *s = &st.src[st.nsrc++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%.30s_%.32s", cfg.cluster, nodes[i].name); /* normal_0_normal_0_1 */
    copystr(s->server, sizeof s->server, nodes[i].name);
    snprintf(s->spec, sizeof s->spec, "%s-1-1000-400-800", nodes[i].name);
    if (i == 0)
      copystr(rep->master, sizeof rep->master, s->name);
    else {
      if (rep->slaves[0]) strncat(rep->slaves, ",", sizeof rep->slaves - strlen(rep->slaves) - 1);
      strncat(rep->slaves, s->name, sizeof rep->slaves - strlen(rep->slaves) - 1);
    }
  }
  return save_state();
}

/* ---- talking to data nodes and other routers ---------------------------------------------- */

/* The sql_mode of every session on a data node (flashrun's server.SQL_MODE: MySQL 8.0's default,
 * valid on 8.0.26 and 9.x). A site may run its nodes with NO_BACKSLASH_ESCAPES or ANSI_QUOTES
 * globally; the statements the emulator builds (CHANGE REPLICATION SOURCE ... SOURCE_PASSWORD)
 * and those it forwards must be read as their authors wrote them. Never sent to a router. */
#define NODE_SQL_MODE \
  "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

/* node: the server is a MySQL node (its session's sql_mode is pinned); 0 for a router. */
static MYSQL *connect_to(const char *host, int port, const char *user, const char *pw, const char *db, int node,
                         unsigned timeout, char *err, size_t errlen, unsigned *errnum) {
  MYSQL *m = mysql_init(NULL);
  if (!m) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  unsigned rt = timeout < 5 ? 30 : timeout;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  /* run by the client library right after the login; a failure fails the connect */
  if (node) mysql_options(m, MYSQL_INIT_COMMAND, "SET SESSION sql_mode = '" NODE_SQL_MODE "'");
  /* backend_tls: TLS wherever it is offered (nodes running require_secure_transport need it);
   * libmysqlclient does so by default (SSL_MODE_PREFERRED), libmariadb 3.3 only when asked. */
#ifdef MARIADB_PACKAGE_VERSION
  if (cfg.backend_tls) {
    my_bool yes = 1;
    mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
  }
#else
  {
    unsigned mode = cfg.backend_tls ? SSL_MODE_PREFERRED : SSL_MODE_DISABLED;
    mysql_options(m, MYSQL_OPT_SSL_MODE, &mode);
  }
#endif
  if (!mysql_real_connect(m, host, user, pw, db && *db ? db : NULL, (unsigned)port, NULL, 0)) {
    snprintf(err, errlen, "%s", mysql_error(m));
    if (errnum) *errnum = mysql_errno(m);
    mysql_close(m);
    return NULL;
  }
  return m;
}

/* Runs one statement, discarding any result. Returns 0 or fills err. */
static int run(MYSQL *m, const char *sql, char *err, size_t errlen) {
  if (mysql_query(m, sql)) {
    snprintf(err, errlen, "%s (errno %u)", mysql_error(m), mysql_errno(m));
    return -1;
  }
  do {
    MYSQL_RES *r = mysql_store_result(m);
    if (r) mysql_free_result(r);
  } while (mysql_next_result(m) == 0);
  return 0;
}

typedef struct {
  int rows;            /* 0: no replication configured */
  int io, sql;         /* threads running */
  long behind;         /* Seconds_Behind_Source; -1 when NULL */
  char host[256];
  int port;
} repl_status;

static int get_repl_status(MYSQL *m, repl_status *rs, char *err, size_t errlen) {
  memset(rs, 0, sizeof *rs);
  int modern = mysql_get_server_version(m) >= 80022;
  if (mysql_query(m, modern ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS") &&
      (!modern || mysql_query(m, "SHOW SLAVE STATUS"))) {
    snprintf(err, errlen, "%s", mysql_error(m));
    return -1;
  }
  MYSQL_RES *r = mysql_store_result(m);
  if (!r) return 0;
  MYSQL_ROW row = mysql_fetch_row(r);
  if (row) {
    rs->rows = 1;
    unsigned n = mysql_num_fields(r);
    MYSQL_FIELD *f = mysql_fetch_fields(r);
    for (unsigned i = 0; i < n; i++) {
      const char *v = row[i] ? row[i] : "";
      if (!strcmp(f[i].name, "Replica_IO_Running") || !strcmp(f[i].name, "Slave_IO_Running"))
        rs->io = !strcmp(v, "Yes");
      else if (!strcmp(f[i].name, "Replica_SQL_Running") || !strcmp(f[i].name, "Slave_SQL_Running"))
        rs->sql = !strcmp(v, "Yes");
      else if (!strcmp(f[i].name, "Source_Host") || !strcmp(f[i].name, "Master_Host"))
        copystr(rs->host, sizeof rs->host, v);
      else if (!strcmp(f[i].name, "Source_Port") || !strcmp(f[i].name, "Master_Port"))
        rs->port = atoi(v);
      else if (!strcmp(f[i].name, "Seconds_Behind_Source") || !strcmp(f[i].name, "Seconds_Behind_Master"))
        rs->behind = row[i] ? atol(v) : -1;
    }
  }
  mysql_free_result(r);
  return 0;
}

/* A string literal for the server behind m (whose session connect_to pins to a known sql_mode
 * anyway): mysql_real_escape_string follows the session's
 * sql_mode (under NO_BACKSLASH_ESCAPES it doubles quotes and leaves backslashes alone), so the
 * server reads back the value whatever its mode. n >= 2 * strlen(s) + 3. */
static void sql_quote(MYSQL *m, char *out, size_t n, const char *s) {
  size_t len = strlen(s);
  if (n < 2 * len + 3) len = (n - 3) / 2;
  out[0] = '\'';
  unsigned long o = mysql_real_escape_string(m, out + 1, s, len);
  out[o + 1] = '\'';
  out[o + 2] = 0;
}

/* Points the server behind m at host:port with the backend account and starts replication,
 * in the syntax the server understands (8.0.23+ REPLICA/SOURCE, older MASTER/SLAVE). */
static int point_replication(MYSQL *m, const char *host, int port, char *err, size_t errlen) {
  unsigned long v = mysql_get_server_version(m);
  char qh[600], qu[300], qp[600], sql[2048];
  sql_quote(m, qh, sizeof qh, host);
  sql_quote(m, qu, sizeof qu, cfg.backend_user);
  sql_quote(m, qp, sizeof qp, cfg.backend_password);
  if (run(m, v >= 80022 ? "STOP REPLICA" : "STOP SLAVE", err, errlen)) return -1;
  if (v >= 80023)
    snprintf(sql, sizeof sql,
             "CHANGE REPLICATION SOURCE TO SOURCE_HOST=%s, SOURCE_PORT=%d, SOURCE_USER=%s, "
             "SOURCE_PASSWORD=%s, SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1",
             qh, port, qu, qp);
  else
    snprintf(sql, sizeof sql,
             "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, "
             "MASTER_AUTO_POSITION=1, GET_MASTER_PUBLIC_KEY=1",
             qh, port, qu, qp);
  if (run(m, sql, err, errlen)) return -1;
  return run(m, v >= 80022 ? "START REPLICA" : "START SLAVE", err, errlen);
}

/* ---- dataserver status probes ------------------------------------------------------------- */

typedef struct {
  dataserver ds;
  int is_master;
  long max_delay; /* max-replication-delay: a replica further behind says "catching master Ns" */
  char status[64];
} probe;

static struct {
  char name[DS_NAME_LEN];
  char status[64];
  struct timespec at;
} probe_cache[MAX_SERVERS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static long ms_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void *probe_one(void *arg) {
  probe *p = arg;
  char err[512];
  if (p->ds.router) {
    MYSQL *m = connect_to(p->ds.host, p->ds.port, p->ds.user, p->ds.password, NULL, 0, 1, err, sizeof err, NULL);
    copystr(p->status, sizeof p->status, m ? "Slave normal" : "Slave down");
    if (m) mysql_close(m);
    return NULL;
  }
  MYSQL *m = connect_to(p->ds.host, p->ds.port, cfg.backend_user, cfg.backend_password, NULL, 1, 1, err,
                        sizeof err, NULL);
  if (!m) {
    copystr(p->status, sizeof p->status, p->is_master ? "Server down" : "Slave down");
    return NULL;
  }
  if (p->is_master) {
    copystr(p->status, sizeof p->status, "Server normal");
  } else {
    repl_status rs;
    if (get_repl_status(m, &rs, err, sizeof err))
      copystr(p->status, sizeof p->status, "Slave unknown");
    else if (rs.rows && rs.io && rs.sql && rs.behind > p->max_delay)
      snprintf(p->status, sizeof p->status, "Slave normal, catching master %lds", rs.behind);
    else
      copystr(p->status, sizeof p->status, rs.rows && rs.io && rs.sql ? "Slave normal" : "Slave abnormal");
  }
  mysql_close(m);
  return NULL;
}

/* Fills status for every probe, in parallel, reusing results younger than PROBE_TTL_MS. */
static void probe_all(probe *p, int n) {
  pthread_t th[MAX_SERVERS];
  int started[MAX_SERVERS] = {0};
  for (int i = 0; i < n; i++) {
    if (p[i].ds.disabled) {
      copystr(p[i].status, sizeof p[i].status, "server disabled");
      continue;
    }
    int cached = 0;
    pthread_mutex_lock(&cache_mu);
    for (int k = 0; k < MAX_SERVERS; k++)
      if (!strcmp(probe_cache[k].name, p[i].ds.name) && ms_since(&probe_cache[k].at) < PROBE_TTL_MS) {
        copystr(p[i].status, sizeof p[i].status, probe_cache[k].status);
        cached = 1;
      }
    pthread_mutex_unlock(&cache_mu);
    if (!cached) started[i] = pthread_create(&th[i], NULL, probe_one, &p[i]) == 0;
    if (!cached && !started[i]) probe_one(&p[i]);
  }
  for (int i = 0; i < n; i++) {
    if (!started[i]) continue;
    pthread_join(th[i], NULL);
    pthread_mutex_lock(&cache_mu);
    int slot = -1;
    for (int k = 0; k < MAX_SERVERS; k++)
      if (!strcmp(probe_cache[k].name, p[i].ds.name) || (slot < 0 && !probe_cache[k].name[0])) {
        slot = k;
        if (!strcmp(probe_cache[k].name, p[i].ds.name)) break;
      }
    if (slot >= 0) {
      copystr(probe_cache[slot].name, DS_NAME_LEN, p[i].ds.name);
      copystr(probe_cache[slot].status, 64, p[i].status);
      clock_gettime(CLOCK_MONOTONIC, &probe_cache[slot].at);
    }
    pthread_mutex_unlock(&cache_mu);
  }
}

static void forget_probes(void) {
  pthread_mutex_lock(&cache_mu);
  memset(probe_cache, 0, sizeof probe_cache);
  pthread_mutex_unlock(&cache_mu);
}

/* ---- sessions ----------------------------------------------------------------------------- */

typedef struct {
  mp_conn c;
  unsigned id;
  char peer[64];
  char db[256];
  MYSQL *backend;
  unsigned backend_gen;
} session;

#define ERR_SYNTAX(s, near) \
  mp_send_err(&(s)->c, 1064, "42000", "You have an error in your SQL syntax; check the dbscale statement near '%.80s'", near)

/* ---- the dbscale statement tokenizer ------------------------------------------------------ */

enum { T_WORD = 'w', T_STR = 's' }; /* '=' and ',' are their own kinds */
typedef struct {
  int kind;
  char text[512];
} token;
#define MAX_TOKENS 64

/* Returns the token count, or -1 on an unterminated string / too many or too long tokens. */
static int tokenize(const char *s, token *t) {
  int n = 0;
  while (*s) {
    if (isspace((unsigned char)*s)) {
      s++;
      continue;
    }
    if (n >= MAX_TOKENS) return -1;
    token *k = &t[n++];
    size_t len = 0;
    if (*s == '=' || *s == ',') {
      k->kind = *s;
      k->text[0] = *s++;
      k->text[1] = 0;
      continue;
    }
    if (*s == '\'' || *s == '"' || *s == '`') {
      char q = *s++;
      k->kind = T_STR;
      /* MySQL string literals: a doubled quote or a backslash escape stands for the
       * character, so a password holding both kinds of quote can still be written. */
      for (;;) {
        if (!*s) return -1;
        if (*s == q && s[1] != q) break;
        char c = *s++;
        if (c == q) {
          s++;
        } else if (c == '\\' && q != '`' && *s) {
          /* MySQL's escapes; \% and \_ keep their backslash (for LIKE), any other \x is x. */
          c = *s++;
          if (c == '%' || c == '_') {
            if (len + 2 >= sizeof k->text) return -1;
            k->text[len++] = '\\';
          } else
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'Z' ? '\032'
              : c == '0' ? 0 : c;
          if (!c) return -1;
        }
        if (len + 1 >= sizeof k->text) return -1;
        k->text[len++] = c;
      }
      s++;
    } else {
      k->kind = T_WORD;
      while (*s && !isspace((unsigned char)*s) && !strchr("=,'\"`", *s)) {
        if (len + 1 >= sizeof k->text) return -1;
        k->text[len++] = *s++;
      }
    }
    k->text[len] = 0;
  }
  return n;
}

static int kw(const token *t, int n, int i, const char *word) {
  return i < n && t[i].kind == T_WORD && strcasecmp(t[i].text, word) == 0;
}
static int is_name(const token *t, int n, int i) {
  if (i >= n || t[i].kind != T_WORD || !t[i].text[0] || strlen(t[i].text) >= DS_NAME_LEN) return 0;
  for (const char *p = t[i].text; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') return 0;
  return 1;
}

/* SQL LIKE with % and _, case-insensitive. */
static int like(const char *s, const char *p) {
  for (; *p; p++, s++) {
    if (*p == '%') {
      while (p[1] == '%') p++;
      if (!p[1]) return 1;
      for (; *s; s++)
        if (like(s, p + 1)) return 1;
      return 0;
    }
    if (!*s) return 0;
    if (*p == '\\' && p[1]) { /* \% \_ \\: the character itself */
      if (tolower((unsigned char)*++p) != tolower((unsigned char)*s)) return 0;
      continue;
    }
    if (*p != '_' && tolower((unsigned char)*p) != tolower((unsigned char)*s)) return 0;
  }
  return *s == 0;
}

/* ---- dbscale statements ------------------------------------------------------------------- */

static int show_dataservers(session *s) {
  probe p[MAX_SERVERS];
  pthread_mutex_lock(&st_mu);
  int n = st.nds;
  for (int i = 0; i < n; i++) {
    memset(&p[i], 0, sizeof p[i]);
    p[i].ds = st.ds[i];
    p[i].is_master = !strcmp(st.ds[i].name, st.master);
    option *md = find_opt("max-replication-delay");
    p[i].max_delay = md ? atol(md->value) : 30;
  }
  char override[MAX_SERVERS][DS_NAME_LEN];
  for (int i = 0; i < n; i++) {
    override[i][0] = 0;
    for (int k = 0; k < MAX_SERVERS; k++)
      if (st.status_override[k][0][0] && !strcmp(st.status_override[k][0], st.ds[i].name))
        copystr(override[i], DS_NAME_LEN, st.status_override[k][1]);
  }
  pthread_mutex_unlock(&st_mu);
  probe_all(p, n);
  for (int i = 0; i < n; i++)
    if (override[i][0]) copystr(p[i].status, sizeof p[i].status, override[i]);
  static const char *const cols[] = {"servername", "host", "port", "username", "status",
                                     "master-online-status", "master_backup", "remote_user", "remote_port",
                                     "max_needed_conn/max_mysql_conn", "master_priority"};
  enum { NC = 11 };
  const char **cells = calloc((size_t)(n > 0 ? n : 1) * NC, sizeof *cells);
  char (*ports)[16] = calloc((size_t)(n > 0 ? n : 1), 16);
  for (int i = 0; i < n; i++) {
    const char **r = cells + i * NC;
    snprintf(ports[i], 16, "%d", p[i].ds.port);
    r[0] = p[i].ds.name;
    r[1] = p[i].ds.host;
    r[2] = ports[i];
    r[3] = p[i].ds.router ? p[i].ds.user : cfg.backend_user; /* the registered user of a router */
    r[4] = p[i].status;
    r[5] = p[i].is_master ? "Master_Online" : "Not_A_Master";
    r[6] = "1";
    r[7] = p[i].ds.router ? "" : "root";
    r[8] = p[i].ds.router ? "" : "22";
    r[9] = "";
    r[10] = "0";
  }
  int rc = mp_send_strings(&s->c, cols, NC, cells, (size_t)n);
  free(cells);
  free(ports);
  return rc;
}

static int cluster_info(session *s) {
  static const char *const cols[] = {"master_dbscale", "cluster_server_id", "host", "join time",
                                     "ka init Version", "ka update Version", "dynamic node Version",
                                     "dynamic space Version", "master re-scramble delay", "dbscale version"};
  char host[300];
  const char *h = cfg.listen_host;
  if (!*h || !strcmp(h, "0.0.0.0") || !strcmp(h, "::")) h = "127.0.0.1";
  snprintf(host, sizeof host, strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, cfg.listen_port);
  const char *row[] = {"master", "1", host, join_time, "1", "1|1", "1", "1", "1", DBSCALE_VERSION};
  return mp_send_strings(&s->c, cols, 10, row, 1);
}

static int next_group_id(session *s) {
  char v[16];
  pthread_mutex_lock(&st_mu);
  int id = st.next_group_id;
  for (int i = 0; i < st.nsrc; i++)
    if (st.src[i].group_id >= id) id = st.src[i].group_id + 1;
  pthread_mutex_unlock(&st_mu);
  snprintf(v, sizeof v, "%d", id);
  static const char *const cols[] = {"next_group_id"};
  const char *row[] = {v};
  return mp_send_strings(&s->c, cols, 1, row, 1);
}

/* host:port of a data node's dataserver; empty for a router-type one (real routers leave the
 * host info of slave_dbscale_source empty). Caller holds st_mu. */
static void host_info(const char *server, char *out, size_t n) {
  dataserver *d = find_ds(server);
  if (d && !d->router) snprintf(out, n, "%s:%d", d->host, d->port);
  else out[0] = 0;
}

/* dbscale show datasource type=replication: one row per member. The first row of a datasource
 * carries the master columns and its first slave; each further slave is a row of its own with
 * the same Name and the master columns empty.
 * dbscale show datasource type=server: one row per server datasource. */
#define REP_NC 17
#define SRV_NC 7
static int show_datasource(session *s, int replication) {
  static const char *const rcols[REP_NC] = {
      "Name", "Type", "SourceStatus", "LoadBalanceStrategy", "MasterSource", "MasterSourceStatus", "MasterServer",
      "MasterServerHostInfo", "MasterServerStatus", "SelectMasterTime", "SlaveSource", "SlaveSourceStatus",
      "SlaveServers", "SlaveServerHostInfo", "SlaveServerStatus", "SlaveExecutedGtidStatus", "SlaveDBScale"};
  static const char *const scols[SRV_NC] = {"Name", "Type", "Server", "ServerHostInfo", "ServerStatus",
                                            "SourceStatus", "Is-internal"};
  enum { W = 320 };
  /* A row per datasource plus one per further slave; every slave is a datasource of its own. */
  size_t cap = 2 * MAX_SOURCES, nrows = 0, nc = replication ? REP_NC : SRV_NC;
  char (*buf)[W] = calloc(cap * nc, W);
  const char **cells = calloc(cap * nc, sizeof *cells);
  if (!buf || !cells) {
    free(buf);
    free(cells);
    return mp_send_err(&s->c, 1041, "HY000", "Out of memory");
  }
#define CELL(r, c) buf[(r) * nc + (c)]
  pthread_mutex_lock(&st_mu);
  for (int i = 0; i < st.nsrc; i++) {
    datasource *d = &st.src[i];
    if (d->replication != replication) continue;
    if (!replication) {
      dataserver *ds = find_ds(d->server);
      copystr(CELL(nrows, 0), W, d->name);
      copystr(CELL(nrows, 1), W, "Server");
      copystr(CELL(nrows, 2), W, d->server);
      host_info(d->server, CELL(nrows, 3), W);
      copystr(CELL(nrows, 4), W, ds && ds->disabled ? "Disabled" : "Working");
      copystr(CELL(nrows, 5), W, "Working");
      copystr(CELL(nrows, 6), W, ds && ds->router ? "NO" : "YES");
      nrows++;
      continue;
    }
    datasource *m = find_src(d->master);
    size_t first = nrows;
    copystr(CELL(first, 0), W, d->name);
    copystr(CELL(first, 1), W, "Replication");
    copystr(CELL(first, 2), W, "Working");
    copystr(CELL(first, 3), W, "MASTER_SLAVE");
    copystr(CELL(first, 4), W, d->master);
    copystr(CELL(first, 5), W, "Working");
    copystr(CELL(first, 6), W, m ? m->server : "");
    host_info(m ? m->server : "", CELL(first, 7), W);
    copystr(CELL(first, 8), W, "Working");
    copystr(CELL(first, 9), W, join_time);
    nrows++;
    char list[1024], *save = NULL;
    copystr(list, sizeof list, d->slaves);
    int k = 0;
    for (char *sl = strtok_r(list, ",", &save); sl && nrows < cap; sl = strtok_r(NULL, ",", &save), k++) {
      size_t r = k == 0 ? first : nrows++;
      datasource *sd = find_src(sl);
      dataserver *ds = sd ? find_ds(sd->server) : NULL;
      copystr(CELL(r, 0), W, d->name);
      copystr(CELL(r, 10), W, sl);
      copystr(CELL(r, 11), W, ds && ds->disabled ? "Disabled" : "Working");
      copystr(CELL(r, 12), W, sd ? sd->server : "");
      host_info(sd ? sd->server : "", CELL(r, 13), W);
      copystr(CELL(r, 14), W, ds && ds->disabled ? "Disabled" : "Working");
      copystr(CELL(r, 15), W, "GTID good");
      copystr(CELL(r, 16), W, ds && ds->router ? "Yes" : "No");
    }
  }
  pthread_mutex_unlock(&st_mu);
  for (size_t i = 0; i < nrows * nc; i++) cells[i] = buf[i];
#undef CELL
  int rc = mp_send_strings(&s->c, replication ? rcols : scols, nc, cells, nrows);
  free(cells);
  free(buf);
  return rc;
}

/* dbscale show options [like 'PATTERN']: option_name, value; booleans in the configured form. */
static int show_options(session *s, const char *pattern) {
  static const char *const cols[] = {"option_name", "value"};
  const char *cells[MAX_OPTIONS * 2];
  option copy[MAX_OPTIONS];
  int n = 0;
  pthread_mutex_lock(&st_mu);
  for (int i = 0; i < st.nopt; i++)
    if (!pattern || like(st.opt[i].name, pattern)) copy[n++] = st.opt[i];
  pthread_mutex_unlock(&st_mu);
  for (int i = 0; i < n; i++) {
    cells[2 * i] = copy[i].name;
    cells[2 * i + 1] = copy[i].value;
    if (cfg.bool_words && is_bool_option(copy[i].name)) cells[2 * i + 1] = atoi(copy[i].value) ? "TRUE" : "FALSE";
  }
  return mp_send_strings(&s->c, cols, 2, cells, (size_t)n);
}

static int set_global(session *s, const char *name, const char *value) {
  int known = 0;
  for (size_t i = 0; i < sizeof known_options / sizeof *known_options; i++)
    known |= !strcasecmp(name, known_options[i]);
  pthread_mutex_lock(&st_mu);
  known |= find_opt(name) != NULL;
  if (!known) {
    pthread_mutex_unlock(&st_mu);
    return mp_send_err(&s->c, 1193, "HY000", "Unknown router option '%.64s'", name);
  }
  char v[128];
  copystr(v, sizeof v, value);
  if (is_bool_option(name)) {
    int b = parse_bool(value);
    if (b < 0) {
      pthread_mutex_unlock(&st_mu);
      return mp_send_err(&s->c, 1231, "42000", "Option '%.64s' takes 0/1, TRUE/FALSE or ON/OFF, not '%.64s'", name, value);
    }
    copystr(v, sizeof v, b ? "1" : "0");
  } else if (!strcasecmp(name, "max-replication-delay") && (!*value || strspn(value, "0123456789") != strlen(value))) {
    pthread_mutex_unlock(&st_mu);
    return mp_send_err(&s->c, 1231, "42000", "Option '%.64s' takes a number of seconds, not '%.64s'", name, value);
  }
  /* A real router refuses to switch slave mode outside disaster mode. */
  if (!strcasecmp(name, "slave-dbscale-mode") && !opt_on("enable-disaster-mode")) {
    pthread_mutex_unlock(&st_mu);
    return mp_send_err(&s->c, 1105, "HY000",
                       "'slave-dbscale-mode' can only be changed while 'enable-disaster-mode' is on");
  }
  set_opt(name, v);
  int rc = save_state();
  pthread_mutex_unlock(&st_mu);
  logf_("conn %u: option %s set to %s", s->id, name, v);
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* Removes name from a comma-separated list in place. */
static int list_remove(char *list, const char *name) {
  char out[1024] = "";
  int found = 0;
  char *save = NULL, tmp[1024];
  copystr(tmp, sizeof tmp, list);
  for (char *p = strtok_r(tmp, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    if (!strcmp(p, name)) {
      found = 1;
      continue;
    }
    if (out[0]) strncat(out, ",", sizeof out - strlen(out) - 1);
    strncat(out, p, sizeof out - strlen(out) - 1);
  }
  strcpy(list, out);
  return found;
}

static int dyn_remove(session *s, int is_source, const char *name) {
  char msg[200] = "";
  pthread_mutex_lock(&st_mu);
  if (is_source) {
    datasource *d = find_src(name);
    if (!d) snprintf(msg, sizeof msg, "Datasource '%s' does not exist", name);
    else if (d->replication && !strcmp(d->name, cfg.cluster))
      snprintf(msg, sizeof msg, "Datasource '%s' is the cluster's replication datasource", name);
    else {
      for (int i = 0; i < st.nsrc; i++)
        if (st.src[i].replication) list_remove(st.src[i].slaves, name);
      for (int i = 0; i < st.nsrc; i++)
        if (st.src[i].replication && !strcmp(st.src[i].master, name))
          snprintf(msg, sizeof msg, "Datasource '%s' is the master of '%s'", name, st.src[i].name);
      if (!msg[0]) *d = st.src[--st.nsrc];
    }
  } else {
    dataserver *d = find_ds(name);
    if (!d) snprintf(msg, sizeof msg, "Dataserver '%s' does not exist", name);
    else if (!strcmp(name, st.master)) snprintf(msg, sizeof msg, "Dataserver '%s' is Master_Online", name);
    for (int i = 0; d && !msg[0] && i < st.nsrc; i++)
      if (!st.src[i].replication && !strcmp(st.src[i].server, name))
        snprintf(msg, sizeof msg, "Dataserver '%s' is still used by datasource '%s'", name, st.src[i].name);
    if (!msg[0]) *d = st.ds[--st.nds];
  }
  int rc = msg[0] ? 0 : save_state();
  pthread_mutex_unlock(&st_mu);
  if (msg[0]) return mp_send_err(&s->c, 1105, "HY000", "%s", msg);
  logf_("conn %u: removed %s %s", s->id, is_source ? "datasource" : "dataserver", name);
  forget_probes();
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* dbscale dynamic add dataserver server_name=..,server_host="..",server_port=..,server_user="..",
 * server_password=".."[,dbscale_server]  — tokens from i on. */
static int add_dataserver(session *s, const token *t, int n, int i) {
  dataserver d;
  memset(&d, 0, sizeof d);
  int have = 0;
  for (;;) {
    if (i >= n || t[i].kind != T_WORD) return ERR_SYNTAX(s, i < n ? t[i].text : "end of statement");
    const char *key = t[i].text;
    if (i + 1 < n && t[i + 1].kind == '=') {
      if (i + 2 >= n || (t[i + 2].kind != T_WORD && t[i + 2].kind != T_STR)) return ERR_SYNTAX(s, key);
      const char *v = t[i + 2].text;
      if (!strcasecmp(key, "server_name") && is_name(t, n, i + 2)) copystr(d.name, sizeof d.name, v), have |= 1;
      else if (!strcasecmp(key, "server_host") && *v) copystr(d.host, sizeof d.host, v), have |= 2;
      else if (!strcasecmp(key, "server_port") && atoi(v) > 0 && atoi(v) < 65536) d.port = atoi(v), have |= 4;
      else if (!strcasecmp(key, "server_user")) copystr(d.user, sizeof d.user, v), have |= 8;
      else if (!strcasecmp(key, "server_password")) copystr(d.password, sizeof d.password, v), have |= 16;
      else return ERR_SYNTAX(s, key);
      i += 3;
    } else if (!strcasecmp(key, "dbscale_server")) {
      d.router = 1;
      i += 1;
    } else
      return ERR_SYNTAX(s, key);
    if (i == n) break;
    if (t[i].kind != ',') return ERR_SYNTAX(s, t[i].text);
    i++;
  }
  if ((have & 7) != 7) return ERR_SYNTAX(s, "server_name, server_host and server_port are required");
  pthread_mutex_lock(&st_mu);
  const char *msg = find_ds(d.name) ? "Dataserver already exists" : st.nds >= MAX_SERVERS ? "Too many dataservers" : NULL;
  int rc = 0;
  if (!msg) {
    st.ds[st.nds++] = d;
    rc = save_state();
  }
  pthread_mutex_unlock(&st_mu);
  if (msg) return mp_send_err(&s->c, 1105, "HY000", "%s: '%s'", msg, d.name);
  logf_("conn %u: added %s dataserver %s at %s:%d", s->id, d.router ? "router-type" : "MySQL", d.name, d.host,
        d.port);
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* dbscale dynamic add server datasource NAME SERVER-1-1000-400-800 group_id = N */
static int add_server_datasource(session *s, const token *t, int n) {
  if (n != 10 || !is_name(t, n, 5) || !is_name(t, n, 6) || !kw(t, n, 7, "group_id") || t[8].kind != '=' ||
      t[9].kind != T_WORD)
    return ERR_SYNTAX(s, n > 5 ? t[5].text : "dynamic add server datasource");
  char *end;
  long gid = strtol(t[9].text, &end, 10);
  if (!t[9].text[0] || *end || gid < 0 || gid > 1000000) return ERR_SYNTAX(s, t[9].text);
  /* SPEC is SERVER followed by four -N load parameters. */
  char server[DS_NAME_LEN];
  copystr(server, sizeof server, t[6].text);
  for (int k = 0; k < 4; k++) {
    char *dash = strrchr(server, '-');
    if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1)) return ERR_SYNTAX(s, t[6].text);
    *dash = 0;
  }
  datasource d;
  memset(&d, 0, sizeof d);
  copystr(d.name, sizeof d.name, t[5].text);
  copystr(d.server, sizeof d.server, server);
  copystr(d.spec, sizeof d.spec, t[6].text);
  d.group_id = (int)gid;
  char msg[200] = "";
  pthread_mutex_lock(&st_mu);
  if (find_src(d.name)) snprintf(msg, sizeof msg, "Datasource '%s' already exists", d.name);
  else if (!find_ds(server)) snprintf(msg, sizeof msg, "Dataserver '%s' does not exist", server);
  else if (st.nsrc >= MAX_SOURCES) snprintf(msg, sizeof msg, "Too many datasources");
  int rc = 0;
  if (!msg[0]) {
    st.src[st.nsrc++] = d;
    if (st.next_group_id <= d.group_id) st.next_group_id = d.group_id + 1;
    rc = save_state();
  }
  pthread_mutex_unlock(&st_mu);
  if (msg[0]) return mp_send_err(&s->c, 1105, "HY000", "%s", msg);
  logf_("conn %u: added server datasource %s on %s, group %ld", s->id, d.name, server, gid);
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* The master's address, copied under the lock. */
static int master_addr(char *host, size_t hl, int *port) {
  pthread_mutex_lock(&st_mu);
  dataserver *m = find_ds(st.master);
  if (m) {
    copystr(host, hl, m->host);
    *port = m->port;
  }
  pthread_mutex_unlock(&st_mu);
  return m ? 0 : -1;
}

/* dbscale dynamic add slave SOURCE to CLUSTER: register, then make the slave replicate from our master. */
static int add_slave(session *s, const char *source, const char *cluster) {
  char msg[300] = "";
  dataserver target;
  pthread_mutex_lock(&st_mu);
  datasource *rep = find_src(cluster), *src = find_src(source);
  dataserver *ds = src && !src->replication ? find_ds(src->server) : NULL;
  if (!rep || !rep->replication) snprintf(msg, sizeof msg, "Replication datasource '%s' does not exist", cluster);
  else if (!src || src->replication) snprintf(msg, sizeof msg, "Server datasource '%s' does not exist", source);
  else if (!ds) snprintf(msg, sizeof msg, "Datasource '%s' refers to a missing dataserver", source);
  else if (!strcmp(rep->master, source) || strstr(rep->slaves, source))
    snprintf(msg, sizeof msg, "Datasource '%s' is already in '%s'", source, cluster);
  if (ds) target = *ds;
  pthread_mutex_unlock(&st_mu);
  if (msg[0]) return mp_send_err(&s->c, 1105, "HY000", "%s", msg);

  char mhost[256], err[600];
  int mport = 0;
  unsigned eno = 0;
  if (master_addr(mhost, sizeof mhost, &mport)) return mp_send_err(&s->c, 1105, "HY000", "No Master_Online dataserver");
  const char *user = target.router ? target.user : cfg.backend_user;
  const char *pw = target.router ? target.password : cfg.backend_password;
  MYSQL *m = connect_to(target.host, target.port, user, pw, NULL, !target.router, 3, err, sizeof err, &eno);
  if (!m || point_replication(m, mhost, mport, err, sizeof err)) {
    if (m) mysql_close(m);
    logf_("conn %u: add slave %s: replication setup on %s:%d failed: %s", s->id, source, target.host, target.port, err);
    return mp_send_err(&s->c, 1105, "HY000", "Could not start replication on %s:%d from %s:%d: %.300s", target.host,
                       target.port, mhost, mport, err);
  }
  mysql_close(m);
  pthread_mutex_lock(&st_mu);
  rep = find_src(cluster);
  int rc = 0;
  /* Another session may have registered it meanwhile (a client killed mid-statement and run
   * again): registered once, whoever finished first. */
  if (rep && !strstr(rep->slaves, source)) {
    if (rep->slaves[0]) strncat(rep->slaves, ",", sizeof rep->slaves - strlen(rep->slaves) - 1);
    strncat(rep->slaves, source, sizeof rep->slaves - strlen(rep->slaves) - 1);
    rc = save_state();
  }
  pthread_mutex_unlock(&st_mu);
  forget_probes();
  logf_("conn %u: %s (%s:%d) now replicates from master %s:%d", s->id, source, target.host, target.port, mhost, mport);
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

static int enable_disable(session *s, int enable, const char *name) {
  pthread_mutex_lock(&st_mu);
  dataserver *d = find_ds(name);
  dataserver copy;
  int is_master = d && !strcmp(name, st.master);
  if (d) copy = *d;
  pthread_mutex_unlock(&st_mu);
  if (!d) return mp_send_err(&s->c, 1105, "HY000", "Dataserver '%s' does not exist", name);
  if (!enable && is_master)
    return mp_send_err(&s->c, 1105, "HY000", "Dataserver '%s' is Master_Online and cannot be disabled", name);

  char err[600] = "";
  if (!copy.router && !is_master) {
    char mhost[256];
    int mport = 0;
    MYSQL *m = connect_to(copy.host, copy.port, cfg.backend_user, cfg.backend_password, NULL, 1, 2, err, sizeof err, NULL);
    if (!m) {
      if (enable)
        return mp_send_err(&s->c, 1105, "HY000", "Dataserver '%s' (%s:%d) does not answer: %.300s", name, copy.host,
                           copy.port, err);
      logf_("conn %u: disable %s: node %s:%d does not answer, replication not stopped", s->id, name, copy.host,
            copy.port);
    } else if (!enable) {
      if (run(m, mysql_get_server_version(m) >= 80022 ? "STOP REPLICA" : "STOP SLAVE", err, sizeof err)) {
        mysql_close(m);
        return mp_send_err(&s->c, 1105, "HY000", "STOP REPLICA on %s:%d failed: %.300s", copy.host, copy.port, err);
      }
    } else {
      repl_status rs;
      int rc = master_addr(mhost, sizeof mhost, &mport);
      if (!rc && (get_repl_status(m, &rs, err, sizeof err) || !rs.rows || !rs.io || !rs.sql ||
                  strcmp(rs.host, mhost) || rs.port != mport || copy.disabled))
        rc = point_replication(m, mhost, mport, err, sizeof err);
      if (rc) {
        mysql_close(m);
        return mp_send_err(&s->c, 1105, "HY000", "Could not restart replication on %s:%d: %.300s", copy.host,
                           copy.port, err);
      }
    }
    if (m) mysql_close(m);
  }
  pthread_mutex_lock(&st_mu);
  d = find_ds(name);
  int rc = 0;
  if (d) {
    d->disabled = !enable;
    rc = save_state();
  }
  pthread_mutex_unlock(&st_mu);
  forget_probes();
  logf_("conn %u: dataserver %s %s", s->id, name, enable ? "enabled" : "disabled");
  if (rc) return mp_send_err(&s->c, 1105, "HY000", "Router could not persist its state to %s", cfg.state_path);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* Lab only (no real router has it): `dbscale emulator status NAME = 'TEXT'` makes `show dataservers`
 * report TEXT as NAME's status until it is cleared with an empty TEXT; nothing else changes. */
static int emulator_status(session *s, const char *name, const char *text) {
  char msg[160] = "";
  pthread_mutex_lock(&st_mu);
  if (!find_ds(name)) snprintf(msg, sizeof msg, "Dataserver '%s' does not exist", name);
  else if (strlen(text) >= DS_NAME_LEN) snprintf(msg, sizeof msg, "Status text longer than %d characters", DS_NAME_LEN - 1);
  int slot = -1;
  for (int k = 0; !msg[0] && k < MAX_SERVERS; k++) {
    if (!strcmp(st.status_override[k][0], name)) { slot = k; break; }
    if (slot < 0 && !st.status_override[k][0][0]) slot = k;
  }
  if (!msg[0] && slot >= 0) {
    copystr(st.status_override[slot][0], DS_NAME_LEN, *text ? name : "");
    copystr(st.status_override[slot][1], DS_NAME_LEN, text);
  }
  pthread_mutex_unlock(&st_mu);
  if (msg[0]) return mp_send_err(&s->c, 1105, "HY000", "%s", msg);
  logf_("conn %u: status of %s %s '%s'", s->id, name, *text ? "shown as" : "back to the probed one, was", text);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
}

/* stmt has no trailing ';' and starts with the word dbscale. */
static int dbscale_stmt(session *s, const char *stmt) {
  token *tk = malloc(sizeof(token) * (MAX_TOKENS + 1));
  if (!tk) return mp_send_err(&s->c, 1041, "HY000", "Out of memory");
  int n = tokenize(stmt, tk);
  int rc;
  char shown[600];
  redact(stmt, shown, sizeof shown);
  logf_("conn %u: %s", s->id, shown);
  if (n < 2) rc = ERR_SYNTAX(s, stmt);
  else if (kw(tk, n, 1, "show") && kw(tk, n, 2, "dataservers") && n == 3) rc = show_dataservers(s);
  else if (kw(tk, n, 1, "request") && kw(tk, n, 2, "cluster") && kw(tk, n, 3, "info") && n == 4) rc = cluster_info(s);
  else if (kw(tk, n, 1, "request") && kw(tk, n, 2, "next") && kw(tk, n, 3, "group") && kw(tk, n, 4, "id") && n == 5)
    rc = next_group_id(s);
  else if (kw(tk, n, 1, "show") && kw(tk, n, 2, "datasource") && kw(tk, n, 3, "type") && n == 6 && tk[4].kind == '=' &&
           (kw(tk, n, 5, "replication") || kw(tk, n, 5, "server")))
    rc = show_datasource(s, kw(tk, n, 5, "replication"));
  else if (kw(tk, n, 1, "show") && kw(tk, n, 2, "options") && n == 3) rc = show_options(s, NULL);
  else if (kw(tk, n, 1, "show") && kw(tk, n, 2, "options") && kw(tk, n, 3, "like") && n == 5 && tk[4].kind == T_STR)
    rc = show_options(s, tk[4].text);
  else if (kw(tk, n, 1, "set") && kw(tk, n, 2, "global") && n == 6 && (tk[3].kind == T_STR || is_name(tk, n, 3)) &&
           tk[4].kind == '=' && (tk[5].kind == T_WORD || tk[5].kind == T_STR) && tk[3].text[0])
    rc = set_global(s, tk[3].text, tk[5].text);
  else if (kw(tk, n, 1, "dynamic") && kw(tk, n, 2, "remove") && (kw(tk, n, 3, "datasource") || kw(tk, n, 3, "dataserver")) &&
           n == 5 && is_name(tk, n, 4))
    rc = dyn_remove(s, kw(tk, n, 3, "datasource"), tk[4].text);
  else if (kw(tk, n, 1, "dynamic") && kw(tk, n, 2, "add") && kw(tk, n, 3, "dataserver"))
    rc = add_dataserver(s, tk, n, 4);
  else if (kw(tk, n, 1, "dynamic") && kw(tk, n, 2, "add") && kw(tk, n, 3, "server") && kw(tk, n, 4, "datasource"))
    rc = add_server_datasource(s, tk, n);
  else if (kw(tk, n, 1, "dynamic") && kw(tk, n, 2, "add") && kw(tk, n, 3, "slave") && n == 7 && is_name(tk, n, 4) &&
           kw(tk, n, 5, "to") && is_name(tk, n, 6))
    rc = add_slave(s, tk[4].text, tk[6].text);
  else if ((kw(tk, n, 1, "enable") || kw(tk, n, 1, "disable")) && kw(tk, n, 2, "dataserver") && n == 4 && is_name(tk, n, 3))
    rc = enable_disable(s, kw(tk, n, 1, "enable"), tk[3].text);
  else if (kw(tk, n, 1, "emulator") && kw(tk, n, 2, "status") && n == 6 && is_name(tk, n, 3) && tk[4].kind == '=' &&
           tk[5].kind == T_STR)
    rc = emulator_status(s, tk[3].text, tk[5].text);
  else
    rc = ERR_SYNTAX(s, n >= 2 ? tk[1].text : stmt);
  free(tk);
  return rc;
}

/* ---- plain SQL: read-only policy and forwarding ------------------------------------------- */

static const char *skip_space_comments(const char *p) {
  for (;;) {
    while (isspace((unsigned char)*p)) p++;
    if (p[0] == '/' && p[1] == '*') {
      const char *e = strstr(p + 2, "*/");
      if (!e) return p + strlen(p);
      p = e + 2;
    } else if ((p[0] == '-' && p[1] == '-' && (isspace((unsigned char)p[2]) || !p[2])) || p[0] == '#') {
      p += strcspn(p, "\n");
    } else
      return p;
  }
}

static void word_at(const char *p, char *w, size_t n) {
  size_t i = 0;
  while ((isalnum((unsigned char)*p) || *p == '_' || *p == '@') && i + 1 < n) w[i++] = (char)toupper((unsigned char)*p++);
  w[i] = 0;
}

/* START/STOP/RESET SLAVE and CHANGE MASTER (and their REPLICA/SOURCE spellings): what the router
 * forwards to its master only while slave-dbscale-mode is on. */
static int is_slave_control(const char *q) {
  char w1[32], w2[32];
  const char *p = skip_space_comments(q);
  word_at(p, w1, sizeof w1);
  p = skip_space_comments(p + strlen(w1));
  word_at(p, w2, sizeof w2);
  if (!strcmp(w1, "START") || !strcmp(w1, "STOP") || !strcmp(w1, "RESET"))
    return !strcmp(w2, "SLAVE") || !strcmp(w2, "REPLICA");
  if (!strcmp(w1, "CHANGE")) return !strcmp(w2, "MASTER") || !strcmp(w2, "REPLICATION");
  return 0;
}

/* Under enable-read-only the router lets through reads, session settings, transaction control and
 * replication control (the drill re-points replication through a read-only standby router). */
static int allowed_when_read_only(const char *q) {
  char w1[32], w2[32];
  const char *p = skip_space_comments(q);
  if (*p == '(') return 1;
  word_at(p, w1, sizeof w1);
  p += strlen(w1);
  p = skip_space_comments(p);
  word_at(p, w2, sizeof w2);
  static const char *const reads[] = {"SELECT", "SHOW", "DESC", "DESCRIBE", "EXPLAIN", "USE", "WITH", "HELP",
                                      "BEGIN", "COMMIT", "ROLLBACK", "DO", "KILL", "STOP", "CHANGE"};
  for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
    if (!strcmp(w1, reads[i])) return 1;
  if (!strcmp(w1, "START")) return strcmp(w2, "GROUP_REPLICATION") != 0;
  if (!strcmp(w1, "RESET")) return !strcmp(w2, "REPLICA") || !strcmp(w2, "SLAVE");
  if (!strcmp(w1, "SET"))
    return strcmp(w2, "GLOBAL") && strcmp(w2, "PERSIST") && strcmp(w2, "PERSIST_ONLY") && strncmp(w2, "@@GLOBAL", 8) &&
           strncmp(w2, "@@PERSIST", 9) && strcmp(w2, "PASSWORD");
  return 0;
}

static void close_backend(session *s) {
  if (s->backend) mysql_close(s->backend);
  s->backend = NULL;
}

static int ensure_backend(session *s) {
  pthread_mutex_lock(&st_mu);
  unsigned gen = st.master_gen;
  pthread_mutex_unlock(&st_mu);
  if (s->backend && s->backend_gen == gen) return 0;
  close_backend(s);
  char host[256], err[600];
  int port = 0;
  unsigned eno = 2003;
  if (master_addr(host, sizeof host, &port))
    return mp_send_err(&s->c, 1105, "HY000", "Router has no Master_Online dataserver"), -1;
  s->backend = connect_to(host, port, cfg.backend_user, cfg.backend_password, s->db, 1, 2, err, sizeof err, &eno);
  if (!s->backend) {
    logf_("conn %u: cannot reach master %s:%d: %s", s->id, host, port, err);
    (void)eno; /* 2xxx are client-side codes; a server answers with a server error */
    mp_send_err(&s->c, 1105, "HY000", "Router cannot reach the Master_Online dataserver %s:%d: %.300s", host, port, err);
    return -1;
  }
  s->backend_gen = gen;
  return 0;
}

static int relay_error(session *s, MYSQL *m) {
  unsigned eno = mysql_errno(m);
  int rc = mp_send_err(&s->c, eno, mysql_sqlstate(m), "%s", mysql_error(m));
  if (eno == 2006 || eno == 2013 || eno == 2055) close_backend(s); /* reconnect next time */
  return rc;
}

static int forward(session *s, const char *q, size_t qlen) {
  if (ensure_backend(s)) return 0;
  MYSQL *m = s->backend;
  if (mysql_real_query(m, q, qlen)) return relay_error(s, m);
  int rc = 0;
  if (mysql_field_count(m) == 0) {
    char info[256] = "";
    if (mysql_info(m)) copystr(info, sizeof info, mysql_info(m));
    rc = mp_send_ok(&s->c, mysql_affected_rows(m), mysql_insert_id(m), 2, mysql_warning_count(m), info);
  } else {
    MYSQL_RES *r = mysql_use_result(m);
    if (!r) return relay_error(s, m);
    unsigned n = mysql_num_fields(r);
    MYSQL_FIELD *f = mysql_fetch_fields(r);
    mp_column *cols = calloc(n ? n : 1, sizeof *cols);
    for (unsigned i = 0; i < n; i++) {
      cols[i].name = f[i].name;
      cols[i].org_name = f[i].org_name;
      cols[i].table = f[i].table;
      cols[i].org_table = f[i].org_table;
      cols[i].db = f[i].db;
      cols[i].charset = f[i].charsetnr;
      cols[i].length = (uint32_t)f[i].length;
      cols[i].type = (unsigned)f[i].type;
      cols[i].flags = f[i].flags & 0xffff;
      cols[i].decimals = f[i].decimals;
      if (!cols[i].length) cols[i].length = 1; /* 0 means "default" to mp_send_header */
    }
    rc = mp_send_header(&s->c, cols, n);
    free(cols);
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(r))) rc = mp_send_row(&s->c, (const char *const *)row, mysql_fetch_lengths(r), n);
    if (!rc) rc = mysql_errno(m) ? relay_error(s, m) : mp_send_eof(&s->c, 2);
    mysql_free_result(r);
  }
  /* Extra result sets (CALL) are drained: the emulator answers one result per statement. */
  while (s->backend && mysql_more_results(m) && mysql_next_result(m) == 0) {
    MYSQL_RES *r = mysql_store_result(m);
    if (r) mysql_free_result(r);
  }
  return rc;
}

static int handle_query(session *s, char *q, size_t qlen) {
  const char *p = skip_space_comments(q);
  char w[16];
  word_at(p, w, sizeof w);
  if (!strcmp(w, "DBSCALE") && (isspace((unsigned char)p[7]) || !p[7] || p[7] == ';')) {
    if (strlen(p) != qlen - (size_t)(p - q)) return ERR_SYNTAX(s, "NUL byte"); /* binary junk */
    char *stmt = strdup(p);
    if (!stmt) return mp_send_err(&s->c, 1041, "HY000", "Out of memory");
    size_t n = strlen(stmt);
    while (n && (isspace((unsigned char)stmt[n - 1]) || stmt[n - 1] == ';')) stmt[--n] = 0;
    int rc = dbscale_stmt(s, stmt);
    free(stmt);
    return rc;
  }
  if (!strncasecmp(p, "select @@version_comment limit 1", 32) && !p[32 + strspn(p + 32, " ;\t\r\n")]) {
    static const char *const cols[] = {"@@version_comment"};
    const char *row[] = {"GreatDB Router emulator (flashrun lab)"};
    return mp_send_strings(&s->c, cols, 1, row, 1);
  }
  pthread_mutex_lock(&st_mu);
  int ro = opt_on("enable-read-only"), slave_mode = opt_on("slave-dbscale-mode");
  pthread_mutex_unlock(&st_mu);
  if (!slave_mode && is_slave_control(p))
    return mp_send_err(&s->c, 9001, "HY000", "'slave-dbscale-mode' is off, dbscale is denied to be a slave");
  if (ro && !allowed_when_read_only(p))
    return mp_send_err(&s->c, 1290, "HY000",
                       "The router is running with enable-read-only=1 so it cannot execute this statement");
  return forward(s, q, qlen);
}

/* ---- connection handshake ----------------------------------------------------------------- */

#define CAP_LONG_PASSWORD 0x1u
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_SECURE_CONNECTION 0x8000u
#define CAP_PLUGIN_AUTH 0x80000u
#define CAP_PLUGIN_AUTH_LENENC 0x200000u
#define CAP_SSL 0x800u
#define SERVER_CAPS (0x1u | 0x2u | 0x4u | 0x8u | 0x200u | 0x400u | 0x2000u | 0x8000u | 0x20000u | 0x40000u | \
                     0x80000u | 0x100000u | 0x200000u)

static const unsigned char *get_cstr(const unsigned char *p, const unsigned char *end) {
  const unsigned char *z = memchr(p, 0, (size_t)(end - p));
  return z ? z + 1 : NULL;
}

static int handshake(session *s) {
  unsigned char nonce[MP_SCRAMBLE_LEN];
  mp_random(nonce, sizeof nonce);
  mp_buf b = {0};
  mp_put_u8(&b, 10);
  mp_put_cstr(&b, EMU_VERSION);
  mp_put_u32(&b, s->id);
  mp_put(&b, nonce, 8);
  mp_put_u8(&b, 0);
  unsigned caps_offered = SERVER_CAPS | (tls_ctx ? CAP_SSL : 0);
  mp_put_u16(&b, caps_offered & 0xffff);
  mp_put_u8(&b, 255);
  mp_put_u16(&b, 2);
  mp_put_u16(&b, caps_offered >> 16);
  mp_put_u8(&b, MP_SCRAMBLE_LEN + 1);
  mp_put(&b, "\0\0\0\0\0\0\0\0\0\0", 10);
  mp_put(&b, nonce + 8, 12);
  mp_put_u8(&b, 0);
  mp_put_cstr(&b, "caching_sha2_password");
  s->c.seq = 0;
  int rc = mp_write(&s->c, b.p, b.len);
  mp_buf_free(&b);
  if (rc) return -1;

  unsigned char *pkt;
  size_t len;
  if (mp_read(&s->c, &pkt, &len)) return -1;
  const unsigned char *p = pkt, *end = pkt + len, *user, *resp, *db = NULL, *plugin = NULL;
  size_t resp_len = 0;
  unsigned caps = len >= 4 ? (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24 : 0;
  if (len == 32 && (caps & CAP_SSL) && tls_ctx && !s->c.ssl) {
    /* The SSL request (MySQL protocol: Protocol::SSLRequest): TLS, then the real response. */
    SSL *ssl = SSL_new(tls_ctx);
    if (!ssl || !SSL_set_fd(ssl, s->c.fd) || SSL_accept(ssl) != 1) {
      unsigned long e = ERR_get_error();
      logf_("conn %u from %s: TLS handshake failed: %s", s->id, s->peer, e ? ERR_error_string(e, NULL) : "closed");
      if (ssl) SSL_free(ssl);
      free(pkt);
      return -1;
    }
    s->c.ssl = ssl;
    free(pkt);
    if (mp_read(&s->c, &pkt, &len)) return -1;
    p = pkt;
    end = pkt + len;
    caps = len >= 4 ? (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24 : 0;
  }
  if (len < 33 || !(caps & CAP_PROTOCOL_41)) goto bad;
  p += 32;
  user = p;
  if (!(p = get_cstr(p, end))) goto bad;
  if (caps & CAP_PLUGIN_AUTH_LENENC) {
    if (p >= end || *p >= 0xfb) goto bad; /* an auth response longer than 250 bytes is not ours */
    resp_len = *p++;
  } else if (caps & CAP_SECURE_CONNECTION) {
    if (p >= end) goto bad;
    resp_len = *p++;
  } else {
    const unsigned char *z = get_cstr(p, end);
    if (!z) goto bad;
    resp_len = (size_t)(z - p - 1);
  }
  if (resp_len > (size_t)(end - p)) goto bad;
  resp = p;
  p += resp_len;
  if (!(caps & (CAP_PLUGIN_AUTH_LENENC | CAP_SECURE_CONNECTION)) && p < end) p++;
  if ((caps & CAP_CONNECT_WITH_DB) && p < end) {
    db = p;
    if (!(p = get_cstr(p, end))) goto bad;
  }
  if ((caps & CAP_PLUGIN_AUTH) && p < end) {
    plugin = p;
    if (!get_cstr(p, end)) goto bad;
  }
  s->c.client_caps = caps;
  if (db) copystr(s->db, sizeof s->db, (const char *)db);

  const char *pl = plugin ? (const char *)plugin : "caching_sha2_password";
  unsigned char sw[256];
  int known_plugin = !strcmp(pl, "caching_sha2_password") || !strcmp(pl, "mysql_native_password");
  /* auth = mysql_native_password: the account was created WITH mysql_native_password (GreatDB 8.0
   * accounts often are), so the server switches any other answer to that plugin, as mysqld does. */
  int account_switch = cfg.auth[0] && strcmp(pl, cfg.auth);
  if (!known_plugin || (resp_len == 0 && cfg.password[0]) || account_switch) {
    /* Another plugin, or an empty first answer (the client wants to be asked): send an auth switch
     * to the account's plugin, else to mysql_native_password if that is what it named, else to
     * caching_sha2_password. */
    const char *to = cfg.auth[0] ? cfg.auth
                     : !strcmp(pl, "mysql_native_password") ? "mysql_native_password" : "caching_sha2_password";
    mp_buf sb = {0};
    mp_put_u8(&sb, 0xfe);
    mp_put_cstr(&sb, to);
    mp_put(&sb, nonce, sizeof nonce);
    mp_put_u8(&sb, 0);
    rc = mp_write(&s->c, sb.p, sb.len);
    mp_buf_free(&sb);
    unsigned char *r2;
    size_t l2;
    if (rc || mp_read(&s->c, &r2, &l2)) goto fail;
    if (l2 > sizeof sw) l2 = sizeof sw;
    memcpy(sw, r2, l2);
    free(r2);
    resp = sw;
    resp_len = l2;
    if (!strcmp(to, "mysql_native_password") && resp_len == 21 && sw[20] == 0) resp_len = 20;
    pl = to;
  }
  int sha2 = !strcmp(pl, "caching_sha2_password");
  int ok = (!strcmp((const char *)user, cfg.user) || (cfg.extra_user[0] && !strcmp((const char *)user, cfg.extra_user))) &&
           (sha2 ? mp_check_caching_sha2(cfg.password, nonce, resp, resp_len)
                 : mp_check_native(cfg.password, nonce, resp, resp_len));
  if (!ok) {
    logf_("conn %u from %s: access denied for user '%.64s' (plugin %s, %zu byte response)", s->id, s->peer, (const char *)user, pl, resp_len);
    mp_send_err(&s->c, 1045, "28000", "Access denied for user '%.64s'@'%s' (using password: %s)", (const char *)user,
                s->peer, resp_len ? "YES" : "NO");
    goto fail;
  }
  if (sha2 && resp_len) {
    static const unsigned char fast_ok[2] = {0x01, 0x03};
    if (mp_write(&s->c, fast_ok, 2)) goto fail;
  }
  free(pkt);
  return mp_send_ok(&s->c, 0, 0, 2, 0, NULL) ? -1 : 0;
bad:
  logf_("conn %u from %s: malformed handshake response (%zu bytes)", s->id, s->peer, len);
  mp_send_err(&s->c, 1043, "08S01", "Bad handshake");
fail:
  free(pkt);
  return -1;
}

/* ---- connection loop and main ------------------------------------------------------------- */

static void *serve(void *arg) {
  session *s = arg;
  mysql_thread_init();
  if (handshake(s) == 0) {
    for (;;) {
      unsigned char *pkt;
      size_t len;
      int rc = mp_read(&s->c, &pkt, &len);
      if (rc == MP_TOOBIG) {
        mp_send_err(&s->c, 1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes (limit %u)", MP_MAX_PAYLOAD);
        break;
      }
      if (rc) break;
      if (len == 0) {
        rc = mp_send_err(&s->c, 1047, "08S01", "Empty command packet");
      } else if (pkt[0] == 0x01) { /* COM_QUIT */
        free(pkt);
        break;
      } else if (pkt[0] == 0x03) { /* COM_QUERY */
        rc = handle_query(s, (char *)pkt + 1, len - 1);
      } else if (pkt[0] == 0x0e) { /* COM_PING */
        rc = mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
      } else if (pkt[0] == 0x02) { /* COM_INIT_DB */
        copystr(s->db, sizeof s->db, (char *)pkt + 1);
        if (s->backend && mysql_select_db(s->backend, s->db)) rc = relay_error(s, s->backend);
        else rc = mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
      } else if (pkt[0] == 0x1f) { /* COM_RESET_CONNECTION */
        close_backend(s);
        rc = mp_send_ok(&s->c, 0, 0, 2, 0, NULL);
      } else {
        rc = mp_send_err(&s->c, 1047, "08S01", "Unknown command 0x%02x", pkt[0]);
      }
      free(pkt);
      if (rc) break;
    }
  }
  close_backend(s);
  if (s->c.ssl) {
    SSL_shutdown(s->c.ssl);
    SSL_free(s->c.ssl);
  }
  close(s->c.fd);
  mysql_thread_end();
  free(s);
  return NULL;
}

static volatile sig_atomic_t stopping;
static void on_signal(int sig) {
  (void)sig;
  if (cfg.pidfile[0]) unlink(cfg.pidfile);
  _exit(0);
}

int main(int argc, char **argv) {
  const char *config = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
    else if (!strncmp(argv[i], "--config=", 9)) config = argv[i] + 9;
    else {
      usage();
      return 2;
    }
  }
  if (!config) {
    usage();
    return 2;
  }
  if (read_config(config)) return 1;
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(join_time, sizeof join_time, "%Y-%m-%d %H:%M:%S", &tm);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  mysql_library_init(0, NULL, NULL);
  if (cfg.tls_cert[0]) {
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, cfg.tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, cfg.tls_key[0] ? cfg.tls_key : cfg.tls_cert, SSL_FILETYPE_PEM) != 1) {
      unsigned long e = ERR_get_error();
      logf_("cannot load tls_cert/tls_key: %s", e ? ERR_error_string(e, NULL) : "?");
      return 1;
    }
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
  }

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *ai;
  char port[16];
  snprintf(port, sizeof port, "%d", cfg.listen_port);
  int gai = getaddrinfo(cfg.listen_host[0] ? cfg.listen_host : NULL, port, &hints, &ai);
  if (gai) {
    logf_("cannot resolve listen address %s: %s", cfg.listen_host, gai_strerror(gai));
    return 1;
  }
  int lfd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 64)) {
    logf_("cannot listen on %s:%d: %s", cfg.listen_host, cfg.listen_port, strerror(errno));
    return 1;
  }
  freeaddrinfo(ai);
  if (cfg.pidfile[0]) {
    FILE *pf = fopen(cfg.pidfile, "w");
    if (pf) {
      fprintf(pf, "%d\n", (int)getpid());
      fclose(pf);
    }
  }
  logf_("listening on %s:%d as router of cluster %s, master %s, state %s", cfg.listen_host, cfg.listen_port,
        cfg.cluster, st.master, cfg.state_path);

  unsigned next_id = 1;
  for (;;) {
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept(lfd, (struct sockaddr *)&sa, &sl);
    if (fd < 0) {
      if (errno != EINTR) logf_("accept failed: %s", strerror(errno));
      continue;
    }
    session *s = calloc(1, sizeof *s);
    if (!s) {
      close(fd);
      continue;
    }
    s->c.fd = fd;
    s->id = next_id++;
    char hbuf[64] = "?";
    getnameinfo((struct sockaddr *)&sa, sl, hbuf, sizeof hbuf, NULL, 0, NI_NUMERICHOST);
    copystr(s->peer, sizeof s->peer, hbuf);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 3600}; /* a half-sent packet cannot pin a thread forever */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, serve, s)) {
      close(fd);
      free(s);
    }
    pthread_attr_destroy(&at);
  }
}
