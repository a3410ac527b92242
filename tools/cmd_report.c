// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline report FILE.json [--svg OUT]: the summary of a drill's JSON
 * report again, as run printed it at the end, and with --svg its timeline
 * picture redrawn.  --json prints the report itself.
 *
 * faultline report merge [--json OUT] [--svg OUT] A.json B.json ...: the
 * reports of one drill run on several hosts (run --start-at), on one
 * timeline: each host's report under its host name, its offset from the
 * earliest start, and for each fault on several hosts the spread of its
 * apply times.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cmds.h"

/* ------------------------------------------------------------------ */
/* report merge                                                        */

#define MERGE_KIND	"faultline-merged-report"

struct host_rep {
	const char *path;
	json_object *rep;
	char name[160];
	double started;		/* unix seconds */
};

/* "2026-11-28T09:06:07.110Z" as unix seconds, or NAN. */
static double parse_utc(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	double frac = 0, scale = 0.1;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return NAN;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p != 'Z' || p[1])
		return NAN;
	return (double)timegm(&tm) + frac;
}

/*
 * Read one host's report; on error print "FILE: not a faultline report
 * (why)" and return -EINVAL.
 */
static int merge_load(struct host_rep *h)
{
	const char *why = NULL;
	json_object *rep;
	double d;

	rep = json_object_from_file(h->path);
	if (!rep)
		why = json_util_get_last_err() ? json_util_get_last_err() :
		      "unreadable";
	else if (!json_object_is_type(rep, json_type_object))
		why = "not a JSON object";
	else if (!strcmp(fl_json_str(rep, "kind", ""), MERGE_KIND))
		why = "a merged report already; give the hosts' own reports";
	else if (!json_object_is_type(fl_json_get(rep, "faults"),
				      json_type_array))
		why = "no faults array";
	else if (!json_object_is_type(fl_json_get(rep, "experiment"),
				      json_type_object))
		why = "no experiment";
	if (!why) {
		if (fl_json_num(rep, "started_unix", &d) && d > 0)
			h->started = d;
		else
			h->started = parse_utc(fl_json_str(rep, "started",
							   NULL));
		if (isnan(h->started))
			why = "no start time (started)";
	}
	if (why) {
		char *w = strdup(why), *nl;

		/* json-c's messages end with a newline. */
		if (w && (nl = strchr(w, '\n')))
			*nl = '\0';
		fl_err("%s: not a faultline report (%s)", h->path,
		       w ? w : why);
		free(w);
		json_object_put(rep);
		return -EINVAL;
	}
	h->rep = rep;
	return 0;
}

/* Host names: the recorded hostname, else the file's name; unique. */
static void merge_names(struct host_rep *h, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const char *hn = fl_json_str(h[i].rep, "host", "");
		char *copy = strdup(h[i].path), *base;
		size_t len;

		base = copy ? basename(copy) : "?";
		len = strlen(base);
		if (!*hn) {
			if (len > 5 && !strcmp(base + len - 5, ".json"))
				len -= 5;
			snprintf(h[i].name, sizeof(h[i].name), "%.*s",
				 (int)len, base);
		} else {
			snprintf(h[i].name, sizeof(h[i].name), "%s", hn);
		}
		free(copy);
	}
	/* The same hostname twice (clones): add the file to each. */
	for (i = 0; i < n; i++) {
		bool dup = false;

		for (k = 0; k < n; k++)
			if (k != i &&
			    !strcmp(fl_json_str(h[i].rep, "host", ""),
				    fl_json_str(h[k].rep, "host", "-")))
				dup = true;
		if (dup) {
			char *copy = strdup(h[i].path), tmp[160];

			/* Cut to fit: the name only labels a column. */
			if (snprintf(tmp, sizeof(tmp), "%s (%s)", h[i].name,
				     copy ? basename(copy) : "?") >= 0)
				memcpy(h[i].name, tmp, sizeof(tmp));
			free(copy);
		}
	}
}

static json_object *jnum(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

/* The fault named name in a report, or NULL. */
static json_object *fault_named(json_object *rep, const char *name)
{
	json_object *arr = fl_json_get(rep, "faults");
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *f = json_object_array_get_idx(arr, i);

		if (!strcmp(fl_json_str(f, "name", ""), name))
			return f;
	}
	return NULL;
}

