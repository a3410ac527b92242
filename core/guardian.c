// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guardian: a small watchdog forked by `run` before anything is
 * applied.  It sits in its own session (Ctrl-C reaches only the runner),
 * holds a pidfd on the runner and one end of a socket (SOCK_SEQPACKET).
 * The runner sends "done" on it when it has put everything back, and
 * "guard ENGINE" with a descriptor (SCM_RIGHTS) for each one an engine's
 * child_adopt took over from a command target (a seccomp listener).  If
 * instead the runner dies (even by SIGKILL), or outlives the drill's
 * deadline (then the guardian SIGKILLs it first), the guardian answers on
 * those descriptors through the engines' guard op, in a thread of its
 * own, while it replays the run's undo records from the journal (which
 * stops the command targets), and exits once they hang up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/faultline.h"


#define GUARDIAN_PIDFD	3
#define GUARDIAN_PIPE	4
/* The descriptors the guardian keeps for the engines' guard op. */
#define GUARD_MAX	64
/* How long it waits, after its replay, for them to hang up. */
#define GUARD_WAIT_NS	(30 * NSEC_PER_SEC)

struct guarded {
	const struct fl_engine *e;
	int fd, aux;
};

struct guard_set {
	struct guarded g[GUARD_MAX];
	size_t n;
	pthread_t th;
	atomic_bool drained;		/* what waited at takeover is answered */
	atomic_bool stop;
	atomic_size_t open;		/* descriptors not hung up yet */
	atomic_ulong answered;
};

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


/*
 * The guard thread: poll the descriptors; readable: the engine answers;
 * hung up (the processes using it are gone): close it.  What waited
 * when it started is answered before "drained".
 */
static void *guard_main(void *arg)
{
	struct guard_set *gs = arg;
	struct pollfd pfd[GUARD_MAX];
	size_t i, left = gs->n;

	/* Once each first: what the runner took and had not answered. */
	for (i = 0; i < gs->n; i++) {
		if (!gs->g[i].e->guard(gs->g[i].fd, gs->g[i].aux))
			atomic_fetch_add(&gs->answered, 1);
		pfd[i].fd = gs->g[i].fd;
		pfd[i].events = POLLIN;
	}
	while (left && !atomic_load(&gs->stop)) {
		int n = poll(pfd, gs->n, atomic_load(&gs->drained) ? 100 : 0);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0)
			atomic_store(&gs->drained, true);
		for (i = 0; n > 0 && i < gs->n; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (pfd[i].revents & POLLIN) {
				if (!gs->g[i].e->guard(pfd[i].fd,
						       gs->g[i].aux))
					atomic_fetch_add(&gs->answered, 1);
			} else {
				close(pfd[i].fd);
				if (gs->g[i].aux >= 0)
					close(gs->g[i].aux);
				pfd[i].fd = -1;
				left--;
				atomic_store(&gs->open, left);
			}
		}
	}
	atomic_store(&gs->drained, true);
	return NULL;
}

/*
 * A message from the runner: "done" (1), "guard ENGINE" with a fd (0),
 * "later NS": the deadline NS later (0).
 */
static int read_msg(struct guard_set *gs, uint64_t *deadline_ns)
{
	char buf[128], cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	const struct fl_engine *e;
	struct cmsghdr *c;
	int fd[2] = { -1, -1 };
	ssize_t r;

	r = recvmsg(GUARDIAN_PIPE, &mh, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (r == 0)
		return -EPIPE;
	buf[r] = 0;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len >= CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), c->cmsg_len >= CMSG_LEN(sizeof(fd)) ?
		       sizeof(fd) : sizeof(int));
	if (!strcmp(buf, "done"))
		return 1;
	if (!strncmp(buf, "later ", 6)) {
		*deadline_ns += strtoull(buf + 6, NULL, 10);
		return 0;
	}
	e = !strncmp(buf, "guard ", 6) ? fl_engine_find(buf + 6) : NULL;
	if (fd[0] >= 0 && e && e->guard && gs->n < GUARD_MAX) {
		gs->g[gs->n].e = e;
		gs->g[gs->n].fd = fd[0];
		gs->g[gs->n++].aux = fd[1];
	} else if (fd[0] >= 0) {
		glog("cannot keep a descriptor for '%s'", buf);
		close(fd[0]);
		if (fd[1] >= 0)
			close(fd[1]);
	}
	return 0;
}

