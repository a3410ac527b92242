/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What netem/partition.bpf.c and netem/partition.c share: the trie key,
 * the keep rules and the counters.  Plain types only, so that both the
 * BPF side (vmlinux.h) and user space can include it.
 */
#ifndef FAULTLINE_PARTITION_BPF_H
#define FAULTLINE_PARTITION_BPF_H

#define PART_MAX_KEEP	16
#define PART_KEEP_ICMP	255	/* icmp and icmpv6, no ports */

/* An LPM trie key: IPv4 is mapped, ::ffff:a.b.c.d, prefix 96 + len. */
struct part_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct part_keep {
	__u8 protocol;		/* 6, 17, 132 or PART_KEEP_ICMP */
	__u8 pad;
	__u16 port_lo, port_hi;	/* host order */
	__u16 pad2;
};

enum part_counter {
	PART_DROP_EGRESS,
	PART_DROP_INGRESS,
	PART_KEPT_EGRESS,	/* peer traffic a keep rule let through */
	PART_KEPT_INGRESS,
	PART_NR_COUNTERS,
};

#endif
