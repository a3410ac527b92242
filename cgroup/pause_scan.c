// SPDX-License-Identifier: GPL-2.0-only
/*
 * recover --scan for the pause fault: cgroups that faultline froze and
 * that no run of the journal accounts for.  apply marks a cgroup with the
 * xattr trusted.faultline.pause (the run's id) before it freezes it, and
 * revert removes the mark after the thaw; a marked cgroup that is still
 * frozen and whose run is not in the journal was left behind.  Processes
 * stopped with SIGSTOP carry no mark, so a lost journal cannot name them
 * (docs/design.md says so).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "cgroup/pause.h"

#define SCAN_DEPTH	16

struct scan_ctx {
	struct fl_found *f;
	enum pause_how how;
	const char *root;
};

static bool run_held(const struct fl_found *f, const char *run)
{
	size_t i;

	for (i = 0; i < f->nruns; i++)
		if (!strcmp(f->runs[i].id, run))
			return true;
	return false;
}

static void scan_one(struct scan_ctx *c, const char *path)
{
	char run[128], what[PATH_MAX + 256], rm[2 * PATH_MAX + 128];
	ssize_t n;
	bool self;

	n = getxattr(path, PAUSE_XATTR, run, sizeof(run) - 1);
	if (n <= 0)
		return;
	run[n] = '\0';
	if (run_held(c->f, run) || pause_frozen(c->how, path, &self) != 1 ||
	    !self)
		return;
	snprintf(what, sizeof(what), "cgroup %s frozen by faultline run %s (%s)",
		 path, run, c->how == PAUSE_V2 ? "cgroup.freeze 1" :
		 "freezer.state FROZEN");
	snprintf(rm, sizeof(rm), "echo %s > %s/%s; setfattr -x %s %s",
		 c->how == PAUSE_V2 ? "0" : "THAWED", path,
		 c->how == PAUSE_V2 ? "cgroup.freeze" : "freezer.state",
		 PAUSE_XATTR, path);
	c->f->fn(c->f->ctx, "cgroup", what, c->root, rm);
}

static void scan_tree(struct scan_ctx *c, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (depth > SCAN_DEPTH)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) >= sizeof(path))
			continue;
		scan_one(c, path);
		scan_tree(c, path, depth + 1);
	}
	closedir(d);
}

void pause_scan(struct fl_found *found)
{
	const struct fl_cg_controller *fz = fl_kernel_cg("freezer");
	const char *v2 = fl_kernel_get()->unified_root;
	struct scan_ctx c = { .f = found };

	if (v2[0]) {
		c.how = PAUSE_V2;
		c.root = v2;
		scan_tree(&c, v2, 0);
	}
	if (fz && fz->mode == FL_CG_V1 && fz->mount[0]) {
		c.how = PAUSE_V1;
		c.root = fz->mount;
		scan_tree(&c, fz->mount, 0);
	}
}
