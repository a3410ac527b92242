// SPDX-License-Identifier: GPL-2.0-only
/*
 * Units of experiment files: durations, sizes, percentages, rates, errno
 * and syscall names, addresses and prefixes.  Parsers are strict: no
 * whitespace, no signs, no hex; anything odd is an error with a reason.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/faultline.h"

/*
 * A decimal number: digits with an optional fraction.  *ip is the integer
 * part, the fraction is kept as digits so that callers can scale it
 * exactly.  Returns the characters used, 0 when there is no number, or
 * -ERANGE when the integer part does not fit.
 */
struct decimal {
	uint64_t ip;
	const char *frac;	/* first fraction digit */
	size_t nfrac;
};

static int parse_decimal(const char *s, struct decimal *v)
{
	const char *p = s;

	v->ip = 0;
	v->frac = NULL;
	v->nfrac = 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		if (__builtin_mul_overflow(v->ip, 10, &v->ip) ||
		    __builtin_add_overflow(v->ip, (uint64_t)(*p - '0'),
					   &v->ip))
			return -ERANGE;
		p++;
	}
	if (*p == '.' && isdigit((unsigned char)p[1])) {
		p++;
		v->frac = p;
		while (isdigit((unsigned char)*p))
			p++;
		v->nfrac = p - v->frac;
	}
	return p - s;
}

/* v * mult, the fraction truncated; -ERANGE on overflow. */
static int decimal_scale(const struct decimal *v, uint64_t mult,
			 uint64_t *out)
{
	uint64_t r, num = 0, den = 1;
	size_t i;

	if (__builtin_mul_overflow(v->ip, mult, &r))
		return -ERANGE;
	/* Digits past the 19th cannot change a 64-bit result by much. */
	for (i = 0; i < v->nfrac && i < 18; i++) {
		num = num * 10 + (uint64_t)(v->frac[i] - '0');
		den *= 10;
	}
	if (num) {
		/* num * mult / den without overflow: split mult. */
		unsigned __int128 f = (unsigned __int128)num * mult / den;

		if (f > UINT64_MAX - r)
			return -ERANGE;
		r += (uint64_t)f;
	}
	*out = r;
	return 0;
}

static bool has_nonzero_frac(const struct decimal *v)
{
	size_t i;

	for (i = 0; i < v->nfrac; i++)
		if (v->frac[i] != '0')
			return true;
	return false;
}

#define WHY(x)	do { if (why) *why = (x); } while (0)

static int check_input(const char *s, const char **why)
{
	if (!s || !*s) {
		WHY("empty value");
		return -EINVAL;
	}
	if (*s == '-') {
		WHY("negative values are not allowed");
		return -EINVAL;
	}
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit *find_unit(const struct unit *u, size_t n,
				    const char *s, size_t len, bool icase)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(u[i].name) != len)
			continue;
		if (icase ? !strncasecmp(u[i].name, s, len) :
			    !strncmp(u[i].name, s, len))
			return &u[i];
	}
	return NULL;
}

static const struct unit duration_units[] = {
	{ "ns", 1 },
	{ "us", NSEC_PER_USEC },
	{ "\xc2\xb5s", NSEC_PER_USEC },		/* µs */
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
};

/*
 * "250ms", "2s", "1m30s", "1.5h", "500us", "10ns"; a plain "0" too.
 * Parts add up: "1h30m" is 90 minutes.
 */
int fl_parse_duration(const char *s, uint64_t *ns, const char **why)
{
	uint64_t total = 0, part;
	const char *p;
	int err;

	err = check_input(s, why);
	if (err)
		return err;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	for (p = s; *p;) {
		const struct unit *u;
		struct decimal v;
		const char *ustart;
		int used;

		used = parse_decimal(p, &v);
		if (used < 0) {
			WHY("too large");
			return -ERANGE;
		}
		if (!used) {
			WHY(p == s ? "expected a number with a unit, like 250ms"
				   : "expected a number after the unit");
			return -EINVAL;
		}
		p += used;
		ustart = p;
		while (*p && !isdigit((unsigned char)*p) && *p != '.')
			p++;
		if (p == ustart) {
			WHY("missing unit (ns, us, ms, s, m or h)");
			return -EINVAL;
		}
		u = find_unit(duration_units, ARRAY_SIZE(duration_units),
			      ustart, p - ustart, false);
		if (!u) {
			WHY("unknown unit (use ns, us, ms, s, m or h)");
			return -EINVAL;
		}
		if (decimal_scale(&v, u->mult, &part) ||
		    __builtin_add_overflow(total, part, &total)) {
			WHY("too large");
			return -ERANGE;
		}
	}
	*ns = total;
	return 0;
}

