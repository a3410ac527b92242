// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner: carry a drill out and put the machine back.
 *
 * One event loop: a signalfd for SIGINT, SIGTERM and SIGCHLD, and poll()
 * with the time to the next event as its timeout.  Faults are applied at
 * `at` in timeline order (ties in file order) and reverted after `for` or
 * at the drill's end; probes run on their interval with a timeout.  Every
 * fault's undo record is in the journal before the engine touches the
 * kernel, and a guardian process replays it if the runner dies.
 *
 * SIGINT or SIGTERM: stop, let running probes finish (within their
 * timeout), revert in reverse order.  A second one: revert at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/faultline.h"
#include "core/runner.h"

/* The guardian's deadline: the drill's duration plus this grace. */
#define GRACE_MIN_NS	(2 * NSEC_PER_SEC)
#define GRACE_MAX_NS	(30 * NSEC_PER_SEC)
/* How long a started command gets between SIGTERM and SIGKILL. */
#define TARGET_TERM_NS	(500 * NSEC_PER_MSEC)
/* How often active faults' live counters are read. */
#define LIVE_EVERY_NS	NSEC_PER_SEC

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
};

/*
 * A fault in this run: the model is the file's, everything that happens
 * to it is here, with the engine's handle from apply to release.
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
	bool held;			/* rt is to be released */
	json_object *info;		/* mechanism, observed */
	char *live_last;		/* its last live counters */
};

/* A target in this run. */
struct target_run {
	bool running;			/* a command target we started */
	int pidfd;			/* pid targets: a pidfd while alive */
	int64_t exited;			/* pid targets: when it exited, or -1 */
	struct fl_fault scratch;	/* commands: the scratch pseudo fault */
	bool placed;			/* scratch cgroups were journaled */
};

struct runner {
	struct fl_experiment *exp;
	const struct fl_run_opts *opts;
	struct fl_journal *j;
	uint64_t t0;
	int64_t wall0;
	uint64_t duration;
	int sfd;
	pid_t guardian;
	int gfd;
	struct probe_rt *pr;
	struct fault_run *fr;		/* per fault, in file order */
	size_t *order;			/* faults in timeline order */
	size_t *applied;		/* faults in the order applied */
	size_t napplied;
	struct target_run *tr;		/* per target */
	struct pollfd *pfd;		/* the signalfd and the pidfds */
	uint64_t live_next;		/* when to read them next (relative) */
	enum stop_reason stop;
	int stop_sig;
	bool hard;
	bool revert_failed;
	bool quiet, json;
	struct fl_live *live;		/* the live view on a TTY, or NULL */
};

struct fl_countdown fl_countdown;

static uint64_t rel(const struct runner *r)
{
	return fl_now_ns() - r->t0;
}

/* Redraw the live view, when there is one (counting down to --start-at). */
static void live_draw(struct runner *r)
{
	char at[80], tbuf[40];

	if (!r->live)
		return;
	if (fl_countdown.waiting) {
		snprintf(at, sizeof(at), "at %s (Ctrl-C: cancel)",
			 fl_fmt_time(fl_countdown.start_at_ns, tbuf,
				     sizeof(tbuf)));
		fl_live_draw(r->live, fl_wall_ns() - fl_countdown.start_at_ns,
			     r->duration, at);
	} else {
		fl_live_draw(r->live, (int64_t)rel(r), r->duration,
			     r->stop == STOP_NONE ? "running" : "reverting");
	}
}

static json_object *jsec(uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu.%03llu",
		 (unsigned long long)(ns / NSEC_PER_SEC),
		 (unsigned long long)(ns % NSEC_PER_SEC / NSEC_PER_MSEC));
	return json_object_new_double_s((double)ns / NSEC_PER_SEC, buf);
}

static json_object *ev_new(const char *event)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(event));
	return o;
}

