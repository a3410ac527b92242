/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core/runner.h: the runner's private header (core/ only).
 *
 * The runner is these files: the loop and the faults' lives
 * (core/runner.c), a repeating fault's occurrences (core/occurrences.c),
 * their planned and actual windows (core/windows.c),
 * its children, command targets and probes
 * (core/children.c), the locks a run holds (core/locks.c) and the report
 * at the end (core/summary.c); core/events.c prints what happens.  They
 * share struct runner, and one struct per fault, probe and target.
 */
#ifndef FAULTLINE_CORE_RUNNER_H
#define FAULTLINE_CORE_RUNNER_H

#include <poll.h>
#include <sched.h>

#include "core/faultline.h"

enum stop_reason {
	STOP_NONE,
	STOP_END,		/* the drill's duration is over */
	STOP_SIGNAL,		/* SIGINT or SIGTERM */
	STOP_APPLY,		/* applying a fault failed */
};

struct probe_rt {
	struct fl_probe *p;
	pid_t pid;			/* running, or 0 */
	uint64_t started;		/* relative ns */
	int64_t started_wall;
	uint64_t next;			/* relative ns of the next run */
	bool timed_out;
	bool cut;			/* killed because the drill stopped */
	unsigned int runs, passed, failed, timeouts, cut_short;
	int last;			/* -1 none, 0 failed, 1 passed */
	json_object *results;
	/* Steady state (core/steady.c): the phase the current run started
	 * in, each phase's runs and passes, the runs not as expected. */
	size_t phase, last_phase;
	struct phase_count {
		unsigned int runs, passed;
	} *ph;
	unsigned int unmet;
	unsigned int across;		/* runs that saw a phase change */
};

/*
 * One occurrence of a fault (a fault without repeat: its only one): its
 * planned window and what happened to it, each with a journal record and
 * an engine handle of its own.
 */
struct occ_run {
	struct fl_occurrence plan;	/* planned, relative ns */
	enum fl_fault_state state;
	int seq;			/* journal record, -1 when none */
	int64_t applied_at;		/* relative ns, -1 when not */
	int64_t reverted_at;
	int64_t due_end;		/* when its revert was due, -1: not
					 * by the timeline (stopped, gone) */
	int err;
	char *detail;			/* why it failed or was skipped */
	json_object *observed;		/* the engine's observe, or NULL */
	char *late;			/* applied late: the warning, or NULL */
};

/*
 * A fault in this run: the model is the file's, everything that happens
 * to it is here, with the engine's handle from apply to release.  A
 * fault that repeats goes through its occurrences one after the other:
 * state, seq, end, rt are the current occurrence's; applied_at is the
 * first apply, reverted_at the last revert.
 */
struct fault_run {
	const struct fl_fault *f;
	enum fl_fault_state state;
	int seq;			/* journal record, -1 when none */
	int64_t applied_at;		/* relative ns, -1 when not */
	int64_t reverted_at;
	uint64_t end;			/* when it ends (relative) */
	int err;			/* -errno of a failed apply or revert */
	char *detail;			/* why it failed or was skipped */
	void *rt;			/* the engine's handle, while held */
	void *child;			/* child_adopt's handle, or NULL */
	void *prep;			/* the engine's prepare, until apply */
	int prep_seq;			/* the record prepare saved for the
					 * current occurrence, -1: none */
	bool reprep;			/* prepare the next occurrence */
	bool again;			/* prepare it again: its command
					 * target has started since */
	uint64_t prep_ns;		/* how long its last prepare took */
	bool held;			/* rt is to be released */
	json_object *info;		/* mechanism, observed */
	char *live_last;		/* its last live counters */
	struct occ_run *occ;		/* its occurrences, in time order */
	size_t nocc;
	size_t cur;			/* the current or next one */
};

