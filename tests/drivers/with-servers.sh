#!/bin/bash
# with-servers.sh {ssh|mysql|router-native} COMMAND... — bring up a throwaway sshd (:22222) or
# mysqld (:23306) from the lab's Debian rootfs, or the router emulator (:23307, FR_ROUTER_BIN)
# offering only mysql_native_password, run COMMAND with the connection details in the
# environment, stop the server, and return COMMAND's status (77 = skipped).
#
# The rootfs is never modified: the server runs chrooted inside a private mount namespace where
# a temporary directory is bound over <rootfs>/tmp and /mnt, private copies over /etc/passwd,
# /etc/shadow and /etc/group, and a tmpfs over /run.
set -eu
what=$1; shift
# the lab's cached rootfs (`tests/lab/lab rootfs` builds it; same knob as the lab)
R=${LAB_ROOTFS:-/var/cache/flashrun-lab/rootfs-sid}
skip() { echo "SKIP: $*"; exit 77; }
[ -d "$R" ] || skip "no rootfs at $R (tests/lab/lab rootfs builds it; LAB_ROOTFS overrides)"
[ "$(id -u)" = 0 ] || skip "needs root (unshare --mount, chroot)"
command -v unshare >/dev/null || skip "unshare not found"

T=$(mktemp -d /tmp/fr-drivers-$what.XXXXXX)
pid=  # unshare: it ignores SIGTERM; SIGKILL takes the whole PID namespace down (--kill-child)
cleanup() {
	if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
mkdir -p "$T/tmp" "$T/mnt" "$T/etc"
chmod 1777 "$T/tmp"

# FR_TEST_ADDR: the loopback address the servers listen on (one per checkout running tests).
addr=${FR_TEST_ADDR:-127.0.0.1}

wait_port() { # port seconds
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		if bash -c "exec 3<>/dev/tcp/$addr/$1" 2>/dev/null; then return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

case $what in
ssh)
	[ -x "$R/usr/sbin/sshd" ] || skip "no sshd in $R"
	command -v ssh-keygen >/dev/null || skip "ssh-keygen not found"
	command -v openssl >/dev/null || skip "openssl not found"
	cp "$R/etc/passwd" "$R/etc/shadow" "$R/etc/group" "$T/etc/"
	pw=$(openssl rand -hex 12)
	hash=$(printf '%s' "$pw" | openssl passwd -6 -stdin)
	echo "frtest:x:4242:4242:flashrun test:/tmp/home:/bin/sh" >>"$T/etc/passwd"
	echo "frtest:$hash:19000:0:99999:7:::" >>"$T/etc/shadow"
	echo "frtest:x:4242:" >>"$T/etc/group"
	# a second user with the key only (password login impossible)
	echo "frkey:x:4243:4243:flashrun test:/tmp/keyhome:/bin/sh" >>"$T/etc/passwd"
	echo "frkey:*:19000:0:99999:7:::" >>"$T/etc/shadow"
	echo "frkey:x:4243:" >>"$T/etc/group"
	mkdir -p "$T/tmp/home/.ssh" "$T/tmp/keyhome/.ssh" "$T/client"
	# three host keys, as a stock sshd has: known_hosts tests need a server offering several types
	ssh-keygen -q -t ed25519 -N '' -f "$T/tmp/hostkey" -C flashrun-test-host
	ssh-keygen -q -t ecdsa -N '' -f "$T/tmp/hostkey_ecdsa" -C flashrun-test-host
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/tmp/hostkey_rsa" -C flashrun-test-host
	ssh-keygen -q -t ed25519 -N '' -f "$T/client/id_ed25519" -C flashrun-test-user
	cp "$T/client/id_ed25519.pub" "$T/tmp/home/.ssh/authorized_keys"
	cp "$T/client/id_ed25519.pub" "$T/tmp/keyhome/.ssh/authorized_keys"
	# frkey's other keys: encrypted ones (OpenSSH format, and PEM as `ssh-keygen -m PEM` writes
	# it), an RSA key (this libssh2 signs it with ssh-rsa, which OpenSSH >= 8.8 refuses), and
	# one key authorized nowhere; the passphrase holds the characters a shell or INI would mangle
	pp="Pp $(openssl rand -hex 6) #\$;x'\"q"
	ssh-keygen -q -t ed25519 -N "$pp" -f "$T/client/id_enc" -C flashrun-test-enc
	ssh-keygen -q -t ecdsa -m PEM -N "$pp" -f "$T/client/id_pem" -C flashrun-test-pem
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/client/id_rsa" -C flashrun-test-rsa
	ssh-keygen -q -t ed25519 -N '' -f "$T/client/id_other" -C flashrun-test-other
	cat "$T/client/id_enc.pub" "$T/client/id_pem.pub" "$T/client/id_rsa.pub" >>"$T/tmp/keyhome/.ssh/authorized_keys"
	chown -R 4242:4242 "$T/tmp/home"
	chown -R 4243:4243 "$T/tmp/keyhome"
	cat >"$T/tmp/sshd_config" <<EOF
ListenAddress $addr
Port 22222
HostKey /tmp/hostkey
HostKey /tmp/hostkey_ecdsa
HostKey /tmp/hostkey_rsa
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
# OpenSSH >= 9.8 drops a source after failed logins for a while (PerSourcePenalties): the
# refusals this suite provokes on purpose would shut the next logins out
PerSourcePenalties no
EOF
	unshare --mount --pid --fork --kill-child --propagation private sh -c '
		R=$1; T=$2
		mount --bind "$T/tmp" "$R/tmp"
		for f in passwd shadow group; do mount --bind "$T/etc/$f" "$R/etc/$f"; done
		mount -t tmpfs tmpfs "$R/run" && mkdir -p "$R/run/sshd"
		mount -t proc proc "$R/proc" 2>/dev/null || true
		exec chroot "$R" /usr/sbin/sshd -D -e -f /tmp/sshd_config' sh "$R" "$T" 2>"$T/server.log" &
	pid=$!
	wait_port 22222 10 || { cat "$T/server.log"; echo "FAIL: sshd did not start"; exit 1; }
	export FR_SSH_HOST=$addr FR_SSH_PORT=22222 FR_SSH_USER=frtest FR_SSH_KEYUSER=frkey \
		FR_SSH_PASSWORD="$pw" FR_SSH_KEY="$T/client/id_ed25519" FR_SSH_DIR="$T/client" \
		FR_SSH_HOSTPUB="$T/tmp/hostkey.pub" FR_SSH_HOSTPUB_ECDSA="$T/tmp/hostkey_ecdsa.pub" \
		FR_SSH_HOSTPUB_RSA="$T/tmp/hostkey_rsa.pub" FR_SSH_HOMEDIR="$T/tmp/home" \
		FR_SSH_PASSPHRASE="$pp" FR_SSH_KEY_ENC="$T/client/id_enc" FR_SSH_KEY_PEM="$T/client/id_pem" \
		FR_SSH_KEY_RSA="$T/client/id_rsa" FR_SSH_KEY_OTHER="$T/client/id_other"
	;;
mysql)
	[ -x "$R/usr/sbin/mysqld" ] || skip "no mysqld in $R"
	# The server of the test before (drivers_sql, then drivers_sql_tls) dies asynchronously
	# after its unshare was killed: wait until it no longer listens, or wait_port below would
	# take the dying server for the new one.
	i=0
	while bash -c "exec 3<>/dev/tcp/$addr/23306" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "FAIL: $addr:23306 is still in use"; exit 1; }
		sleep 0.1
	done
	unshare --mount --pid --fork --kill-child --propagation private sh -c '
		R=$1; T=$2; A=$3
		mount --bind "$T/tmp" "$R/tmp"
		mount --bind "$T/mnt" "$R/mnt"
		mount -t tmpfs tmpfs "$R/run"
		mount -t proc proc "$R/proc" 2>/dev/null || true
		chroot "$R" /usr/sbin/mysqld --no-defaults --initialize-insecure --user=root \
			--datadir=/mnt/data --log-error=/tmp/init.err --innodb-buffer-pool-size=32M --secure-file-priv="" || { cat "$T/tmp/init.err"; exit 1; }
		exec chroot "$R" /usr/sbin/mysqld --no-defaults --user=root --datadir=/mnt/data \
			--bind-address=$A --port=23306 --mysqlx=OFF --socket=/tmp/mysqld.sock \
			--log-error=/tmp/mysqld.err --pid-file=/tmp/mysqld.pid --skip-log-bin --secure-file-priv="" --innodb-buffer-pool-size=32M --performance-schema=OFF' \
		sh "$R" "$T" "$addr" >"$T/server.log" 2>&1 &
	pid=$!
	wait_port 23306 120 || { cat "$T/server.log" "$T/tmp/mysqld.err" 2>/dev/null; echo "FAIL: mysqld did not start"; exit 1; }
	# FR_MYSQL_TMP: the server's /tmp seen from outside (files the server must read: the TLS test)
	export FR_MYSQL_HOST=$addr FR_MYSQL_PORT=23306 FR_MYSQL_TMP=$T/tmp
	;;
router-native)
	# The lab's router emulator with an account WITH mysql_native_password (as GreatDB 8.0 accounts
	# often are; MySQL 9.x servers no longer offer the plugin): every login is switched to it.
	emu=${FR_ROUTER_BIN:-}
	[ -x "$emu" ] || skip "no dbscale-emu (FR_ROUTER_BIN)"
	pw="Nat-$$-#pa\$s w"
	cat >"$T/router.conf" <<EOF
listen = $addr:23307
state = $T/router.state
user = fr_native
password = $pw
backend_user = unused
backend_password = unused
node = normal_0_0 127.0.0.1 9
auth = mysql_native_password
EOF
	"$emu" --config "$T/router.conf" 2>"$T/server.log" &
	pid=$!
	wait_port 23307 10 || { cat "$T/server.log"; echo "FAIL: dbscale-emu did not start"; exit 1; }
	export FR_ROUTER_HOST=$addr FR_ROUTER_PORT=23307 FR_ROUTER_USER=fr_native FR_ROUTER_PASSWORD="$pw"
	;;
*)
	echo "usage: $0 {ssh|mysql|router-native} command..." >&2; exit 2 ;;
esac

set +e
"$@"
rc=$?
exit $rc
