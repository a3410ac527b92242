/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/: what sysfault.bpf.c and the syscall engine share: the event of
 * one injection and the limits of the settings.  Plain types only, so
 * that both the BPF side (vmlinux.h) and user space (linux/types.h)
 * include it.
 */
#ifndef FAULTLINE_SYSFAULT_H
#define FAULTLINE_SYSFAULT_H

#define SF_MAX_NR	512		/* syscall numbers below this */
#define SF_MAX_ERRNOS	16
#define SF_MAX_PORTS	16
#define SF_MAX_CIDRS	8
#define SF_PATH_LEN	256
#define SF_EV_PATH_LEN	128
#define SF_ENTRY_SLOTS	32		/* syscalls failed at their entry */

/* Who is targeted. */
enum sf_target {
	SF_TARGET_TGID = 1,		/* the fl_targets hash of tgids */
	SF_TARGET_CGROUP = 2,		/* cgroup ancestry (cg_id at cg_level) */
};

struct sf_cidr {
	__u16 family;			/* AF_INET, AF_INET6 */
	__u16 prefix;
	__u8 addr[16];
};

/* One injection. */
struct sf_event {
	__u64 ts;			/* CLOCK_MONOTONIC ns */
	__u32 pid;			/* thread-group id */
	__u32 tid;
	__s32 nr;			/* syscall number, -1 unknown */
	__s32 err;			/* positive errno */
	__u16 family;			/* peer, 0: none */
	__u16 port;			/* host order */
	__u8 addr[16];
	char comm[16];
	char path[SF_EV_PATH_LEN];	/* "" when none */
};

#endif
