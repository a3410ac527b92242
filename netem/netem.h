/* SPDX-License-Identifier: GPL-2.0-only */
/* netem/: network degradation and partitions over rtnetlink. */
#ifndef FAULTLINE_NETEM_H
#define FAULTLINE_NETEM_H

#include "core/faultline.h"

extern const struct fl_engine netem_engine;
extern const struct fl_engine partition_engine;

#endif
