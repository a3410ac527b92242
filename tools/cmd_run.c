// SPDX-License-Identifier: GPL-2.0-only
/* faultline run FILE: carry the drill out and put the machine back. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "netem/netem.h"
#include "tools/cmds.h"

/* --as GROUP: a partition group number, 1-based. */
static int parse_as(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > 1000)
		return -1;
	netem_partition_as = v;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "report", required_argument, NULL, 'r' },
		{ "no-live", no_argument, NULL, 'L' },
		{ "as", required_argument, NULL, 'A' },
		{ "start-at", required_argument, NULL, 'S' },
		{ "allow-insecure-file", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_run_opts ro = { 0 };
	struct fl_experiment *exp = NULL;
	struct fl_diag d;
	char why[128];
	int c, status;

	while ((c = getopt_long(argc, argv, "jqr:A:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fl_json_output = true;
			break;
		case 'q':
			fl_quiet = true;
			break;
		case 'r':
			ro.report_json = optarg;
			break;
		case 'A':
			if (parse_as(optarg))
				return cmd_bad_usage("run", "--as takes a group number, 1 for the first group");
			break;
		case 'I':
			fl_allow_insecure_file = true;
			break;
		case 'L':
			ro.no_live = true;
			break;
		case 'S':
			if (fl_parse_start_at(optarg, fl_wall_ns(),
					      &ro.start_at_ns, why, sizeof(why)))
				return cmd_bad_usage("run", "--start-at '%s': %s",
						     optarg, why);
			break;
		case 'h':
			cmd_usage("run", stdout);
			printf("  --report FILE  write the JSON report to FILE "
			       "(instead of the file's report: json:)\n"
			       "  --json         JSON lines of events on stdout\n"
			       "  --quiet        no event lines, no summary\n"
			       "  --no-live      timestamped lines, not the live "
			       "view, on a terminal\n"
			       "  --as GROUP     partitions: this host is in group "
			       "GROUP (1 = the first),\n"
			       "                 not the one its addresses give\n"
			       "  --start-at TIME  start the timeline at TIME "
			       "(RFC 3339, 2026-11-28T12:00:00Z,\n"
			       "                 or +30s from now), after the "
			       "checks: hosts start together\n"
			       "  --allow-insecure-file  run a file that is "
			       "world-writable or not ours\n"
			       "Ctrl-C stops the drill and reverts everything; "
			       "a second Ctrl-C reverts at once.\n");
			return 0;
		default:
			return cmd_bad_usage("run", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_bad_usage("run", "run takes one file");
	ro.json = fl_json_output;
	ro.quiet = fl_quiet;

	fl_diag_init(&d);
	if (fl_experiment_load(argv[optind], &exp, &d)) {
		if (fl_json_output) {
			json_object *errs = json_object_new_object();

			json_object_object_add(errs, "errors", fl_diag_json(&d));
			fl_print_json(errs);
			json_object_put(errs);
		} else {
			fl_diag_print(&d, stderr);
		}
		fl_diag_free(&d);
		fl_experiment_free(exp);
		return FL_EXIT_USAGE;
	}
	fl_diag_free(&d);
	status = fl_run(exp, &ro);
	fl_experiment_free(exp);
	return status;
}
