// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's seccomp route, for command targets: calls that no
 * BPF route can fail on this kernel (fsync, fdatasync, close, ...) are
 * sent to faultline by a seccomp filter (SECCOMP_RET_USER_NOTIF) that the
 * command installs on itself before exec (child_setup) and that its
 * children inherit.  The runner takes the listener (child_adopt) and
 * answers every call in a thread of the child handle: outside the
 * fault's window "continue" (SECCOMP_USER_NOTIF_FLAG_CONTINUE), inside it
 * the same decision the BPF programs make (follow-forks, the path filter
 * for calls on a descriptor, `when`, probability, errno weights).
 *
 * The window: apply creates a switch file in the run's journal folder
 * and names it in the undo record; revert removes it, from the record
 * alone, in any process; the thread tests it (fstat: st_nlink) on every
 * call.  Nothing in the kernel is to undo: the filter stays with the
 * command's processes until they exit, and someone must answer until
 * then, or the kernel fails their calls with ENOSYS: the runner, then
 * the guardian (guard), which holds a dup of the listener.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "bpf/syscall.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE	(1UL << 0)
#endif

#define SN_FIRST_EVENTS	SF_FIRST_EVENTS
#define SN_COUNTS	4096		/* `when` counters, per thread and call */

struct sn_count {
	uint64_t key;			/* tid << 32 | nr, 0: free */
	uint64_t n;
};

/*
 * The call the thread has taken from the listener (RECV) and not yet
 * answered (SEND), in a page of a memfd the guardian holds too: if the
 * runner dies in between, the guardian answers it by its id.
 */
struct sn_taken {
	_Atomic uint64_t id;
	atomic_int taken;
};

/* The child handle: the listener, its thread, what it counted. */
struct sc_notify {
	const struct syscall_spec *s;
	int fd;				/* the listener */
	int stopfd;			/* eventfd: the thread ends */
	pthread_t th;
	bool running;
	atomic_int swfd;		/* the window's switch, -1 before apply */
	struct seccomp_notif_sizes sz;
	int memfd;			/* the page below, for the guardian */
	struct sn_taken *taken;		/* the call taken, not yet answered */
	uint64_t rnd;			/* xorshift64*, the thread's */
	struct sn_count *counts;	/* the thread's */
	size_t ncounts;
	pthread_mutex_t lock;		/* the counters below */
	uint64_t events;
	uint64_t per_call[SF_MAX_NR];
	uint64_t per_errno[4096];
	json_object *first;
};

/* ------------------------------------------------------------------ */
/* Which calls, the filter, the probe.                                 */

/* The file calls that act on a descriptor: the path filter can read it. */
static const char *const fd_calls[] = {
	"read", "pread64", "readv", "write", "pwrite64", "writev",
	"ftruncate", "fsync", "fdatasync", NULL,
};

bool sc_seccomp_path_ok(const char *call)
{
	const char *const *c;

	for (c = fd_calls; *c; c++)
		if (!strcmp(*c, call))
			return true;
	return false;
}

/* Install the filter: the calls nrs[] go to a new listener, its fd. */
static int install(const int *nrs, size_t n)
{
	struct sock_filter f[256];
	struct sock_fprog prog = { .filter = f };
	size_t i, k = 0;
	int fd;

	if (n > 250)			/* jumps are 8 bits */
		return -E2BIG;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	/* Call i: jump to the last instruction, USER_NOTIF. */
	for (i = 0; i < n; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
			BPF_K, nrs[i], n - i, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_USER_NOTIF);
	prog.len = k;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs first. */
	if (fd < 0 && errno == EACCES &&
	    !prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? -errno : fd;
}

static int notif_sizes(struct seccomp_notif_sizes *sz)
{
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, sz))
		return -errno;
	if (sz->seccomp_notif < sizeof(struct seccomp_notif))
		sz->seccomp_notif = sizeof(struct seccomp_notif);
	if (sz->seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		sz->seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	return 0;
}

