// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault's plan: what this kernel allows (check), the objects
 * apply will make and why (describe), and the device it locks
 * (resources).  Reads the kernel, changes nothing.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

int netem_check(const struct fl_fault *f, char *why, size_t len)
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
	if (s->has_match && !netem_kernel_has("prio") && !netem_kernel_has("htb")) {
		WHY("%sa matched subset needs a classful parent, and neither sch_prio nor sch_htb is available (CONFIG_NET_SCH_PRIO, CONFIG_NET_SCH_HTB)",
		    off ? "; " : "");
		ret = ret ? ret : -EOPNOTSUPP;
	}
	if (s->direction != NETEM_EGRESS) {
		if (!netem_kernel_has("ifb")) {
			WHY("%sdirection %s needs an ifb device, and this kernel has no ifb (modprobe ifb failed or CONFIG_IFB is off)",
			    off ? "; " : "", netem_dir_names[s->direction]);
			ret = ret ? ret : -EOPNOTSUPP;
		}
		if (!netem_kernel_has("clsact") && !netem_kernel_has("ingress")) {
			WHY("%sdirection %s needs the ingress or clsact qdisc (CONFIG_NET_SCH_INGRESS)",
			    off ? "; " : "", netem_dir_names[s->direction]);
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
	/* The model's name, then its parameters' names, as tc says them. */
	static const char *const gemodel_lp[] = {
		"gemodel", "p", "r", "1-h", "1-k", NULL,
	};
	static const char *const state_lp[] = {
		"state", "p13", "p31", "p32", "p23", "p14", NULL,
	};
	const char *const *lp;
	char a[32], b[32];
	size_t off = 0, i;

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
			    netem_dist_names[s->distribution - NETEM_DIST_UNIFORM]);
	}
	switch (s->loss_model) {
	case NETEM_LOSS_RANDOM:
		OPT(" loss %s", fmt_pct(s->loss, a, sizeof(a)));
		if (s->has_correlation)
			OPT(" %s", fmt_pct(s->correlation, a, sizeof(a)));
		break;
	case NETEM_LOSS_GEMODEL:
	case NETEM_LOSS_STATE:
		lp = s->loss_model == NETEM_LOSS_STATE ? state_lp : gemodel_lp;
		OPT(" loss %s", lp[0]);
		for (i = 0; lp[i + 1]; i++)
			OPT(" %s %s", lp[i + 1], fmt_pct(s->lp[i], a, sizeof(a)));
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
	char kind[32];
	uint32_t h;

	buf[0] = 0;
	if (!ifindex || tc_qdisc_at(ifindex, parent, &h, kind,
				    sizeof(kind)) != 1)
		return;
	if (h)
		snprintf(buf, len, "%s %x:", kind, h >> 16);
	else
		snprintf(buf, len, "%s", kind);
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
			 netem_proto_name(m->protocol));
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
				fl_json_addf(objs, "filter u32 on %s parent %s: %s%s%s -> %x:%x",
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
		fl_json_addf(objs, "qdisc netem %x: on %s (%s)%s",
			NETEM_HANDLE_ROOT >> 16, dev, replaces, opts);
		return;
	}
	snprintf(parent, sizeof(parent), "%x", NETEM_HANDLE_ROOT >> 16);
	if (!strcmp(netem_parent_kind(), "prio")) {
		fl_json_addf(objs, "qdisc prio %x: on %s (%s), bands 3, every priority to band 1",
			NETEM_HANDLE_ROOT >> 16, dev, replaces);
		fl_json_addf(objs, "class %x:%x (prio band 2, the matched subset)",
			NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff);
	} else {
		fl_json_addf(objs, "qdisc htb %x: on %s (%s), default 0: unmatched traffic takes the direct path",
			NETEM_HANDLE_ROOT >> 16, dev, replaces);
		fl_json_addf(objs, "class htb %x:%x rate 100gbit (the matched subset)",
			NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff);
	}
	add_filters(objs, s, dev, parent);
	fl_json_addf(objs, "qdisc netem %x: parent %x:%x%s", NETEM_HANDLE_NETEM >> 16,
		NETEM_CLASS_MATCHED >> 16, NETEM_CLASS_MATCHED & 0xffff, opts);
}

static json_object *netem_params(const struct netem_spec *s, uint64_t link)
{
	json_object *p = json_object_new_object(), *o;
	char a[64];

	fl_json_add_str(p, "device", s->device);
	fl_json_add_str(p, "direction", netem_dir_names[s->direction]);
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
			fl_json_add_str(o, "protocol",
					netem_proto_name(s->match.protocol));
		json_object_object_add(p, "match", o);
	}
	if (s->has_delay)
		fl_json_add_str(p, "delay",
				fl_fmt_duration(s->delay_ns, a, sizeof(a)));
	if (s->has_jitter)
		fl_json_add_str(p, "jitter",
				fl_fmt_duration(s->jitter_ns, a, sizeof(a)));
	if (s->has_correlation)
		fl_json_add_str(p, "correlation",
				fmt_pct(s->correlation, a, sizeof(a)));
	if (s->distribution)
		fl_json_add_str(p, "distribution",
				netem_dist_names[s->distribution - NETEM_DIST_UNIFORM]);
	if (s->loss_model == NETEM_LOSS_RANDOM) {
		fl_json_add_str(p, "loss", fmt_pct(s->loss, a, sizeof(a)));
	} else if (s->loss_model != NETEM_LOSS_NONE) {
		const char *const *keys = s->loss_model == NETEM_LOSS_GEMODEL ?
					  netem_gemodel_keys : netem_state_keys;
		int i, n = s->loss_model == NETEM_LOSS_GEMODEL ? 4 : 5;

		o = json_object_new_object();
		fl_json_add_str(o, "model",
				s->loss_model == NETEM_LOSS_GEMODEL ?
				"gemodel" : "state");
		for (i = 0; i < n; i++)
			fl_json_add_str(o, keys[i + 1],
					fmt_pct(s->lp[i], a, sizeof(a)));
		json_object_object_add(p, "loss", o);
	}
	if (s->has_duplicate)
		fl_json_add_str(p, "duplicate",
				fmt_pct(s->duplicate, a, sizeof(a)));
	if (s->has_corrupt)
		fl_json_add_str(p, "corrupt",
				fmt_pct(s->corrupt, a, sizeof(a)));
	if (s->has_reorder) {
		o = json_object_new_object();
		fl_json_add_str(o, "percent",
				fmt_pct(s->reorder, a, sizeof(a)));
		if (s->reorder_gap)
			json_object_object_add(o, "gap",
				json_object_new_int64(s->reorder_gap));
		json_object_object_add(p, "reorder", o);
	}
	if (s->has_rate)
		fl_json_add_str(p, "rate", fmt_rate(s->rate_bps, a, sizeof(a)));
	if (s->has_slot) {
		o = json_object_new_object();
		fl_json_add_str(o, "min",
				fl_fmt_duration(s->slot_min_ns, a, sizeof(a)));
		fl_json_add_str(o, "max",
				fl_fmt_duration(s->slot_max_ns, a, sizeof(a)));
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
	fl_json_add_str(p, "limit", a);
	return p;
}

