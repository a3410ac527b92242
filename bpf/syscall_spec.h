/* SPDX-License-Identifier: GPL-2.0-only */
/* bpf/: the parsed spec of the syscall fault (f->priv). */
#ifndef FAULTLINE_SYSCALL_SPEC_H
#define FAULTLINE_SYSCALL_SPEC_H

#include "core/faultline.h"

#define SYSCALL_MAX_ERRNOS	16

struct syscall_call {
	int nr;				/* x86_64 syscall number */
	const char *name;
	bool from_group;		/* expanded from file/network/process */
};

struct syscall_spec {
	const struct fl_experiment *exp;	/* the file's, for check */
	const char *target_name;	/* target->name */
	struct fl_target *target;	/* in the experiment's targets */
	bool follow_forks;		/* default true */
	struct syscall_call *calls;
	size_t ncalls;
	int errnos[SYSCALL_MAX_ERRNOS];	/* positive errno values */
	double weights[SYSCALL_MAX_ERRNOS];	/* percent, sum 100 */
	size_t nerrnos;
	double probability;		/* percent, default 100 */
	bool has_when;
	uint64_t after;			/* skip the first N matching calls */
	uint64_t every;			/* then fail every Nth (default 1) */
	uint64_t times;			/* at most K times, 0: no limit */
	char *path;			/* absolute prefix, or NULL */
	bool has_peer;
	uint16_t *ports;
	size_t nports;
	struct fl_cidr *to;
	size_t nto;
};

#endif
