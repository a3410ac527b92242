// SPDX-License-Identifier: GPL-2.0-only
/*
 * The YAML document tree: libyaml's event parser builds fl_node trees that
 * remember the 1-based line and column of every node, so that every
 * message can point at the spot.  Anchors are accepted and ignored;
 * aliases are refused (they would make a tree a graph).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/faultline.h"

/* Deeper nesting than this is no experiment file; it bounds recursion. */
#define FL_YAML_MAX_DEPTH	64

struct frame {
	struct fl_node *node;
	size_t cap;
	bool want_value;	/* a map whose last pair has no value yet */
};

static void node_free(struct fl_node *n)
{
	size_t i;

	if (!n)
		return;
	switch (n->type) {
	case FL_NODE_SCALAR:
		free(n->scalar);
		break;
	case FL_NODE_SEQ:
		for (i = 0; i < n->n; i++)
			node_free(n->items[i]);
		free(n->items);
		break;
	case FL_NODE_MAP:
		for (i = 0; i < n->n; i++) {
			node_free(n->pairs[i].key);
			node_free(n->pairs[i].value);
		}
		free(n->pairs);
		break;
	}
	free(n);
}

void fl_doc_free(struct fl_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

static struct fl_node *node_new(struct fl_doc *doc, enum fl_node_type type,
				const yaml_mark_t *m)
{
	struct fl_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->file = doc->file;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

/* Hang n under the top frame (or make it the root); n is owned after. */
static int attach(struct fl_doc *doc, struct frame *top, struct fl_node *n)
{
	struct fl_node *p;

	if (!top) {
		if (doc->root) {
			node_free(n);
			return -EINVAL;
		}
		doc->root = n;
		return 0;
	}
	p = top->node;
	if (p->type == FL_NODE_MAP && top->want_value) {
		p->pairs[p->n - 1].value = n;
		top->want_value = false;
		return 0;
	}
	if (p->n == top->cap) {
		size_t cap = top->cap ? top->cap * 2 : 4;
		void *v;

		if (p->type == FL_NODE_MAP)
			v = realloc(p->pairs, cap * sizeof(*p->pairs));
		else
			v = realloc(p->items, cap * sizeof(*p->items));
		if (!v) {
			node_free(n);
			return -ENOMEM;
		}
		if (p->type == FL_NODE_MAP)
			p->pairs = v;
		else
			p->items = v;
		top->cap = cap;
	}
	if (p->type == FL_NODE_MAP) {
		p->pairs[p->n].key = n;
		p->pairs[p->n].value = NULL;
		top->want_value = true;
	} else {
		p->items[p->n] = n;
	}
	p->n++;
	return 0;
}

/* libyaml gives no mark for reader errors, only a byte offset. */
static void offset_pos(const char *buf, size_t len, size_t off,
		       unsigned int *line, unsigned int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* The offset of the first byte of line (1-based) in buf. */
static size_t line_start(const char *buf, size_t len, unsigned int line)
{
	size_t i = 0;

	while (--line && i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);

		if (!nl)
			return len;
		i = nl - buf + 1;
	}
	return i;
}

/* The column (1-based) of a tab in line's indentation ("  - \t"), or 0. */
static unsigned int indent_tab(const char *buf, size_t len, unsigned int line)
{
	size_t i = line_start(buf, len, line);
	unsigned int col = 1;

	for (; i < len && strchr(" \t-", buf[i]) && buf[i]; i++, col++)
		if (buf[i] == '\t')
			return col;
	return 0;
}

/* The column where the first key after the '-' at line:col begins. */
static unsigned int item_key_col(const char *buf, size_t len,
				 unsigned int line, unsigned int col)
{
	size_t i = line_start(buf, len, line) + col - 1;

	if (i >= len || buf[i] != '-')
		return col + 2;
	for (i++, col++; i < len && buf[i] == ' '; i++)
		col++;
	return col;
}

/*
 * libyaml's words for a bad structure, said as what was expected there;
 * false for a problem it has no better words for.
 */
static bool explain(struct fl_doc *doc, yaml_parser_t *p, const char *buf,
		    size_t len, unsigned int line, unsigned int col,
		    struct fl_diag *d)
{
	unsigned int cl = p->context_mark.line + 1;
	unsigned int cc = p->context_mark.column + 1;
	const char *what = p->problem ? p->problem : "";
	unsigned int tab, tl = line;

	tab = indent_tab(buf, len, tl);
	if (!tab && p->context) {
		tl = cl;
		tab = indent_tab(buf, len, tl);
	}
	if (tab) {
		fl_diag_at(d, doc->file, tl, tab, "a tab in the indentation: "
			   "YAML does not allow tabs for indentation, only "
			   "spaces");
		return true;
	}
	if (!strcmp(what, "mapping values are not allowed in this context")) {
		fl_diag_at(d, doc->file, line, col, "unexpected ': ' in a "
			   "value: quote a value that has one (\"a: b\"), and "
			   "start a key at its map's indentation (a line "
			   "indented more continues the value above)");
		return true;
	}
	if (!p->context)
		return false;
	if (!strcmp(what, "did not find expected '-' indicator")) {
		fl_diag_at(d, doc->file, line, col, "bad indentation: expected "
			   "another item ('- ...') of the list that begins at "
			   "line %u, column %u, or less indentation to end it; "
			   "a key of the item above goes under its first key, "
			   "at column %u", cl, cc,
			   item_key_col(buf, len, cl, cc));
		return true;
	}
	if (!strcmp(what, "did not find expected key")) {
		fl_diag_at(d, doc->file, line, col, "bad indentation: expected "
			   "a key ('key: value') at column %u, as in the map that "
			   "begins at line %u, or less indentation to end it",
			   cc, cl);
		return true;
	}
	if (!strcmp(what, "could not find expected ':'")) {
		fl_diag_at(d, doc->file, cl, cc, "expected 'key: value': this "
			   "key has no ':' after it (a value on a line of its "
			   "own must be indented under a key)");
		return true;
	}
	return false;
}

static void syntax_error(struct fl_doc *doc, yaml_parser_t *p,
			 const char *buf, size_t len, struct fl_diag *d)
{
	unsigned int line, col;

	if (p->error == YAML_READER_ERROR) {
		offset_pos(buf, len, p->problem_offset, &line, &col);
	} else {
		line = p->problem_mark.line + 1;
		col = p->problem_mark.column + 1;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		fl_diag_at(d, doc->file, 0, 0, "out of memory");
		return;
	}
	if (p->error != YAML_READER_ERROR &&
	    explain(doc, p, buf, len, line, col, d))
		return;
	if (p->error == YAML_READER_ERROR && p->problem_value != -1)
		fl_diag_at(d, doc->file, line, col, "syntax error: %s (0x%x)",
			   p->problem ? p->problem : "unreadable input",
			   (unsigned int)p->problem_value);
	else
		fl_diag_at(d, doc->file, line, col, "syntax error: %s",
			   p->problem ? p->problem : "bad input");
}

static int build(struct fl_doc *doc, const char *buf, size_t len,
		 struct fl_diag *d)
{
	struct frame stack[FL_YAML_MAX_DEPTH];
	yaml_parser_t p;
	yaml_event_t ev;
	struct fl_node *n;
	int depth = 0, docs = 0, err = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done && !err) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(doc, &p, buf, len, d);
			err = -EINVAL;
			break;
		}
		n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				fl_diag_at(d, doc->file,
					   ev.start_mark.line + 1,
					   ev.start_mark.column + 1,
					   "only one YAML document is allowed");
				err = -EINVAL;
			}
			break;
		case YAML_ALIAS_EVENT:
			fl_diag_at(d, doc->file, ev.start_mark.line + 1,
				   ev.start_mark.column + 1,
				   "aliases are not supported");
			err = -EINVAL;
			break;
		case YAML_SCALAR_EVENT:
			n = node_new(doc, FL_NODE_SCALAR, &ev.start_mark);
			if (!n) {
				err = -ENOMEM;
				break;
			}
			n->scalar = malloc(ev.data.scalar.length + 1);
			if (!n->scalar) {
				free(n);
				err = -ENOMEM;
				break;
			}
			memcpy(n->scalar, ev.data.scalar.value,
			       ev.data.scalar.length);
			n->scalar[ev.data.scalar.length] = '\0';
			n->quoted = ev.data.scalar.style !=
				    YAML_PLAIN_SCALAR_STYLE;
			err = attach(doc, depth ? &stack[depth - 1] : NULL, n);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == FL_YAML_MAX_DEPTH) {
				fl_diag_at(d, doc->file,
					   ev.start_mark.line + 1,
					   ev.start_mark.column + 1,
					   "nesting deeper than %d levels",
					   FL_YAML_MAX_DEPTH);
				err = -EINVAL;
				break;
			}
			n = node_new(doc, ev.type == YAML_SEQUENCE_START_EVENT ?
				     FL_NODE_SEQ : FL_NODE_MAP,
				     &ev.start_mark);
			if (!n) {
				err = -ENOMEM;
				break;
			}
			err = attach(doc, depth ? &stack[depth - 1] : NULL, n);
			if (err)
				break;
			stack[depth].node = n;
			stack[depth].cap = 0;
			stack[depth].want_value = false;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (err == -ENOMEM)
		fl_diag_at(d, doc->file, 0, 0, "out of memory");
	return err;
}

