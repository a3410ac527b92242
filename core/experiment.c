// SPDX-License-Identifier: GPL-2.0-only
/*
 * Experiment files: the YAML tree into the typed model, with every problem
 * reported at once.  The loader knows the top level, targets, the common
 * fault keys (name, at, for, optional, repeat: core/repeat.c) and probes;
 * each engine validates its own map through its parse op.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

#define FL_NAME_MAX		64
#define FL_PID_MAX		4194304		/* PID_MAX_LIMIT */
#define FL_CGROUP_ROOT		"/sys/fs/cgroup"

static const char *const top_keys[] = {
	"name", "duration", "seed", "targets", "faults", "probes", "report",
	NULL
};
static const char *const target_kinds[] = {
	"pid", "cgroup", "command", "restart", "container", "runtime", NULL,
};
static const char *const fault_keys[] = {
	"name", "at", "for", "optional", "repeat", NULL
};
static const char *const probe_keys[] = {
	"name", "exec", "every", "timeout", "expect", NULL
};
static const char *const report_keys[] = { "json", NULL };

/* A name used by a fault or a probe, for the shared namespace. */
struct seen_name {
	const char *name;
	const struct fl_node *node;
};

struct loader {
	struct fl_experiment *exp;
	struct fl_diag *d;
	struct seen_name *names;
	size_t nnames;
	bool have_duration;
};

/* An engine's spec, with its spec_free (a flat one needs none). */
static void spec_free(const struct fl_engine *e, void *spec)
{
	if (!spec)
		return;
	if (e->spec_free)
		e->spec_free(spec);
	else
		free(spec);
}

static void fault_free(struct fl_fault *f)
{
	if (f->engine)
		spec_free(f->engine, f->priv);
	f->priv = NULL;
	free(f->name);
}

void fl_experiment_free(struct fl_experiment *exp)
{
	size_t i;

	if (!exp)
		return;
	for (i = 0; i < exp->nfaults; i++)
		fault_free(&exp->faults[i]);
	free(exp->faults);
	for (i = 0; i < exp->ntargets; i++) {
		free(exp->targets[i].name);
		if (!exp->targets[i].container)
			free(exp->targets[i].cgroup);
		fl_container_free(exp->targets[i].container);
		fl_strv_free(exp->targets[i].argv);
		free(exp->targets[i].scratch_memory);
		free(exp->targets[i].scratch_unified);
	}
	free(exp->targets);
	for (i = 0; i < exp->nprobes; i++) {
		free(exp->probes[i].name);
		fl_strv_free(exp->probes[i].argv);
		fl_steady_free(&exp->probes[i].steady);
	}
	free(exp->probes);
	free(exp->report_json);
	free(exp->name);
	free(exp->file);
	fl_doc_free(exp->doc);
	free(exp);
}

struct fl_target *fl_experiment_target(const struct fl_experiment *exp,
				       const char *name)
{
	size_t i;

	if (!exp || !name)
		return NULL;
	for (i = 0; i < exp->ntargets; i++)
		if (exp->targets[i].name && !strcmp(exp->targets[i].name, name))
			return &exp->targets[i];
	return NULL;
}

/* The fault whose engine map is being parsed: fl_get_target notes its
 * targets there. */
static struct fl_fault *parsing;

static void note_use(struct fl_fault *f, const struct fl_target *t)
{
	size_t i;

	if (!f || !t)
		return;
	for (i = 0; i < f->nuses; i++)
		if (f->uses[i] == t)
			return;
	if (f->nuses < FL_FAULT_USES_MAX)
		f->uses[f->nuses++] = t;
}

int fl_get_target(const struct fl_experiment *exp, const struct fl_node *v,
		  const char *what, struct fl_target **out,
		  struct fl_diag *d)
{
	const char *names[65];
	struct fl_target *t;
	const char *hint;
	char q[64];
	size_t i, n = 0;

