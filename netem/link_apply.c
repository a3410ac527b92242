// SPDX-License-Identifier: GPL-2.0-only
/*
 * The link fault at run time: apply (the device's flags and carrier saved
 * in the undo record first, then the marker, then the change), revert from
 * the record alone, the live view (down for how long, operstate, carrier),
 * observe (flags before and during, counters; release adds the flags
 * after revert, which runs between the two) and the leftover scan (devices
 * with the marker name, in every network namespace).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/link.h"

/* The handle of an applied fault. */
struct link_rt {
	const struct link_spec *s;	/* f->priv, which outlives it */
	struct link_now before, during;
	uint64_t t0;			/* when the change was made */
	bool back_seen;			/* a live read saw it back */
	json_object *observed;		/* observe's, for release to finish */
};

static bool is_back(const struct link_spec *s, const struct link_now *n)
{
	return s->mode == LINK_DOWN ? !!(n->flags & IFF_UP) : !!n->carrier;
}

static json_object *record(const struct link_spec *s, const struct link_now *n,
			   const char *marker)
{
	json_object *rec = json_object_new_object();

	fl_json_add_str(rec, "device", s->device);
	json_object_object_add(rec, "ifindex", json_object_new_int(n->ifindex));
	fl_json_add_str(rec, "mode", link_mode_names[s->mode]);
	json_object_object_add(rec, "flags", json_object_new_int64(n->flags));
	json_object_object_add(rec, "carrier", json_object_new_int(n->carrier));
	json_object_object_add(rec, "marker",
			       marker ? json_object_new_string(marker) : NULL);
	return rec;
}

static void record_during(json_object *rec, const struct link_now *n)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "flags", json_object_new_int64(n->flags));
	json_object_object_add(d, "carrier", json_object_new_int(n->carrier));
	json_object_object_add(rec, "during", d);
}

/* The marker, after the record names it; none where altnames are not. */
static int mark(struct fl_undo *u, json_object *rec, int ifindex,
		const char *mk)
{
	int ret = link_marker_add(ifindex, mk);

	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		json_object_object_add(rec, "marker", NULL);
		return fl_undo_save(u, rec);
	}
	return ret;
}

static int change(const struct link_spec *s, int ifindex)
{
	return s->mode == LINK_DOWN ? link_set_up(ifindex, false) :
	       link_set_carrier(ifindex, false);
}

int link_apply(const struct fl_fault *f, struct fl_undo *u, void **rtp)
{
	const struct link_spec *s = f->priv;
	char why[1024], mk[IFNAMSIZ];
	json_object *rec = NULL;
	struct link_rt *rt;
	bool marked;
	int ret;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->s = s;
	ret = link_check_now(s, &rt->before, why, sizeof(why));
	if (ret) {
		fl_undo_why(u, "%s", why);
		goto out;
	}
	marked = !link_marker_name(rt->before.ifindex, mk, sizeof(mk));
	/* The undo record, before the kernel is touched. */
	rec = record(s, &rt->before, marked ? mk : NULL);
	ret = fl_undo_save_netns(u, rec);
	if (ret) {
		fl_undo_why(u, "cannot save the undo record: %s", strerror(-ret));
		goto out;
	}
	if (marked) {
		ret = mark(u, rec, rt->before.ifindex, mk);
		if (ret) {
			fl_undo_why(u, "cannot mark %s with the name %s: %s",
				    s->device, mk, strerror(-ret));
			goto out;
		}
	}
	ret = change(s, rt->before.ifindex);
	if (ret) {
		fl_undo_why(u, "cannot set %s %s: %s", s->device,
			    s->mode == LINK_DOWN ? "down" : "carrier off",
			    strerror(-ret));
		goto out;
	}
	rt->t0 = fl_now_ns();
	ret = link_read(rt->before.ifindex, &rt->during);
	if (!ret && is_back(s, &rt->during))
		ret = -EIO;
	if (ret) {
		fl_undo_why(u, "%s is not %s when read back: %s", s->device,
			    s->mode == LINK_DOWN ? "down" : "without carrier",
			    strerror(-ret));
		goto out;
	}
	record_during(rec, &rt->during);
	ret = fl_undo_save(u, rec);
	if (ret) {
		fl_undo_why(u, "cannot save the undo record: %s", strerror(-ret));
		goto out;
	}
	*rtp = rt;
	rt = NULL;
out:
	json_object_put(rec);
	free(rt);
	return ret;
}

static int64_t rec_int(json_object *o, const char *key)
{
	return json_object_get_int64(fl_json_get(o, key));
}

/*
 * Did someone change the device since faultline did (the record's
 * "during")?  0 no; 1 they brought it back, which is what revert does
 * too; -EBUSY another change, said, which revert must not undo.
 */
