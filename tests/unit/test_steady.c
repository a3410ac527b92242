// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: steady-state probes (core/steady.c).  The expect: map as
 * the loader reads it (phases, the faults during: names, the refusals
 * with their positions), the phase a run starting at a given moment is
 * in, whether a result meets its phase, and the words the report and the
 * verdict use ("expected to fail during cut, but passed 12/12").
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

/* An engine that takes any map. */
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

/* A drill with faults cut and slow, and one probe with this expect:. */
static int load(const char *expect, struct fl_experiment **exp,
		struct fl_diag *d)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "name: s\n"
		 "duration: 10s\n"
		 "faults:\n"
		 "  - name: cut\n"
		 "    any: {}\n"
		 "    at: 2s\n"
		 "    for: 2s\n"
		 "  - name: slow\n"
		 "    any: {}\n"
		 "    at: 5s\n"
		 "    for: 1s\n"
		 "probes:\n"
		 "  - name: api\n"
		 "    exec: [true]\n"
		 "    expect: %s\n", expect);
	fl_diag_init(d);
	return fl_experiment_load_buf("t.yaml", buf, strlen(buf), exp, d);
}

static const struct fl_steady *steady_of(const char *expect,
					 struct fl_experiment **exp)
{
	struct fl_diag d;

	assert_int_equal(load(expect, exp, &d), 0);
	fl_diag_free(&d);
	return &(*exp)->probes[0].steady;
}

static void test_parse(void **state)
{
	struct fl_experiment *exp;
	const struct fl_steady *s;

	s = steady_of("{ exit: 3 }", &exp);
	assert_int_equal(exp->probes[0].expect_exit, 3);
	assert_int_equal(s->always, FL_EXPECT_PASS);
	assert_false(s->has_before || s->has_after || s->nduring);
	fl_experiment_free(exp);

	s = steady_of("{ before: pass, during: { slow: any, cut: fail }, "
		      "after: pass, always: fail }", &exp);
	assert_true(s->has_before && s->has_after);
	assert_int_equal(s->before, FL_EXPECT_PASS);
	assert_int_equal(s->after, FL_EXPECT_PASS);
	assert_int_equal(s->always, FL_EXPECT_FAIL);
	assert_int_equal(s->nduring, 2);
	/* In the file's order, by fault index. */
	assert_int_equal(s->during[0].fault, 1);
	assert_int_equal(s->during[0].expect, FL_EXPECT_ANY);
	assert_int_equal(s->during[1].fault, 0);
	assert_int_equal(s->during[1].expect, FL_EXPECT_FAIL);
	assert_int_equal(fl_steady_nphases(s), FL_PHASE_DURING + 2);
	fl_experiment_free(exp);

	/* always: is the default of the phases not given. */
	s = steady_of("{ always: any, during: { cut: fail } }", &exp);
	assert_int_equal(fl_steady_expect(s, FL_PHASE_BEFORE), FL_EXPECT_ANY);
	assert_int_equal(fl_steady_expect(s, FL_PHASE_AFTER), FL_EXPECT_ANY);
	assert_int_equal(fl_steady_expect(s, FL_PHASE_DURING),
			 FL_EXPECT_FAIL);
	fl_experiment_free(exp);
}

static void test_phase(void **state)
{
	struct fl_experiment *exp;
	const struct fl_steady *s;
	bool none[2] = { false, false }, cut[2] = { true, false };
	bool slow[2] = { false, true }, both[2] = { true, true };

	s = steady_of("{ before: pass, during: { cut: fail }, after: pass }",
		      &exp);
	assert_int_equal(fl_steady_phase(s, none, false, false),
			 FL_PHASE_BEFORE);
	assert_int_equal(fl_steady_phase(s, cut, true, false),
			 FL_PHASE_DURING);
	/* A fault during: does not name, or between two faults. */
	assert_int_equal(fl_steady_phase(s, slow, true, false),
			 FL_PHASE_ALWAYS);
	assert_int_equal(fl_steady_phase(s, none, true, false),
			 FL_PHASE_ALWAYS);
	assert_int_equal(fl_steady_phase(s, both, true, false),
			 FL_PHASE_DURING);
	assert_int_equal(fl_steady_phase(s, none, true, true),
			 FL_PHASE_AFTER);
	fl_experiment_free(exp);

	/* Without before/after, those runs are always's. */
	s = steady_of("{ during: { slow: fail, cut: any } }", &exp);
	assert_int_equal(fl_steady_phase(s, none, false, false),
			 FL_PHASE_ALWAYS);
	assert_int_equal(fl_steady_phase(s, none, true, true),
			 FL_PHASE_ALWAYS);
	/* Both active: the first during: entry whose fault is. */
	assert_int_equal(fl_steady_phase(s, both, true, false),
			 FL_PHASE_DURING);
	assert_int_equal(fl_steady_phase(s, cut, true, false),
			 FL_PHASE_DURING + 1);
	fl_experiment_free(exp);

	/* No expect: every run is always's, and must pass. */
	s = steady_of("{ exit: 0 }", &exp);
	assert_int_equal(fl_steady_phase(s, cut, true, false),
			 FL_PHASE_ALWAYS);
	assert_int_equal(fl_steady_expect(s, FL_PHASE_ALWAYS),
			 FL_EXPECT_PASS);
	fl_experiment_free(exp);
}

