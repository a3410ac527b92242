// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pause fault's plan: where the target freezes and how (resolve),
 * what this machine and the target's state allow (refuse, check), what
 * run would do (describe) and what two runs must not share (resources).
 * Nothing here writes.
 *
 * How: a cgroup target freezes with the freezer of the hierarchy it is
 * in, v2's cgroup.freeze (Linux 5.2) or v1's freezer controller; a
 * command target with v2's freezer on its scratch cgroup (it holds the
 * command and its children only), or with signals where there is no v2
 * hierarchy; a pid target with SIGSTOP/SIGCONT, since its cgroup may
 * hold other processes and moving it out would change it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/pause.h"

#define WHY(...) snprintf(why, len, __VA_ARGS__)

static const char *const how_words[] = {
	[PAUSE_V2] = "v2", [PAUSE_V1] = "v1", [PAUSE_SIGNAL] = "signal",
};

const char *pause_how_name(enum pause_how how)
{
	return fl_enum_name(how_words, ARRAY_SIZE(how_words), how, "?");
}

static bool is_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return n && !strncmp(path, root, n) && (!path[n] || path[n] == '/');
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* cgroup.freeze came with Linux 5.2. */
static bool v2_has_freeze(void)
{
	const struct fl_kernel *k = fl_kernel_get();
	int maj = 0, min = 0;

	if (!k->unified_root[0])
		return false;
	if (sscanf(k->release, "%d.%d", &maj, &min) != 2)
		return true;	/* unknown: apply will tell */
	return maj > 5 || (maj == 5 && min >= 2);
}

static const char *v1_freezer_root(void)
{
	const struct fl_cg_controller *c = fl_kernel_cg("freezer");

	return c && c->enabled && c->mode == FL_CG_V1 && c->mount[0] ?
	       c->mount : NULL;
}

static int resolve_cgroup(const struct pause_spec *s, struct pause_where *pw,
			  char *why, size_t len)
{
	const char *v2 = fl_kernel_get()->unified_root, *v1 = v1_freezer_root();
	const struct fl_target *t = s->target;
	char path[PATH_MAX];

	if (v2[0] && !fl_target_cgroup_path(t, v2, path, sizeof(path)) &&
	    is_under(path, v2) && (t->cgroup[0] == '/' || is_dir(path))) {
		pw->how = PAUSE_V2;
		snprintf(pw->path, sizeof(pw->path), "%s", path);
		return 0;
	}
	if (v1 && !fl_target_cgroup_path(t, v1, path, sizeof(path)) &&
	    is_under(path, v1) && (t->cgroup[0] == '/' || is_dir(path))) {
		pw->how = PAUSE_V1;
		snprintf(pw->path, sizeof(pw->path), "%s", path);
		return 0;
	}
	WHY("target %s: cgroup %s is in no freezer hierarchy of this machine (the v2 hierarchy: %s; the v1 freezer: %s); name its folder there",
	    s->target_name, t->cgroup, v2[0] ? v2 : "none",
	    v1 ? v1 : "not mounted");
	return -EOPNOTSUPP;
}

int pause_resolve(const struct pause_spec *s, struct pause_where *pw,
		  char *why, size_t len)
{
	const char *v2 = fl_kernel_get()->unified_root;
	const struct fl_target *t = s->target;

	memset(pw, 0, sizeof(*pw));
	if (!t)
		return -EINVAL;
	switch (t->kind) {
	case FL_TARGET_PID:
		pw->how = PAUSE_SIGNAL;
		pw->pid = t->pid;
		return 0;
	case FL_TARGET_COMMAND:
		/* Its v2 scratch cgroup, known once run started it. */
		if (v2_has_freeze()) {
			pw->how = PAUSE_V2;
			if (t->scratch_unified && is_under(t->scratch_unified, v2))
				snprintf(pw->path, sizeof(pw->path), "%s",
					 t->scratch_unified);
			return 0;
		}
		pw->how = PAUSE_SIGNAL;
		pw->pid = t->pid;
		return 0;
	case FL_TARGET_CGROUP:
		return resolve_cgroup(s, pw, why, len);
	}
	return -EINVAL;
}

/* The folder of faultline's own cgroup in the hierarchy at root. */
static void self_cgroup(enum pause_how how, const char *root, char *buf,
			size_t len)
{
	char rel[PATH_MAX];

	buf[0] = '\0';
	if (!fl_proc_cgroup(getpid(), how == PAUSE_V1 ? "freezer" : NULL, rel,
			    sizeof(rel)))
		snprintf(buf, len, "%s%s", root, strcmp(rel, "/") ? rel : "");
}

