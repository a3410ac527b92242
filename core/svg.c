// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report's timeline picture: an SVG drawn from the JSON report alone
 * (so "faultline report FILE.json --svg OUT" redraws an old one).  One
 * lane per fault, its bar from applied to reverted (a skipped or failed
 * fault shows its planned span, hatched grey or red; a fault that repeats
 * has a bar per occurrence, a pending one hatched); one lane per probe,
 * a tick per result, failures red; markers for each OOM kill and the first
 * syscall injection; the time axis in seconds.  A fault that ran has its
 * planned window as a thin strip above its bar (amber when it was applied
 * late); a steady-state probe's expected failures are amber ticks; a
 * legend under the axis says what each colour and mark means (each
 * engine's colour from its ops table).  Plain SVG 1.1, no script, so any
 * browser shows it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/faultline.h"

#define SVG_W		960
#define SVG_LEFT	190	/* the lane labels */
#define SVG_RIGHT	30
#define SVG_TOP		56
#define SVG_LANE	30
#define SVG_BAR		16

static void xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			/* XML 1.0 allows no other control characters. */
			if ((unsigned char)*s < 0x20 && *s != '\t' &&
			    *s != '\n')
				fputc(' ', out);
			else
				fputc(*s, out);
		}
	}
}

/* A number, or def when missing or null. */
static double get_num(json_object *o, const char *key, double def)
{
	double d;

	return fl_json_num(o, key, &d) ? d : def;
}

/* "2026-11-28T09:06:07.110Z" as seconds since the epoch, or NAN. */
static double parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	double frac = 0;

	if (!s)
		return NAN;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return NAN;
	if (*p == '.') {
		double scale = 0.1;

		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p != 'Z')
		return NAN;
	return (double)timegm(&tm) + frac;
}

static const char *engine_color(const char *engine)
{
	const struct fl_engine *e = fl_engine_find(engine);

	return e && e->color ? e->color : "#7f8c8d";
}

struct scale {
	double span;		/* seconds shown */
	double px;		/* pixels a second */
	double off;		/* added to a lane's times (merge: the host's
				 * start after the common base) */
};

static double xat(const struct scale *sc, double t)
{
	t += sc->off;
	if (t < 0)
		t = 0;
	if (t > sc->span)
		t = sc->span;
	return SVG_LEFT + t * sc->px;
}

/* A tick step giving at most about 12 ticks. */
static double tick_step(double span)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300,
					 600, 900, 1800, 3600 };
	double hours;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steps); i++)
		if (span / steps[i] <= 12)
			return steps[i];
	/* Whole hours, rounded up, without libm. */
	hours = (double)(long long)(span / 12 / 3600);
	if (hours * 12 * 3600 < span)
		hours += 1;
	return hours * 3600;
}

static void label(FILE *out, double y, const char *name, const char *sub)
{
	fprintf(out, "<text class=\"lane\" x=\"%d\" y=\"%.1f\">", SVG_LEFT - 10,
		y + 4);
	xml_text(out, name);
	fputs("</text>\n", out);
	if (sub) {
		fprintf(out, "<text class=\"sub\" x=\"%d\" y=\"%.1f\">",
			SVG_LEFT - 10, y + 15);
		xml_text(out, sub);
		fputs("</text>\n", out);
	}
}

/* A marker: a diamond (kind "injection") or a cross ("oom-kill"). */
static void marker(FILE *out, const struct scale *sc, double t, double y,
		   const char *kind, const char *what)
{
	double x = xat(sc, t);

	fprintf(out, "<g class=\"marker %s\" data-t=\"%.3f\">", kind, t);
	if (!strcmp(kind, "oom-kill"))
		fprintf(out, "<path d=\"M%.1f %.1fl12 12m0 -12l-12 12\" "
			"stroke=\"#c0392b\" stroke-width=\"3\"/>",
			x - 6, y - 6);
	else
		fprintf(out, "<path d=\"M%.1f %.1fl7 7l-7 7l-7 -7z\" "
			"fill=\"#f1c40f\" stroke=\"#333\"/>", x, y - 7);
	fputs("<title>", out);
	xml_text(out, what);
	fprintf(out, " at +%.3fs</title></g>\n", t);
}

