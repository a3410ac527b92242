// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's injections, as the programs report them on the
 * fl_events ring buffer: a reader thread counts them per call and errno
 * and keeps the first few; live and observe read those counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf/syscall.h"
#include "bpf/sysfault.skel.h"

static json_object *event_json(const struct sf_rt *rt,
			       const struct sf_event *e)
{
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8], tbuf[40];
	const char *name = e->nr >= 0 ? fl_syscall_name(e->nr) : NULL;
	char comm[sizeof(e->comm) + 1];

	fl_json_add_str(o, "time",
			fl_fmt_time((int64_t)e->ts + rt->mono_to_wall, tbuf,
				    sizeof(tbuf)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "tid", json_object_new_int(e->tid));
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = 0;
	fl_json_add_str(o, "comm", comm);
	fl_json_add_str(o, "call", name ? name : "?");
	fl_json_add_str(o, "errno",
			fl_errno_name(e->err) ? fl_errno_name(e->err) : "?");
	if (e->family == AF_INET || e->family == AF_INET6) {
		inet_ntop(e->family, e->addr, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%u",
			 e->family == AF_INET6 ? "." : ":", e->port);
		fl_json_add_str(o, "peer", buf);
	}
	if (e->path[0]) {
		char p[SF_EV_PATH_LEN + 1];

		memcpy(p, e->path, SF_EV_PATH_LEN);
		p[SF_EV_PATH_LEN] = 0;
		fl_json_add_str(o, "path", p);
	}
	return o;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct sf_event *e = data;
	struct sf_rt *rt = ctx;

	if (size < sizeof(*e))
		return 0;
	pthread_mutex_lock(&rt->lock);
	rt->events++;
	if (e->nr >= 0 && e->nr < SF_MAX_NR)
		rt->per_call[e->nr]++;
	if (e->err > 0 && e->err < 4096)
		rt->per_errno[e->err]++;
	if (json_object_array_length(rt->first) < SF_FIRST_EVENTS)
		json_object_array_add(rt->first, event_json(rt, e));
	pthread_mutex_unlock(&rt->lock);
	return 0;
}

/*
 * Read events as they come: epoll on the ring buffer's own epoll fd and
 * on the handle's eventfd, which sf_reader_stop writes to, so that the
 * reader ends at once instead of at its next timeout.
 */
static void *reader_main(void *arg)
{
	struct sf_rt *rt = arg;
	struct epoll_event ev[2];
	int i, n;

	while (!atomic_load(&rt->stop)) {
		n = epoll_wait(rt->epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if (ev[i].data.u32 == 1 &&
			    ring_buffer__consume(rt->rb) < 0)
				goto out;
	}
out:
	ring_buffer__consume(rt->rb);
	return NULL;
}

/* The reader's wake-ups: the ring buffer's epoll fd (1), the eventfd (0). */
static int reader_fds(struct sf_rt *rt)
{
	struct epoll_event ev = { .events = EPOLLIN };

	rt->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rt->evfd < 0 || rt->epfd < 0)
		return -errno;
	ev.data.u32 = 0;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->evfd, &ev))
		return -errno;
	ev.data.u32 = 1;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rt->rb),
		      &ev))
		return -errno;
	return 0;
}

/* Start draining the ring buffer, in a thread of the handle's. */
int sf_reader_start(struct sf_rt *rt, struct fl_undo *u)
{
	int ret;

	rt->rb = ring_buffer__new(bpf_map__fd(rt->skel->maps.fl_events),
				  on_event, rt, NULL);
	if (!rt->rb) {
		ret = errno ? -errno : -ENOMEM;
		fl_undo_why(u, "cannot read the ring buffer: %s",
			    strerror(-ret));
		return ret;
	}
	ret = reader_fds(rt);
	if (ret) {
		fl_undo_why(u, "cannot wait for events: %s", strerror(-ret));
		return ret;
	}
	ret = pthread_create(&rt->reader, NULL, reader_main, rt);
	if (ret) {
		fl_undo_why(u, "cannot start the event reader: %s",
			    strerror(ret));
		return -ret;
	}
	rt->reading = true;
	return 0;
}

/* Stop the reader once it has read what is left; the counts stay. */
void sf_reader_stop(struct sf_rt *rt)
{
	uint64_t one = 1;

	if (rt->reading) {
		atomic_store(&rt->stop, true);
		if (write(rt->evfd, &one, sizeof(one)) < 0)
			fl_warn("syscall: cannot wake the event reader: %s",
				strerror(errno));
		pthread_join(rt->reader, NULL);
		rt->reading = false;
	}
	if (rt->epfd >= 0)
		close(rt->epfd);
	if (rt->evfd >= 0)
		close(rt->evfd);
	rt->epfd = rt->evfd = -1;
	ring_buffer__free(rt->rb);
	rt->rb = NULL;
}

