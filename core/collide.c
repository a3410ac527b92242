// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults of one file that collide: two faults whose windows overlap (each
 * occurrence of a repeat counts, with the most jitter it may draw, so that
 * --seed cannot make a file that validated collide) and which claim one
 * kernel object for themselves (the engines' claims op: "the root qdisc
 * of eth0").  Such a file is refused when it is loaded, before anything
 * is applied, with both faults named.  Core knows no engine: a claim is
 * an object id, what it is for people, optionally a share name under
 * which faults of one kind may hold the object together, and "nests"
 * when two faults may hold it if one's window lies within the other's
 * (the runner applies the inner one after and reverts it before, so
 * each finds the object as the other left it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

/* A fault's windows, seed-independent: [at - jitter, end + max - jitter). */
struct span {
	uint64_t from, to;
};

static int spans_of(const struct fl_experiment *exp, const struct fl_fault *f,
		    struct span **out, size_t *n)
{
	struct fl_occurrence *o;
	struct span *s;
	size_t i;
	int ret;

	ret = fl_fault_occurrences(exp, f, &o, n);
	if (ret)
		return ret;
	s = calloc(*n ? *n : 1, sizeof(*s));
	if (!s) {
		free(o);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++) {
		s[i].from = o[i].at - o[i].jitter;
		s[i].to = o[i].end - o[i].jitter +
			  (f->repeat.on ? f->repeat.jitter_ns : 0);
	}
	free(o);
	*out = s;
	return 0;
}

/*
 * b's window lies within a's, and b is applied after a (a starts first,
 * or at once and comes first in the file): b is reverted first.
 */
static bool within(const struct span *a, const struct span *b, bool a_first)
{
	return (a->from < b->from || (a->from == b->from && a_first)) &&
	       b->to <= a->to;
}

/*
 * The first pair of windows that overlap (both lists in time order),
 * skipping pairs that nest when nest is set (a before b in the file).
 */
static bool overlap(const struct span *a, size_t na, const struct span *b,
		    size_t nb, bool nest, size_t *ia, size_t *ib)
{
	size_t i = 0, k = 0;

	while (i < na && k < nb) {
		if (a[i].from < b[k].to && b[k].from < a[i].to &&
		    !(nest && (within(&a[i], &b[k], true) ||
			       within(&b[k], &a[i], false)))) {
			*ia = i;
			*ib = k;
			return true;
		}
		if (a[i].to <= b[k].to)
			i++;
		else
			k++;
	}
	return false;
}

/*
 * The claim of b's that collides with one of a's, and a's, or NULL; *nest
 * when the two may still nest (both claims say "nests").
 */
static json_object *common_claim(json_object *a, json_object *b,
				 json_object **in_a, bool *nest)
{
	size_t i, k;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		const char *xs = fl_json_str(x, "share", NULL);

		for (k = 0; k < json_object_array_length(b); k++) {
			json_object *y = json_object_array_get_idx(b, k);
			const char *ys = fl_json_str(y, "share", NULL);

			if (strcmp(fl_json_str(x, "object", "?"),
				   fl_json_str(y, "object", "")))
				continue;
			if (xs && ys && !strcmp(xs, ys))
				continue;	/* both hold it together */
			*in_a = x;
			*nest = json_object_get_boolean(fl_json_get(x,
								   "nests")) &&
				json_object_get_boolean(fl_json_get(y,
								   "nests"));
			return y;
		}
	}
	return NULL;
}

static const char *window(const struct fl_fault *f, size_t n, size_t i,
			  const struct span *s, char *buf, size_t len)
{
	char a[32], b[32];

	fl_fmt_duration(s->from, a, sizeof(a));
	fl_fmt_duration(s->to, b, sizeof(b));
	if (f->repeat.on && n > 1)
		snprintf(buf, len, "occurrence %zu, %s to %s", i + 1, a, b);
	else
		snprintf(buf, len, "%s to %s", a, b);
	return buf;
}

static void say(const struct fl_fault *a, const struct fl_fault *b,
		json_object *ca, json_object *cb, const char *wa,
		const char *wb, struct fl_diag *d)
{
	const char *what_a = fl_json_str(ca, "what", "?");
	const char *what_b = fl_json_str(cb, "what", "?");

	if (!strcmp(what_a, what_b))
		fl_diag_err(d, b->node, "faults '%s' (%s) and '%s' (%s) collide: both need %s at once; give them windows that do not overlap, or other devices",
			    b->name, wb, a->name, wa, what_b);
	else
		fl_diag_err(d, b->node, "faults '%s' (%s) and '%s' (%s) collide on %s: '%s' needs %s, '%s' needs %s; give them windows that do not overlap or that nest (one within the other), or other devices",
			    b->name, wb, a->name, wa,
			    fl_json_str(cb, "object", "?"), b->name, what_b,
			    a->name, what_a);
}

int fl_experiment_collisions(const struct fl_experiment *exp,
			     struct fl_diag *d)
{
	json_object **claims;
	struct span **spans;
	size_t *nspans, i, k, ia, ib;
	char wa[160], wb[160];
	int ret = 0;

	claims = calloc(exp->nfaults + 1, sizeof(*claims));
	spans = calloc(exp->nfaults + 1, sizeof(*spans));
	nspans = calloc(exp->nfaults + 1, sizeof(*nspans));
	if (!claims || !spans || !nspans) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < exp->nfaults && !ret; i++) {
		const struct fl_fault *f = &exp->faults[i];

		if (!f->engine->claims)
			continue;
		claims[i] = json_object_new_array();
		if (f->engine->claims(f, claims[i]) ||
		    !json_object_array_length(claims[i]))
			continue;
		ret = spans_of(exp, f, &spans[i], &nspans[i]);
	}
	for (i = 0; i < exp->nfaults && !ret; i++)
		for (k = i + 1; k < exp->nfaults && spans[i]; k++) {
			json_object *ca, *cb;
			bool nest = false;

			if (!spans[k])
				continue;
			cb = common_claim(claims[i], claims[k], &ca, &nest);
			/* Jitter makes nesting a matter of the draw. */
			nest = nest && !exp->faults[i].repeat.jitter_ns &&
			       !exp->faults[k].repeat.jitter_ns;
			if (!cb || !overlap(spans[i], nspans[i], spans[k],
					    nspans[k], nest, &ia, &ib))
				continue;
			say(&exp->faults[i], &exp->faults[k], ca, cb,
			    window(&exp->faults[i], nspans[i], ia,
				   &spans[i][ia], wa, sizeof(wa)),
			    window(&exp->faults[k], nspans[k], ib,
				   &spans[k][ib], wb, sizeof(wb)), d);
		}
out:
	for (i = 0; claims && i < exp->nfaults; i++) {
		json_object_put(claims[i]);
		free(spans[i]);
	}
	free(claims);
	free(spans);
	free(nspans);
	return ret;
}
