// SPDX-License-Identifier: GPL-2.0-only
/*
 * The libcgroup 2.0.2 wrapper for the memory controller (see cg.h for the
 * gaps it covers).  libcgroup does discovery (cgroup_init, the current
 * path of a PID), reads (cgroup_read_value_*), writes (cgroup_modify_cgroup),
 * creation and deletion.  When libcgroup cannot see the memory hierarchy
 * (it reads /proc/mounts once; some layouts confuse 2.0.2) the same
 * operations fall back to the control files themselves, so the engine
 * never depends on libcgroup's view of the mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <libcgroup.h>

#include "core/faultline.h"
#include "cgroup/cg.h"

#define CG_TIMER_SIG	(SIGRTMIN + 4)

static pthread_once_t cg_once = PTHREAD_ONCE_INIT;
static int cg_init_ret;
static __thread volatile sig_atomic_t cg_timer_fired;

static void cg_timer_handler(int sig)
{
	(void)sig;
	cg_timer_fired = 1;
}

static void cg_do_init(void)
{
	struct sigaction sa = { .sa_handler = cg_timer_handler };

	/* No SA_RESTART: the timer must interrupt a reclaiming write. */
	sigemptyset(&sa.sa_mask);
	sigaction(CG_TIMER_SIG, &sa, NULL);
	cg_init_ret = cgroup_init();
}

int cg_init(void)
{
	pthread_once(&cg_once, cg_do_init);
	return cg_init_ret ? -EOPNOTSUPP : 0;
}

static bool cg_lib(void)
{
	return !cg_init();
}

/* The path relative to the memory hierarchy, as libcgroup wants it. */
static int cg_rel(const char *dir, char *rel, size_t len)
{
	const char *root = fl_kernel_get()->memory_root;
	size_t n = strlen(root);

	if (!n || strncmp(dir, root, n) || (dir[n] && dir[n] != '/'))
		return -EINVAL;
	snprintf(rel, len, "%s", dir[n] ? dir + n : "/");
	return 0;
}

/* libcgroup's error to -errno (ECGOTHER: the real one). */
static int cg_errno(int r)
{
	int e;

	if (!r)
		return 0;
	e = cgroup_get_last_errno();
	if (r == ECGOTHER || r == ECGROUPVALUENOTEXIST)
		return e ? -e : -EIO;
	if (r == ECGROUPNOTEXIST)
		return -ENOENT;
	if (r == ECGROUPNOTOWNER)
		return -EPERM;
	return e ? -e : -EIO;
}

int cg_file_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	if (!fgets(buf, len, fp))
		buf[0] = 0;
	fclose(fp);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char rel[PATH_MAX];
	void *h = NULL;
	int r = -1;

	buf[0] = 0;
	if (cg_lib() && !cg_rel(dir, rel, sizeof(rel))) {
		r = cgroup_read_value_begin("memory", rel, (char *)file, &h,
					    buf, (int)len);
		if (h)
			cgroup_read_value_end(&h);
		if (r && r != ECGEOF)
			r = cg_file_read(dir, file, buf, len);
		else
			r = 0;
	} else {
		r = cg_file_read(dir, file, buf, len);
	}
	buf[strcspn(buf, "\n")] = 0;
	return r;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *v)
{
	char buf[64], *end;
	int r = cg_read(dir, file, buf, sizeof(buf));

	if (r)
		return r;
	if (!strcmp(buf, "max")) {
		*v = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	if (*v >= CG_V1_UNLIMITED)
		*v = UINT64_MAX;
	return 0;
}

int cg_read_key(const char *dir, const char *file, const char *key,
		uint64_t *v)
{
	char path[PATH_MAX], line[256];
	size_t n = strlen(key);
	int ret = -ENOENT;
	FILE *fp;

	/* Keyed files have many lines; read them whole. */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, key, n) && line[n] == ' ') {
			*v = strtoull(line + n + 1, NULL, 10);
			ret = 0;
			break;
		}
	fclose(fp);
	return ret;
}

