// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner: carry a drill out and put the machine back.
 *
 * One event loop: a signalfd for SIGINT, SIGTERM and SIGCHLD, and poll()
 * with the time to the next event as its timeout.  Faults are applied at
 * `at` in timeline order (ties in file order) and reverted after `for` or
 * at the drill's end; a fault with repeat: goes through its occurrences
 * (core/repeat.c), each applied and reverted with an undo record and an
 * engine handle of its own.  Probes run on their interval with a timeout.
 * Every occurrence's undo record is in the journal before the engine
 * touches the kernel, and is dropped once it is reverted; a guardian
 * process replays what is left if the runner dies.  An engine with a
 * prepare may write the record before the timeline (or, for the next
 * occurrence of a repeat, in the gap after the last one's revert) when
 * its revert is harmless until apply: apply then gets that record's seq,
 * so its own save writes over it, and a prepared record never applied is
 * reverted and dropped at the end like any other.
 *
 * SIGINT or SIGTERM: stop, let running probes finish (within their
 * timeout), revert in reverse order.  A second one: revert at once.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/runner.h"

/* How often active faults' live counters are read. */
#define LIVE_EVERY_NS	NSEC_PER_SEC

struct fl_countdown fl_countdown;

/* ------------------------------------------------------------------ */
/* Faults.                                                             */

static void live_fault(struct runner *r, size_t i, bool silent);

/*
 * Fault i's current occurrence took effect (the engine's mark): its
 * applied time, and its end, which counts `for` from there (capped at the
 * drill's end; a fault without for ends with the drill).
 */
static void stamp_applied(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct occ_run *oc = &fr->occ[fr->cur];
	uint64_t end = oc->plan.end;

	oc->applied_at = run_effect_rel(r);
	oc->state = FL_FAULT_ACTIVE;
	if (fr->applied_at < 0)
		fr->applied_at = oc->applied_at;
	if ((fr->f->has_for || fr->f->repeat.on) &&
	    (uint64_t)oc->applied_at > oc->plan.at)
		end += (uint64_t)oc->applied_at - oc->plan.at;
	fr->end = end < r->duration ? end : r->duration;
	oc->due_end = fr->end;
}

/*
 * Fault i's current occurrence is reverted (oc->reverted_at is the
 * engine's mark): its revert was due at due_end only when the timeline
 * brought it there, not a stop or a target that went away before.
 */
static void stamp_reverted(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct occ_run *oc = &fr->occ[fr->cur];

	fr->reverted_at = oc->reverted_at;
	if (r->stop == STOP_SIGNAL || r->stop == STOP_APPLY ||
	    oc->reverted_at < oc->due_end)
		oc->due_end = -1;
}

/* Fault i's current occurrence: a fresh undo record and a fresh handle. */
static int apply_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct occ_run *oc = &fr->occ[fr->cur];
	const struct fl_fault *f = fr->f;
	struct fl_undo u = run_undo(r, i, fr->prep_seq);
	json_object *ev;
	char ob[48], why[512];
	void *rt = fr->child;
	int ret, nsfd;

	run_occ_label(r, i, ob, sizeof(ob));
	/* What prepare made, and its record, are this apply's now. */
	u.prep = fr->prep;
	fr->prep = NULL;
	fr->prep_seq = -1;
	fr->reprep = false;
	/* Its containers resolved again, inside its target's netns. */
	ret = fl_fault_enter(f, true, &nsfd, why, sizeof(why));
	if (ret) {
		fl_undo_why(&u, "%s", why);
	} else {
		fl_effect_reset();
		ret = f->engine->apply(f, &u, &rt);
		fl_fault_leave(nsfd);
	}
	run_unprepare(r, i, u.prep);
	fr->seq = oc->seq = u.seq;
	if (ret) {
		fr->err = oc->err = ret;
		if (u.why)
			run_set_detail(r, i, "%s", u.why);
		else
			run_set_detail(r, i, "apply failed: %s",
				       strerror(-ret));
		oc->detail = strdup(fr->detail ? fr->detail : "");
		oc->state = FL_FAULT_FAILED;
		fl_undo_release(&u);
		run_set_state(r, i, FL_FAULT_FAILED);
		ev = run_ev("apply-failed");
		run_ev_str(ev, "fault", f->name);
		run_ev_occ(r, i, ev);
		run_ev_str(ev, "error", strerror(-ret));
		run_ev_str(ev, "detail", fr->detail);
		run_emit(r, ev, "fault %s: apply FAILED%s%s: %s", f->name,
			 *ob ? ", " : "", ob, fr->detail);
		/* What it changed before failing is in its record. */
		if (fr->seq > 0 && fl_journal_revert(r->j, fr->seq)) {
			r->revert_failed = true;
			fl_err("fault %s: cannot undo the partial apply; its "
			       "record stays in %s", f->name,
			       fl_journal_dir(r->j));
		}
		return ret;
	}
	fl_undo_release(&u);
	fr->rt = rt;
	fr->held = true;
	stamp_applied(r, i);
	free(fr->live_last);
	fr->live_last = NULL;
	run_set_state(r, i, FL_FAULT_ACTIVE);
	run_applied_last(r, i);
	ev = run_ev("applied");
	run_ev_str(ev, "fault", f->name);
	run_ev_occ(r, i, ev);
	run_ev_str(ev, "engine", f->engine->name);
	run_ev_str(ev, "mechanism", run_mechanism(r, i));
	run_emit(r, ev, "fault %s: applied%s%s (%s)", f->name,
		 *ob ? ", " : "", ob, run_mechanism(r, i));
	run_check_late(r, i);
	/* Where the counters start: shown once they change. */
	live_fault(r, i, true);
	return 0;
}

