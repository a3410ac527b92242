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

/* A record file of a run folder: its sequence number and name. */
struct fl_rec_ent {
	int seq;
	char name[256];
};

/* The records of a run folder (dirfd), newest first; *out malloc'ed. */
int fl_journal_records(int dirfd, struct fl_rec_ent **out, size_t *n);

/* A JSON file of a run folder, or NULL (errno says why). */
json_object *fl_journal_read_at(int dirfd, const char *name);

#endif