/* A fault's span: one bar, or an occurrence's of a fault that repeats. */
struct bar {
	const char *name, *engine, *mech;
	const char *state, *detail;
	double at, dur;		/* planned; dur < 0: to the end */
	double a, r;		/* applied, reverted; < 0: not */
	int occ, nocc;		/* 1-based occurrence, of nocc; 0: none */
	json_object *window;	/* planned and actual (the report's) */
};

/*
 * The planned window of a bar that ran, drawn as a thin strip just above
 * the actual one, so that a fault applied late (or cut short) shows how
 * much of its window it lost; amber when the run warned that it did.
 */
static void planned_strip(FILE *out, const struct scale *sc,
			  const struct bar *b, double y)
{
	const char *warn = fl_json_str(b->window, "warning", NULL);
	double from = get_num(b->window, "planned_from", b->at);
	double until = get_num(b->window, "planned_until",
			       b->dur >= 0 ? b->at + b->dur : sc->span);
	double x0 = xat(sc, from), x1 = xat(sc, until);

	if (b->a < 0)
		return;
	if (x1 - x0 < 2)
		x1 = x0 + 2;
	fputs("<g class=\"planned", out);
	if (warn)
		fputs(" late", out);
	fputs("\" data-name=\"", out);
	xml_text(out, b->name);
	if (b->occ)
		fprintf(out, "\" data-occurrence=\"%d", b->occ);
	fprintf(out, "\" data-from=\"%.3f\" data-until=\"%.3f\">"
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"3\" "
		"fill=\"%s\"><title>", from, until, x0, y - SVG_BAR / 2.0 - 5,
		x1 - x0, warn ? "#f39c12" : "#95a5a6");
	xml_text(out, b->name);
	if (b->occ)
		fprintf(out, " %d/%d", b->occ, b->nocc);
	fprintf(out, ": planned +%.3fs..+%.3fs", from, until);
	if (warn) {
		fputs("; ", out);
		xml_text(out, warn);
	}
	fputs("</title></rect></g>\n", out);
}

