// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: the order recover and the guardian replay a run's undo
 * records in (core/journal.c), the reverse of apply.  Records are
 * prepared, and so numbered, in another order than they are applied in (a
 * repeat's next occurrence is prepared in a gap, after a fault prepared
 * before the timeline but planned later), so each record keeps its
 * planned instant and its fault's place in the file; records without
 * them (the placer's scratch cgroups, an older faultline's journal) go
 * last, by seq.  Here: fl_undo_save() writes them (and keeps them when an
 * engine's copy of the undo rewrites the record), the sort, and
 * fl_recover_run() reverting in that order.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/faultline.h"
#include "core/journal.h"

#define S	NSEC_PER_SEC

/* The records an "order" engine's revert saw, in order, "a,b,c". */
static char reverted[256];

static int order_revert(json_object *state)
{
	json_object *v;

	if (!json_object_object_get_ex(state, "name", &v))
		return -EINVAL;
	if (reverted[0])
		strncat(reverted, ",", sizeof(reverted) - strlen(reverted) - 1);
	strncat(reverted, json_object_get_string(v),
		sizeof(reverted) - strlen(reverted) - 1);
	return 0;
}

static const struct fl_engine order = {
	.name = "order", .revert = order_revert,
};

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/fl-test-journal.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("FAULTLINE_RUNDIR", root, 1);
	fl_engines_set(NULL, 0);
	fl_engine_register(&order);
	reverted[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

/* A record file as faultline writes it; due < 0: without an instant. */
static void put(int dirfd, int seq, const char *name, int64_t due, int index)
{
	char file[64], buf[256];
	int fd, n;

	snprintf(file, sizeof(file), "%04d-%s.json", seq, name);
	if (due >= 0)
		n = snprintf(buf, sizeof(buf), "{ \"engine\": \"order\", "
			     "\"fault\": \"%s\", \"seq\": %d, \"due_ns\": %lld, "
			     "\"index\": %d, \"state\": { \"name\": \"%s\" } }",
			     name, seq, (long long)due, index, name);
	else
		n = snprintf(buf, sizeof(buf), "{ \"engine\": \"order\", "
			     "\"fault\": \"%s\", \"seq\": %d, \"state\": "
			     "{ \"name\": \"%s\" } }", name, seq, name);
	fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), n);
	close(fd);
}

