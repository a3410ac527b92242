// SPDX-License-Identifier: GPL-2.0-only
/*
 * plan: a dry run.  What run would do on this machine, in order: every
 * kernel object each fault creates or changes, the mechanism its engine
 * chose and why, and whether this machine can do it at all.  Nothing here
 * changes the machine (capability probes run in throwaway namespaces).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *target_json(const struct fl_target *t)
{
	json_object *o = json_object_new_object();
	json_object *argv;
	char why[256] = "";
	size_t i;
	int ret;

	json_object_object_add(o, "name", jstr(t->name));
	switch (t->kind) {
	case FL_TARGET_PID:
		json_object_object_add(o, "kind", jstr("pid"));
		json_object_object_add(o, "pid", json_object_new_int(t->pid));
		break;
	case FL_TARGET_CGROUP:
		if (t->container)
			break;	/* below, once resolved */
		json_object_object_add(o, "kind", jstr("cgroup"));
		json_object_object_add(o, "cgroup", jstr(t->cgroup));
		break;
	case FL_TARGET_COMMAND:
		json_object_object_add(o, "kind", jstr("command"));
		argv = json_object_new_array();
		for (i = 0; t->argv && t->argv[i]; i++)
			json_object_array_add(argv, jstr(t->argv[i]));
		json_object_object_add(o, "command", argv);
		json_object_object_add(o, "restart",
				       json_object_new_boolean(t->restart));
		break;
	}
	ret = fl_target_check(t, why, sizeof(why));
	if (t->container) {
		json_object_object_add(o, "kind", jstr("container"));
		json_object_object_add(o, "cgroup", jstr(t->cgroup));
		json_object_object_add(o, "container", fl_container_json(t));
	}
	json_object_object_add(o, "ok", json_object_new_boolean(!ret));
	if (ret)
		json_object_object_add(o, "problem", jstr(why));
	return o;
}

struct step {
	uint64_t t;
	int order;		/* reverts before applies at equal times */
	size_t idx;		/* fault index: ties keep file order */
	bool revert;
	bool skip;		/* optional, and this machine cannot */
	size_t occ, nocc;	/* occurrence (0-based) of nocc */
};

static int step_cmp(const void *a, const void *b)
{
	const struct step *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->order != y->order)
		return x->order - y->order;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return (x->occ > y->occ) - (x->occ < y->occ);
}

/* A fault that repeats: its repeat: and every occurrence, with the seed. */
static void plan_repeat(const struct fl_experiment *exp,
			const struct fl_fault *f, json_object *o)
{
	const struct fl_repeat *rp = &f->repeat;
	json_object *rep, *arr, *x;
	struct fl_occurrence *v;
	char buf[64];
	size_t k, n;

	if (!rp->on || fl_fault_occurrences(exp, f, &v, &n))
		return;
	rep = json_object_new_object();
	json_object_object_add(rep, "every", jstr(fl_fmt_duration(rp->every_ns,
				buf, sizeof(buf))));
	json_object_object_add(rep, "for", jstr(fl_fmt_duration(rp->for_ns,
				buf, sizeof(buf))));
	json_object_object_add(rep, "times", json_object_new_int(n));
	json_object_object_add(rep, "jitter", jstr(fl_fmt_duration(
				rp->jitter_ns, buf, sizeof(buf))));
	json_object_object_add(o, "repeat", rep);
	arr = json_object_new_array();
	for (k = 0; k < n; k++) {
		x = json_object_new_object();
		json_object_object_add(x, "at_ns",
				       json_object_new_uint64(v[k].at));
		json_object_object_add(x, "until_ns",
				       json_object_new_uint64(v[k].end));
		json_object_object_add(x, "jitter_ns",
				       json_object_new_uint64(v[k].jitter));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "occurrences", arr);
	free(v);
}

/*
 * A fault in the plan: its window, the engine's description and check.
 * A problem that stops the run goes to problems, with *status; *skip
 * tells an optional fault that this machine cannot do.
 */
/* A container target fault f names that check could not resolve. */
static int unresolved_use(const struct fl_fault *f, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < f->nuses; i++) {
		const struct fl_target *t = f->uses[i];

		if (t->container && !t->cgroup[0]) {
			snprintf(why, len, "target '%s' (container) was not "
				 "found: see Targets", t->name);
			return -ENOENT;
		}
	}
	return 0;
}

