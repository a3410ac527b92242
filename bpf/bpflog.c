// SPDX-License-Identifier: GPL-2.0-only
/*
 * libbpf's messages while a program loads, kept for the one line that
 * tells a person why the kernel said no.  libbpf prints a refusal as
 *
 *   libbpf: prog 'sf_x': BPF program load failed: Permission denied
 *   libbpf: prog 'sf_x': -- BEGIN PROG LOAD LOG --
 *   ...the verifier's log, its reason last, then statistics...
 *   -- END PROG LOAD LOG --
 *   libbpf: prog 'sf_x': failed to load: -13
 *
 * so the reason is the verifier's last line before its statistics, and
 * the "load failed" line is the best first line when there is no log.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpf/bpflog.h"

#define LOG_BEGIN	"-- BEGIN PROG LOAD LOG --"
#define LOG_END		"-- END PROG LOAD LOG --"

static struct bpf_log *cur;

/* Keep the newest bytes of all: drop the oldest half when full. */
static void keep(struct bpf_log *l, const char *msg, size_t n)
{
	const size_t size = sizeof(l->all) - 1;

	if (n >= size) {
		msg += n - size;
		n = size;
		l->len = 0;
	} else if (l->len + n > size) {
		size_t k = l->len / 2;

		if (k + n > size)
			k = size - n;
		memmove(l->all, l->all + l->len - k, k);
		l->len = k;
	}
	memcpy(l->all + l->len, msg, n);
	l->len += n;
	l->all[l->len] = '\0';
}

/* A statistics line of the verifier's, which says nothing of the cause. */
static bool stats_line(const char *p)
{
	return !strncmp(p, "processed ", 10) ||
	       !strncmp(p, "verification time", 17) ||
	       !strncmp(p, "stack depth", 11);
}

/*
 * The verifier's reason in buf: the last line before LOG_END that is
 * neither blank nor statistics, and not before LOG_BEGIN.
 */
static void verifier_reason(struct bpf_log *l, const char *buf)
{
	const char *end = strstr(buf, LOG_END), *p, *q;

	if (!end)
		return;
	for (q = end; q > buf; q = p) {
		while (q > buf && (q[-1] == '\n' || q[-1] == ' '))
			q--;
		for (p = q; p > buf && p[-1] != '\n'; p--)
			;
		if (strstr(p, LOG_BEGIN) && strstr(p, LOG_BEGIN) < q)
			return;
		if (q > p && !stats_line(p)) {
			snprintf(l->verifier, sizeof(l->verifier), "%.*s",
				 (int)(q - p), p);
			return;
		}
	}
}

/* The first line of msg as l->first, preferring a "load failed" one. */
static void first_line(struct bpf_log *l, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (!n || strstr(msg, LOG_BEGIN))
		return;
	if (l->first[0] && (strstr(l->first, "load failed") ||
			    !memmem(msg, n, "load failed", 11)))
		return;
	snprintf(l->first, sizeof(l->first), "%.*s", (int)n, msg);
}

static int bpf_log_cb(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	struct bpf_log *l = cur;
	char *msg;
	int n;

	if (level == LIBBPF_DEBUG || !l)
		return 0;
	/* Whole: the verifier's log comes as one long message. */
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	first_line(l, msg);
	keep(l, msg, n);
	if (strstr(msg, LOG_END))
		verifier_reason(l, strstr(msg, LOG_BEGIN) ? msg : l->all);
	free(msg);
	return 0;
}

void bpf_log_begin(struct bpf_log *l)
{
	l->first[0] = '\0';
	l->verifier[0] = '\0';
	l->all[0] = '\0';
	l->len = 0;
	l->outer = cur;
	cur = l;
	l->old = (void *)libbpf_set_print(bpf_log_cb);
}

void bpf_log_end(struct bpf_log *l)
{
	libbpf_set_print((libbpf_print_fn_t)l->old);
	cur = l->outer;
}

const char *bpf_log_why(const struct bpf_log *l)
{
	if (l->verifier[0])
		return l->verifier;
	return l->first;
}
