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

int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);

/*
 * Parse the options every command shares (--json, --quiet, --help) with
 * getopt_long; extra is the command's own long options (may be NULL).
 * Returns the getopt result for options it does not handle itself, -1 at
 * the end, or '?' after printing a usage error.
 */
int cmd_usage(const char *name, FILE *out);
/* Print "faultline CMD: usage error" and return FL_EXIT_USAGE. */
int cmd_bad_usage(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Root (or CAP_NET_ADMIN/CAP_SYS_ADMIN/CAP_BPF) check; prints why. */
int cmd_need_root(const char *name);

#endif
