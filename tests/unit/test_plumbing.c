// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: core's shared plumbing that engines and tools build on
 * (the netns identity, the /proc/PID/cgroup reader, growing arrays,
 * enum names, the forked-probe helper, JSON readers) and bpf/bpflog.c's
 * reading of libbpf's messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "core/faultline.h"

static void test_netns_id(void **state)
{
	struct fl_netns_id id = { 0 }, back = { 0 };
	char buf[48];

	(void)state;
	id.dev = 4;
	id.ino = 4026531840ULL;
	fl_netns_str(&id, buf, sizeof(buf));
	assert_string_equal(buf, "4:4026531840");
	assert_int_equal(fl_netns_parse(buf, &back), 0);
	assert_true(back.dev == 4 && back.ino == 4026531840ULL);
	/* The old forms: an inode alone, and dev << 32 ^ inode. */
	assert_int_equal(fl_netns_parse("4026531840", &back), 0);
	assert_true(back.dev == 0 && back.ino == 4026531840ULL);
	assert_int_equal(fl_netns_parse("21474836481", &back), 0);
	assert_true(back.dev == 5 && back.ino == 1);
	assert_int_equal(fl_netns_parse("", &back), -EINVAL);
	assert_int_equal(fl_netns_parse("4:", &back), -EINVAL);
	assert_int_equal(fl_netns_parse("4:x", &back), -EINVAL);
	assert_int_equal(fl_netns_parse("4:5x", &back), -EINVAL);
	assert_int_equal(fl_netns_parse("-4:5", &back), -EINVAL);
	assert_int_equal(fl_netns_parse(NULL, &back), -EINVAL);
}

/* This process's own line in /proc/self/cgroup, as the kernel wrote it. */
static void test_proc_cgroup(void **state)
{
	char buf[4096], want[4096] = "";
	char line[4096];
	FILE *f;

	(void)state;
	f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			snprintf(want, sizeof(want), "%.*s",
				 (int)strcspn(line + 3, "\n"), line + 3);
	fclose(f);
	if (want[0]) {
		assert_int_equal(fl_proc_cgroup(getpid(), NULL, buf,
						sizeof(buf)), 0);
		assert_string_equal(buf, want);
	}
	assert_int_equal(fl_proc_cgroup(getpid(), "no-such-controller", buf,
					sizeof(buf)), -ENOENT);
	assert_int_equal(fl_proc_cgroup(-1, NULL, buf, sizeof(buf)),
			 -ENOENT);
}

static void test_grow(void **state)
{
	size_t cap = 0, n;
	int *v = NULL;

	(void)state;
	for (n = 0; n < 100; n++) {
		assert_int_equal(FL_GROW(v, cap, n, 4), 0);
		assert_true(cap > n);
		v[n] = (int)n;
	}
	assert_int_equal(cap, 128);
	for (n = 0; n < 100; n++)
		assert_int_equal(v[n], (int)n);
	free(v);
}

static void test_enum_name(void **state)
{
	static const char *const names[] = { [1] = "one", [3] = "three" };

	(void)state;
	assert_string_equal(fl_enum_name(names, 4, 1, "?"), "one");
	assert_string_equal(fl_enum_name(names, 4, 3, "?"), "three");
	assert_string_equal(fl_enum_name(names, 4, 0, "?"), "?");
	assert_string_equal(fl_enum_name(names, 4, 4, "?"), "?");
	assert_string_equal(fl_enum_name(names, 4, -1, "?"), "?");
}

struct child_msg {
	pid_t pid;
	int n;
};

static void in_child(void *out, void *arg)
{
	struct child_msg *m = out;

	m->pid = getpid();
	m->n = *(int *)arg + 1;
}

static void sleeper(void *out, void *arg)
{
	(void)out;
	(void)arg;
	pause();
}

static void test_in_child(void **state)
{
	struct child_msg m = { 0 };
	int arg = 41;

	(void)state;
	assert_int_equal(fl_in_child(in_child, &arg, &m, sizeof(m), 5000), 0);
	assert_int_equal(m.n, 42);
	assert_true(m.pid > 0 && m.pid != getpid());
	assert_int_equal(fl_in_child(sleeper, NULL, &m, sizeof(m), 100),
			 -ETIMEDOUT);
}

