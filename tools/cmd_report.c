// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline report FILE.json [--svg OUT]: the summary of a drill's JSON
 * report again, as run printed it at the end, and with --svg its timeline
 * picture redrawn.  --json prints the report itself.
 *
 * faultline report merge [-o OUT] [--svg OUT] A.json B.json ...: the
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
#include <sys/stat.h>

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

/* Reports larger than this are not faultline's. */
#define REPORT_MAX_SIZE	(64 << 20)

/* The 1-based line and column of byte off in buf. */
static void buf_pos(const char *buf, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Why buf (len bytes, NUL-ended) is no JSON object, or NULL with *out. */
static const char *parse_report(const char *buf, size_t len, json_object **out,
				char *why, size_t wlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	size_t start = strspn(buf, " \t\r\n"), end;
	int line, col;
	char q[48];

	*out = NULL;
	if (start == len)
		return "the file is empty";
	if (buf[start] != '{' && buf[start] != '[') {
		char first[48];

		snprintf(first, sizeof(first), "%.*s",
			 (int)strcspn(buf + start, "\r\n"), buf + start);
		snprintf(why, wlen, "not JSON: it begins with '%s'; a report "
			 "is the JSON file 'faultline run' writes",
			 fl_quote(first, q, sizeof(q)));
		return why;
	}
	tok = json_tokener_new();
	if (!tok)
		return "out of memory";
	*out = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue || (jerr == json_tokener_success &&
					      !*out && end >= len)) {
		buf_pos(buf, len, &line, &col);
		snprintf(why, wlen, "the JSON ends early, at line %d: a file "
			 "cut short?", line);
		return why;
	}
	if (jerr != json_tokener_success) {
		buf_pos(buf, end, &line, &col);
		snprintf(why, wlen, "bad JSON at line %d, column %d: %s", line,
			 col, json_tokener_error_desc(jerr));
		return why;
	}
	if (end + strspn(buf + end, " \t\r\n") < len) {
		buf_pos(buf, end, &line, &col);
		json_object_put(*out);
		*out = NULL;
		snprintf(why, wlen, "more text after the JSON, at line %d, "
			 "column %d", line, col);
		return why;
	}
	if (!json_object_is_type(*out, json_type_object))
		return "JSON, but not an object";
	return NULL;
}

/*
 * Read a report (or a merged report) into *out: a JSON object.  On error
 * print "FILE: not a faultline report (why)", or why it cannot be read,
 * and return -EINVAL.
 */
static int report_read(const char *path, json_object **out)
{
	char *buf = NULL, why[200];
	size_t len = 0, cap = 0, got;
	const char *bad;
	FILE *f;
	int ret = -EINVAL;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		fl_err("%s: cannot read: %s", path, strerror(errno));
		return -EINVAL;
	}
	do {
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= REPORT_MAX_SIZE) {
				fl_err("%s: not a faultline report (larger "
				       "than %d MiB)", path,
				       REPORT_MAX_SIZE >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb) {
				fl_err("%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		fl_err("%s: cannot read: %s", path, strerror(EIO));
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		fl_err("%s: not a faultline report (a binary file)", path);
		goto out;
	}
	bad = parse_report(buf, len, out, why, sizeof(why));
	if (bad) {
		fl_err("%s: not a faultline report (%s)", path, bad);
		json_object_put(*out);
		*out = NULL;
		goto out;
	}
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

/* A host's report: why it is not one, or NULL. */
static const char *report_why_not(json_object *rep)
{
	if (!json_object_is_type(fl_json_get(rep, "faults"), json_type_array))
		return "no faults array";
	if (!json_object_is_type(fl_json_get(rep, "experiment"),
				 json_type_object))
		return "no experiment";
	return NULL;
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

	if (report_read(h->path, &rep))
		return -EINVAL;
	if (!strcmp(fl_json_str(rep, "kind", ""), MERGE_KIND))
		why = "a merged report already; give the hosts' own reports";
	else
		why = report_why_not(rep);
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
		fl_err("%s: not a faultline report (%s)", h->path, why);
		json_object_put(rep);
		return -EINVAL;
	}
	h->rep = rep;
	return 0;
}

/* The name h[i] is known by alone: the recorded hostname, else the file. */
static void base_name(struct host_rep *h)
{
	const char *hn = fl_json_str(h->rep, "host", "");
	char *copy = strdup(h->path), *base;
	size_t len;

	base = copy ? basename(copy) : "?";
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".json"))
		len -= 5;
	if (*hn)
		snprintf(h->name, sizeof(h->name), "%s", hn);
	else
		snprintf(h->name, sizeof(h->name), "%.*s", (int)len, base);
	free(copy);
}

