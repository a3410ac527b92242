// SPDX-License-Identifier: GPL-2.0-only
/*
 * Small real programs, one per BPF feature faultline relies on.  doctor
 * loads them one at a time (bpf/probe.c) to learn what this kernel
 * allows; none of them changes behaviour when attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Hits, so that each program does real work. */
__u64 hits[9];

/* kprobe override fires for this tgid only; 0 is never a caller. */
const volatile __u32 override_tgid;

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&hits[0], 1);
	return 0;			/* TC_ACT_OK */
}

SEC("cgroup/connect4")
int probe_connect4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&hits[1], 1);
	return 1;			/* allow */
}

SEC("cgroup/getsockopt")
int probe_getsockopt(struct bpf_sockopt *ctx)
{
	__sync_fetch_and_add(&hits[2], 1);
	return 1;			/* keep the kernel's answer */
}

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id)
{
	__sync_fetch_and_add(&hits[3], 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	__sync_fetch_and_add(&hits[4], 1);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	__sync_fetch_and_add(&hits[5], 1);
	return 0;			/* allow */
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(probe_fmod_security, struct file *file)
{
	__sync_fetch_and_add(&hits[6], 1);
	return 0;			/* 0: the real function runs */
}

#if defined(__TARGET_ARCH_x86)
SEC("fmod_ret/__x64_sys_getpgid")
int BPF_PROG(probe_fmod_syscall, struct pt_regs *regs)
{
	__sync_fetch_and_add(&hits[7], 1);
	return 0;
}

SEC("kprobe/__x64_sys_getpgid")
int probe_kprobe(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits[8], 1);
	if ((bpf_get_current_pid_tgid() >> 32) == override_tgid)
		bpf_override_return(ctx, -1);
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