/*
 * Sizes.  The choice: K, M, G, T (and k, m, g, t) and KiB, MiB, GiB, TiB
 * are binary (1024), as in tc, the kernel's memparse and cgroup files;
 * kB/KB, MB, GB, TB are decimal (1000), as in SI.  A plain number or "B"
 * is bytes.
 */
static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1ULL << 10 }, { "k", 1ULL << 10 }, { "KiB", 1ULL << 10 },
	{ "M", 1ULL << 20 }, { "m", 1ULL << 20 }, { "MiB", 1ULL << 20 },
	{ "G", 1ULL << 30 }, { "g", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	{ "T", 1ULL << 40 }, { "t", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	{ "kB", 1000ULL }, { "KB", 1000ULL },
	{ "MB", 1000000ULL },
	{ "GB", 1000000000ULL },
	{ "TB", 1000000000000ULL },
};

/*
 * The number a size or a rate starts with: the characters it used, or
 * -errno with why (none says "expected ...").
 */
static int lead_number(const char *s, struct decimal *v, const char *none,
		       const char **why)
{
	int used, err;

	err = check_input(s, why);
	if (err)
		return err;
	used = parse_decimal(s, v);
	if (used < 0) {
		WHY("too large");
		return -ERANGE;
	}
	if (!used) {
		WHY(none);
		return -EINVAL;
	}
	return used;
}

/* v in unit u into *out; u NULL: unknown, and unknown says which units. */
static int in_unit(const struct decimal *v, const struct unit *u,
		   const char *unknown, uint64_t *out, const char **why)
{
	if (!u) {
		WHY(unknown);
		return -EINVAL;
	}
	if (decimal_scale(v, u->mult, out)) {
		WHY("too large");
		return -ERANGE;
	}
	return 0;
}

int fl_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	const struct unit *u;
	struct decimal v;
	int used;

	used = lead_number(s, &v, "expected a number with a unit, like 64M",
			   why);
	if (used < 0)
		return used;
	u = find_unit(size_units, ARRAY_SIZE(size_units), s + used,
		      strlen(s + used), false);
	if (u && u->mult == 1 && has_nonzero_frac(&v)) {
		WHY("a size in bytes must be a whole number");
		return -EINVAL;
	}
	return in_unit(&v, u, "unknown unit (use B, K, M, G, T, KiB..TiB or "
		       "kB..TB)", bytes, why);
}

int fl_parse_percent(const char *s, double *pct, const char **why)
{
	struct decimal v;
	size_t len;
	double r;
	int used, err;

	err = check_input(s, why);
	if (err)
		return err;
	len = strlen(s);
	used = parse_decimal(s, &v);
	if (used < 0 || (used > 0 && v.ip > 100)) {
		WHY("more than 100%");
		return -ERANGE;
	}
	if (!used) {
		WHY("expected a percentage like 2.5%");
		return -EINVAL;
	}
	if ((size_t)used == len) {
		WHY("missing '%' sign");
		return -EINVAL;
	}
	if (s[used] != '%' || s[used + 1]) {
		WHY("expected a percentage like 2.5%");
		return -EINVAL;
	}
	r = strtod(s, NULL);
	if (r > 100.0) {
		WHY("more than 100%");
		return -ERANGE;
	}
	*pct = r;
	return 0;
}

/*
 * Rates as tc writes them, in bits per second: bit, kbit, mbit, gbit,
 * tbit (decimal), kibit..tibit (binary); bps, kbps, mbps, gbps, tbps are
 * bytes per second (decimal), kibps..tibps binary.  Case does not matter.
 */
static const struct unit rate_units[] = {
	{ "bit", 1 },
	{ "kbit", 1000ULL }, { "mbit", 1000000ULL },
	{ "gbit", 1000000000ULL }, { "tbit", 1000000000000ULL },
	{ "kibit", 1ULL << 10 }, { "mibit", 1ULL << 20 },
	{ "gibit", 1ULL << 30 }, { "tibit", 1ULL << 40 },
	{ "bps", 8 },
	{ "kbps", 8000ULL }, { "mbps", 8000000ULL },
	{ "gbps", 8000000000ULL }, { "tbps", 8000000000000ULL },
	{ "kibps", 8ULL << 10 }, { "mibps", 8ULL << 20 },
	{ "gibps", 8ULL << 30 }, { "tibps", 8ULL << 40 },
};

int fl_parse_rate(const char *s, uint64_t *bps, const char **why)
{
	const struct unit *u;
	struct decimal v;
	size_t ulen;
	int used;

	used = lead_number(s, &v, "expected a rate like 10mbit", why);
	if (used < 0)
		return used;
	ulen = strlen(s + used);
	if (!ulen) {
		WHY("missing unit (bit, kbit, mbit, gbit or bps, kbps...)");
		return -EINVAL;
	}
	u = find_unit(rate_units, ARRAY_SIZE(rate_units), s + used, ulen,
		      true);
	return in_unit(&v, u, "unknown unit (use bit, kbit, mbit, gbit, tbit, "
		       "or bps, kbps, mbps, gbps for bytes)", bps, why);
}