static void ev_str(json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

/*
 * One event: "[+1.234s] text" for people, a JSON line with --json.  Takes
 * ev over.
 */
static void emit(struct runner *r, json_object *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct runner *r, json_object *ev, const char *fmt, ...)
{
	uint64_t t = rel(r);
	char tbuf[40];
	va_list ap;

	if (!r->quiet) {
		if (r->json) {
			json_object_object_add(ev, "t", jsec(t));
			ev_str(ev, "time", fl_fmt_time(r->wall0 + t, tbuf,
						       sizeof(tbuf)));
			puts(json_object_to_json_string_ext(ev,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		} else if (r->live) {
			char line[1024];
			int n;

			n = snprintf(line, sizeof(line), "[+%llu.%03llus] ",
				     (unsigned long long)(t / NSEC_PER_SEC),
				     (unsigned long long)(t % NSEC_PER_SEC /
							  NSEC_PER_MSEC));
			va_start(ap, fmt);
			vsnprintf(line + n, sizeof(line) - n, fmt, ap);
			va_end(ap);
			fl_live_event(r->live, line);
			live_draw(r);
		} else {
			printf("[+%llu.%03llus] ",
			       (unsigned long long)(t / NSEC_PER_SEC),
			       (unsigned long long)(t % NSEC_PER_SEC /
						    NSEC_PER_MSEC));
			va_start(ap, fmt);
			vprintf(fmt, ap);
			va_end(ap);
			putchar('\n');
		}
		fflush(stdout);
	}
	json_object_put(ev);
}

const char *fl_fault_state_name(enum fl_fault_state s)
{
	switch (s) {
	case FL_FAULT_PENDING:
		return "pending";
	case FL_FAULT_ACTIVE:
		return "active";
	case FL_FAULT_REVERTED:
		return "reverted";
	case FL_FAULT_SKIPPED:
		return "skipped";
	case FL_FAULT_FAILED:
		return "failed";
	}
	return "?";
}

static const char *mechanism(const struct runner *r, size_t i)
{
	json_object *m;

	if (r->fr[i].info && json_object_object_get_ex(r->fr[i].info,
						       "mechanism", &m))
		return json_object_get_string(m);
	return r->fr[i].f->engine->name;
}

/* A fault's state changes: the live view shows it at once. */
static void set_state(struct runner *r, size_t i, enum fl_fault_state st)
{
	r->fr[i].state = st;
	fl_live_fault(r->live, i, st, r->fr[i].detail);
}

/* Why a fault failed or was skipped; the last call wins. */
static void set_detail(struct runner *r, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_detail(struct runner *r, size_t i, const char *fmt, ...)
{
	struct fault_run *fr = &r->fr[i];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	free(fr->detail);
	fr->detail = s;
	fl_live_fault(r->live, i, fr->state, s);
}

/* ------------------------------------------------------------------ */
/* Children: probes and command targets.                               */

/* Where command targets write instead of our stderr (the live view's). */
static int child_out = -1;

static void child_setup(bool quiet_out)
{
	sigset_t none;
	int null;

	setpgid(0, 0);
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDWR);
	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	if (quiet_out) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	} else if (child_out >= 0) {
		dup2(child_out, STDOUT_FILENO);
		dup2(child_out, STDERR_FILENO);
	} else {
		/* Keep our stdout for events: the command writes to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	if (null > STDERR_FILENO)
		close(null);
}

static pid_t spawn(char **argv, bool quiet_out, const struct fl_target *t)
{
	pid_t pid;
	int ret;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		child_setup(quiet_out);
		if (t && fl_placer_get()) {
			ret = fl_placer_get()->join(t);
			if (ret) {
				fprintf(stderr, "faultline: target %s: cannot "
					"join its scratch cgroup: %s\n",
					t->name, strerror(-ret));
				_exit(126);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

/*
 * Start command targets, each in scratch cgroups of its own (journaled
 * first, so the guardian and recover remove them too).
 */
static int start_targets(struct runner *r)
{
	const struct fl_placer *pl = fl_placer_get();
	struct fl_experiment *exp = r->exp;
	size_t i;
	int ret;

	for (i = 0; i < exp->ntargets; i++) {
		struct fl_target *t = &exp->targets[i];
		struct fl_fault *rec = &r->tr[i].scratch;
		json_object *ev;
		char name[96];
		pid_t pid;

		if (t->kind != FL_TARGET_COMMAND || !t->argv || !t->argv[0])
			continue;
		if (pl) {
			snprintf(name, sizeof(name), "scratch-%s", t->name);
			rec->name = strdup(name);
			rec->engine = pl->engine;
			r->tr[i].placed = true;
			ret = rec->name ? pl->create(r->j, fl_journal_id(r->j),
						     t, rec) : -ENOMEM;
			if (ret) {
				fl_err("target %s: cannot create its scratch "
				       "cgroup: %s", t->name, strerror(-ret));
				return ret;
			}
		}
		pid = spawn(t->argv, false, pl ? t : NULL);
		if (pid < 0) {
			fl_err("target %s: cannot start %s: %s", t->name,
			       t->argv[0], strerror(-pid));
			return pid;
		}
		t->pid = pid;
		r->tr[i].running = true;
		ev = ev_new("target-started");
		ev_str(ev, "target", t->name);
		json_object_object_add(ev, "pid", json_object_new_int(pid));
		if (t->scratch_memory)
			ev_str(ev, "cgroup", t->scratch_memory);
		emit(r, ev, "target %s: started %s (pid %d)%s%s", t->name,
		     t->argv[0], (int)pid, t->scratch_memory ? " in " : "",
		     t->scratch_memory ? t->scratch_memory : "");
	}
	return 0;
}

/*
 * The placer's records in this run's journal, newest first: create
 * journals them itself, so they are found by their engine.
 */
static int placed_records(struct runner *r, json_object **out)
{
	const struct fl_placer *pl = fl_placer_get();
	struct fl_run_info *runs = NULL;
	size_t n = 0, i, k;
	int ret;

	*out = json_object_new_array();
	ret = fl_runs_list(&runs, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (strcmp(runs[i].id, fl_journal_id(r->j)))
			continue;
		for (k = 0; k < json_object_array_length(runs[i].records);
		     k++) {
			json_object *rec, *e, *seq;

			rec = json_object_array_get_idx(runs[i].records, k);
			if (json_object_object_get_ex(rec, "engine", &e) &&
			    !strcmp(json_object_get_string(e),
				    pl->engine->name) &&
			    json_object_object_get_ex(rec, "seq", &seq))
				json_object_array_add(*out,
						      json_object_get(seq));
		}
	}
	fl_runs_free(runs, n);
	return 0;
}

/* Remove the scratch cgroups once their commands are gone. */
static void remove_scratch(struct runner *r)
{
	json_object *seqs = NULL;
	bool any = false;
	size_t i;

	for (i = 0; r->tr && i < r->exp->ntargets; i++) {
		any |= r->tr[i].placed;
		r->tr[i].placed = false;
		free(r->tr[i].scratch.name);
		r->tr[i].scratch.name = NULL;
	}
	if (!any || !r->j)
		return;
	if (placed_records(r, &seqs))
		r->revert_failed = true;
	for (i = 0; i < json_object_array_length(seqs); i++)
		if (fl_journal_revert(r->j, json_object_get_int(
				json_object_array_get_idx(seqs, i))))
			r->revert_failed = true;
	json_object_put(seqs);
}

static void stop_targets(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	uint64_t until;
	size_t i;
	bool any = false;

	for (i = 0; r->tr && i < exp->ntargets; i++)
		if (r->tr[i].running) {
			kill(-exp->targets[i].pid, SIGTERM);
			any = true;
		}
	if (!any)
		return;
	until = fl_now_ns() + TARGET_TERM_NS;
	for (;;) {
		any = false;
		for (i = 0; i < exp->ntargets; i++) {
			pid_t w;

			if (!r->tr[i].running)
				continue;
			w = waitpid(exp->targets[i].pid, NULL, WNOHANG);
			if (w == exp->targets[i].pid ||
			    (w < 0 && errno == ECHILD))
				r->tr[i].running = false;
			else
				any = true;
		}
		if (!any || fl_now_ns() >= until)
			break;
		usleep(10000);
	}
	for (i = 0; i < exp->ntargets; i++) {
		if (!r->tr[i].running)
			continue;
		kill(-exp->targets[i].pid, SIGKILL);
		kill(exp->targets[i].pid, SIGKILL);
		while (waitpid(exp->targets[i].pid, NULL, 0) < 0 &&
		       errno == EINTR)
			;
		r->tr[i].running = false;
	}
}

static void probe_start(struct runner *r, struct probe_rt *p)
{
	uint64_t now = rel(r);
	pid_t pid;

	p->started = now;
	p->started_wall = r->wall0 + now;
	p->timed_out = false;
	p->cut = false;
	pid = spawn(p->p->argv, true, NULL);
	if (pid < 0) {
		fl_err("probe %s: cannot start: %s", p->p->name,
		       strerror(-pid));
		p->pid = 0;
	} else {
		p->pid = pid;
	}
	while (p->next <= now)
		p->next += p->p->every_ns;
}

static void probe_done(struct runner *r, struct probe_rt *p, int status)
{
	uint64_t now = rel(r), dur = now - p->started;
	json_object *res, *ev;
	char tbuf[40];
	bool pass;

	p->pid = 0;
	if (p->cut) {
		p->cut_short++;
		return;
	}
	pass = !p->timed_out && WIFEXITED(status) &&
	       WEXITSTATUS(status) == p->p->expect_exit;
	p->runs++;
	if (pass)
		p->passed++;
	else
		p->failed++;
	fl_live_probe(r->live, p - r->pr, pass);
	if (p->timed_out)
		p->timeouts++;
	res = json_object_new_object();
	json_object_object_add(res, "t", jsec(p->started));
	ev_str(res, "time", fl_fmt_time(p->started_wall, tbuf, sizeof(tbuf)));
	json_object_object_add(res, "exit", WIFEXITED(status) ?
			       json_object_new_int(WEXITSTATUS(status)) : NULL);
	if (WIFSIGNALED(status))
		json_object_object_add(res, "signal",
				       json_object_new_int(WTERMSIG(status)));
	json_object_object_add(res, "duration_ms",
			       json_object_new_int64(dur / NSEC_PER_MSEC));
	json_object_object_add(res, "timeout",
			       json_object_new_boolean(p->timed_out));
	json_object_object_add(res, "pass", json_object_new_boolean(pass));
	json_object_array_add(p->results, json_object_get(res));

	ev = ev_new("probe");
	ev_str(ev, "probe", p->p->name);
	json_object_object_foreach(res, k, v)
		if (strcmp(k, "t") && strcmp(k, "time"))
			json_object_object_add(ev, k, json_object_get(v));
	json_object_put(res);
	if (r->json || !pass || p->last != 1) {
		char what[64];

		if (p->timed_out)
			snprintf(what, sizeof(what), "timed out after %llums",
				 (unsigned long long)(dur / NSEC_PER_MSEC));
		else if (WIFEXITED(status))
			snprintf(what, sizeof(what), "exit %d, %llums",
				 WEXITSTATUS(status),
				 (unsigned long long)(dur / NSEC_PER_MSEC));
		else
			snprintf(what, sizeof(what), "signal %d",
				 WTERMSIG(status));
		emit(r, ev, "probe %s: %s (%s, expected exit %d)", p->p->name,
		     pass ? "pass" : "FAIL", what, p->p->expect_exit);
	} else {
		json_object_put(ev);
	}
	p->last = pass;
}

static void reap(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < exp->nprobes; i++)
			if (r->pr[i].pid == pid) {
				probe_done(r, &r->pr[i], status);
				break;
			}
		if (i < exp->nprobes)
			continue;
		for (i = 0; i < exp->ntargets; i++)
			if (r->tr[i].running && exp->targets[i].pid == pid) {
				json_object *ev = ev_new("target-exited");

				r->tr[i].running = false;
				ev_str(ev, "target", exp->targets[i].name);
				json_object_object_add(ev, "status",
						       json_object_new_int(status));
				emit(r, ev, "target %s: exited (%s %d)",
				     exp->targets[i].name,
				     WIFEXITED(status) ? "exit" : "signal",
				     WIFEXITED(status) ? WEXITSTATUS(status) :
				     WTERMSIG(status));
				break;
			}
		if (pid == r->guardian) {
			r->guardian = 0;
			if (r->gfd >= 0)
				close(r->gfd);
			r->gfd = -1;
			fl_warn("the guardian exited; the run goes on without "
				"it");
		}
	}
}

static bool probes_running(const struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nprobes; i++)
		if (r->pr[i].pid)
			return true;
	return false;
}

/* Kill every running probe (not counted) and reap it. */
static void probes_cut(struct runner *r)
{
	size_t i;
	int status;

	for (i = 0; i < r->exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];

		if (!p->pid)
			continue;
		p->cut = true;
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		probe_done(r, p, status);
	}
}

