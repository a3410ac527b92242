// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fill file of a disk fault, and the watcher that keeps the fill up.
 *
 * The file is made with O_TMPFILE | O_EXCL where the filesystem has it:
 * it never has a name, cannot be linked in later, and goes away with its
 * last descriptor.  Elsewhere it is created under a name the record holds
 * first and unlinked at once.  It grows with fallocate(2) (mode 0: real
 * blocks, not a sparse size) by what the free space exceeds the goal, in
 * smaller requests when the filesystem refuses one (metadata takes
 * blocks too); where fallocate is not supported it grows by writing
 * zeros in 1 MiB chunks, and a filesystem where zeros take no space
 * (compression, dedup) is refused at apply.
 *
 * The watcher looks every 250 ms: when something freed space, it tops
 * the fill up; when the file got shorter, someone reverted the fault
 * (recover --force, or revert itself), and it stops for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/disk.h"

#define DISK_WATCH_MS	250
#define DISK_ZERO_CHUNK	(1U << 20)
/* Zeros written per fill at most: the runner's loop must not wait. */
#define DISK_ZERO_BUDGET	(64ULL << 20)

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* The create + unlink fallback, the name in the record first. */
static int open_named(struct disk_rt *rt, struct fl_undo *u)
{
	char name[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(name, sizeof(name), "%s/" DISK_FILL_PREFIX "%s-%s",
			     rt->dir, fl_journal_id(u->j), rt->f->name) >=
	    sizeof(name))
		return -ENAMETOOLONG;
	fl_json_add_str(rt->state, "name", name);
	r = fl_undo_save(u, rt->state);
	if (r)
		return r;
	fd = open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (unlink(name)) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int disk_open(struct disk_rt *rt, struct fl_undo *u)
{
	struct stat st;
	int fd;

	fd = open(rt->dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	rt->tmpfile = fd >= 0;
	if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL)
		return -errno;
	if (fd < 0)
		fd = open_named(rt, u);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	rt->fd = fd;
	rt->fdev = st.st_dev;
	rt->fino = st.st_ino;
	fl_json_add_str(rt->state, "how", rt->tmpfile ? "O_TMPFILE" : "create+unlink");
	json_object_object_add(rt->state, "fd", json_object_new_int(fd));
	add_u64(rt->state, "dev", st.st_dev);
	add_u64(rt->state, "ino", st.st_ino);
	return fl_undo_save(u, rt->state);
}

/* len bytes of zeros from off; a short write is what it wrote. */
static int write_zeros(int fd, uint64_t off, uint64_t len)
{
	static const char zero[DISK_ZERO_CHUNK];
	ssize_t n;

	while (len) {
		n = pwrite(fd, zero, len < sizeof(zero) ? len : sizeof(zero),
			   (off_t)off);
		if (n < 0)
			return -errno;
		off += n;
		len -= n;
	}
	/* Blocks the filesystem counts now, not at writeback. */
	return fdatasync(fd) ? -errno : 0;
}

/* Grow the file by len from its end: fallocate, or zeros. */
static int grow(struct disk_rt *rt, uint64_t len)
{
	struct stat st;

	if (fstat(rt->fd, &st))
		return -errno;
	if (!rt->zeros) {
		if (!fallocate(rt->fd, 0, st.st_size, (off_t)len))
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
		rt->zeros = true;
	}
	return write_zeros(rt->fd, st.st_size, len);
}

/* Note the file as it is now, under the lock. */
static void note_file(struct disk_rt *rt)
{
	struct stat st;

	if (fstat(rt->fd, &st))
		return;
	pthread_mutex_lock(&rt->lock);
	rt->filled = (uint64_t)st.st_blocks * 512;
	rt->size = st.st_size;
	pthread_mutex_unlock(&rt->lock);
}

uint64_t disk_target(const struct disk_rt *rt)
{
	return rt->floor > rt->goal ? rt->floor : rt->goal;
}

int disk_fill(struct disk_rt *rt, struct disk_fs *fs)
{
	uint64_t free, need, last = UINT64_MAX;
	int r, rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		r = disk_measure_fd(rt->fd, fs);
		if (r)
			return r;
		free = disk_free_of(rt->s, fs);
		if (free < disk_target(rt) + fs->bsize)
			return 0;
		/* Zeros that took no space: compression, dedup. */
		if (rt->zeros && free >= last)
			return -EDQUOT;
		last = free;
		need = (free - disk_target(rt)) / fs->bsize * fs->bsize;
		/* Zeros: a slice now, the watcher writes the rest. */
		if (rt->zeros && rounds && need > DISK_ZERO_BUDGET)
			return 0;
		if (rt->zeros && need > DISK_ZERO_BUDGET)
			need = DISK_ZERO_BUDGET;
		while ((r = grow(rt, need)) == -ENOSPC && need > fs->bsize)
			need = need / 2 / fs->bsize * fs->bsize;
		note_file(rt);
		if (r == -ENOSPC)
			break;		/* not one more block: as full as it gets */
		if (r)
			return r;
	}
	r = disk_measure_fd(rt->fd, fs);
	if (r)
		return r;
	if (rounds == 64)
		return -EAGAIN;		/* something frees as fast as we fill */
	/* What it keeps to itself counts as full from now on. */
	pthread_mutex_lock(&rt->lock);
	rt->floor = disk_free_of(rt->s, fs);
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

/* One look: was it reverted, did something free space; the counters. */
static void watch_once(struct disk_rt *rt)
{
	struct disk_fs fs;
	struct stat st;
	uint64_t free;
	bool topup;
	int r;

	if (fstat(rt->fd, &st) || disk_measure_fd(rt->fd, &fs))
		return;
	pthread_mutex_lock(&rt->lock);
	if ((uint64_t)st.st_size < rt->size)
		rt->taken = true;
	topup = !rt->taken &&
		disk_free_of(rt->s, &fs) > disk_target(rt) + disk_slack(&fs);
	pthread_mutex_unlock(&rt->lock);
	if (topup) {
		r = disk_fill(rt, &fs);
		pthread_mutex_lock(&rt->lock);
		rt->topups++;
		rt->err = r;
		pthread_mutex_unlock(&rt->lock);
	}
	free = disk_free_of(rt->s, &fs);
	note_file(rt);
	pthread_mutex_lock(&rt->lock);
	rt->now = free;
	/* Zeros fill in slices: the fault holds once the goal is reached. */
	if (free <= disk_target(rt) + disk_slack(&fs))
		rt->reached = true;
	if (!rt->taken && free < rt->lowest)
		rt->lowest = free;
	if (!rt->taken && rt->reached && free > rt->highest)
		rt->highest = free;
	pthread_mutex_unlock(&rt->lock);
}

static void *watch_main(void *arg)
{
	struct disk_rt *rt = arg;
	struct pollfd p = { .fd = rt->stopfd, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, DISK_WATCH_MS) != 0 && (p.revents & POLLIN))
			break;
		watch_once(rt);
		if (rt->taken)
			break;
	}
	return NULL;
}

int disk_watch_start(struct disk_rt *rt)
{
	int r;

	rt->stopfd = eventfd(0, EFD_CLOEXEC);
	if (rt->stopfd < 0)
		return -errno;
	r = pthread_create(&rt->thread, NULL, watch_main, rt);
	if (r)
		return -r;
	rt->running = true;
	return 0;
}

void disk_watch_stop(struct disk_rt *rt)
{
	uint64_t one = 1;

	if (!rt->running)
		return;
	if (write(rt->stopfd, &one, sizeof(one)) < 0)
		fl_warn("fault %s: cannot stop the fill's watcher: %s",
			rt->f->name, strerror(errno));
	pthread_join(rt->thread, NULL);
	rt->running = false;
}

void disk_record(struct disk_rt *rt)
{
	uint64_t filled, topups;

	if (!rt->state || !rt->u.j)
		return;
	pthread_mutex_lock(&rt->lock);
	filled = rt->filled;
	topups = rt->topups;
	pthread_mutex_unlock(&rt->lock);
	if (filled == rt->saved_filled)
		return;
	rt->saved_filled = filled;
	add_u64(rt->state, "filled", filled);
	add_u64(rt->state, "topups", topups);
	fl_undo_save(&rt->u, rt->state);
}
