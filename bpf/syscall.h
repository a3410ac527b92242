/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/: the syscall engine's parts, and what they share.
 *   syscall_parse.c   the fault's schema, into struct syscall_spec
 *   syscall_plan.c    a route per call on this kernel, check
 *   syscall_describe.c the plan for people, resources
 *   syscall_load.c    sysfault.bpf.c loaded and attached as planned
 *   syscall_events.c  the injections read from the ring buffer: live,
 *                     observe
 *   syscall_seccomp.c the seccomp route for command targets: the filter
 *                     installed before exec, the listener's answers
 *   syscall.c         the ops: apply, revert from the record, release
 */
#ifndef FAULTLINE_SYSCALL_H
#define FAULTLINE_SYSCALL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include <linux/types.h>

#include "bpf/bpfault.h"
#include "bpf/syscall_spec.h"
#include "bpf/sysfault.h"

struct fl_undo;
struct bpf_program;
struct bpf_link;
struct ring_buffer;
struct sysfault;

#define APPEND(buf, len, off, ...) do { \
		if ((off) < (len)) \
			(off) += snprintf((buf) + (off), (len) - (off), \
					  __VA_ARGS__); \
	} while (0)

/* syscall_parse.c */
extern const char *const syscall_keys[];
int syscall_parse(struct fl_experiment *exp, const struct fl_fault *f,
		  const struct fl_node *spec, void **out, struct fl_diag *d);
void syscall_spec_free(void *spec);

/* syscall_plan.c: the plan, a route per call. */
enum sc_route {
	SC_NONE,
	SC_FMOD_SYSCALL,	/* fmod_ret/__x64_sys_* */
	SC_KPROBE,		/* kprobe/__x64_sys_* + bpf_override_return */
	SC_LSM,			/* lsm/<hook> */
	SC_FMOD_SECURITY,	/* fmod_ret/security_<hook> */
	SC_CGROUP,		/* cgroup/<hook>4|6 + bpf_set_retval */
	SC_SECCOMP,		/* seccomp user notification (commands) */
};

struct sc_plan {
	int have[FL_BPF_NR_FEATURES];	/* fl_bpf_probe() results */
	char why[FL_BPF_NR_FEATURES][256];
	enum sc_route *route;		/* per call */
	bool forks_ok;
	enum fl_bpf_feature fork_prog;
	int seccomp;			/* sc_seccomp_probe() */
	char seccomp_why[256];
};

/* Probe this kernel and choose a route per call; sc_free_plan after. */
int sc_make_plan(const struct syscall_spec *s, struct sc_plan *p);
void sc_free_plan(struct sc_plan *p);
bool sc_feat(const struct sc_plan *p, enum fl_bpf_feature f);
/*
 * What a route reaches by the plan's own rules, for doctor: its calls
 * (none listed: any call, at most max_calls when not 0), the target kinds
 * that can take it (a cgroup target: one whose folder is in cgroup v2),
 * and the filters it honours (NULL: all).
 */
struct sc_reach {
	const char *calls[64];
	size_t ncalls, max_calls;
	bool kind[FL_TARGET_COMMAND + 1];
	const char *filters;
};
void sc_route_reach(enum sc_route r, struct sc_reach *out);
/* The LSM hook a call passes through, its cgroup hooks; NULL: none. */
const char *sc_lsm_hook(const char *call);
const char *sc_cgroup_hook(const char *call);
int sc_target_cgroup(const struct syscall_spec *s, char *buf, size_t len);
bool sc_cgroup_scoped(const struct syscall_spec *s);
bool sc_cgroup_v2(const struct syscall_spec *s);
/*
 * Why calls have no route, naming the kernel options that would allow
 * them: the named calls (or, with groups, the calls left out of groups);
 * verbose adds what the probes said here.
 */
void sc_refuse_why(const struct syscall_spec *s, const struct sc_plan *p,
		   bool from_groups, bool verbose, char *buf, size_t len);
int syscall_check(const struct fl_fault *f, char *why, size_t len);

/* syscall_describe.c */
int syscall_describe(const struct fl_fault *f, json_object *out);
int syscall_resources(const struct fl_fault *f, json_object *out);

/*
 * One applied fault, the handle the runner keeps: its programs, links and
 * event reader, and what the reader counted.
 */
struct sf_rt {
	const struct syscall_spec *s;
	struct sysfault *skel;
	struct bpf_link **links;
	size_t nlinks;
	struct ring_buffer *rb;
	int epfd, evfd;			/* the reader's epoll, its wake-up */
	pthread_t reader;
	bool reading;
	atomic_bool stop;
	int64_t mono_to_wall;		/* wall ns - monotonic ns */
	pthread_mutex_t lock;		/* the counters below */
	uint64_t events;		/* events read */
	uint64_t per_call[SF_MAX_NR];
	uint64_t per_errno[4096];
	json_object *first;		/* the first events, for the report */
	struct sc_notify *sn;		/* the seccomp route's child handle */
	char sw_path[PATH_MAX];		/* its window's switch, or "" */
};

#define SF_FIRST_EVENTS	20

/* syscall_load.c: a program to attach, and where. */
struct sf_attach {
	struct bpf_program *prog;
	bool cgroup;			/* attach to the cgroup fd */
	bool kprobe;			/* a kprobe on func */
	char func[64];			/* route 1: __x64_sys_<call> */
	char what[PATH_MAX + 64];
};

/*
 * Open sysfault.bpf.c with the settings and the programs the plan needs
 * (in at[], at most *nat; *nat becomes their number), save the record
 * of what is about to be attached, load.
 */
int sf_load(struct sf_rt *rt, const struct sc_plan *p, const char *cg,
	    struct sf_attach *at, size_t *nat, struct fl_undo *u);
/* A pid target's thread-group ids (and its descendants') in fl_targets. */
void sf_seed_targets(struct sf_rt *rt);
int sf_attach_all(struct sf_rt *rt, const struct sf_attach *at, size_t n,
		  const char *cg, struct fl_undo *u);
/* Save the record of what is about to be attached (before attaching). */
int sf_save_record(const struct sf_rt *rt, const struct sf_attach *at,
		   size_t n, struct fl_undo *u);
/* Save the record again with the ids revert needs. */
int sf_save_ids(const struct sf_rt *rt, const struct sf_attach *at,
		size_t n, struct fl_undo *u);

/* syscall_events.c */
int sf_reader_start(struct sf_rt *rt, struct fl_undo *u);
void sf_reader_stop(struct sf_rt *rt);
int syscall_live(void *handle, json_object *out);
int syscall_observe(void *handle, json_object *out);

/* syscall_seccomp.c */
struct sc_notify;
/* With a path filter, the route takes calls on a descriptor only. */
bool sc_seccomp_path_ok(const char *call);
int syscall_child_setup(const struct fl_fault *f);
int syscall_child_adopt(const struct fl_fault *f, int fd, void **child,
			int *aux);
void syscall_child_release(void *child);
int syscall_guard(int fd, int aux);
void sc_seccomp_switch_path(const struct fl_fault *f, struct fl_undo *u,
			    char *buf, size_t len);
void sc_seccomp_record(const struct sf_rt *rt, json_object *o);
int sc_seccomp_arm(struct sf_rt *rt, struct fl_undo *u);
int sc_seccomp_revert(json_object *state);
void sc_seccomp_counts(struct sc_notify *sn, uint64_t *events,
		       uint64_t *per_call, uint64_t *per_errno,
		       json_object *first);

#endif
