// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: repeat: on a fault (core/repeat.c).  The occurrences'
 * windows, the jitter drawn from the seed (the same seed, the same
 * draws; within [0, jitter]; whole milliseconds), "until the drill ends"
 * without times, never two occurrences overlapping, and the loader's
 * refusals with their positions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/faultline.h"

#define MS	NSEC_PER_MSEC
#define S	NSEC_PER_SEC

/* An engine that takes any map: the repeat is core's alone. */
static int any_parse(struct fl_experiment *exp, const struct fl_fault *f,
		     const struct fl_node *spec, void **out, struct fl_diag *d)
{
	return 0;
}

static const struct fl_engine any = { .name = "any", .parse = any_parse };

static int setup(void **state)
{
	fl_engines_set(NULL, 0);
	fl_engine_register(&any);
	return 0;
}

/* Load a drill of duration dur whose one fault has the given extra keys. */
static struct fl_experiment *load(const char *dur, const char *keys,
				  struct fl_diag *d)
{
	struct fl_experiment *exp = NULL;
	char buf[1024];

	snprintf(buf, sizeof(buf), "name: r\nduration: %s\nfaults:\n"
		 "  - name: flap\n    any: {}\n%s", dur, keys);
	fl_experiment_load_buf("r.yaml", buf, strlen(buf), &exp, d);
	return exp;
}

static struct fl_experiment *load_ok(const char *dur, const char *keys)
{
	struct fl_experiment *exp;
	struct fl_diag d;

	fl_diag_init(&d);
	exp = load(dur, keys, &d);
	if (!exp)
		fl_diag_print(&d, stderr);
	fl_diag_free(&d);
	assert_non_null(exp);
	return exp;
}

/* The one error a bad repeat gives, as "line:col: msg". */
static void expect_err(const char *dur, const char *keys, const char *want)
{
	struct fl_experiment *exp;
	struct fl_diag d;
	char got[512];

	fl_diag_init(&d);
	exp = load(dur, keys, &d);
	assert_null(exp);
	assert_int_equal(d.n, 1);
	snprintf(got, sizeof(got), "%u:%u: %s", d.v[0].line, d.v[0].col,
		 d.v[0].msg);
	if (strcmp(got, want))
		fail_msg("got '%s', want '%s'", got, want);
	fl_diag_free(&d);
}

static void occurrences(struct fl_experiment *exp, struct fl_occurrence **v,
			size_t *n)
{
	assert_int_equal(fl_fault_occurrences(exp, &exp->faults[0], v, n), 0);
}

/* No jitter: at + k * every, for long; times of them. */
static void test_windows(void **state)
{
	struct fl_experiment *exp;
	struct fl_occurrence *v;
	size_t n, k;

	exp = load_ok("60s", "    at: 5s\n    repeat: { every: 10s, for: 2s, "
		      "times: 3 }\n");
	assert_true(exp->faults[0].repeat.on);
	occurrences(exp, &v, &n);
	assert_int_equal(n, 3);
	for (k = 0; k < n; k++) {
		assert_int_equal(v[k].at, 5 * S + k * 10 * S);
		assert_int_equal(v[k].end, v[k].at + 2 * S);
		assert_int_equal(v[k].jitter, 0);
	}
	/* The report's "for" is each occurrence's. */
	assert_int_equal(exp->faults[0].for_ns, 2 * S);
	free(v);
	fl_experiment_free(exp);
}

/* The fault's own for: is each occurrence's length too. */
static void test_outer_for(void **state)
{
	struct fl_experiment *exp;
	struct fl_occurrence *v;
	size_t n;

	exp = load_ok("30s", "    for: 3s\n    repeat: { every: 10s, "
		      "times: 2 }\n");
	occurrences(exp, &v, &n);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].at, 10 * S);
	assert_int_equal(v[1].end, 13 * S);
	free(v);
	fl_experiment_free(exp);
}

/* Without times: as many as end within the duration, the last one too. */
static void test_until_end(void **state)
{
	struct fl_experiment *exp;
	struct fl_occurrence *v;
	size_t n;

	/* 0-5, 30-35, 60-65, 90-95 (+ jitter 5s: by 100s); 120 would not. */
	exp = load_ok("100s", "    repeat: { every: 30s, for: 5s, "
		      "jitter: 5s }\n");
	occurrences(exp, &v, &n);
	assert_int_equal(n, 4);
	assert_true(v[n - 1].end <= 100 * S);
	free(v);
	fl_experiment_free(exp);
	/* Exactly at the end is within it. */
	exp = load_ok("95s", "    repeat: { every: 30s, for: 5s }\n");
	occurrences(exp, &v, &n);
	assert_int_equal(n, 4);
	assert_int_equal(v[3].end, 95 * S);
	free(v);
	fl_experiment_free(exp);
}