/* Does another host have the name h[i] has? */
static bool name_taken(const struct host_rep *h, size_t n, size_t i)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (k != i && !strcmp(h[k].name, h[i].name))
			return true;
	return false;
}

/*
 * Host names, unique: the recorded hostname (else the file's name).  Hosts
 * on one machine (network namespaces, as make demo has them) share a
 * hostname: those get their run id added, which every run has its own of,
 * and if that is not enough (the same run twice) their place in the list.
 */
static void merge_names(struct host_rep *h, size_t n)
{
	bool dup[n];
	char tmp[sizeof(h->name) + 64];
	size_t i;

	for (i = 0; i < n; i++)
		base_name(&h[i]);
	for (i = 0; i < n; i++)
		dup[i] = name_taken(h, n, i);
	for (i = 0; i < n; i++) {
		const char *run = fl_json_str(h[i].rep, "run", "");

		if (!dup[i] || !*run)
			continue;
		snprintf(tmp, sizeof(tmp), "%s/%s", h[i].name, run);
		snprintf(h[i].name, sizeof(h[i].name), "%.*s",
			 (int)sizeof(h[i].name) - 1, tmp);
	}
	for (i = 0; i < n; i++)
		dup[i] = name_taken(h, n, i);
	for (i = 0; i < n; i++) {
		if (!dup[i])
			continue;
		snprintf(tmp, sizeof(tmp), "%s#%zu", h[i].name, i + 1);
		snprintf(h[i].name, sizeof(h[i].name), "%.*s",
			 (int)sizeof(h[i].name) - 1, tmp);
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
					fl_json_add_str(a, "host", h[k].name);
					fl_json_add_str(a, "state",
							fl_json_str(f, "state", "?"));
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
				fl_json_add_str(a, "host", h[k].name);
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
			fl_json_add_str(e, "name", name);
			json_object_object_add(e, "hosts",
					       json_object_new_int(present));
			json_object_object_add(e, "applied_on",
					       json_object_new_int(applied));
			json_object_object_add(e, "apply_spread_ms", applied ?
					       jnum((hi - lo) * 1000, 3) : NULL);
			if (applied) {
				fl_json_add_str(e, "first", h[first].name);
				fl_json_add_str(e, "last", h[last].name);
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
	fl_json_add_str(m, "kind", MERGE_KIND);
	json_object_object_add(m, "experiment", name ?
			       json_object_new_string(name) : NULL);
	fl_json_add_str(m, "verdict", verdict);
	fl_fmt_time((int64_t)(base * 1e3 + 0.5) * (int64_t)NSEC_PER_MSEC, buf,
		    sizeof(buf));
	fl_json_add_str(m, "base", buf);
	json_object_object_add(m, "base_unix", jnum(base, 6));
	hosts = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		fl_json_add_str(o, "host", h[i].name);
		fl_json_add_str(o, "file", h[i].path);
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

/* report's and report merge's own options: --svg OUT, merge's -o OUT. */
struct report_opts {
	const char *svg;
	const char *output;
};

static const struct option svg_opt[] = {
	{ "svg", required_argument, NULL, 's' },
	{}
};

#define MERGE_USAGE							\
	"Usage: faultline report merge [-o OUT.json] [--svg OUT.svg] "	\
	"[--json] [--quiet]\n"						\
	"                              A.json B.json ...\n"		\
	"  one timeline of a drill's reports from several hosts (run "	\
	"--start-at)\n"

static int report_opt(void *ctx, int c, const char *arg)
{
	struct report_opts *o = ctx;

	if (c == 's')
		o->svg = arg;
	else if (c == 'o')
		o->output = arg;
	return 0;
}

/*
 * An output that is one of the inputs (or the other output) would be
 * written over: refuse before reading anything.
 */
static int merge_check_outputs(const struct report_opts *o, char **in, int n)
{
	const char *outs[] = { o->output, o->svg };
	struct stat so, si;
	size_t k;
	int i;

	for (k = 0; k < ARRAY_SIZE(outs); k++) {
		if (!outs[k] || !strcmp(outs[k], "-") || stat(outs[k], &so))
			continue;
		for (i = 0; i < n; i++)
			if (!stat(in[i], &si) && si.st_dev == so.st_dev &&
			    si.st_ino == so.st_ino)
				return cmd_bad_usage("report merge", "%s is one "
					"of the reports to merge (%s): it would "
					"be written over; name another file",
					outs[k], in[i]);
	}
	if (o->output && o->svg && strcmp(o->output, "-") &&
	    (!strcmp(o->output, o->svg) ||
	     (!stat(o->output, &so) && !stat(o->svg, &si) &&
	      so.st_dev == si.st_dev && so.st_ino == si.st_ino)))
		return cmd_bad_usage("report merge", "-o and --svg name the "
				     "same file, %s", o->svg);
	return 0;
}

/* The same file given twice would be one host counted twice. */
static int merge_check_inputs(char **in, int n)
{
	struct stat a, b;
	int i, k;

	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			if (!stat(in[i], &a) && !stat(in[k], &b) &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				return cmd_bad_usage("report merge", "%s is "
					"given twice (also as %s)", in[k],
					in[i]);
	return 0;
}

/* Write what was asked; 0 or FL_EXIT_USAGE. */
static int merge_outputs(json_object *m, const struct report_opts *o)
{
	int c;

	if (o->output && (c = merge_write_json(m, o->output))) {
		fl_err("cannot write %s: %s", o->output, strerror(-c));
		return FL_EXIT_USAGE;
	}
	if (o->svg && (c = fl_report_svg_merged_file(m, o->svg))) {
		fl_err("cannot write %s: %s", o->svg, strerror(-c));
		return FL_EXIT_USAGE;
	}
	if (fl_json_output) {
		if (!o->output || strcmp(o->output, "-"))
			fl_print_json(m);
	} else if (!fl_quiet && !(o->output && !strcmp(o->output, "-"))) {
		merge_summary(m);
		if (o->output)
			printf("merged report: %s\n", o->output);
		if (o->svg)
			printf("timeline: %s\n", o->svg);
		fflush(stdout);
	}
	return FL_EXIT_OK;
}

/*
 * Where "merge" is: the first word that is no option nor an option's
 * value (options given before the command come first: faultline --json
 * report merge ...); 0 when the first such word is not "merge".
 */
static int merge_word(int argc, char **argv)
{
	int k;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "--"))
			return 0;
		if (!strcmp(a, "--svg") || !strcmp(a, "-o") ||
		    !strcmp(a, "--output")) {
			k++;
			continue;
		}
		if (a[0] == '-' && a[1])
			continue;
		return strcmp(a, "merge") ? 0 : k;
	}
	return 0;
}

/* report merge: argv[at] is "merge", dropped. */
static int cmd_report_merge(int argc0, char **argv0, int at)
{
	char *argv[argc0];
	int argc = 0, k;

	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "svg", required_argument, NULL, 's' },
		{}
	};
	/* Not in the command table: --help prints its own usage line. */
	static const struct cmd_getopt g = {
		.name = "report merge",
		.common = CMD_JSON | CMD_QUIET,
		.longs = longs,
		.shorts = "o:",
		.opt = report_opt,
		.usage = MERGE_USAGE,
		.quiet = "no summary",
		.help = "  -o, --output OUT  write the merged report there (- "
			"for stdout); never one\n"
			"                 of the reports merged\n"
			"  --svg OUT      draw the merged timeline there, one "
			"lane group per host\n",
	};
	struct report_opts o = { 0 };
	struct host_rep *h;
	json_object *m;
	size_t n, i;
	int ret, bad = 0;

	for (k = 0; k < argc0; k++)
		if (k != at)
			argv[argc++] = argv0[k];
	ret = cmd_getopt(&g, argc, argv, &o);
	if (ret != CMD_GO_ON)
		return ret;
	if (optind >= argc)
		return cmd_bad_usage("report merge",
				     "give the hosts' report files");
	n = argc - optind;
	ret = merge_check_outputs(&o, argv + optind, (int)n);
	if (!ret)
		ret = merge_check_inputs(argv + optind, (int)n);
	if (ret)
		return ret;
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
	ret = merge_outputs(m, &o);
	json_object_put(m);