/* A one-shot timer that interrupts this thread's blocking write. */
static int timer_arm(timer_t *t, unsigned int ms)
{
	struct sigevent sev = { 0 };
	struct itimerspec its = { 0 };
	sigset_t set;

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = CG_TIMER_SIG;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, t))
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, CG_TIMER_SIG);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	cg_timer_fired = 0;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* Re-fire every 50ms in case the first lands outside the write. */
	its.it_interval.tv_nsec = 50000000L;
	if (timer_settime(*t, 0, &its, NULL)) {
		int e = -errno;

		timer_delete(*t);
		return e;
	}
	return 0;
}

int cg_file_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

int cg_write(const char *dir, const char *file, const char *val,
	     unsigned int timeout_ms)
{
	struct cgroup_controller *c;
	struct cgroup *cg = NULL;
	char rel[PATH_MAX];
	timer_t t;
	bool armed = false;
	int r;

	if (timeout_ms) {
		r = timer_arm(&t, timeout_ms);
		if (r)
			return r;
		armed = true;
	}
	if (cg_lib() && !cg_rel(dir, rel, sizeof(rel)) &&
	    (cg = cgroup_new_cgroup(rel)) &&
	    (c = cgroup_add_controller(cg, "memory")) &&
	    !cgroup_add_value_string(c, file, val))
		r = cg_errno(cgroup_modify_cgroup(cg));
	else
		r = cg_file_write(dir, file, val);
	/* libcgroup could not see the hierarchy: write the file ourselves. */
	if (r == -ENOENT && cg && access(dir, F_OK) == 0)
		r = cg_file_write(dir, file, val);
	if (cg)
		cgroup_free(&cg);
	if (armed) {
		timer_delete(t);
		if (cg_timer_fired && (r == -EINTR || r == -EIO))
			r = -ETIMEDOUT;
	}
	return r;
}

/* One write to a control file opened before (no path, no libcgroup). */
int cg_write_fd(int fd, const char *val, unsigned int timeout_ms)
{
	timer_t t;
	int r;

	if (timeout_ms) {
		r = timer_arm(&t, timeout_ms);
		if (r)
			return r;
	}
	r = pwrite(fd, val, strlen(val), 0) < 0 ? -errno : 0;
	if (timeout_ms) {
		timer_delete(t);
		if (cg_timer_fired && (r == -EINTR || r == -EIO))
			r = -ETIMEDOUT;
	}
	return r;
}

int cg_write_u64(const char *dir, const char *file, uint64_t v,
		 unsigned int timeout_ms)
{
	char buf[32];

	if (v == UINT64_MAX)
		snprintf(buf, sizeof(buf), "%s",
			 fl_kernel_get()->memory_mode == FL_CG_V2 ? "max" : "-1");
	else
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cg_write(dir, file, buf, timeout_ms);
}

int cg_create(const char *dir)
{
	struct cgroup_controller *c;
	struct cgroup *cg;
	char rel[PATH_MAX];
	struct stat st;
	int r;

	if (!stat(dir, &st))
		return -EEXIST;
	if (!cg_lib() || cg_rel(dir, rel, sizeof(rel)))
		return mkdir(dir, 0755) ? -errno : 0;
	cg = cgroup_new_cgroup(rel);
	c = cg ? cgroup_add_controller(cg, "memory") : NULL;
	r = c ? cg_errno(cgroup_create_cgroup(cg, 0)) : -ENOMEM;
	if (cg)
		cgroup_free(&cg);
	if (r && stat(dir, &st))
		r = mkdir(dir, 0755) ? -errno : 0;
	else if (stat(dir, &st))
		r = -ENOENT;
	return r;
}

int cg_remove(const char *dir)
{
	struct cgroup *cg;
	char rel[PATH_MAX];
	int i;

	if (access(dir, F_OK))
		return 0;
	if (cg_lib() && !cg_rel(dir, rel, sizeof(rel)) &&
	    (cg = cgroup_new_cgroup(rel))) {
		if (cgroup_add_controller(cg, "memory"))
			cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY);
		cgroup_free(&cg);
	}
	/* v1 may take a moment to let go of a task that just left. */
	for (i = 0; i < 50 && !access(dir, F_OK); i++) {
		if (!rmdir(dir) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(20000);
	}
	return access(dir, F_OK) ? 0 : -EBUSY;
}

int cg_move_procs(const char *dir, pid_t pid)
{
	char buf[32];

	/* Not cgroup_attach_task_pid(): on v1 it moves one thread only. */
	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	return cg_file_write(dir, "cgroup.procs", buf);
}

