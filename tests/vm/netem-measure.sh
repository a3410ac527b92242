#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The netem fault under the stock kernel, measured with tests/helpers/udpprobe
# between two namespaces this test makes (a: faultline's side, eth0; b: the
# peer): delay, loss, duplicates, reordering, rate, gemodel loss read back,
# a matched port, and ingress delay through the ifb.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/netem-measure" "run it under tools/vmtest"; exit 0; }
PROBE=$HELPERS/udpprobe
a=flm-a-$$ b=flm-b-$$
netns_pair $a $b 10.202.0.1/24 10.202.0.2/24 ||
	{ notok "vm/netem-measure: make the namespaces"; exit 1; }

ip netns exec $b "$PROBE" echo -p 7000 -t 900 & at_exit kill $!
ip netns exec $b "$PROBE" echo -p 7001 -t 900 & at_exit kill $!
sleep 0.5

# val KEY LINE: a key=value of udpprobe's report.
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# in RANGE: awk test "lo <= x <= hi".
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'; }

# fault NAME YAML-BODY: run a netem fault in $a (in the background) and
# wait until it is applied; stop_fault ends it.
fault() {
	cat >"$T/$1.yaml" <<Y
name: $1
duration: 10m
faults:
  - name: $1
    netem: $2
Y
	ip netns exec $a "$FAULTLINE" run --json "$T/$1.yaml" >"$T/$1.out" 2>&1 &
	runner=$!
	for _ in $(seq 100); do
		grep -q '"event":"applied"' "$T/$1.out" && return 0
		grep -q '"event":"apply-failed"' "$T/$1.out" && break
		kill -0 $runner 2>/dev/null || break
		sleep 0.1
	done
	notok "$1: the fault is applied"; sed 's/^/#   /' "$T/$1.out" | head -20
	return 1
}
stop_fault() {
	kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null
	check_eq "$1: reverted, root qdisc back to noqueue" noqueue \
		"$(ip netns exec $a tc qdisc show dev eth0 root | awk '{print $2}')"
}
echo_probe() { ip netns exec $a "$PROBE" send -e "$@" 10.202.0.2 7000; }

base=$(echo_probe -c 200 -r 500)
bmed=$(val median_ms "$base")
echo "# base: $base"

# Delay: median round trip within 10% of 40 ms over the base, 1000 probes.
if fault delay "{ device: eth0, delay: 40ms }"; then
	out=$(echo_probe -c 1000 -r 500); echo "# delay: $out"
	d=$(awk -v m="$(val median_ms "$out")" -v b="$bmed" 'BEGIN { print m - b }')
	check "delay: 1000 probes, median added delay $d ms within 10% of 40 ms" \
		within "$d" 36 44
	check_eq "delay: no probe lost" 0 "$(val lost "$out")"
	stop_fault delay
fi

# Loss 2% over 10000 packets: a 5-sigma binomial bound (a 99% one failed
# one run in a hundred of a correct netem) on the
# count, one way to a receiver in b.
if fault loss "{ device: eth0, loss: 2% }"; then
	ip netns exec $b "$PROBE" recv -p 7002 -t 120 -i 3000 >"$T/loss.recv" & rp=$!
	sleep 0.3
	ip netns exec $a "$PROBE" send -c 10000 -r 4000 10.202.0.2 7002
	wait $rp; out=$(cat "$T/loss.recv"); echo "# loss: $out"
	lo=$(awk 'BEGIN { n = 10000; p = 0.02; s = sqrt(n * p * (1 - p)); printf "%d", n * p - 5 * s }')
	hi=$(awk 'BEGIN { n = 10000; p = 0.02; s = sqrt(n * p * (1 - p)); printf "%d", n * p + 5 * s + 1 }')
	check "loss: $(val lost "$out") of $(val sent "$out") lost, inside [$lo, $hi]" \
		within "$(val lost "$out")" "$lo" "$hi"
	check_match "loss: the report has netem's own drop counter" \
		'"dropped":[1-9]' "$(kill -TERM $runner; wait $runner; cat "$T/loss.out")"
	check_eq "loss: run showed the drops live, the last as the report's" True \
		"$(python3 -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
p = [e for e in ev if e.get("event") == "progress"]
r = [e for e in ev if e.get("event") == "report"][0]["report"]
n = r["faults"][0]["observed"]["egress"]["dropped"]
print(len(p) >= 1 and p[-1]["egress"]["dropped"] == n >= 1)' "$T/loss.out" 2>&1)"
	check_eq "loss: reverted" noqueue \
		"$(ip netns exec $a tc qdisc show dev eth0 root | awk '{print $2}')"
fi

# Duplicates 10% over 3000 probes.
if fault dup "{ device: eth0, duplicate: 10% }"; then
	out=$(echo_probe -c 3000 -r 2000); echo "# duplicate: $out"
	# Binomial(3000, 0.1): mean 300, sd 16.4; +-5 sd = +-82.
	check "duplicate: $(val duplicates "$out") duplicates of 3000 (5 sd bound 218..382)" \
		within "$(val duplicates "$out")" 218 382
	stop_fault dup