	if (!v || v->type != FL_NODE_SCALAR || fl_node_is_null(v)) {
		fl_diag_err(d, v, "%s: expected a target name, got %s", what,
			    fl_node_desc(v));
		return -EINVAL;
	}
	t = fl_experiment_target(exp, v->scalar);
	if (t) {
		note_use(parsing, t);
		*out = t;
		return 0;
	}
	if (!exp || !exp->ntargets) {
		fl_diag_err(d, v, "%s: unknown target '%s' (the file has no "
			    "targets:)", what, fl_quote(v->scalar, q,
							 sizeof(q)));
		return -EINVAL;
	}
	for (i = 0; i < exp->ntargets && n + 1 < ARRAY_SIZE(names); i++)
		if (exp->targets[i].name)
			names[n++] = exp->targets[i].name;
	names[n] = NULL;
	hint = fl_did_you_mean(v->scalar, names);
	if (hint)
		fl_diag_err(d, v, "%s: unknown target '%s' (did you mean "
			    "'%s'?)", what, fl_quote(v->scalar, q, sizeof(q)),
			    hint);
	else
		fl_diag_err(d, v, "%s: unknown target '%s'", what,
			    fl_quote(v->scalar, q, sizeof(q)));
	return -EINVAL;
}

/* Names of targets, faults and probes: letters, digits, - _ . only. */
static int check_name(const struct fl_node *v, const char *name,
		      struct fl_diag *d)
{
	const char *p;

	if (!*name) {
		fl_diag_err(d, v, "name: must not be empty");
		return -EINVAL;
	}
	if (strlen(name) > FL_NAME_MAX) {
		fl_diag_err(d, v, "name: longer than %d characters",
			    FL_NAME_MAX);
		return -EINVAL;
	}
	for (p = name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.')
			continue;
		fl_diag_err(d, v, "name: '%s' may hold only letters, digits, "
			    "'-', '_' and '.'", name);
		return -EINVAL;
	}
	return 0;
}

/* Faults and probes share one namespace. */
static int claim_name(struct loader *l, const char *name,
		      const struct fl_node *v)
{
	struct seen_name *sn;
	size_t i;

	for (i = 0; i < l->nnames; i++) {
		if (strcmp(l->names[i].name, name))
			continue;
		fl_diag_err(l->d, v, "duplicate name '%s' (first used at line "
			    "%u)", name, l->names[i].node->line);
		return -EEXIST;
	}
	sn = realloc(l->names, (l->nnames + 1) * sizeof(*sn));
	if (!sn)
		return -ENOMEM;
	l->names = sn;
	sn[l->nnames].name = name;
	sn[l->nnames].node = v;
	l->nnames++;
	return 0;
}

/* An absolute path must lie under a cgroup mount (or /sys/fs/cgroup). */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

static bool under_cgroup_mount(const char *path)
{
	struct mntent *m;
	bool ok = false;
	FILE *f;

	if (under(path, FL_CGROUP_ROOT))
		return true;
	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return false;
	while (!ok && (m = getmntent(f)))
		ok = (!strcmp(m->mnt_type, "cgroup") ||
		      !strcmp(m->mnt_type, "cgroup2")) &&
		     under(path, m->mnt_dir);
	endmntent(f);
	return ok;
}

static int check_cgroup_path(const struct fl_node *v, const char *path,
			     struct fl_diag *d)
{
	const char *p = path;
	char q[64];

	if (!*path) {
		fl_diag_err(d, v, "cgroup: must not be empty");
		return -EINVAL;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			fl_diag_err(d, v, "cgroup: '..' is not allowed in a "
				    "cgroup path");
			return -EINVAL;
		}
		p += n;
		if (*p)
			p++;
	}
	if (strlen(path) >= PATH_MAX) {
		fl_diag_err(d, v, "cgroup: path too long");
		return -EINVAL;
	}
	if (path[0] == '/' && !under_cgroup_mount(path)) {
		fl_diag_err(d, v, "cgroup: '%s' is not under a cgroup mount "
			    "(%s); give an absolute path there or one "
			    "relative to the cgroup root",
			    fl_quote(path, q, sizeof(q)), FL_CGROUP_ROOT);
		return -EINVAL;
	}
	return 0;
}

/* restart: true on a command target: run starts it again when it exits. */
static int load_restart(struct fl_target *t, const struct fl_node *spec,
			const char *what, struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(spec, "restart");

	if (!v)
		return 0;
	if (fl_get_bool(v, "restart", &t->restart, d))
		return -EINVAL;
	if (!fl_map_get(spec, "command")) {
		fl_diag_err(d, v, "%s: restart: only a command target, which run starts, can be started again", what);
		return -EINVAL;
	}
	return 0;
}

