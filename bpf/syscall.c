// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault: fail chosen syscalls of a target with an errno,
 * through the best BPF route this kernel allows, chosen per call:
 *   1. the syscall's own entry: fmod_ret on __x64_sys_*, else a kprobe
 *      with bpf_override_return;
 *   2. the LSM hook the call passes through: BPF LSM, else fmod_ret on
 *      the security_* function;
 *   3. cgroup sock_addr hooks with bpf_set_retval (cgroup targets).
 *
 * This file holds the fault's schema (parse), what this kernel allows
 * (check), the plan (describe), and apply, revert and observe, which load
 * sysfault.bpf.c.  Route 1 is taken for calls without a path or peer
 * filter (at the entry those are still user memory), at most
 * SF_ENTRY_SLOTS calls; fl_bpf_probe() says whether it works.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/bpfault.h"
#include "bpf/bpflog.h"
#include "bpf/syscall_spec.h"
#include "bpf/sysfault.h"
#include "bpf/sysfault.skel.h"

static const char *const syscall_keys[] = {
	"target", "follow-forks", "calls", "errno", "probability", "when",
	"path", "peer", NULL,
};
static const char *const when_keys[] = { "after", "every", "times", NULL };
static const char *const peer_keys[] = { "ports", "to", NULL };

/* Call groups, and what each call passes through. */
static const char *const group_file[] = {
	"open", "openat", "openat2", "creat", "read", "pread64", "readv",
	"write", "pwrite64", "writev", "truncate", "ftruncate", "fsync",
	"fdatasync", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"mkdir", "mkdirat", "rmdir", NULL,
};
static const char *const group_network[] = {
	"socket", "connect", "accept", "accept4", "bind", "listen", "sendto",
	"recvfrom", "sendmsg", "recvmsg", NULL,
};
static const char *const group_process[] = {
	"clone", "clone3", "fork", "vfork", "execve", "execveat", NULL,
};
static const char *const group_names[] = {
	"file", "network", "process", NULL,
};
static const char *const *const groups[] = {
	group_file, group_network, group_process,
};

/* Socket calls that carry a peer address. */
static const char *const peer_calls[] = {
	"connect", "accept", "accept4", "bind", "sendto", "recvfrom",
	"sendmsg", "recvmsg", NULL,
};

static const struct {
	const char *call, *hook;
} lsm_hooks[] = {
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

static const struct {
	const char *call, *hooks;
} cgroup_hooks[] = {
	{ "connect", "connect4 connect6" },
	{ "bind", "bind4 bind6" },
	{ "sendto", "sendmsg4 sendmsg6" },
	{ "sendmsg", "sendmsg4 sendmsg6" },
};

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

static const char *lsm_hook(const char *call)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lsm_hooks); i++)
		if (!strcmp(lsm_hooks[i].call, call))
			return lsm_hooks[i].hook;
	return NULL;
}

static const char *cgroup_hook(const char *call)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgroup_hooks); i++)
		if (!strcmp(cgroup_hooks[i].call, call))
			return cgroup_hooks[i].hooks;
	return NULL;
}

static void syscall_spec_free(void *spec)
{
	struct syscall_spec *s = spec;

	if (!s)
		return;
	free(s->target_name);
	free(s->calls);
	free(s->path);
	free(s->ports);
	free(s->to);
	free(s);
}

static const struct fl_node *item(const struct fl_node *v, size_t i)
{
	return v->type == FL_NODE_SEQ ? v->items[i] : v;
}

/* Add a call once; an explicit name wins over a group's. */
static int add_call(struct syscall_spec *s, size_t cap, int nr,
		    bool from_group)
{
	size_t i;

	for (i = 0; i < s->ncalls; i++)
		if (s->calls[i].nr == nr) {
			s->calls[i].from_group &= from_group;
			return 0;
		}
	if (s->ncalls >= cap)
		return -ENOSPC;
	s->calls[s->ncalls].nr = nr;
	s->calls[s->ncalls].name = fl_syscall_name(nr);
	s->calls[s->ncalls].from_group = from_group;
	s->ncalls++;
	return 0;
}

static int parse_calls(const struct fl_node *v, struct syscall_spec *s,
		       struct fl_diag *d)
{
	size_t n, i, cap = 0;
	const char *const *g;
	const char *why;
	int err = 0, nr, gi;

	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "calls: expected a list of syscall names or groups (file, network, process), not a map");
		return -EINVAL;
	}
	n = v->type == FL_NODE_SEQ ? v->n : 1;
	if (!n) {
		fl_diag_err(d, v, "calls: empty list");
		return -EINVAL;
	}
	for (gi = 0; gi < (int)ARRAY_SIZE(groups); gi++)
		for (g = groups[gi]; *g; g++)
			cap++;
	cap += n;
	s->calls = calloc(cap, sizeof(*s->calls));
	if (!s->calls)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct fl_node *it = item(v, i);

		gi = -1;
		if (it->type == FL_NODE_SCALAR)
			for (gi = ARRAY_SIZE(groups) - 1; gi >= 0; gi--)
				if (!strcmp(it->scalar, group_names[gi]))
					break;
		if (gi >= 0) {
			for (g = groups[gi]; *g; g++)
				if (!fl_parse_syscall(*g, &nr, &why))
					add_call(s, cap, nr, true);
			continue;
		}
		if (fl_get_syscall(it, "calls", &nr, d))
			err = -EINVAL;
		else
			add_call(s, cap, nr, false);
	}
	return err;
}

static int parse_errno(const struct fl_node *v, struct syscall_spec *s,
		       struct fl_diag *d)
{
	double sum = 0;
	size_t i, j;
	int err = 0;
	char what[64];

	if (v->type == FL_NODE_SCALAR) {
		s->weights[0] = 100;
		s->nerrnos = 1;
		return fl_get_errno(v, "errno", &s->errnos[0], d) ? -EINVAL : 0;
	}
	if (v->type != FL_NODE_MAP) {
		fl_diag_err(d, v, "errno: expected an errno name (EIO) or a map of weights ({ EIO: 70%%, ENOSPC: 30%% }), not a %s",
			    fl_node_type_name(v));
		return -EINVAL;
	}
	if (!v->n) {
		fl_diag_err(d, v, "errno: empty map");
		return -EINVAL;
	}
	if (v->n > SYSCALL_MAX_ERRNOS) {
		fl_diag_err(d, v, "errno: at most %d errno values",
			    SYSCALL_MAX_ERRNOS);
		return -EINVAL;
	}
	for (i = 0; i < v->n; i++) {
		const struct fl_pair *p = &v->pairs[i];

		if (fl_get_errno(p->key, "errno", &s->errnos[i], d)) {
			err = -EINVAL;
			continue;
		}
		for (j = 0; j < i; j++)
			if (s->errnos[j] == s->errnos[i]) {
				fl_diag_err(d, p->key, "errno: %s given twice",
					    fl_errno_name(s->errnos[i]));
				err = -EINVAL;
			}
		snprintf(what, sizeof(what), "errno.%s", p->key->scalar);
		if (fl_get_percent(p->value, what, &s->weights[i], d)) {
			err = -EINVAL;
			continue;
		}
		if (s->weights[i] <= 0) {
			fl_diag_err(d, p->value, "%s: weight must be above 0%%",
				    what);
			err = -EINVAL;
		}
		sum += s->weights[i];
	}
	s->nerrnos = v->n;
	if (!err && fabs(sum - 100.0) > 1e-6) {
		fl_diag_err(d, v, "errno: weights add up to %g%%, not 100%%",
			    sum);
		err = -EINVAL;
	}
	return err;
}

