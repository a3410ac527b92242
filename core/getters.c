// SPDX-License-Identifier: GPL-2.0-only
/*
 * Node getters: a typed value from a YAML node, or a message at the node's
 * line:col naming the field ("delay: bad duration '80': missing unit").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/faultline.h"

/* A non-null scalar, or a "what: expected KIND, got ..." message. */
static const char *scalar_of(const struct fl_node *v, const char *what,
			     const char *kind, struct fl_diag *d)
{
	if (v && v->type == FL_NODE_SCALAR && !fl_node_is_null(v))
		return v->scalar;
	fl_diag_err(d, v, "%s: expected %s, got %s", what, kind,
		    fl_node_desc(v));
	return NULL;
}

static int bad(const struct fl_node *v, const char *what, const char *kind,
	       const char *s, const char *why, struct fl_diag *d)
{
	char q[64];

	fl_diag_err(d, v, "%s: bad %s '%s': %s", what, kind,
		    fl_quote(s, q, sizeof(q)), why ? why : "invalid");
	return -EINVAL;
}

int fl_get_string(const struct fl_node *v, const char *what, char **out,
		  struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a string", d);

	if (!s)
		return -EINVAL;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/*
 * fl_get_NAME(v, what, out, d): the value fl_parse_NAME() reads from the
 * scalar at v, or a message at v naming what, the kind and why it is bad
 * ("delay: bad duration '80': missing unit").
 */
#define DEFINE_GETTER(name, type, kind, example)			\
int fl_get_##name(const struct fl_node *v, const char *what, type *out, \
		  struct fl_diag *d)					\
{									\
	const char *s = scalar_of(v, what, example, d);			\
	const char *why = NULL;						\
									\
	if (!s)								\
		return -EINVAL;						\
	if (fl_parse_##name(s, out, &why))				\
		return bad(v, what, kind, s, why, d);			\
	return 0;							\
}

DEFINE_GETTER(duration, uint64_t, "duration", "a duration like 250ms")
DEFINE_GETTER(size, uint64_t, "size", "a size like 64M")
DEFINE_GETTER(percent, double, "percentage", "a percentage like 2.5%")
DEFINE_GETTER(rate, uint64_t, "rate", "a rate like 10mbit")
DEFINE_GETTER(bool, bool, "boolean", "true or false")

/* fl_get_NAME_pos(v, what, out, d): the same, and above 0. */
#define DEFINE_POS_GETTER(name)						\
int fl_get_##name##_pos(const struct fl_node *v, const char *what,	\
			uint64_t *out, struct fl_diag *d)		\
{									\
	if (fl_get_##name(v, what, out, d))				\
		return -EINVAL;						\
	if (!*out) {							\
		fl_diag_err(d, v, "%s: must be above 0", what);		\
		return -EINVAL;						\
	}								\
	return 0;							\
}

DEFINE_POS_GETTER(duration)
DEFINE_POS_GETTER(size)
DEFINE_POS_GETTER(rate)

int fl_get_u64(const struct fl_node *v, const char *what, uint64_t min,
	       uint64_t max, uint64_t *out, struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a whole number", d);
	const char *why = NULL;
	uint64_t x;

	if (!s)
		return -EINVAL;
	if (fl_parse_u64(s, &x, &why))
		return bad(v, what, "number", s, why, d);
	if (x < min || x > max) {
		if (max == UINT64_MAX)
			fl_diag_err(d, v, "%s: %" PRIu64 " is too small, the "
				    "minimum is %" PRIu64, what, x, min);
		else
			fl_diag_err(d, v, "%s: %" PRIu64 " is out of range %"
				    PRIu64 "..%" PRIu64, what, x, min, max);
		return -ERANGE;
	}
	*out = x;
	return 0;
}

static size_t list_names(char *buf, size_t len, const char *const *names)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; names[i] && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
				 names[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	return o;
}

int fl_opt_enum(const struct fl_node *m, const char *key,
		const char *const *names, int *out, struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(m, key);

	return v ? fl_get_enum(v, key, names, out, d) : 0;
}

int fl_opt_bool(const struct fl_node *m, const char *key, bool *out,
		struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(m, key);

	return v ? fl_get_bool(v, key, out, d) : 0;
}

int fl_get_enum(const struct fl_node *v, const char *what,
		const char *const *names, int *out, struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a name", d);
	const char *hint;
	char q[64], list[256];
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; names[i]; i++) {
		if (!strcmp(names[i], s)) {
			*out = i;
			return 0;
		}
	}
	hint = fl_did_you_mean(s, names);
	if (hint) {
		fl_diag_err(d, v, "%s: unknown value '%s' (did you mean '%s'?)",
			    what, fl_quote(s, q, sizeof(q)), hint);
	} else {
		list_names(list, sizeof(list), names);
		fl_diag_err(d, v, "%s: unknown value '%s'; expected one of %s",
			    what, fl_quote(s, q, sizeof(q)), list);
	}
	return -EINVAL;
}

/* The names name() gives the numbers 0..max-1, NULL-ended, in names. */
static void fill_names(const char **names, size_t len,
		       const char *(*name)(int), int max)
{
	size_t n = 0;
	int i;

	for (i = 0; i < max && n + 1 < len; i++) {
		const char *s = name(i);

		if (s)
			names[n++] = s;
	}
	names[n] = NULL;
}

