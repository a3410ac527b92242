// SPDX-License-Identifier: GPL-2.0-only
/*
 * The disk fault: fill the filesystem that holds a path until the goal is
 * left free, with an unlinked file that the runner alone holds open.  See
 * "Disk faults" in docs/design.md, and disk.h for which file holds what.
 *
 * apply measures the filesystem, saves the record (the path, the goal,
 * the holder: the runner's pid and start time) before anything is made,
 * opens the fill file (the record then names its descriptor, device and
 * inode), fills, and starts the watcher.  revert works from the record
 * alone, in any process: it truncates the file through
 * /proc/HOLDER/fd/N, which gives the space back even while the holder
 * lives; when the holder is dead the kernel gave it back already, and
 * there is nothing to undo.  release closes the descriptor and measures
 * the free space after, into what observe reported.
 *
 * Who holds the file: the runner, and only it.  The descriptor is
 * O_CLOEXEC, and the guardian is forked before any fault is applied and
 * closes what it inherited: a guardian holding a copy would keep the
 * space taken after the runner died, until it had replayed the journal,
 * and forever if it died too.  With one holder, a crash of the runner
 * gives the space back at once, with no process and no record involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs/disk.h"

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void disk_rt_free(struct disk_rt *rt)
{
	if (!rt)
		return;
	disk_watch_stop(rt);
	if (rt->fd >= 0)
		close(rt->fd);
	if (rt->stopfd >= 0)
		close(rt->stopfd);
	json_object_put(rt->state);
	json_object_put(rt->observed);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

static struct disk_rt *disk_rt_new(const struct fl_fault *f)
{
	struct disk_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->f = f;
	rt->s = f->priv;
	rt->fd = rt->stopfd = -1;
	pthread_mutex_init(&rt->lock, NULL);
	disk_dir(rt->s->path, rt->dir, sizeof(rt->dir));
	return rt;
}

/* The record before anything is made: what, where, and who holds it. */
static int disk_save(struct disk_rt *rt, struct fl_undo *u,
		     const struct disk_fs *fs)
{
	json_object *holder = json_object_new_object();
	char dev[32];
	int r;

	rt->state = json_object_new_object();
	fl_json_add_str(rt->state, "path", rt->s->path);
	fl_json_add_str(rt->state, "dir", rt->dir);
	fl_json_add_str(rt->state, "mount", fs->mount);
	fl_json_add_str(rt->state, "fstype", fs->type_name);
	snprintf(dev, sizeof(dev), "%u:%u", major(fs->dev), minor(fs->dev));
	fl_json_add_str(rt->state, "fs", dev);
	add_u64(rt->state, "goal", rt->goal);
	add_u64(rt->state, "free_before", rt->before);
	json_object_object_add(holder, "pid", json_object_new_int(getpid()));
	add_u64(holder, "start", fl_pid_start_time(getpid()));
	json_object_object_add(rt->state, "holder", holder);
	r = fl_undo_save(u, rt->state);
	if (r)
		return r;
	/* live keeps the record up to date through its own copy of u. */
	rt->u.j = u->j;
	rt->u.f = u->f;
	rt->u.seq = u->seq;
	return 0;
}

/* Fill, and see that the goal was reached. */
static int disk_first_fill(struct disk_rt *rt, struct fl_undo *u)
{
	struct disk_fs fs;
	char a[32];
	uint64_t free;
	int r;

	r = disk_fill(rt, &fs);
	if (r == -EDQUOT) {
		fl_undo_why(u, "%s takes no space for the zeros written (compression or deduplication?), and it has no fallocate: it cannot be filled",
			    rt->dir);
		return -EOPNOTSUPP;
	}
	if (r) {
		fl_undo_why(u, "filling %s: %s", rt->dir, strerror(-r));
		return r;
	}
	if (r == -EAGAIN) {
		fl_undo_why(u, "the free space of %s kept growing while it was filled: something frees space as fast as faultline takes it",
			    rt->dir);
		return r;
	}
	free = disk_free_of(rt->s, &fs);
	if (rt->floor > rt->goal)
		fl_warn("fault %s: the filesystem of %s takes no fill below %s free (a reserve it gives no writer%s): that is as full as it gets",
			rt->f->name, rt->dir, fl_fmt_size(rt->floor, a, sizeof(a)),
			rt->s->reserved == DISK_RESERVED_FILL ?
			", or the root reserve without the right to it: the filesystem's reserve user, or CAP_SYS_RESOURCE" : "");
	rt->now = rt->lowest = free;
	rt->reached = free <= disk_target(rt) + disk_slack(&fs);
	rt->highest = rt->reached ? free : 0;
	fl_json_add_str(rt->state, "grow", rt->zeros ? "zeros" : "fallocate");
	disk_record(rt);
	return 0;
}

