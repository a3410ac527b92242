// SPDX-License-Identifier: GPL-2.0-only
/*
 * v1 memory usage thresholds: the watcher woken the moment usage moves.
 *
 * v1 refuses a limit below what it cannot reclaim (EBUSY), so the squeeze
 * sets one just above usage (oom_squeeze.c, oom_enforce).  When the hog's
 * next allocation beats every such write, no limit holds, and without a
 * wake-up the kill would wait for the next re-assert (OOM_ENFORCE_NS).
 * So after a step whose every try lost the race, a threshold just above
 * the usage read then is registered through cgroup.event_control
 * ("<eventfd> <fd of memory.usage_in_bytes> <bytes>"): the kernel signals
 * the eventfd when usage crosses it (it checks every 128 pages charged on
 * a CPU), the watcher polls it and tightens at once, as for the
 * memory.oom_control eventfd.
 *
 * A threshold stays registered while its eventfd is open: all of them
 * share one eventfd, closed with the handle, and there are at most
 * OOM_THRESH_MAX (then the re-assert is left).  The kernel also signals
 * a threshold crossed downwards (the victim's memory freed): only
 * wake-ups while the watched processes live count as the squeeze's.
 *
 * FAULTLINE_OOM_V1_LOST_RACE=1 (tests): apply's first step makes no try
 * just above usage, as if every try had lost the race to the hog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/oom.h"

#define LOST_RACE_ENV	"FAULTLINE_OOM_V1_LOST_RACE"
/* How far above usage: less than the kernel's check interval. */
#define THRESH_ABOVE	(16 * OOM_PAGE)

/* The thresholds' eventfd and memory.usage_in_bytes (v1, with ecfd). */
int oom_thresh_open(struct oom_rt *rt)
{
	char path[PATH_MAX + 64];

	rt->thrfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(path, sizeof(path), "%s/%s", rt->c.path, rt->c.usage_file);
	rt->usefd = open(path, O_RDONLY | O_CLOEXEC);
	return rt->thrfd >= 0 && rt->usefd >= 0 ? 0 : -1;
}

/* The tries just above usage of apply's first step (tests: none). */
unsigned int oom_first_tries(void)
{
	const char *v = getenv(LOST_RACE_ENV);

	return v && !strcmp(v, "1") ? 0 : OOM_V1_TRIES;
}

/* Every try of a step lost the race: wake when usage passes this one. */
void oom_thresh_arm(struct oom_rt *rt)
{
	struct oom_state *w = &rt->w;
	uint64_t usage = 0;
	char buf[96];

	if (!rt->c.v1 || rt->thrfd < 0 || rt->usefd < 0 || rt->ecfd < 0 ||
	    w->thresholds >= OOM_THRESH_MAX ||
	    cg_read_u64(rt->c.path, rt->c.usage_file, &usage))
		return;
	snprintf(buf, sizeof(buf), "%d %d %llu", rt->thrfd, rt->usefd,
		 (unsigned long long)(usage + THRESH_ABOVE));
	if (write(rt->ecfd, buf, strlen(buf)) < 0) {
		snprintf(w->err, sizeof(w->err),
			 "cgroup.event_control: a usage threshold: %s",
			 strerror(errno));
		return;
	}
	w->thresholds++;
}

/* The thresholds' eventfd fired: tighten now, not at the re-assert. */
void oom_thresh_drain(struct oom_rt *rt)
{
	uint64_t cnt;

	if (rt->thrfd < 0 || read(rt->thrfd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	if (oom_victim_dead(&rt->c, &rt->w))
		return;
	rt->w.thresh_wakeups++;
	rt->next_write = 0;
}
