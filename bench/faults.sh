#!/usr/bin/env bash
# bench/faults.sh — the fault matrix (issue 17) on one running lab (LAB_DIR), reused between
# cases: a finished drill leaves it as it found it.
#
# For each restore-point strategy, one clean drill enumerates the kill points start and stop pass
# (FLASHRUN_TEST_POINTS: every SQL write, remote command and journal write, named by the runtime;
# needs a build with -DFLASHRUN_KILLPOINTS=ON). Then, for every point:
#   start/<point>         start killed there (FLASHRUN_TEST_KILL), start re-run, drill, stop;
#   start/<point>@stop    start killed there, then straight to stop (what docs/operator.md says
#                         when stop refuses is followed: re-run start, then stop);
#   stop/<point>          start, drill, stop killed there, stop re-run;
# each then checked like e2e_main (tests/e2e/checks.sh: check_restored). Every FAULTS_SECOND-th
# case also kills its recovery run once, at a point of the same plan chosen by the harness.
# The cases in bench/faults.regressions (points found broken once) run first, in every run
# (those marked `bench` only when not sampling).
# Node faults (FAULTS_NODE=1): a standby mysqld killed mid-clone, right after the swap and during
# the restart, and killed during the drill then started with its replication (under donor: the
# donor); a standby sshd stopped and started; both routers restarted during the drill; on a
# lab whose hosts have filesystems of their own (LAB_FS), tgt2's disk full before verify (refused)
# and once start's checks passed, before its restore points (start fails and rolls back, keeping
# nothing; where a node cannot start again on the full disk, the named recovery is followed).
# Prints one line per case and `survived X/Y` per strategy, naming the failing cases.
#
#   LAB_DIR=... bench/faults.sh                   every point, strategies local and donor (and
#                                                 reflink when LAB_FS is xfs/btrfs), node faults
#   FAULTS_STRATEGIES="local"                     strategies to run
#   FAULTS_PLANS="start stop"                     whose points to kill
#   FAULTS_MATCH=REGEX                            only the points matching REGEX
#   FAULTS_SAMPLE=N FAULTS_SEED=S                 N points per strategy, picked from seed S
#                                                 (CI: the commit hash)
#   FAULTS_VARIANTS="rerun stop"                  recoveries for start's points
#   FAULTS_SECOND=N                               second kill in every N-th case (0: none)
#   FAULTS_NODE=0|1                               node faults (default 1 unless sampling)
#   FAULTS_NODE_CASES="sshd routers ..."          only these node faults
#   FAULTS_BUDGET=SECONDS                         stop starting cases after that long
#   FAULTS_FROM=K                                 start at the K-th case (resuming a matrix)
#   FAULTS_POINTS_FROM=FILE                       the points a drill recorded already (one
#                                                 strategy; FLASHRUN_TEST_POINTS of that drill)
#   FAULTS_KEEP=1                                 stop at the first failed case, leaving the lab
#                                                 as it left it (to look at), not rebuilt
#   FAULTS_RESUME="OUT..."                        skip the cases these earlier runs' outputs
#                                                 (this script's stdout) show survived: a matrix
#                                                 spread over several runs. Unlike FAULTS_FROM it
#                                                 does not depend on the order a drill passed the
#                                                 points in (parallel steps interleave them)
# Exit status 0 when every case survived.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLASHRUN:-$top/build/flashrun}
: "${LAB_DIR:?LAB_DIR must name a running lab (tests/lab/lab up)}"
grep -q '^test options:.*killpoints' <<<"$("$bin" --version)" ||
  { echo "bench/faults.sh: $bin was built without kill points (cmake -DFLASHRUN_KILLPOINTS=ON)" >&2; exit 2; }
# shellcheck source=tests/e2e/checks.sh
source "$top/tests/e2e/checks.sh"

work=${FAULTS_WORK:-$LAB_DIR.faults}; mkdir -p "$work"   # outside LAB_DIR: a rebuilt lab is a new dir
if [[ -e $LAB_DIR.failed ]]; then # drill.sh's mark: a case left the lab mid-drill
  echo "a previous case failed ($(cat "$LAB_DIR.failed")): rebuilding the lab"
  "$top/tests/e2e/fresh-lab.sh" >/dev/null || { echo "bench/faults.sh: cannot rebuild the lab" >&2; exit 1; }
