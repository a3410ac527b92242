// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pause fault: freeze a target, so that it neither runs nor answers
 * (a hung database, a long GC pause, a host that stops responding), and
 * thaw it at revert.  See the pause section of docs/design.md, and
 * pause.h for which file holds what.
 *
 * apply resolves where and how (pause_plan.c), refuses what check
 * refuses (things may have changed since: a target frozen or stopped by
 * someone else is never touched), saves the undo record and only then
 * freezes: the freezer cgroup, marked with an xattr naming the run so
 * that recover --scan finds it, or SIGSTOP to each process, recorded
 * with its start time before it is signalled.  live checks that the
 * target stays frozen, observe says what was frozen and for how long,
 * revert thaws from the record alone, and release looks whether the thaw
 * took and adds that to what observe returned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/pause.h"

#define PAUSE_ROUNDS		16

struct pause_rt {
	const struct fl_fault *f;
	const struct pause_spec *s;
	struct pause_where pw;
	struct fl_undo u;		/* the record, kept up to date */
	json_object *state;
	struct pause_pid *pids;		/* SIGNAL: every process seen */
	size_t npid, cap;
	uint64_t t_freeze, t_frozen, t_observe;
	size_t nprocs;			/* processes when frozen */
	bool broken;			/* found thawed during the drill */
	double broken_s;
	json_object *obs;		/* observe's, for release to finish */
};

static void rt_free(struct pause_rt *rt)
{
	if (!rt)
		return;
	json_object_put(rt->state);
	json_object_put(rt->obs);
	free(rt->pids);
	free(rt);
}

static double secs(uint64_t ns)
{
	return (double)ns / NSEC_PER_SEC;
}

/* ------------------------------------------------------------------ */
/* apply                                                               */

static int save(struct pause_rt *rt)
{
	int r = fl_undo_save(&rt->u, rt->state);

	if (r)
		fl_undo_why(&rt->u, "cannot write the undo record: %s",
			    strerror(-r));
	return r;
}

static size_t count_procs(const char *path)
{
	pid_t *v = NULL;
	size_t n = 0;

	fl_cgroup_procs(path, &v, &n);
	free(v);
	return n;
}

static int apply_cgroup(struct pause_rt *rt)
{
	const char *run = fl_journal_id(rt->u.j), *path = rt->pw.path;
	char why[512];
	int r;

	fl_json_add_str(rt->state, "path", path);
	fl_json_add_str(rt->state, "run", run);
	r = save(rt);
	if (r)
		return r;
	/* The mark recover --scan knows it by; cgroupfs takes trusted.*. */
	if (setxattr(path, PAUSE_XATTR, run, strlen(run), 0))
		fl_warn("fault %s: cannot mark %s with %s (%s): recover --scan will not find it if the journal is lost",
			rt->f->name, path, PAUSE_XATTR, strerror(errno));
	rt->t_freeze = fl_now_ns();
	r = pause_freeze(rt->pw.how, path, PAUSE_FREEZE_MS, why, sizeof(why));
	if (r) {
		fl_undo_why(&rt->u, "%s", why);
		return r;
	}
	rt->t_frozen = fl_now_ns();
	rt->nprocs = count_procs(path);
	return 0;
}

static bool seen(const struct pause_rt *rt, const struct pause_pid *p)
{
	size_t i;

	for (i = 0; i < rt->npid; i++)
		if (rt->pids[i].pid == p->pid && rt->pids[i].start == p->start)
			return true;
	return false;
}

static void record_pids(struct pause_rt *rt)
{
	json_object *a = json_object_new_array(), *o;
	size_t i;

	for (i = 0; i < rt->npid; i++) {
		if (rt->pids[i].theirs)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid",
				       json_object_new_int(rt->pids[i].pid));
		json_object_object_add(o, "start",
				       json_object_new_uint64(rt->pids[i].start));
		json_object_array_add(a, o);
	}
	json_object_object_add(rt->state, "pids", a);
}

