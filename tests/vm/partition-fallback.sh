#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The partition fault's netem fallback under the stock kernel (forced with
# FAULTLINE_PARTITION_MECH=netem): three hosts a, b, c (namespaces, each
# with an eth0) on a bridge; a and b are split, c is not in the file.  A
# TCP connectivity matrix before, during and after; the keep port stays
# open; one-way (UDP delivery); the devices' own tc trees come back
# identical.  Then the crash test: one drill with a netem fault and a
# partition; kill -9 of the runner (the guardian removes both), and of the
# guardian too (faultline recover removes both).
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/partition-fallback" "run it under tools/vmtest"; exit 0; }

export FAULTLINE_RUNDIR=$T/run
P=$$
ns() { echo "flpf-$P-$1"; }
ip4() { case $1 in a) echo 10.79.0.1;; b) echo 10.79.0.2;; c) echo 10.79.0.3;; esac; }
nx() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }

cleanup() {
	local p
	for p in $(cat "$T"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null; done
	sleep 0.3
	for h in a b c br; do ip netns del "$(ns $h)" 2>/dev/null; done
}
at_exit cleanup
ip netns add "$(ns br)"
ip -n "$(ns br)" link add br0 type bridge
ip -n "$(ns br)" link set br0 up
for h in a b c; do
	ip netns add "$(ns $h)"
	ip -n "$(ns $h)" link add eth0 type veth peer name "p$h" netns "$(ns br)"
	ip -n "$(ns br)" link set "p$h" master br0 up
	ip -n "$(ns $h)" link set lo up
	ip -n "$(ns $h)" addr add "$(ip4 $h)/24" dev eth0
	ip -n "$(ns $h)" link set eth0 up
done

cat >"$T/probe.py" <<'PY'
import selectors, socket, sys, time
mode = sys.argv[1]
if mode == "serve":			# serve PORT...: accept and close
	sel = selectors.DefaultSelector()
	for p in sys.argv[2:]:
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind(("0.0.0.0", int(p)))
		s.listen(64)
		sel.register(s, selectors.EVENT_READ)
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	u.bind(("0.0.0.0", 9999))
	sel.register(u, selectors.EVENT_READ)
	while True:
		for k, _ in sel.select():
			if k.fileobj is u:
				d, a = u.recvfrom(64)
				open(sys.argv[0] + ".udp", "a").write(d.decode() + "\n")
			else:
				c, _ = k.fileobj.accept()
				c.close()
elif mode == "tcp":			# tcp HOST PORT: 1 when it connects
	s = socket.socket()
	s.settimeout(1.5)
	try:
		s.connect((sys.argv[2], int(sys.argv[3])))
		print(1)
	except OSError:
		print(0)
elif mode == "udp":			# udp HOST TAG: send 5 datagrams
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	for _ in range(5):
		try:
			u.sendto(sys.argv[3].encode(), (sys.argv[2], 9999))
		except OSError:
			pass
		time.sleep(0.05)
PY
for h in a b c; do
	cp "$T/probe.py" "$T/probe-$h.py"
	nx $h python3 "$T/probe-$h.py" serve 8080 22 >/dev/null 2>&1 &
	echo $! >"$T/srv-$h.pid"
done
sleep 0.5

# "ab=1 ac=1 ..." for TCP connects to port 8080 between every pair.
matrix() {
	local s d out=""
	for s in a b c; do
		for d in a b c; do
			[ $s = $d ] && continue
			out+="$s$d=$(nx $s python3 "$T/probe.py" tcp "$(ip4 $d)" 8080) "
		done
	done
	echo "${out% }"
}
# Which UDP tags reached host $1 ("ab" for a -> b), sorted.
udp_got() { sort -u "$T/probe-$1.py.udp" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
state() {
	local h=$1
	{
		nx $h tc -d qdisc show dev eth0
		nx $h tc -d class show dev eth0
		nx $h tc -d filter show dev eth0
		nx $h tc -d filter show dev eth0 parent 1: 2>/dev/null
		nx $h tc -d filter show dev eth0 ingress 2>/dev/null
		nx $h tc -d filter show dev eth0 egress 2>/dev/null
		nx $h ip -o link show type ifb
	} | sed -E 's/(installed|used|firstused) [0-9]+ sec//g; s/direct_packets_stat [0-9]+//'
}
ALL="ab=1 ac=1 ba=1 bc=1 ca=1 cb=1"
check_eq "partition-fallback: the matrix before" "$ALL" "$(matrix)"

# A user's trees to get back: htb with a filter on a, clsact with a
# filter on b.
nx a sh -c 'tc qdisc add dev eth0 root handle 1: htb default 20 &&
tc class add dev eth0 parent 1: classid 1:20 htb rate 50mbit &&
tc filter add dev eth0 parent 1: protocol ip prio 3 u32 match ip src 10.3.0.0/16 flowid 1:20'
nx b sh -c 'tc qdisc add dev eth0 clsact &&
tc filter add dev eth0 ingress protocol ip prio 1 u32 match ip src 10.7.0.0/16 action pass'
before_a=$(state a) before_b=$(state b) before_c=$(state c)

cat >"$T/split.yaml" <<'Y'
name: split
duration: 8s
faults:
  - name: split
    partition:
      groups: [[10.79.0.1], [10.79.0.2]]
Y
export FAULTLINE_PARTITION_MECH=netem
out=$(nx a "$FAULTLINE" plan "$T/split.yaml" 2>&1)
check_eq "partition-fallback: plan exits 0" 0 $?
check_match "partition-fallback: plan names the netem mechanism" \
	'partition via netem 100% loss' "$out"
check_match "partition-fallback: and says why" \
	'FAULTLINE_PARTITION_MECH=netem .*the fallback' "$out"

# Run the drill file $1 on hosts a and b; wait until both applied it.
drill() {
	local h
	for h in a b; do
		: >"$T/ev-$h"
		nx $h "$FAULTLINE" run --json "$1" >"$T/ev-$h" 2>&1 &
		echo $! >"$T/run-$h.pid"
	done
	for _ in $(seq 100); do
		grep -q '"event":"applied"' "$T/ev-a" &&
			grep -q '"event":"applied"' "$T/ev-b" && return 0
		sleep 0.1
	done
	return 1
}
# Wait for the runs of drill(); their exit statuses go to $rcs.
drill_end() {
	local h
	rcs=""
	for h in a b; do
		wait "$(cat "$T/run-$h.pid")"
		rcs+="$? "
		rm -f "$T/run-$h.pid"
	done
	rcs=${rcs% }
}

check "partition-fallback: applied on a and b" drill "$T/split.yaml"
during_a=$(state a)
check_eq "partition-fallback: the matrix during: a and b cut, c reaches both" \
	"ab=0 ac=1 ba=0 bc=1 ca=1 cb=1" "$(matrix)"
check_eq "partition-fallback: keep tcp/22 stays open a -> b" 1 \
	"$(nx a python3 "$T/probe.py" tcp 10.79.0.2 22)"
check_eq "partition-fallback: keep tcp/22 stays open b -> a" 1 \
	"$(nx b python3 "$T/probe.py" tcp 10.79.0.1 22)"
check_match "partition-fallback: netem loss 100% under fa17:2" \
	'qdisc netem fa18: parent fa17:2 .*loss 100%' "$during_a"
check_match "partition-fallback: an ifb for ingress" 'fl-ifb-' "$during_a"
drill_end
check_eq "partition-fallback: both drills exit 0" "0 0" "$rcs"
check_match "partition-fallback: the report counts netem drops" \
	'"mechanism":"netem","dropped":\{"egress":[1-9]' "$(cat "$T/ev-a")"
check_eq "partition-fallback: the matrix after" "$ALL" "$(matrix)"
check_eq "partition-fallback: a's htb tree is back identical" "$before_a" "$(state a)"
check_eq "partition-fallback: b's clsact is back identical" "$before_b" "$(state b)"
check_eq "partition-fallback: c untouched" "$before_c" "$(state c)"

# One-way: only traffic from group 1 (a) to group 2 (b) is cut.
sed 's/groups:.*/&\n      one-way: true/' "$T/split.yaml" >"$T/oneway.yaml"
rm -f "$T"/probe-*.py.udp
check "partition-fallback: one-way applied on a and b" drill "$T/oneway.yaml"
nx a python3 "$T/probe.py" udp 10.79.0.2 ab
nx b python3 "$T/probe.py" udp 10.79.0.1 ba
nx c python3 "$T/probe.py" udp 10.79.0.1 ca
sleep 0.3
check_eq "partition-fallback: one-way: a -> b is cut" "" "$(udp_got b)"
check_eq "partition-fallback: one-way: b -> a and c -> a arrive" "ba ca" "$(udp_got a)"
drill_end
check_eq "partition-fallback: one-way drills exit 0" "0 0" "$rcs"
check_eq "partition-fallback: one-way: a's tree back" "$before_a" "$(state a)"
check_eq "partition-fallback: one-way: b's tree back" "$before_b" "$(state b)"
unset FAULTLINE_PARTITION_MECH

# Crash: a netem fault and a partition active together on a's eth0 (the
# partition with its primary mechanism, cls_bpf at clsact; the fallback
# would take the same root qdisc as the netem fault).  The netem fault comes
# first: its ingress hook must be a clsact the partition can share (it once
# added a plain ingress qdisc, which the partition refused).
cat >"$T/both.yaml" <<'Y'
name: both
duration: 10m
faults:
  - name: wan
    netem:
      device: eth0
      direction: both
      match: { to: 10.79.0.3 }
      delay: 20ms
  - name: split
    partition:
      groups: [[10.79.0.1], [10.79.0.2]]
Y
start_both() {
	: >"$T/both.out"
	ip netns exec "$(ns a)" "$FAULTLINE" run --json "$T/both.yaml" \
		>"$T/both.out" 2>&1 &
	runner=$!
	echo $runner >"$T/both.pid"
	for _ in $(seq 100); do
		[ "$(grep -c '"event":"applied"' "$T/both.out")" = 2 ] && break
		sleep 0.1
	done
	guardian=$(sed -n 's/.*"event":"run".*"guardian":\([0-9]*\).*/\1/p' "$T/both.out")
	[ "$(grep -c "\"event\":\"applied\"" "$T/both.out")" = 2 ] || sed "s/^/# both.out: /" "$T/both.out"
}
ours() {
	local s
	s=$(state a)
	printf '%s\n' "$s" | grep -E 'fa17|fa18|fl-ifb-|bpf'
}
start_both
during=$(state a)
check_match "crash: the netem fault is active" 'qdisc netem fa18:' "$during"
check_match "crash: the partition is active" 'bpf .*direct-action' "$during"
check_eq "crash: a -> b cut" 0 "$(nx a python3 "$T/probe.py" tcp 10.79.0.2 8080)"
kill -9 $runner; wait $runner 2>/dev/null
for _ in $(seq 50); do [ "$(state a)" = "$before_a" ] && break; sleep 0.1; done
check_eq "crash: kill -9 of the runner, the guardian removes both" "$before_a" "$(state a)"
check_eq "crash: nothing of ours left" "" "$(ours)"
check_eq "crash: a -> b connects again" 1 "$(nx a python3 "$T/probe.py" tcp 10.79.0.2 8080)"

start_both
kill -9 "$guardian" $runner; wait $runner 2>/dev/null
sleep 0.5
check_match "crash: guardian and runner killed, both faults stay" \
	'fl-ifb-' "$(ours)"
check_match "crash: the partition stays too" 'bpf' "$(ours)"
out=$(nx a "$FAULTLINE" recover 2>&1)
rc=$?; printf "%s\n" "$out" | sed "s/^/# recover: /"
check_eq "crash: faultline recover exits 0" 0 $rc
check_eq "crash: recover removes both, the tree is identical" "$before_a" "$(state a)"
check_eq "crash: nothing of ours left after recover" "" "$(ours)"
check_eq "crash: no run left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
rm -f "$T/both.pid"