static int parse_when(const struct fl_node *v, struct syscall_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p;
	int err = 0;

	s->has_when = true;
	s->every = 1;
	if (fl_map_check(v, when_keys, "when", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	if (!v->n) {
		fl_diag_err(d, v, "when: empty; give after, every or times");
		return -EINVAL;
	}
	if ((p = fl_map_get(v, "after")) &&
	    fl_get_u64(p, "when.after", 0, UINT32_MAX, &s->after, d))
		err = -EINVAL;
	if ((p = fl_map_get(v, "every")) &&
	    fl_get_u64(p, "when.every", 1, UINT32_MAX, &s->every, d))
		err = -EINVAL;
	if ((p = fl_map_get(v, "times")) &&
	    fl_get_u64(p, "when.times", 1, UINT32_MAX, &s->times, d))
		err = -EINVAL;
	return err;
}

static int parse_path(const struct fl_node *v, struct syscall_spec *s,
		      struct fl_diag *d)
{
	size_t n;
	char *p;

	if (fl_get_string(v, "path", &s->path, d))
		return -EINVAL;
	p = s->path;
	if (p[0] != '/') {
		fl_diag_err(d, v, "path: '%s' is not absolute", p);
		return -EINVAL;
	}
	if (strstr(p, "/../") || strstr(p, "/./") ||
	    (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")) ||
	    (strlen(p) >= 2 && !strcmp(p + strlen(p) - 2, "/."))) {
		fl_diag_err(d, v, "path: '%s' has . or .. components; give the plain prefix",
			    p);
		return -EINVAL;
	}
	if (strlen(p) >= PATH_MAX) {
		fl_diag_err(d, v, "path: longer than %d bytes", PATH_MAX - 1);
		return -EINVAL;
	}
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	return 0;
}

static int parse_peer(const struct fl_node *v, struct syscall_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p;
	uint64_t u;
	size_t i, n;
	int err = 0;

	s->has_peer = true;
	if (fl_map_check(v, peer_keys, "peer", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	if (!v->n) {
		fl_diag_err(d, v, "peer: empty; give ports or to");
		return -EINVAL;
	}
	p = fl_map_get(v, "ports");
	if (p) {
		n = p->type == FL_NODE_SEQ ? p->n : 1;
		if (p->type == FL_NODE_MAP || !n) {
			fl_diag_err(d, p, "peer.ports: expected a port or a non-empty list of ports");
			err = -EINVAL;
		} else if (!(s->ports = calloc(n, sizeof(*s->ports)))) {
			return -ENOMEM;
		} else {
			for (i = 0; i < n; i++) {
				if (fl_get_u64(item(p, i), "peer.ports", 1,
					       65535, &u, d))
					err = -EINVAL;
				else
					s->ports[i] = u;
			}
			s->nports = n;
		}
	}
	p = fl_map_get(v, "to");
	if (p) {
		n = p->type == FL_NODE_SEQ ? p->n : 1;
		if (p->type == FL_NODE_MAP || !n) {
			fl_diag_err(d, p, "peer.to: expected an address, a CIDR or a non-empty list of them");
			err = -EINVAL;
		} else if (!(s->to = calloc(n, sizeof(*s->to)))) {
			return -ENOMEM;
		} else {
			for (i = 0; i < n; i++)
				if (fl_get_cidr(item(p, i), "peer.to", &s->to[i],
						d))
					err = -EINVAL;
			s->nto = n;
		}
	}
	return err;
}

/*
 * A filter that only some calls can honour: calls from a group that
 * cannot are dropped, calls named outright are an error.
 */
static int filter_calls(struct syscall_spec *s, const struct fl_node *at,
			const char *what, const char *const *ok,
			const char *kind, struct fl_diag *d)
{
	size_t i, j = 0;
	int err = 0;

	for (i = 0; i < s->ncalls; i++) {
		if (in_list(s->calls[i].name, ok)) {
			s->calls[j++] = s->calls[i];
			continue;
		}
		if (!s->calls[i].from_group) {
			fl_diag_err(d, at, "%s: only applies to %s; '%s' is not one",
				    what, kind, s->calls[i].name);
			err = -EINVAL;
		}
	}
	s->ncalls = j;
	if (!err && !j) {
		fl_diag_err(d, at, "%s: none of the calls is one of %s", what,
			    kind);
		err = -EINVAL;
	}
	return err;
}

static int syscall_parse(struct fl_experiment *exp, const struct fl_fault *f,
			 const struct fl_node *spec, void **out,
			 struct fl_diag *d)
{
	const struct fl_node *v, *path, *peer;
	struct syscall_spec *s;
	bool calls_ok = false;
	int err = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	if (fl_map_check(spec, syscall_keys, "syscall", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s->follow_forks = true;
	s->probability = 100;

	v = fl_map_need(spec, "target", "syscall", d);
	if (!v || fl_get_target(exp, v, "target", &s->target, d)) {
		err = -EINVAL;
	} else {
		s->target_name = strdup(s->target->name);
		if (!s->target_name)
			err = -ENOMEM;
	}
	v = fl_map_get(spec, "follow-forks");
	if (v && fl_get_bool(v, "follow-forks", &s->follow_forks, d))
		err = -EINVAL;
	v = fl_map_need(spec, "calls", "syscall", d);
	if (!v || parse_calls(v, s, d))
		err = -EINVAL;
	else
		calls_ok = true;
	v = fl_map_need(spec, "errno", "syscall", d);
	if (!v || parse_errno(v, s, d))
		err = -EINVAL;
	v = fl_map_get(spec, "probability");
	if (v) {
		if (fl_get_percent(v, "probability", &s->probability, d)) {
			err = -EINVAL;
		} else if (s->probability <= 0) {
			fl_diag_err(d, v, "probability: 0%% never fails a call; give more than 0%%");
			err = -EINVAL;
		}
	}
	v = fl_map_get(spec, "when");
	if (v && parse_when(v, s, d))
		err = -EINVAL;
	path = fl_map_get(spec, "path");
	if (path && parse_path(path, s, d))
		err = -EINVAL;
	peer = fl_map_get(spec, "peer");
	if (peer && parse_peer(peer, s, d))
		err = -EINVAL;

	if (calls_ok && path &&
	    filter_calls(s, path, "path", group_file,
			 "file calls (open, openat, read, write, unlink, ...)",
			 d))
		err = -EINVAL;
	if (calls_ok && peer &&
	    filter_calls(s, peer, "peer", peer_calls,
			 "socket calls with a peer address (connect, accept, bind, sendto, sendmsg, recvfrom, recvmsg)",
			 d))
		err = -EINVAL;
	return err;
}

/* ------------------------------------------------------------------ */
/* The plan: a route per call.                                         */

enum sc_route {
	SC_NONE,
	SC_FMOD_SYSCALL,	/* fmod_ret/__x64_sys_* */
	SC_KPROBE,		/* kprobe/__x64_sys_* + bpf_override_return */
	SC_LSM,			/* lsm/<hook> */
	SC_FMOD_SECURITY,	/* fmod_ret/security_<hook> */
	SC_CGROUP,		/* cgroup/<hook>4|6 + bpf_set_retval */
};

static const char *const route_names[] = {
	[SC_NONE] = "none",
	[SC_FMOD_SYSCALL] = "fmod_ret on the syscall entry",
	[SC_KPROBE] = "kprobe with bpf_override_return",
	[SC_LSM] = "BPF LSM",
	[SC_FMOD_SECURITY] = "fmod_ret on security_* hooks",
	[SC_CGROUP] = "cgroup sock_addr hooks with bpf_set_retval",
};

struct sc_plan {
	int have[FL_BPF_NR_FEATURES];	/* fl_bpf_probe() results */
	char why[FL_BPF_NR_FEATURES][256];
	enum sc_route *route;		/* per call */
	bool forks_ok;
	enum fl_bpf_feature fork_prog;
};

static bool feat(struct sc_plan *p, enum fl_bpf_feature f)
{
	return p->have[f] == 1;
}

/*
 * The target's cgroup v2 folder, for cgroup BPF; -ENOENT when none.  A
 * pid target's is the v2 root (its programs match thread-group ids); a
 * command's, before run starts it, is a phrase for the plan.
 */
static int target_cgroup(const struct syscall_spec *s, char *buf, size_t len)
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
static bool cgroup_scoped(const struct syscall_spec *s)
{
	return s->target && s->target->kind != FL_TARGET_PID;
}

/* ...and the cgroup sock_addr hooks need its folder in cgroup v2. */
static bool cgroup_v2(const struct syscall_spec *s)
{
	char buf[PATH_MAX];

	return s->target && !target_cgroup(s, buf, sizeof(buf));
}

/*
 * The LSM route for a call, with the path filter: the programs read the
 * path with bpf_d_path(), which lsm/file_open (sleepable) and fmod_ret on
 * security_file_open and security_file_permission may call.
 */
static bool path_ok(const struct syscall_spec *s, const char *call,
		    bool fmod)
{
	const char *hook = lsm_hook(call);

	if (!hook)
		return false;
	if (!s->path || !strcmp(hook, "file_open"))
		return true;
	return fmod && !strcmp(hook, "file_permission");
}

/*
 * Tests only: FAULTLINE_FORCE_SYSCALL_ENTRY=fmod_ret or kprobe takes the
 * syscall-entry route as working whatever the probe said, so that apply
 * goes as far as the kernel's refusal on kernels without it.
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
	}
}

/* Route 1 cannot read the path or peer filters' arguments. */
static bool entry_ok(const struct syscall_spec *s)
{
	return !s->path && !s->has_peer;
}

static int make_plan(const struct syscall_spec *s, struct sc_plan *p)
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
	p->route = calloc(s->ncalls ? s->ncalls : 1, sizeof(*p->route));
	if (!p->route)
		return -ENOMEM;
	for (i = 0; i < s->ncalls; i++) {
		const char *name = s->calls[i].name;
		bool entry = entry_ok(s) && nentry < SF_ENTRY_SLOTS &&
			     s->calls[i].nr >= 0 && s->calls[i].nr < SF_MAX_NR;
		enum sc_route r = SC_NONE;

		/* The syscall's entry first: exact, and any call. */
		if (entry && feat(p, FL_BPF_FMOD_RET_SYSCALL))
			r = SC_FMOD_SYSCALL;
		else if (entry && feat(p, FL_BPF_KPROBE_OVERRIDE))
			r = SC_KPROBE;
		else if (path_ok(s, name, false) && feat(p, FL_BPF_LSM))
			r = SC_LSM;
		else if (path_ok(s, name, true) &&
			 feat(p, FL_BPF_FMOD_RET_SECURITY))
			r = SC_FMOD_SECURITY;
		else if (cgroup_hook(name) && cgroup_v2(s) &&
			 feat(p, FL_BPF_CGROUP_SOCK_ADDR))
			r = SC_CGROUP;
		if (r == SC_FMOD_SYSCALL || r == SC_KPROBE)
			nentry++;
		p->route[i] = r;
	}
	/* pid targets follow forks with a program; cgroups by ancestry. */
	p->forks_ok = true;
	if (s->follow_forks && !cgroup_scoped(s)) {
		if (feat(p, FL_BPF_TP_BTF)) {
			p->fork_prog = FL_BPF_TP_BTF;
		} else {
			p->forks_ok = false;
		}
	}
	return 0;
}

static void free_plan(struct sc_plan *p)
{
	free(p->route);
}

#define APPEND(buf, len, off, ...) do { \
		if ((off) < (len)) \
			(off) += snprintf((buf) + (off), (len) - (off), \
					  __VA_ARGS__); \
	} while (0)

/*
 * Why calls have no route, naming the kernel options that would allow
 * them: the named calls (or, with groups, the calls left out of groups).
 */
static void refuse_why(const struct syscall_spec *s, const struct sc_plan *p,
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
		if (lsm_hook(s->calls[i].name))
			nlsm++;
		else
			nnone++;
		if (cgroup_hook(s->calls[i].name))
			ncg++;
	}
	if (!n)
		return;
	APPEND(buf, len, off, ": no route on this kernel. Failing the syscall entry needs fmod_ret (CONFIG_FUNCTION_ERROR_INJECTION%s%s) or a kprobe with bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE%s%s)%s",
	       HERE(FL_BPF_FMOD_RET_SYSCALL), HERE(FL_BPF_KPROBE_OVERRIDE),
	       entry_ok(s) ? "" : ", and takes no path or peer filter");
	if (s->path)
		for (i = 0; i < s->ncalls; i++)
			if (REFUSED(i) && lsm_hook(s->calls[i].name) &&
			    !path_ok(s, s->calls[i].name, true)) {
				APPEND(buf, len, off, "; with path, only open calls (lsm/file_open) and read and write (fmod_ret on security_file_permission) can be filtered");
				break;
			}
	if (nlsm) {
		APPEND(buf, len, off, "; the LSM hooks (");
		for (i = 0, n = 0; i < s->ncalls; i++)
			if (REFUSED(i) && lsm_hook(s->calls[i].name))
				APPEND(buf, len, off, "%s%s for %s",
				       n++ ? ", " : "",
				       lsm_hook(s->calls[i].name),
				       s->calls[i].name);
		APPEND(buf, len, off, ") need CONFIG_BPF_LSM with bpf in lsm=%s%s, or fmod_ret on security_*%s%s",
		       HERE(FL_BPF_LSM), HERE(FL_BPF_FMOD_RET_SECURITY));
	}
	if (nnone) {
		APPEND(buf, len, off, "; ");
		for (i = 0, n = 0; i < s->ncalls; i++)
			if (REFUSED(i) && !lsm_hook(s->calls[i].name))
				APPEND(buf, len, off, "%s%s", n++ ? ", " : "",
				       s->calls[i].name);
		APPEND(buf, len, off, " %s through no LSM hook",
		       nnone > 1 ? "pass" : "passes");
	}
	if (ncg && !cgroup_v2(s))
		APPEND(buf, len, off, "; with a cgroup v2 or command target, cgroup sock_addr hooks could fail socket calls");
	else if (ncg)
		APPEND(buf, len, off, "; cgroup sock_addr hooks (CONFIG_CGROUP_BPF) do not load%s%s",
		       HERE(FL_BPF_CGROUP_SOCK_ADDR));
#undef HERE
#undef REFUSED
}

static int syscall_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct syscall_spec *s = f->priv;
	struct sc_plan p;
	size_t i, used = 0, refused = 0;
	int ret = 0;

	if (!s)
		return -EINVAL;
	if (make_plan(s, &p))
		return -ENOMEM;
	why[0] = 0;
	for (i = 0; i < s->ncalls; i++) {
		if (p.route[i] != SC_NONE)
			used++;
		else if (!s->calls[i].from_group)
			refused++;
	}
	if (refused) {
		refuse_why(s, &p, false, false, why, len);
		ret = -EOPNOTSUPP;
	} else if (!used) {
		refuse_why(s, &p, true, false, why, len);
		ret = -EOPNOTSUPP;
	} else if (!p.forks_ok) {
		snprintf(why, len, "follow-forks needs a tp_btf program on sched_process_fork (CONFIG_DEBUG_INFO_BTF), and it does not load; or set follow-forks: false");
		ret = -EOPNOTSUPP;
	}
	free_plan(&p);
	return ret;
}

/* ------------------------------------------------------------------ */
/* describe                                                            */

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* Add a string to an array unless it is there already. */
static void add_uniq(json_object *a, const char *str)
{
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++)
		if (!strcmp(json_object_get_string(
				json_object_array_get_idx(a, i)), str))
			return;
	json_object_array_add(a, json_object_new_string(str));
}

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
	add_str(p, "target", buf);
	json_object_object_add(p, "follow-forks",
			       json_object_new_boolean(s->follow_forks));
	a = json_object_new_array();
	for (i = 0; i < s->ncalls; i++)
		json_object_array_add(a,
				      json_object_new_string(s->calls[i].name));
	json_object_object_add(p, "calls", a);
	if (s->nerrnos == 1) {
		add_str(p, "errno", fl_errno_name(s->errnos[0]));
	} else {
		o = json_object_new_object();
		for (i = 0; i < s->nerrnos; i++)
			add_str(o, fl_errno_name(s->errnos[i]),
				fmt_pct(s->weights[i], buf, sizeof(buf)));
		json_object_object_add(p, "errno", o);
	}
	add_str(p, "probability", fmt_pct(s->probability, buf, sizeof(buf)));
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
		add_str(p, "path", s->path);
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

static int syscall_describe(const struct fl_fault *f, json_object *out)
{
	const struct syscall_spec *s = f->priv;
	char buf[PATH_MAX + 256], cg[PATH_MAX] = "", why[4096];
	char calls[512];
	json_object *objs;
	struct sc_plan p;
	size_t i, j, off = 0, coff;
	int r;

	if (!s || !s->target)
		return -EINVAL;
	if (make_plan(s, &p))
		return -ENOMEM;
	target_cgroup(s, cg, sizeof(cg));

	objs = json_object_new_array();
	for (i = 0; i < s->ncalls; i++) {
		const char *name = s->calls[i].name;

		switch (p.route[i]) {
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
				 lsm_hook(name));
			break;
		case SC_FMOD_SECURITY:
			snprintf(buf, sizeof(buf), "BPF program fmod_ret/security_%s",
				 lsm_hook(name));
			break;
		case SC_CGROUP:
			snprintf(buf, sizeof(buf), "BPF programs cgroup/%s attached to %s%s",
				 cgroup_hook(name), cg,
				 cgroup_scoped(s) ? "" :
				 " (they match the target's thread-group ids)");
			break;
		case SC_NONE:
			continue;
		}
		add_uniq(objs, buf);
	}
	if (s->follow_forks && !cgroup_scoped(s) && p.forks_ok)
		add_uniq(objs, p.fork_prog == FL_BPF_TP_BTF ?
			 "BPF program tp_btf/sched_process_fork (children join the target)" :
			 "BPF program raw_tp/sched_process_fork (children join the target)");
	if (!cgroup_scoped(s)) {
		snprintf(buf, sizeof(buf), "BPF map fl_targets (hash of thread-group ids, seeded with PID %d)",
			 (int)s->target->pid);
		add_uniq(objs, buf);
	}
	add_uniq(objs, "BPF settings in .rodata (calls, errno weights, probability, when, path and peer filters)");
	if (s->has_when)
		add_uniq(objs, "BPF map fl_counts (when counters, per thread and call)");
	add_uniq(objs, "BPF ring buffer fl_events (one event per injection)");
	json_object_object_add(out, "objects", objs);

	/* mechanism: the routes in use, with their calls. */
	buf[0] = 0;
	for (r = SC_FMOD_SYSCALL; r <= SC_CGROUP; r++) {
		coff = 0;
		calls[0] = 0;
		for (j = 0; j < s->ncalls && coff < sizeof(calls); j++)
			if (p.route[j] == (enum sc_route)r)
				coff += snprintf(calls + coff, sizeof(calls) - coff,
						 "%s%s", coff ? " " : "",
						 s->calls[j].name);
		if (calls[0] && off < sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - off,
					"%s%s (%s)", off ? "; " : "",
					route_names[r], calls);
	}
	add_str(out, "mechanism", buf[0] ? buf : "none");

	off = snprintf(why, sizeof(why), "routes tried per call in order: syscall entry (fmod_ret: %s; kprobe override: %s), LSM hook (bpf LSM: %s; fmod_ret on security_*: %s), cgroup sock_addr hooks (%s)",
		       feat(&p, FL_BPF_FMOD_RET_SYSCALL) ? "yes" :
		       p.why[FL_BPF_FMOD_RET_SYSCALL],
		       feat(&p, FL_BPF_KPROBE_OVERRIDE) ? "yes" :
		       p.why[FL_BPF_KPROBE_OVERRIDE],
		       feat(&p, FL_BPF_LSM) ? "yes" : p.why[FL_BPF_LSM],
		       feat(&p, FL_BPF_FMOD_RET_SECURITY) ? "yes" :
		       p.why[FL_BPF_FMOD_RET_SECURITY],
		       !cgroup_v2(s) ? "need a cgroup v2 or command target" :
		       feat(&p, FL_BPF_CGROUP_SOCK_ADDR) ? "yes" :
		       p.why[FL_BPF_CGROUP_SOCK_ADDR]);
	for (i = 0, j = 0; i < s->ncalls; i++)
		if (p.route[i] == SC_NONE && !s->calls[i].from_group)
			j++;
	if (j && off < sizeof(why)) {
		APPEND(why, sizeof(why), off, "; refused: ");
		if (off < sizeof(why))
			refuse_why(s, &p, false, true, why + off,
				   sizeof(why) - off);
		off = strlen(why);
	}
	for (i = 0, j = 0; i < s->ncalls; i++)
		if (p.route[i] == SC_NONE && s->calls[i].from_group)
			APPEND(why, sizeof(why), off, "%s%s", j++ ?
			       ", " : "; left out of the groups (no route): ",
			       s->calls[i].name);
	if (off < sizeof(why) && cgroup_scoped(s))
		off += snprintf(why + off, sizeof(why) - off,
				"; the target is matched by cgroup ancestry, so descendants are included%s",
				s->follow_forks ? "" :
				" (follow-forks: false cannot exclude them)");
	else if (off < sizeof(why) && s->follow_forks)
		off += snprintf(why + off, sizeof(why) - off,
				"; targeting by thread-group id, so every thread matches; %s",
				p.forks_ok ? "children join through sched_process_fork" :
				"but no program can follow forks here");
	add_str(out, "why", why);
	json_object_object_add(out, "params", syscall_params(s));
	free_plan(&p);
	return 0;
}

static int syscall_resources(const struct fl_fault *f, json_object *out)
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

/* ------------------------------------------------------------------ */
/* apply: load sysfault.bpf.c, attach what the plan says, drain events. */

/*
 * One applied fault, the handle the runner keeps: its programs, links and
 * event reader, and what the reader counted.
 */
struct sf_rt {
	const struct syscall_spec *s;
	struct sysfault *skel;
	struct bpf_link **links;
	size_t nlinks;
	struct ring_buffer *rb;
	pthread_t reader;
	bool reading;
	atomic_bool stop;
	int64_t mono_to_wall;		/* wall ns - monotonic ns */
	pthread_mutex_t lock;		/* the counters below */
	uint64_t events;		/* events read */
	uint64_t per_call[SF_MAX_NR];
	uint64_t per_errno[4096];
	json_object *first;		/* the first events, for the report */
};

#define SF_FIRST_EVENTS	20

static json_object *event_json(const struct sf_rt *rt,
			       const struct sf_event *e)
{
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8], tbuf[40];
	const char *name = e->nr >= 0 ? fl_syscall_name(e->nr) : NULL;
	char comm[sizeof(e->comm) + 1];

	add_str(o, "time", fl_fmt_time((int64_t)e->ts + rt->mono_to_wall, tbuf,
					 sizeof(tbuf)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "tid", json_object_new_int(e->tid));
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = 0;
	add_str(o, "comm", comm);
	add_str(o, "call", name ? name : "?");
	add_str(o, "errno", fl_errno_name(e->err) ? fl_errno_name(e->err) :
		"?");
	if (e->family == AF_INET || e->family == AF_INET6) {
		inet_ntop(e->family, e->addr, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%u",
			 e->family == AF_INET6 ? "." : ":", e->port);
		add_str(o, "peer", buf);
	}
	if (e->path[0]) {
		char p[SF_EV_PATH_LEN + 1];

		memcpy(p, e->path, SF_EV_PATH_LEN);
		p[SF_EV_PATH_LEN] = 0;
		add_str(o, "path", p);
	}
	return o;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct sf_event *e = data;
	struct sf_rt *rt = ctx;

	if (size < sizeof(*e))
		return 0;
	pthread_mutex_lock(&rt->lock);
	rt->events++;
	if (e->nr >= 0 && e->nr < SF_MAX_NR)
		rt->per_call[e->nr]++;
	if (e->err > 0 && e->err < 4096)
		rt->per_errno[e->err]++;
	if (json_object_array_length(rt->first) < SF_FIRST_EVENTS)
		json_object_array_add(rt->first, event_json(rt, e));
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

static void *reader_main(void *arg)
{
	struct sf_rt *rt = arg;

	while (!atomic_load(&rt->stop))
		if (ring_buffer__poll(rt->rb, 100) < 0 && errno != EINTR)
			break;
	ring_buffer__consume(rt->rb);
	return NULL;
}

/*
 * Release: stop reading, close the links (revert detached them already,
 * by id), unload, free.
 */
static void syscall_release(void *handle)
{
	struct sf_rt *rt = handle;
	size_t i;

	if (!rt)
		return;
	if (rt->reading) {
		atomic_store(&rt->stop, true);
		pthread_join(rt->reader, NULL);
	}
	for (i = 0; i < rt->nlinks; i++)
		bpf_link__destroy(rt->links[i]);
	ring_buffer__free(rt->rb);
	sysfault__destroy(rt->skel);
	json_object_put(rt->first);
	pthread_mutex_destroy(&rt->lock);
	free(rt->links);
	free(rt);
}

/* A cgroup v2 folder's id (its inode) and depth below the v2 root. */
static int cgroup_id_level(const char *dir, uint64_t *id, uint32_t *level)
{
	const char *root = fl_kernel_get()->unified_root;
	size_t n = strlen(root);
	struct stat st;
	const char *p;

	if (!n || strncmp(dir, root, n) || (dir[n] && dir[n] != '/'))
		return -ENOENT;
	if (stat(dir, &st))
		return -errno;
	*id = st.st_ino;
	*level = 0;
	for (p = dir + n; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			(*level)++;
	return 0;
}

/* Seed the tgid map with pid and, with follow-forks, its descendants. */
static void seed_tgid(int mapfd, pid_t pid, bool follow, int depth)
{
	char path[64], line[4096];
	uint8_t one = 1;
	uint32_t key = pid;
	DIR *d;
	struct dirent *de;

	bpf_map_update_elem(mapfd, &key, &one, BPF_ANY);
	if (!follow || depth > 64)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char cpath[320];
		FILE *fp;
		char *tok, *save;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children",
			 (int)pid, de->d_name);
		fp = fopen(cpath, "re");
		if (!fp)
			continue;
		if (fgets(line, sizeof(line), fp))
			for (tok = strtok_r(line, " \n", &save); tok;
			     tok = strtok_r(NULL, " \n", &save))
				seed_tgid(mapfd, atoi(tok), follow, depth + 1);
		fclose(fp);
	}
	closedir(d);
}

static int nr_of(const char *name)
{
	const char *why;
	int nr;

	return fl_parse_syscall(name, &nr, &why) ? -1 : nr;
}

/* The settings of the programs, from the spec. */
static int set_rodata(struct sf_rt *rt, const struct syscall_spec *s,
		      const struct sc_plan *p, struct fl_undo *u)
{
	struct sysfault__rodata *ro = rt->skel->rodata;
	uint64_t cg_id = 0;
	uint32_t cg_level = 0;
	double acc = 0;
	size_t i;
	char dir[PATH_MAX];
	int ret;

	if (s->target->kind == FL_TARGET_PID) {
		ro->target_kind = SF_TARGET_TGID;
	} else {
		ro->target_kind = SF_TARGET_CGROUP;
		ro->cg_attached = 1;
		ret = target_cgroup(s, dir, sizeof(dir));
		if (!ret)
			ret = cgroup_id_level(dir, &cg_id, &cg_level);
		ro->cg_id = cg_id;
		ro->cg_level = cg_level;
		/* Only the LSM routes need the id: cgroup hooks sit on it. */
		if (ret) {
			for (i = 0; i < s->ncalls; i++)
				if (p->route[i] == SC_LSM ||
				    p->route[i] == SC_FMOD_SECURITY) {
					fl_undo_why(u, "target %s: no cgroup v2 folder to match by ancestry",
						   s->target_name);
					return ret;
				}
		}
	}
	ro->follow_forks = s->follow_forks;
	if (s->probability < 100)
		ro->prob = (uint64_t)(s->probability / 100.0 *
				      (double)(1ULL << 32));
	ro->has_when = s->has_when;
	ro->when_after = s->after;
	ro->when_every = s->every ? s->every : 1;
	ro->when_times = s->times;
	ro->nerrs = s->nerrnos;
	for (i = 0; i < s->nerrnos && i < SF_MAX_ERRNOS; i++) {
		acc += s->weights[i];
		ro->errs[i] = s->errnos[i];
		ro->cum[i] = i + 1 == s->nerrnos ? UINT32_MAX :
			     (uint32_t)(acc / 100.0 * 4294967295.0);
	}
	if (s->nports > SF_MAX_PORTS || s->nto > SF_MAX_CIDRS) {
		fl_undo_why(u, "peer: at most %d ports and %d addresses",
			   SF_MAX_PORTS, SF_MAX_CIDRS);
		return -E2BIG;
	}
	ro->nports = s->nports;
	for (i = 0; i < s->nports; i++)
		ro->ports[i] = s->ports[i];
	ro->ncidrs = s->nto;
	for (i = 0; i < s->nto; i++) {
		ro->cidrs[i].family = s->to[i].family;
		ro->cidrs[i].prefix = s->to[i].prefix;
		memcpy((void *)ro->cidrs[i].addr, s->to[i].addr, 16);
	}
	if (s->path) {
		if (strlen(s->path) >= SF_PATH_LEN) {
			fl_undo_why(u, "path: longer than %d bytes",
				   SF_PATH_LEN - 1);
			return -ENAMETOOLONG;
		}
		ro->path_len = strlen(s->path);
		memcpy((void *)ro->path, s->path, ro->path_len);
	}
	for (i = 0; i < s->ncalls; i++)
		if (p->route[i] != SC_NONE && s->calls[i].nr >= 0 &&
		    s->calls[i].nr < SF_MAX_NR)
			ro->calls[s->calls[i].nr] = 1;
	ro->nr_connect = nr_of("connect");
	ro->nr_bind = nr_of("bind");
	ro->nr_sendto = nr_of("sendto");
	ro->nr_sendmsg = nr_of("sendmsg");
	return 0;
}

struct sf_attach {
	struct bpf_program *prog;
	bool cgroup;			/* attach to the cgroup fd */
	bool kprobe;			/* a kprobe on func */
	char func[64];			/* route 1: __x64_sys_<call> */
	char what[PATH_MAX + 64];
};

/* The programs a plan needs, once each. */
static size_t plan_progs(struct sf_rt *rt, const struct syscall_spec *s,
			 const struct sc_plan *p, const char *cg,
			 struct sf_attach *out, size_t max)
{
	static const char *const cg_progs[][3] = {
		{ "connect", "sf_connect4", "sf_connect6" },
		{ "bind", "sf_bind4", "sf_bind6" },
		{ "sendto", "sf_sendmsg4", "sf_sendmsg6" },
		{ "sendmsg", "sf_sendmsg4", "sf_sendmsg6" },
	};
	struct bpf_object *obj = rt->skel->obj;
	char name[96];
	size_t i, j, k, n = 0, slot = 0;

#define ADD(pname, iscg, ...) do {					\
		struct bpf_program *pr_ =				\
			bpf_object__find_program_by_name(obj, pname);	\
		for (k = 0; k < n; k++)					\
			if (out[k].prog == pr_)				\
				break;					\
		if (pr_ && k == n && n < max) {				\
			out[n].prog = pr_;				\
			out[n].cgroup = iscg;				\
			out[n].kprobe = false;				\
			out[n].func[0] = 0;				\
			snprintf(out[n].what, sizeof(out[n].what),	\
				 __VA_ARGS__);				\
			n++;						\
		}							\
	} while (0)
	for (i = 0; i < s->ncalls; i++) {
		const char *call = s->calls[i].name, *hook = lsm_hook(call);

		switch (p->route[i]) {
		case SC_FMOD_SYSCALL:
		case SC_KPROBE:
			if (slot >= SF_ENTRY_SLOTS || n >= max)
				break;
			snprintf(name, sizeof(name), "sf_%s_sys%zu",
				 p->route[i] == SC_KPROBE ? "kprobe" : "fmod",
				 slot);
			out[n].prog = bpf_object__find_program_by_name(obj,
								       name);
			if (!out[n].prog)
				break;
			rt->skel->rodata->entry_nr[slot++] = s->calls[i].nr;
			out[n].cgroup = false;
			out[n].kprobe = p->route[i] == SC_KPROBE;
			snprintf(out[n].func, sizeof(out[n].func),
				 "__x64_sys_%s", call);
			snprintf(out[n].what, sizeof(out[n].what), "%s/%s",
				 out[n].kprobe ? "kprobe" : "fmod_ret",
				 out[n].func);
			n++;
			break;
		case SC_CGROUP:
			for (j = 0; j < ARRAY_SIZE(cg_progs); j++) {
				if (strcmp(cg_progs[j][0], call))
					continue;
				ADD(cg_progs[j][1], true, "%s on %s",
				    bpf_program__section_name(
					bpf_object__find_program_by_name(obj,
						cg_progs[j][1])), cg);
				ADD(cg_progs[j][2], true, "%s on %s",
				    bpf_program__section_name(
					bpf_object__find_program_by_name(obj,
						cg_progs[j][2])), cg);
			}
			break;
		case SC_LSM:
			snprintf(name, sizeof(name), "sf_lsm_%s", hook);
			ADD(name, false, "lsm/%s", hook);
			break;
		case SC_FMOD_SECURITY:
			if (s->path && !strcmp(hook, "file_permission"))
				snprintf(name, sizeof(name),
					 "sf_fmod_file_permission_path");
			else
				snprintf(name, sizeof(name), "sf_fmod_%s",
					 hook);
			ADD(name, false, "fmod_ret/%s",
			    bpf_program__section_name(
				bpf_object__find_program_by_name(obj, name)) +
			    strlen("fmod_ret/"));
			break;
		default:
			break;
		}
	}
	if (s->follow_forks && s->target->kind == FL_TARGET_PID)
		ADD("sf_fork", false, "tp_btf/sched_process_fork");
#undef ADD
	return n;
}

