// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfault.bpf.c loaded as the plan says: its settings in .rodata, only
 * the programs of the chosen routes, the undo record saved before the
 * load and again, with the ids revert needs, once everything is attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "bpf/btfload.h"
#include "bpf/syscall.h"
#include "bpf/sysfault.skel.h"

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
static void seed_tgid(int mapfd, pid_t pid, bool follow)
{
	uint32_t key = pid;
	uint8_t one = 1;
	pid_t *kids;
	size_t n, i;

	bpf_map_update_elem(mapfd, &key, &one, BPF_ANY);
	if (!follow || fl_pid_descendants(pid, &kids, &n))
		return;
	for (i = 0; i < n; i++) {
		key = kids[i];
		bpf_map_update_elem(mapfd, &key, &one, BPF_ANY);
	}
	free(kids);
}

void sf_seed_targets(struct sf_rt *rt)
{
	const struct syscall_spec *s = rt->s;
	struct fl_where w;
	char why[256];

	if (s->target->kind == FL_TARGET_PID &&
	    !fl_target_where(s->target, &w, why, sizeof(why)))
		seed_tgid(bpf_map__fd(rt->skel->maps.fl_targets), w.pid,
			  s->follow_forks);
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
		ret = sc_target_cgroup(s, dir, sizeof(dir));
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
		const char *call = s->calls[i].name, *hook = sc_lsm_hook(call);

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
static json_object *undo_state(const struct sf_rt *rt,
			       const struct sf_attach *at, size_t n)
{
	const struct syscall_spec *s = rt->s;
	json_object *o = json_object_new_object(), *a;
	size_t i;

	json_object_object_add(o, "runner", json_object_new_int(getpid()));
	json_object_object_add(o, "runner_start",
			       json_object_new_uint64(
				       fl_pid_start_time(getpid())));
	fl_json_add_str(o, "target", s->target_name);
	a = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(at[i].what));
	json_object_object_add(o, "links", a);
	if (n)
		fl_json_add_str(o, "note",
				"BPF links held by the runner's file descriptors, never pinned: they go with the runner");
	sc_seccomp_record(rt, o);
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

/* Save st as the fault's record, and drop our reference to it. */
static int save_put(struct fl_undo *u, json_object *st)
{
	int ret = fl_undo_save(u, st);

	json_object_put(st);
	if (ret)
		fl_undo_why(u, "cannot save the undo record: %s",
			    strerror(-ret));
	return ret;
}

/*
 * The record once attached: with what revert needs to stop the fault from
 * any process, the ids of the programs, of their off switch (the sf_ctl
 * map) and of the links.
 */
int sf_save_ids(const struct sf_rt *rt, const struct sf_attach *at,
		size_t n, struct fl_undo *u)
{
	json_object *st = undo_state(rt, at, n), *progs, *links;
	struct bpf_program *prog;
	size_t i;

	progs = id_array(st, "prog_ids");
	/* No skeleton: route 4 alone, no BPF. */
	if (rt->skel) {
		bpf_object__for_each_program(prog, rt->skel->obj)
			if (bpf_program__fd(prog) >= 0)
				json_object_array_add(progs,
					json_object_new_uint64(obj_id(
					bpf_program__fd(prog), OBJ_PROG)));
		json_object_object_add(st, "ctl_map_id",
			json_object_new_uint64(obj_id(bpf_map__fd(
				rt->skel->maps.sf_ctl), OBJ_MAP)));
	}
	links = id_array(st, "link_ids");
	for (i = 0; i < rt->nlinks; i++) {
		__u32 id = obj_id(bpf_link__fd(rt->links[i]), OBJ_LINK);

		/* A perf-event attachment of old kernels has no link id. */
		if (id)
			json_object_array_add(links,
					      json_object_new_uint64(id));
	}
	return save_put(u, st);
}

/* The record before anything is attached: what is about to be. */
int sf_save_record(const struct sf_rt *rt, const struct sf_attach *at,
		   size_t n, struct fl_undo *u)
{
	return save_put(u, undo_state(rt, at, n));
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

/*
 * Open sysfault.bpf.c with the settings and the programs the plan needs,
 * save the record, load.  at[] gets the programs to attach.
 */
int sf_load(struct sf_rt *rt, const struct sc_plan *p, const char *cg,
	    struct sf_attach *at, size_t *nat, struct fl_undo *u)
{
	const struct syscall_spec *s = rt->s;
	struct bpf_program *prog;
	struct fl_btf_target t[SF_ENTRY_SLOTS];
	struct bpf_log log;
	char names[512];
	size_t n, i, nt;
	int ret;

	bpf_log_begin(&log);
	rt->skel = FL_BTF_OPEN(sysfault);
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
	for (i = 0, nt = 0; i < n; i++) {
		if (!at[i].func[0] || at[i].kprobe)
			continue;
		t[nt].prog = at[i].prog;
		t[nt++].func = at[i].func;
	}
	ret = fl_btf_targets(t, nt, &i);
	if (ret) {
		fl_undo_why(u, "cannot find %s in the kernel's BTF: %s",
			    i < nt ? t[i].func : "the attach points",
			    strerror(-ret));
		goto out;
	}

	/* The record first: what is about to be attached (prepare adds
	 * the programs' ids once they are loaded). */
	ret = sf_save_record(rt, at, n, u);
	if (ret)
		goto out;
	ret = sysfault__load(rt->skel);
	if (ret)
		fl_undo_why(u, "cannot load the BPF programs (%s): %s%s%s%s%.255s",
			    at_names(at, n, names, sizeof(names)),
			    strerror(-ret), log.first[0] ? ": " : "",
			    log.first, log.verifier[0] ? "; verifier: " : "",
			    log.verifier);
out:
	/* On every path: no program of this object stays in the table. */
	fl_btf_targets_end();
	bpf_log_end(&log);
	return ret;
}

int sf_attach_all(struct sf_rt *rt, const struct sf_attach *at,
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
