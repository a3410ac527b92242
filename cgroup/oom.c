// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault: squeeze a target's memory cgroup until the kernel's OOM
 * killer takes it (or, with expect: pressure, throttle it through
 * memory.high).  See the OOM section of docs/design.md, and oom.h for
 * which file holds what.  libcgroup is reached through cgroup/cg.c only.
 *
 * apply resolves the cgroup, refuses what check refuses (things may have
 * changed since), saves the undo record, makes the scratch cgroup and
 * moves the target when asked, sets the swap limit to 0, opens the
 * witnesses (a pidfd on the victim and the exit capture, /dev/kmsg at
 * its end, the v1 eventfds or the v2 inotify watch) and writes the first
 * limit with a short timeout.  What does not depend on the instant is
 * opened before the timeline by prepare (oom_prep.c), and apply takes it
 * over when the cgroup is still the one prepared.  The watcher thread
 * (oom_squeeze.c) then carries on.  The handle apply returns is the
 * fault's runtime: live reads the watcher's snapshot, observe stops the
 * watcher and reads what it found, revert works from the record
 * (oom_revert.c), release frees the handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/memcg.h"
#include "cgroup/oom.h"


static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The engine's release; also what frees a prepared handle. */
void oom_release(void *handle)
{
	struct oom_rt *rt = handle;
	size_t i;

	if (!rt)
		return;
	oom_watch_stop(rt);
	oom_capture_stop(rt);
	for (i = 0; i < rt->c.npid; i++)
		close_fd(rt->pidfds[i]);
	close_fd(rt->stopfd);
	close_fd(rt->kmsgfd);
	close_fd(rt->evfd);
	close_fd(rt->ctlfd);
	close_fd(rt->inofd);
	close_fd(rt->ecfd);
	close_fd(rt->thrfd);
	close_fd(rt->usefd);
	close_fd(rt->limfd);
	close_fd(rt->swfd);
	json_object_put(rt->state);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

struct oom_rt *oom_rt_new(const struct fl_fault *f)
{
	const struct oom_spec *s = f->priv;
	struct oom_rt *rt = calloc(1, sizeof(*rt));
	struct oom_cfg *c;
	size_t i;

	if (!rt)
		return NULL;
	c = &rt->c;
	pthread_mutex_init(&rt->lock, NULL);
	c->f = f;
	c->s = s;
	c->v1 = fl_kernel_get()->memory_mode == FL_CG_V1;
	c->pressure = s->expect == OOM_EXPECT_PRESSURE;
	c->limit_file = c->pressure ? "memory.high" : c->v1 ?
			"memory.limit_in_bytes" : "memory.max";
	c->usage_file = c->v1 ? "memory.usage_in_bytes" : "memory.current";
	rt->stopfd = rt->kmsgfd = rt->evfd = rt->ctlfd = rt->inofd = -1;
	rt->ecfd = rt->thrfd = rt->usefd = rt->limfd = rt->swfd = -1;
	rt->v1_tries = OOM_V1_TRIES;
	rt->w.limit = UINT64_MAX;
	for (i = 0; i < OOM_MAX_PIDS; i++) {
		rt->pidfds[i] = -1;
		rt->w.status[i] = -1;
	}
	return rt;
}

/* Warn when systemd manages the cgroup and has not delegated it. */
static void oom_systemd_warn(const struct oom_rt *rt)
{
	char dir[PATH_MAX], *p, *unit = NULL;
	bool delegated = false;

	snprintf(dir, sizeof(dir), "%s", rt->c.path);
	for (p = strrchr(dir, '/'); p && p > dir; p = strrchr(dir, '/')) {
		size_t n = strlen(p);

		if (!unit && ((n > 8 && !strcmp(p + n - 8, ".service")) ||
			      (n > 6 && !strcmp(p + n - 6, ".scope"))))
			unit = strdup(p + 1);
		if (getxattr(dir, "trusted.delegate", NULL, 0) >= 0 ||
		    getxattr(dir, "user.delegate", NULL, 0) >= 0)
			delegated = true;
		*p = 0;
	}
	if (unit && !delegated)
		fl_warn("fault %s: %s is managed by systemd (%s) and not delegated (no Delegate=yes): systemd may rewrite its memory limits while the squeeze is on",
			rt->c.f->name, rt->c.path, unit);
	free(unit);
}

bool oom_new_scratch(const struct oom_cfg *c)
{
	return c->s->target->kind == FL_TARGET_PID &&
	       c->s->cgroup == OOM_CG_SCRATCH;
}

/*
 * Which cgroup: where core says the target is now.  from is a pid's own
 * cgroup, which cgroup: scratch moves it out of.
 */
int oom_where(struct oom_rt *rt, struct fl_undo *u, char *from, size_t len)
{
	const char *root = fl_kernel_get()->memory_root;
	const struct fl_target *t = rt->c.s->target;
	char *path = rt->c.path, why[256];
	size_t n = strlen(root);
	struct fl_where w;
	int r;

	r = fl_target_where(t, &w, why, sizeof(why));
	switch (t->kind) {
	case FL_TARGET_COMMAND:
		if (r || !w.memory[0] || !w.pid) {
			fl_undo_why(u, "target %s: the command has no scratch memory cgroup to squeeze",
				    t->name);
			return -EOPNOTSUPP;
		}
		snprintf(path, PATH_MAX, "%s", w.memory);
		break;
	case FL_TARGET_CGROUP:
		if (!r && !w.memory[0])
			r = -ENOENT;	/* check refuses it first */
		if (r)
			return r;
		snprintf(path, PATH_MAX, "%s", w.memory);
		break;
	case FL_TARGET_PID:
		if (!r && !w.memory[0])
			r = -ENOENT;
		if (r) {
			fl_undo_why(u, "target %s: cannot find the memory cgroup of PID %d: %s",
				    t->name, (int)t->pid, strerror(-r));
			return r;
		}
		snprintf(from, len, "%s", w.memory);
		oom_strip_slashes(from);
		if (rt->c.s->cgroup == OOM_CG_OWN)
			snprintf(path, PATH_MAX, "%s", from);
		else
			snprintf(path, PATH_MAX, "%s/" FL_SCRATCH_PREFIX "%s-%s", root,
				 fl_journal_id(u->j), rt->c.f->name);
		break;
	}
	oom_strip_slashes(path);
	snprintf(rt->c.rel, sizeof(rt->c.rel), "%s",
		 !strncmp(path, root, n) ? path + n : path);
	return 0;
}

/* What check refuses about the cgroup, once more at apply. */
static int oom_refuse(struct oom_rt *rt, struct fl_undo *u)
{
	const char *name = rt->c.s->target->name, *path = rt->c.path;
	char self[PATH_MAX + 64], buf[64];

	if (!strcmp(path, fl_kernel_get()->memory_root)) {
		fl_undo_why(u, "target %s: %s is the root memory cgroup, which cannot be limited",
			    name, path);
		return -EOPNOTSUPP;
	}
	if (oom_new_scratch(&rt->c))
		return 0;
	if (!oom_pid_memcg(getpid(), self, sizeof(self)) &&
	    oom_is_under(self, path)) {
		fl_undo_why(u, "target %s: cgroup %s contains faultline itself",
			    name, path);
		return -EOPNOTSUPP;
	}
	if (!rt->c.v1 && !cg_read(path, "cgroup.type", buf, sizeof(buf)) &&
	    strcmp(buf, "domain")) {
		fl_undo_why(u, "target %s: %s is a %s cgroup; the memory controller needs a domain cgroup",
			    name, path, buf);
		return -EOPNOTSUPP;
	}
	oom_systemd_warn(rt);
	return 0;
}

/* The state revert works from: what to write back, in order. */
static void add_restore(json_object *a, const char *dir, const char *file)
{
	char val[64];
	json_object *o;

	if (cg_read(dir, file, val, sizeof(val)) || !val[0])
		return;
	o = json_object_new_object();
	fl_json_add_str(o, "file", file);
	fl_json_add_str(o, "value", val);
	json_object_array_add(a, o);
}

/* The undo record, before anything changes. */
static json_object *oom_undo_state(struct oom_rt *rt, const char *from)
{
	struct oom_cfg *c = &rt->c;
	json_object *state = json_object_new_object();
	json_object *restore = json_object_new_array(), *sc;
	char memsw[PATH_MAX + 64];

	fl_json_add_str(state, "mode", c->v1 ? "v1" : "v2");
	fl_json_add_str(state, "path", c->path);
	if (rt->sw_path[0])
		fl_json_add_str(state, "switch", rt->sw_path);
	if (c->v1) {
		snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes",
			 oom_new_scratch(c) ? fl_kernel_get()->memory_root : c->path);
		c->memsw = !access(memsw, F_OK);
	}
	if (oom_new_scratch(c)) {
		/* A new cgroup: nothing to restore but the folder itself. */
		sc = json_object_new_object();
		fl_json_add_str(sc, "path", c->path);
		fl_json_add_str(sc, "from", from);
		json_object_object_add(sc, "pid",
				       json_object_new_int(c->s->target->pid));
		json_object_object_add(state, "scratch", sc);
	} else if (c->v1) {
		/* Raise memsw before the memory limit. */
		if (c->memsw)
			add_restore(restore, c->path,
				    "memory.memsw.limit_in_bytes");
		add_restore(restore, c->path, "memory.limit_in_bytes");
	} else {
		add_restore(restore, c->path, "memory.max");
		add_restore(restore, c->path, "memory.swap.max");
		add_restore(restore, c->path, "memory.high");
	}
	json_object_object_add(state, "restore", restore);
	return state;
}

