/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup/pause.h: inside the pause fault, shared by its files:
 *   pause_parse.c   the schema (parse)
 *   pause_plan.c    where the target freezes and how (resolve), check,
 *                   describe, resources
 *   pause_freeze.c  the cgroup freezer, v2 cgroup.freeze and v1
 *                   freezer.state: freeze and wait, thaw, read the state
 *   pause_stop.c    SIGSTOP/SIGCONT of a process tree, each pid known by
 *                   its start time
 *   pause.c         apply, live, observe, release, revert and the ops table
 *   pause_scan.c    recover --scan: cgroups of ours left frozen
 */
#ifndef FAULTLINE_CGROUP_PAUSE_H
#define FAULTLINE_CGROUP_PAUSE_H

#include <limits.h>
#include <sys/types.h>

#include "core/faultline.h"

/* How long apply waits for the kernel to report the freeze. */
#define PAUSE_FREEZE_MS		5000
/* How long release waits for the thaw to show. */
#define PAUSE_THAW_MS		2000
/* The xattr that marks a cgroup faultline froze, its value the run id. */
#define PAUSE_XATTR		"trusted.faultline.pause"
/* At most this many processes are stopped with signals. */
#define PAUSE_MAX_PIDS		1024

struct pause_spec {
	const char *target_name;	/* target->name */
	struct fl_target *target;	/* in the experiment's targets */
	bool follow_forks;		/* signal: the children too */
};

enum pause_how {
	PAUSE_V2,			/* cgroup.freeze */
	PAUSE_V1,			/* freezer.state */
	PAUSE_SIGNAL,			/* SIGSTOP/SIGCONT */
};

/* Where the target freezes, and how. */
struct pause_where {
	enum pause_how how;
	char path[PATH_MAX];		/* V1, V2: the cgroup; "" until run */
	pid_t pid;			/* SIGNAL: the root of the tree */
};

/* A process we stopped, known by its start time. */
struct pause_pid {
	pid_t pid;
	unsigned long long start;
	bool theirs;			/* stopped already: never signalled */
};

/* pause_parse.c */
extern const char *const pause_keys[];
int pause_parse(struct fl_experiment *exp, const struct fl_fault *f,
		const struct fl_node *spec, void **out, struct fl_diag *d);

/* pause_plan.c */
const char *pause_how_name(enum pause_how how);
int pause_resolve(const struct pause_spec *s, struct pause_where *pw,
		  char *why, size_t len);
int pause_refuse(const struct pause_spec *s, const struct pause_where *pw,
		 char *why, size_t len);
int pause_check(const struct fl_fault *f, char *why, size_t len);
int pause_describe(const struct fl_fault *f, json_object *out);
int pause_resources(const struct fl_fault *f, json_object *out);

/* pause_freeze.c */
/* 1 frozen, 0 thawed, -errno; *self: frozen by its own file (not only
 * through an ancestor). */
int pause_frozen(enum pause_how how, const char *path, bool *self);
int pause_freeze(enum pause_how how, const char *path, int timeout_ms,
		 char *why, size_t len);
int pause_thaw(enum pause_how how, const char *path);

/* pause_stop.c */
int pause_tree(pid_t root, bool follow, struct pause_pid **out, size_t *n);
int pause_stopped_any(pid_t root, bool follow, pid_t *which);
bool pause_is_stopped(const struct pause_pid *p);
int pause_stop_one(const struct pause_pid *p, int timeout_ms);
int pause_cont(const struct pause_pid *p);

/* pause.c */
int pause_revert(json_object *state);

/* pause_scan.c */
void pause_scan(struct fl_found *found);

#endif