fi

# Reordering: 25% sent at once while the rest wait 20 ms.
if fault reorder "{ device: eth0, delay: 20ms, reorder: { percent: 25%, gap: 5 } }"; then
	out=$(echo_probe -c 2000 -r 1000); echo "# reorder: $out"
	check "reorder: $(val reorders "$out") probes arrived out of order" \
		within "$(val reorders "$out")" 50 2000
	stop_fault reorder
fi

# Rate: 2mbit, 1000-byte probes as fast as they go; payload throughput
# ~ 2mbit * 1000/1042 (UDP, IP and Ethernet headers).
if fault rate "{ device: eth0, rate: 2mbit }"; then
	out=$(echo_probe -c 600 -r 0 -s 1000 -w 5000); echo "# rate: $out"
	check "rate: throughput $(val throughput_bps "$out") bit/s near 2mbit" \
		within "$(val throughput_bps "$out")" 1600000 2100000
	stop_fault rate
fi

# gemodel loss: accepted and read back as sent.
if fault ge "{ device: eth0, loss: { model: gemodel, p: 1%, r: 30%, 1-h: 80%, 1-k: 0.5% } }"; then
	check_match "gemodel: the kernel holds it" \
		'loss gemodel p 1% r 30% 1-h 80% 1-k 0.5%' \
		"$(ip netns exec $a tc -d qdisc show dev eth0)"
	out=$(echo_probe -c 3000 -r 3000); echo "# gemodel: $out"
	check "gemodel: some loss ($(val lost "$out") of 3000)" within "$(val lost "$out")" 1 3000
	stop_fault ge
fi

# state model and the built-in distributions: accepted.
for d in normal pareto paretonormal; do
	if fault dist-$d "{ device: eth0, delay: 30ms, jitter: 5ms, distribution: $d, loss: { model: state, p13: 1% } }"; then
		check_match "distribution $d: netem holds the delay, jitter and state loss" \
			'delay 30ms +5ms .*loss state p13 1%' "$(ip netns exec $a tc -d qdisc show dev eth0)"
		out=$(echo_probe -c 300 -r 500); echo "# $d: $out"
		d2=$(awk -v m="$(val median_ms "$out")" -v b="$bmed" 'BEGIN { print m - b }')
		check "distribution $d: median added delay $d2 ms near 30 ms" within "$d2" 25 36
		stop_fault dist-$d
	fi
done

# Only the matched port: port 7000 gets 50 ms, port 7001 none.
if fault match "{ device: eth0, delay: 50ms, match: { to: 10.202.0.2/32, ports: 7000, protocol: udp } }"; then
	check_match "match: prio parent with netem under fa17:2" 'qdisc netem fa18: parent fa17:2' \
		"$(ip netns exec $a tc qdisc show dev eth0)"
	m=$(echo_probe -c 300 -r 500); echo "# matched: $m"
	u=$(ip netns exec $a "$PROBE" send -e -c 300 -r 500 10.202.0.2 7001); echo "# unmatched: $u"
	check "match: port 7000 delayed (median $(val median_ms "$m") ms)" within "$(val median_ms "$m")" 45 60
	check "match: port 7001 not delayed (median $(val median_ms "$u") ms)" within "$(val median_ms "$u")" 0 10
	stop_fault match
fi

# The same with the htb parent (for kernels without prio).
export FAULTLINE_NETEM_PARENT=htb
if fault matchhtb "{ device: eth0, delay: 50ms, match: { to: [10.202.0.2/32, 'fd00::/64'], ports: 7000 } }"; then
	check_match "match (htb): htb parent" 'qdisc htb fa17: root' \
		"$(ip netns exec $a tc qdisc show dev eth0)"
	m=$(echo_probe -c 300 -r 500)
	u=$(ip netns exec $a "$PROBE" send -e -c 300 -r 500 10.202.0.2 7001)
	check "match (htb): port 7000 delayed (median $(val median_ms "$m") ms)" within "$(val median_ms "$m")" 45 60
	check "match (htb): port 7001 not delayed (median $(val median_ms "$u") ms)" within "$(val median_ms "$u")" 0 10
	stop_fault matchhtb
fi
unset FAULTLINE_NETEM_PARENT

# Ingress: 30 ms on what eth0 receives (the echoes), through the ifb.
if fault ingress "{ device: eth0, direction: ingress, delay: 30ms }"; then
	check_match "ingress: an fl-ifb device is up" 'fl-ifb-' "$(ip -n $a -o link show type ifb)"
	out=$(echo_probe -c 500 -r 500); echo "# ingress: $out"
	d=$(awk -v m="$(val median_ms "$out")" -v b="$bmed" 'BEGIN { print m - b }')
	check "ingress: median added delay $d ms within 10% of 30 ms" within "$d" 27 33
	stop_fault ingress
	check_eq "ingress: the ifb device is gone" "" "$(ip -n $a -o link show type ifb)"
	check_eq "ingress: the ingress qdisc is gone" "" \
		"$(ip netns exec $a tc qdisc show dev eth0 ingress)"
fi