int oom_save(struct oom_rt *rt, struct fl_undo *u, const char *from)
{
	struct oom_cfg *c = &rt->c;
	json_object *state = oom_undo_state(rt, from);
	int r;

	r = fl_undo_save(u, state);
	if (r) {
		json_object_put(state);
		return r;
	}
	/* live keeps the record up to date through its own copy of u. */
	rt->u.j = u->j;
	rt->u.f = u->f;
	rt->u.seq = u->seq;
	rt->state = state;
	c->wfile[c->nw++] = c->limit_file;
	if (!c->pressure && !c->s->swap && c->v1 && c->memsw)
		c->wfile[c->nw++] = "memory.memsw.limit_in_bytes";
	else if (!c->pressure && !c->s->swap && !c->v1)
		c->wfile[c->nw++] = "memory.swap.max";
	return 0;
}

/*
 * Keep the undo record up to date (main thread only: apply, live,
 * observe), from a state of the watcher's: what the kernel reported after
 * faultline's last write to each file it writes ("wrote"), and someone
 * else's value once the watcher found one ("foreign").  revert from the
 * record alone tells its own leftovers from someone else's with them.
 */
static void oom_record(struct oom_rt *rt, const struct oom_state *st)
{
	const struct oom_cfg *c = &rt->c;
	json_object *wrote, *fo;
	bool changed = false;
	int i;

	if (!rt->state || !rt->u.j)
		return;
	for (i = 0; i < c->nw; i++)
		changed |= strcmp(st->seen[i], rt->saved_seen[i]) != 0;
	changed |= st->foreign != rt->saved_foreign;
	if (!changed)
		return;
	wrote = json_object_new_object();
	for (i = 0; i < c->nw; i++) {
		if (st->seen[i][0])
			fl_json_add_str(wrote, c->wfile[i], st->seen[i]);
		memcpy(rt->saved_seen[i], st->seen[i], sizeof(st->seen[i]));
	}
	json_object_object_add(rt->state, "wrote", wrote);
	if (st->foreign) {
		fo = json_object_new_object();
		fl_json_add_str(fo, "file", c->wfile[st->ffile]);
		fl_json_add_str(fo, "wrote", st->seen[st->ffile]);
		fl_json_add_str(fo, "found", st->found);
		json_object_object_add(rt->state, "foreign", fo);
	}
	rt->saved_foreign = st->foreign;
	fl_undo_save(&rt->u, rt->state);
}