static int run_dir(char *dir, size_t len)
{
	int fd;

	snprintf(dir, len, "%s/run-1", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

/* The replay order's file names, "0001-a,0002-b". */
static void order_of(int dirfd, char *out, size_t len)
{
	struct fl_rec_ent *v;
	size_t n, i;

	assert_int_equal(fl_journal_replay_order(dirfd, &v, &n), 0);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		char *dot = strrchr(v[i].name, '.');

		snprintf(out + strlen(out), len - strlen(out), "%s%.*s",
			 i ? "," : "", (int)(dot - v[i].name), v[i].name);
	}
	free(v);
}

/* An older faultline's journal: no instants, the highest seq first. */
static void test_by_seq_without_instants(void **state)
{
	char dir[128], got[256];
	int fd = run_dir(dir, sizeof(dir));

	put(fd, 1, "a", -1, 0);
	put(fd, 3, "c", -1, 0);
	put(fd, 2, "b", -1, 0);
	order_of(fd, got, sizeof(got));
	assert_string_equal(got, "0003-c,0002-b,0001-a");
	close(fd);
}

/*
 * flap (index 0) repeats: its second occurrence (due 3.2 s) is prepared
 * in the gap as record 3, after cut (index 1, due 3.5 s) was prepared
 * before the timeline as record 2; the scratch cgroups (record 1, no
 * instant) came before the timeline.  Applied: scratch, flap, cut; so
 * replayed cut, flap, scratch, though seq says flap first.
 */
static void test_by_instant_not_seq(void **state)
{
	char dir[128], got[256];
	int fd = run_dir(dir, sizeof(dir));

	put(fd, 1, "scratch", -1, 0);
	put(fd, 2, "cut", 3500 * NSEC_PER_MSEC, 1);
	put(fd, 3, "flap", 3200 * NSEC_PER_MSEC, 0);
	order_of(fd, got, sizeof(got));
	assert_string_equal(got, "0002-cut,0003-flap,0001-scratch");
	close(fd);
}

/* At one instant the runner applies in file order: replay the last first. */
static void test_one_instant_by_file_order(void **state)
{
	char dir[128], got[256];
	int fd = run_dir(dir, sizeof(dir));

	put(fd, 5, "first", 2 * S, 0);
	put(fd, 4, "second", 2 * S, 1);
	put(fd, 6, "early", 1 * S, 2);
	/* The same fault's record twice (never in one run): by seq. */
	put(fd, 7, "again", 1 * S, 2);
	order_of(fd, got, sizeof(got));
	assert_string_equal(got, "0004-second,0005-first,0007-again,0006-early");
	close(fd);
}

/* A record that cannot be read goes by its seq (its replay says why). */
static void test_unreadable_by_seq(void **state)
{
	char dir[128], got[256];
	int fd = run_dir(dir, sizeof(dir)), bad;

	put(fd, 1, "a", 5 * S, 0);
	bad = openat(fd, "0009-bad.json", O_WRONLY | O_CREAT, 0600);
	assert_true(bad >= 0);
	assert_int_equal(write(bad, "{ not json", 10), 10);
	close(bad);
	put(fd, 2, "b", -1, 0);
	order_of(fd, got, sizeof(got));
	assert_string_equal(got, "0001-a,0009-bad,0002-b");
	close(fd);
}

/* What fl_undo_save() writes, and what an engine's copy rewrites. */
static void test_save_keeps_instant(void **state)
{
	struct fl_experiment exp = { .name = "j", .file = "j.yaml" };
	struct fl_fault fa = { .name = "flap", .engine = &order };
	struct fl_fault fb = { .name = "cut", .engine = &order };
	struct fl_journal *j;
	struct fl_undo ua, ub, copy;
	json_object *st, *rec;
	char dir[600], got[256];
	int fd;

	assert_int_equal(fl_journal_create(&exp, fl_now_ns() + S, NULL, 0, &j),
			 0);
	snprintf(dir, sizeof(dir), "%s", fl_journal_dir(j));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	/* cut prepared first, flap second, flap planned first. */
	ub = (struct fl_undo){ .j = j, .f = &fb, .seq = -1, .timed = true,
			       .due_ns = 3500 * NSEC_PER_MSEC, .index = 1 };
	ua = (struct fl_undo){ .j = j, .f = &fa, .seq = -1, .timed = true,
			       .due_ns = 3200 * NSEC_PER_MSEC, .index = 0 };
	st = json_object_new_object();
	json_object_object_add(st, "name", json_object_new_string("cut"));
	assert_int_equal(fl_undo_save(&ub, st), 0);
	json_object_put(st);
	st = json_object_new_object();
	json_object_object_add(st, "name", json_object_new_string("flap"));
	assert_int_equal(fl_undo_save(&ua, st), 0);
	/* oom's and disk's copy: journal, fault and seq only. */
	copy = (struct fl_undo){ .j = j, .f = &fa, .seq = ua.seq };
	assert_int_equal(fl_undo_save(&copy, st), 0);
	json_object_put(st);
	assert_int_equal(ub.seq, 1);
	assert_int_equal(ua.seq, 2);
	rec = fl_journal_read_at(fd, "0002-flap.json");
	assert_non_null(rec);
	assert_int_equal(json_object_get_int64(fl_json_get(rec, "due_ns")),
			 3200 * NSEC_PER_MSEC);
	assert_int_equal(json_object_get_int(fl_json_get(rec, "index")), 0);
	json_object_put(rec);
	order_of(fd, got, sizeof(got));
	assert_string_equal(got, "0001-cut,0002-flap");
	close(fd);
	fl_journal_close(j);

	/* recover (and the guardian) revert in that order. */
	st = json_object_new_object();
	assert_int_equal(fl_recover_run(dir, st), 0);
	assert_string_equal(reverted, "cut,flap");
	assert_int_equal(json_object_array_length(fl_json_get(st, "reverted")),
			 2);
	json_object_put(st);
	assert_int_equal(access(dir, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_by_seq_without_instants,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_instant_not_seq,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_instant_by_file_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_by_seq,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_keeps_instant,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