/* The record written before load: what is about to be attached. */
static json_object *undo_state(const struct syscall_spec *s,
			       const struct sf_attach *at, size_t n)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	json_object_object_add(o, "runner", json_object_new_int(getpid()));
	json_object_object_add(o, "runner_start",
			       json_object_new_uint64(
				       fl_pid_start_time(getpid())));
	add_str(o, "target", s->target_name);
	a = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(at[i].what));
	json_object_object_add(o, "links", a);
	add_str(o, "note", "BPF links held by the runner's file descriptors, never pinned: they go with the runner");
	return o;
}

enum obj_kind { OBJ_PROG, OBJ_MAP, OBJ_LINK };

/* A BPF object's id from its descriptor; 0 when it has none. */
static __u32 obj_id(int fd, enum obj_kind kind)
{
	struct bpf_link_info li = {};
	struct bpf_prog_info pi = {};
	struct bpf_map_info mi = {};
	__u32 len;

	if (fd < 0)
		return 0;
	switch (kind) {
	case OBJ_PROG:
		len = sizeof(pi);
		return bpf_obj_get_info_by_fd(fd, &pi, &len) ? 0 : pi.id;
	case OBJ_MAP:
		len = sizeof(mi);
		return bpf_obj_get_info_by_fd(fd, &mi, &len) ? 0 : mi.id;
	case OBJ_LINK:
		len = sizeof(li);
		return bpf_obj_get_info_by_fd(fd, &li, &len) ? 0 : li.id;
	}
	return 0;
}

