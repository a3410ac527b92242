// SPDX-License-Identifier: GPL-2.0-only
/*
 * udpprobe: timestamped UDP probes, to measure what a netem fault does.
 *
 *   udpprobe echo [-6] [-b ADDR] -p PORT [-t SECS]
 *       reflect every probe to its sender (until SECS, default 600)
 *   udpprobe recv [-6] [-b ADDR] -p PORT [-t SECS] [-i IDLE_MS]
 *       one-way: count the probes of one sender and print the report when
 *       its end marker arrives (or after IDLE_MS without probes)
 *   udpprobe send [-e] [-c COUNT] [-r PPS] [-s SIZE] [-w WAIT_MS]
 *                 [-P SRCPORT] ADDR PORT
 *       send COUNT probes at PPS (0: as fast as possible); with -e, wait
 *       for their echoes and print the report (delays are round trips);
 *       without, end with end markers for a recv
 *
 * The report is one line of key=value: sent, received, lost, loss (%),
 * duplicates, reorders, min_ms, avg_ms, median_ms, max_ms, throughput_bps
 * (payload bits per second over the span of arrivals).  Delays come from
 * CLOCK_MONOTONIC stamps in the probes: one-way delays are exact between
 * network namespaces of one machine.
 */
#include <stdbool.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define MAGIC		0x464c5550U	/* "FLUP" */
#define FLAG_END	1U
#define MAXSIZE		9000

struct probe {
	uint32_t magic;
	uint32_t flags;
	uint64_t seq;
	uint64_t sent_ns;
	uint64_t count;			/* END: how many were sent */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udpprobe echo|recv [-6] [-b ADDR] -p PORT [-t SECS] [-i IDLE_MS]\n"
		"       udpprobe send [-e] [-c COUNT] [-r PPS] [-s SIZE] [-w WAIT_MS] [-P SRCPORT] ADDR PORT\n");
	exit(2);
}

static int resolve(const char *host, const char *port, int family,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);

	if (r) {
		fprintf(stderr, "udpprobe: %s: %s\n", host ? host : "*",
			gai_strerror(r));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Results of one stream of probes. */
struct stats {
	uint64_t count;			/* slots in seen[] */
	uint8_t *seen;
	uint64_t *delay;		/* ns, first arrival of each */
	uint64_t received, dups, reorders, max_seq, bytes;
	uint64_t first_ns, last_ns;
	bool any;
};

static int stats_init(struct stats *st, uint64_t count)
{
	memset(st, 0, sizeof(*st));
	st->count = count;
	st->seen = calloc(count ? count : 1, 1);
	st->delay = calloc(count ? count : 1, sizeof(*st->delay));
	return st->seen && st->delay ? 0 : -1;
}

static void stats_free(struct stats *st)
{
	free(st->seen);
	free(st->delay);
}

static void stats_add(struct stats *st, const struct probe *p, size_t len,
		      uint64_t t)
{
	if (p->seq >= st->count)
		return;
	if (st->seen[p->seq]) {
		st->dups++;
		return;
	}
	st->seen[p->seq] = 1;
	st->delay[st->received++] = t - p->sent_ns;
	if (st->any && p->seq < st->max_seq)
		st->reorders++;
	if (!st->any || p->seq > st->max_seq)
		st->max_seq = p->seq;
	if (!st->any)
		st->first_ns = t;
	st->last_ns = t;
	st->bytes += len;
	st->any = true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void stats_print(struct stats *st, uint64_t sent)
{
	uint64_t i, sum = 0, lost = sent > st->received ? sent - st->received : 0;
	double span, thr = 0;

	qsort(st->delay, st->received, sizeof(*st->delay), cmp_u64);
	for (i = 0; i < st->received; i++)
		sum += st->delay[i];
	span = (double)(st->last_ns - st->first_ns) / 1e9;
	if (st->received > 1 && span > 0)
		thr = (double)st->bytes * 8 * (st->received - 1) /
		      st->received / span;
	printf("sent=%llu received=%llu lost=%llu loss=%.3f duplicates=%llu reorders=%llu",
	       (unsigned long long)sent, (unsigned long long)st->received,
	       (unsigned long long)lost, sent ? 100.0 * lost / sent : 0.0,
	       (unsigned long long)st->dups,
	       (unsigned long long)st->reorders);
	if (st->received)
		printf(" min_ms=%.3f avg_ms=%.3f median_ms=%.3f max_ms=%.3f",
		       st->delay[0] / 1e6, (double)sum / st->received / 1e6,
		       st->delay[st->received / 2] / 1e6,
		       st->delay[st->received - 1] / 1e6);
	printf(" throughput_bps=%.0f\n", thr);
	fflush(stdout);
}

static int serve(bool echo, int family, const char *bind_addr,
		 const char *port, int secs, int idle_ms)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	char buf[MAXSIZE];
	struct stats st = { 0 };
	uint64_t deadline = now_ns() + (uint64_t)secs * 1000000000ULL;
	int fd, one = 1;

	if (resolve(bind_addr, port, family, &ss, &len))
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len)) {
		perror("udpprobe: bind");
		return 1;
	}
	one = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	if (!echo && stats_init(&st, 1 << 22))
		return 1;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns();
		int wait = t >= deadline ? 0 : (deadline - t) / 1000000;
		ssize_t n;

		if (!echo && st.any && wait > idle_ms)
			wait = idle_ms;
		if (poll(&pfd, 1, wait) <= 0) {
			if (!echo && st.any)
				break;		/* idle */
			if (now_ns() >= deadline)
				break;
			continue;
		}
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &flen);
		t = now_ns();
		if (n < (ssize_t)sizeof(struct probe))
			continue;
		if (echo) {
			sendto(fd, buf, n, 0, (struct sockaddr *)&from, flen);
			continue;
		} else {
			struct probe p;

			memcpy(&p, buf, sizeof(p));
			if (p.magic != MAGIC)
				continue;
			if (p.flags & FLAG_END) {
				/* Stragglers still in flight: a short wait. */
				st.count = p.count < st.count ? p.count :
					   st.count;
				idle_ms = idle_ms < 200 ? idle_ms : 200;
				st.any = true;
				continue;
			}
			stats_add(&st, &p, n, t);
		}
	}
	if (!echo) {
		stats_print(&st, st.count == (1 << 22) ? st.max_seq + 1 :
			    st.count);
		stats_free(&st);
	}
	close(fd);
	return 0;
}

