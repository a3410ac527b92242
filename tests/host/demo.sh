#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo (tools/demo): the sandbox drill runs green on this machine,
# its reports show what was applied and what was skipped (and why), each
# fault's outcome the one the machine's facts (faultline doctor) predict,
# and nothing is left behind: no namespace, no cgroup, no qdisc, no journal.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "demo" "needs root"; exit 0; }
for t in python3 nsenter; do
	command -v $t >/dev/null || { skip "demo" "needs $t"; exit 0; }
done
[ -x "$FAULTLINE" ] || { notok "demo: $FAULTLINE is built"; exit 1; }

# The faults that are not optional need these; the optional ones are
# applied exactly where the facts say they can be.
if ! have_bpf cgroup_sock_addr; then
	skip "demo" "missing BPF cgroup sock_addr programs (refuse-connects): $(fact bpf.cgroup_sock_addr.why)"; exit 0
fi
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "demo" "missing clsact or BPF sched_cls (cut-off-b)"; exit 0
fi
if [ "$(memory_mode)" = none ]; then
	skip "demo" "no memory controller mounted (oom-hog)"; exit 0
fi
# slow-link-to-c: netem with a match, under prio or htb.
netem=no
if have_qdisc netem && { have_qdisc prio || have_qdisc htb; }; then netem=yes; fi
# failing-disk: write with a path filter, which route 2 (the LSM hook
# file_permission) takes, and route 4 (seccomp user notification, for a
# command target like the writer: the path of the descriptor) too; route
# 1 (the syscall entry) has no path.
disk=no
if have_bpf lsm || have_bpf fmod_ret:security ||
	[ "$(fact seccomp.user_notif.available)" = true ]; then disk=yes; fi
nskip=0
[ $netem = yes ] || nskip=$((nskip + 1))
[ $disk = yes ] || nskip=$((nskip + 1))
echo "# facts: netem faults $netem, file-write faults $disk"

qdiscs() { tc qdisc show 2>/dev/null; }
qd0=$(qdiscs)
# The writers' "disk": what was in it before (another run may have left
# something), so that only this demo's folders are judged.
wfolder() { [ -d /run/faultline-demo ] && ls -A /run/faultline-demo || echo "(none)"; }
wf0=$(wfolder)

start=$(date +%s)
OUTPUT=$OUTPUT "$SRC/tools/demo" --keep "$T/out" >"$T/demo.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
log=$(cat "$T/demo.log")
check_eq "demo: tools/demo exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   | /' "$T/demo.log" | tail -30
check "demo: it took under 2 minutes (${took}s)" test "$took" -lt 120

for h in a b; do
	fixture "host $h's report exists" test -s "$T/out/report-$h.json"
	check "demo: host $h's timeline is well-formed SVG" \
		xmllint --noout "$T/out/report-$h.svg"
	check_match "demo: it prints where host $h's report and timeline are" \
		"timeline $T/out/report-$h.svg" \
		"$(grep -A1 "host $h: faultline run exited [0-9]*; report $T/out/report-$h.json" "$T/demo.log")"
done
check_match "demo: it prints where the reports are" \
	"reports and logs: $T/out" "$log"
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
# Every host runs the same file: the same expectations for a and b.
for h in a b; do
	st=$(states "$T/out/report-$h.json")
	check_match "demo: $h passes, with the partition, the connect fault and the oom squeeze applied" \
		'^pass .*refuse-connects=reverted .*cut-off-b=reverted oom-hog=reverted' "$st"
	check_match "demo: $h's oom kill is proven" '^oom proven True$' "$st"
	if [ $netem = no ]; then
		check_match "demo: netem is skipped on $h, and says why" \
			'^why slow-link-to-c .*(sch_netem is not available|prio|htb)' "$st"
		check_match "demo: $h's run shows the skip" \
			"$h\\| \\[[^]]*\\] fault slow-link-to-c: skipped \\(optional\\)" "$log"
	else
		check_match "demo: netem is applied on $h" 'slow-link-to-c=reverted' "$st"
	fi
	if [ $disk = no ]; then
		check_match "demo: the file-write fault is skipped on $h (no route for write), and says why" \
			'^why failing-disk .+' "$st"
	else
		check_match "demo: the file-write fault is applied on $h" 'failing-disk=reverted' "$st"
	fi
	res=$(sed -En "/host $h: faultline run exited/,/^  (host|reports)/p" "$T/demo.log")
	if [ $nskip = 0 ]; then
		check_match "demo: the result counts what ran on $h (5 of 5)" \
			'^    5 of 5 faults ran$' "$res"
		check "demo: the result shows no skip on $h" \
			bash -c '! grep -q "^      why: " <<<"$1"' _ "$res"
	else
		check_match "demo: the result counts what ran and what was skipped on $h" \
			"^    $((5 - nskip)) of 5 faults ran, $nskip skipped\$" "$res"
		check_match "demo: the result shows $h's skips with their reasons" \
			"^      why: " "$res"
	fi
done
check_match "demo: a's client saw the refused connects" \
	"a: client [0-9]+ ok .*Connection refused" "$log"
check_match "demo: b's client saw the refused connects" \
	"b: client [0-9]+ ok .*Connection refused" "$log"
check_match "demo: b's client saw the partition" \
	"b: client [0-9]+ ok .*timed out" "$log"

pfx=$(sed -n 's/.*sandbox: namespaces \(fl-demo-[0-9]*\)-.*/\1/p' "$T/demo.log")
fixture "the demo names its namespaces ($pfx)" test -n "$pfx"
check_eq "demo: none of its namespaces is left" "" \
	"$(ip netns list | awk '{print $1}' | grep "^$pfx-")"
check_eq "demo: none of its workloads is left (echo service)" "" \
	"$(pgrep -f "$T/out/tmp/echo-up" || true)"
check_eq "demo: the machine's qdiscs are as they were" "$qd0" "$(qdiscs)"
# Each writer names its folder in one line; a line two targets mixed
# would hide a folder from the demo's cleanup.
wdirs=$(sed -n 's|^writer dir \(/run/faultline-demo/writer-[A-Za-z0-9_]*\)$|\1|p' \
	"$T"/out/targets-*.log)
check_eq "demo: both writers name their folder on a line of its own" 2 \
	"$(echo "$wdirs" | grep -c .)"
check_eq "demo: the writers' folders are removed" "" \
	"$(for d in $wdirs; do [ -e "$d" ] && echo "$d"; done)"
check_eq "demo: /run/faultline-demo is as it was" "$wf0" "$(wfolder)"
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
fixture "the runs have ids ($(echo $runs))" test -n "$runs"
check_eq "demo: no cgroup or journal of its runs is left" "" "$left"

# Hosts a and b are two namespaces of one machine: one hostname.  Their
# merged report keeps them apart (by run id), and -o never writes over a
# report merged.
out=$("$FAULTLINE" report merge -o "$T/merged.json" "$T"/out/report-{a,b}.json 2>&1)
check_eq "demo: report merge of a's and b's reports exits 0" 0 "$?"
check_eq "demo: the merge has two hosts, a's and b's runs" \
	"$(jq -r '"\(.host)/\(.run)"' "$T"/out/report-{a,b}.json | sort | tr '\n' ' ')" \
	"$(jq -r '.hosts[].host' "$T/merged.json" 2>&1 | sort -u | tr '\n' ' ')"
check_status "demo: report merge -o of one of its inputs is refused" 2 \
	"$FAULTLINE" report merge -o "$T/out/report-a.json" "$T"/out/report-{a,b}.json