static void fault_bar(FILE *out, const struct scale *sc, const struct bar *b,
		      double y)
{
	bool ran = b->a >= 0;
	double x0, x1;

	if (ran) {
		x0 = xat(sc, b->a);
		x1 = xat(sc, b->r >= 0 ? b->r : sc->span);
	} else {
		x0 = xat(sc, b->at);
		x1 = xat(sc, b->dur >= 0 ? b->at + b->dur : sc->span);
	}
	if (x1 - x0 < 3)
		x1 = x0 + 3;
	fprintf(out, "<g class=\"fault %s\" data-name=\"",
		b->state ? b->state : "");
	xml_text(out, b->name);
	if (b->occ)
		fprintf(out, "\" data-occurrence=\"%d", b->occ);
	fprintf(out, "\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		"height=\"%d\" rx=\"3\" ", x0, y - SVG_BAR / 2.0, x1 - x0,
		SVG_BAR);
	if (ran)
		fprintf(out, "fill=\"%s\"", engine_color(b->engine));
	else if (b->state && (!strcmp(b->state, "skipped") ||
			      (b->occ && !strcmp(b->state, "pending"))))
		fputs("fill=\"url(#hatch)\" stroke=\"#95a5a6\" "
		      "stroke-dasharray=\"4 3\"", out);
	else
		fputs("fill=\"url(#hatch-red)\" stroke=\"#c0392b\"", out);
	fputs("><title>", out);
	xml_text(out, b->name);
	if (b->occ)
		fprintf(out, " %d/%d", b->occ, b->nocc);
	fputs(" (", out);
	xml_text(out, b->engine);
	fputs("): ", out);
	xml_text(out, b->state);
	if (ran) {
		fprintf(out, ", applied +%.3fs", b->a);
		if (b->r >= 0)
			fprintf(out, ", reverted +%.3fs", b->r);
	} else if (b->occ) {
		fprintf(out, ", planned +%.3fs", b->at);
	}
	if (b->mech) {
		fputs(", ", out);
		xml_text(out, b->mech);
	}
	if (b->detail) {
		fputs(": ", out);
		xml_text(out, b->detail);
	}
	fputs("</title></rect>", out);
	if (!ran && b->state && !b->occ) {
		fprintf(out, "<text class=\"state\" x=\"%.1f\" y=\"%.1f\">",
			x0 + 4, y + 4);
		xml_text(out, b->state);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
}

/* The first syscall injection and the OOM kill an observe gives. */
static void fault_markers(FILE *out, const struct scale *sc,
			  json_object *obs, double a, double y, double started)
{
	json_object *ev, *victim;

	/* The first syscall injection. */
	ev = fl_json_get(obs, "first_events");
	if (ev && json_object_is_type(ev, json_type_array) &&
	    json_object_array_length(ev) > 0 && !isnan(started)) {
		json_object *e = json_object_array_get_idx(ev, 0);
		double t = parse_time(fl_json_str(e, "time", NULL)) - started;
		char what[160];

		if (!isnan(t)) {
			snprintf(what, sizeof(what),
				 "first injection: %s -> %s (pid %.0f %s)",
				 fl_json_str(e, "call", "?"),
				 fl_json_str(e, "errno", "?"),
				 get_num(e, "pid", 0),
				 fl_json_str(e, "comm", ""));
			marker(out, sc, t, y, "injection", what);
		}
	}
	/* The OOM kill. */
	victim = fl_json_get(obs, "victim");
	if (victim && json_object_is_type(victim, json_type_object) && a >= 0) {
		double ms = get_num(obs, "squeeze_to_kill_ms", -1);
		char what[160];

		snprintf(what, sizeof(what), "OOM kill: pid %.0f %s (%s)%s",
			 get_num(victim, "pid", 0),
			 fl_json_str(victim, "comm", ""),
			 fl_json_str(victim, "signal", "?"),
			 fl_json_get(obs, "proven") &&
			 json_object_get_boolean(fl_json_get(obs, "proven")) ?
			 ", proven" : "");
		marker(out, sc, ms >= 0 ? a + ms / 1000 : a, y, "oom-kill",
		       what);
	}
}

/*
 * A fault's lane: its bar, or one bar per occurrence of a fault that
 * repeats (its "occurrences"), with the markers of each.
 */
static void fault_lane(FILE *out, const struct scale *sc, json_object *f,
		       double y, double started)
{
	json_object *occ = fl_json_get(f, "occurrences"), *o;
	struct bar b = {
		.name = fl_json_str(f, "name", "?"),
		.engine = fl_json_str(f, "engine", NULL),
		.mech = fl_json_str(f, "mechanism", NULL),
		.state = fl_json_str(f, "state", NULL),
		.detail = fl_json_str(f, "detail", NULL),
		.at = get_num(f, "at", 0),
		.dur = get_num(f, "for", -1),
		.a = get_num(f, "applied_t", -1),
		.r = get_num(f, "reverted_t", -1),
		.window = fl_json_get(f, "window"),
	};
	size_t k, n;
	char sub[96];

	n = occ && json_object_is_type(occ, json_type_array) ?
	    json_object_array_length(occ) : 0;
	if (n)
		snprintf(sub, sizeof(sub), "%s, %s, %zu occurrences",
			 b.engine ? b.engine : "?", b.state ? b.state : "?",
			 n);
	else
		snprintf(sub, sizeof(sub), "%s, %s", b.engine ? b.engine : "?",
			 b.state ? b.state : "?");
	label(out, y, b.name, sub);
	if (!n) {
		planned_strip(out, sc, &b, y);
		fault_bar(out, sc, &b, y);
		fault_markers(out, sc, fl_json_get(f, "observed"), b.a, y,
			      started);
		return;
	}
	for (k = 0; k < n; k++) {
		o = json_object_array_get_idx(occ, k);
		b.occ = (int)k + 1;
		b.nocc = (int)n;
		b.state = fl_json_str(o, "state", NULL);
		b.detail = fl_json_str(o, "detail", NULL);
		b.at = get_num(o, "at", 0);
		b.dur = get_num(o, "until", b.at) - b.at;
		b.a = get_num(o, "applied_t", -1);
		b.r = get_num(o, "reverted_t", -1);
		b.window = fl_json_get(o, "window");
		planned_strip(out, sc, &b, y);
		fault_bar(out, sc, &b, y);
		fault_markers(out, sc, fl_json_get(o, "observed"), b.a, y,
			      started);
	}
}

static void probe_lane(FILE *out, const struct scale *sc, json_object *p,
		       double y)
{
	json_object *res = fl_json_get(p, "results");
	const char *name = fl_json_str(p, "name", NULL);
	char sub[96];
	size_t i, n;

	if (get_num(p, "unexpected", 0) > 0 &&
	    get_num(p, "unexpected", 0) != get_num(p, "failed", 0))
		snprintf(sub, sizeof(sub), "probe, %.0f/%.0f passed, %.0f not "
			 "as expected", get_num(p, "passed", 0),
			 get_num(p, "runs", 0), get_num(p, "unexpected", 0));
	else
		snprintf(sub, sizeof(sub), "probe, %.0f/%.0f passed",
			 get_num(p, "passed", 0), get_num(p, "runs", 0));
	label(out, y, name ? name : "?", sub);
	fprintf(out, "<line class=\"probe-lane\" x1=\"%d\" y1=\"%.1f\" "
		"x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", SVG_LEFT, y,
		SVG_W - SVG_RIGHT, y);
	n = res && json_object_is_type(res, json_type_array) ?
		json_object_array_length(res) : 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(res, i);
		json_object *pass = fl_json_get(e, "pass");
		json_object *as = fl_json_get(e, "as_expected");
		bool ok = pass && json_object_get_boolean(pass);
		/* Older reports have no as_expected: a pass is as expected. */
		bool met = as ? json_object_get_boolean(as) : ok;
		double t = get_num(e, "t", -1), x;
		const char *kind, *color;

		if (t < 0)
			continue;
		x = xat(sc, t);
		if (ok) {
			kind = "pass";
			color = met ? "#27ae60" : "#c0392b";
		} else if (met) {	/* a failure its phase expected */
			kind = "expected-fail";
			color = "#f39c12";
		} else {
			kind = "fail";
			color = "#e74c3c";
		}
		fprintf(out, "<line class=\"tick %s\" x1=\"%.1f\" y1=\"%.1f\" "
			"x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"%d\"><title>+%.3fs: %s%s (exit %.0f, "
			"%.0f ms%s)</title></line>\n", kind, x, y - 8, x, y + 8,
			color, ok && met ? 2 : 3, t, ok ? "pass" : "FAIL",
			!as ? "" : met ? ", as expected" : ", NOT as expected",
			get_num(e, "exit", -1), get_num(e, "duration_ms", 0),
			fl_json_get(e, "timeout") &&
			json_object_get_boolean(fl_json_get(e, "timeout")) ?
			", timed out" : "");
	}
}

