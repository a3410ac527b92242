// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault: delay, loss, duplication, corruption, reordering, rate
 * and slotting on a device, for all of its traffic or a matched subset,
 * egress, ingress (through an ifb device) or both.
 *
 * This file holds the fault's schema (parse), what this kernel allows
 * (check) and the plan (describe).  Apply lands with issue #4.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "netem/netem.h"
#include "netem/netem_spec.h"

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

static void netem_spec_free(struct netem_spec *s)
{
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

static int netem_parse(struct fl_experiment *exp, struct fl_fault *f,
		       const struct fl_node *spec, struct fl_diag *d)
{
	const struct fl_node *v, *delay, *jitter, *corr, *dist, *reorder;
	const struct fl_node *ecn, *loss;
	struct netem_spec *s;
	int err = 0, idx;

	if (fl_map_check(spec, netem_keys, "netem", d))
		err = -EINVAL;
	if (spec->type != FL_NODE_MAP)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
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

	if (err) {
		netem_spec_free(s);
		return err;
	}
	f->priv = s;
	return 0;
}

static void netem_free(struct fl_fault *f)
{
	netem_spec_free(f->priv);
	f->priv = NULL;
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

	return fl_kernel_has_qdisc(kind, why, sizeof(why)) == 1;
}

static const char *parent_kind(void)
{
	return has_qdisc("prio") ? "prio" : "htb";
}

/* ifb devices faultline creates: "fl-ifb-" and a hash of fault and dev. */
static void ifb_name(const struct fl_fault *f, const char *dev, char *buf,
		     size_t len)
{
	uint32_t h = 2166136261U;
	const char *p;

	for (p = f->name ? f->name : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	for (p = dev; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	snprintf(buf, len, "fl-ifb-%04x", (h ^ (h >> 16)) & 0xffff);
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
	r = fl_kernel_has_qdisc("netem", buf, sizeof(buf));
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
	if (!strcmp(parent_kind(), "prio")) {
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
	ifb_name(f, s->device, ifb, sizeof(ifb));
	netem_ok = has_qdisc("netem");

	off = snprintf(why, sizeof(why), "netem %s%s on ",
		       s->has_match ? "under " : "at the root",
		       s->has_match ? parent_kind() : "");
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
				parent_kind(), strcmp(parent_kind(), "prio") ?
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
	char buf[64];

	if (!s)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "dev:%s", s->device);
	json_object_array_add(out, json_object_new_string(buf));
	return 0;
}

static int netem_apply(struct fl_fault *f, struct fl_undo *u)
{
	/* apply lands with issue #4 */
	free(f->detail);
	f->detail = strdup("the netem engine's apply is not in this build yet");
	return -EOPNOTSUPP;
}

static int netem_revert(json_object *state)
{
	/* apply lands with issue #4: nothing was ever applied. */
	return 0;
}

const struct fl_engine netem_engine = {
	.name = "netem",
	.summary = "delay, loss, duplication, corruption, reordering and rate on a device (sch_netem)",
	.parse = netem_parse,
	.free = netem_free,
	.check = netem_check,
	.apply = netem_apply,
	.revert = netem_revert,
	.describe = netem_describe,
	.resources = netem_resources,
};
