// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the YAML tree (core/yaml.c) and diagnostics (core/diag.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/faultline.h"

/* Load buf as "t.yaml"; returns the printed diagnostics (to free). */
static char *load(const char *buf, struct fl_doc **doc, int *ret)
{
	struct fl_diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	fl_diag_init(&d);
	*ret = fl_doc_load_buf("t.yaml", buf, strlen(buf), doc, &d);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	fl_diag_print(&d, f);
	fclose(f);
	fl_diag_free(&d);
	return out;
}

static void test_positions(void **state)
{
	const char *y =
		"name: x\n"
		"faults:\n"
		"  - name: wan\n"
		"    netem: { device: eth0, delay: \"80ms\" }\n"
		"    at:\n"
		"list: [a, 'b']\n";
	const struct fl_node *root, *faults, *f0, *netem, *v;
	struct fl_doc *doc;
	char *msgs;
	int r;

	msgs = load(y, &doc, &r);
	assert_int_equal(r, 0);
	assert_string_equal(msgs, "");
	free(msgs);
	root = doc->root;
	assert_int_equal(root->type, FL_NODE_MAP);
	assert_int_equal(root->n, 3);
	assert_string_equal(root->file, "t.yaml");
	assert_string_equal(doc->file, "t.yaml");

	v = fl_map_get(root, "name");
	assert_non_null(v);
	assert_int_equal(v->type, FL_NODE_SCALAR);
	assert_string_equal(v->scalar, "x");
	assert_int_equal(v->line, 1);
	assert_int_equal(v->col, 7);
	assert_int_equal(root->pairs[0].key->line, 1);
	assert_int_equal(root->pairs[0].key->col, 1);

	faults = fl_map_get(root, "faults");
	assert_int_equal(faults->type, FL_NODE_SEQ);
	assert_int_equal(faults->n, 1);
	f0 = faults->items[0];
	assert_int_equal(f0->type, FL_NODE_MAP);
	assert_int_equal(f0->line, 3);
	assert_int_equal(f0->col, 5);
	netem = fl_map_get(f0, "netem");
	assert_int_equal(netem->type, FL_NODE_MAP);
	assert_int_equal(netem->line, 4);
	assert_int_equal(netem->col, 12);
	v = fl_map_get(netem, "delay");
	assert_string_equal(v->scalar, "80ms");
	assert_true(v->quoted);
	assert_int_equal(v->line, 4);
	assert_int_equal(v->col, 35);
	v = fl_map_get(netem, "device");
	assert_false(v->quoted);

	v = fl_map_get(f0, "at");
	assert_non_null(v);
	assert_true(fl_node_is_null(v));
	assert_string_equal(fl_node_type_name(v), "null");
	assert_string_equal(fl_node_desc(v), "nothing");

	v = fl_map_get(root, "list");
	assert_int_equal(v->type, FL_NODE_SEQ);
	assert_int_equal(v->n, 2);
	assert_int_equal(v->items[1]->col, 11);
	assert_true(v->items[1]->quoted);
	assert_string_equal(fl_node_type_name(v), "sequence");
	assert_string_equal(fl_node_type_name(root), "map");
	assert_string_equal(fl_node_type_name(v->items[0]), "scalar");
	assert_string_equal(fl_node_desc(v), "a sequence");

	assert_null(fl_map_get(root, "nope"));
	assert_null(fl_map_get(v, "a"));	/* not a map */
	assert_null(fl_map_get(NULL, "a"));
	fl_doc_free(doc);
}

static void test_null_scalars(void **state)
{
	const char *y = "a: ~\nb: null\nc: ''\nd: \"null\"\ne: NULL\nf: 0\n";
	struct fl_doc *doc;
	char *msgs;
	int r;

	msgs = load(y, &doc, &r);
	free(msgs);
	assert_int_equal(r, 0);
	assert_true(fl_node_is_null(fl_map_get(doc->root, "a")));
	assert_true(fl_node_is_null(fl_map_get(doc->root, "b")));
	assert_false(fl_node_is_null(fl_map_get(doc->root, "c")));
	assert_false(fl_node_is_null(fl_map_get(doc->root, "d")));
	assert_true(fl_node_is_null(fl_map_get(doc->root, "e")));
	assert_false(fl_node_is_null(fl_map_get(doc->root, "f")));
	assert_true(fl_node_is_null(NULL));
	fl_doc_free(doc);
}

