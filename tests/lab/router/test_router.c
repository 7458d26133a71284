/* Tests for dbscale-emu that need no lab: the emulator runs on 127.0.0.1 with data nodes on
 * closed ports, and this client (libmariadb, plus raw sockets for hostile input) checks every
 * dbscale statement, read-only refusal, syntax errors, persistence across a restart and that
 * garbage never stops it serving. Usage: dbscale-emu-test PATH-TO-dbscale-emu */
#include <arpa/inet.h>
#include <errno.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h" /* tests/unit: the assertions every C test uses */

static const char *emu_path;
static char dir[256], conf[300], logpath[300];
static int port, node_port[2], target_port;
static pid_t emu_pid;
static const char *PW = "p@ss#w$rd ok"; /* characters that broke the old tool's INI reader */


static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &l);
  close(fd);
  return ntohs(a.sin_port);
}

static MYSQL *conn_pw(const char *pw, unsigned *err) {
  MYSQL *m = mysql_init(NULL);
  unsigned t = 5;
  unsigned long maxp = 64ul << 20;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &t);
  mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
  if (!mysql_real_connect(m, "127.0.0.1", "admin", pw, NULL, (unsigned)port, NULL, 0)) {
    if (err) *err = mysql_errno(m);
    mysql_close(m);
    return NULL;
  }
  return m;
}
static MYSQL *conn(void) { return conn_pw(PW, NULL); }

static void start_emu(void) {
  emu_pid = fork();
  if (emu_pid == 0) {
    FILE *l = freopen(logpath, "a", stderr);
    (void)l;
    execl(emu_path, emu_path, "--config", conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100; i++) {
    MYSQL *m = conn();
    if (m) {
      mysql_close(m);
      return;
    }
    usleep(50000);
  }
  fprintf(stderr, "emulator did not come up; log in %s\n", logpath);
  exit(1);
}

static void stop_emu(void) {
  kill(emu_pid, SIGTERM);
  waitpid(emu_pid, NULL, 0);
}

/* Runs q; returns the errno (0 on success) and the result if any. */
static unsigned q(MYSQL *m, const char *sql, MYSQL_RES **res) {
  if (res) *res = NULL;
  if (mysql_query(m, sql)) return mysql_errno(m);
  MYSQL_RES *r = mysql_store_result(m);
  if (res) *res = r;
  else if (r) mysql_free_result(r);
  return 0;
}

static int has_columns(MYSQL_RES *r, const char *const *names, unsigned n) {
  if (!r || mysql_num_fields(r) != n) return 0;
  MYSQL_FIELD *f = mysql_fetch_fields(r);
  for (unsigned i = 0; i < n; i++)
    if (strcmp(f[i].name, names[i])) {
      fprintf(stderr, "  column %u is '%s', want '%s'\n", i, f[i].name, names[i]);
      return 0;
    }
  return 1;
}

/* Value of column col in the row whose first column is key (NULL if none). */
static char cell[1024];
static const char *lookup(MYSQL_RES *r, const char *key, unsigned col) {
  if (!r) return NULL;
  mysql_data_seek(r, 0);
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r)))
    if (row[0] && !strcmp(row[0], key)) {
      snprintf(cell, sizeof cell, "%s", row[col] ? row[col] : "NULL");
      return cell;
    }
  return NULL;
}

static const char *const DS_COLS[] = {"servername", "host", "port", "username", "status", "master-online-status",
                                      "master_backup", "remote_user", "remote_port",
                                      "max_needed_conn/max_mysql_conn", "master_priority"};