static json_object *id_array(json_object *o, const char *key)
{
	json_object *a = json_object_new_array();

	json_object_object_add(o, key, a);
	return a;
}

/*
 * The record once attached: with what revert needs to stop the fault from
 * any process, the ids of the programs, of their off switch (the sf_ctl
 * map) and of the links.
 */
static int save_ids(const struct sf_rt *rt, const struct sf_attach *at,
		    size_t n, struct fl_undo *u)
{
	json_object *st = undo_state(rt->s, at, n), *progs, *links;
	struct bpf_program *prog;
	size_t i;
	int ret;

	progs = id_array(st, "prog_ids");
	bpf_object__for_each_program(prog, rt->skel->obj)
		if (bpf_program__fd(prog) >= 0)
			json_object_array_add(progs, json_object_new_uint64(
				obj_id(bpf_program__fd(prog), OBJ_PROG)));
	json_object_object_add(st, "ctl_map_id", json_object_new_uint64(
		obj_id(bpf_map__fd(rt->skel->maps.sf_ctl), OBJ_MAP)));
	links = id_array(st, "link_ids");
	for (i = 0; i < rt->nlinks; i++) {
		__u32 id = obj_id(bpf_link__fd(rt->links[i]), OBJ_LINK);

		/* A perf-event attachment of old kernels has no link id. */
		if (id)
			json_object_array_add(links,
					      json_object_new_uint64(id));
	}
	ret = fl_undo_save(u, st);
	json_object_put(st);
	if (ret)
		fl_undo_why(u, "cannot save the undo record: %s",
			    strerror(-ret));
	return ret;
}

