// SPDX-License-Identifier: GPL-2.0-only
/* faultline run FILE: carry the drill out and put the machine back. */
#include <stdlib.h>

#include "tools/cmds.h"

/* run's own options: its struct fl_run_opts, and --seed. */
struct run_args {
	struct fl_run_opts ro;
	const char *seed;
};

static int run_opt(void *ctx, int c, const char *arg)
{
	struct run_args *ra = ctx;
	struct fl_run_opts *ro = &ra->ro;
	const char *sw;
	char why[128];
	uint64_t v;

	switch (c) {
	case 's':
		if (fl_parse_u64(arg, &v, &sw))
			return cmd_bad_usage("run", "--seed '%s': %s", arg, sw);
		ra->seed = arg;
		break;
	case 'r':
		ro->report_json = arg;
		break;
	case 'L':
		ro->no_live = true;
		break;
	case 'T':
		ro->no_realtime = true;
		break;
	case 'S':
		if (fl_parse_start_at(arg, fl_wall_ns(), &ro->start_at_ns, why,
				      sizeof(why)))
			return cmd_bad_usage("run", "--start-at '%s': %s", arg,
					     why);
		break;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "no-live", no_argument, NULL, 'L' },
		{ "no-realtime", no_argument, NULL, 'T' },
		{ "start-at", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		{}
	};
	static const struct cmd_getopt g = {
		.name = "run",
		.common = CMD_FILE | CMD_QUIET,
		.longs = longs,
		.shorts = "r:",
		.opt = run_opt,
		.help = CMD_FILE_HELP
			"  --report FILE  write the JSON report to FILE "
			"(instead of the file's report: json:)\n"
			"  --quiet        no event lines, no summary\n"
			"  --no-live      timestamped lines, not the live view, "
			"on a terminal\n"
			"  --no-realtime  no SCHED_FIFO and no locked memory while "
			"the drill runs\n"
			"  --start-at TIME  start the timeline at TIME (RFC 3339, "
			"2026-11-28T12:00:00Z,\n"
			"                 or +30s from now), after the checks: "
			"hosts start together\n"
			"  --seed N       draw the repeats' jitter from N (instead "
			"of the file's seed:\n"
			"                 or a random one): the same timeline as "
			"plan --seed N\n"
			"Ctrl-C stops the drill and reverts everything; a second "
			"Ctrl-C reverts at once.\n",
	};
	struct run_args ra = { 0 };
	struct fl_run_opts *ro = &ra.ro;
	struct fl_experiment *exp;
	const char *why;
	int status;

	status = cmd_getopt(&g, argc, argv, &ra);
	if (status != CMD_GO_ON)
		return status;
	if (optind != argc - 1)
		return cmd_bad_usage("run", "run takes one file");
	ro->json = fl_json_output;
	ro->quiet = fl_quiet;

	status = cmd_load(argv[optind], &exp);
	if (status)
		return status;
	if (ra.seed)
		fl_experiment_set_seed(exp, ra.seed, &why);
	status = fl_run(exp, ro);
	fl_experiment_free(exp);
	return status;
}
