// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault prepared before the timeline (issue 17): the handle is
 * made then, with what does not depend on the instant opened in it: the
 * kernel log, the exit capture (a BPF program loaded and attached, with
 * no process in it yet), and, when the cgroup can be resolved already
 * (cgroup: own, or a cgroup target), the cgroup's descriptors: v1's
 * cgroup.event_control with an eventfd on memory.oom_control and the
 * thresholds' eventfd and memory.usage_in_bytes, or v2's inotify watch on
 * memory.events; and the limit files it writes.  For such a cgroup it
 * also saves the undo record (the values to write back) and names in it
 * a switch, a file apply creates just before its first write
 * (core/switch.c): revert writes back only when the switch exists, so a
 * record of prepare's whose apply never came changes nothing.
 *
 * apply takes the handle over (oom_take_prepared) and resolves the
 * cgroup as ever; the cgroup's descriptors are kept only when it is the
 * same folder, by path and inode (one removed and made again is another
 * cgroup), and otherwise opened again; the record only when, besides,
 * the values it would write back are still the cgroup's (otherwise apply
 * saves a new one, with no switch, before it writes).  What the event descriptors
 * counted before the instant is drained.  A scratch cgroup for a pid
 * (named after the journal, which exists by then) gets its record at
 * prepare too, kept when the pid is still in the cgroup it was then; the
 * cgroup itself is made at apply, after the switch, and its descriptors
 * are opened there.  A command's cgroup exists only once the command has
 * started: run prepares such a fault again then (core/prepare.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/oom.h"

static void oom_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void cg_fds_close(struct oom_rt *rt)
{
	oom_close_fd(&rt->evfd);
	oom_close_fd(&rt->ctlfd);
	oom_close_fd(&rt->ecfd);
	oom_close_fd(&rt->thrfd);
	oom_close_fd(&rt->usefd);
	oom_close_fd(&rt->inofd);
	oom_close_fd(&rt->limfd);
	oom_close_fd(&rt->swfd);
	rt->prep_path[0] = 0;
}

/* v1: an eventfd on memory.oom_control through cgroup.event_control. */
static void v1_eventfd(struct oom_rt *rt)
{
	const char *path = rt->c.path;
	char file[PATH_MAX + 64], buf[64];

	rt->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(file, sizeof(file), "%s/memory.oom_control", path);
	rt->ctlfd = open(file, O_RDONLY | O_CLOEXEC);
	snprintf(file, sizeof(file), "%s/cgroup.event_control", path);
	rt->ecfd = open(file, O_WRONLY | O_CLOEXEC);
	if (rt->evfd < 0 || rt->ctlfd < 0 || rt->ecfd < 0)
		return;
	snprintf(buf, sizeof(buf), "%d %d", rt->evfd, rt->ctlfd);
	if (write(rt->ecfd, buf, strlen(buf)) < 0)
		fl_warn("fault %s: cgroup.event_control: %s", rt->c.f->name,
			strerror(errno));
	oom_thresh_open(rt);
}

/* v2: an inotify watch on memory.events. */
static void v2_events(struct oom_rt *rt)
{
	char path[PATH_MAX + 64];

	rt->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(path, sizeof(path), "%s/memory.events", rt->c.path);
	if (rt->inofd >= 0)
		inotify_add_watch(rt->inofd, path, IN_MODIFY);
}

/* The files the squeeze writes, opened once: each write is one pwrite. */
static int open_write(const struct oom_rt *rt, const char *file)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", rt->c.path, file);
	return open(path, O_WRONLY | O_CLOEXEC);
}

static void cg_fds_open(struct oom_rt *rt)
{
	struct stat st;

	if (rt->c.v1)
		v1_eventfd(rt);
	else
		v2_events(rt);
	rt->limfd = open_write(rt, rt->c.limit_file);
	if (rt->c.v1 && !rt->c.pressure)
		rt->swfd = open_write(rt, "memory.memsw.limit_in_bytes");
	if (stat(rt->c.path, &st))
		return;
	snprintf(rt->prep_path, sizeof(rt->prep_path), "%s", rt->c.path);
	rt->prep_dev = st.st_dev;
	rt->prep_ino = st.st_ino;
}

/* Does what was opened at prepare still watch the cgroup apply found? */
static bool cg_fds_hold(const struct oom_rt *rt)
{
	struct stat st;

	return rt->prep_path[0] && !strcmp(rt->prep_path, rt->c.path) &&
	       !stat(rt->c.path, &st) && st.st_dev == rt->prep_dev &&
	       st.st_ino == rt->prep_ino;
}

