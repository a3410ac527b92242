// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit watcher's user side (see exitwatch.h), two ways to one stream
 * of events:
 *  - tp_btf: the skeleton loaded and attached, the watched map filled,
 *    the ring buffer read.  libbpf's messages go through bpflog.c, so a
 *    refusal is one line in why.
 *  - the proc connector, where the program cannot load (no BTF, BPF
 *    refused): PROC_EVENT_EXIT over NETLINK_CONNECTOR, which do_exit()
 *    sends from the exiting task after exit_notify(), with the task's own
 *    exit code, so a reap does not take it away either.  It carries every
 *    exit of the machine; the watched tgids are picked here, on their
 *    leader's exit (the code the parent gets, unless the leader left
 *    early with pthread_exit and a later signal killed the rest).  It
 *    needs CAP_NET_ADMIN and the initial network namespace.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/faultline.h"
#include "bpf/bpflog.h"
#include "bpf/btfload.h"
#include "bpf/exitwatch.h"
#include "bpf/exitwatch.skel.h"

#define CN_RCVBUF	(4 << 20)

/*
 * What a successful probe leaves for the next exitwatch_open: the object
 * loaded and detached, its map empty and its ring read.  Loading takes a
 * few ms (with the BTF cache of bpf/btfload.h; else libbpf's parse of the
 * kernel's BTF, about 80 ms here, a second under TCG), which plan and run
 * pay once in the probe, so that an apply on the runner's loop only
 * attaches.  One thread at a time, like the probe.
 */
static struct exitwatch *spare;

struct exitwatcher {
	unsigned int method;		/* EXITWATCH_TP_BTF or _CONNECTOR */
	struct exitwatch *skel;
	struct ring_buffer *rb;
	int cnfd;
	pid_t *pids;			/* the connector's watched tgids */
	size_t npids;
	uint32_t lost;
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

static int cn_send(int fd, enum proc_cn_mcast_op op)
{
	/* A buffer, as cn_msg ends in a flexible array: nlmsghdr, cn_msg, op. */
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))]
		__attribute__((aligned(NLMSG_ALIGNTO))) = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nh);

	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nh->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return send(fd, buf, nh->nlmsg_len, 0) < 0 ? -errno : 0;
}

static int cn_open(struct exitwatcher *w, char *why, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC };
	int buf = CN_RCVBUF, err;

	w->cnfd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 NETLINK_CONNECTOR);
	if (w->cnfd < 0) {
		err = -errno;
		snprintf(why, len, "proc connector: %s", strerror(-err));
		return err;
	}
	if (setsockopt(w->cnfd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(w->cnfd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	err = bind(w->cnfd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno :
	      cn_send(w->cnfd, PROC_CN_MCAST_LISTEN);
	if (err) {
		snprintf(why, len, "proc connector: %s", strerror(-err));
		close(w->cnfd);
		w->cnfd = -1;
		return err;
	}
	w->method = EXITWATCH_CONNECTOR;
	return 0;
}

static bool cn_watched(struct exitwatcher *w, pid_t tgid, bool drop)
{
	size_t i;

	for (i = 0; i < w->npids; i++) {
		if (w->pids[i] != tgid)
			continue;
		if (drop)
			w->pids[i] = w->pids[--w->npids];
		return true;
	}
	return false;
}

/* One PROC_EVENT_EXIT: a watched leader's becomes an event. */
static int cn_event(struct exitwatcher *w, const struct proc_event *pe)
{
	const struct exit_proc_event *x = &pe->event_data.exit;
	struct exitwatch_event ev = { 0 };

	if (pe->what != PROC_EVENT_EXIT || x->process_pid != x->process_tgid ||
	    !cn_watched(w, x->process_tgid, true))
		return 0;
	ev.ns = pe->timestamp_ns;
	ev.tgid = x->process_tgid;
	ev.pid = x->process_pid;
	ev.status = (int)x->exit_code;
	ev.lost = w->lost;
	w->fn(w->arg, &ev);
	return 1;
}

static int cn_read(struct exitwatcher *w)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	struct cn_msg *cn;
	int n = 0;
	ssize_t r;

	for (;;) {
		r = recv(w->cnfd, buf, sizeof(buf), 0);
		if (r < 0 && errno == ENOBUFS) {
			w->lost++;	/* the socket overflowed: events lost */
			continue;
		}
		if (r <= 0)
			break;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)r);
		     nh = NLMSG_NEXT(nh, r)) {
			if (nh->nlmsg_type == NLMSG_ERROR ||
			    nh->nlmsg_type == NLMSG_NOOP)
				continue;
			cn = NLMSG_DATA(nh);
			if (cn->id.idx == CN_IDX_PROC &&
			    cn->len >= sizeof(struct proc_event)) {
				/* cn->data is 4-byte aligned; the event
				 * has 8-byte fields: copy it out. */
				struct proc_event pe;

				memcpy(&pe, cn->data, sizeof(pe));
				n += cn_event(w, &pe);
			}
		}
	}
	return n;
}

