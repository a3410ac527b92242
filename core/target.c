// SPDX-License-Identifier: GPL-2.0-only
/*
 * Targets resolved: the one service that tells every engine where a
 * target is now (a process in it, its folder in the memory hierarchy and
 * in the v2 hierarchy, its network namespace), the processes in it, the
 * one reader of /proc/PID/cgroup, and the lock a target holds.  A
 * container is a cgroup target that core/container.c resolves.  Engines
 * ask here instead of reading /proc and cgroupfs themselves.  Also
 * whether a process is still the one we knew, by its start time.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/faultline.h"

static const struct fl_placer *placer;

void fl_placer_set(const struct fl_placer *p)
{
	placer = p;
}

const struct fl_placer *fl_placer_get(void)
{
	return placer;
}

int fl_target_cgroup_path(const struct fl_target *t, const char *root,
			  char *buf, size_t len)
{
	const struct fl_kernel *k;
	int n;

	if (t->kind != FL_TARGET_CGROUP || !t->cgroup)
		return -EINVAL;
	if (t->container)
		return fl_container_cgroup_path(t, root, buf, len);
	if (t->cgroup[0] == '/') {
		n = snprintf(buf, len, "%s", t->cgroup);
	} else {
		if (!root) {
			k = fl_kernel_get();
			root = k->unified_root[0] ? k->unified_root :
						    k->memory_root;
		}
		if (!root || !root[0])
			return -ENOENT;
		n = snprintf(buf, len, "%s/%s", root, t->cgroup);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int fl_target_resource(const struct fl_target *t, char *buf, size_t len)
{
	char path[4096];
	int n;

	if (t->kind == FL_TARGET_PID && t->pid > 0)
		n = snprintf(buf, len, "pid:%d", (int)t->pid);
	else if (t->kind == FL_TARGET_CGROUP &&
		 !fl_target_cgroup_path(t, NULL, path, sizeof(path)))
		n = snprintf(buf, len, "cgroup:%s", path);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int fl_target_check(const struct fl_target *t, char *why, size_t len)
{
	const struct fl_kernel *k;
	char path[512];
	struct stat st;

	switch (t->kind) {
	case FL_TARGET_PID:
		if (kill(t->pid, 0) && errno == ESRCH) {
			snprintf(why, len, "target '%s': no process with pid %d",
				 t->name, (int)t->pid);
			return -ESRCH;
		}
		return 0;
	case FL_TARGET_CGROUP:
		if (t->container)
			return fl_container_resolve(t, why, len);
		if (t->cgroup[0] == '/') {
			if (!stat(t->cgroup, &st) && S_ISDIR(st.st_mode))
				return 0;
			snprintf(why, len, "target '%s': no cgroup at %s",
				 t->name, t->cgroup);
			return -ENOENT;
		}
		/* Relative: it must exist in one of the hierarchies. */
		k = fl_kernel_get();
		if (k->unified_root[0] &&
		    !fl_target_cgroup_path(t, k->unified_root, path,
					   sizeof(path)) &&
		    !stat(path, &st) && S_ISDIR(st.st_mode))
			return 0;
		if (k->memory_root[0] &&
		    !fl_target_cgroup_path(t, k->memory_root, path,
					   sizeof(path)) &&
		    !stat(path, &st) && S_ISDIR(st.st_mode))
			return 0;
		snprintf(why, len, "target '%s': no cgroup '%s' under %s%s%s",
			 t->name, t->cgroup, k->unified_root,
			 k->unified_root[0] && k->memory_root[0] ? " or " : "",
			 k->memory_root);
		return -ENOENT;
	case FL_TARGET_COMMAND:
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* /proc/PID/cgroup.                                                   */