int fl_doc_load_buf(const char *name, const char *buf, size_t len,
		    struct fl_doc **out, struct fl_diag *d)
{
	struct fl_doc *doc;
	int err;

	*out = NULL;
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return -ENOMEM;
	doc->file = strdup(name ? name : "<input>");
	if (!doc->file) {
		free(doc);
		return -ENOMEM;
	}
	err = build(doc, buf ? buf : "", buf ? len : 0, d);
	if (err) {
		fl_doc_free(doc);
		return err;
	}
	*out = doc;
	return 0;
}

/* Files larger than this are no experiment files. */
#define FL_DOC_MAX_SIZE	(16 << 20)

bool fl_allow_insecure_file;

/* The sudo rule, on the open file: a drill runs as root what it says. */
static int check_owner(FILE *f, const char *path, struct fl_diag *d)
{
	const char *sudo = getenv("SUDO_UID");
	struct stat st;
	uid_t ok = (uid_t)-1;
	char *end;

	if (fstat(fileno(f), &st))
		return -errno;
	if (fl_allow_insecure_file)
		return 0;
	if (sudo && *sudo && getuid() == 0) {
		unsigned long u = strtoul(sudo, &end, 10);

		if (!*end)
			ok = (uid_t)u;
	}
	if (st.st_mode & S_IWOTH) {
		fl_diag_at(d, path, 0, 0,
			   "refusing a world-writable experiment file (chmod o-w, or --allow-insecure-file)");
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid() &&
	    st.st_uid != getuid() && st.st_uid != ok) {
		fl_diag_at(d, path, 0, 0,
			   "refusing an experiment file owned by uid %u, not by root or you (chown, or --allow-insecure-file)",
			   (unsigned int)st.st_uid);
		return -EPERM;
	}
	return 0;
}

