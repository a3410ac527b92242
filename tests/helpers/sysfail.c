// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfail: a test helper that makes one system call many times and says
 * how each ended, for the syscall fault's tests and benchmark.
 *
 *   sysfail [-n N] [-t THREADS] [-d DEPTH [-b]] [-e ERRNO|OK] [-s] [-T]
 *           [-l] [-i MS] [-o] [-w FILE] [-p FILE] CALL [ARG]
 *
 * It prints "calls N" and one "OUTCOME COUNT" line per outcome (OK or an
 * errno name); -s adds "seq ..." (one character a call: '.' passed, 'x'
 * failed, in order; with one thread); -T adds "ns_per_call N".  With -e
 * it exits 1 unless every call ended that way, and prints only then.  -d
 * runs the calls in a descendant DEPTH forks down (-b: and in each process
 * on the way too, after its child ended; the exit status then covers them
 * all, for calls such as write that leave no way to print); -t in that
 * many threads at once; -w waits for FILE to exist first; -p writes the
 * pid making the calls to FILE; -l prints each call's outcome on a line
 * of its own as it ends (one thread), -i sleeps MS milliseconds between
 * calls; -o opens ARG (for the calls on a descriptor) before -w waits,
 * not at the first call.
 *
 * Calls: connect HOST:PORT (TCP), bind HOST:PORT (UDP), sendto HOST:PORT
 * (UDP), socket, openat PATH, read PATH, write PATH, fsync PATH,
 * fdatasync PATH, close PATH (an open, then the close that counts),
 * unlink PATH, mkdir PATH, getpid; and "serve PORT", a TCP listener on
 * 127.0.0.1 that accepts and closes until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *call, *arg;
static long ncalls = 1, interval_ms;
static bool lines;
static int pre_fd = -1;			/* -o */
static struct sockaddr_storage addr;
static socklen_t addrlen;

static const char *outcome(int err);

struct worker {
	pthread_t th;
	int *res;			/* 0 or errno, per call */
};

static void usage(void)
{
	fprintf(stderr, "usage: sysfail [-n N] [-t THREADS] [-d DEPTH [-b]] "
		"[-e ERRNO|OK] [-s] [-T] [-l] [-i MS] [-o] [-w FILE] [-p FILE] "
		"CALL [ARG]\n");
	exit(2);
}

static int parse_addr(const char *s)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *in = (void *)&addr;
	struct sockaddr_in6 *in6 = (void *)&addr;
	size_t n;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	n = colon - s;
	memcpy(host, s, n);
	host[n] = 0;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = 0;
		memmove(host, host + 1, n - 1);
	}
	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(colon + 1));
		addrlen = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(colon + 1));
		addrlen = sizeof(*in6);
		return 0;
	}
	return -1;
}

/* One call: 0, or the errno it failed with. */
static int one(int *fd)
{
	char c = 'x';
	int s, ret = 0;

#define ERR(expr) ((expr) < 0 ? errno : 0)
	if (!strcmp(call, "connect")) {
		s = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return errno;
		ret = ERR(connect(s, (void *)&addr, addrlen));
		close(s);
	} else if (!strcmp(call, "bind")) {
		s = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return errno;
		ret = ERR(bind(s, (void *)&addr, addrlen));
		close(s);
	} else if (!strcmp(call, "sendto")) {
		if (*fd < 0)
			*fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC,
				     0);
		ret = ERR(sendto(*fd, &c, 1, 0, (void *)&addr, addrlen));
	} else if (!strcmp(call, "socket")) {
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ret = ERR(s);
		if (s >= 0)
			close(s);
	} else if (!strcmp(call, "openat")) {
		s = openat(AT_FDCWD, arg, O_RDONLY | O_CLOEXEC);
		ret = ERR(s);
		if (s >= 0)
			close(s);
	} else if (!strcmp(call, "read")) {
		if (*fd < 0)
			*fd = open(arg, O_RDONLY | O_CLOEXEC);
		ret = ERR(read(*fd, &c, 1));
	} else if (!strcmp(call, "write")) {
		if (*fd < 0)
			*fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ret = ERR(write(*fd, &c, 1));
	} else if (!strcmp(call, "fsync")) {
		if (*fd < 0)
			*fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ret = ERR(fsync(*fd));
	} else if (!strcmp(call, "fdatasync")) {
		if (*fd < 0)
			*fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ret = ERR(fdatasync(*fd));
	} else if (!strcmp(call, "close")) {
		/* A close that failed before doing anything leaks the fd. */
		s = open(arg, O_RDONLY | O_CLOEXEC);
		if (s < 0)
			return errno;
		ret = ERR(close(s));
	} else if (!strcmp(call, "unlink")) {
		s = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (s >= 0)
			close(s);
		ret = ERR(unlink(arg));
	} else if (!strcmp(call, "mkdir")) {
		ret = ERR(mkdir(arg, 0700));
		if (!ret)
			rmdir(arg);
	} else if (!strcmp(call, "getpid")) {
		ret = ERR(syscall(SYS_getpid));
	} else {
		fprintf(stderr, "sysfail: unknown call %s\n", call);
		exit(2);
	}
