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

int fl_get_duration(const struct fl_node *v, const char *what, uint64_t *ns,
		    struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a duration like 250ms", d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (fl_parse_duration(s, ns, &why))
		return bad(v, what, "duration", s, why, d);
	return 0;
}

int fl_get_size(const struct fl_node *v, const char *what, uint64_t *bytes,
		struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a size like 64M", d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (fl_parse_size(s, bytes, &why))
		return bad(v, what, "size", s, why, d);
	return 0;
}

int fl_get_percent(const struct fl_node *v, const char *what, double *pct,
		   struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a percentage like 2.5%", d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (fl_parse_percent(s, pct, &why))
		return bad(v, what, "percentage", s, why, d);
	return 0;
}

int fl_get_rate(const struct fl_node *v, const char *what, uint64_t *bps,
		struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a rate like 10mbit", d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (fl_parse_rate(s, bps, &why))
		return bad(v, what, "rate", s, why, d);
	return 0;
}

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

int fl_get_bool(const struct fl_node *v, const char *what, bool *out,
		struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "true or false", d);
	const char *why = NULL;

	if (!s)
		return -EINVAL;
	if (fl_parse_bool(s, out, &why))
		return bad(v, what, "boolean", s, why, d);
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

/* Every errno name, built once, for suggestions. */
static const char *const *errno_names(void)
{
	static const char *names[4096 + 4];
	static bool done;
	size_t n = 0;
	int e;

	if (done)
		return names;
	for (e = 1; e <= 4095 && n + 1 < ARRAY_SIZE(names); e++) {
		const char *s = fl_errno_name(e);

		if (s)
			names[n++] = s;
	}
	names[n] = NULL;
	done = true;
	return names;
}

int fl_get_errno(const struct fl_node *v, const char *what, int *err,
		 struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "an errno name like EIO", d);
	const char *why = NULL, *hint;
	char q[64];

	if (!s)
		return -EINVAL;
	if (!fl_parse_errno(s, err, &why))
		return 0;
	hint = fl_did_you_mean(s, errno_names());
	if (hint)
		fl_diag_err(d, v, "%s: unknown errno '%s' (did you mean "
			    "'%s'?)", what, fl_quote(s, q, sizeof(q)), hint);
	else if (*s >= '0' && *s <= '9')
		bad(v, what, "errno", s, why, d);
	else
		fl_diag_err(d, v, "%s: unknown errno '%s'", what,
			    fl_quote(s, q, sizeof(q)));
	return -EINVAL;
}

/* Syscall names for suggestions, from the table in units.c. */
static const char *const *syscall_names(void)
{
	static const char *names[1024];
	static bool done;
	size_t n = 0;
	int nr;

	if (done)
		return names;
	for (nr = 0; nr < 1024 && n + 1 < ARRAY_SIZE(names); nr++) {
		const char *s = fl_syscall_name(nr);

		if (s)
			names[n++] = s;
	}
	names[n] = NULL;
	done = true;
	return names;
}

int fl_get_syscall(const struct fl_node *v, const char *what, int *nr,
		   struct fl_diag *d)
{
	const char *s = scalar_of(v, what, "a syscall name like openat", d);
	const char *why = NULL, *hint;
	char q[64];

	if (!s)
		return -EINVAL;
	if (!fl_parse_syscall(s, nr, &why))
		return 0;
	hint = fl_did_you_mean(s, syscall_names());
	if (hint)
		fl_diag_err(d, v, "%s: unknown syscall '%s' (did you mean "
			    "'%s'?)", what, fl_quote(s, q, sizeof(q)), hint);
	else
		fl_diag_err(d, v, "%s: unknown syscall '%s'", what,
			    fl_quote(s, q, sizeof(q)));
	return -EINVAL;
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
