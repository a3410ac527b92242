// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drill's report: its verdict and exit status, the JSON report (the
 * document "faultline report" reads again), the SVG timeline next to it
 * and the summary lines under the events.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/runner.h"

static json_object *time_or_null(const struct runner *r, int64_t t)
{
	char buf[40];

	if (t < 0)
		return NULL;
	return json_object_new_string(fl_fmt_time(r->wall0 + t, buf,
						  sizeof(buf)));
}

static const char *verdict(const struct runner *r, int *code)
{
	size_t i, k;

	if (r->revert_failed) {
		*code = FL_EXIT_APPLY;
		return "revert-failed";
	}
	if (r->stop == STOP_APPLY) {
		*code = FL_EXIT_APPLY;
		return "apply-failed";
	}
	if (r->stop == STOP_SIGNAL) {
		*code = 128 + r->stop_sig;
		return "interrupted";
	}
	/* A probe run that did not do what its phase expects. */
	for (i = 0; i < r->exp->nprobes; i++)
		if (r->pr[i].unmet) {
			*code = FL_EXIT_EXPECT;
			return "fail";
		}
	/*
	 * An engine's own expectation (an oom fault that killed nothing),
	 * in any occurrence of a fault.
	 */
	for (i = 0; i < r->exp->nfaults; i++) {
		for (k = 0; k < r->fr[i].nocc; k++) {
			json_object *e, *met;

			e = fl_json_get(r->fr[i].occ[k].observed,
					"expectation");
			met = fl_json_get(e, "met");
			if (met && !json_object_get_boolean(met)) {
				*code = FL_EXIT_EXPECT;
				return "fail";
			}
		}
	}
	*code = FL_EXIT_OK;
	return "pass";
}

/* The SVG timeline next to the JSON report: x.json -> x.svg. */
static int write_svg(const char *json_path, char *buf, size_t len)
{
	size_t n = strlen(json_path);
	json_object *rep;
	int ret;

	if (n > 5 && !strcmp(json_path + n - 5, ".json"))
		n -= 5;
	if ((size_t)snprintf(buf, len, "%.*s.svg", (int)n, json_path) >= len)
		return -ENAMETOOLONG;
	/* From the file as written, so "faultline report --svg" redraws
	 * exactly this picture. */
	rep = json_object_from_file(json_path);
	ret = rep ? fl_report_svg_file(rep, buf) : -EIO;
	json_object_put(rep);
	if (ret)
		fl_warn("cannot write the timeline %s: %s", buf, strerror(-ret));
	return ret;
}

/* A time on the timeline: "x_at" (UTC) and "x_t" (seconds), or nulls. */
static void add_time(const struct runner *r, json_object *o, const char *key,
		     int64_t t)
{
	char k[32];

	snprintf(k, sizeof(k), "%s_at", key);
	json_object_object_add(o, k, time_or_null(r, t));
	snprintf(k, sizeof(k), "%s_t", key);
	json_object_object_add(o, k, t < 0 ? NULL : run_jsec_us(t));
}

/*
 * "lag": { "apply_us", "revert_us" }: how long after its planned instant
 * an occurrence took effect, and after its due end (for counted from the
 * apply, or the drill's end) it was reverted; null when it was not, or
 * when a stop, not the timeline, reverted it.
 */
static json_object *occ_lag(const struct occ_run *a, const struct occ_run *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "apply_us", a && a->applied_at >= 0 ?
		json_object_new_int64((a->applied_at -
				       (int64_t)a->plan.at) / 1000) : NULL);
	json_object_object_add(o, "revert_us", v && v->reverted_at >= 0 &&
			       v->due_end >= 0 ?
		json_object_new_int64((v->reverted_at - v->due_end) / 1000) :
		NULL);
	return o;
}

/* A fault's lag: its first apply's and its last revert's. */
static json_object *fault_lag(const struct fault_run *fr)
{
	const struct occ_run *a = NULL, *v = NULL;
	size_t k;

	for (k = 0; k < fr->nocc; k++) {
		if (!a && fr->occ[k].applied_at >= 0)
			a = &fr->occ[k];
		if (fr->occ[k].reverted_at >= 0)
			v = &fr->occ[k];
	}
	return occ_lag(a, v);
}

