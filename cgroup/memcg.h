/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup/: memory squeezes and proven kernel OOM kills. */
#ifndef FAULTLINE_MEMCG_H
#define FAULTLINE_MEMCG_H

#include "core/faultline.h"

extern const struct fl_engine oom_engine;

#endif
