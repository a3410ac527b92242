// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network namespaces: the one layer every engine, the guardian and
 * recover use.
 *
 * A namespace is known by the (dev, ino) of its nsfs file; the journal
 * keeps it as "dev:ino".  Nothing names a namespace for good: it lives as
 * long as something holds it, so it is looked for wherever something can:
 * this thread, the named ones under /run/netns, every nsfs bind mount in
 * /proc/self/mountinfo, every process (/proc/PID/ns/net) and every open
 * descriptor (/proc/PID/fd/N).  One walk visits those places, each
 * namespace once: fl_netns_open() stops at the one it wants, and
 * fl_netns_each() (the leftover scans) switches into each in turn.  When
 * the walk finds nothing the namespace is gone, with every device, qdisc
 * and filter that was in it.
 *
 * A user socket also holds its namespace, and no path leads there from
 * the socket; a namespace held only by sockets counts as gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/faultline.h"
#include "core/mountinfo.h"

#define NETNS_SELF	"/proc/thread-self/ns/net"

static int netns_stat(const char *path, struct fl_netns_id *id)
{
	struct stat st;

	id->dev = 0;
	id->ino = 0;
	if (stat(path, &st))
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

int fl_netns_self(struct fl_netns_id *id)
{
	return netns_stat(NETNS_SELF, id);
}

bool fl_netns_eq(const struct fl_netns_id *a, const struct fl_netns_id *b)
{
	return a->ino == b->ino && (!a->dev || !b->dev || a->dev == b->dev);
}

void fl_netns_str(const struct fl_netns_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ":%" PRIu64, id->dev, id->ino);
}

int fl_netns_parse(const char *s, struct fl_netns_id *id)
{
	unsigned long long a, b;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	a = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (!*end) {
		/*
		 * The old forms: partition kept the inode, netem dev << 32
		 * ^ inode (nsfs inodes are 32 bits).
		 */
		id->dev = a >> 32;
		id->ino = a & 0xffffffffULL;
		return 0;
	}
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	b = strtoull(end + 1, &end, 10);
	if (errno || *end)
		return -EINVAL;
	id->dev = a;
	id->ino = b;
	return 0;
}

/* What this thread's namespace belongs to, while core has entered it. */
static __thread char ns_label[256];

void fl_netns_label(const char *label)
{
	snprintf(ns_label, sizeof(ns_label), "%s", label ? label : "");
}

static int netns_record(json_object *state)
{
	struct fl_netns_id id = { 0 };
	char buf[48];
	int ret;

	ret = fl_netns_self(&id);
	if (ret)
		return ret;
	fl_netns_str(&id, buf, sizeof(buf));
	fl_json_add_str(state, "netns", buf);
	if (ns_label[0])
		fl_json_add_str(state, "netns_of", ns_label);
	return 0;
}

int fl_undo_save_netns(struct fl_undo *u, json_object *state)
{
	int ret = netns_record(state);

	return ret ? ret : fl_undo_save(u, state);
}

/* ------------------------------------------------------------------ */
/* The walk.                                                           */

struct ns_walk;

/*
 * Called once per namespace: the path that opens it, its identity and
 * where it was found, for people.  Nonzero stops the walk.
 */
typedef int (*ns_visit_fn)(struct ns_walk *w, const char *path,
			   const struct fl_netns_id *id, const char *where);

struct ns_walk {
	ns_visit_fn visit;
	void *ctx;
	struct fl_netns_id *seen;
	size_t nseen, cap;
	int stop;			/* the visit's nonzero return */
};

/*
 * Visit path's namespace unless it was seen; the visit's return.  label
 * says where it was found ("of pid 12"), NULL for this thread's.
 */
static int walk_one(struct ns_walk *w, const char *path, const char *label)
{
	struct fl_netns_id id;
	char where[600];
	size_t i;

	if (netns_stat(path, &id))
		return 0;
	for (i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == id.dev && w->seen[i].ino == id.ino)
			return 0;
	if (FL_GROW(w->seen, w->cap, w->nseen, 64))
		return 0;
	w->seen[w->nseen++] = id;
	if (label)
		snprintf(where, sizeof(where), "network namespace %llu (%s)",
			 (unsigned long long)id.ino, label);
	else
		snprintf(where, sizeof(where), "this network namespace");
	w->stop = w->visit(w, path, &id, where);
	return w->stop;
}

static int walk_mount(void *ctx, const char *root, const char *mnt,
		      const char *fstype, const char *superopts)
{
	(void)superopts;
	if (strcmp(fstype, "nsfs") || strncmp(root, "net:[", 5))
		return 0;
	return walk_one(ctx, mnt, mnt);
}

/* A /proc or fd folder entry's number, -1 for anything else. */
static int num(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v > INT_MAX ? -1 : (int)v;
}

/* /proc/PID/fd/N that are network namespaces ("net:[ino]"). */
static int walk_fds(struct ns_walk *w, int pid)
{
	char path[300], link[64], label[64];
	struct dirent *de;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && !w->stop && (de = readdir(d))) {
		int fd = num(de->d_name);

		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 6 || strncmp(link, "net:[", 5))
			continue;
		snprintf(label, sizeof(label), "fd %d of pid %d", fd, pid);
		walk_one(w, path, label);
	}
	if (d)
		closedir(d);
	return w->stop;
}

