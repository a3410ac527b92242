// SPDX-License-Identifier: GPL-2.0-only
/*
 * How watched processes die, seen in do_exit(): see exitwatch.h.  The
 * tracepoint fires in the exiting task, after tsk->exit_code is set and
 * before exit_notify() lets the parent reap (6.1: after exit_mm(); 6.16
 * and later: before it, with a second argument, group_dead, which this
 * program does not read so that one object loads on both).
 *
 * Only watched tgids cost more than a hash lookup, and each sends one
 * event: when its last thread exits (signal->live reached 0).  Its status
 * is what wait_task_zombie() gives the parent: the group exit code when
 * the process died as a group (a fatal signal, exit_group), else the
 * leader's own exit code.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/exitwatch.h"

#define SIGNAL_GROUP_EXIT	0x00000004	/* include/linux/sched/signal.h */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EXITWATCH_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} ew_watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} ew_events SEC(".maps");

/* Events the ring had no room for; the next event carries the count. */
__u32 ew_lost;

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ew_exit, struct task_struct *p)
{
	struct signal_struct *sig = p->signal;
	struct exitwatch_event *e;
	__u32 tgid = p->tgid;

	if (!bpf_map_lookup_elem(&ew_watched, &tgid))
		return 0;
	if (sig->live.counter > 0)
		return 0;		/* the last thread reports */
	e = bpf_ringbuf_reserve(&ew_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&ew_lost, 1);
		return 0;
	}
	e->ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->tgid = tgid;
	e->pid = p->pid;
	e->status = (sig->flags & SIGNAL_GROUP_EXIT) ? sig->group_exit_code :
		    p->group_leader->exit_code;
	e->lost = ew_lost;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	bpf_map_delete_elem(&ew_watched, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