/* The seed decides the jitter: same seed, same draws; bounds; overlap. */
static void test_jitter_seed(void **state)
{
	struct fl_experiment *exp;
	struct fl_occurrence *a, *b;
	size_t na, nb, k, differ = 0;

	exp = load_ok("600s", "    repeat: { every: 10s, for: 4s, "
		      "jitter: 6s }\n");
	exp->seed = 42;
	occurrences(exp, &a, &na);
	occurrences(exp, &b, &nb);
	assert_int_equal(na, 60);
	assert_memory_equal(a, b, na * sizeof(*a));
	free(b);
	for (k = 0; k < na; k++) {
		assert_true(a[k].jitter <= 6 * S);
		assert_int_equal(a[k].jitter % MS, 0);
		assert_int_equal(a[k].at, k * 10 * S + a[k].jitter);
		assert_int_equal(a[k].end, a[k].at + 4 * S);
		/* Never on when the next one begins. */
		if (k + 1 < na)
			assert_true(a[k].end <= k * 10 * S + 10 * S);
	}
	/* A jitter that is drawn at all: not always 0, not always max. */
	for (k = 1; k < na; k++)
		differ += a[k].jitter != a[0].jitter;
	assert_true(differ > 0);
	exp->seed = 43;
	occurrences(exp, &b, &nb);
	for (k = 0, differ = 0; k < na; k++)
		differ += a[k].jitter != b[k].jitter;
	assert_true(differ > na / 2);
	free(a);
	free(b);
	fl_experiment_free(exp);
	/* The draw depends on seed, name and occurrence alone. */
	assert_int_equal(fl_repeat_jitter(1, "x", 3, 5 * S),
			 fl_repeat_jitter(1, "x", 3, 5 * S));
	assert_int_equal(fl_repeat_jitter(1, "x", 3, 0), 0);
}

/* The file's seed: is the seed; --seed overrides it; else one is drawn. */
static void test_seed_sources(void **state)
{
	struct fl_experiment *exp;
	struct fl_diag d;
	const char *why;
	const char *buf = "name: r\nduration: 10s\nseed: 12345\nfaults:\n"
			  "  - name: f\n    any: {}\n    repeat: { every: 3s, "
			  "for: 1s, jitter: 1s }\n";

	fl_diag_init(&d);
	assert_int_equal(fl_experiment_load_buf("s.yaml", buf, strlen(buf),
						&exp, &d), 0);
	assert_int_equal(exp->seed, 12345);
	assert_int_equal(exp->seed_from, FL_SEED_FILE);
	assert_true(fl_experiment_jitters(exp));
	assert_int_equal(fl_experiment_set_seed(exp, "7", &why), 0);
	assert_int_equal(exp->seed, 7);
	assert_int_equal(exp->seed_from, FL_SEED_OPTION);
	assert_int_not_equal(fl_experiment_set_seed(exp, "x7", &why), 0);
	fl_experiment_free(exp);
	fl_diag_free(&d);
	exp = load_ok("10s", "");
	assert_int_equal(exp->seed_from, FL_SEED_RANDOM);
	assert_false(fl_experiment_jitters(exp));
	fl_experiment_free(exp);
}

/* A fault without repeat: its one window, as before. */
static void test_plain(void **state)
{
	struct fl_experiment *exp;
	struct fl_occurrence *v;
	size_t n;

	exp = load_ok("10s", "    at: 2s\n");
	occurrences(exp, &v, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].at, 2 * S);
	assert_int_equal(v[0].end, 10 * S);
	free(v);
	fl_experiment_free(exp);
}

static void test_refusals(void **state)
{
	expect_err("60s", "    repeat: { every: 5s, for: 5s }\n",
		   "6:22: fault 'flap': repeat: every (5s) must be longer than "
		   "for (5s), or an occurrence would still be on when the "
		   "next begins");
	expect_err("60s", "    repeat: { every: 10s, for: 5s, jitter: 6s }\n",
		   "6:44: fault 'flap': repeat: jitter (6s) is more than every "
		   "- for (10s - 5s): two occurrences could overlap");
	expect_err("50s", "    at: 5s\n    repeat: { every: 20s, for: 5s, "
		   "times: 3, jitter: 1s }\n",
		   "7:43: fault 'flap': repeat: occurrence 3 of 3 may end at "
		   "51s (at + 2 x every + jitter + for), after the drill's "
		   "duration 50s");
	expect_err("10s", "    repeat: { every: 20s, for: 15s }\n",
		   "6:13: fault 'flap': repeat: the first occurrence may end "
		   "at 15s, after the drill's duration 10s");
	expect_err("60s", "    repeat: { every: 10s }\n",
		   "6:13: fault 'flap': repeat: needs for: (how long each "
		   "occurrence lasts)");
	expect_err("60s", "    for: 1s\n    repeat: { every: 10s, for: 2s }\n",
		   "7:32: fault 'flap': for: is given twice, beside repeat: "
		   "and in it; give each occurrence's length once");
	expect_err("60s", "    repeat: { for: 2s }\n",
		   "6:13: repeat: missing 'every'");
	expect_err("60s", "    repeat: { every: 10s, for: 2s, times: 0 }\n",
		   "6:43: times: 0 is out of range 1..10000");
	expect_err("60s", "    repeat: { every: 10s, for: 2s, time: 3 }\n",
		   "6:36: unknown key 'time' in repeat (did you mean 'times'?)");
	expect_err("1h", "    repeat: { every: 10ms, for: 1ms }\n",
		   "6:13: fault 'flap': repeat: 360000 occurrences until the "
		   "drill ends, more than 10000; give times: or a longer "
		   "every");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_outer_for),
		cmocka_unit_test(test_until_end),
		cmocka_unit_test(test_jitter_seed),
		cmocka_unit_test(test_seed_sources),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