static void expect_error(const char *y, const char *want)
{
	struct fl_doc *doc = (void *)1;
	char *msgs;
	int r;

	msgs = load(y, &doc, &r);
	assert_int_equal(r, -EINVAL);
	assert_null(doc);
	assert_string_equal(msgs, want);
	free(msgs);
}

static void test_syntax_errors(void **state)
{
	char deep[300];

	expect_error("a: [1,\nb: 2\n",
		     "t.yaml:3:1: syntax error: did not find expected ',' "
		     "or ']'\n");
	/* Said as what is wrong, not in libyaml's words (issue 16). */
	expect_error("a: 1\n\tb: 2\n", "t.yaml:2:1: a tab in the indentation: "
		     "YAML does not allow tabs for indentation, only spaces\n");
	expect_error("a:\n  - x: 1\n  \ty: 2\n", "t.yaml:3:3: a tab in the "
		     "indentation: YAML does not allow tabs for indentation, "
		     "only spaces\n");
	expect_error("a: 1\n b: 2\n", "t.yaml:2:3: unexpected ': ' in a "
		     "value: quote a value that has one (\"a: b\"), and start "
		     "a key at its map's indentation (a line indented more "
		     "continues the value above)\n");
	expect_error("a:\n  - x: 1\n   - y: 2\n", "t.yaml:3:4: bad "
		     "indentation: expected another item ('- ...') of the list "
		     "that begins at line 2, column 3, or less indentation to "
		     "end it; a key of the item above goes under its first "
		     "key, at column 5\n");
	expect_error("a:\n  b: 1\n   c: 2\n", "t.yaml:3:5: unexpected ': ' "
		     "in a value: quote a value that has one (\"a: b\"), and "
		     "start a key at its map's indentation (a line indented "
		     "more continues the value above)\n");
	expect_error("a:\n  b:\n    c: 1\n   d: 2\n", "t.yaml:4:4: bad "
		     "indentation: expected a key ('key: value') at column 3, "
		     "as in the map that begins at line 2, or less indentation "
		     "to end it\n");
	expect_error("a: 1\nb\n", "t.yaml:2:1: expected 'key: value': this "
		     "key has no ':' after it (a value on a line of its own "
		     "must be indented under a key)\n");
	expect_error("a: \"x\n", "t.yaml:2:1: syntax error: found "
		     "unexpected end of stream\n");
	expect_error("a: \xff\n", "t.yaml:1:4: syntax error: invalid "
		     "leading UTF-8 octet (0xff)\n");
	expect_error("a: &x 1\nb: *x\n",
		     "t.yaml:2:4: aliases are not supported\n");
	expect_error("a: 1\n---\nb: 2\n",
		     "t.yaml:2:1: only one YAML document is allowed\n");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_error(deep, "t.yaml:1:65: nesting deeper than 64 levels\n");
}

