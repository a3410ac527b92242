// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kill fault's schema: target, signal (by name, SIGKILL when not
 * given), pick and follow-forks, parsed into struct kill_spec (kill.h).
 * Every problem goes to the diagnostics, so that validate reports them
 * all at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgroup/kill.h"

const char *const kill_keys[] = {
	"target", "signal", "pick", "follow-forks", NULL
};

const char *const kill_pick_names[] = {
	[KILL_PICK_ALL] = "all", [KILL_PICK_ONE] = "one",
	[KILL_PICK_RANDOM] = "random", [KILL_PICK_OLDEST] = "oldest",
	[KILL_PICK_NEWEST] = "newest", NULL,
};

const char *kill_sig_name(int sig, char *buf, size_t len)
{
	const char *a = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;

	if (a)
		snprintf(buf, len, "SIG%s", a);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* "KILL", "SIGKILL", "sigterm" -> the number; 0 when it is no name. */
static int sig_by_name(const char *s)
{
	const char *a;
	int i;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 1; i < SIGRTMIN; i++) {
		a = sigabbrev_np(i);
		if (a && !strcasecmp(a, s))
			return i;
	}
	return 0;
}

/* The names a file may give, for did-you-mean. */
static void sig_names(char names[][12], const char **v, size_t max)
{
	size_t n = 0;
	int i;

	for (i = 1; i < SIGRTMIN && n + 1 < max; i++) {
		if (!sigabbrev_np(i))
			continue;
		snprintf(names[n], 12, "SIG%s", sigabbrev_np(i));
		v[n] = names[n];
		n++;
	}
	v[n] = NULL;
}

static int parse_signal(const struct fl_node *v, int *sig, struct fl_diag *d)
{
	char names[64][12], q[64], *end;
	const char *list[65], *dym;
	long n;

	if (v->type != FL_NODE_SCALAR || fl_node_is_null(v)) {
		fl_diag_err(d, v, "signal: expected a signal name (SIGKILL, SIGTERM, ...), got %s",
			    fl_node_desc(v));
		return -EINVAL;
	}
	*sig = sig_by_name(v->scalar);
	n = strtol(v->scalar, &end, 10);
	if (!*sig && !*end && n > 0 && n < SIGRTMIN && sigabbrev_np((int)n)) {
		fl_diag_err(d, v, "signal: give its name, not its number (%ld is %s)",
			    n, kill_sig_name((int)n, q, sizeof(q)));
		return -EINVAL;
	}
	if (!*sig) {
		sig_names(names, list, ARRAY_SIZE(list));
		dym = fl_did_you_mean(v->scalar, list);
		fl_diag_err(d, v, "signal: '%s' is not a signal name (SIGKILL, SIGTERM, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, ...)%s%s%s",
			    fl_quote(v->scalar, q, sizeof(q)),
			    dym ? "; did you mean '" : "", dym ? dym : "",
			    dym ? "'?" : "");
		return -EINVAL;
	}
	switch (*sig) {
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
	case SIGCONT:
		fl_diag_err(d, v, "signal: %s stops or resumes a process and kills nothing; a pause fault stops a target and resumes it at revert",
			    kill_sig_name(*sig, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

static int parse_target(struct fl_experiment *exp, struct kill_spec *s,
			const struct fl_node *spec, struct fl_diag *d)
{
	if (fl_need_target(exp, spec, "kill", &s->target, d))
		return -EINVAL;
	s->target_name = s->target->name;
	return 0;
}

int kill_parse(struct fl_experiment *exp, const struct fl_fault *f,
	       const struct fl_node *spec, void **out, struct fl_diag *d)
{
	const struct fl_node *v;
	struct kill_spec *s;
	int pick = KILL_PICK_ALL, err;

	(void)f;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	s->exp = exp;
	s->sig = SIGKILL;
	err = parse_target(exp, s, spec, d);
	v = fl_map_get(spec, "signal");
	if (v && parse_signal(v, &s->sig, d))
		err = -EINVAL;
	if (fl_opt_enum(spec, "pick", kill_pick_names, &pick, d))
		err = -EINVAL;
	s->pick = pick;
	v = fl_map_get(spec, "follow-forks");
	if (v && fl_get_bool(v, "follow-forks", &s->follow_forks, d))
		err = -EINVAL;
	if (v && s->target && s->target->kind != FL_TARGET_PID) {
		fl_diag_err(d, v, "follow-forks: target '%s' is a %s, whose every process is listed from its cgroup, children included; follow-forks is for a pid target",
			    s->target->name, s->target->kind == FL_TARGET_CGROUP ?
			    "cgroup" : "command");
		err = -EINVAL;
	}
	return err;
}
