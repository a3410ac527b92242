// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's OOM report, parsed (see kmsg.h): which kills a squeeze
 * answers for, from the lines alone.  Values in the "oom-kill:" line may
 * hold commas (a cgroup's name, a task's comm), so each is cut at the
 * key that follows it, and pid= is its last key but uid=.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/kmsg.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

char *oom_kmsg_text(char *rec)
{
	char *msg = strchr(rec, ';');

	if (!msg)
		return NULL;
	msg++;
	msg[strcspn(msg, "\n")] = 0;
	return msg;
}

/* The last needle in s before end (NULL: the end of s). */
static const char *last_of(const char *s, const char *end, const char *needle)
{
	const char *p, *last = NULL;

	for (p = strstr(s, needle); p && (!end || p < end);
	     p = strstr(p + 1, needle))
		last = p;
	return last;
}

/* [a, b) into dst, cut to fit. */
static void copy_span(char *dst, size_t len, const char *a, const char *b)
{
	size_t n = (size_t)(b - a);

	if (n >= len)
		n = len - 1;
	memcpy(dst, a, n);
	dst[n] = 0;
}

/* A value that runs to the next key, else to the next comma. */
static void copy_value(char *dst, size_t len, const char *v,
		       const char *next_key)
{
	const char *end = next_key && next_key > v ? next_key :
			  v + strcspn(v, ",");

	copy_span(dst, len, v, end);
}

/* "oom-kill:constraint=...,oom_memcg=/a,task_memcg=/a/b,task=C,pid=P,uid=U" */
static void parse_oomkill(const char *p, struct oom_kmsg *out)
{
	const char *pid, *task, *m, *t;

	pid = last_of(p, NULL, ",pid=");
	if (!pid)
		return;
	out->pid = atoi(pid + strlen(",pid="));
	task = last_of(p, pid, ",task=");
	if (task)
		copy_span(out->comm, sizeof(out->comm),
			  task + strlen(",task="), pid);
	t = strstr(p, ",task_memcg=");
	m = strstr(p, ",oom_memcg=");
	if (m) {
		m += strlen(",oom_memcg=");
		copy_value(out->oom_memcg, sizeof(out->oom_memcg), m,
			   t && t > m ? t : task);
	} else {
		out->global = true;	/* ",global_oom" */
	}
	if (t) {
		t += strlen(",task_memcg=");
		copy_value(out->task_memcg, sizeof(out->task_memcg), t, task);
	}
	out->kind = OOM_KMSG_OOMKILL;
}

/* "...: Killed process P (C) total-vm:..kB, anon-rss:..kB, ..." */
static void parse_killed(const char *p, struct oom_kmsg *out)
{
	const char *q;

	if (sscanf(p, "Killed process %d (%31[^)])", &out->pid,
		   out->comm) < 1)
		return;
	q = strstr(p, "anon-rss:");
	if (q)
		sscanf(q, "anon-rss:%" SCNu64 "kB, file-rss:%" SCNu64
		       "kB, shmem-rss:%" SCNu64 "kB", &out->anon_kb,
		       &out->file_kb, &out->shmem_kb);
	out->kind = OOM_KMSG_KILLED;
}

void oom_kmsg_parse(const char *msg, struct oom_kmsg *out)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	p = strstr(msg, "memory: usage ");
	if (p && sscanf(p, "memory: usage %" SCNu64 "kB", &out->usage_kb) == 1) {
		out->kind = OOM_KMSG_USAGE;
		return;
	}
	p = strstr(msg, "oom-kill:");
	if (p) {
		parse_oomkill(p, out);
		return;
	}
	p = strstr(msg, "Killed process ");
	if (p)
		parse_killed(p, out);
}

bool oom_kmsg_under(const char *oom_memcg, const char *rel)
{
	size_t n = strlen(rel);

	return n <= 1 || (!strncmp(oom_memcg, rel, n) &&
			  (oom_memcg[n] == 0 || oom_memcg[n] == '/'));
}

static bool kill_ours(const struct oom_kmsg_log *log,
		      const struct oom_kmsg_ctx *ctx, int pid)
{
	size_t i;

	for (i = 0; i < ctx->npid; i++)
		if (ctx->pids[i] == pid)
			return true;
	for (i = 0; i < ARRAY_LEN(log->oomline); i++)
		if (i < log->noomline && log->oomline[i].pid == pid)
			return log->oomline[i].ours;
	/*
	 * The kernel rate-limits its OOM report, "oom-kill:" line and all,
	 * but not "Killed process": then the squeezed cgroup's own count
	 * (raised before the line is printed) says whether a kill of ours
	 * is still unaccounted for.
	 */
	return !ctx->unaccounted || ctx->unaccounted(ctx->arg, log->nkills);
}

static void add_kill(struct oom_kmsg_log *log, const struct oom_kmsg_ctx *ctx,
		     const struct oom_kmsg *m, const char *msg)
{
	struct oom_kill *k;

	if (log->nkills >= OOM_MAX_KILLS)
		return;
	/* Another cgroup's own OOM, which this squeeze did not cause. */
	if (!kill_ours(log, ctx, m->pid))
		return;
	k = &log->kills[log->nkills++];
	memset(k, 0, sizeof(*k));
	k->pid = m->pid;
	snprintf(k->comm, sizeof(k->comm), "%s", m->comm);
	k->rss = (m->anon_kb + m->file_kb + m->shmem_kb) * 1024;
	k->usage = log->last_usage_kb * 1024;
	snprintf(k->line, sizeof(k->line), "%s", msg);
}

void oom_kmsg_feed(struct oom_kmsg_log *log, const struct oom_kmsg_ctx *ctx,
		   const char *msg)
{
	struct oom_kmsg m;
	unsigned int slot;

	oom_kmsg_parse(msg, &m);
	switch (m.kind) {
	case OOM_KMSG_USAGE:
		log->last_usage_kb = m.usage_kb;
		break;
	case OOM_KMSG_OOMKILL:
		slot = log->noomline++ % ARRAY_LEN(log->oomline);
		log->oomline[slot].pid = m.pid;
		log->oomline[slot].ours = m.global ||
			oom_kmsg_under(m.oom_memcg, ctx->rel);
		break;
	case OOM_KMSG_KILLED:
		add_kill(log, ctx, &m, msg);
		break;
	case OOM_KMSG_OTHER:
		break;
	}
}
