#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A partition flapping three times, for real (issue 14): two network
# namespaces joined by a veth pair (10.79.0.1 and 10.79.0.2, inside the
# namespaces only), a drill in a's namespace cutting a from b three times
# (repeat: every 1500ms for 700ms, jitter 300ms, a fixed seed), and the
# drill's own probe, a UDP echo to b every 150ms (its timeout; a probe's
# start takes tens of ms under ASan), answered by udpprobe in b.  The probe must fail in three windows, each inside one occurrence's
# window of the report, pass between them; the report has the three
# occurrences and the SVG a bar for each with the failing ticks in them;
# the device has no filter afterwards.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "partition-flap" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "partition-flap: $FAULTLINE is built"; exit 1; }
UDPPROBE=${OUTPUT:-$SRC/}tests/helpers/udpprobe
[ -x "$UDPPROBE" ] || { skip "partition-flap" "no $UDPPROBE (make tests)"; exit 0; }
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "partition-flap" "no clsact qdisc or cls_bpf programs (doctor: $(fact bpf.sched_cls.why))"; exit 0
fi
export FAULTLINE_RUNDIR=$T/run

a=fl-$$-fa b=fl-$$-fb
netns_pair $a $b 10.79.0.1/24 10.79.0.2/24 ||
	{ notok "partition-flap: make the namespaces"; exit 1; }
ip netns exec $b "$UDPPROBE" echo -p 7979 -t 30 >/dev/null 2>&1 &
echo_pid=$!; at_exit "kill $echo_pid"

cat >"$T/flap.yaml" <<Y
name: flap
duration: 5s
seed: 11
faults:
  - name: flap
    at: 500ms
    repeat: { every: 1500ms, for: 700ms, times: 3, jitter: 300ms }
    partition:
      groups: [[10.79.0.1], [10.79.0.2]]
probes:
  - name: echo
    exec: [sh, -c, "$UDPPROBE send -e -c 1 -w 80 10.79.0.2 7979 | grep -qw received=1"]
    every: 150ms
Y

# The echo answers before the drill (else the probe measures nothing).
# It is given time to bind first: under ASan on a loaded host its start
# took more than the first send's 500 ms.
check "partition-flap: b answers before the drill" wait_for 5 \
	sh -c "ip netns exec $a $UDPPROBE send -e -c 1 -w 500 10.79.0.2 7979 | grep -qw received=1"

out=$(ip netns exec $a "$FAULTLINE" plan "$T/flap.yaml" 2>&1)
check_match "partition-flap: plan shows the three cuts" \
	'apply +flap 1/3 .*revert +flap 1/3 .*apply +flap 2/3 .*revert +flap 2/3 .*apply +flap 3/3 .*revert +flap 3/3' \
	"$(tr '\n' ' ' <<<"$out")"
ip netns exec $a "$FAULTLINE" run --no-live --report "$T/flap.json" "$T/flap.yaml" >"$T/run.out" 2>&1
rc=$?
# A probe that fails during a fault fails the drill: exit 1, as expected.
check_eq "partition-flap: the drill ends with its probe's failures (exit 1)" 1 "$rc"
check_eq "partition-flap: three applies and three reverts" 6 \
	"$(grep -cE 'fault flap: (applied|reverted), occurrence [123]/3' "$T/run.out")"
check_eq "partition-flap: no filter left on a's eth0" "" \
	"$(ip netns exec $a tc filter show dev eth0 egress; ip netns exec $a tc filter show dev eth0 ingress)"
check_eq "partition-flap: no run left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
check "partition-flap: b answers after the drill" \
	sh -c "ip netns exec $a $UDPPROBE send -e -c 1 -w 500 10.79.0.2 7979 | grep -qw received=1"

# The probe's results against the occurrences: failures only inside a
# cut (plus a probe's length), in three separate windows, one per cut,
# and passes between them.
res=$(python3 - "$T/flap.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["faults"][0]
occ = [(o["applied_t"], o["reverted_t"]) for o in f["occurrences"]]
print("states", ",".join(o["state"] for o in f["occurrences"]))
res = r["probes"][0]["results"]
fails = [x["t"] for x in res if not x["pass"]]
passes = [x["t"] for x in res if x["pass"]]
# A probe run [t, t + 150ms] (its timeout) that overlaps a cut may fail.
stray = [t for t in fails if not any(a - 0.15 <= t <= b + 0.1 for a, b in occ)]
print("stray", len(stray))
hit = [sum(1 for t in fails if a - 0.15 <= t <= b + 0.1) for a, b in occ]
print("each cut has failures", all(h >= 2 for h in hit))
# Windows of failures: runs of consecutive failing results.
runs, prev = 0, True
for x in res:
    if not x["pass"] and prev:
        runs += 1
    prev = x["pass"]
print("fail windows", runs)
between = [sum(1 for t in passes if b + 0.15 < t < a2 - 0.05)
           for (_, b), (a2, _) in zip(occ, occ[1:])]
print("passes between cuts", all(n >= 2 for n in between))
PY
)
check_eq "partition-flap: every occurrence reverted" "states reverted,reverted,reverted" \
	"$(sed -n 1p <<<"$res")"
check_eq "partition-flap: the probe fails only inside a cut" "stray 0" "$(sed -n 2p <<<"$res")"
check_eq "partition-flap: it fails in every cut" "each cut has failures True" "$(sed -n 3p <<<"$res")"
check_eq "partition-flap: in three separate windows" "fail windows 3" "$(sed -n 4p <<<"$res")"
check_eq "partition-flap: and passes between them" "passes between cuts True" "$(sed -n 5p <<<"$res")"

# The SVG: three bars in flap's lane, the failing ticks under them.
svg="$T/flap.svg"
check "partition-flap: the SVG is written" test -s "$svg"
check_eq "partition-flap: the SVG has a bar per occurrence" "1,2,3" \
	"$(grep -o 'class="fault [a-z]*" data-name="flap" data-occurrence="[0-9]"' "$svg" | grep -o '[0-9]"$' | tr -d '"' | paste -sd,)"
bad=$(python3 - "$svg" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
bars = [(float(x), float(x) + float(w)) for x, w in re.findall(
    r'data-name="flap" data-occurrence="\d"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', s)]
ticks = [float(x) for x in re.findall(r'<line class="tick fail" x1="([\d.]+)"', s)]
# 150ms (24 px) of slack a side: a probe started just before a cut.
print(sum(1 for t in ticks if not any(a - 24 <= t <= b + 24 for a, b in bars)), len(ticks))
PY
)
check_match "partition-flap: every failing tick of the SVG lies on a bar" '^0 [1-9]' "$bad"
