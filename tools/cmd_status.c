// SPDX-License-Identifier: GPL-2.0-only
/* faultline status: the runs in the journal and the faults they hold. */
#include <string.h>

#include "tools/cmds.h"

static char *fmt_unix(int64_t sec, char *buf, size_t len)
{
	if (!sec) {
		snprintf(buf, len, "-");
		return buf;
	}
	return fl_fmt_time(sec * (int64_t)NSEC_PER_SEC, buf, len);
}

static json_object *run_json(const struct fl_run_info *ri)
{
	json_object *o = json_object_new_object();

	fl_json_add_str(o, "id", ri->id);
	fl_json_add_str(o, "dir", ri->dir);
	json_object_object_add(o, "pid", json_object_new_int(ri->pid));
	json_object_object_add(o, "guardian", json_object_new_int(ri->guardian));
	json_object_object_add(o, "alive", json_object_new_boolean(ri->alive));
	fl_json_add_str(o, "file", ri->file);
	fl_json_add_str(o, "name", ri->name);
	json_object_object_add(o, "started", json_object_new_int64(ri->started));
	json_object_object_add(o, "deadline",
			       json_object_new_int64(ri->deadline));
	json_object_object_add(o, "resources", json_object_get(ri->resources));
	json_object_object_add(o, "records", json_object_get(ri->records));
	return o;
}

int cmd_status(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "status",
		.common = CMD_COMMON,
		.quiet = "only the run ids, one a line",
	};
	struct fl_run_info *runs = NULL;
	json_object *arr, *res;
	size_t n = 0, i, k;
	int ret;

	ret = cmd_getopt(&g, argc, argv, NULL);
	if (ret != CMD_GO_ON)
		return ret;
	if (optind != argc)
		return cmd_bad_usage("status", "status takes no argument");

	ret = fl_runs_list(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		return FL_EXIT_UNSUPPORTED;
	}
	if (fl_json_output) {
		res = json_object_new_object();
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, run_json(&runs[i]));
		fl_json_add_str(res, "rundir", fl_rundir());
		json_object_object_add(res, "runs", arr);
		fl_print_json(res);
		json_object_put(res);
		fl_runs_free(runs, n);
		return FL_EXIT_OK;
	}
	if (fl_quiet) {
		for (i = 0; i < n; i++)
			printf("%s\n", runs[i].id);
		fl_runs_free(runs, n);
		return FL_EXIT_OK;
	}
	if (!n)
		printf("no runs in %s\n", fl_rundir());
	for (i = 0; i < n; i++) {
		const struct fl_run_info *ri = &runs[i];
		size_t nrec = json_object_array_length(ri->records);
		char b1[40], b2[40];

		printf("run %s  pid %d  guardian %d  ", ri->id, (int)ri->pid,
		       (int)ri->guardian);
		if (ri->alive)
			printf("alive\n");
		else
			printf("dead: run 'faultline recover %s'\n", ri->id);
		printf("  file %s%s%s%s\n", ri->file, *ri->name ? " (" : "",
		       ri->name, *ri->name ? ")" : "");
		printf("  started %s  deadline %s\n",
		       fmt_unix(ri->started, b1, sizeof(b1)),
		       fmt_unix(ri->deadline, b2, sizeof(b2)));
		printf("  faults held: %zu\n", nrec);
		for (k = 0; k < nrec; k++) {
			json_object *r = json_object_array_get_idx(ri->records, k);
			json_object *f = NULL, *e = NULL, *rec = NULL;

			json_object_object_get_ex(r, "fault", &f);
			json_object_object_get_ex(r, "engine", &e);
			json_object_object_get_ex(r, "record", &rec);
			printf("    %s (%s)  %s/%s\n",
			       f ? json_object_get_string(f) : "?",
			       e ? json_object_get_string(e) : "?", ri->dir,
			       rec ? json_object_get_string(rec) : "?");
		}
	}
	fl_runs_free(runs, n);
	return FL_EXIT_OK;
}