out:
	for (i = 0; i < n; i++)
		json_object_put(h[i].rep);
	free(h);
	return ret;
}

/* A merged report given to report: its summary and timeline again. */
static int report_merged(json_object *rep, const char *svg)
{
	int ret = 0;

	if (fl_json_output)
		fl_print_json(rep);
	else if (!fl_quiet)
		merge_summary(rep);
	if (svg && (ret = fl_report_svg_merged_file(rep, svg)))
		fl_err("cannot write %s: %s", svg, strerror(-ret));
	else if (svg && !fl_json_output && !fl_quiet)
		printf("timeline: %s\n", svg);
	return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "report",
		.common = CMD_JSON | CMD_QUIET,
		.longs = svg_opt,
		.opt = report_opt,
		.quiet = "no summary",
		.help = "  --svg OUT      draw its timeline again into OUT\n"
			"With --json, the report itself on stdout.\n\n"
			MERGE_USAGE
			"  ('faultline report merge --help' tells more)\n",
	};
	struct report_opts o = { 0 };
	const char *path, *why;
	json_object *rep;
	int ret;

	ret = merge_word(argc, argv);
	if (ret > 0)
		return cmd_report_merge(argc, argv, ret);
	ret = cmd_getopt(&g, argc, argv, &o);
	if (ret != CMD_GO_ON)
		return ret;
	if (optind != argc - 1)
		return cmd_bad_usage("report", "give one report file");
	path = argv[optind];

	if (report_read(path, &rep))
		return FL_EXIT_USAGE;
	if (!strcmp(fl_json_str(rep, "kind", ""), MERGE_KIND) &&
	    json_object_is_type(fl_json_get(rep, "hosts"), json_type_array)) {
		ret = report_merged(rep, o.svg);
		json_object_put(rep);
		return ret;
	}
	why = report_why_not(rep);
	if (why) {
		fl_err("%s: not a faultline report (%s)", path, why);
		json_object_put(rep);
		return FL_EXIT_USAGE;
	}
	ret = FL_EXIT_OK;
	if (fl_json_output)
		fl_print_json(rep);
	else if (!fl_quiet)
		fl_report_summary(rep, path, true, stdout);
	if (o.svg && (ret = fl_report_svg_file(rep, o.svg))) {
		fl_err("cannot write %s: %s", o.svg, strerror(-ret));
		ret = FL_EXIT_USAGE;
	} else if (o.svg && !fl_json_output && !fl_quiet) {
		printf("timeline: %s\n", o.svg);
	}
	fflush(stdout);
	json_object_put(rep);
	return ret;
}
