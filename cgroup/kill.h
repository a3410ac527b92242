/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup/kill.h: inside the kill fault, shared by its files:
 *   kill_parse.c   the schema (parse), the signal names
 *   kill_procs.c   the processes of a target (one function taking a
 *                  target), what is never killed and why, the pick
 *   kill_plan.c    check, describe, resources
 *   kill_proof.c   each death seen (bpf/exitwatch, else a pidfd)
 *   kill.c         apply, live, observe, release, revert and the ops table
 */
#ifndef FAULTLINE_CGROUP_KILL_H
#define FAULTLINE_CGROUP_KILL_H

#include <limits.h>
#include <sys/types.h>

#include "core/faultline.h"

/* At most this many processes are killed by one occurrence. */
#define KILL_MAX_PIDS		1024
/* How long observe waits for the exits of victims still alive. */
#define KILL_OBSERVE_WAIT_MS	200
/* The environment variable that picks the proof's methods (tests). */
#define KILL_CAPTURE_ENV	"FAULTLINE_KILL_EXIT_CAPTURE"

enum kill_pick {
	KILL_PICK_ALL,
	KILL_PICK_ONE,			/* the main process, else the oldest */
	KILL_PICK_RANDOM,		/* drawn from the experiment's seed */
	KILL_PICK_OLDEST,
	KILL_PICK_NEWEST,
};

struct kill_spec {
	const char *target_name;	/* target->name */
	struct fl_target *target;	/* in the experiment's targets */
	const struct fl_experiment *exp;	/* its seed, read at apply */
	int sig;
	enum kill_pick pick;
	bool follow_forks;		/* pid target: its descendants too */
	/*
	 * The one thing that changes after load: how many occurrences drew
	 * a random victim, so that each draws its own from the seed.
	 */
	unsigned int draws;
};

/* A process of the target, known by its start time. */
struct kill_proc {
	pid_t pid;
	unsigned long long start;	/* clock ticks after boot */
	char comm[17];
};

/* kill_parse.c */
extern const char *const kill_keys[];
extern const char *const kill_pick_names[];
int kill_parse(struct fl_experiment *exp, const struct fl_fault *f,
	       const struct fl_node *spec, void **out, struct fl_diag *d);
/* "SIGKILL" for 9; "SIG?" for an unknown number. */
const char *kill_sig_name(int sig, char *buf, size_t len);

/* kill_procs.c */
/*
 * Every process of target t now (*out malloc'ed, oldest first): a
 * cgroup's (and a command's scratch cgroup's) cgroup.procs, a pid and,
 * with follow, its descendants.  main: the target's own process (pid,
 * command), 0 for a cgroup.
 */
int kill_procs(const struct fl_target *t, bool follow, struct kill_proc **out,
	       size_t *n, pid_t *main_pid);
/* Why pid must never be killed (init, faultline, its guardian or an
 * ancestor, a kernel thread), or NULL. */
const char *kill_never(pid_t pid);
/* A pid target that may not be killed, before its processes are listed
 * (init and kernel threads may not be listable): 0, or -EPERM with why. */
int kill_refuse_target(const struct kill_spec *s, char *why, size_t len);
/*
 * The target's processes once neither it (kill_refuse_target) nor one of
 * them (kill_refuse) is refused: 0 with *v (freed by the caller) and *n,
 * maybe 0; or -errno with why.
 */
int kill_list(const struct kill_spec *s, struct kill_proc **v, size_t *n,
	      pid_t *main_pid, char *why, size_t len);
/* Every process of v that may not be killed: 0, or -EPERM with why. */
int kill_refuse(const struct kill_spec *s, const struct kill_proc *v,
		size_t n, char *why, size_t len);
/*
 * The victims among v[0..n) for s's pick, into idx (*nidx of them);
 * random draws from the experiment's seed, key (the fault's) and draw
 * (the occurrence's number).
 */
void kill_pick(const struct kill_spec *s, const struct kill_proc *v,
	       size_t n, pid_t main_pid, const char *key, unsigned int draw,
	       size_t *idx, size_t *nidx);
/* The key random draws from for fault f: "kill/NAME". */
void kill_draw_key(const struct fl_fault *f, char *buf, size_t len);

/* kill_plan.c */
int kill_check(const struct fl_fault *f, char *why, size_t len);
int kill_describe(const struct fl_fault *f, json_object *out);
int kill_resources(const struct fl_fault *f, json_object *out);

/* kill_proof.c: each victim's death, as it happens. */
struct kill_victim {
	struct kill_proc p;
	int pidfd;			/* -1 once its exit is seen */
	int sent;			/* 0, or -errno of the signal */
	bool dead;
	bool seen;			/* its exit status was captured */
	int status;			/* the wait status, when seen */
	uint64_t t_dead;		/* CLOCK_MONOTONIC ns */
};

struct kill_proof;

/* Will apply see the exit statuses?  why: how, or why not. */
bool kill_proof_plan(char *why, size_t len);
/* Start watching v[0..n) before any signal: never fatal (*out NULL
 * means the pidfds alone; why says why). */
void kill_proof_start(struct kill_victim *v, size_t n,
		      struct kill_proof **out, char *why, size_t len);
/* Take every exit that waits into v. */
void kill_proof_read(struct kill_proof *pf, struct kill_victim *v, size_t n);
void kill_proof_stop(struct kill_proof *pf);

/* kill.c */
int kill_revert(json_object *state);

#endif
