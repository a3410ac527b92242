// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pause fault's schema: target and follow-forks, parsed into struct
 * pause_spec (pause.h).  Every problem goes to the diagnostics, so that
 * validate reports them all at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/pause.h"

const char *const pause_keys[] = { "target", "follow-forks", NULL };

int pause_parse(struct fl_experiment *exp, const struct fl_fault *f,
		const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *ff;
	struct pause_spec *s;
	int err = 0;

	(void)f;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	s->follow_forks = true;

	if (fl_need_target(exp, spec, "pause", &s->target, d))
		err = -EINVAL;
	else
		s->target_name = s->target->name;
	ff = fl_map_get(spec, "follow-forks");
	if (ff && fl_get_bool(ff, "follow-forks", &s->follow_forks, d))
		err = -EINVAL;
	if (ff && s->target && s->target->kind == FL_TARGET_CGROUP) {
		fl_diag_err(d, ff, "follow-forks: target '%s' is a cgroup, whose freezer takes every process in it, children included; follow-forks is for a pid target",
			    s->target->name);
		err = -EINVAL;
	}
	return err;
}