/*
 * Live counters: ask the engine, and show them when they changed since
 * the last time ("progress" event).
 */
static void live_fault(struct runner *r, size_t i, bool silent)
{
	struct fault_run *fr = &r->fr[i];
	const struct fl_fault *f = fr->f;
	json_object *out, *ev, *sum = NULL;
	const char *now;
	char *text = NULL, why[512];
	int ret, nsfd;

	if (!f->engine->live || fr->state != FL_FAULT_ACTIVE)
		return;
	if (fl_fault_enter(f, false, &nsfd, why, sizeof(why)))
		return;
	out = json_object_new_object();
	ret = f->engine->live(fr->rt, out);
	fl_fault_leave(nsfd);
	if (ret)
		goto out;
	if (json_object_object_get_ex(out, "summary", &sum))
		text = strdup(json_object_get_string(sum));
	json_object_object_del(out, "summary");
	now = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
	fl_live_counters(r->live, i, text ? text : now);
	/* An OOM victim the engine has proven shows while still active. */
	fl_live_observed(r->live, i, out);
	if (fr->live_last && !strcmp(fr->live_last, now))
		goto out;
	free(fr->live_last);
	fr->live_last = strdup(now);
	if (silent)
		goto out;
	ev = run_ev("progress");
	run_ev_str(ev, "fault", f->name);
	json_object_object_foreach(out, k, v)
		json_object_object_add(ev, k, json_object_get(v));
	run_emit(r, ev, "fault %s: %s", f->name, text ? text : now);
out:
	free(text);
	json_object_put(out);
}

static void live_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++)
		live_fault(r, i, false);
	r->live_next = run_rel(r) + LIVE_EVERY_NS;
}

/* The end of the engine's handle: after revert, or when the run ends. */
static void release_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];

	if (fr->held && fr->f->engine->release)
		fr->f->engine->release(fr->rt);
	fr->held = false;
	fr->rt = NULL;
}

/* What the engine observed: the occurrence's, and the fault's (the last). */
static void observe_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	json_object *obs;
	char why[512];
	int ret, nsfd;

	if (!fr->f->engine->observe)
		return;
	/* Gone with its container: nothing to observe there. */
	if (fl_fault_enter(fr->f, false, &nsfd, why, sizeof(why)))
		return;
	obs = json_object_new_object();
	ret = fr->f->engine->observe(fr->rt, obs);
	fl_fault_leave(nsfd);
	if (ret) {
		json_object_put(obs);
		return;
	}
	fl_live_observed(r->live, i, obs);
	json_object_put(fr->occ[fr->cur].observed);
	fr->occ[fr->cur].observed = json_object_get(obs);
	json_object_object_add(fr->info, "observed", obs);
}

