// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pausing with signals, where no freezer cgroup can be used: SIGSTOP to
 * a process stops every thread of it (a group stop), SIGCONT resumes
 * them.  With follow-forks the process's descendants are stopped too.
 * Each process is known by its pid and its start time, so that a pid
 * the kernel has given to a new process since is never signalled.
 * core's targets service reads /proc (fl_pid_state, fl_pid_descendants,
 * fl_pid_start_time); nothing here parses it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup/pause.h"

#define PAUSE_STOP_POLL_US	5000

static bool is_stop_state(char st)
{
	return st == 'T' || st == 't';
}

static bool in(const pid_t *v, size_t n, pid_t p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

/* root and, with follow, its descendants now, each with its start time. */
int pause_tree(pid_t root, bool follow, struct pause_pid **out, size_t *n)
{
	pid_t *kids = NULL, *mine = NULL;
	size_t nkids = 0, nmine = 0, i, cnt = 0;
	struct pause_pid *v;
	int r;

	*out = NULL;
	*n = 0;
	if (follow) {
		r = fl_pid_descendants(root, &kids, &nkids);
		if (r)
			return r;
	}
	v = calloc(nkids + 1, sizeof(*v));
	if (!v || (nkids && fl_pid_descendants(getpid(), &mine, &nmine))) {
		free(v);
		free(kids);
		return -ENOMEM;
	}
	for (i = 0; i <= nkids && cnt < PAUSE_MAX_PIDS; i++) {
		pid_t p = i ? kids[i - 1] : root;

		/* Never ourselves, our guardian, probes or commands. */
		if (p == getpid() || in(mine, nmine, p))
			continue;
		v[cnt].pid = p;
		v[cnt].start = fl_pid_start_time(p);
		if (v[cnt].start)
			cnt++;		/* gone or a zombie: nothing to stop */
	}
	free(kids);
	free(mine);
	*out = v;
	*n = cnt;
	return 0;
}

/* A process of the tree that is stopped already (someone else's stop). */
int pause_stopped_any(pid_t root, bool follow, pid_t *which)
{
	struct pause_pid *v;
	size_t n, i;
	int r;

	*which = 0;
	r = pause_tree(root, follow, &v, &n);
	if (r)
		return r;
	for (i = 0; i < n && !*which; i++)
		if (is_stop_state(fl_pid_state(v[i].pid)))
			*which = v[i].pid;
	free(v);
	return 0;
}

bool pause_is_stopped(const struct pause_pid *p)
{
	return fl_pid_alive(p->pid, p->start) &&
	       is_stop_state(fl_pid_state(p->pid));
}

/* SIGSTOP, then wait until the kernel shows it stopped. */
int pause_stop_one(const struct pause_pid *p, int timeout_ms)
{
	int waited = 0;

	if (!fl_pid_alive(p->pid, p->start))
		return -ESRCH;
	if (kill(p->pid, SIGSTOP))
		return -errno;
	while (!is_stop_state(fl_pid_state(p->pid))) {
		if (!fl_pid_alive(p->pid, p->start))
			return -ESRCH;
		if (waited >= timeout_ms * 1000)
			return -ETIMEDOUT;
		usleep(PAUSE_STOP_POLL_US);
		waited += PAUSE_STOP_POLL_US;
	}
	return 0;
}

/* SIGCONT, to the same process only; one that is gone is done. */
int pause_cont(const struct pause_pid *p)
{
	if (!fl_pid_alive(p->pid, p->start))
		return 0;
	if (kill(p->pid, SIGCONT) && errno != ESRCH)
		return -errno;
	return 0;
}