/* "fmod_ret/__x64_sys_fsync tp_btf/sched_process_fork" */
static const char *at_names(const struct sf_attach *at, size_t n, char *buf,
			    size_t len)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < n; i++)
		APPEND(buf, len, off, "%s%s", i ? ", " : "", at[i].what);
	return buf;
}

static struct sf_rt *rt_new(const struct syscall_spec *s)
{
	struct sf_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->s = s;
	rt->first = json_object_new_array();
	pthread_mutex_init(&rt->lock, NULL);
	rt->mono_to_wall = fl_wall_ns() - (int64_t)fl_now_ns();
	return rt;
}

/*
 * Open sysfault.bpf.c with the settings and the programs the plan needs,
 * save the record, load.  at[] gets the programs to attach.
 */
static int load(struct sf_rt *rt, const struct sc_plan *p, const char *cg,
		struct sf_attach *at, size_t *nat, struct fl_undo *u)
{
	const struct syscall_spec *s = rt->s;
	struct bpf_program *prog;
	struct bpf_log log;
	json_object *st;
	char names[512];
	size_t n, i;
	int ret;

	bpf_log_begin(&log);
	rt->skel = sysfault__open();
	if (!rt->skel) {
		ret = errno ? -errno : -EINVAL;
		fl_undo_why(u, "cannot open the BPF object: %s", log.first);
		goto out;
	}
	ret = set_rodata(rt, s, p, u);
	if (ret)
		goto out;
	n = plan_progs(rt, s, p, cg, at, *nat);
	*nat = n;
	if (!n) {
		fl_undo_why(u, "no route for any call on this kernel");
		ret = -EOPNOTSUPP;
		goto out;
	}
	bpf_object__for_each_program(prog, rt->skel->obj) {
		bool on = false;

		for (i = 0; i < n; i++)
			on |= at[i].prog == prog;
		bpf_program__set_autoload(prog, on);
	}
	/* Route 1: each slot's fmod_ret program on its syscall. */
	for (i = 0; i < n; i++) {
		if (!at[i].func[0] || at[i].kprobe)
			continue;
		ret = bpf_program__set_attach_target(at[i].prog, 0,
						     at[i].func);
		if (ret) {
			fl_undo_why(u, "cannot find %s in the kernel's BTF: %s",
				    at[i].func, strerror(-ret));
			goto out;
		}
	}