static int load_target(struct loader *l, struct fl_target *t,
		       const struct fl_node *key, const struct fl_node *spec)
{
	struct fl_diag *d = l->d;
	const struct fl_node *kind_key = NULL, *rt;
	char what[FL_NAME_MAX + 32], q[64];
	int err = 0, kinds = 0;
	size_t i;

	fl_quote(key->scalar, q, sizeof(q));
	snprintf(what, sizeof(what), "target '%s'", q);
	if (check_name(key, key->scalar, d))
		err = -EINVAL;
	if (fl_map_check(spec, target_kinds, what, d)) {
		err = -EINVAL;
		if (!spec || spec->type != FL_NODE_MAP)
			return err;
	}
	for (i = 0; i < spec->n; i++) {
		const struct fl_node *k = spec->pairs[i].key;
		const struct fl_node *v = spec->pairs[i].value;
		uint64_t pid;
		size_t n;
		int r = 0;

		if (!k || k->type != FL_NODE_SCALAR)
			continue;
		if (strcmp(k->scalar, "pid") && strcmp(k->scalar, "cgroup") &&
		    strcmp(k->scalar, "command") &&
		    strcmp(k->scalar, "container"))
			continue;
		if (fl_map_get(spec, k->scalar) != v)
			continue;	/* duplicate, reported */
		if (kinds++) {
			fl_diag_err(d, k, "%s: has both '%s' and '%s'; give "
				    "only one of pid, cgroup, command, "
				    "container", what, kind_key->scalar,
				    k->scalar);
			err = -EINVAL;
			continue;
		}
		kind_key = k;
		if (!strcmp(k->scalar, "pid")) {
			t->kind = FL_TARGET_PID;
			r = fl_get_u64(v, "pid", 1, FL_PID_MAX, &pid, d);
			if (!r)
				t->pid = (pid_t)pid;
		} else if (!strcmp(k->scalar, "container")) {
			r = fl_container_parse(t, spec, d);
		} else if (!strcmp(k->scalar, "cgroup")) {
			t->kind = FL_TARGET_CGROUP;
			r = fl_get_string(v, "cgroup", &t->cgroup, d);
			if (!r)
				r = check_cgroup_path(v, t->cgroup, d);
		} else {
			t->kind = FL_TARGET_COMMAND;
			r = fl_get_argv(v, "command", &t->argv, &n, d);
			if (!r && (!n || !t->argv[0][0])) {
				fl_diag_err(d, v, "command: %s", n ?
					    "the program name is empty" :
					    "must not be empty");
				r = -EINVAL;
			}
		}
		if (r)
			err = -EINVAL;
	}
	if (!kinds) {
		fl_diag_err(d, spec, "%s: needs one of pid, cgroup, command, "
			    "container", what);
		err = -EINVAL;
	}
	rt = fl_map_get(spec, "runtime");
	if (rt && !t->container) {
		fl_diag_err(d, rt, "%s: runtime: is for a container target "
			    "(container: NAME)", what);
		err = -EINVAL;
	}
	if (load_restart(t, spec, what, d))
		err = -EINVAL;
	return err;
}

static int load_targets(struct loader *l, const struct fl_node *v)
{
	struct fl_experiment *exp = l->exp;
	int err = 0;
	size_t i;

	if (!v || fl_node_is_null(v))
		return 0;
	if (v->type != FL_NODE_MAP) {
		fl_diag_err(l->d, v, "targets: expected a map of names to "
			    "targets, got %s", fl_node_desc(v));
		return -EINVAL;
	}
	exp->targets = calloc(v->n ? v->n : 1, sizeof(*exp->targets));
	if (!exp->targets)
		return -ENOMEM;
	for (i = 0; i < v->n; i++) {
		const struct fl_node *key = v->pairs[i].key;
		const struct fl_node *spec = v->pairs[i].value;
		struct fl_target *t;
		char q[64];

		if (!key || key->type != FL_NODE_SCALAR) {
			fl_diag_err(l->d, key, "targets: a target name must be "
				    "a string, got %s", fl_node_desc(key));
			err = -EINVAL;
			continue;
		}
		if (fl_experiment_target(exp, key->scalar)) {
			fl_diag_err(l->d, key, "duplicate target '%s'",
				    fl_quote(key->scalar, q, sizeof(q)));
			err = -EINVAL;
			continue;
		}
		t = &exp->targets[exp->ntargets++];
		t->node = spec;
		t->name = strdup(key->scalar);
		if (!t->name)
			return -ENOMEM;
		if (load_target(l, t, key, spec))
			err = -EINVAL;
	}
	return err;
}