int netem_describe(const struct fl_fault *f, json_object *out)
{
	const struct netem_spec *s = f->priv;
	char opts[512], ifb[IFNAMSIZ], why[1024], cur[64];
	json_object *objs;
	uint64_t link;
	bool netem_ok;
	size_t off;

	if (!s)
		return -EINVAL;
	link = netem_link_speed(s->device);
	netem_opts(s, link, opts, sizeof(opts));
	netem_ifb_name(f, s->device, ifb, sizeof(ifb));
	netem_ok = netem_kernel_has("netem");

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
	fl_json_add_str(out, "mechanism", why);

	off = snprintf(why, sizeof(why), "tc objects over rtnetlink (libnl-route-3 and libmnl), no tc process");
	if (s->has_match)
		off += snprintf(why + off, sizeof(why) - off,
				"; a match is given, so a classful %s parent steers only the matched traffic into netem%s",
				netem_parent_kind(), strcmp(netem_parent_kind(), "prio") ?
				" (this kernel has no sch_prio)" : "");
	else
		off += snprintf(why + off, sizeof(why) - off,
				"; no match, so all of %s's %s traffic goes through netem",
				s->device, netem_dir_names[s->direction]);
	if (s->direction != NETEM_EGRESS && off < sizeof(why))
		off += snprintf(why + off, sizeof(why) - off,
				"; ingress traffic is redirected with mirred to %s, whose egress netem shapes",
				ifb);
	if (!netem_ok && off < sizeof(why))
		snprintf(why + off, sizeof(why) - off,
			 "; but this kernel has no sch_netem, so run refuses it");
	fl_json_add_str(out, "why", why);

	objs = json_object_new_array();
	if (s->direction != NETEM_INGRESS)
		add_tree(objs, f, s->device, false, opts);
	if (s->direction != NETEM_EGRESS) {
		current_qdisc(if_nametoindex(s->device), TC_H_INGRESS, cur,
			      sizeof(cur));
		fl_json_addf(objs, "ifb device %s (created, removed at revert)", ifb);
		if (cur[0])
			fl_json_addf(objs, "existing %s on %s: faultline adds its filter to it",
				cur, s->device);
		else
			fl_json_addf(objs, "qdisc clsact on %s (added, removed at revert)",
				s->device);
		fl_json_addf(objs, "filter u32 on %s ingress: all traffic -> action mirred egress redirect dev %s",
			s->device, ifb);
		add_tree(objs, f, ifb, true, opts);
	}
	json_object_object_add(out, "objects", objs);
	json_object_object_add(out, "params", netem_params(s, link));
	return 0;
}

int netem_resources(const struct fl_fault *f, json_object *out)
{
	const struct netem_spec *s = f->priv;

	if (!s)
		return -EINVAL;
	return netem_dev_lock(s->device, out);
}

void netem_claim(json_object *out, const char *dev, const char *hook,
		 const char *share, bool nests, const char *fmt, ...)
{
	json_object *c = json_object_new_object();
	char buf[300];
	va_list ap;

	snprintf(buf, sizeof(buf), "dev:%s:%s", dev, hook);
	fl_json_add_str(c, "object", buf);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fl_json_add_str(c, "what", buf);
	if (share)
		fl_json_add_str(c, "share", share);
	if (nests)
		json_object_object_add(c, "nests",
				       json_object_new_boolean(1));
	json_object_array_add(out, c);
}

/*
 * The root qdisc of the device (a netem at the root, or faultline's
 * parent): one netem at a time.  Its ingress hook (the ifb's redirect,
 * and the clsact netem adds there and removes at revert): shared with a
 * fault whose window nests with this one's, which finds the hook as the
 * other left it and leaves it so; one that outlives the fault that added
 * the clsact would lose it.
 */
int netem_claims(const struct fl_fault *f, json_object *out)
{
	const struct netem_spec *s = f->priv;

	if (!s)
		return -EINVAL;
	if (s->direction != NETEM_INGRESS)
		netem_claim(out, s->device, "root", NULL, false,
			    "the root qdisc of %s (netem replaces it)",
			    s->device);
	if (s->direction != NETEM_EGRESS)
		netem_claim(out, s->device, "ingress", NULL, true,
			    "the ingress hook of %s (netem redirects it to an ifb and removes the clsact it added)",
			    s->device);
	return 0;
}
