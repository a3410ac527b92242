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

	fprintf(out, "Usage: faultline [OPTIONS] COMMAND [ARGS]\n"
		"       faultline --version | --help\n\n"
		"Options before COMMAND are the command's own: 'faultline "
		"--quiet plan F'\nis 'faultline plan --quiet F'.  Every "
		"command takes --json, --quiet, --help.\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(out, "  %-9s %-8s %s\n", cmds[i].name, cmds[i].args,
			cmds[i].help);
	fprintf(out, "\n'faultline COMMAND --help' tells more; see faultline(8)"
		" and faultline.yaml(5).\n"
		"Exit status: 0 ok, 1 an expectation failed, 2 usage or "
		"validation error,\n3 this kernel cannot do it, 4 applying "
		"failed (everything reverted).\n");
}

/* The command table's entry for name, or NULL ("report merge"). */
static const struct fl_cmd *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
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

/*
 * The common options: one table, which every command's parser, usage line
 * and --help come from.  --json and --quiet (and --help) every command
 * takes; --as and --allow-insecure-file those that take an experiment
 * file.  Given before the command (faultline --quiet plan) they are the
 * command's own.
 */
static const struct {
	unsigned int flag;
	struct option lopt;
	const char *letters;
	const char *usage;	/* in the usage line */
	const char *help;	/* --help's line, after the option's name */
} common[] = {
	{ CMD_JSON, { "json", no_argument, NULL, 'j' }, "j", "[--json]",
	  "  -j, --json     JSON on stdout, for machines, instead of text\n" },
	{ CMD_QUIET, { "quiet", no_argument, NULL, 'q' }, "q", "[--quiet]",
	  NULL },
	{ CMD_AS, { "as", required_argument, NULL, 'A' }, "A:", "[--as GROUP]",
	  "  --as GROUP     partitions: this host is in group GROUP (1 = the "
	  "first),\n"
	  "                 not the one its addresses give\n" },
	{ CMD_INSECURE, { "allow-insecure-file", no_argument, NULL, 'I' }, "",
	  NULL,
	  "  --allow-insecure-file  take a file that is world-writable or "
	  "owned by\n"
	  "                 another user\n" },
};

/* What --quiet does where a command does not say. */
#define QUIET_HELP	"nothing on stdout; errors still on stderr, and " \
			"the exit status"

int cmd_usage(const struct cmd_getopt *g, FILE *out)
{
	const struct fl_cmd *c = cmd_find(g->name);
	unsigned int take = g->common | CMD_COMMON;
	size_t i;

	if (!c) {
		if (g->usage)
			fputs(g->usage, out);
		return g->usage ? 0 : -ENOENT;
	}
	fprintf(out, "Usage: faultline %s", g->name);
	for (i = 0; i < ARRAY_SIZE(common); i++)
		if ((take & common[i].flag) && common[i].usage)
			fprintf(out, " %s", common[i].usage);
	fprintf(out, " [OPTIONS] %s\n  %s\n", c->args, c->help);
	return 0;
}

/* --help: the usage line, the common options it takes, then its own. */
static void cmd_help(const struct cmd_getopt *g, FILE *out)
{
	unsigned int take = g->common | CMD_COMMON;
	size_t i;

	cmd_usage(g, out);
	fprintf(out, "Options:\n");
	for (i = 0; i < ARRAY_SIZE(common); i++) {
		if (!(take & common[i].flag))
			continue;
		if (common[i].flag == CMD_QUIET)
			fprintf(out, "  -q, --quiet    %s\n",
				g->quiet ? g->quiet : QUIET_HELP);
		else
			fputs(common[i].help, out);
	}
	fprintf(out, "  -h, --help     this help\n");
	if (g->help)
		fputs(g->help, out);
}

