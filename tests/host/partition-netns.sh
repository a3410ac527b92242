#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Device locks are per network namespace: two hosts (namespaces) whose
# devices are both called eth0 run partition drills at the same time and
# both succeed, while a second drill on the same eth0 of one namespace is
# still refused as busy.  The lock registry ($FAULTLINE_RUNDIR) is shared
# by all namespaces, as /run/faultline is.  Addresses are 10.78.0.0/24,
# inside the namespaces only.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "partition-netns" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "partition-netns: $FAULTLINE is built"; exit 1; }
export FAULTLINE_RUNDIR=$T/run

a=fl-$$-la b=fl-$$-lb
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 0.3
	ip netns del $a 2>/dev/null
	ip netns del $b 2>/dev/null
}
netns_pair $a $b 10.78.0.1/24 10.78.0.2/24 ||
	{ notok "partition-netns: make the namespaces"; exit 1; }
# After netns_pair's own cleanup, so that it runs first: the runners stop
# before their namespaces go.
at_exit cleanup

cat >"$T/split.yaml" <<'Y'
name: split
duration: 3s
faults:
  - name: split
    partition:
      groups: [[10.78.0.1], [10.78.0.2]]
Y

# Wait until a run's output says its fault is applied (or it ended).
applied() {
	local out=$1 pid=$2
	for _ in $(seq 100); do
		grep -q '"event":"applied"' "$out" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# Both namespaces at once: eth0 in a and eth0 in b are different devices.
ip netns exec $a "$FAULTLINE" run --json "$T/split.yaml" >"$T/a.out" 2>&1 &
pa=$!; pids+=($pa)
applied "$T/a.out" $pa
ip netns exec $b "$FAULTLINE" run --json "$T/split.yaml" >"$T/b.out" 2>&1 &
pb=$!; pids+=($pb)
applied "$T/b.out" $pb
check "partition-netns: both drills are active at once" \
	grep -q '"event":"applied"' "$T/a.out" "$T/b.out"
both=$(grep -l '"event":"applied"' "$T/a.out" "$T/b.out" | wc -l)
check_eq "partition-netns: applied in both namespaces" 2 "$both"
res=$(cat "$FAULTLINE_RUNDIR"/*/run.json 2>/dev/null)
ino_a=$(ip netns exec $a stat -L -c %i /proc/self/ns/net)
ino_b=$(ip netns exec $b stat -L -c %i /proc/self/ns/net)
check_match "partition-netns: a's lock names its namespace" \
	"\"dev:$ino_a:eth0\"" "$res"
check_match "partition-netns: b's lock names its namespace" \
	"\"dev:$ino_b:eth0\"" "$res"

# A second drill on a's eth0 while a's first one runs: refused.
out=$(ip netns exec $a "$FAULTLINE" run "$T/split.yaml" 2>&1)
rc=$?
check_eq "partition-netns: a second drill in the same namespace is refused" 3 "$rc"
check_match "partition-netns: as busy, naming the device" \
	"busy: dev:$ino_a:eth0 is held by run" "$out"

wait $pa; rca=$?
wait $pb; rcb=$?
pids=()
check_eq "partition-netns: the drill in a exits 0" 0 $rca
check_eq "partition-netns: the drill in b exits 0" 0 $rcb
check_eq "partition-netns: no filter left in a" "" \
	"$(ip netns exec $a tc filter show dev eth0 egress 2>/dev/null)"
check_eq "partition-netns: no run left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"

# The netem fallback, forced: this kernel has no sch_netem, so plan
# refuses with exit status 3 and names it (tests/vm/partition-fallback.sh
# runs the fallback under the stock kernel).
if ! modprobe -n sch_netem 2>/dev/null; then
	out=$(FAULTLINE_PARTITION_MECH=netem ip netns exec $a "$FAULTLINE" plan "$T/split.yaml" 2>&1)
	check_eq "partition-netns: the forced netem fallback is refused (exit 3)" 3 $?
	check_match "partition-netns: naming sch_netem" "CONFIG_NET_SCH_NETEM" "$out"
fi
