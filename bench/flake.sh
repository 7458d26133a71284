#!/usr/bin/env bash
# bench/flake.sh N [CTEST_REGEX] — does the e2e suite cry wolf? Runs the e2e label (or the tests
# matching CTEST_REGEX) N times in a row with a CPU hog of FLAKE_HOG busy processes (default 2,
# a shared 2-core machine's other work) beside it, then prints, per test, how many runs it failed
# and where its failing output is kept. A test that fails here without a flashrun defect is a
# harness defect: the suite must pass under load as it does on a quiet machine.
#
#   bench/flake.sh 3                      the whole e2e label, three times
#   bench/flake.sh 5 '^e2e_(lab_up|main|lab_down)$'
#   FLASHRUN_BUILD=build-x bench/flake.sh 3   another build directory (default build/; it sets
#                                         the labs' nets: FLASHRUN_TEST_NET)
# Exit status 0 when every run of every test passed. Not run by CI (about 10-20 min a round).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:?usage: bench/flake.sh N [CTEST_REGEX]}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/flake.sh: N must be a whole number of runs, not '$rounds'" >&2; exit 2; }
regex=${2:-}
build=${FLASHRUN_BUILD:-$top/build}
[[ -f $build/CTestTestfile.cmake ]] || { echo "bench/flake.sh: $build is not a configured build directory (cmake -S . -B build)" >&2; exit 2; }
hogs=${FLAKE_HOG:-2}
[[ $hogs =~ ^[0-9]+$ ]] || { echo "bench/flake.sh: FLAKE_HOG must be a number of busy processes, not '$hogs'" >&2; exit 2; }
work=$build/flake; rm -rf "$work"; mkdir -p "$work"

# The hog: busy shells, bounded (they end with this script, or after 6 h whatever happens).
hog_pids=()
stop_hog() { [[ ${#hog_pids[@]} == 0 ]] || kill "${hog_pids[@]}" 2>/dev/null; wait 2>/dev/null; hog_pids=(); }
trap stop_hog EXIT
for ((i = 0; i < hogs; i++)); do timeout 21600 sh -c 'while :; do :; done' & hog_pids+=($!); done

commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+="+uncommitted"
echo "bench/flake.sh: commit $commit, $rounds run(s) of ${regex:-the e2e label} with $hogs busy process(es) beside, on $(nproc) cores"

declare -A fails=() runs=()
select=(-L e2e); [[ -n $regex ]] && select=(-R "$regex")
for ((r = 1; r <= rounds; r++)); do
  t0=$SECONDS
  (cd "$build" && ctest "${select[@]}" --output-on-failure --timeout 1800) >"$work/run$r.log" 2>&1
  # ctest's result lines: " 3/24 Test #75: e2e_main .........   Passed   16.70 sec" (or ***Failed,
  # ***Timeout, ***Exception, Not Run).
  while read -r name verdict; do
    runs[$name]=$((${runs[$name]:-0} + 1))
    [[ $verdict == Passed ]] || fails[$name]="${fails[$name]:-}$r "
  done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) \.*[ *]*([A-Za-z]+).*/\1 \2/p' "$work/run$r.log")
  echo "run $r: $(grep -E '^[0-9]+% tests passed' "$work/run$r.log" || echo 'no ctest summary') in $((SECONDS - t0)) s (log: $work/run$r.log)"
done
stop_hog

[[ ${#runs[@]} -gt 0 ]] || { echo "bench/flake.sh: no test ran (see $work/run1.log)" >&2; exit 1; }
bad=0
for name in $(printf '%s\n' "${!runs[@]}" | sort); do
  f=${fails[$name]:-}
  n=$(wc -w <<<"$f")
  ((n > 0)) && bad=$((bad + 1))
  printf '%-28s failed %d/%d%s\n' "$name" "$n" "${runs[$name]}" "${f:+ (runs: ${f% })}"
done
echo "bench/flake.sh: $bad test(s) failed at least once in $rounds run(s)"
[[ $bad == 0 ]]