/* Revert the current occurrence: live, observe, the record, release. */
static void revert_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct occ_run *oc = &fr->occ[fr->cur];
	const struct fl_fault *f = fr->f;
	json_object *ev;
	char ob[48], next[64] = "", tb[32];
	int ret = 0;

	if (fr->state != FL_FAULT_ACTIVE)
		return;
	run_occ_label(r, i, ob, sizeof(ob));
	/* The last live counters, so that they end where the report does. */
	live_fault(r, i, false);
	observe_fault(r, i);
	fl_effect_reset();
	if (fr->seq > 0)
		ret = fl_journal_revert(r->j, fr->seq);
	oc->reverted_at = run_effect_rel(r);
	release_fault(r, i);
	if (ret) {
		fr->err = oc->err = ret;
		run_set_detail(r, i, "revert failed: %s; the undo record stays "
			       "in %s", strerror(-ret), fl_journal_dir(r->j));
		oc->detail = strdup(fr->detail ? fr->detail : "");
		oc->state = FL_FAULT_FAILED;
		run_set_state(r, i, FL_FAULT_FAILED);
		r->revert_failed = true;
		ev = run_ev("revert-failed");
		run_ev_str(ev, "fault", f->name);
		run_ev_occ(r, i, ev);
		run_ev_str(ev, "error", strerror(-ret));
		run_emit(r, ev, "fault %s: revert FAILED%s%s: %s", f->name,
			 *ob ? ", " : "", ob, strerror(-ret));
		return;
	}
	stamp_reverted(r, i);
	oc->state = FL_FAULT_REVERTED;
	fr->seq = -1;
	ev = run_ev("reverted");
	run_ev_str(ev, "fault", f->name);
	run_ev_occ(r, i, ev);
	if (fr->cur + 1 < fr->nocc && r->stop == STOP_NONE) {
		json_object_object_add(ev, "next",
				       run_jsec(fr->occ[fr->cur + 1].plan.at));
		snprintf(next, sizeof(next), "; next at %s",
			 run_fmt_rel(fr->occ[fr->cur + 1].plan.at, tb,
				     sizeof(tb)));
	}
	/* The next occurrence, if any, is now the current one, to be
	 * prepared in the gap (the loop does it, after this instant's
	 * reverts and applies). */
	fr->cur++;
	fr->reprep = fr->cur < fr->nocc && r->stop == STOP_NONE;
	fl_live_occurrence(r->live, i, fr->cur);
	run_set_state(r, i, FL_FAULT_REVERTED);
	run_emit(r, ev, "fault %s: reverted%s%s%s", f->name, *ob ? ", " : "",
		 ob, next);
}

static void revert_all(struct runner *r)
{
	size_t k;

	for (k = r->napplied; k-- > 0;)
		revert_fault(r, r->applied[k]);
}

