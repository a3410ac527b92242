// SPDX-License-Identifier: GPL-2.0-only
/* faultline validate FILE...: check experiment files, every problem at once. */
#include <string.h>

#include "tools/cmds.h"

int cmd_validate(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "validate",
		.common = CMD_COMMON | CMD_INSECURE,
		.quiet = "no 'FILE: ok' lines; problems still on stderr",
	};
	json_object *result, *files;
	int i, status;

	status = cmd_getopt(&g, argc, argv, NULL);
	if (status != CMD_GO_ON)
		return status;
	status = FL_EXIT_OK;
	if (optind >= argc)
		return cmd_bad_usage("validate", "which file?");

	result = json_object_new_object();
	files = json_object_new_array();
	for (i = optind; i < argc; i++) {
		struct fl_experiment *exp = NULL;
		struct fl_diag d;
		json_object *o = json_object_new_object();
		int ret;

		fl_diag_init(&d);
		ret = fl_experiment_load(argv[i], &exp, &d);
		fl_json_add_str(o, "file", argv[i]);
		json_object_object_add(o, "valid",
				       json_object_new_boolean(!ret));
		json_object_object_add(o, "errors", fl_diag_json(&d));
		if (ret) {
			status = FL_EXIT_USAGE;
			if (!fl_json_output)
				fl_diag_print(&d, stderr);
		} else {
			json_object_object_add(o, "faults",
				json_object_new_int((int)exp->nfaults));
			fl_info("%s: ok (%zu fault%s, %zu probe%s)", argv[i],
				exp->nfaults, exp->nfaults == 1 ? "" : "s",
				exp->nprobes, exp->nprobes == 1 ? "" : "s");
		}
		json_object_array_add(files, o);
		fl_experiment_free(exp);
		fl_diag_free(&d);
	}
	json_object_object_add(result, "files", files);
	json_object_object_add(result, "valid",
			       json_object_new_boolean(status == FL_EXIT_OK));
	if (fl_json_output)
		fl_print_json(result);
	json_object_put(result);
	return status;
}