static json_object *plan_fault(const struct fl_experiment *exp, size_t i,
			       json_object *problems, int *status, bool *skip)
{
	const struct fl_fault *f = &exp->faults[i];
	const struct fl_engine *e = f->engine;
	json_object *o = json_object_new_object();
	uint64_t end = f->has_for ? f->at_ns + f->for_ns : exp->duration_ns;
	char buf[64], why[512], msg[640];
	int ret, nsfd;

	json_object_object_add(o, "name", jstr(f->name));
	json_object_object_add(o, "engine", jstr(e->name));
	json_object_object_add(o, "at", jstr(fl_fmt_duration(f->at_ns,
				buf, sizeof(buf))));
	json_object_object_add(o, "at_ns", json_object_new_uint64(f->at_ns));
	json_object_object_add(o, "until", jstr(fl_fmt_duration(end,
				buf, sizeof(buf))));
	json_object_object_add(o, "until_ns", json_object_new_uint64(end));
	json_object_object_add(o, "optional",
			       json_object_new_boolean(f->optional));
	plan_repeat(exp, f, o);
	if (f->netns_target)
		json_object_object_add(o, "netns_target",
				       jstr(f->netns_target->name));
	why[0] = '\0';
	/* A container it names that was not found: the engine is not asked. */
	ret = unresolved_use(f, why, sizeof(why));
	/* An in_netns engine looks at its target's namespace. */
	if (!ret)
		ret = fl_fault_enter(f, false, &nsfd, why, sizeof(why));
	if (!ret) {
		if (e->describe)
			e->describe(f, o);
		ret = e->check ? e->check(f, why, sizeof(why)) : 0;
		fl_fault_leave(nsfd);
	} else {
		json_object_object_add(o, "mechanism",
				       jstr("none (its target cannot be found)"));
	}
	if (!ret) {
		json_object_object_add(o, "state", jstr("will apply"));
		return o;
	}
	if (!why[0])
		snprintf(why, sizeof(why), "%s", strerror(-ret));
	json_object_object_add(o, "problem", jstr(why));
	if (f->optional) {
		json_object_object_add(o, "state", jstr("will skip"));
		*skip = true;
		return o;
	}
	json_object_object_add(o, "state", jstr("cannot apply"));
	snprintf(msg, sizeof(msg), "fault '%s': %s", f->name, why);
	json_object_array_add(problems, json_object_new_string(msg));
	*status = FL_EXIT_UNSUPPORTED;
	return o;
}

/* The timeline: every apply and revert in the order run does them. */
static json_object *plan_timeline(const struct fl_experiment *exp,
				  const bool *skip)
{
	json_object *steps = json_object_new_array();
	struct fl_occurrence **occ;
	struct step *sv = NULL;
	size_t i, k, ns = 0, total = 0, *nocc;
	char buf[64];

	occ = calloc(exp->nfaults + 1, sizeof(*occ));
	nocc = calloc(exp->nfaults + 1, sizeof(*nocc));
	for (i = 0; occ && nocc && i < exp->nfaults; i++) {
		if (fl_fault_occurrences(exp, &exp->faults[i], &occ[i],
					 &nocc[i]))
			goto out;
		total += nocc[i];
	}
	if (occ && nocc)
		sv = calloc(total * 2 + 1, sizeof(*sv));
	for (i = 0; sv && i < exp->nfaults; i++) {
		bool sk = skip && skip[i];

		for (k = 0; k < nocc[i]; k++) {
			sv[ns++] = (struct step){ occ[i][k].at, 1, i, false,
						  sk, k, nocc[i] };
			if (!sk)
				sv[ns++] = (struct step){ occ[i][k].end, 0, i,
							  true, false, k,
							  nocc[i] };
			/* A skipped fault: one line says it. */
			if (sk)
				break;
		}
	}
	if (sv)
		qsort(sv, ns, sizeof(*sv), step_cmp);
	for (i = 0; i < ns; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "at", jstr(fl_fmt_duration(sv[i].t,
					buf, sizeof(buf))));
		json_object_object_add(o, "at_ns",
				       json_object_new_uint64(sv[i].t));
		json_object_object_add(o, "action",
				       jstr(sv[i].revert ? "revert" :
					    sv[i].skip ? "skip" : "apply"));
		json_object_object_add(o, "fault",
				       jstr(exp->faults[sv[i].idx].name));
		if (exp->faults[sv[i].idx].repeat.on) {
			json_object_object_add(o, "occurrence",
				json_object_new_int(sv[i].occ + 1));
			json_object_object_add(o, "occurrences",
				json_object_new_int(sv[i].nocc));
		}
		json_object_array_add(steps, o);
	}
out:
	for (i = 0; occ && i < exp->nfaults; i++)
		free(occ[i]);
	free(occ);
	free(nocc);
	free(sv);
	return steps;
}

