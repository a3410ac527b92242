/* SPDX-License-Identifier: GPL-2.0-only */
/* netem/: network degradation and partitions over rtnetlink. */
#ifndef FAULTLINE_NETEM_H
#define FAULTLINE_NETEM_H

#include "core/faultline.h"

extern const struct fl_engine netem_engine;
extern const struct fl_engine partition_engine;

/*
 * faultline run/plan --as GROUP: the partition group (1-based) this host
 * takes, instead of the one its addresses give; 0: from the addresses.
 */
extern int netem_partition_as;

#endif
