// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's plan for people (describe): the kernel objects, the
 * routes in use with their calls, why (what each route can do on this
 * kernel, what is refused, who is matched), the parameters; and the
 * resources it locks.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "bpf/syscall.h"

static const char *const route_names[] = {
	[SC_NONE] = "none",
	[SC_FMOD_SYSCALL] = "fmod_ret on the syscall entry",
	[SC_KPROBE] = "kprobe with bpf_override_return",
	[SC_LSM] = "BPF LSM",
	[SC_FMOD_SECURITY] = "fmod_ret on security_* hooks",
	[SC_CGROUP] = "cgroup sock_addr hooks with bpf_set_retval",
	[SC_SECCOMP] = "seccomp user notification",
};

static char *fmt_pct(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%g%%", v);
	return buf;
}

static json_object *syscall_params(const struct syscall_spec *s)
{
	json_object *p = json_object_new_object(), *a, *o;
	char buf[256];
	size_t i;

	snprintf(buf, sizeof(buf), "%s (%s)", s->target_name,
		 s->target->kind == FL_TARGET_PID ? "pid" :
		 s->target->kind == FL_TARGET_CGROUP ? "cgroup" : "command");
	fl_json_add_str(p, "target", buf);
	json_object_object_add(p, "follow-forks",
			       json_object_new_boolean(s->follow_forks));
	a = json_object_new_array();
	for (i = 0; i < s->ncalls; i++)
		json_object_array_add(a,
				      json_object_new_string(s->calls[i].name));
	json_object_object_add(p, "calls", a);
	if (s->nerrnos == 1) {
		fl_json_add_str(p, "errno", fl_errno_name(s->errnos[0]));
	} else {
		o = json_object_new_object();
		for (i = 0; i < s->nerrnos; i++)
			fl_json_add_str(o, fl_errno_name(s->errnos[i]),
					fmt_pct(s->weights[i], buf, sizeof(buf)));
		json_object_object_add(p, "errno", o);
	}
	fl_json_add_str(p, "probability",
			fmt_pct(s->probability, buf, sizeof(buf)));
	if (s->has_when) {
		o = json_object_new_object();
		json_object_object_add(o, "after",
				       json_object_new_uint64(s->after));
		json_object_object_add(o, "every",
				       json_object_new_uint64(s->every));
		if (s->times)
			json_object_object_add(o, "times",
					       json_object_new_uint64(s->times));
		json_object_object_add(p, "when", o);
	}
	if (s->path)
		fl_json_add_str(p, "path", s->path);
	if (s->has_peer) {
		o = json_object_new_object();
		if (s->nports) {
			a = json_object_new_array();
			for (i = 0; i < s->nports; i++)
				json_object_array_add(a,
					json_object_new_int(s->ports[i]));
			json_object_object_add(o, "ports", a);
		}
		if (s->nto) {
			a = json_object_new_array();
			for (i = 0; i < s->nto; i++) {
				fl_cidr_str(&s->to[i], buf, sizeof(buf));
				json_object_array_add(a,
					json_object_new_string(buf));
			}
			json_object_object_add(o, "to", a);
		}
		json_object_object_add(p, "peer", o);
	}
	return p;
}

/* Route 4's filter, with its calls. */
static void seccomp_object(const struct syscall_spec *s,
			   const struct sc_plan *p, json_object *objs)
{
	char calls[512];
	size_t i, off = 0;

	calls[0] = 0;
	for (i = 0; i < s->ncalls; i++)
		if (p->route[i] == SC_SECCOMP)
			APPEND(calls, sizeof(calls), off, "%s%s",
			       off ? " " : "", s->calls[i].name);
	if (!off)
		return;
	fl_json_addf(objs, "seccomp filter installed by '%s' before exec, inherited by its children: SECCOMP_RET_USER_NOTIF for %s, answered by faultline (the runner, then the guardian): continue outside the fault's window",
		     s->target_name, calls);
	fl_json_add_uniq(objs, "switch file seccomp-<fault>.window in the run's journal folder (the window: revert removes it)");
}

