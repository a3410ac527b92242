// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner's events: what happens in a drill, as people read it
 * ("[+1.234s] fault x: applied (netem)"), as --json gives it (a JSON
 * line each) and in the live view on a terminal; and the run state of a
 * fault, which the live view shows as it changes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runner.h"

uint64_t run_rel(const struct runner *r)
{
	return fl_now_ns() - r->t0;
}

/* Redraw the live view, when there is one (counting down to --start-at). */
void run_live_draw(struct runner *r)
{
	char at[80], tbuf[40];

	if (!r->live)
		return;
	if (fl_countdown.waiting) {
		snprintf(at, sizeof(at), "at %s (Ctrl-C: cancel)",
			 fl_fmt_time(fl_countdown.start_at_ns, tbuf,
				     sizeof(tbuf)));
		fl_live_draw(r->live, fl_wall_ns() - fl_countdown.start_at_ns,
			     r->duration, at);
	} else {
		fl_live_draw(r->live, (int64_t)run_rel(r), r->duration,
			     r->stop == STOP_NONE ? "running" : "reverting");
	}
}

/* Seconds as a JSON number with digits decimals (3 or 6), printed so. */
static json_object *jsec(uint64_t ns, int digits)
{
	uint64_t unit = digits == 6 ? NSEC_PER_USEC : NSEC_PER_MSEC;
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu.%0*llu",
		 (unsigned long long)(ns / NSEC_PER_SEC), digits,
		 (unsigned long long)(ns % NSEC_PER_SEC / unit));
	return json_object_new_double_s((double)ns / NSEC_PER_SEC, buf);
}

json_object *run_jsec(uint64_t ns)
{
	return jsec(ns, 3);
}

/* Seconds with microseconds, the unit of the report's times. */
json_object *run_jsec_us(uint64_t ns)
{
	return jsec(ns, 6);
}

json_object *run_ev(const char *event)
{
	json_object *o = json_object_new_object();

	fl_json_add_str(o, "event", event);
	return o;
}

void run_ev_str(json_object *o, const char *key, const char *val)
{
	if (val)
		fl_json_add_str(o, key, val);
}

char *run_fmt_rel(uint64_t t, char *buf, size_t len)
{
	snprintf(buf, len, "+%llu.%03llus",
		 (unsigned long long)(t / NSEC_PER_SEC),
		 (unsigned long long)(t % NSEC_PER_SEC / NSEC_PER_MSEC));
	return buf;
}

/*
 * An event: "t" counts from the timeline's start, so what comes before it
 * (the start, the checks, a countdown) is at 0; "time" is the wall clock.
 */
void run_emit(struct runner *r, json_object *ev, const char *fmt, ...)
{
	uint64_t now = run_rel(r), t = r->started ? now : 0;
	char tbuf[40], *text;
	va_list ap;
	int n;

	if (r->quiet)
		goto out;
	if (r->json) {
		json_object_object_add(ev, "t", run_jsec(t));
		run_ev_str(ev, "time", fl_fmt_time(r->wall0 + now, tbuf,
						   sizeof(tbuf)));
		puts(json_object_to_json_string_ext(ev,
			JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
		goto out_flush;
	}
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	run_fmt_rel(t, tbuf, sizeof(tbuf));
	if (r->live) {
		char *line;

		if (asprintf(&line, "[%s] %s", tbuf, text) >= 0) {
			fl_live_event(r->live, line);
			free(line);
		}
		run_live_draw(r);
	} else {
		printf("[%s] %s\n", tbuf, text);
	}
	free(text);
out_flush:
	fflush(stdout);
out:
	json_object_put(ev);
}

const char *fl_fault_state_name(enum fl_fault_state s)
{
	static const char *const names[] = {
		[FL_FAULT_PENDING] = "pending", [FL_FAULT_ACTIVE] = "active",
		[FL_FAULT_REVERTED] = "reverted", [FL_FAULT_SKIPPED] = "skipped",
		[FL_FAULT_FAILED] = "failed",
	};

	return fl_enum_name(names, ARRAY_SIZE(names), s, "?");
}

const char *run_mechanism(const struct runner *r, size_t i)
{
	json_object *m;

	if (r->fr[i].info && json_object_object_get_ex(r->fr[i].info,
						       "mechanism", &m))
		return json_object_get_string(m);
	return r->fr[i].f->engine->name;
}

/* A fault's state changes: the live view shows it at once. */
void run_set_state(struct runner *r, size_t i, enum fl_fault_state st)
{
	r->fr[i].state = st;
	fl_live_fault(r->live, i, st, r->fr[i].detail);
}

/* Why a fault failed or was skipped; the last call wins. */
void run_set_detail(struct runner *r, size_t i, const char *fmt, ...)
{
	struct fault_run *fr = &r->fr[i];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	free(fr->detail);
	fr->detail = s;
	fl_live_fault(r->live, i, fr->state, s);
}


const char *run_occ_label(const struct runner *r, size_t i, char *buf,
			  size_t len)
{
	const struct fault_run *fr = &r->fr[i];

	if (!fr->f->repeat.on)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "occurrence %zu/%zu", fr->cur + 1,
			 fr->nocc);
	return buf;
}

void run_ev_occ(const struct runner *r, size_t i, json_object *ev)
{
	const struct fault_run *fr = &r->fr[i];

	if (!fr->f->repeat.on)
		return;
	json_object_object_add(ev, "occurrence",
			       json_object_new_int((int)fr->cur + 1));
	json_object_object_add(ev, "occurrences",
			       json_object_new_int((int)fr->nocc));
}
