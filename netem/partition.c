// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition fault: hosts split into groups; each host finds its own
 * group from its local addresses and drops traffic to and from the other
 * groups on every device that carries it.
 *
 * This file holds the fault's schema (parse), what this kernel allows
 * (check) and the plan (describe).  Apply lands with issue #4.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/bpfault.h"
#include "netem/netem.h"
#include "netem/netem_spec.h"

static const char *const partition_keys[] = {
	"groups", "one-way", "keep", NULL,
};

static void partition_spec_free(struct partition_spec *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ngroups; i++)
		free(s->groups[i].hosts);
	free(s->groups);
	free(s->keep);
	free(s);
}

static const struct fl_node *item(const struct fl_node *v, size_t i)
{
	return v->type == FL_NODE_SEQ ? v->items[i] : v;
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
	n = v->type == FL_NODE_SEQ ? v->n : 1;
	if (!n) {
		fl_diag_err(d, v, "groups: group %zu is empty", gi + 1);
		return -EINVAL;
	}
	g->hosts = calloc(n, sizeof(*g->hosts));
	if (!g->hosts)
		return -ENOMEM;
	g->n = n;
	for (i = 0; i < n; i++)
		if (fl_get_cidr(item(v, i), "groups", &g->hosts[i], d))
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
					fl_diag_err(d, item(v->items[k], l),
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
	n = v->type == FL_NODE_SEQ ? v->n : 1;
	s->nkeep = 0;
	if (!n)
		return 0;
	s->keep = calloc(n, sizeof(*s->keep));
	if (!s->keep)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (parse_keep_one(item(v, i), &s->keep[i], d))
			err = -EINVAL;
	s->nkeep = n;
	return err;
}

static int partition_parse(struct fl_experiment *exp, struct fl_fault *f,
			   const struct fl_node *spec, struct fl_diag *d)
{
	struct partition_spec *s;
	const struct fl_node *v;
	int err = 0;

	if (fl_map_check(spec, partition_keys, "partition", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	v = fl_map_need(spec, "groups", "partition", d);
	if (!v || parse_groups(v, s, d))
		err = -EINVAL;
	v = fl_map_get(spec, "one-way");
	if (v && fl_get_bool(v, "one-way", &s->one_way, d))
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
	if (err) {
		partition_spec_free(s);
		return err;
	}
	f->priv = s;
	return 0;
}

static void partition_free(struct fl_fault *f)
{
	partition_spec_free(f->priv);
	f->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Where this host stands: its group and the devices that carry peers.  */

#define MAX_DEVS 32

struct part_local {
	int group;			/* 0-based, -1: in no group */
	bool ambiguous;			/* addresses in several groups */
	char addr[64], addr_dev[IFNAMSIZ];
	char devs[MAX_DEVS][IFNAMSIZ];
	size_t ndevs;
};

static int sa_cidr(const struct sockaddr *sa, struct fl_cidr *c)
{
	memset(c, 0, sizeof(*c));
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		c->family = AF_INET;
		memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		c->prefix = 32;
	} else if (sa->sa_family == AF_INET6) {
		c->family = AF_INET6;
		memcpy(c->addr,
		       &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		c->prefix = 128;
	} else {
		return -1;
	}
	return 0;
}

static int mask_len(const struct sockaddr *sa)
{
	const uint8_t *p;
	int n = 0, i, len;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		len = 4;
	} else if (sa->sa_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		len = 16;
	} else {
		return 0;
	}
	for (i = 0; i < len; i++)
		n += __builtin_popcount(p[i]);
	return n;
}

/* The group whose longest prefix holds addr, or -1. */
static int lpm_group(const struct partition_spec *s, const struct fl_cidr *a)
{
	int best = -1, bestlen = -1;
	size_t i, j;

	for (i = 0; i < s->ngroups; i++)
		for (j = 0; j < s->groups[i].n; j++) {
			const struct fl_cidr *h = &s->groups[i].hosts[j];

			if (h->prefix > bestlen && fl_cidr_contains(h, a)) {
				best = i;
				bestlen = h->prefix;
			}
		}
	return best;
}

static bool is_peer(const struct partition_spec *s, int group, size_t gi)
{
	if ((int)gi == group)
		return false;
	/* One-way: the first group cuts everyone, the others only it. */
	if (s->one_way && group != 0)
		return gi == 0;
	return true;
}

/* Does the subnet of an interface address overlap a peer prefix? */
static bool carries_peer(const struct partition_spec *s, int group,
			 const struct fl_cidr *net)
{
	size_t i, j;

	for (i = 0; i < s->ngroups; i++) {
		if (!is_peer(s, group, i))
			continue;
		for (j = 0; j < s->groups[i].n; j++) {
			const struct fl_cidr *h = &s->groups[i].hosts[j];

			if (h->family == net->family &&
			    (fl_cidr_contains(net, h) ||
			     fl_cidr_contains(h, net)))
				return true;
		}
	}
	return false;
}

static void add_dev(struct part_local *l, const char *dev)
{
	size_t i;

	for (i = 0; i < l->ndevs; i++)
		if (!strcmp(l->devs[i], dev))
			return;
	if (l->ndevs < MAX_DEVS)
		snprintf(l->devs[l->ndevs++], IFNAMSIZ, "%s", dev);
}

static void find_local(const struct partition_spec *s, struct part_local *l)
{
	struct ifaddrs *ifa, *p;
	struct fl_cidr a, net;
	int g, i, bits;

	memset(l, 0, sizeof(*l));
	l->group = -1;
	if (getifaddrs(&ifa))
		return;
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) ||
		    sa_cidr(p->ifa_addr, &a))
			continue;
		g = lpm_group(s, &a);
		if (g < 0)
			continue;
		if (l->group < 0) {
			l->group = g;
			fl_cidr_str(&a, l->addr, sizeof(l->addr));
			snprintf(l->addr_dev, sizeof(l->addr_dev), "%s",
				 p->ifa_name);
		} else if (g != l->group) {
			l->ambiguous = true;
		}
	}
	if (l->group < 0)
		goto out;
	/* Devices whose subnets hold peers; else every device that is up. */
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) ||
		    !(p->ifa_flags & IFF_UP) || sa_cidr(p->ifa_addr, &net))
			continue;
		bits = mask_len(p->ifa_netmask);
		net.prefix = bits;
		for (i = bits; i < (net.family == AF_INET ? 32 : 128); i++)
			net.addr[i / 8] &= ~(0x80 >> (i % 8));
		if (carries_peer(s, l->group, &net))
			add_dev(l, p->ifa_name);
	}
	if (!l->ndevs)
		for (p = ifa; p; p = p->ifa_next)
			if (p->ifa_addr && !(p->ifa_flags & IFF_LOOPBACK) &&
			    (p->ifa_flags & IFF_UP) &&
			    (p->ifa_addr->sa_family == AF_INET ||
			     p->ifa_addr->sa_family == AF_INET6))
				add_dev(l, p->ifa_name);
