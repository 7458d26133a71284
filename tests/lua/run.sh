#!/bin/sh
# Lua/runtime tests: each case runs the real flashrun binary on a plan in tests/lua/plans and
# checks its exit code and output. Usage: run.sh /path/to/flashrun CASE
set -u
FR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
CASE=$2
PLANS=$(cd "$(dirname "$0")/plans" && pwd)
SITES=$(cd "$(dirname "$0")/sites" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flashrun-lua.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
unset FLASHRUN_SOURCE_MYSQL_PASSWORD FLASHRUN_TEST_WHICH

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
	has "Step 02/03 second … ok"; has "plan basic done in"; has "\[Step 01/03\] first runs"
	lacks "\[first\]"; has "(3 steps)"
	[ -s log/redo.json ] || fail "no journal written"
	;;
undo_order)
	FLASHRUN_TEST_FAIL_AT=4 run 1 "$PLANS/undo.lua"
	in_order run-a run-b run-c undo-d undo-c undo-b undo-a
	has "plan undo-test failed at Step 04/04 d: .*step d broke on purpose"
	lacks "RECOVERY"
	# undone steps leave nothing behind in the state (a rolled-back start is no drill)
	grep -q '"status":"failed"' log/redo.json || fail "the journal does not record the failure"
	lacks key_ log/redo.json
	;;
irreversible)
	FLASHRUN_TEST_FAIL_AT=4 FLASHRUN_TEST_BARRIER=yes run 1 "$PLANS/undo.lua"
	in_order run-a run-b run-c undo-d undo-c
	has "irreversible"; has "RECOVERY: put things back by hand"
	grep -q '"key_a":"overwritten-by-c"' log/redo.json && grep -q '"key_b":"run-b"' log/redo.json ||
		fail "the state of the steps kept (before the barrier) is gone"
	lacks key_c log/redo.json
	;;
forward)
	run 1 "$PLANS/forward.lua"
	has "nothing is rolled back (the plan only goes forward); recovery:"; has "^re-run the same forward command: it resumes"
	lacks "rollback could not be completed"
	;;
irreversible_failed)
	FLASHRUN_TEST_FAIL_AT=4 FLASHRUN_TEST_LAST_IRREVERSIBLE=yes run 1 "$PLANS/undo.lua"
	in_order run-a run-b run-c
	has "nothing is undone"; has "RECOVERY: put things back by hand"
	run 0 "$PLANS/undo.lua"   # the re-run resumes at the failed step, not from the start
	in_order run-d
	;;
killpoints)
	# (builds with FLASHRUN_KILLPOINTS) journal writes named by plan, step (".undo" in a
	# rollback), node and ordinal; a run killed at one resumes from what it had written.
	FLASHRUN_TEST_FAIL_AT=4 FLASHRUN_TEST_POINTS=$WORK/points run 1 "$PLANS/undo.lua"
	for p in undo-test/-/journal/1/journal/after undo-test/a/journal/1/journal/after \
		 undo-test/c/journal/1/journal/after undo-test/d/journal/1/journal/after \
		 undo-test/d.undo/journal/1/journal/after undo-test/a.undo/journal/1/journal/after; do
		grep -qx "$p" points || { cat points; fail "no kill point $p recorded"; }
	done
	! grep -v '^undo-test/[-a-d]\(\.undo\)\?/journal/[0-9]*/journal/after$' points || fail "unexpected point names"
	rm -rf log points
	FLASHRUN_TEST_POINTS=$WORK/points run 0 "$PLANS/undo.lua" --dry-run
	[ ! -s points ] || fail "a dry-run recorded kill points"
	FLASHRUN_TEST_KILL=undo-test/b/journal/1/journal/after run 137 "$PLANS/undo.lua"
	in_order run-a run-b
	has "test kill point undo-test/b/journal/1/journal/after"
	grep -q '"key_b":"run-b"' log/redo.json || fail "the journal lacks what step b wrote before the kill"
	run 0 "$PLANS/undo.lua"
	has "Step 02/04 b … skipped"; in_order run-c run-d
	# killed between its record "done" and the truncation its last step asked for (the last two
	# journal writes): the next run clears the journal first, so what the finished plan forgot
	# (stop: the drill) is not taken for work still to do
	rm -rf log
	export FLASHRUN_TARGET_MYSQL_PASSWORD=pw
	FLASHRUN_TEST_KILL=owner-test/three/journal/2/journal/after run 137 "$PLANS/owner.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u
	grep -q '"drill":"open"' log/redo.json && grep -q '"status":"done"' log/redo.json ||
		fail "the kill point is not between the record done and the truncation"
	run 0 "$PLANS/closed.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u
	has "plan owner-test finished at .*, but its run was interrupted before it cleared the journal: cleared now"
	in_order drill-nil
	;;
resume)
	FLASHRUN_TEST_FAIL=yes run 1 "$PLANS/resume.lua"
	has "Step 02/03 two … FAILED"; in_order run-one
	first=$(grep -o '"started":"[^"]*"' log/redo.json | head -1)
	sleep 1   # the journal's times are whole seconds
	run 0 "$PLANS/resume.lua"
	has "resuming plan resume-test"; has "Step 01/03 one … skipped"
	in_order run-two run-three
	# the plan's record keeps its first run's start, and names the resumed run apart
	grep -q "$first" log/redo.json || fail "the plan's first start ($first) was not kept"
	grep -q '"run_started":"' log/redo.json && ! grep -q "\"run_started\":\"${first#*:\"}" log/redo.json ||
		fail "run_started is not the resumed run's"
	run 0 "$PLANS/reader.lua"
	in_order state-ok
	run 0 "$PLANS/resume.lua"   # finished last time: a fresh run does step one again
	in_order run-one run-two run-three
	;;
