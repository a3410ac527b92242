// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault's tc building blocks (netem/tcbuild.h) over rtnetlink:
 * the classful parent fa17:, the netem leaf with its options (read back
 * and compared), the u32 filters of a match, the ifb with its mirred hook,
 * and the undo record of one device.  The partition fault's netem route
 * builds its trees with them too.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "netem/dist.h"
#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

/* ------------------------------------------------------------------ */
/* Names, kinds and locks.                                            */

/* The link speed from sysfs, or 10gbit when the device does not say. */
uint64_t netem_link_speed(const char *dev)
{
	char path[64 + IFNAMSIZ];
	long mbit = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", dev);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%ld", &mbit) != 1)
			mbit = -1;
		fclose(fp);
	}
	if (mbit <= 0)
		return 10000000000ULL;
	return (uint64_t)mbit * 1000000ULL;
}

bool netem_kernel_has(const char *kind)
{
	char why[256];

	return netem_has_qdisc(kind, why, sizeof(why)) == 1;
}

static const char *getenv_kind(void)
{
	const char *k = getenv("FAULTLINE_NETEM_PARENT");

	if (k && (!strcmp(k, "htb") || !strcmp(k, "prio")))
		return k;
	return NULL;
}

/* prio where the kernel has it; FAULTLINE_NETEM_PARENT overrides (tests). */
const char *netem_parent_kind(void)
{
	if (getenv_kind())
		return getenv_kind();
	return netem_kernel_has("prio") ? "prio" : "htb";
}