int fl_doc_load(const char *path, struct fl_doc **out, struct fl_diag *d)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;
	int err;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		fl_diag_at(d, path, 0, 0, "cannot open: %s", strerror(-err));
		return err;
	}
	err = check_owner(f, path, d);
	if (err) {
		if (err != -EPERM)
			fl_diag_at(d, path, 0, 0, "cannot stat: %s",
				   strerror(-err));
		fclose(f);
		return err;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= FL_DOC_MAX_SIZE) {
				fl_diag_at(d, path, 0, 0,
					   "file larger than %d MiB",
					   FL_DOC_MAX_SIZE >> 20);
				err = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		err = -EIO;
		fl_diag_at(d, path, 0, 0, "cannot read: %s", strerror(EIO));
		goto out;
	}
	err = fl_doc_load_buf(path, buf, len, out, d);
out:
	free(buf);
	fclose(f);
	return err;
}

bool fl_node_is_null(const struct fl_node *n)
{
	const char *s;

	if (!n)
		return true;
	if (n->type != FL_NODE_SCALAR || n->quoted)
		return false;
	s = n->scalar;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A node's type: its name, and how a message says it ("a map"). */
static const char *type_word(const struct fl_node *n, bool article)
{
	static const char *const names[][2] = {
		[FL_NODE_SCALAR] = { "scalar", "a scalar" },
		[FL_NODE_SEQ] = { "sequence", "a sequence" },
		[FL_NODE_MAP] = { "map", "a map" },
	};

	if (!n || fl_node_is_null(n))
		return article ? "nothing" : "null";
	if ((size_t)n->type >= ARRAY_SIZE(names) || !names[n->type][0])
		return "?";
	return names[n->type][article];
}

const char *fl_node_type_name(const struct fl_node *n)
{
	return type_word(n, false);
}

const char *fl_node_desc(const struct fl_node *n)
{
	return type_word(n, true);
}

const char *fl_quote(const char *s, char *buf, size_t len)
{
	size_t i, o = 0, max;

	if (!len)
		return "";
	if (!s)
		s = "";
	max = len - 1;
	if (max > 40)
		max = 40;
	for (i = 0; s[i] && o < max; i++) {
		unsigned char c = s[i];

		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	/* Do not cut a UTF-8 sequence in half. */
	if (s[i]) {
		while (o && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		if (o + 3 < len) {
			memcpy(buf + o, "...", 3);
			o += 3;
		}
	}
	buf[o] = '\0';
	return buf;
}

const struct fl_node *fl_map_get(const struct fl_node *map, const char *key)
{
	size_t i;

	if (!map || map->type != FL_NODE_MAP || !key)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct fl_node *k = map->pairs[i].key;

		if (k && k->type == FL_NODE_SCALAR && !strcmp(k->scalar, key))
			return map->pairs[i].value;
	}
	return NULL;
}

int fl_map_check(const struct fl_node *map, const char *const *keys,
		 const char *what, struct fl_diag *d)
{
	char q[64];
	size_t i, j, k;
	int err = 0;

	if (!map || map->type != FL_NODE_MAP) {
		fl_diag_err(d, map, "%s: expected a map, got %s", what,
			    fl_node_desc(map));
		return -EINVAL;
	}
	for (i = 0; i < map->n; i++) {
		const struct fl_node *key = map->pairs[i].key;
		bool known = false, dup = false;
		const char *hint;

		if (!key || key->type != FL_NODE_SCALAR) {
			fl_diag_err(d, key, "%s: keys must be plain strings, "
				    "got %s", what, fl_node_desc(key));
			err = -EINVAL;
			continue;
		}
		for (j = 0; j < i && !dup; j++) {
			const struct fl_node *o = map->pairs[j].key;

			dup = o && o->type == FL_NODE_SCALAR &&
			      !strcmp(o->scalar, key->scalar);
		}
		if (dup) {
			fl_diag_err(d, key, "duplicate key '%s' in %s",
				    fl_quote(key->scalar, q, sizeof(q)), what);
			err = -EINVAL;
			continue;
		}
		for (k = 0; keys && keys[k] && !known; k++)
			known = !strcmp(keys[k], key->scalar);
		if (known)
			continue;
		err = -EINVAL;
		hint = fl_did_you_mean(key->scalar, keys);
		if (hint)
			fl_diag_err(d, key, "unknown key '%s' in %s "
				    "(did you mean '%s'?)",
				    fl_quote(key->scalar, q, sizeof(q)), what,
				    hint);
		else
			fl_diag_err(d, key, "unknown key '%s' in %s",
				    fl_quote(key->scalar, q, sizeof(q)), what);
	}
	return err;
}

int fl_submap_check(const struct fl_node *map, const char *const *keys,
		    const char *what, const char *hint, int *err,
		    struct fl_diag *d)
{
	if (fl_map_check(map, keys, what, d))
		*err = -EINVAL;
	if (!map || map->type != FL_NODE_MAP)
		return -EINVAL;
	if (!map->n) {
		fl_diag_err(d, map, "%s: empty; %s", what, hint);
		return -EINVAL;
	}
	return 0;
}

const struct fl_node *fl_map_need(const struct fl_node *map, const char *key,
				  const char *what, struct fl_diag *d)
{
	const struct fl_node *v;

	if (!map || map->type != FL_NODE_MAP)
		return NULL;
	v = fl_map_get(map, key);
	if (!v)
		fl_diag_err(d, map, "%s: missing '%s'", what, key);
	return v;
}
