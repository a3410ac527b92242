/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/dist.h: netem's delay distribution tables, made here (no
 * /usr/lib/tc needed).  Pure arithmetic, unit-tested.
 */
#ifndef FAULTLINE_NETEM_DIST_H
#define FAULTLINE_NETEM_DIST_H

#include <stdint.h>

#include "netem/netem_spec.h"

/* Entries of a table, as tc's own tables have. */
#define NETEM_DIST_SIZE	4096

/*
 * The table of dist (normal, pareto or paretonormal) into t
 * (NETEM_DIST_SIZE entries): its quantiles at (i + 0.5) / size, in units
 * of NETEM_DIST_SCALE standard deviations (netem adds t[rnd] * jitter /
 * NETEM_DIST_SCALE to the delay), so sorted and of mean about 0.
 * 0, or -ENOMEM.
 */
int netem_dist_table(enum netem_dist dist, int16_t *t);

#endif