out:
	freeifaddrs(ifa);
}

/* ------------------------------------------------------------------ */
/* Mechanism: cls_bpf at clsact, else netem 100% loss (+ ifb).           */

enum part_mech {
	PART_BPF,
	PART_NETEM,
	PART_NONE,
};

static bool qdisc_ok(const char *kind)
{
	char why[256];

	return fl_kernel_has_qdisc(kind, why, sizeof(why)) == 1;
}

static enum part_mech pick(char *why, size_t len)
{
	char bwhy[256] = "";
	int r;

	r = fl_bpf_probe(FL_BPF_SCHED_CLS, bwhy, sizeof(bwhy));
	if (r == 1 && qdisc_ok("clsact")) {
		snprintf(why, len, "cls_bpf programs load and the clsact qdisc exists: one direct-action program per device and direction, with an LPM-trie map of peer prefixes (changing peers changes only the map); packets are dropped silently, so established TCP stalls without a RST");
		return PART_BPF;
	}
	if (qdisc_ok("netem") && (qdisc_ok("prio") || qdisc_ok("htb")) &&
	    qdisc_ok("ifb")) {
		snprintf(why, len, "%s, so the fallback: netem with 100%% loss under a classful parent for egress, and an ifb device for ingress",
			 r == 1 ? "the clsact qdisc is missing" :
			 bwhy[0] ? bwhy : "cls_bpf programs do not load");
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
	if (!f->priv)
		return -EINVAL;
	if (pick(why, len) == PART_NONE)
		return -EOPNOTSUPP;
	return 0;
}

static void add_obj(json_object *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_obj(json_object *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(a, json_object_new_string(buf));
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

static int partition_describe(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	char why[1536], keep[256], a[64];
	json_object *objs, *params, *groups, *g;
	struct part_local l;
	size_t i, j, off, npeers = 0;
	enum part_mech m;
	bool egress, ingress;

	if (!s)
		return -EINVAL;
	m = pick(why, sizeof(why));
	find_local(s, &l);
	keep_list(s, keep, sizeof(keep));

	json_object_object_add(out, "mechanism", json_object_new_string(
		m == PART_BPF ? "cls_bpf at clsact (direct action, LPM trie)" :
		m == PART_NETEM ? "netem 100% loss under a classful parent, ifb for ingress" :
		"none"));
	off = strlen(why);
	if (l.group >= 0)
		snprintf(why + off, sizeof(why) - off,
			 "; this host is in group %d (%s on %s)", l.group + 1,
			 l.addr, l.addr_dev);
	else
		snprintf(why + off, sizeof(why) - off,
			 "; this host has no address in any group, so nothing is cut here (every host of the drill runs the same file)");
	json_object_object_add(out, "why", json_object_new_string(why));

	objs = json_object_new_array();
	if (l.group >= 0) {
		for (i = 0; i < s->ngroups; i++)
			if (is_peer(s, l.group, i))
				npeers += s->groups[i].n;
		/* One-way: group 1 cuts its egress, the others their ingress. */
		egress = !s->one_way || l.group == 0;
		ingress = !s->one_way || l.group != 0;
		if (m != PART_NETEM) {
			add_obj(objs, "BPF map fl_part_peers (LPM trie): %zu peer prefix%s of the other groups",
				npeers, npeers == 1 ? "" : "es");
			add_obj(objs, "BPF map fl_part_keep: %s never cut", keep);
		}
		for (i = 0; i < l.ndevs; i++) {
			const char *dev = l.devs[i];

			if (m != PART_NETEM) {
				add_obj(objs, "qdisc clsact on %s (added unless one exists; removed at revert if added)",
					dev);
				if (egress)
					add_obj(objs, "filter bpf da on %s egress: BPF program sched_cls fl_partition drops to peers",
						dev);
				if (ingress)
					add_obj(objs, "filter bpf da on %s ingress: BPF program sched_cls fl_partition drops from peers",
						dev);
				continue;
			}
			if (egress) {
				add_obj(objs, "qdisc htb fa17: on %s (root, replaces the current root qdisc saved in the journal), default 0",
					dev);
				add_obj(objs, "class htb fa17:2 on %s", dev);
				add_obj(objs, "filter u32 on %s: %s pass; dst in %zu peer prefixes -> fa17:2",
					dev, keep, npeers);
				add_obj(objs, "qdisc netem fa18: parent fa17:2 loss 100%% on %s",
					dev);
			}
			if (ingress) {
				add_obj(objs, "ifb device fl-ifb-%s and clsact on %s, filter u32 mirred ingress -> ifb",
					dev, dev);
				add_obj(objs, "qdisc htb fa17: / netem fa18: loss 100%% on the ifb, src in %zu peer prefixes",
					npeers);
			}
		}
	}
	json_object_object_add(out, "objects", objs);

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
	if (l.group >= 0)
		snprintf(why, sizeof(why), "group %d (%s on %s)%s", l.group + 1,
			 l.addr, l.addr_dev, l.ambiguous ?
			 "; other local addresses are in other groups" : "");
	else
		snprintf(why, sizeof(why), "in no group: nothing is cut on this host; every host of the drill runs the same file");
	json_object_object_add(params, "this-host",
			       json_object_new_string(why));
	json_object_object_add(out, "params", params);
	return 0;
}

static int partition_resources(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	struct part_local l;
	char buf[64];
	size_t i;

	if (!s)
		return -EINVAL;
	find_local(s, &l);
	for (i = 0; i < l.ndevs; i++) {
		snprintf(buf, sizeof(buf), "dev:%s", l.devs[i]);
		json_object_array_add(out, json_object_new_string(buf));
	}
	return 0;
}

static int partition_apply(struct fl_fault *f, struct fl_undo *u)
{
	/* apply lands with issue #4 */
	free(f->detail);
	f->detail = strdup("the partition engine's apply is not in this build yet");
	return -EOPNOTSUPP;
}

static int partition_revert(json_object *state)
{
	/* apply lands with issue #4: nothing was ever applied. */
	return 0;
}

const struct fl_engine partition_engine = {
	.name = "partition",
	.summary = "cut traffic between groups of hosts (cls_bpf, or netem 100% loss)",
	.parse = partition_parse,
	.free = partition_free,
	.check = partition_check,
	.apply = partition_apply,
	.revert = partition_revert,
	.describe = partition_describe,
	.resources = partition_resources,
};