/* getopt_long said '?': an unknown option, or one without its value. */
static int bad_option(const struct cmd_getopt *g, const struct option *lopts,
		      const char *shorts, char **argv)
{
	const char *a = argv[optind - 1];
	size_t len;

	if (strncmp(a, "--", 2)) {
		if (optopt > 0 && optopt < 256 && strchr(shorts, optopt))
			return cmd_bad_usage(g->name, "-%c needs a value",
					     optopt);
		if (optopt > 0 && optopt < 256)
			return cmd_bad_usage(g->name, "unknown option -%c",
					     optopt);
		return cmd_bad_usage(g->name, "unknown option '%s'", a);
	}
	len = strcspn(a + 2, "=");
	for (; lopts->name; lopts++)
		if (strlen(lopts->name) == len &&
		    !strncmp(lopts->name, a + 2, len))
			return cmd_bad_usage(g->name, "--%s %s", lopts->name,
					     lopts->has_arg ? "needs a value" :
					     "takes no value");
	return cmd_bad_usage(g->name, "unknown option '%s'", a);
}

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
		if (!((g->common | CMD_COMMON) & common[i].flag))
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
		if (((g->common | CMD_COMMON) & common[i].flag) &&
		    common[i].lopt.val == c)
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
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		if (c == '?')
			return bad_option(g, lopts, shorts, argv);
		if (c == 'h') {
			cmd_help(g, stdout);
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

/* Does the option a (before the command) take the next word as its value? */
static bool takes_value(const char *a)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(common); i++) {
		const struct option *o = &common[i].lopt;

		if (o->has_arg != required_argument)
			continue;
		if (!strncmp(a, "--", 2) && !strcmp(a + 2, o->name))
			return true;
		if (a[0] == '-' && a[1] == o->val && !a[2] &&
		    strchr(common[i].letters, o->val))
			return true;
	}
	return false;
}

/* Run the command cmd with the options given before it moved after it. */
static int dispatch(const struct fl_cmd *c, int argc, char **argv, int argi)
{
	char **args;
	int k, n = 0, ret;

	if (c->needs_root) {
		bool help = false;

		/* --help and --print-yaml only print: no root needed. */
		for (k = 1; k < argc; k++)
			if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h") ||
			    !strcmp(argv[k], "--print-yaml"))
				help = true;
		ret = help ? 0 : cmd_need_root(c->name);
		if (ret)
			return ret;
	}
	args = calloc(argc + 1, sizeof(*args));
	if (!args) {
		fl_err("out of memory");
		return FL_EXIT_USAGE;
	}
	args[n++] = argv[argi];
	for (k = 1; k < argi; k++)
		args[n++] = argv[k];
	for (k = argi + 1; k < argc; k++)
		args[n++] = argv[k];
	optind = 1;
	ret = c->fn(n, args);
	free(args);
	return ret;
}

static void unknown_command(const char *name)
{
	static const char *names[ARRAY_SIZE(cmds) + 1];
	const char *s;
	size_t i;

	fprintf(stderr, "faultline: unknown command '%s'\n", name);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		names[i] = cmds[i].name;
	s = fl_did_you_mean(name, names);
	if (s)
		fprintf(stderr, "Did you mean '%s'?\n", s);
	usage(stderr);
}

int cmd_main(int argc, char **argv)
{
	const struct fl_cmd *c;
	int argi;

	/*
	 * --version and --help are faultline's own; every other option
	 * before the command is the command's, parsed with its own.
	 */
	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];

		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("faultline %s\n", FL_VERSION);
			return 0;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (takes_value(a) && argi + 1 < argc)
			argi++;
	}
	if (argi >= argc) {
		if (argc > 1)
			fprintf(stderr, "faultline: which command?\n");
		usage(stderr);
		return FL_EXIT_USAGE;
	}
	c = cmd_find(argv[argi]);
	if (!c) {
		unknown_command(argv[argi]);
		return FL_EXIT_USAGE;
	}
	return dispatch(c, argc, argv, argi);
}
