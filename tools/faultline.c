// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline: run fault-injection drills described in experiment files.
 * Subcommands are dispatched from one table; their options go through
 * one parser (cmd_getopt): each command describes the shared options it
 * takes, its own options with a callback for them, and its --help text.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netem/netem.h"
#include "tools/cmds.h"

static const struct fl_cmd cmds[] = {
	{ "validate", cmd_validate, "FILE...",
	  "check experiment files and report every problem", false },
	{ "plan", cmd_plan, "FILE",
	  "dry run: what run would do on this machine, in order", false },
	{ "run", cmd_run, "FILE",
	  "carry the drill out and put the machine back", true },
	{ "status", cmd_status, "",
	  "list active runs and the faults they hold", false },
	{ "recover", cmd_recover, "[RUN]",
	  "revert what a dead run left behind", true },
	{ "doctor", cmd_doctor, "",
	  "report what this kernel allows, and what each gap means", false },
	{ "report", cmd_report, "FILE",
	  "a drill report again; 'report merge A B...' joins hosts' reports",
	  false },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: faultline [--json] [--quiet] COMMAND [ARGS]\n"
		"       faultline --version | --help\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(out, "  %-9s %-8s %s\n", cmds[i].name, cmds[i].args,
			cmds[i].help);
	fprintf(out, "\n'faultline COMMAND --help' tells more; see faultline(8)"
		" and faultline.yaml(5).\n"
		"Exit status: 0 ok, 1 an expectation failed, 2 usage or "
		"validation error,\n3 this kernel cannot do it, 4 applying "
		"failed (everything reverted).\n");
}

int cmd_usage(const char *name, FILE *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].name, name))
			continue;
		fprintf(out, "Usage: faultline %s [--json] [--quiet] %s\n  %s\n",
			name, cmds[i].args, cmds[i].help);
		return 0;
	}
	return -ENOENT;
}

int cmd_bad_usage(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "faultline %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'faultline %s --help'.\n", name);
	return FL_EXIT_USAGE;
}

/* The shared options, in the order they go in the table. */
static const struct {
	unsigned int flag;
	struct option lopt;
	const char *letters;
} common[] = {
	{ CMD_JSON, { "json", no_argument, NULL, 'j' }, "j" },
	{ CMD_QUIET, { "quiet", no_argument, NULL, 'q' }, "q" },
	{ CMD_AS, { "as", required_argument, NULL, 'A' }, "A:" },
	{ CMD_INSECURE, { "allow-insecure-file", no_argument, NULL, 'I' }, "" },
};

#define CMD_MAX_OPTS	16

/* --as N: this host is in partition group N (1-based). */
static int parse_as(const char *name, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > 1000)
		return cmd_bad_usage(name, "--as takes a group number, 1 for "
				     "the first group");
	netem_partition_as = v;
	return 0;
}

/* The getopt_long tables: the shared options, the command's, --help. */
static int build(const struct cmd_getopt *g, struct option *lopts,
		 char *shorts, size_t len)
{
	const struct option *o;
	size_t i, n = 0;

	shorts[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(common); i++) {
		if (!(g->common & common[i].flag))
			continue;
		lopts[n++] = common[i].lopt;
		strncat(shorts, common[i].letters, len - strlen(shorts) - 1);
	}
	for (o = g->longs; o && o->name; o++) {
		if (n >= CMD_MAX_OPTS - 2)
			return -E2BIG;
		lopts[n++] = *o;
	}
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ 0 };
	if (g->shorts)
		strncat(shorts, g->shorts, len - strlen(shorts) - 1);
	strncat(shorts, "h", len - strlen(shorts) - 1);
	return 0;
}

/* Is c one of the shared options, and one this command takes? */
static bool is_common(const struct cmd_getopt *g, int c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(common); i++)
		if ((g->common & common[i].flag) && common[i].lopt.val == c)
			return true;
	return false;
}

/* A shared option: 0, or the exit status of a usage error. */
static int common_opt(const char *name, int c, const char *arg)
{
	switch (c) {
	case 'j':
		fl_json_output = true;
		break;
	case 'q':
		fl_quiet = true;
		break;
	case 'I':
		fl_allow_insecure_file = true;
		break;
	case 'A':
		return parse_as(name, arg);
	}
	return 0;
}

