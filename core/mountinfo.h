/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core/mountinfo.h: the one reader of /proc/self/mountinfo, for core's
 * own use (the cgroup layout in core/kernel.c, nsfs bind mounts in
 * core/netns.c).
 */
#ifndef FAULTLINE_MOUNTINFO_H
#define FAULTLINE_MOUNTINFO_H

/*
 * One mount: root is the mounted folder (or nsfs's "net:[4026531840]"),
 * mnt the mount point with its escapes undone, fstype and superopts as
 * the kernel writes them.  Return nonzero to stop the walk.
 */
typedef int (*fl_mount_fn)(void *ctx, const char *root, const char *mnt,
			   const char *fstype, const char *superopts);

/* Walk this process's mounts; fn's nonzero return, 0, or -errno. */
int fl_mountinfo_each(fl_mount_fn fn, void *ctx);

#endif
