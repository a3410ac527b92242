// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scratch cgroups for command targets.  run starts each command target in
 * a cgroup of its own, faultline-<run>-<target>, in the memory hierarchy
 * and, on hybrid hosts, in the v2 hierarchy too: oom faults then squeeze
 * only the command, and cgroup BPF programs match it and its children.
 *
 * A scratch cgroup is journaled like a fault: the undo record is written
 * before mkdir, and its revert (the internal "scratch" engine, which no
 * experiment file can name) kills what is left inside and removes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/memcg.h"

#define SCRATCH_EMPTY_WAIT_MS	3000

/* Kill every process in a cgroup we created; 0 when it is empty. */
static int scratch_empty(const char *path)
{
	char file[600], line[32];
	int waited = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	for (;;) {
		bool any = false;

		f = fopen(file, "re");
		if (!f)
			return errno == ENOENT ? 0 : -errno;
		while (fgets(line, sizeof(line), f)) {
			pid_t pid = (pid_t)strtol(line, NULL, 10);

			if (pid > 0) {
				kill(pid, SIGKILL);
				any = true;
			}
		}
		fclose(f);
		if (!any)
			return 0;
		if (waited >= SCRATCH_EMPTY_WAIT_MS)
			return -EBUSY;
		usleep(20000);
		waited += 20;
	}
}

static int scratch_revert(json_object *state)
{
	json_object *paths, *v;
	const char *target = "?";
	bool made;
	size_t i;
	int ret = 0, r;

	if (!json_object_object_get_ex(state, "paths", &paths) ||
	    !json_object_is_type(paths, json_type_array))
		return -EINVAL;
	if (json_object_object_get_ex(state, "target", &v))
		target = json_object_get_string(v);
	made = json_object_object_get_ex(state, "made", &v) &&
	       json_object_get_boolean(v);
	for (i = 0; i < json_object_array_length(paths); i++) {
		const char *p = json_object_get_string(
			json_object_array_get_idx(paths, i));

		if (!p || !strstr(p, "/" FL_SCRATCH_PREFIX))
			continue;	/* only ever remove our own */
		/*
		 * Someone removed it under us (its processes killed first,
		 * since a cgroup with processes cannot be removed): done.
		 */
		if (access(p, F_OK) && errno == ENOENT) {
			if (made)
				fl_warn("target %s: its scratch cgroup %s was removed during the drill; nothing to remove there",
					target, p);
			continue;
		}
		r = scratch_empty(p);
		if (!r && rmdir(p) && errno != ENOENT)
			r = -errno;
		/* v1 may take a moment to let go of a killed task. */
		if (r == -EBUSY || (!r && !access(p, F_OK))) {
			usleep(100000);
			r = rmdir(p) && errno != ENOENT ? -errno : 0;
		}
		if (r && !ret)
			ret = r;
	}
	return ret;
}

static int scratch_describe(const struct fl_fault *f, json_object *out)
{
	fl_json_add_str(out, "mechanism", "scratch cgroup");
	return 0;
}

static int make_one(const char *root, const char *run_id,
		    const char *target, char **out)
{
	char path[512];
	int n;

	n = snprintf(path, sizeof(path), "%s/" FL_SCRATCH_PREFIX "%s-%s", root,
		     run_id, target);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	*out = strdup(path);
	return *out ? 0 : -ENOMEM;
}

static int scratch_create(struct fl_journal *j, const char *run_id,
			  struct fl_target *t, const struct fl_fault *rec)
{
	const struct fl_kernel *k = fl_kernel_get();
	struct fl_undo u = { .j = j, .f = rec, .seq = -1 };
	json_object *state, *paths;
	char path[512];
	int ret;

	state = json_object_new_object();
	paths = json_object_new_array();
	fl_json_add_str(state, "target", t->name);
	json_object_object_add(state, "paths", paths);
	if (k->memory_root[0]) {
		snprintf(path, sizeof(path), "%s/" FL_SCRATCH_PREFIX "%s-%s",
			 k->memory_root, run_id, t->name);
		json_object_array_add(paths, json_object_new_string(path));
	}
	if (k->unified_root[0] && strcmp(k->unified_root, k->memory_root)) {
		snprintf(path, sizeof(path), "%s/" FL_SCRATCH_PREFIX "%s-%s",
			 k->unified_root, run_id, t->name);
		json_object_array_add(paths, json_object_new_string(path));
	}
	if (!json_object_array_length(paths)) {
		ret = 0;	/* no cgroup hierarchy: nothing to make */
		goto out;
	}

