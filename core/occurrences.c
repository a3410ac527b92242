// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner's occurrences: a fault that repeats goes through them one
 * after the other (core/repeat.c plans them), each applied and reverted
 * by core/runner.c like a fault of its own.  Here: setting them up from
 * the seed, which fault is due next, skipping the rest, and the order
 * reverts go in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/runner.h"

/*
 * What fault i's current occurrence writes its record through: the
 * record seq (-1: a new one), and the instant and file place that the
 * runner applies it by, which the record keeps for recover and the
 * guardian (prepare's seq is no apply order: a repeat's next occurrence
 * is prepared in a gap, after faults prepared before the timeline).
 */
struct fl_undo run_undo(const struct runner *r, size_t i, int seq)
{
	const struct fault_run *fr = &r->fr[i];

	return (struct fl_undo){
		.j = r->j, .f = fr->f, .seq = seq, .timed = true,
		.due_ns = fr->occ[fr->cur].plan.at, .index = (int)i,
	};
}

/* Fault i's occurrence is the last one applied: reverts go the other way. */
void run_applied_last(struct runner *r, size_t i)
{
	size_t k, o;

	for (k = 0, o = 0; k < r->napplied; k++)
		if (r->applied[k] != i)
			r->applied[o++] = r->applied[k];
	r->applied[o] = i;
	r->napplied = o + 1;
}

/* The occurrences of fault i not begun will not be: skipped, saying why. */
void run_skip_rest(struct runner *r, size_t i, const char *why)
{
	struct fault_run *fr = &r->fr[i];
	size_t k;

	for (k = fr->cur; k < fr->nocc; k++) {
		if (fr->occ[k].state != FL_FAULT_PENDING)
			continue;
		fr->occ[k].state = FL_FAULT_SKIPPED;
		free(fr->occ[k].detail);
		fr->occ[k].detail = strdup(why);
	}
	fr->cur = fr->nocc;
}

/* Fault i may begin its next occurrence (when its time comes). */
bool run_due_next(const struct runner *r, size_t i)
{
	const struct fault_run *fr = &r->fr[i];

	return (fr->state == FL_FAULT_PENDING ||
		fr->state == FL_FAULT_REVERTED) && fr->cur < fr->nocc;
}

/*
 * The fault whose next occurrence is due by now and was planned first
 * (ties in file order), or nfaults when none is.
 */
size_t run_next_due(const struct runner *r, uint64_t now)
{
	size_t i, best = r->exp->nfaults;
	uint64_t at, best_at = 0;

	for (i = 0; i < r->exp->nfaults; i++) {
		if (!run_due_next(r, i))
			continue;
		at = r->fr[i].occ[r->fr[i].cur].plan.at;
		if (at > now || (best < r->exp->nfaults && at >= best_at))
			continue;
		best = i;
		best_at = at;
	}
	return best;
}

/* Each fault's occurrences, from the experiment's seed. */
int run_setup_occurrences(struct runner *r, size_t i)
{
	struct fault_run *fr = &r->fr[i];
	struct fl_occurrence *v;
	size_t k, n;
	int ret;

	ret = fl_fault_occurrences(r->exp, fr->f, &v, &n);
	if (ret)
		return ret;
	fr->occ = calloc(n, sizeof(*fr->occ));
	if (!fr->occ) {
		free(v);
		return -ENOMEM;
	}
	for (k = 0; k < n; k++) {
		fr->occ[k].plan = v[k];
		fr->occ[k].state = FL_FAULT_PENDING;
		fr->occ[k].seq = -1;
		fr->occ[k].applied_at = -1;
		fr->occ[k].reverted_at = -1;
	}
	fr->nocc = n;
	free(v);
	return 0;
}
