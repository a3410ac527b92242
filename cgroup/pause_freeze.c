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

static int v2_freeze(const char *path, int timeout_ms, char *why, size_t len)
{
	uint64_t frozen = 0;
	int r, waited = 0;

	r = cg_file_write(path, "cgroup.freeze", "1");
	if (r) {
		snprintf(why, len, "cannot write 1 to %s/cgroup.freeze: %s",
			 path, strerror(-r));
		return r;
	}
	for (;;) {
		r = cg_read_key(path, "cgroup.events", "frozen", &frozen);
		if (r) {
			snprintf(why, len, "cannot read %s/cgroup.events: %s",
				 path, strerror(-r));
			return r;
		}
		if (frozen)
			return 0;
		if (waited >= timeout_ms)
			break;
		usleep(PAUSE_POLL_MS * 1000);
		waited += PAUSE_POLL_MS;
	}
	snprintf(why, len, "%s did not freeze within %d ms (cgroup.events still says frozen 0): a task in it does not reach the freezer, e.g. it is in an uninterruptible sleep; thawed again",
		 path, timeout_ms);
	return -ETIMEDOUT;
}

static int v1_freeze(const char *path, int timeout_ms, char *why, size_t len)
{
	char state[32] = "";
	int r, waited = 0, since = 0;

	r = cg_file_write(path, "freezer.state", "FROZEN");
	if (r) {
		snprintf(why, len, "cannot write FROZEN to %s/freezer.state: %s",
			 path, strerror(-r));
		return r;
	}
	for (;;) {
		r = cg_file_read(path, "freezer.state", state,
				    sizeof(state));
		if (r) {
			snprintf(why, len, "cannot read %s/freezer.state: %s",
				 path, strerror(-r));
			return r;
		}
		if (!strcmp(state, "FROZEN"))
			return 0;
		if (waited >= timeout_ms)
			break;
		/* FREEZING: v1 tries the busy tasks again on each write. */
		if (since >= PAUSE_V1_RETRY_MS) {
			cg_file_write(path, "freezer.state", "FROZEN");
			since = 0;
		}
		usleep(PAUSE_POLL_MS * 1000);
		waited += PAUSE_POLL_MS;
		since += PAUSE_POLL_MS;
	}
	snprintf(why, len, "%s did not freeze within %d ms (freezer.state still says %s): a task in it does not reach the freezer, e.g. it is in an uninterruptible sleep; thawed again",
		 path, timeout_ms, state);
	return -ETIMEDOUT;
}

int pause_freeze(enum pause_how how, const char *path, int timeout_ms,
		 char *why, size_t len)
{
	if (how == PAUSE_V2)
		return v2_freeze(path, timeout_ms, why, len);
	if (how == PAUSE_V1)
		return v1_freeze(path, timeout_ms, why, len);
	return -EINVAL;
}

/* Thaw; a cgroup that is gone is done. */
int pause_thaw(enum pause_how how, const char *path)
{
	int r;

	if (how == PAUSE_V2)
		r = cg_file_write(path, "cgroup.freeze", "0");
	else if (how == PAUSE_V1)
		r = cg_file_write(path, "freezer.state", "THAWED");
	else
		return -EINVAL;
	return r == -ENOENT ? 0 : r;
}