/* ------------------------------------------------------------------ */
/* Faults.                                                             */

static void live_fault(struct runner *r, size_t i, bool silent);

static int apply_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	const struct fl_fault *f = fr->f;
	struct fl_undo u = { .j = r->j, .f = f, .seq = -1 };
	json_object *ev;
	void *rt = NULL;
	int ret;

	ret = f->engine->apply(f, &u, &rt);
	fr->seq = u.seq;
	if (ret) {
		fr->err = ret;
		if (u.why)
			set_detail(r, i, "%s", u.why);
		else
			set_detail(r, i, "apply failed: %s", strerror(-ret));
		fl_undo_release(&u);
		set_state(r, i, FL_FAULT_FAILED);
		ev = ev_new("apply-failed");
		ev_str(ev, "fault", f->name);
		ev_str(ev, "error", strerror(-ret));
		ev_str(ev, "detail", fr->detail);
		emit(r, ev, "fault %s: apply FAILED: %s", f->name, fr->detail);
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
	fr->applied_at = rel(r);
	set_state(r, i, FL_FAULT_ACTIVE);
	r->applied[r->napplied++] = i;
	ev = ev_new("applied");
	ev_str(ev, "fault", f->name);
	ev_str(ev, "engine", f->engine->name);
	ev_str(ev, "mechanism", mechanism(r, i));
	emit(r, ev, "fault %s: applied (%s)", f->name, mechanism(r, i));
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
	char *text = NULL;

	if (!f->engine->live || fr->state != FL_FAULT_ACTIVE)
		return;
	out = json_object_new_object();
	if (f->engine->live(fr->rt, out))
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
	ev = ev_new("progress");
	ev_str(ev, "fault", f->name);
	json_object_object_foreach(out, k, v)
		json_object_object_add(ev, k, json_object_get(v));
	emit(r, ev, "fault %s: %s", f->name, text ? text : now);
out:
	free(text);
	json_object_put(out);
}

