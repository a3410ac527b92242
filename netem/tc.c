// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc over rtnetlink: the one socket and its requests, the one dump path
 * (tc_dump), what sits where, deletions, counters, free priorities and ifb
 * links.  netem/tcstate.c saves a device's tree and puts it back.  No tc
 * or ip process is involved.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_cls.h>
#include <linux/gen_stats.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "core/faultline.h"
#include "netem/tc.h"

#ifndef MNL_SOCKET_DUMP_SIZE
#define MNL_SOCKET_DUMP_SIZE 32768
#endif

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static unsigned int nl_seq;
static char last_err[256];

const char *tc_last_error(void)
{
	return last_err;
}

/*
 * A socket for one request, in the namespace this thread is in now.  Not
 * kept: a socket belongs to the namespace it was opened in, and one kept
 * across fork() would be the parent's in the child (the guardian, which
 * closes every descriptor it does not need), where it is stale.
 */
static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl;
	int one = 1, err;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	return nl;
}

struct nlmsghdr *tc_msg(char *buf, int type, int flags, int ifindex,
			uint32_t parent, uint32_t handle, uint32_t info)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl_seq;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = parent;
	t->tcm_handle = handle;
	t->tcm_info = info;
	return nlh;
}

struct nlattr *tc_nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	n->nla_type &= ~NLA_F_NESTED;
	return n;
}

void tc_put_raw(struct nlmsghdr *nlh, const void *data, size_t len)
{
	void *p = mnl_nlmsg_get_payload_tail(nlh);

	memset(p, 0, MNL_ALIGN(len));
	memcpy(p, data, len);
	nlh->nlmsg_len += MNL_ALIGN(len);
}

/* The extended ack's message of an error. */
static void note_ext_ack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each_payload((const struct nlattr *)((const char *)e + off),
				  mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(last_err, sizeof(last_err), "%s",
				 mnl_attr_get_str(attr));
	}
}

static int err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (e->error) {
		note_ext_ack(nlh);
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = noop_cb,
	[NLMSG_ERROR] = err_cb,
	[NLMSG_DONE] = done_cb,
	[NLMSG_OVERRUN] = noop_cb,
};

static int run(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq, portid;
	struct mnl_socket *nl;
	char *buf = NULL;
	int ret;

	last_err[0] = 0;
	nl = nl_open();
	if (!nl)
		return errno ? -errno : -EIO;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	buf = malloc(MNL_SOCKET_DUMP_SIZE);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_DUMP_SIZE);
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run2(buf, ret, seq, portid, cb, data, ctl_cbs,
				  ARRAY_SIZE(ctl_cbs));
		if (ret < 0) {
			ret = errno ? -errno : -EIO;
			break;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			break;
		}
	}
out:
	free(buf);
	mnl_socket_close(nl);
	return ret;
}