/* Receive one call and answer it: err 0 continues it, else fails it. */
static int answer(int fd, const struct seccomp_notif_sizes *sz,
		  int (*decide)(void *ctx, struct seccomp_notif *req),
		  void *ctx, struct sn_taken *taken)
{
	struct seccomp_notif *req = calloc(1, sz->seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sz->seccomp_notif_resp);
	int err = 0, ret = 0;

	if (!req || !resp) {
		ret = -ENOMEM;
		goto out;
	}
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req)) {
		/* ENOENT: the caller went (killed, or interrupted). */
		ret = -errno;
		goto out;
	}
	if (taken) {
		atomic_store(&taken->id, req->id);
		atomic_store(&taken->taken, 1);
	}
	if (decide)
		err = decide(ctx, req);
	resp->id = req->id;
	if (err)
		resp->error = -err;
	else
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp))
		ret = -errno;
	else
		ret = err;
	if (taken)
		atomic_store(&taken->taken, 0);
out:
	free(req);
	free(resp);
	return ret;
}

/*
 * Does the route work here?  For real: a child installs a filter for
 * getppid, the parent takes the listener with pidfd_getfd() as the runner
 * does and answers "continue"; the child's getppid() must return.
 * Cached: 1 yes, 0 no (why says why).
 */
int sc_seccomp_probe(char *why, size_t len)
{
	static int done = -1;
	static char reason[256];
	struct seccomp_notif_sizes sz;
	int nr = SYS_getppid, pidfd = -1, lfd = -1, st = 0, p[2], ret;
	pid_t pid, parent = getpid();

	if (done >= 0)
		goto out;
	reason[0] = 0;
	if (notif_sizes(&sz)) {
		snprintf(reason, sizeof(reason), "no seccomp user notification (Linux 5.0, CONFIG_SECCOMP_FILTER): %s",
			 strerror(errno));
		goto done;
	}
	if (pipe2(p, O_CLOEXEC)) {
		snprintf(reason, sizeof(reason), "pipe: %s", strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid == 0) {
		/* Its getppid() waits for our answer: die with us. */
		int fd = fl_die_with_parent(parent) ? -ESRCH : install(&nr, 1);

		if (write(p[1], &fd, sizeof(fd)) != sizeof(fd) || fd < 0)
			_exit(1);
		_exit(syscall(SYS_getppid) > 0 ? 0 : 2);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &lfd, sizeof(lfd)) != sizeof(lfd) ||
	    lfd < 0) {
		snprintf(reason, sizeof(reason), "cannot install a seccomp filter with a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER, Linux 5.0): %s",
			 lfd < 0 ? strerror(-lfd) : "the child failed");
		lfd = -1;
		goto reap;
	}
	pidfd = fl_pidfd_open(pid);
	lfd = pidfd < 0 ? -1 : fl_pidfd_getfd(pidfd, lfd);
	if (lfd < 0) {
		snprintf(reason, sizeof(reason), "pidfd_getfd (Linux 5.6): %s",
			 strerror(errno));
		goto reap;
	}
	ret = answer(lfd, &sz, NULL, NULL, NULL);
	if (ret)
		snprintf(reason, sizeof(reason), "cannot answer with SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5): %s",
			 strerror(-ret));
reap:
	close(p[0]);
	if (pid > 0) {
		if (reason[0])
			kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!reason[0] && !(WIFEXITED(st) && !WEXITSTATUS(st)))
			snprintf(reason, sizeof(reason), "the probe's call did not come back");
	}
	if (lfd >= 0)
		close(lfd);
	if (pidfd >= 0)
		close(pidfd);
done:
	done = !reason[0];
out:
	if (why && len)
		snprintf(why, len, "%s", done ? "" : reason);
	return done;
}

/* ------------------------------------------------------------------ */
/* In the command's child, before exec: the filter (child_setup).      */

/*
 * The calls the plan gives the seccomp route.  The plan was made in the
 * runner before the fork (check), so its probes answer from their cache
 * and open nothing here: the listener is the next descriptor.
 */
int syscall_child_setup(const struct fl_fault *f)
{
	const struct syscall_spec *s = f->priv;
	int nrs[256], ret;
	struct sc_plan p;
	size_t i, n = 0;

	if (!s || !s->target)
		return -EINVAL;
	if (sc_make_plan(s, &p))
		return -ENOMEM;
	for (i = 0; i < s->ncalls && n < ARRAY_SIZE(nrs); i++)
		if (p.route[i] == SC_SECCOMP)
			nrs[n++] = s->calls[i].nr;
	sc_free_plan(&p);
	if (!n)
		return -ENOENT;
	ret = install(nrs, n);
	return ret;
}

