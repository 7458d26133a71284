#!/bin/sh
# tls-certs.sh DIR ADDR — the certificates the TLS driver test uses, made with openssl into DIR:
#   ca.pem / ca-key.pem          the CA that signs the server's and the client's certificates
#   other-ca.pem                 a CA that signs nothing here (verify_ca must refuse the server)
#   server.pem / server-key.pem  the server, subjectAltName IP:ADDR and DNS:fr-test-node
#   wrongname.pem / -key.pem     signed by ca.pem but naming DNS:elsewhere.invalid only
#   client.pem / client-key.pem  a client certificate for the REQUIRE X509 account
set -eu
D=$1; A=$2
mkdir -p "$D"; cd "$D"
ca() { # NAME SUBJECT
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.pem" 2>/dev/null
}
leaf() { # NAME SUBJECT SAN
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
ca ca "flashrun test CA"
ca other-ca "flashrun other CA"
leaf server fr-test-node "IP:$A,DNS:fr-test-node"
leaf wrongname elsewhere "DNS:elsewhere.invalid"
leaf client fr-x509 "DNS:fr-x509"
chmod 600 ./*-key.pem
chmod 644 ./*.pem
chmod 755 .
