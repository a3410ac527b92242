// SPDX-License-Identifier: GPL-2.0-only
/* faultline plan FILE: a dry run that touches nothing. */
#include <stdlib.h>

#include "tools/cmds.h"

int cmd_plan(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "plan",
		.common = CMD_FILE,
		.help = CMD_FILE_HELP,
	};
	struct fl_experiment *exp;
	json_object *plan;
	int status;

	status = cmd_getopt(&g, argc, argv, NULL);
	if (status != CMD_GO_ON)
		return status;
	if (optind != argc - 1)
		return cmd_bad_usage("plan", "plan takes one file");

	status = cmd_load(argv[optind], &exp);
	if (status)
		return status;
	plan = fl_plan_build(exp, &status);
	if (fl_json_output)
		fl_print_json(plan);
	else
		fl_plan_print(plan, stdout);
	if (status != FL_EXIT_OK && !fl_json_output)
		fl_err("this machine cannot run '%s' (exit %d)", exp->file,
		       status);
	json_object_put(plan);
	fl_experiment_free(exp);
	return status;
}