static void on_signal(struct runner *r, int sig)
{
	json_object *ev = run_ev("signal");

	run_ev_str(ev, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
	if (r->stop == STOP_NONE && fl_countdown.waiting) {
		r->stop = STOP_SIGNAL;
		r->stop_sig = sig;
		run_ev_str(ev, "action", "cancel");
		run_emit(r, ev, "%s: countdown cancelled; nothing was applied",
			 sig == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (r->stop == STOP_NONE) {
		r->stop = STOP_SIGNAL;
		r->stop_sig = sig;
		run_ev_str(ev, "action", "stop");
		run_emit(r, ev, "%s: stopping; reverting everything (again "
			 "to revert at once)",
			 sig == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (!r->hard) {
		r->hard = true;
		run_ev_str(ev, "action", "revert-now");
		run_emit(r, ev, "%s again: reverting at once",
			 sig == SIGINT ? "SIGINT" : "SIGTERM");
	} else {
		json_object_put(ev);
	}
}

static void read_signals(struct runner *r)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			run_reap(r);
		else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			on_signal(r, si.ssi_signo);
	}
	run_reap(r);
}

/* One countdown line: a JSON "waiting" event, a plain line or a TTY one. */
static void countdown_show(struct runner *r, int64_t at, int64_t left,
			   bool tty)
{
	long long secs = (left + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	char abuf[40], nbuf[40];
	json_object *ev;

	if (r->quiet)
		return;
	fl_fmt_time(at, abuf, sizeof(abuf));
	if (r->json) {
		ev = run_ev("waiting");
		run_ev_str(ev, "start_at", abuf);
		json_object_object_add(ev, "remaining", run_jsec(left));
		run_ev_str(ev, "time", fl_fmt_time(fl_wall_ns(), nbuf,
					       sizeof(nbuf)));
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(ev);
	} else if (r->live) {
		run_live_draw(r);
	} else if (tty) {
		printf("\rstarting in %llds, at %s (Ctrl-C: cancel) \033[K",
		       secs, abuf);
	} else {
		printf("starting in %llds, at %s\n", secs, abuf);
	}
	fflush(stdout);
}

/*
 * run --start-at: wait for the instant on CLOCK_REALTIME (a timerfd, so
 * it fires at the wall-clock instant every host was given), showing the
 * countdown.  SIGINT or SIGTERM ends the wait with nothing applied
 * (r->stop is set).  A TTY line is redrawn once a second; otherwise a
 * line (or a JSON event) every 10s and for each of the last 5 seconds.
 */
static int countdown(struct runner *r, int64_t at)
{
	bool tty = !r->json && isatty(STDOUT_FILENO);
	struct itimerspec its = { 0 };
	struct pollfd pfd[2];
	long long shown = -1;
	int tfd, ms;

	tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0)
		return -errno;
	its.it_value.tv_sec = at / (int64_t)NSEC_PER_SEC;
	its.it_value.tv_nsec = at % (int64_t)NSEC_PER_SEC;
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		int ret = -errno;

		close(tfd);
		return ret;
	}
	fl_countdown.start_at_ns = at;
	fl_countdown.waiting = true;
	pfd[0].fd = tfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = r->sfd;
	pfd[1].events = POLLIN;
	while (r->stop == STOP_NONE) {
		int64_t left = at - fl_wall_ns();
		long long secs = left > 0 ?
			(left + NSEC_PER_SEC - 1) / NSEC_PER_SEC : 0;

		if (secs != shown && secs > 0 &&
		    (tty || shown < 0 || secs % 10 == 0 || secs <= 5)) {
			countdown_show(r, at, left, tty);
			shown = secs;
		}
		/* Wake at the next whole second left, or the timer. */
		ms = left > 0 ? (int)((left - 1) % NSEC_PER_SEC /
				      NSEC_PER_MSEC) + 1 : 0;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, ms) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			read_signals(r);
		if (pfd[0].revents & POLLIN)
			break;
	}
	if (tty && shown >= 0 && !r->quiet) {
		printf("\r\033[K");
		fflush(stdout);
	}
	fl_countdown.waiting = false;
	close(tfd);
	return 0;
}

static uint64_t next_event(struct runner *r, uint64_t now)
{
	struct fl_experiment *exp = r->exp;
	uint64_t next = r->duration;
	size_t i;

	if (r->stop == STOP_NONE) {
		for (i = 0; i < exp->nfaults; i++) {
			const struct fault_run *fr = &r->fr[i];

			if (run_due_next(r, i) && fr->occ[fr->cur].plan.at < next)
				next = fr->occ[fr->cur].plan.at;
			if (fr->state == FL_FAULT_ACTIVE && fr->end < next)
				next = fr->end;
			if (fr->state == FL_FAULT_ACTIVE &&
			    fr->f->engine->live && r->live_next < next)
				next = r->live_next;
		}
	}
	for (i = 0; i < exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];

		if (p->pid && !p->timed_out &&
		    p->started + p->p->timeout_ns < next)
			next = p->started + p->p->timeout_ns;
		if (!p->pid && r->stop == STOP_NONE && p->next < next)
			next = p->next;
	}
	return next > now ? next - now : 0;
}

/* ------------------------------------------------------------------ */
/* Pid targets that exit mid-drill.                                    */

const struct fl_target *run_fault_target(const struct runner *r, size_t i)
{
	const struct fl_fault *f = &r->exp->faults[i];
	const struct fl_node *tn;

	tn = f->spec && f->spec->type == FL_NODE_MAP ?
	     fl_map_get(f->spec, "target") : NULL;
	return tn && tn->type == FL_NODE_SCALAR ?
	       fl_experiment_target(r->exp, tn->scalar) : NULL;
}

