// SPDX-License-Identifier: GPL-2.0-only
/* faultline plan FILE: a dry run that touches nothing. */
#include <stdlib.h>

#include "tools/cmds.h"

/* --seed N: the jitter of the repeats, as run --seed N draws it. */
static int plan_opt(void *ctx, int c, const char *arg)
{
	const char **seed = ctx, *why;
	uint64_t v;

	if (c != 's')
		return 0;
	if (fl_parse_u64(arg, &v, &why))
		return cmd_bad_usage("plan", "--seed '%s': %s", arg, why);
	*seed = arg;
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "seed", required_argument, NULL, 's' },
		{}
	};
	static const struct cmd_getopt g = {
		.name = "plan",
		.common = CMD_FILE,
		.longs = longs,
		.opt = plan_opt,
		.quiet = "no plan on stdout: the exit status says whether "
			 "this machine\n"
			 "                 can run it (0, or 3 with the reason "
			 "on stderr)",
		.help = "  --seed N       draw the repeats' jitter from N, as run "
			"--seed N does\n",
	};
	struct fl_experiment *exp;
	const char *seed = NULL, *why;
	json_object *plan;
	int status;

	status = cmd_getopt(&g, argc, argv, &seed);
	if (status != CMD_GO_ON)
		return status;
	if (optind != argc - 1)
		return cmd_bad_usage("plan", "plan takes one file");

	status = cmd_load(argv[optind], &exp);
	if (status)
		return status;
	if (seed)
		fl_experiment_set_seed(exp, seed, &why);
	plan = fl_plan_build(exp, &status);
	if (fl_json_output)
		fl_print_json(plan);
	else if (!fl_quiet)
		fl_plan_print(plan, stdout);
	if (status != FL_EXIT_OK && !fl_json_output)
		fl_err("this machine cannot run '%s' (exit %d)", exp->file,
		       status);
	json_object_put(plan);
	fl_experiment_free(exp);
	return status;
}
