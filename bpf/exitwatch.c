// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit watcher's user side (see exitwatch.h): the skeleton loaded
 * and attached, the watched map filled, the ring buffer read.  libbpf's
 * messages go through bpflog.c, so a refusal is one line in why.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "bpf/exitwatch.h"
#include "bpf/exitwatch.skel.h"

struct exitwatcher {
	struct exitwatch *skel;
	struct ring_buffer *rb;
	exitwatch_fn fn;
	void *arg;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct exitwatcher *w = ctx;

	if (len >= sizeof(struct exitwatch_event))
		w->fn(w->arg, data);
	return 0;
}

void exitwatch_close(struct exitwatcher *w)
{
	if (!w)
		return;
	ring_buffer__free(w->rb);
	exitwatch__destroy(w->skel);
	free(w);
}

static int load_attach(struct exitwatcher *w, char *why, size_t len)
{
	struct bpf_log log;
	int err;

	bpf_log_begin(&log);
	errno = 0;
	w->skel = exitwatch__open();
	if (!w->skel) {
		err = errno ? -errno : -EINVAL;
		snprintf(why, len, "cannot open the exit watcher: %s",
			 strerror(-err));
		goto out;
	}
	err = exitwatch__load(w->skel);
	if (err) {
		snprintf(why, len, "load: %s%s%s", strerror(-err),
			 bpf_log_why(&log)[0] ? "; " : "", bpf_log_why(&log));
		goto out;
	}
	err = exitwatch__attach(w->skel);
	if (err)
		snprintf(why, len, "attach to tp_btf/sched_process_exit: %s",
			 strerror(-err));
out:
	bpf_log_end(&log);
	return err;
}

int exitwatch_open(exitwatch_fn fn, void *arg, struct exitwatcher **out,
		   char *why, size_t len)
{
	struct exitwatcher *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->arg = arg;
	err = load_attach(w, why, len);
	if (err)
		goto fail;
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.ew_events),
				 on_event, w, NULL);
	if (!w->rb) {
		err = errno ? -errno : -ENOMEM;
		snprintf(why, len, "ring buffer: %s", strerror(-err));
		goto fail;
	}
	*out = w;
	return 0;
fail:
	exitwatch_close(w);
	return err;
}

int exitwatch_add(struct exitwatcher *w, pid_t tgid)
{
	__u32 key = tgid;
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(w->skel->maps.ew_watched), &key,
				&one, BPF_ANY))
		return -errno;
	return 0;
}

int exitwatch_fd(const struct exitwatcher *w)
{
	return w ? ring_buffer__epoll_fd(w->rb) : -1;
}

int exitwatch_read(struct exitwatcher *w)
{
	return w ? ring_buffer__consume(w->rb) : 0;
}

/* The probe sees its own child exit with a known status. */
static void probe_event(void *arg, const struct exitwatch_event *ev)
{
	*(int *)arg = ev->status;
}

static int probe_once(char *why, size_t len)
{
	struct exitwatcher *w;
	int status = -1, err, n;
	pid_t pid;

	if (geteuid() != 0) {
		snprintf(why, len, "not tested: loading BPF programs needs root");
		return -EPERM;
	}
	err = exitwatch_open(probe_event, &status, &w, why, len);
	if (err)
		return 0;
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (pid < 0 || exitwatch_add(w, pid)) {
		snprintf(why, len, "not tested: %s", strerror(errno));
		if (pid > 0)
			kill(pid, SIGKILL);
		err = -errno;
		goto out;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (n = 0; n < 100 && status < 0; n++) {
		exitwatch_read(w);
		if (status < 0)
			usleep(1000);
	}
	if (status == SIGKILL) {
		snprintf(why, len, "tp_btf/sched_process_exit captured a "
			 "SIGKILL");
		err = 1;
	} else {
		snprintf(why, len, "tp_btf/sched_process_exit loaded but "
			 "saw %s", status < 0 ? "no exit" : "a wrong status");
		err = 0;
	}
out:
	exitwatch_close(w);
	return err;
}

int exitwatch_probe(char *why, size_t len)
{
	static char cached[256];
	static int ret;
	static bool done;

	if (!done) {
		ret = probe_once(cached, sizeof(cached));
		done = true;
	}
	if (why && len)
		snprintf(why, len, "%s", cached);
	return ret;
}
