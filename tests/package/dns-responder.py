#!/usr/bin/env python3
"""dns-responder.py ADDR NAME=IPV4... — a name server for one test, on a loopback address.

tests/package/static points the empty root's /etc/resolv.conf here to prove that the static
flashrun resolves a name only DNS knows. Answers A queries for the given names, an empty
NOERROR for their other types (AAAA: glibc asks both), NXDOMAIN for anything else. Prints one
line per query ("query NAME TYPE") so the test can see it was asked. UDP only: the answers fit.
"""
import socket
import struct
import sys


def parse_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n


def main():
    addr = sys.argv[1]
    names = dict(a.split("=", 1) for a in sys.argv[2:])
    names = {k.lower().rstrip("."): v for k, v in names.items()}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("listening", addr, flush=True)
    while True:
        msg, peer = s.recvfrom(512)
        if len(msg) < 12:
            continue
        qid, flags, qd = struct.unpack("!HHH", msg[:6])
        if qd != 1:
            continue
        name, off = parse_name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        question = msg[12:off + 4]
        print("query", name, qtype, flush=True)
        rd = flags & 0x0100
        answers = b""
        if name in names:
            rcode, ancount = 0, 0
            if qtype == 1:
                ancount = 1
                # a pointer to the question's name (offset 12), A, IN, TTL 60, 4 bytes
                answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(names[name])
        else:
            rcode, ancount = 3, 0
        header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode, 1, ancount, 0, 0)
        s.sendto(header + question + answers, peer)


if __name__ == "__main__":
    main()
