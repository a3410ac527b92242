#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Faults that overlap in time on one device (issue 16): they either work
# and leave the device exactly as it was (tc qdisc and filter show, before
# and after), or the file is refused before anything is applied (exit 2,
# file:line:col, both faults named).
#  - refused: two netem on one device's root; netem ingress with a
#    partition when their windows cross (windows that nest are fine); a
#    repeat's occurrence that overlaps another netem (plan, validate and
#    run alike, nothing changed);
#  - work: two partitions on one veth, whichever ends first, over a
#    user's empty clsact, and a repeating partition over another;
#  - kill -9 of runner and guardian with the journal lost: recover --scan
#    finds the clsact faultline added, also once no filter is left on it;
#  - a partition that cuts nothing on this host says so in plan, in the
#    run's lines, in the live view and in the summary.
# netem combinations that apply are in tests/vm/overlap.sh (sch_netem).
# Namespaces fl-PID-oa and fl-PID-ob joined by a veth; 10.79.0.0/24.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run

[ "$(id -u)" = 0 ] || { skip "overlap" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "overlap: $FAULTLINE is built"; exit 1; }

A=fl-$$-oa B=fl-$$-ob
netns_pair "$A" "$B" 10.79.0.1/24 10.79.0.2/24 ||
	{ notok "overlap: make the namespaces"; exit 1; }
in_a() { ip netns exec "$A" "$@"; }
# The device's tc state as people see it: qdiscs, then each hook's filters.
tcstate() {
	in_a tc qdisc show dev eth0
	echo "ingress:"; in_a tc filter show dev eth0 ingress 2>&1
	echo "egress:"; in_a tc filter show dev eth0 egress 2>&1
}
runs_empty() { [ -z "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)" ]; }

# drill2 FILE F1-ENGINE F1-KEYS F2-ENGINE F2-KEYS: two faults, a and b;
# KEYS are the fault's other lines, split at ';' ("at: 1s;for: 2s").
drill2() {
	local k1 k2
	IFS=';' read -ra k1 <<<"$3"
	IFS=';' read -ra k2 <<<"$5"
	drill "$1" overlap 4s
	fault "$1" a "$2" "${k1[@]}"
	fault "$1" b "$4" "${k2[@]}"
}
PART='partition: { groups: [[10.79.0.1], [10.79.0.2]] }'

# ---- 1. Refused before anything is applied ---------------------------
refused() {
	local name=$1 file=$2 re=$3 before cmd st
	before=$(tcstate)
	for cmd in validate plan run; do
		in_a "$FAULTLINE" "$cmd" "$file" >"$T/out" 2>"$T/err"
		st=$?
		check_eq "overlap: $name: $cmd refuses it (exit 2)" 2 "$st"
		check_match "overlap: $name: $cmd names both faults at file:line:col" \
			"$re" "$(cat "$T/err")"
	done
	check_eq "overlap: $name: the device is as it was" "$before" "$(tcstate)"
	check "overlap: $name: no run was registered" runs_empty
}

drill2 "$T/nn.yaml" 'netem: { device: eth0, delay: 10ms }' "at: 1s;for: 2s" \
	'netem: { device: eth0, loss: 5%, direction: both }' "at: 2s;for: 2s"
refused "netem + netem on the root" "$T/nn.yaml" \
	"^$T/nn.yaml:[0-9]+:[0-9]+: faults 'b' \(2s to 4s\) and 'a' \(1s to 3s\) collide: both need the root qdisc of eth0"

drill2 "$T/pn.yaml" "$PART" "at: 1s;for: 2s" \
	'netem: { device: eth0, delay: 10ms, direction: ingress }' "at: 2s;for: 2s"
refused "partition + netem ingress, crossing" "$T/pn.yaml" \
	"^$T/pn.yaml:[0-9]+:[0-9]+: faults 'b' \(2s to 4s\) and 'a' \(1s to 3s\) collide on dev:eth0:ingress"

drill2 "$T/rn.yaml" 'netem: { device: eth0, delay: 10ms }' "at: 2500ms;for: 1s" \
	'netem: { device: eth0, loss: 1% }' "at: 0s;repeat: { every: 1s, for: 400ms }"