static json_object *plan_probes(const struct fl_experiment *exp)
{
	json_object *probes = json_object_new_array();
	char buf[64], ph[256];
	size_t i, k;

	for (i = 0; i < exp->nprobes; i++) {
		const struct fl_probe *p = &exp->probes[i];
		json_object *o = json_object_new_object();
		json_object *argv = json_object_new_array();

		json_object_object_add(o, "name", jstr(p->name));
		for (k = 0; p->argv && p->argv[k]; k++)
			json_object_array_add(argv, jstr(p->argv[k]));
		json_object_object_add(o, "exec", argv);
		json_object_object_add(o, "every", jstr(fl_fmt_duration(
					p->every_ns, buf, sizeof(buf))));
		json_object_object_add(o, "timeout", jstr(fl_fmt_duration(
					p->timeout_ns, buf, sizeof(buf))));
		json_object_object_add(o, "expect_exit",
				       json_object_new_int(p->expect_exit));
		/* Steady-state phases (core/steady.c), when it has them. */
		if (*fl_steady_describe(exp, &p->steady, ph, sizeof(ph)))
			json_object_object_add(o, "phases", jstr(ph));
		json_object_array_add(probes, o);
	}
	return probes;
}

json_object *fl_plan_build(const struct fl_experiment *exp, int *status)
{
	json_object *plan, *faults, *targets, *problems;
	char buf[64];
	bool *skip, sk;
	size_t i;

	*status = FL_EXIT_OK;
	plan = json_object_new_object();
	json_object_object_add(plan, "experiment", jstr(exp->name));
	json_object_object_add(plan, "file", jstr(exp->file));
	json_object_object_add(plan, "kernel", jstr(fl_kernel_get()->release));
	json_object_object_add(plan, "duration",
			       jstr(fl_fmt_duration(exp->duration_ns, buf,
						    sizeof(buf))));
	json_object_object_add(plan, "duration_ns",
			       json_object_new_uint64(exp->duration_ns));
	json_object_object_add(plan, "seed", json_object_new_uint64(exp->seed));
	json_object_object_add(plan, "seed_from", jstr(
		exp->seed_from == FL_SEED_FILE ? "file" :
		exp->seed_from == FL_SEED_OPTION ? "option" : "random"));
	json_object_object_add(plan, "jitter",
			       json_object_new_boolean(fl_experiment_jitters(exp)));
	problems = json_object_new_array();

	targets = json_object_new_array();
	for (i = 0; i < exp->ntargets; i++) {
		json_object *t = target_json(&exp->targets[i]);
		json_object *p;

		if (json_object_object_get_ex(t, "problem", &p)) {
			json_object_array_add(problems, json_object_get(p));
			*status = FL_EXIT_UNSUPPORTED;
		}
		json_object_array_add(targets, t);
	}
	json_object_object_add(plan, "targets", targets);

	faults = json_object_new_array();
	skip = calloc(exp->nfaults + 1, sizeof(*skip));
	for (i = 0; i < exp->nfaults; i++) {
		sk = false;
		json_object_array_add(faults, plan_fault(exp, i, problems,
							 status, &sk));
		if (skip)
			skip[i] = sk;
	}
	json_object_object_add(plan, "faults", faults);
	json_object_object_add(plan, "timeline", plan_timeline(exp, skip));
	free(skip);
	json_object_object_add(plan, "probes", plan_probes(exp));
	json_object_object_add(plan, "problems", problems);
	json_object_object_add(plan, "runnable",
			       json_object_new_boolean(*status == FL_EXIT_OK));
	return plan;
}

static json_object *find_fault(json_object *faults, const char *name)
{
	size_t i;

	for (i = 0; i < json_object_array_length(faults); i++) {
		json_object *f = json_object_array_get_idx(faults, i);

		if (!strcmp(fl_json_text(f, "name"), name))
			return f;
	}
	return NULL;
}

/* A container as resolved: its runtime, id, init, cgroups, netns. */
static void print_container(FILE *out, json_object *c)
{
	const char *id = fl_json_str(c, "id", NULL);

	fprintf(out, "%s (%s)", fl_json_str(c, "ref", "?"),
		fl_json_str(c, "runtime", "?"));
	if (!id)
		return;
	fprintf(out, " = %.12s, init pid %s, network namespace %s\n"
		"               cgroup %s", id, fl_json_text(c, "pid"),
		fl_json_str(c, "netns", "?"),
		fl_json_str(c, "cgroup_unified", "")[0] ?
		fl_json_str(c, "cgroup_unified", "") :
		fl_json_str(c, "cgroup_memory", ""));
	if (fl_json_str(c, "cgroup_unified", "")[0] &&
	    fl_json_str(c, "cgroup_memory", "")[0] &&
	    strcmp(fl_json_str(c, "cgroup_unified", ""),
		   fl_json_str(c, "cgroup_memory", "")))
		fprintf(out, "\n               memory %s",
			fl_json_str(c, "cgroup_memory", ""));
}