/* Every /proc/PID: its namespace (fds false), or its open fds. */
static int walk_procs(struct ns_walk *w, bool fds)
{
	char path[300], label[64];
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	while (d && !w->stop && (de = readdir(d))) {
		int pid = num(de->d_name);

		if (pid < 0)
			continue;
		if (fds) {
			walk_fds(w, pid);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		snprintf(label, sizeof(label), "of pid %d", pid);
		walk_one(w, path, label);
	}
	if (d)
		closedir(d);
	return w->stop;
}

/* Visit every namespace reachable from here, once each; visit's stop. */
static int netns_walk(ns_visit_fn visit, void *ctx)
{
	struct ns_walk w = { .visit = visit, .ctx = ctx };
	char path[300];
	struct dirent *de;
	DIR *d;

	if (walk_one(&w, NETNS_SELF, NULL))
		goto out;
	d = opendir("/run/netns");
	while (d && !w.stop && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		walk_one(&w, path, path);
	}
	if (d)
		closedir(d);
	if (w.stop || fl_mountinfo_each(walk_mount, &w) > 0)
		goto out;
	if (!walk_procs(&w, false))
		walk_procs(&w, true);
out:
	free(w.seen);
	return w.stop;
}

/* ------------------------------------------------------------------ */
/* Open, enter, leave.                                                 */

struct ns_find {
	const struct fl_netns_id *want;
	int fd;
};

static int find_visit(struct ns_walk *w, const char *path,
		      const struct fl_netns_id *id, const char *where)
{
	struct ns_find *f = w->ctx;
	struct stat st;
	int fd;

	(void)where;
	if (!fl_netns_eq(id, f->want))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* gone meanwhile; another may hold it */
	/* The same one still: a pid or an fd number may be reused. */
	if (fstat(fd, &st) || st.st_ino != id->ino || st.st_dev != id->dev) {
		close(fd);
		return 0;
	}
	f->fd = fd;
	return 1;
}

int fl_netns_open(const struct fl_netns_id *id)
{
	struct ns_find f = { .want = id, .fd = -ENOENT };

	if (!id->ino)
		return -EINVAL;
	netns_walk(find_visit, &f);
	return f.fd;
}

/* /proc/PID/ns/net of hint when it is that namespace, else -ENOENT. */
static int open_hint(const struct fl_netns_id *id, pid_t hint)
{
	char path[64];
	struct stat st;
	int fd;

	if (hint <= 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)hint);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) || st.st_ino != id->ino ||
	    (id->dev && st.st_dev != id->dev)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int fl_netns_enter(const struct fl_netns_id *id, int *oldfd)
{
	return fl_netns_enter_hint(id, 0, oldfd);
}

int fl_netns_enter_hint(const struct fl_netns_id *id, pid_t hint,
			int *oldfd)
{
	struct fl_netns_id self;
	int fd, old, ret;

	*oldfd = -1;
	ret = fl_netns_self(&self);
	if (ret)
		return ret;
	if (fl_netns_eq(&self, id))
		return 0;
	fd = open_hint(id, hint);
	if (fd < 0)
		fd = fl_netns_open(id);
	if (fd < 0)
		return fd;
	old = open(NETNS_SELF, O_RDONLY | O_CLOEXEC);
	if (old < 0 || setns(fd, CLONE_NEWNET)) {
		ret = -errno;
		if (old >= 0)
			close(old);
		close(fd);
		return ret;
	}
	close(fd);
	*oldfd = old;
	return 0;
}

void fl_netns_leave(int oldfd)
{
	if (oldfd < 0)
		return;
	if (setns(oldfd, CLONE_NEWNET))
		fl_err("cannot return to our network namespace: %s",
		       strerror(errno));
	close(oldfd);
}

/* ------------------------------------------------------------------ */
/* Every namespace in turn, for the leftover scans.                    */

struct ns_each {
	void (*fn)(void *ctx, const char *where);
	void *ctx;
	int self;
};

static int each_visit(struct ns_walk *w, const char *path,
		      const struct fl_netns_id *id, const char *where)
{
	struct ns_each *e = w->ctx;
	int fd;

	(void)id;
	if (!strcmp(path, NETNS_SELF)) {
		e->fn(e->ctx, where);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!setns(fd, CLONE_NEWNET)) {
		e->fn(e->ctx, where);
		if (setns(e->self, CLONE_NEWNET))
			fl_err("setns back: %s", strerror(errno));
	}
	close(fd);
	return 0;
}

int fl_netns_each(void (*fn)(void *ctx, const char *where), void *ctx)
{
	struct ns_each e = { .fn = fn, .ctx = ctx };

	e.self = open(NETNS_SELF, O_RDONLY | O_CLOEXEC);
	if (e.self < 0)
		return -errno;
	netns_walk(each_visit, &e);
	close(e.self);
	return 0;
}
