// SPDX-License-Identifier: GPL-2.0-only
/*
 * Before the timeline: every fault checked and described, the guardian
 * started and the run registered with its locks and journal, then the
 * engines' prepare (what makes apply quick), which may write undo records
 * whose revert is harmless.  Nothing is applied here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/runner.h"

/* The guardian's deadline: the drill's duration plus this grace. */
#define GRACE_MIN_NS	(2 * NSEC_PER_SEC)
#define GRACE_MAX_NS	(30 * NSEC_PER_SEC)

static int check_faults(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;
	int bad = 0;

	/* A pid must be alive and a cgroup must exist, as plan says. */
	for (i = 0; i < exp->ntargets; i++) {
		char why[512] = "";

		if (fl_target_check(&exp->targets[i], why, sizeof(why))) {
			fl_err("%s", why);
			bad++;
		}
	}
	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = r->fr[i].f;
		char why[512] = "";
		json_object *ev;
		int ret, nsfd;

		if (!f->engine->check)
			continue;
		ret = fl_fault_enter(f, false, &nsfd, why, sizeof(why));
		if (!ret) {
			ret = f->engine->check(f, why, sizeof(why));
			fl_fault_leave(nsfd);
		}
		if (!ret)
			continue;
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-ret));
		if (f->optional) {
			run_set_detail(r, i, "%s", why);
			run_skip_rest(r, i, why);
			run_set_state(r, i, FL_FAULT_SKIPPED);
			ev = run_ev("skipped");
			run_ev_str(ev, "fault", f->name);
			run_ev_str(ev, "reason", why);
			run_emit(r, ev, "fault %s: skipped (optional): %s",
				 f->name, why);
			continue;
		}
		r->fr[i].err = ret;
		run_set_detail(r, i, "%s", why);
		run_set_state(r, i, FL_FAULT_FAILED);
		fl_err("fault %s (%s) cannot run on this machine: %s",
		       f->name, f->engine->name, why);
		bad++;
	}
	return bad ? -EOPNOTSUPP : 0;
}

/* What prepare made and apply did not take over. */
void run_unprepare(struct runner *r, size_t i, void *prep)
{
	if (prep && r->fr[i].f->engine->unprepare)
		r->fr[i].f->engine->unprepare(prep);
}

/*
 * The engine's prepare for fault i's current occurrence (not fatal: apply
 * then does it all).  The record it may save (one whose revert is
 * harmless if apply never comes) is the occurrence's: its seq goes to
 * apply, which saves over it when it must.
 */
void run_prepare_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	const struct fl_fault *f = fr->f;
	struct fl_undo u = run_undo(r, i, -1);
	uint64_t t0 = fl_now_ns();
	char why[512];
	int ret, nsfd;

	fr->reprep = false;
	if (!f->engine->prepare || fr->prep_seq > 0 || (fr->prep && !fr->again))
		return;
	/* Once its command has started, what could not be resolved before. */
	run_unprepare(r, i, fr->prep);
	fr->prep = NULL;
	fr->again = false;
	/* In its target's netns, as apply will be. */
	ret = fl_fault_enter(f, false, &nsfd, why, sizeof(why));
	if (!ret) {
		ret = f->engine->prepare(f, &u, &fr->prep);
		fl_fault_leave(nsfd);
	}
	fr->prep_ns = fl_now_ns() - t0;
	/* Saved, even by a prepare that failed after: it is kept. */
	fr->prep_seq = u.seq;
	if (ret)
		fl_warn("fault %s: cannot prepare %s (%s); it is prepared at "
			"its instant", f->name, fr->cur ? "its next occurrence"
			: "before the timeline", u.why ? u.why : strerror(-ret));
	fl_undo_release(&u);
}

/*
 * A prepared occurrence that will not be applied (skipped, the drill
 * stopped first): its record reverted (harmless) and dropped, what
 * prepare made freed.  Before the applied faults' reverts, so that an
 * old record never meets objects another fault still holds.
 */
void run_drop_prepared(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++) {
		struct fault_run *fr = &r->fr[i];

		run_unprepare(r, i, fr->prep);
		fr->prep = NULL;
		fr->reprep = false;
		if (fr->prep_seq <= 0)
			continue;
		if (fl_journal_revert(r->j, fr->prep_seq)) {
			r->revert_failed = true;
			fl_err("fault %s: cannot drop its prepared record; it "
			       "stays in %s", fr->f->name,
			       fl_journal_dir(r->j));
		}
		fr->prep_seq = -1;
	}
}

/*
 * Once the command targets have started: a fault aimed at one, whose
 * prepare saved no record (its cgroup did not exist yet), is prepared
 * again in the gap before its first instant (the loop does it, when
 * there is room), now that the command's cgroup and pid are known.
 */
void run_prepare_again(struct runner *r)
{
	size_t i, k;

	for (i = 0; i < r->exp->nfaults; i++) {
		struct fault_run *fr = &r->fr[i];
		const struct fl_fault *f = fr->f;

		if (!f->engine->prepare || fr->prep_seq > 0 || fr->cur ||
		    !run_due_next(r, i))
			continue;
		for (k = 0; k < f->nuses; k++)
			if (f->uses[k]->kind == FL_TARGET_COMMAND &&
			    f->uses[k]->pid > 0)
				fr->again = fr->reprep = true;
	}
}