/*
 * For each fault name on several hosts: where and when it was applied on
 * the common time base, and the spread of those instants.
 */
static json_object *merge_spread(struct host_rep *h, size_t n, double base)
{
	json_object *out = json_object_new_array();
	size_t i, k, fi;

	for (i = 0; i < n; i++) {
		json_object *arr = fl_json_get(h[i].rep, "faults");

		for (fi = 0; fi < json_object_array_length(arr); fi++) {
			const char *name = fl_json_str(
				json_object_array_get_idx(arr, fi), "name", "");
			json_object *e, *list, *missing;
			double lo = INFINITY, hi = -INFINITY, d;
			size_t present = 0, applied = 0, first = 0, last = 0;
			bool seen = false;

			/* Once per name: at its first host only. */
			for (k = 0; k < i && !seen; k++)
				seen = fault_named(h[k].rep, name);
			if (seen)
				continue;
			list = json_object_new_array();
			missing = json_object_new_array();
			for (k = 0; k < n; k++) {
				json_object *f = fault_named(h[k].rep, name), *a;

				if (!f)
					continue;
				present++;
				if (!fl_json_num(f, "applied_t", &d)) {
					a = json_object_new_object();
					json_object_object_add(a, "host",
						json_object_new_string(h[k].name));
					json_object_object_add(a, "state",
						json_object_new_string(
							fl_json_str(f, "state",
								    "?")));
					json_object_array_add(missing, a);
					continue;
				}
				applied++;
				d += h[k].started - base;
				if (d < lo) {
					lo = d;
					first = k;
				}
				if (d > hi) {
					hi = d;
					last = k;
				}
				a = json_object_new_object();
				json_object_object_add(a, "host",
					json_object_new_string(h[k].name));
				json_object_object_add(a, "applied_t",
						       jnum(d, 6));
				json_object_object_add(a, "applied_at",
					json_object_get(fl_json_get(f,
							"applied_at")));
				if (fl_json_num(f, "reverted_t", &d))
					json_object_object_add(a, "reverted_t",
						jnum(d + h[k].started - base, 6));
				json_object_array_add(list, a);
			}
			if (present < 2) {
				json_object_put(list);
				json_object_put(missing);
				continue;
			}
			e = json_object_new_object();
			json_object_object_add(e, "name",
					       json_object_new_string(name));
			json_object_object_add(e, "hosts",
					       json_object_new_int(present));
			json_object_object_add(e, "applied_on",
					       json_object_new_int(applied));
			json_object_object_add(e, "apply_spread_ms", applied ?
					       jnum((hi - lo) * 1000, 3) : NULL);
			if (applied) {
				json_object_object_add(e, "first",
					json_object_new_string(h[first].name));
				json_object_object_add(e, "last",
					json_object_new_string(h[last].name));
			}
			json_object_object_add(e, "applied", list);
			json_object_object_add(e, "not_applied", missing);
			json_object_array_add(out, e);
		}
	}
	return out;
}

static json_object *merge_build(struct host_rep *h, size_t n)
{
	json_object *m = json_object_new_object(), *hosts, *o;
	const char *name = NULL, *verdict = "pass";
	double base = INFINITY;
	char buf[48];
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].started < base)
			base = h[i].started;
	for (i = 0; i < n; i++) {
		const char *v = fl_json_str(h[i].rep, "verdict", "?");
		const char *en = fl_json_str(fl_json_get(h[i].rep,
							 "experiment"),
					     "name", NULL);

		if (!name)
			name = en;
		else if (en && strcmp(en, name))
			fl_warn("%s: drill %s, not %s as in %s", h[i].path, en,
				name, h[0].path);
		if (strcmp(v, "pass") && !strcmp(verdict, "pass"))
			verdict = v;
	}
	json_object_object_add(m, "kind", json_object_new_string(MERGE_KIND));
	json_object_object_add(m, "experiment", name ?
			       json_object_new_string(name) : NULL);
	json_object_object_add(m, "verdict", json_object_new_string(verdict));
	fl_fmt_time((int64_t)(base * 1e3 + 0.5) * (int64_t)NSEC_PER_MSEC, buf,
		    sizeof(buf));
	json_object_object_add(m, "base", json_object_new_string(buf));
	json_object_object_add(m, "base_unix", jnum(base, 6));
	hosts = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "host",
				       json_object_new_string(h[i].name));
		json_object_object_add(o, "file",
				       json_object_new_string(h[i].path));
		json_object_object_add(o, "offset",
				       jnum(h[i].started - base, 6));
		json_object_object_add(o, "report", json_object_get(h[i].rep));
		json_object_array_add(hosts, o);
	}
	json_object_object_add(m, "hosts", hosts);
	json_object_object_add(m, "spread", merge_spread(h, n, base));
	return m;
}