static void live_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++)
		live_fault(r, i, false);
	r->live_next = rel(r) + LIVE_EVERY_NS;
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

static void observe_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	json_object *obs;

	if (!fr->f->engine->observe)
		return;
	obs = json_object_new_object();
	if (fr->f->engine->observe(fr->rt, obs)) {
		json_object_put(obs);
		return;
	}
	fl_live_observed(r->live, i, obs);
	json_object_object_add(fr->info, "observed", obs);
}

/* Revert: live, observe, the record, release. */
static void revert_fault(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	const struct fl_fault *f = fr->f;
	json_object *ev;
	int ret = 0;

	if (fr->state != FL_FAULT_ACTIVE)
		return;
	/* The last live counters, so that they end where the report does. */
	live_fault(r, i, false);
	observe_fault(r, i);
	if (fr->seq > 0)
		ret = fl_journal_revert(r->j, fr->seq);
	release_fault(r, i);
	if (ret) {
		fr->err = ret;
		set_detail(r, i, "revert failed: %s; the undo record stays "
			   "in %s", strerror(-ret), fl_journal_dir(r->j));
		set_state(r, i, FL_FAULT_FAILED);
		r->revert_failed = true;
		ev = ev_new("revert-failed");
		ev_str(ev, "fault", f->name);
		ev_str(ev, "error", strerror(-ret));
		emit(r, ev, "fault %s: revert FAILED: %s", f->name,
		     strerror(-ret));
		return;
	}
	fr->reverted_at = rel(r);
	set_state(r, i, FL_FAULT_REVERTED);
	ev = ev_new("reverted");
	ev_str(ev, "fault", f->name);
	emit(r, ev, "fault %s: reverted", f->name);
}

static void revert_all(struct runner *r)
{
	size_t k;

	for (k = r->napplied; k-- > 0;)
		revert_fault(r, r->applied[k]);
}

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
		int ret;

		if (!f->engine->check)
			continue;
		ret = f->engine->check(f, why, sizeof(why));
		if (!ret)
			continue;
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-ret));
		if (f->optional) {
			set_detail(r, i, "%s", why);
			set_state(r, i, FL_FAULT_SKIPPED);
			ev = ev_new("skipped");
			ev_str(ev, "fault", f->name);
			ev_str(ev, "reason", why);
			emit(r, ev, "fault %s: skipped (optional): %s",
			     f->name, why);
			continue;
		}
		r->fr[i].err = ret;
		set_detail(r, i, "%s", why);
		set_state(r, i, FL_FAULT_FAILED);
		fl_err("fault %s (%s) cannot run on this machine: %s",
		       f->name, f->engine->name, why);
		bad++;
	}
	return bad ? -EOPNOTSUPP : 0;
}

static void describe_faults(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;

	for (i = 0; i < exp->nfaults; i++) {
		struct fault_run *fr = &r->fr[i];
		const struct fl_fault *f = fr->f;

		fr->info = json_object_new_object();
		if (!f->engine->describe || fr->state == FL_FAULT_SKIPPED)
			continue;
		if (f->engine->describe(f, fr->info)) {
			json_object_put(fr->info);
			fr->info = json_object_new_object();
		}
	}
}

/* ------------------------------------------------------------------ */
/* Locks: the resources a run holds, checked against the live runs.    */

static void res_add(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (!strcmp(json_object_get_string(
				json_object_array_get_idx(arr, i)), s))
			return;
	json_object_array_add(arr, json_object_new_string(s));
}

static json_object *collect_resources(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	json_object *all = json_object_new_array();
	size_t i, k;

	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = &exp->faults[i];
		const struct fl_node *tn;
		struct fl_target *t;
		char buf[4200];

		if (r->fr[i].state == FL_FAULT_SKIPPED)
			continue;
		if (f->engine->resources) {
			json_object *mine = json_object_new_array();

			if (!f->engine->resources(f, mine))
				for (k = 0; k < json_object_array_length(mine);
				     k++)
					res_add(all, json_object_get_string(
					     json_object_array_get_idx(mine, k)));
			json_object_put(mine);
		}
		/* The target a fault names, when it is a pid or a cgroup. */
		tn = f->spec && f->spec->type == FL_NODE_MAP ?
		     fl_map_get(f->spec, "target") : NULL;
		t = tn && tn->type == FL_NODE_SCALAR ?
		    fl_experiment_target(exp, tn->scalar) : NULL;
		if (t && !fl_target_resource(t, buf, sizeof(buf)))
			res_add(all, buf);
	}
	return all;
}

static const char *res_common(json_object *a, json_object *b)
{
	size_t i, k;

	for (i = 0; a && i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(
					json_object_array_get_idx(a, i));

		for (k = 0; b && k < json_object_array_length(b); k++)
			if (!strcmp(s, json_object_get_string(
					json_object_array_get_idx(b, k))))
				return s;
	}
	return NULL;
}

/*
 * Under the global lock: refuse when a live run (or a dead one that left
 * undo records) holds one of our resources, else register the run.
 */
static int register_run(struct runner *r, json_object *res,
			uint64_t deadline)
{
	struct fl_run_info *runs = NULL;
	char path[600];
	size_t n = 0, i;
	int lockfd, ret, busy = 0;

	if (mkdir(fl_rundir(), 0700) && errno != EEXIST) {
		ret = -errno;
		fl_err("cannot create %s: %s", fl_rundir(), strerror(errno));
		return ret;
	}
	/* The journal folder itself is the lock: no lock file is left. */
	snprintf(path, sizeof(path), "%s", fl_rundir());
	lockfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockfd < 0 || flock(lockfd, LOCK_EX)) {
		ret = -errno;
		fl_err("cannot lock %s: %s", path, strerror(errno));
		if (lockfd >= 0)
			close(lockfd);
		return ret;
	}
	ret = fl_runs_list(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *s = res_common(res, runs[i].resources);

		if (!s)
			continue;
		if (runs[i].alive) {
			fl_err("busy: %s is held by run %s (pid %d, %s); wait "
			       "for it to end or stop it first", s, runs[i].id,
			       (int)runs[i].pid, runs[i].file);
			busy++;
		} else if (json_object_array_length(runs[i].records)) {
			fl_err("busy: %s is held by dead run %s (%s), which "
			       "left undo records; run 'faultline recover %s' "
			       "first", s, runs[i].id, runs[i].file,
			       runs[i].id);
			busy++;
		}
	}
	if (busy) {
		ret = -EBUSY;
		goto out;
	}
	ret = fl_journal_create(r->exp, deadline, res, &r->j);
