// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner's children: the command targets it starts, each placed in
 * scratch cgroups of its own (the placer tools/ handed to core, journaled
 * before anything is made) and started again when it exits if the file
 * says restart: true, and the probes it runs on their interval.
 * Both run in process groups of their own, with our signals unblocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/runner.h"


/* How long a started command gets between SIGTERM and SIGKILL. */
#define TARGET_TERM_NS	(500 * NSEC_PER_MSEC)
/*
 * How long starting a command target waits for its exec: before the
 * timeline, long; a restart, in the timeline, briefly (its scratch
 * cgroup may be frozen by a pause fault, which holds it before exec).
 */
#define TARGET_EXEC_MS		5000
#define TARGET_REEXEC_MS	250
/* restart: true gives up after this many starts in a row that died
 * within a second. */
#define TARGET_FAST_MAX	5

/*
 * In the child: its own process group, our signals back to their
 * defaults, stdin from /dev/null; a probe's output goes nowhere, a
 * command's to out (the live view's pipe) or to our stderr.
 */
static void child_setup(bool quiet_out, int out)
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
	} else if (out >= 0) {
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	} else {
		/* Keep our stdout for events: the command writes to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	if (null > STDERR_FILENO)
		close(null);
}

/*
 * The spawn ops (struct fl_engine's child_*): the faults that take part
 * in starting target t, at most max of them, by index.
 */
static size_t child_faults(const struct runner *r, const struct fl_target *t,
			   size_t *idx, size_t max)
{
	size_t i, n = 0;

	for (i = 0; t && i < r->exp->nfaults && n < max; i++)
		if (r->fr[i].f->engine->child_setup &&
		    run_fault_target(r, i) == t)
			idx[n++] = i;
	return n;
}

/* What the child tells the runner before each child_setup. */
struct child_note {
	size_t fault;
	int fd;				/* the number its descriptor will have */
};

/*
 * In the child: each engine's child_setup, after telling the runner the
 * descriptor number it will get (the lowest free one), so that the
 * runner can take it with pidfd_getfd() while this process, whose calls
 * may be held by what child_setup installed, goes on to exec.
 */
static void child_ops(const struct runner *r, const struct fl_target *t,
		      const size_t *idx, size_t n, int note, int ack)
{
	struct child_note cn;
	size_t k;
	char c;
	int fd;

	for (k = 0; k < n; k++) {
		const struct fl_fault *f = r->fr[idx[k]].f;

		cn.fault = idx[k];
		cn.fd = fcntl(STDIN_FILENO, F_DUPFD, 0);
		if (cn.fd < 0 || close(cn.fd) ||
		    write(note, &cn, sizeof(cn)) != sizeof(cn))
			_exit(126);
		fd = f->engine->child_setup(f);
		if (fd == -ENOENT) {
			/* Nothing to take: say so (nothing new holds us). */
			cn.fd = -1;
			if (write(note, &cn, sizeof(cn)) != sizeof(cn))
				_exit(126);
			continue;
		}
		if (fd < 0 || fd != cn.fd) {
			fprintf(stderr, "faultline: target %s: fault %s: %s\n",
				t->name, f->name, fd < 0 ? strerror(-fd) :
				"its descriptor has an unexpected number");
			_exit(126);
		}
		/*
		 * Exec would close it (close-on-exec): wait until the runner
		 * holds it.  It answers whatever the new filter holds meanwhile.
		 */
		if (read(ack, &c, 1) != 1)
			_exit(126);
	}
	close(note);
	close(ack);
}

/*
 * The child's descriptor number fd, once it exists; -ENOENT when the
 * child says child_setup had nothing to make; -ECHILD when it died.
 */
static int take_fd(int pidfd, int note, int fd)
{
	struct pollfd p[2] = {
		{ .fd = pidfd, .events = POLLIN },
		{ .fd = note, .events = POLLIN },
	};
	uint64_t until = fl_now_ns() + 5 * NSEC_PER_SEC;
	struct child_note cn;
	int got;

	for (;;) {
		got = fl_pidfd_getfd(pidfd, fd);
		if (got >= 0)
			return got;
		if (errno != EBADF)
			return -errno;
		/* Not there: the child's note says why, or it died. */
		if (poll(p, 2, 1) > 0) {
			if (p[1].revents &&
			    read(note, &cn, sizeof(cn)) == sizeof(cn) &&
			    cn.fd == -1)
				return -ENOENT;
			return -ECHILD;
		}
		if (fl_now_ns() > until)
			return -ETIMEDOUT;
	}
}

/*
 * In the runner: take each descriptor the child announced, give it to
 * the engine's child_adopt, hand copies to the guardian.
 */
static int adopt_all(struct runner *r, const struct fl_target *t, pid_t pid,
		     size_t n, int note, int ack)
{
	struct child_note cn;
	int pidfd, fd, aux, ret = 0;
	size_t k;

	pidfd = fl_pidfd_open(pid);
	if (pidfd < 0)
		return -errno;
	for (k = 0; k < n && !ret; k++) {
		struct fault_run *fr;

		if (read(note, &cn, sizeof(cn)) != sizeof(cn) ||
		    cn.fault >= r->exp->nfaults) {
			ret = -ECHILD;
			break;
		}
		fr = &r->fr[cn.fault];
		fd = take_fd(pidfd, note, cn.fd);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			ret = fd;
			break;
		}
		ret = fr->f->engine->child_adopt(fr->f, fd, &fr->child,
						 &aux);
		if (ret) {
			fl_err("target %s: fault %s: %s", t->name,
			       fr->f->name, strerror(-ret));
			break;
		}
		/* The handle holds fd (and aux): the guardian gets copies. */
		if (fr->f->engine->guard &&
		    fl_guardian_guard(r->gfd, fr->f->engine->name, fd, aux))
			fl_warn("target %s: cannot hand the guardian fault "
				"%s's descriptor", t->name, fr->f->name);
		if (write(ack, "", 1) != 1)
			ret = -errno;
	}
	close(pidfd);
	return ret;
}

