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
/*
 * Route 4 of syscall faults, for command targets: does a seccomp filter
 * with a listener work here, taken with pidfd_getfd() and answered with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE?  1 yes, 0 no (why); cached.
 */
int sc_seccomp_probe(char *why, size_t len);

/* Every program in bpf/sysfault.bpf.c is named sf_*. */
#define BPFAULT_PROG_PREFIX	"sf_"

/*
 * A BPF program's name by id (and its type, when type is not NULL);
 * -errno when it is gone or cannot be read.
 */
int bpfault_prog_name(uint32_t id, char *buf, size_t len, uint32_t *type);
/* The name is one of faultline's programs: the syscall or partition ones. */
bool bpfault_prog_is_ours(const char *name);
/*
 * Leftover scan: every loaded BPF program with one of faultline's names,
 * except those already reported in f->progs (a filter named them).
 */
void bpfault_scan_leftovers(struct fl_found *f);

#endif
