/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup/kmsg.h: the kernel's OOM report, read from /dev/kmsg, as the oom
 * fault's third proof.  Pure: no file, no clock, no global; the caller
 * reads the records and feeds them in (tests/unit/test_kmsg.c).
 *
 * Before each OOM kill the kernel (mm/oom_kill.c, mm/memcontrol.c) logs
 *   memory: usage 16384kB, limit 16384kB, failcnt 0
 *   oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,
 *     mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=memhog,pid=123,uid=0
 *   Memory cgroup out of memory: Killed process 123 (memhog)
 *     total-vm:..kB, anon-rss:..kB, file-rss:..kB, shmem-rss:..kB, ...
 * A global OOM says global_oom instead of oom_memcg=.  The report up to
 * and including the "oom-kill:" line is rate-limited; "Killed process"
 * is not.
 */
#ifndef FAULTLINE_CGROUP_KMSG_H
#define FAULTLINE_CGROUP_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OOM_MAX_KILLS		32

enum oom_kmsg_kind {
	OOM_KMSG_OTHER,
	OOM_KMSG_USAGE,		/* "memory: usage NkB, ..." */
	OOM_KMSG_OOMKILL,	/* "oom-kill:...,task=C,pid=P,uid=U" */
	OOM_KMSG_KILLED,	/* "...: Killed process P (C) ..." */
};

/* One kernel log message, parsed. */
struct oom_kmsg {
	enum oom_kmsg_kind kind;
	int pid;			/* OOMKILL, KILLED */
	char comm[32];			/* OOMKILL, KILLED */
	bool global;			/* OOMKILL: global_oom, no oom_memcg */
	char oom_memcg[256];		/* OOMKILL: the cgroup at its limit */
	char task_memcg[256];		/* OOMKILL: the victim's cgroup */
	uint64_t usage_kb;		/* USAGE */
	uint64_t anon_kb, file_kb, shmem_kb;	/* KILLED */
};

/*
 * The message of one /dev/kmsg record ("6,1234,5678,-;text\n KEY=v\n"):
 * cut at its first newline, in place.  NULL when the record has none.
 */
char *oom_kmsg_text(char *rec);
/* Parse one message; kind is OOM_KMSG_OTHER for every other line. */
void oom_kmsg_parse(const char *msg, struct oom_kmsg *out);
/*
 * Is a kill at the limit of oom_memcg this fault's: oom_memcg is the
 * squeezed cgroup rel or below it (both relative to the hierarchy's
 * root; rel "/" or "" holds everything)?
 */
bool oom_kmsg_under(const char *oom_memcg, const char *rel);

/* A kill the kernel log named, which this fault answers for. */
struct oom_kill {
	pid_t pid;
	char comm[32];
	uint64_t rss;			/* anon + file + shmem, bytes */
	uint64_t usage;			/* the cgroup's usage at the kill */
	char line[200];
};

/* What the log said so far, for one squeezed cgroup. */
struct oom_kmsg_log {
	uint64_t last_usage_kb;
	/* The last "oom-kill:" lines: whose kill each was (kills in other
	 * cgroups may interleave their lines with ours). */
	struct {
		int pid;
		bool ours;
	} oomline[8];
	unsigned int noomline;
	struct oom_kill kills[OOM_MAX_KILLS];
	size_t nkills;
};

/* Who the squeezed cgroup is, for deciding whose a kill is. */
struct oom_kmsg_ctx {
	const char *rel;		/* relative to the hierarchy's root */
	const pid_t *pids;		/* watched: their kills are ours */
	size_t npid;
	/*
	 * A "Killed process" line whose "oom-kill:" line the kernel
	 * rate-limited away: does the squeezed cgroup's own oom_kill count
	 * say that a kill of ours is still unaccounted for, with nkills
	 * accounted?  NULL: yes.
	 */
	bool (*unaccounted)(void *arg, size_t nkills);
	void *arg;
};

/*
 * Feed one message: the usage line before a kill, the "oom-kill:" line
 * (noted as ours or not) and "Killed process" (added to log->kills when
 * the kill is ours; another cgroup's own OOM is not).
 */
void oom_kmsg_feed(struct oom_kmsg_log *log, const struct oom_kmsg_ctx *ctx,
		   const char *msg);

#endif