/* The kernel objects the plan creates. */
static json_object *describe_objects(const struct syscall_spec *s,
				     const struct sc_plan *p, const char *cg)
{
	json_object *objs = json_object_new_array();
	char buf[PATH_MAX + 256];
	size_t i;

	for (i = 0; i < s->ncalls; i++) {
		const char *name = s->calls[i].name;

		switch (p->route[i]) {
		case SC_FMOD_SYSCALL:
			snprintf(buf, sizeof(buf), "BPF program fmod_ret/__x64_sys_%s",
				 name);
			break;
		case SC_KPROBE:
			snprintf(buf, sizeof(buf), "BPF program kprobe/__x64_sys_%s (bpf_override_return)",
				 name);
			break;
		case SC_LSM:
			snprintf(buf, sizeof(buf), "BPF program lsm/%s",
				 sc_lsm_hook(name));
			break;
		case SC_FMOD_SECURITY:
			snprintf(buf, sizeof(buf), "BPF program fmod_ret/security_%s",
				 sc_lsm_hook(name));
			break;
		case SC_CGROUP:
			snprintf(buf, sizeof(buf), "BPF programs cgroup/%s attached to %s%s",
				 sc_cgroup_hook(name), cg,
				 sc_cgroup_scoped(s) ? "" :
				 " (they match the target's thread-group ids)");
			break;
		case SC_SECCOMP:
			continue;	/* one filter for them all, below */
		case SC_NONE:
			continue;
		}
		fl_json_add_uniq(objs, buf);
	}
	seccomp_object(s, p, objs);
	for (i = 0; i < s->ncalls; i++)
		if (p->route[i] != SC_NONE && p->route[i] != SC_SECCOMP)
			break;
	if (i == s->ncalls)
		return objs;	/* route 4 alone: no BPF */
	if (s->follow_forks && !sc_cgroup_scoped(s) && p->forks_ok)
		fl_json_add_uniq(objs, p->fork_prog == FL_BPF_TP_BTF ?
				 "BPF program tp_btf/sched_process_fork (children join the target)" :
				 "BPF program raw_tp/sched_process_fork (children join the target)");
	if (!sc_cgroup_scoped(s)) {
		snprintf(buf, sizeof(buf), "BPF map fl_targets (hash of thread-group ids, seeded with PID %d)",
			 (int)s->target->pid);
		fl_json_add_uniq(objs, buf);
	}
	fl_json_add_uniq(objs, "BPF settings in .rodata (calls, errno weights, probability, when, path and peer filters)");
	if (s->has_when)
		fl_json_add_uniq(objs, "BPF map fl_counts (when counters, per thread and call)");
	fl_json_add_uniq(objs, "BPF ring buffer fl_events (one event per injection)");
	return objs;
}

/* The routes in use, with their calls. */
static void describe_mechanism(const struct syscall_spec *s,
			       const struct sc_plan *p, json_object *out)
{
	char buf[PATH_MAX + 256], calls[512];
	size_t j, off = 0, coff;
	int r;

	buf[0] = 0;
	for (r = SC_FMOD_SYSCALL; r <= SC_SECCOMP; r++) {
		coff = 0;
		calls[0] = 0;
		for (j = 0; j < s->ncalls && coff < sizeof(calls); j++)
			if (p->route[j] == (enum sc_route)r)
				coff += snprintf(calls + coff, sizeof(calls) - coff,
						 "%s%s", coff ? " " : "",
						 s->calls[j].name);
		if (calls[0] && off < sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - off,
					"%s%s (%s)", off ? "; " : "",
					route_names[r], calls);
	}
	fl_json_add_str(out, "mechanism", buf[0] ? buf : "none");
}

/* "yes", or what the probe said. */
static const char *feat_word(const struct sc_plan *p, enum fl_bpf_feature f)
{
	return sc_feat(p, f) ? "yes" : p->why[f];
}

