// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault: squeeze a target's memory cgroup until the kernel's OOM
 * killer takes it (or, with expect: pressure, throttle it through
 * memory.high).
 *
 * This file holds the fault's schema (parse), what this machine allows
 * (check), the plan (describe), and the run: apply, revert and observe
 * (the squeeze and the proof of the kill, see the OOM section of
 * docs/design.md).  libcgroup is reached through cgroup/cg.c only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/memcg.h"
#include "cgroup/oom_spec.h"

#define PF_KTHREAD_FLAG	0x00200000U

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif
#ifndef P_PIDFD
#define P_PIDFD		3
#endif

static const char *const oom_keys[] = {
	"target", "cgroup", "squeeze", "swap", "expect", NULL,
};
static const char *const squeeze_keys[] = {
	"below-usage", "to", "ramp", NULL,
};
static const char *const ramp_keys[] = { "from", "step", "every", NULL };
static const char *const cgroup_names[] = { "own", "scratch", NULL };
static const char *const expect_names[] = { "kill", "pressure", NULL };

static void oom_spec_free(void *spec)
{
	struct oom_spec *s = spec;

	if (!s)
		return;
	free(s->target_name);
	free(s);
}

static int parse_nonzero_size(const struct fl_node *v, const char *what,
			      uint64_t *out, struct fl_diag *d)
{
	if (fl_get_size(v, what, out, d))
		return -EINVAL;
	if (!*out) {
		fl_diag_err(d, v, "%s: must be above 0", what);
		return -EINVAL;
	}
	return 0;
}