/* A repeating fault's repeat: and each occurrence's plan and times. */
static void report_occurrences(const struct runner *r, size_t i,
			       json_object *o)
{
	const struct fault_run *fr = &r->fr[i];
	const struct fl_repeat *rp = &fr->f->repeat;
	json_object *rep = json_object_new_object(), *arr, *x;
	size_t k;

	json_object_object_add(rep, "every", run_jsec(rp->every_ns));
	json_object_object_add(rep, "for", run_jsec(rp->for_ns));
	json_object_object_add(rep, "times", json_object_new_int(fr->nocc));
	json_object_object_add(rep, "jitter", run_jsec(rp->jitter_ns));
	json_object_object_add(o, "repeat", rep);
	arr = json_object_new_array();
	for (k = 0; k < fr->nocc; k++) {
		const struct occ_run *oc = &fr->occ[k];

		x = json_object_new_object();
		json_object_object_add(x, "occurrence",
				       json_object_new_int(k + 1));
		run_ev_str(x, "state", fl_fault_state_name(oc->state));
		json_object_object_add(x, "at", run_jsec(oc->plan.at));
		json_object_object_add(x, "until", run_jsec(oc->plan.end));
		json_object_object_add(x, "jitter", run_jsec(oc->plan.jitter));
		add_time(r, x, "applied", oc->applied_at);
		add_time(r, x, "reverted", oc->reverted_at);
		json_object_object_add(x, "lag", occ_lag(oc, oc));
		json_object_object_add(x, "detail", oc->detail ?
				       json_object_new_string(oc->detail) :
				       NULL);
		if (oc->err)
			run_ev_str(x, "error", strerror(-oc->err));
		if (oc->observed)
			json_object_object_add(x, "observed",
					       json_object_get(oc->observed));
		json_object_object_add(x, "window", run_window_json(r, oc));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "occurrences", arr);
}

/*
 * A fault in the report: the model, what happened, what was observed.
 * A fault that repeats has the same keys (applied: its first apply,
 * reverted: its last revert, observed: its last occurrence's), then
 * "repeat" and "occurrences".
 */
static json_object *report_fault(const struct runner *r, size_t i)
{
	const struct fault_run *fr = &r->fr[i];
	const struct fl_fault *f = fr->f;
	json_object *o = json_object_new_object(), *m;

	run_ev_str(o, "name", f->name);
	run_ev_str(o, "engine", f->engine->name);
	run_ev_str(o, "state", fl_fault_state_name(fr->state));
	json_object_object_add(o, "optional",
			       json_object_new_boolean(f->optional));
	json_object_object_add(o, "at", run_jsec(f->at_ns));
	json_object_object_add(o, "for", f->has_for ?
			       run_jsec(f->for_ns) : NULL);
	if (fr->info && json_object_object_get_ex(fr->info, "mechanism", &m))
		json_object_object_add(o, "mechanism", json_object_get(m));
	add_time(r, o, "applied", fr->applied_at);
	add_time(r, o, "reverted", fr->reverted_at);
	json_object_object_add(o, "lag", fault_lag(fr));
	json_object_object_add(o, "detail", fr->detail ?
			       json_object_new_string(fr->detail) : NULL);
	if (fr->err)
		run_ev_str(o, "error", strerror(-fr->err));
	if (fr->info && json_object_object_get_ex(fr->info, "observed", &m))
		json_object_object_add(o, "observed", json_object_get(m));
	if (f->repeat.on)
		report_occurrences(r, i, o);
	else
		json_object_object_add(o, "window",
				       run_window_json(r, &fr->occ[0]));
	return o;
}

/* A probe's expect: as the file gives it, phases and all. */
static json_object *report_expect(const struct runner *r,
				  const struct fl_probe *fp)
{
	const struct fl_steady *s = &fp->steady;
	json_object *o = json_object_new_object(), *dm;
	size_t k;

	json_object_object_add(o, "exit", json_object_new_int(fp->expect_exit));
	run_ev_str(o, "always", fl_expect_name(s->always));
	if (s->has_before)
		run_ev_str(o, "before", fl_expect_name(s->before));
	if (s->nduring) {
		dm = json_object_new_object();
		for (k = 0; k < s->nduring; k++)
			run_ev_str(dm, r->exp->faults[s->during[k].fault].name,
				   fl_expect_name(s->during[k].expect));
		json_object_object_add(o, "during", dm);
	}
	if (s->has_after)
		run_ev_str(o, "after", fl_expect_name(s->after));
	return o;
}

