// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition's route of choice: one cls_bpf direct-action program per
 * device and direction at clsact (netem/partition.bpf.c), with an LPM
 * trie of the peers' prefixes and the keep rules in read-only data.
 *
 * The undo record names, per device, whether this fault adds the clsact
 * qdisc ("ours"), found one another partition fault added ("faultline":
 * it carries faultline's mark, see PART_MARK_PRIO) or found the user's
 * ("theirs"), and each filter by direction, priority, handle and program
 * id: revert detaches them from the record alone, and leaves a filter
 * that someone else put in their place.  A clsact faultline added goes
 * with the last partition filter on the device, whichever fault held it,
 * so that faults overlapping on one device leave it as it was.
 *
 * The record is written at prepare, before the timeline: each filter's
 * handle is the id of the fault's own egress program, so that no record
 * names a slot another fault takes.  What it names is attached then
 * too, switched off: the clsact it adds, with the mark (a filter that
 * passes every packet), and its filters, whose programs pass every
 * packet until the switch (a global in the programs' .bss) is on; their
 * filters keep a clsact that another fault's revert would remove.  Until
 * apply, the record's revert detaches them, so it leaves the device as
 * it was.  Apply checks cheaply that the record still holds (attaching
 * again what went) and saves it again only when it does not; then the
 * switch is one store into the mmapped .bss.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpfault.h"
#include "bpf/bpflog.h"
#include "netem/netem.h"
#include "netem/partition.h"
#include "netem/partition_bpf.h"
#include "netem/partition_tc.h"
#include "netem/tc.h"
#include "netem/partition.skel.h"

#define PART_MAX_HANDLE	64

/* ------------------------------------------------------------------ */
/* Apply.                                                              */

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

/* The peers map: each peer prefix to its group. */
static int fill_peer(const struct fl_cidr *h, size_t gi, void *arg)
{
	struct partition *skel = arg;
	struct part_key k;
	__u32 g = gi;

	v4mapped(h, &k);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.peers), &k, &g,
				BPF_ANY))
		return -errno;
	return 0;
}

static int fill_peers(const struct partition_spec *s, int group,
		      struct partition *skel)
{
	return part_for_each_peer(s, group, fill_peer, skel);
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

/* Handle h is free at PART_PRIO in both hooks of ifindex. */
static bool handle_free(int ifindex, __u32 h)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	int d, ret;

	for (d = 0; d < 2; d++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = h,
				    .priority = PART_PRIO);

		hook.attach_point = d ? BPF_TC_INGRESS : BPF_TC_EGRESS;
		ret = bpf_tc_query(&hook, &o);
		/* No chain at that priority says EINVAL. */
		if (ret != -ENOENT && ret != -EINVAL)
			return false;
	}
	return true;
}

/*
 * The fault's handle at PART_PRIO on ifindex: the id of its egress
 * program (unique while it is loaded, so that two faults' records never
 * name one slot, even written before either is applied), or, when
 * someone holds that one, the first free.
 */
static __u32 pick_handle(int ifindex, bool has_clsact, __u32 own)
{
	__u32 h;

	if (own && (!has_clsact || handle_free(ifindex, own)))
		return own;
	for (h = 1; h <= PART_MAX_HANDLE; h++)
		if (!has_clsact || handle_free(ifindex, h))
			return h;
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

	fl_json_add_str(fj, "dir", ingress ? "ingress" : "egress");
	json_object_object_add(fj, "prio", json_object_new_int(PART_PRIO));
	json_object_object_add(fj, "handle", json_object_new_int(handle));
	json_object_object_add(fj, "prog", json_object_new_int64(prog));
	return fj;
}

/* What build_state found on a device, besides its record. */
struct dev_seen {
	bool add;		/* no clsact: faultline adds one */
	bool attached;		/* this fault's filters are on it (prepare's) */
};

/*
 * Handle h at PART_PRIO of ifindex, in each direction wanted: free, or
 * holding this fault's program (*n counts those); -EBUSY when someone
 * else's filter holds it.
 */
