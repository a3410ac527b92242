// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proof of a kernel OOM kill: three witnesses that must agree.
 *  - the victim died by SIGKILL: its exit status, captured as it exited
 *    (oom_capture.c), else through its pidfd (PIDFD_INFO_EXIT, 6.15+),
 *    else from the zombie: waitid() for a child of ours, /proc/PID/stat;
 *  - the squeezed cgroup's oom_kill counter rose (memory.events, or v1's
 *    memory.oom_control);
 *  - the kernel log names its PID in a kill this fault answers for
 *    (kmsg.c reads the lines).
 * The watcher collects them into its state; observe turns a state into
 * the fault's "observed" object.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/oom.h"

#ifndef P_PIDFD
#define P_PIDFD		3
#endif

#ifndef PIDFD_GET_INFO
struct oom_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_GET_INFO		_IOWR(0xFF, 11, struct oom_pidfd_info)
#define PIDFD_INFO_EXIT		(1ULL << 3)
#endif

#define OOM_CATCH_TRIES		2000	/* of 1ms, while the victim exits */

/* A zombie, or a victim still exiting: field 52 of /proc/PID/stat. */
static void exit_status_proc(pid_t pid, struct oom_state *w, size_t i)
{
	char path[64], buf[1024], *p, *save = NULL;
	bool zombie;
	int k;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (oom_read_str(path, buf, sizeof(buf)))
		return;
	p = strrchr(buf, ')');
	if (!p)
		return;
	zombie = p[2] == 'Z';
	/*
	 * do_exit() sets exit_code before it frees the memory, so an OOM
	 * victim shows its status while it exits, and as a zombie.
	 */
	for (k = 3, p = strtok_r(p + 1, " ", &save); p;
	     p = strtok_r(NULL, " ", &save), k++)
		if (k == 52 && (zombie || atoi(p))) {
			w->status[i] = atoi(p);
			w->status_from[i] = "proc-stat";
			return;
		}
}

void oom_exit_status(struct oom_rt *rt, size_t i)
{
	struct oom_pidfd_info info = { .mask = PIDFD_INFO_EXIT };
	struct oom_state *w = &rt->w;
	siginfo_t si = { 0 };

	if (w->status[i] < 0)
		oom_capture_read(rt);
	if (w->status[i] >= 0)
		return;
	/* 6.15+: the exit status, kept by pidfs even after the reap. */
	if (!ioctl(rt->pidfds[i], PIDFD_GET_INFO, &info) &&
	    (info.mask & PIDFD_INFO_EXIT)) {
		w->status[i] = info.exit_code;
		w->status_from[i] = "pidfd";
		return;
	}
	/* A child of ours (a command target) not yet reaped. */
	if (!waitid(P_PIDFD, rt->pidfds[i], &si, WEXITED | WNOWAIT | WNOHANG) &&
	    si.si_pid == rt->c.pids[i]) {
		w->status[i] = si.si_code == CLD_EXITED ? si.si_status << 8 :
			       si.si_status;
		w->status_from[i] = "waitid";
		return;
	}
	exit_status_proc(rt->c.pids[i], w, i);
}

static bool named_killed(const struct oom_state *w, pid_t pid)
{
	size_t k;

	for (k = 0; k < w->log.nkills; k++)
		if (w->log.kills[k].pid == pid)
			return true;
	return false;
}

/*
 * The kernel log named pids[i] as killed: wait for its exit status while
 * it frees its memory.  Captured, it comes with the exit; from the zombie
 * (no capture, no PIDFD_INFO_EXIT), this tries to read it before a parent
 * that reaps at once takes the zombie away, and can lose.
 */
void oom_catch_status(struct oom_rt *rt)
{
	struct oom_state *w = &rt->w;
	size_t i;
	int n;

	for (i = 0; i < rt->c.npid; i++) {
		if (w->status[i] >= 0 || !named_killed(w, rt->c.pids[i]))
			continue;
		for (n = 0; n < OOM_CATCH_TRIES && w->status[i] < 0 &&
		     !atomic_load(&rt->stop); n++) {
			oom_exit_status(rt, i);
			if (w->status[i] >= 0 || kill(rt->c.pids[i], 0))
				break;
			usleep(1000);
		}
		if (w->status[i] < 0)
			oom_exit_status(rt, i);
	}
}

/* The squeezed cgroup's count of OOM kills. */
int oom_read_kills(const struct oom_cfg *c, uint64_t *v)
{
	return cg_read_key(c->path, c->v1 ? "memory.oom_control" :
			   "memory.events", "oom_kill", v);
}

