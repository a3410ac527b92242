/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/partition.h: what the partition fault's files share, private to
 * them.
 *
 *   partition.c        the engine: parse, check, describe, the ops
 *   partition_local.c  where this host stands: its group, its devices
 *   partition_bpf.c    the route of choice: cls_bpf at clsact
 *   partition_netem.c  the fallback: netem 100% loss, ifb for ingress
 *
 * Every function returns 0 or -errno; apply says why through
 * fl_undo_why().
 */
#ifndef FAULTLINE_NETEM_PARTITION_H
#define FAULTLINE_NETEM_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <json-c/json.h>

#include "core/faultline.h"
#include "netem/netem_spec.h"

#define PART_MAX_DEVS	32
/* The tc priority of faultline's partition filters; handles from 1. */
#define PART_PRIO	0xfa17
/*
 * The mark of a clsact faultline added: program part_mark at ingress,
 * this priority, handle 1 (netem/partition.bpf.c says why).
 */
#define PART_MARK_PRIO	0xfa16
#define PART_MARK_HANDLE	1

/* The mechanism on a host in no group: what plan, run and the report say. */
#define PART_NO_GROUP	"none here: this host is in no group, nothing is cut"

/* Where this host stands: its group and the devices that carry peers. */
struct part_local {
	int group;			/* 0-based, -1: in no group */
	bool ambiguous;			/* addresses in several groups */
	char addr[64], addr_dev[IFNAMSIZ];
	char devs[PART_MAX_DEVS][IFNAMSIZ];
	size_t ndevs;
};

void part_find_local(const struct partition_spec *s, struct part_local *l);
/* Group gi is cut from group (one-way: the first group from the others). */
bool part_is_peer(const struct partition_spec *s, int group, size_t gi);
/*
 * fn(host, gi, arg) for each prefix that group is cut from (gi: the
 * prefix's group), in order; a nonzero return stops the walk and is
 * returned.
 */
int part_for_each_peer(const struct partition_spec *s, int group,
		       int (*fn)(const struct fl_cidr *h, size_t gi,
				 void *arg), void *arg);
/* How many prefixes group is cut from. */
size_t part_npeers(const struct partition_spec *s, int group);
/* The peer prefixes for the report (the first 64). */
void part_peer_list(const struct partition_spec *s, int group,
		    json_object *peers);

/*
 * An applied partition, the handle the runner keeps for observe and
 * release: the route's own state and what the report lists.
 */
struct partition;			/* the BPF skeleton */

struct part_rt {
	bool one_way;
	int group;
	size_t npeers;
	json_object *peers, *devices;
	struct partition *skel;		/* BPF route, else NULL */
	bool prepared;			/* skel loaded before the timeline */
	json_object *ifbs;		/* netem route: the ifb devices */
};

/* The BPF route: the record's "mechanism" is "bpf". */
int part_apply_bpf(const struct partition_spec *s, struct fl_undo *u,
		   const struct part_local *l, struct part_rt *rt);
int part_revert_bpf(json_object *state);
/*
 * Before the timeline: the program loaded, its trie filled, the record
 * saved through u (apply finds them in u->prep).
 */
int part_prepare_bpf(const struct fl_fault *f, struct fl_undo *u,
		     void **prep);
void part_unprepare_bpf(void *prep);
int part_observe_bpf(const struct part_rt *rt, json_object *out);
void part_release_bpf(struct part_rt *rt);

/* The netem fallback: the record's "mechanism" is "netem". */
int part_apply_netem(const struct fl_fault *f, struct fl_undo *u,
		     const struct part_local *l, struct part_rt *rt);
int part_revert_netem(json_object *state);
int part_observe_netem(const struct part_rt *rt, json_object *out);

#endif