static int sender(bool echo, uint64_t count, uint64_t pps, size_t size,
		  int wait_ms, const char *srcport, const char *host,
		  const char *port)
{
	struct sockaddr_storage ss, src;
	socklen_t len, slen;
	char buf[MAXSIZE];
	struct probe p = { .magic = MAGIC };
	struct stats st;
	uint64_t i, start, gap = pps ? 1000000000ULL / pps : 0, end;
	int fd, big = 4 << 20, rc = 0;

	if (size < sizeof(p))
		size = sizeof(p);
	if (size > MAXSIZE)
		size = MAXSIZE;
	if (resolve(host, port, AF_UNSPEC, &ss, &len))
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpprobe: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (srcport) {
		if (resolve(ss.ss_family == AF_INET6 ? "::" : "0.0.0.0",
			    srcport, ss.ss_family, &src, &slen) ||
		    bind(fd, (struct sockaddr *)&src, slen)) {
			perror("udpprobe: bind");
			return 1;
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		perror("udpprobe: connect");
		return 1;
	}
	if (stats_init(&st, count))
		return 1;
	memset(buf, 0, sizeof(buf));
	start = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t due = start + i * gap, t;

		/* Pace, and collect echoes while waiting. */
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int ms;

			t = now_ns();
			if (t >= due)
				break;
			ms = (due - t) / 1000000;
			if (!echo) {
				if (ms > 0)
					usleep(ms * 1000);
				else
					while (now_ns() < due)
						;
				continue;
			}
			if (poll(&pfd, 1, ms) > 0) {
				ssize_t n = recv(fd, buf, sizeof(buf), 0);

				if (n >= (ssize_t)sizeof(p))
					stats_add(&st, (struct probe *)buf, n,
						  now_ns());
			} else if (!ms) {
				while (now_ns() < due)
					;
			}
		}
		p.seq = i;
		p.sent_ns = now_ns();
		memcpy(buf, &p, sizeof(p));
		while (send(fd, buf, size, 0) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != ECONNREFUSED) {
				perror("udpprobe: send");
				rc = 1;
				goto out;
			}
			if (errno == ECONNREFUSED)
				break;
			usleep(100);
		}
		if (echo) {
			ssize_t n;

			while ((n = recv(fd, buf, sizeof(buf),
					 MSG_DONTWAIT)) >= (ssize_t)sizeof(p))
				stats_add(&st, (struct probe *)buf, n,
					  now_ns());
		}
	}
	end = now_ns() + (uint64_t)wait_ms * 1000000ULL;
	if (!echo) {
		p.flags = FLAG_END;
		p.count = count;
		for (i = 0; i < 5; i++) {
			memcpy(buf, &p, sizeof(p));
			send(fd, buf, sizeof(p), 0);
			usleep(20000);
		}
		goto out;
	}
	while (st.received < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns();
		ssize_t n;

		if (t >= end)
			break;
		if (poll(&pfd, 1, (end - t) / 1000000 + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n >= (ssize_t)sizeof(p))
			stats_add(&st, (struct probe *)buf, n, now_ns());
	}
	stats_print(&st, count);
out:
	stats_free(&st);
	return rc;
}

int main(int argc, char **argv)
{
	const char *bind_addr = NULL, *port = NULL, *srcport = NULL;
	uint64_t count = 1000, pps = 1000;
	int family = AF_INET, secs = 600, idle = 2000, wait_ms = 2000, c;
	size_t size = 64;
	bool echo = false;
	char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "6b:p:t:i:ec:r:s:w:P:")) != -1) {
		switch (c) {
		case '6': family = AF_INET6; break;
		case 'b': bind_addr = optarg; break;
		case 'p': port = optarg; break;
		case 't': secs = atoi(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'e': echo = true; break;
		case 'c': count = strtoull(optarg, NULL, 0); break;
		case 'r': pps = strtoull(optarg, NULL, 0); break;
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'P': srcport = optarg; break;
		default: usage();
		}
	}
	if (!strcmp(mode, "echo") || !strcmp(mode, "recv")) {
		if (!port)
			usage();
		if (!bind_addr)
			bind_addr = family == AF_INET6 ? "::" : "0.0.0.0";
		return serve(!strcmp(mode, "echo"), family, bind_addr, port,
			     secs, idle);
	}
	if (!strcmp(mode, "send") && argc - optind == 2)
		return sender(echo, count, pps, size, wait_ms, srcport,
			      argv[optind], argv[optind + 1]);
	usage();
	return 2;
}