void exitwatch_close(struct exitwatcher *w)
{
	if (!w)
		return;
	ring_buffer__free(w->rb);
	exitwatch__destroy(w->skel);
	if (w->cnfd >= 0) {
		cn_send(w->cnfd, PROC_CN_MCAST_IGNORE);
		close(w->cnfd);
	}
	free(w->pids);
	free(w);
}

static int load_attach(struct exitwatcher *w, char *why, size_t len)
{
	struct bpf_log log;
	int err;

	bpf_log_begin(&log);
	errno = 0;
	if (spare) {
		/* Loaded by the probe: only the attach is left. */
		w->skel = spare;
		spare = NULL;
		goto attach;
	}
	/* No parse of the kernel's BTF: bpf/btfload.h. */
	w->skel = FL_BTF_OPEN(exitwatch);
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
attach:
	err = exitwatch__attach(w->skel);
	if (err) {
		snprintf(why, len, "attach to tp_btf/sched_process_exit: %s",
			 strerror(-err));
		goto out;
	}
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.ew_events),
				 on_event, w, NULL);
	if (!w->rb) {
		err = errno ? -errno : -ENOMEM;
		snprintf(why, len, "ring buffer: %s", strerror(-err));
		goto out;
	}
	w->method = EXITWATCH_TP_BTF;
out:
	bpf_log_end(&log);
	return err;
}

int exitwatch_open(unsigned int methods, exitwatch_fn fn, void *arg,
		   struct exitwatcher **out, char *why, size_t len)
{
	struct exitwatcher *w = calloc(1, sizeof(*w));
	char bwhy[256] = "not tried";
	int err = -EOPNOTSUPP;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->cnfd = -1;
	w->fn = fn;
	w->arg = arg;
	if (methods & EXITWATCH_TP_BTF) {
		err = load_attach(w, bwhy, sizeof(bwhy));
		if (!err)
			goto done;
		ring_buffer__free(w->rb);
		exitwatch__destroy(w->skel);
		w->rb = NULL;
		w->skel = NULL;
	}
	if (methods & EXITWATCH_CONNECTOR) {
		err = cn_open(w, why, len);
		if (!err)
			goto done;
		if (methods & EXITWATCH_TP_BTF) {
			size_t n = strlen(why);

			snprintf(why + n, len - n, "; tp_btf: %s", bwhy);
		}
	} else {
		snprintf(why, len, "%s", bwhy);
	}
	exitwatch_close(w);
	return err;
done:
	snprintf(why, len, "%s", exitwatch_method(w));
	*out = w;
	return 0;
}

const char *exitwatch_method(const struct exitwatcher *w)
{
	if (!w)
		return "none";
	return w->method == EXITWATCH_TP_BTF ? "tp_btf on sched_process_exit" :
	       "the proc connector (PROC_EVENT_EXIT)";
}