static int changed_since(json_object *state, bool down, const char *dev,
			 const struct link_now *n)
{
	json_object *d = fl_json_get(state, "during");
	unsigned int df;
	char a[256], b[256];

	if (!d)
		return 0;	/* apply stopped before: nothing to compare */
	df = rec_int(d, "flags");
	if (LINK_ADMIN_FLAGS(df) == LINK_ADMIN_FLAGS(n->flags) &&
	    (down || rec_int(d, "carrier") == n->carrier))
		return 0;
	if (down ? !!(n->flags & IFF_UP) : !!n->carrier) {
		fl_warn("link: %s was brought back during the drill by someone else (now %s): nothing to put back",
			dev, link_flags_str(n->flags, a, sizeof(a)));
		return 1;
	}
	fl_err("link: %s: someone changed it during the drill (now %s%s, faultline left it %s): leaving it as it is (the undo record stays: put it back as faultline left it, or remove the record, and run 'faultline recover')",
	       dev, link_flags_str(n->flags, a, sizeof(a)),
	       n->carrier ? ", carrier on" : ", carrier off",
	       link_flags_str(df, b, sizeof(b)));
	return -EBUSY;
}

int link_revert(json_object *state)
{
	const char *dev = fl_json_str(state, "device", NULL);
	const char *mode = fl_json_str(state, "mode", "down");
	const char *mk = fl_json_str(state, "marker", NULL);
	bool down = strcmp(mode, "carrier");
	struct link_now n;
	int ifindex, ret;

	if (!dev)
		return -EINVAL;
	ifindex = if_nametoindex(dev);
	if (!ifindex || ifindex != rec_int(state, "ifindex")) {
		fl_warn("link: device %s vanished during the drill (or another device has its name now): nothing to put back",
			dev);
		return 0;
	}
	ret = link_read(ifindex, &n);
	if (ret)
		return ret == -ENODEV ? 0 : ret;
	ret = changed_since(state, down, dev, &n);
	if (ret < 0)
		return ret;
	if (down && (rec_int(state, "flags") & IFF_UP) && !(n.flags & IFF_UP))
		ret = link_set_up(ifindex, true);
	else if (!down && rec_int(state, "carrier") && !n.carrier)
		ret = link_set_carrier(ifindex, true);
	else
		ret = 0;
	if (ret) {
		fl_err("link: cannot set %s %s again: %s", dev,
		       down ? "up" : "carrier on", strerror(-ret));
		return ret;
	}
	return mk ? link_marker_del(ifindex, mk) : 0;
}

/* ------------------------------------------------------------------ */
/* Live and observed.                                                  */

/* The device's state now, for live and observe. */
static int read_now(const struct link_rt *rt, struct link_now *n)
{
	return rt ? link_read(rt->before.ifindex, n) : -ENOENT;
}

int link_live(void *rt_, json_object *out)
{
	struct link_rt *rt = rt_;
	char sum[256], op[32], dur[32];
	struct link_now n;
	uint64_t t;
	int ret;

	ret = read_now(rt, &n);
	if (ret)
		return ret;
	if (is_back(rt->s, &n))
		rt->back_seen = true;
	t = (fl_now_ns() - rt->t0) / NSEC_PER_SEC * NSEC_PER_SEC;
	json_object_object_add(out, "down_s",
			       json_object_new_int64(t / NSEC_PER_SEC));
	fl_json_add_str(out, "operstate",
			link_oper_str(n.operstate, op, sizeof(op)));
	fl_json_add_str(out, "carrier", n.carrier ? "on" : "off");
	fl_json_add_str(out, "admin", n.flags & IFF_UP ? "up" : "down");
	snprintf(sum, sizeof(sum), "%s %s for %s (operstate %s, carrier %s)%s",
		 rt->s->device, rt->s->mode == LINK_DOWN ? "down" : "carrier off",
		 fl_fmt_duration(t, dur, sizeof(dur)), op,
		 n.carrier ? "on" : "off",
		 rt->back_seen ? "; it was brought back by someone else" : "");
	fl_json_add_str(out, "summary", sum);
	return 0;
}

static json_object *state_json(const struct link_now *n)
{
	json_object *o = json_object_new_object();
	char buf[256];

	fl_json_add_str(o, "flags", link_flags_str(n->flags, buf, sizeof(buf)));
	fl_json_add_str(o, "operstate",
			link_oper_str(n->operstate, buf, sizeof(buf)));
	fl_json_add_str(o, "carrier", n->carrier ? "on" : "off");
	return o;
}

static void add_delta(json_object *o, const char *k, uint64_t a, uint64_t b)
{
	json_object_object_add(o, k, json_object_new_uint64(b >= a ? b - a : 0));
}