/* A target in this run. */
struct target_run {
	bool running;			/* a command target we started */
	int pidfd;			/* pid targets: a pidfd while alive */
	int64_t exited;			/* pid targets: exited when, or -1 */
	struct fl_fault scratch;	/* commands: the scratch pseudo fault */
	bool placed;			/* scratch cgroups were journaled */
	/* commands with restart: true (core/children.c) */
	uint64_t started;		/* its last start (relative ns) */
	unsigned int restarts, fast;	/* fast: in a row, each < 1 s */
	json_object *restarted;		/* the report's, or NULL */
};

#define FL_CLOCK_FIFO_PRIO	10

/* What the runner had before the drill, and what it got. */
struct fl_clock_rt {
	int policy;
	struct sched_param param;
	int slack;
	bool fifo, locked;
	char what[160];
};
struct runner {
	struct fl_experiment *exp;
	const struct fl_run_opts *opts;
	struct fl_journal *j;
	uint64_t t0;			/* the timeline's start (before it: */
	int64_t wall0;			/* the run's, see started) */
	bool started;			/* the timeline has begun */
	uint64_t duration;
	int sfd;
	pid_t guardian;
	int gfd;
	struct probe_rt *pr;
	struct fault_run *fr;		/* per fault, in file order */
	size_t *applied;		/* faults, the last applied last */
	size_t napplied;
	struct target_run *tr;		/* per target */
	struct pollfd *pfd;		/* the signalfd and the pidfds */
	uint64_t live_next;		/* next live counters (relative) */
	enum stop_reason stop;
	int stop_sig;
	char *stop_why;			/* what stopped it before the timeline */
	bool hard;
	bool revert_failed;
	bool quiet, json;
	bool *active;			/* per fault: active now (probes) */
	struct fl_live *live;		/* the live view, or NULL */
	int child_out;			/* command targets' output, or -1 */
	struct fl_clock_rt clk;		/* realtime while the drill runs */
};

/* Events (core/events.c): what happens, as people and --json see it. */

/* Now on the timeline (ns after its start). */
uint64_t run_rel(const struct runner *r);
/* Seconds with milliseconds, as the events and the report give times. */
json_object *run_jsec(uint64_t ns);
json_object *run_ev(const char *event);
/* Add key: val to an event, unless val is NULL. */
void run_ev_str(json_object *o, const char *key, const char *val);
/* A time on the timeline as the event lines give it: "+1.234s". */
char *run_fmt_rel(uint64_t t, char *buf, size_t len);
/*
 * One event: "[+1.234s] text" for people, a JSON line with --json, a line
 * in the live view on a terminal.  Takes ev over.
 */