/* A command as one line, cut to PLAN_CMD_WIDTH with "...". */
#define PLAN_CMD_WIDTH	48

static void print_command(json_object *argv, FILE *out)
{
	char line[PLAN_CMD_WIDTH + 1];
	size_t k, off = 0;
	bool cut = false;

	line[0] = 0;
	for (k = 0; k < json_object_array_length(argv) && !cut; k++) {
		const char *a = json_object_get_string(
					json_object_array_get_idx(argv, k));
		bool q = !*a || strpbrk(a, " \t'\"$;&|<>()*?");
		int n = snprintf(line + off, sizeof(line) - off, "%s%s%s%s",
				 k ? " " : "", q ? "'" : "", a, q ? "'" : "");

		cut = n < 0 || (size_t)n >= sizeof(line) - off;
		if (!cut)
			off += (size_t)n;
	}
	if (cut)
		snprintf(line + PLAN_CMD_WIDTH - 3, 4, "...");
	fputs(line, out);
}

/* The targets table: one line each, commands shortened. */
static void print_targets(json_object *targets, FILE *out)
{
	json_object *v;
	size_t i;

	if (!json_object_array_length(targets))
		return;
	fprintf(out, "\nTargets:\n");
	for (i = 0; i < json_object_array_length(targets); i++) {
		json_object *t = json_object_array_get_idx(targets, i);
		const char *kind = fl_json_text(t, "kind");
		const char *p = fl_json_text(t, "problem");

		fprintf(out, "  %-12s %-8s ", fl_json_text(t, "name"), kind);
		if (!strcmp(kind, "pid")) {
			fprintf(out, "%s", fl_json_text(t, "pid"));
		} else if (!strcmp(kind, "cgroup")) {
			fprintf(out, "%s", fl_json_text(t, "cgroup"));
		} else if (!strcmp(kind, "container")) {
			print_container(out, fl_json_get(t, "container"));
		} else if (json_object_object_get_ex(t, "command", &v)) {
			print_command(v, out);
			fprintf(out, "  (run starts it%s)",
				fl_json_get(t, "restart") &&
				json_object_get_boolean(fl_json_get(t, "restart")) ?
				", and again each time it exits" : "");
		}
		fprintf(out, "%s%s\n", p ? "  PROBLEM: " : "", p ? p : "");
	}
}

/* A fault's why; a why of several lines goes on indented lines. */
static void print_why(const char *why, FILE *out)
{
	const char *nl;

	fprintf(out, "             why: ");
	while ((nl = strchr(why, '\n'))) {
		fprintf(out, "%.*s\n                  ", (int)(nl - why), why);
		why = nl + 1;
	}
	fprintf(out, "%s\n", why);
}

/*
 * What stops the drill; a fault's reason was given at its step in the
 * timeline, so it is named here and not repeated.
 */
static void print_problems(json_object *problems, json_object *faults,
			   FILE *out)
{
	size_t i, j, n;

	fprintf(out, "\nThis machine cannot run this drill:\n");
	for (i = 0; i < json_object_array_length(problems); i++) {
		const char *p = json_object_get_string(
					json_object_array_get_idx(problems, i));

		for (j = 0; j < json_object_array_length(faults); j++) {
			json_object *f = json_object_array_get_idx(faults, j);
			const char *name = fl_json_text(f, "name");

			n = strlen(name);
			if (!strncmp(p, "fault '", 7) && !strncmp(p + 7, name, n) &&
			    !strncmp(p + 7 + n, "': ", 3) &&
			    fl_json_text(f, "problem"))
				break;
		}
		if (j < json_object_array_length(faults))
			fprintf(out, "  - %.*s cannot apply (why: above, at its step)\n",
				(int)(strchr(p + 7, ':') - p), p);
		else
			fprintf(out, "  - %s\n", p);
	}
}

