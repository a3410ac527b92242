// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runs in the journal's folder: which are whose (the guardian's
 * fl_runs_of), and the listing that status and recover show.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/faultline.h"
#include "core/journal.h"

/* The pid in a run folder's name ("20261206-090744-15385[-K]"), or 0. */
static pid_t id_pid(const char *id)
{
	unsigned int day, sec;
	int pid, n = 0;

	if (sscanf(id, "%8u-%6u-%d%n", &day, &sec, &pid, &n) != 3 ||
	    (id[n] && id[n] != '-'))
		return 0;
	return pid;
}

int fl_runs_of(pid_t pid, unsigned long long start,
	       int (*fn)(const char *dir, void *arg), void *arg)
{
	const char *root = fl_rundir();
	json_object *run;
	struct dirent *de;
	char dir[600];
	bool ours;
	int fd;
	DIR *d;

	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || id_pid(de->d_name) != pid)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		run = fl_journal_read_at(fd, "run.json");
		close(fd);
		/* No run.json: made by this pid, which died before writing. */
		ours = !run || ((pid_t)json_object_get_int64(fl_json_get(run, "pid")) == pid &&
				(unsigned long long)json_object_get_int64(
					fl_json_get(run, "pid_start")) ==
				start);
		json_object_put(run);
		if (ours)
			fn(dir, arg);
	}
	closedir(d);
	return 0;
}

static int read_run(const char *root, const char *id, struct fl_run_info *ri)
{
	json_object *run, *res;
	struct fl_rec_ent *v = NULL;
	unsigned long long ps, gs;
	size_t n, i;
	int dirfd;

	memset(ri, 0, sizeof(*ri));
	if (strlen(id) >= sizeof(ri->id))
		return -ENAMETOOLONG;	/* not a run of ours */
	memcpy(ri->id, id, strlen(id) + 1);
	snprintf(ri->dir, sizeof(ri->dir), "%s/%s", root, id);
	dirfd = open(ri->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	run = fl_journal_read_at(dirfd, "run.json");
	ri->records = json_object_new_array();
	if (run) {
		ri->pid = json_object_get_int64(fl_json_get(run, "pid"));
		ri->guardian = json_object_get_int64(fl_json_get(run, "guardian"));
		ps = json_object_get_int64(fl_json_get(run, "pid_start"));
		gs = json_object_get_int64(fl_json_get(run, "guardian_start"));
		ri->alive = fl_pid_alive(ri->pid, ps) ||
			    (ri->guardian && fl_pid_alive(ri->guardian, gs));
		snprintf(ri->file, sizeof(ri->file), "%s",
			 fl_json_str(run, "file", ""));
		snprintf(ri->name, sizeof(ri->name), "%s",
			 fl_json_str(run, "name", ""));
		ri->started = json_object_get_int64(fl_json_get(run, "started"));
		ri->deadline = json_object_get_int64(fl_json_get(run, "deadline"));
		if (json_object_object_get_ex(run, "resources", &res))
			ri->resources = json_object_get(res);
		json_object_put(run);
	} else if (fl_pid_alive(id_pid(id), 0) &&
		   fl_pid_is_faultline(id_pid(id))) {
		/* Not yet written, or deleted under it (rm -rf racing a
		 * record): the faultline whose pid names the run is alive,
		 * so it may be that run, which reverts by itself. */
		ri->pid = id_pid(id);
		ri->alive = true;
	}
	if (!ri->resources)
		ri->resources = json_object_new_array();
	if (!fl_journal_records(dirfd, &v, &n)) {
		/* Oldest first for people. */
		for (i = n; i-- > 0;) {
			json_object *rec = fl_journal_read_at(dirfd, v[i].name);

			if (!rec) {
				rec = json_object_new_object();
				fl_json_add_str(rec, "error", "unreadable");
			}
			fl_json_add_str(rec, "record", v[i].name);
			json_object_array_add(ri->records, rec);
		}
		free(v);
	}
	close(dirfd);
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	const struct fl_run_info *x = a, *y = b;

	return strcmp(x->id, y->id);
}

int fl_runs_list(struct fl_run_info **out, size_t *n)
{
	const char *root = fl_rundir();
	struct fl_run_info *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (FL_GROW(v, cap, cnt, 8)) {
			fl_runs_free(v, cnt);
			closedir(d);
			return -ENOMEM;
		}
		if (read_run(root, de->d_name, &v[cnt]))
			continue;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), run_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

void fl_runs_free(struct fl_run_info *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_object_put(v[i].records);
		json_object_put(v[i].resources);
	}
	free(v);
}
