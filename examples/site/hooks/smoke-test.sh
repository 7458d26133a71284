#!/bin/sh
# The application's smoke test on the open standby: through the standby router
# ($FLASHRUN_TARGET_HOST:$FLASHRUN_TARGET_PORT) and with the application's own account — from
# its own client option file: flashrun hands no password to an executable — write a row and
# read it back. SMOKE_MYSQL is the client command (it gets -h HOST -P PORT -N -B and the SQL on
# stdin); the drill's writes, this one included, are thrown away by stop.
set -eu
client=${SMOKE_MYSQL:-mysql --defaults-extra-file=/etc/flashrun/smoke.cnf --protocol=TCP}
token="$FLASHRUN_PLAN-$(date +%s)-$$"
echo "smoke test through $FLASHRUN_TARGET_HOST:$FLASHRUN_TARGET_PORT (restore point ${FLASHRUN_RESTORE_POINT_GTID:-unknown})"
got=$($client -h "$FLASHRUN_TARGET_HOST" -P "$FLASHRUN_TARGET_PORT" -N -B <<SQL
CREATE DATABASE IF NOT EXISTS smoke_test;
CREATE TABLE IF NOT EXISTS smoke_test.runs (id INT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64) NOT NULL);
INSERT INTO smoke_test.runs (token) VALUES ('$token');
SELECT token FROM smoke_test.runs WHERE token = '$token';
SQL
)
if [ "$got" != "$token" ]; then
  echo "smoke test failed: wrote $token through the standby router, read back '$got'" >&2
  exit 1
fi
echo "smoke test passed: wrote and read back $token"