fi
out=$work/flashrun.out   # fr's tee: everything flashrun printed (the case logs hold it too)
sample=${FAULTS_SAMPLE:-0}
seedtext=${FAULTS_SEED:-$(git -C "$top" rev-parse HEAD 2>/dev/null || echo 0)}
second_every=${FAULTS_SECOND:-5}
node_faults=${FAULTS_NODE:-$([[ $sample == 0 ]] && echo 1 || echo 0)}
budget=${FAULTS_BUDGET:-0}
variants=${FAULTS_VARIANTS:-rerun stop}
strategies=${FAULTS_STRATEGIES:-local donor$([[ ${LAB_FS:-dir} != dir ]] && echo " reflink")}
t_start=$SECONDS
# What a figure taken from this run must state (docs/testing.md): the commit, the seed and the
# command. A tree with uncommitted changes is said to be one.
commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+="+uncommitted"
echo "bench/faults.sh: commit $commit, seed $seedtext, strategies: $strategies, sample ${sample/#0/every point}, lab $LAB_DIR ($(uname -m), ${LAB_FS:-dir})"
echo "bench/faults.sh: command: $(env | grep -E '^FAULTS_[A-Z_]+=' | sort | tr '\n' ' ')bench/faults.sh"

use_strategy() {
  strategy=$1
  extra=(--set "site.restore_point=$strategy")
  cow=0; [[ $strategy == reflink ]] && cow=1
}

# A run killed at a point: 137 (SIGKILL) when it got there. Its output goes to the case's log.
killed_at() { # POINT PLAN
  local rc
  FLASHRUN_TEST_KILL=$1 fr "$2" -v >>"$caselog" 2>&1; rc=$?
  [[ $rc == 137 ]] && return
  # Which writes a run makes can depend on the state (variables put back only where they differ):
  # a point the clean drill passed may not be on this run's way. Reported apart, not counted.
  if [[ $rc == 0 ]]; then
    echo "UNREACHED: $2 did not pass $1"
    [[ $2 == start ]] && { fr stop -v >>"$caselog" 2>&1 || fail "stop after an unreached start point (exit $?)"; }
    exit 99
  fi
  fail "$2 was not killed at $1 (exit $rc)"
}

# The recovery run of PLAN; with SECOND set, killed once more there first (then run again).
recover() { # PLAN
  local rc
  if [[ -n ${second:-} ]]; then
    FLASHRUN_TEST_KILL=$second fr "$1" -v >>"$caselog" 2>&1; rc=$?
    echo "second kill at $second: exit $rc" >>"$caselog"
    case $rc in
    0) return 0 ;;  # the point was not on this run's way: it finished the recovery
    137) ;;
    3) ;;           # refused: judged with the re-run below (a finished stop: nothing to stop)
    *) fail "the recovery run of $1 meant to be killed at $second ended with exit $rc" ;;
    esac
  fi
  local from; from=$(wc -l <"$caselog")
  fr "$1" -v >>"$caselog" 2>&1; rc=$?
  [[ $rc == 0 ]] && return 0
  # A run killed once its last step was done had finished (only journal writes were left): stop
  # had ended the drill, and a re-run's answer is "nothing to stop"; start had opened the
  # standby, and a re-run's answer is "a drill is open" (exit 3 both, as docs/operator.md says).
  # The case then goes on (drill, stop) and its data is checked like any other.
  local last said
  case $1 in
  start) last='open the standby read-write'; said='a drill is open since' ;;
  stop) last='write the drill report'; said='nothing to stop' ;;
  esac
  # (grep reads the whole input, not -q on a pipe: under pipefail the writer's SIGPIPE, when
  # grep -q stops at a match before the end, failed the test at random.)
  if [[ $rc == 3 ]] && sed -n "1,${from}p" "$caselog" | grep "Step \([0-9]*\)/\1 $last … ok" >/dev/null &&
     tail -n +"$((from + 1))" "$caselog" | grep -- "$said" >/dev/null; then
    echo "the killed $1 had finished: the re-run says so ($said, exit 3)" >>"$caselog"
    return 0
  fi
  fail "re-run of $1 (exit $rc)"
}

