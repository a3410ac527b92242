// SPDX-License-Identifier: GPL-2.0-only
/*
 * The link fault: a device taken down (IFF_UP cleared, "ip link set DEV
 * down") or its carrier set off where its driver allows it, for the
 * fault's window, and put back as it was.  A device that carries the
 * default route or an established SSH session is refused unless the file
 * says allow-lockout: true.
 *
 *   link: { device: eth0, mode: down | carrier, allow-lockout: false }
 *
 * This file: the schema, check, describe, resources and the ops table;
 * netem/link_apply.c does the rest (netem/link.h says where).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/link.h"
#include "netem/netem.h"
#include "netem/netem_spec.h"
#include "netem/tcbuild.h"

static const char *const link_keys[] = {
	"device", "mode", "allow-lockout", NULL,
};

const char *const link_mode_names[] = {
	[LINK_DOWN] = "down",
	[LINK_CARRIER] = "carrier",
	NULL,
};

static void link_spec_free(void *spec)
{
	struct link_spec *s = spec;

	if (!s)
		return;
	free(s->device);
	free(s);
}

static int link_parse(struct fl_experiment *exp, const struct fl_fault *f,
		      const struct fl_node *spec, void **out,
		      struct fl_diag *d)
{
	const struct fl_node *v;
	struct link_spec *s;
	int err = 0, mode = LINK_DOWN;

	(void)exp;
	(void)f;
	s = calloc(1, sizeof(*s));
	*out = s;
	if (!s)
		return -ENOMEM;
	v = fl_map_need(spec, "device", "link", d);
	if (!v || netem_get_device(v, &s->device, d))
		err = -EINVAL;
	if (fl_opt_enum(spec, "mode", link_mode_names, &mode, d))
		err = -EINVAL;
	s->mode = mode;
	if (fl_opt_bool(spec, "allow-lockout", &s->allow_lockout, d))
		err = -EINVAL;
	if (!err && !strcmp(s->device, "lo")) {
		fl_diag_err(d, fl_map_get(spec, "device"),
			    "device: lo is the loopback device; taking it down breaks every local connection, not a link");
		err = -EINVAL;
	}
	return err;
}

/* The carrier can be set on this device: tried with its own value. */
static int carrier_settable(const struct link_now *n)
{
	return link_set_carrier(n->ifindex, n->carrier);
}

/* Refusals that depend on the device now: 0, or -errno with why. */
static int device_check(const struct link_spec *s, const struct link_now *n,
			char *why, size_t len)
{
	char buf[512];
	int r;

	if (s->mode == LINK_DOWN && !(n->flags & IFF_UP)) {
		snprintf(why, len, "device %s is down already: nothing to take down (and revert would leave it down)",
			 s->device);
		return -EALREADY;
	}
	if (s->mode == LINK_CARRIER && !n->carrier) {
		snprintf(why, len, "device %s has no carrier already: nothing to set off",
			 s->device);
		return -EALREADY;
	}
	if (s->mode == LINK_CARRIER) {
		r = carrier_settable(n);
		if (r == -EOPNOTSUPP) {
			snprintf(why, len, "device %s (%s) cannot have its carrier set: its driver has no carrier control (ndo_change_carrier: dummy has it, veth and most hardware drivers do not); use mode: down",
				 s->device, n->kind[0] ? n->kind : "no kind");
			return r;
		}
		if (r) {
			snprintf(why, len, "cannot tell whether device %s can have its carrier set: %s",
				 s->device, strerror(-r));
			return r;
		}
	}
	if (s->allow_lockout)
		return 0;
	r = link_lockout(s->device, n->ifindex, buf, sizeof(buf));
	if (r < 0) {
		snprintf(why, len, "cannot tell whether device %s carries the default route or an SSH session: %s",
			 s->device, strerror(-r));
		return r;
	}
	if (r) {
		snprintf(why, len, "device %s carries %s: taking it down would cut the drill's own operator off; say allow-lockout: true to do it anyway",
			 s->device, buf);
		return -EPERM;
	}
	return 0;
}

