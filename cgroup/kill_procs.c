// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kill fault's victims: the processes of a target now, what is never
 * killed and why, and the pick among them.
 *
 * kill_procs() is the one place that lists a target's processes, and it
 * takes a target: whatever resolves to a cgroup (a cgroup target, the
 * scratch cgroup of a command run started, a container's cgroup) is
 * listed from its cgroup.procs, a pid target is that process and, with
 * follow-forks, its descendants.  Each process is known by its start
 * time, so that apply never signals a pid the kernel has given to
 * another process since it looked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/kill.h"

static int by_start(const void *a, const void *b)
{
	const struct kill_proc *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The pids of t now, before they are known by start time. */
static int list_pids(const struct fl_target *t, bool follow, pid_t **v,
		     size_t *n, pid_t *main_pid)
{
	struct fl_where w;
	pid_t *kids = NULL;
	size_t nkids = 0;
	char why[256];
	int r;

	*v = NULL;
	*n = 0;
	r = fl_target_where(t, &w, why, sizeof(why));
	if (r && t->kind != FL_TARGET_COMMAND)
		return r;
	*main_pid = t->kind == FL_TARGET_CGROUP ? 0 : w.pid;
	if (t->kind != FL_TARGET_PID) {
		/* Its cgroup, in the v2 hierarchy or the memory one. */
		r = w.unified[0] ? fl_cgroup_procs(w.unified, v, n) : -ENOENT;
		if (r == -ENOENT && w.memory[0])
			r = fl_cgroup_procs(w.memory, v, n);
		if (r != -ENOENT || w.pid <= 0)
			return r == -ENOENT && t->kind == FL_TARGET_COMMAND ?
			       0 : r;
		follow = true;	/* a command without a cgroup: its tree */
	}
	if (w.pid <= 0)
		return 0;
	if (follow) {
		r = fl_pid_descendants(w.pid, &kids, &nkids);
		if (r)
			return r;
	}
	*v = malloc((nkids + 1) * sizeof(**v));
	if (!*v) {
		free(kids);
		return -ENOMEM;
	}
	(*v)[0] = w.pid;
	if (nkids)
		memcpy(*v + 1, kids, nkids * sizeof(*kids));
	*n = nkids + 1;
	free(kids);
	return 0;
}

int kill_procs(const struct fl_target *t, bool follow, struct kill_proc **out,
	       size_t *n, pid_t *main_pid)
{
	struct kill_proc *v;
	pid_t *pids;
	size_t np, i, cnt = 0;
	int r;

	*out = NULL;
	*n = 0;
	*main_pid = 0;
	r = list_pids(t, follow, &pids, &np, main_pid);
	if (r)
		return r;
	v = calloc(np ? np : 1, sizeof(*v));
	if (!v) {
		free(pids);
		return -ENOMEM;
	}
	for (i = 0; i < np && cnt < KILL_MAX_PIDS; i++) {
		v[cnt].pid = pids[i];
		v[cnt].start = fl_pid_start_time(pids[i]);
		if (!v[cnt].start)
			continue;	/* gone, or a zombie: dead already */
		fl_pid_comm(pids[i], v[cnt].comm, sizeof(v[cnt].comm));
		cnt++;
	}
	free(pids);
	qsort(v, cnt, sizeof(*v), by_start);
	*out = v;
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Never killed                                                        */

static pid_t parent_of(pid_t pid)
{
	char path[64], line[128];
	long pp = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "PPid: %ld", &pp) == 1)
			break;
	fclose(fp);
	return (pid_t)pp;
}

static bool is_ancestor(pid_t pid)
{
	pid_t p = getppid();
	int depth;

	for (depth = 0; p > 0 && depth < 256; depth++) {
		if (p == pid)
			return true;
		p = parent_of(p);
	}
	return false;
}

const char *kill_never(pid_t pid)
{
	struct stat st;
	char path[64];

	if (pid == 1)
		return "init, whose death panics the machine";
	if (pid == getpid())
		return "faultline itself";
	if (is_ancestor(pid))
		return "an ancestor of faultline (the shell or session that runs the drill)";
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) && errno == ENOENT && fl_pid_alive(pid, 0))
		return "a kernel thread, which signals do not kill";
	if (fl_pid_is_faultline(pid))
		return "a faultline process (its guardian, or another run), which puts the machine back after a crash";
	return NULL;
}

int kill_refuse(const struct kill_spec *s, const struct kill_proc *v,
		size_t n, char *why, size_t len)
{
	const char *no;
	size_t i;

	for (i = 0; i < n; i++) {
		no = kill_never(v[i].pid);
		if (!no)
			continue;
		snprintf(why, len, "target %s: PID %d (%s) is %s; faultline never kills it%s",
			 s->target_name, (int)v[i].pid, v[i].comm, no,
			 n > 1 ? " (name a cgroup or a pid that holds only what the drill may kill)" :
			 "");
		return -EPERM;
	}
	return 0;
}

int kill_list(const struct kill_spec *s, struct kill_proc **v, size_t *n,
	      pid_t *main_pid, char *why, size_t len)
{
	int r = kill_refuse_target(s, why, len);

	if (r)
		return r;
	r = kill_procs(s->target, s->follow_forks, v, n, main_pid);
	if (r) {
		snprintf(why, len, "target %s: cannot list its processes: %s",
			 s->target_name, strerror(-r));
		return r;
	}
	r = kill_refuse(s, *v, *n, why, len);
	if (r) {
		free(*v);
		*v = NULL;
	}
	return r;
}

int kill_refuse_target(const struct kill_spec *s, char *why, size_t len)
{
	const char *no;
	char comm[17];

	if (s->target->kind != FL_TARGET_PID)
		return 0;
	no = kill_never(s->target->pid);
	if (!no)
		return 0;
	fl_pid_comm(s->target->pid, comm, sizeof(comm));
	snprintf(why, len, "target %s: PID %d (%s) is %s; faultline never kills it",
		 s->target_name, (int)s->target->pid, comm, no);
	return -EPERM;
}

/* ------------------------------------------------------------------ */
/* The pick                                                            */

void kill_pick(const struct kill_spec *s, const struct kill_proc *v,
	       size_t n, pid_t main_pid, const char *key, unsigned int draw,
	       size_t *idx, size_t *nidx)
{
	size_t i;

	*nidx = 0;
	if (!n)
		return;
	switch (s->pick) {
	case KILL_PICK_ALL:
		for (i = 0; i < n; i++)
			idx[i] = i;
		*nidx = n;
		return;
	case KILL_PICK_ONE:
		/* The target's own process where it has one (v is oldest
		 * first, so a cgroup's first process otherwise). */
		idx[0] = 0;
		for (i = 0; i < n; i++)
			if (v[i].pid == main_pid)
				idx[0] = i;
		break;
	case KILL_PICK_RANDOM:
		/* The repeats' seeded draw (core/repeat.c), under a key of
		 * this fault's own: the same seed, the same victims. */
		idx[0] = (size_t)fl_repeat_jitter(s->exp->seed, key, draw,
						  n - 1);
		break;
	case KILL_PICK_OLDEST:
		idx[0] = 0;
		break;
	case KILL_PICK_NEWEST:
		idx[0] = n - 1;
		break;
	}
	*nidx = 1;
}

void kill_draw_key(const struct fl_fault *f, char *buf, size_t len)
{
	snprintf(buf, len, "kill/%s", f->name);
}