	/* The undo record first, then the folders. */
	ret = fl_undo_save(&u, state);
	if (ret)
		goto out;
	if (k->memory_root[0]) {
		ret = make_one(k->memory_root, run_id, t->name,
			       &t->scratch_memory);
		if (ret)
			goto out;
	}
	if (k->unified_root[0] && strcmp(k->unified_root, k->memory_root)) {
		ret = make_one(k->unified_root, run_id, t->name,
			       &t->scratch_unified);
		if (ret)
			goto out;
	} else if (t->scratch_memory) {
		t->scratch_unified = strdup(t->scratch_memory);
	}
	/*
	 * They exist now: one that is gone at revert was removed by someone
	 * else, and revert says so.
	 */
	json_object_object_add(state, "made", json_object_new_boolean(true));
	ret = fl_undo_save(&u, state);
out:
	json_object_put(state);
	return ret;
}

/* In the child, before exec: join the target's scratch cgroups. */
static int scratch_join(const struct fl_target *t)
{
	const char *paths[] = { t->scratch_memory, t->scratch_unified };
	char file[600], buf[32];
	size_t i;
	int fd, n;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		if (!paths[i] || (i && t->scratch_memory &&
				  !strcmp(paths[i], t->scratch_memory)))
			continue;
		snprintf(file, sizeof(file), "%s/cgroup.procs", paths[i]);
		fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
		if (write(fd, buf, n) != n) {
			n = -errno;
			close(fd);
			return n;
		}
		close(fd);
	}
	return 0;
}

/*
 * The runner of a scratch cgroup's run (named FL_SCRATCH_PREFIX
 * "<stamp>-<pid>[-k]-<target>") when it is still running: then it may
 * still remove the cgroup itself.
 */
static pid_t scan_live_runner(const char *name)
{
	const char *p = name + strlen(FL_SCRATCH_PREFIX);
	long pid;

	/* Skip the stamp: YYYYmmdd-HHMMSS-. */
	if (strlen(p) < 17 || p[8] != '-' || p[15] != '-')
		return 0;
	pid = strtol(p + 16, NULL, 10);
	if (pid <= 0)
		return 0;
	return fl_pid_is_faultline((pid_t)pid) ? (pid_t)pid : 0;
}

/* A run of the journal holds the scratch cgroup named name. */
static bool scan_held(const struct fl_found *f, const char *name)
{
	const char *p = name + strlen(FL_SCRATCH_PREFIX);
	size_t k;

	for (k = 0; k < f->nruns; k++) {
		size_t l = strlen(f->runs[k].id);

		if (!strncmp(p, f->runs[k].id, l) && p[l] == '-')
			return true;
	}
	return false;
}

/* Scratch cgroups directly under a hierarchy's root. */
static void scan_root(struct fl_found *f, const char *root)
{
	char path[600], what[800], rm[1300];
	struct dirent *de;
	DIR *d;

	if (!root || !*root)
		return;
	d = opendir(root);
	while (d && (de = readdir(d))) {
		FILE *fp;
		int procs = 0;
		char line[32], held[96] = "";
		pid_t pid;

		if (strncmp(de->d_name, FL_SCRATCH_PREFIX,
			    strlen(FL_SCRATCH_PREFIX)) ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (scan_held(f, de->d_name))
			continue;	/* a run in the journal holds it */
		pid = scan_live_runner(de->d_name);
		if (pid)
			snprintf(held, sizeof(held), "; its runner, pid %d, is "
				 "still running and may still remove it",
				 (int)pid);
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", root,
			 de->d_name);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp))
			procs++;
		if (fp)
			fclose(fp);
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		snprintf(what, sizeof(what), "scratch cgroup %s (%d "
			 "process%s in it%s)", path, procs,
			 procs == 1 ? "" : "es", held);
		snprintf(rm, sizeof(rm), "kill the processes in "
			 "%s/cgroup.procs, then rmdir %s", path, path);
		f->fn(f->ctx, "cgroup", what, root, rm);
	}
	if (d)
		closedir(d);
}

/*
 * The scratch engine's scan: scratch cgroups directly under the memory
 * and the v2 hierarchies' roots that no run of f->runs holds, each with
 * how many processes are in it and whether its runner still runs.
 */
static void scratch_scan(struct fl_found *f)
{
	const struct fl_kernel *k = fl_kernel_get();

	scan_root(f, k->memory_root);
	if (strcmp(k->unified_root, k->memory_root))
		scan_root(f, k->unified_root);
}

/* Internal: no parse, so no experiment file can name it. */
const struct fl_engine scratch_engine = {
	.name = "scratch",
	.summary = "scratch cgroups that run starts command targets in",
	.describe = scratch_describe,
	.revert = scratch_revert,
	.scan = scratch_scan,
};

const struct fl_placer fl_scratch_placer = {
	.create = scratch_create,
	.join = scratch_join,
	.engine = &scratch_engine,
};
