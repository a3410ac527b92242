// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline's main: the binary composes itself (the engines the Build
 * files list, the scratch-cgroup placer for command targets), then the
 * command line runs.  The test binary has its own (tests/runner/main.c).
 */
#include "cgroup/memcg.h"
#include "tools/cmds.h"

int main(int argc, char **argv)
{
	fl_engines_set(fl_builtin_engines, fl_builtin_nengines);
	fl_placer_set(&fl_scratch_placer);
	return cmd_main(argc, argv);
}
