// SPDX-License-Identifier: GPL-2.0-only
/*
 * The locks of a run: the resources it holds ("dev:eth0", "pid:12",
 * "cgroup:/x"), registered with its journal under a lock on the journal
 * folder, so that two runs never fault the same thing at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/runner.h"

json_object *run_resources(struct runner *r)
{
	struct fl_experiment *exp = r->exp;
	json_object *all = json_object_new_array();
	size_t i, k;

	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = &exp->faults[i];
		const struct fl_target *t;
		char buf[4200];

		if (r->fr[i].state == FL_FAULT_SKIPPED)
			continue;
		if (f->engine->resources) {
			json_object *mine = json_object_new_array();
			char why[512];
			int nsfd, ret;

			/* A device is its target's namespace's ("dev:INO:eth0"). */
			ret = fl_fault_enter(f, false, &nsfd, why, sizeof(why));
			if (!ret) {
				ret = f->engine->resources(f, mine);
				fl_fault_leave(nsfd);
			}
			if (!ret)
				for (k = 0; k < json_object_array_length(mine);
				     k++)
					fl_json_add_uniq(all,
						json_object_get_string(
						json_object_array_get_idx(mine,
									  k)));
			json_object_put(mine);
		}
		/* The target a fault names, when it is a pid or a cgroup. */
		t = run_fault_target(r, i);
		if (t && !fl_target_resource(t, buf, sizeof(buf)))
			fl_json_add_uniq(all, buf);
	}
	return all;
}

static const char *res_common(json_object *a, json_object *b)
{
	size_t i, k;

	for (i = 0; a && i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(
					json_object_array_get_idx(a, i));

		for (k = 0; b && k < json_object_array_length(b); k++)
			if (!strcmp(s, json_object_get_string(
					json_object_array_get_idx(b, k))))
				return s;
	}
	return NULL;
}

/*
 * Under the global lock: refuse when a live run (or a dead one that left
 * undo records) holds one of our resources, else register the run.
 */
int run_register(struct runner *r, json_object *res,
			uint64_t deadline)
{
	struct fl_run_info *runs = NULL;
	char path[600];
	size_t n = 0, i;
	int lockfd, ret, busy = 0;

	if (mkdir(fl_rundir(), 0700) && errno != EEXIST) {
		ret = -errno;
		fl_err("cannot create %s: %s", fl_rundir(), strerror(errno));
		return ret;
	}
	/* The journal folder itself is the lock: no lock file is left. */
	snprintf(path, sizeof(path), "%s", fl_rundir());
	lockfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockfd < 0 || flock(lockfd, LOCK_EX)) {
		ret = -errno;
		fl_err("cannot lock %s: %s", path, strerror(errno));
		if (lockfd >= 0)
			close(lockfd);
		return ret;
	}
	ret = fl_runs_list(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *s = res_common(res, runs[i].resources);

		if (!s)
			continue;
		if (runs[i].alive) {
			fl_err("busy: %s is held by run %s (pid %d, %s); wait "
			       "for it to end or stop it first", s, runs[i].id,
			       (int)runs[i].pid, runs[i].file);
			busy++;
		} else if (json_object_array_length(runs[i].records)) {
			fl_err("busy: %s is held by dead run %s (%s), which "
			       "left undo records; run 'faultline recover %s' "
			       "first", s, runs[i].id, runs[i].file,
			       runs[i].id);
			busy++;
		}
	}
	if (busy) {
		ret = -EBUSY;
		goto out;
	}
	ret = fl_journal_create(r->exp, deadline, res, r->guardian, &r->j);
out:
	fl_runs_free(runs, n);
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return ret;
}

