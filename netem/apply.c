// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netem fault at run time: apply (the device's tc state saved in the
 * undo record first, then faultline's tree), revert from the record alone,
 * and the qdisc counters that live and observe read through the handle.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/tc.h"
#include "netem/tcbuild.h"

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

int netem_apply(const struct fl_fault *f, struct fl_undo *u,
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
	a.limit = s->limit_auto ? netem_auto_limit(s, netem_link_speed(s->device)) :
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
	ret = fl_undo_save_netns(u, rec);
	if (ret) {
		ret = netem_fail(&a, ret, "cannot save the undo record");
		goto out;
	}

	if (s->direction != NETEM_INGRESS) {
		ret = netem_add_tree(&a, ifindex, s->device);
		if (ret)
			goto out;
	}
	if (s->direction != NETEM_EGRESS) {
		ret = netem_ifb_add(&a, ifb, &ifb_index);
		if (ret)
			goto out;
		snprintf(rt->ifb, sizeof(rt->ifb), "%s", ifb);
		ret = netem_add_tree(&a, ifb_index, ifb);
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

/* A number of the record; 0 when absent. */
static int64_t rec_int(json_object *o, const char *key)
{
	return json_object_get_int64(fl_json_get(o, key));
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

int netem_revert(json_object *state)
{
	const char *dev = fl_json_str(state, "device", NULL), *ifb = fl_json_str(state, "ifb", NULL);
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
	fl_json_add_str(o, "device", dev);
	fl_json_add_str(o, "qdisc", c->kind);
	fl_json_add_str(o, "handle", h);
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

int netem_observe(void *handle_, json_object *out)
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
int netem_live(void *rt, json_object *out)
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
	fl_json_add_str(out, "summary", sum[0] ? sum : "no qdisc counters");
	return 0;
}
