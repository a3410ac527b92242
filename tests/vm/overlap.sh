#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Faults that overlap on one device, where sch_netem exists (issue 16):
# netem egress with netem ingress (through an ifb), a repeating netem
# egress over a netem ingress, a partition (cls_bpf) with netem egress,
# a netem ingress within a partition (sharing its clsact):
# each runs, passes and leaves the device exactly as it was (tc qdisc and
# filter show before and after, no ifb left).  The partition's netem
# fallback with another partition on its device is refused before
# anything is applied.  tests/host/overlap.sh has the rest.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/overlap" "run it under tools/vmtest"; exit 0; }
if ! have_qdisc netem; then
	skip "vm/overlap" "no sch_netem: $(netem_why)"; exit 0
fi

a=flvm-oa-$$ b=flvm-ob-$$
netns_pair $a $b 10.202.0.1/24 10.202.0.2/24 ||
	{ notok "vm/overlap: make the namespaces"; exit 1; }
in_a() { ip netns exec $a "$@"; }
tcstate() {
	in_a tc qdisc show dev eth0
	echo "ingress:"; in_a tc filter show dev eth0 ingress 2>&1
	echo "egress:"; in_a tc filter show dev eth0 egress 2>&1
	echo "links:"; in_a ip -o link show | grep -o 'fl-ifb-[0-9a-f]*'
}
# seen RE...: the device's state matched every RE at once at some point
# before the run (pid $pid) ended.
seen() {
	local re
	while kill -0 "$pid" 2>/dev/null; do
		tcstate | tr '\n' ' ' >"$T/now"
		for re; do grep -Eq -- "$re" "$T/now" || continue 2; done
		return 0
	done
	echo "#   last seen: $(cat "$T/now")"
	return 1
}
PART='partition: { groups: [[10.202.0.1], [10.202.0.2]] }'

# works NAME FILE RE...: the drill passes, the REs match the device's
# state while it runs (both faults at once), and it ends exactly as it
# began.
works() {
	local name=$1 file=$2 before st
	shift 2
	before=$(tcstate)
	in_a "$FAULTLINE" run "$file" >"$T/out" 2>&1 &
	pid=$!
	check "overlap: $name: both hold the device at once" seen "$@"
	wait "$pid"; st=$?
	check_eq "overlap: $name: the drill passes" 0 "$st"
	[ "$st" = 0 ] || sed 's/^/#   | /' "$T/out"
	check_eq "overlap: $name: the device is exactly as before" "$before" \
		"$(tcstate)"
	check "overlap: $name: no run left" test -z "$(ls "$FAULTLINE_RUNDIR")"
}

drill "$T/eg-in.yaml" overlap 8s
fault "$T/eg-in.yaml" out 'netem: { device: eth0, delay: 20ms }' "at: 1s" "for: 4s"
fault "$T/eg-in.yaml" in 'netem: { device: eth0, delay: 30ms, direction: ingress }' \
	"at: 2s" "for: 5s"
works "netem egress + netem ingress" "$T/eg-in.yaml" \
	'qdisc netem fa17: root' 'ingress:.*mirred.*links: fl-ifb-'

drill "$T/rep.yaml" overlap 8s
fault "$T/rep.yaml" in 'netem: { device: eth0, loss: 1%, direction: ingress }' \
	"at: 1s" "for: 6s"
fault "$T/rep.yaml" flap 'netem: { device: eth0, delay: 20ms }' "at: 2s" \
	"repeat: { every: 2s, for: 1s, times: 3 }"
works "a repeating netem egress over netem ingress" "$T/rep.yaml" \
	'qdisc netem fa17: root' 'ingress:.*mirred.*links: fl-ifb-'

if have_qdisc clsact && have_bpf sched_cls; then
	drill "$T/part-net.yaml" overlap 8s
	fault "$T/part-net.yaml" cut "$PART" "at: 1s" "for: 4s"
	fault "$T/part-net.yaml" slow 'netem: { device: eth0, delay: 20ms }' \
		"at: 2s" "for: 5s"
	works "partition + netem egress" "$T/part-net.yaml" \
		'qdisc netem fa17: root' 'ingress:.*part_ingress.*egress:.*part_egress'
	# Nested: the netem ingress within the partition shares its clsact.
	drill "$T/nest.yaml" overlap 8s
	fault "$T/nest.yaml" cut "$PART" "at: 1s" "for: 5s"
	fault "$T/nest.yaml" in 'netem: { device: eth0, delay: 20ms, direction: ingress }' \
		"at: 2s" "for: 2s"
	works "netem ingress within a partition" "$T/nest.yaml" \
		'ingress:.*mirred' 'ingress:.*part_mark' 'ingress:.*part_ingress' \
		'links: fl-ifb-'
else
	skip "overlap: partition + netem egress" "missing clsact or BPF sched_cls: $(fact bpf.sched_cls.why)"
fi

# The fallback replaces the root and hooks ingress: one at a time.
drill "$T/fb.yaml" overlap 8s
fault "$T/fb.yaml" a "$PART" "at: 1s" "for: 3s"
fault "$T/fb.yaml" b "$PART" "at: 2s" "for: 3s"
before=$(tcstate)
FAULTLINE_PARTITION_MECH=netem in_a "$FAULTLINE" run "$T/fb.yaml" \
	>"$T/out" 2>&1
check_eq "overlap: two partitions on the netem fallback are refused (exit 2)" \
	2 $?
check_match "overlap: the refusal names both and the root qdisc" \
	"fb.yaml:[0-9]+:[0-9]+: faults 'b' \(2s to 5s\) and 'a' \(1s to 4s\) collide: both need the root qdisc of eth0" \
	"$(cat "$T/out")"
check_eq "overlap: and nothing was applied" "$before" "$(tcstate)"