/* ifb devices faultline creates: "fl-ifb-" and a hash of fault and dev. */
void netem_ifb_name(const struct fl_fault *f, const char *dev, char *buf,
		     size_t len)
{
	uint32_t h = 2166136261U;
	const char *p;

	for (p = f->name ? f->name : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	for (p = dev; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	snprintf(buf, len, NETEM_IFB_PREFIX "%04x", (h ^ (h >> 16)) & 0xffff);
}

int netem_dev_lock(const char *dev, json_object *out)
{
	struct fl_netns_id ns = { 0, 0 };
	char buf[64];

	fl_netns_self(&ns);
	snprintf(buf, sizeof(buf), "dev:%llu:%s", (unsigned long long)ns.ino,
		 dev);
	json_object_array_add(out, json_object_new_string(buf));
	return 0;
}

bool netem_owned(uint32_t handle)
{
	return TC_H_MAJ(handle) == NETEM_HANDLE_ROOT ||
	       TC_H_MAJ(handle) == NETEM_HANDLE_NETEM;
}

/* ------------------------------------------------------------------ */
/* Failures, and the netem leaf's options.                            */

int netem_fail(struct netem_applier *a, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->u)
		fl_undo_why(a->u, "%s: %s%s%s", msg, strerror(-err),
			    tc_last_error()[0] ? ": " : "", tc_last_error());
	return err;
}

#ifndef TCA_NETEM_PRNG_SEED
#define TCA_NETEM_PRNG_SEED	(TCA_NETEM_SLOT_DIST + 1)
#endif

/* A percentage as netem's probabilities have it: a share of 2^32 - 1. */
static uint32_t pct_u32(double pct)
{
	if (pct >= 100.0)
		return UINT32_MAX;
	if (pct <= 0)
		return 0;
	return (uint32_t)(pct / 100.0 * UINT32_MAX + 0.5);
}

/* Correlations and the probabilities that have their own attributes. */
static void put_netem_probs(struct nlmsghdr *nlh, const struct netem_spec *s)
{
	uint32_t corr = s->has_correlation ? pct_u32(s->correlation) : 0;

	if (s->has_correlation) {
		struct tc_netem_corr c = {
			.delay_corr = s->has_jitter ? corr : 0,
			.loss_corr = s->loss_model == NETEM_LOSS_RANDOM ?
				     corr : 0,
			.dup_corr = s->has_duplicate ? corr : 0,
		};

		mnl_attr_put(nlh, TCA_NETEM_CORR, sizeof(c), &c);
	}
	if (s->has_reorder) {
		struct tc_netem_reorder r = {
			.probability = pct_u32(s->reorder),
			.correlation = corr,
		};

		mnl_attr_put(nlh, TCA_NETEM_REORDER, sizeof(r), &r);
	}
	if (s->has_corrupt) {
		struct tc_netem_corrupt c = {
			.probability = pct_u32(s->corrupt),
			.correlation = corr,
		};

		mnl_attr_put(nlh, TCA_NETEM_CORRUPT, sizeof(c), &c);
	}
}

/* A loss model (Gilbert-Elliott or 4-state) in TCA_NETEM_LOSS. */
static void put_netem_loss(struct nlmsghdr *nlh, const struct netem_spec *s)
{
	struct nlattr *nest;

	if (s->loss_model == NETEM_LOSS_GEMODEL) {
		struct tc_netem_gemodel g = {
			.p = pct_u32(s->lp[0]), .r = pct_u32(s->lp[1]),
			/* The kernel keeps h (kept in the bad state). */
			.h = pct_u32(100.0 - s->lp[2]),
			.k1 = pct_u32(s->lp[3]),
		};

		nest = tc_nest_start(nlh, TCA_NETEM_LOSS);
		mnl_attr_put(nlh, NETEM_LOSS_GE, sizeof(g), &g);
		mnl_attr_nest_end(nlh, nest);
	} else if (s->loss_model == NETEM_LOSS_STATE) {
		struct tc_netem_gimodel g = {
			.p13 = pct_u32(s->lp[0]), .p31 = pct_u32(s->lp[1]),
			.p32 = pct_u32(s->lp[2]), .p23 = pct_u32(s->lp[3]),
			.p14 = pct_u32(s->lp[4]),
		};

		nest = tc_nest_start(nlh, TCA_NETEM_LOSS);
		mnl_attr_put(nlh, NETEM_LOSS_GI, sizeof(g), &g);
		mnl_attr_nest_end(nlh, nest);
	}
}

/* Rate, ecn, the 64-bit delays, slotting and the seed. */
static void put_netem_timing(struct nlmsghdr *nlh,
			     const struct netem_spec *s)
{
	if (s->has_rate) {
		struct tc_netem_rate r = { 0 };
		uint64_t rate = s->rate_bps / 8;

		r.rate = rate > UINT32_MAX ? UINT32_MAX : rate;
		if (rate >= UINT32_MAX)
			mnl_attr_put_u64(nlh, TCA_NETEM_RATE64, rate);
		mnl_attr_put(nlh, TCA_NETEM_RATE, sizeof(r), &r);
	}
	if (s->ecn)
		mnl_attr_put_u32(nlh, TCA_NETEM_ECN, 1);
	if (s->has_delay)
		mnl_attr_put_u64(nlh, TCA_NETEM_LATENCY64, s->delay_ns);
	if (s->has_jitter)
		mnl_attr_put_u64(nlh, TCA_NETEM_JITTER64, s->jitter_ns);
	if (s->has_slot) {
		struct tc_netem_slot sl = {
			.min_delay = s->slot_min_ns,
			.max_delay = s->slot_max_ns,
			/* 0: no limit (the kernel dumps its INT_MAX so). */
			.max_packets = 0,
			.max_bytes = 0,
		};

		mnl_attr_put(nlh, TCA_NETEM_SLOT, sizeof(sl), &sl);
	}
	if (s->has_seed)
		mnl_attr_put_u64(nlh, TCA_NETEM_PRNG_SEED, s->seed);
}

/* The delay table of a distribution other than netem's uniform one. */
static int put_netem_dist(struct nlmsghdr *nlh, const struct netem_spec *s)
{
	int16_t *t;
	int ret;

	if (!s->has_jitter || s->distribution == NETEM_DIST_NONE ||
	    s->distribution == NETEM_DIST_UNIFORM)
		return 0;
	t = malloc(NETEM_DIST_SIZE * sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = netem_dist_table(s->distribution, t);
	if (!ret)
		mnl_attr_put(nlh, TCA_NETEM_DELAY_DIST,
			     NETEM_DIST_SIZE * sizeof(*t), t);
	free(t);
	return ret;
}

/* netem's TCA_OPTIONS: struct tc_netem_qopt, then its attributes. */
static int put_netem(struct nlmsghdr *nlh, const struct netem_spec *s,
		     uint32_t limit)
{
	struct tc_netem_qopt q = { 0 };
	struct nlattr *opts;
	int ret;

	q.latency = s->delay_ns >> 6 > UINT32_MAX ? UINT32_MAX :
		    s->delay_ns >> 6;
	q.jitter = s->jitter_ns >> 6 > UINT32_MAX ? UINT32_MAX :
		   s->jitter_ns >> 6;
	q.limit = limit;
	if (s->loss_model == NETEM_LOSS_RANDOM)
		q.loss = pct_u32(s->loss);
	if (s->has_duplicate)
		q.duplicate = pct_u32(s->duplicate);
	if (s->has_reorder)
		q.gap = s->reorder_gap ? s->reorder_gap : 1;

	opts = tc_nest_start(nlh, TCA_OPTIONS);
	tc_put_raw(nlh, &q, sizeof(q));
	put_netem_probs(nlh, s);
	put_netem_loss(nlh, s);
	put_netem_timing(nlh, s);
	ret = put_netem_dist(nlh, s);
	if (ret)
		return ret;
	mnl_attr_nest_end(nlh, opts);
	return 0;
}

/* ------------------------------------------------------------------ */
/* u32 filters.                                                       */

void netem_u32_key(struct tc_u32_sel *sel, uint32_t mask, uint32_t val,
		    int off)
{
	struct tc_u32_key *k = &sel->keys[sel->nkeys++];

	k->mask = htonl(mask);
	k->val = htonl(val) & htonl(mask);
	k->off = off;
	k->offmask = 0;
}

/* Keys for a prefix at off (4 bytes for IPv4, 16 for IPv6). */
void netem_u32_prefix(struct tc_u32_sel *sel, const struct fl_cidr *c,
		       int off)
{
	int words = c->family == AF_INET ? 1 : 4, w, bits;

	for (w = 0; w < words; w++) {
		uint32_t v, m;

		bits = c->prefix - 32 * w;
		if (bits <= 0)
			break;
		m = bits >= 32 ? 0xffffffffU : ~(0xffffffffU >> bits);
		memcpy(&v, c->addr + 4 * w, 4);
		netem_u32_key(sel, m, ntohl(v), off + 4 * w);
	}
}

int netem_add_u32(struct netem_applier *a, int ifindex, uint32_t parent,
		   uint16_t prio, uint16_t proto, struct tc_u32_sel *sel,
		   uint32_t classid, int mirred_to)
{
	struct nlmsghdr *nlh;
	struct nlattr *opts, *acts, *act, *aopts;

	sel->flags |= TC_U32_TERMINAL;
	nlh = tc_msg(a->buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL,
		     ifindex, parent, 0, TC_H_MAKE((uint32_t)prio << 16,
						   htons(proto)));
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	opts = tc_nest_start(nlh, TCA_OPTIONS);
	if (classid)
		mnl_attr_put_u32(nlh, TCA_U32_CLASSID, classid);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(*sel) +
		     sel->nkeys * sizeof(sel->keys[0]), sel);
	if (mirred_to) {
		struct tc_mirred m = {
			.action = TC_ACT_STOLEN,
			.eaction = TCA_EGRESS_REDIR,
			.ifindex = mirred_to,
		};

		acts = tc_nest_start(nlh, TCA_U32_ACT);
		act = tc_nest_start(nlh, 1);
		mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
		aopts = tc_nest_start(nlh, TCA_ACT_OPTIONS);
		mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
		mnl_attr_nest_end(nlh, aopts);
		mnl_attr_nest_end(nlh, act);
		mnl_attr_nest_end(nlh, acts);
	}
	mnl_attr_nest_end(nlh, opts);
	return tc_talk(nlh);
}

/* The u32 filters steering the matched subset to class fa17:2. */
static int add_match_filters(struct netem_applier *a, int ifindex, const char *dev)
{
	const struct netem_match *m = &a->s->match;
	size_t nt = m->nto ? m->nto : 1, nf = m->nfrom ? m->nfrom : 1;
	size_t np = m->nports ? m->nports : 1, i, j, k;
	int fams[2] = { AF_INET, AF_INET6 }, fi, side, ret, added = 0;
	char sel_buf[sizeof(struct tc_u32_sel) + 16 * sizeof(struct tc_u32_key)];
	struct tc_u32_sel *sel = (struct tc_u32_sel *)sel_buf;

	for (fi = 0; fi < 2; fi++) {
		int fam = fams[fi], v6 = fam == AF_INET6;

		if (m->protocol == NETEM_PROTO_ICMP && v6)
			continue;
		if (m->protocol == NETEM_PROTO_ICMPV6 && !v6)
			continue;
		for (i = 0; i < nt; i++)
		for (j = 0; j < nf; j++)
		for (k = 0; k < np; k++)
		for (side = 0; side < (m->nports ? 2 : 1); side++) {
			const struct fl_cidr *to = m->nto ? &m->to[i] : NULL;
			const struct fl_cidr *fr = m->nfrom ? &m->from[j] : NULL;

			if ((to && to->family != fam) ||
			    (fr && fr->family != fam))
				continue;
			memset(sel_buf, 0, sizeof(sel_buf));
			if (m->protocol != NETEM_PROTO_ANY) {
				if (v6)
					netem_u32_key(sel, 0x0000ff00,
						m->protocol << 8, 4);
				else
					netem_u32_key(sel, 0x00ff0000,
						m->protocol << 16, 8);
			}
			if (fr)
				netem_u32_prefix(sel, fr, v6 ? 8 : 12);
			if (to)
				netem_u32_prefix(sel, to, v6 ? 24 : 16);
			/* Either port: source (side 0) or destination. */
			if (m->nports)
				netem_u32_key(sel, side ? 0x0000ffff : 0xffff0000,
					side ? m->ports[k] :
					(uint32_t)m->ports[k] << 16,
					v6 ? 40 : 20);
			if (!sel->nkeys)
				netem_u32_key(sel, 0, 0, 0);
			ret = netem_add_u32(a, ifindex, NETEM_HANDLE_ROOT, v6 ? 2 : 1,
				      v6 ? ETH_P_IPV6 : ETH_P_IP, sel,
				      NETEM_CLASS_MATCHED, 0);
			if (ret)
				return netem_fail(a, ret, "cannot add a u32 filter on %s",
					    dev);
			added++;
		}
	}
	if (!added)
		return netem_fail(a, -EINVAL, "match selects no traffic on %s", dev);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Qdiscs: the parent, the leaf read back, the whole tree.            */

int netem_add_qdisc(struct netem_applier *a, int ifindex, uint32_t parent,
			 uint32_t handle, const char *kind, int flags,
			 const void *opt, size_t len, const char *dev)
{
	struct nlmsghdr *nlh;
	struct nlattr *o;
	int ret;

	nlh = tc_msg(a->buf, RTM_NEWQDISC, NLM_F_CREATE | flags, ifindex,
		     parent, handle, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	if (opt) {
		o = tc_nest_start(nlh, TCA_OPTIONS);
		tc_put_raw(nlh, opt, len);
		mnl_attr_nest_end(nlh, o);
	}
	ret = tc_talk(nlh);
	if (ret)
		return netem_fail(a, ret, "cannot add qdisc %s on %s", kind, dev);
	return 0;
}

/* Compare what the kernel holds for netem with what was sent. */
static int verify_netem(struct netem_applier *a, int ifindex, uint32_t handle,
			const char *dev)
{
	struct nlmsghdr *nlh;
	char *want = malloc(TC_BUFSZ), kind[32];
	const struct nlattr *wo, *attr, *got_a;
	size_t qlen = MNL_ALIGN(sizeof(struct tc_netem_qopt)), glen, wlen;
	void *got = NULL;
	const char *wp;
	int ret;

	if (!want)
		return -ENOMEM;
	nlh = tc_msg(want, RTM_NEWQDISC, 0, 0, 0, 0, 0);
	ret = put_netem(nlh, a->s, a->limit);
	if (ret)
		goto out;
	ret = tc_qdisc_options(ifindex, handle, kind, &got, &glen);
	if (ret) {
		ret = netem_fail(a, ret, "netem %x: is not on %s after apply",
			   handle >> 16, dev);
		goto out;
	}
	wo = (const struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) +
				     sizeof(struct tcmsg));
	wp = mnl_attr_get_payload(wo);
	wlen = mnl_attr_get_payload_len(wo);
	if (strcmp(kind, "netem") || glen < qlen ||
	    memcmp(got, wp, sizeof(struct tc_netem_qopt))) {
		ret = netem_fail(a, -EIO, "the kernel holds other netem options on %s than were sent",
			   dev);
		goto out;
	}
	mnl_attr_for_each_payload((const struct nlattr *)(wp + qlen),
				  wlen - qlen) {
		int type = mnl_attr_get_type(attr);
		const struct nlattr *g;
		bool found = false;

		if (type == TCA_NETEM_DELAY_DIST || type == TCA_NETEM_PAD)
			continue;
		got_a = (const struct nlattr *)((char *)got + qlen);
		for (g = got_a; mnl_attr_ok(g, (char *)got + glen - (char *)g);
		     g = mnl_attr_next(g)) {
			if (mnl_attr_get_type(g) != type)
				continue;
			found = mnl_attr_get_payload_len(g) ==
				mnl_attr_get_payload_len(attr) &&
				!memcmp(mnl_attr_get_payload(g),
					mnl_attr_get_payload(attr),
					mnl_attr_get_payload_len(attr));
			break;
		}
		if (found)
			continue;
		if (type == TCA_NETEM_PRNG_SEED) {
			fl_warn("fault %s: this kernel does not keep netem's seed (TCA_NETEM_PRNG_SEED, Linux 6.3); the run is not reproducible",
				a->f->name);
			continue;
		}
		ret = netem_fail(a, -EIO, "netem on %s: the kernel did not keep attribute %d as sent",
			   dev, type);
		goto out;
	}
	ret = 0;
out:
	free(got);
	free(want);
	return ret;
}

struct count_ctx {
	int n;
};

static int count_keys_cb(const struct tc_obj *o, void *data)
{
	struct count_ctx *c = data;

	if (!strcmp(o->kind, "u32") && TC_U32_KEY(o->handle))
		c->n++;
	return 0;
}

/* The classful parent fa17: (prio, or htb with class fa17:2) as root. */
int netem_add_parent(struct netem_applier *a, int ifindex, const char *dev)
{
	struct tc_htb_glob g = { .version = 3, .rate2quantum = 10 };
	struct tc_htb_opt o = { 0 };
	uint64_t rate = 100000000000ULL / 8;
	struct nlmsghdr *nlh;
	struct nlattr *opts;
	int ret;

	if (!strcmp(netem_parent_kind(), "prio")) {
		struct tc_prio_qopt p = { .bands = 3 };

		return netem_add_qdisc(a, ifindex, TC_H_ROOT, NETEM_HANDLE_ROOT,
				       "prio", NLM_F_REPLACE, &p, sizeof(p),
				       dev);
	}
	nlh = tc_msg(a->buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
		     ifindex, TC_H_ROOT, NETEM_HANDLE_ROOT, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "htb");
	opts = tc_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_INIT, sizeof(g), &g);
	mnl_attr_nest_end(nlh, opts);
	ret = tc_talk(nlh);
	if (ret)
		return netem_fail(a, ret, "cannot add qdisc htb on %s", dev);
	o.rate.linklayer = TC_LINKLAYER_ETHERNET;
	o.rate.rate = UINT32_MAX;
	o.ceil = o.rate;
	o.buffer = o.cbuffer = 15625;	/* 1 ms in 64 ns ticks */
	o.quantum = 60000;
	nlh = tc_msg(a->buf, RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, ifindex,
		     NETEM_HANDLE_ROOT, NETEM_CLASS_MATCHED, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "htb");
	opts = tc_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_HTB_PARMS, sizeof(o), &o);
	mnl_attr_put_u64(nlh, TCA_HTB_RATE64, rate);
	mnl_attr_put_u64(nlh, TCA_HTB_CEIL64, rate);
	mnl_attr_nest_end(nlh, opts);
	ret = tc_talk(nlh);
	if (ret)
		return netem_fail(a, ret, "cannot add class htb %x:%x on %s",
				  NETEM_CLASS_MATCHED >> 16,
				  NETEM_CLASS_MATCHED & 0xffff, dev);
	return 0;
}