/* word is one of the comma-separated names in list ("cpu,cpuacct"). */
static bool has_name(const char *list, size_t n, const char *word)
{
	size_t wl = strlen(word);

	while (n) {
		const char *c = memchr(list, ',', n);
		size_t l = c ? (size_t)(c - list) : n;

		if (l == wl && !memcmp(list, word, wl))
			return true;
		if (!c)
			break;
		n -= l + 1;
		list = c + 1;
	}
	return false;
}

/*
 * Lines are "ID:CONTROLLERS:PATH" (the path may hold colons).  The v2
 * hierarchy is the one line "0::PATH"; a v1 one names its controllers,
 * or "name=systemd" for a named hierarchy, which holds no controller and
 * is never the answer.  Each hierarchy has one line: the first match is
 * the only one.
 */
int fl_proc_cgroup(pid_t pid, const char *controller, char *buf,
		   size_t len)
{
	const struct fl_cg_controller *c;
	char path[64], line[4096];
	bool v2 = !controller;
	int ret = -ENOENT;
	FILE *fp;

	if (controller) {
		c = fl_kernel_cg(controller);
		v2 = c && c->mode == FL_CG_V2;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return errno == ESRCH ? -ENOENT : -errno;
	while (ret == -ENOENT && fgets(line, sizeof(line), fp)) {
		char *ctl, *cg;

		line[strcspn(line, "\n")] = '\0';
		ctl = strchr(line, ':');
		cg = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!cg)
			continue;
		ctl++;
		if (v2 ? strncmp(line, "0::", 3) :
		    !has_name(ctl, cg - ctl, controller))
			continue;
		cg++;
		if (*cg != '/')
			continue;
		ret = snprintf(buf, len, "%s", cg) >= (int)len ?
		      -ENAMETOOLONG : 0;
	}
	fclose(fp);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Where a target is.                                                  */

/* root + rel as one folder ("/" adds nothing); "" when it does not fit. */
static void join(char *buf, size_t len, const char *root, const char *rel)
{
	int n = snprintf(buf, len, "%s%s", root, strcmp(rel, "/") ? rel : "");

	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return n && !strncmp(path, root, n) &&
	       (!path[n] || path[n] == '/' || root[n - 1] == '/');
}

static int where_pid(const struct fl_target *t, struct fl_where *w,
		     char *why, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	char rel[512], path[64];
	struct stat st;

	w->pid = t->pid;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)t->pid);
	if (t->pid <= 0 || stat(path, &st)) {
		snprintf(why, len, "target '%s': no process with pid %d",
			 t->name, (int)t->pid);
		return -ESRCH;
	}
	w->netns.dev = st.st_dev;
	w->netns.ino = st.st_ino;
	if (k->memory_root[0] &&
	    !fl_proc_cgroup(t->pid, "memory", rel, sizeof(rel)))
		join(w->memory, sizeof(w->memory), k->memory_root, rel);
	if (k->unified_root[0] &&
	    !fl_proc_cgroup(t->pid, NULL, rel, sizeof(rel)))
		join(w->unified, sizeof(w->unified), k->unified_root, rel);
	return 0;
}

/* The target's folder in the hierarchy at root, "" when not under it. */
static int cgroup_under(const struct fl_target *t, const char *root,
			char *buf, size_t len)
{
	int ret;

	if (!root[0])
		return 0;
	ret = fl_target_cgroup_path(t, root, buf, len);
	if (!ret && !under(buf, root))
		buf[0] = '\0';
	return ret;
}

/*
 * A cgroup target's folders: a relative one in each hierarchy there is,
 * an absolute one in the hierarchy it is under.
 */
static int where_cgroup(const struct fl_target *t, struct fl_where *w,
			char *why, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	int ret;

	ret = cgroup_under(t, k->memory_root, w->memory, sizeof(w->memory));
	if (!ret)
		ret = cgroup_under(t, k->unified_root, w->unified,
				   sizeof(w->unified));
	if (ret)
		goto err;
	if (!w->memory[0] && !w->unified[0]) {
		snprintf(why, len, "target '%s': %s is in no cgroup hierarchy "
			 "of this machine", t->name, t->cgroup);
		return -ENOENT;
	}
	return fl_netns_self(&w->netns);
err:
	snprintf(why, len, "target '%s': cgroup '%s': %s", t->name,
		 t->cgroup ? t->cgroup : "", strerror(-ret));
	return ret;
}

