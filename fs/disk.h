/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fs/: the disk fault.  Fill the filesystem that holds a path until a
 * given free space is left (or a used percentage is reached), with a
 * file that faultline holds open and has already unlinked, so that the
 * kernel gives the space back the moment the holder exits, however it
 * exits.  See "Disk faults" in docs/design.md.
 *
 *   disk_parse.c  the schema: path, free or used, reserved
 *   disk_plan.c   measuring a filesystem; check, describe, resources
 *   disk_fill.c   the fill file: O_TMPFILE, fallocate or zeros, top-up
 *   disk.c        apply, live, observe, revert, release: the ops table
 *   disk_scan.c   recover --scan: fill files held by faultline processes
 */
#ifndef FAULTLINE_DISK_H
#define FAULTLINE_DISK_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/faultline.h"

enum disk_reserved {
	DISK_RESERVED_KEEP,	/* measure f_bavail: df's Avail */
	DISK_RESERVED_FILL,	/* measure f_bfree: the root reserve too */
};

struct disk_spec {
	char *path;
	bool has_free;		/* free: given, else used: */
	uint64_t free;		/* bytes to leave */
	double used;		/* percent to reach */
	enum disk_reserved reserved;
};

/* A filesystem measured now (statvfs, statfs), in bytes. */
struct disk_fs {
	dev_t dev;		/* st_dev of the path: the lock key */
	unsigned long type;	/* statfs f_type */
	unsigned long flags;	/* statvfs f_flag */
	uint64_t bsize;		/* f_frsize */
	uint64_t size;		/* f_blocks */
	uint64_t bfree;		/* f_bfree: every free block */
	uint64_t avail;		/* f_bavail: what unprivileged users get */
	char type_name[32];	/* "ext4", from /proc/self/mountinfo */
	char mount[PATH_MAX];	/* its mount point */
};

/* The free space a spec measures (avail, or bfree with reserved: fill). */
uint64_t disk_free_of(const struct disk_spec *s, const struct disk_fs *fs);
/* The free space the fill leaves: free:, or what used: comes to. */
uint64_t disk_goal(const struct disk_spec *s, const struct disk_fs *fs);
/* How close to the goal counts as reached: whole blocks, metadata. */
uint64_t disk_slack(const struct disk_fs *fs);
/* Measure the filesystem of path (a folder or a file in one). */
int disk_measure(const char *path, struct disk_fs *fs);
/* The same through an open descriptor on it (cheap, for the watcher). */
int disk_measure_fd(int fd, struct disk_fs *fs);
/* The folder the fill file goes in: path, or its parent. */
void disk_dir(const char *path, char *buf, size_t len);
/* "fs:MAJ:MIN", the lock two runs must not share. */
void disk_lock_key(dev_t dev, char *buf, size_t len);

/* disk_parse.c */
extern const char *const disk_keys[];
int disk_parse(struct fl_experiment *exp, const struct fl_fault *f,
	       const struct fl_node *spec, void **out, struct fl_diag *d);
void disk_spec_free(void *spec);

/* disk_plan.c */
int disk_check(const struct fl_fault *f, char *why, size_t len);
int disk_describe(const struct fl_fault *f, json_object *out);
int disk_resources(const struct fl_fault *f, json_object *out);

/* The fault while it is active: the engine's handle. */
struct disk_rt {
	const struct fl_fault *f;
	const struct disk_spec *s;
	int fd;			/* the fill file, unlinked */
	int stopfd;		/* eventfd: stop the watcher */
	dev_t fdev;		/* the fill file's st_dev, st_ino */
	ino_t fino;
	char dir[PATH_MAX];
	bool zeros;		/* no fallocate here: zeros written */
	bool tmpfile;		/* O_TMPFILE, else create + unlink */
	pthread_t thread;
	bool running;
	struct fl_undo u;	/* the record, kept up to date */
	json_object *state;
	json_object *observed;	/* observe's, for "free_after" at release */
	uint64_t saved_filled;	/* what the record says, main thread */
	pthread_mutex_t lock;	/* guards what follows */
	uint64_t goal;		/* free space to leave, bytes */
	uint64_t floor;		/* what the filesystem gave no one (0: none) */
	uint64_t before;	/* free space before the fill */
	uint64_t now;		/* free space at the last look */
	uint64_t lowest, highest;	/* over the fault, after each top-up */
	uint64_t filled;	/* bytes the fill file holds (st_blocks) */
	uint64_t size;		/* its st_size after the last fill */
	uint64_t topups;	/* fills after the first */
	bool taken;		/* someone truncated it: revert happened */
	bool reached;		/* the free space came down to the target */
	int err;		/* the watcher's last error, -errno */
};

/* disk_fill.c */
/* Open the unlinked fill file in rt->dir (O_TMPFILE, or create +
 * unlink with the record naming it first). */
int disk_open(struct disk_rt *rt, struct fl_undo *u);
/*
 * Grow the fill until the goal is left; what it measured after into fs.
 * When the filesystem refuses even one more block above the goal (ext4
 * keeps a reserve no writer gets), that free space is its floor.
 */
int disk_fill(struct disk_rt *rt, struct disk_fs *fs);
int disk_watch_start(struct disk_rt *rt);
void disk_watch_stop(struct disk_rt *rt);
/* The free space the fill aims at: the goal, or the floor above it. */
uint64_t disk_target(const struct disk_rt *rt);
/* The record's state as it is now (main thread; the lock taken inside). */
void disk_record(struct disk_rt *rt);

/* disk_scan.c */
void disk_scan(struct fl_found *found);
/* A fill file's name, for the create + unlink fallback (and the scan). */
#define DISK_FILL_PREFIX	".faultline-fill-"

#endif
