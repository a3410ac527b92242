#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The syscall fault's route table against the code, on this kernel.

    tests/route_table.py [--column NAME]

The table is kept twice, the same, in docs/faultline.yaml.5 (between the
'.\\" route-table begin' and 'end' comment lines) and docs/design.md
(between '<!-- route-table begin -->' and 'end -->'): one column per
kernel; its first rows are BPF features as `faultline --json doctor`
reports them (yes/no), the others say which route `faultline plan` takes
for a call (CALL, CALL+path, CALL+peer, CALL@command: with a path or peer
filter, for a command target; a pid target otherwise).

The column is the one named, or the one whose feature rows match what
doctor reports here (a skip, naming the features, when none does).  Prints
ok / not ok / skip lines for tests/run.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.environ.get("OUTPUT", SRC + "/")
FAULTLINE = os.environ.get("FAULTLINE", os.path.join(OUTPUT, "faultline"))

# The plan's route names (bpf/syscall_describe.c) and the table's words.
ROUTES = {
    "fmod_ret on the syscall entry": "fmod_ret",
    "kprobe with bpf_override_return": "kprobe",
    "BPF LSM": "lsm",
    "fmod_ret on security_* hooks": "fmod_security",
    "cgroup sock_addr hooks with bpf_set_retval": "cgroup",
    "seccomp user notification": "seccomp",
}


def table(path, begin, end):
    rows, on = [], False
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if begin in line:
            on = True
            continue
        if end in line:
            break
        if on and line and not line.startswith((".", "```")):
            rows.append(line.split())
    return rows


def plan_routes(yaml):
    """{call: route word} from faultline --json plan."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(yaml)
    try:
        out = subprocess.run([FAULTLINE, "--json", "plan", f.name],
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    try:
        mech = json.loads(out)["faults"][0]["mechanism"]
    except (ValueError, KeyError, IndexError):
        return None
    got = {}
    for part in mech.split("; "):
        m = re.match(r"(.*) \(([^()]*)\)$", part)
        if m:
            for call in m.group(2).split():
                got[call] = ROUTES.get(m.group(1), m.group(1))
    return got


def main():
    column = None
    if len(sys.argv) == 3 and sys.argv[1] == "--column":
        column = sys.argv[2]
    man = table(os.path.join(SRC, "docs/faultline.yaml.5"),
                'route-table begin', 'route-table end')
    md = table(os.path.join(SRC, "docs/design.md"),
               "<!-- route-table begin", "<!-- route-table end")
    if not man or man != md:
        print("not ok - route-table: faultline.yaml(5) and design.md hold "
              "the same table")
        return 0
    print("ok - route-table: faultline.yaml(5) and design.md hold the same "
          "table (%d rows)" % (len(man) - 1))
    head, rows = man[0][1:], man[1:]
    # Feature rows say yes or no; route rows name routes.
    feats = [r for r in rows if set(r[1:]) <= {"yes", "no"}]
    calls = [r for r in rows if r not in feats]

    doctor = json.loads(subprocess.run([FAULTLINE, "--json", "doctor"],
                                       capture_output=True,
                                       text=True).stdout)
    have = {r[0]: "yes" if doctor["bpf"].get(r[0], {}).get("available")
            else "no" for r in feats}
    if column is None:
        for i, name in enumerate(head):
            if all(r[1 + i] == have[r[0]] for r in feats):
                column = name
                break
        if column is None:
            print("skip - route-table: the routes here # this kernel's BPF "
                  "features (%s) match no column of the table" %
                  ", ".join("%s %s" % kv for kv in have.items()))
            return 0
    if column not in head:
        print("not ok - route-table: the table has a column %s" % column)
        return 0
    col = 1 + head.index(column)
    for r in feats:
        name = "route-table: %s: %s is %s (doctor)" % (column, r[0], r[col])
        print(("ok - " if have[r[0]] == r[col] else "not ok - ") + name +
              ("" if have[r[0]] == r[col] else " # doctor: " + have[r[0]]))

    # One plan per kind of row: the calls of a pid target without filter,
    # with a path, with a peer; those of a command target.
    groups = {}
    for r in calls:
        m = re.match(r"([a-z0-9_]+)(\+path|\+peer)?(@command)?$", r[0])
        if not m:
            print("not ok - route-table: row %s: CALL[+path|+peer][@command]"
                  % r[0])
            continue
        groups.setdefault((m.group(2) or "", m.group(3) or ""), []).append(
            (m.group(1), r[0], r[col]))
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        for (filt, kind), items in groups.items():
            target = ("{ command: [sleep, \"60\"] }" if kind
                      else "{ pid: %d }" % sleeper.pid)
            extra = {"+path": ", path: /tmp", "+peer": ", peer: { ports: [80] }",
                     "": ""}[filt]
            yaml = ("name: route-table\nduration: 10s\ntargets:\n"
                    "  app: %s\nfaults:\n  - name: f\n    syscall: { target: "
                    "app, calls: [%s], errno: EIO%s }\n" %
                    (target, ", ".join(c for c, _, _ in items), extra))
            got = plan_routes(yaml)
            for call, row, want in items:
                route = None if got is None else got.get(call, "none")
                name = "route-table: %s: %s takes %s (plan)" % (column, row,
                                                                want)
                if route == want:
                    print("ok - " + name)
                else:
                    print("not ok - %s # plan: %s" % (name, route))
    finally:
        sleeper.kill()
        sleeper.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
