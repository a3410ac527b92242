// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition's fallback, where cls_bpf cannot load: per device, the
 * netem fault's classful parent fa17: with a netem child fa18: (loss
 * 100%) at fa17:2, and u32 filters: keep ports first (to the untouched
 * band), then the peers' prefixes (dst on egress; src on an ifb that a
 * mirred filter feeds from the device's ingress).  Each device's undo
 * record is the netem fault's, so the netem engine's revert puts the
 * saved tc state back.
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "netem/netem.h"
#include "netem/partition.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

/* Where keep rules send packets: fa17:1 under prio, htb's direct queue. */
static uint32_t keep_class(void)
{
	return strcmp(netem_parent_kind(), "prio") ? NETEM_HANDLE_ROOT :
						       NETEM_HANDLE_ROOT | 1;
}

/* A port range as value/mask blocks, for u32 (at most 32). */
static int port_blocks(uint16_t lo, uint16_t hi, uint16_t *val,
		       uint16_t *mask)
{
	uint32_t p = lo, size;
	int n = 0;

	while (p <= hi && n < 32) {
		size = p ? (p & -p) : 0x10000;
		while (p + size - 1 > hi)
			size >>= 1;
		val[n] = p;
		mask[n++] = (uint16_t)~(size - 1);
		p += size;
	}
	return n;
}

#define PART_U32_KEEP	1	/* u32 prio of keep rules (+1 for IPv6) */
#define PART_U32_PEERS	3	/* u32 prio of peer prefixes (+1 for IPv6) */

/* The u32 selector of a keep rule's protocol (and port block, on side). */
static void keep_sel(struct tc_u32_sel *sel, const struct partition_keep *k,
		     bool v6, uint16_t val, uint16_t mask, int side)
{
	int ipproto = k->protocol;
	int toff = v6 ? 40 : 20;	/* no options or ext headers */

	if (k->protocol == NETEM_PROTO_ICMP)
		ipproto = v6 ? NETEM_PROTO_ICMPV6 : NETEM_PROTO_ICMP;
	if (v6)
		netem_u32_key(sel, 0x0000ff00, ipproto << 8, 4);
	else
		netem_u32_key(sel, 0x00ff0000, ipproto << 16, 8);
	if (k->protocol != NETEM_PROTO_ICMP)
		netem_u32_key(sel, side ? mask : (uint32_t)mask << 16,
			      side ? val : (uint32_t)val << 16, toff);
}

/* Keep rules first: to the untouched band, by source or destination port. */
static int add_keep_filters(struct netem_applier *a, int ifindex,
			    const char *dev, const struct partition_spec *s,
			    bool v6)
{
	char selbuf[sizeof(struct tc_u32_sel) + 8 * sizeof(struct tc_u32_key)];
	struct tc_u32_sel *sel = (struct tc_u32_sel *)selbuf;
	uint16_t val[32] = { 0 }, mask[32] = { 0 };
	int n, b, side, ret;
	size_t i;

	for (i = 0; i < s->nkeep; i++) {
		const struct partition_keep *k = &s->keep[i];
		bool icmp = k->protocol == NETEM_PROTO_ICMP;

		n = icmp ? 1 : port_blocks(k->port_lo, k->port_hi, val, mask);
		for (b = 0; b < n; b++)
			for (side = 0; side < (icmp ? 1 : 2); side++) {
				memset(selbuf, 0, sizeof(selbuf));
				keep_sel(sel, k, v6, val[b], mask[b], side);
				ret = netem_add_u32(a, ifindex,
						    NETEM_HANDLE_ROOT,
						    PART_U32_KEEP + v6,
						    v6 ? ETH_P_IPV6 : ETH_P_IP,
						    sel, keep_class(), 0);
				if (ret)
					return netem_fail(a, ret, "cannot add a keep filter on %s",
							  dev);
			}
	}
	return 0;
}

struct peer_ctx {
	struct netem_applier *a;
	int ifindex;
	const char *dev;
	bool to_peer, v6;
};

