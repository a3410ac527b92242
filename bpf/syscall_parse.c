// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's schema: target, follow-forks, calls (names and the
 * groups file, network and process), errno (one, or weights), probability,
 * when (after, every, times), and the path and peer filters, which only
 * some calls can honour.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/syscall.h"

const char *const syscall_keys[] = {
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

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

void syscall_spec_free(void *spec)
{
	struct syscall_spec *s = spec;

	if (!s)
		return;
	free(s->calls);
	free(s->path);
	free(s->ports);
	free(s->to);
	free(s);
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
	n = fl_node_count(v);
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
		const struct fl_node *it = fl_node_item(v, i);

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
	if (fl_submap_check(v, when_keys, "when", "give after, every or times",
			    &err, d))
		return -EINVAL;
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

/*
 * One of peer's lists (a scalar or a non-empty sequence): its *n items,
 * zeroed; or NULL with *err set (-EINVAL, said; -ENOMEM).
 */
static void *peer_list(const struct fl_node *p, const char *expected,
		       size_t size, size_t *n, int *err, struct fl_diag *d)
{
	void *a;

	*n = fl_node_count(p);
	if (p->type == FL_NODE_MAP || !*n) {
		fl_diag_err(d, p, "%s", expected);
		*err = -EINVAL;
		return NULL;
	}
	a = calloc(*n, size);
	if (!a)
		*err = -ENOMEM;
	return a;
}

static int parse_peer(const struct fl_node *v, struct syscall_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p;
	uint64_t u;
	size_t i, n;
	int err = 0;

	s->has_peer = true;
	if (fl_submap_check(v, peer_keys, "peer", "give ports or to", &err, d))
		return -EINVAL;
	p = fl_map_get(v, "ports");
	if (p && (s->ports = peer_list(p, "peer.ports: expected a port or a non-empty list of ports",
				       sizeof(*s->ports), &n, &err, d))) {
		for (i = 0; i < n; i++) {
			if (fl_get_u64(fl_node_item(p, i), "peer.ports", 1,
				       65535, &u, d))
				err = -EINVAL;
			else
				s->ports[i] = u;
		}
		s->nports = n;
	}
	p = fl_map_get(v, "to");
	if (err != -ENOMEM && p &&
	    (s->to = peer_list(p, "peer.to: expected an address, a CIDR or a non-empty list of them",
			       sizeof(*s->to), &n, &err, d))) {
		for (i = 0; i < n; i++)
			if (fl_get_cidr(fl_node_item(p, i), "peer.to",
					&s->to[i], d))
				err = -EINVAL;
		s->nto = n;
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

int syscall_parse(struct fl_experiment *exp, const struct fl_fault *f,
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
	s->exp = exp;
	s->follow_forks = true;
	s->probability = 100;

	if (fl_need_target(exp, spec, "syscall", &s->target, d))
		err = -EINVAL;
	else
		s->target_name = s->target->name;
	if (fl_opt_bool(spec, "follow-forks", &s->follow_forks, d))
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
