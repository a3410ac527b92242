// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which qdisc kinds can this kernel create?  A forked child enters a new,
 * unnamed network namespace and tries each kind asked for real on its
 * loopback device (every namespace has one: no device to make; ifb
 * makes an ifb device); the results come back through a pipe and the
 * namespace vanishes with the child.  Nothing is visible on the host.
 * Only what is asked is probed: the first question probes its kind
 * alone (a partition asks for clsact, and that is all it needs), a
 * later one every kind not probed yet, so at most two children.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>

#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/prio.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "netem/netem.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef TC_H_CLSACT
#define TC_H_CLSACT		TC_H_INGRESS
#endif

#define LO_IFINDEX	1		/* lo, in every network namespace */
#define IFB		"flprobe-ifb"
#define PROBE_TIMEOUT_MS	15000

struct qkind {
	const char *kind;
	const char *module;
	const char *config;
};

static const struct qkind qkinds[] = {
	{ "netem", "sch_netem", "CONFIG_NET_SCH_NETEM" },
	{ "prio", "sch_prio", "CONFIG_NET_SCH_PRIO" },
	{ "htb", "sch_htb", "CONFIG_NET_SCH_HTB" },
	{ "tbf", "sch_tbf", "CONFIG_NET_SCH_TBF" },
	{ "clsact", "sch_ingress", "CONFIG_NET_SCH_INGRESS" },
	{ "ingress", "sch_ingress", "CONFIG_NET_SCH_INGRESS" },
	{ "ifb", "ifb", "CONFIG_IFB" },
};
#define NKINDS	ARRAY_SIZE(qkinds)

struct qresult {
	bool want;		/* to probe next */
	int ret;		/* 1 yes, 0 no, -errno not tested */
	char why[200];
};

static struct qresult results[NKINDS];
static int nprobes;		/* children run */

/* The kernel's answer to the last request: -errno and its extack text. */
struct ack {
	int err;
	char msg[128];
};

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct ack *a = arg;
	size_t off, end;

	a->err = e->error;
	a->msg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	/* The TLVs follow the error and the (possibly capped) request. */
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	end = h->nlmsg_len;
	while (off + NLA_HDRLEN <= end) {
		struct nlattr *at = (struct nlattr *)((char *)h + off);

		if (at->nla_len < NLA_HDRLEN || off + at->nla_len > end)
			break;
		if ((at->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			size_t l = at->nla_len - NLA_HDRLEN;

			if (l >= sizeof(a->msg))
				l = sizeof(a->msg) - 1;
			memcpy(a->msg, (char *)at + NLA_HDRLEN, l);
			a->msg[l] = '\0';
			l = strlen(a->msg);
			while (l && (a->msg[l - 1] == '\n' ||
				     a->msg[l - 1] == '.'))
				a->msg[--l] = '\0';
		}
		off += NLA_ALIGN(at->nla_len);
	}
	return NL_STOP;
}

/* Send a request and wait for the kernel's answer; 0 or the -errno. */
static int transact(struct nl_sock *sk, struct nl_msg *msg, struct ack *a)
{
	int ret;

	a->err = 0;
	a->msg[0] = '\0';
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	ret = nl_wait_for_ack(sk);
	if (a->err)
		return a->err;
	return ret < 0 ? -EIO : 0;
}

static void set_why(struct qresult *r, const struct qkind *k, int err,
		    const struct ack *a)
{
	if (err == -ENOENT || err == -EOPNOTSUPP) {
		/* Unknown qdisc kind (ENOENT) or link kind (EOPNOTSUPP). */
		snprintf(r->why, sizeof(r->why),
			 "%s: Operation not supported (module not available; "
			 "needs %s)", k->module, k->config);
		return;
	}
	snprintf(r->why, sizeof(r->why), "%s: %s%s%s", k->module,
		 strerror(-err), a->msg[0] ? ": " : "", a->msg);
}

static int add_qdisc(struct nl_sock *sk, const struct qkind *k, int ifindex,
		     uint32_t major, struct ack *a)
{
	struct rtnl_qdisc *q;
	struct nl_msg *msg = NULL;
	int ret;

	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_kind(TC_CAST(q), k->kind);
	if (!strcmp(k->kind, "clsact")) {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
		rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
	} else if (!strcmp(k->kind, "ingress")) {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
		rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_INGRESS, 0));
	} else {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		/* A new handle each: a replace cannot change the kind. */
		rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(major, 0));
	}
	if (!strcmp(k->kind, "netem")) {
		rtnl_netem_set_limit(q, 1000);
	} else if (!strcmp(k->kind, "prio")) {
		uint8_t map[] = QDISC_PRIO_DEFAULT_PRIOMAP;

		rtnl_qdisc_prio_set_bands(q, 3);
		rtnl_qdisc_prio_set_priomap(q, map, sizeof(map));
	} else if (!strcmp(k->kind, "tbf")) {
		rtnl_qdisc_tbf_set_limit(q, 10000);
		rtnl_qdisc_tbf_set_rate(q, 125000, 10000, 0);
	}
	ret = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_REPLACE,
					   &msg);
	rtnl_qdisc_put(q);
	if (ret < 0)
		return -EINVAL;
	return transact(sk, msg, a);
}

