// SPDX-License-Identifier: GPL-2.0-only
/*
 * reaper: a parent that reaps at once, like systemd (PID 1 and its
 * service manager) or a container shim: it starts COMMAND as its child,
 * becomes a child subreaper (so orphans of the command come to it too),
 * and waits in a waitpid(-1) loop that takes every child the moment it
 * dies.  The oom tests use it to prove a kill whose zombie is gone before
 * anyone else can look at it.
 *
 *   reaper COMMAND [ARGS...]
 *
 * Output: "pid N" (the command's PID) at once, then "reaped N status S"
 * (S the raw wait status) for each child reaped.  Exits 0 once it has no
 * child left.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper COMMAND [ARGS...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid < 0) {
		perror("reaper: fork");
		return 1;
	}
	if (!pid) {
		execvp(argv[1], argv + 1);
		perror("reaper: exec");
		_exit(127);
	}
	printf("pid %d\n", (int)pid);
	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid > 0)
			printf("reaped %d status %d\n", (int)pid, status);
		else if (errno != EINTR)
			break;
	}
	return 0;
}