/*
 * One round: the processes of the tree not seen yet go into the record,
 * then get SIGSTOP.  *added: how many were new.
 */
static int stop_round(struct pause_rt *rt, size_t *added)
{
	struct pause_pid *v;
	size_t n, i, first = rt->npid;
	int r;

	*added = 0;
	r = pause_tree(rt->pw.pid, rt->s->follow_forks, &v, &n);
	if (r)
		return r;
	for (i = 0; i < n && !r; i++) {
		if (seen(rt, &v[i]))
			continue;
		r = FL_GROW(rt->pids, rt->cap, rt->npid, 16);
		if (r)
			break;
		v[i].theirs = fl_pid_state(v[i].pid) == 'T';
		rt->pids[rt->npid++] = v[i];
		(*added)++;
	}
	free(v);
	if (r || !*added)
		return r;
	record_pids(rt);
	r = save(rt);
	for (i = first; i < rt->npid && !r; i++) {
		if (rt->pids[i].theirs)
			continue;
		r = pause_stop_one(&rt->pids[i], PAUSE_FREEZE_MS);
		if (r == -ESRCH && rt->pids[i].pid != rt->pw.pid)
			r = 0;		/* a child that exited meanwhile */
		if (r)
			fl_undo_why(&rt->u, "PID %d: %s", (int)rt->pids[i].pid,
				    r == -ETIMEDOUT ?
				    "did not stop within 5 s of SIGSTOP" :
				    strerror(-r));
	}
	return r;
}

/* Until a round finds nothing new: a process may fork before its stop. */
static int apply_signal(struct pause_rt *rt)
{
	size_t added = 1;
	int r = 0, i;

	rt->t_freeze = fl_now_ns();
	for (i = 0; i < PAUSE_ROUNDS && added && !r; i++)
		r = stop_round(rt, &added);
	if (r)
		return r;
	rt->t_frozen = fl_now_ns();
	for (added = 0; added < rt->npid; added++)
		rt->nprocs += !rt->pids[added].theirs;
	return 0;
}

static int pause_apply(const struct fl_fault *f, struct fl_undo *u,
		       void **rtp)
{
	const struct pause_spec *s = f->priv;
	struct pause_rt *rt;
	char why[1024] = "";
	int r;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->f = f;
	rt->s = s;
	rt->u = *u;
	r = pause_resolve(s, &rt->pw, why, sizeof(why));
	if (!r && rt->pw.how != PAUSE_SIGNAL && !rt->pw.path[0]) {
		snprintf(why, sizeof(why), "target %s: the command has no v2 scratch cgroup to freeze",
			 s->target_name);
		r = -EOPNOTSUPP;
	}
	if (!r && rt->pw.how == PAUSE_SIGNAL && rt->pw.pid <= 0) {
		snprintf(why, sizeof(why), "target %s: no process to stop",
			 s->target_name);
		r = -ESRCH;
	}
	if (!r)
		r = pause_refuse(s, &rt->pw, why, sizeof(why));
	if (r) {
		fl_undo_why(u, "%s", why);
		rt_free(rt);
		return r;
	}
	rt->state = json_object_new_object();
	fl_json_add_str(rt->state, "how", pause_how_name(rt->pw.how));
	fl_json_add_str(rt->state, "target", s->target_name);
	r = rt->pw.how == PAUSE_SIGNAL ? apply_signal(rt) : apply_cgroup(rt);
	/* The record's seq and why go back to the runner's u. */
	u->seq = rt->u.seq;
	if (rt->u.why) {
		u->why = rt->u.why;
		rt->u.why = NULL;
	}
	if (r) {
		rt_free(rt);
		return r;
	}
	*rtp = rt;
	return 0;
}

/* ------------------------------------------------------------------ */
/* live, observe, release                                              */