int cmd_getopt(const struct cmd_getopt *g, int argc, char **argv, void *ctx)
{
	struct option lopts[CMD_MAX_OPTS];
	char shorts[64];
	int c, ret;

	if (build(g, lopts, shorts, sizeof(shorts))) {
		fl_err("faultline %s: too many options", g->name);
		return FL_EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		if (c == '?')
			return cmd_bad_usage(g->name, "unknown option");
		if (c == 'h') {
			cmd_usage(g->name, stdout);
			if (g->help)
				fputs(g->help, stdout);
			return FL_EXIT_OK;
		}
		if (is_common(g, c))
			ret = common_opt(g->name, c, optarg);
		else
			ret = g->opt ? g->opt(ctx, c, optarg) : 0;
		if (ret)
			return ret;
	}
	return CMD_GO_ON;
}

int cmd_load(const char *file, struct fl_experiment **exp)
{
	struct fl_diag d;
	json_object *errs;

	*exp = NULL;
	fl_diag_init(&d);
	if (!fl_experiment_load(file, exp, &d)) {
		fl_diag_free(&d);
		return 0;
	}
	if (fl_json_output) {
		errs = json_object_new_object();
		json_object_object_add(errs, "errors", fl_diag_json(&d));
		fl_print_json(errs);
		json_object_put(errs);
	} else {
		fl_diag_print(&d, stderr);
	}
	fl_diag_free(&d);
	fl_experiment_free(*exp);
	*exp = NULL;
	return FL_EXIT_USAGE;
}

/*
 * faultline changes qdiscs, cgroups and BPF state: it needs root, or at
 * least CAP_NET_ADMIN and CAP_SYS_ADMIN together.
 */
int cmd_need_root(const char *name)
{
	/* CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21 */
	const unsigned long long need = (1ULL << 12) | (1ULL << 21);
	unsigned long long eff = 0;

	/* Root whose capabilities were dropped is refused too. */
	if (fl_cap_eff(&eff) && geteuid() == 0)
		return 0;	/* no /proc: trust the uid */
	if ((eff & need) == need)
		return 0;
	if (geteuid() == 0)
		fl_err("%s needs CAP_NET_ADMIN and CAP_SYS_ADMIN, which this "
		       "root process lacks (CapEff %llx): it changes qdiscs, "
		       "cgroups and BPF state", name, eff);
	else
		fl_err("%s needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN): it "
		       "changes qdiscs, cgroups and BPF state; try 'sudo "
		       "faultline %s'", name, name);
	return FL_EXIT_UNSUPPORTED;
}

int cmd_main(int argc, char **argv)
{
	size_t i;
	int argi;

	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];

		if (!strcmp(a, "--json")) {
			fl_json_output = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			fl_quiet = true;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("faultline %s\n", FL_VERSION);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "faultline: unknown option '%s'\n", a);
			usage(stderr);
			return FL_EXIT_USAGE;
		}
	}
	if (argi >= argc) {
		usage(stderr);
		return FL_EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].name, argv[argi]))
			continue;
		if (cmds[i].needs_root) {
			bool help = false;
			int k, ret;

			for (k = argi + 1; k < argc; k++)
				if (!strcmp(argv[k], "--help") ||
				    !strcmp(argv[k], "-h"))
					help = true;
			ret = help ? 0 : cmd_need_root(cmds[i].name);
			if (ret)
				return ret;
		}
		optind = 1;
		return cmds[i].fn(argc - argi, argv + argi);
	}
	fprintf(stderr, "faultline: unknown command '%s'\n", argv[argi]);
	{
		static const char *names[ARRAY_SIZE(cmds) + 1];
		const char *s;

		for (i = 0; i < ARRAY_SIZE(cmds); i++)
			names[i] = cmds[i].name;
		s = fl_did_you_mean(argv[argi], names);
		if (s)
			fprintf(stderr, "Did you mean '%s'?\n", s);
	}
	usage(stderr);
	return FL_EXIT_USAGE;
}