static int own_slot(int ifindex, __u32 h, const __u32 prog[2],
		    const bool want[2], int *n)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	int d, ret;

	*n = 0;
	for (d = 0; d < 2; d++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = h,
				    .priority = PART_PRIO);

		if (!want[d])
			continue;
		hook.attach_point = d ? BPF_TC_INGRESS : BPF_TC_EGRESS;
		ret = bpf_tc_query(&hook, &q);
		if (ret == -ENOENT || ret == -EINVAL)
			continue;	/* free: no such filter, or no chain */
		if (ret)
			return ret;
		if (q.prog_id != prog[d])
			return -EBUSY;
		(*n)++;
	}
	return 0;
}

/*
 * The record of one device (added to devs): its clsact, whether faultline
 * adds it ("ours") or it was there ("theirs"), and the filters to attach.
 * A clsact that carries this fault's own mark is "ours" too, made by its
 * prepare, and the fault's handle may hold its filters already, attached
 * by prepare: *seen says what is missing.
 */
static int record_dev(struct fl_undo *u, const char *dev,
		      struct partition *skel, bool egress, bool ingress,
		      json_object *devs, struct dev_seen *seen)
{
	__u32 own_mark = prog_id(skel->progs.part_mark);
	__u32 own = prog_id(skel->progs.part_egress);
	const bool want[2] = { egress, ingress };
	bool l3 = l3_device(dev), mine;
	json_object *dj, *filters;
	int ifindex, has, n = 0;
	__u32 h, prog[2];
	char kind[32];

	ifindex = if_nametoindex(dev);
	if (!ifindex)
		return 0;	/* gone since getifaddrs */
	has = part_clsact_kind(ifindex, kind, sizeof(kind));
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
	mine = has && own_mark && part_mark_slot(ifindex) == own_mark;
	prog[0] = prog_id(prog_of(skel, false, l3));
	prog[1] = prog_id(prog_of(skel, true, l3));
	h = own;
	if (!own || (has && own_slot(ifindex, own, prog, want, &n)))
		h = pick_handle(ifindex, has, 0);
	seen->add = !has;
	seen->attached = h == own && n == egress + ingress;
	if (!h) {
		fl_undo_why(u, "%s: no free filter handle at priority %u", dev,
			    PART_PRIO);
		return -EBUSY;
	}
	dj = json_object_new_object();
	fl_json_add_str(dj, "dev", dev);
	json_object_object_add(dj, "ifindex", json_object_new_int(ifindex));
	fl_json_add_str(dj, "clsact", !has || mine ? "ours" :
			part_mark_id(ifindex) ? "faultline" : "theirs");
	if (!has || mine)
		json_object_object_add(dj, "mark",
				       json_object_new_int64(own_mark));
	filters = json_object_new_array();
	if (egress)
		json_object_array_add(filters, filter_record(false, h,
							     prog[0]));
	if (ingress)
		json_object_array_add(filters, filter_record(true, h,
							     prog[1]));
	json_object_object_add(dj, "filters", filters);
	json_object_array_add(devs, dj);
	return 0;
}

/*
 * The clsact missing from the device (the record says faultline adds it,
 * or another partition fault's went since), added with this fault's
 * mark, which tells revert it is faultline's; someone's made meanwhile
 * is kept.
 */
static int add_clsact(struct fl_undo *u, json_object *state, json_object *dj,
		      struct bpf_tc_hook *hook, const char *dev,
		      struct partition *skel)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = PART_MARK_HANDLE,
			    .priority = PART_MARK_PRIO);
	int ret;

	hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	ret = bpf_tc_hook_create(hook);
	if (ret == -EEXIST) {
		/* Someone else's, made meanwhile: keep it. */
		fl_json_add_str(dj, "clsact", "theirs");
		json_object_object_del(dj, "mark");
		ret = fl_undo_save_netns(u, state);
	} else if (!ret) {
		hook->attach_point = BPF_TC_INGRESS;
		o.prog_fd = bpf_program__fd(skel->progs.part_mark);
		ret = bpf_tc_attach(hook, &o);
		if (ret) {
			fl_undo_why(u, "%s: cannot attach faultline's mark to the clsact qdisc: %s",
				    dev, strerror(-ret));
			/* Unmarked, revert would take it for someone's. */
			hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(hook);
		}
		return ret;
	}
	if (ret)
		fl_undo_why(u, "%s: cannot add the clsact qdisc: %s", dev,
			    strerror(-ret));
	return ret;
}

