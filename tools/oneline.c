// SPDX-License-Identifier: GPL-2.0-only
/*
 * One-line drills: run's --fault, --target and --for written out as the
 * YAML of an experiment file and loaded by the file loader
 * (fl_experiment_load_buf), so that a one-line drill is validated, run,
 * journalled and reported exactly as the file --print-yaml prints.
 *
 * Each option's text goes into the file as it was given, indented; where
 * the file needs more (a fault's name, the target of a fault when there
 * is one target) it is added around the text or inside its braces, and
 * every such line and insertion is remembered, so that a problem the
 * loader finds points into the option: "--fault 1:12: ...".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmds.h"
#include "tools/oneline.h"

#define ONELINE_FILE	"(command line)"

/* Where an option's text went in the file. */
struct origin {
	char label[32];			/* "--fault", "--fault[2]" */
	unsigned int first, last;	/* the file's lines it covers */
	unsigned int text;		/* the file's line of its line 1 */
	unsigned int indent;		/* columns added before each line */
	struct {
		unsigned int line, col;	/* after this character */
		char text[96];
	} ins[2];			/* words added inside the text */
	size_t nins;
};

struct gen {
	FILE *f;
	unsigned int line;		/* the line being written, from 1 */
	struct origin org[2 * ONELINE_MAX + 1];
	size_t norg;
	unsigned int ntarget_short;	/* "pid: 123" targets so far */
	char target[64];		/* the one target's name, or "" */
};

static void put(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct gen *g, const char *fmt, ...)
{
	char buf[256];
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs(buf, g->f);
	for (p = buf; (p = strchr(p, '\n')); p++)
		g->line++;
}

