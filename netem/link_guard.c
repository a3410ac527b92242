// SPDX-License-Identifier: GPL-2.0-only
/*
 * The link fault's lockout guard: a device that carries a default route
 * (in any routing table, IPv4 or IPv6, as its device or one of its next
 * hops) or an established SSH session (a TCP connection of this network
 * namespace whose local address is one of the device's, on local port 22
 * or held by a process named sshd*) is where the operator reaches the
 * machine: taking it down would cut the drill's own operator off.  Reads
 * the kernel (libnl-route-3, /proc/net/tcp{,6}, /proc/PID/fd), changes
 * nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "netem/link.h"
#include "netem/tc.h"

struct route_find {
	int ifindex;
	const char *dev;
	char *why;
	size_t len;
	bool found;
};

static bool nh_on(struct rtnl_route *r, int ifindex)
{
	int i, n = rtnl_route_get_nnexthops(r);

	for (i = 0; i < n; i++)
		if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i)) ==
		    ifindex)
			return true;
	return false;
}

/* The first next hop's gateway on the device ("via 10.0.0.1"), or "". */
static void nh_via(struct rtnl_route *r, int ifindex, char *buf, size_t len)
{
	int i, n = rtnl_route_get_nnexthops(r);
	char a[INET6_ADDRSTRLEN + 8];

	buf[0] = 0;
	for (i = 0; i < n; i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);
		struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);

		if (rtnl_route_nh_get_ifindex(nh) != ifindex || !gw)
			continue;
		snprintf(buf, len, "via %s ", nl_addr2str(gw, a, sizeof(a)));
		return;
	}
}

/* cb(route, arg) for every route of every table, both families. */
static int routes_foreach(void (*cb)(struct nl_object *, void *), void *arg)
{
	struct nl_cache *cache;
	struct nl_sock *sk;
	int ret;

	ret = tc_route_open(&sk);
	if (ret)
		return ret;
	ret = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (ret < 0) {
		nl_socket_free(sk);
		return tc_nl_errno(ret);
	}
	nl_cache_foreach(cache, cb, arg);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

static void route_cb(struct nl_object *o, void *data)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct route_find *rf = data;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	char via[80], table[32];
	uint32_t t;

	if (rf->found || rtnl_route_get_type(r) != RTN_UNICAST)
		return;
	if (dst && nl_addr_get_prefixlen(dst) != 0)
		return;
	if (!nh_on(r, rf->ifindex))
		return;
	t = rtnl_route_get_table(r);
	if (t == RT_TABLE_MAIN)
		snprintf(table, sizeof(table), "main");
	else
		snprintf(table, sizeof(table), "%u", t);
	nh_via(r, rf->ifindex, via, sizeof(via));
	snprintf(rf->why, rf->len, "the default route (%s) %sdev %s, table %s",
		 rtnl_route_get_family(r) == AF_INET6 ? "IPv6" : "IPv4", via,
		 rf->dev, table);
	rf->found = true;
}

/* 1 with the default route named in why, 0 none, or -errno. */
static int default_route(const char *dev, int ifindex, char *why, size_t len)
{
	struct route_find rf = { ifindex, dev, why, len, false };
	int ret = routes_foreach(route_cb, &rf);

	return ret ? ret : rf.found;
}

struct lost {
	int ifindex;
	char *buf;
	size_t len, off;
	int n;
};

/*
 * A route through the device that the kernel removes when the device
 * goes down and does not make again when it comes up: not the kernel's
 * own (connected, local, multicast), not a router advertisement's.
 */
static void lost_cb(struct nl_object *o, void *data)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct lost *l = data;
	char d[INET6_ADDRSTRLEN + 8], via[80];
	int p = rtnl_route_get_protocol(r);

	if (p == RTPROT_KERNEL || p == RTPROT_RA ||
	    rtnl_route_get_table(r) == RT_TABLE_LOCAL ||
	    rtnl_route_get_type(r) != RTN_UNICAST || !nh_on(r, l->ifindex))
		return;
	if (dst && nl_addr_get_prefixlen(dst))
		nl_addr2str(dst, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "default");
	nh_via(r, l->ifindex, via, sizeof(via));
	if (l->off < l->len)
		l->off += snprintf(l->buf + l->off, l->len - l->off, "%s%s %s",
				   l->n ? ", " : "", d, via);
	if (l->off && l->off <= l->len && l->buf[l->off - 1] == ' ')
		l->buf[--l->off] = 0;
	l->n++;
}

int link_lost_routes(int ifindex, char *buf, size_t len)
{
	struct lost l = { ifindex, buf, len, 0, 0 };
	int ret;

	buf[0] = 0;
	ret = routes_foreach(lost_cb, &l);
	return ret ? ret : l.n;
}

/* ------------------------------------------------------------------ */
/* SSH sessions.                                                       */

struct addr {
	int family;
	uint8_t a[16];
};

