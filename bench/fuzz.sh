#!/usr/bin/env bash
# bench/fuzz.sh SECONDS [TARGET...] — the libFuzzer harnesses in fuzz/ (ini, gtid, endpoint, cli
# by default), built with clang under ASan+UBSan in build-fuzz/ (FUZZ_BUILD overrides). Each is
# seeded with the inputs of the C unit tests (run once with FR_SEED_DIR: tests/unit/check.h's
# SEED), replays its regression inputs in fuzz/regressions/TARGET/, then runs for SECONDS.
# Prints executions and crashes per target; exits 1 when anything crashed. A crash input is
# left in build-fuzz/fuzz-crashes/: copy it into fuzz/regressions/TARGET/ once fixed.
set -euo pipefail
secs=${1:?usage: bench/fuzz.sh SECONDS [TARGET...]}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
B=${FUZZ_BUILD:-$top/build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ini gtid endpoint cli)
command -v clang >/dev/null || { echo "fuzz.sh: clang not found (scripts/install-deps installs it)" >&2; exit 2; }

mkdir -p "$B"
CC=clang cmake -S "$top" -B "$B" -DFLASHRUN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$B/cmake.log" 2>&1 ||
	{ cat "$B/cmake.log"; exit 2; }
build=()
for t in "${targets[@]}"; do build+=("fuzz_$t"); done
cmake --build "$B" -j"$(nproc 2>/dev/null || echo 2)" --target "${build[@]}" test_config test_gtid test_endpoint test_cli \
	>"$B/build.log" 2>&1 || { tail -40 "$B/build.log"; exit 2; }

# Seeds: every input the unit tests parse, plus the sample INI files.
seeds=$B/fuzz-seeds
rm -rf "$seeds" "$B/fuzz-crashes"
mkdir -p "$B/fuzz-crashes"
for t in ini gtid endpoint cli; do mkdir -p "$seeds/$t"; done
cp "$top"/tests/unit/*.ini "$seeds/ini/"
for u in test_config test_gtid test_endpoint test_cli; do
	(cd "$B/tests/unit" && FR_SEED_DIR=$seeds ASAN_OPTIONS=detect_leaks=0 "./$u" >/dev/null 2>&1) ||
		{ echo "fuzz.sh: unit test $u failed under the fuzz build" >&2; exit 2; }
done

status=0
printf '%-10s %14s %8s %7s %s\n' target executions crashes seeds "regressions replayed"
for t in "${targets[@]}"; do
	f=$B/fuzz/fuzz_$t
	corpus=$B/fuzz-corpus/$t
	mkdir -p "$corpus"
	reg=$top/fuzz/regressions/$t
	nreg=0
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		nreg=$(ls -A "$reg" | wc -l)
		"$f" -artifact_prefix="$B/fuzz-crashes/$t-regression-" "$reg"/* >"$B/fuzz-$t-regressions.log" 2>&1 ||
			{ echo "fuzz.sh: $t: a regression input crashes again (see $B/fuzz-$t-regressions.log)"; status=1; }
	fi
	"$f" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 -close_fd_mask=2 -max_len=4096 \
		-artifact_prefix="$B/fuzz-crashes/$t-" "$corpus" "$seeds/$t" >"$B/fuzz-$t.log" 2>&1 || true
	execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$B/fuzz-$t.log" | tail -1)
	crashes=$(find "$B/fuzz-crashes" -name "$t-*" | wc -l)
	[ "$crashes" -eq 0 ] || status=1
	printf '%-10s %14s %8s %7s %s\n' "$t" "${execs:-?}" "$crashes" "$(ls "$seeds/$t" | wc -l)" "$nreg"
	[ -n "$execs" ] || { echo "fuzz.sh: $t printed no statistics (see $B/fuzz-$t.log)"; status=1; }
done
[ $status = 0 ] || echo "fuzz.sh: crashes in $B/fuzz-crashes (logs: $B/fuzz-*.log)"
exit $status