/* One peer's prefix, to the netem leaf: dst to_peer, else src. */
static int add_peer_filter(const struct fl_cidr *h, size_t gi, void *arg)
{
	char selbuf[sizeof(struct tc_u32_sel) + 8 * sizeof(struct tc_u32_key)];
	struct tc_u32_sel *sel = (struct tc_u32_sel *)selbuf;
	const struct peer_ctx *c = arg;
	bool v6 = c->v6;
	int ret;

	(void)gi;
	if ((h->family == AF_INET6) != v6)
		return 0;
	memset(selbuf, 0, sizeof(selbuf));
	netem_u32_prefix(sel, h, c->to_peer ? (v6 ? 24 : 16) : (v6 ? 8 : 12));
	if (!sel->nkeys)
		netem_u32_key(sel, 0, 0, 0);
	ret = netem_add_u32(c->a, c->ifindex, NETEM_HANDLE_ROOT,
			    PART_U32_PEERS + v6, v6 ? ETH_P_IPV6 : ETH_P_IP,
			    sel, NETEM_CLASS_MATCHED, 0);
	if (ret)
		return netem_fail(c->a, ret, "cannot add a peer filter on %s",
				  c->dev);
	return 0;
}

static int add_peer_filters(struct netem_applier *a, int ifindex,
			    const char *dev, const struct partition_spec *s,
			    int group, bool to_peer, bool v6)
{
	struct peer_ctx c = { a, ifindex, dev, to_peer, v6 };

	return part_for_each_peer(s, group, add_peer_filter, &c);
}

static int add_part_filters(struct netem_applier *a, int ifindex,
			    const char *dev, const struct partition_spec *s,
			    int group, bool to_peer)
{
	int v6, ret;

	for (v6 = 0; v6 < 2; v6++) {
		ret = add_keep_filters(a, ifindex, dev, s, v6);
		if (!ret)
			ret = add_peer_filters(a, ifindex, dev, s, group,
					       to_peer, v6);
		if (ret)
			return ret;
	}
	return netem_u32_there(a, ifindex, "partition", dev);
}

/* The parent, the loss-100% leaf and the filters on one device. */
static int part_tree(struct netem_applier *a, int ifindex, const char *dev,
		     const struct partition_spec *s, int group, bool to_peer)
{
	int ret;

	ret = netem_add_parent(a, ifindex, dev);
	if (!ret)
		ret = netem_add_leaf(a, ifindex, NETEM_CLASS_MATCHED,
				     NETEM_HANDLE_NETEM, dev);
	if (!ret)
		ret = add_part_filters(a, ifindex, dev, s, group, to_peer);
	return ret;
}

/* The devices the fallback changes, as recorded, in record order. */
struct part_netem_plan {
	int ifx[PART_MAX_DEVS];
	struct netem_ingress in[PART_MAX_DEVS];
	char ifb[PART_MAX_DEVS][IFNAMSIZ];
	size_t n;
};

/* Each device's saved tc state and what changes, into devs. */
static int plan_netem(struct netem_applier *a, const struct fl_fault *f,
		      const struct part_local *l, bool egress, bool ingress,
		      struct part_netem_plan *p, json_object *devs)
{
	json_object *saved;
	size_t i, n = 0;
	int ret = 0;

	for (i = 0; i < l->ndevs; i++) {
		p->ifx[n] = if_nametoindex(l->devs[i]);
		if (!p->ifx[n])
			continue;	/* gone since getifaddrs */
		ret = tc_state_save(p->ifx[n], &saved);
		if (ret)
			return netem_fail(a, ret, "cannot read the tc state of %s",
					  l->devs[i]);
		if (ingress)
			ret = netem_ingress_plan(a, p->ifx[n], saved,
						 l->devs[i], &p->in[n]);
		netem_ifb_name(f, l->devs[i], p->ifb[n], IFNAMSIZ);
		if (!ret)
			json_object_array_add(devs, netem_record(l->devs[i],
					p->ifx[n], egress, p->ifb[n],
					ingress ? &p->in[n] : NULL, saved));
		json_object_put(saved);
		if (ret)
			return ret;
		p->n = ++n;
	}
	return 0;
}

