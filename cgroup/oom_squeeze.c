// SPDX-License-Identifier: GPL-2.0-only
/*
 * The squeeze and its watcher thread.  apply writes the first limit; the
 * watcher then carries on without blocking the runner: it ramps,
 * re-asserts the limit, stops at someone else's value, notices the
 * victim's death and collects the proof (oom_proof.c).
 *
 * The watcher owns its state (rt->w) and nobody else touches it while it
 * runs; it publishes a copy under rt->lock after each round, which live
 * and observe read.  It ends on a stop flag and a wake-up on an eventfd,
 * never by cancellation: pthread_join then waits for the end of a round,
 * whose longest step is a write bounded by OOM_WRITE_MS.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/cg.h"
#include "cgroup/oom.h"

/*
 * The watcher's poll set: stopfd, kmsg, events, the capture, the v1
 * thresholds (oom_thresh.c), then pidfds.
 */
#define OOM_PFD_THRESH	4
#define OOM_PFD_PIDS	5

/* The unreclaimable part of the cgroup: anon plus kernel memory. */
static uint64_t oom_base(const struct oom_cfg *c)
{
	uint64_t anon = 0, kern = 0, v = 0, usage = 0;

	cg_read_u64(c->path, c->usage_file, &usage);
	if (c->v1) {
		cg_read_key(c->path, "memory.stat", "rss", &anon);
		cg_read_u64(c->path, "memory.kmem.usage_in_bytes", &kern);
	} else {
		cg_read_key(c->path, "memory.stat", "anon", &anon);
		if (cg_read_key(c->path, "memory.stat", "kernel", &kern)) {
			kern = 0;
			if (!cg_read_key(c->path, "memory.stat", "kernel_stack", &v))
				kern += v;
			if (!cg_read_key(c->path, "memory.stat", "slab", &v))
				kern += v;
			if (!cg_read_key(c->path, "memory.stat", "percpu", &v))
				kern += v;
		}
	}
	if (kern == UINT64_MAX)
		kern = 0;
	if (!anon && !kern)
		return usage;
	return anon + kern < usage || !usage ? anon + kern : usage;
}

uint64_t oom_goal_start(const struct oom_rt *rt)
{
	const struct oom_spec *s = rt->c.s;
	uint64_t base, usage = 0;

	switch (s->squeeze) {
	case OOM_SQ_BELOW_USAGE:
		base = oom_base(&rt->c);
		return base > s->below + OOM_FLOOR ? base - s->below : OOM_FLOOR;
	case OOM_SQ_TO:
		return s->to;
	case OOM_SQ_RAMP:
		if (!s->ramp_from_usage)
			return s->ramp_from;
		cg_read_u64(rt->c.path, rt->c.usage_file, &usage);
		return usage > OOM_FLOOR ? usage : OOM_FLOOR;
	}
	return OOM_FLOOR;
}

static uint64_t round_page(uint64_t v)
{
	return (v + OOM_PAGE - 1) & ~(OOM_PAGE - 1);
}

/* What the kernel reports for the files we write, after our write. */
void oom_readback(struct oom_rt *rt)
{
	char v[32];
	int i;

	for (i = 0; i < rt->c.nw; i++)
		if (!cg_read(rt->c.path, rt->c.wfile[i], v, sizeof(v)))
			snprintf(rt->w.seen[i], sizeof(rt->w.seen[i]), "%s", v);
}

/*
 * Has someone else written one of our files since our last write?  The
 * kernel does not change a limit by itself, so any other value is theirs.
 */
bool oom_foreign_check(struct oom_rt *rt)
{
	struct oom_state *w = &rt->w;
	char v[32];
	int i;

	for (i = 0; i < rt->c.nw && !w->foreign; i++) {
		if (!w->seen[i][0] || cg_read(rt->c.path, rt->c.wfile[i], v,
					      sizeof(v)))
			continue;
		if (!strcmp(v, w->seen[i]))
			continue;
		w->foreign = true;
		w->ffile = i;
		snprintf(w->found, sizeof(w->found), "%s", v);
		snprintf(w->err, sizeof(w->err),
			 "%s is now %s, not the %s faultline wrote: someone else changed it; squeeze stopped",
			 rt->c.wfile[i], v, w->seen[i]);
	}
	return w->foreign;
}