/* The engine's keys, and target: for an engine that acts in a netns. */
static int check_spec_keys(const struct fl_engine *e,
			   const struct fl_node *spec, struct fl_diag *d)
{
	const char *keys[64];
	size_t n = 0;

	if (!e->in_netns || !e->keys)
		return fl_map_check(spec, e->keys, e->name, d);
	while (e->keys[n] && n + 2 < ARRAY_SIZE(keys)) {
		keys[n] = e->keys[n];
		n++;
	}
	keys[n++] = "target";
	keys[n] = NULL;
	return fl_map_check(spec, keys, e->name, d);
}

int fl_need_target(const struct fl_experiment *exp, const struct fl_node *spec,
		   const char *engine, struct fl_target **out,
		   struct fl_diag *d)
{
	const struct fl_node *v = fl_map_need(spec, "target", engine, d);

	return v && !fl_get_target(exp, v, "target", out, d) ? 0 : -EINVAL;
}

/* An in_netns engine's target: the one whose namespace it acts in. */
static int load_netns_target(struct fl_experiment *exp, struct fl_fault *f,
			     const struct fl_node *spec, struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(spec, "target");
	struct fl_target *t;

	if (!v)
		return 0;
	if (fl_get_target(exp, v, "target", &t, d))
		return -EINVAL;
	f->netns_target = t;
	return 0;
}

/*
 * The engine's map into its spec: the loader checks it is a map of the
 * engine's keys, the engine allocates the spec, the loader keeps it as
 * f->priv, or frees whatever parse filled in on an error.  A bad key
 * does not stop parse: the file's other problems are said too.
 */
static int load_spec(struct fl_experiment *exp, struct fl_fault *f,
		     struct fl_diag *d)
{
	const struct fl_engine *e = f->engine;
	const struct fl_node *spec = f->spec;
	void *out = NULL;
	int bad = 0, ret;

	if (!e->parse)
		return 0;
	if (e->keys || !spec || spec->type != FL_NODE_MAP)
		bad = check_spec_keys(e, spec, d);
	if (!spec || spec->type != FL_NODE_MAP)
		return -EINVAL;
	parsing = f;
	ret = e->parse(exp, f, spec, &out, d);
	if (!ret && e->in_netns && load_netns_target(exp, f, spec, d))
		bad = -EINVAL;
	parsing = NULL;
	if (ret || bad) {
		spec_free(e, out);
		return ret ? ret : -EINVAL;
	}
	f->priv = out;
	return 0;
}

/*
 * The map of a fault or a probe (kind, the idx-th) and its name, in the
 * names faults and probes share, and its keys (fl_map_check).  what names
 * it for messages: "fault 2", then "fault 'wan'" once the name is known.
 * A bad name or key is said and sets *bad; -EINVAL when v is not a map
 * (nothing more to read), -ENOMEM.
 */
static int load_name(struct loader *l, const struct fl_node *v,
		     const char *kind, size_t idx, const char *const *keys,
		     char **name, char *what, size_t len, bool *bad)
{
	struct fl_diag *d = l->d;
	const struct fl_node *n;
	int r;

	*bad = false;
	snprintf(what, len, "%s %zu", kind, idx + 1);
	if (!v || v->type != FL_NODE_MAP) {
		fl_diag_err(d, v, "%s: expected a map, got %s", what,
			    fl_node_desc(v));
		return -EINVAL;
	}
	n = fl_map_need(v, "name", what, d);
	if (!n || fl_get_string(n, "name", name, d) ||
	    check_name(n, *name, d)) {
		*bad = true;
	} else {
		snprintf(what, len, "%s '%s'", kind, *name);
		r = claim_name(l, *name, n);
		if (r == -ENOMEM)
			return r;
		*bad = r != 0;
	}
	if (fl_map_check(v, keys, what, d))
		*bad = true;
	return 0;
}