/* The seconds a report's lanes need: elapsed, duration, planned spans. */
static double report_span(json_object *rep)
{
	json_object *faults = fl_json_get(rep, "faults");
	double span = get_num(rep, "elapsed", 0), end;
	size_t i, nf;

	end = get_num(fl_json_get(rep, "experiment"), "duration", 0);
	if (end > span)
		span = end;
	nf = faults && json_object_is_type(faults, json_type_array) ?
		json_object_array_length(faults) : 0;
	/* Planned spans of faults that never ran may reach further. */
	for (i = 0; i < nf; i++) {
		json_object *f = json_object_array_get_idx(faults, i);

		json_object *occ = fl_json_get(f, "occurrences");
		size_t n = occ && json_object_is_type(occ, json_type_array) ?
			   json_object_array_length(occ) : 0;

		end = get_num(f, "at", 0) + get_num(f, "for", 0);
		if (n)
			end = get_num(json_object_array_get_idx(occ, n - 1),
				      "until", end);
		if (end > span)
			span = end;
	}
	return span;
}

static size_t report_lanes(json_object *rep)
{
	json_object *faults = fl_json_get(rep, "faults");
	json_object *probes = fl_json_get(rep, "probes");

	return (faults && json_object_is_type(faults, json_type_array) ?
		json_object_array_length(faults) : 0) +
	       (probes && json_object_is_type(probes, json_type_array) ?
		json_object_array_length(probes) : 0);
}