/* Through the descriptor opened before (oom_prep.c), else by path. */
static int write_u64(const struct oom_rt *rt, int fd, const char *file,
		     uint64_t v, unsigned int ms)
{
	char buf[32];

	if (fd < 0 || v == UINT64_MAX)
		return cg_write_u64(rt->c.path, file, v, ms);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cg_write_fd(fd, buf, ms);
}

/* v1 keeps memsw >= limit: lower the limit first, then memsw to it. */
static int oom_write_limit(struct oom_rt *rt, uint64_t v, unsigned int ms)
{
	const struct oom_cfg *c = &rt->c;
	int r = write_u64(rt, rt->limfd, c->limit_file, v, ms);

	/* In apply, the squeeze is on from the write that holds (a mark
	 * is the calling thread's: the watcher's writes set none). */
	if (!r)
		fl_effect_mark();
	rt->w.writes++;
	if (!r || (r == -ETIMEDOUT && !c->v1)) {
		/* v2 sets memory.max before reclaiming: it holds. */
		rt->w.limit = v;
		if (c->v1 && c->memsw && !c->s->swap && !c->pressure)
			write_u64(rt, rt->swfd, "memory.memsw.limit_in_bytes",
				  v, ms);
	}
	oom_readback(rt);
	return r;
}

/*
 * One step of the squeeze.  v2: writing memory.max below usage reclaims
 * and then OOM-kills in the writer's context.  v1 refuses a limit below
 * what it cannot reclaim (EBUSY): set the limit just above usage, so the
 * target's own next charges trip the OOM killer, and keep lowering.
 */
int oom_enforce(struct oom_rt *rt, unsigned int ms)
{
	struct oom_state *w = &rt->w;
	bool v1 = rt->c.v1;
	uint64_t usage = 0, alt;
	unsigned int i;
	int r;

	if (w->limit == w->goal && (v1 || !w->timed_out))
		return 0;
	r = oom_write_limit(rt, w->goal, ms);
	w->timed_out = r == -ETIMEDOUT;
	if (!r || (r == -ETIMEDOUT && !v1))
		return 0;
	if (!v1 || (r != -EBUSY && r != -ETIMEDOUT && r != -EINTR))
		return r;
	/*
	 * Just above usage.  The target allocates meanwhile: when usage
	 * passed alt before the write (EBUSY), read it again and retry at
	 * once, a little higher each time, rather than wait for the next
	 * re-assert (OOM_ENFORCE_NS) with no limit at all; when every try
	 * lost, a usage threshold wakes the watcher as usage moves on.
	 */
	for (i = 0; i < rt->v1_tries; i++) {
		if (cg_read_u64(rt->c.path, rt->c.usage_file, &usage))
			return r;
		alt = round_page(usage) + (16ULL << i) * OOM_PAGE;
		if (alt >= w->limit && w->limit != UINT64_MAX)
			return 0;
		r = oom_write_limit(rt, alt, ms);
		if (!r)
			return 0;
		if (r != -EBUSY && r != -ETIMEDOUT && r != -EINTR)
			return r;
	}
	oom_thresh_arm(rt);
	return 0;
}

/* Ramp, then (re)assert the limit; never over someone else's value. */
static void squeeze_step(struct oom_rt *rt)
{
	const struct oom_spec *s = rt->c.s;
	struct oom_state *w = &rt->w;
	uint64_t now = fl_now_ns();
	int r;

	if ((oom_victim_dead(&rt->c, w) && !rt->c.pressure) ||
	    oom_foreign_check(rt))
		return;
	if (s->squeeze == OOM_SQ_RAMP && now >= rt->next_step) {
		w->goal = w->goal > s->ramp_step + OOM_FLOOR ?
			  w->goal - s->ramp_step : OOM_FLOOR;
		rt->next_step = now + s->ramp_every_ns;
	}
	if (now >= rt->next_write) {
		r = oom_enforce(rt, OOM_WRITE_MS);
		if (r)
			snprintf(w->err, sizeof(w->err), "%s: %s",
				 rt->c.limit_file, strerror(-r));
		rt->next_write = fl_now_ns() + OOM_ENFORCE_NS;
	}
}

