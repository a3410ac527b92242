// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kill fault: send a signal (SIGKILL unless the file names another)
 * to a target's processes, all of them or one picked, and prove each
 * death by the exit status seen as the victim exits.  See the kill
 * section of docs/design.md, and kill.h for which file holds what.
 *
 * apply lists the target's processes (kill_procs.c), refuses what is
 * never killed (init, faultline, its guardian and ancestors, kernel
 * threads) as check did, picks the victims, opens a pidfd on each and
 * checks its start time (a pid reused since is never signalled), saves
 * the undo record naming them, starts the exit watch and only then
 * sends the signal through the pidfds.  live and observe collect the
 * exits; observe waits a moment for those still alive.  There is nothing to undo:
 * revert (from the record alone, in the guardian or recover too) sends
 * nothing again and says so.  With repeat: each occurrence is an apply
 * of its own, which kills again.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/kill.h"


#define KILL_POLL_US		2000

struct kill_rt {
	const struct fl_fault *f;
	const struct kill_spec *s;
	struct kill_victim *v;
	size_t n;
	struct kill_proof *pf;
	char proof_why[256];		/* how deaths are seen, or why not */
	uint64_t t_sent;
	unsigned int draw;
	size_t nprocs;			/* the target's processes at apply */
};

static void rt_free(struct kill_rt *rt)
{
	size_t i;

	if (!rt)
		return;
	kill_proof_stop(rt->pf);
	for (i = 0; i < rt->n; i++)
		if (rt->v[i].pidfd >= 0)
			close(rt->v[i].pidfd);
	free(rt->v);
	free(rt);
}

/* ------------------------------------------------------------------ */
/* apply                                                               */

/* The victims picked, each with a pidfd on the process it was. */
static int victims(struct kill_rt *rt, char *why, size_t len)
{
	const struct kill_spec *s = rt->s;
	struct kill_proc *procs;
	size_t n, i, *idx, nidx;
	char key[128];
	pid_t main_pid;
	int r, fd;

	r = kill_list(s, &procs, &n, &main_pid, why, len);
	if (r)
		return r;
	rt->nprocs = n;
	if (!n) {
		snprintf(why, len, "target %s: no process to kill", s->target_name);
		r = -ESRCH;
	}
	idx = r ? NULL : calloc(n, sizeof(*idx));
	rt->v = r ? NULL : calloc(n, sizeof(*rt->v));
	if (!r && (!idx || !rt->v))
		r = -ENOMEM;
	if (r)
		goto out;
	kill_draw_key(rt->f, key, sizeof(key));
	kill_pick(s, procs, n, main_pid, key, rt->draw, idx, &nidx);
	for (i = 0; i < nidx; i++) {
		const struct kill_proc *p = &procs[idx[i]];

		fd = fl_pidfd_open(p->pid);
		/* Opened on the process it was, or it is gone. */
		if (fd < 0 || fl_pid_start_time(p->pid) != p->start) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		rt->v[rt->n].p = *p;
		rt->v[rt->n].pidfd = fd;
		rt->n++;
	}
	if (!rt->n) {
		snprintf(why, len, "target %s: its processes exited before the signal",
			 s->target_name);
		r = -ESRCH;
	}
out:
	free(idx);
	free(procs);
	return r;
}

static json_object *state_of(const struct kill_rt *rt)
{
	json_object *st = json_object_new_object(), *a, *o;
	char sig[32];
	size_t i;

	fl_json_add_str(st, "target", rt->s->target_name);
	fl_json_add_str(st, "signal",
			kill_sig_name(rt->s->sig, sig, sizeof(sig)));
	fl_json_add_str(st, "pick", kill_pick_names[rt->s->pick]);
	a = json_object_new_array();
	for (i = 0; i < rt->n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "pid",
				       json_object_new_int(rt->v[i].p.pid));
		json_object_object_add(o, "start",
				       json_object_new_uint64(rt->v[i].p.start));
		fl_json_add_str(o, "comm", rt->v[i].p.comm);
		json_object_array_add(a, o);
	}
	json_object_object_add(st, "victims", a);
	return st;
}

static bool all_dead(const struct kill_rt *rt)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (!rt->v[i].sent && !rt->v[i].dead)
			return false;
	return true;
}

/* Through the pidfds; the deaths show in live and observe. */
static int send_all(struct kill_rt *rt, char *why, size_t len)
{
	size_t i, sent = 0;

	rt->t_sent = fl_now_ns();
	for (i = 0; i < rt->n; i++) {
		if (fl_pidfd_signal(rt->v[i].pidfd, rt->s->sig))
			rt->v[i].sent = -errno;
		else
			sent++;
	}
	if (!sent) {
		snprintf(why, len, "PID %d: %s", (int)rt->v[0].p.pid,
			 strerror(-rt->v[0].sent));
		return rt->v[0].sent;
	}
	return 0;
}