/*
 * Each phase of a probe: what it expected, its runs, whether they were
 * as expected, and that for people ("expected to fail during cut, but
 * passed 12/12").  The phases the file names, and "always" when it had
 * runs or is all there is.
 */
static json_object *report_phases(const struct runner *r,
				  const struct probe_rt *p)
{
	const struct fl_steady *s = &p->p->steady;
	size_t j, ph, n = fl_steady_nphases(s);
	json_object *arr = json_object_new_array(), *o;
	char text[96], detail[192];
	enum fl_expect e;
	bool met;

	/* In the drill's order: before, each during, after, always. */
	for (j = 0; j < n; j++) {
		const struct phase_count *c;

		ph = j == 0 ? FL_PHASE_BEFORE : j == n - 2 ? FL_PHASE_AFTER :
		     j == n - 1 ? FL_PHASE_ALWAYS : FL_PHASE_DURING + j - 1;
		c = &p->ph[ph];

		if ((ph == FL_PHASE_BEFORE && !s->has_before) ||
		    (ph == FL_PHASE_AFTER && !s->has_after) ||
		    (ph == FL_PHASE_ALWAYS && !c->runs && n > 1 &&
		     (s->has_before || s->has_after || s->nduring)))
			continue;
		e = fl_steady_expect(s, ph);
		fl_phase_text(r->exp, s, ph, text, sizeof(text));
		met = fl_steady_text(e, text, c->runs, c->passed, detail,
				     sizeof(detail));
		o = json_object_new_object();
		run_ev_str(o, "phase", fl_phase_name(ph));
		if (ph >= FL_PHASE_DURING)
			run_ev_str(o, "fault", r->exp->faults[
				s->during[ph - FL_PHASE_DURING].fault].name);
		run_ev_str(o, "expect", fl_expect_name(e));
		json_object_object_add(o, "runs", json_object_new_int(c->runs));
		json_object_object_add(o, "passed",
				       json_object_new_int(c->passed));
		json_object_object_add(o, "failed",
				       json_object_new_int(c->runs - c->passed));
		json_object_object_add(o, "as_expected",
				       json_object_new_boolean(met));
		run_ev_str(o, "detail", detail);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Why the verdict is fail, when a probe's phase made it: "probe api:
 * expected to fail during cut, but passed 12/12" (the first such). */
static json_object *verdict_detail(json_object *probes)
{
	size_t i, k;
	char buf[256];

	for (i = 0; i < json_object_array_length(probes); i++) {
		json_object *p = json_object_array_get_idx(probes, i);
		json_object *ph = fl_json_get(p, "phases");

		for (k = 0; ph && k < json_object_array_length(ph); k++) {
			json_object *x = json_object_array_get_idx(ph, k);

			if (json_object_get_boolean(fl_json_get(x,
							"as_expected")))
				continue;
			snprintf(buf, sizeof(buf), "probe %s: %s",
				 fl_json_str(p, "name", "?"),
				 fl_json_str(x, "detail", "?"));
			return json_object_new_string(buf);
		}
	}
	return NULL;
}

/* A probe in the report: its counts and every result. */
static json_object *report_probe(const struct runner *r,
				 const struct probe_rt *p)
{
	json_object *o = json_object_new_object();
	json_object *av = json_object_new_array();
	char **a;

	run_ev_str(o, "name", p->p->name);
	for (a = p->p->argv; a && *a; a++)
		json_object_array_add(av, json_object_new_string(*a));
	json_object_object_add(o, "exec", av);
	json_object_object_add(o, "expect_exit",
			       json_object_new_int(p->p->expect_exit));
	json_object_object_add(o, "runs", json_object_new_int(p->runs));
	json_object_object_add(o, "passed", json_object_new_int(p->passed));
	json_object_object_add(o, "failed", json_object_new_int(p->failed));
	json_object_object_add(o, "timeouts",
			       json_object_new_int(p->timeouts));
	json_object_object_add(o, "cut_short",
			       json_object_new_int(p->cut_short));
	json_object_object_add(o, "expect", report_expect(r, p->p));
	json_object_object_add(o, "phases", report_phases(r, p));
	json_object_object_add(o, "unexpected", json_object_new_int(p->unmet));
	json_object_object_add(o, "across", json_object_new_int(p->across));
	json_object_object_add(o, "results", json_object_get(p->results));
	return o;
}

/* Pid targets that exited during the drill, and when. */
static json_object *report_exited(const struct runner *r)
{
	const struct fl_experiment *exp = r->exp;
	json_object *arr = json_object_new_array(), *o;
	size_t i;

	for (i = 0; r->tr && i < exp->ntargets; i++) {
		if (r->tr[i].exited < 0)
			continue;
		o = json_object_new_object();
		run_ev_str(o, "name", exp->targets[i].name);
		json_object_object_add(o, "pid",
				       json_object_new_int(exp->targets[i].pid));
		json_object_object_add(o, "exited_at",
				       time_or_null(r, r->tr[i].exited));
		json_object_object_add(o, "exited_t",
				       run_jsec(r->tr[i].exited));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *build_report(struct runner *r, int64_t end_wall,
				 const char *v, int code)
{
	struct fl_experiment *exp = r->exp;
	json_object *rep = json_object_new_object(), *o, *arr;
	char buf[40], host[256];
	size_t i;

	o = json_object_new_object();
	run_ev_str(o, "name", exp->name);
	run_ev_str(o, "file", exp->file);
	json_object_object_add(o, "duration", run_jsec(r->duration));
	json_object_object_add(rep, "experiment", o);
	/* What the repeats' jitter was drawn from: --seed replays it. */
	json_object_object_add(rep, "seed", json_object_new_uint64(exp->seed));
	if (r->j)
		run_ev_str(rep, "run", fl_journal_id(r->j));
	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		run_ev_str(rep, "host", host);
	}
	run_ev_str(rep, "started", fl_fmt_time(r->wall0, buf, sizeof(buf)));
	/* The same instant to the microsecond, to line hosts up (merge). */
	snprintf(buf, sizeof(buf), "%lld.%06lld",
		 (long long)(r->wall0 / (int64_t)NSEC_PER_SEC),
		 (long long)(r->wall0 % (int64_t)NSEC_PER_SEC /
			     (int64_t)NSEC_PER_USEC));
	json_object_object_add(rep, "started_unix", json_object_new_double_s(
		(double)r->wall0 / NSEC_PER_SEC, buf));
	json_object_object_add(rep, "start_at", r->opts->start_at_ns ?
		json_object_new_string(fl_fmt_time(r->opts->start_at_ns, buf,
						   sizeof(buf))) : NULL);
	run_ev_str(rep, "ended", fl_fmt_time(end_wall, buf, sizeof(buf)));
	json_object_object_add(rep, "elapsed", run_jsec(end_wall - r->wall0));

	arr = json_object_new_array();
	for (i = 0; i < exp->nfaults; i++)
		json_object_array_add(arr, report_fault(r, i));
	json_object_object_add(rep, "faults", arr);
	arr = json_object_new_array();
	for (i = 0; i < exp->nprobes; i++)
		json_object_array_add(arr, report_probe(r, &r->pr[i]));
	json_object_object_add(rep, "probes", arr);
	json_object_object_add(rep, "targets_exited", report_exited(r));
	json_object_object_add(rep, "targets_restarted", run_restarts_json(r));
	o = json_object_new_array();
	run_window_warnings(r, o);
	json_object_object_add(rep, "warnings", o);
	json_object_object_add(rep, "verdict_detail", r->stop_why ?
			       json_object_new_string(r->stop_why) :
			       strcmp(v, "fail") ? NULL : verdict_detail(arr));
	run_ev_str(rep, "verdict", v);
	json_object_object_add(rep, "exit", json_object_new_int(code));
	return rep;
}

static void summary_expectation(json_object *observed, FILE *out)
{
	json_object *e = fl_json_get(observed, "expectation");

	if (e && fl_json_get(e, "met"))
		fprintf(out, "        %s: %s\n",
			json_object_get_boolean(fl_json_get(e, "met")) ?
			"expected" : "EXPECTATION FAILED",
			fl_json_str(e, "detail", ""));
}

/*
 * The counters an observed object holds, in words: a number, the length
 * of a list, or the total of an object of numbers with its parts.  Core
 * knows no engine: these are the names engines give their counters.
 */
static const struct {
	const char *key, *sub, *word, *parts;
} counter_keys[] = {
	{ "injections", NULL, "injections", "calls" },
	{ "dropped", NULL, "packets dropped", NULL },
	{ "egress", "dropped", "packets dropped on egress", NULL },
	{ "ingress", "dropped", "packets dropped on ingress", NULL },
	{ "oom_kills", NULL, "OOM kills", NULL },
	{ "collateral_kills", NULL, "collateral kills", NULL },
	{ "processes_frozen", NULL, "processes frozen", NULL },
	{ "topups", NULL, "top-ups", NULL },
	{ "down_ms", NULL, "ms down", NULL },
	{ "events_lost", NULL, "events lost", NULL },
};

/* " (connect 9, bind 3)": an object of numbers, its parts. */
static void counter_parts(json_object *v, char *buf, size_t len)
{
	size_t off = strlen(buf), n = 0;

	if (!v || !json_object_is_type(v, json_type_object))
		return;
	json_object_object_foreach(v, k, x)
		if (off < len)
			off += snprintf(buf + off, len - off, "%s%s %llu",
					n++ ? ", " : " (", k,
					(unsigned long long)
					json_object_get_uint64(x));
	if (n && off < len)
		snprintf(buf + off, len - off, ")");
}

/*
 * One counter: "12 injections (connect 12)", "9 packets dropped (egress
 * 9, ingress 0)"; parts: the object that breaks a number down.
 */
static void counter_text(json_object *v, const char *word, json_object *parts,
			 char *buf, size_t len)
{
	uint64_t sum = 0;

	buf[0] = 0;
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, len, "%llu %s",
			 (unsigned long long)json_object_get_uint64(v), word);
		counter_parts(parts, buf, len);
	} else if (json_object_is_type(v, json_type_array)) {
		snprintf(buf, len, "%zu %s", json_object_array_length(v),
			 word);
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, x) {
			(void)k;
			if (!json_object_is_type(x, json_type_int))
				return;
			sum += json_object_get_uint64(x);
		}
		snprintf(buf, len, "%llu %s", (unsigned long long)sum, word);
		counter_parts(v, buf, len);
	}
}

