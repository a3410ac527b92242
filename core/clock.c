// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drill's clock: when a fault really took effect, and waiting for the
 * next instant on the timeline with as little lateness as the machine
 * allows.
 *
 * Honest times.  An engine calls fl_effect_mark() right after the one
 * kernel call that made its change take effect (the filter add, the link
 * create, the cgroup write), or undid it; the runner takes that instant as
 * the fault's applied or reverted time, not the moment the engine's op
 * returned, which may be later (a record rewritten and fsynced, a thread
 * joined).  An engine that marks nothing gets the moment its op returned.
 *
 * A precise clock.  The timeline's instants are absolute CLOCK_MONOTONIC
 * nanoseconds: the runner polls its descriptors until less than a
 * millisecond is left, then sleeps to the instant with clock_nanosleep
 * (TIMER_ABSTIME), so no relative timeout accumulates rounding.  While
 * the drill runs the runner's timer slack is 1 ns and, unless
 * --no-realtime, it runs SCHED_FIFO (reset in the children it forks) with
 * its memory locked, when the kernel lets it; fl_clock_realtime says what
 * it got.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "core/runner.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK	0x40000000
#endif

/* The runner's thread's mark: engines' own threads mark nothing it reads. */
static __thread uint64_t effect_ns;

void fl_effect_mark(void)
{
	effect_ns = fl_now_ns();
}

void fl_effect_reset(void)
{
	effect_ns = 0;
}

uint64_t fl_effect_take(void)
{
	uint64_t t = effect_ns;

	effect_ns = 0;
	return t;
}

/*
 * The time on the timeline an op took effect: its mark, or now (an
 * engine that marks nothing), never before t0.
 */
int64_t run_effect_rel(const struct runner *r)
{
	uint64_t t = fl_effect_take();

	if (!t || t > fl_now_ns())
		t = fl_now_ns();
	return t > r->t0 ? (int64_t)(t - r->t0) : 0;
}

/* Sleep until the absolute CLOCK_MONOTONIC instant at_ns. */
void fl_clock_sleep_until(uint64_t at_ns)
{
	struct timespec ts = {
		.tv_sec = at_ns / NSEC_PER_SEC,
		.tv_nsec = at_ns % NSEC_PER_SEC,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/*
 * Timer slack to 1 ns; SCHED_FIFO (reset on fork: probes and commands run
 * as usual) and every page locked, when on and allowed.  What it got goes
 * into rt->what ("SCHED_FIFO 10, memory locked", or why not).
 */
void fl_clock_realtime(struct fl_clock_rt *rt, bool on)
{
	struct sched_param sp = { .sched_priority = FL_CLOCK_FIFO_PRIO };
	size_t off = 0;

	memset(rt, 0, sizeof(*rt));
	rt->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (!on) {
		snprintf(rt->what, sizeof(rt->what), "off (--no-realtime)");
		return;
	}
	rt->policy = sched_getscheduler(0);
	sched_getparam(0, &rt->param);
	if (!sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
		rt->fifo = true;
		off += snprintf(rt->what, sizeof(rt->what), "SCHED_FIFO %d",
				FL_CLOCK_FIFO_PRIO);
	} else {
		off += snprintf(rt->what, sizeof(rt->what),
				"no SCHED_FIFO (%s)", strerror(errno));
	}
	if (!mlockall(MCL_CURRENT | MCL_FUTURE)) {
		rt->locked = true;
		snprintf(rt->what + off, sizeof(rt->what) - off,
			 ", memory locked");
	} else {
		snprintf(rt->what + off, sizeof(rt->what) - off,
			 ", memory not locked (%s)", strerror(errno));
	}
}

/* Back to what the runner had before the drill. */
void fl_clock_normal(struct fl_clock_rt *rt)
{
	if (rt->fifo)
		sched_setscheduler(0, rt->policy, &rt->param);
	if (rt->locked)
		munlockall();
	if (rt->slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)rt->slack, 0, 0, 0);
	rt->fifo = rt->locked = false;
}
