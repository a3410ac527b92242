// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guardian: a small watchdog forked by `run` before anything is
 * applied.  It sits in its own session (Ctrl-C reaches only the runner),
 * holds a pidfd on the runner and the read end of a pipe.  The runner
 * writes "done" on the pipe when it has put everything back.  If instead
 * the runner dies (even by SIGKILL), or outlives the drill's deadline (then
 * the guardian SIGKILLs it first), the guardian replays the run's undo
 * records from the journal and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/faultline.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define GUARDIAN_PIDFD	3
#define GUARDIAN_PIPE	4

static void glog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void glog(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "faultline guardian[%d]: ",
		     (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

/* "  dir/record: key" for each entry of the result's array. */
static void glog_records(const char *dir, json_object *arr, const char *key)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		json_object *r = NULL, *e = NULL;

		json_object_object_get_ex(o, "record", &r);
		json_object_object_get_ex(o, key, &e);
		glog("  %s/%s: %s", dir, json_object_get_string(r),
		     json_object_get_string(e));
	}
}

static void guardian_recover(const char *dir, const char *why)
{
	json_object *res = json_object_new_object();
	json_object *rev = NULL, *gone = NULL, *fail = NULL;
	int ret;

	ret = fl_recover_run(dir, res);
	json_object_object_get_ex(res, "reverted", &rev);
	json_object_object_get_ex(res, "gone", &gone);
	json_object_object_get_ex(res, "failed", &fail);
	if (ret == -ENOENT) {
		glog("%s; its journal %s is already gone", why, dir);
	} else if (!ret) {
		glog("%s; reverted %zu fault(s) from %s", why,
		     rev ? json_object_array_length(rev) : 0, dir);
	} else {
		glog("%s; could not revert everything (%s); "
		     "run 'faultline recover'", why, strerror(-ret));
		glog_records(dir, fail, "error");
	}
	/* Records whose network namespace went: done, nothing to revert. */
	glog_records(dir, gone, "why");
	json_object_put(res);
}

static void __attribute__((noreturn))
guardian_main(const char *dir, pid_t runner, uint64_t deadline_ns)
{
	struct pollfd pfd[2];
	bool killed = false;
	sigset_t none;
	int null;

	/* Its own session: the terminal's Ctrl-C and hangup miss it. */
	setsid();
	prctl(PR_SET_NAME, "fl-guardian");
	sigemptyset(&none);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}

	pfd[0].fd = GUARDIAN_PIDFD;
	pfd[0].events = POLLIN;
	pfd[1].fd = GUARDIAN_PIPE;
	pfd[1].events = POLLIN;
	for (;;) {
		uint64_t now = fl_now_ns();
		int timeout = -1, n;

		if (!killed && now >= deadline_ns) {
			glog("run %d passed its deadline; killing it",
			     (int)runner);
			syscall(SYS_pidfd_send_signal, GUARDIAN_PIDFD, SIGKILL,
				NULL, 0);
			killed = true;
		}
		if (!killed) {
			uint64_t ms = (deadline_ns - now + NSEC_PER_MSEC - 1) /
				      NSEC_PER_MSEC;

			timeout = ms > 60000 ? 60000 : (int)ms;
		}
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (pfd[1].revents) {
			char buf[64];
			ssize_t r = read(GUARDIAN_PIPE, buf, sizeof(buf));

			if (r > 0 && memchr(buf, 'd', r))
				_exit(0);	/* "done": all is back */
			if (r == 0 || (r < 0 && errno != EINTR &&
				       errno != EAGAIN))
				pfd[1].fd = -1;	/* closed: wait for the pidfd */
		}
		if (pfd[0].revents)
			break;		/* the runner is gone */
	}
	guardian_recover(dir, killed ? "the runner was killed at the deadline"
				     : "the runner died");
	_exit(0);
}

int fl_guardian_start(struct fl_journal *j, uint64_t deadline_ns,
		      pid_t *pid, int *done_fd)
{
	pid_t runner = getpid(), child;
	char dir[512];
	int pidfd, p[2], ret;

	*pid = 0;
	*done_fd = -1;
	snprintf(dir, sizeof(dir), "%s", fl_journal_dir(j));
	pidfd = syscall(SYS_pidfd_open, runner, 0);
	if (pidfd < 0) {
		ret = -errno;
		fl_err("guardian: pidfd_open: %s", strerror(errno));
		return ret;
	}
	if (pipe2(p, O_CLOEXEC)) {
		ret = -errno;
		close(pidfd);
		return ret;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		ret = -errno;
		close(pidfd);
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (!child) {
		/* Keep stdio, the pidfd and the pipe's read end; no more. */
		int a = fcntl(pidfd, F_DUPFD_CLOEXEC, 64);
		int b = fcntl(p[0], F_DUPFD_CLOEXEC, 64);

		if (a < 0 || b < 0 || dup2(a, GUARDIAN_PIDFD) < 0 ||
		    dup2(b, GUARDIAN_PIPE) < 0)
			_exit(1);
		close_range(GUARDIAN_PIPE + 1, ~0U, 0);
		guardian_main(dir, runner, deadline_ns);
	}
	close(pidfd);
	close(p[0]);
	*pid = child;
	*done_fd = p[1];
	ret = fl_journal_set_guardian(j, child);
	if (ret)
		fl_warn("cannot record the guardian in %s/run.json: %s", dir,
			strerror(-ret));
	return 0;
}

void fl_guardian_done(pid_t pid, int done_fd)
{
	if (done_fd >= 0) {
		if (write(done_fd, "done\n", 5) < 0) {
			/* The guardian is gone already: nothing to tell. */
		}
		close(done_fd);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}
