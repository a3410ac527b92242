// SPDX-License-Identifier: GPL-2.0-only
/* faultline plan FILE: a dry run that touches nothing. */
#include <stdlib.h>

#include "tools/cmds.h"
#include "tools/oneline.h"

struct plan_args {
	const char *seed;
	struct oneline one;
};

/*
 * --seed N: the jitter of the repeats, as run --seed N draws it; a
 * one-line drill's options, as run takes them.
 */
static int plan_opt(void *ctx, int c, const char *arg)
{
	struct plan_args *pa = ctx;
	const char *why;
	uint64_t v;

	switch (c) {
	case 's':
		if (fl_parse_u64(arg, &v, &why))
			return cmd_bad_usage("plan", "--seed '%s': %s", arg,
					     why);
		pa->seed = arg;
		return 0;
	case 'F':
	case 'T':
	case 'D':
		return oneline_opt(&pa->one, c, arg);
	}
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "seed", required_argument, NULL, 's' },
		ONELINE_LONGS,
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
			"--seed N does\n"
			"  --fault, --target, --for  a one-line drill instead of "
			"FILE, as run takes it\n",
	};
	struct plan_args pa = { .one.cmd = "plan" };
	struct fl_experiment *exp;
	json_object *plan;
	const char *why;
	int status;

	status = cmd_getopt(&g, argc, argv, &pa);
	if (status != CMD_GO_ON)
		return status;
	status = oneline_or_file(&pa.one, argc, argv, &exp);
	if (status || !exp)
		return status;
	if (pa.seed)
		fl_experiment_set_seed(exp, pa.seed, &why);
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