owner)
	export FLASHRUN_TARGET_MYSQL_PASSWORD=pw
	FLASHRUN_TEST_FAIL=yes run 1 "$PLANS/owner.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u
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
		# (the last run's output removed first: the background run truncates it only once it is
		# forked, and its MARK run-two read before that sent the signal to a run not yet started)
		rm -f release stdout stderr
		FLASHRUN_TEST_MODE="$1" FLASHRUN_TEST_RELEASE="$PWD/release" "$FR" "$PLANS/interrupt.lua" >stdout 2>stderr &
		pid=$!; i=0
		while ! grep -q "MARK run-two" stderr 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	}
	# Each signal once the run has taken the one before (said so on stderr), or has ended: two
	# signals sent while the first is still pending are one (POSIX signals do not queue), which a
	# loaded machine made happen with a fixed 0.2 s between them. In mode between, step two ends
	# only once the signals are sent (./release).
	signal() {
		n=0
		for sig in "$@"; do
			kill -s "$sig" $pid; n=$((n + 1)); i=0
			while [ "$(grep -c 'interrupted' stderr 2>/dev/null)" -lt $n ] && kill -0 $pid 2>/dev/null && [ $i -lt 200 ]; do
				sleep 0.05; i=$((i + 1))
			done
		done
		: >release
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
	FLASHRUN_TEST_WHICH=read run 1 "$PLANS/strict.lua"
	has "undeclared global 'no_such_global'"; has "Step 01/01 poke … FAILED"
	;;
strict_write)
	FLASHRUN_TEST_WHICH=write run 1 "$PLANS/strict.lua"
	has "assignment to undeclared global 'new_global'"
	;;
config_readonly)
	FLASHRUN_TEST_WHICH=config run 1 "$PLANS/strict.lua" --si 127.0.0.1:3306
	has "config.source is read-only"
	FLASHRUN_TEST_WHICH=section run 1 "$PLANS/strict.lua" --si 127.0.0.1:3306
	has "config is read-only"
	;;
config_sources)
	FLASHRUN_SOURCE_MYSQL_PASSWORD='pa#ss$word' FLASHRUN_TEST_WHICH=none \
		run 0 "$PLANS/strict.lua" --si 127.0.0.2:3307 --set source.mysql_user=drill
	has "MARK host=127.0.0.2 port=3307 user=drill pw=\*\*\*\*\*\*"
	lacks 'pa#ss'
	;;
clone_ssl)
	# clone_ssl = auto under [target] ssl_mode required or stronger: REQUIRE SSL, the donor not asked
	run 0 "$PLANS/clone_ssl.lua" --set target.ssl_mode=Required
	has "MARK clone_ssl auto under required: true"
	run 0 "$PLANS/clone_ssl.lua" --set target.ssl_mode=verify_identity --set clone_ssl=off
	has "MARK clone_ssl off under verify_identity: false"
	;;
tls_settings)
	# defaults: preferred, and router_ssl_mode follows ssl_mode
	base="--si 127.0.0.2:3307 --set source.mysql_user=u --set source.mysql_password=Zq9-secret"
	run 0 "$PLANS/tls_settings.lua" $base
	has "MARK ssl_mode=preferred router_ssl_mode=preferred ssl_ca=nil tls_version=nil router_option=preferred"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=t -keyout key.pem -out ca.pem 2>/dev/null || fail "openssl"
	chmod 600 key.pem
	# any case, from the INI; the environment and --set win; router_ssl_mode its own
	printf '[source]\nssl_mode = VERIFY_Identity\nssl_ca = %s/ca.pem\n' "$WORK" >t.ini
	run 0 "$PLANS/tls_settings.lua" $base --config t.ini
	has "MARK ssl_mode=verify_identity router_ssl_mode=verify_identity ssl_ca=$WORK/ca.pem"
	FLASHRUN_SOURCE_SSL_MODE=Required run 0 "$PLANS/tls_settings.lua" $base --config t.ini --set source.router_ssl_mode=PREFERRED --set source.tls_version=TLSv1.3
	has "MARK ssl_mode=required router_ssl_mode=preferred ssl_ca=$WORK/ca.pem tls_version=TLSv1.3 router_option=preferred"
	# refusals, exit 2, each naming the key and the fix
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssl_mode=verify_ca
	has "source.ssl_mode = verify_ca verifies the servers' certificates against a CA: set source.ssl_ca"
	run 2 "$PLANS/tls_settings.lua" $base --set source.router_ssl_mode=verify_identity
	has "source.router_ssl_mode = verify_identity"
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssl_mode=on
	has "source.ssl_mode: expected one of: disabled, preferred, required, verify_ca, verify_identity"
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssl_cert="$WORK/ca.pem"
	has "ssl_cert is set without ssl_key"
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssl_ca="$WORK/missing.pem"
	has "source.ssl_ca: cannot read $WORK/missing.pem"
	run 2 "$PLANS/tls_settings.lua" $base --set source.tls_version=TLSv1.3,SSLv3
	has "source.tls_version: expected TLSv1.2, TLSv1.3 or both"
	run 0 "$PLANS/tls_settings.lua" $base --set source.ssl_cert="$WORK/ca.pem" --set source.ssl_key="$WORK/key.pem"
	chmod 640 key.pem
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssl_cert="$WORK/ca.pem" --set source.ssl_key="$WORK/key.pem"
	has "source.ssl_key: $WORK/key.pem may be read by its group or others (mode 640): run chmod 600 $WORK/key.pem"
	run 2 "$PLANS/tls_settings.lua" $base --set source.ssh_key="$WORK/key.pem"
	has "source.ssh_key: $WORK/key.pem may be read by its group or others (mode 640): run chmod 600"
	# --list connects nowhere and checks nothing of the kind
	run 0 "$PLANS/tls_settings.lua" --list --set source.ssl_mode=verify_ca
	;;
refuse)
	run 3 "$PLANS/refuse.lua" --report-json r.json
	has "standby is not replicating"; lacks "MARK never"; has "(2 steps)"
	# a message of several lines in full once, on the step's line; the plan's last line says where
	[ "$(grep -c "replica threads: io=false" out)" = 1 ] || fail "the refusal's detail is not printed exactly once"
	has "plan refuse-test refused at Step 01/02 precheck: standby is not replicating: will not start: (in full above)"
	for f in '"plan":"refuse-test"' '"exit":3' '"status":"refused"' '"report":null' '"dry_run":false'; do
		grep -qF "$f" r.json || fail "--report-json lacks $f: $(cat r.json)"
	done
	run 2 "$PLANS/refuse.lua" --report-json "$WORK/no-such-dir/r.json"
	has "--report-json: cannot open"; lacks "standby is not replicating"
	;;
