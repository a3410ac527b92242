// SPDX-License-Identifier: GPL-2.0-only
/*
 * Steady-state probes: a probe's expect: says when its runs must pass and
 * when they are expected to fail, as Chaos Toolkit's steady-state
 * hypothesis does:
 *
 *   expect: { exit: 0, before: pass, during: { cut: fail }, after: pass }
 *
 * before: runs that start before the first fault is applied; during: a
 * map of fault names, runs that start while that fault is active (the
 * first entry whose fault is); after: runs that start once every fault
 * is over; always: every other run, and the phases not given.  Each is
 * pass, fail or any.  Without any of them a probe's every run must pass,
 * as before.  The runner counts each phase; the report says which failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

static const char *const expect_keys[] = {
	"exit", "before", "during", "after", "always", NULL
};
static const char *const expect_names[] = { "pass", "fail", "any", NULL };

const char *fl_expect_name(enum fl_expect e)
{
	return e <= FL_EXPECT_ANY ? expect_names[e] : "?";
}

void fl_steady_free(struct fl_steady *s)
{
	free(s->during);
	s->during = NULL;
	s->nduring = 0;
}

static int get_expect(const struct fl_node *m, const char *key,
		      enum fl_expect *out, bool *given, struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(m, key);
	int x;

	if (!v)
		return 0;
	if (fl_get_enum(v, key, expect_names, &x, d))
		return -EINVAL;
	*out = (enum fl_expect)x;
	if (given)
		*given = true;
	return 0;
}

/* The fault named by key k (with a suggestion when there is none). */
static int find_fault(const struct fl_experiment *exp,
		      const struct fl_node *k, size_t *out, struct fl_diag *d)
{
	const char *names[65], *hint;
	size_t i, n = 0;
	char q[64];

	if (!k || k->type != FL_NODE_SCALAR) {
		fl_diag_err(d, k, "during: expected a fault name, got %s",
			    fl_node_desc(k));
		return -EINVAL;
	}
	for (i = 0; i < exp->nfaults; i++) {
		if (!exp->faults[i].name)
			continue;
		if (!strcmp(exp->faults[i].name, k->scalar)) {
			*out = i;
			return 0;
		}
		if (n + 1 < ARRAY_SIZE(names))
			names[n++] = exp->faults[i].name;
	}
	names[n] = NULL;
	hint = n ? fl_did_you_mean(k->scalar, names) : NULL;
	fl_diag_err(d, k, "during: unknown fault '%s'%s%s%s",
		    fl_quote(k->scalar, q, sizeof(q)),
		    hint ? " (did you mean '" : n ? "" :
		    " (the file has no faults:)", hint ? hint : "",
		    hint ? "'?)" : "");
	return -EINVAL;
}

/* during: { FAULT: pass|fail|any, ... } */
static int parse_during(const struct fl_experiment *exp, struct fl_steady *s,
			const struct fl_node *v, struct fl_diag *d)
{
	int err = 0, x;
	size_t i;

	if (!v || v->type != FL_NODE_MAP || !v->n) {
		fl_diag_err(d, v, "during: expected a map of fault names to "
			    "pass, fail or any (during: { cut: fail }), got %s",
			    v && v->type == FL_NODE_MAP ? "an empty map" :
			    fl_node_desc(v));
		return -EINVAL;
	}
	s->during = calloc(v->n, sizeof(*s->during));
	if (!s->during)
		return -ENOMEM;
	for (i = 0; i < v->n; i++) {
		const struct fl_node *k = v->pairs[i].key;
		struct fl_steady_during *e = &s->during[s->nduring];

		if (find_fault(exp, k, &e->fault, d)) {
			err = -EINVAL;
			continue;
		}
		if (fl_map_get(v, k->scalar) != v->pairs[i].value)
			continue;	/* a duplicate key, reported */
		if (fl_get_enum(v->pairs[i].value, k->scalar, expect_names,
				&x, d)) {
			err = -EINVAL;
			continue;
		}
		e->expect = (enum fl_expect)x;
		s->nduring++;
	}
	return err;
}

int fl_steady_parse(const struct fl_experiment *exp, struct fl_probe *p,
		    const struct fl_node *n, struct fl_diag *d)
{
	struct fl_steady *s = &p->steady;
	const struct fl_node *v;
	uint64_t x;
	int err = 0, r;

	s->always = s->before = s->after = FL_EXPECT_PASS;
	if (!n)
		return 0;
	if (fl_map_check(n, expect_keys, "expect", d)) {
		err = -EINVAL;
		if (n->type != FL_NODE_MAP)
			return err;
	}
	v = fl_map_get(n, "exit");
	if (v) {
		if (fl_get_u64(v, "exit", 0, 255, &x, d))
			err = -EINVAL;
		else
			p->expect_exit = (int)x;
	}
	if (get_expect(n, "always", &s->always, NULL, d))
		err = -EINVAL;
	s->before = s->after = s->always;
	if (get_expect(n, "before", &s->before, &s->has_before, d) ||
	    get_expect(n, "after", &s->after, &s->has_after, d))
		err = -EINVAL;
	v = fl_map_get(n, "during");
	if (v) {
		r = parse_during(exp, s, v, d);
		if (r == -ENOMEM)
			return r;
		if (r)
			err = -EINVAL;
	}
	return err;
}

