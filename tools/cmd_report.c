// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline report FILE.json [--svg OUT]: the summary of a drill's JSON
 * report again, as run printed it at the end, and with --svg its timeline
 * picture redrawn.  --json prints the report itself.
 */
#include <getopt.h>
#include <string.h>

#include "tools/cmds.h"

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *str(json_object *o, const char *key, const char *def)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : def;
}

static bool has_num(json_object *o, const char *key, double *d)
{
	json_object *v = get(o, key);

	if (!v || (!json_object_is_type(v, json_type_double) &&
		   !json_object_is_type(v, json_type_int)))
		return false;
	*d = json_object_get_double(v);
	return true;
}

static void summary(json_object *rep, const char *path)
{
	json_object *exp = get(rep, "experiment"), *arr, *o, *e;
	const char *v = str(rep, "verdict", "?"), *state;
	char up[16];
	size_t i, n;
	double d;

	for (i = 0; v[i] && i < sizeof(up) - 1; i++)
		up[i] = v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i];
	up[i] = '\0';
	printf("drill %s: %s (exit %d)\n",
	       str(exp, "name", str(exp, "file", "?")), up,
	       get(rep, "exit") ? json_object_get_int(get(rep, "exit")) : -1);
	printf("  started %s, ended %s", str(rep, "started", "?"),
	       str(rep, "ended", "?"));
	if (has_num(rep, "elapsed", &d))
		printf(", %.3fs", d);
	if (get(rep, "run"))
		printf(", run %s", str(rep, "run", "?"));
	putchar('\n');

	arr = get(rep, "faults");
	n = arr && json_object_is_type(arr, json_type_array) ?
		json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		state = str(o, "state", "?");
		printf("  fault %-16s %-9s", str(o, "name", "?"), state);
		if (has_num(o, "applied_t", &d))
			printf(" applied +%.3fs", d);
		if (has_num(o, "reverted_t", &d))
			printf(" reverted +%.3fs", d);
		if (strcmp(state, "pending"))
			printf(" (%s)", (!strcmp(state, "skipped") ||
					 !strcmp(state, "failed")) &&
			       get(o, "detail") ? str(o, "detail", "") :
			       str(o, "mechanism", str(o, "engine", "?")));
		putchar('\n');
		e = get(get(o, "observed"), "expectation");
		if (e && get(e, "met"))
			printf("        %s: %s\n",
			       json_object_get_boolean(get(e, "met")) ?
			       "expected" : "EXPECTATION FAILED",
			       str(e, "detail", ""));
	}
	arr = get(rep, "probes");
	n = arr && json_object_is_type(arr, json_type_array) ?
		json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		double runs = 0, passed = 0, to = 0;

		o = json_object_array_get_idx(arr, i);
		has_num(o, "runs", &runs);
		has_num(o, "passed", &passed);
		has_num(o, "timeouts", &to);
		printf("  probe %-16s %.0f/%.0f passed", str(o, "name", "?"),
		       passed, runs);
		if (to > 0)
			printf(", %.0f timed out", to);
		putchar('\n');
	}
	printf("report: %s\n", path);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "svg", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *svg = NULL, *path;
	json_object *rep;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:jqh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			svg = optarg;
			break;
		case 'j':
			fl_json_output = true;
			break;
		case 'q':
			fl_quiet = true;
			break;
		case 'h':
			return cmd_usage("report", stdout);
		default:
			return cmd_bad_usage("report", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_bad_usage("report", "give one report file");
	path = argv[optind];

	rep = json_object_from_file(path);
	if (!rep || !json_object_is_type(rep, json_type_object) ||
	    !json_object_is_type(get(rep, "faults"), json_type_array)) {
		fl_err("%s: not a faultline report (%s)", path,
		       rep ? "no faults array" : json_util_get_last_err() ?
		       json_util_get_last_err() : "unreadable");
		json_object_put(rep);
		return FL_EXIT_USAGE;
	}
	if (fl_json_output)
		fl_print_json(rep);
	else if (!fl_quiet)
		summary(rep, path);
	if (svg) {
		ret = fl_report_svg_file(rep, svg);
		if (ret) {
			fl_err("cannot write %s: %s", svg, strerror(-ret));
			json_object_put(rep);
			return FL_EXIT_USAGE;
		}
		if (!fl_json_output && !fl_quiet)
			printf("timeline: %s\n", svg);
		if (!fl_quiet && !fl_json_output)
			fflush(stdout);
	}
	json_object_put(rep);
	return FL_EXIT_OK;
}
