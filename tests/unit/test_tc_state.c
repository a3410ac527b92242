// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem/tc.c, netem/tcstate.c: a device's tc state saved to JSON and put
 * back exactly; and netem/dist.c's delay tables (no root needed).
 *
 *   test_tc_state                 cmocka tests in a network namespace of
 *                                 their own (root; skipped otherwise)
 *   test_tc_state cycle DEV [ingress]
 *                                 on DEV of the current namespace: save,
 *                                 replace the tree as the netem fault does
 *                                 (with tc, a stand-in for netem), restore
 *                                 from the JSON text, restore again; exit 0
 *                                 when both restores succeed
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <cmocka.h>

#include "core/faultline.h"
#include "netem/dist.h"
#include "netem/netem_spec.h"
#include "netem/tc.h"

static bool owned(uint32_t h)
{
	return TC_H_MAJ(h) == NETEM_HANDLE_ROOT ||
	       TC_H_MAJ(h) == NETEM_HANDLE_NETEM;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == 0 ? 0 : -1;
}

/*
 * Save, change as the netem fault would, restore twice.  Returns 0, or
 * the first failure's -errno (with a message on stderr).
 */
static int cycle(const char *dev, bool ingress)
{
	json_object *st = NULL, *back;
	const char *txt;
	int ifindex = if_nametoindex(dev), ret;
	uint32_t parent = 0, info = 0;
	uint16_t prio = 0;
	bool had_ingress;
	int i;

	if (!ifindex)
		return -ENODEV;
	ret = tc_state_save(ifindex, &st);
	if (ret) {
		fprintf(stderr, "save: %s\n", strerror(-ret));
		return ret;
	}
	/* What revert gets: the journal's text. */
	txt = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
	if (getenv("TC_STATE_PRINT"))
		printf("%s\n", txt);
	back = json_tokener_parse(txt);
	json_object_put(st);
	if (!back)
		return -EINVAL;

	/* The change: faultline's tree at the root, a tbf for netem. */
	if (sh("tc qdisc replace dev %s root handle fa17: htb default 0 &&"
	       " tc class add dev %s parent fa17: classid fa17:2 htb rate 100mbit &&"
	       " tc qdisc add dev %s parent fa17:2 handle fa18: tbf rate 1mbit burst 10k latency 10ms &&"
	       " tc filter add dev %s parent fa17: protocol ip prio 1 u32 match ip dst 10.9.0.0/16 flowid fa17:2",
	       dev, dev, dev, dev)) {
		ret = -EIO;
		goto out;
	}
	if (ingress) {
		json_object *q = tc_state_qdisc(back, TC_H_INGRESS);
		int ifb;

		had_ingress = q != NULL;
		if (!had_ingress) {
			if (sh("tc qdisc add dev %s clsact", dev)) {
				ret = -EIO;
				goto out;
			}
			parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
		} else {
			json_object *k;

			json_object_object_get_ex(q, "kind", &k);
			parent = !strcmp(json_object_get_string(k), "clsact") ?
				TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) :
				TC_H_MAKE(TC_H_INGRESS, 0);
		}
		ret = tc_free_prio(ifindex, parent, &prio);
		if (ret)
			goto out;
		ret = tc_ifb_add("fl-ifb-test", &ifb);
		if (ret) {
			fprintf(stderr, "ifb: %s\n", strerror(-ret));
			goto out;
		}
		info = TC_H_MAKE((uint32_t)prio << 16, htons(ETH_P_ALL));
		if (sh("tc filter add dev %s parent %x:%x protocol all prio %u u32 match u32 0 0 action mirred egress redirect dev fl-ifb-test",
		       dev, parent >> 16, parent & 0xffff, prio)) {
			ret = -EIO;
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		ret = tc_state_restore_root(ifindex, back, owned);
		if (ret) {
			fprintf(stderr, "restore root (%d): %s: %s\n", i + 1,
				strerror(-ret), tc_last_error());
			goto out;
		}
		if (ingress) {
			ret = tc_filter_del(ifindex, parent, info, "u32");
			if (!ret)
				ret = tc_state_restore_ingress(ifindex, back);
			if (!ret)
				ret = tc_link_del("fl-ifb-test");
			if (ret) {
				fprintf(stderr, "restore ingress (%d): %s: %s\n",
					i + 1, strerror(-ret), tc_last_error());
				goto out;
			}
		}
	}
out:
	json_object_put(back);
	return ret;
}

