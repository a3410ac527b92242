/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core/journal.h: what the journal tells the runner (core/ only).
 */
#ifndef FAULTLINE_CORE_JOURNAL_H
#define FAULTLINE_CORE_JOURNAL_H

#include "core/faultline.h"

/*
 * The seqs of the records of engine (by name) that this runner has saved
 * and not yet reverted, newest first (*seqs malloc'ed, NULL when none).
 * From the runner's own copy, so that records saved by someone else's
 * fl_undo (the placer's scratch cgroups) are found even when the journal
 * folder was deleted under the run.
 */
int fl_journal_kept(const struct fl_journal *j, const char *engine,
		    int **seqs, size_t *n);

/*
 * A record file of a run folder: its sequence number and name; for the
 * replay order, its "due_ns" and "index" when it has them (timed).
 */
struct fl_rec_ent {
	int seq;
	char name[256];
	bool timed;
	uint64_t due_ns;
	int index;
};

/* The records of a run folder (dirfd), highest seq first; *out malloc'ed. */
int fl_journal_records(int dirfd, struct fl_rec_ent **out, size_t *n);

/*
 * The records of a run folder in the order recover and the guardian
 * replay them, the reverse of apply: fl_journal_records(), each record
 * read for its due_ns and index, then fl_journal_replay_sort().
 */
int fl_journal_replay_order(int dirfd, struct fl_rec_ent **out, size_t *n);

/*
 * Sort records for replay: the latest planned instant first, at one
 * instant the last in the file first (the runner applies by instant, ties
 * in file order, in whatever order it prepared them); then the highest
 * seq.  Records without an instant (the placer's scratch cgroups, made
 * before the timeline; every record of an older faultline) come after
 * those with one, highest seq first, as before.
 */
void fl_journal_replay_sort(struct fl_rec_ent *v, size_t n);

/* A JSON file of a run folder, or NULL (errno says why). */
json_object *fl_journal_read_at(int dirfd, const char *name);

#endif