int link_check_now(const struct link_spec *s, struct link_now *n, char *why,
		   size_t len)
{
	int ifindex = if_nametoindex(s->device), r;

	if (!ifindex) {
		snprintf(why, len, "device %s does not exist in this network namespace",
			 s->device);
		return -ENODEV;
	}
	r = link_read(ifindex, n);
	if (r) {
		snprintf(why, len, "cannot read device %s: %s", s->device,
			 strerror(-r));
		return r;
	}
	return device_check(s, n, why, len);
}

static int link_check(const struct fl_fault *f, char *why, size_t len)
{
	struct link_now n;

	if (!f->priv)
		return -EINVAL;
	return link_check_now(f->priv, &n, why, len);
}

static int link_describe(const struct fl_fault *f, json_object *out)
{
	const struct link_spec *s = f->priv;
	char why[2048], fl[256], op[32], mk[IFNAMSIZ];
	json_object *objs = json_object_new_array();
	struct link_now n;
	int ifindex;

	if (!s) {
		json_object_put(objs);
		return -EINVAL;
	}
	ifindex = if_nametoindex(s->device);
	if (s->mode == LINK_DOWN) {
		fl_json_add_str(out, "mechanism",
				"rtnetlink: IFF_UP cleared (ip link set DEV down), set again at revert");
		snprintf(why, sizeof(why), "the device stops: the kernel withdraws the routes through it, sends fail (ENETUNREACH) and TCP retransmits until it is back; static routes and IPv6 addresses (without keep_addr_on_down) the kernel removes at down are not put back by it");
	} else {
		fl_json_add_str(out, "mechanism",
				"rtnetlink: IFLA_CARRIER off (ip link set DEV carrier off), on again at revert");
		snprintf(why, sizeof(why), "the device stays up with no carrier: operstate goes down and nothing is sent or received, as with a pulled cable; routes and addresses stay");
	}
	if (ifindex && !link_read(ifindex, &n)) {
		size_t off = strlen(why);

		snprintf(why + off, sizeof(why) - off,
			 "; %s%s%s%s is now %s, operstate %s, carrier %s",
			 s->device, n.kind[0] ? " (" : "", n.kind,
			 n.kind[0] ? ")" : "",
			 link_flags_str(n.flags, fl, sizeof(fl)),
			 link_oper_str(n.operstate, op, sizeof(op)),
			 n.carrier ? "on" : "off");
	}
	if (ifindex && s->mode == LINK_DOWN) {
		char routes[512];
		size_t off = strlen(why);
		int nr = link_lost_routes(ifindex, routes, sizeof(routes));

		if (nr > 0)
			snprintf(why + off, sizeof(why) - off,
				 "; down removes %d static route%s through %s that will not come back by themselves: %s",
				 nr, nr == 1 ? "" : "s", s->device, routes);
	}
	if (s->allow_lockout) {
		size_t off = strlen(why);

		snprintf(why + off, sizeof(why) - off,
			 "; allow-lockout: the default route and SSH sessions are not looked for");
	}
	fl_json_add_str(out, "why", why);
	if (s->mode == LINK_DOWN)
		fl_json_addf(objs, "link %s: IFF_UP cleared; at revert set again when it was set before",
			     s->device);
	else
		fl_json_addf(objs, "link %s: carrier off; at revert on again when it was on before",
			     s->device);
	if (ifindex && !link_marker_name(ifindex, mk, sizeof(mk)))
		fl_json_addf(objs, "link %s: alternative name %s while the fault holds it (recover --scan finds it by that)",
			     s->device, mk);
	json_object_object_add(out, "objects", objs);
	return 0;
}

/* The device's lock, the same as the netem and partition faults take. */
static int link_resources(const struct fl_fault *f, json_object *out)
{
	const struct link_spec *s = f->priv;

	return s ? netem_dev_lock(s->device, out) : -EINVAL;
}

const struct fl_engine link_engine = {
	FL_ENGINE_OPS(link, "#8e44ad",
		      "a device taken down (IFF_UP) or its carrier set off, over rtnetlink"),
	.in_netns = true,
	.spec_free = link_spec_free,
	.scan = link_scan,
};