static void svg_begin(FILE *out, int h, const char *name)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n",
		SVG_W, h, SVG_W, h);
	fputs("<title>faultline drill ", out);
	xml_text(out, name);
	fputs("</title>\n<defs>\n"
	      "<pattern id=\"hatch\" width=\"6\" height=\"6\" "
	      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	      "<rect width=\"6\" height=\"6\" fill=\"#f4f6f6\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bdc3c7\" "
	      "stroke-width=\"2\"/></pattern>\n"
	      "<pattern id=\"hatch-red\" width=\"6\" height=\"6\" "
	      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	      "<rect width=\"6\" height=\"6\" fill=\"#fdedec\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#e74c3c\" "
	      "stroke-width=\"2\"/></pattern>\n"
	      "<style>.lane{text-anchor:end;font-weight:bold}"
	      ".sub{text-anchor:end;fill:#777;font-size:10px}"
	      ".state{fill:#555;font-size:10px}"
	      ".hosthead{font-weight:bold;font-size:13px}"
	      ".axis text{text-anchor:middle;fill:#555}</style>\n"
	      "</defs>\n"
	      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", out);
}

/* The title line: "faultline drill NAME: verdict", and why it failed
 * when a probe's phase says ("probe api: expected to fail during cut"). */
static void svg_title(FILE *out, const char *name, const char *verdict,
		      const char *why)
{
	fputs("<text x=\"12\" y=\"22\" font-size=\"16\" font-weight=\"bold\">"
	      "faultline drill ", out);
	xml_text(out, name);
	fprintf(out, ": <tspan class=\"verdict\" fill=\"%s\">",
		verdict && !strcmp(verdict, "pass") ? "#27ae60" : "#c0392b");
	xml_text(out, verdict ? verdict : "?");
	fputs("</tspan>", out);
	if (why) {
		fputs("<tspan class=\"why\" font-size=\"12\" "
		      "font-weight=\"normal\" fill=\"#c0392b\"> ", out);
		xml_text(out, why);
		fputs("</tspan>", out);
	}
	fputs("</text>\n", out);
}

/* Grid and time axis, the grid from top down to the axis at y axis. */
static void svg_axis(FILE *out, const struct scale *sc0, int axis)
{
	struct scale sc = *sc0;
	double step, t;

	sc.off = 0;
	step = tick_step(sc.span);
	fprintf(out, "<g class=\"axis\">\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		"y2=\"%d\" stroke=\"#333\"/>\n", SVG_LEFT, axis,
		SVG_W - SVG_RIGHT, axis);
	for (t = 0; t <= sc.span + 1e-9; t += step) {
		double x = xat(&sc, t);

		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
			"y2=\"%d\" stroke=\"#eee\"/>"
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#333\"/><text x=\"%.1f\" y=\"%d\">%gs</text>\n",
			x, SVG_TOP - 14, x, axis, x, axis, x, axis + 5, x,
			axis + 18, t);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\">time (seconds)</text>\n</g>\n",
		SVG_LEFT + (SVG_W - SVG_LEFT - SVG_RIGHT) / 2, axis + 38);
}