static void test_met_and_text(void **state)
{
	struct fl_experiment *exp;
	const struct fl_steady *s;
	char buf[128];

	assert_true(fl_steady_met(FL_EXPECT_PASS, true));
	assert_false(fl_steady_met(FL_EXPECT_PASS, false));
	assert_true(fl_steady_met(FL_EXPECT_FAIL, false));
	assert_false(fl_steady_met(FL_EXPECT_FAIL, true));
	assert_true(fl_steady_met(FL_EXPECT_ANY, true));
	assert_true(fl_steady_met(FL_EXPECT_ANY, false));

	assert_false(fl_steady_text(FL_EXPECT_FAIL, "during cut", 12, 12, buf,
				    sizeof(buf)));
	assert_string_equal(buf, "expected to fail during cut, but passed "
			    "12/12");
	assert_false(fl_steady_text(FL_EXPECT_PASS, "before the faults", 4, 3,
				    buf, sizeof(buf)));
	assert_string_equal(buf, "expected to pass before the faults, but "
			    "failed 1/4");
	assert_true(fl_steady_text(FL_EXPECT_FAIL, "during cut", 5, 0, buf,
				   sizeof(buf)));
	assert_string_equal(buf, "failed 5/5 during cut, as expected");
	assert_true(fl_steady_text(FL_EXPECT_PASS, "always", 0, 0, buf,
				   sizeof(buf)));
	assert_string_equal(buf, "no run always");

	s = steady_of("{ before: pass, during: { slow: fail } }", &exp);
	assert_string_equal(fl_phase_text(exp, s, FL_PHASE_DURING, buf,
					  sizeof(buf)), "during slow");
	assert_string_equal(fl_phase_text(exp, s, FL_PHASE_BEFORE, buf,
					  sizeof(buf)), "before the faults");
	assert_string_equal(fl_phase_text(exp, s, FL_PHASE_ALWAYS, buf,
					  sizeof(buf)), "at other times");
	assert_string_equal(fl_phase_name(FL_PHASE_DURING), "during");
	/* What plan shows. */
	assert_string_equal(fl_steady_describe(exp, s, buf, sizeof(buf)),
			    "before: pass, during slow: fail, otherwise: pass");
	fl_experiment_free(exp);
	s = steady_of("{ exit: 2 }", &exp);
	assert_string_equal(fl_steady_describe(exp, s, buf, sizeof(buf)), "");
	fl_experiment_free(exp);
}

/* expect: fails to load with exactly this one message. */
static void expect_err(const char *expect, const char *msg)
{
	struct fl_experiment *exp = NULL;
	struct fl_diag d;
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);

	assert_int_equal(load(expect, &exp, &d), -EINVAL);
	assert_null(exp);
	fl_diag_print(&d, f);
	fclose(f);
	if (!strstr(got, msg))
		fail_msg("expected '%s' in:\n%s", msg, got);
	free(got);
	fl_diag_free(&d);
}

static void test_refusals(void **state)
{
	expect_err("{ during: { cutt: fail } }",
		   "t.yaml:15:25: during: unknown fault 'cutt' (did you mean "
		   "'cut'?)");
	expect_err("{ during: { cut: down } }",
		   "t.yaml:15:30: cut: unknown value 'down'; expected one of "
		   "pass, fail, any");
	expect_err("{ during: cut }",
		   "t.yaml:15:23: during: expected a map of fault names to "
		   "pass, fail or any (during: { cut: fail }), got a scalar");
	expect_err("{ during: {} }", "during: expected a map of fault names");
	expect_err("{ before: passes }",
		   "t.yaml:15:23: before: unknown value 'passes' (did you mean "
		   "'pass'?)");
	expect_err("{ durring: { cut: fail } }",
		   "unknown key 'durring' in expect (did you mean 'during'?)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_phase),
		cmocka_unit_test(test_met_and_text),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
