#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo (tools/demo): the sandbox drill runs green on this machine,
# its reports show what was applied and what was skipped (and why), and
# nothing is left behind: no namespace, no cgroup, no qdisc, no journal.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "demo" "needs root"; exit 0; }
for t in python3 nsenter; do
	command -v $t >/dev/null || { skip "demo" "needs $t"; exit 0; }
done
[ -x "$FAULTLINE" ] || { notok "demo: $FAULTLINE is built"; exit 1; }

qdiscs() { tc qdisc show 2>/dev/null; }
qd0=$(qdiscs)

start=$(date +%s)
OUTPUT=$OUTPUT "$SRC/tools/demo" --keep "$T/out" >"$T/demo.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
check_eq "demo: tools/demo exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   | /' "$T/demo.log" | tail -30
check "demo: it took under 2 minutes (${took}s)" test "$took" -lt 120

check "demo: host a's report exists" test -s "$T/out/report-a.json"
check "demo: host b's report exists" test -s "$T/out/report-b.json"
check "demo: host a's timeline is well-formed SVG" \
	xmllint --noout "$T/out/report-a.svg"
check_match "demo: it prints where the timeline is" \
	"timeline $T/out/report-a.svg" "$(cat "$T/demo.log")"
check_match "demo: it prints where the reports are" \
	"reports and logs: $T/out" "$(cat "$T/demo.log")"
# The result: per host, each fault's state, and a skip's reason.
check_match "demo: the result shows host a's oom kill" \
	"^    oom-hog +reverted applied .*OOM-killed pid [0-9]+ \(proven\)" \
	"$(sed -n '/host a: faultline run exited/,/host b: faultline run/p' "$T/demo.log")"
check_match "demo: the result shows host b's partition" \
	"^    cut-off-b +reverted applied " \
	"$(sed -n '/host b: faultline run exited/,$p' "$T/demo.log")"
states() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["verdict"], " ".join("%s=%s" % (f["name"], f["state"]) for f in r["faults"]))
for f in r["faults"]:
    if f["state"] == "skipped":
        print("why", f["name"], f["detail"])
o = [f for f in r["faults"] if f["name"] == "oom-hog"]
if o:
    print("oom proven", (o[0].get("observed") or {}).get("proven"))' "$1" 2>&1
}
a=$(states "$T/out/report-a.json")
b=$(states "$T/out/report-b.json")
check_match "demo: a passes, with the partition, the connect fault and the oom squeeze applied" \
	'^pass .*refuse-connects=reverted .*cut-off-b=reverted oom-hog=reverted' "$a"
check_match "demo: the oom kill is proven" '^oom proven True$' "$a"
check_match "demo: b passes with its partition" '^pass cut-off-b=reverted$' "$b"
if ! grep -qws sch_netem /proc/modules && ! modinfo sch_netem >/dev/null 2>&1; then
	check_match "demo: netem is skipped here, and says why" \
		'^why slow-link-to-c .*sch_netem is not available' "$a"
	check_match "demo: the run shows the skip" \
		'fault slow-link-to-c: skipped \(optional\)' "$(cat "$T/demo.log")"
else
	check_match "demo: netem is applied" 'slow-link-to-c=reverted' "$a"
fi
check_match "demo: the file-write fault is applied or skipped with a reason" \
	'failing-disk=reverted|^why failing-disk .+' "$a"
check_match "demo: the client saw the refused connects" \
	"a: client [0-9]+ ok .*Connection refused" "$(cat "$T/demo.log")"
check_match "demo: b's client saw the partition" \
	"b: client [0-9]+ ok .*timed out" "$(cat "$T/demo.log")"

pfx=$(sed -n 's/.*sandbox: namespaces \(fl-demo-[0-9]*\)-.*/\1/p' "$T/demo.log")
check "demo: it names its namespaces ($pfx)" test -n "$pfx"
check_eq "demo: none of its namespaces is left" "" \
	"$(ip netns list | awk '{print $1}' | grep "^$pfx-")"
check_eq "demo: none of its workloads is left (echo service, b's client)" "" \
	"$(pgrep -f "$T/out/tmp/(echo-up|client-b)" || true)"
check_eq "demo: the machine's qdiscs are as they were" "$qd0" "$(qdiscs)"
check "demo: the writer's folder is removed" test ! -e /run/faultline-demo
runs=$(python3 -c '
import json, sys
for f in sys.argv[1:]:
    print(json.load(open(f)).get("run", ""))' "$T"/out/report-*.json)
left=""
for id in $runs; do
	for d in /sys/fs/cgroup/*/faultline-"$id"-* /sys/fs/cgroup/faultline-"$id"-* \
		 "${FAULTLINE_RUNDIR:-/run/faultline}/$id"; do
		[ -e "$d" ] && left+="$d "
	done
done
check_eq "demo: no cgroup or journal of its runs is left" "" "$left"
check "demo: the runs had ids ($(echo $runs))" test -n "$runs"