out:
	fl_runs_free(runs, n);
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The report.                                                         */

static json_object *time_or_null(const struct runner *r, int64_t t)
{
	char buf[40];

	if (t < 0)
		return NULL;
	return json_object_new_string(fl_fmt_time(r->wall0 + t, buf,
						  sizeof(buf)));
}

static const char *verdict(const struct runner *r, int *code)
{
	size_t i;

	if (r->revert_failed) {
		*code = FL_EXIT_APPLY;
		return "revert-failed";
	}
	if (r->stop == STOP_APPLY) {
		*code = FL_EXIT_APPLY;
		return "apply-failed";
	}
	if (r->stop == STOP_SIGNAL) {
		*code = 128 + r->stop_sig;
		return "interrupted";
	}
	for (i = 0; i < r->exp->nprobes; i++)
		if (r->pr[i].failed) {
			*code = FL_EXIT_EXPECT;
			return "fail";
		}
	/* An engine's own expectation (an oom fault that killed nothing). */
	for (i = 0; i < r->exp->nfaults; i++) {
		json_object *obs, *e, *met;

		if (r->fr[i].info &&
		    json_object_object_get_ex(r->fr[i].info, "observed",
					      &obs) &&
		    json_object_object_get_ex(obs, "expectation", &e) &&
		    json_object_object_get_ex(e, "met", &met) &&
		    !json_object_get_boolean(met)) {
			*code = FL_EXIT_EXPECT;
			return "fail";
		}
	}
	*code = FL_EXIT_OK;
	return "pass";
}

/* The SVG timeline next to the JSON report: x.json -> x.svg. */
static int write_svg(const char *json_path, char *buf, size_t len)
{
	size_t n = strlen(json_path);
	json_object *rep;
	int ret;

	if (n > 5 && !strcmp(json_path + n - 5, ".json"))
		n -= 5;
	if ((size_t)snprintf(buf, len, "%.*s.svg", (int)n, json_path) >= len)
		return -ENAMETOOLONG;
	/* From the file as written, so "faultline report --svg" redraws
	 * exactly this picture. */
	rep = json_object_from_file(json_path);
	ret = rep ? fl_report_svg_file(rep, buf) : -EIO;
	json_object_put(rep);
	if (ret)
		fl_warn("cannot write the timeline %s: %s", buf, strerror(-ret));
	return ret;
}

static json_object *build_report(struct runner *r, int64_t end_wall,
				 const char *v, int code)
{
	struct fl_experiment *exp = r->exp;
	json_object *rep = json_object_new_object(), *o, *arr;
	char buf[40], host[256];
	size_t i;

	o = json_object_new_object();
	ev_str(o, "name", exp->name);
	ev_str(o, "file", exp->file);
	json_object_object_add(o, "duration", jsec(r->duration));
	json_object_object_add(rep, "experiment", o);
	if (r->j)
		ev_str(rep, "run", fl_journal_id(r->j));
	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		ev_str(rep, "host", host);
	}
	ev_str(rep, "started", fl_fmt_time(r->wall0, buf, sizeof(buf)));
	/* The same instant to the microsecond, to line hosts up (merge). */
	snprintf(buf, sizeof(buf), "%lld.%06lld",
		 (long long)(r->wall0 / (int64_t)NSEC_PER_SEC),
		 (long long)(r->wall0 % (int64_t)NSEC_PER_SEC /
			     (int64_t)NSEC_PER_USEC));
	json_object_object_add(rep, "started_unix", json_object_new_double_s(
		(double)r->wall0 / NSEC_PER_SEC, buf));
	json_object_object_add(rep, "start_at", r->opts->start_at_ns ?
		json_object_new_string(fl_fmt_time(r->opts->start_at_ns, buf,
						   sizeof(buf))) : NULL);
	ev_str(rep, "ended", fl_fmt_time(end_wall, buf, sizeof(buf)));
	json_object_object_add(rep, "elapsed", jsec(end_wall - r->wall0));

	arr = json_object_new_array();
	for (i = 0; i < exp->nfaults; i++) {
		const struct fault_run *fr = &r->fr[i];
		const struct fl_fault *f = fr->f;
		json_object *m;

		o = json_object_new_object();
		ev_str(o, "name", f->name);
		ev_str(o, "engine", f->engine->name);
		ev_str(o, "state", fl_fault_state_name(fr->state));
		json_object_object_add(o, "optional",
				       json_object_new_boolean(f->optional));
		json_object_object_add(o, "at", jsec(f->at_ns));
		json_object_object_add(o, "for", f->has_for ?
				       jsec(f->for_ns) : NULL);
		if (fr->info && json_object_object_get_ex(fr->info,
							  "mechanism", &m))
			json_object_object_add(o, "mechanism",
					       json_object_get(m));
		json_object_object_add(o, "applied_at",
				       time_or_null(r, fr->applied_at));
		json_object_object_add(o, "applied_t", fr->applied_at < 0 ?
				       NULL : jsec(fr->applied_at));
		json_object_object_add(o, "reverted_at",
				       time_or_null(r, fr->reverted_at));
		json_object_object_add(o, "reverted_t",
				       fr->reverted_at < 0 ? NULL :
				       jsec(fr->reverted_at));
		json_object_object_add(o, "detail", fr->detail ?
				       json_object_new_string(fr->detail) : NULL);
		if (fr->err)
			ev_str(o, "error", strerror(-fr->err));
		if (fr->info && json_object_object_get_ex(fr->info,
							  "observed", &m))
			json_object_object_add(o, "observed",
					       json_object_get(m));
		json_object_array_add(arr, o);
	}
	json_object_object_add(rep, "faults", arr);

	arr = json_object_new_array();
	for (i = 0; i < exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];
		json_object *av = json_object_new_array();
		char **a;

		o = json_object_new_object();
		ev_str(o, "name", p->p->name);
		for (a = p->p->argv; a && *a; a++)
			json_object_array_add(av, json_object_new_string(*a));
		json_object_object_add(o, "exec", av);
		json_object_object_add(o, "expect_exit",
				       json_object_new_int(p->p->expect_exit));
		json_object_object_add(o, "runs", json_object_new_int(p->runs));
		json_object_object_add(o, "passed",
				       json_object_new_int(p->passed));
		json_object_object_add(o, "failed",
				       json_object_new_int(p->failed));
		json_object_object_add(o, "timeouts",
				       json_object_new_int(p->timeouts));
		json_object_object_add(o, "cut_short",
				       json_object_new_int(p->cut_short));
		json_object_object_add(o, "results", json_object_get(p->results));
		json_object_array_add(arr, o);
	}
	json_object_object_add(rep, "probes", arr);
	/* Pid targets that exited during the drill, and when. */
	arr = json_object_new_array();
	for (i = 0; r->tr && i < exp->ntargets; i++) {
		if (r->tr[i].exited < 0)
			continue;
		o = json_object_new_object();
		ev_str(o, "name", exp->targets[i].name);
		json_object_object_add(o, "pid",
				       json_object_new_int(exp->targets[i].pid));
		json_object_object_add(o, "exited_at",
				       time_or_null(r, r->tr[i].exited));
		json_object_object_add(o, "exited_t",
				       jsec(r->tr[i].exited));
		json_object_array_add(arr, o);
	}
	json_object_object_add(rep, "targets_exited", arr);
	ev_str(rep, "verdict", v);
	json_object_object_add(rep, "exit", json_object_new_int(code));
	return rep;
}