/* The runner is gone: answer on the guarded descriptors from now on. */
static bool guard_start(struct guard_set *gs)
{
	uint64_t until = fl_now_ns() + NSEC_PER_SEC;

	if (!gs->n)
		return false;
	atomic_store(&gs->open, gs->n);
	if (pthread_create(&gs->th, NULL, guard_main, gs)) {
		glog("cannot start answering for the command targets: %s",
		     strerror(errno));
		return false;
	}
	/* What waited for the runner first, then the replay. */
	while (!atomic_load(&gs->drained) && fl_now_ns() < until)
		usleep(1000);
	return true;
}

/* After the replay: until the descriptors hang up (the targets are gone). */
static void guard_end(struct guard_set *gs)
{
	uint64_t until = fl_now_ns() + GUARD_WAIT_NS;

	while (atomic_load(&gs->open) && fl_now_ns() < until)
		usleep(10000);
	if (atomic_load(&gs->open))
		glog("%zu guarded descriptor(s) still in use after %llus; "
		     "leaving them", atomic_load(&gs->open),
		     (unsigned long long)(GUARD_WAIT_NS / NSEC_PER_SEC));
	atomic_store(&gs->stop, true);
	pthread_join(gs->th, NULL);
	glog("answered %lu call(s) of the command targets as though no "
	     "fault were active", atomic_load(&gs->answered));
}

static int recover_one(const char *dir, void *why)
{
	guardian_recover(dir, why);
	return 0;
}

static void __attribute__((noreturn))
guardian_main(pid_t runner, unsigned long long start, uint64_t deadline_ns)
{
	static struct guard_set gs;
	struct pollfd pfd[2];
	bool killed = false, guarding;
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
			fl_pidfd_signal(GUARDIAN_PIDFD, SIGKILL);
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
			int m = read_msg(&gs, &deadline_ns);

			if (m == 1)
				_exit(0);	/* "done": all is back */
			if (m < 0)
				pfd[1].fd = -1;	/* closed: wait for the pidfd */
		}
		if (pfd[0].revents)
			break;		/* the runner is gone */
	}
	guarding = guard_start(&gs);
	/* Its journal, found by the runner's identity: the folder may have
	 * been made after this process started, or be half-made. */
	fl_runs_of(runner, start, recover_one,
		   killed ? "the runner was killed at the deadline" :
			    "the runner died");
	if (guarding)
		guard_end(&gs);
	_exit(0);
}

int fl_guardian_start(uint64_t deadline_ns, pid_t *pid, int *done_fd)
{
	pid_t runner = getpid(), child;
	unsigned long long start = fl_pid_start_time(runner);
	int pidfd, p[2], ret;

	*pid = 0;
	*done_fd = -1;
	pidfd = fl_pidfd_open(runner);
	if (pidfd < 0) {
		ret = -errno;
		fl_err("guardian: pidfd_open: %s", strerror(errno));
		return ret;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p)) {
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
		guardian_main(runner, start, deadline_ns);
	}
	close(pidfd);
	close(p[0]);
	*pid = child;
	*done_fd = p[1];
	return 0;
}

int fl_guardian_guard(int done_fd, const char *engine, int fd, int aux)
{
	char buf[64], cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	int fds[2] = { fd, aux }, n = aux >= 0 ? 2 : 1;
	struct iovec iov = { buf, 0 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	if (done_fd < 0)
		return 0;
	iov.iov_len = snprintf(buf, sizeof(buf), "guard %s", engine);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
	return sendmsg(done_fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int fl_guardian_later(int done_fd, uint64_t ns)
{
	char buf[32];
	int n;

	if (done_fd < 0)
		return 0;
	n = snprintf(buf, sizeof(buf), "later %llu", (unsigned long long)ns);
	return send(done_fd, buf, n, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

void fl_guardian_done(pid_t pid, int done_fd)
{
	if (done_fd >= 0) {
		if (send(done_fd, "done", 4, MSG_NOSIGNAL) < 0) {
			/* The guardian is gone already: nothing to tell. */
		}
		close(done_fd);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}