/* cgroup: scratch for a pid: the new cgroup, and the process in it. */
static int oom_move(struct oom_rt *rt, struct fl_undo *u)
{
	const struct fl_target *t = rt->c.s->target;
	int r;

	if (!oom_new_scratch(&rt->c))
		return 0;
	r = cg_create(rt->c.path);
	if (!r)
		r = cg_move_procs(rt->c.path, t->pid);
	if (r)
		fl_undo_why(u, "cannot move PID %d into %s: %s", (int)t->pid,
			    rt->c.path, strerror(-r));
	return r;
}

/* The processes to watch, each through a pidfd. */
static int oom_watch_pids(struct oom_rt *rt, struct fl_undo *u)
{
	const struct fl_target *t = rt->c.s->target;
	struct oom_cfg *c = &rt->c;
	pid_t *procs = NULL;
	size_t nprocs = 0, i;

	if (t->kind == FL_TARGET_CGROUP) {
		fl_cgroup_procs(c->path, &procs, &nprocs);
		for (i = 0; i < nprocs && c->npid < OOM_MAX_PIDS; i++)
			c->pids[c->npid++] = procs[i];
		free(procs);
	} else {
		c->pids[c->npid++] = t->pid;
	}
	for (i = 0; i < c->npid; i++)
		rt->pidfds[i] = fl_pidfd_open(c->pids[i]);
	if (t->kind != FL_TARGET_CGROUP && rt->pidfds[0] < 0) {
		fl_undo_why(u, "target %s: PID %d is gone", t->name,
			    (int)t->pid);
		return -ESRCH;
	}
	return 0;
}