# Straight to stop after a killed start: stop finishes the drill, or refuses (3) naming what to
# run first, which is followed (docs/operator.md).
recover_with_stop() {
  local rc
  fr stop -v >>"$caselog" 2>&1; rc=$?
  case $rc in
  0) ;;
  3) tail -5 "$caselog" | grep 're-run plans/start.lua' >/dev/null || fail "stop refused without naming what to run (exit 3)"
     recover start; drill_writes; recover stop ;;
  *) fail "stop after a killed start (exit $rc)" ;;
  esac
}

case_start() { # POINT VARIANT
  seed; baseline
  killed_at "$1" start
  if [[ $2 == stop ]]; then
    recover_with_stop
    # stop ran without a drill, or after the recovery's: production's row 1 either way
    check_restored "$(q "$SI" "SELECT v FROM app.t WHERE id=1")"
  else
    recover start
    drill_writes
    fr stop -v >>"$caselog" 2>&1 || fail "stop after the recovered start (exit $?)"
    check_restored prod-during-drill
  fi
}

case_stop() { # POINT
  seed; baseline
  fr start -v >>"$caselog" 2>&1 || fail "start (exit $?)"
  drill_writes
  killed_at "$1" stop
  recover stop
  check_restored prod-during-drill
}

# One clean drill recording the points of start and stop.
enumerate() {
  rm -f "$work/$strategy".{start,stop}.passed
  seed; baseline --no-binlogs
  FLASHRUN_TEST_POINTS=$work/$strategy.start.passed fr start -v >>"$caselog" 2>&1 || fail "start (exit $?)"
  drill_writes
  FLASHRUN_TEST_POINTS=$work/$strategy.stop.passed fr stop -v >>"$caselog" 2>&1 || fail "stop (exit $?)"
  check_restored prod-during-drill
}

# Node faults: a fault injected while a plan runs (in the background), then the plan's recovery.
# bg_when PATTERN PLAN CMD...: run PLAN, run CMD once its -v output matches PATTERN, wait for PLAN.
bg_when() {
  local pat=$1 plan=$2 pid i log=$work/bg.out; shift 2
  bg_plan "$log" "$plan"; pid=$bg_pid
  for ((i = 0; i < 3000; i++)); do
    grep -q -- "$pat" "$log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  grep -q -- "$pat" "$log" && "$@" >>"$caselog" 2>&1
  wait $pid; local rc=$?
  cat "$log" >>"$caselog"
  grep -q -- "$pat" "$log" || fail "$plan never printed '$pat'"
  return $rc
}
# HOST's data filesystem full but for 64 KiB, and freed again.
fill() { lab ssh "$1" "fallocate -l \$(( \$(df -Pk $droot | awk 'NR==2 {print \$4}') - 64 ))k $droot/../faults.fill"; }
unfill() { lab ssh "$1" "rm -f $droot/../faults.fill"; }
# A node's mysqld back up after a fault (the lab's own start).
node_up() { lab start-node "$1" >>"$caselog" 2>&1 || true; }

