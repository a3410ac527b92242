// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where this host stands in a partition: every host of the drill runs the
 * same file, and each finds its own group from its local addresses (the
 * longest prefix wins, --as overrides) and the devices that carry the
 * traffic to cut.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netem/netem.h"
#include "netem/partition.h"

static int sa_cidr(const struct sockaddr *sa, struct fl_cidr *c)
{
	memset(c, 0, sizeof(*c));
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		c->family = AF_INET;
		memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		c->prefix = 32;
	} else if (sa->sa_family == AF_INET6) {
		c->family = AF_INET6;
		memcpy(c->addr,
		       &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		c->prefix = 128;
	} else {
		return -1;
	}
	return 0;
}

/* The group whose longest prefix holds addr, or -1. */
static int lpm_group(const struct partition_spec *s, const struct fl_cidr *a)
{
	int best = -1, bestlen = -1;
	size_t i, j;

	for (i = 0; i < s->ngroups; i++)
		for (j = 0; j < s->groups[i].n; j++) {
			const struct fl_cidr *h = &s->groups[i].hosts[j];

			if (h->prefix > bestlen && fl_cidr_contains(h, a)) {
				best = i;
				bestlen = h->prefix;
			}
		}
	return best;
}

bool part_is_peer(const struct partition_spec *s, int group, size_t gi)
{
	if ((int)gi == group)
		return false;
	/* One-way: the first group cuts everyone, the others only it. */
	if (s->one_way && group != 0)
		return gi == 0;
	return true;
}

/* A bridge port or bond slave: its master carries the traffic. */
static bool enslaved(const char *dev)
{
	char path[64 + IFNAMSIZ];

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", dev);
	return !access(path, F_OK);
}

static void add_dev(struct part_local *l, const char *dev)
{
	size_t i;

	for (i = 0; i < l->ndevs; i++)
		if (!strcmp(l->devs[i], dev))
			return;
	if (l->ndevs < PART_MAX_DEVS)
		snprintf(l->devs[l->ndevs++], IFNAMSIZ, "%s", dev);
}

void part_find_local(const struct partition_spec *s, struct part_local *l)
{
	struct ifaddrs *ifa, *p;
	struct fl_cidr a;
	int g;

	memset(l, 0, sizeof(*l));
	l->group = -1;
	if (getifaddrs(&ifa))
		return;
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) ||
		    sa_cidr(p->ifa_addr, &a))
			continue;
		g = lpm_group(s, &a);
		if (g < 0)
			continue;
		if (l->group < 0) {
			l->group = g;
			fl_cidr_str(&a, l->addr, sizeof(l->addr));
			snprintf(l->addr_dev, sizeof(l->addr_dev), "%s",
				 p->ifa_name);
		} else if (g != l->group) {
			l->ambiguous = true;
		}
	}
	if (netem_partition_as > 0 &&
	    (size_t)netem_partition_as <= s->ngroups) {
		if (l->group != netem_partition_as - 1) {
			l->ambiguous = false;
			l->addr[0] = '\0';
			snprintf(l->addr_dev, sizeof(l->addr_dev), "--as");
		}
		l->group = netem_partition_as - 1;
	}
	if (l->group < 0)
		goto out;
	/*
	 * Every device that is up, has an address and is not enslaved to a
	 * bridge or bond: the program drops only peer traffic, so a device
	 * that carries none is unaffected, and routed peers (behind a
	 * gateway) are covered too.
	 */
	for (p = ifa; p; p = p->ifa_next)
		if (p->ifa_addr && !(p->ifa_flags & IFF_LOOPBACK) &&
		    (p->ifa_flags & IFF_UP) && !enslaved(p->ifa_name) &&
		    (p->ifa_addr->sa_family == AF_INET ||
		     p->ifa_addr->sa_family == AF_INET6))
			add_dev(l, p->ifa_name);
out:
	freeifaddrs(ifa);
}

size_t part_npeers(const struct partition_spec *s, int group)
{
	size_t i, n = 0;

	for (i = 0; i < s->ngroups; i++)
		if (part_is_peer(s, group, i))
			n += s->groups[i].n;
	return n;
}

int part_for_each_peer(const struct partition_spec *s, int group,
		       int (*fn)(const struct fl_cidr *h, size_t gi,
				 void *arg), void *arg)
{
	size_t i, j;
	int ret;

	for (i = 0; i < s->ngroups; i++) {
		if (!part_is_peer(s, group, i))
			continue;
		for (j = 0; j < s->groups[i].n; j++) {
			ret = fn(&s->groups[i].hosts[j], i, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int list_peer(const struct fl_cidr *h, size_t gi, void *arg)
{
	json_object *peers = arg;
	char a[64];

	(void)gi;
	if (json_object_array_length(peers) >= 64)
		return 1;
	fl_cidr_str(h, a, sizeof(a));
	json_object_array_add(peers, json_object_new_string(a));
	return 0;
}

void part_peer_list(const struct partition_spec *s, int group,
		    json_object *peers)
{
	part_for_each_peer(s, group, list_peer, peers);
}