/* "        observed: 12 injections; 12 calls failed (connect 12)" */
static void summary_counters(json_object *observed, FILE *out)
{
	char one[256];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(counter_keys); i++) {
		json_object *v = fl_json_get(observed, counter_keys[i].key);

		if (v && counter_keys[i].sub)
			v = fl_json_get(v, counter_keys[i].sub);
		if (!v)
			continue;
		counter_text(v, counter_keys[i].word, counter_keys[i].parts ?
			     fl_json_get(observed, counter_keys[i].parts) :
			     NULL, one, sizeof(one));
		if (!one[0])
			continue;
		fprintf(out, "%s%s", n++ ? "; " : "        observed: ", one);
	}
	if (n)
		fputc('\n', out);
}

/* ", lag 0.312/0.087 ms": apply lag, revert lag ("-" when none). */
static void summary_lag(json_object *lag, FILE *out)
{
	double a, v;
	bool ha = fl_json_num(lag, "apply_us", &a);
	bool hv = fl_json_num(lag, "revert_us", &v);

	if (!ha && !hv)
		return;
	fprintf(out, ", lag ");
	if (ha)
		fprintf(out, "%.3f", a / 1000);
	else
		fputc('-', out);
	if (hv)
		fprintf(out, "/%.3f", v / 1000);
	else
		fprintf(out, "/-");
	fprintf(out, " ms");
}

