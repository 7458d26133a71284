#!/usr/bin/env python3
"""Regenerates gtid_vectors.txt from a real MySQL server's answers.

    gtid_vectors.py MYSQL_CMD... > gtid_vectors.txt
    e.g. gtid_vectors.py chroot /rootfs mysql -h127.0.0.1 -P33999 -uroot

Every expected value in the output is what the server returned, never written by hand:
  normalize  GTID_SUBTRACT(a, '')            (or the server's error position for malformed a)
  subtract   GTID_SUBTRACT(a, b)
  subset     GTID_SUBSET(a, b)               -> 1 / 0
  union      GTID_SUBTRACT(CONCAT(a, ',', b), '')
  intersect  GTID_SUBTRACT(a, GTID_SUBTRACT(a, b))

Line format (tab separated, C-style escapes \\n \\t \\r \\v \\f \\\\ \\xHH):
  op <TAB> a <TAB> b <TAB> expected        expected "!ERR <pos>" = malformed, 1-based position
"""
import os
import random
import re
import subprocess
import sys

MYSQL = sys.argv[1:]
if not MYSQL:
    sys.exit(__doc__)

U1 = "3E11FA47-71CA-11E1-9E33-C80AA9429562"
U2 = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
U3 = "00000000-0000-0000-0000-0000000000ff"
U4 = "ffffffff-ffff-ffff-ffff-ffffffffffff"
MAX = 9223372036854775806


