/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup/oom.h: inside the oom fault, shared by its files:
 *   oom_parse.c    the schema (parse)
 *   oom_plan.c     check, describe, resources
 *   oom.c          apply and the ops table: live, observe, release
 *   oom_squeeze.c  the watcher thread: the squeeze and its witnesses
 *   oom_proof.c    the witnesses read: exit status, counters, kernel log,
 *                  and the victim they prove
 *   oom_capture.c  the exit status captured as the victim exits
 *                  (bpf/exitwatch), before any parent can reap it
 *   oom_revert.c   revert, from the undo record alone
 *   oom_prep.c     prepare: the handle, its witnesses and the cgroup's
 *                  descriptors opened before the timeline; apply takes
 *                  them over while they still hold
 *   oom_thresh.c   v1 usage thresholds (cgroup.event_control) that wake
 *                  the watcher when a limit write lost the race
 *   kmsg.c         the kernel's OOM report parsed (pure)
 */
#ifndef FAULTLINE_CGROUP_OOM_H
#define FAULTLINE_CGROUP_OOM_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "cgroup/kmsg.h"
#include "cgroup/oom_spec.h"

#define OOM_FLOOR		(1ULL << 20)	/* the lowest limit written */
#define OOM_PAGE		4096ULL
#define OOM_FIRST_WRITE_MS	300
#define OOM_WRITE_MS		2000
#define OOM_ENFORCE_NS		(250 * NSEC_PER_MSEC)
#define OOM_MAX_PIDS		64
#define OOM_POLL_MS		100
#define OOM_V1_TRIES		6	/* limits just above usage, per step */
#define OOM_THRESH_MAX		16	/* v1 usage thresholds per fault */

struct exitwatcher;

/* What apply settles before the watcher starts; nothing changes it after. */
struct oom_cfg {
	const struct fl_fault *f;
	const struct oom_spec *s;
	char path[PATH_MAX];		/* the squeezed cgroup */
	char rel[PATH_MAX];		/* path below the hierarchy's root */
	const char *usage_file, *limit_file, *peak_file;
	bool v1, memsw, pressure, kmsg_ok;
	bool capture;			/* exits captured (oom_capture.c) */
	bool prepared;			/* apply took over prepare's handle */
	char capture_why[256];		/* how, or why not */
	/* Watched: the target, or the cgroup's processes at apply. */
	size_t npid;
	pid_t pids[OOM_MAX_PIDS];
	/* The files faultline writes. */
	int nw;
	const char *wfile[2];
	uint64_t oom_kill0, high0;	/* the counters at apply */
	uint64_t t_start;
};

/*
 * What the squeeze did and what its witnesses saw.  The watcher's own
 * while it runs (apply's before it starts, observe's once it stopped);
 * live and observe read the copy it publishes under rt->lock.
 */
struct oom_state {
	/* The squeeze. */
	uint64_t goal;			/* where the limit should be */
	uint64_t limit;			/* what is written (UINT64_MAX: none) */
	int writes;
	bool timed_out;
	char err[200];
	/*
	 * Someone else's writes: what the kernel reported right after
	 * faultline's last write to each of wfile.  A value that differs
	 * later is someone else's: the squeeze stops and revert leaves it.
	 */
	char seen[2][32];
	bool foreign;
	int ffile;			/* which wfile */
	char found[32];

	/* Witnesses. */
	uint64_t t_dead[OOM_MAX_PIDS];	/* 0: alive */
	int status[OOM_MAX_PIDS];	/* wait status, -1 unknown */
	/* exit (captured), pidfd, waitid or proc-stat (the zombie) */
	const char *status_from[OOM_MAX_PIDS];
	uint64_t usage_dead[OOM_MAX_PIDS];
	uint64_t oom_kill, high;
	uint64_t oom_events;		/* v1 eventfd notifications */
	int thresholds;			/* v1 usage thresholds registered */
	uint64_t thresh_wakeups;	/* ... that woke the squeeze */
	uint64_t peak;
	struct oom_kmsg_log log;
};

/* The handle: one per applied fault. */
struct oom_rt {
	struct oom_cfg c;

	/* The watcher's. */
	struct oom_state w;
	uint64_t next_write, next_step;
	unsigned int v1_tries;		/* OOM_V1_TRIES (tests: fewer first) */
	int kmsgfd, evfd, ctlfd, inofd;
	int ecfd, thrfd, usefd;		/* v1: event_control, thresholds */
	int limfd, swfd;		/* limit_file, v1's memsw limit */
	/* What prepare resolved: the cgroup its descriptors are on. */
	char prep_path[PATH_MAX];
	dev_t prep_dev;
	ino_t prep_ino;
	/* The switch the record prepare saved names, or "" (oom_prep.c). */
	char sw_path[PATH_MAX];
	int pidfds[OOM_MAX_PIDS];
	struct exitwatcher *ew;		/* the exit capture, or NULL */

