#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# make demo under the stock kernel: tools/demo, the same script and file
# as on a host, runs green and runs every fault of examples/demo.yaml
# (none skipped): netem delays and drops packets, the partition drops b's
# traffic, the hog is OOM-killed and the kill proven, the connect and
# write faults inject through the BPF LSM.  The probes ran and passed; the
# sandbox is gone afterwards (namespaces, links, cgroups, journals, the
# writer's folder); the report paths it prints exist.
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/demo" "run it under tools/vmtest"; exit 0; }
for t in python3 nsenter ip; do
	command -v $t >/dev/null || { notok "vm/demo: needs $t"; exit 0; }
done
[ -x "$FAULTLINE" ] || { notok "vm/demo: $FAULTLINE is built (make)"; exit 0; }

# The guest has no systemd, which enables the memory controller for the
# root's children on a stock Debian machine: do what it does.
cg=/sys/fs/cgroup
grep -qw memory $cg/cgroup.controllers ||
	{ notok "vm/demo: no v2 memory controller"; exit 0; }
if ! grep -qw memory $cg/cgroup.subtree_control; then
	out=$("$FAULTLINE" plan "$SRC/examples/demo.yaml" 2>&1)
	check_match "vm/demo: without it, plan says why the oom fault cannot run" \
		'apply +oom-hog .*cgroup.subtree_control lacks memory' "$(tr '\n' ' ' <<<"$out")"
	echo +memory >$cg/cgroup.subtree_control
fi

start=$(date +%s)
"$SRC/tools/demo" --keep "$T/out" >"$T/demo.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
log=$(cat "$T/demo.log")
check_eq "vm/demo: tools/demo exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   | /' "$T/demo.log" | tail -60
check "vm/demo: it took under 2 minutes under TCG (${took}s)" \
	test "$took" -lt 120

# The hosts that ran faultline: the reports tools/demo says it wrote.
hosts=$(sed -n 's|^  host \([a-z]\): faultline run exited .*; report .*|\1|p' \
	"$T/demo.log")
check "vm/demo: it names the hosts' reports ($(echo $hosts))" \
	test -n "$hosts"
for h in $hosts; do
	check_match "vm/demo: it prints where host $h's report is" \
		"host $h: faultline run exited 0; report $T/out/report-$h.json$" \
		"$log"
	check "vm/demo: host $h's report exists" test -s "$T/out/report-$h.json"
	check_match "vm/demo: it prints where host $h's timeline is" \
		"timeline $T/out/report-$h.svg " "$log"
	check "vm/demo: host $h's timeline is well-formed SVG" \
		xmllint --noout "$T/out/report-$h.svg"
	check_match "vm/demo: its result says every fault ran on host $h" \
		'^    ([0-9]+) of \1 faults ran$' \
		"$(sed -En "/host $h: faultline run exited/,/^  (host|reports)/p" "$T/demo.log")"
done
check_match "vm/demo: it prints where the reports are" \
	"reports and logs: $T/out \(the sandbox is removed\)" "$log"

# facts REPORT RUNLOG: one line per fact, "name: value".
facts() {
	python3 - "$1" "$2" <<'PY' 2>&1
import json, re, sys
r = json.load(open(sys.argv[1]))
pids = {}
for l in open(sys.argv[2], errors="replace"):
    m = re.search(r"target (\S+): started \S+ \(pid (\d+)\)", l)
    if m:
        pids[m.group(1)] = int(m.group(2))
print("verdict:", r["verdict"])
for f in r["faults"]:
    n, o = f["name"], f.get("observed") or {}
    print("state %s: %s %s" % (n, f["state"],
          "" if f["state"] == "reverted" else (f.get("detail") or "")))
    print("applied %s: %s" % (n, f.get("applied_t") is not None and
                              f.get("reverted_t") is not None))
    e = f["engine"]
    if e == "netem":
        eg = o.get("egress") or {}
        print("netem %s: qdisc %s, %d packets, %d dropped" % (
            n, eg.get("qdisc"), eg.get("sent_packets", 0),
            eg.get("dropped", 0)))
    elif e == "partition":
        d = o.get("dropped") or {}
        print("partition %s: group %s, peers %s, dropped %d" % (
            n, o.get("group"), " ".join(o.get("peers") or []),
            d.get("egress", 0) + d.get("ingress", 0)))
    elif e == "oom":
        v = o.get("victim") or {}
        print("oom %s: proven %s, victim %s, target pid %s, met %s" % (
            n, o.get("proven"), v.get("pid"), pids.get("hog"),
            (o.get("expectation") or {}).get("met")))
    elif e == "syscall":
        print("syscall %s: %s, %d injections" % (
            n, f.get("mechanism"), o.get("injections") or 0))
for p in r.get("probes") or []:
    print("probe %s: %d runs, %d passed" % (p["name"], p["runs"],
                                            p["passed"]))
PY
}

