#!/bin/sh
# Lua/runtime tests: each case runs the real flashrun binary on a plan in tests/lua/plans and
# checks its exit code and output. Usage: run.sh /path/to/flashrun CASE
set -u
FR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
CASE=$2
PLANS=$(cd "$(dirname "$0")/plans" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flashrun-lua.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
unset FLASHRUN_SOURCE_MYSQL_PASSWORD FLASHRUN_SITE_WHICH

fail() { echo "FAIL [$CASE]: $*"; echo "--- output:"; cat out 2>/dev/null; exit 1; }
# run EXPECTED_EXIT ARGS...: output (stdout+stderr) in ./out, stdout alone in ./stdout
run() {
	want=$1; shift
	"$FR" "$@" >stdout 2>stderr; got=$?
	cat stdout stderr >out
	[ "$got" = "$want" ] || fail "exit $got, expected $want: flashrun $*"
}
has() { grep -q -- "$1" out || fail "output lacks '$1'"; }
lacks() { ! grep -q -- "$1" "${2:-out}" || fail "${2:-output} contains '$1'"; }
# in_order A B C...: the MARK lines appear in exactly this order
in_order() {
	got=$(grep -o 'MARK [a-z-]*' out | sed 's/MARK //' | tr '\n' ' ')
	[ "$got" = "$* " ] || fail "marks '$got', expected '$* '"
}

case $CASE in
list)
	run 0 "$PLANS/basic.lua" --list
	has "Step 01/03 first"; has "Step 03/03 third"
	[ ! -e log ] || fail "--list created the state dir"
	;;
steps)
	run 0 "$PLANS/basic.lua"
	has "Step 02/03 second … ok"; has "plan basic done in"; has "\[first\] first runs"
	[ -s log/redo.json ] || fail "no journal written"
	;;
undo_order)
	run 1 "$PLANS/undo.lua" --set fail_at=4
	in_order run-a run-b run-c undo-d undo-c undo-b undo-a
	has "plan undo-test failed at Step 04/04 d: .*step d broke on purpose"
	lacks "RECOVERY"
	# undone steps leave nothing behind in the state (a rolled-back start is no drill)
	grep -q '"status":"failed"' log/redo.json || fail "the journal does not record the failure"
	lacks key_ log/redo.json
	;;
irreversible)
	run 1 "$PLANS/undo.lua" --set fail_at=4 --set site.barrier=yes
	in_order run-a run-b run-c undo-d undo-c
	has "irreversible"; has "RECOVERY: put things back by hand"
	grep -q '"key_a":"overwritten-by-c"' log/redo.json && grep -q '"key_b":"run-b"' log/redo.json ||
		fail "the state of the steps kept (before the barrier) is gone"
	lacks key_c log/redo.json
	;;
irreversible_failed)
	run 1 "$PLANS/undo.lua" --set fail_at=4 --set site.last_irreversible=yes
	in_order run-a run-b run-c
	has "nothing is undone"; has "RECOVERY: put things back by hand"
	run 0 "$PLANS/undo.lua"   # the re-run resumes at the failed step, not from the start
	in_order run-d
	;;
resume)
	run 1 "$PLANS/resume.lua" --set fail=yes
	has "Step 02/03 two … FAILED"; in_order run-one
	run 0 "$PLANS/resume.lua"
	has "resuming plan resume-test"; has "Step 01/03 one … skipped"
	in_order run-two run-three
	run 0 "$PLANS/reader.lua"
	in_order state-ok
	run 0 "$PLANS/resume.lua"   # finished last time: a fresh run does step one again
	in_order run-one run-two run-three
	;;
owner)
	export FLASHRUN_TARGET_MYSQL_PASSWORD=pw
	run 1 "$PLANS/owner.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u --set fail=yes
	in_order run-one; grep -q '"owner":{"target":"127.0.0.5:3307"}' log/redo.json || fail "owner not recorded"
	run 3 "$PLANS/owner.lua" --ti 127.0.0.6:3307 --set target.mysql_user=u
	has "belongs to other clusters (\[target\] 127.0.0.5:3307, not 127.0.0.6:3307)"; lacks MARK
	run 3 "$PLANS/owner.lua" --ti 127.0.0.5:3308 --set target.mysql_user=u
	has "not 127.0.0.5:3308"
	run 0 "$PLANS/owner.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u
	in_order run-two run-three   # its own router resumes it; the last step emptied the journal
	run 0 "$PLANS/owner.lua" --ti 127.0.0.6:3307 --set target.mysql_user=u
	in_order run-one run-two run-three
	;;