/* The netem qdisc of a->s at parent, read back and compared. */
int netem_add_leaf(struct netem_applier *a, int ifindex, uint32_t parent,
		   uint32_t handle, const char *dev)
{
	struct nlmsghdr *nlh;
	int ret;

	nlh = tc_msg(a->buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE,
		     ifindex, parent, handle, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "netem");
	ret = put_netem(nlh, a->s, a->limit);
	if (ret)
		return netem_fail(a, ret, "cannot build the netem options");
	ret = tc_talk(nlh);
	if (ret)
		return netem_fail(a, ret, "cannot add qdisc netem %x: on %s",
				  handle >> 16, dev);
	return verify_netem(a, ifindex, handle, dev);
}

/* u32 filters with keys at parent: how many (a read back). */
static int count_u32(int ifindex, uint32_t parent)
{
	struct count_ctx cnt = { 0 };
	int ret;

	ret = tc_dump(RTM_GETTFILTER, ifindex, parent, count_keys_cb, &cnt);
	return ret ? ret : cnt.n;
}

int netem_u32_there(struct netem_applier *a, int ifindex, const char *what,
		    const char *dev)
{
	int ret = count_u32(ifindex, NETEM_HANDLE_ROOT);

	if (ret <= 0)
		return netem_fail(a, ret ? ret : -EIO,
				  "the %s filters are not on %s after apply",
				  what, dev);
	return 0;
}

