// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one reporting layer: messages for people on stderr/stdout, JSON for
 * machines with --json.  Commands build a json_object for their result and
 * either print it (--json) or render it for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/faultline.h"

bool fl_json_output;
bool fl_quiet;

static void vmsg(FILE *out, const char *prefix, const char *fmt, va_list ap)
{
	fprintf(out, "faultline: %s", prefix);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
}

void fl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "error: ", fmt, ap);
	va_end(ap);
}

void fl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "warning: ", fmt, ap);
	va_end(ap);
}

void fl_info(const char *fmt, ...)
{
	va_list ap;

	if (fl_json_output || fl_quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void fl_print_json(json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

uint64_t fl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t fl_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * (int64_t)NSEC_PER_SEC + ts.tv_nsec;
}

char *fl_fmt_time(int64_t wall_ns, char *buf, size_t len)
{
	time_t sec = wall_ns / (int64_t)NSEC_PER_SEC;
	struct tm tm;
	char tmp[32];

	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", tmp,
		 (int)((wall_ns % (int64_t)NSEC_PER_SEC) / (int64_t)NSEC_PER_MSEC));
	return buf;
}
