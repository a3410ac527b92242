/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/tc.h: a device's tc state over rtnetlink (libmnl and libnl-route-3),
 * private to netem/.  Used by the netem fault and by the partition fault's
 * netem fallback.  netem/tc.c: the socket, requests, dumps, counters and
 * links; netem/tcstate.c: the saved state, its replay and the subtree.
 *
 * The saved state is JSON: every qdisc, class and filter of the device with
 * its kind, handles and the raw TCA_OPTIONS payload (hex), so that revert
 * can put the user's tree back exactly, from the journal alone.
 *
 *   { "qdiscs":  [ { "kind", "handle", "parent", "opts", ... } ],
 *     "classes": [ { "kind", "handle", "parent", "opts" } ],
 *     "filters": [ { "kind", "parent", "info", "handle", "chain", "opts" } ] }
 *
 * Every function returns 0 or -errno.  Deletions are idempotent: a missing
 * object counts as done.
 */
#ifndef FAULTLINE_NETEM_TC_H
#define FAULTLINE_NETEM_TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#define TC_BUFSZ	16384

/* The kernel's message (extended ack) for the last failed request, or "". */
const char *tc_last_error(void);

/* Start a request: a tcmsg of type (RTM_NEWQDISC...), with NLM_F_ACK. */
struct nlmsghdr *tc_msg(char *buf, int type, int flags, int ifindex,
			uint32_t parent, uint32_t handle, uint32_t info);
/* Send a request and wait for its ack. */
int tc_talk(struct nlmsghdr *nlh);
/*
 * A nested attribute without NLA_F_NESTED (as iproute2 sends TCA_OPTIONS),
 * and raw bytes appended to the message (netem's struct before its attrs).
 */
struct nlattr *tc_nest_start(struct nlmsghdr *nlh, uint16_t type);
void tc_put_raw(struct nlmsghdr *nlh, const void *data, size_t len);

/* One object of a dump. */
struct tc_obj {
	int ifindex;
	uint32_t handle, parent, info;
	char kind[32];
	const void *opts;		/* TCA_OPTIONS payload, or NULL */
	size_t optlen;
	bool has_chain;
	uint32_t chain;
	const struct nlattr *stats2;	/* TCA_STATS2, or NULL */
	const struct nlattr *tb[TCA_MAX + 1];
};

typedef int (*tc_obj_cb)(const struct tc_obj *o, void *data);
/*
 * Dump qdiscs (RTM_GETQDISC), classes or filters of ifindex; for filters,
 * parent chooses the block (a qdisc handle, a class, ffff:fff2...).
 */
int tc_dump(int type, int ifindex, uint32_t parent, tc_obj_cb cb, void *data);

/* Save every qdisc, class and filter of the device. */
int tc_state_save(int ifindex, json_object **out);
/*
 * Put the root tree back as saved: delete the current root qdisc when
 * faultline owns it (owned() says which handles are faultline's), then
 * rebuild the saved tree when it is not the device's default.
 */
int tc_state_restore_root(int ifindex, json_object *saved,
			  bool (*owned)(uint32_t handle));
/*
 * The qdisc at parent (TC_H_ROOT; TC_H_INGRESS, where ingress and clsact
 * sit) now: 1 with its handle and kind, 0 when none ("" and 0), or -errno.
 */
int tc_qdisc_at(int ifindex, uint32_t parent, uint32_t *handle, char *kind,
		size_t len);
/* The root qdisc now: its handle (0: the default) and kind. */
int tc_root_now(int ifindex, uint32_t *handle, char *kind, size_t len);
/*
 * Put the ingress side back: the saved ingress or clsact qdisc and its
 * filters when gone, none when none was saved.
 */
int tc_state_restore_ingress(int ifindex, json_object *saved);
/* The saved root (or ingress) qdisc entry, or NULL. */
json_object *tc_state_qdisc(json_object *saved, uint32_t parent);

/*
 * faultline's own subtree on a device, the part of its tc state that
 * identifies what faultline installed: the qdiscs whose handle or parent
 * is owned, the classes with an owned handle and the filters at an owned
 * parent, with kinds, handles, parents (and a filter's info and chain).
 * Options are kept for netem qdiscs alone (as the kernel reports them);
 * counters, and options that carry counters (htb's direct_pkts, u32's
 * hits), are left out, so the subtree does not change by itself.
 *   { "qdiscs": [ ... ], "classes": [ ... ], "filters": [ ... ] }
 */
int tc_subtree_save(int ifindex, bool (*owned)(uint32_t handle),
		    json_object **out);
/*
 * Compare the subtree now with a saved one: 0 the same, 1 different with
 * each difference, for people, as one line in why ("netem fa17: on eth0
 * has delay 500ms now, faultline set 10ms"; "a filter someone added
 * under fa17: on eth0 (u32, prio 9)"), or -errno.
 */
int tc_subtree_diff(int ifindex, const char *dev, json_object *saved,
		    bool (*owned)(uint32_t handle), char *why, size_t len);

/* Delete a qdisc (parent, and handle or 0); ENOENT and EINVAL are done. */
int tc_qdisc_del(int ifindex, uint32_t parent, uint32_t handle);
/* Delete a filter (its whole prio/protocol when handle is 0). */
int tc_filter_del(int ifindex, uint32_t parent, uint32_t info,
		  const char *kind);

/* A qdisc's counters, from TCA_STATS2. */
struct tc_counters {
	char kind[32];
	uint64_t bytes, packets;
	uint32_t drops, overlimits, requeues, qlen, backlog;
};
/* The qdisc with this handle (major) on ifindex; -ENOENT when none. */
int tc_qdisc_counters(int ifindex, uint32_t handle, struct tc_counters *c);
/* Its options payload (malloc'ed copy) and kind. */
int tc_qdisc_options(int ifindex, uint32_t handle, char kind[32],
		     void **opts, size_t *len);

/* The smallest filter priority not used at parent (from 1). */
int tc_free_prio(int ifindex, uint32_t parent, uint16_t *prio);

/* libnl-route-3: a libnl error as -errno; a connected rtnetlink socket. */
struct nl_sock;
int tc_nl_errno(int err);
int tc_route_open(struct nl_sock **out);

/* An ifb device (libnl-route-3), created and set up; its ifindex. */
int tc_ifb_add(const char *name, int *ifindex);
/* Delete a link by name; a missing one is done. */
int tc_link_del(const char *name);

/* Hex of bytes (malloc'ed) and back. */
char *tc_hex(const void *p, size_t len);
int tc_unhex(const char *s, void **out, size_t *len);

#endif
