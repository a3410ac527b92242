// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: the oom fault's reading of the kernel's OOM report
 * (cgroup/kmsg.c), on lines as the kernels print them: 6.18 (taken from
 * this project's test host, cgroup v1), 6.1 on cgroup v2, a global OOM,
 * 4.19's older wording, rate-limited reports and another cgroup's kills.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cgroup/kmsg.h"

/* 6.18, cgroup v1, a memcg at its 16M limit. */
#define K618_USAGE	"memory: usage 16384kB, limit 16384kB, failcnt 0"
#define K618_MEMSW	"memory+swap: usage 16384kB, limit 16384kB, failcnt 0"
#define K618_OOMKILL	"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/fl-oomcap-18257,task_memcg=/fl-oomcap-18257,task=python3,pid=18261,uid=0"
#define K618_KILLED	"Memory cgroup out of memory: Killed process 18261 (python3) total-vm:26844kB, anon-rss:16128kB, file-rss:6604kB, shmem-rss:0kB, UID:0 pgtables:92kB oom_score_adj:0"
#define K618_INVOKED	"python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"

/* 6.1, cgroup v2: a service's cgroup and the victim one level down. */
#define K61_USAGE	"memory: usage 32768kB, limit 32768kB, failcnt 14"
#define K61_SWAP	"swap: usage 0kB, limit 0kB, failcnt 0"
#define K61_OOMKILL	"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/app.service,task_memcg=/system.slice/app.service/worker,task=memhog,pid=4242,uid=0"
#define K61_KILLED	"Memory cgroup out of memory: Killed process 4242 (memhog) total-vm:929380kB, anon-rss:31744kB, file-rss:1280kB, shmem-rss:4kB, UID:0 pgtables:152kB oom_score_adj:0"
#define K61_REAPED	"oom_reaper: reaped process 4242 (memhog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"

/* A global OOM: no oom_memcg. */
#define GLOBAL_OOMKILL	"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-1000.slice/session-2.scope,task=chrome,pid=999,uid=1000"
#define GLOBAL_KILLED	"Out of memory: Killed process 999 (chrome) total-vm:2048000kB, anon-rss:1024000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4000kB oom_score_adj:300"

/* 4.19: "Kill process" first, then a bare "Killed process". */
#define K419_KILL	"Memory cgroup out of memory: Kill process 1234 (memhog) score 1000 or sacrifice child"
#define K419_KILLED	"Killed process 1234 (memhog) total-vm:529380kB, anon-rss:31744kB, file-rss:1280kB, shmem-rss:0kB"

static void test_record(void **state)
{
	char rec[] = "6,2345,632440206,-;" K618_KILLED "\n SUBSYSTEM=memory\n";
	char caller[] = "4,12,34,-,caller=T81;" K618_USAGE "\n";
	char bare[] = "no separator here";
	char *msg;

	msg = oom_kmsg_text(rec);
	assert_non_null(msg);
	assert_string_equal(msg, K618_KILLED);
	msg = oom_kmsg_text(caller);
	assert_non_null(msg);
	assert_string_equal(msg, K618_USAGE);
	assert_null(oom_kmsg_text(bare));
}

static void test_parse_618(void **state)
{
	struct oom_kmsg m;

	oom_kmsg_parse(K618_USAGE, &m);
	assert_int_equal(m.kind, OOM_KMSG_USAGE);
	assert_int_equal(m.usage_kb, 16384);

	oom_kmsg_parse(K618_OOMKILL, &m);
	assert_int_equal(m.kind, OOM_KMSG_OOMKILL);
	assert_int_equal(m.pid, 18261);
	assert_string_equal(m.comm, "python3");
	assert_false(m.global);
	assert_string_equal(m.oom_memcg, "/fl-oomcap-18257");
	assert_string_equal(m.task_memcg, "/fl-oomcap-18257");

	oom_kmsg_parse(K618_KILLED, &m);
	assert_int_equal(m.kind, OOM_KMSG_KILLED);
	assert_int_equal(m.pid, 18261);
	assert_string_equal(m.comm, "python3");
	assert_int_equal(m.anon_kb, 16128);
	assert_int_equal(m.file_kb, 6604);
	assert_int_equal(m.shmem_kb, 0);

	/* Not the usage line, and not a kill. */
	oom_kmsg_parse(K618_MEMSW, &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);
	oom_kmsg_parse(K618_INVOKED, &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);
}

static void test_parse_61(void **state)
{
	struct oom_kmsg m;

	oom_kmsg_parse(K61_USAGE, &m);
	assert_int_equal(m.kind, OOM_KMSG_USAGE);
	assert_int_equal(m.usage_kb, 32768);
	oom_kmsg_parse(K61_SWAP, &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);

	oom_kmsg_parse(K61_OOMKILL, &m);
	assert_int_equal(m.kind, OOM_KMSG_OOMKILL);
	assert_int_equal(m.pid, 4242);
	assert_string_equal(m.comm, "memhog");
	assert_string_equal(m.oom_memcg, "/system.slice/app.service");
	assert_string_equal(m.task_memcg, "/system.slice/app.service/worker");

	oom_kmsg_parse(K61_KILLED, &m);
	assert_int_equal(m.kind, OOM_KMSG_KILLED);
	assert_int_equal(m.pid, 4242);
	assert_int_equal(m.anon_kb + m.file_kb + m.shmem_kb, 31744 + 1280 + 4);

	/* The reaper's line after the kill is no second kill. */
	oom_kmsg_parse(K61_REAPED, &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);
}

static void test_parse_global_and_old(void **state)
{
	struct oom_kmsg m;

	oom_kmsg_parse(GLOBAL_OOMKILL, &m);
	assert_int_equal(m.kind, OOM_KMSG_OOMKILL);
	assert_true(m.global);
	assert_string_equal(m.oom_memcg, "");
	assert_string_equal(m.task_memcg,
			    "/user.slice/user-1000.slice/session-2.scope");
	assert_string_equal(m.comm, "chrome");
	assert_int_equal(m.pid, 999);
	oom_kmsg_parse(GLOBAL_KILLED, &m);
	assert_int_equal(m.kind, OOM_KMSG_KILLED);
	assert_int_equal(m.pid, 999);

	oom_kmsg_parse(K419_KILL, &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);
	oom_kmsg_parse(K419_KILLED, &m);
	assert_int_equal(m.kind, OOM_KMSG_KILLED);
	assert_int_equal(m.pid, 1234);
	assert_string_equal(m.comm, "memhog");
	assert_int_equal(m.anon_kb, 31744);

	/* A pid and nothing else still names the pid. */
	oom_kmsg_parse("Killed process 77", &m);
	assert_int_equal(m.kind, OOM_KMSG_KILLED);
	assert_int_equal(m.pid, 77);
	assert_string_equal(m.comm, "");
	/* An "oom-kill:" line cut before its pid names nobody. */
	oom_kmsg_parse("oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a", &m);
	assert_int_equal(m.kind, OOM_KMSG_OTHER);
}

/* Commas in a cgroup's name and in a comm: each value runs to its key. */
static void test_parse_commas(void **state)
{
	struct oom_kmsg m;

	oom_kmsg_parse("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/x,y,task_memcg=/x,y/z,w,task=a,pid=1,b,pid=31,uid=0",
		       &m);
	assert_int_equal(m.kind, OOM_KMSG_OOMKILL);
	assert_int_equal(m.pid, 31);
	assert_string_equal(m.comm, "a,pid=1,b");
	assert_string_equal(m.oom_memcg, "/x,y");
	assert_string_equal(m.task_memcg, "/x,y/z,w");
}

static void test_under(void **state)
{
	assert_true(oom_kmsg_under("/a", "/a"));
	assert_true(oom_kmsg_under("/a/b", "/a"));
	assert_false(oom_kmsg_under("/ab", "/a"));
	assert_false(oom_kmsg_under("/", "/a"));	/* an ancestor's limit */
	assert_false(oom_kmsg_under("/b", "/a"));
	assert_true(oom_kmsg_under("/b", "/"));
	assert_true(oom_kmsg_under("/b", ""));
}

static bool counted_yes(void *arg, size_t nkills)
{
	size_t *calls = arg;

	(*calls)++;
	return true;
}

static bool counted_no(void *arg, size_t nkills)
{
	size_t *calls = arg;

	(*calls)++;
	return false;
}

static void feed_all(struct oom_kmsg_log *log, const struct oom_kmsg_ctx *ctx,
		     const char *const *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		oom_kmsg_feed(log, ctx, lines[i]);
}

/* Our kill, its usage and rss; the reaper adds nothing. */
static void test_feed_ours(void **state)
{
	static const char *const lines[] = {
		K618_INVOKED, K618_USAGE, K618_MEMSW, K618_OOMKILL,
		K618_KILLED, K61_REAPED,
	};
	struct oom_kmsg_log log = { 0 };
	size_t calls = 0;
	struct oom_kmsg_ctx ctx = {
		.rel = "/fl-oomcap-18257",
		.unaccounted = counted_no, .arg = &calls,
	};

	feed_all(&log, &ctx, lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(log.nkills, 1);
	assert_int_equal(log.kills[0].pid, 18261);
	assert_string_equal(log.kills[0].comm, "python3");
	assert_int_equal(log.kills[0].usage, 16384ULL * 1024);
	assert_int_equal(log.kills[0].rss, (16128ULL + 6604) * 1024);
	assert_int_equal(strncmp(log.kills[0].line, K618_KILLED,
				 sizeof(log.kills[0].line) - 1), 0);
	/* The "oom-kill:" line decided: the count was not asked. */
	assert_int_equal(calls, 0);
}

/*
 * Another workload at its own limit, its lines interleaved with ours: its
 * kills are not this fault's; a kill below the squeezed cgroup is.
 */
static void test_feed_other_cgroup(void **state)
{
	static const char *const lines[] = {
		"memory: usage 16384kB, limit 16384kB, failcnt 3",
		"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/test/noise,task_memcg=/test/noise,task=memhog,pid=500,uid=0",
		K61_USAGE,
		K61_OOMKILL,
		"Memory cgroup out of memory: Killed process 500 (memhog) total-vm:70000kB, anon-rss:16000kB, file-rss:100kB, shmem-rss:0kB, UID:0 pgtables:60kB oom_score_adj:0",
		K61_KILLED,
	};
	struct oom_kmsg_log log = { 0 };
	size_t calls = 0;
	struct oom_kmsg_ctx ctx = {
		.rel = "/system.slice/app.service",
		.unaccounted = counted_yes, .arg = &calls,
	};

	feed_all(&log, &ctx, lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(log.nkills, 1);
	assert_int_equal(log.kills[0].pid, 4242);
	/* The last usage line before the kill. */
	assert_int_equal(log.kills[0].usage, 32768ULL * 1024);
	assert_int_equal(calls, 0);

	/* The same lines, squeezing the noise's parent: both are ours. */
	memset(&log, 0, sizeof(log));
	ctx.rel = "/test";
	feed_all(&log, &ctx, lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(log.nkills, 1);
	assert_int_equal(log.kills[0].pid, 500);
}

/*
 * Rate-limited: "Killed process" without its "oom-kill:" line.  The
 * squeezed cgroup's count decides; a watched process is always ours.
 */
static void test_feed_ratelimited(void **state)
{
	struct oom_kmsg_log log = { 0 };
	size_t calls = 0;
	pid_t watched[] = { 1234 };
	struct oom_kmsg_ctx ctx = {
		.rel = "/fltest/victim",
		.unaccounted = counted_no, .arg = &calls,
	};

	oom_kmsg_feed(&log, &ctx, K61_KILLED);
	assert_int_equal(log.nkills, 0);
	assert_int_equal(calls, 1);

	ctx.unaccounted = counted_yes;
	oom_kmsg_feed(&log, &ctx, K61_KILLED);
	assert_int_equal(log.nkills, 1);
	assert_int_equal(calls, 2);

	/* A watched process needs neither line nor count. */
	ctx.unaccounted = counted_no;
	ctx.pids = watched;
	ctx.npid = 1;
	oom_kmsg_feed(&log, &ctx, K419_KILLED);
	assert_int_equal(log.nkills, 2);
	assert_int_equal(log.kills[1].pid, 1234);
	assert_int_equal(calls, 2);

	/* No count to ask: the kill is taken as ours. */
	ctx.unaccounted = NULL;
	oom_kmsg_feed(&log, &ctx, GLOBAL_KILLED);
	assert_int_equal(log.nkills, 3);
}

/* A global OOM may be ours: its kill counts. */
static void test_feed_global(void **state)
{
	struct oom_kmsg_log log = { 0 };
	size_t calls = 0;
	struct oom_kmsg_ctx ctx = {
		.rel = "/fltest/victim",
		.unaccounted = counted_no, .arg = &calls,
	};

	oom_kmsg_feed(&log, &ctx, GLOBAL_OOMKILL);
	oom_kmsg_feed(&log, &ctx, GLOBAL_KILLED);
	assert_int_equal(log.nkills, 1);
	assert_int_equal(log.kills[0].pid, 999);
	assert_int_equal(calls, 0);
}

/* Kills past OOM_MAX_KILLS are dropped, not written past the array. */
static void test_feed_cap(void **state)
{
	struct oom_kmsg_log log = { 0 };
	struct oom_kmsg_ctx ctx = { .rel = "/" };
	char line[128];
	int i;

	for (i = 0; i < OOM_MAX_KILLS + 5; i++) {
		snprintf(line, sizeof(line), "Killed process %d (hog)", 100 + i);
		oom_kmsg_feed(&log, &ctx, line);
	}
	assert_int_equal(log.nkills, OOM_MAX_KILLS);
	assert_int_equal(log.kills[OOM_MAX_KILLS - 1].pid,
			 100 + OOM_MAX_KILLS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_parse_618),
		cmocka_unit_test(test_parse_61),
		cmocka_unit_test(test_parse_global_and_old),
		cmocka_unit_test(test_parse_commas),
		cmocka_unit_test(test_under),
		cmocka_unit_test(test_feed_ours),
		cmocka_unit_test(test_feed_other_cgroup),
		cmocka_unit_test(test_feed_ratelimited),
		cmocka_unit_test(test_feed_global),
		cmocka_unit_test(test_feed_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
