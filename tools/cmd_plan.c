// SPDX-License-Identifier: GPL-2.0-only
/* faultline plan FILE: a dry run that touches nothing. */
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

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "as", required_argument, NULL, 'A' },
		{ "allow-insecure-file", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_experiment *exp = NULL;
	json_object *plan;
	struct fl_diag d;
	int c, status;

	while ((c = getopt_long(argc, argv, "jA:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fl_json_output = true;
			break;
		case 'A':
			if (parse_as(optarg))
				return cmd_bad_usage("plan", "--as takes a group number, 1 for the first group");
			break;
		case 'I':
			fl_allow_insecure_file = true;
			break;
		case 'h':
			cmd_usage("plan", stdout);
			printf("  --json         the plan as JSON\n"
			       "  --as GROUP     partitions: plan as a host of "
			       "group GROUP (1 = the first)\n");
			return 0;
		default:
			return cmd_bad_usage("plan", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_bad_usage("plan", "plan takes one file");

	fl_diag_init(&d);
	if (fl_experiment_load(argv[optind], &exp, &d)) {
		if (fl_json_output) {
			json_object *errs = json_object_new_object();

			json_object_object_add(errs, "errors", fl_diag_json(&d));
			fl_print_json(errs);
			json_object_put(errs);
		} else
			fl_diag_print(&d, stderr);
		fl_diag_free(&d);
		return FL_EXIT_USAGE;
	}
	fl_diag_free(&d);

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
