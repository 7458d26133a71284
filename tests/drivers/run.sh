#!/bin/sh
# run.sh FLASHRUN CASE — the driver tests: the real flashrun binary runs the test plans in this
# directory (so they use the runtime's scheduler, dry-run recorder and masking, as plans do) and
# this script checks exit codes and output. CASE: sql | ssh (under with-servers.sh mysql | ssh,
# which exports the servers' FR_* details) | unreachable (no server). Exit 77 = skipped.
set -u
FR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flashrun-drivers.XXXXXX")
agents= # ssh-agents this script started (the ssh case), ended on exit
trap 'for a in $agents; do kill "$a" 2>/dev/null; done; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1 # no ./flashback.ini, no ./log from elsewhere

skip() { echo "SKIP [$CASE]: $*"; exit 77; }
fail() { echo "FAIL [$CASE]: $*"; echo "--- output:"; cat out 2>/dev/null; exit 1; }
# run EXPECTED_EXIT ARGS...: stdout+stderr in ./out (and appended to ./all), stdout in ./stdout
run() {
	want=$1; shift
	echo "+ flashrun $*"
	"$FR" "$@" >stdout 2>stderr; got=$?
	cat stdout stderr >out
	cat out >>all
	[ "$got" = "$want" ] || fail "exit $got, expected $want: flashrun $*"
}
has() { grep -qF -e "$1" "${2:-out}" || fail "${2:-output} lacks '$1'"; }
lacks() { ! grep -qF -e "$1" "${2:-out}" || fail "${2:-output} contains '$1'"; }
# waited N CMD...: CMD succeeds within N tries, 50 ms apart
waited() {
	n=$1; shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.05
	done
}
# records N: exactly N DRY-RUN lines on stdout
records() {
	n=$(grep -c '^DRY-RUN ' stdout)
	[ "$n" = "$1" ] || fail "$n DRY-RUN lines, expected $1"
}