static void test_json_text(void **state)
{
	json_object *o = json_tokener_parse("{\"s\":\"x\",\"n\":12}");

	(void)state;
	assert_string_equal(fl_json_text(o, "s"), "x");
	assert_string_equal(fl_json_text(o, "n"), "12");
	assert_null(fl_json_text(o, "none"));
	assert_null(fl_json_str(o, "n", NULL));
	json_object_put(o);
}

/* libbpf's print hook while a capture is open. */
static void say(libbpf_print_fn_t fn, enum libbpf_print_level lvl,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fn(lvl, fmt, ap);
	va_end(ap);
}

static libbpf_print_fn_t capture_hook(void)
{
	libbpf_print_fn_t fn = libbpf_set_print(NULL);

	libbpf_set_print(fn);
	return fn;
}

static void test_bpflog_verifier(void **state)
{
	struct bpf_log l;
	libbpf_print_fn_t fn;

	(void)state;
	bpf_log_begin(&l);
	fn = capture_hook();
	say(fn, LIBBPF_DEBUG, "libbpf: loading object\n");
	say(fn, LIBBPF_WARN, "libbpf: prog 'sf_x': BPF program load failed: Permission denied\n");
	say(fn, LIBBPF_WARN, "libbpf: prog 'sf_x': -- BEGIN PROG LOAD LOG --\n"
	    "0: R1=ctx() R10=fp0\n; int x = *p;\n"
	    "1: (61) r0 = *(u32 *)(r1 +0)\n"
	    "R1 invalid mem access 'scalar'\n"
	    "processed 2 insns (limit 1000000) max_states_per_insn 0\n"
	    "-- END PROG LOAD LOG --\n");
	say(fn, LIBBPF_WARN, "libbpf: prog 'sf_x': failed to load: -13\n");
	bpf_log_end(&l);
	assert_string_equal(l.verifier, "R1 invalid mem access 'scalar'");
	assert_string_equal(l.first, "libbpf: prog 'sf_x': BPF program load failed: Permission denied");
	assert_string_equal(bpf_log_why(&l), l.verifier);
	assert_null(strstr(l.all, "loading object"));
}

static void test_bpflog_nested(void **state)
{
	struct bpf_log outer, inner;

	(void)state;
	bpf_log_begin(&outer);
	say(capture_hook(), LIBBPF_WARN, "libbpf: outer warning\n");
	bpf_log_begin(&inner);
	say(capture_hook(), LIBBPF_WARN, "libbpf: inner warning\n");
	bpf_log_end(&inner);
	say(capture_hook(), LIBBPF_WARN, "libbpf: outer again\n");
	bpf_log_end(&outer);
	assert_string_equal(inner.first, "libbpf: inner warning");
	assert_string_equal(bpf_log_why(&outer), "libbpf: outer warning");
	assert_null(strstr(outer.all, "inner"));
	assert_non_null(strstr(outer.all, "outer again"));
}

static void test_bpflog_keeps_newest(void **state)
{
	struct bpf_log l;
	char line[200];
	int i;

	(void)state;
	bpf_log_begin(&l);
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "libbpf: line %03d %0150d\n", i, 0);
		say(capture_hook(), LIBBPF_WARN, "%s", line);
	}
	bpf_log_end(&l);
	assert_true(l.len < sizeof(l.all));
	assert_non_null(strstr(l.all, "line 099"));
	assert_null(strstr(l.all, "line 000"));
	assert_string_equal(l.first, "libbpf: line 000 " "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_id),
		cmocka_unit_test(test_proc_cgroup),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_enum_name),
		cmocka_unit_test(test_in_child),
		cmocka_unit_test(test_json_text),
		cmocka_unit_test(test_bpflog_verifier),
		cmocka_unit_test(test_bpflog_nested),
		cmocka_unit_test(test_bpflog_keeps_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