/* An occurrence of a fault that repeats: "2/3 reverted applied +..". */
static void summary_occurrence(json_object *o, size_t n, FILE *out)
{
	const char *state = fl_json_str(o, "state", "?");
	double d;

	fprintf(out, "        %s/%zu %-9s", fl_json_text(o, "occurrence") ?
		fl_json_text(o, "occurrence") : "?", n, state);
	if (fl_json_num(o, "applied_t", &d))
		fprintf(out, " applied +%.3fs", d);
	if (fl_json_num(o, "reverted_t", &d))
		fprintf(out, " reverted +%.3fs", d);
	if (!fl_json_num(o, "applied_t", &d) && fl_json_num(o, "at", &d))
		fprintf(out, " planned +%.3fs", d);
	if (fl_json_get(o, "detail"))
		fprintf(out, " (%s)", fl_json_str(o, "detail", ""));
	fputc('\n', out);
	summary_counters(fl_json_get(o, "observed"), out);
	summary_expectation(fl_json_get(o, "observed"), out);
}

/* A fault's line, its occurrences' and its expectation's under it. */
static void summary_fault(json_object *o, FILE *out)
{
	const char *state = fl_json_str(o, "state", "?");
	json_object *occ;
	size_t i, n;
	double d;

	fprintf(out, "  fault %-16s %-9s", fl_json_str(o, "name", "?"), state);
	if (fl_json_num(o, "applied_t", &d))
		fprintf(out, " applied +%.3fs", d);
	if (fl_json_num(o, "reverted_t", &d))
		fprintf(out, " reverted +%.3fs", d);
	summary_lag(fl_json_get(o, "lag"), out);
	/* Why it failed or was skipped, else how it was done. */
	if (strcmp(state, "pending"))
		fprintf(out, " (%s)", (!strcmp(state, "skipped") ||
				       !strcmp(state, "failed")) &&
			fl_json_get(o, "detail") ?
			fl_json_str(o, "detail", "") :
			fl_json_str(o, "mechanism",
				    fl_json_str(o, "engine", "?")));
	fputc('\n', out);
	occ = fl_json_get(o, "occurrences");
	n = occ && json_object_is_type(occ, json_type_array) ?
	    json_object_array_length(occ) : 0;
	for (i = 0; i < n; i++)
		summary_occurrence(json_object_array_get_idx(occ, i), n, out);
	if (!n) {
		summary_counters(fl_json_get(o, "observed"), out);
		summary_expectation(fl_json_get(o, "observed"), out);
	}
}