/* ------------------------------------------------------------------ */

static char *show(const char *dev)
{
	char cmd[512], *out = NULL;
	size_t len = 0;
	FILE *p, *m = open_memstream(&out, &len);
	int c;

	/* direct_packets_stat is a counter, not state: IPv6's own packets
	 * on the fresh veth (DAD, router solicitations) can pass htb's
	 * direct queue at any moment. */
	snprintf(cmd, sizeof(cmd),
		 "{ for w in qdisc class; do tc -d $w show dev %s; done;"
		 " tc -d filter show dev %s;"
		 " tc -d filter show dev %s ingress 2>/dev/null;"
		 " tc -d filter show dev %s egress 2>/dev/null;"
		 " tc -d filter show dev %s parent 1: 2>/dev/null; }"
		 " | sed 's/ direct_packets_stat [0-9]*//'",
		 dev, dev, dev, dev, dev);
	p = popen(cmd, "r");
	while (p && (c = fgetc(p)) != EOF)
		fputc(c, m);
	if (p)
		pclose(p);
	fclose(m);
	return out;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		print_message("skip: needs root for a network namespace\n");
		return 0;
	}
	return sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
}

static bool in_ns(void)
{
	return if_nametoindex("v0") != 0;
}

static void restored(const char *setup_cmd, bool ingress)
{
	char *before, *after;

	if (!in_ns())
		skip();
	sh("tc qdisc del dev v0 root 2>/dev/null; tc qdisc del dev v0 clsact 2>/dev/null; tc qdisc del dev v0 ingress 2>/dev/null");
	if (setup_cmd[0])
		assert_int_equal(sh("%s", setup_cmd), 0);
	before = show("v0");
	assert_int_equal(cycle("v0", ingress), 0);
	after = show("v0");
	assert_string_equal(before, after);
	assert_int_equal(if_nametoindex("fl-ifb-test"), 0);
	free(before);
	free(after);
}

static void test_default_root(void **state)
{
	(void)state;
	restored("", false);
}

static void test_htb_tree(void **state)
{
	(void)state;
	restored("tc qdisc add dev v0 root handle 1: htb default 20 r2q 5 &&"
		 " tc class add dev v0 parent 1: classid 1:1 htb rate 50mbit ceil 80mbit &&"
		 " tc class add dev v0 parent 1:1 classid 1:10 htb rate 10mbit ceil 50mbit prio 1 &&"
		 " tc class add dev v0 parent 1:1 classid 1:20 htb rate 5mbit &&"
		 " tc qdisc add dev v0 parent 1:10 handle 10: tbf rate 8mbit burst 32k latency 40ms &&"
		 " tc qdisc add dev v0 parent 1:20 handle 20: pfifo limit 77 &&"
		 " tc filter add dev v0 parent 1: protocol ip prio 3 u32 match ip dst 10.1.2.0/24 match ip dport 80 0xffff flowid 1:10 &&"
		 " tc filter add dev v0 parent 1: protocol ip prio 3 u32 match ip src 10.3.0.0/16 flowid 1:20 &&"
		 " tc filter add dev v0 parent 1: protocol ipv6 prio 4 u32 match ip6 dst fd00::/64 flowid 1:20",
		 false);
}

static void test_tbf_root(void **state)
{
	(void)state;
	restored("tc qdisc add dev v0 root handle 5: tbf rate 20mbit burst 64k limit 100k", false);
}

static void test_ingress_new(void **state)
{
	(void)state;
	restored("tc qdisc add dev v0 root handle 7: tbf rate 1gbit burst 1m latency 5ms", true);
}