interrupt)
	# in_step_two MODE: start the run in the background ($pid) and wait until it is in step two.
	# signal SIG...: send each signal (0.2 s apart), wait for the end; exit in $got, output in ./out
	in_step_two() {
		"$FR" "$PLANS/interrupt.lua" --set "mode=$1" >stdout 2>stderr &
		pid=$!; i=0
		while ! grep -q "MARK run-two" stderr 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	}
	signal() {
		for sig in "$@"; do kill -s "$sig" $pid; sleep 0.2; done
		wait $pid; got=$?; cat stdout stderr >out
	}
	in_step_two wait; signal INT
	[ "$got" = 130 ] || fail "exit $got after SIGINT in a wait, expected 130"
	has "Step 02/03 two … INTERRUPTED (SIGINT) after [0-9.]* s: interrupted while waiting until a condition that never holds"
	in_order run-one run-two undo-two undo-one; has "plan interrupt-test interrupted (SIGINT) at Step 02/03"
	has "rollback complete"
	grep -q '"one":true' log/redo.json && fail "the undone step's state is still in the journal"
	in_step_two between; signal TERM
	[ "$got" = 143 ] || fail "exit $got after SIGTERM between steps, expected 143"
	in_order run-one run-two undo-two undo-one
	has "Step 03/03 three … not started: interrupted (SIGTERM)"
	# a second signal before the safe point ends the run at once (the journal stays for a re-run)
	in_step_two between; signal INT INT
	[ "$got" = 130 ] || fail "exit $got after two SIGINTs, expected 130 (killed by the signal)"
	lacks "MARK undo"; grep -q '"status":"running"' log/redo.json || fail "the journal does not show the run as unfinished"
	;;
strict_read)
	run 1 "$PLANS/strict.lua" --set which=read
	has "undeclared global 'no_such_global'"; has "Step 01/01 poke … FAILED"
	;;
strict_write)
	run 1 "$PLANS/strict.lua" --set which=write
	has "assignment to undeclared global 'new_global'"
	;;
config_readonly)
	run 1 "$PLANS/strict.lua" --set which=config --si 127.0.0.1:3306
	has "config.source is read-only"
	run 1 "$PLANS/strict.lua" --set which=section --si 127.0.0.1:3306
	has "config is read-only"
	;;
config_sources)
	FLASHRUN_SOURCE_MYSQL_PASSWORD='pa#ss$word' FLASHRUN_SITE_WHICH=none \
		run 0 "$PLANS/strict.lua" --si 127.0.0.2:3307 --set source.mysql_user=drill
	has "MARK host=127.0.0.2 port=3307 user=drill pw=\*\*\*\*\*\*"
	lacks 'pa#ss'
	;;
refuse)
	run 3 "$PLANS/refuse.lua"
	has "standby is not replicating"; lacks "MARK never"
	;;
lock)
	"$FR" "$PLANS/hold.lua" --set hold=3 >hold.out 2>&1 &
	pid=$!
	i=0; while ! grep -q "MARK holding" hold.out; do i=$((i+1)); [ $i -lt 50 ] || fail "holder never started"; sleep 0.1; done
	run 4 "$PLANS/basic.lua"
	has "$pid"; has "hold"
	wait $pid || fail "the holder failed"
	run 0 "$PLANS/basic.lua"
	;;
secrets)
	run 0 "$PLANS/secrets.lua" --set source.mysql_password=Sup3rS3cret --log-json audit.json --dry-run
	has "MARK password is \*\*\*\*\*\*"; has "DRY-RUN journal"
	for f in out audit.json; do lacks Sup3rS3cret $f; lacks Gen-Erated-42 $f; done
	grep -q '"level":"warn"' audit.json || fail "no JSON warn line"
	grep -q "DRY-RUN journal" stdout || fail "dry-run record not on stdout"
	[ ! -e log ] || fail "dry-run created the state dir"
	has "no state dir log yet: rehearsing on an empty journal"
	# with a state dir, a rehearsal reads it (and still writes no journal)
	mkdir log
	run 0 "$PLANS/secrets.lua" --set source.mysql_password=Sup3rS3cret --dry-run
	[ ! -e log/redo.json ] || fail "dry-run wrote the journal"
	lacks "rehearsing on an empty journal"
	;;
