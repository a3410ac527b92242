// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's plan: the best BPF route this kernel allows, chosen
 * per call:
 *   1. the syscall's own entry: fmod_ret on __x64_sys_*, else a kprobe
 *      with bpf_override_return;
 *   2. the LSM hook the call passes through: BPF LSM, else fmod_ret on
 *      the security_* function;
 *   3. cgroup sock_addr hooks with bpf_set_retval (cgroup targets);
 *   4. for command targets, which faultline starts itself, a seccomp
 *      filter the command installs before exec, whose calls faultline
 *      answers (syscall_seccomp.c): any call, on any kernel since 5.6,
 *      but not for a process someone else started, which cannot be
 *      made to install it.
 * Route 1 is taken for calls without a path or peer filter (at the entry
 * those are still user memory), at most SF_ENTRY_SLOTS calls;
 * fl_bpf_probe() says whether each works.  And check: can it be done
 * here, and if not, which kernel options would allow it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/syscall.h"

/* A syscall and the hook (or hooks, space-separated) that see it. */
struct call_hook {
	const char *call, *hook;
};

static const struct call_hook lsm_hooks[] = {
	{ "open", "file_open" }, { "openat", "file_open" },
	{ "openat2", "file_open" }, { "creat", "file_open" },
	{ "read", "file_permission" }, { "pread64", "file_permission" },
	{ "readv", "file_permission" }, { "write", "file_permission" },
	{ "pwrite64", "file_permission" }, { "writev", "file_permission" },
	{ "truncate", "path_truncate" }, { "ftruncate", "path_truncate" },
	{ "unlink", "inode_unlink" }, { "unlinkat", "inode_unlink" },
	{ "rename", "inode_rename" }, { "renameat", "inode_rename" },
	{ "renameat2", "inode_rename" }, { "mkdir", "inode_mkdir" },
	{ "mkdirat", "inode_mkdir" }, { "rmdir", "inode_rmdir" },
	{ "socket", "socket_create" }, { "connect", "socket_connect" },
	{ "accept", "socket_accept" }, { "accept4", "socket_accept" },
	{ "bind", "socket_bind" }, { "listen", "socket_listen" },
	{ "sendto", "socket_sendmsg" }, { "sendmsg", "socket_sendmsg" },
	{ "recvfrom", "socket_recvmsg" }, { "recvmsg", "socket_recvmsg" },
	{ "clone", "task_alloc" }, { "clone3", "task_alloc" },
	{ "fork", "task_alloc" }, { "vfork", "task_alloc" },
	{ "execve", "bprm_check_security" },
	{ "execveat", "bprm_check_security" },
	{ "mmap", "mmap_file" },
};

static const struct call_hook cgroup_hooks[] = {
	{ "connect", "connect4 connect6" },
	{ "bind", "bind4 bind6" },
	{ "sendto", "sendmsg4 sendmsg6" },
	{ "sendmsg", "sendmsg4 sendmsg6" },
};

static const char *hook_of(const struct call_hook *t, size_t n,
			   const char *call)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].call, call))
			return t[i].hook;
	return NULL;
}

const char *sc_lsm_hook(const char *call)
{
	return hook_of(lsm_hooks, ARRAY_SIZE(lsm_hooks), call);
}

const char *sc_cgroup_hook(const char *call)
{
	return hook_of(cgroup_hooks, ARRAY_SIZE(cgroup_hooks), call);
}

bool sc_feat(const struct sc_plan *p, enum fl_bpf_feature f)
{
	return p->have[f] == 1;
}

/*
 * The target's cgroup v2 folder, for cgroup BPF; -ENOENT when none.  A
 * pid target's is the v2 root (its programs match thread-group ids); a
 * command's, before run starts it, is a phrase for the plan.
 */
