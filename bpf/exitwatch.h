/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/exitwatch: how watched processes die, captured as they exit.
 *
 * A tp_btf program on sched_process_exit (exitwatch.bpf.c) sends one
 * event for each watched process when its last thread exits, with the
 * wait status its parent will get.  do_exit() sets the exit code before
 * that tracepoint, and only after it (exit_notify) can the parent reap:
 * the status is seen whoever reaps and however fast, unlike the zombie's
 * (/proc/PID/stat, waitid(WNOWAIT)), which a parent that reaps at once
 * takes away.  Kernels 6.15 and later keep it in pidfs too; this works
 * from 5.8 (ring buffers) with BTF, and without BTF through the proc
 * connector (exitwatch.c), which gives the same events.
 *
 * The events and the constants are shared with the BPF side (the
 * libbpf-tools pattern: tool.bpf.c, tool.h, tool.c); the API below is
 * user space's, one watcher per owner (an engine's handle), no globals:
 *
 *	exitwatch_open(how, fn, arg, &w, why, len)   load and attach
 *	exitwatch_add(w, tgid)                  watch a process
 *	poll(exitwatch_fd(w))                   events are waiting
 *	exitwatch_read(w)                       fn(arg, event) for each
 *	exitwatch_close(w)                      detach and free
 */
#ifndef FAULTLINE_BPF_EXITWATCH_H
#define FAULTLINE_BPF_EXITWATCH_H

#ifndef __bpf__
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/types.h>
#endif

#define EXITWATCH_MAX_PIDS	4096	/* watched at once, per watcher */
#define EXITWATCH_COMM_LEN	16

/* One process gone: its last thread passed sched_process_exit. */
struct exitwatch_event {
	__u64 ns;		/* CLOCK_MONOTONIC at the exit */
	__u64 cgroup_id;	/* its cgroup v2 id (the inode) at the exit */
	__u32 tgid;		/* the process, as watched */
	__u32 pid;		/* its thread that exited last */
	__s32 status;		/* the wait status its parent gets */
	__u32 lost;		/* events dropped before this one (ring full) */
	char comm[EXITWATCH_COMM_LEN];
};

#ifndef __bpf__
struct exitwatcher;

typedef void (*exitwatch_fn)(void *arg, const struct exitwatch_event *ev);

/* How: the BPF program, else the proc connector (exitwatch.c). */
#define EXITWATCH_TP_BTF	1U
#define EXITWATCH_CONNECTOR	2U
#define EXITWATCH_ANY		(EXITWATCH_TP_BTF | EXITWATCH_CONNECTOR)

/*
 * Start a watcher, the first of methods that works, which calls fn(arg,
 * event) from exitwatch_read.  0 with the method in why, or -errno with
 * the reasons in why (the verifier's or the kernel's word).
 */
int exitwatch_open(unsigned int methods, exitwatch_fn fn, void *arg,
		   struct exitwatcher **out, char *why, size_t len);
/* "tp_btf on sched_process_exit" or "the proc connector (...)". */
const char *exitwatch_method(const struct exitwatcher *w);
/* Watch a process (a tgid) from now on until it exits. */
int exitwatch_add(struct exitwatcher *w, pid_t tgid);
/* A descriptor that polls readable when events wait. */
int exitwatch_fd(const struct exitwatcher *w);
/* Hand every waiting event to fn; how many, or -errno. */
int exitwatch_read(struct exitwatcher *w);
void exitwatch_close(struct exitwatcher *w);
/*
 * Can this kernel capture exits with one of methods?  1 yes (why names
 * the method), 0 no (why says why), -errno when it could not be tested
 * (not root).  Starts a watcher and sees a child of its own killed; the
 * answer is cached.
 */
int exitwatch_probe(unsigned int methods, char *why, size_t len);
/*
 * The methods a caller may try, from its environment variable env: both,
 * or for tests none ("off", 0 with why set) or only the fallback
 * ("connector").
 */
unsigned int exitwatch_methods(const char *env, char *why, size_t len);
/* Will a watcher with env's methods capture exits?  why: how, or why not. */
bool exitwatch_plan(const char *env, char *why, size_t len);
#endif

#endif