node_case() { # NAME
  seed; baseline --no-binlogs
  local rc
  case $1 in
  mysqld-mid-clone)
    local pat=CLONE; [[ $cow == 1 ]] && pat='cp -a --reflink=always'
    bg_when "$pat" start lab stop-node tgt2 --kill; rc=$?
    echo "start with tgt2 killed mid-clone: exit $rc" >>"$caselog"
    node_up tgt2
    # The lab starts tgt2 again from its option file: its runtime super_read_only (set once, at
    # the lab's first boot) is gone, outside any drill. What stop must put back is what the node
    # had when the drill began: the start re-run below, once start failed.
    [[ $rc == 0 ]] || fp_before=$(fingerprint)
    [[ $rc == 0 ]] || { fr start -v >>"$caselog" 2>&1 || fail "re-run of start after tgt2 came back"; }
    drill_writes; recover stop ;;
  mysqld-after-swap)
    fr start -v >>"$caselog" 2>&1 || fail "start"
    drill_writes
    bg_when "restored to the restore point" stop lab stop-node tgt2 --kill; rc=$?
    echo "stop with tgt2 killed after its swap: exit $rc" >>"$caselog"
    node_up tgt2
    [[ $rc == 0 ]] || recover stop ;;
  mysqld-restart)
    fr start -v >>"$caselog" 2>&1 || fail "start"
    drill_writes
    bg_when "nohup setsid .*mysqld_safe" stop lab stop-node tgt3 --kill; rc=$?
    echo "stop with tgt3 killed during its restart: exit $rc" >>"$caselog"
    [[ $rc == 0 ]] || { node_up tgt3; recover stop; } ;;
  mysqld-crash-in-drill)
    # tgt2 killed during the drill and started again as the site would after a crash (the lab's
    # own start: its replication starts with it): under donor, tgt2 is the donor, which then takes
    # the drill's transactions; stop must still put every node back to the restore point
    fr start -v >>"$caselog" 2>&1 || fail "start"
    { lab stop-node tgt2 --kill && lab start-node tgt2; } >>"$caselog" 2>&1 || fail "killing and starting tgt2"
    local i
    for ((i = 0; i < 300; i++)); do [[ $(q "$tnet.2:3308" "SELECT 1" 2>/dev/null) == 1 ]] && break; sleep 0.3; done
    drill_writes
    # until the drill's writes reached tgt2 (its replication started with it)
    for ((i = 0; i < 100; i++)); do [[ $(q "$tnet.2:3308" "SELECT COUNT(*) FROM drill.x" 2>/dev/null) == 2 ]] && break; sleep 0.3; done
    echo "tgt2 after its restart: $(q "$tnet.2:3308" "SELECT COUNT(*) FROM drill.x" 2>&1) drill row(s)" >>"$caselog"
    recover stop ;;
  sshd)
    fr start -v >>"$caselog" 2>&1 || fail "start"
    drill_writes
    # sshd's own command line (the lab's), to start it again the same way
    # (sshd retitles itself "sshd: <command line> [listener] ...")
    local sshd; sshd=$(lab ssh "$tnet.2" 'tr "\0" " " </proc/$(cat /run/sshd.pid)/cmdline' | sed -e 's/^sshd: //' -e 's/ \[listener\].*//') ||
      fail "reading sshd's command line on $tnet.2"
    [[ $sshd == /usr/sbin/sshd* ]] || fail "sshd's command line on $tnet.2 is '$sshd'"
    lab ssh "$tnet.2" 'kill $(cat /run/sshd.pid)' >>"$caselog" 2>&1 || fail "stopping sshd on $tnet.2"
    fr stop -v >>"$caselog" 2>&1; rc=$?
    [[ $rc != 0 ]] || fail "stop succeeded with sshd down on $tnet.2"
    grep -q "ERROR .*$tnet.2\|^  .*cannot ssh to $tnet.2" "$caselog" || fail "stop's failure does not name $tnet.2"
    lab ssh "$tnet.2" "$sshd" >>"$caselog" 2>&1 || fail "starting sshd on $tnet.2 again"
    recover stop ;;
  disk-full-verify)
    # tgt2's filesystem full (LAB_FS: a filesystem per host): verify refuses, naming the space
    fill "$tnet.2"
    fr verify -v >>"$caselog" 2>&1; rc=$?
    unfill "$tnet.2"
    [[ $rc == 3 ]] || fail "verify with tgt2's disk full: exit $rc, expected a refusal (3)"
    grep -q "MB free for a restore point" "$caselog" || fail "verify's refusal does not say the space is short" ;;
  disk-full-restore-point)
    # filled once start's checks passed (they refuse a disk already full), before its restore
    # points (a clone takes a second: filled as the step begins, it raced the clone and lost):
    # start fails and rolls back, keeping nothing
    bg_when "detach the standby from the source router …" start fill "$tnet.2"; rc=$?
    unfill "$tnet.2"
    [[ $rc == 1 ]] || fail "start with tgt2's disk filled during its restore point: exit $rc, expected 1"
    if ! grep -q "rollback complete" "$caselog"; then
      # reflink: tgt2, shut down for its copy, cannot start again on a full filesystem; the error
      # names the space and what to run once there is room (docs/operator.md, recovery): followed
      grep -q "KiB free: too little for mysqld to start or write there. Free space there, then re-run plans/start.lua" "$caselog" ||
        fail "start did not roll back completely, nor say what to run once there is room"
      echo "rollback incomplete (tgt2 could not start on its full filesystem): space freed, start re-run, then stop" >>"$caselog"
      recover start; recover stop
    fi ;;
  routers)
    fr start -v >>"$caselog" 2>&1 || fail "start"
    drill_writes
    { lab stop-router tgt && lab start-router tgt; } >>"$caselog" 2>&1 || fail "restarting the standby router"
    { lab stop-router src && lab start-router src; } >>"$caselog" 2>&1 || fail "restarting the production router"
    recover stop ;;
  esac
  check_restored "$(q "$SI" "SELECT v FROM app.t WHERE id=1")"
}