/* netem (and its classful parent with filters) on one device. */
int netem_add_tree(struct netem_applier *a, int ifindex, const char *dev)
{
	int ret;

	if (!a->s->has_match)
		return netem_add_leaf(a, ifindex, TC_H_ROOT, NETEM_HANDLE_ROOT,
				      dev);
	ret = netem_add_parent(a, ifindex, dev);
	if (!ret)
		ret = netem_add_leaf(a, ifindex, NETEM_CLASS_MATCHED,
				     NETEM_HANDLE_NETEM, dev);
	if (!ret)
		ret = add_match_filters(a, ifindex, dev);
	if (ret)
		return ret;
	return netem_u32_there(a, ifindex, "match", dev);
}

/* ------------------------------------------------------------------ */
/* Ingress through an ifb, and the undo record of a device.           */

int netem_ingress_plan(struct netem_applier *a, int ifindex,
		       json_object *saved, const char *dev,
		       struct netem_ingress *in)
{
	json_object *ing = tc_state_qdisc(saved, TC_H_INGRESS), *k;
	const char *kind = "";
	int ret;

	memset(in, 0, sizeof(*in));
	if (!ing) {
		in->add_qdisc = true;
		in->parent = netem_kernel_has("clsact") ?
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) :
			TC_H_MAKE(TC_H_INGRESS, 0);
		in->prio = 1;
	} else {
		if (json_object_object_get_ex(ing, "kind", &k))
			kind = json_object_get_string(k);
		in->parent = !strcmp(kind, "clsact") ?
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) :
			TC_H_MAKE(TC_H_INGRESS, 0);
		ret = tc_free_prio(ifindex, in->parent, &in->prio);
		if (ret)
			return netem_fail(a, ret, "no free filter priority at the ingress of %s",
					  dev);
	}
	in->info = TC_H_MAKE((uint32_t)in->prio << 16, htons(ETH_P_ALL));
	return 0;
}

