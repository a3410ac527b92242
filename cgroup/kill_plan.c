// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kill fault's plan: what this machine and the target allow (check:
 * every process of the target is one faultline may kill), what run would
 * do and how the deaths will be proven (describe), and what two runs
 * must not share (resources).  Nothing here signals or writes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/kill.h"

int kill_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct kill_spec *s = f->priv;
	struct kill_proc *v;
	pid_t main_pid;
	size_t n;
	int r;

	if (!s || !s->target)
		return -EINVAL;
	/* A command is started by run: apply refuses what it finds then. */
	if (s->target->kind == FL_TARGET_COMMAND && s->target->pid <= 0)
		return 0;
	r = kill_refuse_target(s, why, len);
	if (!r)
		r = fl_target_check(s->target, why, len);
	if (!r)
		r = kill_list(s, &v, &n, &main_pid, why, len);
	if (!r)
		free(v);
	return r;
}

static const char *const pick_text[] = {
	[KILL_PICK_ALL] = "every process",
	[KILL_PICK_ONE] = "the main process (a pid's, a command's; a cgroup's oldest)",
	[KILL_PICK_RANDOM] = "one process drawn from the drill's seed",
	[KILL_PICK_OLDEST] = "the process that started first",
	[KILL_PICK_NEWEST] = "the process that started last",
};

/* Who apply would signal if it ran now. */
static void describe_victims(const struct fl_fault *f,
			     const struct kill_spec *s, const char *sig,
			     json_object *objs)
{
	struct kill_proc *v = NULL;
	size_t n = 0, *idx, nidx, i;
	char key[128];
	pid_t main_pid;

	if (s->target->kind == FL_TARGET_COMMAND && s->target->pid <= 0) {
		fl_json_addf(objs, "%s to %s of command '%s' (in the scratch cgroup run starts it in), at each occurrence",
			     sig, pick_text[s->pick], s->target_name);
		return;
	}
	if (kill_procs(s->target, s->follow_forks, &v, &n, &main_pid) || !n) {
		fl_json_addf(objs, "%s to %s of target '%s' (none in it now)",
			     sig, pick_text[s->pick], s->target_name);
		free(v);
		return;
	}
	idx = calloc(n, sizeof(*idx));
	if (!idx) {
		free(v);
		return;
	}
	kill_draw_key(f, key, sizeof(key));
	kill_pick(s, v, n, main_pid, key, s->draws, idx, &nidx);
	for (i = 0; i < nidx && i < 8; i++)
		fl_json_addf(objs, "%s to PID %d (%s) of %zu process%s now%s",
			     sig, (int)v[idx[i]].pid, v[idx[i]].comm, n,
			     n == 1 ? "" : "es", s->pick == KILL_PICK_RANDOM ?
			     ", drawn from the seed (the first occurrence's draw)" : "");
	if (nidx > 8)
		fl_json_addf(objs, "... and %zu more", nidx - 8);
	free(idx);
	free(v);
}

int kill_describe(const struct fl_fault *f, json_object *out)
{
	const struct kill_spec *s = f->priv;
	json_object *params, *objs;
	char sig[32], proof[256], why[1024];
	bool proven;

	if (!s || !s->target)
		return -EINVAL;
	kill_sig_name(s->sig, sig, sizeof(sig));
	proven = kill_proof_plan(proof, sizeof(proof));
	snprintf(why, sizeof(why), "pidfd_send_signal(%s) to %s of the target, each process known by its start time so that a reused pid is never signalled; init, faultline, its guardian and its ancestors and kernel threads are never killed. Each death is proven by the exit status seen as the victim exits (%s%s). Nothing is undone at revert: a signal cannot be taken back, and it is never sent again after a crash",
		 sig, pick_text[s->pick], proven ? "" : "not available: ",
		 proof);
	fl_json_add_str(out, "mechanism", "pidfd_send_signal");
	fl_json_add_str(out, "why", why);
	objs = json_object_new_array();
	describe_victims(f, s, sig, objs);
	json_object_object_add(out, "objects", objs);
	params = json_object_new_object();
	fl_json_add_str(params, "target", s->target_name);
	fl_json_add_str(params, "signal", sig);
	fl_json_add_str(params, "pick", kill_pick_names[s->pick]);
	if (s->target->kind == FL_TARGET_PID)
		json_object_object_add(params, "follow-forks",
				       json_object_new_boolean(s->follow_forks));
	if (s->pick == KILL_PICK_RANDOM)
		json_object_object_add(params, "seed",
				       json_object_new_uint64(s->exp->seed));
	fl_json_add_str(params, "proof", proven ? proof : "pidfd only (not proven)");
	json_object_object_add(out, "params", params);
	return 0;
}

int kill_resources(const struct fl_fault *f, json_object *out)
{
	const struct kill_spec *s = f->priv;
	char buf[PATH_MAX + 16];

	if (!s || !s->target)
		return -EINVAL;
	if (!fl_target_resource(s->target, buf, sizeof(buf)))
		fl_json_add_uniq(out, buf);
	return 0;
}