# What a failed case's log gets before the lab is rebuilt (and its evidence gone): every standby
# host's mysqld processes (start times, command lines) and the end of each node's error log.
diagnose() {
  local h
  for h in "$tnet.1" "$tnet.2" "$tnet.3"; do
    echo "--- diagnose $h: processes"
    lab ssh "$h" "ps -eo pid,ppid,lstart,args | grep -E 'mysqld|[m]ysqlbinlog' | grep -v grep"
    echo "--- diagnose $h: error logs"
    lab ssh "$h" "for f in $droot/*/logfile*/error.log; do echo \"== \$f\"; tail -n 40 \"\$f\"; done"
  done
}

# A fresh lab after a failed case. A second try after a pause: a lab's servers killed mid-start
# can hold its loop mounts for a moment. Its output is kept in $work/fresh-lab.log.
rebuild() {
  "$top/tests/e2e/fresh-lab.sh" >"$work/fresh-lab.log" 2>&1 && return
  sleep 10
  "$top/tests/e2e/fresh-lab.sh" >>"$work/fresh-lab.log" 2>&1 ||
    { echo "bench/faults.sh: cannot rebuild the lab: $(tail -1 "$work/fresh-lab.log") (all of it: $work/fresh-lab.log)" >&2; exit 1; }
}

# Runs one case in a subshell (fail() ends only it); a failed case gets a fresh lab.
declare -a failed=() unreached=()
declare -A total=() ok=()
run_case() { # LABEL FUNCTION ARGS...
  local label=$1 t0=$SECONDS rc; shift
  caselog=$work/case.log; : >"$caselog"
  # Each case starts from a steady lab (checks.sh: steady), whatever the case before left.
  ( steady && "$@" ) >>"$caselog" 2>&1; rc=$?
  if [[ $rc == 99 ]]; then
    unreached+=("$strategy $label")
    printf '%-8s unreached %4d s  %s (not on this run'"'"'s way; not counted)\n' "$strategy" $((SECONDS - t0)) "$label"
    return
  fi
  total[$strategy]=$((${total[$strategy]:-0} + 1))
  mkdir -p "$work/cases"; cp "$caselog" "$work/cases/$strategy-$(echo "$label" | tr '/@ :' '____').log"
  if [[ $rc == 0 ]]; then
    ok[$strategy]=$((${ok[$strategy]:-0} + 1))
    printf '%-8s ok    %4d s  %s\n' "$strategy" $((SECONDS - t0)) "$label"
  else
    failed+=("$strategy $label")
    printf '%-8s FAIL  %4d s  %s: %s\n' "$strategy" $((SECONDS - t0)) "$label" "$(grep -h '^FAIL' "$caselog" | tail -1)"
    diagnose >>"$work/cases/$strategy-$(echo "$label" | tr '/@ :' '____').log" 2>&1
    if [[ ${FAULTS_KEEP:-0} == 1 ]]; then
      echo "bench/faults.sh: FAULTS_KEEP=1: stopping with the lab as the failed case left it (its log: $work/cases/)"; exit 1
    fi
    rebuild
  fi
}