static void test_statements(void) {
  unsigned e = 0;
  CHECKF(!conn_pw("wrong", &e) && e == 1045, "wrong password must be refused with 1045, got %u", e);
  MYSQL *m = conn();
  MYSQL_RES *r;
  const char *v = NULL;

  struct timeval t0, t1;
  gettimeofday(&t0, NULL);
  CHECKF(q(m, "dbscale show dataservers", &r) == 0, "show dataservers: %s", mysql_error(m));
  gettimeofday(&t1, NULL);
  CHECKF(has_columns(r, DS_COLS, 11), "show dataservers columns");
  CHECKF(r && mysql_num_rows(r) == 2, "two dataservers");
  CHECKF((v = lookup(r, "normal_0_0", 5)) && !strcmp(v, "Master_Online"), "first node is Master_Online");
  CHECKF((v = lookup(r, "normal_0_0", 4)) && strstr(v, "down"), "unreachable master shows down, got %s", v);
  CHECKF((v = lookup(r, "normal_0_1", 4)) && strstr(v, "down"), "unreachable slave shows down, got %s", v);
  CHECKF((v = lookup(r, "normal_0_1", 5)) && !strcmp(v, "Not_A_Master"), "second node Not_A_Master");
  CHECKF((v = lookup(r, "normal_0_1", 3)) && !strcmp(v, "dbscale_internal"), "username is the backend user");
  CHECKF((v = lookup(r, "normal_0_1", 2)) && atoi(v) == node_port[1], "port column");
  CHECKF(t1.tv_sec - t0.tv_sec < 4, "show dataservers must stay fast with dead nodes");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "  DBSCALE   Show   DataServers ; ", &r) == 0 && r && mysql_num_rows(r) == 2,
        "keywords are case-insensitive, whitespace flexible, trailing ';' allowed");
  if (r) mysql_free_result(r);

  static const char *const CI[] = {"master_dbscale", "cluster_server_id", "host", "join time", "ka init Version",
                                   "ka update Version", "dynamic node Version", "dynamic space Version",
                                   "master re-scramble delay", "dbscale version"};
  char hp[64];
  snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
  CHECKF(q(m, "dbscale request cluster info", &r) == 0 && has_columns(r, CI, 10), "cluster info columns");
  CHECKF((v = lookup(r, "master", 2)) && !strcmp(v, hp), "cluster info host is the router address, got %s", v);
  if (r) mysql_free_result(r);

  static const char *const NG[] = {"next_group_id"};
  CHECKF(q(m, "dbscale request next group id", &r) == 0 && has_columns(r, NG, 1), "next group id");
  CHECKF(r && mysql_num_rows(r) == 1 && (v = lookup(r, "1", 0)), "next group id starts at 1");
  if (r) mysql_free_result(r);

  static const char *const OPT[] = {"option_name", "value"};
  CHECKF(q(m, "dbscale show options like '%slave-dbscale-mode%'", &r) == 0 && has_columns(r, OPT, 2) &&
            mysql_num_rows(r) == 1 && (v = lookup(r, "slave-dbscale-mode", 1)) && !strcmp(v, "0"),
        "slave-dbscale-mode defaults to 0");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show options like 'transparent-mode'", &r) == 0 && r && mysql_num_rows(r) == 0,
        "an unset transparent-mode answers an empty result");
  if (r) mysql_free_result(r);
  /* string escapes as MySQL reads them: \_ keeps its backslash for LIKE, which then matches a
   * literal '_' (no option has one); _ alone is the wildcard and matches the '-' */
  CHECKF(q(m, "dbscale show options like 'slave\\_dbscale%'", &r) == 0 && r && mysql_num_rows(r) == 0,
        "LIKE 'slave\\_dbscale%%' matches only a literal underscore");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show options like 'slave_dbscale\\-mode'", &r) == 0 && r && mysql_num_rows(r) == 1,
        "LIKE 'slave_dbscale\\-mode': _ is a wildcard, \\- is '-'");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show options", &r) == 0 && (v = lookup(r, "max-replication-delay", 1)) && !strcmp(v, "30") &&
            (v = lookup(r, "enable-disaster-mode", 1)) && !strcmp(v, "0") && lookup(r, "enable-slave-dbscale-server", 1),
        "every option a drill reads is listed (max-replication-delay 30, enable-disaster-mode 0)");
  if (r) mysql_free_result(r);
  /* replication control is refused while slave-dbscale-mode is off, in either spelling */
  static const char *const slave_ctl[] = {"STOP SLAVE", "  start slave io_thread", "/* x */ RESET SLAVE ALL",
                                          "CHANGE MASTER TO MASTER_HOST='h'", "stop replica", "reset replica",
                                          "CHANGE REPLICATION SOURCE TO SOURCE_HOST='h'"};
  for (size_t i = 0; i < sizeof slave_ctl / sizeof *slave_ctl; i++)
    CHECKF(q(m, slave_ctl[i], NULL) == 9001 && strstr(mysql_error(m), "'slave-dbscale-mode' is off"),
          "'%s' with slave-dbscale-mode off: want 9001, got %u %s", slave_ctl[i], mysql_errno(m), mysql_error(m));
  CHECKF(q(m, "start group_replication", NULL) == 1105, "other statements are forwarded, got %u", mysql_errno(m));
  CHECKF(q(m, "dbscale set global 'slave-dbscale-mode'=1", NULL) == 1105 && strstr(mysql_error(m), "enable-disaster-mode"),
        "slave-dbscale-mode cannot change while enable-disaster-mode is off: %u %s", mysql_errno(m), mysql_error(m));
  CHECKF(q(m, "dbscale set global 'enable-disaster-mode' = TRUE", NULL) == 0, "TRUE sets a boolean: %s", mysql_error(m));
  CHECKF(q(m, "dbscale set global 'enable-disaster-mode' = maybe", NULL) == 1231, "a boolean takes no other word");
  CHECKF(q(m, "dbscale set global 'max-replication-delay' = 'x'", NULL) == 1231, "the delay is a number");
  CHECKF(q(m, "dbscale show options like 'enable-disaster-mode'", &r) == 0 && (v = lookup(r, "enable-disaster-mode", 1)) &&
            !strcmp(v, "1"),
        "booleans are shown as 0/1 by default, got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale set global 'slave-dbscale-mode'=1", NULL) == 0, "set slave-dbscale-mode: %s", mysql_error(m));
  CHECKF(q(m, "dbscale show options like 'slave-dbscale-mode'", &r) == 0 && (v = lookup(r, "slave-dbscale-mode", 1)) &&
            !strcmp(v, "1"),
        "slave-dbscale-mode now 1");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale set global 'no-such-option'=1", NULL) == 1193, "unknown option refused");

  /* read-only */
  CHECKF(q(m, "dbscale set global \"enable-read-only\" = 1", NULL) == 0, "set read-only");
  CHECKF(q(m, "insert into t values (1)", NULL) == 1290, "write refused when read-only: %u %s", mysql_errno(m),
        mysql_error(m));
  CHECKF(q(m, "/* c */ DELETE FROM t", NULL) == 1290, "delete refused when read-only");
  CHECKF(q(m, "set global read_only=0", NULL) == 1290, "SET GLOBAL refused when read-only");
  CHECKF(q(m, "select 1", NULL) == 1105, "reads are forwarded (master unreachable -> 1105), got %u", mysql_errno(m));
  CHECKF(q(m, "stop replica", NULL) == 1105, "replication control passes read-only, got %u", mysql_errno(m));
  CHECKF(q(m, "dbscale set global 'enable-read-only' = 0", NULL) == 0, "clear read-only");
  CHECKF(q(m, "insert into t values (1)", NULL) == 1105, "writes forwarded again, got %u", mysql_errno(m));

  /* the slave_dbscale_server registration, as the drill's stop phase does it */
  char sql[512];
  snprintf(sql, sizeof sql,
           "dbscale dynamic ADD DATASERVER server_name=slave_dbscale_server,server_host=\"127.0.0.1\",server_port=%d,"
           "server_user=\"admin\",server_password=\"%s\",dbscale_server",
           target_port, "x'y\"z");
  CHECKF(q(m, sql, NULL) == 1064, "an unescaped quote inside a value is a syntax error");
  snprintf(sql, sizeof sql,
           "dbscale dynamic ADD DATASERVER server_name=slave_dbscale_server,server_host=\"127.0.0.1\",server_port=%d,"
           "server_user=\"admin\",server_password=\"%s\",dbscale_server",
           target_port, "x'y\\\"z\"\"w");
  CHECKF(q(m, sql, NULL) == 0, "backslash-escaped and doubled quotes are accepted: %s", mysql_error(m));
  CHECKF(q(m, "dbscale dynamic remove dataserver slave_dbscale_server", NULL) == 0, "remove it again: %s",
        mysql_error(m));
  snprintf(sql, sizeof sql,
           "dbscale dynamic ADD DATASERVER server_name=slave_dbscale_server,server_host=\"127.0.0.1\",server_port=%d,"
           "server_user=\"admin\",server_password=\"secret\",dbscale_server",
           target_port);
  CHECKF(q(m, sql, NULL) == 0, "add dataserver: %s", mysql_error(m));
  CHECKF(q(m, sql, NULL) == 1105, "adding it twice fails");
  CHECKF(q(m, "dbscale dynamic add server datasource slave_dbscale_source slave_dbscale_server-1-1000-400-800 group_id = 7",
          NULL) == 0,
        "add server datasource: %s", mysql_error(m));
  CHECKF(q(m, "dbscale dynamic add server datasource x nosuch-1-1000-400-800 group_id =8", NULL) == 1105,
        "datasource on a missing dataserver fails");
  CHECKF(q(m, "dbscale request next group id", &r) == 0 && lookup(r, "8", 0), "next group id follows the used ones");
  if (r) mysql_free_result(r);
  static const char *const SRC[] = {"Name", "Type", "Server", "ServerHostInfo", "ServerStatus", "SourceStatus",
                                    "Is-internal"};
  char hi[64];
  snprintf(hi, sizeof hi, "127.0.0.1:%d", node_port[1]);
  CHECKF(q(m, "dbscale show datasource type=server", &r) == 0 && has_columns(r, SRC, 7) && mysql_num_rows(r) == 3 &&
            (v = lookup(r, "slave_dbscale_source", 2)) && !strcmp(v, "slave_dbscale_server") &&
            (v = lookup(r, "slave_dbscale_source", 3)) && !*v && (v = lookup(r, "slave_dbscale_source", 1)) &&
            !strcmp(v, "Server") && (v = lookup(r, "normal_0_normal_0_1", 3)) && !strcmp(v, hi),
        "server datasources: <datasource>_<server> with host info, none for the router");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && mysql_num_rows(r) == 3 &&
            (v = lookup(r, "slave_dbscale_server", 4)) && strstr(v, "down"),
        "a router-type dataserver whose router does not answer shows down");
  CHECKF((v = lookup(r, "slave_dbscale_server", 7)) && !*v, "router-type dataserver has no remote_user");
  CHECKF((v = lookup(r, "slave_dbscale_server", 3)) && !strcmp(v, "admin"), "router-type dataserver shows its registered user");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale dynamic add slave slave_dbscale_source to normal_0", NULL) == 1105,
        "add slave fails when the target router is down");
  static const char *const REP[] = {
      "Name", "Type", "SourceStatus", "LoadBalanceStrategy", "MasterSource", "MasterSourceStatus", "MasterServer",
      "MasterServerHostInfo", "MasterServerStatus", "SelectMasterTime", "SlaveSource", "SlaveSourceStatus",
      "SlaveServers", "SlaveServerHostInfo", "SlaveServerStatus", "SlaveExecutedGtidStatus", "SlaveDBScale"};
  CHECKF(q(m, "dbscale show datasource type =replication", &r) == 0 && has_columns(r, REP, 17) && mysql_num_rows(r) == 1 &&
            (v = lookup(r, "normal_0", 4)) && !strcmp(v, "normal_0_normal_0_0") && (v = lookup(r, "normal_0", 10)) &&
            !strcmp(v, "normal_0_normal_0_1") && (v = lookup(r, "normal_0", 13)) && !strcmp(v, hi) &&
            (v = lookup(r, "normal_0", 16)) && !strcmp(v, "No"),
        "a failed add slave does not register the slave; the first row carries master and first slave");
  if (r) mysql_free_result(r);

  /* enable/disable */
  CHECKF(q(m, "dbscale disable dataserver normal_0_0", NULL) == 1105, "the master cannot be disabled");
  CHECKF(q(m, "dbscale disable dataserver normal_0_1", NULL) == 0, "disable: %s", mysql_error(m));
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && (v = lookup(r, "normal_0_1", 4)) && !strcmp(v, "server disabled"),
        "disabled dataserver says 'server disabled', got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);

  /* the lab's status knob */
  CHECKF(q(m, "dbscale emulator status normal_0_0 = 'Server normal, semisync down'", NULL) == 0, "status knob: %s",
        mysql_error(m));
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && (v = lookup(r, "normal_0_0", 4)) &&
            !strcmp(v, "Server normal, semisync down"),
        "the status knob's text is shown, got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale emulator status normal_0_0 = ''", NULL) == 0, "status knob cleared");
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && (v = lookup(r, "normal_0_0", 4)) && strstr(v, "down") &&
            !strstr(v, "semisync"),
        "the probed status is back, got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale emulator status nosuch = 'x'", NULL) == 1105, "status knob on a missing server fails");
  CHECKF(q(m, "dbscale enable dataserver normal_0_1", NULL) == 1105, "enable needs the node to answer");
  CHECKF(q(m, "dbscale enable dataserver slave_dbscale_server", NULL) == 0, "enable of a router-type server is a no-op");
  CHECKF(q(m, "dbscale enable dataserver nosuch", NULL) == 1105, "enable of a missing server fails");

  /* syntax errors */
  static const char *const bad[] = {"dbscale", "dbscale foo", "dbscale show", "dbscale show dataservers extra",
                                    "dbscale set global 'x", "dbscale set global 'a'=", "dbscale dynamic add dataserver server_name=",
                                    "dbscale dynamic add dataserver server_name=a,,server_host=b",
                                    "dbscale dynamic add server datasource a b-1-2-3-4 group_id = x",
                                    "dbscale dynamic add server datasource a b group_id = 1",
                                    "dbscale dynamic add slave a to", "dbscale show datasource type=foo",
                                    "dbscale show options like", "dbscale enable dataserver", "dbscale dynamic remove",
                                    "dbscale \x01\x02\xff"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECKF(q(m, bad[i], NULL) == 1064, "'%s' must be a syntax error, got %u", bad[i], mysql_errno(m));
  mysql_close(m);
}