/* Injections per call and errno, and the first events. */
int syscall_observe(void *handle, json_object *out)
{
	struct sf_rt *rt = handle;
	const struct syscall_spec *s = rt ? rt->s : NULL;
	json_object *calls, *errs, *first;
	uint64_t kernel = 0, dropped = 0, events, read;
	uint64_t *per_call, *per_errno;
	size_t i;

	if (!rt || !s)
		return -ENOENT;
	/* Let the reader catch up with what the kernel counted. */
	if (rt->skel && rt->skel->bss) {
		for (i = 0; i < SF_MAX_NR; i++)
			kernel += rt->skel->bss->injected[i];
		dropped = rt->skel->bss->dropped;
	}
	for (i = 0; i < 200; i++) {
		uint64_t got;

		pthread_mutex_lock(&rt->lock);
		got = rt->events;
		pthread_mutex_unlock(&rt->lock);
		if (got + dropped >= kernel)
			break;
		usleep(10000);
	}
	per_call = calloc(SF_MAX_NR, sizeof(*per_call));
	per_errno = calloc(ARRAY_SIZE(rt->per_errno), sizeof(*per_errno));
	if (!per_call || !per_errno) {
		free(per_call);
		free(per_errno);
		return -ENOMEM;
	}
	pthread_mutex_lock(&rt->lock);
	events = read = rt->events;
	memcpy(per_call, rt->per_call, sizeof(rt->per_call));
	memcpy(per_errno, rt->per_errno, sizeof(rt->per_errno));
	first = json_object_new_array();
	for (i = 0; i < json_object_array_length(rt->first); i++)
		json_object_array_add(first, json_object_get(
			json_object_array_get_idx(rt->first, i)));
	pthread_mutex_unlock(&rt->lock);
	/* Route 4's answers, counted by the listener's thread. */
	sc_seccomp_counts(rt->sn, &events, per_call, per_errno, first);
	/*
	 * The kernel's counters are exact; the events read can lag behind
	 * them when a loaded machine starves the reader (the per-call and
	 * per-errno counts come from the events, so they may be short).
	 */
	if (kernel > read)
		events += kernel - read;
	fl_json_add_str(out, "target", s->target_name);
	json_object_object_add(out, "injections",
			       json_object_new_uint64(events));
	json_object_object_add(out, "kernel_count",
			       json_object_new_uint64(kernel));
	json_object_object_add(out, "events_lost",
			       json_object_new_uint64(dropped));
	calls = json_object_new_object();
	for (i = 0; i < SF_MAX_NR; i++)
		if (per_call[i])
			json_object_object_add(calls, fl_syscall_name(i) ?
				fl_syscall_name(i) : "?",
				json_object_new_uint64(per_call[i]));
	json_object_object_add(out, "calls", calls);
	errs = json_object_new_object();
	for (i = 0; i < ARRAY_SIZE(rt->per_errno); i++)
		if (per_errno[i])
			json_object_object_add(errs, fl_errno_name(i) ?
				fl_errno_name(i) : "?",
				json_object_new_uint64(per_errno[i]));
	json_object_object_add(out, "errnos", errs);
	json_object_object_add(out, "first_events", first);
	free(per_call);
	free(per_errno);
	return 0;
}

/*
 * Live: the injections read so far, per call, under the reader's lock;
 * "12 injections (openat 9, write 3)".
 */
int syscall_live(void *handle, json_object *out)
{
	struct sf_rt *rt = handle;
	uint64_t per_call[SF_MAX_NR];
	json_object *calls;
	uint64_t events;
	char sum[512];
	size_t i, off, n = 0;

	if (!rt)
		return -ENOENT;
	calls = json_object_new_object();
	pthread_mutex_lock(&rt->lock);
	events = rt->events;
	memcpy(per_call, rt->per_call, sizeof(per_call));
	pthread_mutex_unlock(&rt->lock);
	sc_seccomp_counts(rt->sn, &events, per_call, NULL, NULL);
	off = snprintf(sum, sizeof(sum), "%llu injection%s",
		       (unsigned long long)events, events == 1 ? "" : "s");
	json_object_object_add(out, "injections",
			       json_object_new_uint64(events));
	for (i = 0; i < SF_MAX_NR; i++) {
		const char *name = fl_syscall_name(i) ? fl_syscall_name(i) :
				   "?";

		if (!per_call[i])
			continue;
		json_object_object_add(calls, name,
				       json_object_new_uint64(per_call[i]));
		APPEND(sum, sizeof(sum), off, "%s%s %llu", n++ ? ", " : " (",
		       name, (unsigned long long)per_call[i]);
	}
	if (n)
		APPEND(sum, sizeof(sum), off, ")");
	json_object_object_add(out, "calls", calls);
	fl_json_add_str(out, "summary", sum);
	return 0;
}
