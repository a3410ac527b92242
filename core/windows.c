// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault windows, planned and actual.  On a loaded machine (or behind an
 * apply that takes long) a fault planned "at: 1s, for: 2s" may be applied
 * at +3.4 s and reverted at once: the drill then tested nothing of what it
 * says.  An occurrence applied so late that it lost more than a tenth of
 * its planned window is a warning as it happens (an event, its row in the
 * live view) and in the report, which gives each occurrence's planned and
 * actual window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runner.h"

/*
 * The share of a window that may be lost before it is a warning: a tenth,
 * and at least LATE_MIN_NS (a 300 ms window may start 30 ms late on a
 * busy machine without a warning).
 */
#define LATE_DIV	10
#define LATE_MIN_NS	(50 * NSEC_PER_MSEC)

/* An occurrence's planned end, within the drill. */
static uint64_t planned_end(const struct runner *r, const struct occ_run *oc)
{
	return oc->plan.end < r->duration ? oc->plan.end : r->duration;
}

void run_check_late(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct occ_run *oc = &fr->occ[fr->cur];
	uint64_t at = oc->plan.at, end = planned_end(r, oc), late, planned;
	char ob[48], a[32], b[32], c[32], d[32], text[256], tag[32];
	unsigned int lost;
	json_object *ev;

	if (oc->applied_at < 0 || (uint64_t)oc->applied_at <= at || end <= at)
		return;
	planned = end - at;
	late = (uint64_t)oc->applied_at - at;
	if (late * LATE_DIV <= planned || late <= LATE_MIN_NS)
		return;
	lost = late >= planned ? 100 : (unsigned int)(late * 100 / planned);
	run_occ_label(r, i, ob, sizeof(ob));
	snprintf(text, sizeof(text), "fault %s%s%s: applied at %s, %.3fs "
		 "late: %u%% of its %s window (%s..%s) was lost", fr->f->name,
		 *ob ? ", " : "", ob,
		 run_fmt_rel((uint64_t)oc->applied_at, c, sizeof(c)),
		 (double)late / NSEC_PER_SEC, lost,
		 fl_fmt_duration(planned, d, sizeof(d)),
		 run_fmt_rel(at, a, sizeof(a)), run_fmt_rel(end, b, sizeof(b)));
	free(oc->late);
	oc->late = strdup(text);
	snprintf(tag, sizeof(tag), "LATE %.1fs", (double)late / NSEC_PER_SEC);
	fl_live_late(r->live, i, tag);
	ev = run_ev("late");
	run_ev_str(ev, "fault", fr->f->name);
	run_ev_occ(r, i, ev);
	json_object_object_add(ev, "planned_from", run_jsec(at));
	json_object_object_add(ev, "planned_until", run_jsec(end));
	json_object_object_add(ev, "late", run_jsec(late));
	json_object_object_add(ev, "lost_percent", json_object_new_int(lost));
	run_emit(r, ev, "warning: %s", text);
}

json_object *run_window_json(const struct runner *r, const struct occ_run *oc)
{
	json_object *w = json_object_new_object();
	uint64_t at = oc->plan.at, end = planned_end(r, oc), from, until;
	uint64_t held = 0;

	json_object_object_add(w, "planned_from", run_jsec(at));
	json_object_object_add(w, "planned_until", run_jsec(end));
	if (oc->applied_at < 0) {
		json_object_object_add(w, "actual_from", NULL);
		json_object_object_add(w, "actual_until", NULL);
		return w;
	}
	from = (uint64_t)oc->applied_at;
	until = oc->reverted_at >= 0 ? (uint64_t)oc->reverted_at : r->duration;
	json_object_object_add(w, "actual_from", run_jsec(from));
	json_object_object_add(w, "actual_until", oc->reverted_at >= 0 ?
			       run_jsec(until) : NULL);
	json_object_object_add(w, "late", run_jsec(from > at ? from - at : 0));
	/* How much of the planned window the fault held. */
	if (from < end && until > at)
		held = (until < end ? until : end) - (from > at ? from : at);
	json_object_object_add(w, "lost_percent", json_object_new_int(
		end > at ? (int)((end - at - held) * 100 / (end - at)) : 0));
	if (oc->late)
		fl_json_add_str(w, "warning", oc->late);
	return w;
}

void run_window_warnings(const struct runner *r, json_object *arr)
{
	size_t i, k;

	for (i = 0; i < r->exp->nfaults; i++)
		for (k = 0; k < r->fr[i].nocc; k++)
			if (r->fr[i].occ[k].late)
				json_object_array_add(arr,
					json_object_new_string(
						r->fr[i].occ[k].late));
}
