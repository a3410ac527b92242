/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faultline core: the public header of core/.
 *
 * The experiment model, the YAML document tree with positions, unit
 * parsing, diagnostics, the fault-engine ops table, the journal, the runner
 * and the one reporting layer.  Every function returns 0 or -errno unless
 * said otherwise.
 */
#ifndef FAULTLINE_CORE_H
#define FAULTLINE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <json-c/json.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Room for element n of the array *v (*cap elements of size bytes): the
 * array doubles when full, from first elements.  0, or -ENOMEM with *v
 * unchanged.  FL_GROW(v, cap, n, first) for a typed pointer v.
 */
int fl_grow(void **v, size_t *cap, size_t n, size_t size, size_t first);
#define FL_GROW(v, cap, n, first) \
	fl_grow((void **)&(v), &(cap), (n), sizeof(*(v)), (first))

/*
 * Run fn(out, arg) in a forked child and copy the len bytes it leaves in
 * out back into the caller's out (the child's other changes are lost
 * with it).  0, -ETIMEDOUT after timeout_ms (the child is killed), or
 * -errno.  core/inchild.c.
 */
int fl_in_child(void (*fn)(void *out, void *arg), void *arg, void *out,
		size_t len, int timeout_ms);

/*
 * In a forked child that must not outlive parent (the pid its parent had
 * before the fork): SIGKILL when parent dies, so that a runner killed
 * while a probe's child waits for it leaves nothing behind.  0, or
 * -ESRCH when parent is gone already (then the child must _exit), or
 * -errno.  core/inchild.c.
 */
int fl_die_with_parent(pid_t parent);

/* names[v], or dflt when v is out of the table or has no name there. */
static inline const char *fl_enum_name(const char *const *names, size_t n,
				       int v, const char *dflt)
{
	return v >= 0 && (size_t)v < n && names[v] ? names[v] : dflt;
}

/* Exit statuses, documented in faultline(8). */
enum fl_exit {
	FL_EXIT_OK = 0,		/* ran, every expectation held */
	FL_EXIT_EXPECT = 1,	/* ran, an expectation failed */
	FL_EXIT_USAGE = 2,	/* usage or validation error */
	FL_EXIT_UNSUPPORTED = 3,/* this kernel or machine cannot do it */
	FL_EXIT_APPLY = 4,	/* applying a fault failed, all reverted */
};

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* ------------------------------------------------------------------ */
/* Diagnostics: every problem at once, as file:line:col: message.      */

struct fl_node;

struct fl_diag_entry {
	char *file;
	unsigned int line, col;		/* 1-based; 0 when unknown */
	char *msg;
};

struct fl_diag {
	struct fl_diag_entry *v;
	size_t n, cap;
};

