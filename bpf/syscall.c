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
 * (check) and the plan (describe).  Apply lands with issue #6.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpfault.h"
#include "bpf/syscall_spec.h"

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
	{ "sendto", "sendmsg4 sendmsg6 (UDP)" },
	{ "sendmsg", "sendmsg4 sendmsg6 (UDP)" },
	{ "recvfrom", "recvmsg4 recvmsg6 (UDP)" },
	{ "recvmsg", "recvmsg4 recvmsg6 (UDP)" },
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

static void syscall_spec_free(struct syscall_spec *s)
{
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

static int syscall_parse(struct fl_experiment *exp, struct fl_fault *f,
			 const struct fl_node *spec, struct fl_diag *d)
{
	const struct fl_node *v, *path, *peer;
	struct syscall_spec *s;
	bool calls_ok = false;
	int err = 0;

	if (fl_map_check(spec, syscall_keys, "syscall", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
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

	if (err) {
		syscall_spec_free(s);
		return err;
	}
	f->priv = s;
	return 0;
}

static void syscall_free(struct fl_fault *f)
{
	syscall_spec_free(f->priv);
	f->priv = NULL;
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

/* The target's cgroup v2 folder, for cgroup BPF; -ENOENT when none. */
static int target_cgroup(const struct syscall_spec *s, char *buf, size_t len)
{
	const struct fl_kernel *k = fl_kernel_get();
	const char *root = k->unified_root;
	size_t n = strlen(root);

	if (s->target->kind == FL_TARGET_COMMAND) {
		snprintf(buf, len, "the cgroup faultline starts '%s' in",
			 s->target_name);
		return 0;
	}
	if (s->target->kind != FL_TARGET_CGROUP || !n ||
	    fl_target_cgroup_path(s->target, root, buf, len))
		return -ENOENT;
	if (strncmp(buf, root, n) || (buf[n] && buf[n] != '/'))
		return -ENOENT;
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

static int make_plan(const struct syscall_spec *s, struct sc_plan *p)
{
	size_t i;
	int f;

	memset(p, 0, sizeof(*p));
	for (f = 0; f < FL_BPF_NR_FEATURES; f++) {
		p->have[f] = fl_bpf_probe(f, p->why[f], sizeof(p->why[f]));
		if (p->have[f] != 1 && !p->why[f][0])
			snprintf(p->why[f], sizeof(p->why[f]), "%s",
				 p->have[f] < 0 ? strerror(-p->have[f]) :
				 "refused");
	}
	p->route = calloc(s->ncalls ? s->ncalls : 1, sizeof(*p->route));
	if (!p->route)
		return -ENOMEM;
	for (i = 0; i < s->ncalls; i++) {
		const char *name = s->calls[i].name;
		enum sc_route r = SC_NONE;

		if (feat(p, FL_BPF_FMOD_RET_SYSCALL))
			r = SC_FMOD_SYSCALL;
		else if (feat(p, FL_BPF_KPROBE_OVERRIDE))
			r = SC_KPROBE;
		else if (lsm_hook(name) && feat(p, FL_BPF_LSM))
			r = SC_LSM;
		else if (lsm_hook(name) && feat(p, FL_BPF_FMOD_RET_SECURITY))
			r = SC_FMOD_SECURITY;
		else if (cgroup_hook(name) && cgroup_v2(s) &&
			 feat(p, FL_BPF_CGROUP_SOCK_ADDR))
			r = SC_CGROUP;
		p->route[i] = r;
	}
	/* pid targets follow forks with a program; cgroups by ancestry. */
	p->forks_ok = true;
	if (s->follow_forks && !cgroup_scoped(s)) {
		if (feat(p, FL_BPF_TP_BTF)) {
			p->fork_prog = FL_BPF_TP_BTF;
		} else if (feat(p, FL_BPF_RAW_TP)) {
			p->fork_prog = FL_BPF_RAW_TP;
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
	APPEND(buf, len, off, ": no route on this kernel. The syscall entry needs fmod_ret (CONFIG_FUNCTION_ERROR_INJECTION%s%s) or a kprobe with bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE%s%s)",
	       HERE(FL_BPF_FMOD_RET_SYSCALL), HERE(FL_BPF_KPROBE_OVERRIDE));
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
		snprintf(why, len, "follow-forks needs a tp_btf or raw_tp program on sched_process_fork (CONFIG_DEBUG_INFO_BTF for tp_btf), and neither loads; or set follow-forks: false");
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
			snprintf(buf, sizeof(buf), "BPF programs cgroup/%s attached to %s",
				 cgroup_hook(name), cg);
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
	add_uniq(objs, "BPF map fl_config (errno weights, probability, when counters, path and peer filters)");
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
	char buf[256];

	if (!s)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "target:%s", s->target_name);
	json_object_array_add(out, json_object_new_string(buf));
	return 0;
}

static int syscall_apply(struct fl_fault *f, struct fl_undo *u)
{
	/* apply lands with issue #6 */
	free(f->detail);
	f->detail = strdup("the syscall engine's apply is not in this build yet");
	return -EOPNOTSUPP;
}

static int syscall_revert(json_object *state)
{
	/* apply lands with issue #6: nothing was ever applied. */
	return 0;
}

const struct fl_engine syscall_engine = {
	.name = "syscall",
	.summary = "fail chosen syscalls of a target with an errno (eBPF)",
	.parse = syscall_parse,
	.free = syscall_free,
	.check = syscall_check,
	.apply = syscall_apply,
	.revert = syscall_revert,
	.describe = syscall_describe,
	.resources = syscall_resources,
};