lock)
	: >hold.out
	FLASHRUN_TEST_HOLD=3 "$FR" "$PLANS/hold.lua" >hold.out 2>&1 &
	pid=$!
	i=0; while ! grep -q "MARK holding" hold.out; do i=$((i+1)); [ $i -lt 50 ] || fail "holder never started"; sleep 0.1; done
	run 4 "$PLANS/basic.lua" --report-json r.json
	has "$pid"; has "hold"
	grep -qF '"status":"locked"' r.json && grep -qF '"exit":4' r.json || fail "--report-json of a locked run: $(cat r.json)"
	wait $pid || fail "the holder failed"
	run 0 "$PLANS/basic.lua"
	# status names a live holder's run as running now; a killed one's (its lock file text left,
	# its lock gone) as to be re-run (the routers do not answer here: status exits 3 either way)
	ROOT=$(cd "$(dirname "$0")/../.." && pwd)
	printf '[source]\nmysql_user=u\nmysql_password=pw-%s\nsys_user=root\n[target]\nmysql_user=u\nmysql_password=pw-%s\nsys_user=root\n' a b >fb.ini
	st="$ROOT/plans/status.lua --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --report-json s.json"
	: >hold.out   # the first holder's MARK, read before this one truncated it, named a run not yet holding
	FLASHRUN_TEST_HOLD=30 "$FR" "$PLANS/hold.lua" >hold.out 2>&1 &
	pid=$!
	i=0; while ! grep -q "MARK holding" hold.out; do i=$((i+1)); [ $i -lt 50 ] || fail "holder never started"; sleep 0.1; done
	# shellcheck disable=SC2086
	run 3 $st
	grep -q "\"text\":\"running now: pid $pid on " s.json || { kill $pid; fail "status did not name the live run: $(cat s.json)"; }
	kill -9 $pid; wait $pid
	# shellcheck disable=SC2086
	run 3 $st
	grep -q "plan hold: running, or interrupted, since .*re-run it to finish" s.json || fail "status took a killed run for a live one: $(cat s.json)"
	# a journal that cannot be read is an error, not "no drill" (a symlink loop: root reads anything)
	mkdir -p unreadable && ln -s redo.json unreadable/redo.json
	# shellcheck disable=SC2086
	run 2 $st --state-dir unreadable
	has "cannot read the journal: unreadable/redo.json: Too many levels of symbolic links (--state-dir unreadable)"
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
version)
	# The test-only build options this build has (CMake's FLASHRUN_TEST_OPTIONS, "none" in a
	# release build): a package's install test relies on this line to prove it has none.
	run 0 --version
	has "^flashrun [0-9][0-9.]*$"
	has "^client library: lib\(mariadb\|mysqlclient\) [0-9]"
	grep -qx "test options: ${FR_WANT_TEST_OPTIONS:?}" out || fail "expected 'test options: $FR_WANT_TEST_OPTIONS'"
	;;
stdlib_fs)
	mkdir lst; printf 'wide\n' >wide.md; chmod 644 wide.md
	run 0 "$PLANS/stdlib_fs.lua"
	[ "$(stat -c %a rep)" = 700 ] && [ "$(stat -c %a rep/sub)" = 700 ] || fail "new directories are $(stat -c %a rep rep/sub | tr '\n' ' '), expected 700"
	[ "$(stat -c %a rep/sub/r.json)" = 600 ] || fail "rep/sub/r.json is $(stat -c %a rep/sub/r.json), expected 600"
	[ "$(stat -c %a wide.md)" = 600 ] || fail "wide.md is $(stat -c %a wide.md) after the write, expected 600"
	[ ! -e rep/sub/r.json.tmp ] || fail "the temporary file was left"
	;;
builtin)
	# The plans and stdlib compiled in (issue 29): used when no stdlib is found on disk, named
	# by --version; --export-plans writes them out, and a plan run from there uses that stdlib.
	unset FLASHRUN_STDLIB
	run 0 --version; has "^stdlib: built in$"
	run 0 -f verify --list; has "^verify: "; has "^Step 01/"
	run 2 -f nope; has "looked for (built in)/plans/nope.lua"
	SRC=$(cd "$(dirname "$0")/../.." && pwd)
	FLASHRUN_STDLIB=$SRC/stdlib run 0 --version; has "^stdlib: $SRC/stdlib$"
	run 0 "$PLANS/basic.lua" --version; has "^stdlib: built in$"
	run 2 --export-plans x -f verify; has "runs no plan"
	run 0 --export-plans x; has "wrote [0-9]* files into x"
	[ -f x/plans/start.lua ] && [ -f x/stdlib/flashrun/bootstrap.lua ] || fail "--export-plans wrote no plans/ or stdlib/"
	cmp -s x/plans/start.lua "$SRC/plans/start.lua" && cmp -s x/stdlib/cluster.lua "$SRC/stdlib/cluster.lua" ||
		fail "the exported files differ from the tree's"
	run 2 --export-plans x; has "not empty"
	run 0 x/plans/verify.lua --version; has "^stdlib: $WORK/x/stdlib$"
	# a module only the exported stdlib has: found, so that stdlib is the one in use
	printf 'return { text = "from the exported stdlib" }\n' >x/stdlib/probe_mod.lua
	printf 'local m = require "probe_mod"\nreturn { name = "probe", description = m.text, steps = { { name = "one", run = function() end } } }\n' >x/plans/probe.lua
	run 0 x/plans/probe.lua --list; has "^probe: from the exported stdlib$"
	run 2 "$PLANS/basic.lua" --export-plans y; has "runs no plan"
	;;
