// SPDX-License-Identifier: GPL-2.0-only
/*
 * memhog: a memory hog for the oom tests and benchmark.  It allocates
 * anonymous memory, touches every page (so it is charged to its memory
 * cgroup), prints its PID and holds the memory until it is killed.
 *
 *   memhog [--size SIZE] [--step SIZE] [--every MS] [--threads N]
 *          [--touch-rate MS] [--fork] [--cgroup DIR]
 *
 *   --size      total memory to allocate (default 64M; K, M, G suffixes)
 *   --step      allocate in steps of this size (default: all at once)
 *   --every     milliseconds between steps (default 0)
 *   --threads   N threads share the allocation, each a slice (default 1)
 *   --touch-rate  re-touch every page each MS milliseconds while holding
 *   --fork      the hog is a child; the parent prints the child's PID,
 *               stays and reaps it only 5 s after it dies (so a watcher
 *               can read its exit status from the zombie on kernels
 *               without PIDFD_INFO_EXIT)
 *   --cgroup    join this cgroup folder (writes cgroup.procs) first;
 *               with --fork only the child joins it
 *
 * Output: "pid N" at once, then "ready N" once N bytes are held.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long size = 64ULL << 20, step, every_ms, touch_ms;
static int nthreads = 1;
static pthread_barrier_t ready_barrier;

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; break;
	case 0: break;
	default:
		fprintf(stderr, "memhog: bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

static void sleep_ms(unsigned long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void touch(char *p, unsigned long long len)
{
	unsigned long long i;

	for (i = 0; i < len; i += 4096)
		p[i] = (char)(i >> 12) | 1;
}

/* Allocate and touch this thread's slice, step by step; then hold it. */
static void *hog(void *arg)
{
	unsigned long long want = (unsigned long long)(uintptr_t)arg, got = 0;
	unsigned long long chunk = step ? step : want;
	char **chunks;
	size_t n = 0, i;

	chunks = calloc(want / chunk + 2, sizeof(*chunks));
	if (!chunks)
		exit(1);
	while (got < want) {
		unsigned long long len = want - got < chunk ? want - got : chunk;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("memhog: mmap");
			exit(1);
		}
		touch(p, len);
		chunks[n++] = p;
		got += len;
		if (every_ms && got < want)
			sleep_ms(every_ms);
	}
	pthread_barrier_wait(&ready_barrier);
	for (;;) {
		if (!touch_ms) {
			pause();
			continue;
		}
		sleep_ms(touch_ms);
		for (i = 0; i < n; i++)
			touch(chunks[i], i + 1 < n || !(want % chunk) ?
			      chunk : want % chunk);
	}
	return NULL;
}

static void join_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "memhog: cannot join %s: %s\n", dir,
			strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned long long slice;
	pthread_t *tids;
	const char *cgroup = NULL;
	bool do_fork = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--fork")) {
			do_fork = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "usage: memhog [--size S] [--step S] [--every MS] [--threads N] [--touch-rate MS] [--fork] [--cgroup DIR]\n");
			return 2;
		}
		i++;
		if (!strcmp(a, "--size"))
			size = parse_size(v);
		else if (!strcmp(a, "--step"))
			step = parse_size(v);
		else if (!strcmp(a, "--every"))
			every_ms = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--threads"))
			nthreads = atoi(v);
		else if (!strcmp(a, "--touch-rate"))
			touch_ms = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--cgroup"))
			cgroup = v;
		else {
			fprintf(stderr, "memhog: unknown option %s\n", a);
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > 64 || !size) {
		fprintf(stderr, "memhog: bad --threads or --size\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (do_fork) {
		pid_t child = fork();
		int status;

		if (child < 0)
			return 1;
		if (child) {
			printf("pid %d\n", (int)child);
			siginfo_t si;

			while (waitid(P_PID, child, &si, WNOWAIT | WEXITED) &&
			       errno == EINTR)
				;
			/* Reap late: observers read the zombie's status. */
			sleep_ms(5000);
			waitpid(child, &status, 0);
			return 0;
		}
		/* Only the hog joins the cgroup: the parent stays out. */
		if (cgroup)
			join_cgroup(cgroup);
	} else {
		if (cgroup)
			join_cgroup(cgroup);
		printf("pid %d\n", (int)getpid());
	}

	slice = size / nthreads;
	tids = calloc(nthreads, sizeof(*tids));
	pthread_barrier_init(&ready_barrier, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, hog,
				   (void *)(uintptr_t)(i + 1 < nthreads ? slice :
					  size - slice * (nthreads - 1)))) {
			fprintf(stderr, "memhog: pthread_create failed\n");
			return 1;
		}
	pthread_barrier_wait(&ready_barrier);
	printf("ready %llu\n", size);
	for (;;)
		pause();
}
