// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's ops: apply loads and attaches the plan and hands the
 * runner its handle; revert stops the fault from the undo record alone,
 * in any process; release frees what the runner's process holds.  The
 * spawn ops and guard are the seccomp route's (syscall_seccomp.c).  The
 * parts are listed in bpf/syscall.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/syscall.h"
#include "bpf/sysfault.skel.h"

static struct sf_rt *rt_new(const struct syscall_spec *s)
{
	struct sf_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->s = s;
	rt->epfd = rt->evfd = -1;
	rt->first = json_object_new_array();
	pthread_mutex_init(&rt->lock, NULL);
	rt->mono_to_wall = fl_wall_ns() - (int64_t)fl_now_ns();
	return rt;
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
	sf_reader_stop(rt);
	for (i = 0; i < rt->nlinks; i++)
		bpf_link__destroy(rt->links[i]);
	sysfault__destroy(rt->skel);
	json_object_put(rt->first);
	pthread_mutex_destroy(&rt->lock);
	free(rt->links);
	free(rt);
}

/* The plan's routes: any BPF one, route 4. */
static void routes_used(const struct syscall_spec *s, const struct sc_plan *p,
			bool *bpf, bool *seccomp)
{
	size_t i;

	*bpf = *seccomp = false;
	for (i = 0; i < s->ncalls; i++) {
		if (p->route[i] == SC_SECCOMP)
			*seccomp = true;
		else if (p->route[i] != SC_NONE)
			*bpf = true;
	}
}

/* The BPF routes: load, read the ring buffer, attach, save the ids. */
static int apply_bpf(struct sf_rt *rt, const struct sc_plan *p,
		     struct fl_undo *u)
{
	struct sf_attach at[64];
	size_t n = ARRAY_SIZE(at);
	char cg[PATH_MAX] = "";
	int ret;