/*
 * The witnesses: the kernel log from now on, events, pidfds, counters.
 * What prepare opened is used as it is (the cgroup's descriptors only
 * when apply resolved the same cgroup, oom_prep.c).
 */
static int oom_witnesses(struct oom_rt *rt, struct fl_undo *u)
{
	struct oom_cfg *c = &rt->c;
	int r;

	if (rt->stopfd < 0)
		rt->stopfd = eventfd(0, EFD_CLOEXEC);
	if (rt->kmsgfd < 0)
		rt->kmsgfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rt->kmsgfd >= 0)
		lseek(rt->kmsgfd, 0, SEEK_END);
	c->kmsg_ok = rt->kmsgfd >= 0;
	oom_cg_fds(rt);
	r = oom_watch_pids(rt, u);
	if (r)
		return r;
	if (!c->pressure)
		oom_capture_start(rt);
	oom_read_kills(c, &c->oom_kill0);
	rt->w.oom_kill = c->oom_kill0;
	if (!c->v1) {
		cg_read_key(c->path, "memory.events", "high", &c->high0);
		rt->w.high = c->high0;
	}
	return 0;
}

/* Swap off first, so the kernel kills instead of swapping; the limit. */
static int oom_first_squeeze(struct oom_rt *rt, struct fl_undo *u)
{
	const struct oom_cfg *c = &rt->c;
	const struct oom_spec *s = c->s;
	int r;

	if (!c->pressure && !s->swap && !c->v1) {
		r = cg_write(c->path, "memory.swap.max", "0", OOM_WRITE_MS);
		if (r && r != -ENOENT) {
			fl_undo_why(u, "memory.swap.max of %s: %s", c->path,
				    strerror(-r));
			return r;
		}
	}
	rt->w.goal = oom_goal_start(rt);
	rt->c.t_start = fl_now_ns();
	rt->next_step = c->t_start + (s->squeeze == OOM_SQ_RAMP ?
				      s->ramp_every_ns : 0);
	rt->v1_tries = oom_first_tries();
	r = oom_enforce(rt, OOM_FIRST_WRITE_MS);
	rt->v1_tries = OOM_V1_TRIES;
	if (r) {
		fl_undo_why(u, "%s of %s: %s", c->limit_file, c->path,
			    strerror(-r));
		return r;
	}
	oom_readback(rt);
	oom_record(rt, &rt->w);
	rt->next_write = fl_now_ns() + OOM_ENFORCE_NS;
	return 0;
}

