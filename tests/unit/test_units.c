// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the unit parsers and formatters of core/units.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "core/faultline.h"

static void dur_ok(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t ns = 12345;

	if (fl_parse_duration(s, &ns, &why))
		fail_msg("'%s' rejected: %s", s, why);
	if (ns != want)
		fail_msg("'%s' -> %llu, want %llu", s, (unsigned long long)ns,
			 (unsigned long long)want);
}

static void dur_bad(const char *s, int want_err, const char *want_why)
{
	const char *why = NULL;
	uint64_t ns = 7;

	assert_int_equal(fl_parse_duration(s, &ns, &why), want_err);
	assert_non_null(why);
	if (want_why && !strstr(why, want_why))
		fail_msg("'%s': why '%s' lacks '%s'", s, why, want_why);
	assert_int_equal(ns, 7);	/* untouched on error */
}

static void test_duration(void **state)
{
	dur_ok("250ms", 250 * NSEC_PER_MSEC);
	dur_ok("2s", 2 * NSEC_PER_SEC);
	dur_ok("1m30s", 90 * NSEC_PER_SEC);
	dur_ok("1h", 3600 * NSEC_PER_SEC);
	dur_ok("1h30m", 5400 * NSEC_PER_SEC);
	dur_ok("500us", 500 * NSEC_PER_USEC);
	dur_ok("500\xc2\xb5s", 500 * NSEC_PER_USEC);
	dur_ok("10ns", 10);
	dur_ok("0", 0);
	dur_ok("0s", 0);
	dur_ok("1.5s", 1500 * NSEC_PER_MSEC);
	dur_ok("0.25ms", 250 * NSEC_PER_USEC);
	dur_ok("1.0000000001s", NSEC_PER_SEC);	/* below 1ns: truncated */
	/* 2^64-1 ns is about 584 years. */
	dur_ok("18446744073709551615ns", UINT64_MAX);
	dur_ok("5124095h", 5124095ULL * 3600 * NSEC_PER_SEC);

	dur_bad("", -EINVAL, "empty");
	dur_bad("250", -EINVAL, "missing unit");
	dur_bad("-1s", -EINVAL, "negative");
	dur_bad("2sec", -EINVAL, "unknown unit");
	dur_bad("2 s", -EINVAL, "unknown unit");
	dur_bad(" 2s", -EINVAL, NULL);
	dur_bad("s", -EINVAL, NULL);
	dur_bad("1m30", -EINVAL, "missing unit");
	dur_bad("1.s", -EINVAL, NULL);
	dur_bad(".5s", -EINVAL, NULL);
	dur_bad("0x10s", -EINVAL, NULL);
	dur_bad("18446744073709551616ns", -ERANGE, "too large");
	dur_bad("5124096h", -ERANGE, "too large");
	dur_bad("18446744073709551615ns1ns", -ERANGE, "too large");
	dur_bad("99999999999999999999999999h", -ERANGE, NULL);
	/* No why pointer is fine too. */
	assert_int_equal(fl_parse_duration("x", &(uint64_t){0}, NULL), -EINVAL);
}

static void size_ok(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t b = 0;

	if (fl_parse_size(s, &b, &why))
		fail_msg("'%s' rejected: %s", s, why);
	if (b != want)
		fail_msg("'%s' -> %llu, want %llu", s, (unsigned long long)b,
			 (unsigned long long)want);
}

