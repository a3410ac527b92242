/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup/: what the binary takes from here besides the engine list. */
#ifndef FAULTLINE_MEMCG_H
#define FAULTLINE_MEMCG_H

#include "core/faultline.h"

/* Scratch cgroups are named FL_SCRATCH_PREFIX "<run>-<target>". */
#define FL_SCRATCH_PREFIX	"faultline-"

/*
 * How run places command targets: create makes a target's scratch
 * cgroups, faultline-<run>-<target>, in the memory hierarchy and the v2
 * one, journaled under the pseudo fault rec before anything is made, and
 * sets t->scratch_memory and t->scratch_unified; join moves the forked
 * child into them before exec.  Its engine ("scratch", internal: no file
 * can name it) reverts them: it kills what is left inside and removes
 * them.  tools/ hands it to core with fl_placer_set().
 */
extern const struct fl_placer fl_scratch_placer;

#endif