/* A pidfd on every pid target, polled with the signalfd. */
static void target_gone(struct runner *r, size_t ti);

static int watch_targets(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;

	r->pfd = calloc(exp->ntargets + 1, sizeof(*r->pfd));
	if (!r->pfd)
		return -ENOMEM;
	for (i = 0; i < exp->ntargets; i++) {
		if (exp->targets[i].kind != FL_TARGET_PID)
			continue;
		r->tr[i].pidfd = fl_pidfd_open(exp->targets[i].pid);
		/* Gone (and reaped) since the checks: its faults end now. */
		if (r->tr[i].pidfd < 0 && errno == ESRCH)
			target_gone(r, i);
	}
	return 0;
}

/*
 * A pid target exited: the faults on it end now (their revert finds
 * nothing of it left), those not begun are skipped.  A fault whose engine
 * outlives_pid (oom's squeeze, on the cgroup) goes on and proves the death
 * by itself.  The exit status does not change.
 */
static bool ends_with(const struct runner *r, size_t i,
		      const struct fl_target *t)
{
	return run_fault_target(r, i) == t &&
	       !r->fr[i].f->engine->outlives_pid;
}

static void target_gone(struct runner *r, size_t ti)
{
	struct fl_experiment *exp = r->exp;
	const struct fl_target *t = &exp->targets[ti];
	json_object *ev = run_ev("target-exited"), *ended, *skipped;
	char tb[32], list[512] = "";
	size_t i, off = 0;

	close(r->tr[ti].pidfd);
	r->tr[ti].pidfd = -1;
	r->tr[ti].exited = run_rel(r);
	ended = json_object_new_array();
	skipped = json_object_new_array();
	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = r->fr[i].f;

		if (!ends_with(r, i, t))
			continue;
		if (r->fr[i].state == FL_FAULT_ACTIVE) {
			json_object_array_add(ended,
					      json_object_new_string(f->name));
		} else if (r->fr[i].state == FL_FAULT_PENDING) {
			run_set_detail(r, i, "target %s (pid %d) exited "
				       "before it began", t->name, (int)t->pid);
			run_skip_rest(r, i, r->fr[i].detail);
			run_set_state(r, i, FL_FAULT_SKIPPED);
			json_object_array_add(skipped,
					      json_object_new_string(f->name));
		} else if (run_due_next(r, i)) {
			/* Between two occurrences: the rest are skipped. */
			json_object_array_add(ended,
					      json_object_new_string(f->name));
		} else {
			continue;
		}
		off += snprintf(list + off, off < sizeof(list) ?
				sizeof(list) - off : 0, "%s%s%s",
				off ? ", " : "", f->name,
				r->fr[i].state == FL_FAULT_SKIPPED ?
				" (skipped)" : "");
	}
	run_fmt_rel(r->tr[ti].exited, tb, sizeof(tb));
	run_ev_str(ev, "target", t->name);
	json_object_object_add(ev, "pid", json_object_new_int(t->pid));
	json_object_object_add(ev, "ended", ended);
	json_object_object_add(ev, "skipped", skipped);
	run_emit(r, ev, "target %s (pid %d) exited at %s; its faults end%s%s; "
		 "nothing is left to revert in it", t->name, (int)t->pid, tb,
		 list[0] ? ": " : "", list);
	for (i = exp->nfaults; i-- > 0;)
		if (r->fr[i].state == FL_FAULT_ACTIVE && ends_with(r, i, t))
			revert_fault(r, i);
	snprintf(list, sizeof(list), "target %s (pid %d) exited at %s",
		 t->name, (int)t->pid, tb);
	for (i = 0; i < exp->nfaults; i++)
		if (ends_with(r, i, t))
			run_skip_rest(r, i, list);
}

