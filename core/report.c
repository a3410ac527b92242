// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one reporting layer: messages for people on stderr/stdout, JSON for
 * machines with --json.  Commands build a json_object for their result and
 * either print it (--json) or render it for people.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/faultline.h"

bool fl_json_output;
bool fl_quiet;

static void __attribute__((format(printf, 3, 0)))
vmsg(FILE *out, const char *prefix, const char *fmt, va_list ap)
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

json_object *fl_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *fl_json_str(json_object *o, const char *key, const char *def)
{
	json_object *v = fl_json_get(o, key);

	return v && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : def;
}

const char *fl_json_text(json_object *o, const char *key)
{
	json_object *v = fl_json_get(o, key);

	return v ? json_object_get_string(v) : NULL;
}

bool fl_json_num(json_object *o, const char *key, double *d)
{
	json_object *v = fl_json_get(o, key);

	if (!v || (!json_object_is_type(v, json_type_double) &&
		   !json_object_is_type(v, json_type_int)))
		return false;
	*d = json_object_get_double(v);
	return true;
}

void fl_json_add_uniq(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (!strcmp(json_object_get_string(
				json_object_array_get_idx(arr, i)), s))
			return;
	json_object_array_add(arr, json_object_new_string(s));
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

/* n decimal digits at *p, advanced; -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* RFC 3339: 2026-11-28T12:00:00[.123456789](Z|+01:00). */
static int parse_rfc3339(const char *s, int64_t *ns, const char **why)
{
	static const char want[] = "expected RFC 3339 like "
		"2026-11-28T12:00:00Z or +30s";
	struct tm tm = { 0 }, chk;
	const char *p = s;
	int64_t frac = 0, scale = NSEC_PER_SEC, off = 0;
	int y, mo, d, h, mi, se, oh, om;
	time_t t;

	y = digits(&p, 4);
	if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0 || (*p != 'T' && *p != 't') ||
	    (p++, h = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (se = digits(&p, 2)) < 0) {
		*why = want;
		return -EINVAL;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9') {
			*why = "expected digits after the decimal point";
			return -EINVAL;
		}
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale >= 10) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		oh = digits(&p, 2);
		if (oh < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 ||
		    oh > 23 || om > 59) {
			*why = "expected a UTC offset like +01:00";
			return -EINVAL;
		}
		off = sign * (oh * 3600 + om * 60);
	} else {
		*why = "expected Z or a UTC offset like +01:00 after the time";
		return -EINVAL;
	}
	if (*p) {
		*why = "unexpected characters after the time";
		return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) {
		*why = "no such date or time";
		return -EINVAL;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises: 2026-02-30 would become March 2. */
	if (t == (time_t)-1 || !gmtime_r(&t, &chk) || chk.tm_mday != d ||
	    chk.tm_mon != mo - 1) {
		*why = "no such date";
		return -EINVAL;
	}
	*ns = ((int64_t)t - off) * (int64_t)NSEC_PER_SEC + frac;
	return 0;
}

int fl_parse_start_at(const char *s, int64_t now_ns, int64_t *at_ns,
		      char *why, size_t len)
{
	const int64_t day = 24 * 3600 * (int64_t)NSEC_PER_SEC;
	const char *w = NULL;
	uint64_t rel;
	int64_t at;
	int ret;

	if (!s || !*s) {
		snprintf(why, len, "expected a time, like +30s or "
			 "2026-11-28T12:00:00Z");
		return -EINVAL;
	}
	if (*s == '+') {
		ret = fl_parse_duration(s + 1, &rel, &w);
		if (ret) {
			snprintf(why, len, "%s", w ? w : "bad duration");
			return ret;
		}
		if (rel > (uint64_t)day) {
			snprintf(why, len, "more than 24h ahead");
			return -ERANGE;
		}
		at = now_ns + (int64_t)rel;
	} else {
		ret = parse_rfc3339(s, &at, &w);
		if (ret) {
			snprintf(why, len, "%s", w);
			return ret;
		}
	}
	if (at < now_ns - (int64_t)NSEC_PER_SEC) {
		snprintf(why, len, "%.3fs in the past",
			 (double)(now_ns - at) / NSEC_PER_SEC);
		return -ERANGE;
	}
	if (at > now_ns + day) {
		snprintf(why, len, "more than 24h ahead (in %.0fs)",
			 (double)(at - now_ns) / NSEC_PER_SEC);
		return -ERANGE;
	}
	*at_ns = at;
	return 0;
}
