/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/bpflog.h: libbpf's messages captured while a program loads, so that
 * a refusal reaches the user as one line ("the verifier says: ..."), not
 * as libbpf's noise on stderr.  The one copy, for every loader in the tree
 * (bpf/probe.c, bpf/syscall_load.c, netem/partition*.c).
 *
 * libbpf has one print hook per process and no context pointer: begin and
 * end bracket one load, in one thread at a time.  Brackets nest (a probe
 * run inside another loader's bracket): the inner one captures, the outer
 * one gets its hook back at the inner end.
 */
#ifndef FAULTLINE_BPFLOG_H
#define FAULTLINE_BPFLOG_H

#include <stddef.h>

struct bpf_log {
	/*
	 * libbpf's first line that says a load failed ("prog 'x': BPF
	 * program load failed: ..."), else its first warning or error line.
	 */
	char first[512];
	/*
	 * The verifier's reason: the last line of the PROG LOAD LOG that is
	 * not a statistics line ("R1 invalid mem access 'scalar'").
	 */
	char verifier[1024];
	char all[4096];		/* every non-debug line, the newest kept */
	size_t len;		/* of all */
	void *old;		/* the print hook before begin */
	struct bpf_log *outer;	/* the capture before begin, if nested */
};

/* Capture libbpf's messages into l until bpf_log_end(). */
void bpf_log_begin(struct bpf_log *l);
void bpf_log_end(struct bpf_log *l);
/* One line for people: the verifier's reason, else the first line, else "". */
const char *bpf_log_why(const struct bpf_log *l);

#endif
