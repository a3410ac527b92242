// SPDX-License-Identifier: GPL-2.0-only
/*
 * The victim's exit status, captured as it exits (bpf/exitwatch): the
 * watcher is attached and every watched pid added at apply, before the
 * first limit is written, so no kill can be missed; its events land in
 * the watcher's state (status, and the time of death).  It is a tp_btf
 * program, else the proc connector; where neither works, or with
 * FAULTLINE_OOM_EXIT_CAPTURE=off (tests; =connector tries only the
 * connector), the status is read from the zombie (oom_proof.c), which a
 * parent that reaps at once can take away first; plan and the report say
 * which.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/exitwatch.h"
#include "cgroup/cg.h"
#include "cgroup/oom.h"

#define CAPTURE_ENV	"FAULTLINE_OOM_EXIT_CAPTURE"

/* Will apply capture exits?  why says how, or why not. */
bool oom_capture_plan(char *why, size_t len)
{
	return exitwatch_plan(CAPTURE_ENV, why, len);
}

void oom_mark_dead(struct oom_rt *rt, size_t i, uint64_t ns)
{
	struct oom_state *w = &rt->w;
	uint64_t usage = 0;

	if (w->t_dead[i])
		return;
	w->t_dead[i] = ns;
	if (!cg_read_u64(rt->c.path, rt->c.usage_file, &usage))
		w->usage_dead[i] = usage;
}

/* An event of the exit watcher: a watched process is gone. */
static void on_exit_event(void *arg, const struct exitwatch_event *ev)
{
	struct oom_rt *rt = arg;
	struct oom_state *w = &rt->w;
	size_t i;

	for (i = 0; i < rt->c.npid; i++) {
		if (rt->c.pids[i] != (pid_t)ev->tgid)
			continue;
		w->status[i] = ev->status;
		w->status_from[i] = "exit";
		/* The kill's moment, not the watcher's wake-up after it. */
		oom_mark_dead(rt, i, ev->ns > rt->c.t_start || !rt->c.t_start ?
			      ev->ns : rt->c.t_start);
	}
}

/*
 * Load and attach the watcher, with no process in it yet: at prepare,
 * before the timeline, or else at apply.  0, or -errno with why in
 * c->capture_why.
 */
int oom_capture_open(struct oom_rt *rt)
{
	struct oom_cfg *c = &rt->c;
	unsigned int m = exitwatch_methods(CAPTURE_ENV, c->capture_why,
					 sizeof(c->capture_why));

	if (rt->ew)
		return 0;
	if (!m)
		return -EOPNOTSUPP;
	return exitwatch_open(m, on_exit_event, rt, &rt->ew, c->capture_why,
			      sizeof(c->capture_why));
}

/*
 * At apply, once the pids are known and before the squeeze: the watcher
 * (prepared or opened now) watches them.  Never fatal: without it the
 * zombie is read.
 */
void oom_capture_start(struct oom_rt *rt)
{
	struct oom_cfg *c = &rt->c;
	size_t i;
	int r;

	if (!exitwatch_methods(CAPTURE_ENV, c->capture_why,
			       sizeof(c->capture_why)))
		return;
	r = oom_capture_open(rt);
	for (i = 0; !r && i < c->npid; i++)
		r = exitwatch_add(rt->ew, c->pids[i]);
	if (r) {
		if (rt->ew)
			snprintf(c->capture_why, sizeof(c->capture_why),
				 "cannot watch PID %d: %s", (int)c->pids[i - 1],
				 strerror(-r));
		exitwatch_close(rt->ew);
		rt->ew = NULL;
		fl_warn("fault %s: the victim's exit cannot be captured (%s): its signal is read from the zombie, which a parent that reaps at once can take away first",
			c->f->name, c->capture_why);
		return;
	}
	c->capture = true;
}

/* The events waiting, into the watcher's state. */
void oom_capture_read(struct oom_rt *rt)
{
	if (rt->ew)
		exitwatch_read(rt->ew);
}

int oom_capture_fd(const struct oom_rt *rt)
{
	return rt->ew ? exitwatch_fd(rt->ew) : -1;
}

void oom_capture_stop(struct oom_rt *rt)
{
	exitwatch_close(rt->ew);
	rt->ew = NULL;
}