static void merge_summary(json_object *m)
{
	json_object *hosts = fl_json_get(m, "hosts");
	json_object *sp = fl_json_get(m, "spread");
	size_t i, k;
	double d;

	printf("merged %zu report%s of drill %s: %s, time base %s\n",
	       json_object_array_length(hosts),
	       json_object_array_length(hosts) == 1 ? "" : "s",
	       fl_json_str(m, "experiment", "?"),
	       fl_json_str(m, "verdict", "?"), fl_json_str(m, "base", "?"));
	for (i = 0; i < json_object_array_length(hosts); i++) {
		json_object *o = json_object_array_get_idx(hosts, i);
		json_object *rep = fl_json_get(o, "report");

		fl_json_num(o, "offset", &d);
		printf("  host %-16s %-11s started +%.3fs  %s\n",
		       fl_json_str(o, "host", "?"),
		       fl_json_str(rep, "verdict", "?"), d,
		       fl_json_str(o, "file", "?"));
	}
	for (i = 0; sp && i < json_object_array_length(sp); i++) {
		json_object *e = json_object_array_get_idx(sp, i);
		json_object *miss = fl_json_get(e, "not_applied");
		int hosts_n = json_object_get_int(fl_json_get(e, "hosts"));
		int on = json_object_get_int(fl_json_get(e, "applied_on"));

		printf("  fault %s: ", fl_json_str(e, "name", "?"));
		if (!on)
			printf("applied on none of %d hosts", hosts_n);
		else if (on == hosts_n)
			printf("active on %d hosts", on);
		else
			printf("active on %d of %d hosts", on, hosts_n);
		if (on && fl_json_num(e, "apply_spread_ms", &d))
			printf(" within %.1f ms (first %s, last %s)", d,
			       fl_json_str(e, "first", "?"),
			       fl_json_str(e, "last", "?"));
		for (k = 0; miss && k < json_object_array_length(miss); k++) {
			json_object *x = json_object_array_get_idx(miss, k);

			printf("%s%s %s", k ? ", " : "; not on ",
			       fl_json_str(x, "host", "?"),
			       fl_json_str(x, "state", "?"));
		}
		putchar('\n');
	}
}

/* Write the merged JSON to out ("-": stdout). */
static int merge_write_json(json_object *m, const char *out)
{
	if (!strcmp(out, "-")) {
		fl_print_json(m);
		return 0;
	}
	if (json_object_to_file_ext(out, m, JSON_C_TO_STRING_PRETTY |
				    JSON_C_TO_STRING_NOSLASHESCAPE))
		return errno ? -errno : -EIO;
	return 0;
}

/* report's and report merge's own options: --svg OUT, merge's --json OUT. */
struct report_opts {
	const char *svg;
	const char *json_out;
};

static const struct option svg_opt[] = {
	{ "svg", required_argument, NULL, 's' },
	{}
};

#define MERGE_USAGE							\
	"Usage: faultline report merge [--json OUT] [--svg OUT] "	\
	"A.json B.json ...\n"						\
	"  one timeline of a drill's reports from several hosts (run "	\
	"--start-at)\n"

static int report_opt(void *ctx, int c, const char *arg)
{
	struct report_opts *o = ctx;

	if (c == 's')
		o->svg = arg;
	else if (c == 'j')
		o->json_out = arg;
	return 0;
}