/*
 * A command started by run: its process and its scratch cgroups (even
 * when it left them).  Before it is started (plan): no process, and the
 * scratch folders run would make are not known yet.
 */
static int where_command(const struct fl_target *t, struct fl_where *w,
			 char *why, size_t len)
{
	int ret;

	if (t->pid > 0) {
		ret = where_pid(t, w, why, len);
		if (ret) {
			w->pid = 0;
			snprintf(why, len, "target '%s': the command (pid %d) "
				 "is gone", t->name, (int)t->pid);
		}
	} else {
		ret = fl_netns_self(&w->netns);
	}
	/* Its scratch folders, even when it has left them. */
	snprintf(w->memory, sizeof(w->memory), "%s",
		 t->scratch_memory ? t->scratch_memory : "");
	snprintf(w->unified, sizeof(w->unified), "%s",
		 t->scratch_unified ? t->scratch_unified : "");
	return ret;
}

int fl_target_where(const struct fl_target *t, struct fl_where *w,
		    char *why, size_t len)
{
	memset(w, 0, sizeof(*w));
	switch (t->kind) {
	case FL_TARGET_PID:
		return where_pid(t, w, why, len);
	case FL_TARGET_CGROUP:
		if (t->container)
			return fl_container_where(t, w, why, len);
		return where_cgroup(t, w, why, len);
	case FL_TARGET_COMMAND:
		return where_command(t, w, why, len);
	}
	snprintf(why, len, "target '%s': unknown kind", t->name);
	return -EINVAL;
}

/* The pids listed in folder/cgroup.procs: the one reader of it. */
int fl_cgroup_procs(const char *folder, pid_t **out, size_t *n)
{
	char path[PATH_MAX];
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	long pid;
	FILE *fp;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", folder);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fscanf(fp, "%ld", &pid) == 1) {
		if (FL_GROW(v, cap, cnt, 16)) {
			free(v);
			fclose(fp);
			return -ENOMEM;
		}
		v[cnt++] = (pid_t)pid;
	}
	fclose(fp);
	*out = v;
	*n = cnt;
	return 0;
}

