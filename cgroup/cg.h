/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup/: the one place that talks to libcgroup 2.0.2 for the memory
 * controller, and works around its gaps:
 *  - it has no v1/v2 name translation: callers pick the file names from
 *    the detected mode (fl_kernel_get()->memory_mode);
 *  - cgroup_attach_task_pid() writes one thread id to v1 "tasks", so
 *    cg_move_procs() writes the process to cgroup.procs, which moves
 *    every thread on v1 and v2 alike;
 *  - cgroup_get_value_uint64() fails on "max": cg_read_u64() reads the
 *    string and maps "max" (and v1's page-counter maximum) to UINT64_MAX;
 *  - a failed write comes back as ECGOTHER: cg_write() returns the real
 *    -errno from cgroup_get_last_errno().
 * Paths are absolute folders under the memory hierarchy's mount.
 */
#ifndef FAULTLINE_CG_H
#define FAULTLINE_CG_H

#include <stdint.h>
#include <sys/types.h>

/* v1's "unlimited" reads back as this page-counter maximum. */
#define CG_V1_UNLIMITED	9223372036854771712ULL

int cg_init(void);
/*
 * dir/file as a plain file, whatever the controller (the freezer's, v2's
 * cgroup.freeze): its first line without the newline; one write.
 */
int cg_file_read(const char *dir, const char *file, char *buf, size_t len);
int cg_file_write(const char *dir, const char *file, const char *val);
/* The first line of a control file, without the newline. */
int cg_read(const char *dir, const char *file, char *buf, size_t len);
/* A number; "max" and v1's unlimited read as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *v);
/* "key N" in a flat keyed file (memory.events, memory.stat, oom_control). */
int cg_read_key(const char *dir, const char *file, const char *key,
		uint64_t *v);
/*
 * Write a value.  timeout_ms (0: none) bounds writes that reclaim: the
 * write is interrupted by a timer signal and -ETIMEDOUT returned.
 */
int cg_write(const char *dir, const char *file, const char *val,
	     unsigned int timeout_ms);
/*
 * The same write to a control file already open for writing (prepared
 * before the timeline): no path walk, no libcgroup.
 */
int cg_write_fd(int fd, const char *val, unsigned int timeout_ms);
int cg_write_u64(const char *dir, const char *file, uint64_t v,
		 unsigned int timeout_ms);
/* Create a child cgroup folder (EEXIST is an error: it must be ours). */
int cg_create(const char *dir);
/* Remove an empty cgroup; ENOENT counts as done. */
int cg_remove(const char *dir);
/* Move a process with all its threads (cgroup.procs). */
int cg_move_procs(const char *dir, pid_t pid);

#endif
