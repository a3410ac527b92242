// SPDX-License-Identifier: GPL-2.0-only
/*
 * Run a function in a forked child and read back the fixed-size answer
 * it fills: for probes that change process state (a private mount
 * namespace, a user namespace, network devices) which the caller must
 * not keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/faultline.h"

static void child(int fd, void (*fn)(void *out, void *arg), void *arg,
		  void *out, size_t len)
{
	ssize_t n;

	memset(out, 0, len);
	fn(out, arg);
	n = write(fd, out, len);
	_exit(n == (ssize_t)len ? 0 : 1);
}

/* Read len bytes from fd within timeout_ms in all; 0 or -errno. */
static int read_all(int fd, void *out, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int ret;

	while (got < len) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return ret ? -errno : -ETIMEDOUT;
		n = read(fd, (char *)out + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		got += n;
	}
	return 0;
}

int fl_die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return -errno;
	/* It may have died before the prctl: then nobody sends it. */
	return getppid() == parent ? 0 : -ESRCH;
}

int fl_in_child(void (*fn)(void *out, void *arg), void *arg, void *out,
		size_t len, int timeout_ms)
{
	int fds[2], status, ret;
	pid_t pid, parent = getpid();

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(fds[0]);
		close(fds[1]);
		return ret;
	}
	if (pid == 0) {
		if (fl_die_with_parent(parent))
			_exit(1);
		close(fds[0]);
		child(fds[1], fn, arg, out, len);
	}
	close(fds[1]);
	ret = read_all(fds[0], out, len, timeout_ms);
	if (ret)
		kill(pid, SIGKILL);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret;
}