	sc_target_cgroup(rt->s, cg, sizeof(cg));
	ret = sf_load(rt, p, cg, at, &n, u);
	if (!ret) {
		sf_seed_targets(rt);
		ret = sf_reader_start(rt, u);
	}
	if (!ret)
		ret = sf_attach_all(rt, at, n, cg, u);
	/* Live from the last attach: the record's ids come after. */
	if (!ret) {
		fl_effect_mark();
		ret = sf_save_ids(rt, at, n, u);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* prepare: the object loaded and verified before the timeline.        */

/*
 * A fault prepared before the timeline: for the BPF routes the object
 * opened and loaded for its cgroup (the folder, and its inode, then),
 * its reader started and its programs attached with their off switch
 * thrown; for route 4 the switch file's name.  The record is saved with
 * all of it: apply switches the programs on and creates the switch file.
 */
struct sf_prep {
	struct sf_rt *rt;
	struct sf_attach at[64];
	size_t n;
	char cg[PATH_MAX];
	ino_t cg_ino;
	bool bpf, seccomp;		/* the routes it uses */
	bool saved;			/* the record is in the journal */
};

static ino_t ino_of(const char *path)
{
	struct stat st;

	return path[0] && !stat(path, &st) ? st.st_ino : 0;
}

static void syscall_unprepare(void *prep)
{
	struct sf_prep *pp = prep;

	if (!pp)
		return;
	syscall_release(pp->rt);
	free(pp);
}

/* The programs' off switch (sf_ctl), from the process that loaded them. */
static int ctl_set(struct sf_rt *rt, __u32 off)
{
	__u32 key = 0;

	if (!rt->skel)
		return 0;
	return bpf_map_update_elem(bpf_map__fd(rt->skel->maps.sf_ctl), &key,
				   &off, BPF_ANY) ? -errno : 0;
}

/*
 * The BPF routes prepared: loaded, switched off, read, attached.  Off,
 * the programs pass every call and count none, so nothing the target
 * does changes until apply switches them on.
 */
static int prepare_bpf(struct sf_prep *pp, const struct sc_plan *p,
		       struct fl_undo *u)
{
	int ret;

	pp->n = ARRAY_SIZE(pp->at);
	ret = sf_load(pp->rt, p, pp->cg, pp->at, &pp->n, u);
	if (!ret)
		ret = ctl_set(pp->rt, 1);
	if (!ret)
		ret = sf_reader_start(pp->rt, u);
	if (!ret)
		ret = sf_attach_all(pp->rt, pp->at, pp->n, pp->cg, u);
	return ret;
}

/*
 * The kernel's BTF once (syscall_load.c), then the routes prepared and
 * the record saved with the programs', their off switch's and the links'
 * ids, and route 4's switch file.  Until apply, its revert throws a
 * switch already thrown and detaches the links (or finds them gone with
 * the runner), and removes a switch file that does not exist: nothing
 * changes.  What fails here is left to apply, which says why.
 */
static int syscall_prepare(const struct fl_fault *f, struct fl_undo *u,
			   void **prep)
{
	const struct syscall_spec *s = f->priv;
	struct sf_prep *pp;
	struct sc_plan p;

	*prep = NULL;
	if (!s || !s->target || sc_make_plan(s, &p))
		return 0;
	pp = calloc(1, sizeof(*pp));
	if (pp)
		pp->rt = rt_new(s);
	if (pp && pp->rt) {
		routes_used(s, &p, &pp->bpf, &pp->seccomp);
		sc_target_cgroup(s, pp->cg, sizeof(pp->cg));
		pp->cg_ino = ino_of(pp->cg);
		if (pp->seccomp)
			sc_seccomp_switch_path(f, u, pp->rt->sw_path,
					       sizeof(pp->rt->sw_path));
		if (!pp->bpf || !prepare_bpf(pp, &p, u)) {
			/* Not saved: apply saves it before it switches on. */
			pp->saved = !sf_save_ids(pp->rt, pp->at, pp->n, u);
			*prep = pp;
			pp = NULL;
		}
	}
	syscall_unprepare(pp);
	sc_free_plan(&p);
	return 0;
}

/* The seccomp route works through the filter run put in the command. */
static int seccomp_listener(const struct sf_rt *rt, struct fl_undo *u)
{
	if (rt->sn)
		return 0;
	fl_undo_why(u, "target %s: the seccomp route needs the filter faultline installs when it starts the command, and it has none",
		    rt->s->target_name);
	return -EOPNOTSUPP;
}

/* The prepared object, when its cgroup is still the one it was made for. */
static struct sf_prep *take_prep(const struct syscall_spec *s,
				 struct fl_undo *u)
{
	struct sf_prep *pp = u->prep;
	char cg[PATH_MAX] = "";

	if (!pp)
		return NULL;
	sc_target_cgroup(s, cg, sizeof(cg));
	if (strcmp(cg, pp->cg) || ino_of(cg) != pp->cg_ino)
		return NULL;
	u->prep = NULL;
	return pp;
}

/*
 * Apply a prepared fault: the record prepare saved holds (the same
 * cgroup), so what is left is a pid target's processes in the map, and
 * one call per route: the programs' switch on, route 4's switch file.
 */
static int apply_prepared(struct sf_prep *pp, struct fl_undo *u,
			  void **handle)
{
	struct sf_rt *rt = pp->rt;
	int ret = 0;

	pp->rt = NULL;
	rt->sn = *handle;
	if (pp->seccomp)
		ret = seccomp_listener(rt, u);
	if (!ret && (!pp->saved || u->seq <= 0))
		ret = sf_save_ids(rt, pp->at, pp->n, u);
	if (!ret && pp->bpf) {
		sf_seed_targets(rt);
		ret = ctl_set(rt, 0);
		if (ret)
			fl_undo_why(u, "cannot switch the BPF programs on: %s",
				    strerror(-ret));
		else
			fl_effect_mark();
	}
	if (!ret && pp->seccomp) {
		ret = sc_seccomp_arm(rt, u);
		if (!ret)
			fl_effect_mark();
	}
	syscall_unprepare(pp);
	if (ret) {
		syscall_release(rt);
		return ret;
	}
	*handle = rt;
	return 0;
}

/*
 * Apply: the BPF routes, then route 4's window, whose switch the record
 * names before it exists.  *handle holds the child handle on entry (the
 * listener child_adopt took), which stays the runner's.
 */
static int syscall_apply(const struct fl_fault *f, struct fl_undo *u,
			 void **handle)
{
	const struct syscall_spec *s = f->priv;
	struct sf_prep *pp;
	bool bpf, seccomp;
	struct sc_plan p;
	struct sf_rt *rt;
	int ret = 0;

	if (!s || !s->target)
		return -EINVAL;
	pp = take_prep(s, u);
	if (pp)
		return apply_prepared(pp, u, handle);
	if (sc_make_plan(s, &p))
		return -ENOMEM;
	rt = rt_new(s);
	if (!rt) {
		sc_free_plan(&p);
		return -ENOMEM;
	}
	rt->sn = *handle;
	routes_used(s, &p, &bpf, &seccomp);
	if (seccomp)
		ret = seccomp_listener(rt, u);
	if (!ret && seccomp)
		sc_seccomp_switch_path(f, u, rt->sw_path, sizeof(rt->sw_path));
	if (!ret && bpf)
		ret = apply_bpf(rt, &p, u);
	else if (!ret && seccomp)
		ret = sf_save_ids(rt, NULL, 0, u);
	if (!ret && seccomp)
		ret = sc_seccomp_arm(rt, u);
	if (!ret && seccomp)
		fl_effect_mark();
	sc_free_plan(&p);
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
static bool ctl_ours(json_object *progs, __u32 map_id)
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
					return true;
				}
		close(fd);
	}
	return false;
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

	ret = sc_seccomp_revert(state);
	fl_effect_mark();
	/* The programs answer as though no fault were active from here. */
	off = switch_off(state);
	if (!off)
		fl_effect_mark();
	if (off && off != -ENOENT && !ret)
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

const struct fl_engine syscall_engine = {
	FL_ENGINE_OPS(syscall, "#16a085", "fail chosen syscalls of a target with an errno (eBPF)"),
	.spec_free = syscall_spec_free,
	.prepare = syscall_prepare,
	.unprepare = syscall_unprepare,
	.child_setup = syscall_child_setup,
	.child_adopt = syscall_child_adopt,
	.child_release = syscall_child_release,
	.guard = syscall_guard,
	.scan = bpfault_scan_leftovers,
};

