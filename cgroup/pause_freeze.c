// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup freezer, both versions.  v2: write 1 to cgroup.freeze and
 * wait until cgroup.events says "frozen 1" (every task has stopped in
 * the kernel's freezer); write 0 to thaw.  v1: write FROZEN to
 * freezer.state and wait while it reads FREEZING, writing FROZEN again
 * now and then (v1 retries the tasks that were busy only then); write
 * THAWED to thaw.  These are cgroupfs control files, read and written
 * directly: libcgroup (cg.c) serves the memory controller only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/pause.h"

#define PAUSE_POLL_MS		10
#define PAUSE_V1_RETRY_MS	100

int pause_frozen(enum pause_how how, const char *path, bool *self)
{
	char buf[32];
	uint64_t v;
	int r;

	*self = false;
	if (how == PAUSE_V2) {
		r = cg_file_read(path, "cgroup.freeze", buf, sizeof(buf));
		if (r)
			return r;
		*self = !strcmp(buf, "1");
		r = cg_read_key(path, "cgroup.events", "frozen", &v);
		if (r)
			return r;
		return v || *self;
	}
	r = cg_file_read(path, "freezer.state", buf, sizeof(buf));
	if (r)
		return r;
	if (!cg_file_read(path, "freezer.self_freezing", buf + 16, 16))
		*self = !strcmp(buf + 16, "1");
	return strcmp(buf, "THAWED") != 0;
}

/* Each freezer's control file, its values, and the file that says. */
static const struct {
	const char *file, *freeze, *thaw, *says;
} knobs[] = {
	[PAUSE_V2] = { "cgroup.freeze", "1", "0", "cgroup.events" },
	[PAUSE_V1] = { "freezer.state", "FROZEN", "THAWED", "freezer.state" },
};

/* 1 once frozen, 0 not yet, or -errno; state: what the cgroup says. */
static int frozen_now(enum pause_how how, const char *path, char *state,
		      size_t len)
{
	uint64_t v = 0;
	int r;

	if (how == PAUSE_V1) {
		r = cg_file_read(path, "freezer.state", state, len);
		return r ? r : !strcmp(state, "FROZEN");
	}
	r = cg_read_key(path, "cgroup.events", "frozen", &v);
	snprintf(state, len, "frozen %llu", (unsigned long long)v);
	return r ? r : v != 0;
}

int pause_freeze(enum pause_how how, const char *path, int timeout_ms,
		 char *why, size_t len)
{
	char state[32] = "";
	int r, waited = 0;

	if (how != PAUSE_V2 && how != PAUSE_V1)
		return -EINVAL;
	r = cg_file_write(path, knobs[how].file, knobs[how].freeze);
	if (r) {
		snprintf(why, len, "cannot write %s to %s/%s: %s",
			 knobs[how].freeze, path, knobs[how].file,
			 strerror(-r));
		return r;
	}
	for (;;) {
		r = frozen_now(how, path, state, sizeof(state));
		if (r < 0) {
			snprintf(why, len, "cannot read %s/%s: %s", path,
				 knobs[how].says, strerror(-r));
			return r;
		}
		if (r)
			return 0;
		if (waited >= timeout_ms)
			break;
		/* v1's FREEZING: each write tries the busy tasks again. */
		if (how == PAUSE_V1 && waited && !(waited % PAUSE_V1_RETRY_MS))
			cg_file_write(path, "freezer.state", "FROZEN");
		usleep(PAUSE_POLL_MS * 1000);
		waited += PAUSE_POLL_MS;
	}
	snprintf(why, len, "%s did not freeze within %d ms (%s still says %s): a task in it does not reach the freezer, e.g. it is in an uninterruptible sleep; thawed again",
		 path, timeout_ms, knobs[how].says, state);
	return -ETIMEDOUT;
}

/* Thaw; a cgroup that is gone is done. */
int pause_thaw(enum pause_how how, const char *path)
{
	int r;

	if (how != PAUSE_V2 && how != PAUSE_V1)
		return -EINVAL;
	r = cg_file_write(path, knobs[how].file, knobs[how].thaw);
	return r == -ENOENT ? 0 : r;
}
