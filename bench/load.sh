#!/usr/bin/env bash
# Loads data into production on a running lab and waits until every standby node has it:
#   bench/load.sh LAB_DIR MIB     adds MIB MiB (in 64 MiB transactions) to bench.blob
#   bench/load.sh LAB_DIR drop    drops the bench schema
# Used by bench/restore_point.sh and bench/reflink.sh. (MySQL 9 has no MD5(): SHA2 makes the rows.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export LAB_DIR=${1:?usage: bench/load.sh LAB_DIR MIB|drop}
what=${2:?usage: bench/load.sh LAB_DIR MIB|drop}
# shellcheck disable=SC1091
source "$LAB_DIR/env"
q() { "$top/tests/lab/lab" sql "$1" "$2" | tail -n +2; }
# Written on production's master node itself (the router emulator is no bulk loader).
snet=${SI%:*}; snet=${snet%.*}; src=$snet.1:3308
if [[ $what == drop ]]; then
  q "$src" "DROP DATABASE IF EXISTS bench"
else
  q "$src" "CREATE DATABASE IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.blob (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)"
  for ((m = 0; m < what; m += 64)); do
    q "$src" "INSERT INTO bench.blob (b) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 64) SELECT REPEAT(SHA2(RAND(), 256), 16384) FROM s"
  done
fi
want=$(q "$src" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
tnet=${TI%:*}; tnet=${tnet%.*}
for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
  until [[ $(q "$h:3308" "SELECT GTID_SUBSET('$want', @@GLOBAL.gtid_executed)") == 1 ]]; do sleep 1; done
done