static int parse_ramp(const struct fl_node *v, struct oom_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p;
	int err = 0;

	if (fl_map_check(v, ramp_keys, "ramp", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	p = fl_map_get(v, "from");
	s->ramp_from_usage = true;
	if (p && !(p->type == FL_NODE_SCALAR && !strcmp(p->scalar, "usage"))) {
		s->ramp_from_usage = false;
		if (parse_nonzero_size(p, "ramp.from", &s->ramp_from, d))
			err = -EINVAL;
	}
	p = fl_map_need(v, "step", "ramp", d);
	if (!p || parse_nonzero_size(p, "ramp.step", &s->ramp_step, d))
		err = -EINVAL;
	p = fl_map_need(v, "every", "ramp", d);
	if (!p || fl_get_duration(p, "ramp.every", &s->ramp_every_ns, d)) {
		err = -EINVAL;
	} else if (!s->ramp_every_ns) {
		fl_diag_err(d, p, "ramp.every: must be above 0");
		err = -EINVAL;
	}
	return err;
}

static int parse_squeeze(const struct fl_node *v, struct oom_spec *s,
			 struct fl_diag *d)
{
	const struct fl_node *p, *first = NULL;
	int err = 0, n = 0;
	size_t i;

	if (fl_map_check(v, squeeze_keys, "squeeze", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	for (i = 0; i < v->n; i++) {
		const char *k = v->pairs[i].key->scalar;

		if (!k || (strcmp(k, "below-usage") && strcmp(k, "to") &&
			   strcmp(k, "ramp")))
			continue;
		if (n++) {
			fl_diag_err(d, v->pairs[i].key,
				    "squeeze: give exactly one of below-usage, to or ramp ('%s' and '%s' both given)",
				    first->scalar, k);
			err = -EINVAL;
		} else {
			first = v->pairs[i].key;
		}
	}
	if (!n) {
		fl_diag_err(d, v, "squeeze: give one of below-usage, to or ramp");
		return -EINVAL;
	}
	if ((p = fl_map_get(v, "below-usage"))) {
		s->squeeze = OOM_SQ_BELOW_USAGE;
		if (parse_nonzero_size(p, "below-usage", &s->below, d))
			err = -EINVAL;
	}
	if ((p = fl_map_get(v, "to"))) {
		s->squeeze = OOM_SQ_TO;
		if (parse_nonzero_size(p, "to", &s->to, d))
			err = -EINVAL;
	}
	if ((p = fl_map_get(v, "ramp"))) {
		s->squeeze = OOM_SQ_RAMP;
		if (parse_ramp(p, s, d))
			err = -EINVAL;
	}
	return err;
}

static int oom_parse(struct fl_experiment *exp, const struct fl_fault *f,
		     const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *v, *cg = NULL;
	struct oom_spec *s;
	int err = 0, idx;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	if (fl_map_check(spec, oom_keys, "oom", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;

	v = fl_map_need(spec, "target", "oom", d);
	if (!v || fl_get_target(exp, v, "target", &s->target, d)) {
		err = -EINVAL;
	} else {
		s->target_name = strdup(s->target->name);
		if (!s->target_name)
			err = -ENOMEM;
	}
	cg = fl_map_get(spec, "cgroup");
	if (cg) {
		if (fl_get_enum(cg, "cgroup", cgroup_names, &idx, d))
			err = -EINVAL;
		else
			s->cgroup = idx;
	}
	v = fl_map_need(spec, "squeeze", "oom", d);
	if (!v || parse_squeeze(v, s, d))
		err = -EINVAL;
	v = fl_map_get(spec, "swap");
	if (v && fl_get_bool(v, "swap", &s->swap, d))
		err = -EINVAL;
	v = fl_map_get(spec, "expect");
	if (v) {
		if (fl_get_enum(v, "expect", expect_names, &idx, d))
			err = -EINVAL;
		else
			s->expect = idx;
	}

	if (cg && s->cgroup == OOM_CG_SCRATCH && s->target &&
	    s->target->kind == FL_TARGET_CGROUP) {
		fl_diag_err(d, cg, "cgroup: scratch moves a process into a new cgroup; target '%s' is a cgroup, so use own",
			    s->target->name);
		err = -EINVAL;
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Where the memory cgroup is.                                         */

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -errno;
	n = fread(buf, 1, len - 1, fp);
	fclose(fp);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int read_u64_file(const char *path, uint64_t *v)
{
	char buf[64], *end;

	if (read_str(path, buf, sizeof(buf)))
		return -ENOENT;
	if (!strcmp(buf, "max")) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(buf, &end, 10);
	return *end ? -EINVAL : 0;
}

/* The memory cgroup folder of a process, through core's one reader. */
static int pid_memcg(pid_t pid, char *out, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	char rel[PATH_MAX];
	int r;

	r = fl_proc_cgroup(pid, k->memory_mode == FL_CG_V2 ? NULL : "memory",
			   rel, sizeof(rel));
	if (r)
		return r;
	if ((size_t)snprintf(out, len, "%s%s", k->memory_root,
			     strcmp(rel, "/") ? rel : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* A folder without its trailing slashes. */
static void strip_slashes(char *path)
{
	size_t n;

	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = 0;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (!kill(pid, 0) || errno == EPERM);
}

static unsigned int pid_flags(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned int flags = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_str(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) != 1)
		return 0;
	return flags;
}

static void pid_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_str(path, buf, len))
		snprintf(buf, len, "?");
}

/*
 * The memory cgroup of the target now (core resolves it): "" for a
 * command, known only once run has started it.
 */
static int squeezed_cgroup(const struct oom_spec *s, char *out, size_t len)
{
	struct fl_where w;
	char why[256];
	int r;

	out[0] = 0;
	if (!s->target)
		return -EINVAL;
	if (s->target->kind == FL_TARGET_COMMAND)
		return 0;
	r = fl_target_where(s->target, &w, why, sizeof(why));
	if (r)
		return r;
	snprintf(out, len, "%s", w.memory);
	strip_slashes(out);
	return 0;
}

static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

/* ------------------------------------------------------------------ */
/* check                                                               */

#define WHY(...) snprintf(why, len, __VA_ARGS__)

static int check_pid(const struct oom_spec *s, pid_t pid, char *why,
		     size_t len)
{
	char path[64], buf[32];

	if (!pid_alive(pid)) {
		WHY("target %s: PID %d is not running", s->target_name,
		    (int)pid);
		return -ESRCH;
	}
	if (pid == 1) {
		WHY("target %s: PID 1 is init; squeezing it would take the machine down",
		    s->target_name);
		return -EOPNOTSUPP;
	}
	if (pid == getpid()) {
		WHY("target %s: PID %d is faultline itself", s->target_name,
		    (int)pid);
		return -EOPNOTSUPP;
	}
	if (pid_flags(pid) & PF_KTHREAD_FLAG) {
		WHY("target %s: PID %d is a kernel thread, which has no memory cgroup to squeeze",
		    s->target_name, (int)pid);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	if (s->expect == OOM_EXPECT_KILL && !read_str(path, buf, sizeof(buf)) &&
	    !strcmp(buf, "-1000")) {
		WHY("target %s: PID %d has oom_score_adj -1000, so the OOM killer never picks it: the squeeze would kill its neighbours or leave the cgroup stuck at its limit",
		    s->target_name, (int)pid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * v2: a new cgroup under root (a command's scratch cgroup, or cgroup:
 * scratch) has memory.max only when root's cgroup.subtree_control enables
 * the memory controller.  systemd enables it; a bare init leaves it off.
 */
static int v2_memory_enabled(const char *root, char *why, size_t len)
{
	char path[PATH_MAX], buf[256], *tok, *save = NULL;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	if (read_str(path, buf, sizeof(buf)))
		return 0;	/* unknown: apply will tell */
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, "memory"))
			return 0;
	WHY("the memory controller is not enabled for the cgroups under %s (its cgroup.subtree_control lacks memory), so a new cgroup there has no memory.max; enable it with: echo +memory > %s",
	    root, path);
	return -EOPNOTSUPP;
}

static int oom_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct oom_spec *s = f->priv;
	const struct fl_kernel *k = fl_kernel_get();
	char cg[PATH_MAX], self[PATH_MAX + 32], buf[64];
	struct stat st;
	int r;

	if (!s || !s->target)
		return -EINVAL;
	if (k->memory_mode == FL_CG_NONE) {
		WHY("no cgroup memory controller is mounted (CONFIG_MEMCG is off, or cgroup_disable=memory)");
		return -EOPNOTSUPP;
	}
	if (s->expect == OOM_EXPECT_PRESSURE && k->memory_mode != FL_CG_V2) {
		WHY("expect: pressure needs memory.high, which only cgroup v2 has; this host's memory controller is cgroup v1 at %s",
		    k->memory_root);
		return -EOPNOTSUPP;
	}
	if (s->target->kind == FL_TARGET_PID) {
		r = check_pid(s, s->target->pid, why, len);
		if (r)
			return r;
	}
	if (k->memory_mode == FL_CG_V2 &&
	    (s->target->kind == FL_TARGET_COMMAND ||
	     (s->target->kind == FL_TARGET_PID &&
	      s->cgroup == OOM_CG_SCRATCH))) {
		r = v2_memory_enabled(k->memory_root, why, len);
		if (r)
			return r;
	}
	if (s->target->kind == FL_TARGET_COMMAND)
		return 0;
	r = squeezed_cgroup(s, cg, sizeof(cg));
	if (r) {
		WHY("target %s: cannot find its memory cgroup: %s",
		    s->target_name, strerror(-r));
		return r;
	}
	if (s->cgroup == OOM_CG_OWN && !strcmp(cg, k->memory_root)) {
		WHY("target %s: %s is the root memory cgroup, which cannot be limited%s",
		    s->target_name, cg, s->target->kind == FL_TARGET_PID ?
		    "; use cgroup: scratch" : "");
		return -EOPNOTSUPP;
	}
	if (s->target->kind == FL_TARGET_CGROUP) {
		if (!is_under(cg, k->memory_root)) {
			WHY("target %s: %s is not in the memory hierarchy at %s",
			    s->target_name, cg, k->memory_root);
			return -EOPNOTSUPP;
		}
		if (stat(cg, &st) || !S_ISDIR(st.st_mode)) {
			WHY("target %s: cgroup %s does not exist", s->target_name,
			    cg);
			return -ENOENT;
		}
		snprintf(self, sizeof(self), "%s/cgroup.type", cg);
		if (k->memory_mode == FL_CG_V2 &&
		    !read_str(self, buf, sizeof(buf)) &&
		    strcmp(buf, "domain")) {
			WHY("target %s: %s is a %s cgroup; the memory controller needs a domain cgroup",
			    s->target_name, cg, buf);
			return -EOPNOTSUPP;
		}
	}
	if (s->cgroup == OOM_CG_OWN && !pid_memcg(getpid(), self, sizeof(self)) &&
	    is_under(self, cg)) {
		WHY("target %s: cgroup %s contains faultline itself", s->target_name,
		    cg);
		return -EOPNOTSUPP;
	}
	return 0;
}

#undef WHY

/* ------------------------------------------------------------------ */
/* describe                                                            */

static char *fmt_limit(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ULL << 62))
		snprintf(buf, len, "unlimited");
	else
		fl_fmt_size(v, buf, len);
	return buf;
}

static void add_obj(json_object *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_obj(json_object *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(a, json_object_new_string(buf));
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* "usage-16MiB", "64MiB", "usage, then -8MiB every 500ms" */
static void squeeze_str(const struct oom_spec *s, uint64_t usage,
			char *buf, size_t len)
{
	char a[32], b[32], c[32];

	switch (s->squeeze) {
	case OOM_SQ_BELOW_USAGE:
		if (usage != UINT64_MAX && usage > s->below)
			snprintf(buf, len, "usage-%s (now %s)",
				 fl_fmt_size(s->below, a, sizeof(a)),
				 fl_fmt_size(usage - s->below, b, sizeof(b)));
		else if (usage != UINT64_MAX)
			snprintf(buf, len, "usage-%s (usage is only %s now, so the limit would go to its floor)",
				 fl_fmt_size(s->below, a, sizeof(a)),
				 fl_fmt_size(usage, b, sizeof(b)));
		else
			snprintf(buf, len, "usage-%s",
				 fl_fmt_size(s->below, a, sizeof(a)));
		break;
	case OOM_SQ_TO:
		snprintf(buf, len, "%s", fl_fmt_size(s->to, a, sizeof(a)));
		break;
	case OOM_SQ_RAMP:
		snprintf(buf, len, "%s, then -%s every %s until the kill",
			 s->ramp_from_usage ? "usage" :
			 fl_fmt_size(s->ramp_from, a, sizeof(a)),
			 fl_fmt_size(s->ramp_step, b, sizeof(b)),
			 fl_fmt_duration(s->ramp_every_ns, c, sizeof(c)));
		break;
	}
}

static int oom_describe(const struct fl_fault *f, json_object *out)
{
	const struct oom_spec *s = f->priv;
	const struct fl_kernel *k = fl_kernel_get();
	bool v1 = k->memory_mode == FL_CG_V1;
	const char *limit_file, *swap_file;
	char cg[PATH_MAX], where[PATH_MAX + 64], path[PATH_MAX + 64];
	char why[2048], a[64], b[256], comm[32];
	uint64_t cur = UINT64_MAX, usage = UINT64_MAX, sw = UINT64_MAX;
	json_object *objs, *params, *sq;
	size_t off;

	if (!s || !s->target)
		return -EINVAL;
	if (s->expect == OOM_EXPECT_PRESSURE)
		limit_file = "memory.high";
	else
		limit_file = v1 ? "memory.limit_in_bytes" : "memory.max";
	swap_file = v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max";

	squeezed_cgroup(s, cg, sizeof(cg));
	if (s->cgroup == OOM_CG_SCRATCH) {
		/* A command's own scratch cgroup, or a new one for a pid. */
		snprintf(where, sizeof(where), "%s/faultline-<run>-%s",
			 k->memory_root[0] ? k->memory_root : "<memory root>",
			 s->target->kind == FL_TARGET_COMMAND ?
			 s->target->name : (f->name ? f->name : "oom"));
	} else if (cg[0]) {
		snprintf(where, sizeof(where), "%s", cg);
		snprintf(path, sizeof(path), "%s/%s", cg, limit_file);
		read_u64_file(path, &cur);
		snprintf(path, sizeof(path), "%s/%s", cg,
			 v1 ? "memory.usage_in_bytes" : "memory.current");
		read_u64_file(path, &usage);
		snprintf(path, sizeof(path), "%s/%s", cg, swap_file);
		read_u64_file(path, &sw);
	} else {
		snprintf(where, sizeof(where), "the cgroup faultline starts '%s' in",
			 s->target_name);
	}

	if (k->memory_mode == FL_CG_NONE)
		add_str(out, "mechanism", "none (no memory controller)");
	else if (s->expect == OOM_EXPECT_PRESSURE)
		add_str(out, "mechanism", v1 ?
			"memory.high (cgroup v2 only; not on this host)" :
			"cgroup v2 memory.high (throttle, never kill)");
	else
		add_str(out, "mechanism", v1 ?
			"cgroup v1 memory.limit_in_bytes squeeze (libcgroup)" :
			"cgroup v2 memory.max squeeze (libcgroup)");

	off = snprintf(why, sizeof(why), "the memory controller is %s%s%s",
		       v1 ? "cgroup v1 at " : k->memory_mode == FL_CG_V2 ?
		       "cgroup v2 at " : "not mounted",
		       k->memory_root, v1 && k->unified_root[0] ?
		       " (hybrid layout: v2 has no memory controller here)" : "");
	if (s->cgroup == OOM_CG_OWN)
		off += snprintf(why + off, sizeof(why) - off,
				"; own: the target's own cgroup, where its memory is already charged, so lowering the limit below usage makes the kernel reclaim and then kill");
	else
		off += snprintf(why + off, sizeof(why) - off,
				"; scratch: memory charges do not move with a process, so a process moved into a fresh cgroup starts near 0 there and an idle one will not OOM; scratch suits a command faultline starts inside it");
	if (s->expect == OOM_EXPECT_KILL && !s->swap && off < sizeof(why))
		off += snprintf(why + off, sizeof(why) - off,
				"; swap limit set to 0 first, so the kernel kills instead of swapping%s",
				v1 ? " (memsw is raised back before the limit at revert)" : "");
	if (s->expect == OOM_EXPECT_KILL && off < sizeof(why))
		snprintf(why + off, sizeof(why) - off,
			 "; a kill counts only when the victim died by SIGKILL (pidfd), the oom_kill counter rose (%s) and /dev/kmsg names its PID",
			 v1 ? "memory.oom_control through cgroup.event_control" :
			 "memory.events");
	add_str(out, "why", why);

	objs = json_object_new_array();
	if (s->cgroup == OOM_CG_SCRATCH) {
		add_obj(objs, "cgroup %s (created, removed at revert)", where);
		if (s->target->kind == FL_TARGET_PID)
			add_obj(objs, "PID %d with all its threads moved from %s to %s (moved back at revert)",
				(int)s->target->pid, cg[0] ? cg : "its cgroup",
				where);
		else if (s->target->kind == FL_TARGET_COMMAND)
			add_obj(objs, "command '%s' started inside %s",
				s->target_name, where);
	}
	if (s->expect == OOM_EXPECT_KILL && !s->swap)
		add_obj(objs, "%s of %s: %s -> %s", swap_file, where,
			fmt_limit(sw, a, sizeof(a)),
			v1 ? "the memory limit (no swap)" : "0");
	squeeze_str(s, usage, b, sizeof(b));
	add_obj(objs, "%s of %s: %s -> %s", limit_file, where,
		fmt_limit(cur, a, sizeof(a)), b);
	if (s->expect == OOM_EXPECT_KILL && v1)
		add_obj(objs, "eventfd on %s/memory.oom_control through cgroup.event_control",
			where);
	json_object_object_add(out, "objects", objs);

	params = json_object_new_object();
	if (s->target->kind == FL_TARGET_PID) {
		pid_comm(s->target->pid, comm, sizeof(comm));
		snprintf(b, sizeof(b), "%s (PID %d, %s)", s->target_name,
			 (int)s->target->pid, comm);
	} else {
		snprintf(b, sizeof(b), "%s (%s)", s->target_name,
			 s->target->kind == FL_TARGET_CGROUP ? "cgroup" :
			 "command");
	}
	add_str(params, "target", b);
	add_str(params, "cgroup", cgroup_names[s->cgroup]);
	sq = json_object_new_object();
	switch (s->squeeze) {
	case OOM_SQ_BELOW_USAGE:
		add_str(sq, "below-usage", fl_fmt_size(s->below, a, sizeof(a)));
		break;
	case OOM_SQ_TO:
		add_str(sq, "to", fl_fmt_size(s->to, a, sizeof(a)));
		break;
	case OOM_SQ_RAMP: {
		json_object *r = json_object_new_object();

		add_str(r, "from", s->ramp_from_usage ? "usage" :
			fl_fmt_size(s->ramp_from, a, sizeof(a)));
		add_str(r, "step", fl_fmt_size(s->ramp_step, a, sizeof(a)));
		add_str(r, "every",
			fl_fmt_duration(s->ramp_every_ns, a, sizeof(a)));
		json_object_object_add(sq, "ramp", r);
		break;
	}
	}
	json_object_object_add(params, "squeeze", sq);
	add_str(params, "swap", s->swap ? "on" : "off");
	add_str(params, "expect", expect_names[s->expect]);
	if (usage != UINT64_MAX)
		add_str(params, "usage-now", fl_fmt_size(usage, a, sizeof(a)));
	json_object_object_add(out, "params", params);
	return 0;
}

static int oom_resources(const struct fl_fault *f, json_object *out)
{
	const struct oom_spec *s = f->priv;
	char cg[PATH_MAX], buf[PATH_MAX + 16];

	if (!s)
		return -EINVAL;
	/* What is shared: the pid or the cgroup, not the target's name. */
	if (s->target && !fl_target_resource(s->target, buf, sizeof(buf)))
		json_object_array_add(out, json_object_new_string(buf));
	if (s->cgroup == OOM_CG_OWN && !squeezed_cgroup(s, cg, sizeof(cg)) &&
	    cg[0]) {
		snprintf(buf, sizeof(buf), "cgroup:%s", cg);
		json_object_array_add(out, json_object_new_string(buf));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* apply, revert, observe                                              */
/*
 * apply resolves the cgroup, refuses what check refuses (things may have
 * changed since), saves the undo record, makes the scratch cgroup and
 * moves the target when asked, sets the swap limit to 0, opens the
 * witnesses (a pidfd on the victim, /dev/kmsg at its end, the v1 eventfd
 * or the v2 inotify watch) and writes the first limit with a short
 * timeout.  A watcher thread then carries on without blocking the
 * runner: it ramps, re-asserts the limit, notices the death and collects
 * the proof.  revert stops it, restores the limits in order and moves
 * survivors back; observe reads what it found.
 */

#define OOM_FLOOR		(1ULL << 20)	/* the lowest limit written */
#define OOM_PAGE		4096ULL
#define OOM_FIRST_WRITE_MS	300
#define OOM_WRITE_MS		2000
#define OOM_ENFORCE_NS		(250 * NSEC_PER_MSEC)
#define OOM_MAX_PIDS		64
#define OOM_MAX_KILLS		32

#ifndef PIDFD_GET_INFO
struct oom_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_GET_INFO		_IOWR(0xFF, 11, struct oom_pidfd_info)
#define PIDFD_INFO_EXIT		(1ULL << 3)
#endif

struct oom_kill {
	pid_t pid;
	char comm[32];
	uint64_t rss;			/* anon + file + shmem, bytes */
	uint64_t usage;			/* the cgroup's usage at the kill */
	char line[200];
};

struct oom_rt {
	const struct fl_fault *f;
	const struct oom_spec *s;
	char path[PATH_MAX];
	char usage_file[32];
	const char *limit_file;
	bool v1, memsw, pressure;
	pid_t owner;

	pthread_mutex_t lock;
	pthread_t th;
	bool th_started;
	atomic_bool stop;		/* release: the watcher ends */
	int stopfd, kmsgfd, evfd, ctlfd, inofd;

	/* The squeeze. */
	uint64_t goal;			/* where the limit should be */
	uint64_t limit;			/* what is written (UINT64_MAX: none) */
	uint64_t t_start, next_write, next_step;
	bool timed_out;
	int writes;
	char err[200];

	/* Witnesses. */
	size_t npid;
	pid_t pids[OOM_MAX_PIDS];
	int pidfds[OOM_MAX_PIDS];
	uint64_t t_dead[OOM_MAX_PIDS];	/* 0: alive */
	int status[OOM_MAX_PIDS];	/* wait status, -1 unknown */
	const char *status_from[OOM_MAX_PIDS];
	uint64_t usage_dead[OOM_MAX_PIDS];
	uint64_t oom_kill0, oom_kill, high0, high;
	uint64_t oom_events;		/* v1 eventfd notifications */
	uint64_t peak;
	const char *peak_file;
	uint64_t last_usage_kb;
	/* The last "oom-kill:" lines: whose kill each was (kills in other
	 * cgroups may interleave their lines with ours). */
	struct {
		int pid;
		bool ours;
	} oomline[8];
	unsigned int noomline;
	struct oom_kill kills[OOM_MAX_KILLS];
	size_t nkills;
	bool kmsg_ok;

	/*
	 * Someone else's writes: the files faultline writes, and what the
	 * kernel reported right after faultline's last write to each.  A
	 * value that differs later is someone else's: the squeeze stops and
	 * revert leaves it.  The main thread (live, revert) keeps the undo
	 * record up to date with them through u.
	 */
	int nw;
	const char *wfile[2];
	char seen[2][32];
	bool foreign;
	int ffile;			/* which wfile */
	char found[32];
	struct fl_undo u;
	json_object *state;
	char saved_seen[2][32];
	bool saved_foreign;
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The unreclaimable part of the cgroup: anon plus kernel memory. */
static uint64_t oom_base(const struct oom_rt *rt)
{
	uint64_t anon = 0, kern = 0, v = 0, usage = 0;

	cg_read_u64(rt->path, rt->usage_file, &usage);
	if (rt->v1) {
		cg_read_key(rt->path, "memory.stat", "rss", &anon);
		cg_read_u64(rt->path, "memory.kmem.usage_in_bytes", &kern);
	} else {
		cg_read_key(rt->path, "memory.stat", "anon", &anon);
		if (cg_read_key(rt->path, "memory.stat", "kernel", &kern)) {
			kern = 0;
			if (!cg_read_key(rt->path, "memory.stat", "kernel_stack", &v))
				kern += v;
			if (!cg_read_key(rt->path, "memory.stat", "slab", &v))
				kern += v;
			if (!cg_read_key(rt->path, "memory.stat", "percpu", &v))
				kern += v;
		}
	}
	if (kern == UINT64_MAX)
		kern = 0;
	if (!anon && !kern)
		return usage;
	return anon + kern < usage || !usage ? anon + kern : usage;
}

static uint64_t oom_goal_start(struct oom_rt *rt)
{
	const struct oom_spec *s = rt->s;
	uint64_t base, usage = 0;

	switch (s->squeeze) {
	case OOM_SQ_BELOW_USAGE:
		base = oom_base(rt);
		return base > s->below + OOM_FLOOR ? base - s->below : OOM_FLOOR;
	case OOM_SQ_TO:
		return s->to;
	case OOM_SQ_RAMP:
		if (!s->ramp_from_usage)
			return s->ramp_from;
		cg_read_u64(rt->path, rt->usage_file, &usage);
		return usage > OOM_FLOOR ? usage : OOM_FLOOR;
	}
	return OOM_FLOOR;
}

static uint64_t round_page(uint64_t v)
{
	return (v + OOM_PAGE - 1) & ~(OOM_PAGE - 1);
}

static void oom_set_err(struct oom_rt *rt, const char *what, int r)
{
	pthread_mutex_lock(&rt->lock);
	snprintf(rt->err, sizeof(rt->err), "%s: %s", what, strerror(-r));
	pthread_mutex_unlock(&rt->lock);
}

/* What the kernel reports for the files we write, after our write. */
static void oom_readback(struct oom_rt *rt)
{
	char v[32];
	int i;

	for (i = 0; i < rt->nw; i++) {
		if (cg_read(rt->path, rt->wfile[i], v, sizeof(v)))
			continue;
		pthread_mutex_lock(&rt->lock);
		snprintf(rt->seen[i], sizeof(rt->seen[i]), "%s", v);
		pthread_mutex_unlock(&rt->lock);
	}
}

/*
 * Has someone else written one of our files since our last write?  The
 * kernel does not change a limit by itself, so any other value is theirs.
 */
static bool oom_foreign_check(struct oom_rt *rt)
{
	char v[32];
	int i;

	for (i = 0; i < rt->nw && !rt->foreign; i++) {
		if (!rt->seen[i][0] || cg_read(rt->path, rt->wfile[i], v,
					       sizeof(v)))
			continue;
		if (!strcmp(v, rt->seen[i]))
			continue;
		pthread_mutex_lock(&rt->lock);
		rt->foreign = true;
		rt->ffile = i;
		snprintf(rt->found, sizeof(rt->found), "%s", v);
		snprintf(rt->err, sizeof(rt->err),
			 "%s is now %s, not the %s faultline wrote: someone else changed it; squeeze stopped",
			 rt->wfile[i], v, rt->seen[i]);
		pthread_mutex_unlock(&rt->lock);
	}
	return rt->foreign;
}

/* v1 keeps memsw >= limit: lower the limit first, then memsw to it. */
static int oom_write_limit(struct oom_rt *rt, uint64_t v, unsigned int ms)
{
	int r = cg_write_u64(rt->path, rt->limit_file, v, ms);

	rt->writes++;
	if (!r || (r == -ETIMEDOUT && !rt->v1)) {
		/* v2 sets memory.max before reclaiming: it holds. */
		rt->limit = v;
		if (rt->v1 && rt->memsw && !rt->s->swap && !rt->pressure)
			cg_write_u64(rt->path, "memory.memsw.limit_in_bytes",
				     v, ms);
	}
	oom_readback(rt);
	return r;
}

/*
 * One step of the squeeze.  v2: writing memory.max below usage reclaims
 * and then OOM-kills in the writer's context.  v1 refuses a limit below
 * what it cannot reclaim (EBUSY): set the limit just above usage, so the
 * target's own next charges trip the OOM killer, and keep lowering.
 */
static int oom_enforce(struct oom_rt *rt, unsigned int ms)
{
	uint64_t usage = 0, alt;
	int r;

	if (rt->limit == rt->goal && (rt->v1 || !rt->timed_out))
		return 0;
	r = oom_write_limit(rt, rt->goal, ms);
	rt->timed_out = r == -ETIMEDOUT;
	if (!r || (r == -ETIMEDOUT && !rt->v1))
		return 0;
	if (!rt->v1 || (r != -EBUSY && r != -ETIMEDOUT && r != -EINTR))
		return r;
	if (cg_read_u64(rt->path, rt->usage_file, &usage))
		return r;
	alt = round_page(usage) + 16 * OOM_PAGE;
	if (alt < rt->limit || rt->limit == UINT64_MAX) {
		r = oom_write_limit(rt, alt, ms);
		if (r && r != -EBUSY && r != -ETIMEDOUT && r != -EINTR)
			return r;
	}
	return 0;
}

static void oom_exit_status(struct oom_rt *rt, size_t i)
{
	struct oom_pidfd_info info = { .mask = PIDFD_INFO_EXIT };
	char path[64], buf[1024], *p, *save = NULL;
	siginfo_t si = { 0 };
	bool zombie;
	int k;

	if (rt->status[i] >= 0)
		return;
	/* 6.15+: the exit status, kept by pidfs even after the reap. */
	if (!ioctl(rt->pidfds[i], PIDFD_GET_INFO, &info) &&
	    (info.mask & PIDFD_INFO_EXIT)) {
		rt->status[i] = info.exit_code;
		rt->status_from[i] = "pidfd";
		return;
	}
	/* A child of ours (a command target) not yet reaped. */
	if (!waitid(P_PIDFD, rt->pidfds[i], &si, WEXITED | WNOWAIT | WNOHANG) &&
	    si.si_pid == rt->pids[i]) {
		rt->status[i] = si.si_code == CLD_EXITED ? si.si_status << 8 :
				si.si_status;
		rt->status_from[i] = "waitid";
		return;
	}
	/* A zombie: field 52 of /proc/PID/stat is its wait status. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)rt->pids[i]);
	if (read_str(path, buf, sizeof(buf)))
		return;
	p = strrchr(buf, ')');
	if (!p)
		return;
	zombie = p[2] == 'Z';
	/*
	 * do_exit() sets exit_code before it frees the memory, so an OOM
	 * victim shows its status while it exits, and as a zombie.
	 */
	for (k = 3, p = strtok_r(p + 1, " ", &save); p;
	     p = strtok_r(NULL, " ", &save), k++)
		if (k == 52 && (zombie || atoi(p))) {
			rt->status[i] = atoi(p);
			rt->status_from[i] = "proc-stat";
			return;
		}
}

/*
 * The kernel log named pids[i] as killed: on kernels without
 * PIDFD_INFO_EXIT, catch its exit status while it frees its memory,
 * before a parent that reaps at once takes the zombie away.
 */
static void oom_catch_status(struct oom_rt *rt)
{
	size_t i, k;
	int n;

	for (i = 0; i < rt->npid; i++) {
		bool named = false;

		for (k = 0; k < rt->nkills; k++)
			named |= rt->kills[k].pid == rt->pids[i];
		if (!named || rt->status[i] >= 0)
			continue;
		for (n = 0; n < 2000 && rt->status[i] < 0; n++) {
			oom_exit_status(rt, i);
			if (rt->status[i] >= 0 || kill(rt->pids[i], 0))
				break;
			usleep(1000);
		}
		if (rt->status[i] < 0)
			oom_exit_status(rt, i);
	}
}

static void oom_read_counters(struct oom_rt *rt)
{
	uint64_t v;

	if (!cg_read_key(rt->path, rt->v1 ? "memory.oom_control" :
			 "memory.events", "oom_kill", &v))
		rt->oom_kill = v;
	if (!rt->v1 && !cg_read_key(rt->path, "memory.events", "high", &v))
		rt->high = v;
	if (rt->peak_file && !cg_read_u64(rt->path, rt->peak_file, &v))
		rt->peak = v;
}

/*
 * Before each OOM kill the kernel names the cgroup whose limit was hit and
 * the task: "oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/a/b,
 * task_memcg=/a/b/c,task=hog,pid=123,uid=0".  A global OOM names no
 * oom_memcg.  Note for each pid whether this fault answers for the kill:
 * a global OOM (it may be ours), or one in the squeezed cgroup or below;
 * not a kill in a cgroup outside it (another workload at its own limit).
 */
static void oom_note_line(struct oom_rt *rt, const char *line)
{
	const char *root = fl_kernel_get()->memory_root;
	const char *rel = rt->path, *m, *p;
	unsigned int slot;
	size_t n;
	bool ours = true;

	p = strstr(line, ",pid=");
	if (!p)
		return;
	m = strstr(line, ",oom_memcg=");
	if (m) {
		m += strlen(",oom_memcg=");
		if (!strncmp(rel, root, strlen(root)))
			rel += strlen(root);
		n = strlen(rel);
		ours = n <= 1 || (!strncmp(m, rel, n) &&
				  (m[n] == ',' || m[n] == '/'));
	}
	slot = rt->noomline++ % ARRAY_SIZE(rt->oomline);
	rt->oomline[slot].pid = atoi(p + strlen(",pid="));
	rt->oomline[slot].ours = ours;
}

static bool oom_kill_ours(const struct oom_rt *rt, int pid)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < rt->npid; i++)
		if (rt->pids[i] == pid)
			return true;
	for (i = 0; i < ARRAY_SIZE(rt->oomline); i++)
		if (rt->oomline[i].pid == pid)
			return rt->oomline[i].ours;
	/*
	 * The kernel rate-limits its OOM report, "oom-kill:" line and all,
	 * but not "Killed process": then the squeezed cgroup's own count
	 * (raised before the line is printed) says whether a kill of ours
	 * is still unaccounted for.
	 */
	if (cg_read_key(rt->path, rt->v1 ? "memory.oom_control" :
			"memory.events", "oom_kill", &v))
		return true;
	return v - rt->oom_kill0 > rt->nkills;
}

static void oom_kmsg_line(struct oom_rt *rt, const char *msg)
{
	struct oom_kill *k;
	unsigned long long a = 0, b = 0, c = 0, u;
	const char *p;
	int pid;

	if ((p = strstr(msg, "memory: usage ")) &&
	    sscanf(p, "memory: usage %llukB", &u) == 1) {
		rt->last_usage_kb = u;
		return;
	}
	if ((p = strstr(msg, "oom-kill:"))) {
		oom_note_line(rt, p);
		return;
	}
	p = strstr(msg, "Killed process ");
	if (!p || rt->nkills >= OOM_MAX_KILLS)
		return;
	k = &rt->kills[rt->nkills];
	memset(k, 0, sizeof(*k));
	if (sscanf(p, "Killed process %d (%31[^)])", &pid, k->comm) < 1)
		return;
	/* Another cgroup's own OOM, which this squeeze did not cause. */
	if (!oom_kill_ours(rt, pid))
		return;
	k->pid = pid;
	if ((p = strstr(msg, "anon-rss:")))
		sscanf(p, "anon-rss:%llukB, file-rss:%llukB, shmem-rss:%llukB",
		       &a, &b, &c);
	k->rss = (a + b + c) * 1024;
	k->usage = rt->last_usage_kb * 1024;
	snprintf(k->line, sizeof(k->line), "%s", msg);
	rt->nkills++;
}

static void oom_read_kmsg(struct oom_rt *rt)
{
	char rec[2048], *msg;
	ssize_t n;

	if (rt->kmsgfd < 0)
		return;
	for (;;) {
		n = read(rt->kmsgfd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg[strcspn(msg, "\n")] = 0;
		pthread_mutex_lock(&rt->lock);
		oom_kmsg_line(rt, msg + 1);
		pthread_mutex_unlock(&rt->lock);
	}
}

static bool oom_all_dead(const struct oom_rt *rt)
{
	size_t i;

	for (i = 0; i < rt->npid; i++)
		if (!rt->t_dead[i])
			return false;
	return rt->npid > 0;
}

/* Is the victim dead (pid and command targets: the target itself)? */
static bool oom_victim_dead(const struct oom_rt *rt)
{
	size_t i, k;

	if (rt->s->target->kind != FL_TARGET_CGROUP)
		return rt->npid && rt->t_dead[0];
	for (i = 0; i < rt->npid; i++)
		for (k = 0; k < rt->nkills; k++)
			if (rt->t_dead[i] && rt->kills[k].pid == rt->pids[i])
				return true;
	return oom_all_dead(rt);
}

static void *oom_watch(void *arg)
{
	struct oom_rt *rt = arg;
	const struct oom_spec *s = rt->s;
	struct pollfd pfd[OOM_MAX_PIDS + 4];
	sigset_t all;
	size_t i, n;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load(&rt->stop)) {
		uint64_t now = fl_now_ns(), usage = 0;
		bool dead = oom_victim_dead(rt);

		/*
		 * The squeeze: ramp, then (re)assert the limit; never over
		 * someone else's value.
		 */
		if ((!dead || rt->pressure) && !oom_foreign_check(rt)) {
			if (s->squeeze == OOM_SQ_RAMP && now >= rt->next_step) {
				rt->goal = rt->goal > s->ramp_step + OOM_FLOOR ?
					   rt->goal - s->ramp_step : OOM_FLOOR;
				rt->next_step = now + s->ramp_every_ns;
			}
			if (now >= rt->next_write) {
				r = oom_enforce(rt, OOM_WRITE_MS);
				if (r)
					oom_set_err(rt, rt->limit_file, r);
				rt->next_write = fl_now_ns() + OOM_ENFORCE_NS;
			}
		}

		n = 0;
		pfd[n++] = (struct pollfd){ .fd = rt->stopfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rt->kmsgfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rt->v1 ? rt->evfd : rt->inofd,
					    .events = POLLIN };
		for (i = 0; i < rt->npid; i++)
			pfd[n++] = (struct pollfd){
				.fd = rt->t_dead[i] ? -1 : rt->pidfds[i],
				.events = POLLIN };
		if (poll(pfd, n, 100) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents || atomic_load(&rt->stop))
			break;
		oom_read_kmsg(rt);
		if (pfd[2].revents & POLLIN) {
			char buf[4096];
			uint64_t cnt;

			if (rt->v1 && read(rt->evfd, &cnt, sizeof(cnt)) ==
			    sizeof(cnt))
				rt->oom_events += cnt;
			else if (!rt->v1)
				while (read(rt->inofd, buf, sizeof(buf)) > 0)
					;
		}
		now = fl_now_ns();
		pthread_mutex_lock(&rt->lock);
		oom_catch_status(rt);
		for (i = 0; i < rt->npid; i++) {
			if (!rt->t_dead[i] && (pfd[3 + i].revents & POLLIN)) {
				rt->t_dead[i] = now;
				if (!cg_read_u64(rt->path, rt->usage_file, &usage))
					rt->usage_dead[i] = usage;
			}
			if (rt->t_dead[i])
				oom_exit_status(rt, i);
		}
		oom_read_counters(rt);
		pthread_mutex_unlock(&rt->lock);
	}
	return NULL;
}

/*
 * Stop and join the watcher: from then on nothing of ours writes.  The
 * stop flag, then a wake-up on stopfd; without stopfd the watcher sees
 * the flag within one poll interval.
 */
static void oom_rt_stop(struct oom_rt *rt)
{
	uint64_t one = 1;

	if (!rt->th_started)
		return;
	atomic_store(&rt->stop, true);
	if (rt->stopfd >= 0 && write(rt->stopfd, &one, sizeof(one)) < 0)
		one = 0;	/* the flag alone: seen within one poll */
	pthread_join(rt->th, NULL);
	rt->th_started = false;
}

static void oom_rt_free(struct oom_rt *rt)
{
	size_t i;

	if (!rt)
		return;
	oom_rt_stop(rt);
	for (i = 0; i < rt->npid; i++)
		if (rt->pidfds[i] >= 0)
			close(rt->pidfds[i]);
	if (rt->stopfd >= 0)
		close(rt->stopfd);
	if (rt->kmsgfd >= 0)
		close(rt->kmsgfd);
	if (rt->evfd >= 0)
		close(rt->evfd);
	if (rt->ctlfd >= 0)
		close(rt->ctlfd);
	if (rt->inofd >= 0)
		close(rt->inofd);
	json_object_put(rt->state);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

/* Warn when systemd manages the cgroup and has not delegated it. */
static void oom_systemd_warn(const struct oom_rt *rt)
{
	char dir[PATH_MAX], *p, *unit = NULL;
	bool delegated = false;

	snprintf(dir, sizeof(dir), "%s", rt->path);
	for (p = strrchr(dir, '/'); p && p > dir; p = strrchr(dir, '/')) {
		size_t n = strlen(p);

		if (!unit && ((n > 8 && !strcmp(p + n - 8, ".service")) ||
			      (n > 6 && !strcmp(p + n - 6, ".scope"))))
			unit = strdup(p + 1);
		if (getxattr(dir, "trusted.delegate", NULL, 0) >= 0 ||
		    getxattr(dir, "user.delegate", NULL, 0) >= 0)
			delegated = true;
		*p = 0;
	}
	if (unit && !delegated)
		fl_warn("fault %s: %s is managed by systemd (%s) and not delegated (no Delegate=yes): systemd may rewrite its memory limits while the squeeze is on",
			rt->f->name, rt->path, unit);
	free(unit);
}

/* The state revert works from: what to write back, in order. */
static void add_restore(json_object *a, const char *dir, const char *file)
{
	char val[64];
	json_object *o;

	if (cg_read(dir, file, val, sizeof(val)) || !val[0])
		return;
	o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "value", json_object_new_string(val));
	json_object_array_add(a, o);
}

/*
 * Keep the undo record up to date (main thread only: apply, live): what
 * the kernel reported after faultline's last write to each file it
 * writes ("wrote"), and someone else's value once the watcher found one
 * ("foreign").  revert from the record alone (the guardian, recover)
 * tells its own leftovers from someone else's with them.
 */
static void oom_record(struct oom_rt *rt)
{
	json_object *wrote, *fo;
	bool changed = false;
	int i;

	if (!rt->state || !rt->u.j)
		return;
	pthread_mutex_lock(&rt->lock);
	for (i = 0; i < rt->nw; i++)
		changed |= strcmp(rt->seen[i], rt->saved_seen[i]) != 0;
	changed |= rt->foreign != rt->saved_foreign;
	if (!changed) {
		pthread_mutex_unlock(&rt->lock);
		return;
	}
	wrote = json_object_new_object();
	for (i = 0; i < rt->nw; i++) {
		if (rt->seen[i][0])
			json_object_object_add(wrote, rt->wfile[i],
				json_object_new_string(rt->seen[i]));
		memcpy(rt->saved_seen[i], rt->seen[i], sizeof(rt->seen[i]));
	}
	json_object_object_add(rt->state, "wrote", wrote);
	if (rt->foreign) {
		fo = json_object_new_object();
		add_str(fo, "file", rt->wfile[rt->ffile]);
		add_str(fo, "wrote", rt->seen[rt->ffile]);
		add_str(fo, "found", rt->found);
		json_object_object_add(rt->state, "foreign", fo);
	}
	rt->saved_foreign = rt->foreign;
	pthread_mutex_unlock(&rt->lock);
	fl_undo_save(&rt->u, rt->state);
}

static int oom_apply(const struct fl_fault *f, struct fl_undo *u, void **rtp)
{
	const struct oom_spec *s = f->priv;
	const struct fl_kernel *k = fl_kernel_get();
	struct fl_target *t = s ? s->target : NULL;
	char why[1024], from[PATH_MAX] = "", self[PATH_MAX + 64], buf[64];
	json_object *state = NULL, *restore, *sc;
	struct fl_where w;
	struct oom_rt *rt;
	pid_t *procs = NULL;
	size_t nprocs = 0, i;
	int r, fd;

	if (!t)
		return -EINVAL;
	why[0] = 0;
	r = oom_check(f, why, sizeof(why));
	if (r) {
		fl_undo_why(u, "%s", why);
		return r;
	}
	cg_init();

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	pthread_mutex_init(&rt->lock, NULL);
	rt->f = f;
	rt->s = s;
	rt->owner = getpid();
	rt->stopfd = rt->kmsgfd = rt->evfd = rt->ctlfd = rt->inofd = -1;
	rt->v1 = k->memory_mode == FL_CG_V1;
	rt->pressure = s->expect == OOM_EXPECT_PRESSURE;
	rt->limit = UINT64_MAX;
	rt->limit_file = rt->pressure ? "memory.high" : rt->v1 ?
			 "memory.limit_in_bytes" : "memory.max";
	snprintf(rt->usage_file, sizeof(rt->usage_file), "%s",
		 rt->v1 ? "memory.usage_in_bytes" : "memory.current");
	for (i = 0; i < OOM_MAX_PIDS; i++) {
		rt->pidfds[i] = -1;
		rt->status[i] = -1;
	}

	/* Which cgroup: where core says the target is now. */
	r = fl_target_where(t, &w, why, sizeof(why));
	switch (t->kind) {
	case FL_TARGET_COMMAND:
		if (r || !w.memory[0] || !w.pid) {
			fl_undo_why(u, "target %s: the command has no scratch memory cgroup to squeeze",
				    t->name);
			r = -EOPNOTSUPP;
			goto err;
		}
		snprintf(rt->path, sizeof(rt->path), "%s", w.memory);
		break;
	case FL_TARGET_CGROUP:
		if (r)
			goto err;
		snprintf(rt->path, sizeof(rt->path), "%s", w.memory);
		break;
	case FL_TARGET_PID:
		if (!r && !w.memory[0])
			r = -ENOENT;
		if (r) {
			fl_undo_why(u, "target %s: cannot find the memory cgroup of PID %d: %s",
				    t->name, (int)t->pid, strerror(-r));
			goto err;
		}
		snprintf(from, sizeof(from), "%s", w.memory);
		strip_slashes(from);
		if (s->cgroup == OOM_CG_OWN)
			snprintf(rt->path, sizeof(rt->path), "%s", from);
		else
			snprintf(rt->path, sizeof(rt->path), "%s/faultline-%s-%s",
				 k->memory_root, fl_journal_id(u->j), f->name);
		break;
	}
	strip_slashes(rt->path);
	if (!strcmp(rt->path, k->memory_root)) {
		fl_undo_why(u, "target %s: %s is the root memory cgroup, which cannot be limited",
			    t->name, rt->path);
		r = -EOPNOTSUPP;
		goto err;
	}
	if (!(t->kind == FL_TARGET_PID && s->cgroup == OOM_CG_SCRATCH)) {
		if (!pid_memcg(getpid(), self, sizeof(self)) &&
		    is_under(self, rt->path)) {
			fl_undo_why(u, "target %s: cgroup %s contains faultline itself",
				    t->name, rt->path);
			r = -EOPNOTSUPP;
			goto err;
		}
		if (!rt->v1 && !cg_read(rt->path, "cgroup.type", buf,
					sizeof(buf)) && strcmp(buf, "domain")) {
			fl_undo_why(u, "target %s: %s is a %s cgroup; the memory controller needs a domain cgroup",
				    t->name, rt->path, buf);
			r = -EOPNOTSUPP;
			goto err;
		}
		oom_systemd_warn(rt);
	}

	/* The undo record, before anything changes. */
	state = json_object_new_object();
	json_object_object_add(state, "mode",
			       json_object_new_string(rt->v1 ? "v1" : "v2"));
	json_object_object_add(state, "path", json_object_new_string(rt->path));
	restore = json_object_new_array();
	if (rt->v1) {
		snprintf(self, sizeof(self), "%s/memory.memsw.limit_in_bytes",
			 t->kind == FL_TARGET_PID && s->cgroup == OOM_CG_SCRATCH ?
			 k->memory_root : rt->path);
		rt->memsw = !access(self, F_OK);
	}
	if (t->kind == FL_TARGET_PID && s->cgroup == OOM_CG_SCRATCH) {
		/* A new cgroup: nothing to restore but the folder itself. */
		sc = json_object_new_object();
		json_object_object_add(sc, "path",
				       json_object_new_string(rt->path));
		json_object_object_add(sc, "from", json_object_new_string(from));
		json_object_object_add(sc, "pid", json_object_new_int(t->pid));
		json_object_object_add(state, "scratch", sc);
	} else if (rt->v1) {
		/* Raise memsw before the memory limit. */
		if (rt->memsw)
			add_restore(restore, rt->path,
				    "memory.memsw.limit_in_bytes");
		add_restore(restore, rt->path, "memory.limit_in_bytes");
	} else {
		add_restore(restore, rt->path, "memory.max");
		add_restore(restore, rt->path, "memory.swap.max");
		add_restore(restore, rt->path, "memory.high");
	}
	json_object_object_add(state, "restore", restore);
	r = fl_undo_save(u, state);
	if (r)
		goto err;
	rt->u.j = u->j;
	rt->u.f = u->f;
	rt->u.seq = u->seq;
	rt->state = json_object_get(state);
	rt->wfile[rt->nw++] = rt->limit_file;
	if (!rt->pressure && !s->swap && rt->v1 && rt->memsw)
		rt->wfile[rt->nw++] = "memory.memsw.limit_in_bytes";
	else if (!rt->pressure && !s->swap && !rt->v1)
		rt->wfile[rt->nw++] = "memory.swap.max";

	if (t->kind == FL_TARGET_PID && s->cgroup == OOM_CG_SCRATCH) {
		r = cg_create(rt->path);
		if (!r)
			r = cg_move_procs(rt->path, t->pid);
		if (r) {
			fl_undo_why(u, "cannot move PID %d into %s: %s",
				    (int)t->pid, rt->path, strerror(-r));
			goto err;
		}
	}

	/* The witnesses. */
	rt->stopfd = eventfd(0, EFD_CLOEXEC);
	rt->kmsgfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rt->kmsgfd >= 0)
		lseek(rt->kmsgfd, 0, SEEK_END);
	rt->kmsg_ok = rt->kmsgfd >= 0;
	if (rt->v1) {
		rt->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		snprintf(self, sizeof(self), "%s/memory.oom_control", rt->path);
		rt->ctlfd = open(self, O_RDONLY | O_CLOEXEC);
		if (rt->evfd >= 0 && rt->ctlfd >= 0) {
			snprintf(buf, sizeof(buf), "%d %d", rt->evfd, rt->ctlfd);
			snprintf(self, sizeof(self), "%s/cgroup.event_control",
				 rt->path);
			fd = open(self, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, buf, strlen(buf)) < 0)
					fl_warn("fault %s: cgroup.event_control: %s",
						f->name, strerror(errno));
				close(fd);
			}
		}
		rt->peak_file = "memory.max_usage_in_bytes";
	} else {
		rt->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		snprintf(self, sizeof(self), "%s/memory.events", rt->path);
		if (rt->inofd >= 0)
			inotify_add_watch(rt->inofd, self, IN_MODIFY);
		snprintf(self, sizeof(self), "%s/memory.peak", rt->path);
		if (!access(self, F_OK))
			rt->peak_file = "memory.peak";
	}
	if (t->kind == FL_TARGET_CGROUP) {
		cg_procs(rt->path, &procs, &nprocs);
		for (i = 0; i < nprocs && rt->npid < OOM_MAX_PIDS; i++)
			rt->pids[rt->npid++] = procs[i];
		free(procs);
	} else {
		rt->pids[rt->npid++] = t->pid;
	}
	for (i = 0; i < rt->npid; i++)
		rt->pidfds[i] = pidfd_open_(rt->pids[i]);
	if (t->kind != FL_TARGET_CGROUP && rt->pidfds[0] < 0) {
		fl_undo_why(u, "target %s: PID %d is gone", t->name,
			    (int)t->pid);
		r = -ESRCH;
		goto err;
	}
	cg_read_key(rt->path, rt->v1 ? "memory.oom_control" : "memory.events",
		    "oom_kill", &rt->oom_kill0);
	rt->oom_kill = rt->oom_kill0;
	if (!rt->v1) {
		cg_read_key(rt->path, "memory.events", "high", &rt->high0);
		rt->high = rt->high0;
	}

	/* Swap off first, so the kernel kills instead of swapping. */
	if (!rt->pressure && !s->swap && !rt->v1) {
		r = cg_write(rt->path, "memory.swap.max", "0", OOM_WRITE_MS);
		if (r && r != -ENOENT) {
			fl_undo_why(u, "memory.swap.max of %s: %s", rt->path,
				    strerror(-r));
			goto err;
		}
	}
	rt->goal = oom_goal_start(rt);
	rt->t_start = fl_now_ns();
	rt->next_step = rt->t_start + (s->squeeze == OOM_SQ_RAMP ?
				       s->ramp_every_ns : 0);
	r = oom_enforce(rt, OOM_FIRST_WRITE_MS);
	if (r) {
		fl_undo_why(u, "%s of %s: %s", rt->limit_file, rt->path,
			    strerror(-r));
		goto err;
	}
	oom_readback(rt);
	oom_record(rt);
	rt->next_write = fl_now_ns() + OOM_ENFORCE_NS;
	r = -pthread_create(&rt->th, NULL, oom_watch, rt);
	if (r)
		goto err;
	rt->th_started = true;
	json_object_put(state);
	*rtp = rt;
	return 0;
err:
	json_object_put(state);
	oom_rt_free(rt);
	return r;
}

/* Move what is left in a scratch cgroup back, then remove it. */
static int oom_scratch_undo(json_object *sc)
{
	const char *path = NULL, *from = NULL;
	const char *root = fl_kernel_get()->memory_root;
	json_object *v;
	pid_t *procs = NULL;
	size_t n = 0, i;
	int r, ret = 0;

	if (json_object_object_get_ex(sc, "path", &v))
		path = json_object_get_string(v);
	if (json_object_object_get_ex(sc, "from", &v))
		from = json_object_get_string(v);
	if (!path || !strstr(path, "/faultline-"))
		return -EINVAL;
	if (access(path, F_OK))
		return 0;
	if (!from || access(from, F_OK))
		from = root;
	r = cg_procs(path, &procs, &n);
	if (r && r != -ENOENT)
		return r;
	for (i = 0; i < n; i++) {
		r = cg_move_procs(from, procs[i]);
		if (r && r != -ESRCH && !ret)
			ret = r;
	}
	free(procs);
	r = cg_remove(path);
	return ret ? ret : r;
}

/* Someone else's value in a file faultline wrote. */
struct oom_theirs {
	const char *file;
	char wrote[32], found[32];
};

#define OOM_MAX_THEIRS	2

static int parse_limit_str(const char *v, uint64_t *out)
{
	char *end;

	if (!strcmp(v, "max")) {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || end == v || *end ? -EINVAL : 0;
}

/* The value the undo record saved for file, or NULL. */
static const char *saved_value(json_object *restore, const char *file)
{
	size_t i, n = restore ? json_object_array_length(restore) : 0;
	json_object *v;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(restore, i);

		if (json_object_object_get_ex(o, "file", &v) &&
		    !strcmp(json_object_get_string(v), file) &&
		    json_object_object_get_ex(o, "value", &v))
			return json_object_get_string(v);
	}
	return NULL;
}

/*
 * From the record alone (the guardian, recover): a file faultline wrote
 * holds someone else's value when it is neither what was saved nor one of
 * ours.  faultline's writes only ever go down, so a value at or below the
 * last one recorded is a later write of ours; the one the watcher found
 * ("foreign") stays theirs until the saved value is back.
 */
static size_t oom_theirs_json(json_object *state, const char *path,
			      json_object *restore, struct oom_theirs *th)
{
	json_object *wrote, *fo, *v;
	const char *ffile = NULL, *fwrote = NULL;
	size_t n = 0;

	if (!json_object_object_get_ex(state, "wrote", &wrote) ||
	    !json_object_is_type(wrote, json_type_object))
		return 0;
	if (json_object_object_get_ex(state, "foreign", &fo)) {
		if (json_object_object_get_ex(fo, "file", &v))
			ffile = json_object_get_string(v);
		if (json_object_object_get_ex(fo, "wrote", &v))
			fwrote = json_object_get_string(v);
	}
	json_object_object_foreach(wrote, file, val) {
		const char *w = json_object_get_string(val);
		const char *orig = saved_value(restore, file);
		uint64_t cu, wu;
		char cur[32];
		bool ours;

		if (n >= OOM_MAX_THEIRS || !w || strchr(file, '/') ||
		    cg_read(path, file, cur, sizeof(cur)))
			continue;
		if (orig && !strcmp(cur, orig))
			continue;	/* back to what was saved */
		if (ffile && !strcmp(ffile, file)) {
			ours = false;
			if (fwrote)
				w = fwrote;
		} else {
			ours = !strcmp(cur, w) ||
			       (!parse_limit_str(cur, &cu) &&
				!parse_limit_str(w, &wu) && cu <= wu);
		}
		if (ours)
			continue;
		th[n].file = file;
		snprintf(th[n].wrote, sizeof(th[n].wrote), "%s", w);
		snprintf(th[n].found, sizeof(th[n].found), "%s", cur);
		n++;
	}
	return n;
}

static bool is_theirs(const struct oom_theirs *th, size_t n, const char *file)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(th[i].file, file))
			return true;
	return false;
}

static int oom_revert(json_object *state)
{
	struct oom_theirs th[OOM_MAX_THEIRS];
	json_object *restore = NULL, *sc, *v;
	const char *path = NULL;
	size_t i, n, nth = 0;
	int ret = 0, r, pass;
	bool *done, own;

	if (json_object_object_get_ex(state, "path", &v))
		path = json_object_get_string(v);
	if (!path)
		return -EINVAL;
	cg_init();
	json_object_object_get_ex(state, "restore", &restore);
	nth = oom_theirs_json(state, path, restore, th);
	/* Removed under us (its processes gone): nothing to restore. */
	if (access(path, F_OK) && errno == ENOENT) {
		fl_warn("oom: cgroup %s was removed during the drill; nothing to restore there",
			path);
		nth = 0;
	}
	/*
	 * Someone else's limit: never write over it.  In a scratch cgroup
	 * (faultline's own, removed at the end) that is all; in theirs the
	 * record stays until the saved value is back.
	 */
	own = strstr(path, "/faultline-") != NULL;
	for (i = 0; i < nth; i++) {
		if (own)
			fl_warn("oom: cgroup %s: %s is now %s, not the %s faultline wrote: someone else changed it during the drill; the squeeze stopped there (the cgroup is faultline's own scratch cgroup, removed at the end)",
				path, th[i].file, th[i].found, th[i].wrote);
		else
			fl_err("oom: cgroup %s: %s is now %s, not the %s faultline wrote: someone else changed it during the drill; leaving theirs in place (the undo record stays: 'faultline recover' finishes once %s is back to %s, or remove the record to keep theirs)",
			       path, th[i].file, th[i].found, th[i].wrote,
			       th[i].file, saved_value(restore, th[i].file) ?
			       saved_value(restore, th[i].file) : "its saved value");
	}
	if (own)
		nth = 0;

	if (restore && (n = json_object_array_length(restore))) {
		done = calloc(n, sizeof(*done));
		if (!done)
			return -ENOMEM;
		/*
		 * In the saved order (v1: memsw before the limit); a write the
		 * kernel refuses for ordering is tried again after the others.
		 */
		for (pass = 0; pass < 2; pass++) {
			ret = 0;
			for (i = 0; i < n; i++) {
				json_object *o = json_object_array_get_idx(restore, i);
				const char *file = NULL, *val = NULL;

				if (done[i])
					continue;
				if (json_object_object_get_ex(o, "file", &v))
					file = json_object_get_string(v);
				if (json_object_object_get_ex(o, "value", &v))
					val = json_object_get_string(v);
				if (!file || !val || !strchr(file, '.') ||
				    strchr(file, '/') || is_theirs(th, nth, file))
					continue;
				r = cg_write(path, file, val, 5000);
				if (r == -ENOENT)
					r = 0;	/* the cgroup is gone */
				done[i] = !r;
				if (r && !ret)
					ret = r;
			}
			if (!ret)
				break;
		}
		free(done);
	}
	if (json_object_object_get_ex(state, "scratch", &sc)) {
		r = oom_scratch_undo(sc);
		if (r && !ret)
			ret = r;
	}
	if (nth && !ret)
		ret = -EBUSY;
	return ret;
}

static const char *sig_str(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "unknown");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "%s", WTERMSIG(status) == SIGKILL ?
			 "SIGKILL" : strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	return buf;
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/*
 * The victim (rt->lock held): the target, or the first of a cgroup's
 * processes the kernel log names as killed, once dead.  *kill is its
 * kernel log line, or NULL.
 */
static bool oom_victim(const struct oom_rt *rt, size_t *vi,
		       const struct oom_kill **kill)
{
	bool found = false;
	size_t i, k;

	*kill = NULL;
	for (i = 0; i < rt->npid && !found; i++) {
		if (!rt->t_dead[i])
			continue;
		if (rt->s->target->kind != FL_TARGET_CGROUP) {
			found = i == 0;
		} else {
			for (k = 0; k < rt->nkills; k++)
				found |= rt->kills[k].pid == rt->pids[i];
		}
		if (found)
			*vi = i;
	}
	if (!found)
		return false;
	for (k = 0; k < rt->nkills; k++)
		if (rt->kills[k].pid == rt->pids[*vi])
			*kill = &rt->kills[k];
	return true;
}

/* The victim's kill is proven by all three signs (rt->lock held). */
static bool oom_proven(const struct oom_rt *rt, size_t vi,
		       const struct oom_kill *kill)
{
	int st = rt->status[vi];

	return kill && st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
	       rt->oom_kill > rt->oom_kill0;
}

/*
 * Live: the squeeze's state, "limit 120.0 MiB (goal 8.0 MiB), 1 OOM kill,
 * 1 of 1 watched process dead"; run shows it when it changes.  Once the
 * watcher has proven the kill (SIGKILL, the counter, the kernel log), the
 * victim too: "victim": { "pid", "comm" }, which the live view puts on
 * the fault's row while it is still active.
 */
static int oom_live(void *handle, json_object *out)
{
	struct oom_rt *rt = handle;
	char lim[32], goal[32], sum[300];
	const struct oom_kill *kill;
	uint64_t kills;
	size_t i, vi, dead = 0;

	if (!rt)
		return -ENOENT;
	oom_record(rt);
	pthread_mutex_lock(&rt->lock);
	oom_read_counters(rt);
	kills = rt->oom_kill - rt->oom_kill0;
	for (i = 0; i < rt->npid; i++)
		if (rt->t_dead[i])
			dead++;
	if (rt->limit != UINT64_MAX)
		add_u64(out, "limit", rt->limit);
	add_u64(out, "goal", rt->goal);
	add_u64(out, "oom_kills", kills);
	add_u64(out, "dead", dead);
	if (oom_victim(rt, &vi, &kill) && oom_proven(rt, vi, kill)) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid",
				       json_object_new_int(rt->pids[vi]));
		add_str(o, "comm", kill->comm);
		json_object_object_add(out, "victim", o);
	}
	snprintf(sum, sizeof(sum), "limit %s (goal %s), %llu OOM kill%s, %zu of %zu watched process%s dead",
		 rt->limit == UINT64_MAX ? "none" :
		 fl_fmt_size(rt->limit, lim, sizeof(lim)),
		 fl_fmt_size(rt->goal, goal, sizeof(goal)),
		 (unsigned long long)kills, kills == 1 ? "" : "s", dead,
		 rt->npid, rt->npid == 1 ? "" : "es");
	if (rt->foreign) {
		size_t o = strlen(sum);

		snprintf(sum + o, sizeof(sum) - o, "; squeeze stopped: %s changed by someone else",
			 rt->wfile[rt->ffile]);
		json_object_object_add(out, "foreign", json_object_new_boolean(true));
	}
	add_str(out, "summary", sum);
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

static int oom_observe(void *handle, json_object *out)
{
	struct oom_rt *rt = handle;
	const struct oom_kill *kill = NULL;
	json_object *proof, *coll, *o;
	char buf[64];
	size_t k, vi = 0;
	bool sigkill = false, counter, named = false, found = false;

	if (!rt)
		return -ENOENT;
	/*
	 * The fault's observation ends here, just before revert: stop the
	 * watcher, look once more for someone else's value, and leave the
	 * record with the last of what faultline wrote, so that revert
	 * from the record alone tells ours from theirs.
	 */
	oom_rt_stop(rt);
	oom_foreign_check(rt);
	oom_record(rt);
	pthread_mutex_lock(&rt->lock);
	oom_read_counters(rt);
	add_str(out, "cgroup", rt->path);
	add_str(out, "limit_file", rt->limit_file);
	if (rt->limit != UINT64_MAX)
		add_u64(out, "limit", rt->limit);
	add_u64(out, "goal", rt->goal);
	json_object_object_add(out, "writes", json_object_new_int(rt->writes));
	if (rt->err[0])
		add_str(out, "error", rt->err);
	if (rt->pressure) {
		add_u64(out, "high_events_before", rt->high0);
		add_u64(out, "high_events_after", rt->high);
	}
	add_u64(out, "oom_kill_before", rt->oom_kill0);
	add_u64(out, "oom_kill_after", rt->oom_kill);
	if (rt->v1)
		add_u64(out, "oom_eventfd_notifications", rt->oom_events);

	found = oom_victim(rt, &vi, &kill);
	if (found) {
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(rt->pids[vi]));
		add_str(o, "comm", kill ? kill->comm : "?");
		add_str(o, "signal", sig_str(rt->status[vi], buf, sizeof(buf)));
		if (rt->status_from[vi])
			add_str(o, "status_from", rt->status_from[vi]);
		json_object_object_add(out, "victim", o);
		sigkill = rt->status[vi] >= 0 && WIFSIGNALED(rt->status[vi]) &&
			  WTERMSIG(rt->status[vi]) == SIGKILL;
		named = kill != NULL;
		add_u64(out, "squeeze_to_kill_ms",
			(rt->t_dead[vi] - rt->t_start) / NSEC_PER_MSEC);
		if (kill && kill->usage)
			add_u64(out, "memory_at_kill", kill->usage);
		else if (rt->usage_dead[vi])
			add_u64(out, "memory_at_kill", rt->usage_dead[vi]);
		if (kill)
			add_u64(out, "victim_rss_at_kill", kill->rss);
		if (kill)
			add_str(out, "kmsg", kill->line);
	} else {
		json_object_object_add(out, "victim", NULL);
	}
	if (rt->peak_file) {
		add_u64(out, "peak", rt->peak);
		add_str(out, "peak_file", rt->peak_file);
	}
	counter = rt->oom_kill > rt->oom_kill0;
	proof = json_object_new_object();
	json_object_object_add(proof, "sigkill", json_object_new_boolean(sigkill));
	json_object_object_add(proof, "oom_kill_counter",
			       json_object_new_boolean(counter));
	json_object_object_add(proof, "kmsg", json_object_new_boolean(named));
	if (!rt->kmsg_ok)
		add_str(proof, "kmsg_error", "cannot read /dev/kmsg");
	json_object_object_add(out, "proof", proof);
	json_object_object_add(out, "proven", json_object_new_boolean(
				       found && sigkill && counter && named));
	coll = json_object_new_array();
	for (k = 0; k < rt->nkills; k++) {
		if (found && rt->kills[k].pid == rt->pids[vi])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid",
				       json_object_new_int(rt->kills[k].pid));
		add_str(o, "comm", rt->kills[k].comm);
		json_object_array_add(coll, o);
	}
	json_object_object_add(out, "collateral_kills",
			       json_object_new_int((int)json_object_array_length(coll)));
	json_object_object_add(out, "collateral", coll);
	/* What the file expected: the runner's verdict reads this. */
	if (rt->pressure)
		fl_expectation(out, rt->high > rt->high0 && !rt->nkills,
			       rt->nkills ? "expect: pressure, but the kernel "
			       "killed a process" : rt->high > rt->high0 ?
			       "memory.high throttled the target" :
			       "memory.events high did not rise");
	else
		fl_expectation(out, found && sigkill && counter && named,
			       found && sigkill && counter && named ?
			       "a kernel OOM kill, proven by all three signs" :
			       "no proven kernel OOM kill of the target (see "
			       "proof)");
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

static void oom_release(void *handle)
{
	oom_rt_free(handle);
}

const struct fl_engine oom_engine = {
	.name = "oom",
	.summary = "squeeze a target's memory cgroup until the kernel OOM-kills it",
	.parse = oom_parse,
	.spec_free = oom_spec_free,
	.check = oom_check,
	.describe = oom_describe,
	.resources = oom_resources,
	.apply = oom_apply,
	.live = oom_live,
	.observe = oom_observe,
	.revert = oom_revert,
	.release = oom_release,
};