/* Wait up to ms for a signal or a pid target's exit. */
static void wait_events(struct runner *r, int ms)
{
	struct fl_experiment *exp = r->exp;
	size_t i, n = 0;

	r->pfd[n].fd = r->sfd;
	r->pfd[n++].events = POLLIN;
	for (i = 0; i < exp->ntargets; i++)
		if (r->tr[i].pidfd >= 0) {
			r->pfd[n].fd = r->tr[i].pidfd;
			r->pfd[n++].events = POLLIN;
		}
	if (poll(r->pfd, n, ms) <= 0)
		return;
	if (r->pfd[0].revents & POLLIN)
		read_signals(r);
	for (i = 0, n = 1; i < exp->ntargets; i++) {
		if (r->tr[i].pidfd < 0)
			continue;
		if ((r->pfd[n++].revents & (POLLIN | POLLHUP)) &&
		    r->stop == STOP_NONE)
			target_gone(r, i);
	}
}

/*
 * Wait wait ns from now (on the timeline) for the next instant: poll the
 * signals and targets in whole milliseconds, rounded down, then sleep
 * what is left to the absolute instant (core/clock.c).  The live view's
 * clock ticks at least twice a second.
 */
static void clock_wait(struct runner *r, uint64_t now, uint64_t wait)
{
	uint64_t at = r->t0 + now + wait, cap = r->live ? 500 : 1000, t;

	if (wait >= cap * NSEC_PER_MSEC) {
		wait_events(r, cap);
		return;
	}
	if (wait >= NSEC_PER_MSEC)
		wait_events(r, wait / NSEC_PER_MSEC);
	t = fl_now_ns();
	if (t < at && at - t <= 2 * NSEC_PER_MSEC)
		fl_clock_sleep_until(at);
}

/* The time from now to the next instant of any fault (apply or revert). */
static uint64_t next_fault_event(const struct runner *r, uint64_t now)
{
	uint64_t next = r->duration;
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++) {
		const struct fault_run *fr = &r->fr[i];

		if (run_due_next(r, i) && fr->occ[fr->cur].plan.at < next)
			next = fr->occ[fr->cur].plan.at;
		if (fr->state == FL_FAULT_ACTIVE && fr->end < next)
			next = fr->end;
	}
	return next > now ? next - now : 0;
}

/* A gap's prepare must leave this much room before the next instant. */
#define GAP_ROOM_MIN_NS	(5 * NSEC_PER_MSEC)

/*
 * Faults between two occurrences: the next one prepared in the gap, when
 * no other fault's instant comes before twice as long as its last
 * prepare took (else later in the gap, or at its apply), so that a
 * prepare never makes another fault late.  As after an apply, the
 * children that ended meanwhile are reaped, so that a probe that ended
 * in time is not taken for one that timed out.
 */
static void prepare_gaps(struct runner *r)
{
	uint64_t room;
	size_t i;

	for (i = 0; i < r->exp->nfaults && r->stop == STOP_NONE; i++) {
		struct fault_run *fr = &r->fr[i];

		if (!fr->reprep || !run_due_next(r, i)) {
			fr->reprep = false;
			continue;
		}
		room = 2 * fr->prep_ns > GAP_ROOM_MIN_NS ? 2 * fr->prep_ns :
		       GAP_ROOM_MIN_NS;
		if (next_fault_event(r, run_rel(r)) < room)
			continue;
		run_prepare_fault(r, i);
		read_signals(r);
	}
}

static void loop(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i, k;

	for (;;) {
		uint64_t now = run_rel(r);

		if (r->stop == STOP_NONE && now >= r->duration) {
			json_object *ev = run_ev("end");

			r->stop = STOP_END;
			run_emit(r, ev, "drill: duration reached; reverting");
		}
		if (r->stop == STOP_NONE) {
			for (k = r->napplied; k-- > 0;) {
				i = r->applied[k];
				if (r->fr[i].state == FL_FAULT_ACTIVE &&
				    r->fr[i].end <= now)
					revert_fault(r, i);
			}
			while ((i = run_next_due(r, now)) < exp->nfaults) {
				if (apply_fault(r, i)) {
					r->stop = STOP_APPLY;
					r->hard = true;
					break;
				}
				read_signals(r);
				if (r->stop != STOP_NONE)
					break;
				now = run_rel(r);
			}
			prepare_gaps(r);
		}
		if (r->stop == STOP_NONE && run_rel(r) >= r->live_next)
			live_all(r);
		if (r->stop == STOP_NONE) {
			now = run_rel(r);
			for (i = 0; i < exp->nprobes; i++)
				if (!r->pr[i].pid && r->pr[i].next <= now)
					run_probe_start(r, &r->pr[i]);
		}
		now = run_rel(r);
		for (i = 0; i < exp->nprobes; i++) {
			struct probe_rt *p = &r->pr[i];

			if (p->pid && !p->timed_out &&
			    now >= p->started + p->p->timeout_ns) {
				p->timed_out = true;
				kill(-p->pid, SIGKILL);
				kill(p->pid, SIGKILL);
			}
		}
		if (r->stop != STOP_NONE &&
		    (r->hard || !run_probes_running(r) || now >= r->duration))
			break;
		run_live_draw(r);
		clock_wait(r, now, next_event(r, now));
	}
}

