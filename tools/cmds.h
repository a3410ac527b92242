/* SPDX-License-Identifier: GPL-2.0-only */
/* The faultline CLI's subcommands (tools/ internal). */
#ifndef FAULTLINE_TOOLS_CMDS_H
#define FAULTLINE_TOOLS_CMDS_H

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

int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* "Usage: faultline NAME ..." with the command's one-line help. */
int cmd_usage(const char *name, FILE *out);
/* Print "faultline CMD: usage error" and return FL_EXIT_USAGE. */
int cmd_bad_usage(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Root (or CAP_NET_ADMIN/CAP_SYS_ADMIN/CAP_BPF) check; prints why. */
int cmd_need_root(const char *name);

/*
 * The options commands share: --json ('j') and --quiet ('q'); and those
 * of the commands that take one experiment file (plan, run): put
 * CMD_FILE_OPTS in the getopt_long table, "jA:" in the short options and
 * print cmd_file_opts_help in --help.  Pass each option to cmd_opt()
 * first.
 */
#define CMD_FILE_OPTS							\
	{ "json", no_argument, NULL, 'j' },				\
	{ "as", required_argument, NULL, 'A' },				\
	{ "allow-insecure-file", no_argument, NULL, 'I' }
extern const char cmd_file_opts_help[];
/* 1: c was one of those and is done; 0: not one of them; or
 * FL_EXIT_USAGE after saying what is wrong with its argument. */
int cmd_opt(const char *name, int c, const char *arg);
/* Load and validate FILE; on error print every problem (JSON with --json)
 * and return FL_EXIT_USAGE with *exp NULL. */
int cmd_load(const char *file, struct fl_experiment **exp);

#endif