refused "a repeat's occurrence over another netem" "$T/rn.yaml" \
	"^$T/rn.yaml:[0-9]+:[0-9]+: faults 'b' \(occurrence 4, 3s to 3.4s\) and 'a' \(2.5s to 3.5s\)"

# Windows that nest share the ingress hook: the inner fault is applied
# after the outer and reverted before it (tests/vm/overlap.sh runs it).
drill2 "$T/nest.yaml" "$PART" "at: 1s;for: 3s" \
	'netem: { device: eth0, delay: 10ms, direction: ingress }' "at: 2s;for: 1s"
check_status "overlap: a netem ingress within a partition is fine" 0 \
	in_a "$FAULTLINE" validate "$T/nest.yaml"
# Windows that only touch do not collide (revert comes before apply).
drill2 "$T/touch.yaml" 'netem: { device: eth0, delay: 10ms }' "at: 1s;for: 1s" \
	'netem: { device: eth0, loss: 1% }' "at: 2s;for: 1s"
check_status "overlap: windows that touch are fine" 0 \
	in_a "$FAULTLINE" validate "$T/touch.yaml"

# ---- 2. Partitions that share the device -----------------------------
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "overlap: partitions on one device" "missing clsact or BPF sched_cls: $(fact qdiscs.clsact.why); $(fact bpf.sched_cls.why)"
	exit 0
fi

# seen RE: the ingress filters matched RE at some point before the run
# (pid $pid) ended.
seen() {
	while kill -0 "$pid" 2>/dev/null; do
		in_a tc filter show dev eth0 ingress 2>&1 | tr '\n' ' ' >"$T/now"
		grep -Eq -- "$1" "$T/now" && return 0
		sleep 0.05
	done
	echo "#   last seen: $(cat "$T/now")"
	return 1
}
# works NAME FILE: the run passes, both partitions hold the device at
# once (their own handles), the device ends as it began, and there is
# no warning about someone else's filters.
works() {
	local name=$1 file=$2 before st
	before=$(tcstate)
	in_a "$FAULTLINE" run "$file" >"$T/out" 2>&1 &
	pid=$!
	check "overlap: $name: both partitions hold the device at once" \
		seen "$BOTH"
	wait "$pid"; st=$?
	check_eq "overlap: $name: the drill passes" 0 "$st"
	check_eq "overlap: $name: the device is exactly as before" "$before" "$(tcstate)"
	if grep -q "someone else\|revert FAILED\|NOT reverted" "$T/out"; then
		notok "overlap: $name: no warning about faultline's own filters"
		sed 's/^/#   | /' "$T/out"
	else
		ok "overlap: $name: no warning about faultline's own filters"
	fi
	check "overlap: $name: no run left in the journal" runs_empty
}
# Each partition's handle is its own program's id: two at once.
BOTH='handle 0x[0-9a-f]+ part_ingress.*handle 0x[0-9a-f]+ part_ingress'

drill2 "$T/pp1.yaml" "$PART" "at: 500ms;for: 1500ms" "$PART" "at: 1s;for: 2s"
works "partition + partition, the first ends first" "$T/pp1.yaml"

drill2 "$T/pp2.yaml" "$PART" "at: 500ms;for: 2500ms" "$PART" "at: 1s;for: 1s"
works "partition + partition, the second ends first" "$T/pp2.yaml"

in_a tc qdisc add dev eth0 clsact
works "partition + partition over the user's empty clsact" "$T/pp1.yaml"
check_match "overlap: the user's clsact stays" "qdisc clsact" \
	"$(in_a tc qdisc show dev eth0)"
in_a tc qdisc del dev eth0 clsact

drill2 "$T/rp.yaml" "$PART" "at: 0s;repeat: { every: 1500ms, for: 1s, times: 2 }" \
	"$PART" "at: 500ms;for: 3s"
works "a repeating partition over another" "$T/rp.yaml"

