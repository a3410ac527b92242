// SPDX-License-Identifier: GPL-2.0-only
/*
 * The oom fault's schema: target, cgroup (own or scratch), squeeze (one
 * of below-usage, to or ramp), swap and expect, parsed into struct
 * oom_spec (oom_spec.h).  Every problem goes to the diagnostics, so that
 * validate reports them all at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/oom.h"

const char *const oom_keys[] = {
	"target", "cgroup", "squeeze", "swap", "expect", NULL,
};
static const char *const squeeze_keys[] = {
	"below-usage", "to", "ramp", NULL,
};
static const char *const ramp_keys[] = { "from", "step", "every", NULL };
const char *const oom_cgroup_names[] = { "own", "scratch", NULL };
const char *const oom_expect_names[] = { "kill", "pressure", NULL };

static int parse_ramp(const struct fl_node *v, struct oom_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p;
	int err = 0;

	if (fl_map_check(v, ramp_keys, "ramp", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	p = fl_map_get(v, "from");
	s->ramp_from_usage = true;
	if (p && !(p->type == FL_NODE_SCALAR && !strcmp(p->scalar, "usage"))) {
		s->ramp_from_usage = false;
		if (fl_get_size_pos(p, "ramp.from", &s->ramp_from, d))
			err = -EINVAL;
	}
	p = fl_map_need(v, "step", "ramp", d);
	if (!p || fl_get_size_pos(p, "ramp.step", &s->ramp_step, d))
		err = -EINVAL;
	p = fl_map_need(v, "every", "ramp", d);
	if (!p || fl_get_duration_pos(p, "ramp.every", &s->ramp_every_ns, d))
		err = -EINVAL;
	return err;
}

static int parse_squeeze(const struct fl_node *v, struct oom_spec *s,
			 struct fl_diag *d)
{
	const struct fl_node *p, *first = NULL;
	int err = 0, n = 0;
	size_t i;

	if (fl_map_check(v, squeeze_keys, "squeeze", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	for (i = 0; i < v->n; i++) {
		const char *k = v->pairs[i].key->scalar;

		if (!k || (strcmp(k, "below-usage") && strcmp(k, "to") &&
			   strcmp(k, "ramp")))
			continue;
		if (n++) {
			fl_diag_err(d, v->pairs[i].key,
				    "squeeze: give exactly one of below-usage, to or ramp ('%s' and '%s' both given)",
				    first->scalar, k);
			err = -EINVAL;
		} else {
			first = v->pairs[i].key;
		}
	}
	if (!n) {
		fl_diag_err(d, v, "squeeze: give one of below-usage, to or ramp");
		return -EINVAL;
	}
	if ((p = fl_map_get(v, "below-usage"))) {
		s->squeeze = OOM_SQ_BELOW_USAGE;
		if (fl_get_size_pos(p, "below-usage", &s->below, d))
			err = -EINVAL;
	}
	if ((p = fl_map_get(v, "to"))) {
		s->squeeze = OOM_SQ_TO;
		if (fl_get_size_pos(p, "to", &s->to, d))
			err = -EINVAL;
	}
	if ((p = fl_map_get(v, "ramp"))) {
		s->squeeze = OOM_SQ_RAMP;
		if (parse_ramp(p, s, d))
			err = -EINVAL;
	}
	return err;
}

int oom_parse(struct fl_experiment *exp, const struct fl_fault *f,
	      const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *v, *cg = NULL;
	struct oom_spec *s;
	int err = 0, idx;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;

	if (fl_need_target(exp, spec, "oom", &s->target, d))
		err = -EINVAL;
	else
		s->target_name = s->target->name;
	cg = fl_map_get(spec, "cgroup");
	idx = s->cgroup;
	if (fl_opt_enum(spec, "cgroup", oom_cgroup_names, &idx, d))
		err = -EINVAL;
	s->cgroup = idx;
	v = fl_map_need(spec, "squeeze", "oom", d);
	if (!v || parse_squeeze(v, s, d))
		err = -EINVAL;
	if (fl_opt_bool(spec, "swap", &s->swap, d))
		err = -EINVAL;
	idx = s->expect;
	if (fl_opt_enum(spec, "expect", oom_expect_names, &idx, d))
		err = -EINVAL;
	s->expect = idx;

	if (cg && s->cgroup == OOM_CG_SCRATCH && s->target &&
	    s->target->kind == FL_TARGET_CGROUP) {
		fl_diag_err(d, cg, "cgroup: scratch moves a process into a new cgroup; target '%s' is a cgroup, so use own",
			    s->target->name);
		err = -EINVAL;
	}
	return err;
}