static void test_empty_and_odd(void **state)
{
	struct fl_doc *doc;
	struct fl_diag d;
	char *msgs;
	int r;

	msgs = load("", &doc, &r);
	assert_int_equal(r, 0);
	assert_null(doc->root);
	free(msgs);
	fl_doc_free(doc);

	msgs = load("# only a comment\n", &doc, &r);
	assert_int_equal(r, 0);
	assert_null(doc->root);
	free(msgs);
	fl_doc_free(doc);

	/* Anchors without aliases are harmless. */
	msgs = load("a: &x 1\n", &doc, &r);
	assert_int_equal(r, 0);
	assert_string_equal(fl_map_get(doc->root, "a")->scalar, "1");
	free(msgs);
	fl_doc_free(doc);

	/* A complex key is kept (and refused by fl_map_check). */
	msgs = load("? [a]\n: 1\n", &doc, &r);
	assert_int_equal(r, 0);
	assert_int_equal(doc->root->pairs[0].key->type, FL_NODE_SEQ);
	free(msgs);
	fl_diag_init(&d);
	assert_int_equal(fl_map_check(doc->root, (const char *const[]){ "a",
				      NULL }, "thing", &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "thing: keys must be plain strings, "
			    "got a sequence");
	fl_diag_free(&d);
	fl_doc_free(doc);

	/* A NUL in a buffer ends nothing early; libyaml rejects it. */
	fl_diag_init(&d);
	r = fl_doc_load_buf("n.yaml", "a: 1\0b", 6, &doc, &d);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(d.n, 1);
	fl_diag_free(&d);

	fl_diag_init(&d);
	r = fl_doc_load("/nonexistent/x.yaml", &doc, &d);
	assert_int_equal(r, -ENOENT);
	assert_null(doc);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "/nonexistent/x.yaml");
	assert_int_equal(d.v[0].line, 0);
	fl_diag_free(&d);
}

static void test_map_check(void **state)
{
	static const char *const keys[] = { "device", "delay", "jitter",
					    "loss", NULL };
	const char *y =
		"netem:\n"
		"  device: eth0\n"
		"  dealy: 80ms\n"
		"  loss: 1%\n"
		"  bogus: 1\n"
		"  loss: 2%\n"
		"seq: [1]\n";
	const struct fl_node *netem;
	struct fl_doc *doc;
	struct fl_diag d;
	char *msgs, *out = NULL;
	size_t len;
	FILE *f;
	int r;

	msgs = load(y, &doc, &r);
	assert_int_equal(r, 0);
	free(msgs);
	netem = fl_map_get(doc->root, "netem");
	fl_diag_init(&d);
	assert_int_equal(fl_map_check(netem, keys, "netem", &d), -EINVAL);
	assert_int_equal(fl_map_check(fl_map_get(doc->root, "seq"), keys,
				      "thing", &d), -EINVAL);
	assert_int_equal(fl_map_check(fl_map_get(doc->root, "nope"), keys,
				      "nothing", &d), -EINVAL);
	assert_null(fl_map_need(netem, "jitter", "netem", &d));
	assert_non_null(fl_map_need(netem, "device", "netem", &d));
	f = open_memstream(&out, &len);
	fl_diag_print(&d, f);
	fclose(f);
	assert_string_equal(out,
		"nothing: expected a map, got nothing\n"
		"t.yaml:2:3: netem: missing 'jitter'\n"
		"t.yaml:3:3: unknown key 'dealy' in netem (did you mean "
		"'delay'?)\n"
		"t.yaml:5:3: unknown key 'bogus' in netem\n"
		"t.yaml:6:3: duplicate key 'loss' in netem\n"
		"t.yaml:7:6: thing: expected a map, got a sequence\n");
	free(out);
	fl_diag_free(&d);

	/* A clean map reports nothing. */
	fl_diag_init(&d);
	assert_int_equal(fl_map_check(doc->root, (const char *const[]){
		"netem", "seq", NULL }, "top", &d), 0);
	assert_int_equal(d.n, 0);
	fl_diag_free(&d);
	fl_doc_free(doc);
}

