// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition fault: hosts split into groups; each host finds its own
 * group from its local addresses and drops traffic to and from the other
 * groups on every device that carries it.
 *
 * This file is the engine: the fault's schema (parse), what this kernel
 * allows (check: cls_bpf at clsact, else the netem fallback), the plan
 * (describe), and the ops that hand apply, observe and revert to the
 * route: netem/partition_bpf.c or netem/partition_netem.c.  Where this
 * host stands is netem/partition_local.c.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpfault.h"
#include "netem/netem.h"
#include "netem/partition.h"
#include "netem/tcbuild.h"

int netem_partition_as;

static const char *const partition_keys[] = {
	"groups", "one-way", "keep", NULL,
};

static void partition_spec_free(void *spec)
{
	struct partition_spec *s = spec;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ngroups; i++)
		free(s->groups[i].hosts);
	free(s->groups);
	free(s->keep);
	free(s);
}

static int parse_group(const struct fl_node *v, size_t gi,
		       struct partition_group *g, struct fl_diag *d)
{
	size_t n, i;
	int err = 0;

	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "groups: group %zu: expected a list of addresses or CIDRs, not a map",
			    gi + 1);
		return -EINVAL;
	}
	n = fl_node_count(v);
	if (!n) {
		fl_diag_err(d, v, "groups: group %zu is empty", gi + 1);
		return -EINVAL;
	}
	g->hosts = calloc(n, sizeof(*g->hosts));
	if (!g->hosts)
		return -ENOMEM;
	g->n = n;
	for (i = 0; i < n; i++)
		if (fl_get_cidr(fl_node_item(v, i), "groups", &g->hosts[i], d))
			err = -EINVAL;
	return err;
}

static bool cidr_eq(const struct fl_cidr *a, const struct fl_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

static int parse_groups(const struct fl_node *v, struct partition_spec *s,
			struct fl_diag *d)
{
	size_t i, j, k, l;
	int err = 0;
	char a[64];

	if (v->type != FL_NODE_SEQ) {
		fl_diag_err(d, v, "groups: expected a list of groups, each a list of addresses or CIDRs");
		return -EINVAL;
	}
	if (v->n < 2) {
		fl_diag_err(d, v, "groups: a partition needs at least 2 groups, got %zu",
			    v->n);
		return -EINVAL;
	}
	s->groups = calloc(v->n, sizeof(*s->groups));
	if (!s->groups)
		return -ENOMEM;
	s->ngroups = v->n;
	for (i = 0; i < v->n; i++)
		if (parse_group(v->items[i], i, &s->groups[i], d))
			err = -EINVAL;
	if (err)
		return err;
	/*
	 * Overlaps are fine (the longest prefix wins: a host can sit in one
	 * group while its subnet is in another), but the same prefix in two
	 * groups says nothing.
	 */
	for (i = 0; i < s->ngroups; i++)
		for (j = 0; j < s->groups[i].n; j++)
			for (k = i + 1; k < s->ngroups; k++)
				for (l = 0; l < s->groups[k].n; l++) {
					if (!cidr_eq(&s->groups[i].hosts[j],
						     &s->groups[k].hosts[l]))
						continue;
					fl_cidr_str(&s->groups[k].hosts[l], a,
						    sizeof(a));
					fl_diag_err(d, fl_node_item(v->items[k], l),
						    "groups: %s is in group %zu and group %zu",
						    a, i + 1, k + 1);
					err = -EINVAL;
				}
	return err;
}

static int parse_keep_one(const struct fl_node *v, struct partition_keep *k,
			  struct fl_diag *d)
{
	unsigned long lo, hi;
	char *s = NULL, *p, *end;

	if (fl_get_string(v, "keep", &s, d))
		return -EINVAL;
	if (!strcmp(s, "icmp")) {
		k->protocol = NETEM_PROTO_ICMP;
		free(s);
		return 0;
	}
	p = strchr(s, '/');
	if (!p)
		goto bad;
	*p++ = 0;
	if (!strcmp(s, "tcp"))
		k->protocol = NETEM_PROTO_TCP;
	else if (!strcmp(s, "udp"))
		k->protocol = NETEM_PROTO_UDP;
	else if (!strcmp(s, "sctp"))
		k->protocol = NETEM_PROTO_SCTP;
	else
		goto bad;
	if (*p < '0' || *p > '9')
		goto bad;
	lo = strtoul(p, &end, 10);
	hi = lo;
	if (*end == '-') {
		p = end + 1;
		if (*p < '0' || *p > '9')
			goto bad;
		hi = strtoul(p, &end, 10);
	}
	if (*end || lo < 1 || hi > 65535 || lo > hi)
		goto bad;
	k->port_lo = lo;
	k->port_hi = hi;
	free(s);
	return 0;
bad:
	free(s);
	fl_diag_err(d, v, "keep: '%s' is not PROTO/PORT (tcp/22, udp/53), a range (tcp/8000-8100) or icmp",
		    v->scalar);
	return -EINVAL;
}

static int parse_keep(const struct fl_node *v, struct partition_spec *s,
		      struct fl_diag *d)
{
	size_t n, i;
	int err = 0;

	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "keep: expected a list like [tcp/22, udp/53], not a map");
		return -EINVAL;
	}
	n = fl_node_count(v);
	s->nkeep = 0;
	if (!n)
		return 0;
	s->keep = calloc(n, sizeof(*s->keep));
	if (!s->keep)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (parse_keep_one(fl_node_item(v, i), &s->keep[i], d))
			err = -EINVAL;
	s->nkeep = n;
	return err;
}

