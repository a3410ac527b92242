// SPDX-License-Identifier: GPL-2.0-only
/*
 * The partition's clsact side, from the kernel's state and the record
 * alone: what sits at a device's clsact (the qdisc, faultline's mark, the
 * filters by owner), and the revert of the cls_bpf route, which the
 * runner, the guardian and recover run alike.  It detaches each filter
 * of the record by priority and handle when it still runs faultline's
 * program, and removes the clsact faultline added with the last
 * partition filter on the device (netem/partition_bpf.c says how the
 * record names them).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpfault.h"
#include "bpf/bpflog.h"
#include "netem/netem.h"
#include "netem/partition.h"
#include "netem/partition_tc.h"
#include "netem/tc.h"

/* ------------------------------------------------------------------ */
/* What sits at clsact, and whether filters remain there.              */

struct clsact_seen {
	int found;		/* qdisc: 1 when seen; filters: count */
	char kind[32];
};

static int qdisc_cb(const struct tc_obj *o, void *data)
{
	struct clsact_seen *c = data;

	if (o->parent != TC_H_CLSACT)
		return 0;
	c->found = 1;
	snprintf(c->kind, sizeof(c->kind), "%s", o->kind);
	return 0;
}

/* What clsact's hooks hold: partition filters, the mark, others. */
struct clsact_filters {
	int part, mark, other;
};

static int filter_cb(const struct tc_obj *o, void *data)
{
	struct clsact_filters *c = data;
	uint32_t prio = TC_H_MAJ(o->info) >> 16;

	/* A tcf_proto's header (handle 0, no options) is not a filter. */
	if (!o->handle && !o->opts)
		return 0;
	if (prio == PART_PRIO)
		c->part++;
	else if (prio == PART_MARK_PRIO)
		c->mark++;
	else
		c->other++;
	return 0;
}

/*
 * 1 with its kind ("clsact", "ingress") when ifindex has one, 0 if not.
 * Both sit at ffff:fff1, TC_H_CLSACT (TC_H_INGRESS is the same value).
 */
int part_clsact_kind(int ifindex, char *kind, size_t len)
{
	struct clsact_seen c = { 0 };
	int ret;

	ret = tc_dump(RTM_GETQDISC, ifindex, 0, qdisc_cb, &c);
	if (ret)
		return ret;
	snprintf(kind, len, "%s", c.kind);
	return c.found;
}

/* The filters clsact's two hooks of ifindex hold now, by owner. */
static int clsact_filters(int ifindex, struct clsact_filters *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = tc_dump(RTM_GETTFILTER, ifindex,
		      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), filter_cb, c);
	if (!ret)
		ret = tc_dump(RTM_GETTFILTER, ifindex,
			      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
			      filter_cb, c);
	return ret;
}

/* The program id at the mark's slot of ifindex's clsact, or 0. */
__u32 part_mark_slot(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = PART_MARK_HANDLE,
			    .priority = PART_MARK_PRIO);

	return bpf_tc_query(&hook, &q) ? 0 : q.prog_id;
}

/* The program id of faultline's mark on ifindex's clsact, or 0. */
__u32 part_mark_id(int ifindex)
{
	__u32 id = part_mark_slot(ifindex);
	char name[64];

	if (!id || bpfault_prog_name(id, name, sizeof(name), NULL) ||
	    strcmp(name, NETEM_MARK_PROG))
		return 0;
	return id;
}