int exitwatch_add(struct exitwatcher *w, pid_t tgid)
{
	__u32 key = tgid;
	__u8 one = 1;
	pid_t *p;

	if (w->method == EXITWATCH_TP_BTF)
		return bpf_map_update_elem(bpf_map__fd(w->skel->maps.ew_watched),
					   &key, &one, BPF_ANY) ? -errno : 0;
	if (cn_watched(w, tgid, false))
		return 0;
	if (w->npids >= EXITWATCH_MAX_PIDS)
		return -ENOSPC;
	p = realloc(w->pids, (w->npids + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	w->pids = p;
	w->pids[w->npids++] = tgid;
	return 0;
}

int exitwatch_fd(const struct exitwatcher *w)
{
	if (!w)
		return -1;
	return w->method == EXITWATCH_TP_BTF ? ring_buffer__epoll_fd(w->rb) :
	       w->cnfd;
}

int exitwatch_read(struct exitwatcher *w)
{
	if (!w)
		return 0;
	return w->method == EXITWATCH_TP_BTF ? ring_buffer__consume(w->rb) :
	       cn_read(w);
}

/* The probe sees its own child exit with a known status. */
static void probe_event(void *arg, const struct exitwatch_event *ev)
{
	*(int *)arg = ev->status;
}

static int probe_once(unsigned int methods, char *why, size_t len)
{
	struct exitwatcher *w;
	int status = -1, err, n;
	char how[200];
	pid_t pid, parent = getpid();

	if (geteuid() != 0) {
		snprintf(why, len, "not tested: needs root");
		return -EPERM;
	}
	err = exitwatch_open(methods, probe_event, &status, &w, why, len);
	if (err)
		return 0;
	snprintf(how, sizeof(how), "%s", exitwatch_method(w));
	pid = fork();
	if (pid == 0) {
		/* Killed by us, or with us if we die first. */
		if (!fl_die_with_parent(parent))
			pause();
		_exit(0);
	}
	if (pid < 0 || exitwatch_add(w, pid)) {
		err = -errno;
		snprintf(why, len, "not tested: %s", strerror(errno));
		if (pid > 0)
			kill(pid, SIGKILL);
		goto out;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (n = 0; n < 200 && status < 0; n++) {
		exitwatch_read(w);
		if (status < 0)
			usleep(1000);
	}
	err = status == SIGKILL;
	snprintf(why, len, "%s%s", how, err ? "" : status < 0 ?
		 " saw no exit" : " saw a wrong status");
	if (err && w->method == EXITWATCH_TP_BTF && !spare) {
		exitwatch__detach(w->skel);
		ring_buffer__free(w->rb);
		w->rb = NULL;
		spare = w->skel;
		w->skel = NULL;
	}
out:
	if (pid > 0)
		waitpid(pid, NULL, WNOHANG);
	exitwatch_close(w);
	return err;
}

int exitwatch_probe(unsigned int methods, char *why, size_t len)
{
	static char cached[EXITWATCH_ANY + 1][256];
	static int ret[EXITWATCH_ANY + 1];
	static bool done[EXITWATCH_ANY + 1];

	methods &= EXITWATCH_ANY;
	if (!done[methods]) {
		ret[methods] = probe_once(methods, cached[methods],
					  sizeof(cached[methods]));
		done[methods] = true;
	}
	if (why && len)
		snprintf(why, len, "%s", cached[methods]);
	return ret[methods];
}

unsigned int exitwatch_methods(const char *env, char *why, size_t len)
{
	const char *v = getenv(env);

	if (v && !strcmp(v, "off")) {
		snprintf(why, len, "disabled by %s=off", env);
		return 0;
	}
	if (v && !strcmp(v, "connector"))
		return EXITWATCH_CONNECTOR;
	return EXITWATCH_ANY;
}

bool exitwatch_plan(const char *env, char *why, size_t len)
{
	unsigned int m = exitwatch_methods(env, why, len);

	return m && exitwatch_probe(m, why, len) > 0;
}