void fl_plan_print(json_object *plan, FILE *out)
{
	json_object *faults, *steps, *targets, *probes, *problems, *v;
	size_t i, k;

	json_object_object_get_ex(plan, "faults", &faults);
	json_object_object_get_ex(plan, "timeline", &steps);
	json_object_object_get_ex(plan, "targets", &targets);
	json_object_object_get_ex(plan, "probes", &probes);
	json_object_object_get_ex(plan, "problems", &problems);

	fprintf(out, "Plan for '%s' (%s) on Linux %s, duration %s\n",
		fl_json_text(plan, "experiment"),
		fl_json_str(plan, "file", "?")[0] == '(' ? "the command line" :
		fl_json_text(plan, "file"),
		fl_json_text(plan, "kernel"), fl_json_text(plan, "duration"));

	print_targets(targets, out);

	v = fl_json_get(plan, "jitter");
	if (v && json_object_get_boolean(v)) {
		const char *seed = fl_json_text(plan, "seed");
		const char *from = fl_json_str(plan, "seed_from", "random");

		fprintf(out, "\nSeed: %s (%s)", seed, from);
		if (!strcmp(from, "random"))
			fprintf(out, ": the jitter below is drawn from it; "
				"'faultline run --seed %s' runs this timeline",
				seed);
		fputc('\n', out);
	}

	fprintf(out, "\nTimeline:\n");
	for (i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		json_object *f = find_fault(faults, fl_json_text(s, "fault"));
		const char *action = fl_json_text(s, "action");
		const char *state = f ? fl_json_text(f, "state") : NULL;
		const char *occ = fl_json_text(s, "occurrence");
		bool apply = strcmp(action, "revert");
		char name[64];

		if (occ)
			snprintf(name, sizeof(name), "%s %s/%s",
				 fl_json_text(s, "fault"), occ,
				 fl_json_text(s, "occurrences"));
		else
			snprintf(name, sizeof(name), "%s",
				 fl_json_text(s, "fault"));
		fprintf(out, "  +%-8s %-7s %-16s %s", fl_json_text(s, "at"), action,
			name, f ? fl_json_text(f, "engine") : "");
		if (f && apply && fl_json_text(f, "mechanism"))
			fprintf(out, " via %s", fl_json_text(f, "mechanism"));
		fputc('\n', out);
		/* The mechanism once, at a fault's first apply. */
		if (!f || !apply || (occ && strcmp(occ, "1")))
			continue;
		if (f && (v = fl_json_get(f, "repeat")))
			fprintf(out, "             repeat: every %s, for %s, "
				"%s times, jitter %s\n",
				fl_json_str(v, "every", "?"),
				fl_json_str(v, "for", "?"),
				fl_json_text(v, "times"),
				fl_json_str(v, "jitter", "0s"));
		if (fl_json_text(f, "netns_target"))
			fprintf(out, "             in the network namespace of "
				"target '%s'\n", fl_json_text(f, "netns_target"));
		if (fl_json_text(f, "why"))
			print_why(fl_json_text(f, "why"), out);
		if (json_object_object_get_ex(f, "objects", &v) &&
		    json_object_is_type(v, json_type_array)) {
			for (k = 0; k < json_object_array_length(v); k++)
				fprintf(out, "             - %s\n",
					json_object_get_string(
					json_object_array_get_idx(v, k)));
		}
		if (state && strcmp(state, "will apply"))
			fprintf(out, "             %s: %s\n",
				!strcmp(state, "will skip") ?
				"SKIPPED (optional)" : "CANNOT APPLY",
				fl_json_text(f, "problem"));
	}
	fprintf(out, "  +%-8s end     everything is reverted by now\n",
		fl_json_text(plan, "duration"));

	if (json_object_array_length(probes)) {
		fprintf(out, "\nProbes:\n");
		for (i = 0; i < json_object_array_length(probes); i++) {
			json_object *p = json_object_array_get_idx(probes, i);
			json_object *argv;

			json_object_object_get_ex(p, "exec", &argv);
			fprintf(out, "  %-12s every %s, timeout %s, expects "
				"exit %s:", fl_json_text(p, "name"), fl_json_text(p, "every"),
				fl_json_text(p, "timeout"), fl_json_text(p, "expect_exit"));
			for (k = 0; k < json_object_array_length(argv); k++)
				fprintf(out, " %s", json_object_get_string(
					json_object_array_get_idx(argv, k)));
			fputc('\n', out);
			if (fl_json_text(p, "phases"))
				fprintf(out, "  %-12s phases: %s\n", "",
					fl_json_text(p, "phases"));
		}
	}

	if (json_object_array_length(problems)) {
		print_problems(problems, faults, out);	} else {
		const char *file = fl_json_text(plan, "file");

		/* "(command line)": a one-line drill, not a file. */
		if (file && file[0] == '(')
			fprintf(out, "\nNothing was changed. 'faultline run' "
				"with the same options would do the above.\n");
		else
			fprintf(out, "\nNothing was changed. 'faultline run "
				"%s' would do the above.\n", file);
	}
}