int fl_parse_u64(const char *s, uint64_t *v, const char **why)
{
	struct decimal d;
	int used, err;

	err = check_input(s, why);
	if (err)
		return err;
	used = parse_decimal(s, &d);
	if (used < 0) {
		WHY("too large");
		return -ERANGE;
	}
	if (!used || s[used] || d.frac) {
		WHY("not a whole number");
		return -EINVAL;
	}
	*v = d.ip;
	return 0;
}

int fl_parse_bool(const char *s, bool *v, const char **why)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	if (!s || !*s) {
		WHY("empty value");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	WHY("expected true or false");
	return -EINVAL;
}

/* Aliases that strerrorname_np does not return (it gives one name). */
static const struct {
	const char *name;
	int err;
} errno_aliases[] = {
	{ "EWOULDBLOCK", EWOULDBLOCK },
	{ "EDEADLOCK", EDEADLOCK },
	{ "ENOTSUP", ENOTSUP },
};

#define FL_ERRNO_MAX	4095

const char *fl_errno_name(int err)
{
	if (err < 0)
		err = -err;
	if (err < 1 || err > FL_ERRNO_MAX)
		return NULL;
	return strerrorname_np(err);
}

int fl_parse_errno(const char *s, int *err, const char **why)
{
	uint64_t v;
	size_t i;
	int e;

	if (!s || !*s) {
		WHY("empty value");
		return -EINVAL;
	}
	if (isdigit((unsigned char)*s)) {
		if (fl_parse_u64(s, &v, why))
			return -EINVAL;
		if (v < 1 || v > FL_ERRNO_MAX) {
			WHY("errno numbers go from 1 to 4095");
			return -ERANGE;
		}
		/* Only numbers the C library knows: no kernel-internal ones. */
		if (!strerrorname_np((int)v)) {
			WHY("no errno has this number");
			return -EINVAL;
		}
		*err = (int)v;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(errno_aliases); i++) {
		if (!strcasecmp(s, errno_aliases[i].name)) {
			*err = errno_aliases[i].err;
			return 0;
		}
	}
	for (e = 1; e <= FL_ERRNO_MAX; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcasecmp(n, s)) {
			*err = e;
			return 0;
		}
	}
	WHY("unknown errno name");
	return -EINVAL;
}

static const struct {
	const char *name;
	int nr;
} syscalls[] = {
#include "core/syscall_names.h"
};

/* The table is small; a scan does not depend on how sort(1) ordered it. */
int fl_parse_syscall(const char *s, int *nr, const char **why)
{
	size_t i;

	if (!s || !*s) {
		WHY("empty value");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(syscalls); i++) {
		if (!strcmp(syscalls[i].name, s)) {
			*nr = syscalls[i].nr;
			return 0;
		}
	}
	WHY("unknown syscall");
	return -EINVAL;
}

const char *fl_syscall_name(int nr)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(syscalls); i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	return NULL;
}

/* Keep only the first prefix bits of addr; true when any bit was set. */
static bool mask_host_bits(uint8_t *addr, unsigned int alen,
			   unsigned int prefix)
{
	bool set = false;
	unsigned int i;

	for (i = 0; i < alen; i++) {
		uint8_t keep;

		if (prefix >= (i + 1) * 8)
			continue;
		keep = prefix > i * 8 ? (uint8_t)(0xff << (8 - (prefix - i * 8)))
				      : 0;
		if (addr[i] & ~keep)
			set = true;
		addr[i] &= keep;
	}
	return set;
}

/*
 * "10.0.0.1", "10.0.2.0/24", "fd00::/64".  An address alone is a host
 * (/32 or /128).  With host bits set (10.0.2.1/24) it fails with why
 * "host bits set" and *c holding the network meant (10.0.2.0/24).
 */
int fl_parse_cidr(const char *s, struct fl_cidr *c, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	unsigned int max, alen;
	size_t len;
	uint64_t prefix;

	memset(c, 0, sizeof(*c));
	if (!s || !*s) {
		WHY("empty value");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(addr)) {
		WHY("not an IPv4 or IPv6 address");
		return -EINVAL;
	}
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (strchr(addr, ':')) {
		c->family = AF_INET6;
		max = 128;
		alen = 16;
	} else {
		c->family = AF_INET;
		max = 32;
		alen = 4;
	}
	if (inet_pton(c->family, addr, c->addr) != 1) {
		c->family = 0;
		WHY(alen == 4 ? "not an IPv4 address" : "not an IPv6 address");
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		const char *p = slash + 1;

		if (!isdigit((unsigned char)*p) || fl_parse_u64(p, &prefix,
								NULL) ||
		    (p[0] == '0' && p[1])) {
			c->family = 0;
			WHY("bad prefix length");
			return -EINVAL;
		}
		if (prefix > max) {
			c->family = 0;
			WHY(max == 32 ? "prefix length above 32" :
					"prefix length above 128");
			return -EINVAL;
		}
	}
	c->prefix = (uint8_t)prefix;
	if (mask_host_bits(c->addr, alen, c->prefix)) {
		WHY("host bits set");
		return -EINVAL;
	}
	return 0;
}

