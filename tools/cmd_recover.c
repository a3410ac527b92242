// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline recover [RUN]: replay the undo records of runs whose runner
 * and guardian are both gone, newest record first.  Idempotent: a run
 * already recovered is nothing to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tools/cmds.h"

/* The runs, listed under the journal's lock (no run is half-made). */
static int list_locked(struct fl_run_info **runs, size_t *n)
{
	char path[600];
	int fd, ret;

	/* The journal folder itself is the lock (see core/runner.c). */
	snprintf(path, sizeof(path), "%s", fl_rundir());
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	ret = fl_runs_list(runs, n);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void print_result(json_object *res)
{
	json_object *id, *rev, *fail;
	size_t i;

	json_object_object_get_ex(res, "run", &id);
	json_object_object_get_ex(res, "reverted", &rev);
	json_object_object_get_ex(res, "failed", &fail);
	for (i = 0; rev && i < json_object_array_length(rev); i++) {
		json_object *o = json_object_array_get_idx(rev, i), *f, *e;

		json_object_object_get_ex(o, "fault", &f);
		json_object_object_get_ex(o, "engine", &e);
		printf("run %s: fault %s (%s) reverted\n",
		       json_object_get_string(id), json_object_get_string(f),
		       json_object_get_string(e));
	}
	for (i = 0; fail && i < json_object_array_length(fail); i++) {
		json_object *o = json_object_array_get_idx(fail, i);
		json_object *f = NULL, *e = NULL, *r = NULL, *w = NULL;
		json_object *st = NULL, *dir = NULL;

		json_object_object_get_ex(o, "fault", &f);
		json_object_object_get_ex(o, "engine", &e);
		json_object_object_get_ex(o, "record", &r);
		json_object_object_get_ex(o, "error", &w);
		json_object_object_get_ex(o, "state", &st);
		json_object_object_get_ex(res, "dir", &dir);
		fl_err("run %s: fault %s (%s) was NOT reverted: %s",
		       json_object_get_string(id), json_object_get_string(f),
		       json_object_get_string(e), json_object_get_string(w));
		fprintf(stderr, "  the record stays in %s/%s; what may be "
			"left on this machine: %s\n",
			json_object_get_string(dir), json_object_get_string(r),
			st ? json_object_to_json_string_ext(st,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) :
			"(unknown: the record has no state)");
	}
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_run_info *runs = NULL;
	const char *want = NULL;
	json_object *out, *arr;
	size_t n = 0, i, done = 0;
	bool force = false, found = false;
	int c, ret, status = FL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jfh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fl_json_output = true;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			cmd_usage("recover", stdout);
			printf("  RUN      a run id from 'faultline status' "
			       "(default: every dead run)\n"
			       "  --force  also replay a run whose runner or "
			       "guardian is alive\n");
			return 0;
		default:
			return cmd_bad_usage("recover", "unknown option");
		}
	}
	if (optind < argc - 1)
		return cmd_bad_usage("recover", "recover takes one run at most");
	if (optind == argc - 1) {
		want = argv[optind];
		if (strrchr(want, '/'))
			want = strrchr(want, '/') + 1;
	}

	ret = list_locked(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		return FL_EXIT_UNSUPPORTED;
	}
	out = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(out, "rundir", json_object_new_string(fl_rundir()));
	for (i = 0; i < n; i++) {
		struct fl_run_info *ri = &runs[i];
		json_object *res;

		if (want && strcmp(ri->id, want))
			continue;
		found = true;
		if (ri->alive && !force) {
			fl_err("run %s is alive (runner %d, guardian %d): it "
			       "reverts by itself; 'faultline recover --force "
			       "%s' replays it anyway", ri->id, (int)ri->pid,
			       (int)ri->guardian, ri->id);
			if (want)
				status = FL_EXIT_UNSUPPORTED;
			continue;
		}
		res = json_object_new_object();
		ret = fl_recover_run(ri->dir, res);
		if (ret == -ENOENT) {
			json_object_put(res);
			continue;	/* recovered meanwhile */
		}
		done++;
		json_object_object_add(res, "ok", json_object_new_boolean(!ret));
		if (!fl_json_output)
			print_result(res);
		if (ret) {
			status = FL_EXIT_APPLY;
			if (!fl_json_output)
				fl_err("run %s: not everything was reverted "
				       "(%s); fix the cause and run 'faultline "
				       "recover %s' again", ri->id,
				       strerror(-ret), ri->id);
		} else if (!fl_json_output) {
			printf("run %s: recovered\n", ri->id);
		}
		json_object_array_add(arr, res);
	}
	json_object_object_add(out, "runs", arr);
	json_object_object_add(out, "recovered", json_object_new_int(done));
	if (!done && status == FL_EXIT_OK && !fl_json_output) {
		if (want && !found)
			printf("nothing to recover: no run %s in %s (already "
			       "recovered?)\n", want, fl_rundir());
		else
			printf("nothing to recover in %s\n", fl_rundir());
	}
	if (fl_json_output)
		fl_print_json(out);
	json_object_put(out);
	fl_runs_free(runs, n);
	return status;
}
