#!/bin/sh
# fresh-lab.sh: the e2e fixtures' lab up, after taking down a lab an interrupted run left behind.
lab=$(dirname "$0")/../lab/lab
"$lab" down >/dev/null 2>&1
exec "$lab" up