case $CASE in
sql)
	[ -n "${FR_MYSQL_HOST:-}" ] || skip "FR_MYSQL_HOST not set: run through with-servers.sh mysql"
	# the test user's password, and the one the dry run tries to set; specials, no quotes
	FR_MYSQL_FR_PW="Pw-$$-$(date +%s)-#\$x"
	FR_MYSQL_FR_PW2="Dry-$$-$(date +%s)-%!y"
	export FR_MYSQL_FR_PW FR_MYSQL_FR_PW2
	# target.mysql_user: cluster.lua's node and router connections (the sql_mode step)
	run 0 "$HERE/test_sql.lua" --set target.mysql_user=root
	has "server "; has "4 x SELECT SLEEP(1)"; has "plan drivers-sql-live done"
	has "sql_mode: 7 global modes, literals and a password read as built"
	records 0
	FLASHRUN_TEST_PHASE=dry run 0 "$HERE/test_sql.lua" --dry-run
	records 2
	has "DRY-RUN sql $FR_MYSQL_HOST:$FR_MYSQL_PORT: INSERT INTO t.a VALUES (3," stdout
	has "DRY-RUN sql $FR_MYSQL_HOST:$FR_MYSQL_PORT: ALTER USER 'fr'@'%' IDENTIFIED BY '******'" stdout
	FLASHRUN_TEST_PHASE=after run 0 "$HERE/test_sql.lua"
	for pw in "$FR_MYSQL_FR_PW" "$FR_MYSQL_FR_PW2"; do lacks "$pw" all; done
	if "$FR" --version | grep -q '^test options:.*killpoints'; then
		# kill points (docs/testing.md): every exec names two, a retry keeps its ordinal, a
		# query names none; killed before the reply, the statement still ran
		kp=drivers-killpoint-write/w/$FR_MYSQL_HOST:$FR_MYSQL_PORT
		FLASHRUN_TEST_PHASE=write FLASHRUN_TEST_POINTS=$WORK/points run 0 "$HERE/test_killpoint.lua"
		want=$(for i in 1 1 2 3; do printf '%s\n' "$kp/$i/sql/before-reply" "$kp/$i/sql/after"; done)
		[ "$(cat points)" = "$want" ] || { cat points; fail "kill points recorded differ from: $want"; }
		FLASHRUN_TEST_PHASE=write FLASHRUN_TEST_KILL=$kp/2/sql/before-reply run 137 "$HERE/test_killpoint.lua"
		has "test kill point $kp/2/sql/before-reply"
		FLASHRUN_TEST_PHASE=check run 0 "$HERE/test_killpoint.lua"
		has "the statement killed before its reply was executed"
		# the pause point: the run holds after the CREATE TABLE's reply (the file appears, the
		# process lives, the DROP is not made) until the file is removed, then finishes; a
		# SIGTERM ends the hold as well
		pause=$kp/2/sql/after
		for how in file signal; do
			rm -f "$WORK/pause"
			FLASHRUN_TEST_PHASE=write FLASHRUN_TEST_PAUSE=$pause FLASHRUN_TEST_PAUSE_FILE=$WORK/pause \
				"$FR" "$HERE/test_killpoint.lua" >held 2>&1 &
			pid=$!
			waited 200 test -e "$WORK/pause" || { kill "$pid"; cat held; fail "no pause file within 10 s"; }
			FLASHRUN_TEST_PHASE=held run 0 "$HERE/test_killpoint.lua"
			has "held after the CREATE TABLE"
			kill -0 "$pid" 2>/dev/null || { cat held; fail "the run did not hold at $pause"; }
			if [ $how = file ]; then rm "$WORK/pause"; else kill -TERM "$pid"; fi
			waited 200 sh -c "! kill -0 $pid 2>/dev/null" || { kill "$pid"; fail "the run still holds 10 s after its release ($how)"; }
			wait "$pid"; rc=$?
			cat held >>all
			has "test pause point $pause" held
			echo "released by $how: exit $rc"
			FLASHRUN_TEST_PHASE=released run 0 "$HERE/test_killpoint.lua"
			has "released: the DROP was made"
		done
		[ "$rc" = 0 ] || [ "$rc" = 143 ] || fail "a SIGTERM during the hold: exit $rc, expected 0 or 143"
	fi
	;;
sql_tls)
	[ -n "${FR_MYSQL_TMP:-}" ] || skip "FR_MYSQL_TMP not set: run through with-servers.sh mysql"
	command -v openssl >/dev/null || skip "openssl not found"
	sh "$HERE/tls-certs.sh" "$FR_MYSQL_TMP/tls" "$FR_MYSQL_HOST" || fail "tls-certs.sh failed"
	FR_MYSQL_FR_PW="Tls-$$-$(date +%s)-#\$x"
	export FR_MYSQL_FR_PW FR_TLS_DIR="$FR_MYSQL_TMP/tls"
	lib=$("$FR" --version | sed -n 's/^client library: \([a-z]*\) .*/\1/p')
	echo "client library: $lib"
	run 0 "$HERE/test_sql_tls.lua"
	has "plan drivers-sql-tls-live done"
	has "verify_identity: TLSv1."; has "required refused as expected"; has "probe: IP:"
	lacks "$FR_MYSQL_FR_PW" all
	grep -E 'refused as expected|: (TLSv|no TLS)' all
	;;
native_auth)
	[ -n "${FR_ROUTER_HOST:-}" ] || skip "FR_ROUTER_HOST not set: run through with-servers.sh router-native"
	lib=$("$FR" --version | sed -n 's/^client library: \([a-z]*\) .*/\1/p')
	echo "client library: $lib"
	# libmariadb has mysql_native_password built in; Oracle's libmysqlclient 9.x loads it from its
	# plugin directory, where Debian's mysql-client-core puts it.
	FLASHRUN_TEST_EXPECT=ok run 0 "$HERE/test_native_auth.lua"
	has "logged in with mysql_native_password"
	has "router without TLS refused as expected under required"
	case $lib in
	libmariadb) ;;
	libmysqlclient)
		mkdir "$WORK/no-plugins"
		LIBMYSQL_PLUGIN_DIR=$WORK/no-plugins FLASHRUN_TEST_EXPECT=missing run 0 "$HERE/test_native_auth.lua"
		has "refused as expected"; has "mysql_native_password"; has "mysql-client-core" ;;
	*) fail "unknown client library in flashrun --version: '$lib'" ;;
	esac
	lacks "$FR_ROUTER_PASSWORD" all
	;;
