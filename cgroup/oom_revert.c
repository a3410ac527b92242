// SPDX-License-Identifier: GPL-2.0-only
/*
 * Revert an oom fault from its undo record alone: in the runner, the
 * guardian or recover alike.  The record holds the cgroup, the values to
 * write back in order (v1: memsw before the limit), the scratch cgroup
 * a pid was moved into, what faultline last wrote ("wrote") and someone
 * else's value the watcher found ("foreign"); a record prepare saved
 * names its "switch", which apply creates before its first write: while
 * there is none (and no "wrote"), nothing was written and the record is
 * done.  A file that holds someone
 * else's value is never written over: the record then stays.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/memcg.h"
#include "cgroup/oom.h"

/* Move what is left in a scratch cgroup back, then remove it. */
static int oom_scratch_undo(json_object *sc)
{
	const char *path = fl_json_text(sc, "path");
	const char *from = fl_json_text(sc, "from");
	const char *root = fl_kernel_get()->memory_root;
	pid_t *procs = NULL;
	size_t n = 0, i;
	int r, ret = 0;

	if (!path || !strstr(path, "/" FL_SCRATCH_PREFIX))
		return -EINVAL;
	if (access(path, F_OK))
		return 0;
	if (!from || access(from, F_OK))
		from = root;
	r = fl_cgroup_procs(path, &procs, &n);
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

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(restore, i);
		const char *f = fl_json_text(o, "file");

		if (f && !strcmp(f, file))
			return fl_json_text(o, "value");
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
	json_object *wrote, *fo = fl_json_get(state, "foreign");
	const char *ffile = fl_json_text(fo, "file");
	const char *fwrote = fl_json_text(fo, "wrote");
	size_t n = 0;

	if (!json_object_object_get_ex(state, "wrote", &wrote) ||
	    !json_object_is_type(wrote, json_type_object))
		return 0;
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

/*
 * Someone else's limit: never write over it.  In a scratch cgroup
 * (faultline's own, removed at the end) that is all; in theirs the record
 * stays until the saved value is back.
 */
static void say_theirs(const char *path, json_object *restore, bool own,
		       const struct oom_theirs *th, size_t nth)
{
	const char *orig;
	size_t i;

	for (i = 0; i < nth; i++) {
		orig = saved_value(restore, th[i].file);
		if (own)
			fl_warn("oom: cgroup %s: %s is now %s, not the %s faultline wrote: someone else changed it during the drill; the squeeze stopped there (the cgroup is faultline's own scratch cgroup, removed at the end)",
				path, th[i].file, th[i].found, th[i].wrote);
		else
			fl_err("oom: cgroup %s: %s is now %s, not the %s faultline wrote: someone else changed it during the drill; leaving theirs in place (the undo record stays: 'faultline recover' finishes once %s is back to %s, or remove the record to keep theirs)",
			       path, th[i].file, th[i].found, th[i].wrote,
			       th[i].file, orig ? orig : "its saved value");
	}
}

/*
 * Write the saved values back in the saved order (v1: memsw before the
 * limit); a write the kernel refuses for ordering is tried again after
 * the others.  Files holding someone else's value are left.
 */
static int restore_files(const char *path, json_object *restore,
			 const struct oom_theirs *th, size_t nth)
{
	size_t i, n = restore ? json_object_array_length(restore) : 0;
	int ret = 0, r, pass;
	bool *done;

	if (!n)
		return 0;
	done = calloc(n, sizeof(*done));
	if (!done)
		return -ENOMEM;
	for (pass = 0; pass < 2; pass++) {
		ret = 0;
		for (i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(restore, i);
			const char *file = fl_json_text(o, "file");
			const char *val = fl_json_text(o, "value");

			if (done[i])
				continue;
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
	return ret;
}

/*
 * In the runner, observe has stopped the watcher before this runs.  Were
 * it still running, the values written back here are someone else's to
 * it, and it stops squeezing at its next round.
 */
int oom_revert(json_object *state)
{
	struct oom_theirs th[OOM_MAX_THEIRS];
	json_object *restore = fl_json_get(state, "restore"), *sc;
	const char *path = fl_json_text(state, "path"), *sw;
	size_t nth;
	int ret, r;
	bool own;

	if (!path)
		return -EINVAL;
	/* A record of prepare's whose switch apply never created: nothing
	 * was written.  One that says what was written, or whose folder is
	 * gone (the runner's own copy of a deleted journal), is reverted. */
	sw = fl_json_text(state, "switch");
	if (sw && !fl_json_get(state, "wrote")) {
		r = fl_switch_on(sw, OOM_SWITCH_PREFIX, OOM_SWITCH_SUFFIX);
		if (!r || r == -EINVAL)
			return r;
	}
	cg_init();
	nth = oom_theirs_json(state, path, restore, th);
	/* Removed under us (its processes gone): nothing to restore. */
	if (access(path, F_OK) && errno == ENOENT) {
		fl_warn("oom: cgroup %s was removed during the drill; nothing to restore there",
			path);
		nth = 0;
	}
	own = strstr(path, "/" FL_SCRATCH_PREFIX) != NULL;
	say_theirs(path, restore, own, th, nth);
	if (own)
		nth = 0;
	ret = restore_files(path, restore, th, nth);
	if (!ret)
		fl_effect_mark();
	if (json_object_object_get_ex(state, "scratch", &sc)) {
		r = oom_scratch_undo(sc);
		if (r && !ret)
			ret = r;
	}
	if (nth && !ret)
		ret = -EBUSY;
	if (!ret && sw)
		ret = fl_switch_remove(sw, OOM_SWITCH_PREFIX, OOM_SWITCH_SUFFIX);
	return ret;
}