/*
 * The exits that wait; at the end of the window, up to a moment more for
 * those signalled together with a process whose exit ended the fault.
 */
static void collect(struct kill_rt *rt, int wait_ms)
{
	int waited;

	for (waited = 0;; waited += KILL_POLL_US) {
		kill_proof_read(rt->pf, rt->v, rt->n);
		if (all_dead(rt) || waited >= wait_ms * 1000)
			break;
		usleep(KILL_POLL_US);
	}
}

static int kill_apply(const struct fl_fault *f, struct fl_undo *u, void **rtp)
{
	struct kill_spec *s = f->priv;
	json_object *st;
	struct kill_rt *rt;
	char why[1024] = "";
	int r;

	/* parse made s and its target: apply runs for no other fault. */
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->f = f;
	rt->s = s;
	rt->draw = s->pick == KILL_PICK_RANDOM ? s->draws++ : 0;
	r = victims(rt, why, sizeof(why));
	if (r)
		goto fail;
	/* The record first: what was signalled, never signalled again. */
	st = state_of(rt);
	r = fl_undo_save(u, st);
	json_object_put(st);
	if (r) {
		snprintf(why, sizeof(why), "cannot write the undo record: %s",
			 strerror(-r));
		goto fail;
	}
	kill_proof_start(rt->v, rt->n, &rt->pf, rt->proof_why,
			 sizeof(rt->proof_why));
	if (!rt->pf)
		fl_warn("fault %s: the victims' exit statuses cannot be captured (%s): their deaths are seen, but not proven",
			f->name, rt->proof_why);
	r = send_all(rt, why, sizeof(why));
	if (r)
		goto fail;
	*rtp = rt;
	return 0;
fail:
	fl_undo_why(u, "%s", why);
	rt_free(rt);
	return r;
}

/* ------------------------------------------------------------------ */
/* live, observe, release                                              */

static size_t count_dead(const struct kill_rt *rt, size_t *sent)
{
	size_t i, dead = 0;

	*sent = 0;
	for (i = 0; i < rt->n; i++) {
		*sent += !rt->v[i].sent;
		dead += !rt->v[i].sent && rt->v[i].dead;
	}
	return dead;
}

static int kill_live(void *handle, json_object *out)
{
	struct kill_rt *rt = handle;
	size_t dead, sent;
	char sum[256], sig[32];

	if (!rt)
		return -ENOENT;
	collect(rt, 0);
	dead = count_dead(rt, &sent);
	json_object_object_add(out, "signalled", json_object_new_int64((int64_t)sent));
	json_object_object_add(out, "dead", json_object_new_int64((int64_t)dead));
	if (rt->n == 1)
		snprintf(sum, sizeof(sum), "%s to PID %d (%s): %s",
			 kill_sig_name(rt->s->sig, sig, sizeof(sig)),
			 (int)rt->v[0].p.pid, rt->v[0].p.comm,
			 dead ? "dead" : "still alive");
	else
		snprintf(sum, sizeof(sum), "%s to %zu processes: %zu dead",
			 kill_sig_name(rt->s->sig, sig, sizeof(sig)), sent, dead);
	fl_json_add_str(out, "summary", sum);
	return 0;
}