/* Device i of the plan: its root tree, and its ifb for ingress. */
static int build_netem(struct netem_applier *a,
		       const struct partition_spec *s,
		       const struct part_netem_plan *p, size_t i,
		       const char *dev, struct part_rt *rt)
{
	bool egress = !s->one_way || rt->group == 0;
	bool ingress = !s->one_way || rt->group != 0;
	int ret, ifb_index;

	if (egress) {
		ret = part_tree(a, p->ifx[i], dev, s, rt->group, true);
		if (ret)
			return ret;
	}
	if (ingress) {
		ret = netem_ifb_add(a, p->ifb[i], &ifb_index);
		if (ret)
			return ret;
		json_object_array_add(rt->ifbs,
				      json_object_new_string(p->ifb[i]));
		ret = part_tree(a, ifb_index, p->ifb[i], s, rt->group, false);
		if (!ret)
			ret = netem_ingress_hook(a, p->ifx[i], &p->in[i],
						 ifb_index, dev);
		if (ret)
			return ret;
	}
	if (egress)
		json_object_array_add(rt->devices, json_object_new_string(dev));
	return 0;
}

int part_apply_netem(const struct fl_fault *f, struct fl_undo *u,
		     const struct part_local *l, struct part_rt *rt)
{
	static const struct netem_spec drop = {
		.loss_model = NETEM_LOSS_RANDOM,
		.loss = 100,
		.has_match = true,
		.limit = NETEM_DEFAULT_LIMIT,
	};
	const struct partition_spec *s = f->priv;
	bool egress = !s->one_way || l->group == 0;
	bool ingress = !s->one_way || l->group != 0;
	struct netem_applier a = { .f = f, .u = u, .s = &drop,
				   .limit = NETEM_DEFAULT_LIMIT };
	json_object *state, *devs;
	struct part_netem_plan *p;
	size_t i;
	int ret;

	a.buf = malloc(TC_BUFSZ);
	p = calloc(1, sizeof(*p));
	state = json_object_new_object();
	rt->ifbs = json_object_new_array();
	if (!a.buf || !p || !state || !rt->ifbs) {
		ret = -ENOMEM;
		goto out;
	}
	fl_json_add_str(state, "mechanism", "netem");
	devs = json_object_new_array();
	json_object_object_add(state, "devices", devs);
	ret = plan_netem(&a, f, l, egress, ingress, p, devs);
	if (ret)
		goto out;
	/* Every device's saved tc state, in the journal before any change. */
	ret = fl_undo_save_netns(u, state);
	if (ret) {
		ret = netem_fail(&a, ret, "cannot save the undo record");
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		json_object *dj = json_object_array_get_idx(devs, i);

		ret = build_netem(&a, s, p, i, json_object_get_string(
				json_object_object_get(dj, "device")), rt);
		if (ret)
			goto out;
	}
out:
	json_object_put(state);
	free(p);
	free(a.buf);
	return ret;
}

/* Each device's record is the netem fault's: its revert does the work. */
int part_revert_netem(json_object *state)
{
	json_object *devs, *dj;
	size_t i;
	int ret, err = 0;

	if (!json_object_object_get_ex(state, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(devs); i++) {
		dj = json_object_array_get_idx(devs, i);
		ret = netem_engine.revert(dj);
		if (ret) {
			fl_err("partition: %s: %s", json_object_get_string(
					json_object_object_get(dj, "device")),
			       strerror(-ret));
			err = err ? err : ret;
		}
	}
	return err;
}

/* The fallback: the drops of the netem leaves (keep rules count none). */
int part_observe_netem(const struct part_rt *rt, json_object *out)
{
	json_object *lists[2] = { rt->devices, rt->ifbs }, *dropped;
	struct tc_counters c;
	uint64_t sum;
	size_t i, k;
	int ifindex;

	dropped = json_object_new_object();
	for (k = 0; k < 2; k++) {
		sum = 0;
		for (i = 0; i < json_object_array_length(lists[k]); i++) {
			ifindex = if_nametoindex(json_object_get_string(
				json_object_array_get_idx(lists[k], i)));
			if (ifindex && !tc_qdisc_counters(ifindex,
						NETEM_HANDLE_NETEM, &c))
				sum += c.drops;
		}
		json_object_object_add(dropped, k ? "ingress" : "egress",
				       json_object_new_uint64(sum));
	}
	fl_json_add_str(out, "mechanism", "netem");
	json_object_object_add(out, "dropped", dropped);
	json_object_object_add(out, "ifbs", json_object_get(rt->ifbs));
	return 0;
}