/* Is it frozen now; the processes counted. */
static bool still_frozen(struct pause_rt *rt, size_t *procs)
{
	bool self, all = true;
	size_t i;

	*procs = 0;
	if (rt->pw.how != PAUSE_SIGNAL) {
		*procs = count_procs(rt->pw.path);
		return pause_frozen(rt->pw.how, rt->pw.path, &self) == 1 && self;
	}
	for (i = 0; i < rt->npid; i++) {
		if (rt->pids[i].theirs ||
		    !fl_pid_alive(rt->pids[i].pid, rt->pids[i].start))
			continue;
		if (pause_is_stopped(&rt->pids[i]))
			(*procs)++;
		else
			all = false;
	}
	return all;
}

static void look(struct pause_rt *rt, json_object *out, char *sum,
		 size_t len)
{
	uint64_t now = fl_now_ns();
	bool frozen;
	size_t procs;

	frozen = still_frozen(rt, &procs);
	if (!frozen && !rt->broken) {
		rt->broken = true;
		rt->broken_s = secs(now - rt->t_frozen);
	}
	json_object_object_add(out, "frozen", json_object_new_boolean(frozen));
	json_object_object_add(out, "frozen_s",
			       json_object_new_double(secs(now - rt->t_frozen)));
	json_object_object_add(out, "processes",
			       json_object_new_int64((int64_t)procs));
	if (rt->broken)
		snprintf(sum, len, "thawed by someone else %.1f s after the freeze; %zu process%s still %s",
			 rt->broken_s, procs, procs == 1 ? "" : "es",
			 rt->pw.how == PAUSE_SIGNAL ? "stopped" : "in it");
	else
		snprintf(sum, len, "%s %.0f s, %zu process%s",
			 rt->pw.how == PAUSE_SIGNAL ? "stopped" : "frozen",
			 secs(now - rt->t_frozen), procs,
			 procs == 1 ? "" : "es");
}

static int pause_live(void *handle, json_object *out)
{
	struct pause_rt *rt = handle;
	char sum[256];

	if (!rt)
		return -ENOENT;
	look(rt, out, sum, sizeof(sum));
	fl_json_add_str(out, "summary", sum);
	return 0;
}

static json_object *what_frozen(const struct pause_rt *rt)
{
	json_object *a = json_object_new_array();
	pid_t *v = NULL;
	size_t n = 0, i;

	if (rt->pw.how != PAUSE_SIGNAL) {
		fl_cgroup_procs(rt->pw.path, &v, &n);
		for (i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int(v[i]));
		free(v);
		return a;
	}
	for (i = 0; i < rt->npid; i++)
		if (!rt->pids[i].theirs)
			json_object_array_add(a,
				json_object_new_int(rt->pids[i].pid));
	return a;
}

static int pause_observe(void *handle, json_object *out)
{
	struct pause_rt *rt = handle;
	char sum[256], detail[PATH_MAX + 128], what[PATH_MAX + 64];

	if (!rt)
		return -ENOENT;
	if (rt->pw.path[0])
		snprintf(what, sizeof(what), "%s", rt->pw.path);
	else
		snprintf(what, sizeof(what), "PID %d%s", (int)rt->pw.pid,
			 rt->s->follow_forks ? " and its descendants" : "");
	look(rt, out, sum, sizeof(sum));
	rt->t_observe = fl_now_ns();
	fl_json_add_str(out, "how", pause_how_name(rt->pw.how));
	if (rt->pw.path[0])
		fl_json_add_str(out, "cgroup", rt->pw.path);
	json_object_object_add(out, "pids", what_frozen(rt));
	json_object_object_add(out, "processes_frozen",
			       json_object_new_int64((int64_t)rt->nprocs));
	json_object_object_add(out, "freeze_ms", json_object_new_double(
		(double)(rt->t_frozen - rt->t_freeze) / NSEC_PER_MSEC));
	json_object_object_add(out, "held", json_object_new_boolean(!rt->broken));
	if (rt->broken)
		snprintf(detail, sizeof(detail), "%s %s, but %s by someone else %.1f s after the freeze",
			 what, rt->pw.how == PAUSE_SIGNAL ? "stopped" : "frozen",
			 rt->pw.how == PAUSE_SIGNAL ? "resumed" : "thawed",
			 rt->broken_s);
	else
		snprintf(detail, sizeof(detail), "%s %s for %.1f s (%zu process%s)",
			 what, rt->pw.how == PAUSE_SIGNAL ? "stopped" : "frozen",
			 secs(rt->t_observe - rt->t_frozen), rt->nprocs,
			 rt->nprocs == 1 ? "" : "es");
	fl_expectation(out, !rt->broken, detail);
	rt->obs = json_object_get(out);
	return 0;
}