	/* The record first: what is about to be attached. */
	st = undo_state(s, at, n);
	ret = fl_undo_save(u, st);
	json_object_put(st);
	if (ret) {
		fl_undo_why(u, "cannot save the undo record: %s",
			    strerror(-ret));
		goto out;
	}
	ret = sysfault__load(rt->skel);
	if (ret)
		fl_undo_why(u, "cannot load the BPF programs (%s): %s%s%s%s%.255s",
			    at_names(at, n, names, sizeof(names)),
			    strerror(-ret), log.first[0] ? ": " : "",
			    log.first, log.verifier[0] ? "; verifier: " : "",
			    log.verifier);
out:
	bpf_log_end(&log);
	return ret;
}

/* Seed the targets and start draining the ring buffer. */
static int start_reader(struct sf_rt *rt, struct fl_undo *u)
{
	const struct syscall_spec *s = rt->s;
	struct fl_where w;
	char why[256];
	int ret;

	if (s->target->kind == FL_TARGET_PID &&
	    !fl_target_where(s->target, &w, why, sizeof(why)))
		seed_tgid(bpf_map__fd(rt->skel->maps.fl_targets), w.pid,
			  s->follow_forks, 0);
	rt->rb = ring_buffer__new(bpf_map__fd(rt->skel->maps.fl_events),
				  on_event, rt, NULL);
	if (!rt->rb) {
		ret = errno ? -errno : -ENOMEM;
		fl_undo_why(u, "cannot read the ring buffer: %s",
			    strerror(-ret));
		return ret;
	}
	ret = pthread_create(&rt->reader, NULL, reader_main, rt);
	if (ret) {
		fl_undo_why(u, "cannot start the event reader: %s",
			    strerror(ret));
		return -ret;
	}
	rt->reading = true;
	return 0;
}

