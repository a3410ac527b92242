/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup/: memory squeezes and proven kernel OOM kills. */
#ifndef FAULTLINE_MEMCG_H
#define FAULTLINE_MEMCG_H

#include "core/faultline.h"

extern const struct fl_engine oom_engine;
/* Internal: reverts scratch cgroups; no experiment file can name it. */
extern const struct fl_engine scratch_engine;

/* Scratch cgroups are named FL_SCRATCH_PREFIX "<run>-<target>". */
#define FL_SCRATCH_PREFIX	"faultline-"

/*
 * Create a command target's scratch cgroups, faultline-<run>-<target>, in
 * the memory hierarchy and the v2 one, journaled under the pseudo fault
 * rec (name and engine set by the caller) before anything is made.  Sets
 * t->scratch_memory and t->scratch_unified.
 */
int fl_scratch_create(struct fl_journal *j, const char *run_id,
		      struct fl_target *t, struct fl_fault *rec);
/* In a forked child before exec: move itself into t's scratch cgroups. */
int fl_scratch_join(const struct fl_target *t);
/*
 * Leftover scan: scratch cgroups directly under the memory and the v2
 * hierarchies' roots that no run of f->runs holds, each with how many
 * processes are in it and whether its runner still runs.
 */
void fl_scratch_scan_leftovers(struct fl_found *f);

#endif
