/* sql.h — what the rest of the program asks the sql driver outside Lua (drivers/sql.c). */
#ifndef FLASHRUN_SQL_H
#define FLASHRUN_SQL_H

/* "libmariadb 3.3.8" or "libmysqlclient 9.7.4": the client library flashrun runs with (the
 * version is the loaded library's, the name the one it was built against). */
const char *fr_sql_client_library(void);

#endif