static int oom_apply(const struct fl_fault *f, struct fl_undo *u, void **rtp)
{
	const struct oom_spec *s = f->priv;
	char why[1024], from[PATH_MAX] = "";
	struct oom_rt *rt;
	int r;

	if (!s || !s->target)
		return -EINVAL;
	why[0] = 0;
	r = oom_check(f, why, sizeof(why));
	if (r) {
		fl_undo_why(u, "%s", why);
		return r;
	}
	cg_init();
	rt = oom_take_prepared(f, u);
	if (!rt)
		rt = oom_rt_new(f);
	if (!rt)
		return -ENOMEM;
	r = oom_where(rt, u, from, sizeof(from));
	if (!r)
		r = oom_refuse(rt, u);
	/* prepare's record, when it still holds, or a new one now. */
	if (!r && oom_prep_record(rt, u, from))
		r = oom_save(rt, u, from);
	/* From here on, what fails is undone from the record: a prepared
	 * one's switch first, before the scratch cgroup is made. */
	if (!r)
		r = oom_arm(rt, u);
	if (!r)
		r = oom_move(rt, u);
	if (!r)
		r = oom_witnesses(rt, u);
	if (!r)
		r = oom_first_squeeze(rt, u);
	if (!r)
		r = oom_watch_start(rt);
	if (r) {
		oom_release(rt);
		return r;
	}
	*rtp = rt;
	return 0;
}

static size_t count_dead(const struct oom_cfg *c, const struct oom_state *st)
{
	size_t i, dead = 0;

	for (i = 0; i < c->npid; i++)
		if (st->t_dead[i])
			dead++;
	return dead;
}

/*
 * Live: the squeeze's state, "limit 120.0 MiB (goal 8.0 MiB), 1 OOM kill,
 * 1 of 1 watched process dead"; run shows it when it changes.  Once the
 * watcher has proven the kill (SIGKILL, the counter, the kernel log), the
 * victim too: "victim": { "pid", "comm" }, which the live view puts on
 * the fault's row while it is still active.
 */
static int oom_live(void *handle, json_object *out)
{
	struct oom_rt *rt = handle;
	const struct oom_cfg *c;
	const struct oom_kill *kill;
	struct oom_state st;
	char lim[32], goal[32], sum[300];
	uint64_t kills;
	size_t vi, dead;

	if (!rt)
		return -ENOENT;
	c = &rt->c;
	oom_snapshot(rt, &st);
	oom_record(rt, &st);
	oom_read_counters(c, &st);
	kills = st.oom_kill - c->oom_kill0;
	dead = count_dead(c, &st);
	if (st.limit != UINT64_MAX)
		oom_add_u64(out, "limit", st.limit);
	oom_add_u64(out, "goal", st.goal);
	oom_add_u64(out, "oom_kills", kills);
	oom_add_u64(out, "dead", dead);
	if (oom_victim(c, &st, &vi, &kill) && oom_proven(c, &st, vi, kill)) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(c->pids[vi]));
		fl_json_add_str(o, "comm", kill->comm);
		json_object_object_add(out, "victim", o);
	}
	snprintf(sum, sizeof(sum), "limit %s (goal %s), %llu OOM kill%s, %zu of %zu watched process%s dead",
		 st.limit == UINT64_MAX ? "none" :
		 fl_fmt_size(st.limit, lim, sizeof(lim)),
		 fl_fmt_size(st.goal, goal, sizeof(goal)),
		 (unsigned long long)kills, kills == 1 ? "" : "s", dead,
		 c->npid, c->npid == 1 ? "" : "es");
	if (st.foreign) {
		size_t o = strlen(sum);

		snprintf(sum + o, sizeof(sum) - o, "; squeeze stopped: %s changed by someone else",
			 c->wfile[st.ffile]);
		json_object_object_add(out, "foreign", json_object_new_boolean(true));
	}
	fl_json_add_str(out, "summary", sum);
	return 0;
}

/*
 * The fault's observation ends here, just before revert: stop the
 * watcher, look once more for someone else's value, and leave the record
 * with the last of what faultline wrote, so that revert from the record
 * alone tells ours from theirs.
 */
static int oom_observe(void *handle, json_object *out)
{
	struct oom_rt *rt = handle;

	if (!rt)
		return -ENOENT;
	oom_watch_stop(rt);
	oom_capture_read(rt);
	oom_foreign_check(rt);
	oom_record(rt, &rt->w);
	oom_read_counters(&rt->c, &rt->w);
	oom_publish(rt);
	oom_observed(&rt->c, &rt->w, out);
	return 0;
}

const struct fl_engine oom_engine = {
	FL_ENGINE_OPS(oom, "#e67e22", "squeeze a target's memory cgroup until the kernel OOM-kills it"),
	.outlives_pid = true,
	.prepare = oom_prepare,
	.unprepare = oom_unprepare,
};