static int attach_all(struct sf_rt *rt, const struct sf_attach *at,
		      size_t n, const char *cg, struct fl_undo *u)
{
	struct bpf_link *l;
	int ret = 0, cgfd = -1;
	size_t i;

	rt->links = calloc(n, sizeof(*rt->links));
	if (!rt->links)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (at[i].cgroup && cgfd < 0) {
			cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cgfd < 0) {
				ret = -errno;
				fl_undo_why(u, "cannot open the cgroup %s: %s",
					    cg, strerror(errno));
				break;
			}
		}
		if (at[i].cgroup)
			l = bpf_program__attach_cgroup(at[i].prog, cgfd);
		else if (at[i].kprobe)
			l = bpf_program__attach_kprobe(at[i].prog, false,
						       at[i].func);
		else
			l = bpf_program__attach(at[i].prog);
		if (!l) {
			ret = errno ? -errno : -EINVAL;
			fl_undo_why(u, "cannot attach %s: %s", at[i].what,
				    strerror(-ret));
			break;
		}
		rt->links[rt->nlinks++] = l;
	}
	if (cgfd >= 0)
		close(cgfd);
	return ret;
}

static int syscall_apply(const struct fl_fault *f, struct fl_undo *u,
			 void **handle)
{
	const struct syscall_spec *s = f->priv;
	struct sf_attach at[64];
	size_t n = ARRAY_SIZE(at);
	char cg[PATH_MAX] = "";
	struct sc_plan p;
	struct sf_rt *rt;
	int ret;

	if (!s || !s->target)
		return -EINVAL;
	if (make_plan(s, &p))
		return -ENOMEM;
	rt = rt_new(s);
	if (!rt) {
		free_plan(&p);
		return -ENOMEM;
	}
	target_cgroup(s, cg, sizeof(cg));
	ret = load(rt, &p, cg, at, &n, u);
	if (!ret)
		ret = start_reader(rt, u);
	if (!ret)
		ret = attach_all(rt, at, n, cg, u);
	if (!ret)
		ret = save_ids(rt, at, n, u);
	free_plan(&p);
	if (ret) {
		syscall_release(rt);
		return ret;
	}
	*handle = rt;
	return 0;
}