/* Each route once, a line each: what it can do on this kernel. */
static size_t why_routes(const struct syscall_spec *s,
			 const struct sc_plan *p, char *why, size_t len)
{
	size_t off = 0;

	APPEND(why, len, off, "routes tried per call, in order:\n1. syscall entry: fmod_ret: %s; kprobe override: %s\n2. LSM hook: BPF LSM: %s; fmod_ret on security_*: %s\n3. cgroup sock_addr hooks: %s\n4. seccomp user notification, for command targets only: ",
	       feat_word(p, FL_BPF_FMOD_RET_SYSCALL),
	       feat_word(p, FL_BPF_KPROBE_OVERRIDE),
	       feat_word(p, FL_BPF_LSM),
	       feat_word(p, FL_BPF_FMOD_RET_SECURITY),
	       !sc_cgroup_v2(s) ? "need a cgroup v2 or command target" :
	       feat_word(p, FL_BPF_CGROUP_SOCK_ADDR));
	if (s->target->kind != FL_TARGET_COMMAND)
		APPEND(why, len, off, "not this target");
	else
		APPEND(why, len, off, "%s", p->seccomp == 1 ?
		       "yes, the command installs the filter on itself before exec" :
		       p->seccomp == 0 ? p->seccomp_why : "not needed");
	return off;
}

/* Who is matched: descendants, threads, forks. */
static void why_matched(const struct syscall_spec *s, const struct sc_plan *p,
			char *why, size_t len, size_t *offp)
{
	size_t i, nsec = 0, nbpf = 0, off = *offp;

	for (i = 0; i < s->ncalls; i++) {
		nsec += p->route[i] == SC_SECCOMP;
		nbpf += p->route[i] != SC_SECCOMP && p->route[i] != SC_NONE;
	}
	if (nsec)
		APPEND(why, len, off, "\nthe seccomp filter is inherited across fork: %s",
		       s->follow_forks ? "the command's descendants are matched too" :
		       "follow-forks: false fails only the command's own process, and its children's calls continue");
	if (!nbpf)
		;	/* route 4 alone */
	else if (sc_cgroup_scoped(s))
		APPEND(why, len, off, "\nthe target is matched by cgroup ancestry, so descendants are included%s",
		       s->follow_forks ? "" :
		       "; follow-forks: false cannot exclude them");
	else if (s->follow_forks)
		APPEND(why, len, off, "\ntargeting by thread-group id, so every thread matches; %s",
		       p->forks_ok ? "children join through sched_process_fork" :
		       "but no program can follow forks here");
	*offp = off;
}

/*
 * Why, a line each: what each route can do here (once: the refusal, in
 * the fault's problem, names the kernel options, not the probes again),
 * the calls without a route, who is matched.
 */
static void describe_why(const struct syscall_spec *s,
			 const struct sc_plan *p, json_object *out)
{
	char why[4096];
	size_t i, j, off;

	off = why_routes(s, p, why, sizeof(why));
	for (i = 0, j = 0; i < s->ncalls; i++)
		if (p->route[i] == SC_NONE && !s->calls[i].from_group)
			APPEND(why, sizeof(why), off, "%s%s", j++ ? ", " :
			       "\nno route (the problem says what would allow one): ",
			       s->calls[i].name);
	for (i = 0, j = 0; i < s->ncalls; i++)
		if (p->route[i] == SC_NONE && s->calls[i].from_group)
			APPEND(why, sizeof(why), off, "%s%s", j++ ?
			       ", " : "\nleft out of the groups (no route): ",
			       s->calls[i].name);
	why_matched(s, p, why, sizeof(why), &off);
	fl_json_add_str(out, "why", why);
}

int syscall_describe(const struct fl_fault *f, json_object *out)
{
	const struct syscall_spec *s = f->priv;
	char cg[PATH_MAX] = "";
	struct sc_plan p;

	if (!s || !s->target)
		return -EINVAL;
	if (sc_make_plan(s, &p))
		return -ENOMEM;
	sc_target_cgroup(s, cg, sizeof(cg));
	json_object_object_add(out, "objects", describe_objects(s, &p, cg));
	describe_mechanism(s, &p, out);
	describe_why(s, &p, out);
	json_object_object_add(out, "params", syscall_params(s));
	sc_free_plan(&p);
	return 0;
}

int syscall_resources(const struct fl_fault *f, json_object *out)
{
	const struct syscall_spec *s = f->priv;
	char buf[PATH_MAX + 16];

	if (!s)
		return -EINVAL;
	/* What is shared: the pid or the cgroup, not the target's name. */
	if (s->target && !fl_target_resource(s->target, buf, sizeof(buf)))
		json_object_array_add(out, json_object_new_string(buf));
	return 0;
}