/* at: and for:, within the drill's duration when the file gives one. */
static int load_window(struct loader *l, struct fl_fault *f,
		       const struct fl_node *v, const char *what)
{
	struct fl_experiment *exp = l->exp;
	struct fl_diag *d = l->d;
	const struct fl_node *at, *forn;
	char a[32], b[32];
	int err = 0;

	at = fl_map_get(v, "at");
	if (at && fl_get_duration(at, "at", &f->at_ns, d)) {
		err = -EINVAL;
		at = NULL;
	}
	forn = fl_map_get(v, "for");
	if (forn) {
		if (fl_get_duration_pos(forn, "for", &f->for_ns, d)) {
			err = -EINVAL;
			forn = NULL;
		} else {
			f->has_for = true;
		}
	}
	if (!l->have_duration)
		return err;
	if (at && f->at_ns >= exp->duration_ns) {
		fl_diag_err(d, at, "%s starts at %s, not before the drill's "
			    "duration %s", what,
			    fl_fmt_duration(f->at_ns, a, sizeof(a)),
			    fl_fmt_duration(exp->duration_ns, b, sizeof(b)));
		err = -EINVAL;
	} else if (forn && (f->at_ns + f->for_ns < f->at_ns ||
			    f->at_ns + f->for_ns > exp->duration_ns)) {
		uint64_t end = f->at_ns + f->for_ns;

		if (end < f->at_ns)	/* past 584 years */
			a[0] = '\0';
		else
			fl_fmt_duration(end, a, sizeof(a));
		fl_diag_err(d, forn, "%s ends%s%s%s after the drill's "
			    "duration %s", what, *a ? " at " : "", a,
			    *a ? "," : "",
			    fl_fmt_duration(exp->duration_ns, b, sizeof(b)));
		err = -EINVAL;
	}
	return err;
}

/*
 * Exactly one engine key: f->engine and f->spec.  -ENOENT when there is
 * none (said, with the engines there are), -EINVAL when there are two.
 */