over_budget() { [[ $budget != 0 && $((SECONDS - t_start)) -ge $budget ]]; }

# N lines of stdin picked from the seed text (deterministic: the same commit picks the same).
pick() { # N SEED
  awk -v n="$1" -v seed="$2" 'BEGIN { s = 0; for (i = 1; i <= length(seed); i++) s = (s * 31 + index("0123456789abcdef", substr(seed, i, 1))) % 2147483647; srand(s) }
    { line[NR] = $0; key[NR] = rand() } END { for (k = 0; k < n && k < NR; k++) { best = 0
      for (i = 1; i <= NR; i++) if (!(i in used) && (best == 0 || key[i] < key[best])) best = i
      used[best] = 1; print line[best] } }'
}

# The cases earlier runs survived ("STRATEGY LABEL", the label without its second kill).
declare -A resumed=()
for f in ${FAULTS_RESUME:-}; do
  [[ -r $f ]] || { echo "bench/faults.sh: FAULTS_RESUME names $f, which cannot be read (expected an earlier run's output)" >&2; exit 2; }
  while read -r k; do resumed[$k]=1; done < <(awk '$2 == "ok" && $4 == "s" { print $1, $5 }' "$f")
done
declare -A skipped_done=()
# Whether LABEL survived in a FAULTS_RESUME run of strategy $s; counts it when it did.
survived_before() {
  [[ -n ${resumed["$s $1"]:-} ]] || return 1
  skipped_done[$s]=$((${skipped_done[$s]:-0} + 1))
}