/*
 * Whether the child exec'd, by the pipe whose write end exec closes: end
 * of file once it did, the errno of what failed before or at its exec,
 * or nothing yet after wait_ms (0: do not wait).  0, or that -errno once
 * the child is reaped.
 */
static int exec_result(pid_t pid, int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = fl_now_ns() + (uint64_t)wait_ms * 1000000;
	int err = 0, got, left;

	if (!wait_ms)
		return 0;
	do {
		/* A signal does not restart the wait from the full time. */
		left = (int)((int64_t)(end - fl_now_ns()) / 1000000);
		got = poll(&p, 1, left > 0 ? left : 0);
	} while (got < 0 && errno == EINTR);
	if (got <= 0)
		return 0;
	if (read(fd, &err, sizeof(err)) != sizeof(err) || !err)
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -err;
}

/* In the child: tell the runner err through ex (it reads an errno). */
static void __attribute__((noreturn)) child_fail(int ex, int err, int status)
{
	/* Nobody reads it once the runner is gone: nothing else to do. */
	while (write(ex, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(status);
}

/* In the child: its set-up, the spawn ops, then exec (ex: the pipe). */
static void __attribute__((noreturn))
child_exec(struct runner *r, char **argv, bool quiet_out,
	   const struct fl_target *t, const size_t *idx, size_t n,
	   const int note[2], const int ack[2], int ex)
{
	int ret;

	child_setup(quiet_out, r->child_out);
	if (t && fl_placer_get()) {
		ret = fl_placer_get()->join(t);
		if (ret) {
			fprintf(stderr, "faultline: target %s: cannot join "
				"its scratch cgroup: %s\n", t->name,
				strerror(-ret));
			child_fail(ex, -ret, 126);
		}
	}
	if (n) {
		/* The runner's ends: with them closed here, its death is an
		 * end of file for the wait on ack. */
		close(note[0]);
		close(ack[1]);
		child_ops(r, t, idx, n, note[1], ack[0]);
	}
	execvp(argv[0], argv);
	child_fail(ex, errno, 127);
}

/* Close what is still open of a pipe (-1: closed). */
static void close_pipe(const int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/*
 * Fork and exec argv; wait_ms > 0: until the child exec'd (at most that
 * long), so that what starts at once sees the command, not a copy of
 * faultline, and a command that cannot run says why.
 */
static pid_t spawn(struct runner *r, char **argv, bool quiet_out,
		   const struct fl_target *t, int wait_ms)
{
	size_t idx[16], n = child_faults(r, t, idx, ARRAY_SIZE(idx));
	int note[2] = { -1, -1 }, ack[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int ret;
	pid_t pid;

	if (pipe2(ex, O_CLOEXEC) ||
	    (n && (pipe2(note, O_CLOEXEC) || pipe2(ack, O_CLOEXEC)))) {
		ret = -errno;
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (!pid)
		child_exec(r, argv, quiet_out, t, idx, n, note, ack, ex[1]);
	setpgid(pid, pid);
	close(ex[1]);
	ex[1] = -1;
	if (n) {
		close(note[1]);
		note[1] = -1;
		/* A command whose calls nobody would answer must not run. */
		ret = adopt_all(r, t, pid, n, note[0], ack[1]);
		if (ret) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			goto out;
		}
	}
	ret = exec_result(pid, ex[0], wait_ms) ?: pid;
out:
	close_pipe(ex);
	close_pipe(note);
	close_pipe(ack);
	return ret;
}

/* Say why the targets could not start (the report's verdict_detail). */
static int __attribute__((format(printf, 3, 4)))
start_failed(struct runner *r, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&r->stop_why, fmt, ap);
	va_end(ap);
	if (n < 0)
		r->stop_why = NULL;
	fl_err("%s", r->stop_why ? r->stop_why : strerror(-err));
	return err;
}

/*
 * Start command targets, each in scratch cgroups of its own (journaled
 * first, so the guardian and recover remove them too).
 */
int run_start_targets(struct runner *r)
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
			if (ret)
				return start_failed(r, ret, "target %s: cannot "
					"create its scratch cgroup: %s",
					t->name, strerror(-ret));
		}
		pid = spawn(r, t->argv, false, pl ? t : NULL,
			    TARGET_EXEC_MS);
		if (pid < 0)
			return start_failed(r, pid, "target %s: cannot start "
					    "%s: %s", t->name, t->argv[0],
					    strerror(-pid));
		t->pid = pid;
		r->tr[i].running = true;
		r->tr[i].started = run_rel(r);
		ev = run_ev("target-started");
		run_ev_str(ev, "target", t->name);
		json_object_object_add(ev, "pid", json_object_new_int(pid));
		if (t->scratch_memory)
			run_ev_str(ev, "cgroup", t->scratch_memory);
		run_emit(r, ev, "target %s: started %s (pid %d)%s%s", t->name,
			 t->argv[0], (int)pid, t->scratch_memory ? " in " : "",
			 t->scratch_memory ? t->scratch_memory : "");
	}
	return 0;
}

