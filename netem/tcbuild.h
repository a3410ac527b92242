/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/tcbuild.h: the netem fault's tc building blocks (netem/tcbuild.c),
 * private to netem/: the classful parent fa17:, the netem leaf, u32
 * filters, the ifb and its mirred hook, and the undo record of one
 * device.  The partition fault's netem fallback builds its trees with
 * them, and reverts each device through the netem engine's revert.
 *
 * Every function returns 0 or -errno; on error it has said why through
 * fl_undo_why(a->u) (when a->u is set).
 */
#ifndef FAULTLINE_NETEM_TCBUILD_H
#define FAULTLINE_NETEM_TCBUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include <linux/pkt_cls.h>

#include "netem/netem_spec.h"

struct netem_applier {
	const struct fl_fault *f;
	struct fl_undo *u;		/* where a failure's reason goes */
	const struct netem_spec *s;	/* the netem options of the leaf */
	char *buf;			/* TC_BUFSZ */
	uint32_t limit;			/* the leaf's packet limit */
};

/* Say "msg: strerror: kernel's message" through fl_undo_why; returns err. */
int netem_fail(struct netem_applier *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Can this kernel make a qdisc of kind (netem_has_qdisc, yes or no)? */
bool netem_kernel_has(const char *kind);
/* The link speed in bit/s from sysfs, or 10gbit when the device does not say. */
uint64_t netem_link_speed(const char *dev);
/* "prio" where the kernel has it, else "htb"; FAULTLINE_NETEM_PARENT. */
const char *netem_parent_kind(void);
/* Handles faultline owns (fa17:, fa18:), for tc_state_restore_root. */
bool netem_owned(uint32_t handle);
/*
 * The lock of a device, for resources: "dev:INO:NAME", with the inode of
 * this thread's network namespace (device names repeat across them).
 */
int netem_dev_lock(const char *dev, json_object *out);
/* The ifb device name faultline uses for fault f and device dev. */
void netem_ifb_name(const struct fl_fault *f, const char *dev, char *buf,
		    size_t len);

/* u32 selector keys: one word at off, or a prefix (IPv4 or IPv6). */
void netem_u32_key(struct tc_u32_sel *sel, uint32_t mask, uint32_t val,
		   int off);
void netem_u32_prefix(struct tc_u32_sel *sel, const struct fl_cidr *c,
		      int off);
/* A terminal u32 filter to classid, or with a mirred redirect. */
int netem_add_u32(struct netem_applier *a, int ifindex, uint32_t parent,
		  uint16_t prio, uint16_t proto, struct tc_u32_sel *sel,
		  uint32_t classid, int mirred_to);
int netem_add_qdisc(struct netem_applier *a, int ifindex, uint32_t parent,
		    uint32_t handle, const char *kind, int flags,
		    const void *opt, size_t len, const char *dev);
/*
 * The u32 filters just added under the root are there when read back;
 * otherwise a message ("the WHAT filters are not on DEV after apply").
 */
int netem_u32_there(struct netem_applier *a, int ifindex, const char *what,
		    const char *dev);

/*
 * The root fa17: of netem_parent_kind(): prio with 3 bands (a zero
 * priomap, so unfiltered traffic takes fa17:1), or htb (default 0, so
 * unfiltered traffic is sent directly) with class fa17:2.
 */
int netem_add_parent(struct netem_applier *a, int ifindex, const char *dev);
/* The netem qdisc of a->s at parent with handle, read back and compared. */
int netem_add_leaf(struct netem_applier *a, int ifindex, uint32_t parent,
		   uint32_t handle, const char *dev);
/*
 * The netem fault's tree on one device: the leaf at the root, or, with a
 * match, the parent, the leaf at fa17:2 and the u32 filters of the match
 * (read back).
 */
int netem_add_tree(struct netem_applier *a, int ifindex, const char *dev);

/* Ingress through an ifb: where the mirred filter goes on a device. */
struct netem_ingress {
	uint32_t parent, info;
	uint16_t prio;
	bool add_qdisc;			/* no ingress/clsact: add one */
};

int netem_ingress_plan(struct netem_applier *a, int ifindex,
		       json_object *saved, const char *dev,
		       struct netem_ingress *in);
int netem_ifb_add(struct netem_applier *a, const char *ifb, int *ifb_index);
/* The ingress qdisc when planned, and the mirred filter to the ifb. */
int netem_ingress_hook(struct netem_applier *a, int ifindex,
		       const struct netem_ingress *in, int ifb_index,
		       const char *dev);

/*
 * The undo record of one device, which netem_engine.revert takes:
 * the saved tc state (tc_state_save), whether the root was replaced
 * (egress), and the ifb with its mirred filter (in, or NULL).
 */
json_object *netem_record(const char *dev, int ifindex, bool egress,
			  const char *ifb, const struct netem_ingress *in,
			  json_object *saved);

#endif