int sc_target_cgroup(const struct syscall_spec *s, char *buf, size_t len)
{
	const char *root = fl_kernel_get()->unified_root;
	size_t n = strlen(root);
	struct fl_where w;
	char why[256];

	if (s->target->kind == FL_TARGET_PID) {
		if (!n)
			return -ENOENT;
		snprintf(buf, len, "%s", root);
		return 0;
	}
	if (fl_target_where(s->target, &w, why, sizeof(why)) ||
	    !w.unified[0]) {
		if (s->target->kind != FL_TARGET_COMMAND)
			return -ENOENT;
		snprintf(buf, len, "the cgroup faultline starts '%s' in",
			 s->target_name);
		return 0;
	}
	if (!n)
		return -ENOENT;
	/* The folder as a path under the v2 mount. */
	if (!strncmp(w.unified, root, n) &&
	    (!w.unified[n] || w.unified[n] == '/'))
		snprintf(buf, len, "%s", w.unified);
	else
		snprintf(buf, len, "%s%s", root, w.unified);
	return 0;
}

/* Cgroup and command targets: matched by cgroup ancestry. */
bool sc_cgroup_scoped(const struct syscall_spec *s)
{
	return s->target && s->target->kind != FL_TARGET_PID;
}

/* ...and the cgroup sock_addr hooks need its folder in cgroup v2. */
bool sc_cgroup_v2(const struct syscall_spec *s)
{
	char buf[PATH_MAX];

	return s->target && !sc_target_cgroup(s, buf, sizeof(buf));
}

/*
 * The LSM route for a call, with the path filter: the programs read the
 * path with bpf_d_path(), which lsm/file_open (sleepable) and fmod_ret on
 * security_file_open and security_file_permission may call.
 */
static bool path_ok(const struct syscall_spec *s, const char *call,
		    bool fmod)
{
	const char *hook = sc_lsm_hook(call);

	if (!hook)
		return false;
	if (!s->path || !strcmp(hook, "file_open"))
		return true;
	return fmod && !strcmp(hook, "file_permission");
}

/*
 * Tests only: FAULTLINE_FORCE_SYSCALL_ENTRY=fmod_ret or kprobe takes the
 * syscall-entry route as working whatever the probe said, so that apply
 * goes as far as the kernel's refusal on kernels without it (kprobe: and
 * fmod_ret as missing); off takes it as missing, so that a benchmark can
 * put the routes after it side by side with it on one kernel.
 */
static void force_entry(struct sc_plan *p)
{
	const char *v = getenv("FAULTLINE_FORCE_SYSCALL_ENTRY");

	if (!v || !*v)
		return;
	if (!strcmp(v, "fmod_ret")) {
		p->have[FL_BPF_FMOD_RET_SYSCALL] = 1;
	} else if (!strcmp(v, "kprobe")) {
		p->have[FL_BPF_FMOD_RET_SYSCALL] = 0;
		p->have[FL_BPF_KPROBE_OVERRIDE] = 1;
	} else if (!strcmp(v, "off")) {
		p->have[FL_BPF_FMOD_RET_SYSCALL] = 0;
		p->have[FL_BPF_KPROBE_OVERRIDE] = 0;
	}
}

/* Route 1 cannot read the path or peer filters' arguments. */
static bool entry_ok(const struct syscall_spec *s)
{
	return !s->path && !s->has_peer;
}

/*
 * Route 4 sees the call's number and arguments, not the caller's memory:
 * no peer filter, and a path only for calls on a descriptor.
 */
static bool seccomp_ok(const struct syscall_spec *s, const char *call)
{
	return s->target && s->target->kind == FL_TARGET_COMMAND &&
	       !s->has_peer && (!s->path || sc_seccomp_path_ok(call));
}

