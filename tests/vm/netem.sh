#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Qdiscs under the stock kernel, on a veth pair between two namespaces this
# test makes: netem (and the delay it adds), prio with a netem band and a
# u32 filter, htb on an ifb fed by mirred (the trees faultline builds).
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/netem" "run it under tools/vmtest"; exit 0; }

a=flvm-a-$$ b=flvm-b-$$
netns_pair $a $b 10.201.0.1/24 10.201.0.2/24 veth0 veth1 ||
	{ notok "vm/netem: make the namespaces"; exit 1; }

# Smallest round trip of COUNT pings from $a to $b, in ms.
min_rtt() {
	ip netns exec $a busybox ping -q -c "$1" -W 5 10.201.0.2 2>&1 |
		sed -n 's:.*min/avg/max = \([0-9.]*\)/.*:\1:p'
}
ge() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x != "" && x + 0 >= y) }'; }

check "netem: ping through the veth pair" ge "$(min_rtt 1)" 0

check "netem: qdisc add netem on a veth in a namespace" \
	tc -n $a qdisc add dev veth0 root handle 1: netem delay 100ms
check_match "netem: tc shows it" '^qdisc netem 1: root .*delay 100ms' \
	"$(tc -n $a qdisc show dev veth0)"
rtt=$(min_rtt 3)
check "netem: the delay is applied (min rtt ${rtt:-?} ms >= 100)" ge "$rtt" 99
tc -n $a qdisc del dev veth0 root

check "prio: qdisc add prio with 4 bands" \
	tc -n $a qdisc add dev veth0 root handle 1: prio bands 4 \
	priomap 0 1 2 2 1 2 0 0 1 1 1 1 1 1 1 1
check "prio: netem under band 4" \
	tc -n $a qdisc add dev veth0 parent 1:4 handle 40: netem delay 50ms
check "prio: u32 filter steers one address to band 4" \
	tc -n $a filter add dev veth0 parent 1: protocol ip prio 1 u32 \
	match ip dst 10.201.0.2/32 flowid 1:4
check_match "prio: tc shows the tree" '^qdisc netem 40: parent 1:4 ' \
	"$(tc -n $a qdisc show dev veth0)"
rtt=$(min_rtt 3)
check "prio: the band's delay is applied (min rtt ${rtt:-?} ms >= 50)" ge "$rtt" 49
tc -n $a qdisc del dev veth0 root

check "ifb: add an ifb device" ip -n $a link add ifb0 type ifb
ip -n $a link set ifb0 up
check "mirred: ingress redirect to the ifb" sh -c "
	tc -n $a qdisc add dev veth0 handle ffff: ingress &&
	tc -n $a filter add dev veth0 parent ffff: protocol ip u32 \
		match u32 0 0 action mirred egress redirect dev ifb0"
check "htb: rate limit on the ifb" sh -c "
	tc -n $a qdisc add dev ifb0 root handle 1: htb default 1 &&
	tc -n $a class add dev ifb0 parent 1: classid 1:1 htb rate 1mbit &&
	tc -n $a qdisc add dev ifb0 parent 1:1 handle 10: netem delay 30ms"
rtt=$(min_rtt 3)
check "htb: ingress delay through the ifb (min rtt ${rtt:-?} ms >= 30)" ge "$rtt" 29
check_match "htb: packets went through the ifb" 'Sent [1-9][0-9]* bytes' \
	"$(tc -n $a -s qdisc show dev ifb0 | grep -A1 '^qdisc htb')"

check "bridge: add a bridge" ip -n $b link add br0 type bridge
check_match "nf_tables: the module is loaded" '^nf_tables ' "$(cat /proc/modules)"
if command -v nft >/dev/null; then
	check "nf_tables: nft add table" ip netns exec $b nft add table inet flvm
else
	skip "nf_tables: nft add table" "nft is not installed"
fi
