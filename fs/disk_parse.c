// SPDX-License-Identifier: GPL-2.0-only
/*
 * The disk fault's schema: path (absolute), one of free (a size, 0
 * allowed) or used (a percentage), and reserved (keep or fill), parsed
 * into struct disk_spec.  Every problem goes to the diagnostics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/disk.h"

const char *const disk_keys[] = { "path", "free", "used", "reserved", NULL };
static const char *const reserved_names[] = { "keep", "fill", NULL };

void disk_spec_free(void *spec)
{
	struct disk_spec *s = spec;

	if (!s)
		return;
	free(s->path);
	free(s);
}

/* A ".." component anywhere in an absolute path. */
static bool has_dotdot(const char *p)
{
	for (; *p; p++)
		if (p[0] == '/' && p[1] == '.' && p[2] == '.' &&
		    (p[3] == '/' || !p[3]))
			return true;
	return false;
}

static int parse_path(const struct fl_node *v, struct disk_spec *s,
		      struct fl_diag *d)
{
	if (fl_get_string(v, "path", &s->path, d))
		return -EINVAL;
	if (s->path[0] != '/') {
		fl_diag_err(d, v, "path: must be absolute (got '%s')", s->path);
		return -EINVAL;
	}
	if (has_dotdot(s->path)) {
		fl_diag_err(d, v, "path: must not hold '..' (got '%s')",
			    s->path);
		return -EINVAL;
	}
	return 0;
}

/* Exactly one of free and used. */
static int parse_amount(const struct fl_node *spec, struct disk_spec *s,
			struct fl_diag *d)
{
	const struct fl_node *fr = fl_map_get(spec, "free");
	const struct fl_node *us = fl_map_get(spec, "used");
	int err = 0;

	if (fr && us) {
		fl_diag_err(d, us, "disk: give one of free or used, not both");
		return -EINVAL;
	}
	if (!fr && !us) {
		fl_diag_err(d, spec, "disk: give one of free (a size to leave, 0 for none) or used (a percentage to reach)");
		return -EINVAL;
	}
	if (fr) {
		s->has_free = true;
		if (fl_get_size(fr, "free", &s->free, d))
			err = -EINVAL;
		return err;
	}
	if (fl_get_percent(us, "used", &s->used, d))
		return -EINVAL;
	if (s->used <= 0) {
		fl_diag_err(d, us, "used: must be above 0%% (a fill to 0%% fills nothing)");
		return -EINVAL;
	}
	return 0;
}

int disk_parse(struct fl_experiment *exp, const struct fl_fault *f,
	       const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *v;
	struct disk_spec *s;
	int err = 0, idx;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	v = fl_map_need(spec, "path", "disk", d);
	if (!v || parse_path(v, s, d))
		err = -EINVAL;
	if (parse_amount(spec, s, d))
		err = -EINVAL;
	idx = s->reserved;
	if (fl_opt_enum(spec, "reserved", reserved_names, &idx, d))
		err = -EINVAL;
	s->reserved = idx;
	return err;
}
