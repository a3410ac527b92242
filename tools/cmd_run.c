// SPDX-License-Identifier: GPL-2.0-only
/* faultline run FILE: carry the drill out and put the machine back. */
#include <stdlib.h>

#include "tools/cmds.h"
#include "tools/oneline.h"

/* run's own options: its struct fl_run_opts, --seed, a one-line drill. */
struct run_args {
	struct fl_run_opts ro;
	const char *seed;
	struct oneline one;
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
	case 'F':
	case 'T':
	case 'D':
		return oneline_opt(&ra->one, c, arg);
	case 'Y':
		ra->one.print_yaml = true;
		break;
	case 'R':
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
		{ "no-realtime", no_argument, NULL, 'R' },
		{ "start-at", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		ONELINE_LONGS,
		{ "print-yaml", no_argument, NULL, 'Y' },
		{}
	};
	static const struct cmd_getopt g = {
		.name = "run",
		.common = CMD_FILE,
		.longs = longs,
		.shorts = "r:",
		.opt = run_opt,
		.quiet = "no event lines, no summary",
		.help = "  -r, --report FILE  write the JSON report to FILE "
			"(instead of the file's\n"
			"                 report: json:)\n"
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
			"A one-line drill instead of FILE:\n"
			"  --fault 'KIND: { KEY: VALUE, ... }'  a fault, as in a "
			"file's faults: (again\n"
			"                 for more); with one --target, its "
			"target: is filled in\n"
			"  --target 'NAME: { pid: N }'  a target, as in targets: "
			"('pid: N' names it\n"
			"                 target)\n"
			"  --for DURATION  how long the drill runs (required with "
			"--fault)\n"
			"  --print-yaml   print the experiment file the options "
			"stand for, and stop\n"
			"Ctrl-C stops the drill and reverts everything; a second "
			"Ctrl-C reverts at once.\n",
	};
	struct run_args ra = { .one.cmd = "run" };
	struct fl_run_opts *ro = &ra.ro;
	struct fl_experiment *exp;
	const char *why;
	int status;

	status = cmd_getopt(&g, argc, argv, &ra);
	if (status != CMD_GO_ON)
		return status;
	ro->json = fl_json_output;
	ro->quiet = fl_quiet;
	status = oneline_or_file(&ra.one, argc, argv, &exp);
	if (status || !exp)
		return status;	/* --print-yaml: printed */
	if (ra.seed)
		fl_experiment_set_seed(exp, ra.seed, &why);
	status = fl_run(exp, ro);
	fl_experiment_free(exp);
	return status;
}