/* How victim v ended: "killed by SIGKILL", "exited 0", ... */
static void how_died(const struct kill_victim *v, char *buf, size_t len)
{
	char sig[32];

	if (!v->dead)
		snprintf(buf, len, "still alive");
	else if (!v->seen)
		snprintf(buf, len, "exited, how not seen");
	else if (WIFSIGNALED(v->status))
		snprintf(buf, len, "killed by %s%s",
			 kill_sig_name(WTERMSIG(v->status), sig, sizeof(sig)),
			 WCOREDUMP(v->status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(v->status));
}

/* proven: the exit was seen, by our signal or by the exit it led to. */
static const char *not_proven(const struct kill_rt *rt,
			      const struct kill_victim *v, char *buf,
			      size_t len)
{
	char sig[32];

	if (v->sent) {
		snprintf(buf, len, "the signal was not sent: %s",
			 strerror(-v->sent));
		return buf;
	}
	if (!v->dead) {
		snprintf(buf, len, "no exit within the fault's window: the process %s %s",
			 rt->s->sig == SIGKILL ? "could not be killed (stuck in the kernel?) by" :
			 "ignored or handled", kill_sig_name(rt->s->sig, sig, sizeof(sig)));
		return buf;
	}
	if (!v->seen) {
		snprintf(buf, len, "its pidfd saw it exit, but its exit status was not captured (%s)",
			 rt->proof_why);
		return buf;
	}
	return NULL;
}

static json_object *victim_json(const struct kill_rt *rt,
				const struct kill_victim *v)
{
	json_object *o = json_object_new_object();
	char sig[32], how[96], why[512];
	const char *no = not_proven(rt, v, why, sizeof(why));

	json_object_object_add(o, "pid", json_object_new_int(v->p.pid));
	fl_json_add_str(o, "comm", v->p.comm);
	fl_json_add_str(o, "signal",
			kill_sig_name(rt->s->sig, sig, sizeof(sig)));
	json_object_object_add(o, "signo", json_object_new_int(rt->s->sig));
	json_object_object_add(o, "sent", json_object_new_boolean(!v->sent));
	json_object_object_add(o, "dead", json_object_new_boolean(v->dead));
	how_died(v, how, sizeof(how));
	fl_json_add_str(o, "how", how);
	if (v->seen && WIFSIGNALED(v->status))
		json_object_object_add(o, "exit_signal",
				       json_object_new_int(WTERMSIG(v->status)));
	else if (v->seen)
		json_object_object_add(o, "exit_status",
				       json_object_new_int(WEXITSTATUS(v->status)));
	if (v->dead && v->t_dead >= rt->t_sent)
		json_object_object_add(o, "died_ms", json_object_new_double(
			(double)(v->t_dead - rt->t_sent) / NSEC_PER_MSEC));
	json_object_object_add(o, "proven", json_object_new_boolean(!no));
	if (no)
		fl_json_add_str(o, "why", no);
	return o;
}

/* "PID 12 (redis-server) killed by SIGKILL 0.2 ms after the signal; ..." */
static void detail_one(const struct kill_rt *rt, const struct kill_victim *v,
		       char *buf, size_t len)
{
	char how[96], sig[32], after[64] = "";

	how_died(v, how, sizeof(how));
	if (v->dead && v->t_dead >= rt->t_sent)
		snprintf(after, sizeof(after), " %.1f ms after the signal",
			 (double)(v->t_dead - rt->t_sent) / NSEC_PER_MSEC);
	if (!v->dead)
		snprintf(buf, len, "PID %d (%s) still alive at the end of the window after %s",
			 (int)v->p.pid, v->p.comm,
			 kill_sig_name(rt->s->sig, sig, sizeof(sig)));
	else
		snprintf(buf, len, "PID %d (%s) %s%s; %s", (int)v->p.pid,
			 v->p.comm, how, after, v->seen ?
			 "proven by its exit status" :
			 "its exit status was not seen: not proven");
}

static void detail_of(const struct kill_rt *rt, char *buf, size_t len)
{
	size_t i, dead, sent, proven = 0;

	if (rt->n == 1) {
		detail_one(rt, &rt->v[0], buf, len);
		return;
	}
	dead = count_dead(rt, &sent);
	for (i = 0; i < rt->n; i++)
		proven += rt->v[i].seen;
	snprintf(buf, len, "%zu of %zu processes signalled are dead, %zu proven by their exit status",
		 dead, sent, proven);
}

static int kill_observe(void *handle, json_object *out)
{
	struct kill_rt *rt = handle;
	json_object *a;
	size_t i, dead, sent;
	char detail[512], sig[32];

	if (!rt)
		return -ENOENT;
	collect(rt, KILL_OBSERVE_WAIT_MS);
	fl_json_add_str(out, "target", rt->s->target_name);
	fl_json_add_str(out, "signal",
			kill_sig_name(rt->s->sig, sig, sizeof(sig)));
	fl_json_add_str(out, "pick", kill_pick_names[rt->s->pick]);
	if (rt->s->pick == KILL_PICK_RANDOM) {
		json_object_object_add(out, "seed",
				       json_object_new_uint64(rt->s->exp->seed));
		json_object_object_add(out, "draw", json_object_new_int(rt->draw));
	}
	json_object_object_add(out, "processes",
			       json_object_new_int64((int64_t)rt->nprocs));
	fl_json_add_str(out, "proof", rt->pf ? rt->proof_why : "pidfd only");
	if (!rt->pf)
		fl_json_add_str(out, "proof_why", rt->proof_why);
	a = json_object_new_array();
	for (i = 0; i < rt->n; i++)
		json_object_array_add(a, victim_json(rt, &rt->v[i]));
	json_object_object_add(out, "victims", a);
	dead = count_dead(rt, &sent);
	detail_of(rt, detail, sizeof(detail));
	fl_expectation(out, sent && dead == sent, detail);
	return 0;
}

static void kill_release(void *handle)
{
	rt_free(handle);
}

/* ------------------------------------------------------------------ */
/* revert, from the record alone                                       */

/*
 * A signal sent cannot be taken back, and a kill is never sent again:
 * the record only says who was to be signalled, so that a crash in the
 * middle leaves an account of it (docs/design.md).  Done at once, in
 * the runner, the guardian and recover alike: the record is dropped.
 * (fl_revert_gone() would say so, but as a warning on every run.)
 */
int kill_revert(json_object *state)
{
	return json_object_is_type(state, json_type_object) ? 0 : -EINVAL;
}

const struct fl_engine kill_engine = {
	FL_ENGINE_OPS(kill, "#c0392b",
		      "send a signal (SIGKILL) to a target's processes and prove each death"),
};
