/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core/runner.h: the runner's private header (core/ only).
 */
#ifndef FAULTLINE_CORE_RUNNER_H
#define FAULTLINE_CORE_RUNNER_H

#include "core/faultline.h"

/*
 * The live view's copy of fault i's state and why it failed or was
 * skipped (detail may be NULL): the run state is the runner's, and it
 * tells the view each time it changes.
 */
void fl_live_fault(struct fl_live *lv, size_t i, enum fl_fault_state st,
		   const char *detail);

#endif
