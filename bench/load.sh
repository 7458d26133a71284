#!/usr/bin/env bash
# Loads data into a running lab and waits until every standby node has it:
#   bench/load.sh LAB_DIR MIB     adds MIB MiB (in 64 MiB transactions) to bench.blob
#   bench/load.sh LAB_DIR drop    drops the bench schema
# LOAD_WHERE=production (default) writes on production's master and lets replication carry it;
# LOAD_WHERE=standby writes the same rows into each standby node directly, outside the binary log
# (sql_log_bin = 0, super_read_only lifted for the session's statements): the standby holds the
# data and production holds nothing, so a large benchmark does not also fill production's
# datadirs and every node's binary logs (a lab's shared disk). No GTID is created: the drill's
# GTID checks see nothing of it.
# Used by bench/scale.sh. (MySQL 9 has no MD5(): SHA2 makes the rows.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export LAB_DIR=${1:?usage: bench/load.sh LAB_DIR MIB|drop}
what=${2:?usage: bench/load.sh LAB_DIR MIB|drop}
where=${LOAD_WHERE:-production}
# shellcheck disable=SC1091
source "$LAB_DIR/env"
q() { "$top/tests/lab/lab" sql "$1" "$2" | tail -n +2; }
snet=${SI%:*}; snet=${snet%.*}; src=$snet.1:3308
tnet=${TI%:*}; tnet=${tnet%.*}
standby=("$tnet.1:3308" "$tnet.2:3308" "$tnet.3:3308")
rows="INSERT INTO bench.blob (b) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 64) SELECT REPEAT(SHA2(RAND(), 256), 16384) FROM s"
schema="CREATE DATABASE IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.blob (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)"
case $where in
  production)
    # Written on production's master node itself (the router emulator is no bulk loader).
    if [[ $what == drop ]]; then q "$src" "DROP DATABASE IF EXISTS bench"
    else
      q "$src" "$schema"
      for ((m = 0; m < what; m += 64)); do q "$src" "$rows"; done
    fi
    want=$(q "$src" "SELECT @@GLOBAL.gtid_executed" | tr -d '\n')
    for h in "${standby[@]}"; do
      until [[ $(q "$h" "SELECT GTID_SUBSET('$want', @@GLOBAL.gtid_executed)") == 1 ]]; do sleep 1; done
    done ;;
  standby)
    # Each statement list runs in one session: sql_log_bin and the lifted super_read_only hold for it only
    # (super_read_only is global: put back at the end of the same list).
    local_sql() { # NODE SQL: SQL outside the binary log, with the node's read-only state kept
      q "$1" "SET @ro = @@GLOBAL.read_only, @sro = @@GLOBAL.super_read_only; SET SESSION sql_log_bin = 0;
              SET GLOBAL super_read_only = 0; SET GLOBAL read_only = 0; $2;
              SET GLOBAL read_only = @ro; SET GLOBAL super_read_only = @sro"
    }
    for h in "${standby[@]}"; do
      if [[ $what == drop ]]; then local_sql "$h" "DROP DATABASE IF EXISTS bench"
      else
        local_sql "$h" "$schema"
        for ((m = 0; m < what; m += 64)); do local_sql "$h" "$rows"; done
      fi
    done ;;
  *) echo "LOAD_WHERE must be production or standby, not '$where'" >&2; exit 2 ;;
esac
# A real standby at rest has few dirty pages; a bulk load leaves up to its size of them, which the
# next clean shutdown (the reflink restore point's) would flush. Wait until InnoDB's background
# flushing has written them (at most 10 min), so a benchmark measures the data's size, not the load.
if [[ $what != drop ]]; then
  for h in "${standby[@]}"; do
    for ((i = 0; i < 600; i++)); do
      d=$(q "$h" "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Innodb_buffer_pool_pages_dirty'")
      ((d <= 256)) && break
      sleep 1
    done
    echo "load: $h has $d dirty pages after ${i} s"
  done
fi
