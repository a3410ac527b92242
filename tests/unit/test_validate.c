// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: experiment validation (core/experiment.c, core/getters.c).
 *
 * The corpus: every tests/invalid/NAME.yaml must fail, and the lines
 * fl_diag_print gives for it (the file named tests/invalid/NAME.yaml,
 * relative to the source tree) must equal tests/invalid/NAME.err exactly.
 * Files named engine-ENGINE-*.yaml test an engine's own fields; they are
 * skipped while that engine is not built in.  FL_REGEN_ERR=1 rewrites
 * the .err files from the current output (review the diff before use).
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/faultline.h"
#include "tools/cmds.h"

/* Stand-ins for engines not in the list: they only check target:. */
static int fake_parse(struct fl_experiment *exp, const struct fl_fault *f,
		      const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *t;
	struct fl_target *tg;

	t = fl_map_get(spec, "target");
	if (t && fl_get_target(exp, t, "target", &tg, d))
		return -EINVAL;
	return 0;
}

static struct fl_engine fakes[] = {
	{ .name = "netem", .parse = fake_parse },
	{ .name = "partition", .parse = fake_parse },
	{ .name = "oom", .parse = fake_parse },
	{ .name = "syscall", .parse = fake_parse },
};
static bool is_fake[ARRAY_SIZE(fakes)];

static bool engine_is_fake(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fakes); i++)
		if (strlen(fakes[i].name) == len &&
		    !strncmp(fakes[i].name, name, len))
			return is_fake[i];
	return false;
}

static int setup(void **state)
{
	char *src = strdup(__FILE__);
	size_t i;

	/* Run from the source tree: tests/unit/.. /.. */
	if (src && src[0] == '/') {
		char *dir = dirname(dirname(dirname(src)));

		if (chdir(dir))
			return -1;
	}
	free(src);
	/* The binary's engines, as tools/faultline.c passes them. */
	fl_engines_set(fl_builtin_engines, fl_builtin_nengines);
	for (i = 0; i < ARRAY_SIZE(fakes); i++) {
		if (fl_engine_find(fakes[i].name))
			continue;
		fl_engine_register(&fakes[i]);
		is_fake[i] = true;
	}
	return 0;
}

static char *diag_text(struct fl_diag *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	fl_diag_print(d, f);
	fclose(f);
	return out;
}