ssh)
	[ -n "${FR_SSH_HOST:-}" ] || skip "FR_SSH_HOST not set: run through with-servers.sh ssh"
	target="$FR_SSH_USER@$FR_SSH_HOST:$FR_SSH_PORT"
	# no agent and no default key of the caller's: each phase sets up its own
	unset SSH_AUTH_SOCK SSH_AGENT_PID
	mkdir -p "$WORK/home" && HOME=$WORK/home && export HOME
	run 0 "$HERE/test_ssh.lua"
	has "4 x remote sleep 1"; has "plan drivers-ssh-live done"
	has "logged in, but the key $FR_SSH_DIR/id_loose is readable by group or others (mode 0644)"
	records 0
	FLASHRUN_TEST_PHASE=dry run 0 "$HERE/test_ssh.lua" --dry-run
	records 4
	has "DRY-RUN ssh $target: touch /tmp/home/dry-marker" stdout
	has "DRY-RUN ssh $target: cat > /tmp/home/dry2 <<stdin (12 bytes)" stdout
	has "DRY-RUN ssh $target: write_file /tmp/home/dry3 (12 bytes, mode 0600)" stdout
	has "DRY-RUN ssh $target: echo ****** > /tmp/home/dry4" stdout
	lacks "s3cr3t" all
	FLASHRUN_TEST_PHASE=after run 0 "$HERE/test_ssh.lua"
	for f in dry-marker dry2 dry3 dry4; do [ ! -e "$FR_SSH_HOMEDIR/$f" ] || fail "the dry run created $f"; done
	# agents: ssh-add reads the passphrase from an askpass program (OpenSSH >= 8.4 with
	# SSH_ASKPASS_REQUIRE=force), which prints it from the environment, never from argv
	command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null || fail "ssh-agent/ssh-add not found (openssh-client)"
	printf '#!/bin/sh\nprintf "%%s\\n" "$FR_SSH_PASSPHRASE"\n' >"$WORK/askpass" && chmod 700 "$WORK/askpass"
	for phase in agent agent_other; do
		eval "$(ssh-agent -s -a "$WORK/agent.$phase")" >/dev/null || fail "ssh-agent did not start"
		agents="$agents $SSH_AGENT_PID"
		if [ $phase = agent ]; then k=$FR_SSH_KEY_ENC; else k=$FR_SSH_KEY_OTHER; fi
		SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force ssh-add -q "$k" </dev/null || fail "ssh-add $k failed"
		FLASHRUN_TEST_PHASE=$phase run 0 "$HERE/test_ssh.lua"
		kill "$SSH_AGENT_PID"
		unset SSH_AUTH_SOCK SSH_AGENT_PID
	done
	mkdir -p "$WORK/home/.ssh" && cp "$FR_SSH_KEY" "$WORK/home/.ssh/id_ed25519" && chmod 600 "$WORK/home/.ssh/id_ed25519"
	FLASHRUN_TEST_PHASE=home run 0 "$HERE/test_ssh.lua"
	lacks "$FR_SSH_PASSWORD" all
	lacks "$FR_SSH_PASSPHRASE" all
	;;
unreachable)
	run 0 "$HERE/test_unreachable.lua"
	has "refused as expected"; has "127.0.0.1:1"; has "ok"
	lacks "p4ssw0rd-x"
	records 0
	;;
*)
	echo "unknown case $CASE"; exit 2 ;;
esac
grep -E '^(server |4 x )' all
echo "ok [$CASE]"