int sc_make_plan(const struct syscall_spec *s, struct sc_plan *p)
{
	size_t i, nentry = 0;
	int f;

	memset(p, 0, sizeof(*p));
	for (f = 0; f < FL_BPF_NR_FEATURES; f++) {
		p->have[f] = fl_bpf_probe(f, p->why[f], sizeof(p->why[f]));
		if (p->have[f] != 1 && !p->why[f][0])
			snprintf(p->why[f], sizeof(p->why[f]), "%s",
				 p->have[f] < 0 ? strerror(-p->have[f]) :
				 "refused");
	}
	force_entry(p);
	p->seccomp = -1;		/* probed when a call needs it */
	p->route = calloc(s->ncalls ? s->ncalls : 1, sizeof(*p->route));
	if (!p->route)
		return -ENOMEM;
	for (i = 0; i < s->ncalls; i++) {
		const char *name = s->calls[i].name;
		bool entry = entry_ok(s) && nentry < SF_ENTRY_SLOTS &&
			     s->calls[i].nr >= 0 && s->calls[i].nr < SF_MAX_NR;
		enum sc_route r = SC_NONE;

		/* The syscall's entry first: exact, and any call. */
		if (entry && sc_feat(p, FL_BPF_FMOD_RET_SYSCALL))
			r = SC_FMOD_SYSCALL;
		else if (entry && sc_feat(p, FL_BPF_KPROBE_OVERRIDE))
			r = SC_KPROBE;
		else if (path_ok(s, name, false) && sc_feat(p, FL_BPF_LSM))
			r = SC_LSM;
		else if (path_ok(s, name, true) &&
			 sc_feat(p, FL_BPF_FMOD_RET_SECURITY))
			r = SC_FMOD_SECURITY;
		else if (sc_cgroup_hook(name) && sc_cgroup_v2(s) &&
			 sc_feat(p, FL_BPF_CGROUP_SOCK_ADDR))
			r = SC_CGROUP;
		if (r == SC_NONE && p->seccomp < 0)
			p->seccomp = sc_seccomp_probe(p->seccomp_why,
						      sizeof(p->seccomp_why));
		if (r == SC_NONE && p->seccomp == 1 && seccomp_ok(s, name))
			r = SC_SECCOMP;
		if (r == SC_FMOD_SYSCALL || r == SC_KPROBE)
			nentry++;
		p->route[i] = r;
	}
	/* pid targets follow forks with a program; cgroups by ancestry. */
	p->forks_ok = true;
	if (s->follow_forks && !sc_cgroup_scoped(s)) {
		if (sc_feat(p, FL_BPF_TP_BTF)) {
			p->fork_prog = FL_BPF_TP_BTF;
		} else {
			p->forks_ok = false;
		}
	}
	return 0;
}

void sc_free_plan(struct sc_plan *p)
{
	free(p->route);
}

static void reach_table(const struct call_hook *t, size_t n,
			struct sc_reach *r)
{
	size_t i, j;

	for (i = 0; i < n && r->ncalls < ARRAY_SIZE(r->calls); i++) {
		for (j = 0; j < r->ncalls; j++)
			if (!strcmp(r->calls[j], t[i].call))
				break;
		if (j == r->ncalls)
			r->calls[r->ncalls++] = t[i].call;
	}
}

/* Whether a target of kind k passes the route's target rule. */
static bool reach_kind(enum sc_route route, enum fl_target_kind k)
{
	struct fl_target t = { .name = (char *)"doctor", .kind = k,
			       .pid = getpid() };
	struct syscall_spec s = { .target_name = t.name, .target = &t };

	switch (route) {
	case SC_CGROUP:
		return sc_cgroup_v2(&s);
	case SC_SECCOMP:
		return seccomp_ok(&s, "close");
	default:
		return true;
	}
}

/*
 * What route r reaches, by the rules sc_make_plan() applies and the
 * tables it reads (doctor lists this rather than a copy of its own).
 * Cgroup targets stand for one whose folder is in cgroup v2.
 */
void sc_route_reach(enum sc_route r, struct sc_reach *out)
{
	int k;

	memset(out, 0, sizeof(*out));
	switch (r) {
	case SC_FMOD_SYSCALL:
	case SC_KPROBE:
		out->max_calls = SF_ENTRY_SLOTS;
		out->filters = "no path or peer filter";
		break;
	case SC_LSM:
	case SC_FMOD_SECURITY:
		reach_table(lsm_hooks, ARRAY_SIZE(lsm_hooks), out);
		out->filters = r == SC_LSM ?
			"a path filter on open calls only (lsm/file_open)" :
			"a path filter on open, read and write calls";
		break;
	case SC_CGROUP:
		reach_table(cgroup_hooks, ARRAY_SIZE(cgroup_hooks), out);
		break;
	case SC_SECCOMP:
		out->filters = "no peer filter, a path filter on calls on a descriptor only";
		break;
	case SC_NONE:
		return;
	}
	for (k = FL_TARGET_PID; k <= FL_TARGET_COMMAND; k++)
		out->kind[k] = reach_kind(r, k);
	/* A cgroup target's folder decides: one in v2 can, if v2 is here. */
	if (r == SC_CGROUP)
		out->kind[FL_TARGET_CGROUP] = fl_kernel_get()->unified_root[0];
}