/* The engines' prepare, before the timeline, once the journal exists. */
static void prepare_faults(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++)
		if (r->fr[i].state != FL_FAULT_SKIPPED)
			run_prepare_fault(r, i);
}

static void describe_faults(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;

	for (i = 0; i < exp->nfaults; i++) {
		struct fault_run *fr = &r->fr[i];
		const struct fl_fault *f = fr->f;

		char why[512];
		int nsfd, ret;

		fr->info = json_object_new_object();
		if (!f->engine->describe || fr->state == FL_FAULT_SKIPPED)
			continue;
		if (fl_fault_enter(f, false, &nsfd, why, sizeof(why)))
			continue;
		ret = f->engine->describe(f, fr->info);
		fl_fault_leave(nsfd);
		if (ret) {
			json_object_put(fr->info);
			fr->info = json_object_new_object();
		}
	}
}

/* ------------------------------------------------------------------ */
/* The loop.                                                           */

/* When the guardian reverts on its own: the drill's end and a grace. */
static uint64_t guardian_deadline(const struct runner *r)
{
	uint64_t grace, deadline;

	grace = GRACE_MIN_NS + r->duration / 20;
	if (grace > GRACE_MAX_NS)
		grace = GRACE_MAX_NS;
	deadline = fl_now_ns() + r->duration + grace;
	/* --start-at: the guardian's deadline counts the wait as well. */
	if (r->opts->start_at_ns > fl_wall_ns())
		deadline += r->opts->start_at_ns - fl_wall_ns();
	return deadline;
}

/*
 * Everything that can refuse, before anything is changed: the checks,
 * the locks with the journal, the guardian; then the engines' prepare.
 * 0, or the exit status.
 */
int run_prepare(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	uint64_t deadline, t;
	json_object *ev, *res;
	char dbuf[32], sbuf[96] = "";
	int ret;

	if (run_setup_timeline(r)) {
		fl_err("out of memory");
		return FL_EXIT_APPLY;
	}
	/* Until the timeline starts (it counts from 0 again), events count
	 * from here: the start event's t is 0, as the run event's will be
	 * (a slow setup, under ASan, made it later than the run's). */
	r->t0 = fl_now_ns();
	r->wall0 = fl_wall_ns();
	ev = run_ev("start");
	run_ev_str(ev, "name", exp->name);
	run_ev_str(ev, "file", exp->file);
	json_object_object_add(ev, "duration", run_jsec(r->duration));
	if (fl_experiment_jitters(exp)) {
		json_object_object_add(ev, "seed",
				       json_object_new_uint64(exp->seed));
		snprintf(sbuf, sizeof(sbuf), ", seed %llu (--seed %llu draws "
			 "the same jitter)", (unsigned long long)exp->seed,
			 (unsigned long long)exp->seed);
	}
	run_emit(r, ev, "drill %s (%s): %zu fault(s), %zu probe(s), %s%s",
		 exp->name ? exp->name : "", exp->file, exp->nfaults,
		 exp->nprobes, fl_fmt_duration(r->duration, dbuf,
					       sizeof(dbuf)), sbuf);
	/* Hosts started together draw their own jitter without a seed. */
	if (r->opts->start_at_ns && fl_experiment_jitters(exp) &&
	    exp->seed_from == FL_SEED_RANDOM)
		fl_warn("--start-at with a repeat's jitter and no seed: each "
			"host draws its own jitter; give the file a seed: or "
			"every host the same --seed");
	if (check_faults(r))
		return FL_EXIT_UNSUPPORTED;
	describe_faults(r);
	deadline = guardian_deadline(r);
	/* The guardian first: from the moment the journal folder exists,
	 * someone is there to replay it (it finds it by our identity). */
	if (!r->opts->no_guardian) {
		ret = fl_guardian_start(deadline, &r->guardian, &r->gfd);
		if (ret) {
			fl_err("cannot start the guardian: %s; nothing was "
			       "applied", strerror(-ret));
			return FL_EXIT_UNSUPPORTED;
		}
	}
	res = run_resources(r);
	ret = run_register(r, res, deadline);
	json_object_put(res);
	if (ret) {
		/* Nothing was registered: the guardian has nothing to do. */
		fl_guardian_done(r->guardian, r->gfd);
		r->guardian = 0;
		r->gfd = -1;
		return FL_EXIT_UNSUPPORTED;
	}
	/* Last, with the journal and its guardian there: prepare may save
	 * records (nothing it does can refuse the run).  The time it takes
	 * moves the guardian's deadline, set before. */
	t = fl_now_ns();
	prepare_faults(r);
	if (fl_guardian_later(r->gfd, fl_now_ns() - t))
		fl_warn("cannot tell the guardian how long prepare took; its "
			"deadline may come early");
	return 0;
}