/* ------------------------------------------------------------------ */
/* The legend under the axis: what each colour and mark means.         */

#define SVG_LEGEND_ROW	20
#define SVG_LEGEND_MAX	16	/* engines named */

enum swatch {
	SW_BAR, SW_PLANNED, SW_LATE, SW_HATCH, SW_HATCH_RED, SW_TICK,
	SW_OOM, SW_INJECTION,
};

/* Laid out left to right, wrapping; out NULL only measures. */
struct legend {
	FILE *out;
	double x, y;
	int rows;
};

static void swatch(FILE *out, enum swatch sw, const char *color, double x,
		   double y)
{
	switch (sw) {
	case SW_BAR:
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" "
			"height=\"10\" rx=\"2\" fill=\"%s\"/>", x, y - 5,
			color);
		break;
	case SW_PLANNED:
	case SW_LATE:
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" "
			"height=\"3\" fill=\"%s\"/>", x, y - 1.5,
			sw == SW_LATE ? "#f39c12" : "#95a5a6");
		break;
	case SW_HATCH:
	case SW_HATCH_RED:
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" "
			"height=\"10\" fill=\"url(#%s)\" stroke=\"%s\"/>", x,
			y - 5, sw == SW_HATCH ? "hatch" : "hatch-red",
			sw == SW_HATCH ? "#95a5a6" : "#c0392b");
		break;
	case SW_TICK:
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>",
			x + 8, y - 7, x + 8, y + 7, color);
		break;
	case SW_OOM:
		fprintf(out, "<path d=\"M%.1f %.1fl10 10m0 -10l-10 10\" "
			"stroke=\"#c0392b\" stroke-width=\"3\"/>", x + 3, y - 5);
		break;
	case SW_INJECTION:
		fprintf(out, "<path d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" "
			"fill=\"#f1c40f\" stroke=\"#333\"/>", x + 8, y - 6);
		break;
	}
}

static void legend_item(struct legend *lg, enum swatch sw, const char *color,
			const char *text)
{
	double w = 22 + strlen(text) * 6.6 + 16;

	if (lg->x + w > SVG_W - SVG_RIGHT && lg->x > 12) {
		lg->x = 12;
		lg->y += SVG_LEGEND_ROW;
		lg->rows++;
	}
	if (lg->out) {
		fprintf(lg->out, "<g class=\"legend-item\" data-swatch=\"%d\">",
			sw);
		swatch(lg->out, sw, color, lg->x, lg->y);
		fprintf(lg->out, "<text x=\"%.1f\" y=\"%.1f\">", lg->x + 22,
			lg->y + 4);
		xml_text(lg->out, text);
		fputs("</text></g>\n", lg->out);
	}
	lg->x += w;
}

/* The engines of the reports' faults, in order, each once. */
static size_t legend_engines(json_object *const *reps, size_t n,
			     const char **names)
{
	size_t i, k, j, ne = 0;

	for (i = 0; i < n; i++) {
		json_object *faults = fl_json_get(reps[i], "faults");
		size_t nf = faults && json_object_is_type(faults,
							  json_type_array) ?
			    json_object_array_length(faults) : 0;

		for (k = 0; k < nf && ne < SVG_LEGEND_MAX; k++) {
			const char *e = fl_json_str(json_object_array_get_idx(
					faults, k), "engine", NULL);

			for (j = 0; e && j < ne && strcmp(names[j], e); j++)
				;
			if (e && j == ne)
				names[ne++] = e;
		}
	}
	return ne;
}

/*
 * The legend at y: each engine's colour (its ops table's color), the
 * planned window and a late one, skipped and failed faults, the probe
 * ticks, the OOM kill and injection markers.  The rows it takes.
 */