void run_emit(struct runner *r, json_object *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Redraw the live view, when there is one (counting down to --start-at). */
void run_live_draw(struct runner *r);
/* The mechanism fault i's engine described, or the engine's name. */
const char *run_mechanism(const struct runner *r, size_t i);
/* Fault i's state, and why it failed or was skipped: the live view's too. */
void run_set_state(struct runner *r, size_t i, enum fl_fault_state st);
void run_set_detail(struct runner *r, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The target fault i names (its spec's "target:"), or NULL. */
const struct fl_target *run_fault_target(const struct runner *r, size_t i);

/* Occurrences (core/occurrences.c): a fault's repeats, in the run. */

/* Fault i's occurrences from the experiment's seed, each pending. */
int run_setup_occurrences(struct runner *r, size_t i);
/* Fault i may begin its next occurrence (when its time comes). */
bool run_due_next(const struct runner *r, size_t i);
/* The fault due by now whose occurrence was planned first (ties in file
 * order), or nfaults when none is. */
size_t run_next_due(const struct runner *r, uint64_t now);
/* The occurrences of fault i not begun will not be: skipped, with why. */
void run_skip_rest(struct runner *r, size_t i, const char *why);
/* Fault i was applied last: reverts at the end go newest first. */
void run_applied_last(struct runner *r, size_t i);
/* The undo (record seq, -1: new) of fault i's current occurrence, with
 * the instant and file place it is applied by, for the replay order. */
struct fl_undo run_undo(const struct runner *r, size_t i, int seq);

/* Children (core/children.c): command targets and probes. */

/* Start command targets, each placed in scratch cgroups of its own. */
int run_start_targets(struct runner *r);
/* SIGTERM, then SIGKILL after a grace, the command targets still running. */
void run_stop_targets(struct runner *r);
/* Revert the scratch cgroups' records once their commands are gone. */
void run_remove_scratch(struct runner *r);
void run_probe_start(struct runner *r, struct probe_rt *p);
/*
 * Reap exited children: probes, command targets (started again when
 * they have restart: true), the guardian.
 */
void run_reap(struct runner *r);
bool run_probes_running(const struct runner *r);
/* The report's "targets_restarted": when each died and came back. */
json_object *run_restarts_json(const struct runner *r);
/* Probe i's phase counters (setup) and the phase a run starting now is
 * in (core/children.c). */
int run_probe_setup(struct runner *r, struct probe_rt *p);
/* Kill every running probe (not counted) and reap it. */
void run_probes_cut(struct runner *r);

/* Locks (core/locks.c): the resources a run holds. */

json_object *run_resources(struct runner *r);
/*
 * Under the global lock: refuse when a live run (or a dead one that left
 * undo records) holds one of res, else create the run's journal.
 */
int run_register(struct runner *r, json_object *res, uint64_t deadline);

/* The report (core/summary.c). */

/*
 * Fault i's current occurrence was applied late: when it lost more than
 * a tenth of its planned window, its warning (event, live view, report).
 */
void run_check_late(struct runner *r, size_t i);
/* An occurrence's planned and actual window, how late and how much of it
 * was lost, and its warning (core/windows.c). */
json_object *run_window_json(const struct runner *r, const struct occ_run *oc);
/* Every late warning of the run, into arr. */
void run_window_warnings(const struct runner *r, json_object *arr);

/*
 * The verdict, the JSON report and its SVG timeline, the summary or the
 * "report" event; the run's exit status.
 */
int run_report(struct runner *r);

/*
 * The live view's copy of fault i's state and why it failed or was
 * skipped (detail may be NULL): the run state is the runner's, and it
 * tells the view each time it changes.
 */
void fl_live_fault(struct fl_live *lv, size_t i, enum fl_fault_state st,
		   const char *detail);
/* Fault i is at occurrence k (0-based): the view shows "k+1/n". */
void fl_live_occurrence(struct fl_live *lv, size_t i, size_t k);

/* "occurrence 2/3" for fault i's current occurrence ("" without repeat),
 * and the event's "occurrence" and "occurrences" keys. */
const char *run_occ_label(const struct runner *r, size_t i, char *buf,
			  size_t len);
void run_ev_occ(const struct runner *r, size_t i, json_object *ev);

/* The clock (core/clock.c): honest times and a precise wait. */

/* The time on the timeline the last op took effect (its mark, or now). */
int64_t run_effect_rel(const struct runner *r);
void fl_effect_reset(void);
uint64_t fl_effect_take(void);
/* Seconds with microseconds: the report's applied_t and reverted_t. */
json_object *run_jsec_us(uint64_t ns);
/* Sleep until an absolute CLOCK_MONOTONIC instant. */
void fl_clock_sleep_until(uint64_t at_ns);

void fl_clock_realtime(struct fl_clock_rt *rt, bool on);
void fl_clock_normal(struct fl_clock_rt *rt);

/* core/prepare.c: everything before the timeline (0, or an exit status). */
int run_prepare(struct runner *r);
/* What an engine's prepare made and apply did not take over. */
void run_unprepare(struct runner *r, size_t i, void *prep);
/* The engine's prepare for fault i's current occurrence: its handle in
 * fr->prep, the record it saved in fr->prep_seq. */
void run_prepare_fault(struct runner *r, size_t i);
void run_prepare_again(struct runner *r);
/* Revert and drop the records of prepared occurrences never applied. */
void run_drop_prepared(struct runner *r);
/* The faults' occurrences on the timeline (core/runner.c). */
int run_setup_timeline(struct runner *r);

#endif