void oom_read_counters(const struct oom_cfg *c, struct oom_state *w)
{
	uint64_t v;

	if (!oom_read_kills(c, &v))
		w->oom_kill = v;
	if (!c->v1 && !cg_read_key(c->path, "memory.events", "high", &v))
		w->high = v;
	if (c->peak_file && !cg_read_u64(c->path, c->peak_file, &v))
		w->peak = v;
}

/* kmsg.c asks when the kernel rate-limited a kill's "oom-kill:" line. */
static bool kills_unaccounted(void *arg, size_t nkills)
{
	const struct oom_cfg *c = arg;
	uint64_t v;

	if (oom_read_kills(c, &v))
		return true;
	return v - c->oom_kill0 > nkills;
}

/* What the kernel logged since the last read. */
void oom_read_kmsg(struct oom_rt *rt)
{
	struct oom_kmsg_ctx ctx = {
		.rel = rt->c.rel,
		.pids = rt->c.pids,
		.npid = rt->c.npid,
		.unaccounted = kills_unaccounted,
		.arg = &rt->c,
	};
	char rec[2048], *msg;
	ssize_t n;

	if (rt->kmsgfd < 0)
		return;
	for (;;) {
		n = read(rt->kmsgfd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = oom_kmsg_text(rec);
		if (msg)
			oom_kmsg_feed(&rt->w.log, &ctx, msg);
	}
}

static bool all_dead(const struct oom_cfg *c, const struct oom_state *w)
{
	size_t i;

	for (i = 0; i < c->npid; i++)
		if (!w->t_dead[i])
			return false;
	return c->npid > 0;
}

/* Is the victim dead (pid and command targets: the target itself)? */
bool oom_victim_dead(const struct oom_cfg *c, const struct oom_state *w)
{
	size_t i;

	if (c->s->target->kind != FL_TARGET_CGROUP)
		return c->npid && w->t_dead[0];
	for (i = 0; i < c->npid; i++)
		if (w->t_dead[i] && named_killed(w, c->pids[i]))
			return true;
	return all_dead(c, w);
}

/*
 * The victim: the target, or the first of a cgroup's processes the kernel
 * log names as killed, once dead.  *kill is its kernel log line, or NULL.
 */
bool oom_victim(const struct oom_cfg *c, const struct oom_state *w,
		size_t *vi, const struct oom_kill **kill)
{
	bool found = false;
	size_t i, k;

	*kill = NULL;
	for (i = 0; i < c->npid && !found; i++) {
		if (!w->t_dead[i])
			continue;
		if (c->s->target->kind != FL_TARGET_CGROUP)
			found = i == 0;
		else
			found = named_killed(w, c->pids[i]);
		if (found)
			*vi = i;
	}
	if (!found)
		return false;
	for (k = 0; k < w->log.nkills; k++)
		if (w->log.kills[k].pid == c->pids[*vi])
			*kill = &w->log.kills[k];
	return true;
}

static bool died_by_sigkill(const struct oom_state *w, size_t vi)
{
	int st = w->status[vi];

	return st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/* The victim's kill is proven by all three signs. */
bool oom_proven(const struct oom_cfg *c, const struct oom_state *w,
		size_t vi, const struct oom_kill *kill)
{
	return kill && died_by_sigkill(w, vi) && w->oom_kill > c->oom_kill0;
}

/* ------------------------------------------------------------------ */
/* observe: the fault's "observed" object, from a state.               */

static const char *sig_str(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "unknown");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "%s", WTERMSIG(status) == SIGKILL ?
			 "SIGKILL" : strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	return buf;
}

/* How the victim's exit status was seen, for the proof. */
static const char *exit_how(const char *from)
{
	if (!from)
		return "not seen";
	if (!strcmp(from, "exit"))
		return "captured at exit";
	if (!strcmp(from, "pidfd"))
		return "pidfs";
	return "zombie";
}

/* The squeeze: where, what was written, the counters. */
static void observed_squeeze(const struct oom_cfg *c,
			     const struct oom_state *w, json_object *out)
{
	fl_json_add_str(out, "cgroup", c->path);
	fl_json_add_str(out, "limit_file", c->limit_file);
	if (w->limit != UINT64_MAX)
		oom_add_u64(out, "limit", w->limit);
	oom_add_u64(out, "goal", w->goal);
	json_object_object_add(out, "writes", json_object_new_int(w->writes));
	if (w->err[0])
		fl_json_add_str(out, "error", w->err);
	if (c->pressure) {
		oom_add_u64(out, "high_events_before", c->high0);
		oom_add_u64(out, "high_events_after", w->high);
	}
	oom_add_u64(out, "oom_kill_before", c->oom_kill0);
	oom_add_u64(out, "oom_kill_after", w->oom_kill);
	if (c->v1) {
		oom_add_u64(out, "oom_eventfd_notifications", w->oom_events);
		json_object_object_add(out, "thresholds",
				       json_object_new_int(w->thresholds));
		oom_add_u64(out, "threshold_wakeups", w->thresh_wakeups);
	}
	json_object_object_add(out, "prepared",
			       json_object_new_boolean(c->prepared));
}

/* The victim, how it died and what the kernel said; or null. */
static void observed_victim(const struct oom_cfg *c, const struct oom_state *w,
			    size_t vi, const struct oom_kill *kill,
			    json_object *out)
{
	json_object *o = json_object_new_object();
	char buf[64];

	json_object_object_add(o, "pid", json_object_new_int(c->pids[vi]));
	fl_json_add_str(o, "comm", kill ? kill->comm : "?");
	fl_json_add_str(o, "signal", sig_str(w->status[vi], buf, sizeof(buf)));
	if (w->status_from[vi])
		fl_json_add_str(o, "status_from", w->status_from[vi]);
	json_object_object_add(out, "victim", o);
	oom_add_u64(out, "squeeze_to_kill_ms", w->t_dead[vi] > c->t_start ?
		    (w->t_dead[vi] - c->t_start) / NSEC_PER_MSEC : 0);
	if (kill && kill->usage)
		oom_add_u64(out, "memory_at_kill", kill->usage);
	else if (w->usage_dead[vi])
		oom_add_u64(out, "memory_at_kill", w->usage_dead[vi]);
	if (kill) {
		oom_add_u64(out, "victim_rss_at_kill", kill->rss);
		fl_json_add_str(out, "kmsg", kill->line);
	}
}

/* Kills the fault answers for, other than the victim's. */
static void observed_collateral(const struct oom_cfg *c,
				const struct oom_state *w, bool found,
				size_t vi, json_object *out)
{
	json_object *coll = json_object_new_array(), *o;
	size_t k;

	for (k = 0; k < w->log.nkills; k++) {
		if (found && w->log.kills[k].pid == c->pids[vi])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid",
				       json_object_new_int(w->log.kills[k].pid));
		fl_json_add_str(o, "comm", w->log.kills[k].comm);
		json_object_array_add(coll, o);
	}
	json_object_object_add(out, "collateral_kills",
			       json_object_new_int((int)json_object_array_length(coll)));
	json_object_object_add(out, "collateral", coll);
}