/*
 * A steady-state probe's phases, one a line ("before the faults: passed
 * 4/4", "FAILED: expected to fail during cut, but passed 12/12"); nothing
 * for a probe whose runs must all pass, unless that failed.
 */
static void summary_phases(json_object *ph, FILE *out)
{
	size_t k, n = ph && json_object_is_type(ph, json_type_array) ?
		      json_object_array_length(ph) : 0;

	for (k = 0; k < n; k++) {
		json_object *x = json_object_array_get_idx(ph, k);
		bool met = json_object_get_boolean(fl_json_get(x,
							       "as_expected"));

		if (n == 1 && met &&
		    !strcmp(fl_json_str(x, "expect", ""), "pass"))
			continue;
		fprintf(out, "        %s%s\n", met ? "" : "FAILED: ",
			fl_json_str(x, "detail", "?"));
	}
}

/* Runs that began in one phase and ended in another: not judged. */
static void summary_across(json_object *o, FILE *out)
{
	double n;

	if (fl_json_num(o, "across", &n) && n > 0)
		fprintf(out, "        %.0f run(s) saw a fault begin or end "
			"under them (not judged)\n", n);
}

/* The warnings of a run (faults applied late), one a line. */
static void summary_warnings(json_object *w, FILE *out)
{
	size_t k, n = w && json_object_is_type(w, json_type_array) ?
		      json_object_array_length(w) : 0;

	for (k = 0; k < n; k++)
		fprintf(out, "  WARNING: %s\n",
			json_object_get_string(json_object_array_get_idx(w,
									 k)));
}