json_object *netem_record(const char *dev, int ifindex, bool egress,
			  const char *ifb, const struct netem_ingress *in,
			  json_object *saved)
{
	json_object *rec = json_object_new_object();

	json_object_object_add(rec, "version", json_object_new_int(1));
	fl_json_add_str(rec, "device", dev);
	json_object_object_add(rec, "ifindex", json_object_new_int(ifindex));
	json_object_object_add(rec, "egress", json_object_new_boolean(egress));
	if (in) {
		json_object *o = json_object_new_object();

		fl_json_add_str(rec, "ifb", ifb);
		json_object_object_add(o, "parent",
				       json_object_new_int64(in->parent));
		json_object_object_add(o, "info",
				       json_object_new_int64(in->info));
		json_object_object_add(rec, "ingress_filter", o);
	}
	json_object_object_add(rec, "saved", json_object_get(saved));
	return rec;
}

int netem_ingress_hook(struct netem_applier *a, int ifindex,
		       const struct netem_ingress *in, int ifb_index,
		       const char *dev)
{
	char selbuf[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)];
	struct tc_u32_sel *sel = (struct tc_u32_sel *)selbuf;
	int ret;

	if (in->add_qdisc) {
		bool clsact = in->parent ==
			      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);

		ret = netem_add_qdisc(a, ifindex, TC_H_INGRESS,
				      TC_H_MAKE(TC_H_INGRESS, 0),
				      clsact ? "clsact" : "ingress",
				      NLM_F_EXCL, NULL, 0, dev);
		if (ret)
			return ret;
	}
	memset(selbuf, 0, sizeof(selbuf));
	netem_u32_key(sel, 0, 0, 0);
	ret = netem_add_u32(a, ifindex, in->parent, in->prio, ETH_P_ALL, sel,
			    0, ifb_index);
	if (ret)
		return netem_fail(a, ret, "cannot add the mirred filter on %s",
				  dev);
	return 0;
}

int netem_ifb_add(struct netem_applier *a, const char *ifb, int *ifb_index)
{
	int ret = tc_ifb_add(ifb, ifb_index);

	if (ret)
		return netem_fail(a, ret, "cannot create ifb device %s%s", ifb,
				  ret == -EEXIST ? " (left by another run? see faultline status and recover)" : "");
	return 0;
}
