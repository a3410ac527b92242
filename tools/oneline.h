/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tools/: one-line drills, "faultline run --fault 'netem: { device: eth0,
 * delay: 100ms }' --for 30s": the options are written out as the YAML of
 * an experiment file, which the file loader validates like any other, so
 * a one-line drill has everything a file has (the journal, the guardian,
 * the report, Ctrl-C) and --print-yaml shows the file it stands for.
 */
#ifndef FAULTLINE_TOOLS_ONELINE_H
#define FAULTLINE_TOOLS_ONELINE_H

#include "core/faultline.h"

#define ONELINE_MAX	32

struct oneline {
	const char *cmd;		/* "run" or "plan", for messages */
	const char *faults[ONELINE_MAX], *targets[ONELINE_MAX];
	size_t nfaults, ntargets;
	const char *duration;		/* --for */
	bool print_yaml;
};

/* The one-line drill's long options, in a command's getopt table. */
#define ONELINE_LONGS					\
	{ "fault", required_argument, NULL, 'F' },	\
	{ "target", required_argument, NULL, 'T' },	\
	{ "for", required_argument, NULL, 'D' }

/* Take one option ('F', 'T' or 'D' of ONELINE_LONGS): 0 or FL_EXIT_USAGE. */
int oneline_opt(struct oneline *o, int c, const char *arg);
/* Was any one-line option given? */
bool oneline_given(const struct oneline *o);
/*
 * The drill a command was given, a file (argv[optind]) or the one-line
 * options, not both: 0 with *exp (NULL after --print-yaml), or the exit
 * status after saying what is wrong.
 */
int oneline_or_file(const struct oneline *o, int argc, char **argv,
		    struct fl_experiment **exp);
/*
 * Build the experiment (or, with --print-yaml, print its file and set
 * *exp NULL): 0, or the exit status after saying what is wrong (errors
 * point into the option: "--fault 1:12: ...").
 */
int oneline_load(const struct oneline *o, struct fl_experiment **exp);

#endif