/* Why route 4 does not take the refused calls either. */
static void seccomp_why(const struct syscall_spec *s, const struct sc_plan *p,
			bool from_groups, char *buf, size_t len, size_t *offp)
{
	size_t i, off = *offp, n = 0;

	if (!s->target || s->target->kind != FL_TARGET_COMMAND) {
		APPEND(buf, len, off, "; a command target (a process faultline starts itself) could take the seccomp route: a filter it installs before exec sends its calls to faultline%s%s",
		       p->seccomp == 0 ? ", but not here: " : "",
		       p->seccomp == 0 ? p->seccomp_why : "");
	} else if (p->seccomp == 0) {
		APPEND(buf, len, off, "; the seccomp route for command targets does not work here: %s",
		       p->seccomp_why);
	} else if (s->has_peer) {
		APPEND(buf, len, off, "; the seccomp route cannot honour peer: the address is in the caller's memory");
	} else if (s->path) {
		APPEND(buf, len, off, "; with path, the seccomp route takes only calls on a descriptor (read, pread64, readv, write, pwrite64, writev, ftruncate, fsync, fdatasync), not ");
		for (i = 0; i < s->ncalls; i++)
			if (p->route[i] == SC_NONE &&
			    s->calls[i].from_group == from_groups)
				APPEND(buf, len, off, "%s%s", n++ ? ", " : "",
				       s->calls[i].name);
		APPEND(buf, len, off, ", whose paths are in the caller's memory");
	}
	*offp = off;
}

/*
 * Why calls have no route, naming the kernel options that would allow
 * them: the named calls (or, with groups, the calls left out of groups).
 */
void sc_refuse_why(const struct syscall_spec *s, const struct sc_plan *p,
		   bool from_groups, bool verbose, char *buf, size_t len)
{
	size_t i, off = 0, n = 0, nlsm = 0, nnone = 0, ncg = 0;

#define HERE(f) (verbose ? "; here: " : ""), (verbose ? p->why[f] : "")
#define REFUSED(i) (p->route[i] == SC_NONE && \
		    s->calls[i].from_group == from_groups)
	buf[0] = 0;
	for (i = 0; i < s->ncalls; i++) {
		if (!REFUSED(i))
			continue;
		APPEND(buf, len, off, "%s%s", n++ ? ", " : "",
		       s->calls[i].name);
		if (sc_lsm_hook(s->calls[i].name))
			nlsm++;
		else
			nnone++;
		if (sc_cgroup_hook(s->calls[i].name))
			ncg++;
	}
	if (!n)
		return;
	APPEND(buf, len, off, ": no route on this kernel. Failing the syscall entry needs fmod_ret (CONFIG_FUNCTION_ERROR_INJECTION%s%s) or a kprobe with bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE%s%s)%s",
	       HERE(FL_BPF_FMOD_RET_SYSCALL), HERE(FL_BPF_KPROBE_OVERRIDE),
	       entry_ok(s) ? "" : ", and takes no path or peer filter");
	if (s->path)
		for (i = 0; i < s->ncalls; i++)
			if (REFUSED(i) && sc_lsm_hook(s->calls[i].name) &&
			    !path_ok(s, s->calls[i].name, true)) {
				APPEND(buf, len, off, "; with path, only open calls (lsm/file_open) and read and write (fmod_ret on security_file_permission) can be filtered");
				break;
			}
	if (nlsm) {
		APPEND(buf, len, off, "; the LSM hooks (");
		for (i = 0, n = 0; i < s->ncalls; i++)
			if (REFUSED(i) && sc_lsm_hook(s->calls[i].name))
				APPEND(buf, len, off, "%s%s for %s",
				       n++ ? ", " : "",
				       sc_lsm_hook(s->calls[i].name),
				       s->calls[i].name);
		APPEND(buf, len, off, ") need CONFIG_BPF_LSM with bpf in lsm=%s%s, or fmod_ret on security_*%s%s",
		       HERE(FL_BPF_LSM), HERE(FL_BPF_FMOD_RET_SECURITY));
	}
	if (nnone) {
		APPEND(buf, len, off, "; ");
		for (i = 0, n = 0; i < s->ncalls; i++)
			if (REFUSED(i) && !sc_lsm_hook(s->calls[i].name))
				APPEND(buf, len, off, "%s%s", n++ ? ", " : "",
				       s->calls[i].name);
		APPEND(buf, len, off, " %s through no LSM hook",
		       nnone > 1 ? "pass" : "passes");
	}
	seccomp_why(s, p, from_groups, buf, len, &off);
	if (ncg && !sc_cgroup_v2(s))
		APPEND(buf, len, off, "; with a cgroup v2 or command target, cgroup sock_addr hooks could fail socket calls");
	else if (ncg)
		APPEND(buf, len, off, "; cgroup sock_addr hooks (CONFIG_CGROUP_BPF) do not load%s%s",
		       HERE(FL_BPF_CGROUP_SOCK_ADDR));
