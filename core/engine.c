// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one list of fault engines.  A fault names its engine by key
 * (netem:, partition:, oom:, syscall:); the loader finds it here.  Tests
 * add engines of their own with fl_engine_register().
 */
#include <string.h>

#include "core/faultline.h"
#include "netem/netem.h"
#include "cgroup/memcg.h"
#include "bpf/bpfault.h"

/*
 * Weak so that a tree where an engine is not written yet still links;
 * an engine that is not there is left out of the list.
 */
#pragma weak netem_engine
#pragma weak partition_engine
#pragma weak oom_engine
#pragma weak syscall_engine

static const struct fl_engine *const builtin[] = {
	&netem_engine,
	&partition_engine,
	&oom_engine,
	&syscall_engine,
};

#define FL_MAX_ENGINES	16

/* Filled on first use, so that constructors can register early. */
static const struct fl_engine *engines[FL_MAX_ENGINES];
static const char *names[FL_MAX_ENGINES + 1];
static size_t nengines;
static bool builtin_done;

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

static void init_builtin(void)
{
	const struct fl_engine *extra[FL_MAX_ENGINES];
	size_t i, n;

	if (builtin_done)
		return;
	builtin_done = true;
	/* Built-in engines first, then those registered before. */
	n = nengines;
	memcpy(extra, engines, n * sizeof(*extra));
	nengines = 0;
	memset(names, 0, sizeof(names));
	for (i = 0; i < ARRAY_SIZE(builtin); i++)
		add(builtin[i]);
	for (i = 0; i < n; i++)
		add(extra[i]);
}

void fl_engine_register(const struct fl_engine *e)
{
	add(e);
}

const struct fl_engine *fl_engine_find(const char *name)
{
	size_t i;

	init_builtin();
	if (!name)
		return NULL;
	for (i = 0; i < nengines; i++)
		if (!strcmp(engines[i]->name, name))
			return engines[i];
	return NULL;
}

const char *const *fl_engine_names(void)
{
	init_builtin();
	return names;
}

void fl_expectation(json_object *observed, bool met, const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "met", json_object_new_boolean(met));
	json_object_object_add(o, "detail",
			       json_object_new_string(detail ? detail : ""));
	json_object_object_add(observed, "expectation", o);
}