/* The device's addresses (getifaddrs, this network namespace). */
static int dev_addrs(const char *dev, struct addr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct addr *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, dev))
			continue;
		if (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (FL_GROW(v, cap, *n, 4)) {
			freeifaddrs(ifa);
			free(v);
			return -ENOMEM;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].family = i->ifa_addr->sa_family;
		if (v[*n].family == AF_INET)
			memcpy(v[*n].a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(v[*n].a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		(*n)++;
	}
	freeifaddrs(ifa);
	*out = v;
	return 0;
}

/* /proc/net/tcp's hex address: 4 bytes, or 16 as four host-order words. */
static int parse_hex_addr(const char *s, size_t hexlen, uint8_t *a)
{
	size_t i;

	for (i = 0; i < hexlen / 8; i++) {
		char w[9];
		uint32_t v;

		memcpy(w, s + 8 * i, 8);
		w[8] = 0;
		v = strtoul(w, NULL, 16);
		memcpy(a + 4 * i, &v, 4);
	}
	return 0;
}

struct tcp_conn {
	int family;
	uint8_t local[16], remote[16];
	unsigned int lport, rport;
	unsigned long inode;
};

/* One line of /proc/net/tcp{,6}: 1 an established connection, else 0. */
static int parse_tcp_line(const char *line, int family, struct tcp_conn *c)
{
	char la[40], ra[40];
	unsigned int st;
	size_t hl = family == AF_INET ? 8 : 32;

	if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*d %*d %lu",
		   la, &c->lport, ra, &c->rport, &st, &c->inode) != 6)
		return 0;
	if (st != 1 || strlen(la) != hl || strlen(ra) != hl)
		return 0;		/* TCP_ESTABLISHED is 1 */
	c->family = family;
	parse_hex_addr(la, hl, c->local);
	parse_hex_addr(ra, hl, c->remote);
	/* An IPv4 client of a listener on [::]: ::ffff:a.b.c.d. */
	if (family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED((struct in6_addr *)c->local)) {
		c->family = AF_INET;
		memmove(c->local, c->local + 12, 4);
		memmove(c->remote, c->remote + 12, 4);
	}
	return 1;
}

static bool is_local(const struct tcp_conn *c, const struct addr *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].family != c->family)
			continue;
		if (!memcmp(v[i].a, c->local, c->family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

/* The pid of an sshd* process holding socket inode, or 0. */
static pid_t sshd_holding(unsigned long inode)
{
	char path[300], comm[32], want[48], link[64];
	struct dirent *e, *fe;
	DIR *d, *fd;
	pid_t pid = 0;
	FILE *f;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!pid && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "sshd", 4))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", e->d_name);
		fd = opendir(path);
		while (fd && (fe = readdir(fd))) {
			char p2[600];
			ssize_t l;

			snprintf(p2, sizeof(p2), "%s/%s", path, fe->d_name);
			l = readlink(p2, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			if (!strcmp(link, want)) {
				pid = atoi(e->d_name);
				break;
			}
		}
		if (fd)
			closedir(fd);
	}
	closedir(d);
	return pid;
}

static void conn_str(const struct tcp_conn *c, pid_t sshd, char *why,
		     size_t len)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN], who[48] = "";
	bool v6 = c->family == AF_INET6;
	size_t off;

	inet_ntop(c->family, c->local, l, sizeof(l));
	inet_ntop(c->family, c->remote, r, sizeof(r));
	if (sshd)
		snprintf(who, sizeof(who), ", sshd pid %d", (int)sshd);
	off = snprintf(why, len, "an established SSH session (");
	if (off < len)
		off += snprintf(why + off, len - off, "%s%s%s:%u <- %s%s%s:%u",
				v6 ? "[" : "", l, v6 ? "]" : "", c->lport,
				v6 ? "[" : "", r, v6 ? "]" : "", c->rport);
	if (off < len)
		snprintf(why + off, len - off, "%s)", who);
}

/* 1 with the SSH session named in why, 0 none, or -errno. */
static int ssh_session(const char *dev, char *why, size_t len)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	static const int fams[] = { AF_INET, AF_INET6 };
	struct addr *v = NULL;
	struct tcp_conn c;
	char line[512];
	size_t n, i;
	int ret, found = 0;

	ret = dev_addrs(dev, &v, &n);
	if (ret || !n)
		goto out;
	for (i = 0; i < 2 && !found; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;	/* no IPv6 */
		while (!found && fgets(line, sizeof(line), f)) {
			pid_t sshd;

			if (!parse_tcp_line(line, fams[i], &c) ||
			    !is_local(&c, v, n))
				continue;
			sshd = sshd_holding(c.inode);
			if (c.lport != 22 && !sshd)
				continue;
			conn_str(&c, sshd, why, len);
			found = 1;
		}
		fclose(f);
	}
out:
	free(v);
	return ret ? ret : found;
}

int link_lockout(const char *dev, int ifindex, char *why, size_t len)
{
	int r;

	r = default_route(dev, ifindex, why, len);
	if (r)
		return r;
	return ssh_session(dev, why, len);
}