static int refuse_cgroup(const struct pause_spec *s,
			 const struct pause_where *pw, char *why, size_t len)
{
	const char *root = pw->how == PAUSE_V2 ?
			   fl_kernel_get()->unified_root : v1_freezer_root();
	char self[2 * PATH_MAX], file[PATH_MAX + 64];
	bool own;
	int r;

	if (!is_dir(pw->path)) {
		WHY("target %s: cgroup %s does not exist", s->target_name,
		    pw->path);
		return -ENOENT;
	}
	if (root && !strcmp(pw->path, root)) {
		WHY("target %s: %s is the root cgroup, which cannot be frozen",
		    s->target_name, pw->path);
		return -EOPNOTSUPP;
	}
	snprintf(file, sizeof(file), "%s/%s", pw->path, pw->how == PAUSE_V2 ?
		 "cgroup.freeze" : "freezer.state");
	if (access(file, F_OK)) {
		WHY("target %s: %s has no %s (%s)", s->target_name, pw->path,
		    pw->how == PAUSE_V2 ? "cgroup.freeze" : "freezer.state",
		    pw->how == PAUSE_V2 ? "the v2 freezer needs Linux 5.2" :
		    "not a freezer cgroup");
		return -EOPNOTSUPP;
	}
	self_cgroup(pw->how, root ? root : "", self, sizeof(self));
	if (self[0] && is_under(self, pw->path)) {
		WHY("target %s: cgroup %s contains faultline itself, which would freeze with it",
		    s->target_name, pw->path);
		return -EOPNOTSUPP;
	}
	r = pause_frozen(pw->how, pw->path, &own);
	if (r < 0) {
		WHY("target %s: cannot read the freezer state of %s: %s",
		    s->target_name, pw->path, strerror(-r));
		return r;
	}
	if (r) {
		WHY("target %s: %s is frozen already (%s), by someone else: faultline neither freezes nor thaws it",
		    s->target_name, pw->path, own ? (pw->how == PAUSE_V2 ?
		    "cgroup.freeze is 1" : "freezer.self_freezing is 1") :
		    "an ancestor cgroup is frozen");
		return -EBUSY;
	}
	return 0;
}

/* A kernel thread has no executable. */
static bool is_kthread(pid_t pid)
{
	char path[64], buf[8];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return readlink(path, buf, sizeof(buf)) < 0 && errno == ENOENT &&
	       fl_pid_alive(pid, 0);
}

static int refuse_pid(const struct pause_spec *s, pid_t pid, char *why,
		      size_t len)
{
	pid_t stopped;
	int r;

	if (!fl_pid_alive(pid, 0)) {
		WHY("target %s: PID %d is not running", s->target_name,
		    (int)pid);
		return -ESRCH;
	}
	if (pid == 1 || pid == getpid() || pid == getppid()) {
		WHY("target %s: PID %d is %s; stopping it would stop the machine or the drill",
		    s->target_name, (int)pid, pid == 1 ? "init" :
		    pid == getpid() ? "faultline itself" :
		    "faultline's parent");
		return -EOPNOTSUPP;
	}
	if (is_kthread(pid)) {
		WHY("target %s: PID %d is a kernel thread, which SIGSTOP does not stop",
		    s->target_name, (int)pid);
		return -EOPNOTSUPP;
	}
	r = pause_stopped_any(pid, s->follow_forks, &stopped);
	if (r) {
		WHY("target %s: cannot list the processes of PID %d: %s",
		    s->target_name, (int)pid, strerror(-r));
		return r;
	}
	if (stopped) {
		WHY("target %s: PID %d%s is stopped already (state T), by someone else: faultline neither stops nor resumes it",
		    s->target_name, (int)stopped,
		    stopped == pid ? "" : ", a child of the target,");
		return -EBUSY;
	}
	return 0;
}

/* What check refuses, and apply once more: things may have changed. */
int pause_refuse(const struct pause_spec *s, const struct pause_where *pw,
		 char *why, size_t len)
{
	if (pw->how == PAUSE_SIGNAL)
		return pw->pid > 0 ? refuse_pid(s, pw->pid, why, len) : 0;
	return pw->path[0] ? refuse_cgroup(s, pw, why, len) : 0;
}

int pause_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct pause_spec *s = f->priv;
	struct pause_where pw;
	int r;

	if (!s || !s->target)
		return -EINVAL;
	r = pause_resolve(s, &pw, why, len);
	return r ? r : pause_refuse(s, &pw, why, len);
}

#undef WHY

/* ------------------------------------------------------------------ */
/* describe, resources                                                 */