static int disk_apply(const struct fl_fault *f, struct fl_undo *u, void **rtp)
{
	char why[1024] = "";
	struct disk_fs fs;
	struct disk_rt *rt;
	int r;

	if (!f->priv)
		return -EINVAL;
	r = disk_check(f, why, sizeof(why));
	if (r) {
		fl_undo_why(u, "%s", why);
		return r;
	}
	rt = disk_rt_new(f);
	if (!rt)
		return -ENOMEM;
	r = disk_measure(rt->s->path, &fs);
	if (!r) {
		rt->before = disk_free_of(rt->s, &fs);
		rt->goal = disk_goal(rt->s, &fs);
		r = disk_save(rt, u, &fs);
	}
	/* From here on, what fails is undone from the record. */
	if (!r) {
		r = disk_open(rt, u);
		if (r)
			fl_undo_why(u, "cannot make the fill file in %s: %s",
				    rt->dir, strerror(-r));
	}
	if (!r)
		r = disk_first_fill(rt, u);
	if (!r)
		r = disk_watch_start(rt);
	if (r) {
		disk_rt_free(rt);
		return r;
	}
	*rtp = rt;
	return 0;
}

/* "free 0 B of 16.0 MiB (goal 0 B), fill 15.9 MiB, 2 top-ups". */
static int disk_live(void *handle, json_object *out)
{
	struct disk_rt *rt = handle;
	uint64_t now, filled, topups;
	char a[32], b[32], c[32], sum[200];
	bool taken;

	if (!rt)
		return -ENOENT;
	disk_record(rt);
	pthread_mutex_lock(&rt->lock);
	now = rt->now;
	filled = rt->filled;
	topups = rt->topups;
	taken = rt->taken;
	pthread_mutex_unlock(&rt->lock);
	add_u64(out, "free", now);
	add_u64(out, "filled", filled);
	add_u64(out, "goal", rt->goal);
	add_u64(out, "topups", topups);
	snprintf(sum, sizeof(sum), "free %s (goal %s), fill %s, %llu top-up%s%s",
		 fl_fmt_size(now, a, sizeof(a)),
		 fl_fmt_size(rt->goal, b, sizeof(b)),
		 fl_fmt_size(filled, c, sizeof(c)),
		 (unsigned long long)topups, topups == 1 ? "" : "s",
		 taken ? "; the fill was truncated from outside" : "");
	fl_json_add_str(out, "summary", sum);
	return 0;
}

