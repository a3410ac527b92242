// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault's plan: what this machine allows (check), what run would
 * do (describe) and what two runs must not share (resources).  Nothing
 * here writes: it reads the target's cgroup as it is now.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/oom.h"

#define PF_KTHREAD_FLAG	0x00200000U

/* ------------------------------------------------------------------ */
/* Where the memory cgroup is.                                         */

int oom_read_str(const char *path, char *buf, size_t len)
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

	if (oom_read_str(path, buf, sizeof(buf)))
		return -ENOENT;
	if (!strcmp(buf, "max")) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(buf, &end, 10);
	return *end ? -EINVAL : 0;
}

/* The memory cgroup folder of a process, through core's one reader. */
int oom_pid_memcg(pid_t pid, char *out, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	char rel[PATH_MAX];
	int r;

	r = fl_proc_cgroup(pid, "memory", rel, sizeof(rel));
	if (r)
		return r;
	if ((size_t)snprintf(out, len, "%s%s", k->memory_root,
			     strcmp(rel, "/") ? rel : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* A folder without its trailing slashes. */
void oom_strip_slashes(char *path)
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
	if (oom_read_str(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) != 1)
		return 0;
	return flags;
}

/*
 * The memory cgroup of the target now (core resolves it): "" for a
 * command, known only once run has started it.  A cgroup target outside
 * the memory hierarchy has none there: its folder as written then, so
 * that check can say where it is.
 */
static int squeezed_cgroup(const struct oom_spec *s, char *out, size_t len)
{
	const struct fl_target *t = s->target;
	struct fl_where w;
	char why[256];
	int r;

	out[0] = 0;
	if (!t)
		return -EINVAL;
	if (t->kind == FL_TARGET_COMMAND)
		return 0;
	r = fl_target_where(t, &w, why, sizeof(why));
	if (t->kind == FL_TARGET_CGROUP && (r || !w.memory[0]))
		r = fl_target_cgroup_path(t, fl_kernel_get()->memory_root,
					  w.memory, sizeof(w.memory));
	if (!r && !w.memory[0])
		r = -ENOENT;
	if (r)
		return r;
	snprintf(out, len, "%s", w.memory);
	oom_strip_slashes(out);
	return 0;
}

bool oom_is_under(const char *path, const char *dir)
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
	if (s->expect == OOM_EXPECT_KILL && !oom_read_str(path, buf, sizeof(buf)) &&
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
	if (oom_read_str(path, buf, sizeof(buf)))
		return 0;	/* unknown: apply will tell */
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, "memory"))
			return 0;
	WHY("the memory controller is not enabled for the cgroups under %s (its cgroup.subtree_control lacks memory), so a new cgroup there has no memory.max; enable it with: echo +memory > %s",
	    root, path);
	return -EOPNOTSUPP;
}

