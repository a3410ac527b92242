// SPDX-License-Identifier: GPL-2.0-only
/*
 * Each victim's death, seen as it happens.  bpf/exitwatch (a tp_btf
 * program on sched_process_exit, else the proc connector) hands over the
 * wait status the victim's parent gets, at its exit, before any parent
 * can reap it: a death by our signal is proven by that signal in the
 * status, not guessed from the pid's absence.  The watcher is attached
 * and every victim added before the first signal, so no exit is missed.
 * Where neither method works (or with FAULTLINE_KILL_EXIT_CAPTURE=off;
 * =connector tries only the connector), each victim's pidfd still says
 * that it exited, but not how: the report says "not proven" and why.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/exitwatch.h"
#include "cgroup/kill.h"

#define KILL_PROOF_GRACE_MS	1000

struct kill_proof {
	struct exitwatcher *ew;
	struct kill_victim *v;
	size_t n;
	uint64_t grace_end;		/* await_seen's deadline, 0: not yet */
};

bool kill_proof_plan(char *why, size_t len)
{
	return exitwatch_plan(KILL_CAPTURE_ENV, why, len);
}

static void on_exit_event(void *arg, const struct exitwatch_event *ev)
{
	struct kill_proof *pf = arg;
	size_t i;

	for (i = 0; i < pf->n; i++) {
		struct kill_victim *v = &pf->v[i];

		if (v->p.pid != (pid_t)ev->tgid || v->seen)
			continue;
		v->seen = true;
		v->dead = true;
		v->status = ev->status;
		v->t_dead = ev->ns;
	}
}

void kill_proof_start(struct kill_victim *v, size_t n,
		      struct kill_proof **out, char *why, size_t len)
{
	unsigned int m = exitwatch_methods(KILL_CAPTURE_ENV, why, len);
	struct kill_proof *pf;
	size_t i;
	int r;

	*out = NULL;
	if (!m)
		return;
	pf = calloc(1, sizeof(*pf));
	if (!pf) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return;
	}
	pf->v = v;
	pf->n = n;
	r = exitwatch_open(m, on_exit_event, pf, &pf->ew, why, len);
	for (i = 0; !r && i < n; i++) {
		r = exitwatch_add(pf->ew, v[i].p.pid);
		if (r)
			snprintf(why, len, "cannot watch PID %d: %s",
				 (int)v[i].p.pid, strerror(-r));
	}
	if (r) {
		kill_proof_stop(pf);
		return;
	}
	*out = pf;
}

/* A victim's pidfd polls readable once it exited. */
static bool pidfd_exited(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/*
 * tp_btf's event is sent before exit_notify() wakes the pidfd, but the
 * proc connector's just after it, from the same exiting task, which the
 * scheduler may hold back a while (under TCG, long enough to lose the
 * proof).  A victim whose pidfd says it exited is waited for here, up to
 * KILL_PROOF_GRACE_MS, counted once per fault: victims whose events the
 * watcher lost (a full ring) cost a second in all, not a second each.
 */
static void await_seen(struct kill_proof *pf, const struct kill_victim *v)
{
	struct pollfd p = { .fd = exitwatch_fd(pf->ew), .events = POLLIN };
	int64_t left;

	if (v->seen)
		return;
	if (!pf->grace_end)
		pf->grace_end = fl_now_ns() + KILL_PROOF_GRACE_MS * 1000000ULL;
	while (!v->seen && p.fd >= 0) {
		left = (int64_t)(pf->grace_end - fl_now_ns());
		if (left <= 0 || poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			return;
		exitwatch_read(pf->ew);
	}
}

void kill_proof_read(struct kill_proof *pf, struct kill_victim *v, size_t n)
{
	size_t i;

	if (pf)
		exitwatch_read(pf->ew);
	for (i = 0; i < n; i++) {
		if (v[i].pidfd < 0 || !pidfd_exited(v[i].pidfd))
			continue;
		if (pf)
			await_seen(pf, &v[i]);
		if (!v[i].dead) {
			v[i].dead = true;
			v[i].t_dead = fl_now_ns();
		}
		close(v[i].pidfd);
		v[i].pidfd = -1;
	}
}

void kill_proof_stop(struct kill_proof *pf)
{
	if (!pf)
		return;
	exitwatch_close(pf->ew);
	free(pf);
}
