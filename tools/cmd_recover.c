// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline recover [RUN]: replay the undo records of runs whose runner
 * and guardian are both gone, the last applied first.  Idempotent: a run
 * already recovered is nothing to do.
 *
 * Without a journal (its folder is gone: deleted, or a reboot emptied
 * /run), or with --scan, it cannot know what was changed, so it looks for
 * what faultline makes, by name, and fails (exit 4) naming each one:
 * scratch cgroups faultline-*, qdiscs with faultline's handles fa17: and
 * fa18:, ifb devices fl-ifb-*, cls_bpf filters and BPF programs with
 * faultline's program names, in every network namespace it can reach.
 * Limits written to a cgroup of the user's cannot be told apart by a scan.
 * Each engine knows its own objects and scans for them (its .scan op);
 * this file only composes the scans, in the engine list's order, and
 * prints.
 *
 * A record whose network namespace no longer exists is done: the
 * namespace took everything in it along.  recover says so and removes
 * the record.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* ------------------------------------------------------------------ */
/* The scan: what faultline makes, found by name by each engine.       */

static void found(void *ctx, const char *kind, const char *what,
		  const char *where, const char *remove)
{
	json_object *o = json_object_new_object();

	fl_json_add_str(o, "kind", kind);
	fl_json_add_str(o, "what", what);
	fl_json_add_str(o, "where", where);
	fl_json_add_str(o, "remove", remove);
	json_object_array_add(ctx, o);
}

/* An array of { "kind", "what", "where", "remove" }. */
static json_object *scan_machine(const struct fl_run_info *runs,
				 size_t nruns)
{
	json_object *arr = json_object_new_array();
	struct fl_found f = { .fn = found, .ctx = arr, .runs = runs,
			      .nruns = nruns };
	const struct fl_engine *e;
	size_t i;

	for (i = 0; (e = fl_engine_at(i)); i++)
		if (e->scan)
			e->scan(&f);
	return arr;
}

/* Print what the scan found; the number of objects. */
static size_t print_scan(json_object *found_arr, const char *why)
{
	size_t i, n = json_object_array_length(found_arr);

	if (!n)
		return 0;
	fl_err("%s; these look like faultline's and no undo record accounts "
	       "for them, so they may be left over (nothing was changed):",
	       why);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(found_arr, i), *v;
		const char *what, *where, *rm;

		json_object_object_get_ex(o, "what", &v);
		what = json_object_get_string(v);
		json_object_object_get_ex(o, "where", &v);
		where = json_object_get_string(v);
		json_object_object_get_ex(o, "remove", &v);
		rm = json_object_get_string(v);
		fprintf(stderr, "  %s, in %s\n    remove: %s\n", what, where, rm);
	}
	fprintf(stderr, "  limits faultline wrote to cgroups of your own "
		"cannot be found this way: check the oom targets' memory "
		"limits by hand\n");
	return n;
}

static void print_result(json_object *res, bool quiet)
{
	const char *id = fl_json_str(res, "run", "?");
	const char *dir = fl_json_str(res, "dir", "?");
	json_object *rev, *gone, *fail, *o, *st;
	size_t i;

	rev = fl_json_get(res, "reverted");
	gone = fl_json_get(res, "gone");
	fail = fl_json_get(res, "failed");
	for (i = 0; !quiet && rev && i < json_object_array_length(rev); i++) {
		o = json_object_array_get_idx(rev, i);
		printf("run %s: fault %s (%s) reverted\n", id,
		       fl_json_str(o, "fault", "?"),
		       fl_json_str(o, "engine", "?"));
	}
	for (i = 0; !quiet && gone && i < json_object_array_length(gone); i++) {
		o = json_object_array_get_idx(gone, i);
		printf("run %s: fault %s (%s): nothing to revert: %s\n", id,
		       fl_json_str(o, "fault", "?"),
		       fl_json_str(o, "engine", "?"),
		       fl_json_str(o, "why", "?"));
	}
	for (i = 0; fail && i < json_object_array_length(fail); i++) {
		o = json_object_array_get_idx(fail, i);
		st = fl_json_get(o, "state");
		fl_err("run %s: fault %s (%s) was NOT reverted: %s", id,
		       fl_json_str(o, "fault", "?"),
		       fl_json_str(o, "engine", "?"),
		       fl_json_str(o, "error", "?"));
		fprintf(stderr, "  the record stays in %s/%s; what may be "
			"left on this machine: %s\n", dir,
			fl_json_str(o, "record", "?"),
			st ? json_object_to_json_string_ext(st,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) :
			"(unknown: the record has no state)");
	}
}

struct recover_opts {
	const char *want;		/* one run id, or NULL: every dead run */
	bool force, scan;
};

static int recover_opt(void *ctx, int c, const char *arg)
{
	struct recover_opts *o = ctx;

	if (c == 'f')
		o->force = true;
	else if (c == 's')
		o->scan = true;
	return 0;
}

