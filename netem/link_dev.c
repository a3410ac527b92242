// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device for the link fault: its flags, carrier, operstate and counters
 * read over rtnetlink (libnl-route-3), IFF_UP or the carrier changed, and
 * the alternative name that marks a device the fault holds (RTM_NEWLINKPROP
 * through netem/tc.c's request path).  No ip process is involved.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netem/link.h"
#include "netem/tc.h"

/* The device by index, with a socket for a request on it. */
static int get_link(int ifindex, struct nl_sock **sk, struct rtnl_link **l)
{
	int ret;

	ret = tc_route_open(sk);
	if (ret)
		return ret;
	ret = rtnl_link_get_kernel(*sk, ifindex, NULL, l);
	if (ret < 0) {
		nl_socket_free(*sk);
		ret = tc_nl_errno(ret);
		return ret == -ENOENT ? -ENODEV : ret;
	}
	return 0;
}

int link_read(int ifindex, struct link_now *n)
{
	struct rtnl_link *l;
	struct nl_sock *sk;
	const char *kind;
	int ret;

	ret = get_link(ifindex, &sk, &l);
	if (ret)
		return ret;
	memset(n, 0, sizeof(*n));
	n->ifindex = ifindex;
	n->flags = rtnl_link_get_flags(l);
	n->carrier = rtnl_link_get_carrier(l);
	n->operstate = rtnl_link_get_operstate(l);
	kind = rtnl_link_get_type(l);
	snprintf(n->kind, sizeof(n->kind), "%s", kind ? kind : "");
	n->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	n->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	n->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
	n->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return 0;
}

/*
 * One change request on the device: IFF_UP set or cleared (up 1 or 0; the
 * mask is IFF_UP alone, no other flag is sent), or the carrier (carrier 1
 * or 0); -1 leaves it out.
 */
static int change(int ifindex, int up, int carrier)
{
	struct rtnl_link *l, *chg = rtnl_link_alloc();
	struct nl_sock *sk;
	int ret;

	if (!chg)
		return -ENOMEM;
	if (up > 0)
		rtnl_link_set_flags(chg, IFF_UP);
	else if (!up)
		rtnl_link_unset_flags(chg, IFF_UP);
	if (carrier >= 0)
		rtnl_link_set_carrier(chg, carrier);
	ret = get_link(ifindex, &sk, &l);
	if (ret)
		goto out;
	ret = rtnl_link_change(sk, l, chg, 0);
	ret = ret < 0 ? tc_nl_errno(ret) : 0;
	rtnl_link_put(l);
	nl_socket_free(sk);
out:
	rtnl_link_put(chg);
	return ret;
}

int link_set_up(int ifindex, bool up)
{
	return change(ifindex, up, -1);
}

int link_set_carrier(int ifindex, bool on)
{
	return change(ifindex, -1, on);
}

char *link_flags_str(unsigned int flags, char *buf, size_t len)
{
	rtnl_link_flags2str(flags, buf, len);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

const char *link_oper_str(int operstate, char *buf, size_t len)
{
	return rtnl_link_operstate2str(operstate, buf, len);
}

/* ------------------------------------------------------------------ */
/* The marker.                                                         */

int link_marker_name(int ifindex, char *buf, size_t len)
{
	int n = snprintf(buf, len, "fl-link-%d", ifindex);

	/* if_nametoindex, which the scan uses, takes IFNAMSIZ names. */
	if (n < 0 || (size_t)n >= len || n >= IFNAMSIZ)
		return -ENAMETOOLONG;
	return 0;
}

/* RTM_NEWLINKPROP or RTM_DELLINKPROP of one alternative name. */
static int marker_talk(int type, int ifindex, const char *name)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *nest;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (type == RTM_NEWLINKPROP)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	nest = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
	mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, name);
	mnl_attr_nest_end(nlh, nest);
	return tc_talk(nlh);
}

int link_marker_add(int ifindex, const char *name)
{
	int ret = marker_talk(RTM_NEWLINKPROP, ifindex, name);

	/* Ours already, from a record replayed twice. */
	if (ret == -EEXIST && (int)if_nametoindex(name) == ifindex)
		ret = 0;
	return ret;
}

int link_marker_del(int ifindex, const char *name)
{
	int ret;

	if ((int)if_nametoindex(name) != ifindex)
		return 0;
	ret = marker_talk(RTM_DELLINKPROP, ifindex, name);
	if (ret == -ENOENT || ret == -ENODEV || ret == -EINVAL)
		ret = 0;
	return ret;
}