/* An option's text, each line after indent, with o's insertions. */
static void put_text(struct gen *g, struct origin *o, const char *text)
{
	unsigned int line = 1, col = 1;
	const char *p;
	size_t k;

	o->text = g->line;
	for (p = text; *p; p++) {
		if (col == 1 && line > 1)
			fprintf(g->f, "%*s", (int)o->indent, "");
		fputc(*p, g->f);
		for (k = 0; k < o->nins; k++)
			if (line == o->ins[k].line && col == o->ins[k].col)
				fputs(o->ins[k].text, g->f);
		if (*p == '\n') {
			g->line++;
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	fputc('\n', g->f);
	o->last = g->line++;
}

/* Insert text after the character at line:col of the option's text. */
static void insert(struct origin *o, unsigned int line, unsigned int col,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void insert(struct origin *o, unsigned int line, unsigned int col,
		   const char *fmt, ...)
{
	va_list ap;

	if (o->nins >= ARRAY_SIZE(o->ins))
		return;
	o->ins[o->nins].line = line;
	o->ins[o->nins].col = col;
	va_start(ap, fmt);
	vsnprintf(o->ins[o->nins].text, sizeof(o->ins[0].text), fmt, ap);
	va_end(ap);
	o->nins++;
}

static struct origin *new_origin(struct gen *g, const char *opt, size_t i,
				 size_t n)
{
	struct origin *o = &g->org[g->norg++];

	memset(o, 0, sizeof(*o));
	if (n > 1)
		snprintf(o->label, sizeof(o->label), "%s[%zu]", opt, i + 1);
	else
		snprintf(o->label, sizeof(o->label), "%s", opt);
	o->first = g->line;
	return o;
}

int oneline_opt(struct oneline *o, int c, const char *arg)
{
	const char **v = c == 'F' ? o->faults : o->targets;
	size_t *n = c == 'F' ? &o->nfaults : &o->ntargets;

	if (c == 'D') {
		o->duration = arg;
		return 0;
	}
	if (*n >= ONELINE_MAX)
		return cmd_bad_usage(o->cmd, "at most %d --%s options",
				     ONELINE_MAX, c == 'F' ? "fault" : "target");
	v[(*n)++] = arg;
	return 0;
}

bool oneline_given(const struct oneline *o)
{
	return o->nfaults || o->ntargets || o->duration || o->print_yaml;
}

int oneline_or_file(const struct oneline *o, int argc, char **argv,
		    struct fl_experiment **exp)
{
	*exp = NULL;
	if (oneline_given(o) && optind != argc)
		return cmd_bad_usage(o->cmd, "a file or --fault, not both");
	if (!oneline_given(o) && optind != argc - 1)
		return cmd_bad_usage(o->cmd, "%s takes one file (or --fault)",
				     o->cmd);
	return oneline_given(o) ? oneline_load(o, exp) :
	       cmd_load(argv[optind], exp);
}

/* ------------------------------------------------------------------ */
/* Problems, pointing into the options.                                */

/* A line:col of the file as the option's own line:col. */
static bool map_back(const struct gen *g, struct fl_diag_entry *e)
{
	const struct origin *o;
	unsigned int line, col, n;
	size_t i, k;

	for (i = 0; i < g->norg; i++) {
		o = &g->org[i];
		if (e->line < o->first || e->line > o->last)
			continue;
		/* A line added before the text: its first character. */
		line = e->line < o->text ? 1 : e->line - o->text + 1;
		col = e->line < o->text || e->col <= o->indent ? 1 :
		      e->col - o->indent;
		for (k = o->nins; e->line >= o->text && k-- > 0;) {
			if (o->ins[k].line != line || col <= o->ins[k].col)
				continue;
			n = (unsigned int)strlen(o->ins[k].text);
			col = col > o->ins[k].col + n ? col - n :
			      o->ins[k].col;
		}
		free(e->file);
		e->file = strdup(o->label);
		e->line = line;
		e->col = col;
		return true;
	}
	return false;
}

/* In the order of the options, then of the positions in each. */
static int by_place(const void *a, const void *b)
{
	const struct fl_diag_entry *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/* Print d, each problem at its option; FL_EXIT_USAGE. */
static int oneline_fail(const struct gen *g, struct fl_diag *d)
{
	json_object *errs;
	size_t i;

	for (i = 0; g && i < d->n; i++)
		map_back(g, &d->v[i]);
	if (fl_json_output) {
		errs = json_object_new_object();
		json_object_object_add(errs, "errors", fl_diag_json(d));
		fl_print_json(errs);
		json_object_put(errs);
	} else {
		qsort(d->v, d->n, sizeof(*d->v), by_place);
		for (i = 0; i < d->n; i++) {
			const struct fl_diag_entry *e = &d->v[i];

			if (e->line)
				fprintf(stderr, "%s %u:%u: %s\n",
					e->file ? e->file : "", e->line,
					e->col, e->msg);
			else
				fprintf(stderr, "%s: %s\n",
					e->file ? e->file : "", e->msg);
		}
	}
	fl_diag_free(d);
	return FL_EXIT_USAGE;
}

/* A position past the text's last line: just after its end. */
static void end_of_text(const char *text, struct fl_diag_entry *e)
{
	unsigned int lines = 1;
	const char *p, *last = text;

	for (p = text; *p; p++)
		if (*p == '\n' && p[1]) {
			lines++;
			last = p + 1;
		}
	if (e->line <= lines)
		return;
	e->line = lines;
	e->col = (unsigned int)strcspn(last, "\n") + 1;
}

/* Parse one option's text: a map, or say why not (into d). */
static struct fl_doc *parse_opt(const char *label, const char *text,
				struct fl_diag *d)
{
	struct fl_doc *doc = NULL;
	size_t i, n0 = d->n;

	if (fl_doc_load_buf(label, text, strlen(text), &doc, d)) {
		/* An error past the end (an unclosed brace): at the end. */
		for (i = n0; i < d->n; i++)
			end_of_text(text, &d->v[i]);
		return NULL;
	}
	if (!doc->root || doc->root->type != FL_NODE_MAP) {
		fl_diag_at(d, label, 1, 1, "expected a map, as in %s",
			   !strncmp(label, "--fault", 7) ?
			   "'netem: { device: eth0, delay: 100ms }'" :
			   "'app: { pid: 123 }' or 'pid: 123'");
		fl_doc_free(doc);
		return NULL;
	}
	return doc;
}

/* ------------------------------------------------------------------ */
/* The file.                                                           */

static bool is_kind(const char *s)
{
	return !strcmp(s, "pid") || !strcmp(s, "cgroup") ||
	       !strcmp(s, "command");
}

/*
 * A target: "NAME: {...}" as it is; "pid: 123" (a kind, no name) under
 * the name "target" ("target-2" for the second such).
 */
static int put_target(struct gen *g, const struct oneline *ol, size_t i,
		      struct fl_diag *d)
{
	struct origin *o = new_origin(g, "--target", i, ol->ntargets);
	const char *text = ol->targets[i];
	const struct fl_node *k;
	struct fl_doc *doc;

	doc = parse_opt(o->label, text, d);
	if (!doc)
		return -EINVAL;
	k = doc->root->n ? doc->root->pairs[0].key : NULL;
	if (k && k->scalar && is_kind(k->scalar)) {
		char name[32];

		if (g->ntarget_short++)
			snprintf(name, sizeof(name), "target-%u",
				 g->ntarget_short);
		else
			snprintf(name, sizeof(name), "target");
		put(g, "  %s:\n    ", name);
		o->indent = 4;
		if (ol->ntargets == 1)
			snprintf(g->target, sizeof(g->target), "%s", name);
	} else {
		put(g, "  ");
		o->indent = 2;
		if (ol->ntargets == 1 && k && k->scalar && doc->root->n == 1)
			snprintf(g->target, sizeof(g->target), "%s",
				 k->scalar);
	}
	put_text(g, o, text);
	fl_doc_free(doc);
	return 0;
}

/* The engine a fault's map names, with its key. */
static const struct fl_engine *fault_engine(const struct fl_node *root,
					    const struct fl_node **val)
{
	const struct fl_engine *e;
	size_t i;

	for (i = 0; i < root->n; i++) {
		const struct fl_node *k = root->pairs[i].key;

		if (!k || !k->scalar)
			continue;
		e = fl_engine_find(k->scalar);
		if (e && e->parse) {
			*val = root->pairs[i].value;
			return e;
		}
	}
	return NULL;
}

static bool engine_takes(const struct fl_engine *e, const char *key)
{
	const char *const *k;

	for (k = e->keys; k && *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* Is the node a map in braces (its first character a '{')? */
static bool at_brace(const char *text, const struct fl_node *n)
{
	unsigned int l;

	if (!n->line || !n->col)
		return false;
	for (l = 1; l < n->line && text; l++)
		text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
	return text && strlen(text) >= n->col && text[n->col - 1] == '{';
}

/* A name for a fault without one: its engine's, then NAME-2... */
static void fault_name(const struct oneline *ol, size_t i,
		       const struct fl_engine *e, char *buf, size_t len)
{
	const char *base = e ? e->name : "fault";
	size_t k, same = 0;

	for (k = 0; k < i; k++)
		if (strstr(ol->faults[k], base))
			same++;
	if (same)
		snprintf(buf, len, "%s-%zu", base, same + 1);
	else
		snprintf(buf, len, "%s", base);
}

/*
 * A fault: "KIND: {...}" (or a map with name:, at:, for:... and the
 * engine's key) as an item of faults:, named when it has no name, and
 * given the target when there is one and its engine takes one.
 */
static int put_fault(struct gen *g, const struct oneline *ol, size_t i,
		     struct fl_diag *d)
{
	struct origin *o = new_origin(g, "--fault", i, ol->nfaults);
	const char *text = ol->faults[i];
	const struct fl_node *val = NULL, *root;
	const struct fl_engine *e;
	struct fl_doc *doc;
	char name[64];
	bool flow;

	doc = parse_opt(o->label, text, d);
	if (!doc)
		return -EINVAL;
	root = doc->root;
	e = fault_engine(root, &val);
	flow = at_brace(text, root);
	fault_name(ol, i, e, name, sizeof(name));
	o->indent = 4;
	/* A map in braces is named inside them. */
	if (flow && !fl_map_get(root, "name"))
		insert(o, root->line, root->col, " name: %s,", name);
	/* The one target, inside the engine's braces. */
	if (g->target[0] && e && engine_takes(e, "target") && val &&
	    val->type == FL_NODE_MAP && !fl_map_get(val, "target") &&
	    at_brace(text, val))
		insert(o, val->line, val->col, " target: %s%s", g->target,
		       val->n ? "," : "");
	if (!flow && !fl_map_get(root, "name"))
		put(g, "  - name: %s\n    ", name);
	else
		put(g, "  - ");
	put_text(g, o, text);
	fl_doc_free(doc);
	return 0;
}

/* The file, into *buf (free it). */
static int generate(const struct oneline *ol, struct gen *g, char **buf,
		    size_t *len, struct fl_diag *d)
{
	struct origin *o;
	int err = 0;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->line = 1;
	g->f = open_memstream(buf, len);
	if (!g->f)
		return -errno;
	put(g, "# The drill a one-line 'faultline run' stands for\n"
	       "# (faultline run --print-yaml).\n"
	       "name: one-line\n");
	o = new_origin(g, "--for", 0, 1);
	put(g, "duration: ");
	o->indent = (unsigned int)strlen("duration: ");
	put_text(g, o, ol->duration);
	if (ol->ntargets)
		put(g, "targets:\n");
	for (i = 0; i < ol->ntargets; i++)
		if (put_target(g, ol, i, d))
			err = -EINVAL;
	put(g, "faults:\n");
	for (i = 0; !err && i < ol->nfaults; i++)
		if (put_fault(g, ol, i, d))
			err = -EINVAL;
	if (fclose(g->f) && !err)
		err = -errno;
	return err;
}

int oneline_load(const struct oneline *ol, struct fl_experiment **exp)
{
	struct fl_diag d;
	char *buf = NULL;
	size_t len = 0;
	struct gen g;
	int err;

	*exp = NULL;
	if (!ol->nfaults)
		return cmd_bad_usage(ol->cmd, "--target, --for and --print-yaml "
				     "go with --fault");
	if (!ol->duration)
		return cmd_bad_usage(ol->cmd, "--fault needs --for DURATION, as "
				     "in --for 30s: how long the drill runs");
	fl_diag_init(&d);
	err = generate(ol, &g, &buf, &len, &d);
	if (err == -EINVAL) {
		free(buf);
		return oneline_fail(NULL, &d);
	}
	if (!err && fl_experiment_load_buf(ONELINE_FILE, buf, len, exp, &d))
		err = -EINVAL;
	if (err == -EINVAL) {
		free(buf);
		return oneline_fail(&g, &d);
	}
	fl_diag_free(&d);
	if (err) {
		free(buf);
		fl_err("one-line drill: %s", strerror(-err));
		return FL_EXIT_APPLY;
	}
	if (ol->print_yaml) {
		fputs(buf, stdout);
		fl_experiment_free(*exp);
		*exp = NULL;
	}
	free(buf);
	return 0;
}