static int cmd_report_merge(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 's' },
		{}
	};
	/* Not in the command table: --help prints its own usage line. */
	static const struct cmd_getopt g = {
		.name = "report merge",
		.common = CMD_QUIET,
		.longs = longs,
		.shorts = "j:s:",
		.opt = report_opt,
		.help = MERGE_USAGE
			"  --json OUT  write the merged report there (- for "
			"stdout)\n"
			"  --svg OUT   draw the merged timeline there, one lane "
			"group per host\n",
	};
	struct report_opts o = { 0 };
	const char *json_out, *svg;
	struct host_rep *h;
	json_object *m;
	size_t n, i;
	int c, ret, bad = 0;

	ret = cmd_getopt(&g, argc, argv, &o);
	if (ret != CMD_GO_ON)
		return ret;
	json_out = o.json_out;
	svg = o.svg;
	if (optind >= argc)
		return cmd_bad_usage("report merge",
				     "give the hosts' report files");
	n = argc - optind;
	h = calloc(n, sizeof(*h));
	if (!h) {
		fl_err("out of memory");
		return FL_EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		h[i].path = argv[optind + i];
		if (merge_load(&h[i]))
			bad++;
	}
	if (bad) {
		ret = FL_EXIT_USAGE;
		goto out;
	}
	merge_names(h, n);
	m = merge_build(h, n);
	ret = FL_EXIT_OK;
	if (json_out) {
		c = merge_write_json(m, json_out);
		if (c) {
			fl_err("cannot write %s: %s", json_out, strerror(-c));
			ret = FL_EXIT_USAGE;
		}
	}
	if (svg && !ret) {
		c = fl_report_svg_merged_file(m, svg);
		if (c) {
			fl_err("cannot write %s: %s", svg, strerror(-c));
			ret = FL_EXIT_USAGE;
		}
	}
	if (fl_json_output && !json_out)
		fl_print_json(m);
	else if (!fl_json_output && !fl_quiet && !ret &&
		 !(json_out && !strcmp(json_out, "-"))) {
		merge_summary(m);
		if (json_out && strcmp(json_out, "-"))
			printf("merged report: %s\n", json_out);
		if (svg)
			printf("timeline: %s\n", svg);
		fflush(stdout);
	}
	json_object_put(m);
out:
	for (i = 0; i < n; i++)
		json_object_put(h[i].rep);
	free(h);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "report",
		.common = CMD_JSON | CMD_QUIET,
		.longs = svg_opt,
		.shorts = "s:",
		.opt = report_opt,
		.help = "  --svg OUT  draw its timeline again into OUT\n"
			MERGE_USAGE,
	};
	struct report_opts o = { 0 };
	const char *svg, *path;
	json_object *rep;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "merge"))
		return cmd_report_merge(argc - 1, argv + 1);
	ret = cmd_getopt(&g, argc, argv, &o);
	if (ret != CMD_GO_ON)
		return ret;
	svg = o.svg;
	if (optind != argc - 1)
		return cmd_bad_usage("report", "give one report file");
	path = argv[optind];

	rep = json_object_from_file(path);
	if (rep && json_object_is_type(rep, json_type_object) &&
	    !strcmp(fl_json_str(rep, "kind", ""), MERGE_KIND) &&
	    json_object_is_type(fl_json_get(rep, "hosts"), json_type_array)) {
		/* A merged report: its summary and timeline again. */
		ret = 0;
		if (fl_json_output)
			fl_print_json(rep);
		else if (!fl_quiet)
			merge_summary(rep);
		if (svg && (ret = fl_report_svg_merged_file(rep, svg)))
			fl_err("cannot write %s: %s", svg, strerror(-ret));
		else if (svg && !fl_json_output && !fl_quiet)
			printf("timeline: %s\n", svg);
		json_object_put(rep);
		return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
	}
	if (!rep || !json_object_is_type(rep, json_type_object) ||
	    !json_object_is_type(fl_json_get(rep, "faults"), json_type_array)) {
		fl_err("%s: not a faultline report (%s)", path,
		       rep ? "no faults array" : json_util_get_last_err() ?
		       json_util_get_last_err() : "unreadable");
		json_object_put(rep);
		return FL_EXIT_USAGE;
	}
	if (fl_json_output)
		fl_print_json(rep);
	else if (!fl_quiet)
		fl_report_summary(rep, path, true, stdout);
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