/*
 * After revert: did the thaw take?  The report's "thawed", and the
 * expectation fails when the target is still frozen.
 */
static void finish_observed(struct pause_rt *rt)
{
	json_object *e = fl_json_get(rt->obs, "expectation");
	bool self, thawed = false;
	char detail[PATH_MAX + 256];
	size_t procs;
	int waited;

	for (waited = 0; waited <= PAUSE_THAW_MS && !thawed; waited += 20) {
		if (rt->pw.how == PAUSE_SIGNAL)
			thawed = (still_frozen(rt, &procs), !procs);
		else
			thawed = pause_frozen(rt->pw.how, rt->pw.path,
					      &self) != 1;
		if (!thawed)
			usleep(20000);
	}
	json_object_object_add(rt->obs, "thawed",
			       json_object_new_boolean(thawed));
	if (!e)
		return;
	snprintf(detail, sizeof(detail), "%s; %s",
		 fl_json_str(e, "detail", ""), thawed ? "thawed at revert" :
		 "STILL FROZEN after revert");
	fl_expectation(rt->obs, !rt->broken && thawed, detail);
}

static void pause_release(void *handle)
{
	struct pause_rt *rt = handle;

	if (!rt)
		return;
	if (rt->obs)
		finish_observed(rt);
	rt_free(rt);
}

/* ------------------------------------------------------------------ */
/* revert, from the record alone                                       */

static void unmark(const char *path, const char *run)
{
	char val[128];
	ssize_t n;

	n = getxattr(path, PAUSE_XATTR, val, sizeof(val) - 1);
	if (n < 0)
		return;
	val[n] = '\0';
	if (!run || !strcmp(val, run))
		removexattr(path, PAUSE_XATTR);
}

static int revert_pids(json_object *pids)
{
	struct pause_pid p;
	json_object *o;
	size_t i;
	int r, ret = 0;

	if (!json_object_is_type(pids, json_type_array))
		return -EINVAL;
	for (i = 0; i < json_object_array_length(pids); i++) {
		o = json_object_array_get_idx(pids, i);
		p.pid = json_object_get_int(fl_json_get(o, "pid"));
		p.start = json_object_get_uint64(fl_json_get(o, "start"));
		if (p.pid <= 0 || !p.start)
			continue;
		r = pause_cont(&p);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int pause_revert(json_object *state)
{
	const char *how = fl_json_str(state, "how", ""), *path;
	enum pause_how h;
	int r;

	if (!strcmp(how, "signal"))
		return fl_json_get(state, "pids") ?
		       revert_pids(fl_json_get(state, "pids")) : 0;
	if (!strcmp(how, "v2"))
		h = PAUSE_V2;
	else if (!strcmp(how, "v1"))
		h = PAUSE_V1;
	else
		return -EINVAL;
	path = fl_json_str(state, "path", NULL);
	if (!path)
		return 0;	/* saved before it knew: nothing changed */
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;
	r = pause_thaw(h, path);
	if (!r)
		unmark(path, fl_json_str(state, "run", NULL));
	return r;
}

const struct fl_engine pause_engine = {
	FL_ENGINE_OPS(pause, "#3498db",
		      "freeze a target (cgroup freezer, or SIGSTOP) and thaw it at revert"),
	.scan = pause_scan,
};
