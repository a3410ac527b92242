/* SPDX-License-Identifier: GPL-2.0-only */
/* The faultline CLI's subcommands (tools/ internal). */
#ifndef FAULTLINE_TOOLS_CMDS_H
#define FAULTLINE_TOOLS_CMDS_H

#include <getopt.h>

#include "core/faultline.h"

struct fl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
	bool needs_root;
};

/* The engine list, generated from the Build files (tools/engines.c). */
extern const struct fl_engine *const fl_builtin_engines[];
extern const size_t fl_builtin_nengines;

/*
 * The command line, once the binary has composed itself: its engines
 * (fl_engines_set) and how run places the commands it starts
 * (fl_placer_set).  tools/main.c does that for faultline.
 */
int cmd_main(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Print "faultline CMD: usage error" and return FL_EXIT_USAGE. */
int cmd_bad_usage(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Root (or CAP_NET_ADMIN/CAP_SYS_ADMIN/CAP_BPF) check; prints why. */
int cmd_need_root(const char *name);

/*
 * A command's options, for cmd_getopt().  The common ones (one table in
 * tools/faultline.c): --json (-j), --quiet (-q) and --help (-h) every
 * command takes; --as GROUP (-A) and --allow-insecure-file those that say
 * so in common.  Its own: long options (a {} ended table, NULL for none)
 * and letters (getopt style, NULL for none), each handed to opt(ctx, c,
 * optarg), which returns 0 or the exit status of a usage error.  --help
 * prints the usage line (usage, for a name not in the command table such
 * as "report merge"), the common options with quiet as what --quiet does
 * here, then help (the command's own options).
 */
enum {
	CMD_JSON	= 1 << 0,
	CMD_QUIET	= 1 << 1,
	CMD_AS		= 1 << 2,
	CMD_INSECURE	= 1 << 3,
	/* Those every command takes. */
	CMD_COMMON	= CMD_JSON | CMD_QUIET,
	/* Those of the commands that take one experiment file. */
	CMD_FILE	= CMD_COMMON | CMD_AS | CMD_INSECURE,
};

struct cmd_getopt {
	const char *name;
	unsigned int common;
	const struct option *longs;
	const char *shorts;
	int (*opt)(void *ctx, int c, const char *arg);
	const char *usage;
	const char *quiet;
	const char *help;
};

/* "Usage: faultline NAME [--json] [--quiet]... ARGS" and its one line. */
int cmd_usage(const struct cmd_getopt *g, FILE *out);

/* Returned by cmd_getopt() when the command goes on with argv[optind]. */
#define CMD_GO_ON	(-1)
/* Parse argv's options as g says; CMD_GO_ON, or the exit status to return
 * at once (0 after --help, FL_EXIT_USAGE after saying what is wrong). */
int cmd_getopt(const struct cmd_getopt *g, int argc, char **argv, void *ctx);
/* Load and validate FILE; on error print every problem (JSON with --json)
 * and return FL_EXIT_USAGE with *exp NULL. */
int cmd_load(const char *file, struct fl_experiment **exp);

#endif
