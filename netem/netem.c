// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault: delay, loss, duplication, corruption, reordering, rate
 * and slotting on a device, for all of its traffic or a matched subset,
 * egress, ingress (through an ifb device) or both.
 *
 * This file holds the fault's schema (parse), what this kernel allows
 * (check), the plan (describe), and apply, revert and observe over
 * rtnetlink (netem/tc.c saves and restores the device's tc state).
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
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

static const char *const netem_keys[] = {
	"device", "direction", "match", "delay", "jitter", "correlation",
	"distribution", "loss", "duplicate", "corrupt", "reorder", "rate",
	"slot", "ecn", "seed", "limit", NULL,
};

static const char *const match_keys[] = {
	"to", "from", "ports", "protocol", NULL,
};

static const char *const dir_names[] = {
	[NETEM_EGRESS] = "egress",
	[NETEM_INGRESS] = "ingress",
	[NETEM_BOTH] = "both",
	NULL,
};

static const char *const dist_names[] = {
	"uniform", "normal", "pareto", "paretonormal", NULL,
};

static const char *const proto_names[] = {
	"tcp", "udp", "icmp", "icmpv6", "sctp", NULL,
};

static const int proto_numbers[] = {
	NETEM_PROTO_TCP, NETEM_PROTO_UDP, NETEM_PROTO_ICMP,
	NETEM_PROTO_ICMPV6, NETEM_PROTO_SCTP,
};

static const char *const loss_models[] = { "gemodel", "state", NULL };

static const char *const gemodel_keys[] = {
	"model", "p", "r", "1-h", "1-k", NULL,
};

static const char *const state_keys[] = {
	"model", "p13", "p31", "p32", "p23", "p14", NULL,
};

static const char *const loss_any_keys[] = {
	"model", "p", "r", "1-h", "1-k", "p13", "p31", "p32", "p23", "p14",
	NULL,
};

static const char *const reorder_keys[] = { "percent", "gap", NULL };
static const char *const slot_keys[] = { "min", "max", NULL };

static const char *proto_name(int proto)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(proto_numbers); i++)
		if (proto_numbers[i] == proto)
			return proto_names[i];
	return "any";
}

static void netem_spec_free(void *spec)
{
	struct netem_spec *s = spec;

	if (!s)
		return;
	free(s->device);
	free(s->match.to);
	free(s->match.from);
	free(s->match.ports);
	free(s);
}

/* A lone scalar or a sequence: its nth item. */
static const struct fl_node *item(const struct fl_node *v, size_t i)
{
	return v->type == FL_NODE_SEQ ? v->items[i] : v;
}

static int get_cidrs(const struct fl_node *v, const char *what,
		     struct fl_cidr **out, size_t *n, struct fl_diag *d)
{
	struct fl_cidr *c;
	size_t cnt, i;
	int err = 0;

	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "%s: expected an address, a CIDR or a list of them, not a map",
			    what);
		return -EINVAL;
	}
	cnt = v->type == FL_NODE_SEQ ? v->n : 1;
	if (!cnt) {
		fl_diag_err(d, v, "%s: empty list", what);
		return -EINVAL;
	}
	c = calloc(cnt, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < cnt; i++)
		if (fl_get_cidr(item(v, i), what, &c[i], d))
			err = -EINVAL;
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	*n = cnt;
	return 0;
}

static int get_ports(const struct fl_node *v, const char *what,
		     uint16_t **out, size_t *n, struct fl_diag *d)
{
	uint16_t *p;
	uint64_t u;
	size_t cnt, i;
	int err = 0;

	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "%s: expected a port or a list of ports, not a map",
			    what);
		return -EINVAL;
	}
	cnt = v->type == FL_NODE_SEQ ? v->n : 1;
	if (!cnt) {
		fl_diag_err(d, v, "%s: empty list", what);
		return -EINVAL;
	}
	p = calloc(cnt, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		if (fl_get_u64(item(v, i), what, 1, 65535, &u, d))
			err = -EINVAL;
		else
			p[i] = u;
	}
	if (err) {
		free(p);
		return err;
	}
	*out = p;
	*n = cnt;
	return 0;
}