static char *read_all(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static void test_invalid_corpus(void **state)
{
	bool regen = getenv("FL_REGEN_ERR") != NULL;
	size_t i, failed = 0, skipped = 0;
	glob_t g;

	assert_int_equal(glob("tests/invalid/*.yaml", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 30);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		const char *base = strrchr(path, '/') + 1;
		struct fl_experiment *exp = (void *)1;
		char errpath[512], *got, *want;
		struct fl_diag d;
		int r;

		if (!strncmp(base, "engine-", 7) &&
		    engine_is_fake(base + 7, strcspn(base + 7, "-"))) {
			skipped++;
			continue;
		}
		snprintf(errpath, sizeof(errpath), "%.*s.err",
			 (int)(strlen(path) - 5), path);
		fl_diag_init(&d);
		r = fl_experiment_load(path, &exp, &d);
		got = diag_text(&d);
		if (r != -EINVAL || exp || !d.n) {
			print_message("%s: load returned %d, exp %p, %zu "
				      "messages\n", path, r, (void *)exp, d.n);
			failed++;
		}
		fl_experiment_free(exp);
		fl_diag_free(&d);
		if (regen) {
			FILE *f = fopen(errpath, "w");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		}
		want = read_all(errpath);
		if (!want || strcmp(want, got)) {
			print_message("%s: diagnostics differ\n--- want\n%s"
				      "--- got\n%s", path,
				      want ? want : "(no .err file)\n", got);
			failed++;
		}
		free(want);
		free(got);
	}
	if (skipped)
		print_message("%zu engine files skipped (engine not built "
			      "in)\n", skipped);
	globfree(&g);
	assert_int_equal(failed, 0);
}

static void test_examples_valid(void **state)
{
	size_t i;
	glob_t g;
	int r;

	r = glob("examples/*.yaml", 0, NULL, &g);
	if (r == GLOB_NOMATCH) {
		/* cmocka's TAP "skip" reads as a failure to tests/run. */
		print_message("no examples/*.yaml yet\n");
		return;
	}
	assert_int_equal(r, 0);
	for (i = 0; i < g.gl_pathc; i++) {
		struct fl_experiment *exp;
		struct fl_diag d;
		char *msgs;

		fl_diag_init(&d);
		r = fl_experiment_load(g.gl_pathv[i], &exp, &d);
		msgs = diag_text(&d);
		if (r || d.n)
			fail_msg("%s does not validate:\n%s", g.gl_pathv[i],
				 msgs);
		assert_non_null(exp);
		free(msgs);
		fl_diag_free(&d);
		fl_experiment_free(exp);
	}
	globfree(&g);
}

/* The example of the format's reference, issue 2. */
static const char full[] =
	"name: db-partition-under-load\n"
	"duration: 2m\n"
	"targets:\n"
	"  api:    { cgroup: /sys/fs/cgroup/api }\n"
	"  rel:    { cgroup: system.slice/api.service }\n"
	"  worker: { pid: 4242 }\n"
	"  job:    { command: [\"./ingest\", \"--batch\"] }\n"
	"faults:\n"
	"  - name: wan\n"
	"    netem: { device: eth0, delay: 80ms, jitter: 20ms, loss: 2%,"
	" match: { to: [10.0.2.0/24] } }\n"
	"    at: 0s\n"
	"    for: 60s\n"
	"  - name: split\n"
	"    partition: { groups: [[10.0.1.10, 10.0.1.11], [10.0.1.12]] }\n"
	"    at: 30s\n"
	"    for: 30s\n"
	"    optional: yes\n"
	"  - name: oom-worker\n"
	"    oom: { target: worker, squeeze: { below-usage: 16M } }\n"
	"    at: 45s\n"
	"  - name: flaky-disk\n"
	"    syscall: { target: api, calls: [openat, write], errno: EIO,"
	" probability: 10%, path: /var/lib/api }\n"
	"    at: 10s\n"
	"    for: 40s\n"
	"probes:\n"
	"  - name: api-health\n"
	"    exec: [curl, -fsS, http://127.0.0.1:8080/health]\n"
	"    every: 1s\n"
	"    timeout: 500ms\n"
	"    expect: { exit: 0 }\n"
	"  - name: slow\n"
	"    exec: /bin/true\n"
	"    every: 500ms\n"
	"  - name: defaults\n"
	"    exec: [true]\n"
	"    expect: { exit: 3 }\n"
	"report: { json: report.json }\n";

static void test_full_model(void **state)
{
	struct fl_experiment *exp;
	struct fl_target *t;
	struct fl_diag d;
	char *msgs;
	int r;

	fl_diag_init(&d);
	r = fl_experiment_load_buf("full.yaml", full, strlen(full), &exp, &d);
	msgs = diag_text(&d);
	if (r)
		fail_msg("full.yaml: %d\n%s", r, msgs);
	free(msgs);
	assert_int_equal(d.n, 0);
	assert_string_equal(exp->file, "full.yaml");
	assert_string_equal(exp->name, "db-partition-under-load");
	assert_true(exp->duration_ns == 120 * NSEC_PER_SEC);

	assert_int_equal(exp->ntargets, 4);
	t = fl_experiment_target(exp, "api");
	assert_non_null(t);
	assert_int_equal(t->kind, FL_TARGET_CGROUP);
	assert_string_equal(t->cgroup, "/sys/fs/cgroup/api");
	assert_int_equal(t->node->line, 4);
	t = fl_experiment_target(exp, "rel");
	assert_string_equal(t->cgroup, "system.slice/api.service");
	t = fl_experiment_target(exp, "worker");
	assert_int_equal(t->kind, FL_TARGET_PID);
	assert_int_equal(t->pid, 4242);
	t = fl_experiment_target(exp, "job");
	assert_int_equal(t->kind, FL_TARGET_COMMAND);
	assert_string_equal(t->argv[0], "./ingest");
	assert_string_equal(t->argv[1], "--batch");
	assert_null(t->argv[2]);
	assert_null(fl_experiment_target(exp, "nope"));

	assert_int_equal(exp->nfaults, 4);
	assert_string_equal(exp->faults[0].name, "wan");
	assert_string_equal(exp->faults[0].engine->name, "netem");
	assert_true(exp->faults[0].at_ns == 0);
	assert_true(exp->faults[0].has_for);
	assert_true(exp->faults[0].for_ns == 60 * NSEC_PER_SEC);
	assert_false(exp->faults[0].optional);
	assert_int_equal(exp->faults[0].node->line, 9);
	assert_int_equal(exp->faults[0].spec->line, 10);
	assert_string_equal(exp->faults[1].engine->name, "partition");
	assert_true(exp->faults[1].optional);
	assert_true(exp->faults[1].at_ns == 30 * NSEC_PER_SEC);
	assert_string_equal(exp->faults[2].engine->name, "oom");
	assert_false(exp->faults[2].has_for);
	assert_true(exp->faults[2].at_ns == 45 * NSEC_PER_SEC);
	assert_string_equal(exp->faults[3].engine->name, "syscall");

	assert_int_equal(exp->nprobes, 3);
	assert_string_equal(exp->probes[0].name, "api-health");
	assert_string_equal(exp->probes[0].argv[0], "curl");
	assert_null(exp->probes[0].argv[3]);
	assert_true(exp->probes[0].every_ns == NSEC_PER_SEC);
	assert_true(exp->probes[0].timeout_ns == 500 * NSEC_PER_MSEC);
	assert_int_equal(exp->probes[0].expect_exit, 0);
	/* A lone string is a list of one; timeout defaults to every. */
	assert_string_equal(exp->probes[1].argv[0], "/bin/true");
	assert_null(exp->probes[1].argv[1]);
	assert_true(exp->probes[1].timeout_ns == 500 * NSEC_PER_MSEC);
	/* Defaults: every 1s, timeout 1s. */
	assert_true(exp->probes[2].every_ns == NSEC_PER_SEC);
	assert_true(exp->probes[2].timeout_ns == NSEC_PER_SEC);
	assert_int_equal(exp->probes[2].expect_exit, 3);
	assert_string_equal(exp->report_json, "report.json");
	assert_non_null(exp->doc);
	fl_diag_free(&d);
	fl_experiment_free(exp);
}

static void test_minimal(void **state)
{
	static const char y[] = "name: x\nduration: 1s\n";
	struct fl_experiment *exp;
	struct fl_diag d;

	fl_diag_init(&d);
	assert_int_equal(fl_experiment_load_buf("m.yaml", y, strlen(y), &exp,
						&d), 0);
	assert_int_equal(exp->ntargets + exp->nfaults + exp->nprobes, 0);
	assert_null(exp->report_json);
	fl_experiment_free(exp);
	fl_experiment_free(NULL);
	/* A NULL d is allowed, and errors still fail the load. */
	assert_int_equal(fl_experiment_load_buf("m.yaml", "name: x\n", 8,
						&exp, NULL), -EINVAL);
	assert_null(exp);
	assert_int_equal(d.n, 0);
	fl_diag_free(&d);
}

static void test_get_target(void **state)
{
	static const char y[] =
		"name: x\nduration: 1m\ntargets:\n  worker: { pid: 7 }\n"
		"refs: [worker, wrker, zzz, [a]]\n";
	struct fl_experiment *exp;
	const struct fl_node *refs;
	struct fl_target *t = NULL;
	struct fl_doc *doc;
	struct fl_diag d;
	char *msgs;

	/* Build the experiment from the part without refs:. */
	fl_diag_init(&d);
	assert_int_equal(fl_experiment_load_buf("t.yaml", y,
						strstr(y, "refs") - y, &exp, &d), 0);
	assert_int_equal(fl_doc_load_buf("t.yaml", y, strlen(y), &doc, &d), 0);
	refs = fl_map_get(doc->root, "refs");
	assert_int_equal(fl_get_target(exp, refs->items[0], "target", &t, &d),
			 0);
	assert_ptr_equal(t, &exp->targets[0]);
	assert_int_equal(t->pid, 7);
	assert_int_equal(fl_get_target(exp, refs->items[1], "target", &t, &d),
			 -EINVAL);
	assert_int_equal(fl_get_target(exp, refs->items[2], "oom.target", &t,
				       &d), -EINVAL);
	assert_int_equal(fl_get_target(exp, refs->items[3], "target", &t, &d),
			 -EINVAL);
	msgs = diag_text(&d);
	assert_string_equal(msgs,
		"t.yaml:5:16: target: unknown target 'wrker' (did you mean "
		"'worker'?)\n"
		"t.yaml:5:23: oom.target: unknown target 'zzz'\n"
		"t.yaml:5:28: target: expected a target name, got a "
		"sequence\n");
	free(msgs);
	fl_diag_free(&d);
	fl_doc_free(doc);
	fl_experiment_free(exp);
}

/* One document for the getters' tests: a bad value under each key. */
static const char getters_yaml[] =
	"d: 80\n"
	"s: 64X\n"
	"p: 150%\n"
	"r: 10mb\n"
	"n: 300\n"
	"b: maybe\n"
	"e: paretto\n"
	"f: bogus\n"
	"errno: EIOO\n"
	"sys: opnat\n"
	"c: 10.0.2.1/24\n"
	"c6: fd00::1/64\n"
	"bad: 10.0.0.300\n"
	"m: { a: 1 }\n"
	"l: [a, { b: c }]\n"
	"str: ~\n"
	"ok: [a, b]\n";

static void test_getters(void **state)
{
	static const char *const dists[] = { "uniform", "normal", "pareto",
					     "paretonormal", NULL };
	const struct fl_node *r;
	struct fl_doc *doc;
	struct fl_diag d;
	struct fl_cidr c;
	uint64_t u;
	double pct;
	char *s, **v, *msgs;
	size_t n;
	bool b;
	int i;

	fl_diag_init(&d);
	assert_int_equal(fl_doc_load_buf("g.yaml", getters_yaml,
					 strlen(getters_yaml), &doc, &d), 0);
	r = doc->root;
	assert_int_equal(fl_get_duration(fl_map_get(r, "d"), "delay", &u, &d),
			 -EINVAL);
	assert_int_equal(fl_get_size(fl_map_get(r, "s"), "to", &u, &d),
			 -EINVAL);
	assert_int_equal(fl_get_percent(fl_map_get(r, "p"), "loss", &pct, &d),
			 -EINVAL);
	assert_int_equal(fl_get_rate(fl_map_get(r, "r"), "rate", &u, &d),
			 -EINVAL);
	assert_int_equal(fl_get_u64(fl_map_get(r, "n"), "exit", 0, 255, &u,
				    &d), -ERANGE);
	assert_int_equal(fl_get_u64(fl_map_get(r, "n"), "min", 1000,
				    UINT64_MAX, &u, &d), -ERANGE);
	assert_int_equal(fl_get_u64(fl_map_get(r, "n"), "ok", 1, 300, &u, &d),
			 0);
	assert_int_equal(u, 300);
	assert_int_equal(fl_get_bool(fl_map_get(r, "b"), "ecn", &b, &d),
			 -EINVAL);
	assert_int_equal(fl_get_enum(fl_map_get(r, "e"), "distribution",
				     dists, &i, &d), -EINVAL);
	assert_int_equal(fl_get_enum(fl_map_get(r, "f"), "distribution",
				     dists, &i, &d), -EINVAL);
	assert_int_equal(fl_get_errno(fl_map_get(r, "errno"), "errno", &i,
				      &d), -EINVAL);
	assert_int_equal(fl_get_syscall(fl_map_get(r, "sys"), "calls", &i,
					&d), -EINVAL);
	assert_int_equal(fl_get_cidr(fl_map_get(r, "c"), "to", &c, &d),
			 -EINVAL);
	assert_int_equal(fl_get_cidr(fl_map_get(r, "c6"), "to", &c, &d),
			 -EINVAL);
	assert_int_equal(fl_get_cidr(fl_map_get(r, "bad"), "to", &c, &d),
			 -EINVAL);
	assert_int_equal(fl_get_duration(fl_map_get(r, "m"), "delay", &u, &d),
			 -EINVAL);
	assert_int_equal(fl_get_strv(fl_map_get(r, "l"), "exec", &v, &n, &d),
			 -EINVAL);
	assert_null(v);
	assert_int_equal(fl_get_strv(fl_map_get(r, "m"), "exec", &v, &n, &d),
			 -EINVAL);
	assert_int_equal(fl_get_string(fl_map_get(r, "str"), "device", &s,
				       &d), -EINVAL);
	assert_int_equal(fl_get_string(fl_map_get(r, "missing"), "device", &s,
				       &d), -EINVAL);
	msgs = diag_text(&d);
	if (getenv("FL_SHOW"))
		fputs(msgs, stderr);
	assert_string_equal(msgs,
		"device: expected a string, got nothing\n"
		"g.yaml:1:4: delay: bad duration '80': missing unit (ns, us, "
		"ms, s, m or h)\n"
		"g.yaml:2:4: to: bad size '64X': unknown unit (use B, K, M, G, "
		"T, KiB..TiB or kB..TB)\n"
		"g.yaml:3:4: loss: bad percentage '150%': more than 100%\n"
		"g.yaml:4:4: rate: bad rate '10mb': unknown unit (use bit, "
		"kbit, mbit, gbit, tbit, or bps, kbps, mbps, gbps for bytes)\n"
		"g.yaml:5:4: exit: 300 is out of range 0..255\n"
		"g.yaml:5:4: min: 300 is too small, the minimum is 1000\n"
		"g.yaml:6:4: ecn: bad boolean 'maybe': expected true or "
		"false\n"
		"g.yaml:7:4: distribution: unknown value 'paretto' (did you "
		"mean 'pareto'?)\n"
		"g.yaml:8:4: distribution: unknown value 'bogus'; expected one "
		"of uniform, normal, pareto, paretonormal\n"
		"g.yaml:9:8: errno: unknown errno 'EIOO' (did you mean "
		"'EIO'?)\n"
		"g.yaml:10:6: calls: unknown syscall 'opnat' (did you mean "
		"'openat'?)\n"
		"g.yaml:11:4: to: bad address '10.0.2.1/24': host bits set, "
		"did you mean 10.0.2.0/24?\n"
		"g.yaml:12:5: to: bad address 'fd00::1/64': host bits set, did "
		"you mean fd00::/64?\n"
		"g.yaml:13:6: to: bad address '10.0.0.300': not an IPv4 "
		"address\n"
		"g.yaml:14:4: delay: expected a duration like 250ms, got a "
		"map\n"
		"g.yaml:14:4: exec: expected a list of strings, got a map\n"
		"g.yaml:15:8: exec: item 2: expected a string, got a map\n"
		"g.yaml:16:6: device: expected a string, got nothing\n");
	free(msgs);
	fl_diag_free(&d);
	fl_doc_free(doc);
}

/* The getters' successes, on the same document. */
static void test_getters_ok(void **state)
{
	const struct fl_node *r;
	struct fl_doc *doc;
	struct fl_diag d;
	char *s, **v;
	size_t n;
	int i;

	fl_diag_init(&d);
	assert_int_equal(fl_doc_load_buf("g.yaml", getters_yaml,
					 strlen(getters_yaml), &doc, &d), 0);
	r = doc->root;
	assert_int_equal(fl_get_strv(fl_map_get(r, "ok"), "exec", &v, &n, &d),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	fl_strv_free(v);
	fl_strv_free(NULL);
	assert_int_equal(fl_get_string(fl_map_get(r, "f"), "x", &s, &d), 0);
	assert_string_equal(s, "bogus");
	free(s);
	assert_int_equal(fl_get_enum(fl_map_get(r, "e"), "x",
				     (const char *const[]){ "a", "paretto",
							    NULL }, &i, &d),
			 0);
	assert_int_equal(i, 1);
	fl_diag_free(&d);
	fl_doc_free(doc);
}

/*
 * Mutations of a valid file: never a crash or a leak (valgrind), never
 * a half-built experiment, and a success has no messages.
 */
static void test_mutations(void **state)
{
	static const char alphabet[] = "ab0:-[]{},&*'\"\n #%/.1ms";
	unsigned int seed = 7;
	size_t len = strlen(full), i, k;
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	for (i = 0; i < 1500; i++) {
		struct fl_experiment *exp = (void *)1;
		struct fl_diag d;
		int r;

		memcpy(buf, full, len + 1);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] =
				alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		fl_diag_init(&d);
		r = fl_experiment_load_buf("mut.yaml", buf, len, &exp, &d);
		if (r) {
			assert_null(exp);
			assert_true(d.n > 0);
		} else {
			assert_non_null(exp);
			assert_int_equal(d.n, 0);
			fl_experiment_free(exp);
		}
		fl_diag_free(&d);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_corpus),
		cmocka_unit_test(test_examples_valid),
		cmocka_unit_test(test_full_model),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_get_target),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_getters_ok),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