static void test_persistence(void) {
  MYSQL *m = conn();
  CHECKF(q(m, "dbscale dynamic remove dataserver slave_dbscale_server", NULL) == 1105,
        "a dataserver used by a datasource cannot be removed");
  mysql_close(m);
  stop_emu();
  start_emu();
  m = conn();
  MYSQL_RES *r;
  const char *v = NULL;
  CHECKF(q(m, "dbscale show options like 'slave-dbscale-mode'", &r) == 0 && (v = lookup(r, "slave-dbscale-mode", 1)) &&
            !strcmp(v, "1"),
        "option survives a restart");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && mysql_num_rows(r) == 3 &&
            (v = lookup(r, "normal_0_1", 4)) && !strcmp(v, "server disabled"),
        "dataservers and disabled flag survive a restart");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show datasource type=server", &r) == 0 && lookup(r, "slave_dbscale_source", 0),
        "datasource survives a restart");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale dynamic remove datasource slave_dbscale_source", NULL) == 0, "remove datasource");
  CHECKF(q(m, "dbscale dynamic remove dataserver slave_dbscale_server;", NULL) == 0, "remove dataserver");
  CHECKF(q(m, "dbscale dynamic remove dataserver slave_dbscale_server", NULL) == 1105, "second remove fails");
  CHECKF(q(m, "dbscale show dataservers", &r) == 0 && mysql_num_rows(r) == 2, "back to two dataservers");
  if (r) mysql_free_result(r);
  mysql_close(m);

  /* the other boolean form: the same state shown as TRUE/FALSE */
  stop_emu();
  FILE *cf = fopen(conf, "a");
  fputs("booleans = words\n", cf);
  fclose(cf);
  start_emu();
  m = conn();
  CHECKF(q(m, "dbscale show options like '%mode%'", &r) == 0 && (v = lookup(r, "slave-dbscale-mode", 1)) &&
            !strcmp(v, "TRUE") && (v = lookup(r, "enable-disaster-mode", 1)) && !strcmp(v, "TRUE"),
        "booleans = words shows TRUE, got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale set global \"enable-read-only\" = 0", NULL) == 0 &&
            q(m, "dbscale show options like 'enable-read-only'", &r) == 0 && (v = lookup(r, "enable-read-only", 1)) &&
            !strcmp(v, "FALSE"),
        "booleans = words shows FALSE, got %s", v ? v : "nothing");
  if (r) mysql_free_result(r);
  CHECKF(q(m, "dbscale show options like 'max-replication-delay'", &r) == 0 &&
            (v = lookup(r, "max-replication-delay", 1)) && !strcmp(v, "30"),
        "a number stays a number");
  if (r) mysql_free_result(r);
  mysql_close(m);
  /* the state file must not be readable by others: it holds a password */
  char sp[320];
  snprintf(sp, sizeof sp, "%s/state", dir);
  FILE *f = fopen(sp, "r");
  CHECKF(f != NULL, "state file exists");
  if (f) fclose(f);
}

