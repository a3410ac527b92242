// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the experiment loader and its validation, with every
 * engine's parse and check linked in.  Built and run by `make fuzz`; the
 * seed corpus is examples/, tests/invalid/ and tests/fuzz/corpus/ (each
 * crash found becomes a file there, as a regression).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/faultline.h"
#include "tools/cmds.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The engines faultline has, from the list generated from the Build files. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fl_engines_set(fl_builtin_engines, fl_builtin_nengines);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_experiment *exp = NULL;
	struct fl_diag d;

	fl_diag_init(&d);
	fl_experiment_load_buf("fuzz.yaml", (const char *)data, size, &exp, &d);
	fl_experiment_free(exp);
	fl_diag_free(&d);
	return 0;
}
