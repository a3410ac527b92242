#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A hostile environment for the netem fault (issue 8), under the stock
# kernel (the host has no sch_netem); tests/host/hostile.sh has the rest.
#  - the device vanishes mid-drill (both directions, so with an ifb): the
#    revert is done (exit 0), says so, the ifb is removed anyway and the
#    journal is empty.
#  - someone replaces faultline's root qdisc mid-drill: revert leaves
#    theirs in place and says what it found (exit 4); the record stays,
#    so status lists it and recover refuses the same way until theirs is
#    gone, then puts the saved tree back.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/hostile" "run it under tools/vmtest"; exit 0; }
a=flh-a-$$ b=flh-b-$$
export FAULTLINE_RUNDIR=$T/run
nx() { ip netns exec $a "$@"; }
net_up() {
	ip netns add $a && ip netns add $b || return 1
	ip -n $a link add eth0 type veth peer name eth0 netns $b
	ip -n $a addr add 10.0.3.1/24 dev eth0
	ip -n $b addr add 10.0.3.2/24 dev eth0
	ip -n $a link set eth0 up
	ip -n $b link set eth0 up
}
net_down() { ip netns del $a 2>/dev/null; ip netns del $b 2>/dev/null; }
at_exit net_down
runs_left() { find "$FAULTLINE_RUNDIR" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
ifbs() { nx ip -o link show type ifb 2>/dev/null | wc -l; }

cat > "$T/wan.yaml" <<'Y'
name: wan
duration: 3s
faults:
  - name: wan
    netem: { device: eth0, direction: both, delay: 10ms }
Y
# start OUT: the drill in the background, until its fault is applied.
start() {
	nx "$FAULTLINE" run --json "$T/wan.yaml" > "$1" 2>&1 &
	run=$!
	for _ in $(seq 200); do
		grep -q '"event":"applied"' "$1" && return 0
		kill -0 $run 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# --- The device vanishes. ----------------------------------------------------
net_up || { notok "vm/hostile: make the namespaces"; exit 1; }
start "$T/gone.out"
check_eq "netem: the ifb is there while the drill runs" 1 "$(ifbs)"
ip -n $a link del eth0
wait $run; rc=$?
check_eq "a device that vanishes mid-drill: the drill ends (exit 0)" 0 "$rc"
check_match "a device that vanishes mid-drill: says so" \
	"netem: device eth0 vanished during the drill; its qdiscs went with it" "$(cat "$T/gone.out")"
check_eq "a device that vanishes mid-drill: the ifb is removed anyway" 0 "$(ifbs)"
check_eq "a device that vanishes mid-drill: journal empty" 0 "$(runs_left)"

# --- Someone replaces faultline's root qdisc. -------------------------------
net_down; net_up
before=$(nx tc qdisc show dev eth0)
start "$T/tbf.out"
nx tc qdisc replace dev eth0 root handle 7: tbf rate 1mbit burst 10k latency 10ms
wait $run; rc=$?
out=$(cat "$T/tbf.out")
check_eq "a root qdisc replaced mid-drill: revert incomplete (exit 4)" 4 "$rc"
check_match "a root qdisc replaced mid-drill: says what it found" \
	"netem: eth0: the root qdisc is now tbf 7:, not faultline's: someone changed it during the drill; leaving theirs in place" "$out"
check_match "a root qdisc replaced mid-drill: theirs is still there" \
	"qdisc tbf 7: root" "$(nx tc qdisc show dev eth0)"
check_eq "a root qdisc replaced mid-drill: the ifb is removed" 0 "$(ifbs)"
check_eq "a root qdisc replaced mid-drill: the ingress hook is removed" "" \
	"$(nx tc filter show dev eth0 ingress 2>/dev/null)"
check_eq "a root qdisc replaced mid-drill: the record stays" 1 "$(runs_left)"
check_match "a root qdisc replaced mid-drill: status lists it" \
	"wan \(netem\)" "$("$FAULTLINE" status 2>&1)"
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "a root qdisc replaced mid-drill: recover refuses too (exit 4)" 4 "$rc"
check_match "a root qdisc replaced mid-drill: recover says why" \
	"the root qdisc is now tbf 7:" "$out"
nx tc qdisc del dev eth0 root
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "a root qdisc replaced mid-drill: once theirs is gone, recover finishes" 0 "$rc"
check_eq "a root qdisc replaced mid-drill: the device's tree is as before" \
	"$before" "$(nx tc qdisc show dev eth0)"
check_eq "a root qdisc replaced mid-drill: journal empty after" 0 "$(runs_left)"
