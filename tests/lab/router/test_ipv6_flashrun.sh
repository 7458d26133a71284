#!/bin/sh
# flashrun against dbscale-emu listening on [::1] (issue 9: a bracketed IPv6 router works end
# to end). Usage: test_ipv6_flashrun.sh FLASHRUN DBSCALE_EMU. Skipped (77) without IPv6 loopback.
set -u
FR=$1 EMU=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/fr-ipv6.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- flashrun:"; cat "$T/out" 2>/dev/null; echo "--- router:"; cat "$T/log"; exit 1; }
python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null ||
	{ echo "SKIP: no IPv6 loopback"; exit 77; }
# a free port on ::1, then two closed ones for the nodes
free() { python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])'; }
port=$(free); n1=$(free); n2=$(free)
pw='p@ss#w$rd;6'
cat >"$T/router.conf" <<CONF
listen = [::1]:$port
state = $T/state
user = admin
password = $pw
backend_user = internal
backend_password = x
node = normal_0_0 ::1 $n1
node = normal_0_1 ::1 $n2
CONF
"$EMU" --config "$T/router.conf" 2>"$T/log" &
pid=$!
i=0
until grep -q "listening on" "$T/log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the emulator did not come up"; sleep 0.05
done
cd "$T" || exit 1
FLASHRUN_SOURCE_MYSQL_PASSWORD=$pw "$FR" "$HERE/ipv6_router.lua" --si "[::1]:$port" \
	--set source.mysql_user=admin >"$T/out" 2>&1 || fail "flashrun exited $?"
grep -q "MARK node normal_0_0 \[::1\]:$n1" "$T/out" || fail "node id not [::1]:$n1"
grep -q "MARK next group id [0-9]* via \[::1\]:$port" "$T/out" || fail "cluster info not followed"
# the unbracketed form is refused before anything connects
"$FR" "$HERE/ipv6_router.lua" --si "::1:$port" >"$T/out" 2>&1
[ $? = 2 ] && grep -q "more than one ':'" "$T/out" || fail "--si ::1:$port was not refused"
echo "ok: flashrun reached the router on [::1]:$port"