	/* Between the threads. */
	pthread_t th;
	bool th_started;
	atomic_bool stop;		/* the watcher ends */
	int stopfd;			/* and is woken up */
	pthread_mutex_t lock;
	struct oom_state pub;		/* under lock */

	/* The main thread's: the undo record kept up to date. */
	struct fl_undo u;
	json_object *state;
	char saved_seen[2][32];
	bool saved_foreign;
};

/* oom.c */
struct oom_rt *oom_rt_new(const struct fl_fault *f);
void oom_release(void *handle);
int oom_save(struct oom_rt *rt, struct fl_undo *u, const char *from);
int oom_where(struct oom_rt *rt, struct fl_undo *u, char *from, size_t len);
bool oom_new_scratch(const struct oom_cfg *c);

/* The switch of a record saved at prepare: "oom-<seq>-<fault>.armed". */
#define OOM_SWITCH_PREFIX	"oom-"
#define OOM_SWITCH_SUFFIX	".armed"

/* oom_prep.c */
int oom_prepare(const struct fl_fault *f, struct fl_undo *u, void **prep);
void oom_unprepare(void *prep);
struct oom_rt *oom_take_prepared(const struct fl_fault *f, struct fl_undo *u);
int oom_cg_fds(struct oom_rt *rt);
int oom_prep_record(struct oom_rt *rt, struct fl_undo *u, const char *from);
int oom_arm(struct oom_rt *rt, struct fl_undo *u);

/* oom_thresh.c */
int oom_thresh_open(struct oom_rt *rt);
unsigned int oom_first_tries(void);
void oom_thresh_arm(struct oom_rt *rt);
void oom_thresh_drain(struct oom_rt *rt);

/* oom_parse.c */
extern const char *const oom_keys[];
extern const char *const oom_cgroup_names[];
extern const char *const oom_expect_names[];
int oom_parse(struct fl_experiment *exp, const struct fl_fault *f,
	      const struct fl_node *spec, void **out, struct fl_diag *d);

/* oom_plan.c */
int oom_read_str(const char *path, char *buf, size_t len);
int oom_pid_memcg(pid_t pid, char *out, size_t len);
void oom_strip_slashes(char *path);
bool oom_is_under(const char *path, const char *dir);
void oom_add_u64(json_object *o, const char *key, uint64_t v);
int oom_check(const struct fl_fault *f, char *why, size_t len);
int oom_describe(const struct fl_fault *f, json_object *out);
int oom_resources(const struct fl_fault *f, json_object *out);

/* oom_squeeze.c */
uint64_t oom_goal_start(const struct oom_rt *rt);
int oom_enforce(struct oom_rt *rt, unsigned int ms);
void oom_readback(struct oom_rt *rt);
bool oom_foreign_check(struct oom_rt *rt);
void oom_publish(struct oom_rt *rt);
void oom_snapshot(struct oom_rt *rt, struct oom_state *out);
int oom_watch_start(struct oom_rt *rt);
void oom_watch_stop(struct oom_rt *rt);

/* oom_proof.c */
void oom_exit_status(struct oom_rt *rt, size_t i);
void oom_catch_status(struct oom_rt *rt);
int oom_read_kills(const struct oom_cfg *c, uint64_t *v);
void oom_read_counters(const struct oom_cfg *c, struct oom_state *w);
void oom_read_kmsg(struct oom_rt *rt);
bool oom_victim_dead(const struct oom_cfg *c, const struct oom_state *w);
bool oom_victim(const struct oom_cfg *c, const struct oom_state *w,
		size_t *vi, const struct oom_kill **kill);
bool oom_proven(const struct oom_cfg *c, const struct oom_state *w,
		size_t vi, const struct oom_kill *kill);
void oom_observed(const struct oom_cfg *c, const struct oom_state *w,
		  json_object *out);

/* oom_capture.c */
bool oom_capture_plan(char *why, size_t len);
int oom_capture_open(struct oom_rt *rt);
void oom_capture_start(struct oom_rt *rt);
void oom_capture_read(struct oom_rt *rt);
int oom_capture_fd(const struct oom_rt *rt);
void oom_capture_stop(struct oom_rt *rt);
void oom_mark_dead(struct oom_rt *rt, size_t i, uint64_t ns);

/* oom_revert.c */
int oom_revert(json_object *state);

#endif
