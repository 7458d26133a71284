#!/bin/sh
# Proves a MySQL 9 client (the lab rootfs's `mysql`, used read-only through chroot) logs in to
# dbscale-emu with caching_sha2_password and reads dbscale output. Skips (77) without the rootfs/root.
set -u
EMU=$1
ROOTFS=${LAB_ROOTFS:-/var/cache/flashrun-lab/rootfs-sid}
[ -x "$ROOTFS/usr/bin/mysql" ] && [ "$(id -u)" = 0 ] || { echo "skip: no $ROOTFS/usr/bin/mysql or not root"; exit 77; }
DIR=$(mktemp -d /tmp/dbscale-emu-mysql9.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW='m9 pa#ss$word'
cat >"$DIR/conf" <<EOC
listen = 127.0.0.1:$PORT
state = $DIR/state
user = admin
password = $PW
backend_user = dbscale_internal
backend_password = unused
node = normal_0_0 127.0.0.1 9
EOC
"$EMU" --config "$DIR/conf" 2>"$DIR/log" &
EPID=$!
trap 'kill $EPID 2>/dev/null; wait $EPID 2>/dev/null; rm -rf "$DIR"' EXIT
fail=0
for i in $(seq 50); do
  MYSQL_PWD=$PW chroot "$ROOTFS" /usr/bin/mysql --protocol=TCP -h127.0.0.1 -P"$PORT" -uadmin -e 'dbscale request next group id' >/dev/null 2>&1 && break
  sleep 0.1
done
out=$(MYSQL_PWD=$PW chroot "$ROOTFS" /usr/bin/mysql --protocol=TCP -h127.0.0.1 -P"$PORT" -uadmin -E \
  -e 'dbscale show dataservers; dbscale show options like "enable-read-only"' 2>&1)
echo "$out" | grep -q 'master-online-status: Master_Online' || { echo "FAIL: mysql 9 client could not read dataservers: $out"; fail=1; }
echo "$out" | grep -q 'option_name: enable-read-only' || { echo "FAIL: options output: $out"; fail=1; }
MYSQL_PWD=wrong chroot "$ROOTFS" /usr/bin/mysql --protocol=TCP -h127.0.0.1 -P"$PORT" -uadmin -e 'select 1' 2>"$DIR/err" >/dev/null
grep -q 'ERROR 1045' "$DIR/err" || { echo "FAIL: wrong password not refused with 1045: $(cat "$DIR/err")"; fail=1; }
# mysql_native_password on request (the client's --default-auth), checked by the same server.
MYSQL_PWD=$PW chroot "$ROOTFS" /usr/bin/mysql --protocol=TCP -h127.0.0.1 -P"$PORT" -uadmin --default-auth=mysql_native_password \
  -e 'dbscale request next group id' >/dev/null 2>"$DIR/err2" || { echo "FAIL: mysql_native_password via auth switch: $(head -c 200 "$DIR/err2")"; fail=1; }
[ $fail = 0 ] && echo "mysql 9 client: ok"
exit $fail