cli_errors)
	run 2 "$PLANS/basic.lua" --si 127.0.0.1;       has "--si '127.0.0.1': no port: expected HOST:PORT, IPV4:PORT or \[IPV6\]:PORT"
	run 2 "$PLANS/basic.lua" --ti 127.0.0.1:70000; has "out of range"
	run 2 "$PLANS/basic.lua" --si 127.0.0.1:33a6;  has "plain digits"
	# issue 9: a bare IPv6 address was taken as host ':' port 1
	for a in ::1 fe80::1 fe80::1:3306 '[::1]' 'db]:3306' 'db 1:3306' '[10.0.0.1]:3306' "$(printf 'db\001:1')"; do
		run 2 "$PLANS/basic.lua" --si "$a"; has "expected HOST:PORT, IPV4:PORT or \[IPV6\]:PORT"
		[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error for --si '$a'"
	done
	run 2 "$PLANS/basic.lua" -si fe80::1 -ti 127.0.0.1:2; has "-si 'fe80::1': more than one ':'"
	run 2 "$PLANS/basic.lua" --bogus;              has "unknown option '--bogus'"
	run 2 "$PLANS/nope.lua";                       has "plan file '.*nope.lua' not found"
	run 2;                                         has "no plan given"
	run 2 "$PLANS/basic.lua" --config missing.ini; has "config file 'missing.ini' not found"
	run 2 "$PLANS/basic.lua" --set source.port=33x; has "--set source.port: source.port: a port is a number"
	run 2 -f verify -si 127.0.0.1:1 -ti 127.0.0.1:2 --set site.bogus=1; has "--set site.bogus: unknown key"
	run 2 "$PLANS/badkey.lua";                     has "unknown key 'udno' in step 1"
	run 2 -f nosuchplan -si 127.0.0.1:1 -ti 127.0.0.1:2; has "no such plan (looked for .*the shipped plans: verify, start, status, stop)"
	[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error"
	# the ssh account is required before anything connects, for the clusters a plan reaches by ssh
	sql="--set source.mysql_user=u --set source.mysql_password=s3cret-x --set target.mysql_user=u --set target.mysql_password=s3cret-x"
	# shellcheck disable=SC2086
	run 2 -f start -si 127.0.0.1:1 -ti 127.0.0.1:2 $sql; has "config incomplete: missing source.sys_user, target.sys_user (set them"
	# shellcheck disable=SC2086
	run 2 -f stop -si 127.0.0.1:1 -ti 127.0.0.1:2 $sql; has "config incomplete: missing target.sys_user (set them"
	lacks "source.sys_user"
	# shellcheck disable=SC2086
	run 2 -f verify -si 127.0.0.1:1 -ti 127.0.0.1:2 $sql --set target.sys_user=root; has "config incomplete: missing source.sys_user (set them"
	# a per-run choice only for a plan that declares it, and only from the command line
	run 2 "$PLANS/basic.lua" --production-lost;    has "--production-lost: plan basic offers no such choice"
	FLASHRUN_PRODUCTION_LOST=1 run 0 "$PLANS/basic.lua"
	run 0 --help; has "usage: flashrun"; has "--production-lost"; has "Choices come from the plan"
	has "-f verify|start|status|stop"
	# choices are the plan's: declared there only, shown by --list, a typo still named
	run 0 "$PLANS/choices.lua" --fast-lane;        has "MARK choices \[fast_lane\]"
	run 0 --dry-note "$PLANS/choices.lua" --fast-lane; has "MARK choices \[dry_note fast_lane\]"
	run 0 "$PLANS/choices.lua";                    has "MARK choices \[\]"
	run 0 "$PLANS/choices.lua" --list;             has "^  --dry-note  note something"; has "^  --fast-lane  take the fast lane"
	run 0 "$PLANS/basic.lua" --list;               lacks "choices"
	run 2 "$PLANS/choices.lua" --fast-lan
	has "--fast-lan: plan choices offers no such choice (it offers --dry-note, --fast-lane) and flashrun has no such option: unknown option '--fast-lan'"
	[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error"
	run 2 -f stop --dry-rn --list;                 has "unknown option '--dry-rn'"; has "(it offers --production-lost)"
	run 0 -f stop --production-lost --list;        has "^  --production-lost  production is lost"
	run 2 "$PLANS/basic.lua" --dry-run=yes;        has "unknown option '--dry-run=yes' (a plan's choice is --WORD, without a value)"
	run 2 "$PLANS/basic.lua" --stat-dir elsewhere; has "unknown option '--stat-dir' (a plan's choice takes no value, and 'elsewhere' after it is not the plan)"
	run 2 --stat-dir elsewhere "$PLANS/basic.lua"; has "unknown option '--stat-dir'"
	printf 'return { name = "badchoice", description = "x", choices = { Fast = "x" }, steps = { { name = "s", run = function() end } } }\n' >badchoice.lua
	run 2 badchoice.lua --list;                    has "choice 'Fast': a choice is lower-case letters"
	printf 'return { name = "badchoice", description = "x", choices = { fast = true }, steps = { { name = "s", run = function() end } } }\n' >badchoice.lua
	run 2 badchoice.lua --list;                    has "choice 'fast' must say what it does (a string)"
	;;
parallel)
	run 0 "$PLANS/parallel.lua"
	has "overlap ok"; has "nested ok"
	;;
drivers)
	run 0 "$PLANS/unreachable.lua"
	has "Can't connect"; has "ssh: nil"; lacks topsecretpw
	;;
stdlib_shell|stdlib_router|stdlib_server|stdlib_site|stdlib_wait|stdlib_checks|stdlib_become|stdlib_cluster|stdlib_restore|stdlib_retention|stdlib_report|stdlib_stream|stdlib_clone_progress)
	# Stdlib module tests: every step asserts; a journal-less plan writes nothing.
	name=${CASE#stdlib_}
	run 0 "$PLANS/$CASE.lua"
	has "plan stdlib-$name done"; lacks "FAILED"
	[ ! -e log ] || fail "a journal-less plan created the state dir"
	;;
checks_levels)
	# A passed check is a debug line (-v, --log-json); a warning and a failure info lines with
	# their cause and fix; -q shows neither.
	run 0 "$PLANS/checks_levels.lua" --log-json audit.json
	has "INFO .*warn  CHECK-WARN not checkable: WARN-CAUSE — WARN-FIX"
	has "INFO .*FAIL  CHECK-FAIL datadir full: FAIL-CAUSE — FAIL-FIX"
	lacks "CHECK-OK"
	has "all prechecks passed (1 check ok, 1 warning; -v lists every check)"
	grep -q '"level":"debug".*"msg":"ok    CHECK-OK source router answers SQL"' audit.json || fail "--log-json lacks the passed check"
	run 0 "$PLANS/checks_levels.lua" -v
	has "DEBUG .*ok    CHECK-OK source router answers SQL"; has "warn  CHECK-WARN"
	run 0 "$PLANS/checks_levels.lua" -q
	lacks "CHECK-"
	;;