int oom_check(const struct fl_fault *f, char *why, size_t len)
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
		if (!oom_is_under(cg, k->memory_root)) {
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
		    !oom_read_str(self, buf, sizeof(buf)) &&
		    strcmp(buf, "domain")) {
			WHY("target %s: %s is a %s cgroup; the memory controller needs a domain cgroup",
			    s->target_name, cg, buf);
			return -EOPNOTSUPP;
		}
	}
	if (s->cgroup == OOM_CG_OWN && !oom_pid_memcg(getpid(), self, sizeof(self)) &&
	    oom_is_under(self, cg)) {
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

void oom_add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
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

/* The squeezed cgroup as the plan shows it, and its values now. */
struct oom_plan_cg {
	bool v1;
	const char *limit_file, *swap_file;
	char cg[PATH_MAX];		/* "" when known only at run time */
	char where[PATH_MAX + 64];	/* for people */
	uint64_t cur, usage, sw;	/* UINT64_MAX: unknown */
};

static void plan_cg(const struct fl_fault *f, struct oom_plan_cg *pc)
{
	const struct oom_spec *s = f->priv;
	const struct fl_kernel *k = fl_kernel_get();
	char path[PATH_MAX + 64];

	pc->v1 = k->memory_mode == FL_CG_V1;
	if (s->expect == OOM_EXPECT_PRESSURE)
		pc->limit_file = "memory.high";
	else
		pc->limit_file = pc->v1 ? "memory.limit_in_bytes" : "memory.max";
	pc->swap_file = pc->v1 ? "memory.memsw.limit_in_bytes" :
		       "memory.swap.max";
	pc->cur = pc->usage = pc->sw = UINT64_MAX;

	squeezed_cgroup(s, pc->cg, sizeof(pc->cg));
	if (s->cgroup == OOM_CG_SCRATCH) {
		/* A command's own scratch cgroup, or a new one for a pid. */
		snprintf(pc->where, sizeof(pc->where), "%s/faultline-<run>-%s",
			 k->memory_root[0] ? k->memory_root : "<memory root>",
			 s->target->kind == FL_TARGET_COMMAND ?
			 s->target->name : (f->name ? f->name : "oom"));
	} else if (pc->cg[0]) {
		snprintf(pc->where, sizeof(pc->where), "%s", pc->cg);
		snprintf(path, sizeof(path), "%s/%s", pc->cg, pc->limit_file);
		read_u64_file(path, &pc->cur);
		snprintf(path, sizeof(path), "%s/%s", pc->cg,
			 pc->v1 ? "memory.usage_in_bytes" : "memory.current");
		read_u64_file(path, &pc->usage);
		snprintf(path, sizeof(path), "%s/%s", pc->cg, pc->swap_file);
		read_u64_file(path, &pc->sw);
	} else {
		snprintf(pc->where, sizeof(pc->where),
			 "the cgroup faultline starts '%s' in", s->target_name);
	}
}

/* How the victim's SIGKILL will be seen. */
static void describe_capture(char *buf, size_t len)
{
	char how[256];

	if (oom_capture_plan(how, sizeof(how)))
		snprintf(buf, len, "; the SIGKILL is captured as the victim exits (%s), before any parent can reap it",
			 how);
	else
		snprintf(buf, len, "; the SIGKILL is read from the victim's pidfd (kernel 6.15 and later) or its zombie, which a parent that reaps at once can take away first (no exit capture: %s)",
			 how);
}

static void describe_why(const struct oom_spec *s, bool v1, json_object *out)
{
	const struct fl_kernel *k = fl_kernel_get();
	char why[2048];
	size_t off;

	if (k->memory_mode == FL_CG_NONE)
		fl_json_add_str(out, "mechanism", "none (no memory controller)");
	else if (s->expect == OOM_EXPECT_PRESSURE)
		fl_json_add_str(out, "mechanism", v1 ?
				"memory.high (cgroup v2 only; not on this host)" :
				"cgroup v2 memory.high (throttle, never kill)");
	else
		fl_json_add_str(out, "mechanism", v1 ?
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
		off += snprintf(why + off, sizeof(why) - off,
				"; a kill counts only when the victim died by SIGKILL, the oom_kill counter rose (%s) and /dev/kmsg names its PID",
				v1 ? "memory.oom_control through cgroup.event_control" :
				"memory.events");
	if (s->expect == OOM_EXPECT_KILL && off < sizeof(why))
		describe_capture(why + off, sizeof(why) - off);
	fl_json_add_str(out, "why", why);
}

static void describe_objects(const struct oom_spec *s,
			     const struct oom_plan_cg *pc, json_object *out)
{
	json_object *objs = json_object_new_array();
	char a[64], b[256];

	if (s->cgroup == OOM_CG_SCRATCH) {
		fl_json_addf(objs, "cgroup %s (created, removed at revert)",
			pc->where);
		if (s->target->kind == FL_TARGET_PID)
			fl_json_addf(objs, "PID %d with all its threads moved from %s to %s (moved back at revert)",
				(int)s->target->pid,
				pc->cg[0] ? pc->cg : "its cgroup", pc->where);
		else if (s->target->kind == FL_TARGET_COMMAND)
			fl_json_addf(objs, "command '%s' started inside %s",
				s->target_name, pc->where);
	}
	if (s->expect == OOM_EXPECT_KILL && !s->swap)
		fl_json_addf(objs, "%s of %s: %s -> %s", pc->swap_file, pc->where,
			fmt_limit(pc->sw, a, sizeof(a)),
			pc->v1 ? "the memory limit (no swap)" : "0");
	squeeze_str(s, pc->usage, b, sizeof(b));
	fl_json_addf(objs, "%s of %s: %s -> %s", pc->limit_file, pc->where,
		fmt_limit(pc->cur, a, sizeof(a)), b);
	if (s->expect == OOM_EXPECT_KILL && pc->v1)
		fl_json_addf(objs, "eventfd on %s/memory.oom_control through cgroup.event_control",
			pc->where);
	if (s->expect == OOM_EXPECT_KILL && oom_capture_plan(a, sizeof(a)))
		fl_json_addf(objs, "BPF program ew_exit on tp_btf/sched_process_exit (the exit capture, detached at revert)");
	json_object_object_add(out, "objects", objs);
}

static json_object *describe_squeeze(const struct oom_spec *s)
{
	json_object *sq = json_object_new_object(), *r;
	char a[64];

	switch (s->squeeze) {
	case OOM_SQ_BELOW_USAGE:
		fl_json_add_str(sq, "below-usage",
				fl_fmt_size(s->below, a, sizeof(a)));
		break;
	case OOM_SQ_TO:
		fl_json_add_str(sq, "to", fl_fmt_size(s->to, a, sizeof(a)));
		break;
	case OOM_SQ_RAMP:
		r = json_object_new_object();
		fl_json_add_str(r, "from",
				s->ramp_from_usage ? "usage" :
				fl_fmt_size(s->ramp_from, a, sizeof(a)));
		fl_json_add_str(r, "step",
				fl_fmt_size(s->ramp_step, a, sizeof(a)));
		fl_json_add_str(r, "every",
				fl_fmt_duration(s->ramp_every_ns, a, sizeof(a)));
		json_object_object_add(sq, "ramp", r);
		break;
	}
	return sq;
}

static void describe_params(const struct oom_spec *s, uint64_t usage,
			    json_object *out)
{
	json_object *params = json_object_new_object();
	char a[64], b[256], comm[32];

	if (s->target->kind == FL_TARGET_PID) {
		fl_pid_comm(s->target->pid, comm, sizeof(comm));
		snprintf(b, sizeof(b), "%s (PID %d, %s)", s->target_name,
			 (int)s->target->pid, comm);
	} else {
		snprintf(b, sizeof(b), "%s (%s)", s->target_name,
			 s->target->kind == FL_TARGET_CGROUP ? "cgroup" :
			 "command");
	}
	fl_json_add_str(params, "target", b);
	fl_json_add_str(params, "cgroup", oom_cgroup_names[s->cgroup]);
	json_object_object_add(params, "squeeze", describe_squeeze(s));
	fl_json_add_str(params, "swap", s->swap ? "on" : "off");
	fl_json_add_str(params, "expect", oom_expect_names[s->expect]);
	if (usage != UINT64_MAX)
		fl_json_add_str(params, "usage-now",
				fl_fmt_size(usage, a, sizeof(a)));
	json_object_object_add(out, "params", params);
}

int oom_describe(const struct fl_fault *f, json_object *out)
{
	const struct oom_spec *s = f->priv;
	struct oom_plan_cg pc;

	if (!s || !s->target)
		return -EINVAL;
	plan_cg(f, &pc);
	describe_why(s, pc.v1, out);
	describe_objects(s, &pc, out);
	describe_params(s, pc.usage, out);
	return 0;
}

int oom_resources(const struct fl_fault *f, json_object *out)
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

