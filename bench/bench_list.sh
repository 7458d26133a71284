#!/bin/sh
# bench_list.sh — how long `flashrun PLAN --list` takes (goal: under 50 ms per run).
# Usage: bench/bench_list.sh [FLASHRUN [PLAN [RUNS]]]
# Defaults: build/flashrun, plans/start.lua (tests/lua/plans/basic.lua until it exists), 20 runs.
# Prints the mean and the worst run in ms; exits 1 when the mean misses the goal.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
fr=${1:-$here/build/flashrun}
case $fr in /*) ;; *) fr=$(pwd)/$fr ;; esac
plan=${2:-$here/plans/start.lua}
[ -e "$plan" ] || plan=$here/tests/lua/plans/basic.lua
runs=${3:-20}
goal_ms=50
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
cd "$scratch"   # no ./flashback.ini, no ./log: --list must not need either
"$fr" "$plan" --list >/dev/null   # warm the page cache
total=0; worst=0; i=0
while [ $i -lt "$runs" ]; do
	t0=$(date +%s%N)
	"$fr" "$plan" --list >/dev/null
	t1=$(date +%s%N)
	us=$(( (t1 - t0) / 1000 ))
	total=$((total + us)); [ $us -gt $worst ] && worst=$us
	i=$((i + 1))
done
mean=$((total / runs))
printf 'flashrun --list %s: mean %d.%03d ms, worst %d.%03d ms over %d runs (goal < %d ms)\n' \
	"$(basename "$plan")" $((mean / 1000)) $((mean % 1000)) $((worst / 1000)) $((worst % 1000)) \
	"$runs" "$goal_ms"
[ $mean -lt $((goal_ms * 1000)) ]