stdlib_progress)
	# the arithmetic (in the plan), then the output: two lines of tgt1 (the one 5 s after the
	# first is held back), one of tgt2, each an info line and a --log-json event with numbers
	run 0 "$PLANS/stdlib_progress.lua" --log-json ev.json
	has "plan stdlib-progress done"; has "progress output checked"
	has "INFO .* tgt1:3306: clone FILE COPY 0 B of 4.0 GiB (0 %)$"
	has "INFO .* tgt1:3306: clone FILE COPY 1000.0 MiB of 4.0 GiB (24 %), 100.0 MiB/s, ETA 31 s"
	has "INFO .* tgt2:3306: clone DROP DATA 0 B$"
	[ "$(grep -c 'tgt1:3306: clone' out)" = 2 ] || fail "tgt1 shows $(grep -c 'tgt1:3306: clone' out) lines, expected 2"
	[ "$(grep -c '"event":"progress"' ev.json)" = 3 ] || fail "$(grep -c '"event":"progress"' ev.json) progress events, expected 3"
	grep '"event":"progress"' ev.json | grep '"step":"output: the line, the event, progress.json"' |
		grep '"done":1048576000' | grep '"total":4294967296' | grep '"eta":30.96' | grep -q '"rate":104857600' ||
		{ grep progress ev.json; fail "no progress event with the step's name and numeric done, total, rate, eta"; }
	[ ! -e progress-state/progress.json ] || fail "progress.json left after finish()"
	rm -rf progress-state
	run 0 "$PLANS/stdlib_progress.lua" --dry-run
	has "plan stdlib-progress done"
	[ ! -e progress-state ] || fail "a rehearsal wrote progress-state/"
	;;
stdlib_wait_dryrun)
	run 0 "$PLANS/stdlib_wait.lua" --dry-run
	has "would wait up to 5s until the side instance starts (now: call 1)"; has "plan stdlib-wait done"
	has "would wait up to 1.5s until a fractional timeout"
	has "\[dry-run\] would check: the post-condition holds"
	;;
stdlib_site_settings)
	run 0 "$PLANS/stdlib_site.lua" --set site.restore_point=donor --set site.disk_threshold=40 --set site.max_delay=7
	has "plan stdlib-site done"
	run 0 "$PLANS/stdlib_site.lua" --set disk_threshold=40 --set max_delay=7
	has "plan stdlib-site done"
	;;
stdlib_site_unknown)
	# Every source, checked at load against the one schema: exit 2 naming the source, before
	# any step; never the value.
	run 2 "$PLANS/stdlib_site.lua" --set site.bogus=S3cret
	has "^.*ERROR --set site.bogus: unknown key 'bogus' in \[site\] (known: restore_point, .*marker_schema"
	lacks "Step 01"; lacks S3cret
	run 2 "$PLANS/stdlib_site.lua" --set restore_piont=donor
	has "--set restore_piont: unknown key 'restore_piont' in \[site\]"
	run 2 "$PLANS/stdlib_site.lua" --set site.restore_point=snapshot
	has "--set site.restore_point: site.restore_point: expected one of: auto, local, donor, reflink"; lacks "Step 01"
	run 2 "$PLANS/stdlib_site.lua" --set site.max_delay=abc
	has "site.max_delay: expected a whole number"
	run 2 "$PLANS/stdlib_site.lua" --set site.side_port=18001
	has "unknown key 'side_port' in \[site\]"
	run 2 "$PLANS/stdlib_site.lua" --set target.host_key_polcy=strict
	has "--set target.host_key_polcy: unknown key 'host_key_polcy' in \[target\] (known: host, port,"
	run 2 "$PLANS/stdlib_site.lua" --set targt.host=x
	has "--set targt.host: unknown section 'targt' (known: source, target, site"
	FLASHRUN_TARGET_HOST_KEY_POLCY=strict run 2 "$PLANS/stdlib_site.lua"
	has "environment variable FLASHRUN_TARGET_HOST_KEY_POLCY: unknown key 'host_key_polcy' in \[target\]"
	FLASHRUN_SITE_DATA_ROOT=data run 2 "$PLANS/stdlib_site.lua"
	has "environment variable FLASHRUN_SITE_DATA_ROOT: site.data_root: expected an absolute path"
	FLASHRUN_TARGET_HOST='fe80::1::3306' run 2 "$PLANS/stdlib_site.lua"
	has "FLASHRUN_TARGET_HOST: target.host: a host with ':' must be an IPv6 address"
	printf '[site]\nmarker_schema = m\nside_prot = 1\n' >bad.ini
	run 2 "$PLANS/stdlib_site.lua" --config bad.ini
	has "config: bad.ini:3: unknown key 'side_prot' in \[site\] (known: restore_point,"
	[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error"
	# Variables outside the three sections are not configuration (test knobs, FLASHRUN_STDLIB).
	FLASHRUN_SKIP_SANITIZE=1 FLASHRUN_OTHER_THING=x run 0 "$PLANS/stdlib_site.lua"
	FLASHRUN_SITE_RESTORE_POINT=donor run 0 "$PLANS/stdlib_site.lua"
	# a bracketed IPv6 host in the file or the environment is the bare address
	printf '[source]\nhost = [::1]\nport = 3306\nmysql_user = u\n' >v6.ini
	FLASHRUN_TEST_WHICH=none FLASHRUN_SOURCE_MYSQL_PASSWORD=x run 0 "$PLANS/strict.lua" --config v6.ini
	has "MARK host=::1 port=3306"
	FLASHRUN_TEST_WHICH=none FLASHRUN_SOURCE_MYSQL_PASSWORD=x FLASHRUN_SOURCE_HOST='[fe80::2]' run 0 "$PLANS/strict.lua" --config v6.ini
	has "MARK host=fe80::2 port=3306"
	run 0 "$PLANS/stdlib_site.lua" --set site.restore_point=local
	;;
stdlib_guard)
	FLASHRUN_TEST_PATH=/data/mysqldata//a/./dbdata/ FLASHRUN_TEST_ROOT=/data/mysqldata run 0 "$PLANS/stdlib_guard.lua"
	has "MARK guarded /data/mysqldata/a/dbdata"; has "MARK after"
	for p in / "" relative/dir /data/mysqldata/a/../../../etc /data/mysqldata /etc/passwd '/data/mysqldata/a;rm'; do
		FLASHRUN_TEST_PATH="$p" FLASHRUN_TEST_ROOT=/data/mysqldata run 1 "$PLANS/stdlib_guard.lua"
		has "Step 01/02 guard … FAILED"; has "refusing to touch"; lacks "MARK"
	done
	FLASHRUN_TEST_PATH=/data/mysqldata/a/dbdata FLASHRUN_TEST_ROOT=/data/mysqldata \
		FLASHRUN_TEST_RECORDED=/data/mysqldata/b/dbdata run 1 "$PLANS/stdlib_guard.lua"
	has 'the journal recorded "/data/mysqldata/b/dbdata"'
	FLASHRUN_TEST_PATH=/data FLASHRUN_TEST_ROOT=/ run 1 "$PLANS/stdlib_guard.lua"
	has 'refusing to touch "/data": too close to /'
	FLASHRUN_TEST_PATH=/etc/ssh FLASHRUN_TEST_ROOT=/ run 1 "$PLANS/stdlib_guard.lua"
	has 'the data root "/" is not a directory below /'; lacks "MARK"
	;;