static const char *mechanism(enum pause_how how)
{
	switch (how) {
	case PAUSE_V2:
		return "cgroup v2 freezer (cgroup.freeze)";
	case PAUSE_V1:
		return "cgroup v1 freezer (freezer.state)";
	case PAUSE_SIGNAL:
		break;
	}
	return "SIGSTOP/SIGCONT";
}

static const char *const why_text[] = {
	[PAUSE_V2] = "the kernel's freezer stops every task of the cgroup (and of the cgroups under it) where it next returns to user space, so the processes neither run nor see a signal; pending I/O completes and sockets stay open, so peers see a host that stops answering. faultline waits until cgroup.events says frozen 1, and thaws with cgroup.freeze 0. A cgroup frozen by someone else before the drill is refused and never thawed",
	[PAUSE_V1] = "the v1 freezer controller stops every task of the cgroup; faultline writes FROZEN to freezer.state and waits while it reads FREEZING, and writes THAWED at revert. A cgroup frozen by someone else before the drill is refused and never thawed",
	[PAUSE_SIGNAL] = "a pid target's cgroup may hold other processes, and moving it out would change its cgroup, so it is stopped with SIGSTOP (every thread of it, a group stop) and resumed with SIGCONT; the record lists each process stopped with its start time, so a pid reused since is never signalled. Its parent sees it stopped (waitpid WUNTRACED). A process stopped by someone else before the drill is refused and never resumed",
};

static void describe_objects(const struct pause_spec *s,
			     const struct pause_where *pw, json_object *out)
{
	json_object *objs = json_object_new_array();
	const struct fl_target *t = s->target;
	struct pause_pid *v = NULL;
	size_t n = 0;

	if (pw->how == PAUSE_SIGNAL && pw->pid > 0) {
		pause_tree(pw->pid, s->follow_forks, &v, &n);
		fl_json_addf(objs, "SIGSTOP to PID %d%s (%zu process%s now), SIGCONT to the same processes at revert",
			     (int)pw->pid, s->follow_forks ?
			     " and its descendants, also those forked until the stop" :
			     "", n, n == 1 ? "" : "es");
	} else if (pw->how == PAUSE_SIGNAL) {
		fl_json_addf(objs, "SIGSTOP to command '%s'%s, SIGCONT at revert",
			     s->target_name, s->follow_forks ?
			     " and its descendants" : "");
	} else if (pw->path[0]) {
		fl_json_addf(objs, "%s/%s: %s -> %s (back at revert); xattr %s on it while frozen",
			     pw->path, pw->how == PAUSE_V2 ? "cgroup.freeze" :
			     "freezer.state", pw->how == PAUSE_V2 ? "0" : "THAWED",
			     pw->how == PAUSE_V2 ? "1" : "FROZEN", PAUSE_XATTR);
	} else {
		fl_json_addf(objs, "cgroup.freeze of the scratch cgroup run starts '%s' in: 0 -> 1 (back at revert)",
			     t->name);
	}
	free(v);
	json_object_object_add(out, "objects", objs);
}

int pause_describe(const struct fl_fault *f, json_object *out)
{
	const struct pause_spec *s = f->priv;
	json_object *params;
	struct pause_where pw;
	char why[512];

	if (!s || !s->target)
		return -EINVAL;
	if (pause_resolve(s, &pw, why, sizeof(why))) {
		fl_json_add_str(out, "mechanism", "none (no freezer for this target)");
		fl_json_add_str(out, "why", why);
		return 0;
	}
	fl_json_add_str(out, "mechanism", mechanism(pw.how));
	fl_json_add_str(out, "why", why_text[pw.how]);
	describe_objects(s, &pw, out);
	params = json_object_new_object();
	fl_json_add_str(params, "target", s->target_name);
	fl_json_add_str(params, "how", pause_how_name(pw.how));
	if (pw.path[0])
		fl_json_add_str(params, "cgroup", pw.path);
	if (pw.how == PAUSE_SIGNAL)
		json_object_object_add(params, "follow-forks",
				       json_object_new_boolean(s->follow_forks));
	json_object_object_add(out, "params", params);
	return 0;
}

int pause_resources(const struct fl_fault *f, json_object *out)
{
	const struct pause_spec *s = f->priv;
	char buf[PATH_MAX + 16], why[256];
	struct pause_where pw;

	if (!s || !s->target)
		return -EINVAL;
	if (!fl_target_resource(s->target, buf, sizeof(buf)))
		fl_json_add_uniq(out, buf);
	/* The frozen folder, where it differs (the v1 freezer's). */
	if (!pause_resolve(s, &pw, why, sizeof(why)) && pw.path[0]) {
		snprintf(buf, sizeof(buf), "cgroup:%s", pw.path);
		fl_json_add_uniq(out, buf);
	}
	return 0;
}
