// SPDX-License-Identifier: GPL-2.0-only
/*
 * A command in an experiment file (a probe's exec:, a command target's
 * command:): a list of strings, never one string that a shell would have
 * split.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/faultline.h"

/*
 * A command as a list (exec:, command:).  One string with spaces or shell
 * syntax would be run as a program of that whole name (exit 127 on every
 * run), so it is refused with the list form and the sh -c form.
 */
#define FL_SHELL_CHARS	" \t\n|&;<>()$`\\\"'*?[]#~{}"
#define FL_HINT_MAX	160

/*
 * s (n bytes) as a YAML flow item at buf + *o: plain when safe, else
 * double-quoted.  The bytes of s it took (fewer when buf is full).
 */
static size_t hint_item(char *buf, size_t len, size_t *o, const char *s,
		      size_t n, bool quote)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+=";
	size_t i;

	for (i = 0; i < n && !quote; i++)
		quote = !strchr(plain, s[i]);
	if (quote && *o + 1 < len)
		buf[(*o)++] = '"';
	for (i = 0; i < n && *o + 2 < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && *o + 3 < len)
			buf[(*o)++] = '\\';
		buf[(*o)++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	}
	if (quote && *o + 1 < len)
		buf[(*o)++] = '"';
	buf[*o] = '\0';
	return i;
}

/* "[curl, -fsS, "http://x/"]": the string split at its blanks. */
static void hint_split(const char *s, char *buf, size_t len)
{
	size_t o = 0, n;

	buf[o++] = '[';
	for (s += strspn(s, " \t\n"); *s && o + 8 < len;
	     s += strspn(s, " \t\n")) {
		n = strcspn(s, " \t\n");
		if (o > 1) {
			buf[o++] = ',';
			buf[o++] = ' ';
		}
		hint_item(buf, len - 4, &o, s, n, false);
		s += n;
	}
	if (*s)
		o += snprintf(buf + o, len - o, "...");
	snprintf(buf + o, len - o, "]");
}

int fl_get_argv(const struct fl_node *v, const char *what, char ***argv,
		size_t *argc, struct fl_diag *d)
{
	char list[FL_HINT_MAX], sh[FL_HINT_MAX], q[64];
	const char *s = v ? v->scalar : NULL;
	size_t o = 0, n;

	if (v && v->type == FL_NODE_SCALAR && !fl_node_is_null(v) &&
	    s[strcspn(s, FL_SHELL_CHARS)]) {
		/* Blanks alone split into a list; shell syntax needs sh. */
		if (s[strcspn(s, &FL_SHELL_CHARS[3])])
			snprintf(list, sizeof(list), "[program, arg, ...]");
		else
			hint_split(s, list, sizeof(list));
		n = hint_item(sh, sizeof(sh) - 4, &o, s, strlen(s), true);
		if (s[n])
			snprintf(sh + o, sizeof(sh) - o, "...");
		fl_diag_err(d, v, "%s: '%s' is one string, which would run a "
			    "program of that whole name; give a list: %s, or "
			    "[sh, -c, %s] for shell syntax", what,
			    fl_quote(s, q, sizeof(q)), list, sh);
		return -EINVAL;
	}
	return fl_get_strv(v, what, argv, argc, d);
}