site_list)
	# Site steps are numbered and listed like stock ones, in place, marked with their file.
	run 0 "$PLANS/siteplan.lua" --site-dir "$SITES/main" --list
	got=$(grep -o '\[[a-z_]*\]' out | tr -d '[]' | tr '\n' ' ')
	[ "$got" = "s_first one s_after_one s_chain s_after_one_b two three s_before_four four s_last s_end s_end_lua " ] ||
		fail "steps listed in the order '$got'"
	has "Step 01/12 site: first  \[s_first\]  (site: a-hooks.lua)"
	has "Step 05/12 site: after one, second  \[s_after_one_b\]  (no undo, site: b-more.lua)"
	has "Step 11/12 site: end hook (an executable)  \[s_end\]  (end hook: after success or failure, site: a-hooks.lua)"
	has "Step 07/12 stock three  \[three\]$"; has "site dir $SITES/main"
	[ ! -e log ] || fail "--list created the state dir"
	run 0 "$PLANS/siteplan.lua" --list
	has "Step 04/04 stock four"; lacks "site dir"; lacks s_first
	;;
property_router)
	run 0 "$PLANS/property_router.lua"
	has "MARK seed"; has "MARK hostile: [1-9][0-9]* refused, [1-9][0-9]* accepted"
	;;
docs_ini)
	# every ```ini example of the documentation reads as shown (tests/lua/plans/docs_ini.lua)
	FLASHRUN_TEST_DOCS=$(cd "$PLANS/../../.." && pwd) run 0 "$PLANS/docs_ini.lua"
	has "MARK ini docs/operator.md:[0-9]*: 2[0-9] values as shown"; has "plan docs-ini done"
	;;