# ---- 3. kill -9, the journal lost: recover --scan --------------------
before=$(tcstate)
# (Not through in_a: $! must be the runner itself, not a subshell.)
ip netns exec "$A" "$FAULTLINE" run "$T/pp1.yaml" >"$T/k9.out" 2>&1 &
rp=$! pid=$!
# Their filters are attached at prepare, switched off: wait for both
# applies, then for both filters.
fixture "both partitions applied" wait_for 20 sh -c "[ \$(grep -c ': applied' '$T/k9.out') -ge 2 ]"
fixture "both partitions' filters" seen "$BOTH"
gp=$(guardian_of)
check "overlap: the run has a guardian ($gp)" test -n "$gp"
kill -9 "$gp" "$rp"
{ wait "$rp"; } 2>/dev/null
rm -rf "${FAULTLINE_RUNDIR:?}"/*
in_a "$FAULTLINE" recover --scan >"$T/scan" 2>&1
check_eq "overlap: recover --scan after kill -9 reports leftovers (exit 4)" 4 $?
check_match "overlap: it finds the clsact faultline added" \
	"qdisc clsact on eth0, added by faultline .*, in this network namespace" \
	"$(cat "$T/scan")"
check_match "overlap: and the partitions' filters" \
	"filter bpf part_ingress .* on eth0 ingress.*, in this network namespace" \
	"$(cat "$T/scan")"
# What the issue saw: a clsact with no partition filter left on it.
in_a tc filter del dev eth0 ingress pref 64023
in_a tc filter del dev eth0 egress pref 64023
in_a "$FAULTLINE" recover --scan >"$T/scan" 2>&1
check_eq "overlap: with no partition filter left, --scan still reports (exit 4)" 4 $?
check_match "overlap: it finds the otherwise empty clsact" \
	"qdisc clsact on eth0, added by faultline .*, in this network namespace" \
	"$(cat "$T/scan")"
check_match "overlap: and says how to remove it" \
	"remove: tc qdisc del dev eth0 clsact" "$(cat "$T/scan")"
in_a tc qdisc del dev eth0 clsact
# Other namespaces and programs on this machine are not ours to judge.
in_a "$FAULTLINE" recover --scan >"$T/scan" 2>&1
check_eq "overlap: after removing it, --scan finds nothing more on $A's eth0" "" \
	"$(grep "on eth0.*, in this network namespace" "$T/scan")"
check_eq "overlap: the device is as before" "$before" "$(tcstate)"

# ---- 4. A partition that cuts nothing here says so -------------------
drill "$T/nogroup.yaml" nogroup 3s
fault "$T/nogroup.yaml" elsewhere \
	'partition: { groups: [[10.80.0.1], [10.80.0.2]] }' "at: 500ms" "for: 2s"
NG='this host is in no group'
in_a "$FAULTLINE" plan "$T/nogroup.yaml" >"$T/plan" 2>&1
check_match "overlap: no group: plan's timeline says it" \
	"apply +elsewhere +partition via none here: $NG, nothing is cut" \
	"$(cat "$T/plan")"
before=$(tcstate)
in_a "$FAULTLINE" run "$T/nogroup.yaml" >"$T/out" 2>&1
check_eq "overlap: no group: the drill runs (exit 0)" 0 $?
check_match "overlap: no group: the applied line says it" \
	"fault elsewhere: applied \(none here: $NG, nothing is cut\)" \
	"$(cat "$T/out")"
check_match "overlap: no group: the summary line for the fault says it" \
	"^  fault elsewhere .*reverted .*\(none here: $NG, nothing is cut\)" \
	"$(cat "$T/out")"
check_eq "overlap: no group: nothing changed" "$before" "$(tcstate)"
if command -v script >/dev/null; then
	TERM=xterm script -qfc "stty cols 200; ip netns exec $A $FAULTLINE run $T/nogroup.yaml" \
		/dev/null >"$T/live" 2>&1
	check_match "overlap: no group: the live view's row says it" \
		"elsewhere.*active.*$NG: nothing is cut here" \
		"$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$T/live" | tr '\r' '\n')"
else
	skip "overlap: no group: the live view" "script(1) is not installed (bsdutils)"
fi