static int svg_legend(FILE *out, json_object *const *reps, size_t n, double y)
{
	struct legend lg = { .out = out, .x = 12, .y = y, .rows = 1 };
	const char *names[SVG_LEGEND_MAX];
	size_t i, ne = legend_engines(reps, n, names);

	if (out)
		fputs("<g class=\"legend\">\n", out);
	for (i = 0; i < ne; i++)
		legend_item(&lg, SW_BAR, engine_color(names[i]), names[i]);
	legend_item(&lg, SW_PLANNED, NULL, "planned window");
	legend_item(&lg, SW_LATE, NULL, "applied late (window lost)");
	legend_item(&lg, SW_HATCH, NULL, "skipped");
	legend_item(&lg, SW_HATCH_RED, NULL, "failed");
	legend_item(&lg, SW_TICK, "#27ae60", "probe passed");
	legend_item(&lg, SW_TICK, "#e74c3c", "probe failed");
	legend_item(&lg, SW_TICK, "#f39c12", "failed, as its phase expects");
	legend_item(&lg, SW_OOM, NULL, "OOM kill");
	legend_item(&lg, SW_INJECTION, NULL, "first syscall injection");
	if (out)
		fputs("</g>\n", out);
	return lg.rows;
}

/* A report's fault and probe lanes from y on; returns the y after them. */
static double svg_lanes(FILE *out, const struct scale *sc, json_object *rep,
			double y)
{
	json_object *faults = fl_json_get(rep, "faults");
	json_object *probes = fl_json_get(rep, "probes");
	double started = parse_time(fl_json_str(rep, "started", NULL));
	size_t nf, np, i;

	nf = json_object_array_length(faults);
	np = probes && json_object_is_type(probes, json_type_array) ?
		json_object_array_length(probes) : 0;
	for (i = 0; i < nf; i++, y += SVG_LANE)
		fault_lane(out, sc, json_object_array_get_idx(faults, i), y,
			   started);
	for (i = 0; i < np; i++, y += SVG_LANE)
		probe_lane(out, sc, json_object_array_get_idx(probes, i), y);
	return y;
}

