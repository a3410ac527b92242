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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include "bpf/bpfault.h"
#include "bpf/bpflog.h"
#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/partition_bpf.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"
#include "netem/partition.skel.h"

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
	if (fl_map_check(spec, partition_keys, "partition", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
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
	return err;
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

/* A bridge port or bond slave: its master carries the traffic. */
static bool enslaved(const char *dev)
{
	char path[64 + IFNAMSIZ];

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", dev);
	return !access(path, F_OK);
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
	struct fl_cidr a;
	int g;

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
	if (netem_partition_as > 0 &&
	    (size_t)netem_partition_as <= s->ngroups) {
		if (l->group != netem_partition_as - 1) {
			l->ambiguous = false;
			l->addr[0] = '\0';
			snprintf(l->addr_dev, sizeof(l->addr_dev), "--as");
		}
		l->group = netem_partition_as - 1;
	}
	if (l->group < 0)
		goto out;
	/*
	 * Every device that is up, has an address and is not enslaved to a
	 * bridge or bond: the program drops only peer traffic, so a device
	 * that carries none is unaffected, and routed peers (behind a
	 * gateway) are covered too.
	 */
	for (p = ifa; p; p = p->ifa_next)
		if (p->ifa_addr && !(p->ifa_flags & IFF_LOOPBACK) &&
		    (p->ifa_flags & IFF_UP) && !enslaved(p->ifa_name) &&
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

/* The tc priority of faultline's partition filters; handles from 1. */
#define PART_PRIO	0xfa17

/* How this host found its group: "10.77.0.1 on veth0", or --as. */
static const char *where(const struct part_local *l, char *buf, size_t len)
{
	if (!l->addr[0])
		snprintf(buf, len, "chosen with --as %d", netem_partition_as);
	else
		snprintf(buf, len, "%s on %s", l->addr, l->addr_dev);
	return buf;
}

static int partition_describe(const struct fl_fault *f, json_object *out)
{
	const struct partition_spec *s = f->priv;
	char why[1536], keep[256], a[64], wh[128], ifb[IFNAMSIZ];
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
			 "; this host is in group %d (%s)", l.group + 1,
			 where(&l, wh, sizeof(wh)));
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
			add_obj(objs, "BPF map peers (LPM trie, IPv4 as ::ffff:0:0/96): %zu peer prefix%s of the other group%s",
				npeers, npeers == 1 ? "" : "es",
				s->one_way && l.group ? "" : "s");
			add_obj(objs, "BPF map counters (per-CPU array): packets dropped and kept per direction");
			add_obj(objs, "BPF read-only data: keep %s (never cut)",
				keep);
		}
		for (i = 0; i < l.ndevs; i++) {
			const char *dev = l.devs[i];

			if (m != PART_NETEM) {
				add_obj(objs, "qdisc clsact on %s (added unless one exists; removed at revert if added)",
					dev);
				if (egress)
					add_obj(objs, "filter bpf direct-action on %s egress, pref %u, first free handle: program part_egress drops packets to peers",
						dev, PART_PRIO);
				if (ingress)
					add_obj(objs, "filter bpf direct-action on %s ingress, pref %u, first free handle: program part_ingress drops packets from peers",
						dev, PART_PRIO);
				continue;
			}
			if (egress) {
				add_obj(objs, "qdisc %s fa17: on %s (root, replaces the current root qdisc, which the journal saves and revert puts back)",
					netem_parent_kind(), dev);
				if (strcmp(netem_parent_kind(), "prio"))
					add_obj(objs, "class htb fa17:2 on %s",
						dev);
				add_obj(objs, "qdisc netem fa18: parent fa17:2 loss 100%% on %s",
					dev);
				add_obj(objs, "filters u32 on %s: keep %s first (untouched), then dst in %zu peer prefix%s -> fa17:2",
					dev, keep, npeers,
					npeers == 1 ? "" : "es");
			}
			if (ingress) {
				netem_ifb_name(f, dev, ifb, sizeof(ifb));
				add_obj(objs, "ifb device %s; on %s's ingress (clsact unless one exists) a u32 filter with mirred redirect -> %s",
					ifb, dev, ifb);
				add_obj(objs, "on %s: qdisc %s fa17:, netem fa18: loss 100%%, filters u32 keep %s first, then src in %zu peer prefix%s -> fa17:2",
					ifb, netem_parent_kind(), keep, npeers,
					npeers == 1 ? "" : "es");
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
		snprintf(why, sizeof(why), "group %d (%s)%s", l.group + 1,
			 where(&l, wh, sizeof(wh)), l.ambiguous ?
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
	size_t i;

	if (!s)
		return -EINVAL;
	find_local(s, &l);
	for (i = 0; i < l.ndevs; i++)
		netem_dev_lock(l.devs[i], out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* rtnetlink: what sits at clsact, and whether filters remain there.    */

struct dump_ctx {
	int ifindex;
	int found;			/* qdisc: 1 when seen; filters: count */
	char kind[16];
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct dump_ctx *c = data;
	const struct nlattr *attr;

	if (tcm->tcm_ifindex != c->ifindex || tcm->tcm_parent != TC_H_CLSACT)
		return MNL_CB_OK;
	c->found = 1;
	mnl_attr_for_each(attr, nlh, sizeof(*tcm))
		if (mnl_attr_get_type(attr) == TCA_KIND)
			snprintf(c->kind, sizeof(c->kind), "%s",
				 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;

	c->found++;
	return MNL_CB_OK;
}

static int nl_dump(int type, int ifindex, __u32 parent, mnl_cb_t cb,
		   struct dump_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq, portid;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = time(NULL);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, cb, c);
		if (ret <= 0) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

/* 1 with its kind ("clsact", "ingress") when ifindex has one, 0 if not. */
static int clsact_kind(int ifindex, char *kind, size_t len)
{
	struct dump_ctx c = { .ifindex = ifindex };
	int ret;

	ret = nl_dump(RTM_GETQDISC, ifindex, 0, qdisc_cb, &c);
	if (ret)
		return ret;
	snprintf(kind, len, "%s", c.kind);
	return c.found;
}

/* How many filter messages clsact's two hooks of ifindex still hold. */
static int clsact_filters(int ifindex)
{
	struct dump_ctx c = { .ifindex = ifindex };
	int ret;

	ret = nl_dump(RTM_GETTFILTER, ifindex,
		      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), filter_cb, &c);
	if (!ret)
		ret = nl_dump(RTM_GETTFILTER, ifindex,
			      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
			      filter_cb, &c);
	return ret ? ret : c.found;
}

/* ------------------------------------------------------------------ */
/* Apply, observe and revert with cls_bpf.                              */

#define PART_MAX_HANDLE	64

/*
 * An applied partition, the handle the runner keeps for observe and
 * release: the loaded skeleton (BPF route) and what the report lists.
 */
struct part_rt {
	bool one_way;
	struct partition *skel;		/* BPF route, else NULL */
	int group;
	size_t npeers;
	json_object *peers, *devices;
	json_object *ifbs;		/* netem: the ifb devices, else NULL */
};

static void rt_free(struct part_rt *rt)
{
	if (!rt)
		return;
	partition__destroy(rt->skel);
	json_object_put(rt->peers);
	json_object_put(rt->devices);
	json_object_put(rt->ifbs);
	free(rt);
}

static void v4mapped(const struct fl_cidr *c, struct part_key *k)
{
	memset(k, 0, sizeof(*k));
	if (c->family == AF_INET) {
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(&k->addr[12], c->addr, 4);
		k->prefixlen = 96 + c->prefix;
	} else {
		memcpy(k->addr, c->addr, 16);
		k->prefixlen = c->prefix;
	}
}

static __u32 prog_id(const struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.id;
}

/* Open and load the program with its keep rules and an empty trie. */
static int load_prog(const struct partition_spec *s, size_t npeers,
		     struct partition **out, const struct bpf_log *log,
		     char *why, size_t len)
{
	struct partition *skel;
	size_t i;
	int err;

	if (s->nkeep > PART_MAX_KEEP) {
		snprintf(why, len, "keep: at most %d entries", PART_MAX_KEEP);
		return -E2BIG;
	}
	skel = partition__open();
	if (!skel) {
		err = -errno;
		snprintf(why, len, "cannot open the partition BPF object: %s",
			 strerror(-err));
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.peers, npeers ? npeers : 1);
	for (i = 0; i < s->nkeep; i++) {
		struct part_keep *k = (struct part_keep *)&skel->rodata->keep[i];

		k->protocol = s->keep[i].protocol == NETEM_PROTO_ICMP ?
			      PART_KEEP_ICMP : s->keep[i].protocol;
		k->port_lo = s->keep[i].port_lo;
		k->port_hi = s->keep[i].port_hi;
	}
	skel->rodata->nkeep = s->nkeep;
	err = partition__load(skel);
	if (err) {
		const char *lw = bpf_log_why(log);

		snprintf(why, len, "cannot load the partition BPF program: %s%s%.200s",
			 strerror(-err), lw[0] ? ": " : "", lw);
		partition__destroy(skel);
		skel = NULL;
	}
out:
	*out = skel;
	return err;
}

/* The peer prefixes for the report (the first 64). */
static void peer_list(const struct partition_spec *s, int group,
		      json_object *peers)
{
	size_t i, j;
	char a[64];

	for (i = 0; i < s->ngroups; i++)
		for (j = 0; is_peer(s, group, i) && j < s->groups[i].n; j++) {
			if (json_object_array_length(peers) >= 64)
				return;
			fl_cidr_str(&s->groups[i].hosts[j], a, sizeof(a));
			json_object_array_add(peers, json_object_new_string(a));
		}
}

static int fill_peers(const struct partition_spec *s, int group,
		      struct partition *skel)
{
	int fd = bpf_map__fd(skel->maps.peers);
	struct part_key k;
	size_t i, j;
	__u32 g;

	for (i = 0; i < s->ngroups; i++) {
		if (!is_peer(s, group, i))
			continue;
		for (j = 0; j < s->groups[i].n; j++) {
			v4mapped(&s->groups[i].hosts[j], &k);
			g = i;
			if (bpf_map_update_elem(fd, &k, &g, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

static bool l3_device(const char *dev)
{
	char path[64 + IFNAMSIZ], buf[16] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", dev);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	/* ARPHRD_ETHER is 1; loopback is never a partition device. */
	return buf[0] && atoi(buf) != 1;
}

static enum bpf_tc_attach_point hook_of(const char *dir)
{
	return !strcmp(dir, "egress") ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* A handle free at PART_PRIO in both hooks of ifindex. */
static __u32 free_handle(int ifindex, bool has_clsact)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	__u32 h;
	int d, ret;

	if (!has_clsact)
		return 1;
	for (h = 1; h <= PART_MAX_HANDLE; h++) {
		for (d = 0; d < 2; d++) {
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = h,
					    .priority = PART_PRIO);

			hook.attach_point = d ? BPF_TC_INGRESS : BPF_TC_EGRESS;
			ret = bpf_tc_query(&hook, &o);
			/* No chain at that priority says EINVAL. */
			if (ret != -ENOENT && ret != -EINVAL)
				break;
		}
		if (d == 2)
			return h;
	}
	return 0;
}

/* The programs, as the record lists their ids: egress, ingress, then L3. */
static struct bpf_program *prog_of(struct partition *skel, bool ingress,
				   bool l3)
{
	if (ingress)
		return l3 ? skel->progs.part_ingress_l3 :
			    skel->progs.part_ingress;
	return l3 ? skel->progs.part_egress_l3 : skel->progs.part_egress;
}

/* One filter of the record: where it goes and which program it runs. */
static json_object *filter_record(bool ingress, __u32 handle, __u32 prog)
{
	json_object *fj = json_object_new_object();

	json_object_object_add(fj, "dir", json_object_new_string(
				       ingress ? "ingress" : "egress"));
	json_object_object_add(fj, "prio", json_object_new_int(PART_PRIO));
	json_object_object_add(fj, "handle", json_object_new_int(handle));
	json_object_object_add(fj, "prog", json_object_new_int64(prog));
	return fj;
}

/*
 * The record of one device (added to devs): its clsact, whether faultline
 * adds it ("ours") or it was there ("theirs"), and the filters to attach.
 */
static int record_dev(struct fl_undo *u, const char *dev,
		      struct partition *skel, bool egress, bool ingress,
		      json_object *devs)
{
	json_object *dj, *filters;
	bool l3 = l3_device(dev);
	int ifindex, has;
	char kind[16];
	__u32 h;

	ifindex = if_nametoindex(dev);
	if (!ifindex)
		return 0;	/* gone since getifaddrs */
	has = clsact_kind(ifindex, kind, sizeof(kind));
	if (has < 0) {
		fl_undo_why(u, "%s: cannot read its qdiscs: %s", dev,
			    strerror(-has));
		return has;
	}
	if (has && strcmp(kind, "clsact")) {
		fl_undo_why(u, "%s has an '%s' qdisc at ingress; the partition needs clsact there (remove it, or leave this device out of the drill)",
			    dev, kind);
		return -EBUSY;
	}
	h = free_handle(ifindex, has);
	if (!h) {
		fl_undo_why(u, "%s: no free filter handle at priority %u", dev,
			    PART_PRIO);
		return -EBUSY;
	}
	dj = json_object_new_object();
	json_object_object_add(dj, "dev", json_object_new_string(dev));
	json_object_object_add(dj, "ifindex", json_object_new_int(ifindex));
	json_object_object_add(dj, "clsact", json_object_new_string(
				       has ? "theirs" : "ours"));
	filters = json_object_new_array();
	if (egress)
		json_object_array_add(filters, filter_record(false, h,
				prog_id(prog_of(skel, false, l3))));
	if (ingress)
		json_object_array_add(filters, filter_record(true, h,
				prog_id(prog_of(skel, true, l3))));
	json_object_object_add(dj, "filters", filters);
	json_object_array_add(devs, dj);
	return 0;
}

/* The clsact the record says faultline adds; someone's meanwhile is kept. */
static int add_clsact(struct fl_undo *u, json_object *state, json_object *dj,
		      struct bpf_tc_hook *hook, const char *dev)
{
	int ret;

	if (strcmp(json_object_get_string(json_object_object_get(dj,
						"clsact")), "ours"))
		return 0;
	hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	ret = bpf_tc_hook_create(hook);
	if (ret == -EEXIST) {
		/* Someone else's, made meanwhile: keep it. */
		json_object_object_add(dj, "clsact",
				       json_object_new_string("theirs"));
		ret = fl_undo_save(u, state);
	}
	if (ret)
		fl_undo_why(u, "%s: cannot add the clsact qdisc: %s", dev,
			    strerror(-ret));
	return ret;
}

/* Make one device's record true: clsact, then each filter. */
static int attach_dev(struct fl_undo *u, json_object *state, json_object *dj,
		      struct partition *skel)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	const char *dev, *dir;
	json_object *filters, *fj;
	bool l3;
	size_t k;
	int ret;

	dev = json_object_get_string(json_object_object_get(dj, "dev"));
	l3 = l3_device(dev);
	hook.ifindex = json_object_get_int(json_object_object_get(dj,
								 "ifindex"));
	ret = add_clsact(u, state, dj, &hook, dev);
	if (ret)
		return ret;
	filters = json_object_object_get(dj, "filters");
	for (k = 0; k < json_object_array_length(filters); k++) {
		fj = json_object_array_get_idx(filters, k);
		dir = json_object_get_string(json_object_object_get(fj, "dir"));
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o,
			.handle = json_object_get_int(
				json_object_object_get(fj, "handle")),
			.priority = PART_PRIO);
		hook.attach_point = hook_of(dir);
		o.prog_fd = bpf_program__fd(prog_of(skel,
				hook.attach_point == BPF_TC_INGRESS, l3));
		ret = bpf_tc_attach(&hook, &o);
		if (ret) {
			fl_undo_why(u, "%s: cannot attach the %s filter: %s",
				    dev, dir, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The program loaded with its keep rules and a trie of the peers. */
static int prepare_bpf(const struct partition_spec *s, struct fl_undo *u,
		       struct part_rt *rt, const struct bpf_log *log)
{
	char why[1024];
	int ret;

	ret = load_prog(s, rt->npeers, &rt->skel, log, why, sizeof(why));
	if (ret) {
		fl_undo_why(u, "%s", why);
		return ret;
	}
	ret = fill_peers(s, rt->group, rt->skel);
	if (ret)
		fl_undo_why(u, "cannot fill the peer trie: %s",
			    strerror(-ret));
	return ret;
}

static int apply_bpf_quiet(const struct partition_spec *s, struct fl_undo *u,
			   const struct part_local *l, struct part_rt *rt,
			   const struct bpf_log *log)
{
	bool egress = !s->one_way || l->group == 0;
	bool ingress = !s->one_way || l->group != 0;
	json_object *state, *devs, *dj;
	size_t i;
	int ret;

	ret = prepare_bpf(s, u, rt, log);
	if (ret)
		return ret;

	/* Everything that undoes it, in the journal before any change. */
	state = json_object_new_object();
	json_object_object_add(state, "mechanism", json_object_new_string("bpf"));
	devs = json_object_new_array();
	json_object_object_add(state, "devices", devs);
	for (i = 0; i < l->ndevs; i++) {
		ret = record_dev(u, l->devs[i], rt->skel, egress, ingress,
				 devs);
		if (ret)
			goto out;
	}
	ret = fl_netns_record(state);
	if (!ret)
		ret = fl_undo_save(u, state);
	if (ret)
		goto out;

	for (i = 0; i < json_object_array_length(devs); i++) {
		dj = json_object_array_get_idx(devs, i);
		ret = attach_dev(u, state, dj, rt->skel);
		if (ret)
			goto out;
		json_object_array_add(rt->devices, json_object_get(
				json_object_object_get(dj, "dev")));
	}
out:
	json_object_put(state);
	return ret;
}

/* libbpf's netlink messages stay out of the terminal; errors say why. */
static int apply_bpf(const struct partition_spec *s, struct fl_undo *u,
		     const struct part_local *l, struct part_rt *rt)
{
	struct bpf_log log;
	int ret;

	bpf_log_begin(&log);
	ret = apply_bpf_quiet(s, u, l, rt, &log);
	bpf_log_end(&log);
	return ret;
}

static int revert_dev(json_object *dj)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	json_object *filters, *fj, *v;
	const char *dev = "";
	char kind[16], name[IF_NAMESIZE];
	int ifindex, has, ret, err = 0;
	bool ours;
	size_t k;

	if (json_object_object_get_ex(dj, "dev", &v))
		dev = json_object_get_string(v);
	ifindex = json_object_get_int(json_object_object_get(dj, "ifindex"));
	/* The same device: its index, unless it was renamed or remade. */
	if (!if_indextoname(ifindex, name) || strcmp(name, dev))
		ifindex = if_nametoindex(dev);
	if (!ifindex) {
		/* The device is gone, and our filters with it. */
		fl_warn("partition: device %s vanished during the drill; its qdiscs went with it: nothing to revert there",
			dev);
		return 0;
	}
	has = clsact_kind(ifindex, kind, sizeof(kind));
	if (has < 0)
		return has;
	ours = !strcmp(json_object_get_string(json_object_object_get(dj,
						"clsact")), "ours");
	if (!has) {
		fl_warn("partition: %s: someone removed the clsact qdisc during the drill, and our filters with it: nothing to revert there",
			dev);
		return 0;
	}
	if (strcmp(kind, "clsact")) {
		/* Not ours: the clsact of ours is gone, and its filters. */
		if (!ours)
			return 0;
		fl_err("partition: %s: someone replaced the clsact qdisc faultline added with an '%s' qdisc during the drill; leaving theirs in place (the undo record stays: remove it and run 'faultline recover' to finish)",
		       dev, kind);
		return -EBUSY;
	}
	hook.ifindex = ifindex;
	filters = json_object_object_get(dj, "filters");
	for (k = 0; k < json_object_array_length(filters); k++) {
		fj = json_object_array_get_idx(filters, k);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, q,
			.handle = json_object_get_int(
				json_object_object_get(fj, "handle")),
			.priority = json_object_get_int(
				json_object_object_get(fj, "prio")));
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = q.handle,
				    .priority = q.priority);
		hook.attach_point = hook_of(json_object_get_string(
					json_object_object_get(fj, "dir")));
		ret = bpf_tc_query(&hook, &q);
		if (ret == -ENOENT || ret == -EINVAL)
			continue;	/* no such filter, or no chain */
		if (ret) {
			err = err ? err : ret;
			continue;
		}
		/*
		 * Someone else's filter at our priority and handle: it
		 * replaced ours during the drill.  Leave it, say so, and
		 * keep the record: the revert is not complete.
		 */
		if (q.prog_id != (__u32)json_object_get_int64(
				json_object_object_get(fj, "prog"))) {
			fl_err("partition: %s: the %s filter at priority %d handle %d is not faultline's any more (BPF program %u, not %lld): someone replaced it during the drill; leaving theirs in place (the undo record stays: remove it and run 'faultline recover' to finish)",
			       dev, json_object_get_string(
					json_object_object_get(fj, "dir")),
			       q.priority, q.handle, q.prog_id,
			       (long long)json_object_get_int64(
					json_object_object_get(fj, "prog")));
			err = err ? err : -EBUSY;
			continue;
		}
		ret = bpf_tc_detach(&hook, &o);
		if (ret && ret != -ENOENT)
			err = err ? err : ret;
	}
	if (err)
		return err;
	if (!ours)
		return 0;
	/* Ours: remove it, unless someone added filters of their own. */
	ret = clsact_filters(ifindex);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		fl_warn("partition: %s: leaving the clsact qdisc faultline added, because it now holds %d filter(s) of someone else",
			dev, ret);
		return 0;
	}
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	ret = bpf_tc_hook_destroy(&hook);
	return ret == -ENOENT || ret == -EINVAL ? 0 : ret;
}

/*
 * Detach every filter of the record by its priority and handle (in the
 * record's network namespace, where core runs it), and the clsact
 * faultline added.  The programs stay loaded until release destroys the
 * skeleton, or until the runner exits.
 */
static int revert_bpf(json_object *state)
{
	json_object *devs, *dj;
	struct bpf_log log;
	size_t i;
	int ret, err = 0;

	if (!json_object_object_get_ex(state, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		return 0;
	/* libbpf's netlink messages stay out of the terminal. */
	bpf_log_begin(&log);
	for (i = 0; i < json_object_array_length(devs); i++) {
		dj = json_object_array_get_idx(devs, i);
		ret = revert_dev(dj);
		if (ret) {
			fl_err("partition: %s: %s", json_object_get_string(
					json_object_object_get(dj, "dev")),
			       strerror(-ret));
			err = err ? err : ret;
		}
	}
	bpf_log_end(&log);
	return err;
}

/*
 * The fallback, where cls_bpf cannot load: per device, the netem fault's
 * classful parent fa17: with a netem child fa18: (loss 100%) at fa17:2,
 * and u32 filters: keep ports first (to the untouched band), then the
 * peers' prefixes (dst on egress; src on an ifb that a mirred filter
 * feeds from the device's ingress).  Each device's undo record is the
 * netem fault's, so the netem engine's revert puts the saved tc state
 * back.
 */

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

static int add_part_filters(struct netem_applier *a, int ifindex,
			    const char *dev, const struct partition_spec *s,
			    int group, bool to_peer)
{
	char selbuf[sizeof(struct tc_u32_sel) + 8 * sizeof(struct tc_u32_key)];
	struct tc_u32_sel *sel = (struct tc_u32_sel *)selbuf;
	uint16_t val[32], mask[32];
	size_t i, j;
	int v6, n, b, side, ret;

	for (v6 = 0; v6 < 2; v6++) {
		uint16_t proto = v6 ? ETH_P_IPV6 : ETH_P_IP;
		int toff = v6 ? 40 : 20;	/* no options or ext headers */

		for (i = 0; i < s->nkeep; i++) {
			const struct partition_keep *k = &s->keep[i];
			int ipproto = k->protocol;

			if (k->protocol == NETEM_PROTO_ICMP) {
				ipproto = v6 ? NETEM_PROTO_ICMPV6 :
					       NETEM_PROTO_ICMP;
				n = 1;
			} else {
				n = port_blocks(k->port_lo, k->port_hi, val,
						mask);
			}
			for (b = 0; b < n; b++)
			for (side = 0; side < 2; side++) {
				memset(selbuf, 0, sizeof(selbuf));
				if (v6)
					netem_u32_key(sel, 0x0000ff00,
						      ipproto << 8, 4);
				else
					netem_u32_key(sel, 0x00ff0000,
						      ipproto << 16, 8);
				if (k->protocol != NETEM_PROTO_ICMP)
					netem_u32_key(sel, side ? mask[b] :
						      (uint32_t)mask[b] << 16,
						      side ? val[b] :
						      (uint32_t)val[b] << 16,
						      toff);
				else if (side)
					continue;
				ret = netem_add_u32(a, ifindex,
						    NETEM_HANDLE_ROOT,
						    PART_U32_KEEP + v6, proto,
						    sel, keep_class(), 0);
				if (ret)
					return netem_fail(a, ret, "cannot add a keep filter on %s",
							  dev);
			}
		}
		for (i = 0; i < s->ngroups; i++) {
			if (!is_peer(s, group, i))
				continue;
			for (j = 0; j < s->groups[i].n; j++) {
				const struct fl_cidr *h = &s->groups[i].hosts[j];

				if ((h->family == AF_INET6) != v6)
					continue;
				memset(selbuf, 0, sizeof(selbuf));
				netem_u32_prefix(sel, h, to_peer ?
						 (v6 ? 24 : 16) : (v6 ? 8 : 12));
				if (!sel->nkeys)
					netem_u32_key(sel, 0, 0, 0);
				ret = netem_add_u32(a, ifindex,
						    NETEM_HANDLE_ROOT,
						    PART_U32_PEERS + v6, proto,
						    sel, NETEM_CLASS_MATCHED, 0);
				if (ret)
					return netem_fail(a, ret, "cannot add a peer filter on %s",
							  dev);
			}
		}
	}
	ret = netem_count_u32(ifindex, NETEM_HANDLE_ROOT);
	if (ret <= 0)
		return netem_fail(a, ret ? ret : -EIO,
				  "the partition filters are not on %s after apply",
				  dev);
	return 0;
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
struct netem_plan {
	int ifx[MAX_DEVS];
	struct netem_ingress in[MAX_DEVS];
	char ifb[MAX_DEVS][IFNAMSIZ];
	size_t n;
};

/* Each device's saved tc state and what changes, into devs. */
static int plan_netem(struct netem_applier *a, const struct fl_fault *f,
		      const struct part_local *l, bool egress, bool ingress,
		      struct netem_plan *p, json_object *devs)
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
static int build_netem(struct netem_applier *a, const struct partition_spec *s,
		       const struct netem_plan *p, size_t i, const char *dev,
		       struct part_rt *rt)
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

static int apply_netem(const struct fl_fault *f, struct fl_undo *u,
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
	struct netem_plan *p;
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
	json_object_object_add(state, "mechanism",
			       json_object_new_string("netem"));
	devs = json_object_new_array();
	json_object_object_add(state, "devices", devs);
	ret = plan_netem(&a, f, l, egress, ingress, p, devs);
	if (ret)
		goto out;
	/* Every device's saved tc state, in the journal before any change. */
	ret = fl_netns_record(state);
	if (!ret)
		ret = fl_undo_save(u, state);
	if (ret) {
		ret = netem_fail(&a, ret, "cannot save the undo record");
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		ret = build_netem(&a, s, p, i, json_object_get_string(
				json_object_object_get(json_object_array_get_idx(
						devs, i), "device")), rt);
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
static int revert_netem(json_object *state)
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

/* The handle of a fault that cuts here: this host's group and its peers. */
static struct part_rt *rt_new(const struct partition_spec *s, int group)
{
	struct part_rt *rt = calloc(1, sizeof(*rt));
	size_t i;

	if (!rt)
		return NULL;
	rt->one_way = s->one_way;
	rt->group = group;
	for (i = 0; i < s->ngroups; i++)
		if (is_peer(s, group, i))
			rt->npeers += s->groups[i].n;
	rt->peers = json_object_new_array();
	rt->devices = json_object_new_array();
	if (!rt->peers || !rt->devices) {
		rt_free(rt);
		return NULL;
	}
	peer_list(s, group, rt->peers);
	return rt;
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
	find_local(s, &l);
	if (l.group < 0)
		return 0;		/* not in the drill: nothing to cut */
	rt = rt_new(s, l.group);
	if (!rt)
		return -ENOMEM;
	switch (pick(why, sizeof(why))) {
	case PART_BPF:
		ret = apply_bpf(s, u, &l, rt);
		break;
	case PART_NETEM:
		ret = apply_netem(f, u, &l, rt);
		break;
	default:
		fl_undo_why(u, "%s", why);
		ret = -EOPNOTSUPP;
		break;
	}
	if (ret) {
		rt_free(rt);
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
		return revert_bpf(state);
	if (!strcmp(json_object_get_string(m), "netem"))
		return revert_netem(state);
	return -EINVAL;
}

static void observe_common(const struct part_rt *rt, json_object *out)
{
	json_object_object_add(out, "group", json_object_new_int(rt->group + 1));
	json_object_object_add(out, "npeers",
			       json_object_new_uint64(rt->npeers));
	json_object_object_add(out, "peers", json_object_get(rt->peers));
	json_object_object_add(out, "devices", json_object_get(rt->devices));
	json_object_object_add(out, "one-way",
			       json_object_new_boolean(rt->one_way));
}

/* The fallback: the drops of the netem leaves (keep rules count none). */
static int observe_netem(const struct part_rt *rt, json_object *out)
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
	json_object_object_add(out, "mechanism", json_object_new_string("netem"));
	json_object_object_add(out, "dropped", dropped);
	json_object_object_add(out, "ifbs", json_object_get(rt->ifbs));
	observe_common(rt, out);
	return 0;
}

static int partition_observe(void *handle, json_object *out)
{
	static const char *const names[PART_NR_COUNTERS] = {
		[PART_DROP_EGRESS] = "egress",
		[PART_DROP_INGRESS] = "ingress",
		[PART_KEPT_EGRESS] = "egress",
		[PART_KEPT_INGRESS] = "ingress",
	};
	const struct part_rt *rt = handle;
	json_object *dropped, *kept;
	int ncpu, fd;
	__u64 *v, sum;
	__u32 key;

	if (!rt) {
		json_object_object_add(out, "group", NULL);
		json_object_object_add(out, "note", json_object_new_string(
			"this host is in no group: nothing was cut here"));
		return 0;
	}
	if (!rt->skel)
		return observe_netem(rt, out);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	fd = bpf_map__fd(rt->skel->maps.counters);
	dropped = json_object_new_object();
	kept = json_object_new_object();
	for (key = 0; key < PART_NR_COUNTERS; key++) {
		int c;

		sum = 0;
		if (!bpf_map_lookup_elem(fd, &key, v))
			for (c = 0; c < ncpu; c++)
				sum += v[c];
		json_object_object_add(key < PART_KEPT_EGRESS ? dropped : kept,
				       names[key], json_object_new_uint64(sum));
	}
	free(v);
	json_object_object_add(out, "mechanism", json_object_new_string("bpf"));
	json_object_object_add(out, "dropped", dropped);
	json_object_object_add(out, "kept", kept);
	observe_common(rt, out);
	return 0;
}

static void partition_release(void *handle)
{
	rt_free(handle);
}

const struct fl_engine partition_engine = {
	.name = "partition",
	.summary = "cut traffic between groups of hosts (cls_bpf, or netem 100% loss)",
	.parse = partition_parse,
	.spec_free = partition_spec_free,
	.check = partition_check,
	.describe = partition_describe,
	.resources = partition_resources,
	.apply = partition_apply,
	.observe = partition_observe,
	.revert = partition_revert,
	.release = partition_release,
};