int fl_cidr_str(const struct fl_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int max;
	int n;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -errno;
	max = c->family == AF_INET ? 32 : 128;
	if (c->prefix == max)
		n = snprintf(buf, len, "%s", a);
	else
		n = snprintf(buf, len, "%s/%u", a, c->prefix);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

bool fl_cidr_contains(const struct fl_cidr *net, const struct fl_cidr *addr)
{
	uint8_t a[16];
	unsigned int alen;

	if (net->family != addr->family || addr->prefix < net->prefix)
		return false;
	alen = net->family == AF_INET ? 4 : 16;
	memcpy(a, addr->addr, alen);
	mask_host_bits(a, alen, net->prefix);
	return !memcmp(a, net->addr, alen);
}

/* Append "%llu" and the fraction of rem/unit, trailing zeros dropped. */
static size_t put_frac(char *p, size_t left, uint64_t whole, uint64_t rem,
		       uint64_t unit, const char *suffix)
{
	char frac[24] = "";
	int n;

	if (rem) {
		size_t i = 0;

		frac[i++] = '.';
		while (rem && i < 10) {
			rem *= 10;
			frac[i++] = (char)('0' + rem / unit);
			rem %= unit;
		}
		frac[i] = '\0';
		while (i > 1 && frac[i - 1] == '0')
			frac[--i] = '\0';
	}
	n = snprintf(p, left, "%llu%s%s", (unsigned long long)whole, frac,
		     suffix);
	if (n < 0)
		return 0;
	return (size_t)n < left ? (size_t)n : left ? left - 1 : 0;
}

/* "1h30m", "1m10s", "2.5s", "250ms", "1.5ms", "500us", "10ns", "0s". */
char *fl_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t h, m, s, rem;
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (ns == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	if (ns < NSEC_PER_USEC) {
		put_frac(buf, len, ns, 0, 1, "ns");
		return buf;
	}
	if (ns < NSEC_PER_MSEC) {
		put_frac(buf, len, ns / NSEC_PER_USEC, ns % NSEC_PER_USEC,
			 NSEC_PER_USEC, "us");
		return buf;
	}
	if (ns < NSEC_PER_SEC) {
		put_frac(buf, len, ns / NSEC_PER_MSEC, ns % NSEC_PER_MSEC,
			 NSEC_PER_MSEC, "ms");
		return buf;
	}
	s = ns / NSEC_PER_SEC;
	rem = ns % NSEC_PER_SEC;
	h = s / 3600;
	m = s / 60 % 60;
	s %= 60;
	if (h)
		o += put_frac(buf + o, len - o, h, 0, 1, "h");
	if (m)
		o += put_frac(buf + o, len - o, m, 0, 1, "m");
	if (s || rem)
		put_frac(buf + o, len - o, s, rem, NSEC_PER_SEC, "s");
	return buf;
}

/*
 * "64MiB", "1.5GiB", "512B": binary units.  Exact when it can be: the
 * largest unit with at most two decimals, else the largest unit that
 * divides the value (1025KiB), else two decimals, rounded down.
 */
char *fl_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	uint64_t unit = 1, rem, hund;
	size_t i = 0, j;
	char frac[8] = "";

	if (!len)
		return buf;
	while (i + 1 < ARRAY_SIZE(units) && bytes / 1024 >= unit) {
		unit *= 1024;
		i++;
	}
	rem = bytes % unit;
	hund = (uint64_t)((unsigned __int128)rem * 100 / unit);
	if (rem && (unsigned __int128)rem * 100 % unit) {
		uint64_t u = unit;

		for (j = i; j > 0; j--, u /= 1024) {
			if (bytes % u == 0 && bytes / u < 1000000) {
				snprintf(buf, len, "%llu%s",
					 (unsigned long long)(bytes / u),
					 units[j]);
				return buf;
			}
		}
	}
	if (hund % 10)
		snprintf(frac, sizeof(frac), ".%02u", (unsigned int)hund);
	else if (hund)
		snprintf(frac, sizeof(frac), ".%u", (unsigned int)(hund / 10));
	snprintf(buf, len, "%llu%s%s", (unsigned long long)(bytes / unit),
		 frac, units[i]);
	return buf;
}