size_t fl_steady_nphases(const struct fl_steady *s)
{
	return FL_PHASE_DURING + s->nduring;
}

size_t fl_steady_phase(const struct fl_steady *s, const bool *active,
		       bool begun, bool done)
{
	size_t k;

	for (k = 0; k < s->nduring; k++)
		if (active[s->during[k].fault])
			return FL_PHASE_DURING + k;
	if (!begun && s->has_before)
		return FL_PHASE_BEFORE;
	if (begun && done && s->has_after)
		return FL_PHASE_AFTER;
	return FL_PHASE_ALWAYS;
}

enum fl_expect fl_steady_expect(const struct fl_steady *s, size_t phase)
{
	switch (phase) {
	case FL_PHASE_ALWAYS:
		return s->always;
	case FL_PHASE_BEFORE:
		return s->before;
	case FL_PHASE_AFTER:
		return s->after;
	}
	phase -= FL_PHASE_DURING;
	return phase < s->nduring ? s->during[phase].expect : s->always;
}

bool fl_steady_met(enum fl_expect e, bool pass)
{
	return e == FL_EXPECT_ANY || (e == FL_EXPECT_PASS) == pass;
}

const char *fl_phase_name(size_t phase)
{
	switch (phase) {
	case FL_PHASE_ALWAYS:
		return "always";
	case FL_PHASE_BEFORE:
		return "before";
	case FL_PHASE_AFTER:
		return "after";
	}
	return "during";
}

char *fl_phase_text(const struct fl_experiment *exp, const struct fl_steady *s,
		    size_t phase, char *buf, size_t len)
{
	size_t k = phase - FL_PHASE_DURING;

	if (phase == FL_PHASE_BEFORE)
		snprintf(buf, len, "before the faults");
	else if (phase == FL_PHASE_AFTER)
		snprintf(buf, len, "after the faults");
	else if (phase >= FL_PHASE_DURING && k < s->nduring)
		snprintf(buf, len, "during %s",
			 exp->faults[s->during[k].fault].name);
	else if (s->has_before || s->has_after || s->nduring)
		snprintf(buf, len, "at other times");
	else
		snprintf(buf, len, "always");
	return buf;
}

bool fl_steady_text(enum fl_expect e, const char *phase, unsigned int runs,
		    unsigned int passed, char *buf, size_t len)
{
	unsigned int failed = runs - passed;

	if (!runs) {
		snprintf(buf, len, "no run %s", phase);
		return true;
	}
	if (e == FL_EXPECT_PASS && failed) {
		snprintf(buf, len, "expected to pass %s, but failed %u/%u",
			 phase, failed, runs);
		return false;
	}
	if (e == FL_EXPECT_FAIL && passed) {
		snprintf(buf, len, "expected to fail %s, but passed %u/%u",
			 phase, passed, runs);
		return false;
	}
	if (e == FL_EXPECT_ANY)
		snprintf(buf, len, "passed %u/%u %s (either is fine)", passed,
			 runs, phase);
	else if (e == FL_EXPECT_FAIL)
		snprintf(buf, len, "failed %u/%u %s, as expected", failed,
			 runs, phase);
	else
		snprintf(buf, len, "passed %u/%u %s", passed, runs, phase);
	return true;
}

char *fl_steady_describe(const struct fl_experiment *exp,
			 const struct fl_steady *s, char *buf, size_t len)
{
	size_t o = 0, k;

	buf[0] = '\0';
	if (!s->has_before && !s->has_after && !s->nduring &&
	    s->always == FL_EXPECT_PASS)
		return buf;
#define ADD(...) (o += o < len ? (size_t)snprintf(buf + o, len - o, \
						  __VA_ARGS__) : 0)
	if (s->has_before)
		ADD("before: %s", fl_expect_name(s->before));
	for (k = 0; k < s->nduring; k++)
		ADD("%sduring %s: %s", o ? ", " : "",
		    exp->faults[s->during[k].fault].name,
		    fl_expect_name(s->during[k].expect));
	if (s->has_after)
		ADD("%safter: %s", o ? ", " : "", fl_expect_name(s->after));
	ADD("%s%s: %s", o ? ", " : "", o ? "otherwise" : "always",
	    fl_expect_name(s->always));
#undef ADD
	return buf;
}
