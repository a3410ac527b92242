// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition fault's packet filter: a direct-action cls_bpf program at
 * clsact.  Egress drops packets whose destination is in the peer trie,
 * ingress drops packets whose source is, except what a keep rule names.
 * One program serves any number of peers: the peer set lives in an LPM
 * trie (IPv4 as ::ffff:a.b.c.d/96+len), so changing it changes only the
 * map.  Drops are silent (TC_ACT_SHOT): the peer never answers, so an
 * established TCP connection stalls without a RST, as in a real
 * partition.
 */
/*
 * Built against the UAPI headers, not vmlinux.h: the program reads only
 * stable structures (struct __sk_buff, the IP headers it copies out of
 * the packet), so it has no CO-RE relocation and libbpf never reads the
 * kernel's BTF to load it (/sys/kernel/btf/vmlinux, 5 MB, tens of ms).
 */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "netem/partition_bpf.h"

#define IP_OFFSET	0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct part_key);
	__type(value, __u32);		/* the peer's group, 0-based */
	__uint(max_entries, 1);		/* set from the peer count at open */
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, PART_NR_COUNTERS);
} counters SEC(".maps");

/* The keep rules, set before load. */
const volatile struct part_keep keep[PART_MAX_KEEP];
const volatile __u32 nkeep;

/*
 * The fault's switch (issue 17): 0 from prepare, which attaches the
 * filters, until the instant, when faultline sets it through the
 * mmapped .bss (one store, no system call).  Off, every packet goes on
 * to the next filter, untouched and uncounted.
 */
volatile __u32 part_on;

static __always_inline void count(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &what);

	if (v)
		*v += 1;
}

static __always_inline bool kept(__u8 proto, __u16 sport, __u16 dport)
{
	__u32 i;

	for (i = 0; i < PART_MAX_KEEP; i++) {
		if (i >= nkeep)
			break;
		if (keep[i].protocol == PART_KEEP_ICMP) {
			if (proto == 1 || proto == 58)
				return true;
			continue;
		}
		if (keep[i].protocol != proto)
			continue;
		if ((sport >= keep[i].port_lo && sport <= keep[i].port_hi) ||
		    (dport >= keep[i].port_lo && dport <= keep[i].port_hi))
			return true;
	}
	return false;
}

static __always_inline bool has_ports(__u8 proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

/*
 * The verdict for one packet; nh is the network header's offset (14 on
 * Ethernet devices, 0 on L3 devices such as tun or wireguard).
 */
static __always_inline int verdict(struct __sk_buff *skb, __u32 nh,
				   bool egress)
{
	struct part_key key = { .prefixlen = 128 };
	__u16 ports[2] = { 0, 0 };
	__u32 l4 = 0;
	bool first = true;
	__u8 proto;

	if (!part_on)
		return TC_ACT_UNSPEC;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, nh, &ip, sizeof(ip)))
			return TC_ACT_OK;
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], egress ? &ip.daddr : &ip.saddr,
				 4);
		proto = ip.protocol;
		l4 = nh + ip.ihl * 4;
		first = !(ip.frag_off & bpf_htons(IP_OFFSET));
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, nh, &ip6, sizeof(ip6)))
			return TC_ACT_OK;
		__builtin_memcpy(key.addr, egress ? &ip6.daddr : &ip6.saddr,
				 16);
		proto = ip6.nexthdr;
		l4 = nh + sizeof(ip6);
	} else {
		return TC_ACT_OK;	/* ARP and the rest pass */
	}
	if (!bpf_map_lookup_elem(&peers, &key))
		return TC_ACT_OK;
	if (first && has_ports(proto))
		bpf_skb_load_bytes(skb, l4, ports, sizeof(ports));
	if (kept(proto, bpf_ntohs(ports[0]), bpf_ntohs(ports[1]))) {
		count(egress ? PART_KEPT_EGRESS : PART_KEPT_INGRESS);
		return TC_ACT_OK;
	}
	count(egress ? PART_DROP_EGRESS : PART_DROP_INGRESS);
	/*
	 * At egress, TC_ACT_SHOT would tell the sender's own stack that the
	 * packet was dropped (NET_XMIT_DROP): TCP then retries on its local
	 * congestion timer and gives up with ETIMEDOUT within seconds.
	 * TC_ACT_STOLEN frees the packet just the same but reports it as
	 * sent, as a cable cut further away would: TCP backs off and waits.
	 */
	return egress ? TC_ACT_STOLEN : TC_ACT_SHOT;
}

SEC("tc")
int part_egress(struct __sk_buff *skb)
{
	return verdict(skb, ETH_HLEN, true);
}

SEC("tc")
int part_ingress(struct __sk_buff *skb)
{
	return verdict(skb, ETH_HLEN, false);
}

SEC("tc")
int part_egress_l3(struct __sk_buff *skb)
{
	return verdict(skb, 0, true);
}

SEC("tc")
int part_ingress_l3(struct __sk_buff *skb)
{
	return verdict(skb, 0, false);
}

/*
 * The mark of a clsact qdisc faultline added: a filter that passes every
 * packet on to the next one, so that the last partition to leave the
 * device (of this fault or another) knows the qdisc is faultline's to
 * remove, and a leftover scan can tell it from a user's empty clsact.
 */
SEC("tc")
int part_mark(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