for h in $hosts; do
	f=$(facts "$T/out/report-$h.json" "$T/out/run-$h.log")
	check_match "vm/demo: host $h passes" '^verdict: pass$' "$f"
	check_eq "vm/demo: host $h: every fault was applied and reverted, none skipped or failed" \
		"" "$(printf '%s\n' "$f" | grep '^state ' | grep -v ': reverted *$')"
	check_eq "vm/demo: host $h: every fault has its apply and revert times" \
		"" "$(printf '%s\n' "$f" | grep '^applied ' | grep -v ': True$')"
	if grep -q '^netem ' <<<"$f"; then
		# 3% loss over the ~70 packets of the demo drops none one
		# time in nine: the packets through netem are what is certain.
		check_match "vm/demo: host $h: netem shaped packets (and counted its drops)" \
			'^netem [^:]*: qdisc netem, [1-9][0-9]* packets, [0-9]+ dropped$' "$f"
	fi
	if grep -q '^oom ' <<<"$f"; then
		check_match "vm/demo: host $h: the hog's OOM kill is proven, with the hog as the victim" \
			'^oom [^:]*: proven True, victim ([0-9]+), target pid \1, met True$' "$f"
	fi
	if grep -q '^syscall ' <<<"$f"; then
		# The LSM route: BPF LSM programs, or fmod_ret on the security_*
		# functions behind the hooks (for calls filtered by path).
		check_eq "vm/demo: host $h: every syscall fault injected through the LSM route" \
			"" "$(grep '^syscall ' <<<"$f" |
			      grep -Ev ': (BPF LSM|fmod_ret on security_\* hooks) \([a-z, ]+\), [1-9][0-9]* injections$')"
	fi
	check_match "vm/demo: host $h: the partition was active" \
		'^partition [^:]*: group [0-9]+, peers [0-9.]+' "$f"
	# Only b sends to its peers: its own drops show the cut.
	if [ "$h" = b ]; then
		check_match "vm/demo: host b: the partition dropped its traffic" \
			'^partition [^:]*: .*dropped [1-9][0-9]*$' "$f"
	fi
	if grep -q '^probe ' <<<"$f"; then
		check_eq "vm/demo: host $h: the probes ran and all passed" "" \
			"$(grep '^probe ' <<<"$f" |
			   grep -Ev ': ([1-9][0-9]*) runs, \1 passed$')"
	fi
done
fa=$(facts "$T/out/report-a.json" "$T/out/run-a.log")
check_match "vm/demo: host a ran every kind of fault" \
	'^netem ' "$fa"
for k in partition oom syscall probe; do
	grep -q "^$k " <<<"$fa" || notok "vm/demo: host a ran a $k"
done
check_match "vm/demo: a's client saw the refused connects and the delay" \
	"a: client [0-9]+ ok \(p50 ([1-9][0-9]{2,}|[89][0-9])\.[0-9] ms.*Connection refused" \
	"$log"
check_match "vm/demo: a's writer saw the failing disk" \
	"writer [0-9]+ ok, errors .*Input/output error': [0-9]+}$" "$log"
check_match "vm/demo: b's client saw the partition" \
	"b: client [0-9]+ ok .*timed out" "$log"

# Nothing is left behind.
pfx=$(sed -n 's/.*sandbox: namespaces \(fl-demo-[0-9]*\)-.*/\1/p' "$T/demo.log")
check "vm/demo: it names its namespaces ($pfx)" test -n "$pfx"
check_eq "vm/demo: none of its namespaces is left" "" \
	"$(ip netns list | awk '{print $1}' | grep "^fl-demo-")"
check_eq "vm/demo: no link of it is in the machine's namespace" "" \
	"$(ip -o link show | grep -E ': (p[abc]|eth0|br0|ifb)[@:]')"
check_eq "vm/demo: none of its workloads is left" "" \
	"$(pgrep -f "$T/out/tmp/|import mmap|create_connection" || true)"
runs=$(python3 -c '
import json, sys
for f in sys.argv[1:]:
    print(json.load(open(f)).get("run", ""))' "$T"/out/report-*.json)
check "vm/demo: the runs had ids ($(echo $runs))" test -n "$runs"
left=""
for id in $runs; do
	for d in $cg/faultline-"$id"-* /run/faultline/"$id"; do
		[ -e "$d" ] && left+="$d "
	done
done
check_eq "vm/demo: no cgroup or journal of its runs is left" "" "$left"
check "vm/demo: the writer's folder is removed" test ! -e /run/faultline-demo
check_eq "vm/demo: no BPF program is left attached" "" \
	"$(bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
print(" ".join(p.get("name", "") for p in json.load(sys.stdin)
               if p.get("type") in ("lsm", "tracing", "sched_cls")))' 2>/dev/null)"