/* Make one device's record true: clsact (when missing), then each filter. */
static int attach_dev(struct fl_undo *u, json_object *state, json_object *dj,
		      struct partition *skel, bool add)
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
	ret = add ? add_clsact(u, state, dj, &hook, dev, skel) : 0;
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
		hook.attach_point = part_hook_of(dir);
		o.prog_fd = bpf_program__fd(prog_of(skel,
				hook.attach_point == BPF_TC_INGRESS, l3));
		ret = bpf_tc_attach(&hook, &o);
		if (ret == -EEXIST && !bpf_tc_query(&hook, &o) &&
		    o.prog_id == json_object_get_int64(
				json_object_object_get(fj, "prog")))
			ret = 0;	/* attached by prepare */
		if (ret) {
			fl_undo_why(u, "%s: cannot attach the %s filter: %s",
				    dev, dir, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * What the record names and the devices lack: the clsact, with the
 * mark, and the filters.  Their programs pass every packet until the
 * switch is on.
 */
static int attach_all(struct fl_undo *u, json_object *state,
		      struct partition *skel, const struct dev_seen *seen)
{
	json_object *devs = json_object_object_get(state, "devices");
	size_t i;
	int ret = 0;

	for (i = 0; i < json_object_array_length(devs) && !ret; i++)
		if (!seen[i].attached)
			ret = attach_dev(u, state,
					 json_object_array_get_idx(devs, i),
					 skel, seen[i].add);
	return ret;
}

/*
 * The programs' switch (partition.bpf.c): a store into the mmapped .bss,
 * no system call; else one map update.
 */
static int part_switch(struct partition *skel, __u32 on)
{
	struct partition__bss v = { .part_on = on };
	__u32 zero = 0;

	if (skel->bss) {
		__atomic_store_n(&skel->bss->part_on, on, __ATOMIC_SEQ_CST);
		return 0;
	}
	return bpf_map__update_elem(skel->maps.bss, &zero, sizeof(zero), &v,
				    sizeof(v), BPF_ANY);
}

/*
 * The record: each device that carries peers with its clsact and the
 * filters to attach, as apply makes them true (*out, or -errno and why).
 */
static int build_state(const struct partition_spec *s, struct fl_undo *u,
		       const struct part_local *l, struct partition *skel,
		       json_object **out, struct dev_seen *seen)
{
	bool egress = !s->one_way || l->group == 0;
	bool ingress = !s->one_way || l->group != 0;
	json_object *state, *devs;
	size_t i;
	int ret = 0;

	state = json_object_new_object();
	fl_json_add_str(state, "mechanism", "bpf");
	devs = json_object_new_array();
	json_object_object_add(state, "devices", devs);
	for (i = 0; i < l->ndevs && !ret; i++)
		ret = record_dev(u, l->devs[i], skel, egress, ingress, devs,
				 &seen[json_object_array_length(devs)]);
	if (ret) {
		json_object_put(state);
		state = NULL;
	}
	*out = state;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Prepare: the program loaded, its trie filled and the record saved    */
/* before the timeline.                                                */

/* What prepare made: a program for this host's group then, its record. */
struct part_prep {
	int group;
	struct partition *skel;
	json_object *state;		/* as saved, or NULL: not saved */
};

void part_unprepare_bpf(void *prep)
{
	struct part_prep *p = prep;

	if (!p)
		return;
	partition__destroy(p->skel);
	json_object_put(p->state);
	free(p);
}

/*
 * Load the program, fill the trie for the group this host is in now,
 * save the record, and attach what it names, switched off: the clsact
 * with the fault's mark, and the filters, whose programs pass every
 * packet until apply turns the switch on.  Until then the record's
 * revert detaches those filters and removes that clsact (marked,
 * holding nothing else), so it leaves the device as it was.  A program
 * that does not load here is left to apply, which says why (or takes
 * netem's route).
 */
int part_prepare_bpf(const struct fl_fault *f, struct fl_undo *u, void **prep)
{
	const struct partition_spec *s = f->priv;
	struct dev_seen seen[PART_MAX_DEVS] = { { false } };
	json_object *state = NULL;
	struct part_local l;
	struct part_prep *p;
	struct bpf_log log;
	char why[1024];
	int ret;

	*prep = NULL;
	if (!s)
		return 0;
	part_find_local(s, &l);
	if (l.group < 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->group = l.group;
	bpf_log_begin(&log);
	ret = load_prog(s, part_npeers(s, l.group), &p->skel, &log, why,
			sizeof(why));
	if (!ret)
		ret = fill_peers(s, l.group, p->skel);
	if (ret) {
		bpf_log_end(&log);
		part_unprepare_bpf(p);
		return 0;
	}
	ret = build_state(s, u, &l, p->skel, &state, seen);
	if (!ret)
		ret = fl_undo_save_netns(u, state);
	/* Saved, even if an attach fails next: apply attaches the rest. */
	if (!ret)
		p->state = json_object_get(state);
	if (!ret)
		ret = attach_all(u, state, p->skel, seen);
	bpf_log_end(&log);
	/* Not saved: apply takes the program and saves the record. */
	json_object_put(state);
	*prep = p;
	return ret;
}

/*
 * The prepared program, when it was made for the group this host is in
 * now (its addresses may have moved since): taken over from u->prep,
 * with the record prepare saved (*saved, NULL when it saved none).
 */
static bool take_prepared(struct fl_undo *u, struct part_rt *rt,
			  json_object **saved)
{
	struct part_prep *p = u->prep;

	if (!p || !p->skel)
		return false;
	if (p->group != rt->group) {
		/* Made for another group: what it attached goes first, as
		 * apply's record takes the place of prepare's. */
		if (p->state)
			part_revert_bpf(p->state);
		return false;
	}
	rt->skel = p->skel;
	rt->prepared = true;
	p->skel = NULL;
	*saved = p->state;
	p->state = NULL;
	part_unprepare_bpf(p);
	u->prep = NULL;
	return true;
}

/* The program loaded with its keep rules and a trie of the peers. */
static int prepare_bpf(const struct partition_spec *s, struct fl_undo *u,
		       struct part_rt *rt, const struct bpf_log *log,
		       json_object **saved)
{
	char why[1024];
	int ret;

	*saved = NULL;
	if (take_prepared(u, rt, saved))
		return 0;
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

/*
 * One device as prepare recorded it: as found now, or with another
 * partition fault's clsact ("faultline") gone since, which this one adds
 * (its revert, like that one's, removes it with the last partition
 * filter).
 */
static bool dev_holds(json_object *was, json_object *now, bool add)
{
	json_object *cmp = NULL;
	bool ok;

	if (json_object_equal(was, now))
		return true;
	if (!add || strcmp(fl_json_str(was, "clsact", ""), "faultline") ||
	    json_object_deep_copy(now, &cmp, NULL))
		return false;
	fl_json_add_str(cmp, "clsact", "faultline");
	json_object_object_del(cmp, "mark");
	ok = json_object_equal(was, cmp);
	json_object_put(cmp);
	return ok;
}

/*
 * The record prepare saved still holds: the same devices, each with its
 * clsact found as then (faultline's, theirs; or ours, made then or
 * missing since), the same handles and programs, in the same network
 * namespace.
 */
static bool still_holds(json_object *saved, json_object *state,
			const struct dev_seen *seen)
{
	json_object *was = fl_json_get(saved, "devices");
	json_object *now = fl_json_get(state, "devices");
	struct fl_netns_id id;
	size_t i, n;
	char ns[48];

	if (!saved || !was || !now || fl_netns_self(&id))
		return false;
	fl_netns_str(&id, ns, sizeof(ns));
	n = json_object_array_length(now);
	if (strcmp(fl_json_str(saved, "netns", ""), ns) ||
	    json_object_array_length(was) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!dev_holds(json_object_array_get_idx(was, i),
			       json_object_array_get_idx(now, i),
			       seen[i].add))
			return false;
	return true;
}

static int apply_bpf_quiet(const struct partition_spec *s, struct fl_undo *u,
			   const struct part_local *l, struct part_rt *rt,
			   const struct bpf_log *log)
{
	struct dev_seen seen[PART_MAX_DEVS] = { { false } };
	json_object *state = NULL, *saved, *devs;
	size_t i;
	int ret;

	ret = prepare_bpf(s, u, rt, log, &saved);
	if (ret)
		return ret;

	/*
	 * Everything that undoes it, in the journal before any change:
	 * prepare's record when it still holds, else saved again now.
	 */
	ret = build_state(s, u, l, rt->skel, &state, seen);
	if (ret)
		goto out;
	if (u->seq > 0 && still_holds(saved, state, seen)) {
		json_object_put(state);
		state = json_object_get(saved);
	} else {
		ret = fl_undo_save_netns(u, state);
		if (ret)
			goto out;
	}

	/* What prepare did not attach (or what went since), still off. */
	ret = attach_all(u, state, rt->skel, seen);
	if (ret)
		goto out;
	devs = json_object_object_get(state, "devices");
	for (i = 0; i < json_object_array_length(devs); i++)
		json_object_array_add(rt->devices, json_object_get(
				json_object_object_get(
					json_object_array_get_idx(devs, i),
					"dev")));
	/* The partition holds from the switch. */
	ret = part_switch(rt->skel, 1);
	if (ret)
		fl_undo_why(u, "cannot turn the partition's programs on: %s",
			    strerror(-ret));
	else
		fl_effect_mark();
out:
	json_object_put(saved);
	json_object_put(state);
	return ret;
}

/* libbpf's netlink messages stay out of the terminal; errors say why. */
int part_apply_bpf(const struct partition_spec *s, struct fl_undo *u,
		   const struct part_local *l, struct part_rt *rt)
{
	struct bpf_log log;
	int ret;

	bpf_log_begin(&log);
	ret = apply_bpf_quiet(s, u, l, rt, &log);
	bpf_log_end(&log);
	return ret;
}


/* ------------------------------------------------------------------ */
/* Observe and release.                                                */

/* The program's counters, summed over the CPUs. */
int part_observe_bpf(const struct part_rt *rt, json_object *out)
{
	static const char *const names[PART_NR_COUNTERS] = {
		[PART_DROP_EGRESS] = "egress",
		[PART_DROP_INGRESS] = "ingress",
		[PART_KEPT_EGRESS] = "egress",
		[PART_KEPT_INGRESS] = "ingress",
	};
	json_object *dropped, *kept;
	int ncpu, fd, c;
	__u64 *v, sum;
	__u32 key;

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
		sum = 0;
		if (!bpf_map_lookup_elem(fd, &key, v))
			for (c = 0; c < ncpu; c++)
				sum += v[c];
		json_object_object_add(key < PART_KEPT_EGRESS ? dropped : kept,
				       names[key], json_object_new_uint64(sum));
	}
	free(v);
	fl_json_add_str(out, "mechanism", "bpf");
	json_object_object_add(out, "prepared",
			       json_object_new_boolean(rt->prepared));
	json_object_object_add(out, "dropped", dropped);
	json_object_object_add(out, "kept", kept);
	return 0;
}

/* The programs and maps go with their last descriptor. */
void part_release_bpf(struct part_rt *rt)
{
	partition__destroy(rt->skel);
	rt->skel = NULL;
}