static void test_size(void **state)
{
	const char *why;
	uint64_t b;

	size_ok("4096", 4096);
	size_ok("0", 0);
	size_ok("100B", 100);
	size_ok("64M", 64ULL << 20);
	size_ok("64m", 64ULL << 20);
	size_ok("512KiB", 512ULL << 10);
	size_ok("512K", 512ULL << 10);
	size_ok("1G", 1ULL << 30);
	size_ok("2GiB", 2ULL << 30);
	size_ok("1T", 1ULL << 40);
	size_ok("1.5G", 3ULL << 29);
	size_ok("1kB", 1000);
	size_ok("1KB", 1000);
	size_ok("5MB", 5000000);
	size_ok("2GB", 2000000000);
	size_ok("16777215T", 16777215ULL << 40);

	assert_int_equal(fl_parse_size("64X", &b, &why), -EINVAL);
	assert_non_null(strstr(why, "unknown unit"));
	assert_int_equal(fl_parse_size("64 M", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_size("M", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_size("", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_size("-1M", &b, &why), -EINVAL);
	assert_non_null(strstr(why, "negative"));
	assert_int_equal(fl_parse_size("1.5", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_size("16777216T", &b, &why), -ERANGE);
	assert_int_equal(fl_parse_size("18446744073709551616", &b, &why),
			 -ERANGE);
	assert_int_equal(fl_parse_size("64mib", &b, &why), -EINVAL);
}

static void test_percent(void **state)
{
	const char *why;
	double p;

	assert_int_equal(fl_parse_percent("2.5%", &p, &why), 0);
	assert_float_equal(p, 2.5, 1e-12);
	assert_int_equal(fl_parse_percent("0%", &p, &why), 0);
	assert_float_equal(p, 0, 0);
	assert_int_equal(fl_parse_percent("100%", &p, &why), 0);
	assert_float_equal(p, 100, 0);
	assert_int_equal(fl_parse_percent("0.001%", &p, &why), 0);
	assert_float_equal(p, 0.001, 1e-12);

	assert_int_equal(fl_parse_percent("100.5%", &p, &why), -ERANGE);
	assert_non_null(strstr(why, "more than 100%"));
	assert_int_equal(fl_parse_percent("101%", &p, &why), -ERANGE);
	assert_int_equal(fl_parse_percent("99999999999999999999999%", &p,
					  &why), -ERANGE);
	assert_int_equal(fl_parse_percent("2.5", &p, &why), -EINVAL);
	assert_non_null(strstr(why, "missing '%'"));
	assert_int_equal(fl_parse_percent("-1%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("nan%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("inf%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("1e2%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("5%%", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("5 %", &p, &why), -EINVAL);
	assert_int_equal(fl_parse_percent("", &p, &why), -EINVAL);
}

static void rate_ok(const char *s, uint64_t want)
{
	const char *why = NULL;
	uint64_t r = 0;

	if (fl_parse_rate(s, &r, &why))
		fail_msg("'%s' rejected: %s", s, why);
	if (r != want)
		fail_msg("'%s' -> %llu, want %llu", s, (unsigned long long)r,
			 (unsigned long long)want);
}

static void test_rate(void **state)
{
	const char *why;
	uint64_t r;

	rate_ok("10mbit", 10000000);
	rate_ok("10Mbit", 10000000);
	rate_ok("1gbit", 1000000000);
	rate_ok("1tbit", 1000000000000ULL);
	rate_ok("500kbit", 500000);
	rate_ok("100bit", 100);
	rate_ok("1kibit", 1024);
	rate_ok("1mibit", 1 << 20);
	rate_ok("500kbps", 4000000);
	rate_ok("1bps", 8);
	rate_ok("1mbps", 8000000);
	rate_ok("1gbps", 8000000000ULL);
	rate_ok("1.5mbit", 1500000);
	rate_ok("0bit", 0);

	assert_int_equal(fl_parse_rate("10", &r, &why), -EINVAL);
	assert_non_null(strstr(why, "missing unit"));
	assert_int_equal(fl_parse_rate("10mb", &r, &why), -EINVAL);
	assert_non_null(strstr(why, "unknown unit"));
	assert_int_equal(fl_parse_rate("mbit", &r, &why), -EINVAL);
	assert_int_equal(fl_parse_rate("-1mbit", &r, &why), -EINVAL);
	assert_int_equal(fl_parse_rate("3000000000gbps", &r, &why), -ERANGE);
	assert_int_equal(fl_parse_rate("", &r, &why), -EINVAL);
}

static void test_u64_bool(void **state)
{
	const char *why;
	uint64_t v;
	bool b;

	assert_int_equal(fl_parse_u64("0", &v, &why), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fl_parse_u64("18446744073709551615", &v, &why), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(fl_parse_u64("18446744073709551616", &v, &why),
			 -ERANGE);
	assert_int_equal(fl_parse_u64("-1", &v, &why), -EINVAL);
	assert_non_null(strstr(why, "negative"));
	assert_int_equal(fl_parse_u64("1.5", &v, &why), -EINVAL);
	assert_int_equal(fl_parse_u64("12a", &v, &why), -EINVAL);
	assert_int_equal(fl_parse_u64("0x10", &v, &why), -EINVAL);
	assert_int_equal(fl_parse_u64("+1", &v, &why), -EINVAL);
	assert_int_equal(fl_parse_u64("", &v, &why), -EINVAL);

	assert_int_equal(fl_parse_bool("true", &b, &why), 0);
	assert_true(b);
	assert_int_equal(fl_parse_bool("Off", &b, &why), 0);
	assert_false(b);
	assert_int_equal(fl_parse_bool("yes", &b, &why), 0);
	assert_true(b);
	assert_int_equal(fl_parse_bool("NO", &b, &why), 0);
	assert_false(b);
	assert_int_equal(fl_parse_bool("on", &b, &why), 0);
	assert_true(b);
	assert_int_equal(fl_parse_bool("1", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_bool("", &b, &why), -EINVAL);
	assert_int_equal(fl_parse_bool("truee", &b, &why), -EINVAL);
}

static void test_errno(void **state)
{
	const char *why;
	int e;

	assert_int_equal(fl_parse_errno("EIO", &e, &why), 0);
	assert_int_equal(e, EIO);
	assert_int_equal(fl_parse_errno("econnrefused", &e, &why), 0);
	assert_int_equal(e, ECONNREFUSED);
	assert_int_equal(fl_parse_errno("ENOSPC", &e, &why), 0);
	assert_int_equal(e, ENOSPC);
	assert_int_equal(fl_parse_errno("EWOULDBLOCK", &e, &why), 0);
	assert_int_equal(e, EAGAIN);
	assert_int_equal(fl_parse_errno("5", &e, &why), 0);
	assert_int_equal(e, 5);
	assert_int_equal(fl_parse_errno("133", &e, &why), 0);
	assert_int_equal(e, 133);
	/* A number no errno has (kernel-internal codes included) is refused. */
	assert_int_equal(fl_parse_errno("200", &e, &why), -EINVAL);
	assert_int_equal(fl_parse_errno("512", &e, &why), -EINVAL);
	assert_int_equal(fl_parse_errno("0", &e, &why), -ERANGE);
	assert_int_equal(fl_parse_errno("4096", &e, &why), -ERANGE);
	assert_int_equal(fl_parse_errno("EFOO", &e, &why), -EINVAL);
	assert_non_null(strstr(why, "unknown"));
	assert_int_equal(fl_parse_errno("-5", &e, &why), -EINVAL);
	assert_int_equal(fl_parse_errno("", &e, &why), -EINVAL);

	assert_string_equal(fl_errno_name(EIO), "EIO");
	assert_string_equal(fl_errno_name(-ENOENT), "ENOENT");
	assert_null(fl_errno_name(0));
	assert_null(fl_errno_name(5000));
}

static void test_syscall(void **state)
{
	const char *why;
	int nr;

	assert_int_equal(fl_parse_syscall("openat", &nr, &why), 0);
	assert_int_equal(nr, SYS_openat);
	assert_int_equal(fl_parse_syscall("write", &nr, &why), 0);
	assert_int_equal(nr, SYS_write);
	assert_int_equal(fl_parse_syscall("read", &nr, &why), 0);
	assert_int_equal(nr, SYS_read);
	assert_int_equal(fl_parse_syscall("accept4", &nr, &why), 0);
	assert_int_equal(nr, SYS_accept4);
	assert_int_equal(fl_parse_syscall("opnat", &nr, &why), -EINVAL);
	assert_int_equal(fl_parse_syscall("OPENAT", &nr, &why), -EINVAL);
	assert_int_equal(fl_parse_syscall("", &nr, &why), -EINVAL);
	assert_string_equal(fl_syscall_name(SYS_openat), "openat");
	assert_string_equal(fl_syscall_name(SYS_connect), "connect");
	assert_null(fl_syscall_name(-1));
	assert_null(fl_syscall_name(100000));
}

static void cidr_rt(const char *s, int family, unsigned int prefix,
		    const char *back)
{
	struct fl_cidr c;
	const char *why = NULL;
	char buf[64];

	if (fl_parse_cidr(s, &c, &why))
		fail_msg("'%s' rejected: %s", s, why);
	assert_int_equal(c.family, family);
	assert_int_equal(c.prefix, prefix);
	assert_int_equal(fl_cidr_str(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, back);
}

static void test_cidr(void **state)
{
	struct fl_cidr net, a;
	const char *why;
	char buf[64];

	cidr_rt("10.0.0.1", AF_INET, 32, "10.0.0.1");
	cidr_rt("10.0.2.0/24", AF_INET, 24, "10.0.2.0/24");
	cidr_rt("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
	cidr_rt("10.0.0.1/32", AF_INET, 32, "10.0.0.1");
	cidr_rt("fd00::/64", AF_INET6, 64, "fd00::/64");
	cidr_rt("fd00::1", AF_INET6, 128, "fd00::1");
	cidr_rt("::/0", AF_INET6, 0, "::/0");
	cidr_rt("10.128.0.0/9", AF_INET, 9, "10.128.0.0/9");

	assert_int_equal(fl_parse_cidr("10.0.2.1/24", &net, &why), -EINVAL);
	assert_string_equal(why, "host bits set");
	assert_int_equal(fl_cidr_str(&net, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.2.0/24");
	assert_int_equal(fl_parse_cidr("10.192.0.0/9", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("fd00::1/64", &net, &why), -EINVAL);
	assert_string_equal(why, "host bits set");

	assert_int_equal(fl_parse_cidr("10.0.0.0/33", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("fd00::/129", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0.0/", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0.0/-1", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0.0/08", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0.0/24/1", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0.256", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("10.0.0", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("fd00:::1", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("host.example", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("/24", &net, &why), -EINVAL);
	assert_int_equal(fl_parse_cidr("99999999999999999999999999999999999"
				       "9999999999", &net, &why), -EINVAL);

	assert_int_equal(fl_parse_cidr("10.0.2.0/24", &net, &why), 0);
	assert_int_equal(fl_parse_cidr("10.0.2.77", &a, &why), 0);
	assert_true(fl_cidr_contains(&net, &a));
	assert_int_equal(fl_parse_cidr("10.0.3.1", &a, &why), 0);
	assert_false(fl_cidr_contains(&net, &a));
	assert_int_equal(fl_parse_cidr("10.0.2.128/25", &a, &why), 0);
	assert_true(fl_cidr_contains(&net, &a));
	assert_int_equal(fl_parse_cidr("10.0.0.0/16", &a, &why), 0);
	assert_false(fl_cidr_contains(&net, &a));
	assert_int_equal(fl_parse_cidr("fd00::1", &a, &why), 0);
	assert_false(fl_cidr_contains(&net, &a));	/* other family */
	assert_int_equal(fl_parse_cidr("fd00::/64", &net, &why), 0);
	assert_true(fl_cidr_contains(&net, &a));
	assert_int_equal(fl_parse_cidr("0.0.0.0/0", &net, &why), 0);
	assert_int_equal(fl_parse_cidr("192.168.1.1", &a, &why), 0);
	assert_true(fl_cidr_contains(&net, &a));

	assert_int_equal(fl_parse_cidr("10.0.0.1", &a, &why), 0);
	assert_int_equal(fl_cidr_str(&a, buf, 4), -ENOSPC);
}

static void test_fmt(void **state)
{
	char b[32];

	assert_string_equal(fl_fmt_duration(0, b, sizeof(b)), "0s");
	assert_string_equal(fl_fmt_duration(90 * NSEC_PER_SEC, b, sizeof(b)),
			    "1m30s");
	assert_string_equal(fl_fmt_duration(250 * NSEC_PER_MSEC, b,
					    sizeof(b)), "250ms");
	assert_string_equal(fl_fmt_duration(1500 * NSEC_PER_USEC, b,
					    sizeof(b)), "1.5ms");
	assert_string_equal(fl_fmt_duration(60 * NSEC_PER_SEC, b, sizeof(b)),
			    "1m");
	assert_string_equal(fl_fmt_duration(3600 * NSEC_PER_SEC, b,
					    sizeof(b)), "1h");
	assert_string_equal(fl_fmt_duration(5400 * NSEC_PER_SEC, b,
					    sizeof(b)), "1h30m");
	assert_string_equal(fl_fmt_duration(3661 * NSEC_PER_SEC, b,
					    sizeof(b)), "1h1m1s");
	assert_string_equal(fl_fmt_duration(2500 * NSEC_PER_MSEC, b,
					    sizeof(b)), "2.5s");
	assert_string_equal(fl_fmt_duration(500 * NSEC_PER_USEC, b,
					    sizeof(b)), "500us");
	assert_string_equal(fl_fmt_duration(10, b, sizeof(b)), "10ns");
	/* Round trips through the parser. */
	{
		static const uint64_t v[] = { 1, 999, 1001, 123456789,
			NSEC_PER_SEC + 1, 86400 * NSEC_PER_SEC + 7, UINT64_MAX };
		size_t i;
		uint64_t back;

		for (i = 0; i < ARRAY_SIZE(v); i++) {
			fl_fmt_duration(v[i], b, sizeof(b));
			assert_int_equal(fl_parse_duration(b, &back, NULL), 0);
			assert_true(back == v[i]);
		}
	}
	/* A short buffer is cut, never overrun. */
	assert_int_equal(strlen(fl_fmt_duration(3661 * NSEC_PER_SEC, b, 4)),
			 3);

	assert_string_equal(fl_fmt_size(64ULL << 20, b, sizeof(b)), "64MiB");
	assert_string_equal(fl_fmt_size(512, b, sizeof(b)), "512B");
	assert_string_equal(fl_fmt_size(0, b, sizeof(b)), "0B");
	assert_string_equal(fl_fmt_size(1024, b, sizeof(b)), "1KiB");
	assert_string_equal(fl_fmt_size(3ULL << 29, b, sizeof(b)), "1.5GiB");
	assert_string_equal(fl_fmt_size(1025ULL << 10, b, sizeof(b)),
			    "1025KiB");
	assert_string_equal(fl_fmt_size(1ULL << 40, b, sizeof(b)), "1TiB");
	assert_string_equal(fl_fmt_size(UINT64_MAX, b, sizeof(b)),
			    "15.99EiB");
}

static void test_did_you_mean(void **state)
{
	static const char *const keys[] = { "delay", "jitter", "loss",
					    "duplicate", "rate", NULL };
	static const char *const top[] = { "name", "duration", "targets",
					   "faults", "probes", "report", NULL };

	assert_string_equal(fl_did_you_mean("dealy", keys), "delay");
	assert_string_equal(fl_did_you_mean("jiter", keys), "jitter");
	assert_string_equal(fl_did_you_mean("Loss", keys), "loss");
	assert_string_equal(fl_did_you_mean("duplicat", keys), "duplicate");
	assert_null(fl_did_you_mean("x", keys));
	assert_null(fl_did_you_mean("bandwidth", keys));
	assert_null(fl_did_you_mean("", keys));
	assert_string_equal(fl_did_you_mean("nmae", top), "name");
	assert_string_equal(fl_did_you_mean("duraton", top), "duration");
	assert_string_equal(fl_did_you_mean("fault", top), "faults");
	assert_string_equal(fl_did_you_mean("taregts", top), "targets");
	assert_null(fl_did_you_mean("zzzzzzzz", top));
	assert_null(fl_did_you_mean("dealy", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_u64_bool),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_syscall),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_did_you_mean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