site_run|site_rollback|site_irreversible|site_truncate|site_dryrun|site_end_fail)
	export HOOK_LOG="$WORK/hooks.log" FLASHRUN_TARGET_MYSQL_PASSWORD=pw-SECRET-1
	T="--ti 127.0.0.5:3307 --set target.mysql_user=u --site-dir $SITES/main"
	all_run="run-s-first run-one run-s-after-one run-s-chain run-s-after-one-b run-two run-three hook-before-four run-four"
	case $CASE in
	site_run)
		run 0 "$PLANS/siteplan.lua" $T
		in_order $all_run run-s-last-sees-state hook-end-done end-lua-done-none
		has "Step 08/12 site: before four (an executable) … ok"
		has "\[Step 08/12\] MARK hook-before-four"
		grep -q "^before-four plan=site-test step=s_before_four phase=run target=127.0.0.5:3307 outcome= " "$HOOK_LOG" ||
			fail "the executable was not told the drill's facts: $(cat "$HOOK_LOG")"
		grep -q "^end-done plan=site-test step=s_end phase=run .* outcome=done rollback=none failed=$" "$HOOK_LOG" ||
			fail "the end hook was not told the outcome: $(cat "$HOOK_LOG")"
		grep -q "^FLASHRUN_SITE_DIR=$SITES/main$" "$HOOK_LOG.env.before-four" || fail "no FLASHRUN_SITE_DIR"
		grep -q "^HOOK_LOG=" "$HOOK_LOG.env.before-four" || fail "the caller's environment was not passed on"
		lacks pw-SECRET-1 "$HOOK_LOG.env.before-four"; lacks FLASHRUN_TARGET_MYSQL_PASSWORD "$HOOK_LOG.env.before-four"
		lacks pw-SECRET-1 "$HOOK_LOG.env.end-done"
		grep -q '"s_before_four":true' log/redo.json && grep -q '"site_key":"set by the site"' log/redo.json ||
			fail "the site's steps are not journaled"
		;;
	site_rollback)
		# A stock step fails: site steps are undone with the stock ones, in reverse; end hooks
		# run after the rollback and are told how it ended.
		FLASHRUN_TEST_FAIL=four run 1 "$PLANS/siteplan.lua" $T
		in_order ${all_run% run-four} undo-four hook-undo-before-four undo-three undo-two undo-s-chain undo-s-after-one \
			undo-one undo-s-first hook-end-failed end-lua-failed-complete
		grep -q "^end-failed .* outcome=failed rollback=complete failed=four$" "$HOOK_LOG" || fail "end hook: $(cat "$HOOK_LOG")"
		grep -q "^undo-before-four plan=site-test step=s_before_four phase=undo " "$HOOK_LOG" || fail "undo: $(cat "$HOOK_LOG")"
		lacks site_key log/redo.json; lacks key_one log/redo.json
		;;
	site_irreversible)
		# A site step after the irreversible step fails: nothing is undone, the recovery text is
		# printed, and a re-run resumes at the site step.
		FLASHRUN_TEST_BARRIER=four FLASHRUN_TEST_FAIL=s_last run 1 "$PLANS/siteplan.lua" $T
		in_order $all_run hook-end-failed end-lua-failed-incomplete
		has "Step 10/12 site: after four … FAILED"; has "irreversible: not undoing"; has "RECOVERY: re-run the plan"
		FLASHRUN_TEST_BARRIER=four run 0 "$PLANS/siteplan.lua" $T
		in_order run-s-last-sees-state hook-end-done end-lua-done-none
		has "Step 09/12 stock four … skipped (done by an earlier run)"
		;;
	site_truncate)
		# The stock step before a site step empties the journal (as stop's last step does): the
		# site step still sees the state, and when it fails the journal keeps the run.
		FLASHRUN_TEST_BARRIER=four FLASHRUN_TEST_FAIL=s_last FLASHRUN_TEST_TRUNCATE=yes run 1 "$PLANS/siteplan.lua" $T
		grep -q '"key_one":true' log/redo.json || fail "the journal was emptied although the plan failed after"
		FLASHRUN_TEST_BARRIER=four FLASHRUN_TEST_TRUNCATE=yes run 0 "$PLANS/siteplan.lua" $T
		in_order run-s-last-sees-state hook-end-done end-lua-done-none
		lacks key_one log/redo.json 2>/dev/null
		;;
	site_dryrun)
		# Lua site steps are rehearsed; executables are shown, not run.
		run 0 "$PLANS/siteplan.lua" $T --dry-run
		in_order run-s-first run-one run-s-after-one run-s-chain run-s-after-one-b run-two run-three run-four \
			run-s-last-sees-state end-lua-done-none
		grep -q "^DRY-RUN exec local: $SITES/main/hooks/record.sh 'before-four'$" stdout || fail "the executable is not shown"
		grep -q "^DRY-RUN exec local: $SITES/main/hooks/record.sh$" stdout || fail "the end hook is not shown"
		[ ! -e "$HOOK_LOG" ] || fail "an executable ran in a dry run"
		;;
	site_end_fail)
		# An end hook failing after success: exit 1, the plan itself stays done.
		HOOK_FAIL=end-done run 1 "$PLANS/siteplan.lua" $T
		in_order $all_run run-s-last-sees-state hook-end-done end-lua-done-none
		has "Step 11/12 site: end hook (an executable) … FAILED .*record.sh exited with status 3"
		has "hook end-done fails on purpose"; has "plan site-test done, but an end hook failed"
		grep -q '"status":"done"' log/redo.json || fail "the plan is not recorded done"
		# An executable step failing: the step fails and the rollback runs its undo first.
		rm -rf log; HOOK_FAIL=before-four run 1 "$PLANS/siteplan.lua" $T
		has "Step 08/12 site: before four (an executable) … FAILED .*record.sh 'before-four' exited with status 3"
		in_order ${all_run% run-four} hook-undo-before-four undo-three undo-two undo-s-chain undo-s-after-one undo-one \
			undo-s-first hook-end-failed end-lua-failed-complete
		;;
	esac
	;;
site_replace)
	run 0 "$PLANS/siteplan.lua" --ti 127.0.0.5:3307 --set target.mysql_user=u --set target.mysql_password=pw-long-secret \
		--site-dir "$SITES/replace"
	in_order run-mine run-more
	run 0 "$PLANS/siteplan.lua" --site-dir "$SITES/replace" --list
	has "plan replaced by site-test.lua"; has "the site's own plan"; lacks "stock one"
	;;
site_config)
	# The site dir from --set site.dir, FLASHRUN_SITE_DIR, or [site] dir in the file; --site-dir wins.
	run 0 "$PLANS/siteplan.lua" --set "site.dir=$SITES/main" --list; has "\[s_first\]"
	FLASHRUN_SITE_DIR="$SITES/main" run 0 "$PLANS/siteplan.lua" --list; has "\[s_first\]"
	printf '[site]\ndir = %s\n' "$SITES/main" >site.ini
	run 0 "$PLANS/siteplan.lua" --config site.ini --list; has "\[s_first\]"
	run 0 "$PLANS/siteplan.lua" --config site.ini --site-dir "$SITES/replace" --list; has "\[more\]"; lacks "s_first"
	run 2 "$PLANS/siteplan.lua" --site-dir /nonexistent/site --list
	has "^.*--site-dir /nonexistent/site: no such directory"
	run 2 "$PLANS/siteplan.lua" --set site.dir=/nonexistent/x --list; has "site.dir /nonexistent/x: no such directory"
	run 2 "$PLANS/siteplan.lua" --site-dir= --list; has "--site-dir: expected a directory"
	;;
