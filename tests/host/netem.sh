#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The netem fault on this kernel (no sch_netem): plan and run refuse it with
# exit status 3 naming the module; and the tc-state layer under it
# (netem/tc.c) puts a device's htb, tbf, clsact and ingress trees, with
# their u32 filters and mirred actions, back identical after faultline's
# own tree (and an ifb) replaced them, compared with tc -d show.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "netem" "needs root"; exit 0; }
CYCLE=${OUTPUT}tests/unit/test_tc_state

ns=flnetem-$$
ip netns add $ns && at_exit ip netns del $ns
ip -n $ns link add v0 type veth peer name v1
ip -n $ns addr add 10.203.0.1/24 dev v0
ip -n $ns link set v0 up
ip -n $ns link set v1 up
nx() { ip netns exec $ns "$@"; }

cat >"$T/wan.yaml" <<'YAML'
name: netem-refused
duration: 2s
faults:
  - name: slow
    netem: { device: v0, delay: 50ms }
YAML
if have_qdisc netem; then
	skip "netem: refused without sch_netem" "this kernel has sch_netem"
else
	out=$(nx "$FAULTLINE" plan "$T/wan.yaml" 2>&1); rc=$?
	check_eq "netem: plan refuses it (exit 3)" 3 "$rc"
	check_match "netem: plan names sch_netem" 'sch_netem' "$out"
	out=$(nx "$FAULTLINE" run "$T/wan.yaml" 2>&1); rc=$?
	check_eq "netem: run refuses it (exit 3)" 3 "$rc"
	check_match "netem: run names sch_netem" 'sch_netem' "$out"
	check_eq "netem: run left the root qdisc alone" "noqueue" \
		"$(nx tc qdisc show dev v0 root | awk '{print $2}')"
fi

# tc -d state of v0, counters aside (tc shows none without -s).
state() {
	{
		nx tc -d qdisc show dev v0
		nx tc -d class show dev v0
		nx tc -d filter show dev v0
		nx tc -d filter show dev v0 parent 1: 2>/dev/null
		nx tc -d filter show dev v0 ingress 2>/dev/null
		nx tc -d filter show dev v0 egress 2>/dev/null
		nx ip -o link show type ifb
	} | sed -E 's/(installed|used|firstused) [0-9]+ sec//g; s/direct_packets_stat [0-9]+/direct_packets_stat N/'
}

# restored NAME SETUP [ingress]: set up, cycle, compare.
restored() {
	local name=$1 setup=$2 mode=${3:-} before after
	nx sh -c 'tc qdisc del dev v0 root; tc qdisc del dev v0 clsact; tc qdisc del dev v0 ingress' >/dev/null 2>&1
	if ! nx sh -c "$setup" >/dev/null 2>&1; then
		notok "netem: restore $name (setup failed)"; return
	fi
	before=$(state)
	if ! out=$(nx "$CYCLE" cycle v0 $mode 2>&1); then
		notok "netem: restore $name"; printf '%s\n' "$out" | grep -v Warning | sed 's/^/#   /'
		return
	fi
	after=$(state)
	check_eq "netem: $name is back identical" "$before" "$after"
}

restored "the default root" ""
restored "an htb tree with u32 filters" "
tc qdisc add dev v0 root handle 1: htb default 20 r2q 5 &&
tc class add dev v0 parent 1: classid 1:1 htb rate 50mbit ceil 80mbit &&
tc class add dev v0 parent 1:1 classid 1:10 htb rate 10mbit ceil 50mbit prio 1 &&
tc class add dev v0 parent 1:1 classid 1:20 htb rate 5mbit &&
tc qdisc add dev v0 parent 1:10 handle 10: tbf rate 8mbit burst 32k latency 40ms &&
tc qdisc add dev v0 parent 1:20 handle 20: pfifo limit 77 &&
tc filter add dev v0 parent 1: protocol ip prio 3 u32 match ip dst 10.1.2.0/24 match ip dport 80 0xffff flowid 1:10 &&
tc filter add dev v0 parent 1: protocol ip prio 3 u32 match ip src 10.3.0.0/16 flowid 1:20 &&
tc filter add dev v0 parent 1: protocol ipv6 prio 4 u32 match ip6 dst fd00::/64 flowid 1:20"
restored "a tbf root" "tc qdisc add dev v0 root handle 5: tbf rate 20mbit burst 64k limit 100k"
restored "an htb root, with ingress through an ifb" "
tc qdisc add dev v0 root handle 9: htb default 1 &&
tc class add dev v0 parent 9: classid 9:1 htb rate 1gbit" ingress
restored "a clsact with filters, with ingress through an ifb" "
tc qdisc add dev v0 clsact &&
tc filter add dev v0 ingress protocol ip prio 1 u32 match ip src 10.7.0.0/16 action mirred egress mirror dev v1 &&
tc filter add dev v0 egress protocol ip prio 5 u32 match ip dst 10.8.0.1/32 action mirred egress redirect dev v1" ingress
restored "an ingress qdisc with a filter, with ingress through an ifb" "
tc qdisc add dev v0 handle ffff: ingress &&
tc filter add dev v0 parent ffff: protocol ip prio 2 u32 match ip dst 10.6.0.0/16 action mirred egress mirror dev v1" ingress