static void print_summary(struct runner *r, const char *v, int code,
			  const char *report_path)
{
	struct fl_experiment *exp = r->exp;
	json_object *obs, *e, *met, *det;
	char up[16], buf[64];
	size_t i;

	for (i = 0; v[i] && i < sizeof(up) - 1; i++)
		up[i] = v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i];
	up[i] = '\0';
	printf("\ndrill %s: %s (exit %d)\n", exp->name ? exp->name : exp->file,
	       up, code);
	for (i = 0; i < exp->nfaults; i++) {
		const struct fault_run *fr = &r->fr[i];

		printf("  fault %-16s %-9s", fr->f->name,
		       fl_fault_state_name(fr->state));
		if (fr->applied_at >= 0)
			printf(" applied +%.3fs", (double)fr->applied_at /
			       NSEC_PER_SEC);
		if (fr->reverted_at >= 0)
			printf(" reverted +%.3fs", (double)fr->reverted_at /
			       NSEC_PER_SEC);
		if (fr->state != FL_FAULT_PENDING)
			printf(" (%s)", fr->detail && (fr->state ==
			       FL_FAULT_SKIPPED || fr->state == FL_FAULT_FAILED) ?
			       fr->detail : mechanism(r, i));
		putchar('\n');
		if (fr->info &&
		    json_object_object_get_ex(fr->info, "observed", &obs) &&
		    json_object_object_get_ex(obs, "expectation", &e) &&
		    json_object_object_get_ex(e, "met", &met) &&
		    json_object_object_get_ex(e, "detail", &det))
			printf("        %s: %s\n",
			       json_object_get_boolean(met) ? "expected" :
			       "EXPECTATION FAILED",
			       json_object_get_string(det));
	}
	for (i = 0; i < exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];

		snprintf(buf, sizeof(buf), "%u timed out", p->timeouts);
		printf("  probe %-16s %u/%u passed%s%s\n", p->p->name, p->passed,
		       p->runs, p->timeouts ? ", " : "",
		       p->timeouts ? buf : "");
	}
	if (report_path)
		printf("report: %s\n", report_path);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* The loop.                                                           */