void oom_observed(const struct oom_cfg *c, const struct oom_state *w,
		  json_object *out)
{
	const struct oom_kill *kill = NULL;
	json_object *proof;
	size_t vi = 0;
	bool sigkill = false, counter, named = false, found, proven;

	observed_squeeze(c, w, out);
	found = oom_victim(c, w, &vi, &kill);
	if (found) {
		observed_victim(c, w, vi, kill, out);
		sigkill = died_by_sigkill(w, vi);
		named = kill != NULL;
	} else {
		json_object_object_add(out, "victim", NULL);
	}
	if (c->peak_file) {
		oom_add_u64(out, "peak", w->peak);
		fl_json_add_str(out, "peak_file", c->peak_file);
	}
	counter = w->oom_kill > c->oom_kill0;
	proven = found && sigkill && counter && named;
	proof = json_object_new_object();
	json_object_object_add(proof, "sigkill", json_object_new_boolean(sigkill));
	json_object_object_add(proof, "oom_kill_counter",
			       json_object_new_boolean(counter));
	json_object_object_add(proof, "kmsg", json_object_new_boolean(named));
	fl_json_add_str(proof, "exit",
			exit_how(found ? w->status_from[vi] : NULL));
	if (c->capture) {
		fl_json_add_str(proof, "exit_capture", c->capture_why);
	} else if (!c->pressure) {
		char why[400];

		snprintf(why, sizeof(why), "%s: the exit status is read from the zombie, which a parent that reaps at once can take away first",
			 c->capture_why);
		fl_json_add_str(proof, "exit_capture_error", why);
	}
	if (!c->kmsg_ok)
		fl_json_add_str(proof, "kmsg_error", "cannot read /dev/kmsg");
	json_object_object_add(out, "proof", proof);
	json_object_object_add(out, "proven", json_object_new_boolean(proven));
	observed_collateral(c, w, found, vi, out);
	/* What the file expected: the runner's verdict reads this. */
	if (c->pressure)
		fl_expectation(out, w->high > c->high0 && !w->log.nkills,
			       w->log.nkills ? "expect: pressure, but the kernel "
			       "killed a process" : w->high > c->high0 ?
			       "memory.high throttled the target" :
			       "memory.events high did not rise");
	else
		fl_expectation(out, proven, proven ?
			       "a kernel OOM kill, proven by all three signs" :
			       "no proven kernel OOM kill of the target (see "
			       "proof)");
}
