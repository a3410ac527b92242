/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/: syscall faults with eBPF, and the probes that tell which BPF
 * program types this kernel loads.
 */
#ifndef FAULTLINE_BPF_H
#define FAULTLINE_BPF_H

#include "core/faultline.h"

enum fl_bpf_feature {
	FL_BPF_SCHED_CLS,	/* tc programs */
	FL_BPF_CGROUP_SOCK_ADDR,/* cgroup/connect4 and friends */
	FL_BPF_CGROUP_SOCKOPT,
	FL_BPF_TP_BTF,		/* tp_btf/sys_enter */
	FL_BPF_RAW_TP,
	FL_BPF_LSM,		/* lsm/file_open (needs bpf in the LSM list) */
	FL_BPF_FMOD_RET_SECURITY,/* fmod_ret on security_file_open */
	FL_BPF_FMOD_RET_SYSCALL,/* fmod_ret on __x64_sys_* */
	FL_BPF_KPROBE_OVERRIDE,	/* kprobe + bpf_override_return */
	FL_BPF_NR_FEATURES,
};

/* Short name ("lsm", "fmod_ret:security") for output. */
const char *fl_bpf_feature_name(enum fl_bpf_feature f);
/*
 * Load (and where needed attach, then detach) a small program of that
 * type; 1 when it works, 0 when the kernel refuses it (why says how), or
 * -errno when it could not be tested.  Results are cached.
 */
int fl_bpf_probe(enum fl_bpf_feature f, char *why, size_t len);

extern const struct fl_engine syscall_engine;

#endif
