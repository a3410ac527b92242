// SPDX-License-Identifier: GPL-2.0-only
/* Growing arrays: the one copy of the double-when-full step. */
#include <errno.h>
#include <stdlib.h>

#include "core/faultline.h"

int fl_grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want;
	void *nv;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	nv = realloc(*v, want * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = want;
	return 0;
}
