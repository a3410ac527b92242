// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diagnostics: collect every problem of a file, then print them sorted by
 * position as "file:line:col: message", identical entries once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

/* Past this many entries a file is hopeless; keep memory bounded. */
#define FL_DIAG_MAX	1000

void fl_diag_init(struct fl_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void fl_diag_free(struct fl_diag *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	fl_diag_init(d);
}

static void __attribute__((format(printf, 5, 0)))
diag_add(struct fl_diag *d, const char *file, unsigned int line,
	 unsigned int col, const char *fmt, va_list ap)
{
	struct fl_diag_entry *e;
	char *msg;

	if (!d || d->n >= FL_DIAG_MAX)
		return;
	if (FL_GROW(d->v, d->cap, d->n, 8))
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	e = &d->v[d->n];
	e->file = file ? strdup(file) : NULL;
	e->line = line;
	e->col = col;
	e->msg = msg;
	d->n++;
}

void fl_diag_err(struct fl_diag *d, const struct fl_node *at,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (at)
		diag_add(d, at->file, at->line, at->col, fmt, ap);
	else
		diag_add(d, NULL, 0, 0, fmt, ap);
	va_end(ap);
}

void fl_diag_at(struct fl_diag *d, const char *file, unsigned int line,
		unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, file, line, col, fmt, ap);
	va_end(ap);
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int same_pos(const struct fl_diag_entry *a,
		    const struct fl_diag_entry *b)
{
	return !strcmp_null(a->file, b->file) && a->line == b->line &&
	       a->col == b->col;
}

/* qsort is not stable: entries carry their index through a wrapper. */
struct ent_ref {
	const struct fl_diag_entry *e;
	size_t idx;
};

static int ent_cmp(const void *pa, const void *pb)
{
	const struct ent_ref *a = pa, *b = pb;
	int r = strcmp_null(a->e->file, b->e->file);

	if (r)
		return r;
	if (a->e->line != b->e->line)
		return a->e->line < b->e->line ? -1 : 1;
	if (a->e->col != b->e->col)
		return a->e->col < b->e->col ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Sorted, deduplicated references to d's entries; *n is their count.
 * Returns NULL on allocation failure (then the order is d's own).
 */
static struct ent_ref *diag_sorted(const struct fl_diag *d, size_t *n)
{
	struct ent_ref *r;
	size_t i, j, k, start;

	*n = 0;
	if (!d->n)
		return NULL;
	r = calloc(d->n, sizeof(*r));
	if (!r)
		return NULL;
	for (i = 0; i < d->n; i++) {
		r[i].e = &d->v[i];
		r[i].idx = i;
	}
	qsort(r, d->n, sizeof(*r), ent_cmp);
	/* Drop an entry equal to an earlier one at the same position. */
	for (i = 0, k = 0, start = 0; i < d->n; i++) {
		bool dup = false;

		if (k && !same_pos(r[start].e, r[i].e))
			start = k;
		for (j = start; j < k; j++) {
			if (same_pos(r[j].e, r[i].e) &&
			    !strcmp(r[j].e->msg, r[i].e->msg)) {
				dup = true;
				break;
			}
		}
		if (!dup)
			r[k++] = r[i];
	}
	*n = k;
	return r;
}

static void print_entry(const struct fl_diag_entry *e, FILE *out)
{
	if (e->file && e->line)
		fprintf(out, "%s:%u:%u: %s\n", e->file, e->line, e->col,
			e->msg);
	else if (e->file)
		fprintf(out, "%s: %s\n", e->file, e->msg);
	else
		fprintf(out, "%s\n", e->msg);
}

void fl_diag_print(struct fl_diag *d, FILE *out)
{
	struct ent_ref *r;
	size_t i, n;

	if (!d || !d->n)
		return;
	r = diag_sorted(d, &n);
	if (!r) {
		for (i = 0; i < d->n; i++)
			print_entry(&d->v[i], out);
		return;
	}
	for (i = 0; i < n; i++)
		print_entry(r[i].e, out);
	free(r);
}

static json_object *entry_json(const struct fl_diag_entry *e)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (e->file)
		fl_json_add_str(o, "file", e->file);
	if (e->line) {
		json_object_object_add(o, "line",
				       json_object_new_int((int)e->line));
		json_object_object_add(o, "col",
				       json_object_new_int((int)e->col));
	}
	fl_json_add_str(o, "message", e->msg);
	return o;
}

json_object *fl_diag_json(const struct fl_diag *d)
{
	json_object *a = json_object_new_array();
	struct ent_ref *r;
	size_t i, n;

	if (!a || !d || !d->n)
		return a;
	r = diag_sorted(d, &n);
	if (r) {
		for (i = 0; i < n; i++)
			json_object_array_add(a, entry_json(r[i].e));
		free(r);
	} else {
		for (i = 0; i < d->n; i++)
			json_object_array_add(a, entry_json(&d->v[i]));
	}
	return a;
}

/*
 * Optimal string alignment distance (Damerau-Levenshtein where a
 * transposed pair counts as one edit), case-insensitive.  Words are short
 * (keys, names); longer ones are not worth a suggestion.
 */
#define DYM_MAX	64

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static unsigned int osa_distance(const char *a, size_t la, const char *b,
				 size_t lb)
{
	static unsigned int m[DYM_MAX + 1][DYM_MAX + 1];
	size_t i, j;

	for (i = 0; i <= la; i++)
		m[i][0] = i;
	for (j = 0; j <= lb; j++)
		m[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned int cost = lower(a[i - 1]) != lower(b[j - 1]);
			unsigned int v = m[i - 1][j] + 1;

			if (m[i][j - 1] + 1 < v)
				v = m[i][j - 1] + 1;
			if (m[i - 1][j - 1] + cost < v)
				v = m[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    m[i - 2][j - 2] + 1 < v)
				v = m[i - 2][j - 2] + 1;
			m[i][j] = v;
		}
	}
	return m[la][lb];
}

/*
 * The closest name, when its distance is at most a third of the longer
 * word's length (at least 1, at most 3): "dealy" -> "delay", "nmae" ->
 * "name", but "x" suggests nothing for "delay".  Ties go to the first.
 */
const char *fl_did_you_mean(const char *word, const char *const *names)
{
	const char *best = NULL;
	unsigned int best_d = ~0u;
	size_t lw, ln, i;

	if (!word || !names)
		return NULL;
	lw = strlen(word);
	if (!lw || lw > DYM_MAX)
		return NULL;
	for (i = 0; names[i]; i++) {
		unsigned int dist, limit;

		ln = strlen(names[i]);
		if (!ln || ln > DYM_MAX)
			continue;
		limit = (lw > ln ? lw : ln) / 3;
		if (limit < 1)
			limit = 1;
		if (limit > 3)
			limit = 3;
		dist = osa_distance(word, lw, names[i], ln);
		if (dist <= limit && dist < best_d) {
			best = names[i];
			best_d = dist;
		}
	}
	return best;
}
