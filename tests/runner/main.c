// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline-test's main: faultline's engines and, after them, the test
 * engine (test_engine.c), whose kernel state is a file; then the same
 * command line as faultline.
 */
#include "cgroup/memcg.h"
#include "tools/cmds.h"

extern const struct fl_engine test_engine;

int main(int argc, char **argv)
{
	const struct fl_engine *list[32];
	size_t i, n = 0;

	for (i = 0; i < fl_builtin_nengines && n < ARRAY_SIZE(list) - 1; i++)
		list[n++] = fl_builtin_engines[i];
	list[n++] = &test_engine;
	fl_engines_set(list, n);
	fl_placer_set(&fl_scratch_placer);
	return cmd_main(argc, argv);
}
