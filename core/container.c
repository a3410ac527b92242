// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container targets: `container: NAME-OR-ID` with an optional `runtime:
 * podman|docker`.  To the engines a container is a cgroup target; core
 * resolves it here with the runtime's own tool (`RUNTIME container
 * inspect NAME`, which podman and docker both answer with a JSON array)
 * into its init process, and reads the rest from that process, as the
 * kernel sees it: its cgroup in the memory and the v2 hierarchy
 * (/proc/PID/cgroup) and its network namespace (/proc/PID/ns/net, known
 * by dev:ino through core/netns.c).
 *
 * It is resolved at check (plan, run), and again before each apply of a
 * fault that names it: a container stopped, removed or replaced (a new
 * init process) since the check is reported, never silently chased.
 * Between the two, fl_container_where() proves the init process is the
 * same one (pid, start time, namespace) without asking the runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/faultline.h"

/* How long the runtime may take to answer (podman under TCG is slow). */
#define INSPECT_TIMEOUT_MS	60000
#define INSPECT_MAX		(4 << 20)

static const char *const runtime_names[] = {
	[FL_RUNTIME_ANY] = NULL,
	[FL_RUNTIME_PODMAN] = "podman",
	[FL_RUNTIME_DOCKER] = "docker",
};

static const char *const runtime_keys[] = { "podman", "docker", NULL };

struct fl_container {
	char *ref;			/* name or id as written */
	enum fl_runtime runtime;	/* as written; ANY: whichever knows */
	/* What the runtime said at the last resolve. */
	bool resolved;
	enum fl_runtime found;
	char id[80];
	char name[256];
	pid_t pid;
	unsigned long long start;	/* the init process's start time */
	struct fl_netns_id netns;
	char memory[512], unified[512];
	char cgroup[512];		/* the target's cgroup points here */
	/* What became of it, once found changed: the runtime is not asked
	 * again each time (live asks once a second). */
	char changed[600];
};

static const char *rt_name(enum fl_runtime r)
{
	return fl_enum_name(runtime_names, ARRAY_SIZE(runtime_names), r,
			    "podman or docker");
}

/* ------------------------------------------------------------------ */
/* The file.                                                           */

/* What podman and docker accept as a name, and ids (hex). */
static bool ref_ok(const char *s)
{
	const char *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9')))
		return false;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      *p == '-'))
			return false;
	return p - s <= 128;
}

int fl_container_parse(struct fl_target *t, const struct fl_node *spec,
		       struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(spec, "container");
	struct fl_container *c;
	char q[64];
	int idx;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	t->container = c;
	t->kind = FL_TARGET_CGROUP;
	t->cgroup = c->cgroup;
	if (fl_get_string(v, "container", &c->ref, d))
		return -EINVAL;
	if (!c->ref[0]) {
		fl_diag_err(d, v, "container: must not be empty");
		return -EINVAL;
	}
	if (!ref_ok(c->ref)) {
		fl_diag_err(d, v, "container: '%s' is not a container name or "
			    "id (letters, digits, '_', '.' and '-', starting "
			    "with a letter or digit, at most 128)",
			    fl_quote(c->ref, q, sizeof(q)));
		return -EINVAL;
	}
	idx = 0;
	if (fl_opt_enum(spec, "runtime", runtime_keys, &idx, d))
		return -EINVAL;
	if (fl_map_get(spec, "runtime"))
		c->runtime = idx == 0 ? FL_RUNTIME_PODMAN : FL_RUNTIME_DOCKER;
	return 0;
}

void fl_container_free(struct fl_container *c)
{
	if (!c)
		return;
	free(c->ref);
	free(c);
}

void fl_container_label(const struct fl_target *t, char *buf, size_t len)
{
	const struct fl_container *c = t->container;

	if (!c) {
		snprintf(buf, len, "target '%s'", t->name);
		return;
	}
	if (c->resolved)
		snprintf(buf, len, "container '%s' (%s %.12s)", c->ref,
			 rt_name(c->found), c->id);
	else
		snprintf(buf, len, "container '%s'", c->ref);
}

/* ------------------------------------------------------------------ */
/* Asking the runtime.                                                 */

/* prog is an executable file on PATH. */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		if (e == p)
			continue;
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, prog);
		if (!access(buf, X_OK))
			return true;
	}
	return false;
}

static void exec_child(const char *prog, const char *ref, int out, int err)
{
	sigset_t all;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(126);
	execlp(prog, prog, "container", "inspect", ref, (char *)NULL);
	_exit(127);
}

struct capture {
	char *buf;
	size_t n, cap;
};

/* Read what is there on fd into c; 0 at the end, 1 for more, -errno. */
static int capture_read(int fd, struct capture *c)
{
	ssize_t n;

	if (c->n + 4096 + 1 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16384;
		char *b;

		if (cap > INSPECT_MAX)
			return -EFBIG;
		b = realloc(c->buf, cap);
		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	n = read(fd, c->buf + c->n, c->cap - c->n - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	c->n += n;
	c->buf[c->n] = '\0';
	return n ? 1 : 0;
}

/* Read both pipes to their end within the timeout. */
static int capture_both(int ofd, int efd, struct capture *out,
			struct capture *err)
{
	struct pollfd p[2] = { { .fd = ofd, .events = POLLIN },
			       { .fd = efd, .events = POLLIN } };
	uint64_t end = fl_now_ns() + INSPECT_TIMEOUT_MS * NSEC_PER_MSEC;
	int i, r;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		uint64_t now = fl_now_ns();

		if (now >= end)
			return -ETIMEDOUT;
		r = poll(p, 2, (int)((end - now) / NSEC_PER_MSEC) + 1);
		if (r < 0 && errno != EINTR)
			return -errno;
		for (i = 0; r > 0 && i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			r = capture_read(p[i].fd, i ? err : out);
			if (r < 0)
				return r;
			if (!r)
				p[i].fd = -1;
			r = 1;
		}
	}
	return 0;
}

/*
 * Run "prog container inspect ref": its stdout in *out (malloc'ed) and
 * its exit status, or -errno; the first line of its stderr in err.
 */
static int inspect_run(const char *prog, const char *ref, char **out,
		       int *status, char *err, size_t errlen)
{
	struct capture o = { 0 }, e = { 0 };
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, ret;
	pid_t pid;

	*out = NULL;
	err[0] = '\0';
	if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		ret = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (!pid)
		exec_child(prog, ref, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	ret = capture_both(op[0], ep[0], &o, &e);
	if (ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (e.buf) {
		e.buf[strcspn(e.buf, "\n")] = '\0';
		snprintf(err, errlen, "%s", e.buf);
	}
	if (!ret) {
		*out = o.buf;
		o.buf = NULL;
	}
out:
	free(o.buf);
	free(e.buf);
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return ret;
}

/* What inspect says, from its JSON. */
struct inspect {
	char id[80];
	char name[256];
	char status[32];
	bool running;
	pid_t pid;
};

static int inspect_parse(const char *text, struct inspect *in, char *why,
			 size_t len)
{
	json_object *arr = json_tokener_parse(text), *o, *st, *v;
	const char *name;
	int ret = -EBADMSG;

	memset(in, 0, sizeof(*in));
	o = arr && json_object_is_type(arr, json_type_array) &&
	    json_object_array_length(arr) ? json_object_array_get_idx(arr, 0) :
	    NULL;
	if (!o || !json_object_object_get_ex(o, "State", &st)) {
		snprintf(why, len, "its answer is not a JSON array of "
			 "containers with a State");
		goto out;
	}
	snprintf(in->id, sizeof(in->id), "%s", fl_json_str(o, "Id", ""));
	name = fl_json_str(o, "Name", "");
	snprintf(in->name, sizeof(in->name), "%s", name + (*name == '/'));
	snprintf(in->status, sizeof(in->status), "%s",
		 fl_json_str(st, "Status", "unknown"));
	v = fl_json_get(st, "Running");
	in->running = v && json_object_get_boolean(v);
	v = fl_json_get(st, "Pid");
	in->pid = v ? (pid_t)json_object_get_int64(v) : 0;
	ret = 0;
out:
	json_object_put(arr);
	return ret;
}

/* Ask one runtime; -ENOENT when it is not there or does not know ref. */
static int inspect_one(enum fl_runtime rt, const char *ref,
		       struct inspect *in, char *why, size_t len)
{
	const char *prog = rt_name(rt);
	char err[200], *out = NULL;
	int status = 0, ret;

	if (!on_path(prog)) {
		snprintf(why, len, "%s is not installed (not on PATH)", prog);
		return -ENOENT;
	}
	ret = inspect_run(prog, ref, &out, &status, err, sizeof(err));
	if (ret) {
		snprintf(why, len, "'%s container inspect %s' failed: %s",
			 prog, ref, strerror(-ret));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, len, "%s does not know it%s%s", prog,
			 err[0] ? ": " : "", err);
		ret = -ENOENT;
		goto out;
	}
	ret = inspect_parse(out, in, err, sizeof(err));
	if (ret)
		snprintf(why, len, "'%s container inspect %s': %s", prog, ref,
			 err);
out:
	free(out);
	return ret;
}

/* The runtime given, or podman then docker. */
static int inspect(const struct fl_container *c, enum fl_runtime *found,
		   struct inspect *in, char *why, size_t len)
{
	char w1[256] = "", w2[256] = "";
	int ret;

	if (c->runtime != FL_RUNTIME_ANY) {
		*found = c->runtime;
		return inspect_one(c->runtime, c->ref, in, why, len);
	}
	*found = FL_RUNTIME_PODMAN;
	ret = inspect_one(FL_RUNTIME_PODMAN, c->ref, in, w1, sizeof(w1));
	if (ret != -ENOENT) {
		snprintf(why, len, "%s", w1);
		return ret;
	}
	*found = FL_RUNTIME_DOCKER;
	ret = inspect_one(FL_RUNTIME_DOCKER, c->ref, in, w2, sizeof(w2));
	if (ret == -ENOENT)
		snprintf(why, len, "neither runtime knows it (%s; %s)", w1, w2);
	else
		snprintf(why, len, "%s", w2);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Resolving.                                                          */

static void join(char *buf, size_t len, const char *root, const char *rel)
{
	int n = snprintf(buf, len, "%s%s", root, strcmp(rel, "/") ? rel : "");

	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

/* The init process's start time, namespace and cgroups into c. */
static int read_process(struct fl_container *c, pid_t pid)
{
	const struct fl_kernel *k = fl_kernel_get();
	char path[64], rel[512];
	struct stat st;

	c->pid = pid;
	c->start = fl_pid_start_time(pid);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (!c->start || stat(path, &st))
		return -ESRCH;
	c->netns.dev = st.st_dev;
	c->netns.ino = st.st_ino;
	c->memory[0] = c->unified[0] = '\0';
	/* A hierarchy's root is nobody's own: never squeeze or freeze it. */
	if (k->memory_root[0] && !fl_proc_cgroup(pid, "memory", rel,
						  sizeof(rel)) &&
	    strcmp(rel, "/"))
		join(c->memory, sizeof(c->memory), k->memory_root, rel);
	if (k->unified_root[0] && !fl_proc_cgroup(pid, NULL, rel,
						   sizeof(rel)) &&
	    strcmp(rel, "/"))
		join(c->unified, sizeof(c->unified), k->unified_root, rel);
	snprintf(c->cgroup, sizeof(c->cgroup), "%s",
		 c->unified[0] ? c->unified : c->memory);
	return c->cgroup[0] ? 0 : -ENOENT;
}

int fl_container_resolve(const struct fl_target *t, char *why, size_t len)
{
	struct fl_container *c = t->container;
	struct inspect in;
	char w[600];
	int ret;

	if (!c)
		return -EINVAL;
	c->resolved = false;
	c->cgroup[0] = c->changed[0] = '\0';
	ret = inspect(c, &c->found, &in, w, sizeof(w));
	if (ret) {
		snprintf(why, len, "target '%s': container '%s': %s", t->name,
			 c->ref, w);
		return ret;
	}
	snprintf(c->id, sizeof(c->id), "%s", in.id);
	snprintf(c->name, sizeof(c->name), "%s", in.name);
	if (!in.running || in.pid <= 0) {
		snprintf(why, len, "target '%s': container '%s' (%s %.12s) is "
			 "not running (%s)", t->name, c->ref,
			 rt_name(c->found), in.id, in.status);
		return -ESRCH;
	}
	ret = read_process(c, in.pid);
	if (ret) {
		snprintf(why, len, "target '%s': container '%s': %s says its "
			 "init is pid %d, %s", t->name, c->ref,
			 rt_name(c->found), (int)in.pid, ret == -ESRCH ?
			 "which is not running" : "which has no cgroup of "
			 "its own (it is in the root of every hierarchy)");
		return ret;
	}
	c->resolved = true;
	return 0;
}

/* The init process is still the one resolve found. */
static bool same_process(const struct fl_container *c)
{
	struct fl_netns_id ns;
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->pid);
	if (!fl_pid_alive(c->pid, c->start) || stat(path, &st))
		return false;
	ns.dev = st.st_dev;
	ns.ino = st.st_ino;
	return fl_netns_eq(&ns, &c->netns);
}

/*
 * Say what became of a container whose init process is not the one
 * check found: stopped, removed, or replaced (another init now).
 */
static int say_changed(const struct fl_target *t, struct fl_container *c,
		       char *why, size_t len)
{
	enum fl_runtime found;
	struct inspect in;
	char label[400], w[600];
	int ret;

	if (c->changed[0]) {
		snprintf(why, len, "%s", c->changed);
		return -ESRCH;
	}
	fl_container_label(t, label, sizeof(label));
	ret = inspect(c, &found, &in, w, sizeof(w));
	if (ret == -ENOENT)
		snprintf(why, len, "target '%s': %s was removed since the "
			 "check (its init, pid %d, is gone; %s)", t->name,
			 label, (int)c->pid, w);
	else if (ret)
		snprintf(why, len, "target '%s': %s: %s", t->name, label, w);
	else if (strcmp(in.id, c->id))
		snprintf(why, len, "target '%s': %s was replaced since the "
			 "check: the name is now container %.12s (init pid "
			 "%d); faultline does not follow it", t->name, label,
			 in.id, (int)in.pid);
	else if (!in.running || in.pid <= 0)
		snprintf(why, len, "target '%s': %s stopped since the check "
			 "(%s; its init was pid %d)", t->name, label,
			 in.status, (int)c->pid);
	else
		snprintf(why, len, "target '%s': %s was restarted since the "
			 "check: its init is pid %d now, not %d; faultline "
			 "does not follow it", t->name, label, (int)in.pid,
			 (int)c->pid);
	snprintf(c->changed, sizeof(c->changed), "%s", why);
	return -ESRCH;
}

int fl_container_where(const struct fl_target *t, struct fl_where *w,
		       char *why, size_t len)
{
	struct fl_container *c = t->container;
	int ret;

	if (!c)
		return -EINVAL;
	if (!c->resolved) {
		ret = fl_container_resolve(t, why, len);
		if (ret)
			return ret;
	} else if (!same_process(c)) {
		return say_changed(t, c, why, len);
	}
	w->pid = c->pid;
	w->netns = c->netns;
	snprintf(w->memory, sizeof(w->memory), "%s", c->memory);
	snprintf(w->unified, sizeof(w->unified), "%s", c->unified);
	return 0;
}

int fl_container_recheck(const struct fl_target *t, char *why, size_t len)
{
	struct fl_container *c = t->container;
	enum fl_runtime found;
	struct inspect in;
	char w[600];
	int ret;

	if (!c)
		return 0;
	if (!c->resolved)
		return fl_container_resolve(t, why, len);
	ret = inspect(c, &found, &in, w, sizeof(w));
	if (ret || strcmp(in.id, c->id) || !in.running ||
	    in.pid != c->pid || !same_process(c))
		return say_changed(t, c, why, len);
	return 0;
}

int fl_container_cgroup_path(const struct fl_target *t, const char *root,
			     char *buf, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	const struct fl_kernel_more *km = fl_kernel_more();
	const struct fl_container *c = t->container;
	char rel[512];
	size_t i;

	if (!c || !c->resolved)
		return -ENOENT;
	if (!root || !strcmp(root, k->unified_root) || !k->memory_root[0])
		snprintf(buf, len, "%s", c->unified[0] ? c->unified : c->memory);
	else if (!strcmp(root, k->memory_root))
		snprintf(buf, len, "%s", c->memory);
	else {
		/* Another v1 hierarchy (the freezer): as its init is there. */
		for (i = 0; i < km->ncg; i++)
			if (km->cg[i].mode == FL_CG_V1 &&
			    !strcmp(km->cg[i].mount, root))
				break;
		if (i == km->ncg ||
		    fl_proc_cgroup(c->pid, km->cg[i].name, rel, sizeof(rel)))
			return -ENOENT;
		join(buf, len, root, rel);
	}
	return buf[0] ? 0 : -ENOENT;
}

json_object *fl_container_json(const struct fl_target *t)
{
	const struct fl_container *c = t->container;
	json_object *o;
	char ns[48];

	if (!c)
		return NULL;
	o = json_object_new_object();
	fl_json_add_str(o, "ref", c->ref);
	fl_json_add_str(o, "runtime",
			c->resolved ? rt_name(c->found) : rt_name(c->runtime));
	if (!c->resolved)
		return o;
	fl_json_add_str(o, "id", c->id);
	fl_json_add_str(o, "name", c->name);
	json_object_object_add(o, "pid", json_object_new_int(c->pid));
	fl_json_add_str(o, "cgroup_memory", c->memory);
	fl_json_add_str(o, "cgroup_unified", c->unified);
	fl_netns_str(&c->netns, ns, sizeof(ns));
	fl_json_add_str(o, "netns", ns);
	return o;
}

/* ------------------------------------------------------------------ */
/* Around a fault's engine ops.                                        */

int fl_fault_enter(const struct fl_fault *f, bool recheck, int *oldfd,
		   char *why, size_t len)
{
	const struct fl_target *t = f->netns_target;
	struct fl_where w;
	char label[400];
	size_t i;
	int ret;

	*oldfd = -1;
	for (i = 0; recheck && i < f->nuses; i++) {
		ret = fl_container_recheck(f->uses[i], why, len);
		if (ret)
			return ret;
	}
	if (!t)
		return 0;
	ret = fl_target_where(t, &w, why, len);
	if (ret)
		return ret;
	if (!w.netns.ino) {
		snprintf(why, len, "target '%s' has no network namespace",
			 t->name);
		return -ENOENT;
	}
	ret = fl_netns_enter_hint(&w.netns, w.pid, oldfd);
	if (ret) {
		snprintf(why, len, "cannot enter the network namespace of "
			 "target '%s': %s", t->name, strerror(-ret));
		return ret;
	}
	fl_container_label(t, label, sizeof(label));
	fl_netns_label(label);
	return 0;
}

void fl_fault_leave(int oldfd)
{
	fl_netns_label(NULL);
	fl_netns_leave(oldfd);
}