static int load_engine(struct loader *l, struct fl_fault *f,
		       const struct fl_node *v, const char *what)
{
	const char *const *engines = fl_engine_names();
	const struct fl_node *ekey = NULL;
	struct fl_diag *d = l->d;
	char list[256];
	int err = 0;
	size_t i, o;

	for (i = 0; i < v->n; i++) {
		const struct fl_node *k = v->pairs[i].key;
		const struct fl_engine *e;

		if (!k || k->type != FL_NODE_SCALAR)
			continue;
		e = fl_engine_find(k->scalar);
		if (!e || !e->parse ||
		    fl_map_get(v, k->scalar) != v->pairs[i].value)
			continue;
		if (ekey) {
			fl_diag_err(d, k, "%s: has two engines, '%s' and '%s'; "
				    "use one fault for each", what,
				    ekey->scalar, k->scalar);
			err = -EINVAL;
			continue;
		}
		ekey = k;
		f->engine = e;
		f->spec = v->pairs[i].value;
	}
	if (ekey)
		return err;
	for (i = 0, o = 0, list[0] = '\0';
	     engines[i] && o + 1 < sizeof(list); i++) {
		int w = snprintf(list + o, sizeof(list) - o, "%s%s",
				 i ? ", " : "", engines[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	fl_diag_err(d, v, "%s: needs one of %s", what,
		    *list ? list : "(no engine is built in)");
	return -ENOENT;
}

static int load_fault(struct loader *l, struct fl_fault *f, size_t idx,
		      const struct fl_node *v, const char *const *keys)
{
	struct fl_diag *d = l->d;
	const struct fl_node *n;
	char what[FL_NAME_MAX + 32];
	int err = 0, r;
	bool bad;

	f->node = v;
	/* Unknown keys are suggested from both fault keys and engines. */
	r = load_name(l, v, "fault", idx, keys, &f->name, what, sizeof(what),
		      &bad);
	if (r)
		return r;
	if (bad)
		err = -EINVAL;
	if (fl_opt_bool(v, "optional", &f->optional, d))
		err = -EINVAL;
	if (load_window(l, f, v, what))
		err = -EINVAL;
	else if ((n = fl_map_get(v, "repeat")) &&
		 fl_repeat_parse(l->exp, f, n, what, d))
		err = -EINVAL;
	r = load_engine(l, f, v, what);
	if (r == -ENOENT)
		return -EINVAL;
	if (r)
		err = -EINVAL;
	if (load_spec(l->exp, f, d))
		err = -EINVAL;
	return err;
}

static int load_faults(struct loader *l, const struct fl_node *v)
{
	const char *const *engines = fl_engine_names();
	struct fl_experiment *exp = l->exp;
	const char **keys;
	size_t i, nk = 0, ne = 0;
	int err = 0, r;

	if (!v || fl_node_is_null(v))
		return 0;
	if (v->type != FL_NODE_SEQ) {
		fl_diag_err(l->d, v, "faults: expected a list of faults, got %s",
			    fl_node_desc(v));
		return -EINVAL;
	}
	while (engines[ne])
		ne++;
	keys = calloc(ARRAY_SIZE(fault_keys) + ne, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; fault_keys[i]; i++)
		keys[nk++] = fault_keys[i];
	for (i = 0; i < ne; i++)
		keys[nk++] = engines[i];
	keys[nk] = NULL;
	exp->faults = calloc(v->n ? v->n : 1, sizeof(*exp->faults));
	if (!exp->faults) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < v->n; i++) {
		r = load_fault(l, &exp->faults[exp->nfaults++], i, v->items[i],
			       keys);
		if (r == -ENOMEM) {
			err = r;
			break;
		}
		if (r)
			err = -EINVAL;
	}
	free(keys);
	return err;
}

static int load_probe(struct loader *l, struct fl_probe *p, size_t idx,
		      const struct fl_node *v)
{
	struct fl_diag *d = l->d;
	const struct fl_node *n, *every, *timeout;
	char what[FL_NAME_MAX + 32];
	size_t argc = 0;
	int err = 0, r;
	bool bad;

	p->node = v;
	p->every_ns = NSEC_PER_SEC;
	r = load_name(l, v, "probe", idx, probe_keys, &p->name, what,
		      sizeof(what), &bad);
	if (r)
		return r;
	if (bad)
		err = -EINVAL;

	n = fl_map_need(v, "exec", what, d);
	if (!n) {
		err = -EINVAL;
	} else if (fl_get_argv(n, "exec", &p->argv, &argc, d)) {
		err = -EINVAL;
	} else if (!argc || !p->argv[0][0]) {
		fl_diag_err(d, n, "exec: %s", argc ?
			    "the program name is empty" : "must not be empty");
		err = -EINVAL;
	}

	every = fl_map_get(v, "every");
	if (every) {
		if (fl_get_duration_pos(every, "every", &p->every_ns, d)) {
			err = -EINVAL;
			every = NULL;
		}
	}
	p->timeout_ns = p->every_ns < NSEC_PER_SEC ? p->every_ns : NSEC_PER_SEC;
	timeout = fl_map_get(v, "timeout");
	if (timeout) {
		if (fl_get_duration_pos(timeout, "timeout", &p->timeout_ns,
					  d)) {
			err = -EINVAL;
		} else if (p->timeout_ns > p->every_ns &&
			   (every || !fl_map_get(v, "every"))) {
			char a[32], b[32];

			fl_diag_err(d, timeout, "timeout: %s is longer than "
				    "every (%s)",
				    fl_fmt_duration(p->timeout_ns, a, sizeof(a)),
				    fl_fmt_duration(p->every_ns, b, sizeof(b)));
			err = -EINVAL;
		}
	}

	r = fl_steady_parse(l->exp, p, fl_map_get(v, "expect"), d);
	if (r == -ENOMEM)
		return r;
	if (r)
		err = -EINVAL;
	return err;
}

static int load_probes(struct loader *l, const struct fl_node *v)
{
	struct fl_experiment *exp = l->exp;
	int err = 0, r;
	size_t i;

	if (!v || fl_node_is_null(v))
		return 0;
	if (v->type != FL_NODE_SEQ) {
		fl_diag_err(l->d, v, "probes: expected a list of probes, got %s",
			    fl_node_desc(v));
		return -EINVAL;
	}
	exp->probes = calloc(v->n ? v->n : 1, sizeof(*exp->probes));
	if (!exp->probes)
		return -ENOMEM;
	for (i = 0; i < v->n; i++) {
		r = load_probe(l, &exp->probes[exp->nprobes++], i, v->items[i]);
		if (r == -ENOMEM)
			return r;
		if (r)
			err = -EINVAL;
	}
	return err;
}

static int load_report(struct loader *l, const struct fl_node *v)
{
	const struct fl_node *j;

	if (!v || fl_node_is_null(v))
		return 0;
	if (fl_map_check(v, report_keys, "report", l->d)) {
		if (v->type != FL_NODE_MAP)
			return -EINVAL;
	}
	j = fl_map_get(v, "json");
	if (!j)
		return 0;
	if (fl_get_string(j, "json", &l->exp->report_json, l->d))
		return -EINVAL;
	if (!l->exp->report_json[0]) {
		fl_diag_err(l->d, j, "json: must not be empty");
		return -EINVAL;
	}
	return 0;
}

/* The experiment's sections after name and duration. */
static const struct {
	const char *key;
	int (*load)(struct loader *l, const struct fl_node *v);
} sections[] = {
	{ "targets", load_targets },
	{ "faults", load_faults },
	{ "probes", load_probes },
	{ "report", load_report },
};

static int load(struct loader *l)
{
	struct fl_experiment *exp = l->exp;
	const struct fl_node *root = exp->doc->root, *v;
	struct fl_diag *d = l->d;
	int err = 0, r;
	size_t i;

	if (!root || fl_node_is_null(root)) {
		fl_diag_at(d, exp->doc->file, 1, 1, "the file is empty");
		return -EINVAL;
	}
	if (root->type != FL_NODE_MAP) {
		fl_diag_err(d, root, "expected a map at the top level (name:, "
			    "duration:, faults:...), got %s",
			    fl_node_desc(root));
		return -EINVAL;
	}
	if (fl_map_check(root, top_keys, "the experiment", d))
		err = -EINVAL;

	v = fl_map_need(root, "name", "the experiment", d);
	if (!v) {
		err = -EINVAL;
	} else if (fl_get_string(v, "name", &exp->name, d)) {
		err = -EINVAL;
	} else if (!exp->name[0]) {
		fl_diag_err(d, v, "name: must not be empty");
		err = -EINVAL;
	}
	v = fl_map_need(root, "duration", "the experiment", d);
	if (!v) {
		err = -EINVAL;
	} else if (fl_get_duration_pos(v, "duration", &exp->duration_ns,
					 d)) {
		err = -EINVAL;
	} else {
		l->have_duration = true;
	}

	v = fl_map_get(root, "seed");
	if (v && fl_get_u64(v, "seed", 0, UINT64_MAX, &exp->seed, d))
		err = -EINVAL;
	else if (v)
		exp->seed_from = FL_SEED_FILE;
	else
		exp->seed = fl_seed_draw();

	/* In this order: faults name targets. */
	for (i = 0; i < ARRAY_SIZE(sections); i++) {
		r = sections[i].load(l, fl_map_get(root, sections[i].key));
		if (r == -ENOMEM)
			return r;
		if (r)
			err = r;
	}
	/* Faults that need one object at once (core/collide.c). */
	if (!err)
		err = fl_experiment_collisions(exp, d);
	return err;
}

static int load_doc(struct fl_doc *doc, struct fl_experiment **out,
		    struct fl_diag *d)
{
	struct loader l = { .d = d };
	size_t n0 = d ? d->n : 0;
	struct fl_diag own;
	int err;

	/* Without a d from the caller, still know whether it failed. */
	if (!d) {
		fl_diag_init(&own);
		l.d = d = &own;
	}
	l.exp = calloc(1, sizeof(*l.exp));
	if (!l.exp) {
		fl_doc_free(doc);
		err = -ENOMEM;
		goto out;
	}
	l.exp->doc = doc;
	l.exp->file = strdup(doc->file);
	err = l.exp->file ? load(&l) : -ENOMEM;
	if (!err && d->n > n0)
		err = -EINVAL;	/* an engine reported without failing */
	if (err == -ENOMEM)
		fl_diag_at(d, doc->file, 0, 0, "out of memory");
	if (err) {
		fl_experiment_free(l.exp);
		l.exp = NULL;
	}
	*out = l.exp;
out:
	free(l.names);
	if (d == &own)
		fl_diag_free(&own);
	return err;
}

int fl_experiment_load(const char *path, struct fl_experiment **out,
		       struct fl_diag *d)
{
	struct fl_doc *doc;
	int err;

	*out = NULL;
	err = fl_doc_load(path, &doc, d);
	if (err)
		return err;
	return load_doc(doc, out, d);
}

int fl_experiment_load_buf(const char *name, const char *buf, size_t len,
			   struct fl_experiment **out, struct fl_diag *d)
{
	struct fl_doc *doc;
	int err;

	*out = NULL;
	err = fl_doc_load_buf(name, buf, len, &doc, d);
	if (err)
		return err;
	return load_doc(doc, out, d);
}
