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
#  - someone changes the tree below faultline's root mid-drill: (a) `tc
#    qdisc change` of its netem's options, (b) a filter added under its
#    prio root: revert leaves it all (exit 4) and names what differs; the
#    record stays, recover refuses the same way until the tree is
#    faultline's again (their change undone), then puts the saved tree
#    back.
#  - someone writes memory.max over an oom fault's (cgroup v2): the
#    squeeze stops, revert leaves theirs and names it (exit 4, record
#    kept); recover refuses until the saved value is back, then finishes.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/hostile" "run it under tools/vmtest"; exit 0; }
a=flh-a-$$ b=flh-b-$$
export FAULTLINE_RUNDIR=$T/run
nx() { ip netns exec $a "$@"; }
net_up() { netns_pair $a $b 10.0.3.1/24 10.0.3.2/24; }
net_down() { netns_del $a $b; }
ifbs() { nx ip -o link show type ifb 2>/dev/null | wc -l; }

cat > "$T/wan.yaml" <<'Y'
name: wan
duration: 3s
faults:
  - name: wan
    netem: { device: eth0, direction: both, delay: 10ms }
Y
# start OUT [FILE]: the drill in the background, until its fault is applied.
start() {
	nx "$FAULTLINE" run --json "${2:-$T/wan.yaml}" > "$1" 2>&1 &
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

# --- (a) Someone changes faultline's netem options (tc qdisc change). ------
net_down; net_up
before=$(nx tc qdisc show dev eth0)
start "$T/chg.out"
mine=$(nx tc qdisc show dev eth0 root)
limit=$(sed -n 's/.* limit \([0-9]*\) .*/\1/p' <<<"$mine")
nx tc qdisc change dev eth0 root netem limit "$limit" delay 500ms
wait $run; rc=$?
out=$(cat "$T/chg.out")
check_eq "netem options changed mid-drill: revert refused (exit 4)" 4 "$rc"
check_match "netem options changed mid-drill: names the device and what differs" \
	"netem: eth0: someone changed faultline's tree during the drill: netem fa17: on eth0 has delay 500ms now, faultline set 10ms; leaving it all in place" "$out"
check_match "netem options changed mid-drill: their change is still there" \
	"qdisc netem fa17: root .*delay 500ms" "$(nx tc qdisc show dev eth0)"
check_eq "netem options changed mid-drill: the ifb is left too" 1 "$(ifbs)"
check_eq "netem options changed mid-drill: the record stays" 1 "$(runs_left)"
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "netem options changed mid-drill: recover refuses too (exit 4)" 4 "$rc"
check_match "netem options changed mid-drill: recover says why" \
	"netem fa17: on eth0 has delay 500ms now, faultline set 10ms" "$out"
check_match "netem options changed mid-drill: ... and leaves theirs" \
	"qdisc netem fa17: root .*delay 500ms" "$(nx tc qdisc show dev eth0)"
nx tc qdisc change dev eth0 root netem limit "$limit" delay 10ms
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "netem options changed mid-drill: once the options are faultline's again, recover finishes" 0 "$rc"
check_eq "netem options changed mid-drill: the device's tree is as before" \
	"$before" "$(nx tc qdisc show dev eth0)"
check_eq "netem options changed mid-drill: the ifb is removed" 0 "$(ifbs)"
check_eq "netem options changed mid-drill: journal empty after" 0 "$(runs_left)"

# --- (b) Someone adds a filter under faultline's root. ----------------------
net_down; net_up
cat > "$T/match.yaml" <<'Y'
name: match
duration: 3s
faults:
  - name: wan
    netem: { device: eth0, delay: 10ms, match: { to: 10.0.3.2 } }
Y
before=$(nx tc qdisc show dev eth0)
start "$T/filt.out" "$T/match.yaml"
nx tc filter add dev eth0 parent fa17: prio 49 protocol ip u32 \
	match ip dst 10.0.3.9/32 flowid fa17:1
wait $run; rc=$?
out=$(cat "$T/filt.out")
check_eq "a filter added under faultline's root: revert refused (exit 4)" 4 "$rc"
check_match "a filter added under faultline's root: names it" \
	"netem: eth0: someone changed faultline's tree during the drill: a filter someone added under fa17: on eth0 \(u32, prio 49\)" "$out"
check_match "a filter added under faultline's root: theirs is still there" \
	"pref 49 u32" "$(nx tc filter show dev eth0 parent fa17:)"
check_match "a filter added under faultline's root: faultline's root too" \
	"qdisc prio fa17: root" "$(nx tc qdisc show dev eth0)"
check_eq "a filter added under faultline's root: the record stays" 1 "$(runs_left)"
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "a filter added under faultline's root: recover refuses too (exit 4)" 4 "$rc"
check_match "a filter added under faultline's root: recover says why" \
	"a filter someone added under fa17: on eth0 \(u32, prio 49\)" "$out"
nx tc filter del dev eth0 parent fa17: prio 49
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "a filter added under faultline's root: once theirs is gone, recover finishes" 0 "$rc"
check_eq "a filter added under faultline's root: the device's tree is as before" \
	"$before" "$(nx tc qdisc show dev eth0)"
check_eq "a filter added under faultline's root: journal empty after" 0 "$(runs_left)"

# --- (c) Someone changes faultline's own filter in place (tc filter change).
# Its kind, handle and prio stay; the class it sends packets to does not
# (u32 keeps a key's selector on change; its class and actions change), so
# the matched packets skip the netem band.
net_down; net_up
before=$(nx tc qdisc show dev eth0)
start "$T/fchg.out" "$T/match.yaml"
f=$(nx tc filter show dev eth0 parent fa17: | grep -m1 ' fh [0-9a-f]*::[0-9a-f]')
pref=$(sed -n 's/.* pref \([0-9]*\) .*/\1/p' <<<"$f")
fh=$(sed -n 's/.* fh \([0-9a-f:]*\) .*/\1/p' <<<"$f")
nx tc filter change dev eth0 parent fa17: prio "$pref" handle "$fh" \
	protocol ip u32 match ip dst 10.0.3.2/32 flowid fa17:1
wait $run; rc=$?
out=$(cat "$T/fchg.out")
check_eq "faultline's filter changed in place: revert refused (exit 4)" 4 "$rc"
check_match "faultline's filter changed in place: names it" \
	"faultline's u32 filter under fa17: on eth0 \(prio $pref\) matches other packets or picks another class now" "$out"
check_match "faultline's filter changed in place: their change is still there" \
	"fh $fh .*flowid fa17:1 " "$(nx tc filter show dev eth0 parent fa17:)"
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "faultline's filter changed in place: recover refuses too (exit 4)" 4 "$rc"
# Their way out: remove the whole tree; then recover finishes.
nx tc qdisc del dev eth0 root
out=$(nx "$FAULTLINE" recover 2>&1); rc=$?
check_eq "faultline's filter changed in place: once the tree is gone, recover finishes" 0 "$rc"
check_eq "faultline's filter changed in place: the device's tree is as before" \
	"$before" "$(nx tc qdisc show dev eth0)"
check_eq "faultline's filter changed in place: journal empty after" 0 "$(runs_left)"

# --- Someone else writes the memory limit of an oom fault (cgroup v2). ------
# The squeeze stops, revert leaves theirs (exit 4, record kept), recover
# refuses until memory.max is back to its saved value, then finishes.
cg=/sys/fs/cgroup/flh-oom-$$
grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
if mkdir "$cg" 2>/dev/null && [ -e "$cg/memory.max" ]; then
	at_exit "rmdir $cg"
	(echo $BASHPID > "$cg/cgroup.procs"; exec "$HELPERS/memhog" --size 16M > /dev/null) &
	hog=$!
	at_exit "kill -9 $hog"
	sleep 0.5
	cat > "$T/foreign.yaml" <<YAML
name: foreign
duration: 3s
targets:
  box: { cgroup: $cg }
faults:
  - name: squeeze
    oom: { target: box, squeeze: { to: 512M } }
YAML
	"$FAULTLINE" run "$T/foreign.yaml" > "$T/foreign.out" 2>&1 & run=$!
	for _ in $(seq 100); do grep -q "fault squeeze: applied" "$T/foreign.out" && break; sleep 0.05; done
	sleep 0.3
	check_eq "v2: faultline's memory.max was on" 536870912 "$(cat "$cg/memory.max")"
	echo 268435456 > "$cg/memory.max"
	wait $run; rc=$?
	out=$(cat "$T/foreign.out")
	check_eq "v2: a limit changed mid-drill: revert incomplete (exit 4)" 4 "$rc"
	check_match "v2: a limit changed mid-drill: says so, naming cgroup, file and both values" \
		"oom: cgroup $cg: memory.max is now 268435456, not the 536870912 faultline wrote: someone else changed it during the drill; leaving theirs in place" "$out"
	check_eq "v2: a limit changed mid-drill: theirs is still there" 268435456 "$(cat "$cg/memory.max")"
	check_eq "v2: a limit changed mid-drill: the record stays" 1 "$(runs_left)"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "v2: a limit changed mid-drill: recover refuses too (exit 4)" 4 "$rc"
	check_match "v2: a limit changed mid-drill: recover says why" "memory.max is now 268435456" "$out"
	echo max > "$cg/memory.max"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "v2: a limit changed mid-drill: once memory.max is back, recover finishes" 0 "$rc"
	check_eq "v2: a limit changed mid-drill: journal empty after" 0 "$(runs_left)"
	kill -9 $hog; wait $hog 2>/dev/null
	for _ in $(seq 20); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
else
	notok "v2: make a cgroup with the memory controller ($cg)"
fi
