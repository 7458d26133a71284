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
	has "Step 02/03 second … ok"; has "plan basic done in"; has "\[first\] first runs"
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
irreversible_failed)
	FLASHRUN_TEST_FAIL_AT=4 FLASHRUN_TEST_LAST_IRREVERSIBLE=yes run 1 "$PLANS/undo.lua"
	in_order run-a run-b run-c
	has "nothing is undone"; has "RECOVERY: put things back by hand"
	run 0 "$PLANS/undo.lua"   # the re-run resumes at the failed step, not from the start
	in_order run-d
	;;
resume)
	FLASHRUN_TEST_FAIL=yes run 1 "$PLANS/resume.lua"
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
		FLASHRUN_TEST_MODE="$1" "$FR" "$PLANS/interrupt.lua" >stdout 2>stderr &
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
refuse)
	run 3 "$PLANS/refuse.lua"
	has "standby is not replicating"; lacks "MARK never"
	;;
lock)
	FLASHRUN_TEST_HOLD=3 "$FR" "$PLANS/hold.lua" >hold.out 2>&1 &
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
stdlib_shell|stdlib_router|stdlib_server|stdlib_site|stdlib_wait|stdlib_checks|stdlib_cluster)
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
	run 0 "$PLANS/stdlib_site.lua" --set site.side_buffer_pool=64M --set site.disk_threshold=40 --set site.max_delay=7
	has "plan stdlib-site done"
	run 0 "$PLANS/stdlib_site.lua" --set site.side_buffer_pool=node --set site.disk_threshold=40 --set max_delay=7
	has "plan stdlib-site done"
	;;
stdlib_site_unknown)
	# Every source, checked at load against the one schema: exit 2 naming the source, before
	# any step; never the value.
	run 2 "$PLANS/stdlib_site.lua" --set site.bogus=S3cret
	has "^.*ERROR --set site.bogus: unknown key 'bogus' in \[site\] (known: restore_point, .*marker_schema"
	lacks "Step 01"; lacks S3cret
	run 2 "$PLANS/stdlib_site.lua" --set side_prot=18001
	has "--set side_prot: unknown key 'side_prot' in \[site\]"
	run 2 "$PLANS/stdlib_site.lua" --set site.side_launcher=systemd
	has "--set site.side_launcher: site.side_launcher: expected one of: mysqld, mysqld_safe"; lacks "Step 01"
	run 2 "$PLANS/stdlib_site.lua" --set site.max_delay=abc
	has "site.max_delay: expected a whole number"
	run 2 "$PLANS/stdlib_site.lua" --set site.restore_point=remote
	has "expected one of: local, donor"
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
	FLASHRUN_SITE_SIDE_LAUNCHER=mysqld_safe run 0 "$PLANS/stdlib_site.lua"
	# a bracketed IPv6 host in the file or the environment is the bare address
	printf '[source]\nhost = [::1]\nport = 3306\nmysql_user = u\n' >v6.ini
	FLASHRUN_TEST_WHICH=none FLASHRUN_SOURCE_MYSQL_PASSWORD=x run 0 "$PLANS/strict.lua" --config v6.ini
	has "MARK host=::1 port=3306"
	FLASHRUN_TEST_WHICH=none FLASHRUN_SOURCE_MYSQL_PASSWORD=x FLASHRUN_SOURCE_HOST='[fe80::2]' run 0 "$PLANS/strict.lua" --config v6.ini
	has "MARK host=fe80::2 port=3306"
	run 0 "$PLANS/stdlib_site.lua" --set site.side_launcher=mysqld_safe
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
property_router)
	run 0 "$PLANS/property_router.lua"
	has "MARK seed"; has "MARK hostile: [1-9][0-9]* refused, [1-9][0-9]* accepted"
	;;
docs)
	# the documentation's examples (tests/lua/plans/docs.lua), then its flashrun commands, run
	# with --list from a directory holding the README's configuration example as flashback.ini
	ROOT=$(cd "$PLANS/../../.." && pwd)
	FLASHRUN_TEST_DOCS=$ROOT run 0 "$PLANS/docs.lua"
	has "MARK ini README.md"
	full=$(grep -l '^\[source\]' ini-*.ini | head -1)
	[ -n "$full" ] || fail "no INI example with a [source] section"
	cp "$full" flashback.ini; ln -s "$ROOT/plans" plans
	[ -s commands ] || fail "no flashrun command found in the documentation"
	while IFS= read -r args; do
		# shellcheck disable=SC2086 # the documented words, split as a shell would
		eval "set -- $args"
		run 0 "$@" --list
		has "Step 01"
	done <commands
	;;
*)
	echo "unknown case $CASE"; exit 2;;
esac
echo "ok [$CASE]"