/* ------------------------------------------------------------------ */
/* In the runner: the listener's thread.                               */

static uint64_t rnd_next(struct sc_notify *sn)
{
	uint64_t x = sn->rnd;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sn->rnd = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Inside the window: the switch file exists (revert removes it). */
static bool armed(struct sc_notify *sn)
{
	int fd = atomic_load(&sn->swfd);
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) && st.st_nlink > 0;
}

/* tid is a thread of process tgid. */
static bool thread_of(pid_t tgid, pid_t tid)
{
	char path[64];

	if (tid == tgid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)tgid, (int)tid);
	return !access(path, F_OK);
}

/* The path filter (a prefix, as the BPF programs match it) on a fd. */
static bool path_match(struct sc_notify *sn, const struct seccomp_notif *req,
		       char *full, size_t len)
{
	const char *pre = sn->s->path;
	size_t n = strlen(pre);
	char link[64];
	ssize_t r;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)req->pid,
		 (int)req->data.args[0]);
	r = readlink(link, full, len - 1);
	/* Still the same caller: its pid was not reused meanwhile. */
	if (r <= 0 || ioctl(sn->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id))
		return false;
	full[r] = 0;
	if (strncmp(full, pre, n))
		return false;
	return n == 1 || full[n] == '/' || !full[n];
}

/* The `when` counter of (thread, call): matching calls so far. */
static uint64_t when_count(struct sc_notify *sn, uint32_t tid, int nr)
{
	uint64_t key = (uint64_t)tid << 32 | (uint32_t)nr;
	size_t i, h = (key * 0x9E3779B97F4A7C15ULL) >> 52;

	for (i = 0; i < SN_COUNTS; i++) {
		struct sn_count *c = &sn->counts[(h + i) % SN_COUNTS];

		if (c->key == key)
			return ++c->n;
		if (!c->key) {
			/* Three quarters full: start again, as an LRU would. */
			if (++sn->ncounts > SN_COUNTS * 3 / 4) {
				memset(sn->counts, 0,
				       SN_COUNTS * sizeof(*sn->counts));
				sn->ncounts = 1;
				c = &sn->counts[h % SN_COUNTS];
			}
			c->key = key;
			return c->n = 1;
		}
	}
	return 1;
}

