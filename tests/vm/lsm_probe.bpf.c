// SPDX-License-Identifier: GPL-2.0-only
/*
 * A tiny BPF LSM program for tests/vm/lsm.sh: counts file_open calls in
 * counts[0] and allows them all.  Built at test time with
 * clang -g -O2 -target bpf, without vmlinux.h.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("lsm/file_open")
int count_open(unsigned long long *ctx)
{
	__u32 key = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