cli_errors)
	run 2 "$PLANS/basic.lua" --si 127.0.0.1;       has "has no port"
	run 2 "$PLANS/basic.lua" --ti 127.0.0.1:70000; has "out of range"
	run 2 "$PLANS/basic.lua" --si 127.0.0.1:33a6;  has "is not a number"
	run 2 "$PLANS/basic.lua" --bogus;              has "unknown option '--bogus'"
	run 2 "$PLANS/nope.lua";                       has "plan file '.*nope.lua' not found"
	run 2;                                         has "no plan given"
	run 2 "$PLANS/basic.lua" --config missing.ini; has "config file 'missing.ini' not found"
	run 2 "$PLANS/basic.lua" --set source.port=33x; has "source.port = '33x'"
	run 2 "$PLANS/badkey.lua";                     has "unknown key 'udno' in step 1"
	run 2 -f nosuchplan -si 127.0.0.1:1 -ti 127.0.0.1:2; has "no such plan"
	[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error"
	run 0 --help; has "usage: flashrun"
	;;
parallel)
	run 0 "$PLANS/parallel.lua"
	has "overlap ok"; has "nested ok"
	;;
drivers)
	run 0 "$PLANS/unreachable.lua"
	has "Can't connect"; has "ssh: nil"; lacks topsecretpw
	;;
stdlib_shell|stdlib_router|stdlib_server|stdlib_site|stdlib_wait|stdlib_checks|stdlib_cluster|stdlib_restore)
	# Stdlib module tests: every step asserts; a journal-less plan writes nothing.
	name=${CASE#stdlib_}
	run 0 "$PLANS/$CASE.lua"
	has "plan stdlib-$name done"; lacks "FAILED"
	[ ! -e log ] || fail "a journal-less plan created the state dir"
	;;
stdlib_wait_dryrun)
	run 0 "$PLANS/stdlib_wait.lua" --dry-run
	has "would wait up to 5s until the side instance starts (now: call 1)"; has "plan stdlib-wait done"
	has "would wait up to 1.5s until a fractional timeout"
	;;
stdlib_site_settings)
	run 0 "$PLANS/stdlib_site.lua" --set site.restore_point=donor --set site.disk_threshold=40 --set site.max_delay=abc
	has "plan stdlib-site done"
	;;
stdlib_site_unknown)
	run 1 "$PLANS/stdlib_site.lua" --set site.bogus=1
	has "Step 01/03 check_settings … FAILED"; has "unknown \[site\] setting bogus (known: .*restore_point"
	lacks "Step 02/03"
	run 1 "$PLANS/stdlib_site.lua" --set site.restore_piont=donor --set site.Data_root=/data
	has "unknown \[site\] settings Data_root, restore_piont"
	run 1 "$PLANS/stdlib_site.lua" --set site.restore_point=snapshot
	has "Step 01/03 check_settings … FAILED"; has 'site.restore_point must be local or donor, not "snapshot"'
	run 0 "$PLANS/stdlib_site.lua" --set site.restore_point=local
	;;
stdlib_guard)
	run 0 "$PLANS/stdlib_guard.lua" --set site.path=/data/mysqldata//a/./dbdata/ --set site.root=/data/mysqldata
	has "MARK guarded /data/mysqldata/a/dbdata"; has "MARK after"
	for p in / "" relative/dir /data/mysqldata/a/../../../etc /data/mysqldata /etc/passwd '/data/mysqldata/a;rm'; do
		run 1 "$PLANS/stdlib_guard.lua" --set "site.path=$p" --set site.root=/data/mysqldata
		has "Step 01/02 guard … FAILED"; has "refusing to touch"; lacks "MARK"
	done
	run 1 "$PLANS/stdlib_guard.lua" --set site.path=/data/mysqldata/a/dbdata --set site.root=/data/mysqldata \
		--set site.recorded=/data/mysqldata/b/dbdata
	has 'the journal recorded "/data/mysqldata/b/dbdata"'
	run 1 "$PLANS/stdlib_guard.lua" --set site.path=/data --set site.root=/
	has 'refusing to touch "/data": too close to /'
	run 1 "$PLANS/stdlib_guard.lua" --set site.path=/etc/ssh --set site.root=/
	has 'the data root "/" is not a directory below /'; lacks "MARK"
	;;
*)
	echo "unknown case $CASE"; exit 2;;
esac
echo "ok [$CASE]"
