/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tools/: what faultline doctor found (cmd_doctor.c probes and prints)
 * and what it means for each fault (doctor_means.c).
 */
#ifndef FAULTLINE_TOOLS_DOCTOR_H
#define FAULTLINE_TOOLS_DOCTOR_H

#include "tools/cmds.h"
#include "bpf/bpfault.h"

#define WHY_LEN		256
#define DOCTOR_NQDISCS	7

/* "netem", "prio", "htb", "tbf", "clsact", "ingress", "ifb" */
extern const char *const doctor_qdiscs[DOCTOR_NQDISCS];

struct probe_res {
	int ret;			/* 1 yes, 0 no, -errno not tested */
	char why[WHY_LEN];
};

struct facts {
	const struct fl_kernel *k;
	const struct fl_kernel_more *m;
	struct probe_res q[DOCTOR_NQDISCS];
	struct probe_res b[FL_BPF_NR_FEATURES];
	struct probe_res seccomp;	/* user notification, route 4 */
	bool root;
	unsigned long long capeff;
	bool run_writable;
	char run_why[600];
};

/* The capabilities doctor reports, by bit. */
struct doctor_cap {
	int bit;
	const char *name;
};
extern const struct doctor_cap doctor_caps[5];

const struct probe_res *doctor_q(const struct facts *fx, const char *kind);
bool doctor_has_cap(const struct facts *fx, int bit);
/* The capabilities run asks for that this process lacks, space-separated. */
void doctor_missing_caps(const struct facts *fx, char *buf, size_t len);
/* The "consequences" array: area, status, detail (and facts) each. */
json_object *doctor_consequences(const struct facts *fx);

#endif
