/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/link.h: the link fault, private to netem/: a device taken down
 * (IFF_UP cleared) or its carrier set off over rtnetlink, and put back
 * as it was.  netem/link.c: the schema, the plan and the ops table;
 * netem/link_dev.c: reading and changing a device (libnl-route-3, and
 * libmnl through netem/tc.c for its marker); netem/link_guard.c: the
 * lockout guard (the default route, SSH sessions); netem/link_apply.c:
 * apply, revert, live, observe and the leftover scan.
 *
 * The undo record, from which revert works alone, in the device's network
 * namespace ("netns", fl_undo_save_netns):
 *   { "device", "ifindex", "mode": "down" | "carrier",
 *     "flags": the device's flags before (IFF_*), "carrier": 0 | 1,
 *     "marker": the altname that marks the device, or null,
 *     "during": { "flags", "carrier" } once the change is made }
 */
#ifndef FAULTLINE_NETEM_LINK_H
#define FAULTLINE_NETEM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "core/faultline.h"

enum link_mode {
	LINK_DOWN,		/* clear IFF_UP: ip link set DEV down */
	LINK_CARRIER,		/* IFLA_CARRIER 0: ip link set DEV carrier off */
};

extern const char *const link_mode_names[];

struct link_spec {
	char *device;
	enum link_mode mode;
	bool allow_lockout;
};

/* A device now, as rtnetlink tells it. */
struct link_now {
	int ifindex;
	unsigned int flags;		/* IFF_* as the kernel reports them */
	int carrier;			/* 1 on, 0 off */
	int operstate;			/* IF_OPER_* */
	char kind[32];			/* IFLA_INFO_KIND ("veth"), or "" */
	uint64_t rx_packets, tx_packets, rx_dropped, tx_dropped;
};

/* linux/if.h's, which glibc's net/if.h leaves out. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP	0x10000
#endif
#ifndef IFF_DORMANT
#define IFF_DORMANT	0x20000
#endif
#ifndef IFF_ECHO
#define IFF_ECHO	0x40000
#endif

/*
 * The flags a change of ours or someone else's shows in: the
 * administrative ones, without those that follow the carrier and
 * operstate (RUNNING, LOWER_UP, DORMANT) or the driver (ECHO).
 */
#define LINK_ADMIN_FLAGS(f) \
	((f) & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT | IFF_ECHO))

/* netem/link_dev.c.  Each returns 0 or -errno (-ENODEV: no such device). */
int link_read(int ifindex, struct link_now *n);
/* Set IFF_UP (up) or clear it, and nothing else. */
int link_set_up(int ifindex, bool up);
/* Set the carrier (IFLA_CARRIER); -EOPNOTSUPP where the driver cannot. */
int link_set_carrier(int ifindex, bool on);
/* "up,broadcast,running,multicast,lower_up"; "unknown"-style operstate. */
char *link_flags_str(unsigned int flags, char *buf, size_t len);
const char *link_oper_str(int operstate, char *buf, size_t len);
/*
 * The marker: an alternative name "fl-link-<ifindex>" on the device
 * while the fault holds it, so that recover --scan finds a device left
 * down after the journal is lost.  link_marker_name: 0, or -ENAMETOOLONG
 * when it would not fit in an interface name (no marker then).
 */
int link_marker_name(int ifindex, char *buf, size_t len);
int link_marker_add(int ifindex, const char *name);
/* Remove it; a missing marker or device is done. */
int link_marker_del(int ifindex, const char *name);

/*
 * netem/link_guard.c: would taking the device down cut the operator off?
 * 1 yes, with the default route or SSH session it carries named in why;
 * 0 no; -errno when that cannot be told.
 */
int link_lockout(const char *dev, int ifindex, char *why, size_t len);

/*
 * Static routes through the device, which the kernel removes when it goes
 * down and does not put back: how many, listed in buf ("10.9.0.0/16 via
 * 10.76.0.2, ..."); or -errno.
 */
int link_lost_routes(int ifindex, char *buf, size_t len);

/*
 * netem/link.c: can the fault be applied to the device now (it exists,
 * is up or has a carrier, the carrier can be set, no lockout)?  n is
 * the device as read; 0, or -errno with why.
 */
int link_check_now(const struct link_spec *s, struct link_now *n, char *why,
		   size_t len);

/* netem/link_apply.c: the ops. */
int link_apply(const struct fl_fault *f, struct fl_undo *u, void **rt);
int link_revert(json_object *state);
int link_live(void *rt, json_object *out);
int link_observe(void *rt, json_object *out);
void link_release(void *rt);
void link_scan(struct fl_found *found);

#endif