#undef ERR
	return ret;
}

static void *work(void *p)
{
	struct worker *w = p;
	int fd = pre_fd >= 0 ? dup(pre_fd) : -1;
	long i;

	for (i = 0; i < ncalls; i++) {
		w->res[i] = one(&fd);
		if (lines) {
			printf("%s\n", outcome(w->res[i]));
			fflush(stdout);
		}
		if (interval_ms)
			usleep(interval_ms * 1000);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void serve(const char *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	int s, c, one_ = 1;

	in.sin_port = htons(atoi(port));
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_));
	if (s < 0 || bind(s, (void *)&in, sizeof(in)) || listen(s, 128)) {
		perror("sysfail: serve");
		exit(1);
	}
	for (;;) {
		c = accept(s, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static const char *outcome(int err)
{
	const char *n;

	if (!err)
		return "OK";
	n = strerrorname_np(err);
	return n ? n : "E?";
}

int main(int argc, char **argv)
{
	const char *expect = NULL, *waitfile = NULL, *pidfile = NULL;
	long threads = 1, depth = 0, i, t;
	bool seq = false, timing = false, every_level = false;
	struct worker *w;
	struct timespec a, b;
	int opt, status, bad = 0;
	long counts[4096] = { 0 };

	while ((opt = getopt(argc, argv, "+n:t:d:be:sTli:ow:p:")) != -1) {
		switch (opt) {
		case 'n': ncalls = atol(optarg); break;
		case 't': threads = atol(optarg); break;
		case 'd': depth = atol(optarg); break;
		case 'b': every_level = true; break;
		case 'e': expect = optarg; break;
		case 's': seq = true; break;
		case 'T': timing = true; break;
		case 'l': lines = true; break;
		case 'o': pre_fd = 0; break;
		case 'i': interval_ms = atol(optarg); break;
		case 'w': waitfile = optarg; break;
		case 'p': pidfile = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || ncalls < 1 || threads < 1 || depth < 0)
		usage();
	call = argv[optind];
	arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!strcmp(call, "serve")) {
		if (!arg)
			usage();
		serve(arg);
	}
	if ((!strcmp(call, "connect") || !strcmp(call, "bind") ||
	     !strcmp(call, "sendto")) && (!arg || parse_addr(arg)))
		usage();
	if (!strcmp(call, "openat") || !strcmp(call, "read") ||
	    !strcmp(call, "write") || !strcmp(call, "fsync") ||
	    !strcmp(call, "fdatasync") || !strcmp(call, "close") ||
	    !strcmp(call, "unlink") || !strcmp(call, "mkdir"))
		if (!arg)
			usage();
	if (pre_fd == 0) {
		pre_fd = open(arg, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (pre_fd < 0) {
			perror("sysfail: -o");
			return 2;
		}
	}
	if (waitfile)
		for (i = 0; i < 3000 && access(waitfile, F_OK); i++)
			usleep(10000);

	/* Go DEPTH forks down; each parent passes its child's status on. */
	for (i = 0; i < depth; i++) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			perror("sysfail: fork");
			return 2;
		}
		if (pid) {
			while (waitpid(pid, &status, 0) < 0)
				;
			if (!every_level)
				return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
			bad = !WIFEXITED(status) || WEXITSTATUS(status);
			break;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	w = calloc(threads, sizeof(*w));
	for (t = 0; w && t < threads; t++) {
		w[t].res = calloc(ncalls, sizeof(int));
		if (!w[t].res)
			return 2;
	}
	if (!w)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (threads == 1) {
		work(&w[0]);
	} else {
		for (t = 0; t < threads; t++)
			if (pthread_create(&w[t].th, NULL, work, &w[t]))
				return 2;
		for (t = 0; t < threads; t++)
			pthread_join(w[t].th, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);

	for (t = 0; t < threads; t++)
		for (i = 0; i < ncalls; i++) {
			int e = w[t].res[i];

			counts[e >= 0 && e < 4096 ? e : 0]++;
			if (expect && strcmp(expect, outcome(e)))
				bad = 1;
		}
	/* With -e, quiet when every call ended as expected. */
	if (!expect || bad) {
		printf("calls %ld\n", ncalls * threads);
		for (i = 0; i < 4096; i++)
			if (counts[i])
				printf("%s %ld\n", outcome(i), counts[i]);
	}
	if (seq) {
		printf("seq ");
		for (i = 0; i < ncalls; i++)
			putchar(w[0].res[i] ? 'x' : '.');
		putchar('\n');
	}
	if (timing)
		printf("ns_per_call %lld\n",
		       ((b.tv_sec - a.tv_sec) * 1000000000LL +
			(b.tv_nsec - a.tv_nsec)) / (ncalls * threads));
	for (t = 0; t < threads; t++)
		free(w[t].res);
	free(w);
	return bad;
}
