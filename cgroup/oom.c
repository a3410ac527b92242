// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault: squeeze a target's memory cgroup until the kernel's OOM
 * killer takes it (or, with expect: pressure, throttle it through
 * memory.high).
 *
 * This file holds the fault's schema (parse), what this machine allows
 * (check) and the plan (describe).  Apply lands with issue #5.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/memcg.h"
#include "cgroup/oom_spec.h"

#define PF_KTHREAD_FLAG	0x00200000U

static const char *const oom_keys[] = {
	"target", "cgroup", "squeeze", "swap", "expect", NULL,
};
static const char *const squeeze_keys[] = {
	"below-usage", "to", "ramp", NULL,
};
static const char *const ramp_keys[] = { "from", "step", "every", NULL };
static const char *const cgroup_names[] = { "own", "scratch", NULL };
static const char *const expect_names[] = { "kill", "pressure", NULL };

static void oom_spec_free(struct oom_spec *s)
{
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

static int oom_parse(struct fl_experiment *exp, struct fl_fault *f,
		     const struct fl_node *spec, struct fl_diag *d)
{
	const struct fl_node *v, *cg = NULL;
	struct oom_spec *s;
	int err = 0, idx;

	if (fl_map_check(spec, oom_keys, "oom", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

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

	if (err) {
		oom_spec_free(s);
		return err;
	}
	f->priv = s;
	return 0;
}

static void oom_free(struct fl_fault *f)
{
	oom_spec_free(f->priv);
	f->priv = NULL;
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

/* The memory cgroup folder of a process. */
static int pid_memcg(pid_t pid, char *out, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	char path[64], line[1024], *ctl, *cg;
	int ret = -ENOENT;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = 0;
		ctl = strchr(line, ':');
		if (!ctl)
			continue;
		cg = strchr(++ctl, ':');
		if (!cg)
			continue;
		*cg++ = 0;
		if (k->memory_mode == FL_CG_V2 ? *ctl != 0 :
		    !strstr(ctl, "memory"))
			continue;
		if (k->memory_mode == FL_CG_V1) {
			char *t, *save = NULL;
			bool found = false;

			for (t = strtok_r(ctl, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				found |= !strcmp(t, "memory");
			if (!found)
				continue;
		}
		snprintf(out, len, "%s%s", k->memory_root,
			 strcmp(cg, "/") ? cg : "");
		ret = 0;
		break;
	}
	fclose(fp);
	return ret;
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

/* The memory cgroup the fault squeezes: "" when known only at run time. */
static int squeezed_cgroup(const struct oom_spec *s, char *out, size_t len)
{
	out[0] = 0;
	if (!s->target)
		return -EINVAL;
	switch (s->target->kind) {
	case FL_TARGET_CGROUP:
		return fl_target_cgroup_path(s->target, fl_kernel_get()->memory_root,
					     out, len);
	case FL_TARGET_PID:
		return pid_memcg(s->target->pid, out, len);
	case FL_TARGET_COMMAND:
		return 0;
	}
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
	snprintf(buf, sizeof(buf), "target:%s", s->target_name);
	json_object_array_add(out, json_object_new_string(buf));
	if (s->cgroup == OOM_CG_OWN && !squeezed_cgroup(s, cg, sizeof(cg)) &&
	    cg[0]) {
		snprintf(buf, sizeof(buf), "cgroup:%s", cg);
		json_object_array_add(out, json_object_new_string(buf));
	}
	return 0;
}

static int oom_apply(struct fl_fault *f, struct fl_undo *u)
{
	/* apply lands with issue #5 */
	free(f->detail);
	f->detail = strdup("the oom engine's apply is not in this build yet");
	return -EOPNOTSUPP;
}

static int oom_revert(json_object *state)
{
	/* apply lands with issue #5: nothing was ever applied. */
	return 0;
}

const struct fl_engine oom_engine = {
	.name = "oom",
	.summary = "squeeze a target's memory cgroup until the kernel OOM-kills it",
	.parse = oom_parse,
	.free = oom_free,
	.check = oom_check,
	.apply = oom_apply,
	.revert = oom_revert,
	.describe = oom_describe,
	.resources = oom_resources,
};