static int partition_parse(struct fl_experiment *exp,
			   const struct fl_fault *f,
			   const struct fl_node *spec, void **out,
			   struct fl_diag *d)
{
	struct partition_spec *s;
	const struct fl_node *v;
	int err = 0;

	s = calloc(1, sizeof(*s));
	*out = s;
	if (!s)
		return -ENOMEM;
	v = fl_map_need(spec, "groups", "partition", d);
	if (!v || parse_groups(v, s, d))
		err = -EINVAL;
	if (fl_opt_bool(spec, "one-way", &s->one_way, d))
		err = -EINVAL;
	v = fl_map_get(spec, "keep");
	if (v) {
		if (parse_keep(v, s, d))
			err = -EINVAL;
	} else {
		/* The default keeps SSH, so the drill cannot lock us out. */
		s->keep = calloc(1, sizeof(*s->keep));
		if (!s->keep) {
			err = -ENOMEM;
		} else {
			s->keep[0].protocol = NETEM_PROTO_TCP;
			s->keep[0].port_lo = s->keep[0].port_hi = 22;
			s->nkeep = 1;
		}
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Mechanism: cls_bpf at clsact, else netem 100% loss (+ ifb).          */

enum part_mech {
	PART_BPF,
	PART_NETEM,
	PART_NONE,
};

static bool qdisc_ok(const char *kind)
{
	char why[256];

	return netem_has_qdisc(kind, why, sizeof(why)) == 1;
}

static enum part_mech pick(char *why, size_t len)
{
	char bwhy[256] = "";
	const char *mech;
	int r;

	mech = getenv("FAULTLINE_PARTITION_MECH");
	if (mech && !strcmp(mech, "netem")) {
		/* Tests: the fallback on a kernel where BPF loads. */
		r = 0;
		snprintf(bwhy, sizeof(bwhy), "FAULTLINE_PARTITION_MECH=netem (a test override) asks for the fallback");
	} else {
		r = fl_bpf_probe(FL_BPF_SCHED_CLS, bwhy, sizeof(bwhy));
	}
	if (r == 1 && qdisc_ok("clsact")) {
		snprintf(why, len, "cls_bpf programs load and the clsact qdisc exists: one direct-action program per device and direction, with an LPM-trie map of peer prefixes (changing peers changes only the map); packets are dropped silently, so established TCP stalls without a RST");
		return PART_BPF;
	}
	if (qdisc_ok("netem") && (qdisc_ok("prio") || qdisc_ok("htb")) &&
	    qdisc_ok("ifb")) {
		snprintf(why, len, "%s, so the fallback: netem with 100%% loss under a classful parent (%s) for egress, and an ifb device for ingress; keep ports go first to the untouched band, and the device's tc state is saved and put back",
			 r == 1 ? "the clsact qdisc is missing" :
			 bwhy[0] ? bwhy : "cls_bpf programs do not load",
			 netem_parent_kind());
		return PART_NETEM;
	}
	snprintf(why, len, "no mechanism on this kernel: cls_bpf %s%s%s, and the fallback needs sch_netem (CONFIG_NET_SCH_NETEM), sch_prio or sch_htb and ifb, which are not all available",
		 r == 1 ? "loads but the clsact qdisc is missing" :
		 "does not load", r != 1 && bwhy[0] ? ": " : "",
		 r != 1 ? bwhy : "");
	return PART_NONE;
}

static int partition_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct partition_spec *s = f->priv;

	if (!s)
		return -EINVAL;
	if (netem_partition_as > 0 &&
	    (size_t)netem_partition_as > s->ngroups) {
		snprintf(why, len, "--as %d: the partition has %zu groups",
			 netem_partition_as, s->ngroups);
		return -EINVAL;
	}
	switch (pick(why, len)) {
	case PART_BPF:
	case PART_NETEM:
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

static void keep_str(const struct partition_keep *k, char *buf, size_t len)
{
	const char *p = k->protocol == NETEM_PROTO_TCP ? "tcp" :
			k->protocol == NETEM_PROTO_UDP ? "udp" :
			k->protocol == NETEM_PROTO_SCTP ? "sctp" : "icmp";

	if (k->protocol == NETEM_PROTO_ICMP)
		snprintf(buf, len, "icmp");
	else if (k->port_lo == k->port_hi)
		snprintf(buf, len, "%s/%u", p, k->port_lo);
	else
		snprintf(buf, len, "%s/%u-%u", p, k->port_lo, k->port_hi);
}

static void keep_list(const struct partition_spec *s, char *buf, size_t len)
{
	size_t i, off = 0;
	char k[32];

	buf[0] = 0;
	for (i = 0; i < s->nkeep && off < len; i++) {
		keep_str(&s->keep[i], k, sizeof(k));
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", k);
	}
	if (!s->nkeep)
		snprintf(buf, len, "nothing");
}

/* How this host found its group: "10.77.0.1 on veth0", or --as. */
static const char *where(const struct part_local *l, char *buf, size_t len)
{
	if (!l->addr[0])
		snprintf(buf, len, "chosen with --as %d", netem_partition_as);
	else
		snprintf(buf, len, "%s on %s", l->addr, l->addr_dev);
	return buf;
}

/* What the plan changes on this host, for people. */
struct plan_view {
	const struct fl_fault *f;
	const struct partition_spec *s;
	const struct part_local *l;
	json_object *objs;
	char keep[256];
	size_t npeers;
	/* One-way: group 1 cuts its egress, the others their ingress. */
	bool egress, ingress;
};

static void describe_bpf(const struct plan_view *v)
{
	size_t i;

	fl_json_addf(v->objs, "BPF map peers (LPM trie, IPv4 as ::ffff:0:0/96): %zu peer prefix%s of the other group%s",
		v->npeers, v->npeers == 1 ? "" : "es",
		v->s->one_way && v->l->group ? "" : "s");
	fl_json_addf(v->objs, "BPF map counters (per-CPU array): packets dropped and kept per direction");
	fl_json_addf(v->objs, "BPF read-only data: keep %s (never cut)", v->keep);
	for (i = 0; i < v->l->ndevs; i++) {
		const char *dev = v->l->devs[i];

		fl_json_addf(v->objs, "qdisc clsact on %s (added unless one exists; removed at revert if added)",
			dev);
		if (v->egress)
			fl_json_addf(v->objs, "filter bpf direct-action on %s egress, pref %u, first free handle: program part_egress drops packets to peers",
				dev, PART_PRIO);
		if (v->ingress)
			fl_json_addf(v->objs, "filter bpf direct-action on %s ingress, pref %u, first free handle: program part_ingress drops packets from peers",
				dev, PART_PRIO);
	}
}

static void describe_netem(const struct plan_view *v)
{
	const char *parent = netem_parent_kind();
	const char *es = v->npeers == 1 ? "" : "es";
	char ifb[IFNAMSIZ];
	size_t i;

	for (i = 0; i < v->l->ndevs; i++) {
		const char *dev = v->l->devs[i];

		if (v->egress) {
			fl_json_addf(v->objs, "qdisc %s fa17: on %s (root, replaces the current root qdisc, which the journal saves and revert puts back)",
				parent, dev);
			if (strcmp(parent, "prio"))
				fl_json_addf(v->objs, "class htb fa17:2 on %s", dev);
			fl_json_addf(v->objs, "qdisc netem fa18: parent fa17:2 loss 100%% on %s",
				dev);
			fl_json_addf(v->objs, "filters u32 on %s: keep %s first (untouched), then dst in %zu peer prefix%s -> fa17:2",
				dev, v->keep, v->npeers, es);
		}
		if (v->ingress) {
			netem_ifb_name(v->f, dev, ifb, sizeof(ifb));
			fl_json_addf(v->objs, "ifb device %s; on %s's ingress (clsact unless one exists) a u32 filter with mirred redirect -> %s",
				ifb, dev, ifb);
			fl_json_addf(v->objs, "on %s: qdisc %s fa17:, netem fa18: loss 100%%, filters u32 keep %s first, then src in %zu peer prefix%s -> fa17:2",
				ifb, parent, v->keep, v->npeers, es);
		}
	}
}

/* The spec as parsed, and where this host stands. */
static json_object *describe_params(const struct partition_spec *s,
				    const struct part_local *l)
{
	json_object *params, *groups, *g;
	char a[64], wh[128], host[256];
	size_t i, j;

	params = json_object_new_object();
	groups = json_object_new_array();
	for (i = 0; i < s->ngroups; i++) {
		g = json_object_new_array();
		for (j = 0; j < s->groups[i].n; j++) {
			fl_cidr_str(&s->groups[i].hosts[j], a, sizeof(a));
			json_object_array_add(g, json_object_new_string(a));
		}
		json_object_array_add(groups, g);
	}
	json_object_object_add(params, "groups", groups);
	json_object_object_add(params, "one-way",
			       json_object_new_boolean(s->one_way));
	g = json_object_new_array();
	for (i = 0; i < s->nkeep; i++) {
		keep_str(&s->keep[i], a, sizeof(a));
		json_object_array_add(g, json_object_new_string(a));
	}
	json_object_object_add(params, "keep", g);
	if (l->group >= 0)
		snprintf(host, sizeof(host), "group %d (%s)%s", l->group + 1,
			 where(l, wh, sizeof(wh)), l->ambiguous ?
			 "; other local addresses are in other groups" : "");
	else
		snprintf(host, sizeof(host), "in no group: nothing is cut on this host; every host of the drill runs the same file");
	fl_json_add_str(params, "this-host", host);
	return params;
}

static int partition_describe(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	struct plan_view v = { .f = f, .s = s };
	char why[1536], wh[128];
	struct part_local l;
	enum part_mech m;
	size_t off;

	if (!s)
		return -EINVAL;
	m = pick(why, sizeof(why));
	part_find_local(s, &l);
	v.l = &l;
	keep_list(s, v.keep, sizeof(v.keep));

	/* A host in no group: no mechanism here, and every line says so. */
	fl_json_add_str(out, "mechanism",
			l.group < 0 ? PART_NO_GROUP :
			m == PART_BPF ? "cls_bpf at clsact (direct action, LPM trie)" :
			m == PART_NETEM ? "netem 100% loss under a classful parent, ifb for ingress" :
			"none");
	off = strlen(why);
	if (l.group >= 0)
		snprintf(why + off, sizeof(why) - off,
			 "; this host is in group %d (%s)", l.group + 1,
			 where(&l, wh, sizeof(wh)));
	else
		snprintf(why + off, sizeof(why) - off,
			 "; this host has no address in any group, so nothing is cut here (every host of the drill runs the same file)");
	fl_json_add_str(out, "why", why);

	v.objs = json_object_new_array();
	if (l.group >= 0) {
		v.npeers = part_npeers(s, l.group);
		v.egress = !s->one_way || l.group == 0;
		v.ingress = !s->one_way || l.group != 0;
		if (m == PART_NETEM)
			describe_netem(&v);
		else
			describe_bpf(&v);
	}
	json_object_object_add(out, "objects", v.objs);
	json_object_object_add(out, "params", describe_params(s, &l));
	return 0;
}

static int partition_resources(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	struct part_local l;
	size_t i;

	if (!s)
		return -EINVAL;
	part_find_local(s, &l);
	for (i = 0; i < l.ndevs; i++)
		netem_dev_lock(l.devs[i], out);
	return 0;
}

/*
 * On each device that carries peers: with cls_bpf, clsact's hooks, which
 * partitions share (each its own filters, the clsact going with the last
 * one), and a netem on the ingress may hold too when their windows nest;
 * with the netem fallback, the root qdisc and the ingress hook, which it
 * replaces.
 */
static int partition_claims(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	struct part_local l;
	bool egress, ingress;
	char why[1024];
	size_t i;

	if (!s)
		return -EINVAL;
	part_find_local(s, &l);
	if (l.group < 0)
		return 0;
	egress = !s->one_way || l.group == 0;
	ingress = !s->one_way || l.group != 0;
	if (pick(why, sizeof(why)) != PART_NETEM) {
		for (i = 0; i < l.ndevs; i++)
			netem_claim(out, l.devs[i], "ingress", "partition",
				    true,
				    "the clsact qdisc of %s (the partition's cls_bpf filters)",
				    l.devs[i]);
		return 0;
	}
	for (i = 0; i < l.ndevs; i++) {
		if (egress)
			netem_claim(out, l.devs[i], "root", NULL, false,
				    "the root qdisc of %s (the partition's netem fallback replaces it)",
				    l.devs[i]);
		if (ingress)
			netem_claim(out, l.devs[i], "ingress", NULL, false,
				    "the ingress hook of %s (the partition's netem fallback redirects it to an ifb)",
				    l.devs[i]);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Apply, observe, revert and release: each route does the work.       */

/* The engine's release: the handle and whatever its route holds. */
static void partition_release(void *handle)
{
	struct part_rt *rt = handle;

	if (!rt)
		return;
	part_release_bpf(rt);
	json_object_put(rt->peers);
	json_object_put(rt->devices);
	json_object_put(rt->ifbs);
	free(rt);
}

/* The handle of a fault that cuts here: this host's group and its peers. */
static struct part_rt *rt_new(const struct partition_spec *s, int group)
{
	struct part_rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->one_way = s->one_way;
	rt->group = group;
	rt->npeers = part_npeers(s, group);
	rt->peers = json_object_new_array();
	rt->devices = json_object_new_array();
	if (!rt->peers || !rt->devices) {
		partition_release(rt);
		return NULL;
	}
	part_peer_list(s, group, rt->peers);
	return rt;
}

/* The cls_bpf route prepares (the netem fallback does it all at apply). */
static int partition_prepare(const struct fl_fault *f, struct fl_undo *u,
			     void **prep)
{
	char why[1024];

	*prep = NULL;
	if (pick(why, sizeof(why)) != PART_BPF)
		return 0;
	return part_prepare_bpf(f, u, prep);
}

static int partition_apply(const struct fl_fault *f, struct fl_undo *u,
			   void **out)
{
	const struct partition_spec *s = f->priv;
	struct part_local l;
	struct part_rt *rt;
	char why[1024];
	int ret;

	*out = NULL;
	if (!s)
		return -EINVAL;
	part_find_local(s, &l);
	if (l.group < 0)
		return 0;		/* not in the drill: nothing to cut */
	rt = rt_new(s, l.group);
	if (!rt)
		return -ENOMEM;
	switch (pick(why, sizeof(why))) {
	case PART_BPF:
		ret = part_apply_bpf(s, u, &l, rt);
		break;
	case PART_NETEM:
		ret = part_apply_netem(f, u, &l, rt);
		break;
	default:
		fl_undo_why(u, "%s", why);
		ret = -EOPNOTSUPP;
		break;
	}
	if (ret) {
		partition_release(rt);
		return ret;
	}
	*out = rt;
	return 0;
}

static int partition_revert(json_object *state)
{
	json_object *m;

	if (!state || !json_object_object_get_ex(state, "mechanism", &m))
		return 0;
	if (!strcmp(json_object_get_string(m), "bpf"))
		return part_revert_bpf(state);
	if (!strcmp(json_object_get_string(m), "netem"))
		return part_revert_netem(state);
	return -EINVAL;
}

static int observe_route(const struct part_rt *rt, json_object *out)
{
	return rt->skel ? part_observe_bpf(rt, out) :
			  part_observe_netem(rt, out);
}

static int partition_observe(void *handle, json_object *out)
{
	const struct part_rt *rt = handle;
	int ret;

	if (!rt) {
		json_object_object_add(out, "group", NULL);
		fl_json_add_str(out, "note", "this host is in no group: nothing was cut here");
		return 0;
	}
	ret = observe_route(rt, out);
	if (ret)
		return ret;
	json_object_object_add(out, "group", json_object_new_int(rt->group + 1));
	json_object_object_add(out, "npeers",
			       json_object_new_uint64(rt->npeers));
	json_object_object_add(out, "peers", json_object_get(rt->peers));
	json_object_object_add(out, "devices", json_object_get(rt->devices));
	json_object_object_add(out, "one-way",
			       json_object_new_boolean(rt->one_way));
	return 0;
}

/*
 * Live: the packets dropped so far per direction, from the counters
 * observe reads (the BPF program's per-CPU counters, or the fallback's
 * netem qdiscs); on a host in no group, that nothing is cut here (the
 * fault is active all the same).
 */
static int partition_live(void *handle, json_object *out)
{
	const struct part_rt *rt = handle;
	json_object *obs, *dropped, *kept;
	unsigned long long e, i;
	char sum[160];
	int ret;

	if (!rt) {
		json_object_object_add(out, "cuts", json_object_new_boolean(0));
		fl_json_add_str(out, "summary", "this host is in no group: nothing is cut here");
		return 0;
	}
	obs = json_object_new_object();
	ret = observe_route(rt, obs);
	if (ret)
		goto out;
	dropped = fl_json_get(obs, "dropped");
	e = json_object_get_uint64(fl_json_get(dropped, "egress"));
	i = json_object_get_uint64(fl_json_get(dropped, "ingress"));
	json_object_object_add(out, "dropped", json_object_get(dropped));
	snprintf(sum, sizeof(sum), "%llu packets dropped (egress %llu, ingress %llu)",
		 e + i, e, i);
	kept = fl_json_get(obs, "kept");
	if (kept) {
		size_t off = strlen(sum);

		snprintf(sum + off, sizeof(sum) - off, "; kept %llu",
			 (unsigned long long)(json_object_get_uint64(
				fl_json_get(kept, "egress")) +
			 json_object_get_uint64(fl_json_get(kept,
							    "ingress"))));
	}
	fl_json_add_str(out, "summary", sum);
out:
	json_object_put(obs);
	return ret;
}

const struct fl_engine partition_engine = {
	FL_ENGINE_OPS(partition, "#8e44ad", "cut traffic between groups of hosts (cls_bpf, or netem 100% loss)"),
	.in_netns = true,
	.spec_free = partition_spec_free,
	.claims = partition_claims,
	.prepare = partition_prepare,
	.unprepare = part_unprepare_bpf,
};