int fl_target_pids(const struct fl_target *t, pid_t **out, size_t *n)
{
	struct fl_where w;
	char why[256];
	int ret;

	*out = NULL;
	*n = 0;
	ret = fl_target_where(t, &w, why, sizeof(why));
	if (ret)
		return ret;
	if (t->kind == FL_TARGET_CGROUP) {
		/* A relative cgroup may be in one hierarchy only; a
		 * container's is in both. */
		ret = w.unified[0] ? fl_cgroup_procs(w.unified, out, n) : -ENOENT;
		if (ret == -ENOENT && w.memory[0])
			ret = fl_cgroup_procs(w.memory, out, n);
		return ret;
	}
	if (w.pid <= 0)
		return 0;
	*out = malloc(sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)[0] = w.pid;
	*n = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Is a process still the one we knew (the runner, its guardian)?      */

/*
 * /proc/PID/stat into buf, and where its field 3 (the state) starts: comm
 * may hold spaces and parentheses, so after the last ')'.  NULL: no such
 * process.
 */
static char *stat_fields(pid_t pid, char *buf, size_t len)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

unsigned long long fl_pid_start_time(pid_t pid)
{
	unsigned long long start = 0;
	char buf[1024], *p;
	int i;

	p = stat_fields(pid, buf, sizeof(buf));
	if (!p)
		return 0;
	/* p is field 3 (state); starttime is field 22. */
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (i = 3; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		start = strtoull(p, NULL, 10);
	return start;
}

/* The pidfd calls (Linux 5.3 and 5.6), which glibc 2.36 does not wrap. */
int fl_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int fl_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int fl_pidfd_getfd(int pidfd, int fd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

bool fl_pid_alive(pid_t pid, unsigned long long start)
{
	unsigned long long now;

	if (pid <= 0)
		return false;
	if (kill(pid, 0) && errno == ESRCH)
		return false;
	now = fl_pid_start_time(pid);
	if (!now)
		return false;		/* gone or a zombie */
	return !start || now == start;
}

/*
 * pid runs the file this program was started from, even if that file has
 * since been replaced (an upgrade during a run): its exe link then reads
 * "PATH (deleted)".
 */
static bool runs_replaced_self(const char *link)
{
	char self[PATH_MAX], other[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ssize_t m = readlink(link, other, sizeof(other) - 1);

	if (n <= 0 || m <= 0)
		return false;
	self[n] = other[m] = '\0';
	return (size_t)m == n + strlen(" (deleted)") &&
	       !strncmp(other, self, n) && !strcmp(other + n, " (deleted)");
}

void fl_pid_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *fp;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return;
	if (fgets(buf, (int)len, fp))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

bool fl_comm_is_faultline(const char *comm)
{
	return !strncmp(comm, "faultline", 9) || !strcmp(comm, "fl-guardian");
}

bool fl_pid_is_faultline(pid_t pid)
{
	struct stat self, st;
	char path[64], comm[17];

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (!stat("/proc/self/exe", &self) && !stat(path, &st) &&
	    self.st_dev == st.st_dev && self.st_ino == st.st_ino)
		return true;
	if (runs_replaced_self(path))
		return true;
	fl_pid_comm(pid, comm, sizeof(comm));
	return fl_comm_is_faultline(comm);
}

/* ------------------------------------------------------------------ */
/* A process's state and its children, for engines that signal.        */

char fl_pid_state(pid_t pid)
{
	char buf[512], *p = stat_fields(pid, buf, sizeof(buf));

	return p ? *p : 0;
}

static int add_pid(pid_t p, pid_t **v, size_t *n, size_t *cap)
{
	int ret = FL_GROW(*v, *cap, *n, 16);

	if (!ret)
		(*v)[(*n)++] = p;
	return ret;
}

/*
 * Append the children of pid without the children files (a kernel built
 * without CONFIG_PROC_CHILDREN, which is off by default): the processes
 * whose /proc/N/stat names pid as their parent.
 */
static int add_children_by_ppid(pid_t pid, pid_t **v, size_t *n,
				size_t *cap)
{
	char buf[512], *p;
	struct dirent *de;
	int ret = 0, ppid;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		p = stat_fields(atoi(de->d_name), buf, sizeof(buf));
		if (p && sscanf(p, "%*c %d", &ppid) == 1 && ppid == pid)
			ret = add_pid(atoi(de->d_name), v, n, cap);
	}
	closedir(d);
	return ret;
}

/* Append the children of every thread of pid to *v. */
static int add_children(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	char path[96];
	struct dirent *de;
	long c;
	FILE *fp;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	if (access(path, F_OK) && errno == ENOENT && !kill(pid, 0))
		return add_children_by_ppid(pid, v, n, cap);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children",
			 (int)pid, de->d_name);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		while (!ret && fscanf(fp, "%ld", &c) == 1)
			ret = add_pid((pid_t)c, v, n, cap);
		fclose(fp);
	}
	closedir(d);
	return ret;
}

int fl_pid_descendants(pid_t pid, pid_t **out, size_t *n)
{
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0, i;
	int ret;

	*out = NULL;
	*n = 0;
	/* Breadth first: v grows while it is walked; each pid once. */
	ret = add_children(pid, &v, &cnt, &cap);
	for (i = 0; !ret && i < cnt && i < FL_DESCENDANTS_MAX; i++)
		ret = add_children(v[i], &v, &cnt, &cap);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}