/* Every errno name, built once, for suggestions. */
static const char *const *errno_names(void)
{
	static const char *names[4096 + 4];

	if (!names[0])
		fill_names(names, ARRAY_SIZE(names), fl_errno_name, 4096);
	return names;
}

/* Syscall names for suggestions, from the table in units.c. */
static const char *const *syscall_names(void)
{
	static const char *names[1024];

	if (!names[0])
		fill_names(names, ARRAY_SIZE(names), fl_syscall_name, 1024);
	return names;
}

/*
 * s names no KIND: say so, with the nearest of names when one is near;
 * a number that did not parse is a bad value (why) when numbers is set.
 */
static int unknown(const struct fl_node *v, const char *what,
		   const char *kind, const char *s, const char *const *names,
		   bool numbers, const char *why, struct fl_diag *d)
{
	const char *hint = fl_did_you_mean(s, names);
	char q[64];

	if (hint)
		fl_diag_err(d, v, "%s: unknown %s '%s' (did you mean '%s'?)",
			    what, kind, fl_quote(s, q, sizeof(q)), hint);
	else if (numbers && *s >= '0' && *s <= '9')
		bad(v, what, kind, s, why, d);
	else
		fl_diag_err(d, v, "%s: unknown %s '%s'", what, kind,
			    fl_quote(s, q, sizeof(q)));
	return -EINVAL;
}

/* A scalar that names one of a table's entries: an errno, a syscall. */
struct named_kind {
	const char *kind;		/* "errno" */
	const char *expect;		/* "an errno name like EIO" */
	int (*parse)(const char *s, int *out, const char **why);
	const char *const *(*names)(void);
	bool numbers;			/* a number is a value too */
};

static int get_named(const struct fl_node *v, const char *what,
		     const struct named_kind *k, int *out, struct fl_diag *d)
{
	const char *s = scalar_of(v, what, k->expect, d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (!k->parse(s, out, &why))
		return 0;
	return unknown(v, what, k->kind, s, k->names(), k->numbers, why, d);
}

static const struct named_kind errno_kind = {
	"errno", "an errno name like EIO", fl_parse_errno, errno_names, true,
};
static const struct named_kind syscall_kind = {
	"syscall", "a syscall name like openat", fl_parse_syscall,
	syscall_names, false,
};

int fl_get_errno(const struct fl_node *v, const char *what, int *err,
		 struct fl_diag *d)
{
	return get_named(v, what, &errno_kind, err, d);
}

int fl_get_syscall(const struct fl_node *v, const char *what, int *nr,
		   struct fl_diag *d)
{
	return get_named(v, what, &syscall_kind, nr, d);
}

int fl_get_cidr(const struct fl_node *v, const char *what,
		struct fl_cidr *out, struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "an address like 10.0.0.1 or "
				  "10.0.2.0/24", d);
	const char *why = NULL;
	char q[64], net[INET6_ADDRSTRLEN + 8];
	struct fl_cidr c;

	if (!s)
		return -EINVAL;
	if (!fl_parse_cidr(s, &c, &why)) {
		*out = c;
		return 0;
	}
	if (c.family && why && !strcmp(why, "host bits set") &&
	    !fl_cidr_str(&c, net, sizeof(net))) {
		fl_diag_err(d, v, "%s: bad address '%s': host bits set, did "
			    "you mean %s?", what, fl_quote(s, q, sizeof(q)),
			    net);
		return -EINVAL;
	}
	return bad(v, what, "address", s, why, d);
}

void fl_strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int fl_get_strv(const struct fl_node *v, const char *what, char ***out,
		size_t *n, struct fl_diag *d)
{
	const struct fl_node *const *items;
	const struct fl_node *one[1];
	size_t count, i;
	char **r;
	int err = 0;

	*out = NULL;
	if (n)
		*n = 0;
	if (v && v->type == FL_NODE_SEQ) {
		items = (const struct fl_node *const *)v->items;
		count = v->n;
	} else if (v && v->type == FL_NODE_SCALAR && !fl_node_is_null(v)) {
		one[0] = v;
		items = one;
		count = 1;
	} else {
		fl_diag_err(d, v, "%s: expected a list of strings, got %s",
			    what, fl_node_desc(v));
		return -EINVAL;
	}
	r = calloc(count + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		const struct fl_node *it = items[i];

		if (!it || it->type != FL_NODE_SCALAR || fl_node_is_null(it)) {
			fl_diag_err(d, it ? it : v, "%s: item %zu: expected a "
				    "string, got %s", what, i + 1,
				    fl_node_desc(it));
			err = -EINVAL;
			continue;
		}
		if (err)
			continue;
		r[i] = strdup(it->scalar);
		if (!r[i])
			err = -ENOMEM;
	}
	if (err) {
		for (i = 0; i < count; i++)
			free(r[i]);
		free(r);
		return err;
	}
	*out = r;
	if (n)
		*n = count;
	return 0;
}

size_t fl_node_count(const struct fl_node *v)
{
	return v->type == FL_NODE_SEQ ? v->n : 1;
}

const struct fl_node *fl_node_item(const struct fl_node *v, size_t i)
{
	return v->type == FL_NODE_SEQ ? v->items[i] : v;
}
