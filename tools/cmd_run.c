// SPDX-License-Identifier: GPL-2.0-only
/* faultline run FILE: carry the drill out and put the machine back. */
#include <getopt.h>
#include <stdlib.h>

#include "tools/cmds.h"

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_FILE_OPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "report", required_argument, NULL, 'r' },
		{ "no-live", no_argument, NULL, 'L' },
		{ "start-at", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_run_opts ro = { 0 };
	struct fl_experiment *exp;
	char why[128];
	int c, status;

	while ((c = getopt_long(argc, argv, "jqr:A:h", opts, NULL)) != -1) {
		status = cmd_opt("run", c, optarg);
		if (status > 1)
			return status;
		if (status)
			continue;
		switch (c) {
		case 'r':
			ro.report_json = optarg;
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
			fputs(cmd_file_opts_help, stdout);
			printf("  --report FILE  write the JSON report to FILE "
			       "(instead of the file's report: json:)\n"
			       "  --quiet        no event lines, no summary\n"
			       "  --no-live      timestamped lines, not the live "
			       "view, on a terminal\n"
			       "  --start-at TIME  start the timeline at TIME "
			       "(RFC 3339, 2026-11-28T12:00:00Z,\n"
			       "                 or +30s from now), after the "
			       "checks: hosts start together\n"
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

	status = cmd_load(argv[optind], &exp);
	if (status)
		return status;
	status = fl_run(exp, &ro);
	fl_experiment_free(exp);
	return status;
}