static void test_clsact_kept(void **state)
{
	(void)state;
	restored("tc qdisc add dev v0 clsact &&"
		 " tc filter add dev v0 ingress protocol ip prio 1 u32 match ip src 10.7.0.0/16 action mirred egress mirror dev v1 &&"
		 " tc filter add dev v0 egress protocol ip prio 5 u32 match ip dst 10.8.0.1/32 action mirred egress redirect dev v1",
		 true);
}

static void test_ingress_qdisc_kept(void **state)
{
	(void)state;
	restored("tc qdisc add dev v0 handle ffff: ingress &&"
		 " tc filter add dev v0 parent ffff: protocol ip prio 2 u32 match ip dst 10.6.0.0/16 action mirred egress mirror dev v1",
		 true);
}

static void test_hex(void **state)
{
	const uint8_t in[] = { 0, 1, 0xab, 0xff };
	void *out;
	size_t n;
	char *h = tc_hex(in, sizeof(in));

	(void)state;
	assert_string_equal(h, "0001abff");
	assert_int_equal(tc_unhex(h, &out, &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(out, in, n);
	free(out);
	assert_int_equal(tc_unhex("abc", &out, &n), -EINVAL);
	assert_int_equal(tc_unhex("zz", &out, &n), -EINVAL);
	free(h);
}

/* A table of n entries: sorted, and its mean (in NETEM_DIST_SCALE units). */
static double table_mean(const int16_t *t, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			assert_true(t[i - 1] <= t[i]);
		sum += t[i];
	}
	return sum / n;
}

static int16_t *table(enum netem_dist dist)
{
	int16_t *t = calloc(NETEM_DIST_SIZE, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(netem_dist_table(dist, t), 0);
	return t;
}

static void test_dist_normal(void **state)
{
	int16_t *t = table(NETEM_DIST_NORMAL);
	size_t i, n = NETEM_DIST_SIZE;

	(void)state;
	assert_true(table_mean(t, n) > -10 && table_mean(t, n) < 10);
	/* Symmetric around 0; one deviation at 84.13% (tc's table too). */
	for (i = 0; i < n / 2; i++)
		assert_true(abs(t[i] + t[n - 1 - i]) <= 4);
	i = (size_t)(0.8413 * n);
	assert_true(abs(t[i] - NETEM_DIST_SCALE) < NETEM_DIST_SCALE / 50);
	assert_true(t[0] < -3 * NETEM_DIST_SCALE);
	free(t);
}

static void test_dist_pareto(void **state)
{
	enum netem_dist d[] = { NETEM_DIST_PARETO, NETEM_DIST_PARETONORMAL };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(d); i++) {
		int16_t *t = table(d[i]);
		double mean = table_mean(t, NETEM_DIST_SIZE);

		/* Mean about 0 (the long tail is cut at INT16_MAX). */
		assert_true(mean > -0.1 * NETEM_DIST_SCALE &&
			    mean < 0.1 * NETEM_DIST_SCALE);
		/* Skewed: the median below the mean, a tail to the right. */
		assert_true(t[NETEM_DIST_SIZE / 2] < mean);
		assert_true(t[NETEM_DIST_SIZE - 1] > 3 * NETEM_DIST_SCALE);
		assert_true(t[0] > -2 * NETEM_DIST_SCALE);
		free(t);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_dist_normal),
		cmocka_unit_test(test_dist_pareto),
		cmocka_unit_test(test_default_root),
		cmocka_unit_test(test_htb_tree),
		cmocka_unit_test(test_tbf_root),
		cmocka_unit_test(test_ingress_new),
		cmocka_unit_test(test_clsact_kept),
		cmocka_unit_test(test_ingress_qdisc_kept),
	};

	if (argc >= 3 && !strcmp(argv[1], "cycle"))
		return cycle(argv[2], argc > 3 && !strcmp(argv[3], "ingress")) ?
			1 : 0;
	return cmocka_run_group_tests(tests, setup, NULL);
}