int run_setup_timeline(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;
	int ret;

	r->duration = exp->duration_ns;
	if (!r->duration)
		for (i = 0; i < exp->nfaults; i++)
			if (exp->faults[i].at_ns + exp->faults[i].for_ns >
			    r->duration)
				r->duration = exp->faults[i].at_ns +
					      exp->faults[i].for_ns;
	for (i = 0; i < exp->nfaults; i++) {
		struct fault_run *fr = &r->fr[i];

		fr->state = FL_FAULT_PENDING;
		fr->seq = -1;
		fr->prep_seq = -1;
		fr->applied_at = -1;
		fr->reverted_at = -1;
		ret = run_setup_occurrences(r, i);
		if (ret)
			return ret;
		fr->end = fr->occ[0].plan.end;
		if (fr->end > r->duration)
			fr->end = r->duration;
	}
	for (i = 0; i < exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];

		p->p = &exp->probes[i];
		if (!p->p->every_ns)
			p->p->every_ns = NSEC_PER_SEC;
		if (!p->p->timeout_ns)
			p->p->timeout_ns = p->p->every_ns;
		p->last = -1;
		p->results = json_object_new_array();
		ret = run_probe_setup(r, p);
		if (ret)
			return ret;
	}
	return 0;
}

static int runner_init(struct runner *r, struct fl_experiment *exp,
		       const struct fl_run_opts *opts)
{
	size_t i, nf = exp->nfaults ? exp->nfaults : 1;

	r->exp = exp;
	r->opts = opts;
	r->quiet = opts->quiet;
	r->json = opts->json;
	r->gfd = -1;
	r->sfd = -1;
	r->child_out = -1;
	r->fr = calloc(nf, sizeof(*r->fr));
	r->applied = calloc(nf, sizeof(*r->applied));
	r->pr = calloc(exp->nprobes ? exp->nprobes : 1, sizeof(*r->pr));
	r->tr = calloc(exp->ntargets ? exp->ntargets : 1, sizeof(*r->tr));
	if (!r->fr || !r->applied || !r->pr || !r->tr)
		return -ENOMEM;
	for (i = 0; i < exp->nfaults; i++)
		r->fr[i].f = &exp->faults[i];
	for (i = 0; i < exp->ntargets; i++) {
		r->tr[i].pidfd = -1;
		r->tr[i].exited = -1;
	}
	return 0;
}

static void runner_free(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i, k;

	for (i = 0; r->fr && i < exp->nfaults; i++) {
		/* A handle the run did not get to revert ends with it. */
		release_fault(r, i);
		run_unprepare(r, i, r->fr[i].prep);
		/* Its command's processes are gone: run stopped them. */
		if (r->fr[i].child && r->fr[i].f->engine->child_release)
			r->fr[i].f->engine->child_release(r->fr[i].child);
		json_object_put(r->fr[i].info);
		free(r->fr[i].detail);
		free(r->fr[i].live_last);
		for (k = 0; r->fr[i].occ && k < r->fr[i].nocc; k++) {
			free(r->fr[i].occ[k].detail);
			free(r->fr[i].occ[k].late);
			json_object_put(r->fr[i].occ[k].observed);
		}
		free(r->fr[i].occ);
	}
	for (i = 0; r->pr && i < exp->nprobes; i++) {
		json_object_put(r->pr[i].results);
		free(r->pr[i].ph);
	}
	free(r->active);
	free(r->stop_why);
	free(r->fr);
	free(r->applied);
	free(r->pr);
	for (i = 0; r->tr && i < exp->ntargets; i++) {
		if (r->tr[i].pidfd >= 0)
			close(r->tr[i].pidfd);
		free(r->tr[i].scratch.name);
		json_object_put(r->tr[i].restarted);
	}
	free(r->tr);
	free(r->pfd);
	fl_live_free(r->live);
}

