// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fault engine for the runner tests, linked only into
 * tests/faultline-test.  Its "kernel state" is a plain file:
 *
 *   test: { file: PATH, value: STRING, fail-apply: bool, fail-check: WHY,
 *           apply-delay: DURATION, revert-delay: DURATION,
 *           slow-start: DURATION, prepare: bool,
 *           prepare-delay: DURATION }
 *
 * apply saves the file's prior content (or its absence) with
 * fl_undo_save(), waits slow-start, writes value into it (the instant
 * it marks with fl_effect_mark()), then waits apply-delay.  With
 * prepare: true the record is saved at prepare instead (before the
 * timeline, and for a repeat in the gap before each occurrence), and apply
 * saves it again only when the file changed since; prepare-delay makes
 * prepare (with or without prepare: true) take that long.  revert
 * waits revert-delay, then puts the prior content back (or removes the
 * file); it is idempotent.  fail-apply saves the record, then fails with
 * EIO before writing; fail-check makes check() refuse with WHY.  The
 * handle apply returns holds the file's name for observe; release frees
 * it, so a runner that forgets release leaks (SANITIZE=1 says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/faultline.h"

struct test_spec {
	char *file;
	char *value;
	char *fail_check;
	bool fail_apply;
	uint64_t apply_delay;
	uint64_t revert_delay;
	uint64_t slow_start;
	bool prepare;
	uint64_t prepare_delay;
};

/* An applied fault's handle. */
struct test_rt {
	char *file;
};

static const char *const test_keys[] = {
	"file", "value", "fail-apply", "fail-check", "apply-delay",
	"revert-delay", "slow-start", "prepare", "prepare-delay", NULL
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NSEC_PER_SEC,
		.tv_nsec = ns % NSEC_PER_SEC,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int test_parse(struct fl_experiment *exp, const struct fl_fault *f,
		      const struct fl_node *spec, void **out, struct fl_diag *d)
{
	struct test_spec *s;
	const struct fl_node *n;
	int ret = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	n = fl_map_need(spec, "file", "test", d);
	if (!n || fl_get_string(n, "file", &s->file, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "value");
	if (n && fl_get_string(n, "value", &s->value, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "fail-check");
	if (n && fl_get_string(n, "fail-check", &s->fail_check, d))
		ret = -EINVAL;
	if (fl_opt_bool(spec, "fail-apply", &s->fail_apply, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "apply-delay");
	if (n && fl_get_duration(n, "apply-delay", &s->apply_delay, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "slow-start");
	if (n && fl_get_duration(n, "slow-start", &s->slow_start, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "prepare");
	if (n && fl_get_bool(n, "prepare", &s->prepare, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "prepare-delay");
	if (n && fl_get_duration(n, "prepare-delay", &s->prepare_delay, d))
		ret = -EINVAL;
	n = fl_map_get(spec, "revert-delay");
	if (n && fl_get_duration(n, "revert-delay", &s->revert_delay, d))
		ret = -EINVAL;
	if (!ret && !s->value)
		s->value = strdup(f->name ? f->name : "test");
	return ret;
}

static void test_spec_free(void *spec)
{
	struct test_spec *s = spec;

	free(s->file);
	free(s->value);
	free(s->fail_check);
	free(s);
}

static int test_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct test_spec *s = f->priv;

	if (s->fail_check) {
		snprintf(why, len, "%s", s->fail_check);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The whole file into a string; NULL with errno on failure. */
static char *slurp(const char *path)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static int spit(const char *path, const char *data)
{
	size_t len = strlen(data), off = 0;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* The record: the file's content now (*st, or -errno). */
static int test_state(const struct test_spec *s, json_object **st)
{
	char *prior;

	*st = NULL;
	prior = slurp(s->file);
	if (!prior && errno != ENOENT)
		return -errno;
	*st = json_object_new_object();
	json_object_object_add(*st, "file", json_object_new_string(s->file));
	json_object_object_add(*st, "existed",
			       json_object_new_boolean(!!prior));
	json_object_object_add(*st, "content", prior ?
			       json_object_new_string(prior) : NULL);
	json_object_object_add(*st, "revert-delay-ns",
			       json_object_new_uint64(s->revert_delay));
	free(prior);
	return 0;
}

/*
 * prepare: true: the record saved now; its revert puts back what the
 * file holds now, which changes nothing until apply.  *prep keeps it, for
 * apply to compare.
 */
static int test_prepare(const struct fl_fault *f, struct fl_undo *u,
			void **prep)
{
	const struct test_spec *s = f->priv;
	json_object *st;
	int ret;

	*prep = NULL;
	if (s->prepare_delay)
		sleep_ns(s->prepare_delay);
	if (!s->prepare)
		return 0;
	ret = test_state(s, &st);
	if (!ret)
		ret = fl_undo_save(u, st);
	if (ret)
		json_object_put(st);
	else
		*prep = st;
	return ret;
}

static void test_unprepare(void *prep)
{
	json_object_put(prep);
}

static int test_apply(const struct fl_fault *f, struct fl_undo *u, void **rt)
{
	const struct test_spec *s = f->priv;
	json_object *saved = u->prep;
	struct test_rt *h;
	json_object *st;
	int ret;

	/* Prepare's record, when the file is still as it says. */
	u->prep = NULL;
	ret = test_state(s, &st);
	if (ret) {
		json_object_put(saved);
		return ret;
	}
	if (u->seq <= 0 || !json_object_equal(saved, st))
		ret = fl_undo_save(u, st);
	json_object_put(saved);
	json_object_put(st);
	if (ret)
		return ret;
	if (s->fail_apply) {
		fl_undo_why(u, "fail-apply is set");
		return -EIO;
	}
	if (s->slow_start)
		sleep_ns(s->slow_start);
	ret = spit(s->file, s->value);
	if (ret)
		return ret;
	fl_effect_mark();
	if (s->apply_delay)
		sleep_ns(s->apply_delay);
	/* The handle: what observe reads, freed by release (a leak under
	 * SANITIZE=1 when the runner forgets it). */
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->file = strdup(s->file);
	if (!h->file) {
		free(h);
		return -ENOMEM;
	}
	*rt = h;
	return 0;
}

static int test_revert(json_object *state)
{
	json_object *file, *existed, *content, *delay;
	int ret;

	if (!json_object_object_get_ex(state, "file", &file) ||
	    !json_object_object_get_ex(state, "existed", &existed))
		return -EINVAL;
	if (json_object_object_get_ex(state, "revert-delay-ns", &delay))
		sleep_ns(json_object_get_uint64(delay));
	if (!json_object_get_boolean(existed)) {
		if (unlink(json_object_get_string(file)) && errno != ENOENT)
			return -errno;
		fl_effect_mark();
		return 0;
	}
	if (!json_object_object_get_ex(state, "content", &content))
		return -EINVAL;
	ret = spit(json_object_get_string(file),
		   json_object_get_string(content));
	if (!ret)
		fl_effect_mark();
	return ret;
}

static int test_describe(const struct fl_fault *f, json_object *out)
{
	const struct test_spec *s = f->priv;
	json_object *objs = json_object_new_array();

	json_object_object_add(out, "mechanism",
			       json_object_new_string("file write"));
	json_object_object_add(out, "why", json_object_new_string(
		"the test engine stands in for kernel state with a file"));
	json_object_array_add(objs, json_object_new_string(s->file));
	json_object_object_add(out, "objects", objs);
	return 0;
}

static int test_observe(void *rt, json_object *out)
{
	const struct test_rt *h = rt;
	char *now = slurp(h->file);

	json_object_object_add(out, "file", json_object_new_string(h->file));
	json_object_object_add(out, "content", now ?
			       json_object_new_string(now) : NULL);
	free(now);
	return 0;
}

static void test_release(void *rt)
{
	struct test_rt *h = rt;

	free(h->file);
	free(h);
}

static int test_resources(const struct fl_fault *f, json_object *out)
{
	const struct test_spec *s = f->priv;
	char buf[4200];

	snprintf(buf, sizeof(buf), "file:%s", s->file);
	json_object_array_add(out, json_object_new_string(buf));
	return 0;
}

const struct fl_engine test_engine = {
	.name = "test",
	.summary = "write a file (runner tests only)",
	.parse = test_parse,
	.keys = test_keys,
	.spec_free = test_spec_free,
	.check = test_check,
	.prepare = test_prepare,
	.unprepare = test_unprepare,
	.apply = test_apply,
	.revert = test_revert,
	.describe = test_describe,
	.observe = test_observe,
	.release = test_release,
	.resources = test_resources,
};