site_errors)
	# bad FILE-CONTENT EXPECTED...: a site dir holding only FILE is refused (exit 2) naming it
	bad() {
		rm -rf bad; mkdir -p bad/hooks; printf '%s\n' "$1" >bad/x.lua; shift
		: >bad/hooks/plain.sh
		run 2 "$PLANS/siteplan.lua" --site-dir bad --list
		for w in "$@"; do has "$w"; done
		[ "$(wc -l <stderr)" -eq 1 ] || fail "expected one line of error"
	}
	S='return { extend = { ["site-test"] = {'
	bad "$S { after = \"fuor\", id = \"x\", name = \"x\", run = function() end } } } }" \
		"site file x.lua: step 'x' goes after 'fuor', which is no step of plan site-test (its steps: one, two, three, four)"
	bad 'return { extend = { strat = {} } }' "site file x.lua: extend.strat names no plan (plans: site-test, start, status, stop, verify)"
	bad "$S { after = \"one\", name = \"x\", run = function() end } } } }" "site file x.lua: extend.site-test\[1\] has no 'id'"
	bad "$S { after = \"one\", id = \"two\", name = \"x\", run = function() end } } } }" "step id 'two' is taken (by plan site-test)"
	bad "$S { after = \"one\", id = \"x\", name = \"x\", run = \"hooks/nothere.sh\" } } } }" "step 'x' run: .*/bad/hooks/nothere.sh is not an executable file"
	bad "$S { after = \"one\", id = \"x\", name = \"x\", run = \"hooks/plain.sh\" } } } }" "hooks/plain.sh is not an executable file"
	bad "$S { after = \"one\", before = \"two\", id = \"x\", name = \"x\", run = function() end } } } }" "give exactly one of"
	bad "$S { at = \"end\", id = \"x\", name = \"x\", run = function() end, undo = function() end } } } }" "takes no undo"
	bad "$S { at = \"middle\", id = \"x\", name = \"x\", run = function() end } } } }" 'at = "middle"; expected "start" or "end"'
	bad "$S { befor = \"one\", id = \"x\", name = \"x\", run = function() end } } } }" "unknown key 'befor'"
	bad "$S { after = \"y\", id = \"x\", name = \"x\", run = function() end }, { after = \"x\", id = \"y\", name = \"y\", run = function() end } } } }" \
		"goes after 'y', which never comes"
	bad "$S { after = \"one\", id = \"x\", name = \"x\", run = 42 } } } }" "'run' must be a function|command, not a number"
	bad 'return nil' "site file x.lua must return a table"
	bad 'return { description = "nothing" }' "site file x.lua extends no plan"
	bad 'return { replace = { ["site-test"] = { name = "other", description = "d", steps = {} } } }' "a replacement keeps the plan's name"
	;;
stop_unfinished_start)
	# plans/stop.lua on a journal whose start ended before its restore_point step was recorded
	# (killed, or failed with an unfinished rollback) but after record_nodes: nodes whose restore
	# point was never taken look restored, so stop must refuse before touching anything (step 1,
	# before it connects anywhere: the routers here do not answer) and name start. With every
	# restore point recorded it goes on (and refuses at step 2, production not answering).
	ROOT=$(cd "$(dirname "$0")/../.." && pwd)
	mkdir -m 700 st
	printf '[source]\nmysql_user=u\nmysql_password=pw-%s\nsys_user=root\nsys_password=pw-%s\n' a b >fb.ini
	printf '[target]\nmysql_user=u\nmysql_password=pw-%s\nsys_user=root\nsys_password=pw-%s\n' c d >>fb.ini
	chmod 600 fb.ini
	journal() { # START_STATUS RESTORE_POINTS_JSON_OR_EMPTY
		printf '{"owner":{"source":"127.0.0.1:9","target":"127.0.0.2:9"},"plans":{"start":{"status":"%s","started":"2026-11-30T10:00:00Z","steps_done":{"check":true,"record_nodes":true}}},"state":{"strategy":"donor","frozen":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10","sites":[{"id":"127.0.0.2:3308","host":"127.0.0.2","port":3308,"role":"joiner"}]%s}}' \
			"$1" "${2:+,\"restore_points\":$2}" >st/redo.json
	}
	for status in running failed; do
		journal "$status"
		run 3 "$ROOT/plans/stop.lua" --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --state-dir st
		has "Step 01/14 read the drill from the journal … REFUSED"
		has "start did not finish"; has "re-run plans/start.lua"; lacks "Step 02/14"
	done
	journal running '{"127.0.0.2:3308":{"files":1}}'
	run 3 "$ROOT/plans/stop.lua" --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --state-dir st
	has "Step 02/14 check production answers .* REFUSED"; lacks "start did not finish"
	# a start whose rollback stopped partway (settle undone, so no strategy; detach not undone):
	# its first step's record is still there, and stop names start whatever else is left
	for left in '"sites":[{"id":"x"}],"frozen":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10"' '"sites":false,"frozen":false'; do
		printf '{"owner":{"source":"127.0.0.1:9","target":"127.0.0.2:9"},"plans":{"start":{"status":"failed","started":"2026-11-30T10:00:00Z","steps_done":{"check":true,"detach":true}}},"state":{%s}}' "$left" >st/redo.json
		run 3 "$ROOT/plans/stop.lua" --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --state-dir st
		has "start did not finish"; has "failed before it recorded every restore point"; lacks "Step 02/14"
	done
	# a start that failed and rolled back completely left no drill: nothing to stop
	printf '{"owner":{"source":"127.0.0.1:9","target":"127.0.0.2:9"},"plans":{"start":{"status":"failed","started":"2026-11-30T10:00:00Z","steps_done":{}}},"state":{}}' >st/redo.json
	run 3 "$ROOT/plans/stop.lua" --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --state-dir st
	has "the journal in $PWD/st records no drill"; lacks "start did not finish"
	# production's router does not answer here: no claim that the standby is detached
	lacks "not registered on production"
	# the run a message names is the last one, not the plan's first (a resumed start killed again)
	journal running
	sed -i 's/"started":"2026-11-30T10:00:00Z"/&,"run_started":"2026-11-30T11:22:33Z"/' st/redo.json
	run 3 "$ROOT/plans/stop.lua" --si 127.0.0.1:9 --ti 127.0.0.2:9 --config fb.ini --state-dir st
	has "the run started 2026-11-30T11:22:33Z was interrupted"
	;;
*)
	echo "unknown case $CASE"; exit 2;;
esac
echo "ok [$CASE]"
