// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leftover scan of what netem and partition make, found by name in every
 * network namespace this process can reach: ifb devices fl-ifb-*, qdiscs
 * with faultline's handles (netem_owned: fa17:, fa18:), cls_bpf
 * filters at clsact running one of faultline's programs, and a clsact
 * faultline added (its mark, a filter running part_mark, even when no
 * partition filter is left on it).  Nothing is
 * changed; each object is reported with how to remove it.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/pkt_cls.h>

#include "bpf/bpfault.h"
#include "netem/netem.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

struct scan_dev {
	struct fl_found *f;
	const char *ns;			/* the namespace being scanned */
	const char *dev;
	const char *dir;		/* filters: "ingress" or "egress" */
};

static int scan_qdisc(const struct tc_obj *o, void *data)
{
	struct scan_dev *c = data;
	char what[200], rm[200];
	uint32_t maj = TC_H_MAJ(o->handle);

	if (!netem_owned(o->handle))
		return 0;
	snprintf(what, sizeof(what), "qdisc %s %x: on %s", o->kind,
		 maj >> 16, c->dev);
	if (o->parent == TC_H_ROOT)
		snprintf(rm, sizeof(rm), "tc qdisc del dev %s root (then put "
			 "your own root qdisc back)", c->dev);
	else
		snprintf(rm, sizeof(rm), "tc qdisc del dev %s handle %x:",
			 c->dev, maj >> 16);
	c->f->fn(c->f->ctx, "qdisc", what, c->ns, rm);
	return 0;
}

/* The id of a cls_bpf filter's program (TCA_BPF_ID), or 0. */
static uint32_t scan_bpf_id(const struct nlattr *opts)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, opts)
		if (mnl_attr_get_type(a) == TCA_BPF_ID)
			return mnl_attr_get_u32(a);
	return 0;
}

static int scan_filter(const struct tc_obj *o, void *data)
{
	struct scan_dev *c = data;
	struct fl_found *f = c->f;
	char name[64] = "", what[300], rm[200];
	uint32_t id;

	if (strcmp(o->kind, "bpf") || !o->tb[TCA_OPTIONS])
		return 0;
	id = scan_bpf_id(o->tb[TCA_OPTIONS]);
	if (!id)
		return 0;
	if (bpfault_prog_name(id, name, sizeof(name), NULL) ||
	    !bpfault_prog_is_ours(name))
		return 0;
	if (f->nprogs < ARRAY_SIZE(f->progs))
		f->progs[f->nprogs++] = id;
	if (!strcmp(name, NETEM_MARK_PROG)) {
		/* The clsact faultline added, even with no filter left. */
		snprintf(what, sizeof(what), "qdisc clsact on %s, added by "
			 "faultline (its mark: filter bpf %s, program %u, "
			 "%s pref %u)", c->dev, name, id, c->dir,
			 TC_H_MAJ(o->info) >> 16);
		snprintf(rm, sizeof(rm), "tc qdisc del dev %s clsact (with "
			 "any filters of yours on it: take them off first)",
			 c->dev);
		f->fn(f->ctx, "qdisc", what, c->ns, rm);
		return 0;
	}
	snprintf(what, sizeof(what), "filter bpf %s (program %u) on %s %s, "
		 "pref %u", name, id, c->dev, c->dir, TC_H_MAJ(o->info) >> 16);
	snprintf(rm, sizeof(rm), "tc filter del dev %s %s pref %u", c->dev,
		 c->dir, TC_H_MAJ(o->info) >> 16);
	f->fn(f->ctx, "filter", what, c->ns, rm);
	return 0;
}

/* One network namespace: ifb devices, qdiscs and filters of ours. */
static void scan_netns(void *ctx, const char *ns)
{
	struct fl_found *f = ctx;
	struct if_nameindex *ifs, *i;
	char what[200], rm[200];

	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		struct scan_dev c = { f, ns, i->if_name, NULL };

		if (!strncmp(i->if_name, NETEM_IFB_PREFIX,
			     strlen(NETEM_IFB_PREFIX))) {
			snprintf(what, sizeof(what), "ifb device %s",
				 i->if_name);
			snprintf(rm, sizeof(rm), "ip link del %s", i->if_name);
			f->fn(f->ctx, "link", what, ns, rm);
		}
		tc_dump(RTM_GETQDISC, i->if_index, 0, scan_qdisc, &c);
		c.dir = "ingress";
		tc_dump(RTM_GETTFILTER, i->if_index,
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), scan_filter,
			&c);
		c.dir = "egress";
		tc_dump(RTM_GETTFILTER, i->if_index,
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), scan_filter,
			&c);
	}
	if (ifs)
		if_freenameindex(ifs);
}

void netem_scan_leftovers(struct fl_found *f)
{
	fl_netns_each(scan_netns, f);
}