static void test_diag_sort_dedupe(void **state)
{
	struct fl_diag d;
	json_object *j, *e;
	char *out = NULL;
	size_t len;
	FILE *f;

	fl_diag_init(&d);
	fl_diag_at(&d, "b.yaml", 1, 1, "in b");
	fl_diag_at(&d, "a.yaml", 10, 2, "ten");
	fl_diag_at(&d, "a.yaml", 2, 5, "two-five");
	fl_diag_at(&d, "a.yaml", 2, 3, "two-three first");
	fl_diag_at(&d, "a.yaml", 2, 3, "two-three second");
	fl_diag_at(&d, "a.yaml", 2, 3, "two-three first");	/* dup */
	fl_diag_at(&d, "a.yaml", 10, 2, "ten");			/* dup */
	fl_diag_at(&d, "a.yaml", 0, 0, "file level %d", 1);
	fl_diag_err(&d, NULL, "no file");
	assert_int_equal(d.n, 9);

	j = fl_diag_json(&d);
	assert_int_equal(json_object_array_length(j), 7);
	e = json_object_array_get_idx(j, 2);
	assert_string_equal(json_object_get_string(
		json_object_object_get(e, "message")), "two-three first");
	assert_int_equal(json_object_get_int(json_object_object_get(e,
				"line")), 2);
	assert_int_equal(json_object_get_int(json_object_object_get(e,
				"col")), 3);
	json_object_put(j);

	f = open_memstream(&out, &len);
	fl_diag_print(&d, f);
	fclose(f);
	assert_string_equal(out,
		"no file\n"
		"a.yaml: file level 1\n"
		"a.yaml:2:3: two-three first\n"
		"a.yaml:2:3: two-three second\n"
		"a.yaml:2:5: two-five\n"
		"a.yaml:10:2: ten\n"
		"b.yaml:1:1: in b\n");
	free(out);
	fl_diag_free(&d);
	assert_int_equal(d.n, 0);
	fl_diag_free(&d);	/* twice is fine */

	/* An empty d prints nothing and gives an empty array. */
	j = fl_diag_json(&d);
	assert_int_equal(json_object_array_length(j), 0);
	json_object_put(j);
}

static void test_diag_bounded(void **state)
{
	struct fl_diag d;
	int i;

	fl_diag_init(&d);
	for (i = 0; i < 5000; i++)
		fl_diag_at(&d, "x", (unsigned int)i + 1, 1, "e%d", i);
	assert_true(d.n <= 1000);
	assert_true(d.n > 0);
	fl_diag_free(&d);
}

static void test_quote(void **state)
{
	char b[64];

	assert_string_equal(fl_quote("plain", b, sizeof(b)), "plain");
	assert_string_equal(fl_quote("a\nb\tc", b, sizeof(b)), "a?b?c");
	assert_string_equal(fl_quote(NULL, b, sizeof(b)), "");
	assert_string_equal(fl_quote("0123456789012345678901234567890123456789"
				     "0123456789", b, sizeof(b)),
			    "0123456789012345678901234567890123456789...");
	assert_string_equal(fl_quote("abcdef", b, 4), "abc");
}

/* Random and mutated inputs: no crash, no leak (run under valgrind). */
static void test_garbage(void **state)
{
	static const char *const seeds[] = {
		"a: [1, {b: c}]\n", "- - - x\n", "{a: b, c: [d, e]}\n",
		"a: |\n  text\n", "? x\n: y\n", "!!str a: !!int 1\n",
		"a: 'x''y'\n", "%YAML 1.1\n---\na: 1\n",
	};
	static const char alphabet[] = "ab:-[]{},&*!|>'\"\n #?%\t";
	unsigned int seed = 42;
	char buf[128];
	size_t i, j, k;

	for (i = 0; i < 3000; i++) {
		struct fl_doc *doc;
		struct fl_diag d;
		size_t len;

		if (i % 2) {
			const char *s = seeds[i % ARRAY_SIZE(seeds)];

			len = strlen(s);
			memcpy(buf, s, len);
			for (k = 0; k < 3; k++) {
				seed = seed * 1103515245 + 12345;
				buf[(seed >> 8) % len] =
					alphabet[(seed >> 16) %
						 (sizeof(alphabet) - 1)];
			}
		} else {
			len = (i / 2) % sizeof(buf);
			for (j = 0; j < len; j++) {
				seed = seed * 1103515245 + 12345;
				buf[j] = alphabet[(seed >> 16) %
						  (sizeof(alphabet) - 1)];
			}
		}
		fl_diag_init(&d);
		if (!fl_doc_load_buf("g.yaml", buf, len, &doc, &d)) {
			assert_int_equal(d.n, 0);
			fl_doc_free(doc);
		} else {
			assert_true(d.n > 0);
		}
		fl_diag_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_null_scalars),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_empty_and_odd),
		cmocka_unit_test(test_map_check),
		cmocka_unit_test(test_diag_sort_dedupe),
		cmocka_unit_test(test_diag_bounded),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
