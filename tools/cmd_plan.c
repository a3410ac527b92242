// SPDX-License-Identifier: GPL-2.0-only
/* faultline plan FILE: a dry run that touches nothing. */
#include <getopt.h>
#include <stdlib.h>

#include "tools/cmds.h"

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_FILE_OPTS,
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_experiment *exp;
	json_object *plan;
	int c, status;

	while ((c = getopt_long(argc, argv, "jA:h", opts, NULL)) != -1) {
		status = cmd_opt("plan", c, optarg);
		if (status > 1)
			return status;
		if (status)
			continue;
		switch (c) {
		case 'h':
			cmd_usage("plan", stdout);
			fputs(cmd_file_opts_help, stdout);
			return 0;
		default:
			return cmd_bad_usage("plan", "unknown option");
		}
	}
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