/* What the event descriptors counted before the instant is not ours. */
static void cg_fds_drain(struct oom_rt *rt)
{
	char buf[4096];
	uint64_t cnt;

	if (rt->evfd >= 0 && read(rt->evfd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	if (rt->thrfd >= 0 && read(rt->thrfd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	while (rt->inofd >= 0 && read(rt->inofd, buf, sizeof(buf)) > 0)
		;
}

/*
 * At apply, once rt->c.path is resolved: the cgroup's descriptors,
 * prepare's when they watch that cgroup, else new ones (and the fault
 * no longer counts as prepared).
 * Never fatal: without them the watcher re-asserts on its clock.
 */
int oom_cg_fds(struct oom_rt *rt)
{
	struct oom_cfg *c = &rt->c;
	char path[PATH_MAX + 64];

	if (cg_fds_hold(rt)) {
		cg_fds_drain(rt);
	} else {
		/* Prepared for another cgroup (or none could be). */
		if (rt->prep_path[0])
			c->prepared = false;
		cg_fds_close(rt);
		cg_fds_open(rt);
	}
	snprintf(path, sizeof(path), "%s/memory.peak", c->path);
	c->peak_file = c->v1 ? "memory.max_usage_in_bytes" :
		       !access(path, F_OK) ? "memory.peak" : NULL;
	return 0;
}

/* No record of prepare's: apply saves its own. */
static void prep_forget(struct oom_rt *rt)
{
	json_object_put(rt->state);
	rt->state = NULL;
	rt->c.nw = 0;
	rt->sw_path[0] = 0;
}

/* Are the values prepare's record would write back still the cgroup's? */
static bool prep_values_hold(const struct oom_rt *rt)
{
	json_object *restore = fl_json_get(rt->state, "restore");
	size_t i, n = restore ? json_object_array_length(restore) : 0;
	char cur[64];

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(restore, i);
		const char *file = fl_json_text(o, "file");
		const char *val = fl_json_text(o, "value");

		if (!file || !val || cg_read(rt->c.path, file, cur, sizeof(cur)) ||
		    strcmp(cur, val))
			return false;
	}
	return true;
}

/*
 * At apply, once rt->c.path is resolved: 0 when prepare's record still
 * holds (the same cgroup, by path and inode, with the same values, and
 * the runner's record), else it is forgotten and apply saves a new one.
 */
int oom_prep_record(struct oom_rt *rt, struct fl_undo *u, const char *from)
{
	json_object *sc = fl_json_get(rt->state, "scratch");
	const char *spath = fl_json_text(sc, "path");
	const char *sfrom = fl_json_text(sc, "from");

	if (!rt->state || !rt->sw_path[0] || rt->u.seq != u->seq)
		goto forget;
	if (oom_new_scratch(&rt->c) ?
	    spath && sfrom && !strcmp(spath, rt->c.path) && !strcmp(sfrom, from) :
	    cg_fds_hold(rt) && prep_values_hold(rt))
		return 0;
forget:
	prep_forget(rt);
	return -ESTALE;
}

/* Just before the first write: the switch its record names, if any. */
int oom_arm(struct oom_rt *rt, struct fl_undo *u)
{
	int fd;

	if (!rt->sw_path[0])
		return 0;
	fd = fl_switch_open(rt->sw_path);
	if (fd < 0) {
		fl_undo_why(u, "cannot create the switch %s: %s", rt->sw_path,
			    strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

/*
 * The cgroup apply will squeeze (and from, the one a pid leaves for its
 * scratch cgroup), when it is known before the timeline: a command's
 * only once it has started.
 */
static int prep_where(struct oom_rt *rt, struct fl_undo *u, char *from,
		      size_t len)
{
	const struct fl_target *t = rt->c.s->target;
	struct fl_where w;
	char why[256];
	int r;

	if (t->kind == FL_TARGET_COMMAND &&
	    (fl_target_where(t, &w, why, sizeof(why)) || !w.pid))
		return -ENOENT;
	r = oom_where(rt, u, from, len);
	if (r)
		return r;
	if (!strcmp(rt->c.path, fl_kernel_get()->memory_root))
		return -EOPNOTSUPP;	/* apply refuses it */
	return 0;
}

/*
 * The record, before the timeline, for a cgroup known then: the values to
 * write back, and a switch that apply creates just before its first
 * write.  Its revert, with no switch, knows that nothing was written.
 * Not fatal: apply saves one of its own.
 */
static void prep_save(struct oom_rt *rt, struct fl_undo *u, const char *from)
{
	char prefix[32];

	if (oom_save(rt, u, from) || u->seq <= 0) {
		prep_forget(rt);
		return;
	}
	/* Named after the record's seq, which the first save gave it. */
	snprintf(prefix, sizeof(prefix), OOM_SWITCH_PREFIX "%04d-", u->seq);
	fl_switch_path(u, prefix, rt->c.f->name, OOM_SWITCH_SUFFIX,
		       rt->sw_path, sizeof(rt->sw_path));
	fl_json_add_str(rt->state, "switch", rt->sw_path);
	if (fl_undo_save(&rt->u, rt->state))
		prep_forget(rt);
}

int oom_prepare(const struct fl_fault *f, struct fl_undo *u, void **prep)
{
	const struct oom_spec *s = f->priv;
	char from[PATH_MAX] = "";
	struct oom_rt *rt;

	*prep = NULL;
	if (!s || !s->target)
		return -EINVAL;
	cg_init();
	rt = oom_rt_new(f);
	if (!rt)
		return -ENOMEM;
	rt->stopfd = eventfd(0, EFD_CLOEXEC);
	rt->kmsgfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (!rt->c.pressure)
		oom_capture_open(rt);	/* not fatal: apply tries again */
	if (!prep_where(rt, u, from, sizeof(from))) {
		/* A pid's scratch cgroup is made at apply. */
		if (!oom_new_scratch(&rt->c))
			cg_fds_open(rt);
		prep_save(rt, u, from);
	}
	rt->c.path[0] = 0;		/* apply resolves it again */
	*prep = rt;
	return 0;
}

void oom_unprepare(void *prep)
{
	oom_release(prep);
}

/* apply: prepare's handle, made for this fault, taken over from u->prep. */
struct oom_rt *oom_take_prepared(const struct fl_fault *f, struct fl_undo *u)
{
	struct oom_rt *rt = u->prep;

	if (!rt || rt->c.f != f)
		return NULL;
	u->prep = NULL;
	rt->c.prepared = true;
	return rt;
}