int link_observe(void *rt_, json_object *out)
{
	struct link_rt *rt = rt_;
	char detail[256], dur[32];
	struct link_now n;
	json_object *c;
	uint64_t t;
	bool met;
	int ret;

	ret = read_now(rt, &n);
	if (ret)
		return ret;
	t = (fl_now_ns() - rt->t0) / NSEC_PER_MSEC * NSEC_PER_MSEC;
	fl_json_add_str(out, "device", rt->s->device);
	fl_json_add_str(out, "mode", link_mode_names[rt->s->mode]);
	json_object_object_add(out, "before", state_json(&rt->before));
	json_object_object_add(out, "during", state_json(&rt->during));
	json_object_object_add(out, "at_revert", state_json(&n));
	json_object_object_add(out, "down_ms",
			       json_object_new_uint64(t / NSEC_PER_MSEC));
	c = json_object_new_object();
	add_delta(c, "rx_packets", rt->during.rx_packets, n.rx_packets);
	add_delta(c, "tx_packets", rt->during.tx_packets, n.tx_packets);
	add_delta(c, "rx_dropped", rt->during.rx_dropped, n.rx_dropped);
	add_delta(c, "tx_dropped", rt->during.tx_dropped, n.tx_dropped);
	json_object_object_add(out, "counters_during", c);
	met = !rt->back_seen && !is_back(rt->s, &n);
	if (met)
		snprintf(detail, sizeof(detail), "%s stayed %s for %s",
			 rt->s->device,
			 rt->s->mode == LINK_DOWN ? "down" : "without carrier",
			 fl_fmt_duration(t, dur, sizeof(dur)));
	else
		snprintf(detail, sizeof(detail), "%s was brought back by someone else during the drill",
			 rt->s->device);
	fl_expectation(out, met, detail);
	json_object_put(rt->observed);
	rt->observed = json_object_get(out);
	return 0;
}

/*
 * After revert (the runner calls release right after it): the device as
 * revert left it, into what observe reported, with whether its
 * administrative flags are those it had before.
 */
void link_release(void *rt_)
{
	struct link_rt *rt = rt_;
	struct link_now n;

	if (!rt)
		return;
	if (rt->observed && !link_read(rt->before.ifindex, &n)) {
		json_object_object_add(rt->observed, "after", state_json(&n));
		json_object_object_add(rt->observed, "flags_restored",
			json_object_new_boolean(LINK_ADMIN_FLAGS(n.flags) ==
				LINK_ADMIN_FLAGS(rt->before.flags)));
	}
	json_object_put(rt->observed);
	free(rt);
}

/* ------------------------------------------------------------------ */
/* Leftover scan.                                                      */

/* A run of the journal holds a record for this marker here. */
static bool accounted(const struct fl_found *f, const char *mk)
{
	struct fl_netns_id self, ns;
	size_t k, i;

	if (fl_netns_self(&self))
		return false;
	for (k = 0; k < f->nruns; k++) {
		json_object *recs = f->runs[k].records;

		for (i = 0; recs && i < json_object_array_length(recs); i++) {
			json_object *rec = json_object_array_get_idx(recs, i);
			json_object *st = fl_json_get(rec, "state");
			const char *m = fl_json_str(st, "marker", "");

			if (strcmp(fl_json_str(rec, "engine", ""), "link") ||
			    strcmp(m, mk))
				continue;
			if (fl_netns_parse(fl_json_str(st, "netns", ""), &ns) ||
			    fl_netns_eq(&ns, &self))
				return true;
		}
	}
	return false;
}

static void scan_netns(void *ctx, const char *where)
{
	struct fl_found *f = ctx;
	struct if_nameindex *ifs, *i;
	char mk[IFNAMSIZ], what[300], rm[300], fl[128];
	struct link_now n;

	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		if (link_marker_name(i->if_index, mk, sizeof(mk)) ||
		    if_nametoindex(mk) != i->if_index || accounted(f, mk))
			continue;
		if (link_read(i->if_index, &n))
			continue;
		snprintf(what, sizeof(what), "device %s marked %s by a link fault (now %s, carrier %s)",
			 i->if_name, mk, link_flags_str(n.flags, fl, sizeof(fl)),
			 n.carrier ? "on" : "off");
		snprintf(rm, sizeof(rm), "ip link set %s up (or carrier on, if it was up before the drill); ip link property del dev %s altname %s",
			 i->if_name, i->if_name, mk);
		f->fn(f->ctx, "link", what, where, rm);
	}
	if (ifs)
		if_freenameindex(ifs);
}

void link_scan(struct fl_found *found)
{
	fl_netns_each(scan_netns, found);
}