/* Which hook a record's direction names. */
enum bpf_tc_attach_point part_hook_of(const char *dir)
{
	return !strcmp(dir, "egress") ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* ------------------------------------------------------------------ */
/* Revert, from the record alone.                                      */

/* The device of the record: its index, unless it was renamed or remade. */
static int rec_ifindex(json_object *dj, const char *dev)
{
	char name[IF_NAMESIZE];
	int ifindex;

	ifindex = json_object_get_int(json_object_object_get(dj, "ifindex"));
	if (!if_indextoname(ifindex, name) || strcmp(name, dev))
		ifindex = if_nametoindex(dev);
	return ifindex;
}

/*
 * Is there anything of ours left at clsact?  1 yes, 0 no (gone with the
 * device or the qdisc, or never there).  No clsact where the record says
 * faultline adds one, or found another fault's, is nothing to say: not
 * added yet (a record saved at prepare), or gone with the last
 * partition; the user's gone is said, and so is an ingress qdisc of
 * someone's where faultline's clsact was to be (it stays).
 */
static int clsact_left(int ifindex, const char *dev, const char *owner)
{
	char kind[32];
	int has;

	if (!ifindex) {
		/* The device is gone, and our filters with it. */
		fl_warn("partition: device %s vanished during the drill; its qdiscs went with it: nothing to revert there",
			dev);
		return 0;
	}
	has = part_clsact_kind(ifindex, kind, sizeof(kind));
	if (has <= 0) {
		if (!has && !strcmp(owner, "theirs"))
			fl_warn("partition: %s: someone removed the clsact qdisc during the drill, and our filters with it: nothing to revert there",
				dev);
		return has;
	}
	if (!strcmp(kind, "clsact"))
		return 1;
	/* Not clsact: ours is gone (or never came), with its filters. */
	if (strcmp(owner, "ours"))
		return 0;
	fl_warn("partition: %s: an '%s' qdisc of someone's is where faultline's filters were to be; nothing of faultline's is left there, and theirs stays",
		dev, kind);
	return 0;
}

/*
 * Detach one filter of the record, when it still runs faultline's
 * program.  Someone else's filter at our priority and handle replaced
 * ours during the drill: leave it, say so, and keep the record (-EBUSY).
 */
static int detach_filter(int ifindex, const char *dev, json_object *fj)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	long long prog = json_object_get_int64(json_object_object_get(fj,
								   "prog"));
	const char *dir = fl_json_str(fj, "dir", "");
	int ret;

	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q,
		.handle = json_object_get_int(json_object_object_get(fj,
								     "handle")),
		.priority = json_object_get_int(json_object_object_get(fj,
								       "prio")));
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = q.handle,
			    .priority = q.priority);
	hook.attach_point = part_hook_of(dir);
	ret = bpf_tc_query(&hook, &q);
	if (ret == -ENOENT || ret == -EINVAL)
		return 0;	/* no such filter, or no chain */
	if (ret)
		return ret;
	if (q.prog_id != (__u32)prog) {
		fl_err("partition: %s: the %s filter at priority %d handle %d is not faultline's any more (BPF program %u, not %lld): someone replaced it during the drill; leaving theirs in place (the undo record stays: remove it and run 'faultline recover' to finish)",
		       dev, dir, q.priority, q.handle, q.prog_id, prog);
		return -EBUSY;
	}
	ret = bpf_tc_detach(&hook, &o);
	return ret == -ENOENT ? 0 : ret;
}

/* Detach faultline's mark (someone's filters keep the clsact). */
static int drop_mark(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = PART_MARK_HANDLE,
			    .priority = PART_MARK_PRIO);
	int ret;

	if (!part_mark_id(ifindex))
		return 0;
	ret = bpf_tc_detach(&hook, &o);
	return ret == -ENOENT || ret == -EINVAL ? 0 : ret;
}

/*
 * A clsact faultline added (this fault or another partition): it goes
 * with the last partition filter on the device.  While another fault's
 * filters remain, they keep it (the last to leave removes it); when
 * someone else's filters remain, it stays theirs, without the mark.  One
 * without the mark is not faultline's (a record of prepare's whose clsact
 * someone added before apply): it stays.
 */
static int drop_clsact(int ifindex, const char *dev)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct clsact_filters c;
	int ret;

	ret = clsact_filters(ifindex, &c);
	if (ret < 0)
		return ret == -ENODEV ? 0 : ret;
	/* Another fault's partition still cuts here; or no mark: not a
	 * clsact faultline added, or its mark is gone: not ours to remove. */
	if (c.part || !c.mark)
		return 0;
	if (c.other) {
		fl_warn("partition: %s: leaving the clsact qdisc faultline added, because it now holds %d filter(s) of someone else (or of a netem fault's ingress, which removes it)",
			dev, c.other);
		return drop_mark(ifindex);
	}
	ret = bpf_tc_hook_destroy(&hook);
	return ret == -ENOENT || ret == -EINVAL ? 0 : ret;
}

static int revert_dev(json_object *dj)
{
	const char *dev = fl_json_str(dj, "dev", "");
	const char *owner = fl_json_str(dj, "clsact", "");
	bool ours = !strcmp(owner, "ours");
	json_object *filters = json_object_object_get(dj, "filters");
	int ifindex, ret, err = 0;
	size_t k;

	ifindex = rec_ifindex(dj, dev);
	ret = clsact_left(ifindex, dev, owner);
	if (ret <= 0)
		return ret;
	for (k = 0; k < json_object_array_length(filters); k++) {
		ret = detach_filter(ifindex, dev,
				    json_object_array_get_idx(filters, k));
		if (ret && !err)
			err = ret;
	}
	/* Healed once the last filter is gone; the qdisc is tidying. */
	fl_effect_mark();
	if (err || (!ours && strcmp(owner, "faultline")))
		return err;
	return drop_clsact(ifindex, dev);
}

/*
 * Detach every filter of the record by its priority and handle (in the
 * record's network namespace, where core runs it), and the clsact
 * faultline added.  The programs stay loaded until release destroys the
 * skeleton, or until the runner exits.
 */
int part_revert_bpf(json_object *state)
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
			fl_err("partition: %s: %s", fl_json_str(dj, "dev", ""),
			       strerror(-ret));
			err = err ? err : ret;
		}
	}
	bpf_log_end(&log);
	return err;
}