def lit(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(sql):
    p = subprocess.run(MYSQL + ["-N", "-B", "--raw", "-e", sql], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def unhex(h):
    return bytes.fromhex(h).decode()


def expr(op, a, b):
    a, b = lit(a), lit(b)
    if op == "normalize":
        return "GTID_SUBTRACT(%s, '')" % a
    if op == "subtract":
        return "GTID_SUBTRACT(%s, %s)" % (a, b)
    if op == "subset":
        return "GTID_SUBSET(%s, %s)" % (a, b)
    if op == "union":
        return "GTID_SUBTRACT(CONCAT(%s, ',', %s), '')" % (a, b)
    if op == "intersect":
        return "GTID_SUBTRACT(%s, GTID_SUBTRACT(%s, %s))" % (a, a, b)
    raise ValueError(op)


def select(op, a, b):
    # HEX() keeps the server's newlines intact through the client's batch output.
    return ("SELECT %s" if op == "subset" else "SELECT HEX(%s)") % expr(op, a, b)


def decode(op, line):
    return line.strip() if op == "subset" else unhex(line.strip())


def one(op, a, b=""):
    """One query on its own, so a malformed input's error can be read."""
    rc, out, err = run(select(op, a, b))
    if rc == 0:
        return decode(op, out)
    m = re.search(r"after (\d+) characters", err)
    if "Malformed GTID set" not in err:
        raise RuntimeError(err)
    return "!ERR %d" % (int(m.group(1)) + 1 if m else 1)


def batch(cases):
    """Many well-formed cases in one session: one output line per statement."""
    out = []
    for k in range(0, len(cases), 200):
        chunk = cases[k:k + 200]
        rc, so, se = run(";".join(select(*c) for c in chunk))
        if rc:
            raise RuntimeError(se)
        lines = so.split("\n")[:len(chunk)]
        out += [decode(c[0], x) for c, x in zip(chunk, lines)]
    return out


def esc(s):
    r = []
    for ch in s:
        o = ord(ch)
        if ch == "\\": r.append("\\\\")
        elif ch == "\n": r.append("\\n")
        elif ch == "\t": r.append("\\t")
        elif ch == "\r": r.append("\\r")
        elif ch == "\v": r.append("\\v")
        elif ch == "\f": r.append("\\f")
        elif o < 0x20 or o == 0x7f: r.append("\\x%02x" % o)
        else: r.append(ch)
    return "".join(r)


# Single sets: grammar, canonical output, errors (with the server's error position).
NORMALIZE = [
    "", " ", ",", " , ", "\n",
    U1 + ":1-5", U1 + ":21-57", U1.lower() + ":1-5",
    U2 + ":1-10," + U1 + ":1-5:7-9:3",
    U1 + ":1-5:6", U1 + ":5:1-3:4", U1 + ":1-5:2-3:4-9:20-30:10-19",
    U1 + ":5," + U1 + ":1-3", U1 + ":1," + U1 + ":1",
    U1 + ":5-3", U1 + ":3-3", U1 + ":5-0", U1,
    U1 + ":007", U1 + ":00000000000000000000000000001",
    U1 + ":%d" % MAX, U1 + ":1-%d" % MAX, U1 + ":%d-%d" % (MAX, MAX),
    U1 + ":%d" % (MAX + 1), U1 + ":1-%d" % (MAX + 1), U1 + ":%d-1" % (MAX + 1),
    U1 + ":9223372036854775808", U1 + ":18446744073709551615", U1 + ":18446744073709551616",
    U1 + ":5-18446744073709551616", U1 + ":12345678901234567890123",
    U1 + ":0", U1 + ":0-5", U1 + ":0-0",
    U1 + ":+5", U1 + ":-5", U1 + ":1-5-7", U1 + ":1 2", U1 + ":1;", U1 + ":1:", U1 + "::1",
    U1 + ":1-", U1 + ":1-x", U1 + ":", U1 + ":1,", U1 + ":1,," + U2 + ":1", " , " + U1 + ":1",
    U1 + ":1\n" + U2 + ":3",
    "\n" + U1 + ":1\n,\n" + U1 + ":3\n", U1 + ":1,\t" + U1 + ":3",
    " " + U1 + " : 1 - 5 , " + U2 + " : 3 ", U1 + ":\r1\v-\f5", U1 + "\n:1", U1 + " :1",
    U1 + ":1 ,\n,\n" + U3 + ":1",
    "3e11fa4771ca11e19e33c80aa9429562:1", "3E11FA4771CA11E19E33C80AA9429562:1",
    "{" + U1 + "}:1", "{" + U1 + ":1", U1 + "}:1", "{3E11FA4771CA11E19E33C80AA9429562}:1",
    "3E11FA47-71CA-11E1-9E33-C80AA942956:1", "3E11FA47-71CA-11E1-9E33-C80AA94295621:1",
    "3E11FA47-71CA11E1-9E33-C80AA9429562:1", "3E11FA47-71CA-11E1-9E33C80AA9429562:1",
    "3E11FA47-:1", "3E11FA4771CA11E19E33C80AA942956:1", "3E11FA4771CA11E19E33C80AA942956G:1",
    "x", "zz", "3", "3e11", "3e:1", "+" + U1 + ":1", "g" + U1[1:] + ":1",
    # tags
    U1 + ":TAG:1", U1 + ":tag:1", U1 + ":_t:1", U1 + ":Ab_Cd:1", U1 + ":tag",
    U1 + ":1tag:1", U1 + ":ta-g:1", U1 + ":a\tb:1", U1 + ":a:b:1", U1 + ":1:tag:",
    U1 + ":tag:1:tag", U1 + ":1-2:tag", U1 + ":1-2:",
    U1 + ":abcdefghijklmnopqrstuvwxyz012345:1", U1 + ":abcdefghijklmnopqrstuvwxyz0123456:1",
    U1 + ":1-10:tag_b:3:tag_a:5," + U1 + ":Tag_A:7",
    U1 + ":b:1:_a:1:a9:1:a_:1:a:1:A:2:1",
    U1 + ":tag," + U3 + ":1",
    U1 + ":tag:1," + U3 + ":tag:1," + U3 + ":2," + U1 + ":x:3",
    U1 + ":1-3:tag:2:4-5:6," + U1 + ":tag:3-5",
    U1 + ":1-5," + U1 + ":tag:1," + U1 + ":2-8",
    U1 + " : tag : 1", U1 + ":tag :1", U1 + ":tag:%d" % MAX, U1 + ":tag:0",
    U4 + ":1," + U3 + ":1," + U2 + ":1," + U1 + ":1",
]

# Pairs from the MySQL manual (GTID_SUBTRACT / GTID_SUBSET examples) and hand-picked corners.
PAIRS = [
    (U1 + ":21-57", U1 + ":21"),
    (U1 + ":21-57", U1 + ":20-25"),
    (U1 + ":21-57", U1 + ":23-24"),
    (U1 + ":23-25", U1 + ":21-57"),
    (U1 + ":23-25", U1 + ":23-25"),
    (U1 + ":20-25", U1 + ":23-24"),
    (U1 + ":1-5:7-9," + U2 + ":1-3", U1 + ":5-7"),
    (U1 + ":1-10", U2 + ":1-10"),
    ("", U1 + ":1"), (U1 + ":1", ""), ("", ""),
    (U1 + ":1-%d" % MAX, U1 + ":2-%d" % (MAX - 1)),
    (U1 + ":1-%d" % MAX, U1 + ":1-%d" % MAX),
    (U1 + ":%d" % MAX, U1 + ":1-%d" % (MAX - 1)),
    (U1 + ":1-10:tag:1-10", U1 + ":tag:3-4"),
    (U1 + ":1-10:tag:1-10", U1 + ":3-4"),
    (U1 + ":tag:1-10", U1.lower() + ":TAG:1-10"),
    (U1 + ":1-100", U1 + ":2:4:6:8:10-90:99"),
    ("3e11fa4771ca11e19e33c80aa9429562:1-9", U1 + ":5"),
]


def random_set(rng):
    uuids = [U1, U1.lower(), U2, U3, "3E11FA4771CA11E19E33C80AA9429562", U4]
    parts = []
    for _ in range(rng.randint(0, 4)):
        s = rng.choice(uuids)
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.3:
                s += ":" + rng.choice(["tag", "TAG", "a", "_x9", "b"])
            for _ in range(rng.randint(1, 4)):
                lo = rng.randint(1, 60)
                if rng.random() < 0.05:
                    lo = MAX - rng.randint(0, 10)
                hi = lo + rng.randint(-2, 15)
                hi = max(0, min(hi, MAX))
                sep = rng.choice(["", "", " ", "\n"])
                s += ":" + str(lo) + ("-%s%d" % (sep, hi) if rng.random() < 0.7 else "")
        parts.append(s)
    return rng.choice([",", ",\n", ", "]).join(parts)


def mutant(rng):
    """A valid set with one character inserted, deleted or replaced: mostly malformed, and
    the server's error position for it is what we must report."""
    s = random_set(rng) or U1 + ":1-5"
    i = rng.randrange(len(s) + 1)
    c = rng.choice("0123456789abcdefgxyzABZ_-:,{} \n+;")
    k = rng.randrange(3)
    if k == 0:
        return s[:i] + c + s[i:]
    if k == 1:
        return s[:i] + s[i + 1:]
    return s[:i] + c + s[i + 1:]


def main():
    # GTID_VECTORS_SEED / GTID_VECTORS_PAIRS: one-off bigger comparisons (test_gtid FILE)
    rng = random.Random(int(os.environ.get("GTID_VECTORS_SEED", "2")))
    pairs = int(os.environ.get("GTID_VECTORS_PAIRS", "300"))
    print("# GTID vectors: every expected value is a MySQL server's answer.")
    print("# Regenerate with tests/unit/gtid_vectors.py (see its header); server: %s"
          % run("SELECT VERSION()")[1].strip())
    mrng = random.Random(int(os.environ.get("GTID_VECTORS_SEED", "2")) + 1000)
    mutants = int(os.environ.get("GTID_VECTORS_MUTANTS", "200"))
    for a in NORMALIZE + [mutant(mrng) for _ in range(mutants)]:
        print("normalize\t%s\t\t%s" % (esc(a), esc(one("normalize", a))))
    ops = ["subtract", "subset", "union", "intersect"]
    cases = [(op, a, b) for a, b in PAIRS for op in ops]
    randoms = [(random_set(rng), random_set(rng)) for _ in range(pairs)]
    cases += [(op, a, b) for a, b in randoms for op in ops]
    cases += [("normalize", a, "") for a, _ in randoms]
    for (op, a, b), want in zip(cases, batch(cases)):
        print("%s\t%s\t%s\t%s" % (op, esc(a), esc(b), esc(want)))


main()