/* The command line; CMD_GO_ON to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct recover_opts *o)
{
	static const struct option longs[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "scan", no_argument, NULL, 's' },
		{}
	};
	static const struct cmd_getopt g = {
		.name = "recover",
		.common = CMD_COMMON,
		.quiet = "no lines for what went well; what failed still on "
			 "stderr",
		.longs = longs,
		.shorts = "fs",
		.opt = recover_opt,
		.help = "  RUN      a run id from 'faultline status' (default: "
			"every dead run)\n"
			"  --force  also replay a run whose runner or guardian is "
			"alive\n"
			"  --scan   also look for faultline's objects that no "
			"record accounts for\n"
			"           (done anyway when the journal folder is "
			"gone)\n",
	};
	int ret;

	ret = cmd_getopt(&g, argc, argv, o);
	if (ret != CMD_GO_ON)
		return ret;
	if (optind < argc - 1)
		return cmd_bad_usage("recover", "recover takes one run at most");
	if (optind == argc - 1) {
		o->want = argv[optind];
		if (strrchr(o->want, '/'))
			o->want = strrchr(o->want, '/') + 1;
	}
	return CMD_GO_ON;
}

/*
 * Replay one dead run into arr; the exit status it calls for.  Records
 * whose namespace is gone count as done.
 */
static int recover_one(struct fl_run_info *ri, json_object *arr, size_t *done)
{
	json_object *res = json_object_new_object();
	int ret;

	ret = fl_recover_run(ri->dir, res);
	if (ret == -ENOENT) {
		json_object_put(res);
		return FL_EXIT_OK;	/* recovered meanwhile */
	}
	(*done)++;
	json_object_object_add(res, "ok", json_object_new_boolean(!ret));
	if (!fl_json_output)
		print_result(res, fl_quiet);
	json_object_array_add(arr, res);
	if (ret) {
		if (!fl_json_output)
			fl_err("run %s: not everything was reverted (%s); fix "
			       "the cause and run 'faultline recover %s' again",
			       ri->id, strerror(-ret), ri->id);
		return FL_EXIT_APPLY;
	}
	if (!fl_json_output && !fl_quiet)
		printf("run %s: recovered\n", ri->id);
	return FL_EXIT_OK;
}

/* Every dead run (or the one asked for); *found when it was listed. */
static int recover_runs(const struct recover_opts *o, struct fl_run_info *runs,
			size_t n, json_object *arr, size_t *done, bool *found)
{
	int status = FL_EXIT_OK, r;
	size_t i;

	for (i = 0; i < n; i++) {
		struct fl_run_info *ri = &runs[i];

		if (o->want && strcmp(ri->id, o->want))
			continue;
		*found = true;
		if (ri->alive && !o->force) {
			fl_err("run %s is alive (runner %d, guardian %d): it "
			       "reverts by itself; 'faultline recover --force "
			       "%s' replays it anyway", ri->id, (int)ri->pid,
			       (int)ri->guardian, ri->id);
			if (o->want)
				status = FL_EXIT_UNSUPPORTED;
			continue;
		}
		r = recover_one(ri, arr, done);
		if (r != FL_EXIT_OK)
			status = r;
	}
	return status;
}

/* The leftover scan into out; the number of objects found. */
static size_t scan_leftovers(json_object *out, const struct fl_run_info *runs,
			     size_t n, bool nojournal)
{
	json_object *left = scan_machine(runs, n);
	char why[700];
	size_t nleft;

	if (nojournal)
		snprintf(why, sizeof(why), "there is no journal in %s "
			 "(deleted?), so what a run changed is unknown",
			 fl_rundir());
	else
		snprintf(why, sizeof(why), "scan");
	nleft = fl_json_output ? json_object_array_length(left) :
		print_scan(left, why);
	json_object_object_add(out, "journal",
			       json_object_new_boolean(!nojournal));
	json_object_object_add(out, "leftovers", left);
	return nleft;
}

/* The closing line for people. */
static void print_tail(size_t nleft, bool nojournal, size_t done,
		       int status)
{
	if (fl_json_output)
		return;
	if (nleft) {
		fl_err("%zu object(s) may be left over; remove them as shown "
		       "(this is not a recovery)", nleft);
	} else if (fl_quiet) {
		return;
	} else if (nojournal && !done && status == FL_EXIT_OK) {
		printf("nothing to recover: there is no journal in %s, and "
		       "nothing of faultline's was found on this machine "
		       "(limits written to cgroups of your own cannot be "
		       "found by a scan)\n", fl_rundir());
	} else if (!done && status == FL_EXIT_OK) {
		printf("nothing to recover in %s\n", fl_rundir());
	}
}

int cmd_recover(int argc, char **argv)
{
	struct recover_opts o = {};
	struct fl_run_info *runs = NULL;
	json_object *out, *arr;
	size_t n = 0, done = 0, nleft = 0;
	bool found = false, nojournal;
	struct stat st;
	int ret, status;

	ret = parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	/* No journal folder at all: deleted, or /run emptied by a reboot. */
	nojournal = stat(fl_rundir(), &st) && errno == ENOENT;
	ret = list_locked(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		return FL_EXIT_UNSUPPORTED;
	}
	out = json_object_new_object();
	arr = json_object_new_array();
	fl_json_add_str(out, "rundir", fl_rundir());
	status = recover_runs(&o, runs, n, arr, &done, &found);
	if (o.want && !found) {
		/* A run recovered is gone from the journal too. */
		fl_err("no run %s in %s: 'faultline status' lists the runs "
		       "there (a run already recovered is no longer listed)",
		       o.want, fl_rundir());
		status = FL_EXIT_USAGE;
	}
	json_object_object_add(out, "runs", arr);
	json_object_object_add(out, "recovered", json_object_new_int(done));
	if (nojournal || o.scan) {
		nleft = scan_leftovers(out, runs, n, nojournal);
		if (nleft)
			status = FL_EXIT_APPLY;
	}
	print_tail(nleft, nojournal, done, status);
	if (fl_json_output)
		fl_print_json(out);
	json_object_put(out);
	fl_runs_free(runs, n);
	return status;
}
