#!/bin/sh
# fresh-lab.sh: the e2e fixtures' lab up, after taking down a lab an interrupted run left behind.
lab=$(dirname "$0")/../lab/lab
"$lab" down >/dev/null 2>&1
rm -f "$LAB_DIR.failed"   # drill.sh's mark of a failed case: this lab is new
rm -f "$LAB_DIR.points"   # the kill points e2e_main recorded on the old one (bench/faults.sh)
exec "$lab" up