/* The thread-group id and comm of a thread, for the report. */
static void who(pid_t tid, pid_t *tgid, char *comm, size_t len)
{
	char path[64], line[256];
	FILE *fp;

	*tgid = tid;
	snprintf(comm, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fp = fopen(path, "re");
	while (fp && fgets(line, sizeof(line), fp)) {
		if (!strncmp(line, "Name:\t", 6)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(comm, len, "%.15s", line + 6);
		}
		if (sscanf(line, "Tgid: %d", tgid) == 1)
			break;
	}
	if (fp)
		fclose(fp);
}

static void count(struct sc_notify *sn, const struct seccomp_notif *req,
		  int err, const char *path)
{
	json_object *o;
	char tb[40], comm[64];
	pid_t tgid;

	pthread_mutex_lock(&sn->lock);
	sn->events++;
	if (req->data.nr < SF_MAX_NR)
		sn->per_call[req->data.nr]++;
	if (err < 4096)
		sn->per_errno[err]++;
	if (json_object_array_length(sn->first) < SN_FIRST_EVENTS) {
		o = json_object_new_object();
		who(req->pid, &tgid, comm, sizeof(comm));
		fl_json_add_str(o, "time",
				fl_fmt_time(fl_wall_ns(), tb, sizeof(tb)));
		json_object_object_add(o, "pid", json_object_new_int(tgid));
		json_object_object_add(o, "tid", json_object_new_int(req->pid));
		fl_json_add_str(o, "comm", comm);
		fl_json_add_str(o, "call",
				fl_syscall_name(req->data.nr) ?
				fl_syscall_name(req->data.nr) : "?");
		fl_json_add_str(o, "errno",
				fl_errno_name(err) ? fl_errno_name(err) : "?");
		if (path && path[0])
			fl_json_add_str(o, "path", path);
		json_object_array_add(sn->first, o);
	}
	pthread_mutex_unlock(&sn->lock);
}

/*
 * The decision the BPF programs make (sysfault.bpf.c decide()), here:
 * the window, follow-forks, the path, `when`, probability, errno.
 */
static int decide(void *ctx, struct seccomp_notif *req)
{
	struct sc_notify *sn = ctx;
	const struct syscall_spec *s = sn->s;
	char full[PATH_MAX] = "";
	uint64_t n, k;
	uint32_t r;
	size_t i;
	int err;

	if (!armed(sn))
		return 0;
	if (!s->follow_forks && s->target->pid > 0 &&
	    !thread_of(s->target->pid, req->pid))
		return 0;
	if (s->path && !path_match(sn, req, full, sizeof(full)))
		return 0;
	if (s->has_when) {
		n = when_count(sn, req->pid, req->data.nr);
		if (n <= s->after)
			return 0;
		k = n - s->after - 1;
		if (s->every > 1 && k % s->every)
			return 0;
		if (s->times && k / (s->every ? s->every : 1) >= s->times)
			return 0;
	}
	if (s->probability < 100 &&
	    (double)(rnd_next(sn) >> 11) / 9007199254740992.0 * 100.0 >=
	    s->probability)
		return 0;
	err = s->errnos[0];
	if (s->nerrnos > 1) {
		double acc = 0, x;

		r = rnd_next(sn) >> 32;
		x = (double)r / 4294967296.0 * 100.0;
		for (i = 0; i < s->nerrnos; i++) {
			err = s->errnos[i];
			acc += s->weights[i];
			if (x < acc)
				break;
		}
	}
	count(sn, req, err, full);
	return err;
}

static void *notify_main(void *arg)
{
	struct sc_notify *sn = arg;
	struct pollfd p[2] = {
		{ .fd = sn->fd, .events = POLLIN },
		{ .fd = sn->stopfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			answer(sn->fd, &sn->sz, decide, sn, sn->taken);
		else if (p[0].revents)
			break;	/* hung up: the command's processes are gone */
	}
	return NULL;
}

void syscall_child_release(void *child)
{
	struct sc_notify *sn = child;
	uint64_t one = 1;
	int sw;

	if (!sn)
		return;
	if (sn->running) {
		if (write(sn->stopfd, &one, sizeof(one)) < 0)
			pthread_cancel(sn->th);
		pthread_join(sn->th, NULL);
	}
	sw = atomic_exchange(&sn->swfd, -1);
	if (sw >= 0)
		close(sw);
	if (sn->stopfd >= 0)
		close(sn->stopfd);
	if (sn->taken)
		munmap(sn->taken, sizeof(*sn->taken));
	if (sn->memfd >= 0)
		close(sn->memfd);
	close(sn->fd);
	json_object_put(sn->first);
	pthread_mutex_destroy(&sn->lock);
	free(sn->counts);
	free(sn);
}

/* The page of the call taken, shared with the guardian. */
static int taken_page(struct sc_notify *sn)
{
	void *p;

	sn->memfd = memfd_create("faultline-seccomp", MFD_CLOEXEC);
	if (sn->memfd < 0 || ftruncate(sn->memfd, sizeof(*sn->taken)))
		return -errno;
	p = mmap(NULL, sizeof(*sn->taken), PROT_READ | PROT_WRITE, MAP_SHARED,
		 sn->memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	sn->taken = p;
	return 0;
}

int syscall_child_adopt(const struct fl_fault *f, int fd, void **child,
			int *aux)
{
	struct sc_notify *sn = calloc(1, sizeof(*sn));
	int ret;

	*aux = -1;
	if (!sn) {
		close(fd);
		return -ENOMEM;
	}
	sn->s = f->priv;
	sn->fd = fd;
	sn->memfd = -1;
	sn->stopfd = eventfd(0, EFD_CLOEXEC);
	atomic_init(&sn->swfd, -1);
	sn->first = json_object_new_array();
	sn->counts = calloc(SN_COUNTS, sizeof(*sn->counts));
	pthread_mutex_init(&sn->lock, NULL);
	if (getrandom(&sn->rnd, sizeof(sn->rnd), 0) != sizeof(sn->rnd))
		sn->rnd = fl_now_ns();
	sn->rnd |= 1;
	ret = notif_sizes(&sn->sz);
	if (!ret && (sn->stopfd < 0 || !sn->counts))
		ret = -ENOMEM;
	if (!ret)
		ret = taken_page(sn);
	if (!ret) {
		ret = -pthread_create(&sn->th, NULL, notify_main, sn);
		sn->running = !ret;
	}
	if (ret) {
		syscall_child_release(sn);
		return ret;
	}
	*child = sn;
	*aux = sn->memfd;
	return 0;
}

/*
 * The guardian's part: every call continues, the fault is over.  First
 * the call the runner took and had not answered when it died (its id in
 * aux's page; -ENOENT when it had after all), then one that waits.
 * 0 when it answered one, -EAGAIN when none waited.
 */
int syscall_guard(int fd, int aux)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct seccomp_notif_sizes sz;
	struct seccomp_notif_resp *resp;
	struct sn_taken t;
	int ret = -EAGAIN;

	if (aux >= 0 && pread(aux, &t, sizeof(t), 0) == sizeof(t) &&
	    atomic_load(&t.taken)) {
		ret = notif_sizes(&sz);
		resp = ret ? NULL : calloc(1, sz.seccomp_notif_resp);
		if (resp) {
			resp->id = atomic_load(&t.id);
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			ret = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) ?
			      -errno : 0;
			free(resp);
		}
		t.taken = 0;
		if (pwrite(aux, &t, sizeof(t), 0) != sizeof(t))
			ret = ret ? ret : -EIO;
		if (!ret)
			return 0;
	}
	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return -EAGAIN;
	ret = notif_sizes(&sz);
	return ret ? ret : answer(fd, &sz, NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* The window: apply opens it, revert closes it from the record.       */

#define SWITCH_PREFIX	"seccomp-"
#define SWITCH_SUFFIX	".window"

/* The switch's path for the fault: in the run's journal folder. */
void sc_seccomp_switch_path(const struct fl_fault *f, struct fl_undo *u,
			    char *buf, size_t len)
{
	fl_switch_path(u, SWITCH_PREFIX, f->name, SWITCH_SUFFIX, buf, len);
}

/* The record's part: where the switch is and what revert means. */
void sc_seccomp_record(const struct sf_rt *rt, json_object *o)
{
	if (!rt->sw_path[0])
		return;
	fl_json_add_str(o, "seccomp_switch", rt->sw_path);
	fl_json_add_str(o, "seccomp",
			"the command's calls are answered by the runner, then the guardian, through a seccomp listener: failed while this switch file exists; revert removes it, and every answer is 'continue'. Nothing in the kernel is to undo: the filter goes with the command's processes");
}

/* After the record names it: create the switch; the window opens. */
int sc_seccomp_arm(struct sf_rt *rt, struct fl_undo *u)
{
	int fd, old;

	fd = fl_switch_open(rt->sw_path);
	if (fd < 0) {
		fl_undo_why(u, "cannot create the seccomp route's switch %s: %s",
			    rt->sw_path, strerror(-fd));
		return fd;
	}
	old = atomic_exchange(&rt->sn->swfd, fd);
	if (old >= 0)
		close(old);
	return 0;
}

/* Revert's part: remove the switch, if the record names one (only a
 * switch of ours, whatever the record says). */
int sc_seccomp_revert(json_object *state)
{
	const char *p = fl_json_str(state, "seccomp_switch", NULL);

	return p ? fl_switch_remove(p, SWITCH_PREFIX, SWITCH_SUFFIX) : 0;
}

/* live and observe: what the listener's thread counted, added in. */
void sc_seccomp_counts(struct sc_notify *sn, uint64_t *events,
		       uint64_t *per_call, uint64_t *per_errno,
		       json_object *first)
{
	size_t i;

	if (!sn)
		return;
	pthread_mutex_lock(&sn->lock);
	*events += sn->events;
	for (i = 0; per_call && i < SF_MAX_NR; i++)
		per_call[i] += sn->per_call[i];
	for (i = 0; per_errno && i < 4096; i++)
		per_errno[i] += sn->per_errno[i];
	for (i = 0; first && i < json_object_array_length(sn->first) &&
	     json_object_array_length(first) < SF_FIRST_EVENTS; i++)
		json_object_array_add(first, json_object_get(
			json_object_array_get_idx(sn->first, i)));
	pthread_mutex_unlock(&sn->lock);
}