/* ------------------------------------------------------------------ */
/* revert, from the record alone, in any process.                      */

static bool has_id(json_object *a, __u32 id)
{
	size_t i;

	for (i = 0; id && i < json_object_array_length(a); i++)
		if (json_object_get_uint64(json_object_array_get_idx(a, i)) ==
		    id)
			return true;
	return false;
}

/*
 * Is map id the off switch of one of the record's programs, and are they
 * still faultline's?  Ids are not reused before they wrap, but a program
 * that holds the map says it is the same one.
 */
static int ctl_ours(json_object *progs, __u32 map_id)
{
	__u32 maps[16], len, i;
	size_t k;
	int fd;

	for (k = 0; k < json_object_array_length(progs); k++) {
		struct bpf_prog_info info = {};

		fd = bpf_prog_get_fd_by_id(json_object_get_uint64(
			json_object_array_get_idx(progs, k)));
		if (fd < 0)
			continue;
		info.nr_map_ids = ARRAY_SIZE(maps);
		info.map_ids = (__u64)(unsigned long)maps;
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, BPFAULT_PROG_PREFIX,
			     strlen(BPFAULT_PROG_PREFIX)))
			for (i = 0; i < info.nr_map_ids &&
			     i < ARRAY_SIZE(maps); i++)
				if (maps[i] == map_id) {
					close(fd);
					return 1;
				}
		close(fd);
	}
	return 0;
}

/* Turn the programs off: every one checks sf_ctl first. */
static int switch_off(json_object *state)
{
	json_object *progs, *v;
	__u32 key = 0, off = 1, id;
	int fd, ret;

	if (!json_object_object_get_ex(state, "ctl_map_id", &v) ||
	    !json_object_object_get_ex(state, "prog_ids", &progs))
		return -ENOENT;
	id = json_object_get_uint64(v);
	if (!id || !ctl_ours(progs, id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	ret = bpf_map_update_elem(fd, &key, &off, BPF_ANY) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Detach one link by id, if it is still one of the record's programs'.
 * Links of tracing programs (LSM, fmod_ret, tp_btf) cannot be detached
 * but by closing every descriptor: -EOPNOTSUPP, and then the off switch
 * holds them.
 */
static int detach_link(__u32 id, json_object *progs)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_link_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Not one of the record's programs: a reused id, not ours. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		ret = -errno;
	else if (has_id(progs, info.prog_id) && bpf_link_detach(fd))
		ret = errno == ENOLINK ? 0 : -errno;
	else
		ret = 0;
	close(fd);
	return ret;
}

/*
 * Revert from the record: throw the programs' off switch, then detach
 * the links by id.  In the runner, release then closes what it holds;
 * anywhere else the runner may be gone, and its links with it (ENOENT:
 * done), or alive and stuck (recover --force), and this stops the fault.
 */
static int syscall_revert(json_object *state)
{
	json_object *links, *progs;
	int off, ret = 0, r;
	size_t i;

	off = switch_off(state);
	if (off && off != -ENOENT)
		ret = off;
	if (!json_object_object_get_ex(state, "link_ids", &links) ||
	    !json_object_object_get_ex(state, "prog_ids", &progs))
		return ret;
	for (i = 0; i < json_object_array_length(links); i++) {
		r = detach_link(json_object_get_uint64(
			json_object_array_get_idx(links, i)), progs);
		if (r == -EOPNOTSUPP && !off)
			r = 0;
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/* Injections per call and errno, and the first events. */
static int syscall_observe(void *handle, json_object *out)
{
	struct sf_rt *rt = handle;
	const struct syscall_spec *s = rt ? rt->s : NULL;
	json_object *calls, *errs;
	uint64_t kernel = 0, dropped = 0;
	size_t i;

	if (!rt || !s)
		return -ENOENT;
	/* Let the reader catch up with what the kernel counted. */
	if (rt->skel && rt->skel->bss) {
		for (i = 0; i < SF_MAX_NR; i++)
			kernel += rt->skel->bss->injected[i];
		dropped = rt->skel->bss->dropped;
	}
	for (i = 0; i < 50; i++) {
		uint64_t got;

		pthread_mutex_lock(&rt->lock);
		got = rt->events;
		pthread_mutex_unlock(&rt->lock);
		if (got + dropped >= kernel)
			break;
		usleep(10000);
	}
	pthread_mutex_lock(&rt->lock);
	add_str(out, "target", s->target_name);
	json_object_object_add(out, "injections",
			       json_object_new_uint64(rt->events));
	json_object_object_add(out, "kernel_count",
			       json_object_new_uint64(kernel));
	json_object_object_add(out, "events_lost",
			       json_object_new_uint64(dropped));
	calls = json_object_new_object();
	for (i = 0; i < SF_MAX_NR; i++)
		if (rt->per_call[i])
			json_object_object_add(calls, fl_syscall_name(i) ?
				fl_syscall_name(i) : "?",
				json_object_new_uint64(rt->per_call[i]));
	json_object_object_add(out, "calls", calls);
	errs = json_object_new_object();
	for (i = 0; i < ARRAY_SIZE(rt->per_errno); i++)
		if (rt->per_errno[i])
			json_object_object_add(errs, fl_errno_name(i) ?
				fl_errno_name(i) : "?",
				json_object_new_uint64(rt->per_errno[i]));
	json_object_object_add(out, "errnos", errs);
	json_object_object_add(out, "first_events",
			       json_object_get(rt->first));
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

/*
 * Live: the injections read so far, per call, under the reader's lock;
 * "12 injections (openat 9, write 3)".
 */
static int syscall_live(void *handle, json_object *out)
{
	struct sf_rt *rt = handle;
	json_object *calls;
	char sum[512];
	size_t i, off, n = 0;

	if (!rt)
		return -ENOENT;
	calls = json_object_new_object();
	pthread_mutex_lock(&rt->lock);
	off = snprintf(sum, sizeof(sum), "%llu injection%s",
		       (unsigned long long)rt->events,
		       rt->events == 1 ? "" : "s");
	json_object_object_add(out, "injections",
			       json_object_new_uint64(rt->events));
	for (i = 0; i < SF_MAX_NR; i++) {
		const char *name = fl_syscall_name(i) ? fl_syscall_name(i) :
				   "?";

		if (!rt->per_call[i])
			continue;
		json_object_object_add(calls, name,
				       json_object_new_uint64(rt->per_call[i]));
		APPEND(sum, sizeof(sum), off, "%s%s %llu", n++ ? ", " : " (",
		       name, (unsigned long long)rt->per_call[i]);
	}
	pthread_mutex_unlock(&rt->lock);
	if (n)
		APPEND(sum, sizeof(sum), off, ")");
	json_object_object_add(out, "calls", calls);
	add_str(out, "summary", sum);
	return 0;
}

const struct fl_engine syscall_engine = {
	.name = "syscall",
	.summary = "fail chosen syscalls of a target with an errno (eBPF)",
	.parse = syscall_parse,
	.spec_free = syscall_spec_free,
	.check = syscall_check,
	.describe = syscall_describe,
	.resources = syscall_resources,
	.apply = syscall_apply,
	.live = syscall_live,
	.observe = syscall_observe,
	.revert = syscall_revert,
	.release = syscall_release,
	.scan = bpfault_scan_leftovers,
};