#undef HERE
#undef REFUSED
}

static bool uses_seccomp(const struct syscall_spec *s, const struct sc_plan *p)
{
	size_t i;

	for (i = 0; i < s->ncalls; i++)
		if (p->route[i] == SC_SECCOMP)
			return true;
	return false;
}

/* A call named outright has no route: the fault cannot apply. */
static bool refused(const struct syscall_spec *s, const struct sc_plan *p)
{
	size_t i;

	for (i = 0; i < s->ncalls; i++)
		if (p->route[i] == SC_NONE && !s->calls[i].from_group)
			return true;
	return false;
}

/*
 * The kernel gives a process one seccomp listener: one fault per command
 * target may take route 4; a later one is refused.
 */
static int seccomp_taken(const struct fl_fault *f, char *why, size_t len)
{
	const struct syscall_spec *s = f->priv;
	const struct fl_fault *g;
	struct sc_plan q;
	bool taken;

	for (g = s->exp ? s->exp->faults : f; g < f; g++) {
		const struct syscall_spec *gs = g->priv;

		if (g->engine != f->engine || !gs || gs->target != s->target)
			continue;
		if (sc_make_plan(gs, &q))
			return -ENOMEM;
		taken = uses_seccomp(gs, &q) && !refused(gs, &q);
		sc_free_plan(&q);
		if (taken) {
			snprintf(why, len, "target %s: fault %s takes the seccomp route for it already, and the kernel gives a process one seccomp listener; put the calls of both in one fault",
				 s->target_name, g->name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int syscall_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct syscall_spec *s = f->priv;
	struct sc_plan p;
	size_t i, used = 0, refused = 0;
	int ret = 0;

	if (!s)
		return -EINVAL;
	if (sc_make_plan(s, &p))
		return -ENOMEM;
	why[0] = 0;
	for (i = 0; i < s->ncalls; i++) {
		if (p.route[i] != SC_NONE)
			used++;
		else if (!s->calls[i].from_group)
			refused++;
	}
	if (refused) {
		sc_refuse_why(s, &p, false, false, why, len);
		ret = -EOPNOTSUPP;
	} else if (!used) {
		sc_refuse_why(s, &p, true, false, why, len);
		ret = -EOPNOTSUPP;
	} else if (uses_seccomp(s, &p)) {
		ret = seccomp_taken(f, why, len);
	} else if (!p.forks_ok) {
		snprintf(why, len, "follow-forks needs a tp_btf program on sched_process_fork (CONFIG_DEBUG_INFO_BTF), and it does not load; or set follow-forks: false");
		ret = -EOPNOTSUPP;
	}
	sc_free_plan(&p);
	return ret;
}