/* ---- hostile input ------------------------------------------------------------------------ */

static int raw_connect(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads one packet; returns its first payload byte or -1. */
static int read_packet(int fd) {
  unsigned char h[4];
  size_t got = 0;
  while (got < 4) {
    ssize_t n = recv(fd, h + got, 4 - got, 0);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  size_t len = h[0] | h[1] << 8 | h[2] << 16;
  unsigned char *p = malloc(len + 1);
  got = 0;
  while (got < len) {
    ssize_t n = recv(fd, p + got, len - got, 0);
    if (n <= 0) {
      free(p);
      return -1;
    }
    got += (size_t)n;
  }
  int first = len ? p[0] : 0;
  free(p);
  return first;
}

static void test_hostile(void) {
  /* garbage handshake response -> ERR, connection closed */
  int fd = raw_connect();
  CHECKF(fd >= 0 && read_packet(fd) == 10, "greeting is protocol v10");
  unsigned char junk[64];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 37 + 11);
  unsigned char hdr[4] = {sizeof junk, 0, 0, 1};
  send(fd, hdr, 4, MSG_NOSIGNAL);
  send(fd, junk, sizeof junk, MSG_NOSIGNAL);
  CHECKF(read_packet(fd) == 0xff, "garbage handshake answered with ERR");
  CHECKF(read_packet(fd) == -1, "and the connection is closed");
  close(fd);

  /* a 0xFFFFFF length followed by a truncated body, then hang up */
  fd = raw_connect();
  read_packet(fd);
  unsigned char big[4] = {0xff, 0xff, 0xff, 1};
  send(fd, big, 4, MSG_NOSIGNAL);
  send(fd, junk, sizeof junk, MSG_NOSIGNAL);
  close(fd);

  /* short packet, and raw bytes that are not even a header */
  fd = raw_connect();
  read_packet(fd);
  unsigned char tiny[6] = {2, 0, 0, 1, 0x41, 0x42};
  send(fd, tiny, sizeof tiny, MSG_NOSIGNAL);
  CHECKF(read_packet(fd) == 0xff, "2-byte handshake response answered with ERR");
  close(fd);
  fd = raw_connect();
  send(fd, "\x01", 1, MSG_NOSIGNAL);
  close(fd);

  /* after login: unknown commands, huge and multi-packet queries */
  MYSQL *m = conn();
  CHECKF(m != NULL, "still accepts logins after garbage");
  if (!m) return;
  MYSQL_STMT *st = mysql_stmt_init(m);
  CHECKF(mysql_stmt_prepare(st, "select 1", 8) != 0 && mysql_stmt_errno(st) == 1047,
        "COM_STMT_PREPARE answered with ERR 1047, got %u", mysql_stmt_errno(st));
  mysql_stmt_close(st);
  CHECKF(mysql_ping(m) == 0, "session keeps working after an unknown command");

  size_t big_len = 10u << 20;
  char *qbuf = malloc(big_len + 32);
  strcpy(qbuf, "dbscale show options like '");
  memset(qbuf + strlen(qbuf), 'x', big_len);
  qbuf[27 + big_len] = '\'';
  qbuf[28 + big_len] = 0;
  CHECKF(mysql_real_query(m, qbuf, strlen(qbuf)) != 0 && mysql_errno(m) == 1064, "10 MB dbscale statement -> 1064, got %u",
        mysql_errno(m));
  free(qbuf);
  big_len = 17u << 20; /* more than one 16 MiB packet */
  qbuf = malloc(big_len + 32);
  strcpy(qbuf, "select '");
  memset(qbuf + 8, 'y', big_len);
  strcpy(qbuf + 8 + big_len, "'");
  CHECKF(mysql_real_query(m, qbuf, strlen(qbuf)) != 0 && mysql_errno(m) == 1105,
        "17 MB query read across packets and forwarded (-> 1105 dead master), got %u %s", mysql_errno(m), mysql_error(m));
  free(qbuf);
  CHECKF(mysql_ping(m) == 0, "session alive after huge queries");
  mysql_close(m);

  m = conn();
  MYSQL_RES *r;
  CHECKF(m && q(m, "dbscale show dataservers", &r) == 0 && r, "server keeps serving after hostile input");
  if (r) mysql_free_result(r);
  if (m) mysql_close(m);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH-TO-dbscale-emu\n", argv[0]);
    return 2;
  }
  emu_path = argv[1];
  snprintf(dir, sizeof dir, "/tmp/dbscale-emu-test.XXXXXX");
  if (!mkdtemp(dir)) return 2;
  snprintf(conf, sizeof conf, "%s/router.conf", dir);
  snprintf(logpath, sizeof logpath, "%s/router.log", dir);
  port = free_port();
  node_port[0] = free_port();
  node_port[1] = free_port();
  target_port = free_port();
  FILE *f = fopen(conf, "w");
  fprintf(f,
          "# test router\nlisten = 127.0.0.1:%d\nstate = %s/state\npidfile = %s/pid\nuser = admin\npassword = %s\n"
          "backend_user = dbscale_internal\nbackend_password = %s\ncluster = normal_0\n"
          "node = normal_0_0 127.0.0.1 %d\nnode = normal_0_1 127.0.0.1 %d\n",
          port, dir, dir, PW, PW, node_port[0], node_port[1]);
  fclose(f);
  mysql_library_init(0, NULL, NULL);
  start_emu();
  test_statements();
  test_hostile();
  test_persistence();
  stop_emu();

  /* the log must never contain a password */
  char cmd[600];
  snprintf(cmd, sizeof cmd, "grep -c -e 'p@ss' -e secret %s >/dev/null", logpath);
  CHECKF(system(cmd) != 0, "log %s mentions a password", logpath);
  printf("%d checks, %d failures\n", checks, failures);
  if (!failures) {
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
  } else
    fprintf(stderr, "emulator log and state kept in %s\n", dir);
  return failures ? 1 : 0;
}