skipped=0
for s in $strategies; do
  use_strategy "$s"
  t_strategy=$SECONDS
  caselog=$work/enumerate.log; : >"$caselog"
  # Points a drill already recorded (CI: e2e_main's). A lab rebuilt since (a failed case before
  # this one) has lost that file: the points are then enumerated here with a clean drill.
  if [[ -n ${FAULTS_POINTS_FROM:-} && -s ${FAULTS_POINTS_FROM:-} ]]; then
    for p in start stop; do grep "^$p/" "$FAULTS_POINTS_FROM" >"$work/$s.$p.passed" || true; done
  else
    [[ -z ${FAULTS_POINTS_FROM:-} ]] || echo "$s: $FAULTS_POINTS_FROM is missing (the lab was rebuilt since): enumerating the points with a clean drill"
    ( enumerate ) >>"$caselog" 2>&1 || { echo "$s: the clean drill failed: $(grep -h '^FAIL' "$caselog" | tail -1)"; failed+=("$s enumerate"); continue; }
  fi
  declare -A points=()
  for p in ${FAULTS_PLANS:-start stop}; do
    points[$p]=$(awk '!seen[$0]++' "$work/$s.$p.passed" | grep -E -- "${FAULTS_MATCH:-.}" || true)
    echo "$s: $p passes $(echo -n "${points[$p]}" | grep -c '') kill points"
    # no point at all (e2e_main failed before recording, a build without kill points): nothing
    # was tried, which must not read as survived
    [[ -n ${points[$p]} || -n ${FAULTS_MATCH:-} ]] || { echo "$s: no kill point of $p recorded"; failed+=("$s $p: no kill points"); }
  done
  cases=()
  for p in ${FAULTS_PLANS:-start stop}; do
    while read -r pt; do
      [[ -n $pt ]] || continue
      if [[ $p == start ]]; then for v in $variants; do cases+=("start $pt $v"); done
      else cases+=("stop $pt"); fi
    done <<<"${points[$p]}"
  done
  if [[ $sample != 0 ]]; then
    mapfile -t cases < <(printf '%s\n' "${cases[@]}" | pick "$sample" "$seedtext")
  fi
  # the regression cases (bench/faults.regressions) first, in every run: an entry's first
  # matching point, or with `each` every one; `only=S[,S...]` keeps it to those strategies,
  # `bench` to runs that do not sample (the CI sample, FAULTS_SAMPLE, leaves it out)
  if [[ -z ${FAULTS_MATCH:-} ]]; then
    regs=()
    while read -r rp rre rest; do
      [[ -n $rp && $rp != \#* ]] || continue
      rv="" each=0 skip=0
      for w in $rest; do
        case $w in
        rerun|stop) rv=$w ;;
        each) each=1 ;;
        bench) [[ $sample == 0 ]] || skip=1 ;;
        only=*) [[ ,${w#only=}, == *",$s,"* ]] || skip=1 ;;
        *) echo "bench/faults.regressions: unknown word '$w' in the entry $rp $rre" >&2; exit 2 ;;
        esac
      done
      [[ $skip == 0 ]] || continue
      pts=$(awk '!seen[$0]++' "$work/$s.$rp.passed" | grep -E -- "$rre") || { echo "$s: no point matches regression $rre"; continue; }
      [[ $each == 1 ]] || pts=$(head -n 1 <<<"$pts")
      while read -r pt; do
        c="$rp $pt${rv:+ $rv}"
        printf '%s\n' "${cases[@]}" "${regs[@]}" | grep -xF -- "$c" >/dev/null || regs+=("$c")
      done <<<"$pts"
    done <"$top/bench/faults.regressions"
    cases=("${regs[@]}" "${cases[@]}")
  fi
  n=0
  for c in "${cases[@]}"; do
    # FAULTS_FROM=K: resume an interrupted matrix at its K-th case (same seed, same picks)
    if [[ $((n + 1)) -lt ${FAULTS_FROM:-1} ]]; then n=$((n + 1)); continue; fi
    if over_budget; then skipped=$((skipped + 1)); echo "$s skip  (budget) $c"; continue; fi
    read -r plan pt variant <<<"$c"
    base="$plan/${pt#*/}${variant:+@$variant}"
    survived_before "$base" && continue
    n=$((n + 1))
    second=""
    if [[ $second_every != 0 && $((n % second_every)) == 0 ]]; then
      # a point of the recovering plan, a few writes on: often in a step the kill left unfinished
      rplan=$plan; [[ ${variant:-} == stop ]] && rplan=stop
      second=$(awk '!seen[$0]++' "$work/$s.$rplan.passed" | grep -v '/journal/' | pick 1 "$seedtext$n")
    fi
    label="$base${second:+ then $second}"
    if [[ $plan == start ]]; then run_case "$label" case_start "$pt" "$variant"
    else run_case "$label" case_stop "$pt"; fi
  done
  if [[ $node_faults == 1 ]]; then
    nf=(mysqld-mid-clone mysqld-after-swap mysqld-restart mysqld-crash-in-drill sshd routers)
    [[ ${LAB_FS:-dir} != dir ]] && nf+=(disk-full-verify disk-full-restore-point)
    [[ -n ${FAULTS_NODE_CASES:-} ]] && read -r -a nf <<<"$FAULTS_NODE_CASES"
    for f in "${nf[@]}"; do
      over_budget && { skipped=$((skipped + 1)); echo "$s skip  (budget) node $f"; continue; }
      survived_before "node/$f" && continue
      second=""; run_case "node/$f" node_case "$f"
    done
  fi
  echo "$s: survived ${ok[$s]:-0}/${total[$s]:-0} in $((SECONDS - t_strategy)) s${skipped_done[$s]:+ (and ${skipped_done[$s]} survived in the FAULTS_RESUME runs, not run again)}"
done
echo "bench/faults.sh: wall time $((SECONDS - t_start)) s$( ((skipped)) && echo ", $skipped case(s) skipped (budget)")"
for s in $strategies; do echo "survived ${ok[$s]:-0}/${total[$s]:-0} ($s)${skipped_done[$s]:+, plus ${skipped_done[$s]} in earlier runs}"; done
for f in "${failed[@]}"; do echo "failed: $f"; done
for f in "${unreached[@]}"; do echo "unreached: $f"; done
[[ ${#failed[@]} == 0 ]]