static int get_device(const struct fl_node *v, char **out, struct fl_diag *d)
{
	char *s;

	if (fl_get_string(v, "device", &s, d))
		return -EINVAL;
	if (!*s || strlen(s) >= IFNAMSIZ || strpbrk(s, "/: \t\n") ||
	    !strcmp(s, ".") || !strcmp(s, "..")) {
		fl_diag_err(d, v, "device: '%s' is not an interface name (1 to %d characters, no '/', ':' or spaces)",
			    s, IFNAMSIZ - 1);
		free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int parse_match(const struct fl_node *m, struct netem_match *mt,
		       struct fl_diag *d)
{
	const struct fl_node *v, *ports;
	int err = 0, idx;

	if (fl_map_check(m, match_keys, "match", d))
		err = -EINVAL;
	if (m->type != FL_NODE_MAP)
		return -EINVAL;
	if (!m->n) {
		fl_diag_err(d, m, "match: empty; give to, from, ports or protocol (or leave match out to degrade all traffic)");
		return -EINVAL;
	}
	v = fl_map_get(m, "to");
	if (v && get_cidrs(v, "to", &mt->to, &mt->nto, d))
		err = -EINVAL;
	v = fl_map_get(m, "from");
	if (v && get_cidrs(v, "from", &mt->from, &mt->nfrom, d))
		err = -EINVAL;
	ports = fl_map_get(m, "ports");
	if (ports && get_ports(ports, "ports", &mt->ports, &mt->nports, d))
		err = -EINVAL;
	v = fl_map_get(m, "protocol");
	if (v) {
		if (fl_get_enum(v, "protocol", proto_names, &idx, d))
			err = -EINVAL;
		else
			mt->protocol = proto_numbers[idx];
	}
	if (ports && (mt->protocol == NETEM_PROTO_ICMP ||
		      mt->protocol == NETEM_PROTO_ICMPV6)) {
		fl_diag_err(d, ports, "ports: protocol %s has no ports",
			    proto_name(mt->protocol));
		err = -EINVAL;
	}
	return err;
}

static int parse_loss(const struct fl_node *v, struct netem_spec *s,
		      struct fl_diag *d)
{
	static const double gemodel_def[] = { -1, 100, 100, 0 };
	static const double state_def[] = { -1, -1, 0, 100, 0 };
	const char *const *keys;
	const double *defs;
	const struct fl_node *m;
	int err = 0, model, i, nkeys;

	if (v->type == FL_NODE_SCALAR) {
		s->loss_model = NETEM_LOSS_RANDOM;
		return fl_get_percent(v, "loss", &s->loss, d) ? -EINVAL : 0;
	}
	if (v->type != FL_NODE_MAP) {
		fl_diag_err(d, v, "loss: expected a percentage or a map with a model, not a %s",
			    fl_node_type_name(v));
		return -EINVAL;
	}
	m = fl_map_get(v, "model");
	if (!m) {
		fl_map_check(v, loss_any_keys, "loss", d);
		fl_diag_err(d, v, "loss: missing 'model' (gemodel or state)");
		return -EINVAL;
	}
	if (fl_get_enum(m, "loss.model", loss_models, &model, d)) {
		fl_map_check(v, loss_any_keys, "loss", d);
		return -EINVAL;
	}
	if (model == 0) {
		s->loss_model = NETEM_LOSS_GEMODEL;
		keys = gemodel_keys;
		defs = gemodel_def;
		nkeys = 4;
	} else {
		s->loss_model = NETEM_LOSS_STATE;
		keys = state_keys;
		defs = state_def;
		nkeys = 5;
	}
	if (fl_map_check(v, keys, model ? "loss (model state)" :
			 "loss (model gemodel)", d))
		err = -EINVAL;
	for (i = 0; i < nkeys; i++) {
		const struct fl_node *p = fl_map_get(v, keys[i + 1]);
		char what[32];

		snprintf(what, sizeof(what), "loss.%s", keys[i + 1]);
		if (p) {
			if (fl_get_percent(p, what, &s->lp[i], d))
				err = -EINVAL;
		} else if (defs[i] >= 0) {
			s->lp[i] = defs[i];
		} else if (i == 0) {
			fl_diag_err(d, v, "loss: model %s needs '%s'",
				    loss_models[model], keys[1]);
			err = -EINVAL;
		}
	}
	/* state: p31 defaults to 100% - p13, as tc does. */
	if (!err && s->loss_model == NETEM_LOSS_STATE && !fl_map_get(v, "p31"))
		s->lp[1] = 100.0 - s->lp[0];
	return err;
}

static int parse_reorder(const struct fl_node *v, struct netem_spec *s,
			 struct fl_diag *d)
{
	const struct fl_node *p;
	uint64_t gap;
	int err = 0;

	s->has_reorder = true;
	if (v->type == FL_NODE_SCALAR)
		return fl_get_percent(v, "reorder", &s->reorder, d) ?
			-EINVAL : 0;
	if (fl_map_check(v, reorder_keys, "reorder", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	p = fl_map_need(v, "percent", "reorder", d);
	if (!p || fl_get_percent(p, "reorder.percent", &s->reorder, d))
		err = -EINVAL;
	p = fl_map_get(v, "gap");
	if (p) {
		if (fl_get_u64(p, "reorder.gap", 1, UINT32_MAX, &gap, d))
			err = -EINVAL;
		else
			s->reorder_gap = gap;
	}
	return err;
}

static int parse_slot(const struct fl_node *v, struct netem_spec *s,
		      struct fl_diag *d)
{
	const struct fl_node *p, *max;
	char a[32], b[32];
	int err = 0;

	s->has_slot = true;
	if (fl_map_check(v, slot_keys, "slot", d))
		err = -EINVAL;
	if (v->type != FL_NODE_MAP)
		return -EINVAL;
	p = fl_map_need(v, "min", "slot", d);
	if (!p || fl_get_duration(p, "slot.min", &s->slot_min_ns, d))
		err = -EINVAL;
	max = fl_map_get(v, "max");
	if (max) {
		if (fl_get_duration(max, "slot.max", &s->slot_max_ns, d))
			err = -EINVAL;
	} else {
		s->slot_max_ns = s->slot_min_ns;
	}
	if (!err && s->slot_max_ns < s->slot_min_ns) {
		fl_diag_err(d, max, "slot: max %s is below min %s",
			    fl_fmt_duration(s->slot_max_ns, a, sizeof(a)),
			    fl_fmt_duration(s->slot_min_ns, b, sizeof(b)));
		err = -EINVAL;
	}
	if (!err && !s->slot_max_ns) {
		fl_diag_err(d, v, "slot: min and max cannot both be 0");
		err = -EINVAL;
	}
	return err;
}

static int parse_limit(const struct fl_node *v, struct netem_spec *s,
		       struct fl_diag *d)
{
	uint64_t n;

	if (v->type == FL_NODE_SCALAR && !strcmp(v->scalar, "auto")) {
		s->limit_auto = true;
		return 0;
	}
	if (v->type == FL_NODE_SCALAR && v->scalar[0] &&
	    !strchr("0123456789", v->scalar[0])) {
		fl_diag_err(d, v, "limit: expected auto or a number of packets, not '%s'",
			    v->scalar);
		return -EINVAL;
	}
	if (fl_get_u64(v, "limit", 1, UINT32_MAX, &n, d))
		return -EINVAL;
	s->limit_auto = false;
	s->limit = n;
	return 0;
}

static int netem_parse(struct fl_experiment *exp, const struct fl_fault *f,
		       const struct fl_node *spec, void **out,
		       struct fl_diag *d)
{
	const struct fl_node *v, *delay, *jitter, *corr, *dist, *reorder;
	const struct fl_node *ecn, *loss;
	struct netem_spec *s;
	int err = 0, idx;

	s = calloc(1, sizeof(*s));
	*out = s;
	if (!s)
		return -ENOMEM;
	if (fl_map_check(spec, netem_keys, "netem", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s->limit_auto = true;
	s->match.protocol = NETEM_PROTO_ANY;

	v = fl_map_need(spec, "device", "netem", d);
	if (!v || get_device(v, &s->device, d))
		err = -EINVAL;
	v = fl_map_get(spec, "direction");
	if (v) {
		if (fl_get_enum(v, "direction", dir_names, &idx, d))
			err = -EINVAL;
		else
			s->direction = idx;
	}
	v = fl_map_get(spec, "match");
	if (v) {
		s->has_match = true;
		if (parse_match(v, &s->match, d))
			err = -EINVAL;
	}

	delay = fl_map_get(spec, "delay");
	if (delay) {
		s->has_delay = true;
		if (fl_get_duration(delay, "delay", &s->delay_ns, d))
			err = -EINVAL;
	}
	jitter = fl_map_get(spec, "jitter");
	if (jitter) {
		s->has_jitter = true;
		if (fl_get_duration(jitter, "jitter", &s->jitter_ns, d))
			err = -EINVAL;
	}
	corr = fl_map_get(spec, "correlation");
	if (corr) {
		s->has_correlation = true;
		if (fl_get_percent(corr, "correlation", &s->correlation, d))
			err = -EINVAL;
	}
	dist = fl_map_get(spec, "distribution");
	if (dist) {
		if (fl_get_enum(dist, "distribution", dist_names, &idx, d))
			err = -EINVAL;
		else
			s->distribution = NETEM_DIST_UNIFORM + idx;
	}
	loss = fl_map_get(spec, "loss");
	if (loss && parse_loss(loss, s, d))
		err = -EINVAL;
	v = fl_map_get(spec, "duplicate");
	if (v) {
		s->has_duplicate = true;
		if (fl_get_percent(v, "duplicate", &s->duplicate, d))
			err = -EINVAL;
	}
	v = fl_map_get(spec, "corrupt");
	if (v) {
		s->has_corrupt = true;
		if (fl_get_percent(v, "corrupt", &s->corrupt, d))
			err = -EINVAL;
	}
	reorder = fl_map_get(spec, "reorder");
	if (reorder && parse_reorder(reorder, s, d))
		err = -EINVAL;
	v = fl_map_get(spec, "rate");
	if (v) {
		s->has_rate = true;
		if (fl_get_rate(v, "rate", &s->rate_bps, d)) {
			err = -EINVAL;
		} else if (!s->rate_bps) {
			fl_diag_err(d, v, "rate: must be above 0");
			err = -EINVAL;
		}
	}
	v = fl_map_get(spec, "slot");
	if (v && parse_slot(v, s, d))
		err = -EINVAL;
	ecn = fl_map_get(spec, "ecn");
	if (ecn && fl_get_bool(ecn, "ecn", &s->ecn, d))
		err = -EINVAL;
	v = fl_map_get(spec, "seed");
	if (v) {
		s->has_seed = true;
		if (fl_get_u64(v, "seed", 0, UINT64_MAX, &s->seed, d))
			err = -EINVAL;
	}
	v = fl_map_get(spec, "limit");
	if (v && parse_limit(v, s, d))
		err = -EINVAL;

	/* Cross-field rules. */
	if (jitter && !delay) {
		fl_diag_err(d, jitter, "jitter: needs delay (jitter varies the delay around it)");
		err = -EINVAL;
	}
	if (dist && !jitter) {
		fl_diag_err(d, dist, "distribution: needs jitter (it shapes how the delay varies)");
		err = -EINVAL;
	}
	if (corr && !jitter && s->loss_model != NETEM_LOSS_RANDOM &&
	    !s->has_duplicate && !s->has_corrupt && !reorder) {
		fl_diag_err(d, corr, "correlation: nothing to correlate; it needs jitter, loss (a percentage), duplicate, corrupt or reorder");
		err = -EINVAL;
	}
	if (reorder && !delay) {
		fl_diag_err(d, reorder, "reorder: needs delay (netem reorders by sending some packets at once while the others wait)");
		err = -EINVAL;
	}
	if (ecn && s->ecn && !loss) {
		fl_diag_err(d, ecn, "ecn: needs loss (ecn marks packets instead of dropping them)");
		err = -EINVAL;
	}
	if (!delay && !loss && !s->has_duplicate &&
	    !s->has_corrupt && !s->has_rate && !s->has_slot && !reorder) {
		fl_diag_err(d, spec, "netem: nothing to do; give at least one of delay, loss, duplicate, corrupt, rate or slot");
		err = -EINVAL;
	}

	return err;
}

uint32_t netem_auto_limit(const struct netem_spec *s, uint64_t link_bps)
{
	double hold, pps, pkts;
	uint64_t bps = link_bps;

	/*
	 * Packets held at once: what the path carries (the rate when it is
	 * the bottleneck) over the hold time, twice over, of full-size
	 * packets, on top of netem's own default.
	 */
	if (s->has_rate && s->rate_bps < bps)
		bps = s->rate_bps;
	hold = (double)(s->delay_ns + s->jitter_ns + s->slot_max_ns) / 1e9;
	pps = (double)bps / 8.0 / 1500.0;
	pkts = NETEM_DEFAULT_LIMIT + 2.0 * pps * hold;
	if (pkts > 1 << 20)
		return 1 << 20;
	return (uint32_t)pkts;
}

/* ------------------------------------------------------------------ */
/* check and describe                                                  */

/* The link speed from sysfs, or 10gbit when the device does not say. */
static uint64_t link_speed(const char *dev)
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

static bool has_qdisc(const char *kind)
{
	char why[256];

	return netem_has_qdisc(kind, why, sizeof(why)) == 1;
}

static const char *getenv_kind(void);

/* prio where the kernel has it; FAULTLINE_NETEM_PARENT overrides (tests). */
const char *netem_parent_kind(void)
{
	if (getenv_kind())
		return getenv_kind();
	return has_qdisc("prio") ? "prio" : "htb";
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

static int netem_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct netem_spec *s = f->priv;
	char buf[256];
	size_t off = 0;
	int r, ret = 0;

#define WHY(...) do { \
		if (off < len) \
			off += snprintf(why + off, len - off, __VA_ARGS__); \
	} while (0)

	if (!s)
		return -EINVAL;
	r = netem_has_qdisc("netem", buf, sizeof(buf));
	if (r == 0) {
		WHY("sch_netem is not available in this kernel (modprobe sch_netem failed or CONFIG_NET_SCH_NETEM is off)");
		ret = -EOPNOTSUPP;
	} else if (r < 0) {
		WHY("cannot tell whether this kernel has sch_netem: %s", buf);
		ret = r;
	}
	if (s->has_match && !has_qdisc("prio") && !has_qdisc("htb")) {
		WHY("%sa matched subset needs a classful parent, and neither sch_prio nor sch_htb is available (CONFIG_NET_SCH_PRIO, CONFIG_NET_SCH_HTB)",
		    off ? "; " : "");
		ret = ret ? ret : -EOPNOTSUPP;
	}
	if (s->direction != NETEM_EGRESS) {
		if (!has_qdisc("ifb")) {
			WHY("%sdirection %s needs an ifb device, and this kernel has no ifb (modprobe ifb failed or CONFIG_IFB is off)",
			    off ? "; " : "", dir_names[s->direction]);
			ret = ret ? ret : -EOPNOTSUPP;
		}
		if (!has_qdisc("clsact") && !has_qdisc("ingress")) {
			WHY("%sdirection %s needs the ingress or clsact qdisc (CONFIG_NET_SCH_INGRESS)",
			    off ? "; " : "", dir_names[s->direction]);
			ret = ret ? ret : -EOPNOTSUPP;
		}
	}
	if (!if_nametoindex(s->device)) {
		WHY("%sdevice %s does not exist in this network namespace",
		    off ? "; " : "", s->device);
		ret = ret ? ret : -ENODEV;
	}
#undef WHY
	return ret;
}

static char *fmt_pct(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%g%%", v);
	return buf;
}

static char *fmt_rate(uint64_t bps, char *buf, size_t len)
{
	if (bps >= 1000000000ULL && !(bps % 1000000000ULL))
		snprintf(buf, len, "%llugbit",
			 (unsigned long long)(bps / 1000000000ULL));
	else if (bps >= 1000000ULL && !(bps % 1000000ULL))
		snprintf(buf, len, "%llumbit",
			 (unsigned long long)(bps / 1000000ULL));
	else if (bps >= 1000ULL && !(bps % 1000ULL))
		snprintf(buf, len, "%llukbit",
			 (unsigned long long)(bps / 1000ULL));
	else
		snprintf(buf, len, "%llubit", (unsigned long long)bps);
	return buf;
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static json_object *cidr_array(const struct fl_cidr *c, size_t n)
{
	json_object *a = json_object_new_array();
	char buf[64];
	size_t i;

	for (i = 0; i < n; i++) {
		fl_cidr_str(&c[i], buf, sizeof(buf));
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

/* tc-style options of the netem qdisc: "delay 80ms 20ms 25% loss 2%". */
static void netem_opts(const struct netem_spec *s, uint64_t link_bps,
		       char *buf, size_t len)
{
	char a[32], b[32], c[32];
	size_t off = 0;

#define OPT(...) do { \
		if (off < len) \
			off += snprintf(buf + off, len - off, __VA_ARGS__); \
	} while (0)

	buf[0] = 0;
	if (s->has_delay) {
		OPT(" delay %s", fl_fmt_duration(s->delay_ns, a, sizeof(a)));
		if (s->has_jitter)
			OPT(" %s", fl_fmt_duration(s->jitter_ns, a, sizeof(a)));
		if (s->has_jitter && s->has_correlation)
			OPT(" %s", fmt_pct(s->correlation, a, sizeof(a)));
		if (s->distribution)
			OPT(" distribution %s",
			    dist_names[s->distribution - NETEM_DIST_UNIFORM]);
	}
	switch (s->loss_model) {
	case NETEM_LOSS_RANDOM:
		OPT(" loss %s", fmt_pct(s->loss, a, sizeof(a)));
		if (s->has_correlation)
			OPT(" %s", fmt_pct(s->correlation, a, sizeof(a)));
		break;
	case NETEM_LOSS_GEMODEL:
		OPT(" loss gemodel p %s r %s", fmt_pct(s->lp[0], a, sizeof(a)),
		    fmt_pct(s->lp[1], b, sizeof(b)));
		OPT(" 1-h %s 1-k %s", fmt_pct(s->lp[2], a, sizeof(a)),
		    fmt_pct(s->lp[3], c, sizeof(c)));
		break;
	case NETEM_LOSS_STATE:
		OPT(" loss state p13 %s p31 %s", fmt_pct(s->lp[0], a, sizeof(a)),
		    fmt_pct(s->lp[1], b, sizeof(b)));
		OPT(" p32 %s p23 %s", fmt_pct(s->lp[2], a, sizeof(a)),
		    fmt_pct(s->lp[3], b, sizeof(b)));
		OPT(" p14 %s", fmt_pct(s->lp[4], a, sizeof(a)));
		break;
	case NETEM_LOSS_NONE:
		break;
	}
	if (s->has_duplicate)
		OPT(" duplicate %s", fmt_pct(s->duplicate, a, sizeof(a)));
	if (s->has_corrupt)
		OPT(" corrupt %s", fmt_pct(s->corrupt, a, sizeof(a)));
	if (s->has_reorder) {
		OPT(" reorder %s", fmt_pct(s->reorder, a, sizeof(a)));
		if (s->reorder_gap)
			OPT(" gap %u", s->reorder_gap);
	}
	if (s->has_rate)
		OPT(" rate %s", fmt_rate(s->rate_bps, a, sizeof(a)));
	if (s->has_slot)
		OPT(" slot %s %s", fl_fmt_duration(s->slot_min_ns, a, sizeof(a)),
		    fl_fmt_duration(s->slot_max_ns, b, sizeof(b)));
	if (s->ecn)
		OPT(" ecn");
	if (s->has_seed)
		OPT(" seed %llu", (unsigned long long)s->seed);
	OPT(" limit %u", s->limit_auto ? netem_auto_limit(s, link_bps) :
	    s->limit);
#undef OPT
}

/*
 * What sits at the root (or ingress) of a device now, read over netlink:
 * "noqueue", "htb 1:", or "" when the device or netlink is not there.
 */
static void current_qdisc(int ifindex, uint32_t parent, char *buf,
			  size_t len)
{
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	struct nl_sock *sk;
	uint32_t h;

	buf[0] = 0;
	if (!ifindex)
		return;
	sk = nl_socket_alloc();
	if (!sk)
		return;
	if (nl_connect(sk, NETLINK_ROUTE) < 0 ||
	    rtnl_qdisc_alloc_cache(sk, &cache) < 0)
		goto out;
	q = rtnl_qdisc_get_by_parent(cache, ifindex, parent);
	if (q) {
		h = rtnl_tc_get_handle(TC_CAST(q));
		if (h)
			snprintf(buf, len, "%s %x:", rtnl_tc_get_kind(TC_CAST(q)),
				 h >> 16);
		else
			snprintf(buf, len, "%s", rtnl_tc_get_kind(TC_CAST(q)));
		rtnl_qdisc_put(q);
	}
out:
	if (cache)
		nl_cache_free(cache);
	nl_socket_free(sk);
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

/* The filters steering the matched subset to class fa17:2. */
static void add_filters(json_object *objs, const struct netem_spec *s,
			const char *dev, const char *parent)
{
	const struct netem_match *m = &s->match;
	size_t nt = m->nto ? m->nto : 1, nf = m->nfrom ? m->nfrom : 1;
	size_t np = m->nports ? m->nports : 1, i, j, k;
	char sel[256], a[64], proto[32];
	size_t off;

	proto[0] = 0;
	if (m->protocol != NETEM_PROTO_ANY)
		snprintf(proto, sizeof(proto), " protocol %s",
			 proto_name(m->protocol));
	for (i = 0; i < nt; i++)
		for (j = 0; j < nf; j++)
			for (k = 0; k < np; k++) {
				const struct fl_cidr *to = m->nto ? &m->to[i] : NULL;
				const struct fl_cidr *fr = m->nfrom ? &m->from[j] : NULL;
				int fam = to ? to->family :
					  fr ? fr->family : 0;

				if (to && fr && to->family != fr->family)
					continue;
				off = 0;
				sel[0] = 0;
				if (fr) {
					fl_cidr_str(fr, a, sizeof(a));
					off += snprintf(sel + off, sizeof(sel) - off,
							" src %s", a);
				}
				if (to && off < sizeof(sel)) {
					fl_cidr_str(to, a, sizeof(a));
					off += snprintf(sel + off, sizeof(sel) - off,
							" dst %s", a);
				}
				if (m->nports && off < sizeof(sel))
					off += snprintf(sel + off, sizeof(sel) - off,
							" port %u", m->ports[k]);
				add_obj(objs, "filter u32 on %s parent %s: %s%s%s -> %x:%x",
					dev, parent,
					fam == 10 ? "ipv6" : fam == 2 ? "ip" : "ip+ipv6",
					proto, sel, NETEM_CLASS_MATCHED >> 16,
					NETEM_CLASS_MATCHED & 0xffff);
			}
}

/* The qdisc tree on one device (the real one, or the ifb for ingress). */
static void add_tree(json_object *objs, const struct fl_fault *f,
		     const char *dev, bool created, const char *opts)
{
	const struct netem_spec *s = f->priv;
	char cur[64], replaces[128], parent[16];

	if (created) {
		snprintf(replaces, sizeof(replaces), "on a device faultline creates");
	} else {
		current_qdisc(if_nametoindex(dev), TC_H_ROOT, cur, sizeof(cur));
		if (cur[0])
			snprintf(replaces, sizeof(replaces),
				 "root, replaces %s saved in the journal", cur);
		else
			snprintf(replaces, sizeof(replaces),
				 "root; the current root qdisc is saved in the journal first");
	}
	if (!s->has_match) {
		add_obj(objs, "qdisc netem %x: on %s (%s)%s",
			NETEM_HANDLE_ROOT >> 16, dev, replaces, opts);
		return;
	}
	snprintf(parent, sizeof(parent), "%x", NETEM_HANDLE_ROOT >> 16);
	if (!strcmp(netem_parent_kind(), "prio")) {
		add_obj(objs, "qdisc prio %x: on %s (%s), bands 3, every priority to band 1",
			NETEM_HANDLE_ROOT >> 16, dev, replaces);
		add_obj(objs, "class %x:%x (prio band 2, the matched subset)",
			NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff);
	} else {
		add_obj(objs, "qdisc htb %x: on %s (%s), default 0: unmatched traffic takes the direct path",
			NETEM_HANDLE_ROOT >> 16, dev, replaces);
		add_obj(objs, "class htb %x:%x rate 100gbit (the matched subset)",
			NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff);
	}
	add_filters(objs, s, dev, parent);
	add_obj(objs, "qdisc netem %x: parent %x:%x%s", NETEM_HANDLE_NETEM >> 16,
		NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff, opts);
}

static json_object *netem_params(const struct netem_spec *s, uint64_t link)
{
	json_object *p = json_object_new_object(), *o;
	char a[64];

	add_str(p, "device", s->device);
	add_str(p, "direction", dir_names[s->direction]);
	if (s->has_match) {
		o = json_object_new_object();
		if (s->match.nto)
			json_object_object_add(o, "to",
				cidr_array(s->match.to, s->match.nto));
		if (s->match.nfrom)
			json_object_object_add(o, "from",
				cidr_array(s->match.from, s->match.nfrom));
		if (s->match.nports) {
			json_object *a2 = json_object_new_array();
			size_t i;

			for (i = 0; i < s->match.nports; i++)
				json_object_array_add(a2,
					json_object_new_int(s->match.ports[i]));
			json_object_object_add(o, "ports", a2);
		}
		if (s->match.protocol != NETEM_PROTO_ANY)
			add_str(o, "protocol", proto_name(s->match.protocol));
		json_object_object_add(p, "match", o);
	}
	if (s->has_delay)
		add_str(p, "delay", fl_fmt_duration(s->delay_ns, a, sizeof(a)));
	if (s->has_jitter)
		add_str(p, "jitter", fl_fmt_duration(s->jitter_ns, a, sizeof(a)));
	if (s->has_correlation)
		add_str(p, "correlation", fmt_pct(s->correlation, a, sizeof(a)));
	if (s->distribution)
		add_str(p, "distribution",
			dist_names[s->distribution - NETEM_DIST_UNIFORM]);
	if (s->loss_model == NETEM_LOSS_RANDOM) {
		add_str(p, "loss", fmt_pct(s->loss, a, sizeof(a)));
	} else if (s->loss_model != NETEM_LOSS_NONE) {
		const char *const *keys = s->loss_model == NETEM_LOSS_GEMODEL ?
					  gemodel_keys : state_keys;
		int i, n = s->loss_model == NETEM_LOSS_GEMODEL ? 4 : 5;

		o = json_object_new_object();
		add_str(o, "model", s->loss_model == NETEM_LOSS_GEMODEL ?
			"gemodel" : "state");
		for (i = 0; i < n; i++)
			add_str(o, keys[i + 1], fmt_pct(s->lp[i], a, sizeof(a)));
		json_object_object_add(p, "loss", o);
	}
	if (s->has_duplicate)
		add_str(p, "duplicate", fmt_pct(s->duplicate, a, sizeof(a)));
	if (s->has_corrupt)
		add_str(p, "corrupt", fmt_pct(s->corrupt, a, sizeof(a)));
	if (s->has_reorder) {
		o = json_object_new_object();
		add_str(o, "percent", fmt_pct(s->reorder, a, sizeof(a)));
		if (s->reorder_gap)
			json_object_object_add(o, "gap",
				json_object_new_int64(s->reorder_gap));
		json_object_object_add(p, "reorder", o);
	}
	if (s->has_rate)
		add_str(p, "rate", fmt_rate(s->rate_bps, a, sizeof(a)));
	if (s->has_slot) {
		o = json_object_new_object();
		add_str(o, "min", fl_fmt_duration(s->slot_min_ns, a, sizeof(a)));
		add_str(o, "max", fl_fmt_duration(s->slot_max_ns, a, sizeof(a)));
		json_object_object_add(p, "slot", o);
	}
	if (s->ecn)
		json_object_object_add(p, "ecn", json_object_new_boolean(1));
	if (s->has_seed)
		json_object_object_add(p, "seed",
				       json_object_new_uint64(s->seed));
	if (s->limit_auto)
		snprintf(a, sizeof(a), "auto (%u packets)",
			 netem_auto_limit(s, link));
	else
		snprintf(a, sizeof(a), "%u packets", s->limit);
	add_str(p, "limit", a);
	return p;
}

static int netem_describe(const struct fl_fault *f, json_object *out)
{
	const struct netem_spec *s = f->priv;
	char opts[512], ifb[IFNAMSIZ], why[1024], cur[64];
	json_object *objs;
	uint64_t link;
	bool netem_ok;
	size_t off;

	if (!s)
		return -EINVAL;
	link = link_speed(s->device);
	netem_opts(s, link, opts, sizeof(opts));
	netem_ifb_name(f, s->device, ifb, sizeof(ifb));
	netem_ok = has_qdisc("netem");

	off = snprintf(why, sizeof(why), "netem %s%s on ",
		       s->has_match ? "under " : "at the root",
		       s->has_match ? netem_parent_kind() : "");
	if (s->direction == NETEM_EGRESS)
		snprintf(why + off, sizeof(why) - off, "%s", s->device);
	else if (s->direction == NETEM_INGRESS)
		snprintf(why + off, sizeof(why) - off, "%s (ingress of %s)",
			 ifb, s->device);
	else
		snprintf(why + off, sizeof(why) - off,
			 "%s and on %s (ingress)", s->device, ifb);
	add_str(out, "mechanism", why);

	off = snprintf(why, sizeof(why), "tc objects over rtnetlink (libnl-route-3 and libmnl), no tc process");
	if (s->has_match)
		off += snprintf(why + off, sizeof(why) - off,
				"; a match is given, so a classful %s parent steers only the matched traffic into netem%s",
				netem_parent_kind(), strcmp(netem_parent_kind(), "prio") ?
				" (this kernel has no sch_prio)" : "");
	else
		off += snprintf(why + off, sizeof(why) - off,
				"; no match, so all of %s's %s traffic goes through netem",
				s->device, dir_names[s->direction]);
	if (s->direction != NETEM_EGRESS && off < sizeof(why))
		off += snprintf(why + off, sizeof(why) - off,
				"; ingress traffic is redirected with mirred to %s, whose egress netem shapes",
				ifb);
	if (!netem_ok && off < sizeof(why))
		snprintf(why + off, sizeof(why) - off,
			 "; but this kernel has no sch_netem, so run refuses it");
	add_str(out, "why", why);

	objs = json_object_new_array();
	if (s->direction != NETEM_INGRESS)
		add_tree(objs, f, s->device, false, opts);
	if (s->direction != NETEM_EGRESS) {
		current_qdisc(if_nametoindex(s->device), TC_H_INGRESS, cur,
			      sizeof(cur));
		add_obj(objs, "ifb device %s (created, removed at revert)", ifb);
		if (cur[0])
			add_obj(objs, "existing %s on %s: faultline adds its filter to it",
				cur, s->device);
		else
			add_obj(objs, "qdisc clsact on %s (added, removed at revert)",
				s->device);
		add_obj(objs, "filter u32 on %s ingress: all traffic -> action mirred egress redirect dev %s",
			s->device, ifb);
		add_tree(objs, f, ifb, true, opts);
	}
	json_object_object_add(out, "objects", objs);
	json_object_object_add(out, "params", netem_params(s, link));
	return 0;
}

static int netem_resources(const struct fl_fault *f, json_object *out)
{
	const struct netem_spec *s = f->priv;

	if (!s)
		return -EINVAL;
	return netem_dev_lock(s->device, out);
}

/* ------------------------------------------------------------------ */
/* apply, revert, observe                                              */

#ifndef TCA_NETEM_PRNG_SEED
#define TCA_NETEM_PRNG_SEED	(TCA_NETEM_SLOT_DIST + 1)
#endif

#define DIST_SIZE	4096

static uint32_t pct_u32(double pct)
{
	if (pct >= 100.0)
		return UINT32_MAX;
	if (pct <= 0)
		return 0;
	return (uint32_t)(pct / 100.0 * UINT32_MAX + 0.5);
}

/*
 * A little arithmetic without libm (the build links none): exp by range
 * reduction and a series, square and cube roots by Newton's method.
 */
static double m_exp(double x)
{
	double r, term = 1, sum = 1;
	int k, i;

	if (x < -700)
		return 0;
	k = (int)(x / 0.6931471805599453 + (x < 0 ? -0.5 : 0.5));
	r = x - k * 0.6931471805599453;
	for (i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	while (k > 0) {
		sum *= 2;
		k--;
	}
	while (k < 0) {
		sum /= 2;
		k++;
	}
	return sum;
}

static double m_sqrt(double x)
{
	double g = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 200; i++) {
		double n = 0.5 * (g + x / g);

		if (n == g)
			break;
		g = n;
	}
	return g;
}

static double m_cbrt(double x)
{
	double g = x > 1 ? x : 1;
	int i;

	for (i = 0; i < 300; i++) {
		double n = g - (g * g * g - x) / (3 * g * g);

		if (n == g)
			break;
		g = n;
	}
	return g;
}

/* Pareto with shape 3, standardized to mean 0 and deviation 1. */
static double pareto_quantile(double u)
{
	return (1.0 / m_cbrt(1.0 - u) - 1.5) / m_sqrt(0.75);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n quantiles of the standard normal at (i + 0.5) / n, by integration. */
static void normal_quantiles(double *q, size_t n)
{
	const double step = 1.0 / 4096, norm = 0.3989422804014327;
	double x = -9, cdf = 0;
	size_t i = 0;

	while (i < n && x < 9) {
		double mid = x + step / 2;

		cdf += norm * m_exp(-mid * mid / 2) * step;
		x += step;
		while (i < n && cdf >= (i + 0.5) / n)
			q[i++] = x;
	}
	while (i < n)
		q[i++] = 9;
}

static int16_t to_s16(double v)
{
	v = v * NETEM_DIST_SCALE;
	v += v < 0 ? -0.5 : 0.5;
	if (v > INT16_MAX)
		return INT16_MAX;
	if (v < INT16_MIN)
		return INT16_MIN;
	return (int16_t)v;
}

/*
 * netem's delay tables: DIST_SIZE quantiles of the distribution in units
 * of NETEM_DIST_SCALE standard deviations (netem adds table[rnd] * jitter
 * / NETEM_DIST_SCALE to the delay).  Made here, no /usr/lib/tc needed.
 */
static int make_dist(enum netem_dist dist, int16_t *t)
{
	double *nq, *mix = NULL, v, mean = 0, var = 0, pq[256];
	size_t i, j, n = ARRAY_SIZE(pq);

	nq = malloc(DIST_SIZE * sizeof(*nq));
	if (!nq)
		return -ENOMEM;
	normal_quantiles(nq, DIST_SIZE);
	if (dist == NETEM_DIST_PARETONORMAL) {
		/* A quarter normal, three quarters pareto, on a grid. */
		double *nq2 = malloc(n * sizeof(*nq2));

		mix = malloc(n * n * sizeof(*mix));
		if (!mix || !nq2) {
			free(nq2);
			free(mix);
			free(nq);
			return -ENOMEM;
		}
		normal_quantiles(nq2, n);
		for (j = 0; j < n; j++)
			pq[j] = pareto_quantile((j + 0.5) / n);
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				v = 0.25 * nq2[i] + 0.75 * pq[j];
				mix[i * n + j] = v;
				mean += v;
			}
		free(nq2);
		mean /= n * n;
		for (i = 0; i < n * n; i++)
			var += (mix[i] - mean) * (mix[i] - mean);
		var = m_sqrt(var / (n * n));
		for (i = 0; i < n * n; i++)
			mix[i] = (mix[i] - mean) / var;
		qsort(mix, n * n, sizeof(*mix), cmp_double);
	}
	for (i = 0; i < DIST_SIZE; i++) {
		double u = (i + 0.5) / DIST_SIZE;

		if (dist == NETEM_DIST_NORMAL)
			v = nq[i];
		else if (dist == NETEM_DIST_PARETO)
			v = pareto_quantile(u);
		else
			v = mix[(size_t)(u * n * n)];
		t[i] = to_s16(v);
	}
	free(mix);
	free(nq);
	return 0;
}

/* netem's TCA_OPTIONS: struct tc_netem_qopt, then its attributes. */
static int put_netem(struct nlmsghdr *nlh, const struct netem_spec *s,
		     uint32_t limit)
{
	struct tc_netem_qopt q = { 0 };
	struct nlattr *opts, *nest;
	uint64_t rate;

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
	if (s->has_correlation) {
		struct tc_netem_corr c = {
			.delay_corr = s->has_jitter ? pct_u32(s->correlation) : 0,
			.loss_corr = s->loss_model == NETEM_LOSS_RANDOM ?
				     pct_u32(s->correlation) : 0,
			.dup_corr = s->has_duplicate ?
				    pct_u32(s->correlation) : 0,
		};

		mnl_attr_put(nlh, TCA_NETEM_CORR, sizeof(c), &c);
	}
	if (s->has_reorder) {
		struct tc_netem_reorder r = {
			.probability = pct_u32(s->reorder),
			.correlation = s->has_correlation ?
				       pct_u32(s->correlation) : 0,
		};

		mnl_attr_put(nlh, TCA_NETEM_REORDER, sizeof(r), &r);
	}
	if (s->has_corrupt) {
		struct tc_netem_corrupt c = {
			.probability = pct_u32(s->corrupt),
			.correlation = s->has_correlation ?
				       pct_u32(s->correlation) : 0,
		};

		mnl_attr_put(nlh, TCA_NETEM_CORRUPT, sizeof(c), &c);
	}
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
	if (s->has_rate) {
		struct tc_netem_rate r = { 0 };

		rate = s->rate_bps / 8;
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
	if (s->has_jitter && s->distribution != NETEM_DIST_NONE &&
	    s->distribution != NETEM_DIST_UNIFORM) {
		int16_t *t = malloc(DIST_SIZE * sizeof(*t));
		int ret;

		if (!t)
			return -ENOMEM;
		ret = make_dist(s->distribution, t);
		if (!ret)
			mnl_attr_put(nlh, TCA_NETEM_DELAY_DIST,
				     DIST_SIZE * sizeof(*t), t);
		free(t);
		if (ret)
			return ret;
	}
	mnl_attr_nest_end(nlh, opts);
	return 0;
}

static const char *getenv_kind(void)
{
	const char *k = getenv("FAULTLINE_NETEM_PARENT");

	if (k && (!strcmp(k, "htb") || !strcmp(k, "prio")))
		return k;
	return NULL;
}

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
int netem_count_u32(int ifindex, uint32_t parent)
{
	struct count_ctx cnt = { 0 };
	int ret;

	ret = tc_dump(RTM_GETTFILTER, ifindex, parent, count_keys_cb, &cnt);
	return ret ? ret : cnt.n;
}

/* netem (and its classful parent with filters) on one device. */
static int build_tree(struct netem_applier *a, int ifindex, const char *dev)
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
	/* Read the filters back. */
	ret = netem_count_u32(ifindex, NETEM_HANDLE_ROOT);
	if (ret <= 0)
		return netem_fail(a, ret ? ret : -EIO,
				  "the match filters are not on %s after apply",
				  dev);
	return 0;
}

bool netem_owned(uint32_t handle)
{
	return TC_H_MAJ(handle) == NETEM_HANDLE_ROOT ||
	       TC_H_MAJ(handle) == NETEM_HANDLE_NETEM;
}

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
		in->parent = has_qdisc("clsact") ?
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
	json_object_object_add(rec, "device", json_object_new_string(dev));
	json_object_object_add(rec, "ifindex", json_object_new_int(ifindex));
	json_object_object_add(rec, "egress", json_object_new_boolean(egress));
	if (in) {
		json_object *o = json_object_new_object();

		json_object_object_add(rec, "ifb", json_object_new_string(ifb));
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

/*
 * The subtrees faultline installed under its root (tc_subtree_save), on
 * the device when egress and on the ifb when ingress: "ours" and
 * "ours_ifb" in the record.
 */
static int netem_record_ours(struct netem_applier *a, json_object *rec,
			     int ifindex, const char *dev, const char *ifb,
			     int ifb_index)
{
	json_object *t;
	int ret;

	if (a->s->direction != NETEM_INGRESS) {
		ret = tc_subtree_save(ifindex, netem_owned, &t);
		if (ret)
			return netem_fail(a, ret, "cannot read back the tree on %s",
					  dev);
		json_object_object_add(rec, "ours", t);
	}
	if (ifb_index) {
		ret = tc_subtree_save(ifb_index, netem_owned, &t);
		if (ret)
			return netem_fail(a, ret, "cannot read back the tree on %s",
					  ifb);
		json_object_object_add(rec, "ours_ifb", t);
	}
	return 0;
}

/* The handle of an applied fault: what observe and live read. */
struct netem_rt {
	const struct netem_spec *s;	/* f->priv, which outlives it */
	char ifb[IFNAMSIZ];		/* the ifb device, or "" */
};

static int netem_apply(const struct fl_fault *f, struct fl_undo *u,
		       void **rtp)
{
	const struct netem_spec *s = f->priv;
	struct netem_applier a = { .f = f, .u = u, .s = s };
	json_object *rec = NULL, *saved = NULL;
	struct netem_ingress in;
	struct netem_rt *rt;
	char ifb[IFNAMSIZ];
	int ifindex, ifb_index = 0, ret;

	ifindex = if_nametoindex(s->device);
	if (!ifindex)
		return netem_fail(&a, -ENODEV, "device %s", s->device);
	a.buf = malloc(TC_BUFSZ);
	rt = calloc(1, sizeof(*rt));
	if (!a.buf || !rt) {
		ret = -ENOMEM;
		goto out;
	}
	rt->s = s;
	a.limit = s->limit_auto ? netem_auto_limit(s, link_speed(s->device)) :
		  s->limit;
	netem_ifb_name(f, s->device, ifb, sizeof(ifb));

	ret = tc_state_save(ifindex, &saved);
	if (ret) {
		ret = netem_fail(&a, ret, "cannot read the tc state of %s",
				 s->device);
		goto out;
	}
	if (s->direction != NETEM_EGRESS) {
		ret = netem_ingress_plan(&a, ifindex, saved, s->device, &in);
		if (ret)
			goto out;
	}

	/* The undo record, before the kernel is touched. */
	rec = netem_record(s->device, ifindex, s->direction != NETEM_INGRESS,
			   ifb, s->direction != NETEM_EGRESS ? &in : NULL,
			   saved);
	ret = fl_netns_record(rec);
	if (!ret)
		ret = fl_undo_save(u, rec);
	if (ret) {
		ret = netem_fail(&a, ret, "cannot save the undo record");
		goto out;
	}

	if (s->direction != NETEM_INGRESS) {
		ret = build_tree(&a, ifindex, s->device);
		if (ret)
			goto out;
	}
	if (s->direction != NETEM_EGRESS) {
		ret = netem_ifb_add(&a, ifb, &ifb_index);
		if (ret)
			goto out;
		snprintf(rt->ifb, sizeof(rt->ifb), "%s", ifb);
		ret = build_tree(&a, ifb_index, ifb);
		if (ret)
			goto out;
		ret = netem_ingress_hook(&a, ifindex, &in, ifb_index,
					 s->device);
		if (ret)
			goto out;
	}
	/*
	 * What faultline installed, as read back, into the record: revert
	 * (from the record alone) leaves the tree when someone changed it.
	 */
	ret = netem_record_ours(&a, rec, ifindex, s->device, ifb, ifb_index);
	if (!ret)
		ret = fl_undo_save(u, rec);
	if (ret)
		ret = netem_fail(&a, ret, "cannot record what was installed on %s",
				 s->device);
	if (!ret) {
		*rtp = rt;
		rt = NULL;
	}
out:
	free(rt);
	json_object_put(rec);
	json_object_put(saved);
	free(a.buf);
	return ret;
}

static const char *rec_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t rec_int(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/*
 * Is faultline's subtree under its root on one device still as it was
 * installed (rec's key)?  Only while the root is faultline's: a root
 * removed or replaced is handled by tc_state_restore_root.  0 yes (or
 * nothing to compare), -EBUSY no, after saying what differs.
 */
static int subtree_check(json_object *rec, const char *key, int ifindex,
			 const char *dev, bool *changed)
{
	json_object *ours;
	char kind[32], why[1024];
	uint32_t h = 0;
	int r;

	if (!ifindex || !json_object_object_get_ex(rec, key, &ours))
		return 0;
	if (tc_root_now(ifindex, &h, kind, sizeof(kind)) || !h ||
	    !netem_owned(h))
		return 0;
	r = tc_subtree_diff(ifindex, dev, ours, netem_owned, why, sizeof(why));
	if (r < 0)
		return r == -ENODEV ? 0 : r;
	if (!r)
		return 0;
	fl_err("netem: %s: someone changed faultline's tree during the drill: %s; leaving it all in place (the undo record stays: undo that change, or remove the root qdisc, and run 'faultline recover')",
	       dev, why);
	*changed = true;
	return 0;
}

static int netem_changed(json_object *state, int ifindex, const char *dev,
			 const char *ifb)
{
	bool changed = false;
	int r;

	r = subtree_check(state, "ours", ifindex, dev, &changed);
	if (!r && ifb)
		r = subtree_check(state, "ours_ifb", if_nametoindex(ifb), ifb,
				  &changed);
	if (r)
		return r;
	return changed ? -EBUSY : 0;
}

static int netem_revert(json_object *state)
{
	const char *dev = rec_str(state, "device"), *ifb = rec_str(state, "ifb");
	json_object *saved = NULL, *filt;
	int ifindex, ret = 0, r;

	if (!dev)
		return -EINVAL;
	json_object_object_get_ex(state, "saved", &saved);
	ifindex = if_nametoindex(dev);
	if (ifindex && ifindex != rec_int(state, "ifindex"))
		ifindex = 0;	/* another device of that name now */
	if (!ifindex)
		fl_warn("netem: device %s vanished during the drill; its qdiscs went with it: nothing to revert there",
			dev);
	/*
	 * Someone changed the tree below faultline's root (a netem's
	 * options, a child qdisc, a filter or class added): removing the
	 * root would take their change with it.  Leave everything.
	 */
	r = netem_changed(state, ifindex, dev, ifb);
	if (r)
		return r;
	if (ifindex && saved) {
		if (json_object_object_get_ex(state, "egress", &filt) &&
		    json_object_get_boolean(filt)) {
			r = tc_state_restore_root(ifindex, saved, netem_owned);
			if (r == -EBUSY) {
				char kind[32] = "?";
				uint32_t h = 0;

				/*
				 * Not ours, not what was saved: someone
				 * else's.  Keep it and the record.
				 */
				tc_root_now(ifindex, &h, kind, sizeof(kind));
				fl_err("netem: %s: the root qdisc is now %s %x:, not faultline's: someone changed it during the drill; leaving theirs in place (the undo record stays: remove it and run 'faultline recover' to put the saved tree back)",
				       dev, kind, h >> 16);
			}
			if (r && !ret)
				ret = r;
		}
		if (json_object_object_get_ex(state, "ingress_filter", &filt)) {
			r = tc_filter_del(ifindex, rec_int(filt, "parent"),
					  rec_int(filt, "info"), "u32");
			if (r && !ret)
				ret = r;
			r = tc_state_restore_ingress(ifindex, saved);
			if (r && !ret)
				ret = r;
		}
	}
	if (ifb) {
		r = tc_link_del(ifb);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

static json_object *counters_json(const char *dev, uint32_t handle,
				  const struct tc_counters *c)
{
	json_object *o = json_object_new_object();
	char h[16];

	snprintf(h, sizeof(h), "%x:", handle >> 16);
	add_str(o, "device", dev);
	add_str(o, "qdisc", c->kind);
	add_str(o, "handle", h);
	json_object_object_add(o, "sent_bytes", json_object_new_uint64(c->bytes));
	json_object_object_add(o, "sent_packets",
			       json_object_new_uint64(c->packets));
	json_object_object_add(o, "dropped", json_object_new_int64(c->drops));
	json_object_object_add(o, "overlimits",
			       json_object_new_int64(c->overlimits));
	json_object_object_add(o, "requeues",
			       json_object_new_int64(c->requeues));
	json_object_object_add(o, "backlog_bytes",
			       json_object_new_int64(c->backlog));
	json_object_object_add(o, "qlen", json_object_new_int64(c->qlen));
	return o;
}

static int netem_observe(void *handle_, json_object *out)
{
	const struct netem_rt *rt = handle_;
	const struct netem_spec *s = rt ? rt->s : NULL;
	const char *devs[2] = { NULL, NULL }, *dirs[2] = { "egress", "ingress" };
	uint32_t handle = s && s->has_match ? NETEM_HANDLE_NETEM :
			  NETEM_HANDLE_ROOT;
	struct tc_counters c;
	int i, ifindex;

	if (!s)
		return -ENOENT;
	if (s->direction != NETEM_INGRESS)
		devs[0] = s->device;
	if (s->direction != NETEM_EGRESS && rt->ifb[0])
		devs[1] = rt->ifb;
	for (i = 0; i < 2; i++) {
		json_object *o;

		if (!devs[i])
			continue;
		ifindex = if_nametoindex(devs[i]);
		if (!ifindex || tc_qdisc_counters(ifindex, handle, &c))
			continue;
		o = counters_json(devs[i], handle, &c);
		if (s->has_match &&
		    !tc_qdisc_counters(ifindex, NETEM_HANDLE_ROOT, &c))
			json_object_object_add(o, "parent",
				counters_json(devs[i], NETEM_HANDLE_ROOT, &c));
		json_object_object_add(out, dirs[i], o);
	}
	return 0;
}

/*
 * Live: the qdisc's drops per direction ("egress: 34 dropped of 1200
 * packets sent"); run shows them when the drops change.
 */
static int netem_live(void *rt, json_object *out)
{
	static const char *const dirs[] = { "egress", "ingress" };
	json_object *obs = json_object_new_object(), *d, *v, *o;
	uint64_t drops, sent;
	char sum[256];
	size_t i, off = 0;
	int ret;

	ret = netem_observe(rt, obs);
	if (ret) {
		json_object_put(obs);
		return ret;
	}
	sum[0] = 0;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!json_object_object_get_ex(obs, dirs[i], &d))
			continue;
		drops = json_object_object_get_ex(d, "dropped", &v) ?
			json_object_get_uint64(v) : 0;
		sent = json_object_object_get_ex(d, "sent_packets", &v) ?
		       json_object_get_uint64(v) : 0;
		o = json_object_new_object();
		json_object_object_add(o, "dropped",
				       json_object_new_uint64(drops));
		json_object_object_add(out, dirs[i], o);
		if (off < sizeof(sum))
			off += snprintf(sum + off, sizeof(sum) - off,
					"%s%s: %llu dropped of %llu packets sent",
					off ? "; " : "", dirs[i],
					(unsigned long long)drops,
					(unsigned long long)sent);
	}
	json_object_put(obs);
	add_str(out, "summary", sum[0] ? sum : "no qdisc counters");
	return 0;
}

const struct fl_engine netem_engine = {
	.name = "netem",
	.summary = "delay, loss, duplication, corruption, reordering and rate on a device (sch_netem)",
	.parse = netem_parse,
	.spec_free = netem_spec_free,
	.check = netem_check,
	.describe = netem_describe,
	.resources = netem_resources,
	.apply = netem_apply,
	.live = netem_live,
	.observe = netem_observe,
	.revert = netem_revert,
	.release = free,
	.scan = netem_scan_leftovers,
};
