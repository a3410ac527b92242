/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup/: the parsed spec of the oom fault (f->priv). */
#ifndef FAULTLINE_OOM_SPEC_H
#define FAULTLINE_OOM_SPEC_H

#include "core/faultline.h"

enum oom_cgroup {
	OOM_CG_OWN,		/* squeeze the target's own leaf cgroup */
	OOM_CG_SCRATCH,		/* move the target into a new cgroup first */
};

enum oom_squeeze {
	OOM_SQ_BELOW_USAGE,	/* limit = usage - below */
	OOM_SQ_TO,		/* limit = to */
	OOM_SQ_RAMP,		/* from, then down by step every interval */
};

enum oom_expect {
	OOM_EXPECT_KILL,	/* memory.max / limit_in_bytes: a kernel kill */
	OOM_EXPECT_PRESSURE,	/* memory.high: throttle, never kill */
};

struct oom_spec {
	const char *target_name;	/* target->name */
	struct fl_target *target;	/* in the experiment's targets */
	enum oom_cgroup cgroup;
	enum oom_squeeze squeeze;
	uint64_t below;			/* BELOW_USAGE: bytes */
	uint64_t to;			/* TO: bytes */
	bool ramp_from_usage;		/* RAMP: from usage, else ramp_from */
	uint64_t ramp_from, ramp_step, ramp_every_ns;
	bool swap;			/* false (default): swap limit 0 */
	enum oom_expect expect;
};

#endif
