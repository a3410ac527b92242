// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine list.  A fault names its engine by key (netem:, partition:,
 * oom:, syscall:); the loader finds it here.  The list is the binary's:
 * faultline's main passes the one generated from the Build files' engine-y
 * lines (tools/engines.c) with fl_engines_set(); the test binary passes
 * that list with its test engine after it.  core/ names no engine.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faultline.h"

#define FL_MAX_ENGINES	16

static const struct fl_engine *engines[FL_MAX_ENGINES];
static const char *names[FL_MAX_ENGINES + 1];
static size_t nengines;

static void add(const struct fl_engine *e)
{
	size_t i;

	if (!e || !e->name || nengines >= FL_MAX_ENGINES)
		return;
	for (i = 0; i < nengines; i++)
		if (engines[i] == e || !strcmp(engines[i]->name, e->name))
			return;
	engines[nengines++] = e;
	/* Only engines with a parse are fault kinds a file may name. */
	if (e->parse) {
		for (i = 0; names[i]; i++)
			;
		names[i] = e->name;
		names[i + 1] = NULL;
	}
}

/*
 * The binary's list, first: what was registered before (the test
 * binary's engines) goes after it.
 */
void fl_engines_set(const struct fl_engine *const *list, size_t n)
{
	const struct fl_engine *extra[FL_MAX_ENGINES];
	size_t i, nextra = nengines;

	memcpy(extra, engines, nextra * sizeof(*extra));
	nengines = 0;
	memset(names, 0, sizeof(names));
	for (i = 0; i < n; i++)
		add(list[i]);
	for (i = 0; i < nextra; i++)
		add(extra[i]);
}

void fl_engine_register(const struct fl_engine *e)
{
	add(e);
}

const struct fl_engine *fl_engine_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < nengines; i++)
		if (!strcmp(engines[i]->name, name))
			return engines[i];
	return NULL;
}

const char *const *fl_engine_names(void)
{
	return names;
}

const struct fl_engine *fl_engine_at(size_t i)
{
	return i < nengines ? engines[i] : NULL;
}

void fl_expectation(json_object *observed, bool met, const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "met", json_object_new_boolean(met));
	fl_json_add_str(o, "detail", detail ? detail : "");
	json_object_object_add(observed, "expectation", o);
}

void fl_json_add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

void fl_json_addf(json_object *array, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(array, json_object_new_string(buf));
}