/* Before, during (lowest and highest), the fill; after comes at release. */
static int disk_observe(void *handle, json_object *out)
{
	struct disk_rt *rt = handle;
	struct disk_fs fs;
	char a[32], b[32], c[32], d[200];
	bool met;

	if (!rt)
		return -ENOENT;
	disk_watch_stop(rt);
	disk_record(rt);
	/* The fd gives the counts; the mount point is the record's. */
	memset(&fs, 0, sizeof(fs));
	disk_measure_fd(rt->fd, &fs);
	fl_json_add_str(out, "mount", fl_json_str(rt->state, "mount", rt->dir));
	fl_json_add_str(out, "how", rt->tmpfile ? "O_TMPFILE" : "create+unlink");
	fl_json_add_str(out, "grow", rt->zeros ? "zeros" : "fallocate");
	add_u64(out, "goal", rt->goal);
	add_u64(out, "free_before", rt->before);
	add_u64(out, "free_lowest", rt->lowest);
	add_u64(out, "free_highest", rt->highest);
	add_u64(out, "filled", rt->filled);
	add_u64(out, "topups", rt->topups);
	if (rt->floor > rt->goal)
		add_u64(out, "floor", rt->floor);
	met = !rt->taken && rt->reached &&
	      rt->highest <= disk_target(rt) + disk_slack(&fs);
	if (rt->taken)
		snprintf(d, sizeof(d), "the fill was truncated from outside before the fault's end");
	else if (!rt->reached)
		snprintf(d, sizeof(d), "the free space never came down to the goal of %s (lowest %s)",
			 fl_fmt_size(disk_target(rt), b, sizeof(b)),
			 fl_fmt_size(rt->lowest, c, sizeof(c)));
	else
		snprintf(d, sizeof(d), "free space held at most %s (goal %s%s; lowest %s)",
			 fl_fmt_size(rt->highest, a, sizeof(a)),
			 fl_fmt_size(rt->goal, b, sizeof(b)),
			 rt->floor > rt->goal ? ", the filesystem's floor above it" : "",
			 fl_fmt_size(rt->lowest, c, sizeof(c)));
	fl_expectation(out, met, d);
	rt->observed = json_object_get(out);
	return 0;
}

static int json_int(json_object *o, const char *key, int64_t *v)
{
	json_object *x;

	if (!o || !json_object_object_get_ex(o, key, &x) || !x)
		return -ENOENT;
	*v = json_object_get_int64(x);
	return 0;
}

/* The fallback's name, if a crash left it between create and unlink. */
static int revert_name(json_object *state)
{
	json_object *v;
	struct stat st;

	if (!json_object_object_get_ex(state, "name", &v) || !v)
		return 0;
	if (lstat(json_object_get_string(v), &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	if (unlink(json_object_get_string(v)) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * From the record alone: the named leftover, then the fill through the
 * holder's descriptor.  Idempotent: a file already empty, closed, or a
 * holder that is gone is done.
 */
static int disk_revert(json_object *state)
{
	json_object *holder = NULL;
	int64_t pid = 0, start = 0, fd, dev, ino;
	char path[64];
	struct stat st;
	int r, f;

	r = revert_name(state);
	if (r)
		return r;
	json_object_object_get_ex(state, "holder", &holder);
	if (json_int(holder, "pid", &pid) || json_int(holder, "start", &start))
		return 0;
	if (json_int(state, "fd", &fd) || json_int(state, "dev", &dev) ||
	    json_int(state, "ino", &ino))
		return 0;	/* no fill file was made */
	if (!fl_pid_alive((pid_t)pid, (unsigned long long)start)) {
		fl_revert_gone("PID %lld, which held the fill, is gone, and the kernel gave the space back when it went",
			       (long long)pid);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%lld/fd/%lld", (long long)pid,
		 (long long)fd);
	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0 : -errno;	/* closed already */
	if (fstat(f, &st)) {
		r = -errno;
	} else if ((int64_t)st.st_dev != dev || (int64_t)st.st_ino != ino ||
		   st.st_nlink || !S_ISREG(st.st_mode)) {
		r = 0;		/* that number is another file now */
	} else {
		r = ftruncate(f, 0) ? -errno : 0;
	}
	close(f);
	return r;
}

/* Close the fill, and the free space after it, into what observe said. */
static void disk_release(void *handle)
{
	struct disk_rt *rt = handle;
	struct disk_fs fs;

	if (!rt)
		return;
	disk_watch_stop(rt);
	if (rt->fd >= 0)
		close(rt->fd);
	rt->fd = -1;
	if (rt->observed && !disk_measure(rt->s->path, &fs))
		add_u64(rt->observed, "free_after", disk_free_of(rt->s, &fs));
	disk_rt_free(rt);
}

const struct fl_engine disk_engine = {
	FL_ENGINE_OPS(disk, "#8e5a2b",
		      "fill the filesystem that holds a path, so writers get ENOSPC"),
	.spec_free = disk_spec_free,
	.scan = disk_scan,
};