void fl_diag_init(struct fl_diag *d);
void fl_diag_free(struct fl_diag *d);
/* Record an error at a node (or at file level when at is NULL). */
void fl_diag_err(struct fl_diag *d, const struct fl_node *at,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fl_diag_at(struct fl_diag *d, const char *file, unsigned int line,
		unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Sort by position and print "file:line:col: msg" lines. */
void fl_diag_print(struct fl_diag *d, FILE *out);
json_object *fl_diag_json(const struct fl_diag *d);

/* The closest of names[] to word, or NULL when nothing is close. */
const char *fl_did_you_mean(const char *word, const char *const *names);

/* ------------------------------------------------------------------ */
/* YAML document tree (libyaml), with positions for every node.        */

enum fl_node_type {
	FL_NODE_SCALAR,
	FL_NODE_SEQ,
	FL_NODE_MAP,
};

struct fl_pair {
	struct fl_node *key;
	struct fl_node *value;
};

struct fl_node {
	enum fl_node_type type;
	const char *file;
	unsigned int line, col;		/* 1-based */
	char *scalar;			/* FL_NODE_SCALAR */
	bool quoted;			/* the scalar was quoted */
	size_t n;			/* items or pairs */
	struct fl_node **items;		/* FL_NODE_SEQ */
	struct fl_pair *pairs;		/* FL_NODE_MAP */
};

struct fl_doc {
	char *file;
	struct fl_node *root;
};

/* Parse a file (or a buffer) into a tree; syntax errors go to d. */
int fl_doc_load(const char *path, struct fl_doc **out, struct fl_diag *d);
int fl_doc_load_buf(const char *name, const char *buf, size_t len,
		    struct fl_doc **out, struct fl_diag *d);
void fl_doc_free(struct fl_doc *doc);
/*
 * fl_doc_load refuses, like sudo, a file that is world-writable or owned
 * by someone other than root, us or the user who ran sudo (SUDO_UID),
 * unless this is set (--allow-insecure-file).
 */
extern bool fl_allow_insecure_file;

const char *fl_node_type_name(const struct fl_node *n);
/* Value of key in a map, or NULL. */
const struct fl_node *fl_map_get(const struct fl_node *map, const char *key);
/*
 * Check a map: it must be a map, keys must be among keys[] (NULL
 * terminated), with no duplicates.  Unknown keys get a did-you-mean.
 * what names the map in messages ("netem", "fault").
 */
int fl_map_check(const struct fl_node *map, const char *const *keys,
		 const char *what, struct fl_diag *d);
/*
 * A map inside an engine's map that must say something: fl_map_check,
 * which sets *err on a wrong key, then "what: empty; hint" for an empty
 * one.  -EINVAL when it is not a map or is empty: nothing to parse.
 */
int fl_submap_check(const struct fl_node *map, const char *const *keys,
		    const char *what, const char *hint, int *err,
		    struct fl_diag *d);
/* A required key: reports "what: missing 'key'" at the map. */
const struct fl_node *fl_map_need(const struct fl_node *map, const char *key,
				  const char *what, struct fl_diag *d);
/* A plain ~, null or empty scalar (what "key:" alone gives). */
bool fl_node_is_null(const struct fl_node *n);
/* For "got ..." in messages: "a map", "a sequence", "a scalar", "nothing". */
const char *fl_node_desc(const struct fl_node *n);
/* s made safe to quote in a message (printable, cut at 40 chars). */
const char *fl_quote(const char *s, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Units.  The fl_parse_* functions take a string, return 0, -EINVAL or */
/* -ERANGE, and set *why to a static explanation on error.              */

int fl_parse_duration(const char *s, uint64_t *ns, const char **why);
int fl_parse_size(const char *s, uint64_t *bytes, const char **why);
/* "2.5%" -> 2.5; the % sign is required; 0..100. */
int fl_parse_percent(const char *s, double *pct, const char **why);
/* "10mbit", "1gbit", "500kbps" -> bits per second. */
int fl_parse_rate(const char *s, uint64_t *bps, const char **why);
int fl_parse_u64(const char *s, uint64_t *v, const char **why);
int fl_parse_bool(const char *s, bool *v, const char **why);
/* "EIO" -> 5; also accepts plain numbers 1..4095. */
int fl_parse_errno(const char *s, int *err, const char **why);
const char *fl_errno_name(int err);
/* "openat" -> x86_64 syscall number. */
int fl_parse_syscall(const char *s, int *nr, const char **why);
const char *fl_syscall_name(int nr);

struct fl_cidr {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;			/* 0..32 or 0..128 */
};
/* "10.0.0.1", "10.0.2.0/24", "fd00::/64"; host bits must be zero. */
int fl_parse_cidr(const char *s, struct fl_cidr *c, const char **why);
int fl_cidr_str(const struct fl_cidr *c, char *buf, size_t len);
bool fl_cidr_contains(const struct fl_cidr *net, const struct fl_cidr *addr);

/* Formatting helpers for plans and reports. */
char *fl_fmt_duration(uint64_t ns, char *buf, size_t len);
char *fl_fmt_size(uint64_t bytes, char *buf, size_t len);

/*
 * Node getters: parse a node of the right type, report "file:line:col:
 * what: why" on error and return -EINVAL.  Engines use these in parse.
 */
int fl_get_string(const struct fl_node *v, const char *what, char **out,
		  struct fl_diag *d);
int fl_get_duration(const struct fl_node *v, const char *what, uint64_t *ns,
		    struct fl_diag *d);
int fl_get_size(const struct fl_node *v, const char *what, uint64_t *bytes,
		struct fl_diag *d);
/* The same, and above 0 ("what: must be above 0"). */
int fl_get_duration_pos(const struct fl_node *v, const char *what,
			uint64_t *ns, struct fl_diag *d);
int fl_get_size_pos(const struct fl_node *v, const char *what,
		    uint64_t *bytes, struct fl_diag *d);
int fl_get_rate_pos(const struct fl_node *v, const char *what, uint64_t *bps,
		    struct fl_diag *d);
int fl_get_percent(const struct fl_node *v, const char *what, double *pct,
		   struct fl_diag *d);
int fl_get_rate(const struct fl_node *v, const char *what, uint64_t *bps,
		struct fl_diag *d);
int fl_get_u64(const struct fl_node *v, const char *what, uint64_t min,
	       uint64_t max, uint64_t *out, struct fl_diag *d);
int fl_get_bool(const struct fl_node *v, const char *what, bool *out,
		struct fl_diag *d);
/* names[] is NULL terminated; *out is the index. */
int fl_get_enum(const struct fl_node *v, const char *what,
		const char *const *names, int *out, struct fl_diag *d);
/* Map m's optional key: *out untouched when it is absent. */
int fl_opt_enum(const struct fl_node *m, const char *key,
		const char *const *names, int *out, struct fl_diag *d);
int fl_opt_bool(const struct fl_node *m, const char *key, bool *out,
		struct fl_diag *d);
int fl_get_errno(const struct fl_node *v, const char *what, int *err,
		 struct fl_diag *d);
int fl_get_syscall(const struct fl_node *v, const char *what, int *nr,
		   struct fl_diag *d);
int fl_get_cidr(const struct fl_node *v, const char *what,
		struct fl_cidr *out, struct fl_diag *d);
/* A sequence of strings (a lone scalar is taken as a list of one). */
int fl_get_strv(const struct fl_node *v, const char *what, char ***out,
		size_t *n, struct fl_diag *d);
void fl_strv_free(char **v);
/*
 * A command (exec:, command:): fl_get_strv, but one string with blanks or
 * shell syntax is an error showing the list and [sh, -c, ...] forms.
 */
int fl_get_argv(const struct fl_node *v, const char *what, char ***argv,
		size_t *argc, struct fl_diag *d);
/* A lone scalar or a sequence: how many items (1 for a scalar), the i-th. */
size_t fl_node_count(const struct fl_node *v);
const struct fl_node *fl_node_item(const struct fl_node *v, size_t i);

/* ------------------------------------------------------------------ */
/* The experiment model.                                               */

enum fl_target_kind {
	FL_TARGET_PID,
	FL_TARGET_CGROUP,
	FL_TARGET_COMMAND,
};

struct fl_target {
	char *name;
	enum fl_target_kind kind;
	pid_t pid;			/* PID, or the started command's */
	char *cgroup;			/* CGROUP: as written */
	char **argv;			/* COMMAND */
	bool restart;			/* COMMAND: run starts it again when
					 * it exits (restart: true) */
	const struct fl_node *node;
	/*
	 * Run time, COMMAND: the scratch cgroups run started it in, in the
	 * memory hierarchy and in the v2 hierarchy (the same on pure v2).
	 */
	char *scratch_memory;
	char *scratch_unified;
	/*
	 * A container (core/container.c): to the engines a CGROUP target,
	 * whose cgroup (the container's, in both hierarchies) and network
	 * namespace core resolves through the runtime at check; cgroup
	 * then points at its resolved folder ("" before).
	 */
	struct fl_container *container;
};

enum fl_fault_state {
	FL_FAULT_PENDING,
	FL_FAULT_ACTIVE,
	FL_FAULT_REVERTED,
	FL_FAULT_SKIPPED,
	FL_FAULT_FAILED,
};

/* "pending", "active", ...: the word the events, the report and the
 * live view use. */
const char *fl_fault_state_name(enum fl_fault_state s);

struct fl_engine;
struct fl_container;

#define FL_FAULT_USES_MAX	8

/*
 * repeat: { every, for, times, jitter } on a fault: occurrence k (0-based)
 * starts at at + k * every + a jitter drawn in [0, jitter] from the
 * drill's seed, and lasts for.  times 0: as many as end within the
 * drill's duration.  core/repeat.c.
 */
struct fl_repeat {
	bool on;			/* the fault has repeat: */
	uint64_t every_ns;
	uint64_t for_ns;		/* each occurrence's length */
	uint64_t jitter_ns;
	unsigned int times;		/* 0: until the drill ends */
	const struct fl_node *node;
};

/*
 * A fault as the file gives it: the model, which nothing changes once the
 * file is loaded.  What happens to it in a run (its state, its journal
 * record, the engine's handle) is the runner's, in a struct of its own.
 */
struct fl_fault {
	char *name;
	const struct fl_engine *engine;
	void *priv;			/* the engine's parsed spec */
	uint64_t at_ns;
	uint64_t for_ns;		/* 0 with !has_for: until the end */
	bool has_for;
	bool optional;
	struct fl_repeat repeat;
	const struct fl_node *node;	/* the fault's map */
	const struct fl_node *spec;	/* the engine's map */
	/*
	 * The targets the engine's parse named (fl_get_target), so that
	 * core can resolve a container again before apply; and, for an
	 * engine with in_netns, the target: whose network namespace core
	 * enters around check, describe, apply, live and observe.
	 */
	const struct fl_target *uses[FL_FAULT_USES_MAX];
	size_t nuses;
	const struct fl_target *netns_target;
};

/*
 * A probe's steady-state hypothesis (expect: before/during/after/always,
 * core/steady.c): what its runs must do in each phase of the drill.  A run
 * belongs to the phase it starts in.
 */
enum fl_expect { FL_EXPECT_PASS, FL_EXPECT_FAIL, FL_EXPECT_ANY };

enum fl_phase {
	FL_PHASE_ALWAYS,		/* no other phase (or none given) */
	FL_PHASE_BEFORE,		/* before the first fault is applied */
	FL_PHASE_AFTER,			/* every fault done and reverted */
	FL_PHASE_DURING,		/* + k: during[k]'s fault is active */
};

struct fl_steady_during {
	size_t fault;			/* index in the experiment's faults */
	enum fl_expect expect;
};

struct fl_steady {
	enum fl_expect always, before, after;
	bool has_before, has_after;
	struct fl_steady_during *during;
	size_t nduring;
};

struct fl_probe {
	char *name;
	char **argv;
	uint64_t every_ns;
	uint64_t timeout_ns;
	int expect_exit;
	struct fl_steady steady;
	const struct fl_node *node;
};

struct fl_experiment {
	char *file;
	char *name;
	uint64_t duration_ns;
	struct fl_target *targets;
	size_t ntargets;
	struct fl_fault *faults;
	size_t nfaults;
	struct fl_probe *probes;
	size_t nprobes;
	char *report_json;		/* report: { json: } or NULL */
	/*
	 * The seed of the repeats' jitter: the file's seed:, --seed
	 * (fl_experiment_set_seed), or drawn at random when the file is
	 * loaded; the run prints it and the report keeps it.
	 */
	uint64_t seed;
	enum fl_seed_from {
		FL_SEED_RANDOM,
		FL_SEED_FILE,
		FL_SEED_OPTION,
	} seed_from;
	struct fl_doc *doc;
};

/* Steady-state probes (core/steady.c). */

/* A probe's expect: map (exit and the phases) into p, said into d. */
int fl_steady_parse(const struct fl_experiment *exp, struct fl_probe *p,
		    const struct fl_node *expect, struct fl_diag *d);
void fl_steady_free(struct fl_steady *s);
/* How many phases a probe counts: always, before, after, each during. */
size_t fl_steady_nphases(const struct fl_steady *s);
/*
 * The phase of a run that starts now: active[i] says fault i is active,
 * begun that some fault was applied, done that every fault is over.
 */
size_t fl_steady_phase(const struct fl_steady *s, const bool *active,
		       bool begun, bool done);
enum fl_expect fl_steady_expect(const struct fl_steady *s, size_t phase);
/* A run that passed (its exit) meets what its phase expects. */
bool fl_steady_met(enum fl_expect e, bool pass);
const char *fl_expect_name(enum fl_expect e);
/* "before", "after", "always" or "during" (then the fault's name). */
const char *fl_phase_name(size_t phase);
/* "during cut", "before the faults", "always": the phase for people. */
char *fl_phase_text(const struct fl_experiment *exp, const struct fl_steady *s,
		    size_t phase, char *buf, size_t len);
/*
 * What a phase's runs came to, for people: "expected to fail during cut,
 * but passed 12/12", "passed 4/4 before the faults".  True when met.
 */
bool fl_steady_text(enum fl_expect e, const char *phase, unsigned int runs,
		    unsigned int passed, char *buf, size_t len);
/* "before: pass, during cut: fail, after: pass, otherwise: pass", or ""
 * for a probe whose every run must pass (plan). */
char *fl_steady_describe(const struct fl_experiment *exp,
			 const struct fl_steady *s, char *buf, size_t len);

/*
 * Load and validate an experiment file.  Every problem goes to d; the
 * return is -EINVAL when d holds errors.
 */
int fl_experiment_load(const char *path, struct fl_experiment **out,
		       struct fl_diag *d);
int fl_experiment_load_buf(const char *name, const char *buf, size_t len,
			   struct fl_experiment **out, struct fl_diag *d);
void fl_experiment_free(struct fl_experiment *exp);
struct fl_target *fl_experiment_target(const struct fl_experiment *exp,
				       const char *name);
/*
 * Faults whose windows overlap and which claim one object (the engines'
 * claims op) into d, at the later fault; the loader calls it last.
 * 0 (d says what collides) or -ENOMEM.
 */
int fl_experiment_collisions(const struct fl_experiment *exp,
			     struct fl_diag *d);
/* Parse a target reference (a name from targets:), reporting if unknown. */
int fl_get_target(const struct fl_experiment *exp, const struct fl_node *v,
		  const char *what, struct fl_target **out, struct fl_diag *d);
/* An engine's required "target" key: the target it names (0 or -EINVAL). */
int fl_need_target(const struct fl_experiment *exp, const struct fl_node *spec,
		   const char *engine, struct fl_target **out,
		   struct fl_diag *d);

/* ------------------------------------------------------------------ */
/* Repeats: a fault's occurrences on the timeline (core/repeat.c).     */

/* One occurrence: its planned window on the timeline (relative ns). */
struct fl_occurrence {
	uint64_t at;
	uint64_t end;
	uint64_t jitter;		/* drawn, included in at */
};

/*
 * The repeat: map of fault f (called by the loader): every, for, times,
 * jitter checked against each other and the drill's duration.
 */
int fl_repeat_parse(const struct fl_experiment *exp, struct fl_fault *f,
		    const struct fl_node *v, const char *what,
		    struct fl_diag *d);
/*
 * Fault f's occurrences with the experiment's seed, in time order (*out
 * malloc'ed, *n of them): one for a fault without repeat (from at to
 * at + for, or to the drill's end), else every repeat.  0 or -ENOMEM.
 */
int fl_fault_occurrences(const struct fl_experiment *exp,
			 const struct fl_fault *f, struct fl_occurrence **out,
			 size_t *n);
/* The jitter of occurrence k of the fault named name, from seed: in
 * [0, max], the same for the same three. */
uint64_t fl_repeat_jitter(uint64_t seed, const char *name, unsigned int k,
			  uint64_t max);
/* Any fault's repeat draws jitter (so the seed matters). */
bool fl_experiment_jitters(const struct fl_experiment *exp);
/* A random seed, for a file that gives none (32 bits: short to type). */
uint64_t fl_seed_draw(void);
/* --seed: "42" into exp->seed; -EINVAL or -ERANGE with why. */
int fl_experiment_set_seed(struct fl_experiment *exp, const char *s,
			   const char **why);

/* ------------------------------------------------------------------ */
/* Kernel facts, probed lazily and cached (core/kernel.c).             */

enum fl_cg_mode {
	FL_CG_NONE,
	FL_CG_V1,
	FL_CG_V2,
};

struct fl_kernel {
	bool probed;
	char release[65];
	bool btf;
	char lsm[256];			/* active LSMs, or "" when unknown */
	bool lsm_known;
	char lockdown[32];
	enum fl_cg_mode memory_mode;	/* where the memory controller is */
	char memory_root[256];		/* its mount point */
	char unified_root[256];		/* the v2 mount, or "" */
	uint64_t swap_total;		/* bytes */
};

const struct fl_kernel *fl_kernel_get(void);

/* Which cgroup hierarchies are mounted. */
enum fl_cg_layout {
	FL_CG_LAYOUT_NONE,
	FL_CG_LAYOUT_V1,		/* v1 hierarchies only */
	FL_CG_LAYOUT_V2,		/* the unified hierarchy only */
	FL_CG_LAYOUT_HYBRID,		/* v1 hierarchies and a v2 mount */
};

/* Where one controller lives. */
struct fl_cg_controller {
	char name[32];
	bool enabled;			/* not disabled on the command line */
	enum fl_cg_mode mode;		/* FL_CG_NONE: in no mounted hierarchy */
	char mount[256];		/* its mount point, or "" */
};

#define FL_CG_MAX_CONTROLLERS	32

/* More kernel facts, probed together with struct fl_kernel. */
struct fl_kernel_more {
	char lsm_how[160];		/* where lsm/lockdown came from, or why
					 * they are unknown */
	bool lockdown_known;
	enum fl_cg_layout cg_layout;
	char unified_controllers[256];	/* the v2 root's cgroup.controllers */
	bool memsw;			/* v1 memory.memsw.* files exist */
	size_t ncg;
	struct fl_cg_controller cg[FL_CG_MAX_CONTROLLERS];
};

const struct fl_kernel_more *fl_kernel_more(void);
/* A controller by name ("memory", "io"), or NULL when the kernel lacks it. */
const struct fl_cg_controller *fl_kernel_cg(const char *name);
/* "none", "v1", "v2"; and "none", "v1", "v2", "hybrid". */
/*
 * This process's effective capabilities (CapEff in /proc/self/status)
 * into *eff, left alone when the line is missing; or -errno.
 */
int fl_cap_eff(unsigned long long *eff);
const char *fl_cg_mode_name(enum fl_cg_mode m);
const char *fl_cg_layout_name(enum fl_cg_layout l);

/* ------------------------------------------------------------------ */
/* Fault engines: one ops table per fault kind (the contract, v2).     */
/*                                                                     */
/* The life of a fault in a run, and which op the runner calls:        */
/*   load:    parse (the spec is the engine's; spec_free frees it)      */
/*   plan:    check, describe, resources                               */
/*   prepare: prepare, before the timeline (it may save the record)    */
/*   apply:   apply, which returns the engine's handle in *rt          */
/*   active:  live(rt), about once a second                            */
/*   revert:  observe(rt), then revert(record), then release(rt)       */
/*   recover: revert(record) alone, in another process, maybe after a  */
/*            crash; scan when there is no journal                     */
/* An engine keeps no list of its faults: whatever it needs while a     */
/* fault is active hangs off the handle, which the runner keeps in its  */
/* one struct per fault and hands back.                                 */

struct fl_undo;
struct fl_found;

struct fl_engine {
	const char *name;		/* the key under a fault: netem, oom */
	const char *summary;
	/* The report's SVG timeline draws its bars in this colour; NULL: grey. */
	const char *color;
	/*
	 * The fault acts on its target's cgroup, which outlives the process:
	 * when a pid target exits, it goes on (the oom squeeze proves the
	 * death by itself) instead of ending with it.
	 */
	bool outlives_pid;
	/*
	 * The fault acts on the devices of a network namespace: its map
	 * may name a `target:` (core parses it, not the engine), and core
	 * runs check, describe, apply, live and observe inside that
	 * target's network namespace (a container's own), so that records
	 * saved with fl_undo_save_netns() name it and revert runs there.
	 */
	bool in_netns;
	/*
	 * Parse and validate the engine's map into a spec of the engine's
	 * own, *out, allocated first thing.  Problems go to d.  On an
	 * error the loader frees *out with spec_free (whatever parse
	 * filled in), else it becomes f->priv.  NULL for an internal
	 * engine no file may name.
	 */
	int (*parse)(struct fl_experiment *exp, const struct fl_fault *f,
		     const struct fl_node *spec, void **out,
		     struct fl_diag *d);
	void (*spec_free)(void *spec);
	/*
	 * The keys the engine's map may hold, NULL-terminated.  Before
	 * parse the loader checks that the spec is a map of these keys
	 * (fl_map_check, named by the engine's name); parse is not called
	 * when it is not a map.  NULL: any keys (parse checks them).
	 */
	const char *const *keys;
	/*
	 * Can this machine do it?  0 yes; -EOPNOTSUPP (or another -errno)
	 * no, with the reason in why.  Touches nothing.
	 */
	int (*check)(const struct fl_fault *f, char *why, size_t len);
	/*
	 * Describe the plan: "mechanism", "why" and "objects" (an array
	 * of kernel objects created or changed) into out.
	 */
	int (*describe)(const struct fl_fault *f, json_object *out);
	/* Optional: resources to lock ("dev:eth0", "cgroup:/x"). */
	int (*resources)(const struct fl_fault *f, json_object *out);
	/*
	 * Optional: the kernel objects the fault needs for itself while
	 * it is active, each { "object": "dev:eth0:root", "what": "the
	 * root qdisc of eth0 (netem replaces it)" } appended to out, with
	 * "share": "NAME" when faults that give the same share name can
	 * hold it together (each with objects of its own in it), and
	 * "nests": true when two faults whose claims both say so can hold
	 * it if one's window lies within the other's.  Two
	 * faults of one file whose windows overlap and that claim one
	 * object otherwise collide: the loader refuses the file, naming
	 * both (core/collide.c).  Reads the spec and this host's state
	 * (its addresses), changes nothing.
	 */
	int (*claims)(const struct fl_fault *f, json_object *out);
	/*
	 * Optional, run only: before the timeline starts (once the journal
	 * and the guardian exist), and for each later occurrence of a
	 * repeat in the gap after the last one's revert, get ready what
	 * makes apply quick: caches (a minimal BTF in /run), BPF objects
	 * opened, loaded and verified with their maps filled, devices and
	 * cgroups resolved.  It changes nothing that outlives the process
	 * or that revert would have to undo (a loaded program goes with its
	 * descriptors).  It may save the occurrence's undo record through u
	 * (fl_undo_save(), fl_undo_save_netns()) when that record's revert
	 * is harmless if apply never comes: idempotent, a missing object is
	 * done, and nothing it names can be someone else's.  apply then
	 * gets u->seq of that record, so that a save of its own writes over
	 * it; a record never applied (the fault skipped, the drill stopped
	 * first) is reverted and dropped like any other.  *prep (NULL:
	 * nothing) is handed to that apply in u->prep, which takes it over
	 * (sets u->prep to NULL) after checking cheaply that what it and
	 * the record were made for still holds (saving the record again
	 * when it does not); what apply leaves, or a fault never applied,
	 * goes to unprepare.  A failure is not fatal: apply then does it
	 * all (say why with fl_undo_why()).
	 */
	int (*prepare)(const struct fl_fault *f, struct fl_undo *u,
		       void **prep);
	void (*unprepare)(void *prep);
	/*
	 * Apply.  Before the first change to the kernel the engine saves
	 * what undoes it with fl_undo_save(), unless the record prepare
	 * saved still holds; it may save again as it goes.
	 * On success *rt is the engine's handle for this fault (NULL is a
	 * valid handle: nothing to keep).  On failure the engine says why
	 * with fl_undo_why(), releases what it holds itself and returns
	 * -errno; the runner then reverts whatever record was saved.
	 */
	int (*apply)(const struct fl_fault *f, struct fl_undo *u, void **rt);
	/* (On entry *rt is the fault's child handle, see child_adopt, or
	 * NULL; the handle apply returns is another, released at revert.) */
	/*
	 * Optional: live counters of an active fault, about once a second
	 * and once before revert; cheap, touches nothing.  Fills out with
	 * counters ("injections": 12, "calls": {...}) and "summary", one
	 * line for people ("12 injections (openat 9)").
	 */
	int (*live)(void *rt, json_object *out);
	/*
	 * Optional: what the engine observed over the whole fault, just
	 * before revert (counters, victims, fl_expectation()).
	 */
	int (*observe)(void *rt, json_object *out);
	/*
	 * Undo from a saved record alone: idempotent, a missing object is
	 * done.  It may run in another process (the guardian, recover),
	 * and it runs inside the network namespace the record names (see
	 * fl_netns_record()): core switches there first, and when that
	 * namespace no longer exists the record is done without a call.
	 */
	int (*revert)(json_object *state);
	/*
	 * Optional: free the handle, after revert or when the run ends in
	 * any other way: join threads, close descriptors, destroy BPF
	 * skeletons.  Touches no kernel state that revert owns.
	 */
	void (*release)(void *rt);
	/*
	 * Optional, the spawn ops: a part in starting a command target
	 * the fault names, for an engine that must act from inside the
	 * command (a seccomp filter is installed by the process itself).
	 *  child_setup: in the forked child, after it joined its cgroups,
	 *    before exec.  It makes one descriptor, as the lowest free
	 *    number and before any other (core has told the runner that
	 *    number, and takes it with pidfd_getfd()), and returns it;
	 *    -ENOENT when this fault needs none; another -errno: the
	 *    command does not start.
	 *  child_adopt: in the runner, with that descriptor (its own now):
	 *    *child becomes the engine's child handle, which apply then
	 *    finds in *rt, and which lives until the command's processes
	 *    are gone, past revert.  *aux may name a descriptor of the
	 *    handle's for the guardian too (-1: none), which it then gets
	 *    with a dup of fd.
	 *  child_release: frees it, once the command targets are stopped.
	 *  guard: in the guardian, which holds dups of fd and aux (or -1):
	 *    after the runner died, once, then each time fd is readable,
	 *    answer what waits as though no fault were active, without
	 *    blocking when nothing does.  The guardian polls fd until it
	 *    hangs up, through its replay of the journal (which stops the
	 *    command targets).
	 */
	int (*child_setup)(const struct fl_fault *f);
	int (*child_adopt)(const struct fl_fault *f, int fd, void **child,
			   int *aux);
	void (*child_release)(void *child);
	int (*guard)(int fd, int aux);
	/*
	 * Optional: recover without a journal (or --scan): report every
	 * object of this engine's found by name, through found->fn, in
	 * every network namespace and hierarchy it can reach.  Engines
	 * are scanned in list order.
	 */
	void (*scan)(struct fl_found *found);
};

/*
 * The ops every fault kind has, named after it (NAME_parse, NAME_keys,
 * ...), as the kernel's DEFINE_SHOW_ATTRIBUTE() names its fops: an
 * engine's table is FL_ENGINE_OPS(NAME, COLOR, SUMMARY) and the
 * optional ops it has.
 */
#define FL_ENGINE_OPS(n, col, sum)			\
	.name = #n,					\
	.summary = sum,					\
	.color = col,					\
	.parse = n##_parse,				\
	.keys = n##_keys,				\
	.check = n##_check,				\
	.describe = n##_describe,			\
	.resources = n##_resources,			\
	.apply = n##_apply,				\
	.live = n##_live,				\
	.observe = n##_observe,				\
	.revert = n##_revert,				\
	.release = n##_release

/*
 * For observe: record whether what the file expected of this fault
 * happened ("expectation": { "met", "detail" }).  A fault whose
 * expectation was not met fails the drill with exit status 1.
 */
void fl_expectation(json_object *observed, bool met, const char *detail);

/*
 * For revert: there was nothing left to undo (what the fault held went
 * away with the process that held it); why says what.  The journal then
 * counts the record as gone, like one whose network namespace is gone,
 * and recover says "nothing to revert: why".
 */
void fl_revert_gone(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * For apply and revert: call right after the one kernel call that made
 * the change take effect (or undid it); the report's applied_t and
 * reverted_t are that instant, not when the op returned (core/clock.c).
 */
void fl_effect_mark(void);

/*
 * The engine list is the binary's, not core's: tools/ passes the list
 * generated from the Build files' engine-y lines (tools/engines.c), the
 * test binary passes that list and its test engine.  Call before loading
 * any file.  fl_engine_register() adds one more (unit tests' fakes).
 */
void fl_engines_set(const struct fl_engine *const *list, size_t n);
void fl_engine_register(const struct fl_engine *e);
const struct fl_engine *fl_engine_find(const char *name);
/* NULL-terminated list of the engines a file may name (with a parse). */
const char *const *fl_engine_names(void);
/* Every engine, in list order (for scans); NULL past the last. */
const struct fl_engine *fl_engine_at(size_t i);
/* For describe: one formatted line appended to array ("objects"). */
void fl_json_addf(json_object *array, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* o[key] = the string val (a copy). */
void fl_json_add_str(json_object *o, const char *key, const char *val);

/* ------------------------------------------------------------------ */
/* Targets resolved: one service tells every engine where a target is. */

/*
 * Where a target is now, for an engine: a process in it, its cgroup in
 * the memory hierarchy and in the v2 hierarchy (the same folder on pure
 * v2; "" when the kernel has no such hierarchy), and its network
 * namespace.  For a pid: that process.  For a cgroup: the folder as
 * resolved (no process; pid 0, netns of this process).  For a command
 * started by run: the process and its scratch cgroups.  Container and
 * unit targets resolve to the same fields.
 */
struct fl_netns_id {
	uint64_t dev, ino;		/* of the nsfs file; 0, 0: none */
};

struct fl_where {
	pid_t pid;			/* 0 when the target has no process */
	char memory[512];		/* folder in the memory hierarchy */
	char unified[512];		/* folder in the v2 hierarchy */
	struct fl_netns_id netns;
};

/*
 * Resolve a target now; -errno with why when it cannot be (gone, ...).
 * A command that has exited still gives its scratch folders (pid 0).
 */
int fl_target_where(const struct fl_target *t, struct fl_where *w,
		    char *why, size_t len);
/*
 * Every process in the target now (*out malloc'ed): the pid, the
 * command's, or the cgroup's cgroup.procs.
 */
int fl_target_pids(const struct fl_target *t, pid_t **out, size_t *n);
/* The pids listed in folder/cgroup.procs (*out malloc'ed): 0 or -errno. */
int fl_cgroup_procs(const char *folder, pid_t **out, size_t *n);
/*
 * The one reader of /proc/PID/cgroup: the folder (relative to the
 * hierarchy's root, starting with '/') of pid in the hierarchy that
 * holds controller, or in the v2 hierarchy ("0::") when controller is
 * NULL.  -ENOENT when the process or the hierarchy is not there.
 */
int fl_proc_cgroup(pid_t pid, const char *controller, char *buf,
		   size_t len);

/*
 * How run places the command targets it starts: scratch cgroups of the
 * run's own (cgroup/scratch.c), handed to core by tools/.  create makes
 * them, journaled under the pseudo fault rec before anything is made,
 * and sets t->scratch_memory and t->scratch_unified; join runs in the
 * forked child before exec.
 */
struct fl_journal;
struct fl_placer {
	int (*create)(struct fl_journal *j, const char *run_id,
		      struct fl_target *t, const struct fl_fault *rec);
	int (*join)(const struct fl_target *t);
	const struct fl_engine *engine;	/* reverts what create made */
};
void fl_placer_set(const struct fl_placer *p);
const struct fl_placer *fl_placer_get(void);

/* ------------------------------------------------------------------ */
/* Network namespaces: the one layer every engine, the guardian and     */
/* recover use.  A namespace is known by the (dev, ino) of its nsfs     */
/* file, and found wherever something still holds it.                  */

/* This thread's network namespace. */
int fl_netns_self(struct fl_netns_id *id);
bool fl_netns_eq(const struct fl_netns_id *a, const struct fl_netns_id *b);
/* "dev:ino" as the journal keeps it; and back (a bare inode, the old
 * form, gives dev 0, which matches any dev). */
void fl_netns_str(const struct fl_netns_id *id, char *buf, size_t len);
int fl_netns_parse(const char *s, struct fl_netns_id *id);
/*
 * Open the namespace with that identity, looked for in this process's,
 * /run/netns and every bind mount of nsfs in /proc/self/mountinfo, every
 * /proc/PID/ns/net and every open descriptor /proc/PID/fd/N.  The fd, or
 * -ENOENT when nothing holds it any more: then it is gone, with every
 * device, qdisc and filter that was in it.
 */
int fl_netns_open(const struct fl_netns_id *id);
/*
 * Switch this thread into it; *oldfd is -1 when it is this one already
 * (nothing to leave).  -ENOENT: gone, as above.
 */
int fl_netns_enter(const struct fl_netns_id *id, int *oldfd);
void fl_netns_leave(int oldfd);
/*
 * fl_undo_save() for an engine whose objects live in a network
 * namespace: the record names this thread's namespace ("netns":
 * "dev:ino"), so that revert runs there.
 */
struct fl_undo;
int fl_undo_save_netns(struct fl_undo *u, json_object *state);
/*
 * Switch into the namespace with that identity, trying /proc/PID/ns/net
 * of hint first (a process known to be in it) before the walk.
 */
int fl_netns_enter_hint(const struct fl_netns_id *id, pid_t hint,
			int *oldfd);
/*
 * What the namespace this thread is in belongs to, for people ("container
 * 'db' (podman 1a2b3c4d5e6f)"), or NULL: fl_undo_save_netns() keeps it in
 * the record as "netns_of", and recover names it when the namespace is
 * gone.
 */
void fl_netns_label(const char *label);

/* ------------------------------------------------------------------ */
/* Journal: undo records under /run/faultline/<run>/ (mode 0700).      */

#define FL_RUNDIR_DEFAULT	"/run/faultline"

/* $FAULTLINE_RUNDIR or /run/faultline. */
const char *fl_rundir(void);

/*
 * What prepare and apply write through: the occurrence's journal record
 * (seq, -1 until the first fl_undo_save(); in apply, the record prepare
 * saved, if any), and why it failed (fl_undo_why()), which the runner
 * reports.  timed, due_ns and index are the runner's: the occurrence's
 * planned instant (ns from the timeline's start) and the fault's place
 * in the file, the order the runner applies in whenever it prepared;
 * the record keeps them ("due_ns", "index") so that recover and the
 * guardian replay in the reverse of that order (seq is prepare's order).
 */
struct fl_undo {
	struct fl_journal *j;
	const struct fl_fault *f;
	int seq;
	char *why;			/* malloc'ed, or NULL */
	void *prep;			/* apply: the engine's prepare */
	bool timed;			/* due_ns and index are set */
	uint64_t due_ns;
	int index;
};

/* Create this run's folder with run.json (pid, start, file, deadline,
 * the guardian's pid and /proc start time, 0 for none). */
int fl_journal_create(const struct fl_experiment *exp, uint64_t deadline_ns,
		      json_object *resources, pid_t guardian,
		      struct fl_journal **out);
void fl_journal_close(struct fl_journal *j);
const char *fl_journal_id(const struct fl_journal *j);
const char *fl_journal_dir(const struct fl_journal *j);
/* Write (or rewrite) a fault's undo record and fsync it. */
int fl_undo_save(struct fl_undo *u, json_object *state);
/* Say why apply failed ("cannot load the BPF programs: ..."); the last
 * call wins. */
void fl_undo_why(struct fl_undo *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fl_undo_release(struct fl_undo *u);
/*
 * Switches (core/switch.c): an empty file in the journal's folder,
 * "<prefix><fault name><suffix>", that apply creates at the instant and
 * revert reads from the record alone.  fl_switch_on(): 1 it exists, 0
 * not, -ENOENT its folder is gone too; it and fl_switch_remove() refuse
 * a path of another shape (-EINVAL).
 */
void fl_switch_path(const struct fl_undo *u, const char *prefix,
		    const char *name, const char *suffix, char *buf,
		    size_t len);
int fl_switch_open(const char *path);
int fl_switch_on(const char *path, const char *prefix, const char *suffix);
int fl_switch_remove(const char *path, const char *prefix, const char *suffix);
/* Remove a record once its revert is done. */
int fl_journal_drop(struct fl_journal *j, int seq);
/* Revert one record through its engine and drop it. */
int fl_journal_revert(struct fl_journal *j, int seq);
/* Remove the run folder once no record is left. */
int fl_journal_finish(struct fl_journal *j);

struct fl_run_info {
	char id[64];
	char dir[512];
	pid_t pid;			/* runner */
	pid_t guardian;
	bool alive;			/* runner or guardian is alive */
	char file[512];
	char name[256];
	int64_t started;		/* unix seconds */
	int64_t deadline;		/* unix seconds */
	json_object *records;		/* array of the undo records */
	json_object *resources;
};

/* List runs; *out is an array of n infos. */
int fl_runs_list(struct fl_run_info **out, size_t *n);
void fl_runs_free(struct fl_run_info *v, size_t n);
/*
 * fn(dir) for each run folder of the runner pid (started at start, in
 * clock ticks): those whose run.json names it, and those named for its
 * pid that have no run.json yet (it died creating them).
 */
int fl_runs_of(pid_t pid, unsigned long long start,
	       int (*fn)(const char *dir, void *arg), void *arg);
/*
 * Replay a run's undo records, last applied first (fl_journal_replay_order,
 * core/journal.h), and remove the run.
 * Returns 0 when everything was reverted; failures are described
 * through the report layer.
 */
int fl_recover_run(const char *dir, json_object *result);
/*
 * The result of fl_recover_run: { "run", "dir", "reverted": [ { "record",
 * "fault", "engine" } ], "gone": [ { "record", "fault", "engine", "why" } ]
 * (records whose network namespace no longer exists: done, nothing to
 * revert), "failed": [ { "record", "fault", "engine", "error", "state" } ]
 * }.  fl_undo_save() does not take state over.
 */
/* The /proc start time of pid (clock ticks after boot), 0 when gone. */
unsigned long long fl_pid_start_time(pid_t pid);
/* pid is alive (not a zombie) and started at start (when start != 0). */
bool fl_pid_alive(pid_t pid, unsigned long long start);
/* The name of pid (/proc/PID/comm, no newline), "?" when unreadable. */
void fl_pid_comm(pid_t pid, char *buf, size_t len);
/* comm names a faultline process: faultline* (any copy or build of the
 * program, faultline-test too) or a guardian (fl-guardian). */
bool fl_comm_is_faultline(const char *comm);
/* pid is a faultline process: it runs this program's file, or the one an
 * upgrade replaced, or its name says so (fl_comm_is_faultline()). */
bool fl_pid_is_faultline(pid_t pid);
/* pidfd_open, pidfd_send_signal, pidfd_getfd: as the syscalls (-1, errno). */
int fl_pidfd_open(pid_t pid);
int fl_pidfd_signal(int pidfd, int sig);
int fl_pidfd_getfd(int pidfd, int fd);
/* pid's state letter in /proc/PID/stat ('R', 'S', 'T', ...), 0 when gone. */
char fl_pid_state(pid_t pid);
/*
 * Every descendant of pid now, children first (*out malloc'ed), through
 * /proc/PID/task/TID/children, or where a kernel has none the parents
 * that /proc/N/stat names; at most FL_DESCENDANTS_MAX are walked.
 */
#define FL_DESCENDANTS_MAX	4096
int fl_pid_descendants(pid_t pid, pid_t **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Leftover scans: recover without a journal (or --scan) asks each     */
/* subsystem for the objects of faultline's it finds by name.          */

/*
 * One object that looks like faultline's: its kind ("cgroup", "qdisc",
 * "link", "filter", "bpf"), what it is, where (a hierarchy, a network
 * namespace, "this machine") and how to remove it by hand.
 */
typedef void (*fl_found_fn)(void *ctx, const char *kind, const char *what,
			    const char *where, const char *remove);

#define FL_FOUND_MAX_PROGS	256

struct fl_found {
	fl_found_fn fn;
	void *ctx;
	/* The journal's runs: what they hold is accounted for. */
	const struct fl_run_info *runs;
	size_t nruns;
	/* BPF programs already reported (in a filter), not to repeat. */
	uint32_t progs[FL_FOUND_MAX_PROGS];
	size_t nprogs;
};

/*
 * Call fn in every network namespace this process can reach, once each
 * (by nsfs inode): its own first ("this network namespace"), then those
 * under /run/netns and /proc/PID/ns/net, switched into with setns() and
 * back.  where names the namespace for messages.  -errno when this
 * process's own namespace cannot be opened (then fn is never called).
 */
int fl_netns_each(void (*fn)(void *ctx, const char *where), void *ctx);

/* ------------------------------------------------------------------ */
/* Runner.                                                             */

struct fl_run_opts {
	bool quiet;
	bool json;			/* JSON lines of events */
	const char *report_json;	/* overrides the file's report: */
	bool no_guardian;		/* tests only */
	bool no_live;			/* --no-live: plain lines on a TTY */
	bool no_realtime;		/* --no-realtime: no SCHED_FIFO, no
					 * mlockall while the drill runs */
	/*
	 * --start-at: the instant (CLOCK_REALTIME ns) the timeline starts,
	 * after checks, locks and the guardian; 0 starts at once.
	 */
	int64_t start_at_ns;
};

/*
 * The countdown of run --start-at, for the live view: waiting while the
 * runner waits for start_at_ns (CLOCK_REALTIME ns).
 */
struct fl_countdown {
	bool waiting;
	int64_t start_at_ns;
};
extern struct fl_countdown fl_countdown;

/*
 * Parse a --start-at value: RFC 3339 ("2026-11-28T12:00:00Z", an offset
 * "+01:00" instead of Z, fractional seconds optional) or "+DURATION"
 * from now_ns ("+30s", "+2m").  More than 1s in the past or more than
 * 24h ahead is -ERANGE; bad syntax -EINVAL; why says which.
 */
int fl_parse_start_at(const char *s, int64_t now_ns, int64_t *at_ns,
		      char *why, size_t len);

/*
 * Can a target be used on this machine now?  A pid must be alive, a
 * cgroup must exist; a command is started by run.  0, or -errno with why.
 */
int fl_target_check(const struct fl_target *t, char *why, size_t len);
/*
 * Resolve a cgroup target to a folder: an absolute path as written, a
 * relative one under root (a hierarchy's mount; NULL: the v2 mount when
 * there is one, else the memory hierarchy).
 */
int fl_target_cgroup_path(const struct fl_target *t, const char *root,
			  char *buf, size_t len);
/*
 * The lock a target holds, what two runs must not share: "pid:<pid>", or
 * "cgroup:<folder>" (resolved as above, so two spellings of one cgroup
 * meet).  A command target holds nothing: each run starts its own, in
 * scratch cgroups of its own.  0, or -ENOENT when there is nothing to lock.
 */
int fl_target_resource(const struct fl_target *t, char *buf, size_t len);

/*
 * Container targets (core/container.c).  container: NAME-OR-ID with an
 * optional runtime: podman|docker (none: whichever knows the name).  The
 * loader hands the target's map here.
 */
enum fl_runtime {
	FL_RUNTIME_ANY,
	FL_RUNTIME_PODMAN,
	FL_RUNTIME_DOCKER,
};
int fl_container_parse(struct fl_target *t, const struct fl_node *spec,
		       struct fl_diag *d);
void fl_container_free(struct fl_container *c);
/*
 * Ask the runtime (RUNTIME container inspect) where the container is:
 * its init pid (and that process's start time), its cgroup in the
 * memory and the v2 hierarchy, its network namespace.  The result is
 * kept in the target.  0, or -errno with why (not running, unknown).
 */
int fl_container_resolve(const struct fl_target *t, char *why, size_t len);
/*
 * Where the container is now: what resolve found (resolving first when
 * it has not been), once its init process is proven the same one (pid,
 * start time and network namespace).  A container stopped, removed or
 * replaced since is -ESRCH with why saying which; nothing is chased.
 */
int fl_container_where(const struct fl_target *t, struct fl_where *w,
		       char *why, size_t len);
/*
 * Before a fault's apply: ask the runtime again and compare with what
 * check found (its id and init process).  0, or -ESRCH with why.
 */
int fl_container_recheck(const struct fl_target *t, char *why, size_t len);
/* Its resolved folder in the hierarchy mounted at root; -ENOENT before. */
int fl_container_cgroup_path(const struct fl_target *t, const char *root,
			     char *buf, size_t len);
/* What it resolved to, for plan and the report; NULL for no container. */
json_object *fl_container_json(const struct fl_target *t);
/* "container 'db' (podman 1a2b3c4d5e6f)", for messages and records. */
void fl_container_label(const struct fl_target *t, char *buf, size_t len);
/*
 * Around an engine op of fault f: every container it names resolved
 * again (fl_container_recheck, when recheck), then into the network
 * namespace of its in_netns target, if any (*oldfd -1: none to leave).
 * 0, or -errno with why.  fl_fault_leave() comes back.
 */
int fl_fault_enter(const struct fl_fault *f, bool recheck, int *oldfd,
		   char *why, size_t len);
void fl_fault_leave(int oldfd);

/*
 * The plan: what run would do, in timeline order, with each engine's
 * description and check.  *status is FL_EXIT_OK or FL_EXIT_UNSUPPORTED.
 */
json_object *fl_plan_build(const struct fl_experiment *exp, int *status);
void fl_plan_print(json_object *plan, FILE *out);

/* Carry the drill out; returns an fl_exit status. */
int fl_run(struct fl_experiment *exp, const struct fl_run_opts *opts);

/*
 * The live view of run on a terminal (core/live.c): a status block
 * redrawn in place at least once a second; the runner feeds it.  Wanted
 * when stdout is a TTY, TERM is set and not "dumb", and none of --json,
 * --quiet or --no-live was given.
 */
struct fl_live;

bool fl_live_wanted(const struct fl_run_opts *opts);
struct fl_live *fl_live_new(const struct fl_experiment *exp);
void fl_live_free(struct fl_live *lv);
/* An event line as run prints it without the live view ("[+1.234s] x"). */
void fl_live_event(struct fl_live *lv, const char *line);
/* Fault i's live counters (the engine's one-line summary). */
void fl_live_counters(struct fl_live *lv, size_t i, const char *summary);
/* Fault i's observed counters at revert: an OOM victim shows on its row. */
void fl_live_observed(struct fl_live *lv, size_t i, json_object *observed);
/* A run of probe i: its exit passed, and met what its phase expects. */
void fl_live_probe(struct fl_live *lv, size_t i, bool pass, bool met);
/* Fault i was applied late (text: how late), or NULL once on time. */
void fl_live_late(struct fl_live *lv, size_t i, const char *text);
/*
 * Where command targets write while the view is up (a pipe, read at each
 * redraw into the event lines), or -1.
 */
int fl_live_output_fd(struct fl_live *lv);
/*
 * Redraw: t is the time on the timeline (negative: before the start),
 * phase a word for the header ("running", "stopping").  fl_live_end
 * draws the final frame, which stays on screen.
 */
void fl_live_draw(struct fl_live *lv, int64_t t, uint64_t duration,
		  const char *phase);
void fl_live_end(struct fl_live *lv, int64_t t, uint64_t duration);

/*
 * The guardian (core/guardian.c): a watchdog process in its own session
 * that holds a pidfd on the runner.  When the runner dies without
 * fl_guardian_done(), even by SIGKILL, it replays the runner's journal
 * (fl_runs_of); past deadline_ns (CLOCK_MONOTONIC) it SIGKILLs the
 * runner and does the same.  Started before the journal exists, so that
 * no moment is left where a run folder has no guardian.
 */
int fl_guardian_start(uint64_t deadline_ns, pid_t *pid, int *done_fd);
/* Tell the guardian the run is over, and reap it. */
void fl_guardian_done(pid_t pid, int done_fd);
/* Move the guardian's deadline ns later (the time the engines' prepare
 * took, after the deadline was set). */
int fl_guardian_later(int done_fd, uint64_t ns);
/*
 * Hand the guardian dups of fd, the descriptor an engine's child_adopt
 * took over, and of aux (-1: none): if the runner dies it calls the
 * engine's guard op on them.
 */
int fl_guardian_guard(int done_fd, const char *engine, int fd, int aux);

/* ------------------------------------------------------------------ */
/* The one reporting layer.                                            */

extern bool fl_json_output;		/* --json */
extern bool fl_quiet;

/* Errors and warnings to stderr, "faultline: ..." */
void fl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational line on stdout, not in --json mode. */
void fl_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a JSON document on stdout (pretty). */
void fl_print_json(json_object *o);
/* Monotonic clock in nanoseconds. */
uint64_t fl_now_ns(void);
int64_t fl_wall_ns(void);
/* Format a UTC RFC 3339 timestamp with milliseconds. */
char *fl_fmt_time(int64_t wall_ns, char *buf, size_t len);

/* Reading a JSON document (a report): o[key], NULL when o or it is
 * missing or null; a string member, or def; a number member into *d. */
json_object *fl_json_get(json_object *o, const char *key);
const char *fl_json_str(json_object *o, const char *key, const char *def);
/* The value at key of any type, as text (numbers too); NULL: absent. */
const char *fl_json_text(json_object *o, const char *key);
bool fl_json_num(json_object *o, const char *key, double *d);
/* Append the string s to the array arr unless it holds it already. */
void fl_json_add_uniq(json_object *arr, const char *s);

/*
 * The summary of a drill's JSON report for people (core/summary.c), as run
 * prints it under the events and "faultline report" again: the verdict,
 * a line per fault and per probe, and "report: PATH" (none when path is
 * NULL).  again: the report read back, with its start, end and run id,
 * and no blank line above.
 */
void fl_report_summary(json_object *rep, const char *path, bool again,
		       FILE *out);

/*
 * The report's SVG timeline (core/svg.c), drawn from the JSON report
 * alone: fault bars on lanes, probe ticks (failures red), OOM kill and
 * first-injection markers, the time axis in seconds.
 */
int fl_report_svg(json_object *report, FILE *out);
int fl_report_svg_file(json_object *report, const char *path);
/*
 * The merged timeline of several hosts' reports (report merge): one group
 * of lanes per host, under a header naming it, on the common time base.
 * merged is { "hosts": [ { "host", "offset", "report" } ], ... }.
 */
int fl_report_svg_merged(json_object *merged, FILE *out);
int fl_report_svg_merged_file(json_object *merged, const char *path);

#endif /* FAULTLINE_CORE_H */