static void summary_probe(json_object *o, FILE *out)
{
	double runs = 0, passed = 0, to = 0;

	fl_json_num(o, "runs", &runs);
	fl_json_num(o, "passed", &passed);
	fl_json_num(o, "timeouts", &to);
	fprintf(out, "  probe %-16s %.0f/%.0f passed",
		fl_json_str(o, "name", "?"), passed, runs);
	if (to > 0)
		fprintf(out, ", %.0f timed out", to);
	fputc('\n', out);
	summary_phases(fl_json_get(o, "phases"), out);
	summary_across(o, out);
}

static size_t array_len(json_object *arr)
{
	return arr && json_object_is_type(arr, json_type_array) ?
		json_object_array_length(arr) : 0;
}

void fl_report_summary(json_object *rep, const char *path, bool again,
		       FILE *out)
{
	json_object *exp = fl_json_get(rep, "experiment"), *arr;
	const char *v = fl_json_str(rep, "verdict", "?");
	char up[16];
	size_t i, n;
	double d;

	for (i = 0; v[i] && i < sizeof(up) - 1; i++)
		up[i] = v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i];
	up[i] = '\0';
	fprintf(out, "%sdrill %s: %s (exit %d)\n", again ? "" : "\n",
		fl_json_str(exp, "name", fl_json_str(exp, "file", "?")), up,
		fl_json_get(rep, "exit") ?
		json_object_get_int(fl_json_get(rep, "exit")) : -1);
	/* Which probe's phase failed the drill. */
	if (fl_json_get(rep, "verdict_detail"))
		fprintf(out, "  why: %s\n",
			fl_json_str(rep, "verdict_detail", ""));
	if (again) {
		fprintf(out, "  started %s, ended %s",
			fl_json_str(rep, "started", "?"),
			fl_json_str(rep, "ended", "?"));
		if (fl_json_num(rep, "elapsed", &d))
			fprintf(out, ", %.3fs", d);
		if (fl_json_get(rep, "run"))
			fprintf(out, ", run %s", fl_json_str(rep, "run", "?"));
		fputc('\n', out);
	}
	arr = fl_json_get(rep, "faults");
	n = array_len(arr);
	for (i = 0; i < n; i++)
		summary_fault(json_object_array_get_idx(arr, i), out);
	for (i = 0; i < n; i++)
		if (fl_json_num(fl_json_get(json_object_array_get_idx(arr, i),
					    "repeat"), "jitter", &d) && d > 0)
			break;
	if (i < n && fl_json_text(rep, "seed"))
		fprintf(out, "  seed %s (--seed %s draws the same jitter)\n",
			fl_json_text(rep, "seed"), fl_json_text(rep, "seed"));
	arr = fl_json_get(rep, "probes");
	n = array_len(arr);
	for (i = 0; i < n; i++)
		summary_probe(json_object_array_get_idx(arr, i), out);
	summary_warnings(fl_json_get(rep, "warnings"), out);
	if (path)
		fprintf(out, "report: %s\n", path);
	fflush(out);
}

/*
 * The end of a run: the verdict, the JSON report (to the file the
 * experiment or --report-json names, with the SVG timeline next to it),
 * then the summary for people or a "report" event.  The exit status.
 */
int run_report(struct runner *r)
{
	const struct fl_experiment *exp = r->exp;
	const char *report_path, *v;
	char svg_path[4096];
	json_object *rep, *ev;
	int code;
	bool svg_ok;

	v = verdict(r, &code);
	rep = build_report(r, fl_wall_ns(), v, code);
	report_path = r->opts->report_json ? r->opts->report_json :
		      exp->report_json;
	if (report_path && json_object_to_file_ext(report_path, rep,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE)) {
		fl_err("cannot write the report %s: %s", report_path,
		       strerror(errno));
		report_path = NULL;
	}
	svg_ok = report_path && !write_svg(report_path, svg_path,
					       sizeof(svg_path));
	if (r->json) {
		ev = run_ev("report");
		json_object_object_add(ev, "report", json_object_get(rep));
		run_emit(r, ev, "report");
	} else if (!r->quiet) {
		/* The last frame stays, the summary goes under it. */
		fl_live_end(r->live, (int64_t)(fl_now_ns() - r->t0),
			    r->duration);
		fl_report_summary(rep, report_path, false, stdout);
		if (svg_ok)
			printf("timeline: %s\n", svg_path);
		fflush(stdout);
	}
	json_object_put(rep);
	return code;
}