int fl_report_svg(json_object *rep, FILE *out)
{
	json_object *faults = fl_json_get(rep, "faults");
	json_object *exp = fl_json_get(rep, "experiment");
	struct scale sc = { 0 };
	int h, axis;

	if (!rep || !json_object_is_type(rep, json_type_object) || !faults ||
	    !json_object_is_type(faults, json_type_array))
		return -EINVAL;
	sc.span = report_span(rep);
	if (sc.span <= 0)
		sc.span = 1;
	sc.px = (SVG_W - SVG_LEFT - SVG_RIGHT) / sc.span;
	axis = SVG_TOP + (int)report_lanes(rep) * SVG_LANE + 10;
	h = axis + 56 + svg_legend(NULL, &rep, 1, 0) * SVG_LEGEND_ROW;

	svg_begin(out, h, fl_json_str(exp, "name", NULL));
	svg_title(out, fl_json_str(exp, "name", NULL),
		  fl_json_str(rep, "verdict", NULL),
		  fl_json_str(rep, "verdict_detail", NULL));
	fputs("<text x=\"12\" y=\"40\" fill=\"#555\">started ", out);
	xml_text(out, fl_json_str(rep, "started", NULL));
	fprintf(out, ", %.1fs", get_num(rep, "elapsed", 0));
	if (fl_json_str(rep, "run", NULL)) {
		fputs(", run ", out);
		xml_text(out, fl_json_str(rep, "run", NULL));
	}
	fputs("</text>\n", out);
	svg_axis(out, &sc, axis);
	svg_lanes(out, &sc, rep, SVG_TOP);
	svg_legend(out, &rep, 1, axis + 60);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

#define SVG_HOST_HEAD	26	/* a host group's header row */

int fl_report_svg_merged(json_object *merged, FILE *out)
{
	json_object *hosts = fl_json_get(merged, "hosts"), **reps;
	struct scale sc = { 0 };
	size_t nh, i, lanes = 0;
	double y, end;
	int h, axis;

	if (!hosts || !json_object_is_type(hosts, json_type_array))
		return -EINVAL;
	nh = json_object_array_length(hosts);
	reps = calloc(nh + 1, sizeof(*reps));
	if (!reps)
		return -ENOMEM;
	for (i = 0; i < nh; i++) {
		json_object *hr = json_object_array_get_idx(hosts, i);
		json_object *rep = fl_json_get(hr, "report");

		if (!rep || !json_object_is_type(fl_json_get(rep, "faults"),
						 json_type_array)) {
			free(reps);
			return -EINVAL;
		}
		reps[i] = rep;
		end = get_num(hr, "offset", 0) + report_span(rep);
		if (end > sc.span)
			sc.span = end;
		lanes += report_lanes(rep);
	}
	if (sc.span <= 0)
		sc.span = 1;
	sc.px = (SVG_W - SVG_LEFT - SVG_RIGHT) / sc.span;
	axis = SVG_TOP + (int)(nh * SVG_HOST_HEAD + lanes * SVG_LANE) + 10;
	h = axis + 56 + svg_legend(NULL, reps, nh, 0) * SVG_LEGEND_ROW;

	svg_begin(out, h, fl_json_str(merged, "experiment", NULL));
	svg_title(out, fl_json_str(merged, "experiment", NULL),
		  fl_json_str(merged, "verdict", NULL), NULL);
	fprintf(out, "<text x=\"12\" y=\"40\" fill=\"#555\">%zu hosts, "
		"common time base ", nh);
	xml_text(out, fl_json_str(merged, "base", NULL));
	fputs("</text>\n", out);
	svg_axis(out, &sc, axis);

	y = SVG_TOP - 6;
	for (i = 0; i < nh; i++) {
		json_object *hr = json_object_array_get_idx(hosts, i);
		json_object *rep = fl_json_get(hr, "report");
		const char *v = fl_json_str(rep, "verdict", NULL);

		fputs("<g class=\"host\" data-host=\"", out);
		xml_text(out, fl_json_str(hr, "host", NULL));
		fputs("\">\n", out);
		fprintf(out, "<line x1=\"12\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"#bbb\"/>\n", y - 4, SVG_W - SVG_RIGHT, y - 4);
		fprintf(out, "<text class=\"hosthead\" x=\"12\" y=\"%.1f\">",
			y + 12);
		xml_text(out, fl_json_str(hr, "host", NULL));
		fprintf(out, " <tspan fill=\"%s\">",
			v && !strcmp(v, "pass") ? "#27ae60" : "#c0392b");
		xml_text(out, v ? v : "?");
		fprintf(out, "</tspan><tspan class=\"sub\" fill=\"#777\"> "
			"started +%.3fs</tspan></text>\n",
			get_num(hr, "offset", 0));
		sc.off = get_num(hr, "offset", 0);
		y = svg_lanes(out, &sc, rep, y + SVG_HOST_HEAD + 6) - 6;
		fputs("</g>\n", out);
	}
	svg_legend(out, reps, nh, axis + 60);
	free(reps);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

/* draw(o) into the file at path. */
static int svg_to_file(json_object *o, const char *path,
		       int (*draw)(json_object *, FILE *))
{
	FILE *out = fopen(path, "w");
	int ret;

	if (!out)
		return -errno;
	ret = draw(o, out);
	if (fclose(out) && !ret)
		ret = -errno;
	return ret;
}

int fl_report_svg_merged_file(json_object *merged, const char *path)
{
	return svg_to_file(merged, path, fl_report_svg_merged);
}

int fl_report_svg_file(json_object *rep, const char *path)
{
	return svg_to_file(rep, path, fl_report_svg);
}
