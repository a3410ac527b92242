// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault: delay, loss, duplication, corruption, reordering, rate
 * and slotting on a device, for all of its traffic or a matched subset,
 * egress, ingress (through an ifb device) or both.
 *
 * This file holds the fault's schema, parsed into a struct netem_spec
 * (netem/netem_spec.h) with every problem reported against its node, and
 * the engine's ops table.  check, describe and resources are in
 * netem/plan.c, apply, revert and observe in netem/apply.c, the tc objects
 * in netem/tcbuild.c (the delay tables in netem/dist.c), and netem/tc.c
 * and netem/tcstate.c save and restore the device's tc state.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *const netem_dir_names[] = {
	[NETEM_EGRESS] = "egress",
	[NETEM_INGRESS] = "ingress",
	[NETEM_BOTH] = "both",
	NULL,
};

const char *const netem_dist_names[] = {
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

const char *const netem_gemodel_keys[] = {
	"model", "p", "r", "1-h", "1-k", NULL,
};

const char *const netem_state_keys[] = {
	"model", "p13", "p31", "p32", "p23", "p14", NULL,
};

static const char *const loss_any_keys[] = {
	"model", "p", "r", "1-h", "1-k", "p13", "p31", "p32", "p23", "p14",
	NULL,
};

static const char *const reorder_keys[] = { "percent", "gap", NULL };
static const char *const slot_keys[] = { "min", "max", NULL };

const char *netem_proto_name(int proto)
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

/*
 * How many items a lone value or a list holds (*cnt); a map ("what:
 * expected EXPECT, not a map") or an empty list is said, -EINVAL.
 */
static int list_len(const struct fl_node *v, const char *what,
		    const char *expect, size_t *cnt, struct fl_diag *d)
{
	if (v->type == FL_NODE_MAP) {
		fl_diag_err(d, v, "%s: expected %s, not a map", what, expect);
		return -EINVAL;
	}
	*cnt = fl_node_count(v);
	if (!*cnt) {
		fl_diag_err(d, v, "%s: empty list", what);
		return -EINVAL;
	}
	return 0;
}

static int get_cidrs(const struct fl_node *v, const char *what,
		     struct fl_cidr **out, size_t *n, struct fl_diag *d)
{
	struct fl_cidr *c;
	size_t cnt, i;
	int err = 0;

	if (list_len(v, what, "an address, a CIDR or a list of them", &cnt, d))
		return -EINVAL;
	c = calloc(cnt, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < cnt; i++)
		if (fl_get_cidr(fl_node_item(v, i), what, &c[i], d))
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

	if (list_len(v, what, "a port or a list of ports", &cnt, d))
		return -EINVAL;
	p = calloc(cnt, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		if (fl_get_u64(fl_node_item(v, i), what, 1, 65535, &u, d))
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

int netem_get_device(const struct fl_node *v, char **out, struct fl_diag *d)
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

	if (fl_submap_check(m, match_keys, "match",
			    "give to, from, ports or protocol (or leave match out to degrade all traffic)",
			    &err, d))
		return -EINVAL;
	v = fl_map_get(m, "to");
	if (v && get_cidrs(v, "to", &mt->to, &mt->nto, d))
		err = -EINVAL;
	v = fl_map_get(m, "from");
	if (v && get_cidrs(v, "from", &mt->from, &mt->nfrom, d))
		err = -EINVAL;
	ports = fl_map_get(m, "ports");
	if (ports && get_ports(ports, "ports", &mt->ports, &mt->nports, d))
		err = -EINVAL;
	idx = -1;
	if (fl_opt_enum(m, "protocol", proto_names, &idx, d))
		err = -EINVAL;
	else if (idx >= 0)
		mt->protocol = proto_numbers[idx];
	if (ports && (mt->protocol == NETEM_PROTO_ICMP ||
		      mt->protocol == NETEM_PROTO_ICMPV6)) {
		fl_diag_err(d, ports, "ports: protocol %s has no ports",
			    netem_proto_name(mt->protocol));
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
		keys = netem_gemodel_keys;
		defs = gemodel_def;
		nkeys = 4;
	} else {
		s->loss_model = NETEM_LOSS_STATE;
		keys = netem_state_keys;
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

/* The nodes the cross-field rules look at (NULL: not given). */
struct netem_nodes {
	const struct fl_node *delay, *jitter, *corr, *dist;
	const struct fl_node *loss, *reorder, *ecn;
};

/* An optional percentage or duration: its node, with *has set. */
static const struct fl_node *opt_percent(const struct fl_node *spec,
					 const char *key, bool *has,
					 double *val, int *err,
					 struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(spec, key);

	if (v) {
		*has = true;
		if (fl_get_percent(v, key, val, d))
			*err = -EINVAL;
	}
	return v;
}

static const struct fl_node *opt_duration(const struct fl_node *spec,
					  const char *key, bool *has,
					  uint64_t *val, int *err,
					  struct fl_diag *d)
{
	const struct fl_node *v = fl_map_get(spec, key);

	if (v) {
		*has = true;
		if (fl_get_duration(v, key, val, d))
			*err = -EINVAL;
	}
	return v;
}

/* Where: device, direction and match. */
static int parse_where(const struct fl_node *spec, struct netem_spec *s,
		       struct fl_diag *d)
{
	const struct fl_node *v;
	int err = 0, idx;

	v = fl_map_need(spec, "device", "netem", d);
	if (!v || netem_get_device(v, &s->device, d))
		err = -EINVAL;
	idx = s->direction;
	if (fl_opt_enum(spec, "direction", netem_dir_names, &idx, d))
		err = -EINVAL;
	s->direction = idx;
	v = fl_map_get(spec, "match");
	if (v) {
		s->has_match = true;
		if (parse_match(v, &s->match, d))
			err = -EINVAL;
	}
	return err;
}

/* The delay and how it varies, then loss, duplicate, corrupt, reorder. */
static int parse_impairments(const struct fl_node *spec,
			     struct netem_spec *s, struct netem_nodes *n,
			     struct fl_diag *d)
{
	int err = 0, idx;

	n->delay = opt_duration(spec, "delay", &s->has_delay, &s->delay_ns,
				&err, d);
	n->jitter = opt_duration(spec, "jitter", &s->has_jitter,
				 &s->jitter_ns, &err, d);
	n->corr = opt_percent(spec, "correlation", &s->has_correlation,
			      &s->correlation, &err, d);
	n->dist = fl_map_get(spec, "distribution");
	if (n->dist) {
		if (fl_get_enum(n->dist, "distribution", netem_dist_names,
				&idx, d))
			err = -EINVAL;
		else
			s->distribution = NETEM_DIST_UNIFORM + idx;
	}
	n->loss = fl_map_get(spec, "loss");
	if (n->loss && parse_loss(n->loss, s, d))
		err = -EINVAL;
	opt_percent(spec, "duplicate", &s->has_duplicate, &s->duplicate,
		    &err, d);
	opt_percent(spec, "corrupt", &s->has_corrupt, &s->corrupt, &err, d);
	n->reorder = fl_map_get(spec, "reorder");
	if (n->reorder && parse_reorder(n->reorder, s, d))
		err = -EINVAL;
	return err;
}

/* How packets leave: rate, slot, ecn, seed and the queue's limit. */
static int parse_pacing(const struct fl_node *spec, struct netem_spec *s,
			struct netem_nodes *n, struct fl_diag *d)
{
	const struct fl_node *v;
	int err = 0;

	v = fl_map_get(spec, "rate");
	if (v) {
		s->has_rate = true;
		if (fl_get_rate_pos(v, "rate", &s->rate_bps, d))
			err = -EINVAL;
	}
	v = fl_map_get(spec, "slot");
	if (v && parse_slot(v, s, d))
		err = -EINVAL;
	n->ecn = fl_map_get(spec, "ecn");
	if (n->ecn && fl_get_bool(n->ecn, "ecn", &s->ecn, d))
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
	return err;
}

/* The rules across fields: what needs what. */
static int check_rules(const struct fl_node *spec,
		       const struct netem_spec *s,
		       const struct netem_nodes *n, struct fl_diag *d)
{
	int err = 0;

	if (n->jitter && !n->delay) {
		fl_diag_err(d, n->jitter, "jitter: needs delay (jitter varies the delay around it)");
		err = -EINVAL;
	}
	if (n->dist && !n->jitter) {
		fl_diag_err(d, n->dist, "distribution: needs jitter (it shapes how the delay varies)");
		err = -EINVAL;
	}
	if (n->corr && !n->jitter && s->loss_model != NETEM_LOSS_RANDOM &&
	    !s->has_duplicate && !s->has_corrupt && !n->reorder) {
		fl_diag_err(d, n->corr, "correlation: nothing to correlate; it needs jitter, loss (a percentage), duplicate, corrupt or reorder");
		err = -EINVAL;
	}
	if (n->reorder && !n->delay) {
		fl_diag_err(d, n->reorder, "reorder: needs delay (netem reorders by sending some packets at once while the others wait)");
		err = -EINVAL;
	}
	if (n->ecn && s->ecn && !n->loss) {
		fl_diag_err(d, n->ecn, "ecn: needs loss (ecn marks packets instead of dropping them)");
		err = -EINVAL;
	}
	if (!n->delay && !n->loss && !s->has_duplicate &&
	    !s->has_corrupt && !s->has_rate && !s->has_slot && !n->reorder) {
		fl_diag_err(d, spec, "netem: nothing to do; give at least one of delay, loss, duplicate, corrupt, rate or slot");
		err = -EINVAL;
	}
	return err;
}

static int netem_parse(struct fl_experiment *exp, const struct fl_fault *f,
		       const struct fl_node *spec, void **out,
		       struct fl_diag *d)
{
	struct netem_nodes n = { 0 };
	struct netem_spec *s;
	int err = 0;

	s = calloc(1, sizeof(*s));
	*out = s;
	if (!s)
		return -ENOMEM;
	s->limit_auto = true;
	s->match.protocol = NETEM_PROTO_ANY;

	if (parse_where(spec, s, d))
		err = -EINVAL;
	if (parse_impairments(spec, s, &n, d))
		err = -EINVAL;
	if (parse_pacing(spec, s, &n, d))
		err = -EINVAL;
	if (check_rules(spec, s, &n, d))
		err = -EINVAL;
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

/* The handle (netem/apply.c) is one flat allocation. */
static void netem_release(void *rt)
{
	free(rt);
}

const struct fl_engine netem_engine = {
	FL_ENGINE_OPS(netem, "#2e86de",
		      "delay, loss, duplication, corruption, reordering and rate on a device (sch_netem)"),
	.in_netns = true,
	.spec_free = netem_spec_free,
	.claims = netem_claims,
	.scan = netem_scan_leftovers,
};