/* The v1 eventfd or the v2 inotify watch on memory.events fired. */
static void drain_events(struct oom_rt *rt)
{
	char buf[4096];
	uint64_t cnt;

	/* The cgroup moved: tighten now, not at the next re-assert. */
	rt->next_write = 0;
	if (rt->c.v1) {
		if (read(rt->evfd, &cnt, sizeof(cnt)) == sizeof(cnt))
			rt->w.oom_events += cnt;
		return;
	}
	while (read(rt->inofd, buf, sizeof(buf)) > 0)
		;
}

/* After a wait: the log, the events, the deaths and the counters. */
static void witness_step(struct oom_rt *rt, const struct pollfd *pfd)
{
	const struct oom_cfg *c = &rt->c;
	struct oom_state *w = &rt->w;
	uint64_t now;
	size_t i;

	oom_read_kmsg(rt);
	if (pfd[2].revents & POLLIN)
		drain_events(rt);
	if (pfd[OOM_PFD_THRESH].revents & POLLIN)
		oom_thresh_drain(rt);
	now = fl_now_ns();
	oom_capture_read(rt);
	oom_catch_status(rt);
	for (i = 0; i < c->npid; i++) {
		if (pfd[OOM_PFD_PIDS + i].revents & POLLIN)
			oom_mark_dead(rt, i, now);
		if (w->t_dead[i])
			oom_exit_status(rt, i);
	}
	oom_read_counters(c, w);
}

static void *oom_watch(void *arg)
{
	struct oom_rt *rt = arg;
	struct pollfd pfd[OOM_PFD_PIDS + OOM_MAX_PIDS];
	sigset_t all;
	size_t i, n;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load(&rt->stop)) {
		squeeze_step(rt);
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = rt->stopfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rt->kmsgfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rt->c.v1 ? rt->evfd : rt->inofd,
					    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = oom_capture_fd(rt),
					    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rt->thrfd, .events = POLLIN };
		for (i = 0; i < rt->c.npid; i++)
			pfd[n++] = (struct pollfd){
				.fd = rt->w.t_dead[i] ? -1 : rt->pidfds[i],
				.events = POLLIN };
		if (poll(pfd, n, OOM_POLL_MS) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents || atomic_load(&rt->stop))
			break;
		witness_step(rt, pfd);
		oom_publish(rt);
	}
	oom_publish(rt);
	return NULL;
}

/* The watcher's state (or apply's, or observe's) for live and observe. */
void oom_publish(struct oom_rt *rt)
{
	pthread_mutex_lock(&rt->lock);
	rt->pub = rt->w;
	pthread_mutex_unlock(&rt->lock);
}

void oom_snapshot(struct oom_rt *rt, struct oom_state *out)
{
	pthread_mutex_lock(&rt->lock);
	*out = rt->pub;
	pthread_mutex_unlock(&rt->lock);
}

int oom_watch_start(struct oom_rt *rt)
{
	int r;

	atomic_store(&rt->stop, false);
	if (rt->stopfd < 0)
		rt->stopfd = eventfd(0, EFD_CLOEXEC);
	oom_publish(rt);
	r = -pthread_create(&rt->th, NULL, oom_watch, rt);
	rt->th_started = !r;
	return r;
}

/*
 * Stop and join the watcher: from then on nothing of ours writes, and
 * rt->w is the caller's.  The flag, then the wake-up; without the eventfd
 * the watcher sees the flag within one poll.
 */
void oom_watch_stop(struct oom_rt *rt)
{
	uint64_t one = 1;

	if (!rt->th_started)
		return;
	atomic_store(&rt->stop, true);
	if (rt->stopfd >= 0 && write(rt->stopfd, &one, sizeof(one)) < 0)
		one = 0;	/* the flag alone, seen within one poll */
	pthread_join(rt->th, NULL);
	rt->th_started = false;
}