/* SIGINT, SIGTERM and SIGCHLD through a signalfd; *old is restored after. */
static int signals_block(struct runner *r, sigset_t *old)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &mask, old);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sfd < 0) {
		fl_err("signalfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void signals_restore(struct runner *r, const sigset_t *old)
{
	struct signalfd_siginfo si;

	if (r->sfd >= 0) {
		/* Drop what is pending, then restore the mask. */
		while (read(r->sfd, &si, sizeof(si)) == sizeof(si))
			;
		close(r->sfd);
		r->sfd = -1;
	}
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* The live view on a terminal, and the countdown to --start-at. */
static void before_start(struct runner *r)
{
	size_t i;
	int ret;

	/* On a terminal, the live view from here on (after the checks,
	 * whose messages stay plain lines above it). */
	if (fl_live_wanted(r->opts))
		r->live = fl_live_new(r->exp);
	for (i = 0; r->live && i < r->exp->nfaults; i++)
		fl_live_fault(r->live, i, r->fr[i].state, r->fr[i].detail);
	r->child_out = fl_live_output_fd(r->live);
	/* --start-at: checks, locks and the guardian are done; wait. */
	if (r->opts->start_at_ns) {
		ret = countdown(r, r->opts->start_at_ns);
		if (ret)
			fl_err("cannot wait for --start-at: %s; starting now",
			       strerror(-ret));
	}
}

/* The drill itself, then everything put back. */
static void drill(struct runner *r)
{
	json_object *ev;
	int ret;

	before_start(r);
	fl_clock_realtime(&r->clk, !r->opts->no_realtime);
	/* The timeline starts now. */
	r->t0 = fl_now_ns();
	r->wall0 = fl_wall_ns();
	r->started = true;
	ev = run_ev("run");
	run_ev_str(ev, "clock", r->clk.what);
	run_ev_str(ev, "run", fl_journal_id(r->j));
	run_ev_str(ev, "journal", fl_journal_dir(r->j));
	json_object_object_add(ev, "pid", json_object_new_int(getpid()));
	json_object_object_add(ev, "guardian",
			       json_object_new_int(r->guardian));
	run_emit(r, ev, "run %s: journal %s, pid %d, guardian %d",
		 fl_journal_id(r->j), fl_journal_dir(r->j), (int)getpid(),
		 (int)r->guardian);
	/* (Interrupted during the countdown: nothing to do.) */
	if (r->stop == STOP_NONE && (run_start_targets(r) || watch_targets(r)))
		r->stop = STOP_APPLY;
	if (r->stop == STOP_NONE) {
		run_prepare_again(r);
		loop(r);
	}

	run_probes_cut(r);
	run_drop_prepared(r);
	revert_all(r);
	fl_clock_normal(&r->clk);
	run_stop_targets(r);
	run_remove_scratch(r);
	ret = fl_journal_finish(r->j);
	if (ret) {
		r->revert_failed = true;
		fl_err("undo records are left in %s: run 'faultline recover "
		       "%s'", fl_journal_dir(r->j), fl_journal_id(r->j));
	}
	fl_guardian_done(r->guardian, r->gfd);
	r->guardian = 0;
	r->gfd = -1;
}

int fl_run(struct fl_experiment *exp, const struct fl_run_opts *opts)
{
	struct runner rr = { 0 }, *r = &rr;
	sigset_t old;
	int code;

	if (runner_init(r, exp, opts)) {
		fl_err("out of memory");
		code = FL_EXIT_APPLY;
		goto out_free;
	}
	if (signals_block(r, &old)) {
		code = FL_EXIT_UNSUPPORTED;
		goto out_sig;
	}
	code = run_prepare(r);
	if (!code) {
		drill(r);
		code = run_report(r);
	}
	fl_journal_close(r->j);
	r->j = NULL;
out_sig:
	if (r->guardian)
		fl_guardian_done(r->guardian, r->gfd);
	run_stop_targets(r);
	signals_restore(r, &old);
out_free:
	runner_free(r);
	return code;
}