/* Remove the scratch cgroups once their commands are gone. */
void run_remove_scratch(struct runner *r)
{
	int *seqs = NULL;
	size_t i, n = 0;
	bool any = false;

	for (i = 0; r->tr && i < r->exp->ntargets; i++) {
		any |= r->tr[i].placed;
		r->tr[i].placed = false;
		free(r->tr[i].scratch.name);
		r->tr[i].scratch.name = NULL;
	}
	if (!any || !r->j)
		return;
	/*
	 * The placer journaled them through an fl_undo of its own: they are
	 * found among the records this runner has kept, by their engine.
	 */
	if (fl_journal_kept(r->j, fl_placer_get()->engine->name, &seqs, &n))
		r->revert_failed = true;
	for (i = 0; i < n; i++)
		if (fl_journal_revert(r->j, seqs[i]))
			r->revert_failed = true;
	free(seqs);
}

void run_stop_targets(struct runner *r)
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

int run_probe_setup(struct runner *r, struct probe_rt *p)
{
	p->ph = calloc(fl_steady_nphases(&p->p->steady), sizeof(*p->ph));
	if (!r->active)
		r->active = calloc(r->exp->nfaults + 1, sizeof(*r->active));
	return p->ph && r->active ? 0 : -ENOMEM;
}

/* The phase of a run starting now: which faults hold, which are over. */
static size_t probe_phase(struct runner *r, const struct probe_rt *p)
{
	bool begun = false, done = true;
	size_t i;

	for (i = 0; i < r->exp->nfaults; i++) {
		const struct fault_run *fr = &r->fr[i];

		r->active[i] = fr->state == FL_FAULT_ACTIVE;
		begun |= fr->applied_at >= 0;
		done &= !r->active[i] && !run_due_next(r, i);
	}
	return fl_steady_phase(&p->p->steady, r->active, begun, done);
}