static int add_link(struct nl_sock *sk, struct rtnl_link *link,
		    struct ack *a)
{
	struct nl_msg *msg = NULL;
	int ret;

	ret = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL,
					  &msg);
	if (ret < 0)
		return -EINVAL;
	return transact(sk, msg, a);
}

static int add_ifb(struct nl_sock *sk, struct ack *a)
{
	struct rtnl_link *link;
	int ret;

	link = rtnl_link_alloc();
	if (!link)
		return -ENOMEM;
	ret = rtnl_link_set_type(link, "ifb");
	if (ret < 0) {
		rtnl_link_put(link);
		return -EINVAL;
	}
	rtnl_link_set_name(link, IFB);
	ret = add_link(sk, link, a);
	rtnl_link_put(link);
	return ret;
}

static void fail_all(struct qresult *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_all(struct qresult *r, int err, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < NKINDS; i++) {
		r[i].ret = err;
		memcpy(r[i].why, buf, sizeof(buf));
	}
}

/* clsact and ingress exclude each other: the one probed first goes. */
static void del_ingress(struct nl_sock *sk, struct ack *a)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct nl_msg *msg = NULL;

	if (!q)
		return;
	rtnl_tc_set_ifindex(TC_CAST(q), LO_IFINDEX);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	if (!rtnl_qdisc_build_delete_request(q, &msg))
		transact(sk, msg, a);
	rtnl_qdisc_put(q);
}

/* One kind, into r[i]; a is the ack the socket's error callback fills. */
static void probe_kind(struct nl_sock *sk, struct ack *a, size_t i,
		       struct qresult *r, const char *where, bool *ingress)
{
	const struct qkind *k = &qkinds[i];
	bool is_ifb = !strcmp(k->kind, "ifb");
	bool ing = !strcmp(k->kind, "clsact") || !strcmp(k->kind, "ingress");
	int ret;

	if (ing && *ingress)
		del_ingress(sk, a);
	ret = is_ifb ? add_ifb(sk, a) : add_qdisc(sk, k, LO_IFINDEX, i + 1, a);
	*ingress |= ing && !ret;
	r[i].ret = !ret;
	if (ret)
		set_why(&r[i], k, ret, a);
	else
		snprintf(r[i].why, sizeof(r[i].why), is_ifb ?
			 "created an ifb device%s" :
			 "created on a network namespace's lo%s", where);
}

/* In the child: the kinds want[] names, into r. */
static void probe_all(struct qresult *r, const bool *want)
{
	struct nl_sock *sk;
	const char *where = "";
	bool ingress = false;
	struct ack a;
	int one = 1;
	size_t i;

	if (unshare(CLONE_NEWNET)) {
		int err = errno;

		/* Without root, a user namespace may still allow it. */
		if (err != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			fail_all(r, -err, "not tested: cannot create a "
				 "network namespace (%s)%s", strerror(err),
				 err == EPERM ? "; needs CAP_SYS_ADMIN" : "");
			return;
		}
		where = " (tested in a user namespace)";
	}
	sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		fail_all(r, -EIO, "not tested: no rtnetlink socket");
		return;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, err_cb, &a);
	for (i = 0; i < NKINDS; i++)
		if (want[i])
			probe_kind(sk, &a, i, r, where, &ingress);
	nl_socket_free(sk);
}

static void probe_child(void *out, void *arg)
{
	probe_all(out, arg);
}

/* Probe the kinds results[] wants, and mark them probed. */
static int run_probes(void)
{
	struct qresult r[NKINDS];
	bool want[NKINDS];
	size_t i;
	int ret;

	for (i = 0; i < NKINDS; i++)
		want[i] = results[i].want;
	ret = fl_in_child(probe_child, want, r, sizeof(r), PROBE_TIMEOUT_MS);
	if (ret)
		fail_all(r, ret, "not tested: the probe process failed (%s)",
			 strerror(-ret));
	for (i = 0; i < NKINDS; i++)
		if (results[i].want) {
			results[i] = r[i];
			results[i].want = false;
		}
	nprobes++;
	return ret;
}

int netem_has_qdisc(const char *kind, char *why, size_t len)
{
	size_t i, j;

	for (i = 0; i < NKINDS; i++) {
		if (strcmp(qkinds[i].kind, kind))
			continue;
		if (!results[i].why[0]) {
			/* The first question alone, then all that is left. */
			for (j = 0; j < NKINDS; j++)
				results[j].want = !results[j].why[0] &&
						  (nprobes || j == i);
			run_probes();
		}
		if (why && len)
			snprintf(why, len, "%s", results[i].why);
		return results[i].ret;
	}
	if (why && len)
		snprintf(why, len, "%s: not a qdisc kind faultline probes",
			 kind);
	return -EINVAL;
}