static void on_signal(struct runner *r, int sig)
{
	json_object *ev = ev_new("signal");

	ev_str(ev, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
	if (r->stop == STOP_NONE && fl_countdown.waiting) {
		r->stop = STOP_SIGNAL;
		r->stop_sig = sig;
		ev_str(ev, "action", "cancel");
		emit(r, ev, "%s: countdown cancelled; nothing was applied",
		     sig == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (r->stop == STOP_NONE) {
		r->stop = STOP_SIGNAL;
		r->stop_sig = sig;
		ev_str(ev, "action", "stop");
		emit(r, ev, "%s: stopping; reverting everything (again to "
		     "revert at once)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (!r->hard) {
		r->hard = true;
		ev_str(ev, "action", "revert-now");
		emit(r, ev, "%s again: reverting at once",
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
			reap(r);
		else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			on_signal(r, si.ssi_signo);
	}
	reap(r);
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
		ev = ev_new("waiting");
		ev_str(ev, "start_at", abuf);
		json_object_object_add(ev, "remaining", jsec(left));
		ev_str(ev, "time", fl_fmt_time(fl_wall_ns(), nbuf,
					       sizeof(nbuf)));
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(ev);
	} else if (r->live) {
		live_draw(r);
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

			if (fr->state == FL_FAULT_PENDING &&
			    fr->f->at_ns < next)
				next = fr->f->at_ns;
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

/* The target a fault names (its spec's "target:"), or NULL. */
static const struct fl_target *fault_target(const struct runner *r, size_t i)
{
	const struct fl_fault *f = &r->exp->faults[i];
	const struct fl_node *tn;

	tn = f->spec && f->spec->type == FL_NODE_MAP ?
	     fl_map_get(f->spec, "target") : NULL;
	return tn && tn->type == FL_NODE_SCALAR ?
	       fl_experiment_target(r->exp, tn->scalar) : NULL;
}

/* A pidfd on every pid target, polled with the signalfd. */
static int watch_targets(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;

	r->pfd = calloc(exp->ntargets + 1, sizeof(*r->pfd));
	if (!r->pfd)
		return -ENOMEM;
	for (i = 0; i < exp->ntargets; i++)
		if (exp->targets[i].kind == FL_TARGET_PID)
			r->tr[i].pidfd = syscall(SYS_pidfd_open,
						 exp->targets[i].pid, 0);
	return 0;
}

/*
 * A pid target exited: the faults on it end now (their revert finds
 * nothing of it left), those not begun are skipped.  An oom fault goes
 * on: it squeezes the cgroup, which outlives the process, and its
 * watcher proves the death by itself.  The exit status does not change.
 */
static void target_gone(struct runner *r, size_t ti)
{
	struct fl_experiment *exp = r->exp;
	const struct fl_target *t = &exp->targets[ti];
	json_object *ev = ev_new("target-exited"), *ended, *skipped;
	char tb[32], list[512] = "";
	size_t i, off = 0;

	close(r->tr[ti].pidfd);
	r->tr[ti].pidfd = -1;
	r->tr[ti].exited = rel(r);
	ended = json_object_new_array();
	skipped = json_object_new_array();
	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = r->fr[i].f;

		if (fault_target(r, i) != t || !strcmp(f->engine->name, "oom"))
			continue;
		if (r->fr[i].state == FL_FAULT_ACTIVE) {
			json_object_array_add(ended,
					      json_object_new_string(f->name));
		} else if (r->fr[i].state == FL_FAULT_PENDING) {
			set_detail(r, i, "target %s (pid %d) exited before it "
				   "began", t->name, (int)t->pid);
			set_state(r, i, FL_FAULT_SKIPPED);
			json_object_array_add(skipped,
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
	snprintf(tb, sizeof(tb), "+%llu.%03llus",
		 (unsigned long long)(r->tr[ti].exited / NSEC_PER_SEC),
		 (unsigned long long)(r->tr[ti].exited % NSEC_PER_SEC /
				      NSEC_PER_MSEC));
	ev_str(ev, "target", t->name);
	json_object_object_add(ev, "pid", json_object_new_int(t->pid));
	json_object_object_add(ev, "ended", ended);
	json_object_object_add(ev, "skipped", skipped);
	emit(r, ev, "target %s (pid %d) exited at %s; its faults end%s%s; "
	     "nothing is left to revert in it", t->name, (int)t->pid, tb,
	     list[0] ? ": " : "", list);
	for (i = exp->nfaults; i-- > 0;)
		if (r->fr[i].state == FL_FAULT_ACTIVE &&
		    fault_target(r, i) == t &&
		    strcmp(r->fr[i].f->engine->name, "oom"))
			revert_fault(r, i);
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

static void loop(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i, k;

	for (;;) {
		uint64_t now = rel(r), wait;
		int ms;

		if (r->stop == STOP_NONE && now >= r->duration) {
			json_object *ev = ev_new("end");

			r->stop = STOP_END;
			emit(r, ev, "drill: duration reached; reverting");
		}
		if (r->stop == STOP_NONE) {
			for (k = r->napplied; k-- > 0;) {
				i = r->applied[k];
				if (r->fr[i].state == FL_FAULT_ACTIVE &&
				    r->fr[i].end <= now)
					revert_fault(r, i);
			}
			for (k = 0; k < exp->nfaults; k++) {
				i = r->order[k];
				if (r->fr[i].state != FL_FAULT_PENDING ||
				    exp->faults[i].at_ns > now)
					continue;
				if (apply_fault(r, i)) {
					r->stop = STOP_APPLY;
					r->hard = true;
					break;
				}
				read_signals(r);
				if (r->stop != STOP_NONE)
					break;
				now = rel(r);
			}
		}
		if (r->stop == STOP_NONE && rel(r) >= r->live_next)
			live_all(r);
		if (r->stop == STOP_NONE) {
			now = rel(r);
			for (i = 0; i < exp->nprobes; i++)
				if (!r->pr[i].pid && r->pr[i].next <= now)
					probe_start(r, &r->pr[i]);
		}
		now = rel(r);
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
		    (r->hard || !probes_running(r) || now >= r->duration))
			break;
		live_draw(r);
		wait = next_event(r, now);
		ms = (wait + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		/* The live view's clock ticks at least twice a second. */
		if (ms > (r->live ? 500 : 1000))
			ms = r->live ? 500 : 1000;
		wait_events(r, ms);
	}
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	const struct fl_experiment *exp = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t ax = exp->faults[x].at_ns, ay = exp->faults[y].at_ns;

	if (ax != ay)
		return ax < ay ? -1 : 1;
	return (x > y) - (x < y);
}

static void setup_timeline(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	size_t i;

	r->duration = exp->duration_ns;
	if (!r->duration)
		for (i = 0; i < exp->nfaults; i++)
			if (exp->faults[i].at_ns + exp->faults[i].for_ns >
			    r->duration)
				r->duration = exp->faults[i].at_ns +
					      exp->faults[i].for_ns;
	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = &exp->faults[i];
		struct fault_run *fr = &r->fr[i];

		fr->f = f;
		fr->state = FL_FAULT_PENDING;
		fr->seq = -1;
		fr->applied_at = -1;
		fr->reverted_at = -1;
		r->order[i] = i;
		fr->end = f->has_for ? f->at_ns + f->for_ns : r->duration;
		if (fr->end > r->duration)
			fr->end = r->duration;
	}

	qsort_r(r->order, exp->nfaults, sizeof(*r->order), cmp_order, exp);
	for (i = 0; i < exp->nprobes; i++) {
		struct probe_rt *p = &r->pr[i];

		p->p = &exp->probes[i];
		if (!p->p->every_ns)
			p->p->every_ns = NSEC_PER_SEC;
		if (!p->p->timeout_ns)
			p->p->timeout_ns = p->p->every_ns;
		p->last = -1;
		p->results = json_object_new_array();
	}
}

int fl_run(struct fl_experiment *exp, const struct fl_run_opts *opts)
{
	struct runner rr = { 0 }, *r = &rr;
	char dbuf[32];
	json_object *res = NULL, *ev, *rep;
	const char *report_path, *v;
	char svg_path[4096];
	bool svg_ok;
	sigset_t mask, old;
	uint64_t grace, deadline;
	size_t i, nf = exp->nfaults ? exp->nfaults : 1;
	int code = FL_EXIT_OK, ret;

	r->exp = exp;
	r->opts = opts;
	r->quiet = opts->quiet;
	r->json = opts->json;
	r->gfd = -1;
	r->sfd = -1;
	r->fr = calloc(nf, sizeof(*r->fr));
	r->order = calloc(nf, sizeof(*r->order));
	r->applied = calloc(nf, sizeof(*r->applied));
	r->pr = calloc(exp->nprobes ? exp->nprobes : 1, sizeof(*r->pr));
	r->tr = calloc(exp->ntargets ? exp->ntargets : 1, sizeof(*r->tr));
	if (!r->fr || !r->order || !r->applied || !r->pr || !r->tr) {
		fl_err("out of memory");
		code = FL_EXIT_APPLY;
		goto out_free;
	}
	for (i = 0; i < exp->ntargets; i++) {
		r->tr[i].pidfd = -1;
		r->tr[i].exited = -1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &mask, &old);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sfd < 0) {
		fl_err("signalfd: %s", strerror(errno));
		code = FL_EXIT_UNSUPPORTED;
		goto out_sig;
	}

	r->t0 = fl_now_ns();
	r->wall0 = fl_wall_ns();
	setup_timeline(r);
	ev = ev_new("start");
	ev_str(ev, "name", exp->name);
	ev_str(ev, "file", exp->file);
	json_object_object_add(ev, "duration", jsec(r->duration));
	emit(r, ev, "drill %s (%s): %zu fault(s), %zu probe(s), %s",
	     exp->name ? exp->name : "", exp->file, exp->nfaults,
	     exp->nprobes, fl_fmt_duration(r->duration, dbuf, sizeof(dbuf)));

	/* Everything that can refuse, before anything is changed. */
	if (check_faults(r)) {
		code = FL_EXIT_UNSUPPORTED;
		goto out_sig;
	}
	describe_faults(r);
	res = collect_resources(r);
	grace = GRACE_MIN_NS + r->duration / 20;
	if (grace > GRACE_MAX_NS)
		grace = GRACE_MAX_NS;
	deadline = fl_now_ns() + r->duration + grace;
	/* --start-at: the guardian's deadline counts the wait as well. */
	if (opts->start_at_ns > fl_wall_ns())
		deadline += opts->start_at_ns - fl_wall_ns();
	ret = register_run(r, res, deadline);
	if (ret) {
		code = FL_EXIT_UNSUPPORTED;
		goto out_sig;
	}
	if (!opts->no_guardian) {
		ret = fl_guardian_start(r->j, deadline, &r->guardian, &r->gfd);
		if (ret) {
			fl_err("cannot start the guardian: %s; nothing was "
			       "applied", strerror(-ret));
			fl_journal_finish(r->j);
			code = FL_EXIT_UNSUPPORTED;
			goto out_journal;
		}
	}
	/* On a terminal, the live view from here on (after the checks,
	 * whose messages stay plain lines above it). */
	if (fl_live_wanted(opts))
		r->live = fl_live_new(exp);
	for (i = 0; r->live && i < exp->nfaults; i++)
		fl_live_fault(r->live, i, r->fr[i].state, r->fr[i].detail);
	child_out = fl_live_output_fd(r->live);
	/* --start-at: checks, locks and the guardian are done; wait. */
	if (opts->start_at_ns) {
		ret = countdown(r, opts->start_at_ns);
		if (ret)
			fl_err("cannot wait for --start-at: %s; starting now",
			       strerror(-ret));
	}
	/* The timeline starts now. */
	r->t0 = fl_now_ns();
	r->wall0 = fl_wall_ns();
	ev = ev_new("run");
	ev_str(ev, "run", fl_journal_id(r->j));
	ev_str(ev, "journal", fl_journal_dir(r->j));
	json_object_object_add(ev, "pid", json_object_new_int(getpid()));
	json_object_object_add(ev, "guardian",
			       json_object_new_int(r->guardian));
	emit(r, ev, "run %s: journal %s, pid %d, guardian %d",
	     fl_journal_id(r->j), fl_journal_dir(r->j), (int)getpid(),
	     (int)r->guardian);
	if (r->stop != STOP_NONE)
		;	/* interrupted during the countdown: nothing to do */
	else if (start_targets(r) || watch_targets(r))
		r->stop = STOP_APPLY;
	else
		loop(r);

	probes_cut(r);
	revert_all(r);
	stop_targets(r);
	remove_scratch(r);
	ret = fl_journal_finish(r->j);
	if (ret) {
		r->revert_failed = true;
		fl_err("undo records are left in %s: run 'faultline recover "
		       "%s'", fl_journal_dir(r->j), fl_journal_id(r->j));
	}
	fl_guardian_done(r->guardian, r->gfd);
	r->guardian = 0;
	r->gfd = -1;

	v = verdict(r, &code);
	rep = build_report(r, fl_wall_ns(), v, code);
	report_path = opts->report_json ? opts->report_json : exp->report_json;
	if (report_path && json_object_to_file_ext(report_path, rep,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE)) {
		fl_err("cannot write the report %s: %s", report_path,
		       strerror(errno));
		report_path = NULL;
	}
	svg_ok = report_path && !write_svg(report_path, svg_path,
					   sizeof(svg_path));
	if (r->json) {
		ev = ev_new("report");
		json_object_object_add(ev, "report", json_object_get(rep));
		emit(r, ev, "report");
	} else if (!r->quiet) {
		/* The last frame stays, the summary goes under it. */
		fl_live_end(r->live, (int64_t)(fl_now_ns() - r->t0),
			    r->duration);
		print_summary(r, v, code, report_path);
		if (svg_ok)
			printf("timeline: %s\n", svg_path);
		fflush(stdout);
	}
	json_object_put(rep);

out_journal:
	fl_journal_close(r->j);
	r->j = NULL;
out_sig:
	if (r->guardian)
		fl_guardian_done(r->guardian, r->gfd);
	stop_targets(r);
	if (r->sfd >= 0) {
		struct signalfd_siginfo si;

		/* Drop what is pending, then restore the mask. */
		while (read(r->sfd, &si, sizeof(si)) == sizeof(si))
			;
		close(r->sfd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out_free:
	json_object_put(res);
	for (i = 0; r->fr && i < exp->nfaults; i++) {
		/* A handle the run did not get to revert ends with it. */
		release_fault(r, i);
		json_object_put(r->fr[i].info);
		free(r->fr[i].detail);
		free(r->fr[i].live_last);
	}
	for (i = 0; r->pr && i < exp->nprobes; i++)
		json_object_put(r->pr[i].results);
	free(r->fr);
	free(r->order);
	free(r->applied);
	free(r->pr);
	for (i = 0; r->tr && i < exp->ntargets; i++) {
		if (r->tr[i].pidfd >= 0)
			close(r->tr[i].pidfd);
		free(r->tr[i].scratch.name);
	}
	free(r->tr);
	free(r->pfd);
	child_out = -1;
	fl_live_free(r->live);
	return code;
}