void run_probe_start(struct runner *r, struct probe_rt *p)
{
	uint64_t now = run_rel(r);
	pid_t pid;

	p->phase = probe_phase(r, p);
	p->started = now;
	p->started_wall = r->wall0 + now;
	p->timed_out = false;
	p->cut = false;
	pid = spawn(r, p->p->argv, true, NULL, 0);
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

/* A result's (and its event's) phase, what it expected, whether met. */
static void probe_phase_keys(const struct runner *r, const struct probe_rt *p,
			     json_object *res, enum fl_expect e, bool met)
{
	const struct fl_steady *s = &p->p->steady;
	size_t k = p->phase - FL_PHASE_DURING;

	run_ev_str(res, "phase", fl_phase_name(p->phase));
	if (p->phase >= FL_PHASE_DURING)
		run_ev_str(res, "fault",
			   r->exp->faults[s->during[k].fault].name);
	run_ev_str(res, "expect", fl_expect_name(e));
	json_object_object_add(res, "as_expected",
			       json_object_new_boolean(met));
}

/* ", as expected during cut", ", but expected to fail during cut", or
 * nothing for a run that must pass in a probe with no phases. */
static const char *probe_phase_words(const struct runner *r,
				     const struct probe_rt *p,
				     enum fl_expect e, bool met, bool across,
				     char *buf, size_t len)
{
	char ph[96];

	fl_phase_text(r->exp, &p->p->steady, p->phase, ph, sizeof(ph));
	if (across)
		snprintf(buf, len, ", started %s and saw it change (not "
			 "judged)", ph);
	else if (p->phase == FL_PHASE_ALWAYS && e == FL_EXPECT_PASS)
		buf[0] = '\0';
	else if (met)
		snprintf(buf, len, ", as expected %s", ph);
	else
		snprintf(buf, len, ", but expected to %s %s",
			 fl_expect_name(e), ph);
	return buf;
}

static void probe_done(struct runner *r, struct probe_rt *p, int status)
{
	uint64_t now = run_rel(r), dur = now - p->started;
	json_object *res, *ev;
	char tbuf[40], ph[160];
	enum fl_expect e;
	bool pass, met, across;

	p->pid = 0;
	if (p->cut) {
		p->cut_short++;
		return;
	}
	pass = !p->timed_out && WIFEXITED(status) &&
	       WEXITSTATUS(status) == p->p->expect_exit;
	e = fl_steady_expect(&p->p->steady, p->phase);
	/*
	 * A run that began in one phase and ended in another (a fault was
	 * applied or reverted under it) saw both: it is not judged.
	 */
	across = probe_phase(r, p) != p->phase;
	met = across || fl_steady_met(e, pass);
	p->runs++;
	if (pass)
		p->passed++;
	else
		p->failed++;
	if (across) {
		p->across++;
	} else {
		p->ph[p->phase].runs++;
		p->ph[p->phase].passed += pass;
	}
	p->unmet += !met;
	fl_live_probe(r->live, p - r->pr, pass, met);
	if (p->timed_out)
		p->timeouts++;
	res = json_object_new_object();
	json_object_object_add(res, "t", run_jsec(p->started));
	run_ev_str(res, "time", fl_fmt_time(p->started_wall, tbuf,
					    sizeof(tbuf)));
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
	probe_phase_keys(r, p, res, e, met);
	if (across)
		json_object_object_add(res, "across",
				       json_object_new_boolean(true));
	json_object_array_add(p->results, json_object_get(res));

	ev = run_ev("probe");
	run_ev_str(ev, "probe", p->p->name);
	json_object_object_foreach(res, k, v)
		if (strcmp(k, "t") && strcmp(k, "time"))
			json_object_object_add(ev, k, json_object_get(v));
	json_object_put(res);
	if (r->json || !met || p->last != pass || p->last_phase != p->phase) {
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
		run_emit(r, ev, "probe %s: %s%s (%s, expected exit %d)",
			 p->p->name, pass ? "pass" : "FAIL",
			 probe_phase_words(r, p, e, met, across, ph,
					   sizeof(ph)),
			 what, p->p->expect_exit);
	} else {
		json_object_put(ev);
	}
	p->last = pass;
	p->last_phase = p->phase;
}

/* "exit 0", "signal 9": how a command ended. */
static const char *status_str(int status, char *buf, size_t len)
{
	snprintf(buf, len, "%s %d", WIFEXITED(status) ? "exit" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return buf;
}

/*
 * Why command target i is not started again now, or NULL.  A command
 * that a fault acts on from inside (the spawn ops: a seccomp filter
 * installed before exec) is not: its handle was made for the first one.
 */
static const char *no_restart(struct runner *r, size_t i)
{
	const struct fl_target *t = &r->exp->targets[i];
	size_t idx[1];

	if (!t->restart || r->stop != STOP_NONE)
		return "";
	if (child_faults(r, t, idx, 1))
		return "a fault acts on it from inside (spawn ops), which a restart would lose";
	if (r->tr[i].fast >= TARGET_FAST_MAX)
		return "it exited within 1 s of each of its last 5 starts";
	return NULL;
}

/* The report's record of one restart (back_pid 0: not started). */
static void note_restart(struct runner *r, size_t i, pid_t old, int status,
			 uint64_t died, pid_t pid)
{
	json_object *o = json_object_new_object();
	char buf[32];

	if (!r->tr[i].restarted)
		r->tr[i].restarted = json_object_new_array();
	run_ev_str(o, "name", r->exp->targets[i].name);
	json_object_object_add(o, "pid", json_object_new_int(old));
	run_ev_str(o, "status", status_str(status, buf, sizeof(buf)));
	json_object_object_add(o, "died_t", run_jsec(died));
	json_object_object_add(o, "back_pid", json_object_new_int(pid));
	json_object_object_add(o, "back_t", pid > 0 ?
			       run_jsec(r->tr[i].started) : NULL);
	if (pid > 0)
		json_object_object_add(o, "down_ms", json_object_new_double(
			(double)(r->tr[i].started - died) / NSEC_PER_MSEC));
	json_object_array_add(r->tr[i].restarted, o);
}

/* Start command target i again (restart: true): same argv, same cgroups. */
static void target_restart(struct runner *r, size_t i, int status)
{
	struct fl_target *t = &r->exp->targets[i];
	uint64_t died = run_rel(r);
	pid_t old = t->pid, pid;
	json_object *ev;
	char buf[32];

	r->tr[i].fast = died - r->tr[i].started < NSEC_PER_SEC ?
			r->tr[i].fast + 1 : 0;
	pid = spawn(r, t->argv, false, fl_placer_get() ? t : NULL,
		    TARGET_REEXEC_MS);
	ev = run_ev("target-restarted");
	run_ev_str(ev, "target", t->name);
	json_object_object_add(ev, "old_pid", json_object_new_int(old));
	if (pid < 0) {
		note_restart(r, i, old, status, died, 0);
		run_ev_str(ev, "error", strerror(-pid));
		run_emit(r, ev, "target %s: cannot start %s again: %s", t->name,
			 t->argv[0], strerror(-pid));
		return;
	}
	t->pid = pid;
	r->tr[i].running = true;
	r->tr[i].started = run_rel(r);
	r->tr[i].restarts++;
	note_restart(r, i, old, status, died, pid);
	json_object_object_add(ev, "pid", json_object_new_int(pid));
	json_object_object_add(ev, "restarts",
			       json_object_new_int((int)r->tr[i].restarts));
	run_emit(r, ev, "target %s: started again (pid %d, restart %u) after %s",
		 t->name, (int)pid, r->tr[i].restarts,
		 status_str(status, buf, sizeof(buf)));
}

/* A command target we started exited; with restart: true, it starts again. */
static void target_exited(struct runner *r, size_t i, int status)
{
	const struct fl_target *t = &r->exp->targets[i];
	json_object *ev = run_ev("target-exited");
	const char *no = no_restart(r, i);
	char buf[32];

	r->tr[i].running = false;
	run_ev_str(ev, "target", t->name);
	json_object_object_add(ev, "pid", json_object_new_int(t->pid));
	json_object_object_add(ev, "status", json_object_new_int(status));
	if (no && no[0])
		run_ev_str(ev, "not_restarted", no);
	run_emit(r, ev, "target %s: exited (%s)%s%s", t->name,
		 status_str(status, buf, sizeof(buf)),
		 no && no[0] ? "; not started again: " : "", no ? no : "");
	if (!no)
		target_restart(r, i, status);
}

json_object *run_restarts_json(const struct runner *r)
{
	json_object *a = json_object_new_array(), *v;
	size_t i, k;

	for (i = 0; r->tr && i < r->exp->ntargets; i++) {
		v = r->tr[i].restarted;
		for (k = 0; v && k < json_object_array_length(v); k++)
			json_object_array_add(a, json_object_get(
				json_object_array_get_idx(v, k)));
	}
	return a;
}

void run_reap(struct runner *r)
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
				target_exited(r, i, status);
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

bool run_probes_running(const struct runner *r)
{
	size_t i;

	for (i = 0; i < r->exp->nprobes; i++)
		if (r->pr[i].pid)
			return true;
	return false;
}

/* Kill every running probe (not counted) and reap it. */
void run_probes_cut(struct runner *r)
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

