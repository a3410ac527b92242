#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The netem fault under the stock kernel: a device's own tc trees (prio,
# htb with filters, a netem root, clsact) come back identical; kill -9 of
# the runner leaves the guardian to revert; with the guardian killed too,
# faultline recover does (from the namespace, and from outside it); and
# examples/slow-wan.yaml runs in namespaces (durations shortened).
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/netem-restore" "run it under tools/vmtest"; exit 0; }
a=flr-a-$$ b=flr-b-$$
netns_pair $a $b 10.0.2.1/24 10.0.2.2/24 ||
	{ notok "vm/netem-restore: make the namespaces"; exit 1; }
ip -n $a addr add fd00:db::1/64 dev eth0 nodad
ip -n $b addr add fd00:db::2/64 dev eth0 nodad
nx() { ip netns exec $a "$@"; }
export FAULTLINE_RUNDIR=$T/run

state() {
	{
		nx tc -d qdisc show dev eth0
		# (fq_codel lists its flows with packets queued as classes:
		# traffic's state, not the tree.)
		nx tc -d class show dev eth0 | grep -v '^class fq_codel '
		nx tc -d filter show dev eth0
		nx tc -d filter show dev eth0 parent 1: 2>/dev/null
		nx tc -d filter show dev eth0 ingress 2>/dev/null
		nx ip -o link show type ifb
	} | sed -E 's/(installed|used|firstused) [0-9]+ sec//g'
}

cat >"$T/both.yaml" <<'Y'
name: both
duration: 2s
faults:
  - name: both
    netem:
      device: eth0
      direction: both
      match: { to: 10.0.2.2, protocol: tcp }
      delay: 10ms
      loss: 1%
Y

restored() {
	local name=$1 setup=$2 before after
	nx sh -c 'tc qdisc del dev eth0 root; tc qdisc del dev eth0 clsact; tc qdisc del dev eth0 ingress' >/dev/null 2>&1
	if ! nx sh -c "$setup" >/dev/null 2>&1; then
		notok "restore: $name (setup failed)"; return
	fi
	before=$(state)
	out=$(nx "$FAULTLINE" run "$T/both.yaml" 2>&1)
	check_eq "restore: run with $name exits 0" 0 $?
	after=$(state)
	check_eq "restore: $name is back identical" "$before" "$after"
}
restored "the default root" ""
restored "a prio tree with a netem band" "
tc qdisc add dev eth0 root handle 1: prio bands 4 priomap 0 1 2 2 1 2 0 0 1 1 1 1 1 1 1 1 &&
tc qdisc add dev eth0 parent 1:4 handle 40: netem delay 5ms loss 0.5% &&
tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.2.9/32 flowid 1:4"
restored "an htb tree with filters and a clsact" "
tc qdisc add dev eth0 root handle 1: htb default 20 &&
tc class add dev eth0 parent 1: classid 1:1 htb rate 50mbit &&
tc class add dev eth0 parent 1:1 classid 1:20 htb rate 5mbit ceil 50mbit &&
tc qdisc add dev eth0 parent 1:20 handle 20: fq_codel &&
tc filter add dev eth0 parent 1: protocol ip prio 3 u32 match ip src 10.3.0.0/16 flowid 1:20 &&
tc qdisc add dev eth0 clsact &&
tc filter add dev eth0 ingress protocol ip prio 1 u32 match ip src 10.7.0.0/16 action pass"
restored "a netem root of the user's" "tc qdisc add dev eth0 root handle 3: netem delay 1ms 1ms 10% loss 0.1% duplicate 0.2% rate 100mbit"

# Crash: kill -9 of the runner; the guardian reverts.
nx sh -c 'tc qdisc del dev eth0 root; tc qdisc del dev eth0 clsact' >/dev/null 2>&1
sed 's/duration: 2s/duration: 10m/' "$T/both.yaml" >"$T/long.yaml"
before=$(state)
start_long() {
	: >"$T/long.out"
	ip netns exec $a "$FAULTLINE" run --json "$T/long.yaml" >"$T/long.out" 2>&1 &
	runner=$!
	for _ in $(seq 100); do
		grep -q '"event":"applied"' "$T/long.out" && break
		sleep 0.1
	done
	guardian=$(sed -n 's/.*"event":"run".*"guardian":\([0-9]*\).*/\1/p' "$T/long.out")
}
start_long
check_match "crash: the fault is active" 'qdisc netem fa18:' "$(state)"
kill -9 $runner; wait $runner 2>/dev/null
for _ in $(seq 50); do [ "$(state)" = "$before" ] && break; sleep 0.1; done
check_eq "crash: kill -9 of the runner, the guardian reverts" "$before" "$(state)"

start_long
kill -9 "$guardian" $runner; wait $runner 2>/dev/null
sleep 0.5
check_match "crash: guardian and runner killed, the fault stays" 'fl-ifb-' "$(state)"
out=$("$FAULTLINE" recover 2>&1)
check_eq "crash: faultline recover from outside the namespace exits 0" 0 $?

check_eq "crash: recover put the device back" "$before" "$(state)"

start_long
kill -9 "$guardian" $runner; wait $runner 2>/dev/null
nx "$FAULTLINE" recover >/dev/null 2>&1
check_eq "crash: faultline recover in the namespace puts it back" "$before" "$(state)"
check_eq "crash: no run left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"

# examples/slow-wan.yaml in namespaces, its minutes turned into seconds.
sed -e 's/duration: 10m/duration: 4s/' -e 's/for: 9m/for: 3s/' \
    -e 's/at: 1m/at: 1s/' -e 's/for: 5m/for: 2s/' "$SRC/examples/slow-wan.yaml" >"$T/wan.yaml"
check_status "wan.yaml: plan" 0 nx "$FAULTLINE" plan "$T/wan.yaml"
# The ingress fault comes 1 s into the timeline, which starts after the
# run's checks and prepare (slow under TCG): the snapshot waits for it,
# up to a second more (it lasts 2 s).
( sleep 1; for _ in $(seq 10); do state | grep -q fl-ifb- && break; sleep 0.1; done
  nx ping -c 3 -i 0.2 -q 10.0.2.2 >/dev/null 2>&1; state >"$T/wan.during" ) &
out=$(nx "$FAULTLINE" run --json "$T/wan.yaml" 2>&1)
check_eq "wan.yaml: run exits 0" 0 $?
wait
check_match "wan.yaml: both faults were active together" 'fl-ifb-' "$(cat "$T/wan.during")"
check_match "wan.yaml: netem under the prio parent" \
	'qdisc netem fa18: parent fa17:2 ' "$(cat "$T/wan.during")"
check_match "wan.yaml: the egress netem held the gemodel loss" \
	'loss gemodel p 1% r 30% 1-h 100% 1-k 0%' "$(cat "$T/wan.during")"
check_match "wan.yaml: the report has the counters" '"observed":\{"ingress":\{"device":"fl-ifb' "$out"
check_eq "wan.yaml: everything back" "$before" "$(state)"