int tc_talk(struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return run(nlh, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Dumps.                                                              */

struct dump_ctx {
	int ifindex;
	tc_obj_cb cb;
	void *data;
	int err;
};

static int dump_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= TCA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	struct tc_obj o;
	int ret;

	memset(&o, 0, sizeof(o));
	if (t->tcm_ifindex != ctx->ifindex)
		return MNL_CB_OK;
	o.ifindex = t->tcm_ifindex;
	o.handle = t->tcm_handle;
	o.parent = t->tcm_parent;
	o.info = t->tcm_info;
	mnl_attr_parse(nlh, sizeof(*t), dump_attr_cb, o.tb);
	if (o.tb[TCA_KIND])
		snprintf(o.kind, sizeof(o.kind), "%s",
			 mnl_attr_get_str(o.tb[TCA_KIND]));
	if (o.tb[TCA_OPTIONS]) {
		o.opts = mnl_attr_get_payload(o.tb[TCA_OPTIONS]);
		o.optlen = mnl_attr_get_payload_len(o.tb[TCA_OPTIONS]);
	}
	if (o.tb[TCA_CHAIN]) {
		o.has_chain = true;
		o.chain = mnl_attr_get_u32(o.tb[TCA_CHAIN]);
	}
	o.stats2 = o.tb[TCA_STATS2];
	ret = ctx->cb(&o, ctx->data);
	if (ret) {
		ctx->err = ret;
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

int tc_dump(int type, int ifindex, uint32_t parent, tc_obj_cb cb, void *data)
{
	struct dump_ctx ctx = { ifindex, cb, data, 0 };
	char buf[256];
	struct nlmsghdr *nlh;
	int ret;

	nlh = tc_msg(buf, type, NLM_F_DUMP, ifindex, parent, 0, 0);
	ret = run(nlh, dump_cb, &ctx);
	return ctx.err ? ctx.err : ret;
}

/* ------------------------------------------------------------------ */
/* Hex.                                                                */

char *tc_hex(const void *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;
	char *s = malloc(2 * len + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[2 * len] = 0;
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tc_unhex(const char *s, void **out, size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *b;

	if (n % 2)
		return -EINVAL;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = hi << 4 | lo;
	}
	*out = b;
	*len = n / 2;
	return 0;
}

struct dev_root {
	uint32_t handle;
	char kind[32];
	bool found;
};

static int find_parent_cb(const struct tc_obj *o, void *data)
{
	struct dev_root *r = data;

	if (r->found)
		return 0;
	if (o->parent == r->handle) {
		r->found = true;
		r->handle = o->handle;
		snprintf(r->kind, sizeof(r->kind), "%s", o->kind);
	}
	return 0;
}

/* The qdisc at parent (TC_H_ROOT, TC_H_INGRESS) now. */
static int current_at(int ifindex, uint32_t parent, struct dev_root *r)
{
	memset(r, 0, sizeof(*r));
	r->handle = parent;
	return tc_dump(RTM_GETQDISC, ifindex, 0, find_parent_cb, r);
}

int tc_qdisc_del(int ifindex, uint32_t parent, uint32_t handle)
{
	char buf[512];
	struct nlmsghdr *nlh;
	int ret;

	nlh = tc_msg(buf, RTM_DELQDISC, 0, ifindex, parent, handle, 0);
	ret = tc_talk(nlh);
	if (ret == -ENOENT || ret == -EINVAL || ret == -ENODEV)
		ret = 0;
	return ret;
}

int tc_filter_del(int ifindex, uint32_t parent, uint32_t info,
		  const char *kind)
{
	char buf[512];
	struct nlmsghdr *nlh;
	int ret;

	nlh = tc_msg(buf, RTM_DELTFILTER, 0, ifindex, parent, 0, info);
	if (kind)
		mnl_attr_put_strz(nlh, TCA_KIND, kind);
	ret = tc_talk(nlh);
	if (ret == -ENOENT || ret == -EINVAL || ret == -ENODEV)
		ret = 0;
	return ret;
}

int tc_qdisc_at(int ifindex, uint32_t parent, uint32_t *handle, char *kind,
		size_t len)
{
	struct dev_root cur;
	int ret;

	ret = current_at(ifindex, parent, &cur);
	if (ret)
		return ret;
	*handle = cur.found ? cur.handle : 0;
	snprintf(kind, len, "%s", cur.found ? cur.kind : "");
	return cur.found;
}

int tc_root_now(int ifindex, uint32_t *handle, char *kind, size_t len)
{
	int ret = tc_qdisc_at(ifindex, TC_H_ROOT, handle, kind, len);

	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------------ */
/* Counters and options.                                               */

struct find_q {
	uint32_t handle;
	struct tc_counters *c;
	char *kind;
	void **opts;
	size_t *len;
	bool found;
	int err;
};

/* The attribute's payload into dst, when it holds at least len bytes. */
static bool attr_copy(const struct nlattr *a, void *dst, size_t len)
{
	if (mnl_attr_get_payload_len(a) < len)
		return false;
	memcpy(dst, mnl_attr_get_payload(a), len);
	return true;
}

static int stats_cb(const struct nlattr *a, void *data)
{
	struct tc_counters *c = data;
	struct gnet_stats_basic b;
	struct gnet_stats_queue q;

	switch (mnl_attr_get_type(a)) {
	case TCA_STATS_BASIC:
		if (attr_copy(a, &b, sizeof(b))) {
			c->bytes = b.bytes;
			c->packets = b.packets;
		}
		break;
	case TCA_STATS_QUEUE:
		if (attr_copy(a, &q, sizeof(q))) {
			c->drops = q.drops;
			c->overlimits = q.overlimits;
			c->requeues = q.requeues;
			c->qlen = q.qlen;
			c->backlog = q.backlog;
		}
		break;
	}
	return MNL_CB_OK;
}

static int find_q_cb(const struct tc_obj *o, void *data)
{
	struct find_q *f = data;

	if (f->found || TC_H_MAJ(o->handle) != TC_H_MAJ(f->handle))
		return 0;
	f->found = true;
	if (f->c) {
		memset(f->c, 0, sizeof(*f->c));
		snprintf(f->c->kind, sizeof(f->c->kind), "%s", o->kind);
		if (o->stats2)
			mnl_attr_parse_nested(o->stats2, stats_cb, f->c);
	}
	if (f->kind)
		snprintf(f->kind, 32, "%s", o->kind);
	if (f->opts) {
		*f->opts = malloc(o->optlen + 1);
		if (!*f->opts) {
			f->err = -ENOMEM;
			return 0;
		}
		if (o->optlen)
			memcpy(*f->opts, o->opts, o->optlen);
		*f->len = o->optlen;
	}
	return 0;
}

int tc_qdisc_counters(int ifindex, uint32_t handle, struct tc_counters *c)
{
	struct find_q f = { .handle = handle, .c = c };
	int ret = tc_dump(RTM_GETQDISC, ifindex, 0, find_q_cb, &f);

	if (ret)
		return ret;
	return f.found ? 0 : -ENOENT;
}

int tc_qdisc_options(int ifindex, uint32_t handle, char kind[32],
		     void **opts, size_t *len)
{
	struct find_q f = { .handle = handle, .kind = kind, .opts = opts,
			    .len = len };
	int ret;

	*opts = NULL;
	ret = tc_dump(RTM_GETQDISC, ifindex, 0, find_q_cb, &f);
	if (!ret)
		ret = f.err;
	if (ret) {
		free(*opts);
		*opts = NULL;
		return ret;
	}
	return f.found ? 0 : -ENOENT;
}

struct prios {
	uint8_t used[65536 / 8];
};

static int prio_cb(const struct tc_obj *o, void *data)
{
	struct prios *p = data;
	uint16_t prio = TC_H_MAJ(o->info) >> 16;

	p->used[prio / 8] |= 1 << (prio % 8);
	return 0;
}

int tc_free_prio(int ifindex, uint32_t parent, uint16_t *prio)
{
	struct prios *p = calloc(1, sizeof(*p));
	unsigned int i;
	int ret;

	if (!p)
		return -ENOMEM;
	ret = tc_dump(RTM_GETTFILTER, ifindex, parent, prio_cb, p);
	if (ret == -EINVAL || ret == -ENOENT || ret == -EOPNOTSUPP)
		ret = 0;
	if (!ret) {
		ret = -ENOSPC;
		for (i = 1; i < 65536; i++)
			if (!(p->used[i / 8] & (1 << (i % 8)))) {
				*prio = i;
				ret = 0;
				break;
			}
	}
	free(p);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Links (libnl-route-3).                                              */

int tc_nl_errno(int err)
{
	switch (-err) {
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_INVAL: return -EINVAL;
	default: return -EIO;
	}
}

int tc_route_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	*out = NULL;
	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(sk);
		return tc_nl_errno(ret);
	}
	*out = sk;
	return 0;
}

/* A socket on rtnetlink and a link object named name, for one request. */
static int named_link(const char *name, struct nl_sock **sk,
		      struct rtnl_link **link)
{
	int ret;

	ret = tc_route_open(sk);
	if (ret)
		return ret;
	*link = rtnl_link_alloc();
	if (!*link) {
		nl_socket_free(*sk);
		return -ENOMEM;
	}
	rtnl_link_set_name(*link, name);
	return 0;
}

int tc_ifb_add(const char *name, int *ifindex)
{
	struct rtnl_link *link, *chg, *got = NULL;
	struct nl_sock *sk;
	int ret;

	ret = named_link(name, &sk, &link);
	if (ret)
		return ret;
	chg = rtnl_link_alloc();
	if (!chg) {
		ret = -ENOMEM;
		goto out;
	}
	ret = rtnl_link_set_type(link, "ifb");
	if (ret < 0)
		goto nl_err;
	ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		goto nl_err;
	ret = rtnl_link_get_kernel(sk, 0, name, &got);
	if (ret < 0)
		goto nl_err;
	rtnl_link_set_flags(chg, IFF_UP);
	ret = rtnl_link_change(sk, got, chg, 0);
	if (ret < 0)
		goto nl_err;
	*ifindex = rtnl_link_get_ifindex(got);
	ret = 0;
	goto out;
nl_err:
	ret = tc_nl_errno(ret);
out:
	if (got)
		rtnl_link_put(got);
	if (chg)
		rtnl_link_put(chg);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return ret;
}

int tc_link_del(const char *name)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int ret;

	ret = named_link(name, &sk, &link);
	if (ret)
		return ret;
	ret = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	ret = ret < 0 ? tc_nl_errno(ret) : 0;
	if (ret == -ENOENT || ret == -ENODEV)
		ret = 0;
	return ret;
}
